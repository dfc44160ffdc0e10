/* test_nets.c - the deep conv nets of nets.h: parameter counts of every architecture in 1-D and
 * 2-D against counts made here from the architectures' tables and against PyTorch's, output and
 * node shapes, multiply-adds by hand, BatchNorm's running statistics against a hand-computed
 * first layer, state round trips, seeds, dropout masks, and the model kinds. The values of the
 * forward and the gradients are test_nets_grad.c's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config_of.h"
#include "hsweep/models.h"
#include "hsweep/nets.h"
#include "hsweep/rng.h"
#include "testing.h"

static const hs_cnet_arch *const archs[] = {&hs_cnet_vgg11, &hs_cnet_vgg16, &hs_cnet_resnet18, &hs_cnet_resnet34,
                                            &hs_cnet_effnet_b0};
#define N_ARCHS 5

static hs_cnet_opts opts_of(const hs_cnet_arch *a, int C, int H, int W, double w, int max_batch) {
    return (hs_cnet_opts){.arch = a, .channels = C, .height = H, .width = W, .out_dim = 10, .width_mult = w,
                          .dropout = -1, .batch_norm = 1, .bn_eps = 1e-5f, .bn_momentum = 0.1f, .init_scale = 1,
                          .seed = 3, .max_batch = max_batch};
}

static void fill_normal(float *x, size_t n, uint64_t seed) {
    hs_rng r;
    hs_rng_init(&r, seed, hs_rng_stream(HS_STREAM_DATA, 99));
    for (size_t i = 0; i < n; i++) x[i] = (float)hs_rng_normal(&r);
}

/* ================================================================ parameter counts by hand */

/* Channel count at width w, the rule nets.h states. */
static long long chw(int c, double w) {
    long long v = (long long)floor(c * w + 0.5);
    return v < 1 ? 1 : v;
}

/* Counts from the tables, kernel k taking k (1-D) or k^2 (2-D) taps; the readout sees 1 position. */
static long long taps(int k, int two_d) { return two_d ? (long long)k * k : k; }

static long long vgg_count(const int *cfg, int n, int cin, int K, int two_d, double w) {
    long long p = 0, in = cin;
    for (int i = 0; i < n; i++) {
        if (!cfg[i]) continue;
        const long long c = chw(cfg[i], w);
        p += in * c * taps(3, two_d) + c + 2 * c; /* conv weight, its bias, BN */
        in = c;
    }
    return p + in * K + K;
}

static long long resnet_count(const int *blocks, int cin, int K, int two_d, double w) {
    static const int planes[4] = {64, 128, 256, 512}, strides[4] = {1, 2, 2, 2};
    long long in = chw(64, w), p = cin * in * taps(3, two_d) + 2 * in;
    for (int s = 0; s < 4; s++)
        for (int b = 0; b < blocks[s]; b++) {
            const long long o = chw(planes[s], w);
            p += in * o * taps(3, two_d) + 2 * o + o * o * taps(3, two_d) + 2 * o;
            if ((b == 0 && strides[s] != 1) || in != o) p += in * o + 2 * o; /* 1x1 shortcut + BN */
            in = o;
        }
    return p + in * K + K;
}

static long long effnet_count(int cin, int K, int two_d, double w) {
    static const int t[7][5] = {{1, 16, 1, 3, 1},  {6, 24, 2, 3, 2},  {6, 40, 2, 5, 2}, {6, 80, 3, 3, 2},
                                {6, 112, 3, 5, 1}, {6, 192, 4, 5, 2}, {6, 320, 1, 3, 1}};
    long long in = chw(32, w), p = cin * in * taps(3, two_d) + 2 * in;
    for (int s = 0; s < 7; s++)
        for (int r = 0; r < t[s][2]; r++) {
            const long long e = t[s][0], C = e * in, o = chw(t[s][1], w), se = in / 4 > 0 ? in / 4 : 1;
            if (e > 1) p += in * C + 2 * C;           /* expansion 1x1 + BN */
            p += C * taps(t[s][3], two_d) + 2 * C;   /* depthwise + BN */
            p += C * se + se + se * C + C;           /* squeeze-excite, with biases */
            p += C * o + 2 * o;                      /* projection 1x1 + BN */
            in = o;
        }
    return p + in * K + K;
}

