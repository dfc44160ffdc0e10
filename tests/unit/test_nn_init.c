/* test_nn_init.c - the network engine's initialisations (torch bounds and moments, normal
 * moments, orthogonal: gram, QR structure, sign fix; each layer independent of the others) and the
 * MLP's structure and state (layout and validation, forward/backward guards, state round trip). */
#include <math.h>
#include <stdlib.h>

#include "hsweep/nn.h"
#include "hsweep/rng.h"
#include "nn_helpers.h"
#include "testing.h"

/* ================================================================ initialisation */

static void test_init_torch(void) {
    enum { NO = 200, NI = 300 };
    float *W = malloc(sizeof(float) * NO * NI), b[NO];
    CU_ASSERT_PTR_NOT_NULL_FATAL(W);
    CU_ASSERT_EQUAL(hs_init_dense(W, b, NI, NO, HS_INIT_TORCH, 2.0, 0, 5, 0, NULL), HS_OK);
    const float a = (float)(2.0 / sqrt(NI)), ab = (float)(1.0 / sqrt(NI));
    double s = 0, s2 = 0, mx = 0;
    int out_of_bound = 0;
    for (int i = 0; i < NO * NI; i++) {
        out_of_bound += fabsf(W[i]) > a;
        s += W[i], s2 += (double)W[i] * W[i], mx = fmax(mx, fabs(W[i]));
    }
    const double n = NO * NI;
    CU_ASSERT_EQUAL(out_of_bound, 0);
    CU_ASSERT(mx > 0.999 * a);
    CU_ASSERT(fabs(s / n) < 4 * a / sqrt(3 * n));                /* 4 standard errors */
    CU_ASSERT(fabs(s2 / n / (a * a / 3.0) - 1) < 0.015);          /* ~4 standard errors */
    double bmax = 0;
    for (int i = 0; i < NO; i++) bmax = fmax(bmax, fabs(b[i]));
    CU_ASSERT(bmax <= ab && bmax > 0.9 * ab); /* the bias bound does not scale */
    CU_ASSERT_EQUAL(hs_init_dense(W, b, NI, NO, HS_INIT_TORCH, 2.0, 1, 5, 0, NULL), HS_OK);
    for (int i = 0; i < NO; i++) CU_ASSERT_EQUAL(b[i], 0.0f);
    free(W);
}

static void test_init_normal(void) {
    enum { NO = 200, NI = 300 };
    float *W = malloc(sizeof(float) * NO * NI);
    CU_ASSERT_PTR_NOT_NULL_FATAL(W);
    CU_ASSERT_EQUAL(hs_init_dense(W, NULL, NI, NO, HS_INIT_NORMAL, 0.5, 0, 5, 2, NULL), HS_OK);
    const double n = NO * NI;
    double s = 0, s2 = 0, within = 0;
    for (int i = 0; i < NO * NI; i++) s += W[i], s2 += (double)W[i] * W[i], within += fabsf(W[i]) < 0.5f;
    const double mean = s / n, sd = sqrt(s2 / n - mean * mean);
    CU_ASSERT(fabs(mean) < 4 * 0.5 / sqrt(n));
    CU_ASSERT(fabs(sd / 0.5 - 1) < 0.015);                        /* SE 0.3% */
    CU_ASSERT(fabs(within / n - 0.682689) < 0.008);               /* a normal, not a uniform (0.577) */
    free(W);
}

/* Orthogonal: W W^T = g^2 I (wide) or W^T W = g^2 I (tall), and W is exactly the Q of torch's
 * recipe: regenerating the normal matrix A from the layer's stream, R = Q^T A (tall) or W A^T / g
 * (wide) must be upper triangular with a positive diagonal (the sign fix). */
