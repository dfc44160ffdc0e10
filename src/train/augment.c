/* augment.c - see augment.h. */
#include "augment.h"

#include <stdlib.h>
#include <string.h>

#include "hsweep/rng.h"

hs_code aug_init(train_augment *a, const hs_train_config *c, const hs_dataset *train, hs_error *err) {
    memset(a, 0, sizeof *a);
    a->kind = c->augment;
    if (a->kind == HS_AUG_NONE) return HS_OK;
    int C = train->channels, H = train->height, W = train->width;
    if (C < 1 || H < 2 || W < 2 || (long long)C * H * W != train->dim) {
        HS_FAIL(err, HS_ERR_VALUE, "train.augment: crops and flips need images (data with height and width >= 2); "
                "data.kind %s has %d x %d x %d", c->data.kind, C, H, W);
        return hs_error_hint(err, "use train.augment none for this data");
    }
    a->pad = c->crop_pad, a->C = C, a->H = H, a->W = W;
    a->fill = malloc((size_t)C * sizeof *a->fill);
    a->row = malloc((size_t)train->dim * sizeof *a->row);
    if (!a->fill || !a->row) {
        aug_free(a);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the augmentation buffers");
    }
    size_t plane = (size_t)H * W;
    for (int ch = 0; ch < C; ch++) {
        float m = train->x[(size_t)ch * plane];
        for (long long i = 0; i < train->n; i++) {
            const float *p = train->x + (size_t)i * train->dim + (size_t)ch * plane;
            for (size_t j = 0; j < plane; j++)
                if (p[j] < m) m = p[j];
        }
        a->fill[ch] = m;
    }
    return HS_OK;
}

void aug_free(train_augment *a) {
    free(a->fill);
    free(a->row);
    memset(a, 0, sizeof *a);
}

/* An integer in [0, n) from one 32-bit word (multiply-shift): one word per draw, so every row's
 * draws sit at a fixed offset of the stream; the bias is below n / 2^32. */
static int draw_below(hs_rng *r, int n) { return (int)(((uint64_t)hs_rng_u32(r) * (uint64_t)n) >> 32); }

void aug_apply(const train_augment *a, float *xb, int b, uint64_t seed, long long e, size_t start) {
    if (a->kind == HS_AUG_NONE) return;
    const int C = a->C, H = a->H, W = a->W, pad = a->pad;
    const int crop = a->kind == HS_AUG_CROP || a->kind == HS_AUG_CROP_FLIP;
    const int flip = a->kind == HS_AUG_FLIP || a->kind == HS_AUG_CROP_FLIP;
    const size_t dim = (size_t)C * H * W;
    hs_rng rng;
    hs_rng_init(&rng, seed, hs_rng_stream(HS_STREAM_AUGMENT, (uint32_t)e));
    for (int r = 0; r < b; r++) {
        hs_rng_seek(&rng, 4 * ((uint64_t)start + (uint64_t)r));
        int dy = draw_below(&rng, 2 * pad + 1), dx = draw_below(&rng, 2 * pad + 1), f = draw_below(&rng, 2);
        if (!crop) dy = dx = pad;
        if (!flip) f = 0;
        if (dy == pad && dx == pad && !f) continue;
        float *x = xb + (size_t)r * dim;
        memcpy(a->row, x, dim * sizeof *x);
        for (int ch = 0; ch < C; ch++) {
            const float *src = a->row + (size_t)ch * H * W;
            float *dst = x + (size_t)ch * H * W;
            for (int i = 0; i < H; i++) {
                int si = i + dy - pad;
                for (int j = 0; j < W; j++) {
                    int sj = (f ? W - 1 - j : j) + dx - pad; /* flip after the crop: read the mirrored column */
                    dst[(size_t)i * W + j] =
                        si < 0 || si >= H || sj < 0 || sj >= W ? a->fill[ch] : src[(size_t)si * W + sj];
                }
            }
        }
    }
}
