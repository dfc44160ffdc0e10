/* dln.c - the deep-linear-network part of the learning-dynamics analysis (dynamics.h): per run,
 * each mode's measured strength against the closed form (two weight matrices) or the deep ODE;
 * per configuration, deviations and half-times; /analysis/dynamics/dln and the dynamics-dln table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamics.h"
#include "hsweep/models.h"
#include "hsweep/theory.h"

/* ================================================================ per run */

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
void dyn_dln_run(const hs_train_config *c, const hs_train_layout *lay, int n_out, const double *str,
                    const double *sv, const double *pt, size_t Ns, size_t km, const double *step, size_t N, double *row,
                    const layout *y) {
    double *b = row + y->o_dln, *m = row + y->o_dm, *th = row + y->o_dth, *ts = row + y->o_dstep;
    int flag = 0;
    if (c->loss != HS_LOSS_MSE) flag |= HS_DYN_DLN_NOT_MSE;
    if (lay->steps_per_epoch != 1) flag |= HS_DYN_DLN_NOT_FULL_BATCH;
    if (!hs_model_kind_is(c->arch, "mlp") || c->model.act != HS_ACT_IDENTITY || c->model.norm != HS_NORM_NONE ||
        c->model.bias)
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
        double s = dyn_step_of(pt, j, step, N);
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

/* ================================================================ per configuration */

static const char *const dln_flag_names[] = {"not mse",        "not full batch", "not a linear net",
                                             "not plain constant-lr sgd", "unaligned init", "inputs not whitened"};

int dyn_stage_dln(ctx *x, hs_analysis_out *g, hs_str *csv, hs_str *md, hs_analyze_dynamics_summary *s) {
    const layout *y = &x->y;
    s->dln_runs = dyn_select(x, y->o_dln + D_HAS);
    if (!s->dln_runs) return 0;
    size_t k = y->km;
    int w = dyn_part(x, g, "dln");
    if (!w) {
        w |= dyn_runs_i8(x, g, "has", y->o_dln + D_HAS) | dyn_runs_i32(x, g, "flag", y->o_dln + D_FLAG);
        w |= dyn_runs_i32(x, g, "n_layers", y->o_dln + D_NLAYERS) | dyn_runs(x, g, "tau", y->o_dln + D_TAU, 1, 0);
        static const char *const f[] = {"s",           "a0",         "mode_flag",    "max_dev",
                                        "max_dev_rel", "t_half_sim", "t_half_theory"};
        for (size_t q = 0; q < N_DM; q++) w |= dyn_runs_strided(x, g, f[q], y->o_dm, k, N_DM, q);
        size_t d3[3] = {x->R, y->NsM, k};
        dyn_gather_col(x->rows, x->R, y->stride, y->o_dth, y->NsM * k, x->buf);
        w |= dyn_f64(x, g, "theory", 3, d3, x->buf);
        w |= dyn_runs(x, g, "step", y->o_dstep, y->NsM, 1);
        w |= dyn_cfg_stats(x, g, "max_dev", y->o_dm, k, N_DM, DM_DEV, 1) |
             dyn_cfg_stats(x, g, "max_dev_rel", y->o_dm, k, N_DM, DM_DEV_REL, 0);
        w |= dyn_cfg_stats(x, g, "t_half_sim", y->o_dm, k, N_DM, DM_THALF_SIM, 0);
        w |= dyn_cfg_stats(x, g, "t_half_theory", y->o_dm, k, N_DM, DM_THALF_TH, 0);
        w |= dyn_cfg_stats(x, g, "s", y->o_dm, k, N_DM, DM_S, 0);
        int *n = (int *)x->buf;
        for (size_t c = 0; c < x->C; c++) n[c] = (int)dyn_ccount(x, c);
        w |= dyn_i32(x, g, "n_runs", x->C, n);
        for (size_t c = 0; c < x->C; c++) n[c] = dyn_cflags(x, c, y->o_dln + D_FLAG);
        w |= dyn_i32(x, g, "flags", x->C, n);
    }
    x->part = "";
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
        size_t nr = dyn_ccount(x, c);
        if (!nr) continue;
        int fl = dyn_cflags(x, c, y->o_dln + D_FLAG);
        hs_str_reset(&ft);
        dyn_flag_text(fl, dln_flag_names, 6, &ft);
        for (size_t a = 0; a < k; a++) {
            size_t q = y->o_dm + a * N_DM;
            double sm, ss, am, as, dm, ds, rm, rs, hm, hsd, tm, tsd;
            int n, nd;
            dyn_cstat(x, c, q + DM_S, &sm, &ss, &n), dyn_cstat(x, c, q + DM_A0, &am, &as, &n);
            dyn_cstat(x, c, q + DM_DEV, &dm, &ds, &nd), dyn_cstat(x, c, q + DM_DEV_REL, &rm, &rs, &n);
            dyn_cstat(x, c, q + DM_THALF_SIM, &hm, &hsd, &n), dyn_cstat(x, c, q + DM_THALF_TH, &tm, &tsd, &n);
            if (isnan(sm)) continue;
            double dmax = dyn_cmax(x, c, q + DM_DEV), rmax = dyn_cmax(x, c, q + DM_DEV_REL);
            char b1[96], b2[96], b3[96], b4[96];
            dyn_fmt_pm(b1, sizeof b1, dm, ds, "%.3g"), dyn_fmt_pm(b2, sizeof b2, rm, rs, "%.3g");
            dyn_fmt_pm(b3, sizeof b3, hm, hsd, "%.1f"), dyn_fmt_pm(b4, sizeof b4, tm, tsd, "%.1f");
            hs_str_printf(md, "| %s | %zu | %.4g | %.3g | %s | %s | %s | %s | %d/%zu | %s |\n", x->label[c], a, sm, am,
                          b1, b2, b3, b4, nd, nr, ft.buf);
            hs_str_printf(csv, "%zu,", c);
            hs_an_csv_put(csv, x->label[c], 1);
            hs_str_printf(csv, ",%zu,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%d,%zu,%d\n", a,
                          sm, am, dm, ds, dmax, rm, rmax, hm, hsd, tm, tsd, nd, nr, fl);
        }
    }
    hs_str_free(&ft);
    hs_str_printf(md, "\n");
    return w ? -1 : 0;
}
