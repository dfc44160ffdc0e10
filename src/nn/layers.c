/* layers.c - the stateless kernels of nn.h: dense (sgemm), BatchNorm1d, activations, losses and
 * initialisation. Row-major, PyTorch's layouts and formulas; see include/hsweep/nn.h. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/nn.h"
#include "hsweep/rng.h"
#include "fused.h"
#include "gemm.h"

/* BatchNorm statistics are gathered for this many features at a time: the accumulators stay on
 * the stack (and in L1) while the inner loops run over contiguous row segments. */
#define BN_CHUNK 256

/* ================================================================ dense */

/* out[B x n_out] = in[B x n_in] . W[n_out x n_in]^T + b[n_out] */
void hs_dense_forward(float *out, const float *in, const float *W, const float *b, int B, int n_in, int n_out) {
    hs_gemm(HS_GEMM_NT, B, n_out, n_in, in, n_in, W, n_in, b, 0, out, n_out);
}

/* dW[n_out x n_in] = dout[B x n_out]^T . in[B x n_in];  db[n_out] = sum_b dout;
 * din[B x n_in] = dout . W[n_out x n_in] */
void hs_dense_backward(float *din, float *dW, float *db, const float *dout, const float *in, const float *W, int B,
                       int n_in, int n_out) {
    hs_gemm(HS_GEMM_TN, n_out, n_in, B, dout, n_out, in, n_in, NULL, 0, dW, n_in);
    if (db) {
        memset(db, 0, (size_t)n_out * sizeof(float));
        for (int r = 0; r < B; r++) {
            const float *d = dout + (size_t)r * n_out;
            for (int j = 0; j < n_out; j++) db[j] += d[j];
        }
    }
    if (din) hs_gemm(HS_GEMM_NN, B, n_in, n_out, dout, n_out, W, n_in, NULL, 0, din, n_in);
}

/* ================================================================ batch normalisation */

/* in/out/xhat [B x C], rstd [C]; no aliasing (restrict lets every row loop vectorise without
 * overlap checks). The statistics take one pass over data shifted by its first row: the sums of
 * x - x[0] and of its squares do not cancel the way raw moments do when |mean| >> std, and the
 * second pass writes xhat and out. */
static inline __attribute__((always_inline)) void bn_forward_train(
    float *restrict out, float *restrict xhat, float *restrict rstd, const float *restrict in,
    const float *restrict gamma, const float *restrict beta, float *run_mean, float *run_var, int B, int C, float eps,
    float momentum, const int relu) {
    float shift[BN_CHUNK], s1[BN_CHUNK], s2[BN_CHUNK], scale[BN_CHUNK], offset[BN_CHUNK];
    const float inv_b = 1.0f / (float)B, unbias = B > 1 ? (float)B / (float)(B - 1) : 0.0f;
    for (int c0 = 0; c0 < C; c0 += BN_CHUNK) {
        const int n = C - c0 < BN_CHUNK ? C - c0 : BN_CHUNK;
        float *rs = rstd + c0;
        for (int j = 0; j < n; j++) shift[j] = in[c0 + j], s1[j] = 0.0f, s2[j] = 0.0f;
        for (int r = 1; r < B; r++) {
            const float *x = in + (size_t)r * C + c0;
            for (int j = 0; j < n; j++) {
                const float d = x[j] - shift[j];
                s1[j] += d;
                s2[j] += d * d;
            }
        }
        for (int j = 0; j < n; j++) {
            const float dm = s1[j] * inv_b, var = fmaxf(s2[j] * inv_b - dm * dm, 0.0f), mean = shift[j] + dm;
            rs[j] = 1.0f / sqrtf(var + eps);
            scale[j] = gamma[c0 + j] * rs[j];
            offset[j] = beta[c0 + j] - scale[j] * mean;
            shift[j] = mean;
            s2[j] = var; /* biased, for the running average below */
        }
        if (run_mean && run_var)
            for (int j = 0; j < n; j++) {
                run_mean[c0 + j] = (1.0f - momentum) * run_mean[c0 + j] + momentum * shift[j];
                run_var[c0 + j] = (1.0f - momentum) * run_var[c0 + j] + momentum * (s2[j] * unbias);
            }
        for (int r = 0; r < B; r++) {
            const float *x = in + (size_t)r * C + c0;
            float *xh = xhat + (size_t)r * C + c0, *y = out + (size_t)r * C + c0;
            for (int j = 0; j < n; j++) {
                xh[j] = (x[j] - shift[j]) * rs[j];
                const float v = scale[j] * x[j] + offset[j];
                y[j] = relu ? (v > 0.0f ? v : 0.0f) : v;
            }
        }
    }
}

