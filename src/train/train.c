/* train.c - the training loop of one run (see include/hsweep/train.h).
 *
 * Everything is allocated before the first step (net, optimiser state, one batch buffer, the
 * index permutation, the records), so the steady state of an epoch is gather -> forward -> loss
 * -> backward -> update with no allocation and no system call. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__SSE2__)
#include <xmmintrin.h>
#define HS_HAVE_MXCSR 1
#endif

#include "hsweep/metrics.h"
#include "hsweep/models.h"
#include "hsweep/rng.h"
#include "hsweep/train.h"
#include "hsweep/util.h"
#include "internal.h"
#include "loop.h"
#include "recorders.h"

const char *const hs_record_field_names[HS_RECORD_FIELDS] = {
    "epoch", "step", "lr", "epoch_loss", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"};

double hs_record_field(const hs_record *r, int i) {
    switch (i) {
    case 0: return (double)r->epoch;
    case 1: return (double)r->step;
    case 2: return r->lr;
    case 3: return r->epoch_loss;
    case 4: return r->train_loss;
    case 5: return r->train_acc;
    case 6: return r->test_loss;
    case 7: return r->test_acc;
    case 8: return r->seconds;
    default: return NAN;
    }
}

const char *const hs_layer_field_names[HS_LAYER_FIELDS] = {"separation", "separation_rank", "separation_cond",
                                                             "weight_norm", "weight_change"};
enum { LF_SEP, LF_SEP_RANK, LF_SEP_COND, LF_WNORM, LF_WCHANGE };

const char *hs_run_status_to_string(hs_run_status s) {
    switch (s) {
    case HS_RUN_DONE: return "done";
    case HS_RUN_DIVERGED: return "diverged";
    case HS_RUN_STOPPED: return "stopped";
    }
    return "?";
}

void hs_train_result_free(hs_train_result *r) {
    if (!r) return;
    free(r->records);
    free(r->layers);
    for (size_t i = 0; r->series && i < r->n_series; i++) free(r->series[i].values), free(r->series[i].point);
    free(r->series);
    memset(r, 0, sizeof *r);
}

/* ================================================================ evaluation */

void hs_train_evaluate(hs_model *net, const hs_dataset *d, hs_loss loss, double *mean_loss, double *accuracy) {
    if (d->n == 0) {
        *mean_loss = *accuracy = NAN;
        return;
    }
    /* Contiguous chunks straight from the dataset: eval mode needs no gather and no batch
     * statistics, so chunk boundaries do not change the result. */
    double sum = 0;
    long long correct = 0;
    int chunk = net->max_batch;
    for (long long i = 0; i < d->n; i += chunk) {
        int b = (int)(d->n - i < chunk ? d->n - i : chunk);
        const float *logits = hs_model_forward(net, d->x + (size_t)i * (size_t)d->dim, b, HS_MODE_EVAL);
        if (!logits) { /* cannot happen for 1 <= b <= max_batch in eval mode */
            *mean_loss = *accuracy = NAN;
            return;
        }
        int ok = 0, K = net->out_dim;
        const float *t = loss == HS_LOSS_MSE && d->t && d->t_dim == K ? d->t + (size_t)i * (size_t)K : NULL;
        sum += b * hs_loss_forward_backward(loss, logits, d->y + i, t, b, K, NULL, &ok);
        if (K == 1) /* one real output: its sign is the class */
            for (int r = ok = 0; r < b; r++) ok += (logits[r] > 0) == (t ? t[r] > 0 : d->y[i + r] == 1);
        correct += ok;
    }
    *mean_loss = sum / (double)d->n;
    *accuracy = (double)correct / (double)d->n;
}

/* ================================================================ the loop */

/* the loop's state: loop.h */

/* ================================================================ per-layer recorders */

static double *layer_cell(loop *L, size_t t, int field, int layer) {
    return &L->res->layers[(t * HS_LAYER_FIELDS + (size_t)field) * L->res->n_layers + (size_t)layer];
}

