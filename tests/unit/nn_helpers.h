/* nn_helpers.h - the small networks the engine tests share: their options (5 inputs, 3 outputs,
 * torch init, room for MAXB rows), parameters moved away from their initial symmetries, and a
 * random batch (inputs, labels, real targets). Static inline so a program using only some of them
 * builds with -Werror. */
#ifndef HSWEEP_NN_HELPERS_H
#define HSWEEP_NN_HELPERS_H

#include <stdint.h>

#include "hsweep/nn.h"
#include "hsweep/rng.h"

#define MAXB 8 /* rows of the largest test batch */

static inline hs_mlp_opts small_opts(int n_hidden, const int *widths, hs_norm norm, hs_act act, int bias) {
    return (hs_mlp_opts){.in_dim = 5, .out_dim = 3, .n_hidden = n_hidden, .widths = widths, .norm = norm,
                         .act = act, .bias = bias, .bn_eps = 1e-5f, .bn_momentum = 0.1f, .init = HS_INIT_TORCH,
                         .seed = 11, .max_batch = MAXB};
}

/* Parameters away from their initial symmetries (gamma 1, beta 0) so that every term counts. */
static inline void randomise_params(hs_mlp *m, uint64_t seed) {
    hs_rng r;
    hs_rng_init(&r, seed, hs_rng_stream(HS_STREAM_RECORD, 0));
    for (int t = 0; t < m->n_tensors; t++) {
        const hs_tensor *T = &m->tensors[t];
        for (size_t i = 0; i < T->size; i++) {
            double u = 2 * hs_rng_uniform(&r) - 1;
            m->params[T->offset + i] = (float)(T->kind == HS_TENSOR_BN_GAMMA ? 1 + 0.5 * u : u);
        }
    }
}

static inline void random_batch(float *x, int32_t *y, float *targets, int B, int D, int K, uint64_t seed) {
    hs_rng r;
    hs_rng_init(&r, seed, hs_rng_stream(HS_STREAM_DATA, 0));
    for (int i = 0; i < B * D; i++) x[i] = (float)hs_rng_normal(&r);
    for (int i = 0; i < B; i++) y[i] = (int32_t)hs_rng_below(&r, (uint64_t)K);
    for (int i = 0; i < B * K; i++) targets[i] = (float)(2 * hs_rng_uniform(&r) - 1);
}

#endif
