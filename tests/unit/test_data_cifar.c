/* test_data_cifar.c - CIFAR-10: the batch reader (hs_cifar10_load: records, planes, both splits,
 * one error per message) and the cc and cifar10 kinds of hs_data_load, on tiny synthetic batch
 * files with known pixels (subsets, per-channel normalisation against torch). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets.h"
#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "testing.h"
#include "tmpfiles.h"

/* ================================================================ CIFAR-10 batches */

#define CIFAR_RECORD 3073

/* Pixel (ch, y, x) of training record r (counted over the five batches). */
static uint8_t cifar_train_pixel(int r, int ch, int y, int x) {
    return (uint8_t)((r * 31 + ch * 97 + y * 5 + x * 3 + (x * y) % 7) % 256);
}

/* Test record t < 6 has constant planes torch_q[t], torch_q[t + 1], torch_q[t + 2] (mod 6), so its
 * rows are known from torch's table alone; the others reuse the training pattern. */
static uint8_t cifar_test_pixel(int t, int ch, int y, int x) {
    return t < 6 ? (uint8_t)torch_q[(t + ch) % 6] : cifar_train_pixel(1000 + t, ch, y, x);
}

static void cifar_record(uint8_t *rec, int label, int r, int test) {
    rec[0] = (uint8_t)label;
    for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
                rec[1 + ch * 1024 + y * 32 + x] = test ? cifar_test_pixel(r, ch, y, x) : cifar_train_pixel(r, ch, y, x);
}

/* tmp_dir/name with five training batches of per_batch records (record r has label r % 10) and a
 * test batch of 10 (label (3 t) % 10); the folder's path goes to dir. */
