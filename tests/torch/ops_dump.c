/* ops_dump.c - runs the ops of include/hsweep/ops.h on fixed seeded inputs and writes inputs,
 * outputs and gradients for compare_ops.py, which recomputes them with PyTorch:
 *
 *   ops_dump DIR      writes DIR/ops.json (the cases: op, parameters, arrays as [offset, count])
 *                     and DIR/ops.f32 (every array, float32, native byte order)
 *
 * The cases: convolutions (1-D and 2-D, stride, padding, dilation, groups, depthwise) on both
 * paths, max/avg pooling (max with ties), BatchNorm over channels (train with running statistics,
 * eval) and GELU/SiLU/sigmoid; the backward's upstream gradient is a seeded array `dout`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/ops.h"
#include "hsweep/rng.h"

static FILE *blob, *json;
static long offset; /* floats written to the blob */
static int first_case = 1, first_array;

static void case_begin(const char *op, const char *params) {
    fprintf(json, "%s\n  {\"op\": \"%s\", %s, \"arrays\": {", first_case ? "" : ",", op, params);
    first_case = 0, first_array = 1;
}
static void case_end(void) { fprintf(json, "}}"); }

static void put(const char *name, const float *x, size_t n) {
    if (fwrite(x, sizeof(float), n, blob) != n) {
        perror("ops_dump: write");
        exit(1);
    }
    fprintf(json, "%s\"%s\": [%ld, %zu]", first_array ? "" : ", ", name, offset, n);
    first_array = 0;
    offset += (long)n;
}

static float *seeded(size_t n, hs_rng *r, float lo, float hi) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * hs_rng_uniformf(r);
    return x;
}

static void conv_case(hs_rng *r, int B, int C_in, int H, int W, int C_out, int KH, int KW, int stride, int pad,
                      int dilation, int groups) {
    for (int direct = 0; direct < 2; direct++) {
        hs_conv_shape s = {.B = B, .C_in = C_in, .H = H, .W = W, .C_out = C_out, .KH = KH, .KW = KW,
                           .stride = stride, .pad = pad, .dilation = dilation, .groups = groups};
        if (hs_conv_plan_path(&s, (hs_conv_path)direct)) {
            fprintf(stderr, "ops_dump: bad conv shape\n");
            exit(1);
        }
        const size_t ni = (size_t)B * C_in * H * W, no = (size_t)B * C_out * s.OH * s.OW,
                     nw = (size_t)C_out * (C_in / groups) * KH * KW;
        float *in = seeded(ni, r, -1, 1), *w = seeded(nw, r, -1, 1), *b = seeded((size_t)C_out, r, -1, 1),
              *dout = seeded(no, r, -1, 1), *out = malloc(no * sizeof(float)), *din = malloc(ni * sizeof(float)),
              *dW = malloc(nw * sizeof(float)), *db = malloc((size_t)C_out * sizeof(float)),
              *work = malloc((s.work ? s.work : 1) * sizeof(float));
        hs_conv_forward(out, in, w, b, &s, work);
        hs_conv_backward(din, dW, db, dout, in, w, &s, work);
        char p[400];
        snprintf(p, sizeof p,
                 "\"B\": %d, \"C_in\": %d, \"H\": %d, \"W\": %d, \"C_out\": %d, \"KH\": %d, \"KW\": %d, "
                 "\"stride\": %d, \"pad\": %d, \"dilation\": %d, \"groups\": %d, \"OH\": %d, \"OW\": %d, "
                 "\"direct\": %d",
                 B, C_in, H, W, C_out, KH, KW, stride, pad, dilation, groups, s.OH, s.OW, direct);
        case_begin("conv", p);
        put("in", in, ni), put("W", w, nw), put("b", b, (size_t)C_out), put("dout", dout, no), put("out", out, no);
        put("din", din, ni), put("dW", dW, nw), put("db", db, (size_t)C_out);
        case_end();
        free(in), free(w), free(b), free(dout), free(out), free(din), free(dW), free(db), free(work);
    }
}

