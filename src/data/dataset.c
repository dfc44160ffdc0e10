/* dataset.c - hs_data_load and hs_data_shape_of: the He & Su datasets, a Gaussian mixture, and the
 * dispatch to the (S)RHM of srhm.c, the hierarchical category data of hierarchy.c and the tasks of
 * tasks.c (see include/hsweep/data.h).
 *
 * An image dataset is made one split at a time: read the raw split (IDX or CIFAR-10 batches),
 * choose the rows (per-class subset for training, optional subset for test), and preprocess only
 * the chosen rows into float32. The raw split is freed before the next one is read, so the peak
 * is one raw split plus the outputs.
 *
 * Preprocessing mirrors the authors' torchvision pipeline on PIL images, bit for bit:
 *   Resize (PIL, on the 8-bit image: hs_resize_image_u8) -> ToTensor (q / 255 in float32)
 *   -> Normalize ((v - mean) / std in float32).
 * The resize stays in bytes because PIL resamples an 8-bit image to an 8-bit image: the rounding
 * to 0..255 is part of the data the authors trained on, and resampling in float without it moves
 * about 8% of the 10x10 Fashion-MNIST pixels by one grey level. After the resize a pixel is one of
 * 256 values, so ToTensor + Normalize is a 256-entry table per channel, computed in float32 with
 * torch's order of operations (checked equal to torch for every byte of every channel used here).
 *   cfm, cm        28x28 -> 10x10 (data.resize), mean 0.5, std 0.5 -> [-1, 1]: 100 dims
 *   cc             CIFAR-10 green plane 32x32 -> 10x10, mean 0.4822, std 0.243: 100 dims
 *   fashion_mnist  28x28 -> 32x32 bilinear, mean 0.2860, std 0.3530: 1024 dims
 *   cifar10        3x32x32 as stored, per-channel mean/std: 3072 dims (channel planes)
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "internal.h"

#define IMAGE_CLASSES 10
#define IMAGE_TEST_SPLIT 10000 /* the standard test split of every image kind */
#define HS_MNIST_DIR "/usr/share/datasets/mnist"
#define MAX_VALUES HS_DATA_MAX_VALUES

static const double cifar_mean[3] = {0.4914, 0.4822, 0.4465};
static const double cifar_std[3] = {0.247, 0.243, 0.261};

/* ================================================================ the kinds */

/* Where a kind's files come from and what its rows look like. */
typedef struct kind_info {
    const char *name;        /* for messages */
    const char *default_dir; /* NULL: no standard place, data.path is required */
    int cifar;               /* CIFAR-10 binary batches rather than IDX files */
    const char *hint;        /* when the files are missing */
    /* preprocessing: source planes [first, first + channels) of a src_h x src_w image (with
     * src_c planes) are resized to out_h x out_w and normalised with mean[k], std[k] */
    int src_c, src_h, src_w, first, channels, out_h, out_w;
    int fixed_bilinear; /* ignores data.resize (the 32x32 variants) */
    double mean[3], std[3];
} kind_info;

#define MNIST_FILES                                                                                                    \
    "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz"
#define FASHION_HINT                                                                                                   \
    "install the Debian package dataset-fashion-mnist, or set data.path to a folder holding " MNIST_FILES
#define MNIST_HINT "set data.path to a folder holding the MNIST files " MNIST_FILES " (.gz optional)"
#define CIFAR_HINT                                                                                                     \
    "set data.path to the folder holding data_batch_1.bin ... data_batch_5.bin and test_batch.bin (the CIFAR-10 "      \
    "binary version, cifar-10-batches-bin)"