static void record_weights(loop *L, size_t t) {
    hs_model *net = &L->net;
    double norm[4096] = {0}, norm0[4096] = {0}, diff[4096] = {0};
    size_t nl = L->res->n_layers < 4096 ? L->res->n_layers : 4096;
    for (int k = 0; k < net->n_tensors; k++) {
        const hs_tensor *ts = &net->tensors[k];
        if (ts->kind != HS_TENSOR_WEIGHT || ts->layer < 0 || (size_t)ts->layer >= nl) continue;
        const float *W = net->params + ts->offset, *W0 = L->w0 + ts->offset;
        for (size_t i = 0; i < ts->size; i++) {
            double w = W[i], w0 = W0[i];
            norm[ts->layer] += w * w, norm0[ts->layer] += w0 * w0, diff[ts->layer] += (w - w0) * (w - w0);
        }
    }
    for (size_t l = 0; l < nl; l++) {
        *layer_cell(L, t, LF_WNORM, (int)l) = sqrt(norm[l]);
        *layer_cell(L, t, LF_WCHANGE, (int)l) = norm0[l] > 0 ? sqrt(diff[l] / norm0[l]) : NAN;
    }
}

/* Bytes of features one pass over the training set collects: every layer of an MLP at once, one
 * wide conv layer per pass (65536 features of 1000 images are 262 MB, all thirteen layers of
 * He & Su's VGG-13 several GB). A build may set it lower (-DHS_FEATURE_BYTES=1: one layer per
 * pass) to check that the passes do not change D. */
#ifdef HS_FEATURE_BYTES
#define FEATURE_BYTES ((size_t)(HS_FEATURE_BYTES))
#else
#define FEATURE_BYTES ((size_t)256 << 20)
#endif

/* Separation fuzziness of every measured layer on the training set. The hidden layers' features
 * are collected in passes of forwards (eval mode: running statistics, chunks of max_batch; batch
 * mode: statistics of consecutive chunks of bn_chunk rows, as He & Su), each pass keeping a group
 * of consecutive layers whose features fit FEATURE_BYTES (at least one layer), as float, reduced
 * in double by hs_separation before the next pass. The forwards are the same in every pass (same
 * chunks, nothing in BATCH or EVAL mode changes the state), so D does not depend on the grouping. */
static hs_code record_separation(loop *L, size_t t, hs_error *err) {
    const hs_dataset *d = L->train;
    hs_model *net = &L->net;
    const int nh = net->n_hidden;
    size_t n = (size_t)d->n;
    hs_sep_weighting wt = L->c->sep_paper_weighting ? HS_SEP_PAPER : HS_SEP_BALANCED;
    hs_sep_result sr;
    HS_TRY(err, hs_separation(d->x, n, (size_t)d->dim, d->y, d->classes, wt, 0, &sr, err));
    *layer_cell(L, t, LF_SEP, 0) = sr.D;
    *layer_cell(L, t, LF_SEP_RANK, 0) = sr.rank;
    *layer_cell(L, t, LF_SEP_COND, 0) = sr.cond;
    hs_mode mode = net->batch_stats ? L->c->bn_record_mode : HS_MODE_EVAL;
    size_t chunk = mode == HS_MODE_BATCH ? (size_t)L->c->bn_chunk : (size_t)net->max_batch;
    if (chunk > n) chunk = n;
    for (int first = 0, last; first < nh; first = last) {
        size_t floats = n * (size_t)net->hidden_width[first];
        for (last = first + 1; last < nh && (floats + n * (size_t)net->hidden_width[last]) * sizeof *L->feat <=
                                                FEATURE_BYTES; last++)
            floats += n * (size_t)net->hidden_width[last];
        if (floats > L->feat_floats) {
            free(L->feat);
            L->feat_floats = 0;
            if (!(L->feat = malloc(floats * sizeof *L->feat)))
                return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the features of layers %d..%d (%zu floats)",
                               first + 1, last, floats);
            L->feat_floats = floats;
        }
        for (size_t i = 0; i < n; i += chunk) {
            int b = (int)(n - i < chunk ? n - i : chunk);
            if (!hs_model_forward(net, d->x + i * (size_t)d->dim, b, mode))
                return HS_FAIL(err, HS_ERR_INTERNAL, "the net refused a feature chunk of %d rows", b);
            float *f = L->feat;
            for (int l = first; l < last; l++) {
                size_t w = (size_t)net->hidden_width[l];
                memcpy(f + i * w, hs_model_hidden(net, l), (size_t)b * w * sizeof *f);
                f += n * w;
            }
        }
        const float *f = L->feat;
        for (int l = first; l < last; l++) {
            size_t p = (size_t)net->hidden_width[l];
            HS_TRY(err, hs_separation(f, n, p, d->y, d->classes, wt, 0, &sr, err));
            *layer_cell(L, t, LF_SEP, l + 1) = sr.D;
            *layer_cell(L, t, LF_SEP_RANK, l + 1) = sr.rank;
            *layer_cell(L, t, LF_SEP_COND, l + 1) = sr.cond;
            f += n * p;
        }
    }
    return HS_OK;
}


