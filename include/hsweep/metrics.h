/*
 * metrics.h - numbers measured on a trained net: the separation fuzziness D of one layer's
 * features (He & Su, "A law of data separation in deep learning", PNAS 2023) and the line fit of
 * the equi-separation law. Plain arrays in, doubles out: no MPI, no files.
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

#endif /* HSWEEP_METRICS_H */
