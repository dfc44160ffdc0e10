/* test_nets_grad.c - the values of the deep conv nets (nets.h) against a double-precision
 * reference written here from the architectures' descriptions, reading the parameters in the
 * tensor order nets.h documents: the logits and every hidden node of a TRAIN forward (batch
 * statistics, dropout at step 0), and the float backward's gradients of parameters and input
 * against central differences of the reference, for every architecture in 1-D and 2-D (He & Su's
 * VGG-13 and AlexNet bring the channel tiling, max-pool k3 s2 pad 1 and the fully connected
 * Linear + BN1d blocks; the input gradients go through the tiling).
 *
 * Why a reference in double: BatchNorm nets at initialisation amplify perturbations layer after
 * layer (their gradients grow with depth), so float rounding in an early layer moves the loss of
 * ResNet-34 or EfficientNet by about 1e-5; central differences of the float forward are then
 * noise below steps of 1e-4 and curvature above. In double the same differences are exact to
 * about 1e-8 at steps of 1e-6. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/nets.h"
#include "hsweep/rng.h"
#include "testing.h"

/* ================================================================ the reference */

typedef struct rt {
    int B, C, H, W;
    double *v; /* [B x C x H x W] */
} rt;

typedef struct ref {
    const double *p;    /* the parameters, walked in tensor order */
    size_t at;
    double *arena;      /* every tensor of one forward */
    size_t used, cap;
    int one_d, bn;
    double wm, eps, drop, dc; /* dc: EfficientNet's drop-path rate (opts.drop_connect) */
    uint64_t seed;
    int dropped, kept;        /* drop-path rows of the last forward */
    int n_nodes;
    rt nodes[64];
} ref;

static rt make(ref *r, int B, int C, int H, int W) {
    const size_t n = (size_t)B * C * H * W;
    CU_ASSERT_FATAL(r->used + n <= r->cap);
    rt t = {B, C, H, W, r->arena + r->used};
    r->used += n;
    return t;
}

static const double *take(ref *r, size_t n) {
    const double *q = r->p + r->at;
    r->at += n;
    return q;
}

static int chw(const ref *r, int c) {
    const int v = (int)floor(c * r->wm + 0.5);
    return v < 1 ? 1 : v;
}

#define AT(t, b, c, i, j) (t).v[(((size_t)(b) * (t).C + (c)) * (t).H + (i)) * (t).W + (j)]

/* PyTorch's Conv2d (1-D nets: kernel 1 x k, padding only along the positions) */
static rt conv(ref *r, rt x, int cout, int k, int s, int pad, int groups, int bias) {
    const int kh = r->one_d ? 1 : k, ph = r->one_d ? 0 : pad, OH = (x.H + 2 * ph - kh) / s + 1,
              OW = (x.W + 2 * pad - k) / s + 1, cin_g = x.C / groups, cout_g = cout / groups;
    const double *Wt = take(r, (size_t)cout * cin_g * kh * k), *b = bias ? take(r, (size_t)cout) : NULL;
    rt y = make(r, x.B, cout, OH, OW);
    for (int n = 0; n < x.B; n++)
        for (int co = 0; co < cout; co++)
            for (int i = 0; i < OH; i++)
                for (int j = 0; j < OW; j++) {
                    double acc = b ? b[co] : 0;
                    const int g = co / cout_g;
                    for (int ci = 0; ci < cin_g; ci++)
                        for (int u = 0; u < kh; u++)
                            for (int v = 0; v < k; v++) {
                                const int ii = i * s + u - ph, jj = j * s + v - pad;
                                if (ii < 0 || ii >= x.H || jj < 0 || jj >= x.W) continue;
                                acc += Wt[(((size_t)co * cin_g + ci) * kh + u) * k + v] * AT(x, n, g * cin_g + ci, ii, jj);
                            }
                    AT(y, n, co, i, j) = acc;
                }
    return y;
}

