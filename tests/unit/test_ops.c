/* test_ops.c - the ops of include/hsweep/ops.h other than convolution (test_conv.c): pooling
 * (max with ties and NaN, avg with count_include_pad, overlapping windows, 1-D and 2-D), global
 * average pooling, BatchNorm over channels (train and eval, running statistics against hand
 * computation, a large mean), GELU/SiLU/sigmoid (values and gradients, large |x| without NaN or
 * denormals), channel scaling, add, dropout (the mask's definition and determinism, its rate
 * and scale, p = 0 and 1). Values against double references written here; gradients against
 * central finite differences of the reference's loss sum(R * out). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/ops.h"
#include "hsweep/rng.h"
#include "ops_helpers.h"
#include "testing.h"

/* ================================================================ pooling */

typedef struct {
    hs_pool_shape s;
    double *in, *R, *out;
} pool_ctx;

/* PyTorch's MaxPool2d / AvgPool2d(count_include_pad=True), 1-D when H = 1. */
static void ref_pool(double *out, const double *in, const hs_pool_shape *s) {
    const int kh = s->H == 1 ? 1 : s->k, ph = s->H == 1 ? 0 : s->pad;
    for (int p = 0; p < s->B * s->C; p++)
        for (int oh = 0; oh < s->OH; oh++)
            for (int ow = 0; ow < s->OW; ow++) {
                double m = -INFINITY, sum = 0.0;
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < s->k; j++) {
                        const int ih = oh * s->stride - ph + i, iw = ow * s->stride - s->pad + j;
                        if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W) continue;
                        const double v = in[((size_t)p * s->H + ih) * s->W + iw];
                        m = v > m ? v : m;
                        sum += v;
                    }
                out[((size_t)p * s->OH + oh) * s->OW + ow] = s->kind == HS_POOL_MAX ? m : sum / (kh * s->k);
            }
}

static double pool_loss(void *p) {
    pool_ctx *c = p;
    ref_pool(c->out, c->in, &c->s);
    return ops_dot(c->R, c->out, (size_t)c->s.B * c->s.C * c->s.OH * c->s.OW);
}

static void check_pool(hs_pool_kind kind, int B, int C, int H, int W, int k, int stride, int pad, hs_rng *r) {
    pool_ctx c = {.s = {.kind = kind, .B = B, .C = C, .H = H, .W = W, .k = k, .stride = stride, .pad = pad}};
    CU_ASSERT_FATAL(hs_pool_plan(&c.s) == 0);
    const size_t ni = (size_t)B * C * H * W, no = (size_t)B * C * c.s.OH * c.s.OW;
    float *in = malloc(ni * sizeof(float)), *out = malloc(no * sizeof(float)), *dout = malloc(no * sizeof(float)),
          *din = malloc(ni * sizeof(float));
    int32_t *arg = malloc(no * sizeof(int32_t));
    double *ref = malloc(no * sizeof(double)), *g = malloc(ni * sizeof(double));
    c.in = malloc(ni * sizeof(double)), c.R = malloc(no * sizeof(double)), c.out = malloc(no * sizeof(double));
    /* distinct values at least 1e-3 apart: max pooling is differentiable at steps of 1e-4 */
    for (size_t i = 0; i < ni; i++) {
        in[i] = (float)((double)((i * 7919) % ni) * 1e-3 - 0.5 * (double)ni * 1e-3);
        c.in[i] = in[i];
    }
    ops_fill(dout, c.R, no, r, -1.0f, 1.0f);
    hs_pool_forward(out, arg, in, &c.s);
    ref_pool(ref, c.in, &c.s);
    char what[160];
    snprintf(what, sizeof what, "%s B%d C%d %dx%d k%d s%d p%d", kind == HS_POOL_MAX ? "max" : "avg", B, C, H, W, k,
             stride, pad);
    OPS_CHECK(ops_err(out, ref, no), 1e-6, what);
    for (size_t i = 0; i < ni; i++) din[i] = 1e9f; /* overwritten */
    hs_pool_backward(din, dout, arg, &c.s);
    ops_fd(g, c.in, ni, pool_loss, &c, 1e-4);
    OPS_CHECK(ops_err(din, g, ni), 1e-5, what);
    free(in), free(out), free(dout), free(din), free(arg), free(ref), free(g), free(c.in), free(c.R), free(c.out);
}

