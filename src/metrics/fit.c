/* fit.c - the line fit of the equi-separation law (OLS of ln D_l on l, Pearson r), the mean /
 * standard deviation the analysis stage aggregates seeds with, and a slope's t-interval over
 * seeds. Two-pass sums in double: ln D values share a large offset, and a one-pass sum of squares
 * would cancel it badly. */
#include <math.h>
#include <stdlib.h>

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

/* ================================================================ intervals */

static const double PI = 3.14159265358979323846;

/* P(|T| <= t) for Student's t with integer df (Abramowitz & Stegun 26.7.3-4): with
 * th = atan(t / sqrt(df)), c = cos^2 th, a finite series in c times sin th (plus th for odd df). */
static double t_central(double t, int df) {
    double th = atan(t / sqrt((double)df)), c = cos(th) * cos(th), sum, term;
    if (df % 2 == 0) {
        sum = term = 1;
        for (int k = 2; k <= df - 2; k += 2) term *= c * (k - 1) / k, sum += term;
        return sin(th) * sum;
    }
    if (df == 1) return 2 * th / PI;
    sum = term = cos(th);
    for (int k = 3; k <= df - 2; k += 2) term *= c * (k - 1) / k, sum += term;
    return 2 / PI * (th + sin(th) * sum);
}

double hs_t_critical(double level, int df) {
    if (df < 1 || !(level > 0 && level < 1)) return NAN;
    double a = 0, b = 1;
    while (t_central(b, df) < level && b < 1e300) b *= 2;
    /* the CDF is increasing in t: bisect to the double's resolution or 200 steps */
    for (int i = 0; i < 200 && b - a > 1e-13 * b; i++) {
        double m = 0.5 * (a + b);
        if (t_central(m, df) < level) a = m;
        else b = m;
    }
    return 0.5 * (a + b);
}

hs_code hs_fit_slope_ci(const double *x, const double *y, size_t n, const double *ys, size_t n_seeds, double level,
                        hs_slope_ci *out, hs_error *err) {
    hs_line_fit f;
    HS_TRY(err, hs_fit_line(x, y, n, &f, err));
    *out = (hs_slope_ci){.slope = f.slope, .intercept = f.intercept, .n = n, .seed_mean = NAN, .seed_sd = NAN,
                         .lo = NAN, .hi = NAN};
    double *slopes = malloc((n_seeds + 1) * sizeof *slopes);
    if (!slopes) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t j = 0; ys && j < n_seeds; j++) {
        const double *row = ys + j * n;
        size_t i = 0;
        while (i < n && isfinite(row[i])) i++;
        hs_line_fit g;
        hs_error e = {0};
        if (i == n && hs_fit_line(x, row, n, &g, &e) == HS_OK) slopes[k++] = g.slope;
    }
    out->seeds = k;
    if (k) out->seed_mean = hs_mean(slopes, k), out->seed_sd = hs_std(slopes, k, 1);
    if (k >= 2) {
        double half = hs_t_critical(level, (int)k - 1) * out->seed_sd / sqrt((double)k);
        out->lo = out->seed_mean - half, out->hi = out->seed_mean + half;
    }
    free(slopes);
    return HS_OK;
}
