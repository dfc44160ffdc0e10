/* test_train.c - one training end to end: config mapping, determinism, divergence, stopping,
 * the BatchNorm batch-of-one guard, learning a separable problem, and the real-data check
 * (cfm, 1000 samples: 100% training accuracy and > 70% on the full test split). */
#include <math.h>
#include <stdlib.h>

#include "hsweep/plan.h"
#include "hsweep/rng.h"
#include "hsweep/spec.h"
#include "hsweep/train.h"
#include "config_of.h"
#include "blobs.h"
#include "testing.h"

/* ================================================================ helpers */

/* K Gaussian blobs in p dims, n_per rows each, class k shifted by 3.0 along axis k % p. */
static void blobs(hs_dataset *d, int K, int p, int n_per, uint64_t seed) { test_blobs(d, K, p, n_per, seed, 3.0); }

/* Captures the final parameters through the record hook. */
typedef struct capture {
    float *state;
    size_t size;
    int records;
    long long stop_after_steps;
    long long *steps;
} capture;

static hs_code keep_state(void *ctx, const hs_record *rec, hs_model *net, const hs_dataset *train, hs_error *err) {
    (void)rec, (void)train, (void)err;
    capture *cap = ctx;
    cap->records++;
    free(cap->state);
    cap->size = hs_model_state_size(net);
    cap->state = malloc(cap->size * sizeof *cap->state);
    if (!cap->state) return HS_ERR_NOMEM;
    hs_model_state_get(net, cap->state);
    return HS_OK;
}

static const char *tiny_yaml = "base:\n"
                               "  seed: 5\n"
                               "  model: {width: 16, depth: 1}\n"
                               "  train: {epochs: 12, batch: 32, lr: 0.1, opt: momentum, weight_decay: 1e-3,\n"
                               "          lr_drops: [8]}\n"
                               "  record: {every: 4}\n";

/* ================================================================ config */

static void test_config_defaults(void) {
    hs_train_config c;
    config_of("base: {seed: 3}\n", &c);
    CU_ASSERT_EQUAL(c.seed, 3);
    CU_ASSERT_EQUAL(c.data_seed, 3); /* data.seed -1 follows seed */
    CU_ASSERT_EQUAL(c.data.seed, 3);
    CU_ASSERT_STRING_EQUAL(c.data.kind, "cfm");
    CU_ASSERT_EQUAL(c.data.per_class, 100);
    CU_ASSERT_PTR_NULL(c.data.class_counts);
    CU_ASSERT_EQUAL(c.model.n_hidden, 3); /* He & Su: depth 2 = 3 hidden layers */
    CU_ASSERT_EQUAL(c.model.widths[0], 100);
    CU_ASSERT_EQUAL(c.model.widths[2], 100);
    CU_ASSERT_DOUBLE_EQUAL(c.model.init_scales[3], 1.0, 0);
    CU_ASSERT_EQUAL(c.model.norm, HS_NORM_BATCH);
    CU_ASSERT_EQUAL(c.model.act, HS_ACT_RELU);
    CU_ASSERT_EQUAL(c.model.init, HS_INIT_TORCH);
    CU_ASSERT_EQUAL(c.model.bias, 1);
    CU_ASSERT_DOUBLE_EQUAL(c.model.bn_eps, 1e-5, 1e-12);
    CU_ASSERT_EQUAL(c.optim.kind, HS_OPT_SGD);
    CU_ASSERT_EQUAL(c.schedule.kind, HS_SCHED_STEP);
    CU_ASSERT_EQUAL(c.schedule.n_drops, 0);
    CU_ASSERT_DOUBLE_EQUAL(c.schedule.lr, 0.01, 0);
    CU_ASSERT_EQUAL(c.loss, HS_LOSS_CE);
    CU_ASSERT_EQUAL(c.epochs, 100);
    CU_ASSERT_EQUAL(c.batch, 128);
    CU_ASSERT_EQUAL(c.record_every, 10);
    CU_ASSERT_EQUAL(c.separation, HS_SEP_FINAL);
    CU_ASSERT_EQUAL(c.bn_record_mode, HS_MODE_EVAL);
    CU_ASSERT_EQUAL(c.decay_on, HS_DECAY_ALL);
    hs_train_config_free(&c);
}

