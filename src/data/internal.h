/* internal.h - what the data kinds are built from (private to data/). The layers, each using only
 * the ones above it in this list:
 *   set.c                          allocation, per-class counts, the size limit
 *   idx.c cifar.c resize.c whiten.c srhm.c    file formats, resampling, the SRHM generator
 *   images.c rhm_sets.c hierarchy.c tasks.c   the loaders that several kinds share
 *   kinds/                         one file per kind: its hs_data_kind entry
 *   registry.c                     the table of the kinds
 *   dataset.c                      the public entry points, which ask the registry
 * so nothing here declares a kind, and no loader knows which kinds call it. */
#ifndef HSWEEP_DATA_INTERNAL_H
#define HSWEEP_DATA_INTERNAL_H

#include "hsweep/data.h"

/* n x dim above this in one set is a mistake in the spec (2^31 floats = 8 GiB), not a dataset */
#define HS_DATA_MAX_VALUES (1ll << 31)

/* ---------------------------------------------------------------- set.c */

/* d for n rows (n may be 0: x, y, t stay NULL) of dim values, t_dim real targets (0 = none).
 * n * dim and n * t_dim are checked against HS_DATA_MAX_VALUES (HS_ERR_LIMIT); d is zeroed first
 * and left zeroed on failure. */
hs_code hs_data_alloc(hs_dataset *d, long long n, int dim, int t_dim, int classes, hs_error *err);
/* Check o's data.per_class / data.class_counts / data.n_test and fill counts[classes] with the
 * training samples asked for per class. */
hs_code hs_data_class_counts(const hs_data_opts *o, int classes, long long *counts, hs_error *err);

/* ---------------------------------------------------------------- images.c */

#define HS_IMAGE_CLASSES 10
#define HS_IMAGE_TEST_SPLIT 10000 /* the standard test split of every image kind */
#define HS_MNIST_DIR "/usr/share/datasets/mnist"
#define HS_MNIST_FILES                                                                                                 \
    "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz"
#define HS_FASHION_HINT                                                                                                \
    "install the Debian package dataset-fashion-mnist, or set data.path to a folder holding " HS_MNIST_FILES
#define HS_MNIST_HINT "set data.path to a folder holding the MNIST files " HS_MNIST_FILES " (.gz optional)"
#define HS_CIFAR_HINT                                                                                                  \
    "set data.path to the folder holding data_batch_1.bin ... data_batch_5.bin and test_batch.bin (the CIFAR-10 "      \
    "binary version, cifar-10-batches-bin)"

/* Where an image kind's files come from and what its rows look like. */
typedef struct hs_image_spec {
    const char *name;        /* the dataset, for messages: "Fashion-MNIST" */
    const char *default_dir; /* NULL: no standard place, data.path is required */
    int cifar;               /* CIFAR-10 binary batches rather than IDX files */
    const char *hint;        /* when the files are missing */
    /* preprocessing: source planes [first, first + channels) of a src_h x src_w image (with
     * src_c planes) are resized to out_h x out_w and normalised with mean[k], std[k] */
    int src_c, src_h, src_w, first, channels, out_h, out_w;
    int fixed_bilinear; /* ignores data.resize (the 32x32 variants) */
    double mean[3], std[3];
} hs_image_spec;

/* He & Su's 10x10 Fashion-MNIST in [-1, 1]: cfm's rows, gated_fmnist's items. */
extern const hs_image_spec hs_image_fashion_10x10;

/* The training and test sets of o as spec k makes them (data.h: hs_data_load). */
hs_code hs_image_load(const hs_image_spec *k, const hs_data_opts *o, hs_dataset *train, hs_dataset *test,
                      hs_error *err);
/* The shape hs_image_load gives, from the options alone (channels = k->channels). */
hs_code hs_image_shape(const hs_image_spec *k, const hs_data_opts *o, hs_data_shape *out, hs_error *err);
/* The files hs_image_load reads (data.h: hs_data_check_files); items_only: the training split only. */
hs_code hs_image_check_files(const hs_image_spec *k, const hs_data_opts *o, int items_only, hs_error *err);

/* An image kind is all data, its hs_image_spec: this defines its entry points and its registry
 * entry hs_data_kind_<id> from the spec (kinds/mnist.c: a spec and this one line). */
#define HS_IMAGE_KIND(id, spec_ptr, doc_text, code_num)                                                  \
    static hs_code id##_shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) {                 \
        return hs_image_shape(spec_ptr, o, out, err);                                                     \
    }                                                                                                     \
    static hs_code id##_load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) { \
        return hs_image_load(spec_ptr, o, train, test, err);                                              \
    }                                                                                                     \
    static hs_code id##_check_files(const hs_data_opts *o, hs_error *err) {                               \
        return hs_image_check_files(spec_ptr, o, 0, err);                                                 \
    }                                                                                                     \
    const hs_data_kind hs_data_kind_##id = {.name = #id,                                                  \
                                            .doc = doc_text,                                              \
                                            .code = code_num,                                             \
                                            .classes = HS_IMAGE_CLASSES,                                  \
                                            .shape = id##_shape,                                          \
                                            .load = id##_load,                                            \
                                            .check_files = id##_check_files}
