/* modes.h - the linear-algebra checks the balanced-init and gated-net tests share: a random
 * matrix, a float product accumulated in double, singular values and the SVD (LAPACK), and the
 * distance of a product to c U_r V_r^T. Static inline so a program using only some of them builds
 * with -Werror. */
#ifndef HSWEEP_MODES_H
#define HSWEEP_MODES_H

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/rng.h"
#include "testing.h"

static inline void random_matrix(double *a, int n, uint64_t seed) {
    hs_rng r;
    hs_rng_init(&r, seed, hs_rng_stream(HS_STREAM_DATA, 0));
    for (int i = 0; i < n; i++) a[i] = hs_rng_normal(&r);
}

/* C [m x n] = A [m x k] B [k x n], row-major floats, accumulated in double. */
static inline void matmul_f(double *C, const float *A, const float *B, int m, int k, int n) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int q = 0; q < k; q++) s += (double)A[i * k + q] * B[q * n + j];
            C[i * n + j] = s;
        }
}

/* Singular values of a float [m x n] matrix, in decreasing order, into sv [min(m, n)]. */
static inline int svals(const float *W, int m, int n, double *sv) {
    double *a = malloc((size_t)m * n * sizeof(double));
    for (int i = 0; i < m * n; i++) a[i] = W[i];
    const int k = m < n ? m : n;
    double *sup = malloc((size_t)k * sizeof(double));
    const int info = (int)LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', m, n, a, n, sv, NULL, 1, NULL, 1, sup);
    free(sup);
    free(a);
    return info;
}

/* The SVD Sigma [m x n] = U S V^T: U [m x k], Vt [k x n], s [k], k = min(m, n). */
static inline void svd(const double *sigma, int m, int n, double *U, double *s, double *Vt) {
    const int k = m < n ? m : n;
    double *a = malloc((size_t)m * n * sizeof(double));
    memcpy(a, sigma, (size_t)m * n * sizeof(double));
    CU_ASSERT_EQUAL(LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', m, n, a, n, s, U, k, Vt, n), 0);
    free(a);
}

/* max |P - c U_r V_r^T| over the entries, P [m x n]. */
static inline double dist_to_modes(const double *P, const double *U, const double *Vt, int m, int n, int k, int r,
                                   double c) {
    double worst = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double t = 0;
            for (int a = 0; a < r; a++) t += U[i * k + a] * Vt[a * n + j];
            worst = fmax(worst, fabs(P[i * n + j] - c * t));
        }
    return worst;
}

#endif
