/* internal.h - what the files of the results file's writer share: the hs_results struct, the
 * storage constants and the store_* helpers. Not installed: nothing outside src/store includes it
 * (readers of the file go through store's public headers).
 */
#ifndef HSWEEP_STORE_INTERNAL_H
#define HSWEEP_STORE_INTERNAL_H

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "hsweep/lock.h"
#include "hsweep/store.h"
#include "hsweep/util.h"
#include "paths.h"

#define CHUNK_RUNS 64
#define CHUNK_BYTES (1u << 20) /* series chunks are cut to at most this (HDF5 caps a chunk at 4 GiB) */
#define MAX_RANK (2 + HS_STORE_MAX_DIMS) /* /series/<name>/values: runs, points, dims */

/* A series as the file holds it. */
typedef struct series_info {
    char *name, *axes;
    int ndim;
    size_t dims[HS_STORE_MAX_DIMS];
    size_t n_points;
} series_info;

struct hs_results {
    hid_t file;
    char *path;
    size_t n_runs, n_records, n_metrics, max_layers, n_layer_metrics, n_series;
    char **metrics, **layer_metrics;
    series_info *series;
    char (*ids)[HS_ID_LEN];
    unsigned char *states;
    int *attempts;        /* [n_runs] attempts started so far (mark_running counts one) */
    char *configs;        /* [n_configs x config_w] canonical configs of the rows read at open */
    size_t config_w, n_configs;
    int schema_version;   /* of the file; -1 when absent */
    /* the datasets a live record point writes, opened at its first write and kept open (reopening
     * nine datasets by name was most of a point's cost); closed before grow and close */
    hid_t *live_ds;       /* [n_metrics + 2]: the records, then /runs/epochs_done and steps */
    size_t n_live_ds;
    hid_t state_type;
    char *attr_text[6];
};

/* What the operating system said under the last failed HDF5 call ("No space left on device"),
 * from HDF5's error stack: the innermost entry that carries an errno text or an MPI error
 * string. Users need the cause (a full disk, a quota, a dead file server), not "cannot write". */
typedef struct store_cause {
    char text[160];
} store_cause;

/* h5.c */
/* Bytes free for this user on the file system that holds path (INFINITY when unknown). */
double store_free_bytes(const char *path);
/* Room for a serial write-back of about bytes into the existing file path (an analysis, a table,
 * a search's result): store_room_for those bytes and STORE_ROOM_MARGIN for HDF5's own
 * bookkeeping, else HS_ERR_IO saying what is needed and why it is not there, the file untouched.
 * HDF5 1.10 cannot close a file whose last flush meets a full disk: the id stays open, and closing
 * it again, as the library does at exit, crashes the process. So such a write must not start
 * short of room. */
#define STORE_ROOM_MARGIN (1024.0 * 1024.0)
hs_code store_check_room(const char *path, double bytes, const char *what, hs_error *err);

/* Test hook: with HSWEEP_TEST_KILL_WRITE=N the process dies by SIGKILL at the N-th step of writing
 * an analysis into a results file (opening it, each group, dataset, attribute and table, the
 * close that flushes them; counted from 1 in that order), the way an OOM kill or a node failure
 * ends it (tests/cli/test_analyze.sh). */
void store_test_kill_write(void);
/* The cause of the last HDF5 failure on this thread (the noted write cause first), or "". Reading
 * it forgets the noted one. When neither HDF5 nor errno said why (MPI-IO drivers report little,
 * and errno does not survive HDF5's unwinding everywhere), a full file system under path is
 * named as the likely cause: it is by far the commonest. */
const char *store_h5_cause(store_cause *c, const char *path);
/* The first rank's cause that is not empty, on every rank: a write can fail on one rank only
 * (its share of a fill), and the rank that prints the error must be able to say why. */
void store_share_cause(MPI_Comm comm, store_cause *c);
/* Every rank's rc agrees: -1 on all ranks when any failed. Called after each collective HDF5
 * step of create and grow, so that a step that fails on one rank (a full disk seen by one
 * writer) stops every rank before the next collective step, instead of leaving the others
 * waiting in it for ever. */
int store_agree(MPI_Comm comm, int rc);
hid_t store_str_type(size_t len);
/* Attributes are variable-length UTF-8 strings: h5py reads them as str, not bytes. */
int store_attr_string(hid_t obj, const char *name, const char *value);
/* Create the file of one run or one run's data at path (truncating an earlier one) with the
 * string attributes given; *file open on HS_OK. A sweep's results file at path (a /runs group, or
 * a writer's lock beside it) is refused: those are never overwritten but by `run --overwrite`. */
hs_code store_create_single(const char *path, const hs_store_attr *attrs, size_t n_attrs, hid_t *file,
                            hs_error *err);
