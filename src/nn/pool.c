/* pool.c - max and average pooling (PyTorch's MaxPool2d / AvgPool2d without ceil_mode, avg with
 * count_include_pad) and global average pooling; see include/hsweep/ops.h. H = 1 is 1-D: the
 * window is 1 x k and nothing pads or strides along H. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "hsweep/ops.h"
#include "opsum.h"

/* The window's extent and padding along H (1-D: none). */
static int pool_kh(const hs_pool_shape *s) { return s->H == 1 ? 1 : s->k; }
static int pool_ph(const hs_pool_shape *s) { return s->H == 1 ? 0 : s->pad; }

int hs_pool_plan(hs_pool_shape *s) {
    if (s->kind != HS_POOL_MAX && s->kind != HS_POOL_AVG) return -1;
    if (s->B <= 0 || s->C <= 0 || s->H <= 0 || s->W <= 0 || s->k <= 0 || s->stride <= 0 || s->pad < 0) return -1;
    if (2 * s->pad > s->k) return -1; /* PyTorch: pad at most half the window, so no window is all padding */
    const int oh = s->H == 1 ? 1 : hs_conv_out_len(s->H, s->k, s->stride, s->pad, 1),
              ow = hs_conv_out_len(s->W, s->k, s->stride, s->pad, 1);
    if (oh <= 0 || ow <= 0) return -1;
    const double in_elems = (double)s->B * s->C * s->H * s->W, out_elems = (double)s->B * s->C * oh * ow;
    if (in_elems > INT_MAX || out_elems > INT_MAX) return -1; /* arg holds int32 flat indices */
    s->OH = oh, s->OW = ow;
    return 0;
}

/* One plane [H x W] -> [OH x OW]; base = the plane's flat offset in the whole input (for arg). */
static void max_plane(float *restrict out, int32_t *restrict arg, const float *restrict in, int32_t base,
                      const hs_pool_shape *s) {
    const int kh = pool_kh(s), ph = pool_ph(s), sh = s->H == 1 ? 1 : s->stride;
    for (int oh = 0; oh < s->OH; oh++)
        for (int ow = 0; ow < s->OW; ow++) {
            float m = -INFINITY;
            int32_t at = -1;
            for (int i = 0; i < kh; i++) {
                const int ih = oh * sh - ph + i;
                if (ih < 0 || ih >= s->H) continue;
                for (int j = 0; j < s->k; j++) {
                    const int iw = ow * s->stride - s->pad + j;
                    if (iw < 0 || iw >= s->W) continue;
                    const float v = in[ih * s->W + iw];
                    /* strict: the first maximum stays; a NaN wins (PyTorch's rule) */
                    if (at < 0 || v > m || isnan(v)) m = v, at = base + ih * s->W + iw;
                }
            }
            out[oh * s->OW + ow] = m;
            arg[oh * s->OW + ow] = at;
        }
}

/* count_include_pad: every window (inside the padded input, no ceil_mode) divides by kh k. */
static void avg_plane(float *restrict out, const float *restrict in, const hs_pool_shape *s) {
    const int kh = pool_kh(s), ph = pool_ph(s), sh = s->H == 1 ? 1 : s->stride;
    const float div = (float)(kh * s->k);
    for (int oh = 0; oh < s->OH; oh++)
        for (int ow = 0; ow < s->OW; ow++) {
            float acc = 0.0f;
            for (int i = 0; i < kh; i++) {
                const int ih = oh * sh - ph + i;
                if (ih < 0 || ih >= s->H) continue;
                for (int j = 0; j < s->k; j++) {
                    const int iw = ow * s->stride - s->pad + j;
                    if (iw >= 0 && iw < s->W) acc += in[ih * s->W + iw];
                }
            }
            out[oh * s->OW + ow] = acc / div;
        }
}