static void test_pool_grad(void) {
    hs_rng r;
    hs_rng_init(&r, 21, 0);
    for (int kind = 0; kind < 2; kind++) {
        check_pool(kind, 2, 3, 1, 36, 2, 2, 0, &r); /* the VGG's 36 -> 18 */
        check_pool(kind, 2, 2, 1, 9, 2, 2, 0, &r);  /* 9 -> 4: the last position is dropped */
        check_pool(kind, 2, 2, 1, 10, 3, 2, 1, &r); /* overlapping windows, padding */
        check_pool(kind, 2, 3, 7, 7, 3, 2, 1, &r);  /* ResNet stem pool on odd sizes */
        check_pool(kind, 1, 2, 6, 5, 2, 2, 0, &r);
        check_pool(kind, 2, 2, 5, 6, 3, 1, 1, &r);  /* stride 1: every input in up to 9 windows */
        check_pool(kind, 1, 1, 4, 4, 4, 4, 2, &r);  /* pad = k/2 */
    }
}

/* Hand cases: ties take the first maximum in window order; a NaN wins; avg divides by the
 * window including padded zeros. */
static void test_pool_hand(void) {
    /* 1-D: [3 1 3 2 5 5] k2 s2 -> max [3 3 5] at [0 2 4]; k3 s1 p1 -> [3 3 3 5 5 5] at [0 0 2 4 4 4] */
    const float x[6] = {3, 1, 3, 2, 5, 5};
    float out[6];
    int32_t arg[6];
    hs_pool_shape s = {.kind = HS_POOL_MAX, .B = 1, .C = 1, .H = 1, .W = 6, .k = 2, .stride = 2, .pad = 0};
    CU_ASSERT_FATAL(hs_pool_plan(&s) == 0);
    CU_ASSERT(s.OH == 1 && s.OW == 3);
    hs_pool_forward(out, arg, x, &s);
    CU_ASSERT(out[0] == 3 && out[1] == 3 && out[2] == 5);
    CU_ASSERT(arg[0] == 0 && arg[1] == 2 && arg[2] == 4);
    s.k = 3, s.stride = 1, s.pad = 1;
    CU_ASSERT_FATAL(hs_pool_plan(&s) == 0);
    CU_ASSERT(s.OW == 6);
    hs_pool_forward(out, arg, x, &s);
    const int32_t want[6] = {0, 0, 2, 4, 4, 4};
    for (int i = 0; i < 6; i++) CU_ASSERT_EQUAL(arg[i], want[i]);
    float dout[6] = {1, 2, 3, 4, 5, 6}, din[6];
    hs_pool_backward(din, dout, arg, &s);
    CU_ASSERT(din[0] == 3 && din[1] == 0 && din[2] == 3 && din[3] == 0 && din[4] == 15 && din[5] == 0);
    /* 1-D NaNs: a NaN wins, a later NaN replaces an earlier one (the unpadded 1-D rows' own loop) */
    const float xn[6] = {NAN, 1, 2, NAN, NAN, NAN};
    s.k = 2, s.stride = 2, s.pad = 0;
    CU_ASSERT_FATAL(hs_pool_plan(&s) == 0);
    hs_pool_forward(out, arg, xn, &s);
    CU_ASSERT(isnan(out[0]) && isnan(out[1]) && isnan(out[2]));
    CU_ASSERT(arg[0] == 0 && arg[1] == 3 && arg[2] == 5);
    /* all equal in a 2x2 window of a 2-D plane: the first in row-major window order; arg indexes
     * the whole input (second plane starts at 16) */
    float y[32];
    for (int i = 0; i < 32; i++) y[i] = 1.0f;
    hs_pool_shape t = {.kind = HS_POOL_MAX, .B = 1, .C = 2, .H = 4, .W = 4, .k = 2, .stride = 2, .pad = 0};
    CU_ASSERT_FATAL(hs_pool_plan(&t) == 0);
    float o2[8];
    int32_t a2[8];
    hs_pool_forward(o2, a2, y, &t);
    const int32_t want2[8] = {0, 2, 8, 10, 16, 18, 24, 26};
    for (int i = 0; i < 8; i++) CU_ASSERT_EQUAL(a2[i], want2[i]);
    y[17] = NAN; /* second plane, first window */
    hs_pool_forward(o2, a2, y, &t);
    CU_ASSERT(isnan(o2[4]) && a2[4] == 17);
    /* avg, count_include_pad: [1 2 3] k3 s1 p1 -> [(0+1+2)/3, 2, (2+3+0)/3] */
    const float z[3] = {1, 2, 3};
    hs_pool_shape a = {.kind = HS_POOL_AVG, .B = 1, .C = 1, .H = 1, .W = 3, .k = 3, .stride = 1, .pad = 1};
    CU_ASSERT_FATAL(hs_pool_plan(&a) == 0);
    hs_pool_forward(out, NULL, z, &a);
    CU_ASSERT_DOUBLE_EQUAL(out[0], 1.0, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(out[1], 2.0, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(out[2], 5.0 / 3.0, 1e-7);
    /* 2-D corner: 2x2 ones, k3 p1: the corner window holds 4 ones of 9 */
    const float ones[4] = {1, 1, 1, 1};
    hs_pool_shape a2d = {.kind = HS_POOL_AVG, .B = 1, .C = 1, .H = 2, .W = 2, .k = 3, .stride = 1, .pad = 1};
    CU_ASSERT_FATAL(hs_pool_plan(&a2d) == 0);
    hs_pool_forward(out, NULL, ones, &a2d);
    for (int i = 0; i < 4; i++) CU_ASSERT_DOUBLE_EQUAL(out[i], 4.0 / 9.0, 1e-7);
    /* refusals: pad over half the window, an empty output, a bad kind */
    hs_pool_shape bad = {.kind = HS_POOL_MAX, .B = 1, .C = 1, .H = 1, .W = 6, .k = 2, .stride = 2, .pad = 2};
    CU_ASSERT_EQUAL(hs_pool_plan(&bad), -1);
    bad.pad = 0, bad.k = 7;
    CU_ASSERT_EQUAL(hs_pool_plan(&bad), -1);
    bad.k = 2, bad.kind = (hs_pool_kind)7;
    CU_ASSERT_EQUAL(hs_pool_plan(&bad), -1);
}

typedef struct {
    int rows, n;
    double *in, *R;
} gap_ctx;

static double gap_loss(void *p) { /* sum_r R[r] mean(in[r, :]) */
    gap_ctx *c = p;
    double l = 0.0;
    for (int r = 0; r < c->rows; r++) {
        double s = 0.0;
        for (int i = 0; i < c->n; i++) s += c->in[(size_t)r * c->n + i];
        l += c->R[r] * s / c->n;
    }
    return l;
}

static void test_gap(void) {
    hs_rng r;
    hs_rng_init(&r, 22, 0);
    enum { B = 3, C = 4, N = 37 };
    float in[B * C * N], out[B * C], dout[B * C], din[B * C * N];
    double ind[B * C * N], R[B * C], g[B * C * N];
    ops_fill(in, ind, B * C * N, &r, -1.0f, 3.0f);
    ops_fill(dout, R, B * C, &r, -1.0f, 1.0f);
    hs_gap_forward(out, in, B, C, N);
    for (int p = 0; p < B * C; p++) {
        double s = 0.0;
        for (int i = 0; i < N; i++) s += in[p * N + i];
        CU_ASSERT_DOUBLE_EQUAL(out[p], s / N, 1e-6);
    }
    hs_gap_backward(din, dout, B, C, N);
    gap_ctx c = {.rows = B * C, .n = N, .in = ind, .R = R};
    ops_fd(g, ind, B * C * N, gap_loss, &c, 0.5); /* linear: exact */
    OPS_CHECK(ops_err(din, g, B * C * N), 1e-6, "gap din");
}

/* ================================================================ BatchNorm over channels */

typedef struct {
    int B, C, n;
    double *in, *gamma, *beta, *R, *out;
} bn_ctx;

/* training form in double: per channel mean and biased variance over B n values */
static void ref_bn(double *out, double *mean, double *var, const double *in, const double *gamma, const double *beta,
                   int B, int C, int n, double eps) {
    for (int c = 0; c < C; c++) {
        double s = 0.0, q = 0.0;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < n; i++) s += in[((size_t)b * C + c) * n + i];
        const double m = s / ((double)B * n);
        for (int b = 0; b < B; b++)
            for (int i = 0; i < n; i++) q += pow(in[((size_t)b * C + c) * n + i] - m, 2);
        const double v = q / ((double)B * n), rs = 1.0 / sqrt(v + eps);
        if (mean) mean[c] = m, var[c] = v;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < n; i++) {
                const size_t k = ((size_t)b * C + c) * n + i;
                out[k] = gamma[c] * (in[k] - m) * rs + beta[c];
            }
    }
}

