/* results.c - the sweep's results file (layout in include/hsweep/store.h).
 *
 * Parallel-HDF5 rules this file lives by: every call that touches metadata (create/open/close
 * of the file, creation of datasets, groups and attributes, extent changes) is made by every rank
 * with the same arguments, and only in create/open/close. Between those, ranks write raw data of
 * their own runs with independent transfers. Datasets are chunked along the run axis (so a resume
 * can append runs) without filters; parallel HDF5 allocates their space at creation, so later
 * writes change no metadata. A run's rows are contiguous bytes in the file, so two ranks never
 * write the same bytes even when their rows share a chunk. */
#define _GNU_SOURCE /* fallocate(2): reserving space without writing it */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <time.h>

#include "hsweep/lock.h"
#include "hsweep/store.h"
#include "paths.h"
#include "hsweep/util.h"

#define CHUNK_RUNS 64
#define CHUNK_BYTES (1u << 20) /* series chunks are cut to at most this (HDF5 caps a chunk at 4 GiB) */
#define MAX_RANK (2 + HS_STORE_MAX_DIMS) /* /series/<name>/values: runs, points, dims */

static const char *const state_names[HS_STATE_COUNT] = {"pending", "running", "done", "failed", "diverged"};

const char *hs_run_state_to_string(hs_run_state s) { return (unsigned)s < HS_STATE_COUNT ? state_names[s] : "?"; }

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

static const char *const attr_names[6] = {HS_ATTR_FORMAT, HS_ATTR_HSWEEP_VERSION, HS_ATTR_SPEC, HS_ATTR_SPEC_PATH, HS_ATTR_SPEC_SHA256,
                                          HS_ATTR_PLAN_DIGEST};

/* ================================================================ small HDF5 helpers */

/* What the operating system said under the last failed HDF5 call ("No space left on device"),
 * from HDF5's error stack: the innermost entry that carries an errno text or an MPI error
 * string. Users need the cause (a full disk, a quota, a dead file server), not "cannot write". */
typedef struct cause_buf {
    char text[160];
} cause_buf;

static herr_t cause_walk(unsigned n, const H5E_error2_t *e, void *data) {
    cause_buf *c = data;
    if (!e->desc || c->text[0]) return 0;
    const char *m = strstr(e->desc, "error message = '");
    if (m) {
        m += strlen("error message = '");
        const char *q = strchr(m, '\'');
        snprintf(c->text, sizeof c->text, "%.*s", q ? (int)(q - m) : 120, m);
    } else if ((m = strstr(e->desc, "MPI Error String"))) {
        m = strchr(m, ':');
        snprintf(c->text, sizeof c->text, "%.120s", m ? m + 1 + (m[1] == ' ') : e->desc);
    } else if (n == 0 && strstr(e->desc, "errno")) {
        snprintf(c->text, sizeof c->text, "%.120s", e->desc);
    }
    return 0;
}

/* Bytes free for this user on the file system that holds path (INFINITY when unknown). */
static double free_bytes(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    struct statvfs sv;
    return statvfs(dir, &sv) == 0 ? (double)sv.f_bavail * (double)sv.f_frsize : INFINITY;
}

/* The cause of the first failed raw write since the last h5_cause: HDF5 clears its error stack
 * at the next API call (a close), so the writers note it at once. */
static cause_buf g_write_cause;

static void note_cause(void) {
    int e = errno; /* MPI-IO drivers report the system's reason only through errno */
    if (g_write_cause.text[0]) return;
    if (getenv("HSWEEP_TRACE")) H5Eprint2(H5E_DEFAULT, stderr); /* the whole stack, for a bug report */
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, cause_walk, &g_write_cause);
    if (!g_write_cause.text[0] && (e == ENOSPC || e == EDQUOT || e == EIO || e == EROFS || e == EFBIG || e == ESTALE))
        snprintf(g_write_cause.text, sizeof g_write_cause.text, "%s", strerror(e));
    if (!g_write_cause.text[0]) snprintf(g_write_cause.text, sizeof g_write_cause.text, "a write failed");
}

/* The cause of the last HDF5 failure on this thread (the noted write cause first), or "". Reading
 * it forgets the noted one. When neither HDF5 nor errno said why (MPI-IO drivers report little,
 * and errno does not survive HDF5's unwinding everywhere), a full file system under path is
 * named as the likely cause: it is by far the commonest. */
static const char *h5_cause(cause_buf *c, const char *path) {
    c->text[0] = '\0';
    if (g_write_cause.text[0]) {
        *c = g_write_cause;
        g_write_cause.text[0] = '\0';
    } else {
        if (getenv("HSWEEP_TRACE")) H5Eprint2(H5E_DEFAULT, stderr);
        H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, cause_walk, c);
    }
    if ((!c->text[0] || !strcmp(c->text, "a write failed")) && path) {
        double avail = free_bytes(path);
        if (avail < 1e6)
            snprintf(c->text, sizeof c->text, "%s (%.0f kB left on its file system)", strerror(ENOSPC), avail / 1e3);
    }
    return c->text;
}

/* The first rank's cause that is not empty, on every rank: a write can fail on one rank only
 * (its share of a fill), and the rank that prints the error must be able to say why. */
static void share_cause(MPI_Comm comm, cause_buf *c) {
    int me = 0, np = 1, who = 0;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &np);
    int mine = c->text[0] ? me : np;
    MPI_Allreduce(&mine, &who, 1, MPI_INT, MPI_MIN, comm);
    if (who < np) MPI_Bcast(c->text, sizeof c->text, MPI_CHAR, who, comm);
}

/* Every rank's rc agrees: -1 on all ranks when any failed. Called after each collective HDF5
 * step of create and grow, so that a step that fails on one rank (a full disk seen by one
 * writer) stops every rank before the next collective step, instead of leaving the others
 * waiting in it for ever. */
static int agree(MPI_Comm comm, int rc) {
    int all = 0;
    MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm);
    return all < 0 ? -1 : 0;
}

static hid_t str_type(size_t len) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, len) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
                   H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static hid_t make_state_type(void) {
    hid_t t = H5Tenum_create(H5T_NATIVE_UCHAR);
    for (unsigned char v = 0; t >= 0 && v < HS_STATE_COUNT; v++)
        if (H5Tenum_insert(t, state_names[v], &v) < 0) {
            H5Tclose(t);
            return -1;
        }
    return t;
}

/* Attributes are variable-length UTF-8 strings: h5py reads them as str, not bytes. */
static int attr_string(hid_t obj, const char *name, const char *value) {
    hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR);
    int ok = t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0;
    hid_t a = ok && s >= 0 ? H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT) : -1;
    ok = a >= 0 && H5Awrite(a, t, &value) >= 0;
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    return ok ? 0 : -1;
}

static int attr_int(hid_t obj, const char *name, long long value) {
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = s >= 0 ? H5Acreate2(obj, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int ok = a >= 0 && H5Awrite(a, H5T_NATIVE_LLONG, &value) >= 0;
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    return ok ? 0 : -1;
}

/* A string attribute's text (malloc'd), or NULL when absent or not a string. */
static char *attr_read_string(hid_t obj, const char *name) {
    if (H5Aexists(obj, name) <= 0) return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : -1;
    char *out = NULL;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING) {
        hid_t mt = H5Tcopy(ft); /* same character set: HDF5 does not convert ASCII <-> UTF-8 */
        if (H5Tis_variable_str(ft) > 0) {
            char *v = NULL;
            if (mt >= 0 && H5Aread(a, mt, &v) >= 0 && v) {
                out = strdup(v);
                hid_t sp = H5Aget_space(a);
                H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, &v);
                H5Sclose(sp);
            }
        } else {
            size_t n = H5Tget_size(ft);
            out = calloc(n + 2, 1);
            if (!out || mt < 0 || H5Tset_size(mt, n + 1) < 0 || H5Aread(a, mt, out) < 0) free(out), out = NULL;
        }
        if (mt >= 0) H5Tclose(mt);
    }
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    return out;
}

/* Create a dataset of `rank` dims [n_runs, ...] with the given chunk shape, unlimited along
 * every axis (so grow can extend runs, points and a series' dims). */
static hid_t create_ds_chunked(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                               const hsize_t *chunk, const void *fill) {
    hsize_t maxdims[MAX_RANK];
    for (int d = 0; d < rank; d++) maxdims[d] = H5S_UNLIMITED;
    hid_t space = H5Screate_simple(rank, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = -1;
    if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, rank, chunk) >= 0 &&
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) >= 0 &&
        (!fill || (H5Pset_fill_value(dcpl, type, fill) >= 0 && H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0)))
        ds = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return ds;
}

static int write_block(hid_t ds, hid_t mtype, int rank, const hsize_t *start, const hsize_t *count, const void *buf);

/* Independent: write buf (buf_elems copies of the fill value, memory type mt) over the box
 * [start, start + count) of ds, in pieces of at most buf_elems cells: along `axis` when what
 * lies beyond it fits, else one index of `axis` at a time, recursing. */
static int fill_box(hid_t ds, hid_t mt, int rank, hsize_t *start, hsize_t *count, int axis, const void *buf,
                    size_t buf_elems) {
    for (int d = 0; d < rank; d++)
        if (!count[d]) return 0;
    double beyond = 1;
    for (int d = axis + 1; d < rank; d++) beyond *= (double)count[d];
    hsize_t s0 = start[axis], c0 = count[axis];
    int rc = 0;
    if (beyond > (double)buf_elems && axis + 1 < rank) {
        for (hsize_t j = 0; !rc && j < c0; j++) {
            start[axis] = s0 + j, count[axis] = 1;
            rc = fill_box(ds, mt, rank, start, count, axis + 1, buf, buf_elems);
        }
    } else {
        hsize_t per = (hsize_t)((double)buf_elems / (beyond > 1 ? beyond : 1));
        if (per < 1) per = 1;
        for (hsize_t j = 0; !rc && j < c0; j += per) {
            start[axis] = s0 + j, count[axis] = c0 - j < per ? c0 - j : per;
            rc = write_block(ds, mt, rank, start, count, buf);
        }
    }
    start[axis] = s0, count[axis] = c0;
    return rc;
}

/* Independent, this rank's share: the fill value over every cell of ds beyond old[] (zeros for
 * a new dataset), when ds's fill is ours to write. Datasets with a fill value are created with
 * fill time "never" so that HDF5 writes nothing inside its collective create and extend calls: a
 * write that fails there (a full disk) fails on one rank only and leaves the others waiting in
 * HDF5's own barrier for ever. Written here instead, a failure is local and every rank learns it
 * in the agree() that follows. The region is cut along the first axis among the ranks. */
static int fill_fresh(MPI_Comm comm, hid_t ds, const hsize_t *old) {
    hid_t dcpl = H5Dget_create_plist(ds);
    H5D_fill_time_t ft = H5D_FILL_TIME_ALLOC;
    H5D_fill_value_t fs = H5D_FILL_VALUE_UNDEFINED;
    int ours = dcpl >= 0 && H5Pget_fill_time(dcpl, &ft) >= 0 && ft == H5D_FILL_TIME_NEVER &&
               H5Pfill_value_defined(dcpl, &fs) >= 0 && fs == H5D_FILL_VALUE_USER_DEFINED;
    hid_t ftype = ours ? H5Dget_type(ds) : -1;
    hid_t mt = ftype >= 0 && H5Tget_class(ftype) == H5T_FLOAT ? H5T_NATIVE_DOUBLE : H5T_NATIVE_LLONG;
    unsigned char fv[16] = {0};
    if (ours && H5Pget_fill_value(dcpl, mt, fv) < 0) ours = 0;
    if (ftype >= 0) H5Tclose(ftype);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (!ours) return 0;
    hid_t sp = H5Dget_space(ds);
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t dims[MAX_RANK] = {0};
    if (rank < 1 || rank > MAX_RANK || H5Sget_simple_extent_dims(sp, dims, NULL) < 0) {
        if (sp >= 0) H5Sclose(sp);
        return -1;
    }
    H5Sclose(sp);
    int me = 0, np = 1;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &np);
    size_t elems = CHUNK_BYTES / 8;
    double *buf = malloc(elems * 8);
    if (!buf) return -1;
    for (size_t k = 0; k < elems; k++) memcpy(buf + k, fv, 8);
    int rc = 0;
    /* dims minus old, as disjoint boxes: axis k new, axes before it old, axes after it whole */
    for (int k = 0; !rc && k < rank; k++) {
        hsize_t start[MAX_RANK], count[MAX_RANK];
        for (int d = 0; d < rank; d++) {
            hsize_t o = old[d] < dims[d] ? old[d] : dims[d];
            start[d] = d == k ? o : 0;
            count[d] = d < k ? o : d == k ? dims[d] - o : dims[d];
        }
        /* this rank's rows of the box's first axis */
        hsize_t lo = start[0] + count[0] * (hsize_t)me / (hsize_t)np;
        hsize_t hi = start[0] + count[0] * (hsize_t)(me + 1) / (hsize_t)np;
        start[0] = lo, count[0] = hi - lo;
        rc = fill_box(ds, mt, rank, start, count, 0, buf, elems);
    }
    free(buf);
    return rc;
}

