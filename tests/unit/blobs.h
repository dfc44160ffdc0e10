/* blobs.h - K Gaussian blobs in p dims for the training tests: n_per rows per class, class k
 * shifted by `shift` along axis k % p, from their own RNG stream (so these tests do not depend
 * on the dataset module). Free with hs_dataset_free. */
#ifndef HSWEEP_TEST_BLOBS_H
#define HSWEEP_TEST_BLOBS_H

#include <stdlib.h>
#include <string.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "testing.h"

static void test_blobs(hs_dataset *d, int K, int p, int n_per, uint64_t seed, double shift) {
    memset(d, 0, sizeof *d);
    d->n = (long long)K * n_per, d->dim = p, d->classes = K;
    d->x = malloc((size_t)d->n * (size_t)p * sizeof *d->x);
    d->y = malloc((size_t)d->n * sizeof *d->y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d->x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d->y);
    hs_rng r;
    hs_rng_init(&r, seed, 99);
    for (long long i = 0; i < d->n; i++) {
        int k = (int)(i % K);
        d->y[i] = k;
        for (int j = 0; j < p; j++) d->x[i * p + j] = (float)(hs_rng_normal(&r) + (j == k % p ? shift : 0.0));
    }
}

#endif
