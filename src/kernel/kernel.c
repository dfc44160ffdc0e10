/*
 * kernel.c - kernels, kernel ridge regression on a BLACS grid (ScaLAPACK) and its serial LAPACK
 * reference. Conventions and formulas: include/hsweep/kernel.h.
 *
 * Layouts: data x [n x p] floats row-major (row i = sample i). ScaLAPACK arrays are column-major
 * local pieces of block-cyclic global matrices (leading dimension lld = max(1, local rows)).
 * alpha and f are handed out row-major [rows x n_classes].
 */
#include "hsweep/kernel.h"

#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- BLACS / ScaLAPACK prototypes */
/* There is no C header for Debian's libscalapack-openmpi: the BLACS C interface and the Fortran
 * routines (trailing underscore, every argument by reference, INTEGER = int) are declared here. */

void Cblacs_pinfo(int *mypnum, int *nprocs);
void Cblacs_gridinit(int *ctxt, const char *order, int nprow, int npcol);
void Cblacs_gridinfo(int ctxt, int *nprow, int *npcol, int *myrow, int *mycol);
void Cblacs_gridexit(int ctxt);
int Csys2blacs_handle(MPI_Comm comm);
void Cfree_blacs_system_handle(int handle);

int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);
void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb, const int *irsrc,
               const int *icsrc, const int *ictxt, const int *lld, int *info);
void pdpotrf_(const char *uplo, const int *n, double *a, const int *ia, const int *ja, const int *desca,
              int *info);
void pdpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *ia, const int *ja,
              const int *desca, double *b, const int *ib, const int *jb, const int *descb, int *info);
void pdgesv_(const int *n, const int *nrhs, double *a, const int *ia, const int *ja, const int *desca, int *ipiv,
             double *b, const int *ib, const int *jb, const int *descb, int *info);

enum { DEFAULT_BLOCK = 64 };

/* ---------------------------------------------------------------- kernels */

/* NTK recursion from the three inner products Sigma0 = x.y/p, x.x/p, y.y/p (see kernel.h).
 * With c_sigma = 2 the diagonal terms stay xx and yy at every layer (t = 0 there), so they are
 * not recomputed. */
static double ntk_from(double xy, double xx, double yy, int depth) {
    const double pi = 3.14159265358979323846;
    double norm = sqrt(xx * yy);
    double sigma = xy, theta = xy;
    for (int h = 1; h <= depth; h++) {
        double t;
        if (norm > 0.0) {
            double rho = sigma / norm;
            // rounding can push a correlation of (anti)parallel points just past +-1
            rho = rho > 1.0 ? 1.0 : (rho < -1.0 ? -1.0 : rho);
            t = acos(rho);
        } else {
            t = pi / 2; // a zero point: Sigma(x,y) = 0, any t gives the same Sigma_h = 0
        }
        double dsigma = (pi - t) / pi;                        // c_sigma/(2 pi) (pi - t), c_sigma = 2
        sigma = norm / pi * (sin(t) + (pi - t) * cos(t));     // c_sigma/(2 pi) sqrt(..)(sin t + (pi-t) cos t)
        theta = theta * dsigma + sigma;
    }
    return theta;
}

static double dot_f(const float *x, const float *y, int p) {
    double s = 0.0;
    for (int k = 0; k < p; k++) s += (double)x[k] * (double)y[k];
    return s;
}

// Direct differences rather than |x|^2 + |y|^2 - 2 x.y: no cancellation for close points, which
// matters most for the Laplace kernel (sqrt amplifies relative error near 0).
static double dist2_f(const float *x, const float *y, int p) {
    double s = 0.0;
    for (int k = 0; k < p; k++) {
        double d = (double)x[k] - (double)y[k];
        s += d * d;
    }
    return s;
}

