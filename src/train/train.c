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

#include "checkpoint.h"
#include "hsweep/metrics.h"
#include "hsweep/rng.h"
#include "hsweep/train.h"
#include "hsweep/util.h"
#include "internal.h"
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

typedef struct loop {
    const hs_train_config *c;
    const hs_dataset *train, *test;
    const hs_train_hooks *hooks;
    hs_train_result *res;
    hs_model net;
    hs_optim opt;
    int batch;       /* B: rows per step (the net's max_batch may be larger, for bn_chunk) */
    float *xb;       /* [B x dim] gathered batch */
    int32_t *yb;     /* [B] */
    float *tb;       /* [B x t_dim] gathered targets, when the loss uses them */
    long long *rec_steps; /* record.schedule steps/log: the step counts of the record points */
    size_t n_rec_steps, next_rec;
    double since_sum;     /* minibatch losses since the last record point (steps/log schedules) */
    long long since_n;
    rec_state *rec;
    uint32_t *order; /* [n] this epoch's permutation */
    size_t cap_records;
    double t0;
    float *w0;     /* [n_params] the initial parameters, for weight_change */
    float **feat;  /* [n_hidden][n x width]: features of the training set, for D */
    /* checkpoints (NULL ck: none) */
    const hs_train_checkpointing *ck;
    ck_identity id;
    uint8_t w0_sha[32]; /* SHA-256 of w0, once per process */
    int have_w0_sha;
    double next_save;   /* hs_time_mono() at which the next periodic save is due */
} loop;

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

/* Separation fuzziness of every measured layer on the training set. The features of all hidden
 * layers are collected in one pass of forwards (eval mode: running statistics, chunks of
 * max_batch; batch mode: statistics of consecutive chunks of bn_chunk rows, as He & Su), kept
 * as float, and reduced in double by hs_separation. */
static hs_code record_separation(loop *L, size_t t, hs_error *err) {
    const hs_dataset *d = L->train;
    hs_model *net = &L->net;
    const int nh = net->n_hidden;
    size_t n = (size_t)d->n;
    if (!L->feat) {
        L->feat = calloc((size_t)(nh ? nh : 1), sizeof *L->feat);
        if (!L->feat) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for features");
        for (int l = 0; l < nh; l++)
            if (!(L->feat[l] = malloc(n * (size_t)net->hidden_width[l] * sizeof **L->feat)))
                return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the features of layer %d (%zu x %d floats)",
                               l + 1, n, net->hidden_width[l]);
    }
    hs_mode mode = net->batch_stats ? L->c->bn_record_mode : HS_MODE_EVAL;
    size_t chunk = mode == HS_MODE_BATCH ? (size_t)L->c->bn_chunk : (size_t)net->max_batch;
    if (chunk > n) chunk = n;
    for (size_t i = 0; i < n; i += chunk) {
        int b = (int)(n - i < chunk ? n - i : chunk);
        if (!hs_model_forward(net, d->x + i * (size_t)d->dim, b, mode))
            return HS_FAIL(err, HS_ERR_INTERNAL, "the net refused a feature chunk of %d rows", b);
        for (int l = 0; l < nh; l++) {
            size_t w = (size_t)net->hidden_width[l];
            memcpy(L->feat[l] + i * w, hs_model_hidden(net, l), (size_t)b * w * sizeof **L->feat);
        }
    }
    hs_sep_weighting wt = L->c->sep_paper_weighting ? HS_SEP_PAPER : HS_SEP_BALANCED;
    for (int l = 0; l <= nh; l++) {
        const float *x = l == 0 ? d->x : L->feat[l - 1];
        size_t p = l == 0 ? (size_t)d->dim : (size_t)net->hidden_width[l - 1];
        hs_sep_result sr;
        HS_TRY(err, hs_separation(x, n, p, d->y, d->classes, wt, 0, &sr, err));
        *layer_cell(L, t, LF_SEP, l) = sr.D;
        *layer_cell(L, t, LF_SEP_RANK, l) = sr.rank;
        *layer_cell(L, t, LF_SEP_COND, l) = sr.cond;
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

/* Weight decay of tensor t: train.decay_on weights exempts biases and BN parameters. */
static double decay_of(const loop *L, const hs_tensor *t) {
    if (L->c->decay_weights_only && t->kind != HS_TENSOR_WEIGHT) return 0;
    return L->c->weight_decay;
}

static hs_code save_checkpoint(loop *L, long long e, size_t start, double sum, hs_error *err);

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
                HS_TRY(err, save_checkpoint(L, e, start, sum, err));
                snprintf(res->message, sizeof res->message,
                         "stopped on request in epoch %lld (checkpoint at step %lld)", e + 1, res->steps);
            }
            return HS_OK;
        }
        if (L->ck && L->ck->every_seconds > 0 && hs_time_mono() >= L->next_save) {
            HS_TRY(err, save_checkpoint(L, e, start, sum, err));
            L->next_save = hs_time_mono() + L->ck->every_seconds;
        }
        int b = (int)(n - start < (size_t)B ? n - start : (size_t)B);
        for (int r = 0; r < b; r++) {
            uint32_t src = L->order[start + (size_t)r];
            memcpy(L->xb + (size_t)r * dim, d->x + (size_t)src * dim, dim * sizeof *L->xb);
            L->yb[r] = d->y[src];
            if (L->tb) memcpy(L->tb + (size_t)r * d->t_dim, d->t + (size_t)src * d->t_dim, (size_t)d->t_dim * sizeof *L->tb);
        }
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
        hs_model_backward(&L->net, L->net.dlogits, b);
        hs_optim_begin_step(&L->opt);
        for (int t = 0; t < L->net.n_tensors; t++) {
            const hs_tensor *ts = &L->net.tensors[t];
            hs_optim_update(&L->opt, L->net.params, L->net.grads, ts->offset, ts->size, lr * L->net.lr_scale,
                            decay_of(L, ts));
        }
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

