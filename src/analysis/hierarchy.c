/* hierarchy.c - the hierarchy part of the learning-dynamics analysis (dynamics.h): per run, the
 * step where each level's test accuracy reaches the threshold and the center gaps; per
 * configuration, their statistics, /analysis/dynamics/hierarchy and the dynamics-hierarchy table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamics.h"

/* ================================================================ per run */

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

/* acc [Ns x V] level accuracies, pt [Ns] their record points; writes t90 [V] (step, NaN never),
 * and returns the run's level count (levels with any finite value). */
size_t dyn_hier_levels(const double *acc, const double *pt, size_t Ns, size_t V, const double *step, size_t N,
                          double thr, size_t w, double *t90) {
    size_t nv = 0;
    for (size_t l = 0; l < V; l++) {
        t90[l] = NAN;
        int any = 0;
        for (size_t j = 0; j < Ns; j++) {
            if (!isfinite(acc[j * V + l]) || !(pt[j] >= 0)) continue;
            any = 1;
            if (trailing(acc + l, V, j, w) >= thr) {
                t90[l] = dyn_step_of(pt, j, step, N);
                break;
            }
        }
        if (any) nv = l + 1;
    }
    return nv;
}

/* Coarse before fine: t90 of levels nv-1 (coarsest) .. 0 non-decreasing, never = +inf. */
int dyn_coarse_first(const double *t90, size_t nv) {
    for (size_t l = 0; l + 1 < nv; l++) {
        double fine = isnan(t90[l]) ? INFINITY : t90[l], coarse = isnan(t90[l + 1]) ? INFINITY : t90[l + 1];
        if (coarse > fine) return 0;
    }
    return 1;
}

/* gap [Ns x reps x V]: per (rep, level) the step of the smoothed maximum, that maximum and the
 * last finite raw value. */
void dyn_hier_gaps(const double *gap, const double *pt, size_t Ns, size_t reps, size_t V, const double *step,
                      size_t N, size_t w, double *mstep, double *mval, double *fin) {
    size_t S = reps * V;
    for (size_t q = 0; q < S; q++) {
        mstep[q] = mval[q] = fin[q] = NAN;
        for (size_t j = 0; j < Ns; j++) {
            double v = gap[j * S + q];
            if (!isfinite(v) || !(pt[j] >= 0)) continue;
            fin[q] = v;
            double m = trailing(gap + q, S, j, w);
            if (isnan(mval[q]) || m > mval[q]) mval[q] = m, mstep[q] = dyn_step_of(pt, j, step, N);
        }
    }
}

/* ================================================================ per configuration */

