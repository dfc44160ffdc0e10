/* value.c - typed configuration values: parse, check, compare, canonical text
 * (see include/hsweep/schema.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/schema.h"

const char *hs_type_to_string(hs_type t) {
    switch (t) {
    case HS_T_INT: return "int";
    case HS_T_FLOAT: return "float";
    case HS_T_BOOL: return "bool";
    case HS_T_STR: return "string";
    case HS_T_ENUM: return "enum";
    case HS_T_INT_LIST: return "int list";
    case HS_T_FLOAT_LIST: return "float list";
    }
    return "?";
}

static int is_list(hs_type t) { return t == HS_T_INT_LIST || t == HS_T_FLOAT_LIST; }
static hs_type elem_type(hs_type t) {
    return t == HS_T_INT_LIST ? HS_T_INT : t == HS_T_FLOAT_LIST ? HS_T_FLOAT : t;
}

static hs_code fail(hs_code code, char *why, size_t len, const char *fmt, const char *a, const char *b) {
    if (why) snprintf(why, len, fmt, a, b);
    return code;
}

void hs_format_double(double x, char *buf, size_t len) {
    if (x == 0) { /* also folds -0 into 0, so equal values print equally */
        snprintf(buf, len, "0");
        return;
    }
    if (isinf(x)) {
        snprintf(buf, len, x > 0 ? "inf" : "-inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) return;
    }
}

/* Only plain decimal notation: strtod would also take hex floats, "inf" and "nan". */
static int looks_decimal(const char *s) {
    if (!*s) return 0;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p) && !strchr("+-.eE", *p)) return 0;
    return 1;
}

static hs_code parse_number(const char *text, hs_type t, hs_value *out, char *why, size_t why_len) {
    const char *what = t == HS_T_INT ? "an integer" : "a number";
    if (!looks_decimal(text)) return fail(HS_ERR_SPEC, why, why_len, "expected %s, got '%s'", what, text);
    char *end;
    errno = 0;
    if (t == HS_T_INT) {
        long long v = strtoll(text, &end, 10);
        if (*end == '\0' && errno == 0) {
            out->type = HS_T_INT;
            out->u.i = v;
            return HS_OK;
        }
    }
    errno = 0;
    double d = strtod(text, &end);
    if (*end != '\0') return fail(HS_ERR_SPEC, why, why_len, "expected %s, got '%s'", what, text);
    if (!isfinite(d) || errno == ERANGE)
        return fail(HS_ERR_VALUE, why, why_len, "value '%s' is out of the representable range%s", text, "");
    if (t == HS_T_INT) {
        if (d != floor(d) || fabs(d) > 9007199254740992.0)
            return fail(HS_ERR_SPEC, why, why_len, "expected an integer, got '%s'%s", text, "");
        out->type = HS_T_INT;
        out->u.i = (long long)d;
        return HS_OK;
    }
    out->type = HS_T_FLOAT;
    out->u.f = d;
    return HS_OK;
}

static hs_code check_number(const hs_key *k, double x, const char *shown, char *why, size_t why_len) {
    char lim[32];
    int min_open = k->flags & HS_KEY_MIN_OPEN, max_open = k->flags & HS_KEY_MAX_OPEN;
    if (x < k->min || (min_open && x == k->min)) {
        hs_format_double(k->min, lim, sizeof lim);
        if (why)
            snprintf(why, why_len, "value %s is below the allowed range (%s %s)", shown, min_open ? ">" : ">=", lim);
        return HS_ERR_VALUE;
    }
    if (x > k->max || (max_open && x == k->max)) {
        hs_format_double(k->max, lim, sizeof lim);
        if (why)
            snprintf(why, why_len, "value %s is above the allowed range (%s %s)", shown, max_open ? "<" : "<=", lim);
        return HS_ERR_VALUE;
    }
    return HS_OK;
}

