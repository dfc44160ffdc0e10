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

/* The transforms' code: 0 = automatic (the intrinsics of conv_winograd_x86.c where they apply, else
 * the loops compiled for AVX-512 or AVX2 where the CPU has it), 1 = the loops as compiled for the
 * baseline, 2 = automatic without the intrinsics. For tests and benchmarks; not thread-safe. */
void hs_conv_winograd_force(int path);

/* The run transforms as AVX-512 intrinsics (conv_winograd_x86.c), for conv_winograd.c: the same
 * bits as its loops. hs_wino_x86_ok: non-zero when the CPU has AVX-512 and a plane's rows have at
 * most 16 tiles (tw), the only planes they take; eo: HS_WINO_X86_WORK(th, tw) floats. */
#define HS_WINO_X86_WORK(th, tw) (16 * ((size_t)(th) + 1) * (size_t)(tw))
int hs_wino_x86_ok(int tw);
void hs_wino_x86_in(float *V, const float *x, int nb, int C, int H, int W, int th, int tw, size_t T, float *eo);
void hs_wino_x86_out(float *y, const float *M, const float *b, int nb, int K, int H, int W, int th, int tw, size_t T,
                     float *rows);
void hs_wino_x86_dout(float *M, const float *y, int nb, int K, int H, int W, int th, int tw, size_t T, float *eo);
void hs_wino_x86_din(float *x, const float *dV, int nb, int C, int H, int W, int th, int tw, size_t T, float *eo);

#endif
