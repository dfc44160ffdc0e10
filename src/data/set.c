/* set.c - what every kind builds its sets with: the allocation of a set under the size limit,
 * the per-class training counts of data.per_class / data.class_counts, and freeing. The bottom of
 * the data module: it uses nothing else of it.
 */
#include <stdlib.h>

#include "internal.h"


/* Check o and fill counts[classes] with the training samples asked for per class. */
hs_code hs_data_class_counts(const hs_data_opts *o, int classes, long long *counts, hs_error *err) {
    long long total = 0;
    for (int c = 0; c < classes; c++) {
        if (o->class_counts) {
            counts[c] = o->class_counts[c];
            if (counts[c] < 0)
                return HS_FAIL(err, HS_ERR_VALUE, "data.class_counts[%d] = %lld: a count must be >= 0", c, counts[c]);
        } else {
            counts[c] = o->per_class;
            if (counts[c] < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.per_class = %lld: must be >= 1", o->per_class);
        }
        if (counts[c] > HS_DATA_MAX_VALUES)
            return HS_FAIL(err, HS_ERR_LIMIT, "class %d: %lld training samples is more than 2^31", c, counts[c]);
        total += counts[c]; /* at most 2^31 per class: no overflow */
    }
    if (total < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.class_counts: every class has 0 samples");
    if (o->n_test < 0) return HS_FAIL(err, HS_ERR_VALUE, "data.n_test = %lld: must be >= 0", o->n_test);
    if (total > HS_DATA_MAX_VALUES || o->n_test > HS_DATA_MAX_VALUES)
        return HS_FAIL(err, HS_ERR_LIMIT, "%lld training and %lld test samples: more than 2^31 rows", total, o->n_test);
    return HS_OK;
}

hs_code hs_data_alloc(hs_dataset *d, long long n, int dim, int t_dim, int classes, hs_error *err) {
    *d = (hs_dataset){0};
    if (n < 0 || dim < 1 || t_dim < 0)
        return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_alloc: %lld rows of %d values and %d targets", n, dim, t_dim);
    if (n > HS_DATA_MAX_VALUES / dim || (t_dim > 0 && n > HS_DATA_MAX_VALUES / t_dim))
        return HS_FAIL(err, HS_ERR_LIMIT, "%lld rows of %d values: more than 2^31 values (8 GiB) in one set", n, dim);
    d->n = n;
    d->dim = dim;
    d->t_dim = t_dim;
    d->classes = classes;
    if (n == 0) return HS_OK;
    d->x = malloc((size_t)n * (size_t)dim * sizeof *d->x);
    d->y = malloc((size_t)n * sizeof *d->y);
    if (t_dim > 0) d->t = malloc((size_t)n * (size_t)t_dim * sizeof *d->t);
    if (!d->x || !d->y || (t_dim > 0 && !d->t)) {
        hs_dataset_free(d);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %lld rows of %d values", n, dim);
    }
    return HS_OK;
}


void hs_dataset_free(hs_dataset *d) {
    if (!d) return;
    free(d->x);
    free(d->y);
    free(d->t);
    *d = (hs_dataset){0};
}
