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

#include "hsweep/rng.h"
#include "hsweep/train.h"

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
    memset(r, 0, sizeof *r);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ================================================================ evaluation */

void hs_train_evaluate(hs_mlp *net, const hs_dataset *d, hs_loss loss, double *mean_loss, double *accuracy) {
    if (d->n == 0) {
        *mean_loss = *accuracy = NAN;
        return;
    }
    /* Contiguous chunks straight from the dataset: eval mode needs no gather and no batch
     * statistics, so chunk boundaries do not change the result. */
    double sum = 0;
    long long correct = 0;
    int chunk = net->o.max_batch;
    for (long long i = 0; i < d->n; i += chunk) {
        int b = (int)(d->n - i < chunk ? d->n - i : chunk);
        const float *logits = hs_mlp_forward(net, d->x + (size_t)i * (size_t)d->dim, b, HS_MODE_EVAL);
        if (!logits) { /* cannot happen for 1 <= b <= max_batch in eval mode */
            *mean_loss = *accuracy = NAN;
            return;
        }
        int ok = 0;
        sum += b * hs_loss_forward_backward(loss, logits, d->y + i, NULL, b, d->classes, NULL, &ok);
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
    hs_mlp net;
    hs_optim opt;
    float *xb;       /* [B x dim] gathered batch */
    int32_t *yb;     /* [B] */
    uint32_t *order; /* [n] this epoch's permutation */
    size_t cap_records;
    double t0;
} loop;

static hs_code record(loop *L, long long epoch, double lr, double epoch_loss, hs_error *err) {
    hs_train_result *res = L->res;
    if (res->n_records == L->cap_records) return HS_FAIL(err, HS_ERR_INTERNAL, "record table full at epoch %lld", epoch);
    hs_record *r = &res->records[res->n_records];
    *r = (hs_record){.epoch = epoch, .step = res->steps, .lr = lr, .epoch_loss = epoch_loss};
    hs_train_evaluate(&L->net, L->train, L->c->loss, &r->train_loss, &r->train_acc);
    hs_train_evaluate(&L->net, L->test, L->c->loss, &r->test_loss, &r->test_acc);
    r->seconds = now() - L->t0;
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

/* One epoch of minibatch steps. Sets res->status when the run diverges or is asked to stop. */
static hs_code epoch(loop *L, long long e, double lr, double *mean_loss, hs_error *err) {
    const hs_dataset *d = L->train;
    hs_train_result *res = L->res;
    size_t n = (size_t)d->n, dim = (size_t)d->dim;
    int B = L->net.o.max_batch;

    for (size_t i = 0; i < n; i++) L->order[i] = (uint32_t)i;
    hs_rng rng;
    hs_rng_init(&rng, L->c->seed, hs_rng_stream(HS_STREAM_BATCH, (uint32_t)e));
    hs_rng_permute(&rng, L->order, n);

    double sum = 0;
    for (size_t start = 0; start < n; start += (size_t)B) {
        if (L->hooks && L->hooks->should_stop && L->hooks->should_stop(L->hooks->ctx)) {
            res->status = HS_RUN_STOPPED;
            snprintf(res->message, sizeof res->message, "stopped on request in epoch %lld", e + 1);
            return HS_OK;
        }
        int b = (int)(n - start < (size_t)B ? n - start : (size_t)B);
        for (int r = 0; r < b; r++) {
            uint32_t src = L->order[start + (size_t)r];
            memcpy(L->xb + (size_t)r * dim, d->x + (size_t)src * dim, dim * sizeof *L->xb);
            L->yb[r] = d->y[src];
        }
        const float *logits = hs_mlp_forward(&L->net, L->xb, b, HS_MODE_TRAIN);
        if (!logits) return HS_FAIL(err, HS_ERR_INTERNAL, "the net refused a batch of %d rows", b);
        double loss = hs_loss_forward_backward(L->c->loss, logits, L->yb, NULL, b, d->classes, L->net.dlogits, NULL);
        if (!isfinite(loss)) {
            res->status = HS_RUN_DIVERGED;
            snprintf(res->message, sizeof res->message, "loss became %s in epoch %lld at step %lld (lr %g)",
                     isnan(loss) ? "NaN" : "infinite", e + 1, res->steps + 1, lr);
            return HS_OK;
        }
        sum += loss * b;
        hs_mlp_backward(&L->net, L->net.dlogits, b);
        hs_optim_begin_step(&L->opt);
        for (int t = 0; t < L->net.n_tensors; t++) {
            const hs_tensor *ts = &L->net.tensors[t];
            hs_optim_update(&L->opt, L->net.params, L->net.grads, ts->offset, ts->size, lr, decay_of(L, ts));
        }
        res->steps++;
    }
    *mean_loss = sum / (double)n;
    return HS_OK;
}

static hs_code check(const hs_train_config *c, const hs_dataset *train, const hs_dataset *test, hs_error *err) {
    if (train->n < 1 || train->dim < 1 || train->classes < 2)
        return HS_FAIL(err, HS_ERR_VALUE, "training set is empty or malformed (%lld rows of %d dims, %d classes)",
                       train->n, train->dim, train->classes);
    if (test->n > 0 && (test->dim != train->dim || test->classes != train->classes))
        return HS_FAIL(err, HS_ERR_VALUE, "test set has %d dims and %d classes, training set %d and %d", test->dim,
                       test->classes, train->dim, train->classes);
    if (train->n > UINT32_MAX) return HS_FAIL(err, HS_ERR_LIMIT, "training sets above 2^32 rows are not supported");
    long long B = c->batch < train->n ? c->batch : train->n;
    /* A one-sample batch has no variance to normalise by; PyTorch refuses it too. */
    if (c->model.norm == HS_NORM_BATCH && (B == 1 || (train->n > B && train->n % B == 1))) {
        HS_FAIL(err, HS_ERR_VALUE,
                "train.batch: %d with %lld training samples leaves a batch of one sample, which BatchNorm cannot "
                "normalise", c->batch, train->n);
        hs_error_hint(err, "choose a train.batch that does not leave a remainder of 1 (e.g. %lld)", B + 1);
        return HS_ERR_VALUE;
    }
    return HS_OK;
}

hs_code hs_train_run(const hs_train_config *c, const hs_dataset *train, const hs_dataset *test,
                     const hs_train_hooks *hooks, hs_train_result *res, hs_error *err) {
    memset(res, 0, sizeof *res);
    hs_dataset none = {0};
    if (!test) test = &none;
    HS_TRY(err, check(c, train, test, err));

    loop L = {.c = c, .train = train, .test = test, .hooks = hooks, .res = res};
    hs_code rc = HS_OK;
    hs_mlp_opts mo = c->model;
    mo.in_dim = train->dim;
    mo.out_dim = train->classes;
    mo.max_batch = (int)(c->batch < train->n ? c->batch : train->n);
    if ((rc = hs_mlp_init(&L.net, &mo, err)) != HS_OK) goto out;
    if ((rc = hs_optim_init(&L.opt, &c->optim, L.net.n_params, err)) != HS_OK) goto out;
    res->n_params = L.net.n_params;

    int every = c->record_every > 0 ? c->record_every : 1;
    L.cap_records = (size_t)(c->epochs / every) + 2;
    res->records = calloc(L.cap_records, sizeof *res->records);
    L.xb = malloc((size_t)mo.max_batch * (size_t)train->dim * sizeof *L.xb);
    L.yb = malloc((size_t)mo.max_batch * sizeof *L.yb);
    L.order = malloc((size_t)train->n * sizeof *L.order);
    if (!res->records || !L.xb || !L.yb || !L.order) {
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory for a training of %lld samples", train->n);
        goto out;
    }

    L.t0 = now();
    if ((rc = record(&L, 0, hs_schedule_lr(&c->schedule, 0), NAN, err)) != HS_OK) goto out;
    for (long long e = 0; e < c->epochs; e++) {
        double lr = hs_schedule_lr(&c->schedule, e), mean_loss = NAN;
        if ((rc = epoch(&L, e, lr, &mean_loss, err)) != HS_OK) goto out;
        if (res->status != HS_RUN_DONE) break;
        res->epochs_done = e + 1;
        if ((e + 1) % every == 0 || e + 1 == c->epochs)
            if ((rc = record(&L, e + 1, lr, mean_loss, err)) != HS_OK) goto out;
    }
    res->seconds = now() - L.t0;
out:
    if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
    free(L.xb);
    free(L.yb);
    free(L.order);
    hs_optim_free(&L.opt);
    hs_mlp_free(&L.net);
    return rc;
}
