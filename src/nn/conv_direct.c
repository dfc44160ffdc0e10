/* conv_direct.c - the direct convolution kernel, for the shapes where im2col + gemm loses
 * (hs_conv_plan's rule in conv.c): depthwise and narrow grouped convs, whose gemm would have one
 * to three rows. Nothing is copied and no scratch is used.
 *
 * Two codes, chosen by the CPU alone (never the data): on AVX-512 the vector kernels (vec_*
 * below: a register holds 16 columns of an output row and takes every tap before one store),
 * elsewhere portable loops in which each weight tap is a scaled row addition over the output rows
 * whose tap reads inside the input. Each sums in an order fixed by the shape: an output adds the
 * bias, then its taps in (input channel, kh, kw) order; dW[co, ci, kh, kw] adds its products in 16
 * float lanes (lane j takes the columns = j mod 16 of a row) over (sample, output row) and the
 * lanes in double; din adds in (output channel, kh, kw) order. The two codes round differently
 * (the vector kernels use FMA), so results are reproducible on one kind of CPU, as hs_gemm's. */
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

static ALWAYS_INLINE void direct_din(float *restrict din, const float *restrict dout, const float *restrict W,
                                    const hs_conv_shape *s);

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
    if (din) direct_din(din, dout, W, s);
}

/* din (overwritten): each output's taps scattered back, in (co, kh, kw) order per element */
static ALWAYS_INLINE void direct_din(float *restrict din, const float *restrict dout, const float *restrict W,
                                    const hs_conv_shape *s) {
    const int cin_g = s->C_in / s->groups, cout_g = s->C_out / s->groups, ph = hs_conv_pad_h(s), st = s->stride,
              d = s->dilation, KH = s->KH, KW = s->KW, IW = s->W, OW = s->OW, OH = s->OH;
    const size_t in_plane = (size_t)s->H * IW, out_plane = (size_t)OH * OW;
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
#include <immintrin.h>
#define DIRECT_WIDE 1
#define WIDE __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,bmi,bmi2,popcnt")))
#define WIDE_KW 32  /* taps along W the vector kernels precompute (more: the loops above) */
#define WIDE_TAPS 64 /* KH KW accumulators of the dW kernel */

/* The loops above compiled for AVX-512: the fallback of the vector kernels below. */
static WIDE void direct_forward_wide(float *out, const float *in, const float *W, const float *b,
                                     const hs_conv_shape *s) {
    direct_forward(out, in, W, b, s);
}
static WIDE void direct_backward_wide(float *din, float *dW, float *db, const float *dout, const float *in,
                                      const float *W, const hs_conv_shape *s) {
    direct_backward(din, dW, db, dout, in, W, s);
}
static int have_wide(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("bmi2");
}

/* Vector kernels: 16 output (or input) columns of a row per register, every tap of the chunk
 * accumulated in it before one store. Autovectorised axpys run these shapes badly: a depthwise
 * conv's rows are 2..28 floats, shorter than or barely over one 16-lane vector, so the loops above
 * spend their time in scalar remainders (bench_conv: 1-5 GFLOP/s against 9-12 here at stride 1).
 * Lanes whose tap falls in the padding are masked off (a masked load reads nothing there). Stride
 * 2 reads the 32 floats a chunk spans and permutes the even ones out (a gather was 6x slower);
 * larger strides gather. */

/* lanes [lo, hi) of 0..15 */
static inline __mmask16 lanes(int lo, int hi) {
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << (hi - lo)) - 1u) << lo);
}

/* row[(c + l) st + off] for the lanes l of m (c + l: output columns): stride 2 as two loads of the
 * 32 floats spanned and a permute of the even ones (a gather is several times slower here). */
static inline WIDE __m512 load_taps(__mmask16 m, const float *row, int c, int st, int off) {
    if (st == 1) return _mm512_maskz_loadu_ps(m, row + c + off);
    if (st == 2) {
        const unsigned m2 = _pdep_u32(m, 0x55555555u); /* lane l -> floats 2l */
        const float *p = row + 2 * c + off;
        const __m512 lo = _mm512_maskz_loadu_ps((__mmask16)(m2 & 0xFFFF), p),
                     hi = _mm512_maskz_loadu_ps((__mmask16)(m2 >> 16), p + 16);
        return _mm512_permutex2var_ps(
            lo, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), hi);
    }
    const __m512i cols = _mm512_add_epi32(_mm512_set1_epi32(c),
                                          _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    const __m512i idx = _mm512_add_epi32(_mm512_mullo_epi32(cols, _mm512_set1_epi32(st)), _mm512_set1_epi32(off));
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, row, 4);
}

