/* internal.h - what the data module's files share (private to data/): the loaders and shapes of
 * the kinds that live outside dataset.c, the cfm item subset, and the set allocation. */
#ifndef HSWEEP_DATA_INTERNAL_H
#define HSWEEP_DATA_INTERNAL_H

#include "hsweep/data.h"

/* n x dim above this in one set is a mistake in the spec (2^31 floats = 8 GiB), not a dataset */
#define HS_DATA_MAX_VALUES (1ll << 31)

/* d for n rows (n may be 0: x, y, t stay NULL) of dim values, t_dim real targets (0 = none).
 * n * dim and n * t_dim are checked against HS_DATA_MAX_VALUES (HS_ERR_LIMIT); d is zeroed first
 * and left zeroed on failure. */
hs_code hs_data_alloc(hs_dataset *d, long long n, int dim, int t_dim, int classes, hs_error *err);

/* hierarchy.c: hierarchy and partition. */
hs_code hs_data_load_category(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err);
hs_code hs_data_shape_category(const hs_data_opts *o, hs_data_shape *out, hs_error *err);

/* tasks.c: xor, gated_toy, gated_fmnist. */
hs_code hs_data_load_task(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err);
hs_code hs_data_shape_task(const hs_data_opts *o, hs_data_shape *out, hs_error *err);

/* dataset.c: the training subset cfm would build for o (kind, seed, per_class / class_counts,
 * path and resize of o; the kind itself is ignored), without reading the test split. */
hs_code hs_data_cfm_items(const hs_data_opts *o, hs_dataset *items, hs_error *err);
/* dataset.c: n_train of an image kind's options (sum of class_counts or 10 per_class), checked. */
hs_code hs_data_image_counts(const hs_data_opts *o, long long *n_train, hs_error *err);

#endif