/* The training set alone, without reading the test split. */
hs_code hs_image_items(const hs_image_spec *k, const hs_data_opts *o, hs_dataset *items, hs_error *err);
/* n_train of o (sum of class_counts or 10 per_class), checked. */
hs_code hs_image_counts(const hs_image_spec *k, const hs_data_opts *o, long long *n_train, hs_error *err);

/* ---------------------------------------------------------------- rhm_sets.c */

/* The rhm (sparse = 0: s0 must be 0, sparsity A) and srhm sets of o: data.h's hs_data_load,
 * hs_data_shape_of, hs_data_check and hs_data_patch for them. */
hs_code hs_rhm_data_load(const hs_data_opts *o, int sparse, hs_dataset *train, hs_dataset *test, hs_error *err);
hs_code hs_rhm_data_shape(const hs_data_opts *o, int sparse, hs_data_shape *out, hs_error *err);
hs_code hs_rhm_data_check(const hs_data_opts *o, int sparse, hs_error *err);
int hs_rhm_data_patch(const hs_data_opts *o);
int hs_rhm_data_rules(const hs_data_opts *o, int sparse, hs_rhm_opts *out);
/* A hierarchy kind is the loader above with sparse = 0 (rhm) or 1 (srhm): one line defines it. */
#define HS_RHM_KIND(id, sparse, doc_text, code_num)                                                       \
    static hs_code id##_shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) {                 \
        return hs_rhm_data_shape(o, sparse, out, err);                                                    \
    }                                                                                                     \
    static hs_code id##_load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) { \
        return hs_rhm_data_load(o, sparse, train, test, err);                                             \
    }                                                                                                     \
    static int id##_rules(const hs_data_opts *o, hs_rhm_opts *out) { return hs_rhm_data_rules(o, sparse, out); } \
    static hs_code id##_check(const hs_data_opts *o, hs_error *err) { return hs_rhm_data_check(o, sparse, err); } \
    const hs_data_kind hs_data_kind_##id = {.name = #id,                                                  \
                                            .doc = doc_text,                                              \
                                            .code = code_num,                                             \
                                            .classes = 10,                                                \
                                            .shape = id##_shape,                                          \
                                            .load = id##_load,                                            \
                                            .check = id##_check,                                          \
                                            .patch = hs_rhm_data_patch,                                   \
                                            .rules = id##_rules}

/* ---------------------------------------------------------------- hierarchy.c */

/* hierarchy (tree = 1) and partition (tree = 0), data.targets levels included. */
hs_code hs_category_load(const hs_data_opts *o, int tree, hs_dataset *train, hs_dataset *test, hs_error *err);
hs_code hs_category_shape(const hs_data_opts *o, int tree, hs_data_shape *out, hs_error *err);

/* ---------------------------------------------------------------- tasks.c */

/* The tasks' sets hold a test fraction or a pathway split, never a sampled test size: data.n_test
 * must be 0 (else HS_ERR_VALUE with the hint `instead`). */
hs_code hs_task_refuse_n_test(const hs_data_opts *o, const char *instead, hs_error *err);
/* The routing task: checks of data.modules / data.active; pathway i -> j is trained; the rows of
 * train (active pathways) and test (inactive ones) for `items` items, modules set. */
hs_code hs_gate_check(const hs_data_opts *o, hs_error *err);
int hs_gate_active(int M, int K, int i, int j);
hs_code hs_gate_alloc(const hs_data_opts *o, long long items, int dim, int t_dim, int classes, hs_dataset *train,
                      hs_dataset *test, hs_error *err);

/* ---------------------------------------------------------------- gated_images.c */

/* The image routing tasks (gated_perm, gated_rot) on 28x28 Fashion-MNIST: a kind is its input
 * transform, domain i of M, src [n x 784] -> dst [n x 784]; the shape, the rows of both sets and
 * the file checks are shared. */
#define HS_GATED_SIDE 28
#define HS_GATED_PIXELS (HS_GATED_SIDE * HS_GATED_SIDE)
typedef void (*hs_gated_transform)(const hs_data_opts *o, int i, int M, const float *src, float *dst, long long n);
hs_code hs_gated_images_shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err);
hs_code hs_gated_images_load(const hs_data_opts *o, hs_gated_transform transform, hs_dataset *train, hs_dataset *test,
                             hs_error *err);
hs_code hs_gated_images_check_files(const hs_data_opts *o, hs_error *err);

#endif
