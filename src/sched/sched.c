/* sched.c - MPI self-scheduling of a plan's runs into one results file (see include/hsweep/sched.h).
 *
 * Protocol (tags below): a worker sends REPORT {run it just finished or -1, its state, ...} and
 * receives WORK {next run or -1 = no more}. Rank 0 answers from its dispatch loop and, while it
 * trains a run itself, from the training's step-boundary hook. Every rank ends in the collective
 * close of the file, whatever happened, so no rank is left waiting in a collective. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hsweep/data.h"
#include "hsweep/kernel.h"
#include "hsweep/lock.h"
#include "hsweep/models.h"
#include "hsweep/run.h"
#include "hsweep/sched.h"
#include "hsweep/schema.h"
#include "hsweep/store.h"
#include "hsweep/train.h"

enum { TAG_REPORT = 101, TAG_WORK = 102 };

/* Per-layer metrics: what train/ records (hs_layer_field_names). */
#define N_LAYER_METRICS HS_LAYER_FIELDS
_Static_assert(HS_SERIES_MAX_DIMS <= HS_STORE_MAX_DIMS, "the results file holds every series shape");

/* What a worker tells rank 0 after each run (fixed size, sent as bytes). */
typedef struct report {
    int run;      /* plan index just finished, -1 on the first request */
    int state;    /* hs_run_state */
    int rank;
    int signalled;
    int want;      /* also asks for another run */
    int unstarted; /* run was handed out but never started (a signal came first) */
    int io_error;  /* the results file could not be written: the sweep stops */
    long long saved_steps; /* steps trained by this attempt and kept in a checkpoint: progress even
                              when the run did not finish */
    long long resumed_step; /* the step its checkpoint let it continue from; -1: from the start */
    double wall, idle;
    long long epochs;
    char error[256];
} report;

/* ================================================================ signals */

static volatile sig_atomic_t g_signal = 0;

static void on_signal(int sig) { g_signal = sig; }

void hs_sweep_install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* SIGINT too: a sweep started without mpirun (a laptop, an interactive node) is stopped with
     * Ctrl-C, and must drain like a job at its time limit instead of dying mid-write */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

int hs_sweep_signalled(void) { return g_signal != 0; }


static const hs_value *val(const hs_plan *p, size_t r, const char *key) { return hs_plan_value(p, r, hs_schema_find(key)); }

/* ================================================================ the layout of the file */

typedef struct layout_store {
    hs_results_layout L;
    char **ids, **configs;
    hs_results_col *cols;
    void **col_data; /* per column: long long*, double* or char** */
    char ***col_strs;
    hs_results_series *series; /* the union of the runs' series, shapes and points at their maxima */
    long long *steps_total;    /* [runs] optimiser steps of each run in full (-1 when unknown) */
    char digest[17];
} layout_store;

static void layout_free(layout_store *s, size_t n_runs) {
    for (size_t r = 0; r < n_runs; r++) {
        if (s->ids) free(s->ids[r]);
        if (s->configs) free(s->configs[r]);
    }
    for (size_t c = 0; c < s->L.n_cols; c++) {
        if (s->col_strs && s->col_strs[c]) {
            for (size_t r = 0; r < n_runs; r++) free(s->col_strs[c][r]);
            free(s->col_strs[c]);
        }
        if (s->col_data) free(s->col_data[c]);
    }
    free(s->ids), free(s->configs), free(s->cols), free(s->col_data), free(s->col_strs), free(s->series);
    free(s->steps_total);
    memset(s, 0, sizeof *s);
}

