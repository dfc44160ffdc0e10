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
 * The backward is the adjoint of these steps, run by run, on the same transforms transposed:
 *   M [16 x C_out x T]:    M[k] = (A dY A^T)[k] of each 2x2 tile dY of dout
 *   dU [16 x C_out x C_in] += M[k] . V[k]^T                                      (16 gemms, NT)
 *   dV [16 x C_in x T]:    dV[k] = U[k]^T . M[k]                                 (16 gemms, TN)
 *   din = the sum over tiles of B dV B^T at each tile's patch, dW = G^T dU G.
 * So dW gets the same 2.25x fewer FLOPs as the forward, and din shares M with it (the
 * flipped-filter form of din would transform dout a second time).
 *
 * The scratch: U and dU, then V and M of one run of samples, then small row buffers. Runs are
 * as many samples as make about RUN_TILES tiles (the gemms' columns), as in the im2col path. */
#include "conv_winograd.h"

#include "gemm.h"
#include "opsum.h"

/* Tiles a run of samples aims at (the gemms' N). Measured (bench_conv's shapes, batch 128): 128
 * beat 256, 512 and 1024 on every stage of the 2-D ResNet-18 (by 5-25%; V and M of a run then
 * stay nearer the cache, and the scratch is smaller), and beat 48 and 64 at 4x4 planes. */
#define RUN_TILES 128

/* The 16 rows a tile loop stores are kstride apart: gcc cannot prove they do not overlap the
 * loads and would not vectorise it. (clang checks at run time; its assume_safety pragma errors
 * out under -Werror where a sanitizer build cannot vectorise.) */
#if defined(__GNUC__) && !defined(__clang__)
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

/* Floats of the row buffers: the even/odd split of a plane, E, O [(2 th + 2) x (tw + 1)] each,
 * then 16 rows of tw (din's tile results) or two output rows of 2 tw. */
static size_t rows_work(const hs_conv_shape *s) {
    const size_t th = (size_t)tiles_h(s), tw = (size_t)tiles_w(s), loops = 2 * (2 * th + 2) * (tw + 1) + 16 * tw,
                 x86 = HS_WINO_X86_WORK(th, tw);
    return loops > x86 ? loops : x86;
}

size_t hs_conv_winograd_work(const hs_conv_shape *s) {
    const size_t T = (size_t)wino_run(s) * tiles_h(s) * tiles_w(s);
    return 32 * (size_t)s->C_in * s->C_out + 16 * ((size_t)s->C_in + s->C_out) * T + rows_work(s);
}

/* Filters a block of the filter transforms holds (a multiple of the widest vector). */
#define FBLK 64

/* U [16 x KC] = G g G^T of the KC filters W [KC x 9], FBLK filters at a time: the block's taps
 * are first gathered into rows (t[tap][f]), so that the transform runs on contiguous lanes. */
static inline __attribute__((always_inline)) void filters_in(float *restrict U, const float *restrict W, size_t KC) {
    float t[9][FBLK];
    for (size_t f0 = 0; f0 < KC; f0 += FBLK) {
        const int n = KC - f0 < FBLK ? (int)(KC - f0) : FBLK;
        for (int f = 0; f < n; f++)
            for (int q = 0; q < 9; q++) t[q][f] = W[(f0 + f) * 9 + q];
        float *u = U + f0;
        IVDEP
        for (int f = 0; f < n; f++) {
            float gg[4][3]; /* G g: rows g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2 */
            for (int c = 0; c < 3; c++) {
                const float a = t[c][f], b = t[3 + c][f], d = t[6 + c][f];
                gg[0][c] = a, gg[1][c] = 0.5f * (a + b + d), gg[2][c] = 0.5f * (a - b + d), gg[3][c] = d;
            }
            for (int i = 0; i < 4; i++) {
                const float a = gg[i][0], b = gg[i][1], d = gg[i][2];
                u[(4 * i + 0) * KC + f] = a;
                u[(4 * i + 1) * KC + f] = 0.5f * (a + b + d);
                u[(4 * i + 2) * KC + f] = 0.5f * (a - b + d);
                u[(4 * i + 3) * KC + f] = d;
            }
        }
    }
}

/* dW [KC x 9] = G^T dU G of dU [16 x KC], FBLK filters at a time (the taps scattered last). */
static inline __attribute__((always_inline)) void filters_out(float *restrict dW, const float *restrict dU,
                                                              size_t KC) {
    float t[9][FBLK];
    for (size_t f0 = 0; f0 < KC; f0 += FBLK) {
        const int n = KC - f0 < FBLK ? (int)(KC - f0) : FBLK;
        const float *u = dU + f0;
        IVDEP
        for (int f = 0; f < n; f++) {
            /* G^T u = [u0 + (u1 + u2) / 2, (u1 - u2) / 2, (u1 + u2) / 2 + u3] down the columns,
             * then along the rows */
            float r[3][4];
            for (int j = 0; j < 4; j++) {
                const float u0 = u[j * KC + f], u1 = u[(4 + j) * KC + f], u2 = u[(8 + j) * KC + f],
                            u3 = u[(12 + j) * KC + f];
                r[0][j] = u0 + 0.5f * (u1 + u2), r[1][j] = 0.5f * (u1 - u2), r[2][j] = 0.5f * (u1 + u2) + u3;
            }
            for (int a = 0; a < 3; a++) {
                t[3 * a + 0][f] = r[a][0] + 0.5f * (r[a][1] + r[a][2]);
                t[3 * a + 1][f] = 0.5f * (r[a][1] - r[a][2]);
                t[3 * a + 2][f] = 0.5f * (r[a][1] + r[a][2]) + r[a][3];
            }
        }
        for (int f = 0; f < n; f++)
            for (int q = 0; q < 9; q++) dW[(f0 + f) * 9 + q] = t[q][f];
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

/* m [16 x (kstride)] from column t0: A dY A^T of every 2x2 tile dY of one plane y [H x W] (the
 * adjoint of the output transform; zeros past the plane's edge). eo: the row buffer, holding y's
 * even and odd columns, Ye, Yo [2 th x tw]. */
static inline __attribute__((always_inline)) void dout_tiles(float *restrict m, size_t kstride,
                                                             const float *restrict y, int H, int W, int th, int tw,
                                                             float *restrict eo) {
    float *restrict Ye = eo, *restrict Yo = eo + (size_t)2 * th * tw;
    for (int r = 0; r < 2 * th; r++) {
        float *e = Ye + (size_t)r * tw, *o = Yo + (size_t)r * tw;
        if (r >= H) {
            for (int q = 0; q < tw; q++) e[q] = 0.0f, o[q] = 0.0f;
            continue;
        }
        const float *yr = y + (size_t)r * W;
        for (int q = 0; q < tw; q++) e[q] = yr[2 * q];
        for (int q = 0; q < tw; q++) o[q] = 2 * q + 1 < W ? yr[2 * q + 1] : 0.0f;
    }
    for (int ty = 0; ty < th; ty++) {
        const float *e0 = Ye + (size_t)(2 * ty) * tw, *e1 = e0 + tw, *o0 = Yo + (size_t)(2 * ty) * tw, *o1 = o0 + tw;
        float *mt = m + (size_t)ty * tw;
        IVDEP
        for (int tx = 0; tx < tw; tx++) {
            /* A dY: A y = [y0, y0 + y1, y0 - y1, -y1] down each of the two columns, then along rows */
            float t[4][2];
            t[0][0] = e0[tx], t[1][0] = e0[tx] + e1[tx], t[2][0] = e0[tx] - e1[tx], t[3][0] = -e1[tx];
            t[0][1] = o0[tx], t[1][1] = o0[tx] + o1[tx], t[2][1] = o0[tx] - o1[tx], t[3][1] = -o1[tx];
            for (int i = 0; i < 4; i++) {
                mt[(size_t)(4 * i + 0) * kstride + tx] = t[i][0];
                mt[(size_t)(4 * i + 1) * kstride + tx] = t[i][0] + t[i][1];
                mt[(size_t)(4 * i + 2) * kstride + tx] = t[i][0] - t[i][1];
                mt[(size_t)(4 * i + 3) * kstride + tx] = -t[i][1];
            }
        }
    }
}

/* One plane x [H x W] (overwritten) = the sum over tiles of B dV B^T, dV [16 x (kstride)] from
 * column t0, each tile's 4x4 added at its patch (the adjoint of the input transform). Patches
 * overlap by two rows and columns, so the sums are kept in the even/odd split of input_tiles (E,
 * O in eo) where a tile row's tiles are lanes: tile tx adds to E[tx], O[tx], E[tx + 1], O[tx + 1],
 * each set of lanes in its own pass. z: 16 rows of tw, one tile row's 4x4 results. */
static inline __attribute__((always_inline)) void din_tiles(float *restrict x, const float *restrict dv,
                                                            size_t kstride, int H, int W, int th, int tw,
                                                            float *restrict eo, float *restrict z) {
    const int R = 2 * th + 2, L = tw + 1;
    float *restrict E = eo, *restrict O = eo + (size_t)R * L;
    for (size_t i = 0; i < 2 * (size_t)R * L; i++) eo[i] = 0.0f;
    for (int ty = 0; ty < th; ty++) {
        const float *d = dv + (size_t)ty * tw;
        IVDEP
        for (int tx = 0; tx < tw; tx++) {
            /* B v = [v0, v1 - v2 + v3, v1 + v2 - v0, -v3] down the columns, then along rows */
            float r[4][4];
            for (int j = 0; j < 4; j++) {
                const float d0 = d[(size_t)j * kstride + tx], d1 = d[(size_t)(4 + j) * kstride + tx],
                            d2 = d[(size_t)(8 + j) * kstride + tx], d3 = d[(size_t)(12 + j) * kstride + tx];
                r[0][j] = d0, r[1][j] = d1 - d2 + d3, r[2][j] = d1 + d2 - d0, r[3][j] = -d3;
            }
            for (int i = 0; i < 4; i++) {
                z[(4 * i + 0) * tw + tx] = r[i][0];
                z[(4 * i + 1) * tw + tx] = r[i][1] - r[i][2] + r[i][3];
                z[(4 * i + 2) * tw + tx] = r[i][1] + r[i][2] - r[i][0];
                z[(4 * i + 3) * tw + tx] = -r[i][3];
            }
        }
        for (int i = 0; i < 4; i++) {
            float *e = E + (size_t)(2 * ty + i) * L, *o = O + (size_t)(2 * ty + i) * L;
            const float *z0 = z + (4 * i) * tw, *z1 = z0 + tw, *z2 = z1 + tw, *z3 = z2 + tw;
            for (int tx = 0; tx < tw; tx++) e[tx] += z0[tx], o[tx] += z1[tx];
            for (int tx = 0; tx < tw; tx++) e[tx + 1] += z2[tx], o[tx + 1] += z3[tx];
        }
    }
    for (int yy = 0; yy < H; yy++) {
        const float *e = E + (size_t)(yy + 1) * L, *o = O + (size_t)(yy + 1) * L;
        float *xr = x + (size_t)yy * W;
        for (int q = 0; 2 * q < W; q++) xr[2 * q] = o[q];
        for (int q = 1; 2 * q - 1 < W; q++) xr[2 * q - 1] = e[q];
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

static inline __attribute__((always_inline)) void run_dout(float *M, const float *y, int nb, int K, int H, int W,
                                                           int th, int tw, size_t T, float *eo) {
    const size_t P = (size_t)th * tw, plane = (size_t)H * W, kstride = (size_t)K * T;
    for (int j = 0; j < nb; j++)
        for (int c = 0; c < K; c++)
            dout_tiles(M + (size_t)c * T + j * P, kstride, y + ((size_t)j * K + c) * plane, H, W, th, tw, eo);
}
static inline __attribute__((always_inline)) void run_din(float *x, const float *dV, int nb, int C, int H, int W,
                                                          int th, int tw, size_t T, float *eo) {
    const size_t P = (size_t)th * tw, plane = (size_t)H * W, kstride = (size_t)C * T;
    float *z = eo + 2 * (size_t)(2 * th + 2) * (tw + 1);
    for (int j = 0; j < nb; j++)
        for (int c = 0; c < C; c++)
            din_tiles(x + ((size_t)j * C + c) * plane, dV + (size_t)c * T + j * P, kstride, H, W, th, tw, eo, z);
}

/* The four transforms of a run, compiled once per code (the loops above are inlined into each). */
typedef struct {
    void (*in)(float *V, const float *x, int nb, int C, int H, int W, int th, int tw, size_t T, float *eo);
    void (*out)(float *y, const float *M, const float *b, int nb, int K, int H, int W, int th, int tw, size_t T,
                float *rows);
    void (*dout)(float *M, const float *y, int nb, int K, int H, int W, int th, int tw, size_t T, float *eo);
    void (*din)(float *x, const float *dV, int nb, int C, int H, int W, int th, int tw, size_t T, float *eo);
    void (*filters_in)(float *U, const float *W, size_t KC);
    void (*filters_out)(float *dW, const float *dU, size_t KC);
} transforms;

#define TRANSFORMS(ATTR, sfx)                                                                                     \
    static ATTR void run_in_##sfx(float *V, const float *x, int nb, int C, int H, int W, int th, int tw, size_t T, \
                                  float *eo) {                                                                    \
        run_in(V, x, nb, C, H, W, th, tw, T, eo);                                                                 \
    }                                                                                                             \
    static ATTR void run_out_##sfx(float *y, const float *M, const float *b, int nb, int K, int H, int W, int th,  \
                                   int tw, size_t T, float *rows) {                                               \
        run_out(y, M, b, nb, K, H, W, th, tw, T, rows);                                                           \
    }                                                                                                             \
    static ATTR void run_dout_##sfx(float *M, const float *y, int nb, int K, int H, int W, int th, int tw,         \
                                    size_t T, float *eo) {                                                        \
        run_dout(M, y, nb, K, H, W, th, tw, T, eo);                                                               \
    }                                                                                                             \
    static ATTR void run_din_##sfx(float *x, const float *dV, int nb, int C, int H, int W, int th, int tw,        \
                                   size_t T, float *eo) {                                                         \
        run_din(x, dV, nb, C, H, W, th, tw, T, eo);                                                               \
    }                                                                                                             \
    static ATTR void filters_in_##sfx(float *U, const float *W, size_t KC) { filters_in(U, W, KC); }              \
    static ATTR void filters_out_##sfx(float *dW, const float *dU, size_t KC) { filters_out(dW, dU, KC); }        \
    static const transforms transforms_##sfx = {run_in_##sfx,  run_out_##sfx,     run_dout_##sfx,                 \
                                                run_din_##sfx, filters_in_##sfx, filters_out_##sfx};

TRANSFORMS(, base)

static int forced;

void hs_conv_winograd_force(int path) { forced = path; }

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
/* The same loops compiled for wider vectors: a tile row of 28x28 is 14 tiles, two 8-lane AVX2
 * vectors or one 16-lane AVX-512 one, where the baseline's SSE2 takes four. They add, subtract and
 * halve (exact), with no contraction into fused multiply-adds (ISO C: -ffp-contract=off; under
 * clang's default a fused a + 0.5 b equals the unfused one), so every code gives the same bits. */
TRANSFORMS(__attribute__((target("avx2,fma"))), avx2)
TRANSFORMS(__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))), wide)
/* Planes of up to 16 tiles a row (W <= 32) take the intrinsics, whose registers hold whole tile
 * rows: compiled from the loops above, such rows never fill the 16-lane loop and ran scalar. */
