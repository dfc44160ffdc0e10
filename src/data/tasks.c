/* tasks.c - the small tasks of the learning-dynamics experiments (the "xor, the routing task"
 * section of include/hsweep/data.h): XOR for rich vs lazy learning, and the routing task of gated
 * deep linear networks, on the 4-item toy and on Fashion-MNIST items.
 *
 * These sets carry real targets t (MSE against t rather than one-hot(y)); y is kept meaningful
 * (the sign class for XOR, the item for the toy, the permuted label for Fashion-MNIST) so that
 * accuracies and per-class tools still work.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "internal.h"

#define XOR_MAX_REPEATS (1 << 28)
#define FMNIST_PIXELS 100
#define FMNIST_CLASSES 10

/* The sets here hold a test fraction or a pathway split, never a sampled test size. */
static hs_code refuse_n_test(const hs_data_opts *o, const char *kind, const char *instead, hs_error *err) {
    if (o->n_test == 0) return HS_OK;
    HS_FAIL(err, HS_ERR_VALUE, "data.n_test = %lld with data.kind %s: the test set is fixed by the task", o->n_test,
            kind);
    return hs_error_hint(err, "%s", instead);
}

/* ================================================================ xor */

static const float xor_x[4][2] = {{-1, -1}, {-1, 1}, {1, -1}, {1, 1}};
static const float xor_t[4] = {-1, 1, 1, -1};

