/* test_data_mnist.c - the MNIST-shaped kinds of hs_data_load: cm and mnist on a tiny synthetic
 * MNIST folder (.gz or not, subsets row by row, errors), and cfm and fashion_mnist on the real
 * Fashion-MNIST (subsets, determinism, test split, rows against PIL and torch). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets.h"
#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "testing.h"
#include "tmpfiles.h"

/* ================================================================ a synthetic MNIST folder (cm) */

static uint8_t mnist_pixel(int i, int y, int x) { return (uint8_t)((i * 7 + y * 3 + x * 5 + (x * y) % 11) % 256); }

/* An IDX file of n images of h x w (pixel mnist_pixel(first + i, y, x)) as tmp_dir/name. */
static void write_idx_images(const char *name, int gz, int n, int h, int w, int first) {
    size_t size = 16 + (size_t)n * h * w;
    uint8_t *buf = malloc(size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    const uint32_t dims[3] = {(uint32_t)n, (uint32_t)h, (uint32_t)w};
    buf[0] = buf[1] = 0;
    buf[2] = 8;
    buf[3] = 3;
    for (int d = 0; d < 3; d++)
        for (int b = 0; b < 4; b++) buf[4 + 4 * d + b] = (uint8_t)(dims[d] >> (24 - 8 * b));
    for (int i = 0; i < n; i++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) buf[16 + ((size_t)i * h + y) * w + x] = mnist_pixel(first + i, y, x);
    char path[512];
    if (gz)
        write_gz(path, sizeof path, name, buf, size);
    else
        write_plain(path, sizeof path, name, buf, size);
    free(buf);
}

static void write_idx_labels(const char *name, int gz, int n, const uint8_t *labels) {
    uint8_t *buf = malloc(8 + (size_t)n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    const uint8_t head[8] = {0, 0, 8, 1, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    memcpy(buf, head, 8);
    memcpy(buf + 8, labels, (size_t)n);
    char path[512];
    if (gz)
        write_gz(path, sizeof path, name, buf, 8 + (size_t)n);
    else
        write_plain(path, sizeof path, name, buf, 8 + (size_t)n);
    free(buf);
}

enum { MNIST_TRAIN = 60, MNIST_TEST = 20 };
static uint8_t mnist_train_labels[MNIST_TRAIN], mnist_test_labels[MNIST_TEST];

/* tmp_dir/name: 60 training images (6 per class) and 20 test images, some files gzipped and
 * some plain without the .gz suffix (both are accepted); the folder goes to dir. */
static void write_mnist(char *dir, size_t size, const char *name) {
    for (int i = 0; i < MNIST_TRAIN; i++) mnist_train_labels[i] = (uint8_t)((i * 7) % 10);
    for (int i = 0; i < MNIST_TEST; i++) mnist_test_labels[i] = (uint8_t)((i * 3) % 10);
    make_subdir(dir, size, name);
    char file[512];
    snprintf(file, sizeof file, "%s/train-images-idx3-ubyte.gz", name);
    write_idx_images(file, 1, MNIST_TRAIN, 28, 28, 0);
    snprintf(file, sizeof file, "%s/train-labels-idx1-ubyte", name);
    write_idx_labels(file, 0, MNIST_TRAIN, mnist_train_labels);
    snprintf(file, sizeof file, "%s/t10k-images-idx3-ubyte", name);
    write_idx_images(file, 0, MNIST_TEST, 28, 28, 1000);
    snprintf(file, sizeof file, "%s/t10k-labels-idx1-ubyte.gz", name);
    write_idx_labels(file, 1, MNIST_TEST, mnist_test_labels);
}

/* Count the rows of d that are not the cm preprocessing of the kept images (first = index of
 * image 0 in mnist_pixel) or whose labels are not labels[kept]. */
static int count_bad_cm_rows(const hs_dataset *d, const uint8_t *keep, const uint8_t *labels, int n, int first,
                             hs_resize how) {
    uint8_t img[28 * 28], small[100];
    int bad = 0;
    long long row = 0;
    for (int i = 0; i < n; i++) {
        if (!keep[i]) continue;
        if (row >= d->n) return bad + 1;
        for (int p = 0; p < 28 * 28; p++) img[p] = mnist_pixel(first + i, p / 28, p % 28);
        hs_resize_image_u8(img, 28, 28, small, 10, 10, how);
        int off = d->y[row] != labels[i];
        for (int p = 0; p < 100; p++) off += d->x[row * 100 + p] != torch_norm(small[p], 0.5, 0.5);
        bad += off != 0;
        row++;
    }
    return bad + (row != d->n);
}

static void test_cm_synthetic(void) {
    char dir[512];
    write_mnist(dir, sizeof dir, "mnist");
    uint8_t keep[MNIST_TRAIN];
    long long counts[10];
    for (int c = 0; c < 10; c++) counts[c] = 4;

    hs_data_opts o = {.kind = "cm", .path = dir, .seed = 3, .per_class = 4};
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test), HS_OK);
    CU_ASSERT_EQUAL(train.n, 40);
    CU_ASSERT(train.dim == 100 && train.classes == 10 && train.channels == 1 && train.height == 10 &&
              train.width == 10);
    expected_train_rows(mnist_train_labels, MNIST_TRAIN, counts, 3, keep);
    CU_ASSERT_EQUAL(count_bad_cm_rows(&train, keep, mnist_train_labels, MNIST_TRAIN, 0, HS_RESIZE_BILINEAR), 0);
    memset(keep, 1, MNIST_TEST);
    CU_ASSERT_EQUAL(test.n, MNIST_TEST);
    CU_ASSERT_EQUAL(count_bad_cm_rows(&test, keep, mnist_test_labels, MNIST_TEST, 1000, HS_RESIZE_BILINEAR), 0);
    hs_dataset_free(&train);
    hs_dataset_free(&test);

    /* area resize, imbalanced counts, 7 test rows drawn with (HS_STREAM_TEST, 0) */
    static const long long imbalanced[10] = {6, 0, 1, 2, 3, 4, 5, 6, 1, 1};
    o = (hs_data_opts){
        .kind = "cm", .path = dir, .seed = 11, .class_counts = imbalanced, .n_test = 7, .resize = HS_RESIZE_AREA};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test), HS_OK);
    CU_ASSERT_EQUAL(train.n, 29);
    expected_train_rows(mnist_train_labels, MNIST_TRAIN, imbalanced, 11, keep);
    CU_ASSERT_EQUAL(count_bad_cm_rows(&train, keep, mnist_train_labels, MNIST_TRAIN, 0, HS_RESIZE_AREA), 0);
    CU_ASSERT_EQUAL(test.n, 7);
    expected_test_rows(MNIST_TEST, 7, 11, keep);
    CU_ASSERT_EQUAL(count_bad_cm_rows(&test, keep, mnist_test_labels, MNIST_TEST, 1000, HS_RESIZE_AREA), 0);
    hs_dataset_free(&train);
    hs_dataset_free(&test);
}

