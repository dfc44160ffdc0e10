/* conv_winograd_x86.c - the four run transforms of conv_winograd.c as AVX-512 intrinsics, for
 * planes of at most 16 tiles a row (W <= 32: the 28x28 .. 4x4 planes of a ResNet on
 * Fashion-MNIST). See conv_winograd.h.
 *
 * Why: compiled from the portable loops, a tile row of 14 (or 7, 4, 2) tiles is shorter than the
 * 16-lane vector loop, so all of it ran in the scalar remainder, and the transforms took 38% of a
 * ResNet-18 step at width 0.5. Here one register holds g = 16 / tw whole tile rows, i.e. 16
 * consecutive tiles of the plane in the order V and M store them, so every row of V or M a group
 * writes (or reads) is one contiguous masked store (or load). The patches' rows and columns are
 * first split by parity into small plane-sized arrays (X below) in the same tile order, so a
 * group's inputs are masked loads as well; din's overlap-add and the output's interleave are
 * lane permutes.
 *
 * The arithmetic is the portable loops', operation for operation (adds and subtracts of the same
 * operands in the same order, negation as a sign flip, din's overlapping sums accumulated in the
 * portable order from +0), so the results are the same bits (unit_conv checks it). */
#include "conv_winograd.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))

static inline __mmask16 first(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

static inline AVX512 __m512 neg(__m512 v) {
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000u)));
}

/* A row of up to 32 floats as two registers, zero past n. */
static inline AVX512 void load_row(const float *x, int n, __m512 *lo, __m512 *hi) {
    *lo = _mm512_maskz_loadu_ps(first(n), x);
    *hi = _mm512_maskz_loadu_ps(first(n - 16), x + 16);
}

/* Lane q = x[2q + off] of the row (lo, hi) where 0 <= 2q + off < n and q < tw, else 0. */
static inline AVX512 __m512 pick_cols(__m512 lo, __m512 hi, int off, int n, int tw) {
    const __m512i q = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i col = _mm512_add_epi32(_mm512_add_epi32(q, q), _mm512_set1_epi32(off));
    const __mmask16 ok = _mm512_cmpge_epi32_mask(col, _mm512_setzero_si512()) &
                         _mm512_cmplt_epi32_mask(col, _mm512_set1_epi32(n)) & first(tw);
    return _mm512_maskz_permutex2var_ps(ok, lo, _mm512_and_si512(col, _mm512_set1_epi32(31)), hi);
}

/* Writes the rows of a group, lanes (r, q) of even and odd (columns 2q and 2q + 1 of row r),
 * to y's rows row0 + 2 r (r < nr, rows below H only), W columns each. */
static inline AVX512 void store_interleaved(float *y, __m512 even, __m512 odd, int row0, int nr, int H, int W, int tw) {
    const __m512i k = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i half = _mm512_srli_epi32(k, 1),
                  odd_bit = _mm512_slli_epi32(_mm512_and_si512(k, _mm512_set1_epi32(1)), 4);
    for (int r = 0; r < nr; r++) {
        const int row = row0 + 2 * r;
        if (row < 0 || row >= H) continue;
        for (int h = 0; 16 * h < W; h++) {
            const __m512i src =
                _mm512_and_si512(_mm512_add_epi32(half, _mm512_set1_epi32(r * tw + 8 * h)), _mm512_set1_epi32(15));
            const __m512 v = _mm512_permutex2var_ps(even, _mm512_or_si512(src, odd_bit), odd);
            _mm512_mask_storeu_ps(y + (size_t)row * W + 16 * h, first(W - 16 * h), v);
        }
    }
}

/* Prefetch of the plane the next call reads: its rows are a few hundred bytes of an activation
 * far beyond L2, and the 16 streams of V and M a plane writes in between hide the sequential
 * reads from the hardware prefetcher. */
