/*
 * metrics.h - numbers measured on a trained net: the separation fuzziness D of one layer's
 * features (He & Su, "A law of data separation in deep learning", PNAS 2023), the line fit of
 * the equi-separation law, the sensitivities of a node's features to perturbations of its inputs
 * (synonyms and displacements of the SRHM, Gaussian noise, Petrini et al.'s relative stability)
 * and the max-entropy diffeomorphisms of images. Plain arrays in, doubles out: no MPI, no files.
 *
 *     // feat: n x p floats (row i = the features of sample i), y: n labels in 0..K-1
 *     hs_sep_result s;
 *     HS_TRY(err, hs_separation(feat, n, p, y, K, HS_SEP_BALANCED, 0, &s, err));
 *     D[l] = s.D;                          // s.ok == 0: zero, non-finite or no between-class spread
 *
 *     // the law: ln D_l linear in the layer index l = 0..L+1
 *     for (l = 0; l < n_layers; l++) x[l] = l, ly[l] = log(D[l]);
 *     hs_line_fit f;
 *     HS_TRY(err, hs_fit_line(x, ly, n_layers, &f, err));
 *     double rho = exp(f.slope);           // decay ratio per layer; the law holds when f.r <= -0.99
 *
 * Definition (mu = global sample mean, mu_k = mean of class k, n_k its size, m_k = mu_k - mu):
 *   balanced (the authors' code):  SS_b = 1/K sum_k m_k m_k^T,
 *                                  SS_w = 1/K sum_k 1/n_k sum_{i in k} (x_i - mu_k)(x_i - mu_k)^T
 *   paper:                         SS_b = 1/n sum_k n_k m_k m_k^T,
 *                                  SS_w = 1/n sum_i (x_i - mu_{y_i})(x_i - mu_{y_i})^T
 *   D = trace(SS_w pinv(SS_b)); the two agree when the classes are balanced. D is invariant to
 *   translation, global scale and rotation of the features, not to per-feature scaling.
 * pinv keeps at most min(p, K-1) eigenvalues of SS_b (its rank is at most K-1: sum_k n_k m_k = 0),
 * and only those >= rel_cutoff * the largest. Classes without samples are ignored: K above is the
 * number of non-empty classes (K_eff), also in the 1/K weights.
 */
#ifndef HSWEEP_METRICS_H
#define HSWEEP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "hsweep/rng.h"
#include "hsweep/status.h"

/* ---------------------------------------------------------------- separation fuzziness */

typedef enum hs_sep_weighting {
    HS_SEP_BALANCED, /* every class weighs 1/K (He & Su's code; the default) */
    HS_SEP_PAPER,    /* every sample weighs 1/n (the paper's formula) */
} hs_sep_weighting;

typedef struct hs_sep_result {
    double D;    /* separation fuzziness; 0 when rank is 0, NaN when the features are not finite */
    int rank;    /* eigenvalues of SS_b kept by the pseudo-inverse */
    double cond; /* lambda_max / lambda_min over the kept eigenvalues; NaN when rank is 0 */
    int classes; /* non-empty classes (K_eff) */
    int ok;      /* 1 when D is finite and > 0 with rank >= 1: ln D may be taken; 0 otherwise */
} hs_sep_result;

/* Separation fuzziness of features x [n x p] (row-major float) with labels y [n] in 0..K-1.
 *
 * Computed in the exact K x K form (no p x p matrix): with Mt [K x p] the rows
 * sqrt(w_k) (mu_k - mu), G = Mt Mt^T, z_i = Mt (x_i - mu_{y_i}) and Wk = sum_i c_i z_i z_i^T,
 * D = sum over kept eigenpairs (lambda_j, u_j) of G of u_j^T Wk u_j / lambda_j^2. Two passes over
 * x, O(n p K) time; everything (means, centring, products) in double, because float means make
 * the near-null eigenvalues of G spurious and D explode when features sit far from the origin.
 * One allocation of O(K p + K^2 + 64 p) doubles per call, none per sample.
 *
 * rel_cutoff <= 0 (or NaN) means the default 1e-10. A degenerate layer (all class means equal,
 * e.g. a dead ReLU layer) gives rank 0, D = 0 and ok = 0; non-finite features give D = NaN and
 * ok = 0; both return HS_OK: they are measurements, not failures.
 * Errors (HS_ERR_VALUE): NULL arrays, n == 0, p == 0, K < 2, a label outside 0..K-1 (named by
 * index), fewer than 2 non-empty classes. HS_ERR_NOMEM. */
