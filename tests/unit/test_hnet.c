/* test_hnet.c - the hierarchical nets (CNN, LCN, FCN of nn.h) against a double-precision
 * reference written here from the formulas of shared/reference/srhm.md, in the note's own
 * indexing (channel-major activations h[c][i], weights W[c', c, k]) and reading the parameters
 * through the layouts nn.h documents: forward values, every parameter's gradient by central
 * finite differences, the structure of weight sharing, parameter counts by hand, and the
 * initialisation (N(0, 1), per-layer streams, determinism), validation and guards. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/nn/gemm.h"
#include "hsweep/nn.h"
#include "hsweep/rng.h"
#include "testing.h"

/* ================================================================ double-precision reference */

#define MAXB 8
#define REF_MAXB 130 /* batches of the reference: beyond hnet.c's SHORT_ROWS (128) rows per product */
#define MAXL 3
#define MAXU 256 /* units per sample of any layer (input included) */

/* Activations of one reference forward: hid[l][b][u], u = c' * P_l + i for CNN/LCN (the note's
 * channel-major h[c'][i]), the unit index for the FCN; logits[b][k]. */
typedef struct ref_acts {
    double hid[MAXL][REF_MAXB][MAXU];
    double logits[REF_MAXB][8];
} ref_acts;

/* The net o describes, on the parameters P (double, laid out as m->params), for B samples
 * x[B x v*d] (channel-major). Returns the mean cross-entropy against y. */
static double ref_forward(const hs_model *m, const hs_hnet_opts *o, const double *P, const double *x,
                          const int32_t *y, int B, ref_acts *a) {
    const int v = o->channels, d = o->positions, S = o->filter, L = o->depth, H = o->width, K = o->out_dim;
    double loss = 0;
    for (int b = 0; b < B; b++) {
        const double *in = x + (size_t)b * v * d;
        int C = v, Pin = d, n_in = v * d;
        for (int l = 0; l < L; l++) {
            const double *W = P + m->tensors[2 * l].offset, *bias = P + m->tensors[2 * l + 1].offset;
            const int ld = m->tensors[2 * l].ld; /* the documented layout's row stride */
            double *out = a->hid[l][b];
            const int Pout = Pin / S;
            if (o->kind == HS_HNET_FCN) {
                const int n_out = H * Pout;
                for (int u = 0; u < n_out; u++) {
                    double s = 0;
                    for (int j = 0; j < n_in; j++) s += W[u * ld + j] * in[j];
                    s = s / sqrt((double)n_in) + o->bias_scale * bias[u];
                    out[u] = s > 0 ? s : 0;
                }
                n_in = n_out;
            } else {
                for (int cp = 0; cp < H; cp++)
                    for (int i = 0; i < Pout; i++) {
                        double s = 0;
                        for (int c = 0; c < C; c++)
                            for (int k = 0; k < S; k++) {
                                /* W[c', c, k] (CNN) or W[c', c, k, i] (LCN) in the documented layout */
                                const int wi = o->kind == HS_HNET_CNN ? cp * ld + k * C + c
                                                                      : (i * H + cp) * ld + k * C + c;
                                s += W[wi] * in[c * Pin + i * S + k];
                            }
                        s = s / sqrt((double)C) + o->bias_scale * bias[i * H + cp];
                        out[cp * Pout + i] = s > 0 ? s : 0;
                    }
                C = H;
            }
            Pin = Pout;
            in = out;
        }
        const double *Wr = P + m->tensors[2 * L].offset;
        double *f = a->logits[b], mx = -INFINITY, se = 0;
        for (int k = 0; k < K; k++) {
            double s = 0;
            for (int c = 0; c < H; c++) s += Wr[k * H + c] * in[c];
            f[k] = s / H;
            mx = fmax(mx, f[k]);
        }
        for (int k = 0; k < K; k++) se += exp(f[k] - mx);
        loss += (mx + log(se) - f[y[b]]) / B;
    }
    return loss;
}

/* The model's hidden(l) row of sample b, unit u of the reference's indexing. */
static float model_hidden_at(const hs_model *m, const hs_hnet_opts *o, int l, int b, int u) {
    const float *h = hs_model_hidden(m, l);
    const int w = m->hidden_width[l];
    if (o->kind == HS_HNET_FCN) return h[b * w + u];
    const int P = w / o->width, cp = u / P, i = u % P;
    return h[b * w + i * o->width + cp];
}

/* ================================================================ helpers */

static hs_hnet_opts small_opts(hs_hnet_kind kind, int S, int L) {
    int d = 1;
    for (int l = 0; l < L; l++) d *= S;
    return (hs_hnet_opts){.kind = kind, .channels = 3, .positions = d, .filter = S, .depth = L, .width = 4,
                          .out_dim = 3, .bias_scale = 0.1, .seed = 11, .max_batch = MAXB};
}

static void random_batch(float *x, int32_t *y, int B, int D, int K, uint64_t seed) {
    hs_rng r;
    hs_rng_init(&r, seed, hs_rng_stream(HS_STREAM_DATA, 0));
    for (int i = 0; i < B * D; i++) x[i] = (float)hs_rng_normal(&r);
    for (int i = 0; i < B; i++) y[i] = (int32_t)hs_rng_below(&r, (uint64_t)K);
}

static const char *kind_str(hs_hnet_kind k) { return k == HS_HNET_CNN ? "cnn" : k == HS_HNET_LCN ? "lcn" : "fcn"; }

/* ================================================================ gradients vs finite differences */

#define GRAD_TOL 1e-3

/* Forward (logits, hidden layers, loss) vs the reference to 1e-5, and every parameter's analytic
 * gradient (float, from hs_loss_forward_backward's dlogits) vs a central difference of the
 * double reference loss, on a batch of B. Per tensor the error is max |analytic - fd| over the
 * larger of that tensor's max |fd| and 1e-2 of the whole net's. Returns the worst error. */
