/* test_probes.c - the probes recorded during training: their series in the layout; at every
 * record point the recorded S, D, G (SRHM, a CNN) and D_f, G_f, R_f (square images, an MLP) equal
 * the same quantities recomputed from scratch on the net of that point (whole arrays through the
 * metrics functions, where the probes stream chunks of max_batch rows); turning a probe on changes
 * no training; the plan refuses what the data cannot give, naming the key. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "hsweep/metrics.h"
#include "hsweep/rng.h"
#include "hsweep/train.h"
#include "config_of.h"
#include "testing.h"

static const hs_series *find(const hs_train_result *res, const char *name) {
    for (size_t i = 0; i < res->n_series; i++)
        if (strcmp(res->series[i].spec.name, name) == 0) return &res->series[i];
    return NULL;
}

/* rows [n x in] through net in chunks; node k's features (k < n_hidden: hidden layer k, then the
 * logits) into f[k] [n x w_k]. */
static void features(hs_model *net, const float *x, int n, float **f) {
    for (int i0 = 0; i0 < n; i0 += net->max_batch) {
        int nb = n - i0 < net->max_batch ? n - i0 : net->max_batch;
        const float *logits = hs_model_forward(net, x + (size_t)i0 * net->in_dim, nb, HS_MODE_EVAL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(logits);
        for (int k = 0; k <= net->n_hidden; k++) {
            int w = k < net->n_hidden ? net->hidden_width[k] : net->out_dim;
            const float *src = k < net->n_hidden ? hs_model_hidden(net, k) : logits;
            memcpy(f[k] + (size_t)i0 * w, src, (size_t)nb * w * sizeof *src);
        }
    }
}

static float **alloc_features(const hs_model *net, int n) {
    float **f = calloc((size_t)net->n_hidden + 1, sizeof *f);
    for (int k = 0; k <= net->n_hidden; k++)
        f[k] = malloc((size_t)n * (k < net->n_hidden ? net->hidden_width[k] : net->out_dim) * sizeof **f);
    return f;
}

static void free_features(float **f, int K) {
    for (int k = 0; k < K; k++) free(f[k]);
    free(f);
}

#define CLOSE(got, want) CU_ASSERT(fabs((got) - (want)) <= 1e-9 * fabs(want) + 1e-12)

/* ================================================================ sensitivities */

static const char *srhm_yaml = "base:\n"
    "  seed: 3\n"
    "  data: {kind: srhm, v: 4, n_c: 4, m: 4, s: 2, L: 2, s0: 1, n_train: 64, n_test: 64}\n"
    "  model: {arch: cnn, width: 8}\n"
    "  train: {epochs: 4, batch: 12, lr: 0.05}\n"
    "  record: {every: 2, separation: none, sensitivity: 6}\n";

typedef struct sens_ctx {
    const hs_train_config *c;
    hs_train_result *res;
    hs_rhm *g;
    hs_rhm_probes P;
    int points;
} sens_ctx;

static hs_code check_sens(void *vctx, const hs_record *rec, hs_model *net, const hs_dataset *train, hs_error *err) {
    (void)rec, (void)train, (void)err;
    sens_ctx *x = vctx;
    const size_t t = x->res->n_records - 1;
    const hs_series *sS = find(x->res, "sensitivity_S"), *sD = find(x->res, "sensitivity_D");
    const hs_series *sG = find(x->res, "sensitivity_G");
    const int n = x->P.n, L = 2, K = net->n_hidden + 1, dim = net->in_dim;
    CU_ASSERT_EQUAL_FATAL(K, 3);
    CU_ASSERT_EQUAL(sS->n, t + 1);
    CU_ASSERT_EQUAL(sS->point[t], (long long)t);
    float *in = malloc((size_t)n * dim * sizeof *in), **f0 = alloc_features(net, n), **f1 = alloc_features(net, n);
    hs_rhm_probes_encode(x->g, &x->P, 0, 0, n, 1, in);
    features(net, in, n, f0);
    for (int b = 1; b <= 2 * L; b++) {
        hs_rhm_probes_encode(x->g, &x->P, b, 0, n, 1, in);
        features(net, in, n, f1);
        for (int k = 0; k < K; k++) {
            int w = k < net->n_hidden ? net->hidden_width[k] : net->out_dim;
            double want = hs_sensitivity(f0[k], f1[k], n, w);
            const hs_series *s = b <= L ? sS : sD;
            double got = s->values[t * s->size + (size_t)k * L + (size_t)((b - 1) % L)];
            CLOSE(got, want);
            CU_ASSERT(isfinite(got) && got >= 0);
        }
    }
    /* the Gaussian control: the first 20 reference inputs and their noise */
    const int ng = 20;
    float *gx = malloc((size_t)ng * dim * sizeof *gx), *gn = malloc((size_t)ng * dim * sizeof *gn);
    hs_rhm_probes_encode(x->g, &x->P, 0, 0, ng, 1, gx);
    double sigma = hs_noise_control(gx, ng, dim, x->c->data_seed, gn);
    CU_ASSERT(sigma > 0.5 && sigma < 2); /* two whitened one-hot inputs differ in a few of 64 entries */
    features(net, gx, ng, f0);
    features(net, gn, ng, f1);
    for (int k = 0; k < K; k++) {
        int w = k < net->n_hidden ? net->hidden_width[k] : net->out_dim;
        CLOSE(sG->values[t * sG->size + k], hs_sensitivity(f0[k], f1[k], ng, w));
    }
    free(in), free(gx), free(gn);
    free_features(f0, K), free_features(f1, K);
    x->points++;
    return HS_OK;
}

static void test_sensitivity_probe(void) {
    hs_train_config c;
    config_of(srhm_yaml, &c);
    hs_error err = {0};
    hs_train_layout lay;
    CU_ASSERT_EQUAL_FATAL(hs_train_layout_of(&c, &lay, &err), HS_OK);
    CU_ASSERT_EQUAL(lay.n_records, 3);
    CU_ASSERT_EQUAL_FATAL(lay.n_series, 3);
    CU_ASSERT_STRING_EQUAL(lay.series[0].name, "sensitivity_S");
    CU_ASSERT_STRING_EQUAL(lay.series[0].axes, "node,level");
    CU_ASSERT(lay.series[0].ndim == 2 && lay.series[0].dims[0] == 3 && lay.series[0].dims[1] == 2);
    CU_ASSERT_STRING_EQUAL(lay.series[2].name, "sensitivity_G");
    CU_ASSERT(lay.series[2].ndim == 1 && lay.series[2].dims[0] == 3 && lay.series[2].n_points == 3);
    CU_ASSERT_EQUAL(hs_train_preflight(&c, &err), HS_OK);

    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(hs_data_load(&c.data, &train, &test, &err), HS_OK);
    hs_train_result res = {0};
    sens_ctx x = {.c = &c, .res = &res};
    hs_rhm_opts ro;
    CU_ASSERT_FATAL(hs_data_rules(&c.data, &ro));
    CU_ASSERT_EQUAL_FATAL(hs_rhm_rules(&ro, &x.g, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_rhm_probes_make(x.g, c.data_seed, 6, &x.P, &err), HS_OK);
    CU_ASSERT_EQUAL(x.P.n, 24); /* the control takes the first 20 */
    hs_train_hooks hooks = {.ctx = &x, .on_record = check_sens};
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &train, &test, &hooks, &res, &err), HS_OK);
    CU_ASSERT_EQUAL(x.points, 3);
    /* turning the probe off changes no training: records equal bit for bit but the clock */
    hs_train_result off = {0};
    c.sensitivity = 0;
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &train, &test, NULL, &off, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(off.n_records, res.n_records);
    CU_ASSERT_EQUAL(off.n_series, 0);
    for (size_t t = 0; t < off.n_records; t++)
        for (int i = 0; i < HS_RECORD_FIELDS - 1; i++) {
            double a = hs_record_field(&off.records[t], i), b = hs_record_field(&res.records[t], i);
            CU_ASSERT(a == b || (isnan(a) && isnan(b)));
        }
    hs_train_result_free(&off);
    hs_train_result_free(&res);
    hs_rhm_probes_free(&x.P);
    hs_rhm_free(x.g);
    hs_dataset_free(&train), hs_dataset_free(&test);
    hs_train_config_free(&c);
}

