/* finals.c - final losses and errors per configuration (see include/hsweep/analysis.h), for any
 * sweep. The smallest complete analysis, and the pattern for a new one: read through the reader,
 * reduce, write /analysis/<name> with hs_aout_*, write the tables, register one entry.
 *
 * The work is a few numbers per run, so rank 0 reads everything while every rank holds the file
 * open (the reader's open and close are collective); rank 0's outcome is broadcast. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/analysis.h"
#include "hsweep/metrics.h"
#include "hsweep/reader.h"
#include "internal.h"

/* The quantities: a record, and whether the value is 1 - the record (an error from an accuracy). */
static const struct {
    const char *name, *record, *title;
    int one_minus;
} qs[] = {{"train_loss", "train_loss", "train loss", 0},
          {"test_loss", "test_loss", "test loss", 0},
          {"train_err", "train_acc", "train error", 1},
          {"test_err", "test_acc", "test error", 1}};
#define NQ (sizeof qs / sizeof qs[0])
enum { S_MEAN, S_STD, S_MIN, S_MAX, NS };
static const char *const stat_names[NS] = {"mean", "std", "min", "max"};

typedef struct finals {
    size_t R, C, N, finished;
    double *last;     /* [R x NQ] the value at the run's last record point with one (NaN none) */
    int *cfg;         /* [R] */
    size_t *first;    /* [C] a representative run, configurations in column order */
    int *n_runs, *n_fin;
    double *stat;     /* [C x NQ x NS] */
    char **label;     /* [C] */
    hs_an_column *cols;
    size_t ncols;
} finals;

static void finals_free(finals *f) {
    hs_an_columns_free(f->cols, f->ncols, f->R);
    for (size_t c = 0; f->label && c < f->C; c++) free(f->label[c]);
    free(f->last), free(f->cfg), free(f->first), free(f->n_runs), free(f->n_fin), free(f->stat), free(f->label);
}

/* Rank 0: every run's last values and the run table. */
static hs_code read_finals(const hs_results_reader *rd, finals *f, hs_error *err) {
    f->R = hs_reader_n_runs(rd);
    f->last = malloc((f->R * NQ + 1) * sizeof *f->last);
    if (!f->last) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < f->R * NQ; i++) f->last[i] = NAN;
    for (size_t q = 0; q < NQ; q++) {
        int nd;
        size_t d[HS_READER_MAX_DIMS];
        if (hs_reader_dims(rd, HS_READ_RECORDS, qs[q].record, &nd, d) != HS_OK || nd != 2 || d[0] != f->R) continue;
        double *v = malloc((d[0] * d[1] + 1) * sizeof *v);
        if (!v) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        hs_code rc = hs_reader_rows(rd, HS_READ_RECORDS, qs[q].record, 0, f->R, v, err);
        for (size_t r = 0; rc == HS_OK && r < f->R; r++)
            for (size_t t = 0; hs_reader_finished(rd, r) && t < d[1]; t++)
                if (isfinite(v[r * d[1] + t]))
                    f->last[r * NQ + q] = qs[q].one_minus ? 1 - v[r * d[1] + t] : v[r * d[1] + t];
        free(v);
        HS_TRY(err, rc);
    }
    return hs_an_config_columns(rd, &f->cols, &f->ncols, err);
}

static const hs_an_column *g_cols; /* for qsort */
static size_t g_ncols;
static int cmp_first(const void *a, const void *b) {
    return hs_an_runs_cmp(g_cols, NULL, g_ncols, *(const size_t *)a, *(const size_t *)b);
}

