/* resume.c - checkpoints of a training in progress: what is saved at a step boundary, how it is
 * read back and checked against the run that resumes (see include/hsweep/train.h and loop.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "hsweep/util.h"
#include "loop.h"

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
hs_code train_save_checkpoint(loop *L, long long e, size_t start, double sum, hs_error *err) {
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
hs_code train_restore_checkpoint(loop *L, int *found, long long *e, size_t *start, double *sum, hs_error *err) {
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
hs_code train_checkpoint_setup(loop *L, hs_error *err) {
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
