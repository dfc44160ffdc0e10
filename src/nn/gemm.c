/* gemm.c - see gemm.h. The kernel is the classic register-blocked outer product: C is cut into
 * panels of up to 32 columns; for each panel and block of KC inner indices, op(B) is packed into
 * a contiguous, zero-padded [kc x 16 or 32] buffer on the stack (a copy for NN/TN, a 16 x 16
 * in-register transpose for NT), then tiles of MR rows of C accumulate in zmm registers:
 * per inner index, one or two vector loads of the panel, MR broadcasts of A, 2 MR FMAs. NN/TN
 * products with B's rows far apart (a wide layer's W in din = dout W) pack eight panels at once
 * (gemm_avx512_wide), so each row of B is read as one 1 kB stream.
 *
 * hs_gemm_kernel and hs_gemm_nt_short serve a minibatch of a few dozen rows against a weight of
 * megabytes (the SRHM nets, src/nn/hnet.c): the wide path in the orders of its flags (dW written
 * by row tiles and optionally around the caches, din's weight prefetched), and the forward as
 * its transpose, the weight streamed through the broadcasts of the tiles (gemm_avx512_nt_short),
 * with 17-24-wide panels on a zmm and a ymm (tile_24). */
#include <cblas.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "gemm.h"
#include "hsweep/nn.h"
#include "hsweep/util.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define GEMM_X86 1
#include <immintrin.h>
#else
#define GEMM_X86 0
#endif

static int forced_path; /* hs_gemm_force */

void hs_gemm_force(int path) { forced_path = path; }

const char *hs_nn_gemm_path(void) { return forced_path != 1 && hs_gemm_have_kernel() ? "hsweep-avx512+blas" : "blas"; }

int hs_gemm_have_kernel(void) {
#if GEMM_X86
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* ================================================================ cblas path */

static void gemm_cblas(hs_gemm_op op, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                       const float *bias, int accumulate, float *C, int ldc) {
    float beta = accumulate ? 1.0f : 0.0f;
    if (bias) {
        for (int r = 0; r < M; r++) {
            float *c = C + (size_t)r * ldc;
            if (accumulate)
                for (int j = 0; j < N; j++) c[j] += bias[j];
            else
                for (int j = 0; j < N; j++) c[j] = bias[j];
        }
        beta = 1.0f; /* sgemm accumulates onto the broadcast bias */
    }
    const CBLAS_TRANSPOSE ta = op == HS_GEMM_TN ? CblasTrans : CblasNoTrans,
                          tb = op == HS_GEMM_NT ? CblasTrans : CblasNoTrans;
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}

#if GEMM_X86
/* ================================================================ AVX-512 kernel */

#define AVX512 __attribute__((target("avx512f,fma")))
#define KC 256 /* inner indices per packed block: a 32-wide panel is 32 kB, inside L1 */
#define MR 12  /* rows per register tile: 12 x 2 accumulators + 2 panel vectors + a broadcast */

static inline __mmask16 mask_first(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

/* 16 x 16 transpose in registers: on return r[c] holds column c of the rows given. */
static inline AVX512 void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        const __m512d t0 = _mm512_castps_pd(t[4 * i]), t1 = _mm512_castps_pd(t[4 * i + 1]),
                      t2 = _mm512_castps_pd(t[4 * i + 2]), t3 = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    /* now lane L of r[4m + q] holds rows 4m..4m+3 of column 4L + q: transpose the lanes */
    for (int q = 0; q < 4; q++) {
        const __m512 a = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x88), b = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xdd),
                     c = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x88),
                     d = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xdd);
        t[q] = _mm512_shuffle_f32x4(a, c, 0x88);
        t[4 + q] = _mm512_shuffle_f32x4(b, d, 0x88);
        t[8 + q] = _mm512_shuffle_f32x4(a, c, 0xdd);
        t[12 + q] = _mm512_shuffle_f32x4(b, d, 0xdd);
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

#define KCW 128 /* inner indices per wide block (HS_GEMM_UPDATE_MAX_K) */
_Static_assert(HS_GEMM_UPDATE_MAX_K <= KCW, "hs_gemm_tn_update sums each element in one block");
#define NW 256  /* columns per wide block: 8 panels, 128 kB packed */

/* Pack B[k0 .. k0+kc) x [J0 .. J0+nJ) (NN/TN, B [K x N]) as nJ/32 panels [kc x 16 or 32] (zeros
 * beyond nJ), panel p at bp + p * KCW * 32, reading each row's nJ floats in one pass. A wide layer's B (din
 * = dout W: W's rows 4 kB apart) read 32 columns at a time is 2-3 cache lines per row, a pattern
 * the hardware prefetchers do not follow, and each panel's pack waited on L3 (about a quarter of
 * the product's time, perf); 1 kB per row is a stream they do follow. */
static AVX512 void pack_b_wide(const float *B, int ldb, int k0, int kc, int J0, int nJ, float *restrict bp) {
    const int np = (nJ + 31) / 32;
    for (int k = 0; k < kc; k++) {
        const float *b = B + (size_t)(k0 + k) * ldb + J0;
        for (int p = 0; p < np; p++) {
            const int nr = nJ - 32 * p < 32 ? nJ - 32 * p : 32, ps = nr > 16 ? 32 : 16;
            float *dst = bp + (size_t)p * KCW * 32 + (size_t)k * ps;
            _mm512_store_ps(dst, _mm512_maskz_loadu_ps(mask_first(nr), b + 32 * p));
            if (ps == 32) _mm512_store_ps(dst + 16, _mm512_maskz_loadu_ps(mask_first(nr - 16), b + 32 * p + 16));
        }
    }
}

/* Pack op(B)[k0 .. k0+kc) x [j0 .. j0+nr) into bp [kc x ps] (ps = 16 or 32 >= nr), zeros beyond
 * nr: row copies for NN/TN (B [K x N]), 16 x 16 blocks transposed in registers for NT (B [N x K]). */