static void pool_case(hs_rng *r, hs_pool_kind kind, int B, int C, int H, int W, int k, int stride, int pad, int ties) {
    hs_pool_shape s = {.kind = kind, .B = B, .C = C, .H = H, .W = W, .k = k, .stride = stride, .pad = pad};
    if (hs_pool_plan(&s)) {
        fprintf(stderr, "ops_dump: bad pool shape\n");
        exit(1);
    }
    const size_t ni = (size_t)B * C * H * W, no = (size_t)B * C * s.OH * s.OW;
    float *in = seeded(ni, r, -2, 2), *dout = seeded(no, r, -1, 1), *out = malloc(no * sizeof(float)),
          *din = malloc(ni * sizeof(float)), *argf = malloc(no * sizeof(float));
    if (ties)
        for (size_t i = 0; i < ni; i++) in[i] = (float)(int)(in[i] * 1.5f); /* -2..2 in whole steps: many ties */
    int32_t *arg = malloc(no * sizeof(int32_t));
    hs_pool_forward(out, arg, in, &s);
    hs_pool_backward(din, dout, arg, &s);
    for (size_t i = 0; i < no; i++) argf[i] = (float)arg[i]; /* < 2^24: exact */
    char p[300];
    snprintf(p, sizeof p,
             "\"kind\": \"%s\", \"B\": %d, \"C\": %d, \"H\": %d, \"W\": %d, \"k\": %d, \"stride\": %d, \"pad\": %d, "
             "\"OH\": %d, \"OW\": %d",
             kind == HS_POOL_MAX ? "max" : "avg", B, C, H, W, k, stride, pad, s.OH, s.OW);
    case_begin("pool", p);
    put("in", in, ni), put("dout", dout, no), put("out", out, no), put("din", din, ni);
    if (kind == HS_POOL_MAX) put("arg", argf, no);
    case_end();
    free(in), free(dout), free(out), free(din), free(argf), free(arg);
}

static void bn_case(hs_rng *r, int B, int C, int H, int W, float shift) {
    const int n = H * W;
    const size_t N = (size_t)B * C * n;
    float *in = seeded(N, r, shift - 1, shift + 2), *gamma = seeded((size_t)C, r, 0.5f, 1.5f),
          *beta = seeded((size_t)C, r, -0.5f, 0.5f), *rm = seeded((size_t)C, r, -1, 1),
          *rv = seeded((size_t)C, r, 0.5f, 2), *dout = seeded(N, r, -1, 1), *out = malloc(N * sizeof(float)),
          *xhat = malloc(N * sizeof(float)),
          *rstd = malloc((size_t)C * sizeof(float)), *din = malloc(N * sizeof(float)),
          *dg = malloc((size_t)C * sizeof(float)), *dbt = malloc((size_t)C * sizeof(float)),
          *ev = malloc(N * sizeof(float)), *rm1 = malloc((size_t)C * sizeof(float)),
          *rv1 = malloc((size_t)C * sizeof(float));
    memcpy(rm1, rm, (size_t)C * sizeof(float));
    memcpy(rv1, rv, (size_t)C * sizeof(float));
    hs_bn2d_forward_train(out, xhat, rstd, in, gamma, beta, rm1, rv1, B, C, n, 1e-5f, 0.1f);
    hs_bn2d_backward(din, dg, dbt, dout, xhat, rstd, gamma, B, C, n);
    hs_bn2d_forward_eval(ev, in, gamma, beta, rm, rv, B, C, n, 1e-5f);
    char p[200];
    snprintf(p, sizeof p, "\"B\": %d, \"C\": %d, \"H\": %d, \"W\": %d, \"eps\": 1e-5, \"momentum\": 0.1", B, C, H, W);
    case_begin("bn2d", p);
    put("in", in, N), put("gamma", gamma, (size_t)C), put("beta", beta, (size_t)C), put("run_mean0", rm, (size_t)C);
    put("run_var0", rv, (size_t)C), put("dout", dout, N), put("out", out, N), put("run_mean", rm1, (size_t)C);
    put("run_var", rv1, (size_t)C), put("din", din, N), put("dgamma", dg, (size_t)C), put("dbeta", dbt, (size_t)C);
    put("eval", ev, N);
    case_end();
    free(in), free(gamma), free(beta), free(rm), free(rv), free(dout), free(out), free(xhat), free(rstd), free(din),
        free(dg), free(dbt), free(ev), free(rm1), free(rv1);
}

