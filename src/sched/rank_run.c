/* rank_run.c - one run on this rank: hs_run_one, with hooks that write its record points and
 * its result into its row of the shared file and fill the report rank 0 accounts for. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Each record point goes to the file as it is made, so status and readers follow running runs. A
 * failed write here stops nothing: the run's final write (status last) is what counts, and it
 * reports the file's trouble. */
static hs_code live_record(void *ctx, const hs_run_info *run, const hs_record *rec, size_t t, hs_error *err) {
    (void)run, (void)err;
    sweep *S = *(sweep **)ctx; /* ctx is the run's row_sink, whose first member is the sweep */
    double v[HS_RECORD_FIELDS];
    for (int f = 0; f < HS_RECORD_FIELDS; f++) v[f] = hs_record_field(rec, f);
    hs_error werr = {0};
    hs_results_write_point(S->file, S->cur_row, t, v, rec->epoch, rec->step, &werr);
    S->cur_step = rec->step;
    return HS_OK;
}

static int should_stop(void *ctx) {
    sweep *S = *(sweep **)ctx; /* the run's row_sink, whose first member is the sweep */
    if (S->rank == 0 && S->nranks > 1) sched_serve_requests(S, 0);
    return hs_sweep_signalled() != 0;
}

/* Test hook: HSWEEP_TEST_KILL_AFTER=RANK:N makes rank RANK die by SIGKILL right after writing
 * its N-th run, the way a node failure or an OOM kill ends a job (tests/cli/test_sweep.sh). */
static void test_kill_hook(sweep *S) {
    const char *v = getenv("HSWEEP_TEST_KILL_AFTER");
    int rank, n;
    if (!v || sscanf(v, "%d:%d", &rank, &n) != 2 || rank != S->rank) return;
    if (++S->runs_here >= (size_t)n) raise(SIGKILL);
}

/* Test hook: HSWEEP_TEST_CRASH_RUN=ID makes the rank that starts run ID die by SIGKILL right
 * after marking it running, every time: a run that always crashes its rank (out of memory, a
 * bad node), which sweep.max_attempts must bound. */
static void test_crash_hook(const sweep *S, size_t row) {
    const char *v = getenv("HSWEEP_TEST_CRASH_RUN");
    if (v && *v && !strncmp(hs_results_id(S->file, row), v, strlen(v))) raise(SIGKILL);
}

