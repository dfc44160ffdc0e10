/* equisep.c - the equi-separation analysis of a results file (see include/hsweep/analysis.h).
 *
 * Two phases. Collective: every rank opens the file through the store's reader, reads its own
 * block of runs' per-layer D and fits them (rank 0 also reads the run table); the fits are
 * gathered on rank 0 and the file is closed by all. Rank 0 alone: groups runs into
 * configurations, aggregates over seeds, writes /analysis/equisep back into the file
 * (hs_analysis_out, after the collective close) and the tables.
 * Nothing here aborts: errors are agreed on by all ranks so no rank waits in a collective. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/analysis.h"
#include "hsweep/metrics.h"
#include "hsweep/reader.h"
#include "internal.h"

enum { F_SLOPE, F_INTERCEPT, F_RHO, F_HALF, F_R, F_R2, F_DFIRST, F_DLAST, F_NLAYERS, F_FLAG, N_F };
static const char *const fit_names[] = {"slope", "intercept", "rho", "half_life", "r", "r2", "d_first", "d_last"};


/* ================================================================ per-run fit */

/* Fit run row D[N x L] (record points x layers); W[N x L] is the run's weight_norm, recorded for
 * every layer the run has at every record point, which tells the run's layer count even where a
 * D is NaN (non-finite features). out has N_F values. */
static void fit_run(const double *D, const double *W, size_t N, size_t L, int finished, double *out) {
    for (int f = 0; f < N_F; f++) out[f] = NAN;
    out[F_NLAYERS] = 0;
    if (!finished) {
        out[F_FLAG] = HS_FIT_UNFINISHED;
        return;
    }
    /* the final measurement: the last record point with a D at layer 0 */
    long t = -1;
    for (size_t i = 0; i < N; i++)
        if (!isnan(D[i * L])) t = (long)i;
    if (t < 0) {
        out[F_FLAG] = HS_FIT_NO_D;
        return;
    }
    const double *d = D + (size_t)t * L, *w = W + (size_t)t * L;
    size_t n = 0;
    while (n < L && !isnan(w[n])) n++;
    if (n == 0) {
        out[F_FLAG] = HS_FIT_NO_D;
        return;
    }
    out[F_NLAYERS] = (double)n;
    out[F_DFIRST] = d[0], out[F_DLAST] = d[n - 1];
    double x[4096], y[4096];
    int bad = n < 2 || n > 4096;
    for (size_t l = 0; !bad && l < n; l++) {
        if (!(d[l] > 0) || !isfinite(d[l])) bad = 1;
        x[l] = (double)l, y[l] = log(d[l]);
    }
    hs_line_fit fit;
    hs_error e = {0};
    if (bad || hs_fit_line(x, y, n, &fit, &e) != HS_OK) {
        out[F_FLAG] = HS_FIT_BAD_D;
        return;
    }
    out[F_SLOPE] = fit.slope, out[F_INTERCEPT] = fit.intercept, out[F_RHO] = exp(fit.slope);
    out[F_HALF] = fit.slope < 0 ? log(2.0) / -fit.slope : INFINITY;
    out[F_R] = fit.r, out[F_R2] = fit.r2, out[F_FLAG] = HS_FIT_OK;
}

/* ================================================================ collective phase */

typedef struct runs_info {
    size_t R, N, L;
    unsigned char *finished; /* [R] */
    hs_an_column *cols;      /* rank 0: the run table */
    size_t ncols;
} runs_info;

/* Every rank: read states and its block of D, fit it; rank 0 gets all fits in fits[R x N_F] and
 * the run table. */
