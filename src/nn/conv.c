/* conv.c - convolution: the plan (output size, path, scratch) and the im2col + gemm path; the
 * direct kernel is conv_direct.c, Winograd F(2x2, 3x3) conv_winograd.c, 1-D Winograd
 * conv_winograd1d.c. See include/hsweep/ops.h.
 *
 * im2col path, per group g and run of nb samples (N = nb OH OW columns):
 *   col [Kc x N], Kc = C_in/groups KH KW: row (ci, kh, kw), column (sample, oh, ow), zeros where
 *       the tap reads padding;
 *   forward   out_g [C_out/g x N] = W_g [C_out/g x Kc] . col                (NN)
 *   dW        dW_g  [C_out/g x Kc] += dout_g [C_out/g x N] . col^T           (NT, over the runs)
 *   din       dcol  [Kc x N] = W_g^T . dout_g, then col2im adds it into din  (TN)
 * A run of one sample writes the gemm straight into out (its channels' rows are OH OW apart);
 * longer runs go through a staging block [C_out/g x N] in the scratch, because a sample's block
 * of N columns and the next sample's are not one stride apart in NCHW. Runs exist because the
 * deep layers of these nets are tiny in space (a 1-D ResNet's last stage has 5 positions, a
 * VGG's 2): one gemm per sample there has 2..36 columns and runs far below the gemm's rate.
 * A 1 x 1 convolution with stride 1 and no padding needs no columns: its col is the input. */
#include <limits.h>
#include <string.h>

#include "conv_direct.h"
#include "conv_winograd.h"
#include "conv_winograd1d.h"
#include "gemm.h"
#include "opsum.h"

/* Columns a gemm of the im2col path aims at: runs of ceil(COL_TARGET / (OH OW)) samples. */
#define COL_TARGET 256

int hs_conv_out_len(int n, int k, int stride, int pad, int dilation) {
    const long num = (long)n + 2L * pad - (long)dilation * (k - 1) - 1;
    if (stride <= 0) return 0;
    return num >= 0 ? (int)(num / stride) + 1 : (int)(-((-num + stride - 1) / stride)) + 1;
}

/* Samples per gemm of the im2col path. */
static int conv_run(const hs_conv_shape *s) {
    const long p = (long)s->OH * s->OW, nb = (COL_TARGET + p - 1) / p;
    return nb >= s->B ? s->B : (int)nb;
}

/* The column matrix is the input itself (one sample per run, 1 x 1 taps at stride 1, no padding). */
static int conv_col_is_input(const hs_conv_shape *s, int nb) {
    return nb == 1 && s->KH == 1 && s->KW == 1 && s->stride == 1 && s->pad == 0;
}

/* The path from the shape alone (the rule's reason is at hs_conv_plan). */
static hs_conv_path conv_rule(const hs_conv_shape *s) {
    const int cin_g = s->C_in / s->groups, cout_g = s->C_out / s->groups;
    if (cout_g < 4 || cout_g * cin_g * s->KH * s->KW < 40) return HS_CONV_DIRECT;
    if (hs_conv_winograd_fits(s) && s->C_in >= 8 && s->H >= 4 && s->W >= 4) return HS_CONV_WINOGRAD;
    if (hs_conv_winograd1d_fits(s) && s->C_in >= 16 && s->C_out >= 16) {
        const int m = hs_conv_winograd1d_tile(s), tiles = (s->W + m - 1) / m;
        if (5 * (m + 2) * tiles <= 12 * s->W) return HS_CONV_WINOGRAD1D; /* <= 0.8 of im2col's products */
    }
    return HS_CONV_IM2COL;
}

const char *hs_conv_path_to_string(hs_conv_path p) {
    switch (p) {
    case HS_CONV_IM2COL: return "im2col";
    case HS_CONV_DIRECT: return "direct";
    case HS_CONV_WINOGRAD: return "winograd";
    case HS_CONV_WINOGRAD1D: return "winograd1d";
    }
    return "?";
}