hs_code hs_separation(const float *x, size_t n, size_t p, const int32_t *y, int K, hs_sep_weighting w,
                      double rel_cutoff, hs_sep_result *out, hs_error *err);

/* ---------------------------------------------------------------- line fit and summaries */

typedef struct hs_line_fit {
    double slope, intercept; /* OLS of y = intercept + slope x */
    double r, r2;            /* Pearson correlation and R^2 = r^2; NaN when y is constant */
    size_t n;                /* points fitted */
} hs_line_fit;

/* Ordinary least squares of y [n] on x [n] (two-pass, in double), with Pearson's r clamped to
 * [-1, 1]. Errors (HS_ERR_VALUE): NULL arrays, n < 2, a non-finite x[i] or y[i] (named by index),
 * all x equal (the slope is undefined). A constant y fits slope 0 with r = r2 = NaN. */
hs_code hs_fit_line(const double *x, const double *y, size_t n, hs_line_fit *out, hs_error *err);

/* Arithmetic mean of x [n]; NaN when n == 0. Non-finite values propagate. */
double hs_mean(const double *x, size_t n);

/* Standard deviation of x [n] with divisor n - ddof (numpy's convention: ddof = 0 population,
 * ddof = 1 sample, the unbiased variance); NaN when n <= ddof. Two-pass. */
double hs_std(const double *x, size_t n, int ddof);

/* The t such that P(|T| <= t) = level for Student's t with df degrees of freedom (df >= 1,
 * level in (0, 1)): the half-width factor of a two-sided interval, 12.706 for df 1 and 4.303 for
 * df 2 at level 0.95. From the closed-form CDF of integer df, inverted by bisection to about
 * 1e-12 relative; NaN for df < 1 or level outside (0, 1). */
double hs_t_critical(double level, int df);

/* A line's slope with a confidence interval over seeds (independent replicates):
 *   slope, intercept: OLS of y [n] on x [n] (the pooled values, e.g. seed-averaged);
 *   per seed j, the OLS slope of ys[j * n .. j * n + n) on x; a seed with a non-finite value at
 *   some x is left out (`seeds` counts those kept), so every kept seed spans the same x;
 *   seed_mean, seed_sd: mean and std (ddof 1) of the kept seeds' slopes;
 *   lo, hi = seed_mean -+ hs_t_critical(level, seeds - 1) seed_sd / sqrt(seeds): Student's
 *   t-interval of the mean slope, NaN with fewer than 2 seeds (an exact line in every seed gives
 *   lo = hi = its slope).
 * Errors as hs_fit_line's for x, y (HS_ERR_VALUE); ys may be NULL (n_seeds 0). */
typedef struct hs_slope_ci {
    double slope, intercept;
    double seed_mean, seed_sd, lo, hi;
    size_t n, seeds;
} hs_slope_ci;
hs_code hs_fit_slope_ci(const double *x, const double *y, size_t n, const double *ys, size_t n_seeds, double level,
                        hs_slope_ci *out, hs_error *err);