static void write_cifar(char *dir, size_t size, const char *name, int per_batch) {
    make_subdir(dir, size, name);
    uint8_t *buf = malloc((size_t)per_batch * CIFAR_RECORD + 10 * CIFAR_RECORD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    char file[512], path[512];
    for (int b = 0; b < 5; b++) {
        for (int i = 0; i < per_batch; i++) {
            int r = b * per_batch + i;
            cifar_record(buf + (size_t)i * CIFAR_RECORD, r % 10, r, 0);
        }
        snprintf(file, sizeof file, "%s/data_batch_%d.bin", name, b + 1);
        write_plain(path, sizeof path, file, buf, (size_t)per_batch * CIFAR_RECORD);
    }
    for (int t = 0; t < 10; t++) cifar_record(buf + (size_t)t * CIFAR_RECORD, (3 * t) % 10, t, 1);
    snprintf(file, sizeof file, "%s/test_batch.bin", name);
    write_plain(path, sizeof path, file, buf, 10 * CIFAR_RECORD);
    free(buf);
}

static void test_cifar_load(void) {
    char dir[512];
    write_cifar(dir, sizeof dir, "cifar", 20);
    hs_error err = {0};
    hs_cifar c = {0};
    CU_ASSERT_EQUAL_FATAL(hs_cifar10_load(dir, 1, &c, &err), HS_OK);
    CU_ASSERT_EQUAL(c.n, 100);
    int wrong = 0;
    for (int r = 0; r < 100; r++) {
        wrong += c.labels[r] != r % 10;
        for (int ch = 0; ch < 3; ch++)
            for (int p = 0; p < 1024; p += 37)
                wrong += c.images[r * 3072 + ch * 1024 + p] != cifar_train_pixel(r, ch, p / 32, p % 32);
    }
    CU_ASSERT_EQUAL(wrong, 0);
    hs_cifar_free(&c);
    CU_ASSERT_PTR_NULL(c.images);
    hs_cifar_free(&c);

    CU_ASSERT_EQUAL_FATAL(hs_cifar10_load(dir, 0, &c, &err), HS_OK);
    CU_ASSERT_EQUAL(c.n, 10);
    CU_ASSERT_EQUAL(c.labels[9], 7);
    CU_ASSERT_EQUAL(c.images[2 * 3072 + 1024 + 500], 128); /* record 2, green: torch_q[3] */
    CU_ASSERT_EQUAL(c.images[9 * 3072 + 2 * 1024 + 5 * 32 + 7], cifar_train_pixel(1009, 2, 5, 7));
    hs_cifar_free(&c);
}

/* hs_cifar10_load(dir, train) must fail with code, a message holding want, and out zeroed. */
static void expect_cifar_fail(const char *dir, int train, hs_code code, const char *want) {
    hs_error err = {0};
    hs_cifar c = {.n = 5};
    CU_ASSERT_EQUAL(hs_cifar10_load(dir, train, &c, &err), code);
    HS_ASSERT_CONTAINS(err.msg, want);
    HS_ASSERT_CONTAINS(err.trace, "src/data/cifar.c:");
    CU_ASSERT(c.images == NULL && c.labels == NULL && c.n == 0);
}

static void test_cifar_errors(void) {
    hs_error err = {0};
    hs_cifar c = {0};
    CU_ASSERT_EQUAL(hs_cifar10_load("", 1, &c, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "CIFAR-10 has no standard place");
    HS_ASSERT_CONTAINS(err.hint, "set data.path to the folder holding data_batch_1.bin");
    HS_ASSERT_CONTAINS(err.hint, "test_batch.bin (the CIFAR-10 binary version");
    CU_ASSERT_EQUAL(hs_cifar10_load(NULL, 0, &c, &err), HS_ERR_VALUE);

    char dir[512], path[512], want[600];
    tmp_path(dir, sizeof dir, "no-cifar-here");
    snprintf(want, sizeof want, "%s/data_batch_1.bin: cannot open: No such file or directory", dir);
    expect_cifar_fail(dir, 1, HS_ERR_IO, want);
    hs_cifar10_load(dir, 1, &c, &err);
    HS_ASSERT_CONTAINS(err.hint, "data_batch_1.bin ... data_batch_5.bin and test_batch.bin");
    snprintf(want, sizeof want, "%s/test_batch.bin: cannot open", dir);
    expect_cifar_fail(dir, 0, HS_ERR_IO, want);

    /* a size that is not whole records: the path, the size and the record size */
    make_subdir(dir, sizeof dir, "cifar-bad");
    uint8_t rec[2 * CIFAR_RECORD + 5] = {0};
    write_plain(path, sizeof path, "cifar-bad/data_batch_1.bin", rec, sizeof rec);
    snprintf(want, sizeof want, "%s: size 6151 bytes is not a whole number of CIFAR-10 records (3073 bytes each", path);
    expect_cifar_fail(dir, 1, HS_ERR_VALUE, want);
    write_plain(path, sizeof path, "cifar-bad/data_batch_1.bin", rec, 0);
    expect_cifar_fail(dir, 1, HS_ERR_VALUE, ": size 0 bytes is not a whole number");
    /* batch 1 fine, batch 2 missing: all sizes are checked before reading */
    write_plain(path, sizeof path, "cifar-bad/data_batch_1.bin", rec, CIFAR_RECORD);
    expect_cifar_fail(dir, 1, HS_ERR_IO, "data_batch_2.bin: cannot open");
    /* a CIFAR-100-like label */
    rec[CIFAR_RECORD] = 10;
    write_plain(path, sizeof path, "cifar-bad/test_batch.bin", rec, 2 * CIFAR_RECORD);
    expect_cifar_fail(dir, 0, HS_ERR_VALUE, "test_batch.bin: record 1 has label 10, expected 0..9");
    /* a folder where a file should be */
    tmp_path(path, sizeof path, "cifar-bad/test_batch.bin");
    remove(path);
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0700), 0);
    expect_cifar_fail(dir, 0, HS_ERR_IO, "test_batch.bin: is a directory");
}

