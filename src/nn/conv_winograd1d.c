/* conv_winograd1d.c - 1-D Winograd convolution F(m, 3), m = 2 or 4, for the kernel-3 stride-1
 * pad-1 convs of the 1-D VGG/ResNet nets (see conv_winograd1d.h; the rule is at hs_conv_plan).
 *
 * A row of L positions is cut into T = ceil(L / m) tiles; tile t reads the alpha = m + 2 input
 * positions t m - 1 .. t m + m (zeros outside 0..L-1: the padding, and past the end) and gives the
 * outputs t m .. t m + m - 1 (those past L are dropped). With N = B T tiles, column t B + n:
 *   V [alpha x C_in  x N]     = B^T d          (input transform, per tile)
 *   U [alpha x C_out x C_in]  = G g            (filter transform, per (co, ci))
 *   forward   M_k [C_out x N] = U_k . V_k                      (NN, one gemm per k)
 *             out             = A^T M (+ bias)                 (output transform)
 *   dW        D   [alpha x C_out x N] = A dy    (dy zero past L; the transpose of A^T)
 *             dU_k [C_out x C_in] = D_k . V_k^T                 (NT)
 *             dW  = G^T dU                                      (filter-space inverse)
 *   din       a conv of dout with the filter reversed in its taps and C_in/C_out swapped:
 *             Z = B^T dout, U' = G reverse(g), M'_k [C_in x N] = U'_k^T . Z_k (TN), din = A^T M'
 * Each gemm multiplies C_out x C_in by alpha N columns where im2col multiplies C_out x 3 C_in
 * by L B: 6 ceil(L/4) / (3 L) of the products for F(4,3) (1/2 at L = 36), 4 ceil(L/2) / (3 L)
 * for F(2,3) (2/3 at even L). The transforms are O(alpha C N), against the gemms' O(alpha C^2 N).
 *
 * Matrices (Lavin & Gray 2015; points 0, +-1, +-2, inf for F(4,3); 0, +-1, inf for F(2,3)):
 *   F(2,3)  B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *           G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *           A^T = [1 1 1 0; 0 1 -1 -1]
 *   F(4,3)  B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0;
 *                  0 4 0 -5 0 1]
 *           G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *           A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * The transforms are written out (multiplying by the zeros of the matrices would cost as much
 * as the rest, and cannot be folded away without -ffast-math). Every sum has an order fixed by
 * the shape, and the gemms are hs_gemm's, so results are reproducible bit for bit. F(4,3) loses
 * more to rounding than F(2,3) (its points +-2 scale terms by up to 8); test_conv bounds both. */
#include <string.h>

#include "conv_winograd1d.h"
#include "gemm.h"
#include "opsum.h"

static int forced_m;

void hs_conv_winograd1d_force(int m) { forced_m = m == 2 || m == 4 ? m : 0; }

int hs_conv_winograd1d_fits(const hs_conv_shape *s) {
    return s->H == 1 && s->KH == 1 && s->KW == 3 && s->stride == 1 && s->dilation == 1 && s->pad == 1 &&
           s->groups == 1;
}

static int ntiles(int L, int m) { return (L + m - 1) / m; }

/* The tile with fewer products a row (alpha ceil(L / m)); F(2,3) on a tie, being the more
 * precise: F(2,3) at 1, 2, 5 and 6 positions, F(4,3) at 3, 4 and from 7 on (measured: the rule's
 * comment in conv.c). */
int hs_conv_winograd1d_tile(const hs_conv_shape *s) {
    if (forced_m) return forced_m;
    return 6 * ntiles(s->W, 4) < 4 * ntiles(s->W, 2) ? 4 : 2;
}

/* Floats of the block the transforms stage one channel of the batch in: the padded positions of
 * every sample, position-major ([T m + 2] x B), so that the transforms' inner loops run over the
 * samples with unit stride (a row has 1 to 9 tiles: too few to vectorise over). */
static size_t stage_len(int B, int L, int m) { return ((size_t)ntiles(L, m) * m + 2) * (size_t)B; }

size_t hs_conv_winograd1d_work(const hs_conv_shape *s) {
    const int m = hs_conv_winograd1d_tile(s), alpha = m + 2;
    const size_t N = (size_t)s->B * ntiles(s->W, m);
    return (size_t)alpha * ((size_t)s->C_out * s->C_in + N * ((size_t)s->C_in + s->C_out)) + stage_len(s->B, s->W, m);
}