/* ---------------------------------------------------------------- sensitivities
 * ../shared/reference/srhm-sensitivity.md sections 2, 6 and 8. f(x) is a node's output for input
 * x, flattened to a row of w floats; a set of n inputs gives n rows. Sums are in double.
 *
 *     // Z: the mean over ALL ordered pairs (i, j) of the reference set, diagonal included, of
 *     // ||f(x_i) - f(x_j)||^2 (so (n-1)/n of the mean over distinct pairs), by the Gram identity
 *     // Z = (2/n) sum_i ||a_i||^2 - (2/n^2) ||sum_i a_i||^2, streamed over chunks of rows:
 *     double sum[w], shift[w];
 *     hs_pair_acc z;
 *     hs_pair_acc_init(&z, w, sum, shift);
 *     hs_pair_acc_add(&z, fx, n);                             // any number of calls
 *     double Z = hs_pair_acc_mean(&z);                        // == hs_pair_mean(fx, n, w)
 *     double S = hs_sq_dist_sum(fx, fpx, n, w) / n / Z;       // S_{k,l} with fpx = f(P_l x)
 *
 * S_{k,l} = mean_i ||f_k(x_i) - f_k(P_l x_i)||^2 / Z_k and D_{k,l} (tau_l) share Z_k; the
 * Gaussian control G_k divides by Z_k of its own clean inputs. The Gram identity is applied to
 * the rows minus the first row added (Z does not move under a common shift), so a large common
 * offset of the features (post-ReLU means, logits) does not cancel away the digits of Z. */
typedef struct hs_pair_acc {
    size_t w, n;   /* row width; rows added */
    double sumsq;  /* sum_i ||a_i - c||^2 */
    double *sum;   /* [w] sum_i (a_i - c), caller's storage */
    double *shift; /* [w] c = the first row added, caller's storage */
} hs_pair_acc;
void hs_pair_acc_init(hs_pair_acc *z, size_t w, double *sum, double *shift);
void hs_pair_acc_add(hs_pair_acc *z, const float *rows, size_t n); /* rows [n x w] */
double hs_pair_acc_mean(const hs_pair_acc *z); /* Z; NaN when no row was added */
/* Z of a [n x w] in one call (column by column, no storage); NaN for n = 0. */
double hs_pair_mean(const float *a, size_t n, size_t w);
/* sum_i ||a_i - b_i||^2 over rows of a, b [n x w]. */
double hs_sq_dist_sum(const float *a, const float *b, size_t n, size_t w);
/* mean_i ||a_i - b_i||^2 / hs_pair_mean(a): S or D of one node from whole arrays. */
double hs_sensitivity(const float *fx, const float *fpx, size_t n, size_t w);
/* The noise level of the authors' Gaussian control: the mean over the n pairs (i, i+1 mod n) of
 * distinct inputs x [n x dim] of the RMS over entries of x_i - x_(i+1) (n >= 2; NaN otherwise). */
double hs_noise_sigma(const float *x, size_t n, size_t dim);

/* The Gaussian control's noisy inputs: out = x + N(0, sigma^2) in every entry, sigma =
 * hs_noise_sigma(x, n, dim), row i's noise from stream (HS_STREAM_PROBE, HS_PROBE_GAUSS(i)) of
 * seed. Returns sigma. */
double hs_noise_control(const float *x, size_t n, size_t dim, uint64_t seed, float *out);

/* Relative stability (Petrini et al., NeurIPS 2021) of one node from f(x), f(tau x) and
 * f(x + eta) [n x w]: with M = the mean over DISTINCT pairs (i != j) of ||f(x_i) - f(x_j)||^2
 * (= Z n / (n - 1); the published definition averages over independent x, z),
 *   D = mean_i ||f(tau x_i) - f(x_i)||^2 / M,  G = mean_i ||f(x_i + eta_i) - f(x_i)||^2 / M,
 *   R = D / G.
 * The probe draws eta isotropic with ||eta_i|| = mean_j ||tau x_j - x_j|| for every i, so at the
 * input itself G = (mean ||tau x - x||)^2 / M and R = mean ||tau x - x||^2 / (mean ||tau x - x||)^2
 * >= 1 (Jensen). M is NaN for n < 2. (The authors' code divides by the median of the pairwise
 * distances instead; R does not depend on the denominator.) */