static double bn_loss(void *p) {
    bn_ctx *c = p;
    ref_bn(c->out, NULL, NULL, c->in, c->gamma, c->beta, c->B, c->C, c->n, 1e-5);
    return ops_dot(c->R, c->out, (size_t)c->B * c->C * c->n);
}

static void check_bn(int B, int C, int n, float lo, float hi, hs_rng *r) {
    const size_t N = (size_t)B * C * n;
    bn_ctx c = {.B = B, .C = C, .n = n, .in = malloc(N * sizeof(double)), .gamma = malloc(C * sizeof(double)),
                .beta = malloc(C * sizeof(double)), .R = malloc(N * sizeof(double)), .out = malloc(N * sizeof(double))};
    float *in = malloc(N * sizeof(float)), *out = malloc(N * sizeof(float)), *xhat = malloc(N * sizeof(float)),
          *dout = malloc(N * sizeof(float)), *din = malloc(N * sizeof(float)), *gamma = malloc(C * sizeof(float)),
          *beta = malloc(C * sizeof(float)), *rstd = malloc(C * sizeof(float)), *rm = malloc(C * sizeof(float)),
          *rv = malloc(C * sizeof(float)), *dg = malloc(C * sizeof(float)), *dbt = malloc(C * sizeof(float));
    double *ref = malloc(N * sizeof(double)), *mean = malloc(C * sizeof(double)), *var = malloc(C * sizeof(double)),
           *g_in = malloc(N * sizeof(double)), *g_g = malloc(C * sizeof(double)), *g_b = malloc(C * sizeof(double));
    ops_fill(in, c.in, N, r, lo, hi);
    ops_fill(gamma, c.gamma, (size_t)C, r, 0.5f, 1.5f);
    ops_fill(beta, c.beta, (size_t)C, r, -0.5f, 0.5f);
    ops_fill(dout, c.R, N, r, -1.0f, 1.0f);
    for (int i = 0; i < C; i++) rm[i] = 0.25f * (float)i, rv[i] = 1.0f + 0.5f * (float)i;

    hs_bn2d_forward_train(out, xhat, rstd, in, gamma, beta, rm, rv, B, C, n, 1e-5f, 0.1f);
    ref_bn(ref, mean, var, c.in, c.gamma, c.beta, B, C, n, 1e-5);
    char what[120];
    snprintf(what, sizeof what, "bn2d B%d C%d n%d in [%g, %g)", B, C, n, lo, hi);
    OPS_CHECK(ops_err(out, ref, N), 2e-5, what);
    const double unb = (double)B * n / ((double)B * n - 1.0);
    for (int i = 0; i < C; i++) {
        CU_ASSERT_DOUBLE_EQUAL(rstd[i], 1.0 / sqrt(var[i] + 1e-5), 2e-5 / sqrt(var[i] + 1e-5));
        CU_ASSERT_DOUBLE_EQUAL(rm[i], 0.9 * 0.25 * i + 0.1 * mean[i], 1e-5 * (1 + fabs(mean[i])));
        CU_ASSERT_DOUBLE_EQUAL(rv[i], 0.9 * (1.0 + 0.5 * i) + 0.1 * var[i] * unb, 1e-5 * (1 + var[i]));
    }
    for (size_t k = 0; k < N; k++) { /* xhat = (out - beta) / gamma */
        const int ch = (int)(k / n % C);
        CU_ASSERT_DOUBLE_EQUAL(xhat[k], (ref[k] - c.beta[ch]) / c.gamma[ch], 1e-4);
    }
    hs_bn2d_backward(din, dg, dbt, dout, xhat, rstd, gamma, B, C, n);
    ops_fd(g_in, c.in, N, bn_loss, &c, 1e-3 * (hi - lo));
    ops_fd(g_g, c.gamma, (size_t)C, bn_loss, &c, 1e-3);
    ops_fd(g_b, c.beta, (size_t)C, bn_loss, &c, 1e-3);
    OPS_CHECK(ops_err(din, g_in, N), 1e-4, what);
    OPS_CHECK(ops_err(dg, g_g, (size_t)C), 1e-4, what);
    OPS_CHECK(ops_err(dbt, g_b, (size_t)C), 1e-4, what);
    /* din = NULL: the parameter gradients alone */
    float *dg2 = malloc(C * sizeof(float)), *db2 = malloc(C * sizeof(float));
    hs_bn2d_backward(NULL, dg2, db2, dout, xhat, rstd, gamma, B, C, n);
    CU_ASSERT(memcmp(dg2, dg, C * sizeof(float)) == 0 && memcmp(db2, dbt, C * sizeof(float)) == 0);
    /* bit-identical repeat (fixed summation order), no running statistics touched when NULL */
    float *out2 = malloc(N * sizeof(float));
    hs_bn2d_forward_train(out2, xhat, rstd, in, gamma, beta, NULL, NULL, B, C, n, 1e-5f, 0.1f);
    CU_ASSERT(memcmp(out2, out, N * sizeof(float)) == 0);
    free(out2), free(dg2), free(db2);
    free(in), free(out), free(xhat), free(dout), free(din), free(gamma), free(beta), free(rstd), free(rm), free(rv),
        free(dg), free(dbt), free(ref), free(mean), free(var), free(g_in), free(g_g), free(g_b);
    free(c.in), free(c.gamma), free(c.beta), free(c.R), free(c.out);
}

