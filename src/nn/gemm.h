/* gemm.h - the dense layers' matrix products (internal to src/nn): a register-blocked AVX-512
 * kernel for the small products of a training step (batch rows x a few hundred features), chosen
 * at run time from the CPU, with cblas_sgemm for everything else.
 *
 * Row-major throughout. The three forms the dense layers use, C [M x N]:
 *   HS_GEMM_NN: C = A[M x K] . B[K x N]          (din  = dout . W)
 *   HS_GEMM_NT: C = A[M x K] . B[N x K]^T        (z    = in . W^T)
 *   HS_GEMM_TN: C = A[K x M]^T . B[K x N]        (dW   = dout^T . in)
 * lda/ldb/ldc are the row strides of A, B and C as stored.
 *
 * Determinism: the path (kernel or cblas) depends only on the CPU and the shape, never on the
 * data, the rank or the thread, and each path sums in a fixed order, so equal inputs give
 * bit-identical outputs run to run on one machine. */
#ifndef HSWEEP_NN_GEMM_H
#define HSWEEP_NN_GEMM_H

#include "hsweep/optim.h"

typedef enum hs_gemm_op { HS_GEMM_NN, HS_GEMM_NT, HS_GEMM_TN } hs_gemm_op;

/* C = op(A) op(B) + bias, or C += op(A) op(B) + bias when accumulate is non-zero.
 * bias [N] (added to every row) may be NULL. M, N, K >= 1; C must not alias A, B or bias. */
void hs_gemm(hs_gemm_op op, int M, int N, int K, const float *A, int lda, const float *B, int ldb, const float *bias,
             int accumulate, float *C, int ldc);

/* hs_gemm on the AVX-512 kernel whatever the shape, where the CPU has it (cblas_sgemm otherwise,
 * and under hs_gemm_force(1)): for callers that measured the kernel on all their shapes. Its
 * NN and TN forms are ordered for a minibatch against a wide weight (see gemm.c: TN writes a
 * tall C by row tiles, NN prefetches B). stream_c non-zero (TN only): C's final values go around
 * the caches, for a C (a gradient) too large to be in cache when it is next read. The values
 * are those of hs_gemm's kernel path, bit for bit, whatever the order or stream_c. */
void hs_gemm_kernel(hs_gemm_op op, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                    const float *bias, int accumulate, float *C, int ldc, int stream_c);

/* The transpose of an NT product with a short A, for a minibatch against a wide weight:
 *   Ct[N x M] = (A[M x K] . B[N x K]^T)^T = B . A^T        (ldct = row stride of Ct)
 * Computed with B as the streamed operand: every element of B is read once per 32 rows of A,
 * in row order, with no pack (see gemm.c), which is what a weight beyond L2 wants when M is
 * small. work: HS_GEMM_SHORT_WORK floats, 64-byte aligned, for the packed A^T. */
#ifndef HS_GEMM_KCS
#define HS_GEMM_KCS 1024
#endif
#define HS_GEMM_SHORT_WORK (HS_GEMM_KCS * 32)
void hs_gemm_nt_short(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *Ct, int ldct,
                      float *work);

/* The weight gradient G = A[K x M]^T . B[K x N] (a TN product) applied to W [M x N] (row stride
 * ldw; u->buf the same shape and stride) by u's step (optim.h), tile by tile as G leaves the registers: G
 * is never stored, and W and its momentum are read and written once, beside the FMAs rather than
 * in a pass of their own. Each element of W and buf gets the bits hs_optim_update would give it
 * from the stored G. Returns 1 when done, 0 when this path does not apply (no AVX-512 kernel, or
 * K above HS_GEMM_UPDATE_MAX_K, where the sums would have to pass through memory): the caller
 * then computes G and updates as usual. */
#define HS_GEMM_UPDATE_MAX_K 128
/* Non-zero when hs_gemm_tn_update and hs_gemm_backward_update do their work for K inner indices
 * (rows of the minibatch): the CPU runs the kernel, cblas is not forced, 1 <= K <= the bound. */
int hs_gemm_update_applies(int K);
int hs_gemm_tn_update(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *W, int ldw,
                      const hs_optim_sgd *u);

/* The backward of a weight W [Co x K] over R rows, and its step, in one sweep over W:
 *   din [R x K] = dz [R x Co] . W          (the W before the step; din may be NULL: not wanted)
 *   G   [Co x K] = dz^T . in [R x K]       (never stored), then W and u->buf stepped by u
 * with the bits of hs_gemm_kernel's NN product for din and of hs_gemm_tn_update for W and buf.
 * Each tile of W is read once, adds its term to din, is stepped, and is written back: one pass
 * over W and its momentum per step instead of three (din's, the update's, and the gradient's
 * store). Returns 0 (nothing done) where hs_gemm_tn_update would. */
int hs_gemm_backward_update(int R, int Co, int K, const float *dz, int ldz, const float *in, int ldi, float *W, int ldw,
                            float *din, int lddin, const hs_optim_sgd *u);

/* hs_gemm for the conv paths (src/nn/conv*.c): every product on the AVX-512 kernel where the CPU
 * has it and the BLAS does not (OpenBLAS on its AVX2 kernels), hs_gemm's rule otherwise and
 * under hs_gemm_force (1 and 2 as for hs_gemm). The same bits as hs_gemm on the path it takes. */
void hs_gemm_conv(hs_gemm_op op, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                  const float *bias, int accumulate, float *C, int ldc);

/* Non-zero when hs_gemm_conv takes the kernel for every shape (the CPU has it, the BLAS not). */
int hs_gemm_conv_all_kernel(void);

/* The path hs_gemm takes: 0 = automatic (the default), 1 = always cblas_sgemm, 2 = always the
 * AVX-512 kernel where the CPU has it. For tests and benchmarks only; not thread-safe. */
void hs_gemm_force(int path);

/* Non-zero when this CPU runs the AVX-512 kernel. */
int hs_gemm_have_kernel(void);

#endif