static void test_cm_errors(void) {
    char dir[512], want[700];
    tmp_path(dir, sizeof dir, "mnist");
    struct stat st;
    if (stat(dir, &st) != 0) write_mnist(dir, sizeof dir, "mnist");

    hs_data_opts o = {.kind = "cm", .path = dir, .seed = 3, .per_class = 7};
    snprintf(want, sizeof want,
             "class 0 has 6 samples in the MNIST training split (%s/train-images-idx3-ubyte.gz) but "
             "data.per_class asks for 7",
             dir);
    expect_load_fail(&o, HS_ERR_VALUE, want, "ask for at most 6 per class");
    static const long long too_many[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 9};
    o.class_counts = too_many;
    expect_load_fail(&o, HS_ERR_VALUE, "class 9 has 6 samples in the MNIST training split", NULL);
    expect_load_fail(&o, HS_ERR_VALUE, "but data.class_counts asks for 9", NULL);
    static const long long negative[10] = {1, 1, -1, 1, 1, 1, 1, 1, 1, 1};
    o.class_counts = negative;
    expect_load_fail(&o, HS_ERR_VALUE, "data.class_counts[2] = -1: a count must be >= 0", NULL);
    static const long long none[10] = {0};
    o.class_counts = none;
    expect_load_fail(&o, HS_ERR_VALUE, "every class has 0 samples", NULL);
    o.class_counts = NULL;
    o.per_class = 0;
    expect_load_fail(&o, HS_ERR_VALUE, "data.per_class = 0: must be >= 1", NULL);
    o.per_class = 2;
    o.n_test = 21;
    snprintf(want, sizeof want, "data.n_test = 21 but the MNIST test split (%s/t10k-images-idx3-ubyte) has 20 samples",
             dir);
    expect_load_fail(&o, HS_ERR_VALUE, want, NULL);
    o.n_test = -1;
    expect_load_fail(&o, HS_ERR_VALUE, "data.n_test = -1: must be >= 0", NULL);
    o.n_test = 0;

    /* missing files: both names tried, the folder named, the hint says what to put there */
    tmp_path(dir, sizeof dir, "no-mnist-here");
    o.path = dir;
    snprintf(want, sizeof want,
             "%s/train-images-idx3-ubyte.gz: cannot open: No such file or directory (nor without .gz)", dir);
    expect_load_fail(&o, HS_ERR_IO, want,
                     "set data.path to a folder holding the MNIST files train-images-idx3-ubyte.gz");
    o.path = "";
    if (stat("/usr/share/datasets/mnist", &st) != 0)
        expect_load_fail(&o, HS_ERR_IO, "/usr/share/datasets/mnist/train-images-idx3-ubyte.gz: cannot open",
                         "t10k-labels-idx1-ubyte.gz (.gz optional)");

    /* wrong content: image size, label count, label value */
    make_subdir(dir, sizeof dir, "mnist-small");
    write_idx_images("mnist-small/train-images-idx3-ubyte", 0, 60, 10, 10, 0);
    write_idx_labels("mnist-small/train-labels-idx1-ubyte", 0, 60, mnist_train_labels);
    o.path = dir;
    expect_load_fail(&o, HS_ERR_VALUE, "mnist-small/train-images-idx3-ubyte: expected MNIST images of 28x28 pixels",
                     NULL);
    write_idx_images("mnist-small/train-images-idx3-ubyte", 0, 60, 28, 28, 0);
    write_idx_labels("mnist-small/train-labels-idx1-ubyte", 0, 59, mnist_train_labels);
    expect_load_fail(&o, HS_ERR_VALUE, "train-labels-idx1-ubyte: 59 labels for the 60 images of", NULL);
    uint8_t bad[60];
    memcpy(bad, mnist_train_labels, sizeof bad);
    bad[5] = 12;
    write_idx_labels("mnist-small/train-labels-idx1-ubyte", 0, 60, bad);
    expect_load_fail(&o, HS_ERR_VALUE, "train-labels-idx1-ubyte: label 5 is 12, expected 0..9", NULL);
    /* training split fine, test images missing: the training set is freed again */
    write_idx_labels("mnist-small/train-labels-idx1-ubyte", 0, 60, mnist_train_labels);
    expect_load_fail(&o, HS_ERR_IO, "t10k-images-idx3-ubyte.gz: cannot open", NULL);

    /* NULL arguments and an unknown kind are bugs in the caller */
    hs_error err = {0};
    hs_dataset a = {0}, b = {0};
    CU_ASSERT_EQUAL(hs_data_load(NULL, &a, &b, &err), HS_ERR_INTERNAL);
    CU_ASSERT_EQUAL(hs_data_load(&o, NULL, &b, &err), HS_ERR_INTERNAL);
    o.kind = "srmh";
    expect_load_fail(&o, HS_ERR_SPEC, "data.kind = srmh: no such data kind", "did you mean srhm?");
    o.kind = NULL;
    expect_load_fail(&o, HS_ERR_SPEC, "no such data kind (expected one of: cfm|cm|", NULL);
    hs_dataset_free(NULL);
}


