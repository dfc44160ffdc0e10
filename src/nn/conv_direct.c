/* conv_direct.c - the direct convolution kernel: each weight tap is a scaled row addition (an
 * axpy along W) over the output rows whose tap reads inside the input, so nothing is copied and
 * no gemm of a handful of rows is formed. It serves the shapes where im2col + gemm loses
 * (hs_conv_plan's rule in conv.c): depthwise and narrow grouped convs, whose gemm would have one
 * or a few rows.
 *
 * Sums run in a fixed order set by the shape: an output element adds the bias, then its taps in
 * (input channel, kh, kw) order; dW[co, ci, kh, kw] adds its products in 16 float lanes (lane j
 * takes every 16th output position of a row, as opsum.h) over (sample, output row) and the lanes
 * in double; din adds in (output channel, kh, kw) order. The loops are compiled twice, for the
 * baseline and with AVX-512 enabled, and the CPU picks one; neither reassociates a sum, so the
 * two give the same values. */
#include <string.h>

#include "conv_direct.h"
#include "opsum.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE void direct_forward(float *restrict out, const float *restrict in, const float *restrict W,
                                        const float *restrict b, const hs_conv_shape *s) {
    const int cin_g = s->C_in / s->groups, cout_g = s->C_out / s->groups, ph = hs_conv_pad_h(s), st = s->stride,
              d = s->dilation, KH = s->KH, KW = s->KW, IW = s->W, OW = s->OW, OH = s->OH;
    const size_t in_plane = (size_t)s->H * IW, out_plane = (size_t)OH * OW;
    for (int n = 0; n < s->B; n++)
        for (int co = 0; co < s->C_out; co++) {
            const int g = co / cout_g;
            float *o = out + ((size_t)n * s->C_out + co) * out_plane;
            const float bias = b ? b[co] : 0.0f;
            for (size_t i = 0; i < out_plane; i++) o[i] = bias;
            for (int ci = 0; ci < cin_g; ci++) {
                const float *x = in + ((size_t)n * s->C_in + (size_t)g * cin_g + ci) * in_plane;
                const float *w = W + ((size_t)co * cin_g + ci) * KH * KW;
                for (int kh = 0; kh < KH; kh++) {
                    int oh0, oh1;
                    hs_conv_tap_range(s->H, OH, kh, st, ph, d, &oh0, &oh1);
                    for (int kw = 0; kw < KW; kw++) {
                        int ow0, ow1;
                        hs_conv_tap_range(IW, OW, kw, st, s->pad, d, &ow0, &ow1);
                        const float wv = w[kh * KW + kw];
                        const int off = kw * d - s->pad;
                        for (int oh = oh0; oh < oh1; oh++) {
                            const float *xr = x + (size_t)(oh * st - ph + kh * d) * IW;
                            float *orow = o + (size_t)oh * OW;
                            if (st == 1)
                                for (int ow = ow0; ow < ow1; ow++) orow[ow] += wv * xr[ow + off];
                            else
                                for (int ow = ow0; ow < ow1; ow++) orow[ow] += wv * xr[ow * st + off];
                        }
                    }
                }
            }
        }
}

/* acc[j] += sum over i = j mod 16 of d[i] x[i st] for i in [0, n) (the lanes of opsum.h) */
static ALWAYS_INLINE void lanes_dot(float *restrict acc, const float *restrict dr, const float *restrict xr, int n,
                                    int st) {
    int i = 0;
    if (st == 1) {
        for (; i + HS_SUM_LANES <= n; i += HS_SUM_LANES)
            for (int j = 0; j < HS_SUM_LANES; j++) acc[j] += dr[i + j] * xr[i + j];
    } else {
        for (; i + HS_SUM_LANES <= n; i += HS_SUM_LANES)
            for (int j = 0; j < HS_SUM_LANES; j++) acc[j] += dr[i + j] * xr[(i + j) * st];
    }
    for (int j = 0; i + j < n; j++) acc[j] += dr[i + j] * xr[(i + j) * st];
}