#define ALWAYS_INLINE inline __attribute__((always_inline))

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX2_CODE 1
/* dst[j ds + r] = src[r ss + j] (+ add when do_add) for an 8 x 8 block, in registers. */
__attribute__((target("avx2"))) static void tr8(float *dst, size_t ds, const float *src, size_t ss, float add,
                                                int do_add) {
    __m256 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * ss);
    for (int i = 0; i < 8; i += 2) t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]), t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    const __m256 va = _mm256_set1_ps(add);
    for (int j = 0; j < 4; j++) {
        __m256 lo = _mm256_permute2f128_ps(u[j], u[j + 4], 0x20), hi = _mm256_permute2f128_ps(u[j], u[j + 4], 0x31);
        if (do_add) lo = _mm256_add_ps(lo, va), hi = _mm256_add_ps(hi, va);
        _mm256_storeu_ps(dst + j * ds, lo);
        _mm256_storeu_ps(dst + (j + 4) * ds, hi);
    }
}
#else
#define HAVE_AVX2_CODE 0
static void tr8(float *dst, size_t ds, const float *src, size_t ss, float add, int do_add) {
    (void)dst, (void)ds, (void)src, (void)ss, (void)add, (void)do_add;
}
#endif

/* dst[j ds + r] = src[r ss + j] (+ add when do_add: the output's bias, never for a copy, where
 * x + 0 would turn -0 into +0) for r < rows, j < cols: the staging's transposes, which were
 * three quarters of the input transform as scalar strided copies (perf); wide: by 8 x 8 blocks.
 * do_out: the output's (dst is the tensor). */
static ALWAYS_INLINE void transpose(float *restrict dst, size_t ds, const float *restrict src, size_t ss, int rows,
                                    int cols, float add, int do_add, int do_out, int wide) {
    int r0 = 0, j0 = 0;
    if (wide) {
        for (; r0 + 8 <= rows; r0 += 8)
            for (j0 = 0; j0 + 8 <= cols; j0 += 8)
                tr8(dst + (size_t)j0 * ds + r0, ds, src + (size_t)r0 * ss + j0, ss, add, do_add);
        j0 = cols - cols % 8;
    }
    /* the rows of whole blocks past the last whole block of columns, then the rows left; by
     * rows of src (a copy in: the samples' rows read in order) or, for the output, by rows of
     * dst (each sample's row written in order) */
    if (!do_out)
        for (int r = 0; r < rows; r++)
            for (int j = r < r0 ? j0 : 0; j < cols; j++) dst[(size_t)j * ds + r] = src[(size_t)r * ss + j];
    else
        for (int j = 0; j < cols; j++)
            for (int r = j < j0 ? r0 : 0; r < rows; r++) {
                const float v = src[(size_t)r * ss + j];
                dst[(size_t)j * ds + r] = do_add ? v + add : v;
            }
}

/* xs [(T m + 2) x B] = channel c of x [B x C x L] by position, shifted by the pad (row 0 and rows
 * past L are zero). */
static ALWAYS_INLINE void stage_in(float *restrict xs, const float *restrict x, int B, int C, int L, int len, int c,
                                  int wide) {
    for (int n = 0; n < B; n++) xs[n] = 0.0f;
    transpose(xs + B, (size_t)B, x + (size_t)c * L, (size_t)C * L, B, L, 0.0f, 0, 0, wide);
    for (size_t i = (size_t)(L + 1) * B; i < (size_t)len * B; i++) xs[i] = 0.0f;
}

/* One tile position of every sample: the transforms' vector loops over n. Separate restrict
 * parameters, because GCC drops restrict on local pointers and would then need more run-time
 * alias checks than it allows, leaving the loops scalar. d, y: alpha (or m) rows of B floats. */