static double check_grads(hs_hnet_kind kind, int S, int L, int B, int channels, double *fwd_worst) {
    hs_hnet_opts o = small_opts(kind, S, L);
    o.max_batch = B, o.channels = channels;
    hs_model m;
    CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&m, &o, NULL), HS_OK);
    const int D = m.in_dim, K = o.out_dim;
    CU_ASSERT_FATAL(D <= MAXU && B <= REF_MAXB);
    float *x = malloc(sizeof(float) * (size_t)B * D);
    double *xd = malloc(sizeof(double) * (size_t)B * D);
    int32_t *y = malloc(sizeof(int32_t) * (size_t)B);
    CU_ASSERT_FATAL(x && xd && y);
    random_batch(x, y, B, D, K, 5 + (uint64_t)S);
    for (int i = 0; i < B * D; i++) xd[i] = x[i];

    const float *logits = hs_model_forward(&m, x, B, HS_MODE_TRAIN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(logits);
    const double lf = hs_loss_forward_backward(HS_LOSS_CE, logits, y, NULL, B, K, m.dlogits, NULL);
    hs_model_backward(&m, m.dlogits, B);

    const size_t n = m.n_params;
    double *P = malloc(n * sizeof(double)), *fd = malloc(n * sizeof(double));
    ref_acts *a = malloc(sizeof *a);
    CU_ASSERT_FATAL(P && fd && a);
    for (size_t i = 0; i < n; i++) P[i] = m.params[i];
    const double l0 = ref_forward(&m, &o, P, xd, y, B, a);
    double fwd = 0;
    for (int b = 0; b < B; b++) {
        for (int k = 0; k < K; k++)
            fwd = fmax(fwd, fabs(logits[b * K + k] - a->logits[b][k]) / (1 + fabs(a->logits[b][k])));
        for (int l = 0; l < L; l++)
            for (int u = 0; u < m.hidden_width[l]; u++)
                fwd = fmax(fwd, fabs(model_hidden_at(&m, &o, l, b, u) - a->hid[l][b][u]) / (1 + fabs(a->hid[l][b][u])));
    }
    char label[64];
    snprintf(label, sizeof label, "%s S=%d L=%d B=%d v=%d", kind_str(kind), S, L, B, channels);
    if (fwd > 1e-5 || fabs(lf - l0) > 1e-5 * (1 + fabs(l0)) || getenv("HS_TEST_VERBOSE"))
        fprintf(stderr, "\n  %s: forward error %.3g, loss %.9g vs reference %.9g\n", label, fwd, lf, l0);
    CU_ASSERT(fwd <= 1e-5);
    CU_ASSERT(fabs(lf - l0) <= 1e-5 * (1 + fabs(l0)));
    *fwd_worst = fmax(*fwd_worst, fwd);

    const double h = 1e-6;
    double gmax = 0;
    for (size_t i = 0; i < n; i++) {
        const double p = P[i];
        P[i] = p + h;
        const double lp = ref_forward(&m, &o, P, xd, y, B, a);
        P[i] = p - h;
        const double lm = ref_forward(&m, &o, P, xd, y, B, a);
        P[i] = p;
        fd[i] = (lp - lm) / (2 * h);
        gmax = fmax(gmax, fabs(fd[i]));
    }
    double worst = 0;
    for (int t = 0; t < m.n_tensors; t++) {
        const hs_tensor *T = &m.tensors[t];
        double scale = 1e-2 * gmax, e = 0;
        for (size_t i = 0; i < T->size; i++) scale = fmax(scale, fabs(fd[T->offset + i]));
        for (size_t i = 0; i < T->size; i++) e = fmax(e, fabs(m.grads[T->offset + i] - fd[T->offset + i]));
        e /= scale;
        if (e > GRAD_TOL || getenv("HS_TEST_VERBOSE"))
            fprintf(stderr, "\n  %s: tensor %d (kind %d, layer %d): relative gradient error %.3g\n", label, t,
                    (int)T->kind, T->layer, e);
        worst = fmax(worst, e);
    }
    CU_ASSERT(gmax > 1e-3); /* the check is not vacuous */
    for (int t = 0; t < m.n_tensors; t++) /* padding: no gradient */
        for (int r = 0; r < m.tensors[t].rows; r++)
            for (int j = m.tensors[t].cols; j < m.tensors[t].ld; j++)
                CU_ASSERT_EQUAL(m.grads[m.tensors[t].offset + (size_t)r * m.tensors[t].ld + j], 0.0f);
    CU_ASSERT(worst <= GRAD_TOL);
    free(P), free(fd), free(a), free(x), free(xd), free(y);
    hs_model_free(&m);
    return worst;
}

/* Batches of 5 take the transposed forward products (hs_gemm_nt_short); 130 rows per product
 * (every kind at B = 130, and the CNN's first layer already at B = 70: 2 x 70 patch rows) the
 * kernel's usual form. With 64 channels the first weight has rows of 256 (CNN, LCN: S = 4, one
 * layer; FCN: d = 4 inputs x 64), stored 272 apart (hnet.c's padded_ld). */
static void test_gradients(void) {
    const hs_hnet_kind kinds[3] = {HS_HNET_CNN, HS_HNET_LCN, HS_HNET_FCN};
    const int shapes[4][3] = {{2, 2, 5}, {3, 2, 5}, {2, 3, 5}, {2, 2, 130}}; /* (S, L, B): d = 4, 9, 8, 4 */
    double worst = 0, fwd = 0;
    for (int k = 0; k < 3; k++)
        for (int s = 0; s < 4; s++)
            worst = fmax(worst, check_grads(kinds[k], shapes[s][0], shapes[s][1], shapes[s][2], 3, &fwd));
    worst = fmax(worst, check_grads(HS_HNET_CNN, 2, 2, 70, 3, &fwd));
    for (int k = 0; k < 3; k++) {
        const int S = kinds[k] == HS_HNET_FCN ? 2 : 4, L = kinds[k] == HS_HNET_FCN ? 2 : 1;
        hs_hnet_opts o = small_opts(kinds[k], S, L);
        o.channels = 64;
        hs_model m;
        CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&m, &o, NULL), HS_OK);
        CU_ASSERT(m.tensors[0].cols == 256 && m.tensors[0].ld == 272); /* the padded layout is what is checked */
        hs_model_free(&m);
        worst = fmax(worst, check_grads(kinds[k], S, L, 5, 64, &fwd));
    }
    worst = fmax(worst, check_grads(HS_HNET_CNN, 4, 1, 130, 64, &fwd));
    printf("(worst relative gradient error %.2g, forward %.2g) ", worst, fwd);
}