/* Checks; *test_per_point = the copies of each point held out (R > 1). */
static hs_code xor_sizes(const hs_data_opts *o, long long *test_per_point, hs_error *err) {
    HS_TRY(err, refuse_n_test(o, "xor", "data.repeats > 1 with data.test_fraction splits the noisy copies", err));
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

static hs_code load_xor(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    long long tpp;
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

/* ================================================================ the routing task */

static const float toy_y[4][7] = {
    {6, 4, 0, 3, 0, 0, 0}, {6, 4, 0, 0, 3, 0, 0}, {6, 0, 4, 0, 0, 3, 0}, {6, 0, 4, 0, 0, 0, 3}};

/* Pathway i -> j is trained under "K plus-minus mod": (j - i) mod M in [-floor((K-1)/2), floor(K/2)]. */
static int pathway_active(int M, int K, int i, int j) {
    int offset = ((j - i) % M + M) % M;
    return offset <= K / 2 || offset >= M - (K - 1) / 2;
}

static hs_code gate_check(const hs_data_opts *o, const char *kind, hs_error *err) {
    HS_TRY(err, refuse_n_test(o, kind, "the test rows are the inactive pathways (set data.active)", err));
    if (o->modules < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.modules = %d: needs >= 1 module", o->modules);
    if (o->modules > HS_GATED_MAX_MODULES)
        return HS_FAIL(err, HS_ERR_LIMIT, "data.modules = %d: more than %d", o->modules, HS_GATED_MAX_MODULES);
    if (o->active < 1 || o->active > o->modules)
        return HS_FAIL(err, HS_ERR_VALUE, "data.active = %d with data.modules = %d: must be in 1..%d", o->active,
                       o->modules, o->modules);
    return HS_OK;
}

/* Rows of train and test for `items` items: the active and the inactive pathways (with the
 * count checks of hs_data_alloc). */
static hs_code alloc_routed(const hs_data_opts *o, long long items, int dim, int t_dim, int classes,
                            hs_dataset *train, hs_dataset *test, hs_error *err) {
    long long M = o->modules, K = o->active;
    HS_TRY(err, hs_data_alloc(train, items * M * K, dim, t_dim, classes, err));
    HS_TRY(err, hs_data_alloc(test, items * M * (M - K), dim, t_dim, classes, err));
    train->modules = test->modules = o->modules;
    return HS_OK;
}

static hs_code load_gated_toy(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    HS_TRY(err, gate_check(o, "gated_toy", err));
    HS_TRY(err, alloc_routed(o, 4, 6, 7, 4, train, test, err));
    int M = o->modules, K = o->active;
    long long n[2] = {0, 0};
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            int a = pathway_active(M, K, i, j);
            hs_dataset *d = a ? train : test;
            for (int item = 0; item < 4; item++) {
                long long r = n[a]++;
                float *x = d->x + r * 6;
                for (int k = 0; k < 4; k++) x[k] = k == item ? 1.0f : 0.0f;
                x[4] = (float)i;
                x[5] = (float)j;
                memcpy(d->t + r * 7, toy_y[item], sizeof toy_y[item]);
                d->y[r] = item;
            }
        }
    return HS_OK;
}

/* pi_i or sigma_j: the identity for module 0, else a shuffle with (HS_STREAM_DATA, base + m). */
static void module_perm(uint64_t seed, uint32_t base, int m, uint32_t *perm, size_t n) {
    for (size_t k = 0; k < n; k++) perm[k] = (uint32_t)k;
    if (m == 0) return;
    hs_rng rng;
    hs_rng_init(&rng, seed, hs_rng_stream(HS_STREAM_DATA, base + (uint32_t)m));
    hs_rng_permute(&rng, perm, n);
}

static hs_code load_gated_fmnist(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    HS_TRY(err, gate_check(o, "gated_fmnist", err));
    long long n_items;
    HS_TRY(err, hs_data_image_counts(o, &n_items, err));
    int M = o->modules, K = o->active, dim = FMNIST_PIXELS + 2;
    HS_TRY(err, alloc_routed(o, n_items, dim, FMNIST_CLASSES, FMNIST_CLASSES, train, test, err));
    hs_dataset items = {0};
    uint32_t *pix = malloc((size_t)M * FMNIST_PIXELS * sizeof *pix);
    uint32_t *lab = malloc((size_t)M * FMNIST_CLASSES * sizeof *lab);
    hs_code rc = pix && lab ? HS_OK : HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %d permutations", 2 * M);
    if (rc == HS_OK) rc = hs_data_cfm_items(o, &items, err);
    if (rc == HS_OK && (items.n != n_items || items.dim != FMNIST_PIXELS))
        rc = HS_FAIL(err, HS_ERR_INTERNAL, "gated_fmnist: cfm gave %lld items of %d pixels, expected %lld of %d",
                     items.n, items.dim, n_items, FMNIST_PIXELS);
    if (rc == HS_OK) {
        for (int m = 0; m < M; m++) {
            module_perm(o->seed, HS_GATED_PIXEL_STREAM, m, pix + (size_t)m * FMNIST_PIXELS, FMNIST_PIXELS);
            module_perm(o->seed, HS_GATED_LABEL_STREAM, m, lab + (size_t)m * FMNIST_CLASSES, FMNIST_CLASSES);
        }
        long long n[2] = {0, 0};
        for (int i = 0; i < M; i++)
            for (int j = 0; j < M; j++) {
                int a = pathway_active(M, K, i, j);
                hs_dataset *d = a ? train : test;
                const uint32_t *pi = pix + (size_t)i * FMNIST_PIXELS, *sigma = lab + (size_t)j * FMNIST_CLASSES;
                for (long long item = 0; item < n_items; item++) {
                    long long r = n[a]++;
                    float *x = d->x + (size_t)r * (size_t)dim, *t = d->t + (size_t)r * FMNIST_CLASSES;
                    const float *pixels = items.x + (size_t)item * FMNIST_PIXELS;
                    for (int p = 0; p < FMNIST_PIXELS; p++) x[p] = pixels[pi[p]];
                    x[FMNIST_PIXELS] = (float)i;
                    x[FMNIST_PIXELS + 1] = (float)j;
                    int label = (int)sigma[items.y[item]];
                    for (int c = 0; c < FMNIST_CLASSES; c++) t[c] = c == label ? 1.0f : 0.0f;
                    d->y[r] = label;
                }
            }
    }
    free(pix);
    free(lab);
    hs_dataset_free(&items);
    if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
    return rc;
}

/* ================================================================ entry points */

hs_code hs_data_load_task(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    switch (o->kind) {
    case HS_DATA_XOR: return load_xor(o, train, test, err);
    case HS_DATA_GATED_TOY: return load_gated_toy(o, train, test, err);
    case HS_DATA_GATED_FMNIST: return load_gated_fmnist(o, train, test, err);
    default: return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_load_task: kind %d is not a task", (int)o->kind);
    }
}

hs_code hs_data_shape_task(const hs_data_opts *o, hs_data_shape *out, hs_error *err) {
    *out = (hs_data_shape){0};
    long long M = o->modules, K = o->active;
    switch (o->kind) {
    case HS_DATA_XOR: {
        long long tpp, R = o->repeats;
        HS_TRY(err, xor_sizes(o, &tpp, err));
        *out = (hs_data_shape){.dim = 2, .classes = 2, .t_dim = 1, .n_train = 4 * (R == 1 ? 1 : R - tpp),
                               .n_test = 4 * (R == 1 ? 1 : tpp)};
        return HS_OK;
    }
    case HS_DATA_GATED_TOY:
        HS_TRY(err, gate_check(o, "gated_toy", err));
        *out = (hs_data_shape){.dim = 6, .classes = 4, .t_dim = 7, .n_train = 4 * M * K, .n_test = 4 * M * (M - K),
                               .modules = (int)M};
        return HS_OK;
    case HS_DATA_GATED_FMNIST: {
        HS_TRY(err, gate_check(o, "gated_fmnist", err));
        long long items;
        HS_TRY(err, hs_data_image_counts(o, &items, err));
        /* items <= 2^31 and M <= 4096: no overflow; the limit of hs_data_alloc, set by set */
        long long sets[2] = {items * M * K, items * M * (M - K)};
        for (int k = 0; k < 2; k++)
            if (sets[k] > HS_DATA_MAX_VALUES / (FMNIST_PIXELS + 2))
                return HS_FAIL(err, HS_ERR_LIMIT, "%lld rows of %d values: more than 2^31 values (8 GiB) in one set",
                               sets[k], FMNIST_PIXELS + 2);
        *out = (hs_data_shape){.dim = FMNIST_PIXELS + 2, .classes = FMNIST_CLASSES, .t_dim = FMNIST_CLASSES,
                               .n_train = items * M * K, .n_test = items * M * (M - K), .modules = (int)M};
        return HS_OK;
    }
    default: return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_shape_task: kind %d is not a task", (int)o->kind);
    }
}
