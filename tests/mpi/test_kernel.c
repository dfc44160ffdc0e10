/*
 * test_kernel.c - kernels against hand-computed values, and the ScaLAPACK kernel ridge regression
 * against the serial LAPACK reference on whatever communicator size it runs with (ctest: 1, 2, 4
 * ranks -> grids 1x1, 1x2, 2x2), including the LU fallback and agreed errors.
 *
 * Plain checks rather than CUnit: every check runs on every rank (the solves are collective), a
 * failing check prints its rank, and the exit code is non-zero on every rank when any rank failed.
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/kernel.h"
#include "hsweep/rng.h"

/* ---------------------------------------------------------------- tiny harness */

#include "harness.h"

#define CHECK_CLOSE(got, want, tol)                                                                \
    CHECK(fabs((got) - (want)) <= (tol) * fmax(1.0, fabs(want)), "got %.17g, want %.17g", (double)(got), (double)(want))

/* ---------------------------------------------------------------- data */

typedef struct problem {
    int ntr, nte, p, c;
    float *xtr, *xte;
    int32_t *ytr, *yte;
} problem;

/* Class-dependent means plus N(0,1) noise, times `scale`; identical on every rank (counter-based
 * RNG with a fixed seed). */
static problem make_problem(int ntr, int nte, int p, int c, double scale, uint64_t seed) {
    problem pr = {ntr, nte, p, c, malloc((size_t)ntr * p * sizeof(float)), malloc((size_t)nte * p * sizeof(float)),
                  malloc((size_t)ntr * sizeof(int32_t)), malloc((size_t)nte * sizeof(int32_t))};
    hs_rng r;
    hs_rng_init(&r, seed, hs_rng_stream(HS_STREAM_DATA, 0));
    double *mu = malloc((size_t)c * p * sizeof *mu);
    for (int i = 0; i < c * p; i++) mu[i] = hs_rng_normal(&r);
    for (int s = 0; s < 2; s++) {
        int n = s ? nte : ntr;
        float *x = s ? pr.xte : pr.xtr;
        int32_t *y = s ? pr.yte : pr.ytr;
        for (int i = 0; i < n; i++) {
            y[i] = (int32_t)hs_rng_below(&r, (uint64_t)c);
            for (int k = 0; k < p; k++) x[(size_t)i * p + k] = (float)(scale * (mu[y[i] * p + k] + hs_rng_normal(&r)));
        }
    }
    free(mu);
    return pr;
}

static void free_problem(problem *pr) { free(pr->xtr), free(pr->xte), free(pr->ytr), free(pr->yte); }

static double max_abs(const double *a, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

/* max |a - b| / max |b|: relative to the scale of the reference, so entries near 0 do not blow up. */
static double rel_diff(const double *a, const double *b, size_t n) {
    double d = 0.0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs(a[i] - b[i]));
    double s = max_abs(b, n);
    return s > 0 ? d / s : d;
}

/* Run both solvers on pr and compare f(x*) to tol_f and alpha to tol_alpha; returns used_lu of the ScaLAPACK run
 * (-1 when a solver failed). */
