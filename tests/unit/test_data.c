/* test_data.c - the data layer.
 *   IDX loader: the real Fashion-MNIST files, tiny hand-made files (plain and gzip), and one
 *     broken file per error message.
 *   Resampling: against values PIL produced (float and 8-bit images), and hand-checkable cases.
 *   CIFAR-10 batches, cc and cifar10: tiny synthetic batch files with known pixels.
 *   hs_data_load: the real Fashion-MNIST (cfm, fashion_mnist, subsets, one row against PIL),
 *     a tiny synthetic MNIST folder (cm: .gz or not, subsets row by row, errors), and the
 *     Gaussian mixture (statistics at a fixed seed). */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "hsweep/schema.h"
#include "testing.h"

/* ================================================================ temp files */

static char tmp_dir[64]; /* made by main with mkdtemp, emptied and removed at the end */

static void tmp_path(char *out, size_t size, const char *name) { snprintf(out, size, "%s/%s", tmp_dir, name); }

/* Write n raw bytes to tmp_dir/name; the full path goes to path. */
static void write_plain(char *path, size_t size, const char *name, const void *bytes, size_t n) {
    tmp_path(path, size, name);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(bytes, 1, n, f), n);
    CU_ASSERT_EQUAL(fclose(f), 0);
}

/* Write n bytes gzip-compressed to tmp_dir/name. */
static void write_gz(char *path, size_t size, const char *name, const void *bytes, size_t n) {
    tmp_path(path, size, name);
    gzFile gz = gzopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gz);
    CU_ASSERT_EQUAL(gzwrite(gz, bytes, (unsigned)n), (int)n);
    CU_ASSERT_EQUAL(gzclose(gz), Z_OK);
}

/* Whole file into a malloc'd buffer (the caller frees it). */
static uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = malloc(1 << 20);
    *n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

/* Remove dir, its files and its subfolders (the dataset tests make one folder per dataset). */
static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        char path[512];
        struct stat st;
        for (struct dirent *e; (e = readdir(d));) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(path);
            else remove(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

static void remove_tmp_dir(void) { remove_tree(tmp_dir); }

/* Make tmp_dir/name (a folder for one synthetic dataset); its full path goes to path. */
static void make_subdir(char *path, size_t size, const char *name) {
    tmp_path(path, size, name);
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0700), 0);
}

/* A 2x3 array with the rows 1 2 3 and 250 0 255. */
static const uint8_t tiny_2x3[] = {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 250, 0, 255};

/* Load path, expect failure with code and a message holding the path and want; out must stay zeroed. */
static void expect_fail(const char *path, hs_code code, const char *want) {
    hs_error err = {0};
    hs_idx x = {0};
    x.count = 99; /* must be reset by the loader */
    CU_ASSERT_EQUAL(hs_idx_load(path, &x, &err), code);
    CU_ASSERT_EQUAL(err.code, code);
    HS_ASSERT_CONTAINS(err.msg, path);
    HS_ASSERT_CONTAINS(err.msg, want);
    HS_ASSERT_CONTAINS(err.trace, "src/data/idx.c:");
    CU_ASSERT_PTR_NULL(x.data);
    CU_ASSERT_EQUAL(x.count, 0);
    CU_ASSERT_EQUAL(x.ndim, 0);
}

/* ================================================================ the real Fashion-MNIST */

