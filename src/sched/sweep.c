/* sweep.c - hs_sweep_run (see include/hsweep/sched.h): the file opened or resumed on every rank,
 * what to run chosen identically everywhere, the kernel runs solved together, the trainings
 * dispatched, then the file closed collectively and rank 0's totals shared, so every rank returns
 * the same summary. The other steps live beside this file (internal.h lists them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hsweep/models.h"
#include "hsweep/schema.h"
#include "internal.h"

static const hs_value *val(const hs_plan *p, size_t r, const char *key) { return hs_plan_value(p, r, hs_schema_find(key)); }

/* The results file on every rank. The lock first, and every rank agrees on it, before any
 * collective HDF5 call; then the file is created, or opened and matched to the plan by id. On
 * failure the file is closed again (the lock is the caller's to release). */
static hs_code open_file(sweep *S, const layout_store *L, hs_lock **lock, int *resume, hs_sweep_summary *sum,
                         hs_error *err) {
    const hs_sweep_opts *o = S->o;
    hs_code rc = HS_OK;
    /* every rank reaches both agreements whatever rank 0 found, or one would wait for ever */
    if (S->rank == 0) rc = sched_claim_file(o, lock, resume, err);
    rc = sched_share_outcome(S->comm, rc, err);
    MPI_Bcast(resume, 1, MPI_INT, 0, S->comm);
    if (rc == HS_OK && S->rank == 0 && hs_lock_start_heartbeat(*lock, 0, err) != HS_OK) rc = HS_ERR_IO;
    HS_TRY(err, sched_share_outcome(S->comm, rc, err));
    if (!*resume) {
        HS_TRY(err, hs_results_create(S->comm, o->out_path, &L->L, &S->file, err));
        return HS_OK;
    }
    HS_TRY(err, hs_results_open(S->comm, o->out_path, &S->file, err));
    size_t n_new = 0, n_orphans = 0;
    HS_CHECK(err, rc, sched_resume_map(S, L, &n_new, &n_orphans, err), fail);
    HS_CHECK(err, rc,
             hs_results_use_metrics(S->file, L->L.metrics, L->L.n_metrics, L->L.layer_metrics, L->L.n_layer_metrics,
                                    err),
             fail);
    HS_CHECK(err, rc, hs_results_use_series(S->file, L->L.series, L->L.n_series, err), fail);
    sum->orphans = n_orphans, sum->appended = n_new;
    return HS_OK;
fail:
    hs_results_close(S->file, NULL);
    S->file = NULL;
    return rc;
}