static long long hand_count(int a, int cin, int two_d, double w) {
    static const int v11[] = {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
    static const int v16[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
    static const int r18[4] = {2, 2, 2, 2}, r34[4] = {3, 4, 6, 3};
    switch (a) {
    case 0: return vgg_count(v11, 13, cin, 10, two_d, w);
    case 1: return vgg_count(v16, 18, cin, 10, two_d, w);
    case 2: return resnet_count(r18, cin, 10, two_d, w);
    case 3: return resnet_count(r34, cin, 10, two_d, w);
    default: return effnet_count(cin, 10, two_d, w);
    }
}

/* PyTorch 1.13's counts (sum of p.numel() over model.parameters()) of the same architectures built
 * from torch.nn modules: Conv1d/BatchNorm1d on 10 x 36 SRHM inputs, Conv2d/BatchNorm2d on 1 x 28 x 28
 * and 3 x 32 x 32 images, 10 classes, width 1. The 2-D ones are the well-known CIFAR counts of
 * these models (ResNet-18 11,173,962; VGG-16-BN 14,728,266; EfficientNet-B0 3,598,598). */
static const long long torch_counts[N_ARCHS][3] = {
    {3087306, 9229962, 9231114},   {4922634, 14727114, 14728266}, {3850506, 11172810, 11173962},
    {7224842, 21280970, 21282122}, {3456230, 3598022, 3598598}};

static void test_param_counts(void) {
    const int shapes[3][3] = {{10, 1, 36}, {1, 28, 28}, {3, 32, 32}};
    for (int a = 0; a < N_ARCHS; a++)
        for (int s = 0; s < 3; s++) {
            hs_cnet_opts o = opts_of(archs[a], shapes[s][0], shapes[s][1], shapes[s][2], 1, 2);
            hs_cnet_summary sum;
            hs_error err = {0};
            CU_ASSERT_EQUAL_FATAL(hs_cnet_summarize(&o, &sum, NULL, NULL, 0, &err), HS_OK);
            const long long want = hand_count(a, shapes[s][0], s > 0, 1);
            if ((long long)sum.n_params != want || want != torch_counts[a][s])
                fprintf(stderr, "\n  %s shape %d: %zu, by hand %lld, torch %lld\n", archs[a]->name, s, sum.n_params,
                        want, torch_counts[a][s]);
            CU_ASSERT_EQUAL((long long)sum.n_params, want);
            CU_ASSERT_EQUAL(want, torch_counts[a][s]);
            CU_ASSERT_EQUAL(sum.n_hidden, archs[a]->nodes);
            /* scaled down: the rounding rule on every table entry */
            o.width_mult = 1.0 / 16;
            CU_ASSERT_EQUAL_FATAL(hs_cnet_summarize(&o, &sum, NULL, NULL, 0, &err), HS_OK);
            CU_ASSERT_EQUAL((long long)sum.n_params, hand_count(a, shapes[s][0], s > 0, 1.0 / 16));
        }
    CU_ASSERT_EQUAL(hs_cnet_channels(64, 0.125), 8);
    CU_ASSERT_EQUAL(hs_cnet_channels(24, 1.0 / 16), 2); /* 1.5 rounds up */
    CU_ASSERT_EQUAL(hs_cnet_channels(40, 1.0 / 16), 3); /* 2.5 rounds up */
    CU_ASSERT_EQUAL(hs_cnet_channels(16, 1.0 / 64), 1); /* never below one */
}

/* He & Su's VGG-13 and AlexNet: counts from their plans (conv k5 with bias + BN per entry on the
 * tiled input, then Linear + BN1d twice and the readout), at width 1 the paper's own nets. */
static long long es_count(int a, int cin, double w) {
    static const int v13[] = {64, 64, 128, 128, 256, 256, 512, 512, 512, 512}, alex[] = {64, 192, 384, 256, 256};
    const int *plan = a ? alex : v13, n = a ? 5 : 10;
    long long p = 0, in = (a ? 32 : 16) * cin;
    for (int i = 0; i < n; i++) {
        const long long c = chw(plan[i], w);
        p += in * c * 25 + c + 2 * c;
        in = c;
    }
    const long long F = in * (a ? 16 : 1), H = chw(4096, w); /* the flattened 4 x 4 or 1 x 1 map */
    return p + F * H + H + 2 * H + H * H + H + 2 * H + H * 10 + 10;
}

static void test_es_nets(void) {
    /* width 1 on 1 x 32 x 32 (fashion_mnist), by hand:
     * vgg13_es convs 16->64: 25*16*64 + 64 + 128 = 25792; 64->64: 102592; 64->128: 205184;
     *   128->128: 409984; 128->256: 819968; 256->256: 1639168; 256->512: 3278336; 512->512 (x3):
     *   3 x 6555136 = 19665408; sum 26146432. FC: 512*4096 + 4096 + 8192 = 2109440, 4096*4096 +
     *   4096 + 8192 = 16789504, 40970: 18939914. Total 45086346.
     * alexnet_es convs 32->64: 51392; 64->192: 307776; 192->384: 1844352; 384->256: 2458368;
     *   256->256: 1639168; sum 6301056. FC: 4096 -> 4096 twice (16789504 each) + 40970 = 33619978.
     *   Total 39921034.
     * On 3 x 32 x 32 the first conv sees 48 (96) channels: + 32*64*25 = 51200 (+ 64*64*25 = 102400). */
    static const long long want[2][2] = {{45086346, 45137546}, {39921034, 40023434}};
    const hs_cnet_arch *es[2] = {&hs_cnet_vgg13_es, &hs_cnet_alexnet_es};
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 2; c++) {
            hs_cnet_opts o = opts_of(es[a], c ? 3 : 1, 32, 32, 1, 2);
            hs_cnet_summary sum;
            hs_error err = {0};
            CU_ASSERT_EQUAL_FATAL(hs_cnet_summarize(&o, &sum, NULL, NULL, 0, &err), HS_OK);
            CU_ASSERT_EQUAL((long long)sum.n_params, want[a][c]);
            CU_ASSERT_EQUAL((long long)sum.n_params, es_count(a, c ? 3 : 1, 1));
            CU_ASSERT_EQUAL(sum.n_hidden, a ? 7 : 12);
            CU_ASSERT_EQUAL(sum.features, 4096);
            o.width_mult = 0.125;
            CU_ASSERT_EQUAL_FATAL(hs_cnet_summarize(&o, &sum, NULL, NULL, 0, &err), HS_OK);
            CU_ASSERT_EQUAL((long long)sum.n_params, es_count(a, c ? 3 : 1, 0.125));
        }
    /* the measured points at width 1/8: every conv's ReLU before its pool, then the two FC blocks */
    static const int vgg_w[12] = {8 * 1024, 8 * 1024, 16 * 256, 16 * 256, 32 * 64, 32 * 64,
                                  64 * 16,  64 * 16,  64 * 4,   64 * 4,   512,     512};
    static const int alex_w[7] = {8 * 1024, 24 * 256, 48 * 64, 32 * 64, 32 * 64, 512, 512};
    for (int a = 0; a < 2; a++) {
        hs_cnet_opts o = opts_of(es[a], 1, 32, 32, 0.125, 2);
        hs_model m;
        hs_error err = {0};
        CU_ASSERT_EQUAL_FATAL(hs_model_cnet(&m, &o, &err), HS_OK);
        CU_ASSERT_EQUAL_FATAL(m.n_hidden, a ? 7 : 12);
        for (int l = 0; l < m.n_hidden; l++) CU_ASSERT_EQUAL(m.hidden_width[l], (a ? alex_w : vgg_w)[l]);
        hs_model_free(&m);
    }
}

/* ================================================================ shapes and multiply-adds */

static void test_shapes_and_macs(void) {
    /* node widths per sample of VGG-11 at width 1/8 on 10 x 36: the positions halve at each M */
    static const int vgg_nodes[8] = {8 * 36, 16 * 18, 32 * 9, 32 * 9, 64 * 4, 64 * 4, 64 * 2, 64 * 2};
    hs_cnet_opts o = opts_of(&hs_cnet_vgg11, 10, 1, 36, 0.125, 4);
    hs_model m;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_model_cnet(&m, &o, &err), HS_OK);
    CU_ASSERT_EQUAL(m.n_hidden, 8);
    for (int l = 0; l < 8; l++) CU_ASSERT_EQUAL(m.hidden_width[l], vgg_nodes[l]);
    CU_ASSERT_EQUAL(m.in_dim, 360);
    CU_ASSERT_EQUAL(m.out_dim, 10);
    /* conv macs = output positions x C_out x C_in x 3, then the readout 64 x 10 */
    double macs = 36. * 8 * 10 * 3 + 18. * 16 * 8 * 3 + 9. * 32 * 16 * 3 + 9. * 32 * 32 * 3 + 4. * 64 * 32 * 3 +
                  4. * 64 * 64 * 3 + 2. * 64 * 64 * 3 + 2. * 64 * 64 * 3 + 64. * 10;
    hs_cnet_summary s;
    int rows[16], cols[16];
    CU_ASSERT_EQUAL_FATAL(hs_cnet_summarize(&o, &s, rows, cols, 16, &err), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(s.macs, macs, 0);
    CU_ASSERT_EQUAL(s.n_weights, 9);
    CU_ASSERT(rows[0] == 8 && cols[0] == 30 && rows[8] == 10 && cols[8] == 64);
    CU_ASSERT_EQUAL(s.features, 64);
    CU_ASSERT_EQUAL(s.n_params, m.n_params);
    float x[4 * 360];
    fill_normal(x, 4 * 360, 1);
    CU_ASSERT_PTR_NOT_NULL(hs_model_forward(&m, x, 4, HS_MODE_TRAIN));
    CU_ASSERT_PTR_NULL(hs_model_forward(&m, x, 1, HS_MODE_TRAIN)); /* BatchNorm: no batch of one */
    CU_ASSERT_PTR_NULL(hs_model_forward(&m, x, 1, HS_MODE_BATCH));
    CU_ASSERT_PTR_NOT_NULL(hs_model_forward(&m, x, 1, HS_MODE_EVAL));
    CU_ASSERT_PTR_NULL(hs_model_forward(&m, x, 5, HS_MODE_EVAL));
    hs_model_backward(&m, m.dlogits, 1); /* after an EVAL forward */
    CU_ASSERT(isnan(m.grads[0]) && isnan(m.grads[m.n_params - 1]));
    CU_ASSERT_PTR_NULL(hs_model_hidden(&m, 8));
    hs_model_free(&m);

    /* ResNet-18 nodes (width 1/16) on 10 x 36: 36 36 36 36 36 | 18 x 4 | 9 x 4 | 5 x 4 positions;
     * EfficientNet-B0 on 3 x 32 x 32: the stem at 32 x 32, the last gate on 6 x 12 = 72 channels
     * (the last block expands the 192 / 16 = 12 channels it reads six times) */
    o = opts_of(&hs_cnet_resnet18, 10, 1, 36, 1.0 / 16, 2);
    CU_ASSERT_EQUAL_FATAL(hs_model_cnet(&m, &o, &err), HS_OK);
    CU_ASSERT_EQUAL(m.n_hidden, 17);
    const int pos[17] = {36, 36, 36, 36, 36, 18, 18, 18, 18, 9, 9, 9, 9, 5, 5, 5, 5};
    const int chs[17] = {4, 4, 4, 4, 4, 8, 8, 8, 8, 16, 16, 16, 16, 32, 32, 32, 32};
    for (int l = 0; l < 17; l++) CU_ASSERT_EQUAL(m.hidden_width[l], pos[l] * chs[l]);
    hs_model_free(&m);
    o = opts_of(&hs_cnet_effnet_b0, 3, 32, 32, 1.0 / 16, 2);
    CU_ASSERT_EQUAL_FATAL(hs_model_cnet(&m, &o, &err), HS_OK);
    CU_ASSERT_EQUAL(m.n_hidden, 64);
    CU_ASSERT_EQUAL(m.hidden_width[0], 2 * 32 * 32);
    CU_ASSERT_EQUAL(m.hidden_width[63], 72);
    hs_model_free(&m);
}

/* ================================================================ BatchNorm statistics */

/* VGG-11's first conv by hand (1-D, k3 pad 1, bias), then the first BN's running statistics after
 * one TRAIN forward: momentum x batch mean, (1 - momentum) + momentum x unbiased variance. BATCH
 * and EVAL forwards leave them alone. */
static void test_running_stats(void) {
    enum { B = 3, C = 2, L = 6 };
    hs_cnet_opts o = opts_of(&hs_cnet_vgg11, C, 1, L, 1.0 / 16, B);
    hs_model m;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_model_cnet(&m, &o, &err), HS_OK);
    const int Co = 4; /* 64 / 16 */
    float x[B * C * L];
    fill_normal(x, B * C * L, 4);
    size_t nb = 0;
    float *buf = hs_model_buffers(&m, &nb);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    float *before = malloc(nb * sizeof *before);
    memcpy(before, buf, nb * sizeof *before);
    hs_model_forward(&m, x, B, HS_MODE_BATCH);
    hs_model_forward(&m, x, B, HS_MODE_EVAL);
    CU_ASSERT_EQUAL(memcmp(before, buf, nb * sizeof *before), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hs_model_forward(&m, x, B, HS_MODE_TRAIN));
    CU_ASSERT_NOT_EQUAL(memcmp(before, buf, nb * sizeof *before), 0);
    const float *W = m.params + m.tensors[0].offset, *bias = m.params + m.tensors[1].offset;
    for (int c = 0; c < Co; c++) {
        double s = 0, ss = 0;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < L; i++) {
                double z = bias[c];
                for (int ci = 0; ci < C; ci++)
                    for (int k = 0; k < 3; k++) {
                        const int j = i + k - 1;
                        if (j >= 0 && j < L) z += (double)W[(c * C + ci) * 3 + k] * x[(b * C + ci) * L + j];
                    }
                s += z, ss += z * z;
            }
        const double n = B * L, mean = s / n, var = (ss - n * mean * mean) / (n - 1);
        CU_ASSERT_DOUBLE_EQUAL(buf[c], 0.1 * mean, 1e-5);
        CU_ASSERT_DOUBLE_EQUAL(buf[Co + c], 0.9 + 0.1 * var, 1e-5);
    }
    free(before);
    hs_model_free(&m);
}

