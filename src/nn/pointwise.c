/* pointwise.c - the element-wise ops of include/hsweep/ops.h: GELU, SiLU and sigmoid with their
 * input-based backward, per-channel scaling (squeeze-excite's excite), residual add, dropout.
 *
 * Large |x|: expf of a large negative argument passes through denormals (about -87 .. -103),
 * which are slow on many cores and flushed on some, so every exponential here takes an argument
 * clamped to [-80, 0] and the result is then selected exactly: sigmoid(x) = 0 below -80 (its
 * true value is under 2e-35), GELU's density term 0 beyond |x| = 10 (under 8e-23, and x times the
 * clamped density would not be). NaN propagates: every output is a product or sum with x. */
#include <math.h>
#include <string.h>

#include "gemm.h" /* hs_gemm_have_kernel: the CPU has AVX-512 */
#include "hsweep/ops.h"
#include "hsweep/rng.h"

#define SIG_FLOOR 80.0f  /* sigmoid(-80) = 1.8e-35: normal; below it the op returns 0 */
#define GELU_TAIL 10.0f  /* exp(-50) / sqrt(2 pi) = 7.7e-23: the density beyond |x| = 10 is 0 */
#define INV_SQRT2 0.70710678118654752f
#define INV_SQRT2PI 0.39894228040143268f

/* sigmoid without overflow (exp of -|x| only) or denormals (see the top), in two steps: z =
 * exp(-min(|x|, 80)) (not fminf: a NaN stays NaN), then sigmoid from x and z. SiLU and sigmoid
 * run them over chunks of PACT_CHUNK elements: the first step is the only libm call, the second
 * has no data-dependent branch and vectorises. Element by element the loop mispredicted on the
 * sign of x about half the time and divided in scalar: SiLU was 16% of an EfficientNet-B0 step
 * besides expf's own 9% (perf, bench_cnet). The values are the element-wise form's, bit for bit
 * (expf stays glibc's: a vector exp would change them). */
#define PACT_CHUNK 256
static inline float neg_exp_clamped(float x) {
    const float a = fabsf(x);
    return expf(-(a > SIG_FLOOR ? SIG_FLOOR : a));
}
static inline float sigmoid_of(float x, float z) {
    const float p = 1.0f / (1.0f + z), r = x >= 0.0f ? p : z * p;
    return x < -SIG_FLOOR ? 0.0f : r;
}
static void neg_exp_chunk(float *restrict z, const float *restrict x, size_t n) {
    for (size_t i = 0; i < n; i++) z[i] = neg_exp_clamped(x[i]);
}

/* The second step over a chunk, what: 0 SiLU, 1 sigmoid, 2 SiLU's din, 3 sigmoid's din (d: dout).
 * The portable build's compiler keeps the selects as branches (an ordered compare may trap on
 * NaN), so on AVX-512 CPUs this runs as masked blends; the operations are sigmoid_of's and the
 * loops', one by one (no FMA), so the values are the same bit for bit. 0 when not run here. */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
__attribute__((target("avx512f"))) static int sig_chunk_avx512(float *y, const float *x, const float *z,
                                                               const float *d, size_t m, int what) {
    if (!hs_gemm_have_kernel()) return 0;
    const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps(), floor_ = _mm512_set1_ps(-SIG_FLOOR);
    for (size_t i = 0; i < m; i += 16) {
        const __mmask16 t = m - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (m - i)) - 1u);
        const __m512 vx = _mm512_maskz_loadu_ps(t, x + i), vz = _mm512_maskz_loadu_ps(t, z + i);
        const __m512 p = _mm512_div_ps(one, _mm512_add_ps(one, vz));
        __m512 s = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(vx, zero, _CMP_GE_OQ), _mm512_mul_ps(vz, p), p);
        s = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(vx, floor_, _CMP_LT_OQ), s, zero);
        __m512 r;
        if (what == 0) r = _mm512_mul_ps(vx, s);
        else if (what == 1) r = s;
        else {
            const __m512 oms = _mm512_sub_ps(one, s);
            const __m512 f = what == 2 ? _mm512_mul_ps(s, _mm512_add_ps(one, _mm512_mul_ps(vx, oms)))
                                       : _mm512_mul_ps(s, oms);
            r = _mm512_mul_ps(_mm512_maskz_loadu_ps(t, d + i), f);
        }
        _mm512_mask_storeu_ps(y + i, t, r);
    }
    return 1;
}

/* The same on AVX2 (CPUs without AVX-512) over the whole groups of 8; returns how many elements it
 * did (the caller's loops do the rest, with the same operations). Blends instead of masks. */