static kind_info kind_of(hs_data_kind kind) {
    switch (kind) {
    case HS_DATA_CFM:
        return (kind_info){.name = "Fashion-MNIST",
                           .default_dir = HS_FASHION_MNIST_DIR,
                           .hint = FASHION_HINT,
                           .src_c = 1,
                           .src_h = 28,
                           .src_w = 28,
                           .channels = 1,
                           .out_h = 10,
                           .out_w = 10,
                           .mean = {0.5},
                           .std = {0.5}};
    case HS_DATA_CM:
        return (kind_info){.name = "MNIST",
                           .default_dir = HS_MNIST_DIR,
                           .hint = MNIST_HINT,
                           .src_c = 1,
                           .src_h = 28,
                           .src_w = 28,
                           .channels = 1,
                           .out_h = 10,
                           .out_w = 10,
                           .mean = {0.5},
                           .std = {0.5}};
    case HS_DATA_CC:
        return (kind_info){.name = "CIFAR-10",
                           .cifar = 1,
                           .hint = CIFAR_HINT,
                           .src_c = 3,
                           .src_h = 32,
                           .src_w = 32,
                           .first = 1,
                           .channels = 1,
                           .out_h = 10,
                           .out_w = 10,
                           .mean = {cifar_mean[1]},
                           .std = {cifar_std[1]}};
    case HS_DATA_FASHION_MNIST:
        return (kind_info){.name = "Fashion-MNIST",
                           .default_dir = HS_FASHION_MNIST_DIR,
                           .hint = FASHION_HINT,
                           .src_c = 1,
                           .src_h = 28,
                           .src_w = 28,
                           .channels = 1,
                           .out_h = 32,
                           .out_w = 32,
                           .fixed_bilinear = 1,
                           .mean = {0.2860},
                           .std = {0.3530}};
    case HS_DATA_CIFAR10:
        return (kind_info){.name = "CIFAR-10",
                           .cifar = 1,
                           .hint = CIFAR_HINT,
                           .src_c = 3,
                           .src_h = 32,
                           .src_w = 32,
                           .channels = 3,
                           .out_h = 32,
                           .out_w = 32,
                           .mean = {cifar_mean[0], cifar_mean[1], cifar_mean[2]},
                           .std = {cifar_std[0], cifar_std[1], cifar_std[2]}};
    default: break; /* synthetic kinds have no files */
    }
    return (kind_info){0};
}

/* ================================================================ options */

/* Check o and fill counts[classes] with the training samples asked for per class. */
static hs_code check_opts(const hs_data_opts *o, int classes, long long *counts, hs_error *err) {
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
        if (counts[c] > MAX_VALUES)
            return HS_FAIL(err, HS_ERR_LIMIT, "class %d: %lld training samples is more than 2^31", c, counts[c]);
        total += counts[c]; /* at most 2^31 per class: no overflow */
    }
    if (total < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.class_counts: every class has 0 samples");
    if (o->n_test < 0) return HS_FAIL(err, HS_ERR_VALUE, "data.n_test = %lld: must be >= 0", o->n_test);
    if (total > MAX_VALUES || o->n_test > MAX_VALUES)
        return HS_FAIL(err, HS_ERR_LIMIT, "%lld training and %lld test samples: more than 2^31 rows", total, o->n_test);
    return HS_OK;
}