/* k(x, y); sqn_x, sqn_y = x.x/p and y.y/p for the NTK (precomputed by the Gram loops). */
static double kernel_pair(const hs_kernel_opts *o, const float *x, const float *y, int p, double sqn_x,
                          double sqn_y) {
    switch (o->kind) {
    case HS_KERNEL_LAPLACE: return exp(-sqrt(dist2_f(x, y, p)) / o->sigma);
    case HS_KERNEL_GAUSSIAN: return exp(-dist2_f(x, y, p) / (2.0 * o->sigma * o->sigma));
    case HS_KERNEL_NTK: return ntk_from(dot_f(x, y, p) / p, sqn_x, sqn_y, o->ntk_depth);
    }
    return NAN;
}

double hs_kernel_eval(const hs_kernel_opts *o, const float *x, const float *y, int p) {
    double sx = 0.0, sy = 0.0;
    if (o->kind == HS_KERNEL_NTK) sx = dot_f(x, x, p) / p, sy = dot_f(y, y, p) / p;
    return kernel_pair(o, x, y, p, sx, sy);
}

hs_code hs_kernel_check(const hs_kernel_opts *o, hs_error *err) {
    if (!o) return HS_FAIL(err, HS_ERR_VALUE, "kernel: no options given");
    if (o->kind != HS_KERNEL_LAPLACE && o->kind != HS_KERNEL_GAUSSIAN && o->kind != HS_KERNEL_NTK)
        return HS_FAIL(err, HS_ERR_VALUE, "kernel: unknown kind %d", (int)o->kind);
    if (o->kind != HS_KERNEL_NTK && !(o->sigma > 0.0 && isfinite(o->sigma)))
        return HS_FAIL(err, HS_ERR_VALUE, "kernel: sigma must be finite and > 0, got %g", o->sigma);
    if (o->kind == HS_KERNEL_NTK && o->ntk_depth < 0)
        return HS_FAIL(err, HS_ERR_VALUE, "kernel: ntk_depth must be >= 0, got %d", o->ntk_depth);
    if (!isfinite(o->ridge)) return HS_FAIL(err, HS_ERR_VALUE, "kernel: ridge must be finite, got %g", o->ridge);
    return HS_OK;
}

/* ---------------------------------------------------------------- shared pieces */

static hs_code check_problem(const hs_kernel_opts *o, const float *xtr, const int32_t *ytr, long long ntr,
                             const float *xte, const int32_t *yte, long long nte, int p, int n_classes,
                             const hs_krr_result *out, hs_error *err) {
    HS_TRY(err, hs_kernel_check(o, err));
    if (!out) return HS_FAIL(err, HS_ERR_VALUE, "krr: no result given");
    if (p < 1 || n_classes < 1) return HS_FAIL(err, HS_ERR_VALUE, "krr: need p >= 1 and n_classes >= 1, got %d, %d", p, n_classes);
    if (ntr < 1 || nte < 0) return HS_FAIL(err, HS_ERR_VALUE, "krr: need ntr >= 1 and nte >= 0, got %lld, %lld", ntr, nte);
    // ScaLAPACK indices and MPI counts are 32-bit
    if (ntr > INT_MAX / n_classes || nte > INT_MAX / n_classes)
        return HS_FAIL(err, HS_ERR_LIMIT, "krr: %lld training / %lld test rows x %d classes exceed 32-bit counts",
                       ntr, nte, n_classes);
    if (!xtr || !ytr || (nte > 0 && (!xte || !yte))) return HS_FAIL(err, HS_ERR_VALUE, "krr: missing data arrays");
    for (long long i = 0; i < ntr; i++)
        if (ytr[i] < 0 || ytr[i] >= n_classes)
            return HS_FAIL(err, HS_ERR_VALUE, "krr: training label %lld is %d, outside 0..%d", i, (int)ytr[i], n_classes - 1);
    for (long long i = 0; i < nte; i++)
        if (yte[i] < 0 || yte[i] >= n_classes)
            return HS_FAIL(err, HS_ERR_VALUE, "krr: test label %lld is %d, outside 0..%d", i, (int)yte[i], n_classes - 1);
    return HS_OK;
}