/* The run table's, records' and layers' datasets: chunks of CHUNK_RUNS runs by whole rows. */
static hid_t create_ds(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims, const void *fill) {
    hsize_t chunk[3];
    for (int d = 0; d < rank; d++) chunk[d] = dims[d] ? dims[d] : 1;
    chunk[0] = dims[0] < CHUNK_RUNS ? (dims[0] ? dims[0] : 1) : CHUNK_RUNS;
    return create_ds_chunked(loc, name, type, rank, dims, chunk, fill);
}

/* A series dataset: chunked like create_ds, but halved axis by axis (runs first, then points,
 * then the per-point dims) until a chunk holds at most CHUNK_BYTES, since one point of a
 * snapshot can be megabytes. A run stays the leading axis of every chunk, so a run's part of a
 * chunk is contiguous bytes and two ranks never write the same bytes. */
static hid_t create_series_ds(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                              const void *fill) {
    hsize_t chunk[MAX_RANK];
    double bytes = (double)H5Tget_size(type);
    for (int d = 0; d < rank; d++) chunk[d] = dims[d] ? dims[d] : 1;
    if (chunk[0] > CHUNK_RUNS) chunk[0] = CHUNK_RUNS;
    for (int d = 0; d < rank; d++) bytes *= (double)chunk[d];
    for (int d = 0; d < rank; d++)
        while (bytes > CHUNK_BYTES && chunk[d] > 1) {
            bytes /= (double)chunk[d];
            chunk[d] = (chunk[d] + 1) / 2;
            bytes *= (double)chunk[d];
        }
    return create_ds_chunked(loc, name, type, rank, dims, chunk, fill);
}

/* Write the block [start, start + count) of an open dataset from buf (memory type mtype). */
static int write_block(hid_t ds, hid_t mtype, int rank, const hsize_t *start, const hsize_t *count, const void *buf) {
    hid_t fs = H5Dget_space(ds);
    hid_t ms = H5Screate_simple(rank, count, NULL);
    int ok = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             H5Dwrite(ds, mtype, ms, fs, H5P_DEFAULT, buf) >= 0;
    if (!ok) note_cause();
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    return ok ? 0 : -1;
}

/* Write `count` elements of a 1-D dataset starting at `start` from buf (memory type mtype). */
static int write_1d(hid_t loc, const char *name, hid_t mtype, hsize_t start, hsize_t count, const void *buf) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t fs = H5Dget_space(ds);
    hid_t ms = H5Screate_simple(1, &count, NULL);
    int ok = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
             H5Dwrite(ds, mtype, ms, fs, H5P_DEFAULT, buf) >= 0;
    if (!ok) note_cause();
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    H5Dclose(ds);
    return ok ? 0 : -1;
}

/* Write run i's row (all trailing dims) of a dataset from buf. */
static int write_row(hid_t loc, const char *name, hid_t mtype, size_t i, const void *buf) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t fs = H5Dget_space(ds);
    int rank = fs >= 0 ? H5Sget_simple_extent_ndims(fs) : -1;
    hsize_t dims[3] = {0}, start[3] = {0}, count[3] = {0};
    int ok = rank >= 1 && rank <= 3 && H5Sget_simple_extent_dims(fs, dims, NULL) >= 0;
    hid_t ms = -1;
    if (ok) {
        start[0] = i, count[0] = 1;
        for (int d = 1; d < rank; d++) count[d] = dims[d];
        ms = H5Screate_simple(rank, count, NULL);
        ok = ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             H5Dwrite(ds, mtype, ms, fs, H5P_DEFAULT, buf) >= 0;
    }
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    H5Dclose(ds);
    return ok ? 0 : -1;
}

static hid_t file_access(MPI_Comm comm) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    if (H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    /* Cluster file systems without locks (NFS, some Lustre mounts) make HDF5's file locking fail;
     * HDF5_USE_FILE_LOCKING=FALSE in the environment turns it off (HDF5 reads the variable). */
    /* Metadata reads stay independent (the default): a rank opens datasets on its own to write
     * its rows, which collective metadata reads would turn into a hang. */
    H5Pset_coll_metadata_write(fapl, 1);
    return fapl;
}

static void results_free(hs_results *f) {
    if (!f) return;
    for (size_t m = 0; m < f->n_metrics && f->metrics; m++) free(f->metrics[m]);
    for (size_t m = 0; m < f->n_layer_metrics && f->layer_metrics; m++) free(f->layer_metrics[m]);
    for (int a = 0; a < 6; a++) free(f->attr_text[a]);
    for (size_t k = 0; k < f->n_series && f->series; k++) free(f->series[k].name), free(f->series[k].axes);
    free(f->series);
    free(f->metrics);
    free(f->layer_metrics);
    free(f->ids);
    free(f->states);
    free(f->attempts);
    free(f->configs);
    free(f->path);
    if (f->state_type >= 0) H5Tclose(f->state_type);
    free(f);
}

static hs_results *results_new(const char *path) {
    hs_results *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->file = -1;
    f->state_type = make_state_type();
    f->path = strdup(path);
    if (!f->path || f->state_type < 0) {
        results_free(f);
        return NULL;
    }
    return f;
}

static char **copy_names(const char *const *names, size_t n) {
    char **out = calloc(n ? n : 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = strdup(names[i]))) {
            for (size_t j = 0; j < i; j++) free(out[j]);
            free(out);
            return NULL;
        }
    return out;
}

/* ================================================================ the run table */

/* Bookkeeping columns of /runs besides id, config and the typed key columns. */
enum { BOOK_STATE, BOOK_I32, BOOK_F64, BOOK_I64, BOOK_ERR };
static const struct {
    const char *name;
    int type;
} book[] = {{HS_RUNS_STATUS, BOOK_STATE}, {HS_RUNS_RANK, BOOK_I32},        {HS_RUNS_ATTEMPTS, BOOK_I32},
            {HS_RUNS_START, BOOK_F64},    {HS_RUNS_END, BOOK_F64},         {HS_RUNS_WALL, BOOK_F64},
            {HS_RUNS_EPOCHS_DONE, BOOK_I64}, {HS_RUNS_STEPS, BOOK_I64},    {HS_RUNS_ERROR, BOOK_ERR},
            {HS_RUNS_STEPS_TOTAL, BOOK_I64}, {HS_RUNS_IN_PLAN, BOOK_I32}};

/* The file type of bookkeeping column c (H5T_ names are run-time values, hence a function). */
static hid_t book_type(size_t c, hid_t state_type, hid_t err_type) {
    switch (book[c].type) {
    case BOOK_STATE: return state_type;
    case BOOK_I32: return H5T_STD_I32LE;
    case BOOK_F64: return H5T_IEEE_F64LE;
    case BOOK_I64: return H5T_STD_I64LE;
    default: return err_type;
    }
}

/* Width for a fixed-length string column: twice the longest value (room for appended runs). */
static size_t str_width(const char *const *s, size_t n, size_t floor) {
    size_t w = 1;
    for (size_t r = 0; r < n; r++) {
        size_t k = strlen(s[r]) + 1;
        if (k > w) w = k;
    }
    w = 2 * w;
    return w > floor ? w : floor;
}

/* Size in bytes of a string dataset's elements, or 0. */
static size_t ds_str_size(hid_t loc, const char *name) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return 0;
    hid_t t = H5Dget_type(ds);
    size_t n = t >= 0 && H5Tget_class(t) == H5T_STRING ? H5Tget_size(t) : 0;
    if (t >= 0) H5Tclose(t);
    H5Dclose(ds);
    return n;
}

/* Collective: the dataset of one typed key column, rows = R. */
static int create_col(hid_t runs, const hs_results_col *col, size_t R, size_t n_values) {
    hsize_t d1[1] = {R};
    hid_t t = col->type == HS_COL_INT ? H5T_STD_I64LE : col->type == HS_COL_FLOAT ? H5T_IEEE_F64LE : -1, ts = -1;
    if (col->type == HS_COL_STR) t = ts = str_type(str_width(col->s, n_values, HS_KEY_STR_MIN_WIDTH));
    hid_t ds = t >= 0 ? create_ds(runs, col->name, t, 1, d1, NULL) : -1;
    if (ds >= 0) H5Dclose(ds);
    if (ts >= 0) H5Tclose(ts);
    return ds >= 0 ? 0 : -1;
}

/* Pack strings s[from..to) into fixed-width cells; -1 when one does not fit. */
static char *pack(const char *const *s, size_t from, size_t to, size_t width) {
    char *buf = calloc(to - from + 1, width);
    for (size_t r = from; buf && r < to; r++) {
        size_t n = strlen(s[r]);
        if (n >= width) {
            free(buf);
            return NULL;
        }
        memcpy(buf + (r - from) * width, s[r], n);
    }
    return buf;
}

/* Rank 0 only (independent I/O): values of key column col for rows [from, to). */
static int write_col(hid_t runs, const hs_results_col *col, size_t from, size_t to, const char **what) {
    *what = col->name;
    if (col->type == HS_COL_INT) return write_1d(runs, col->name, H5T_NATIVE_LLONG, from, to - from, col->i + from);
    if (col->type == HS_COL_FLOAT) return write_1d(runs, col->name, H5T_NATIVE_DOUBLE, from, to - from, col->f + from);
    size_t w = ds_str_size(runs, col->name);
    char *buf = w ? pack(col->s, from, to, w) : NULL;
    hid_t t = str_type(w ? w : 1);
    int rc = buf && t >= 0 ? write_1d(runs, col->name, t, from, to - from, buf) : -1;
    if (!buf) *what = "a key column (a value longer than the column allows: write to a new file)";
    free(buf);
    if (t >= 0) H5Tclose(t);
    return rc;
}

/* Rank 0 only (independent I/O): id, config and fresh bookkeeping for rows [from, to), all
 * pending. */