hs_code hs_data_alloc(hs_dataset *d, long long n, int dim, int t_dim, int classes, hs_error *err) {
    *d = (hs_dataset){0};
    if (n < 0 || dim < 1 || t_dim < 0)
        return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_alloc: %lld rows of %d values and %d targets", n, dim, t_dim);
    if (n > MAX_VALUES / dim || (t_dim > 0 && n > MAX_VALUES / t_dim))
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

/* d for n rows of dim values, no real targets. */
static hs_code dataset_alloc(hs_dataset *d, long long n, int dim, int classes, hs_error *err) {
    return hs_data_alloc(d, n, dim, 0, classes, err);
}

/* ================================================================ raw splits */

/* One split as stored: n images of c planes of h x w bytes, and their labels. */
typedef struct raw_split {
    const uint8_t *images, *labels;
    size_t n;
    hs_idx idx_images, idx_labels; /* owners, for IDX files */
    hs_cifar cifar;                /* owner, for CIFAR-10 */
    char path[4096];               /* the images' file or folder, for messages */
} raw_split;

static void raw_free(raw_split *r) {
    hs_idx_free(&r->idx_images);
    hs_idx_free(&r->idx_labels);
    hs_cifar_free(&r->cifar);
}

/* dir/base.gz if it exists, else dir/base; an error naming both when neither does. */
static hs_code find_idx(const char *dir, const char *base, const kind_info *k, char *path, size_t size, hs_error *err) {
    struct stat st;
    int n = snprintf(path, size, "%s/%s.gz", dir, base);
    if (n < 0 || (size_t)n >= size) return HS_FAIL(err, HS_ERR_VALUE, "%s: folder name too long", dir);
    if (stat(path, &st) == 0) return HS_OK;
    int e = errno;
    path[n - 3] = '\0'; /* drop ".gz" */
    if (stat(path, &st) == 0) return HS_OK;
    HS_FAIL(err, HS_ERR_IO, "%s.gz: cannot open: %s (nor without .gz); expected the %s IDX files in %s", path,
            strerror(e), k->name, dir);
    if (e == ENOENT || e == ENOTDIR) hs_error_hint(err, "%s", k->hint);
    return HS_ERR_IO;
}

/* The IDX images and labels of one split ("train" or "t10k"). */
static hs_code read_idx_split(const char *dir, const char *split, const kind_info *k, raw_split *r, hs_error *err) {
    char base[64], labels_path[sizeof r->path];
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", split);
    HS_TRY(err, find_idx(dir, base, k, r->path, sizeof r->path, err));
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", split);
    HS_TRY(err, find_idx(dir, base, k, labels_path, sizeof labels_path, err));
    HS_TRY(err, hs_idx_load(r->path, &r->idx_images, err));
    HS_TRY(err, hs_idx_load(labels_path, &r->idx_labels, err));

    const hs_idx *im = &r->idx_images, *lb = &r->idx_labels;
    if (im->ndim != 3 || im->dims[1] != (uint32_t)k->src_h || im->dims[2] != (uint32_t)k->src_w)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: expected %s images of %dx%d pixels (an IDX file of n x %d x %d bytes)",
                       r->path, k->name, k->src_h, k->src_w, k->src_h, k->src_w);
    if (lb->ndim != 1)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: expected a 1-dimensional IDX file of labels, found %d dimensions",
                       labels_path, lb->ndim);
    if (lb->dims[0] != im->dims[0])
        return HS_FAIL(err, HS_ERR_VALUE, "%s: %u labels for the %u images of %s; expected one label per image",
                       labels_path, (unsigned)lb->dims[0], (unsigned)im->dims[0], r->path);
    for (size_t i = 0; i < lb->count; i++)
        if (lb->data[i] >= IMAGE_CLASSES)
            return HS_FAIL(err, HS_ERR_VALUE, "%s: label %zu is %u, expected 0..%d", labels_path, i,
                           (unsigned)lb->data[i], IMAGE_CLASSES - 1);
    r->images = im->data;
    r->labels = lb->data;
    r->n = im->dims[0];
    return HS_OK;
}

static hs_code read_split(const char *dir, int train, const kind_info *k, raw_split *r, hs_error *err) {
    if (!k->cifar) return read_idx_split(dir, train ? "train" : "t10k", k, r, err);
    snprintf(r->path, sizeof r->path, "%s", dir);
    HS_TRY(err, hs_cifar10_load(dir, train, &r->cifar, err));
    r->images = r->cifar.images;
    r->labels = r->cifar.labels;
    r->n = r->cifar.n;
    return HS_OK;
}

/* ================================================================ choosing rows */

/* Mark (keep[i] = 1) counts[c] rows of each class c of the training split: the class's rows in
 * file order, shuffled with stream (HS_STREAM_DATA, c), first counts[c] kept. */
static hs_code pick_train(const raw_split *r, const kind_info *k, const hs_data_opts *o, const long long *counts,
                          uint8_t *keep, hs_error *err) {
    size_t avail[IMAGE_CLASSES] = {0}, start[IMAGE_CLASSES] = {0};
    for (size_t i = 0; i < r->n; i++) avail[r->labels[i]]++;
    for (int c = 0; c < IMAGE_CLASSES; c++) {
        if ((unsigned long long)counts[c] > avail[c]) {
            HS_FAIL(err, HS_ERR_VALUE, "class %d has %zu samples in the %s training split (%s) but %s asks for %lld", c,
                    avail[c], k->name, r->path, o->class_counts ? "data.class_counts" : "data.per_class", counts[c]);
            return hs_error_hint(err, "ask for at most %zu per class, or fewer in that class with data.class_counts",
                                 avail[c]);
        }
        if (c > 0) start[c] = start[c - 1] + avail[c - 1];
    }
    uint32_t *by_class = malloc(r->n * sizeof *by_class); /* rows grouped by class, file order within */
    if (!by_class) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %zu row indices", r->n);
    size_t fill[IMAGE_CLASSES];
    memcpy(fill, start, sizeof fill);
    for (size_t i = 0; i < r->n; i++) by_class[fill[r->labels[i]]++] = (uint32_t)i;
    for (int c = 0; c < IMAGE_CLASSES; c++) {
        hs_rng rng;
        hs_rng_init(&rng, o->seed, hs_rng_stream(HS_STREAM_DATA, (uint32_t)c));
        hs_rng_permute(&rng, by_class + start[c], avail[c]);
        for (long long j = 0; j < counts[c]; j++) keep[by_class[start[c] + (size_t)j]] = 1;
    }
    free(by_class);
    return HS_OK;
}