int dyn_stage_hier(ctx *x, hs_analysis_out *g, hs_str *csv, hs_str *md, hs_analyze_dynamics_summary *s) {
    const layout *y = &x->y;
    s->hier_runs = dyn_select(x, y->o_hier + H_HAS);
    if (!s->hier_runs) return 0;
    size_t V = y->V, RV = y->reps * V;
    int w = dyn_part(x, g, "hierarchy");
    char **order = calloc(x->R + 1, sizeof *order);
    hs_str t = {0};
    for (size_t r = 0; order && r < x->R; r++) {
        const double *row = x->rows + r * y->stride;
        hs_str_reset(&t);
        if (x->sel[r]) dyn_order_text(row + y->o_t90, (size_t)row[y->o_hier + H_NLEV], &t);
        order[r] = strdup(t.buf ? t.buf : "");
        if (x->sel[r] && row[y->o_hier + H_COARSE] == 1) s->hier_coarse_first++;
    }
    w |= !order;
    if (!w) {
        w |= dyn_runs_i8(x, g, "has", y->o_hier + H_HAS) | dyn_runs_i8(x, g, "coarse_first", y->o_hier + H_COARSE);
        w |= dyn_runs_i32(x, g, "n_levels", y->o_hier + H_NLEV) | dyn_runs(x, g, "t90", y->o_t90, V, 1);
        w |= dyn_strs(x, g, "order", x->R, (const char *const *)order);
        w |= dyn_cfg_stats(x, g, "t90", y->o_t90, V, 1, 0, 1);
        int *n = (int *)x->buf;
        for (size_t c = 0; c < x->C; c++) n[c] = (int)dyn_ccount(x, c);
        w |= dyn_i32(x, g, "n_runs", x->C, n);
        for (size_t c = 0; c < x->C; c++) {
            n[c] = 0;
            for (size_t r = 0; r < x->R; r++)
                n[c] += x->sel[r] && x->cfg[r] == (int)c && x->rows[r * y->stride + y->o_hier + H_COARSE] == 1;
        }
        w |= dyn_i32(x, g, "n_coarse_first", x->C, n);
        w |= dyn_attr(x, g, "threshold", HS_DYN_ACC_THRESHOLD) | dyn_attr(x, g, "window", HS_DYN_WINDOW);
    }
    if (!w && y->has_gap) {
        size_t d3[3] = {x->R, y->reps, V};
        dyn_gather_col(x->rows, x->R, y->stride, y->o_gap_step, RV, x->buf);
        w |= dyn_f64(x, g, "gap_max_step", 3, d3, x->buf);
        dyn_gather_col(x->rows, x->R, y->stride, y->o_gap_max, RV, x->buf);
        w |= dyn_f64(x, g, "gap_max", 3, d3, x->buf);
        dyn_gather_col(x->rows, x->R, y->stride, y->o_gap_final, RV, x->buf);
        w |= dyn_f64(x, g, "gap_final", 3, d3, x->buf);
        size_t c3[3] = {x->C, y->reps, V};
        double *m = x->buf, *sd = x->buf + x->C * RV;
        dyn_cstat_block(x, y->o_gap_final, RV, m, sd, NULL);
        w |= dyn_f64(x, g, "gap_final_mean", 3, c3, m) | dyn_f64(x, g, "gap_final_std", 3, c3, sd);
        dyn_cstat_block(x, y->o_gap_step, RV, m, sd, NULL);
        w |= dyn_f64(x, g, "gap_max_step_mean", 3, c3, m) | dyn_f64(x, g, "gap_max_step_std", 3, c3, sd);
    }
    x->part = "";

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
        size_t n = dyn_ccount(x, c);
        if (!n) continue;
        hs_str_printf(md, "| %s | %zu |", x->label[c], n);
        hs_str_printf(csv, "%zu,", c);
        hs_an_csv_put(csv, x->label[c], 1);
        hs_str_printf(csv, ",%zu", n);
        for (size_t l = nv; l-- > 0;) {
            double m, sd;
            int k;
            char b[96];
            dyn_cstat(x, c, y->o_t90 + l, &m, &sd, &k);
            dyn_fmt_pm(b, sizeof b, m, sd, "%.0f");
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
        hs_str_printf(csv, ",%zu,", cf);
        hs_an_csv_put(csv, t.buf ? t.buf : "", 1);
        hs_str_printf(csv, "\n");
    }
    hs_str_printf(md, "\n");
    if (y->has_gap) {
        hs_str_printf(md,
                      "### Center gaps (cousin minus sibling centroid cosine distance)\n\nPer representation (0 the "
                      "input, 2l+1 hidden layer l's Linear output, 2l+2 its block output, last the logits) and "
                      "level: final value, and in brackets the step of the (smoothed) maximum; means over seeds.\n\n");
        for (size_t c = 0; c < x->C; c++) {
            if (!dyn_ccount(x, c)) continue;
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
                    dyn_cstat(x, c, y->o_gap_final + q * V + l, &m, &sd, &k);
                    dyn_cstat(x, c, y->o_gap_step + q * V + l, &ms, &ss, &k);
                    dyn_fmt_g(b, sizeof b, m, "%.3f"), dyn_fmt_g(b2, sizeof b2, ms, "%.0f");
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