static hs_code layout_build(const hs_plan *p, const hs_spec *spec, const char *overrides, layout_store *s,
                            hs_error *err) {
    memset(s, 0, sizeof *s);
    size_t R = p->n_runs;
    s->ids = calloc(R ? R : 1, sizeof *s->ids);
    s->configs = calloc(R ? R : 1, sizeof *s->configs);
    size_t n_vary = 0;
    for (size_t k = 0; k < p->n_keys; k++) n_vary += p->varying[k] != 0;
    s->cols = calloc(n_vary ? n_vary : 1, sizeof *s->cols);
    s->col_data = calloc(n_vary ? n_vary : 1, sizeof *s->col_data);
    s->col_strs = calloc(n_vary ? n_vary : 1, sizeof *s->col_strs);
    s->series = calloc(HS_TRAIN_PLAN_MAX_SERIES, sizeof *s->series);
    s->steps_total = calloc(R ? R : 1, sizeof *s->steps_total);
    if (!s->ids || !s->configs || !s->cols || !s->col_data || !s->col_strs || !s->series || !s->steps_total) goto nomem;
    for (size_t r = 0; r < R; r++) {
        s->ids[r] = malloc(17);
        hs_str canon = {0};
        if (!s->ids[r] || hs_plan_canonical(p, r, &canon) != HS_OK) {
            hs_str_free(&canon);
            goto nomem;
        }
        snprintf(s->ids[r], 17, "%016llx", (unsigned long long)p->runs[r].id);
        s->configs[r] = canon.buf ? canon.buf : strdup("");
        if (!s->configs[r]) goto nomem;
    }
    /* hs_train_layout_of is the one truth for what a run records, so the file is sized from the
     * same function the training fills (folded over the runs by train/) */
    hs_train_plan_layout pl;
    hs_code lrc = hs_train_plan_layout_of(p, &pl, s->steps_total, err);
    if (lrc != HS_OK) {
        layout_free(s, R);
        return lrc;
    }
    size_t n_rec = pl.n_records, n_lay = pl.n_layers, n_ser = pl.n_series;
    for (size_t j = 0; j < n_ser; j++) {
        const hs_series_spec *t = &pl.series[j];
        s->series[j] = (hs_results_series){.name = t->name, .axes = t->axes, .ndim = t->ndim,
                                           .n_points = t->n_points, .every = t->every};
        for (int d = 0; d < t->ndim; d++) s->series[j].dims[d] = t->dims[d];
    }
    size_t c = 0;
    for (size_t k = 0; k < p->n_keys; k++) {
        if (!p->varying[k]) continue;
        const hs_key *key = hs_schema_key(k);
        hs_results_col *col = &s->cols[c];
        col->name = key->name;
        s->L.n_cols = c + 1;
        if (key->type == HS_T_INT || key->type == HS_T_BOOL) {
            long long *v = malloc((R ? R : 1) * sizeof *v);
            if (!(s->col_data[c] = v)) goto nomem;
            for (size_t r = 0; r < R; r++) {
                const hs_value *x = hs_plan_value(p, r, (int)k);
                v[r] = key->type == HS_T_BOOL ? x->u.b : x->u.i;
            }
            col->type = HS_COL_INT, col->i = v;
        } else if (key->type == HS_T_FLOAT) {
            double *v = malloc((R ? R : 1) * sizeof *v);
            if (!(s->col_data[c] = v)) goto nomem;
            for (size_t r = 0; r < R; r++) v[r] = hs_plan_value(p, r, (int)k)->u.f;
            col->type = HS_COL_FLOAT, col->f = v;
        } else {
            char **v = calloc(R ? R : 1, sizeof *v);
            if (!(s->col_strs[c] = v)) goto nomem;
            for (size_t r = 0; r < R; r++) {
                hs_str t = {0};
                if (hs_value_show(hs_plan_value(p, r, (int)k), &t) != HS_OK) {
                    hs_str_free(&t);
                    goto nomem;
                }
                v[r] = t.buf ? t.buf : strdup("");
                if (!v[r]) goto nomem;
            }
            col->type = HS_COL_STR, col->s = (const char *const *)v;
        }
        c++;
    }
    for (int i = 0; i < 8; i++) snprintf(s->digest + 2 * i, 3, "%02x", p->digest[i]);
    s->L = (hs_results_layout){.n_runs = R,
                               .ids = (const char *const *)s->ids,
                               .configs = (const char *const *)s->configs,
                               .cols = s->cols,
                               .n_cols = s->L.n_cols,
                               .n_records = n_rec,
                               .metrics = hs_record_field_names,
                               .n_metrics = HS_RECORD_FIELDS,
                               .max_layers = n_lay,
                               .layer_metrics = hs_layer_field_names,
                               .n_layer_metrics = N_LAYER_METRICS,
                               .series = s->series,
                               .n_series = n_ser,
                               .steps_total = s->steps_total,
                               .overrides = overrides ? overrides : "",
                               .spec_text = spec->text ? spec->text : "",
                               .spec_path = spec->path ? spec->path : "",
                               .plan_digest = s->digest,
                               .hsweep_version = HSWEEP_VERSION_STRING,
                               .schema_version = HS_SCHEMA_VERSION};
    return HS_OK;
nomem:
    layout_free(s, R);
    return HS_FAIL(err, HS_ERR_NOMEM, "out of memory building the results layout");
}

/* ================================================================ one run on this rank */

typedef struct sweep {
    MPI_Comm comm;
    int rank, nranks;
    const hs_sweep_opts *o;
    const hs_plan *plan;
    hs_results *file;
    size_t n_records, max_layers;
    double *records; /* [n_records x HS_RECORD_FIELDS] of the current run */
    double *layers;  /* [n_records x N_LAYER_METRICS x max_layers] of the current run */

    hs_run_data data; /* consecutive runs on the same data reuse it */
    /* rank 0's dispatch state */
    size_t *order, n_order, next;
    int active_workers; /* workers not yet told "no more" */
    int stop;           /* no more dispatching */
    size_t done, failed, diverged, pending, running;
    double t0, last_progress, idle_total, idle_max;
    FILE *log;      /* rank 0: header and footer lines */
    char *log_path; /* every rank appends its runs' lines */
    size_t n_todo;
    size_t runs_here; /* runs this rank has trained */
    size_t *kernel_runs, n_kernel; /* collective kernel runs, plan order */
    size_t *row;             /* [plan runs] the file row of each plan run (resume matches ids) */
    const long long *steps_total; /* [plan runs] optimiser steps of each run (-1 unknown) */
    double steps_todo, steps_finished; /* rank 0: of the runs to run, and of those finished since */
    long long cur_step, cur_total;     /* rank 0's own run in flight: where it is, of how many */
    size_t cur_row;          /* the file row of the run this rank trains now */
    char *ckpt_dir;          /* <out>.ckpt: one checkpoint file per run in flight */
    int io_error;            /* rank 0: a write to the results file failed; nothing more is handed out */
    char io_msg[256];
    long long saved_steps;   /* rank 0: steps this job's unfinished runs kept in checkpoints */
    int printed;             /* a progress line was printed ... */
    size_t printed_finished; /* ... when this many runs had finished */
} sweep;

static void sweep_report(sweep *S, const report *rep);
static void serve_requests(sweep *S, int blocking);
static void log_line(sweep *S, const report *rep);

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
    if (S->rank == 0 && S->nranks > 1) serve_requests(S, 0);
    return g_signal != 0;
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
static void set_msg(char *dst, size_t n, const char *src) {
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
    if (out->checkpoint_io) {
        row.state = HS_STATE_PENDING, row.attempts--;
        rep->io_error = 1;
        set_msg(rep->error, sizeof rep->error, out->err.msg);
    } else if (rc != HS_OK) {
        row.state = HS_STATE_FAILED;
        set_msg(rep->error, sizeof rep->error, out->err.msg);
    } else if (res->status == HS_RUN_DIVERGED) {
        row.state = HS_STATE_DIVERGED;
        set_msg(rep->error, sizeof rep->error, res->message);
    } else if (res->status == HS_RUN_STOPPED) {
        row.state = HS_STATE_PENDING; /* interrupted: a resume continues it from its checkpoint */
        row.attempts--;               /* drained on request: that attempt does not count */
        set_msg(rep->error, sizeof rep->error, res->message);
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
        set_msg(rep->error, sizeof rep->error, err->msg);
    }
    rep->state = row.state, rep->wall = row.wall, rep->epochs = res->epochs_done;
    return src;
}

