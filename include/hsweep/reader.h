/*
 * reader.h - reading a results file (store.h's layout) without knowing where anything lives,
 * and writing an analysis' results back under /analysis/<name>.
 *
 * The reader never writes and never takes the file's lock: it opens read-only, so it is safe
 * on a file a sweep is writing (a row's values are final only once its state says so; analyses
 * use done and diverged runs). Opened over a communicator it reads through MPI-IO, so every rank
 * of `mpirun -np 4 hsweep analyze` reads its own block of runs; over MPI_COMM_SELF (or on one
 * rank) it is a plain serial open, and over MPI_COMM_NULL the same without MPI initialised, as
 * `hsweep status` does.
 *
 *     hs_results_reader *rd;
 *     HS_TRY(err, hs_reader_open(MPI_COMM_WORLD, "out.h5", &rd, err));       // collective
 *     size_t R = hs_reader_n_runs(rd);
 *     for (size_t i = 0; i < R; i++)
 *         if (hs_reader_state(rd, i) == HS_STATE_DONE) printf("%s done\n", hs_reader_id(rd, i));
 *     int nd;
 *     size_t dims[HS_READER_MAX_DIMS];
 *     if (hs_reader_dims(rd, HS_READ_RECORDS, "test_acc", &nd, dims) == HS_OK) {  // [R x N]
 *         double *acc = malloc(2 * dims[1] * sizeof *acc);
 *         HS_TRY(err, hs_reader_rows(rd, HS_READ_RECORDS, "test_acc", 0, 2, acc, err));  // runs 0, 1
 *     }
 *     hs_canon_config c;
 *     HS_TRY(err, hs_canon_parse(hs_reader_config(rd, 0), &c, err));
 *     printf("%s\n", hs_canon_get(&c, "model.arch"));                         // "\"mlp\"" or NULL
 *     hs_canon_free(&c);
 *     hs_reader_close(rd);                                                      // collective
 *
 * Config values come three ways: the canonical text of a run (hs_reader_config, what its id
 * hashes), parsed by the one canonical-config parser below (hs_canon_*: raw "key=value" lines,
 * or a typed hs_train_config with schema defaults for keys a run does not list); and the typed
 * columns of the keys that vary across the file (hs_reader_columns).
 *
 * Writing back (rank 0 alone, after every rank closed its reader):
 *
 *     hs_analysis_out *g;
 *     HS_TRY(err, hs_analysis_out_open("out.h5", "equisep", &g, err));   // replaces /analysis/equisep
 *     double rho[2] = {0.5, 0.6};
 *     size_t n = 2;
 *     hs_code w = hs_aout_f64(g, "rho", 1, &n, rho);                     // /analysis/equisep/rho
 *     w = w ? w : hs_aout_attr(g, "", "obey_r", -0.99);
 *     HS_TRY(err, hs_analysis_out_close(g, w, err));                     // names what failed
 *
 * A writer's calls return hs_code and remember the first failure (with the dataset's name), so a
 * run of writes can be checked once; hs_analysis_out_close reports it in err. An analysis' tables
 * (the CSV and Markdown it writes beside the file) go into the file too, under /tables/<kind>
 * (hs_analysis_out_table), so a report made from the file alone shows them.
 */
#ifndef HSWEEP_READER_H
#define HSWEEP_READER_H

#include <mpi.h>
#include <stddef.h>

#include "hsweep/status.h"
#include "hsweep/store.h"
#include "hsweep/train.h"
#include "hsweep/util.h"

/* ================================================================ the canonical config parser */

/* One "key=value" line of a canonical config: key and the value's canonical text (strings keep
 * their JSON quotes, lists their brackets). */
typedef struct hs_canon_kv {
    const char *key, *val;
} hs_canon_kv;

typedef struct hs_canon_config {
    char *text;         /* a copy, split in place */
    hs_canon_kv *pairs; /* in text order; the first line (the format tag) is not a pair */
    size_t n;
} hs_canon_config;

/* Split canonical text ("hsweep/1\nkey=value\n...") into pairs. NULL text is an empty config. */
hs_code hs_canon_parse(const char *text, hs_canon_config *out, hs_error *err);
/* The value text of key as the run lists it (first line wins), or NULL when the run does not. */
const char *hs_canon_get(const hs_canon_config *c, const char *key);
/* The canonical text of key's schema default ("\"mlp\"", "8", "[]"), so it compares equal to what
 * a run that set the value would list; *out stays empty when this build does not know the key. */
