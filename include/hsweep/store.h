/*
 * store.h - what hsweep writes to HDF5: the results file of a sweep (every rank writes into one
 * file through MPI-IO), and the small file of one training (`hsweep train`).
 *
 * ---------------------------------------------------------------- the results file of a sweep
 * Everything is created collectively, once, right after the plan is known (under the name
 * F.creating, linked to F once complete); afterwards each rank writes only its own runs' rows
 * with independent I/O, and writes a run's status cell last. So no metadata changes while
 * trainings run, and a file left by a killed job is readable and its status column says exactly
 * which runs finished. Only one process writes a file at a time: the caller holds its lock
 * (lock.h). Layout (R = runs, N = record points, L = layers):
 *
 *     /                 attrs: format "hsweep-results/1", hsweep_version, schema_version, spec
 *                       (the YAML verbatim), spec_path, spec_sha256, plan_digest, overrides (the
 *                       --set lines), created, sessions (a line per job that closed the file)
 *     /runs/id          string [R]     run ids (16 hex digits), plan order
 *     /runs/config      string [R]     canonical config text (what the id hashes)
 *     /runs/<key>       int64 | float64 | string [R], one per config key that varies
 *     /runs/status      enum uint8 [R] pending | running | done | failed | diverged
 *     /runs/rank, attempts (int32), start, end, wall (float64, Unix seconds / seconds),
 *           epochs_done, steps (int64, also written live at record points), error (string),
 *           steps_total (int64), in_plan (int32: 0 for rows a resumed plan no longer names)
 *     /runs/provenance  string [R] (1024 bytes): where and how the run ran, "key=value" lines
 *                       written with its row by the rank that ran it (hs_run_provenance: host,
 *                       cpu, isa, gemm, blas, hsweep_version, git, compiler, mpi, slurm_*);
 *                       empty for a run not yet stored. A resumed run keeps the provenance of
 *                       the job that finished it. Files from before the column lack it (a
 *                       resume adds it, empty for the rows already there).
 *     /records/<name>   float64 [R x N], NaN where nothing was recorded
 *     /layers/<name>    float64 [R x N x L], NaN-padded (per-layer metrics such as D)
 *     /series/<name>/values  float64 [R x Ns x d1 .. dk] (k = the series' ndim, 0..3): stored point
 *                       j of run r; Ns and each d are the most any run of the layout makes, NaN
 *                       where a run stored nothing or its own dims are smaller
 *     /series/<name>/point   int64 [R x Ns]: the record point (index along N) of each stored
 *                       point, -1 where none. Group attributes: axes (string, the per-point axis
 *                       names, e.g. "rep,class,class"), every (int64, only when every run of the
 *                       layout stores every `every`-th record point; point[] is the truth anyway).
 *                       The /series group exists only when the layout has series.
 *     /analysis/<name>/...   what `hsweep analyze` stored (reader.h: hs_analysis_out_open)
 *     /tables/<kind>/csv, md  string scalars (variable-length UTF-8): the text of each table an
 *                       analysis wrote beside the file as <prefix>.<kind>.csv / .md (md absent
 *                       for a CSV-only table); a re-analysis replaces /tables/<kind> whole
 *                       (reader.h: hs_analysis_out_table)
 *
 *     hs_results *f;
 *     HS_TRY(err, hs_results_create(MPI_COMM_WORLD, "out.h5", &layout, &f, err));   // collective
 *     ... rank r trains run i ...
 *     HS_TRY(err, hs_results_write_series(f, i, series, n_series, err));             // independent
 *     HS_TRY(err, hs_results_write_run(f, i, &row, records, layers, err));           // status last
 *     HS_TRY(err, hs_results_close(f, err));                                          // collective
 *
 * ---------------------------------------------------------------- the file of one training
 * A flat layout any HDF5 reader opens without help:
 *
 *     /                      attributes (strings): hsweep_version, run_id, status, message,
 *                            config (the run's canonical "key=value" lines), spec, provenance
 *                            (as /runs/provenance of a results file)
 *     /records/<name>        float64 [n_records], one dataset per recorded quantity
 *                            (epoch, step, lr, epoch_loss, train_loss, ...)
 *     /layers/<name>         float64 [n_records x n_layers] (separation, weight_norm, ...)
 *     /series/<name>/values  float64 [n x d1 .. dk], /series/<name>/point int64 [n] (the record
 *                            point of each stored point); attributes axes, every, as above
 *
 *     import h5py
 *     with h5py.File("run-3fbf8cfa65ecc27a.h5") as f:
 *         print(f.attrs["status"], f["records/test_acc"][-1])
 *
 * store/ knows file layouts and nothing about training: callers hand it named columns.
 */
