/* test_train_protocol.c - the training-protocol options of the deep conv net protocols: the
 * per-tensor mean L2 penalty (train.decay_on mean) against its hand-derived update, and seeded
 * crops and flips (train.augment) against the transform their documented draws name. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/train/augment.h"
#include "blobs.h"
#include "config_of.h"
#include "hsweep/rng.h"
#include "hsweep/train.h"
#include "testing.h"

/* ================================================================ decay_on: mean */

/* The state at record point 0 (the initialised net) and at the last one, with the tensor table. */
typedef struct two_states {
    float *first, *last;
    size_t size;
    hs_tensor tensors[16];
    int n_tensors;
} two_states;

static hs_code keep_two(void *ctx, const hs_record *rec, hs_model *net, const hs_dataset *train, hs_error *err) {
    (void)train, (void)err;
    two_states *s = ctx;
    s->size = hs_model_state_size(net);
    float **dst = rec->epoch == 0 ? &s->first : &s->last;
    free(*dst);
    *dst = malloc(s->size * sizeof **dst);
    if (!*dst) return HS_ERR_NOMEM;
    hs_model_state_get(net, *dst);
    s->n_tensors = net->n_tensors < 16 ? net->n_tensors : 16;
    memcpy(s->tensors, net->tensors, (size_t)s->n_tensors * sizeof *s->tensors);
    return HS_OK;
}

/* One full-batch SGD step with decay_on mean and weight_decay wd against the same step without
 * decay: the gradients at the initial point are equal, so tensor t's parameters differ by exactly
 * -lr 2 wd p0 / numel(t) (up to float rounding of the two updates). */
static void test_decay_mean_update(void) {
    hs_dataset d = {0};
    test_blobs(&d, 3, 4, 10, 7, 2.0);
    two_states s[2] = {{0}};
    const double lr = 0.1, wd = 0.5;
    for (int k = 0; k < 2; k++) {
        hs_train_config c;
        config_of(k ? "base: {seed: 3, model: {width: 5, depth: 0, norm: none}, train: {epochs: 1, batch: 30, lr: 0.1, "
                      "weight_decay: 0.5, decay_on: mean}}\n"
                    : "base: {seed: 3, model: {width: 5, depth: 0, norm: none}, train: {epochs: 1, batch: 30, lr: 0.1}}\n",
                  &c);
        CU_ASSERT_EQUAL(c.decay_on, k ? HS_DECAY_MEAN : HS_DECAY_ALL);
        hs_train_hooks h = {.ctx = &s[k], .on_record = keep_two};
        hs_train_result res = {0};
        hs_error err = {0};
        CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, NULL, &h, &res, &err), HS_OK);
        CU_ASSERT_EQUAL(res.steps, 1);
        hs_train_result_free(&res);
        hs_train_config_free(&c);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(s[0].last);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s[1].last);
    CU_ASSERT(memcmp(s[0].first, s[1].first, s[0].size * sizeof(float)) == 0); /* same seed, same init */
    CU_ASSERT(s[1].n_tensors >= 3);
    int checked = 0;
    for (int t = 0; t < s[1].n_tensors; t++) {
        const hs_tensor *ts = &s[1].tensors[t];
        for (size_t i = 0; i < ts->size; i++) {
            size_t j = ts->offset + i;
            double want = -lr * 2.0 * wd / (double)ts->size * s[1].first[j];
            double got = (double)s[1].last[j] - (double)s[0].last[j];
            CU_ASSERT(fabs(got - want) <= 1e-6 + 1e-4 * fabs(want));
            checked++;
        }
    }
    CU_ASSERT(checked > 20);
    for (int k = 0; k < 2; k++) free(s[k].first), free(s[k].last);
    hs_dataset_free(&d);
}

/* ================================================================ augment */

/* n images of C x H x W with distinct values, class i % 3. */
static void images(hs_dataset *d, int n, int C, int H, int W) {
    memset(d, 0, sizeof *d);
    d->n = n, d->dim = C * H * W, d->classes = 3, d->channels = C, d->height = H, d->width = W;
    d->x = malloc((size_t)n * (size_t)d->dim * sizeof *d->x);
    d->y = malloc((size_t)n * sizeof *d->y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d->x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d->y);
    for (int i = 0; i < n; i++) {
        d->y[i] = i % 3;
        for (int j = 0; j < d->dim; j++) d->x[(size_t)i * d->dim + j] = (float)(1 + i * 1000 + j);
    }
    d->x[5] = -7.0f; /* channel 0's darkest value: the padding of channel 0 */
}

static hs_train_config aug_config(int kind, int pad) {
    hs_train_config c = {0};
    c.augment = kind, c.crop_pad = pad, c.data.kind = "test";
    return c;
}

/* The crop-and-flip of x [C x H x W] at (dy, dx, f), written straight from torchvision's
 * definition: pad by `pad` with fill, take the H x W window at (dy, dx), mirror columns if f. */