/* x.x/p per row for the NTK (NULL otherwise: the other kernels do not use it). */
static hs_code row_norms(const hs_kernel_opts *o, const float *x, long long n, int p, double **out, hs_error *err) {
    *out = NULL;
    if (o->kind != HS_KERNEL_NTK || n == 0) return HS_OK;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s) return HS_FAIL(err, HS_ERR_NOMEM, "krr: no memory for %lld row norms", n);
    for (long long i = 0; i < n; i++) s[i] = dot_f(x + (size_t)i * p, x + (size_t)i * p, p) / p;
    *out = s;
    return HS_OK;
}

static int argmax_row(const double *f, int c) {
    int best = 0;
    for (int k = 1; k < c; k++)
        if (f[k] > f[best]) best = k;
    return best;
}

/* Predict test rows [lo, hi): f[(i - lo) * c + k] = sum_j k(xte_i, xtr_j) alpha[j * c + k].
 * kbuf: ntr doubles of scratch. Returns the number of misclassified rows. */
static long long predict_rows(const hs_kernel_opts *o, const float *xtr, const double *ntr_sq, long long ntr,
                              const double *alpha, const float *xte, const int32_t *yte, long long lo,
                              long long hi, int p, int c, double *f, double *kbuf) {
    long long wrong = 0;
    for (long long i = lo; i < hi; i++) {
        const float *xi = xte + (size_t)i * p;
        double si = o->kind == HS_KERNEL_NTK ? dot_f(xi, xi, p) / p : 0.0;
        for (long long j = 0; j < ntr; j++)
            kbuf[j] = kernel_pair(o, xi, xtr + (size_t)j * p, p, si, ntr_sq ? ntr_sq[j] : 0.0);
        double *fi = f + (size_t)(i - lo) * c;
        for (int k = 0; k < c; k++) fi[k] = 0.0;
        for (long long j = 0; j < ntr; j++) {
            const double *aj = alpha + (size_t)j * c;
            for (int k = 0; k < c; k++) fi[k] += kbuf[j] * aj[k];
        }
        if (argmax_row(fi, c) != yte[i]) wrong++;
    }
    return wrong;
}

/* Training error from K alpha = Y - ridge alpha (alpha row-major [ntr x c]). */
static double train_error(const double *alpha, const int32_t *ytr, long long ntr, int c, double ridge) {
    long long wrong = 0;
    for (long long i = 0; i < ntr; i++) {
        int best = 0;
        double fbest = 0.0;
        for (int k = 0; k < c; k++) {
            double f = (ytr[i] == k ? 1.0 : 0.0) - ridge * alpha[(size_t)i * c + k];
            if (k == 0 || f > fbest) best = k, fbest = f;
        }
        if (best != ytr[i]) wrong++;
    }
    return (double)wrong / (double)ntr;
}

static double solve_flops(double n, double c, int lu) {
    return (lu ? 2.0 / 3.0 : 1.0 / 3.0) * n * n * n + 2.0 * n * n * c;
}

/* ---------------------------------------------------------------- serial LAPACK reference */

/* Full symmetric K + ridge I, column-major n x n (= row-major, it is symmetric). */
static void fill_full(const hs_kernel_opts *o, const float *x, const double *sq, int n, int p, double *a) {
    for (int j = 0; j < n; j++)
        for (int i = j; i < n; i++) {
            double v = kernel_pair(o, x + (size_t)i * p, x + (size_t)j * p, p, sq ? sq[i] : 0.0, sq ? sq[j] : 0.0);
            if (i == j) v += o->ridge;
            a[(size_t)j * n + i] = v;
            a[(size_t)i * n + j] = v;
        }
}

static void fill_onehot_colmajor(const int32_t *y, int n, int c, double *b) {
    memset(b, 0, (size_t)n * c * sizeof *b);
    for (int i = 0; i < n; i++) b[(size_t)y[i] * n + i] = 1.0;
}