/* ================================================================ the products at the paper's shapes */

/* One forward and backward of the net o on a batch of B: logits, hidden outputs and gradients
 * into out (in that order; returns the count). */
static size_t run_net(const hs_hnet_opts *o, const float *x, const int32_t *y, int B, float *out) {
    hs_model m;
    CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&m, o, NULL), HS_OK);
    const float *lg = hs_model_forward(&m, x, B, HS_MODE_TRAIN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lg);
    size_t n = 0;
    memcpy(out, lg, sizeof(float) * (size_t)B * m.out_dim), n += (size_t)B * m.out_dim;
    for (int l = 0; l < m.n_hidden; l++) {
        memcpy(out + n, hs_model_hidden(&m, l), sizeof(float) * (size_t)B * m.hidden_width[l]);
        n += (size_t)B * m.hidden_width[l];
    }
    hs_loss_forward_backward(HS_LOSS_CE, lg, y, NULL, B, m.out_dim, m.dlogits, NULL);
    hs_model_backward(&m, m.dlogits, B);
    memcpy(out + n, m.grads, sizeof(float) * m.n_params), n += m.n_params;
    hs_model_free(&m);
    return n;
}

/* The SRHM's L = 3, s0 = 1 shapes (v = 6, filter 4, d = 64, batch 24) at widths where the
 * products take every fast form: 24-row transposed forwards (the zmm + ymm tiles), NN with
 * prefetch, TN by row tiles, and (LCN and FCN: more than 4 MB of them) gradients stored around
 * the caches. Against the same net on cblas_sgemm (hs_gemm_force(1)): the two
 * differ only in summation order, so every logit and hidden unit agrees to 1e-4 of its array's
 * largest value (a wrong index would be off by O(1)); the kernel path repeats bit for bit. The
 * gradient is held to 1e-5 except where a ReLU sat within the forwards' rounding of its
 * kink and opened in one path only: that unit's whole row of dW (K entries) then differs. Seen: 10
 * such rows, 0.8% of the LCN's gradient, when OpenBLAS runs its Haswell kernels on an AVX-512 core;
 * at most 2% may differ, where a wrong index or a missed term would spoil nearly all of it. */
static void test_paths_agree(void) {
    const hs_hnet_kind kinds[3] = {HS_HNET_CNN, HS_HNET_LCN, HS_HNET_FCN};
    const int widths[3] = {256, 256, 128}; /* 0.5 M, 1.4 M and 1.9 M parameters */
    for (int q = 0; q < 3; q++) {
        const hs_hnet_opts o = {.kind = kinds[q], .channels = 6, .positions = 64, .filter = 4, .depth = 3,
                                .width = widths[q], .out_dim = 6, .bias_scale = 0.1, .seed = 3, .max_batch = 24};
        const int B = 24, D = 6 * 64;
        hs_model probe;
        CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&probe, &o, NULL), HS_OK);
        size_t total = (size_t)B * 6 + probe.n_params, n_hid[MAXL + 1] = {(size_t)B * 6};
        for (int l = 0; l < probe.n_hidden; l++) total += n_hid[l + 1] = (size_t)B * probe.hidden_width[l];
        const size_t n_params = probe.n_params;
        hs_model_free(&probe);
        float *x = malloc(sizeof(float) * B * D), *fast = malloc(sizeof(float) * total),
              *again = malloc(sizeof(float) * total), *ref = malloc(sizeof(float) * total);
        int32_t y[24];
        CU_ASSERT_FATAL(x && fast && again && ref);
        random_batch(x, y, B, D, 6, 31 + (uint64_t)q);
        hs_gemm_force(2);
        CU_ASSERT_EQUAL(run_net(&o, x, y, B, fast), total);
        CU_ASSERT_EQUAL(run_net(&o, x, y, B, again), total);
        hs_gemm_force(1);
        CU_ASSERT_EQUAL(run_net(&o, x, y, B, ref), total);
        hs_gemm_force(0);
        CU_ASSERT_EQUAL(memcmp(fast, again, sizeof(float) * total), 0);
        /* per array: the logits, each hidden layer, the gradient */
        size_t at = 0, off = 0;
        double worst = 0;
        for (int a = 0; a <= 4; a++) {
            const size_t len = a == 4 ? n_params : n_hid[a];
            double scale = 0, e = 0;
            for (size_t i = 0; i < len; i++) scale = fmax(scale, fabs(ref[at + i]));
            CU_ASSERT(scale > 0);
            for (size_t i = 0; i < len; i++) {
                const double d = fabs((double)fast[at + i] - ref[at + i]);
                if (a == 4 && d > 1e-5 * scale) off++; /* a kink opened in one path only */
                else e = fmax(e, d);
            }
            worst = fmax(worst, e / scale);
            at += len;
        }
        CU_ASSERT_EQUAL(at, total);
        if (worst > 1e-4 || off > n_params / 50 || getenv("HS_TEST_VERBOSE"))
            fprintf(stderr, "\n  %s width %d: kernel vs cblas, worst relative difference %.3g, %zu of %zu gradient entries beyond it\n",
                    kind_str(kinds[q]), widths[q], worst, off, n_params);
        CU_ASSERT(worst <= 1e-4);
        CU_ASSERT(off <= n_params / 50);
        free(x), free(fast), free(again), free(ref);
    }
}

/* ================================================================ structure */

/* Shift every channel of each sample of x [B x v*d] by `by` positions, cyclically. */
static void roll(float *out, const float *x, int B, int v, int d, int by) {
    for (int b = 0; b < B; b++)
        for (int c = 0; c < v; c++)
            for (int i = 0; i < d; i++) out[(b * v + c) * d + i] = x[(b * v + c) * d + (i + by) % d];
}