/* ================================================================ the real Fashion-MNIST (cfm, fashion_mnist) */

/* PIL's 8-bit resizes of two Fashion-MNIST images, made with Pillow 9.4:
 *   import gzip, numpy as np; from PIL import Image
 *   def load(p): return np.frombuffer(gzip.open(p).read(), np.uint8, offset=16).reshape(-1, 28, 28)
 *   train = load('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz')
 *   test = load('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz')
 *   np.asarray(Image.fromarray(train[6], 'L').resize((10, 10), Image.BILINEAR))    # pil_train6_bilinear
 *   np.asarray(Image.fromarray(test[0], 'L').resize((10, 10), Image.BOX))          # pil_test0_box
 *   c = np.asarray(Image.fromarray(test[0], 'L').resize((32, 32), Image.BILINEAR)).astype(np.int64)
 *   c.sum(), (c.ravel() * np.arange(1, 1025)).sum(), c[16, 16], c[20, 5], c[25, 14]
 * Training image 6 (a sneaker) is the first row of cfm at data.seed 1: the smallest index kept. */
static const uint8_t pil_train6_bilinear[100] = {
    0,  0,  0,   0,   0,   0,   0,   0,   0,   0,  0,  0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,  0,  0,   0,   0,   0,   3,   2,   0,   0,  0,  0,   0,   1,   12,  53,  109, 55,  14,  17,
    0,  2,  21,  72,  151, 193, 193, 129, 88,  53, 65, 115, 165, 199, 207, 210, 201, 198, 173, 157,
    49, 86, 121, 140, 144, 138, 127, 120, 117, 91, 3,  5,   11,  18,  21,  22,  23,  24,  26,  19,
    0,  0,  0,   0,   0,   0,   0,   0,   0,   0,  0,  0,   0,   0,   0,   0,   0,   0,   0,   0,
};
static const uint8_t pil_test0_box[100] = {
    0,  0,  0,   0,   0,   0,   0,   0,   0,   0,   0,  0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,  0,  0,   0,   0,   0,   1,   1,   1,   6,   0,  0,   0,   0,   0,   33,  88,  54,  63,  41,
    0,  0,  0,   1,   11,  104, 151, 161, 158, 59,  1,  1,   5,   32,  99,  122, 153, 154, 150, 109,
    62, 90, 104, 117, 123, 140, 155, 172, 165, 137, 52, 125, 169, 167, 178, 142, 107, 221, 213, 133,
    0,  0,  0,   0,   0,   0,   0,   0,   0,   0,   0,  0,   0,   0,   0,   0,   0,   0,   0,   0,
};

