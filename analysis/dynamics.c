/* dynamics.c - the learning-dynamics analysis of a results file (issue 8; see
 * include/hsweep/analysis.h for what is computed and stored).
 *
 * Two phases, as equisep.c and srhm.c. Collective: every rank opens the file through MPI-IO,
 * reads the states and configs, its own block of runs' records, per-layer weights and series,
 * and reduces each run to one fixed-stride row of numbers (the same stride on every rank, from
 * the file's dataset shapes); the rows are gathered on rank 0 and the file is closed by all.
 * Rank 0 alone: groups runs into configurations, aggregates over seeds, writes
 * /analysis/dynamics back into the file (serial open, after the collective close) and the
 * tables. Rank 0's outcome is broadcast so every rank returns the same code. Nothing aborts. */
#include <hdf5.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5common.h"
#include "runtable.h"
#include "hsweep/analysis.h"
#include "hsweep/metrics.h"
#include "hsweep/models.h"
#include "hsweep/schema.h"
#include "hsweep/theory.h"
#include "hsweep/train.h"

#define STATE_DONE 2
#define STATE_DIVERGED 4

/* ================================================================ the per-run row
 * Every rank lays a run's results out the same way: offsets from the file's shapes. */

enum { B_FLAG, B_TRAIN_LOSS, B_TEST_LOSS, B_INIT_SCALE, B_DECAY, B_XOR, B_LAST_STEP, N_BASE };
enum { H_HAS, H_COARSE, H_NLEV, N_HBASE };
enum { D_HAS, D_FLAG, D_NLAYERS, D_TAU, N_DBASE };
enum { DM_S, DM_A0, DM_FLAG, DM_DEV, DM_DEV_REL, DM_THALF_SIM, DM_THALF_TH, N_DM };
enum { G_HAS, G_FLAG, G_DT, G_B0, G_M, G_K, G_TRAIN, G_TEST, N_GBASE };
enum { GM_S, GM_FP, GM_FINAL, GM_DIFF, GM_DEV_H, GM_DEV_IN, GM_DEV_OUT, GM_FINAL_IN, GM_FINAL_OUT, N_GM };

typedef struct layout {
    size_t R, N, L;            /* runs, record points, per-layer layers (0 without /layers) */
    size_t V, NsH, NsG2, reps; /* level_acc levels and points, center_gap points and reps */
    size_t km, NsM, NsMS;      /* mode_strength modes and points, mode_svals points */
    size_t T, kg, NsS;         /* singular_values tensors, values and points */
    int has_acc, has_gap, has_modes, has_svals, has_msvals;
    /* offsets into a row */
    size_t o_wc, o_nc, o_hier, o_t90, o_gap_step, o_gap_max, o_gap_final, o_dln, o_dm, o_dth, o_dstep;
    size_t o_gat, o_gm, o_gh, o_gin, o_gout, o_gep, stride;
} layout;

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

/* ================================================================ a run's typed config */

/* Strip the JSON quotes of a canonical string (\" and \\ unescaped) into out. */
static void json_unquote(const char *t, hs_str *out) {
    size_t n = strlen(t);
    if (n < 2 || t[0] != '"' || t[n - 1] != '"') {
        hs_str_printf(out, "%s", t);
        return;
    }
    for (size_t i = 1; i + 1 < n; i++) {
        if (t[i] == '\\' && i + 2 < n) i++;
        hs_str_append(out, t + i, 1);
    }
    if (!out->buf) hs_str_printf(out, "%s", "");
}

/* The typed config of a run from its canonical text: each schema key from the run's line, else
 * its default (lines of keys this build does not know are skipped: a file from another schema
 * version still reads). */
static hs_code run_config(const char *text, hs_train_config *cfg, hs_error *err) {
    size_t K = hs_schema_count();
    hs_value *vals = calloc(K + 1, sizeof *vals);
    const hs_value **ptr = calloc(K + 1, sizeof *ptr);
    char *copy = strdup(text ? text : "");
    hs_code rc = HS_OK;
    if (!vals || !ptr || !copy) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    hs_str v = {0};
    char why[256];
    for (char *line = copy, *nl; rc == HS_OK && line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        char *eq = strchr(line, '=');
        if (!eq) continue; /* the format tag "hsweep/1" */
        *eq = '\0';
        int k = hs_schema_find(line);
        if (k < 0 || ptr[k]) continue;
        hs_str_reset(&v);
        json_unquote(eq + 1, &v);
        if (hs_value_parse(hs_schema_key((size_t)k), v.buf ? v.buf : "", &vals[k], why, sizeof why) != HS_OK)
            rc = HS_FAIL(err, HS_ERR_VALUE, "%s=%s: %s", line, eq + 1, why);
        else ptr[k] = &vals[k];
    }
    for (size_t k = 0; rc == HS_OK && k < K; k++) {
        if (ptr[k]) continue;
        const hs_key *key = hs_schema_key(k);
        if (hs_value_parse(key, key->def, &vals[k], why, sizeof why) != HS_OK)
            rc = HS_FAIL(err, HS_ERR_INTERNAL, "%s: default '%s': %s", key->name, key->def, why);
        else ptr[k] = &vals[k];
    }
    if (rc == HS_OK) rc = hs_train_config_from_values(ptr, cfg, err);
    for (size_t k = 0; vals && k < K; k++)
        if (ptr && ptr[k]) hs_value_free(&vals[k]);
    hs_str_free(&v);
    free(vals), free(ptr), free(copy);
    return rc;
}

/* ================================================================ hierarchy: levels and gaps */

/* Trailing mean of x over the last up to w finite values of stored points 0..j. */
static double trailing(const double *x, size_t stride, size_t j, size_t w) {
    double s = 0;
    size_t n = 0;
    for (size_t i = j + 1; i-- > 0 && j - i < w;) {
        double v = x[i * stride];
        if (isfinite(v)) s += v, n++;
    }
    return n ? s / (double)n : NAN;
}

/* The step of stored point j: /records/step at its record point (NaN when none). */
static double step_of(const double *pt, size_t j, const double *step, size_t N) {
    double p = pt[j];
    if (!(p >= 0) || p >= (double)N) return NAN;
    return step[(size_t)p];
}

/* acc [Ns x V] level accuracies, pt [Ns] their record points; writes t90 [V] (step, NaN never),
 * and returns the run's level count (levels with any finite value). */
static size_t hier_levels(const double *acc, const double *pt, size_t Ns, size_t V, const double *step, size_t N,
                          double thr, size_t w, double *t90) {
    size_t nv = 0;
    for (size_t l = 0; l < V; l++) {
        t90[l] = NAN;
        int any = 0;
        for (size_t j = 0; j < Ns; j++) {
            if (!isfinite(acc[j * V + l]) || !(pt[j] >= 0)) continue;
            any = 1;
            if (trailing(acc + l, V, j, w) >= thr) {
                t90[l] = step_of(pt, j, step, N);
                break;
            }
        }
        if (any) nv = l + 1;
    }
    return nv;
}

/* Coarse before fine: t90 of levels nv-1 (coarsest) .. 0 non-decreasing, never = +inf. */
static int coarse_first(const double *t90, size_t nv) {
    for (size_t l = 0; l + 1 < nv; l++) {
        double fine = isnan(t90[l]) ? INFINITY : t90[l], coarse = isnan(t90[l + 1]) ? INFINITY : t90[l + 1];
        if (coarse > fine) return 0;
    }
    return 1;
}

/* gap [Ns x reps x V]: per (rep, level) the step of the smoothed maximum, that maximum and the
 * last finite raw value. */
static void hier_gaps(const double *gap, const double *pt, size_t Ns, size_t reps, size_t V, const double *step,
                      size_t N, size_t w, double *mstep, double *mval, double *fin) {
    size_t S = reps * V;
    for (size_t q = 0; q < S; q++) {
        mstep[q] = mval[q] = fin[q] = NAN;
        for (size_t j = 0; j < Ns; j++) {
            double v = gap[j * S + q];
            if (!isfinite(v) || !(pt[j] >= 0)) continue;
            fin[q] = v;
            double m = trailing(gap + q, S, j, w);
            if (isnan(mval[q]) || m > mval[q]) mval[q] = m, mstep[q] = step_of(pt, j, step, N);
        }
    }
}

/* ================================================================ deep linear networks */

/* Step where the curve u over steps t (n points) first reaches target, linear in between; NaN
 * when never. */
static double first_reach(const double *t, const double *u, size_t n, double target) {
    for (size_t j = 0; j < n; j++) {
        if (!isfinite(u[j]) || !isfinite(t[j])) continue;
        if (u[j] >= target) {
            if (j == 0 || !isfinite(u[j - 1]) || !isfinite(t[j - 1]) || u[j - 1] >= target) return t[j];
            return t[j - 1] + (target - u[j - 1]) / (u[j] - u[j - 1]) * (t[j] - t[j - 1]);
        }
    }
    return NAN;
}

/* One run's modes: strength [Ns x km], svals [Ns x km] (constant in time), pt [Ns]; fills the
 * run's DLN block of row. */