static int by_cost_desc(const void *a, const void *b) {
    const double *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? 1 : -1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* What to run: identical on every rank (each read the same states). Runs already finished are
 * counted by state in before[]; kernel runs go to S->kernel_runs in plan order, the trainings to
 * S->order, most expensive first (the longest runs start first, so none is left alone at the end). */
static hs_code choose_runs(sweep *S, const layout_store *L, size_t *before, hs_sweep_summary *sum, hs_error *err) {
    const hs_sweep_opts *o = S->o;
    const size_t R = o->plan->n_runs;
    hs_str cd = {0};
    if (hs_str_printf(&cd, "%s.ckpt", o->out_path) == HS_OK) S->ckpt_dir = cd.buf;
    S->n_records = hs_results_n_records(S->file);
    S->max_layers = hs_results_max_layers(S->file);
    S->records = malloc(S->n_records * HS_RECORD_FIELDS * sizeof *S->records);
    S->layers = malloc((S->n_records * N_LAYER_METRICS * S->max_layers + 1) * sizeof *S->layers);
    int max_attempts = o->spec->max_attempts > 0 ? o->spec->max_attempts : HS_SPEC_MAX_ATTEMPTS;
    double *keyed = malloc((R ? R : 1) * 2 * sizeof *keyed);
    S->order = malloc((R ? R : 1) * sizeof *S->order);
    S->kernel_runs = malloc((R ? R : 1) * sizeof *S->kernel_runs);
    S->held = calloc((size_t)S->nranks, sizeof *S->held);
    S->deferred = calloc((size_t)S->nranks, sizeof *S->deferred);
    S->mem_wait = calloc((size_t)S->nranks, sizeof *S->mem_wait);
    S->taken = calloc(R ? R : 1, 1);
    if (!S->records || !S->layers || !keyed || !S->order || !S->kernel_runs || !S->held || !S->deferred ||
        !S->mem_wait || !S->taken) {
        free(keyed);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; r < R; r++) {
        hs_run_state st = hs_results_state(S->file, S->row[r]);
        int tries = hs_results_attempts(S->file, S->row[r]);
        if (st == HS_STATE_RUNNING && tries >= max_attempts) {
            /* its rank died in each of its attempts (out of memory, a node fault): retrying it
             * for ever would requeue the job for ever */
            char why[200];
            snprintf(why, sizeof why, "rank died %d times (sweep.max_attempts = %d): out of memory or a node fault? "
                     "`hsweep plan --format json` gives each run's memory_bytes", tries, max_attempts);
            hs_error werr = {0};
            if (S->rank == 0 && hs_results_mark_failed(S->file, S->row[r], why, &werr) != HS_OK && !o->quiet)
                fprintf(stderr, "[hsweep] warning: %s\n", werr.msg);
            if (S->rank == 0 && !o->quiet)
                fprintf(stderr, "[hsweep] run %s: %s: failed for good\n", hs_results_id(S->file, S->row[r]), why);
            st = HS_STATE_FAILED;
            sum->exhausted++;
        }
        int todo = st == HS_STATE_PENDING || st == HS_STATE_RUNNING || (st == HS_STATE_FAILED && o->retry_failed);
        if (!todo) {
            sum->skipped++;
            before[st < HS_STATE_COUNT ? st : HS_STATE_PENDING]++;
            continue;
        }
        const hs_model_kind *arch = hs_model_kind_lookup(val(o->plan, r, "model.arch")->u.s);
        if (arch && (arch->flags & HS_MODEL_SOLVED)) {
            S->kernel_runs[S->n_kernel++] = r; /* collective: run by all ranks together, in plan order */
            continue;
        }
        if (L->steps_total[r] > 0) S->steps_todo += (double)L->steps_total[r];
        keyed[2 * S->n_order] = hs_plan_cost(o->plan, r);
        keyed[2 * S->n_order + 1] = (double)r;
        S->n_order++;
    }
    qsort(keyed, S->n_order, 2 * sizeof *keyed, by_cost_desc);
    for (size_t i = 0; i < S->n_order; i++) S->order[i] = (size_t)keyed[2 * i + 1];
    S->left = S->n_order;
    free(keyed);
    S->n_todo = S->n_order + S->n_kernel;
    sum->total = R;
    return HS_OK;
}

/* The log's header line and rank 0's opening line on stderr. */
static void announce(sweep *S, int resume, const hs_sweep_summary *sum) {
    const hs_sweep_opts *o = S->o;
    const size_t R = o->plan->n_runs;
    hs_str lp = {0};
    if (hs_str_printf(&lp, "%s.log", o->out_path) == HS_OK) S->log_path = lp.buf;
    if (S->rank != 0) return;
    S->log = S->log_path ? fopen(S->log_path, "a") : NULL;
    if (S->log) setvbuf(S->log, NULL, _IOLBF, 0);
    if (S->log)
        fprintf(S->log, "# %s sweep %s: %zu runs, %zu to run, %d ranks\n", resume ? "resumed" : "started",
                o->spec->path ? o->spec->path : "", R, S->n_todo, S->nranks);
    if (!o->quiet)
        fprintf(stderr, "[hsweep] %s: %zu runs (%zu already finished), %zu to run on %d rank%s -> %s\n",
                o->spec->name ? o->spec->name : "sweep", R, sum->skipped, S->n_todo, S->nranks,
                S->nranks == 1 ? "" : "s", o->out_path);
}

/* The history of the jobs that wrote the file: status tells a stalled sweep from it. Collective;
 * rank 0's clock and counts are the ones written. */
static void add_session(const sweep *S) {
    MPI_Comm comm = S->comm;
    double ran = (double)(S->done + S->failed + S->diverged), saved = (double)S->saved_steps;
    MPI_Bcast(&ran, 1, MPI_DOUBLE, 0, comm);
    MPI_Bcast(&saved, 1, MPI_DOUBLE, 0, comm);
    int sig = hs_sweep_signalled() != 0, sig_any = 0;
    MPI_Allreduce(&sig, &sig_any, 1, MPI_INT, MPI_MAX, comm);
    char line[256], t0[32], t1[32];
    time_t a = (time_t)S->t0, b = time(NULL);
    struct tm tm;
    strftime(t0, sizeof t0, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&a, &tm));
    strftime(t1, sizeof t1, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&b, &tm));
    MPI_Bcast(t0, sizeof t0, MPI_CHAR, 0, comm);
    MPI_Bcast(t1, sizeof t1, MPI_CHAR, 0, comm);
    const char *job = getenv("SLURM_JOB_ID");
    snprintf(line, sizeof line, "start=%s end=%s ranks=%d finished=%.0f progressed=%.0f drained=%d job=%s", t0, t1,
             S->nranks, ran, ran + saved, sig_any, job ? job : "");
    MPI_Bcast(line, sizeof line, MPI_CHAR, 0, comm);
    hs_error serr = {0};
    if (hs_results_add_session(comm, S->file, line, &serr) != HS_OK && S->rank == 0 && !S->o->quiet)
        fprintf(stderr, "[hsweep] warning: %s\n", serr.msg);
}

/* The summary on every rank: the totals on rank 0 are complete, so they are shared. A results
 * write that failed during the sweep becomes the returned error unless an earlier one is. */
