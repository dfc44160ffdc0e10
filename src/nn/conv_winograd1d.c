/* conv_winograd1d.c - 1-D Winograd convolution F(m, 3), m = 2 or 4, for the kernel-3 stride-1
 * pad-1 convs of the 1-D VGG/ResNet nets (see conv_winograd1d.h; the rule is at hs_conv_plan).
 *
 * A row of L positions is cut into T = ceil(L / m) tiles; tile t reads the alpha = m + 2 input
 * positions t m - 1 .. t m + m (zeros outside 0..L-1: the padding, and past the end) and gives the
 * outputs t m .. t m + m - 1 (those past L are dropped). With N = B T tiles, column n T + t:
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

/* F(4,3) does half the products of im2col only from about 8 positions on (bench_conv; the rule's
 * comment in conv.c): below, its 6 coefficients on 1-2 tiles lose to F(2,3)'s 4. */
int hs_conv_winograd1d_tile(const hs_conv_shape *s) { return forced_m ? forced_m : s->W >= 8 ? 4 : 2; }

static int ntiles(int L, int m) { return (L + m - 1) / m; }

/* Floats of the padded row the transforms stage a row of the input or output in. */
static size_t row_len(int L, int m) { return (size_t)ntiles(L, m) * m + 2; }

size_t hs_conv_winograd1d_work(const hs_conv_shape *s) {
    const int m = hs_conv_winograd1d_tile(s), alpha = m + 2;
    const size_t N = (size_t)s->B * ntiles(s->W, m);
    return (size_t)alpha * ((size_t)s->C_out * s->C_in + N * ((size_t)s->C_in + s->C_out)) + row_len(s->W, m);
}

/* V [alpha x C x N] = B^T d for every tile of x [B x C x L] (column n T + t); row: row_len floats. */
static void input_transform(float *restrict V, const float *restrict x, int B, int C, int L, int m,
                            float *restrict row) {
    const int T = ntiles(L, m), len = T * m + 2;
    const size_t N = (size_t)B * T, cs = (size_t)C * N;
    for (int n = 0; n < B; n++)
        for (int c = 0; c < C; c++) {
            const float *xr = x + ((size_t)n * C + c) * L;
            row[0] = 0.0f;
            for (int i = 0; i < L; i++) row[1 + i] = xr[i];
            for (int i = L + 1; i < len; i++) row[i] = 0.0f;
            float *restrict v = V + (size_t)c * N + (size_t)n * T;
            if (m == 2)
                for (int t = 0; t < T; t++) {
                    const float *d = row + 2 * t;
                    v[t] = d[0] - d[2];
                    v[cs + t] = d[1] + d[2];
                    v[2 * cs + t] = d[2] - d[1];
                    v[3 * cs + t] = d[1] - d[3];
                }
            else
                for (int t = 0; t < T; t++) {
                    const float *d = row + 4 * t;
                    v[t] = 4.0f * d[0] - 5.0f * d[2] + d[4];
                    v[cs + t] = -4.0f * (d[1] + d[2]) + (d[3] + d[4]);
                    v[2 * cs + t] = 4.0f * (d[1] - d[2]) + (d[4] - d[3]);
                    v[3 * cs + t] = 2.0f * (d[3] - d[1]) + (d[4] - d[2]);
                    v[4 * cs + t] = 2.0f * (d[1] - d[3]) + (d[4] - d[2]);
                    v[5 * cs + t] = 4.0f * d[1] - 5.0f * d[3] + d[5];
                }
        }
}