__attribute__((target("avx2"))) static size_t sig_chunk_avx2(float *y, const float *x, const float *z,
                                                             const float *d, size_t m, int what) {
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps(), floor_ = _mm256_set1_ps(-SIG_FLOOR);
    size_t i = 0;
    for (; i + 8 <= m; i += 8) {
        const __m256 vx = _mm256_loadu_ps(x + i), vz = _mm256_loadu_ps(z + i);
        const __m256 p = _mm256_div_ps(one, _mm256_add_ps(one, vz));
        __m256 s = _mm256_blendv_ps(_mm256_mul_ps(vz, p), p, _mm256_cmp_ps(vx, zero, _CMP_GE_OQ));
        s = _mm256_blendv_ps(s, zero, _mm256_cmp_ps(vx, floor_, _CMP_LT_OQ));
        __m256 r;
        if (what == 0) r = _mm256_mul_ps(vx, s);
        else if (what == 1) r = s;
        else {
            const __m256 oms = _mm256_sub_ps(one, s);
            const __m256 f = what == 2 ? _mm256_mul_ps(s, _mm256_add_ps(one, _mm256_mul_ps(vx, oms)))
                                       : _mm256_mul_ps(s, oms);
            r = _mm256_mul_ps(_mm256_loadu_ps(d + i), f);
        }
        _mm256_storeu_ps(y + i, r);
    }
    return i;
}

/* Elements of the chunk done by a vector form (m: all, on AVX-512). */
static size_t sig_chunk_wide(float *y, const float *x, const float *z, const float *d, size_t m, int what) {
    static int avx2 = -1;
    if (sig_chunk_avx512(y, x, z, d, m, what)) return m;
    if (avx2 < 0) avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
    return avx2 ? sig_chunk_avx2(y, x, z, d, m, what) : 0;
}
#else
static size_t sig_chunk_wide(float *y, const float *x, const float *z, const float *d, size_t m, int what) {
    (void)y, (void)x, (void)z, (void)d, (void)m, (void)what;
    return 0;
}
#endif

/* Phi(x) = P(N(0,1) <= x) and the density phi(x), the latter 0 beyond the tail */
static inline float gelu_cdf(float x) { return 0.5f * (1.0f + erff(x * INV_SQRT2)); }
static inline float gelu_pdf(float x) {
    const float t = fminf(fabsf(x), GELU_TAIL);
    const float p = INV_SQRT2PI * expf(-0.5f * t * t);
    return fabsf(x) > GELU_TAIL ? 0.0f : p;
}

void hs_pact_forward(float *out, const float *in, size_t n, hs_pact a) {
    switch (a) {
    case HS_PACT_GELU:
        for (size_t i = 0; i < n; i++) out[i] = in[i] * gelu_cdf(in[i]);
        break;
    case HS_PACT_SILU:
    case HS_PACT_SIGMOID:
        for (size_t i0 = 0; i0 < n; i0 += PACT_CHUNK) {
            float z[PACT_CHUNK];
            const size_t m = n - i0 < PACT_CHUNK ? n - i0 : PACT_CHUNK;
            const float *x = in + i0;
            float *y = out + i0; /* may be x: each element is read before it is written */
            neg_exp_chunk(z, x, m);
            const size_t done = sig_chunk_wide(y, x, z, NULL, m, a == HS_PACT_SILU ? 0 : 1);
            if (a == HS_PACT_SILU)
                for (size_t i = done; i < m; i++) y[i] = x[i] * sigmoid_of(x[i], z[i]);
            else
                for (size_t i = done; i < m; i++) y[i] = sigmoid_of(x[i], z[i]);
        }
        break;
    }
}

/* GELU' = Phi(x) + x phi(x); SiLU' = s (1 + x (1 - s)); sigmoid' = s (1 - s), s = sigmoid(x). */
void hs_pact_backward(float *din, const float *dout, const float *in, size_t n, hs_pact a) {
    switch (a) {
    case HS_PACT_GELU:
        for (size_t i = 0; i < n; i++) {
            const float x = in[i];
            din[i] = dout[i] * (gelu_cdf(x) + x * gelu_pdf(x));
        }
        break;
    case HS_PACT_SILU:
    case HS_PACT_SIGMOID:
        for (size_t i0 = 0; i0 < n; i0 += PACT_CHUNK) {
            float z[PACT_CHUNK];
            const size_t m = n - i0 < PACT_CHUNK ? n - i0 : PACT_CHUNK;
            const float *x = in + i0, *d = dout + i0;
            float *g = din + i0; /* may be d */
            neg_exp_chunk(z, x, m);
            const size_t done = sig_chunk_wide(g, x, z, d, m, a == HS_PACT_SILU ? 2 : 3);
            if (a == HS_PACT_SILU)
                for (size_t i = done; i < m; i++) {
                    const float s = sigmoid_of(x[i], z[i]);
                    g[i] = d[i] * (s * (1.0f + x[i] * (1.0f - s)));
                }
            else
                for (size_t i = done; i < m; i++) {
                    const float s = sigmoid_of(x[i], z[i]);
                    g[i] = d[i] * (s * (1.0f - s));
                }
        }
        break;
    }
}