typedef struct hs_stability {
    double D, G, R;
} hs_stability;
hs_stability hs_relative_stability(const float *fx, const float *ftau, const float *feta, size_t n, size_t w);

/* ---------------------------------------------------------------- max-entropy diffeomorphisms
 * Petrini et al.'s random smooth deformations of an n x n image (srhm-sensitivity.md section 6).
 * Pixel (row y, column x) has coordinates u = x / (n-1), v = y / (n-1) in [0, 1]. Each of the two
 * displacement fields is
 *     tau(u, v) = sum over integers i, j >= 1 with sqrt(i^2 + j^2) < c + 0.5 of
 *                 C_ij sin(i pi u) sin(j pi v),   C_ij ~ N(0, T / (i^2 + j^2)),
 * in pixels n tau (zero on the border). The deformed image at p is the input at p - displacement,
 * the source coordinates clamped to [0, n-1], interpolated bilinearly, every channel alike. T = 0
 * is the identity, exactly. Natural temperatures: T_min = 1 / (pi n^2 ln c) (half a pixel at the
 * centre) to T_max = 4 / (pi^3 c^2 ln c) (no overhangs); a typical displacement is
 * delta = (n/2) sqrt(pi T ln c) (the RMS over the image of |displacement| is about delta).
 *
 *     double work[n * c];
 *     float dx[n * n], dy[n * n];
 *     hs_rng rng;
 *     hs_rng_init(&rng, seed, hs_rng_stream(HS_STREAM_PROBE, i));
 *     double T = sqrt(hs_diffeo_t_min(n, 3) * hs_diffeo_t_max(3));
 *     hs_diffeo_field(n, 3, T, &rng, work, dx, dy);
 *     hs_diffeo_apply(img, channels, n, dx, dy, out);        // img, out [channels x n x n]
 */
#define HS_DIFFEO_MAX_CUT 64
double hs_diffeo_t_min(int n, int c); /* c >= 2 */
double hs_diffeo_t_max(int c);
double hs_diffeo_delta(int n, int c, double T);
/* Draw both fields (C_ij of dx for i = 1..c, j = 1..c in order, the modes inside the cutoff only,
 * then those of dy) into dx, dy [n x n] pixels, row-major. work: [n c] doubles of scratch.
 * 2 <= c <= HS_DIFFEO_MAX_CUT, n >= 2, T >= 0. */
void hs_diffeo_field(int n, int c, double T, hs_rng *rng, double *work, float *dx, float *dy);
/* out [channels x n x n] = in deformed by (dx, dy); in and out must not overlap. */
void hs_diffeo_apply(const float *in, int channels, int n, const float *dx, const float *dy, float *out);

/* The inputs of the stability probe, from images [n_images x channels x side x side] (a test
 * set): x = n of them drawn without replacement (a partial shuffle with stream (HS_STREAM_PROBE,
 * HS_PROBE_PICK)), in draw order; tx = image i deformed by its own field (stream HS_PROBE_DIFFEO(i),
 * cut c, temperature T); ex = x + eta_i, eta_i isotropic Gaussian (stream HS_PROBE_NOISE(i))
 * rescaled to ||eta_i|| = mean_j ||tx_j - x_j|| (what Petrini et al.'s G compares D with). All
 * streams keyed by seed; each [n x channels side^2]. Errors: n outside 2 .. min(n_images,
 * HS_PROBE_MAX_INPUTS) or a cut outside 2 .. HS_DIFFEO_MAX_CUT (HS_ERR_VALUE naming record.stability /
 * record.diffeo_c), HS_ERR_NOMEM. */
hs_code hs_stability_inputs(const float *images, long long n_images, int channels, int side, int n, int c, double T,
                            uint64_t seed, float *x, float *tx, float *ex, hs_error *err);

#endif /* HSWEEP_METRICS_H */