static void test_cc_and_cifar10(void) {
    char dir[512];
    tmp_path(dir, sizeof dir, "cifar"); /* written by test_cifar_load */
    struct stat st;
    if (stat(dir, &st) != 0) write_cifar(dir, sizeof dir, "cifar", 20);
    uint8_t labels[100], keep[100];
    for (int r = 0; r < 100; r++) labels[r] = (uint8_t)(r % 10);

    /* cc: the green plane, 32 -> 10, normalised with the green mean and std */
    long long counts[10];
    for (int c = 0; c < 10; c++) counts[c] = 3;
    hs_data_opts o = {.kind = "cc", .path = dir, .seed = 5, .per_class = 3};
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test), HS_OK);
    CU_ASSERT_EQUAL(train.n, 30);
    CU_ASSERT(train.dim == 100 && train.classes == 10 && train.channels == 1 && train.height == 10 &&
              train.width == 10);
    CU_ASSERT_EQUAL(test.n, 10);
    CU_ASSERT_EQUAL(test.dim, 100);
    /* test records 0..5: a constant green plane torch_q[t + 1], so every value is torch's */
    int wrong = 0;
    for (int t = 0; t < 6; t++)
        for (int p = 0; p < 100; p++) wrong += test.x[t * 100 + p] != torch_values[NORM_GREEN][(t + 1) % 6];
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_EQUAL(test.x[4 * 100 + 57], 2.13086414f); /* record 4: green 255 */
    /* training rows: the documented subset, each the 8-bit resize of its green plane */
    expected_train_rows(labels, 100, counts, 5, keep);
    uint8_t plane[1024], small[100];
    long long row = 0;
    for (int r = 0; r < 100; r++) {
        if (!keep[r]) continue;
        for (int p = 0; p < 1024; p++) plane[p] = cifar_train_pixel(r, 1, p / 32, p % 32);
        hs_resize_image_u8(plane, 32, 32, small, 10, 10, HS_RESIZE_BILINEAR);
        for (int p = 0; p < 100; p++) wrong += train.x[row * 100 + p] != torch_norm(small[p], 0.4822, 0.243);
        wrong += train.y[row] != r % 10;
        row++;
    }
    CU_ASSERT_EQUAL(row, 30);
    CU_ASSERT_EQUAL(wrong, 0);
    hs_dataset_free(&train);
    hs_dataset_free(&test);

    /* cifar10: every plane as stored, each with its channel's mean and std; all 100 records */
    o = (hs_data_opts){.kind = "cifar10", .path = dir, .seed = 5, .per_class = 10};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test), HS_OK);
    CU_ASSERT_EQUAL(train.n, 100);
    CU_ASSERT(train.dim == 3072 && train.channels == 3 && train.height == 32 && train.width == 32);
    static const int norm_of[3] = {NORM_RED, NORM_GREEN, NORM_BLUE};
    for (int t = 0; t < 6; t++)
        for (int ch = 0; ch < 3; ch++)
            for (int p = 0; p < 1024; p += 11)
                wrong += test.x[t * 3072 + ch * 1024 + p] != torch_values[norm_of[ch]][(t + ch) % 6];
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_EQUAL(test.x[0 * 3072 + 0], -1.9894737f);             /* record 0, red 0 */
    CU_ASSERT_EQUAL(test.x[1 * 3072 + 2 * 1024 + 3], 0.212493524f); /* record 1, blue 128 */
    for (int r = 0; r < 100; r++)
        for (int ch = 0; ch < 3; ch++)
            for (int p = 0; p < 1024; p++)
                wrong += train.x[r * 3072 + ch * 1024 + p] != torch_norm(cifar_train_pixel(r, ch, p / 32, p % 32),
                                                                         norm_pairs[norm_of[ch]][0],
                                                                         norm_pairs[norm_of[ch]][1]);
    CU_ASSERT_EQUAL(wrong, 0);
    hs_dataset_free(&train);
    hs_dataset_free(&test);

    /* no standard place: a clear message and the hint */
    o.path = "";
    expect_load_fail(&o, HS_ERR_VALUE, "data.kind cifar10 needs data.path: CIFAR-10 has no standard place",
                     "data_batch_1.bin ... data_batch_5.bin and test_batch.bin (the CIFAR-10 binary version");
    o.kind = "cc";
    o.path = NULL;
    expect_load_fail(&o, HS_ERR_VALUE, "data.kind cc needs data.path", "set data.path to the folder holding");
    o.path = dir;
    o.per_class = 11;
    expect_load_fail(&o, HS_ERR_VALUE, "class 0 has 10 samples in the CIFAR-10 training split", NULL);
}

int main(void) {
    if (tmp_dir_make("/tmp/hsweep-test-cifar-XXXXXX") != 0) return 2;
    static const hs_test tests[] = {
        {"CIFAR-10 batches: records, planes, both splits", test_cifar_load},
        {"CIFAR-10 errors: no path, missing, bad size, bad label", test_cifar_errors},
        {"cc and cifar10 preprocessing on synthetic batches", test_cc_and_cifar10},
        {NULL, NULL},
    };
    int rc = hs_test_main("data_cifar", tests);
    tmp_dir_remove();
    return rc;
}