static ALWAYS_INLINE void direct_backward(float *restrict din, float *restrict dW, float *restrict db,
                                         const float *restrict dout, const float *restrict in,
                                         const float *restrict W, const hs_conv_shape *s) {
    const int cin_g = s->C_in / s->groups, cout_g = s->C_out / s->groups, ph = hs_conv_pad_h(s), st = s->stride,
              d = s->dilation, KH = s->KH, KW = s->KW, IW = s->W, OW = s->OW, OH = s->OH;
    const size_t in_plane = (size_t)s->H * IW, out_plane = (size_t)OH * OW;
    if (db)
        for (int co = 0; co < s->C_out; co++) {
            double sum = 0.0;
            for (int n = 0; n < s->B; n++) sum += hs_sum_row(dout + ((size_t)n * s->C_out + co) * out_plane, out_plane);
            db[co] = (float)sum;
        }
    for (int co = 0; co < s->C_out; co++) {
        const int g = co / cout_g;
        for (int ci = 0; ci < cin_g; ci++)
            for (int kh = 0; kh < KH; kh++) {
                int oh0, oh1;
                hs_conv_tap_range(s->H, OH, kh, st, ph, d, &oh0, &oh1);
                for (int kw = 0; kw < KW; kw++) {
                    int ow0, ow1;
                    hs_conv_tap_range(IW, OW, kw, st, s->pad, d, &ow0, &ow1);
                    const int off = ow0 * st + kw * d - s->pad;
                    float acc[HS_SUM_LANES] = {0};
                    for (int n = 0; n < s->B; n++) {
                        const float *x = in + ((size_t)n * s->C_in + (size_t)g * cin_g + ci) * in_plane,
                                    *dy = dout + ((size_t)n * s->C_out + co) * out_plane;
                        for (int oh = oh0; oh < oh1; oh++)
                            lanes_dot(acc, dy + (size_t)oh * OW + ow0, x + (size_t)(oh * st - ph + kh * d) * IW + off,
                                      ow1 - ow0, st);
                    }
                    double sum = 0.0;
                    for (int j = 0; j < HS_SUM_LANES; j++) sum += acc[j];
                    dW[(((size_t)co * cin_g + ci) * KH + kh) * KW + kw] = (float)sum;
                }
            }
    }
    if (!din) return;
    memset(din, 0, (size_t)s->B * s->C_in * in_plane * sizeof(float));
    for (int n = 0; n < s->B; n++)
        for (int co = 0; co < s->C_out; co++) {
            const int g = co / cout_g;
            const float *dy = dout + ((size_t)n * s->C_out + co) * out_plane;
            for (int ci = 0; ci < cin_g; ci++) {
                float *gx = din + ((size_t)n * s->C_in + (size_t)g * cin_g + ci) * in_plane;
                const float *w = W + ((size_t)co * cin_g + ci) * KH * KW;
                for (int kh = 0; kh < KH; kh++) {
                    int oh0, oh1;
                    hs_conv_tap_range(s->H, OH, kh, st, ph, d, &oh0, &oh1);
                    for (int kw = 0; kw < KW; kw++) {
                        int ow0, ow1;
                        hs_conv_tap_range(IW, OW, kw, st, s->pad, d, &ow0, &ow1);
                        const float wv = w[kh * KW + kw];
                        const int off = kw * d - s->pad;
                        for (int oh = oh0; oh < oh1; oh++) {
                            float *gr = gx + (size_t)(oh * st - ph + kh * d) * IW;
                            const float *dr = dy + (size_t)oh * OW;
                            if (st == 1)
                                for (int ow = ow0; ow < ow1; ow++) gr[ow + off] += wv * dr[ow];
                            else
                                for (int ow = ow0; ow < ow1; ow++) gr[ow * st + off] += wv * dr[ow];
                        }
                    }
                }
            }
        }
}

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define DIRECT_WIDE 1
#define WIDE __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2")))
static WIDE void direct_forward_wide(float *out, const float *in, const float *W, const float *b,
                                     const hs_conv_shape *s) {
    direct_forward(out, in, W, b, s);
}
static WIDE void direct_backward_wide(float *din, float *dW, float *db, const float *dout, const float *in,
                                      const float *W, const hs_conv_shape *s) {
    direct_backward(din, dW, db, dout, in, W, s);
}
static int have_wide(void) { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"); }
#else
#define DIRECT_WIDE 0
#endif

static void direct_forward_base(float *out, const float *in, const float *W, const float *b, const hs_conv_shape *s) {
    direct_forward(out, in, W, b, s);
}
static void direct_backward_base(float *din, float *dW, float *db, const float *dout, const float *in, const float *W,
                                 const hs_conv_shape *s) {
    direct_backward(din, dW, db, dout, in, W, s);
}

void hs_conv_direct_forward(float *out, const float *in, const float *W, const float *b, const hs_conv_shape *s) {
#if DIRECT_WIDE
    if (have_wide()) {
        direct_forward_wide(out, in, W, b, s);
        return;
    }
#endif
    direct_forward_base(out, in, W, b, s);
}

void hs_conv_direct_backward(float *din, float *dW, float *db, const float *dout, const float *in, const float *W,
                             const hs_conv_shape *s) {
#if DIRECT_WIDE
    if (have_wide()) {
        direct_backward_wide(din, dW, db, dout, in, W, s);
        return;
    }
#endif
    direct_backward_base(din, dW, db, dout, in, W, s);
}
