/* solved.c - runs solved in closed form (kernel ridge regression) rather than trained: all
 * ranks solve each one together, before the trainings are handed out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/kernel.h"
#include "internal.h"

/* A kernel run's hooks: the solve on every rank, the row written by rank 0. */
typedef struct solved_sink {
    sweep *S;
    report *rep;
    double start;
    hs_code marked; /* rank 0: marking the row running failed with this (and merr) */
    hs_error merr;
} solved_sink;

/* Kernel ridge regression on all ranks together (a BLACS grid over the sweep's communicator):
 * every rank has loaded the same data, the Gram matrix is built and solved block-cyclically. The
 * result is one record point (epoch 0) with the train and test accuracies. */
static hs_code solve(void *ctx, const hs_run_info *run, hs_code ready, hs_train_result *res, hs_error *err) {
    solved_sink *k = ctx;
    sweep *S = k->S;
    hs_code rc = ready;
    /* a row that cannot be marked is reported rather than the data's trouble: it came first */
    if (k->marked != HS_OK) *err = k->merr, rc = k->marked;
    /* data loading is deterministic, but agree anyway before the collective solve */
    int bad = rc != HS_OK, any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, S->comm);
    if (rc != HS_OK) return rc;
    if (any) return HS_FAIL(err, HS_ERR_VALUE, "another rank could not load the data of this kernel run");
    const hs_train_config *cfg = run->cfg;
    hs_krr_result kr;
    memset(&kr, 0, sizeof kr);
    hs_kernel_opts ko = {.kind = (hs_kernel_kind)cfg->kernel_kind, .sigma = cfg->kernel_sigma,
                         .ntk_depth = cfg->ntk_depth, .ridge = cfg->ridge, .block = cfg->kernel_block};
    HS_TRY(err, hs_krr_fit_predict(S->comm, &ko, run->train->x, run->train->y, run->train->n, run->test->x,
                                   run->test->y, run->test->n, run->train->dim, run->train->classes, &kr, err));
    res->records = malloc(sizeof *res->records);
    if (!res->records) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    res->records[0] = (hs_record){.epoch = 0, .step = 0, .lr = NAN, .epoch_loss = NAN, .train_loss = NAN,
                                  .train_acc = 1 - kr.train_error, .test_loss = NAN, .test_acc = 1 - kr.test_error,
                                  .seconds = kr.seconds};
    res->n_records = 1;
    res->status = HS_RUN_DONE;
    if (kr.used_lu) snprintf(res->message, sizeof res->message, "solved by LU: the Gram matrix was not positive definite");
    return HS_OK;
}

/* Rank 0 writes the row like a training's (no per-layer values), logs it and accounts for it. */
static hs_code store_solved(void *ctx, const hs_run_info *run, const hs_run_outcome *out, hs_error *err) {
    (void)err;
    solved_sink *k = ctx;
    sweep *S = k->S;
    report *rep = k->rep;
    const size_t row_i = S->row[run->r];
    if (S->rank != 0) return out->rc;
    for (size_t i = 0; i < S->n_records * HS_RECORD_FIELDS; i++) S->records[i] = NAN;
    if (out->rc == HS_OK)
        for (int f = 0; f < HS_RECORD_FIELDS; f++) S->records[f] = hs_record_field(&out->res.records[0], f);
    hs_results_row row = {.rank = 0, .attempts = hs_results_attempts(S->file, row_i), .start = k->start,
                          .end = hs_time_unix()};
    row.wall = row.end - k->start;
    row.provenance = S->provenance.buf;
    row.state = out->rc == HS_OK ? HS_STATE_DONE : HS_STATE_FAILED;
    sched_set_msg(rep->error, sizeof rep->error, out->rc != HS_OK ? out->err.msg : out->res.message);
    row.error = rep->error;
    hs_error werr = {0};
    if (hs_results_write_run(S->file, row_i, &row, out->rc == HS_OK ? S->records : NULL, NULL, &werr) != HS_OK) {
        row.state = HS_STATE_RUNNING;
        rep->io_error = 1;
        sched_set_msg(rep->error, sizeof rep->error, werr.msg);
    }
    rep->state = row.state, rep->wall = row.wall;
    sched_log_line(S, rep);
    S->running++;
    sched_account(S, rep);
    return out->rc;
}

/* Plan run r, solved by every rank through hs_run_one. Every rank reaches every collective. */
static void run_kernel(sweep *S, size_t r) {
    report rep;
    memset(&rep, 0, sizeof rep);
    rep.run = (int)r, rep.rank = S->rank;
    solved_sink k = {.S = S, .rep = &rep, .start = hs_time_unix()};
    if (S->rank == 0) k.marked = hs_results_mark_running(S->file, S->row[r], 0, k.start, &k.merr);
    hs_run_opts ro = {.plan = S->plan, .r = r, .data = &S->data,
                      .hooks = {.ctx = &k, .solve = solve, .store = store_solved}};
    hs_error err = {0};
    hs_run_one(&ro, &err); /* the outcome is in the file and in rep */
}

void sched_kernel_phase(sweep *S) {
    for (size_t i = 0; i < S->n_kernel; i++) {
        int stop = hs_sweep_signalled() != 0 || S->stop, any = 0;
        MPI_Allreduce(&stop, &any, 1, MPI_INT, MPI_MAX, S->comm);
        if (any) {
            S->stop = 1; /* the rest stays pending; the network runs are not started either */
            return;
        }
        run_kernel(S, S->kernel_runs[i]);
        if (S->rank == 0) sched_progress(S, 0); /* the counters live on rank 0 */
    }
}