static int write_rows(hs_results *f, hid_t runs, const hs_results_layout *L, size_t from, size_t to,
                      const char **what) {
    size_t n = to - from, wc = ds_str_size(runs, HS_RUNS_CONFIG);
    double *dv = malloc(n * sizeof *dv);
    int *iv = malloc(n * sizeof *iv), *zv = calloc(n, sizeof *zv);
    long long *lv = calloc(n, sizeof *lv);
    unsigned char *sv = calloc(n, 1); /* HS_STATE_PENDING == 0 */
    char *ev = calloc(n, HS_ERROR_LEN);
    char *cfg = wc ? pack(L->configs, from, to, wc) : NULL;
    hid_t t_cfg = str_type(wc ? wc : 1), t_err = str_type(HS_ERROR_LEN);
    int rc = !dv || !iv || !zv || !lv || !sv || !ev || t_cfg < 0 || t_err < 0 ? -1 : 0;
    if (!cfg) rc = -1, *what = HS_PATH_RUNS_CONFIG " (a config longer than the column allows: write to a new file)";
    for (size_t r = 0; !rc && r < n; r++) dv[r] = NAN, iv[r] = -1;
    if (!rc) rc = write_1d(runs, HS_RUNS_CONFIG, t_cfg, from, n, cfg);
    if (!rc) rc = write_1d(runs, HS_RUNS_RANK, H5T_NATIVE_INT, from, n, iv);
    if (!rc) rc = write_1d(runs, HS_RUNS_ATTEMPTS, H5T_NATIVE_INT, from, n, zv);
    if (!rc) rc = write_1d(runs, HS_RUNS_START, H5T_NATIVE_DOUBLE, from, n, dv);
    if (!rc) rc = write_1d(runs, HS_RUNS_END, H5T_NATIVE_DOUBLE, from, n, dv);
    if (!rc) rc = write_1d(runs, HS_RUNS_WALL, H5T_NATIVE_DOUBLE, from, n, dv);
    if (!rc) rc = write_1d(runs, HS_RUNS_EPOCHS_DONE, H5T_NATIVE_LLONG, from, n, lv);
    if (!rc) rc = write_1d(runs, HS_RUNS_STEPS, H5T_NATIVE_LLONG, from, n, lv);
    if (!rc) rc = write_1d(runs, HS_RUNS_ERROR, t_err, from, n, ev);
    for (size_t r = 0; !rc && r < n; r++) lv[r] = L->steps_total ? L->steps_total[from + r] : -1, iv[r] = 1;
    /* columns a file from an earlier hsweep may lack (in_plan is added by hs_results_mark_plan) */
    if (!rc && H5Lexists(runs, HS_RUNS_STEPS_TOTAL, H5P_DEFAULT) > 0)
        rc = write_1d(runs, HS_RUNS_STEPS_TOTAL, H5T_NATIVE_LLONG, from, n, lv);
    if (!rc && H5Lexists(runs, HS_RUNS_IN_PLAN, H5P_DEFAULT) > 0) rc = write_1d(runs, HS_RUNS_IN_PLAN, H5T_NATIVE_INT, from, n, iv);
    if (!rc) rc = write_1d(runs, HS_RUNS_STATUS, f->state_type, from, n, sv);
    /* the ids last, after the key columns too (write_ids): a row counts once its id is there */
    free(dv), free(iv), free(zv), free(lv), free(sv), free(ev), free(cfg);
    if (t_cfg >= 0) H5Tclose(t_cfg);
    if (t_err >= 0) H5Tclose(t_err);
    return rc;
}

/* Rank 0 only (independent I/O): the ids of rows [from, to), the last cells of a new row. */
static int write_ids(hid_t runs, const hs_results_layout *L, size_t from, size_t to) {
    char *ids = pack(L->ids, from, to, HS_ID_LEN);
    hid_t t_id = str_type(HS_ID_LEN);
    int rc = ids && t_id >= 0 ? write_1d(runs, HS_RUNS_ID, t_id, from, to - from, ids) : -1;
    free(ids);
    if (t_id >= 0) H5Tclose(t_id);
    return rc;
}

/* ================================================================ series */

/* A layout's series are well-formed: names usable as HDF5 link names and unique, ndim in range.
 * Returns the offending series' name (or NULL) and why. */
static const char *series_invalid(const hs_results_series *s, size_t n, const char **why) {
    for (size_t k = 0; k < n; k++) {
        if (!s[k].name || !s[k].name[0] || strchr(s[k].name, '/') || !strcmp(s[k].name, "."))
            return *why = "is not a usable dataset name", s[k].name ? s[k].name : "(null)";
        if (s[k].ndim < 0 || s[k].ndim > HS_STORE_MAX_DIMS) return *why = "has more than 3 axes per point", s[k].name;
        for (size_t j = 0; j < k; j++)
            if (!strcmp(s[j].name, s[k].name)) return *why = "appears twice in the layout", s[k].name;
    }
    return NULL;
}

static const series_info *series_find(const hs_results *f, const char *name) {
    for (size_t k = 0; k < f->n_series; k++)
        if (!strcmp(f->series[k].name, name)) return &f->series[k];
    return NULL;
}

/* Append copies of the layout's series that f does not list yet (f's own view; no file I/O). */
static int series_adopt(hs_results *f, const hs_results_series *s, size_t n) {
    series_info *grown = realloc(f->series, (f->n_series + n + 1) * sizeof *grown);
    if (!grown) return -1;
    f->series = grown;
    for (size_t k = 0; k < n; k++) {
        series_info *have = (series_info *)series_find(f, s[k].name);
        if (!have) {
            have = &f->series[f->n_series];
            memset(have, 0, sizeof *have);
            have->name = strdup(s[k].name), have->axes = strdup(s[k].axes ? s[k].axes : "");
            have->ndim = s[k].ndim;
            f->n_series++;
            if (!have->name || !have->axes) return -1;
        }
        if (s[k].n_points > have->n_points) have->n_points = s[k].n_points;
        for (int d = 0; d < s[k].ndim; d++)
            if (s[k].dims[d] > have->dims[d]) have->dims[d] = s[k].dims[d];
    }
    return 0;
}

/* Collective: /series/<name> for R runs, values NaN and point -1 everywhere, and its attributes.
 * The fills are this rank's share (fill_fresh): the caller agrees on the result. */