/* ================================================================ checkpoints
 *
 * The state at a step boundary, and why each piece is saved or rebuilt:
 *   saved   the parameters and the model's buffers (BatchNorm running statistics: updated by
 *           every training forward, so they are history like the parameters);
 *           the optimiser's moments and its step count (bc1/bc2 are recomputed from the step by
 *           hs_optim_begin_step before any update reads them, so they are not saved);
 *           the position: epoch e and the index in its permutation where the next step starts
 *           (the permutation itself is rebuilt: it is a pure function of (seed, e), drawn from
 *           a fresh counter-based stream at the top of every epoch);
 *           the epoch's loss sum so far (a double, bit for bit: the epoch mean continues it in
 *           the same order), and the since_sum / since_n / next_rec of the steps and log
 *           schedules;
 *           steps, epochs_done, the records and per-layer values so far, and every series'
 *           points, values and count (only the filled points: the rest are still NaN / -1);
 *           the training time so far, so that `seconds` continues where it stopped;
 *           the recorders' running permutations of record.eval_samples draws (rec_draws);
 *   rebuilt the initial parameters w0 (weight_change): the fresh net of this process is w0, as
 *           initialisation depends on the config and data alone; the file keeps w0's SHA-256
 *           and a resume refuses a net that was built differently (e.g. by another LAPACK);
 *           everything else the recorders keep (centroid rows, snapshot rows, the modes of
 *           Sigma_yx) and the record schedule's step list, which follow from config and data;
 *   not needed  the gradients (every backward overwrites them before anything reads them, and
 *           no record point can come between a resume and the next step), the activations and
 *           every other scratch buffer, which each step or record point fills before reading.
 * Nothing here draws a random number or touches the arithmetic of a step.
 */

/* The scalars of the state, written and read as one-element sections. */
typedef struct ck_pos {
    int64_t epoch, start, steps, epochs_done, n_records, next_rec, since_n, optim_step;
    double epoch_sum, since_sum, seconds;
    int64_t series_n[HS_TRAIN_MAX_SERIES];
} ck_pos;

/* 11 scalars, 3 sections per series, 10 arrays, and room to grow; a full table is a bug that
 * save and restore report rather than drop a section */
#define CK_MAX_SECTIONS (32 + 3 * HS_TRAIN_MAX_SERIES)

