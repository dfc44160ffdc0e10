/* bn2d.c - BatchNorm over the channels of [B x C x n] activations (BatchNorm2d, and BatchNorm1d on
 * [B x C x L]); see include/hsweep/ops.h. A channel's values are B rows of n contiguous floats.
 *
 * The statistics take two passes (the mean, then the squared deviations from it) rather than
 * nn.h's one shifted pass: over B n = 10^5 values of one channel a one-pass variance in float loses
 * digits to cancellation; here each row is summed in float lanes and the rows in double
 * (opsum.h; lane-wise over the rows on AVX-512, below), in the same order every call. */
#include <math.h>
#include <stddef.h>

#include "gemm.h" /* hs_gemm_have_kernel: the CPU has AVX-512 */
#include "hsweep/ops.h"
#include "opsum.h"

/* On CPUs with AVX-512 the train forward and the backward run as hand-vectorised loops below.
 * The conv nets' rows are short (1 to 36 positions in the 1-D nets, 4 to 784 in 2-D), and the
 * portable form pays, per row and statistic, a reduction of 16 lanes in double plus a scalar
 * remainder: with 36 positions that is most of a BatchNorm's time, and BatchNorm was 11-23% of a
 * training step (perf, bench_cnet). The vector form keeps the 16 float lanes of each row (a
 * masked load for the remainder, so lane j still takes elements j, j + 16, ... of the row),
 * converts them to double and adds them lane-wise over the channel's rows, and reduces the 16
 * double lanes once per channel. That is the same sums in another order of double additions
 * (a row's lanes are no longer reduced before the rows are added): results match the portable
 * path up to the rounding of those double additions, and are fixed by B and n alone. The
 * normalisation and din are the portable expressions operation by operation (no FMA). */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define BN2D_WIDE 1
#define AVX512 __attribute__((target("avx512f")))

static inline __mmask16 tail_mask(size_t r) { return r >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << r) - 1u); }

/* lanes (float, one row) into the channel's double lanes lo (0-7) and hi (8-15) */
static AVX512 inline void add_lanes(__m512d *lo, __m512d *hi, __m512 acc) {
    *lo = _mm512_add_pd(*lo, _mm512_cvtps_pd(_mm512_castps512_ps256(acc)));
    *hi = _mm512_add_pd(*hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1))));
}

/* The sum of the 16 double lanes, lane order fixed. */
static AVX512 inline double lanes_total(__m512d lo, __m512d hi) {
    double l[16];
    _mm512_storeu_pd(l, lo);
    _mm512_storeu_pd(l + 8, hi);
    double s = 0.0;
    for (int j = 0; j < 16; j++) s += l[j];
    return s;
}

/* sum over B rows (plane apart) of x, or of (x - c)^2 when sq */
static AVX512 double rows_sum(const float *x0, size_t B, size_t plane, size_t len, float c, int sq) {
    const __m512 vc = _mm512_set1_ps(c);
    const __mmask16 t = tail_mask(len % 16);
    __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
    for (size_t b = 0; b < B; b++) {
        const float *x = x0 + b * plane;
        __m512 acc = _mm512_setzero_ps();
        size_t i = 0;
        for (; i + 16 <= len; i += 16) {
            __m512 v = _mm512_loadu_ps(x + i);
            if (sq) v = _mm512_sub_ps(v, vc), v = _mm512_mul_ps(v, v);
            acc = _mm512_add_ps(acc, v);
        }
        if (i < len) {
            __m512 v = _mm512_maskz_loadu_ps(t, x + i);
            if (sq) v = _mm512_maskz_sub_ps(t, v, vc), v = _mm512_mul_ps(v, v);
            acc = _mm512_add_ps(acc, v);
        }
        add_lanes(&lo, &hi, acc);
    }
    return lanes_total(lo, hi);
}