#ifndef HSWEEP_STORE_H
#define HSWEEP_STORE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "hsweep/status.h"
#include "hsweep/util.h"

/* ================================================================ the results file of a sweep */

typedef enum hs_run_state {
    HS_STATE_PENDING = 0, /* not started, or interrupted (stopped, killed): run it (again) */
    HS_STATE_RUNNING = 1, /* a rank is on it; seen in a file from a job that died */
    HS_STATE_DONE = 2,
    HS_STATE_FAILED = 3,  /* an error (bad data, ...); `error` says which */
    HS_STATE_DIVERGED = 4,/* the loss became non-finite; a result, not an error */
    HS_STATE_COUNT
} hs_run_state;
const char *hs_run_state_to_string(hs_run_state s); /* "pending", ... */

/* A series' per-point shape has at most this many axes (train.h's HS_SERIES_MAX_DIMS fits). */
#define HS_STORE_MAX_DIMS 3

/* One series of the results file, sized for every run: the largest shape and point count. */
typedef struct hs_results_series {
    const char *name;   /* /series/<name>, e.g. "level_acc" (no '/') */
    const char *axes;   /* per-point axis names, comma-separated, e.g. "rep,class,class" */
    int ndim;           /* 0..HS_STORE_MAX_DIMS (0: a scalar per point) */
    size_t dims[HS_STORE_MAX_DIMS]; /* the maxima over the runs (entries >= ndim unused) */
    size_t n_points;    /* Ns: the most points a run stores */
    size_t every;       /* the runs' common spacing in record points; 0 when they differ */
} hs_results_series;

/* One run's values of one series (also what the file of one training stores). */
typedef struct hs_store_series {
    const char *name, *axes;
    int ndim;
    size_t dims[HS_STORE_MAX_DIMS]; /* this run's own shape */
    size_t every;       /* 0: no attribute (the single-run file) */
    size_t n;           /* points stored */
    const long long *point; /* [n] record-point index of each */
    const double *values;   /* [n x dims[0] x .. x dims[ndim-1]], row-major */
} hs_store_series;

typedef enum hs_col_type { HS_COL_INT, HS_COL_FLOAT, HS_COL_STR } hs_col_type;

/* A typed column of the run table: the values of one varying config key, one per run. */
typedef struct hs_results_col {
    const char *name; /* the dotted key name, e.g. "model.depth" */
    hs_col_type type;
    const long long *i;      /* HS_COL_INT   [n_runs] */
    const double *f;         /* HS_COL_FLOAT [n_runs] */
    const char *const *s;    /* HS_COL_STR   [n_runs] */
} hs_results_col;

