/*
 * kernel.h - kernel ridge regression (KRR) with the Laplace, Gaussian and ReLU-NTK kernels, solved
 * on a BLACS process grid with ScaLAPACK (plus a serial LAPACK reference with the same outputs).
 *
 *     // every rank holds the full data: xtr [ntr x p], xte [nte x p] floats (row i = sample i),
 *     // labels in 0..n_classes-1
 *     hs_kernel_opts o = {.kind = HS_KERNEL_LAPLACE, .sigma = 10.0, .ridge = 1e-3, .block = 64};
 *     hs_krr_result r = {0};                        // r.alpha / r.f_test: optional buffers, NULL here
 *     HS_TRY(err, hs_krr_fit_predict(MPI_COMM_WORLD, &o, xtr, ytr, ntr, xte, yte, nte, p, 10, &r, err));
 *     printf("test error %.4f (%s)\n", r.test_error, r.used_lu ? "LU" : "Cholesky");
 *
 * Kernels (double arithmetic on float inputs, |.| = Euclidean norm):
 *   Laplace   k(x,y) = exp(-|x-y| / sigma)
 *   Gaussian  k(x,y) = exp(-|x-y|^2 / (2 sigma^2))
 *   NTK       infinite-width neural tangent kernel of a bias-free ReLU MLP with `ntk_depth` hidden
 *             layers and a linear read-out, NTK parametrisation, He scaling c_sigma = 2
 *             (Jacot et al. 2018; Arora et al. 2019, "On exact computation ..."):
 *               Sigma0(x,y) = x.y / p,          Theta0 = Sigma0
 *               for h = 1..depth:
 *                 t      = arccos( Sigma_{h-1}(x,y) / sqrt(Sigma_{h-1}(x,x) Sigma_{h-1}(y,y)) ), the
 *                          cosine clipped to [-1, 1] (t = pi/2 when a norm is zero)
 *                 Sigma_h(x,y)  = c_sigma/(2 pi) sqrt(Sigma_{h-1}(x,x) Sigma_{h-1}(y,y)) (sin t + (pi - t) cos t)
 *                 dSigma_h(x,y) = c_sigma/(2 pi) (pi - t)
 *                 Theta_h = Theta_{h-1} dSigma_h + Sigma_h
 *               k(x,y) = Theta_depth(x,y).
 *             With c_sigma = 2 the diagonal is preserved, Sigma_h(x,x) = |x|^2 / p at every depth
 *             (so deep kernels neither vanish nor blow up), and Theta_depth(x,x) = (depth+1)|x|^2/p.
 *             Depth 0 is the linear kernel x.y / p. (With c_sigma = 1 every Sigma_h halves; the
 *             KRR predictions only change through the relative size of the ridge.)
 *
 * KRR: alpha = (K + ridge I)^{-1} Y, Y [ntr x n_classes] the plain one-hot targets (not centred:
 * centring subtracts the same multiple of k(x,X)(K+ridge I)^{-1} 1 from every class, which leaves
 * the argmax unchanged); f(x*) = k(x*, X) alpha, predicted class = argmax_c f_c (ties: lowest c).
 * The training predictions use K alpha = Y - ridge alpha (exact algebra, no second Gram pass).
 * Solver: Cholesky (p?potrf/p?potrs on the lower triangle); when it reports the matrix not
 * positive definite (negative ridge, duplicated points at ridge 0, ...) the matrix is rebuilt and
 * solved by LU with partial pivoting (p?gesv), and used_lu = 1. LU reporting an exactly singular
 * matrix is an HS_ERR_VALUE error.
 *
 * Distribution (hs_krr_fit_predict): the communicator's ranks form the most square nprow x npcol
 * grid with nprow <= npcol (1 -> 1x1, 2 -> 1x2, 4 -> 2x2, 6 -> 2x3); K (ntr x ntr) and Y are
 * block-cyclic with square blocks of `block` rows/columns; each rank evaluates only its own
 * local blocks of K. alpha (small) is then summed to every rank, and each rank predicts a
 * contiguous share of the test rows; error counts are summed. Memory per rank ~ 8 ntr^2 / ranks
 * bytes plus the (replicated) data.
 */