static AVX512 void bn2d_forward_train_avx512(float *out, float *xhat, float *rstd, const float *in, const float *gamma,
                                             const float *beta, float *run_mean, float *run_var, int B, int C, int n,
                                             float eps, float momentum) {
    const size_t rows = (size_t)B, len = (size_t)n, plane = (size_t)C * len;
    const double count = (double)B * (double)n;
    const __mmask16 t = tail_mask(len % 16);
    for (int c = 0; c < C; c++) {
        const float *x0 = in + (size_t)c * len;
        const float mean = (float)(rows_sum(x0, rows, plane, len, 0.0f, 0) / count);
        const double q = rows_sum(x0, rows, plane, len, mean, 1);
        const double var = q / count;
        const float rs = (float)(1.0 / sqrt(var + (double)eps));
        rstd[c] = rs;
        const __m512 vm = _mm512_set1_ps(mean), vr = _mm512_set1_ps(rs), ga = _mm512_set1_ps(gamma[c]),
                     be = _mm512_set1_ps(beta[c]);
        for (size_t b = 0; b < rows; b++) {
            const size_t o = (size_t)c * len + b * plane;
            size_t i = 0;
            for (; i + 16 <= len; i += 16) {
                const __m512 h = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(in + o + i), vm), vr);
                _mm512_storeu_ps(xhat + o + i, h);
                _mm512_storeu_ps(out + o + i, _mm512_add_ps(_mm512_mul_ps(ga, h), be));
            }
            if (i < len) {
                const __m512 h = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(t, in + o + i), vm), vr);
                _mm512_mask_storeu_ps(xhat + o + i, t, h);
                _mm512_mask_storeu_ps(out + o + i, t, _mm512_add_ps(_mm512_mul_ps(ga, h), be));
            }
        }
        if (run_mean && run_var) {
            const double unbiased = count > 1.0 ? q / (count - 1.0) : 0.0;
            run_mean[c] = (1.0f - momentum) * run_mean[c] + momentum * mean;
            run_var[c] = (1.0f - momentum) * run_var[c] + momentum * (float)unbiased;
        }
    }
}

static AVX512 void bn2d_backward_avx512(float *din, float *dgamma, float *dbeta, const float *dout, const float *xhat,
                                        const float *rstd, const float *gamma, int B, int C, int n) {
    const size_t len = (size_t)n, plane = (size_t)C * len;
    const double count = (double)B * (double)n;
    const __mmask16 t = tail_mask(len % 16);
    for (int c = 0; c < C; c++) {
        const size_t oc = (size_t)c * len;
        __m512d glo = _mm512_setzero_pd(), ghi = glo, blo = glo, bhi = glo;
        for (size_t b = 0; b < (size_t)B; b++) {
            const float *d = dout + oc + b * plane, *h = xhat + oc + b * plane;
            __m512 ag = _mm512_setzero_ps(), ab = _mm512_setzero_ps();
            size_t i = 0;
            for (; i + 16 <= len; i += 16) {
                const __m512 vd = _mm512_loadu_ps(d + i);
                ag = _mm512_add_ps(ag, _mm512_mul_ps(vd, _mm512_loadu_ps(h + i)));
                ab = _mm512_add_ps(ab, vd);
            }
            if (i < len) {
                const __m512 vd = _mm512_maskz_loadu_ps(t, d + i);
                ag = _mm512_add_ps(ag, _mm512_mul_ps(vd, _mm512_maskz_loadu_ps(t, h + i)));
                ab = _mm512_add_ps(ab, vd);
            }
            add_lanes(&glo, &ghi, ag);
            add_lanes(&blo, &bhi, ab);
        }
        const double sg = lanes_total(glo, ghi), sb = lanes_total(blo, bhi);
        dgamma[c] = (float)sg;
        dbeta[c] = (float)sb;
        if (!din) continue;
        const float a = gamma[c] * rstd[c], m = (float)(-(double)a * sb / count), k = (float)(-(double)a * sg / count);
        const __m512 va = _mm512_set1_ps(a), vm = _mm512_set1_ps(m), vk = _mm512_set1_ps(k);
        for (size_t b = 0; b < (size_t)B; b++) {
            const size_t o = oc + b * plane;
            size_t i = 0;
            for (; i + 16 <= len; i += 16) {
                const __m512 g = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(va, _mm512_loadu_ps(dout + o + i)), vm),
                                               _mm512_mul_ps(vk, _mm512_loadu_ps(xhat + o + i)));
                _mm512_storeu_ps(din + o + i, g);
            }
            if (i < len) {
                const __m512 g =
                    _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(va, _mm512_maskz_loadu_ps(t, dout + o + i)), vm),
                                  _mm512_mul_ps(vk, _mm512_maskz_loadu_ps(t, xhat + o + i)));
                _mm512_mask_storeu_ps(din + o + i, t, g);
            }
        }
    }
}

