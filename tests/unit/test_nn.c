/* test_nn.c - the network engine against a double-precision reference written here: forward
 * values, gradients by central finite differences (every parameter of small nets, in every
 * combination of BatchNorm, activation, bias and loss), BatchNorm running statistics against
 * torch.nn.BatchNorm1d, losses and activations against hand-computed values. The initialisations and
 * the MLP's structure and state are in test_nn_init.c. */
#include <math.h>
#include <stdlib.h>

#include "hsweep/nn.h"
#include "hsweep/rng.h"
#include "nn_helpers.h"
#include "testing.h"

/* ================================================================ double-precision reference */

#define MAXW 8
#define MAXL 4

/* Activations of one reference forward: out[l] is the output of hidden block l, out[n_hidden]
 * the logits; each [B x dims[l + 1]]. */
typedef struct ref_acts {
    double out[MAXL + 1][MAXB * MAXW];
} ref_acts;

static double act_d(double v, hs_act act) {
    return act == HS_ACT_RELU ? (v > 0 ? v : 0) : act == HS_ACT_TANH ? tanh(v) : v;
}

/* The net m describes (shapes, options, tensor offsets) evaluated on the parameters P (double,
 * same layout as m->params) in batch-statistics form. Returns the loss of logits vs y / targets. */
static double ref_forward(const hs_mlp *m, const double *P, const double *x, const int32_t *y, const double *targets,
                          int B, hs_loss loss, ref_acts *a) {
    const double *in = x;
    for (int l = 0; l < m->n_dense; l++) {
        const int n_in = m->dims[l], n_out = m->dims[l + 1];
        const double *W = P + (m->W[l] - m->params), *b = m->b[l] ? P + (m->b[l] - m->params) : NULL;
        double *z = a->out[l];
        for (int r = 0; r < B; r++)
            for (int j = 0; j < n_out; j++) {
                double s = b ? b[j] : 0;
                for (int k = 0; k < n_in; k++) s += in[r * n_in + k] * W[j * n_in + k];
                z[r * n_out + j] = s;
            }
        if (l == m->o.n_hidden) break;
        if (m->o.norm == HS_NORM_BATCH) {
            const double *g = P + (m->gamma[l] - m->params), *bt = P + (m->beta[l] - m->params);
            for (int j = 0; j < n_out; j++) {
                double mean = 0, var = 0;
                for (int r = 0; r < B; r++) mean += z[r * n_out + j] / B;
                for (int r = 0; r < B; r++) var += (z[r * n_out + j] - mean) * (z[r * n_out + j] - mean) / B;
                for (int r = 0; r < B; r++)
                    z[r * n_out + j] = g[j] * (z[r * n_out + j] - mean) / sqrt(var + m->o.bn_eps) + bt[j];
            }
        }
        for (int i = 0; i < B * n_out; i++) z[i] = act_d(z[i], m->o.act);
        in = z;
    }
    const int K = m->o.out_dim;
    const double *lg = a->out[m->o.n_hidden];
    double total = 0;
    for (int r = 0; r < B; r++) {
        if (loss == HS_LOSS_CE) {
            double mx = lg[r * K], s = 0;
            for (int k = 1; k < K; k++) mx = fmax(mx, lg[r * K + k]);
            for (int k = 0; k < K; k++) s += exp(lg[r * K + k] - mx);
            total += (mx + log(s) - lg[r * K + y[r]]) / B;
        } else {
            for (int k = 0; k < K; k++) {
                double t = targets ? targets[r * K + k] : (double)(k == y[r]);
                total += (lg[r * K + k] - t) * (lg[r * K + k] - t) / (B * K);
            }
        }
    }
    return total;
}
/* ================================================================ helpers */

static double max_abs_diff_fd(const float *a, const double *b, size_t n) {
    double e = 0;
    for (size_t i = 0; i < n; i++) e = fmax(e, fabs((double)a[i] - b[i]));
    return e;
}

/* ================================================================ gradients vs finite differences */

#define GRAD_TOL 1e-3

