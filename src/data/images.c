/* images.c - the image kinds' shared path: read a split of IDX files (MNIST, Fashion-MNIST) or
 * CIFAR-10 batches, choose its rows, preprocess them, as the kind's hs_image_spec says (see
 * include/hsweep/data.h for the guarantees, src/data/kinds/ for the specs).
 *
 * An image dataset is made one split at a time: read the raw split, choose the rows (per-class
 * subset for training, optional subset for test), and preprocess only the chosen rows into
 * float32. The raw split is freed before the next one is read, so the peak is one raw split plus
 * the outputs.
 *
 * Preprocessing mirrors the authors' torchvision pipeline on PIL images, bit for bit:
 *   Resize (PIL, on the 8-bit image: hs_resize_image_u8) -> ToTensor (q / 255 in float32)
 *   -> Normalize ((v - mean) / std in float32).
 * The resize stays in bytes because PIL resamples an 8-bit image to an 8-bit image: the rounding
 * to 0..255 is part of the data the authors trained on, and resampling in float without it moves
 * about 8% of the 10x10 Fashion-MNIST pixels by one grey level. After the resize a pixel is one of
 * 256 values, so ToTensor + Normalize is a 256-entry table per channel, computed in float32 with
 * torch's order of operations (checked equal to torch for every byte of every channel used here).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hsweep/rng.h"
#include "internal.h"

#define IMAGE_CLASSES HS_IMAGE_CLASSES

/* He & Su's 10x10 Fashion-MNIST: the rows of cfm and the items of gated_fmnist. */
const hs_image_spec hs_image_fashion_10x10 = {.name = "Fashion-MNIST",
                                              .default_dir = HS_FASHION_MNIST_DIR,
                                              .hint = HS_FASHION_HINT,
                                              .src_c = 1,
                                              .src_h = 28,
                                              .src_w = 28,
                                              .channels = 1,
                                              .out_h = 10,
                                              .out_w = 10,
                                              .mean = {0.5},
                                              .std = {0.5}};

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
static hs_code find_idx(const char *dir, const char *base, const hs_image_spec *k, char *path, size_t size, hs_error *err) {
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
static hs_code read_idx_split(const char *dir, const char *split, const hs_image_spec *k, raw_split *r, hs_error *err) {
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

static hs_code read_split(const char *dir, int train, const hs_image_spec *k, raw_split *r, hs_error *err) {
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
static hs_code pick_train(const raw_split *r, const hs_image_spec *k, const hs_data_opts *o, const long long *counts,
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
static hs_code pick_test(const raw_split *r, const hs_image_spec *k, long long n_test, uint64_t seed, uint8_t *keep,
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
static hs_code build_rows(const raw_split *r, const uint8_t *keep, const hs_image_spec *k, hs_resize how, hs_dataset *out,
                          hs_error *err) {
    long long n = 0;
    for (size_t i = 0; i < r->n; i++) n += keep[i];
    int plane = k->out_h * k->out_w, dim = k->channels * plane;
    HS_TRY(err, hs_data_alloc(out, n, dim, 0, IMAGE_CLASSES, err));
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
static hs_code load_split(const hs_data_opts *o, const hs_image_spec *k, const char *dir, int train,
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
static hs_code image_opts(const hs_data_opts *o, const hs_image_spec *k, const char **dir, long long *counts,
                          hs_error *err) {
    *dir = o->path && o->path[0] ? o->path : k->default_dir;
    if (!*dir) {
        HS_FAIL(err, HS_ERR_VALUE, "data.kind %s needs data.path: %s has no standard place", o->kind, k->name);
        return hs_error_hint(err, "%s", k->hint);
    }
    if (o->resize != HS_RESIZE_BILINEAR && o->resize != HS_RESIZE_AREA)
        return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_load: unknown resize method %d", (int)o->resize);
    return hs_data_class_counts(o, IMAGE_CLASSES, counts, err);
}

hs_code hs_image_load(const hs_image_spec *k, const hs_data_opts *o, hs_dataset *train, hs_dataset *test,
                      hs_error *err) {
    const char *dir;
    long long counts[IMAGE_CLASSES];
    HS_TRY(err, image_opts(o, k, &dir, counts, err));
    HS_TRY(err, load_split(o, k, dir, 1, counts, train, err));
    HS_TRY(err, load_split(o, k, dir, 0, counts, test, err));
    return HS_OK;
}
/* ================================================================ shapes */

hs_code hs_image_counts(const hs_image_spec *k, const hs_data_opts *o, long long *n_train, hs_error *err) {
    const char *dir;
    long long counts[IMAGE_CLASSES];
    HS_TRY(err, image_opts(o, k, &dir, counts, err));
    *n_train = 0;
    for (int c = 0; c < IMAGE_CLASSES; c++) *n_train += counts[c];
    return HS_OK;
}

hs_code hs_image_items(const hs_image_spec *k, const hs_data_opts *o, hs_dataset *items, hs_error *err) {
    *items = (hs_dataset){0};
    const char *dir;
    long long counts[IMAGE_CLASSES];
    HS_TRY(err, image_opts(o, k, &dir, counts, err));
    HS_TRY(err, load_split(o, k, dir, 1, counts, items, err));
    return HS_OK;
}

hs_code hs_image_shape(const hs_image_spec *k, const hs_data_opts *o, hs_data_shape *out, hs_error *err) {
    long long n_train;
    HS_TRY(err, hs_image_counts(k, o, &n_train, err));
    *out = (hs_data_shape){.dim = k->channels * k->out_h * k->out_w, .classes = IMAGE_CLASSES, .n_train = n_train,
                           .n_test = o->n_test ? o->n_test : HS_IMAGE_TEST_SPLIT, .channels = k->channels,
                           .height = k->out_h, .width = k->out_w};
    return HS_OK;
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
                              const hs_image_spec *k, hs_error *err) {
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

hs_code hs_image_check_files(const hs_image_spec *k, const hs_data_opts *o, int items_only, hs_error *err) {
    const char *dir = o->path && o->path[0] ? o->path : k->default_dir;
    if (!dir) {
        HS_FAIL(err, HS_ERR_VALUE, "data.kind %s needs data.path: %s has no standard place", o->kind, k->name);
        return hs_error_hint(err, "%s", k->hint);
    }
    char where[4200];
    folder_name(o, dir, where, sizeof where);
    struct stat st;
    int e = stat(dir, &st) != 0 ? errno : 0;
    if (e || !S_ISDIR(st.st_mode)) {
        HS_FAIL(err, HS_ERR_IO, "%s: cannot open the folder: %s (%s reads %s from it)", where,
                e ? strerror(e) : "not a folder", k->name,
                k->cifar ? "data_batch_1.bin ... data_batch_5.bin and test_batch.bin" : HS_MNIST_FILES);
        return hs_error_hint(err, "%s", k->hint);
    }
    hs_code rc = HS_OK;
    if (k->cifar) {
        rc = hs_cifar10_check(dir, 1, err);
        if (rc == HS_OK) rc = hs_cifar10_check(dir, 0, err);
    } else {
        for (int split = 0; split < (items_only ? 1 : 2) && rc == HS_OK; split++) {
            const char *name = split ? "t10k" : "train";
            char base[64];
            snprintf(base, sizeof base, "%s-images-idx3-ubyte", name);
            rc = check_idx_file(dir, base, "images", 16, k, err); /* magic and 3 sizes */
            snprintf(base, sizeof base, "%s-labels-idx1-ubyte", name);
            if (rc == HS_OK) rc = check_idx_file(dir, base, "labels", 8, k, err); /* magic and 1 size */
        }
    }
    if (rc != HS_OK) {
        prefix_error(err, where);
        hs_error_trace(err, __FILE__, __LINE__);
    }
    return rc;
}
