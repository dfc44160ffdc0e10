/* dynamics.c - the learning-dynamics analysis of a results file (see include/hsweep/analysis.h
 * for what is computed and stored, dynamics.h for how its parts share the work).
 *
 * Two phases, as equisep.c and srhm.c. Collective: every rank opens the file through the store's
 * reader, reads its own block of runs' records, per-layer weights and series, and reduces each
 * run to one fixed-stride row of numbers (the same stride on every rank, from the file's shapes);
 * the rows are gathered on rank 0 (which also reads the run table) and the file is closed by all.
 * Rank 0 alone: groups runs into configurations, aggregates over seeds, writes /analysis/dynamics
 * back into the file (hs_analysis_out, after the collective close) and the tables. Rank 0's
 * outcome is broadcast so every rank returns the same code. Nothing aborts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamics.h"
#include "hsweep/metrics.h"
#include "hsweep/models.h"
#include "hsweep/schema.h"

static void make_offsets(layout *y) {
    size_t o = N_BASE;
    y->o_wc = o, o += y->L;
    y->o_nc = o, o += y->L;
    y->o_hier = o, o += N_HBASE;
    y->o_t90 = o, o += y->V;
    y->o_gap_step = o, o += y->reps * y->V;
    y->o_gap_max = o, o += y->reps * y->V;
    y->o_gap_final = o, o += y->reps * y->V;
    y->o_dln = o, o += N_DBASE;
    y->o_dm = o, o += y->km * N_DM;
    y->o_dth = o, o += y->NsM * y->km;
    y->o_dstep = o, o += y->NsM;
    y->o_gat = o, o += N_GBASE;
    y->o_gm = o, o += y->kg * N_GM;
    y->o_gh = o, o += y->NsS * y->kg;
    y->o_gin = o, o += y->NsS * y->kg;
    y->o_gout = o, o += y->NsS * y->kg;
    y->o_gep = o, o += y->NsS;
    y->stride = o;
}

/* ================================================================ collective phase */

/* What one rank holds of its block of runs. */
typedef struct block {
    size_t r0, n;
    double *step, *epoch, *train_loss, *test_loss, *train_acc, *test_acc; /* [n x N] */
    double *wn, *wc;                               /* [n x N x L] */
    double *acc, *acc_pt, *gap, *gap_pt;           /* level_acc, center_gap */
    double *ms, *ms_sv, *ms_pt;                    /* mode_strength, mode_svals */
    double *sv, *sv_pt;                            /* singular_values */
} block;

static void block_free(block *b) {
    free(b->step), free(b->epoch), free(b->train_loss), free(b->test_loss), free(b->train_acc), free(b->test_acc);
    free(b->wn), free(b->wc);
    free(b->acc), free(b->acc_pt), free(b->gap), free(b->gap_pt), free(b->ms), free(b->ms_sv), free(b->ms_pt);
    free(b->sv), free(b->sv_pt);
    memset(b, 0, sizeof *b);
}