/* Mark n_test rows of the test split (all when n_test is 0): a shuffle with (HS_STREAM_TEST, 0). */
static hs_code pick_test(const raw_split *r, const kind_info *k, long long n_test, uint64_t seed, uint8_t *keep,
                         hs_error *err) {
    if (n_test == 0) {
        memset(keep, 1, r->n);
        return HS_OK;
    }
    if ((unsigned long long)n_test > r->n)
        return HS_FAIL(err, HS_ERR_VALUE, "data.n_test = %lld but the %s test split (%s) has %zu samples", n_test,
                       k->name, r->path, r->n);
    uint32_t *order = malloc(r->n * sizeof *order);
    if (!order) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %zu row indices", r->n);
    for (size_t i = 0; i < r->n; i++) order[i] = (uint32_t)i;
    hs_rng rng;
    hs_rng_init(&rng, seed, hs_rng_stream(HS_STREAM_TEST, 0));
    hs_rng_permute(&rng, order, r->n);
    for (long long j = 0; j < n_test; j++) keep[order[j]] = 1;
    free(order);
    return HS_OK;
}

/* ================================================================ preprocessing */

/* ToTensor + Normalize of one byte, in float32 like torch: (q / 255 - mean) / std. */
static void make_table(float table[256], double mean, double std) {
    float m = (float)mean, s = (float)std;
    for (int q = 0; q < 256; q++) table[q] = ((float)q / 255.0f - m) / s;
}

/* The kept rows of r, in file order, preprocessed into out (dim = channels x out_h x out_w). */
static hs_code build_rows(const raw_split *r, const uint8_t *keep, const kind_info *k, hs_resize how, hs_dataset *out,
                          hs_error *err) {
    long long n = 0;
    for (size_t i = 0; i < r->n; i++) n += keep[i];
    int plane = k->out_h * k->out_w, dim = k->channels * plane;
    HS_TRY(err, dataset_alloc(out, n, dim, IMAGE_CLASSES, err));
    out->channels = k->channels;
    out->height = k->out_h;
    out->width = k->out_w;

    float table[3][256];
    for (int c = 0; c < k->channels; c++) make_table(table[c], k->mean[c], k->std[c]);
    int resize = k->out_h != k->src_h || k->out_w != k->src_w;
    size_t src_plane = (size_t)k->src_h * k->src_w, src_image = (size_t)k->src_c * src_plane;
    uint8_t small[32 * 32]; /* one resized plane; every kind's output is at most 32x32 */

    long long row = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (!keep[i]) continue;
        float *x = out->x + (size_t)row * dim;
        for (int c = 0; c < k->channels; c++) {
            const uint8_t *src = r->images + i * src_image + (size_t)(k->first + c) * src_plane;
            if (resize) {
                hs_resize_image_u8(src, k->src_h, k->src_w, small, k->out_h, k->out_w, how);
                src = small;
            }
            for (int p = 0; p < plane; p++) x[c * plane + p] = table[c][src[p]];
        }
        out->y[row++] = r->labels[i];
    }
    return HS_OK;
}

/* Read one split of o's image dataset, choose its rows and preprocess them into out. */
static hs_code load_split(const hs_data_opts *o, const kind_info *k, const char *dir, int train,
                          const long long *counts, hs_dataset *out, hs_error *err) {
    raw_split raw = {0};
    uint8_t *keep = NULL;
    hs_code rc = read_split(dir, train, k, &raw, err);
    if (rc == HS_OK) {
        keep = calloc(raw.n, 1);
        if (!keep) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %zu flags", raw.n);
    }
    if (rc == HS_OK)
        rc = train ? pick_train(&raw, k, o, counts, keep, err) : pick_test(&raw, k, o->n_test, o->seed, keep, err);
    if (rc == HS_OK) rc = build_rows(&raw, keep, k, k->fixed_bilinear ? HS_RESIZE_BILINEAR : o->resize, out, err);
    free(keep);
    raw_free(&raw);
    if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
    return rc;
}

