/* conv_winograd.c - Winograd F(2x2, 3x3) convolution (Lavin and Gray 2016): 3x3 taps, stride 1,
 * padding 1, so OH = H, OW = W. See conv_winograd.h.
 *
 * The output is cut into 2x2 tiles, th = ceil(H/2) by tw = ceil(W/2) a sample; the tile at (ty, tx)
 * reads the 4x4 input patch from row 2 ty - 1 and column 2 tx - 1 (zeros outside). With
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
 *   A^T = [1 1 1 0; 0 1 -1 -1]:
 *   U [16 x C_out x C_in]: U[k] = (G g G^T)[k] of each filter g = W[co, ci]        (k = 4 i + j)
 *   V [16 x C_in x T]:     V[k] = (B^T d B)[k] of each 4x4 patch d (T tiles: a run of samples)
 *   M [16 x C_out x T]:    M[k] = U[k] . V[k]                                      (16 gemms, NN)
 *   out tile = A^T m A of each tile's 16 values m, + b.
 * A 3x3 conv then costs 16 multiply-adds per 2x2 outputs instead of 36, for 2.25x fewer FLOPs in
 * the gemms, which are the time of the im2col path (bench_conv); the transforms are O(1) per
 * tile and channel, so they pay off once the channels are more than a few.
 *
 * din: with stride 1 and padding 1, din is the same convolution of dout with the filter flipped
 * in space and C_in, C_out swapped, g'[ci, co] = W[co, ci, 2 - kh, 2 - kw]; it runs the forward's
 * code on that filter.
 *
 * The scratch: U, then V and M of one run of samples, then two small row buffers. Runs are as
 * many samples as make about RUN_TILES tiles (the gemms' columns), as in the im2col path. */
#include "conv_winograd.h"

#include <string.h>

#include "gemm.h"

/* Tiles a run of samples aims at (the gemms' N). */
#define RUN_TILES 512

#if defined(__clang__)
#define IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define IVDEP _Pragma("GCC ivdep")
#else
#define IVDEP
#endif

int hs_conv_winograd_fits(const hs_conv_shape *s) {
    return s->KH == 3 && s->KW == 3 && s->stride == 1 && s->pad == 1 && s->dilation == 1 && s->groups == 1;
}

static int tiles_h(const hs_conv_shape *s) { return (s->H + 1) / 2; }
static int tiles_w(const hs_conv_shape *s) { return (s->W + 1) / 2; }

/* Samples per run. */
static int wino_run(const hs_conv_shape *s) {
    const long p = (long)tiles_h(s) * tiles_w(s), nb = (RUN_TILES + p - 1) / p;
    return nb >= s->B ? s->B : (int)nb;
}

/* Floats of the two row buffers: the deinterleaved input plane E, O [(2 th + 2) x (tw + 1)] each,
 * and two output rows of 2 tw. */
static size_t rows_work(const hs_conv_shape *s) {
    const size_t th = (size_t)tiles_h(s), tw = (size_t)tiles_w(s);
    return 2 * (2 * th + 2) * (tw + 1) + 4 * tw;
}

size_t hs_conv_winograd_work(const hs_conv_shape *s) {
    const size_t T = (size_t)wino_run(s) * tiles_h(s) * tiles_w(s);
    return 16 * (size_t)s->C_in * s->C_out + 16 * ((size_t)s->C_in + s->C_out) * T + rows_work(s);
}

/* u [16 x rows x cols] at (r, c) with rows stride = cols: the transform G g G^T of one 3x3 filter
 * g (row-major, as stored in W, or flipped when flip is set). */
static void filter_transform(float *u, size_t kstride, const float *g, int flip) {
    float f[9];
    for (int i = 0; i < 9; i++) f[i] = flip ? g[8 - i] : g[i];
    float t[4][3]; /* G g */
    for (int c = 0; c < 3; c++) {
        const float a = f[c], b = f[3 + c], d = f[6 + c];
        t[0][c] = a, t[1][c] = 0.5f * (a + b + d), t[2][c] = 0.5f * (a - b + d), t[3][c] = d;
    }
    for (int i = 0; i < 4; i++) {
        const float a = t[i][0], b = t[i][1], d = t[i][2];
        u[(size_t)(4 * i + 0) * kstride] = a;
        u[(size_t)(4 * i + 1) * kstride] = 0.5f * (a + b + d);
        u[(size_t)(4 * i + 2) * kstride] = 0.5f * (a - b + d);
        u[(size_t)(4 * i + 3) * kstride] = d;
    }
}

/* v [16 x (kstride)] from column t0: B^T d B of every tile of one plane x [H x W]. eo: the row
 * buffer. The plane is first split into its even and odd columns, zero-padded (E[r][m] =
 * x[r - 1][2m - 1], O[r][m] = x[r - 1][2m]), so that the tiles of a tile row are contiguous
 * lanes: tile tx reads E[tx], O[tx], E[tx + 1], O[tx + 1]. */