/* One record point; `final` marks the last one (the epochs ran out, or the run converged), where
 * record.separation: final measures D. */
static hs_code record(loop *L, long long epoch, double lr, double epoch_loss, int final, hs_error *err) {
    hs_train_result *res = L->res;
    if (res->n_records == L->cap_records) return HS_FAIL(err, HS_ERR_INTERNAL, "record table full at epoch %lld", epoch);
    hs_record *r = &res->records[res->n_records];
    *r = (hs_record){.epoch = epoch, .step = res->steps, .lr = lr, .epoch_loss = epoch_loss};
    size_t t = res->n_records;
    const hs_dataset *vtrain, *vtest;
    rec_views(L->rec, t, &vtrain, &vtest);
    rec_evaluate(L->rec, &L->net, vtrain, L->c->loss, 0, t, &r->train_loss, &r->train_acc);
    rec_evaluate(L->rec, &L->net, vtest, L->c->loss, 1, t, &r->test_loss, &r->test_acc);
    if (t == 0) memcpy(L->w0, L->net.params, L->net.n_params * sizeof *L->w0);
    record_weights(L, t);
    if (L->c->separation == HS_SEP_EVERY || (L->c->separation == HS_SEP_FINAL && final))
        HS_TRY(err, record_separation(L, t, err));
    HS_TRY(err, rec_measure(L->rec, &L->net, t, final, err));
    r->seconds = hs_time_mono() - L->t0;
    res->n_records++;
    if (L->hooks && L->hooks->on_record)
        HS_TRY(err, L->hooks->on_record(L->hooks->ctx, r, &L->net, L->train, err));
    return HS_OK;
}

/* Weight decay of tensor t (train.h, train.decay_on). */
static double decay_of(const loop *L, const hs_tensor *t) {
    if (L->c->decay_on == HS_DECAY_WEIGHTS && t->kind != HS_TENSOR_WEIGHT) return 0;
    if (L->c->decay_on == HS_DECAY_MEAN) return 2.0 * L->c->weight_decay / (double)hs_tensor_count(t);
    return L->c->weight_decay;
}


/* hs_tensor_ready for the training step: tensor t's optimiser update, at the step's lr. */
typedef struct step_update {
    loop *L;
    double lr;
} step_update;

static void update_tensor(void *ctx, int t) {
    const step_update *u = ctx;
    loop *L = u->L;
    const hs_tensor *ts = &L->net.tensors[t];
    hs_optim_update(&L->opt, L->net.params, L->net.grads, ts->offset, ts->size, u->lr * L->net.lr_scale,
                    decay_of(L, ts));
}

/* hs_tensor_sgd for the training step: the same update as numbers, for a net that applies it as it
 * computes the gradient; none while the gradient norms are recorded (they read the gradients). */
static int sgd_tensor(void *ctx, int t, hs_optim_sgd *s) {
    const step_update *u = ctx;
    loop *L = u->L;
    const hs_tensor *ts = &L->net.tensors[t];
    return !L->c->grad_norms && hs_optim_sgd_of(&L->opt, ts->offset, u->lr * L->net.lr_scale, decay_of(L, ts), s);
}

/* One epoch of minibatch steps from index `first` of its permutation, with `sum` the loss sum of
 * the steps before it (0 and 0, except in the epoch a checkpoint resumes). Sets res->status when
 * the run diverges or is asked to stop. With the steps/log record schedules the record points
 * fall inside epochs: *converged is set when one of them meets train.stop_loss (the epoch is cut
 * there). */
