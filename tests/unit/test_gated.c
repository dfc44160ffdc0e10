/* test_gated.c - the gated routing network (hs_model_gated): forward, hidden layer and every
 * tensor's gradient against a double reference with central finite differences on a batch that
 * mixes pathways; its guards; its balanced and orthogonal inits; and the regression test: trained
 * on the toy task from the balanced init b0 = 0.08, the shared layer's singular values reach
 * 4.5635, 3.5486, 2.7543, 2.7543, each mode following the gated ODE of theory.h epoch by epoch.
 * The image tasks are in test_gated_images.c, the balanced init itself in test_balanced.c. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/nn.h"
#include "hsweep/rng.h"
#include "hsweep/theory.h"
#include "modes.h"
#include "testing.h"

/* ================================================================ the gated net: double reference */

#define GM 4    /* modules (module 3 gets no rows in the batch) */
#define GIN 4
#define GH 5
#define GOUT 3
#define GB 7

static const int ROW_I[GB] = {0, 2, 0, 1, 0, 2, 1}, ROW_J[GB] = {1, 0, 1, 1, 0, 2, 0};

/* out [GOUT] and h [GH] of one row on double parameters laid out as the model's. */
static void ref_row(const hs_model *m, const double *P, const float *x, double *out, double *h) {
    const int i = (int)x[GIN], j = (int)x[GIN + 1];
    const double *Win = P + m->tensors[i].offset, *Wh = P + m->tensors[GM].offset,
                 *Wout = P + m->tensors[GM + 1 + j].offset;
    double z[GH];
    for (int a = 0; a < GH; a++) {
        z[a] = 0;
        for (int q = 0; q < GIN; q++) z[a] += Win[a * GIN + q] * x[q];
    }
    for (int a = 0; a < GH; a++) {
        h[a] = 0;
        for (int q = 0; q < GH; q++) h[a] += Wh[a * GH + q] * z[q];
    }
    for (int k = 0; k < GOUT; k++) {
        out[k] = 0;
        for (int q = 0; q < GH; q++) out[k] += Wout[k * GH + q] * h[q];
    }
}

static double ref_loss(const hs_model *m, const double *P, const float *x, const float *t) {
    double loss = 0, out[GOUT], h[GH];
    for (int r = 0; r < GB; r++) {
        ref_row(m, P, x + r * (GIN + 2), out, h);
        for (int k = 0; k < GOUT; k++) loss += (out[k] - t[r * GOUT + k]) * (out[k] - t[r * GOUT + k]);
    }
    return loss / (GB * GOUT);
}

static hs_gated_opts small_gated(void) {
    return (hs_gated_opts){.in_dim = GIN, .hidden = GH, .out_dim = GOUT, .modules = GM, .pathways = 6,
                           .init = HS_INIT_NORMAL, .init_scale = 0.7, .seed = 5, .max_batch = GB};
}

static void mixed_batch(float *x, float *t) {
    hs_rng r;
    hs_rng_init(&r, 8, hs_rng_stream(HS_STREAM_DATA, 1));
    for (int b = 0; b < GB; b++) {
        for (int q = 0; q < GIN; q++) x[b * (GIN + 2) + q] = (float)hs_rng_normal(&r);
        x[b * (GIN + 2) + GIN] = (float)ROW_I[b];
        x[b * (GIN + 2) + GIN + 1] = (float)ROW_J[b];
        for (int k = 0; k < GOUT; k++) t[b * GOUT + k] = (float)hs_rng_normal(&r);
    }
}

/* Shapes and the tensor table; forward and hidden(0) vs the reference; every tensor's gradient
 * vs central differences of the double loss (per tensor: max |analytic - fd| over the larger of
 * the tensor's max |fd| and 1e-2 of the net's); the unused module 3 gets exactly zero. */
