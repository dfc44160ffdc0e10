/* balanced.c - Saxe et al.'s balanced, mode-aligned initialisation of a deep linear net (see
 * hs_init_balanced in include/hsweep/nn.h): every layer diagonal in the singular modes of
 * Sigma_yx, with the same strength `scale` in every layer. LAPACK in double throughout. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/nn.h"
#include "hsweep/rng.h"

/* Bounds that keep every size_t product of dims far from overflow (as the MLP's). */
#define BAL_MAX_DIM (1 << 24)
#define BAL_MAX_LAYERS 100000

/* ================================================================ random orthonormal frames */

/* R [n x r] column-major with orthonormal columns (n >= r >= 1): the Q of the QR of an n x r
 * standard normal matrix G (drawn row-major: G[i][j] is draw i * r + j of stream (INIT, layer)),
 * columns times sign(diag R), as torch.nn.init.orthogonal_ and hs_init_dense's orthogonal init
 * do, so the frame is uniformly (Haar) distributed. tau [2r] is scratch. */
static hs_code random_frame(double *R, double *tau, int n, int r, uint64_t seed, uint32_t layer, hs_error *err) {
    hs_rng g;
    hs_rng_init(&g, seed, hs_rng_stream(HS_STREAM_INIT, layer));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < r; j++) R[(size_t)j * n + i] = hs_rng_normal(&g);
    lapack_int info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, n, r, R, n, tau);
    if (info != 0)
        return HS_FAIL(err, HS_ERR_INTERNAL, "balanced init: LAPACK QR failed (info %d) for layer %u's %d x %d frame",
                       (int)info, layer, n, r);
    /* dorgqr overwrites diag(R): keep its signs first */
    double *sign = tau + r;
    for (int j = 0; j < r; j++) sign[j] = R[(size_t)j * n + j] < 0 ? -1.0 : 1.0;
    info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, n, r, r, R, n, tau);
    if (info != 0)
        return HS_FAIL(err, HS_ERR_INTERNAL, "balanced init: LAPACK dorgqr failed (info %d) for layer %u", (int)info,
                       layer);
    for (int j = 0; j < r; j++)
        for (int i = 0; i < n; i++) R[(size_t)j * n + i] *= sign[j];
    return HS_OK;
}

/* ================================================================ the init */

/* W[l] [rows x cols] row-major = scale * A B^T with A [rows x r], B [cols x r] column-major
 * frames (the modes' directions on each side of the layer). */
static void write_layer(float *W, const double *A, const double *Bf, int rows, int cols, int r, double scale) {
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            double s = 0;
            for (int a = 0; a < r; a++) s += A[(size_t)a * rows + i] * Bf[(size_t)a * cols + j];
            W[(size_t)i * cols + j] = (float)(scale * s);
        }
}

hs_code hs_init_balanced(float *const *W, const int *dims, int n_dense, const double *sigma_yx, double scale,
                         uint64_t seed, hs_error *err) {
    if (n_dense < 1 || n_dense > BAL_MAX_LAYERS)
        return HS_FAIL(err, HS_ERR_VALUE, "balanced init: n_dense must be in 1..%d, got %d", BAL_MAX_LAYERS, n_dense);
    if (!W || !dims || !sigma_yx)
        return HS_FAIL(err, HS_ERR_VALUE, "balanced init: needs the weights, dims and Sigma_yx (got a NULL)");
    for (int l = 0; l <= n_dense; l++)
        if (dims[l] < 1 || dims[l] > BAL_MAX_DIM)
            return HS_FAIL(err, HS_ERR_VALUE, "balanced init: dims[%d] must be in 1..%d, got %d", l, BAL_MAX_DIM,
                           dims[l]);
    if (!isfinite(scale))
        return HS_FAIL(err, HS_ERR_VALUE, "balanced init: scale must be finite, got %g", scale);
    const int n_in = dims[0], n_out = dims[n_dense], k = n_in < n_out ? n_in : n_out;
    const size_t n_el = (size_t)n_in * n_out;
    for (size_t q = 0; q < n_el; q++)
        if (!isfinite(sigma_yx[q]))
            return HS_FAIL(err, HS_ERR_VALUE, "balanced init: Sigma_yx[%zu] is not finite (%g)", q, sigma_yx[q]);

    /* SVD of Sigma_yx [n_out x n_in] row-major: U [n_out x k] and V^T [k x n_in], row-major too */
    int max_dim = n_in > n_out ? n_in : n_out;
    for (int l = 1; l < n_dense; l++)
        if (dims[l] > max_dim) max_dim = dims[l];
    const size_t frame = (size_t)max_dim * k; /* one n x r frame, r <= k */
    double *buf = malloc((n_el + (size_t)n_out * k + (size_t)k * n_in + (size_t)k + 2 * frame + 2 * (size_t)k) *
                         sizeof(double));
    if (!buf) return HS_FAIL(err, HS_ERR_NOMEM, "balanced init: out of memory (%d x %d Sigma_yx)", n_out, n_in);
    double *a = buf, *U = a + n_el, *Vt = U + (size_t)n_out * k, *sv = Vt + (size_t)k * n_in;
    double *Rprev = sv + k, *Rnext = Rprev + frame, *tau = Rnext + frame;
    memcpy(a, sigma_yx, n_el * sizeof(double));
    hs_code rc = HS_OK;
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', n_out, n_in, a, n_in, sv, U, k, Vt, n_in);
    if (info != 0) {
        rc = HS_FAIL(err, HS_ERR_INTERNAL, "balanced init: LAPACK dgesdd failed (info %d) on the %d x %d Sigma_yx",
                     (int)info, n_out, n_in);
        goto done;
    }
    /* rank: singular values above 1e-10 of the largest (dgesdd sorts them in decreasing order) */
    int r = 0;
    while (r < k && sv[r] > 1e-10 * sv[0]) r++;
    if (r == 0) {
        rc = HS_FAIL(err, HS_ERR_VALUE, "balanced init: Sigma_yx is zero, there are no modes to align with");
        goto done;
    }
    for (int l = 1; l < n_dense; l++)
        if (dims[l] < r) {
            rc = HS_FAIL(err, HS_ERR_VALUE,
                         "balanced init: hidden layer %d has %d units, fewer than the %d modes of Sigma_yx", l,
                         dims[l], r);
            hs_error_hint(err, "every hidden width must be at least the rank of Sigma_yx (%d)", r);
            goto done;
        }

    /* The frames as column-major [n x r]: V_r (input side) is the first r rows of V^T read as
     * columns, U_r the first r columns of U. Walk the layers with the frame below (Rprev) and
     * the frame above (Rnext): W_l = scale * Rnext Rprev^T. */
    for (int a_ = 0; a_ < r; a_++)
        for (int j = 0; j < n_in; j++) Rprev[(size_t)a_ * n_in + j] = Vt[(size_t)a_ * n_in + j];
    for (int l = 0; l < n_dense; l++) {
        const int rows = dims[l + 1], cols = dims[l];
        if (l == n_dense - 1) {
            for (int a_ = 0; a_ < r; a_++)
                for (int i = 0; i < n_out; i++) Rnext[(size_t)a_ * n_out + i] = U[(size_t)i * k + a_];
        } else {
            rc = random_frame(Rnext, tau, rows, r, seed, (uint32_t)(l + 1), err);
            if (rc != HS_OK) goto done;
        }
        write_layer(W[l], Rnext, Rprev, rows, cols, r, scale);
        double *t = Rprev;
        Rprev = Rnext, Rnext = t;
    }
done:
    free(buf);
    return rc;
}