static void dln_run(const hs_train_config *c, const hs_train_layout *lay, int n_out, const double *str,
                    const double *sv, const double *pt, size_t Ns, size_t km, const double *step, size_t N, double *row,
                    const layout *y) {
    double *b = row + y->o_dln, *m = row + y->o_dm, *th = row + y->o_dth, *ts = row + y->o_dstep;
    int flag = 0;
    if (c->loss != HS_LOSS_MSE) flag |= HS_DYN_DLN_NOT_MSE;
    if (lay->steps_per_epoch != 1) flag |= HS_DYN_DLN_NOT_FULL_BATCH;
    if (!hs_model_kind_is(c->arch, "mlp") || c->model.act != HS_ACT_IDENTITY || c->model.norm != HS_NORM_NONE || c->model.bias)
        flag |= HS_DYN_DLN_NOT_LINEAR;
    if (c->schedule.kind != HS_SCHED_STEP || c->schedule.n_drops || c->optim.kind != HS_OPT_SGD || c->weight_decay != 0)
        flag |= HS_DYN_DLN_NOT_PLAIN_SGD;
    if (c->model.init != HS_INIT_BALANCED) flag |= HS_DYN_DLN_UNALIGNED;
    if (!c->data.zca) flag |= HS_DYN_DLN_NOT_WHITENED;
    int nl = c->model.n_hidden + 2; /* layers of units */
    double tau = hs_dln_tau(HS_DLN_LOSS_MSE, n_out, c->schedule.lr);
    b[D_HAS] = 1, b[D_FLAG] = flag, b[D_NLAYERS] = nl, b[D_TAU] = tau;
    /* the points with a step; time runs from the first one */
    size_t n = 0;
    double *t = malloc((Ns + 1) * sizeof *t), *u = malloc((Ns + 1) * sizeof *u), *a = malloc((Ns + 1) * sizeof *a);
    double *rel = malloc((Ns + 1) * sizeof *rel);
    size_t *idx = malloc((Ns + 1) * sizeof *idx);
    if (!t || !u || !a || !rel || !idx) {
        free(t), free(u), free(a), free(rel), free(idx);
        return;
    }
    for (size_t j = 0; j < Ns; j++) {
        double s = step_of(pt, j, step, N);
        ts[j] = s;
        if (isfinite(s)) t[n] = s, idx[n++] = j;
    }
    for (size_t k = 0; k < km; k++) {
        double *mk = m + k * N_DM;
        for (int f = 0; f < N_DM; f++) mk[f] = NAN;
        double s = NAN;
        for (size_t j = 0; j < Ns && isnan(s); j++)
            if (isfinite(sv[j * km + k])) s = sv[j * km + k];
        if (n == 0 || !(s > 0) || !isfinite(str[idx[0] * km + k])) {
            mk[DM_FLAG] = HS_DYN_MODE_NO_DATA;
            continue;
        }
        double a0 = str[idx[0] * km + k], t0 = t[0];
        mk[DM_S] = s, mk[DM_A0] = a0;
        for (size_t i = 0; i < n; i++) u[i] = str[idx[i] * km + k];
        mk[DM_THALF_SIM] = first_reach(t, u, n, 0.5 * s);
        if (!(a0 > 0)) { /* zero or negative start: no sigmoid to compare with */
            mk[DM_FLAG] = HS_DYN_MODE_NEGATIVE_START;
            continue;
        }
        mk[DM_FLAG] = a0 < 1e-6 * s ? HS_DYN_MODE_TINY_START : HS_DYN_MODE_OK;
        hs_error e = {0};
        if (nl == 3) {
            for (size_t i = 0; i < n; i++) a[i] = hs_dln_strength(s, a0, t[i] - t0, tau);
            mk[DM_THALF_TH] = a0 < 0.5 * s ? t0 + hs_dln_time_to_learn(s, a0, 0.5 * s, tau) : t0;
        } else {
            for (size_t i = 0; i < n; i++) a[i] = NAN, rel[i] = t[i] - t0;
            double dt = fmin(1.0, 0.01 * tau / s); /* RK4 steps well below the fastest time scale tau / s */
            if (hs_dln_deep(nl, s, a0, tau, HS_ODE_RK4, dt, rel, (int)n, a, &e) != HS_OK)
                mk[DM_FLAG] = HS_DYN_MODE_ODE_FAILED;
            mk[DM_THALF_TH] = first_reach(t, a, n, 0.5 * s); /* on the record grid, linear in between */
        }
        double dev = NAN;
        for (size_t i = 0; i < n; i++) {
            th[idx[i] * km + k] = a[i];
            double d = fabs(u[i] - a[i]);
            if (isfinite(d) && (isnan(dev) || d > dev)) dev = d;
        }
        mk[DM_DEV] = dev, mk[DM_DEV_REL] = dev / s;
    }
    free(t), free(u), free(a), free(rel), free(idx);
}

/* ================================================================ gated networks */

/* The toy task's targets (data.h, gated_toy): Y [4 items x 7 features]. */
static const double toy_y[4][7] = {
    {6, 4, 0, 3, 0, 0, 0}, {6, 4, 0, 0, 3, 0, 0}, {6, 0, 4, 0, 0, 3, 0}, {6, 0, 4, 0, 0, 0, 3}};

/* Singular values of Sigma_yx = Y^T X summed over the items (X = I_4: those of Y), descending. */
static int toy_svals(double s[4]) {
    double a[28], u[1], vt[1], sup[4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 7; j++) a[i * 7 + j] = toy_y[i][j];
    return LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', 4, 7, a, 7, s, u, 1, vt, 1, sup) == 0 ? 0 : -1;
}

/* One gated run: sv [Ns x T x kg] singular values of every weight (tensor order Win_0..,
 * Wh = M, Wout_0 = M + 1, ..), pt [Ns], epochs [N]; fills the run's gated block of row. */
static void gated_run(const hs_train_config *c, const hs_train_layout *lay, const hs_data_shape *sh, const double *sv,
                      const double *pt, size_t Ns, size_t T, size_t kg, const double *epoch, size_t N, double *row,
                      const layout *y) {
    double *b = row + y->o_gat, *m = row + y->o_gm, *oh = row + y->o_gh, *oi = row + y->o_gin, *oo = row + y->o_gout;
    double *ep = row + y->o_gep;
    int M = c->data.modules, K = c->data.active, flag = 0;
    if (!hs_data_kind_has(&c->data, HS_DATA_KIND_GATED_THEORY)) flag |= HS_DYN_GATED_NO_THEORY;
    if (lay->steps_per_epoch != 1) flag |= HS_DYN_GATED_NOT_FULL_BATCH;
    if (c->model.init != HS_INIT_BALANCED) flag |= HS_DYN_GATED_UNALIGNED;
    if (c->schedule.kind != HS_SCHED_STEP || c->schedule.n_drops || c->optim.kind != HS_OPT_SGD || c->weight_decay != 0)
        flag |= HS_DYN_GATED_NOT_PLAIN_SGD;
    if (c->loss != HS_LOSS_MSE) flag |= HS_DYN_GATED_NOT_MSE;
    if ((size_t)(2 * M + 1) > T) flag |= HS_DYN_GATED_NO_THEORY;
    double b0 = c->model.init_scales[0];
    double dt = hs_gated_epoch_time(c->schedule.lr, (double)M * K, sh->n_train, sh->t_dim, M);
    b[G_HAS] = 1, b[G_FLAG] = flag, b[G_DT] = dt, b[G_B0] = b0, b[G_M] = M, b[G_K] = K;
    double s[4] = {NAN, NAN, NAN, NAN};
    if (!(flag & HS_DYN_GATED_NO_THEORY) && toy_svals(s) < 0) flag |= HS_DYN_GATED_NO_THEORY, b[G_FLAG] = flag;
    size_t n = 0, *idx = malloc((Ns + 1) * sizeof *idx);
    double *times = malloc((Ns + 1) * sizeof *times);
    hs_gated_strength *traj = malloc((Ns + 1) * sizeof *traj);
    if (!idx || !times || !traj) {
        free(idx), free(times), free(traj);
        return;
    }
    for (size_t j = 0; j < Ns; j++) {
        double e = step_of(pt, j, epoch, N);
        ep[j] = e;
        if (isfinite(e)) times[n] = e * dt, idx[n++] = j;
    }
    size_t Mh = (size_t)M, Mo = (size_t)M + 1;
    for (size_t k = 0; k < kg; k++) {
        double *mk = m + k * N_GM;
        for (int f = 0; f < N_GM; f++) mk[f] = NAN;
        /* the last stored point's singular values of Wh, Win_0 and Wout_0 */
        for (size_t i = n; i-- > 0;) {
            const double *p = sv + idx[i] * T * kg;
            if (Mh < T && isfinite(p[Mh * kg + k])) {
                mk[GM_FINAL] = p[Mh * kg + k], mk[GM_FINAL_IN] = p[k];
                mk[GM_FINAL_OUT] = Mo < T ? p[Mo * kg + k] : NAN;
                break;
            }
        }
        if ((flag & HS_DYN_GATED_NO_THEORY) || k >= 4 || n == 0 || !(b0 > 0)) continue;
        mk[GM_S] = s[k];
        hs_error e = {0};
        double bh;
        if (hs_gated_fixed_point(M, s[k], b0, &bh, &e) == HS_OK) mk[GM_FP] = bh, mk[GM_DIFF] = mk[GM_FINAL] - bh;
        hs_gated_strength st = {b0, b0, b0};
        for (size_t i = 0; i < n; i++) traj[i] = (hs_gated_strength){NAN, NAN, NAN};
        hs_gated_ode(M, K, s[k], st, HS_ODE_EULER, dt, times, (int)n, traj, &e); /* reports before a blow-up are kept */
        double dh = NAN, di = NAN, dout = NAN;
        for (size_t i = 0; i < n; i++) {
            const double *p = sv + idx[i] * T * kg;
            size_t j = idx[i];
            oh[j * kg + k] = traj[i].h, oi[j * kg + k] = traj[i].in, oo[j * kg + k] = traj[i].out;
            double x = fabs(p[Mh * kg + k] - traj[i].h), xi = fabs(p[k] - traj[i].in),
                   xo = fabs(p[Mo * kg + k] - traj[i].out);
            if (isfinite(x) && (isnan(dh) || x > dh)) dh = x;
            if (isfinite(xi) && (isnan(di) || xi > di)) di = xi;
            if (isfinite(xo) && (isnan(dout) || xo > dout)) dout = xo;
        }
        mk[GM_DEV_H] = dh, mk[GM_DEV_IN] = di, mk[GM_DEV_OUT] = dout;
    }
    free(idx), free(times), free(traj);
}

