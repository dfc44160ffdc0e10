/* test_idx.c - the IDX loader (hs_idx_load): the real Fashion-MNIST files (known pixel sums
 * and labels), tiny hand-made files (plain and gzip, two and four dimensions), and one broken
 * file per error message (missing, a directory, empty, bad magic, unsupported headers, absurd
 * sizes, truncated, trailing bytes, broken gzip). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hsweep/data.h"
#include "testing.h"
#include "tmpfiles.h"

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

int main(void) {
    if (tmp_dir_make("/tmp/hsweep-test-idx-XXXXXX") != 0) return 2;
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
        {NULL, NULL},
    };
    int rc = hs_test_main("idx", tests);
    tmp_dir_remove();
    return rc;
}