/* Max over samples, channels and positions of |h0'(i) - h0(i + 1)| (cyclic), layer 0. */
static double translation_error(hs_model *m, const float *x, const float *xs, int B, int H) {
    const int w = m->hidden_width[0], P = w / H;
    float h[MAXB * 64];
    CU_ASSERT_FATAL(B * w <= MAXB * 64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hs_model_forward(m, x, B, HS_MODE_EVAL));
    memcpy(h, hs_model_hidden(m, 0), sizeof(float) * B * w);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hs_model_forward(m, xs, B, HS_MODE_EVAL));
    const float *hs = hs_model_hidden(m, 0);
    double e = 0;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < P; i++)
            for (int c = 0; c < H; c++)
                e = fmax(e, fabs(hs[b * w + i * H + c] - h[b * w + ((i + 1) % P) * H + c]));
    return e;
}

/* Weight sharing: with the layer-0 biases equal across positions, translating the input of a
 * CNN by one patch (S positions) translates its layer-0 output by one position. An LCN whose
 * per-position weights are all the CNN's is the CNN (same logits); with its own per-position
 * weights it is not, and it is not translation-equivariant. */
static void test_weight_sharing(void) {
    hs_hnet_opts o = small_opts(HS_HNET_CNN, 2, 3); /* d = 8 */
    hs_model cnn, lcn;
    CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&cnn, &o, NULL), HS_OK);
    o.kind = HS_HNET_LCN;
    CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&lcn, &o, NULL), HS_OK);
    const int B = 6, v = o.channels, d = o.positions, H = o.width, S = o.filter;
    float x[MAXB * 24], xs[MAXB * 24], lc[MAXB * 3];
    int32_t y[MAXB];
    random_batch(x, y, B, v * d, 3, 21);
    roll(xs, x, B, v, d, S);
    /* every layer-0 bias := its position-0 value, in both nets */
    hs_model *nets[2] = {&cnn, &lcn};
    for (int q = 0; q < 2; q++) {
        float *b0 = nets[q]->params + nets[q]->tensors[1].offset;
        for (int i = 1; i < d / S; i++) memcpy(b0 + i * H, b0, sizeof(float) * H);
    }
    const double e_cnn = translation_error(&cnn, x, xs, B, H), e_lcn = translation_error(&lcn, x, xs, B, H);
    CU_ASSERT(e_cnn < 1e-6);
    CU_ASSERT(e_lcn > 0.1);

    /* the LCN with the CNN's parameters in every position computes the CNN */
    for (int l = 0; l < o.depth; l++) {
        const hs_tensor *tc = &cnn.tensors[2 * l], *tl = &lcn.tensors[2 * l];
        const int P = lcn.hidden_width[l] / H;
        CU_ASSERT_EQUAL_FATAL(tl->size, (size_t)P * tc->size);
        for (int i = 0; i < P; i++)
            memcpy(lcn.params + tl->offset + (size_t)i * tc->size, cnn.params + tc->offset, sizeof(float) * tc->size);
        memcpy(lcn.params + lcn.tensors[2 * l + 1].offset, cnn.params + cnn.tensors[2 * l + 1].offset,
               sizeof(float) * lcn.tensors[2 * l + 1].size);
    }
    memcpy(lcn.params + lcn.tensors[2 * o.depth].offset, cnn.params + cnn.tensors[2 * o.depth].offset,
           sizeof(float) * 3 * H);
    memcpy(lc, hs_model_forward(&cnn, x, B, HS_MODE_TRAIN), sizeof(float) * B * 3);
    const float *ll = hs_model_forward(&lcn, x, B, HS_MODE_TRAIN);
    double diff = 0;
    for (int i = 0; i < B * 3; i++) diff = fmax(diff, fabs(ll[i] - lc[i]));
    CU_ASSERT(diff < 1e-6);
    CU_ASSERT(translation_error(&lcn, x, xs, B, H) < 1e-6);
    /* one position's weights changed: the LCN departs from the CNN */
    lcn.params[lcn.tensors[0].offset + lcn.tensors[0].size - 1] += 1.0f;
    ll = hs_model_forward(&lcn, x, B, HS_MODE_TRAIN);
    diff = 0;
    for (int i = 0; i < B * 3; i++) diff = fmax(diff, fabs(ll[i] - lc[i]));
    CU_ASSERT(diff > 1e-4);
    hs_model_free(&cnn), hs_model_free(&lcn);
}

/* Parameter counts and tensor tables by hand, v = 3, H = 4, 3 classes:
 *   S=2 L=2 (d=4):  CNN W0 4x(2*3)=24 b0 2*4=8  W1 4x(2*4)=32 b1 4  Wr 3x4=12  -> 80
 *                   LCN W0 2*24=48    b0 8      W1 32         b1 4  Wr 12     -> 104
 *                   FCN W0 8x12=96    b0 8      W1 4x8=32     b1 4  Wr 12     -> 152
 *   S=3 L=2 (d=9):  CNN 36 + 12 + 48 + 4 + 12 = 112;  LCN 108 + 12 + 48 + 4 + 12 = 184;
 *                   FCN 12x27=324 + 12 + 4x12=48 + 4 + 12 = 400 */