static int compare(MPI_Comm comm, const char *what, const hs_kernel_opts *o, const problem *pr, double tol_f,
                   double tol_alpha) {
    size_t na = (size_t)pr->ntr * pr->c, nf = (size_t)pr->nte * pr->c;
    hs_krr_result ref = {.alpha = malloc(na * sizeof(double)), .f_test = malloc(nf * sizeof(double))};
    hs_krr_result got = {.alpha = malloc(na * sizeof(double)), .f_test = malloc(nf * sizeof(double))};
    hs_error err = {0};
    int used = -1;
    hs_code rc = hs_krr_fit_predict_lapack(o, pr->xtr, pr->ytr, pr->ntr, pr->xte, pr->yte, pr->nte, pr->p, pr->c, &ref, &err);
    CHECK(rc == HS_OK, "%s: lapack: %s", what, err.msg);
    rc = hs_krr_fit_predict(comm, o, pr->xtr, pr->ytr, pr->ntr, pr->xte, pr->yte, pr->nte, pr->p, pr->c, &got, &err);
    CHECK(rc == HS_OK, "%s: scalapack: %s", what, err.msg);
    if (rc == HS_OK) {
        double da = rel_diff(got.alpha, ref.alpha, na), df = rel_diff(got.f_test, ref.f_test, nf);
        CHECK(da <= tol_alpha, "%s: alpha differs from LAPACK by %.3g (relative)", what, da);
        CHECK(df <= tol_f, "%s: f(x*) differs from LAPACK by %.3g (relative)", what, df);
        CHECK(got.test_wrong == ref.test_wrong, "%s: %lld vs %lld test errors", what, got.test_wrong, ref.test_wrong);
        CHECK(got.test_error == ref.test_error && got.train_error == ref.train_error, "%s: errors %g/%g vs %g/%g",
              what, got.test_error, got.train_error, ref.test_error, ref.train_error);
        CHECK(got.used_lu == ref.used_lu, "%s: solver LU %d vs LAPACK %d", what, got.used_lu, ref.used_lu);
        CHECK(got.seconds >= got.solve_seconds && got.solve_seconds >= 0, "%s: timings %g %g", what, got.seconds,
              got.solve_seconds);
        used = got.used_lu;
        if (g_rank == 0)
            printf("  %-40s test error %.4f train error %.4f  %s  d(alpha) %.1e d(f) %.1e\n", what, got.test_error,
                   got.train_error, got.used_lu ? "LU" : "Cholesky", da, df);
    }
    free(ref.alpha), free(ref.f_test), free(got.alpha), free(got.f_test);
    return used;
}

/* ---------------------------------------------------------------- tests */

static void test_kernel_values(void) {
    // Laplace / Gaussian on (0,0) and (3,4): |x - y| = 5, sigma = 2
    //   Laplace  exp(-5/2)            = 0.0820849986238988
    //   Gaussian exp(-25/(2*4))       = exp(-3.125) = 0.04393693362340742
    const float a[2] = {0, 0}, b[2] = {3, 4};
    hs_kernel_opts lap = {.kind = HS_KERNEL_LAPLACE, .sigma = 2}, gau = {.kind = HS_KERNEL_GAUSSIAN, .sigma = 2};
    CHECK_CLOSE(hs_kernel_eval(&lap, a, b, 2), 0.0820849986238988, 1e-15);
    CHECK_CLOSE(hs_kernel_eval(&gau, a, b, 2), 0.04393693362340742, 1e-15);
    CHECK_CLOSE(hs_kernel_eval(&lap, b, b, 2), 1.0, 1e-15);
    CHECK_CLOSE(hs_kernel_eval(&gau, b, a, 2), 0.04393693362340742, 1e-15);

    // NTK, p = 2, e1 = (1,0), e2 = (0,1): Sigma0(e1,e1) = Sigma0(e2,e2) = 1/2.
    // 90 degrees, depth 1: Sigma0(e1,e2) = 0 -> t = pi/2;
    //   Sigma1 = (2/(2 pi)) sqrt(1/2 * 1/2) (sin(pi/2) + (pi/2) cos(pi/2)) = (1/pi)(1/2)(1) = 1/(2 pi)
    //   dSigma1 = (pi - pi/2)/pi = 1/2;  Theta1 = Theta0 dSigma1 + Sigma1 = 0 + 1/(2 pi) = 0.15915494309189535
    // 0 degrees, depth 1: Sigma0 = 1/2 -> t = 0; Sigma1 = (1/pi)(1/2)(0 + pi) = 1/2; dSigma1 = 1;
    //   Theta1 = (1/2)(1) + 1/2 = 1                       (= (depth+1)|x|^2/p)
    // 90 degrees, depth 2: correlation Sigma1/sqrt(1/2 * 1/2) = 1/pi, t = acos(1/pi) = 1.2468502198629159;
    //   Sigma2 = (1/pi)(1/2)(sin t + (pi - t) cos t) = 0.2468655451001858, dSigma2 = (pi - t)/pi = 0.6031152484272009
    //   Theta2 = (1/(2 pi)) 0.6031152484272009 + 0.2468655451001858 = 0.34285431814147127
    const float e1[2] = {1, 0}, e2[2] = {0, 1}, e2x2[2] = {0, 2};
    hs_kernel_opts ntk = {.kind = HS_KERNEL_NTK, .ntk_depth = 1};
    CHECK_CLOSE(hs_kernel_eval(&ntk, e1, e2, 2), 0.15915494309189535, 1e-15);
    CHECK_CLOSE(hs_kernel_eval(&ntk, e1, e1, 2), 1.0, 1e-15);
    CHECK_CLOSE(hs_kernel_eval(&ntk, e1, e2x2, 2), 2 * 0.15915494309189535, 1e-15); // homogeneous of degree 1 in y
    ntk.ntk_depth = 2;
    CHECK_CLOSE(hs_kernel_eval(&ntk, e1, e2, 2), 0.34285431814147127, 1e-15);
    CHECK_CLOSE(hs_kernel_eval(&ntk, e2, e2, 2), 1.5, 1e-15);
    ntk.ntk_depth = 0; // the linear kernel x.y / p
    CHECK_CLOSE(hs_kernel_eval(&ntk, b, e2x2, 2), 4.0, 1e-15);

    hs_error err = {0};
    hs_kernel_opts bad = {.kind = HS_KERNEL_GAUSSIAN, .sigma = 0};
    CHECK(hs_kernel_check(&bad, &err) == HS_ERR_VALUE, "sigma = 0 accepted");
    bad = (hs_kernel_opts){.kind = HS_KERNEL_NTK, .ntk_depth = -1};
    CHECK(hs_kernel_check(&bad, &err) == HS_ERR_VALUE, "depth -1 accepted");
    int r, c;
    hs_krr_grid_shape(1, &r, &c);
    CHECK(r == 1 && c == 1, "1 -> %dx%d", r, c);
    hs_krr_grid_shape(2, &r, &c);
    CHECK(r == 1 && c == 2, "2 -> %dx%d", r, c);
    hs_krr_grid_shape(4, &r, &c);
    CHECK(r == 2 && c == 2, "4 -> %dx%d", r, c);
    hs_krr_grid_shape(6, &r, &c);
    CHECK(r == 2 && c == 3, "6 -> %dx%d", r, c);
    hs_krr_grid_shape(7, &r, &c);
    CHECK(r == 1 && c == 7, "7 -> %dx%d", r, c);
}