/* Forward value vs the reference, and every parameter's analytic gradient vs a central
 * difference of the reference loss. Per tensor the error is max |analytic - fd| over the larger
 * of that tensor's max |fd| and 1e-2 of the whole net's (a bias followed by BatchNorm has a true
 * gradient of 0, which float roundoff alone cannot match relatively). Returns the worst error. */
static double check_grads(hs_mlp *m, hs_mode mode, hs_loss loss, int real_targets, const char *label) {
    const int B = 6, D = m->o.in_dim, K = m->o.out_dim;
    float x[MAXB * 8], targets[MAXB * MAXW];
    int32_t y[MAXB];
    random_batch(x, y, targets, B, D, K, 5);
    double xd[MAXB * 8], td[MAXB * MAXW];
    for (int i = 0; i < B * D; i++) xd[i] = x[i];
    for (int i = 0; i < B * K; i++) td[i] = targets[i];

    const float *logits = hs_mlp_forward(m, x, B, mode);
    CU_ASSERT_PTR_NOT_NULL_FATAL(logits);
    double lf = hs_loss_forward_backward(loss, logits, y, real_targets ? targets : NULL, B, K, m->dlogits, NULL);
    hs_mlp_backward(m, m->dlogits, B);

    const size_t n = m->n_params;
    double *P = malloc(n * sizeof(double)), *fd = malloc(n * sizeof(double));
    ref_acts *a = malloc(sizeof *a);
    CU_ASSERT_FATAL(P && fd && a);
    for (size_t i = 0; i < n; i++) P[i] = m->params[i];
    const double *tp = real_targets ? td : NULL;
    double l0 = ref_forward(m, P, xd, y, tp, B, loss, a);
    double fwd_err = 0;
    for (int i = 0; i < B * K; i++) fwd_err = fmax(fwd_err, fabs(logits[i] - a->out[m->o.n_hidden][i]) / (1 + fabs(a->out[m->o.n_hidden][i])));
    for (int l = 0; l < m->o.n_hidden; l++) /* hidden blocks as exposed by hs_mlp_hidden */
        fwd_err = fmax(fwd_err, max_abs_diff_fd(hs_mlp_hidden(m, l), a->out[l], (size_t)B * m->dims[l + 1]));
    if (fwd_err > 1e-5 || fabs(lf - l0) > 1e-5 * (1 + fabs(l0)))
        fprintf(stderr, "\n  %s: forward error %.3g, loss %.9g vs reference %.9g\n", label, fwd_err, lf, l0);
    CU_ASSERT(fwd_err <= 1e-5);
    CU_ASSERT(fabs(lf - l0) <= 1e-5 * (1 + fabs(l0)));

    const double h = 1e-6;
    double gmax = 0;
    for (size_t i = 0; i < n; i++) {
        const double p = P[i];
        P[i] = p + h;
        double lp = ref_forward(m, P, xd, y, tp, B, loss, a);
        P[i] = p - h;
        double lm = ref_forward(m, P, xd, y, tp, B, loss, a);
        P[i] = p;
        fd[i] = (lp - lm) / (2 * h);
        gmax = fmax(gmax, fabs(fd[i]));
    }
    double worst = 0;
    for (int t = 0; t < m->n_tensors; t++) {
        const hs_tensor *T = &m->tensors[t];
        double scale = 1e-2 * gmax;
        for (size_t i = 0; i < T->size; i++) scale = fmax(scale, fabs(fd[T->offset + i]));
        double e = max_abs_diff_fd(m->grads + T->offset, fd + T->offset, T->size) / scale;
        if (e > GRAD_TOL || getenv("HS_TEST_VERBOSE"))
            fprintf(stderr, "\n  %s: tensor %d (kind %d, layer %d): relative gradient error %.3g\n", label, t,
                    (int)T->kind, T->layer, e);
        worst = fmax(worst, e);
    }
    CU_ASSERT(gmax > 1e-3); /* the check is not vacuous */
    CU_ASSERT(worst <= GRAD_TOL);
    free(P), free(fd), free(a);
    return worst;
}