/* Train plan run r here; fills rep and writes the run's rows. */
static void run_one(sweep *S, size_t r, report *rep) {
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
        set_msg(rep->error, sizeof rep->error, err.msg);
        rep->wall = hs_time_unix() - start;
        log_line(S, rep);
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
    log_line(S, rep);
    test_kill_hook(S);
}

/* ================================================================ rank 0: dispatch and progress */

static void fmt_duration(double s, char *buf, size_t n) {
    if (!isfinite(s) || s < 0) snprintf(buf, n, "?");
    else if (s < 60) snprintf(buf, n, "%.0fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

static void progress(sweep *S, int force) {
    double now = hs_time_unix(), every = S->o->progress_every == 0 ? 5 : S->o->progress_every;
    size_t finished_now = S->done + S->failed + S->diverged + S->pending;
    if (every < 0 || (!force && now - S->last_progress < every)) return;
    if (force && S->printed && S->printed_finished == finished_now) return; /* nothing new since */
    S->printed = 1, S->printed_finished = finished_now;
    S->last_progress = now;
    size_t finished = S->done + S->failed + S->diverged;
    size_t pending = S->n_todo - finished - S->running - S->pending;
    double el = now - S->t0, rate = finished / (el > 0 ? el : 1);
    /* The ETA weighs runs by their optimiser steps (runs of one sweep differ by orders of
     * magnitude, and the largest go first), counting rank 0's own run in flight. */
    double done_steps = S->steps_finished + (double)S->cur_step, step_rate = done_steps / (el > 0 ? el : 1);
    char eta[32], elapsed[32], mine[96] = "";
    fmt_duration(step_rate > 0 ? (S->steps_todo - done_steps) / step_rate : NAN, eta, sizeof eta);
    fmt_duration(el, elapsed, sizeof elapsed);
    if (S->cur_total > 0)
        snprintf(mine, sizeof mine, " | rank 0 at step %lld of %lld (%.0f%%)", S->cur_step, S->cur_total,
                 100.0 * (double)S->cur_step / (double)S->cur_total);
    int tty = isatty(fileno(stderr));
    fprintf(stderr, "%s[hsweep] %zu/%zu done, %zu running, %zu failed, %zu diverged, %zu pending | %.2f runs/min%s | %s elapsed, ETA %s%s",
            tty ? "\r\033[K" : "", S->done, S->n_todo, S->running, S->failed, S->diverged, pending + S->pending,
            60 * rate, mine, elapsed, eta, tty && !force ? "" : "\n");
    fflush(stderr);
}

/* Next run to hand out, or -1. */
static int next_run(sweep *S) {
    if (S->stop || g_signal || S->next >= S->n_order) return -1;
    return (int)S->order[S->next++];
}

/* Append one line for a finished run to <out>.log, from the rank that ran it: a second record
 * beside the HDF5 file that survives even if that rank dies right after. One write() of a short
 * line to an O_APPEND file does not interleave with other ranks' lines on local and Lustre file
 * systems (NFS gives no such promise; the HDF5 status column stays the reference). */
static void log_line(sweep *S, const report *rep) {
    if (!S->log_path || rep->run < 0) return;
    char ts[32], line[512];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char from[48] = "";
    if (rep->resumed_step > 0) snprintf(from, sizeof from, " (continued from step %lld)", rep->resumed_step);
    int n = snprintf(line, sizeof line, "%s %s %-8s rank %d  %.2f s  %lld epochs%s%s%.300s\n", ts,
                     hs_results_id(S->file, S->row[rep->run]),
                     rep->io_error ? "io-error" : hs_run_state_to_string((hs_run_state)rep->state), rep->rank, rep->wall,
                     rep->epochs, from, rep->error[0] ? "  " : "", rep->error);
    if (n <= 0) return;
    if (n >= (int)sizeof line) n = (int)sizeof line - 1, line[n - 1] = '\n';
    int fd = open(S->log_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) return;
    ssize_t w = write(fd, line, (size_t)n);
    (void)w; /* the log is a courtesy copy; the HDF5 file is the record */
    close(fd);
}

/* Account for one finished run (rank 0). */
static void sweep_report(sweep *S, const report *rep) {
    if (rep->run < 0) return;
    S->running--;
    if (rep->state == HS_STATE_PENDING) S->saved_steps += rep->saved_steps;
    else if (!rep->io_error && S->steps_total[rep->run] > 0) S->steps_finished += (double)S->steps_total[rep->run];
    if (rep->rank == 0) S->cur_step = S->cur_total = 0;
    if (rep->unstarted) {
        S->stop = 1;
        return;
    }
    if (rep->io_error) {
        S->stop = 1;
        if (!S->io_error) set_msg(S->io_msg, sizeof S->io_msg, rep->error);
        S->io_error = 1;
        fprintf(stderr, "%s[hsweep] run %s on rank %d: %s; stopping the sweep (nothing more is handed out)\n",
                isatty(fileno(stderr)) ? "\r\033[K" : "", hs_results_id(S->file, S->row[rep->run]), rep->rank,
                rep->error);
        return;
    }
    switch ((hs_run_state)rep->state) {
    case HS_STATE_DONE: S->done++; break;
    case HS_STATE_DIVERGED: S->diverged++; break;
    case HS_STATE_FAILED: S->failed++; break;
    default: S->pending++; break;
    }
    if (rep->signalled) S->stop = 1;
    if (S->o->max_failures > 0 && (long)S->failed >= S->o->max_failures) S->stop = 1;
    if (!S->o->quiet && rep->state != HS_STATE_DONE && rep->state != HS_STATE_PENDING)
        fprintf(stderr, "%s[hsweep] run %s %s on rank %d: %s\n", isatty(fileno(stderr)) ? "\r\033[K" : "",
                hs_results_id(S->file, S->row[rep->run]), hs_run_state_to_string((hs_run_state)rep->state), rep->rank,
                rep->error);
}

/* Answer worker requests: all waiting ones (non-blocking), or at least one (blocking). */
static void serve_requests(sweep *S, int blocking) {
    for (;;) {
        int flag = 0;
        MPI_Status st;
        if (blocking) {
            MPI_Probe(MPI_ANY_SOURCE, TAG_REPORT, S->comm, &st);
            flag = 1;
            blocking = 0;
        } else {
            MPI_Iprobe(MPI_ANY_SOURCE, TAG_REPORT, S->comm, &flag, &st);
        }
        if (!flag) break;
        report rep;
        MPI_Recv(&rep, sizeof rep, MPI_BYTE, st.MPI_SOURCE, TAG_REPORT, S->comm, MPI_STATUS_IGNORE);
        sweep_report(S, &rep);
        S->idle_total += rep.idle;
        if (rep.idle > S->idle_max) S->idle_max = rep.idle;
        if (!rep.want) continue;
        int next = next_run(S);
        if (next >= 0) S->running++;
        else S->active_workers--;
        MPI_Send(&next, 1, MPI_INT, st.MPI_SOURCE, TAG_WORK, S->comm);
    }
    progress(S, 0);
}

static void master(sweep *S) {
    S->active_workers = S->nranks - 1;
    /* Workers ask right after the file is created; answer all of them before rank 0 starts a
     * training of its own, or the first answer would wait for its data loading and first steps. */
    for (int w = 1; w < S->nranks; w++) serve_requests(S, 1);
    for (;;) {
        if (S->nranks > 1) serve_requests(S, 0);
        int r = next_run(S);
        if (r < 0) break;
        S->running++;
        report rep;
        run_one(S, (size_t)r, &rep);
        sweep_report(S, &rep);
    }
    /* every worker told "no more", and every handed-out run reported back */
    while (S->active_workers > 0 || S->running > 0) serve_requests(S, 1);
}

/* A worker asks for its next run before it starts the current one, so the answer travels while
 * it trains and it waits only when rank 0 was slower than a whole training to answer. Sends are
 * non-blocking: Open MPI's shared-memory transport holds a blocking send of a report this size
 * until rank 0 enters MPI, which it does only between its own training steps (measured: up to
 * 0.46 s lost while rank 0 loaded data). A buffer is reused only after its send completed. */
static void worker(sweep *S) {
    report req, rep, back;
    memset(&req, 0, sizeof req);
    memset(&rep, 0, sizeof rep);
    req.run = -1, req.rank = S->rank, req.want = 1;
    MPI_Request sreq = MPI_REQUEST_NULL, srep = MPI_REQUEST_NULL;
    int cur = -1, nxt = -1;
    double t = hs_time_unix();
    MPI_Send(&req, sizeof req, MPI_BYTE, 0, TAG_REPORT, S->comm);
    MPI_Recv(&cur, 1, MPI_INT, 0, TAG_WORK, S->comm, MPI_STATUS_IGNORE);
    double idle = hs_time_unix() - t;
    while (cur >= 0) {
        /* always ask, even after a signal: rank 0 then answers "no more", which is how it
         * learns this worker is finished */
        MPI_Request pending;
        MPI_Wait(&sreq, MPI_STATUS_IGNORE);
        req.idle = idle;
        MPI_Isend(&req, sizeof req, MPI_BYTE, 0, TAG_REPORT, S->comm, &sreq);
        MPI_Irecv(&nxt, 1, MPI_INT, 0, TAG_WORK, S->comm, &pending);
        MPI_Wait(&srep, MPI_STATUS_IGNORE);
        run_one(S, (size_t)cur, &rep);
        t = hs_time_unix();
        MPI_Wait(&pending, MPI_STATUS_IGNORE);
        rep.idle = hs_time_unix() - t, idle = 0;
        rep.want = 0;
        MPI_Isend(&rep, sizeof rep, MPI_BYTE, 0, TAG_REPORT, S->comm, &srep);
        if (nxt >= 0 && g_signal) {
            /* handed out but never started: give it back, and ask once more so that rank 0
             * (which stops dispatching on this report) answers "no more" and counts us out */
            memset(&back, 0, sizeof back);
            back.run = nxt, back.rank = S->rank, back.state = HS_STATE_PENDING, back.signalled = 1;
            back.unstarted = 1, back.want = 1;
            MPI_Send(&back, sizeof back, MPI_BYTE, 0, TAG_REPORT, S->comm);
            MPI_Recv(&nxt, 1, MPI_INT, 0, TAG_WORK, S->comm, MPI_STATUS_IGNORE);
        }
        cur = nxt;
    }
    MPI_Wait(&sreq, MPI_STATUS_IGNORE);
    MPI_Wait(&srep, MPI_STATUS_IGNORE);
}

/* ================================================================ kernel runs (collective) */

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
        if (rc != HS_OK) set_msg(rep.error, sizeof rep.error, err.msg);
        else if (kr.used_lu) set_msg(rep.error, sizeof rep.error, "solved by LU: the Gram matrix was not positive definite");
        row.error = rep.error;
        hs_error werr = {0};
        if (hs_results_write_run(S->file, S->row[r], &row, rc == HS_OK ? S->records : NULL, NULL, &werr) != HS_OK) {
            row.state = HS_STATE_RUNNING;
            rep.io_error = 1;
            set_msg(rep.error, sizeof rep.error, werr.msg);
        }
        rep.state = row.state, rep.wall = row.wall;
        log_line(S, &rep);
        S->running++;
        sweep_report(S, &rep);
    }
    hs_train_config_free(&cfg);
}