/* Load HS_FASHION_MNIST_DIR/name; fails the test (never skips) when the package is missing. */
static int load_fashion(const char *name, hs_idx *x) {
    struct stat st;
    if (stat(HS_FASHION_MNIST_DIR, &st) != 0 || !S_ISDIR(st.st_mode)) {
        CU_FAIL("/usr/share/datasets/fashion-mnist is missing: install the Debian package dataset-fashion-mnist");
        return 0;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s", HS_FASHION_MNIST_DIR, name);
    hs_error err = {0};
    hs_code rc = hs_idx_load(path, x, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  %s\n  hint: %s\n", err.msg, err.hint);
    CU_ASSERT_EQUAL(rc, HS_OK);
    return rc == HS_OK;
}

static uint64_t byte_sum(const uint8_t *p, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

/* images: n x 28 x 28 bytes */
static void check_images(const hs_idx *x, uint32_t n) {
    CU_ASSERT_EQUAL(x->ndim, 3);
    CU_ASSERT_EQUAL(x->dims[0], n);
    CU_ASSERT_EQUAL(x->dims[1], 28);
    CU_ASSERT_EQUAL(x->dims[2], 28);
    CU_ASSERT_EQUAL(x->count, (size_t)n * 28 * 28);
}

/* Expected values computed independently with Python (gzip + struct) and with zcat | od | awk. */
static void test_fashion_train_images(void) {
    hs_idx x = {0};
    if (!load_fashion("train-images-idx3-ubyte.gz", &x)) return;
    check_images(&x, 60000);
    CU_ASSERT_EQUAL(x.count, 47040000);
    CU_ASSERT_EQUAL(byte_sum(x.data, 784), 76247);                    /* first image (an ankle boot) */
    CU_ASSERT_EQUAL(byte_sum(x.data + x.count - 784, 784), 16684);    /* last image */
    CU_ASSERT_EQUAL(byte_sum(x.data, x.count), 3431114169ull);        /* every pixel */
    size_t nonzero = 0;
    for (size_t i = 0; i < 784; i++) nonzero += x.data[i] != 0;
    CU_ASSERT_EQUAL(nonzero, 433);
    /* row 14 of the first image: 0 0 1 4 6 7 2 0 0 0 0 0 237 ... 218 255 77 0 */
    CU_ASSERT_EQUAL(x.data[14 * 28 + 3], 4);
    CU_ASSERT_EQUAL(x.data[14 * 28 + 12], 237);
    CU_ASSERT_EQUAL(x.data[14 * 28 + 25], 255);
    CU_ASSERT_EQUAL(x.data[14 * 28 + 26], 77);
    hs_idx_free(&x);
}

/* labels: 0..9, the first ten as given, and perfectly balanced classes */
static void check_labels(const hs_idx *x, uint32_t n, const uint8_t first10[10], int per_class) {
    CU_ASSERT_EQUAL(x->ndim, 1);
    CU_ASSERT_EQUAL(x->dims[0], n);
    CU_ASSERT_EQUAL(x->count, n);
    CU_ASSERT_EQUAL(memcmp(x->data, first10, 10), 0);
    int counts[10] = {0}, out_of_range = 0;
    for (size_t i = 0; i < x->count; i++) {
        if (x->data[i] > 9) out_of_range++;
        else counts[x->data[i]]++;
    }
    CU_ASSERT_EQUAL(out_of_range, 0);
    for (int c = 0; c < 10; c++) CU_ASSERT_EQUAL(counts[c], per_class);
}

static void test_fashion_train_labels(void) {
    hs_idx x = {0};
    if (!load_fashion("train-labels-idx1-ubyte.gz", &x)) return;
    static const uint8_t first10[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
    check_labels(&x, 60000, first10, 6000);
    hs_idx_free(&x);
}

static void test_fashion_test_set(void) {
    hs_idx x = {0};
    if (!load_fashion("t10k-images-idx3-ubyte.gz", &x)) return;
    check_images(&x, 10000);
    CU_ASSERT_EQUAL(x.count, 7840000);
    CU_ASSERT_EQUAL(byte_sum(x.data, 784), 33456);
    CU_ASSERT_EQUAL(byte_sum(x.data, x.count), 573469082ull);
    hs_idx_free(&x);

    if (!load_fashion("t10k-labels-idx1-ubyte.gz", &x)) return;
    static const uint8_t first10[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    check_labels(&x, 10000, first10, 1000);
    hs_idx_free(&x);
}

/* ================================================================ tiny hand-made files */

static void check_tiny(const char *path) {
    hs_error err = {0};
    hs_idx x = {0};
    hs_code rc = hs_idx_load(path, &x, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
    CU_ASSERT_EQUAL(x.ndim, 2);
    CU_ASSERT_EQUAL(x.dims[0], 2);
    CU_ASSERT_EQUAL(x.dims[1], 3);
    CU_ASSERT_EQUAL(x.dims[2], 0);
    CU_ASSERT_EQUAL(x.dims[3], 0);
    CU_ASSERT_EQUAL(x.count, 6);
    static const uint8_t want[6] = {1, 2, 3, 250, 0, 255};
    CU_ASSERT_EQUAL(memcmp(x.data, want, 6), 0);
    hs_idx_free(&x);
}

static void test_tiny_plain_and_gzip(void) {
    char path[512];
    write_plain(path, sizeof path, "tiny.idx", tiny_2x3, sizeof tiny_2x3);
    check_tiny(path);
    write_gz(path, sizeof path, "tiny.idx.gz", tiny_2x3, sizeof tiny_2x3);
    check_tiny(path);
    /* detection is by content: a gzip file without .gz, a plain file with it */
    write_gz(path, sizeof path, "tiny-gz-no-suffix", tiny_2x3, sizeof tiny_2x3);
    check_tiny(path);
    write_plain(path, sizeof path, "tiny-plain.gz", tiny_2x3, sizeof tiny_2x3);
    check_tiny(path);
}

static void test_four_dims(void) {
    static const uint8_t file[] = {0, 0, 8, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 30, 40};
    char path[512];
    write_gz(path, sizeof path, "four.idx.gz", file, sizeof file);
    hs_error err = {0};
    hs_idx x = {0};
    CU_ASSERT_EQUAL_FATAL(hs_idx_load(path, &x, &err), HS_OK);
    CU_ASSERT_EQUAL(x.ndim, 4);
    CU_ASSERT_EQUAL(x.dims[0], 1);
    CU_ASSERT_EQUAL(x.dims[1], 2);
    CU_ASSERT_EQUAL(x.dims[2], 1);
    CU_ASSERT_EQUAL(x.dims[3], 2);
    CU_ASSERT_EQUAL(x.count, 4);
    CU_ASSERT_EQUAL(x.data[0], 10);
    CU_ASSERT_EQUAL(x.data[3], 40);
    hs_idx_free(&x);
}

/* ================================================================ broken files */

static void test_missing_file(void) {
    char path[512];
    tmp_path(path, sizeof path, "no-such-idx1-ubyte.gz");
    expect_fail(path, HS_ERR_IO, ": cannot open: No such file or directory");
    hs_error err = {0};
    hs_idx x = {0};
    hs_idx_load(path, &x, &err);
    HS_ASSERT_CONTAINS(err.hint, "install the Debian package dataset-fashion-mnist");
    HS_ASSERT_CONTAINS(err.hint, "data.path");
}

static void test_directory(void) { expect_fail(tmp_dir, HS_ERR_IO, ": cannot read: Is a directory"); }

static void test_empty_file(void) {
    char path[512];
    write_plain(path, sizeof path, "empty.idx", "", 0);
    expect_fail(path, HS_ERR_VALUE, ": empty file: expected an IDX header");
    write_gz(path, sizeof path, "empty.idx.gz", "", 0);
    expect_fail(path, HS_ERR_VALUE, ": empty file after decompression");
}

static void test_bad_magic(void) {
    char path[512];
    write_plain(path, sizeof path, "text.idx", "hello, world\n", 13);
    expect_fail(path, HS_ERR_VALUE,
                ": not an IDX file (magic 0x68656c6c, expected 0x0000080N with N = 1..4 dimensions)");
    write_plain(path, sizeof path, "short.idx", "\0\0", 2);
    expect_fail(path, HS_ERR_VALUE, ": truncated: an IDX header starts with 4 bytes of magic, file has 2");
    /* compressed twice: the decompressed data starts with the gzip magic */
    write_gz(path, sizeof path, "once.gz", tiny_2x3, sizeof tiny_2x3);
    size_t n = 0;
    uint8_t *once = read_all(path, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(once);
    write_gz(path, sizeof path, "twice.gz", once, n);
    free(once);
    expect_fail(path, HS_ERR_VALUE, ": not an IDX file (magic 0x1f8b0800, expected 0x0000080N");
    hs_error err = {0};
    hs_idx x = {0};
    hs_idx_load(path, &x, &err);
    HS_ASSERT_CONTAINS(err.hint, "compressed twice");
}

static void test_unsupported_header(void) {
    char path[512];
    static const uint8_t floats[] = {0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0x80, 0x3f};
    write_plain(path, sizeof path, "float.idx", floats, sizeof floats);
    expect_fail(path, HS_ERR_VALUE, ": IDX type 0x0d (float) is not supported; only unsigned bytes (0x08)");
    static const uint8_t five[] = {0, 0, 8, 5, 0, 0, 0, 1};
    write_plain(path, sizeof path, "five.idx", five, sizeof five);
    expect_fail(path, HS_ERR_VALUE, ": IDX file with 5 dimensions (magic 0x00000805) is not supported; expected 1..4");
    static const uint8_t none[] = {0, 0, 8, 0};
    write_plain(path, sizeof path, "none.idx", none, sizeof none);
    expect_fail(path, HS_ERR_VALUE, ": IDX file with 0 dimensions");
}

static void test_absurd_sizes(void) {
    char path[512];
    static const uint8_t zero[] = {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 0};
    write_plain(path, sizeof path, "zero.idx", zero, sizeof zero);
    expect_fail(path, HS_ERR_VALUE, ": dimension 1 of the IDX header is 0 (dims 2x0)");
    /* 2^16 x 2^16 = 2^32 bytes: refused from the header alone */
    static const uint8_t big[] = {0, 0, 8, 2, 0, 1, 0, 0, 0, 1, 0, 0, 1, 2, 3};
    write_plain(path, sizeof path, "big.idx", big, sizeof big);
    expect_fail(path, HS_ERR_VALUE, ": IDX header promises more than 2^31 bytes of data (dims 65536x65536)");
    /* four maximal sizes would overflow a 64-bit product */
    static const uint8_t huge[] = {0, 0, 8, 4, 255, 255, 255, 255, 255, 255, 255, 255,
                                   255, 255, 255, 255, 255, 255, 255, 255};
    write_plain(path, sizeof path, "huge.idx", huge, sizeof huge);
    expect_fail(path, HS_ERR_VALUE, "more than 2^31 bytes of data (dims 4294967295x4294967295x4294967295x4294967295)");
    /* 2^31 + 1 bytes: just over the limit */
    static const uint8_t over[] = {0, 0, 8, 2, 0x80, 0, 0, 1, 0, 0, 0, 1};
    write_plain(path, sizeof path, "over.idx", over, sizeof over);
    expect_fail(path, HS_ERR_VALUE, "more than 2^31 bytes of data (dims 2147483649x1)");
}

static void test_truncated(void) {
    char path[512];
    /* the header names two sizes but holds one */
    write_plain(path, sizeof path, "cut-header.idx", tiny_2x3, 8);
    expect_fail(path, HS_ERR_VALUE, ": truncated: the header announces 2 dimensions (8 bytes of sizes), file has 4");
    write_plain(path, sizeof path, "cut-data.idx", tiny_2x3, sizeof tiny_2x3 - 2);
    expect_fail(path, HS_ERR_VALUE, ": truncated: header promises 6 bytes of data, file has 4 (dims 2x3)");
    /* a well-formed gzip stream of a short IDX file: the IDX is truncated, not the gzip */
    write_gz(path, sizeof path, "cut-data.idx.gz", tiny_2x3, sizeof tiny_2x3 - 2);
    expect_fail(path, HS_ERR_VALUE, ": truncated: header promises 6 bytes of data, file has 4 after decompression");
}

static void test_trailing_bytes(void) {
    uint8_t longer[sizeof tiny_2x3 + 3];
    memcpy(longer, tiny_2x3, sizeof tiny_2x3);
    memcpy(longer + sizeof tiny_2x3, "abc", 3);
    char path[512];
    write_plain(path, sizeof path, "trailing.idx", longer, sizeof longer);
    expect_fail(path, HS_ERR_VALUE, ": 3 trailing bytes after the 6 bytes of data (dims 2x3)");
    write_gz(path, sizeof path, "trailing.idx.gz", longer, sizeof longer);
    expect_fail(path, HS_ERR_VALUE, ": 3 trailing bytes after the 6 bytes of data (dims 2x3)");
    /* more trailing bytes than one internal read */
    size_t n = sizeof tiny_2x3 + 10000;
    uint8_t *many = calloc(n, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(many);
    memcpy(many, tiny_2x3, sizeof tiny_2x3);
    write_plain(path, sizeof path, "trailing-many.idx", many, n);
    free(many);
    expect_fail(path, HS_ERR_VALUE, ": 10000 trailing bytes after the 6 bytes of data");
}

/* A 100x100 IDX file of poorly compressible bytes, gzipped; returns the compressed bytes. */
static uint8_t *make_gz_100x100(size_t *n) {
    static const uint8_t head[] = {0, 0, 8, 2, 0, 0, 0, 100, 0, 0, 0, 100};
    size_t size = sizeof head + 10000;
    uint8_t *raw = malloc(size);
    if (!raw) return NULL;
    memcpy(raw, head, sizeof head);
    uint32_t state = 12345; /* an LCG, so that deflate cannot shrink the data to a few bytes */
    for (size_t i = sizeof head; i < size; i++) {
        state = state * 1664525u + 1013904223u;
        raw[i] = (uint8_t)(state >> 24);
    }
    char path[512];
    write_gz(path, sizeof path, "full-100x100.gz", raw, size);
    free(raw);
    return read_all(path, n);
}

static void test_broken_gzip(void) {
    size_t n = 0;
    uint8_t *gz = make_gz_100x100(&n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(gz);
    CU_ASSERT_FATAL(n > 1000);
    char path[512];
    hs_error err = {0};
    hs_idx x = {0};

    /* the intact file loads */
    write_plain(path, sizeof path, "intact.gz", gz, n);
    CU_ASSERT_EQUAL(hs_idx_load(path, &x, &err), HS_OK);
    CU_ASSERT_EQUAL(x.count, 10000);
    hs_idx_free(&x);

    /* cut in the middle of the compressed stream */
    write_plain(path, sizeof path, "cut-half.gz", gz, n / 2);
    expect_fail(path, HS_ERR_VALUE, ": corrupt gzip stream: unexpected end of file");
    hs_idx_load(path, &x, &err);
    HS_ASSERT_CONTAINS(err.hint, "ends in the middle of the compressed data");
    CU_ASSERT_PTR_NULL(x.data);

    /* all data present, only the 4-byte length of the gzip trailer missing */
    write_plain(path, sizeof path, "cut-trailer.gz", gz, n - 4);
    expect_fail(path, HS_ERR_VALUE, ": corrupt gzip stream: unexpected end of file");

    /* a flipped bit in the CRC: found by the read after the data */
    gz[n - 5] ^= 0x01;
    write_plain(path, sizeof path, "bad-crc.gz", gz, n);
    expect_fail(path, HS_ERR_VALUE, ": corrupt gzip stream: incorrect data check");
    gz[n - 5] ^= 0x01;

    /* garbage in the middle of the deflate data */
    for (size_t i = n / 2; i < n / 2 + 16; i++) gz[i] ^= 0xa5;
    write_plain(path, sizeof path, "garbled.gz", gz, n);
    expect_fail(path, HS_ERR_VALUE, ": corrupt gzip stream: ");
    free(gz);
}

static void test_free_twice(void) {
    char path[512];
    write_plain(path, sizeof path, "free.idx", tiny_2x3, sizeof tiny_2x3);
    hs_error err = {0};
    hs_idx x = {0};
    CU_ASSERT_EQUAL(hs_idx_load(path, &x, &err), HS_OK);
    hs_idx_free(&x);
    CU_ASSERT_PTR_NULL(x.data);
    CU_ASSERT_EQUAL(x.count, 0);
    hs_idx_free(&x);
    hs_idx zeroed = {0};
    hs_idx_free(&zeroed);
    hs_idx_free(NULL);
    CU_ASSERT_PTR_NULL(zeroed.data);
}

/* ================================================================ resampling */

/* The float pattern of the PIL comparisons: exact in float32, irregular enough that a wrong
 * window or weight shows. */
static void float_pattern(float *p, int h, int w) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) p[y * w + x] = (float)(((x * 37 + y * 11) % 23) * 0.5 + 0.03125 * x * y);
}

/* Expected values from Pillow 9.4 on mode "F" images (float32, no rounding), made with:
 *   import numpy as np; from PIL import Image
 *   def pattern(h, w):
 *       y, x = np.mgrid[0:h, 0:w]
 *       return (((x * 37 + y * 11) % 23) * 0.5 + 0.03125 * x * y).astype(np.float32)
 *   def rs(a, w, h, m): return np.asarray(Image.fromarray(a, 'F').resize((w, h), m))
 *   rs(pattern(28, 28), 10, 10, Image.BILINEAR)      # likewise Image.BOX; printed with '%.9g'
 *   rs(pattern(28, 28), 32, 32, Image.BILINEAR)      # a few entries
 *   rs(pattern(13, 28), 9, 5, Image.BILINEAR)        # 13x28 -> 5x9 (and BOX), a few entries */
static const float pil_bilinear_28_10[100] = {
    4.84502554f, 5.88254356f, 5.40992451f, 6.29792833f, 6.10653257f, 5.47661638f, 6.69559288f, 6.06500673f, 6.11473227f,
    7.06102037f, 5.17970467f, 6.37159443f, 6.02211237f, 6.57614756f, 6.98059702f, 7.03944016f, 7.91924f,    7.55841637f,
    8.35817814f, 8.48507309f, 5.99151802f, 6.38018274f, 6.25522375f, 7.96565294f, 7.76816559f, 8.37954903f, 9.42100716f,
    9.21854973f, 10.6624603f, 10.4154758f, 6.21358728f, 6.36041784f, 7.5222764f,  8.39304447f, 8.49601364f, 10.2384825f,
    10.5277214f, 11.294528f,  12.5508966f, 12.2195053f, 6.74812412f, 6.72053528f, 7.86034346f, 9.18118095f, 9.66786194f,
    11.5784225f, 11.9439602f, 13.177083f,  14.5259151f, 14.9282103f, 6.37327099f, 6.6540947f,  9.05562782f, 9.61701298f,
    11.0505428f, 12.772357f,  13.2635355f, 15.5792198f, 16.319767f,  17.0245037f, 6.29513502f, 7.51679087f, 9.39577675f,
    10.2200289f, 12.4907799f, 13.7359467f, 15.2253504f, 17.0816536f, 17.919138f,  20.3458786f, 5.71473217f, 7.85049391f,
    9.89162636f, 10.9989986f, 13.7150583f, 14.9024925f, 16.596693f,  18.9799519f, 20.1326885f, 22.541666f,  5.55978727f,
    8.66430855f, 10.034008f,  12.1938124f, 14.5660801f, 15.7760315f, 18.9490528f, 20.3735676f, 22.0135651f, 25.1207867f,
    6.18061209f, 8.943223f,   10.5243587f, 13.0259161f, 15.3715191f, 17.3520794f, 19.9434986f, 21.5667591f, 24.6306782f,
    26.5485725f,
};
static const float pil_box_28_10[100] = {
    4.86458349f, 5.51388884f, 5.203125f,   6.17013884f, 6.81944466f, 4.91319466f, 6.84027767f, 5.890625f,   6.21875f,
    6.86805534f, 4.84722233f, 7.05555534f, 5.0625f,     6.90277767f, 6.55555534f, 7.48611116f, 8.41666698f, 7.0625f,
    8.26388931f, 9.19444466f, 6.53645802f, 7.0625f,     4.9453125f,  8.578125f,   7.1875f,     7.71354198f, 10.15625f,
    8.0390625f,  11.671875f,  10.28125f,   5.67013884f, 7.06944466f, 6.74479151f, 8.97569466f, 7.81944418f, 10.4965277f,
    10.6180553f, 10.932292f,  12.5243053f, 11.3680553f, 6.93055534f, 6.05555534f, 8.52083302f, 8.43055534f, 10.1111107f,
    11.791667f,  12.1944447f, 12.104167f,  14.5694447f, 14.9722223f, 6.91319466f, 6.31944466f, 10.296875f,  9.16319466f,
    11.125f,     13.0868053f, 12.4930553f, 17.109375f,  15.3368063f, 17.2986107f, 5.61805534f, 7.86111116f, 10.15625f,
    9.89583302f, 12.1388893f, 14.3819447f, 15.3472223f, 18.28125f,   17.3819447f, 20.9027767f, 5.390625f,   7.22916698f,
    10.0390625f, 10.932291f,  14.6875f,    14.609375f,  16.447916f,  19.2578125f, 20.1510429f, 21.9895821f, 5.16319466f,
    9.15277767f, 9.921875f,   11.96875f,   14.6805553f, 14.8368063f, 18.8263893f, 20.234375f,  21.6423607f, 25.6319447f,
    6.42361116f, 9.41666698f, 9.78125f,    12.7013893f, 15.6944447f, 17.4097233f, 20.4027767f, 21.40625f,   24.9652767f,
    26.6805553f,
};

typedef struct pixel_value {
    int i, j;
    float v;
} pixel_value;

/* Count (and print) the entries of got[n] further than 1e-5 from want[n]. */
static int count_far(const float *got, const float *want, int n, const char *what) {
    int far = 0;
    for (int k = 0; k < n; k++)
        if (fabsf(got[k] - want[k]) > 1e-5f) {
            if (far++ < 5) fprintf(stderr, "\n  %s[%d]: got %.9g, PIL %.9g", what, k, got[k], want[k]);
        }
    return far;
}

static void test_resize_matches_pil_float(void) {
    float src[28 * 28], dst[32 * 32];
    float_pattern(src, 28, 28);
    hs_resize_image(src, 28, 28, dst, 10, 10, HS_RESIZE_BILINEAR);
    CU_ASSERT_EQUAL(count_far(dst, pil_bilinear_28_10, 100, "bilinear 28->10"), 0);
    hs_resize_image(src, 28, 28, dst, 10, 10, HS_RESIZE_AREA);
    CU_ASSERT_EQUAL(count_far(dst, pil_box_28_10, 100, "box 28->10"), 0);

    /* upsampling: plain bilinear (the filter is not stretched) */
    static const pixel_value up[] = {{0, 0, 0.0f},   {0, 31, 5.0f},       {5, 7, 5.38537598f}, {16, 16, 9.1817627f},
                                     {31, 0, 10.5f}, {31, 31, 26.78125f}, {20, 3, 8.91003418f}};
    hs_resize_image(src, 28, 28, dst, 32, 32, HS_RESIZE_BILINEAR);
    for (size_t k = 0; k < sizeof up / sizeof up[0]; k++)
        CU_ASSERT_DOUBLE_EQUAL(dst[up[k].i * 32 + up[k].j], up[k].v, 1e-5);

    /* non-square, different factors per axis: 13x28 -> 5x9 */
    float rect[13 * 28];
    float_pattern(rect, 13, 28);
    static const pixel_value bil[] = {
        {0, 0, 4.96731186f}, {1, 4, 7.43018007f}, {2, 8, 9.98065662f}, {4, 3, 9.51633167f}, {4, 8, 13.9409142f}};
    static const pixel_value box[] = {
        {0, 0, 4.86458349f}, {1, 4, 7.4140625f}, {2, 8, 10.3194447f}, {4, 3, 9.99305534f}, {4, 8, 13.770833f}};
    hs_resize_image(rect, 13, 28, dst, 5, 9, HS_RESIZE_BILINEAR);
    for (int k = 0; k < 5; k++) CU_ASSERT_DOUBLE_EQUAL(dst[bil[k].i * 9 + bil[k].j], bil[k].v, 1e-5);
    hs_resize_image(rect, 13, 28, dst, 5, 9, HS_RESIZE_AREA);
    for (int k = 0; k < 5; k++) CU_ASSERT_DOUBLE_EQUAL(dst[box[k].i * 9 + box[k].j], box[k].v, 1e-5);
}

static void test_resize_by_hand(void) {
    static const hs_resize both[2] = {HS_RESIZE_BILINEAR, HS_RESIZE_AREA};
    float src[28 * 28], dst[32 * 32];

    /* a constant image stays constant, shrinking, growing and per axis */
    static const int sizes[][2] = {{10, 10}, {32, 32}, {7, 28}, {28, 5}, {1, 1}, {28, 28}};
    for (int i = 0; i < 28 * 28; i++) src[i] = 0.7f;
    for (int m = 0; m < 2; m++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            int dh = sizes[s][0], dw = sizes[s][1], off = 0;
            hs_resize_image(src, 28, 28, dst, dh, dw, both[m]);
            for (int i = 0; i < dh * dw; i++) off += fabsf(dst[i] - 0.7f) > 1e-6f;
            CU_ASSERT_EQUAL(off, 0);
        }

    /* the same size is the identity */
    float_pattern(src, 28, 28);
    for (int m = 0; m < 2; m++) {
        hs_resize_image(src, 28, 28, dst, 28, 28, both[m]);
        CU_ASSERT_EQUAL(memcmp(src, dst, sizeof(float) * 28 * 28), 0);
    }

    /* area 4x4 -> 2x2: block means */
    static const float four[16] = {1, 2, 10, 20, 3, 4, 30, 40, 0, 0, 5, 5, 0, 8, 5, 9};
    hs_resize_image(four, 4, 4, dst, 2, 2, HS_RESIZE_AREA);
    CU_ASSERT_DOUBLE_EQUAL(dst[0], 2.5, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dst[1], 25.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dst[2], 2.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dst[3], 6.0, 1e-6);

    /* area 28 -> 10 of a ramp: PIL's box takes the pixels whose centres fall in each 2.8-wide box,
     * with equal weights: {0,1,2} {3,4,5} {6,7} {8,9,10} {11,12,13} {14,15,16} {17,18,19} {20,21}
     * {22,23,24} {25,26,27} */
    static const float ramp_means[10] = {1, 4, 6.5f, 9, 12, 15, 18, 20.5f, 23, 26};
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) src[y * 28 + x] = (float)x;
    hs_resize_image(src, 28, 28, dst, 10, 10, HS_RESIZE_AREA);
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 10; x++) CU_ASSERT_DOUBLE_EQUAL(dst[y * 10 + x], ramp_means[x], 1e-5);

    /* a pixel centre exactly on a box edge goes to the box on its left (PIL's box filter is 1 on
     * (-0.5, 0.5]): 1x5 -> 1x2 has boxes [0, 2.5] and [2.5, 5], pixel 2 centred on 2.5 */
    static const float five[5] = {0, 10, 20, 30, 40};
    hs_resize_image(five, 1, 5, dst, 1, 2, HS_RESIZE_AREA);
    CU_ASSERT_DOUBLE_EQUAL(dst[0], 10.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dst[1], 35.0, 1e-6);

    /* bilinear 1x2 -> 1x4: centres 0.25 0.75 1.25 1.75; the edges clamp */
    static const float two[2] = {4, 8};
    hs_resize_image(two, 1, 2, dst, 1, 4, HS_RESIZE_BILINEAR);
    CU_ASSERT_DOUBLE_EQUAL(dst[0], 4.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dst[1], 5.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dst[2], 7.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dst[3], 8.0, 1e-6);

    /* bilinear 1x4 -> 1x2 (factor 2): the triangle widens to +-2 pixels, weights 1 3 3 1 over four
     * pixels; the image edge clips one of them and the rest are renormalised: 3 3 1 / 7 */
    static const float row4[4] = {0, 8, 16, 24};
    hs_resize_image(row4, 1, 4, dst, 1, 2, HS_RESIZE_BILINEAR);
    CU_ASSERT_DOUBLE_EQUAL(dst[0], (0 * 3 + 8 * 3 + 16 * 1) / 7.0, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(dst[1], (8 * 1 + 16 * 3 + 24 * 3) / 7.0, 1e-5);
}

/* Pillow 9.4 on mode "L" (8-bit) images of the byte pattern below:
 *   y, x = np.mgrid[0:28, 0:28]; b = ((x * 37 + y * 11 + x * y) % 256).astype(np.uint8)
 *   np.asarray(Image.fromarray(b, 'L').resize((10, 10), Image.BILINEAR))     # and Image.BOX
 * Resampling in float and rounding once gets 12 of each 100 wrong by one: PIL rounds after each
 * pass and uses fixed-point weights. */
static const uint8_t pil_l_bilinear[100] = {
    58,  150, 107, 110, 159, 90,  161, 96,  128, 140, 89,  164, 92,  150, 99,  131, 128, 118, 142, 91,
    123, 153, 107, 143, 98,  156, 99,  151, 114, 153, 152, 122, 140, 105, 135, 111, 141, 121, 137, 108,
    160, 101, 156, 107, 141, 106, 145, 121, 134, 128, 144, 109, 144, 134, 127, 139, 114, 144, 117, 145,
    146, 136, 123, 139, 113, 144, 132, 120, 137, 102, 110, 143, 117, 124, 136, 122, 149, 127, 126, 137,
    111, 146, 128, 110, 140, 129, 128, 129, 126, 124, 102, 123, 133, 117, 127, 139, 123, 115, 129, 130,
};
static const uint8_t pil_l_box[100] = {
    49,  163, 88,  97,  183, 69,  183, 65,  117, 146, 85,  180, 55,  157, 81,  147, 99,  117, 162, 86,
    115, 161, 99,  165, 82,  170, 87,  196, 91,  179, 145, 112, 142, 115, 139, 106, 159, 104, 133, 100,
    181, 72,  195, 89,  151, 99,  132, 113, 150, 126, 132, 117, 162, 121, 135, 149, 105, 165, 109, 152,
    139, 162, 86,  153, 90,  141, 164, 88,  155, 92,  112, 157, 88,  146, 148, 107, 152, 125, 140, 142,
    114, 152, 131, 110, 148, 129, 110, 161, 97,  135, 93,  111, 184, 85,  132, 150, 140, 84,  142, 132,
};

static void test_resize_u8_matches_pil(void) {
    uint8_t src[28 * 28], dst[32 * 32];
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) src[y * 28 + x] = (uint8_t)((x * 37 + y * 11 + x * y) % 256);
    hs_resize_image_u8(src, 28, 28, dst, 10, 10, HS_RESIZE_BILINEAR);
    CU_ASSERT_EQUAL(memcmp(dst, pil_l_bilinear, 100), 0);
    hs_resize_image_u8(src, 28, 28, dst, 10, 10, HS_RESIZE_AREA);
    CU_ASSERT_EQUAL(memcmp(dst, pil_l_box, 100), 0);

    /* rows first, each pass rounded half up: {1 2 / 1 2} -> 2; {0 1 / 0 0} -> rows 1, 0 -> 1 where the
     * exact mean 0.25 would round to 0; {7 7 / 7 8} -> rows 7, 8 -> 8 (exact 7.25) */
    static const uint8_t four[16] = {1, 2, 0, 1, 1, 2, 0, 0, 255, 255, 7, 7, 255, 255, 7, 8};
    hs_resize_image_u8(four, 4, 4, dst, 2, 2, HS_RESIZE_AREA);
    CU_ASSERT_EQUAL(dst[0], 2);
    CU_ASSERT_EQUAL(dst[1], 1);
    CU_ASSERT_EQUAL(dst[2], 255);
    CU_ASSERT_EQUAL(dst[3], 8);

    /* constant images stay constant, 0 and 255 included (no overshoot past the ends) */
    for (int v = 0; v < 256; v += 85) {
        memset(src, v, sizeof src);
        hs_resize_image_u8(src, 28, 28, dst, 32, 32, HS_RESIZE_BILINEAR);
        int off = 0;
        for (int i = 0; i < 32 * 32; i++) off += dst[i] != v;
        hs_resize_image_u8(src, 28, 28, dst, 10, 10, HS_RESIZE_AREA);
        for (int i = 0; i < 10 * 10; i++) off += dst[i] != v;
        CU_ASSERT_EQUAL(off, 0);
    }
}

/* ================================================================ normalisation and subsets */

/* ToTensor + Normalize of byte q as torch computes them, in float32: (q / 255 - mean) / std. */
static float torch_norm(int q, double mean, double std) { return ((float)q / 255.0f - (float)mean) / (float)std; }

/* The (mean, std) pairs of the datasets, and what torch 1.13 makes of some bytes:
 *   torch.tensor(q, dtype=torch.uint8).float().div(255).sub_(torch.tensor([m])).div_(torch.tensor([s]))
 * printed with '%.9g' (so the literals are the exact float32 values). */
static const double norm_pairs[5][2] = {
    {0.5, 0.5}, {0.2860, 0.3530}, {0.4914, 0.247}, {0.4822, 0.243}, {0.4465, 0.261}};
static const int torch_q[6] = {0, 1, 77, 128, 200, 255};
static const float torch_values[5][6] = {
    {-1.0f, -0.992156863f, -0.396078408f, 0.003921628f, 0.568627477f, 1.0f},
    {-0.810198367f, -0.799089134f, 0.0452146828f, 0.611787021f, 1.41165364f, 2.02266288f},
    {-1.9894737f, -1.97359693f, -0.766960382f, 0.042756319f, 1.18588555f, 2.05910945f},
    {-1.98436213f, -1.96822393f, -0.741725087f, 0.0813202336f, 1.24326646f, 2.13086414f},
    {-1.71072793f, -1.69570279f, -0.553790033f, 0.212493524f, 1.29430544f, 2.12068963f},
};
enum { NORM_CM = 0, NORM_FASHION = 1, NORM_RED = 2, NORM_GREEN = 3, NORM_BLUE = 4 };

static void test_normalisation_matches_torch(void) {
    for (int k = 0; k < 5; k++)
        for (int i = 0; i < 6; i++)
            CU_ASSERT_EQUAL(torch_norm(torch_q[i], norm_pairs[k][0], norm_pairs[k][1]), torch_values[k][i]);
}

/* The training rows the header promises, as a 0/1 mask over the split: per class c, the class's
 * rows in file order shuffled with (HS_STREAM_DATA, c) of seed, the first counts[c] kept. */
static void expected_train_rows(const uint8_t *labels, size_t n, const long long *counts, uint64_t seed,
                                uint8_t *keep) {
    uint32_t *idx = malloc(n * sizeof *idx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(idx);
    memset(keep, 0, n);
    for (int c = 0; c < 10; c++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (labels[i] == c) idx[m++] = (uint32_t)i;
        hs_rng r;
        hs_rng_init(&r, seed, hs_rng_stream(HS_STREAM_DATA, (uint32_t)c));
        hs_rng_permute(&r, idx, m);
        for (long long j = 0; j < counts[c] && (size_t)j < m; j++) keep[idx[j]] = 1;
    }
    free(idx);
}

/* The test rows: the first k of a shuffle of all n with (HS_STREAM_TEST, 0). */
static void expected_test_rows(size_t n, long long k, uint64_t seed, uint8_t *keep) {
    uint32_t *idx = malloc(n * sizeof *idx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(idx);
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    hs_rng r;
    hs_rng_init(&r, seed, hs_rng_stream(HS_STREAM_TEST, 0));
    hs_rng_permute(&r, idx, n);
    memset(keep, 0, n);
    for (long long j = 0; j < k; j++) keep[idx[j]] = 1;
    free(idx);
}

/* Load o, printing the error when it fails. */
static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test) {
    hs_error err = {0};
    hs_code rc = hs_data_load(o, train, test, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  %s\n  hint: %s\n  trace: %s\n", err.msg, err.hint, err.trace);
    return rc;
}

/* Expect o to fail with code and a message containing want (and the hint hint, if not NULL);
 * both sets must come back zeroed. */
static void expect_load_fail(const hs_data_opts *o, hs_code code, const char *want, const char *hint) {
    hs_error err = {0};
    hs_dataset train = {.n = 7}, test = {.n = 7};
    CU_ASSERT_EQUAL(hs_data_load(o, &train, &test, &err), code);
    HS_ASSERT_CONTAINS(err.msg, want);
    if (hint) HS_ASSERT_CONTAINS(err.hint, hint);
    HS_ASSERT_CONTAINS(err.trace, "src/data/");
    CU_ASSERT(train.x == NULL && train.y == NULL && train.n == 0 && train.dim == 0);
    CU_ASSERT(test.x == NULL && test.y == NULL && test.n == 0 && test.dim == 0);
}

/* Is every row of a (with its label) also in b, in the same order? (a subsequence test; both
 * sets keep file order, so one pass suffices) */
static int rows_contained(const hs_dataset *a, const hs_dataset *b) {
    long long j = 0;
    size_t bytes = (size_t)a->dim * sizeof(float);
    for (long long i = 0; i < a->n; i++) {
        while (j < b->n && (b->y[j] != a->y[i] || memcmp(b->x + j * b->dim, a->x + i * a->dim, bytes) != 0)) j++;
        if (j == b->n) return 0;
        j++;
    }
    return 1;
}

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

/* ================================================================ Gaussian mixture */

/* Class means of d (classes x dim, in double). */
static double *class_means(const hs_dataset *d) {
    double *m = calloc((size_t)d->classes * d->dim, sizeof *m);
    long long *n = calloc((size_t)d->classes, sizeof *n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    for (long long i = 0; i < d->n; i++) {
        n[d->y[i]]++;
        for (int k = 0; k < d->dim; k++) m[d->y[i] * d->dim + k] += d->x[i * d->dim + k];
    }
    for (int c = 0; c < d->classes; c++)
        for (int k = 0; k < d->dim; k++) m[c * d->dim + k] /= n[c] ? (double)n[c] : 1.0;
    free(n);
    return m;
}

static double distance(const double *a, const double *b, int dim) {
    double s = 0;
    for (int k = 0; k < dim; k++) s += (a[k] - b[k]) * (a[k] - b[k]);
    return sqrt(s);
}

/* Mean squared deviation of every value from its class mean: the noise variance. */
static double noise_variance(const hs_dataset *d, const double *means) {
    double s = 0;
    for (long long i = 0; i < d->n; i++)
        for (int k = 0; k < d->dim; k++) {
            double e = d->x[i * d->dim + k] - means[d->y[i] * d->dim + k];
            s += e * e;
        }
    return s / ((double)d->n * d->dim);
}

/* Tolerances below are 4-5 standard errors at 2000 or more samples per class. */
static void test_gaussian_simplex(void) {
    hs_data_opts o = {
        .kind = "gaussian", .seed = 7, .per_class = 2000, .classes = 4, .dim = 10, .separation = 3.0};
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test), HS_OK);
    CU_ASSERT(train.n == 8000 && train.dim == 10 && train.classes == 4);
    CU_ASSERT(train.channels == 0 && train.height == 0 && train.width == 0);
    CU_ASSERT_EQUAL(test.n, 8000);
    int order_ok = 1; /* class after class */
    for (long long i = 0; i < train.n; i++) order_ok &= train.y[i] == i / 2000 && test.y[i] == i / 2000;
    CU_ASSERT(order_ok);

    for (int s = 0; s < 2; s++) {
        const hs_dataset *d = s ? &test : &train;
        double *m = class_means(d);
        int far = 0; /* mean_c = 3 / sqrt(2) e_c */
        for (int c = 0; c < 4; c++)
            for (int k = 0; k < 10; k++) far += fabs(m[c * 10 + k] - (k == c ? 3.0 / sqrt(2.0) : 0.0)) > 0.1;
        CU_ASSERT_EQUAL(far, 0);
        for (int a = 0; a < 4; a++)
            for (int b = a + 1; b < 4; b++) CU_ASSERT_DOUBLE_EQUAL(distance(m + a * 10, m + b * 10, 10), 3.0, 0.15);
        CU_ASSERT_DOUBLE_EQUAL(noise_variance(d, m), 1.0, 0.03);
        free(m);
    }

    /* train and test are independent draws: their noise is uncorrelated, row by row */
    double *m = class_means(&train), cross = 0, tt = 0, ss = 0;
    for (long long i = 0; i < train.n; i++)
        for (int k = 0; k < 10; k++) {
            double a = train.x[i * 10 + k] - m[train.y[i] * 10 + k], b = test.x[i * 10 + k] - m[test.y[i] * 10 + k];
            cross += a * b;
            tt += a * a;
            ss += b * b;
        }
    free(m);
    CU_ASSERT(fabs(cross / sqrt(tt * ss)) < 0.02);
    hs_dataset_free(&train);
    hs_dataset_free(&test);
}

static void test_gaussian_low_dim(void) {
    /* p < K: a hexagon in dims 0-1 (radius = side for K = 6), the other dims pure noise */
    hs_data_opts o = {
        .kind = "gaussian", .seed = 3, .per_class = 4000, .classes = 6, .dim = 3, .separation = 2.0};
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test), HS_OK);
    double *m = class_means(&train);
    for (int c = 0; c < 6; c++) {
        CU_ASSERT_DOUBLE_EQUAL(distance(m + c * 3, m + (c + 1) % 6 * 3, 3), 2.0, 0.1);
        CU_ASSERT_DOUBLE_EQUAL(hypot(m[c * 3], m[c * 3 + 1]), 2.0, 0.07);
        CU_ASSERT_DOUBLE_EQUAL(m[c * 3 + 2], 0.0, 0.07);
    }
    CU_ASSERT_DOUBLE_EQUAL(m[0], 2.0, 0.07); /* class 0 at angle 0 */
    free(m);
    hs_dataset_free(&train);
    hs_dataset_free(&test);

    /* p = 1: a line centred on 0 */
    o = (hs_data_opts){
        .kind = "gaussian", .seed = 3, .per_class = 4000, .classes = 3, .dim = 1, .separation = 2.5};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test), HS_OK);
    m = class_means(&train);
    CU_ASSERT_DOUBLE_EQUAL(m[0], -2.5, 0.07);
    CU_ASSERT_DOUBLE_EQUAL(m[1], 0.0, 0.07);
    CU_ASSERT_DOUBLE_EQUAL(m[2], 2.5, 0.07);
    CU_ASSERT_DOUBLE_EQUAL(noise_variance(&train, m), 1.0, 0.05);
    free(m);
    hs_dataset_free(&train);
    hs_dataset_free(&test);
}

static void test_gaussian_streams_and_counts(void) {
    hs_data_opts o = {.kind = "gaussian", .seed = 7, .per_class = 100, .classes = 4, .dim = 5, .separation = 3.0};
    hs_dataset a = {0}, a_test = {0}, b = {0}, b_test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &a, &a_test), HS_OK);
    CU_ASSERT_EQUAL_FATAL(load(&o, &b, &b_test), HS_OK);
    CU_ASSERT_EQUAL(memcmp(a.x, b.x, 400 * 5 * sizeof(float)), 0); /* deterministic */
    CU_ASSERT_EQUAL(memcmp(a_test.x, b_test.x, 400 * 5 * sizeof(float)), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a.x, a_test.x, 5 * sizeof(float)), 0);
    hs_dataset_free(&b);
    hs_dataset_free(&b_test);

    /* per class streams: 200 per class starts with the 100 per class draws of each class */
    o.per_class = 200;
    CU_ASSERT_EQUAL_FATAL(load(&o, &b, &b_test), HS_OK);
    for (int c = 0; c < 4; c++)
        CU_ASSERT_EQUAL(memcmp(b.x + c * 200 * 5, a.x + c * 100 * 5, 100 * 5 * sizeof(float)), 0);
    hs_dataset_free(&b);
    hs_dataset_free(&b_test);

    o.per_class = 100;
    o.seed = 8;
    CU_ASSERT_EQUAL_FATAL(load(&o, &b, &b_test), HS_OK);
    CU_ASSERT_NOT_EQUAL(memcmp(a.x, b.x, 5 * sizeof(float)), 0);
    hs_dataset_free(&a);
    hs_dataset_free(&a_test);
    hs_dataset_free(&b);
    hs_dataset_free(&b_test);

    /* n_test split evenly, the remainder to the first classes; imbalanced training counts */
    static const long long counts[3] = {5, 0, 2};
    o = (hs_data_opts){.kind = "gaussian",
                       .seed = 1,
                       .class_counts = counts,
                       .n_test = 11,
                       .classes = 3,
                       .dim = 2,
                       .separation = 1.0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &a, &a_test), HS_OK);
    CU_ASSERT_EQUAL(a.n, 7);
    static const int32_t want_train[7] = {0, 0, 0, 0, 0, 2, 2}, want_test[11] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2};
    CU_ASSERT_EQUAL(memcmp(a.y, want_train, sizeof want_train), 0);
    CU_ASSERT_EQUAL_FATAL(a_test.n, 11);
    CU_ASSERT_EQUAL(memcmp(a_test.y, want_test, sizeof want_test), 0);
    hs_dataset_free(&a);
    hs_dataset_free(&a_test);
    o.n_test = 0; /* as many as the training set, class by class */
    CU_ASSERT_EQUAL_FATAL(load(&o, &a, &a_test), HS_OK);
    CU_ASSERT_EQUAL_FATAL(a_test.n, 7);
    CU_ASSERT_EQUAL(memcmp(a_test.y, want_train, sizeof want_train), 0);
    hs_dataset_free(&a);
    hs_dataset_free(&a_test);

    o = (hs_data_opts){.kind = "gaussian", .seed = 1, .per_class = 10, .classes = 1, .dim = 2, .separation = 1.0};
    expect_load_fail(&o, HS_ERR_VALUE, "data.classes = 1: a mixture needs >= 2 classes", NULL);
    o.classes = 3;
    o.dim = 0;
    expect_load_fail(&o, HS_ERR_VALUE, "data.dim = 0: must be >= 1", NULL);
    o.dim = 2;
    o.separation = -1.0;
    expect_load_fail(&o, HS_ERR_VALUE, "data.separation = -1: must be finite and >= 0", NULL);
    o.separation = NAN;
    expect_load_fail(&o, HS_ERR_VALUE, "data.separation = nan", NULL);
    o.separation = 1.0;
    o.per_class = 100000000;
    o.dim = 100;
    expect_load_fail(&o, HS_ERR_LIMIT, "more than 2^31 values", NULL);
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