/* Count the entries of row[n] that are not torch_norm(q[i], mean, std). */
static int count_row_diffs(const float *row, const uint8_t *q, int n, double mean, double std) {
    int bad = 0;
    for (int i = 0; i < n; i++) bad += row[i] != torch_norm(q[i], mean, std);
    return bad;
}

/* The byte each value of row[n] came from (the table is one-to-one); -1 for a value not in it. */
static void bytes_of_row(const float *row, int n, double mean, double std, int *q) {
    for (int i = 0; i < n; i++) {
        q[i] = -1;
        for (int v = 0; v < 256 && q[i] < 0; v++)
            if (torch_norm(v, mean, std) == row[i]) q[i] = v;
    }
}

static int have_fashion(void) {
    struct stat st;
    if (stat(HS_FASHION_MNIST_DIR, &st) == 0) return 1;
    CU_FAIL("/usr/share/datasets/fashion-mnist is missing: install the Debian package dataset-fashion-mnist");
    return 0;
}

static void test_cfm_real(void) {
    if (!have_fashion()) return;
    hs_data_opts o = {.kind = "cfm", .seed = 1, .per_class = 100};
    hs_dataset a = {0}, a_test = {0}, b = {0}, b_test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &a, &a_test), HS_OK);
    CU_ASSERT(a.n == 1000 && a.dim == 100 && a.classes == 10 && a.channels == 1 && a.height == 10 && a.width == 10);
    int per_class[10] = {0}, outside = 0, minus_one = 0;
    for (long long i = 0; i < a.n; i++) per_class[a.y[i]]++;
    for (int c = 0; c < 10; c++) CU_ASSERT_EQUAL(per_class[c], 100);
    for (long long i = 0; i < a.n * a.dim; i++) {
        outside += !(a.x[i] >= -1.0f && a.x[i] <= 1.0f);
        minus_one += a.x[i] == -1.0f; /* the black background */
    }
    CU_ASSERT_EQUAL(outside, 0);
    CU_ASSERT(minus_one > 0);

    /* the rows are the documented subset, in file order: their labels say so ... */
    hs_idx labels = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_idx_load(HS_FASHION_MNIST_DIR "/train-labels-idx1-ubyte.gz", &labels, &err), HS_OK);
    uint8_t *keep = malloc(labels.count);
    CU_ASSERT_PTR_NOT_NULL_FATAL(keep);
    long long counts[10] = {100, 100, 100, 100, 100, 100, 100, 100, 100, 100};
    expected_train_rows(labels.data, labels.count, counts, 1, keep);
    long long row = 0, first = -1;
    int mislabelled = 0;
    for (size_t i = 0; i < labels.count; i++) {
        if (!keep[i]) continue;
        if (first < 0) first = (long long)i;
        mislabelled += row < a.n && a.y[row] != labels.data[i];
        row++;
    }
    CU_ASSERT_EQUAL(row, 1000);
    CU_ASSERT_EQUAL(mislabelled, 0);
    free(keep);
    hs_idx_free(&labels);
    /* ... and the first one is training image 6, pixel for pixel PIL's resize */
    CU_ASSERT_EQUAL(first, 6);
    CU_ASSERT_EQUAL(a.y[0], 7);
    CU_ASSERT_EQUAL(count_row_diffs(a.x, pil_train6_bilinear, 100, 0.5, 0.5), 0);
    CU_ASSERT_EQUAL(a.x[4 * 10 + 5], torch_norm(193, 0.5, 0.5));

    /* the test set is the whole t10k split in file order */
    CU_ASSERT(a_test.n == 10000 && a_test.dim == 100);
    CU_ASSERT_EQUAL_FATAL(hs_idx_load(HS_FASHION_MNIST_DIR "/t10k-labels-idx1-ubyte.gz", &labels, &err), HS_OK);
    mislabelled = 0;
    for (long long i = 0; i < a_test.n; i++) mislabelled += a_test.y[i] != labels.data[i];
    CU_ASSERT_EQUAL(mislabelled, 0);
    hs_idx_free(&labels);

    /* deterministic; another data seed gives other rows */
    CU_ASSERT_EQUAL_FATAL(load(&o, &b, &b_test), HS_OK);
    CU_ASSERT(b.n == a.n && memcmp(a.x, b.x, (size_t)a.n * 100 * sizeof(float)) == 0);
    CU_ASSERT(memcmp(a.y, b.y, (size_t)a.n * sizeof(int32_t)) == 0);
    CU_ASSERT(memcmp(a_test.x, b_test.x, (size_t)a_test.n * 100 * sizeof(float)) == 0);
    hs_dataset_free(&b);
    hs_dataset_free(&b_test);
    o.seed = 2;
    CU_ASSERT_EQUAL_FATAL(load(&o, &b, &b_test), HS_OK);
    CU_ASSERT_EQUAL(b.n, 1000);
    CU_ASSERT(!rows_contained(&a, &b));
    hs_dataset_free(&b);
    hs_dataset_free(&b_test);

    /* 200 per class extends 100 per class; 500 test rows are a subset of the full test split */
    o = (hs_data_opts){.kind = "cfm", .seed = 1, .per_class = 200, .n_test = 500};
    CU_ASSERT_EQUAL_FATAL(load(&o, &b, &b_test), HS_OK);
    CU_ASSERT_EQUAL(b.n, 2000);
    CU_ASSERT(rows_contained(&a, &b));
    CU_ASSERT_EQUAL(b_test.n, 500);
    CU_ASSERT(rows_contained(&b_test, &a_test));
    hs_dataset_free(&a);
    hs_dataset_free(&a_test);
    hs_dataset_free(&b);
    hs_dataset_free(&b_test);
}