static void test_against_lapack(void) {
    // P = 300 is not a multiple of any block size below; with nb = 64 or 7 each grid dimension has
    // several blocks per process (P / grid >= 150 > nb); nb = 512 puts all of K on process (0,0).
    problem pr = make_problem(300, 200, 10, 3, 1.0, 42);
    hs_kernel_opts o = {.kind = HS_KERNEL_LAPLACE, .sigma = 4.0, .ridge = 1e-2, .block = 64};
    CHECK(compare(MPI_COMM_WORLD, "laplace nb=64", &o, &pr, 1e-8, 1e-8) == 0, "Cholesky expected");
    o.block = 7;
    CHECK(compare(MPI_COMM_WORLD, "laplace nb=7", &o, &pr, 1e-8, 1e-8) == 0, "Cholesky expected");
    o.block = 512;
    CHECK(compare(MPI_COMM_WORLD, "laplace nb=512", &o, &pr, 1e-8, 1e-8) == 0, "Cholesky expected");
    o = (hs_kernel_opts){.kind = HS_KERNEL_GAUSSIAN, .sigma = 4.0, .ridge = 1e-2, .block = 0}; // default nb
    CHECK(compare(MPI_COMM_WORLD, "gaussian nb=default", &o, &pr, 1e-8, 1e-8) == 0, "Cholesky expected");
    o = (hs_kernel_opts){.kind = HS_KERNEL_NTK, .ntk_depth = 3, .ridge = 1e-1, .block = 16};
    CHECK(compare(MPI_COMM_WORLD, "ntk depth 3 nb=16", &o, &pr, 1e-8, 1e-8) == 0, "Cholesky expected");

    // the results are meaningful, not just equal: 3 separated classes are mostly classified right
    hs_krr_result r = {0};
    hs_error err = {0};
    o = (hs_kernel_opts){.kind = HS_KERNEL_LAPLACE, .sigma = 4.0, .ridge = 1e-2, .block = 64};
    CHECK(hs_krr_fit_predict(MPI_COMM_WORLD, &o, pr.xtr, pr.ytr, pr.ntr, pr.xte, pr.yte, pr.nte, pr.p, pr.c, &r, &err) == HS_OK,
          "%s", err.msg);
    CHECK(r.test_error < 0.2 && r.train_error == 0.0, "test error %g, train error %g", r.test_error, r.train_error);
    // no test set: only the fit
    CHECK(hs_krr_fit_predict(MPI_COMM_WORLD, &o, pr.xtr, pr.ytr, pr.ntr, NULL, NULL, 0, pr.p, pr.c, &r, &err) == HS_OK,
          "%s", err.msg);
    CHECK(isnan(r.test_error), "test error %g without a test set", r.test_error);
    free_problem(&pr);

    // fewer training rows than ranks x block: some ranks own nothing of K
    pr = make_problem(5, 7, 3, 2, 1.0, 7);
    o.block = 2;
    CHECK(compare(MPI_COMM_WORLD, "tiny P=5 nb=2", &o, &pr, 1e-8, 1e-8) == 0, "Cholesky expected");
    free_problem(&pr);
}

