/*
 * run.h - one training end to end: config -> data -> model -> train -> stored result.
 *
 * `hsweep train` and every rank of `hsweep run` train a run through this one function, so a run
 * gives the same curves whichever command trains it. What differs between the callers is passed
 * in, never coded twice: where the result goes (a file of its own, or a row of the shared results
 * file), what is printed, when to stop, and where the run's checkpoint lives.
 *
 *     hs_run_data data = {0};                 // datasets kept between runs with equal data.* keys
 *     hs_run_opts o = {.plan = plan, .r = 3, .data = &data,
 *                      .checkpoint = "out.h5.ckpt/3f2a9c0d11e4b5a7.ckpt", .checkpoint_every = 1800,
 *                      .who = "rank 2",
 *                      .hooks = {.ctx = me, .on_record = write_point, .should_stop = signalled,
 *                                .store = write_row}};
 *     hs_code rc = hs_run_one(&o, &err);      // the store hook's answer
 *     ...
 *     hs_run_data_free(&data);
 *
 * The steps, in order:
 *   1. the run's training config from the plan (hs_train_config_from_plan);
 *   2. its datasets, reused from o->data when the previous run had the same data.* values;
 *   3. hooks.on_ready (e.g. a header line), then the training (hs_train_run) or hooks.solve, with
 *      hooks.on_record after every record point and hooks.should_stop at step boundaries;
 *      with a checkpoint path the training continues from it, saves on stop and every
 *      checkpoint_every seconds; a checkpoint this build cannot use is moved aside to
 *      <path>.unusable and the run starts afresh (it would fail for ever otherwise);
 *   4. hooks.store, always, with the outcome: failed to start, trained (done, diverged or
 *      stopped), or stopped by a checkpoint that could not be saved (the disk's trouble);
 *   5. once stored, a finished run's checkpoint is removed: it has served.
 * A failure of steps 1-3 is not returned directly: it is the outcome handed to the store hook,
 * which decides (a sweep records a failed run and goes on; `hsweep train` reports the error).
 *
 * hs_run_file_store is the store hook of a run written to a file of its own (`hsweep train`).
 */
#ifndef HSWEEP_RUN_H
#define HSWEEP_RUN_H

#include <stddef.h>

#include "hsweep/data.h"
#include "hsweep/plan.h"
#include "hsweep/status.h"
#include "hsweep/train.h"

/* The datasets of the last run, by the canonical values of its data.* keys. */
typedef struct hs_run_data {
    char *key;
    hs_dataset train, test;
} hs_run_data;

/* Plan run r's datasets (opts: its config's data options) into d, unless d holds them already. */
hs_code hs_run_data_load(hs_run_data *d, const hs_plan *plan, size_t r, const hs_data_opts *opts, hs_error *err);
void hs_run_data_free(hs_run_data *d);

/* The run being trained, as the hooks see it. cfg, train and test are NULL before step 2/3. */
typedef struct hs_run_info {
    const hs_plan *plan;
    size_t r;                   /* index in plan */
    char id[17];                /* 16 hex digits */
    const hs_train_config *cfg;
    const hs_dataset *train, *test;
} hs_run_info;

typedef struct hs_run_outcome {
    hs_code rc;        /* HS_OK: res holds a training (status done, diverged or stopped) */
    hs_error err;      /* why not, when rc != HS_OK */
    int checkpoint_io; /* rc is a checkpoint that could not be saved: the disk's trouble */
    hs_train_result res;
} hs_run_outcome;