static void kernel_phase(sweep *S) {
    for (size_t i = 0; i < S->n_kernel; i++) {
        int stop = g_signal != 0 || S->stop, any = 0;
        MPI_Allreduce(&stop, &any, 1, MPI_INT, MPI_MAX, S->comm);
        if (any) {
            S->stop = 1; /* the rest stays pending; the network runs are not started either */
            return;
        }
        run_kernel(S, S->kernel_runs[i]);
        if (S->rank == 0) progress(S, 0); /* the counters live on rank 0 */
    }
}

/* ================================================================ claiming the file */

/* <out>.ckpt, the folder of the runs' checkpoints (rank 0, before any training). */
static hs_code ckpt_dir_make(const char *out, hs_error *err) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s.ckpt", out);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot create the checkpoint folder: %s", dir, strerror(errno));
    return HS_OK;
}

/* Rank 0 only, before any collective HDF5 call: the writer lock of out_path, then what to do
 * with the file. A fresh run never replaces a file unless told (--overwrite moves it aside,
 * never deletes it); --resume on a missing file starts it. *resume says which. */
static hs_code claim_file(const hs_sweep_opts *o, hs_lock **lock, int *resume, hs_error *err) {
    hs_lock_info dead = {0};
    HS_TRY(err, hs_lock_acquire(o->out_path, "run", o->resume, lock, &dead, err));
    if (dead.pid && !o->quiet) {
        char who[512];
        hs_lock_describe(&dead, who, sizeof who);
        fprintf(stderr, "[hsweep] warning: %s: took over the lock of a writer that is gone (%s)\n", o->out_path, who);
    }
    struct stat st;
    int exists = stat(o->out_path, &st) == 0;
    *resume = o->resume && exists;
    if (o->resume && !exists && !o->quiet)
        fprintf(stderr, "[hsweep] %s does not exist yet: --resume starts it\n", o->out_path);
    if (!exists || o->resume) return ckpt_dir_make(o->out_path, err);
    if (!o->overwrite) {
        HS_FAIL(err, HS_ERR_IO, "%s exists: refusing to overwrite it", o->out_path);
        hs_error_hint(err, "--resume continues it (finished runs are kept); --overwrite moves it aside first; or "
                           "choose another -o");
        return HS_ERR_IO;
    }
    /* aside, with its log and checkpoints, under a name that says when */
    char stamp[32], aside[4096];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(aside, sizeof aside, "%s.replaced-%s", o->out_path, stamp);
    if (stat(aside, &st) == 0 || rename(o->out_path, aside) != 0)
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot move it aside to %s: %s", o->out_path, aside,
                       errno ? strerror(errno) : "that name exists");
    static const char *const side[] = {".log", ".ckpt"};
    for (size_t k = 0; k < sizeof side / sizeof side[0]; k++) {
        char from[4096], to[4200];
        snprintf(from, sizeof from, "%s%s", o->out_path, side[k]);
        snprintf(to, sizeof to, "%s%s", aside, side[k]);
        if (stat(from, &st) == 0) rename(from, to);
    }
    if (!o->quiet) fprintf(stderr, "[hsweep] %s existed: moved aside to %s\n", o->out_path, aside);
    return ckpt_dir_make(o->out_path, err);
}