static ALWAYS_INLINE void in2(float *restrict v0, float *restrict v1, float *restrict v2, float *restrict v3,
                              const float *restrict d, int B) {
    for (int n = 0; n < B; n++) {
        const float d0 = d[n], d1 = d[B + n], d2 = d[2 * B + n], d3 = d[3 * B + n];
        v0[n] = d0 - d2;
        v1[n] = d1 + d2;
        v2[n] = d2 - d1;
        v3[n] = d1 - d3;
    }
}
static ALWAYS_INLINE void in4(float *restrict v0, float *restrict v1, float *restrict v2, float *restrict v3,
                              float *restrict v4, float *restrict v5, const float *restrict d, int B) {
    for (int n = 0; n < B; n++) {
        const float d0 = d[n], d1 = d[B + n], d2 = d[2 * B + n], d3 = d[3 * B + n], d4 = d[4 * B + n],
                    d5 = d[5 * B + n];
        v0[n] = 4.0f * d0 - 5.0f * d2 + d4;
        v1[n] = -4.0f * (d1 + d2) + (d3 + d4);
        v2[n] = 4.0f * (d1 - d2) + (d4 - d3);
        v3[n] = 2.0f * (d3 - d1) + (d4 - d2);
        v4[n] = 2.0f * (d1 - d3) + (d4 - d2);
        v5[n] = 4.0f * d1 - 5.0f * d3 + d5;
    }
}
static ALWAYS_INLINE void out2(float *restrict y, const float *restrict m0, const float *restrict m1,
                               const float *restrict m2, const float *restrict m3, int B) {
    for (int n = 0; n < B; n++) {
        y[n] = m0[n] + m1[n] + m2[n];
        y[B + n] = m1[n] - m2[n] - m3[n];
    }
}
static ALWAYS_INLINE void out4(float *restrict y, const float *restrict m0, const float *restrict m1,
                               const float *restrict m2, const float *restrict m3, const float *restrict m4,
                               const float *restrict m5, int B) {
    for (int n = 0; n < B; n++) {
        const float sp = m1[n] + m2[n], sm = m1[n] - m2[n], tp = m3[n] + m4[n], tm = m3[n] - m4[n];
        y[n] = m0[n] + sp + tp;
        y[B + n] = sm + 2.0f * tm;
        y[2 * B + n] = sp + 4.0f * tp;
        y[3 * B + n] = sm + 8.0f * tm + m5[n];
    }
}
static ALWAYS_INLINE void dy2(float *restrict v0, float *restrict v1, float *restrict v2, float *restrict v3,
                              const float *restrict y, int B) {
    for (int n = 0; n < B; n++) {
        const float y0 = y[n], y1 = y[B + n];
        v0[n] = y0;
        v1[n] = y0 + y1;
        v2[n] = y0 - y1;
        v3[n] = -y1;
    }
}
static ALWAYS_INLINE void dy4(float *restrict v0, float *restrict v1, float *restrict v2, float *restrict v3,
                              float *restrict v4, float *restrict v5, const float *restrict y, int B) {
    for (int n = 0; n < B; n++) {
        const float y0 = y[n], y1 = y[B + n], y2 = y[2 * B + n], y3 = y[3 * B + n];
        const float ep = y0 + y2, op = y1 + y3, e4 = y0 + 4.0f * y2, o8 = 2.0f * y1 + 8.0f * y3;
        v0[n] = y0;
        v1[n] = ep + op;
        v2[n] = ep - op;
        v3[n] = e4 + o8;
        v4[n] = e4 - o8;
        v5[n] = y3;
    }
}

/* V [alpha x C x N] = B^T d for every tile of x [B x C x L] (column t B + n); xs: stage_len floats.
 * m is a constant where it is inlined. */
static ALWAYS_INLINE void input_transform_m(float *restrict V, const float *restrict x, int B, int C, int L, int m,
                                            float *restrict xs, int wide) {
    const int T = ntiles(L, m);
    const size_t N = (size_t)B * T, cs = (size_t)C * N;
    for (int c = 0; c < C; c++) {
        stage_in(xs, x, B, C, L, T * m + 2, c, wide);
        for (int t = 0; t < T; t++) {
            float *v = V + (size_t)c * N + (size_t)t * B;
            const float *d = xs + (size_t)t * m * B;
            if (m == 2) in2(v, v + cs, v + 2 * cs, v + 3 * cs, d, B);
            else in4(v, v + cs, v + 2 * cs, v + 3 * cs, v + 4 * cs, v + 5 * cs, d, B);
        }
    }
}