hs_code hs_krr_fit_predict_lapack(const hs_kernel_opts *o, const float *xtr, const int32_t *ytr, long long ntr,
                                  const float *xte, const int32_t *yte, long long nte, int p, int n_classes,
                                  hs_krr_result *out, hs_error *err) {
    HS_TRY(err, check_problem(o, xtr, ytr, ntr, xte, yte, nte, p, n_classes, out, err));
    double t0 = MPI_Wtime();
    int n = (int)ntr, c = n_classes;
    hs_code rc = HS_OK;
    double *sq = NULL, *a = NULL, *b = NULL, *alpha = NULL, *f = NULL, *kbuf = NULL;
    int *ipiv = NULL;
    if ((rc = row_norms(o, xtr, ntr, p, &sq, err)) != HS_OK) goto done;
    a = malloc((size_t)n * n * sizeof *a);
    b = malloc((size_t)n * c * sizeof *b);
    alpha = malloc((size_t)n * c * sizeof *alpha);
    kbuf = malloc((size_t)n * sizeof *kbuf);
    f = malloc(((size_t)nte + 1) * c * sizeof *f);
    if (!a || !b || !alpha || !kbuf || !f) {
        rc = HS_FAIL(err, HS_ERR_NOMEM, "krr: no memory for a %d x %d kernel matrix", n, n);
        goto done;
    }
    fill_full(o, xtr, sq, n, p, a);
    fill_onehot_colmajor(ytr, n, c, b);

    double ts = MPI_Wtime();
    lapack_int info = LAPACKE_dposv(LAPACK_COL_MAJOR, 'L', n, c, a, n, b, n);
    int lu = 0;
    if (info > 0) { // not positive definite: rebuild (dposv overwrote a and b) and use LU
        lu = 1;
        ipiv = malloc((size_t)n * sizeof *ipiv);
        if (!ipiv) {
            rc = HS_FAIL(err, HS_ERR_NOMEM, "krr: no memory for pivots");
            goto done;
        }
        fill_full(o, xtr, sq, n, p, a);
        fill_onehot_colmajor(ytr, n, c, b);
        info = LAPACKE_dgesv(LAPACK_COL_MAJOR, n, c, a, n, ipiv, b, n);
        if (info > 0) {
            rc = HS_FAIL(err, HS_ERR_VALUE, "krr: K + ridge I is singular (LU: zero pivot at column %d)", (int)info);
            hs_error_hint(err, "use a positive ridge, or remove duplicated training points");
            goto done;
        }
    }
    if (info < 0) {
        rc = HS_FAIL(err, HS_ERR_INTERNAL, "krr: LAPACK rejected argument %d", (int)-info);
        goto done;
    }
    double solve = MPI_Wtime() - ts;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < c; k++) alpha[(size_t)i * c + k] = b[(size_t)k * n + i];

    long long wrong = predict_rows(o, xtr, sq, ntr, alpha, xte, yte, 0, nte, p, c, f, kbuf);
    out->test_wrong = wrong;
    out->test_error = nte > 0 ? (double)wrong / (double)nte : NAN;
    out->train_error = train_error(alpha, ytr, ntr, c, o->ridge);
    out->used_lu = lu;
    out->solve_seconds = solve;
    out->gflops = solve > 0 ? solve_flops(n, c, lu) / solve / 1e9 : 0.0;
    if (out->alpha) memcpy(out->alpha, alpha, (size_t)n * c * sizeof *alpha);
    if (out->f_test && nte > 0) memcpy(out->f_test, f, (size_t)nte * c * sizeof *f);
    out->seconds = MPI_Wtime() - t0;
done:
    free(sq), free(a), free(b), free(alpha), free(f), free(kbuf), free(ipiv);
    return rc;
}

/* ---------------------------------------------------------------- distributed (ScaLAPACK) */

void hs_krr_grid_shape(int size, int *nprow, int *npcol) {
    int r = 1;
    for (int d = 1; (long long)d * d <= size; d++)
        if (size % d == 0) r = d;
    *nprow = r;
    *npcol = size / r;
}

typedef struct grid {
    int sys, ctx; /* BLACS system handle of the communicator, grid context */
    int nprow, npcol, myrow, mycol;
} grid;

/* Global index of local index l along one dimension (block size nb, source process 0). */
static inline int l2g(int l, int nb, int iproc, int nprocs) { return ((l / nb) * nprocs + iproc) * nb + l % nb; }