/* The same sums on AVX2 (CPUs without AVX-512), in plain loops over 16 float lanes that the
 * compiler turns into two 8-lane registers: lane j of a row takes elements j, j + 16, ... (the
 * lanes past the row's end add zeros, as the masked loads above), the lanes go to double and add
 * lane-wise over the rows, and the 16 double lanes add once per channel in lane order. Every
 * operation is the AVX-512 code's, in its order and without FMA, so the two give the same bits;
 * on these CPUs the portable form's per-row reductions were most of BatchNorm's time (perf).
 * Rows shorter than 16 (the deep layers: 2 to 9 positions) have one element a lane, so they skip
 * the float lanes and the empty ones, which add nothing (a double lane starts at +0 and never
 * becomes -0). */
#define AVX2 __attribute__((target("avx2")))

/* sum over B rows (plane apart) of x, or of (x - c)^2 when sq */
static AVX2 double rows_sum_avx2(const float *x0, size_t B, size_t plane, size_t len, float c, int sq) {
    double dl[16] = {0};
    if (len < 16) { /* one element a lane: the float lane is the element (its zeros add nothing) */
        for (size_t b = 0; b < B; b++) {
            const float *x = x0 + b * plane;
            for (size_t j = 0; j < len; j++) dl[j] += sq ? (double)((x[j] - c) * (x[j] - c)) : (double)x[j];
        }
        B = 0;
    }
    for (size_t b = 0; b < B; b++) {
        const float *x = x0 + b * plane;
        float acc[16] = {0};
        size_t i = 0;
        for (; i + 16 <= len; i += 16)
            for (int j = 0; j < 16; j++) {
                float v = x[i + j];
                if (sq) v = (v - c) * (v - c);
                acc[j] += v;
            }
        if (i < len) {
            float v[16];
            for (int j = 0; j < 16; j++) v[j] = i + j < len ? x[i + j] : 0.0f;
            if (sq)
                for (int j = 0; j < 16; j++) v[j] = i + j < len ? (v[j] - c) * (v[j] - c) : 0.0f;
            for (int j = 0; j < 16; j++) acc[j] += v[j];
        }
        for (int j = 0; j < 16; j++) dl[j] += (double)acc[j];
    }
    double s = 0.0;
    for (int j = 0; j < 16; j++) s += dl[j];
    return s;
}

static AVX2 void bn2d_forward_train_avx2(float *out, float *xhat, float *rstd, const float *in, const float *gamma,
                                         const float *beta, float *run_mean, float *run_var, int B, int C, int n,
                                         float eps, float momentum) {
    const size_t rows = (size_t)B, len = (size_t)n, plane = (size_t)C * len;
    const double count = (double)B * (double)n;
    for (int c = 0; c < C; c++) {
        const float *x0 = in + (size_t)c * len;
        const float mean = (float)(rows_sum_avx2(x0, rows, plane, len, 0.0f, 0) / count);
        const double q = rows_sum_avx2(x0, rows, plane, len, mean, 1);
        const double var = q / count;
        const float rs = (float)(1.0 / sqrt(var + (double)eps));
        rstd[c] = rs;
        const float ga = gamma[c], be = beta[c];
        for (size_t b = 0; b < rows; b++) {
            const float *restrict x = x0 + b * plane;
            float *restrict xh = xhat + (size_t)c * len + b * plane;
            float *restrict y = out + (size_t)c * len + b * plane;
            for (size_t i = 0; i < len; i++) {
                const float h = (x[i] - mean) * rs;
                xh[i] = h;
                y[i] = ga * h + be;
            }
        }
        if (run_mean && run_var) {
            const double unbiased = count > 1.0 ? q / (count - 1.0) : 0.0;
            run_mean[c] = (1.0f - momentum) * run_mean[c] + momentum * mean;
            run_var[c] = (1.0f - momentum) * run_var[c] + momentum * (float)unbiased;
        }
    }
}