static hs_code epoch(loop *L, long long e, size_t first, double sum, double lr, double *mean_loss, int *converged,
                     hs_error *err) {
    const hs_dataset *d = L->train;
    hs_train_result *res = L->res;
    size_t n = (size_t)d->n, dim = (size_t)d->dim;
    int B = L->batch;

    for (size_t i = 0; i < n; i++) L->order[i] = (uint32_t)i;
    hs_rng rng;
    hs_rng_init(&rng, L->c->seed, hs_rng_stream(HS_STREAM_BATCH, (uint32_t)e));
    hs_rng_permute(&rng, L->order, n);

    for (size_t start = first; start < n; start += (size_t)B) {
        /* a step boundary: everything the rest of the run depends on is in L, e, start and sum */
        if (L->hooks && L->hooks->should_stop && L->hooks->should_stop(L->hooks->ctx)) {
            res->status = HS_RUN_STOPPED;
            snprintf(res->message, sizeof res->message, "stopped on request in epoch %lld", e + 1);
            if (L->ck) {
                HS_TRY(err, train_save_checkpoint(L, e, start, sum, err));
                snprintf(res->message, sizeof res->message,
                         "stopped on request in epoch %lld (checkpoint at step %lld)", e + 1, res->steps);
            }
            return HS_OK;
        }
        if (L->ck && L->ck->every_seconds > 0 && hs_time_mono() >= L->next_save) {
            HS_TRY(err, train_save_checkpoint(L, e, start, sum, err));
            L->next_save = hs_time_mono() + L->ck->every_seconds;
        }
        int b = (int)(n - start < (size_t)B ? n - start : (size_t)B);
        for (int r = 0; r < b; r++) {
            uint32_t src = L->order[start + (size_t)r];
            memcpy(L->xb + (size_t)r * dim, d->x + (size_t)src * dim, dim * sizeof *L->xb);
            L->yb[r] = d->y[src];
            if (L->tb) memcpy(L->tb + (size_t)r * d->t_dim, d->t + (size_t)src * d->t_dim, (size_t)d->t_dim * sizeof *L->tb);
        }
        aug_apply(&L->aug, L->xb, b, L->c->seed, e, start);
        const float *logits = hs_model_forward(&L->net, L->xb, b, HS_MODE_TRAIN);
        if (!logits) return HS_FAIL(err, HS_ERR_INTERNAL, "the net refused a batch of %d rows", b);
        double loss = hs_loss_forward_backward(L->c->loss, logits, L->yb, L->tb, b, L->net.out_dim, L->net.dlogits, NULL);
        if (!isfinite(loss)) {
            res->status = HS_RUN_DIVERGED;
            snprintf(res->message, sizeof res->message, "loss became %s in epoch %lld at step %lld (lr %g)",
                     isnan(loss) ? "NaN" : "infinite", e + 1, res->steps + 1, lr);
            return HS_OK;
        }
        sum += loss * b;
        hs_optim_begin_step(&L->opt); /* counts the step: every tensor's update uses it */
        step_update u = {L, lr};
        hs_model_backward_each(&L->net, L->net.dlogits, b, update_tensor, sgd_tensor, &u);
        res->steps++;
        if (L->rec_steps && L->next_rec < L->n_rec_steps && res->steps == L->rec_steps[L->next_rec]) {
            L->since_sum += loss * b, L->since_n += b;
            double since = L->since_sum / (double)L->since_n;
            int last = L->next_rec + 1 == L->n_rec_steps;
            *converged = L->c->stop_loss > 0 && since < L->c->stop_loss;
            L->next_rec++;
            L->since_sum = 0, L->since_n = 0;
            HS_TRY(err, record(L, start + (size_t)b >= n ? e + 1 : e, lr, since, last || *converged, err));
            if (*converged) {
                *mean_loss = since;
                return HS_OK;
            }
        } else if (L->rec_steps) {
            L->since_sum += loss * b, L->since_n += b;
        }
    }
    *mean_loss = sum / (double)n;
    return HS_OK;
}

static long long batch_of(const hs_train_config *c, const hs_dataset *train) {
    return hs_train_batch(c, train->n, train->classes);
}

/* The sets against each other, then everything their shape decides (shared with the preflight, so
 * a plan refuses exactly what a training would). */