static void test_config_everything_set(void) {
    hs_train_config c;
    config_of("base:\n"
              "  seed: 3\n"
              "  data: {kind: gaussian, seed: 9, classes: 4, dim: 7, class_counts: [5, 6, 7, 8], resize: area}\n"
              "  model: {widths: [30, 20], act: tanh, norm: none, init: orthogonal, init_scales: [2, 3, 4],\n"
              "          bias: false, zero_bias: true}\n"
              "  train: {opt: adamw, beta1: 0.8, beta2: 0.99, eps: 1e-6, weight_decay: 0.01, decay_on: weights,\n"
              "          schedule: cosine, epochs: 50, lr: 0.002, loss: mse, batch: 64}\n"
              "  record: {bn_mode: batch, bn_chunk: 50, separation: every, every: 5}\n",
              &c);
    CU_ASSERT_EQUAL(c.data_seed, 9);
    CU_ASSERT_STRING_EQUAL(c.data.kind, "gaussian");
    CU_ASSERT_EQUAL(c.data.classes, 4);
    CU_ASSERT_EQUAL(c.data.dim, 7);
    CU_ASSERT_EQUAL(c.data.class_counts[3], 8);
    CU_ASSERT_EQUAL(c.data.resize, HS_RESIZE_AREA);
    CU_ASSERT_EQUAL(c.model.n_hidden, 2);
    CU_ASSERT_EQUAL(c.model.widths[0], 30);
    CU_ASSERT_EQUAL(c.model.widths[1], 20);
    CU_ASSERT_DOUBLE_EQUAL(c.model.init_scales[2], 4, 0);
    CU_ASSERT_EQUAL(c.model.act, HS_ACT_TANH);
    CU_ASSERT_EQUAL(c.model.norm, HS_NORM_NONE);
    CU_ASSERT_EQUAL(c.model.init, HS_INIT_ORTHOGONAL);
    CU_ASSERT_EQUAL(c.model.bias, 0);
    CU_ASSERT_EQUAL(c.model.zero_bias, 1);
    CU_ASSERT_EQUAL(c.optim.kind, HS_OPT_ADAMW);
    CU_ASSERT_DOUBLE_EQUAL(c.optim.beta1, 0.8, 0);
    CU_ASSERT_DOUBLE_EQUAL(c.optim.beta2, 0.99, 0);
    CU_ASSERT_DOUBLE_EQUAL(c.optim.eps, 1e-6, 0);
    CU_ASSERT_DOUBLE_EQUAL(c.weight_decay, 0.01, 0);
    CU_ASSERT_EQUAL(c.decay_on, HS_DECAY_WEIGHTS);
    CU_ASSERT_EQUAL(c.schedule.kind, HS_SCHED_COSINE);
    CU_ASSERT_EQUAL(c.schedule.epochs, 50);
    CU_ASSERT_EQUAL(c.loss, HS_LOSS_MSE);
    CU_ASSERT_EQUAL(c.batch, 64);
    CU_ASSERT_EQUAL(c.bn_record_mode, HS_MODE_BATCH);
    CU_ASSERT_EQUAL(c.bn_chunk, 50);
    CU_ASSERT_EQUAL(c.separation, HS_SEP_EVERY);
    CU_ASSERT_EQUAL(c.record_every, 5);
    hs_train_config_free(&c);
}

/* ================================================================ the loop */