hs_code hs_canon_default(const char *key, hs_str *out);
/* The typed config: each schema key from the run's line, else its default; lines of keys this
 * build does not know are skipped (a file from another schema version still reads). */
hs_code hs_canon_typed(const hs_canon_config *c, hs_train_config *cfg, hs_error *err);
void hs_canon_free(hs_canon_config *c); /* safe on a zeroed struct */

/* ================================================================ the reader */

typedef struct hs_results_reader hs_results_reader;

#define HS_READER_MAX_DIMS 5

/* Where a named array lives: /records/<name> [R x N], /layers/<name> [R x N x L], a series'
 * values [R x Ns x d1 .. dk] or its record-point indices [R x Ns]. */
typedef enum hs_read_table {
    HS_READ_RECORDS,
    HS_READ_LAYERS,
    HS_READ_SERIES,
    HS_READ_SERIES_POINT
} hs_read_table;

/* Open path read-only (collective over comm; MPI-IO unless comm has one rank), reading the ids,
 * states, canonical configs and in_plan of every run. HDF5's own error printing is silenced.
 * Fails (on every rank) when the file is not an hsweep results file. */
hs_code hs_reader_open(MPI_Comm comm, const char *path, hs_results_reader **out, hs_error *err);
/* Collective when opened over a communicator of several ranks. Safe on NULL. */
void hs_reader_close(hs_results_reader *rd);

const char *hs_reader_path(const hs_results_reader *rd);
size_t hs_reader_n_runs(const hs_results_reader *rd);
const char *hs_reader_id(const hs_results_reader *rd, size_t i);
hs_run_state hs_reader_state(const hs_results_reader *rd, size_t i);
/* Non-zero for a done or diverged run: the runs whose values are final. */
int hs_reader_finished(const hs_results_reader *rd, size_t i);
/* 0 for a row a resumed spec no longer names; 1 otherwise (also in files without the column). */
int hs_reader_in_plan(const hs_results_reader *rd, size_t i);
/* The run's canonical config text (what its id hashes). */
const char *hs_reader_config(const hs_results_reader *rd, size_t i);
/* Where and how the run ran: the "key=value" lines of hs_run_provenance (run.h) its rank stored
 * with its row; "" for a run not stored yet and in a file from before the column. */
const char *hs_reader_provenance(const hs_results_reader *rd, size_t i);
/* One value of it ("host", "gemm", "git", ...) into buf (cut to n - 1 bytes), "unknown" when the
 * run's provenance lacks the key. Returns buf. */
const char *hs_reader_provenance_field(const hs_results_reader *rd, size_t i, const char *key, char *buf, size_t n);

/* Shape of an array: HS_OK with its rank (<= HS_READER_MAX_DIMS) and dims; HS_ERR_VALUE when the
 * file has no such array (err untouched: absence is an answer, not a failure). For the series
 * tables name is the series' name ("level_acc"). */
hs_code hs_reader_dims(const hs_results_reader *rd, hs_read_table t, const char *name, int *nd, size_t *dims);
/* Non-zero when the array exists. For a series: both its values and its points. */
int hs_reader_has(const hs_results_reader *rd, hs_read_table t, const char *name);
/* Runs r0 .. r0 + n of an array, every other axis whole, as float64 into buf (row-major).
 * Independent I/O: each rank reads its own block. */
hs_code hs_reader_rows(const hs_results_reader *rd, hs_read_table t, const char *name, size_t r0, size_t n,
                       double *buf, hs_error *err);

/* Each run's final value of /records/<name> (its last recorded point) into out[R]: NaN for a run
 * not finished (hs_reader_finished) or that recorded none. HS_ERR_VALUE (err set) when the file
 * has no such record. Reads the whole array (collective reads alike). */
hs_code hs_reader_final(const hs_results_reader *rd, const char *name, double *out, hs_error *err);

/* One varying config key of the run table, typed as the file stores it. */
typedef struct hs_reader_col {
    char *name;        /* the dotted key, e.g. "model.depth" */
    hs_col_type type;  /* store.h: HS_COL_INT, HS_COL_FLOAT or HS_COL_STR */
    long long *i;      /* [R] for HS_COL_INT */
    double *f;         /* [R] for HS_COL_FLOAT */
    char **s;          /* [R] for HS_COL_STR */
} hs_reader_col;