/* 1-D max pooling without padding: every window lies inside its row, so the windows need no range
 * checks and the rows no call each. The deep layers of the 1-D VGGs have rows of 2-9 positions and
 * 20480 of them a batch, where the per-plane call and its bounds were most of the pool's time
 * (perf). The same comparisons in the same order as max_plane, so the same outputs and indices. */
static void max_rows_1d(float *restrict out, int32_t *restrict arg, const float *restrict in, size_t rows,
                        const hs_pool_shape *s) {
    const int W = s->W, OW = s->OW, st = s->stride, k = s->k;
    for (size_t p = 0; p < rows; p++) {
        const float *x = in + p * (size_t)W;
        const int32_t base = (int32_t)(p * (size_t)W);
        float *o = out + p * (size_t)OW;
        int32_t *a = arg + p * (size_t)OW;
        for (int ow = 0; ow < OW; ow++) {
            const int i0 = ow * st;
            float m = x[i0];
            int at = i0;
            for (int j = 1; j < k; j++) {
                const float v = x[i0 + j];
                if (v > m || isnan(v)) m = v, at = i0 + j;
            }
            o[ow] = m;
            a[ow] = base + at;
        }
    }
}

void hs_pool_forward(float *out, int32_t *arg, const float *in, const hs_pool_shape *s) {
    const size_t planes = (size_t)s->B * (size_t)s->C, in_len = (size_t)s->H * s->W, out_len = (size_t)s->OH * s->OW;
    if (s->kind == HS_POOL_MAX && s->H == 1 && s->pad == 0) {
        max_rows_1d(out, arg, in, planes, s);
        return;
    }
    for (size_t p = 0; p < planes; p++) {
        if (s->kind == HS_POOL_MAX)
            max_plane(out + p * out_len, arg + p * out_len, in + p * in_len, (int32_t)(p * in_len), s);
        else avg_plane(out + p * out_len, in + p * in_len, s);
    }
}

void hs_pool_backward(float *din, const float *dout, const int32_t *arg, const hs_pool_shape *s) {
    const size_t planes = (size_t)s->B * (size_t)s->C, in_len = (size_t)s->H * s->W, out_len = (size_t)s->OH * s->OW;
    memset(din, 0, planes * in_len * sizeof(float));
    if (s->kind == HS_POOL_MAX) {
        for (size_t o = 0; o < planes * out_len; o++) din[arg[o]] += dout[o];
        return;
    }
    const int kh = pool_kh(s), ph = pool_ph(s), sh = s->H == 1 ? 1 : s->stride;
    const float inv = 1.0f / (float)(kh * s->k);
    for (size_t p = 0; p < planes; p++) {
        float *g = din + p * in_len;
        const float *d = dout + p * out_len;
        for (int oh = 0; oh < s->OH; oh++)
            for (int ow = 0; ow < s->OW; ow++) {
                const float v = d[oh * s->OW + ow] * inv;
                for (int i = 0; i < kh; i++) {
                    const int ih = oh * sh - ph + i;
                    if (ih < 0 || ih >= s->H) continue;
                    for (int j = 0; j < s->k; j++) {
                        const int iw = ow * s->stride - s->pad + j;
                        if (iw >= 0 && iw < s->W) g[ih * s->W + iw] += v;
                    }
                }
            }
    }
}

/* out[b,c] = mean of in[b,c,0..n) (opsum.h's order) */
void hs_gap_forward(float *out, const float *in, int B, int C, int n) {
    const size_t rows = (size_t)B * (size_t)C;
    for (size_t r = 0; r < rows; r++) out[r] = (float)(hs_sum_row(in + r * (size_t)n, (size_t)n) / (double)n);
}

void hs_gap_backward(float *din, const float *dout, int B, int C, int n) {
    const size_t rows = (size_t)B * (size_t)C;
    const float inv = 1.0f / (float)n;
    for (size_t r = 0; r < rows; r++) {
        const float v = dout[r] * inv;
        float *g = din + r * (size_t)n;
        for (int i = 0; i < n; i++) g[i] = v;
    }
}