static void test_layout_and_counts(void) {
    /* 64 channels, S = 4, one layer (d = 4): the CNN's weight has rows of 4 x 64 = 256 floats,
     * 16 lines, stored 17 lines (272) apart; the LCN's the same (1 position); the FCN's (S = 2,
     * two layers, d = 4) rows of all 256 inputs, its second weight rows of 8 (unpadded). Counts:
     * CNN 4 x 256 + 4 + 3 x 4 = 1040 in 4 x 272 + 4 + 12 = 1104 floats; FCN 8 x 256 + 8 + 4 x 8 +
     * 4 + 12 = 2104 in 8 x 272 + 56 = 2232. */
    {
        const hs_hnet_kind kinds[2] = {HS_HNET_CNN, HS_HNET_FCN};
        const int S[2] = {4, 2}, L[2] = {1, 2};
        const size_t counts[2] = {1040, 2104}, floats[2] = {1104, 2232};
        for (int q = 0; q < 2; q++) {
            hs_hnet_opts o = small_opts(kinds[q], S[q], L[q]);
            o.channels = 64;
            hs_model m;
            CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&m, &o, NULL), HS_OK);
            CU_ASSERT_EQUAL(m.n_params, floats[q]);
            CU_ASSERT_EQUAL(hs_model_count_params(&m), counts[q]);
            const hs_tensor *W = &m.tensors[0];
            CU_ASSERT(W->cols == 256 && W->ld == 272 && W->size == (size_t)W->rows * 272);
            CU_ASSERT_EQUAL(hs_tensor_count(W), (size_t)W->rows * 256);
            CU_ASSERT(m.tensors[1].ld == 1 && m.tensors[2 * L[q]].ld == m.tensors[2 * L[q]].cols);
            size_t zero_pads = 0, zero_values = 0;
            for (int r = 0; r < W->rows; r++)
                for (int j = 0; j < W->ld; j++) {
                    const float w = m.params[W->offset + (size_t)r * W->ld + j];
                    if (j < W->cols) zero_values += w == 0.0f;
                    else zero_pads += w == 0.0f;
                }
            CU_ASSERT_EQUAL(zero_pads, (size_t)W->rows * 16); /* padding 0, the weights drawn */
            CU_ASSERT_EQUAL(zero_values, 0);
            hs_model_free(&m);
        }
    }
    const struct {
        hs_hnet_kind kind;
        int S;
        size_t sizes[5];
        int rows[5], cols[5];
    } want[6] = {
        {HS_HNET_CNN, 2, {24, 8, 32, 4, 12}, {4, 8, 4, 4, 3}, {6, 1, 8, 1, 4}},
        {HS_HNET_LCN, 2, {48, 8, 32, 4, 12}, {8, 8, 4, 4, 3}, {6, 1, 8, 1, 4}},
        {HS_HNET_FCN, 2, {96, 8, 32, 4, 12}, {8, 8, 4, 4, 3}, {12, 1, 8, 1, 4}},
        {HS_HNET_CNN, 3, {36, 12, 48, 4, 12}, {4, 12, 4, 4, 3}, {9, 1, 12, 1, 4}},
        {HS_HNET_LCN, 3, {108, 12, 48, 4, 12}, {12, 12, 4, 4, 3}, {9, 1, 12, 1, 4}},
        {HS_HNET_FCN, 3, {324, 12, 48, 4, 12}, {12, 12, 4, 4, 3}, {27, 1, 12, 1, 4}},
    };
    const size_t totals[6] = {80, 104, 152, 112, 184, 400};
    for (int q = 0; q < 6; q++) {
        hs_hnet_opts o = small_opts(want[q].kind, want[q].S, 2);
        hs_model m;
        CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&m, &o, NULL), HS_OK);
        CU_ASSERT_EQUAL(m.n_params, totals[q]);
        CU_ASSERT_EQUAL_FATAL(m.n_tensors, 5);
        size_t off = 0;
        for (int t = 0; t < 5; t++) {
            const hs_tensor *T = &m.tensors[t];
            CU_ASSERT_EQUAL(T->kind, t % 2 == 0 ? HS_TENSOR_WEIGHT : HS_TENSOR_BIAS);
            CU_ASSERT_EQUAL(T->layer, t / 2);
            CU_ASSERT_EQUAL(T->offset, off);
            CU_ASSERT_EQUAL(T->size, want[q].sizes[t]);
            CU_ASSERT_EQUAL(T->rows, want[q].rows[t]);
            CU_ASSERT_EQUAL(T->cols, want[q].cols[t]);
            off += T->size;
        }
        const int P0 = o.positions / o.filter;
        CU_ASSERT(m.n_hidden == 2 && m.hidden_width[0] == 4 * P0 && m.hidden_width[1] == 4);
        CU_ASSERT(m.in_dim == 3 * o.positions && m.out_dim == 3 && m.max_batch == MAXB);
        CU_ASSERT(m.lr_scale == 4.0 && m.batch_stats == 0 && m.dlogits != NULL);
        CU_ASSERT_EQUAL(hs_model_state_size(&m), m.n_params);
        CU_ASSERT_PTR_NULL(hs_model_as_mlp(&m));
        hs_model_free(&m);
        hs_model_free(&m); /* safe on a zeroed struct */
    }
}

/* ================================================================ initialisation */

/* Moments of a sample that should be N(0, 1): mean within 4 standard errors, sd within ~4 of
 * its standard errors (1/sqrt(2n)), P(|z| < 1) within 4 binomial standard errors of 0.6827. */
static void check_standard_normal(const float *w, size_t n) {
    double s = 0, s2 = 0, within = 0;
    for (size_t i = 0; i < n; i++) s += w[i], s2 += (double)w[i] * w[i], within += fabsf(w[i]) < 1.0f;
    const double N = (double)n, mean = s / N, sd = sqrt(s2 / N - mean * mean);
    CU_ASSERT(fabs(mean) < 4 / sqrt(N));
    CU_ASSERT(fabs(sd - 1) < 4 / sqrt(2 * N));
    CU_ASSERT(fabs(within / N - 0.682689) < 4 * sqrt(0.2166 / N));
}

/* Every layer's values are the draws of stream (INIT, l), weight then bias, unscaled N(0, 1);
 * the readout's those of (INIT, L). Hence per-layer independence: a deeper net with the same
 * layer shapes repeats the shallower one's layers. Same seed, same net; another seed, another. */