/* The folder of o's files (data.path or the standard place) and the checks that need no file. */
static hs_code image_opts(const hs_data_opts *o, const kind_info *k, const char **dir, long long *counts,
                          hs_error *err) {
    *dir = o->path && o->path[0] ? o->path : k->default_dir;
    if (!*dir) {
        HS_FAIL(err, HS_ERR_VALUE, "data.kind %s needs data.path: %s has no standard place",
                o->kind == HS_DATA_CC ? "cc" : "cifar10", k->name);
        return hs_error_hint(err, "%s", k->hint);
    }
    if (o->resize != HS_RESIZE_BILINEAR && o->resize != HS_RESIZE_AREA)
        return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_load: unknown resize method %d", (int)o->resize);
    return check_opts(o, IMAGE_CLASSES, counts, err);
}

static hs_code load_images(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    kind_info k = kind_of(o->kind);
    const char *dir;
    long long counts[IMAGE_CLASSES];
    HS_TRY(err, image_opts(o, &k, &dir, counts, err));
    HS_TRY(err, load_split(o, &k, dir, 1, counts, train, err));
    HS_TRY(err, load_split(o, &k, dir, 0, counts, test, err));
    return HS_OK;
}

/* ================================================================ Gaussian mixture */

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
    HS_TRY(err, dataset_alloc(out, n, p, K, err));
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

