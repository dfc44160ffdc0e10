/* conv_direct.h - the pieces the two convolution paths share (internal to src/nn): the geometry of
 * a kernel tap and the direct kernel's entry points (conv_direct.c); conv.c plans and dispatches. */
#ifndef HSWEEP_NN_CONV_DIRECT_H
#define HSWEEP_NN_CONV_DIRECT_H

#include "hsweep/ops.h"

/* Padding along H: none for 1-D (H = KH = 1). */
static inline int hs_conv_pad_h(const hs_conv_shape *s) { return s->H == 1 && s->KH == 1 ? 0 : s->pad; }

/* Outputs o in [*lo, *hi) whose tap k reads inside the input: 0 <= o st - p + k d < n. */
static inline void hs_conv_tap_range(int n, int out, int k, int st, int p, int d, int *lo, int *hi) {
    const int a = p - k * d, b = n - 1 + p - k * d; /* o st >= a and o st <= b */
    int l = a <= 0 ? 0 : (a + st - 1) / st, h = b < 0 ? 0 : b / st + 1;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l, *hi = h;
}

/* out [B x C_out x OH x OW] = conv(in, W) + b (b may be NULL); no scratch. */
void hs_conv_direct_forward(float *out, const float *in, const float *W, const float *b, const hs_conv_shape *s);

/* dW (overwritten), db and din when not NULL; no scratch. */
void hs_conv_direct_backward(float *din, float *dW, float *db, const float *dout, const float *in, const float *W,
                             const hs_conv_shape *s);

/* The direct kernel's code: 0 = automatic (the vector kernels where the CPU has AVX-512 and the
 * kernel has at most 32 taps along W and 64 in all), 1 = the portable loops as compiled for the
 * baseline, 2 = the same loops compiled for AVX-512. For tests and benchmarks; not thread-safe. */
void hs_conv_direct_force(int path);

#endif