/* out [B x C x L] = A^T M for every tile, plus bias[c] when bias; M [alpha x C x N]. */
static void output_transform(float *restrict out, const float *restrict M, const float *restrict bias, int B, int C,
                             int L, int m, float *restrict row) {
    const int T = ntiles(L, m);
    const size_t N = (size_t)B * T, cs = (size_t)C * N;
    for (int n = 0; n < B; n++)
        for (int c = 0; c < C; c++) {
            const float *mm = M + (size_t)c * N + (size_t)n * T;
            if (m == 2)
                for (int t = 0; t < T; t++) {
                    const float m0 = mm[t], m1 = mm[cs + t], m2 = mm[2 * cs + t], m3 = mm[3 * cs + t];
                    row[2 * t] = m0 + m1 + m2;
                    row[2 * t + 1] = m1 - m2 - m3;
                }
            else
                for (int t = 0; t < T; t++) {
                    const float m0 = mm[t], m1 = mm[cs + t], m2 = mm[2 * cs + t], m3 = mm[3 * cs + t],
                                m4 = mm[4 * cs + t], m5 = mm[5 * cs + t];
                    const float sp = m1 + m2, sm = m1 - m2, tp = m3 + m4, tm = m3 - m4;
                    row[4 * t] = m0 + sp + tp;
                    row[4 * t + 1] = sm + 2.0f * tm;
                    row[4 * t + 2] = sp + 4.0f * tp;
                    row[4 * t + 3] = sm + 8.0f * tm + m5;
                }
            float *o = out + ((size_t)n * C + c) * L;
            const float b = bias ? bias[c] : 0.0f;
            for (int i = 0; i < L; i++) o[i] = row[i] + b;
        }
}

/* D [alpha x C x N] = A dy for every output tile of dy [B x C x L] (zeros past L). */
static void dout_transform(float *restrict D, const float *restrict dy, int B, int C, int L, int m,
                           float *restrict row) {
    const int T = ntiles(L, m), len = T * m;
    const size_t N = (size_t)B * T, cs = (size_t)C * N;
    for (int n = 0; n < B; n++)
        for (int c = 0; c < C; c++) {
            const float *yr = dy + ((size_t)n * C + c) * L;
            for (int i = 0; i < L; i++) row[i] = yr[i];
            for (int i = L; i < len; i++) row[i] = 0.0f;
            float *restrict v = D + (size_t)c * N + (size_t)n * T;
            if (m == 2)
                for (int t = 0; t < T; t++) {
                    const float y0 = row[2 * t], y1 = row[2 * t + 1];
                    v[t] = y0;
                    v[cs + t] = y0 + y1;
                    v[2 * cs + t] = y0 - y1;
                    v[3 * cs + t] = -y1;
                }
            else
                for (int t = 0; t < T; t++) {
                    const float *y = row + 4 * t;
                    const float ep = y[0] + y[2], op = y[1] + y[3], e4 = y[0] + 4.0f * y[2],
                                o8 = 2.0f * y[1] + 8.0f * y[3];
                    v[t] = y[0];
                    v[cs + t] = ep + op;
                    v[2 * cs + t] = ep - op;
                    v[3 * cs + t] = e4 + o8;
                    v[4 * cs + t] = e4 - o8;
                    v[5 * cs + t] = y[3];
                }
        }
}

/* U [alpha x C_out x C_in] = G g, g = W[co][ci][0..2], its taps reversed when flip. */
static void filter_transform(float *restrict U, const float *restrict W, int C_out, int C_in, int m, int flip) {
    const size_t cs = (size_t)C_out * C_in;
    for (size_t i = 0; i < cs; i++) {
        const float *w = W + 3 * i;
        const float g0 = flip ? w[2] : w[0], g1 = w[1], g2 = flip ? w[0] : w[2];
        if (m == 2) {
            U[i] = g0;
            U[cs + i] = 0.5f * (g0 + g1 + g2);
            U[2 * cs + i] = 0.5f * (g0 - g1 + g2);
            U[3 * cs + i] = g2;
        } else {
            U[i] = 0.25f * g0;
            U[cs + i] = (g0 + g1 + g2) * (-1.0f / 6.0f);
            U[2 * cs + i] = (g0 - g1 + g2) * (-1.0f / 6.0f);
            U[3 * cs + i] = g0 * (1.0f / 24.0f) + g1 * (1.0f / 12.0f) + g2 * (1.0f / 6.0f);
            U[4 * cs + i] = g0 * (1.0f / 24.0f) - g1 * (1.0f / 12.0f) + g2 * (1.0f / 6.0f);
            U[5 * cs + i] = g2;
        }
    }
}