/* BatchNorm in training: batch mean and biased variance per channel */
static rt bnorm(ref *r, rt x) {
    if (!r->bn) return x;
    const double *g = take(r, (size_t)x.C), *b = take(r, (size_t)x.C);
    rt y = make(r, x.B, x.C, x.H, x.W);
    const double n = (double)x.B * x.H * x.W;
    for (int c = 0; c < x.C; c++) {
        double s = 0, ss = 0;
        for (int q = 0; q < x.B; q++)
            for (int i = 0; i < x.H * x.W; i++) s += AT(x, q, c, 0, i);
        const double mean = s / n;
        for (int q = 0; q < x.B; q++)
            for (int i = 0; i < x.H * x.W; i++) ss += (AT(x, q, c, 0, i) - mean) * (AT(x, q, c, 0, i) - mean);
        const double rstd = 1 / sqrt(ss / n + r->eps);
        for (int q = 0; q < x.B; q++)
            for (int i = 0; i < x.H * x.W; i++) AT(y, q, c, 0, i) = g[c] * (AT(x, q, c, 0, i) - mean) * rstd + b[c];
    }
    return y;
}

static rt cbn(ref *r, rt x, int cout, int k, int s, int pad, int groups, int bias) {
    return bnorm(r, conv(r, x, cout, k, s, pad, groups, bias));
}

enum { RELU, SILU, SIGMOID };

/* an activation, recorded as the next node */
static rt act(ref *r, rt x, int kind) {
    rt y = make(r, x.B, x.C, x.H, x.W);
    const size_t n = (size_t)x.B * x.C * x.H * x.W;
    for (size_t i = 0; i < n; i++) {
        const double v = x.v[i], sg = 1 / (1 + exp(-v));
        y.v[i] = kind == RELU ? (v > 0 ? v : 0) : kind == SILU ? v * sg : sg;
    }
    if (r->n_nodes < 64) r->nodes[r->n_nodes] = y;
    r->n_nodes++;
    return y;
}

static rt add(ref *r, rt a, rt b) {
    rt y = make(r, a.B, a.C, a.H, a.W);
    for (size_t i = 0; i < (size_t)a.B * a.C * a.H * a.W; i++) y.v[i] = a.v[i] + b.v[i];
    return y;
}

static rt maxpool(ref *r, rt x) {
    const int kh = r->one_d ? 1 : 2;
    rt y = make(r, x.B, x.C, r->one_d ? 1 : x.H / 2, x.W / 2);
    for (int q = 0; q < x.B; q++)
        for (int c = 0; c < x.C; c++)
            for (int i = 0; i < y.H; i++)
                for (int j = 0; j < y.W; j++) {
                    double m = -INFINITY;
                    for (int u = 0; u < kh; u++)
                        for (int v = 0; v < 2; v++) m = fmax(m, AT(x, q, c, i * kh + u, 2 * j + v));
                    AT(y, q, c, i, j) = m;
                }
    return y;
}

static rt gap(ref *r, rt x) {
    rt y = make(r, x.B, x.C, 1, 1);
    for (int q = 0; q < x.B; q++)
        for (int c = 0; c < x.C; c++) {
            double s = 0;
            for (int i = 0; i < x.H * x.W; i++) s += AT(x, q, c, 0, i);
            AT(y, q, c, 0, 0) = s / (x.H * x.W);
        }
    return y;
}

/* inverted dropout at training step 0: element i kept when the i-th 32-bit draw of stream
 * (HS_STREAM_DROPOUT, 0) is at least p 2^32 (p as the float the net holds) */
static rt dropout(ref *r, rt x) {
    if (r->drop == 0) return x;
    const float p = (float)r->drop;
    const uint64_t thr = (uint64_t)((double)p * 4294967296.0);
    rt y = make(r, x.B, x.C, x.H, x.W);
    hs_rng g;
    hs_rng_init(&g, r->seed, hs_rng_stream(HS_STREAM_DROPOUT, 0));
    for (size_t i = 0; i < (size_t)x.B * x.C * x.H * x.W; i++)
        y.v[i] = hs_rng_u32(&g) >= thr ? x.v[i] * (double)(float)(1.0 / (1.0 - (double)p)) : 0;
    return y;
}

/* drop-path of block j at training step 0: sample q's branch kept when draw q of stream
 * (HS_STREAM_DROPPATH, j) is at least p 2^32, p = dc j / 16 as the float the net holds */