static void check_orthogonal(int rows, int cols, double g) {
    float *W = malloc(sizeof(float) * rows * cols), *W2 = malloc(sizeof(float) * rows * cols);
    double *A = malloc(sizeof(double) * rows * cols);
    CU_ASSERT_FATAL(W && W2 && A);
    CU_ASSERT_EQUAL_FATAL(hs_init_dense(W, NULL, cols, rows, HS_INIT_ORTHOGONAL, g, 0, 77, 3, NULL), HS_OK);
    const int tall = rows >= cols, n = tall ? cols : rows, len = tall ? rows : cols;
    double gram_err = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < len; k++)
                s += tall ? (double)W[k * cols + i] * W[k * cols + j] : (double)W[i * cols + k] * W[j * cols + k];
            gram_err = fmax(gram_err, fabs(s - (i == j) * g * g));
        }
    CU_ASSERT(gram_err < 1e-5 * g * g);
    hs_rng r;
    hs_rng_init(&r, 77, hs_rng_stream(HS_STREAM_INIT, 3));
    for (int i = 0; i < rows * cols; i++) A[i] = hs_rng_normal(&r);
    double lower = 0, min_diag = INFINITY, diag_scale = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < len; k++)
                s += tall ? (double)W[k * cols + i] * A[k * cols + j] : (double)W[i * cols + k] * A[j * cols + k];
            s /= g;
            if (i > j) lower = fmax(lower, fabs(s));
            if (i == j) min_diag = fmin(min_diag, s), diag_scale = fmax(diag_scale, fabs(s));
        }
    CU_ASSERT(lower < 1e-4 * diag_scale);
    CU_ASSERT(min_diag > 0);
    /* deterministic per seed, different across seeds */
    CU_ASSERT_EQUAL(hs_init_dense(W2, NULL, cols, rows, HS_INIT_ORTHOGONAL, g, 0, 77, 3, NULL), HS_OK);
    CU_ASSERT_EQUAL(memcmp(W, W2, sizeof(float) * rows * cols), 0);
    CU_ASSERT_EQUAL(hs_init_dense(W2, NULL, cols, rows, HS_INIT_ORTHOGONAL, g, 0, 78, 3, NULL), HS_OK);
    CU_ASSERT_NOT_EQUAL(memcmp(W, W2, sizeof(float) * rows * cols), 0);
    free(W), free(W2), free(A);
}

static void test_init_orthogonal(void) {
    check_orthogonal(30, 50, 1.5); /* wide: orthonormal rows */
    check_orthogonal(50, 30, 1.5); /* tall: orthonormal columns */
    check_orthogonal(40, 40, 1.0);
    check_orthogonal(1, 9, 2.0);
}

/* Layer l's values come from stream (INIT, l) alone: widening layer 1 leaves layer 0 unchanged
 * and layer 1's first rows (same fan-in) too; the MLP's layer index is the dense index. */
static void test_init_per_layer_independence(void) {
    const int wa[2] = {20, 30}, wb[2] = {20, 50};
    hs_mlp_opts oa = {.in_dim = 7, .out_dim = 4, .n_hidden = 2, .widths = wa, .norm = HS_NORM_BATCH,
                      .act = HS_ACT_RELU, .bias = 1, .bn_eps = 1e-5f, .bn_momentum = 0.1f,
                      .init = HS_INIT_TORCH, .seed = 3, .max_batch = 4};
    hs_mlp_opts ob = oa;
    ob.widths = wb;
    hs_mlp a, b;
    CU_ASSERT_EQUAL_FATAL(hs_mlp_init(&a, &oa, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_mlp_init(&b, &ob, NULL), HS_OK);
    CU_ASSERT_EQUAL(memcmp(a.W[0], b.W[0], sizeof(float) * 20 * 7), 0);
    CU_ASSERT_EQUAL(memcmp(a.b[0], b.b[0], sizeof(float) * 20), 0);
    CU_ASSERT_EQUAL(memcmp(a.W[1], b.W[1], sizeof(float) * 30 * 20), 0);
    float W[4 * 50], bias[4];
    CU_ASSERT_EQUAL(hs_init_dense(W, bias, 50, 4, HS_INIT_TORCH, 1.0, 0, 3, 2, NULL), HS_OK);
    CU_ASSERT_EQUAL(memcmp(b.W[2], W, sizeof W), 0);
    CU_ASSERT_EQUAL(memcmp(b.b[2], bias, sizeof bias), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a.W[0], a.W[1], sizeof(float) * 20 * 7), 0);
    hs_mlp_free(&b);
    ob = oa;
    ob.seed = 4;
    CU_ASSERT_EQUAL_FATAL(hs_mlp_init(&b, &ob, NULL), HS_OK);
    CU_ASSERT_NOT_EQUAL(memcmp(a.W[0], b.W[0], sizeof(float) * 20 * 7), 0);
    /* init_scales: readout last; BN starts at gamma 1, beta 0, mean 0, var 1 */
    const double scales[3] = {1, 1, 0.5};
    ob = oa;
    ob.init_scales = scales;
    hs_mlp c;
    CU_ASSERT_EQUAL_FATAL(hs_mlp_init(&c, &ob, NULL), HS_OK);
    for (int i = 0; i < 4 * 30; i++) CU_ASSERT_DOUBLE_EQUAL(c.W[2][i], 0.5 * a.W[2][i], 1e-7);
    CU_ASSERT(c.gamma[1][5] == 1.0f && c.beta[1][5] == 0.0f && c.run_mean[1][5] == 0.0f && c.run_var[1][5] == 1.0f);
    CU_ASSERT_PTR_NOT_EQUAL(c.o.init_scales, scales);
    CU_ASSERT_EQUAL(c.o.init_scales[2], 0.5);
    hs_mlp_free(&a), hs_mlp_free(&b), hs_mlp_free(&c);
}