static WIDE void vec_forward(float *out, const float *in, const float *W, const float *b, const hs_conv_shape *s) {
    const int cin_g = s->C_in / s->groups, cout_g = s->C_out / s->groups, ph = hs_conv_pad_h(s), st = s->stride,
              d = s->dilation, KH = s->KH, KW = s->KW, IW = s->W, OW = s->OW, OH = s->OH;
    const size_t in_plane = (size_t)s->H * IW, out_plane = (size_t)OH * OW;
    int ow0[WIDE_KW], ow1[WIDE_KW];
    for (int kw = 0; kw < KW; kw++) hs_conv_tap_range(IW, OW, kw, st, s->pad, d, &ow0[kw], &ow1[kw]);
    for (int n = 0; n < s->B; n++)
        for (int co = 0; co < s->C_out; co++) {
            const int g = co / cout_g;
            float *o = out + ((size_t)n * s->C_out + co) * out_plane;
            const float *x0 = in + ((size_t)n * s->C_in + (size_t)g * cin_g) * in_plane;
            const float *w0 = W + (size_t)co * cin_g * KH * KW;
            const __m512 bias = _mm512_set1_ps(b ? b[co] : 0.0f);
            for (int oh = 0; oh < OH; oh++)
                for (int oc = 0; oc < OW; oc += 16) {
                    const __mmask16 mo = lanes(0, OW - oc);
                    __m512 acc = bias;
                    for (int ci = 0; ci < cin_g; ci++)
                        for (int kh = 0; kh < KH; kh++) {
                            const int ih = oh * st - ph + kh * d;
                            if (ih < 0 || ih >= s->H) continue;
                            const float *xr = x0 + (size_t)ci * in_plane + (size_t)ih * IW,
                                        *w = w0 + ((size_t)ci * KH + kh) * KW;
                            for (int kw = 0; kw < KW; kw++) {
                                const __mmask16 m = lanes(ow0[kw] - oc, ow1[kw] - oc) & mo;
                                if (!m) continue;
                                acc = _mm512_fmadd_ps(_mm512_set1_ps(w[kw]), load_taps(m, xr, oc, st, kw * d - s->pad),
                                                      acc);
                            }
                        }
                    _mm512_mask_storeu_ps(o + (size_t)oh * OW + oc, mo, acc);
                }
        }
}

/* dW of one filter (co, ci): x0 = in[0, g cin_g + ci], dy0 = dout[0, co], then every sample
 * C_in (C_out) planes on. One accumulator per tap; with KH and KW constants (the wrappers below)
 * the loops unroll and the accumulators stay in registers. */
