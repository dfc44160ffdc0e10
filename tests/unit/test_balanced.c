/* test_balanced.c - the balanced, mode-aligned init (hs_init_balanced, also through the MLP): the
 * init's products and singular values against a LAPACK SVD of Sigma_yx, its rank and one-layer
 * cases, and its errors. The gated routing network is in test_gated.c. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/nn.h"
#include "hsweep/rng.h"
#include "hsweep/theory.h"
#include "modes.h"
#include "testing.h"

/* ================================================================ hs_init_balanced */

/* dims {5, 8, 8, 3}: W2 W1 W0 = scale^3 U V^T (so u_a^T W v_b = scale^3 delta_ab), every layer
 * has r = 3 singular values equal to scale and the others zero; the frames come from per-layer
 * streams (changing the seed changes W1 but not the product). */
static void test_balanced_product(void) {
    enum { IN = 5, H = 8, OUT = 3, K = 3 };
    const int dims[4] = {IN, H, H, OUT};
    const double scale = 0.3;
    double sigma[OUT * IN], U[OUT * K], s[K], Vt[K * IN];
    random_matrix(sigma, OUT * IN, 1);
    svd(sigma, OUT, IN, U, s, Vt);
    float W0[H * IN], W1[H * H], W2[OUT * H];
    float *const W[3] = {W0, W1, W2};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_init_balanced(W, dims, 3, sigma, scale, 9, &err), HS_OK);
    double t[H * IN], P[OUT * IN];
    matmul_f(t, W1, W0, H, H, IN);
    for (int i = 0; i < OUT; i++)
        for (int j = 0; j < IN; j++) {
            double v = 0;
            for (int q = 0; q < H; q++) v += (double)W2[i * H + q] * t[q * IN + j];
            P[i * IN + j] = v;
        }
    const double c = scale * scale * scale;
    const double d = dist_to_modes(P, U, Vt, OUT, IN, K, K, c);
    printf("\n  balanced {5,8,8,3}: max |W2 W1 W0 - scale^3 U V^T| = %.3g (scale^3 = %.3g)\n", d, c);
    CU_ASSERT(d < 1e-6 * c / scale); /* float rounding of entries of size ~scale */
    /* mode projections u_a^T P v_b */
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++) {
            double v = 0;
            for (int i = 0; i < OUT; i++)
                for (int j = 0; j < IN; j++) v += U[i * K + a] * P[i * IN + j] * Vt[b * IN + j];
            CU_ASSERT(fabs(v - (a == b ? c : 0)) < 1e-6);
        }
    double sv[H];
    const float *Ws[3] = {W0, W1, W2};
    const int rows[3] = {H, H, OUT}, cols[3] = {IN, H, H};
    for (int l = 0; l < 3; l++) {
        CU_ASSERT_EQUAL_FATAL(svals(Ws[l], rows[l], cols[l], sv), 0);
        const int k = rows[l] < cols[l] ? rows[l] : cols[l];
        for (int a = 0; a < k; a++) CU_ASSERT(fabs(sv[a] - (a < K ? scale : 0)) < 1e-6);
    }
    /* the hidden frames are random: another seed, another W1, the same product */
    float V0[H * IN], V1[H * H], V2[OUT * H];
    float *const V[3] = {V0, V1, V2};
    CU_ASSERT_EQUAL_FATAL(hs_init_balanced(V, dims, 3, sigma, scale, 10, &err), HS_OK);
    double diff = 0;
    for (int i = 0; i < H * H; i++) diff = fmax(diff, fabs(V1[i] - W1[i]));
    CU_ASSERT(diff > 0.01);
    /* and the same seed reproduces it */
    CU_ASSERT_EQUAL_FATAL(hs_init_balanced(V, dims, 3, sigma, scale, 9, &err), HS_OK);
    CU_ASSERT(memcmp(V1, W1, sizeof W1) == 0 && memcmp(V0, W0, sizeof W0) == 0);
}

/* One layer: W0 = scale U V^T; a rank-deficient Sigma uses r < min(m, n) modes, and a hidden
 * width below the rank is an error naming the layer. */