static int conv_plan_common(hs_conv_shape *s, hs_conv_path path) {
    if (s->B <= 0 || s->C_in <= 0 || s->H <= 0 || s->W <= 0 || s->C_out <= 0 || s->KH <= 0 || s->KW <= 0 ||
        s->stride <= 0 || s->pad < 0 || s->dilation <= 0 || s->groups <= 0)
        return -1;
    if (s->C_in % s->groups || s->C_out % s->groups) return -1;
    const int oh = s->H == 1 && s->KH == 1 ? 1 : hs_conv_out_len(s->H, s->KH, s->stride, s->pad, s->dilation),
              ow = hs_conv_out_len(s->W, s->KW, s->stride, s->pad, s->dilation);
    if (oh <= 0 || ow <= 0) return -1;
    const double kc = (double)(s->C_in / s->groups) * s->KH * s->KW;
    if ((double)s->B * s->C_in * s->H * s->W > INT_MAX || (double)s->B * s->C_out * oh * ow > INT_MAX ||
        (double)s->C_out * kc > INT_MAX)
        return -1;
    s->OH = oh, s->OW = ow;
    s->path = path;
    s->work = 0;
    if (path == HS_CONV_WINOGRAD) {
        if (!hs_conv_winograd_fits(s)) return -1;
        s->work = hs_conv_winograd_work(s);
    }
    if (path == HS_CONV_IM2COL) {
        const int nb = conv_run(s);
        const size_t n = (size_t)nb * oh * ow;
        if (kc * (double)n > INT_MAX) return -1;
        if (!conv_col_is_input(s, nb)) s->work += (size_t)kc * n;
        if (nb > 1) s->work += (size_t)(s->C_out / s->groups) * n;
    }
    if (path == HS_CONV_WINOGRAD1D) s->work = hs_conv_winograd1d_work(s);
    return 0;
}

/* The rule: the direct kernel when a group has fewer than 4 output channels, or its weight block
 * (C_out/groups x C_in/groups x KH x KW) fewer than 40 taps; im2col + gemm otherwise. Measured with
 * bench/bench_conv (bench/README.md; one core of a shared 2-core AMD EPYC (Zen 4) VM with AVX-512,
 * time of forward + backward, im2col over direct):
 *   - every conv of the target nets with 16+ channels a group (1-D VGG/ResNet on SRHM, 2-D
 *     ResNet-18, EfficientNet's 1 x 1): 0.01-0.15, im2col at 50-78 GFLOP/s (60-105% of a 1000^3
 *     sgemm measured between the shapes), direct at 1-11;
 *   - depthwise 3x3/5x5 (one channel a group, stride 1 and 2, 28x28 down to 2x2, and 1-D):
 *     1.6-5.0, direct at 2.5-11 GFLOP/s, im2col (a gemm of one row) at 0.4-6;
 *   - in between: 2 and 3 channels a group 1.45 and 1.57, depthwise with 4 outputs per input
 *     (36 taps) 1.39, with 8 (72 taps) 0.52, 4 channels a group 0.97 (2-D, 144 taps) and 0.61
 *     (1-D, 48 taps), 64 -> 4 channels 0.58, 2 -> 64 channels 1 x 1 0.17.
 * Of the rest, Winograd F(2x2, 3x3) takes the 3x3 convs with stride 1, padding 1, dilation 1 and
 * one group with at least 8 input channels on planes of at least 4 x 4. Measured with bench_conv
 * (on a 2-core AMD EPYC VM without AVX-512, so OpenBLAS's Zen sgemm for every
 * product; im2col time over Winograd time, forward + backward):
 *   - the 2-D ResNet-18's stages at batch 128 and 32, widths 1 and 0.5 (32..512 channels, 28x28
 *     down to 4x4): 1.10-1.73 (2.25x fewer multiply-adds; the tile transforms cost the rest);
 *   - thin and small: 8 -> 64 1.12, 8 -> 8 1.22, 16 -> 16 1.42, 64 -> 8 1.97, 64 -> 4 1.32, but
 *     4 -> 64 0.79, 2 -> 64 0.51 and the 1-channel stem 0.18-0.36 (the transforms are per input
 *     channel and tile, the gemms too short in C_in to pay for them), and 32 -> 32 on a 2x2 plane
 *     0.90 (one tile a sample, half of it padding).
 * 1-D Winograd (conv_winograd1d.c) when the conv is kernel 3, stride 1, pad 1, dilation 1, one
 * group, with 16+ channels in and out, and its tile (the one with fewer products: F(2,3) at 2, 5
 * and 6 positions, F(4,3) at 3, 4 and 7+) does at most 0.8 of im2col's products: every length
 * but 1. Measured with bench_conv --cpu (bench/README.md; thread CPU time, a 2-core AMD EPYC VM
 * with AVX2 and no AVX-512, so every gemm on OpenBLAS; batch 40; im2col time over F(2,3)'s and
 * F(4,3)'s, forward + backward): 64 ch at 36 positions 1.10 / 1.47, 64 -> 128 at 18 1.00 / 1.42,
 * 128 at 18 1.30 / 1.54, 128 -> 256 at 9 1.08 / 1.31, 256 at 9 1.28 / 1.24, 256 -> 512 at 4
 * 1.17 / 1.46, 512 at 4 0.99 / 1.15, 512 at 2 1.10 / 0.78, 512 at 5 0.92-1.11 / 0.87-1.18 (two
 * runs), 128 at 3 1.15 / 1.46, at 6 1.23 / 1.28, at 7 1.13 / 1.44, 16 and 32 at 36 1.61 and 1.64
 * for F(4,3). The gains are below the products' (F(4,3) 1/2 at 36 positions, F(2,3) 2/3 at 2)
 * because the gemms get narrower (N = batch x tiles: 40 at 2-4 positions, where OpenBLAS runs at
 * half its 1000^3 rate) and the filter transform and dW's reduce move alpha / 3 times the weight
 * (512 x 512 x 4-6 floats: 15% of a 512-channel conv at 2 positions, perf).
 * The shape alone decides, so a run's results never depend on its data. */
