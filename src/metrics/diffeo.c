/* diffeo.c - Petrini et al.'s maximum-entropy diffeomorphisms of square images: a random smooth
 * displacement field from a few sine modes at temperature T, applied by bilinear interpolation
 * with clamped source coordinates (see "max-entropy diffeomorphisms" in include/hsweep/metrics.h).
 *
 * Follows the authors' diffeo code: u = linspace(0, 1, n), modes i, j = 1..c kept when
 * sqrt(i^2 + j^2) < c + 0.5, coefficients N(0, 1) / sqrt(i^2 + j^2) times sqrt(T), displacement
 * n times the field, output(p) = input(p - displacement(p)). Fields are summed in double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/metrics.h"

#define PI 3.14159265358979323846 /* strict C17 has no M_PI */

double hs_diffeo_t_min(int n, int c) { return 1.0 / (PI * (double)n * (double)n * log((double)c)); }

double hs_diffeo_t_max(int c) { return 4.0 / (PI * PI * PI * (double)c * (double)c * log((double)c)); }

double hs_diffeo_delta(int n, int c, double T) { return 0.5 * (double)n * sqrt(PI * T * log((double)c)); }

/* One field into out [n x n] (pixels): coefficients drawn from rng, sines from the table s [n x c]. */
static void one_field(int n, int c, double T, hs_rng *rng, const double *s, float *out) {
    double C[HS_DIFFEO_MAX_CUT][HS_DIFFEO_MAX_CUT], A[HS_DIFFEO_MAX_CUT];
    const double lim = (double)c + 0.5, amp = sqrt(T);
    for (int i = 1; i <= c; i++)
        for (int j = 1; j <= c; j++) {
            double r = sqrt((double)(i * i + j * j));
            C[i - 1][j - 1] = r < lim ? amp * hs_rng_normal(rng) / r : 0.0;
        }
    for (int y = 0; y < n; y++) {
        /* A_i = sum_j C_ij sin(j pi v_y): the row's weight of each x-mode */
        for (int i = 0; i < c; i++) {
            double a = 0;
            for (int j = 0; j < c; j++) a += C[i][j] * s[(size_t)y * c + j];
            A[i] = a;
        }
        for (int x = 0; x < n; x++) {
            double f = 0;
            for (int i = 0; i < c; i++) f += A[i] * s[(size_t)x * c + i];
            out[(size_t)y * n + x] = (float)(f * n);
        }
    }
}

void hs_diffeo_field(int n, int c, double T, hs_rng *rng, double *work, float *dx, float *dy) {
    for (int p = 0; p < n; p++)
        for (int i = 1; i <= c; i++) work[(size_t)p * c + (i - 1)] = sin(PI * (double)i * (double)p / (n - 1));
    one_field(n, c, T, rng, work, dx);
    one_field(n, c, T, rng, work, dy);
}

static double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

void hs_diffeo_apply(const float *in, int channels, int n, const float *dx, const float *dy, float *out) {
    const size_t plane = (size_t)n * (size_t)n;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            size_t p = (size_t)y * n + x;
            double xn = clamp(x - (double)dx[p], 0, n - 1), yn = clamp(y - (double)dy[p], 0, n - 1);
            int xf = (int)floor(xn), yf = (int)floor(yn), xc = (int)ceil(xn), yc = (int)ceil(yn);
            double xv = xn - xf, yv = yn - yf;
            double w00 = (1 - yv) * (1 - xv), w01 = (1 - yv) * xv, w10 = yv * (1 - xv), w11 = yv * xv;
            size_t i00 = (size_t)yf * n + xf, i01 = (size_t)yf * n + xc, i10 = (size_t)yc * n + xf,
                   i11 = (size_t)yc * n + xc;
            for (int ch = 0; ch < channels; ch++) {
                const float *a = in + (size_t)ch * plane;
                out[(size_t)ch * plane + p] = (float)(w00 * a[i00] + w01 * a[i01] + w10 * a[i10] + w11 * a[i11]);
            }
        }
}

hs_code hs_stability_inputs(const float *images, long long n_images, int channels, int side, int n, int c, double T,
                            uint64_t seed, float *x, float *tx, float *ex, hs_error *err) {
    if (n < 2 || n > n_images || n > HS_PROBE_MAX_INPUTS) {
        HS_FAIL(err, HS_ERR_VALUE, "record.stability = %d: needs 2 .. %lld test images (the test set's size)", n,
                n_images < HS_PROBE_MAX_INPUTS ? n_images : (long long)HS_PROBE_MAX_INPUTS);
        return hs_error_hint(err, "pairs of images give the denominator: at least 2; at most data.n_test");
    }
    if (c < 2 || c > HS_DIFFEO_MAX_CUT)
        return HS_FAIL(err, HS_ERR_VALUE, "record.diffeo_c = %d: the cutoff must be in 2 .. %d", c, HS_DIFFEO_MAX_CUT);
    const size_t dim = (size_t)channels * side * side, plane = (size_t)side * side;
    uint32_t *perm = malloc((size_t)n_images * sizeof *perm);
    double *work = malloc((size_t)side * c * sizeof *work);
    float *dx = malloc(plane * sizeof *dx), *dy = malloc(plane * sizeof *dy);
    if (!perm || !work || !dx || !dy) {
        free(perm), free(work), free(dx), free(dy);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the stability probe's %d images", n);
    }
    hs_rng r;
    hs_rng_init(&r, seed, hs_rng_stream(HS_STREAM_PROBE, HS_PROBE_PICK));
    for (long long i = 0; i < n_images; i++) perm[i] = (uint32_t)i;
    double mean_norm = 0;
    for (int i = 0; i < n; i++) {
        long long j = i + (long long)hs_rng_below(&r, (uint64_t)(n_images - i)); /* partial Fisher-Yates */
        uint32_t t = perm[i];
        perm[i] = perm[j], perm[j] = t;
        memcpy(x + (size_t)i * dim, images + (size_t)perm[i] * dim, dim * sizeof *x);
        hs_rng d;
        hs_rng_init(&d, seed, hs_rng_stream(HS_STREAM_PROBE, HS_PROBE_DIFFEO(i)));
        hs_diffeo_field(side, c, T, &d, work, dx, dy);
        hs_diffeo_apply(x + (size_t)i * dim, channels, side, dx, dy, tx + (size_t)i * dim);
        mean_norm += sqrt(hs_sq_dist_sum(x + (size_t)i * dim, tx + (size_t)i * dim, 1, dim));
    }
    mean_norm /= n;
    for (int i = 0; i < n; i++) {
        hs_rng e;
        hs_rng_init(&e, seed, hs_rng_stream(HS_STREAM_PROBE, HS_PROBE_NOISE(i)));
        float *out = ex + (size_t)i * dim;
        double sq = 0;
        for (size_t k = 0; k < dim; k++) {
            double z = hs_rng_normal(&e);
            out[k] = (float)z, sq += z * z;
        }
        double scale = sq > 0 ? mean_norm / sqrt(sq) : 0;
        for (size_t k = 0; k < dim; k++) out[k] = (float)(x[(size_t)i * dim + k] + scale * out[k]);
    }
    free(perm), free(work), free(dx), free(dy);
    return HS_OK;
}
