/* datasets.h - what the data tests of several programs share: torch's normalisation (with
 * values torch printed), the training and test rows hs_data_load promises for a seed, loading
 * with the error printed, expecting a load to fail with both sets zeroed, and a subsequence test
 * over rows. Static inline (and tables) so a program using only some of them builds with -Werror. */
#ifndef HSWEEP_DATASETS_H
#define HSWEEP_DATASETS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "testing.h"

/* ToTensor + Normalize of byte q as torch computes them, in float32: (q / 255 - mean) / std. */
static inline float torch_norm(int q, double mean, double std) {
    return ((float)q / 255.0f - (float)mean) / (float)std;
}

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


/* The training rows the header promises, as a 0/1 mask over the split: per class c, the class's
 * rows in file order shuffled with (HS_STREAM_DATA, c) of seed, the first counts[c] kept. */
static inline void expected_train_rows(const uint8_t *labels, size_t n, const long long *counts, uint64_t seed,
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
static inline void expected_test_rows(size_t n, long long k, uint64_t seed, uint8_t *keep) {
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
static inline hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test) {
    hs_error err = {0};
    hs_code rc = hs_data_load(o, train, test, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  %s\n  hint: %s\n  trace: %s\n", err.msg, err.hint, err.trace);
    return rc;
}

/* Expect o to fail with code and a message containing want (and the hint hint, if not NULL);
 * both sets must come back zeroed. */
static inline void expect_load_fail(const hs_data_opts *o, hs_code code, const char *want, const char *hint) {
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
static inline int rows_contained(const hs_dataset *a, const hs_dataset *b) {
    long long j = 0;
    size_t bytes = (size_t)a->dim * sizeof(float);
    for (long long i = 0; i < a->n; i++) {
        while (j < b->n && (b->y[j] != a->y[i] || memcmp(b->x + j * b->dim, a->x + i * a->dim, bytes) != 0)) j++;
        if (j == b->n) return 0;
        j++;
    }
    return 1;
}

#endif
