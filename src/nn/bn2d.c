/* bn2d.c - BatchNorm over the channels of [B x C x n] activations (BatchNorm2d, and BatchNorm1d on
 * [B x C x L]); see include/hsweep/ops.h. A channel's values are B rows of n contiguous floats.
 *
 * The statistics take two passes (the mean, then the squared deviations from it) rather than
 * nn.h's one shifted pass: over B n = 10^5 values of one channel a one-pass variance in float loses
 * digits to cancellation; here each row is summed in float lanes and the rows in double
 * (opsum.h), in the same order every call. */
#include <math.h>
#include <stddef.h>

#include "hsweep/ops.h"
#include "opsum.h"

/* in/out/xhat [B x C x n]; rstd, gamma, beta, run_mean, run_var [C]. */
void hs_bn2d_forward_train(float *out, float *xhat, float *rstd, const float *in, const float *gamma,
                           const float *beta, float *run_mean, float *run_var, int B, int C, int n, float eps,
                           float momentum) {
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