/* ================================================================ stability */

/* Two classes of 8 x 8 one-channel images: a bright bar, horizontal or vertical, at a random row or
 * column, plus noise. */
static void bars(hs_dataset *d, int n, uint64_t seed) {
    enum { S = 8 };
    *d = (hs_dataset){.n = n, .dim = S * S, .classes = 2, .channels = 1, .height = S, .width = S};
    d->x = malloc((size_t)n * S * S * sizeof *d->x);
    d->y = malloc((size_t)n * sizeof *d->y);
    hs_rng r;
    hs_rng_init(&r, seed, 5);
    for (int i = 0; i < n; i++) {
        int pos = 1 + (int)hs_rng_below(&r, S - 2);
        d->y[i] = i % 2;
        for (int p = 0; p < S * S; p++) {
            int on = d->y[i] ? p % S == pos : p / S == pos;
            d->x[(size_t)i * S * S + p] = (float)(on + 0.1 * hs_rng_normal(&r));
        }
    }
}

static const char *img_yaml = "base:\n"
    "  seed: 4\n"
    "  data: {kind: gaussian, classes: 2, dim: 64}\n"
    "  model: {depth: 1, width: 12, norm: none}\n"
    "  train: {epochs: 6, batch: 10, lr: 0.05}\n"
    "  record: {every: 3, separation: none, stability: 15}\n";