/* The section table of one save or restore, pointing into the loop, the result and scratch. */
typedef struct ck_table {
    ck_pos pos;
    int64_t *rec_ints;  /* [2 n_records]: epoch, step of each record */
    double *rec_reals;  /* [7 n_records]: lr, epoch_loss, train/test loss/acc, seconds */
    uint8_t w0_sha[32];
    char names[HS_TRAIN_MAX_SERIES][3][72];
    ck_section s[CK_MAX_SECTIONS];
    size_t n;
} ck_table;

_Static_assert(sizeof(long long) == sizeof(int64_t), "series points are stored as i64");
enum { REC_INTS = 2, REC_REALS = HS_RECORD_FIELDS - 2 };

static void add(ck_table *t, const char *name, ck_type type, size_t count, void *data) {
    if (t->n < CK_MAX_SECTIONS) t->s[t->n] = (ck_section){name, type, count, data};
    t->n++;
}

static hs_code table_check(const ck_table *t, hs_error *err) {
    if (t->n > CK_MAX_SECTIONS)
        return HS_FAIL(err, HS_ERR_INTERNAL, "a checkpoint of %zu sections, CK_MAX_SECTIONS is %d", t->n,
                       CK_MAX_SECTIONS);
    return HS_OK;
}

/* The scalar sections (into t->pos). */
static void scalar_sections(loop *L, ck_table *t) {
    ck_pos *p = &t->pos;
    add(t, "loop.epoch", CK_I64, 1, &p->epoch);
    add(t, "loop.start", CK_I64, 1, &p->start);
    add(t, "loop.epoch_sum", CK_F64, 1, &p->epoch_sum);
    add(t, "loop.since_sum", CK_F64, 1, &p->since_sum);
    add(t, "loop.since_n", CK_I64, 1, &p->since_n);
    add(t, "loop.next_rec", CK_I64, 1, &p->next_rec);
    add(t, "loop.seconds", CK_F64, 1, &p->seconds);
    add(t, "result.steps", CK_I64, 1, &p->steps);
    add(t, "result.epochs_done", CK_I64, 1, &p->epochs_done);
    add(t, "result.n_records", CK_I64, 1, &p->n_records);
    add(t, "optim.step", CK_I64, 1, &p->optim_step);
    for (size_t k = 0; k < L->res->n_series && k < HS_TRAIN_MAX_SERIES; k++) {
        snprintf(t->names[k][0], sizeof t->names[k][0], "series.%s.n", L->res->series[k].spec.name);
        add(t, t->names[k][0], CK_I64, 1, &p->series_n[k]);
    }
}

/* The array sections, sized by t->pos (n_records, series_n): into the live arrays, or (records,
 * w0's digest) into t's scratch. */
static void array_sections(loop *L, ck_table *t) {
    hs_train_result *res = L->res;
    size_t nr = (size_t)t->pos.n_records;
    add(t, "result.records.epoch_step", CK_I64, REC_INTS * nr, t->rec_ints);
    add(t, "result.records.values", CK_F64, REC_REALS * nr, t->rec_reals);
    add(t, "result.layers", CK_F64, nr * HS_LAYER_FIELDS * res->n_layers, res->layers);
    for (size_t k = 0; k < res->n_series && k < HS_TRAIN_MAX_SERIES; k++) {
        hs_series *S = &res->series[k];
        size_t n = (size_t)t->pos.series_n[k];
        snprintf(t->names[k][1], sizeof t->names[k][1], "series.%s.point", S->spec.name);
        snprintf(t->names[k][2], sizeof t->names[k][2], "series.%s.values", S->spec.name);
        add(t, t->names[k][1], CK_I64, n, S->point);
        add(t, t->names[k][2], CK_F64, n * S->size, S->values);
    }
    size_t nb = 0;
    float *buffers = hs_model_buffers(&L->net, &nb);
    add(t, "model.params", CK_F32, L->net.n_params, L->net.params);
    add(t, "model.buffers", CK_F32, nb, buffers);
    add(t, "optim.m", CK_F32, L->opt.m ? L->opt.n : 0, L->opt.m);
    add(t, "optim.v", CK_F32, L->opt.v ? L->opt.n : 0, L->opt.v);
    add(t, "w0.sha256", CK_U8, sizeof t->w0_sha, t->w0_sha);
    size_t nd = 0;
    uint32_t *draws = rec_draws(L->rec, 0, &nd);
    add(t, "recorders.train_draws", CK_U32, nd, draws);
    draws = rec_draws(L->rec, 1, &nd);
    add(t, "recorders.test_draws", CK_U32, nd, draws);
}