static void test_gated_gradients(void) {
    hs_gated_opts o = small_gated();
    hs_model m;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_model_gated(&m, &o, &err), HS_OK);
    CU_ASSERT_EQUAL(m.in_dim, GIN + 2);
    CU_ASSERT_EQUAL(m.out_dim, GOUT);
    CU_ASSERT_EQUAL(m.n_hidden, 1);
    CU_ASSERT_EQUAL(m.hidden_width[0], GH);
    CU_ASSERT_DOUBLE_EQUAL(m.lr_scale, 6.0, 0);
    CU_ASSERT_EQUAL(m.batch_stats, 0);
    CU_ASSERT_EQUAL(m.n_tensors, 2 * GM + 1);
    CU_ASSERT_EQUAL(m.n_params, (size_t)(GM * GH * GIN + GH * GH + GM * GOUT * GH));
    CU_ASSERT_EQUAL(hs_model_state_size(&m), m.n_params);
    size_t off = 0;
    for (int t = 0; t < 2 * GM + 1; t++) {
        const int rows = t <= GM ? GH : GOUT, cols = t < GM ? GIN : GH;
        CU_ASSERT(m.tensors[t].kind == HS_TENSOR_WEIGHT && m.tensors[t].layer == t && m.tensors[t].offset == off);
        CU_ASSERT(m.tensors[t].rows == rows && m.tensors[t].cols == cols);
        off += (size_t)rows * cols;
    }

    float x[GB * (GIN + 2)], t[GB * GOUT];
    mixed_batch(x, t);
    double *P = malloc(m.n_params * sizeof(double));
    for (size_t q = 0; q < m.n_params; q++) P[q] = m.params[q];
    const float *logits = hs_model_forward(&m, x, GB, HS_MODE_TRAIN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(logits);
    const float *hid = hs_model_hidden(&m, 0);
    CU_ASSERT_PTR_NULL(hs_model_hidden(&m, 1));
    double fwd = 0, out[GOUT], h[GH];
    for (int r = 0; r < GB; r++) {
        ref_row(&m, P, x + r * (GIN + 2), out, h);
        for (int k = 0; k < GOUT; k++) fwd = fmax(fwd, fabs(logits[r * GOUT + k] - out[k]) / (1 + fabs(out[k])));
        for (int a = 0; a < GH; a++) fwd = fmax(fwd, fabs(hid[r * GH + a] - h[a]) / (1 + fabs(h[a])));
    }
    CU_ASSERT(fwd < 1e-5);
    const double loss = hs_loss_forward_backward(HS_LOSS_MSE, logits, NULL, t, GB, GOUT, m.dlogits, NULL);
    CU_ASSERT(fabs(loss - ref_loss(&m, P, x, t)) < 1e-5 * loss);
    hs_model_backward(&m, m.dlogits, GB);

    const double eps = 1e-5;
    double *fd = malloc(m.n_params * sizeof(double)), global = 0;
    for (size_t q = 0; q < m.n_params; q++) {
        const double keep = P[q];
        P[q] = keep + eps;
        const double lp = ref_loss(&m, P, x, t);
        P[q] = keep - eps;
        const double lm = ref_loss(&m, P, x, t);
        P[q] = keep;
        fd[q] = (lp - lm) / (2 * eps);
        global = fmax(global, fabs(fd[q]));
    }
    double worst = 0;
    for (int k = 0; k < m.n_tensors; k++) {
        const hs_tensor *tt = &m.tensors[k];
        double tmax = 0, e = 0;
        for (size_t q = tt->offset; q < tt->offset + tt->size; q++) {
            tmax = fmax(tmax, fabs(fd[q]));
            e = fmax(e, fabs(m.grads[q] - fd[q]));
        }
        const int unused = k == GM - 1 || k == 2 * GM; /* Win_3, Wout_3 */
        if (unused) {
            CU_ASSERT_EQUAL(tmax, 0.0);
            for (size_t q = tt->offset; q < tt->offset + tt->size; q++) CU_ASSERT_EQUAL(m.grads[q], 0.0f);
        } else {
            CU_ASSERT(tmax > 1e-3); /* every used tensor has a real gradient to compare */
        }
        worst = fmax(worst, e / fmax(tmax, 1e-2 * global));
    }
    printf("\n  gated gradients vs finite differences: worst relative error %.3g (forward %.3g)\n", worst, fwd);
    CU_ASSERT(worst < 1e-3);

    /* the batch in another row order: the same gradients (the sums do not depend on the order) */
    float x2[GB * (GIN + 2)], t2[GB * GOUT];
    float *g1 = malloc(m.n_params * sizeof(float));
    memcpy(g1, m.grads, m.n_params * sizeof(float));
    for (int r = 0; r < GB; r++) {
        memcpy(x2 + r * (GIN + 2), x + (GB - 1 - r) * (GIN + 2), (GIN + 2) * sizeof(float));
        memcpy(t2 + r * GOUT, t + (GB - 1 - r) * GOUT, GOUT * sizeof(float));
    }
    logits = hs_model_forward(&m, x2, GB, HS_MODE_TRAIN);
    hs_loss_forward_backward(HS_LOSS_MSE, logits, NULL, t2, GB, GOUT, m.dlogits, NULL);
    hs_model_backward(&m, m.dlogits, GB);
    double dg = 0;
    for (size_t q = 0; q < m.n_params; q++) dg = fmax(dg, fabs(m.grads[q] - g1[q]));
    CU_ASSERT(dg < 1e-5 * global);

    /* state round trip */
    float *st = malloc(m.n_params * sizeof(float));
    hs_model_state_get(&m, st);
    CU_ASSERT(memcmp(st, m.params, m.n_params * sizeof(float)) == 0);
    st[0] += 1.0f;
    hs_model_state_set(&m, st);
    CU_ASSERT_EQUAL(m.params[0], st[0]);
    free(st);
    free(g1);
    free(fd);
    free(P);
    hs_model_free(&m);
}

