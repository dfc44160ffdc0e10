/* test_conv.c - the convolution of include/hsweep/ops.h against a double-precision reference
 * written here (PyTorch's conv1d/conv2d definition, loop by loop), on 1-D and 2-D shapes with
 * stride 1/2, padding 0/1/2, dilation 1/2, groups 1/2/3/depthwise, odd sizes, 1 x 1 kernels, and
 * runs of samples that do and do not divide the batch. Every shape runs on both paths (direct
 * and im2col + gemm; the direct one in each of its codes: vector kernels, portable loops, the
 * loops compiled for AVX-512; Winograd F(2x2, 3x3) where it applies, its transforms as chosen and
 * as compiled for the baseline) with a scratch of exactly the planned size: the forward against the
 * reference, the two paths against each other, and dW, db, din against central finite
 * differences of the reference's loss sum(R * out). Plus the plan's sizes and refusals, 2-D
 * Winograd against im2col on the 2-D nets' larger shapes and on a hand-computed case, and the 1-D
 * Winograd path (both tile sizes) against a double reference and against im2col. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/nn/conv_direct.h"
#include "../../src/nn/conv_winograd.h"
#include "../../src/nn/conv_winograd1d.h"
#include "hsweep/ops.h"
#include "hsweep/rng.h"
#include "ops_helpers.h"
#include "testing.h"

/* ---------------------------------------------------------------- the reference */

typedef struct {
    hs_conv_shape s;
    double *in, *W, *b, *R; /* R: the loss's weights, [B x C_out x OH x OW] */
    double *out;            /* scratch of the reference forward */
} conv_ctx;

/* PyTorch's definition: out[n, co, oh, ow] = b[co] + sum over ci of co's group and taps of
 * W[co, ci, kh, kw] in[n, g cin_g + ci, oh st - ph + kh d, ow st - p + kw d] (zero outside);
 * 1-D (H = KH = 1) pads along W only. */
static void ref_conv(double *out, const double *in, const double *W, const double *b, const hs_conv_shape *s) {
    const int cin_g = s->C_in / s->groups, cout_g = s->C_out / s->groups;
    const int ph = s->H == 1 && s->KH == 1 ? 0 : s->pad;
    for (int n = 0; n < s->B; n++)
        for (int co = 0; co < s->C_out; co++)
            for (int oh = 0; oh < s->OH; oh++)
                for (int ow = 0; ow < s->OW; ow++) {
                    double acc = b ? b[co] : 0.0;
                    const int g = co / cout_g;
                    for (int ci = 0; ci < cin_g; ci++)
                        for (int kh = 0; kh < s->KH; kh++)
                            for (int kw = 0; kw < s->KW; kw++) {
                                const int ih = oh * s->stride - ph + kh * s->dilation,
                                          iw = ow * s->stride - s->pad + kw * s->dilation;
                                if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W) continue;
                                acc += W[((co * cin_g + ci) * s->KH + kh) * s->KW + kw] *
                                       in[((n * s->C_in + g * cin_g + ci) * s->H + ih) * s->W + iw];
                            }
                    out[((n * s->C_out + co) * s->OH + oh) * s->OW + ow] = acc;
                }
}

static size_t out_size(const hs_conv_shape *s) { return (size_t)s->B * s->C_out * s->OH * s->OW; }
static size_t in_size(const hs_conv_shape *s) { return (size_t)s->B * s->C_in * s->H * s->W; }
static size_t w_size(const hs_conv_shape *s) { return (size_t)s->C_out * (s->C_in / s->groups) * s->KH * s->KW; }

static double conv_loss(void *p) {
    conv_ctx *c = p;
    ref_conv(c->out, c->in, c->W, c->b, &c->s);
    return ops_dot(c->R, c->out, out_size(&c->s));
}

/* ---------------------------------------------------------------- one shape on one path */

typedef struct {
    float *out, *din, *dW, *db;
} conv_result;

static void result_alloc(conv_result *r, const hs_conv_shape *s) {
    r->out = malloc(out_size(s) * sizeof(float));
    r->din = malloc(in_size(s) * sizeof(float));
    r->dW = malloc(w_size(s) * sizeof(float));
    r->db = malloc((size_t)s->C_out * sizeof(float));
}
static void result_free(conv_result *r) { free(r->out), free(r->din), free(r->dW), free(r->db); }

/* Forward and backward of s on the given path into r; also checks that a second call is
 * bit-identical, that din = NULL leaves dW as it was, and that b = NULL drops the bias. */