/* ================================================================ state, seeds, dropout */

static void test_state_and_seeds(void) {
    enum { B = 4 };
    for (int a = 0; a < N_ARCHS; a++) {
        hs_cnet_opts o = opts_of(archs[a], 3, 1, 12, 1.0 / 16, B);
        hs_model m, m2, m3;
        hs_error err = {0};
        CU_ASSERT_EQUAL_FATAL(hs_model_cnet(&m, &o, &err), HS_OK);
        CU_ASSERT_EQUAL_FATAL(hs_model_cnet(&m2, &o, &err), HS_OK);
        CU_ASSERT_EQUAL(memcmp(m.params, m2.params, m.n_params * sizeof(float)), 0); /* same seed */
        o.seed = 4;
        CU_ASSERT_EQUAL_FATAL(hs_model_cnet(&m3, &o, &err), HS_OK);
        CU_ASSERT_NOT_EQUAL(memcmp(m.params, m3.params, m.n_params * sizeof(float)), 0);
        /* PyTorch's bounds: weights and biases within 1/sqrt(fan_in), gamma 1, beta 0 */
        int out_of_bounds = 0;
        double fan = 1;
        for (int t = 0; t < m.n_tensors; t++) {
            const hs_tensor *ts = &m.tensors[t];
            if (ts->kind == HS_TENSOR_WEIGHT) fan = 1 / sqrt((double)ts->cols);
            for (size_t i = 0; i < ts->size; i++) {
                const float v = m.params[ts->offset + i];
                if (ts->kind == HS_TENSOR_BN_GAMMA) out_of_bounds += v != 1;
                else if (ts->kind == HS_TENSOR_BN_BETA) out_of_bounds += v != 0;
                else out_of_bounds += !(fabs(v) <= fan);
            }
        }
        CU_ASSERT_EQUAL(out_of_bounds, 0);
        /* a few SGD steps, then the state into a net of another seed: the same logits, bit for bit */
        float x[B * 36];
        const int32_t y[B] = {1, 0, 3, 2};
        fill_normal(x, B * 36, 6);
        for (int s = 0; s < 3; s++) {
            const float *lg = hs_model_forward(&m, x, B, HS_MODE_TRAIN);
            hs_loss_forward_backward(HS_LOSS_CE, lg, y, NULL, B, 10, m.dlogits, NULL);
            hs_model_backward(&m, m.dlogits, B);
            for (size_t i = 0; i < m.n_params; i++) m.params[i] -= 0.1f * m.grads[i];
        }
        const size_t n = hs_model_state_size(&m);
        CU_ASSERT_EQUAL(n, hs_model_state_size(&m3));
        float *s = malloc(n * sizeof *s), l1[B * 10], l2[B * 10];
        hs_model_state_get(&m, s);
        hs_model_state_set(&m3, s);
        memcpy(l1, hs_model_forward(&m, x, B, HS_MODE_EVAL), sizeof l1);
        memcpy(l2, hs_model_forward(&m3, x, B, HS_MODE_EVAL), sizeof l2);
        CU_ASSERT_EQUAL(memcmp(l1, l2, sizeof l1), 0);
        /* the dropout step travels in the state (the masks' seed is the net's own: same seed here) */
        hs_model_state_set(&m2, s);
        CU_ASSERT_EQUAL(hs_cnet_step(&m2), 3u * (archs[a]->dropout > 0));
        memcpy(l1, hs_model_forward(&m, x, B, HS_MODE_TRAIN), sizeof l1);
        memcpy(l2, hs_model_forward(&m2, x, B, HS_MODE_TRAIN), sizeof l2);
        CU_ASSERT_EQUAL(memcmp(l1, l2, sizeof l1), 0);
        free(s);
        hs_model_free(&m), hs_model_free(&m2), hs_model_free(&m3);
    }
}