typedef struct hs_run_hooks {
    void *ctx;
    /* Data loaded, training about to start. A non-OK return fails the run. */
    hs_code (*on_ready)(void *ctx, const hs_run_info *run, hs_error *err);
    /* After record point index (an entry of the result's records). A non-OK return fails the run. */
    hs_code (*on_record)(void *ctx, const hs_run_info *run, const hs_record *rec, size_t index, hs_error *err);
    /* Polled at every step boundary; non-zero stops the training (status HS_RUN_STOPPED). */
    int (*should_stop)(void *ctx);
    /* Replaces the training of step 3 for a run solved rather than trained (a model kind flagged
     * HS_MODEL_SOLVED, e.g. kernel ridge regression solved by all ranks of a sweep together): fill
     * res (status, records; no layers needed) and return the solve's code. Called even when steps
     * 1-2 failed, with their code as ready and run->cfg, train and test NULL, because a collective
     * solve must be reached by every process to learn whether the others can. NULL: the run is
     * trained (a solved kind then refuses with its message). */
    hs_code (*solve)(void *ctx, const hs_run_info *run, hs_code ready, hs_train_result *res, hs_error *err);
    /* Store the outcome; its return is hs_run_one's. NULL: nothing stored, the training's code
     * is returned. */
    hs_code (*store)(void *ctx, const hs_run_info *run, const hs_run_outcome *out, hs_error *err);
} hs_run_hooks;

typedef struct hs_run_opts {
    const hs_plan *plan;
    size_t r;
    hs_run_data *data;       /* datasets kept between calls; NULL: loaded for this run and freed */
    const char *checkpoint;  /* the run's checkpoint file; NULL: no checkpoints */
    double checkpoint_every; /* seconds of training between saves; 0: only when stopped */
    const char *who;         /* names the trainer in messages ("rank 2"); NULL: none */
    hs_run_hooks hooks;
} hs_run_opts;

/* Train plan run o->r and hand the outcome to hooks.store (see the top of this file). */
hs_code hs_run_one(const hs_run_opts *o, hs_error *err);

/* ---------------------------------------------------------------- a run in a file of its own */

typedef struct hs_run_file {
    const char *path;      /* the file to write (truncated) */
    const char *spec_path; /* stored as the "spec" attribute */
    const char *version;   /* stored as "hsweep_version" */
} hs_run_file;

/* Store hook (ctx = hs_run_file *): a failed outcome is returned as the error; a training is
 * written to ctx->path: root attributes (run_id, status, message, config, spec, n_params,
 * epochs_done), /records/<field> [n], /layers/<field> [n x layers], /series/<name>. */
hs_code hs_run_file_store(void *ctx, const hs_run_info *run, const hs_run_outcome *out, hs_error *err);

/* Where and how this process trains, as "key=value" lines (one per key, in this order; a key
 * whose value is unknown reads "unknown", the slurm_* keys appear only when set):
 *   host            gethostname()
 *   cpu             /proc/cpuinfo's model name
 *   isa             the instruction sets the products use that this CPU has, e.g.
 *                   "sse4.2,avx,avx2,fma,avx512f,avx512bw,avx512dq,avx512vl" ("" on none)
 *   gemm            the path of the dense products: "hsweep-avx512+blas" (the AVX-512 kernel for a
 *                   training step's small products, the BLAS for the rest) or "blas"
 *   blas            "<openblas_get_config()> (<core> kernels)", e.g. "OpenBLAS 0.3.21
 *                   DYNAMIC_ARCH ... (Haswell kernels)" when linked to OpenBLAS,
 *                   else "cblas"
 *   hsweep_version, git (`git describe --always --dirty` of the tree at build time, "unknown"
 *                   outside git), compiler (__VERSION__, "gcc " before gcc's), mpi (MPI_Get_library_version's first
 *                   line), slurm_job_id, slurm_step_id, slurm_array_job_id, slurm_array_task_id
 * A value's own newlines and tabs become spaces, so a line is always one key. A sweep stores the
 * text with every run's row (/runs/provenance, cut to 1023 bytes), `hsweep train` as its file's
 * provenance attribute. Calls MPI_Get_library_version, which needs no MPI_Init. */
hs_code hs_run_provenance(hs_str *out, hs_error *err);

#endif /* HSWEEP_RUN_H */
