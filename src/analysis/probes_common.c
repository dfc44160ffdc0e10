/* probes_common.c - see probes_common.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/metrics.h"
#include "internal.h"
#include "probes_common.h"

/* ================================================================ series and records */

void an_series_free(an_series *s) {
    free(s->v), free(s->pt);
    memset(s, 0, sizeof *s);
}

hs_code an_series_read(const hs_results_reader *rd, const char *name, const char *why, an_series *s, hs_error *err) {
    memset(s, 0, sizeof *s);
    s->R = hs_reader_n_runs(rd);
    int nd = 0;
    size_t d[HS_READER_MAX_DIMS];
    if (!hs_reader_has(rd, HS_READ_SERIES, name) || hs_reader_dims(rd, HS_READ_SERIES, name, &nd, d) != HS_OK ||
        nd < 2 || nd > 5 || d[0] != s->R) {
        HS_FAIL(err, HS_ERR_VALUE, "%s: no series %s in the file", hs_reader_path(rd), name);
        return hs_error_hint(err, "%s", why);
    }
    s->Ns = d[1], s->nd = nd - 2, s->size = 1;
    for (int k = 0; k < s->nd; k++) s->dims[k] = d[k + 2], s->size *= d[k + 2];
    s->v = malloc((s->R * s->Ns * s->size + 1) * sizeof *s->v);
    s->pt = malloc((s->R * s->Ns + 1) * sizeof *s->pt);
    if (!s->v || !s->pt) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for series %s", name);
    HS_TRY(err, hs_reader_rows(rd, HS_READ_SERIES, name, 0, s->R, s->v, err));
    HS_TRY(err, hs_reader_rows(rd, HS_READ_SERIES_POINT, name, 0, s->R, s->pt, err));
    return HS_OK;
}

long an_series_last(const an_series *s, size_t r) {
    long last = -1;
    for (size_t j = 0; j < s->Ns; j++)
        if (s->pt[r * s->Ns + j] >= 0) last = (long)j;
    return last;
}

hs_code an_records(const hs_results_reader *rd, const char *name, double **out, size_t *N, hs_error *err) {
    *out = NULL, *N = 0;
    int nd;
    size_t d[HS_READER_MAX_DIMS], R = hs_reader_n_runs(rd);
    if (hs_reader_dims(rd, HS_READ_RECORDS, name, &nd, d) != HS_OK || nd != 2 || d[0] != R) return HS_OK;
    if (!(*out = malloc((R * d[1] + 1) * sizeof **out))) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    *N = d[1];
    return hs_reader_rows(rd, HS_READ_RECORDS, name, 0, R, *out, err);
}

/* ================================================================ configurations and families */

void an_groups_free(an_groups *g) {
    hs_an_columns_free(g->cols, g->ncols, g->R);
    for (size_t c = 0; g->label && c < g->C; c++) free(g->label[c]);
    for (size_t f = 0; g->flabel && f < g->F; f++) free(g->flabel[f]);
    free(g->cfg), free(g->n_runs), free(g->first), free(g->label), free(g->fam), free(g->ffirst), free(g->flabel);
    memset(g, 0, sizeof *g);
}

static const an_groups *g_sort; /* for qsort */
static int cmp_first(const void *a, const void *b) {
    return hs_an_runs_cmp(g_sort->cols, NULL, g_sort->ncols, *(const size_t *)a, *(const size_t *)b);
}

/* "k=v, k=v" of run r over the columns, leaving out column skip; "all runs" when empty. */
static char *label_of(const an_groups *g, size_t r, int skip) {
    hs_str l = {0};
    for (size_t k = 0; k < g->ncols; k++)
        if ((int)k != skip)
            hs_str_printf(&l, "%s%s=%s", l.len ? ", " : "", hs_an_short_name(g->cols[k].name), g->cols[k].text[r]);
    char *s = strdup(l.buf ? l.buf : "all runs");
    hs_str_free(&l);
    return s;
}