int store_attr_int(hid_t obj, const char *name, long long value);
/* A string attribute's text (malloc'd), or NULL when absent or not a string. */
char *store_attr_read_string(hid_t obj, const char *name);
/* Write the block [start, start + count) of an open dataset from buf (memory type mtype). */
int store_write_block(hid_t ds, hid_t mtype, int rank, const hsize_t *start, const hsize_t *count, const void *buf);
/* Write `count` elements of a 1-D dataset starting at `start` from buf (memory type mtype). */
int store_write_1d(hid_t loc, const char *name, hid_t mtype, hsize_t start, hsize_t count, const void *buf);
/* Write run i's row (all trailing dims) of a dataset from buf. */
int store_write_row(hid_t loc, const char *name, hid_t mtype, size_t i, const void *buf);
hid_t store_file_access(MPI_Comm comm);

/* The file access of every read-only open (the reader, `status`, the checks before a create): MPI-IO
 * on comm when it has several ranks, and without HDF5's file lock where the library can drop it
 * (HDF5 >= 1.10.7 / 1.12.1). A reader's shared lock would make a writer's serial open fail (a
 * search stage storing its result, `hsweep analyze` writing back) for as long as it reads; a
 * reader never writes, so it needs no lock. -1 when out of resources. */
hid_t store_read_access(MPI_Comm comm);

/* Why path cannot be opened as a results file, known without opening it: missing (or never
 * made: a creator killed before it named the file), a directory, a FIFO (whose open would wait
 * for a writer), a device, or empty. Non-zero with the reason in
 * why ("PATH: ..."), 0 when it is a non-empty regular file worth handing to HDF5. */
int store_path_unopenable(const char *path, char *why, size_t n);
/* After HDF5 failed to open the regular file path, before any other HDF5 call (it reads HDF5's
 * error stack): not HDF5 at all (no signature where HDF5 puts it), or HDF5 cut short or damaged
 * (a copy that stopped, a full disk). The reason in why. */
void store_open_failure(const char *path, char *why, size_t n);
/* What to do about a why of the two above. */
const char *store_unopenable_hint(const char *why);

/* Replacing a group (an analysis, a table, a search's result) so that a process killed at any
 * moment before the file's close leaves the old one whole: store_pending_group makes a new, empty
 * group under /.pending (no reader looks there) with a name of its own (path: where it is, n >=
 * 64 bytes), the caller fills it, and store_commit_group deletes parent/name and moves the new
 * group there (the parent made when missing; a rewrite replaces, never merges), then drops what
 * killed writers left in /.pending (names of other processes; this one may hold another pending
 * group, as an analysis writes its tables before closing); store_drop_pending(f, pending) does
 * the same and drops pending itself after a failure, the old group untouched. Deleting the old
 * group first is what not to do: HDF5 hands the freed space at once to the new raw data it writes
 * straight to disk, while the metadata on disk (written at the close) still points the old group
 * there. Group ids -1, the others 0 / -1 on failure. */
hid_t store_pending_group(hid_t f, char *path, size_t n);
int store_commit_group(hid_t f, const char *pending, const char *parent, const char *name);
void store_drop_pending(hid_t f, const char *pending);
/* Names of the datasets in a group (sorted by HDF5's name order). */
char **store_list_names(hid_t group, size_t *n);
int store_dims_of(hid_t loc, const char *name, hsize_t *dims, int want_rank);
/* The first n elements of a 1-D dataset (-1 when it holds fewer). The run table's datasets can
 * differ in length in a file whose grow was cut short (a full disk): rows count by /runs/id. */
int store_read_1d(hid_t loc, const char *name, hid_t mtype, size_t n, void *buf);
int store_replace_attr(hid_t obj, const char *name, const char *value);

/* results_ds.c */
/* Independent, this rank's share: the fill value over every cell of ds beyond old[] (zeros for
 * a new dataset), when ds's fill is ours to write. Datasets with a fill value are created with
 * fill time "never" so that HDF5 writes nothing inside its collective create and extend calls: a
 * write that fails there (a full disk) fails on one rank only and leaves the others waiting in
 * HDF5's own barrier for ever. Written here instead, a failure is local and every rank learns it
 * in the store_agree() that follows. The region is cut along the first axis among the ranks. */
int store_fill_fresh(MPI_Comm comm, hid_t ds, const hsize_t *old);
/* The run table's, records' and layers' datasets: chunks of CHUNK_RUNS runs by whole rows. */
hid_t store_create_ds(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims, const void *fill);
/* A series dataset: chunked like create_ds, but halved axis by axis (runs first, then points,
 * then the per-point dims) until a chunk holds at most CHUNK_BYTES, since one point of a
 * snapshot can be megabytes. A run stays the leading axis of every chunk, so a run's part of a
 * chunk is contiguous bytes and two ranks never write the same bytes. */
