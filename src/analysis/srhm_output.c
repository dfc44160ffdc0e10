/* srhm_output.c - the SRHM analysis' labels, its group /analysis/srhm and its tables (srhm.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "srhm.h"

static void fmt_g(char *b, size_t n, double x, const char *f) {
    if (isnan(x)) snprintf(b, n, "-");
    else snprintf(b, n, f, x);
}

static const char *reached_name(int r) {
    switch (r) {
    case HS_SRHM_REACHED: return "yes";
    case HS_SRHM_NEVER: return "never";
    case HS_SRHM_BELOW_GRID: return "below grid";
    default: return "no data";
    }
}

/* Labels: "arch=cnn, v=6, L=2, s0=1, lr=0.1" over the keys that vary ("all runs" if none). */
hs_code srhm_labels(ctx *c, hs_error *err) {
    c->labels = calloc(c->ncfg + 1, sizeof *c->labels);
    if (!c->labels) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    /* which of the first keys vary: compare resolved values over the configurations */
    int vary[N_FIRST_KEYS] = {0};
    for (size_t k = 1; k < c->ncfg; k++) {
        const srun *a = &c->runs[c->cfgs[0].first], *b = &c->runs[c->cfgs[k].first];
        vary[0] |= strcmp(a->arch, b->arch) != 0;
        long long va[6] = {a->v, a->L, a->s0, a->s, a->n_c, a->m}, vb[6] = {b->v, b->L, b->s0, b->s, b->n_c, b->m};
        for (int i = 0; i < 6; i++) vary[i + 1] |= va[i] != vb[i];
    }
    hs_str l = {0};
    for (size_t k = 0; k < c->ncfg; k++) {
        const srun *u = &c->runs[c->cfgs[k].first];
        long long vals[6] = {u->v, u->L, u->s0, u->s, u->n_c, u->m};
        hs_str_reset(&l);
        hs_code rc = HS_OK;
        if (vary[0]) rc = hs_str_printf(&l, "arch=%s", u->arch);
        for (int i = 0; i < 6 && rc == HS_OK; i++)
            if (vary[i + 1])
                rc = hs_str_printf(&l, "%s%s=%lld", l.len ? ", " : "", hs_an_short_name(srhm_first_keys[i + 1]),
                                   vals[i]);
        for (size_t o = 0; o < c->nother && rc == HS_OK; o++) {
            char v[256];
            srhm_unquote(srhm_value(c, u, o), v, sizeof v);
            rc = hs_str_printf(&l, "%s%s=%s", l.len ? ", " : "", hs_an_short_name(c->names[o]), v);
        }
        if (rc != HS_OK || !(c->labels[k] = strdup(l.len ? l.buf : "all runs"))) {
            hs_str_free(&l);
            return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        }
    }
    hs_str_free(&l);
    return HS_OK;
}

