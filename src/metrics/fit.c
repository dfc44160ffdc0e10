/* fit.c - the line fit of the equi-separation law (OLS of ln D_l on l, Pearson r) and the
 * mean / standard deviation the analysis stage aggregates seeds with. Two-pass sums in double:
 * ln D values share a large offset, and a one-pass sum of squares would cancel it badly. */
#include <math.h>

#include "hsweep/metrics.h"

/* ================================================================ summaries */

double hs_mean(const double *x, size_t n) {
    if (n == 0 || !x) return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s / (double)n;
}

double hs_std(const double *x, size_t n, int ddof) {
    double div = (double)n - (double)ddof;
    if (n == 0 || !x || !(div > 0)) return NAN;
    double m = hs_mean(x, n), s = 0;
    for (size_t i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return sqrt(s / div);
}

/* ================================================================ line fit */

hs_code hs_fit_line(const double *x, const double *y, size_t n, hs_line_fit *out, hs_error *err) {
    if (!x || !y || !out) return HS_FAIL(err, HS_ERR_VALUE, "line fit: NULL x, y or result");
    if (n < 2) return HS_FAIL(err, HS_ERR_VALUE, "line fit: needs at least 2 points, got %zu", n);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) return HS_FAIL(err, HS_ERR_VALUE, "line fit: x[%zu] = %g is not finite", i, x[i]);
        if (!isfinite(y[i])) return HS_FAIL(err, HS_ERR_VALUE, "line fit: y[%zu] = %g is not finite", i, y[i]);
    }
    double xm = hs_mean(x, n), ym = hs_mean(y, n), sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - xm, dy = y[i] - ym;
        sxx += dx * dx, syy += dy * dy, sxy += dx * dy;
    }
    if (!(sxx > 0)) return HS_FAIL(err, HS_ERR_VALUE, "line fit: all %zu x values equal %g: no slope", n, x[0]);
    double slope = sxy / sxx, r = NAN;
    if (syy > 0) {
        double prod = sxx * syy; /* one rounding before the sqrt: an exact line gives r = +-1 more often */
        r = isfinite(prod) ? sxy / sqrt(prod) : sxy / sqrt(sxx) / sqrt(syy);
        r = r > 1 ? 1 : r < -1 ? -1 : r; /* rounding can step just outside on an exact line */
    }
    *out = (hs_line_fit){.slope = slope, .intercept = ym - slope * xm, .r = r, .r2 = r * r, .n = n};
    return HS_OK;
}