/* Bad rows, bad batches and bad options. */
static void test_gated_guards(void) {
    hs_gated_opts o = small_gated();
    hs_model m;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_model_gated(&m, &o, &err), HS_OK);
    float x[GB * (GIN + 2)], t[GB * GOUT];
    mixed_batch(x, t);
    CU_ASSERT_PTR_NULL(hs_model_forward(&m, x, GB + 1, HS_MODE_TRAIN));
    CU_ASSERT_PTR_NULL(hs_model_forward(&m, x, 0, HS_MODE_TRAIN));
    x[3 * (GIN + 2) + GIN] = (float)GM; /* input module out of range */
    CU_ASSERT_PTR_NULL(hs_model_forward(&m, x, GB, HS_MODE_TRAIN));
    x[3 * (GIN + 2) + GIN] = 1.5f; /* not an integer */
    CU_ASSERT_PTR_NULL(hs_model_forward(&m, x, GB, HS_MODE_TRAIN));
    x[3 * (GIN + 2) + GIN] = 1.0f;
    x[2 * (GIN + 2) + GIN + 1] = -1.0f; /* output module out of range */
    CU_ASSERT_PTR_NULL(hs_model_forward(&m, x, GB, HS_MODE_TRAIN));
    x[2 * (GIN + 2) + GIN + 1] = 1.0f;
    CU_ASSERT_PTR_NOT_NULL(hs_model_forward(&m, x, GB, HS_MODE_EVAL));
    hs_model_backward(&m, m.dlogits, GB - 1); /* not the forward's B */
    CU_ASSERT(isnan(m.grads[0]) && isnan(m.grads[m.n_params - 1]));
    hs_model_free(&m);

    hs_gated_opts bad = small_gated();
    bad.pathways = GM * GM + 1;
    CU_ASSERT_EQUAL(hs_model_gated(&m, &bad, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "pathways");
    bad = small_gated();
    bad.modules = 0;
    CU_ASSERT_EQUAL(hs_model_gated(&m, &bad, &err), HS_ERR_VALUE);
    bad = small_gated();
    bad.init = HS_INIT_BALANCED;
    CU_ASSERT_EQUAL(hs_model_gated(&m, &bad, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "sigma_yx");
    /* rank 3 Sigma_yx through H = 2: the balanced init's error comes through */
    double sigma[GOUT * GIN];
    random_matrix(sigma, GOUT * GIN, 4);
    bad.sigma_yx = sigma;
    bad.hidden = 2;
    CU_ASSERT_EQUAL(hs_model_gated(&m, &bad, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "fewer than the 3 modes");
    hs_model_free(&m); /* safe on the zeroed struct a failure leaves */
}

/* Balanced: every pathway's map Wout_j Wh Win_i = b0^3 U V^T; the orthogonal init gives
 * orthogonal modules with gain init_scale. */
static void test_gated_balanced(void) {
    enum { IN = 5, H = 8, OUT = 4, M = 3, K = 4 };
    double sigma[OUT * IN], U[OUT * K], s[K], Vt[K * IN];
    random_matrix(sigma, OUT * IN, 6);
    svd(sigma, OUT, IN, U, s, Vt);
    hs_gated_opts o = {.in_dim = IN, .hidden = H, .out_dim = OUT, .modules = M, .pathways = 5,
                       .init = HS_INIT_BALANCED, .init_scale = 0.2, .sigma_yx = sigma, .seed = 2, .max_batch = 4};
    hs_model m;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_model_gated(&m, &o, &err), HS_OK);
    const float *Wh = m.params + m.tensors[M].offset;
    double worst = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            double t[H * IN], P[OUT * IN];
            matmul_f(t, Wh, m.params + m.tensors[i].offset, H, H, IN);
            const float *Wo = m.params + m.tensors[M + 1 + j].offset;
            for (int a = 0; a < OUT; a++)
                for (int b = 0; b < IN; b++) {
                    double v = 0;
                    for (int q = 0; q < H; q++) v += (double)Wo[a * H + q] * t[q * IN + b];
                    P[a * IN + b] = v;
                }
            worst = fmax(worst, dist_to_modes(P, U, Vt, OUT, IN, K, K, 0.008));
        }
    CU_ASSERT(worst < 1e-7);
    /* the forward computes that map: row [v_0 | i | j] -> 0.008 u_0 */
    float x[IN + 2];
    for (int q = 0; q < IN; q++) x[q] = (float)Vt[q];
    x[IN] = 2, x[IN + 1] = 1;
    const float *out = hs_model_forward(&m, x, 1, HS_MODE_TRAIN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    for (int a = 0; a < OUT; a++) CU_ASSERT(fabs(out[a] - 0.008 * U[a * K]) < 1e-7);
    hs_model_free(&m);

    o.init = HS_INIT_ORTHOGONAL;
    o.sigma_yx = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_model_gated(&m, &o, &err), HS_OK);
    double sv[H];
    for (int t = 0; t < m.n_tensors; t++) {
        CU_ASSERT_EQUAL_FATAL(svals(m.params + m.tensors[t].offset, m.tensors[t].rows, m.tensors[t].cols, sv), 0);
        const int k = m.tensors[t].rows < m.tensors[t].cols ? m.tensors[t].rows : m.tensors[t].cols;
        for (int a = 0; a < k; a++) CU_ASSERT(fabs(sv[a] - 0.2) < 1e-6);
    }
    /* modules are drawn from their own streams: Win_0 != Win_1 */
    CU_ASSERT(memcmp(m.params + m.tensors[0].offset, m.params + m.tensors[1].offset, H * IN * sizeof(float)) != 0);
    hs_model_free(&m);
}

