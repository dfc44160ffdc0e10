/*
 * data.h - datasets: loaders for the files on disk (IDX for MNIST/Fashion-MNIST, CIFAR-10 binary
 * batches), the He & Su preprocessing (10x10 resampling, scaling, normalisation), per-class
 * subsets, and a synthetic Gaussian mixture. What training sees is an hs_dataset: float32 rows.
 *
 *     hs_data_opts o = {.kind = HS_DATA_CFM, .seed = 1, .per_class = 100};
 *     hs_dataset train = {0}, test = {0};
 *     HS_TRY(err, hs_data_load(&o, &train, &test, err));
 *     // train.n == 1000, train.dim == 100, train.classes == 10, values in [-1, 1];
 *     // test.n == 10000 (the full test split, same preprocessing)
 *     hs_dataset_free(&train); hs_dataset_free(&test);
 *
 * ---------------------------------------------------------------- IDX files
 *
 * An IDX file is a big-endian header (magic 0x00 0x00 <type> <ndim>, then ndim 32-bit sizes)
 * followed by the array, row-major. The files usually ship gzip-compressed; the loader looks at
 * the first two bytes (gzip magic 1f 8b) rather than the name, so a file that was unpacked but
 * kept its .gz name, or the reverse, still loads. Loading the Fashion-MNIST training images:
 *
 *     hs_error err = {0};
 *     hs_idx images = {0};
 *     if (hs_idx_load(HS_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", &images, &err) != HS_OK) {
 *         fprintf(stderr, "error: %s\n", err.msg);   // ...: cannot open: No such file or directory
 *         if (err.hint[0]) fprintf(stderr, "hint: %s\n", err.hint);
 *         return err.code;
 *     }
 *     // images.ndim == 3, images.dims = {60000, 28, 28}, images.count == 47040000
 *     size_t pixels = (size_t)images.dims[1] * images.dims[2];   // 784 per image
 *     const uint8_t *first = images.data;                        // image 0, 28 rows of 28 bytes
 *     const uint8_t *second = images.data + pixels;              // image 1
 *     hs_idx_free(&images);
 *
 * The labels file (train-labels-idx1-ubyte.gz) loads the same way with ndim == 1 and one byte,
 * 0..9, per image. Only unsigned bytes (type 0x08) are supported: it is all the image datasets
 * use, and it lets the loader hand back the bytes exactly as stored.
 */
#ifndef HSWEEP_DATA_H
#define HSWEEP_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "hsweep/status.h"

/* An IDX array of unsigned bytes (type code 0x08), row-major, as stored on disk. */
typedef struct hs_idx {
    uint8_t *data;    /* owned; count bytes */
    int ndim;         /* 1..4 */
    uint32_t dims[4]; /* dims[0] = number of items */
    size_t count;     /* product of dims */
} hs_idx;

/* Load an IDX file, plain or gzip-compressed (detected by the gzip magic 1f 8b, not by the name).
 * Errors (HS_ERR_IO for open/read failures, HS_ERR_VALUE for bad content) name the path and what
 * was expected, e.g.
 *   "...: not an IDX file (magic 0x1f8b0800, expected 0x0000080N with N = 1..4 dimensions)"
 *   "...: truncated: header promises 47040000 bytes of data, file has 1000"
 *   "...: IDX type 0x0d (float) is not supported; only unsigned bytes (0x08)"
 *   "...: cannot open: No such file or directory", with the hint "install the Debian package
 *        dataset-fashion-mnist, or point data.path at a folder holding the files".
 * Trailing bytes after the data are an error too. Absurd headers (a dimension of 0, or more than
 * 2^31 bytes) are refused before anything is allocated. out is overwritten without being freed;
 * on failure it is left zeroed (so hs_idx_free is safe). */
hs_code hs_idx_load(const char *path, hs_idx *out, hs_error *err);
void hs_idx_free(hs_idx *x);   /* safe on a zeroed or already-freed struct */

/* The standard place of Fashion-MNIST from Debian's dataset-fashion-mnist package. */
#define HS_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* ================================================================ CIFAR-10 binary batches
 * The "binary version" (cifar-10-batches-bin): data_batch_1.bin .. data_batch_5.bin and
 * test_batch.bin, each 10000 records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32).
 * Loads the 50000 training or 10000 test records into labels[n] and images[n x 3072] (planes as
 * stored). A missing file, a size that is not a multiple of 3073 bytes, or a label above 9 is an
 * error naming the path. Files with fewer records than 10000 are accepted (tests use tiny ones). */