static void run_path(conv_result *r, hs_conv_shape s, hs_conv_path path, const float *in, const float *W,
                     const float *b, const float *dout) {
    CU_ASSERT_FATAL(hs_conv_plan_path(&s, path) == 0);
    CU_ASSERT(s.path == path);
    float *work = malloc((s.work ? s.work : 1) * sizeof(float)); /* exactly the plan's: ASan checks the bound */
    CU_ASSERT_FATAL(work != NULL);
    hs_conv_forward(r->out, in, W, b, &s, work);
    hs_conv_backward(r->din, r->dW, r->db, dout, in, W, &s, work);

    const size_t no = out_size(&s), nw = w_size(&s);
    float *out2 = malloc(no * sizeof(float)), *dW2 = malloc(nw * sizeof(float));
    hs_conv_forward(out2, in, W, b, &s, work);
    CU_ASSERT(memcmp(out2, r->out, no * sizeof(float)) == 0);
    for (size_t i = 0; i < nw; i++) dW2[i] = 1e9f; /* overwritten, never accumulated */
    hs_conv_backward(NULL, dW2, NULL, dout, in, W, &s, work);
    CU_ASSERT(memcmp(dW2, r->dW, nw * sizeof(float)) == 0);
    hs_conv_forward(out2, in, W, NULL, &s, work);
    /* normwise, as every other check here: a path may add the bias inside its sums (the
     * products' blocking, hence the roundings, then differ with the kernel the machine runs),
     * so the gap scales with the outputs' size, not with 1 */
    double worst = 0.0, scale = 1.0;
    for (int n = 0; n < s.B; n++)
        for (int co = 0; co < s.C_out; co++)
            for (int i = 0; i < s.OH * s.OW; i++) {
                const size_t k = ((size_t)n * s.C_out + co) * s.OH * s.OW + i;
                worst = fmax(worst, fabs((double)out2[k] + b[co] - r->out[k]));
                scale = fmax(scale, fabs((double)r->out[k]));
            }
    OPS_CHECK(worst / scale, 1e-6, "forward without bias + b (relative to the largest output)");
    free(out2), free(dW2), free(work);
}

typedef struct {
    int B, C_in, H, W, C_out, KH, KW, stride, pad, dilation, groups;
} conv_case;

static void check_case(const conv_case *k, hs_rng *rng) {
    hs_conv_shape s = {.B = k->B, .C_in = k->C_in, .H = k->H, .W = k->W, .C_out = k->C_out, .KH = k->KH,
                       .KW = k->KW, .stride = k->stride, .pad = k->pad, .dilation = k->dilation, .groups = k->groups};
    CU_ASSERT_FATAL(hs_conv_plan(&s) == 0);
    char what[200];
    snprintf(what, sizeof what, "B%d C%d->%d %dx%d k%dx%d s%d p%d d%d g%d", s.B, s.C_in, s.C_out, s.H, s.W, s.KH, s.KW,
             s.stride, s.pad, s.dilation, s.groups);
    const size_t ni = in_size(&s), nw = w_size(&s), no = out_size(&s);
    float *in = malloc(ni * sizeof(float)), *W = malloc(nw * sizeof(float)),
          *b = malloc((size_t)s.C_out * sizeof(float)), *dout = malloc(no * sizeof(float));
    conv_ctx c = {.s = s, .in = malloc(ni * sizeof(double)), .W = malloc(nw * sizeof(double)),
                  .b = malloc((size_t)s.C_out * sizeof(double)), .R = malloc(no * sizeof(double)),
                  .out = malloc(no * sizeof(double))};
    ops_fill(in, c.in, ni, rng, -1.0f, 1.0f);
    ops_fill(W, c.W, nw, rng, -1.0f, 1.0f);
    ops_fill(b, c.b, (size_t)s.C_out, rng, -1.0f, 1.0f);
    ops_fill(dout, c.R, no, rng, -1.0f, 1.0f);

    double *ref = malloc(no * sizeof(double)), *gin = malloc(ni * sizeof(double)), *gW = malloc(nw * sizeof(double)),
           *gb = malloc((size_t)s.C_out * sizeof(double));
    ref_conv(ref, c.in, c.W, c.b, &s);
    /* the loss is linear in every parameter: the central difference is exact up to rounding */
    ops_fd(gin, c.in, ni, conv_loss, &c, 0.5);
    ops_fd(gW, c.W, nw, conv_loss, &c, 0.5);
    ops_fd(gb, c.b, (size_t)s.C_out, conv_loss, &c, 0.5);

    /* im2col + gemm; the direct kernel as chosen (vector kernels where the CPU has AVX-512), its
     * portable loops as compiled for the baseline, and those loops compiled for AVX-512; Winograd
     * where it applies, its transforms as chosen and as compiled for the baseline */
    static const char *names[6] = {"im2col", "direct", "direct loops", "direct loops wide", "winograd",
                                   "winograd base"};
    hs_conv_shape sw = s;
    const int nv = hs_conv_plan_path(&sw, HS_CONV_WINOGRAD) == 0 ? 6 : 4;
    conv_result r[6];
    for (int v = 0; v < nv; v++) {
        result_alloc(&r[v], &s);
        hs_conv_direct_force(v >= 2 && v < 4 ? v - 1 : 0);
        hs_conv_winograd_force(v == 5);
        run_path(&r[v], s, v == 0 ? HS_CONV_IM2COL : v < 4 ? HS_CONV_DIRECT : HS_CONV_WINOGRAD, in, W, b, dout);
        hs_conv_direct_force(0);
        hs_conv_winograd_force(0);
        char w2[260];
        snprintf(w2, sizeof w2, "%s [%s] forward", what, names[v]);
        OPS_CHECK(ops_err(r[v].out, ref, no), 1e-5, w2);
        snprintf(w2, sizeof w2, "%s [%s] din", what, names[v]);
        OPS_CHECK(ops_err(r[v].din, gin, ni), 1e-5, w2);
        snprintf(w2, sizeof w2, "%s [%s] dW", what, names[v]);
        OPS_CHECK(ops_err(r[v].dW, gW, nw), 1e-5, w2);
        snprintf(w2, sizeof w2, "%s [%s] db", what, names[v]);
        OPS_CHECK(ops_err(r[v].db, gb, (size_t)s.C_out), 1e-5, w2);
    }
    for (int v = 1; v < nv; v++) {
        char w3[260];
        snprintf(w3, sizeof w3, "%s %s vs im2col", what, names[v]);
        OPS_CHECK(ops_err_ff(r[v].out, r[0].out, no), 1e-5, w3);
        OPS_CHECK(ops_err_ff(r[v].din, r[0].din, ni), 1e-5, w3);
        OPS_CHECK(ops_err_ff(r[v].dW, r[0].dW, nw), 1e-5, w3);
        OPS_CHECK(ops_err_ff(r[v].db, r[0].db, (size_t)s.C_out), 1e-5, w3);
    }
    /* Winograd's transforms give the same bits in every code */
    if (nv == 6) {
        CU_ASSERT(memcmp(r[4].out, r[5].out, no * sizeof(float)) == 0);
        CU_ASSERT(memcmp(r[4].din, r[5].din, ni * sizeof(float)) == 0);
        CU_ASSERT(memcmp(r[4].dW, r[5].dW, nw * sizeof(float)) == 0);
    }
    /* the chosen path is one of them, bit for bit */
    float *work = malloc((s.work ? s.work : 1) * sizeof(float)), *out = malloc(no * sizeof(float));
    hs_conv_forward(out, in, W, b, &s, work);
    CU_ASSERT_FATAL(s.path != HS_CONV_WINOGRAD || nv == 6);
    CU_ASSERT(memcmp(out, r[s.path == HS_CONV_WINOGRAD ? 4 : (int)s.path].out, no * sizeof(float)) == 0);
    free(work), free(out);

    for (int v = 0; v < nv; v++) result_free(&r[v]);
    free(in), free(W), free(b), free(dout), free(ref), free(gin), free(gW), free(gb);
    free(c.in), free(c.W), free(c.b), free(c.R), free(c.out);
}