/* Nearest enum choice to text, or "" when none is close. */
static void nearest_choice(const char *choices, const char *text, char *best, size_t len) {
    best[0] = '\0';
    int best_d = 3;
    const char *p = choices;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        char c[64];
        snprintf(c, sizeof c, "%.*s", (int)n, p);
        int d = hs_edit_distance(text, c);
        if (d < best_d && d < (int)strlen(c)) {
            best_d = d;
            snprintf(best, len, "%s", c);
        }
        p += n + (bar != NULL);
    }
}

static int enum_has(const char *choices, const char *text) {
    size_t n = strlen(text);
    const char *p = choices;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t m = bar ? (size_t)(bar - p) : strlen(p);
        if (m == n && strncmp(p, text, n) == 0) return 1;
        p += m + (bar != NULL);
    }
    return 0;
}

hs_code hs_value_check(const hs_key *k, const hs_value *v, char *why, size_t why_len) {
    char shown[64];
    switch (v->type) {
    case HS_T_INT:
        snprintf(shown, sizeof shown, "%lld", v->u.i);
        return check_number(k, (double)v->u.i, shown, why, why_len);
    case HS_T_FLOAT:
        hs_format_double(v->u.f, shown, sizeof shown);
        return check_number(k, v->u.f, shown, why, why_len);
    case HS_T_ENUM:
        if (!enum_has(k->choices, v->u.s))
            return fail(HS_ERR_SPEC, why, why_len, "unknown value '%s' (expected one of: %s)", v->u.s, k->choices);
        return HS_OK;
    case HS_T_INT_LIST:
    case HS_T_FLOAT_LIST:
        if (v->n > (size_t)k->max_len) {
            char n[32];
            snprintf(n, sizeof n, "%d", k->max_len);
            return fail(HS_ERR_VALUE, why, why_len, "list is longer than the allowed %s elements%s", n, "");
        }
        for (size_t i = 0; i < v->n; i++) {
            hs_value e = {.type = elem_type(v->type)};
            if (e.type == HS_T_INT) e.u.i = v->u.il[i];
            else e.u.f = v->u.fl[i];
            hs_code rc = hs_value_check(k, &e, why, why_len);
            if (rc != HS_OK) return rc;
        }
        return HS_OK;
    default:
        return HS_OK;
    }
}

hs_code hs_value_parse_scalar(const hs_key *k, const char *text, int quoted, hs_value *out, char *why,
                              size_t why_len, char *hint, size_t hint_len) {
    hs_type t = elem_type(k->type);
    memset(out, 0, sizeof *out);
    if (hint && hint_len) hint[0] = '\0';
    if (t != HS_T_STR && !quoted && (!*text || strcmp(text, "~") == 0 || strcmp(text, "null") == 0))
        return fail(HS_ERR_SPEC, why, why_len, "missing value (expected %s)%s", hs_type_to_string(t), "");
    if (quoted && (t == HS_T_INT || t == HS_T_FLOAT || t == HS_T_BOOL)) {
        if (hint) snprintf(hint, hint_len, "write the value without quotes");
        return fail(HS_ERR_SPEC, why, why_len, "expected %s, got the quoted string \"%s\"",
                    t == HS_T_INT ? "an integer" : t == HS_T_FLOAT ? "a number" : "true or false", text);
    }
    switch (t) {
    case HS_T_INT:
    case HS_T_FLOAT: {
        hs_code rc = parse_number(text, t, out, why, why_len);
        if (rc != HS_OK) return rc;
        return hs_value_check(k, out, why, why_len);
    }
    case HS_T_BOOL:
        if (!strcmp(text, "true") || !strcmp(text, "True") || !strcmp(text, "TRUE")) out->u.b = 1;
        else if (!strcmp(text, "false") || !strcmp(text, "False") || !strcmp(text, "FALSE")) out->u.b = 0;
        else return fail(HS_ERR_SPEC, why, why_len, "expected true or false, got '%s'%s", text, "");
        out->type = HS_T_BOOL;
        return HS_OK;
    case HS_T_ENUM:
        if (!enum_has(k->choices, text)) {
            char best[64];
            nearest_choice(k->choices, text, best, sizeof best);
            if (best[0] && hint) snprintf(hint, hint_len, "did you mean '%s'?", best);
            return fail(HS_ERR_SPEC, why, why_len, "unknown value '%s' (expected one of: %s)", text, k->choices);
        }
        /* fallthrough */
    case HS_T_STR:
        out->type = t;
        out->u.s = strdup(text);
        return out->u.s ? HS_OK : HS_ERR_NOMEM;
    default:
        return fail(HS_ERR_INTERNAL, why, why_len, "bad schema type for %s%s", k->name, "");
    }
}