/* The registry: every kind found by its name, whole entries, distinct stable codes, the schema's
 * choices in table order, unknown names refused with a hint when one is near. */
static void test_registry(void) {
    size_t n = hs_data_kind_count();
    CU_ASSERT(n >= 14);
    CU_ASSERT_PTR_NULL(hs_data_kind_at(n));
    char choices[1024] = "";
    for (size_t i = 0; i < n; i++) {
        const hs_data_kind *k = hs_data_kind_at(i);
        CU_ASSERT_PTR_EQUAL(hs_data_kind_find(k->name), k);
        CU_ASSERT(k->shape && k->load && k->doc && k->doc[0]);
        for (size_t j = 0; j < i; j++) {
            CU_ASSERT(hs_data_kind_at(j)->code != k->code);
            CU_ASSERT(strcmp(hs_data_kind_at(j)->name, k->name) != 0);
        }
        snprintf(choices + strlen(choices), sizeof choices - strlen(choices), "%s%s", i ? "|" : "", k->name);
        HS_ASSERT_CONTAINS(hs_data_kind_doc(), k->doc);
    }
    CU_ASSERT_STRING_EQUAL(hs_data_kind_choices(), choices);
    const hs_key *key = hs_schema_key((size_t)hs_schema_find("data.kind"));
    CU_ASSERT_STRING_EQUAL(key->choices, choices);
    CU_ASSERT_STRING_EQUAL(key->doc, hs_data_kind_doc());
    /* the codes checkpoints hash: the order of the enum they replaced */
    static const char *const coded[] = {"cfm", "cm", "cc", "fashion_mnist", "cifar10", "gaussian", "rhm",
                                        "srhm", "hierarchy", "partition", "xor", "gated_toy", "gated_fmnist", "mnist"};
    for (int c = 0; c < 14; c++) CU_ASSERT_EQUAL(hs_data_kind_find(coded[c])->code, c);
    hs_error err = {0};
    const hs_data_kind *k = NULL;
    CU_ASSERT_EQUAL(hs_data_kind_lookup("gated_toy", &k, &err), HS_OK);
    CU_ASSERT(k && k->flags & HS_DATA_KIND_GATED_THEORY);
    CU_ASSERT_EQUAL(hs_data_kind_lookup("mnsit", &k, &err), HS_ERR_SPEC);
    CU_ASSERT_PTR_NULL(k);
    HS_ASSERT_CONTAINS(err.msg, "data.kind = mnsit: no such data kind");
    HS_ASSERT_CONTAINS(err.hint, "did you mean mnist?");
    err = (hs_error){0};
    CU_ASSERT_EQUAL(hs_data_kind_lookup("imagenet", &k, &err), HS_ERR_SPEC);
    CU_ASSERT_STRING_EQUAL(err.hint, "");
    CU_ASSERT_PTR_NULL(hs_data_kind_find(NULL));
    /* what callers outside data/ ask */
    hs_data_opts o = {.kind = "srhm", .s = 2, .s0 = 1};
    CU_ASSERT_EQUAL(hs_data_patch(&o), 4);
    hs_rhm_opts ro;
    CU_ASSERT_EQUAL(hs_data_rules(&o, &ro), 1);
    o.kind = "rhm", o.sparsity = HS_RHM_SPARSITY_B;
    CU_ASSERT(hs_data_rules(&o, &ro) == 1 && ro.sparsity == HS_RHM_SPARSITY_A);
    o.kind = "hierarchy";
    CU_ASSERT(hs_data_patch(&o) == 0 && hs_data_rules(&o, &ro) == 0);
    CU_ASSERT(hs_data_kind_has(&o, HS_DATA_KIND_LABEL_LEVELS) && !hs_data_kind_has(&o, HS_DATA_KIND_RICH_LAZY));
    o.kind = "nope";
    CU_ASSERT(!hs_data_kind_has(&o, 0) && hs_data_patch(&o) == 0);
    CU_ASSERT_EQUAL(hs_data_check(&o, &err), HS_ERR_SPEC);
    CU_ASSERT_EQUAL(hs_data_check_files(&o, &err), HS_ERR_SPEC);
}

