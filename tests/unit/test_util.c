/* test_util.c - SHA-256 against FIPS 180-4 vectors, strings, edit distance, error traces. */
#include <stdlib.h>

#include "hsweep/status.h"
#include "hsweep/util.h"
#include "testing.h"

static void hex(const uint8_t d[32], char out[65]) {
    for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha_of(const char *msg, char out[65]) {
    uint8_t d[32];
    hs_sha256(msg, strlen(msg), d);
    hex(d, out);
}

static void test_sha256_vectors(void) {
    char h[65];
    sha_of("", h);
    CU_ASSERT_STRING_EQUAL(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha_of("abc", h);
    CU_ASSERT_STRING_EQUAL(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", h);
    CU_ASSERT_STRING_EQUAL(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* 55 and 56 bytes straddle the padding boundary */
    char m55[56], m56[57];
    memset(m55, 'a', 55), m55[55] = 0;
    memset(m56, 'a', 56), m56[56] = 0;
    sha_of(m55, h);
    CU_ASSERT_STRING_EQUAL(h, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    sha_of(m56, h);
    CU_ASSERT_STRING_EQUAL(h, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
}

static void test_sha256_million_a_incremental(void) {
    /* one million 'a' fed in uneven chunks equals the FIPS vector */
    hs_sha256_ctx c;
    hs_sha256_init(&c);
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    size_t left = 1000000;
    for (size_t step = 1; left > 0; step = step % 997 + 1) {
        size_t n = step < left ? step : left;
        hs_sha256_update(&c, chunk, n);
        left -= n;
    }
    uint8_t d[32];
    hs_sha256_final(&c, d);
    char h[65];
    hex(d, h);
    CU_ASSERT_STRING_EQUAL(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_prefix(void) {
    uint8_t d[32];
    hs_sha256("abc", 3, d);
    CU_ASSERT_EQUAL(hs_sha256_prefix64(d), 0xba7816bf8f01cfeaull);
}

static void test_str(void) {
    hs_str s = {0};
    for (int i = 0; i < 1000; i++) CU_ASSERT_EQUAL(hs_str_printf(&s, "%d,", i), HS_OK);
    CU_ASSERT_EQUAL(s.len, strlen(s.buf));
    CU_ASSERT_EQUAL(strncmp(s.buf, "0,1,2,", 6), 0);
    CU_ASSERT_STRING_EQUAL(s.buf + s.len - 4, "999,");
    hs_str_reset(&s);
    CU_ASSERT_EQUAL(s.len, 0);
    CU_ASSERT_EQUAL(hs_str_json(&s, "a\"b\\c\nd\x01"), HS_OK);
    CU_ASSERT_STRING_EQUAL(s.buf, "\"a\\\"b\\\\c\\nd\\u0001\"");
    hs_str_free(&s);
    CU_ASSERT_PTR_NULL(s.buf);
}

static void test_edit_distance(void) {
    CU_ASSERT_EQUAL(hs_edit_distance("kitten", "sitting"), 3);
    CU_ASSERT_EQUAL(hs_edit_distance("", "abc"), 3);
    CU_ASSERT_EQUAL(hs_edit_distance("model.dept", "model.depth"), 1);
    CU_ASSERT_EQUAL(hs_edit_distance("same", "same"), 0);
}

static hs_code inner(hs_error *err) { return HS_FAIL(err, HS_ERR_VALUE, "bad value %d", 7); }
static hs_code outer(hs_error *err) {
    HS_TRY(err, inner(err));
    return HS_OK;
}

static void test_status_trace(void) {
    hs_error err = {0};
    CU_ASSERT_EQUAL(outer(&err), HS_ERR_VALUE);
    CU_ASSERT_EQUAL(err.code, HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "bad value 7");
    /* raised in inner, then crossed the HS_TRY in outer: two entries, innermost first */
    HS_ASSERT_CONTAINS(err.trace, "tests/unit/test_util.c:");
    HS_ASSERT_CONTAINS(err.trace, " <- tests/unit/test_util.c:");
    CU_ASSERT_STRING_EQUAL(hs_code_to_string(HS_ERR_SPEC), "spec");
    CU_ASSERT_STRING_EQUAL(hs_code_to_string((hs_code)99), "unknown");
    hs_error_hint(&err, "try %s", "this");
    CU_ASSERT_STRING_EQUAL(err.hint, "try this");
    hs_error_clear(&err);
    CU_ASSERT_EQUAL(err.code, HS_OK);
    CU_ASSERT_STRING_EQUAL(err.msg, "");
    CU_ASSERT_EQUAL(HS_FAIL(NULL, HS_ERR_IO, "no error struct"), HS_ERR_IO); /* NULL is allowed */
}

int main(void) {
    static const hs_test tests[] = {
        {"sha256 FIPS vectors", test_sha256_vectors},
        {"sha256 million a, uneven chunks", test_sha256_million_a_incremental},
        {"sha256 64-bit prefix", test_sha256_prefix},
        {"growable string and JSON escaping", test_str},
        {"edit distance", test_edit_distance},
        {"status codes, hints and traces", test_status_trace},
        {NULL, NULL},
    };
    return hs_test_main("util", tests);
}