static void test_cfm_real_imbalanced_and_errors(void) {
    if (!have_fashion()) return;
    /* the imbalanced cfm of He & Su, with the area resize: test image 0 against PIL's BOX */
    static const long long counts[10] = {500, 500, 500, 500, 500, 100, 100, 100, 100, 100};
    hs_data_opts o = {.kind = "cfm", .seed = 1, .class_counts = counts, .resize = HS_RESIZE_AREA};
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test), HS_OK);
    CU_ASSERT_EQUAL(train.n, 3000);
    int per_class[10] = {0};
    for (long long i = 0; i < train.n; i++) per_class[train.y[i]]++;
    for (int c = 0; c < 10; c++) CU_ASSERT_EQUAL(per_class[c], counts[c]);
    CU_ASSERT_EQUAL(test.n, 10000);
    CU_ASSERT_EQUAL(count_row_diffs(test.x, pil_test0_box, 100, 0.5, 0.5), 0);
    hs_dataset_free(&train);
    hs_dataset_free(&test);

    /* more than the split holds: named class and both counts */
    o = (hs_data_opts){.kind = "cfm", .seed = 1, .per_class = 7000};
    expect_load_fail(&o, HS_ERR_VALUE,
                     "class 0 has 6000 samples in the Fashion-MNIST training split "
                     "(/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz) but data.per_class asks for 7000",
                     "ask for at most 6000 per class");
}