/* Every rank learns rank 0's outcome (code and message). */
static hs_code share_outcome(MPI_Comm comm, hs_code rc, hs_error *err) {
    int code = (int)rc;
    MPI_Bcast(&code, 1, MPI_INT, 0, comm);
    if (code != HS_OK) MPI_Bcast(err, (int)sizeof *err, MPI_BYTE, 0, comm);
    return (hs_code)code;
}

/* ================================================================ resume by id */

typedef struct id_row {
    const char *id;
    size_t row;
} id_row;

static int by_id(const void *a, const void *b) { return strcmp(((const id_row *)a)->id, ((const id_row *)b)->id); }

/* The value of key c's column for an orphan row (a run the spec no longer names), from its
 * canonical config: "key=value" when it differs from the default, else the default. Only
 * needed when a column is new to the file, since columns are written once per row. */
static void orphan_value(const char *canon, const hs_results_col *col, size_t k, long long *iv, double *fv,
                         char **sv) {
    char pat[256];
    snprintf(pat, sizeof pat, "\n%s=", col->name);
    const char *at = canon ? strstr(canon, pat) : NULL, *v = NULL;
    size_t n = 0;
    if (at) {
        v = at + strlen(pat);
        n = strcspn(v, "\n");
    } else {
        const hs_key *key = hs_schema_key(k);
        v = key && key->def ? key->def : "";
        n = strlen(v);
    }
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)n, v);
    if (col->type == HS_COL_INT) *iv = !strcmp(buf, "true") ? 1 : !strcmp(buf, "false") ? 0 : strtoll(buf, NULL, 10);
    else if (col->type == HS_COL_FLOAT) *fv = strtod(buf, NULL);
    else {
        size_t len = strlen(buf);
        if (len >= 2 && buf[0] == '"' && buf[len - 1] == '"') buf[len - 1] = '\0', memmove(buf, buf + 1, len - 1);
        *sv = strdup(buf);
    }
}

/* The file's rows in file order, then the plan's new runs: the layout hs_results_grow takes. */
typedef struct file_layout {
    hs_results_layout L;
    const char **ids, **configs;
    hs_results_col *cols;
    long long **ci;
    double **cf;
    char ***cs;
    long long *steps_total;
    size_t n;
} file_layout;

