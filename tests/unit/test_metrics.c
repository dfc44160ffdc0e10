/* test_metrics.c - separation fuzziness against the hand-checkable cases of
 * ../shared/reference/equi-separation.md and against a dense p x p reference (trace(SS_w pinv(SS_b))
 * built here independently), its invariances, the float32 trap, the cutoff / rank rules, and the
 * line fit against hand-computed values. Numbers outside the note were computed once with numpy:
 *
 *   X = [(0,0),(1,0),(3,1),(3,3),(0,4),(1,5)]; y = [0,0,1,1,2,2]     # K=3, p=2, balanced
 *   M = (class means - global mean) / sqrt(3); lam = eigvalsh(M M^T)  -> cond = lam[2]/lam[1]
 *     = 2.4639402394753702; D with the top eigenpair only = 0.1188805680951126
 *   polyfit(0..4, [1,3,2,5,4], 1) -> slope 0.8, intercept 1.4; corrcoef -> r = 0.8 (by hand:
 *     Sxx = 10, Syy = 10, Sxy = 8)
 *   std([1,2,4,7]) = 2.2912878474779199, std(ddof=1) = 2.6457513110645907
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

#include "hsweep/data.h"
#include "hsweep/metrics.h"
#include "hsweep/rng.h"
#include "testing.h"

/* ================================================================ helpers */

static double rel_err(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-300); }

#define ASSERT_REL(got, want, tol)                                                                 \
    do {                                                                                           \
        double g_ = (got), w_ = (want);                                                            \
        if (!(rel_err(g_, w_) <= (tol)))                                                           \
            fprintf(stderr, "\n  %s = %.17g, want %.17g (rel %.3g > %.1g)\n", #got, g_, w_,        \
                    rel_err(g_, w_), (double)(tol));                                               \
        CU_ASSERT(rel_err(g_, w_) <= (tol));                                                       \
    } while (0)

/* D through the library; asserts HS_OK. */
static hs_sep_result sep(const float *x, size_t n, size_t p, const int32_t *y, int K, hs_sep_weighting w,
                         double cutoff) {
    hs_sep_result r = {0};
    hs_error err = {0};
    hs_code rc = hs_separation(x, n, p, y, K, w, cutoff, &r, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  hs_separation: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, HS_OK);
    return r;
}

/* ================================================================ dense reference
 * SS_b and SS_w as p x p double matrices straight from the definitions, SS_b's eigenpairs by
 * dsyevd, pinv over the top min(p, Ke-1) eigenvalues >= cutoff * the largest, and
 * D = sum_j v_j^T SS_w v_j / lambda_j = trace(SS_w pinv(SS_b)). O(n p^2 + p^3): tests only. */
static double dense_D(const float *x, size_t n, size_t p, const int32_t *y, int K, hs_sep_weighting w, double cutoff,
                      int *rank_out) {
    if (cutoff <= 0) cutoff = 1e-10;
    size_t *cnt = calloc((size_t)K, sizeof *cnt);
    double *means = calloc((size_t)K * p, sizeof *means), *mu = calloc(p, sizeof *mu);
    double *Sb = calloc(p * p, sizeof *Sb), *Sw = calloc(p * p, sizeof *Sw), *lam = calloc(p, sizeof *lam);
    double *R = calloc(n * p, sizeof *R), *m = calloc(p, sizeof *m);
    for (size_t i = 0; i < n; i++) {
        cnt[y[i]]++;
        for (size_t j = 0; j < p; j++) means[(size_t)y[i] * p + j] += x[i * p + j], mu[j] += x[i * p + j];
    }
    int Ke = 0;
    for (int k = 0; k < K; k++) Ke += cnt[k] > 0;
    for (size_t j = 0; j < p; j++) mu[j] /= (double)n;
    for (int k = 0; k < K; k++) {
        if (!cnt[k]) continue;
        for (size_t j = 0; j < p; j++) means[(size_t)k * p + j] /= (double)cnt[k];
        double wk = w == HS_SEP_BALANCED ? 1.0 / Ke : (double)cnt[k] / (double)n;
        for (size_t j = 0; j < p; j++) m[j] = means[(size_t)k * p + j] - mu[j];
        cblas_dsyr(CblasRowMajor, CblasUpper, (int)p, wk, m, 1, Sb, (int)p);
    }
    for (size_t i = 0; i < n; i++) {
        double ci = w == HS_SEP_BALANCED ? 1.0 / ((double)Ke * (double)cnt[y[i]]) : 1.0 / (double)n;
        for (size_t j = 0; j < p; j++) R[i * p + j] = sqrt(ci) * (x[i * p + j] - means[(size_t)y[i] * p + j]);
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)p, (int)n, 1.0, R, (int)p, 0.0, Sw, (int)p);
    for (size_t a = 0; a < p; a++)
        for (size_t b = 0; b < a; b++) Sw[a * p + b] = Sw[b * p + a];
    CU_ASSERT_EQUAL(LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (int)p, Sb, (int)p, lam), 0);
    size_t kmax = (size_t)(Ke - 1) < p ? (size_t)(Ke - 1) : p;
    double D = 0;
    int rank = 0;
    for (size_t t = 0; t < kmax; t++) {
        size_t j = p - 1 - t;
        if (!(lam[j] > 0 && lam[j] >= cutoff * lam[p - 1])) break;
        double q = 0;
        for (size_t a = 0; a < p; a++) {
            double s = 0;
            for (size_t b = 0; b < p; b++) s += Sw[a * p + b] * Sb[b * p + j];
            q += Sb[a * p + j] * s;
        }
        D += q / lam[j];
        rank++;
    }
    free(cnt), free(means), free(mu), free(Sb), free(Sw), free(lam), free(R), free(m);
    if (rank_out) *rank_out = rank;
    return D;
}