static void pact_case(hs_rng *r) {
    const size_t n = 2000;
    float *x = seeded(n, r, -12, 12), *dout = seeded(n, r, -1, 1), *y = malloc(n * sizeof(float)),
          *d = malloc(n * sizeof(float));
    x[0] = -150.0f, x[1] = 150.0f, x[2] = -85.0f, x[3] = 0.0f;
    const char *names[] = {"gelu", "silu", "sigmoid"};
    for (int a = 0; a < 3; a++) {
        hs_pact_forward(y, x, n, (hs_pact)a);
        hs_pact_backward(d, dout, x, n, (hs_pact)a);
        char p[64];
        snprintf(p, sizeof p, "\"act\": \"%s\"", names[a]);
        case_begin("pact", p);
        put("in", x, n), put("dout", dout, n), put("out", y, n), put("din", d, n);
        case_end();
    }
    free(x), free(dout), free(y), free(d);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: ops_dump DIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/ops.f32", argv[1]);
    blob = fopen(path, "wb");
    snprintf(path, sizeof path, "%s/ops.json", argv[1]);
    json = fopen(path, "w");
    if (!blob || !json) {
        perror("ops_dump");
        return 1;
    }
    hs_rng r;
    hs_rng_init(&r, 2026, 0);
    fprintf(json, "[");
    /* B, C_in, H, W, C_out, KH, KW, stride, pad, dilation, groups */
    conv_case(&r, 4, 10, 1, 36, 16, 1, 3, 1, 1, 1, 1);
    conv_case(&r, 3, 8, 1, 9, 12, 1, 3, 2, 1, 1, 1);
    conv_case(&r, 2, 6, 1, 17, 6, 1, 5, 2, 2, 2, 6);
    conv_case(&r, 2, 3, 9, 8, 8, 3, 3, 1, 1, 1, 1);
    conv_case(&r, 2, 8, 7, 7, 8, 3, 3, 2, 1, 1, 8);
    conv_case(&r, 2, 4, 8, 9, 6, 3, 3, 2, 2, 2, 2);
    conv_case(&r, 2, 6, 6, 6, 6, 5, 5, 1, 2, 1, 6);
    conv_case(&r, 3, 5, 5, 5, 7, 1, 1, 1, 0, 1, 1);
    pool_case(&r, HS_POOL_MAX, 2, 3, 1, 36, 2, 2, 0, 0);
    pool_case(&r, HS_POOL_MAX, 2, 3, 1, 11, 3, 2, 1, 1);
    pool_case(&r, HS_POOL_MAX, 2, 2, 7, 7, 3, 2, 1, 1);
    pool_case(&r, HS_POOL_AVG, 2, 3, 1, 9, 4, 4, 0, 0);
    pool_case(&r, HS_POOL_AVG, 2, 2, 7, 6, 3, 2, 1, 0);
    bn_case(&r, 4, 5, 1, 9, 0.0f);
    bn_case(&r, 3, 4, 5, 5, 0.0f);
    bn_case(&r, 3, 2, 4, 4, 100.0f);
    pact_case(&r);
    fprintf(json, "\n]\n");
    if (fclose(blob) || fclose(json)) {
        perror("ops_dump: close");
        return 1;
    }
    return 0;
}
