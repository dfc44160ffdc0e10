/* gated_perm.c - the data kind gated_perm, the neural race reduction's image task
 * "permute_input_permute_target" (gated-dln-experiments.md) on 28x28 Fashion-MNIST: input
 * domain i's transform is a seeded pixel permutation (i = 0 too); the rest is the image routing
 * tasks' (data/gated_images.c). */
#include "../internal.h"
#include "hsweep/rng.h"

/* Domain i's pixels: dst = src[perm_i], perm_i drawn from the data seed's stream for domain i. */
static void permute(const hs_data_opts *o, int i, int M, const float *src, float *dst, long long n) {
    (void)M;
    uint32_t perm[HS_GATED_PIXELS];
    hs_rng rng;
    for (int p = 0; p < HS_GATED_PIXELS; p++) perm[p] = (uint32_t)p;
    hs_rng_init(&rng, o->seed, hs_rng_stream(HS_STREAM_DATA, HS_GATED_PIXEL_STREAM + (uint32_t)i));
    hs_rng_permute(&rng, perm, HS_GATED_PIXELS);
    for (long long item = 0; item < n; item++) {
        const float *s = src + (size_t)item * HS_GATED_PIXELS;
        float *x = dst + (size_t)item * HS_GATED_PIXELS;
        for (int p = 0; p < HS_GATED_PIXELS; p++) x[p] = s[perm[p]];
    }
}

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    return hs_gated_images_load(o, permute, train, test, err);
}

const hs_data_kind hs_data_kind_gated_perm = {
    .name = "gated_perm",
    .doc = "routing on 28x28 Fashion-MNIST: pixel permutation per input, lexicographic label map per output",
    .code = 14,
    .classes = 10,
    .shape = hs_gated_images_shape,
    .load = load,
    .check_files = hs_gated_images_check_files,
};