/* ================================================================ the naive version (what not to do)
 * The K x K form with the class sums and the global sum accumulated in float, balanced weighting,
 * the same cap min(p, K-1) and cutoff 1e-10: everything after the means in double. */
static double naive_float_means_D(const float *x, size_t n, size_t p, const int32_t *y, int K) {
    float *fs = calloc((size_t)K * p, sizeof *fs), *fg = calloc(p, sizeof *fg);
    size_t *cnt = calloc((size_t)K, sizeof *cnt);
    double *Mt = calloc((size_t)K * p, sizeof *Mt), *G = calloc((size_t)K * K, sizeof *G);
    double *Wk = calloc((size_t)K * K, sizeof *Wk), *lam = calloc((size_t)K, sizeof *lam);
    double *z = calloc((size_t)K, sizeof *z);
    for (size_t i = 0; i < n; i++) {
        cnt[y[i]]++;
        for (size_t j = 0; j < p; j++) fs[(size_t)y[i] * p + j] += x[i * p + j], fg[j] += x[i * p + j];
    }
    for (int k = 0; k < K; k++)
        for (size_t j = 0; j < p; j++) {
            fs[(size_t)k * p + j] /= (float)cnt[k];
            Mt[(size_t)k * p + j] = sqrt(1.0 / K) * ((double)fs[(size_t)k * p + j] - (double)(fg[j] / (float)n));
        }
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++)
            for (size_t j = 0; j < p; j++) G[a * K + b] += Mt[(size_t)a * p + j] * Mt[(size_t)b * p + j];
    for (size_t i = 0; i < n; i++) {
        for (int a = 0; a < K; a++) {
            z[a] = 0;
            for (size_t j = 0; j < p; j++)
                z[a] += Mt[(size_t)a * p + j] * ((double)x[i * p + j] - (double)fs[(size_t)y[i] * p + j]);
        }
        double c = 1.0 / ((double)K * (double)cnt[y[i]]);
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++) Wk[a * K + b] += c * z[a] * z[b];
    }
    LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', K, G, K, lam);
    int kmax = (size_t)(K - 1) < p ? K - 1 : (int)p;
    double D = 0;
    for (int t = 0; t < kmax; t++) {
        int j = K - 1 - t;
        if (!(lam[j] > 0 && lam[j] >= 1e-10 * lam[K - 1])) break;
        double q = 0;
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++) q += G[a * K + j] * Wk[a * K + b] * G[b * K + j];
        D += q / (lam[j] * lam[j]);
    }
    free(fs), free(fg), free(cnt), free(Mt), free(G), free(Wk), free(lam), free(z);
    return D;
}

/* ================================================================ data */

/* n samples of p features in K classes: x = offset + sep * c_k + noise * N(0, 1), c_k ~ N(0, I)
 * per class; labels i % K (balanced) or uniform at random. Deterministic in seed. */
static void make_data(float *x, int32_t *y, size_t n, size_t p, int K, uint64_t seed, double offset, double sep,
                      double noise, int balanced) {
    hs_rng r;
    hs_rng_init(&r, seed, hs_rng_stream(HS_STREAM_DATA, 0));
    double *c = malloc((size_t)K * p * sizeof *c);
    for (size_t t = 0; t < (size_t)K * p; t++) c[t] = hs_rng_normal(&r);
    for (size_t i = 0; i < n; i++) {
        y[i] = balanced ? (int32_t)(i % (size_t)K) : (int32_t)hs_rng_below(&r, (uint64_t)K);
        for (size_t j = 0; j < p; j++)
            x[i * p + j] = (float)(offset + sep * c[(size_t)y[i] * p + j] + noise * hs_rng_normal(&r));
    }
    free(c);
}

/* ================================================================ hand-checkable cases */