static AVX512 void pack_b(hs_gemm_op op, const float *B, int ldb, int k0, int kc, int j0, int nr, int ps,
                          float *restrict bp) {
    if (op != HS_GEMM_NT) { /* one panel of the wide pack (ps = 16 or 32 as it would choose) */
        pack_b_wide(B, ldb, k0, kc, j0, nr, bp);
        return;
    }
    const int far = ldb >= 512; /* rows 2 kB or more apart: B is a wide layer's, likely beyond L2 */
    for (int jb = 0; jb < ps; jb += 16) {
        const int rows = nr - jb;
        for (int kb = 0; kb < kc; kb += 16) {
            const int kn = kc - kb < 16 ? kc - kb : 16;
            const __mmask16 km = mask_first(kn);
            __m512 r[16];
            for (int i = 0; i < 16; i++) {
                const float *b = B + (size_t)(j0 + jb + i) * ldb + k0 + kb;
                if (far && i < rows && kb + 64 < kc) _mm_prefetch((const char *)(b + 64), _MM_HINT_T0); /* 4 lines on */
                r[i] = i < rows ? _mm512_maskz_loadu_ps(km, b) : _mm512_setzero_ps();
            }
            transpose16(r);
            for (int c = 0; c < kn; c++) _mm512_store_ps(bp + (size_t)(kb + c) * ps + jb, r[c]);
        }
    }
}

/* One register tile: C[mr x nv*16] (last vector masked by mlast) over kc inner indices, A(i, k)
 * at a[i*si + k*sk], op(B)(k, j) at bp[k*16*nv + j] (the packed panel). init: 0 start from
 * zero, 1 from C, 2 from bias (then 3: C + bias). stream (a constant): whole aligned vectors of
 * C are stored non-temporally (the last block of a C that will not be read again before it
 * would have left the caches). pf (may be NULL): one line prefetched into L2 per inner index, at
 * pf + k * pfs bytes. up (may be NULL, a constant NULL in every other form): C is a weight and the
 * tile its gradient, which is not stored but steps C and mom (NULL for plain SGD, else the
 * momentum, rows ldc apart) as optim.c does; meanwhile the two lines of each of the first up_rows
 * rows up_ahead floats on (of C and mom) are prefetched, spread over the inner indices. */