static hs_code summarise(sweep *S, hs_code rc, const size_t *before, hs_sweep_summary *sum, hs_error *err) {
    const hs_sweep_opts *o = S->o;
    MPI_Comm comm = S->comm;
    int failures_hit = o->max_failures > 0 && (long)S->failed >= o->max_failures;
    double stats[8] = {(double)S->done, (double)S->failed, (double)S->diverged, (double)failures_hit,
                       S->idle_total, S->idle_max, hs_time_unix() - S->t0, (double)S->io_error};
    MPI_Bcast(stats, 8, MPI_DOUBLE, 0, comm);
    MPI_Bcast(S->io_msg, sizeof S->io_msg, MPI_CHAR, 0, comm);
    sum->io_error = stats[7] != 0;
    if (sum->io_error && rc == HS_OK) {
        rc = HS_FAIL(err, HS_ERR_IO, "%s", S->io_msg);
        hs_error_hint(err, "runs finished before stay in the file; once the cause is fixed (space freed, or the file "
                           "moved), `hsweep run SPEC -o FILE --resume` completes the sweep");
    }
    sum->ran = (size_t)(stats[0] + stats[1] + stats[2]);
    sum->pending = S->n_todo - sum->ran; /* interrupted or never started */
    sum->done = (size_t)stats[0] + before[HS_STATE_DONE];
    sum->failed = (size_t)stats[1] + before[HS_STATE_FAILED];
    sum->diverged = (size_t)stats[2] + before[HS_STATE_DIVERGED];
    int any_signal = hs_sweep_signalled() != 0, sig_all = 0;
    MPI_Allreduce(&any_signal, &sig_all, 1, MPI_INT, MPI_MAX, comm);
    sum->interrupted = sig_all;
    sum->stopped_on_failures = !sig_all && stats[3] != 0;
    sum->idle_total = stats[4], sum->idle_max = stats[5], sum->wall = stats[6];
    if (S->log) {
        fprintf(S->log, "# %s: %zu done, %zu failed, %zu diverged, %zu pending\n",
                sum->interrupted ? "interrupted" : "finished", sum->done, sum->failed, sum->diverged, sum->pending);
        fclose(S->log);
        S->log = NULL;
    }
    return rc;
}

hs_code hs_sweep_run(MPI_Comm comm, const hs_sweep_opts *o, hs_sweep_summary *sum, hs_error *err) {
    memset(sum, 0, sizeof *sum);
    sweep S = {.comm = comm, .o = o, .plan = o->plan};
    MPI_Comm_rank(comm, &S.rank);
    MPI_Comm_size(comm, &S.nranks);
    S.t0 = S.last_progress = hs_time_unix();
    hs_sweep_install_signals();
    /* a run's row records where it ran; without the text (no memory) rows still store */
    hs_error perr = {0};
    if (hs_run_provenance(&S.provenance, &perr) != HS_OK) hs_str_free(&S.provenance);

    layout_store L;
    HS_TRY(err, sched_layout_build(o->plan, o->spec, o->overrides, &L, err));
    const size_t R = o->plan->n_runs;
    hs_lock *lock = NULL;
    int resume = 0;
    hs_code rc = HS_OK;
    size_t before[HS_STATE_COUNT] = {0};
    S.row = malloc((R ? R : 1) * sizeof *S.row);
    if (!S.row) {
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        goto unopened;
    }
    for (size_t r = 0; r < R; r++) S.row[r] = r; /* a new file holds the plan in its order */
    HS_CHECK(err, rc, open_file(&S, &L, &lock, &resume, sum, err), unopened);
    S.steps_total = L.steps_total;

    /* from here on every rank ends in the collective close, whatever happens */
    HS_CHECK(err, rc, choose_runs(&S, &L, before, sum, err), close);
    announce(&S, resume, sum);
    sched_memory_setup(&S);
    sched_kernel_phase(&S);
    if (S.rank == 0) {
        sched_master(&S);
        sched_progress(&S, 1);
    } else {
        sched_worker(&S);
    }

close:
    sched_wait_all(&S);
    add_session(&S);
    hs_error cerr = {0};
    hs_code crc = hs_results_close(S.file, &cerr);
    if (rc == HS_OK && crc != HS_OK) *err = cerr, rc = crc;
    rc = summarise(&S, rc, before, sum, err);
    hs_run_data_free(&S.data);
    hs_str_free(&S.provenance);
    free(S.log_path);
    free(S.records);
    free(S.layers);
    free(S.order);
    free(S.held);
    free(S.deferred);
    free(S.mem_wait);
    free(S.taken);
    free(S.node_of);
    free(S.node_limit);
    free(S.node_use);
    free(S.mem);
    free(S.kernel_runs);
    free(S.row);
    if (S.ckpt_dir && S.rank == 0) rmdir(S.ckpt_dir); /* only when empty: every result stored */
    free(S.ckpt_dir);
    sched_layout_free(&L, R);
    MPI_Barrier(comm); /* the lock goes last, once every rank has closed the file */
    hs_lock_release(lock);
    return rc;

unopened: /* no file open: nothing collective is left to do */
    sched_layout_free(&L, R);
    free(S.row);
    hs_lock_release(lock);
    return rc;
}
