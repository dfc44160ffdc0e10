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

#include "hsweep/ops.h"
#include "hsweep/rng.h"

#define SIG_FLOOR 80.0f  /* sigmoid(-80) = 1.8e-35: normal; below it the op returns 0 */
#define GELU_TAIL 10.0f  /* exp(-50) / sqrt(2 pi) = 7.7e-23: the density beyond |x| = 10 is 0 */
#define INV_SQRT2 0.70710678118654752f
#define INV_SQRT2PI 0.39894228040143268f

/* sigmoid without overflow (exp of -|x| only) or denormals (see the top) */
static inline float sigmoidf_safe(float x) {
    const float a = fabsf(x), ax = a > SIG_FLOOR ? SIG_FLOOR : a; /* not fminf: a NaN stays NaN */
    const float z = expf(-ax), p = 1.0f / (1.0f + z);
    if (x >= 0.0f) return p;
    return x < -SIG_FLOOR ? 0.0f : z * p;
}

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
        for (size_t i = 0; i < n; i++) out[i] = in[i] * sigmoidf_safe(in[i]);
        break;
    case HS_PACT_SIGMOID:
        for (size_t i = 0; i < n; i++) out[i] = sigmoidf_safe(in[i]);
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
        for (size_t i = 0; i < n; i++) {
            const float x = in[i], s = sigmoidf_safe(x);
            din[i] = dout[i] * (s * (1.0f + x * (1.0f - s)));
        }
        break;
    case HS_PACT_SIGMOID:
        for (size_t i = 0; i < n; i++) {
            const float s = sigmoidf_safe(in[i]);
            din[i] = dout[i] * (s * (1.0f - s));
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