static inline __attribute__((always_inline)) AVX512 void tile(const int mr, const int nv, int kc, const float *a,
                                                              ptrdiff_t si, ptrdiff_t sk, const float *bp, float *c,
                                                              ptrdiff_t ldc, __mmask16 mlast, int init,
                                                              const float *bias, const char *pf, ptrdiff_t pfs,
                                                              const int stream, float *mom,
                                                              const hs_optim_sgd *up, ptrdiff_t up_ahead,
                                                              int up_rows) {
    __m512 acc[MR][2];
    const __mmask16 m[2] = {nv == 1 ? mlast : (__mmask16)0xFFFF, mlast};
    __m512 bv[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    if (init & 2)
        for (int v = 0; v < nv; v++) bv[v] = _mm512_maskz_loadu_ps(m[v], bias + 16 * v);
#pragma GCC unroll 12
    for (int i = 0; i < mr; i++)
#pragma GCC unroll 2
        for (int v = 0; v < nv; v++)
            acc[i][v] = init & 1 ? _mm512_add_ps(_mm512_maskz_loadu_ps(m[v], c + i * ldc + 16 * v), bv[v]) : bv[v];
    /* the prefetches of a later tile spread over the inner indices: a burst of them would fill
     * the core's queue of misses */
    const int up_step = up_rows > 0 && kc > up_rows ? kc / up_rows : 1;
    int up_row = 0, up_next = 0;
    for (int k = 0; k < kc; k++) {
        /* the panel is aligned and zero-padded: plain loads (unaligned rows of B in place would
         * split cache lines and cost 5-10% here) */
        const __m512 b0 = _mm512_load_ps(bp + k * nv * 16);
        const __m512 b1 = nv == 2 ? _mm512_load_ps(bp + k * 32 + 16) : b0;
        const float *ak = a + k * sk;
        if (pf) _mm_prefetch(pf + k * pfs, _MM_HINT_T1);
        if (up && k == up_next && up_row < up_rows) { /* a row of a later tile's weight and momentum */
            const uintptr_t at = (uintptr_t)(c + up_row * ldc) + (uintptr_t)(up_ahead * 4);
            _mm_prefetch((const char *)at, _MM_HINT_T0);
            _mm_prefetch((const char *)(at + 64), _MM_HINT_T0);
            if (mom) {
                const uintptr_t atm = (uintptr_t)(mom + up_row * ldc) + (uintptr_t)(up_ahead * 4);
                _mm_prefetch((const char *)atm, _MM_HINT_T0);
                _mm_prefetch((const char *)(atm + 64), _MM_HINT_T0);
            }
            up_row++, up_next += up_step;
        }
#pragma GCC unroll 12
        for (int i = 0; i < mr; i++) {
            const __m512 ai = _mm512_set1_ps(ak[i * si]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            if (nv == 2) acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    if (up) { /* c is the weight, acc its gradient: optim.c's rules, operation by operation; the
               * explicitly rounded forms, which no compiler contracts into an FMA (optim.c has
               * none: the bits would differ) */
#define UP_RN (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define UP_MUL(x, y) _mm512_mul_round_ps(x, y, UP_RN)
#define UP_ADD(x, y) _mm512_add_round_ps(x, y, UP_RN)
        const __m512 lr = _mm512_set1_ps(up->lr), wd = _mm512_set1_ps(up->wd), mu = _mm512_set1_ps(up->mu);
#pragma GCC unroll 12
        for (int i = 0; i < mr; i++)
#pragma GCC unroll 2
            for (int v = 0; v < nv; v++) {
                float *pv = c + i * ldc + 16 * v;
                const __m512 p = _mm512_maskz_loadu_ps(m[v], pv), g = acc[i][v];
                __m512 step;
                if (!mom) {
                    step = up->wd == 0.0f ? g : UP_ADD(g, UP_MUL(wd, p));
                } else {
                    float *bv = mom + i * ldc + 16 * v;
                    const __m512 d = UP_ADD(g, UP_MUL(wd, p));
                    const __m512 b = UP_ADD(UP_MUL(mu, _mm512_maskz_loadu_ps(m[v], bv)), d);
                    _mm512_mask_storeu_ps(bv, m[v], b);
                    step = up->nesterov ? UP_ADD(d, UP_MUL(mu, b)) : b;
                }
                _mm512_mask_storeu_ps(pv, m[v], _mm512_sub_round_ps(p, UP_MUL(lr, step), UP_RN));
            }
#undef UP_ADD
#undef UP_MUL
#undef UP_RN
        return;
    }
#pragma GCC unroll 12
    for (int i = 0; i < mr; i++)
#pragma GCC unroll 2
        for (int v = 0; v < nv; v++) {
            float *cv = c + i * ldc + 16 * v;
            if (stream && m[v] == (__mmask16)0xFFFF && ((uintptr_t)cv & 63) == 0) _mm512_stream_ps(cv, acc[i][v]);
            else _mm512_mask_storeu_ps(cv, m[v], acc[i][v]);
        }
}

/* The tile shapes, each compiled with constant bounds (so the accumulators live in registers);
 * the sk == 1 forms (NN/NT: A row-major, rows strided) and si == 1 forms (TN) are separate so
 * the addressing of A is as simple as possible in each. Only the _p forms (sk == 1, for
 * hs_gemm_kernel's NN) prefetch and only the _s forms (si == 1, its TN) store around the caches:
 * a test in the loops costs a short tile (a 10-class readout's) 7-13%. */
typedef void tile_fn(int kc, const float *a, ptrdiff_t si, ptrdiff_t sk, const float *bp, float *c, ptrdiff_t ldc,
                     __mmask16 mlast, int init, const float *bias, const char *pf, ptrdiff_t pfs);
#define TILE(MRV, NV)                                                                                             \
    static AVX512 void tile_##MRV##_##NV##_r(int kc, const float *a, ptrdiff_t si, ptrdiff_t sk, const float *bp, \
                                             float *c, ptrdiff_t ldc, __mmask16 mlast, int init,                  \
                                             const float *bias, const char *pf, ptrdiff_t pfs) {                  \
        (void)sk, (void)pf, (void)pfs;                                                                            \
        tile(MRV, NV, kc, a, si, 1, bp, c, ldc, mlast, init, bias, NULL, 0, 0, NULL, NULL, 0, 0);                     \
    }                                                                                                             \
    static AVX512 void tile_##MRV##_##NV##_t(int kc, const float *a, ptrdiff_t si, ptrdiff_t sk, const float *bp, \
                                             float *c, ptrdiff_t ldc, __mmask16 mlast, int init,                  \
                                             const float *bias, const char *pf, ptrdiff_t pfs) {                  \
        (void)si, (void)pf, (void)pfs;                                                                            \
        tile(MRV, NV, kc, a, 1, sk, bp, c, ldc, mlast, init, bias, NULL, 0, 0, NULL, NULL, 0, 0);                     \
    }                                                                                                             \
    static AVX512 void tile_##MRV##_##NV##_s(int kc, const float *a, ptrdiff_t si, ptrdiff_t sk, const float *bp, \
                                             float *c, ptrdiff_t ldc, __mmask16 mlast, int init,                  \
                                             const float *bias, const char *pf, ptrdiff_t pfs) {                  \
        (void)si, (void)pf, (void)pfs;                                                                            \
        tile(MRV, NV, kc, a, 1, sk, bp, c, ldc, mlast, init, bias, NULL, 0, 1, NULL, NULL, 0, 0);                     \
    }                                                                                                             \
    static AVX512 void tile_##MRV##_##NV##_p(int kc, const float *a, ptrdiff_t si, ptrdiff_t sk, const float *bp, \
                                             float *c, ptrdiff_t ldc, __mmask16 mlast, int init,                  \
                                             const float *bias, const char *pf, ptrdiff_t pfs) {                  \
        (void)sk;                                                                                                 \
        tile(MRV, NV, kc, a, si, 1, bp, c, ldc, mlast, init, bias, pf, pfs, 0, NULL, NULL, 0, 0);                     \
    }
TILE(12, 2)
TILE(12, 1)
TILE(8, 2)
TILE(8, 1)
TILE(4, 2)
TILE(4, 1)
TILE(2, 2)
TILE(2, 1)
TILE(1, 2)
TILE(1, 1)

static const int tile_rows[5] = {12, 8, 4, 2, 1};
/* [A transposed][rows][vectors - 1] */
static tile_fn *const tiles[2][5][2] = {
    {{tile_12_1_r, tile_12_2_r}, {tile_8_1_r, tile_8_2_r}, {tile_4_1_r, tile_4_2_r}, {tile_2_1_r, tile_2_2_r},
     {tile_1_1_r, tile_1_2_r}},
    {{tile_12_1_t, tile_12_2_t}, {tile_8_1_t, tile_8_2_t}, {tile_4_1_t, tile_4_2_t}, {tile_2_1_t, tile_2_2_t},
     {tile_1_1_t, tile_1_2_t}},
};
/* [rows][vectors - 1]: the _r forms with the prefetch, the _t forms with streamed stores */
static tile_fn *const tiles_pf[5][2] = {
    {tile_12_1_p, tile_12_2_p}, {tile_8_1_p, tile_8_2_p}, {tile_4_1_p, tile_4_2_p}, {tile_2_1_p, tile_2_2_p},
    {tile_1_1_p, tile_1_2_p},
};
static tile_fn *const tiles_st[5][2] = {
    {tile_12_1_s, tile_12_2_s}, {tile_8_1_s, tile_8_2_s}, {tile_4_1_s, tile_4_2_s}, {tile_2_1_s, tile_2_2_s},
    {tile_1_1_s, tile_1_2_s},
};

