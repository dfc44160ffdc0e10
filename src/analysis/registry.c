/* registry.c - the table of analyses, auto-detection and the shared table writer (see "the
 * registry of analyses" in include/hsweep/analysis.h).
 *
 * An analysis is one file in src/analysis/ defining a `const hs_analysis hs_analysis_NAME`, and
 * its name on the ANALYSES line below (its declaration and its table entry come from it). "auto"
 * asks applies() in this order and runs the first that says yes, so the most specific analyses
 * come first and equisep, which applies to any file, is the fallback.
 *
 * hs_an_write_tables writes a table beside the file (<prefix>.<kind>.csv/.md) and into it
 * (/tables/<kind>, hs_analysis_out_table): rank 0 only, after its reader is closed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/analysis.h"
#include "hsweep/reader.h"
#include "internal.h"

#define DECLARE(name) extern const hs_analysis hs_analysis_##name;
#define ENTRY(name) &hs_analysis_##name,
#define ANALYSES(X) X(srhm) X(neighbours) X(dynamics) X(sensitivity) X(stability) X(equisep) X(finals)

ANALYSES(DECLARE)
static const hs_analysis *const table[] = {ANALYSES(ENTRY)};
#define N_ANALYSES (sizeof table / sizeof table[0])

size_t hs_analysis_count(void) { return N_ANALYSES; }

const hs_analysis *hs_analysis_at(size_t i) { return i < N_ANALYSES ? table[i] : NULL; }

const hs_analysis *hs_analysis_find(const char *name) {
    for (size_t i = 0; name && i < N_ANALYSES; i++)
        if (!strcmp(table[i]->name, name)) return table[i];
    return NULL;
}

const char *hs_analysis_choices(void) {
    static char buf[256];
    if (!buf[0]) {
        size_t n = (size_t)snprintf(buf, sizeof buf, "auto");
        for (size_t i = 0; i < N_ANALYSES && n < sizeof buf; i++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "|%s", table[i]->name);
    }
    return buf;
}

hs_code hs_analysis_detect(MPI_Comm comm, const char *path, const hs_analysis **out, hs_error *err) {
    *out = NULL;
    hs_results_reader *rd = NULL;
    HS_TRY(err, hs_reader_open(comm, path, &rd, err));
    /* every rank holds the same configs and shapes, so every rank reaches the same answer */
    for (size_t i = 0; i < N_ANALYSES && !*out; i++)
        if (table[i]->applies && table[i]->applies(rd)) *out = table[i];
    hs_reader_close(rd);
    if (!*out) return HS_FAIL(err, HS_ERR_VALUE, "%s: no analysis applies to this file", path);
    return HS_OK;
}

hs_code hs_analyze_run(MPI_Comm comm, const char *kind, const hs_analyze_opts *o, hs_str *summary, hs_str *table_md,
                       hs_error *err) {
    const hs_analysis *a = NULL;
    if (!kind || !strcmp(kind, "auto")) HS_TRY(err, hs_analysis_detect(comm, o->path, &a, err));
    else if (!(a = hs_analysis_find(kind)))
        return HS_FAIL(err, HS_ERR_USAGE, "--kind must be one of %s, got '%s'", hs_analysis_choices(), kind);
    return a->run(comm, o, summary, table_md, err);
}

int hs_an_any_run(const hs_results_reader *rd, int (*pred)(const hs_train_config *c)) {
    int yes = 0;
    for (size_t r = 0; r < hs_reader_n_runs(rd) && !yes; r++) {
        hs_canon_config cc;
        hs_train_config cfg;
        hs_error e = {0};
        if (hs_canon_parse(hs_reader_config(rd, r), &cc, &e) != HS_OK) continue;
        if (hs_canon_typed(&cc, &cfg, &e) == HS_OK) {
            yes = pred(&cfg);
            hs_train_config_free(&cfg);
        }
        hs_canon_free(&cc);
    }
    return yes;
}

void hs_an_csv_put(hs_str *csv, const char *v, int quote) {
    if (!v) v = "";
    if (!quote && !strpbrk(v, ",\"\r\n")) {
        hs_str_printf(csv, "%s", v);
        return;
    }
    hs_str_append(csv, "\"", 1);
    for (const char *q = strchr(v, '"'); q; v = q + 1, q = strchr(v, '"')) {
        hs_str_append(csv, v, (size_t)(q - v) + 1); /* up to and with the quote, then its double */
        hs_str_append(csv, "\"", 1);
    }
    hs_str_printf(csv, "%s\"", v);
}

hs_code hs_an_write_tables(const hs_analyze_opts *o, const char *kind, const hs_str *csv, const hs_str *md,
                           hs_error *err) {
    hs_str prefix = {0};
    if (o->prefix) hs_str_printf(&prefix, "%s", o->prefix);
    else {
        size_t n = strlen(o->path);
        if (n > 3 && !strcmp(o->path + n - 3, ".h5")) n -= 3;
        hs_str_append(&prefix, o->path, n);
    }
    const char *ext[2] = {"csv", "md"};
    const hs_str *body[2] = {csv, md};
    hs_code rc = HS_OK;
    for (int i = 0; i < 2 && rc == HS_OK; i++) {
        if (!body[i]->len) continue;
        hs_str p = {0};
        rc = hs_str_printf(&p, "%s.%s.%s", prefix.buf ? prefix.buf : "", kind, ext[i]);
        if (rc == HS_OK) rc = hs_file_write_whole(p.buf, body[i]->buf, body[i]->len, err);
        if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
        hs_str_free(&p);
    }
    hs_str_free(&prefix);
    /* the same text inside the results file, so the file alone carries its tables (a report) */
    if (rc == HS_OK && (csv->len || md->len))
        rc = hs_analysis_out_table(o->path, kind, csv->buf ? csv->buf : "", md->buf ? md->buf : "", err);
    return rc;
}

hs_code hs_an_share_outcome(MPI_Comm comm, hs_code rc, const hs_error *mine, double *vals, int n, hs_error *err) {
    int code = (int)rc;
    hs_error e = *mine;
    MPI_Bcast(&code, 1, MPI_INT, 0, comm);
    MPI_Bcast(&e, (int)sizeof e, MPI_BYTE, 0, comm);
    if (n > 0) MPI_Bcast(vals, n, MPI_DOUBLE, 0, comm);
    if ((hs_code)code == HS_OK) return HS_OK;
    e.msg[sizeof e.msg - 1] = e.hint[sizeof e.hint - 1] = e.trace[sizeof e.trace - 1] = '\0';
    e.code = (hs_code)code;
    if (err) {
        *err = e;
        hs_error_trace(err, __FILE__, __LINE__);
    }
    return (hs_code)code;
}