/* /analysis/srhm, replacing an earlier analysis. */
hs_code srhm_write_group(const char *path, const ctx *c, double thr, hs_error *err) {
    size_t R = c->R, C = c->ncfg, M = c->ncurve;
    hs_analysis_out *g = NULL;
    HS_TRY(err, hs_analysis_out_open(path, "srhm", &g, err));
    size_t n = R > C ? R : C;
    n = n > M ? n : M;
    double *d = malloc((n + 1) * sizeof *d);
    int *i32 = malloc((n + 1) * sizeof *i32);
    signed char *i8 = malloc(n + 1);
    const char **sv = calloc(n + 1, sizeof *sv);
    int oom = !d || !i32 || !i8 || !sv;
    /* per run */
    if (!oom) {
        for (size_t r = 0; r < R; r++) d[r] = c->runs[r].eps;
        hs_aout_f64(g, "best_error", 1, &R, d);
        for (size_t r = 0; r < R; r++) d[r] = c->runs[r].P;
        hs_aout_f64(g, "P", 1, &R, d);
        for (size_t r = 0; r < R; r++) i8[r] = (signed char)c->runs[r].flag;
        hs_aout_i8(g, "flag", R, i8);
        for (size_t r = 0; r < R; r++) i32[r] = c->runs[r].cfg;
        hs_aout_i32(g, "config", 1, &R, i32);
    }
    /* per configuration */
#define CFG_RUN_I32(expr, name)                                                                                        \
    for (size_t k = 0; k < C; k++) {                                                                                   \
        const srun *u = &c->runs[c->cfgs[k].first];                                                                    \
        i32[k] = (int)(expr);                                                                                          \
    }                                                                                                                  \
    hs_aout_i32(g, name, 1, &C, i32)
#define CFG_F64(field, name)                                                                                           \
    for (size_t k = 0; k < C; k++) d[k] = c->cfgs[k].field;                                                            \
    hs_aout_f64(g, name, 1, &C, d)
#define CFG_I32(field, name)                                                                                           \
    for (size_t k = 0; k < C; k++) i32[k] = c->cfgs[k].field;                                                          \
    hs_aout_i32(g, name, 1, &C, i32)
    if (!oom) {
        for (size_t k = 0; k < C; k++) sv[k] = c->labels[k];
        hs_aout_strs(g, "label", C, sv);
        for (size_t k = 0; k < C; k++) sv[k] = c->runs[c->cfgs[k].first].arch;
        hs_aout_strs(g, "arch", C, sv);
        CFG_RUN_I32(u->v, "v");
        CFG_RUN_I32(u->n_c, "n_c");
        CFG_RUN_I32(u->m, "m");
        CFG_RUN_I32(u->s, "s");
        CFG_RUN_I32(u->L, "L");
        CFG_RUN_I32(u->s0, "s0");
        CFG_I32(n_p, "n_p");
        CFG_I32(n_seeds, "n_seeds");
        CFG_I32(n_seeds_reached, "p_star_n_seeds");
        CFG_F64(X, "X");
        CFG_F64(p_star, "p_star");
        CFG_F64(p_closest, "p_star_closest");
        CFG_F64(eps_closest, "eps_closest");
        CFG_F64(l10_mean, "p_star_log10_mean");
        CFG_F64(l10_std, "p_star_log10_std");
        for (size_t k = 0; k < C; k++) i8[k] = (signed char)c->cfgs[k].reached;
        hs_aout_i8(g, "reached", C, i8);
        for (size_t k = 0; k < C; k++) sv[k] = c->cfgs[k].searched ? "search" : "grid";
        hs_aout_strs(g, "source", C, sv);
        for (size_t k = 0; k < C; k++) sv[k] = c->cfgs[k].searched ? c->cfgs[k].stage : "";
        hs_aout_strs(g, "search_stage", C, sv);
        CFG_F64(s_lo, "p_star_lo");
        CFG_F64(s_hi, "p_star_hi");
    }
#undef CFG_RUN_I32
#undef CFG_F64
#undef CFG_I32
    /* curves */
    if (!oom) {
        hs_aout_i32(g, "curve_config", 1, &M, c->ccfg);
        hs_aout_f64(g, "curve_P", 1, &M, c->cP);
        hs_aout_f64(g, "curve_eps_mean", 1, &M, c->cmean);
        hs_aout_f64(g, "curve_eps_std", 1, &M, c->csd);
        hs_aout_i32(g, "curve_n", 1, &M, c->cn);
    }
    /* fits */
#define FIT_I32(arr, cnt, field, name)                                                                                 \
    for (size_t k = 0; k < cnt; k++) i32[k] = c->arr[k].field;                                                         \
    hs_aout_i32(g, name, 1, &cnt, i32)
#define FIT_F64(arr, cnt, field, name)                                                                                 \
    for (size_t k = 0; k < cnt; k++) d[k] = c->arr[k].field;                                                           \
    hs_aout_f64(g, name, 1, &cnt, d)
    if (!oom) {
        size_t nf = c->nfits, ns = c->ns0fits;
        for (size_t k = 0; k < nf; k++) sv[k] = c->fits[k].arch;
        hs_aout_strs(g, "fit_arch", nf, sv);
        FIT_I32(fits, nf, s, "fit_s");
        FIT_I32(fits, nf, n, "fit_n");
        FIT_F64(fits, nf, b, "fit_b");
        FIT_F64(fits, nf, prefactor, "fit_prefactor");
        FIT_F64(fits, nf, r, "fit_r");
        for (size_t k = 0; k < ns; k++) sv[k] = c->s0fits[k].arch;
        hs_aout_strs(g, "s0_fit_arch", ns, sv);
        FIT_I32(s0fits, ns, v, "s0_fit_v");
        FIT_I32(s0fits, ns, L, "s0_fit_L");
        FIT_I32(s0fits, ns, s, "s0_fit_s");
        FIT_I32(s0fits, ns, n, "s0_fit_n");
        FIT_F64(s0fits, ns, b, "s0_fit_exponent");
        FIT_F64(s0fits, ns, expected, "s0_fit_expected");
        FIT_F64(s0fits, ns, prefactor, "s0_fit_prefactor");
        FIT_F64(s0fits, ns, r, "s0_fit_r");
        FIT_I32(s0fits, ns, n_s0, "s0_fit_n_s0");
        FIT_I32(s0fits, ns, seeds, "s0_fit_seeds");
        FIT_F64(s0fits, ns, seed_mean, "s0_fit_seed_mean");
        FIT_F64(s0fits, ns, lo, "s0_fit_lo");
        FIT_F64(s0fits, ns, hi, "s0_fit_hi");
        hs_aout_attr(g, "", "s0_fit_level", SRHM_CI_LEVEL);
        hs_aout_attr(g, "", "threshold", thr);
        hs_aout_attr(g, "", "closest_tol", HS_SRHM_CLOSEST_TOL);
    }
#undef FIT_I32
#undef FIT_F64
    free(d), free(i32), free(i8), free(sv);
    return hs_analysis_out_close(g, oom ? HS_ERR_NOMEM : HS_OK, err);
}