static inline __attribute__((always_inline)) void input_tiles(float *restrict v, size_t kstride,
                                                              const float *restrict x, int H, int W, int th,
                                                              int tw, float *restrict eo) {
    const int R = 2 * th + 2, L = tw + 1;
    float *restrict E = eo, *restrict O = eo + (size_t)R * L;
    for (int r = 0; r < R; r++) {
        float *e = E + (size_t)r * L, *o = O + (size_t)r * L;
        const int y = r - 1;
        if (y < 0 || y >= H) {
            for (int m = 0; m < L; m++) e[m] = 0.0f, o[m] = 0.0f;
            continue;
        }
        const float *xr = x + (size_t)y * W;
        e[0] = 0.0f;
        for (int m = 1; m < L; m++) e[m] = 2 * m - 1 < W ? xr[2 * m - 1] : 0.0f;
        for (int m = 0; m < L; m++) o[m] = 2 * m < W ? xr[2 * m] : 0.0f;
    }
    for (int ty = 0; ty < th; ty++) {
        const float *e0 = E + (size_t)(2 * ty) * L, *e1 = e0 + L, *e2 = e1 + L, *e3 = e2 + L;
        const float *o0 = O + (size_t)(2 * ty) * L, *o1 = o0 + L, *o2 = o1 + L, *o3 = o2 + L;
        float *vt = v + (size_t)ty * tw;
        IVDEP
        for (int tx = 0; tx < tw; tx++) {
            /* B^T d: rows 0 - 2, 1 + 2, 2 - 1, 1 - 3 of the patch, at its four columns */
            float a[4][4];
            a[0][0] = e0[tx] - e2[tx], a[0][1] = o0[tx] - o2[tx], a[0][2] = e0[tx + 1] - e2[tx + 1],
            a[0][3] = o0[tx + 1] - o2[tx + 1];
            a[1][0] = e1[tx] + e2[tx], a[1][1] = o1[tx] + o2[tx], a[1][2] = e1[tx + 1] + e2[tx + 1],
            a[1][3] = o1[tx + 1] + o2[tx + 1];
            a[2][0] = e2[tx] - e1[tx], a[2][1] = o2[tx] - o1[tx], a[2][2] = e2[tx + 1] - e1[tx + 1],
            a[2][3] = o2[tx + 1] - o1[tx + 1];
            a[3][0] = e1[tx] - e3[tx], a[3][1] = o1[tx] - o3[tx], a[3][2] = e1[tx + 1] - e3[tx + 1],
            a[3][3] = o1[tx + 1] - o3[tx + 1];
            /* (B^T d) B: the same combination of columns */
            for (int i = 0; i < 4; i++) {
                vt[(size_t)(4 * i + 0) * kstride + tx] = a[i][0] - a[i][2];
                vt[(size_t)(4 * i + 1) * kstride + tx] = a[i][1] + a[i][2];
                vt[(size_t)(4 * i + 2) * kstride + tx] = a[i][2] - a[i][1];
                vt[(size_t)(4 * i + 3) * kstride + tx] = a[i][1] - a[i][3];
            }
        }
    }
}

/* One plane y [H x W] = A^T m A + bias of every tile, m [16 x (kstride)] from column t0. rows:
 * the two output rows of a tile row, [2 x 2 tw]. */
static inline __attribute__((always_inline)) void output_tiles(float *restrict y, const float *restrict m,
                                                               size_t kstride, float bias, int H, int W, int th,
                                                               int tw, float *restrict rows) {
    float *restrict r0 = rows, *restrict r1 = rows + 2 * (size_t)tw;
    for (int ty = 0; ty < th; ty++) {
        const float *mt = m + (size_t)ty * tw;
        IVDEP
        for (int tx = 0; tx < tw; tx++) {
            float s[2][4]; /* A^T m */
            for (int j = 0; j < 4; j++) {
                const float m0 = mt[(size_t)j * kstride + tx], m1 = mt[(size_t)(4 + j) * kstride + tx],
                            m2 = mt[(size_t)(8 + j) * kstride + tx], m3 = mt[(size_t)(12 + j) * kstride + tx];
                s[0][j] = m0 + m1 + m2, s[1][j] = m1 - m2 - m3;
            }
            r0[2 * tx] = s[0][0] + s[0][1] + s[0][2] + bias, r0[2 * tx + 1] = s[0][1] - s[0][2] - s[0][3] + bias;
            r1[2 * tx] = s[1][0] + s[1][1] + s[1][2] + bias, r1[2 * tx + 1] = s[1][1] - s[1][2] - s[1][3] + bias;
        }
        float *yr = y + (size_t)(2 * ty) * W;
        for (int i = 0; i < W; i++) yr[i] = r0[i];
        if (2 * ty + 1 < H)
            for (int i = 0; i < W; i++) yr[W + i] = r1[i];
    }
}