int main(void) {
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/hsweep-test-data-XXXXXX");
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 2;
    }
    static const hs_test tests[] = {
        {"Fashion-MNIST train images: 60000x28x28, known pixels", test_fashion_train_images},
        {"Fashion-MNIST train labels: 6000 per class", test_fashion_train_labels},
        {"Fashion-MNIST t10k images and labels", test_fashion_test_set},
        {"tiny 2x3 file, plain and gzip", test_tiny_plain_and_gzip},
        {"four dimensions", test_four_dims},
        {"missing file: io error with install hint", test_missing_file},
        {"a directory: io error", test_directory},
        {"empty file", test_empty_file},
        {"bad magic, short magic, compressed twice", test_bad_magic},
        {"unsupported type 0x0d and dimension counts", test_unsupported_header},
        {"zero and absurd sizes refused before allocating", test_absurd_sizes},
        {"truncated header and data, plain and gzip", test_truncated},
        {"trailing bytes after the data", test_trailing_bytes},
        {"gzip cut, bad CRC, garbled", test_broken_gzip},
        {"hs_idx_free twice is safe", test_free_twice},
        {"resize (float) matches PIL mode F", test_resize_matches_pil_float},
        {"resize by hand: constants, identity, block means, ramps", test_resize_by_hand},
        {"resize (bytes) matches PIL mode L bit for bit", test_resize_u8_matches_pil},
        {"ToTensor + Normalize match torch in float32", test_normalisation_matches_torch},
        {"CIFAR-10 batches: records, planes, both splits", test_cifar_load},
        {"CIFAR-10 errors: no path, missing, bad size, bad label", test_cifar_errors},
        {"cc and cifar10 preprocessing on synthetic batches", test_cc_and_cifar10},
        {"cm on a synthetic folder: subsets row by row", test_cm_synthetic},
        {"cm errors: counts, missing files, bad content", test_cm_errors},
        {"mnist: 32x32, MNIST's normalisation, on tiny IDX files", test_mnist_synthetic},
        {"registry: lookup, hints, codes, the schema's choices", test_registry},
        {"gaussian: simplex means, unit noise, independent test set", test_gaussian_simplex},
        {"gaussian: circle and line when p < K", test_gaussian_low_dim},
        {"gaussian: streams, counts, n_test, errors", test_gaussian_streams_and_counts},
        {"cfm: subset, determinism, superset, test split, PIL row", test_cfm_real},
        {"cfm: imbalanced with area resize, too many per class", test_cfm_real_imbalanced_and_errors},
        {"fashion_mnist: 32x32, test row 0 against PIL", test_fashion_mnist_32_real},
        {NULL, NULL},
    };
    int rc = hs_test_main("data", tests);
    remove_tmp_dir();
    return rc;
}
