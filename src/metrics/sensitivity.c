/* sensitivity.c - how much a node's features move under a perturbation of the inputs, relative
 * to how far apart the features of different inputs are: the synonym and displacement
 * sensitivities S and D of the SRHM, the Gaussian control G, and Petrini et al.'s relative
 * stability (see "sensitivities" in include/hsweep/metrics.h). Float rows in, sums in double.
 *
 * Every function here is shared by the probes that run during training (which stream chunks of
 * rows through hs_pair_acc) and by the tests that check them against brute-force loops. */
#include <math.h>

#include "hsweep/metrics.h"

void hs_pair_acc_init(hs_pair_acc *z, size_t w, double *sum, double *shift) {
    *z = (hs_pair_acc){.w = w, .sum = sum, .shift = shift};
    for (size_t j = 0; j < w; j++) sum[j] = shift[j] = 0;
}

void hs_pair_acc_add(hs_pair_acc *z, const float *rows, size_t n) {
    const size_t w = z->w;
    if (n > 0 && z->n == 0)
        for (size_t j = 0; j < w; j++) z->shift[j] = rows[j];
    for (size_t i = 0; i < n; i++) {
        const float *a = rows + i * w;
        double sq = 0;
        for (size_t j = 0; j < w; j++) {
            double d = (double)a[j] - z->shift[j];
            z->sum[j] += d;
            sq += d * d;
        }
        z->sumsq += sq;
    }
    z->n += n;
}

double hs_pair_acc_mean(const hs_pair_acc *z) {
    if (z->n == 0) return NAN;
    const double n = (double)z->n;
    double s2 = 0;
    for (size_t j = 0; j < z->w; j++) s2 += z->sum[j] * z->sum[j];
    double Z = 2.0 * z->sumsq / n - 2.0 * s2 / (n * n);
    return Z > 0 ? Z : 0; /* rounding can leave -1e-17 for identical rows */
}

double hs_pair_mean(const float *a, size_t n, size_t w) {
    if (n == 0) return NAN;
    double sumsq = 0, s2 = 0;
    for (size_t j = 0; j < w; j++) { /* column j: shift by row 0's entry, as the accumulator */
        double c = a[j], s = 0;
        for (size_t i = 0; i < n; i++) {
            double d = (double)a[i * w + j] - c;
            s += d, sumsq += d * d;
        }
        s2 += s * s;
    }
    double Z = 2.0 * sumsq / (double)n - 2.0 * s2 / ((double)n * (double)n);
    return Z > 0 ? Z : 0;
}

double hs_sq_dist_sum(const float *a, const float *b, size_t n, size_t w) {
    double s = 0;
    for (size_t i = 0; i < n * w; i++) {
        double d = (double)a[i] - (double)b[i];
        s += d * d;
    }
    return s;
}

double hs_sensitivity(const float *fx, const float *fpx, size_t n, size_t w) {
    if (n == 0) return NAN;
    return hs_sq_dist_sum(fx, fpx, n, w) / (double)n / hs_pair_mean(fx, n, w);
}

double hs_noise_sigma(const float *x, size_t n, size_t dim) {
    if (n < 2 || dim == 0) return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        const float *a = x + i * dim, *b = x + ((i + 1) % n) * dim;
        s += sqrt(hs_sq_dist_sum(a, b, 1, dim) / (double)dim);
    }
    return s / (double)n;
}

hs_stability hs_relative_stability(const float *fx, const float *ftau, const float *feta, size_t n, size_t w) {
    hs_stability r = {NAN, NAN, NAN};
    if (n < 2) return r;
    double M = hs_pair_mean(fx, n, w) * (double)n / (double)(n - 1);
    r.D = hs_sq_dist_sum(ftau, fx, n, w) / (double)n / M;
    r.G = hs_sq_dist_sum(feta, fx, n, w) / (double)n / M;
    r.R = r.D / r.G;
    return r;
}

double hs_noise_control(const float *x, size_t n, size_t dim, uint64_t seed, float *out) {
    double sigma = hs_noise_sigma(x, n, dim);
    for (size_t i = 0; i < n; i++) {
        hs_rng r;
        hs_rng_init(&r, seed, hs_rng_stream(HS_STREAM_PROBE, HS_PROBE_GAUSS(i)));
        for (size_t k = 0; k < dim; k++) out[i * dim + k] = (float)(x[i * dim + k] + sigma * hs_rng_normal(&r));
    }
    return sigma;
}