static const transforms transforms_x86 = {hs_wino_x86_in,  hs_wino_x86_out,   hs_wino_x86_dout,
                                          hs_wino_x86_din, filters_in_wide, filters_out_wide};
static const transforms *pick(const hs_conv_shape *s) {
    if (forced == 1) return &transforms_base;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        return forced != 2 && hs_wino_x86_ok(tiles_w(s)) ? &transforms_x86 : &transforms_wide;
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &transforms_avx2 : &transforms_base;
}
#else
static const transforms *pick(const hs_conv_shape *s) {
    (void)s;
    return &transforms_base;
}
#endif

/* The scratch of a run, after U (and dU): V [16 x C_in x T], M [16 x C_out x T], the row buffers. */
typedef struct {
    float *V, *M, *eo, *rows;
} run_work;

static run_work carve(float *w, const hs_conv_shape *s, size_t Tmax) {
    const int th = tiles_h(s), tw = tiles_w(s);
    run_work r;
    r.V = w, r.M = r.V + 16 * (size_t)s->C_in * Tmax, r.eo = r.M + 16 * (size_t)s->C_out * Tmax;
    r.rows = r.eo + 2 * (size_t)(2 * th + 2) * (tw + 1);
    return r;
}

void hs_conv_winograd_forward(float *out, const float *in, const float *W, const float *b, const hs_conv_shape *s,
                              float *work) {
    const transforms *tf = pick(s);
    const int C = s->C_in, K = s->C_out, H = s->H, Wd = s->W, th = tiles_h(s), tw = tiles_w(s), run = wino_run(s);
    const size_t P = (size_t)th * tw, plane = (size_t)H * Wd, KC = (size_t)K * C;
    float *U = work;
    tf->filters_in(U, W, KC);
    const run_work r = carve(work + 16 * KC, s, (size_t)run * P);
    for (int n0 = 0; n0 < s->B; n0 += run) {
        const int nb = s->B - n0 < run ? s->B - n0 : run;
        const size_t T = (size_t)nb * P;
        tf->in(r.V, in + (size_t)n0 * C * plane, nb, C, H, Wd, th, tw, T, r.eo);
        for (int k = 0; k < 16; k++)
            hs_gemm_conv(HS_GEMM_NN, K, (int)T, C, U + (size_t)k * KC, C, r.V + (size_t)k * C * T, (int)T, NULL, 0,
                         r.M + (size_t)k * K * T, (int)T);
        tf->out(out + (size_t)n0 * K * plane, r.M, b, nb, K, H, Wd, th, tw, T, r.rows);
    }
}