/* The weight-update tiles of hs_gemm_tn_update and hs_gemm_backward_update (TN: si == 1): c is
 * the weight, mom its momentum buffer (NULL for plain SGD), both with row stride ldc; always from
 * zero, over one block. The weight and momentum lines ahead floats on from each of the first
 * ahead_rows rows of the tile are prefetched (the tile the caller will step later). */
typedef void tile_up_fn(int kc, const float *a, ptrdiff_t sk, const float *bp, float *w, ptrdiff_t ldw,
                        __mmask16 mlast, float *mom, const hs_optim_sgd *up, ptrdiff_t ahead, int ahead_rows);
#define TILE_UP(MRV, NV)                                                                                          \
    static AVX512 void tile_##MRV##_##NV##_u(int kc, const float *a, ptrdiff_t sk, const float *bp, float *w,     \
                                             ptrdiff_t ldw, __mmask16 mlast, float *mom, const hs_optim_sgd *up,  \
                                             ptrdiff_t ahead, int ahead_rows) {                                   \
        tile(MRV, NV, kc, a, 1, sk, bp, w, ldw, mlast, 0, NULL, NULL, 0, 0, mom, up, ahead, ahead_rows);          \
    }
TILE_UP(12, 2)
TILE_UP(12, 1)
TILE_UP(8, 2)
TILE_UP(8, 1)
TILE_UP(4, 2)
TILE_UP(4, 1)
TILE_UP(2, 2)
TILE_UP(2, 1)
TILE_UP(1, 2)
TILE_UP(1, 1)
static tile_up_fn *const tiles_up[5][2] = {
    {tile_12_1_u, tile_12_2_u}, {tile_8_1_u, tile_8_2_u}, {tile_4_1_u, tile_4_2_u}, {tile_2_1_u, tile_2_2_u},
    {tile_1_1_u, tile_1_2_u},
};

/* ---------------------------------------------------------------- NT edge: dot products */

/* Sums of the 16 lanes of each of v[0..3], in lanes 0..3 (a fixed tree: deterministic). */
static inline AVX512 __m128 hsum4(const __m512 v[4]) {
    const __m512 s01 = _mm512_add_ps(_mm512_unpacklo_ps(v[0], v[1]), _mm512_unpackhi_ps(v[0], v[1])),
                 s23 = _mm512_add_ps(_mm512_unpacklo_ps(v[2], v[3]), _mm512_unpackhi_ps(v[2], v[3]));
    /* per 128-bit lane: partial sums of v0, v1, v2, v3 */
    const __m512 s = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(s01), _mm512_castps_pd(s23))),
                                   _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(s01), _mm512_castps_pd(s23))));
    const __m512 t = _mm512_add_ps(s, _mm512_shuffle_f32x4(s, s, 0x4E)); /* lanes + the other 256 bits */
    return _mm512_castps512_ps128(_mm512_add_ps(t, _mm512_shuffle_f32x4(t, t, 0xB1)));
}

#define DOT_R 6 /* rows of A per dot tile (x 4 rows of B: 24 accumulators) */

/* C[:, j0 .. j0+ne) of C = A B^T for the last ne <= 8 columns (NT form): both operands' rows are
 * contiguous in k, so these run as dot products vectorised over k rather than as a 16-wide
 * panel that would be mostly padding (4 of 16 lanes at 100 columns). */
static AVX512 void nt_edge(int M, int ne, int K, const float *A, int lda, const float *B, int ldb, const float *bias,
                           int accumulate, float *C, int ldc, int j0) {
    for (int c0 = 0; c0 < ne; c0 += 4) {
        const int nc = ne - c0 < 4 ? ne - c0 : 4;
        const float *brow[4];
        for (int c = 0; c < 4; c++) brow[c] = B + (size_t)(j0 + c0 + (c < nc ? c : 0)) * ldb;
        for (int i0 = 0; i0 < M; i0 += DOT_R) {
            const int nrow = M - i0 < DOT_R ? M - i0 : DOT_R;
            const float *arow[DOT_R];
            for (int r = 0; r < DOT_R; r++) arow[r] = A + (size_t)(i0 + (r < nrow ? r : 0)) * lda;
            __m512 acc[DOT_R][4];
            for (int r = 0; r < DOT_R; r++)
                for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
            for (int k = 0; k < K; k += 16) {
                const __mmask16 km = mask_first(K - k);
                __m512 bv[4];
                for (int c = 0; c < 4; c++) bv[c] = _mm512_maskz_loadu_ps(km, brow[c] + k);
                for (int r = 0; r < DOT_R; r++) {
                    const __m512 av = _mm512_maskz_loadu_ps(km, arow[r] + k);
                    for (int c = 0; c < 4; c++) acc[r][c] = _mm512_fmadd_ps(av, bv[c], acc[r][c]);
                }
            }
            for (int r = 0; r < nrow; r++) {
                float sum[4];
                _mm_storeu_ps(sum, hsum4(acc[r]));
                float *c_row = C + (size_t)(i0 + r) * ldc + j0 + c0;
                for (int c = 0; c < nc; c++) {
                    const float v = sum[c] + (bias ? bias[j0 + c0 + c] : 0.0f);
                    c_row[c] = accumulate ? c_row[c] + v : v;
                }
            }
        }
    }
}

/* Every row tile of C[:, j0 .. j0+16 nv) (last vector masked by mlast) against one packed panel
 * bp over inner indices k0 .. k0+kc; init as for tile(). */
static inline AVX512 void sweep_rows(int trans_a, int M, int kc, const float *A, ptrdiff_t si, ptrdiff_t sk, int k0,
                                     const float *bp, float *C, int ldc, int j0, int nv, __mmask16 mlast, int init,
                                     const float *bias) {
    for (int i0 = 0, s = 0; i0 < M;) {
        while (M - i0 < tile_rows[s]) s++;
        tiles[trans_a][s][nv - 1](kc, A + i0 * si + k0 * sk, si, sk, bp, C + (size_t)i0 * ldc + j0, ldc, mlast, init,
                                  bias ? bias + j0 : NULL, NULL, 0);
        i0 += tile_rows[s];
    }
}