static void test_init(void) {
    const hs_hnet_kind kinds[3] = {HS_HNET_CNN, HS_HNET_LCN, HS_HNET_FCN};
    for (int q = 0; q < 3; q++) {
        hs_hnet_opts o = {.kind = kinds[q], .channels = 6, .positions = 8, .filter = 2, .depth = 3, .width = 48,
                          .out_dim = 6, .bias_scale = 0.1, .seed = 9, .max_batch = 4};
        hs_model a, b;
        CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&a, &o, NULL), HS_OK);
        CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&b, &o, NULL), HS_OK);
        CU_ASSERT_EQUAL(memcmp(a.params, b.params, a.n_params * sizeof(float)), 0);
        check_standard_normal(a.params, a.n_params);
        for (int t = 0; t < a.n_tensors; t++)
            if (a.tensors[t].size >= 2000) check_standard_normal(a.params + a.tensors[t].offset, a.tensors[t].size);
        size_t mismatch = 0;
        for (int l = 0; l <= o.depth; l++) {
            hs_rng r;
            hs_rng_init(&r, 9, hs_rng_stream(HS_STREAM_INIT, (uint32_t)l));
            const size_t start = a.tensors[2 * l].offset;
            const size_t end = l < o.depth ? a.tensors[2 * l + 1].offset + a.tensors[2 * l + 1].size : a.n_params;
            for (size_t i = start; i < end; i++) mismatch += a.params[i] != (float)hs_rng_normal(&r);
        }
        CU_ASSERT_EQUAL(mismatch, 0);
        hs_model_free(&b);
        o.seed = 10;
        CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&b, &o, NULL), HS_OK);
        size_t same = 0;
        for (size_t i = 0; i < a.n_params; i++) same += a.params[i] == b.params[i];
        CU_ASSERT(same < a.n_params / 100);
        hs_model_free(&b);
        /* depth 2 (d = 4): layers 0 and 1 of the CNN have the same shapes as at depth 3 */
        if (kinds[q] == HS_HNET_CNN) {
            o.seed = 9, o.depth = 2, o.positions = 4;
            CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&b, &o, NULL), HS_OK);
            for (int t = 0; t < 3; t += 2)
                CU_ASSERT_EQUAL(memcmp(a.params + a.tensors[t].offset, b.params + b.tensors[t].offset,
                                       a.tensors[t].size * sizeof(float)), 0);
            /* the readout comes from stream 2 here, 3 there */
            CU_ASSERT_NOT_EQUAL(memcmp(a.params + a.tensors[6].offset, b.params + b.tensors[4].offset,
                                       6 * 48 * sizeof(float)), 0);
            hs_model_free(&b);
        }
        hs_model_free(&a);
    }
}

/* ================================================================ validation and guards */