/* ================================================================ the toy task (regression test) */

enum { TM = 7, TK = 4, TH = 64, TITEMS = 4, TFEAT = 7, TROWS = TM * TK * TITEMS, TEPOCHS = 800 };
static const double TOY_BH[4] = {4.5635, 3.5486, 2.7543, 2.7543};

/* Y [4 items x 7 features]: feature 1 = 6; features 2-3 = (4,4,0,0), (0,0,4,4); 4-7 = 3 I_4. */
static double toy_y(int n, int f) {
    if (f == 0) return 6;
    if (f == 1) return n < 2 ? 4 : 0;
    if (f == 2) return n < 2 ? 0 : 4;
    return f - 3 == n ? 3 : 0;
}

/* Rows [item one-hot | i | j] with targets Y[item]: active pathways (gate "K plus-minus mod",
 * i -> i + d mod M, d in [-floor((K-1)/2), floor(K/2)]) when active, the others otherwise. */
static int toy_rows(float *x, float *t, int active) {
    int r = 0;
    for (int i = 0; i < TM; i++)
        for (int j = 0; j < TM; j++) {
            int on = 0;
            for (int d = -(TK - 1) / 2; d <= TK / 2; d++) on |= (i + d + TM) % TM == j;
            if (on != active) continue;
            for (int n = 0; n < TITEMS; n++, r++) {
                float *row = x + (size_t)r * (TITEMS + 2);
                for (int q = 0; q < TITEMS; q++) row[q] = q == n ? 1.0f : 0.0f;
                row[TITEMS] = (float)i, row[TITEMS + 1] = (float)j;
                for (int f = 0; f < TFEAT; f++) t[(size_t)r * TFEAT + f] = (float)toy_y(n, f);
            }
        }
    return r;
}