static inline void prefetch_plane(const float *x, size_t n) {
    for (size_t i = 0; i < n; i += 16) _mm_prefetch((const char *)(x + i), _MM_HINT_T0);
}

/* X [8 x (th + 1) x tw] of one plane x [H x W]: X[p][c] holds the padded plane's row 2 m + p (x's
 * row 2 m + p - 1) at the column phase c of tile q (x's column 2 q - 1 + c). */
static AVX512 void input_split(float *restrict X, const float *restrict x, int H, int W, int th, int tw) {
    const size_t A = (size_t)(th + 1) * tw;
    for (int R = 0; R < 2 * th + 2; R++) {
        const int y = R - 1, p = R & 1, m = R >> 1;
        __m512 lo = _mm512_setzero_ps(), hi = lo;
        if (y >= 0 && y < H) load_row(x + (size_t)y * W, W, &lo, &hi);
        for (int c = 0; c < 4; c++)
            _mm512_mask_storeu_ps(X + (size_t)(4 * p + c) * A + (size_t)m * tw, first(tw),
                                  pick_cols(lo, hi, c - 1, W, tw));
    }
}

/* V rows (B^T d B of every tile) from a plane's X. */
static AVX512 void input_tiles(float *restrict v, size_t kstride, const float *restrict X, int th, int tw) {
    const size_t A = (size_t)(th + 1) * tw;
    const int g = 16 / tw;
    for (int ty0 = 0; ty0 < th; ty0 += g) {
        const __mmask16 mk = first((th - ty0 < g ? th - ty0 : g) * tw);
        __m512 d[4][4];
        for (int i = 0; i < 4; i++)
            for (int c = 0; c < 4; c++)
                d[i][c] = _mm512_maskz_loadu_ps(mk, X + (size_t)(4 * (i & 1) + c) * A + (size_t)(ty0 + (i >> 1)) * tw);
        float *vt = v + (size_t)ty0 * tw;
        for (int c = 0; c < 4; c++) {
            const __m512 a0 = _mm512_sub_ps(d[0][c], d[2][c]), a1 = _mm512_add_ps(d[1][c], d[2][c]),
                         a2 = _mm512_sub_ps(d[2][c], d[1][c]), a3 = _mm512_sub_ps(d[1][c], d[3][c]);
            d[0][c] = a0, d[1][c] = a1, d[2][c] = a2, d[3][c] = a3; /* d[i] now holds B^T d's row i */
        }
        for (int i = 0; i < 4; i++) {
            _mm512_mask_storeu_ps(vt + (size_t)(4 * i + 0) * kstride, mk, _mm512_sub_ps(d[i][0], d[i][2]));
            _mm512_mask_storeu_ps(vt + (size_t)(4 * i + 1) * kstride, mk, _mm512_add_ps(d[i][1], d[i][2]));
            _mm512_mask_storeu_ps(vt + (size_t)(4 * i + 2) * kstride, mk, _mm512_sub_ps(d[i][2], d[i][1]));
            _mm512_mask_storeu_ps(vt + (size_t)(4 * i + 3) * kstride, mk, _mm512_sub_ps(d[i][1], d[i][3]));
        }
    }
}

/* One plane y [H x W] = A^T m A + bias of its tiles. */
static AVX512 void output_plane(float *restrict y, const float *restrict m, size_t kstride, float bias, int H, int W,
                                int th, int tw) {
    const int g = 16 / tw;
    const __m512 b = _mm512_set1_ps(bias);
    for (int ty0 = 0; ty0 < th; ty0 += g) {
        const int nr = th - ty0 < g ? th - ty0 : g;
        const __mmask16 mk = first(nr * tw);
        const float *mt = m + (size_t)ty0 * tw;
        __m512 s0[4], s1[4];
        for (int j = 0; j < 4; j++) {
            const __m512 m0 = _mm512_maskz_loadu_ps(mk, mt + (size_t)j * kstride),
                         m1 = _mm512_maskz_loadu_ps(mk, mt + (size_t)(4 + j) * kstride),
                         m2 = _mm512_maskz_loadu_ps(mk, mt + (size_t)(8 + j) * kstride),
                         m3 = _mm512_maskz_loadu_ps(mk, mt + (size_t)(12 + j) * kstride);
            s0[j] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
            s1[j] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
        }
        const __m512 e0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s0[0], s0[1]), s0[2]), b),
                     o0 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s0[1], s0[2]), s0[3]), b),
                     e1 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s1[0], s1[1]), s1[2]), b),
                     o1 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s1[1], s1[2]), s1[3]), b);
        store_interleaved(y, e0, o0, 2 * ty0, nr, H, W, tw);
        store_interleaved(y, e1, o1, 2 * ty0 + 1, nr, H, W, tw);
    }
}