static void test_hand_cases(void) {
    const float x1[] = {0, 2, 4, 6};
    const int32_t y1[] = {0, 0, 1, 1};
    hs_sep_result r = sep(x1, 4, 1, y1, 2, HS_SEP_BALANCED, 0);
    ASSERT_REL(r.D, 0.25, 1e-12);
    CU_ASSERT_EQUAL(r.rank, 1);
    CU_ASSERT_EQUAL(r.classes, 2);
    CU_ASSERT_EQUAL(r.ok, 1);
    ASSERT_REL(r.cond, 1.0, 1e-15);
    ASSERT_REL(dense_D(x1, 4, 1, y1, 2, HS_SEP_BALANCED, 0, NULL), 0.25, 1e-12);

    const float x2[] = {0, 0, 1, 0, 3, 1, 3, 3, 0, 4, 1, 5};
    const int32_t y2[] = {0, 0, 1, 1, 2, 2};
    r = sep(x2, 6, 2, y2, 3, HS_SEP_BALANCED, 0);
    ASSERT_REL(r.D, 0.248888888888888889, 1e-12);
    ASSERT_REL(sep(x2, 6, 2, y2, 3, HS_SEP_PAPER, 0).D, 0.248888888888888889, 1e-12); /* balanced classes */
    ASSERT_REL(dense_D(x2, 6, 2, y2, 3, HS_SEP_BALANCED, 0, NULL), 0.248888888888888889, 1e-12);
    CU_ASSERT_EQUAL(r.rank, 2);

    const float x3[] = {0, 0, 1, 1, 0, 0, 2, 1, 1, 3, 3, 0, 0, 4, 2, 1, 5, 1, 2, 2, 2};
    const int32_t y3[] = {0, 0, 1, 1, 2, 2, 2};
    hs_sep_result bal = sep(x3, 7, 3, y3, 3, HS_SEP_BALANCED, 0), pap = sep(x3, 7, 3, y3, 3, HS_SEP_PAPER, 0);
    ASSERT_REL(bal.D, 0.854405, 1e-6);
    ASSERT_REL(pap.D, 0.971369, 1e-6);
    ASSERT_REL(bal.D, dense_D(x3, 7, 3, y3, 3, HS_SEP_BALANCED, 0, NULL), 1e-12);
    ASSERT_REL(pap.D, dense_D(x3, 7, 3, y3, 3, HS_SEP_PAPER, 0, NULL), 1e-12);
    CU_ASSERT_EQUAL(bal.rank, 2); /* p = 3 but K - 1 = 2 */
    CU_ASSERT_EQUAL(pap.rank, 2);
}

/* ================================================================ K x K form = dense form */

static void test_random_vs_dense(void) {
    const size_t n = 1000, ps[] = {7, 50, 300};
    const int K = 10;
    float *x = malloc(n * 300 * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    for (int t = 0; t < 3; t++) {
        size_t p = ps[t];
        make_data(x, y, n, p, K, 100 + (uint64_t)t, 0.5, 0.3, 1.0, 0); /* random labels: imbalanced */
        for (int w = 0; w < 2; w++) {
            hs_sep_weighting wt = w ? HS_SEP_PAPER : HS_SEP_BALANCED;
            int dense_rank = -1;
            hs_sep_result r = sep(x, n, p, y, K, wt, 0);
            double want = dense_D(x, n, p, y, K, wt, 0, &dense_rank);
            ASSERT_REL(r.D, want, 1e-8);
            CU_ASSERT_EQUAL(r.rank, (int)(p < 9 ? p : 9)); /* p = 7 caps the rank below K - 1 */
            CU_ASSERT_EQUAL(r.rank, dense_rank);
            CU_ASSERT(r.ok && r.cond >= 1 && isfinite(r.cond));
        }
        /* the weightings differ on imbalanced classes */
        CU_ASSERT(rel_err(sep(x, n, p, y, K, HS_SEP_BALANCED, 0).D, sep(x, n, p, y, K, HS_SEP_PAPER, 0).D) > 1e-6);
    }
    free(x), free(y);
}

/* ================================================================ invariances
 * Integer-valued features so that translation, scaling by 3 and a Hadamard rotation are exact in
 * float: any difference is then the algorithm's, not the input's rounding. A Haar-random rotation
 * has to round its output to float (relative 6e-8 per feature; D moved by 2e-9 here), hence a
 * looser bound. */

enum { IP = 16, IK = 5, IN = 200 };

/* Sylvester Hadamard matrix of order 16 (H[a][b] = (-1)^popcount(a & b)) with its columns permuted
 * and sign-flipped at random, / 4: orthogonal with entries +-1/4. */
static void hadamard_rotation(double *Q, hs_rng *r) {
    uint32_t perm[IP];
    for (uint32_t i = 0; i < IP; i++) perm[i] = i;
    hs_rng_permute(r, perm, IP);
    for (int b = 0; b < IP; b++) {
        double s = hs_rng_u32(r) & 1 ? 1.0 : -1.0;
        for (int a = 0; a < IP; a++) {
            int sign = __builtin_popcount((unsigned)(a & (int)perm[b])) & 1 ? -1 : 1;
            Q[a * IP + b] = s * sign * 0.25;
        }
    }
}

/* Haar-random orthogonal matrix: Q of the QR of a Gaussian matrix. */
static void haar_rotation(double *Q, hs_rng *r) {
    double tau[IP];
    for (int t = 0; t < IP * IP; t++) Q[t] = hs_rng_normal(r);
    CU_ASSERT_EQUAL(LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, IP, IP, Q, IP, tau), 0);
    CU_ASSERT_EQUAL(LAPACKE_dorgqr(LAPACK_ROW_MAJOR, IP, IP, IP, Q, IP, tau), 0);
}