/* in/out [B x C x n], g [B x C]; out may equal in. */
void hs_chscale_forward(float *out, const float *in, const float *g, int B, int C, int n) {
    const size_t rows = (size_t)B * (size_t)C, len = (size_t)n;
    for (size_t r = 0; r < rows; r++) {
        const float s = g[r];
        const float *x = in + r * len;
        float *y = out + r * len;
        for (size_t i = 0; i < len; i++) y[i] = x[i] * s;
    }
}

/* dg[b,c] = sum_i dout in (a row's sum in float lanes, as opsum.h, so the order is fixed); then
 * din = dout g. dg first: din may equal dout. */
void hs_chscale_backward(float *din, float *dg, const float *dout, const float *in, const float *g, int B, int C,
                         int n) {
    const size_t rows = (size_t)B * (size_t)C, len = (size_t)n;
    for (size_t r = 0; r < rows; r++) {
        const float *d = dout + r * len, *x = in + r * len;
        float acc[16] = {0};
        size_t i = 0;
        for (; i + 16 <= len; i += 16)
            for (int j = 0; j < 16; j++) acc[j] += d[i + j] * x[i + j];
        for (int j = 0; i + (size_t)j < len; j++) acc[j] += d[i + j] * x[i + j];
        double s = 0.0;
        for (int j = 0; j < 16; j++) s += acc[j];
        if (dg) dg[r] = (float)s;
        if (din) {
            const float gv = g[r];
            float *o = din + r * len;
            for (size_t k = 0; k < len; k++) o[k] = d[k] * gv;
        }
    }
}

void hs_add_forward(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/* One 32-bit word per element from word offset `word` of the stream; kept when u >= p 2^32
 * (so P(keep) = 1 - p up to 2^-32). p >= 1 drops everything (mask 0, as PyTorch's zeros). */
void hs_dropout_forward(float *out, float *mask, const float *in, size_t n, float p, uint64_t seed, uint64_t stream,
                        uint64_t word) {
    if (p <= 0.0f) {
        for (size_t i = 0; i < n; i++) mask[i] = 1.0f;
        if (out != in) memcpy(out, in, n * sizeof(float));
        return;
    }
    const double thr_d = (double)p * 4294967296.0;
    const uint64_t thr = thr_d >= 4294967296.0 ? (uint64_t)1 << 32 : (uint64_t)thr_d;
    const float keep = p >= 1.0f ? 0.0f : (float)(1.0 / (1.0 - (double)p));
    hs_rng r;
    hs_rng_init(&r, seed, stream);
    hs_rng_seek(&r, word);
    for (size_t i = 0; i < n; i++) {
        const uint32_t u = hs_rng_u32(&r);
        mask[i] = (uint64_t)u >= thr ? keep : 0.0f;
        out[i] = in[i] * mask[i];
    }
}

void hs_dropout_backward(float *din, const float *dout, const float *mask, size_t n) {
    for (size_t i = 0; i < n; i++) din[i] = dout[i] * mask[i];
}

void hs_droppath_forward(float *out, float *mask, const float *in, int B, size_t row, float p, uint64_t seed,
                         uint64_t stream, uint64_t word) {
    float unit[64];
    /* the rows' factors are dropout's over B draws: one definition of a kept draw */
    for (int b0 = 0; b0 < B; b0 += 64) {
        const int nb = B - b0 < 64 ? B - b0 : 64;
        for (int q = 0; q < nb; q++) unit[q] = 1.0f;
        hs_dropout_forward(unit, mask + b0, unit, (size_t)nb, p, seed, stream, word + (uint64_t)b0);
    }
    for (int q = 0; q < B; q++) {
        const float f = mask[q];
        float *o = out + (size_t)q * row;
        const float *x = in + (size_t)q * row;
        for (size_t i = 0; i < row; i++) o[i] = x[i] * f;
    }
}

void hs_droppath_backward(float *din, const float *dout, const float *mask, int B, size_t row) {
    for (int q = 0; q < B; q++) {
        const float f = mask[q];
        float *d = din + (size_t)q * row;
        const float *g = dout + (size_t)q * row;
        for (size_t i = 0; i < row; i++) d[i] = g[i] * f;
    }
}