typedef struct hs_results_layout {
    size_t n_runs;
    const char *const *ids;     /* [n_runs] 16 hex digits */
    const char *const *configs; /* [n_runs] canonical text */
    const hs_results_col *cols;
    size_t n_cols;
    size_t n_records;           /* record points per run (the most any run makes) */
    const char *const *metrics; /* [n_metrics] names of /records datasets */
    size_t n_metrics;
    size_t max_layers;          /* L of /layers datasets */
    const char *const *layer_metrics; /* [n_layer_metrics] */
    size_t n_layer_metrics;
    const hs_results_series *series;  /* [n_series] /series groups (none: no /series group) */
    size_t n_series;
    const long long *steps_total; /* [n_runs] optimiser steps each run makes in full (NULL: -1) */
    const char *spec_text, *spec_path, *plan_digest, *hsweep_version;
    const char *overrides;      /* the --set assignments, one per line ("" or NULL: none) */
    int schema_version;
} hs_results_layout;

/* One finished (or failed, or interrupted) run, as written by its rank. */
typedef struct hs_results_row {
    hs_run_state state;
    int rank, attempts;
    double start, end, wall;
    long long epochs_done, steps;
    const char *error;          /* "" when none */
    const char *provenance;     /* "key=value" lines (hs_run_provenance), cut to 1023 bytes;
                                   NULL: leave the stored cell as it is */
} hs_results_row;

typedef struct hs_results hs_results;

/* Create path with the whole layout; collective over comm, identical arguments on every rank.
 * Every run starts pending. An existing path is never truncated (an error: move it aside
 * first); a file system with less free space than hs_results_layout_bytes is refused before
 * anything is written; a step that fails on any rank fails on all (no rank is left in a
 * collective), and the half-made file is removed. Errors name the cause the system gave. */
hs_code hs_results_create(MPI_Comm comm, const char *path, const hs_results_layout *layout, hs_results **out,
                          hs_error *err);
/* About how many bytes a file of this layout takes (datasets are allocated at creation). */
double hs_results_layout_bytes(const hs_results_layout *layout);

/* Open an existing results file for resuming (collective). The caller reads the ids and states
 * to decide what to run; n_records / metrics must match what it will write. */
hs_code hs_results_open(MPI_Comm comm, const char *path, hs_results **out, hs_error *err);
/* After open: the metric names (and order) the caller's rows use; each must exist in the file. */
hs_code hs_results_use_metrics(hs_results *f, const char *const *metrics, size_t n_metrics,
                               const char *const *layer_metrics, size_t n_layer_metrics, hs_error *err);
/* After open (and grow): every series the caller will write must be in the file with the same
 * ndim and axes and at least its dims and points; the error names the first that is not. */
hs_code hs_results_use_series(hs_results *f, const hs_results_series *series, size_t n_series, hs_error *err);
/* Non-zero when the file cannot take layout as it is: more runs, record points or layers than
 * it holds, or a series it lacks or holds smaller (hs_results_grow then makes room). */
int hs_results_needs_grow(const hs_results *f, const hs_results_layout *layout);
size_t hs_results_n_runs(const hs_results *f);
size_t hs_results_n_records(const hs_results *f);
size_t hs_results_max_layers(const hs_results *f);
/* The stored id of run i (16 hex digits + NUL) and every run's state, read at open/create time. */
const char *hs_results_id(const hs_results *f, size_t i);
hs_run_state hs_results_state(const hs_results *f, size_t i);
/* Attempts started on run i so far (a drained attempt is given back by the row written then). */
int hs_results_attempts(const hs_results *f, size_t i);
/* The canonical config of row i as the file held it at open (NULL for rows appended since). */
const char *hs_results_config(const hs_results *f, size_t i);
/* The config schema version the file was written with (-1 when it does not say). */
int hs_results_schema_version(const hs_results *f);
/* Attribute text (spec_sha256, plan_digest, ...), or NULL. */
const char *hs_results_attr(const hs_results *f, const char *name);

/* Append runs (collective): the layout's first n_runs ids must equal the file's (the caller lists
 * the file's rows in file order, whatever the plan's order, then its new runs); the rest become
 * new pending rows, datasets grow (also along records and layers when the layout needs more),
 * key columns that vary only now are added, and the spec attributes are replaced. Series new in
 * the layout are created (NaN / -1 for every run), existing ones grow along points and dims
 * (all axes are unlimited); a series whose ndim or axes differ from the file's is refused before
 * anything changes. Fails when a new config or string value is longer than its column allows
 * (then write a new file). */