/* out_i = Q x_i (rows), rounded to float */
static void rotate(const float *x, const double *Q, float *out) {
    for (int i = 0; i < IN; i++)
        for (int a = 0; a < IP; a++) {
            double s = 0;
            for (int b = 0; b < IP; b++) s += Q[a * IP + b] * x[i * IP + b];
            out[i * IP + a] = (float)s;
        }
}

static void test_invariances(void) {
    static float x[IN * IP], t[IN * IP];
    static int32_t y[IN];
    hs_rng r;
    hs_rng_init(&r, 7, hs_rng_stream(HS_STREAM_DATA, 1));
    make_data(x, y, IN, IP, IK, 7, 0, 40, 100, 0);
    for (int i = 0; i < IN * IP; i++) x[i] = roundf(x[i]); /* |x| < 1000: integers */
    for (int w = 0; w < 2; w++) {
        hs_sep_weighting wt = w ? HS_SEP_PAPER : HS_SEP_BALANCED;
        double D = sep(x, IN, IP, y, IK, wt, 0).D;
        ASSERT_REL(D, dense_D(x, IN, IP, y, IK, wt, 0, NULL), 1e-10);

        for (int i = 0; i < IN * IP; i++) t[i] = x[i] + (float)(1000 * (i % IP) - 5000); /* translation */
        ASSERT_REL(sep(t, IN, IP, y, IK, wt, 0).D, D, 1e-8);
        for (int i = 0; i < IN * IP; i++) t[i] = 3 * x[i]; /* global scale */
        ASSERT_REL(sep(t, IN, IP, y, IK, wt, 0).D, D, 1e-8);
        for (int i = 0; i < IN * IP; i++) t[i] = x[i] / 1024; /* global scale, small */
        ASSERT_REL(sep(t, IN, IP, y, IK, wt, 0).D, D, 1e-8);

        double Q[IP * IP];
        hadamard_rotation(Q, &r);
        double qtq = 0; /* orthogonality of the test's own matrix */
        for (int a = 0; a < IP; a++)
            for (int b = 0; b < IP; b++) {
                double s = 0;
                for (int c = 0; c < IP; c++) s += Q[c * IP + a] * Q[c * IP + b];
                qtq = fmax(qtq, fabs(s - (a == b)));
            }
        CU_ASSERT(qtq < 1e-15);
        rotate(x, Q, t); /* exact: sums of 16 integers / 4 */
        ASSERT_REL(sep(t, IN, IP, y, IK, wt, 0).D, D, 1e-8);
        haar_rotation(Q, &r);
        rotate(x, Q, t);
        ASSERT_REL(sep(t, IN, IP, y, IK, wt, 0).D, D, 1e-7);

        for (int i = 0; i < IN * IP; i++) t[i] = x[i] * (float)(1 + i % IP); /* per-feature scaling */
        CU_ASSERT(rel_err(sep(t, IN, IP, y, IK, wt, 0).D, D) > 0.01);
    }
}

/* Tiling (He & Su's conv nets repeat the input 16 or 32 times along the channels): repeating the
 * whole feature vector r times, or every feature r times in place, multiplies SS_b and SS_w by r
 * on the repeated coordinates, so D = trace(SS_w pinv(SS_b)) is unchanged, for both weightings
 * and imbalanced classes; a partial repeat (some features only) is a per-feature scaling and
 * moves D. */
static void test_tiling(void) {
    enum { RMAX = 32 };
    static float x[IN * IP], t[IN * IP * RMAX];
    static int32_t y[IN];
    make_data(x, y, IN, IP, IK, 11, 0, 40, 100, 0);
    const int rs[3] = {2, 16, 32};
    for (int w = 0; w < 2; w++) {
        hs_sep_weighting wt = w ? HS_SEP_PAPER : HS_SEP_BALANCED;
        const size_t n = w ? IN - 37 : IN; /* the paper weighting on unequal classes */
        const double D = sep(x, n, IP, y, IK, wt, 0).D;
        CU_ASSERT(D > 0.01 && isfinite(D));
        for (int q = 0; q < 3; q++) {
            const int r = rs[q];
            for (size_t i = 0; i < n; i++) /* torch's repeat: copy c = feature c mod IP */
                for (int c = 0; c < r * IP; c++) t[i * r * IP + c] = x[i * IP + c % IP];
            ASSERT_REL(sep(t, n, (size_t)r * IP, y, IK, wt, 0).D, D, 1e-10);
            for (size_t i = 0; i < n; i++) /* every feature r times in place */
                for (int c = 0; c < r * IP; c++) t[i * r * IP + c] = x[i * IP + c / r];
            ASSERT_REL(sep(t, n, (size_t)r * IP, y, IK, wt, 0).D, D, 1e-10);
        }
        for (size_t i = 0; i < n; i++) { /* features 0..3 twice, the others once */
            for (int c = 0; c < IP; c++) t[i * (IP + 4) + c] = x[i * IP + c];
            for (int c = 0; c < 4; c++) t[i * (IP + 4) + IP + c] = x[i * IP + c];
        }
        CU_ASSERT(rel_err(sep(t, n, IP + 4, y, IK, wt, 0).D, D) > 1e-3);
    }
}

