/* internal.h - what the files of src/sched/ share (see include/hsweep/sched.h for the whole).
 *
 *   sweep.c     hs_sweep_run: open or resume the file, choose what to run, close and summarise
 *   layout.c    the results file's layout from the plan (ids, configs, columns, series)
 *   claim.c     rank 0 claims the file: its lock, the never-overwrite rule, the checkpoint folder
 *   resume.c    a resumed file's rows matched to the plan's runs by id; new runs appended
 *   dispatch.c  rank 0 hands out runs and accounts for them; the workers ask and report
 *   rank_run.c  one run on this rank through hs_run_one, into its row of the shared file
 *   solved.c    closed-form (kernel) runs: hs_run_one with a collective solve in place of the
 *               training, by all ranks together before the trainings are handed out
 *   progress.c  progress lines with an ETA on stderr, and the per-run lines of <out>.log
 *   signals.c   SIGINT/SIGTERM/SIGUSR1 set a flag that drains the sweep
 *
 * Protocol: a worker sends REPORT {run it just finished or -1, its state, ...} and receives WORK
 * {next run or -1 = no more}. Rank 0 answers from its dispatch loop and, while it trains a run
 * itself, from the training's step-boundary hook. Every rank ends in the collective close of the
 * file, whatever happened, so no rank is left waiting in a collective. */
#ifndef HSWEEP_SCHED_INTERNAL_H
#define HSWEEP_SCHED_INTERNAL_H

#include <mpi.h>
#include <stdio.h>

#include "hsweep/lock.h"
#include "hsweep/plan.h"
#include "hsweep/run.h"
#include "hsweep/sched.h"
#include "hsweep/store.h"
#include "hsweep/train.h"

enum { TAG_REPORT = 101, TAG_WORK = 102 };

/* Per-layer metrics: what train/ records (hs_layer_field_names). */
#define N_LAYER_METRICS HS_LAYER_FIELDS

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

/* The layout of a new results file, with the storage its pointers refer to. */
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

/* One rank's view of the sweep; the dispatch state and counters are rank 0's. */
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
    hs_str provenance; /* this rank's hs_run_provenance, stored with each run it writes */
    /* rank 0's dispatch state */
    size_t *order, n_order, next; /* runs in cost order; order[next] is the first not handed out */
    size_t left;                  /* runs not handed out yet */
    unsigned char *taken;         /* [n_order] handed out (a run may leave the cost order to fit a node) */
    double *mem;                  /* [plan runs] each run's memory floor (hs_plan_memory) */
    int *node_of;                 /* [nranks] each rank's node: the world rank of that node's first rank */
    double *node_limit;           /* [nranks] by node: the memory its ranks may use (0 = unknown) */
    double *node_use;             /* [nranks] by node: the floors of the runs handed to its ranks and
                                     not reported back yet */
    int *mem_wait;                /* [nranks] 1 while a worker's ask waits for memory on its node */
    int active_workers; /* workers not yet told "no more" */
    int *held;          /* [nranks] runs handed to each worker and not yet reported: 2 while one waits
                           behind the one it trains (workers ask ahead) */
    size_t queued;      /* handed-out runs waiting behind another on their worker: not training yet */
    int *deferred;      /* [nranks] 1 while a worker's ask-ahead waits for its current run to end: in
                           the sweep's tail a run goes to the first rank that is free, not to the
                           first that asked (which would leave a free rank idle for a whole run) */
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

/* layout.c */
hs_code sched_layout_build(const hs_plan *p, const hs_spec *spec, const char *overrides, layout_store *s,
                           hs_error *err);
void sched_layout_free(layout_store *s, size_t n_runs);

/* claim.c: rank 0 only, before any collective HDF5 call; *resume says whether to open or create */
hs_code sched_claim_file(const hs_sweep_opts *o, hs_lock **lock, int *resume, hs_error *err);
/* Every rank learns rank 0's outcome (code and message). Collective. */
hs_code sched_share_outcome(MPI_Comm comm, hs_code rc, hs_error *err);

/* resume.c: S->row from the file's ids, new runs appended, in_plan marked. Collective. */
hs_code sched_resume_map(sweep *S, const layout_store *P, size_t *n_new, size_t *n_orphans, hs_error *err);

/* dispatch.c */
void sched_master(sweep *S);
void sched_worker(sweep *S);
/* every rank here, waited for without spinning a core (before the collective close) */
void sched_wait_all(sweep *S);
/* Collective: rank 0 learns each rank's node and each node's memory limit, and each run's floor,
 * for memory-aware dispatch. Without them (no memory) dispatch keeps the cost order. */
void sched_memory_setup(sweep *S);
/* Answer worker requests: all waiting ones (non-blocking), or at least one (blocking). */
void sched_serve_requests(sweep *S, int blocking);
/* Account for one finished run (rank 0), and answer the asks that waited for the memory it held. */
void sched_account(sweep *S, const report *rep);

/* rank_run.c: train plan run r here; fills rep and writes the run's rows */
void sched_run_one(sweep *S, size_t r, report *rep);
/* Copy a message, cut to fit (the file keeps ERROR_LEN bytes anyway). */
void sched_set_msg(char *dst, size_t n, const char *src);

/* solved.c: every kernel run, all ranks together, in plan order. Collective. */
void sched_kernel_phase(sweep *S);

/* progress.c */
void sched_progress(sweep *S, int force);
void sched_log_line(sweep *S, const report *rep);

#endif /* HSWEEP_SCHED_INTERNAL_H */
