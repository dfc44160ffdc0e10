/*
 * sched.h - run a whole plan across MPI ranks into one results file.
 *
 *     hs_sweep_opts o = {.out_path = "results.h5", .spec = spec, .plan = plan};
 *     hs_sweep_summary s;
 *     hs_code rc = hs_sweep_run(MPI_COMM_WORLD, &o, &s, &err);     // collective
 *     // s.interrupted: a signal stopped it; the file is consistent and --resume continues it
 *
 * Dispatch: rank 0 hands out runs one at a time (self-scheduling), most expensive first (cost =
 * parameters x training samples x epochs, from the config alone), and trains runs itself in
 * between: it answers requests at every training step boundary, so a worker waits at most one
 * step of rank 0's current training. Each rank writes its own runs' rows into the shared file;
 * rank 0 keeps the text log beside it (<out>.log) and prints progress.
 *
 * The file: rank 0 holds its writer lock (F.lock, store/lock.h) from before it is opened until
 * after it is closed, and refuses an existing file unless resuming (or overwrite moves it aside).
 * A resume matches the file's rows to the plan's runs by id (new runs are appended, rows the
 * plan no longer names are kept and marked), and a run found "running" (its rank died) is tried
 * again until it has used spec->max_attempts attempts, then failed for good.
 *
 * Checkpoints: a training saves its state to F.ckpt/<id>.ckpt when drained and every
 * spec->checkpoint_minutes; the next attempt continues from it; it is removed once the result
 * is stored.
 *
 * Signals: SIGINT, SIGTERM and SIGUSR1 (Slurm's warnings) set a flag. Then no run is handed out
 * any more, running trainings save a checkpoint at their next step and are written back as
 * pending, the file is closed collectively, and hs_sweep_run returns with s.interrupted set (the
 * CLI exits with HS_EXIT_REQUEUE so a batch script can requeue the job and resume). A write that
 * fails (a full disk) stops the sweep the same way, with s.io_error set and the cause returned.
 *
 * Results never depend on the number of ranks or the dispatch order: every run derives its
 * randomness from its own seeds and is trained by exactly one rank.
 */
#ifndef HSWEEP_SCHED_H
#define HSWEEP_SCHED_H

#include <mpi.h>
#include <stddef.h>

#include "hsweep/plan.h"
#include "hsweep/spec.h"
#include "hsweep/status.h"

/* Exit code of `hsweep run` when a signal interrupted the sweep: requeue and --resume. */
#define HS_EXIT_REQUEUE 3

typedef struct hs_sweep_opts {
    const hs_spec *spec;
    const hs_plan *plan;
    const char *out_path;
    int resume;         /* continue an existing file */
    int retry_failed;   /* with resume: run failed runs again */
    const char *overrides; /* the --set assignments, one per line, stored in the file (NULL: none) */
    int overwrite;      /* without resume: move an existing file aside (never deleted) and start anew */
    long max_failures;  /* stop handing out work after this many failures; 0 = never */
    double progress_every; /* seconds between progress lines on rank 0; 0 = 5; < 0 = none */
    int quiet;          /* no per-run lines */
    /* Benchmarks only: replaces the training of run r (nothing is written for it); returns the
     * final state. NULL = train. */
    int (*run_fn)(void *ctx, size_t r);
    void *run_ctx;
} hs_sweep_opts;

typedef struct hs_sweep_summary {
    size_t total, skipped;             /* skipped: already finished in a resumed file */
    size_t done, failed, diverged, pending; /* states of all runs in the file at the end */
    size_t ran;                        /* runs this job finished (done, failed or diverged) */
    int interrupted;                   /* a signal stopped the sweep */
    int stopped_on_failures;           /* --max-failures reached */
    int io_error;                      /* the results file could not be written: stopped */
    size_t exhausted;                  /* runs failed for good at this start: their ranks died max_attempts times */
    size_t orphans;                    /* rows of the file the spec no longer names (kept, not run) */
    size_t appended;                   /* new runs of the spec appended to a resumed file */
    double wall;                       /* seconds, rank 0 */
    double idle_max;                   /* the longest a worker waited for one answer (s) */
    double idle_total;                 /* summed over workers (s) */
} hs_sweep_summary;

/* Install the SIGINT/SIGTERM/SIGUSR1 handlers (idempotent; `hsweep run` calls it before MPI_Init). */
void hs_sweep_install_signals(void);
/* True once such a signal arrived. */
int hs_sweep_signalled(void);

/* Run every run of the plan that is not finished; collective over comm. Errors that concern the
 * whole sweep (file creation, incompatible resume) are returned on every rank; a failing training
 * is not an error (it is recorded and counted). */
hs_code hs_sweep_run(MPI_Comm comm, const hs_sweep_opts *o, hs_sweep_summary *s, hs_error *err);

#endif /* HSWEEP_SCHED_H */