static hs_code table_alloc(ck_table *t, size_t n_records, hs_error *err) {
    t->rec_ints = malloc((n_records ? n_records : 1) * REC_INTS * sizeof *t->rec_ints);
    t->rec_reals = malloc((n_records ? n_records : 1) * REC_REALS * sizeof *t->rec_reals);
    if (!t->rec_ints || !t->rec_reals) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for a checkpoint's records");
    return HS_OK;
}

static void table_free(ck_table *t) {
    free(t->rec_ints);
    free(t->rec_reals);
}

static void w0_digest(loop *L) {
    if (L->have_w0_sha) return;
    hs_sha256(L->w0, L->net.n_params * sizeof *L->w0, L->w0_sha);
    L->have_w0_sha = 1;
}

/* Save the state at the boundary before the step at index `start` of epoch e's permutation;
 * sum = the epoch's loss sum so far. */
static hs_code save_checkpoint(loop *L, long long e, size_t start, double sum, hs_error *err) {
    const double t_begin = hs_time_mono();
    hs_train_result *res = L->res;
    ck_table *t = calloc(1, sizeof *t);
    if (!t) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for a checkpoint");
    hs_code rc = table_alloc(t, res->n_records, err);
    if (rc == HS_OK) {
        t->pos = (ck_pos){.epoch = e, .start = (int64_t)start, .steps = res->steps, .epochs_done = res->epochs_done,
                          .n_records = (int64_t)res->n_records, .next_rec = (int64_t)L->next_rec,
                          .since_n = L->since_n, .optim_step = L->opt.step, .epoch_sum = sum,
                          .since_sum = L->since_sum, .seconds = t_begin - L->t0};
        for (size_t k = 0; k < res->n_series && k < HS_TRAIN_MAX_SERIES; k++)
            t->pos.series_n[k] = (int64_t)res->series[k].n;
        for (size_t i = 0; i < res->n_records; i++) {
            const hs_record *r = &res->records[i];
            t->rec_ints[REC_INTS * i] = r->epoch, t->rec_ints[REC_INTS * i + 1] = r->step;
            for (int f = 0; f < REC_REALS; f++) t->rec_reals[REC_REALS * i + f] = hs_record_field(r, REC_INTS + f);
        }
        w0_digest(L);
        memcpy(t->w0_sha, L->w0_sha, sizeof t->w0_sha);
        scalar_sections(L, t);
        array_sections(L, t);
        size_t bytes = 0;
        rc = table_check(t, err);
        if (rc == HS_OK) rc = ck_write(L->ck->path, &L->id, t->s, t->n, &bytes, err);
        if (rc == HS_OK) {
            res->checkpoints++;
            res->checkpoint_bytes += bytes;
            res->checkpoint_seconds += hs_time_mono() - t_begin;
        }
    }
    table_free(t);
    free(t);
    if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
    return rc;
}

/* A scalar of the checkpoint that contradicts the run (only a bug or a forged file gets past the
 * checksum and the config digest with one). */
static hs_code bad_scalar(const loop *L, const char *section, long long value, const char *why, hs_error *err) {
    return HS_FAIL(err, HS_ERR_IO, "%s: section '%s' = %lld does not fit this run (%s)", L->ck->path, section, value,
                   why);
}

/* The scalars read from a checkpoint, checked against each other and the run before anything
 * is sized from them. */