hs_code hs_results_grow(MPI_Comm comm, hs_results *f, const hs_results_layout *layout, hs_error *err);

/* Collective: which rows belong to the plan being run (1) and which a resumed spec no longer
 * names (0: kept as they are, reported by status, never run). Creates /runs/in_plan and
 * /runs/provenance (empty cells) in a file written before those columns existed. */
hs_code hs_results_mark_plan(MPI_Comm comm, hs_results *f, const unsigned char *in_plan, hs_error *err);
/* Collective, identical line on every rank: append one line to the root attribute `sessions`,
 * the history of the jobs that wrote the file (status reads it to tell a stalled sweep). */
hs_code hs_results_add_session(MPI_Comm comm, hs_results *f, const char *line, hs_error *err);

/* Mark run i running and count one attempt (independent I/O; written by the rank that starts
 * it). A rank that dies leaves the run "running" with the attempt counted. */
hs_code hs_results_mark_running(hs_results *f, size_t i, int rank, double start, hs_error *err);

/* Live progress of a running run (independent I/O): record point t's values, one per metric in
 * the order the file uses (hs_results_use_metrics), and epochs_done / steps, so that status and
 * readers see a run's curves while it trains. The status stays "running": readers trust a row's
 * values only once its status says it finished (hs_results_write_run rewrites them all). */
hs_code hs_results_write_point(hs_results *f, size_t i, size_t t, const double *values, long long epochs_done,
                               long long steps, hs_error *err);

/* Mark run i failed for good with why (independent I/O; its records stay as they are). */
hs_code hs_results_mark_failed(hs_results *f, size_t i, const char *why, hs_error *err);

/* Write run i's records [n_records x n_metrics] (row-major by record point, NULL = leave NaN),
 * per-layer values [n_records x n_layer_metrics x max_layers] (NULL = leave NaN), the row's
 * bookkeeping, and the state last (independent I/O). */
hs_code hs_results_write_run(hs_results *f, size_t i, const hs_results_row *row, const double *records,
                             const double *layers, hs_error *err);

/* Write run i's series (independent I/O; before hs_results_write_run, which writes the status
 * last): for each, point [i, 0:Ns] (the run's n indices, then -1) and values [i, 0:n, 0:d1 ..]
 * from the contiguous buffer, then NaN over points n..Ns (a rerun of a stopped run leaves
 * nothing stale). Each must be a series of the file with the same ndim and no larger. */
hs_code hs_results_write_series(hs_results *f, size_t i, const hs_store_series *series, size_t n_series,
                                hs_error *err);

/* Flush and close (collective). Frees f even on error. */
hs_code hs_results_close(hs_results *f, hs_error *err);

/* What hs_results_describe found, for a script's verdict. */
typedef struct hs_results_census {
    size_t runs;                    /* rows of the file */
    size_t states[HS_STATE_COUNT];  /* rows of the current plan, by state */
    size_t orphans;                 /* rows a resumed spec no longer names (kept, never run) */
    int stalled;                    /* the last two jobs drained without any progress */
    int writer;                     /* hs_lock_state of F.lock: none, live (being written), stale */
} hs_results_census;

/* A human summary of a results file from the file and its lock alone (serial read-only open, no
 * MPI, never the lock): spec, writer, runs by state with what each state means, running runs'
 * progress and ETA, failed and diverged runs with their messages, and what to do next. Safe on
 * a live file. census receives the counts. */
hs_code hs_results_describe(const char *path, hs_str *out, hs_results_census *census, hs_error *err);

/* ---------------------------------------------------------------- a stage's search result
 * A searching stage (spec.h) leaves one table in the results file, /search/<stage>: per group
 * (one combination of the stage's axes) the crossing, its bracket, the seed means and per-seed
 * values at the bracket's ends, the rounds and points it took. Written by rank 0 once the search
 * is over (serially, no reader open), replaced when written again. */
