/* test_rng.c - Philox4x32-10 against Random123's known-answer vectors, the stream layout, and the
 * distributions (fixed seeds: each statistic is a deterministic number checked against bounds
 * of several standard errors, so a wrong generator fails and a right one never flakes). */
#include <math.h>
#include <stdlib.h>

#include "hsweep/rng.h"
#include "testing.h"

static void test_known_answers(void) {
    static const uint32_t kat[3][10] = {
        /* counter[4], key[2], expected[4] (Random123 tests/kat_vectors) */
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6,
         0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420,
         0x24126ea1},
    };
    for (int i = 0; i < 3; i++) {
        uint32_t out[4];
        hs_philox4x32_10(kat[i], kat[i] + 4, out);
        for (int j = 0; j < 4; j++) CU_ASSERT_EQUAL(out[j], kat[i][6 + j]);
    }
}

static void test_stream_layout(void) {
    /* seed -> key, position -> counter words 0-1, stream -> counter words 2-3 */
    hs_rng r;
    hs_rng_init(&r, 0, 0);
    CU_ASSERT_EQUAL(hs_rng_u32(&r), 0x6627e8d5);
    CU_ASSERT_EQUAL(hs_rng_u32(&r), 0xe169c58d);
    uint64_t seed = 0x299f31d0a4093822ull, stream = 0x0370734413198a2eull;
    hs_rng_init(&r, seed, stream);
    hs_rng_seek(&r, 4 * 5ull); /* block 5 */
    uint32_t ctr[4] = {5, 0, 0x13198a2e, 0x03707344}, key[2] = {0xa4093822, 0x299f31d0}, out[4];
    hs_philox4x32_10(ctr, key, out);
    for (int j = 0; j < 4; j++) CU_ASSERT_EQUAL(hs_rng_u32(&r), out[j]);
    CU_ASSERT_EQUAL(hs_rng_stream(HS_STREAM_BATCH, 7), 0x0000000200000007ull);
}

static void test_determinism_seek_and_independence(void) {
    hs_rng a, b, c;
    hs_rng_init(&a, 42, hs_rng_stream(HS_STREAM_INIT, 3));
    hs_rng_init(&b, 42, hs_rng_stream(HS_STREAM_INIT, 3));
    hs_rng_init(&c, 42, hs_rng_stream(HS_STREAM_INIT, 4));
    uint32_t first[16];
    int same_as_c = 0;
    for (int i = 0; i < 16; i++) {
        first[i] = hs_rng_u32(&a);
        CU_ASSERT_EQUAL(first[i], hs_rng_u32(&b));
        same_as_c += first[i] == hs_rng_u32(&c);
    }
    CU_ASSERT_EQUAL(same_as_c, 0);
    for (uint64_t w = 0; w < 16; w++) { /* seeking to word w replays the stream from there */
        hs_rng_seek(&b, w);
        CU_ASSERT_EQUAL(hs_rng_u32(&b), first[w]);
    }
    hs_rng_init(&a, 42, hs_rng_stream(HS_STREAM_INIT, 3));
    CU_ASSERT_EQUAL(hs_rng_u64(&a), (uint64_t)first[0] | (uint64_t)first[1] << 32);
}

static void test_uniform_moments(void) {
    hs_rng r;
    hs_rng_init(&r, 1, hs_rng_stream(HS_STREAM_DATA, 0));
    const int n = 1000000;
    double s = 0, s2 = 0, lo = 1, hi = 0;
    float fmax = 0;
    for (int i = 0; i < n; i++) {
        double u = hs_rng_uniform(&r);
        s += u, s2 += u * u;
        lo = u < lo ? u : lo, hi = u > hi ? u : hi;
        float f = hs_rng_uniformf(&r);
        fmax = f > fmax ? f : fmax;
    }
    double mean = s / n, var = s2 / n - mean * mean;
    /* standard errors: mean 2.9e-4, variance 7.5e-5 */
    CU_ASSERT(fabs(mean - 0.5) < 0.0015);
    CU_ASSERT(fabs(var - 1.0 / 12) < 0.0004);
    CU_ASSERT(lo >= 0 && lo < 1e-4 && hi < 1 && hi > 1 - 1e-4);
    CU_ASSERT(fmax < 1.0f);
}