/* out [B x C x L] = A^T M for every tile, plus bias[c] when bias; M [alpha x C x N]; ys: stage_len. */
static ALWAYS_INLINE void output_transform_m(float *restrict out, const float *restrict M, const float *restrict bias,
                                             int B, int C, int L, int m, float *restrict ys, int wide) {
    const int T = ntiles(L, m);
    const size_t N = (size_t)B * T, cs = (size_t)C * N;
    for (int c = 0; c < C; c++) {
        for (int t = 0; t < T; t++) {
            const float *mm = M + (size_t)c * N + (size_t)t * B;
            float *y = ys + (size_t)t * m * B;
            if (m == 2) out2(y, mm, mm + cs, mm + 2 * cs, mm + 3 * cs, B);
            else out4(y, mm, mm + cs, mm + 2 * cs, mm + 3 * cs, mm + 4 * cs, mm + 5 * cs, B);
        }
        transpose(out + (size_t)c * L, (size_t)C * L, ys, (size_t)B, L, B, bias ? bias[c] : 0.0f, bias != NULL, 1, wide);
    }
}

/* D [alpha x C x N] = A dy for every output tile of dy [B x C x L] (zeros past L); ys: stage_len. */
static ALWAYS_INLINE void dout_transform_m(float *restrict D, const float *restrict dy, int B, int C, int L, int m,
                                           float *restrict ys, int wide) {
    const int T = ntiles(L, m), len = T * m;
    const size_t N = (size_t)B * T, cs = (size_t)C * N;
    for (int c = 0; c < C; c++) {
        transpose(ys, (size_t)B, dy + (size_t)c * L, (size_t)C * L, B, L, 0.0f, 0, 0, wide);
        for (size_t i = (size_t)L * B; i < (size_t)len * B; i++) ys[i] = 0.0f;
        for (int t = 0; t < T; t++) {
            float *v = D + (size_t)c * N + (size_t)t * B;
            const float *y = ys + (size_t)t * m * B;
            if (m == 2) dy2(v, v + cs, v + 2 * cs, v + 3 * cs, y, B);
            else dy4(v, v + cs, v + 2 * cs, v + 3 * cs, v + 4 * cs, v + 5 * cs, y, B);
        }
    }
}

/* The transforms for each tile, compiled twice: for AVX2 (8 lanes) and for the baseline (SSE2,
 * 4 lanes), chosen by the CPU alone. Neither uses FMA, and each lane does the same operations in
 * the same order, so the two give the same bits (the filter transforms below likewise). */
#define TRANSFORMS(SUFFIX, ATTR, WIDE)                                                                                \
    ATTR static void input_transform_##SUFFIX(float *V, const float *x, int B, int C, int L, int m, float *xs) {      \
        if (m == 2) input_transform_m(V, x, B, C, L, 2, xs, WIDE);                                                    \
        else input_transform_m(V, x, B, C, L, 4, xs, WIDE);                                                           \
    }                                                                                                                 \
    ATTR static void output_transform_##SUFFIX(float *out, const float *M, const float *bias, int B, int C, int L,   \
                                               int m, float *ys) {                                                    \
        if (m == 2) output_transform_m(out, M, bias, B, C, L, 2, ys, WIDE);                                           \
        else output_transform_m(out, M, bias, B, C, L, 4, ys, WIDE);                                                  \
    }                                                                                                                 \
    ATTR static void dout_transform_##SUFFIX(float *D, const float *dy, int B, int C, int L, int m, float *ys) {      \
        if (m == 2) dout_transform_m(D, dy, B, C, L, 2, ys, WIDE);                                                    \
        else dout_transform_m(D, dy, B, C, L, 4, ys, WIDE);                                                           \
    }

TRANSFORMS(base, , 0)
#if HAVE_AVX2_CODE
TRANSFORMS(avx2, __attribute__((target("avx2"))), 1)
#endif

static int use_avx2(void) {
#if HAVE_AVX2_CODE
    static int have = -1;
    if (have < 0) have = __builtin_cpu_supports("avx2") ? 1 : 0;
    return have;
#else
    return 0;
#endif
}

static void input_transform(float *V, const float *x, int B, int C, int L, int m, float *xs) {
#if HAVE_AVX2_CODE
    if (use_avx2()) {
        input_transform_avx2(V, x, B, C, L, m, xs);
        return;
    }
#endif
    input_transform_base(V, x, B, C, L, m, xs);
}

static void output_transform(float *out, const float *M, const float *bias, int B, int C, int L, int m, float *ys) {
#if HAVE_AVX2_CODE
    if (use_avx2()) {
        output_transform_avx2(out, M, bias, B, C, L, m, ys);
        return;
    }
#endif
    output_transform_base(out, M, bias, B, C, L, m, ys);
}