static inline __attribute__((always_inline)) WIDE void vec_dw(float *dw, const float *x0, const float *dy0,
                                                             const hs_conv_shape *s, const int *ow0, const int *ow1,
                                                             const int KH, const int KW) {
    const int ph = hs_conv_pad_h(s), st = s->stride, d = s->dilation, IW = s->W, OW = s->OW, OH = s->OH;
    const size_t in_plane = (size_t)s->H * IW, out_plane = (size_t)OH * OW;
    __m512 acc[WIDE_TAPS];
    for (int t = 0; t < KH * KW; t++) acc[t] = _mm512_setzero_ps();
    for (int n = 0; n < s->B; n++) {
        const float *x = x0 + (size_t)n * s->C_in * in_plane, *dy = dy0 + (size_t)n * s->C_out * out_plane;
        for (int oh = 0; oh < OH; oh++)
            for (int oc = 0; oc < OW; oc += 16) {
                const __mmask16 mo = lanes(0, OW - oc);
                const __m512 dv = _mm512_maskz_loadu_ps(mo, dy + (size_t)oh * OW + oc);
#pragma GCC unroll 5
                for (int kh = 0; kh < KH; kh++) {
                    const int ih = oh * st - ph + kh * d;
                    if (ih < 0 || ih >= s->H) continue;
                    const float *xr = x + (size_t)ih * IW;
#pragma GCC unroll 5
                    for (int kw = 0; kw < KW; kw++) {
                        const __mmask16 m = lanes(ow0[kw] - oc, ow1[kw] - oc) & mo;
                        acc[kh * KW + kw] =
                            _mm512_fmadd_ps(dv, load_taps(m, xr, oc, st, kw * d - s->pad), acc[kh * KW + kw]);
                    }
                }
            }
    }
    for (int t = 0; t < KH * KW; t++) {
        float l[16];
        _mm512_storeu_ps(l, acc[t]);
        double sum = 0.0;
        for (int j = 0; j < 16; j++) sum += l[j];
        dw[t] = (float)sum;
    }
}
static WIDE void vec_dw_3x3(float *dw, const float *x0, const float *dy0, const hs_conv_shape *s, const int *ow0,
                            const int *ow1) {
    vec_dw(dw, x0, dy0, s, ow0, ow1, 3, 3);
}
static WIDE void vec_dw_5x5(float *dw, const float *x0, const float *dy0, const hs_conv_shape *s, const int *ow0,
                            const int *ow1) {
    vec_dw(dw, x0, dy0, s, ow0, ow1, 5, 5);
}
static WIDE void vec_dw_1x3(float *dw, const float *x0, const float *dy0, const hs_conv_shape *s, const int *ow0,
                            const int *ow1) {
    vec_dw(dw, x0, dy0, s, ow0, ow1, 1, 3);
}
static WIDE void vec_dw_1x5(float *dw, const float *x0, const float *dy0, const hs_conv_shape *s, const int *ow0,
                            const int *ow1) {
    vec_dw(dw, x0, dy0, s, ow0, ow1, 1, 5);
}
static WIDE void vec_dw_any(float *dw, const float *x0, const float *dy0, const hs_conv_shape *s, const int *ow0,
                            const int *ow1) {
    vec_dw(dw, x0, dy0, s, ow0, ow1, s->KH, s->KW);
}