/* B, C_in, H, W, C_out, KH, KW, stride, pad, dilation, groups */
static const conv_case cases_1d[] = {
    {2, 3, 1, 11, 4, 1, 3, 1, 1, 1, 1},  /* kernel 3 pad 1: the SRHM nets' conv */
    {3, 4, 1, 9, 6, 1, 3, 2, 2, 1, 2},   /* stride 2, pad 2, two groups */
    {2, 4, 1, 10, 4, 1, 5, 1, 2, 2, 4},  /* depthwise, k5, dilation 2 */
    {10, 3, 1, 36, 4, 1, 3, 1, 1, 1, 1}, /* runs of 8 samples of 36 positions: 8 + 2 */
    {3, 5, 1, 2, 7, 1, 3, 1, 1, 1, 1},   /* length 2 (a VGG's last stage) */
    {2, 3, 1, 7, 5, 1, 1, 2, 0, 1, 1},   /* 1 x 1, stride 2 (a ResNet shortcut) */
    {3, 2, 1, 130, 3, 1, 1, 1, 0, 1, 1}, /* 1 x 1 over 130 positions: runs of 2, the last of 1 */
    {2, 6, 1, 8, 3, 1, 4, 2, 0, 1, 3},   /* even kernel, three groups of 2 -> 1 */
    {2, 4, 1, 40, 4, 1, 3, 2, 1, 1, 4},  /* depthwise stride 2 over 20 outputs: full 16-lane blocks */
};
static const conv_case cases_2d[] = {
    {2, 3, 7, 6, 5, 3, 3, 1, 1, 1, 1},  /* 3x3 pad 1, odd sizes */
    {2, 4, 9, 9, 4, 3, 3, 2, 1, 1, 4},  /* depthwise stride 2 */
    {2, 4, 8, 7, 6, 3, 3, 2, 0, 2, 2},  /* stride 2, dilation 2, no padding, groups 2 */
    {2, 3, 6, 6, 4, 5, 5, 1, 2, 1, 1},  /* 5x5 pad 2 */
    {1, 6, 7, 7, 6, 3, 3, 1, 1, 2, 3},  /* groups 3, dilation 2 */
    {2, 2, 4, 5, 3, 3, 3, 2, 2, 1, 1},  /* pad 2 at stride 2: border taps read only padding */
    {2, 3, 16, 16, 5, 1, 1, 1, 0, 1, 1}, /* 1 x 1 on 256 positions: the input is the column matrix */
    {3, 2, 5, 5, 4, 1, 1, 1, 0, 1, 1},  /* 1 x 1, runs of 3 samples */
    {2, 1, 5, 4, 8, 3, 3, 1, 1, 1, 1},  /* one input channel (a stem) */
    {2, 6, 5, 5, 6, 5, 5, 1, 2, 1, 6},  /* depthwise 5x5 */
    {2, 3, 1, 5, 2, 3, 3, 1, 1, 1, 1},  /* a 2-D kernel on a one-row input pads along H too */
    {1, 2, 3, 3, 2, 3, 3, 1, 0, 1, 1},  /* one output position */
    {1, 3, 6, 37, 3, 3, 3, 1, 1, 1, 3}, /* depthwise over rows of 37: 16-lane blocks and a tail */
};

static void test_conv_1d(void) {
    hs_rng r;
    hs_rng_init(&r, 11, 0);
    for (size_t i = 0; i < sizeof cases_1d / sizeof cases_1d[0]; i++) check_case(&cases_1d[i], &r);
}