static void test_records_and_schedule(void) {
    hs_train_config c;
    config_of(tiny_yaml, &c);
    hs_dataset d = {0};
    blobs(&d, 3, 5, 40, 1);
    hs_train_result res = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, &d, NULL, &res, &err), HS_OK);
    CU_ASSERT_EQUAL(res.status, HS_RUN_DONE);
    /* epoch 0, 4, 8, 12 */
    CU_ASSERT_EQUAL_FATAL(res.n_records, 4);
    CU_ASSERT_EQUAL(res.records[0].epoch, 0);
    CU_ASSERT_EQUAL(res.records[3].epoch, 12);
    CU_ASSERT(isnan(res.records[0].epoch_loss));
    /* 120 samples in batches of 32: 4 steps per epoch, the last one of 24 kept */
    CU_ASSERT_EQUAL(res.records[1].step, 16);
    CU_ASSERT_EQUAL(res.steps, 48);
    /* epochs 1..8 at 0.1, epochs 9..12 after the drop at 8 */
    CU_ASSERT_DOUBLE_EQUAL(res.records[2].lr, 0.1, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(res.records[3].lr, 0.01, 1e-15);
    /* 16 + 1 hidden (5*16 + 16 + 2*16) + (16*16 + 16 + 2*16) + readout 16*3 + 3 */
    CU_ASSERT_EQUAL(res.n_params, 5 * 16 + 16 + 32 + 16 * 16 + 16 + 32 + 16 * 3 + 3);
    /* it learned: blobs 3 sigma apart are easy */
    CU_ASSERT(res.records[3].train_acc > 0.95);
    CU_ASSERT(res.records[3].train_loss < res.records[0].train_loss);
    CU_ASSERT_DOUBLE_EQUAL(res.records[3].test_acc, res.records[3].train_acc, 0); /* same set */
    hs_train_result_free(&res);
    hs_dataset_free(&d);
    hs_train_config_free(&c);
}

static void test_bit_identical_twice(void) {
    hs_train_config c;
    config_of(tiny_yaml, &c);
    hs_dataset d = {0}, t = {0};
    blobs(&d, 3, 5, 40, 1);
    blobs(&t, 3, 5, 20, 2);
    capture a = {0}, b = {0};
    hs_train_hooks ha = {.ctx = &a, .on_record = keep_state}, hb = {.ctx = &b, .on_record = keep_state};
    hs_train_result ra = {0}, rb = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, &t, &ha, &ra, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, &t, &hb, &rb, &err), HS_OK);
    CU_ASSERT_EQUAL(a.records, 4);
    CU_ASSERT_EQUAL_FATAL(a.size, b.size);
    CU_ASSERT(memcmp(a.state, b.state, a.size * sizeof *a.state) == 0);
    CU_ASSERT_EQUAL_FATAL(ra.n_records, rb.n_records);
    for (size_t i = 0; i < ra.n_records; i++)
        for (int f = 0; f < HS_RECORD_FIELDS; f++) {
            if (!strcmp(hs_record_field_names[f], "seconds")) continue;
            double x = hs_record_field(&ra.records[i], f), y = hs_record_field(&rb.records[i], f);
            CU_ASSERT(memcmp(&x, &y, sizeof x) == 0);
        }
    /* another seed gives another net (initialisation and batch order both change) */
    c.seed = 6, c.model.seed = 6;
    capture o = {0};
    hs_train_hooks ho = {.ctx = &o, .on_record = keep_state};
    hs_train_result ro = {0};
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, &t, &ho, &ro, &err), HS_OK);
    CU_ASSERT(memcmp(a.state, o.state, a.size * sizeof *a.state) != 0);
    free(a.state), free(b.state), free(o.state);
    hs_train_result_free(&ra), hs_train_result_free(&rb), hs_train_result_free(&ro);
    hs_dataset_free(&d), hs_dataset_free(&t);
    hs_train_config_free(&c);
}