/* Copy a message, cut to fit (the file keeps ERROR_LEN bytes anyway). */
void sched_set_msg(char *dst, size_t n, const char *src) {
    size_t len = strlen(src);
    if (len >= n) len = n - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* The store hook of a sweep rank: the run's row of the shared file, and its report to rank 0. */
typedef struct row_sink {
    sweep *S;
    report *rep;
    size_t row;
    double start;
} row_sink;

static hs_code store_row(void *ctx, const hs_run_info *run, const hs_run_outcome *out, hs_error *err) {
    (void)run;
    row_sink *k = ctx;
    sweep *S = k->S;
    report *rep = k->rep;
    const size_t row_i = k->row;
    const hs_train_result *res = &out->res;
    const hs_code rc = out->rc;
    rep->saved_steps = res->checkpoints > 0 ? res->steps - (res->resumed_from_step > 0 ? res->resumed_from_step : 0) : 0;
    rep->resumed_step = rc == HS_OK ? res->resumed_from_step : -1;
    for (size_t i = 0; i < S->n_records * N_LAYER_METRICS * S->max_layers; i++) S->layers[i] = NAN;
    for (size_t t = 0; rc == HS_OK && t < res->n_records && t < S->n_records; t++)
        for (int f = 0; f < N_LAYER_METRICS; f++)
            for (size_t l = 0; l < res->n_layers && l < S->max_layers; l++)
                S->layers[(t * N_LAYER_METRICS + (size_t)f) * S->max_layers + l] =
                    res->layers[(t * HS_LAYER_FIELDS + (size_t)f) * res->n_layers + l];

    for (size_t i = 0; i < S->n_records * HS_RECORD_FIELDS; i++) S->records[i] = NAN;
    for (size_t t = 0; rc == HS_OK && t < res->n_records && t < S->n_records; t++)
        for (int f = 0; f < HS_RECORD_FIELDS; f++)
            S->records[t * HS_RECORD_FIELDS + f] = hs_record_field(&res->records[t], f);
    hs_results_row row = {.rank = S->rank, .attempts = hs_results_attempts(S->file, row_i), .start = k->start,
                          .end = hs_time_unix()};
    row.wall = row.end - k->start;
    row.provenance = S->provenance.buf;
    if (out->checkpoint_io) {
        row.state = HS_STATE_PENDING, row.attempts--;
        rep->io_error = 1;
        sched_set_msg(rep->error, sizeof rep->error, out->err.msg);
    } else if (rc != HS_OK) {
        row.state = HS_STATE_FAILED;
        sched_set_msg(rep->error, sizeof rep->error, out->err.msg);
    } else if (res->status == HS_RUN_DIVERGED) {
        row.state = HS_STATE_DIVERGED;
        sched_set_msg(rep->error, sizeof rep->error, res->message);
    } else if (res->status == HS_RUN_STOPPED) {
        row.state = HS_STATE_PENDING; /* interrupted: a resume continues it from its checkpoint */
        row.attempts--;               /* drained on request: that attempt does not count */
        sched_set_msg(rep->error, sizeof rep->error, res->message);
        rep->signalled = 1;
    } else {
        row.state = HS_STATE_DONE;
    }
    row.epochs_done = res->epochs_done, row.steps = res->steps, row.error = rep->error;
    /* the series before the row: hs_results_write_run writes the status, the commit marker */
    hs_code src = HS_OK;
    if (rc == HS_OK && res->n_series) {
        hs_store_series *ser = calloc(res->n_series, sizeof *ser);
        if (!ser) src = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        for (size_t j = 0; ser && j < res->n_series; j++) {
            const hs_series *x = &res->series[j];
            ser[j] = (hs_store_series){.name = x->spec.name, .axes = x->spec.axes, .ndim = x->spec.ndim,
                                       .every = x->spec.every, .n = x->n, .point = x->point, .values = x->values};
            for (int d = 0; d < x->spec.ndim; d++) ser[j].dims[d] = x->spec.dims[d];
        }
        if (ser) src = hs_results_write_series(S->file, row_i, ser, res->n_series, err);
        free(ser);
    }
    /* A failed write is the file's trouble (a full disk, a dead file server), not the run's: the
     * run stays "running" in the file (a resume trains it again) and the sweep stops. */
    if (src == HS_OK)
        src = hs_results_write_run(S->file, row_i, &row, rc == HS_OK ? S->records : NULL,
                                   rc == HS_OK ? S->layers : NULL, err);
    if (src != HS_OK) {
        row.state = HS_STATE_RUNNING;
        rep->io_error = err->code == HS_ERR_IO;
        if (!rep->io_error) row.state = HS_STATE_FAILED;
        sched_set_msg(rep->error, sizeof rep->error, err->msg);
    }
    rep->state = row.state, rep->wall = row.wall, rep->epochs = res->epochs_done;
    return src;
}

/* Train plan run r here; fills rep and writes the run's rows. */
void sched_run_one(sweep *S, size_t r, report *rep) {
    hs_error err = {0};
    memset(rep, 0, sizeof *rep);
    rep->run = (int)r, rep->rank = S->rank;
    double start = hs_time_unix();
    if (S->o->run_fn) { /* benchmark of the dispatch alone */
        rep->state = S->o->run_fn(S->o->run_ctx, r);
        rep->wall = hs_time_unix() - start;
        return;
    }
    const size_t row_i = S->row[r];
    hs_code rc = hs_results_mark_running(S->file, row_i, S->rank, start, &err);
    if (rc != HS_OK) { /* the file cannot be written: do not train what cannot be stored */
        rep->io_error = 1, rep->state = HS_STATE_RUNNING;
        sched_set_msg(rep->error, sizeof rep->error, err.msg);
        rep->wall = hs_time_unix() - start;
        sched_log_line(S, rep);
        return;
    }
    test_crash_hook(S, row_i);
    /* Its checkpoint: saved when drained and every sweep.checkpoint_minutes, continued from by
     * the next attempt (a resumed job, or another rank), removed once the result is stored. */
    char ckpt[4200], who[32];
    snprintf(ckpt, sizeof ckpt, "%s/%s.ckpt", S->ckpt_dir ? S->ckpt_dir : ".", hs_results_id(S->file, row_i));
    snprintf(who, sizeof who, "rank %d", S->rank);
    double minutes = S->o->spec->checkpoint_minutes;
    S->cur_row = row_i, S->cur_step = 0, S->cur_total = S->steps_total[r];
    row_sink sink = {.S = S, .rep = rep, .row = row_i, .start = start};
    hs_run_opts ro = {.plan = S->plan, .r = r, .data = &S->data, .checkpoint = S->ckpt_dir ? ckpt : NULL,
                      .checkpoint_every = minutes > 0 ? 60 * minutes : 0, .who = who,
                      .hooks = {.ctx = &sink, .should_stop = should_stop, .on_record = live_record,
                                .store = store_row}};
    hs_run_one(&ro, &err); /* the outcome is in the file and in rep */
    sched_log_line(S, rep);
    test_kill_hook(S);
}