/* On CPUs with AVX-512 the two BatchNorm kernels below run as hand-vectorised loops instead
 * (the portable build targets baseline x86-64, 4 floats a vector, and at 100 features a row the
 * compiler's loops spend much of their time in remainders): blocks of BN_VB vectors of features
 * keep their per-feature values in registers over all rows, with a masked last vector. The
 * arithmetic is the portable loops', operation by operation (no FMA contraction), and each
 * feature's sums still run over the rows in order. */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define BN_WIDE 1
#define AVX512 __attribute__((target("avx512f")))
#define BN_VB 4 /* vectors of 16 features per block */

static inline __mmask16 bn_mask(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

/* Vector v of a block of nv: full vectors load and store plainly, the last one under mask t. */
#define BN_LD(v, p) ((v) < nv - 1 ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(t, p))
#define BN_ST(v, p, x)                                   \
    do {                                                 \
        if ((v) < nv - 1) _mm512_storeu_ps(p, x);        \
        else _mm512_mask_storeu_ps(p, t, x);             \
    } while (0)

static AVX512 void bn_forward_train_avx512(float *restrict out, float *restrict xhat, float *restrict rstd,
                                           const float *restrict in, const float *restrict gamma,
                                           const float *restrict beta, float *run_mean, float *run_var, int B, int C,
                                           float eps, float momentum, int relu) {
    const __m512 inv_b = _mm512_set1_ps(1.0f / (float)B), zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f),
                 veps = _mm512_set1_ps(eps), mom = _mm512_set1_ps(momentum), keep = _mm512_set1_ps(1.0f - momentum),
                 unbias = _mm512_set1_ps(B > 1 ? (float)B / (float)(B - 1) : 0.0f);
    for (int c0 = 0; c0 < C; c0 += 16 * BN_VB) {
        const int n = C - c0 < 16 * BN_VB ? C - c0 : 16 * BN_VB, nv = (n + 15) / 16;
        const __mmask16 t = bn_mask(n - 16 * (nv - 1));
        __m512 shift[BN_VB], s1[BN_VB], s2[BN_VB], rs[BN_VB], scale[BN_VB], offset[BN_VB];
        for (int v = 0; v < nv; v++) {
            shift[v] = BN_LD(v, in + c0 + 16 * v);
            s1[v] = s2[v] = zero;
        }
        for (int r = 1; r < B; r++) {
            const float *x = in + (size_t)r * C + c0;
            for (int v = 0; v < nv; v++) {
                const __m512 d = _mm512_sub_ps(BN_LD(v, x + 16 * v), shift[v]);
                s1[v] = _mm512_add_ps(s1[v], d);
                s2[v] = _mm512_add_ps(s2[v], _mm512_mul_ps(d, d));
            }
        }
        for (int v = 0; v < nv; v++) {
            const int j = c0 + 16 * v;
            const __m512 dm = _mm512_mul_ps(s1[v], inv_b),
                         var = _mm512_max_ps(_mm512_sub_ps(_mm512_mul_ps(s2[v], inv_b), _mm512_mul_ps(dm, dm)), zero),
                         mean = _mm512_add_ps(shift[v], dm);
            rs[v] = _mm512_div_ps(one, _mm512_sqrt_ps(_mm512_add_ps(var, veps)));
            scale[v] = _mm512_mul_ps(BN_LD(v, gamma + j), rs[v]);
            offset[v] = _mm512_sub_ps(BN_LD(v, beta + j), _mm512_mul_ps(scale[v], mean));
            shift[v] = mean;
            BN_ST(v, rstd + j, rs[v]);
            if (run_mean && run_var) {
                const __m512 rm = BN_LD(v, run_mean + j), rv = BN_LD(v, run_var + j);
                BN_ST(v, run_mean + j, _mm512_add_ps(_mm512_mul_ps(keep, rm), _mm512_mul_ps(mom, mean)));
                BN_ST(v, run_var + j, _mm512_add_ps(_mm512_mul_ps(keep, rv), _mm512_mul_ps(mom, _mm512_mul_ps(var, unbias))));
            }
        }
        for (int r = 0; r < B; r++) {
            const size_t o = (size_t)r * C + c0;
            for (int v = 0; v < nv; v++) {
                const __m512 x = BN_LD(v, in + o + 16 * v);
                BN_ST(v, xhat + o + 16 * v, _mm512_mul_ps(_mm512_sub_ps(x, shift[v]), rs[v]));
                __m512 y = _mm512_add_ps(_mm512_mul_ps(scale[v], x), offset[v]);
                if (relu) y = _mm512_max_ps(y, zero); /* y > 0 ? y : 0, NaN and -0 included */
                BN_ST(v, out + o + 16 * v, y);
            }
        }
    }
}
/* Wide layers: the portable loops compiled for AVX-512. They stream whole rows, where the
 * blocked form above visits 64 features of every row in turn, one 4 kB page apart at 1000
 * features: from L3 that defeats the prefetchers (measured in place: 4x slower at 1000). */