static void test_balanced_rank_and_errors(void) {
    hs_error err = {0};
    enum { IN = 4, OUT = 3 };
    double sigma[OUT * IN], U[OUT * OUT], s[OUT], Vt[OUT * IN];
    random_matrix(sigma, OUT * IN, 2);
    svd(sigma, OUT, IN, U, s, Vt);
    float W0[OUT * IN];
    float *const W1s[1] = {W0};
    const int d1[2] = {IN, OUT};
    CU_ASSERT_EQUAL_FATAL(hs_init_balanced(W1s, d1, 1, sigma, 2.0, 1, &err), HS_OK);
    double P[OUT * IN];
    for (int i = 0; i < OUT * IN; i++) P[i] = W0[i];
    CU_ASSERT(dist_to_modes(P, U, Vt, OUT, IN, OUT, OUT, 2.0) < 1e-6);

    /* rank 2: sigma = s0 u0 v0^T + s1 u1 v1^T */
    double low[OUT * IN];
    for (int i = 0; i < OUT; i++)
        for (int j = 0; j < IN; j++)
            low[i * IN + j] = s[0] * U[i * OUT] * Vt[j] + s[1] * U[i * OUT + 1] * Vt[IN + j];
    const int d2[4] = {IN, 2, 6, OUT};
    float A[2 * IN], Bm[6 * 2], C[OUT * 6];
    float *const W3[3] = {A, Bm, C};
    CU_ASSERT_EQUAL_FATAL(hs_init_balanced(W3, d2, 3, low, 0.5, 1, &err), HS_OK);
    double t[6 * IN], Q[OUT * IN];
    matmul_f(t, Bm, A, 6, 2, IN);
    for (int i = 0; i < OUT; i++)
        for (int j = 0; j < IN; j++) {
            double v = 0;
            for (int q = 0; q < 6; q++) v += (double)C[i * 6 + q] * t[q * IN + j];
            Q[i * IN + j] = v;
        }
    CU_ASSERT(dist_to_modes(Q, U, Vt, OUT, IN, OUT, 2, 0.125) < 1e-6);

    /* full rank 3 through a width-2 layer: refused, naming hidden layer 1 */
    CU_ASSERT_EQUAL(hs_init_balanced(W3, d2, 3, sigma, 0.5, 1, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "hidden layer 1 has 2 units, fewer than the 3 modes");
    double zero[OUT * IN] = {0};
    CU_ASSERT_EQUAL(hs_init_balanced(W1s, d1, 1, zero, 1.0, 1, &err), HS_ERR_VALUE);
    CU_ASSERT_EQUAL(hs_init_balanced(W1s, d1, 1, NULL, 1.0, 1, &err), HS_ERR_VALUE);
    CU_ASSERT_EQUAL(hs_init_balanced(W1s, d1, 1, sigma, NAN, 1, &err), HS_ERR_VALUE);
}

/* The MLP's HS_INIT_BALANCED: the product of its dense layers is scale^n U V^T, biases zero;
 * unequal per-layer scales and a missing sigma_yx are refused. */
static void test_mlp_balanced(void) {
    enum { IN = 6, OUT = 4 };
    double sigma[OUT * IN], U[OUT * OUT], s[OUT], Vt[OUT * IN];
    random_matrix(sigma, OUT * IN, 3);
    svd(sigma, OUT, IN, U, s, Vt);
    int widths[2] = {7, 5};
    double scales[3] = {0.5, 0.5, 0.5};
    hs_mlp_opts o = {.in_dim = IN, .out_dim = OUT, .n_hidden = 2, .widths = widths, .norm = HS_NORM_NONE,
                     .act = HS_ACT_IDENTITY, .bias = 1, .init = HS_INIT_BALANCED, .init_scales = scales,
                     .seed = 4, .max_batch = 2, .sigma_yx = sigma};
    hs_mlp net;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_mlp_init(&net, &o, &err), HS_OK);
    double t[5 * IN], P[OUT * IN];
    double w0[7 * IN];
    for (int i = 0; i < 7 * IN; i++) w0[i] = net.W[0][i];
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < IN; j++) {
            double v = 0;
            for (int q = 0; q < 7; q++) v += (double)net.W[1][i * 7 + q] * w0[q * IN + j];
            t[i * IN + j] = v;
        }
    for (int i = 0; i < OUT; i++)
        for (int j = 0; j < IN; j++) {
            double v = 0;
            for (int q = 0; q < 5; q++) v += (double)net.W[2][i * 5 + q] * t[q * IN + j];
            P[i * IN + j] = v;
        }
    CU_ASSERT(dist_to_modes(P, U, Vt, OUT, IN, OUT, OUT, 0.125) < 1e-6);
    for (int l = 0; l < 3; l++)
        for (int i = 0; i < net.dims[l + 1]; i++) CU_ASSERT_EQUAL(net.b[l][i], 0.0f);
    hs_mlp_free(&net);
    scales[2] = 1.0;
    CU_ASSERT_EQUAL(hs_mlp_init(&net, &o, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "one scale");
    scales[2] = 0.5;
    o.sigma_yx = NULL;
    CU_ASSERT_EQUAL(hs_mlp_init(&net, &o, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "sigma_yx");
}

int main(void) {
    const hs_test tests[] = {{"balanced init: product, modes, singular values", test_balanced_product},
                             {"balanced init: rank, one layer, errors", test_balanced_rank_and_errors},
                             {"balanced init through the MLP", test_mlp_balanced},
                             {NULL, NULL}};
    return hs_test_main("balanced", tests);
}