/* Mode a's strengths in module 0: b_in = r1^T Win_0 v, b_h = r2^T Wh r1, b_out = u^T Wout_0 r2,
 * with the hidden frames r1 = Win_0(0) v / b0 and r2 = Wout_0(0)^T u / b0 of the balanced init. */
static hs_gated_strength measure(const hs_model *m, const double *r1, const double *r2, const double *U,
                                 const double *Vt, int a) {
    const float *Win = m->params + m->tensors[0].offset, *Wh = m->params + m->tensors[TM].offset,
                *Wout = m->params + m->tensors[TM + 1].offset;
    hs_gated_strength b = {0, 0, 0};
    for (int h = 0; h < TH; h++) {
        double win = 0, wh = 0, wout = 0;
        for (int q = 0; q < TITEMS; q++) win += (double)Win[h * TITEMS + q] * Vt[a * TITEMS + q];
        for (int q = 0; q < TH; q++) wh += (double)Wh[h * TH + q] * r1[a * TH + q];
        for (int f = 0; f < TFEAT; f++) wout += U[f * TITEMS + a] * Wout[f * TH + h];
        b.in += r1[a * TH + h] * win;
        b.h += r2[a * TH + h] * wh;
        b.out += wout * r2[a * TH + h];
    }
    return b;
}

/* Full-batch SGD (p -= lr * lr_scale * g, lr 0.02) on the batch-mean MSE over the 28 active
 * pathways x 4 items, from the balanced init b0 = 0.08 (sigma_yx = Y^T X). Checks: the shared
 * layer's singular values reach the fixed point 4.5635, 3.5486, 2.7543, 2.7543 (1e-2), every
 * other one stays ~0; each mode follows the gated ODE epoch by epoch (Euler with one epoch =
 * hs_gated_epoch_time: the same map, so to float rounding; the RK4 flow: an epoch of lr 0.02 is
 * a coarse step during a transition, so the flow is compared by when each mode reaches half its
 * fixed point, which a wrong time unit would move by a factor); the conserved quantity of the
 * flow, which gradient descent keeps only to O(dt^2) per step; the loss goes to zero on
 * the trained pathways and on the untrained ones too (small init: the rich regime generalises). */