static void test_conv_2d(void) {
    hs_rng r;
    hs_rng_init(&r, 12, 0);
    for (size_t i = 0; i < sizeof cases_2d / sizeof cases_2d[0]; i++) check_case(&cases_2d[i], &r);
}

/* A hand-computed 1-D case: in = [1 2 3 4], W = [1 0 -1], pad 1, bias 0.5:
 * out[i] = in[i-1] - in[i+1] + 0.5 = [-1.5, -1.5, -1.5, 3.5]; stride 2 keeps [-1.5, -1.5]. */
static void test_conv_hand(void) {
    const float in[4] = {1, 2, 3, 4}, W[3] = {1, 0, -1}, b[1] = {0.5f};
    for (int path = 0; path < 2; path++)
        for (int stride = 1; stride <= 2; stride++) {
            hs_conv_shape s = {.B = 1, .C_in = 1, .H = 1, .W = 4, .C_out = 1, .KH = 1, .KW = 3, .stride = stride,
                               .pad = 1, .dilation = 1, .groups = 1};
            CU_ASSERT_FATAL(hs_conv_plan_path(&s, (hs_conv_path)path) == 0);
            CU_ASSERT(s.OH == 1 && s.OW == (stride == 1 ? 4 : 2));
            float out[4] = {0}, work[64];
            CU_ASSERT_FATAL(s.work <= 64);
            hs_conv_forward(out, in, W, b, &s, work);
            const float want[4] = {-1.5f, -1.5f, -1.5f, 3.5f}, want2[2] = {-1.5f, -1.5f};
            for (int i = 0; i < s.OW; i++) CU_ASSERT_DOUBLE_EQUAL(out[i], stride == 1 ? want[i] : want2[i], 1e-6);
        }
}

static void test_conv_plan(void) {
    CU_ASSERT_EQUAL(hs_conv_out_len(36, 3, 1, 1, 1), 36);
    CU_ASSERT_EQUAL(hs_conv_out_len(36, 3, 2, 1, 1), 18);
    CU_ASSERT_EQUAL(hs_conv_out_len(9, 3, 2, 1, 1), 5); /* the 1-D ResNet's 9 -> 5 */
    CU_ASSERT_EQUAL(hs_conv_out_len(9, 2, 2, 0, 1), 4); /* max-pool 9 -> 4 */
    CU_ASSERT_EQUAL(hs_conv_out_len(7, 3, 1, 0, 2), 3);
    CU_ASSERT(hs_conv_out_len(2, 5, 1, 0, 1) <= 0);

    hs_conv_shape ok = {.B = 2, .C_in = 4, .H = 8, .W = 8, .C_out = 6, .KH = 3, .KW = 3, .stride = 2, .pad = 1,
                        .dilation = 1, .groups = 2};
    hs_conv_shape s = ok;
    CU_ASSERT_EQUAL(hs_conv_plan(&s), 0);
    CU_ASSERT(s.OH == 4 && s.OW == 4);
    /* the im2col scratch: Kc x (run of samples x positions) + a staging block when runs are longer than one */
    CU_ASSERT_EQUAL(hs_conv_plan_path(&s, HS_CONV_IM2COL), 0);
    CU_ASSERT_EQUAL(s.work, (size_t)(2 * 9) * (2 * 16) + (size_t)3 * (2 * 16));
    CU_ASSERT_EQUAL(hs_conv_plan_path(&s, HS_CONV_DIRECT), 0);
    CU_ASSERT_EQUAL(s.work, 0);
    s = ok, s.groups = 3; /* does not divide 4 */
    CU_ASSERT_EQUAL(hs_conv_plan(&s), -1);
    s = ok, s.C_out = 5; /* does not divide by 2 groups */
    CU_ASSERT_EQUAL(hs_conv_plan(&s), -1);
    s = ok, s.pad = 0, s.KH = s.KW = 9; /* empty output */
    CU_ASSERT_EQUAL(hs_conv_plan(&s), -1);
    s = ok, s.stride = 0;
    CU_ASSERT_EQUAL(hs_conv_plan(&s), -1);
    s = ok, s.dilation = 0;
    CU_ASSERT_EQUAL(hs_conv_plan(&s), -1);
    s = ok, s.pad = -1;
    CU_ASSERT_EQUAL(hs_conv_plan(&s), -1);
    s = ok, s.B = 0;
    CU_ASSERT_EQUAL(hs_conv_plan(&s), -1);
    s = ok, s.B = 1 << 20, s.H = s.W = 1 << 6; /* 2^34 inputs */
    CU_ASSERT_EQUAL(hs_conv_plan(&s), -1);
    /* 1-D: H = KH = 1 pads along W only */
    hs_conv_shape one = {.B = 1, .C_in = 1, .H = 1, .W = 5, .C_out = 1, .KH = 1, .KW = 3, .stride = 1, .pad = 2,
                         .dilation = 1, .groups = 1};
    CU_ASSERT_EQUAL(hs_conv_plan(&one), 0);
    CU_ASSERT(one.OH == 1 && one.OW == 7);
    /* depthwise convs take the direct path, wide ones im2col */
    hs_conv_shape dw = {.B = 8, .C_in = 32, .H = 14, .W = 14, .C_out = 32, .KH = 3, .KW = 3, .stride = 1, .pad = 1,
                        .dilation = 1, .groups = 32};
    CU_ASSERT_EQUAL(hs_conv_plan(&dw), 0);
    CU_ASSERT_EQUAL(dw.path, HS_CONV_DIRECT);
    hs_conv_shape wide = {.B = 8, .C_in = 64, .H = 14, .W = 14, .C_out = 64, .KH = 3, .KW = 3, .stride = 1,
                          .pad = 1, .dilation = 1, .groups = 1};
    CU_ASSERT_EQUAL(hs_conv_plan(&wide), 0);
    CU_ASSERT_EQUAL(wide.path, HS_CONV_WINOGRAD);
    s = wide, s.stride = 2;
    CU_ASSERT_EQUAL(hs_conv_plan(&s), 0);
    CU_ASSERT_EQUAL(s.path, HS_CONV_IM2COL);

    /* Winograd: 3x3, stride 1, pad 1, dilation 1, one group, 2-D; refused otherwise */
    s = wide;
    CU_ASSERT_EQUAL(hs_conv_plan_path(&s, HS_CONV_WINOGRAD), 0);
    CU_ASSERT_EQUAL(s.path, HS_CONV_WINOGRAD);
    CU_ASSERT(s.OH == 14 && s.OW == 14 && s.work > 0);
    s = wide, s.stride = 2;
    CU_ASSERT_EQUAL(hs_conv_plan_path(&s, HS_CONV_WINOGRAD), -1);
    s = wide, s.KH = s.KW = 5, s.pad = 2;
    CU_ASSERT_EQUAL(hs_conv_plan_path(&s, HS_CONV_WINOGRAD), -1);
    s = wide, s.groups = 2;
    CU_ASSERT_EQUAL(hs_conv_plan_path(&s, HS_CONV_WINOGRAD), -1);
    s = wide, s.dilation = 2, s.pad = 2;
    CU_ASSERT_EQUAL(hs_conv_plan_path(&s, HS_CONV_WINOGRAD), -1);
    s = wide, s.pad = 0;
    CU_ASSERT_EQUAL(hs_conv_plan_path(&s, HS_CONV_WINOGRAD), -1);
    s = wide, s.KH = 1, s.H = 1; /* 1-D */
    CU_ASSERT_EQUAL(hs_conv_plan_path(&s, HS_CONV_WINOGRAD), -1);
    s = wide, s.C_in = 7; /* the rule's channel floor: im2col */
    CU_ASSERT_EQUAL(hs_conv_plan(&s), 0);
    CU_ASSERT_EQUAL(s.path, HS_CONV_IM2COL);
    s = wide, s.H = s.W = 2; /* and its plane floor */
    CU_ASSERT_EQUAL(hs_conv_plan(&s), 0);
    CU_ASSERT_EQUAL(s.path, HS_CONV_IM2COL);
    CU_ASSERT_EQUAL(hs_conv_plan_path(&s, HS_CONV_WINOGRAD), 0); /* which Winograd can still compute */
    CU_ASSERT_STRING_EQUAL(hs_conv_path_to_string(HS_CONV_WINOGRAD), "winograd");
}

