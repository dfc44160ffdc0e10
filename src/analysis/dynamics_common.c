/* dynamics_common.c - statistics, writers and formatting the parts of the learning-dynamics
 * analysis share (see dynamics.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamics.h"
#include "hsweep/metrics.h"

/* ================================================================ writers */

/* name inside x->part ("part/name"), or name itself at the top of the group. */
static const char *in_part(const ctx *x, const char *name, char *buf, size_t n) {
    if (!x->part || !x->part[0]) return name;
    snprintf(buf, n, "%s/%s", x->part, name);
    return buf;
}

int dyn_part(ctx *x, hs_analysis_out *g, const char *part) {
    x->part = part;
    return hs_aout_group(g, part) != HS_OK;
}

int dyn_f64(const ctx *x, hs_analysis_out *g, const char *name, int nd, const size_t *dims, const double *v) {
    char p[256];
    return hs_aout_f64(g, in_part(x, name, p, sizeof p), nd, dims, v) != HS_OK;
}

int dyn_i32_nd(const ctx *x, hs_analysis_out *g, const char *name, int nd, const size_t *dims, const int *v) {
    char p[256];
    return hs_aout_i32(g, in_part(x, name, p, sizeof p), nd, dims, v) != HS_OK;
}

int dyn_i32(const ctx *x, hs_analysis_out *g, const char *name, size_t n, const int *v) {
    return dyn_i32_nd(x, g, name, 1, &n, v);
}

int dyn_i8(const ctx *x, hs_analysis_out *g, const char *name, size_t n, const signed char *v) {
    char p[256];
    return hs_aout_i8(g, in_part(x, name, p, sizeof p), n, v) != HS_OK;
}

int dyn_strs(const ctx *x, hs_analysis_out *g, const char *name, size_t n, const char *const *v) {
    char p[256];
    return hs_aout_strs(g, in_part(x, name, p, sizeof p), n, v) != HS_OK;
}

int dyn_attr(const ctx *x, hs_analysis_out *g, const char *name, double v) {
    return hs_aout_attr(g, x->part ? x->part : "", name, v) != HS_OK;
}

void dyn_gather_col(const double *rows, size_t R, size_t stride, size_t q, size_t n, double *out) {
    for (size_t r = 0; r < R; r++) memcpy(out + r * n, rows + r * stride + q, n * sizeof *out);
}

/* ================================================================ steps, formatting, statistics */

/* The step of stored point j: /records/step at its record point (NaN when none). */
double dyn_step_of(const double *pt, size_t j, const double *step, size_t N) {
    double p = pt[j];
    if (!(p >= 0) || p >= (double)N) return NAN;
    return step[(size_t)p];
}

void dyn_fmt_pm(char *b, size_t n, double m, double s, const char *f) {
    char x[32], y[32];
    if (isnan(m)) {
        snprintf(b, n, "-");
        return;
    }
    snprintf(x, sizeof x, f, m);
    if (isnan(s)) snprintf(b, n, "%s", x);
    else snprintf(y, sizeof y, f, s), snprintf(b, n, "%s +- %s", x, y);
}

void dyn_fmt_g(char *b, size_t n, double x, const char *f) {
    if (isnan(x)) snprintf(b, n, "-");
    else snprintf(b, n, f, x);
}

/* "5,4,3=2,1 (never: 0)": levels in the order their accuracy reaches the threshold (ties at the
 * same step joined by '='), then those that never do. */
