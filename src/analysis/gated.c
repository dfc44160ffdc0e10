/* gated.c - the gated-network part of the learning-dynamics analysis (dynamics.h): per run, the
 * shared layer's singular values against the neural-race ODE and its fixed point; per
 * configuration, their statistics; /analysis/dynamics/gated and the dynamics-gated table. */
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamics.h"
#include "hsweep/theory.h"

/* ================================================================ per run */

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
void dyn_gated_run(const hs_train_config *c, const hs_train_layout *lay, const hs_data_shape *sh, const double *sv,
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
        double e = dyn_step_of(pt, j, epoch, N);
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

/* The published 7-domain toy values (gated-dln-experiments.md, section 4), error
 * ||Y - out||_F^2 / 2 per pathway. The init-scale figure (generalization_vs_init_scale): K = 4,
 * 700 epochs, sigma0 below; the coverage slides: held-out error against K (by eye, +-10), trained
 * about 0, read here as runs of any other epoch count. */
static const double pub_sigma[6] = {0.2, 0.66, 1.12, 1.58, 2.04, 2.5};
static const double pub_trained[6] = {2.27, 0.02, 0.03, 0.01, 0.01, 0.00};
static const double pub_heldout[6] = {2.36, 0.38, 3.61, 21.4, 49.7, 92.4};
static const double pub_cover[7] = {215, 90, 10, 0, 0, 0, NAN}; /* K = 1 .. 7 */

/* Which published value run c reproduces: G_PUB, G_PUB_TR, G_PUB_TE of b. */
static void published_for(const hs_train_config *c, int toy, double *b) {
    b[G_PUB] = 0, b[G_PUB_TR] = b[G_PUB_TE] = NAN;
    if (!toy || c->data.modules != 7 || c->data.active < 1 || c->data.active > 6) return;
    if (c->epochs != 700) {
        b[G_PUB] = 2, b[G_PUB_TR] = 0, b[G_PUB_TE] = pub_cover[c->data.active - 1];
        return;
    }
    for (int q = 0; q < 6 && c->data.active == 4; q++)
        if (fabs(c->model.init_scales[0] - pub_sigma[q]) < 1e-9)
            b[G_PUB] = 1, b[G_PUB_TR] = pub_trained[q], b[G_PUB_TE] = pub_heldout[q];
}

/* The fractions of the run at which the pathway errors are reported. */
static const double gated_at[GATED_N_AT] = {0, 0.25, 0.5, 1};

void dyn_gated_errors(const hs_train_config *c, const hs_data_shape *sh, const double *epoch, const double *trl,
                      const double *tel, const double *tra, const double *tea, size_t N, double *row, const layout *y) {
    double *b = row + y->o_gat;
    if (b[G_HAS] != 1) { /* no singular values: no ODE overlay, the errors alone */
        b[G_HAS] = 1, b[G_FLAG] = HS_DYN_GATED_NO_THEORY, b[G_M] = c->data.modules, b[G_K] = c->data.active;
        b[G_B0] = c->model.init_scales[0];
    }
    /* The toy's targets are real vectors, so its error is the paper's squared error per pathway:
     * the recorded loss is the mean over rows and outputs, and a pathway has items x t_dim of them. */
    const long long paths = (long long)c->data.modules * c->data.active;
    const int toy = hs_data_kind_has(&c->data, HS_DATA_KIND_GATED_THEORY) && c->loss == HS_LOSS_MSE && paths > 0;
    const double per_path = toy ? (double)(sh->n_train / paths) * sh->t_dim / 2 : NAN;
    b[G_UNIT] = toy;
    published_for(c, toy, b);
    long last = -1;
    for (size_t t = 0; t < N; t++)
        if (isfinite(epoch[t]) && isfinite(trl[t])) last = (long)t;
    if (last < 0 || (!toy && (!tra || !tea))) return;
    for (int a = 0; a < GATED_N_AT; a++) {
        size_t t = 0;
        while (t < (size_t)last && !(isfinite(epoch[t]) && epoch[t] >= gated_at[a] * epoch[last])) t++;
        b[G_ERR_TR + a] = toy ? per_path * trl[t] : 1 - tra[t];
        b[G_ERR_TE + a] = toy ? per_path * tel[t] : 1 - tea[t];
    }
}

/* Trained vs held-out pathway error at 0, 1/4, 1/2 and all of the run, per configuration. */
static void error_table(const ctx *x, hs_str *md) {
    const layout *y = &x->y;
    hs_str_printf(md, "\nTrained vs held-out (zero-shot) pathway error over training, mean +- std over seeds, at "
                      "0, 1/4, 1/2 and the end of the run. Error: the toy's ||Y - out||_F^2 / 2 per pathway "
                      "(unit sq), else the fraction of wrong arg-maxes (unit frac; the held-out rows are the "
                      "training images on the held-out pathways). Published: the 7-domain toy sweep of the "
                      "paper's repository (trained / held-out): the init-scale figure at the same sigma0 (K = 4, 700 "
                      "epochs), else the coverage slides at the same K (M = 7).\n\n"
                      "| config | unit | trained 0 | 1/4 | 1/2 | end | held-out 0 | 1/4 | 1/2 | end | "
                      "published trained / held-out | runs |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t c = 0; c < x->C; c++) {
        size_t nr = dyn_ccount(x, c);
        if (!nr) continue;
        double u, sd;
        int n;
        dyn_cstat(x, c, y->o_gat + G_UNIT, &u, &sd, &n);
        hs_str_printf(md, "| %s | %s |", x->label[c], u == 1 ? "sq" : "frac");
        for (int side = 0; side < 2; side++)
            for (int a = 0; a < GATED_N_AT; a++) {
                double m, s;
                char buf[96];
                dyn_cstat(x, c, y->o_gat + (side ? G_ERR_TE : G_ERR_TR) + a, &m, &s, &n);
                dyn_fmt_pm(buf, sizeof buf, m, s, "%.3g");
                hs_str_printf(md, " %s |", buf);
            }
        double src, ptr, pte;
        dyn_cstat(x, c, y->o_gat + G_PUB, &src, &sd, &n), dyn_cstat(x, c, y->o_gat + G_PUB_TR, &ptr, &sd, &n);
        dyn_cstat(x, c, y->o_gat + G_PUB_TE, &pte, &sd, &n);
        if (src == 1)
            hs_str_printf(md, " %.2f / %.3g (init-scale figure) | %zu |\n", ptr, pte, nr);
        else if (src == 2)
            hs_str_printf(md, " ~%.0f / ~%.0f (coverage slides, +-10) | %zu |\n", ptr, pte, nr);
        else
            hs_str_printf(md, " - | %zu |\n", nr);
    }
}

/* ================================================================ per configuration */

static const char *const gated_flag_names[] = {"no theory for this data", "not full batch", "unaligned init",
                                               "not plain constant-lr sgd", "not mse"};

int dyn_stage_gated(ctx *x, hs_analysis_out *g, hs_str *csv, hs_str *md, hs_analyze_dynamics_summary *s) {
    const layout *y = &x->y;
    s->gated_runs = dyn_select(x, y->o_gat + G_HAS);
    if (!s->gated_runs) return 0;
    size_t k = y->kg;
    int w = dyn_part(x, g, "gated");
    if (!w) {
        w |= dyn_runs_i8(x, g, "has", y->o_gat + G_HAS) | dyn_runs_i32(x, g, "flag", y->o_gat + G_FLAG);
        w |= dyn_runs(x, g, "dt", y->o_gat + G_DT, 1, 0) | dyn_runs(x, g, "b0", y->o_gat + G_B0, 1, 0);
        w |= dyn_runs_i32(x, g, "modules", y->o_gat + G_M) | dyn_runs_i32(x, g, "active", y->o_gat + G_K);
        w |= dyn_runs_i8(x, g, "error_unit", y->o_gat + G_UNIT) | dyn_runs_i8(x, g, "published", y->o_gat + G_PUB) |
             dyn_runs(x, g, "published_trained", y->o_gat + G_PUB_TR, 1, 0) |
             dyn_runs(x, g, "published_heldout", y->o_gat + G_PUB_TE, 1, 0) |
             dyn_runs(x, g, "error_trained", y->o_gat + G_ERR_TR, GATED_N_AT, 1) |
             dyn_runs(x, g, "error_heldout", y->o_gat + G_ERR_TE, GATED_N_AT, 1);
        w |= dyn_cfg_stats(x, g, "error_trained", y->o_gat + G_ERR_TR, GATED_N_AT, 1, 0, 0) |
             dyn_cfg_stats(x, g, "error_heldout", y->o_gat + G_ERR_TE, GATED_N_AT, 1, 0, 0);
        const size_t n_at = GATED_N_AT;
        w |= dyn_f64(x, g, "error_at", 1, &n_at, gated_at);
        w |= dyn_runs(x, g, "train_loss", y->o_gat + G_TRAIN, 1, 0) |
             dyn_runs(x, g, "test_loss", y->o_gat + G_TEST, 1, 0);
        static const char *const f[] = {"s",          "fixed_point", "final_h",  "diff",     "max_dev_h",
                                        "max_dev_in", "max_dev_out", "final_in", "final_out"};
        for (size_t q = 0; q < N_GM; q++) w |= dyn_runs_strided(x, g, f[q], y->o_gm, k, N_GM, q);
        size_t d3[3] = {x->R, y->NsS, k};
        dyn_gather_col(x->rows, x->R, y->stride, y->o_gh, y->NsS * k, x->buf);
        w |= dyn_f64(x, g, "ode_h", 3, d3, x->buf);
        dyn_gather_col(x->rows, x->R, y->stride, y->o_gin, y->NsS * k, x->buf);
        w |= dyn_f64(x, g, "ode_in", 3, d3, x->buf);
        dyn_gather_col(x->rows, x->R, y->stride, y->o_gout, y->NsS * k, x->buf);
        w |= dyn_f64(x, g, "ode_out", 3, d3, x->buf);
        w |= dyn_runs(x, g, "epoch", y->o_gep, y->NsS, 1);
        w |= dyn_cfg_stats(x, g, "final_h", y->o_gm, k, N_GM, GM_FINAL, 1) |
             dyn_cfg_stats(x, g, "diff", y->o_gm, k, N_GM, GM_DIFF, 0);
        w |= dyn_cfg_stats(x, g, "fixed_point", y->o_gm, k, N_GM, GM_FP, 0);
        w |= dyn_cfg_stats(x, g, "max_dev_h", y->o_gm, k, N_GM, GM_DEV_H, 0);
        w |= dyn_cfg_stats(x, g, "train_loss", y->o_gat + G_TRAIN, 1, 1, 0, 0) |
             dyn_cfg_stats(x, g, "test_loss", y->o_gat + G_TEST, 1, 1, 0, 0);
        int *n = (int *)x->buf;
        for (size_t c = 0; c < x->C; c++) n[c] = (int)dyn_ccount(x, c);
        w |= dyn_i32(x, g, "n_runs", x->C, n);
        for (size_t c = 0; c < x->C; c++) n[c] = dyn_cflags(x, c, y->o_gat + G_FLAG);
        w |= dyn_i32(x, g, "flags", x->C, n);
    }
    x->part = "";
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
        size_t nr = dyn_ccount(x, c);
        if (!nr) continue;
        int fl = dyn_cflags(x, c, y->o_gat + G_FLAG);
        hs_str_reset(&ft);
        dyn_flag_text(fl, gated_flag_names, 5, &ft);
        double trm, trs, tem, tes;
        int n;
        dyn_cstat(x, c, y->o_gat + G_TRAIN, &trm, &trs, &n), dyn_cstat(x, c, y->o_gat + G_TEST, &tem, &tes, &n);
        for (size_t a = 0; a < k; a++) {
            size_t q = y->o_gm + a * N_GM;
            double sm, ss, fm, fs, pm, ps, dm, ds, hm, hsd;
            dyn_cstat(x, c, q + GM_S, &sm, &ss, &n), dyn_cstat(x, c, q + GM_FINAL, &fm, &fs, &n);
            dyn_cstat(x, c, q + GM_FP, &pm, &ps, &n), dyn_cstat(x, c, q + GM_DIFF, &dm, &ds, &n);
            dyn_cstat(x, c, q + GM_DEV_H, &hm, &hsd, &n);
            if (isnan(fm)) continue;
            double hmax = dyn_cmax(x, c, q + GM_DEV_H), imax = dyn_cmax(x, c, q + GM_DEV_IN),
                   omax = dyn_cmax(x, c, q + GM_DEV_OUT);
            char b0[48], b1[96], b2[48], b3[96], b4[96], b5[48], b6[48];
            dyn_fmt_g(b0, sizeof b0, sm, "%.4f"), dyn_fmt_pm(b1, sizeof b1, fm, fs, "%.4f");
            dyn_fmt_g(b2, sizeof b2, pm, "%.4f");
            dyn_fmt_pm(b3, sizeof b3, dm, ds, "%.2e"), dyn_fmt_pm(b4, sizeof b4, hm, hsd, "%.2e");
            dyn_fmt_g(b5, sizeof b5, imax, "%.2e"), dyn_fmt_g(b6, sizeof b6, omax, "%.2e");
            hs_str_printf(md, "| %s | %zu | %s | %s | %s | %s | %s | %s | %s | %zu | %s |\n", x->label[c], a, b0, b1,
                          b2, b3, b4, b5, b6, nr, ft.buf);
            hs_str_printf(csv, "%zu,", c);
            hs_an_csv_put(csv, x->label[c], 1);
            hs_str_printf(csv, ",%zu,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%zu,%d\n", a, sm,
                          fm, fs, pm, dm, hm, hmax, imax, omax, trm, tem, nr, fl);
        }
        char b1[96], b2[96];
        dyn_fmt_pm(b1, sizeof b1, trm, trs, "%.3g"), dyn_fmt_pm(b2, sizeof b2, tem, tes, "%.3g");
        hs_str_printf(&lt, "| %s | %s | %s | %zu |\n", x->label[c], b1, b2, nr);
    }
    hs_str_printf(md,
                  "\nError on trained vs untrained pathways (final train loss = trained, test loss = zero-shot):\n\n"
                  "| config | trained pathways | untrained pathways | runs |\n|---|---|---|---|\n%s\n",
                  lt.buf ? lt.buf : "");
    error_table(x, md);
    hs_str_free(&ft), hs_str_free(&lt);
    return w ? -1 : 0;
}
