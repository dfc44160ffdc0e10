/* bench_kernel.c - kernel ridge regression: the ScaLAPACK solve on all ranks against the
 * single-process LAPACK solve, on the same data (the reference case: P = 20000 on 2 ranks).
 *
 *   OPENBLAS_CORETYPE=SkylakeX mpiexec -np 2 ./build/bench/bench_kernel [P] [block]
 *
 * P training points (default 20000) of 100 dims in 10 Gaussian classes, 1000 test points, Laplace
 * kernel, ridge 1e-6. Prints the wall time and GFLOP/s (n^3/3 for the Cholesky + 2 n^2 c for
 * the solves, over the factor-and-solve time) of both, and checks they agree on the test error.
 * OPENBLAS_CORETYPE matters here: the bench does not go through `hsweep`, which would pick the
 * AVX-512 kernels itself on CPUs OpenBLAS does not recognise. */
#include <cblas.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "hsweep/util.h"
#include "hsweep/kernel.h"
#include "hsweep/rng.h"

static void make(float *x, int32_t *y, long long n, int p, int K, uint64_t seed) {
    hs_rng r;
    hs_rng_init(&r, seed, 7);
    for (long long i = 0; i < n; i++) {
        y[i] = (int32_t)(i % K);
        for (int j = 0; j < p; j++) x[i * p + j] = (float)(hs_rng_normal(&r) + (j == y[i] ? 2.0 : 0.0));
    }
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    hs_blas_set_threads(1);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long long P = argc > 1 ? atoll(argv[1]) : 20000, T = 1000;
    int p = 100, K = 10, nb = argc > 2 ? atoi(argv[2]) : 64;
    float *xtr = malloc((size_t)P * p * sizeof *xtr), *xte = malloc((size_t)T * p * sizeof *xte);
    int32_t *ytr = malloc((size_t)P * sizeof *ytr), *yte = malloc((size_t)T * sizeof *yte);
    if (!xtr || !xte || !ytr || !yte) MPI_Abort(MPI_COMM_WORLD, 1); /* a benchmark, not library code */
    make(xtr, ytr, P, p, K, 1);
    make(xte, yte, T, p, K, 2);
    hs_kernel_opts o = {.kind = HS_KERNEL_LAPLACE, .sigma = 10, .ridge = 1e-6, .block = nb};
    int nprow, npcol;
    hs_krr_grid_shape(size, &nprow, &npcol);
    hs_error err = {0};
    hs_krr_result dist = {0}, ref = {0};
    hs_code rc = hs_krr_fit_predict(MPI_COMM_WORLD, &o, xtr, ytr, P, xte, yte, T, p, K, &dist, &err);
    if (rc != HS_OK && rank == 0) fprintf(stderr, "scalapack: %s\n", err.msg);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        hs_code rl = hs_krr_fit_predict_lapack(&o, xtr, ytr, P, xte, yte, T, p, K, &ref, &err);
        if (rl != HS_OK) fprintf(stderr, "lapack: %s\n", err.msg);
        printf("kernel ridge regression, P = %lld, p = %d, %d classes, %lld test points, Laplace, block %d\n", P, p, K,
               T, nb);
        printf("| solver | ranks (grid) | wall s | factor+solve s | GFLOP/s | test error |\n|---|---|---|---|---|---|\n");
        printf("| LAPACK dposv | 1 | %.2f | %.2f | %.1f | %.4f |\n", ref.seconds, ref.solve_seconds, ref.gflops,
               ref.test_error);
        printf("| ScaLAPACK pdpotrf/pdpotrs | %d (%dx%d) | %.2f | %.2f | %.1f | %.4f |\n", size, nprow, npcol,
               dist.seconds, dist.solve_seconds, dist.gflops, dist.test_error);
        printf("speed-up of the whole call: %.2fx; of the factor+solve: %.2fx; test errors %s\n",
               ref.seconds / dist.seconds, ref.solve_seconds / dist.solve_seconds,
               ref.test_error == dist.test_error ? "equal" : "DIFFER");
    }
    free(xtr), free(xte), free(ytr), free(yte);
    MPI_Finalize();
    return rc == HS_OK ? 0 : 1;
}
