/* conv_winograd1d.h - the 1-D Winograd convolution path (internal to src/nn; conv_winograd1d.c):
 * kernel 3, stride 1, dilation 1, pad 1, one group, 1-D (H = KH = 1). conv.c plans and
 * dispatches; the rule that picks it is at hs_conv_plan. */
#ifndef HSWEEP_NN_CONV_WINOGRAD1D_H
#define HSWEEP_NN_CONV_WINOGRAD1D_H

#include <stddef.h>

#include "hsweep/ops.h"

/* Non-zero when the path can compute the shape (whatever the channel counts). */
int hs_conv_winograd1d_fits(const hs_conv_shape *s);

/* Output positions a tile of the shape's path computes: 2 (F(2,3)) or 4 (F(4,3)), from the
 * shape's length alone (the fewer products) unless forced (hs_conv_winograd1d_force). */
int hs_conv_winograd1d_tile(const hs_conv_shape *s);

/* Floats of scratch forward and backward need for a shape the path fits (B, C_in, C_out, W). */
size_t hs_conv_winograd1d_work(const hs_conv_shape *s);

/* out [B x C_out x W] = conv(in [B x C_in x W], W [C_out x C_in x 3]) + b (b may be NULL). */
void hs_conv_winograd1d_forward(float *out, const float *in, const float *W, const float *b, const hs_conv_shape *s,
                                float *work);

/* dW [C_out x C_in x 3] (overwritten), db [C_out] and din [B x C_in x W] when not NULL. */
void hs_conv_winograd1d_backward(float *din, float *dW, float *db, const float *dout, const float *in,
                                 const float *W, const hs_conv_shape *s, float *work);

/* The tile: 0 = from the length (the default), 2 = always F(2,3), 4 = always F(4,3). Set it
 * before hs_conv_plan_path (the scratch depends on it). For tests and benchmarks; not
 * thread-safe. */
void hs_conv_winograd1d_force(int m);

#endif