static void test_diverges_is_a_result(void) {
    hs_train_config c;
    config_of("base:\n"
              "  model: {width: 8, depth: 0, norm: none, act: identity}\n"
              "  train: {epochs: 50, batch: 10, lr: 1e5, loss: mse}\n",
              &c);
    hs_dataset d = {0};
    blobs(&d, 2, 4, 20, 3);
    hs_train_result res = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, NULL, NULL, &res, &err), HS_OK);
    CU_ASSERT_EQUAL(res.status, HS_RUN_DIVERGED);
    HS_ASSERT_CONTAINS(res.message, "loss became");
    HS_ASSERT_CONTAINS(res.message, "lr 100000");
    CU_ASSERT(res.epochs_done < 50);
    CU_ASSERT(res.n_records >= 1); /* the record at epoch 0 survives */
    CU_ASSERT(isnan(res.records[0].test_acc)); /* no test set */
    hs_train_result_free(&res);
    hs_dataset_free(&d);
    hs_train_config_free(&c);
}

static int stop_now(void *ctx) {
    long long *polls = ctx;
    return ++*polls > 5;
}

static void test_stop_request(void) {
    hs_train_config c;
    config_of(tiny_yaml, &c);
    hs_dataset d = {0};
    blobs(&d, 3, 5, 40, 1);
    long long polls = 0;
    hs_train_hooks h = {.ctx = &polls, .should_stop = stop_now};
    hs_train_result res = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, NULL, &h, &res, &err), HS_OK);
    CU_ASSERT_EQUAL(res.status, HS_RUN_STOPPED);
    CU_ASSERT_EQUAL(res.steps, 5); /* polled before each step: the 6th poll stops */
    CU_ASSERT_EQUAL(res.epochs_done, 1);
    HS_ASSERT_CONTAINS(res.message, "epoch 2");
    hs_train_result_free(&res);
    hs_dataset_free(&d);
    hs_train_config_free(&c);
}

static void test_batch_of_one_refused(void) {
    hs_train_config c;
    config_of("base: {train: {batch: 7}}\n", &c);
    hs_dataset d = {0};
    blobs(&d, 2, 3, 11, 1); /* 22 = 3 * 7 + 1 */
    hs_train_result res = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL(hs_train_run(&c, &d, NULL, NULL, &res, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "train.batch: 7 with 22 training samples leaves a batch of one sample");
    HS_ASSERT_CONTAINS(err.hint, "8");
    hs_train_result_free(&res);
    /* without BatchNorm the same split is fine */
    c.model.norm = HS_NORM_NONE;
    c.epochs = 2;
    CU_ASSERT_EQUAL(hs_train_run(&c, &d, NULL, NULL, &res, &err), HS_OK);
    CU_ASSERT_EQUAL(res.steps, 8);
    hs_train_result_free(&res);
    hs_dataset_free(&d);
    hs_train_config_free(&c);
}

/* Batch-mode feature extraction in chunks of bn_chunk rows larger than the batch enlarges the
 * net's buffers, not the minibatches: the training (its losses and final parameters) is the one
 * without separation records. The evaluations may differ in the last bits, as their chunks of
 * max_batch rows do (the products' kernels depend on the shapes). */
static void test_bn_chunk_keeps_the_batch(void) {
    hs_train_config c;
    config_of("base:\n"
              "  model: {width: 8, depth: 0}\n"
              "  train: {epochs: 2, batch: 32}\n"
              "  record: {bn_mode: batch, bn_chunk: 50, separation: every, every: 1}\n",
              &c);
    hs_dataset d = {0};
    blobs(&d, 3, 5, 40, 1);
    hs_train_result a = {0}, b = {0};
    capture ca = {0}, cb = {0};
    hs_train_hooks ha = {.ctx = &ca, .on_record = keep_state}, hb = {.ctx = &cb, .on_record = keep_state};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, NULL, &ha, &a, &err), HS_OK);
    CU_ASSERT_EQUAL(a.steps, 8); /* 120 rows in batches of 32, not 50 */
    c.separation = HS_SEP_NONE;
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, NULL, &hb, &b, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(a.n_records, b.n_records);
    for (size_t t = 0; t < a.n_records; t++) {
        CU_ASSERT(memcmp(&a.records[t].epoch_loss, &b.records[t].epoch_loss, sizeof(double)) == 0);
        CU_ASSERT_DOUBLE_EQUAL(a.records[t].train_loss, b.records[t].train_loss, 1e-6);
    }
    CU_ASSERT_EQUAL_FATAL(ca.size, cb.size);
    CU_ASSERT(memcmp(ca.state, cb.state, ca.size * sizeof *ca.state) == 0);
    free(ca.state), free(cb.state);
    hs_train_result_free(&a), hs_train_result_free(&b);
    hs_dataset_free(&d);
    hs_train_config_free(&c);
}