static rt droppath(ref *r, rt x, int j) {
    const float p = (float)(r->dc * j / 16);
    if (p == 0) return x;
    const uint64_t thr = (uint64_t)((double)p * 4294967296.0);
    rt y = make(r, x.B, x.C, x.H, x.W);
    hs_rng g;
    hs_rng_init(&g, r->seed, hs_rng_stream(HS_STREAM_DROPPATH, (uint32_t)j));
    const size_t row = (size_t)x.C * x.H * x.W;
    for (int q = 0; q < x.B; q++) {
        const int keep = hs_rng_u32(&g) >= thr;
        r->dropped += !keep, r->kept += keep;
        for (size_t i = 0; i < row; i++)
            y.v[q * row + i] = keep ? x.v[q * row + i] * (double)(float)(1.0 / (1.0 - (double)p)) : 0;
    }
    return y;
}

/* max over k x k windows (1-D: 1 x k, no padding along H), PyTorch's MaxPool2d(k, s, pad) */
static rt pool(ref *r, rt x, int k, int s, int pad) {
    const int kh = r->one_d ? 1 : k, ph = r->one_d ? 0 : pad;
    rt y = make(r, x.B, x.C, r->one_d ? 1 : (x.H + 2 * ph - kh) / s + 1, (x.W + 2 * pad - k) / s + 1);
    for (int q = 0; q < x.B; q++)
        for (int c = 0; c < x.C; c++)
            for (int i = 0; i < y.H; i++)
                for (int j = 0; j < y.W; j++) {
                    double m = -INFINITY;
                    for (int u = 0; u < kh; u++)
                        for (int v = 0; v < k; v++) {
                            const int ii = i * s + u - ph, jj = j * s + v - pad;
                            if (ii >= 0 && ii < x.H && jj >= 0 && jj < x.W) m = fmax(m, AT(x, q, c, ii, jj));
                        }
                    AT(y, q, c, i, j) = m;
                }
    return y;
}

/* torch's x.repeat(1, n, 1, 1): channel c of the output is channel c mod C of the input */
static rt tile(ref *r, rt x, int n) {
    rt y = make(r, x.B, n * x.C, x.H, x.W);
    for (int q = 0; q < x.B; q++)
        for (int c = 0; c < y.C; c++)
            for (int i = 0; i < x.H * x.W; i++) AT(y, q, c, 0, i) = AT(x, q, c % x.C, 0, i);
    return y;
}

/* a fully connected layer on the flattened map, [B x out x 1 x 1] */
static rt fc(ref *r, rt x, int out) {
    const int F = x.C * x.H * x.W;
    const double *Wt = take(r, (size_t)out * F), *b = take(r, (size_t)out);
    rt y = make(r, x.B, out, 1, 1);
    for (int q = 0; q < x.B; q++)
        for (int k = 0; k < out; k++) {
            double s = b[k];
            for (int f = 0; f < F; f++) s += Wt[(size_t)k * F + f] * x.v[(size_t)q * F + f];
            y.v[(size_t)q * out + k] = s;
        }
    return y;
}

static void linear(ref *r, rt x, int K, double *logits) {
    const int F = x.C * x.H * x.W;
    const double *Wt = take(r, (size_t)K * F), *b = take(r, (size_t)K);
    for (int q = 0; q < x.B; q++)
        for (int k = 0; k < K; k++) {
            double s = b[k];
            for (int f = 0; f < F; f++) s += Wt[(size_t)k * F + f] * x.v[(size_t)q * F + f];
            logits[q * K + k] = s;
        }
}

/* ---------------------------------------------------------------- the architectures */

static rt vgg(ref *r, rt x, const int *cfg, int n) {
    for (int i = 0; i < n; i++)
        if (cfg[i]) x = act(r, cbn(r, x, chw(r, cfg[i]), 3, 1, 1, 1, 1), RELU);
        else if (x.W >= 2 && (r->one_d || x.H >= 2)) x = maxpool(r, x);
    return x;
}