static void test_toy_regression(void) {
    const double lr = 0.02, b0 = 0.08;
    double sigma[TFEAT * TITEMS], U[TFEAT * TITEMS], s[TITEMS], Vt[TITEMS * TITEMS];
    for (int f = 0; f < TFEAT; f++)
        for (int n = 0; n < TITEMS; n++) sigma[f * TITEMS + n] = toy_y(n, f); /* Y^T X, X = I_4 */
    svd(sigma, TFEAT, TITEMS, U, s, Vt);
    float *x = malloc((size_t)TM * TM * TITEMS * (TITEMS + 2) * sizeof(float));
    float *t = malloc((size_t)TM * TM * TITEMS * TFEAT * sizeof(float));
    CU_ASSERT_EQUAL_FATAL(toy_rows(x, t, 1), TROWS);
    hs_gated_opts o = {.in_dim = TITEMS, .hidden = TH, .out_dim = TFEAT, .modules = TM, .pathways = TM * TK,
                       .init = HS_INIT_BALANCED, .init_scale = b0, .sigma_yx = sigma, .seed = 1,
                       .max_batch = TM * TM * TITEMS};
    hs_model m;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_model_gated(&m, &o, &err), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(m.lr_scale, 28.0, 0);

    /* the hidden frames, from the init */
    double r1[TITEMS * TH], r2[TITEMS * TH];
    const float *Win0 = m.params + m.tensors[0].offset, *Wout0 = m.params + m.tensors[TM + 1].offset;
    for (int a = 0; a < TITEMS; a++)
        for (int h = 0; h < TH; h++) {
            double p = 0, q = 0;
            for (int k = 0; k < TITEMS; k++) p += (double)Win0[h * TITEMS + k] * Vt[a * TITEMS + k];
            for (int f = 0; f < TFEAT; f++) q += (double)Wout0[f * TH + h] * U[f * TITEMS + a];
            r1[a * TH + h] = p / b0, r2[a * TH + h] = q / b0;
        }

    /* the ODE per mode at the epoch times */
    const double dt = hs_gated_epoch_time(lr, m.lr_scale, TROWS, TFEAT, TM);
    CU_ASSERT_DOUBLE_EQUAL(dt, lr * TM / 2, 1e-15);
    double *times = malloc((TEPOCHS + 1) * sizeof(double));
    for (int e = 0; e <= TEPOCHS; e++) times[e] = e * dt;
    hs_gated_strength *euler = malloc((size_t)TITEMS * (TEPOCHS + 1) * sizeof(hs_gated_strength));
    hs_gated_strength *rk4 = malloc((size_t)TITEMS * (TEPOCHS + 1) * sizeof(hs_gated_strength));
    const hs_gated_strength start = {b0, b0, b0};
    for (int a = 0; a < TITEMS; a++) {
        CU_ASSERT_EQUAL_FATAL(hs_gated_ode(TM, TK, s[a], start, HS_ODE_EULER, dt, times, TEPOCHS + 1,
                                           euler + a * (TEPOCHS + 1), &err),
                              HS_OK);
        CU_ASSERT_EQUAL_FATAL(hs_gated_ode(TM, TK, s[a], start, HS_ODE_RK4, dt / 10, times, TEPOCHS + 1,
                                           rk4 + a * (TEPOCHS + 1), &err),
                              HS_OK);
    }

    double dev_euler = 0, dev_rk4 = 0, loss = 0;
    int half_net[TITEMS], half_flow[TITEMS]; /* first epoch with b_h above half its fixed point */
    for (int a = 0; a < TITEMS; a++) half_net[a] = half_flow[a] = -1;
    for (int e = 0; e <= TEPOCHS; e++) {
        for (int a = 0; a < TITEMS; a++) {
            const hs_gated_strength b = measure(&m, r1, r2, U, Vt, a), *pe = &euler[a * (TEPOCHS + 1) + e],
                                    *pr = &rk4[a * (TEPOCHS + 1) + e];
            if (half_net[a] < 0 && b.h > 0.5 * TOY_BH[a]) half_net[a] = e;
            if (half_flow[a] < 0 && pr->h > 0.5 * TOY_BH[a]) half_flow[a] = e;
            dev_euler = fmax(dev_euler, fmax(fabs(b.h - pe->h), fmax(fabs(b.in - pe->in), fabs(b.out - pe->out))));
            dev_rk4 = fmax(dev_rk4, fmax(fabs(b.h - pr->h), fmax(fabs(b.in - pr->in), fabs(b.out - pr->out))));
            if (e == 0) CU_ASSERT(fabs(b.h - b0) < 1e-6 && fabs(b.in - b0) < 1e-6 && fabs(b.out - b0) < 1e-6);
            if (e == TEPOCHS) {
                const double cons = b.h * b.h - TM * b.in * b.in, ode = pe->h * pe->h - TM * pe->in * pe->in;
                printf("%s  mode %d: b_h = %.5f (Euler ODE %.5f, flow %.5f); b_h^2 - M b_in^2 = %.5f (Euler ODE "
                       "%.5f, flow -(M-1) b0^2 = %.5f)\n",
                       a ? "" : "\n", a, b.h, pe->h, pr->h, cons, ode, -(TM - 1) * b0 * b0);
                CU_ASSERT(fabs(cons - ode) < 1e-3);
                CU_ASSERT(fabs(cons + (TM - 1) * b0 * b0) < 0.015); /* GD drifts off the flow's invariant */
            }
        }
        if (e == TEPOCHS) break;
        const float *logits = hs_model_forward(&m, x, TROWS, HS_MODE_TRAIN);
        CU_ASSERT_PTR_NOT_NULL_FATAL(logits);
        loss = hs_loss_forward_backward(HS_LOSS_MSE, logits, NULL, t, TROWS, TFEAT, m.dlogits, NULL);
        hs_model_backward(&m, m.dlogits, TROWS);
        const float step = (float)(lr * m.lr_scale);
        for (size_t q = 0; q < m.n_params; q++) m.params[q] -= step * m.grads[q];
    }
    printf("  per-mode trajectory over %d epochs: max |net - Euler ODE| = %.3g, max |net - RK4 flow| = %.3g\n",
           TEPOCHS, dev_euler, dev_rk4);
    CU_ASSERT(dev_euler < 1e-3);
    for (int a = 0; a < TITEMS; a++) {
        printf("  mode %d: b_h reaches half its fixed point at epoch %d (net) and %.0f (flow)\n", a, half_net[a],
               (double)half_flow[a]);
        CU_ASSERT(half_net[a] > 0 && abs(half_net[a] - half_flow[a]) <= 1 + half_flow[a] / 10);
    }

    double sv[TH];
    CU_ASSERT_EQUAL_FATAL(svals(m.params + m.tensors[TM].offset, TH, TH, sv), 0);
    printf("  Wh singular values: %.5f %.5f %.5f %.5f (next %.2g); final loss %.3g\n", sv[0], sv[1], sv[2], sv[3],
           sv[4], loss);
    for (int a = 0; a < 4; a++) CU_ASSERT(fabs(sv[a] - TOY_BH[a]) < 1e-2);
    CU_ASSERT(sv[4] < 1e-4);
    CU_ASSERT(loss < 1e-6);

    /* zero-shot: the 21 untrained pathways fit too */
    const int n_test = toy_rows(x, t, 0);
    CU_ASSERT_EQUAL(n_test, TM * (TM - TK) * TITEMS);
    const float *logits = hs_model_forward(&m, x, n_test, HS_MODE_EVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(logits);
    CU_ASSERT(hs_loss_forward_backward(HS_LOSS_MSE, logits, NULL, t, n_test, TFEAT, NULL, NULL) < 1e-6);

    free(rk4);
    free(euler);
    free(times);
    free(t);
    free(x);
    hs_model_free(&m);
}

int main(void) {
    const hs_test tests[] = {{"gated net: forward and gradients on mixed pathways", test_gated_gradients},
                             {"gated net: guards", test_gated_guards},
                             {"gated net: balanced and orthogonal inits", test_gated_balanced},
                             {"gated net: toy task regression (fixed point, ODE)", test_toy_regression},
                             {NULL, NULL}};
    return hs_test_main("gated", tests);
}