void dyn_order_text(const double *t90, size_t nv, hs_str *out) {
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

/* The names of the bits set in f, comma-separated ("" when none): flag bit b is names[b]. */
void dyn_flag_text(int f, const char *const *names, int n, hs_str *out) {
    for (int b = 0; b < n; b++)
        if (f & (1 << b)) hs_str_printf(out, "%s%s", out->len ? ", " : "", names[b]);
    if (!out->buf) hs_str_printf(out, "%s", "");
}

/* Mean, std and count over config c's selected runs of row value q. */
void dyn_cstat(const ctx *x, size_t c, size_t q, double *m, double *s, int *n) {
    size_t k = 0;
    for (size_t r = 0; r < x->R; r++)
        if (x->sel[r] && x->cfg[r] == (int)c && isfinite(x->rows[r * x->y.stride + q]))
            x->tmp[k++] = x->rows[r * x->y.stride + q];
    *m = hs_mean(x->tmp, k), *s = hs_std(x->tmp, k, 1), *n = (int)k;
}

double dyn_cmax(const ctx *x, size_t c, size_t q) {
    double v = NAN;
    for (size_t r = 0; r < x->R; r++) {
        double z = x->rows[r * x->y.stride + q];
        if (x->sel[r] && x->cfg[r] == (int)c && isfinite(z) && (isnan(v) || z > v)) v = z;
    }
    return v;
}

int dyn_cflags(const ctx *x, size_t c, size_t q) {
    int f = 0;
    for (size_t r = 0; r < x->R; r++)
        if (x->sel[r] && x->cfg[r] == (int)c && isfinite(x->rows[r * x->y.stride + q]))
            f |= (int)x->rows[r * x->y.stride + q];
    return f;
}

size_t dyn_ccount(const ctx *x, size_t c) {
    size_t n = 0;
    for (size_t r = 0; r < x->R; r++) n += x->sel[r] && x->cfg[r] == (int)c;
    return n;
}

/* sel[r] = 1 for analysed runs whose row value q is 1 (q = SIZE_MAX: every analysed run). */
size_t dyn_select(ctx *x, size_t q) {
    size_t n = 0;
    for (size_t r = 0; r < x->R; r++) {
        const double *row = x->rows + r * x->y.stride;
        x->sel[r] = x->cfg[r] >= 0 && (q == SIZE_MAX || row[q] == 1);
        n += (size_t)x->sel[r];
    }
    return n;
}

/* Per-config mean/std/count arrays [C x n] of row values q0 .. q0 + n - 1 (selected runs). */
void dyn_cstat_block(const ctx *x, size_t q0, size_t n, double *mean, double *sd, int *cnt) {
    for (size_t c = 0; c < x->C; c++)
        for (size_t j = 0; j < n; j++) {
            int k;
            dyn_cstat(x, c, q0 + j, &mean[c * n + j], &sd[c * n + j], &k);
            if (cnt) cnt[c * n + j] = k;
        }
}


/* Per-run values q0 .. q0 + n - 1 as g/name [R x n] (or [R] when n1 = 0). */
int dyn_runs(const ctx *x, hs_analysis_out *g, const char *name, size_t q0, size_t n, int vec) {
    dyn_gather_col(x->rows, x->R, x->y.stride, q0, n, x->buf);
    size_t d[2] = {x->R, n};
    return dyn_f64(x, g, name, vec ? 2 : 1, d, x->buf);
}

/* Per-run mode/level value f of blocks [n x width] starting at q0: g/name [R x n]. */
int dyn_runs_strided(const ctx *x, hs_analysis_out *g, const char *name, size_t q0, size_t n, size_t width, size_t f) {
    for (size_t r = 0; r < x->R; r++)
        for (size_t j = 0; j < n; j++) x->buf[r * n + j] = x->rows[r * x->y.stride + q0 + j * width + f];
    size_t d[2] = {x->R, n};
    return dyn_f64(x, g, name, 2, d, x->buf);
}

/* A per-run int8 column of row value q (NaN -> -1). */
int dyn_runs_i8(const ctx *x, hs_analysis_out *g, const char *name, size_t q) {
    signed char *v = (signed char *)x->buf;
    for (size_t r = 0; r < x->R; r++) {
        double z = x->rows[r * x->y.stride + q];
        v[r] = isfinite(z) ? (signed char)z : -1;
    }
    return dyn_i8(x, g, name, x->R, v);
}

int dyn_runs_i32(const ctx *x, hs_analysis_out *g, const char *name, size_t q) {
    int *v = (int *)x->buf;
    for (size_t r = 0; r < x->R; r++) {
        double z = x->rows[r * x->y.stride + q];
        v[r] = isfinite(z) ? (int)z : -1;
    }
    return dyn_i32(x, g, name, x->R, v);
}

/* Per-config stats of values [n] (width-strided field f) under prefix: <p>_mean, <p>_std [C x n]. */
int dyn_cfg_stats(const ctx *x, hs_analysis_out *g, const char *p, size_t q0, size_t n, size_t width, size_t f,
                  int with_n) {
    double *mean = x->buf, *sd = x->buf + x->C * n;
    int *cnt = (int *)(x->buf + 2 * x->C * n);
    for (size_t c = 0; c < x->C; c++)
        for (size_t j = 0; j < n; j++) {
            int k;
            dyn_cstat(x, c, q0 + j * width + f, &mean[c * n + j], &sd[c * n + j], &k);
            cnt[c * n + j] = k;
        }
    char name[128];
    size_t d[2] = {x->C, n};
    int w = 0;
    snprintf(name, sizeof name, "%s_mean", p), w |= dyn_f64(x, g, name, 2, d, mean);
    snprintf(name, sizeof name, "%s_std", p), w |= dyn_f64(x, g, name, 2, d, sd);
    if (with_n)
        snprintf(name, sizeof name, "%s_n", p), w |= dyn_i32_nd(x, g, name, 2, d, cnt);
    return w;
}