/* The shapes every rank agrees on (read independently from the same file). */
static int read_layout(const hs_results_reader *rd, layout *y, char *why, size_t wlen, const char *path) {
    memset(y, 0, sizeof *y);
    size_t d[HS_READER_MAX_DIMS], p[HS_READER_MAX_DIMS];
    int nd, np;
    y->R = hs_reader_n_runs(rd);
    if (hs_reader_dims(rd, HS_READ_RECORDS, "step", &nd, d) != HS_OK || nd != 2 || d[0] != y->R)
        return snprintf(why, wlen, "%s: no /records/step [runs x records]", path), -1;
    y->N = d[1];
    if (hs_reader_has(rd, HS_READ_LAYERS, "weight_norm") && hs_reader_has(rd, HS_READ_LAYERS, "weight_change")) {
        if (hs_reader_dims(rd, HS_READ_LAYERS, "weight_norm", &nd, d) != HS_OK || nd != 3 || d[0] != y->R ||
            d[1] != y->N)
            return snprintf(why, wlen, "%s: /layers/weight_norm is not [runs x records x layers]", path), -1;
        y->L = d[2];
    }
#define SERIES(name, want_nd, has, ns)                                                                                 \
    if (hs_reader_has(rd, HS_READ_SERIES, name)) {                                                                     \
        if (hs_reader_dims(rd, HS_READ_SERIES, name, &nd, d) != HS_OK || nd != (want_nd) || d[0] != y->R ||            \
            hs_reader_dims(rd, HS_READ_SERIES_POINT, name, &np, p) != HS_OK || np != 2 || p[0] != y->R ||              \
            p[1] != d[1])                                                                                              \
            return snprintf(why, wlen, "%s: /series/%s is not [runs x points x %d axes]", path, name, (want_nd)-2),    \
                   -1;                                                                                                 \
        y->has = 1, y->ns = d[1];                                                                                      \
    }
    SERIES("level_acc", 3, has_acc, NsH)
    if (y->has_acc) y->V = d[2];
    SERIES("center_gap", 4, has_gap, NsG2)
    if (y->has_gap) {
        y->reps = d[2];
        if (!y->has_acc || d[3] != y->V) y->has_gap = 0, y->reps = 0, y->NsG2 = 0; /* levels from level_acc */
    }
    SERIES("mode_strength", 3, has_modes, NsM)
    if (y->has_modes) y->km = d[2];
    SERIES("mode_svals", 3, has_msvals, NsMS)
    if (y->has_msvals && (!y->has_modes || d[1] != y->NsM || d[2] != y->km))
        return snprintf(why, wlen, "%s: /series/mode_svals and mode_strength differ in shape", path), -1;
    if (y->has_modes && !y->has_msvals) y->has_modes = 0, y->km = 0, y->NsM = 0;
    SERIES("singular_values", 4, has_svals, NsS)
    if (y->has_svals) y->T = d[2], y->kg = d[3];
#undef SERIES
    make_offsets(y);
    return 0;
}

static int read_block(const hs_results_reader *rd, const layout *y, block *b) {
    size_t n = b->n, N = y->N;
    int rc = 0;
    hs_error e = {0};
#define RD(field, table, name, size, cond)                                                                             \
    if (!rc && (cond)) {                                                                                               \
        b->field = malloc(((size) + 1) * sizeof(double));                                                              \
        rc = !b->field || hs_reader_rows(rd, table, name, b->r0, n, b->field, &e) != HS_OK ? -1 : 0;                  \
    }
    RD(step, HS_READ_RECORDS, "step", n * N, 1)
    RD(epoch, HS_READ_RECORDS, "epoch", n * N, hs_reader_has(rd, HS_READ_RECORDS, "epoch"))
    RD(train_loss, HS_READ_RECORDS, "train_loss", n * N, hs_reader_has(rd, HS_READ_RECORDS, "train_loss"))
    RD(test_loss, HS_READ_RECORDS, "test_loss", n * N, hs_reader_has(rd, HS_READ_RECORDS, "test_loss"))
    RD(train_acc, HS_READ_RECORDS, "train_acc", n * N, hs_reader_has(rd, HS_READ_RECORDS, "train_acc"))
    RD(test_acc, HS_READ_RECORDS, "test_acc", n * N, hs_reader_has(rd, HS_READ_RECORDS, "test_acc"))
    RD(wn, HS_READ_LAYERS, "weight_norm", n * N * y->L, y->L)
    RD(wc, HS_READ_LAYERS, "weight_change", n * N * y->L, y->L)
    RD(acc, HS_READ_SERIES, "level_acc", n * y->NsH * y->V, y->has_acc)
    RD(acc_pt, HS_READ_SERIES_POINT, "level_acc", n * y->NsH, y->has_acc)
    RD(gap, HS_READ_SERIES, "center_gap", n * y->NsG2 * y->reps * y->V, y->has_gap)
    RD(gap_pt, HS_READ_SERIES_POINT, "center_gap", n * y->NsG2, y->has_gap)
    RD(ms, HS_READ_SERIES, "mode_strength", n * y->NsM * y->km, y->has_modes)
    RD(ms_sv, HS_READ_SERIES, "mode_svals", n * y->NsM * y->km, y->has_modes)
    RD(ms_pt, HS_READ_SERIES_POINT, "mode_strength", n * y->NsM, y->has_modes)
    RD(sv, HS_READ_SERIES, "singular_values", n * y->NsS * y->T * y->kg, y->has_svals)
    RD(sv_pt, HS_READ_SERIES_POINT, "singular_values", n * y->NsS, y->has_svals)
#undef RD
    return rc;
}