static hs_code load_gaussian(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    int K = o->classes;
    if (K < 2) return HS_FAIL(err, HS_ERR_VALUE, "data.classes = %d: a mixture needs >= 2 classes", K);
    if (o->dim < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.dim = %d: must be >= 1", o->dim);
    if (!(o->separation >= 0.0) || isinf(o->separation))
        return HS_FAIL(err, HS_ERR_VALUE, "data.separation = %g: must be finite and >= 0", o->separation);
    long long *counts = malloc(2 * (size_t)K * sizeof *counts);
    if (!counts) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %d class counts", K);
    long long *test_counts = counts + K;
    hs_code rc = check_opts(o, K, counts, err);
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

/* ================================================================ (Sparse) Random Hierarchy Model */

/* The rhm/srhm checks made before the rules, and the generator's options of o. */
static hs_code rhm_opts(const hs_data_opts *o, hs_rhm_opts *ro, hs_error *err) {
    if (o->kind == HS_DATA_RHM && o->s0 != 0) {
        HS_FAIL(err, HS_ERR_VALUE, "data.s0 = %d with data.kind rhm: the RHM has no empty slots", o->s0);
        return hs_error_hint(err, "use data.kind srhm for the sparse model");
    }
    if (o->n_train < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.n_train = %lld: must be >= 1", o->n_train);
    if (o->n_test < 0) return HS_FAIL(err, HS_ERR_VALUE, "data.n_test = %lld: must be >= 0", o->n_test);
    *ro = (hs_rhm_opts){.v = o->v,
                        .n_c = o->n_c,
                        .m = o->m,
                        .s = o->s,
                        .L = o->L,
                        .s0 = o->s0,
                        .sparsity = o->kind == HS_DATA_RHM ? HS_RHM_SPARSITY_A : o->sparsity,
                        .rule_seed = o->rule_seed};
    return HS_OK;
}

/* n_test = 0 -> min(20000, P_max / 2) */
static long long rhm_n_test(long long n_test, double p_max) {
    return n_test != 0 ? n_test : p_max >= 40000.0 ? 20000 : (long long)(p_max / 2);
}

/* rules from o, then the nested, disjoint sets of srhm.c; n_test = 0 -> min(20000, P_max / 2),
 * which does not depend on n_train (the test set is the head of the sample stream, so a size
 * that moved with P would shift every training set). */
static hs_code load_rhm(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    hs_rhm_opts ro;
    HS_TRY(err, rhm_opts(o, &ro, err));
    hs_rhm *g = NULL;
    HS_TRY(err, hs_rhm_rules(&ro, &g, err));
    long long n_test = rhm_n_test(o->n_test, g->p_max);
    hs_code rc = hs_rhm_dataset(g, o->seed, o->n_train, n_test, o->whiten, train, test, NULL, err);
    if (rc != HS_OK && o->n_test == 0 && err)
        hs_error_hint(err, "data.n_test = 0 took min(20000, P_max / 2) = %lld test samples; set data.n_test "
                           "to make room for data.n_train", n_test);
    hs_rhm_free(g);
    if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
    return rc;
}

/* ================================================================ shapes */

hs_code hs_data_image_counts(const hs_data_opts *o, long long *n_train, hs_error *err) {
    kind_info k = kind_of(o->kind == HS_DATA_GATED_FMNIST ? HS_DATA_CFM : o->kind);
    const char *dir;
    long long counts[IMAGE_CLASSES];
    HS_TRY(err, image_opts(o, &k, &dir, counts, err));
    *n_train = 0;
    for (int c = 0; c < IMAGE_CLASSES; c++) *n_train += counts[c];
    return HS_OK;
}

hs_code hs_data_cfm_items(const hs_data_opts *o, hs_dataset *items, hs_error *err) {
    *items = (hs_dataset){0};
    kind_info k = kind_of(HS_DATA_CFM);
    const char *dir;
    long long counts[IMAGE_CLASSES];
    HS_TRY(err, image_opts(o, &k, &dir, counts, err));
    HS_TRY(err, load_split(o, &k, dir, 1, counts, items, err));
    return HS_OK;
}

/* rhm, srhm: the sizes of hs_rhm_rules without drawing the rules; invalid options are handed to
 * hs_rhm_rules, which refuses them (with its message) before allocating anything. */
static hs_code shape_rhm(const hs_data_opts *o, hs_data_shape *out, hs_error *err) {
    hs_rhm_opts ro;
    HS_TRY(err, rhm_opts(o, &ro, err));
    double p_max = hs_rhm_pmax(&ro);
    if (!(p_max > 0.0)) {
        hs_rhm *g = NULL;
        hs_code rc = hs_rhm_rules(&ro, &g, err);
        hs_rhm_free(g);
        return rc != HS_OK ? rc : HS_FAIL(err, HS_ERR_INTERNAL, "shape of rhm: P_max is 0 for valid rules");
    }
    long long d = 1; /* checked by hs_rhm_pmax: d <= 2^24, v d <= 2^30 */
    for (int l = 0; l < o->L; l++) d *= (long long)o->s * (o->s0 + 1);
    long long n_test = rhm_n_test(o->n_test, p_max);
    if ((double)o->n_train + (double)n_test > p_max) {
        HS_FAIL(err, HS_ERR_VALUE,
                "data.n_train = %lld plus %lld test samples is more than the P_max = %.0f distinct inputs",
                o->n_train, n_test, p_max);
        if (o->n_test == 0)
            hs_error_hint(err, "data.n_test = 0 took min(20000, P_max / 2) = %lld test samples; set data.n_test "
                               "to make room for data.n_train", n_test);
        return HS_ERR_VALUE;
    }
    *out = (hs_data_shape){.dim = (int)(o->v * d), .classes = o->n_c ? o->n_c : o->v, .n_train = o->n_train,
                           .n_test = n_test};
    return HS_OK;
}

/* ================================================================ level targets */

/* data.targets: levels: one-hot labels of every tree level, finest first, concatenated
 * (64 + 32 + ... + 2 = 126 outputs for the default tree): Saxe et al.'s hierarchical item-feature
 * targets, whose singular modes are the tree's levels. Flat labels (partition): one-hot. */
static int level_targets_dim(int levels, int branching, int classes) {
    int T = 0, K = classes;
    for (int l = 0; l < (levels > 1 ? levels : 1); l++, K /= (branching > 1 ? branching : 1)) T += K;
    return T;
}

static hs_code add_level_targets(hs_dataset *d, hs_error *err) {
    const int T = level_targets_dim(d->levels, d->branching, d->classes), V = d->levels > 1 ? d->levels : 1;
    free(d->t);
    d->t_dim = T;
    d->t = calloc((size_t)(d->n > 0 ? d->n : 1) * (size_t)T, sizeof *d->t);
    if (!d->t) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %lld x %d level targets", d->n, T);
    for (long long r = 0; r < d->n; r++) {
        int off = 0, K = d->classes, div = 1;
        for (int l = 0; l < V; l++, off += K, K /= d->branching, div *= d->branching)
            d->t[(size_t)r * T + (size_t)(off + d->y[r] / div)] = 1.0f;
    }
    return HS_OK;
}

hs_code hs_data_shape_of(const hs_data_opts *o, hs_data_shape *out, hs_error *err) {
    if (!o || !out) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_shape_of: o and out must not be NULL");
    *out = (hs_data_shape){0};
    switch (o->kind) {
    case HS_DATA_CFM:
    case HS_DATA_CM:
    case HS_DATA_CC:
    case HS_DATA_FASHION_MNIST:
    case HS_DATA_CIFAR10: {
        kind_info k = kind_of(o->kind);
        long long n_train;
        HS_TRY(err, hs_data_image_counts(o, &n_train, err));
        *out = (hs_data_shape){.dim = k.channels * k.out_h * k.out_w, .classes = IMAGE_CLASSES, .n_train = n_train,
                               .n_test = o->n_test ? o->n_test : IMAGE_TEST_SPLIT};
        return HS_OK;
    }
    case HS_DATA_GAUSSIAN: {
        if (o->classes < 2)
            return HS_FAIL(err, HS_ERR_VALUE, "data.classes = %d: a mixture needs >= 2 classes", o->classes);
        if (o->dim < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.dim = %d: must be >= 1", o->dim);
        long long *counts = malloc((size_t)o->classes * sizeof *counts), n_train = 0;
        if (!counts) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %d class counts", o->classes);
        hs_code rc = check_opts(o, o->classes, counts, err);
        for (int c = 0; rc == HS_OK && c < o->classes; c++) n_train += counts[c];
        free(counts);
        HS_TRY(err, rc);
        *out = (hs_data_shape){.dim = o->dim, .classes = o->classes, .n_train = n_train,
                               .n_test = o->n_test ? o->n_test : n_train};
        return HS_OK;
    }
    case HS_DATA_RHM:
    case HS_DATA_SRHM: HS_TRY(err, shape_rhm(o, out, err)); return HS_OK;
    case HS_DATA_HIERARCHY:
    case HS_DATA_PARTITION:
        HS_TRY(err, hs_data_shape_category(o, out, err));
        if (o->level_targets) out->t_dim = level_targets_dim(out->levels, out->branching, out->classes);
        return HS_OK;
    case HS_DATA_XOR:
    case HS_DATA_GATED_TOY:
    case HS_DATA_GATED_FMNIST: HS_TRY(err, hs_data_shape_task(o, out, err)); return HS_OK;
    }
    return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_shape_of: unknown data kind %d", (int)o->kind);
}

/* ================================================================ files, without reading them */

/* "data.path = DIR", or the standard place when data.path is empty: how messages name the folder. */
static void folder_name(const hs_data_opts *o, const char *dir, char *buf, size_t size) {
    if (o->path && o->path[0]) snprintf(buf, size, "data.path = %s", dir);
    else snprintf(buf, size, "data.path (empty: the standard place %s)", dir);
}

/* err's message behind "where: ", hint and trace kept. */
static hs_code prefix_error(hs_error *err, const char *where) {
    if (!err) return HS_ERR_INTERNAL;
    char msg[sizeof err->msg];
    size_t n = strlen(where), m = strlen(err->msg), cap = sizeof msg - 1;
    if (n > cap) n = cap;
    memcpy(msg, where, n);
    if (n + 2 <= cap) memcpy(msg + n, ": ", 2), n += 2;
    if (m > cap - n) m = cap - n;
    memcpy(msg + n, err->msg, m);
    msg[n + m] = '\0';
    memcpy(err->msg, msg, n + m + 1);
    return err->code;
}

/* One IDX file of dir as find_idx finds it: a regular file that opens, with at least min_bytes. */
static hs_code check_idx_file(const char *dir, const char *base, const char *what, long long min_bytes,
                              const kind_info *k, hs_error *err) {
    char path[4096];
    HS_TRY(err, find_idx(dir, base, k, path, sizeof path, err));
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    struct stat st;
    int got = fstat(fileno(f), &st) == 0, e = errno;
    fclose(f);
    if (!got) return HS_FAIL(err, HS_ERR_IO, "%s: cannot read: %s", path, strerror(e));
    if (!S_ISREG(st.st_mode)) return HS_FAIL(err, HS_ERR_IO, "%s: not a regular file, expected the IDX file of %s", path, what);
    if ((long long)st.st_size < min_bytes)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: %lld bytes, too small for an IDX file of %s (its header alone is %lld bytes)",
                       path, (long long)st.st_size, what, min_bytes);
    return HS_OK;
}

hs_code hs_data_check_files(const hs_data_opts *o, hs_error *err) {
    if (!o) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_check_files: o must not be NULL");
    int items_only = o->kind == HS_DATA_GATED_FMNIST; /* the training split of Fashion-MNIST */
    switch (o->kind) {
    case HS_DATA_CFM:
    case HS_DATA_CM:
    case HS_DATA_CC:
    case HS_DATA_FASHION_MNIST:
    case HS_DATA_CIFAR10:
    case HS_DATA_GATED_FMNIST: break;
    default: return HS_OK;
    }
    kind_info k = kind_of(items_only ? HS_DATA_CFM : o->kind);
    const char *dir = o->path && o->path[0] ? o->path : k.default_dir;
    if (!dir) {
        HS_FAIL(err, HS_ERR_VALUE, "data.kind %s needs data.path: %s has no standard place",
                o->kind == HS_DATA_CC ? "cc" : "cifar10", k.name);
        return hs_error_hint(err, "%s", k.hint);
    }
    char where[4200];
    folder_name(o, dir, where, sizeof where);
    struct stat st;
    int e = stat(dir, &st) != 0 ? errno : 0;
    if (e || !S_ISDIR(st.st_mode)) {
        HS_FAIL(err, HS_ERR_IO, "%s: cannot open the folder: %s (%s reads %s from it)", where,
                e ? strerror(e) : "not a folder", k.name,
                k.cifar ? "data_batch_1.bin ... data_batch_5.bin and test_batch.bin" : MNIST_FILES);
        return hs_error_hint(err, "%s", k.hint);
    }
    hs_code rc = HS_OK;
    if (k.cifar) {
        rc = hs_cifar10_check(dir, 1, err);
        if (rc == HS_OK) rc = hs_cifar10_check(dir, 0, err);
    } else {
        for (int split = 0; split < (items_only ? 1 : 2) && rc == HS_OK; split++) {
            const char *name = split ? "t10k" : "train";
            char base[64];
            snprintf(base, sizeof base, "%s-images-idx3-ubyte", name);
            rc = check_idx_file(dir, base, "images", 16, &k, err); /* magic and 3 sizes */
            snprintf(base, sizeof base, "%s-labels-idx1-ubyte", name);
            if (rc == HS_OK) rc = check_idx_file(dir, base, "labels", 8, &k, err); /* magic and 1 size */
        }
    }
    if (rc != HS_OK) {
        prefix_error(err, where);
        hs_error_trace(err, __FILE__, __LINE__);
    }
    return rc;
}

/* ================================================================ entry points */

hs_code hs_data_load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    if (!o || !train || !test) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_load: o, train and test must not be NULL");
    *train = (hs_dataset){0};
    *test = (hs_dataset){0};
    hs_code rc;
    switch (o->kind) {
    case HS_DATA_CFM:
    case HS_DATA_CM:
    case HS_DATA_CC:
    case HS_DATA_FASHION_MNIST:
    case HS_DATA_CIFAR10: rc = load_images(o, train, test, err); break;
    case HS_DATA_GAUSSIAN: rc = load_gaussian(o, train, test, err); break;
    case HS_DATA_RHM:
    case HS_DATA_SRHM: rc = load_rhm(o, train, test, err); break;
    case HS_DATA_HIERARCHY:
    case HS_DATA_PARTITION: rc = hs_data_load_category(o, train, test, err); break;
    case HS_DATA_XOR:
    case HS_DATA_GATED_TOY:
    case HS_DATA_GATED_FMNIST: rc = hs_data_load_task(o, train, test, err); break;
    default: return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_load: unknown data kind %d", (int)o->kind);
    }
    if (rc == HS_OK && o->level_targets && (o->kind == HS_DATA_HIERARCHY || o->kind == HS_DATA_PARTITION)) {
        rc = add_level_targets(train, err);
        if (rc == HS_OK) rc = add_level_targets(test, err);
    }
    if (rc == HS_OK && o->zca) rc = hs_data_zca(train, test, 1e-10, err);
    if (rc != HS_OK) {
        hs_dataset_free(train);
        hs_dataset_free(test);
        hs_error_trace(err, __FILE__, __LINE__);
    }
    return rc;
}

void hs_dataset_free(hs_dataset *d) {
    if (!d) return;
    free(d->x);
    free(d->y);
    free(d->t);
    *d = (hs_dataset){0};
}