static AVX512 void bn_forward_train_avx512_rows(float *out, float *xhat, float *rstd, const float *in,
                                                const float *gamma, const float *beta, float *run_mean,
                                                float *run_var, int B, int C, float eps, float momentum, int relu) {
    if (relu) bn_forward_train(out, xhat, rstd, in, gamma, beta, run_mean, run_var, B, C, eps, momentum, 1);
    else bn_forward_train(out, xhat, rstd, in, gamma, beta, run_mean, run_var, B, C, eps, momentum, 0);
}

/* The blocked form up to BN_BLOCKED_MAX features, the row-streaming one above. */
#define BN_BLOCKED_MAX 256
#else
#define BN_WIDE 0
#endif

void hs_bn_forward_train(float *out, float *xhat, float *rstd, const float *in, const float *gamma, const float *beta,
                         float *run_mean, float *run_var, int B, int C, float eps, float momentum) {
#if BN_WIDE
    if (hs_gemm_have_kernel()) {
        if (C <= BN_BLOCKED_MAX)
            bn_forward_train_avx512(out, xhat, rstd, in, gamma, beta, run_mean, run_var, B, C, eps, momentum, 0);
        else bn_forward_train_avx512_rows(out, xhat, rstd, in, gamma, beta, run_mean, run_var, B, C, eps, momentum, 0);
        return;
    }
#endif
    bn_forward_train(out, xhat, rstd, in, gamma, beta, run_mean, run_var, B, C, eps, momentum, 0);
}

/* fused.h: the same, then ReLU on out, in the same pass (bit-identical to the two calls). */
void hs_bn_relu_forward_train(float *out, float *xhat, float *rstd, const float *in, const float *gamma,
                              const float *beta, float *run_mean, float *run_var, int B, int C, float eps,
                              float momentum) {
#if BN_WIDE
    if (hs_gemm_have_kernel()) {
        if (C <= BN_BLOCKED_MAX)
            bn_forward_train_avx512(out, xhat, rstd, in, gamma, beta, run_mean, run_var, B, C, eps, momentum, 1);
        else bn_forward_train_avx512_rows(out, xhat, rstd, in, gamma, beta, run_mean, run_var, B, C, eps, momentum, 1);
        return;
    }
#endif
    bn_forward_train(out, xhat, rstd, in, gamma, beta, run_mean, run_var, B, C, eps, momentum, 1);
}