/* Per run: V of the input, M = A dY A^T of dout; dU[k] += M[k] . V[k]^T (NT); with din, dV[k] =
 * U[k]^T . M[k] (TN) into V's place, then din = the overlap-add of B dV B^T. Last, dW = G^T dU G. */
void hs_conv_winograd_backward(float *din, float *dW, float *db, const float *dout, const float *in, const float *W,
                               const hs_conv_shape *s, float *work) {
    const transforms *tf = pick(s);
    const int C = s->C_in, K = s->C_out, H = s->H, Wd = s->W, th = tiles_h(s), tw = tiles_w(s), run = wino_run(s);
    const size_t P = (size_t)th * tw, plane = (size_t)H * Wd, KC = (size_t)K * C;
    if (db)
        for (int co = 0; co < K; co++) {
            double sum = 0.0;
            for (int n = 0; n < s->B; n++) sum += hs_sum_row(dout + ((size_t)n * K + co) * plane, plane);
            db[co] = (float)sum;
        }
    float *U = work, *dU = work + 16 * KC;
    if (din) tf->filters_in(U, W, KC);
    const run_work r = carve(work + 32 * KC, s, (size_t)run * P);
    for (int n0 = 0; n0 < s->B; n0 += run) {
        const int nb = s->B - n0 < run ? s->B - n0 : run;
        const size_t T = (size_t)nb * P;
        tf->in(r.V, in + (size_t)n0 * C * plane, nb, C, H, Wd, th, tw, T, r.eo);
        tf->dout(r.M, dout + (size_t)n0 * K * plane, nb, K, H, Wd, th, tw, T, r.eo);
        for (int k = 0; k < 16; k++)
            hs_gemm_conv(HS_GEMM_NT, K, C, (int)T, r.M + (size_t)k * K * T, (int)T, r.V + (size_t)k * C * T, (int)T,
                         NULL, n0 > 0, dU + (size_t)k * KC, C);
        if (!din) continue;
        for (int k = 0; k < 16; k++)
            hs_gemm_conv(HS_GEMM_TN, C, (int)T, K, U + (size_t)k * KC, C, r.M + (size_t)k * K * T, (int)T, NULL, 0,
                         r.V + (size_t)k * C * T, (int)T);
        tf->din(din + (size_t)n0 * C * plane, r.V, nb, C, H, Wd, th, tw, T, r.eo);
    }
    tf->filters_out(dW, dU, KC);
}