int hs_conv_plan(hs_conv_shape *s) {
    if (conv_plan_common(s, HS_CONV_IM2COL)) return -1;
    return conv_plan_common(s, conv_rule(s));
}

int hs_conv_plan_path(hs_conv_shape *s, hs_conv_path path) {
    if (path != HS_CONV_IM2COL && path != HS_CONV_DIRECT && path != HS_CONV_WINOGRAD && path != HS_CONV_WINOGRAD1D)
        return -1;
    if (path == HS_CONV_WINOGRAD1D && !hs_conv_winograd1d_fits(s)) return -1;
    return conv_plan_common(s, path);
}

/* Rows in the deep layers of the 1-D nets are 2 to 36 floats, and a libc call per row cost more
 * than the copy (im2col and its calls were 20-25% of a VGG-16 step at width 0.25, perf): above
 * all the two zero fills per row, which are empty in 1-D (no padding rows) yet were memset calls.
 * As loops they cost nothing when empty (gcc -O3 still turns a non-empty one into a guarded
 * memset or memcpy call). */
static inline void copy_row(float *restrict dst, const float *restrict src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = src[i];
}
static inline void zero_row(float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = 0.0f;
}

/* col [Kc x N] of group g, samples n0 .. n0+nb (N = nb OH OW) */
static void im2col(float *restrict col, const float *restrict in, const hs_conv_shape *s, int g, int n0, int nb) {
    const int cin_g = s->C_in / s->groups, ph = hs_conv_pad_h(s), st = s->stride, d = s->dilation, IW = s->W,
              OW = s->OW, OH = s->OH;
    const size_t in_plane = (size_t)s->H * IW, P = (size_t)OH * OW, N = (size_t)nb * P;
    for (int ci = 0; ci < cin_g; ci++)
        for (int kh = 0; kh < s->KH; kh++) {
            int oh0, oh1;
            hs_conv_tap_range(s->H, OH, kh, st, ph, d, &oh0, &oh1);
            for (int kw = 0; kw < s->KW; kw++) {
                int ow0, ow1;
                hs_conv_tap_range(IW, OW, kw, st, s->pad, d, &ow0, &ow1);
                const int off = kw * d - s->pad;
                float *row = col + ((size_t)(ci * s->KH + kh) * s->KW + kw) * N;
                for (int j = 0; j < nb; j++) {
                    const float *x = in + ((size_t)(n0 + j) * s->C_in + (size_t)g * cin_g + ci) * in_plane;
                    float *dst = row + (size_t)j * P;
                    zero_row(dst, (size_t)oh0 * OW);
                    for (int oh = oh0; oh < oh1; oh++) {
                        const float *xr = x + (size_t)(oh * st - ph + kh * d) * IW;
                        float *dr = dst + (size_t)oh * OW;
                        for (int ow = 0; ow < ow0; ow++) dr[ow] = 0.0f;
                        if (st == 1) copy_row(dr + ow0, xr + ow0 + off, (size_t)(ow1 - ow0));
                        else
                            for (int ow = ow0; ow < ow1; ow++) dr[ow] = xr[ow * st + off];
                        for (int ow = ow1; ow < OW; ow++) dr[ow] = 0.0f;
                    }
                    zero_row(dst + (size_t)oh1 * OW, (size_t)(OH - oh1) * OW);
                }
            }
        }
}