/* decay_on: weights leaves biases and BN parameters alone; the observable: strong decay on all
 * parameters shrinks BN gamma, decay on weights only does not. */
static hs_code gamma_of(void *ctx, const hs_record *rec, hs_model *net, const hs_dataset *train, hs_error *err) {
    (void)rec, (void)train, (void)err;
    *(float *)ctx = hs_model_as_mlp(net)->gamma[0][0];
    return HS_OK;
}

static void test_decay_on_weights(void) {
    hs_dataset d = {0};
    blobs(&d, 2, 3, 20, 1);
    float g_all = 0, g_weights = 0;
    for (int w = 0; w < 2; w++) {
        hs_train_config c;
        config_of(w ? "base: {model: {width: 4, depth: 0}, train: {epochs: 5, batch: 40, lr: 0.1, "
                      "weight_decay: 0.5, decay_on: weights}}\n"
                    : "base: {model: {width: 4, depth: 0}, train: {epochs: 5, batch: 40, lr: 0.1, "
                      "weight_decay: 0.5}}\n",
                  &c);
        hs_train_hooks h = {.ctx = w ? &g_weights : &g_all, .on_record = gamma_of};
        hs_train_result res = {0};
        hs_error err = {0};
        CU_ASSERT_EQUAL(hs_train_run(&c, &d, NULL, &h, &res, &err), HS_OK);
        hs_train_result_free(&res);
        hs_train_config_free(&c);
    }
    /* 5 steps of decay 0.5 at lr 0.1 shrink gamma by about (1 - 0.05)^5 = 0.77 on top of its
     * gradient steps; without decay it stays near 1 */
    CU_ASSERT(g_all < g_weights - 0.1);
    hs_dataset_free(&d);
}

static void test_stop_loss_and_batch_per_class(void) {
    hs_train_config c;
    config_of("base:\n"
              "  seed: 2\n"
              "  model: {width: 16, depth: 1}\n"
              "  train: {epochs: 2000, batch_per_class: 4, lr: 0.1, opt: momentum, stop_loss: 0.05}\n"
              "  record: {every: 10, separation: final}\n",
              &c);
    hs_dataset d = {0};
    blobs(&d, 3, 5, 40, 1);
    hs_train_result res = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, &d, NULL, &res, &err), HS_OK);
    CU_ASSERT_EQUAL(res.status, HS_RUN_DONE);
    HS_ASSERT_CONTAINS(res.message, "converged: epoch-mean training loss");
    CU_ASSERT(res.epochs_done < 2000);
    CU_ASSERT_EQUAL(res.epochs_done % 10, 0);
    /* 120 samples in batches of 4 x 3 classes: 10 steps per epoch */
    CU_ASSERT_EQUAL(res.steps, 10 * res.epochs_done);
    const hs_record *last = &res.records[res.n_records - 1];
    CU_ASSERT_EQUAL(last->epoch, res.epochs_done);
    CU_ASSERT(last->epoch_loss < 0.05);
    CU_ASSERT(res.records[res.n_records - 2].epoch_loss >= 0.05); /* the first check below it stopped */
    /* record.separation final measures at the converged record, not at epoch 2000 */
    CU_ASSERT(!isnan(res.layers[(res.n_records - 1) * HS_LAYER_FIELDS * res.n_layers]));
    CU_ASSERT(isnan(res.layers[(res.n_records - 2) * HS_LAYER_FIELDS * res.n_layers]));
    hs_train_result_free(&res);
    hs_dataset_free(&d);
    hs_train_config_free(&c);
}