static void reference_transform(const float *x, float *out, int C, int H, int W, int pad, int dy, int dx, int f,
                                const float *fill) {
    int PH = H + 2 * pad, PW = W + 2 * pad;
    float *padded = malloc((size_t)C * PH * PW * sizeof *padded);
    for (int c = 0; c < C; c++)
        for (int i = 0; i < PH; i++)
            for (int j = 0; j < PW; j++) {
                int si = i - pad, sj = j - pad;
                padded[((size_t)c * PH + i) * PW + j] =
                    si < 0 || si >= H || sj < 0 || sj >= W ? fill[c] : x[((size_t)c * H + si) * W + sj];
            }
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++) {
            float row[64];
            for (int j = 0; j < W; j++) row[j] = padded[((size_t)c * PH + i + dy) * PW + j + dx];
            for (int j = 0; j < W; j++) out[((size_t)c * H + i) * W + j] = f ? row[W - 1 - j] : row[j];
        }
    free(padded);
}

/* Each row equals the reference transform at the draws augment.h documents: stream
 * (HS_STREAM_AUGMENT, epoch), words 4 (start + r) .. + 2, each (u32 * n) >> 32. */
static void test_augment_matches_its_draws(void) {
    const int C = 2, H = 4, W = 5, n = 12, pad = 2;
    hs_dataset d;
    images(&d, n, C, H, W);
    hs_train_config c = aug_config(HS_AUG_CROP_FLIP, pad);
    train_augment a;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(aug_init(&a, &c, &d, &err), HS_OK);
    CU_ASSERT_EQUAL(a.fill[0], -7.0f);
    CU_ASSERT_EQUAL(a.fill[1], (float)(1 + H * W)); /* row 0's first value of channel 1 */
    float *xb = malloc((size_t)n * d.dim * sizeof *xb), *want = malloc((size_t)d.dim * sizeof *want);
    const uint64_t seed = 11;
    const long long epoch = 3;
    const size_t start = 40;
    memcpy(xb, d.x, (size_t)n * d.dim * sizeof *xb);
    aug_apply(&a, xb, n, seed, epoch, start);
    int flips = 0, moved = 0;
    for (int r = 0; r < n; r++) {
        hs_rng rng;
        hs_rng_init(&rng, seed, hs_rng_stream(HS_STREAM_AUGMENT, (uint32_t)epoch));
        hs_rng_seek(&rng, 4 * (start + (size_t)r));
        int dy = (int)(((uint64_t)hs_rng_u32(&rng) * (2 * pad + 1)) >> 32);
        int dx = (int)(((uint64_t)hs_rng_u32(&rng) * (2 * pad + 1)) >> 32);
        int f = (int)(((uint64_t)hs_rng_u32(&rng) * 2) >> 32);
        flips += f, moved += dy != pad || dx != pad;
        reference_transform(d.x + (size_t)r * d.dim, want, C, H, W, pad, dy, dx, f, a.fill);
        CU_ASSERT(memcmp(xb + (size_t)r * d.dim, want, (size_t)d.dim * sizeof *want) == 0);
    }
    CU_ASSERT(flips > 0 && flips < n); /* both branches exercised on this seed */
    CU_ASSERT(moved > 0);
    /* a different epoch draws differently; the same call again gives the same rows */
    float *xb2 = malloc((size_t)n * d.dim * sizeof *xb2);
    memcpy(xb2, d.x, (size_t)n * d.dim * sizeof *xb2);
    aug_apply(&a, xb2, n, seed, epoch, start);
    CU_ASSERT(memcmp(xb, xb2, (size_t)n * d.dim * sizeof *xb) == 0);
    memcpy(xb2, d.x, (size_t)n * d.dim * sizeof *xb2);
    aug_apply(&a, xb2, n, seed, epoch + 1, start);
    CU_ASSERT(memcmp(xb, xb2, (size_t)n * d.dim * sizeof *xb) != 0);
    /* a row's draw depends on its position in the epoch, not on how the epoch was cut into batches */
    memcpy(xb2, d.x, (size_t)n * d.dim * sizeof *xb2);
    aug_apply(&a, xb2, 5, seed, epoch, start);
    aug_apply(&a, xb2 + (size_t)5 * d.dim, n - 5, seed, epoch, start + 5);
    CU_ASSERT(memcmp(xb, xb2, (size_t)n * d.dim * sizeof *xb) == 0);
    free(xb), free(xb2), free(want);
    aug_free(&a);
    hs_dataset_free(&d);
}

/* crop alone never mirrors, flip alone never shifts; over 4000 draws each flip and each of the
 * 2 pad + 1 offsets comes up with its probability (bounds 5 sigma wide: a wrong range fails). */