static void test_normal_moments(void) {
    hs_rng r;
    hs_rng_init(&r, 2, hs_rng_stream(HS_STREAM_INIT, 0));
    const int n = 1000000;
    double m1 = 0, m2 = 0, m4 = 0;
    for (int i = 0; i < n; i++) {
        double z = hs_rng_normal(&r);
        m1 += z, m2 += z * z, m4 += z * z * z * z;
    }
    m1 /= n, m2 /= n, m4 /= n;
    /* standard errors: mean 1e-3, second moment 1.4e-3, fourth moment 9.8e-3 */
    CU_ASSERT(fabs(m1) < 0.005);
    CU_ASSERT(fabs(m2 - 1) < 0.007);
    CU_ASSERT(fabs(m4 - 3) < 0.05);
}

static void test_below_unbiased(void) {
    hs_rng r;
    hs_rng_init(&r, 3, 0);
    long count[10] = {0};
    const int n = 100000;
    for (int i = 0; i < n; i++) count[hs_rng_below(&r, 10)]++;
    double chi2 = 0;
    for (int k = 0; k < 10; k++) chi2 += (count[k] - n / 10.0) * (count[k] - n / 10.0) / (n / 10.0);
    CU_ASSERT(chi2 < 27.88); /* 9 degrees of freedom, p = 0.001 */
    uint64_t big = (1ull << 63) + 1;
    for (int i = 0; i < 1000; i++) CU_ASSERT(hs_rng_below(&r, big) < big);
    CU_ASSERT_EQUAL(hs_rng_below(&r, 1), 0);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void test_permute_uniform(void) {
    /* All 120 orders of 5 items equally likely. One chi-square per seed (119 degrees of freedom,
     * mean 119, sd 15.4); their mean over 10 seeds has sd 4.9, so a bias of a few percent shows
     * while a single unlucky seed cannot fail the test. */
    hs_rng r;
    static long seen[5 * 5 * 5 * 5 * 5];
    const int n = 120000, seeds = 10;
    double chi2_sum = 0;
    for (int seed = 0; seed < seeds; seed++) {
        memset(seen, 0, sizeof seen);
        hs_rng_init(&r, (uint64_t)seed, hs_rng_stream(HS_STREAM_BATCH, 0));
        for (int t = 0; t < n; t++) {
            uint32_t p[5] = {0, 1, 2, 3, 4};
            hs_rng_permute(&r, p, 5);
            seen[(((p[0] * 5 + p[1]) * 5 + p[2]) * 5 + p[3]) * 5 + p[4]]++;
        }
        int orders = 0;
        double chi2 = 0;
        for (int i = 0; i < 3125; i++)
            if (seen[i]) orders++, chi2 += (seen[i] - 1000.0) * (seen[i] - 1000.0) / 1000.0;
        CU_ASSERT_EQUAL(orders, 120);
        CU_ASSERT(chi2 < 220); /* p < 1e-8 for one seed */
        chi2_sum += chi2;
    }
    CU_ASSERT(fabs(chi2_sum / seeds - 119) < 20); /* 4 sd of the mean */
    uint32_t big[1000];
    for (uint32_t i = 0; i < 1000; i++) big[i] = i;
    hs_rng_permute(&r, big, 1000);
    int moved = 0;
    for (uint32_t i = 0; i < 1000; i++) moved += big[i] != i;
    CU_ASSERT(moved > 980); /* a random permutation has ~1 fixed point */
    qsort(big, 1000, sizeof *big, cmp_u32);
    for (uint32_t i = 0; i < 1000; i++) CU_ASSERT_EQUAL(big[i], i);
}

int main(void) {
    static const hs_test tests[] = {
        {"Philox4x32-10 known answers", test_known_answers},
        {"seed/stream/position layout", test_stream_layout},
        {"determinism, seek, independent streams", test_determinism_seek_and_independence},
        {"uniform moments", test_uniform_moments},
        {"normal moments", test_normal_moments},
        {"below(n) without bias", test_below_unbiased},
        {"permutations uniform", test_permute_uniform},
        {NULL, NULL},
    };
    return hs_test_main("rng", tests);
}