/* CSV (one row per configuration, every column, full key names: a plain table for pandas) and
 * Markdown (the table, then the fits, which live in the file and here only). */
void srhm_tables(const ctx *c, double thr, const hs_analyze_srhm_summary *s, hs_str *csv, hs_str *md) {
    hs_str_printf(csv, "arch,v,n_c,m,s,L,s0,");
    for (size_t o = 0; o < c->nother; o++) hs_str_printf(csv, "%s,", c->names[o]);
    hs_str_printf(csv, "X,n_p,n_seeds,p_star,p_star_over_X,p_star_closest,eps_closest,p_star_log10_mean,"
                       "p_star_log10_std,p_star_n_seeds,reached,source,search_stage,p_star_lo,p_star_hi\n");
    hs_str_printf(md, "SRHM sample complexity: P* where the best test error crosses %g; %zu of %zu rhm/srhm runs "
                      "analysed", thr, s->used, s->hier);
    if (s->unfinished) hs_str_printf(md, ", %zu unfinished (left out)", s->unfinished);
    if (s->finished > s->used) hs_str_printf(md, ", %zu finished without a test accuracy", s->finished - s->used);
    hs_str_printf(md, ".\n\n| arch | v | n_c | m | s | L | s0 |");
    for (size_t o = 0; o < c->nother; o++) hs_str_printf(md, " %s |", hs_an_short_name(c->names[o]));
    hs_str_printf(md, " X | P points | seeds | P* | source | bracket | P*/X | P* closest (eps) | log10 P* over seeds | "
                      "reached |\n|");
    for (size_t k = 0; k < 7 + c->nother + 10; k++) hs_str_printf(md, "---|");
    hs_str_printf(md, "\n");
    for (size_t k = 0; k < c->ncfg; k++) {
        const scfg *g = &c->cfgs[k];
        const srun *u = &c->runs[g->first];
        hs_str_printf(csv, "%s,%lld,%lld,%lld,%lld,%lld,%lld,", u->arch, u->v, u->n_c, u->m, u->s, u->L, u->s0);
        hs_str_printf(md, "| %s | %lld | %lld | %lld | %lld | %lld | %lld |", u->arch, u->v, u->n_c, u->m, u->s, u->L,
                      u->s0);
        for (size_t o = 0; o < c->nother; o++) {
            char v[256];
            srhm_unquote(srhm_value(c, u, o), v, sizeof v);
            hs_an_csv_put(csv, v, 0);
            hs_str_append(csv, ",", 1);
            hs_str_printf(md, " %s |", v);
        }
        hs_str_printf(csv, "%.6g,%d,%d,%.10g,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%d,%s,%s,%.10g,%.10g\n", g->X, g->n_p,
                      g->n_seeds, g->p_star, g->p_star / g->X, g->p_closest, g->eps_closest, g->l10_mean, g->l10_std,
                      g->n_seeds_reached, g->reached, g->searched ? "search" : "grid", g->searched ? g->stage : "",
                      g->s_lo, g->s_hi);
        char ps[32], ratio[32], pc[48], l10[64], br[64] = "-";
        if (g->searched) snprintf(br, sizeof br, "[%.6g, %.6g]", g->s_lo, g->s_hi);
        fmt_g(ps, sizeof ps, g->p_star, "%.4g");
        fmt_g(ratio, sizeof ratio, g->p_star / g->X, "%.3g");
        if (isnan(g->eps_closest)) snprintf(pc, sizeof pc, "-");
        else if (isnan(g->p_closest)) snprintf(pc, sizeof pc, "- (%.3f)", g->eps_closest);
        else snprintf(pc, sizeof pc, "%.4g (%.3f)", g->p_closest, g->eps_closest);
        if (isnan(g->l10_mean)) snprintf(l10, sizeof l10, "-");
        else if (isnan(g->l10_std)) snprintf(l10, sizeof l10, "%.3f", g->l10_mean);
        else snprintf(l10, sizeof l10, "%.3f +- %.3f", g->l10_mean, g->l10_std);
        hs_str_printf(md, " %.4g | %d | %d | %s | %s | %s | %s | %s | %s (%d/%d) | %s |\n", g->X, g->n_p, g->n_seeds, ps,
                      g->searched ? "search" : "grid", br, ratio, pc, l10, g->n_seeds_reached, g->n_seeds,
                      reached_name(g->reached));
    }
    hs_str_printf(md, "\nP* = prefactor X^b (OLS of ln P* on ln X over the configurations that reach %g):\n\n"
                      "| arch | s | configs | b | prefactor | r |\n|---|---|---|---|---|---|\n", thr);
    for (size_t f = 0; f < c->nfits; f++) {
        const sfit *F = &c->fits[f];
        char b[24], p[24], r[24];
        fmt_g(b, sizeof b, F->b, "%.3f"), fmt_g(p, sizeof p, F->prefactor, "%.3g"), fmt_g(r, sizeof r, F->r, "%.4f");
        hs_str_printf(md, "| %s | %d | %d | %s | %s | %s |\n", F->arch, F->s, F->n, b, p, r);
    }
    int any_search = 0;
    for (size_t k = 0; k < c->ncfg; k++) any_search |= c->cfgs[k].searched;
    if (any_search || c->notes.len)
        hs_str_printf(md, "\nsource: search = the crossing a searching stage stored in /search/<stage>, where the seed "
                          "mean of the FINAL test error crosses %g, log-interpolated in its bracket (and the per-seed "
                          "values on each seed's final errors); grid = the interpolated crossing of the mean best-error "
                          "curve above.\n", thr);
    if (c->notes.len) hs_str_printf(md, "\n%s", c->notes.buf);
    hs_str_printf(md, "\nExponent b of (s0+1): OLS of ln(P*/(n_c m^L)) on ln(s0+1) at fixed (v, L, s), predicted 2 for "
                      "cnn and L for lcn. %g%% CI: Student's t-interval of the mean of the per-seed exponents (each "
                      "seed's own P* per s0 fitted alone; seeds crossing at every s0):\n\n"
                      "| arch | v | L | s | s0 values | b | %g%% CI | seeds | seed mean | predicted | prefactor | r |\n"
                      "|---|---|---|---|---|---|---|---|---|---|---|---|\n",
                  100 * SRHM_CI_LEVEL, 100 * SRHM_CI_LEVEL);
    for (size_t f = 0; f < c->ns0fits; f++) {
        const sfit *F = &c->s0fits[f];
        char b[24], e[24], p[24], r[24], ci[64] = "-", sm[24];
        fmt_g(b, sizeof b, F->b, "%.3f"), fmt_g(e, sizeof e, F->expected, "%g"), fmt_g(sm, sizeof sm, F->seed_mean, "%.3f");
        fmt_g(p, sizeof p, F->prefactor, "%.3g"), fmt_g(r, sizeof r, F->r, "%.4f");
        if (!isnan(F->lo)) snprintf(ci, sizeof ci, "[%.3f, %.3f]", F->lo, F->hi);
        hs_str_printf(md, "| %s | %d | %d | %d | %d | %s | %s | %d | %s | %s | %s | %s |\n", F->arch, F->v, F->L, F->s,
                      F->n_s0, b, ci, F->seeds, sm, e, p, r);
    }
}

void srhm_exponent_csv(const ctx *c, hs_str *csv) {
    hs_str_printf(csv, "arch,v,L,s,configs,n_s0,b,ci_level,ci_lo,ci_hi,seeds,seed_mean,predicted,prefactor,r\n");
    for (size_t f = 0; f < c->ns0fits; f++) {
        const sfit *F = &c->s0fits[f];
        hs_str_printf(csv, "%s,%d,%d,%d,%d,%d,%.10g,%g,%.10g,%.10g,%d,%.10g,%g,%.6g,%.6g\n", F->arch, F->v, F->L, F->s,
                      F->n, F->n_s0, F->b, SRHM_CI_LEVEL, F->lo, F->hi, F->seeds, F->seed_mean, F->expected,
                      F->prefactor, F->r);
    }
}
