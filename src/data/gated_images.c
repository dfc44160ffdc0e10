/* gated_images.c - what the image routing tasks of the neural race reduction (Saxe, Sodhani &
 * Lewallen, ICML 2022; shared/reference/gated-dln-experiments.md) share, on full 28x28
 * Fashion-MNIST, which stands in for MNIST (not packaged for offline machines): everything but
 * the input transform T_i of domain i, which is each kind's own (data/kinds/gated_perm.c,
 * gated_rot.c). Output domain j relabels class c as the position of c in the j-th permutation of
 * 0..9 in lexicographic order, and the gate is "K plus mod permute" (include/hsweep/data.h).
 */
#include <stdlib.h>
#include <string.h>

#include "hsweep/rng.h"
#include "internal.h"

#define PERM_CLASSES 10
#define PERM_DIM (HS_GATED_PIXELS + 2)
#define PERM_PIXELS HS_GATED_PIXELS

/* Fashion-MNIST at its own 28x28, pixels v / 255 in [0, 1] (no normalisation, as the paper). */
static const hs_image_spec spec_28 = {.name = "Fashion-MNIST",
                                      .default_dir = HS_FASHION_MNIST_DIR,
                                      .hint = HS_FASHION_HINT,
                                      .src_c = 1,
                                      .src_h = HS_GATED_SIDE,
                                      .src_w = HS_GATED_SIDE,
                                      .channels = 1,
                                      .out_h = HS_GATED_SIDE,
                                      .out_w = HS_GATED_SIDE,
                                      .fixed_bilinear = 1,
                                      .mean = {0.0},
                                      .std = {1.0}};

int hs_gate_plus_permute_active(int M, int K, const uint32_t *col, int i, int j) {
    return (int)((col[j] + (uint32_t)M - (uint32_t)i) % (uint32_t)M) < K;
}

void hs_lex_label_map(long long j, int map[10]) {
    int pool[10], fact[10] = {1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880};
    for (int c = 0; c < 10; c++) pool[c] = c;
    for (int pos = 0, left = 10; pos < 10; pos++, left--) { /* Lehmer digits of j, most significant first */
        long long f = fact[left - 1];
        int d = (int)(j / f);
        j %= f;
        int c = pool[d];
        for (int q = d; q < left - 1; q++) pool[q] = pool[q + 1];
        map[c] = pos;
    }
}

hs_code hs_gated_images_shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) {
    HS_TRY(err, hs_gate_check(o, err)); /* M <= 4096 < 10!: every output domain has its own map */
    long long items, M = o->modules, K = o->active;
    HS_TRY(err, hs_image_counts(&spec_28, o, &items, err));
    long long sets[2] = {items * M * K, items * M * (M - K)};
    for (int k = 0; k < 2; k++)
        if (sets[k] > HS_DATA_MAX_VALUES / PERM_DIM)
            return HS_FAIL(err, HS_ERR_LIMIT, "%s: %lld rows of %d values: more than 2^31 values (8 GiB) in one set "
                           "(the rows are item x pathway pairs; lower data.per_class or data.modules)",
                           o->kind, sets[k], PERM_DIM);
    *out = (hs_data_shape){.dim = PERM_DIM, .classes = PERM_CLASSES, .t_dim = PERM_CLASSES, .n_train = sets[0],
                           .n_test = sets[1], .modules = (int)M};
    return HS_OK;
}

/* The M transformed copies of every item [M x items x 784], then the rows of both sets. */
hs_code hs_gated_images_load(const hs_data_opts *o, hs_gated_transform transform, hs_dataset *train, hs_dataset *test,
                             hs_error *err) {
    hs_data_shape sh;
    HS_TRY(err, hs_gated_images_shape(o, &sh, err));
    const int M = o->modules, K = o->active;
    hs_dataset items = {0};
    HS_TRY(err, hs_image_items(&spec_28, o, &items, err));
    const long long n = items.n;
    hs_code rc = hs_gate_alloc(o, n, PERM_DIM, PERM_CLASSES, PERM_CLASSES, train, test, err);
    float *tx = malloc((size_t)M * (size_t)n * PERM_PIXELS * sizeof *tx);
    uint32_t *col = malloc((size_t)M * sizeof *col);
    int *maps = malloc((size_t)M * PERM_CLASSES * sizeof *maps);
    if (rc == HS_OK && (!tx || !col || !maps))
        rc = HS_FAIL(err, HS_ERR_NOMEM, "%s: out of memory for %d transformed copies of %lld images", o->kind, M, n);
    if (rc == HS_OK && items.dim != PERM_PIXELS)
        rc = HS_FAIL(err, HS_ERR_INTERNAL, "%s: items of %d pixels, expected %d", o->kind, items.dim, PERM_PIXELS);
    if (rc == HS_OK) {
        hs_rng rng;
        for (int i = 0; i < M; i++) {
            transform(o, i, M, items.x, tx + (size_t)i * (size_t)n * PERM_PIXELS, n);
            hs_lex_label_map(i, maps + (size_t)i * PERM_CLASSES);
        }
        for (int j = 0; j < M; j++) col[j] = (uint32_t)j;
        hs_rng_init(&rng, o->seed, hs_rng_stream(HS_STREAM_DATA, HS_GATED_GATE_STREAM));
        hs_rng_permute(&rng, col, (size_t)M);
        long long r_of[2] = {0, 0};
        for (int i = 0; i < M; i++)
            for (int j = 0; j < M; j++) {
                const int a = hs_gate_plus_permute_active(M, K, col, i, j);
                hs_dataset *d = a ? train : test;
                const int *map = maps + (size_t)j * PERM_CLASSES;
                for (long long item = 0; item < n; item++) {
                    const long long r = r_of[a]++;
                    float *x = d->x + (size_t)r * PERM_DIM, *t = d->t + (size_t)r * PERM_CLASSES;
                    memcpy(x, tx + ((size_t)i * (size_t)n + (size_t)item) * PERM_PIXELS, PERM_PIXELS * sizeof *x);
                    x[PERM_PIXELS] = (float)i;
                    x[PERM_PIXELS + 1] = (float)j;
                    const int label = map[items.y[item]];
                    for (int c = 0; c < PERM_CLASSES; c++) t[c] = c == label ? 1.0f : 0.0f;
                    d->y[r] = label;
                }
            }
    }
    free(tx), free(col), free(maps);
    hs_dataset_free(&items);
    if (rc != HS_OK) {
        hs_dataset_free(train), hs_dataset_free(test);
        hs_error_trace(err, __FILE__, __LINE__);
    }
    return rc;
}

/* The training split alone: the test rows are the same items on the held-out pathways. */
hs_code hs_gated_images_check_files(const hs_data_opts *o, hs_error *err) {
    return hs_image_check_files(&spec_28, o, 1, err);
}