/* Reduce run i of the block (finished or not, its canonical config text) into row [stride]. */
static void analyse_run(const layout *y, const block *b, size_t i, int finished, const char *text, double *row) {
    for (size_t q = 0; q < y->stride; q++) row[q] = NAN;
    row[y->o_hier + H_HAS] = row[y->o_dln + D_HAS] = row[y->o_gat + G_HAS] = 0;
    if (!finished) {
        row[B_FLAG] = HS_DYN_UNFINISHED;
        return;
    }
    hs_train_config c;
    hs_train_layout lay;
    hs_data_shape sh;
    hs_error e = {0};
    hs_canon_config cc;
    if (hs_canon_parse(text, &cc, &e) != HS_OK) {
        row[B_FLAG] = HS_DYN_BAD_CONFIG;
        return;
    }
    hs_code typed = hs_canon_typed(&cc, &c, &e);
    hs_canon_free(&cc);
    if (typed != HS_OK) {
        row[B_FLAG] = HS_DYN_BAD_CONFIG;
        return;
    }
    if (hs_data_shape_of(&c.data, &sh, &e) != HS_OK || hs_train_layout_of(&c, &lay, &e) != HS_OK) {
        row[B_FLAG] = HS_DYN_BAD_CONFIG;
        hs_train_config_free(&c);
        return;
    }
    row[B_FLAG] = HS_DYN_OK;
    size_t N = y->N, L = y->L;
    const double *step = b->step + i * N;
    /* the last record point */
    long last = -1;
    for (size_t t = 0; t < N; t++)
        if (isfinite(step[t])) last = (long)t;
    if (last >= 0) {
        row[B_LAST_STEP] = step[last];
        if (b->train_loss) row[B_TRAIN_LOSS] = b->train_loss[i * N + (size_t)last];
        if (b->test_loss) row[B_TEST_LOSS] = b->test_loss[i * N + (size_t)last];
    }
    row[B_INIT_SCALE] = c.model.init_scales ? c.model.init_scales[0] : NAN;
    row[B_DECAY] = c.weight_decay;
    row[B_XOR] = hs_data_kind_has(&c.data, HS_DATA_KIND_RICH_LAZY);
    /* weights: the last point with a first-layer norm; change of the norm against point 0 */
    if (L) {
        const double *wn = b->wn + i * N * L, *wc = b->wc + i * N * L;
        long t = -1;
        for (size_t p = 0; p < N; p++)
            if (isfinite(wn[p * L])) t = (long)p;
        for (size_t l = 0; t >= 0 && l < L; l++) {
            row[y->o_wc + l] = wc[(size_t)t * L + l];
            double w0 = wn[l], wt = wn[(size_t)t * L + l];
            row[y->o_nc + l] = w0 > 0 ? (wt - w0) / w0 : NAN;
        }
    }
    /* hierarchy */
    if (y->has_acc) {
        const double *acc = b->acc + i * y->NsH * y->V, *pt = b->acc_pt + i * y->NsH;
        size_t nv =
            dyn_hier_levels(acc, pt, y->NsH, y->V, step, N, HS_DYN_ACC_THRESHOLD, HS_DYN_WINDOW, row + y->o_t90);
        if (nv) {
            row[y->o_hier + H_HAS] = 1, row[y->o_hier + H_NLEV] = (double)nv;
            row[y->o_hier + H_COARSE] = dyn_coarse_first(row + y->o_t90, nv);
            if (y->has_gap)
                dyn_hier_gaps(b->gap + i * y->NsG2 * y->reps * y->V, b->gap_pt + i * y->NsG2, y->NsG2, y->reps, y->V,
                              step, N, HS_DYN_WINDOW, row + y->o_gap_step, row + y->o_gap_max, row + y->o_gap_final);
        }
    }
    /* deep linear modes */
    if (y->has_modes) {
        const double *ms = b->ms + i * y->NsM * y->km, *pt = b->ms_pt + i * y->NsM;
        int any = 0;
        for (size_t q = 0; q < y->NsM * y->km && !any; q++) any = isfinite(ms[q]);
        if (any)
            dyn_dln_run(&c, &lay, sh.t_dim > 0 ? sh.t_dim : sh.classes, ms, b->ms_sv + i * y->NsM * y->km, pt, y->NsM,
                    y->km, step, N, row, y);
    }
    /* gated nets */
    if (hs_model_kind_is(c.arch, "gated") && b->epoch && b->train_loss && b->test_loss) {
        if (y->has_svals)
            dyn_gated_run(&c, &lay, &sh, b->sv + i * y->NsS * y->T * y->kg, b->sv_pt + i * y->NsS, y->NsS, y->T,
                          y->kg, b->epoch + i * N, N, row, y);
        dyn_gated_errors(&c, &sh, b->epoch + i * N, b->train_loss + i * N, b->test_loss + i * N,
                         b->train_acc ? b->train_acc + i * N : NULL, b->test_acc ? b->test_acc + i * N : NULL, N, row,
                         y);
        row[y->o_gat + G_TRAIN] = row[B_TRAIN_LOSS], row[y->o_gat + G_TEST] = row[B_TEST_LOSS];
    }
    hs_train_config_free(&c);
}

