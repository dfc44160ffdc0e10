/* solved.c - runs solved in closed form (kernel ridge regression) rather than trained: all
 * ranks solve each one together, before the trainings are handed out. */
#include <math.h>
#include <string.h>

#include "hsweep/kernel.h"
#include "internal.h"

/* Kernel ridge regression of plan run r on all ranks together (a BLACS grid over the sweep's
 * communicator): every rank loads the same data, the Gram matrix is built and solved block-
 * cyclically, rank 0 writes the row. The result is stored like a training's: one record point
 * (epoch 0) with the train and test accuracies. Every rank reaches every collective. */
static void run_kernel(sweep *S, size_t r) {
    hs_error err = {0};
    report rep;
    memset(&rep, 0, sizeof rep);
    rep.run = (int)r, rep.rank = S->rank;
    double start = hs_time_unix();
    hs_train_config cfg = {0};
    hs_code rc = HS_OK;
    if (S->rank == 0) rc = hs_results_mark_running(S->file, S->row[r], 0, start, &err);
    if (rc == HS_OK) rc = hs_train_config_from_plan(S->plan, r, &cfg, &err);
    if (rc == HS_OK) rc = hs_run_data_load(&S->data, S->plan, r, &cfg.data, &err);
    /* data loading is deterministic, but agree anyway before the collective solve */
    int bad = rc != HS_OK, any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, S->comm);
    hs_krr_result kr;
    memset(&kr, 0, sizeof kr);
    if (!any) {
        hs_kernel_opts ko = {.kind = (hs_kernel_kind)cfg.kernel_kind, .sigma = cfg.kernel_sigma,
                             .ntk_depth = cfg.ntk_depth, .ridge = cfg.ridge, .block = cfg.kernel_block};
        rc = hs_krr_fit_predict(S->comm, &ko, S->data.train.x, S->data.train.y, S->data.train.n, S->data.test.x,
                                S->data.test.y, S->data.test.n, S->data.train.dim, S->data.train.classes, &kr, &err);
    } else if (rc == HS_OK) {
        rc = HS_FAIL(&err, HS_ERR_VALUE, "another rank could not load the data of this kernel run");
    }
    if (S->rank == 0) {
        for (size_t i = 0; i < S->n_records * HS_RECORD_FIELDS; i++) S->records[i] = NAN;
        hs_record rec0 = {.epoch = 0, .step = 0, .lr = NAN, .epoch_loss = NAN, .train_loss = NAN,
                          .train_acc = 1 - kr.train_error, .test_loss = NAN, .test_acc = 1 - kr.test_error,
                          .seconds = kr.seconds};
        for (int f = 0; f < HS_RECORD_FIELDS; f++) S->records[f] = hs_record_field(&rec0, f);
        hs_results_row row = {.rank = 0, .attempts = hs_results_attempts(S->file, S->row[r]), .start = start,
                              .end = hs_time_unix()};
        row.wall = row.end - start;
        row.state = rc == HS_OK ? HS_STATE_DONE : HS_STATE_FAILED;
        if (rc != HS_OK) sched_set_msg(rep.error, sizeof rep.error, err.msg);
        else if (kr.used_lu) sched_set_msg(rep.error, sizeof rep.error, "solved by LU: the Gram matrix was not positive definite");
        row.error = rep.error;
        hs_error werr = {0};
        if (hs_results_write_run(S->file, S->row[r], &row, rc == HS_OK ? S->records : NULL, NULL, &werr) != HS_OK) {
            row.state = HS_STATE_RUNNING;
            rep.io_error = 1;
            sched_set_msg(rep.error, sizeof rep.error, werr.msg);
        }
        rep.state = row.state, rep.wall = row.wall;
        sched_log_line(S, &rep);
        S->running++;
        sched_account(S, &rep);
    }
    hs_train_config_free(&cfg);
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
