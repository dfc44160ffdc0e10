/*
 * ops.h - the layers of deep convolutional nets as forward/backward pairs on caller-owned
 * buffers (llm.c's way): convolution (1-D and 2-D, stride, padding, dilation, groups, so a
 * depthwise conv is groups = channels), max/avg pooling, global average pooling, BatchNorm over
 * channels, GELU/SiLU/sigmoid, per-channel scaling (the excite half of squeeze-excite), residual
 * add and seeded dropout. The nets built from them are in nets.h; dense layers, BatchNorm1d and
 * ReLU/tanh are in nn.h.
 *
 * Layout: PyTorch's NCHW, row-major: an activation is [B x C x H x W]; a 1-D signal of length L
 * is H = 1, W = L (and a kernel of height 1). A conv weight is [C_out x C_in/groups x KH x KW],
 * its bias [C_out]. float32 data; reductions that feed statistics (BatchNorm means and variances,
 * pooled sums) add each row of a channel in float (16 running lanes) and the rows' lanes in double
 * (BatchNorm on AVX-512 CPUs adds them lane-wise over the rows before reducing the lanes), always
 * in the same order for a shape and CPU, so equal inputs give bit-identical outputs and a
 * statistic over 10^5 values keeps float precision.
 *
 * Training one conv -> BN -> ReLU block on a batch of B 1-D signals (10 channels x 36 positions):
 *
 *     hs_conv_shape cs = {.B = B, .C_in = 10, .H = 1, .W = 36, .C_out = 64, .KH = 1, .KW = 3,
 *                         .stride = 1, .pad = 1, .dilation = 1, .groups = 1};
 *     hs_conv_plan(&cs);                                   // fills OH, OW and the scratch size
 *     float *work = malloc(cs.work * sizeof(float));       // shared by every conv of a net: max work
 *     hs_conv_forward(z, x, W, b, &cs, work);              // z [B x 64 x 1 x 36]
 *     hs_bn2d_forward_train(h, xhat, rstd, z, gamma, beta, rmean, rvar, B, 64, 36, 1e-5f, 0.1f);
 *     hs_act_forward(h, h, (size_t)B * 64 * 36, HS_ACT_RELU);
 *     ... loss ...
 *     hs_act_backward(dh, dh, h, n, HS_ACT_RELU);
 *     hs_bn2d_backward(dz, dgamma, dbeta, dh, xhat, rstd, gamma, B, 64, 36);
 *     hs_conv_backward(dx, dW, db, dz, x, W, &cs, work);   // dW, db overwritten; dx may be NULL
 *
 * None of these allocate. Every backward overwrites its parameter gradients (never accumulates)
 * and writes din unless din is NULL; dout and din may not alias unless a function says so.
 */
#ifndef HSWEEP_OPS_H
#define HSWEEP_OPS_H

#include <stddef.h>
#include <stdint.h>

/* ================================================================ convolution */

/* How a convolution is computed. Every path gives the same function to float rounding; which one
 * runs is chosen from the shape alone (hs_conv_plan), so a run's results never depend on its data. */
typedef enum hs_conv_path {
    HS_CONV_IM2COL = 0, /* im2col + one gemm per (group, run of samples) */
    HS_CONV_DIRECT = 1, /* the direct kernel (few channels a group: depthwise, stems) */
    HS_CONV_WINOGRAD = 2, /* Winograd F(2x2, 3x3): 2-D 3x3, stride 1, pad 1, dilation 1, groups 1 */
    HS_CONV_WINOGRAD1D = 3, /* 1-D Winograd F(2,3)/F(4,3): kernel 3, stride 1, pad 1, one group */
} hs_conv_path;

/* "im2col", "direct", "winograd1d", ... ("?" for a value out of range) */
const char *hs_conv_path_to_string(hs_conv_path p);

typedef struct hs_conv_shape {
    int B, C_in, H, W;        /* input [B x C_in x H x W] */
    int C_out, KH, KW;        /* weight [C_out x C_in/groups x KH x KW] */
    int stride, pad, dilation; /* the same in both spatial dims; 1-D: H = KH = 1 (pad applies to W only:
                                  H = KH = 1 always means 1-D, so OH = 1) */
    int groups;               /* divides C_in and C_out; groups = C_in = C_out: depthwise */
    /* filled by hs_conv_plan: */
    int OH, OW;               /* output [B x C_out x OH x OW] */
    size_t work;              /* floats of scratch forward and backward need (0 when none) */
    hs_conv_path path;        /* im2col: a run of samples is as many as make the gemm about 256
                                 columns wide; winograd1d: the tile (F(2,3) or F(4,3)) follows W */
} hs_conv_shape;

/* Output length of a convolution or pooling along one dim: floor((n + 2 pad - dil (k - 1) - 1) /
 * stride) + 1 (PyTorch's). */
int hs_conv_out_len(int n, int k, int stride, int pad, int dilation);

/* Fill OH, OW, work and the path (chosen from the shape alone, so results do not depend on the
 * data). Returns 0, or -1 for an impossible shape (non-positive
 * size, groups not dividing the channels, an empty output, more than INT_MAX elements). */
int hs_conv_plan(hs_conv_shape *s);

/* As hs_conv_plan with the path forced; for tests and benchmarks, which compare the paths on one
 * shape. work is that path's. Returns -1 also when the path cannot compute the shape. */
int hs_conv_plan_path(hs_conv_shape *s, hs_conv_path path);

/* out[B x C_out x OH x OW] = conv(in, W) + b (b may be NULL). */
void hs_conv_forward(float *out, const float *in, const float *W, const float *b, const hs_conv_shape *s, float *work);

/* From dout [B x C_out x OH x OW] and the forward input: dW (overwritten), db (when not NULL),
 * din (when not NULL). */