/* Rank 0: configurations (sorted by the columns in name order), labels, statistics. */
static hs_code reduce(const hs_results_reader *rd, finals *f, hs_error *err) {
    size_t R = f->R;
    f->cfg = malloc((R + 1) * sizeof *f->cfg), f->first = malloc((R + 1) * sizeof *f->first);
    f->n_runs = calloc(R + 1, sizeof *f->n_runs), f->n_fin = calloc(R + 1, sizeof *f->n_fin);
    f->stat = malloc((R * NQ * NS + 1) * sizeof *f->stat), f->label = calloc(R + 1, sizeof *f->label);
    double *v = malloc((R + 1) * sizeof *v);
    hs_code rc = f->cfg && f->first && f->n_runs && f->n_fin && f->stat && f->label && v
                     ? HS_OK : HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    g_cols = f->cols, g_ncols = f->ncols;
    for (size_t r = 0; rc == HS_OK && r < R; r++) {
        size_t c = 0;
        while (c < f->C && hs_an_runs_cmp(f->cols, NULL, f->ncols, f->first[c], r)) c++;
        if (c == f->C) f->first[f->C++] = r;
    }
    if (rc == HS_OK) qsort(f->first, f->C, sizeof *f->first, cmp_first);
    for (size_t r = 0; rc == HS_OK && r < R; r++) {
        size_t c = 0;
        while (hs_an_runs_cmp(f->cols, NULL, f->ncols, f->first[c], r)) c++;
        f->cfg[r] = (int)c, f->n_runs[c]++;
        if (hs_reader_finished(rd, r)) f->n_fin[c]++, f->finished++;
    }
    hs_str l = {0};
    for (size_t c = 0; rc == HS_OK && c < f->C; c++) {
        for (size_t q = 0; q < NQ; q++) {
            size_t n = 0;
            for (size_t r = 0; r < R; r++)
                if (f->cfg[r] == (int)c && isfinite(f->last[r * NQ + q])) v[n++] = f->last[r * NQ + q];
            double *s = f->stat + (c * NQ + q) * NS;
            s[S_MEAN] = hs_mean(v, n), s[S_STD] = hs_std(v, n, 1), s[S_MIN] = s[S_MAX] = NAN;
            for (size_t i = 0; i < n; i++) {
                if (isnan(s[S_MIN]) || v[i] < s[S_MIN]) s[S_MIN] = v[i];
                if (isnan(s[S_MAX]) || v[i] > s[S_MAX]) s[S_MAX] = v[i];
            }
        }
        hs_str_reset(&l);
        for (size_t k = 0; k < f->ncols; k++)
            hs_str_printf(&l, "%s%s=%s", k ? ", " : "", hs_an_short_name(f->cols[k].name),
                          f->cols[k].text[f->first[c]]);
        if (!(f->label[c] = strdup(l.buf ? l.buf : "all runs"))) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    hs_str_free(&l);
    free(v);
    g_cols = NULL, g_ncols = 0;
    return rc;
}

static hs_code write_group(const char *path, const finals *f, hs_error *err) {
    hs_analysis_out *g = NULL;
    HS_TRY(err, hs_analysis_out_open(path, "finals", &g, err));
    size_t R = f->R, C = f->C;
    double *col = malloc((C + 1) * sizeof *col);
    hs_aout_i32(g, "config", 1, &R, f->cfg);
    hs_aout_strs(g, "label", C, (const char *const *)f->label);
    hs_aout_i32(g, "n_runs", 1, &C, f->n_runs);
    hs_aout_i32(g, "n_finished", 1, &C, f->n_fin);
    for (size_t q = 0; col && q < NQ; q++)
        for (size_t k = 0; k < NS; k++) {
            char name[64];
            snprintf(name, sizeof name, "%s_%s", qs[q].name, stat_names[k]);
            for (size_t c = 0; c < C; c++) col[c] = f->stat[(c * NQ + q) * NS + k];
            hs_aout_f64(g, name, 1, &C, col);
        }
    hs_code rc = hs_analysis_out_close(g, col ? HS_OK : HS_ERR_NOMEM, err);
    free(col);
    return rc;
}

static void make_tables(const finals *f, hs_str *csv, hs_str *md) {
    for (size_t k = 0; k < f->ncols; k++) hs_str_printf(csv, "%s,", f->cols[k].name);
    hs_str_printf(csv, "n_runs,n_finished");
    for (size_t q = 0; q < NQ; q++)
        for (size_t k = 0; k < NS; k++) hs_str_printf(csv, ",%s_%s", qs[q].name, stat_names[k]);
    hs_str_printf(csv, "\n");
    hs_str_printf(md, "Final values (the last record point of each finished run): mean +- std (ddof 1) [min, max] "
                      "over seeds.\n\n|");
    for (size_t k = 0; k < f->ncols; k++) hs_str_printf(md, " %s |", hs_an_short_name(f->cols[k].name));
    hs_str_printf(md, " runs |");
    for (size_t q = 0; q < NQ; q++) hs_str_printf(md, " %s |", qs[q].title);
    hs_str_printf(md, "\n|");
    for (size_t k = 0; k < f->ncols + 1 + NQ; k++) hs_str_printf(md, "---|");
    hs_str_printf(md, "\n");
    for (size_t c = 0; c < f->C; c++) {
        hs_str_printf(md, "|");
        for (size_t k = 0; k < f->ncols; k++) {
            const char *v = f->cols[k].text[f->first[c]];
            hs_an_csv_put(csv, v, 0);
            hs_str_append(csv, ",", 1);
            hs_str_printf(md, " %s |", v);
        }
        hs_str_printf(csv, "%d,%d", f->n_runs[c], f->n_fin[c]);
        hs_str_printf(md, " %d/%d |", f->n_fin[c], f->n_runs[c]);
        for (size_t q = 0; q < NQ; q++) {
            const double *s = f->stat + (c * NQ + q) * NS;
            for (size_t k = 0; k < NS; k++) hs_str_printf(csv, ",%.10g", s[k]);
            if (isnan(s[S_MEAN])) hs_str_printf(md, " - |");
            else if (isnan(s[S_STD])) hs_str_printf(md, " %.4g |", s[S_MEAN]);
            else hs_str_printf(md, " %.4g +- %.2g [%.4g, %.4g] |", s[S_MEAN], s[S_STD], s[S_MIN], s[S_MAX]);
        }
        hs_str_printf(csv, "\n");
        hs_str_printf(md, "\n");
    }
}

static hs_code finals_run(MPI_Comm comm, const hs_analyze_opts *o, hs_str *summary, hs_str *table, hs_error *err) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    hs_results_reader *rd = NULL;
    HS_TRY(err, hs_reader_open(comm, o->path, &rd, err));
    finals f = {0};
    hs_error mine = {0};
    hs_code rc = HS_OK;
    if (rank == 0) {
        rc = read_finals(rd, &f, &mine);
        if (rc == HS_OK) rc = reduce(rd, &f, &mine);
    }
    hs_reader_close(rd); /* collective: before rank 0 opens the file for writing */
    if (rank == 0 && rc == HS_OK) rc = write_group(o->path, &f, &mine);
    if (rank == 0 && rc == HS_OK) {
        hs_str csv = {0}, md = {0};
        make_tables(&f, &csv, &md);
        rc = hs_an_write_tables(o, "finals", &csv, &md, &mine);
        if (table && rc == HS_OK && md.buf) hs_str_append(table, md.buf, md.len);
        hs_str_free(&csv), hs_str_free(&md);
    }
    /* rank 0's outcome, message and counts are everyone's */
    double n[3] = {(double)f.R, (double)f.finished, (double)f.C};
    finals_free(&f);
    HS_TRY(err, hs_an_share_outcome(comm, rc, &mine, n, 3, err));
    return hs_str_printf(summary, "%s: final losses and errors of %.0f runs (%.0f finished) in %.0f configurations\n",
                         o->path, n[0], n[1], n[2]);
}

const hs_analysis hs_analysis_finals = {
    .name = "finals",
    .doc = "final train/test loss and error per configuration: mean, std, min, max over seeds",
    .applies = NULL, /* any sweep has them: only `--kind finals` runs it */
    .run = finals_run,
};