/* Y [4 x th x tw] of one plane y [H x W]: Y[p][c] holds y's row 2 m + p at column 2 q + c (zeros
 * past the plane). */
static AVX512 void dout_split(float *restrict Y, const float *restrict y, int H, int W, int th, int tw) {
    const size_t A = (size_t)th * tw;
    for (int r = 0; r < 2 * th; r++) {
        __m512 lo = _mm512_setzero_ps(), hi = lo;
        if (r < H) load_row(y + (size_t)r * W, W, &lo, &hi);
        for (int c = 0; c < 2; c++)
            _mm512_mask_storeu_ps(Y + (size_t)(2 * (r & 1) + c) * A + (size_t)(r >> 1) * tw, first(tw),
                                  pick_cols(lo, hi, c, W, tw));
    }
}

/* M rows = A dY A^T of the 2x2 tiles of a plane's Y. */
static AVX512 void dout_tiles(float *restrict m, size_t kstride, const float *restrict Y, int th, int tw) {
    const size_t A = (size_t)th * tw;
    const int g = 16 / tw;
    for (int ty0 = 0; ty0 < th; ty0 += g) {
        const __mmask16 mk = first((th - ty0 < g ? th - ty0 : g) * tw);
        const size_t off = (size_t)ty0 * tw;
        const __m512 e0 = _mm512_maskz_loadu_ps(mk, Y + off), o0 = _mm512_maskz_loadu_ps(mk, Y + A + off),
                     e1 = _mm512_maskz_loadu_ps(mk, Y + 2 * A + off), o1 = _mm512_maskz_loadu_ps(mk, Y + 3 * A + off);
        __m512 t[4][2];
        t[0][0] = e0, t[1][0] = _mm512_add_ps(e0, e1), t[2][0] = _mm512_sub_ps(e0, e1), t[3][0] = neg(e1);
        t[0][1] = o0, t[1][1] = _mm512_add_ps(o0, o1), t[2][1] = _mm512_sub_ps(o0, o1), t[3][1] = neg(o1);
        float *mt = m + off;
        for (int i = 0; i < 4; i++) {
            _mm512_mask_storeu_ps(mt + (size_t)(4 * i + 0) * kstride, mk, t[i][0]);
            _mm512_mask_storeu_ps(mt + (size_t)(4 * i + 1) * kstride, mk, _mm512_add_ps(t[i][0], t[i][1]));
            _mm512_mask_storeu_ps(mt + (size_t)(4 * i + 2) * kstride, mk, _mm512_sub_ps(t[i][0], t[i][1]));
            _mm512_mask_storeu_ps(mt + (size_t)(4 * i + 3) * kstride, mk, neg(t[i][1]));
        }
    }
}

/* The lanes of a group shifted by dr tile rows (-1 or 0) and dq tiles (-1, 0, 1): lane (r, q)
 * takes tile (r + dr, q + dq), from cur or, for row -1, from prev's last row; 0 where q + dq is
 * outside the row. */
typedef struct {
    __m512i idx;
    __mmask16 ok;
} shift;