static AVX2 void bn2d_backward_avx2(float *din, float *dgamma, float *dbeta, const float *dout, const float *xhat,
                                    const float *rstd, const float *gamma, int B, int C, int n) {
    const size_t len = (size_t)n, plane = (size_t)C * len;
    const double count = (double)B * (double)n;
    for (int c = 0; c < C; c++) {
        const size_t oc = (size_t)c * len;
        double gl[16] = {0}, bl[16] = {0};
        if (len < 16) /* one element a lane, as in rows_sum_avx2 */
            for (size_t b = 0; b < (size_t)B; b++) {
                const float *d = dout + oc + b * plane, *h = xhat + oc + b * plane;
                for (size_t j = 0; j < len; j++) gl[j] += (double)(d[j] * h[j]), bl[j] += (double)d[j];
            }
        for (size_t b = 0; b < (len < 16 ? 0 : (size_t)B); b++) {
            const float *d = dout + oc + b * plane, *h = xhat + oc + b * plane;
            float ag[16] = {0}, ab[16] = {0};
            size_t i = 0;
            for (; i + 16 <= len; i += 16)
                for (int j = 0; j < 16; j++) {
                    ag[j] += d[i + j] * h[i + j];
                    ab[j] += d[i + j];
                }
            if (i < len) {
                float vd[16], vh[16];
                for (int j = 0; j < 16; j++) {
                    vd[j] = i + j < len ? d[i + j] : 0.0f;
                    vh[j] = i + j < len ? h[i + j] : 0.0f;
                }
                for (int j = 0; j < 16; j++) {
                    ag[j] += vd[j] * vh[j];
                    ab[j] += vd[j];
                }
            }
            for (int j = 0; j < 16; j++) gl[j] += (double)ag[j], bl[j] += (double)ab[j];
        }
        double sg = 0.0, sb = 0.0;
        for (int j = 0; j < 16; j++) sg += gl[j];
        for (int j = 0; j < 16; j++) sb += bl[j];
        dgamma[c] = (float)sg;
        dbeta[c] = (float)sb;
        if (!din) continue;
        const float a = gamma[c] * rstd[c], m = (float)(-(double)a * sb / count), k = (float)(-(double)a * sg / count);
        for (size_t b = 0; b < (size_t)B; b++) {
            const float *restrict d = dout + oc + b * plane, *restrict h = xhat + oc + b * plane;
            float *restrict g = din + oc + b * plane;
            for (size_t i = 0; i < len; i++) g[i] = a * d[i] + m + k * h[i];
        }
    }
}

static int have_avx2(void) {
    static int have = -1;
    if (have < 0) have = __builtin_cpu_supports("avx2") ? 1 : 0;
    return have;
}
#else
#define BN2D_WIDE 0
#endif