hs_code an_groups_make(const hs_results_reader *rd, const unsigned char *use, an_groups *g, hs_error *err) {
    memset(g, 0, sizeof *g);
    const size_t R = g->R = hs_reader_n_runs(rd);
    HS_TRY(err, hs_an_config_columns(rd, &g->cols, &g->ncols, err));
    g->p_col = -1;
    for (size_t k = 0; k < g->ncols; k++)
        if (!strcmp(g->cols[k].name, "data.n_train")) g->p_col = (int)k;
    g->cfg = malloc((R + 1) * sizeof *g->cfg), g->n_runs = calloc(R + 1, sizeof *g->n_runs);
    g->first = malloc((R + 1) * sizeof *g->first), g->label = calloc(R + 1, sizeof *g->label);
    g->fam = malloc((R + 1) * sizeof *g->fam), g->ffirst = malloc((R + 1) * sizeof *g->ffirst);
    g->flabel = calloc(R + 1, sizeof *g->flabel);
    int *order = malloc((g->ncols + 1) * sizeof *order);
    if (!g->cfg || !g->n_runs || !g->first || !g->label || !g->fam || !g->ffirst || !g->flabel || !order) {
        free(order);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; r < R; r++) {
        g->cfg[r] = -1;
        if (!use[r]) continue;
        size_t c = 0;
        while (c < g->C && hs_an_runs_cmp(g->cols, NULL, g->ncols, g->first[c], r)) c++;
        if (c == g->C) g->first[g->C++] = r;
    }
    g_sort = g;
    qsort(g->first, g->C, sizeof *g->first, cmp_first);
    g_sort = NULL;
    for (size_t r = 0; r < R; r++) {
        if (!use[r]) continue;
        size_t c = 0;
        while (hs_an_runs_cmp(g->cols, NULL, g->ncols, g->first[c], r)) c++;
        g->cfg[r] = (int)c, g->n_runs[c]++;
    }
    /* families compare every column but data.n_train */
    size_t no = 0;
    for (size_t k = 0; k < g->ncols; k++)
        if ((int)k != g->p_col) order[no++] = (int)k;
    hs_code rc = HS_OK;
    for (size_t c = 0; c < g->C && rc == HS_OK; c++) {
        size_t f = 0;
        while (f < g->F && hs_an_runs_cmp(g->cols, order, no, g->ffirst[f], g->first[c])) f++;
        if (f == g->F) {
            g->ffirst[g->F] = g->first[c];
            if (!(g->flabel[g->F++] = label_of(g, g->first[c], g->p_col))) rc = HS_ERR_NOMEM;
        }
        g->fam[c] = (int)f;
        if (!(g->label[c] = label_of(g, g->first[c], -1))) rc = HS_ERR_NOMEM;
    }
    free(order);
    return rc == HS_OK ? HS_OK : HS_FAIL(err, rc, "out of memory");
}

/* ================================================================ statistics */

hs_code an_config_stats(const an_groups *g, const double *x, size_t size, double *mean, double *sd, int *n,
                        hs_error *err) {
    double *v = malloc((g->R + 1) * sizeof *v);
    if (!v) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (size_t c = 0; c < g->C; c++)
        for (size_t e = 0; e < size; e++) {
            size_t m = 0;
            for (size_t r = 0; r < g->R; r++)
                if (g->cfg[r] == (int)c && isfinite(x[r * size + e])) v[m++] = x[r * size + e];
            mean[c * size + e] = hs_mean(v, m), sd[c * size + e] = hs_std(v, m, 1);
            if (n) n[c * size + e] = (int)m;
        }
    free(v);
    return HS_OK;
}

void an_time_free(an_time *t) {
    free(t->cfg), free(t->pt), free(t->n), free(t->step), free(t->mean), free(t->sd);
    memset(t, 0, sizeof *t);
}

hs_code an_time_make(const an_groups *g, const an_series *s, const double *steps, size_t N, an_time *t, hs_error *err) {
    memset(t, 0, sizeof *t);
    const size_t cap = g->C * s->Ns + 1, size = t->size = s->size;
    t->cfg = malloc(cap * sizeof *t->cfg), t->pt = malloc(cap * sizeof *t->pt), t->n = malloc(cap * sizeof *t->n);
    t->step = malloc(cap * sizeof *t->step);
    t->mean = malloc(cap * size * sizeof *t->mean), t->sd = malloc(cap * size * sizeof *t->sd);
    double *v = malloc((g->R + 1) * sizeof *v), *st = malloc((g->R + 1) * sizeof *st);
    size_t *rows = malloc((g->R + 1) * sizeof *rows);
    if (!t->cfg || !t->pt || !t->n || !t->step || !t->mean || !t->sd || !v || !st || !rows) {
        free(v), free(st), free(rows);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    for (size_t c = 0; c < g->C; c++)
        for (size_t j = 0; j < s->Ns; j++) {
            size_t m = 0, ns = 0;
            for (size_t r = 0; r < g->R; r++)
                if (g->cfg[r] == (int)c && s->pt[r * s->Ns + j] >= 0) rows[m++] = r;
            if (m == 0) continue;
            const size_t T = t->T++;
            t->cfg[T] = (int)c, t->pt[T] = (int)j, t->n[T] = (int)m;
            for (size_t i = 0; i < m; i++) {
                size_t p = (size_t)s->pt[rows[i] * s->Ns + j];
                if (steps && p < N && isfinite(steps[rows[i] * N + p])) st[ns++] = steps[rows[i] * N + p];
            }
            t->step[T] = hs_mean(st, ns);
            for (size_t e = 0; e < size; e++) {
                size_t q = 0;
                for (size_t i = 0; i < m; i++) {
                    double x = an_series_at(s, rows[i], j)[e];
                    if (isfinite(x)) v[q++] = x;
                }
                t->mean[T * size + e] = hs_mean(v, q), t->sd[T * size + e] = hs_std(v, q, 1);
            }
        }
    free(v), free(st), free(rows);
    return HS_OK;
}