static inline AVX512 shift make_shift(int dr, int dq, int g, int tw) {
    int idx[16];
    __mmask16 ok = 0;
    for (int k = 0; k < 16; k++) {
        const int r = k / tw, q = k % tw, rr = r + dr, qq = q + dq;
        idx[k] = 0;
        if (r >= g || qq < 0 || qq >= tw) continue;
        ok |= (__mmask16)(1u << k);
        idx[k] = rr >= 0 ? 16 + rr * tw + qq : (g - 1) * tw + qq;
    }
    shift s = {_mm512_loadu_si512(idx), ok};
    return s;
}

static inline AVX512 __m512 shifted(shift s, __m512 prev, __m512 cur) {
    return _mm512_maskz_permutex2var_ps(s.ok, prev, s.idx, cur);
}

/* One plane x [H x W] (overwritten) = the overlap-add of B dV B^T over its tiles. A group covers
 * the padded rows 2 m + p of tile rows m = ty0 .. ty0 + g - 1 (m up to th: the last tile row's
 * lower patch rows), which take the tile rows m - 1 (patch rows 2 + p) and m (patch rows p); a
 * padded row's odd column 2 q + 1 sums phase 0 of tile q + 1 and phase 2 of tile q, its even
 * column 2 q phase 1 of tile q and phase 3 of tile q - 1, in the portable loops' order. */
static AVX512 void din_plane(float *restrict x, const float *restrict dv, size_t kstride, int H, int W, int th, int tw,
                             const shift sh[5]) {
    const int g = 16 / tw;
    const shift up_right = sh[0], up = sh[1], up_left = sh[2], right = sh[3], left = sh[4];
    const __m512 zero = _mm512_setzero_ps();
    __m512 prev[2][4]; /* the previous group's z of patch rows 2 and 3 */
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) prev[i][j] = zero;
    for (int ty0 = 0; ty0 <= th; ty0 += g) {
        const int nr = th + 1 - ty0 < g ? th + 1 - ty0 : g, nt = th - ty0 < nr ? th - ty0 : nr;
        const __mmask16 mk = first(nt * tw);
        const float *d = dv + (size_t)ty0 * tw;
        __m512 r[4][4], z[4][4];
        for (int j = 0; j < 4; j++) {
            const __m512 d0 = _mm512_maskz_loadu_ps(mk, d + (size_t)j * kstride),
                         d1 = _mm512_maskz_loadu_ps(mk, d + (size_t)(4 + j) * kstride),
                         d2 = _mm512_maskz_loadu_ps(mk, d + (size_t)(8 + j) * kstride),
                         d3 = _mm512_maskz_loadu_ps(mk, d + (size_t)(12 + j) * kstride);
            r[0][j] = d0, r[1][j] = _mm512_add_ps(_mm512_sub_ps(d1, d2), d3);
            r[2][j] = _mm512_sub_ps(_mm512_add_ps(d1, d2), d0), r[3][j] = neg(d3);
        }
        for (int i = 0; i < 4; i++) {
            z[i][0] = r[i][0];
            z[i][1] = _mm512_add_ps(_mm512_sub_ps(r[i][1], r[i][2]), r[i][3]);
            z[i][2] = _mm512_sub_ps(_mm512_add_ps(r[i][1], r[i][2]), r[i][0]);
            z[i][3] = neg(r[i][3]);
        }
        for (int p = 0; p < 2; p++) {
            const __m512 *za = prev[p], *cur_a = z[2 + p], *zb = z[p];
            __m512 odd = _mm512_add_ps(zero, shifted(up_right, za[0], cur_a[0]));
            odd = _mm512_add_ps(odd, shifted(up, za[2], cur_a[2]));
            odd = _mm512_add_ps(odd, shifted(right, zero, zb[0]));
            odd = _mm512_add_ps(odd, zb[2]);
            __m512 even = _mm512_add_ps(zero, shifted(up, za[1], cur_a[1]));
            even = _mm512_add_ps(even, shifted(up_left, za[3], cur_a[3]));
            even = _mm512_add_ps(even, zb[1]);
            even = _mm512_add_ps(even, shifted(left, zero, zb[3]));
            store_interleaved(x, even, odd, 2 * ty0 + p - 1, nr, H, W, tw);
        }
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 4; j++) prev[i][j] = z[2 + i][j];
    }
}