/* How gemm_avx512_wide orders its work (hs_gemm_kernel's choices; hs_gemm uses neither). */
enum {
    /* each row tile swept across every panel of a block, rather than each panel down all rows:
     * C is written a row segment of NW columns at a time rather than a 32-column strip down all
     * of C. When C is a gradient of megabytes beyond L2 (a wide layer's dW over a small batch),
     * the hardware prefetchers follow the former and not the latter (bench/README.md). */
    WIDE_ROWS_OUTER = 1,
    /* the tiles of each block prefetch the next block of B into L2 (a T0 hint would push the
     * current panel out of L1), a line per inner index, so that a weight beyond L2 is in cache
     * when its pack starts (with few rows of C, the pack would otherwise wait on memory for a
     * third of the product's time) */
    WIDE_PREFETCH = 2,
    /* C's final values are stored around the caches (see tile()) */
    WIDE_STREAM = 4,
};

/* NN/TN with B's rows far apart: blocks of NW columns x KCW inner indices packed at once, then
 * swept by every row tile (order: the flags above). Sums in the same order as the
 * panel-at-a-time path (each C element accumulates k = 0, 1, ... in one register, through C
 * between blocks), so every order gives bit-identical results. */
static AVX512 void gemm_avx512_wide(int trans_a, int M, int N, int K, const float *A, ptrdiff_t si, ptrdiff_t sk,
                                    const float *B, int ldb, const float *bias, int accumulate, float *C, int ldc,
                                    int flags) {
    _Alignas(64) float bw[KCW * NW];
    for (int J0 = 0; J0 < N; J0 += NW) {
        const int nJ = N - J0 < NW ? N - J0 : NW, np = (nJ + 31) / 32;
        for (int k0 = 0; k0 < K; k0 += KCW) {
            const int kc = K - k0 < KCW ? K - k0 : KCW;
            pack_b_wide(B, ldb, k0, kc, J0, nJ, bw);
            const int init = (k0 > 0 || accumulate ? 1 : 0) | (k0 == 0 && bias ? 2 : 0) |
                             (flags & WIDE_STREAM && k0 + kc >= K ? 4 : 0);
            /* the next block: rows nk0.., columns nJ0..; tile t prefetches line-column t of it
             * (while there are lines), one row per inner index, so only when it has kc rows too */
            int nk0 = k0 + KCW, nJ0 = J0;
            if (nk0 >= K) nk0 = 0, nJ0 = J0 + NW;
            const int next_kc = K - nk0 < KCW ? K - nk0 : KCW;
            const int lines = flags & WIDE_PREFETCH && nJ0 < N && next_kc == kc
                                  ? ((N - nJ0 < NW ? N - nJ0 : NW) + 15) / 16
                                  : 0;
            int t = 0;
#define WIDE_TILE(p, i0, s)                                                                                      \
    do {                                                                                                         \
        const int j0 = J0 + 32 * (p), nr = N - j0 < 32 ? N - j0 : 32, nv = nr > 16 ? 2 : 1;                      \
        const char *pf = t < lines ? (const char *)(B + (size_t)nk0 * ldb + nJ0 + 16 * t) : NULL;                \
        tile_fn *const f = pf && !trans_a              ? tiles_pf[s][nv - 1]                                      \
                           : init & 4 && trans_a ? tiles_st[s][nv - 1]                                      \
                                                 : tiles[trans_a][s][nv - 1];                               \
        f(kc, A + (i0) * si + k0 * sk, si, sk, bw + (size_t)(p) * KCW * 32,                                      \
                                  C + (size_t)(i0) * ldc + j0, ldc, mask_first(nr - 16 * (nv - 1)), init,         \
                                  bias ? bias + j0 : NULL, pf, (ptrdiff_t)ldb * 4);                               \
        t++;                                                                                                     \
    } while (0)
            if (flags & WIDE_ROWS_OUTER) {
                for (int i0 = 0, s = 0; i0 < M; i0 += tile_rows[s]) {
                    while (M - i0 < tile_rows[s]) s++;
                    for (int p = 0; p < np; p++) WIDE_TILE(p, i0, s);
                }
            } else {
                for (int p = 0; p < np; p++)
                    for (int i0 = 0, s = 0; i0 < M; i0 += tile_rows[s]) {
                        while (M - i0 < tile_rows[s]) s++;
                        WIDE_TILE(p, i0, s);
                    }
            }
#undef WIDE_TILE
        }
    }
}

static AVX512 void gemm_avx512(hs_gemm_op op, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                               const float *bias, int accumulate, float *C, int ldc, int flags) {
    const int trans_a = op == HS_GEMM_TN;
    /* A(i, k): row-major [M x K] (si = lda, sk = 1) or [K x M] (si = 1, sk = lda) */
    const ptrdiff_t si = trans_a ? 1 : lda, sk = trans_a ? lda : 1;
    if (op != HS_GEMM_NT && (ldb >= 512 || flags)) { /* flags: hs_gemm_kernel's orders, for every B */
        gemm_avx512_wide(trans_a, M, N, K, A, si, sk, B, ldb, bias, accumulate, C, ldc, flags);
        return;
    }
    _Alignas(64) float bp[KC * 32];
    for (int j0 = 0; j0 < N; j0 += 32) {
        const int nr = N - j0 < 32 ? N - j0 : 32, nv = nr > 16 ? 2 : 1;
        if (op == HS_GEMM_NT && nr <= 8) {
            nt_edge(M, nr, K, A, lda, B, ldb, bias, accumulate, C, ldc, j0);
            break;
        }
        const __mmask16 mlast = mask_first(nr - 16 * (nv - 1));
        for (int k0 = 0; k0 < K; k0 += KC) {
            const int kc = K - k0 < KC ? K - k0 : KC;
            pack_b(op, B, ldb, k0, kc, j0, nr, 16 * nv, bp);
            const int init = (k0 > 0 || accumulate ? 1 : 0) | (k0 == 0 && bias ? 2 : 0);
            sweep_rows(trans_a, M, kc, A, si, sk, k0, bp, C, ldc, j0, nv, mlast, init, bias);
        }
    }
}