/* dW [C_out x C_in x 3] = G^T dU, dU [alpha x C_out x C_in]. */
static void filter_reduce(float *restrict dW, const float *restrict dU, int C_out, int C_in, int m) {
    const size_t cs = (size_t)C_out * C_in;
    for (size_t i = 0; i < cs; i++) {
        float *w = dW + 3 * i;
        if (m == 2) {
            const float u0 = dU[i], u1 = dU[cs + i], u2 = dU[2 * cs + i], u3 = dU[3 * cs + i];
            w[0] = u0 + 0.5f * (u1 + u2);
            w[1] = 0.5f * (u1 - u2);
            w[2] = 0.5f * (u1 + u2) + u3;
        } else {
            const float u0 = dU[i], u1 = dU[cs + i], u2 = dU[2 * cs + i], u3 = dU[3 * cs + i], u4 = dU[4 * cs + i],
                        u5 = dU[5 * cs + i];
            w[0] = 0.25f * u0 - (u1 + u2) * (1.0f / 6.0f) + (u3 + u4) * (1.0f / 24.0f);
            w[1] = (u2 - u1) * (1.0f / 6.0f) + (u3 - u4) * (1.0f / 12.0f);
            w[2] = (u3 + u4 - u1 - u2) * (1.0f / 6.0f) + u5;
        }
    }
}

/* work = [U or dU: alpha C_out C_in][V or M': alpha C_in N][M, D or Z: alpha C_out N][row] */
void hs_conv_winograd1d_forward(float *out, const float *in, const float *W, const float *b, const hs_conv_shape *s,
                                float *work) {
    const int m = hs_conv_winograd1d_tile(s), alpha = m + 2, L = s->W, Ci = s->C_in, Co = s->C_out,
              N = s->B * ntiles(L, m);
    float *U = work, *V = U + (size_t)alpha * Co * Ci, *M = V + (size_t)alpha * Ci * N, *row = M + (size_t)alpha * Co * N;
    filter_transform(U, W, Co, Ci, m, 0);
    input_transform(V, in, s->B, Ci, L, m, row);
    for (int k = 0; k < alpha; k++)
        hs_gemm(HS_GEMM_NN, Co, N, Ci, U + (size_t)k * Co * Ci, Ci, V + (size_t)k * Ci * N, N, NULL, 0,
                M + (size_t)k * Co * N, N);
    output_transform(out, M, b, s->B, Co, L, m, row);
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
    float *U = work, *V = U + (size_t)alpha * Co * Ci, *D = V + (size_t)alpha * Ci * N, *row = D + (size_t)alpha * Co * N;
    input_transform(V, in, s->B, Ci, L, m, row);
    dout_transform(D, dout, s->B, Co, L, m, row);
    for (int k = 0; k < alpha; k++)
        hs_gemm(HS_GEMM_NT, Co, Ci, N, D + (size_t)k * Co * N, N, V + (size_t)k * Ci * N, N, NULL, 0,
                U + (size_t)k * Co * Ci, Ci);
    filter_reduce(dW, U, Co, Ci, m);
    if (!din) return;
    filter_transform(U, W, Co, Ci, m, 1);
    input_transform(D, dout, s->B, Co, L, m, row);
    for (int k = 0; k < alpha; k++)
        hs_gemm(HS_GEMM_TN, Ci, N, Co, U + (size_t)k * Co * Ci, Ci, D + (size_t)k * Co * N, N, NULL, 0,
                V + (size_t)k * Ci * N, N);
    output_transform(din, V, NULL, s->B, Ci, L, m, row);
}