static void test_fashion_mnist_32_real(void) {
    if (!have_fashion()) return;
    hs_data_opts o = {.kind = "fashion_mnist",
                      .seed = 4,
                      .per_class = 10,
                      .resize = HS_RESIZE_AREA /* ignored: the 32x32 variant is always bilinear */};
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test), HS_OK);
    CU_ASSERT(train.n == 100 && train.dim == 1024 && train.channels == 1 && train.height == 32 && train.width == 32);
    CU_ASSERT(test.dim == 1024);
    /* the full test split: row 0 is test image 0, upsampled by PIL to these bytes */
    CU_ASSERT_EQUAL_FATAL(test.n, 10000);
    int q[1024], unknown = 0;
    long long sum = 0, weighted = 0;
    bytes_of_row(test.x, 1024, 0.2860, 0.3530, q);
    for (int i = 0; i < 1024; i++) {
        unknown += q[i] < 0;
        sum += q[i];
        weighted += (long long)q[i] * (i + 1);
    }
    CU_ASSERT_EQUAL(unknown, 0);
    CU_ASSERT_EQUAL(sum, 43824);
    CU_ASSERT_EQUAL(weighted, 27405454);
    CU_ASSERT_EQUAL(q[16 * 32 + 16], 114);
    CU_ASSERT_EQUAL(q[20 * 32 + 5], 87);
    CU_ASSERT_EQUAL(q[25 * 32 + 14], 38);
    CU_ASSERT_EQUAL(test.x[0], -0.810198367f); /* background: torch's (0 - 0.2860) / 0.3530 */
    hs_dataset_free(&train);
    hs_dataset_free(&test);
}

/* mnist: the fashion_mnist conventions (28 -> 32 bilinear whatever data.resize says, one channel)
 * with MNIST's normalisation, on the synthetic folder. */
static int count_bad_mnist_rows(const hs_dataset *d, const uint8_t *labels, int n, int first) {
    uint8_t img[28 * 28], big[32 * 32];
    int bad = 0;
    for (int i = 0; i < n && i < d->n; i++) {
        for (int p = 0; p < 28 * 28; p++) img[p] = mnist_pixel(first + i, p / 28, p % 28);
        hs_resize_image_u8(img, 28, 28, big, 32, 32, HS_RESIZE_BILINEAR);
        int off = d->y[i] != labels[i];
        for (int p = 0; p < 32 * 32; p++) off += d->x[(size_t)i * 1024 + p] != torch_norm(big[p], 0.1307, 0.3081);
        bad += off != 0;
    }
    return bad + (d->n != n);
}

static void test_mnist_synthetic(void) {
    char dir[512];
    write_mnist(dir, sizeof dir, "mnist32");
    hs_data_opts o = {.kind = "mnist", .path = dir, .seed = 3, .per_class = 6, .resize = HS_RESIZE_AREA};
    hs_error err = {0};
    hs_data_shape sh;
    CU_ASSERT_EQUAL_FATAL(hs_data_shape_of(&o, &sh, &err), HS_OK);
    CU_ASSERT(sh.dim == 1024 && sh.classes == 10 && sh.channels == 1 && sh.n_train == 60 && sh.n_test == 10000);
    CU_ASSERT_EQUAL(hs_data_check_files(&o, &err), HS_OK);
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test), HS_OK);
    CU_ASSERT(train.dim == 1024 && train.classes == 10 && train.channels == 1 && train.height == 32 &&
              train.width == 32);
    /* 6 per class is every training image: all of them, in file order */
    CU_ASSERT_EQUAL(count_bad_mnist_rows(&train, mnist_train_labels, MNIST_TRAIN, 0), 0);
    CU_ASSERT_EQUAL(count_bad_mnist_rows(&test, mnist_test_labels, MNIST_TEST, 1000), 0);
    hs_dataset_free(&train);
    hs_dataset_free(&test);
    o.path = "/nonexistent-mnist";
    CU_ASSERT_EQUAL(hs_data_check_files(&o, &err), HS_ERR_IO);
    HS_ASSERT_CONTAINS(err.msg, "MNIST reads train-images-idx3-ubyte.gz");
    HS_ASSERT_CONTAINS(err.hint, "the MNIST files");
}

int main(void) {
    if (tmp_dir_make("/tmp/hsweep-test-mnist-XXXXXX") != 0) return 2;
    static const hs_test tests[] = {
        {"cm on a synthetic folder: subsets row by row", test_cm_synthetic},
        {"cm errors: counts, missing files, bad content", test_cm_errors},
        {"mnist: 32x32, MNIST's normalisation, on tiny IDX files", test_mnist_synthetic},
        {"cfm: subset, determinism, superset, test split, PIL row", test_cfm_real},
        {"cfm: imbalanced with area resize, too many per class", test_cfm_real_imbalanced_and_errors},
        {"fashion_mnist: 32x32, test row 0 against PIL", test_fashion_mnist_32_real},
        {NULL, NULL},
    };
    int rc = hs_test_main("data_mnist", tests);
    tmp_dir_remove();
    return rc;
}
