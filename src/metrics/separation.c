/* separation.c - the separation fuzziness D of He & Su (2023) in the exact K x K form: class
 * means and centred features projected on the K class-mean directions, a K x K eigensolve, and
 * no p x p matrix. Why the K x K form equals trace(SS_w pinv(SS_b)): SS_b = Mt^T Mt, so its
 * non-zero eigenpairs are (lambda_j, Mt^T u_j / sqrt(lambda_j)) for the eigenpairs (lambda_j, u_j)
 * of G = Mt Mt^T, and v_j^T SS_w v_j / lambda_j = u_j^T Mt SS_w Mt^T u_j / lambda_j^2. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/metrics.h"

enum { CHUNK = 64 }; /* samples per BLAS block of the second pass */

#define DEFAULT_CUTOFF 1e-10

/* ================================================================ checks */

/* Labels in range, class sizes into count [K]. Returns the first bad index or n when all good. */
static size_t count_classes(const int32_t *y, size_t n, int K, size_t *count) {
    memset(count, 0, (size_t)K * sizeof *count);
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || y[i] >= K) return i;
        count[y[i]]++;
    }
    return n;
}

static int all_finite(const double *a, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i])) return 0;
    return 1;
}

/* ================================================================ the two passes */

/* Pass 1. mean [Ke x p] = class means of the non-empty classes (compact index cls[k]), mu [p] =
 * the global sample mean, all summed in double (a float sum of 100 values near 1000 is already
 * off by ~1e-4, which is the whole between-class signal of a collapsed layer). */
static void class_means(const float *x, size_t n, size_t p, const int32_t *y, const int *cls, const size_t *count,
                        int K, int Ke, double *mean, double *mu) {
    memset(mean, 0, (size_t)Ke * p * sizeof *mean);
    for (size_t i = 0; i < n; i++) {
        double *s = mean + (size_t)cls[y[i]] * p;
        const float *xi = x + i * p;
        for (size_t j = 0; j < p; j++) s[j] += (double)xi[j];
    }
    /* mu = sum of the class sums / n: the same number as the mean of all rows */
    memset(mu, 0, p * sizeof *mu);
    for (int c = 0; c < Ke; c++)
        for (size_t j = 0; j < p; j++) mu[j] += mean[(size_t)c * p + j];
    for (size_t j = 0; j < p; j++) mu[j] /= (double)n;
    for (int k = 0; k < K; k++) {
        if (cls[k] < 0) continue;
        double *s = mean + (size_t)cls[k] * p;
        for (size_t j = 0; j < p; j++) s[j] /= (double)count[k];
    }
}

/* Pass 2. Wk [Ke x Ke] (upper triangle) = sum_i c_i z_i z_i^T with z_i = Mt (x_i - mu_{y_i}),
 * in blocks of CHUNK rows: buf [CHUNK x p] holds sqrt(c_i) (x_i - mu_{y_i}) in double (centred
 * before projecting, so no cancellation between large offsets), Z [CHUNK x Ke] = buf Mt^T, and
 * Wk += Z^T Z. */
static void within_scatter(const float *x, size_t n, size_t p, const int32_t *y, const int *cls,
                           const double *mean, const double *Mt, const double *sqrt_c, int Ke, double *buf,
                           double *Z, double *Wk) {
    memset(Wk, 0, (size_t)Ke * (size_t)Ke * sizeof *Wk);
    for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
        size_t b = n - i0 < CHUNK ? n - i0 : CHUNK;
        for (size_t r = 0; r < b; r++) {
            size_t i = i0 + r;
            int c = cls[y[i]];
            const float *xi = x + i * p;
            const double *m = mean + (size_t)c * p;
            double s = sqrt_c[c], *d = buf + r * p;
            for (size_t j = 0; j < p; j++) d[j] = s * ((double)xi[j] - m[j]);
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, Ke, (int)p, 1.0, buf, (int)p, Mt, (int)p, 0.0, Z,
                    Ke);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Ke, (int)b, 1.0, Z, Ke, 1.0, Wk, Ke);
    }
}

/* ================================================================ entry point */