/* hs_gemm_tn_update with K <= KCW: B packed NW columns at a time, then each row tile of W swept
 * across the block's panels (W and its momentum read and written a row segment of 1 kB at a
 * time, as hs_gemm_kernel's TN writes its C). */
static AVX512 void gemm_avx512_tn_update(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                                         float *W, int ldw, const hs_optim_sgd *u) {
    _Alignas(64) float bw[KCW * NW];
    for (int J0 = 0; J0 < N; J0 += NW) {
        const int nJ = N - J0 < NW ? N - J0 : NW, np = (nJ + 31) / 32;
        pack_b_wide(B, ldb, 0, K, J0, nJ, bw);
        for (int i0 = 0, s = 0; i0 < M; i0 += tile_rows[s]) {
            while (M - i0 < tile_rows[s]) s++;
            for (int p = 0; p < np; p++) {
                const int j0 = J0 + 32 * p, nr = N - j0 < 32 ? N - j0 : 32, nv = nr > 16 ? 2 : 1;
                const size_t at = (size_t)i0 * ldw + j0;
                tiles_up[s][nv - 1](K, A + i0, lda, bw + (size_t)p * KCW * 32, W + at, ldw,
                                    mask_first(nr - 16 * (nv - 1)), u->buf ? u->buf + at : NULL, u, 64,
                                    tile_rows[s]); /* two panels on */
            }
        }
    }
}

/* din rows [bb x 16 nv] (in dacc, rows 32 floats apart) += dz[bb x mrc] . W[mrc x 16 nv] (dz rows
 * ldz apart, W rows ldw apart, the last vector masked by mlast): one inner index after the other,
 * each an FMA into the same register, as the NN tile sums. */
static inline __attribute__((always_inline)) AVX512 void din_block(const int bb, const int nv, int mrc,
                                                                   const float *dz, ptrdiff_t ldz, const float *w,
                                                                   ptrdiff_t ldw, float *dacc, __mmask16 mlast) {
    __m512 acc[MR][2];
    const __mmask16 m0 = nv == 1 ? mlast : (__mmask16)0xFFFF;
#pragma GCC unroll 12
    for (int r = 0; r < bb; r++)
#pragma GCC unroll 2
        for (int v = 0; v < nv; v++) acc[r][v] = _mm512_load_ps(dacc + r * 32 + 16 * v);
    for (int i = 0; i < mrc; i++) {
        const __m512 w0 = _mm512_maskz_loadu_ps(m0, w + i * ldw);
        const __m512 w1 = nv == 2 ? _mm512_maskz_loadu_ps(mlast, w + i * ldw + 16) : w0;
#pragma GCC unroll 12
        for (int r = 0; r < bb; r++) {
            const __m512 a = _mm512_set1_ps(dz[r * ldz + i]);
            acc[r][0] = _mm512_fmadd_ps(a, w0, acc[r][0]);
            if (nv == 2) acc[r][1] = _mm512_fmadd_ps(a, w1, acc[r][1]);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < bb; r++)
#pragma GCC unroll 2
        for (int v = 0; v < nv; v++) _mm512_store_ps(dacc + r * 32 + 16 * v, acc[r][v]);
}

typedef void din_block_fn(int mrc, const float *dz, ptrdiff_t ldz, const float *w, ptrdiff_t ldw, float *dacc,
                          __mmask16 mlast);
#define DIN_BLOCK(BB, NV)                                                                                         \
    static AVX512 void din_block_##BB##_##NV(int mrc, const float *dz, ptrdiff_t ldz, const float *w,             \
                                             ptrdiff_t ldw, float *dacc, __mmask16 mlast) {                       \
        din_block(BB, NV, mrc, dz, ldz, w, ldw, dacc, mlast);                                                     \
    }
DIN_BLOCK(12, 2)
DIN_BLOCK(12, 1)
DIN_BLOCK(8, 2)
DIN_BLOCK(8, 1)
DIN_BLOCK(4, 2)
DIN_BLOCK(4, 1)
DIN_BLOCK(2, 2)
DIN_BLOCK(2, 1)
DIN_BLOCK(1, 2)
DIN_BLOCK(1, 1)
static din_block_fn *const din_blocks[5][2] = {
    {din_block_12_1, din_block_12_2}, {din_block_8_1, din_block_8_2}, {din_block_4_1, din_block_4_2},
    {din_block_2_1, din_block_2_2},   {din_block_1_1, din_block_1_2},
};

/* Rows of W per block of hs_gemm_backward_update: their din term is summed in registers over the
 * block (a block of 12 rows alone reloads and stores the din accumulators four times as often),
 * and the block's 6 kB of W are still in L1 when its update tiles read them. */
#define DIN_ROWS 48
/* hs_gemm_backward_update: one column panel of 32 at a time, down all rows of W by blocks of
 * DIN_ROWS: the block adds its term to din (the panel's din in dacc, in L1) while it holds the old
 * weights, then each tile of 12 rows computes its gradient and steps itself and its momentum,
 * prefetching the same rows of the next block (weights and momenta, spread over its inner
 * indices: without it a step is 0.85x as fast). W and its momentum are read from wherever they
 * lie once per step, with no pack, and the gradient is never stored. */