/* A hand-computed 2-D case on the Winograd path, one channel, in = W-shaped 1..9, a filter with
 * two taps, out[y][x] = in[y][x+1] + 2 in[y-1][x] + 0.5 (the orientation of both taps matters,
 * and din's flip of the filter with it):
 *   in = [1 2 3; 4 5 6; 7 8 9] -> out = [2 3 0; 7 10 6; 16 19 12] + 0.5;
 *   dout = in -> din[y][x] = dout[y][x-1] + 2 dout[y+1][x] = [8 11 14; 14 20 23; 0 7 8];
 *   dW[1][2] = sum dout[y][x] in[y][x+1] = 186, dW[1][1] = sum dout in = 285, db = 45. */
static void test_conv_winograd_hand(void) {
    const float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, W[9] = {0, 2, 0, 0, 0, 1, 0, 0, 0}, b[1] = {0.5f};
    const float want[9] = {2.5f, 3.5f, 0.5f, 7.5f, 10.5f, 6.5f, 16.5f, 19.5f, 12.5f},
                want_din[9] = {8, 11, 14, 14, 20, 23, 0, 7, 8};
    hs_conv_shape s = {.B = 1, .C_in = 1, .H = 3, .W = 3, .C_out = 1, .KH = 3, .KW = 3, .stride = 1, .pad = 1,
                       .dilation = 1, .groups = 1};
    CU_ASSERT_FATAL(hs_conv_plan_path(&s, HS_CONV_WINOGRAD) == 0);
    float *work = malloc(s.work * sizeof(float)), out[9], din[9], dW[9], db[1];
    CU_ASSERT_FATAL(work != NULL);
    hs_conv_forward(out, in, W, b, &s, work);
    hs_conv_backward(din, dW, db, in, in, W, &s, work);
    for (int i = 0; i < 9; i++) {
        CU_ASSERT_DOUBLE_EQUAL(out[i], want[i], 1e-5);
        CU_ASSERT_DOUBLE_EQUAL(din[i], want_din[i], 1e-5);
    }
    CU_ASSERT_DOUBLE_EQUAL(dW[5], 186, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(dW[4], 285, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(db[0], 45, 1e-5);
    free(work);
}

/* Winograd against im2col (and the forward against the double reference) on the shapes of the
 * 2-D nets, too large for finite differences: odd sizes, 1 x 1 and 28 x 28 planes, batches of
 * one and of several runs with a short last one, 8..64 input channels, rows of 1..17 tiles (the
 * intrinsics' groups of 16 / tw tile rows, full and short, and the loops past 16), each code of
 * the transforms giving the same bits. F(2x2, 3x3) adds each
 * product through transforms of at most 4 terms a side, so its error is of the im2col's order:
 * at most 6.3e-7 of the largest value here (measured); the bound leaves a factor ~15. */
static void test_conv_winograd_shapes(void) {
    /* B, C_in, H, W, C_out */
    static const int cases[][5] = {
        {1, 8, 7, 7, 16},    {2, 64, 28, 28, 64}, {5, 32, 1, 1, 4},  {1, 9, 5, 9, 3},
        {4, 16, 28, 28, 16}, {40, 8, 7, 7, 8},    {3, 64, 4, 4, 128}, {2, 12, 2, 13, 2},
        {3, 8, 14, 14, 8},   {2, 8, 3, 5, 4},     {2, 8, 6, 32, 4},   {2, 8, 9, 31, 4},
        {1, 8, 5, 33, 4},    {6, 8, 2, 2, 4},     {2, 8, 11, 3, 4},
    };
    hs_rng rng;
    hs_rng_init(&rng, 13, 0);
    double worst = 0.0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *k = cases[i];
        hs_conv_shape s = {.B = k[0], .C_in = k[1], .H = k[2], .W = k[3], .C_out = k[4], .KH = 3, .KW = 3,
                           .stride = 1, .pad = 1, .dilation = 1, .groups = 1};
        CU_ASSERT_FATAL(hs_conv_plan(&s) == 0);
        const size_t ni = in_size(&s), nw = w_size(&s), no = out_size(&s);
        float *in = malloc(ni * sizeof(float)), *W = malloc(nw * sizeof(float)),
              *b = malloc((size_t)s.C_out * sizeof(float)), *dout = malloc(no * sizeof(float));
        double *din_ = malloc(ni * sizeof(double)), *dW_ = malloc(nw * sizeof(double)),
               *db_ = malloc((size_t)s.C_out * sizeof(double)), *dd = malloc(no * sizeof(double)),
               *ref = malloc(no * sizeof(double));
        ops_fill(in, din_, ni, &rng, -1.0f, 1.0f);
        ops_fill(W, dW_, nw, &rng, -1.0f, 1.0f);
        ops_fill(b, db_, (size_t)s.C_out, &rng, -1.0f, 1.0f);
        ops_fill(dout, dd, no, &rng, -1.0f, 1.0f);
        ref_conv(ref, din_, dW_, db_, &s);
        /* im2col; Winograd's transforms as chosen (the intrinsics up to 16 tiles a row), as
         * compiled for the baseline, and the loops compiled for the CPU: the same bits */
        conv_result r[4];
        for (int v = 0; v < 4; v++) {
            result_alloc(&r[v], &s);
            hs_conv_winograd_force(v >= 2 ? v - 1 : 0);
            run_path(&r[v], s, v ? HS_CONV_WINOGRAD : HS_CONV_IM2COL, in, W, b, dout);
            hs_conv_winograd_force(0);
        }
        for (int v = 2; v < 4; v++) {
            CU_ASSERT(memcmp(r[1].out, r[v].out, no * sizeof(float)) == 0);
            CU_ASSERT(memcmp(r[1].din, r[v].din, ni * sizeof(float)) == 0);
            CU_ASSERT(memcmp(r[1].dW, r[v].dW, nw * sizeof(float)) == 0);
        }
        char what[200];
        snprintf(what, sizeof what, "winograd B%d C%d->%d %dx%d", s.B, s.C_in, s.C_out, s.H, s.W);
        const double e[5] = {ops_err(r[1].out, ref, no), ops_err_ff(r[1].out, r[0].out, no),
                             ops_err_ff(r[1].din, r[0].din, ni), ops_err_ff(r[1].dW, r[0].dW, nw),
                             ops_err_ff(r[1].db, r[0].db, (size_t)s.C_out)};
        for (int j = 0; j < 5; j++) {
            OPS_CHECK(e[j], 1e-5, what);
            worst = fmax(worst, e[j]);
        }
        for (int v = 0; v < 4; v++) result_free(&r[v]);
        free(in), free(W), free(b), free(dout), free(din_), free(dW_), free(db_), free(dd), free(ref);
    }
    printf(" (worst relative error %.2g) ", worst);
}

/* ---------------------------------------------------------------- 1-D Winograd */

/* The reference's gradients of sum(dout * out) for a 1-D kernel-3 pad-1 conv (one group), in
 * double: din, dW, db exactly as defined, no finite differences (the channel counts here make
 * those too slow). */
static void ref_conv1d_backward(double *din, double *dW, double *db, const double *dout, const double *in,
                                const double *W, const hs_conv_shape *s) {
    const int L = s->W, Ci = s->C_in, Co = s->C_out;
    for (size_t i = 0; i < in_size(s); i++) din[i] = 0.0;
    for (size_t i = 0; i < w_size(s); i++) dW[i] = 0.0;
    for (int co = 0; co < Co; co++) db[co] = 0.0;
    for (int n = 0; n < s->B; n++)
        for (int co = 0; co < Co; co++)
            for (int p = 0; p < L; p++) {
                const double g = dout[((size_t)n * Co + co) * L + p];
                db[co] += g;
                for (int ci = 0; ci < Ci; ci++)
                    for (int k = 0; k < 3; k++) {
                        const int q = p - 1 + k;
                        if (q < 0 || q >= L) continue;
                        dW[((size_t)co * Ci + ci) * 3 + k] += g * in[((size_t)n * Ci + ci) * L + q];
                        din[((size_t)n * Ci + ci) * L + q] += g * W[((size_t)co * Ci + ci) * 3 + k];
                    }
            }
}

/* Normwise error bound of a float sum of K products of random sign: about sqrt(K) roundings of
 * 2^-24, times what the tile's transforms add: 2 for F(2,3), 8 for F(4,3) (its points +-2 weight
 * terms by up to 8 in A^T and 5 in B^T). Measured worst over these cases (HS_TEST_VERBOSE=1):
 * F(2,3) 5.6e-7 forward, 7.2e-7 din, 2.8e-7 dW; F(4,3) 2.6e-6, 2.2e-6, 8.2e-7; a fifth to a
 * sixth of the bound at 256 channels. */
static double wino_tol(int m, double K) { return (m == 2 ? 2.0 : 8.0) * sqrt(K) * 0x1p-24 + 1e-7; }

static double wino_worst[2][4];

static void check_wino(int B, int Ci, int Co, int L, int m, hs_rng *rng) {
    hs_conv_shape s = {.B = B, .C_in = Ci, .H = 1, .W = L, .C_out = Co, .KH = 1, .KW = 3, .stride = 1, .pad = 1,
                       .dilation = 1, .groups = 1};
    hs_conv_winograd1d_force(m);
    CU_ASSERT_FATAL(hs_conv_plan_path(&s, HS_CONV_WINOGRAD1D) == 0);
    CU_ASSERT_EQUAL(hs_conv_winograd1d_tile(&s), m);
    char what[160];
    snprintf(what, sizeof what, "winograd F(%d,3) B%d C%d->%d L%d", m, B, Ci, Co, L);
    const size_t ni = in_size(&s), nw = w_size(&s), no = out_size(&s);
    float *in = malloc(ni * sizeof(float)), *W = malloc(nw * sizeof(float)), *b = malloc((size_t)Co * sizeof(float)),
          *dout = malloc(no * sizeof(float));
    double *din_ = malloc(ni * sizeof(double)), *Wd = malloc(nw * sizeof(double)), *bd = malloc((size_t)Co * sizeof(double)),
           *doutd = malloc(no * sizeof(double)), *ref = malloc(no * sizeof(double)),
           *gin = malloc(ni * sizeof(double)), *gW = malloc(nw * sizeof(double)), *gb = malloc((size_t)Co * sizeof(double));
    ops_fill(in, din_, ni, rng, -1.0f, 1.0f);
    ops_fill(W, Wd, nw, rng, -1.0f, 1.0f);
    ops_fill(b, bd, (size_t)Co, rng, -1.0f, 1.0f);
    ops_fill(dout, doutd, no, rng, -1.0f, 1.0f);
    ref_conv(ref, din_, Wd, bd, &s);
    ref_conv1d_backward(gin, gW, gb, doutd, din_, Wd, &s);

    conv_result r[2];
    for (int v = 0; v < 2; v++) {
        result_alloc(&r[v], &s);
        run_path(&r[v], s, v ? HS_CONV_WINOGRAD1D : HS_CONV_IM2COL, in, W, b, dout);
    }
    const double e[4] = {ops_err(r[1].out, ref, no), ops_err(r[1].din, gin, ni), ops_err(r[1].dW, gW, nw),
                         ops_err(r[1].db, gb, (size_t)Co)},
                 K[4] = {3.0 * Ci, 3.0 * Co, (double)B * L, (double)B * L};
    static const char *names[4] = {"forward", "din", "dW", "db"};
    for (int t = 0; t < 4; t++) {
        char w2[220];
        snprintf(w2, sizeof w2, "%s %s vs reference", what, names[t]);
        OPS_CHECK(e[t], wino_tol(m, K[t]), w2);
        if (e[t] > wino_worst[m == 4][t]) wino_worst[m == 4][t] = e[t];
    }
    char w3[220];
    snprintf(w3, sizeof w3, "%s vs im2col", what);
    OPS_CHECK(ops_err_ff(r[1].out, r[0].out, no), 2 * wino_tol(m, K[0]), w3);
    OPS_CHECK(ops_err_ff(r[1].din, r[0].din, ni), 2 * wino_tol(m, K[1]), w3);
    OPS_CHECK(ops_err_ff(r[1].dW, r[0].dW, nw), 2 * wino_tol(m, K[2]), w3);
    OPS_CHECK(ops_err_ff(r[1].db, r[0].db, (size_t)Co), 2 * wino_tol(m, K[3]), w3);
    /* a smaller batch than planned runs in the planned scratch */
    if (B > 1) {
        hs_conv_shape s1 = s;
        s1.B = 1;
        float *work = malloc(s.work * sizeof(float)), *out1 = malloc(no * sizeof(float));
        hs_conv_forward(out1, in, W, b, &s1, work);
        OPS_CHECK(ops_err_ff(out1, r[1].out, no / (size_t)B), 2 * wino_tol(m, K[0]), "winograd batch 1 of B");
        free(work), free(out1);
    }
    hs_conv_winograd1d_force(0);
    for (int v = 0; v < 2; v++) result_free(&r[v]);
    free(in), free(W), free(b), free(dout), free(din_), free(Wd), free(bd), free(doutd), free(ref), free(gin), free(gW),
        free(gb);
}

static void test_conv_winograd1d(void) {
    hs_rng r;
    hs_rng_init(&r, 13, 0);
    /* B, C_in, C_out, L: every length the nets have (36, 18, 9, 5, 4, 2), odd/even, one position */
    static const int cases[][4] = {{1, 16, 16, 2},  {3, 16, 24, 3},  {2, 24, 16, 5},  {4, 32, 32, 9}, {1, 17, 19, 18},
                                   {3, 16, 32, 36}, {2, 64, 48, 4},  {1, 16, 16, 1},  {2, 16, 16, 7}, {5, 20, 16, 37},
                                   {2, 256, 256, 9}, {1, 128, 256, 2}, {2, 256, 128, 36},
                                   /* 8+ samples and positions: the staging's 8 x 8 block transposes
                                      and their remainders */
                                   {8, 16, 16, 8}, {9, 16, 24, 18}, {17, 24, 16, 37}, {10, 16, 16, 3}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int m = 2; m <= 4; m += 2) check_wino(cases[i][0], cases[i][1], cases[i][2], cases[i][3], m, &r);
    if (getenv("HS_TEST_VERBOSE"))
        for (int k = 0; k < 2; k++)
            printf("winograd F(%d,3) worst rel err vs double: fwd %.2g din %.2g dW %.2g db %.2g\n", 2 + 2 * k,
                   wino_worst[k][0], wino_worst[k][1], wino_worst[k][2], wino_worst[k][3]);
    /* the rule: 16+ channels, kernel 3, stride 1, pad 1, dilation 1, one group, 2+ positions */
    hs_conv_shape ok = {.B = 40, .C_in = 64, .H = 1, .W = 36, .C_out = 64, .KH = 1, .KW = 3, .stride = 1, .pad = 1,
                        .dilation = 1, .groups = 1};
    hs_conv_shape s = ok;
    CU_ASSERT_EQUAL(hs_conv_plan(&s), 0);
    CU_ASSERT_EQUAL(s.path, HS_CONV_WINOGRAD1D);
    CU_ASSERT_EQUAL(hs_conv_winograd1d_tile(&s), 4);
    CU_ASSERT_EQUAL(s.work, (size_t)6 * (64 * 64 + 40 * 9 * (64 + 64)) + 38 * 40);
    s = ok, s.W = 2;
    CU_ASSERT_EQUAL(hs_conv_plan(&s), 0);
    CU_ASSERT_EQUAL(s.path, HS_CONV_WINOGRAD1D);
    CU_ASSERT_EQUAL(hs_conv_winograd1d_tile(&s), 2);
    s = ok, s.W = 1; /* F(2,3) on one position does 4 products for 3 */
    CU_ASSERT_EQUAL(hs_conv_plan(&s), 0);
    CU_ASSERT_EQUAL(s.path, HS_CONV_IM2COL);
    /* the tile with fewer products, F(2,3) on a tie */
    const int win[][2] = {{2, 2}, {3, 4}, {4, 4}, {5, 2}, {6, 2}, {7, 4}, {9, 4}, {18, 4}, {36, 4}};
    for (size_t i = 0; i < sizeof win / sizeof win[0]; i++) {
        s = ok, s.W = win[i][0];
        CU_ASSERT_EQUAL(hs_conv_plan(&s), 0);
        CU_ASSERT_EQUAL(s.path, HS_CONV_WINOGRAD1D);
        CU_ASSERT_EQUAL(hs_conv_winograd1d_tile(&s), win[i][1]);
    }
    s = ok, s.C_in = 10; /* the stem */
    CU_ASSERT_EQUAL(hs_conv_plan(&s), 0);
    CU_ASSERT_EQUAL(s.path, HS_CONV_IM2COL);
    /* refusals of the forced path */
    const struct {
        int field, value;
    } no[] = {{0, 2}, {1, 5}, {2, 2}, {3, 0}, {4, 2}, {5, 3}};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        s = ok;
        int *f[] = {&s.stride, &s.KW, &s.groups, &s.pad, &s.dilation, &s.H};
        *f[no[i].field] = no[i].value;
        if (no[i].field == 1) s.pad = 2; /* kernel 5 keeps the length */
        const int planned = hs_conv_plan(&s);
        CU_ASSERT_EQUAL(hs_conv_plan_path(&s, HS_CONV_WINOGRAD1D), -1);
        if (planned == 0) CU_ASSERT_NOT_EQUAL(s.path, HS_CONV_WINOGRAD1D);
    }
    CU_ASSERT_STRING_EQUAL(hs_conv_path_to_string(HS_CONV_WINOGRAD1D), "winograd1d");
}

int main(void) {
    const hs_test tests[] = {
        {"conv: plan, output sizes, refusals", test_conv_plan},
        {"conv: hand-computed 1-D case on both paths", test_conv_hand},
        {"conv 1-D: both paths vs reference and finite differences", test_conv_1d},
        {"conv 2-D: both paths vs reference and finite differences", test_conv_2d},
        {"conv: hand-computed 2-D case on the Winograd path", test_conv_winograd_hand},
        {"conv: Winograd against im2col on the 2-D nets' shapes", test_conv_winograd_shapes},
        {"conv 1-D Winograd: F(2,3) and F(4,3) vs reference and im2col, the rule", test_conv_winograd1d},
        {NULL, NULL},
    };
    return hs_test_main("conv", tests);
}
