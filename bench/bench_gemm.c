/* bench_gemm.c - the dense layers' products (src/nn/gemm.c) on the shapes of bench_train's nets,
 * AVX-512 kernel against cblas_sgemm, one thread; GFLOP/s, best of repeated runs.
 *
 *   bench_gemm [--seconds S] [--hnet]     (S per shape and path, default 0.3)
 *
 * --hnet: the products of the SRHM nets of bench_hnet at width 512 instead (batch B = 32 at L = 2,
 * 24 at L = 3; CNN rows are B x positions; contiguous operands, whereas the LCN's per-position
 * products read every P-th patch), with a third column: the entry src/nn/hnet.c takes for the
 * shape (a forward of up to 128 rows transposed, hs_gemm_nt_short; the rest hs_gemm_kernel). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hsweep/util.h"
#include "gemm.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* GFLOP/s of hs_gemm(op, M, N, K) on the given path (3: the entry hnet.c uses for the shape:
 * hs_gemm_nt_short for an NT product of up to 128 rows, transposed, else hs_gemm_kernel), best of
 * runs within `seconds`. */
static double rate(int path, hs_gemm_op op, int M, int N, int K, int bias, double seconds) {
    const int a_rows = op == HS_GEMM_TN ? K : M, a_cols = op == HS_GEMM_TN ? M : K;
    const int b_rows = op == HS_GEMM_NT ? N : K, b_cols = op == HS_GEMM_NT ? K : N;
    float *A = malloc(sizeof(float) * (size_t)a_rows * a_cols), *B = malloc(sizeof(float) * (size_t)b_rows * b_cols),
          *C = malloc(sizeof(float) * (size_t)M * N), *bv = malloc(sizeof(float) * (size_t)N);
    if (!A || !B || !C || !bv) return 0;
    for (size_t i = 0; i < (size_t)a_rows * a_cols; i++) A[i] = (float)(i % 17) * 0.01f;
    for (size_t i = 0; i < (size_t)b_rows * b_cols; i++) B[i] = (float)(i % 13) * 0.01f;
    for (int i = 0; i < N; i++) bv[i] = 0.5f;
    float *work = aligned_alloc(64, sizeof(float) * HS_GEMM_SHORT_WORK);
    if (!work) return 0;
    hs_gemm_force(path == 3 ? 0 : path);
    double best = 1e30, t_end = now() + seconds;
    for (int rep = 0; rep < 5 || now() < t_end; rep++) {
        const double t0 = now();
        if (path != 3)
            hs_gemm(op, M, N, K, A, a_cols, B, b_cols, bias ? bv : NULL, 0, C, N);
        else if (op == HS_GEMM_NT && M <= 128)
            hs_gemm_nt_short(M, N, K, A, a_cols, B, b_cols, C, M, work);
        else
            hs_gemm_kernel(op, M, N, K, A, a_cols, B, b_cols, bias ? bv : NULL, 0, C, N, 0);
        const double dt = now() - t0;
        if (dt < best) best = dt;
    }
    hs_gemm_force(0);
    free(A), free(B), free(C), free(bv), free(work);
    return 2.0 * M * N * K / best * 1e-9;
}