/* The hierarchical nets through the same loop: a CNN and an LCN learn a small SRHM, with the
 * protocol of Tomasini & Wyart (momentum SGD, lr x H, 4 samples per class, stop below a loss). */
static void test_hnets_on_srhm(void) {
    const char *arch[] = {"cnn", "lcn"};
    for (int a = 0; a < 2; a++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "base:\n"
                 "  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 1, n_train: 1500, n_test: 1000, seed: 3}\n"
                 "  model: {arch: %s, width: 32}\n"
                 "  train: {opt: momentum, lr: 0.01, epochs: 400, batch_per_class: 4, stop_loss: 0.001}\n"
                 "  record: {every: 10, separation: final}\n",
                 arch[a]);
        hs_train_config c;
        config_of(yaml, &c);
        CU_ASSERT_EQUAL(c.filter, 4); /* s (s0 + 1) */
        hs_dataset train = {0}, test = {0};
        hs_error err = {0};
        CU_ASSERT_EQUAL_FATAL(hs_data_load(&c.data, &train, &test, &err), HS_OK);
        CU_ASSERT_EQUAL(train.dim, 4 * 16);
        hs_train_result res = {0};
        hs_code rc = hs_train_run(&c, &train, &test, NULL, &res, &err);
        if (rc != HS_OK) fprintf(stderr, "\n  %s\n", err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
        const hs_record *last = &res.records[res.n_records - 1];
        fprintf(stderr, "\n  %s on srhm: train acc %.4f, test acc %.4f after %lld epochs (%s)\n", arch[a],
                last->train_acc, last->test_acc, res.epochs_done, res.message);
        CU_ASSERT_DOUBLE_EQUAL(last->train_acc, 1.0, 0);
        CU_ASSERT(last->test_acc > 0.8);
        CU_ASSERT_EQUAL(res.n_layers, 3); /* input + L = 2 hidden layers */
        /* D of the hidden layers measured at the end (the input's too) */
        for (size_t l = 0; l < 3; l++) CU_ASSERT(!isnan(res.layers[(res.n_records - 1) * HS_LAYER_FIELDS * 3 + l]));
        hs_train_result_free(&res);
        hs_dataset_free(&train);
        hs_dataset_free(&test);
        hs_train_config_free(&c);
    }
}

/* A CNN on the SRHM under momentum with weight decay: its hidden weights are stepped inside the
 * backward (hs_gemm_tn_update) unless the gradient norms are recorded, which read the stored
 * gradients. Both runs end on the same parameters, bit for bit, and the recorded norms of the
 * hidden weights are those of real gradients (positive), not of gradients never stored. */