static void test_lu_fallback(void) {
    // A ridge below -(largest eigenvalue of K) - 1 makes K + ridge I negative definite with all
    // eigenvalues in [ridge + lambda_min, -1]: Cholesky fails at the first pivot, yet the matrix is
    // well conditioned (cond <= max row sum + 1), so LU must agree with LAPACK's dgesv to 1e-8.
    // The largest eigenvalue is bounded by the largest absolute row sum (Gershgorin).
    problem pr = make_problem(150, 60, 10, 3, 1.0, 3);
    hs_kernel_opts o = {.kind = HS_KERNEL_LAPLACE, .sigma = 4.0, .block = 16};
    double rowmax = 0;
    for (int i = 0; i < pr.ntr; i++) {
        double s = 0;
        for (int j = 0; j < pr.ntr; j++) s += fabs(hs_kernel_eval(&o, pr.xtr + (size_t)i * pr.p, pr.xtr + (size_t)j * pr.p, pr.p));
        rowmax = fmax(rowmax, s);
    }
    o.ridge = -(rowmax + 1);
    CHECK(compare(MPI_COMM_WORLD, "negative definite (ridge < -lambda_max)", &o, &pr, 1e-8, 1e-8) == 1, "LU expected");
    free_problem(&pr);

    // Duplicated training points and a ridge of -1e-6: K has an exact zero eigenvalue per
    // duplicate pair (direction e_i - e_j), so K + ridge I has eigenvalue -1e-6 next to positive
    // ones: indefinite whatever the rounding, but invertible. alpha is ill-conditioned (~1e6) in
    // the e_i - e_j directions, which cancel in f (k(x*, x_i) = k(x*, x_j)): f to 1e-8, alpha to 1e-6.
    pr = make_problem(120, 50, 10, 3, 1.0, 11);
    for (int i = 0; i < 20; i++) { // rows 100..119 repeat rows 0..19, labels included
        memcpy(pr.xtr + (size_t)(100 + i) * pr.p, pr.xtr + (size_t)i * pr.p, (size_t)pr.p * sizeof(float));
        pr.ytr[100 + i] = pr.ytr[i];
    }
    o = (hs_kernel_opts){.kind = HS_KERNEL_LAPLACE, .sigma = 4.0, .ridge = -1e-6, .block = 16};
    CHECK(compare(MPI_COMM_WORLD, "duplicates, ridge -1e-6", &o, &pr, 1e-8, 1e-6) == 1, "LU expected");

    // The same at ridge 0: K is exactly singular, so rounding decides. Whatever happens, every rank
    // must come back with the same code (no rank left in a collective), and a success must be
    // finite. An error must be the documented HS_ERR_VALUE.
    o.ridge = 0;
    hs_krr_result r = {0};
    hs_error err = {0};
    hs_code rc = hs_krr_fit_predict(MPI_COMM_WORLD, &o, pr.xtr, pr.ytr, pr.ntr, pr.xte, pr.yte, pr.nte, pr.p, pr.c, &r, &err);
    int mine[2] = {(int)rc, -(int)rc}, all[2];
    MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CHECK(all[0] == -all[1], "ranks disagree on the code: max %d, min %d", all[0], -all[1]);
    CHECK(rc == HS_OK || rc == HS_ERR_VALUE, "code %s: %s", hs_code_to_string(rc), err.msg);
    if (rc == HS_OK) CHECK(isfinite(r.test_error), "test error %g", r.test_error);
    if (g_rank == 0)
        printf("  %-40s %s\n", "duplicates, ridge 0",
               rc == HS_OK ? (r.used_lu ? "solved by LU" : "solved by Cholesky (rounding kept it PD)") : err.msg);
    free_problem(&pr);
}