/* The transforms of a run: V from x's planes, or y's planes from M. */
static inline __attribute__((always_inline)) void run_in(float *V, const float *x, int nb, int C, int H, int W,
                                                         int th, int tw, size_t T, float *eo) {
    const size_t P = (size_t)th * tw, plane = (size_t)H * W, kstride = (size_t)C * T;
    for (int j = 0; j < nb; j++)
        for (int c = 0; c < C; c++)
            input_tiles(V + (size_t)c * T + j * P, kstride, x + ((size_t)j * C + c) * plane, H, W, th, tw, eo);
}
static inline __attribute__((always_inline)) void run_out(float *y, const float *M, const float *b, int nb, int K,
                                                          int H, int W, int th, int tw, size_t T, float *rows) {
    const size_t P = (size_t)th * tw, plane = (size_t)H * W, kstride = (size_t)K * T;
    for (int j = 0; j < nb; j++)
        for (int c = 0; c < K; c++)
            output_tiles(y + ((size_t)j * K + c) * plane, M + (size_t)c * T + j * P, kstride, b ? b[c] : 0.0f, H, W,
                         th, tw, rows);
}

static void run_in_base(float *V, const float *x, int nb, int C, int H, int W, int th, int tw, size_t T, float *eo) {
    run_in(V, x, nb, C, H, W, th, tw, T, eo);
}
static void run_out_base(float *y, const float *M, const float *b, int nb, int K, int H, int W, int th, int tw,
                         size_t T, float *rows) {
    run_out(y, M, b, nb, K, H, W, th, tw, T, rows);
}

static int forced;

void hs_conv_winograd_force(int path) { forced = path; }

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define WIDE __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
/* The same loops compiled for AVX-512: a tile row of 28x28 (14 tiles) is one vector. */
static WIDE void run_in_wide(float *V, const float *x, int nb, int C, int H, int W, int th, int tw, size_t T,
                             float *eo) {
    run_in(V, x, nb, C, H, W, th, tw, T, eo);
}
static WIDE void run_out_wide(float *y, const float *M, const float *b, int nb, int K, int H, int W, int th, int tw,
                              size_t T, float *rows) {
    run_out(y, M, b, nb, K, H, W, th, tw, T, rows);
}
static int use_wide(void) {
    return forced != 1 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
}
#else
#define run_in_wide run_in_base
#define run_out_wide run_out_base
static int use_wide(void) { return 0; }
#endif

/* y [B x K x H x W] = conv3x3(x [B x C x H x W]) with the transformed filter U [16 x K x C], + b. */
static void wino_conv(float *y, const float *x, const float *U, const float *b, int Bn, int C, int K, int H, int W,
                      int run, float *work) {
    const int th = (H + 1) / 2, tw = (W + 1) / 2, wide = use_wide();
    const size_t P = (size_t)th * tw, Tmax = (size_t)run * P, plane = (size_t)H * W;
    float *V = work, *M = V + 16 * (size_t)C * Tmax, *eo = M + 16 * (size_t)K * Tmax,
          *rows = eo + 2 * (size_t)(2 * th + 2) * (tw + 1);
    for (int n0 = 0; n0 < Bn; n0 += run) {
        const int nb = Bn - n0 < run ? Bn - n0 : run;
        const size_t T = (size_t)nb * P;
        const float *xr = x + (size_t)n0 * C * plane;
        if (wide) run_in_wide(V, xr, nb, C, H, W, th, tw, T, eo);
        else run_in_base(V, xr, nb, C, H, W, th, tw, T, eo);
        for (int k = 0; k < 16; k++)
            hs_gemm(HS_GEMM_NN, K, (int)T, C, U + (size_t)k * K * C, C, V + (size_t)k * C * T, (int)T, NULL, 0,
                    M + (size_t)k * K * T, (int)T);
        float *yr = y + (size_t)n0 * K * plane;
        if (wide) run_out_wide(yr, M, b, nb, K, H, W, th, tw, T, rows);
        else run_out_base(yr, M, b, nb, K, H, W, th, tw, T, rows);
    }
}

void hs_conv_winograd_forward(float *out, const float *in, const float *W, const float *b, const hs_conv_shape *s,
                              float *work) {
    const size_t KC = (size_t)s->C_out * s->C_in;
    float *U = work;
    for (int co = 0; co < s->C_out; co++)
        for (int ci = 0; ci < s->C_in; ci++)
            filter_transform(U + (size_t)co * s->C_in + ci, KC, W + ((size_t)co * s->C_in + ci) * 9, 0);
    wino_conv(out, in, U, b, s->B, s->C_in, s->C_out, s->H, s->W, wino_run(s), work + 16 * KC);
}

void hs_conv_winograd_din(float *din, const float *dout, const float *W, const hs_conv_shape *s, float *work) {
    const size_t KC = (size_t)s->C_out * s->C_in;
    float *U = work; /* [16 x C_in x C_out] of the flipped filter */
    for (int co = 0; co < s->C_out; co++)
        for (int ci = 0; ci < s->C_in; ci++)
            filter_transform(U + (size_t)ci * s->C_out + co, KC, W + ((size_t)co * s->C_in + ci) * 9, 1);
    wino_conv(din, dout, U, NULL, s->B, s->C_out, s->C_in, s->H, s->W, wino_run(s), work + 16 * KC);
}