/* Without BatchNorm a batch of one shows the mask: a feature dropped at the readout gets no
 * readout gradient. The same seed and step give the same mask, another step another one. */
static void test_dropout(void) {
    hs_cnet_opts o = opts_of(&hs_cnet_effnet_b0, 3, 1, 12, 1, 2);
    o.batch_norm = 0;
    hs_model m;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_model_cnet(&m, &o, &err), HS_OK);
    const hs_tensor *ro = &m.tensors[m.n_tensors - 2]; /* readout weight [10 x 320] */
    CU_ASSERT_EQUAL_FATAL(ro->cols, 320);
    float x[36];
    fill_normal(x, 36, 7);
    const int32_t y[1] = {4};
    char mask[3][320];
    const uint64_t steps[3] = {7, 7, 8};
    int dropped = 0;
    for (int r = 0; r < 3; r++) {
        hs_cnet_set_step(&m, steps[r]);
        hs_loss_forward_backward(HS_LOSS_CE, hs_model_forward(&m, x, 1, HS_MODE_TRAIN), y, NULL, 1, 10, m.dlogits,
                                 NULL);
        CU_ASSERT_EQUAL(hs_cnet_step(&m), steps[r] + 1);
        hs_model_backward(&m, m.dlogits, 1);
        for (int f = 0; f < 320; f++) mask[r][f] = m.grads[ro->offset + f] != 0;
        if (r == 0)
            for (int f = 0; f < 320; f++) dropped += !mask[0][f];
    }
    CU_ASSERT(dropped > 0.1 * 320 && dropped < 0.3 * 320); /* p = 0.2 */
    CU_ASSERT_EQUAL(memcmp(mask[0], mask[1], 320), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(mask[0], mask[2], 320), 0);
    /* EVAL and BATCH drop nothing: equal logits */
    float l1[10];
    memcpy(l1, hs_model_forward(&m, x, 1, HS_MODE_EVAL), sizeof l1);
    CU_ASSERT_EQUAL(memcmp(l1, hs_model_forward(&m, x, 1, HS_MODE_BATCH), sizeof l1), 0);
    hs_model_free(&m);
}

