/* whiten.c - input whitening for the deep-linear-network theory (see hs_data_zca in data.h).
 *
 * Saxe et al.'s solutions assume Sigma_xx = E[x x^T] = I; whitening the training inputs makes any
 * dataset satisfy it, so the learning dynamics depend on Sigma_yx alone. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/data.h"

/* x <- M x for every row of d (M [p x p] symmetric, double; rows in float). */
static void apply(hs_dataset *d, const double *M, double *row) {
    const int p = d->dim;
    for (long long r = 0; r < d->n; r++) {
        float *x = d->x + (size_t)r * p;
        for (int i = 0; i < p; i++) {
            double s = 0;
            for (int j = 0; j < p; j++) s += M[(size_t)i * p + j] * x[j];
            row[i] = s;
        }
        for (int i = 0; i < p; i++) x[i] = (float)row[i];
    }
}

hs_code hs_data_zca(hs_dataset *train, hs_dataset *test, double eps, hs_error *err) {
    const int p = train->dim;
    if (train->n < 1 || p < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.zca: an empty training set cannot be whitened");
    if (train->modules)
        return HS_FAIL(err, HS_ERR_VALUE, "data.zca: the rows of a routing task carry module indices; not whitened");
    if ((size_t)p > 8192) return HS_FAIL(err, HS_ERR_LIMIT, "data.zca: %d input dimensions is above the 8192 supported", p);
    double *C = calloc((size_t)p * p, sizeof *C), *w = malloc((size_t)p * sizeof *w);
    double *M = calloc((size_t)p * p, sizeof *M), *row = malloc((size_t)p * sizeof *row);
    hs_code rc = HS_OK;
    if (!C || !w || !M || !row) {
        rc = HS_FAIL(err, HS_ERR_NOMEM, "data.zca: out of memory for a %d x %d covariance", p, p);
        goto out;
    }
    /* Sigma_xx = (1/n) X^T X in double (upper triangle) */
    for (long long r = 0; r < train->n; r++) {
        const float *x = train->x + (size_t)r * p;
        for (int i = 0; i < p; i++)
            for (int j = i; j < p; j++) C[(size_t)i * p + j] += (double)x[i] * x[j];
    }
    for (int i = 0; i < p; i++)
        for (int j = i; j < p; j++) C[(size_t)i * p + j] /= (double)train->n;
    /* C = Q diag(w) Q^T; M = Q diag(w^-1/2) Q^T over the eigenvalues above eps * max (a
     * pseudo-inverse root: directions the data never visits stay at zero) */
    int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', p, C, p, w);
    if (info != 0) {
        rc = HS_FAIL(err, HS_ERR_INTERNAL, "data.zca: eigendecomposition of Sigma_xx failed (LAPACK info %d)", info);
        goto out;
    }
    double wmax = w[p - 1];
    for (int k = 0; k < p; k++) {
        if (!(w[k] > eps * wmax)) continue;
        double f = 1.0 / sqrt(w[k]);
        for (int i = 0; i < p; i++) {
            double qi = C[(size_t)i * p + k] * f;
            for (int j = 0; j < p; j++) M[(size_t)i * p + j] += qi * C[(size_t)j * p + k];
        }
    }
    apply(train, M, row);
    if (test && test->n > 0 && test->dim == p) apply(test, M, row);
out:
    free(C), free(w), free(M), free(row);
    return rc;
}