/* The planes of a run in order, each split one plane ahead of its tiles (two buffers): a masked
 * store does not forward to a later load, which then waits for it to reach L1; a plane later, it
 * has. */
AVX512 void hs_wino_x86_in(float *V, const float *x, int nb, int C, int H, int W, int th, int tw, size_t T, float *eo) {
    const size_t P = (size_t)th * tw, plane = (size_t)H * W, kstride = (size_t)C * T, A = 8 * (size_t)(th + 1) * tw;
    const int n = nb * C;
    input_split(eo, x, H, W, th, tw);
    for (int i = 0; i < n; i++) {
        if (i + 2 < n) prefetch_plane(x + (size_t)(i + 2) * plane, plane);
        if (i + 1 < n) input_split(eo + (size_t)((i + 1) & 1) * A, x + (size_t)(i + 1) * plane, H, W, th, tw);
        const int j = i / C, c = i % C;
        input_tiles(V + (size_t)c * T + j * P, kstride, eo + (size_t)(i & 1) * A, th, tw);
    }
}

AVX512 void hs_wino_x86_out(float *y, const float *M, const float *b, int nb, int K, int H, int W, int th, int tw,
                            size_t T, float *rows) {
    (void)rows;
    const size_t P = (size_t)th * tw, plane = (size_t)H * W, kstride = (size_t)K * T;
    for (int j = 0; j < nb; j++)
        for (int c = 0; c < K; c++)
            output_plane(y + ((size_t)j * K + c) * plane, M + (size_t)c * T + j * P, kstride, b ? b[c] : 0.0f, H, W, th,
                         tw);
}

AVX512 void hs_wino_x86_dout(float *M, const float *y, int nb, int K, int H, int W, int th, int tw, size_t T,
                             float *eo) {
    const size_t P = (size_t)th * tw, plane = (size_t)H * W, kstride = (size_t)K * T, A = 4 * (size_t)th * tw;
    const int n = nb * K;
    dout_split(eo, y, H, W, th, tw);
    for (int i = 0; i < n; i++) {
        if (i + 2 < n) prefetch_plane(y + (size_t)(i + 2) * plane, plane);
        if (i + 1 < n) dout_split(eo + (size_t)((i + 1) & 1) * A, y + (size_t)(i + 1) * plane, H, W, th, tw);
        const int j = i / K, c = i % K;
        dout_tiles(M + (size_t)c * T + j * P, kstride, eo + (size_t)(i & 1) * A, th, tw);
    }
}

AVX512 void hs_wino_x86_din(float *x, const float *dV, int nb, int C, int H, int W, int th, int tw, size_t T,
                            float *eo) {
    (void)eo;
    const size_t P = (size_t)th * tw, plane = (size_t)H * W, kstride = (size_t)C * T;
    const int g = 16 / tw;
    const shift sh[5] = {make_shift(-1, 1, g, tw), make_shift(-1, 0, g, tw), make_shift(-1, -1, g, tw),
                         make_shift(0, 1, g, tw), make_shift(0, -1, g, tw)};
    for (int j = 0; j < nb; j++)
        for (int c = 0; c < C; c++)
            din_plane(x + ((size_t)j * C + c) * plane, dV + (size_t)c * T + j * P, kstride, H, W, th, tw, sh);
}

int hs_wino_x86_ok(int tw) { return tw <= 16 && __builtin_cpu_supports("avx512f"); }
#else
int hs_wino_x86_ok(int tw) {
    (void)tw;
    return 0;
}
#endif