/* ================================================================ the float32 trap
 * Ten balanced classes 1e-3 apart around 1000, within-class noise 1e-4 (about 1.6 float ulps at
 * 1000): a well-separated layer far from the origin. A float sum of 100 such values reaches 1e5,
 * where one ulp is 0.008, so float class means are off by ~1e-4 and the float global mean (a sum
 * up to 1e6, ulp 0.06) by ~1e-3: the size of the signal itself. */
static void test_float32_trap(void) {
    const size_t n = 1000, p = 20;
    const int K = 10;
    float *x = malloc(n * p * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    make_data(x, y, n, p, K, 2023, 1000.0, 1e-3, 1e-4, 1);
    hs_sep_result r = sep(x, n, p, y, K, HS_SEP_BALANCED, 0);
    double want = dense_D(x, n, p, y, K, HS_SEP_BALANCED, 0, NULL);
    double naive = naive_float_means_D(x, n, p, y, K);
    ASSERT_REL(r.D, want, 1e-8);
    CU_ASSERT_EQUAL(r.rank, 9);
    CU_ASSERT(want > 0.01 && want < 1); /* well separated */
    /* the naive version is off by more than 10x: this test fails for float means */
    if (!(naive > 10 * want || naive < want / 10))
        fprintf(stderr, "\n  D = %.6g, naive float means D = %.6g\n", want, naive);
    CU_ASSERT(naive > 10 * want || naive < want / 10);
    if (getenv("HS_TEST_VERBOSE")) /* the numbers, for a report */
        printf("\n  float32 trap: D = %.10g (dense %.10g), naive float means D = %.10g\n", r.D, want, naive);
    /* the same data shifted to the origin: float means are then fine (a control for the naive code) */
    for (size_t i = 0; i < n * p; i++) x[i] -= 1000.0f;
    ASSERT_REL(sep(x, n, p, y, K, HS_SEP_BALANCED, 0).D, want, 1e-6); /* the shift is exact in float */
    CU_ASSERT(rel_err(naive_float_means_D(x, n, p, y, K), want) < 1e-3);
    free(x), free(y);
}

/* ================================================================ cutoff, rank, cond */

static void test_rank_and_cond(void) {
    /* p < K - 1 caps the rank at p */
    const size_t n = 300, p = 3;
    float x[300 * 3];
    int32_t y[300];
    make_data(x, y, n, p, 10, 5, 0, 1, 0.5, 1);
    hs_sep_result r = sep(x, n, p, y, 10, HS_SEP_BALANCED, 0);
    CU_ASSERT_EQUAL(r.rank, 3);
    ASSERT_REL(r.D, dense_D(x, n, p, y, 10, HS_SEP_BALANCED, 0, NULL), 1e-10);

    /* duplicate class means: class 3 = the samples of class 2 in another order -> rank K - 2 */
    enum { DN = 40, DP = 5, DK = 4 };
    float xd[DN * DP];
    int32_t yd[DN];
    make_data(xd, yd, 30, DP, 3, 9, 0, 2, 1, 1); /* classes 0, 1, 2 with 10 samples each */
    for (int i = 0; i < 30 * DP; i++) xd[i] = roundf(xd[i] * 64) / 64; /* exact class sums in double */
    for (int i = 0; i < 10; i++) {
        int src = 3 * (9 - i) + 2; /* the class-2 rows, reversed */
        memcpy(xd + (30 + i) * DP, xd + src * DP, DP * sizeof *xd);
        yd[30 + i] = 3;
    }
    for (int w = 0; w < 2; w++) {
        hs_sep_weighting wt = w ? HS_SEP_PAPER : HS_SEP_BALANCED;
        int dense_rank = -1;
        r = sep(xd, DN, DP, yd, DK, wt, 0);
        CU_ASSERT_EQUAL(r.rank, 2);
        ASSERT_REL(r.D, dense_D(xd, DN, DP, yd, DK, wt, 0, &dense_rank), 1e-10);
        CU_ASSERT_EQUAL(dense_rank, 2);
        CU_ASSERT(r.ok);
    }

    /* cond on the K = 3, p = 2 hand case; a cutoff of 0.5 drops the smaller eigenvalue (ratio 0.406) */
    const float x2[] = {0, 0, 1, 0, 3, 1, 3, 3, 0, 4, 1, 5};
    const int32_t y2[] = {0, 0, 1, 1, 2, 2};
    r = sep(x2, 6, 2, y2, 3, HS_SEP_BALANCED, 0);
    CU_ASSERT_EQUAL(r.rank, 2);
    ASSERT_REL(r.cond, 2.4639402394753702, 1e-12);
    r = sep(x2, 6, 2, y2, 3, HS_SEP_BALANCED, 0.5);
    CU_ASSERT_EQUAL(r.rank, 1);
    ASSERT_REL(r.cond, 1.0, 1e-15);
    ASSERT_REL(r.D, 0.1188805680951126, 1e-12);
    ASSERT_REL(r.D, dense_D(x2, 6, 2, y2, 3, HS_SEP_BALANCED, 0.5, NULL), 1e-12);

    /* empty classes are ignored: labels {0, 2, 4} of K = 5 are the K = 3 case (weights 1/3) */
    const float x3[] = {0, 0, 1, 1, 0, 0, 2, 1, 1, 3, 3, 0, 0, 4, 2, 1, 5, 1, 2, 2, 2};
    const int32_t y3[] = {0, 0, 2, 2, 4, 4, 4};
    r = sep(x3, 7, 3, y3, 5, HS_SEP_BALANCED, 0);
    ASSERT_REL(r.D, 0.854405, 1e-6);
    CU_ASSERT_EQUAL(r.classes, 3);
    ASSERT_REL(sep(x3, 7, 3, y3, 5, HS_SEP_PAPER, 0).D, 0.971369, 1e-6);

    /* a dead layer (all features 0): no between-class spread -> rank 0, D = 0, not ok, not an error */
    const float zero[8] = {0};
    const int32_t y4[] = {0, 1, 0, 1};
    r = sep(zero, 4, 2, y4, 2, HS_SEP_BALANCED, 0);
    CU_ASSERT_EQUAL(r.rank, 0);
    CU_ASSERT_EQUAL(r.D, 0.0);
    CU_ASSERT_EQUAL(r.ok, 0);
    CU_ASSERT(isnan(r.cond));

    /* a non-finite feature: D = NaN, not ok, not an error */
    const float inf_x[] = {0, 2, INFINITY, 6};
    r = sep(inf_x, 4, 1, y4, 2, HS_SEP_BALANCED, 0);
    CU_ASSERT(isnan(r.D));
    CU_ASSERT_EQUAL(r.ok, 0);
}

/* ================================================================ errors */

static void test_separation_errors(void) {
    const float x[] = {0, 2, 4, 6};
    const int32_t y[] = {0, 0, 1, 1}, bad[] = {0, 0, 2, 1}, neg[] = {0, -1, 1, 1}, one[] = {1, 1, 1, 1};
    hs_sep_result r;
    hs_error err = {0};
    CU_ASSERT_EQUAL(hs_separation(x, 0, 1, y, 2, HS_SEP_BALANCED, 0, &r, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "n = 0");
    CU_ASSERT_EQUAL(hs_separation(x, 4, 1, y, 1, HS_SEP_BALANCED, 0, &r, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "K >= 2");
    CU_ASSERT_EQUAL(hs_separation(x, 4, 1, bad, 2, HS_SEP_BALANCED, 0, &r, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "label 2 of sample 2 is outside 0..1");
    CU_ASSERT_EQUAL(hs_separation(x, 4, 1, neg, 2, HS_SEP_BALANCED, 0, &r, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "label -1 of sample 1");
    CU_ASSERT_EQUAL(hs_separation(x, 4, 1, one, 3, HS_SEP_BALANCED, 0, &r, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "at least 2 classes, got 1 non-empty of 3");
    CU_ASSERT_EQUAL(hs_separation(x, 4, 0, y, 2, HS_SEP_BALANCED, 0, &r, &err), HS_ERR_VALUE);
    CU_ASSERT_EQUAL(hs_separation(NULL, 4, 1, y, 2, HS_SEP_BALANCED, 0, &r, &err), HS_ERR_VALUE);
    CU_ASSERT_EQUAL(hs_separation(x, 4, 1, y, 2, (hs_sep_weighting)7, 0, &r, &err), HS_ERR_VALUE);
    CU_ASSERT_EQUAL(hs_separation(x, 4, 1, y, 2, HS_SEP_BALANCED, 0, &r, NULL), HS_OK); /* err may be NULL */
}

/* ================================================================ line fit, mean, std */

static void test_fit_line(void) {
    hs_line_fit f;
    hs_error err = {0};
    const double x[] = {0, 1, 2, 3, 4}, down[] = {2, 1.5, 1, 0.5, 0}, up[] = {-3, 1, 5, 9, 13};
    CU_ASSERT_EQUAL(hs_fit_line(x, down, 5, &f, &err), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(f.slope, -0.5, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(f.intercept, 2.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(f.r, -1.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(f.r2, 1.0, 1e-15);
    CU_ASSERT(f.r >= -1.0); /* clamped */
    CU_ASSERT_EQUAL(f.n, 5);
    CU_ASSERT_EQUAL(hs_fit_line(x, up, 5, &f, &err), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(f.slope, 4.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(f.intercept, -3.0, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(f.r, 1.0, 1e-15);
    CU_ASSERT(f.r <= 1.0);

    /* by hand: x mean 2, y mean 3, Sxx = 10, Syy = 10, Sxy = 8 */
    const double noisy[] = {1, 3, 2, 5, 4};
    CU_ASSERT_EQUAL(hs_fit_line(x, noisy, 5, &f, &err), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(f.slope, 0.8, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(f.intercept, 1.4, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(f.r, 0.8, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(f.r2, 0.64, 1e-15);

    /* two points; a large common offset (ln D values) does not cancel */
    const double x2[] = {1e6, 1e6 + 1}, y2[] = {5, 3};
    CU_ASSERT_EQUAL(hs_fit_line(x2, y2, 2, &f, &err), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(f.slope, -2.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f.intercept, 5 + 2e6, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(f.r, -1.0, 1e-15);

    /* constant y: slope 0, r undefined */
    const double flat[] = {7, 7, 7, 7, 7};
    CU_ASSERT_EQUAL(hs_fit_line(x, flat, 5, &f, &err), HS_OK);
    CU_ASSERT_EQUAL(f.slope, 0.0);
    CU_ASSERT_EQUAL(f.intercept, 7.0);
    CU_ASSERT(isnan(f.r) && isnan(f.r2));

    /* errors */
    CU_ASSERT_EQUAL(hs_fit_line(x, up, 1, &f, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "at least 2 points, got 1");
    CU_ASSERT_EQUAL(hs_fit_line(x, up, 0, &f, &err), HS_ERR_VALUE);
    const double with_nan[] = {1, 2, NAN, 4, 5}, with_inf[] = {0, 1, 2, INFINITY, 4};
    CU_ASSERT_EQUAL(hs_fit_line(x, with_nan, 5, &f, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "y[2]");
    CU_ASSERT_EQUAL(hs_fit_line(with_inf, up, 5, &f, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "x[3]");
    CU_ASSERT_EQUAL(hs_fit_line(flat, up, 5, &f, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "all 5 x values equal");
}

static void test_mean_std(void) {
    const double d[] = {1, 2, 4, 7};
    CU_ASSERT_DOUBLE_EQUAL(hs_mean(d, 4), 3.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(hs_std(d, 4, 0), 2.2912878474779199, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(hs_std(d, 4, 1), 2.6457513110645907, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(hs_std(d, 1, 0), 0.0, 0);
    CU_ASSERT(isnan(hs_std(d, 1, 1))); /* one seed: no sample deviation */
    CU_ASSERT(isnan(hs_mean(d, 0)));
    CU_ASSERT(isnan(hs_std(d, 0, 0)));
}

/* Student's t critical values (the root of the integrated t density, 30 digits with mpmath;
 * df 1 and 2 in closed form: tan(0.475 pi), sqrt(2 0.95^2 / (1 - 0.95^2))) and the slope
 * interval over seeds: an exact power law in every seed, then three seeds by hand. */
static void test_slope_ci(void) {
    CU_ASSERT_DOUBLE_EQUAL(hs_t_critical(0.95, 1), 12.706204736174693, 1e-10);
    CU_ASSERT_DOUBLE_EQUAL(hs_t_critical(0.95, 2), 4.3026527297494618, 1e-11);
    CU_ASSERT_DOUBLE_EQUAL(hs_t_critical(0.95, 3), 3.1824463052837084, 1e-11);
    CU_ASSERT_DOUBLE_EQUAL(hs_t_critical(0.95, 9), 2.2621571627982050, 1e-11);
    CU_ASSERT_DOUBLE_EQUAL(hs_t_critical(0.90, 4), 2.1318467863266505, 1e-11);
    CU_ASSERT(isnan(hs_t_critical(0.95, 0)) && isnan(hs_t_critical(1.0, 3)));

    hs_slope_ci c;
    hs_error err = {0};
    /* P* = 488 (s0+1)^2 exactly, in the pooled values and in each of 3 seeds (other prefactors):
     * the slope is 2 and the interval has zero width */
    const double x[3] = {log(1.0), log(2.0), log(3.0)};
    double y[3], ys[9];
    for (int i = 0; i < 3; i++) {
        y[i] = log(488.0) + 2 * x[i];
        for (int j = 0; j < 3; j++) ys[j * 3 + i] = log(400.0 + 50 * j) + 2 * x[i];
    }
    CU_ASSERT_EQUAL(hs_fit_slope_ci(x, y, 3, ys, 3, 0.95, &c, &err), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(c.slope, 2.0, 1e-13);
    CU_ASSERT_DOUBLE_EQUAL(c.intercept, log(488.0), 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.seed_mean, 2.0, 1e-13);
    CU_ASSERT_DOUBLE_EQUAL(c.hi - c.lo, 0.0, 1e-12);
    CU_ASSERT_EQUAL(c.seeds, 3);
    CU_ASSERT_EQUAL(c.n, 3);

    /* three seeds' P* at s0 = 0, 1, 2: 500/1300/2100, 480/1250/2300, 520/1400/1900. numpy:
     * per-seed slopes of ln P* on ln(s0+1) 1.314049328924456, 1.4213440006032714,
     * 1.2063231199608087; mean 1.3139054831628452, std (ddof 1) 0.10751051249420868;
     * 95%: mean -+ 4.3026527297494618 std / sqrt(3) = [1.0468345646663764, 1.580976401659314].
     * The pooled values ln(mean P*) = ln 500, ln 1316.67, ln 2100: slope 1.31602837. A fourth
     * seed without a crossing at s0 = 2 is left out. */
    const double P[4][3] = {{500, 1300, 2100}, {480, 1250, 2300}, {520, 1400, 1900}, {510, 1280, NAN}};
    for (int i = 0; i < 3; i++) {
        y[i] = log((P[0][i] + P[1][i] + P[2][i]) / 3);
        for (int j = 0; j < 3; j++) ys[j * 3 + i] = log(P[j][i]);
    }
    double ys4[12];
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 3; i++) ys4[j * 3 + i] = log(P[j][i]);
    CU_ASSERT_EQUAL(hs_fit_slope_ci(x, y, 3, ys4, 4, 0.95, &c, &err), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(c.slope, 1.31602837, 1e-8);
    CU_ASSERT_EQUAL(c.seeds, 3);
    CU_ASSERT_DOUBLE_EQUAL(c.seed_mean, 1.3139054831628452, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.seed_sd, 0.10751051249420868, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.lo, 1.0468345646663764, 1e-11);
    CU_ASSERT_DOUBLE_EQUAL(c.hi, 1.580976401659314, 1e-11);

    /* one seed: its slope, no interval; none: the pooled fit alone */
    CU_ASSERT_EQUAL(hs_fit_slope_ci(x, y, 3, ys, 1, 0.95, &c, &err), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(c.seed_mean, 1.314049328924456, 1e-12);
    CU_ASSERT(c.seeds == 1 && isnan(c.lo) && isnan(c.hi) && isnan(c.seed_sd));
    CU_ASSERT_EQUAL(hs_fit_slope_ci(x, y, 3, NULL, 0, 0.95, &c, &err), HS_OK);
    CU_ASSERT(c.seeds == 0 && isnan(c.seed_mean) && isnan(c.lo));
    CU_ASSERT_EQUAL(hs_fit_slope_ci(x, y, 1, ys, 3, 0.95, &c, &err), HS_ERR_VALUE);
}

/* D at layer 0 of He & Su's cfm setting (1000 Fashion-MNIST training images at 10x10, 100 per
 * class) is a property of the data subset alone. The note quotes ~37 in the authors' figures and
 * 25.9-37.8 over three random subsets: check it against the dense definition on the real data,
 * for three data seeds, and print the spread. */
static void test_cfm_layer0(void) {
    double d[3];
    for (int s = 0; s < 3; s++) {
        hs_data_opts o = {.kind = "cfm", .seed = (uint64_t)(s + 1), .per_class = 100, .n_test = 1};
        hs_dataset train = {0}, test = {0};
        hs_error err = {0};
        hs_code rc = hs_data_load(&o, &train, &test, &err);
        if (rc != HS_OK) fprintf(stderr, "\n  %s\n", err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
        hs_sep_result r = sep(train.x, (size_t)train.n, (size_t)train.dim, train.y, 10, HS_SEP_BALANCED, 0);
        int rank = 0;
        double want = dense_D(train.x, (size_t)train.n, (size_t)train.dim, train.y, 10, HS_SEP_BALANCED, 0, &rank);
        CU_ASSERT(rel_err(r.D, want) < 1e-9);
        CU_ASSERT_EQUAL(r.rank, 9);
        CU_ASSERT(r.D > 20 && r.D < 50);
        d[s] = r.D;
        hs_dataset_free(&train);
        hs_dataset_free(&test);
    }
    fprintf(stderr, "\n  cfm D_0 for data seeds 1, 2, 3: %.3f %.3f %.3f\n", d[0], d[1], d[2]);
    CU_ASSERT(d[0] != d[1] && d[1] != d[2]); /* another subset, another D_0 */
}

int main(void) {
    static const hs_test tests[] = {
        {"separation: cfm layer 0 on the real data vs the dense form, 3 data seeds", test_cfm_layer0},
        {"separation: the note's hand-checkable cases", test_hand_cases},
        {"separation: K x K form = dense pinv form (p = 7, 50, 300)", test_random_vs_dense},
        {"separation: translation, scale, rotation invariant; per-feature scale not", test_invariances},
        {"separation: tiling the features r times leaves D unchanged", test_tiling},
        {"separation: the float32 trap (means in double)", test_float32_trap},
        {"separation: rank cap, duplicate means, cutoff, cond, empty classes", test_rank_and_cond},
        {"separation: errors", test_separation_errors},
        {"line fit: exact, hand-computed, errors", test_fit_line},
        {"mean and std (ddof)", test_mean_std},
        {"slope interval over seeds: t critical values, exact power law, three seeds by hand", test_slope_ci},
        {NULL, NULL},
    };
    return hs_test_main("metrics", tests);
}