static void test_gradients_all_combinations(void) {
    static const int widths[2] = {4, 3};
    const hs_norm norms[2] = {HS_NORM_BATCH, HS_NORM_NONE};
    const hs_act acts[3] = {HS_ACT_RELU, HS_ACT_TANH, HS_ACT_IDENTITY};
    const char *act_names[3] = {"relu", "tanh", "identity"};
    int n_checked = 0;
    double worst = 0;
    for (int ni = 0; ni < 2; ni++)
        for (int ai = 0; ai < 3; ai++)
            for (int bias = 0; bias < 2; bias++)
                for (int li = 0; li < 3; li++) {
                    hs_mlp_opts o = small_opts(2, widths, norms[ni], acts[ai], bias);
                    hs_mlp m;
                    CU_ASSERT_EQUAL_FATAL(hs_mlp_init(&m, &o, NULL), HS_OK);
                    randomise_params(&m, 100 + (uint64_t)n_checked);
                    char label[96];
                    snprintf(label, sizeof label, "%s %s bias=%d %s", ni ? "no-bn" : "bn", act_names[ai], bias,
                             li == 0 ? "ce" : li == 1 ? "mse one-hot" : "mse targets");
                    worst = fmax(worst, check_grads(&m, HS_MODE_TRAIN, li == 0 ? HS_LOSS_CE : HS_LOSS_MSE, li == 2,
                                                    label));
                    hs_mlp_free(&m);
                    n_checked++;
                }
    CU_ASSERT_EQUAL(n_checked, 36);
    printf("(worst relative gradient error %.2g) ", worst);
}

static void test_gradients_batch_mode_and_shapes(void) {
    /* BATCH mode trains like TRAIN; a net with no hidden layer; a deeper, wider-than-input net */
    static const int w1[3] = {7, 6, 8};
    hs_mlp m;
    hs_mlp_opts o = small_opts(3, w1, HS_NORM_BATCH, HS_ACT_TANH, 1);
    CU_ASSERT_EQUAL_FATAL(hs_mlp_init(&m, &o, NULL), HS_OK);
    randomise_params(&m, 7);
    check_grads(&m, HS_MODE_BATCH, HS_LOSS_CE, 0, "bn tanh 5-7-6-8-3 batch mode");
    hs_mlp_free(&m);
    o = small_opts(0, NULL, HS_NORM_BATCH, HS_ACT_RELU, 1);
    CU_ASSERT_EQUAL_FATAL(hs_mlp_init(&m, &o, NULL), HS_OK);
    randomise_params(&m, 8);
    CU_ASSERT_EQUAL(m.n_tensors, 2);
    check_grads(&m, HS_MODE_TRAIN, HS_LOSS_CE, 0, "softmax regression");
    hs_mlp_free(&m);
}

/* din of the dense layer (the MLP never needs the first layer's): a linear loss sum(c * out) has
 * dout = c, so din = c W, dW = c^T in and db = column sums of c exactly. */
static void test_dense_backward(void) {
    enum { B = 3, NI = 4, NO = 5 };
    float in[B * NI], W[NO * NI], b[NO], c[B * NO], out[B * NO], din[B * NI], dW[NO * NI], db[NO];
    hs_rng r;
    hs_rng_init(&r, 3, 0);
    for (int i = 0; i < B * NI; i++) in[i] = (float)hs_rng_normal(&r);
    for (int i = 0; i < NO * NI; i++) W[i] = (float)hs_rng_normal(&r);
    for (int i = 0; i < NO; i++) b[i] = (float)hs_rng_normal(&r);
    for (int i = 0; i < B * NO; i++) c[i] = (float)hs_rng_normal(&r);
    hs_dense_forward(out, in, W, b, B, NI, NO);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < NO; j++) {
            double s = b[j];
            for (int k = 0; k < NI; k++) s += (double)in[i * NI + k] * W[j * NI + k];
            CU_ASSERT_DOUBLE_EQUAL(out[i * NO + j], s, 1e-5);
        }
    hs_dense_backward(din, dW, db, c, in, W, B, NI, NO);
    for (int i = 0; i < B; i++)
        for (int k = 0; k < NI; k++) {
            double s = 0;
            for (int j = 0; j < NO; j++) s += (double)c[i * NO + j] * W[j * NI + k];
            CU_ASSERT_DOUBLE_EQUAL(din[i * NI + k], s, 1e-5);
        }
    for (int j = 0; j < NO; j++) {
        double sb = 0;
        for (int i = 0; i < B; i++) sb += c[i * NO + j];
        CU_ASSERT_DOUBLE_EQUAL(db[j], sb, 1e-5);
        for (int k = 0; k < NI; k++) {
            double s = 0;
            for (int i = 0; i < B; i++) s += (double)c[i * NO + j] * in[i * NI + k];
            CU_ASSERT_DOUBLE_EQUAL(dW[j * NI + k], s, 1e-5);
        }
    }
    /* no bias: out = in W^T only */
    hs_dense_forward(out, in, W, NULL, B, NI, NO);
    double s = 0;
    for (int k = 0; k < NI; k++) s += (double)in[k] * W[k];
    CU_ASSERT_DOUBLE_EQUAL(out[0], s, 1e-5);
}

