/* xor.c - the data kind xor: the rich/lazy XOR task, 4 points in {-1,1}^2 with real targets -1/+1,
 * optionally repeated with noise and split by data.test_fraction (include/hsweep/data.h, "xor,
 * the routing task").
 */
#include <math.h>
#include <stdlib.h>

#include "../internal.h"
#include "hsweep/rng.h"

#define XOR_MAX_REPEATS (1 << 28)

static const float xor_x[4][2] = {{-1, -1}, {-1, 1}, {1, -1}, {1, 1}};
static const float xor_t[4] = {-1, 1, 1, -1};

/* Checks; *test_per_point = the copies of each point held out (R > 1). */
static hs_code xor_sizes(const hs_data_opts *o, long long *test_per_point, hs_error *err) {
    HS_TRY(err, hs_task_refuse_n_test(o, "data.repeats > 1 with data.test_fraction splits the noisy copies", err));
    if (o->repeats < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.repeats = %d: needs >= 1 copy", o->repeats);
    if (o->repeats > XOR_MAX_REPEATS)
        return HS_FAIL(err, HS_ERR_LIMIT, "data.repeats = %d: more than 2^28 copies per point", o->repeats);
    *test_per_point = 0;
    if (o->repeats == 1) return HS_OK; /* the 4 points; noise and test_fraction unused */
    if (!(o->noise >= 0.0) || isinf(o->noise))
        return HS_FAIL(err, HS_ERR_VALUE, "data.noise = %g: must be finite and >= 0", o->noise);
    if (!(o->test_fraction >= 0.0 && o->test_fraction < 1.0))
        return HS_FAIL(err, HS_ERR_VALUE, "data.test_fraction = %g: must be in [0, 1)", o->test_fraction);
    *test_per_point = (long long)floor((double)o->repeats * o->test_fraction + 0.5);
    if (*test_per_point >= o->repeats)
        return HS_FAIL(err, HS_ERR_VALUE, "data.test_fraction = %g of data.repeats = %d holds out every copy",
                       o->test_fraction, o->repeats);
    return HS_OK;
}

static void xor_row(hs_dataset *d, long long r, int p, float x1, float x2) {
    d->x[2 * r] = x1;
    d->x[2 * r + 1] = x2;
    d->t[r] = xor_t[p];
    d->y[r] = xor_t[p] > 0;
}

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    long long tpp = 0;
    HS_TRY(err, xor_sizes(o, &tpp, err));
    long long R = o->repeats;
    HS_TRY(err, hs_data_alloc(train, 4 * (R == 1 ? 1 : R - tpp), 2, 1, 2, err));
    HS_TRY(err, hs_data_alloc(test, 4 * (R == 1 ? 1 : tpp), 2, 1, 2, err));
    if (R == 1) {
        for (int p = 0; p < 4; p++) {
            xor_row(train, p, p, xor_x[p][0], xor_x[p][1]);
            xor_row(test, p, p, xor_x[p][0], xor_x[p][1]);
        }
        return HS_OK;
    }
    size_t nR = (size_t)o->repeats; /* >= 2 here */
    uint32_t *order = malloc(nR * sizeof *order);
    uint8_t *is_test = malloc(nR);
    if (!order || !is_test) {
        free(order);
        free(is_test);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the split of %lld copies", R);
    }
    long long n_train = 0, n_test = 0;
    for (int p = 0; p < 4; p++) {
        hs_rng rng;
        hs_rng_init(&rng, o->seed, hs_rng_stream(HS_STREAM_TEST, (uint32_t)p));
        for (size_t k = 0; k < nR; k++) order[k] = (uint32_t)k;
        hs_rng_permute(&rng, order, nR);
        for (size_t k = 0; k < nR; k++) is_test[k] = 0;
        for (long long k = 0; k < tpp; k++) is_test[order[k]] = 1;
        hs_rng_init(&rng, o->seed, hs_rng_stream(HS_STREAM_DATA, (uint32_t)p));
        for (size_t k = 0; k < nR; k++) {
            float x1 = (float)(xor_x[p][0] + o->noise * hs_rng_normal(&rng));
            float x2 = (float)(xor_x[p][1] + o->noise * hs_rng_normal(&rng));
            if (is_test[k]) xor_row(test, n_test++, p, x1, x2);
            else xor_row(train, n_train++, p, x1, x2);
        }
    }
    free(order);
    free(is_test);
    return HS_OK;
}

static hs_code shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) {
    long long tpp = 0, R = o->repeats;
    HS_TRY(err, xor_sizes(o, &tpp, err));
    *out = (hs_data_shape){.dim = 2, .classes = 2, .t_dim = 1, .n_train = 4 * (R == 1 ? 1 : R - tpp),
                           .n_test = 4 * (R == 1 ? 1 : tpp)};
    return HS_OK;
}

const hs_data_kind hs_data_kind_xor = {
    .name = "xor",
    .doc = "the 4-point rich/lazy XOR task (real targets)",
    .code = 10,
    .flags = HS_DATA_KIND_RICH_LAZY,
    .classes = 10,
    .shape = shape,
    .load = load,
};