int main(int argc, char **argv) {
    double seconds = 0.3;
    int hnet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--hnet")) hnet = 1;
        else {
            fprintf(stderr, "usage: bench_gemm [--seconds S] [--hnet]\n");
            return 2;
        }
    }
    hs_blas_set_threads(1);
    printf("BLAS: %s; AVX-512 kernel %s\n", hs_blas_describe(),
           hs_gemm_have_kernel() ? "available" : "NOT available (both columns are cblas)");
    typedef struct {
        const char *what;
        hs_gemm_op op;
        int M, N, K, bias;
    } shape;
    static const shape mlp[] = {
        {"fwd 784->100", HS_GEMM_NT, 128, 100, 784, 1}, {"fwd 100->100", HS_GEMM_NT, 128, 100, 100, 1},
        {"fwd 100->10", HS_GEMM_NT, 128, 10, 100, 1},   {"dW 784->100", HS_GEMM_TN, 100, 784, 128, 0},
        {"dW 100->100", HS_GEMM_TN, 100, 100, 128, 0},  {"dW 100->10", HS_GEMM_TN, 10, 100, 128, 0},
        {"din 100->100", HS_GEMM_NN, 128, 100, 100, 0}, {"din 100->10", HS_GEMM_NN, 128, 100, 10, 0},
        {"fwd 784->1000", HS_GEMM_NT, 128, 1000, 784, 1}, {"fwd 1000->1000", HS_GEMM_NT, 128, 1000, 1000, 1},
        {"dW 1000->1000", HS_GEMM_TN, 1000, 1000, 128, 0}, {"din 1000->1000", HS_GEMM_NN, 128, 1000, 1000, 0},
        {"fwd 1000->10", HS_GEMM_NT, 128, 10, 1000, 1},  {"din 1000->10", HS_GEMM_NN, 128, 1000, 10, 0},
        {"1000^3 NN", HS_GEMM_NN, 1000, 1000, 1000, 0},
    };
    static const shape srhm[] = {
        {"l2 cnn fwd 0", HS_GEMM_NT, 192, 512, 48, 0},   {"l2 cnn dW 0", HS_GEMM_TN, 512, 48, 192, 0},
        {"l2 lcn fwd 0", HS_GEMM_NT, 32, 512, 48, 0},    {"l2 lcn dW 0", HS_GEMM_TN, 512, 48, 32, 0},
        {"l2 fwd 1", HS_GEMM_NT, 32, 512, 3072, 0},      {"l2 dW 1", HS_GEMM_TN, 512, 3072, 32, 0},
        {"l2 din 1", HS_GEMM_NN, 32, 3072, 512, 0},      {"l2 fcn fwd 0", HS_GEMM_NT, 32, 3072, 288, 0},
        {"l2 fcn dW 0", HS_GEMM_TN, 3072, 288, 32, 0},   {"l3 cnn fwd 0", HS_GEMM_NT, 384, 512, 24, 0},
        {"l3 cnn dW 0", HS_GEMM_TN, 512, 24, 384, 0},    {"l3 lcn fwd 0", HS_GEMM_NT, 24, 512, 24, 0},
        {"l3 lcn dW 0", HS_GEMM_TN, 512, 24, 24, 0},     {"l3 cnn fwd 1", HS_GEMM_NT, 96, 512, 2048, 0},
        {"l3 cnn dW 1", HS_GEMM_TN, 512, 2048, 96, 0},   {"l3 cnn din 1", HS_GEMM_NN, 96, 2048, 512, 0},
        {"l3 fwd 2", HS_GEMM_NT, 24, 512, 2048, 0},      {"l3 dW 2", HS_GEMM_TN, 512, 2048, 24, 0},
        {"l3 din 2", HS_GEMM_NN, 24, 2048, 512, 0},      {"l3 fcn fwd 1", HS_GEMM_NT, 24, 2048, 8192, 0},
        {"l3 fcn dW 1", HS_GEMM_TN, 2048, 8192, 24, 0},  {"l3 fcn din 1", HS_GEMM_NN, 24, 8192, 2048, 0},
        {"1000^3 NN", HS_GEMM_NN, 1000, 1000, 1000, 0},
    };
    const shape *shapes = hnet ? srhm : mlp;
    const size_t n_shapes = hnet ? sizeof srhm / sizeof srhm[0] : sizeof mlp / sizeof mlp[0];
    printf("%-16s %5s %5s %5s %10s %10s%s\n", "product", "M", "N", "K", "cblas", "kernel", hnet ? "  hnet path" : "");
    for (size_t s = 0; s < n_shapes; s++) {
        const shape *q = &shapes[s];
        printf("%-16s %5d %5d %5d %10.1f %10.1f", q->what, q->M, q->N, q->K,
               rate(1, q->op, q->M, q->N, q->K, q->bias, seconds), rate(2, q->op, q->M, q->N, q->K, q->bias, seconds));
        if (hnet) printf(" %10.1f", rate(3, q->op, q->M, q->N, q->K, q->bias, seconds));
        printf("\n");
    }
    return 0;
}