static AVX512 void gemm_avx512_backward_update(int R, int Co, int K, const float *dz, int ldz, const float *in,
                                               int ldi, float *W, int ldw, float *din, int lddin,
                                               const hs_optim_sgd *u) {
    _Alignas(64) float inp[KCW * 32], dacc[KCW * 32];
    for (int j0 = 0; j0 < K; j0 += 32) {
        const int nr = K - j0 < 32 ? K - j0 : 32, nv = nr > 16 ? 2 : 1;
        const __mmask16 mlast = mask_first(nr - 16 * (nv - 1));
        pack_b_wide(in, ldi, 0, R, j0, nr, inp);
        memset(dacc, 0, sizeof(float) * 32 * (size_t)R);
        for (int cb = 0; cb < Co; cb += DIN_ROWS) { /* din over a block of rows, then their steps */
            const int ce = Co - cb < DIN_ROWS ? Co : cb + DIN_ROWS;
            if (din)
                for (int b0 = 0, t = 0; b0 < R; b0 += tile_rows[t]) {
                    while (R - b0 < tile_rows[t]) t++;
                    din_blocks[t][nv - 1](ce - cb, dz + (size_t)b0 * ldz + cb, ldz, W + (size_t)cb * ldw + j0, ldw,
                                          dacc + (size_t)b0 * 32, mlast);
                }
            for (int c0 = cb, s = 0; c0 < ce; c0 += tile_rows[s]) {
                while (ce - c0 < tile_rows[s]) s++;
                const int mrc = tile_rows[s], left = Co - c0 - DIN_ROWS, next = left < 0 ? 0 : left < mrc ? left : mrc;
                const size_t at = (size_t)c0 * ldw + j0;
                tiles_up[s][nv - 1](R, dz + c0, ldz, inp, W + at, ldw, mlast, u->buf ? u->buf + at : NULL, u,
                                    (ptrdiff_t)DIN_ROWS * ldw, next);
            }
        }
        if (din)
            for (int b = 0; b < R; b++) {
                float *d = din + (size_t)b * lddin + j0;
                if (nv == 2) _mm512_storeu_ps(d, _mm512_load_ps(dacc + b * 32));
                _mm512_mask_storeu_ps(d + 16 * (nv - 1), mlast, _mm512_load_ps(dacc + b * 32 + 16 * (nv - 1)));
            }
    }
}

/* A tile whose panel is 17..24 columns wide: the first 16 in a zmm, the rest in a ymm (masked
 * by mlast). A core that runs 512-bit FMAs on two 256-bit halves (AMD Zen 4) spends half the
 * cycles on the ymm that a zmm with 8 of 16 lanes live would cost; elsewhere it costs the same.
 * Each element sums the same terms in the same order as in tile(). init: 0 from zero, 1 from C. */
#define AVX512VL __attribute__((target("avx512f,avx512vl,fma")))
static inline __attribute__((always_inline)) AVX512VL void tile_24(const int mr, int kc, const float *a, ptrdiff_t si,
                                                                   const float *bp, float *c, ptrdiff_t ldc,
                                                                   __mmask8 mlast, int init) {
    __m512 acc0[MR];
    __m256 acc1[MR];
#pragma GCC unroll 12
    for (int i = 0; i < mr; i++) {
        acc0[i] = init ? _mm512_loadu_ps(c + i * ldc) : _mm512_setzero_ps();
        acc1[i] = init ? _mm256_maskz_loadu_ps(mlast, c + i * ldc + 16) : _mm256_setzero_ps();
    }
    for (int k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_load_ps(bp + k * 32);
        const __m256 b1 = _mm256_load_ps(bp + k * 32 + 16);
        const float *ak = a + k;
#pragma GCC unroll 12
        for (int i = 0; i < mr; i++) {
            const __m512 ai = _mm512_set1_ps(ak[i * si]);
            acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
            acc1[i] = _mm256_fmadd_ps(_mm512_castps512_ps256(ai), b1, acc1[i]);
        }
    }
#pragma GCC unroll 12
    for (int i = 0; i < mr; i++) {
        _mm512_storeu_ps(c + i * ldc, acc0[i]);
        _mm256_mask_storeu_ps(c + i * ldc + 16, mlast, acc1[i]);
    }
}

typedef void tile24_fn(int kc, const float *a, ptrdiff_t si, const float *bp, float *c, ptrdiff_t ldc, __mmask8 mlast,
                       int init);
#define TILE24(MRV)                                                                                               \
    static AVX512VL void tile24_##MRV(int kc, const float *a, ptrdiff_t si, const float *bp, float *c,            \
                                      ptrdiff_t ldc, __mmask8 mlast, int init) {                                  \
        tile_24(MRV, kc, a, si, bp, c, ldc, mlast, init);                                                         \
    }
TILE24(12)
TILE24(8)
TILE24(4)
TILE24(2)
TILE24(1)
static tile24_fn *const tiles24[5] = {tile24_12, tile24_8, tile24_4, tile24_2, tile24_1};

/* Ct[N x M] = B[N x K] . A[M x K]^T (C = A B^T, transposed): A^T is packed once per block of KCS
 * inner indices and column panel of 32 of its rows, then every row tile of B is swept against
 * it. B, the wide operand, is read once (per panel of A), straight from where it lies, twelve
 * rows at a time, by the broadcasts of the tiles, so its loads from L3 or memory overlap with
 * the FMAs instead of stalling a pack. */
static AVX512 void gemm_avx512_nt_short(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                                        float *Ct, int ldct, float *work) {
    const int half_fma = __builtin_cpu_supports("avx512vl"); /* tile_24 */
    for (int j0 = 0; j0 < M; j0 += 32) {
        const int nr = M - j0 < 32 ? M - j0 : 32, nv = nr > 16 ? 2 : 1;
        const __mmask16 mlast = mask_first(nr - 16 * (nv - 1));
        for (int k0 = 0; k0 < K; k0 += HS_GEMM_KCS) {
            const int kc = K - k0 < HS_GEMM_KCS ? K - k0 : HS_GEMM_KCS;
            pack_b(HS_GEMM_NT, A, lda, k0, kc, j0, nr, 16 * nv, work);
            if (nr > 16 && nr <= 24 && half_fma) {
                for (int i0 = 0, s = 0; i0 < N; i0 += tile_rows[s]) {
                    while (N - i0 < tile_rows[s]) s++;
                    tiles24[s](kc, B + (size_t)i0 * ldb + k0, ldb, work, Ct + (size_t)i0 * ldct + j0, ldct,
                               (__mmask8)mlast, k0 > 0);
                }
                continue;
            }
            sweep_rows(0, N, kc, B, ldb, 1, k0, work, Ct, ldct, j0, nv, mlast, k0 > 0, NULL);
        }
    }
}
#endif