/* in/out [B x C]; in-place allowed. */
void hs_bn_forward_eval(float *out, const float *in, const float *gamma, const float *beta, const float *run_mean,
                        const float *run_var, int B, int C, float eps) {
    float scale[BN_CHUNK], offset[BN_CHUNK];
    for (int c0 = 0; c0 < C; c0 += BN_CHUNK) {
        const int n = C - c0 < BN_CHUNK ? C - c0 : BN_CHUNK;
        for (int j = 0; j < n; j++) {
            scale[j] = gamma[c0 + j] / sqrtf(run_var[c0 + j] + eps);
            offset[j] = beta[c0 + j] - scale[j] * run_mean[c0 + j];
        }
        for (int r = 0; r < B; r++) {
            const float *x = in + (size_t)r * C + c0;
            float *y = out + (size_t)r * C + c0;
            for (int j = 0; j < n; j++) y[j] = scale[j] * x[j] + offset[j];
        }
    }
}

/* dout/xhat/din [B x C]; rstd/gamma/dgamma/dbeta [C]; din must not alias dout. The second pass
 * is din = a dout + b + c xhat with per-feature a = gamma rstd, b = -a dbeta / B,
 * c = -a dgamma / B. Fused forms (fused.h): with relu_out, dout is first masked by relu_out > 0
 * (the backward of a ReLU whose output was relu_out); with dsum, dsum[C] = column sums of din,
 * summed row by row as hs_dense_backward sums its db. */
static inline __attribute__((always_inline)) void bn_backward(float *restrict din, float *restrict dgamma,
                                                              float *restrict dbeta, const float *restrict dout,
                                                              const float *restrict relu_out,
                                                              const float *restrict xhat, const float *restrict rstd,
                                                              const float *restrict gamma, float *restrict dsum, int B,
                                                              int C, const int relu) {
    memset(dgamma, 0, (size_t)C * sizeof(float));
    memset(dbeta, 0, (size_t)C * sizeof(float));
    for (int r = 0; r < B; r++) {
        const float *d = dout + (size_t)r * C, *xh = xhat + (size_t)r * C, *h = relu ? relu_out + (size_t)r * C : d;
        for (int c = 0; c < C; c++) {
            const float dc = d[c], dv = relu ? (h[c] > 0.0f ? dc : 0.0f) : dc; /* unconditional load: a vector select */
            dbeta[c] += dv;
            dgamma[c] += dv * xh[c];
        }
    }
    float a[BN_CHUNK], b[BN_CHUNK], k[BN_CHUNK], sum[BN_CHUNK];
    const float inv_b = 1.0f / (float)B;
    for (int c0 = 0; c0 < C; c0 += BN_CHUNK) {
        const int n = C - c0 < BN_CHUNK ? C - c0 : BN_CHUNK;
        for (int j = 0; j < n; j++) {
            a[j] = gamma[c0 + j] * rstd[c0 + j];
            b[j] = -a[j] * inv_b * dbeta[c0 + j];
            k[j] = -a[j] * inv_b * dgamma[c0 + j];
            sum[j] = 0.0f;
        }
        for (int r = 0; r < B; r++) {
            const float *d = dout + (size_t)r * C + c0, *xh = xhat + (size_t)r * C + c0;
            const float *h = relu ? relu_out + (size_t)r * C + c0 : d;
            float *dx = din + (size_t)r * C + c0;
            for (int j = 0; j < n; j++) {
                const float dj = d[j], dv = relu ? (h[j] > 0.0f ? dj : 0.0f) : dj;
                const float v = a[j] * dv + b[j] + k[j] * xh[j];
                dx[j] = v;
                if (dsum) sum[j] += v;
            }
        }
        if (dsum) memcpy(dsum + c0, sum, (size_t)n * sizeof(float));
    }
}

static void bn_backward_base(float *din, float *dgamma, float *dbeta, const float *dout, const float *relu_out,
                             const float *xhat, const float *rstd, const float *gamma, float *dsum, int B, int C) {
    if (relu_out) bn_backward(din, dgamma, dbeta, dout, relu_out, xhat, rstd, gamma, dsum, B, C, 1);
    else bn_backward(din, dgamma, dbeta, dout, NULL, xhat, rstd, gamma, dsum, B, C, 0);
}