/* This rank's local blocks of K + ridge I (mloc x nloc, column-major, leading dimension lld).
 * lower_only: skip the strict upper triangle (Cholesky reads only "L"); it is left as is. */
static void fill_local(const hs_kernel_opts *o, const float *x, const double *sq, int p, int nb, const grid *g,
                       int mloc, int nloc, int lld, int lower_only, double *a) {
    for (int lj = 0; lj < nloc; lj++) {
        int gj = l2g(lj, nb, g->mycol, g->npcol);
        const float *xj = x + (size_t)gj * p;
        for (int li = 0; li < mloc; li++) {
            int gi = l2g(li, nb, g->myrow, g->nprow);
            if (lower_only && gi < gj) continue;
            double v = kernel_pair(o, x + (size_t)gi * p, xj, p, sq ? sq[gi] : 0.0, sq ? sq[gj] : 0.0);
            if (gi == gj) v += o->ridge;
            a[(size_t)lj * lld + li] = v;
        }
    }
}

/* This rank's local blocks of the one-hot Y (global ntr x c, same row blocking as K). */
static void fill_local_onehot(const int32_t *y, int nb, const grid *g, int mloc, int nlocb, int lld, double *b) {
    for (int lj = 0; lj < nlocb; lj++) {
        int gj = l2g(lj, nb, g->mycol, g->npcol);
        for (int li = 0; li < mloc; li++) b[(size_t)lj * lld + li] = y[l2g(li, nb, g->myrow, g->nprow)] == gj ? 1.0 : 0.0;
    }
}

/* Agree on a status: every rank learns the worst code. A rank that did not fail itself gets an
 * HS_ERR_MPI "another rank failed" so that no rank proceeds into a collective alone. */