typedef struct hs_search_result {
    const char *group;          /* "model.arch=\"cnn\", data.s0=1": the group's config values */
    int status;                 /* plan.h's hs_search_status */
    int rounds;
    long long points;           /* distinct key values trained (x seeds = trainings) */
    double crossing, lo, hi;    /* NaN when not found */
    double err_lo, err_hi;      /* seed means of the metric at lo, hi */
    const double *seeds_lo, *seeds_hi; /* [n_seeds] */
} hs_search_result;

hs_code hs_results_write_search(const char *path, const char *stage, const char *key, const char *metric,
                                double target, const hs_search_result *rows, size_t n, size_t n_seeds, hs_error *err);

/* ================================================================ the file of one training */

typedef struct hs_store_attr {
    const char *name, *value; /* a string attribute of the root group */
} hs_store_attr;

typedef struct hs_store_column {
    const char *name;     /* dataset name under /records */
    const double *values; /* [n_rows] */
} hs_store_column;

typedef struct hs_store_matrix {
    const char *name;     /* dataset name under /layers */
    const double *values; /* [rows x cols], row-major */
    size_t rows, cols;
} hs_store_matrix;

/* Create (truncating; a sweep's results file there is refused) path and write the attributes,
 * the columns (/records), the matrices (/layers) and the series (/series/<name>/values
 * [n x dims], point [n], attributes axes and every when > 0; no /series group when n_series = 0).
 * Errors name the path; HDF5's own error stack is silenced and summarised. */
hs_code hs_store_write_run(const char *path, const hs_store_attr *attrs, size_t n_attrs,
                           const hs_store_column *cols, size_t n_cols, size_t n_rows, const hs_store_matrix *mats,
                           size_t n_mats, const hs_store_series *series, size_t n_series, hs_error *err);

/* ================================================================ the data file of one run
 * What `hsweep data` exports: the exact training and test sets a run trains and tests on (after
 * its subset, resizing, whitening, generation), for inspection outside hsweep:
 *
 *     /               attributes (strings): format "hsweep-data/1", hsweep_version, run_id, config
 *                     (the run's canonical "key=value" lines), spec, data_kind, classes
 *     /train/x        float32 [n x C x H x W] for images (C, H, W > 0 with C H W = dim), else
 *                     [n x dim] (the (S)RHM's one-hot inputs are C = v channels x 1 x positions)
 *     /train/y        int32 [n], the labels 0..classes-1
 *     /train/t        float32 [n x t_dim], real-valued targets, only where the data has them
 *     /test/...       the same for the test set
 *
 *     with h5py.File("data.h5") as f:
 *         x, y = f["train/x"][()], f["train/y"][()]
 */
typedef struct hs_store_set {
    const float *x;             /* [n x dim] row-major */
    const int32_t *y;           /* [n] */
    const float *t;             /* [n x t_dim], or NULL */
    long long n;
    int dim, t_dim;
    int channels, height, width; /* the image shape, or 0 */
} hs_store_set;

/* Create (truncating; a sweep's results file there is refused) path with the string attributes
 * and the two sets. Serial (no communicator, with or without mpirun). Errors name the path and the dataset. A path ending in ".npz" is
 * written as numpy's archive instead (uncompressed, little-endian machines): arrays train_x,
 * train_y (train_t), test_x, test_y (test_t) shaped as above, and each attribute (format first)
 * as a 0-d unicode array: np.load(path)["run_id"][()]. Entries beyond 4 GB are refused (no zip64). */
hs_code hs_store_write_data(const char *path, const hs_store_attr *attrs, size_t n_attrs, const hs_store_set *train,
                            const hs_store_set *test, hs_error *err);

#endif /* HSWEEP_STORE_H */
