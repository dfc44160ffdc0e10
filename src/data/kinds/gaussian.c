/* gaussian.c - the data kind gaussian: a K-class Gaussian mixture in p dims, class means on a
 * regular simplex or a circle (include/hsweep/data.h, hs_data_load).
 */
#include <math.h>
#include <stdlib.h>

#include "../internal.h"
#include "hsweep/rng.h"

/* Coordinate d of the mean of class c (of K, in p dims): a regular simplex when p >= K, else K
 * points on a circle in dims 0-1 (radius sep / (2 sin(pi / K)) puts neighbours sep apart), or on
 * a line centred on 0 when p = 1. */
static double mixture_mean(int K, int p, double sep, int c, int d) {
    if (p >= K) return d == c ? sep / sqrt(2.0) : 0.0;
    if (p == 1) return (c - (K - 1) / 2.0) * sep;
    double pi = acos(-1.0), radius = sep / (2.0 * sin(pi / K)), angle = 2.0 * pi * c / K;
    if (d == 0) return radius * cos(angle);
    if (d == 1) return radius * sin(angle);
    return 0.0;
}

/* counts[c] draws of each class c, class after class; class c draws from stream (purpose, c). */
static hs_code draw_mixture(const hs_data_opts *o, const long long *counts, uint32_t purpose, hs_dataset *out,
                            hs_error *err) {
    int K = o->classes, p = o->dim;
    long long n = 0;
    for (int c = 0; c < K; c++) n += counts[c];
    HS_TRY(err, hs_data_alloc(out, n, p, 0, K, err));
    double *mean = malloc((size_t)p * sizeof *mean);
    if (!mean) {
        hs_dataset_free(out);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for a mean of %d values", p);
    }
    long long row = 0;
    for (int c = 0; c < K; c++) {
        for (int d = 0; d < p; d++) mean[d] = mixture_mean(K, p, o->separation, c, d);
        hs_rng rng;
        hs_rng_init(&rng, o->seed, hs_rng_stream(purpose, (uint32_t)c));
        for (long long j = 0; j < counts[c]; j++, row++) {
            float *x = out->x + (size_t)row * p;
            for (int d = 0; d < p; d++) x[d] = (float)(mean[d] + hs_rng_normal(&rng));
            out->y[row] = c;
        }
    }
    free(mean);
    return HS_OK;
}

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    int K = o->classes;
    if (K < 2) return HS_FAIL(err, HS_ERR_VALUE, "data.classes = %d: a mixture needs >= 2 classes", K);
    if (o->dim < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.dim = %d: must be >= 1", o->dim);
    if (!(o->separation >= 0.0) || isinf(o->separation))
        return HS_FAIL(err, HS_ERR_VALUE, "data.separation = %g: must be finite and >= 0", o->separation);
    long long *counts = malloc(2 * (size_t)K * sizeof *counts);
    if (!counts) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %d class counts", K);
    long long *test_counts = counts + K;
    hs_code rc = hs_data_class_counts(o, K, counts, err);
    if (rc == HS_OK) {
        /* n_test = 0: as many as the training set, class by class; else split evenly, the
         * remainder going to the first classes */
        for (int c = 0; c < K; c++) test_counts[c] = o->n_test == 0 ? counts[c] : o->n_test / K + (c < o->n_test % K);
        rc = draw_mixture(o, counts, HS_STREAM_DATA, train, err);
    }
    if (rc == HS_OK) rc = draw_mixture(o, test_counts, HS_STREAM_TEST, test, err);
    free(counts);
    if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
    return rc;
}

static hs_code shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) {
    if (o->classes < 2)
        return HS_FAIL(err, HS_ERR_VALUE, "data.classes = %d: a mixture needs >= 2 classes", o->classes);
    if (o->dim < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.dim = %d: must be >= 1", o->dim);
    long long *counts = malloc((size_t)o->classes * sizeof *counts), n_train = 0;
    if (!counts) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %d class counts", o->classes);
    hs_code rc = hs_data_class_counts(o, o->classes, counts, err);
    for (int c = 0; rc == HS_OK && c < o->classes; c++) n_train += counts[c];
    free(counts);
    HS_TRY(err, rc);
    *out = (hs_data_shape){.dim = o->dim, .classes = o->classes, .n_train = n_train,
                           .n_test = o->n_test ? o->n_test : n_train};
    return HS_OK;
}

const hs_data_kind hs_data_kind_gaussian = {
    .name = "gaussian",
    .doc = "synthetic K-class mixture",
    .code = 5,
    .shape = shape,
    .load = load,
};