static void test_validation(void) {
    hs_error err = {0};
    hs_model m;
    hs_hnet_opts o = small_opts(HS_HNET_CNN, 2, 3);
    o.positions = 9; /* != 2^3 */
    CU_ASSERT_EQUAL(hs_model_hnet(&m, &o, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "positions must equal filter^depth");
    HS_ASSERT_CONTAINS(err.msg, "got positions 9, filter^depth = 2^3 = 8");
    CU_ASSERT_PTR_NULL(m.impl);
    hs_model_free(&m);
    o = small_opts(HS_HNET_LCN, 3, 2);
    o.depth = 3; /* d = 9 with three layers of 3 */
    CU_ASSERT_EQUAL(hs_model_hnet(&m, &o, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "lcn: positions must equal filter^depth");

    struct {
        int field, value;
        const char *msg;
    } bad[] = {{0, 0, "channels must be in 1.."}, {1, 1, "filter must be in 2.."}, {2, 0, "depth must be in 1.."},
               {3, 0, "width must be in 1.."},    {4, 0, "out_dim must be in 1.."}, {5, 0, "max_batch must be in 1.."},
               {6, 7, "unknown kind 7"},          {7, -1, "bias_scale"},           {8, 0, "bias_scale"},
               {9, 1 << 24, "units"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        o = small_opts(HS_HNET_FCN, 2, 2);
        switch (bad[k].field) {
        case 0: o.channels = bad[k].value; break;
        case 1: o.filter = bad[k].value; break;
        case 2: o.depth = bad[k].value; break;
        case 3: o.width = bad[k].value; break;
        case 4: o.out_dim = bad[k].value; break;
        case 5: o.max_batch = bad[k].value; break;
        case 6: o.kind = (hs_hnet_kind)bad[k].value; break;
        case 7: o.bias_scale = bad[k].value; break;
        case 8: o.bias_scale = NAN; break;
        case 9: o.width = bad[k].value; break; /* 2 positions x 2^24 channels after layer 0 */
        }
        CU_ASSERT_EQUAL(hs_model_hnet(&m, &o, &err), HS_ERR_VALUE);
        HS_ASSERT_CONTAINS(err.msg, bad[k].msg);
        CU_ASSERT_PTR_NULL(m.impl);
    }
    o = small_opts(HS_HNET_CNN, 2, 2);
    o.bias_scale = 0; /* allowed: biases without effect */
    CU_ASSERT_EQUAL(hs_model_hnet(&m, &o, &err), HS_OK);
    hs_model_free(&m);
}

/* Forward refuses B outside 1..max_batch; hidden(l) is NULL beyond the last layer; a backward
 * of another B than the last forward's poisons the gradient; state round-trips; a few SGD
 * steps at lr x lr_scale (lr 1) lower the loss of a fixed batch. */
static void test_guards_state_and_steps(void) {
    hs_hnet_opts o = small_opts(HS_HNET_LCN, 2, 2);
    hs_model m;
    CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&m, &o, NULL), HS_OK);
    float x[(MAXB + 1) * 12];
    int32_t y[MAXB + 1];
    random_batch(x, y, MAXB + 1, 12, 3, 4);
    CU_ASSERT_PTR_NULL(hs_model_forward(&m, x, MAXB + 1, HS_MODE_TRAIN));
    CU_ASSERT_PTR_NULL(hs_model_forward(&m, x, 0, HS_MODE_TRAIN));
    CU_ASSERT_PTR_NOT_NULL(hs_model_forward(&m, x, 1, HS_MODE_TRAIN)); /* no batch statistics */
    CU_ASSERT_PTR_NULL(hs_model_hidden(&m, 2));
    CU_ASSERT_PTR_NULL(hs_model_hidden(&m, -1));
    CU_ASSERT_PTR_NOT_NULL(hs_model_hidden(&m, 1));

    const float *lg = hs_model_forward(&m, x, MAXB, HS_MODE_TRAIN);
    hs_loss_forward_backward(HS_LOSS_CE, lg, y, NULL, MAXB, 3, m.dlogits, NULL);
    hs_model_backward(&m, m.dlogits, MAXB - 1);
    CU_ASSERT(isnan(m.grads[0]) && isnan(m.grads[m.n_params - 1]));

    const size_t n = hs_model_state_size(&m);
    float *s0 = malloc(n * sizeof(float)), *s1 = malloc(n * sizeof(float)), before[MAXB * 3];
    CU_ASSERT_FATAL(s0 && s1);
    hs_model_state_get(&m, s0);
    memcpy(before, hs_model_forward(&m, x, MAXB, HS_MODE_EVAL), sizeof before);
    double first = 0, last = 0;
    for (int step = 0; step < 40; step++) {
        lg = hs_model_forward(&m, x, MAXB, HS_MODE_TRAIN);
        last = hs_loss_forward_backward(HS_LOSS_CE, lg, y, NULL, MAXB, 3, m.dlogits, NULL);
        if (step == 0) first = last;
        hs_model_backward(&m, m.dlogits, MAXB);
        for (size_t i = 0; i < m.n_params; i++) m.params[i] -= (float)(1.0 * m.lr_scale) * m.grads[i];
    }
    CU_ASSERT(last < 0.7 * first);
    hs_model_state_get(&m, s1);
    CU_ASSERT_NOT_EQUAL(memcmp(s0, s1, n * sizeof(float)), 0);
    hs_model_state_set(&m, s0);
    CU_ASSERT_EQUAL(memcmp(before, hs_model_forward(&m, x, MAXB, HS_MODE_EVAL), sizeof before), 0);
    free(s0), free(s1);
    hs_model_free(&m);
}

/* ================================================================ per-tensor readiness */

typedef struct ready_check {
    hs_model *m;
    const float *g_ref; /* the gradient of a plain backward on the same parameters and batch */
    int calls[2 * MAXL + 1], mismatched;
} ready_check;

/* When tensor t is reported ready its gradient must be final: compared with the plain
 * backward's, then t takes an SGD step in place, as the training's update does. A ready reported
 * before the backward's last read of t's weight would change the gradients after it. */
static void check_and_step(void *ctx, int t) {
    ready_check *r = ctx;
    const hs_tensor *ts = &r->m->tensors[t];
    r->calls[t]++;
    if (memcmp(r->m->grads + ts->offset, r->g_ref + ts->offset, ts->size * sizeof(float))) r->mismatched++;
    for (size_t i = ts->offset; i < ts->offset + ts->size; i++) r->m->params[i] -= 0.5f * r->m->grads[i];
}

/* hs_model_backward_each: each tensor reported once, its gradient already final, and stepping
 * each tensor as it is reported gives the parameters of a backward followed by the steps, bit
 * for bit (every kind, 2 and 3 layers). */
static void test_backward_each(void) {
    const hs_hnet_kind kinds[3] = {HS_HNET_CNN, HS_HNET_LCN, HS_HNET_FCN};
    const int shapes[3][2] = {{2, 2}, {3, 2}, {2, 3}};
    for (int q = 0; q < 3; q++)
        for (int sh = 0; sh < 3; sh++) {
            const hs_hnet_opts o = small_opts(kinds[q], shapes[sh][0], shapes[sh][1]);
            hs_model a, b;
            CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&a, &o, NULL), HS_OK);
            CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&b, &o, NULL), HS_OK);
            const int D = a.in_dim;
            float x[MAXB * 64];
            int32_t y[MAXB];
            CU_ASSERT_FATAL(D <= 64);
            random_batch(x, y, MAXB, D, o.out_dim, 7 + (uint64_t)(3 * q + sh));
            float *g_ref = malloc(b.n_params * sizeof(float));
            CU_ASSERT_FATAL(g_ref != NULL);
            hs_loss_forward_backward(HS_LOSS_CE, hs_model_forward(&b, x, MAXB, HS_MODE_TRAIN), y, NULL, MAXB,
                                     o.out_dim, b.dlogits, NULL);
            hs_model_backward(&b, b.dlogits, MAXB);
            memcpy(g_ref, b.grads, b.n_params * sizeof(float));
            for (size_t i = 0; i < b.n_params; i++) b.params[i] -= 0.5f * b.grads[i];

            ready_check r = {.m = &a, .g_ref = g_ref};
            hs_loss_forward_backward(HS_LOSS_CE, hs_model_forward(&a, x, MAXB, HS_MODE_TRAIN), y, NULL, MAXB,
                                     o.out_dim, a.dlogits, NULL);
            hs_model_backward_each(&a, a.dlogits, MAXB, check_and_step, NULL, &r);
            for (int t = 0; t < a.n_tensors; t++) CU_ASSERT_EQUAL(r.calls[t], 1);
            CU_ASSERT_EQUAL(r.mismatched, 0);
            CU_ASSERT_EQUAL(memcmp(a.grads, g_ref, a.n_params * sizeof(float)), 0);
            CU_ASSERT_EQUAL(memcmp(a.params, b.params, a.n_params * sizeof(float)), 0);
            /* most gradients are non-zero, so the steps moved what the comparisons compare */
            size_t moved = 0;
            for (size_t i = 0; i < a.n_params; i++) moved += g_ref[i] != 0.0f;
            CU_ASSERT(moved > a.n_params / 2);
            free(g_ref);
            hs_model_free(&a), hs_model_free(&b);
        }
}

/* The training step's two callbacks over an optimiser (as src/train/train.c has them). */
typedef struct opt_step {
    hs_model *m;
    hs_optim *opt;
    double lr, wd;
    int ready_calls[2 * MAXL + 1];
} opt_step;

static void opt_ready(void *ctx, int t) {
    opt_step *u = ctx;
    u->ready_calls[t]++;
    hs_optim_update(u->opt, u->m->params, u->m->grads, u->m->tensors[t].offset, u->m->tensors[t].size, u->lr, u->wd);
}

static int opt_sgd(void *ctx, int t, hs_optim_sgd *s) {
    const opt_step *u = ctx;
    return hs_optim_sgd_of(u->opt, u->m->tensors[t].offset, u->lr, u->wd, s);
}