static hs_code check_position(const loop *L, const ck_pos *p, hs_error *err) {
    const hs_train_result *res = L->res;
    const long long n = L->train->n, B = L->batch, spe = (n + B - 1) / B;
    if (p->epoch < 0 || p->epoch >= L->c->epochs)
        return bad_scalar(L, "loop.epoch", p->epoch, "not below train.epochs", err);
    if (p->start < 0 || p->start >= n || p->start % B != 0)
        return bad_scalar(L, "loop.start", p->start, "not a batch boundary of the training set", err);
    if (p->steps != p->epoch * spe + p->start / B)
        return bad_scalar(L, "result.steps", p->steps, "not the step of that position", err);
    if (p->epochs_done != p->epoch) return bad_scalar(L, "result.epochs_done", p->epochs_done, "not the epoch", err);
    if (p->optim_step != p->steps) return bad_scalar(L, "optim.step", p->optim_step, "not result.steps", err);
    if (p->n_records < 1 || (size_t)p->n_records > L->cap_records)
        return bad_scalar(L, "result.n_records", p->n_records, "more than the run's record points", err);
    if (L->rec_steps ? p->next_rec != p->n_records : p->next_rec != 0)
        return bad_scalar(L, "loop.next_rec", p->next_rec, "not the record schedule's position", err);
    if (p->since_n < 0) return bad_scalar(L, "loop.since_n", p->since_n, "negative", err);
    if (!(p->seconds >= 0) || !isfinite(p->seconds))
        return HS_FAIL(err, HS_ERR_IO, "%s: section 'loop.seconds' = %g is not a time", L->ck->path, p->seconds);
    for (size_t k = 0; k < res->n_series && k < HS_TRAIN_MAX_SERIES; k++)
        if (p->series_n[k] < 0 || (size_t)p->series_n[k] > res->series[k].spec.n_points)
            return HS_FAIL(err, HS_ERR_IO, "%s: section 'series.%s.n' = %lld does not fit this run's %zu points",
                           L->ck->path, res->series[k].spec.name, (long long)p->series_n[k],
                           res->series[k].spec.n_points);
    return HS_OK;
}

/* Continue from the checkpoint at L->ck->path when there is one (*found = 1; *e, *start, *sum:
 * where the loop picks up). Called on the freshly built loop, before record point 0. */
static hs_code restore_checkpoint(loop *L, int *found, long long *e, size_t *start, double *sum, hs_error *err) {
    *found = 0;
    ck_file *f = NULL;
    HS_TRY(err, ck_open(L->ck->path, &L->id, &f, err));
    if (!f) return HS_OK;
    hs_train_result *res = L->res;
    ck_table *t = calloc(1, sizeof *t);
    hs_code rc = t ? HS_OK : HS_FAIL(err, HS_ERR_NOMEM, "out of memory for a checkpoint");
    if (rc == HS_OK) {
        scalar_sections(L, t);
        rc = table_check(t, err);
        for (size_t i = 0; rc == HS_OK && i < t->n; i++) rc = ck_read(f, &t->s[i], err);
    }
    if (rc == HS_OK) rc = check_position(L, &t->pos, err);
    if (rc == HS_OK) rc = table_alloc(t, (size_t)t->pos.n_records, err);
    if (rc == HS_OK) {
        /* the fresh net is the initial one: w0, before the checkpoint's parameters replace it */
        memcpy(L->w0, L->net.params, L->net.n_params * sizeof *L->w0);
        w0_digest(L);
        size_t first = t->n;
        array_sections(L, t);
        rc = table_check(t, err);
        for (size_t i = first; rc == HS_OK && i < t->n; i++) rc = ck_read(f, &t->s[i], err);
    }
    if (rc == HS_OK) rc = ck_finish(f, err);
    if (rc == HS_OK && memcmp(t->w0_sha, L->w0_sha, sizeof t->w0_sha) != 0) {
        rc = HS_FAIL(err, HS_ERR_IO, "%s: this process initialises the net differently from the process that wrote "
                     "the checkpoint (section 'w0.sha256' differs)", L->ck->path);
        hs_error_hint(err, "resume on the same kind of machine and build, or remove the checkpoint to start afresh");
    }
    if (rc == HS_OK) {
        const ck_pos *p = &t->pos;
        res->steps = p->steps, res->epochs_done = p->epochs_done, res->n_records = (size_t)p->n_records;
        for (size_t i = 0; i < res->n_records; i++) {
            hs_record *r = &res->records[i];
            const double *x = t->rec_reals + REC_REALS * i;
            *r = (hs_record){.epoch = t->rec_ints[REC_INTS * i], .step = t->rec_ints[REC_INTS * i + 1], .lr = x[0],
                             .epoch_loss = x[1], .train_loss = x[2], .train_acc = x[3], .test_loss = x[4],
                             .test_acc = x[5], .seconds = x[6]};
        }
        for (size_t k = 0; k < res->n_series && k < HS_TRAIN_MAX_SERIES; k++) res->series[k].n = (size_t)p->series_n[k];
        L->next_rec = (size_t)p->next_rec, L->since_sum = p->since_sum, L->since_n = p->since_n;
        L->opt.step = p->optim_step;
        L->t0 = hs_time_mono() - p->seconds;
        res->resumed_from_step = p->steps, res->resumed_from_epoch = p->epoch;
        *e = p->epoch, *start = (size_t)p->start, *sum = p->epoch_sum;
        *found = 1;
    }
    if (t) table_free(t);
    free(t);
    ck_close(f);
    if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
    return rc;
}