static void file_layout_free(file_layout *F) {
    for (size_t c = 0; c < F->L.n_cols; c++) {
        if (F->ci) free(F->ci[c]);
        if (F->cf) free(F->cf[c]);
        for (size_t r = 0; F->cs && F->cs[c] && r < F->n; r++) free(F->cs[c][r]);
        if (F->cs) free(F->cs[c]);
    }
    free(F->ids), free(F->configs), free(F->cols), free(F->ci), free(F->cf), free(F->cs), free(F->steps_total);
    memset(F, 0, sizeof *F);
}

/* Match the plan's runs to the file's rows by id (S->row), append the plan's new runs to the
 * file, and mark which rows the plan names. Collective; every rank reads the same file and plan,
 * so every rank decides the same. Refused: another schema version (ids would not mean the same
 * configs), and a row whose id matches but whose stored config differs (a damaged file). */
static hs_code resume_map(sweep *S, const layout_store *P, size_t *n_new_out, size_t *n_orphans, hs_error *err) {
    hs_results *f = S->file;
    const hs_sweep_opts *o = S->o;
    size_t fr = hs_results_n_runs(f), pr = P->L.n_runs;
    if (hs_results_schema_version(f) != HS_SCHEMA_VERSION) {
        HS_FAIL(err, HS_ERR_VALUE, "%s was written with config schema %d; this hsweep uses schema %d", o->out_path,
                hs_results_schema_version(f), HS_SCHEMA_VERSION);
        hs_error_hint(err, "resume it with the hsweep version that wrote it, or start a new file with -o");
        return HS_ERR_VALUE;
    }
    id_row *idx = malloc((fr ? fr : 1) * sizeof *idx);
    unsigned char *in_plan = calloc(fr + pr + 1, 1);
    file_layout F = {0};
    hs_code rc = HS_OK;
    if (!idx || !in_plan) {
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < fr; i++) idx[i] = (id_row){hs_results_id(f, i), i};
    qsort(idx, fr, sizeof *idx, by_id);
    size_t n_new = 0;
    for (size_t r = 0; r < pr; r++) {
        id_row key = {P->ids[r], 0}, *hit = fr ? bsearch(&key, idx, fr, sizeof *idx, by_id) : NULL;
        if (!hit) {
            S->row[r] = fr + n_new++;
            in_plan[S->row[r]] = 1;
            continue;
        }
        const char *have = hs_results_config(f, hit->row);
        if (have && strcmp(have, P->configs[r]) != 0) {
            rc = HS_FAIL(err, HS_ERR_VALUE, "%s: row %zu has id %s but another config than the plan's run of that id",
                         o->out_path, hit->row, P->ids[r]);
            hs_error_hint(err, "the file is damaged or was edited by hand: write to a new file with -o");
            goto out;
        }
        S->row[r] = hit->row;
        in_plan[hit->row] = 1;
    }
    *n_orphans = 0;
    for (size_t i = 0; i < fr; i++) *n_orphans += !in_plan[i];
    *n_new_out = n_new;

    /* the layout of the file as it will be: its rows, then the new runs */
    size_t R = fr + n_new, C = P->L.n_cols;
    F.n = R;
    F.ids = calloc(R + 1, sizeof *F.ids), F.configs = calloc(R + 1, sizeof *F.configs);
    F.cols = calloc(C + 1, sizeof *F.cols), F.steps_total = calloc(R + 1, sizeof *F.steps_total);
    F.ci = calloc(C + 1, sizeof *F.ci), F.cf = calloc(C + 1, sizeof *F.cf), F.cs = calloc(C + 1, sizeof *F.cs);
    long long *plan_of = malloc((R + 1) * sizeof *plan_of); /* row -> plan run, -1 for orphans */
    if (!F.ids || !F.configs || !F.cols || !F.steps_total || !F.ci || !F.cf || !F.cs || !plan_of) {
        free(plan_of);
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        goto out;
    }
    F.L = P->L;
    F.L.n_runs = R, F.L.n_cols = C;
    for (size_t i = 0; i < R; i++) plan_of[i] = -1;
    for (size_t r = 0; r < pr; r++) plan_of[S->row[r]] = (long long)r;
    for (size_t i = 0; i < R; i++) {
        long long r = plan_of[i];
        F.ids[i] = r >= 0 ? P->ids[r] : hs_results_id(f, i);
        F.configs[i] = r >= 0 ? P->configs[r] : hs_results_config(f, i) ? hs_results_config(f, i) : "";
        F.steps_total[i] = r >= 0 ? P->steps_total[r] : -1;
    }
    for (size_t c = 0; c < C && rc == HS_OK; c++) {
        const hs_results_col *pc = &P->L.cols[c];
        hs_results_col *fc = &F.cols[c];
        *fc = (hs_results_col){.name = pc->name, .type = pc->type};
        size_t k = (size_t)hs_schema_find(pc->name);
        if (pc->type == HS_COL_INT) F.ci[c] = malloc((R + 1) * sizeof **F.ci), fc->i = F.ci[c];
        else if (pc->type == HS_COL_FLOAT) F.cf[c] = malloc((R + 1) * sizeof **F.cf), fc->f = F.cf[c];
        else F.cs[c] = calloc(R + 1, sizeof **F.cs), fc->s = (const char *const *)F.cs[c];
        if (!F.ci[c] && !F.cf[c] && !F.cs[c]) {
            rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t i = 0; i < R; i++) {
            long long r = plan_of[i];
            if (r >= 0 && pc->type == HS_COL_INT) F.ci[c][i] = pc->i[r];
            else if (r >= 0 && pc->type == HS_COL_FLOAT) F.cf[c][i] = pc->f[r];
            else if (r >= 0) F.cs[c][i] = strdup(pc->s[r]);
            else
                orphan_value(hs_results_config(f, i), pc, k, F.ci[c] ? &F.ci[c][i] : NULL,
                             F.cf[c] ? &F.cf[c][i] : NULL, F.cs[c] ? &F.cs[c][i] : NULL);
            if (F.cs[c] && !F.cs[c][i] && !(F.cs[c][i] = strdup(""))) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        }
    }
    free(plan_of);
    F.L.ids = F.ids, F.L.configs = F.configs, F.L.cols = F.cols, F.L.steps_total = F.steps_total;
    if (rc == HS_OK && hs_results_needs_grow(f, &F.L)) {
        rc = hs_results_grow(S->comm, f, &F.L, err);
        if (rc == HS_OK && S->rank == 0 && !o->quiet && n_new)
            fprintf(stderr, "[hsweep] %s: %zu new runs appended; the file now holds %zu runs\n", o->out_path, n_new,
                    hs_results_n_runs(f));
    }
    if (rc == HS_OK) rc = hs_results_mark_plan(S->comm, f, in_plan, err);
out:
    file_layout_free(&F);
    free(idx);
    free(in_plan);
    return rc;
}