static void test_bn2d_grad(void) {
    hs_rng r;
    hs_rng_init(&r, 31, 0);
    check_bn(4, 3, 9, -1.0f, 2.0f, &r);    /* 1-D: [B x C x L] */
    check_bn(2, 2, 25, -3.0f, 1.0f, &r);   /* 2-D 5x5 */
    check_bn(3, 2, 1, -1.0f, 1.0f, &r);    /* n = 1 (B n = 2 is the smallest legal, but its din is eps-sized) */
    check_bn(3, 2, 17, 999.0f, 1001.0f, &r); /* |mean| >> std */
    check_bn(2, 3, 32, -2.0f, 2.0f, &r);   /* whole vectors of 16, no remainder */
}

/* Hand case: one channel, B = 2, n = 2, values [1 2 | 3 6]: mean 3, biased variance 3.5,
 * unbiased 14/3; running stats from (0, 1) at momentum 0.1: 0.3 and 0.9 + 0.1 * 14/3. */
static void test_bn2d_hand(void) {
    const float in[4] = {1, 2, 3, 6}, gamma[1] = {2}, beta[1] = {1};
    float out[4], xhat[4], rstd[1], rm[1] = {0}, rv[1] = {1};
    hs_bn2d_forward_train(out, xhat, rstd, in, gamma, beta, rm, rv, 2, 1, 2, 0.0f, 0.1f);
    CU_ASSERT_DOUBLE_EQUAL(rm[0], 0.3, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(rv[0], 0.9 + 0.1 * 14.0 / 3.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(rstd[0], 1.0 / sqrt(3.5), 1e-6);
    for (int i = 0; i < 4; i++) CU_ASSERT_DOUBLE_EQUAL(out[i], 2.0 * (in[i] - 3.0) / sqrt(3.5) + 1.0, 1e-5);
    /* eval with the running statistics (two channels, interleaved as [B x C x n]) */
    const float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, g2[2] = {1, 3}, b2[2] = {0, -1}, m2[2] = {2, 4}, v2[2] = {4, 0.25f};
    float y[8];
    hs_bn2d_forward_eval(y, x, g2, b2, m2, v2, 2, 2, 2, 0.0f);
    for (int k = 0; k < 8; k++) {
        const int c = k / 2 % 2;
        CU_ASSERT_DOUBLE_EQUAL(y[k], g2[c] * (x[k] - m2[c]) / sqrt(v2[c]) + b2[c], 1e-5);
    }
    hs_bn2d_forward_eval(y, y, g2, b2, m2, v2, 2, 2, 2, 0.0f); /* in place */
    CU_ASSERT_DOUBLE_EQUAL(y[0], (1.0 * ((1 - 2) / 2.0) - 2) / 2.0, 1e-6);
}

/* ================================================================ pointwise */

static double ref_pact(double x, hs_pact a) {
    switch (a) {
    case HS_PACT_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case HS_PACT_SILU: return x / (1.0 + exp(-x));
    case HS_PACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    }
    return 0.0;
}

static void test_pact(void) {
    hs_rng r;
    hs_rng_init(&r, 41, 0);
    enum { N = 403 }; /* two chunks of the SiLU/sigmoid loops, the second with a partial vector */
    float x[N], y[N], dout[N], din[N];
    ops_fill(x, NULL, N, &r, -6.0f, 6.0f);
    ops_fill(dout, NULL, N, &r, -1.0f, 1.0f);
    const char *names[] = {"gelu", "silu", "sigmoid"};
    for (int a = 0; a < 3; a++) {
        double ref[N], g[N];
        hs_pact_forward(y, x, N, (hs_pact)a);
        for (int i = 0; i < N; i++) ref[i] = ref_pact(x[i], (hs_pact)a);
        OPS_CHECK(ops_err(y, ref, N), 1e-6, names[a]);
        hs_pact_backward(din, dout, x, N, (hs_pact)a);
        for (int i = 0; i < N; i++) {
            const double h = 1e-4;
            g[i] = dout[i] * (ref_pact(x[i] + h, (hs_pact)a) - ref_pact(x[i] - h, (hs_pact)a)) / (2 * h);
        }
        OPS_CHECK(ops_err(din, g, N), 1e-5, names[a]);
        /* in place both ways */
        float y2[N], d2[N];
        memcpy(y2, x, sizeof y2);
        hs_pact_forward(y2, y2, N, (hs_pact)a);
        CU_ASSERT(memcmp(y2, y, sizeof y2) == 0);
        memcpy(d2, dout, sizeof d2);
        hs_pact_backward(d2, d2, x, N, (hs_pact)a);
        CU_ASSERT(memcmp(d2, din, sizeof d2) == 0);
    }
}

/* Large |x|: limits, no NaN, no denormal in values or gradients; NaN propagates. */
static void test_pact_extremes(void) {
    const float x[] = {-1e30f, -1e4f, -200.0f, -95.0f, -88.0f, -81.0f, -30.0f, -12.0f, -9.0f,
                       9.0f,   12.0f, 30.0f,   88.0f,  95.0f,  1e4f,   1e30f};
    enum { N = sizeof x / sizeof x[0] };
    float y[N], d[N], ones[N];
    for (int i = 0; i < N; i++) ones[i] = 1.0f;
    for (int a = 0; a < 3; a++) {
        hs_pact_forward(y, x, N, (hs_pact)a);
        hs_pact_backward(d, ones, x, N, (hs_pact)a);
        for (int i = 0; i < N; i++) {
            CU_ASSERT(!isnan(y[i]) && !isnan(d[i]));
            CU_ASSERT(fpclassify(y[i]) != FP_SUBNORMAL && fpclassify(d[i]) != FP_SUBNORMAL);
            const double ry = ref_pact(x[i], (hs_pact)a);
            if (isfinite(x[i])) CU_ASSERT(fabs(y[i] - ry) <= 1e-6 * fmax(1.0, fabs(ry)) + 1e-30);
            if (x[i] > 20) CU_ASSERT(d[i] == (a == HS_PACT_SIGMOID ? 0.0f : 1.0f));
            if (x[i] < -100) CU_ASSERT(d[i] == 0.0f && (y[i] == 0.0f));
        }
    }
    /* infinities: sigmoid saturates; GELU and SiLU give NaN as PyTorch's do (inf times 0) */
    const float inf_in[2] = {-INFINITY, INFINITY};
    hs_pact_forward(y, inf_in, 2, HS_PACT_SIGMOID);
    CU_ASSERT(y[0] == 0.0f && y[1] == 1.0f);
    const float nan_in[1] = {NAN};
    for (int a = 0; a < 3; a++) {
        hs_pact_forward(y, nan_in, 1, (hs_pact)a);
        hs_pact_backward(d, ones, nan_in, 1, (hs_pact)a);
        CU_ASSERT(isnan(y[0]) && isnan(d[0]));
    }
}

static void test_chscale_add(void) {
    hs_rng r;
    hs_rng_init(&r, 51, 0);
    enum { B = 2, C = 3, N = 21 };
    float in[B * C * N], g[B * C], out[B * C * N], dout[B * C * N], din[B * C * N], dg[B * C];
    ops_fill(in, NULL, B * C * N, &r, -1.0f, 1.0f);
    ops_fill(g, NULL, B * C, &r, 0.0f, 1.0f);
    ops_fill(dout, NULL, B * C * N, &r, -1.0f, 1.0f);
    hs_chscale_forward(out, in, g, B, C, N);
    for (int k = 0; k < B * C * N; k++) CU_ASSERT(out[k] == in[k] * g[k / N]);
    hs_chscale_backward(din, dg, dout, in, g, B, C, N);
    /* the loss sum(R * in g) is linear in each of in and g: central differences are exact */
    for (int p = 0; p < B * C; p++) {
        double lp = 0.0, lm = 0.0;
        for (int i = 0; i < N; i++) {
            lp += dout[p * N + i] * in[p * N + i] * (g[p] + 0.5);
            lm += dout[p * N + i] * in[p * N + i] * (g[p] - 0.5);
        }
        CU_ASSERT_DOUBLE_EQUAL(dg[p], lp - lm, 1e-5);
        for (int i = 0; i < N; i++) { /* d/d in[p, i] of the same loss, by the same difference */
            const double x = in[p * N + i], d = dout[p * N + i], up = d * (x + 0.5) * g[p], dn = d * (x - 0.5) * g[p];
            CU_ASSERT_DOUBLE_EQUAL(din[p * N + i], up - dn, 1e-6);
        }
    }
    float d2[B * C * N], dg2[B * C];
    memcpy(d2, dout, sizeof d2);
    hs_chscale_backward(d2, dg2, d2, in, g, B, C, N); /* din = dout */
    CU_ASSERT(memcmp(d2, din, sizeof d2) == 0 && memcmp(dg2, dg, sizeof dg2) == 0);
    float s[B * C * N];
    hs_add_forward(s, in, dout, B * C * N);
    for (int k = 0; k < B * C * N; k++) CU_ASSERT(s[k] == in[k] + dout[k]);
    memcpy(s, in, sizeof s);
    hs_add_forward(s, s, dout, B * C * N); /* out = a */
    for (int k = 0; k < B * C * N; k++) CU_ASSERT(s[k] == in[k] + dout[k]);
}

/* ================================================================ dropout */

static void test_dropout(void) {
    enum { N = 100000 };
    float *in = malloc(N * sizeof(float)), *out = malloc(N * sizeof(float)), *mask = malloc(N * sizeof(float)),
          *out2 = malloc(N * sizeof(float)), *mask2 = malloc(N * sizeof(float));
    hs_rng r;
    hs_rng_init(&r, 61, 0);
    ops_fill(in, NULL, N, &r, -1.0f, 1.0f);
    const uint64_t seed = 99, stream = hs_rng_stream(HS_STREAM_DROPOUT, 3);
    const float p = 0.3f;
    hs_dropout_forward(out, mask, in, N, p, seed, stream, 1000);
    /* the definition: word 1000 + i of the stream, kept when u >= p 2^32, scaled by 1/(1-p) */
    hs_rng ref;
    hs_rng_init(&ref, seed, stream);
    hs_rng_seek(&ref, 1000);
    const float scale = (float)(1.0 / (1.0 - (double)p));
    size_t dropped = 0, bad = 0;
    for (size_t i = 0; i < N; i++) {
        const int keep = (double)hs_rng_u32(&ref) >= (double)p * 4294967296.0;
        dropped += !keep;
        if (mask[i] != (keep ? scale : 0.0f) || out[i] != in[i] * mask[i]) bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* the rate: 5 standard deviations (0.0072) around p; p = 0.29 or 0.31 would fail */
    const double rate = (double)dropped / N, sd = sqrt(p * (1.0 - p) / N);
    CU_ASSERT(fabs(rate - p) < 5 * sd);
    CU_ASSERT(5 * sd < 0.01);
    /* a pure function of (seed, stream, word): repeats, and offsets shift the mask */
    hs_dropout_forward(out2, mask2, in, N, p, seed, stream, 1000);
    CU_ASSERT(memcmp(mask2, mask, N * sizeof(float)) == 0 && memcmp(out2, out, N * sizeof(float)) == 0);
    hs_dropout_forward(out2, mask2, in + 10, N - 10, p, seed, stream, 1010);
    CU_ASSERT(memcmp(mask2, mask + 10, (N - 10) * sizeof(float)) == 0);
    hs_dropout_forward(out2, mask2, in, N, p, seed, hs_rng_stream(HS_STREAM_DROPOUT, 4), 1000);
    CU_ASSERT(memcmp(mask2, mask, N * sizeof(float)) != 0);
    hs_dropout_forward(out2, mask2, in, N, p, seed + 1, stream, 1000);
    CU_ASSERT(memcmp(mask2, mask, N * sizeof(float)) != 0);
    /* backward = dout mask, in place allowed */
    hs_dropout_backward(out2, in, mask, N);
    for (size_t i = 0; i < N; i++) CU_ASSERT_FATAL(out2[i] == in[i] * mask[i]);
    /* p = 0 copies (bit for bit, in place too); p = 1 zeroes */
    hs_dropout_forward(out2, mask2, in, N, 0.0f, seed, stream, 0);
    CU_ASSERT(memcmp(out2, in, N * sizeof(float)) == 0);
    for (size_t i = 0; i < N; i++) CU_ASSERT_FATAL(mask2[i] == 1.0f);
    hs_dropout_forward(out2, mask2, in, N, 1.0f, seed, stream, 0);
    for (size_t i = 0; i < N; i++) CU_ASSERT_FATAL(out2[i] == 0.0f && mask2[i] == 0.0f);
    /* in place (out = in) gives the same as out of place */
    memcpy(out2, in, N * sizeof(float));
    hs_dropout_forward(out2, mask2, out2, N, p, seed, stream, 1000);
    CU_ASSERT(memcmp(out2, out, N * sizeof(float)) == 0);
    free(in), free(out), free(mask), free(out2), free(mask2);
}

/* Drop-path: row q is kept or dropped whole, by draw q of the stream at the word offset (the
 * same draws as dropout over B elements), kept rows scaled by 1/(1-p); the rate over 100000 rows
 * of 3 values; the backward. B = 100000 crosses the 64-row chunks of the implementation. */
static void test_droppath(void) {
    enum { B = 100000, R = 3 };
    float *in = malloc((size_t)B * R * sizeof(float)), *out = malloc((size_t)B * R * sizeof(float)),
          *mask = malloc(B * sizeof(float)), *dm = malloc(B * sizeof(float)), *one = malloc(B * sizeof(float));
    CU_ASSERT_FATAL(in && out && mask && dm && one);
    hs_rng r;
    hs_rng_init(&r, 62, 0);
    ops_fill(in, NULL, (size_t)B * R, &r, -1.0f, 1.0f);
    const uint64_t seed = 7, stream = hs_rng_stream(HS_STREAM_DROPPATH, 5);
    const float p = 0.15f, scale = (float)(1.0 / (1.0 - (double)p));
    hs_droppath_forward(out, mask, in, B, R, p, seed, stream, 77);
    for (int q = 0; q < B; q++) one[q] = 1.0f;
    hs_dropout_forward(one, dm, one, B, p, seed, stream, 77);
    CU_ASSERT(memcmp(mask, dm, B * sizeof(float)) == 0);
    size_t dropped = 0, bad = 0;
    for (int q = 0; q < B; q++) {
        dropped += mask[q] == 0.0f;
        bad += mask[q] != 0.0f && mask[q] != scale;
        for (int i = 0; i < R; i++) bad += out[(size_t)q * R + i] != in[(size_t)q * R + i] * mask[q];
    }
    CU_ASSERT_EQUAL(bad, 0);
    const double rate = (double)dropped / B, sd = sqrt(p * (1.0 - p) / B);
    CU_ASSERT(fabs(rate - p) < 5 * sd && 5 * sd < 0.01);
    /* backward in place: din = dout x the row's factor */
    memcpy(out, in, (size_t)B * R * sizeof(float));
    hs_droppath_backward(out, out, mask, B, R);
    for (size_t i = 0; i < (size_t)B * R; i++) CU_ASSERT_FATAL(out[i] == in[i] * mask[i / R]);
    /* p = 0: every row kept as it is */
    hs_droppath_forward(out, mask, in, B, R, 0.0f, seed, stream, 0);
    CU_ASSERT(memcmp(out, in, (size_t)B * R * sizeof(float)) == 0);
    free(in), free(out), free(mask), free(dm), free(one);
}

int main(void) {
    const hs_test tests[] = {
        {"pool: hand cases (ties, NaN, count_include_pad, refusals)", test_pool_hand},
        {"pool: max/avg 1-D and 2-D vs reference and finite differences", test_pool_grad},
        {"global average pooling", test_gap},
        {"bn2d: hand case, running statistics, eval", test_bn2d_hand},
        {"bn2d: train vs reference and finite differences", test_bn2d_grad},
        {"gelu/silu/sigmoid vs reference and finite differences", test_pact},
        {"gelu/silu/sigmoid at large |x| and NaN", test_pact_extremes},
        {"channel scale and add", test_chscale_add},
        {"dropout: definition, rate, determinism, p = 0 and 1", test_dropout},
        {"drop-path: whole rows, the draws of dropout, rate, backward", test_droppath},
        {NULL, NULL},
    };
    return hs_test_main("ops", tests);
}