typedef struct stab_ctx {
    const hs_train_config *c;
    hs_train_result *res;
    const hs_dataset *test;
    int points;
    double input_R;
} stab_ctx;

static hs_code check_stab(void *vctx, const hs_record *rec, hs_model *net, const hs_dataset *train, hs_error *err) {
    (void)rec, (void)train;
    stab_ctx *x = vctx;
    const size_t t = x->res->n_records - 1;
    const int n = x->c->stability, dim = net->in_dim, K = net->n_hidden + 2;
    const hs_series *sD = find(x->res, "stability_D"), *sG = find(x->res, "stability_G");
    const hs_series *sR = find(x->res, "stability_R"), *sP = find(x->res, "stability_diffeo");
    float *cx = malloc((size_t)n * dim * sizeof *cx), *tx = malloc((size_t)n * dim * sizeof *tx);
    float *ex = malloc((size_t)n * dim * sizeof *ex);
    double T = sqrt(hs_diffeo_t_min(8, 3) * hs_diffeo_t_max(3));
    CU_ASSERT_EQUAL_FATAL(hs_stability_inputs(x->test->x, x->test->n, 1, 8, n, 3, T, x->c->data_seed, cx, tx, ex, err),
                          HS_OK);
    CU_ASSERT_EQUAL(sP->values[t * 2], 3.0);
    CU_ASSERT_EQUAL(sP->values[t * 2 + 1], T);
    float **f0 = alloc_features(net, n), **f1 = alloc_features(net, n), **f2 = alloc_features(net, n);
    features(net, cx, n, f0), features(net, tx, n, f1), features(net, ex, n, f2);
    for (int k = 0; k < K; k++) {
        int w = k == 0 ? dim : k - 1 < net->n_hidden ? net->hidden_width[k - 1] : net->out_dim;
        hs_stability want = k == 0 ? hs_relative_stability(cx, tx, ex, n, w)
                                   : hs_relative_stability(f0[k - 1], f1[k - 1], f2[k - 1], n, w);
        CLOSE(sD->values[t * K + k], want.D);
        CLOSE(sG->values[t * K + k], want.G);
        CLOSE(sR->values[t * K + k], want.R);
        CU_ASSERT(isfinite(want.R) && want.R > 0);
    }
    /* the input: R = mean |tau x - x|^2 / (mean |tau x - x|)^2 >= 1, the same at every point */
    double R0 = sR->values[t * K];
    CU_ASSERT(R0 >= 1.0);
    if (x->points) CU_ASSERT_EQUAL(R0, x->input_R);
    x->input_R = R0;
    free(cx), free(tx), free(ex);
    free_features(f0, K - 1), free_features(f1, K - 1), free_features(f2, K - 1);
    x->points++;
    return HS_OK;
}