static int read_and_fit(MPI_Comm comm, const char *path, runs_info *ri, double **fits_out, char *why, size_t wlen) {
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    hs_results_reader *rd = NULL;
    hs_error e = {0};
    if (hs_reader_open(comm, path, &rd, &e) != HS_OK) {
        snprintf(why, wlen, "%s", e.msg);
        return -1;
    }
    int rc = 0, nd = 0;
    size_t dims[HS_READER_MAX_DIMS] = {0};
    if (!hs_reader_has(rd, HS_READ_LAYERS, "separation") || !hs_reader_has(rd, HS_READ_LAYERS, "weight_norm")) {
        snprintf(why, wlen, "%s: no /layers/separation: the sweep recorded no separation fuzziness "
                            "(record.separation: final or every)", path);
        rc = -1;
    } else if (hs_reader_dims(rd, HS_READ_LAYERS, "separation", &nd, dims) != HS_OK || nd != 3) {
        snprintf(why, wlen, "%s: /layers/separation is not [runs x records x layers]", path);
        rc = -1;
    }
    ri->R = dims[0], ri->N = dims[1], ri->L = dims[2];
    ri->finished = calloc(ri->R + 1, 1);
    if (!rc && !ri->finished) snprintf(why, wlen, "out of memory"), rc = -1;
    for (size_t r = 0; !rc && r < ri->R; r++) ri->finished[r] = r < hs_reader_n_runs(rd) && hs_reader_finished(rd, r);
    if (!rc && rank == 0 && hs_an_config_columns(rd, &ri->cols, &ri->ncols, &e) != HS_OK)
        snprintf(why, wlen, "%s", e.msg), rc = -1;
    /* my block of runs */
    size_t R = ri->R, per = (R + (size_t)nranks - 1) / (size_t)nranks;
    size_t r0 = (size_t)rank * per < R ? (size_t)rank * per : R, r1 = r0 + per < R ? r0 + per : R;
    size_t mine = r1 - r0, NL = ri->N * ri->L;
    double *D = malloc((mine * NL + 1) * sizeof *D), *fits = malloc((mine * N_F + 1) * sizeof *fits);
    double *W = malloc((mine * NL + 1) * sizeof *W);
    if (!rc && (!D || !W || !fits)) snprintf(why, wlen, "out of memory"), rc = -1;
    if (!rc && mine &&
        (hs_reader_rows(rd, HS_READ_LAYERS, "separation", r0, mine, D, &e) != HS_OK ||
         hs_reader_rows(rd, HS_READ_LAYERS, "weight_norm", r0, mine, W, &e) != HS_OK)) {
        snprintf(why, wlen, "%s: cannot read /layers/separation rows %zu..%zu", path, r0, r1);
        rc = -1;
    }
    for (size_t i = 0; !rc && i < mine; i++)
        fit_run(D + i * NL, W + i * NL, ri->N, ri->L, ri->finished[r0 + i], fits + i * N_F);
    hs_reader_close(rd);
    free(D);
    free(W);

    int all = 0;
    MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm);
    if (all < 0) {
        free(fits);
        if (!rc) snprintf(why, wlen, "another rank failed to read %s", path);
        return -1;
    }
    int *counts = malloc((size_t)nranks * sizeof *counts), *displs = malloc((size_t)nranks * sizeof *displs);
    double *allfits = rank == 0 ? malloc((R * N_F + 1) * sizeof *allfits) : NULL;
    int ok = counts && displs && (rank != 0 || allfits), ok_all = 0;
    MPI_Allreduce(&ok, &ok_all, 1, MPI_INT, MPI_MIN, comm);
    if (!ok_all) {
        free(counts), free(displs), free(allfits), free(fits);
        snprintf(why, wlen, "out of memory");
        return -1;
    }
    for (int q = 0; q < nranks; q++) {
        size_t a = (size_t)q * per < R ? (size_t)q * per : R, b = a + per < R ? a + per : R;
        counts[q] = (int)((b - a) * N_F), displs[q] = (int)(a * N_F);
    }
    MPI_Gatherv(fits, (int)(mine * N_F), MPI_DOUBLE, allfits, counts, displs, MPI_DOUBLE, 0, comm);
    free(counts), free(displs), free(fits);
    *fits_out = allfits;
    return 0;
}

/* ================================================================ rank 0: configurations */

typedef struct config {
    size_t first; /* a representative run */
    size_t n_runs, n_fitted, n_obey;
    double rho_mean, rho_std, r_mean, r_std, half_mean, dfirst_mean, dlast_mean;
} config;

static const hs_an_column *g_cols; /* for qsort */
static size_t g_ncols;
static int *g_order;         /* column order for sorting */

static int cmp_run(size_t a, size_t b) { return hs_an_runs_cmp(g_cols, g_order, g_ncols, a, b); }