/* Every rank: layout, states, its block of runs analysed; rank 0 gets rows [R x stride] and the
 * run table (x->cols). Returns 0, or on every rank -1 (not a file this analysis reads) or -2 (I/O
 * failure). */
static int read_and_analyse(MPI_Comm comm, const char *path, ctx *x, unsigned char **state_out, char *why,
                            size_t wlen) {
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    layout *y = &x->y;
    hs_results_reader *rd = NULL;
    hs_error e = {0};
    if (hs_reader_open(comm, path, &rd, &e) != HS_OK) {
        snprintf(why, wlen, "%s", e.msg);
        return -2;
    }
    int rc = read_layout(rd, y, why, wlen, path);
    if (!rc && !y->has_acc && !y->has_modes && !y->has_svals && !y->L)
        snprintf(why, wlen,
                 "%s: no learning-dynamics data (series level_acc, mode_strength, singular_values or /layers/"
                 "weight_norm)",
                 path),
            rc = -1;
    size_t R = y->R;
    unsigned char *state = calloc(R + 1, 1);
    if (!rc && !state) snprintf(why, wlen, "out of memory"), rc = -1;
    for (size_t r = 0; !rc && r < R; r++) state[r] = (unsigned char)hs_reader_state(rd, r);
    if (!rc && rank == 0 && hs_an_config_columns(rd, &x->cols, &x->ncols, &e) != HS_OK)
        snprintf(why, wlen, "%s", e.msg), rc = -2;
    block b = {0};
    size_t r1, per = hs_an_block(R, rank, nranks, &b.r0, &r1);
    b.n = r1 - b.r0;
    double *rows = malloc((b.n * y->stride + 1) * sizeof *rows);
    if (!rc && !rows) snprintf(why, wlen, "out of memory"), rc = -1;
    if (!rc && read_block(rd, y, &b) < 0)
        snprintf(why, wlen, "%s: cannot read rows %zu..%zu", path, b.r0, b.r0 + b.n), rc = -2;
    for (size_t i = 0; !rc && i < b.n; i++)
        analyse_run(y, &b, i, hs_reader_finished(rd, b.r0 + i), hs_reader_config(rd, b.r0 + i),
                    rows + i * y->stride);
    size_t mine = b.n;
    block_free(&b);
    hs_reader_close(rd);

    int all = 0;
    MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm);
    double *allrows = NULL;
    int *counts = NULL, *displs = NULL;
    if (all == 0) {
        counts = malloc((size_t)nranks * sizeof *counts), displs = malloc((size_t)nranks * sizeof *displs);
        allrows = rank == 0 ? malloc((R * y->stride + 1) * sizeof *allrows) : NULL;
        int ok = counts && displs && (rank != 0 || allrows) && R * y->stride < (size_t)1 << 31;
        MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, comm);
        all = all ? 0 : -1;
        if (all) snprintf(why, wlen, "out of memory (or more than 2^31 numbers to gather)");
    } else if (!rc) {
        snprintf(why, wlen, "another rank failed to read %s", path);
    }
    if (all < 0) {
        free(counts), free(displs), free(allrows), free(rows), free(state);
        return all;
    }
    (void)per;
    for (int q = 0; q < nranks; q++) {
        size_t a, e1;
        hs_an_block(R, q, nranks, &a, &e1);
        counts[q] = (int)((e1 - a) * y->stride), displs[q] = (int)(a * y->stride);
    }
    MPI_Gatherv(rows, (int)(mine * y->stride), MPI_DOUBLE, allrows, counts, displs, MPI_DOUBLE, 0, comm);
    free(counts), free(displs), free(rows);
    *state_out = state, x->rows = allrows;
    return 0;
}

