/* gated_fmnist.c - the data kind gated_fmnist: the routing task on the 10x10 Fashion-MNIST items
 * of cfm, pixel-permuted per input module and label-permuted per output module
 * (include/hsweep/data.h, "xor, the routing task").
 */
#include <stdlib.h>

#include "../internal.h"
#include "hsweep/rng.h"

#define FMNIST_PIXELS 100
#define FMNIST_CLASSES 10

/* pi_i or sigma_j: the identity for module 0, else a shuffle with (HS_STREAM_DATA, base + m). */
static void module_perm(uint64_t seed, uint32_t base, int m, uint32_t *perm, size_t n) {
    for (size_t k = 0; k < n; k++) perm[k] = (uint32_t)k;
    if (m == 0) return;
    hs_rng rng;
    hs_rng_init(&rng, seed, hs_rng_stream(HS_STREAM_DATA, base + (uint32_t)m));
    hs_rng_permute(&rng, perm, n);
}

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    HS_TRY(err, hs_gate_check(o, err));
    long long n_items;
    HS_TRY(err, hs_image_counts(&hs_image_fashion_10x10, o, &n_items, err));
    int M = o->modules, K = o->active, dim = FMNIST_PIXELS + 2;
    HS_TRY(err, hs_gate_alloc(o, n_items, dim, FMNIST_CLASSES, FMNIST_CLASSES, train, test, err));
    hs_dataset items = {0};
    uint32_t *pix = malloc((size_t)M * FMNIST_PIXELS * sizeof *pix);
    uint32_t *lab = malloc((size_t)M * FMNIST_CLASSES * sizeof *lab);
    hs_code rc = pix && lab ? HS_OK : HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %d permutations", 2 * M);
    if (rc == HS_OK) rc = hs_image_items(&hs_image_fashion_10x10, o, &items, err);
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
                int a = hs_gate_active(M, K, i, j);
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

static hs_code shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) {
    long long M = o->modules, K = o->active;
    HS_TRY(err, hs_gate_check(o, err));
    long long items;
    HS_TRY(err, hs_image_counts(&hs_image_fashion_10x10, o, &items, err));
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

/* The training split of Fashion-MNIST alone: the test rows are the items on other pathways. */
static hs_code check_files(const hs_data_opts *o, hs_error *err) {
    return hs_image_check_files(&hs_image_fashion_10x10, o, 1, err);
}

const hs_data_kind hs_data_kind_gated_fmnist = {
    .name = "gated_fmnist",
    .doc = "the routing task on the Fashion-MNIST items of cfm, pixel- and label-permuted per module",
    .code = 12,
    .classes = 10,
    .shape = shape,
    .load = load,
    .check_files = check_files,
};