void hs_conv_backward(float *din, float *dW, float *db, const float *dout, const float *in, const float *W,
                      const hs_conv_shape *s, float *work);

/* ================================================================ pooling
 * Over windows k x k (1-D: H = 1 and the window 1 x k), stride and padding as PyTorch's
 * MaxPool2d / AvgPool2d (avg: count_include_pad = true, the padded zeros count; max: padding
 * is -inf). OH = hs_conv_out_len(H, k, stride, pad, 1) (1-D: OH = 1), OW likewise. */

typedef enum hs_pool_kind { HS_POOL_MAX, HS_POOL_AVG } hs_pool_kind;

typedef struct hs_pool_shape {
    hs_pool_kind kind;
    int B, C, H, W, k, stride, pad;
    int OH, OW; /* filled by hs_pool_plan */
} hs_pool_shape;

int hs_pool_plan(hs_pool_shape *s); /* 0, or -1 for an impossible shape */

/* out [B x C x OH x OW]; max pooling stores the flat input index of each maximum in arg (an index
 * into the whole of in [B x C x H x W]; the first maximum in window order, a NaN wins as in
 * PyTorch) for the backward; arg is unused by avg pooling (may be NULL). The backward overwrites
 * din (windows may overlap: k > stride adds). Plan refuses pad > k/2 (as PyTorch), so no window is
 * all padding. */
void hs_pool_forward(float *out, int32_t *arg, const float *in, const hs_pool_shape *s);
void hs_pool_backward(float *din, const float *dout, const int32_t *arg, const hs_pool_shape *s);

/* Global average pooling: out[B x C] = mean over the n = H*W positions of in[B x C x n]. */
void hs_gap_forward(float *out, const float *in, int B, int C, int n);
void hs_gap_backward(float *din, const float *dout, int B, int C, int n);

/* ================================================================ BatchNorm over channels
 * BatchNorm2d (and BatchNorm1d on [B x C x L]): statistics per channel over B x n values
 * (n = H*W), otherwise as hs_bn_forward_train / eval / backward of nn.h (biased variance in the
 * normalisation, unbiased in the running variance, needs B * n >= 2). */
void hs_bn2d_forward_train(float *out, float *xhat, float *rstd, const float *in, const float *gamma,
                           const float *beta, float *run_mean, float *run_var, int B, int C, int n, float eps,
                           float momentum);
void hs_bn2d_forward_eval(float *out, const float *in, const float *gamma, const float *beta, const float *run_mean,
                          const float *run_var, int B, int C, int n, float eps);
void hs_bn2d_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *xhat, const float *rstd,
                      const float *gamma, int B, int C, int n);

/* ================================================================ pointwise
 * Activations that need their input for the backward (nn.h's ReLU/tanh use the output):
 *   GELU (exact, erf form, PyTorch's default), SiLU x sigmoid(x), sigmoid.
 * out may equal in; din may equal dout. */
typedef enum hs_pact { HS_PACT_GELU, HS_PACT_SILU, HS_PACT_SIGMOID } hs_pact;
void hs_pact_forward(float *out, const float *in, size_t n, hs_pact a);
void hs_pact_backward(float *din, const float *dout, const float *in, size_t n, hs_pact a);

/* Per-channel scaling (squeeze-excite's excite): out[b,c,:] = in[b,c,:] g[b,c], in [B x C x n],
 * g [B x C]. Backward: din = dout g (din may equal dout), dg[b,c] = sum_i dout[b,c,i] in[b,c,i]. */
void hs_chscale_forward(float *out, const float *in, const float *g, int B, int C, int n);
void hs_chscale_backward(float *din, float *dg, const float *dout, const float *in, const float *g, int B, int C,
                         int n);

/* Residual add: out[i] = a[i] + b[i] (out may equal a or b). Its backward is the identity to
 * both inputs: the caller routes dout to both branches. */
void hs_add_forward(float *out, const float *a, const float *b, size_t n);

/* Dropout (inverted, PyTorch's): with probability p an element is zeroed, the rest scaled by
 * 1/(1-p). The mask (0 or 1/(1-p) per element) comes from hs_rng stream `stream` of `seed` at
 * word offset `word` (one 32-bit draw per element, kept when u >= p 2^32), so a training step's
 * mask is a pure function of (seed, stream, word): callers pass stream =
 * hs_rng_stream(HS_STREAM_DROPOUT, layer) and the step's element offset. p = 0 copies (mask 1),
 * p >= 1 zeroes (mask 0). out may equal in. Backward: din = dout mask (din may equal dout). */
void hs_dropout_forward(float *out, float *mask, const float *in, size_t n, float p, uint64_t seed, uint64_t stream,
                        uint64_t word);
void hs_dropout_backward(float *din, const float *dout, const float *mask, size_t n);

/* Drop-path (stochastic depth, the "drop-connect" of EfficientNet's residual branches): a whole
 * sample's row of `row` values is zeroed with probability p, the kept rows scaled by 1/(1-p).
 * mask [B] holds each row's factor, drawn exactly as hs_dropout_forward draws B elements (one
 * 32-bit draw per row from (seed, stream) at word offset `word`): callers pass stream =
 * hs_rng_stream(HS_STREAM_DROPPATH, block) and the step's row offset. out may equal in.
 * Backward: din[b, :] = dout[b, :] mask[b] (din may equal dout). */
void hs_droppath_forward(float *out, float *mask, const float *in, int B, size_t row, float p, uint64_t seed,
                         uint64_t stream, uint64_t word);
void hs_droppath_backward(float *din, const float *dout, const float *mask, int B, size_t row);

#endif /* HSWEEP_OPS_H */