static void test_augment_kinds_and_frequencies(void) {
    const int C = 1, H = 3, W = 4, pad = 1, n = 4000;
    hs_dataset d;
    images(&d, 1, C, H, W);
    float *xb = malloc((size_t)n * d.dim * sizeof *xb);
    int kinds[] = {HS_AUG_CROP, HS_AUG_FLIP, HS_AUG_CROP_FLIP};
    for (int k = 0; k < 3; k++) {
        hs_train_config c = aug_config(kinds[k], pad);
        train_augment a;
        hs_error err = {0};
        CU_ASSERT_EQUAL_FATAL(aug_init(&a, &c, &d, &err), HS_OK);
        for (int r = 0; r < n; r++) memcpy(xb + (size_t)r * d.dim, d.x, (size_t)d.dim * sizeof *xb);
        aug_apply(&a, xb, n, 5, 0, 0);
        int count[3][3][2] = {{{0}}}, unmatched = 0;
        float *want = malloc((size_t)d.dim * sizeof *want);
        for (int r = 0; r < n; r++) {
            int found = 0;
            for (int dy = 0; dy < 3 && !found; dy++)
                for (int dx = 0; dx < 3 && !found; dx++)
                    for (int f = 0; f < 2 && !found; f++) {
                        reference_transform(d.x, want, C, H, W, pad, dy, dx, f, a.fill);
                        if (!memcmp(want, xb + (size_t)r * d.dim, (size_t)d.dim * sizeof *want))
                            count[dy][dx][f]++, found = 1;
                    }
            unmatched += !found;
        }
        free(want);
        CU_ASSERT_EQUAL(unmatched, 0);
        int flipped = 0, off_centre = 0;
        for (int dy = 0; dy < 3; dy++)
            for (int dx = 0; dx < 3; dx++) flipped += count[dy][dx][1], off_centre += (dy != 1 || dx != 1) * (count[dy][dx][0] + count[dy][dx][1]);
        if (kinds[k] == HS_AUG_CROP) CU_ASSERT_EQUAL(flipped, 0);
        if (kinds[k] == HS_AUG_FLIP) CU_ASSERT_EQUAL(off_centre, 0);
        if (kinds[k] != HS_AUG_CROP) CU_ASSERT(fabs(flipped - n / 2.0) < 5 * sqrt(n * 0.25));
        if (kinds[k] != HS_AUG_FLIP) CU_ASSERT(fabs(off_centre - n * 8 / 9.0) < 5 * sqrt(n * 8 / 81.0));
        aug_free(&a);
    }
    free(xb);
    hs_dataset_free(&d);
}

/* Data without an image layout is refused, naming the key; none needs nothing. */
static void test_augment_refuses_non_images(void) {
    hs_dataset d = {0};
    test_blobs(&d, 2, 6, 3, 1, 1.0);
    train_augment a;
    hs_error err = {0};
    hs_train_config c = aug_config(HS_AUG_FLIP, 4);
    CU_ASSERT_EQUAL(aug_init(&a, &c, &d, &err), HS_ERR_VALUE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "train.augment"));
    c = aug_config(HS_AUG_NONE, 4);
    CU_ASSERT_EQUAL(aug_init(&a, &c, &d, &err), HS_OK);
    aug_free(&a);
    hs_dataset_free(&d);
}

/* A training with augmentation is deterministic and differs from one without. */
static void test_augment_in_training(void) {
    hs_dataset d;
    images(&d, 24, 1, 4, 4);
    for (int i = 0; i < d.n * d.dim; i++) d.x[i] = (float)sin(0.37 * i); /* bounded inputs */
    two_states s[3] = {{0}};
    const char *yaml[3] = {
        "base: {seed: 2, model: {width: 6, depth: 0}, train: {epochs: 2, batch: 8, lr: 0.05, augment: crop_flip, "
        "crop_pad: 1}}\n",
        "base: {seed: 2, model: {width: 6, depth: 0}, train: {epochs: 2, batch: 8, lr: 0.05, augment: crop_flip, "
        "crop_pad: 1}}\n",
        "base: {seed: 2, model: {width: 6, depth: 0}, train: {epochs: 2, batch: 8, lr: 0.05}}\n"};
    for (int k = 0; k < 3; k++) {
        hs_train_config c;
        config_of(yaml[k], &c);
        hs_train_hooks h = {.ctx = &s[k], .on_record = keep_two};
        hs_train_result res = {0};
        hs_error err = {0};
        CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, NULL, &h, &res, &err), HS_OK);
        hs_train_result_free(&res);
        hs_train_config_free(&c);
    }
    CU_ASSERT(memcmp(s[0].last, s[1].last, s[0].size * sizeof(float)) == 0);
    CU_ASSERT(memcmp(s[0].last, s[2].last, s[0].size * sizeof(float)) != 0);
    for (int k = 0; k < 3; k++) free(s[k].first), free(s[k].last);
    hs_dataset_free(&d);
}

int main(void) {
    static const hs_test tests[] = {
        {"decay_on mean: the update of a per-tensor mean L2 term", test_decay_mean_update},
        {"augment: rows equal the transform of their documented draws", test_augment_matches_its_draws},
        {"augment: crop, flip, crop_flip and their frequencies", test_augment_kinds_and_frequencies},
        {"augment: non-image data refused", test_augment_refuses_non_images},
        {"augment: deterministic in a training, and it changes the training", test_augment_in_training},
        {NULL, NULL},
    };
    return hs_test_main("train_protocol", tests);
}