#if BN_WIDE
static AVX512 void bn_backward_avx512(float *restrict din, float *restrict dgamma, float *restrict dbeta,
                                      const float *restrict dout, const float *restrict relu_out,
                                      const float *restrict xhat, const float *restrict rstd,
                                      const float *restrict gamma, float *restrict dsum, int B, int C) {
    const __m512 zero = _mm512_setzero_ps(), inv_b = _mm512_set1_ps(1.0f / (float)B);
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    for (int c0 = 0; c0 < C; c0 += 16 * BN_VB) {
        const int n = C - c0 < 16 * BN_VB ? C - c0 : 16 * BN_VB, nv = (n + 15) / 16;
        const __mmask16 t = bn_mask(n - 16 * (nv - 1));
        __m512 sb[BN_VB], sg[BN_VB], a[BN_VB], b[BN_VB], k[BN_VB], sum[BN_VB];
        for (int v = 0; v < nv; v++) sb[v] = sg[v] = sum[v] = zero;
        for (int r = 0; r < B; r++) {
            const size_t o = (size_t)r * C + c0;
            for (int v = 0; v < nv; v++) {
                __m512 d = BN_LD(v, dout + o + 16 * v);
                if (relu_out) d = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(BN_LD(v, relu_out + o + 16 * v), zero, _CMP_GT_OQ), d);
                sb[v] = _mm512_add_ps(sb[v], d);
                sg[v] = _mm512_add_ps(sg[v], _mm512_mul_ps(d, BN_LD(v, xhat + o + 16 * v)));
            }
        }
        for (int v = 0; v < nv; v++) {
            const int j = c0 + 16 * v;
            BN_ST(v, dbeta + j, sb[v]);
            BN_ST(v, dgamma + j, sg[v]);
            a[v] = _mm512_mul_ps(BN_LD(v, gamma + j), BN_LD(v, rstd + j));
            const __m512 neg_a = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a[v]), sign));
            const __m512 na = _mm512_mul_ps(neg_a, inv_b); /* -a[j] * inv_b */
            b[v] = _mm512_mul_ps(na, sb[v]);
            k[v] = _mm512_mul_ps(na, sg[v]);
        }
        for (int r = 0; r < B; r++) {
            const size_t o = (size_t)r * C + c0;
            for (int v = 0; v < nv; v++) {
                __m512 d = BN_LD(v, dout + o + 16 * v);
                if (relu_out) d = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(BN_LD(v, relu_out + o + 16 * v), zero, _CMP_GT_OQ), d);
                const __m512 x = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(a[v], d), b[v]),
                                               _mm512_mul_ps(k[v], BN_LD(v, xhat + o + 16 * v)));
                BN_ST(v, din + o + 16 * v, x);
                sum[v] = _mm512_add_ps(sum[v], x);
            }
        }
        if (dsum)
            for (int v = 0; v < nv; v++) BN_ST(v, dsum + c0 + 16 * v, sum[v]);
    }
}
#endif

#if BN_WIDE
/* Wide layers: the portable loops compiled for AVX-512, streaming whole rows (see the forward). */
static AVX512 void bn_backward_avx512_rows(float *din, float *dgamma, float *dbeta, const float *dout,
                                           const float *relu_out, const float *xhat, const float *rstd,
                                           const float *gamma, float *dsum, int B, int C) {
    if (relu_out) bn_backward(din, dgamma, dbeta, dout, relu_out, xhat, rstd, gamma, dsum, B, C, 1);
    else bn_backward(din, dgamma, dbeta, dout, NULL, xhat, rstd, gamma, dsum, B, C, 0);
}
#endif