static void test_errors_agreed(void) {
    problem pr = make_problem(40, 10, 4, 2, 1.0, 5);
    hs_kernel_opts o = {.kind = HS_KERNEL_GAUSSIAN, .sigma = 1.0, .ridge = 1e-3};
    hs_krr_result r = {0};
    hs_error err = {0};
    pr.ytr[3] = 2; // outside 0..1
    hs_code rc = hs_krr_fit_predict(MPI_COMM_WORLD, &o, pr.xtr, pr.ytr, pr.ntr, pr.xte, pr.yte, pr.nte, pr.p, pr.c, &r, &err);
    CHECK(rc == HS_ERR_VALUE && strstr(err.msg, "label 3") != NULL, "%s: %s", hs_code_to_string(rc), err.msg);
    pr.ytr[3] = 1;
    o.sigma = -1;
    rc = hs_krr_fit_predict(MPI_COMM_WORLD, &o, pr.xtr, pr.ytr, pr.ntr, pr.xte, pr.yte, pr.nte, pr.p, pr.c, &r, &err);
    CHECK(rc == HS_ERR_VALUE, "sigma -1: %s", hs_code_to_string(rc));
    // Only rank 0 gets a bad argument: the others must not hang in BLACS, and must fail too.
    o.sigma = g_rank == 0 ? 0.0 : 1.0;
    rc = hs_krr_fit_predict(MPI_COMM_WORLD, &o, pr.xtr, pr.ytr, pr.ntr, pr.xte, pr.yte, pr.nte, pr.p, pr.c, &r, &err);
    CHECK(rc == (g_rank == 0 ? HS_ERR_VALUE : HS_ERR_MPI), "one bad rank: %s: %s", hs_code_to_string(rc), err.msg);
    free_problem(&pr);
}

static void test_sub_communicators(void) {
    // Two independent solves on halves of the job (each its own BLACS grid): the grid follows the
    // communicator, not MPI_COMM_WORLD.
    if (g_size < 2) return;
    MPI_Comm half;
    MPI_Comm_split(MPI_COMM_WORLD, g_rank % 2, g_rank, &half);
    problem pr = make_problem(130, 40, 6, 4, 1.0, 100 + (uint64_t)(g_rank % 2));
    hs_kernel_opts o = {.kind = HS_KERNEL_GAUSSIAN, .sigma = 3.0, .ridge = 1e-2, .block = 8};
    CHECK(compare(half, g_rank % 2 ? "sub-communicator (odd ranks)" : "sub-communicator (even ranks)", &o, &pr, 1e-8, 1e-8) == 0,
          "Cholesky expected");
    free_problem(&pr);
    MPI_Comm_free(&half);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    int r, c;
    hs_krr_grid_shape(g_size, &r, &c);
    if (g_rank == 0) printf("test_kernel on %d rank(s), grid %d x %d\n", g_size, r, c);
    double t0 = MPI_Wtime();
    test_kernel_values();
    test_against_lapack();
    test_lu_fallback();
    test_errors_agreed();
    test_sub_communicators();
    int failed = 0;
    MPI_Allreduce(&g_failed, &failed, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (g_rank == 0)
        printf("test_kernel: %d checks per rank, %d failed over all ranks (%.2f s)\n", g_checks, failed, MPI_Wtime() - t0);
    MPI_Finalize();
    return failed ? 1 : 0;
}