/* din of group g, samples n0 .. n0+nb = the sum of col's taps (rows in (ci, kh, kw) order) */
static void col2im(float *restrict din, const float *restrict col, const hs_conv_shape *s, int g, int n0, int nb) {
    const int cin_g = s->C_in / s->groups, ph = hs_conv_pad_h(s), st = s->stride, d = s->dilation, IW = s->W,
              OW = s->OW, OH = s->OH;
    const size_t in_plane = (size_t)s->H * IW, P = (size_t)OH * OW, N = (size_t)nb * P;
    for (int j = 0; j < nb; j++)
        memset(din + ((size_t)(n0 + j) * s->C_in + (size_t)g * cin_g) * in_plane, 0,
               (size_t)cin_g * in_plane * sizeof(float));
    for (int ci = 0; ci < cin_g; ci++)
        for (int kh = 0; kh < s->KH; kh++) {
            int oh0, oh1;
            hs_conv_tap_range(s->H, OH, kh, st, ph, d, &oh0, &oh1);
            for (int kw = 0; kw < s->KW; kw++) {
                int ow0, ow1;
                hs_conv_tap_range(IW, OW, kw, st, s->pad, d, &ow0, &ow1);
                const int off = kw * d - s->pad;
                const float *row = col + ((size_t)(ci * s->KH + kh) * s->KW + kw) * N;
                for (int j = 0; j < nb; j++) {
                    float *x = din + ((size_t)(n0 + j) * s->C_in + (size_t)g * cin_g + ci) * in_plane;
                    const float *src = row + (size_t)j * P;
                    for (int oh = oh0; oh < oh1; oh++) {
                        float *xr = x + (size_t)(oh * st - ph + kh * d) * IW;
                        const float *sr = src + (size_t)oh * OW;
                        if (st == 1)
                            for (int ow = ow0; ow < ow1; ow++) xr[ow + off] += sr[ow];
                        else
                            for (int ow = ow0; ow < ow1; ow++) xr[ow * st + off] += sr[ow];
                    }
                }
            }
        }
}

void hs_conv_forward(float *out, const float *in, const float *W, const float *b, const hs_conv_shape *s,
                     float *work) {
    if (s->path == HS_CONV_DIRECT) {
        hs_conv_direct_forward(out, in, W, b, s);
        return;
    }
    if (s->path == HS_CONV_WINOGRAD) {
        hs_conv_winograd_forward(out, in, W, b, s, work);
        return;
    }
    if (s->path == HS_CONV_WINOGRAD1D) {
        hs_conv_winograd1d_forward(out, in, W, b, s, work);
        return;
    }
    const int cin_g = s->C_in / s->groups, cout_g = s->C_out / s->groups, kc = cin_g * s->KH * s->KW,
              run = conv_run(s);
    const size_t P = (size_t)s->OH * s->OW, in_plane = (size_t)s->H * s->W;
    const int col_is_input = conv_col_is_input(s, run);
    float *col = work, *stage = col_is_input ? work : work + (size_t)kc * run * P;
    for (int g = 0; g < s->groups; g++) {
        const float *Wg = W + (size_t)g * cout_g * kc;
        for (int n0 = 0; n0 < s->B; n0 += run) {
            const int nb = s->B - n0 < run ? s->B - n0 : run, N = nb * (int)P;
            const float *B;
            int ldb = N;
            if (col_is_input) B = in + ((size_t)n0 * s->C_in + (size_t)g * cin_g) * in_plane, ldb = (int)in_plane;
            else {
                im2col(col, in, s, g, n0, nb);
                B = col;
            }
            if (run == 1) {
                float *o = out + ((size_t)n0 * s->C_out + (size_t)g * cout_g) * P;
                if (b)
                    for (int c = 0; c < cout_g; c++)
                        for (size_t i = 0; i < P; i++) o[(size_t)c * P + i] = b[g * cout_g + c];
                hs_gemm_conv(HS_GEMM_NN, cout_g, N, kc, Wg, kc, B, ldb, NULL, b != NULL, o, (int)P);
                continue;
            }
            hs_gemm_conv(HS_GEMM_NN, cout_g, N, kc, Wg, kc, B, ldb, NULL, 0, stage, N);
            for (int c = 0; c < cout_g; c++) {
                const float bias = b ? b[g * cout_g + c] : 0.0f;
                for (int j = 0; j < nb; j++) {
                    const float *src = stage + (size_t)c * N + (size_t)j * P;
                    float *o = out + ((size_t)(n0 + j) * s->C_out + (size_t)g * cout_g + c) * P;
                    for (size_t i = 0; i < P; i++) o[i] = src[i] + bias;
                }
            }
        }
    }
}