/* With sgd given, the hidden layers' weights are stepped by the net as their gradients are
 * computed (never stored), and ready is not called for them: after three steps the parameters and
 * momentum buffers are those of the steps taken from stored gradients, bit for bit, for plain
 * SGD, momentum with decay and Nesterov, every kind, 2 and 3 layers. Where the CPU has no AVX-512
 * kernel the net declines and calls ready for every tensor. */
/* Three steps of the same net twice, from the same batches: stepped by the net itself where sgd
 * allows (ready counts in st[1]) and from stored gradients (st[0]); params and momenta compared. */
static void fused_vs_stored(const hs_hnet_opts *o, const hs_optim_opts *rule, double wd, int B, uint64_t seed,
                            int expect_fused) {
    hs_model m[2];
    hs_optim opt[2];
    memset(opt, 0, sizeof opt);
    opt_step st[2];
    for (int v = 0; v < 2; v++) {
        CU_ASSERT_EQUAL_FATAL(hs_model_hnet(&m[v], o, NULL), HS_OK);
        CU_ASSERT_EQUAL_FATAL(hs_optim_init(&opt[v], rule, m[v].n_params, NULL), HS_OK);
        st[v] = (opt_step){.m = &m[v], .opt = &opt[v], .lr = 0.2 * m[v].lr_scale, .wd = wd};
    }
    const int D = m[0].in_dim;
    float *x = malloc(sizeof(float) * (size_t)B * D);
    int32_t *y = malloc(sizeof(int32_t) * (size_t)B);
    CU_ASSERT_FATAL(x && y);
    for (int step = 0; step < 3; step++) {
        random_batch(x, y, B, D, o->out_dim, seed + 100 * (uint64_t)step);
        for (int v = 0; v < 2; v++) {
            hs_loss_forward_backward(HS_LOSS_CE, hs_model_forward(&m[v], x, B, HS_MODE_TRAIN), y, NULL, B, o->out_dim,
                                     m[v].dlogits, NULL);
            hs_optim_begin_step(&opt[v]);
            hs_model_backward_each(&m[v], m[v].dlogits, B, opt_ready, v ? opt_sgd : NULL, &st[v]);
        }
    }
    CU_ASSERT_EQUAL(memcmp(m[0].params, m[1].params, m[0].n_params * sizeof(float)), 0);
    if (opt[0].m) CU_ASSERT_EQUAL(memcmp(opt[0].m, opt[1].m, m[0].n_params * sizeof(float)), 0);
    size_t pad_nonzero = 0; /* the padding of a weight stays 0 through the steps, in both */
    for (int t = 0; t < m[1].n_tensors; t++) {
        const hs_tensor *T = &m[1].tensors[t];
        for (int r = 0; r < T->rows; r++)
            for (int j = T->cols; j < T->ld; j++) {
                const size_t i = T->offset + (size_t)r * T->ld + j;
                pad_nonzero += m[1].params[i] != 0.0f || (opt[1].m && opt[1].m[i] != 0.0f);
            }
    }
    CU_ASSERT_EQUAL(pad_nonzero, 0);
    const int L = o->depth;
    for (int t = 0; t < m[0].n_tensors; t++) {
        CU_ASSERT_EQUAL(st[0].ready_calls[t], 3);
        const int fused_weight = t < 2 * L && t % 2 == 0 && expect_fused && hs_gemm_have_kernel();
        CU_ASSERT_EQUAL(st[1].ready_calls[t], fused_weight ? 0 : 3);
    }
    free(x), free(y);
    for (int v = 0; v < 2; v++) hs_model_free(&m[v]), hs_optim_free(&opt[v]);
}

static void test_fused_steps(void) {
    const hs_hnet_kind kinds[3] = {HS_HNET_CNN, HS_HNET_LCN, HS_HNET_FCN};
    const int shapes[2][2] = {{2, 2}, {3, 2}};
    const hs_optim_opts rules[3] = {{.kind = HS_OPT_SGD}, {.kind = HS_OPT_MOMENTUM, .momentum = 0.9},
                                    {.kind = HS_OPT_MOMENTUM, .momentum = 0.5, .nesterov = 1}};
    const double wds[3] = {0, 0.01, 0.003};
    for (int q = 0; q < 3; q++)
        for (int sh = 0; sh < 2; sh++)
            for (int u = 0; u < 3; u++) {
                const hs_hnet_opts o = small_opts(kinds[q], shapes[sh][0], shapes[sh][1]);
                fused_vs_stored(&o, &rules[u], wds[u], MAXB, 11 + (uint64_t)(9 * q + 3 * sh + u), 1);
            }
    /* the SRHM's L = 3 LCN at width 512: its 16.8 MB middle tensor takes din in row order and the
     * step by row tiles, the others the single sweep */
    const hs_hnet_opts big = {.kind = HS_HNET_LCN, .channels = 6, .positions = 64, .filter = 4, .depth = 3,
                              .width = 512, .out_dim = 6, .bias_scale = 0.1, .seed = 5, .max_batch = 24};
    fused_vs_stored(&big, &rules[1], 0.001, 24, 77, 1);
    /* products forced onto cblas: the net declines, and every tensor is stepped by ready */
    const hs_hnet_opts o = small_opts(HS_HNET_CNN, 2, 2);
    hs_gemm_force(1);
    fused_vs_stored(&o, &rules[1], 0.01, MAXB, 5, 0);
    hs_gemm_force(0);
}

int main(void) {
    static const hs_test tests[] = {
        {"gradients vs finite differences: cnn/lcn/fcn x (S, L)", test_gradients},
        {"SRHM L=3 shapes: kernel paths agree with cblas, repeat bit for bit", test_paths_agree},
        {"weight sharing: cnn translation, lcn = cnn iff tied", test_weight_sharing},
        {"tensor tables and parameter counts by hand", test_layout_and_counts},
        {"init: N(0,1) per-layer streams, determinism", test_init},
        {"validation messages", test_validation},
        {"guards, state round trip, sgd steps", test_guards_state_and_steps},
        {"backward_each: every tensor once, when final; steps in it = steps after", test_backward_each},
        {"backward_each with sgd: the net's own steps = steps from stored gradients", test_fused_steps},
        {NULL, NULL},
    };
    return hs_test_main("hnet", tests);
}