/* The checkpointing options, checked; L->ck stays NULL when there is no path. */
static hs_code checkpoint_setup(loop *L, hs_error *err) {
    const hs_train_checkpointing *ck = L->hooks ? &L->hooks->checkpoint : NULL;
    if (!ck || !ck->path) return HS_OK;
    if (!ck->path[0]) return HS_FAIL(err, HS_ERR_VALUE, "checkpoint path is empty");
    if (!(ck->every_seconds >= 0) || !isfinite(ck->every_seconds))
        return HS_FAIL(err, HS_ERR_VALUE, "checkpoint every_seconds must be finite and >= 0, got %g",
                       ck->every_seconds);
    memset(&L->id, 0, sizeof L->id);
    if (ck->run_id) {
        size_t n = strlen(ck->run_id);
        int ok = n == sizeof L->id.run_id;
        for (size_t i = 0; ok && i < n; i++) ok = strchr("0123456789abcdefABCDEF", ck->run_id[i]) != NULL;
        if (!ok) return HS_FAIL(err, HS_ERR_VALUE, "checkpoint run id '%s' is not 16 hex digits", ck->run_id);
        memcpy(L->id.run_id, ck->run_id, sizeof L->id.run_id);
    }
    ck_config_digest(L->c, L->train, L->test, L->id.config);
    L->ck = ck;
    return HS_OK;
}

static long long batch_of(const hs_train_config *c, const hs_dataset *train) {
    return hs_train_batch(c, train->n, train->classes);
}

/* The step counts of the record points of the steps and log schedules, ascending, from 0 to
 * total (steps may be NULL to count them). log: round(total^(i / (points - 1))) for i = 0 ..
 * points - 1, duplicates dropped, after step 0. */
static size_t schedule_steps(const hs_train_config *c, long long total, long long *steps) {
    size_t n = 0;
    if (steps) steps[n] = 0;
    n++;
    if (c->record_schedule == HS_REC_STEPS) {
        long long k = c->record_every_steps > 0 ? c->record_every_steps : 1;
        for (long long s = k; s < total; s += k, n++)
            if (steps) steps[n] = s;
    } else {
        long long prev = 0;
        int P = c->record_log_points > 1 ? c->record_log_points : 2;
        for (int i = 0; i < P; i++) {
            long long s = (long long)llround(pow((double)total, (double)i / (P - 1)));
            if (s <= prev || s >= total) continue;
            if (steps) steps[n] = s;
            n++, prev = s;
        }
    }
    if (total > 0) {
        if (steps) steps[n] = total;
        n++;
    }
    return n;
}

/* The sets against each other, then everything their shape decides (shared with the preflight, so
 * a plan refuses exactly what a training would). */