/* ================================================================ BatchNorm statistics */

/* Values from torch 1.13:
 *   x1 = [[1,-2,.5],[3,0,.25],[-1,4,.75],[2,1,1.5]];  x2 = [[.5,1,-3],[1.5,-1,2],[2.5,2,0],[-.5,0,1]]
 *   bn = torch.nn.BatchNorm1d(3, eps=1e-5, momentum=0.1); weight [1.5,.5,-1], bias [.1,-.2,.3]
 *   bn.train(); bn(x1); y2 = bn(x2)  -> running_mean, running_var, y2;  bn.eval(); bn(x1) */
static void test_bn_running_stats_vs_torch(void) {
    const float x1[12] = {1, -2, .5f, 3, 0, .25f, -1, 4, .75f, 2, 1, 1.5f};
    const float x2[12] = {.5f, 1, -3, 1.5f, -1, 2, 2.5f, 2, 0, -.5f, 0, 1};
    const float gamma[3] = {1.5f, .5f, -1}, beta[3] = {.1f, -.2f, .3f};
    const float want_mean[3] = {0.212500006f, 0.117500007f, 0.0675000027f};
    const float want_var[3] = {1.2391665f, 1.53916657f, 1.30291665f};
    const float want_y2[12] = {-0.570817709f, 0.0236058831f, 1.90356517f,  0.770817757f,
                               -0.870817721f, -0.769043386f, 2.11245322f,  0.470817685f,
                               0.300000012f,  -1.91245317f,  -0.423605919f, -0.234521687f};
    const float want_eval[12] = {1.16114616f,  -1.05339324f, -0.0789012909f, 3.85612059f,
                                 -0.247354761f, 0.140116811f, -1.53382826f,  1.36472225f,
                                 -0.297919393f, 2.50863338f,  0.155664489f,  -0.954973698f};
    float rm[3] = {0, 0, 0}, rv[3] = {1, 1, 1}, out[12], xhat[12], rstd[3];
    hs_bn_forward_train(out, xhat, rstd, x1, gamma, beta, rm, rv, 4, 3, 1e-5f, 0.1f);
    hs_bn_forward_train(out, xhat, rstd, x2, gamma, beta, rm, rv, 4, 3, 1e-5f, 0.1f);
    for (int j = 0; j < 3; j++) {
        CU_ASSERT_DOUBLE_EQUAL(rm[j], want_mean[j], 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(rv[j], want_var[j], 1e-6);
    }
    for (int i = 0; i < 12; i++) CU_ASSERT_DOUBLE_EQUAL(out[i], want_y2[i], 1e-5);
    /* xhat has zero mean and unit (biased) variance up to eps */
    for (int j = 0; j < 3; j++) {
        double s = 0, s2 = 0;
        for (int r = 0; r < 4; r++) s += xhat[r * 3 + j], s2 += xhat[r * 3 + j] * xhat[r * 3 + j];
        CU_ASSERT_DOUBLE_EQUAL(s, 0, 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(s2 / 4, 1, 1e-4);
    }
    hs_bn_forward_eval(out, x1, gamma, beta, rm, rv, 4, 3, 1e-5f);
    for (int i = 0; i < 12; i++) CU_ASSERT_DOUBLE_EQUAL(out[i], want_eval[i], 1e-5);
    /* no running update when the pointers are NULL */
    hs_bn_forward_train(out, xhat, rstd, x1, gamma, beta, NULL, NULL, 4, 3, 1e-5f, 0.1f);
    for (int j = 0; j < 3; j++) CU_ASSERT_DOUBLE_EQUAL(rm[j], want_mean[j], 1e-6);
}

/* More features than one statistics chunk: each feature's batch is checked by hand. */
static void test_bn_wide(void) {
    enum { B = 3, C = 600 };
    float *x = malloc(sizeof(float) * B * C * 3), *out = x + B * C, *xhat = out + B * C;
    float g[C], bt[C], rs[C], rm[C], rv[C];
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    for (int j = 0; j < C; j++) {
        g[j] = 1.0f + 0.001f * j, bt[j] = -0.5f + 0.002f * j, rm[j] = 0.f, rv[j] = 1.f;
        for (int r = 0; r < B; r++) x[r * C + j] = (float)(j % 7) + (float)(r * r) * (1.0f + 0.01f * j);
    }
    hs_bn_forward_train(out, xhat, rs, x, g, bt, rm, rv, B, C, 1e-5f, 0.25f);
    int bad = 0;
    for (int j = 0; j < C; j++) {
        const double a = 1.0 + 0.01 * j, mean = (j % 7) + 5 * a / 3;
        const double var = (pow(0 - 5 / 3.0, 2) + pow(1 - 5 / 3.0, 2) + pow(4 - 5 / 3.0, 2)) * a * a / 3;
        bad += fabs(rm[j] - 0.25 * mean) > 1e-5 * (1 + mean);
        bad += fabs(rv[j] - (0.75 + 0.25 * var * 1.5)) > 1e-5 * (1 + var);
        for (int r = 0; r < B; r++) {
            double want = g[j] * ((j % 7) + r * r * a - mean) / sqrt(var + 1e-5) + bt[j];
            bad += fabs(out[r * C + j] - want) > 1e-5 * (1 + fabs(want));
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(x);
}

/* |mean| >> std (a pre-BN bias of 1000): the statistics must not cancel away the variance. */
static void test_bn_large_mean(void) {
    enum { B = 64, C = 3 };
    float x[B * C], out[B * C], xhat[B * C], rs[C];
    const float g[C] = {1, 1, 1}, bt[C] = {0, 0, 0};
    hs_rng r;
    hs_rng_init(&r, 4, 0);
    for (int i = 0; i < B * C; i++) x[i] = 1000.0f + (float)(0.01 * (1 + i % C) * hs_rng_normal(&r));
    hs_bn_forward_train(out, xhat, rs, x, g, bt, NULL, NULL, B, C, 0.0f, 0.1f);
    for (int j = 0; j < C; j++) {
        double mean = 0, var = 0;
        for (int k = 0; k < B; k++) mean += x[k * C + j] / (double)B;
        for (int k = 0; k < B; k++) var += pow(x[k * C + j] - mean, 2) / B;
        CU_ASSERT(fabs(rs[j] * sqrt(var) - 1) < 1e-3);
    }
}

/* A net whose running statistics equal one batch's statistics (biased variance) gives the same
 * output in EVAL as in batch-statistics form on that batch: set layer by layer from z. Also the
 * MLP updates running stats in TRAIN only. */
static void test_eval_uses_running_stats(void) {
    static const int widths[2] = {4, 3};
    enum { B = 6 };
    hs_mlp_opts o = small_opts(2, widths, HS_NORM_BATCH, HS_ACT_TANH, 1);
    hs_mlp m;
    CU_ASSERT_EQUAL_FATAL(hs_mlp_init(&m, &o, NULL), HS_OK);
    randomise_params(&m, 3);
    float x[B * 5], targets[B * 3], batch_logits[B * 3];
    int32_t y[B];
    random_batch(x, y, targets, B, 5, 3, 9);
    CU_ASSERT_EQUAL(hs_mlp_state_size(&m), m.n_params + 2 * 7);
    float *state = malloc(hs_mlp_state_size(&m) * sizeof(float));
    CU_ASSERT_PTR_NOT_NULL_FATAL(state);
    hs_mlp_state_get(&m, state);

    const float *lg = hs_mlp_forward(&m, x, B, HS_MODE_BATCH);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lg);
    memcpy(batch_logits, lg, sizeof batch_logits);
    for (int l = 0; l < 2; l++) /* BATCH leaves the running statistics at mean 0, var 1 */
        for (int j = 0; j < widths[l]; j++) CU_ASSERT(m.run_mean[l][j] == 0.0f && m.run_var[l][j] == 1.0f);

    /* running stats := the batch's mean and biased variance of each z */
    float *s = state + m.n_params;
    for (int l = 0, k = 0; l < 2; l++)
        for (int j = 0; j < widths[l]; j++, k++) {
            double mean = 0, var = 0;
            for (int r = 0; r < B; r++) mean += m.z[l][r * widths[l] + j] / (double)B;
            for (int r = 0; r < B; r++) var += pow(m.z[l][r * widths[l] + j] - mean, 2) / B;
            s[k] = (float)mean, s[7 + k] = (float)var;
        }
    hs_mlp_state_set(&m, state);
    lg = hs_mlp_forward(&m, x, B, HS_MODE_EVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lg);
    for (int i = 0; i < B * 3; i++) CU_ASSERT_DOUBLE_EQUAL(lg[i], batch_logits[i], 2e-5);
    /* one-row evaluation works and equals the first row of the batch */
    lg = hs_mlp_forward(&m, x, 1, HS_MODE_EVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lg);
    for (int k = 0; k < 3; k++) CU_ASSERT_DOUBLE_EQUAL(lg[k], batch_logits[k], 2e-5);

    /* TRAIN updates: run_mean = 0.9 * old + 0.1 * batch mean of z */
    float old = m.run_mean[0][1];
    hs_mlp_forward(&m, x, B, HS_MODE_TRAIN);
    double mean = 0;
    for (int r = 0; r < B; r++) mean += m.z[0][r * 4 + 1] / (double)B;
    CU_ASSERT_DOUBLE_EQUAL(m.run_mean[0][1], 0.9 * old + 0.1 * mean, 1e-6);
    free(state);
    hs_mlp_free(&m);
}

/* ================================================================ losses */

static void test_losses_by_hand(void) {
    const float lg[6] = {1, 2, 3, 1000, 0, -1000};
    const int32_t y[2] = {2, 1};
    float d[6];
    int correct = -1;
    double l = hs_loss_forward_backward(HS_LOSS_CE, lg, y, NULL, 1, 3, d, &correct);
    CU_ASSERT_DOUBLE_EQUAL(l, 0.40760596444437, 1e-12); /* log(e + e^2 + e^3) - 3 */
    CU_ASSERT_EQUAL(correct, 1);
    const double sm[3] = {0.09003057317038046, 0.24472847105479767, 0.6652409557748219};
    for (int k = 0; k < 3; k++) CU_ASSERT_DOUBLE_EQUAL(d[k], sm[k] - (k == 2), 1e-7);
    /* large logits do not overflow; the loss is the batch mean */
    l = hs_loss_forward_backward(HS_LOSS_CE, lg, y, NULL, 2, 3, d, &correct);
    CU_ASSERT_DOUBLE_EQUAL(l, (0.40760596444437 + 1000) / 2, 1e-9);
    CU_ASSERT_EQUAL(correct, 1);
    for (int k = 0; k < 3; k++) CU_ASSERT_DOUBLE_EQUAL(d[k], (sm[k] - (k == 2)) / 2, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(d[3], 0.5, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(d[4], -0.5, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(d[5], 0.0, 1e-7);
    /* ties go to the first maximum; dlogits may be NULL */
    const float tie[6] = {2, 5, 5, 7, 7, 7};
    const int32_t yt[2] = {1, 0}, yt2[2] = {2, 1};
    hs_loss_forward_backward(HS_LOSS_CE, tie, yt, NULL, 2, 3, NULL, &correct);
    CU_ASSERT_EQUAL(correct, 2);
    l = hs_loss_forward_backward(HS_LOSS_CE, tie, yt2, NULL, 2, 3, NULL, &correct);
    CU_ASSERT_EQUAL(correct, 0);
    CU_ASSERT_DOUBLE_EQUAL(l, (log(exp(-3.0) + 2) + log(3.0)) / 2, 1e-12);
    /* MSE: mean over B*K, one-hot or real targets */
    const float m2[4] = {1, 2, 0, -1};
    const int32_t ym[2] = {1, 0};
    const float t[4] = {0.5f, 0.5f, 0, 0};
    l = hs_loss_forward_backward(HS_LOSS_MSE, m2, ym, NULL, 2, 2, d, &correct);
    CU_ASSERT_DOUBLE_EQUAL(l, 1.0, 1e-12); /* diffs 1, 1, -1, -1 */
    CU_ASSERT_EQUAL(correct, 2);
    const float dm[4] = {0.5f, 0.5f, -0.5f, -0.5f};
    for (int k = 0; k < 4; k++) CU_ASSERT_DOUBLE_EQUAL(d[k], dm[k], 1e-7);
    l = hs_loss_forward_backward(HS_LOSS_MSE, m2, NULL, t, 2, 2, d, NULL);
    CU_ASSERT_DOUBLE_EQUAL(l, 0.875, 1e-12); /* (0.25 + 2.25 + 0 + 1) / 4 */
    CU_ASSERT_DOUBLE_EQUAL(d[1], 0.75, 1e-7);
    /* a label out of range is NaN, not a read out of bounds */
    const int32_t bad[1] = {3};
    CU_ASSERT(isnan(hs_loss_forward_backward(HS_LOSS_CE, lg, bad, NULL, 1, 3, d, NULL)));
}

static void test_activations(void) {
    const float in[4] = {-2, -0.f, 0.5f, 3};
    float out[4], d[4];
    const float dout[4] = {1, 2, 3, 4};
    hs_act_forward(out, in, 4, HS_ACT_RELU);
    CU_ASSERT(out[0] == 0 && out[1] == 0 && out[2] == 0.5f && out[3] == 3);
    hs_act_backward(d, dout, out, 4, HS_ACT_RELU);
    CU_ASSERT(d[0] == 0 && d[1] == 0 && d[2] == 3 && d[3] == 4);
    hs_act_forward(out, in, 4, HS_ACT_TANH);
    CU_ASSERT_DOUBLE_EQUAL(out[3], tanh(3.0), 1e-7);
    hs_act_backward(d, dout, out, 4, HS_ACT_TANH);
    CU_ASSERT_DOUBLE_EQUAL(d[2], 3 * (1 - tanh(0.5) * tanh(0.5)), 1e-6);
    memcpy(out, in, sizeof out);
    hs_act_forward(out, out, 4, HS_ACT_IDENTITY);
    CU_ASSERT(out[0] == -2 && out[3] == 3);
}

int main(void) {
    static const hs_test tests[] = {
        {"gradients vs finite differences: bn x act x bias x loss", test_gradients_all_combinations},
        {"gradients: batch mode, deeper net, softmax regression", test_gradients_batch_mode_and_shapes},
        {"dense backward incl. din", test_dense_backward},
        {"batchnorm running statistics vs torch", test_bn_running_stats_vs_torch},
        {"batchnorm wider than a statistics chunk", test_bn_wide},
        {"batchnorm with |mean| >> std", test_bn_large_mean},
        {"eval forward uses running statistics", test_eval_uses_running_stats},
        {"losses by hand", test_losses_by_hand},
        {"activations", test_activations},
        {NULL, NULL},
    };
    return hs_test_main("nn", tests);
}