hs_code hs_value_list(const hs_key *k, const hs_value *elems, size_t n, hs_value *out, char *why, size_t why_len) {
    memset(out, 0, sizeof *out);
    out->type = k->type;
    out->n = n;
    if (n > 0) {
        if (k->type == HS_T_INT_LIST) out->u.il = malloc(n * sizeof(long long));
        else out->u.fl = malloc(n * sizeof(double));
        if (!out->u.il && !out->u.fl) return HS_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (k->type == HS_T_INT_LIST) out->u.il[i] = elems[i].u.i;
        else out->u.fl[i] = elems[i].type == HS_T_INT ? (double)elems[i].u.i : elems[i].u.f;
    }
    hs_code rc = hs_value_check(k, out, why, why_len);
    if (rc != HS_OK) hs_value_free(out);
    return rc;
}

hs_code hs_value_parse_elements(const hs_key *k, const char *text, hs_value **out, size_t *n_out, char *why,
                                size_t why_len) {
    *out = NULL, *n_out = 0;
    size_t len = strlen(text);
    const char *s = text;
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') s++, len -= 2;
    char *copy = strndup(s, len);
    if (!copy) return HS_ERR_NOMEM;
    size_t cap = 1;
    for (size_t i = 0; i < len; i++) cap += copy[i] == ',';
    hs_value *elems = calloc(cap, sizeof *elems);
    if (!elems) {
        free(copy);
        return HS_ERR_NOMEM;
    }
    size_t n = 0;
    hs_code rc = HS_OK;
    char *save = NULL;
    int blank = 1;
    for (size_t i = 0; i < len; i++) blank &= isspace((unsigned char)copy[i]) != 0;
    for (char *tok = blank ? NULL : strtok_r(copy, ",", &save); tok && rc == HS_OK; tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok)) tok++;
        char *e = tok + strlen(tok);
        while (e > tok && isspace((unsigned char)e[-1])) *--e = '\0';
        rc = hs_value_parse_scalar(k, tok, 0, &elems[n], why, why_len, NULL, 0);
        if (rc == HS_OK) n++;
    }
    free(copy);
    if (rc != HS_OK) {
        for (size_t i = 0; i < n; i++) hs_value_free(&elems[i]);
        free(elems);
        return rc;
    }
    *out = elems, *n_out = n;
    return HS_OK;
}

hs_code hs_value_parse(const hs_key *k, const char *text, hs_value *out, char *why, size_t why_len) {
    if (!is_list(k->type)) return hs_value_parse_scalar(k, text, 0, out, why, why_len, NULL, 0);
    /* "[a, b, c]" (brackets optional): the form of defaults and of --set key=[...] */
    hs_value *elems = NULL;
    size_t n = 0;
    hs_code rc = hs_value_parse_elements(k, text, &elems, &n, why, why_len);
    if (rc == HS_OK) rc = hs_value_list(k, elems, n, out, why, why_len);
    for (size_t i = 0; i < n; i++) hs_value_free(&elems[i]);
    free(elems);
    return rc;
}