/* ================================================================ the sweep */

static int by_cost_desc(const void *a, const void *b) {
    const double *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? 1 : -1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

hs_code hs_sweep_run(MPI_Comm comm, const hs_sweep_opts *o, hs_sweep_summary *sum, hs_error *err) {
    memset(sum, 0, sizeof *sum);
    sweep S = {.comm = comm, .o = o, .plan = o->plan};
    MPI_Comm_rank(comm, &S.rank);
    MPI_Comm_size(comm, &S.nranks);
    S.t0 = S.last_progress = hs_time_unix();
    hs_sweep_install_signals();

    layout_store L;
    HS_TRY(err, layout_build(o->plan, o->spec, o->overrides, &L, err));
    size_t R = o->plan->n_runs;
    S.row = malloc((R ? R : 1) * sizeof *S.row);
    if (!S.row) {
        layout_free(&L, R);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; r < R; r++) S.row[r] = r; /* a new file holds the plan in its order */
    /* The lock first, and every rank agrees on it, before any collective HDF5 call. */
    hs_lock *lock = NULL;
    int resume = 0;
    hs_code rc = HS_OK;
    if (S.rank == 0) rc = claim_file(o, &lock, &resume, err);
    rc = share_outcome(comm, rc, err);
    MPI_Bcast(&resume, 1, MPI_INT, 0, comm);
    if (rc == HS_OK && S.rank == 0 && hs_lock_start_heartbeat(lock, 0, err) != HS_OK) rc = HS_ERR_IO;
    rc = share_outcome(comm, rc, err);
    size_t n_new = 0, n_orphans = 0;
    if (rc == HS_OK)
        rc = resume ? hs_results_open(comm, o->out_path, &S.file, err)
                    : hs_results_create(comm, o->out_path, &L.L, &S.file, err);
    if (rc == HS_OK && resume) {
        hs_code c = resume_map(&S, &L, &n_new, &n_orphans, err);
        if (c == HS_OK)
            c = hs_results_use_metrics(S.file, L.L.metrics, L.L.n_metrics, L.L.layer_metrics, L.L.n_layer_metrics, err);
        if (c == HS_OK) c = hs_results_use_series(S.file, L.L.series, L.L.n_series, err);
        if (c != HS_OK) {
            hs_results_close(S.file, NULL);
            S.file = NULL;
            rc = c;
        }
    }
    if (rc != HS_OK) {
        layout_free(&L, R);
        free(S.row);
        hs_lock_release(lock);
        hs_error_trace(err, __FILE__, __LINE__);
        return rc;
    }
    sum->orphans = n_orphans, sum->appended = n_new;
    S.steps_total = L.steps_total;
    hs_str cd = {0};
    if (hs_str_printf(&cd, "%s.ckpt", o->out_path) == HS_OK) S.ckpt_dir = cd.buf;
    S.n_records = hs_results_n_records(S.file);
    S.max_layers = hs_results_max_layers(S.file);
    S.records = malloc(S.n_records * HS_RECORD_FIELDS * sizeof *S.records);
    S.layers = malloc((S.n_records * N_LAYER_METRICS * S.max_layers + 1) * sizeof *S.layers);

    /* What to run: identical on every rank (each read the same states). */
    size_t before[HS_STATE_COUNT] = {0};
    int max_attempts = o->spec->max_attempts > 0 ? o->spec->max_attempts : HS_SPEC_MAX_ATTEMPTS;
    double *keyed = malloc((R ? R : 1) * 2 * sizeof *keyed);
    S.order = malloc((R ? R : 1) * sizeof *S.order);
    S.kernel_runs = malloc((R ? R : 1) * sizeof *S.kernel_runs);
    if (!S.records || !S.layers || !keyed || !S.order || !S.kernel_runs) {
        free(keyed);
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        goto close;
    }
    for (size_t r = 0; r < R; r++) {
        hs_run_state st = hs_results_state(S.file, S.row[r]);
        int tries = hs_results_attempts(S.file, S.row[r]);
        if (st == HS_STATE_RUNNING && tries >= max_attempts) {
            /* its rank died in each of its attempts (out of memory, a node fault): retrying it
             * for ever would requeue the job for ever */
            char why[160];
            snprintf(why, sizeof why, "rank died %d times (sweep.max_attempts = %d)", tries, max_attempts);
            hs_error werr = {0};
            if (S.rank == 0 && hs_results_mark_failed(S.file, S.row[r], why, &werr) != HS_OK && !o->quiet)
                fprintf(stderr, "[hsweep] warning: %s\n", werr.msg);
            if (S.rank == 0 && !o->quiet)
                fprintf(stderr, "[hsweep] run %s: %s: failed for good\n", hs_results_id(S.file, S.row[r]), why);
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
            S.kernel_runs[S.n_kernel++] = r; /* collective: run by all ranks together, in plan order */
            continue;
        }
        if (L.steps_total[r] > 0) S.steps_todo += (double)L.steps_total[r];
        keyed[2 * S.n_order] = hs_plan_cost(o->plan, r);
        keyed[2 * S.n_order + 1] = (double)r;
        S.n_order++;
    }
    qsort(keyed, S.n_order, 2 * sizeof *keyed, by_cost_desc);
    for (size_t i = 0; i < S.n_order; i++) S.order[i] = (size_t)keyed[2 * i + 1];
    free(keyed);
    S.n_todo = S.n_order + S.n_kernel;
    sum->total = R;

    hs_str lp = {0};
    if (hs_str_printf(&lp, "%s.log", o->out_path) == HS_OK) S.log_path = lp.buf;
    if (S.rank == 0) {
        S.log = S.log_path ? fopen(S.log_path, "a") : NULL;
        if (S.log) setvbuf(S.log, NULL, _IOLBF, 0);
        if (S.log)
            fprintf(S.log, "# %s sweep %s: %zu runs, %zu to run, %d ranks\n", resume ? "resumed" : "started",
                    o->spec->path ? o->spec->path : "", R, S.n_todo, S.nranks);
        if (!o->quiet)
            fprintf(stderr, "[hsweep] %s: %zu runs (%zu already finished), %zu to run on %d rank%s -> %s\n",
                    o->spec->name ? o->spec->name : "sweep", R, sum->skipped, S.n_todo, S.nranks,
                    S.nranks == 1 ? "" : "s", o->out_path);
    }
    kernel_phase(&S);
    if (S.rank == 0) {
        master(&S);
        progress(&S, 1);
    } else {
        worker(&S);
    }

close:;
    /* the history of the jobs that wrote the file: status tells a stalled sweep from it */
    if (S.file) {
        double ran = (double)(S.done + S.failed + S.diverged), saved = (double)S.saved_steps;
        MPI_Bcast(&ran, 1, MPI_DOUBLE, 0, comm);
        MPI_Bcast(&saved, 1, MPI_DOUBLE, 0, comm);
        int sig = g_signal != 0, sig_any = 0;
        MPI_Allreduce(&sig, &sig_any, 1, MPI_INT, MPI_MAX, comm);
        char line[256], t0[32], t1[32];
        time_t a = (time_t)S.t0, b = time(NULL);
        struct tm tm;
        strftime(t0, sizeof t0, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&a, &tm));
        strftime(t1, sizeof t1, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&b, &tm));
        MPI_Bcast(t0, sizeof t0, MPI_CHAR, 0, comm);
        MPI_Bcast(t1, sizeof t1, MPI_CHAR, 0, comm);
        const char *job = getenv("SLURM_JOB_ID");
        snprintf(line, sizeof line, "start=%s end=%s ranks=%d finished=%.0f progressed=%.0f drained=%d job=%s", t0, t1,
                 S.nranks, ran, ran + saved, sig_any, job ? job : "");
        MPI_Bcast(line, sizeof line, MPI_CHAR, 0, comm);
        hs_error serr = {0};
        if (hs_results_add_session(comm, S.file, line, &serr) != HS_OK && S.rank == 0 && !o->quiet)
            fprintf(stderr, "[hsweep] warning: %s\n", serr.msg);
    }
    hs_error cerr = {0};
    hs_code crc = hs_results_close(S.file, &cerr);
    if (rc == HS_OK && crc != HS_OK) *err = cerr, rc = crc;
    /* Totals on rank 0 are complete; share them so every rank returns the same summary. */
    int failures_hit = o->max_failures > 0 && (long)S.failed >= o->max_failures;
    double stats[8] = {(double)S.done, (double)S.failed, (double)S.diverged, (double)failures_hit,
                       S.idle_total, S.idle_max, hs_time_unix() - S.t0, (double)S.io_error};
    MPI_Bcast(stats, 8, MPI_DOUBLE, 0, comm);
    MPI_Bcast(S.io_msg, sizeof S.io_msg, MPI_CHAR, 0, comm);
    sum->io_error = stats[7] != 0;
    if (sum->io_error && rc == HS_OK) {
        rc = HS_FAIL(err, HS_ERR_IO, "%s", S.io_msg);
        hs_error_hint(err, "runs finished before stay in the file; once the cause is fixed (space freed, or the file "
                           "moved), `hsweep run SPEC -o FILE --resume` completes the sweep");
    }
    sum->ran = (size_t)(stats[0] + stats[1] + stats[2]);
    sum->pending = S.n_todo - sum->ran; /* interrupted or never started */
    sum->done = (size_t)stats[0] + before[HS_STATE_DONE];
    sum->failed = (size_t)stats[1] + before[HS_STATE_FAILED];
    sum->diverged = (size_t)stats[2] + before[HS_STATE_DIVERGED];
    int any_signal = g_signal != 0, sig_all = 0;
    MPI_Allreduce(&any_signal, &sig_all, 1, MPI_INT, MPI_MAX, comm);
    sum->interrupted = sig_all;
    sum->stopped_on_failures = !sig_all && stats[3] != 0;
    sum->idle_total = stats[4], sum->idle_max = stats[5], sum->wall = stats[6];
    if (S.log) {
        fprintf(S.log, "# %s: %zu done, %zu failed, %zu diverged, %zu pending\n",
                sum->interrupted ? "interrupted" : "finished", sum->done, sum->failed, sum->diverged, sum->pending);
        fclose(S.log);
    }
    hs_run_data_free(&S.data);
    free(S.log_path);
    free(S.records);
    free(S.layers);
    free(S.order);
    free(S.kernel_runs);
    free(S.row);
    if (S.ckpt_dir && S.rank == 0) rmdir(S.ckpt_dir); /* only when empty: every result stored */
    free(S.ckpt_dir);
    layout_free(&L, o->plan->n_runs);
    MPI_Barrier(comm); /* the lock goes last, once every rank has closed the file */
    hs_lock_release(lock);
    return rc;
}