static void dout_transform(float *D, const float *dy, int B, int C, int L, int m, float *ys) {
#if HAVE_AVX2_CODE
    if (use_avx2()) {
        dout_transform_avx2(D, dy, B, C, L, m, ys);
        return;
    }
#endif
    dout_transform_base(D, dy, B, C, L, m, ys);
}

/* U [alpha x C_out x C_in] = G g, g = W[co][ci][0..2], its taps reversed when flip; u_k = U + k C_out C_in. */
static ALWAYS_INLINE void filter2(float *restrict u0, float *restrict u1, float *restrict u2, float *restrict u3,
                                  const float *restrict W, size_t cs, int flip) {
    for (size_t i = 0; i < cs; i++) {
        const float g0 = flip ? W[3 * i + 2] : W[3 * i], g1 = W[3 * i + 1], g2 = flip ? W[3 * i] : W[3 * i + 2];
        u0[i] = g0;
        u1[i] = 0.5f * (g0 + g1 + g2);
        u2[i] = 0.5f * (g0 - g1 + g2);
        u3[i] = g2;
    }
}
static ALWAYS_INLINE void filter4(float *restrict u0, float *restrict u1, float *restrict u2, float *restrict u3,
                                  float *restrict u4, float *restrict u5, const float *restrict W, size_t cs, int flip) {
    for (size_t i = 0; i < cs; i++) {
        const float g0 = flip ? W[3 * i + 2] : W[3 * i], g1 = W[3 * i + 1], g2 = flip ? W[3 * i] : W[3 * i + 2];
        u0[i] = 0.25f * g0;
        u1[i] = (g0 + g1 + g2) * (-1.0f / 6.0f);
        u2[i] = (g0 - g1 + g2) * (-1.0f / 6.0f);
        u3[i] = g0 * (1.0f / 24.0f) + g1 * (1.0f / 12.0f) + g2 * (1.0f / 6.0f);
        u4[i] = g0 * (1.0f / 24.0f) - g1 * (1.0f / 12.0f) + g2 * (1.0f / 6.0f);
        u5[i] = g2;
    }
}

/* dW [C_out x C_in x 3] = G^T dU, dU [alpha x C_out x C_in]. */
static ALWAYS_INLINE void reduce2(float *restrict dW, const float *restrict u0, const float *restrict u1,
                                  const float *restrict u2, const float *restrict u3, size_t cs) {
    for (size_t i = 0; i < cs; i++) {
        dW[3 * i] = u0[i] + 0.5f * (u1[i] + u2[i]);
        dW[3 * i + 1] = 0.5f * (u1[i] - u2[i]);
        dW[3 * i + 2] = 0.5f * (u1[i] + u2[i]) + u3[i];
    }
}
static ALWAYS_INLINE void reduce4(float *restrict dW, const float *restrict u0, const float *restrict u1,
                                  const float *restrict u2, const float *restrict u3, const float *restrict u4,
                                  const float *restrict u5, size_t cs) {
    for (size_t i = 0; i < cs; i++) {
        dW[3 * i] = 0.25f * u0[i] - (u1[i] + u2[i]) * (1.0f / 6.0f) + (u3[i] + u4[i]) * (1.0f / 24.0f);
        dW[3 * i + 1] = (u2[i] - u1[i]) * (1.0f / 6.0f) + (u3[i] - u4[i]) * (1.0f / 12.0f);
        dW[3 * i + 2] = (u3[i] + u4[i] - u1[i] - u2[i]) * (1.0f / 6.0f) + u5[i];
    }
}

#define FILTERS(SUFFIX, ATTR)                                                                                         \
    ATTR static void filter_transform_##SUFFIX(float *U, const float *W, size_t cs, int m, int flip) {                \
        if (m == 2) {                                                                                                 \
            if (flip) filter2(U, U + cs, U + 2 * cs, U + 3 * cs, W, cs, 1);                                           \
            else filter2(U, U + cs, U + 2 * cs, U + 3 * cs, W, cs, 0);                                                \
        } else if (flip) filter4(U, U + cs, U + 2 * cs, U + 3 * cs, U + 4 * cs, U + 5 * cs, W, cs, 1);                \
        else filter4(U, U + cs, U + 2 * cs, U + 3 * cs, U + 4 * cs, U + 5 * cs, W, cs, 0);                            \
    }                                                                                                                 \
    ATTR static void filter_reduce_##SUFFIX(float *dW, const float *dU, size_t cs, int m) {                           \
        if (m == 2) reduce2(dW, dU, dU + cs, dU + 2 * cs, dU + 3 * cs, cs);                                           \
        else reduce4(dW, dU, dU + cs, dU + 2 * cs, dU + 3 * cs, dU + 4 * cs, dU + 5 * cs, cs);                        \
    }