/* ================================================================ rank 0: configurations */

static const hs_an_column *g_cols; /* for qsort */
static size_t g_ncols;

static int cmp_run(size_t a, size_t b) { return hs_an_runs_cmp(g_cols, NULL, g_ncols, a, b); }

static int cmp_first(const void *x, const void *y) { return cmp_run(*(const size_t *)x, *(const size_t *)y); }

/* Group the analysed runs by every varying config column but the seeds; labels. */
static hs_code configurations(ctx *x, hs_error *err) {
    hs_code rc = HS_OK;
    g_cols = x->cols, g_ncols = x->ncols;
    x->first = calloc(x->R + 1, sizeof *x->first);
    if (!x->first) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < x->R; r++) {
        if (x->rows[r * x->y.stride + B_FLAG] != HS_DYN_OK) continue;
        size_t c = 0;
        while (c < x->C && cmp_run(x->first[c], r) != 0) c++;
        if (c == x->C) x->first[x->C++] = r;
    }
    qsort(x->first, x->C, sizeof *x->first, cmp_first);
    for (size_t r = 0; r < x->R; r++) {
        x->cfg[r] = -1;
        if (x->rows[r * x->y.stride + B_FLAG] != HS_DYN_OK) continue;
        for (size_t c = 0; c < x->C && x->cfg[r] < 0; c++)
            if (cmp_run(x->first[c], r) == 0) x->cfg[r] = (int)c;
    }
    x->label = calloc(x->C + 1, sizeof *x->label);
    if (!x->label) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    /* A label names the keys that tell the configuration from another of its own data kind: one
     * sweep often holds blocks of different tasks (the gated toy and gated Fashion-MNIST), and a key
     * one block varies (per_class) says nothing about the other. data.kind itself is named where
     * it varies. */
    int kind_col = -1;
    for (size_t k = 0; k < x->ncols; k++)
        if (!strcmp(x->cols[k].name, "data.kind")) kind_col = (int)k;
    hs_str l = {0};
    for (size_t c = 0; c < x->C; c++) {
        hs_str_reset(&l);
        const size_t a = x->first[c];
        int shown = 0;
        for (size_t k = 0; k < x->ncols; k++) {
            const hs_an_column *col = &x->cols[k];
            int varies = (int)k == kind_col;
            for (size_t d = 0; !varies && d < x->C; d++) {
                const size_t b = x->first[d];
                if (kind_col >= 0 && hs_an_runs_cmp(&x->cols[kind_col], NULL, 1, a, b) != 0) continue;
                varies = hs_an_runs_cmp(col, NULL, 1, a, b) != 0;
            }
            if (!varies) continue;
            hs_str_printf(&l, "%s%s=%s", shown++ ? ", " : "", hs_an_short_name(col->name), col->text[a]);
        }
        if (!(x->label[c] = strdup(l.buf ? l.buf : "all runs"))) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    hs_str_free(&l);
    return rc;
}

static void ctx_free(ctx *x) {
    hs_an_columns_free(x->cols, x->ncols, x->R);
    for (size_t c = 0; x->label && c < x->C; c++) free(x->label[c]);
    free(x->label), free(x->first), free(x->cfg), free(x->sel), free(x->tmp), free(x->buf),
        free(x->rows);
    g_cols = NULL, g_ncols = 0;
}

/* The per-run table: one row per run with what every part found. */
static void run_table(const ctx *x, const unsigned char *state, hs_str *csv) {
    const layout *y = &x->y;
    hs_str_printf(csv, "run,config,status,flag,final_train_loss,final_test_loss,init_scale,weight_decay,last_step");
    for (size_t l = 0; l < y->L; l++) hs_str_printf(csv, ",weight_change%zu,norm_change%zu", l, l);
    for (size_t l = 0; l < y->V; l++) hs_str_printf(csv, ",t90_level%zu", l);
    hs_str_printf(csv, ",coarse_first,order\n");
    hs_str o = {0};
    for (size_t r = 0; r < x->R; r++) {
        const double *row = x->rows + r * y->stride;
        hs_str_printf(csv, "%zu,%d,%s,%d,%.10g,%.10g,%.10g,%.10g,%.10g", r, x->cfg[r],
                      hs_run_state_to_string((hs_run_state)state[r]), (int)row[B_FLAG], row[B_TRAIN_LOSS],
                      row[B_TEST_LOSS], row[B_INIT_SCALE], row[B_DECAY], row[B_LAST_STEP]);
        for (size_t l = 0; l < y->L; l++) hs_str_printf(csv, ",%.10g,%.10g", row[y->o_wc + l], row[y->o_nc + l]);
        for (size_t l = 0; l < y->V; l++) hs_str_printf(csv, ",%.10g", row[y->o_t90 + l]);
        hs_str_reset(&o);
        int has = row[y->o_hier + H_HAS] == 1;
        if (has) dyn_order_text(row + y->o_t90, (size_t)row[y->o_hier + H_NLEV], &o);
        hs_str_printf(csv, ",%d,", has ? (int)row[y->o_hier + H_COARSE] : -1);
        hs_an_csv_put(csv, has && o.buf ? o.buf : "", 1);
        hs_str_printf(csv, "\n");
    }
    hs_str_free(&o);
}

