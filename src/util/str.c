/* str.c - growable strings, edit distance and byte counts for messages (see include/hsweep/util.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/util.h"

static hs_code reserve(hs_str *s, size_t extra) {
    if (s->len + extra + 1 <= s->cap) return HS_OK;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < s->len + extra + 1) cap *= 2;
    char *b = realloc(s->buf, cap);
    if (!b) return HS_ERR_NOMEM;
    s->buf = b;
    s->cap = cap;
    return HS_OK;
}

hs_code hs_str_append(hs_str *s, const char *bytes, size_t n) {
    if (reserve(s, n) != HS_OK) return HS_ERR_NOMEM;
    memcpy(s->buf + s->len, bytes, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return HS_OK;
}

hs_code hs_str_printf(hs_str *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(s, (size_t)n) != HS_OK) {
        va_end(ap2);
        return HS_ERR_NOMEM;
    }
    vsnprintf(s->buf + s->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    s->len += (size_t)n;
    return HS_OK;
}

hs_code hs_str_json(hs_str *s, const char *text) {
    if (hs_str_append(s, "\"", 1) != HS_OK) return HS_ERR_NOMEM;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        hs_code rc;
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            rc = hs_str_append(s, esc, 2);
        } else if (*p == '\n' || *p == '\t' || *p == '\r') {
            char esc[2] = {'\\', *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r'};
            rc = hs_str_append(s, esc, 2);
        } else if (*p < 0x20) {
            rc = hs_str_printf(s, "\\u%04x", *p);
        } else {
            rc = hs_str_append(s, (const char *)p, 1);
        }
        if (rc != HS_OK) return rc;
    }
    return hs_str_append(s, "\"", 1);
}

hs_code hs_str_shell(hs_str *s, const char *word) {
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+=,-";
    if (word[0] && strspn(word, safe) == strlen(word)) return hs_str_printf(s, "%s", word);
    if (hs_str_append(s, "'", 1) != HS_OK) return HS_ERR_NOMEM;
    for (const char *q = strchr(word, '\''); q; word = q + 1, q = strchr(word, '\''))
        if (hs_str_append(s, word, (size_t)(q - word)) != HS_OK || hs_str_append(s, "'\\''", 4) != HS_OK)
            return HS_ERR_NOMEM;
    return hs_str_printf(s, "%s'", word);
}

void hs_str_reset(hs_str *s) {
    s->len = 0;
    if (s->buf) s->buf[0] = '\0';
}

void hs_str_free(hs_str *s) {
    free(s->buf);
    s->buf = NULL;
    s->len = s->cap = 0;
}

int hs_edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 254 || lb > 254) return 255;
    int row[256];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb] > 255 ? 255 : row[lb];
}

void hs_format_bytes(double b, char *buf, size_t len) {
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (b >= 999.5 && u < 5) b /= 1000, u++;
    snprintf(buf, len, u ? "%.3g %s" : "%.0f %s", b, units[u]);
}