static hs_code check(const hs_train_config *c, const hs_dataset *train, const hs_dataset *test, hs_error *err) {
    if (test->n > 0 && train->n > 0 && (test->dim != train->dim || test->classes != train->classes))
        return HS_FAIL(err, HS_ERR_VALUE, "test set has %d dims and %d classes, training set %d and %d", test->dim,
                       test->classes, train->dim, train->classes);
    hs_data_shape sh = {.dim = train->dim, .classes = train->classes, .t_dim = train->t ? train->t_dim : 0,
                        .n_train = train->n, .n_test = test->n, .levels = train->levels,
                        .branching = train->branching, .modules = train->modules};
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

/* The gated routing net on gated rows, its balanced init aligned with the items' Sigma_yx. */
static hs_code build_gated(loop *L, const hs_dataset *train, int max_batch, hs_error *err) {
    const hs_train_config *c = L->c;
    if (train->modules < 1 || !train->t)
        return HS_FAIL(err, HS_ERR_VALUE, "model.arch gated needs the rows of a routing task (data.kind gated_toy or "
                                          "gated_fmnist), not data.kind %s", c->data.kind);
    double *yx = NULL;
    int in = 0;
    if (c->model.init == HS_INIT_BALANCED) HS_TRY(err, rec_sigma_yx(train, train->t_dim, &yx, &in, err));
    int K = c->data.active < c->data.modules ? c->data.active : c->data.modules;
    hs_gated_opts go = {.in_dim = train->dim - 2, .hidden = c->width, .out_dim = train->t_dim,
                        .modules = train->modules, .pathways = train->modules * K, .init = c->model.init,
                        .init_scale = c->model.init_scales[0], .sigma_yx = yx, .seed = c->seed,
                        .max_batch = max_batch};
    hs_code rc = hs_model_gated(&L->net, &go, err);
    free(yx);
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
    hs_mlp_opts mo = c->model;
    double *yx = NULL;
    mo.in_dim = train->dim;
    /* MSE on real targets regresses them; otherwise one output per class */
    mo.out_dim = c->loss == HS_LOSS_MSE && train->t && train->t_dim > 0 ? train->t_dim : train->classes;
    mo.max_batch = L.batch = (int)batch_of(c, train);
    /* batch-mode feature extraction forwards chunks of bn_chunk rows */
    if (c->separation != HS_SEP_NONE && c->bn_record_mode == HS_MODE_BATCH && c->arch == HS_ARCH_MLP &&
        c->model.norm == HS_NORM_BATCH) {
        long long chunk = c->bn_chunk < train->n ? c->bn_chunk : train->n;
        if (chunk > mo.max_batch) mo.max_batch = (int)chunk;
    }
    if (c->arch == HS_ARCH_KERNEL) {
        rc = HS_FAIL(err, HS_ERR_USAGE, "model.arch kernel is solved on all ranks together: use `hsweep run` (under "
                                        "mpirun for several ranks), not a single training");
        goto out;
    }
    if (c->arch == HS_ARCH_MLP) {
        if (mo.init == HS_INIT_BALANCED) {
            int in = 0;
            if ((rc = rec_sigma_yx(train, mo.out_dim, &yx, &in, err)) != HS_OK) goto out;
            mo.sigma_yx = yx;
        }
        if ((rc = hs_model_mlp(&L.net, &mo, err)) != HS_OK) goto out;
    } else if (c->arch == HS_ARCH_GATED) {
        if ((rc = build_gated(&L, train, mo.max_batch, err)) != HS_OK) goto out;
    } else {
        /* the hierarchical nets read [channels x positions] inputs and have one layer per level */
        int S = c->filter, positions = train->height * train->width, depth = 0;
        if (train->channels < 1 || positions < 1 || train->channels * positions != train->dim) {
            rc = HS_FAIL(err, HS_ERR_VALUE, "model.arch cnn/lcn/fcn needs data with a [channels x positions] layout "
                                            "(rhm or srhm); got %d dims", train->dim);
            goto out;
        }
        for (long long p = 1; S >= 2 && p < positions; p *= S) depth++;
        hs_hnet_opts ho = {.kind = c->arch == HS_ARCH_CNN ? HS_HNET_CNN : c->arch == HS_ARCH_LCN ? HS_HNET_LCN : HS_HNET_FCN,
                           .channels = train->channels, .positions = positions, .filter = S, .depth = depth,
                           .width = c->width, .out_dim = train->classes, .bias_scale = 0.1, .seed = c->seed,
                           .max_batch = mo.max_batch};
        if ((rc = hs_model_hnet(&L.net, &ho, err)) != HS_OK) goto out;
    }
    if ((rc = hs_optim_init(&L.opt, &c->optim, L.net.n_params, err)) != HS_OK) goto out;
    res->n_params = L.net.n_params;

    int every = c->record_every > 0 ? c->record_every : 1;
    hs_train_layout lay;
    hs_data_shape shape = {.dim = train->dim, .classes = train->classes, .t_dim = train->t ? train->t_dim : 0,
                           .n_train = train->n, .n_test = test->n, .levels = train->levels,
                           .branching = train->branching, .modules = train->modules};
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
        L.n_rec_steps = schedule_steps(c, lay.total_steps, NULL);
        if (!(L.rec_steps = malloc(L.n_rec_steps * sizeof *L.rec_steps))) goto nomem;
        schedule_steps(c, lay.total_steps, L.rec_steps);
        L.next_rec = 1; /* point 0 is recorded before the first step */
    }
    res->records = calloc(L.cap_records, sizeof *res->records);
    res->n_layers = (size_t)L.net.n_hidden + 1;
    res->layers = malloc(L.cap_records * HS_LAYER_FIELDS * res->n_layers * sizeof *res->layers);
    L.w0 = malloc(L.net.n_params * sizeof *L.w0);
    for (size_t i = 0; res->layers && i < L.cap_records * HS_LAYER_FIELDS * res->n_layers; i++) res->layers[i] = NAN;
    L.xb = malloc((size_t)mo.max_batch * (size_t)train->dim * sizeof *L.xb);
    L.yb = malloc((size_t)mo.max_batch * sizeof *L.yb);
    L.order = malloc((size_t)train->n * sizeof *L.order);
    if (c->loss == HS_LOSS_MSE && train->t && train->t_dim == L.net.out_dim)
        if (!(L.tb = malloc((size_t)mo.max_batch * (size_t)train->t_dim * sizeof *L.tb))) goto nomem;
    if (!res->records || !res->layers || !L.w0 || !L.xb || !L.yb || !L.order) goto nomem;
    if ((rc = rec_init(&L.rec, c, &lay, &L.net, train, test, res, err)) != HS_OK) goto out;

    L.t0 = hs_time_mono();
    long long e0 = 0;
    size_t first = 0;
    double sum0 = 0;
    int resumed = 0;
    if ((rc = checkpoint_setup(&L, err)) != HS_OK) goto out;
    if (L.ck && L.ck->resume && (rc = restore_checkpoint(&L, &resumed, &e0, &first, &sum0, err)) != HS_OK) goto out;
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
    free(yx);
    free(L.tb);
    free(L.rec_steps);
    rec_free(L.rec);
    free(L.xb);
    free(L.yb);
    free(L.order);
    free(L.w0);
    for (int l = 0; L.feat && l < L.net.n_hidden; l++) free(L.feat[l]);
    free(L.feat);
    hs_optim_free(&L.opt);
    hs_model_free(&L.net);
    return rc;
}