/* in/out/xhat [B x C x n]; rstd, gamma, beta, run_mean, run_var [C]. */
void hs_bn2d_forward_train(float *out, float *xhat, float *rstd, const float *in, const float *gamma,
                           const float *beta, float *run_mean, float *run_var, int B, int C, int n, float eps,
                           float momentum) {
#if BN2D_WIDE
    if (hs_gemm_have_kernel()) {
        bn2d_forward_train_avx512(out, xhat, rstd, in, gamma, beta, run_mean, run_var, B, C, n, eps, momentum);
        return;
    }
    if (have_avx2()) {
        bn2d_forward_train_avx2(out, xhat, rstd, in, gamma, beta, run_mean, run_var, B, C, n, eps, momentum);
        return;
    }
#endif
    const size_t rows = (size_t)B, len = (size_t)n, plane = (size_t)C * len;
    const double count = (double)B * (double)n;
    for (int c = 0; c < C; c++) {
        const float *x0 = in + (size_t)c * len;
        double s = 0.0;
        for (size_t b = 0; b < rows; b++) s += hs_sum_row(x0 + b * plane, len);
        const float mean = (float)(s / count);
        double q = 0.0;
        for (size_t b = 0; b < rows; b++) q += hs_sumsq_dev_row(x0 + b * plane, len, mean);
        const double var = q / count; /* biased: the normalisation's */
        const float rs = (float)(1.0 / sqrt(var + (double)eps));
        rstd[c] = rs;
        const float ga = gamma[c], be = beta[c];
        for (size_t b = 0; b < rows; b++) {
            const float *restrict x = x0 + b * plane;
            float *restrict xh = xhat + (size_t)c * len + b * plane;
            float *restrict y = out + (size_t)c * len + b * plane;
            for (size_t i = 0; i < len; i++) {
                const float h = (x[i] - mean) * rs;
                xh[i] = h;
                y[i] = ga * h + be;
            }
        }
        if (run_mean && run_var) {
            const double unbiased = count > 1.0 ? q / (count - 1.0) : 0.0;
            run_mean[c] = (1.0f - momentum) * run_mean[c] + momentum * mean;
            run_var[c] = (1.0f - momentum) * run_var[c] + momentum * (float)unbiased;
        }
    }
}

/* out = gamma (in - run_mean) / sqrt(run_var + eps) + beta, as hs_bn_forward_eval per channel;
 * in-place allowed. */
void hs_bn2d_forward_eval(float *out, const float *in, const float *gamma, const float *beta, const float *run_mean,
                          const float *run_var, int B, int C, int n, float eps) {
    const size_t len = (size_t)n, plane = (size_t)C * len;
    for (int c = 0; c < C; c++) {
        const float scale = gamma[c] / sqrtf(run_var[c] + eps), offset = beta[c] - scale * run_mean[c];
        for (size_t b = 0; b < (size_t)B; b++) {
            const float *x = in + b * plane + (size_t)c * len;
            float *y = out + b * plane + (size_t)c * len;
            for (size_t i = 0; i < len; i++) y[i] = scale * x[i] + offset;
        }
    }
}

/* dgamma[c] = sum dout xhat, dbeta[c] = sum dout (over the channel's B n values, overwritten);
 * din = gamma rstd / N (N dout - dbeta - xhat dgamma), N = B n. din must not alias dout. */
void hs_bn2d_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *xhat, const float *rstd,
                      const float *gamma, int B, int C, int n) {
#if BN2D_WIDE
    if (hs_gemm_have_kernel()) {
        bn2d_backward_avx512(din, dgamma, dbeta, dout, xhat, rstd, gamma, B, C, n);
        return;
    }
    if (have_avx2()) {
        bn2d_backward_avx2(din, dgamma, dbeta, dout, xhat, rstd, gamma, B, C, n);
        return;
    }
#endif
    const size_t len = (size_t)n, plane = (size_t)C * len;
    const double count = (double)B * (double)n;
    for (int c = 0; c < C; c++) {
        const size_t o = (size_t)c * len;
        double sg = 0.0, sb = 0.0;
        for (size_t b = 0; b < (size_t)B; b++) {
            sg += hs_dot_row(dout + o + b * plane, xhat + o + b * plane, len);
            sb += hs_sum_row(dout + o + b * plane, len);
        }
        dgamma[c] = (float)sg;
        dbeta[c] = (float)sb;
        if (!din) continue;
        /* din = a dout + m + k xhat with a = gamma rstd, m = -a dbeta / N, k = -a dgamma / N */
        const float a = gamma[c] * rstd[c], m = (float)(-(double)a * sb / count), k = (float)(-(double)a * sg / count);
        for (size_t b = 0; b < (size_t)B; b++) {
            const float *restrict d = dout + o + b * plane, *restrict h = xhat + o + b * plane;
            float *restrict g = din + o + b * plane;
            for (size_t i = 0; i < len; i++) g[i] = a * d[i] + m + k * h[i];
        }
    }
}