void hs_bn_act_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *relu_out,
                        const float *xhat, const float *rstd, const float *gamma, float *dsum, int B, int C) {
#if BN_WIDE
    if (hs_gemm_have_kernel()) {
        if (C <= BN_BLOCKED_MAX) bn_backward_avx512(din, dgamma, dbeta, dout, relu_out, xhat, rstd, gamma, dsum, B, C);
        else bn_backward_avx512_rows(din, dgamma, dbeta, dout, relu_out, xhat, rstd, gamma, dsum, B, C);
        return;
    }
#endif
    bn_backward_base(din, dgamma, dbeta, dout, relu_out, xhat, rstd, gamma, dsum, B, C);
}

void hs_bn_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *xhat, const float *rstd,
                    const float *gamma, int B, int C) {
    hs_bn_act_backward(din, dgamma, dbeta, dout, NULL, xhat, rstd, gamma, NULL, B, C);
}

/* ================================================================ activations */

void hs_act_forward(float *out, const float *in, size_t n, hs_act act) {
    switch (act) {
    case HS_ACT_RELU:
        for (size_t i = 0; i < n; i++) {
            const float v = in[i];
            out[i] = v > 0.0f ? v : 0.0f;
        }
        break;
    case HS_ACT_TANH:
        for (size_t i = 0; i < n; i++) out[i] = tanhf(in[i]);
        break;
    case HS_ACT_IDENTITY:
        if (out != in) memmove(out, in, n * sizeof(float));
        break;
    }
}

void hs_act_backward(float *din, const float *dout, const float *out, size_t n, hs_act act) {
    switch (act) {
    case HS_ACT_RELU:
        /* both loads unconditional, so the select compiles to a vector mask, not a branch that
         * mispredicts on every other element */
        for (size_t i = 0; i < n; i++) {
            const float d = dout[i];
            din[i] = out[i] > 0.0f ? d : 0.0f;
        }
        break;
    case HS_ACT_TANH:
        for (size_t i = 0; i < n; i++) din[i] = dout[i] * (1.0f - out[i] * out[i]);
        break;
    case HS_ACT_IDENTITY:
        if (din != dout) memmove(din, dout, n * sizeof(float));
        break;
    }
}

/* ================================================================ losses */

/* Index of the first maximum of x[K]. */
static int argmax_first(const float *x, int K) {
    int best = 0;
    for (int k = 1; k < K; k++)
        if (x[k] > x[best]) best = k;
    return best;
}

/* logits/dlogits/targets [B x K], y [B]. A label outside 0..K-1 makes the loss NaN (library
 * code cannot abort; NaN is loud in every curve downstream). */
double hs_loss_forward_backward(hs_loss loss, const float *logits, const int32_t *y, const float *targets, int B, int K,
                                float *dlogits, int *correct) {
    double total = 0.0;
    int n_correct = 0;
    if (loss == HS_LOSS_CE) {
        const double inv_b = 1.0 / B;
        for (int r = 0; r < B; r++) {
            const float *x = logits + (size_t)r * K;
            const int label = y[r];
            if (label < 0 || label >= K) return NAN;
            const int best = argmax_first(x, K);
            n_correct += best == label;
            const double mx = x[best];
            double sum = 0.0;
            float *d = dlogits ? dlogits + (size_t)r * K : NULL;
            for (int k = 0; k < K; k++) {
                const double e = exp((double)x[k] - mx);
                sum += e;
                if (d) d[k] = (float)e; /* in (0, 1]: float keeps its relative precision */
            }
            total += mx + log(sum) - x[label];
            if (d) {
                const float scale = (float)(inv_b / sum);
                for (int k = 0; k < K; k++) d[k] *= scale;
                d[label] -= (float)inv_b;
            }
        }
        total *= inv_b;
    } else {
        const double inv_n = 1.0 / ((double)B * K);
        for (int r = 0; r < B; r++) {
            const float *x = logits + (size_t)r * K;
            const int label = y ? y[r] : -1;
            if (!targets && (label < 0 || label >= K)) return NAN;
            if (y) n_correct += argmax_first(x, K) == label;
            for (int k = 0; k < K; k++) {
                const double t = targets ? targets[(size_t)r * K + k] : (double)(k == label);
                const double diff = (double)x[k] - t;
                total += diff * diff;
                if (dlogits) dlogits[(size_t)r * K + k] = (float)(2.0 * diff * inv_n);
            }
        }
        total *= inv_n;
    }
    if (correct) *correct = n_correct;
    return total;
}

