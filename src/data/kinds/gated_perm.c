/* gated_perm.c - the data kinds gated_perm and gated_rot: the image experiments of the neural
 * race reduction (Saxe, Sodhani & Lewallen, ICML 2022; shared/reference/gated-dln-experiments.md)
 * on full 28x28 Fashion-MNIST, which stands in for MNIST (not packaged for offline machines).
 * Both kinds share everything but the input transform T_i, so they share this file:
 *   gated_perm  "permute_input_permute_target": T_i a seeded pixel permutation (i = 0 too);
 *   gated_rot   "rotate_input_permute_target" on raw pixels: T_i a rotation by 270 i / M degrees
 *               (the paper's CIFAR-10 through a frozen ResNet-20 is not available offline).
 * Output domain j relabels class c as the position of c in the j-th permutation of 0..9 in
 * lexicographic order, and the gate is "K plus mod permute" (include/hsweep/data.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "hsweep/rng.h"

#define PERM_SIDE 28
#define PERM_PIXELS (PERM_SIDE * PERM_SIDE)
#define PERM_CLASSES 10
#define PERM_DIM (PERM_PIXELS + 2)

/* Fashion-MNIST at its own 28x28, pixels v / 255 in [0, 1] (no normalisation, as the paper). */
static const hs_image_spec spec_28 = {.name = "Fashion-MNIST",
                                      .default_dir = HS_FASHION_MNIST_DIR,
                                      .hint = HS_FASHION_HINT,
                                      .src_c = 1,
                                      .src_h = PERM_SIDE,
                                      .src_w = PERM_SIDE,
                                      .channels = 1,
                                      .out_h = PERM_SIDE,
                                      .out_w = PERM_SIDE,
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

/* Bilinear rotation of a 28x28 image by deg degrees about its centre (13.5, 13.5), zero outside:
 * out(r, c) = in at (cy + sin a dx + cos a dy, cx + cos a dx - sin a dy), dx = c - cx, dy = r - cy,
 * i.e. the picture turns counter-clockwise as seen on screen. */
static void rotate(const float *in, float *out, double deg) {
    const double a = deg * 3.14159265358979323846 / 180.0, ca = cos(a), sa = sin(a), cx = 0.5 * (PERM_SIDE - 1);
    for (int r = 0; r < PERM_SIDE; r++)
        for (int c = 0; c < PERM_SIDE; c++) {
            const double dx = c - cx, dy = r - cx, sx = cx + ca * dx - sa * dy, sy = cx + sa * dx + ca * dy;
            const double fx = floor(sx), fy = floor(sy), wx = sx - fx, wy = sy - fy;
            double v = 0;
            for (int q = 0; q < 4; q++) {
                const int yy = (int)fy + (q >> 1), xx = (int)fx + (q & 1);
                const double w = (q >> 1 ? wy : 1 - wy) * (q & 1 ? wx : 1 - wx);
                if (yy >= 0 && yy < PERM_SIDE && xx >= 0 && xx < PERM_SIDE && w != 0) v += w * in[yy * PERM_SIDE + xx];
            }
            out[r * PERM_SIDE + c] = (float)v;
        }
}

static hs_code shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) {
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
static hs_code load_with(const hs_data_opts *o, int rotations, hs_dataset *train, hs_dataset *test, hs_error *err) {
    hs_data_shape sh;
    HS_TRY(err, shape(o, &sh, err));
    const int M = o->modules, K = o->active;
    hs_dataset items = {0};
    HS_TRY(err, hs_image_items(&spec_28, o, &items, err));
    const long long n = items.n;
    hs_code rc = hs_gate_alloc(o, n, PERM_DIM, PERM_CLASSES, PERM_CLASSES, train, test, err);
    float *tx = malloc((size_t)M * (size_t)n * PERM_PIXELS * sizeof *tx);
    uint32_t *perm = malloc(PERM_PIXELS * sizeof *perm), *col = malloc((size_t)M * sizeof *col);
    int *maps = malloc((size_t)M * PERM_CLASSES * sizeof *maps);
    if (rc == HS_OK && (!tx || !perm || !col || !maps))
        rc = HS_FAIL(err, HS_ERR_NOMEM, "%s: out of memory for %d transformed copies of %lld images", o->kind, M, n);
    if (rc == HS_OK && items.dim != PERM_PIXELS)
        rc = HS_FAIL(err, HS_ERR_INTERNAL, "%s: items of %d pixels, expected %d", o->kind, items.dim, PERM_PIXELS);
    if (rc == HS_OK) {
        hs_rng rng;
        for (int i = 0; i < M; i++) {
            float *dst = tx + (size_t)i * (size_t)n * PERM_PIXELS;
            if (!rotations) {
                for (int p = 0; p < PERM_PIXELS; p++) perm[p] = (uint32_t)p;
                hs_rng_init(&rng, o->seed, hs_rng_stream(HS_STREAM_DATA, HS_GATED_PIXEL_STREAM + (uint32_t)i));
                hs_rng_permute(&rng, perm, PERM_PIXELS);
            }
            for (long long item = 0; item < n; item++) {
                const float *src = items.x + (size_t)item * PERM_PIXELS;
                float *x = dst + (size_t)item * PERM_PIXELS;
                if (rotations)
                    rotate(src, x, 270.0 * i / M);
                else
                    for (int p = 0; p < PERM_PIXELS; p++) x[p] = src[perm[p]];
            }
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
    free(tx), free(perm), free(col), free(maps);
    hs_dataset_free(&items);
    if (rc != HS_OK) {
        hs_dataset_free(train), hs_dataset_free(test);
        hs_error_trace(err, __FILE__, __LINE__);
    }
    return rc;
}

static hs_code load_perm(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    return load_with(o, 0, train, test, err);
}

static hs_code load_rot(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    return load_with(o, 1, train, test, err);
}

/* The training split alone: the test rows are the same items on the held-out pathways. */
static hs_code check_files(const hs_data_opts *o, hs_error *err) { return hs_image_check_files(&spec_28, o, 1, err); }

const hs_data_kind hs_data_kind_gated_perm = {
    .name = "gated_perm",
    .doc = "routing on 28x28 Fashion-MNIST: pixel permutation per input, lexicographic label map per output",
    .code = 14,
    .classes = 10,
    .shape = shape,
    .load = load_perm,
    .check_files = check_files,
};

const hs_data_kind hs_data_kind_gated_rot = {
    .name = "gated_rot",
    .doc = "gated_perm with input i rotated by 270 i / M degrees",
    .code = 15,
    .classes = 10,
    .shape = shape,
    .load = load_rot,
    .check_files = check_files,
};