void hs_conv_backward(float *din, float *dW, float *db, const float *dout, const float *in, const float *W,
                      const hs_conv_shape *s, float *work) {
    if (s->path == HS_CONV_DIRECT) {
        hs_conv_direct_backward(din, dW, db, dout, in, W, s);
        return;
    }
    if (s->path == HS_CONV_WINOGRAD) {
        hs_conv_winograd_backward(din, dW, db, dout, in, W, s, work);
        return;
    }
    if (s->path == HS_CONV_WINOGRAD1D) {
        hs_conv_winograd1d_backward(din, dW, db, dout, in, W, s, work);
        return;
    }
    const int cin_g = s->C_in / s->groups, cout_g = s->C_out / s->groups, kc = cin_g * s->KH * s->KW,
              run = conv_run(s);
    const size_t P = (size_t)s->OH * s->OW, in_plane = (size_t)s->H * s->W;
    if (db)
        for (int co = 0; co < s->C_out; co++) {
            double sum = 0.0;
            for (int n = 0; n < s->B; n++) sum += hs_sum_row(dout + ((size_t)n * s->C_out + co) * P, P);
            db[co] = (float)sum;
        }
    const int col_is_input = conv_col_is_input(s, run);
    float *col = work, *stage = col_is_input ? work : work + (size_t)kc * run * P;
    for (int g = 0; g < s->groups; g++) {
        const float *Wg = W + (size_t)g * cout_g * kc;
        float *dWg = dW + (size_t)g * cout_g * kc;
        for (int n0 = 0; n0 < s->B; n0 += run) {
            const int nb = s->B - n0 < run ? s->B - n0 : run, N = nb * (int)P;
            /* dout_g of the run: in place for one sample, else gathered into the staging block */
            const float *A;
            int lda = N;
            if (run == 1) A = dout + ((size_t)n0 * s->C_out + (size_t)g * cout_g) * P, lda = (int)P;
            else {
                for (int c = 0; c < cout_g; c++)
                    for (int j = 0; j < nb; j++)
                        copy_row(stage + (size_t)c * N + (size_t)j * P,
                                 dout + ((size_t)(n0 + j) * s->C_out + (size_t)g * cout_g + c) * P, P);
                A = stage;
            }
            const float *B;
            int ldb = N;
            if (col_is_input) B = in + ((size_t)n0 * s->C_in + (size_t)g * cin_g) * in_plane, ldb = (int)in_plane;
            else {
                im2col(col, in, s, g, n0, nb);
                B = col;
            }
            hs_gemm_conv(HS_GEMM_NT, cout_g, kc, N, A, lda, B, ldb, NULL, n0 > 0, dWg, kc);
            if (!din) continue;
            if (col_is_input) {
                hs_gemm_conv(HS_GEMM_TN, kc, N, cout_g, Wg, kc, A, lda, NULL, 0,
                             din + ((size_t)n0 * s->C_in + (size_t)g * cin_g) * in_plane, (int)in_plane);
                continue;
            }
            hs_gemm_conv(HS_GEMM_TN, kc, N, cout_g, Wg, kc, A, lda, NULL, 0, col, N);
            col2im(din, col, s, g, n0, nb);
        }
    }
}