typedef struct hs_cifar {
    uint8_t *images; /* [n x 3 x 32 x 32] */
    uint8_t *labels; /* [n], 0..9 */
    size_t n;
} hs_cifar;
hs_code hs_cifar10_load(const char *dir, int train, hs_cifar *out, hs_error *err);
void hs_cifar_free(hs_cifar *c);

/* ================================================================ resampling
 * One channel, src[sh x sw] -> dst[dh x dw], row-major, float. Both are separable (rows, then
 * columns) and treat pixel centres at (i + 0.5) * scale, like PIL and torchvision.
 *   bilinear: triangle filter whose support widens with the downscale factor (antialiasing), as
 *             PIL's BILINEAR / torchvision's Resize(antialias=True); plain bilinear when upsampling.
 *   area:     PIL's BOX: each output pixel is the plain mean of the input pixels whose centres
 *             fall inside the box it covers. For integer factors that is the exact area average
 *             (OpenCV's INTER_AREA); for others it is not: 28 -> 10 averages 3, 3, 2, 3, 3, ... pixels
 *             with equal weights, where an exact area average would weight edge pixels by overlap. */
typedef enum hs_resize { HS_RESIZE_BILINEAR, HS_RESIZE_AREA } hs_resize;
/* As PIL's Image.resize on a mode "F" (float32) image, to float rounding. */
void hs_resize_image(const float *src, int sh, int sw, float *dst, int dh, int dw, hs_resize how);
/* As PIL's Image.resize on a mode "L" (8-bit) image, bit for bit: the 8-bit intermediate after the
 * horizontal pass and PIL's fixed-point weights included. This is what torchvision's Resize does to
 * the PIL images of the datasets, and what hs_data_load uses. */
void hs_resize_image_u8(const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw, hs_resize how);

/* ================================================================ datasets */

typedef enum hs_data_kind {
    HS_DATA_CFM,           /* Fashion-MNIST -> 10x10, [-1, 1]: 100 dims */
    HS_DATA_CM,            /* MNIST -> 10x10, [-1, 1]: 100 dims (data.path, or /usr/share/datasets/mnist) */
    HS_DATA_CC,            /* CIFAR-10 green channel -> 10x10, normalised: 100 dims (needs data.path) */
    HS_DATA_FASHION_MNIST, /* Fashion-MNIST -> 32x32, (x - 0.2860) / 0.3530: 1024 dims */
    HS_DATA_CIFAR10,       /* CIFAR-10 3x32x32, per-channel normalised: 3072 dims (needs data.path) */
    HS_DATA_GAUSSIAN,      /* K-class Gaussian mixture in p dims */
} hs_data_kind;

typedef struct hs_data_opts {
    hs_data_kind kind;
    const char *path;               /* folder with the files; NULL or "" = the standard place */
    uint64_t seed;                  /* data seed: subset choice, synthetic draws */
    long long per_class;            /* training samples per class */
    const long long *class_counts;  /* [classes] or NULL: imbalanced per-class counts */
    long long n_test;               /* 0 = the full test split (gaussian: as many as the training set) */
    hs_resize resize;               /* 10x10 variants */
    int classes, dim;               /* gaussian: K, p */
    double separation;              /* gaussian: distance between class means / noise std */
} hs_data_opts;

typedef struct hs_dataset {
    float *x;         /* [n x dim], row-major */
    int32_t *y;       /* [n], 0..classes-1 */
    long long n;
    int dim, classes;
    int channels, height, width; /* image shape (channels * height * width == dim), or 0 */
} hs_dataset;

/* Build the training set and the test set of o (both preprocessed identically).
 * Training subset: for each class c, the class's indices in the train split are shuffled with
 * hs_rng stream (HS_STREAM_DATA, c) of o->seed and the first count_c kept (so a larger per_class
 * extends a smaller one); the kept rows are stored in file order. Test set: the full test split,
 * or n_test rows drawn without replacement with stream (HS_STREAM_TEST, 0), in file order.
 * A class with fewer samples than asked for is an HS_ERR_VALUE naming the class and both counts.
 * Gaussian: class means on a regular simplex (p >= K: mean_c = separation / sqrt(2) e_c, so every
 * pair is `separation` apart) or, when p < K, on a circle in the first two dimensions (a line
 * centred on 0 when p = 1) with neighbours `separation` apart; noise N(0, I); training draws from
 * stream (HS_STREAM_DATA, c), test draws from (HS_STREAM_TEST, c). Rows are stored class after
 * class; n_test > 0 is split evenly over the classes, the remainder going to the first ones.
 * On failure both sets are left zeroed. */
hs_code hs_data_load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err);
void hs_dataset_free(hs_dataset *d); /* safe on a zeroed struct */

#endif /* HSWEEP_DATA_H */
