/* test_forest.c - the forest sampler of the hierarchy data (src/data/hierarchy.c): the Cholesky
 * factor equals LAPACK's dpotrf on the dense Q (no fill-in), L L^T reconstructs Q, huge edge
 * weights where the textbook pivots cancel to 0, its errors, and the empirical covariance of 20000
 * draws matches dpotri's inverse entry by entry (5 standard errors). */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "testing.h"
/* ================================================================ helpers */

/* The small forest of hierarchy data with b = 2, V = 2, 3 examples per leaf, in the documented
 * numbering: examples 0..11, leaves 12..15, level 1 16..17, root 18. */
#define SMALL_N 19
static void small_tree(int32_t *parent) {
    for (int e = 0; e < 12; e++) parent[e] = 12 + e / 3;
    for (int c = 0; c < 4; c++) parent[12 + c] = 16 + c / 2;
    parent[16] = parent[17] = 18;
    parent[18] = -1;
}

/* Dense Q (row-major n x n) of a forest. */
static void dense_q(int n, const int32_t *parent, const double *w, const double *s, double *Q) {
    memset(Q, 0, (size_t)n * n * sizeof *Q);
    for (int i = 0; i < n; i++) {
        Q[i * n + i] += s[i];
        int p = parent[i];
        if (p < 0) continue;
        Q[i * n + i] += w[i];
        Q[p * n + p] += w[i];
        Q[i * n + p] -= w[i];
        Q[p * n + i] -= w[i];
    }
}

/* Varied weights on the small tree: w in [0.5, 3], s = 1 / 1.3^2 on the examples. */
static void small_weights(double *w, double *s) {
    for (int i = 0; i < SMALL_N; i++) {
        w[i] = 0.5 + 2.5 * (double)((i * 7) % 11) / 10.0;
        s[i] = i < 12 ? 1.0 / (1.3 * 1.3) : 0.0;
    }
}

/* max over the factor's entries of |mine - LAPACK| / |LAPACK|, and the largest entry of L outside
 * the diagonal and the parent positions. */
static void compare_factor(int n, const int32_t *parent, const double *diag, const double *off, const double *L,
                           double *rel, double *fill) {
    *rel = 0, *fill = 0;
    for (int i = 0; i < n; i++) {
        double r = fabs(diag[i] - L[i * n + i]) / fabs(L[i * n + i]);
        if (r > *rel) *rel = r;
        for (int k = i + 1; k < n; k++) {
            double v = L[k * n + i];
            if (k == parent[i]) {
                r = fabs(off[i] - v) / fabs(v);
                if (r > *rel) *rel = r;
            } else if (fabs(v) > *fill) *fill = fabs(v);
        }
    }
}

/* ================================================================ forest sampler */