hs_code hs_analyze_dynamics(MPI_Comm comm, const hs_analyze_opts *o, hs_analyze_dynamics_summary *s, hs_str *table,
                            hs_error *err) {
    memset(s, 0, sizeof *s);
    int rank;
    MPI_Comm_rank(comm, &rank);
    ctx x = {.part = ""};
    unsigned char *state = NULL;
    char why[1024] = "";
    int got = read_and_analyse(comm, o->path, &x, &state, why, sizeof why);
    if (got < 0) {
        hs_an_columns_free(x.cols, x.ncols, x.y.R);
        return HS_FAIL(err, got == -1 ? HS_ERR_VALUE : HS_ERR_IO, "%s", why);
    }
    hs_code rc = HS_OK;
    hs_str csv = {0}, md = {0}, sub_csv = {0}, sub_md = {0};
    hs_analysis_out *g = NULL;
    x.R = x.y.R;
    if (rank != 0) goto agree;

    s->runs = x.R;
    for (size_t r = 0; r < x.R; r++) {
        int f = (int)x.rows[r * x.y.stride + B_FLAG];
        s->unfinished += f == HS_DYN_UNFINISHED, s->bad_config += f == HS_DYN_BAD_CONFIG, s->analysed += f == HS_DYN_OK;
    }
    x.cfg = calloc(x.R + 1, sizeof *x.cfg);
    x.sel = calloc(x.R + 1, 1);
    x.tmp = malloc((x.R + 1) * sizeof *x.tmp);
    x.buf = malloc((3 * x.R * x.y.stride + 16) * sizeof *x.buf);
    if (!x.cfg || !x.sel || !x.tmp || !x.buf) {
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        goto agree;
    }
    if ((rc = configurations(&x, err)) != HS_OK) goto agree;
    s->configs = x.C;

    /* ---- /analysis/dynamics: per run, per configuration, then one group per part */
    if ((rc = hs_analysis_out_open(o->path, "dynamics", &g, err)) != HS_OK) goto agree;
    int w = dyn_i32(&x, g, "config", x.R, x.cfg) | dyn_runs_i8(&x, g, "flag", B_FLAG);
    w |=
        dyn_runs(&x, g, "final_train_loss", B_TRAIN_LOSS, 1, 0) | dyn_runs(&x, g, "final_test_loss", B_TEST_LOSS, 1, 0);
    w |= dyn_runs(&x, g, "init_scale", B_INIT_SCALE, 1, 0) | dyn_runs(&x, g, "weight_decay", B_DECAY, 1, 0);
    w |= dyn_runs(&x, g, "last_step", B_LAST_STEP, 1, 0);
    if (x.y.L)
        w |= dyn_runs(&x, g, "weight_change", x.y.o_wc, x.y.L, 1) | dyn_runs(&x, g, "norm_change", x.y.o_nc, x.y.L, 1);
    w |= dyn_strs(&x, g, "label", x.C, (const char *const *)x.label);
    hs_str_printf(&md, "# Learning dynamics: %zu runs, %zu analysed, %zu unfinished, %zu configurations\n\n", s->runs,
                  s->analysed, s->unfinished, s->configs);
    int (*const parts[])(ctx *, hs_analysis_out *, hs_str *, hs_str *, hs_analyze_dynamics_summary *) = {
        dyn_stage_hier, dyn_stage_richlazy, dyn_stage_dln, dyn_stage_gated};
    static const char *const part_names[] = {"dynamics-hierarchy", "dynamics-richlazy", "dynamics-dln",
                                             "dynamics-gated"};
    for (int p = 0; p < 4 && !w && rc == HS_OK; p++) {
        hs_str_reset(&sub_csv), hs_str_reset(&sub_md);
        w |= parts[p](&x, g, &sub_csv, &sub_md, s);
        if (!w && sub_md.len) {
            hs_str_append(&md, sub_md.buf, sub_md.len);
            rc = hs_an_write_tables(o, part_names[p], &sub_csv, &sub_md, err);
        }
    }
    hs_code closed = hs_analysis_out_close(g, HS_OK, err);
    if (rc == HS_OK) rc = closed;
    if (rc != HS_OK) goto agree;
    run_table(&x, state, &csv);
    rc = hs_an_write_tables(o, "dynamics", &csv, &md, err);
    if (table && rc == HS_OK) hs_str_append(table, md.buf, md.len);

agree:;
    hs_str_free(&csv), hs_str_free(&md), hs_str_free(&sub_csv), hs_str_free(&sub_md);
    free(state);
    ctx_free(&x);
    int code = (int)rc;
    MPI_Bcast(&code, 1, MPI_INT, 0, comm);
    if (rank != 0 && code != HS_OK) rc = HS_FAIL(err, (hs_code)code, "rank 0 failed to write the analysis");
    double sv[10] = {(double)s->runs,     (double)s->analysed,  (double)s->unfinished,        (double)s->bad_config,
                     (double)s->configs,  (double)s->hier_runs, (double)s->hier_coarse_first, (double)s->richlazy_runs,
                     (double)s->dln_runs, (double)s->gated_runs};
    MPI_Bcast(sv, 10, MPI_DOUBLE, 0, comm);
    s->runs = (size_t)sv[0], s->analysed = (size_t)sv[1], s->unfinished = (size_t)sv[2], s->bad_config = (size_t)sv[3];
    s->configs = (size_t)sv[4], s->hier_runs = (size_t)sv[5], s->hier_coarse_first = (size_t)sv[6];
    s->richlazy_runs = (size_t)sv[7], s->dln_runs = (size_t)sv[8], s->gated_runs = (size_t)sv[9];
    return rc;
}