/* ================================================================ the MLP's structure and state */

static void test_layout_and_validation(void) {
    int widths[2] = {4, 3};
    hs_mlp_opts o = small_opts(2, widths, HS_NORM_BATCH, HS_ACT_RELU, 1);
    hs_mlp m;
    CU_ASSERT_EQUAL_FATAL(hs_mlp_init(&m, &o, NULL), HS_OK);
    /* W0 b0 g0 be0 | W1 b1 g1 be1 | W2 b2 */
    const hs_tensor_kind kinds[10] = {HS_TENSOR_WEIGHT,   HS_TENSOR_BIAS, HS_TENSOR_BN_GAMMA, HS_TENSOR_BN_BETA,
                                      HS_TENSOR_WEIGHT,   HS_TENSOR_BIAS, HS_TENSOR_BN_GAMMA, HS_TENSOR_BN_BETA,
                                      HS_TENSOR_WEIGHT,   HS_TENSOR_BIAS};
    const size_t sizes[10] = {20, 4, 4, 4, 12, 3, 3, 3, 9, 3};
    const int layers[10] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2};
    CU_ASSERT_EQUAL_FATAL(m.n_tensors, 10);
    size_t off = 0;
    for (int t = 0; t < 10; t++) {
        CU_ASSERT_EQUAL(m.tensors[t].kind, kinds[t]);
        CU_ASSERT_EQUAL(m.tensors[t].layer, layers[t]);
        CU_ASSERT_EQUAL(m.tensors[t].size, sizes[t]);
        CU_ASSERT_EQUAL(m.tensors[t].offset, off);
        CU_ASSERT_EQUAL((size_t)m.tensors[t].rows * (size_t)m.tensors[t].cols, sizes[t]);
        off += sizes[t];
    }
    CU_ASSERT_EQUAL(m.n_params, off);
    CU_ASSERT(m.tensors[4].rows == 3 && m.tensors[4].cols == 4);
    CU_ASSERT(m.W[1] == m.params + 32 && m.dgamma[1] == m.grads + 47 && m.beta[2] == NULL);
    CU_ASSERT(m.dims[0] == 5 && m.dims[1] == 4 && m.dims[2] == 3 && m.dims[3] == 3);
    widths[0] = 99; /* the net keeps its own copy */
    CU_ASSERT(m.o.widths != widths && m.o.widths[0] == 4 && m.o.init_scales[1] == 1.0);
    widths[0] = 4;
    hs_mlp_free(&m);
    hs_mlp_free(&m); /* safe on a zeroed struct */

    /* no bias, no BN: only weights */
    o = small_opts(2, widths, HS_NORM_NONE, HS_ACT_RELU, 0);
    CU_ASSERT_EQUAL_FATAL(hs_mlp_init(&m, &o, NULL), HS_OK);
    CU_ASSERT(m.n_tensors == 3 && m.n_params == 20 + 12 + 9 && m.b[0] == NULL && m.run_mean[0] == NULL);
    CU_ASSERT_EQUAL(hs_mlp_state_size(&m), m.n_params);
    hs_mlp_free(&m);

    hs_error err = {0};
    struct {
        int field, value;
        const char *msg;
    } bad[] = {{0, 0, "in_dim"}, {1, -1, "out_dim"}, {2, 0, "widths[1]"}, {3, 0, "max_batch"}, {4, -1, "n_hidden"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        int w[2] = {4, 3};
        o = small_opts(2, w, HS_NORM_BATCH, HS_ACT_RELU, 1);
        if (bad[k].field == 0) o.in_dim = bad[k].value;
        if (bad[k].field == 1) o.out_dim = bad[k].value;
        if (bad[k].field == 2) w[1] = bad[k].value;
        if (bad[k].field == 3) o.max_batch = bad[k].value;
        if (bad[k].field == 4) o.n_hidden = bad[k].value;
        CU_ASSERT_EQUAL(hs_mlp_init(&m, &o, &err), HS_ERR_VALUE);
        HS_ASSERT_CONTAINS(err.msg, bad[k].msg);
        CU_ASSERT_PTR_NULL(m.alloc);
        hs_mlp_free(&m);
    }
    int huge[2] = {1 << 24, 1 << 24}; /* each dimension allowed, the product is not */
    o = small_opts(2, huge, HS_NORM_BATCH, HS_ACT_RELU, 1);
    CU_ASSERT_EQUAL(hs_mlp_init(&m, &o, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "beyond");
}

static void test_forward_guards(void) {
    static const int widths[2] = {4, 3};
    hs_mlp_opts o = small_opts(2, widths, HS_NORM_BATCH, HS_ACT_RELU, 1);
    hs_mlp m;
    CU_ASSERT_EQUAL_FATAL(hs_mlp_init(&m, &o, NULL), HS_OK);
    float x[(MAXB + 1) * 5] = {0}, targets[MAXB * 3];
    int32_t y[MAXB];
    random_batch(x, y, targets, MAXB, 5, 3, 1);
    CU_ASSERT_PTR_NULL(hs_mlp_forward(&m, x, MAXB + 1, HS_MODE_TRAIN));
    CU_ASSERT_PTR_NULL(hs_mlp_forward(&m, x, 1, HS_MODE_TRAIN)); /* no variance in one row */
    CU_ASSERT_PTR_NULL(hs_mlp_forward(&m, x, 0, HS_MODE_EVAL));
    CU_ASSERT_PTR_NOT_NULL(hs_mlp_forward(&m, x, 1, HS_MODE_EVAL));
    CU_ASSERT_PTR_NULL(hs_mlp_hidden(&m, 2));
    /* backward after an EVAL forward of a BN net has no batch statistics to go through */
    hs_mlp_forward(&m, x, MAXB, HS_MODE_EVAL);
    hs_loss_forward_backward(HS_LOSS_CE, m.logits, y, NULL, MAXB, 3, m.dlogits, NULL);
    hs_mlp_backward(&m, m.dlogits, MAXB);
    CU_ASSERT(isnan(m.grads[0]) && isnan(m.grads[m.n_params - 1]));
    hs_mlp_forward(&m, x, MAXB, HS_MODE_TRAIN);
    hs_mlp_backward(&m, m.dlogits, MAXB);
    CU_ASSERT(isfinite(m.grads[0]));
    hs_mlp_backward(&m, m.dlogits, MAXB - 1); /* not the batch of the last forward */
    CU_ASSERT(isnan(m.grads[0]));
    hs_mlp_free(&m);
}

static void test_state_round_trip(void) {
    static const int widths[2] = {4, 3};
    hs_mlp_opts o = small_opts(2, widths, HS_NORM_BATCH, HS_ACT_RELU, 1);
    hs_mlp m;
    CU_ASSERT_EQUAL_FATAL(hs_mlp_init(&m, &o, NULL), HS_OK);
    float x[MAXB * 5], targets[MAXB * 3];
    int32_t y[MAXB];
    random_batch(x, y, targets, MAXB, 5, 3, 2);
    hs_mlp_forward(&m, x, MAXB, HS_MODE_TRAIN); /* running stats away from 0 / 1 */
    const size_t n = hs_mlp_state_size(&m);
    float *s0 = malloc(n * sizeof(float)), *s1 = malloc(n * sizeof(float)), before[MAXB * 3];
    CU_ASSERT_FATAL(s0 && s1);
    hs_mlp_state_get(&m, s0);
    CU_ASSERT_EQUAL(s0[m.n_params], m.run_mean[0][0]);
    CU_ASSERT_EQUAL(s0[n - 1], m.run_var[1][2]);
    memcpy(before, hs_mlp_forward(&m, x, MAXB, HS_MODE_EVAL), sizeof before);
    /* a training step moves parameters and statistics ... */
    hs_mlp_forward(&m, x, MAXB, HS_MODE_TRAIN);
    hs_loss_forward_backward(HS_LOSS_CE, m.logits, y, NULL, MAXB, 3, m.dlogits, NULL);
    hs_mlp_backward(&m, m.dlogits, MAXB);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] -= 0.5f * m.grads[i];
    hs_mlp_state_get(&m, s1);
    CU_ASSERT_NOT_EQUAL(memcmp(s0, s1, n * sizeof(float)), 0);
    /* ... and state_set brings back the exact net */
    hs_mlp_state_set(&m, s0);
    hs_mlp_state_get(&m, s1);
    CU_ASSERT_EQUAL(memcmp(s0, s1, n * sizeof(float)), 0);
    CU_ASSERT_EQUAL(memcmp(before, hs_mlp_forward(&m, x, MAXB, HS_MODE_EVAL), sizeof before), 0);
    free(s0), free(s1);
    hs_mlp_free(&m);
}

int main(void) {
    static const hs_test tests[] = {
        {"init torch: bounds and moments", test_init_torch},
        {"init normal: moments", test_init_normal},
        {"init orthogonal: gram, QR structure, sign fix", test_init_orthogonal},
        {"init per layer independent of other layers", test_init_per_layer_independence},
        {"mlp layout and validation", test_layout_and_validation},
        {"forward/backward guards", test_forward_guards},
        {"state get/set round trip", test_state_round_trip},
        {NULL, NULL},
    };
    return hs_test_main("nn_init", tests);
}