static void test_forest_factor_equals_lapack(void) {
    int32_t parent[SMALL_N];
    double w[SMALL_N], s[SMALL_N], diag[SMALL_N], off[SMALL_N], Q[SMALL_N * SMALL_N];
    small_tree(parent);
    /* varied weights (mild conditioning), then the default-like scale w = 6210 = 1/beta, s = 0.04 */
    for (int pass = 0; pass < 2; pass++) {
        small_weights(w, s);
        if (pass == 1)
            for (int i = 0; i < SMALL_N; i++) w[i] = 1.0 / 1.6103e-4, s[i] = i < 12 ? 0.04 : 0.0;
        hs_error err = {0};
        CU_ASSERT_EQUAL_FATAL(hs_forest_cholesky(SMALL_N, parent, w, s, diag, off, &err), HS_OK);
        dense_q(SMALL_N, parent, w, s, Q);
        double L[SMALL_N * SMALL_N];
        memcpy(L, Q, sizeof L);
        CU_ASSERT_EQUAL_FATAL(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', SMALL_N, L, SMALL_N), 0);
        double rel, fill;
        compare_factor(SMALL_N, parent, diag, off, L, &rel, &fill);
        /* LAPACK forms the pivots as Q_ii - sum L_ic^2: at w / s = 1.6e5 it loses ~5 digits of the
         * ~16, which bounds the agreement of the second pass (measured 1.6e-11; 3e-16 in the first) */
        double tol = pass == 0 ? 1e-12 : 1e-9;
        if (rel > tol) fprintf(stderr, "\n  pass %d: factor differs from LAPACK by %g relative\n", pass, rel);
        CU_ASSERT(rel <= tol);
        CU_ASSERT_EQUAL(fill, 0.0); /* no fill-in: LAPACK's other entries are exact zeros */
        /* L L^T = Q, entry by entry relative to the diagonal it sits next to */
        double worst = 0;
        for (int i = 0; i < SMALL_N; i++)
            for (int j = 0; j <= i; j++) {
                double v = 0; /* (L L^T)_ij = sum_k L_ik L_jk over columns k with entries in rows i and j */
                for (int k = 0; k < SMALL_N; k++) {
                    double lik = k == i ? diag[k] : parent[k] == i ? off[k] : 0;
                    double ljk = k == j ? diag[k] : parent[k] == j ? off[k] : 0;
                    v += lik * ljk;
                }
                double r = fabs(v - Q[i * SMALL_N + j]) / Q[i * SMALL_N + i];
                if (r > worst) worst = r;
            }
        CU_ASSERT(worst < 1e-14);
    }
}

static void test_forest_huge_weights(void) {
    /* chain example (s) - leaf - root with w = 1e15: the textbook pivots leave the root rounding
     * noise; conductances in series give 1 / (1/s + 2/w) to the last digit */
    int32_t parent[3] = {1, 2, -1};
    double w[3] = {1e15, 1e15, 0}, s[3] = {0.04, 0, 0}, diag[3], off[3];
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_forest_cholesky(3, parent, w, s, diag, off, &err), HS_OK);
    double root = 1.0 / (1.0 / 0.04 + 2.0 / 1e15); /* marginal precision of the root */
    CU_ASSERT_DOUBLE_EQUAL(diag[2] * diag[2] / root, 1.0, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(diag[0], sqrt(1e15 + 0.04), 1e-14 * diag[0]);
    CU_ASSERT_DOUBLE_EQUAL(off[0], -1e15 / sqrt(1e15 + 0.04), 1e-14 * diag[0]);
    double Q[9] = {1e15 + 0.04, -1e15, 0, -1e15, 2e15, -1e15, 0, -1e15, 1e15};
    int info = (int)LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', 3, Q, 3);
    /* why the series form: LAPACK's root pivot is 2e15 - 1e15 - 1e15 rounded, one ulp (0.125)
     * instead of 0.04, or not positive at all */
    CU_ASSERT(info != 0 || fabs(Q[8] * Q[8] / root - 1) > 0.5);
    /* a draw stays finite: x_root ~ N(0, 25), the others follow it to 1e-7 */
    double x[3] = {0.5, -1.0, 2.0};
    hs_forest_solve(3, parent, diag, off, x);
    CU_ASSERT_DOUBLE_EQUAL(x[2], 2.0 / diag[2], 1e-12);
    CU_ASSERT(fabs(x[1] - x[2]) < 1e-6 && fabs(x[0] - x[1]) < 1e-6);
}

static void test_forest_errors(void) {
    int32_t parent[3] = {1, 2, -1};
    double w[3] = {1, 1, 0}, s[3] = {0, 0, 0}, diag[3], off[3];
    hs_error err = {0};
    CU_ASSERT_EQUAL(hs_forest_cholesky(3, parent, w, s, diag, off, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "not positive definite");
    s[0] = 1;
    w[0] = -1;
    CU_ASSERT_EQUAL(hs_forest_cholesky(3, parent, w, s, diag, off, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "edge weight -1");
    w[0] = 1;
    int32_t bad[3] = {1, 0, -1}; /* node 1's parent comes before it */
    CU_ASSERT_EQUAL(hs_forest_cholesky(3, bad, w, s, diag, off, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "parent 0");
    CU_ASSERT_EQUAL(hs_forest_cholesky(3, parent, w, s, diag, off, &err), HS_OK);
}

static void test_forest_covariance(void) {
    enum { N = SMALL_N, DRAWS = 20000 };
    int32_t parent[N];
    double w[N], s[N], diag[N], off[N], Q[N * N], x[N];
    small_tree(parent);
    small_weights(w, s);
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_forest_cholesky(N, parent, w, s, diag, off, &err), HS_OK);
    double *acc = calloc(N * N, sizeof *acc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(acc);
    hs_rng rng;
    hs_rng_init(&rng, 11, hs_rng_stream(HS_STREAM_DATA, 0));
    for (int d = 0; d < DRAWS; d++) {
        for (int i = 0; i < N; i++) x[i] = hs_rng_normal(&rng);
        hs_forest_solve(N, parent, diag, off, x);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) acc[i * N + j] += x[i] * x[j];
    }
    dense_q(N, parent, w, s, Q);
    CU_ASSERT_EQUAL_FATAL(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', N, Q, N), 0);
    CU_ASSERT_EQUAL_FATAL(LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', N, Q, N), 0); /* lower triangle of Q^-1 */
    /* each entry within 5 standard errors sqrt((S_ii S_jj + S_ij^2) / draws) of the exact inverse;
     * the largest deviation must also be well above 0 (the draws are not the exact moments) */
    double worst = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j <= i; j++) {
            double sij = Q[i * N + j], sii = Q[i * N + i], sjj = Q[j * N + j];
            double se = sqrt((sii * sjj + sij * sij) / DRAWS), z = fabs(acc[i * N + j] / DRAWS - sij) / se;
            if (z > worst) worst = z;
        }
    if (worst >= 5) fprintf(stderr, "\n  empirical covariance off by %.2f standard errors\n", worst);
    CU_ASSERT(worst < 5 && worst > 0.5);
    /* the same comparison has the power to fail: against the inverse with one example's edge
     * (node 0 -> 12) at 1.5 times its weight, the draws are 14 standard errors off */
    w[0] *= 1.5;
    dense_q(N, parent, w, s, Q);
    CU_ASSERT_EQUAL_FATAL(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', N, Q, N), 0);
    CU_ASSERT_EQUAL_FATAL(LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', N, Q, N), 0);
    double wrong = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j <= i; j++) {
            double sij = Q[i * N + j], se = sqrt((Q[i * N + i] * Q[j * N + j] + sij * sij) / DRAWS);
            double z = fabs(acc[i * N + j] / DRAWS - sij) / se;
            if (z > wrong) wrong = z;
        }
    CU_ASSERT(wrong > 10);
    free(acc);
}

int main(void) {
    static const hs_test tests[] = {
        {"forest factor equals LAPACK dpotrf, no fill-in, L L^T = Q", test_forest_factor_equals_lapack},
        {"forest factor with huge edge weights (series conductances)", test_forest_huge_weights},
        {"forest errors: not positive definite, bad weight, parent order", test_forest_errors},
        {"forest draws: covariance of 20000 equals dpotri's inverse", test_forest_covariance},
        {NULL, NULL},
    };
    return hs_test_main("forest", tests);
}