hs_code hs_value_canon(const hs_value *v, hs_str *out) {
    char buf[64];
    switch (v->type) {
    case HS_T_INT: return hs_str_printf(out, "%lld", v->u.i);
    case HS_T_FLOAT:
        hs_format_double(v->u.f, buf, sizeof buf);
        return hs_str_printf(out, "%s", buf);
    case HS_T_BOOL: return hs_str_printf(out, "%s", v->u.b ? "true" : "false");
    case HS_T_STR:
    case HS_T_ENUM: return hs_str_json(out, v->u.s);
    case HS_T_INT_LIST:
    case HS_T_FLOAT_LIST: {
        hs_code rc = hs_str_append(out, "[", 1);
        for (size_t i = 0; i < v->n && rc == HS_OK; i++) {
            if (i) rc = hs_str_append(out, ",", 1);
            if (rc != HS_OK) break;
            if (v->type == HS_T_INT_LIST) rc = hs_str_printf(out, "%lld", v->u.il[i]);
            else {
                hs_format_double(v->u.fl[i], buf, sizeof buf);
                rc = hs_str_printf(out, "%s", buf);
            }
        }
        return rc == HS_OK ? hs_str_append(out, "]", 1) : rc;
    }
    }
    return HS_ERR_INTERNAL;
}

hs_code hs_value_show(const hs_value *v, hs_str *out) {
    if (v->type == HS_T_STR || v->type == HS_T_ENUM) return hs_str_printf(out, "%s", v->u.s[0] ? v->u.s : "\"\"");
    return hs_value_canon(v, out);
}

hs_code hs_values_show(const hs_value *v, size_t n, size_t stride, hs_str *out) {
    hs_code rc = HS_OK;
    for (size_t i = 0; i < n && rc == HS_OK; i++) {
        if (i) rc = hs_str_append(out, ", ", 2);
        if (rc == HS_OK) rc = hs_value_show(&v[i * stride], out);
    }
    return rc;
}

int hs_value_equal(const hs_value *a, const hs_value *b) {
    if (a->type != b->type || a->n != b->n) return 0;
    switch (a->type) {
    case HS_T_INT: return a->u.i == b->u.i;
    case HS_T_FLOAT: return a->u.f == b->u.f;
    case HS_T_BOOL: return a->u.b == b->u.b;
    case HS_T_STR:
    case HS_T_ENUM: return strcmp(a->u.s, b->u.s) == 0;
    case HS_T_INT_LIST: return a->n == 0 || memcmp(a->u.il, b->u.il, a->n * sizeof(long long)) == 0;
    case HS_T_FLOAT_LIST:
        for (size_t i = 0; i < a->n; i++)
            if (a->u.fl[i] != b->u.fl[i]) return 0;
        return 1;
    }
    return 0;
}

hs_code hs_value_copy(const hs_value *src, hs_value *dst) {
    *dst = *src;
    switch (src->type) {
    case HS_T_STR:
    case HS_T_ENUM:
        dst->u.s = strdup(src->u.s);
        return dst->u.s ? HS_OK : HS_ERR_NOMEM;
    case HS_T_INT_LIST:
    case HS_T_FLOAT_LIST: {
        size_t sz = src->type == HS_T_INT_LIST ? sizeof(long long) : sizeof(double);
        if (src->n == 0) {
            dst->u.il = NULL;
            return HS_OK;
        }
        void *p = malloc(src->n * sz);
        if (!p) return HS_ERR_NOMEM;
        memcpy(p, src->type == HS_T_INT_LIST ? (void *)src->u.il : (void *)src->u.fl, src->n * sz);
        if (src->type == HS_T_INT_LIST) dst->u.il = p;
        else dst->u.fl = p;
        return HS_OK;
    }
    default: return HS_OK;
    }
}

void hs_value_free(hs_value *v) {
    switch (v->type) {
    case HS_T_STR:
    case HS_T_ENUM: free(v->u.s); break;
    case HS_T_INT_LIST: free(v->u.il); break;
    case HS_T_FLOAT_LIST: free(v->u.fl); break;
    default: break;
    }
    memset(v, 0, sizeof *v);
}