/* Every column of the run table that is a config key (a schema key of this build; bookkeeping
 * such as status or wall time is not), in the file's name order. Serial or collective reads
 * alike (each caller reads the whole columns). */
hs_code hs_reader_columns(const hs_results_reader *rd, hs_reader_col **cols, size_t *n, hs_error *err);
void hs_reader_columns_free(hs_reader_col *cols, size_t n, size_t R);

/* A string attribute of the root (spec_sha256, plan_digest, ...) into out; HS_ERR_VALUE when absent. */
hs_code hs_reader_attr(const hs_results_reader *rd, const char *name, hs_str *out, hs_error *err);

/* A stage's search result as stored (store.h: hs_results_write_search); arrays [n], seeds_* [n x n_seeds]. */
typedef struct hs_search_table {
    char *key, *metric;
    double target;
    size_t n, n_seeds;
    char **group;
    int *status, *rounds;
    long long *points;
    double *crossing, *lo, *hi, *err_lo, *err_hi, *seeds_lo, *seeds_hi;
} hs_search_table;

/* /search/<stage> into *out (hs_search_table_free it); HS_ERR_VALUE (err untouched) when the
 * file holds no result of that stage. */
hs_code hs_reader_search(const hs_results_reader *rd, const char *stage, hs_search_table *out, hs_error *err);
void hs_search_table_free(hs_search_table *t);
/* The stages with a search result in the file (/search/<stage>), in name order, into *names[*n]
 * (free each and the array); *n = 0 when there is none. Serial or collective reads alike. */
hs_code hs_reader_search_stages(const hs_results_reader *rd, char ***names, size_t *n, hs_error *err);

/* ================================================================ writing an analysis back */

typedef struct hs_analysis_out hs_analysis_out;

/* Serial (one process; no reader may be open on the file): open path for writing and start a new
 * /analysis/<name>. It is built aside (under /.pending) and replaces what an earlier analysis of
 * that name stored only at a successful close, so a failed or killed analysis leaves the earlier
 * one whole. */
hs_code hs_analysis_out_open(const char *path, const char *name, hs_analysis_out **out, hs_error *err);
/* Report the first failed write (or fail_code when non-zero and no write failed), put the new
 * analysis in place when nothing failed (else drop it, the earlier one kept), close, free. */
hs_code hs_analysis_out_close(hs_analysis_out *g, hs_code fail_code, hs_error *err);

/* Serial (rank 0 of an analysis; it may hold an hs_analysis_out of the same file open): store a
 * table in the file as /tables/<kind>/csv and /tables/<kind>/md, variable-length UTF-8 string
 * scalars holding the text of <prefix>.<kind>.csv and .md, replacing an earlier /tables/<kind>
 * whole once the new one is written (as above: a failure keeps the earlier one). md NULL or ""
 * writes no md dataset; csv NULL stores "". kind is one path component ("equisep",
 * "srhm-exponent"), else HS_ERR_VALUE; a failed write is HS_ERR_IO naming the path. */
hs_code hs_analysis_out_table(const char *path, const char *kind, const char *csv, const char *md, hs_error *err);

/* Datasets and attributes relative to /analysis/<name>; "part/x" is allowed once hs_aout_group
 * made "part". Each returns HS_OK or HS_ERR_IO (remembered for close). */
hs_code hs_aout_group(hs_analysis_out *g, const char *name);
hs_code hs_aout_f64(hs_analysis_out *g, const char *name, int nd, const size_t *dims, const double *v);
hs_code hs_aout_i32(hs_analysis_out *g, const char *name, int nd, const size_t *dims, const int *v);
hs_code hs_aout_i8(hs_analysis_out *g, const char *name, size_t n, const signed char *v);
/* Fixed-length UTF-8 strings as wide as the longest (at least 1 byte); NULL entries are "". */
hs_code hs_aout_strs(hs_analysis_out *g, const char *name, size_t n, const char *const *v);
/* A scalar float64 attribute of the group "" (the analysis' own) or of a made part. */
hs_code hs_aout_attr(hs_analysis_out *g, const char *group, const char *name, double x);

#endif /* HSWEEP_READER_H */