static void test_stability_probe(void) {
    hs_train_config c;
    config_of(img_yaml, &c);
    hs_dataset train, test;
    bars(&train, 40, 1), bars(&test, 30, 2);
    hs_train_result res = {0};
    hs_error err = {0};
    stab_ctx x = {.c = &c, .res = &res, .test = &test};
    hs_train_hooks hooks = {.ctx = &x, .on_record = check_stab};
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &train, &test, &hooks, &res, &err), HS_OK);
    CU_ASSERT_EQUAL(x.points, 3);
    const hs_series *sR = find(&res, "stability_R");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sR);
    CU_ASSERT(sR->spec.ndim == 1 && sR->spec.dims[0] == 4); /* input, 2 hidden layers, logits */
    hs_train_result_free(&res);
    /* the same run on non-square images (8 x 8 as 4 x 16) is refused at its start, naming the key */
    train.height = test.height = 4, train.width = test.width = 16;
    CU_ASSERT_EQUAL(hs_train_run(&c, &train, &test, NULL, &res, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "record.stability = 15: the diffeomorphisms deform square images");
    hs_train_result_free(&res);
    hs_dataset_free(&train), hs_dataset_free(&test);
    hs_train_config_free(&c);
}

/* ================================================================ the plan's refusals */

static hs_code preflight_of(const char *yaml, hs_error *err) {
    hs_train_config c;
    config_of(yaml, &c);
    hs_error_clear(err);
    hs_code rc = hs_train_preflight(&c, err);
    hs_train_config_free(&c);
    return rc;
}

static void test_refusals(void) {
    hs_error err;
    CU_ASSERT_EQUAL(preflight_of("base:\n  data: {kind: gaussian}\n  record: {sensitivity: 2}\n", &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "record.sensitivity = 2: the sensitivity probes re-draw the synonyms and positions");
    HS_ASSERT_CONTAINS(err.hint, "data.kind srhm");
    static const char *srhm = "base:\n  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 1, n_train: 64, n_test: 64}\n"
                              "  model: {arch: cnn, width: 8}\n  record: {separation: none, ";
    char y[512];
    snprintf(y, sizeof y, "%sstability: 5}\n", srhm);
    CU_ASSERT_EQUAL(preflight_of(y, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "record.stability = 5: the diffeomorphisms deform square images, and data.kind srhm "
                                "gives 4 x 1 x 16 inputs");
    snprintf(y, sizeof y, "%sdiffeo_c: 4}\n", srhm);
    CU_ASSERT_EQUAL(preflight_of(y, &err), HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "record.diffeo_c = 4 has no effect with record.stability = 0");
    snprintf(y, sizeof y, "%ssensitivity: 2}\n", srhm);
    CU_ASSERT_EQUAL(preflight_of(y, &err), HS_OK);
    CU_ASSERT_EQUAL(preflight_of("base:\n  data: {kind: srhm, v: 4, s: 2, L: 2, n_train: 64, n_test: 64}\n"
                                 "  model: {arch: kernel}\n  record: {sensitivity: 2}\n", &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "record.sensitivity = 2: model.arch kernel is solved in closed form");
    if (access(HS_FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz", R_OK) != 0) {
        fprintf(stderr, "\n  (no Fashion-MNIST: the image refusals are not checked)\n");
        return;
    }
    static const char *fm = "base:\n  data: {kind: fashion_mnist, per_class: 5, n_test: 50}\n"
                            "  model: {depth: 0, width: 8}\n  record: {separation: none, ";
    snprintf(y, sizeof y, "%sstability: 60}\n", fm);
    CU_ASSERT_EQUAL(preflight_of(y, &err), HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "record.stability = 60 but the test set holds 50 images; the denominator needs "
                                    "pairs of them");
    snprintf(y, sizeof y, "%sstability: 20, diffeo_T: 0.1}\n", fm);
    CU_ASSERT_EQUAL(preflight_of(y, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "record.diffeo_T = 0.1 is above T_max");
    HS_ASSERT_CONTAINS(err.hint, "for 32 x 32 images");
    snprintf(y, sizeof y, "%sstability: 20, diffeo_c: 5, diffeo_T: 0.002}\n", fm);
    CU_ASSERT_EQUAL(preflight_of(y, &err), HS_OK);
    snprintf(y, sizeof y, "%ssensitivity: 3}\n", fm);
    CU_ASSERT_EQUAL(preflight_of(y, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "data.kind fashion_mnist has no grammar");
}

int main(void) {
    static const hs_test tests[] = {
        {"S, D, G recorded at every point equal a recomputation on that point's net", test_sensitivity_probe},
        {"D_f, G_f, R_f recorded at every point equal a recomputation; the input's R_f >= 1", test_stability_probe},
        {"the preflight refuses probes the data or the net cannot give, naming the key", test_refusals},
        {NULL, NULL},
    };
    return hs_test_main("probes", tests);
}