static void test_hnet_grad_norms(void) {
    hs_dataset train = {0}, test = {0};
    capture cap[2] = {{0}, {0}};
    hs_train_result res[2] = {{0}, {0}};
    for (int g = 0; g < 2; g++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "base:\n"
                 "  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 1, n_train: 256, n_test: 64, seed: 3}\n"
                 "  model: {arch: cnn, width: 24}\n"
                 "  train: {opt: momentum, lr: 0.01, epochs: 3, batch_per_class: 4, weight_decay: 1e-3}\n"
                 "  record: {every: 1, separation: none, grad_norms: %s}\n",
                 g ? "true" : "false");
        hs_train_config c;
        config_of(yaml, &c);
        hs_error err = {0};
        if (!g) CU_ASSERT_EQUAL_FATAL(hs_data_load(&c.data, &train, &test, &err), HS_OK);
        hs_train_hooks h = {.ctx = &cap[g], .on_record = keep_state};
        CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &train, &test, &h, &res[g], &err), HS_OK);
        hs_train_config_free(&c);
    }
    CU_ASSERT_EQUAL_FATAL(cap[0].size, cap[1].size);
    CU_ASSERT(memcmp(cap[0].state, cap[1].state, cap[0].size * sizeof(float)) == 0);
    const hs_series *gn = NULL;
    for (size_t i = 0; i < res[1].n_series; i++)
        if (!strcmp(res[1].series[i].spec.name, "grad_norm")) gn = &res[1].series[i];
    CU_ASSERT_PTR_NOT_NULL_FATAL(gn);
    CU_ASSERT_EQUAL_FATAL(gn->size, 3); /* two hidden weights and the readout */
    CU_ASSERT(gn->n >= 2);
    for (size_t p = 1; p < gn->n; p++)
        for (size_t w = 0; w < 2; w++) {
            const double v = gn->values[p * gn->size + w];
            CU_ASSERT(v > 0 && isfinite(v));
        }
    for (int g = 0; g < 2; g++) free(cap[g].state), hs_train_result_free(&res[g]);
    hs_dataset_free(&train), hs_dataset_free(&test);
}

/* ================================================================ real data */

static void test_cfm_learns(void) {
    hs_train_config c;
    config_of("base:\n"
              "  seed: 1\n"
              "  data: {kind: cfm, per_class: 100}\n"
              "  model: {width: 100, depth: 2}\n"
              "  train: {opt: sgd, lr: 0.3, epochs: 150, weight_decay: 5e-4, lr_drops: [100, 125]}\n"
              "  record: {every: 25}\n",
              &c);
    hs_dataset train = {0}, test = {0};
    hs_error err = {0};
    hs_code rc = hs_data_load(&c.data, &train, &test, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
    CU_ASSERT_EQUAL(train.n, 1000);
    CU_ASSERT_EQUAL(test.n, 10000);
    hs_train_result res = {0};
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &train, &test, NULL, &res, &err), HS_OK);
    CU_ASSERT_EQUAL(res.status, HS_RUN_DONE);
    const hs_record *last = &res.records[res.n_records - 1];
    fprintf(stderr, "\n  cfm: train acc %.4f, test acc %.4f after %lld epochs (%.2f s)\n", last->train_acc,
            last->test_acc, last->epoch, res.seconds);
    CU_ASSERT_DOUBLE_EQUAL(last->train_acc, 1.0, 0);
    CU_ASSERT(last->test_acc > 0.70);
    hs_train_result_free(&res);
    hs_dataset_free(&train);
    hs_dataset_free(&test);
    hs_train_config_free(&c);
}

int main(void) {
    static const hs_test tests[] = {
        {"config: defaults", test_config_defaults},
        {"config: every key mapped", test_config_everything_set},
        {"loop: record points, steps, lr schedule", test_records_and_schedule},
        {"loop: bit-identical twice, different with another seed", test_bit_identical_twice},
        {"loop: divergence is a result with a message", test_diverges_is_a_result},
        {"loop: stop request at a step boundary", test_stop_request},
        {"loop: BatchNorm batch of one refused", test_batch_of_one_refused},
        {"loop: bn_chunk above the batch keeps the batch", test_bn_chunk_keeps_the_batch},
        {"loop: decay_on weights spares BN", test_decay_on_weights},
        {"loop: stop_loss at a record point, batch_per_class", test_stop_loss_and_batch_per_class},
        {"hierarchical nets: cnn and lcn learn an srhm", test_hnets_on_srhm},
        {"hierarchical nets: recorded gradient norms, and the same steps without them", test_hnet_grad_norms},
        {"real data: cfm 1000 samples", test_cfm_learns},
        {NULL, NULL},
    };
    return hs_test_main("train", tests);
}