hid_t store_create_series_ds(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                              const void *fill);
/* Collective: set the extent of dataset loc/name to at least want[0 .. its rank). */
int store_extend_ds(MPI_Comm comm, hid_t loc, const char *name, const hsize_t *want);
/* Collective: set the extent of every dataset in group to at least (R, N, L) (per its rank). */
int store_extend_group(MPI_Comm comm, hid_t file, const char *group, hsize_t R, hsize_t N, hsize_t L);

/* results_table.c */
int store_write_empty(hid_t runs, const char *name, size_t from, size_t n);
size_t store_book_count(void);
const char *store_book_name(size_t c);
/* The file type of bookkeeping column c (H5T_ names are run-time values, hence a function). */
hid_t store_book_type(size_t c, hid_t state_type, hid_t err_type);
/* Width for a fixed-length string column: twice the longest value (room for appended runs). */
size_t store_str_width(const char *const *s, size_t n, size_t floor);
/* Size in bytes of a string dataset's elements, or 0. */
size_t store_ds_str_size(hid_t loc, const char *name);
/* Collective: the dataset of one typed key column, rows = R. */
int store_create_col(hid_t runs, const hs_results_col *col, size_t R, size_t n_values);
/* Rank 0 only (independent I/O): values of key column col for rows [from, to). */
int store_write_col(hid_t runs, const hs_results_col *col, size_t from, size_t to, const char **what);
/* Rank 0 only (independent I/O): id, config and fresh bookkeeping for rows [from, to), all
 * pending. */
int store_write_rows(hs_results *f, hid_t runs, const hs_results_layout *L, size_t from, size_t to,
                      const char **what);
/* Rank 0 only (independent I/O): the ids of rows [from, to), the last cells of a new row. */
int store_write_ids(hid_t runs, const hs_results_layout *L, size_t from, size_t to);
/* Rows of a run table whose id dataset has n cells: the leading cells with an id. The id is the
 * last thing written for a new row, so a row without one was never finished being added. */
size_t store_rows_with_id(const char (*ids)[HS_ID_LEN], size_t n);

/* results_series.c */
/* A layout's series are well-formed: names usable as HDF5 link names and unique, ndim in range.
 * Returns the offending series' name (or NULL) and why. */
const char *store_series_invalid(const hs_results_series *s, size_t n, const char **why);
const series_info *store_series_find(const hs_results *f, const char *name);
/* Append copies of the layout's series that f does not list yet (f's own view; no file I/O). */
int store_series_adopt(hs_results *f, const hs_results_series *s, size_t n);
/* Collective: /series/<name> for R runs, values NaN and point -1 everywhere, and its attributes.
 * The fills are this rank's share (fill_fresh): the caller agrees on the result. */
int store_create_series(MPI_Comm comm, hid_t sg, const hs_results_series *s, size_t R);
/* The series of an opened file: every group under /series with its values' shape and axes.
 * Returns NULL when all is well, else why (the name of the bad series in *bad). */
const char *store_open_series(hs_results *f, const char **bad);
/* How series s of a layout relates to the file: 0 = fits, 1 = needs room (absent, more points or
 * larger dims), -1 = incompatible (another ndim or axes), with why. */
int store_series_fit(const hs_results *f, const hs_results_series *s, const char **why);

/* results.c */
hid_t store_state_type(void);
/* Collective: can `bytes` more be written beside path? Rank 0 reserves them for real in a
 * scratch file (fallocate, which quotas count, where statvfs does not see them) and frees them
 * at once; where fallocate is not supported, the file system's free space decides. 0, or -1
 * with the numbers in why. HSWEEP_NO_SPACE_CHECK=1 skips it (the writes then meet a full disk
 * themselves). Nothing is written into the results file before this says yes, so a sweep that
 * cannot fit is refused with the file as it was. */
int store_room_for(MPI_Comm comm, const char *path, double bytes, char *why, size_t n);

/* results_grow.c */

/* results_write.c */
/* Close the kept handles of live writes (before anything collective touches the datasets). */
void store_live_close(hs_results *f);

/* Fail with code HS_ERR_IO and message fmt, followed by ": <cause>" when the cause (see
 * store_h5_cause) is not empty: the one way an I/O failure of store/ reaches hs_error. */
#define STORE_FAIL_CAUSE(err, cause, fmt, ...)                                                    \
    store_fail_cause((err), __FILE__, __LINE__, (cause), fmt, __VA_ARGS__)
hs_code store_fail_cause(hs_error *err, const char *file, int line, const char *cause, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The same with the cause of the last HDF5 failure under path (store_h5_cause). */
#define STORE_FAIL_IO(err, path, fmt, ...)                                                        \
    store_fail_cause((err), __FILE__, __LINE__, store_h5_cause(&(store_cause){{0}}, (path)), fmt, __VA_ARGS__)

#endif /* HSWEEP_STORE_INTERNAL_H */