/* ================================================================ the model kinds */

static void test_kinds(void) {
    hs_train_config c;
    config_of("base:\n  data: {kind: srhm, v: 10, n_c: 10, s: 2, L: 2, s0: 2, n_train: 100, n_test: 50}\n"
              "  model: {arch: vgg11, width_mult: 0.125}\n  train: {batch: 20}\n  record: {separation: none}\n",
              &c);
    char line[128];
    c.arch->describe(&c, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, "vgg11, width x0.125");
    CU_ASSERT_EQUAL(c.arch->layers(&c), 9);
    CU_ASSERT(c.arch->flags & HS_MODEL_NORM);
    hs_data_shape sh;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_data_shape_of(&c.data, &sh, &err), HS_OK);
    CU_ASSERT(sh.channels == 10 && sh.height == 1 && sh.width == 36);
    CU_ASSERT_EQUAL(c.arch->check(&c, &sh, &err), HS_OK);
    hs_cnet_opts o = opts_of(&hs_cnet_vgg11, 10, 1, 36, 0.125, 20);
    hs_cnet_summary s;
    CU_ASSERT_EQUAL_FATAL(hs_cnet_summarize(&o, &s, NULL, NULL, 0, &err), HS_OK);
    CU_ASSERT_EQUAL(c.arch->params(&c, &sh), (long long)s.n_params);
    CU_ASSERT_DOUBLE_EQUAL(c.arch->macs(&c, &sh), s.macs, 0);
    int rows[16], cols[16];
    CU_ASSERT_EQUAL(c.arch->weights(&c, &sh, 10, rows, cols, 16), 9);
    CU_ASSERT_EQUAL(c.arch->svd_rank(&c, &sh, 10), 64);
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(hs_data_load(&c.data, &train, &test, &err), HS_OK);
    hs_model m;
    CU_ASSERT_EQUAL_FATAL(c.arch->create(&m, &c, &train, 20, &err), HS_OK);
    CU_ASSERT_EQUAL(m.n_params, s.n_params);
    CU_ASSERT_EQUAL(m.n_hidden + 1, (int)c.arch->layers(&c));
    hs_model_free(&m);
    hs_dataset_free(&train), hs_dataset_free(&test);
    /* a batch that leaves one sample is refused before any training */
    c.batch = 33;
    CU_ASSERT_EQUAL(hs_train_preflight(&c, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "BatchNorm");
    hs_train_config_free(&c);

    /* refusals name the key */
    config_of("base:\n  data: {kind: gaussian, dim: 8, classes: 4, per_class: 10}\n  model: {arch: resnet18}\n"
              "  record: {separation: none}\n", &c);
    CU_ASSERT_EQUAL_FATAL(hs_data_shape_of(&c.data, &sh, &err), HS_OK);
    CU_ASSERT_EQUAL(c.arch->check(&c, &sh, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "model.arch resnet18 needs data with an image");
    CU_ASSERT_EQUAL(c.arch->params(&c, &sh), -1);
    hs_train_config_free(&c);
    config_of("base:\n  data: {kind: cfm}\n  model: {arch: effnet_b0, init: normal, dropout: 0.5}\n", &c);
    CU_ASSERT_EQUAL_FATAL(hs_data_shape_of(&c.data, &sh, &err), HS_OK);
    CU_ASSERT(sh.channels == 1 && sh.height == 10 && sh.width == 10);
    c.arch->describe(&c, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, "effnet_b0, dropout 0.5");
    CU_ASSERT_EQUAL(c.arch->check(&c, &sh, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "model.init");
    hs_train_config_free(&c);
    o.dropout = -0.5;
    CU_ASSERT_EQUAL(hs_cnet_summarize(&o, &s, NULL, NULL, 0, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "model.dropout = -0.5");
    /* drop-path: effnet_b0's only, in [0, 1); without dropout it still counts the steps */
    o.dropout = -1, o.drop_connect = 0.2;
    CU_ASSERT_EQUAL(hs_cnet_summarize(&o, &s, NULL, NULL, 0, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "model.drop_connect = 0.2: model.arch vgg11 has no drop-path");
    hs_cnet_opts e = opts_of(&hs_cnet_effnet_b0, 10, 1, 36, 0.25, 20);
    e.drop_connect = 1;
    CU_ASSERT_EQUAL(hs_cnet_summarize(&e, &s, NULL, NULL, 0, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "model.drop_connect = 1: must be in [0, 1)");
    hs_cnet_summary s0, s1;
    e.dropout = 0, e.drop_connect = 0;
    CU_ASSERT_EQUAL_FATAL(hs_cnet_summarize(&e, &s0, NULL, NULL, 0, &err), HS_OK);
    e.drop_connect = 0.2;
    CU_ASSERT_EQUAL_FATAL(hs_cnet_summarize(&e, &s1, NULL, NULL, 0, &err), HS_OK);
    CU_ASSERT(s1.n_params == s0.n_params && s1.n_buffers == s0.n_buffers + 2 && s1.macs == s0.macs);
    config_of("base:\n  data: {kind: cfm}\n  model: {arch: effnet_b0, dropout: 0, drop_connect: 0.2}\n", &c);
    c.arch->describe(&c, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, "effnet_b0, drop-path 0.2");
    hs_train_config_free(&c);
}

int main(void) {
    static const hs_test tests[] = {
        {"parameter counts by hand and PyTorch's, 1-D and 2-D", test_param_counts},
        {"He & Su's VGG-13 and AlexNet: counts by hand, measured points", test_es_nets},
        {"node shapes, multiply-adds, guards", test_shapes_and_macs},
        {"BatchNorm running statistics: TRAIN only, by hand", test_running_stats},
        {"seeds, init bounds, state round trip", test_state_and_seeds},
        {"dropout masks per seed and step", test_dropout},
        {"model kinds: config, checks, params, create", test_kinds},
        {NULL, NULL},
    };
    return hs_test_main("nets", tests);
}