/* ================================================================ initialisation */

/* W[rows x cols] = scale * Q as torch.nn.init.orthogonal_: QR of the tall one of A, A^T (A the
 * standard normal draws in row-major order), columns of Q times sign(diag R), transposed back.
 * The row-major buffer of A is the column-major buffer of A^T, so both cases share one layout. */
static hs_code init_orthogonal(float *W, int rows, int cols, double scale, hs_rng *rng, hs_error *err) {
    const size_t n_el = (size_t)rows * cols;
    const int tall = rows >= cols;
    const int m = tall ? rows : cols, n = tall ? cols : rows;
    double *a = malloc((n_el + (size_t)n) * sizeof(double));
    if (!a) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for a %d x %d orthogonal initialisation", rows, cols);
    double *tau = a + n_el;
    /* M [m x n] column-major: tall -> M(i,j) = A[i][j], wide -> M = A^T, which is A's own buffer */
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            const double g = hs_rng_normal(rng);
            if (tall) a[(size_t)j * m + i] = g;
            else a[(size_t)i * cols + j] = g;
        }
    lapack_int info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, m, n, a, m, tau);
    if (info == 0) {
        double *sign = malloc((size_t)n * sizeof(double));
        if (!sign) {
            free(a);
            return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for a %d x %d orthogonal initialisation", rows, cols);
        }
        for (int j = 0; j < n; j++) sign[j] = a[(size_t)j * m + j] < 0 ? -scale : scale;
        info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, m, n, n, a, m, tau);
        if (info == 0)
            for (int j = 0; j < n; j++)
                for (int i = 0; i < m; i++) {
                    const float q = (float)(a[(size_t)j * m + i] * sign[j]);
                    if (tall) W[(size_t)i * cols + j] = q;
                    else W[(size_t)j * cols + i] = q; /* W = Q^T */
                }
        free(sign);
    }
    free(a);
    if (info != 0)
        return HS_FAIL(err, HS_ERR_INTERNAL, "LAPACK QR failed (info %d) in a %d x %d orthogonal initialisation",
                       (int)info, rows, cols);
    return HS_OK;
}

/* W [n_out x n_in], b [n_out] or NULL. */
hs_code hs_init_dense(float *W, float *b, int n_in, int n_out, hs_init init, double scale, int zero_bias,
                      uint64_t seed, uint32_t layer, hs_error *err) {
    if (n_in < 1 || n_out < 1)
        return HS_FAIL(err, HS_ERR_VALUE, "dense layer %u: shape %d x %d, both sides must be >= 1", layer, n_out,
                       n_in);
    if (!isfinite(scale))
        return HS_FAIL(err, HS_ERR_VALUE, "dense layer %u: init scale must be finite, got %g", layer, scale);
    hs_rng r;
    hs_rng_init(&r, seed, hs_rng_stream(HS_STREAM_INIT, layer));
    const size_t n_el = (size_t)n_out * n_in;
    const double fan = 1.0 / sqrt((double)n_in);
    switch (init) {
    case HS_INIT_TORCH:
        for (size_t i = 0; i < n_el; i++) W[i] = (float)((2.0 * hs_rng_uniformf(&r) - 1.0) * scale * fan);
        break;
    case HS_INIT_NORMAL:
        for (size_t i = 0; i < n_el; i++) W[i] = (float)(hs_rng_normal(&r) * scale);
        break;
    case HS_INIT_ORTHOGONAL:
        HS_TRY(err, init_orthogonal(W, n_out, n_in, scale, &r, err));
        break;
    default:
        return HS_FAIL(err, HS_ERR_VALUE, "dense layer %u: unknown init %d", layer, (int)init);
    }
    if (b)
        for (int i = 0; i < n_out; i++) b[i] = zero_bias ? 0.0f : (float)((2.0 * hs_rng_uniformf(&r) - 1.0) * fan);
    return HS_OK;
}