FILTERS(base, )
#if HAVE_AVX2_CODE
FILTERS(avx2, __attribute__((target("avx2"))))
#endif

static void filter_transform(float *U, const float *W, int C_out, int C_in, int m, int flip) {
    const size_t cs = (size_t)C_out * C_in;
#if HAVE_AVX2_CODE
    if (use_avx2()) {
        filter_transform_avx2(U, W, cs, m, flip);
        return;
    }
#endif
    filter_transform_base(U, W, cs, m, flip);
}

static void filter_reduce(float *dW, const float *dU, int C_out, int C_in, int m) {
    const size_t cs = (size_t)C_out * C_in;
#if HAVE_AVX2_CODE
    if (use_avx2()) {
        filter_reduce_avx2(dW, dU, cs, m);
        return;
    }
#endif
    filter_reduce_base(dW, dU, cs, m);
}

/* work = [U or dU: alpha C_out C_in][V or M': alpha C_in N][M, D or Z: alpha C_out N][stage: (T m + 2) B] */
void hs_conv_winograd1d_forward(float *out, const float *in, const float *W, const float *b, const hs_conv_shape *s,
                                float *work) {
    const int m = hs_conv_winograd1d_tile(s), alpha = m + 2, L = s->W, Ci = s->C_in, Co = s->C_out,
              N = s->B * ntiles(L, m);
    float *U = work, *V = U + (size_t)alpha * Co * Ci, *M = V + (size_t)alpha * Ci * N, *stage = M + (size_t)alpha * Co * N;
    filter_transform(U, W, Co, Ci, m, 0);
    input_transform(V, in, s->B, Ci, L, m, stage);
    for (int k = 0; k < alpha; k++)
        hs_gemm_conv(HS_GEMM_NN, Co, N, Ci, U + (size_t)k * Co * Ci, Ci, V + (size_t)k * Ci * N, N, NULL, 0,
                     M + (size_t)k * Co * N, N);
    output_transform(out, M, b, s->B, Co, L, m, stage);
}

void hs_conv_winograd1d_backward(float *din, float *dW, float *db, const float *dout, const float *in,
                                 const float *W, const hs_conv_shape *s, float *work) {
    const int m = hs_conv_winograd1d_tile(s), alpha = m + 2, L = s->W, Ci = s->C_in, Co = s->C_out,
              N = s->B * ntiles(L, m);
    if (db)
        for (int co = 0; co < Co; co++) {
            double sum = 0.0;
            for (int n = 0; n < s->B; n++) sum += hs_sum_row(dout + ((size_t)n * Co + co) * L, (size_t)L);
            db[co] = (float)sum;
        }
    float *U = work, *V = U + (size_t)alpha * Co * Ci, *D = V + (size_t)alpha * Ci * N, *stage = D + (size_t)alpha * Co * N;
    input_transform(V, in, s->B, Ci, L, m, stage);
    dout_transform(D, dout, s->B, Co, L, m, stage);
    for (int k = 0; k < alpha; k++)
        hs_gemm_conv(HS_GEMM_NT, Co, Ci, N, D + (size_t)k * Co * N, N, V + (size_t)k * Ci * N, N, NULL, 0,
                     U + (size_t)k * Co * Ci, Ci);
    filter_reduce(dW, U, Co, Ci, m);
    if (!din) return;
    filter_transform(U, W, Co, Ci, m, 1);
    input_transform(D, dout, s->B, Co, L, m, stage);
    for (int k = 0; k < alpha; k++)
        hs_gemm_conv(HS_GEMM_TN, Ci, N, Co, U + (size_t)k * Co * Ci, Ci, D + (size_t)k * Co * N, N, NULL, 0,
                     V + (size_t)k * Ci * N, N);
    output_transform(din, V, NULL, s->B, Ci, L, m, stage);
}
