/* ops_helpers.h - what the tests of the conv nets' ops (test_ops.c, test_conv.c) share: seeded
 * float inputs with their exact double copies, central finite differences of a double loss, and
 * errors measured against a double reference relative to the reference's largest magnitude (so a
 * sign flipped in a backward reads as an error near 1, and float rounding as 1e-7..1e-5). */
#ifndef HSWEEP_TEST_OPS_HELPERS_H
#define HSWEEP_TEST_OPS_HELPERS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "hsweep/rng.h"

/* x[i] uniform in [lo, hi), and xd[i] = x[i] exactly (xd may be NULL). */
static inline void ops_fill(float *x, double *xd, size_t n, hs_rng *r, float lo, float hi) {
    for (size_t i = 0; i < n; i++) {
        x[i] = lo + (hi - lo) * hs_rng_uniformf(r);
        if (xd) xd[i] = x[i];
    }
}

static inline void ops_to_double(double *xd, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) xd[i] = x[i];
}

/* max |a - ref| / max |ref| (the absolute error when ref is all zero) */
static inline double ops_err(const float *a, const double *ref, size_t n) {
    double e = 0.0, m = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - ref[i]);
        if (d > e || isnan(d)) e = isnan(d) ? INFINITY : d;
        if (fabs(ref[i]) > m) m = fabs(ref[i]);
    }
    return m > 0.0 ? e / m : e;
}

/* the same between two float arrays (b as the reference) */
static inline double ops_err_ff(const float *a, const float *b, size_t n) {
    double e = 0.0, m = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - (double)b[i]);
        if (d > e || isnan(d)) e = isnan(d) ? INFINITY : d;
        if (fabs((double)b[i]) > m) m = fabs((double)b[i]);
    }
    return m > 0.0 ? e / m : e;
}

/* A scalar loss of double parameters: the tests' losses are sum_i R[i] ref_out[i] for a fixed
 * random R, so the op's dout is R. */
typedef double (*ops_loss_fn)(void *ctx);

/* g[i] = (f(x + h e_i) - f(x - h e_i)) / 2h for i < n, x restored after each. */
static inline void ops_fd(double *g, double *x, size_t n, ops_loss_fn f, void *ctx, double h) {
    for (size_t i = 0; i < n; i++) {
        const double x0 = x[i];
        x[i] = x0 + h;
        const double lp = f(ctx);
        x[i] = x0 - h;
        const double lm = f(ctx);
        x[i] = x0;
        g[i] = (lp - lm) / (2.0 * h);
    }
}

static inline double ops_dot(const double *r, const double *y, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += r[i] * y[i];
    return s;
}

/* Report-and-assert helper: prints the measured error of a named check when it fails. */
#define OPS_CHECK(err, bound, what)                                                                        \
    do {                                                                                                   \
        const double e_ = (err);                                                                           \
        if (!(e_ <= (bound))) fprintf(stderr, "\n  %s: error %.3g > bound %.3g\n", (what), e_, (double)(bound)); \
        CU_ASSERT(e_ <= (bound));                                                                          \
    } while (0)

#endif