static hs_code check(const hs_train_config *c, const hs_dataset *train, const hs_dataset *test, hs_error *err) {
    if (test->n > 0 && train->n > 0 && (test->dim != train->dim || test->classes != train->classes))
        return HS_FAIL(err, HS_ERR_VALUE, "test set has %d dims and %d classes, training set %d and %d", test->dim,
                       test->classes, train->dim, train->classes);
    hs_data_shape sh = {.dim = train->dim, .classes = train->classes, .t_dim = train->t ? train->t_dim : 0,
                        .n_train = train->n, .n_test = test->n, .levels = train->levels,
                        .branching = train->branching, .modules = train->modules, .channels = train->channels,
                        .height = train->height, .width = train->width};
    HS_TRY(err, hs_train_check_shape(c, &sh, err));
    return HS_OK;
}

/* Denormal floats (below 1.2e-38) cost 10-100x per operation on x86. They appear when a deep
 * net's gradients vanish (e.g. 19 ReLU layers without normalisation, where Adam's second moment
 * g^2 underflows) and turned 0.02 s epochs into 0.6 s ones. Flush-to-zero and denormals-are-zero
 * for the duration of a training trade those values for 0, which no training can tell apart. */
static unsigned flush_denormals(void) {
#ifdef HS_HAVE_MXCSR
    unsigned saved = _mm_getcsr();
    _mm_setcsr(saved | 0x8040); /* FTZ (bit 15) | DAZ (bit 6) */
    return saved;
#else
    return 0;
#endif
}

static void restore_denormals(unsigned saved) {
#ifdef HS_HAVE_MXCSR
    _mm_setcsr(saved);
#else
    (void)saved;
#endif
}

static hs_code train_run(const hs_train_config *c, const hs_dataset *train, const hs_dataset *test,
                         const hs_train_hooks *hooks, hs_train_result *res, hs_error *err);

hs_code hs_train_run(const hs_train_config *c, const hs_dataset *train, const hs_dataset *test,
                     const hs_train_hooks *hooks, hs_train_result *res, hs_error *err) {
    unsigned saved = flush_denormals();
    hs_code rc = train_run(c, train, test, hooks, res, err);
    restore_denormals(saved);
    return rc;
}

