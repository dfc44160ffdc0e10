/* conv_winograd.h - the Winograd F(2x2, 3x3) path of the 2-D convolution (internal to src/nn;
 * conv_winograd.c): 3x3 taps, stride 1, padding 1, dilation 1, one group. conv.c plans and
 * dispatches. */
#ifndef HSWEEP_NN_CONV_WINOGRAD_H
#define HSWEEP_NN_CONV_WINOGRAD_H

#include <stddef.h>

#include "hsweep/ops.h"

/* Non-zero when the shape is one the Winograd path computes (the one above, 2-D). */
int hs_conv_winograd_fits(const hs_conv_shape *s);

/* Floats of scratch forward and backward need (s fits, OH and OW set). */
size_t hs_conv_winograd_work(const hs_conv_shape *s);

/* out [B x C_out x H x W] = conv(in, W) + b (b may be NULL). */
void hs_conv_winograd_forward(float *out, const float *in, const float *W, const float *b, const hs_conv_shape *s,
                              float *work);

/* From dout [B x C_out x H x W] and the forward's input: dW (overwritten), db and din [B x C_in x
 * H x W] (overwritten) when not NULL. */
void hs_conv_winograd_backward(float *din, float *dW, float *db, const float *dout, const float *in, const float *W,
                               const hs_conv_shape *s, float *work);

/* The transforms' code: 0 = automatic (compiled for AVX-512 or AVX2 where the CPU has it), 1 = as
 * compiled for the baseline. For tests and benchmarks; not thread-safe. */
void hs_conv_winograd_force(int path);

#endif