/* ================================================================ layout from the config */

hs_code hs_train_layout_for(const hs_train_config *c, const hs_data_shape *shp, hs_train_layout *out, hs_error *err) {
    memset(out, 0, sizeof *out);
    const hs_data_shape sh = *shp;
    if (sh.n_train < 1) return HS_FAIL(err, HS_ERR_VALUE, "the training set of this config is empty");
    long long B = hs_train_batch(c, sh.n_train, sh.classes);
    out->steps_per_epoch = (sh.n_train + B - 1) / B;
    out->total_steps = out->steps_per_epoch * c->epochs;
    if (c->record_schedule == HS_REC_EPOCHS) {
        long long every = c->record_every > 0 ? c->record_every : 1;
        out->n_records = 1 + (size_t)(c->epochs / every) + (c->epochs % every ? 1 : 0);
    } else {
        out->n_records = schedule_steps(c, out->total_steps, NULL);
    }
    switch (c->arch) {
    case HS_ARCH_MLP: out->n_layers = (size_t)c->model.n_hidden + 1; break;
    case HS_ARCH_GATED: out->n_layers = 2; break;
    default: out->n_layers = (size_t)c->data.L + 1; break;
    }
    if (c->arch == HS_ARCH_KERNEL) out->n_records = 1;
    HS_TRY(err, rec_layout(c, &sh, out, err));
    return HS_OK;
}

hs_code hs_train_layout_of(const hs_train_config *c, hs_train_layout *out, hs_error *err) {
    hs_data_shape sh;
    HS_TRY(err, hs_data_shape_of(&c->data, &sh, err));
    return hs_train_layout_for(c, &sh, out, err);
}