/* ================================================================ dispatch */

/* Where the kernel beats OpenBLAS 0.3.21 (SkylakeX kernels; bench_gemm, bench/README.md): every
 * z = in W^T whose input A [M x K] fits in half of L2 (1 MB: a training batch; beyond it every
 * column panel streams A from L3 again and OpenBLAS, which blocks rows, wins by up to 1.35x at
 * M = 1024, the evaluation forwards), and the NN/TN products with 12..256 rows of C (one batch,
 * or a narrow layer's dW). Each column panel is packed once and swept by all rows, so tall C (a
 * 1000-wide layer's dW) and very short C (a 10-unit readout's dW) go to OpenBLAS. */
static int use_kernel(hs_gemm_op op, int M, int N, int K) {
    (void)N;
    if (op == HS_GEMM_NT) return (size_t)M * (size_t)K <= ((size_t)1 << 18);
    return M >= 12 && M <= 256;
}

void hs_gemm(hs_gemm_op op, int M, int N, int K, const float *A, int lda, const float *B, int ldb, const float *bias,
             int accumulate, float *C, int ldc) {
#if GEMM_X86
    if (forced_path != 1 && hs_gemm_have_kernel() && (forced_path == 2 || use_kernel(op, M, N, K))) {
        gemm_avx512(op, M, N, K, A, lda, B, ldb, bias, accumulate, C, ldc, 0);
        return;
    }
#endif
    gemm_cblas(op, M, N, K, A, lda, B, ldb, bias, accumulate, C, ldc);
}

void hs_gemm_kernel(hs_gemm_op op, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                    const float *bias, int accumulate, float *C, int ldc, int stream_c) {
#if GEMM_X86
    if (forced_path != 1 && hs_gemm_have_kernel()) {
        /* TN is a weight's gradient here (C tall, beyond L2, written best in row order), NN a
         * minibatch against a weight (B beyond L2, few rows of C to hide its pack) */
        const int flags = op == HS_GEMM_TN ? WIDE_ROWS_OUTER : WIDE_PREFETCH;
        gemm_avx512(op, M, N, K, A, lda, B, ldb, bias, accumulate, C, ldc, flags | (stream_c ? WIDE_STREAM : 0));
        if (stream_c) _mm_sfence();
        return;
    }
#endif
    (void)stream_c;
    gemm_cblas(op, M, N, K, A, lda, B, ldb, bias, accumulate, C, ldc);
}

void hs_gemm_nt_short(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *Ct, int ldct,
                      float *work) {
#if GEMM_X86
    if (forced_path != 1 && hs_gemm_have_kernel()) {
        gemm_avx512_nt_short(M, N, K, A, lda, B, ldb, Ct, ldct, work);
        return;
    }
#endif
    (void)work;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, M, K, 1.0f, B, ldb, A, lda, 0.0f, Ct, ldct);
}

int hs_gemm_update_applies(int K) {
    return GEMM_X86 && forced_path != 1 && hs_gemm_have_kernel() && K >= 1 && K <= HS_GEMM_UPDATE_MAX_K;
}

int hs_gemm_tn_update(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *W, int ldw,
                      const hs_optim_sgd *u) {
#if GEMM_X86
    if (hs_gemm_update_applies(K)) {
        gemm_avx512_tn_update(M, N, K, A, lda, B, ldb, W, ldw, u);
        return 1;
    }
#endif
    (void)M, (void)N, (void)K, (void)A, (void)lda, (void)B, (void)ldb, (void)W, (void)ldw, (void)u;
    return 0;
}

int hs_gemm_backward_update(int R, int Co, int K, const float *dz, int ldz, const float *in, int ldi, float *W, int ldw,
                            float *din, int lddin, const hs_optim_sgd *u) {
#if GEMM_X86
    if (hs_gemm_update_applies(R)) {
        gemm_avx512_backward_update(R, Co, K, dz, ldz, in, ldi, W, ldw, din, lddin, u);
        return 1;
    }
#endif
    (void)R, (void)Co, (void)K, (void)dz, (void)ldz, (void)in, (void)ldi, (void)W, (void)ldw, (void)din, (void)lddin;
    (void)u;
    return 0;
}

/* OpenBLAS 0.3.21 runs its AVX2 (Haswell, Zen) kernels on CPUs it does not know, e.g. a Zen 4
 * with AVX-512: there the kernel above ran the conv nets' products (64..4608 rows, 40..2048
 * columns, 64..1536 inner indices, and 1024^3) at 1.5-2.2x OpenBLAS's rate (bench/README.md),
 * tall C included. Against OpenBLAS's AVX-512 kernels (SkylakeX, Cooperlake; other BLAS libraries
 * choose their kernels from the CPU and are taken to have them) it ties below a few MB and loses
 * above, so there hs_gemm's rule stands. */
static int blas_has_avx512(void) {
    static atomic_int known = -1; /* the BLAS's kernels do not change in a process: asked once */
    int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (k < 0) {
        const char *core = hs_blas_corename();
        k = !core || !strncasecmp(core, "skylakex", 8) || !strncasecmp(core, "cooperlake", 10) ||
            !strncasecmp(core, "sapphirerapids", 14);
        atomic_store_explicit(&known, k, memory_order_relaxed);
    }
    return k;
}

int hs_gemm_conv_all_kernel(void) { return forced_path == 0 && hs_gemm_have_kernel() && !blas_has_avx512(); }

void hs_gemm_conv(hs_gemm_op op, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                  const float *bias, int accumulate, float *C, int ldc) {
#if GEMM_X86
    if (hs_gemm_conv_all_kernel()) {
        gemm_avx512(op, M, N, K, A, lda, B, ldb, bias, accumulate, C, ldc, 0);
        return;
    }
#endif
    hs_gemm(op, M, N, K, A, lda, B, ldb, bias, accumulate, C, ldc);
}