hs_code hs_separation(const float *x, size_t n, size_t p, const int32_t *y, int K, hs_sep_weighting w,
                      double rel_cutoff, hs_sep_result *out, hs_error *err) {
    if (!x || !y || !out) return HS_FAIL(err, HS_ERR_VALUE, "separation: NULL features, labels or result");
    if (n == 0) return HS_FAIL(err, HS_ERR_VALUE, "separation: no samples (n = 0)");
    if (p == 0) return HS_FAIL(err, HS_ERR_VALUE, "separation: features of dimension 0");
    if (K < 2) return HS_FAIL(err, HS_ERR_VALUE, "separation: needs K >= 2 classes, got %d", K);
    if (w != HS_SEP_BALANCED && w != HS_SEP_PAPER)
        return HS_FAIL(err, HS_ERR_VALUE, "separation: unknown weighting %d", (int)w);
    /* BLAS takes int dimensions; a layer this large is a caller's bug, not data */
    if (p > (size_t)INT32_MAX || n > SIZE_MAX / p)
        return HS_FAIL(err, HS_ERR_VALUE, "separation: %zu x %zu features are too large", n, p);
    if (!(rel_cutoff > 0)) rel_cutoff = DEFAULT_CUTOFF;

    /* ---- class sizes and the compact index of the non-empty classes */
    size_t *count = malloc((size_t)K * (sizeof *count + sizeof(int)));
    if (!count) return HS_FAIL(err, HS_ERR_NOMEM, "separation: out of memory for %d classes", K);
    int *cls = (int *)(count + K);
    size_t bad = count_classes(y, n, K, count);
    if (bad < n) {
        free(count);
        return HS_FAIL(err, HS_ERR_VALUE, "separation: label %ld of sample %zu is outside 0..%d", (long)y[bad], bad,
                       K - 1);
    }
    int Ke = 0;
    for (int k = 0; k < K; k++) cls[k] = count[k] ? Ke++ : -1;
    if (Ke < 2) {
        free(count);
        return HS_FAIL(err, HS_ERR_VALUE, "separation: needs samples of at least 2 classes, got %d non-empty of %d",
                       Ke, K);
    }

    /* ---- one allocation: mean, Mt, buf [. x p]; mu [p]; Z [CHUNK x Ke]; G, Wk [Ke x Ke]; lam, sqrt_c [Ke] */
    size_t ke = (size_t)Ke, chunk = n < CHUNK ? n : CHUNK;
    if ((2 * ke + chunk + 1) > SIZE_MAX / 2 / sizeof(double) / p) {
        free(count);
        return HS_FAIL(err, HS_ERR_VALUE, "separation: %d classes x %zu features are too large", Ke, p);
    }
    size_t doubles = (2 * ke + chunk + 1) * p + chunk * ke + 2 * ke * ke + 2 * ke;
    double *mem = malloc(doubles * sizeof *mem);
    if (!mem) {
        free(count);
        return HS_FAIL(err, HS_ERR_NOMEM, "separation: out of memory (%zu doubles for %d classes x %zu features)",
                       doubles, Ke, p);
    }
    double *mean = mem, *Mt = mean + ke * p, *buf = Mt + ke * p, *mu = buf + chunk * p, *Z = mu + p;
    double *G = Z + chunk * ke, *Wk = G + ke * ke, *lam = Wk + ke * ke, *sqrt_c = lam + ke;

    class_means(x, n, p, y, cls, count, K, Ke, mean, mu);
    *out = (hs_sep_result){.D = NAN, .rank = 0, .cond = NAN, .classes = Ke, .ok = 0};
    hs_code rc = HS_OK;
    /* a non-finite feature makes its class sum non-finite (double cannot overflow on floats) */
    if (!all_finite(mean, ke * p)) goto done;

    /* ---- Mt rows sqrt(w_k) (mu_k - mu); sample weights c_i = 1/(Ke n_k) or 1/n */
    for (int k = 0; k < K; k++) {
        int c = cls[k];
        if (c < 0) continue;
        double wk = w == HS_SEP_BALANCED ? 1.0 / Ke : (double)count[k] / (double)n;
        double ci = w == HS_SEP_BALANCED ? 1.0 / ((double)Ke * (double)count[k]) : 1.0 / (double)n;
        double s = sqrt(wk);
        for (size_t j = 0; j < p; j++) Mt[(size_t)c * p + j] = s * (mean[(size_t)c * p + j] - mu[j]);
        sqrt_c[c] = sqrt(ci);
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Ke, (int)p, 1.0, Mt, (int)p, 0.0, G, Ke);
    within_scatter(x, n, p, y, cls, mean, Mt, sqrt_c, Ke, buf, Z, Wk);
    for (int a = 0; a < Ke; a++) /* Wk: upper triangle -> full (it is read as a quadratic form) */
        for (int b = 0; b < a; b++) Wk[(size_t)a * ke + b] = Wk[(size_t)b * ke + a];

    /* ---- eigenpairs of G (ascending; eigenvectors in the columns of G, upper triangle read) */
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', Ke, G, Ke, lam);
    if (info != 0) {
        rc = HS_FAIL(err, HS_ERR_VALUE, "separation: the %d x %d eigensolve failed (LAPACK info %d)", Ke, Ke,
                     (int)info);
        goto done;
    }
    double lmax = lam[Ke - 1];
    if (!isfinite(lmax)) goto done; /* D stays NaN */
    /* at most min(p, Ke - 1) eigenvalues: the rest are zero up to rounding, and a rounding-sized
     * eigenvalue divided into D (by lambda^2) is how D explodes */
    int kmax = (size_t)(Ke - 1) < p ? Ke - 1 : (int)p;
    double D = 0, lmin = NAN;
    int rank = 0;
    for (int j = Ke - 1; j >= 0 && rank < kmax && lmax > 0; j--) {
        double l = lam[j];
        if (!(l >= rel_cutoff * lmax)) break;
        double q = 0; /* u^T Wk u */
        for (int a = 0; a < Ke; a++) {
            double ua = G[(size_t)a * ke + j], t = 0;
            for (int b = 0; b < Ke; b++) t += Wk[(size_t)a * ke + b] * G[(size_t)b * ke + j];
            q += ua * t;
        }
        D += q / (l * l);
        lmin = l;
        rank++;
    }
    out->D = rank ? D : 0.0;
    out->rank = rank;
    out->cond = rank ? lmax / lmin : NAN;
    out->ok = rank > 0 && isfinite(out->D) && out->D > 0;

done:
    free(mem);
    free(count);
    return rc;
}