static hs_code agree(MPI_Comm comm, hs_code local, hs_error *err) {
    int l = (int)local, g = 0;
    if (MPI_Allreduce(&l, &g, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS)
        return HS_FAIL(err, HS_ERR_MPI, "krr: MPI_Allreduce of the status failed");
    if (g == HS_OK) return HS_OK;
    if (local != HS_OK) return local;
    return HS_FAIL(err, HS_ERR_MPI, "krr: another rank failed (%s)", hs_code_to_string((hs_code)g));
}

/* Global min and max of a ScaLAPACK info value (ScaLAPACK reports it per process). */
static hs_code info_range(MPI_Comm comm, int info, int *lo, int *hi, hs_error *err) {
    int v[2] = {-info, info}, r[2];
    if (MPI_Allreduce(v, r, 2, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS)
        return HS_FAIL(err, HS_ERR_MPI, "krr: MPI_Allreduce of info failed");
    *lo = -r[0], *hi = r[1];
    return HS_OK;
}

hs_code hs_krr_fit_predict(MPI_Comm comm, const hs_kernel_opts *o, const float *xtr, const int32_t *ytr,
                           long long ntr, const float *xte, const int32_t *yte, long long nte, int p,
                           int n_classes, hs_krr_result *out, hs_error *err) {
    double t0 = MPI_Wtime();
    // The arguments are identical on every rank, so this fails everywhere or nowhere; agree anyway
    // (a caller bug giving different arguments must not leave a rank inside BLACS).
    hs_code rc = check_problem(o, xtr, ytr, ntr, xte, yte, nte, p, n_classes, out, err);
    HS_TRY(err, agree(comm, rc, err));

    int size, rank;
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    grid g = {0};
    hs_krr_grid_shape(size, &g.nprow, &g.npcol);
    int n = (int)ntr, c = n_classes, nb = o->block > 0 ? o->block : DEFAULT_BLOCK, zero = 0, one = 1;

    {
        int me, np;
        Cblacs_pinfo(&me, &np); // initialises BLACS on first use (MPI is already up: it is not re-initialised)
    }
    g.sys = Csys2blacs_handle(comm);
    g.ctx = g.sys;
    Cblacs_gridinit(&g.ctx, "Row", g.nprow, g.npcol); // rank r -> (r / npcol, r % npcol)
    Cblacs_gridinfo(g.ctx, &g.nprow, &g.npcol, &g.myrow, &g.mycol);

    double *sq = NULL, *a = NULL, *b = NULL, *alpha = NULL, *f = NULL, *kbuf = NULL;
    int *ipiv = NULL, lu = 0;
    double solve = 0.0;
    int mloc = numroc_(&n, &nb, &g.myrow, &zero, &g.nprow);
    int nloc = numroc_(&n, &nb, &g.mycol, &zero, &g.npcol);
    int nlocb = numroc_(&c, &nb, &g.mycol, &zero, &g.npcol);
    int lld = mloc > 1 ? mloc : 1, desca[9], descb[9], info = 0, lo = 0, hi = 0;
    if (g.myrow < 0 || g.myrow >= g.nprow) { // not in the grid: cannot happen with nprow * npcol = size
        rc = HS_FAIL(err, HS_ERR_INTERNAL, "krr: rank %d is outside the %d x %d BLACS grid", rank, g.nprow, g.npcol);
        goto agree_setup;
    }
    descinit_(desca, &n, &n, &nb, &nb, &zero, &zero, &g.ctx, &lld, &info);
    if (info == 0) descinit_(descb, &n, &c, &nb, &nb, &zero, &zero, &g.ctx, &lld, &info);
    if (info != 0) {
        rc = HS_FAIL(err, HS_ERR_INTERNAL, "krr: descinit rejected argument %d", -info);
        goto agree_setup;
    }
    if ((rc = row_norms(o, xtr, ntr, p, &sq, err)) != HS_OK) goto agree_setup;
    a = malloc(((size_t)mloc * nloc + 1) * sizeof *a);
    b = malloc(((size_t)mloc * nlocb + 1) * sizeof *b);
    alpha = malloc((size_t)n * c * sizeof *alpha);
    if (!a || !b || !alpha)
        rc = HS_FAIL(err, HS_ERR_NOMEM, "krr: no memory for the local %d x %d piece of K", mloc, nloc);
agree_setup:
    if ((rc = agree(comm, rc, err)) != HS_OK) goto done;

    // ---- Cholesky, then LU on a rebuilt matrix if K + ridge I is not positive definite
    fill_local(o, xtr, sq, p, nb, &g, mloc, nloc, lld, 1, a);
    fill_local_onehot(ytr, nb, &g, mloc, nlocb, lld, b);
    double ts = MPI_Wtime();
    pdpotrf_("L", &n, a, &one, &one, desca, &info);
    if ((rc = info_range(comm, info, &lo, &hi, err)) != HS_OK) goto done;
    if (lo < 0) {
        rc = HS_FAIL(err, HS_ERR_INTERNAL, "krr: pdpotrf rejected argument %d", -lo);
        goto done;
    }
    if (hi == 0) {
        pdpotrs_("L", &n, &c, a, &one, &one, desca, b, &one, &one, descb, &info);
        if ((rc = info_range(comm, info, &lo, &hi, err)) != HS_OK) goto done;
        if (lo < 0 || hi > 0) {
            rc = HS_FAIL(err, HS_ERR_INTERNAL, "krr: pdpotrs returned info %d", lo < 0 ? lo : hi);
            goto done;
        }
    } else {
        lu = 1;
        ipiv = malloc(((size_t)mloc + nb) * sizeof *ipiv); // ScaLAPACK: LOCr(M_A) + MB_A entries
        rc = ipiv ? HS_OK : HS_FAIL(err, HS_ERR_NOMEM, "krr: no memory for pivots");
        if ((rc = agree(comm, rc, err)) != HS_OK) goto done;
        fill_local(o, xtr, sq, p, nb, &g, mloc, nloc, lld, 0, a);
        fill_local_onehot(ytr, nb, &g, mloc, nlocb, lld, b);
        pdgesv_(&n, &c, a, &one, &one, desca, ipiv, b, &one, &one, descb, &info);
        if ((rc = info_range(comm, info, &lo, &hi, err)) != HS_OK) goto done;
        if (lo < 0) {
            rc = HS_FAIL(err, HS_ERR_INTERNAL, "krr: pdgesv rejected argument %d", -lo);
            goto done;
        }
        if (hi > 0) { // the same on every rank after the reduction: a global, agreed failure
            rc = HS_FAIL(err, HS_ERR_VALUE, "krr: K + ridge I is singular (LU: zero pivot at column %d)", hi);
            hs_error_hint(err, "use a positive ridge, or remove duplicated training points");
            goto done;
        }
    }
    solve = MPI_Wtime() - ts;

    // ---- alpha to every rank: each entry of b lives on exactly one rank, so a sum assembles it
    memset(alpha, 0, (size_t)n * c * sizeof *alpha);
    for (int lj = 0; lj < nlocb; lj++) {
        int gj = l2g(lj, nb, g.mycol, g.npcol);
        for (int li = 0; li < mloc; li++) alpha[(size_t)l2g(li, nb, g.myrow, g.nprow) * c + gj] = b[(size_t)lj * lld + li];
    }
    if (MPI_Allreduce(MPI_IN_PLACE, alpha, n * c, MPI_DOUBLE, MPI_SUM, comm) != MPI_SUCCESS) {
        rc = HS_FAIL(err, HS_ERR_MPI, "krr: MPI_Allreduce of alpha failed");
        goto done; // an MPI failure is not recoverable in agreement anyway
    }
    free(a), a = NULL;
    free(b), b = NULL;

    // ---- predictions: a contiguous share of the test rows per rank
    long long r0 = nte * rank / size, r1 = nte * (rank + 1) / size;
    kbuf = malloc((size_t)n * sizeof *kbuf);
    f = calloc((size_t)(out->f_test ? nte : r1 - r0) * c + 1, sizeof *f);
    rc = (kbuf && f) ? HS_OK : HS_FAIL(err, HS_ERR_NOMEM, "krr: no memory for predictions");
    if ((rc = agree(comm, rc, err)) != HS_OK) goto done;
    double *fmine = out->f_test ? f + (size_t)r0 * c : f;
    long long wrong = predict_rows(o, xtr, sq, ntr, alpha, xte, yte, r0, r1, p, c, fmine, kbuf), total = 0;
    if (MPI_Allreduce(&wrong, &total, 1, MPI_LONG_LONG, MPI_SUM, comm) != MPI_SUCCESS ||
        (out->f_test && nte > 0 &&
         MPI_Allreduce(MPI_IN_PLACE, f, (int)(nte * c), MPI_DOUBLE, MPI_SUM, comm) != MPI_SUCCESS)) {
        rc = HS_FAIL(err, HS_ERR_MPI, "krr: MPI_Allreduce of the predictions failed");
        goto done;
    }
    double times[2] = {MPI_Wtime() - t0, solve};
    if (MPI_Allreduce(MPI_IN_PLACE, times, 2, MPI_DOUBLE, MPI_MAX, comm) != MPI_SUCCESS) {
        rc = HS_FAIL(err, HS_ERR_MPI, "krr: MPI_Allreduce of the timings failed");
        goto done;
    }
    out->test_wrong = total;
    out->test_error = nte > 0 ? (double)total / (double)nte : NAN;
    out->train_error = train_error(alpha, ytr, ntr, c, o->ridge);
    out->used_lu = lu;
    out->seconds = times[0];
    out->solve_seconds = times[1];
    out->gflops = times[1] > 0 ? solve_flops(n, c, lu) / times[1] / 1e9 : 0.0;
    if (out->alpha) memcpy(out->alpha, alpha, (size_t)n * c * sizeof *alpha);
    if (out->f_test && nte > 0) memcpy(out->f_test, f, (size_t)nte * c * sizeof *f);
done:
    free(sq), free(a), free(b), free(alpha), free(f), free(kbuf), free(ipiv);
    // Release the grid and the system handle; never Cblacs_exit(0), which would finalise MPI.
    Cblacs_gridexit(g.ctx);
    Cfree_blacs_system_handle(g.sys);
    return rc;
}