static WIDE void vec_backward(float *din, float *dW, float *db, const float *dout, const float *in, const float *W,
                              const hs_conv_shape *s) {
    const int cin_g = s->C_in / s->groups, cout_g = s->C_out / s->groups, ph = hs_conv_pad_h(s), st = s->stride,
              d = s->dilation, KH = s->KH, KW = s->KW, IW = s->W, OW = s->OW, OH = s->OH;
    const size_t in_plane = (size_t)s->H * IW, out_plane = (size_t)OH * OW;
    if (db)
        for (int co = 0; co < s->C_out; co++) {
            double sum = 0.0;
            for (int n = 0; n < s->B; n++) sum += hs_sum_row(dout + ((size_t)n * s->C_out + co) * out_plane, out_plane);
            db[co] = (float)sum;
        }
    int ow0[WIDE_KW], ow1[WIDE_KW];
    for (int kw = 0; kw < KW; kw++) hs_conv_tap_range(IW, OW, kw, st, s->pad, d, &ow0[kw], &ow1[kw]);
    for (int co = 0; co < s->C_out; co++) {
        const int g = co / cout_g;
        for (int ci = 0; ci < cin_g; ci++) {
            const float *x0 = in + ((size_t)g * cin_g + ci) * in_plane, *dy0 = dout + (size_t)co * out_plane;
            float *dw = dW + ((size_t)co * cin_g + ci) * KH * KW;
            if (KH == 3 && KW == 3) vec_dw_3x3(dw, x0, dy0, s, ow0, ow1);
            else if (KH == 5 && KW == 5) vec_dw_5x5(dw, x0, dy0, s, ow0, ow1);
            else if (KH == 1 && KW == 3) vec_dw_1x3(dw, x0, dy0, s, ow0, ow1);
            else if (KH == 1 && KW == 5) vec_dw_1x5(dw, x0, dy0, s, ow0, ow1);
            else vec_dw_any(dw, x0, dy0, s, ow0, ow1);
        }
    }
    if (!din) return;
    /* din[ci, ih, iw] = sum over co, kh, kw of W dout[co, oh, ow] with oh st = ih + ph - kh d and
     * ow st = iw + pad - kw d: an input row gathers its outputs, no scatter. At stride > 1 only the
     * lanes of one residue mod st have an output for a tap, and their outputs are consecutive: a
     * load of that many expanded into those lanes. */
    __mmask16 residue[16]; /* residue[r]: lanes l = r mod st */
    for (int r = 0; r < st; r++) {
        residue[r] = 0;
        for (int l = r; l < 16; l += st) residue[r] |= (__mmask16)(1u << l);
    }
    for (int n = 0; n < s->B; n++)
        for (int cg = 0; cg < s->C_in; cg++) {
            const int g = cg / cin_g, ci = cg % cin_g;
            float *gx = din + ((size_t)n * s->C_in + cg) * in_plane;
            const float *dy0 = dout + ((size_t)n * s->C_out + (size_t)g * cout_g) * out_plane;
            for (int ih = 0; ih < s->H; ih++)
                for (int ic = 0; ic < IW; ic += 16) {
                    const __mmask16 mi = lanes(0, IW - ic);
                    __m512 acc = _mm512_setzero_ps();
                    for (int co = 0; co < cout_g; co++) {
                        const float *w = W + ((size_t)(g * cout_g + co) * cin_g + ci) * KH * KW;
                        for (int kh = 0; kh < KH; kh++) {
                            const int num = ih + ph - kh * d;
                            if (num < 0) continue;
                            const int oh = st == 2 ? num >> 1 : num / st;
                            if (oh * st != num || oh >= OH) continue;
                            const float *dr = dy0 + (size_t)co * out_plane + (size_t)oh * OW;
                            for (int kw = 0; kw < KW; kw++) {
                                const int base = ic + s->pad - kw * d; /* ow st = base + l */
                                const __m512 wv = _mm512_set1_ps(w[kh * KW + kw]);
                                if (st == 1) {
                                    const __mmask16 m = lanes(-base, OW - base) & mi;
                                    if (m) acc = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, dr + base), acc);
                                    continue;
                                }
                                const int r = st == 2 ? base & 1 : ((-base) % st + st) % st;
                                const __mmask16 m = residue[r] & lanes(-base, st * (OW - 1) - base + 1) & mi;
                                if (!m) continue;
                                const int l0 = base + __builtin_ctz(m), first = st == 2 ? l0 >> 1 : l0 / st,
                                          count = __builtin_popcount(m);
                                const __m512 v = _mm512_maskz_loadu_ps(lanes(0, count), dr + first);
                                acc = _mm512_fmadd_ps(wv, _mm512_maskz_expand_ps(m, v), acc);
                            }
                        }
                    }
                    _mm512_mask_storeu_ps(gx + (size_t)ih * IW + ic, mi, acc);
                }
        }
}

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

static int forced; /* hs_conv_direct_force */

#if DIRECT_WIDE
static int vec_fits(const hs_conv_shape *s) {
    return s->KW <= WIDE_KW && s->KH * s->KW <= WIDE_TAPS && s->stride <= 16;
}
#endif

void hs_conv_direct_force(int path) { forced = path; }

void hs_conv_direct_forward(float *out, const float *in, const float *W, const float *b, const hs_conv_shape *s) {
#if DIRECT_WIDE
    if (forced != 1 && have_wide()) {
        if (forced == 0 && vec_fits(s)) vec_forward(out, in, W, b, s);
        else direct_forward_wide(out, in, W, b, s);
        return;
    }
#endif
    direct_forward_base(out, in, W, b, s);
}

void hs_conv_direct_backward(float *din, float *dW, float *db, const float *dout, const float *in, const float *W,
                             const hs_conv_shape *s) {
#if DIRECT_WIDE
    if (forced != 1 && have_wide()) {
        if (forced == 0 && vec_fits(s)) vec_backward(din, dW, db, dout, in, W, s);
        else direct_backward_wide(din, dW, db, dout, in, W, s);
        return;
    }
#endif
    direct_backward_base(din, dW, db, dout, in, W, s);
}