static int create_series(MPI_Comm comm, hid_t sg, const hs_results_series *s, size_t R) {
    const hsize_t zeros[MAX_RANK] = {0};
    hsize_t dv[MAX_RANK] = {R, s->n_points}, dp[2] = {R, s->n_points};
    for (int d = 0; d < s->ndim; d++) dv[2 + d] = s->dims[d];
    const double nan = NAN;
    const long long none = -1;
    hid_t g = H5Gcreate2(sg, s->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t v = g >= 0 ? create_series_ds(g, HS_SERIES_VALUES, H5T_IEEE_F64LE, 2 + s->ndim, dv, &nan) : -1;
    hid_t p = v >= 0 ? create_series_ds(g, HS_SERIES_POINT, H5T_STD_I64LE, 2, dp, &none) : -1;
    int rc = p >= 0 && !attr_string(g, HS_SERIES_AXES, s->axes ? s->axes : "") &&
                     (s->every == 0 || !attr_int(g, HS_SERIES_EVERY, (long long)s->every))
                 ? 0
                 : -1;
    if (!rc) rc = fill_fresh(comm, v, zeros) || fill_fresh(comm, p, zeros) ? -1 : 0;
    if (p >= 0) H5Dclose(p);
    if (v >= 0) H5Dclose(v);
    if (g >= 0) H5Gclose(g);
    return rc;
}

/* ================================================================ create */

/* The prologue: every dataset of the layout, collectively, each step agreed on by all ranks
 * before the next one (agree()). Returns 0 or -1 (on every rank alike) with what in `what`. */
static int create_layout(MPI_Comm comm, hs_results *f, const hs_results_layout *L, const char **what) {
    hid_t file = f->file;
    size_t R = L->n_runs;
    hsize_t d1[1] = {R}, d2[2] = {R, L->n_records}, d3[3] = {R, L->n_records, L->max_layers};
    char buf[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    *what = "root attributes";
    int rc = attr_string(file, HS_ATTR_FORMAT, HS_RESULTS_FORMAT) || attr_string(file, HS_ATTR_HSWEEP_VERSION, L->hsweep_version) ||
                     attr_int(file, HS_ATTR_SCHEMA_VERSION, L->schema_version) || attr_string(file, HS_ATTR_SPEC, L->spec_text) ||
                     attr_string(file, HS_ATTR_SPEC_PATH, L->spec_path) || attr_string(file, HS_ATTR_PLAN_DIGEST, L->plan_digest) ||
                     attr_string(file, HS_ATTR_OVERRIDES, L->overrides ? L->overrides : "") ||
                     attr_string(file, HS_ATTR_CREATED, buf)
                 ? -1
                 : 0;
    if (!rc) {
        uint8_t digest[32];
        hs_sha256(L->spec_text, strlen(L->spec_text), digest);
        char hex[65];
        for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
        rc = attr_string(file, HS_ATTR_SPEC_SHA256, hex);
    }
    if (agree(comm, rc)) return -1;

    hid_t runs = H5Gcreate2(file, HS_GROUP_RUNS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t recs = H5Gcreate2(file, HS_GROUP_RECORDS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t lays = H5Gcreate2(file, HS_GROUP_LAYERS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    rc = agree(comm, runs < 0 || recs < 0 || lays < 0 ? -1 : 0);

    /* Fixed-length strings, twice as wide as the longest value so that runs appended by a
     * later resume (a grown plan) usually fit. */
    size_t cfg_len = str_width(L->configs, R, HS_CONFIG_MIN_WIDTH);
    hid_t t_id = str_type(HS_ID_LEN), t_cfg = str_type(cfg_len), t_err = str_type(HS_ERROR_LEN);
    if (t_id < 0 || t_cfg < 0 || t_err < 0) rc = -1;
    const double nan = NAN;

    /* Metadata first (collective creation); the run table's values follow from rank 0 alone. */
    if (!rc) *what = HS_PATH_RUNS " datasets";
    hid_t ds;
#define STEP(create)                                                                                               \
    do {                                                                                                           \
        if (!rc) {                                                                                                 \
            ds = (create);                                                                                         \
            if (ds >= 0) H5Dclose(ds);                                                                             \
            rc = agree(comm, ds >= 0 ? 0 : -1);                                                                    \
        }                                                                                                          \
    } while (0)
    STEP(create_ds(runs, HS_RUNS_ID, t_id, 1, d1, NULL));
    STEP(create_ds(runs, HS_RUNS_CONFIG, t_cfg, 1, d1, NULL));
    for (size_t c = 0; !rc && c < sizeof book / sizeof book[0]; c++)
        STEP(create_ds(runs, book[c].name, book_type(c, f->state_type, t_err), 1, d1, NULL));
    for (size_t c = 0; !rc && c < L->n_cols; c++) rc = agree(comm, create_col(runs, &L->cols[c], R, R));
    if (!rc) *what = HS_PATH_RECORDS " and " HS_PATH_LAYERS " datasets";
#undef STEP
    const hsize_t none[MAX_RANK] = {0};
    for (size_t g = 0; g < 2; g++)
        for (size_t m = 0; !rc && m < (g ? L->n_layer_metrics : L->n_metrics); m++) {
            ds = g ? create_ds(lays, L->layer_metrics[m], H5T_IEEE_F64LE, 3, d3, &nan)
                   : create_ds(recs, L->metrics[m], H5T_IEEE_F64LE, 2, d2, &nan);
            rc = agree(comm, ds >= 0 ? 0 : -1);
            if (!rc) rc = agree(comm, fill_fresh(comm, ds, none));
            if (ds >= 0) H5Dclose(ds);
        }
    if (!rc && L->n_series) {
        *what = HS_PATH_SERIES;
        hid_t sg = H5Gcreate2(file, HS_GROUP_SERIES, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        rc = agree(comm, sg < 0 ? -1 : 0);
        for (size_t k = 0; !rc && k < L->n_series; k++)
            if (agree(comm, create_series(comm, sg, &L->series[k], R))) rc = -1, *what = L->series[k].name;
        if (sg >= 0) H5Gclose(sg);
    }

    /* The run table's values: one rank writes them (independent I/O) before the flush. */
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (!rc && rank == 0 && R > 0) {
        *what = "the run table";
        rc = write_rows(f, runs, L, 0, R, what);
        for (size_t c = 0; !rc && c < L->n_cols; c++) rc = write_col(runs, &L->cols[c], 0, R, what);
        if (!rc) rc = write_ids(runs, L, 0, R);
    }
    if (t_id >= 0) H5Tclose(t_id);
    if (t_cfg >= 0) H5Tclose(t_cfg);
    if (t_err >= 0) H5Tclose(t_err);
    if (runs >= 0) H5Gclose(runs);
    if (recs >= 0) H5Gclose(recs);
    if (lays >= 0) H5Gclose(lays);
    return agree(comm, rc);
}

double hs_results_layout_bytes(const hs_results_layout *L) {
    double R = (double)L->n_runs, N = (double)L->n_records;
    double b = R * N * (double)L->n_metrics * 8 + R * N * (double)L->max_layers * (double)L->n_layer_metrics * 8;
    for (size_t k = 0; k < L->n_series; k++) {
        double per = 8;
        for (int d = 0; d < L->series[k].ndim; d++) per *= (double)L->series[k].dims[d];
        b += R * (double)L->series[k].n_points * (per + 8);
    }
    double row = HS_ID_LEN + (double)str_width(L->configs, L->n_runs, HS_CONFIG_MIN_WIDTH) + HS_ERROR_LEN + 4 * 4 + 8 * 6 + 1;
    for (size_t c = 0; c < L->n_cols; c++)
        row += L->cols[c].type == HS_COL_STR ? (double)str_width(L->cols[c].s, L->n_runs, HS_KEY_STR_MIN_WIDTH) : 8;
    return b + R * row + 64e3; /* + HDF5's own metadata, a few kB per dataset */
}

/* fallocate's answer for [0, bytes) of fd: 0, or the errno (EOPNOTSUPP where the file system has
 * none; glibc's posix_fallocate would emulate it by writing every block instead, minutes for a
 * large file on NFS). */
static int reserve_bytes(int fd, double bytes) {
    return fallocate(fd, 0, 0, (off_t)bytes) == 0 ? 0 : errno;
}

/* Collective: can `bytes` more be written beside path? Rank 0 reserves them for real in a
 * scratch file (fallocate, which quotas count, where statvfs does not see them) and frees them
 * at once; where fallocate is not supported, the file system's free space decides. 0, or -1
 * with the numbers in why. HSWEEP_NO_SPACE_CHECK=1 skips it (the writes then meet a full disk
 * themselves). Nothing is written into the results file before this says yes, so a sweep that
 * cannot fit is refused with the file as it was. */
static int room_for(MPI_Comm comm, const char *path, double bytes, char *why, size_t n) {
    int rank = 0, rc = 0;
    MPI_Comm_rank(comm, &rank);
    const char *skip = getenv("HSWEEP_NO_SPACE_CHECK");
    if (rank == 0 && bytes > 0 && !(skip && !strcmp(skip, "1"))) {
        char scratch[4200];
        snprintf(scratch, sizeof scratch, "%s.space-check", path);
        int fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = fd < 0 ? errno : 0;
        if (fd >= 0) {
            e = reserve_bytes(fd, bytes);
            close(fd);
            unlink(scratch);
        }
        if (e == ENOSPC || e == EDQUOT) {
            snprintf(why, n, "needs about %.3g MB more; the file system (or your quota) has not that much free: %s",
                     bytes / 1e6, strerror(e));
            rc = -1;
        } else if (e) { /* no fallocate here (or no scratch file): ask statvfs */
            double avail = free_bytes(path);
            if (bytes > avail)
                snprintf(why, n, "needs about %.3g MB more; its file system has %.3g MB free", bytes / 1e6, avail / 1e6),
                    rc = -1;
        }
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
    if (rc) MPI_Bcast(why, (int)n, MPI_CHAR, 0, comm);
    return rc;
}

hs_code hs_results_create(MPI_Comm comm, const char *path, const hs_results_layout *L, hs_results **out,
                          hs_error *err) {
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const char *why = NULL, *bad = series_invalid(L->series, L->n_series, &why);
    if (bad) return HS_FAIL(err, HS_ERR_INTERNAL, "%s: series '%s' %s", path, bad, why);
    hs_results *f = results_new(path);
    if (!f) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    f->n_runs = L->n_runs, f->n_records = L->n_records, f->max_layers = L->max_layers;
    f->n_metrics = L->n_metrics, f->n_layer_metrics = L->n_layer_metrics;
    f->metrics = copy_names(L->metrics, L->n_metrics);
    f->layer_metrics = copy_names(L->layer_metrics, L->n_layer_metrics);
    f->ids = calloc(L->n_runs ? L->n_runs : 1, sizeof *f->ids);
    f->states = calloc(L->n_runs ? L->n_runs : 1, 1);
    f->attempts = calloc(L->n_runs ? L->n_runs : 1, sizeof *f->attempts);
    f->schema_version = L->schema_version;
    if (!f->metrics || !f->layer_metrics || !f->ids || !f->states || !f->attempts ||
        series_adopt(f, L->series, L->n_series)) {
        results_free(f);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; r < L->n_runs; r++) snprintf(f->ids[r], HS_ID_LEN, "%s", L->ids[r]);

    /* A file that cannot hold the layout is refused before it is made: a sweep that fills the
     * disk half way through its prologue helps nobody. */
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    char no_room[256];
    if (room_for(comm, path, hs_results_layout_bytes(L), no_room, sizeof no_room)) {
        results_free(f);
        HS_FAIL(err, HS_ERR_IO, "%s: the results file %s", path, no_room);
        hs_error_hint(err, "free space, or write the results to another file system with -o");
        return HS_ERR_IO;
    }
    /* Made under a temporary name and given its own only once the prologue is on disk: a job
     * killed while creating leaves no file that looks like results but is not (a resume then
     * simply starts it). EXCL: never truncate anything. */
    hs_str tmp = {0};
    if (hs_str_printf(&tmp, "%s.creating", path) != HS_OK) {
        results_free(f);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    if (rank == 0) remove(tmp.buf); /* left by a killed creator; the caller holds the lock */
    MPI_Barrier(comm);
    struct stat exists;
    int clash = rank == 0 && stat(path, &exists) == 0;
    MPI_Bcast(&clash, 1, MPI_INT, 0, comm);
    hid_t fapl = clash ? -1 : file_access(comm);
    f->file = fapl >= 0 ? H5Fcreate(tmp.buf, H5F_ACC_EXCL, H5P_DEFAULT, fapl) : -1;
    if (fapl >= 0) H5Pclose(fapl);
    if (f->file < 0) {
        cause_buf cb;
        const char *cause = h5_cause(&cb, path);
        results_free(f);
        HS_FAIL(err, HS_ERR_IO, "%s: cannot create the results file%s%s", path, cause[0] ? ": " : "",
                clash ? "a file of that name exists" : cause);
        hs_error_hint(err, "check that the folder exists and is writable on every node, and that no file of that "
                           "name exists; on file systems without locking set HDF5_USE_FILE_LOCKING=FALSE");
        hs_str_free(&tmp);
        return HS_ERR_IO;
    }
    const char *what = "";
    int rc = create_layout(comm, f, L, &what);
    cause_buf cb = {{0}};
    if (rc) h5_cause(&cb, path);
    if (!rc) rc = agree(comm, H5Fflush(f->file, H5F_SCOPE_GLOBAL) < 0 ? -1 : 0);
    if (rc && !cb.text[0]) h5_cause(&cb, path);
    if (rc) share_cause(comm, &cb);
    const char *cause = cb.text;
    if (!rc) {
        /* link() refuses to replace a file that appeared meanwhile, where rename() would not */
        int moved = 0;
        if (rank == 0) {
            moved = link(tmp.buf, path) == 0 ? unlink(tmp.buf), 1 : 0;
            if (!moved && errno != EEXIST && stat(path, &exists) != 0) moved = rename(tmp.buf, path) == 0;
            if (!moved) snprintf(cb.text, sizeof cb.text, "cannot name it %s: %s", path, strerror(errno));
        }
        MPI_Bcast(&moved, 1, MPI_INT, 0, comm);
        if (!moved) rc = -1, what = "the file under its name", cause = cb.text;
    }
    if (rc) {
        /* The half-made file is this call's own and holds nothing: emptied first, so that the
         * metadata HDF5 flushes while closing finds room on a full disk on every rank (a flush
         * that fails on one rank only would leave the others in its barrier), then removed. */
        if (rank == 0) truncate(tmp.buf, 0);
        MPI_Barrier(comm);
        H5Fclose(f->file);
        f->file = -1;
        results_free(f);
        MPI_Barrier(comm);
        if (rank == 0) remove(tmp.buf);
        hs_str_free(&tmp);
        HS_FAIL(err, HS_ERR_IO, "%s: cannot create %s%s%s", path, what, cause[0] ? ": " : "", cause);
        hs_error_hint(err, "nothing was trained; fix the cause (e.g. free space) and run again");
        return HS_ERR_IO;
    }
    hs_str_free(&tmp);
    *out = f;
    return HS_OK;
}

/* ================================================================ open (resume) */

/* Names of the datasets in a group (sorted by HDF5's name order). */
static char **list_names(hid_t group, size_t *n) {
    H5G_info_t info;
    *n = 0;
    if (H5Gget_info(group, &info) < 0) return NULL;
    char **names = calloc(info.nlinks ? info.nlinks : 1, sizeof *names);
    for (hsize_t i = 0; names && i < info.nlinks; i++) {
        ssize_t len = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, NULL, 0, H5P_DEFAULT);
        if (len < 0 || !(names[i] = malloc((size_t)len + 1))) return names;
        H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, names[i], (size_t)len + 1, H5P_DEFAULT);
        (*n)++;
    }
    return names;
}

static int dims_of(hid_t loc, const char *name, hsize_t *dims, int want_rank) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t s = H5Dget_space(ds);
    int ok = s >= 0 && H5Sget_simple_extent_ndims(s) == want_rank && H5Sget_simple_extent_dims(s, dims, NULL) >= 0;
    if (s >= 0) H5Sclose(s);
    H5Dclose(ds);
    return ok ? 0 : -1;
}

/* The first n elements of a 1-D dataset (-1 when it holds fewer). The run table's datasets can
 * differ in length in a file whose grow was cut short (a full disk): rows count by /runs/id. */
static int read_1d(hid_t loc, const char *name, hid_t mtype, size_t n, void *buf) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t fs = H5Dget_space(ds);
    hsize_t dims[1] = {0}, start[1] = {0}, count[1] = {n};
    int ok = fs >= 0 && H5Sget_simple_extent_ndims(fs) == 1 && H5Sget_simple_extent_dims(fs, dims, NULL) >= 0 &&
             dims[0] >= n;
    hid_t ms = ok && n ? H5Screate_simple(1, count, NULL) : -1;
    if (ok && n)
        ok = ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             H5Dread(ds, mtype, ms, fs, H5P_DEFAULT, buf) >= 0;
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    H5Dclose(ds);
    return ok ? 0 : -1;
}

/* Rows of a run table whose id dataset has n cells: the leading cells with an id. The id is the
 * last thing written for a new row, so a row without one was never finished being added. */
static size_t rows_with_id(const char (*ids)[HS_ID_LEN], size_t n) {
    size_t r = 0;
    while (r < n && ids[r][0]) r++;
    return r;
}

/* The series of an opened file: every group under /series with its values' shape and axes.
 * Returns NULL when all is well, else why (the name of the bad series in *bad). */
static const char *open_series(hs_results *f, const char **bad) {
    if (H5Lexists(f->file, HS_GROUP_SERIES, H5P_DEFAULT) <= 0) return NULL; /* a file without series */
    hid_t sg = H5Gopen2(f->file, HS_GROUP_SERIES, H5P_DEFAULT);
    if (sg < 0) return "cannot open " HS_PATH_SERIES;
    size_t n = 0;
    char **names = list_names(sg, &n);
    const char *why = names ? NULL : "cannot list " HS_PATH_SERIES;
    f->series = calloc(n + 1, sizeof *f->series);
    if (!why && !f->series) why = "out of memory";
    for (size_t k = 0; !why && k < n; k++) {
        series_info *s = &f->series[k];
        s->name = names[k], names[k] = NULL;
        f->n_series = k + 1;
        *bad = s->name;
        hid_t g = H5Gopen2(sg, s->name, H5P_DEFAULT);
        hid_t ds = g >= 0 ? H5Dopen2(g, HS_SERIES_VALUES, H5P_DEFAULT) : -1;
        hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
        int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
        hsize_t dims[MAX_RANK] = {0}, dp[2] = {0};
        s->axes = g >= 0 ? attr_read_string(g, HS_SERIES_AXES) : NULL;
        if (rank < 2 || rank > MAX_RANK || H5Sget_simple_extent_dims(sp, dims, NULL) < 0 || !s->axes)
            why = "malformed " HS_PATH_SERIES " group (" HS_SERIES_VALUES ", " HS_SERIES_AXES ")";
        else if (dims_of(g, HS_SERIES_POINT, dp, 2) || dp[0] != dims[0] || dp[1] != dims[1])
            why = "malformed " HS_PATH_SERIES " group (" HS_SERIES_POINT ")";
        else if (dims[0] < f->n_runs)
            why = HS_PATH_SERIES " group with fewer runs than " HS_PATH_RUNS;
        if (!why) {
            s->ndim = rank - 2, s->n_points = dims[1];
            for (int d = 0; d < s->ndim; d++) s->dims[d] = dims[2 + d];
        }
        if (sp >= 0) H5Sclose(sp);
        if (ds >= 0) H5Dclose(ds);
        if (g >= 0) H5Gclose(g);
    }
    for (size_t k = 0; names && k < n; k++) free(names[k]);
    free(names);
    H5Gclose(sg);
    return why;
}

hs_code hs_results_open(MPI_Comm comm, const char *path, hs_results **out, hs_error *err) {
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hs_results *f = results_new(path);
    if (!f) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    hid_t fapl = file_access(comm);
    f->file = fapl >= 0 ? H5Fopen(path, H5F_ACC_RDWR, fapl) : -1;
    if (fapl >= 0) H5Pclose(fapl);
    if (f->file < 0) {
        results_free(f);
        HS_FAIL(err, HS_ERR_IO, "%s: cannot open the results file for resuming", path);
        hs_error_hint(err, "is it an hsweep results file, on a path every rank sees? On file systems without "
                           "locking set HDF5_USE_FILE_LOCKING=FALSE");
        return HS_ERR_IO;
    }
    for (int a = 0; a < 6; a++) f->attr_text[a] = attr_read_string(f->file, attr_names[a]);
    const char *why = NULL;
    char series_why[256];
    if (!f->attr_text[0] || strcmp(f->attr_text[0], HS_RESULTS_FORMAT) != 0) why = "not an hsweep results file (" HS_ATTR_FORMAT " attribute)";
    hid_t runs = why ? -1 : H5Gopen2(f->file, HS_GROUP_RUNS, H5P_DEFAULT);
    hid_t recs = runs >= 0 ? H5Gopen2(f->file, HS_GROUP_RECORDS, H5P_DEFAULT) : -1;
    hid_t lays = recs >= 0 ? H5Gopen2(f->file, HS_GROUP_LAYERS, H5P_DEFAULT) : -1;
    if (!why && lays < 0) why = "missing " HS_PATH_RUNS ", " HS_PATH_RECORDS " or " HS_PATH_LAYERS;
    hsize_t d1[1] = {0};
    if (!why && dims_of(runs, HS_RUNS_ID, d1, 1)) why = "missing " HS_PATH_RUNS_ID;
    if (!why) {
        f->n_runs = d1[0];
        f->ids = calloc(f->n_runs ? f->n_runs : 1, sizeof *f->ids);
        f->states = calloc(f->n_runs ? f->n_runs : 1, 1);
        f->attempts = calloc(f->n_runs ? f->n_runs : 1, sizeof *f->attempts);
        f->config_w = ds_str_size(runs, HS_RUNS_CONFIG);
        f->configs = f->config_w ? calloc(f->n_runs ? f->n_runs : 1, f->config_w + 1) : NULL;
        hid_t t_id = str_type(HS_ID_LEN), t_cfg = str_type(f->config_w + 1);
        if (!f->ids || !f->states || !f->attempts || !f->configs || t_id < 0 || t_cfg < 0) why = "out of memory";
        else if (read_1d(runs, HS_RUNS_ID, t_id, f->n_runs, f->ids) ||
                 !(f->n_runs = rows_with_id((const char(*)[HS_ID_LEN])f->ids, f->n_runs), 1) ||
                 read_1d(runs, HS_RUNS_STATUS, f->state_type, f->n_runs, f->states) ||
                 read_1d(runs, HS_RUNS_ATTEMPTS, H5T_NATIVE_INT, f->n_runs, f->attempts) ||
                 read_1d(runs, HS_RUNS_CONFIG, t_cfg, f->n_runs, f->configs))
            why = "cannot read " HS_PATH_RUNS_ID ", " HS_RUNS_STATUS ", " HS_RUNS_ATTEMPTS " or " HS_RUNS_CONFIG;
        f->config_w += 1, f->n_configs = f->n_runs;
        if (t_id >= 0) H5Tclose(t_id);
        if (t_cfg >= 0) H5Tclose(t_cfg);
        hid_t sa = H5Aexists(f->file, HS_ATTR_SCHEMA_VERSION) > 0 ? H5Aopen(f->file, HS_ATTR_SCHEMA_VERSION, H5P_DEFAULT) : -1;
        long long sv = -1;
        if (sa >= 0 && H5Aread(sa, H5T_NATIVE_LLONG, &sv) < 0) sv = -1;
        if (sa >= 0) H5Aclose(sa);
        f->schema_version = (int)sv;
    }
    if (!why) {
        f->metrics = list_names(recs, &f->n_metrics);
        f->layer_metrics = list_names(lays, &f->n_layer_metrics);
        hsize_t d2[2] = {0}, d3[3] = {0};
        if (!f->metrics || !f->layer_metrics) why = "cannot list " HS_PATH_RECORDS " or " HS_PATH_LAYERS;
        else if (f->n_metrics && dims_of(recs, f->metrics[0], d2, 2)) why = "malformed " HS_PATH_RECORDS " dataset";
        else if (f->n_layer_metrics && dims_of(lays, f->layer_metrics[0], d3, 3)) why = "malformed " HS_PATH_LAYERS " dataset";
        f->n_records = d2[1] ? d2[1] : d3[1];
        f->max_layers = d3[2];
    }
    const char *bad = NULL;
    if (!why && (why = open_series(f, &bad)) && bad) {
        snprintf(series_why, sizeof series_why, "%s: " HS_PATH_SERIES "/%s", why, bad);
        why = series_why;
    }
    if (lays >= 0) H5Gclose(lays);
    if (recs >= 0) H5Gclose(recs);
    if (runs >= 0) H5Gclose(runs);
    if (why) {
        H5Fclose(f->file);
        f->file = -1;
        results_free(f);
        return HS_FAIL(err, HS_ERR_VALUE, "%s: %s", path, why);
    }
    *out = f;
    return HS_OK;
}

hs_code hs_results_use_metrics(hs_results *f, const char *const *metrics, size_t n_metrics,
                               const char *const *layer_metrics, size_t n_layer_metrics, hs_error *err) {
    /* The file lists its datasets in name order; the caller's order is what its rows use. */
    char **have[2] = {f->metrics, f->layer_metrics};
    size_t n_have[2] = {f->n_metrics, f->n_layer_metrics}, n_want[2] = {n_metrics, n_layer_metrics};
    const char *const *want[2] = {metrics, layer_metrics};
    static const char *const group[2] = {HS_GROUP_RECORDS, HS_GROUP_LAYERS};
    for (int g = 0; g < 2; g++)
        for (size_t i = 0; i < n_want[g]; i++) {
            size_t j = 0;
            while (j < n_have[g] && strcmp(have[g][j], want[g][i]) != 0) j++;
            if (j == n_have[g])
                return HS_FAIL(err, HS_ERR_VALUE, "%s: has no /%s/%s dataset (written by another hsweep version?)",
                               f->path, group[g], want[g][i]);
            char *t = have[g][i];
            have[g][i] = have[g][j];
            have[g][j] = t;
        }
    f->n_metrics = n_metrics, f->n_layer_metrics = n_layer_metrics;
    /* names beyond the used ones stay allocated in the arrays' tails; free them now */
    for (size_t j = n_metrics; j < n_have[0]; j++) free(f->metrics[j]), f->metrics[j] = NULL;
    for (size_t j = n_layer_metrics; j < n_have[1]; j++) free(f->layer_metrics[j]), f->layer_metrics[j] = NULL;
    return HS_OK;
}

/* How series s of a layout relates to the file: 0 = fits, 1 = needs room (absent, more points or
 * larger dims), -1 = incompatible (another ndim or axes), with why. */
static int series_fit(const hs_results *f, const hs_results_series *s, const char **why) {
    const series_info *have = series_find(f, s->name);
    if (!have) return *why = "is not in the file", 1;
    if (have->ndim != s->ndim) return *why = "has another number of axes in the file", -1;
    if (strcmp(have->axes, s->axes ? s->axes : "") != 0) return *why = "has other axes in the file", -1;
    if (s->n_points > have->n_points) return *why = "has fewer points in the file", 1;
    for (int d = 0; d < s->ndim; d++)
        if (s->dims[d] > have->dims[d]) return *why = "has smaller dims in the file", 1;
    return 0;
}

hs_code hs_results_use_series(hs_results *f, const hs_results_series *series, size_t n_series, hs_error *err) {
    for (size_t k = 0; k < n_series; k++) {
        const char *why = "";
        if (series_fit(f, &series[k], &why))
            return HS_FAIL(err, HS_ERR_VALUE, "%s: the series '%s' (axes %s) %s (written by another hsweep version?)",
                           f->path, series[k].name, series[k].axes ? series[k].axes : "", why);
    }
    return HS_OK;
}

int hs_results_needs_grow(const hs_results *f, const hs_results_layout *L) {
    /* a file without /layers datasets (or /records) reads 0 layers (records): nothing to grow */
    if (L->n_runs > f->n_runs || (L->n_metrics + L->n_layer_metrics && L->n_records > f->n_records) ||
        (L->n_layer_metrics && L->max_layers > f->max_layers))
        return 1;
    const char *why;
    for (size_t k = 0; k < L->n_series; k++)
        if (series_fit(f, &L->series[k], &why)) return 1;
    return 0;
}

size_t hs_results_n_runs(const hs_results *f) { return f->n_runs; }
size_t hs_results_n_records(const hs_results *f) { return f->n_records; }
size_t hs_results_max_layers(const hs_results *f) { return f->max_layers; }
const char *hs_results_id(const hs_results *f, size_t i) { return i < f->n_runs ? f->ids[i] : NULL; }
int hs_results_attempts(const hs_results *f, size_t i) { return i < f->n_runs && f->attempts ? f->attempts[i] : 0; }
const char *hs_results_config(const hs_results *f, size_t i) {
    return i < f->n_configs && f->configs ? f->configs + i * f->config_w : NULL;
}
int hs_results_schema_version(const hs_results *f) { return f->schema_version; }
hs_run_state hs_results_state(const hs_results *f, size_t i) {
    return i < f->n_runs ? (hs_run_state)f->states[i] : HS_STATE_PENDING;
}
const char *hs_results_attr(const hs_results *f, const char *name) {
    for (int a = 0; a < 6; a++)
        if (!strcmp(name, attr_names[a])) return f->attr_text[a];
    return NULL;
}

/* ================================================================ grow (resume of a grown plan) */

static void live_close(hs_results *f);

/* Collective: set the extent of dataset loc/name to at least want[0 .. its rank). */
static int extend_ds(MPI_Comm comm, hid_t loc, const char *name, const hsize_t *want) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1, rc = 0, grow = 0;
    hsize_t dims[MAX_RANK] = {0}, old[MAX_RANK] = {0};
    if (rank < 1 || rank > MAX_RANK || H5Sget_simple_extent_dims(sp, dims, NULL) < 0) rc = -1;
    memcpy(old, dims, sizeof old);
    for (int d = 0; !rc && d < rank; d++)
        if (want[d] > dims[d]) dims[d] = want[d], grow = 1;
    if (!rc && grow && H5Dset_extent(ds, dims) < 0) rc = -1;
    /* agreed (every rank extends the same datasets), then the new cells' fill, agreed again */
    rc = agree(comm, rc);
    if (!rc && grow) rc = agree(comm, fill_fresh(comm, ds, old));
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* Collective: set the extent of every dataset in group to at least (R, N, L) (per its rank). */
static int extend_group(MPI_Comm comm, hid_t file, const char *group, hsize_t R, hsize_t N, hsize_t L) {
    hid_t g = H5Gopen2(file, group, H5P_DEFAULT);
    if (g < 0) return -1;
    size_t n = 0;
    char **names = list_names(g, &n);
    int rc = names ? 0 : -1;
    hsize_t want[3] = {R, N, L};
    rc = agree(comm, rc);
    for (size_t i = 0; !rc && i < n; i++) rc = extend_ds(comm, g, names[i], want);
    for (size_t i = 0; names && i < n; i++) free(names[i]);
    free(names);
    H5Gclose(g);
    return rc;
}

/* Collective: every series of the file grows to R runs and to the layout's points and dims (a
 * series the layout does not name only along runs); series new in the layout are created, and
 * `every` follows the layout. f->series is updated after success by the caller. */
static int grow_series(MPI_Comm comm, hid_t file, const hs_results *f, const hs_results_layout *L, size_t R,
                       const char **what) {
    if (!f->n_series && !L->n_series) return 0;
    *what = HS_PATH_SERIES;
    hid_t sg = H5Lexists(file, HS_GROUP_SERIES, H5P_DEFAULT) > 0 ? H5Gopen2(file, HS_GROUP_SERIES, H5P_DEFAULT)
                                                         : H5Gcreate2(file, HS_GROUP_SERIES, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = agree(comm, sg < 0 ? -1 : 0);
    if (rc) {
        if (sg >= 0) H5Gclose(sg);
        return rc;
    }
    for (size_t k = 0; !rc && k < f->n_series; k++) {
        const series_info *s = &f->series[k];
        hsize_t want[MAX_RANK] = {R, s->n_points};
        for (int d = 0; d < s->ndim; d++) want[2 + d] = s->dims[d];
        for (size_t j = 0; j < L->n_series; j++)
            if (!strcmp(L->series[j].name, s->name)) {
                if (L->series[j].n_points > want[1]) want[1] = L->series[j].n_points;
                for (int d = 0; d < s->ndim; d++)
                    if (L->series[j].dims[d] > want[2 + d]) want[2 + d] = L->series[j].dims[d];
                hid_t g = H5Gopen2(sg, s->name, H5P_DEFAULT);
                if (g < 0 || (H5Aexists(g, HS_SERIES_EVERY) > 0 && H5Adelete(g, HS_SERIES_EVERY) < 0) ||
                    (L->series[j].every && attr_int(g, HS_SERIES_EVERY, (long long)L->series[j].every)))
                    rc = -1;
                if (g >= 0) H5Gclose(g);
            }
        hid_t g = rc ? -1 : H5Gopen2(sg, s->name, H5P_DEFAULT);
        rc = agree(comm, rc || g < 0 ? -1 : 0);
        if (rc || extend_ds(comm, g, HS_SERIES_VALUES, want) || extend_ds(comm, g, HS_SERIES_POINT, want)) rc = -1, *what = s->name;
        if (g >= 0) H5Gclose(g);
    }
    for (size_t j = 0; !rc && j < L->n_series; j++)
        if (!series_find(f, L->series[j].name) && agree(comm, create_series(comm, sg, &L->series[j], R)))
            rc = -1, *what = L->series[j].name;
    H5Gclose(sg);
    return rc;
}

static int replace_attr(hid_t obj, const char *name, const char *value) {
    if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0) return -1;
    return attr_string(obj, name, value);
}

hs_code hs_results_grow(MPI_Comm comm, hs_results *f, const hs_results_layout *L, hs_error *err) {
    live_close(f);
    size_t old_R = f->n_runs, R = L->n_runs;
    if (R < old_R) return HS_FAIL(err, HS_ERR_INTERNAL, "grow from %zu to %zu runs", old_R, R);
    for (size_t r = 0; r < old_R; r++)
        if (strcmp(f->ids[r], L->ids[r]) != 0)
            return HS_FAIL(err, HS_ERR_INTERNAL, "grow: run %zu is %s in the file but %s in the plan", r, f->ids[r],
                           L->ids[r]);
    /* refuse before any change: a file is never left half grown by a layout it cannot take */
    const char *why = NULL, *bad = series_invalid(L->series, L->n_series, &why);
    if (bad) return HS_FAIL(err, HS_ERR_INTERNAL, "%s: series '%s' %s", f->path, bad, why);
    for (size_t k = 0; k < L->n_series; k++)
        if (series_fit(f, &L->series[k], &why) < 0) {
            HS_FAIL(err, HS_ERR_VALUE, "%s: cannot grow: the series '%s' (axes %s) %s", f->path, L->series[k].name,
                    L->series[k].axes ? L->series[k].axes : "", why);
            hs_error_hint(err, "the series changed its shape between hsweep versions: write to a new file with -o");
            return HS_ERR_VALUE;
        }
    size_t N = L->n_records > f->n_records ? L->n_records : f->n_records;
    size_t Lm = L->max_layers > f->max_layers ? L->max_layers : f->max_layers;
    /* room first: a grow that meets a full disk half way cannot be undone */
    struct stat fst;
    double have = stat(f->path, &fst) == 0 ? (double)fst.st_size : 0, more = hs_results_layout_bytes(L) - have;
    char why_room[256];
    if (room_for(comm, f->path, more > 0 ? 1.1 * more : 0, why_room, sizeof why_room)) {
        HS_FAIL(err, HS_ERR_IO, "%s: cannot append %zu runs: the file %s", f->path, R - old_R, why_room);
        hs_error_hint(err, "the file is unchanged; free space (or move the file) and resume again");
        return HS_ERR_IO;
    }
    const char *what = "datasets";
    /* each collective step agreed on before the next (see agree()) */
    int rc = agree(comm, extend_group(comm, f->file, HS_GROUP_RUNS, R, N, Lm));
    if (!rc) rc = agree(comm, extend_group(comm, f->file, HS_GROUP_RECORDS, R, N, Lm));
    if (!rc) rc = agree(comm, extend_group(comm, f->file, HS_GROUP_LAYERS, R, N, Lm));
    if (!rc) rc = agree(comm, grow_series(comm, f->file, f, L, R, &what));
    hid_t runs = rc ? -1 : H5Gopen2(f->file, HS_GROUP_RUNS, H5P_DEFAULT);
    if (!rc) rc = agree(comm, runs < 0 ? -1 : 0);
    /* key columns that vary only now: new datasets (collective), filled for every run below */
    unsigned char *fresh = calloc(L->n_cols + 1, 1);
    if (!rc) rc = agree(comm, fresh ? 0 : -1);
    for (size_t c = 0; !rc && c < L->n_cols; c++)
        if (H5Lexists(runs, L->cols[c].name, H5P_DEFAULT) <= 0) {
            fresh[c] = 1;
            rc = agree(comm, create_col(runs, &L->cols[c], R, R));
        }
    if (!rc) {
        uint8_t digest[32];
        char hex[65];
        hs_sha256(L->spec_text, strlen(L->spec_text), digest);
        for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
        what = "root attributes";
        rc = agree(comm, replace_attr(f->file, HS_ATTR_SPEC, L->spec_text) || replace_attr(f->file, HS_ATTR_SPEC_PATH, L->spec_path) ||
                                 replace_attr(f->file, HS_ATTR_SPEC_SHA256, hex) ||
                                 replace_attr(f->file, HS_ATTR_PLAN_DIGEST, L->plan_digest) ||
                                 replace_attr(f->file, HS_ATTR_OVERRIDES, L->overrides ? L->overrides : "")
                             ? -1
                             : 0);
    }
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (!rc && rank == 0) {
        what = "the new rows";
        rc = write_rows(f, runs, L, old_R, R, &what);
        for (size_t c = 0; !rc && c < L->n_cols; c++)
            rc = fresh[c] ? write_col(runs, &L->cols[c], 0, R, &what) : write_col(runs, &L->cols[c], old_R, R, &what);
        if (!rc) rc = write_ids(runs, L, old_R, R);
    }
    free(fresh);
    if (runs >= 0) H5Gclose(runs);
    cause_buf cb = {{0}};
    if (rc) h5_cause(&cb, f->path);
    rc = agree(comm, rc);
    if (!rc) rc = agree(comm, H5Fflush(f->file, H5F_SCOPE_GLOBAL) < 0 ? -1 : 0);
    if (rc && !cb.text[0]) h5_cause(&cb, f->path);
    if (rc) share_cause(comm, &cb);
    const char *cause = cb.text;
    if (rc) {
        HS_FAIL(err, HS_ERR_IO, "%s: cannot append %zu runs (%s)%s%s", f->path, R - old_R, what, cause[0] ? ": " : "",
                cause);
        hs_error_hint(err, "rows already in the file are untouched; fix the cause (e.g. free space) and resume again");
        return HS_ERR_IO;
    }
    char (*ids)[HS_ID_LEN] = realloc(f->ids, R * sizeof *ids);
    unsigned char *states = ids ? realloc(f->states, R) : NULL;
    int *attempts = states ? realloc(f->attempts, R * sizeof *attempts) : NULL;
    if (ids) f->ids = ids;
    if (states) f->states = states;
    if (attempts) f->attempts = attempts;
    if (!ids || !states || !attempts) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (size_t r = old_R; r < R; r++)
        snprintf(f->ids[r], HS_ID_LEN, "%s", L->ids[r]), f->states[r] = HS_STATE_PENDING, f->attempts[r] = 0;
    /* configs of the appended rows are the caller's; the file's copy serves only open-time checks */
    f->n_runs = R, f->n_records = N, f->max_layers = Lm;
    if (series_adopt(f, L->series, L->n_series)) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    return HS_OK;
}

hs_code hs_results_mark_plan(MPI_Comm comm, hs_results *f, const unsigned char *in_plan, hs_error *err) {
    hid_t runs = H5Gopen2(f->file, HS_GROUP_RUNS, H5P_DEFAULT);
    int rc = agree(comm, runs < 0 ? -1 : 0);
    hsize_t d1[1] = {f->n_runs};
    if (!rc && H5Lexists(runs, HS_RUNS_IN_PLAN, H5P_DEFAULT) <= 0) { /* a file from before the column */
        hid_t ds = create_ds(runs, HS_RUNS_IN_PLAN, H5T_STD_I32LE, 1, d1, NULL);
        if (ds >= 0) H5Dclose(ds);
        rc = agree(comm, ds < 0 ? -1 : 0);
    }
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (!rc && rank == 0 && f->n_runs) {
        int *v = malloc(f->n_runs * sizeof *v);
        for (size_t r = 0; v && r < f->n_runs; r++) v[r] = in_plan[r] != 0;
        rc = v ? write_1d(runs, HS_RUNS_IN_PLAN, H5T_NATIVE_INT, 0, f->n_runs, v) : -1;
        free(v);
    }
    cause_buf cb;
    const char *cause = rc ? h5_cause(&cb, f->path) : "";
    if (runs >= 0) H5Gclose(runs);
    rc = agree(comm, rc);
    if (!rc) rc = agree(comm, H5Fflush(f->file, H5F_SCOPE_GLOBAL) < 0 ? -1 : 0);
    if (rc) return HS_FAIL(err, HS_ERR_IO, "%s: cannot write " HS_PATH_RUNS_IN_PLAN "%s%s", f->path, cause[0] ? ": " : "", cause);
    return HS_OK;
}

hs_code hs_results_add_session(MPI_Comm comm, hs_results *f, const char *line, hs_error *err) {
    char *old = attr_read_string(f->file, HS_ATTR_SESSIONS);
    hs_str all = {0};
    hs_code sc = hs_str_printf(&all, "%s%s\n", old ? old : "", line);
    free(old);
    int rc = agree(comm, sc == HS_OK && !replace_attr(f->file, HS_ATTR_SESSIONS, all.buf) ? 0 : -1);
    hs_str_free(&all);
    if (!rc) rc = agree(comm, H5Fflush(f->file, H5F_SCOPE_GLOBAL) < 0 ? -1 : 0);
    if (rc) return HS_FAIL(err, HS_ERR_IO, "%s: cannot record the session", f->path);
    return HS_OK;
}

/* ================================================================ per-run writes (independent) */

hs_code hs_results_mark_running(hs_results *f, size_t i, int rank, double start, hs_error *err) {
    if (i >= f->n_runs) return HS_FAIL(err, HS_ERR_INTERNAL, "run %zu of %zu", i, f->n_runs);
    hid_t runs = H5Gopen2(f->file, HS_GROUP_RUNS, H5P_DEFAULT);
    unsigned char st = HS_STATE_RUNNING;
    int attempts = f->attempts[i] + 1; /* counted before it starts: a rank that dies has used it */
    int ok = runs >= 0 && !write_1d(runs, HS_RUNS_RANK, H5T_NATIVE_INT, i, 1, &rank) &&
             !write_1d(runs, HS_RUNS_START, H5T_NATIVE_DOUBLE, i, 1, &start) &&
             !write_1d(runs, HS_RUNS_ATTEMPTS, H5T_NATIVE_INT, i, 1, &attempts) &&
             !write_1d(runs, HS_RUNS_STATUS, f->state_type, i, 1, &st);
    cause_buf cb;
    const char *cause = ok ? "" : h5_cause(&cb, f->path);
    if (runs >= 0) H5Gclose(runs);
    if (!ok)
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot mark run %s running%s%s", f->path, f->ids[i], cause[0] ? ": " : "",
                       cause);
    f->states[i] = st, f->attempts[i] = attempts;
    return HS_OK;
}

/* Close the kept handles of live writes (before anything collective touches the datasets). */
static void live_close(hs_results *f) {
    for (size_t k = 0; f->live_ds && k < f->n_live_ds; k++)
        if (f->live_ds[k] >= 0) H5Dclose(f->live_ds[k]);
    free(f->live_ds);
    f->live_ds = NULL, f->n_live_ds = 0;
}

/* The live writes' datasets, opened once: 0, or -1. */
static int live_open(hs_results *f) {
    if (f->live_ds) return 0;
    size_t n = f->n_metrics + 2;
    if (!(f->live_ds = malloc(n * sizeof *f->live_ds))) return -1;
    f->n_live_ds = n;
    for (size_t k = 0; k < n; k++) f->live_ds[k] = -1;
    hid_t recs = H5Gopen2(f->file, HS_GROUP_RECORDS, H5P_DEFAULT), runs = H5Gopen2(f->file, HS_GROUP_RUNS, H5P_DEFAULT);
    int rc = recs < 0 || runs < 0 ? -1 : 0;
    for (size_t m = 0; !rc && m < f->n_metrics; m++)
        if ((f->live_ds[m] = H5Dopen2(recs, f->metrics[m], H5P_DEFAULT)) < 0) rc = -1;
    if (!rc && (f->live_ds[n - 2] = H5Dopen2(runs, HS_RUNS_EPOCHS_DONE, H5P_DEFAULT)) < 0) rc = -1;
    if (!rc && (f->live_ds[n - 1] = H5Dopen2(runs, HS_RUNS_STEPS, H5P_DEFAULT)) < 0) rc = -1;
    if (recs >= 0) H5Gclose(recs);
    if (runs >= 0) H5Gclose(runs);
    if (rc) live_close(f);
    return rc;
}

hs_code hs_results_write_point(hs_results *f, size_t i, size_t t, const double *values, long long epochs_done,
                               long long steps, hs_error *err) {
    if (i >= f->n_runs || t >= f->n_records) return HS_OK; /* beyond the file: the final write says it */
    int rc = live_open(f);
    for (size_t m = 0; !rc && m < f->n_metrics; m++) {
        hsize_t start[2] = {i, t}, count[2] = {1, 1};
        rc = write_block(f->live_ds[m], H5T_NATIVE_DOUBLE, 2, start, count, &values[m]);
    }
    hsize_t at[1] = {i}, one[1] = {1};
    if (!rc) rc = write_block(f->live_ds[f->n_metrics], H5T_NATIVE_LLONG, 1, at, one, &epochs_done) ||
                  write_block(f->live_ds[f->n_metrics + 1], H5T_NATIVE_LLONG, 1, at, one, &steps);
    cause_buf cb;
    const char *cause = rc ? h5_cause(&cb, f->path) : "";
    if (rc)
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot write record point %zu of run %s%s%s", f->path, t, f->ids[i],
                       cause[0] ? ": " : "", cause);
    return HS_OK;
}

hs_code hs_results_mark_failed(hs_results *f, size_t i, const char *why, hs_error *err) {
    if (i >= f->n_runs) return HS_FAIL(err, HS_ERR_INTERNAL, "run %zu of %zu", i, f->n_runs);
    char msg[HS_ERROR_LEN] = {0};
    snprintf(msg, sizeof msg, "%s", why);
    hid_t runs = H5Gopen2(f->file, HS_GROUP_RUNS, H5P_DEFAULT), t_err = str_type(HS_ERROR_LEN);
    unsigned char st = HS_STATE_FAILED;
    int ok = runs >= 0 && t_err >= 0 && !write_1d(runs, HS_RUNS_ERROR, t_err, i, 1, msg) &&
             !write_1d(runs, HS_RUNS_STATUS, f->state_type, i, 1, &st);
    if (t_err >= 0) H5Tclose(t_err);
    if (runs >= 0) H5Gclose(runs);
    if (!ok) return HS_FAIL(err, HS_ERR_IO, "%s: cannot mark run %s failed", f->path, f->ids[i]);
    f->states[i] = st;
    return HS_OK;
}

hs_code hs_results_write_run(hs_results *f, size_t i, const hs_results_row *row, const double *records,
                             const double *layers, hs_error *err) {
    if (i >= f->n_runs) return HS_FAIL(err, HS_ERR_INTERNAL, "run %zu of %zu", i, f->n_runs);
    const char *what = "";
    int rc = 0;
    size_t N = f->n_records, Lm = f->max_layers;
    double *buf = malloc((N * (Lm ? Lm : 1) + 1) * sizeof *buf);
    if (!buf) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    hid_t recs = H5Gopen2(f->file, HS_GROUP_RECORDS, H5P_DEFAULT), lays = H5Gopen2(f->file, HS_GROUP_LAYERS, H5P_DEFAULT);
    hid_t runs = H5Gopen2(f->file, HS_GROUP_RUNS, H5P_DEFAULT);
    if (recs < 0 || lays < 0 || runs < 0) rc = -1, what = "groups";
    for (size_t m = 0; !rc && records && m < f->n_metrics; m++) {
        for (size_t t = 0; t < N; t++) buf[t] = records[t * f->n_metrics + m];
        if (write_row(recs, f->metrics[m], H5T_NATIVE_DOUBLE, i, buf)) rc = -1, what = f->metrics[m];
    }
    for (size_t m = 0; !rc && layers && m < f->n_layer_metrics; m++) {
        for (size_t t = 0; t < N; t++)
            memcpy(buf + t * Lm, layers + (t * f->n_layer_metrics + m) * Lm, Lm * sizeof *buf);
        if (write_row(lays, f->layer_metrics[m], H5T_NATIVE_DOUBLE, i, buf)) rc = -1, what = f->layer_metrics[m];
    }
    if (!rc) {
        char msg[HS_ERROR_LEN] = {0};
        snprintf(msg, sizeof msg, "%s", row->error ? row->error : "");
        hid_t t_err = str_type(HS_ERROR_LEN);
        unsigned char st = (unsigned char)row->state;
        what = "the run table";
        rc = t_err < 0 || write_1d(runs, HS_RUNS_RANK, H5T_NATIVE_INT, i, 1, &row->rank) ||
                     write_1d(runs, HS_RUNS_ATTEMPTS, H5T_NATIVE_INT, i, 1, &row->attempts) ||
                     write_1d(runs, HS_RUNS_START, H5T_NATIVE_DOUBLE, i, 1, &row->start) ||
                     write_1d(runs, HS_RUNS_END, H5T_NATIVE_DOUBLE, i, 1, &row->end) ||
                     write_1d(runs, HS_RUNS_WALL, H5T_NATIVE_DOUBLE, i, 1, &row->wall) ||
                     write_1d(runs, HS_RUNS_EPOCHS_DONE, H5T_NATIVE_LLONG, i, 1, &row->epochs_done) ||
                     write_1d(runs, HS_RUNS_STEPS, H5T_NATIVE_LLONG, i, 1, &row->steps) ||
                     write_1d(runs, HS_RUNS_ERROR, t_err, i, 1, msg)
                 ? -1
                 : 0;
        /* the commit marker: written last, so a reader never sees "done" without the data */
        if (!rc) rc = write_1d(runs, HS_RUNS_STATUS, f->state_type, i, 1, &st);
        if (!rc) f->states[i] = st, f->attempts[i] = row->attempts;
        if (t_err >= 0) H5Tclose(t_err);
    }
    if (recs >= 0) H5Gclose(recs);
    if (lays >= 0) H5Gclose(lays);
    if (runs >= 0) H5Gclose(runs);
    free(buf);
    if (rc) {
        cause_buf cb;
        const char *cause = h5_cause(&cb, f->path);
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot write run %s (%s)%s%s", f->path, f->ids[i], what,
                       cause[0] ? ": " : "", cause);
    }
    return HS_OK;
}

/* Independent: one series of run i (see hs_results_write_series). */
static int write_one_series(hs_results *f, size_t i, const hs_store_series *s, const series_info *have,
                            const char **what) {
    hid_t g = H5Gopen2(f->file, HS_GROUP_SERIES, H5P_DEFAULT);
    hid_t sg = g >= 0 ? H5Gopen2(g, s->name, H5P_DEFAULT) : -1;
    hid_t pd = sg >= 0 ? H5Dopen2(sg, HS_SERIES_POINT, H5P_DEFAULT) : -1;
    hid_t vd = pd >= 0 ? H5Dopen2(sg, HS_SERIES_VALUES, H5P_DEFAULT) : -1;
    int rank = 2 + have->ndim, rc = vd >= 0 ? 0 : -1;
    size_t Ns = have->n_points, own = 1, full = 1;
    for (int d = 0; d < have->ndim; d++) own *= s->dims[d], full *= have->dims[d];
    /* point [i, 0:Ns]: the run's indices, -1 after them */
    long long *pt = malloc((Ns + 1) * sizeof *pt);
    if (!rc && !pt) rc = -1;
    for (size_t j = 0; !rc && j < Ns; j++) pt[j] = j < s->n ? s->point[j] : -1;
    hsize_t start[MAX_RANK] = {i, 0}, count[MAX_RANK] = {1, Ns};
    if (!rc && Ns) *what = HS_SERIES_POINT, rc = write_block(pd, H5T_NATIVE_LLONG, 2, start, count, pt);
    free(pt);
    /* values [i, 0:n, 0:own dims] straight from the caller's contiguous buffer */
    count[1] = s->n;
    for (int d = 0; d < have->ndim; d++) count[2 + d] = s->dims[d];
    if (!rc && s->n && own) *what = HS_SERIES_VALUES, rc = write_block(vd, H5T_NATIVE_DOUBLE, rank, start, count, s->values);
    /* values [i, n:Ns, all dims] = NaN, in blocks of about CHUNK_BYTES, so that a stopped
     * attempt's later points do not survive a shorter rerun */
    size_t per = full ? (CHUNK_BYTES / sizeof(double)) / full : 0, left = Ns - s->n;
    if (per < 1) per = 1;
    if (per > left) per = left;
    double *nan = !rc && full && left ? malloc(per * full * sizeof *nan) : NULL;
    if (!rc && full && left && !nan) rc = -1;
    for (size_t k = 0; nan && k < per * full; k++) nan[k] = NAN;
    for (int d = 0; d < have->ndim; d++) count[2 + d] = have->dims[d];
    for (size_t j = s->n; !rc && nan && j < Ns; j += count[1]) {
        start[1] = j, count[1] = Ns - j < per ? Ns - j : per;
        *what = HS_SERIES_VALUES, rc = write_block(vd, H5T_NATIVE_DOUBLE, rank, start, count, nan);
    }
    free(nan);
    if (vd >= 0) H5Dclose(vd);
    if (pd >= 0) H5Dclose(pd);
    if (sg >= 0) H5Gclose(sg);
    if (g >= 0) H5Gclose(g);
    return rc;
}

hs_code hs_results_write_series(hs_results *f, size_t i, const hs_store_series *series, size_t n_series,
                                hs_error *err) {
    if (i >= f->n_runs) return HS_FAIL(err, HS_ERR_INTERNAL, "run %zu of %zu", i, f->n_runs);
    for (size_t k = 0; k < n_series; k++) {
        const hs_store_series *s = &series[k];
        const series_info *have = series_find(f, s->name);
        if (!have) return HS_FAIL(err, HS_ERR_INTERNAL, "%s: no series '%s' in the file (run %s)", f->path, s->name, f->ids[i]);
        if (s->n && (!s->point || !s->values))
            return HS_FAIL(err, HS_ERR_INTERNAL, "%s: run %s's series '%s' has %zu points but no data", f->path,
                           f->ids[i], s->name, s->n);
        int fits = have->ndim == s->ndim && s->n <= have->n_points;
        for (int d = 0; fits && d < s->ndim; d++) fits = s->dims[d] <= have->dims[d];
        if (!fits)
            return HS_FAIL(err, HS_ERR_INTERNAL,
                           "%s: run %s's series '%s' (%zu points, ndim %d) does not fit the file's (%zu points, ndim %d)",
                           f->path, f->ids[i], s->name, s->n, s->ndim, have->n_points, have->ndim);
        const char *what = "";
        if (write_one_series(f, i, s, have, &what)) {
            cause_buf cb;
            const char *cause = h5_cause(&cb, f->path);
            return HS_FAIL(err, HS_ERR_IO, "%s: cannot write run %s (" HS_PATH_SERIES "/%s/%s)%s%s", f->path, f->ids[i], s->name,
                           what, cause[0] ? ": " : "", cause);
        }
    }
    return HS_OK;
}

hs_code hs_results_close(hs_results *f, hs_error *err) {
    if (!f) return HS_OK;
    hs_code rc = HS_OK;
    live_close(f);
    if (f->file >= 0 && H5Fclose(f->file) < 0) rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot close the results file", f->path);
    f->file = -1;
    results_free(f);
    return rc;
}

/* ================================================================ summary (serial) */

/* "3m10s", "2h05m". */
static void fmt_span(double s, char *buf, size_t n) {
    if (!isfinite(s) || s < 0) snprintf(buf, n, "?");
    else if (s < 60) snprintf(buf, n, "%.0fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

/* The last two sessions both drained (a signal, e.g. a time limit) without finishing a run or
 * saving a checkpoint: requeueing again would only repeat them. */
static int sessions_stalled(const char *sessions) {
    if (!sessions) return 0;
    int stalled_in_a_row = 0;
    for (const char *line = sessions; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf ? n : sizeof buf - 1), line);
        const char *p = strstr(buf, "progressed="), *d = strstr(buf, "drained=");
        double progressed = p ? strtod(p + 11, NULL) : 1;
        int drained = d ? atoi(d + 8) : 0;
        stalled_in_a_row = drained && progressed == 0 ? stalled_in_a_row + 1 : 0;
        line += n + (end ? 1 : 0);
    }
    return stalled_in_a_row >= 2;
}

hs_code hs_results_describe(const char *path, hs_str *out, hs_results_census *census, hs_error *err) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    memset(census, 0, sizeof *census);
    /* who writes it, first: a reader never takes the lock, and never opens the file for writing */
    hs_lock_info owner = {0};
    hs_lock_state ls = HS_LOCK_NONE;
    hs_error lerr = {0};
    if (hs_lock_inspect(path, &owner, &ls, &lerr) != HS_OK) ls = HS_LOCK_NONE;
    census->writer = ls;
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        HS_FAIL(err, HS_ERR_IO, "%s: cannot open as an HDF5 file", path);
        hs_error_hint(err, ls == HS_LOCK_LIVE ? "a writer is creating it right now: ask again in a moment"
                                              : "a results file is written by `hsweep run ... -o FILE`");
        return HS_ERR_IO;
    }
    char *format = attr_read_string(file, HS_ATTR_FORMAT), *spec = attr_read_string(file, HS_ATTR_SPEC_PATH);
    char *sha = attr_read_string(file, HS_ATTR_SPEC_SHA256), *created = attr_read_string(file, HS_ATTR_CREATED);
    char *sessions = attr_read_string(file, HS_ATTR_SESSIONS), *overrides = attr_read_string(file, HS_ATTR_OVERRIDES);
    hs_code rc = HS_OK;
    hid_t runs = -1, t_id = str_type(HS_ID_LEN), t_err = str_type(HS_ERROR_LEN), st = make_state_type();
    hsize_t d1[1] = {0};
    char (*ids)[HS_ID_LEN] = NULL, (*errs)[HS_ERROR_LEN] = NULL;
    unsigned char *states = NULL;
    double *wall = NULL, *start = NULL;
    int *ranks = NULL, *attempts = NULL, *in_plan = NULL;
    long long *steps = NULL, *total = NULL, *epochs = NULL;
    if (!format || strcmp(format, HS_RESULTS_FORMAT) != 0) {
        rc = HS_FAIL(err, HS_ERR_VALUE, "%s: not an hsweep results file (no " HS_ATTR_FORMAT " attribute \"" HS_RESULTS_FORMAT "\")", path);
        goto out;
    }
    runs = H5Gopen2(file, HS_GROUP_RUNS, H5P_DEFAULT);
    if (runs < 0 || dims_of(runs, HS_RUNS_ID, d1, 1)) {
        rc = HS_FAIL(err, HS_ERR_VALUE, "%s: missing " HS_PATH_RUNS_ID, path);
        goto out;
    }
    size_t R = d1[0];
    ids = calloc(R + 1, sizeof *ids), errs = calloc(R + 1, sizeof *errs), states = calloc(R + 1, 1);
    wall = calloc(R + 1, sizeof *wall), start = calloc(R + 1, sizeof *start), ranks = calloc(R + 1, sizeof *ranks);
    attempts = calloc(R + 1, sizeof *attempts), in_plan = calloc(R + 1, sizeof *in_plan);
    steps = calloc(R + 1, sizeof *steps), total = calloc(R + 1, sizeof *total), epochs = calloc(R + 1, sizeof *epochs);
    if (!ids || !errs || !states || !wall || !start || !ranks || !attempts || !in_plan || !steps || !total || !epochs) {
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (R && read_1d(runs, HS_RUNS_ID, t_id, R, ids) == 0) R = rows_with_id((const char(*)[HS_ID_LEN])ids, R);
    if (R && (read_1d(runs, HS_RUNS_ID, t_id, R, ids) || read_1d(runs, HS_RUNS_STATUS, st, R, states) ||
              read_1d(runs, HS_RUNS_ERROR, t_err, R, errs) || read_1d(runs, HS_RUNS_WALL, H5T_NATIVE_DOUBLE, R, wall) ||
              read_1d(runs, HS_RUNS_START, H5T_NATIVE_DOUBLE, R, start) || read_1d(runs, HS_RUNS_RANK, H5T_NATIVE_INT, R, ranks) ||
              read_1d(runs, HS_RUNS_ATTEMPTS, H5T_NATIVE_INT, R, attempts) ||
              read_1d(runs, HS_RUNS_STEPS, H5T_NATIVE_LLONG, R, steps) ||
              read_1d(runs, HS_RUNS_EPOCHS_DONE, H5T_NATIVE_LLONG, R, epochs))) {
        rc = HS_FAIL(err, HS_ERR_VALUE, "%s: cannot read the run table", path);
        goto out;
    }
    /* columns of later versions: absent in older files */
    for (size_t r = 0; r < R; r++) in_plan[r] = 1, total[r] = -1;
    if (R && H5Lexists(runs, HS_RUNS_IN_PLAN, H5P_DEFAULT) > 0) read_1d(runs, HS_RUNS_IN_PLAN, H5T_NATIVE_INT, R, in_plan);
    if (R && H5Lexists(runs, HS_RUNS_STEPS_TOTAL, H5P_DEFAULT) > 0) read_1d(runs, HS_RUNS_STEPS_TOTAL, H5T_NATIVE_LLONG, R, total);
    double total_wall = 0, now = (double)time(NULL);
    size_t finished = 0, *count = census->states;
    census->runs = R;
    for (size_t r = 0; r < R; r++) {
        if (!in_plan[r]) {
            census->orphans++;
            continue;
        }
        if (states[r] < HS_STATE_COUNT) count[states[r]]++;
        if ((states[r] == HS_STATE_DONE || states[r] == HS_STATE_DIVERGED) && isfinite(wall[r]))
            total_wall += wall[r], finished++;
    }
    census->stalled = sessions_stalled(sessions);
    size_t n_sessions = 0;
    for (const char *c = sessions; c && *c; c++) n_sessions += *c == '\n';
    for (char *c = overrides; c && *c; c++)
        if (*c == '\n') *c = ' '; /* one --set per line in the file, one line here */
    hs_str_printf(out, "%s: spec %s (sha256 %.12s)%s%s, created %s, %zu job%s ended cleanly\n", path,
                  spec ? spec : "?", sha ? sha : "?", overrides && overrides[0] ? " with --set " : "",
                  overrides && overrides[0] ? overrides : "", created ? created : "?", n_sessions,
                  n_sessions == 1 ? "" : "s");
    char who[512] = "";
    if (ls != HS_LOCK_NONE) hs_lock_describe(&owner, who, sizeof who);
    if (ls == HS_LOCK_LIVE) hs_str_printf(out, "writer: live: %s\n", who);
    else if (ls == HS_LOCK_STALE) hs_str_printf(out, "writer: gone (stale lock: %s); --resume takes the lock over\n", who);
    hs_str_printf(out, "%zu runs: %zu done, %zu diverged, %zu failed, %zu running, %zu pending", R - census->orphans,
                  count[HS_STATE_DONE], count[HS_STATE_DIVERGED], count[HS_STATE_FAILED], count[HS_STATE_RUNNING],
                  count[HS_STATE_PENDING]);
    if (census->orphans)
        hs_str_printf(out, "; and %zu rows kept from an earlier spec (not in the current plan, never run again)",
                      census->orphans);
    hs_str_printf(out, "\n");
    if (finished)
        hs_str_printf(out, "training time: %.1f s in finished runs (%.2f s per run)\n", total_wall,
                      total_wall / (double)finished);
    static const struct {
        hs_run_state s;
        const char *title;
    } lists[] = {{HS_STATE_FAILED, "failed (an error, or a rank that died sweep.max_attempts times)"},
                 {HS_STATE_DIVERGED, "diverged (the loss became non-finite: a result, not an error)"}};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        if (!count[lists[l].s]) continue;
        hs_str_printf(out, "%s:\n", lists[l].title);
        for (size_t r = 0; r < R; r++)
            if (in_plan[r] && states[r] == lists[l].s)
                hs_str_printf(out, "  %s  rank %d  attempt %d  %s\n", ids[r], ranks[r], attempts[r], errs[r]);
    }
    if (count[HS_STATE_RUNNING]) {
        hs_str_printf(out, "%s:\n", ls == HS_LOCK_LIVE ? "running now" : "running when their job died (each such attempt counts; --resume trains them again)");
        for (size_t r = 0; r < R; r++) {
            if (!in_plan[r] || states[r] != HS_STATE_RUNNING) continue;
            hs_str_printf(out, "  %s  rank %d  attempt %d", ids[r], ranks[r], attempts[r]);
            if (total[r] > 0 && steps[r] >= 0) {
                double frac = (double)steps[r] / (double)total[r], el = now - start[r];
                hs_str_printf(out, "  step %lld of %lld (%.0f%%), epoch %lld", steps[r], total[r], 100 * frac, epochs[r]);
                if (ls == HS_LOCK_LIVE && frac > 0 && isfinite(el)) {
                    char eta[32];
                    fmt_span(el * (1 - frac) / frac, eta, sizeof eta);
                    hs_str_printf(out, ", ETA %s", eta);
                }
            }
            hs_str_printf(out, "\n");
        }
    }
    size_t left = count[HS_STATE_PENDING] + count[HS_STATE_RUNNING];
    const char *resume = "`hsweep run SPEC -o FILE --resume`";
    hs_str cmd = {0};
    if (hs_str_printf(&cmd, "`hsweep run %s -o %s --resume`", spec ? spec : "SPEC", path) == HS_OK) resume = cmd.buf;
    if (ls == HS_LOCK_LIVE)
        hs_str_printf(out, "being written: do not resume or analyse it until the writer ends (stop it with SIGUSR1 "
                           "or SIGTERM: it drains and closes the file)\n");
    else if (left && census->stalled)
        hs_str_printf(out, "stalled: the last two jobs ended without finishing a run or saving a checkpoint; check "
                           "the log (%s.log) before resuming with %s\n", path, resume);
    else if (left)
        hs_str_printf(out, "incomplete: %zu runs left; continue with %s%s\n", left, resume,
                      count[HS_STATE_FAILED] ? " (add --retry-failed to redo failed runs)" : "");
    else if (count[HS_STATE_FAILED])
        hs_str_printf(out, "complete with %zu failed runs: the analyses use the others; %s --retry-failed runs them "
                           "again\n", count[HS_STATE_FAILED], resume);
    else
        hs_str_printf(out, "complete\n");
    hs_str_free(&cmd);
out:
    free(ids), free(errs), free(states), free(wall), free(start), free(ranks), free(attempts), free(in_plan);
    free(steps), free(total), free(epochs);
    free(format), free(spec), free(sha), free(created), free(sessions), free(overrides);
    if (st >= 0) H5Tclose(st);
    if (t_id >= 0) H5Tclose(t_id);
    if (t_err >= 0) H5Tclose(t_err);
    if (runs >= 0) H5Gclose(runs);
    H5Fclose(file);
    return rc;
}