/* He & Su's VGG-13 (a = 0) and AlexNet (a = 1), the descriptions of equisep-extra.md section 3 */
static rt es_net(ref *r, rt x, int a) {
    static const int v13[] = {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
    static const int alex[] = {64, -1, 192, -1, 384, 256, 256, -1};
    const int *plan = a ? alex : v13, n = a ? 8 : 15;
    x = tile(r, x, a ? 32 : 16);
    for (int i = 0; i < n; i++)
        if (plan[i] > 0) x = act(r, cbn(r, x, chw(r, plan[i]), 5, 1, 2, 1, 1), RELU);
        else if (plan[i] < 0) x = pool(r, x, 3, 2, 1);
        else if (x.W >= 2 && (r->one_d || x.H >= 2)) x = pool(r, x, 2, 2, 0);
    x = act(r, bnorm(r, fc(r, x, chw(r, 4096))), RELU);
    return act(r, bnorm(r, fc(r, x, chw(r, 4096))), RELU);
}

static rt resnet(ref *r, rt x, const int *blocks) {
    static const int planes[4] = {64, 128, 256, 512}, strides[4] = {1, 2, 2, 2};
    x = act(r, cbn(r, x, chw(r, 64), 3, 1, 1, 1, 0), RELU);
    for (int s = 0; s < 4; s++)
        for (int k = 0; k < blocks[s]; k++) {
            const int st = k ? 1 : strides[s], o = chw(r, planes[s]);
            rt t = act(r, cbn(r, x, o, 3, st, 1, 1, 0), RELU);
            t = cbn(r, t, o, 3, 1, 1, 1, 0);
            rt sc = st != 1 || x.C != o ? cbn(r, x, o, 1, st, 0, 1, 0) : x;
            x = act(r, add(r, t, sc), RELU);
        }
    return gap(r, x);
}

static rt effnet(ref *r, rt x) {
    static const int t[7][5] = {{1, 16, 1, 3, 1},  {6, 24, 2, 3, 2},  {6, 40, 2, 5, 2}, {6, 80, 3, 3, 2},
                                {6, 112, 3, 5, 1}, {6, 192, 4, 5, 2}, {6, 320, 1, 3, 1}};
    x = act(r, cbn(r, x, chw(r, 32), 3, 1, 1, 1, 0), SILU);
    r->dropped = r->kept = 0;
    for (int s = 0, j = 0; s < 7; s++)
        for (int k = 0; k < t[s][2]; k++, j++) {
            const int e = t[s][0], st = k ? 1 : t[s][4], in = x.C, o = chw(r, t[s][1]), C = e * in,
                      se = in / 4 > 0 ? in / 4 : 1, ks = t[s][3];
            rt h = e == 1 ? x : act(r, cbn(r, x, C, 1, 1, 0, 1, 0), SILU);
            h = act(r, cbn(r, h, C, ks, st, ks / 2, C, 0), SILU);
            rt g = act(r, conv(r, gap(r, h), se, 1, 1, 0, 1, 1), SILU);
            g = act(r, conv(r, g, C, 1, 1, 0, 1, 1), SIGMOID);
            rt sc = make(r, h.B, h.C, h.H, h.W);
            for (int q = 0; q < h.B; q++)
                for (int c = 0; c < C; c++)
                    for (int i = 0; i < h.H * h.W; i++) AT(sc, q, c, 0, i) = AT(h, q, c, 0, i) * AT(g, q, c, 0, 0);
            h = cbn(r, sc, o, 1, 1, 0, 1, 0);
            x = st == 1 && in == o ? add(r, droppath(r, h, j), x) : h;
        }
    return gap(r, x);
}

/* Mean cross-entropy of the architecture (index a) on x [B x C x H x W] with parameters P;
 * logits into lg. Checks that the walk used every parameter. */
static double ref_loss(ref *r, int a, const double *P, size_t n_params, const double *x, int B, int C, int H, int W,
                       const int32_t *y, int K, double *lg) {
    static const int v11[] = {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
    static const int v16[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
    static const int r18[4] = {2, 2, 2, 2}, r34[4] = {3, 4, 6, 3};
    r->p = P, r->at = 0, r->used = 0, r->n_nodes = 0;
    rt in = make(r, B, C, H, W);
    memcpy(in.v, x, (size_t)B * C * H * W * sizeof *x);
    rt f = a == 0 ? vgg(r, in, v11, 13) : a == 1 ? vgg(r, in, v16, 18) : a == 2 ? resnet(r, in, r18)
         : a == 3 ? resnet(r, in, r34) : a == 4 ? effnet(r, in) : es_net(r, in, a - 5);
    linear(r, dropout(r, f), K, lg);
    CU_ASSERT_EQUAL(r->at, n_params);
    double loss = 0;
    for (int q = 0; q < B; q++) {
        double mx = -INFINITY, s = 0;
        for (int k = 0; k < K; k++) mx = fmax(mx, lg[q * K + k]);
        for (int k = 0; k < K; k++) s += exp(lg[q * K + k] - mx);
        loss += log(s) + mx - lg[q * K + y[q]];
    }
    return loss / B;
}

/* ================================================================ the checks */

static const hs_cnet_arch *const archs[] = {&hs_cnet_vgg11,     &hs_cnet_vgg16,    &hs_cnet_resnet18,
                                            &hs_cnet_resnet34,  &hs_cnet_effnet_b0, &hs_cnet_vgg13_es,
                                            &hs_cnet_alexnet_es};

/* Relative distance of a float array from a double one, against the latter's largest entry. */
static double dist(const float *f, const double *d, size_t n) {
    double mx = 0, big = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(f[i] - d[i])), big = fmax(big, fabs(d[i]));
    return mx / fmax(big, 1e-30);
}

static void check(int a, int C, int H, int W, double dc) {
    enum { B = 4, K = 3, NP = 40, NX = 8 };
    const hs_cnet_arch *arch = archs[a];
    /* He & Su's nets at 1/32 (fully connected 128): their 4096-wide blocks dominate the reference */
    const double wm = a >= 5 ? 1.0 / 32 : 1.0 / 16;
    hs_cnet_opts o = {.arch = arch, .channels = C, .height = H, .width = W, .out_dim = K, .width_mult = wm,
                      .dropout = -1, .batch_norm = 1, .bn_eps = 1e-5f, .bn_momentum = 0.1f, .init_scale = 1,
                      .seed = 5, .max_batch = B, .input_grad = 1, .drop_connect = dc};
    hs_model m;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_model_cnet(&m, &o, &err), HS_OK);
    const size_t nx = (size_t)B * m.in_dim;
    float *x = malloc(nx * sizeof *x);
    double *xd = malloc(nx * sizeof *xd), *P = malloc(m.n_params * sizeof *P), lg[B * K];
    ref r = {.one_d = H == 1, .bn = 1, .wm = o.width_mult, .eps = (double)o.bn_eps, .drop = arch->dropout, .dc = dc,
             .seed = o.seed, .cap = (size_t)1 << 21};
    r.arena = malloc(r.cap * sizeof *r.arena);
    CU_ASSERT_FATAL(x && xd && P && r.arena);
    hs_rng g;
    hs_rng_init(&g, 2, 7);
    for (size_t i = 0; i < nx; i++) xd[i] = x[i] = (float)hs_rng_normal(&g);
    for (size_t i = 0; i < m.n_params; i++) P[i] = m.params[i];
    const int32_t y[B] = {0, 2, 1, 2};

    /* the forward: logits and every node */
    const float *logits = hs_model_forward(&m, x, B, HS_MODE_TRAIN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(logits);
    hs_loss_forward_backward(HS_LOSS_CE, logits, y, NULL, B, K, m.dlogits, NULL);
    const double loss = ref_loss(&r, a, P, m.n_params, xd, B, C, H, W, y, K, lg);
    CU_ASSERT(isfinite(loss));
    if (dc > 0) CU_ASSERT(r.dropped > 0 && r.kept > 0); /* both kinds of row go through the check */
    /* float rounding grows through the BatchNorms (to 1e-4 of the largest value in EfficientNet's
     * 64 nodes); a wrong layer is off by the value itself */
    CU_ASSERT(dist(logits, lg, B * K) < 1e-3);
    CU_ASSERT_EQUAL_FATAL(r.n_nodes, m.n_hidden);
    double worst_node = 0;
    for (int l = 0; l < m.n_hidden; l++) {
        const rt *t = &r.nodes[l];
        CU_ASSERT_EQUAL_FATAL((size_t)m.hidden_width[l], (size_t)t->C * t->H * t->W);
        worst_node = fmax(worst_node, dist(hs_model_hidden(&m, l), t->v, (size_t)B * m.hidden_width[l]));
    }
    CU_ASSERT(worst_node < 1e-3);
    hs_model_backward(&m, m.dlogits, B);
    const float *gx = hs_cnet_input_grad(&m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(gx);

    /* the gradients: parameters of tensors spread over the net (every kind), and the input */
    double gmax = 0;
    for (size_t i = 0; i < m.n_params; i++) gmax = fmax(gmax, fabs(m.grads[i]));
    hs_rng pick;
    hs_rng_init(&pick, 9, 0);
    int bad = 0;
    for (int q = 0; q < NP + NX; q++) {
        double *p, an;
        if (q < NP) {
            const hs_tensor *t = &m.tensors[(size_t)q * (size_t)(m.n_tensors - 1) / (NP - 1)];
            const size_t i = t->offset + hs_rng_below(&pick, t->size);
            p = P + i, an = m.grads[i];
        } else {
            const size_t i = hs_rng_below(&pick, nx);
            p = xd + i, an = gx[i];
        }
        const double keep = *p, h = 1e-6 * fmax(1, fabs(keep));
        *p = keep + h;
        const double fp = ref_loss(&r, a, P, m.n_params, xd, B, C, H, W, y, K, lg);
        *p = keep - h;
        const double fm = ref_loss(&r, a, P, m.n_params, xd, B, C, H, W, y, K, lg);
        *p = keep;
        const double fd = (fp - fm) / (2 * h);
        if (fabs(fd - an) > 1e-4 * gmax + 1e-3 * fabs(fd)) {
            bad++;
            fprintf(stderr, "\n  %s %dx%dx%d %s %d: backward %.8g, differences %.8g (largest gradient %.3g)",
                    arch->name, C, H, W, q < NP ? "parameter" : "input", q, an, fd, gmax);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* drop-path acts in TRAIN only: the EVAL logits are those of the same net without it */
    if (dc > 0) {
        hs_cnet_opts o0 = o;
        o0.drop_connect = 0;
        hs_model m0;
        CU_ASSERT_EQUAL_FATAL(hs_model_cnet(&m0, &o0, &err), HS_OK);
        const size_t ns = hs_model_state_size(&m);
        CU_ASSERT_EQUAL_FATAL(hs_model_state_size(&m0), ns); /* parameters, BN statistics, step */
        float l0[B * K], *st = malloc(ns * sizeof *st);
        CU_ASSERT_FATAL(st != NULL);
        hs_model_state_get(&m, st);
        hs_model_state_set(&m0, st);
        free(st);
        memcpy(l0, hs_model_forward(&m0, x, B, HS_MODE_EVAL), sizeof l0);
        CU_ASSERT(memcmp(l0, hs_model_forward(&m, x, B, HS_MODE_EVAL), sizeof l0) == 0);
        hs_model_free(&m0);
    }
    free(x), free(xd), free(P), free(r.arena);
    hs_model_free(&m);
}

static void test_1d(void) {
    for (int a = 0; a < 5; a++) check(a, 3, 1, 12, 0); /* 3 channels x 12 positions */
    check(4, 3, 1, 12, 0.5); /* EfficientNet with drop-path at rates up to 0.47 */
}

static void test_2d(void) {
    for (int a = 0; a < 5; a++) check(a, 2, 8, 8, 0);
    check(4, 2, 8, 8, 0.5);
    /* He & Su's nets are image nets: 2-D only; AlexNet on one channel (its 32 copies of two would
     * double the reference's first conv, the test's largest cost) */
    check(5, 2, 8, 8, 0);
    check(6, 1, 8, 8, 0);
}

int main(void) {
    static const hs_test tests[] = {
        {"1-D: forward, nodes and gradients vs a double reference", test_1d},
        {"2-D: forward, nodes and gradients vs a double reference", test_2d},
        {NULL, NULL},
    };
    return hs_test_main("nets_grad", tests);
}