/* ================================================================ collective phase */

/* Shape of dataset name: its rank (<= 5) into *nd and dims; 0 when it exists, -1 when not. */
static int ds_dims(hid_t file, const char *name, int *nd, hsize_t *dims) {
    *nd = 0;
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0) return -1;
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    int n = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    int rc = n >= 1 && n <= 5 && H5Sget_simple_extent_dims(sp, dims, NULL) >= 0 ? 0 : -1;
    *nd = rc ? 0 : n;
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* Does the group at path exist (its parents too)? */
static int exists(hid_t file, const char *path) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        if (H5Lexists(file, buf, H5P_DEFAULT) <= 0) return 0;
        *p = '/';
    }
    return H5Lexists(file, buf, H5P_DEFAULT) > 0;
}

/* Rows r0 .. r0 + n of dataset name [R x ...] as doubles into buf. 0 or -1. */
static int read_rows(hid_t file, const char *name, size_t r0, size_t n, double *buf) {
    if (n == 0) return 0;
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    hsize_t dims[5], start[5] = {0}, count[5];
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1, rc = -1;
    if (nd >= 1 && nd <= 5 && H5Sget_simple_extent_dims(sp, dims, NULL) >= 0) {
        for (int d = 0; d < nd; d++) count[d] = dims[d];
        start[0] = r0, count[0] = n;
        hid_t ms = H5Screate_simple(nd, count, NULL);
        if (ms >= 0 && H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
            H5Dread(ds, H5T_NATIVE_DOUBLE, ms, sp, H5P_DEFAULT, buf) >= 0)
            rc = 0;
        if (ms >= 0) H5Sclose(ms);
    }
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* /runs/config (fixed-length strings) into text[R] (each owned). 0 or -1. */
static int read_config_texts(hid_t file, size_t R, char **text) {
    hid_t ds = H5Dopen2(file, "/runs/config", H5P_DEFAULT);
    hid_t t = ds >= 0 ? H5Dget_type(ds) : -1;
    int rc = t < 0 || H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) > 0 ? -1 : 0;
    size_t w = rc ? 0 : H5Tget_size(t);
    char *buf = rc ? NULL : calloc(R + 1, w + 1);
    hid_t mt = rc ? -1 : H5Tcopy(t);
    if (!rc && (!buf || mt < 0 || H5Tset_size(mt, w + 1) < 0 || H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
                (R && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)))
        rc = -1;
    for (size_t r = 0; !rc && r < R; r++)
        if (!(text[r] = strdup(buf + r * (w + 1)))) rc = -1;
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    if (t >= 0) H5Tclose(t);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* The shapes every rank agrees on (read independently from the same file). */
static int read_layout(hid_t file, layout *y, char *why, size_t wlen, const char *path) {
    memset(y, 0, sizeof *y);
    hsize_t d[5];
    int nd;
    if (ds_dims(file, "/runs/status", &nd, d) < 0 || nd != 1)
        return snprintf(why, wlen, "%s: not an hsweep results file (no /runs/status)", path), -1;
    y->R = d[0];
    if (ds_dims(file, "/records/step", &nd, d) < 0 || nd != 2 || d[0] != y->R)
        return snprintf(why, wlen, "%s: no /records/step [runs x records]", path), -1;
    y->N = d[1];
    if (exists(file, "/layers/weight_norm") && exists(file, "/layers/weight_change")) {
        if (ds_dims(file, "/layers/weight_norm", &nd, d) < 0 || nd != 3 || d[0] != y->R || d[1] != y->N)
            return snprintf(why, wlen, "%s: /layers/weight_norm is not [runs x records x layers]", path), -1;
        y->L = d[2];
    }
    hsize_t p[5];
    int np;
#define SERIES(name, want_nd, has, ns)                                                                                 \
    if (exists(file, "/series/" name "/values") && exists(file, "/series/" name "/point")) {                           \
        if (ds_dims(file, "/series/" name "/values", &nd, d) < 0 || nd != (want_nd) || d[0] != y->R ||                 \
            ds_dims(file, "/series/" name "/point", &np, p) < 0 || np != 2 || p[0] != y->R || p[1] != d[1])            \
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

/* What one rank holds of its block of runs. */
typedef struct block {
    size_t r0, n;
    double *step, *epoch, *train_loss, *test_loss; /* [n x N] */
    double *wn, *wc;                               /* [n x N x L] */
    double *acc, *acc_pt, *gap, *gap_pt;           /* level_acc, center_gap */
    double *ms, *ms_sv, *ms_pt;                    /* mode_strength, mode_svals */
    double *sv, *sv_pt;                            /* singular_values */
} block;

static void block_free(block *b) {
    free(b->step), free(b->epoch), free(b->train_loss), free(b->test_loss), free(b->wn), free(b->wc);
    free(b->acc), free(b->acc_pt), free(b->gap), free(b->gap_pt), free(b->ms), free(b->ms_sv), free(b->ms_pt);
    free(b->sv), free(b->sv_pt);
    memset(b, 0, sizeof *b);
}

static int read_block(hid_t file, const layout *y, block *b) {
    size_t n = b->n, N = y->N;
    int rc = 0;
#define RD(field, name, size, cond)                                                                                    \
    if (!rc && (cond)) {                                                                                               \
        b->field = malloc(((size) + 1) * sizeof(double));                                                              \
        rc = !b->field || read_rows(file, name, b->r0, n, b->field) < 0 ? -1 : 0;                                      \
    }
    RD(step, "/records/step", n * N, 1)
    RD(epoch, "/records/epoch", n * N, exists(file, "/records/epoch"))
    RD(train_loss, "/records/train_loss", n * N, exists(file, "/records/train_loss"))
    RD(test_loss, "/records/test_loss", n * N, exists(file, "/records/test_loss"))
    RD(wn, "/layers/weight_norm", n * N * y->L, y->L)
    RD(wc, "/layers/weight_change", n * N * y->L, y->L)
    RD(acc, "/series/level_acc/values", n * y->NsH * y->V, y->has_acc)
    RD(acc_pt, "/series/level_acc/point", n * y->NsH, y->has_acc)
    RD(gap, "/series/center_gap/values", n * y->NsG2 * y->reps * y->V, y->has_gap)
    RD(gap_pt, "/series/center_gap/point", n * y->NsG2, y->has_gap)
    RD(ms, "/series/mode_strength/values", n * y->NsM * y->km, y->has_modes)
    RD(ms_sv, "/series/mode_svals/values", n * y->NsM * y->km, y->has_modes)
    RD(ms_pt, "/series/mode_strength/point", n * y->NsM, y->has_modes)
    RD(sv, "/series/singular_values/values", n * y->NsS * y->T * y->kg, y->has_svals)
    RD(sv_pt, "/series/singular_values/point", n * y->NsS, y->has_svals)
#undef RD
    return rc;
}

/* Reduce run i of the block (config text, state) into row [stride]. */
static void analyse_run(const layout *y, const block *b, size_t i, int state, const char *text, double *row) {
    for (size_t q = 0; q < y->stride; q++) row[q] = NAN;
    row[y->o_hier + H_HAS] = row[y->o_dln + D_HAS] = row[y->o_gat + G_HAS] = 0;
    if (state != STATE_DONE && state != STATE_DIVERGED) {
        row[B_FLAG] = HS_DYN_UNFINISHED;
        return;
    }
    hs_train_config c;
    hs_train_layout lay;
    hs_data_shape sh;
    hs_error e = {0};
    if (run_config(text, &c, &e) != HS_OK) {
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
        size_t nv = hier_levels(acc, pt, y->NsH, y->V, step, N, HS_DYN_ACC_THRESHOLD, HS_DYN_WINDOW, row + y->o_t90);
        if (nv) {
            row[y->o_hier + H_HAS] = 1, row[y->o_hier + H_NLEV] = (double)nv;
            row[y->o_hier + H_COARSE] = coarse_first(row + y->o_t90, nv);
            if (y->has_gap)
                hier_gaps(b->gap + i * y->NsG2 * y->reps * y->V, b->gap_pt + i * y->NsG2, y->NsG2, y->reps, y->V, step,
                          N, HS_DYN_WINDOW, row + y->o_gap_step, row + y->o_gap_max, row + y->o_gap_final);
        }
    }
    /* deep linear modes */
    if (y->has_modes) {
        const double *ms = b->ms + i * y->NsM * y->km, *pt = b->ms_pt + i * y->NsM;
        int any = 0;
        for (size_t q = 0; q < y->NsM * y->km && !any; q++) any = isfinite(ms[q]);
        if (any)
            dln_run(&c, &lay, sh.t_dim > 0 ? sh.t_dim : sh.classes, ms, b->ms_sv + i * y->NsM * y->km, pt, y->NsM,
                    y->km, step, N, row, y);
    }
    /* gated nets */
    if (y->has_svals && hs_model_kind_is(c.arch, "gated") && b->epoch) {
        gated_run(&c, &lay, &sh, b->sv + i * y->NsS * y->T * y->kg, b->sv_pt + i * y->NsS, y->NsS, y->T, y->kg,
                  b->epoch + i * N, N, row, y);
        row[y->o_gat + G_TRAIN] = row[B_TRAIN_LOSS], row[y->o_gat + G_TEST] = row[B_TEST_LOSS];
    }
    hs_train_config_free(&c);
}

/* Every rank: layout, states, configs, its block of runs analysed; rank 0 gets rows [R x stride].
 * Returns 0, or on every rank -1 (not a file this stage reads) or -2 (I/O failure). */
static int read_and_analyse(MPI_Comm comm, const char *path, layout *y, unsigned char **state_out, char ***text_out,
                            double **rows_out, char *why, size_t wlen) {
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    hid_t file = hs_an_open_mpio(comm, path);
    int rc = 0;
    if (file < 0) snprintf(why, wlen, "%s: cannot open as an HDF5 file", path), rc = -2;
    if (!rc) rc = read_layout(file, y, why, wlen, path);
    if (!rc && !y->has_acc && !y->has_modes && !y->has_svals && !y->L)
        snprintf(why, wlen,
                 "%s: no learning-dynamics data (series level_acc, mode_strength, singular_values or "
                 "/layers/weight_norm)",
                 path),
            rc = -1;
    size_t R = y->R;
    unsigned char *state = calloc(R + 1, 1);
    char **text = calloc(R + 1, sizeof *text);
    if (!rc && (!state || !text)) snprintf(why, wlen, "out of memory"), rc = -1;
    if (!rc) {
        hid_t st = H5Dopen2(file, "/runs/status", H5P_DEFAULT);
        if (st < 0 || (R && H5Dread(st, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, state) < 0))
            snprintf(why, wlen, "%s: cannot read /runs/status", path), rc = -2;
        if (st >= 0) H5Dclose(st);
    }
    if (!rc && read_config_texts(file, R, text) < 0) snprintf(why, wlen, "%s: cannot read /runs/config", path), rc = -2;
    /* my block: the same split on every rank, so the gather needs no exchange */
    size_t per = (R + (size_t)nranks - 1) / (size_t)nranks;
    block b = {0};
    b.r0 = (size_t)rank * per < R ? (size_t)rank * per : R;
    b.n = (b.r0 + per < R ? b.r0 + per : R) - b.r0;
    double *rows = malloc((b.n * y->stride + 1) * sizeof *rows);
    if (!rc && !rows) snprintf(why, wlen, "out of memory"), rc = -1;
    if (!rc && read_block(file, y, &b) < 0)
        snprintf(why, wlen, "%s: cannot read rows %zu..%zu", path, b.r0, b.r0 + b.n), rc = -2;
    for (size_t i = 0; !rc && i < b.n; i++)
        analyse_run(y, &b, i, state[b.r0 + i], text[b.r0 + i], rows + i * y->stride);
    size_t mine = b.n;
    block_free(&b);
    if (file >= 0) H5Fclose(file);

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
        for (size_t r = 0; text && r < R; r++) free(text[r]);
        free(text);
        return all;
    }
    for (int q = 0; q < nranks; q++) {
        size_t a = (size_t)q * per < R ? (size_t)q * per : R, e = a + per < R ? a + per : R;
        counts[q] = (int)((e - a) * y->stride), displs[q] = (int)(a * y->stride);
    }
    MPI_Gatherv(rows, (int)(mine * y->stride), MPI_DOUBLE, allrows, counts, displs, MPI_DOUBLE, 0, comm);
    free(counts), free(displs), free(rows);
    *state_out = state, *text_out = text, *rows_out = allrows;
    return 0;
}

/* ================================================================ rank 0: configurations */

static const hs_an_column *g_cols; /* for qsort */
static size_t g_ncols;

static int cmp_run(size_t a, size_t b) { return hs_an_runs_cmp(g_cols, NULL, g_ncols, a, b); }

static int cmp_first(const void *x, const void *y) { return cmp_run(*(const size_t *)x, *(const size_t *)y); }

/* ================================================================ rank 0: statistics and text */

static void fmt_pm(char *b, size_t n, double m, double s, const char *f) {
    char x[32], y[32];
    if (isnan(m)) {
        snprintf(b, n, "-");
        return;
    }
    snprintf(x, sizeof x, f, m);
    if (isnan(s)) snprintf(b, n, "%s", x);
    else snprintf(y, sizeof y, f, s), snprintf(b, n, "%s +- %s", x, y);
}

static void fmt_g(char *b, size_t n, double x, const char *f) {
    if (isnan(x)) snprintf(b, n, "-");
    else snprintf(b, n, f, x);
}

/* "5,4,3=2,1 (never: 0)": levels in the order their accuracy reaches the threshold (ties at the
 * same step joined by '='), then those that never do. */
static void order_text(const double *t90, size_t nv, hs_str *out) {
    int used[64] = {0};
    size_t n = nv < 64 ? nv : 64, done = 0;
    double prev = NAN;
    while (done < n) {
        long best = -1;
        for (size_t l = n; l-- > 0;) /* coarsest first among equals */
            if (!used[l] && isfinite(t90[l]) && (best < 0 || t90[l] < t90[best])) best = (long)l;
        if (best < 0) break;
        used[best] = 1, done++;
        hs_str_printf(out, "%s%ld", !out->len ? "" : t90[best] == prev ? "=" : ",", best);
        prev = t90[best];
    }
    if (done < n) {
        hs_str_printf(out, "%s(never:", out->len ? " " : "");
        for (size_t l = n; l-- > 0;)
            if (!used[l]) hs_str_printf(out, " %zu", l);
        hs_str_printf(out, ")");
    }
    if (!out->buf) hs_str_printf(out, "%s", "");
}

/* ================================================================ rank 0: writing */

/* Create g/name of shape dims[nd] (float64, or int32 / int8 by ftype) and write buf. */
static int write_nd(hid_t g, const char *name, hid_t ftype, hid_t mtype, int nd, const hsize_t *dims, const void *buf) {
    hsize_t total = 1;
    for (int d = 0; d < nd; d++) total *= dims[d];
    hid_t sp = H5Screate_simple(nd, dims, NULL);
    hid_t ds = sp >= 0 ? H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int ok = ds >= 0 && (total == 0 || H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    if (ds >= 0) H5Dclose(ds);
    if (sp >= 0) H5Sclose(sp);
    return ok ? 0 : -1;
}

static int w_f64(hid_t g, const char *name, int nd, const hsize_t *dims, const double *v) {
    return write_nd(g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, nd, dims, v);
}

static int w_i32(hid_t g, const char *name, size_t n, const int *v) {
    return hs_an_write_ds(g, name, H5T_STD_I32LE, H5T_NATIVE_INT, n, v);
}

static int w_i8(hid_t g, const char *name, size_t n, const signed char *v) {
    return hs_an_write_ds(g, name, H5T_STD_I8LE, H5T_NATIVE_SCHAR, n, v);
}


/* Column q of every run's row, copied into out [R x n] (n consecutive values from offset q). */
static void gather_col(const double *rows, size_t R, size_t stride, size_t q, size_t n, double *out) {
    for (size_t r = 0; r < R; r++) memcpy(out + r * n, rows + r * stride + q, n * sizeof *out);
}

/* ================================================================ the stage */

typedef struct ctx {
    layout y;
    size_t R, C;
    double *rows;      /* [R x stride] */
    int *cfg;          /* [R] configuration of each run, -1 unfinished or bad */
    size_t *first;     /* [C] a representative run */
    char **label;      /* [C] */
    signed char *sel;  /* [R] scratch selection */
    double *tmp, *buf; /* scratch */
    hs_an_column *cols;
    size_t ncols;
} ctx;

/* Mean, std and count over config c's selected runs of row value q. */
static void cstat(const ctx *x, size_t c, size_t q, double *m, double *s, int *n) {
    size_t k = 0;
    for (size_t r = 0; r < x->R; r++)
        if (x->sel[r] && x->cfg[r] == (int)c && isfinite(x->rows[r * x->y.stride + q]))
            x->tmp[k++] = x->rows[r * x->y.stride + q];
    *m = hs_mean(x->tmp, k), *s = hs_std(x->tmp, k, 1), *n = (int)k;
}

static double cmax(const ctx *x, size_t c, size_t q) {
    double v = NAN;
    for (size_t r = 0; r < x->R; r++) {
        double z = x->rows[r * x->y.stride + q];
        if (x->sel[r] && x->cfg[r] == (int)c && isfinite(z) && (isnan(v) || z > v)) v = z;
    }
    return v;
}

static int cflags(const ctx *x, size_t c, size_t q) {
    int f = 0;
    for (size_t r = 0; r < x->R; r++)
        if (x->sel[r] && x->cfg[r] == (int)c && isfinite(x->rows[r * x->y.stride + q]))
            f |= (int)x->rows[r * x->y.stride + q];
    return f;
}

static size_t ccount(const ctx *x, size_t c) {
    size_t n = 0;
    for (size_t r = 0; r < x->R; r++) n += x->sel[r] && x->cfg[r] == (int)c;
    return n;
}

/* sel[r] = 1 for analysed runs whose row value q is 1 (q = SIZE_MAX: every analysed run). */
static size_t select_runs(ctx *x, size_t q) {
    size_t n = 0;
    for (size_t r = 0; r < x->R; r++) {
        const double *row = x->rows + r * x->y.stride;
        x->sel[r] = x->cfg[r] >= 0 && (q == SIZE_MAX || row[q] == 1);
        n += (size_t)x->sel[r];
    }
    return n;
}

/* Per-config mean/std/count arrays [C x n] of row values q0 .. q0 + n - 1 (selected runs). */
static void cstat_block(const ctx *x, size_t q0, size_t n, double *mean, double *sd, int *cnt) {
    for (size_t c = 0; c < x->C; c++)
        for (size_t j = 0; j < n; j++) {
            int k;
            cstat(x, c, q0 + j, &mean[c * n + j], &sd[c * n + j], &k);
            if (cnt) cnt[c * n + j] = k;
        }
}

static hid_t new_group(hid_t parent, const char *name) {
    return H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

/* Per-run values q0 .. q0 + n - 1 as g/name [R x n] (or [R] when n1 = 0). */
static int w_runs(const ctx *x, hid_t g, const char *name, size_t q0, size_t n, int vec) {
    gather_col(x->rows, x->R, x->y.stride, q0, n, x->buf);
    hsize_t d[2] = {x->R, n};
    return w_f64(g, name, vec ? 2 : 1, d, x->buf);
}

/* Per-run mode/level value f of blocks [n x width] starting at q0: g/name [R x n]. */
static int w_runs_strided(const ctx *x, hid_t g, const char *name, size_t q0, size_t n, size_t width, size_t f) {
    for (size_t r = 0; r < x->R; r++)
        for (size_t j = 0; j < n; j++) x->buf[r * n + j] = x->rows[r * x->y.stride + q0 + j * width + f];
    hsize_t d[2] = {x->R, n};
    return w_f64(g, name, 2, d, x->buf);
}

/* A per-run int8 column of row value q (NaN -> -1). */
static int w_runs_i8(const ctx *x, hid_t g, const char *name, size_t q) {
    signed char *v = (signed char *)x->buf;
    for (size_t r = 0; r < x->R; r++) {
        double z = x->rows[r * x->y.stride + q];
        v[r] = isfinite(z) ? (signed char)z : -1;
    }
    return w_i8(g, name, x->R, v);
}

static int w_runs_i32(const ctx *x, hid_t g, const char *name, size_t q) {
    int *v = (int *)x->buf;
    for (size_t r = 0; r < x->R; r++) {
        double z = x->rows[r * x->y.stride + q];
        v[r] = isfinite(z) ? (int)z : -1;
    }
    return w_i32(g, name, x->R, v);
}

/* Per-config stats of values [n] (width-strided field f) under prefix: <p>_mean, <p>_std [C x n]. */
static int w_cfg_stats(const ctx *x, hid_t g, const char *p, size_t q0, size_t n, size_t width, size_t f, int with_n) {
    double *mean = x->buf, *sd = x->buf + x->C * n;
    int *cnt = (int *)(x->buf + 2 * x->C * n);
    for (size_t c = 0; c < x->C; c++)
        for (size_t j = 0; j < n; j++) {
            int k;
            cstat(x, c, q0 + j * width + f, &mean[c * n + j], &sd[c * n + j], &k);
            cnt[c * n + j] = k;
        }
    char name[128];
    hsize_t d[2] = {x->C, n};
    int w = 0;
    snprintf(name, sizeof name, "%s_mean", p), w |= w_f64(g, name, 2, d, mean);
    snprintf(name, sizeof name, "%s_std", p), w |= w_f64(g, name, 2, d, sd);
    if (with_n)
        snprintf(name, sizeof name, "%s_n", p), w |= write_nd(g, name, H5T_STD_I32LE, H5T_NATIVE_INT, 2, d, cnt);
    return w;
}

/* ---------------------------------------------------------------- hierarchy */

static int stage_hier(ctx *x, hid_t top, hs_str *csv, hs_str *md, hs_analyze_dynamics_summary *s) {
    const layout *y = &x->y;
    s->hier_runs = select_runs(x, y->o_hier + H_HAS);
    if (!s->hier_runs) return 0;
    size_t V = y->V, RV = y->reps * V;
    hid_t g = new_group(top, "hierarchy");
    int w = g < 0;
    char **order = calloc(x->R + 1, sizeof *order);
    hs_str t = {0};
    for (size_t r = 0; order && r < x->R; r++) {
        const double *row = x->rows + r * y->stride;
        hs_str_reset(&t);
        if (x->sel[r]) order_text(row + y->o_t90, (size_t)row[y->o_hier + H_NLEV], &t);
        order[r] = strdup(t.buf ? t.buf : "");
        if (x->sel[r] && row[y->o_hier + H_COARSE] == 1) s->hier_coarse_first++;
    }
    w |= !order;
    if (!w) {
        w |= w_runs_i8(x, g, "has", y->o_hier + H_HAS) | w_runs_i8(x, g, "coarse_first", y->o_hier + H_COARSE);
        w |= w_runs_i32(x, g, "n_levels", y->o_hier + H_NLEV) | w_runs(x, g, "t90", y->o_t90, V, 1);
        w |= hs_an_write_strs(g, "order", x->R, (const char *const *)order);
        w |= w_cfg_stats(x, g, "t90", y->o_t90, V, 1, 0, 1);
        int *n = (int *)x->buf;
        for (size_t c = 0; c < x->C; c++) n[c] = (int)ccount(x, c);
        w |= w_i32(g, "n_runs", x->C, n);
        for (size_t c = 0; c < x->C; c++) {
            n[c] = 0;
            for (size_t r = 0; r < x->R; r++)
                n[c] += x->sel[r] && x->cfg[r] == (int)c && x->rows[r * y->stride + y->o_hier + H_COARSE] == 1;
        }
        w |= w_i32(g, "n_coarse_first", x->C, n);
        w |= hs_an_write_attr(g, "threshold", HS_DYN_ACC_THRESHOLD) | hs_an_write_attr(g, "window", HS_DYN_WINDOW);
    }
    if (!w && y->has_gap) {
        hsize_t d3[3] = {x->R, y->reps, V};
        gather_col(x->rows, x->R, y->stride, y->o_gap_step, RV, x->buf), w |= w_f64(g, "gap_max_step", 3, d3, x->buf);
        gather_col(x->rows, x->R, y->stride, y->o_gap_max, RV, x->buf), w |= w_f64(g, "gap_max", 3, d3, x->buf);
        gather_col(x->rows, x->R, y->stride, y->o_gap_final, RV, x->buf), w |= w_f64(g, "gap_final", 3, d3, x->buf);
        hsize_t c3[3] = {x->C, y->reps, V};
        double *m = x->buf, *sd = x->buf + x->C * RV;
        cstat_block(x, y->o_gap_final, RV, m, sd, NULL);
        w |= w_f64(g, "gap_final_mean", 3, c3, m) | w_f64(g, "gap_final_std", 3, c3, sd);
        cstat_block(x, y->o_gap_step, RV, m, sd, NULL);
        w |= w_f64(g, "gap_max_step_mean", 3, c3, m) | w_f64(g, "gap_max_step_std", 3, c3, sd);
    }
    if (g >= 0) H5Gclose(g);

    /* tables: steps to the threshold per level, coarsest first */
    size_t nv = 0;
    for (size_t r = 0; r < x->R; r++)
        if (x->sel[r] && x->rows[r * y->stride + y->o_hier + H_NLEV] > (double)nv)
            nv = (size_t)x->rows[r * y->stride + y->o_hier + H_NLEV];
    hs_str_printf(md,
                  "## Hierarchy: optimiser step where the test accuracy at each level first reaches %.2g\n\n"
                  "Accuracy smoothed by a trailing mean over the last %d stored points; level 0 = leaves, %zu = "
                  "coarsest; mean +- std over seeds (reached/runs). Order: levels as they reach it ('=' same "
                  "step). Coarse first: the coarser level never later than the finer.\n\n| config | runs |",
                  HS_DYN_ACC_THRESHOLD, HS_DYN_WINDOW, nv ? nv - 1 : 0);
    hs_str_printf(csv, "config,label,n_runs");
    for (size_t l = nv; l-- > 0;) {
        hs_str_printf(md, " level %zu |", l);
        hs_str_printf(csv, ",t90_level%zu_mean,t90_level%zu_std,t90_level%zu_n", l, l, l);
    }
    hs_str_printf(md, " coarse first | orders per seed |\n|---|---|");
    hs_str_printf(csv, ",n_coarse_first,orders\n");
    for (size_t l = 0; l < nv + 2; l++) hs_str_printf(md, "---|");
    hs_str_printf(md, "\n");
    for (size_t c = 0; c < x->C; c++) {
        size_t n = ccount(x, c);
        if (!n) continue;
        hs_str_printf(md, "| %s | %zu |", x->label[c], n);
        hs_str_printf(csv, "%zu,\"%s\",%zu", c, x->label[c], n);
        for (size_t l = nv; l-- > 0;) {
            double m, sd;
            int k;
            char b[96];
            cstat(x, c, y->o_t90 + l, &m, &sd, &k);
            fmt_pm(b, sizeof b, m, sd, "%.0f");
            hs_str_printf(md, " %s (%d/%zu) |", b, k, n);
            hs_str_printf(csv, ",%.10g,%.10g,%d", m, sd, k);
        }
        size_t cf = 0;
        hs_str_reset(&t);
        for (size_t r = 0; r < x->R; r++) {
            if (!x->sel[r] || x->cfg[r] != (int)c) continue;
            cf += x->rows[r * y->stride + y->o_hier + H_COARSE] == 1;
            hs_str_printf(&t, "%s%s", t.len ? "; " : "", order[r]);
        }
        hs_str_printf(md, " %zu/%zu | %s |\n", cf, n, t.buf ? t.buf : "");
        hs_str_printf(csv, ",%zu,\"%s\"\n", cf, t.buf ? t.buf : "");
    }
    hs_str_printf(md, "\n");
    if (y->has_gap) {
        hs_str_printf(md,
                      "### Center gaps (cousin minus sibling centroid cosine distance)\n\nPer representation (0 the "
                      "input, 2l+1 hidden layer l's Linear output, 2l+2 its block output, last the logits) and "
                      "level: final value, and in brackets the step of the (smoothed) maximum; means over seeds.\n\n");
        for (size_t c = 0; c < x->C; c++) {
            if (!ccount(x, c)) continue;
            hs_str_printf(md, "%s\n\n| rep |", x->label[c]);
            for (size_t l = 0; l + 1 < nv; l++) hs_str_printf(md, " level %zu |", l);
            hs_str_printf(md, "\n|---|");
            for (size_t l = 0; l + 1 < nv; l++) hs_str_printf(md, "---|");
            hs_str_printf(md, "\n");
            for (size_t q = 0; q < y->reps; q++) {
                hs_str_printf(md, "| %zu |", q);
                for (size_t l = 0; l + 1 < nv; l++) {
                    double m, sd, ms, ss;
                    int k;
                    char b[48], b2[48];
                    cstat(x, c, y->o_gap_final + q * V + l, &m, &sd, &k);
                    cstat(x, c, y->o_gap_step + q * V + l, &ms, &ss, &k);
                    fmt_g(b, sizeof b, m, "%.3f"), fmt_g(b2, sizeof b2, ms, "%.0f");
                    hs_str_printf(md, " %s (%s) |", b, b2);
                }
                hs_str_printf(md, "\n");
            }
            hs_str_printf(md, "\n");
        }
    }
    for (size_t r = 0; order && r < x->R; r++) free(order[r]);
    free(order);
    hs_str_free(&t);
    return w ? -1 : 0;
}

/* ---------------------------------------------------------------- rich vs lazy */

static int stage_richlazy(ctx *x, hid_t top, hs_str *csv, hs_str *md, hs_analyze_dynamics_summary *s) {
    const layout *y = &x->y;
    s->richlazy_runs = select_runs(x, B_XOR);
    if (!s->richlazy_runs || !y->L) return 0;
    size_t L = y->L;
    hid_t g = new_group(top, "richlazy");
    int w = g < 0;
    int *n = (int *)x->buf;
    for (size_t c = 0; c < x->C; c++) n[c] = (int)ccount(x, c);
    if (!w) w |= w_i32(g, "n_runs", x->C, n);
    if (!w) {
        w |= w_cfg_stats(x, g, "train_loss", B_TRAIN_LOSS, 1, 1, 0, 0) |
             w_cfg_stats(x, g, "test_loss", B_TEST_LOSS, 1, 1, 0, 0);
        w |= w_cfg_stats(x, g, "weight_change", y->o_wc, L, 1, 0, 0) |
             w_cfg_stats(x, g, "norm_change", y->o_nc, L, 1, 0, 0);
        w |= w_cfg_stats(x, g, "init_scale", B_INIT_SCALE, 1, 1, 0, 0) |
             w_cfg_stats(x, g, "weight_decay", B_DECAY, 1, 1, 0, 0);
    }
    if (g >= 0) H5Gclose(g);
    hs_str_printf(md,
                  "## Rich vs lazy: final loss and relative weight change per layer\n\n"
                  "dW = |W_l(T) - W_l(0)| / |W_l(0)| (the lazy-regime measure); norm change = (|W_l(T)| - |W_l(0)|) / "
                  "|W_l(0)| (the notebook's change of the norm); layer %zu is the readout; mean +- std over seeds.\n\n"
                  "| config | init scale | weight decay | runs | final train loss |",
                  L - 1);
    hs_str_printf(csv, "config,label,init_scale,weight_decay,n_runs,train_loss_mean,train_loss_std,test_loss_mean,"
                       "test_loss_std");
    for (size_t l = 0; l < L; l++) hs_str_printf(md, " dW layer %zu |", l);
    for (size_t l = 0; l < L; l++) hs_str_printf(md, " norm change layer %zu |", l);
    for (size_t l = 0; l < L; l++) hs_str_printf(csv, ",weight_change%zu_mean,weight_change%zu_std", l, l);
    for (size_t l = 0; l < L; l++) hs_str_printf(csv, ",norm_change%zu_mean,norm_change%zu_std", l, l);
    hs_str_printf(md, "\n|---|---|---|---|---|");
    hs_str_printf(csv, "\n");
    for (size_t l = 0; l < 2 * L; l++) hs_str_printf(md, "---|");
    hs_str_printf(md, "\n");
    for (size_t c = 0; c < x->C; c++) {
        size_t nr = ccount(x, c);
        if (!nr) continue;
        double m, sd, is, isd, wd, wsd, tl, tsd;
        int k;
        char b[96];
        cstat(x, c, B_INIT_SCALE, &is, &isd, &k), cstat(x, c, B_DECAY, &wd, &wsd, &k);
        cstat(x, c, B_TRAIN_LOSS, &m, &sd, &k), cstat(x, c, B_TEST_LOSS, &tl, &tsd, &k);
        fmt_pm(b, sizeof b, m, sd, "%.3g");
        hs_str_printf(md, "| %s | %g | %g | %zu | %s |", x->label[c], is, wd, nr, b);
        hs_str_printf(csv, "%zu,\"%s\",%.10g,%.10g,%zu,%.10g,%.10g,%.10g,%.10g", c, x->label[c], is, wd, nr, m, sd, tl,
                      tsd);
        for (int pass = 0; pass < 2; pass++)
            for (size_t l = 0; l < L; l++) {
                cstat(x, c, (pass ? y->o_nc : y->o_wc) + l, &m, &sd, &k);
                fmt_pm(b, sizeof b, m, sd, "%.3g");
                hs_str_printf(md, " %s |", b);
                hs_str_printf(csv, ",%.10g,%.10g", m, sd);
            }
        hs_str_printf(md, "\n");
        hs_str_printf(csv, "\n");
    }
    hs_str_printf(md, "\n");
    return w ? -1 : 0;
}

/* ---------------------------------------------------------------- deep linear networks */

/* The names of the bits set in f, comma-separated ("" when none): flag bit b is names[b]. */
static void flag_text(int f, const char *const *names, int n, hs_str *out) {
    for (int b = 0; b < n; b++)
        if (f & (1 << b)) hs_str_printf(out, "%s%s", out->len ? ", " : "", names[b]);
    if (!out->buf) hs_str_printf(out, "%s", "");
}

static const char *const dln_flag_names[] = {"not mse",        "not full batch", "not a linear net",
                                             "not plain constant-lr sgd", "unaligned init", "inputs not whitened"};

static int stage_dln(ctx *x, hid_t top, hs_str *csv, hs_str *md, hs_analyze_dynamics_summary *s) {
    const layout *y = &x->y;
    s->dln_runs = select_runs(x, y->o_dln + D_HAS);
    if (!s->dln_runs) return 0;
    size_t k = y->km;
    hid_t g = new_group(top, "dln");
    int w = g < 0;
    if (!w) {
        w |= w_runs_i8(x, g, "has", y->o_dln + D_HAS) | w_runs_i32(x, g, "flag", y->o_dln + D_FLAG);
        w |= w_runs_i32(x, g, "n_layers", y->o_dln + D_NLAYERS) | w_runs(x, g, "tau", y->o_dln + D_TAU, 1, 0);
        static const char *const f[] = {"s",           "a0",         "mode_flag",    "max_dev",
                                        "max_dev_rel", "t_half_sim", "t_half_theory"};
        for (size_t q = 0; q < N_DM; q++) w |= w_runs_strided(x, g, f[q], y->o_dm, k, N_DM, q);
        hsize_t d3[3] = {x->R, y->NsM, k};
        gather_col(x->rows, x->R, y->stride, y->o_dth, y->NsM * k, x->buf), w |= w_f64(g, "theory", 3, d3, x->buf);
        w |= w_runs(x, g, "step", y->o_dstep, y->NsM, 1);
        w |= w_cfg_stats(x, g, "max_dev", y->o_dm, k, N_DM, DM_DEV, 1) |
             w_cfg_stats(x, g, "max_dev_rel", y->o_dm, k, N_DM, DM_DEV_REL, 0);
        w |= w_cfg_stats(x, g, "t_half_sim", y->o_dm, k, N_DM, DM_THALF_SIM, 0);
        w |= w_cfg_stats(x, g, "t_half_theory", y->o_dm, k, N_DM, DM_THALF_TH, 0);
        w |= w_cfg_stats(x, g, "s", y->o_dm, k, N_DM, DM_S, 0);
        int *n = (int *)x->buf;
        for (size_t c = 0; c < x->C; c++) n[c] = (int)ccount(x, c);
        w |= w_i32(g, "n_runs", x->C, n);
        for (size_t c = 0; c < x->C; c++) n[c] = cflags(x, c, y->o_dln + D_FLAG);
        w |= w_i32(g, "flags", x->C, n);
    }
    if (g >= 0) H5Gclose(g);
    hs_str_printf(md, "## Deep linear networks: mode strengths against theory\n\n"
                      "Per mode of Sigma_yx: s, measured start a0, max over record points of |u_sim - a_theory| "
                      "(absolute and / s), and the step where the strength reaches s/2 in simulation and theory; "
                      "tau = N_out / (2 lr) steps (MSE). Theory: the closed form for two weight matrices, the deep ODE "
                      "(RK4) otherwise; none for a0 <= 0. Mean +- std over seeds (runs with a theory / runs).\n\n"
                      "| config | mode | s | a0 | max dev | max dev / s | t_half sim | t_half theory | runs | flags |\n"
                      "|---|---|---|---|---|---|---|---|---|---|\n");
    hs_str_printf(csv, "config,label,mode,s_mean,a0_mean,max_dev_mean,max_dev_std,max_dev_max,max_dev_rel_mean,"
                       "max_dev_rel_max,t_half_sim_mean,t_half_sim_std,t_half_theory_mean,t_half_theory_std,n_theory,"
                       "n_runs,flags\n");
    hs_str ft = {0};
    for (size_t c = 0; c < x->C; c++) {
        size_t nr = ccount(x, c);
        if (!nr) continue;
        int fl = cflags(x, c, y->o_dln + D_FLAG);
        hs_str_reset(&ft);
        flag_text(fl, dln_flag_names, 6, &ft);
        for (size_t a = 0; a < k; a++) {
            size_t q = y->o_dm + a * N_DM;
            double sm, ss, am, as, dm, ds, rm, rs, hm, hsd, tm, tsd;
            int n, nd;
            cstat(x, c, q + DM_S, &sm, &ss, &n), cstat(x, c, q + DM_A0, &am, &as, &n);
            cstat(x, c, q + DM_DEV, &dm, &ds, &nd), cstat(x, c, q + DM_DEV_REL, &rm, &rs, &n);
            cstat(x, c, q + DM_THALF_SIM, &hm, &hsd, &n), cstat(x, c, q + DM_THALF_TH, &tm, &tsd, &n);
            if (isnan(sm)) continue;
            double dmax = cmax(x, c, q + DM_DEV), rmax = cmax(x, c, q + DM_DEV_REL);
            char b1[96], b2[96], b3[96], b4[96];
            fmt_pm(b1, sizeof b1, dm, ds, "%.3g"), fmt_pm(b2, sizeof b2, rm, rs, "%.3g");
            fmt_pm(b3, sizeof b3, hm, hsd, "%.1f"), fmt_pm(b4, sizeof b4, tm, tsd, "%.1f");
            hs_str_printf(md, "| %s | %zu | %.4g | %.3g | %s | %s | %s | %s | %d/%zu | %s |\n", x->label[c], a, sm, am,
                          b1, b2, b3, b4, nd, nr, ft.buf);
            hs_str_printf(
                csv, "%zu,\"%s\",%zu,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%d,%zu,%d\n", c,
                x->label[c], a, sm, am, dm, ds, dmax, rm, rmax, hm, hsd, tm, tsd, nd, nr, fl);
        }
    }
    hs_str_free(&ft);
    hs_str_printf(md, "\n");
    return w ? -1 : 0;
}

/* ---------------------------------------------------------------- gated networks */

static const char *const gated_flag_names[] = {"no theory for this data", "not full batch", "unaligned init",
                                               "not plain constant-lr sgd", "not mse"};

static int stage_gated(ctx *x, hid_t top, hs_str *csv, hs_str *md, hs_analyze_dynamics_summary *s) {
    const layout *y = &x->y;
    s->gated_runs = select_runs(x, y->o_gat + G_HAS);
    if (!s->gated_runs) return 0;
    size_t k = y->kg;
    hid_t g = new_group(top, "gated");
    int w = g < 0;
    if (!w) {
        w |= w_runs_i8(x, g, "has", y->o_gat + G_HAS) | w_runs_i32(x, g, "flag", y->o_gat + G_FLAG);
        w |= w_runs(x, g, "dt", y->o_gat + G_DT, 1, 0) | w_runs(x, g, "b0", y->o_gat + G_B0, 1, 0);
        w |= w_runs_i32(x, g, "modules", y->o_gat + G_M) | w_runs_i32(x, g, "active", y->o_gat + G_K);
        w |= w_runs(x, g, "train_loss", y->o_gat + G_TRAIN, 1, 0) | w_runs(x, g, "test_loss", y->o_gat + G_TEST, 1, 0);
        static const char *const f[] = {"s",          "fixed_point", "final_h",  "diff",     "max_dev_h",
                                        "max_dev_in", "max_dev_out", "final_in", "final_out"};
        for (size_t q = 0; q < N_GM; q++) w |= w_runs_strided(x, g, f[q], y->o_gm, k, N_GM, q);
        hsize_t d3[3] = {x->R, y->NsS, k};
        gather_col(x->rows, x->R, y->stride, y->o_gh, y->NsS * k, x->buf), w |= w_f64(g, "ode_h", 3, d3, x->buf);
        gather_col(x->rows, x->R, y->stride, y->o_gin, y->NsS * k, x->buf), w |= w_f64(g, "ode_in", 3, d3, x->buf);
        gather_col(x->rows, x->R, y->stride, y->o_gout, y->NsS * k, x->buf), w |= w_f64(g, "ode_out", 3, d3, x->buf);
        w |= w_runs(x, g, "epoch", y->o_gep, y->NsS, 1);
        w |= w_cfg_stats(x, g, "final_h", y->o_gm, k, N_GM, GM_FINAL, 1) |
             w_cfg_stats(x, g, "diff", y->o_gm, k, N_GM, GM_DIFF, 0);
        w |= w_cfg_stats(x, g, "fixed_point", y->o_gm, k, N_GM, GM_FP, 0);
        w |= w_cfg_stats(x, g, "max_dev_h", y->o_gm, k, N_GM, GM_DEV_H, 0);
        w |= w_cfg_stats(x, g, "train_loss", y->o_gat + G_TRAIN, 1, 1, 0, 0) |
             w_cfg_stats(x, g, "test_loss", y->o_gat + G_TEST, 1, 1, 0, 0);
        int *n = (int *)x->buf;
        for (size_t c = 0; c < x->C; c++) n[c] = (int)ccount(x, c);
        w |= w_i32(g, "n_runs", x->C, n);
        for (size_t c = 0; c < x->C; c++) n[c] = cflags(x, c, y->o_gat + G_FLAG);
        w |= w_i32(g, "flags", x->C, n);
    }
    if (g >= 0) H5Gclose(g);
    hs_str_printf(
        md, "## Gated deep linear networks: shared-layer singular values against the ODE\n\n"
            "Per mode of the task's Sigma_yx = Y^T X: s, the final singular value of the shared layer Wh, the "
            "fixed point b_h* of b_h (b_h^2 + (M-1) b0^2) = M s, their difference, and the max deviation of "
            "the recorded trajectory from the ODE (Euler, one step per epoch of hs_gated_epoch_time), shared "
            "layer / input module 0 / output module 0. Mean +- std over seeds.\n\n"
            "| config | mode | s | b_h final | fixed point | final - fixed | max dev h | max dev in | max dev out "
            "| runs | flags |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    hs_str_printf(csv,
                  "config,label,mode,s,final_h_mean,final_h_std,fixed_point,diff_mean,max_dev_h_mean,max_dev_h_max,"
                  "max_dev_in_max,max_dev_out_max,train_loss_mean,test_loss_mean,n_runs,flags\n");
    hs_str ft = {0}, lt = {0};
    for (size_t c = 0; c < x->C; c++) {
        size_t nr = ccount(x, c);
        if (!nr) continue;
        int fl = cflags(x, c, y->o_gat + G_FLAG);
        hs_str_reset(&ft);
        flag_text(fl, gated_flag_names, 5, &ft);
        double trm, trs, tem, tes;
        int n;
        cstat(x, c, y->o_gat + G_TRAIN, &trm, &trs, &n), cstat(x, c, y->o_gat + G_TEST, &tem, &tes, &n);
        for (size_t a = 0; a < k; a++) {
            size_t q = y->o_gm + a * N_GM;
            double sm, ss, fm, fs, pm, ps, dm, ds, hm, hsd;
            cstat(x, c, q + GM_S, &sm, &ss, &n), cstat(x, c, q + GM_FINAL, &fm, &fs, &n);
            cstat(x, c, q + GM_FP, &pm, &ps, &n), cstat(x, c, q + GM_DIFF, &dm, &ds, &n);
            cstat(x, c, q + GM_DEV_H, &hm, &hsd, &n);
            if (isnan(fm)) continue;
            double hmax = cmax(x, c, q + GM_DEV_H), imax = cmax(x, c, q + GM_DEV_IN), omax = cmax(x, c, q + GM_DEV_OUT);
            char b0[48], b1[96], b2[48], b3[96], b4[96], b5[48], b6[48];
            fmt_g(b0, sizeof b0, sm, "%.4f"), fmt_pm(b1, sizeof b1, fm, fs, "%.4f"), fmt_g(b2, sizeof b2, pm, "%.4f");
            fmt_pm(b3, sizeof b3, dm, ds, "%.2e"), fmt_pm(b4, sizeof b4, hm, hsd, "%.2e");
            fmt_g(b5, sizeof b5, imax, "%.2e"), fmt_g(b6, sizeof b6, omax, "%.2e");
            hs_str_printf(md, "| %s | %zu | %s | %s | %s | %s | %s | %s | %s | %zu | %s |\n", x->label[c], a, b0, b1,
                          b2, b3, b4, b5, b6, nr, ft.buf);
            hs_str_printf(csv,
                          "%zu,\"%s\",%zu,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%zu,%d\n",
                          c, x->label[c], a, sm, fm, fs, pm, dm, hm, hmax, imax, omax, trm, tem, nr, fl);
        }
        char b1[96], b2[96];
        fmt_pm(b1, sizeof b1, trm, trs, "%.3g"), fmt_pm(b2, sizeof b2, tem, tes, "%.3g");
        hs_str_printf(&lt, "| %s | %s | %s | %zu |\n", x->label[c], b1, b2, nr);
    }
    hs_str_printf(md,
                  "\nError on trained vs untrained pathways (final train loss = trained, test loss = zero-shot):\n\n"
                  "| config | trained pathways | untrained pathways | runs |\n|---|---|---|---|\n%s\n",
                  lt.buf ? lt.buf : "");
    hs_str_free(&ft), hs_str_free(&lt);
    return w ? -1 : 0;
}

/* ---------------------------------------------------------------- configurations */

/* Group the analysed runs by every varying config column but the seeds; labels. */
static hs_code configurations(ctx *x, hid_t file, const char *path, hs_error *err) {
    hid_t runs = H5Gopen2(file, "runs", H5P_DEFAULT);
    if (runs < 0) return HS_FAIL(err, HS_ERR_IO, "%s: cannot open /runs", path);
    char bad[256];
    hs_code rc = HS_OK;
    if (hs_an_config_columns(runs, x->R, &x->cols, &x->ncols, bad, sizeof bad) < 0)
        rc = bad[0] ? HS_FAIL(err, HS_ERR_IO, "%s: cannot read /runs/%s", path, bad)
                    : HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    H5Gclose(runs);
    if (rc != HS_OK) return rc;
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
static void run_table(const ctx *x, char *const *text, const unsigned char *state, hs_str *csv) {
    (void)text;
    const layout *y = &x->y;
    static const char *const st[] = {"pending", "running", "done", "failed", "diverged"};
    hs_str_printf(csv, "run,config,status,flag,final_train_loss,final_test_loss,init_scale,weight_decay,last_step");
    for (size_t l = 0; l < y->L; l++) hs_str_printf(csv, ",weight_change%zu,norm_change%zu", l, l);
    for (size_t l = 0; l < y->V; l++) hs_str_printf(csv, ",t90_level%zu", l);
    hs_str_printf(csv, ",coarse_first,order\n");
    hs_str o = {0};
    for (size_t r = 0; r < x->R; r++) {
        const double *row = x->rows + r * y->stride;
        hs_str_printf(csv, "%zu,%d,%s,%d,%.10g,%.10g,%.10g,%.10g,%.10g", r, x->cfg[r],
                      state[r] < 5 ? st[state[r]] : "?", (int)row[B_FLAG], row[B_TRAIN_LOSS], row[B_TEST_LOSS],
                      row[B_INIT_SCALE], row[B_DECAY], row[B_LAST_STEP]);
        for (size_t l = 0; l < y->L; l++) hs_str_printf(csv, ",%.10g,%.10g", row[y->o_wc + l], row[y->o_nc + l]);
        for (size_t l = 0; l < y->V; l++) hs_str_printf(csv, ",%.10g", row[y->o_t90 + l]);
        hs_str_reset(&o);
        int has = row[y->o_hier + H_HAS] == 1;
        if (has) order_text(row + y->o_t90, (size_t)row[y->o_hier + H_NLEV], &o);
        hs_str_printf(csv, ",%d,\"%s\"\n", has ? (int)row[y->o_hier + H_COARSE] : -1, has && o.buf ? o.buf : "");
    }
    hs_str_free(&o);
}

hs_code hs_analyze_dynamics(MPI_Comm comm, const hs_analyze_opts *o, hs_analyze_dynamics_summary *s, hs_str *table,
                            hs_error *err) {
    memset(s, 0, sizeof *s);
    int rank;
    MPI_Comm_rank(comm, &rank);
    ctx x = {0};
    unsigned char *state = NULL;
    char **text = NULL;
    char why[1024] = "";
    int got = read_and_analyse(comm, o->path, &x.y, &state, &text, &x.rows, why, sizeof why);
    if (got < 0) return HS_FAIL(err, got == -1 ? HS_ERR_VALUE : HS_ERR_IO, "%s", why);
    hs_code rc = HS_OK;
    hid_t file = -1;
    hs_str csv = {0}, md = {0}, sub_csv = {0}, sub_md = {0};
    if (rank != 0) goto agree;

    x.R = x.y.R;
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
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    file = H5Fopen(o->path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (file < 0) {
        rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot open for writing the analysis", o->path);
        goto agree;
    }
    if ((rc = configurations(&x, file, o->path, err)) != HS_OK) goto agree;
    s->configs = x.C;

    /* ---- /analysis/dynamics: per run, per configuration, then one group per part */
    if (H5Lexists(file, "analysis", H5P_DEFAULT) <= 0) {
        hid_t a = new_group(file, "analysis");
        if (a >= 0) H5Gclose(a);
    } else if (H5Lexists(file, "analysis/dynamics", H5P_DEFAULT) > 0) {
        H5Ldelete(file, "analysis/dynamics", H5P_DEFAULT); /* a re-analysis replaces the old one */
    }
    hid_t g = new_group(file, "analysis/dynamics");
    int w = g < 0;
    if (!w) {
        w |= w_i32(g, "config", x.R, x.cfg) | w_runs_i8(&x, g, "flag", B_FLAG);
        w |=
            w_runs(&x, g, "final_train_loss", B_TRAIN_LOSS, 1, 0) | w_runs(&x, g, "final_test_loss", B_TEST_LOSS, 1, 0);
        w |= w_runs(&x, g, "init_scale", B_INIT_SCALE, 1, 0) | w_runs(&x, g, "weight_decay", B_DECAY, 1, 0);
        w |= w_runs(&x, g, "last_step", B_LAST_STEP, 1, 0);
        if (x.y.L)
            w |= w_runs(&x, g, "weight_change", x.y.o_wc, x.y.L, 1) | w_runs(&x, g, "norm_change", x.y.o_nc, x.y.L, 1);
        w |= hs_an_write_strs(g, "label", x.C, (const char *const *)x.label);
    }
    hs_str_printf(&md, "# Learning dynamics: %zu runs, %zu analysed, %zu unfinished, %zu configurations\n\n", s->runs,
                  s->analysed, s->unfinished, s->configs);
    int (*const parts[])(ctx *, hid_t, hs_str *, hs_str *, hs_analyze_dynamics_summary *) = {stage_hier, stage_richlazy,
                                                                                             stage_dln, stage_gated};
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
    if (g >= 0) H5Gclose(g);
    if (w && rc == HS_OK) rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot write /analysis/dynamics", o->path);
    if (rc != HS_OK) goto agree;
    run_table(&x, text, state, &csv);
    rc = hs_an_write_tables(o, "dynamics", &csv, &md, err);
    if (table && rc == HS_OK) hs_str_append(table, md.buf, md.len);

agree:;
    if (file >= 0) H5Fclose(file);
    hs_str_free(&csv), hs_str_free(&md), hs_str_free(&sub_csv), hs_str_free(&sub_md);
    for (size_t r = 0; text && r < x.y.R; r++) free(text[r]);
    free(text), free(state);
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