/* ================================================================ the registry entry */

/* A run on data with nested label levels, the rich/lazy task or a routing task (the gated nets'
 * data), or a gated net; or a series only these analyses read. */
static int dynamics_run_kind(const hs_train_config *c) {
    hs_data_shape sh;
    hs_error e = {0};
    return hs_data_kind_has(&c->data, HS_DATA_KIND_LABEL_LEVELS) || hs_data_kind_has(&c->data, HS_DATA_KIND_RICH_LAZY) ||
           hs_model_kind_is(c->arch, "gated") ||
           (hs_data_shape_of(&c->data, &sh, &e) == HS_OK && sh.modules >= 1); /* a routing task */
}

static int dynamics_applies(const hs_results_reader *rd) {
    static const char *const series[] = {"level_acc", "mode_strength", "singular_values"};
    for (size_t k = 0; k < sizeof series / sizeof series[0]; k++)
        if (hs_reader_has(rd, HS_READ_SERIES, series[k])) return 1;
    return hs_an_any_run(rd, dynamics_run_kind);
}

static hs_code dynamics_run(MPI_Comm comm, const hs_analyze_opts *o, hs_str *summary, hs_str *table, hs_error *err) {
    hs_analyze_dynamics_summary s;
    HS_TRY(err, hs_analyze_dynamics(comm, o, &s, table, err));
    hs_str_printf(summary,
                  "%s: learning dynamics of %zu runs (%zu analysed, %zu unfinished, %zu with an unreadable config): "
                  "%zu configurations; hierarchy %zu runs (%zu coarse first), rich/lazy %zu, deep linear %zu, "
                  "gated %zu\n",
                  o->path, s.runs, s.analysed, s.unfinished, s.bad_config, s.configs, s.hier_runs, s.hier_coarse_first,
                  s.richlazy_runs, s.dln_runs, s.gated_runs);
    return HS_OK;
}

const hs_analysis hs_analysis_dynamics = {
    .name = "dynamics",
    .doc = "learning dynamics beside theory: hierarchy levels, rich vs lazy, deep linear and gated nets",
    .applies = dynamics_applies,
    .run = dynamics_run,
};