#ifndef HSWEEP_KERNEL_H
#define HSWEEP_KERNEL_H

#include <mpi.h>
#include <stdint.h>

#include "hsweep/status.h"

/* ---------------------------------------------------------------- kernels */

typedef enum hs_kernel_kind { HS_KERNEL_LAPLACE, HS_KERNEL_GAUSSIAN, HS_KERNEL_NTK } hs_kernel_kind;

typedef struct hs_kernel_opts {
    hs_kernel_kind kind;
    double sigma;  /* length scale of Laplace / Gaussian (> 0); unused by the NTK */
    int ntk_depth; /* hidden layers of the NTK (>= 0); unused otherwise */
    double ridge;  /* lambda added to the diagonal; may be 0 or negative (then LU is likely) */
    int block;     /* ScaLAPACK block size nb (square blocks); <= 0 means 64 */
} hs_kernel_opts;

/* k(x, y) for two points of p floats each. No validation (hs_kernel_check does it). */
double hs_kernel_eval(const hs_kernel_opts *o, const float *x, const float *y, int p);

/* HS_ERR_VALUE when the options are unusable (unknown kind, sigma <= 0, depth < 0, non-finite ridge). */
hs_code hs_kernel_check(const hs_kernel_opts *o, hs_error *err);

/* ---------------------------------------------------------------- kernel ridge regression */

typedef struct hs_krr_result {
    double test_error;     /* misclassified test rows / nte (NaN when nte == 0) */
    double train_error;    /* misclassified training rows / ntr */
    long long test_wrong;  /* the count behind test_error */
    int used_lu;           /* 1: Cholesky failed (not positive definite), solved by LU */
    double seconds;        /* wall time of the whole call (max over ranks) */
    double solve_seconds;  /* factorisation + triangular solves (including a failed Cholesky) */
    double gflops;         /* nominal flops of the successful solve / solve_seconds / 1e9:
                              n^3/3 + 2 n^2 c (Cholesky), 2 n^3/3 + 2 n^2 c (LU) */
    /* Optional outputs, set by the caller BEFORE the call (NULL = not wanted); filled on every rank. */
    double *alpha;         /* [ntr x n_classes] row-major: the dual coefficients */
    double *f_test;        /* [nte x n_classes] row-major: f(x*) for every test row */
} hs_krr_result;

/* Collective over comm: every rank passes identical arguments (the full data). Fills *out on
 * every rank. Errors (bad arguments, memory, singular matrix) are agreed: either every rank
 * returns HS_OK or every rank returns an error (a rank whose own step succeeded reports
 * HS_ERR_MPI "another rank failed" unless the failure was global, e.g. a singular matrix).
 * Limits: ntr, nte and the local array sizes must fit ScaLAPACK's 32-bit integers. */
hs_code hs_krr_fit_predict(MPI_Comm comm, const hs_kernel_opts *o, const float *xtr, const int32_t *ytr,
                           long long ntr, const float *xte, const int32_t *yte, long long nte, int p,
                           int n_classes, hs_krr_result *out, hs_error *err);

/* The same computation on one process with LAPACK (dposv, falling back to dgesv): the reference
 * for tests and benchmarks. Same outputs and conventions; block is ignored. */
hs_code hs_krr_fit_predict_lapack(const hs_kernel_opts *o, const float *xtr, const int32_t *ytr, long long ntr,
                                  const float *xte, const int32_t *yte, long long nte, int p, int n_classes,
                                  hs_krr_result *out, hs_error *err);

/* The grid hs_krr_fit_predict uses for `size` ranks: nprow <= npcol, nprow * npcol = size. */
void hs_krr_grid_shape(int size, int *nprow, int *npcol);

#endif /* HSWEEP_KERNEL_H */