static int cmp_config(const void *x, const void *y) {
    const config *a = x, *b = y;
    return cmp_run(a->first, b->first);
}

/* ================================================================ rank 0: formatting */

static void fmt_pm(char *b, size_t n, double m, double s, const char *f) {
    char x[24], y[24];
    snprintf(x, sizeof x, f, m);
    if (isnan(s)) snprintf(b, n, "%s", x);
    else snprintf(y, sizeof y, f, s), snprintf(b, n, "%s +- %s", x, y);
}

/* ================================================================ the analysis */

hs_code hs_analyze_equisep(MPI_Comm comm, const hs_analyze_opts *o, hs_analyze_summary *s, hs_str *table,
                           hs_error *err) {
    memset(s, 0, sizeof *s);
    int rank;
    MPI_Comm_rank(comm, &rank);
    double obey = o->obey_r != 0 ? o->obey_r : -0.99;
    runs_info ri = {0};
    double *fits = NULL;
    char why[1024] = "";
    if (read_and_fit(comm, o->path, &ri, &fits, why, sizeof why) < 0) {
        hs_an_columns_free(ri.cols, ri.ncols, ri.R);
        free(ri.finished);
        return HS_FAIL(err, HS_ERR_VALUE, "%s", why);
    }
    hs_code rc = HS_OK;
    size_t R = ri.R;
    hs_an_column *cols = ri.cols;
    size_t ncols = ri.ncols;
    config *cfgs = NULL;
    size_t ncfg = 0;
    int *run_cfg = NULL;
    char **lab = NULL;
    if (rank != 0) goto done;

    s->runs = R;
    for (size_t r = 0; r < R; r++) {
        int flag = (int)fits[r * N_F + F_FLAG];
        if (flag == HS_FIT_UNFINISHED) s->unfinished++;
        else s->finished++;
        if (flag == HS_FIT_OK) s->fitted++;
        else if (flag != HS_FIT_UNFINISHED) s->flagged++;
        if (flag == HS_FIT_OK && fits[r * N_F + F_R] <= obey) s->obey++;
    }

    /* ---- configurations */
    run_cfg = calloc(R + 1, sizeof *run_cfg);
    cfgs = calloc(R + 1, sizeof *cfgs);
    if (!run_cfg || !cfgs) {
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* sort order: dataset, arch, depth, optimiser first, then the rest by name */
    static const char *const first[] = {"data.kind", "model.arch", "model.depth", "train.opt"};
    int order[512];
    size_t no = 0;
    for (size_t f = 0; f < 4; f++)
        for (size_t c = 0; c < ncols; c++)
            if (!strcmp(cols[c].name, first[f])) order[no++] = (int)c;
    for (size_t c = 0; c < ncols && no < 512; c++) {
        int seen = 0;
        for (size_t k = 0; k < no; k++) seen |= order[k] == (int)c;
        if (!seen) order[no++] = (int)c;
    }
    g_cols = cols, g_ncols = no, g_order = order;

    /* group: a run joins the first configuration whose representative it equals */
    for (size_t r = 0; r < R; r++) {
        size_t c = 0;
        while (c < ncfg && cmp_run(cfgs[c].first, r) != 0) c++;
        if (c == ncfg) cfgs[ncfg++].first = r;
    }
    qsort(cfgs, ncfg, sizeof *cfgs, cmp_config);
    s->configs = ncfg;
    double *tmp = malloc((R + 1) * 8 * sizeof *tmp);
    for (size_t c = 0; tmp && c < ncfg; c++) {
        double *rho = tmp, *rr = tmp + R, *hl = tmp + 2 * R, *d0 = tmp + 3 * R, *dl = tmp + 4 * R;
        size_t k = 0;
        config *g = &cfgs[c];
        for (size_t r = 0; r < R; r++) {
            if (cmp_run(g->first, r) != 0) continue;
            run_cfg[r] = (int)c;
            g->n_runs++;
            const double *f = fits + r * N_F;
            if ((int)f[F_FLAG] != HS_FIT_OK) continue;
            rho[k] = f[F_RHO], rr[k] = f[F_R], hl[k] = f[F_HALF], d0[k] = f[F_DFIRST], dl[k] = f[F_DLAST];
            g->n_obey += f[F_R] <= obey;
            k++;
        }
        g->n_fitted = k;
        g->rho_mean = hs_mean(rho, k), g->rho_std = hs_std(rho, k, 1);
        g->r_mean = hs_mean(rr, k), g->r_std = hs_std(rr, k, 1);
        g->half_mean = hs_mean(hl, k), g->dfirst_mean = hs_mean(d0, k), g->dlast_mean = hs_mean(dl, k);
    }
    free(tmp);

    /* ---- labels */
    lab = calloc(ncfg + 1, sizeof *lab);
    hs_str labels = {0};
    for (size_t c = 0; lab && c < ncfg; c++) {
        hs_str_reset(&labels);
        for (size_t k = 0; k < no; k++)
            hs_str_printf(&labels, "%s%s=%s", k ? ", " : "", hs_an_short_name(cols[order[k]].name),
                          cols[order[k]].text[cfgs[c].first]);
        lab[c] = strdup(labels.buf ? labels.buf : "all runs");
    }
    hs_str_free(&labels);

    /* ---- write /analysis/equisep */
    hs_analysis_out *g = NULL;
    if ((rc = hs_analysis_out_open(o->path, "equisep", &g, err)) != HS_OK) goto done;
    double *col = malloc((R + ncfg + 1) * sizeof *col);
    int *icol = malloc((R + ncfg + 1) * sizeof *icol);
    signed char *flags = malloc(R + 1);
    int oom = !col || !icol || !flags || !lab;
    for (int f = 0; !oom && f < 8; f++) {
        for (size_t r = 0; r < R; r++) col[r] = fits[r * N_F + f];
        hs_aout_f64(g, fit_names[f], 1, &R, col);
    }
    for (size_t r = 0; !oom && r < R; r++)
        icol[r] = (int)fits[r * N_F + F_NLAYERS], flags[r] = (signed char)fits[r * N_F + F_FLAG];
    if (!oom) {
        hs_aout_i32(g, "n_layers", 1, &R, icol);
        hs_aout_i8(g, "flag", R, flags);
        hs_aout_i32(g, "config", 1, &R, run_cfg);
        hs_aout_strs(g, "label", ncfg, (const char *const *)lab);
    }
#define CFG_INT(field, name)                                                                                          \
    for (size_t c = 0; c < ncfg; c++) icol[c] = (int)cfgs[c].field;                                                   \
    hs_aout_i32(g, name, 1, &ncfg, icol)
#define CFG_DBL(field, name)                                                                                          \
    for (size_t c = 0; c < ncfg; c++) col[c] = cfgs[c].field;                                                         \
    hs_aout_f64(g, name, 1, &ncfg, col)
    if (!oom) {
        CFG_INT(n_runs, "n_runs");
        CFG_INT(n_fitted, "n_fitted");
        CFG_INT(n_obey, "n_obey");
        CFG_DBL(rho_mean, "rho_mean");
        CFG_DBL(rho_std, "rho_std");
        CFG_DBL(r_mean, "r_mean");
        CFG_DBL(r_std, "r_std");
        CFG_DBL(half_mean, "half_life_mean");
        CFG_DBL(dfirst_mean, "d_first_mean");
        CFG_DBL(dlast_mean, "d_last_mean");
        hs_aout_attr(g, "", "obey_r", obey);
    }
#undef CFG_INT
#undef CFG_DBL
    free(col), free(icol), free(flags);
    if ((rc = hs_analysis_out_close(g, oom ? HS_ERR_NOMEM : HS_OK, err)) != HS_OK) goto done;

    /* ---- tables: CSV (every key a column) and Markdown */
    hs_str csv = {0}, md = {0};
    for (size_t k = 0; k < no; k++) hs_str_printf(&csv, "%s,", cols[order[k]].name);
    hs_str_printf(&csv,
                  "n_runs,n_fitted,n_obey,rho_mean,rho_std,r_mean,r_std,half_life_mean,d_first_mean,d_last_mean\n");
    hs_str_printf(&md, "|");
    for (size_t k = 0; k < no; k++) hs_str_printf(&md, " %s |", hs_an_short_name(cols[order[k]].name));
    hs_str_printf(&md, " runs | rho | r | obey (r <= %g) | half-life | D_0 | D_last |\n|", obey);
    for (size_t k = 0; k < no + 7; k++) hs_str_printf(&md, "---|");
    hs_str_printf(&md, "\n");
    for (size_t c = 0; c < ncfg; c++) {
        const config *q = &cfgs[c];
        hs_str_printf(&md, "|");
        for (size_t k = 0; k < no; k++) {
            const char *v = cols[order[k]].text[q->first];
            hs_an_csv_put(&csv, v, 0);
            hs_str_append(&csv, ",", 1);
            hs_str_printf(&md, " %s |", v);
        }
        hs_str_printf(&csv, "%zu,%zu,%zu,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", q->n_runs, q->n_fitted, q->n_obey,
                      q->rho_mean, q->rho_std, q->r_mean, q->r_std, q->half_mean, q->dfirst_mean, q->dlast_mean);
        char rho[80], rr[80];
        fmt_pm(rho, sizeof rho, q->rho_mean, q->rho_std, "%.3f");
        fmt_pm(rr, sizeof rr, q->r_mean, q->r_std, "%.4f");
        hs_str_printf(&md, " %zu/%zu | %s | %s | %zu/%zu | %.2f | %.4g | %.4g |\n", q->n_fitted, q->n_runs, rho, rr,
                      q->n_obey, q->n_fitted, q->half_mean, q->dfirst_mean, q->dlast_mean);
    }
    rc = hs_an_write_tables(o, "equisep", &csv, &md, err);
    if (table && rc == HS_OK) hs_str_append(table, md.buf, md.len);
    hs_str_free(&csv), hs_str_free(&md);

done:
    for (size_t c = 0; lab && c < ncfg; c++) free(lab[c]);
    free(lab);
    hs_an_columns_free(cols, ncols, R);
    free(cfgs), free(run_cfg), free(fits), free(ri.finished);
    g_cols = NULL, g_order = NULL, g_ncols = 0;
    /* rank 0's outcome is everyone's */
    int code = (int)rc;
    MPI_Bcast(&code, 1, MPI_INT, 0, comm);
    if (rank != 0 && code != HS_OK) rc = HS_FAIL(err, (hs_code)code, "rank 0 failed to write the analysis");
    double sv[7] = {(double)s->runs, (double)s->finished, (double)s->fitted, (double)s->flagged,
                    (double)s->unfinished, (double)s->configs, (double)s->obey};
    MPI_Bcast(sv, 7, MPI_DOUBLE, 0, comm);
    s->runs = (size_t)sv[0], s->finished = (size_t)sv[1], s->fitted = (size_t)sv[2], s->flagged = (size_t)sv[3];
    s->unfinished = (size_t)sv[4], s->configs = (size_t)sv[5], s->obey = (size_t)sv[6];
    return rc;
}

/* ================================================================ the registry entry */

/* The fallback: any results file gets the equi-separation analysis when nothing else applies. */
static int equisep_applies(const hs_results_reader *rd) {
    (void)rd;
    return 1;
}

static hs_code equisep_run(MPI_Comm comm, const hs_analyze_opts *o, hs_str *summary, hs_str *table, hs_error *err) {
    hs_analyze_summary s;
    HS_TRY(err, hs_analyze_equisep(comm, o, &s, table, err));
    hs_str_printf(summary,
                  "%s: %zu runs, %zu finished, %zu fitted, %zu flagged (zero or non-finite D, or none recorded); "
                  "%zu configurations; %zu of %zu fitted runs obey the law (r <= %g)\n",
                  o->path, s.runs, s.finished, s.fitted, s.flagged, s.configs, s.obey, s.fitted,
                  o->obey_r != 0 ? o->obey_r : -0.99);
    if (s.unfinished)
        hs_str_printf(summary, "%zu runs are not finished (pending, running or failed): analysed the finished ones\n",
                      s.unfinished);
    return HS_OK;
}

const hs_analysis hs_analysis_equisep = {
    .name = "equisep",
    .doc = "equi-separation: OLS of ln D_l on l per run (/layers/separation), rho and r per configuration",
    .applies = equisep_applies,
    .run = equisep_run,
};