static hs_code train_run(const hs_train_config *c, const hs_dataset *train, const hs_dataset *test,
                         const hs_train_hooks *hooks, hs_train_result *res, hs_error *err) {
    memset(res, 0, sizeof *res);
    res->resumed_from_step = res->resumed_from_epoch = -1;
    hs_dataset none = {0};
    if (!test) test = &none;
    HS_TRY(err, check(c, train, test, err));

    loop L = {.c = c, .train = train, .test = test, .hooks = hooks, .res = res};
    hs_code rc = HS_OK;
    L.batch = (int)batch_of(c, train);
    const int max_batch = hs_train_net_rows(c, L.batch, train->n);
    if ((rc = c->arch->create(&L.net, c, train, max_batch, err)) != HS_OK) goto out;
    if ((rc = hs_optim_init(&L.opt, &c->optim, L.net.n_params, err)) != HS_OK) goto out;
    res->n_params = hs_model_count_params(&L.net);

    int every = c->record_every > 0 ? c->record_every : 1;
    hs_train_layout lay;
    hs_data_shape shape = {.dim = train->dim, .classes = train->classes, .t_dim = train->t ? train->t_dim : 0,
                           .n_train = train->n, .n_test = test->n, .levels = train->levels,
                           .branching = train->branching, .modules = train->modules,
                           .channels = train->channels, .height = train->height, .width = train->width};
    if ((rc = hs_train_layout_for(c, &shape, &lay, err)) != HS_OK) goto out;
    long long B = batch_of(c, train), spe = (train->n + B - 1) / B;
    if (lay.steps_per_epoch != spe || lay.n_layers != (size_t)L.net.n_hidden + 1) {
        rc = HS_FAIL(err, HS_ERR_INTERNAL, "the data (%lld rows, %lld steps per epoch, %d hidden layers) differ from "
                     "what the config announced (%lld steps per epoch, %zu layers)", train->n, spe, L.net.n_hidden,
                     lay.steps_per_epoch, lay.n_layers);
        goto out;
    }
    L.cap_records = lay.n_records;
    if (c->record_schedule != HS_REC_EPOCHS) {
        L.n_rec_steps = train_schedule_steps(c, lay.total_steps, NULL);
        if (!(L.rec_steps = malloc(L.n_rec_steps * sizeof *L.rec_steps))) goto nomem;
        train_schedule_steps(c, lay.total_steps, L.rec_steps);
        L.next_rec = 1; /* point 0 is recorded before the first step */
    }
    res->records = calloc(L.cap_records, sizeof *res->records);
    res->n_layers = (size_t)L.net.n_hidden + 1;
    res->layers = malloc(L.cap_records * HS_LAYER_FIELDS * res->n_layers * sizeof *res->layers);
    L.w0 = malloc(L.net.n_params * sizeof *L.w0);
    for (size_t i = 0; res->layers && i < L.cap_records * HS_LAYER_FIELDS * res->n_layers; i++) res->layers[i] = NAN;
    L.xb = malloc((size_t)max_batch * (size_t)train->dim * sizeof *L.xb);
    L.yb = malloc((size_t)max_batch * sizeof *L.yb);
    L.order = malloc((size_t)train->n * sizeof *L.order);
    if (c->loss == HS_LOSS_MSE && train->t && train->t_dim == L.net.out_dim)
        if (!(L.tb = malloc((size_t)max_batch * (size_t)train->t_dim * sizeof *L.tb))) goto nomem;
    if (!res->records || !res->layers || !L.w0 || !L.xb || !L.yb || !L.order) goto nomem;
    if ((rc = rec_init(&L.rec, c, &lay, &L.net, train, test, res, err)) != HS_OK) goto out;
    if ((rc = aug_init(&L.aug, c, train, err)) != HS_OK) goto out;

    L.t0 = hs_time_mono();
    long long e0 = 0;
    size_t first = 0;
    double sum0 = 0;
    int resumed = 0;
    if ((rc = train_checkpoint_setup(&L, err)) != HS_OK) goto out;
    if (L.ck && L.ck->resume && (rc = train_restore_checkpoint(&L, &resumed, &e0, &first, &sum0, err)) != HS_OK) goto out;
    if (!resumed && (rc = record(&L, 0, hs_schedule_lr(&c->schedule, 0), NAN, c->epochs == 0, err)) != HS_OK) goto out;
    if (L.ck) L.next_save = hs_time_mono() + L.ck->every_seconds;
    for (long long e = e0; e < c->epochs; e++) {
        double lr = hs_schedule_lr(&c->schedule, e), mean_loss = NAN;
        int converged = 0;
        if ((rc = epoch(&L, e, e == e0 ? first : 0, e == e0 ? sum0 : 0, lr, &mean_loss, &converged, err)) != HS_OK)
            goto out;
        if (res->status != HS_RUN_DONE) break;
        res->epochs_done = e + 1;
        if (converged) { /* at a record point inside the epoch (steps/log schedules) */
            snprintf(res->message, sizeof res->message,
                     "converged: mean training loss %.3g since the previous record point < train.stop_loss %g at "
                     "step %lld", mean_loss, c->stop_loss, res->steps);
            break;
        }
        if (L.rec_steps) continue; /* steps/log schedules record inside the epochs */
        if ((e + 1) % every == 0 || e + 1 == c->epochs) {
            /* the stop rule sees the epoch-mean loss; a converged run takes its final record
             * (and final measurements) now */
            int converged = c->stop_loss > 0 && mean_loss < c->stop_loss;
            if ((rc = record(&L, e + 1, lr, mean_loss, converged || e + 1 == c->epochs, err)) != HS_OK) goto out;
            if (converged) {
                snprintf(res->message, sizeof res->message,
                         "converged: epoch-mean training loss %.3g < train.stop_loss %g after %lld epochs", mean_loss,
                         c->stop_loss, e + 1);
                break;
            }
        }
    }
    res->seconds = hs_time_mono() - L.t0;
    goto out;
nomem:
    rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory for a training of %lld samples", train->n);
out:
    if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
    free(L.tb);
    aug_free(&L.aug);
    free(L.rec_steps);
    rec_free(L.rec);
    free(L.xb);
    free(L.yb);
    free(L.order);
    free(L.w0);
    free(L.feat);
    hs_optim_free(&L.opt);
    hs_model_free(&L.net);
    return rc;
}
