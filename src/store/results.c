/* results.c - the sweep's results file (layout in include/hsweep/store.h).
 *
 * Parallel-HDF5 rules this file lives by: every call that touches metadata (create/open/close
 * of the file, creation of datasets, groups and attributes, extent changes) is made by every rank
 * with the same arguments, and only in create/open/close. Between those, ranks write raw data of
 * their own runs with independent transfers. Datasets are chunked along the run axis (so a resume
 * can append runs) without filters; parallel HDF5 allocates their space at creation, so later
 * writes change no metadata. A run's rows are contiguous bytes in the file, so two ranks never
 * write the same bytes even when their rows share a chunk. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hsweep/store.h"
#include "hsweep/util.h"

#define FORMAT "hsweep-results/1"
#define ID_LEN 17     /* 16 hex digits + NUL */
#define ERROR_LEN 256 /* stored error messages are cut to this */
#define CHUNK_RUNS 64

static const char *const state_names[HS_STATE_COUNT] = {"pending", "running", "done", "failed", "diverged"};

const char *hs_run_state_to_string(hs_run_state s) { return (unsigned)s < HS_STATE_COUNT ? state_names[s] : "?"; }

struct hs_results {
    hid_t file;
    char *path;
    size_t n_runs, n_records, n_metrics, max_layers, n_layer_metrics;
    char **metrics, **layer_metrics;
    char (*ids)[ID_LEN];
    unsigned char *states;
    hid_t state_type;
    char *attr_text[6];
};

static const char *const attr_names[6] = {"format", "hsweep_version", "spec", "spec_path", "spec_sha256",
                                          "plan_digest"};

/* ================================================================ small HDF5 helpers */

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

/* Create a dataset of `rank` dims [n_runs, ...] chunked along runs, unlimited along runs. */
static hid_t create_ds(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims, const void *fill) {
    hsize_t maxdims[3], chunk[3];
    for (int d = 0; d < rank; d++) maxdims[d] = H5S_UNLIMITED, chunk[d] = dims[d] ? dims[d] : 1;
    chunk[0] = dims[0] < CHUNK_RUNS ? (dims[0] ? dims[0] : 1) : CHUNK_RUNS;
    hid_t space = H5Screate_simple(rank, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = -1;
    if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, rank, chunk) >= 0 &&
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) >= 0 &&
        (!fill || (H5Pset_fill_value(dcpl, type, fill) >= 0 && H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC) >= 0)))
        ds = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return ds;
}

/* Write `count` elements of a 1-D dataset starting at `start` from buf (memory type mtype). */
static int write_1d(hid_t loc, const char *name, hid_t mtype, hsize_t start, hsize_t count, const void *buf) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t fs = H5Dget_space(ds);
    hid_t ms = H5Screate_simple(1, &count, NULL);
    int ok = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
             H5Dwrite(ds, mtype, ms, fs, H5P_DEFAULT, buf) >= 0;
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
    free(f->metrics);
    free(f->layer_metrics);
    free(f->ids);
    free(f->states);
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
} book[] = {{"status", BOOK_STATE}, {"rank", BOOK_I32},        {"attempts", BOOK_I32},
            {"start", BOOK_F64},    {"end", BOOK_F64},         {"wall", BOOK_F64},
            {"epochs_done", BOOK_I64}, {"steps", BOOK_I64},    {"error", BOOK_ERR}};

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
    if (col->type == HS_COL_STR) t = ts = str_type(str_width(col->s, n_values, 32));
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
    size_t n = to - from, wc = ds_str_size(runs, "config");
    double *dv = malloc(n * sizeof *dv);
    int *iv = malloc(n * sizeof *iv), *zv = calloc(n, sizeof *zv);
    long long *lv = calloc(n, sizeof *lv);
    unsigned char *sv = calloc(n, 1); /* HS_STATE_PENDING == 0 */
    char *ev = calloc(n, ERROR_LEN), *ids = pack(L->ids, from, to, ID_LEN);
    char *cfg = wc ? pack(L->configs, from, to, wc) : NULL;
    hid_t t_id = str_type(ID_LEN), t_cfg = str_type(wc ? wc : 1), t_err = str_type(ERROR_LEN);
    int rc = !dv || !iv || !zv || !lv || !sv || !ev || !ids || t_id < 0 || t_cfg < 0 || t_err < 0 ? -1 : 0;
    if (!cfg) rc = -1, *what = "/runs/config (a config longer than the column allows: write to a new file)";
    for (size_t r = 0; !rc && r < n; r++) dv[r] = NAN, iv[r] = -1;
    if (!rc) rc = write_1d(runs, "id", t_id, from, n, ids);
    if (!rc) rc = write_1d(runs, "config", t_cfg, from, n, cfg);
    if (!rc) rc = write_1d(runs, "rank", H5T_NATIVE_INT, from, n, iv);
    if (!rc) rc = write_1d(runs, "attempts", H5T_NATIVE_INT, from, n, zv);
    if (!rc) rc = write_1d(runs, "start", H5T_NATIVE_DOUBLE, from, n, dv);
    if (!rc) rc = write_1d(runs, "end", H5T_NATIVE_DOUBLE, from, n, dv);
    if (!rc) rc = write_1d(runs, "wall", H5T_NATIVE_DOUBLE, from, n, dv);
    if (!rc) rc = write_1d(runs, "epochs_done", H5T_NATIVE_LLONG, from, n, lv);
    if (!rc) rc = write_1d(runs, "steps", H5T_NATIVE_LLONG, from, n, lv);
    if (!rc) rc = write_1d(runs, "error", t_err, from, n, ev);
    if (!rc) rc = write_1d(runs, "status", f->state_type, from, n, sv);
    free(dv), free(iv), free(zv), free(lv), free(sv), free(ev), free(ids), free(cfg);
    if (t_id >= 0) H5Tclose(t_id);
    if (t_cfg >= 0) H5Tclose(t_cfg);
    if (t_err >= 0) H5Tclose(t_err);
    return rc;
}

/* ================================================================ create */

/* The prologue: every dataset of the layout, collectively. Returns 0 or -1 with what in `what`. */
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
    if (attr_string(file, "format", FORMAT) || attr_string(file, "hsweep_version", L->hsweep_version) ||
        attr_int(file, "schema_version", L->schema_version) || attr_string(file, "spec", L->spec_text) ||
        attr_string(file, "spec_path", L->spec_path) || attr_string(file, "plan_digest", L->plan_digest) ||
        attr_string(file, "created", buf))
        return -1;
    {
        uint8_t digest[32];
        hs_sha256(L->spec_text, strlen(L->spec_text), digest);
        char hex[65];
        for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
        if (attr_string(file, "spec_sha256", hex)) return -1;
    }

    hid_t runs = H5Gcreate2(file, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t recs = H5Gcreate2(file, "records", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t lays = H5Gcreate2(file, "layers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = runs < 0 || recs < 0 || lays < 0 ? -1 : 0;

    /* Fixed-length strings, twice as wide as the longest value so that runs appended by a
     * later resume (a grown plan) usually fit. */
    size_t cfg_len = str_width(L->configs, R, 256);
    hid_t t_id = str_type(ID_LEN), t_cfg = str_type(cfg_len), t_err = str_type(ERROR_LEN);
    if (t_id < 0 || t_cfg < 0 || t_err < 0) rc = -1;
    const double nan = NAN;

    /* Metadata first (collective creation); the run table's values follow from rank 0 alone. */
    if (!rc) *what = "/runs datasets";
    hid_t ds;
    if (!rc && (ds = create_ds(runs, "id", t_id, 1, d1, NULL)) >= 0) H5Dclose(ds);
    else rc = -1;
    if (!rc && (ds = create_ds(runs, "config", t_cfg, 1, d1, NULL)) >= 0) H5Dclose(ds);
    else rc = -1;
    for (size_t c = 0; !rc && c < sizeof book / sizeof book[0]; c++) {
        if ((ds = create_ds(runs, book[c].name, book_type(c, f->state_type, t_err), 1, d1, NULL)) < 0) rc = -1;
        else H5Dclose(ds);
    }
    for (size_t c = 0; !rc && c < L->n_cols; c++) rc = create_col(runs, &L->cols[c], R, R);
    if (!rc) *what = "/records and /layers datasets";
    for (size_t m = 0; !rc && m < L->n_metrics; m++) {
        if ((ds = create_ds(recs, L->metrics[m], H5T_IEEE_F64LE, 2, d2, &nan)) < 0) rc = -1;
        else H5Dclose(ds);
    }
    for (size_t m = 0; !rc && m < L->n_layer_metrics; m++) {
        if ((ds = create_ds(lays, L->layer_metrics[m], H5T_IEEE_F64LE, 3, d3, &nan)) < 0) rc = -1;
        else H5Dclose(ds);
    }

    /* The run table's values: one rank writes them (independent I/O) before the flush. */
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (!rc && rank == 0 && R > 0) {
        *what = "the run table";
        rc = write_rows(f, runs, L, 0, R, what);
        for (size_t c = 0; !rc && c < L->n_cols; c++) rc = write_col(runs, &L->cols[c], 0, R, what);
    }
    if (t_id >= 0) H5Tclose(t_id);
    if (t_cfg >= 0) H5Tclose(t_cfg);
    if (t_err >= 0) H5Tclose(t_err);
    if (runs >= 0) H5Gclose(runs);
    if (recs >= 0) H5Gclose(recs);
    if (lays >= 0) H5Gclose(lays);
    return rc;
}

hs_code hs_results_create(MPI_Comm comm, const char *path, const hs_results_layout *L, hs_results **out,
                          hs_error *err) {
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hs_results *f = results_new(path);
    if (!f) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    f->n_runs = L->n_runs, f->n_records = L->n_records, f->max_layers = L->max_layers;
    f->n_metrics = L->n_metrics, f->n_layer_metrics = L->n_layer_metrics;
    f->metrics = copy_names(L->metrics, L->n_metrics);
    f->layer_metrics = copy_names(L->layer_metrics, L->n_layer_metrics);
    f->ids = calloc(L->n_runs ? L->n_runs : 1, sizeof *f->ids);
    f->states = calloc(L->n_runs ? L->n_runs : 1, 1);
    if (!f->metrics || !f->layer_metrics || !f->ids || !f->states) {
        results_free(f);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; r < L->n_runs; r++) snprintf(f->ids[r], ID_LEN, "%s", L->ids[r]);

    hid_t fapl = file_access(comm);
    f->file = fapl >= 0 ? H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl) : -1;
    if (fapl >= 0) H5Pclose(fapl);
    if (f->file < 0) {
        results_free(f);
        HS_FAIL(err, HS_ERR_IO, "%s: cannot create the results file", path);
        hs_error_hint(err, "check that the folder exists and is writable on every node; on file systems "
                           "without locking set HDF5_USE_FILE_LOCKING=FALSE");
        return HS_ERR_IO;
    }
    const char *what = "";
    int rc = create_layout(comm, f, L, &what);
    int all = 0;
    MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm);
    if (all < 0 || H5Fflush(f->file, H5F_SCOPE_GLOBAL) < 0) {
        H5Fclose(f->file);
        f->file = -1;
        results_free(f);
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot create %s", path, what);
    }
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

static int read_1d(hid_t loc, const char *name, hid_t mtype, void *buf) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    int ok = H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
    H5Dclose(ds);
    return ok ? 0 : -1;
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
    if (!f->attr_text[0] || strcmp(f->attr_text[0], FORMAT) != 0) why = "not an hsweep results file (format attribute)";
    hid_t runs = why ? -1 : H5Gopen2(f->file, "runs", H5P_DEFAULT);
    hid_t recs = runs >= 0 ? H5Gopen2(f->file, "records", H5P_DEFAULT) : -1;
    hid_t lays = recs >= 0 ? H5Gopen2(f->file, "layers", H5P_DEFAULT) : -1;
    if (!why && lays < 0) why = "missing /runs, /records or /layers";
    hsize_t d1[1] = {0};
    if (!why && dims_of(runs, "id", d1, 1)) why = "missing /runs/id";
    if (!why) {
        f->n_runs = d1[0];
        f->ids = calloc(f->n_runs ? f->n_runs : 1, sizeof *f->ids);
        f->states = calloc(f->n_runs ? f->n_runs : 1, 1);
        hid_t t_id = str_type(ID_LEN);
        if (!f->ids || !f->states || t_id < 0) why = "out of memory";
        else if (read_1d(runs, "id", t_id, f->ids) || read_1d(runs, "status", f->state_type, f->states))
            why = "cannot read /runs/id or /runs/status";
        if (t_id >= 0) H5Tclose(t_id);
    }
    if (!why) {
        f->metrics = list_names(recs, &f->n_metrics);
        f->layer_metrics = list_names(lays, &f->n_layer_metrics);
        hsize_t d2[2] = {0}, d3[3] = {0};
        if (!f->metrics || !f->layer_metrics) why = "cannot list /records or /layers";
        else if (f->n_metrics && dims_of(recs, f->metrics[0], d2, 2)) why = "malformed /records dataset";
        else if (f->n_layer_metrics && dims_of(lays, f->layer_metrics[0], d3, 3)) why = "malformed /layers dataset";
        f->n_records = d2[1] ? d2[1] : d3[1];
        f->max_layers = d3[2];
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
    static const char *const group[2] = {"records", "layers"};
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

size_t hs_results_n_runs(const hs_results *f) { return f->n_runs; }
size_t hs_results_n_records(const hs_results *f) { return f->n_records; }
size_t hs_results_max_layers(const hs_results *f) { return f->max_layers; }
const char *hs_results_id(const hs_results *f, size_t i) { return i < f->n_runs ? f->ids[i] : NULL; }
hs_run_state hs_results_state(const hs_results *f, size_t i) {
    return i < f->n_runs ? (hs_run_state)f->states[i] : HS_STATE_PENDING;
}
const char *hs_results_attr(const hs_results *f, const char *name) {
    for (int a = 0; a < 6; a++)
        if (!strcmp(name, attr_names[a])) return f->attr_text[a];
    return NULL;
}

/* ================================================================ grow (resume of a grown plan) */

/* Collective: set the extent of every dataset in group to at least (R, N, L) (per its rank). */
static int extend_group(hid_t file, const char *group, hsize_t R, hsize_t N, hsize_t L) {
    hid_t g = H5Gopen2(file, group, H5P_DEFAULT);
    if (g < 0) return -1;
    size_t n = 0;
    char **names = list_names(g, &n);
    int rc = names ? 0 : -1;
    for (size_t i = 0; !rc && i < n; i++) {
        hid_t ds = H5Dopen2(g, names[i], H5P_DEFAULT);
        hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
        int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
        hsize_t dims[3] = {0}, want[3] = {R, N, L};
        if (rank < 1 || rank > 3 || H5Sget_simple_extent_dims(sp, dims, NULL) < 0) rc = -1;
        for (int d = 0; !rc && d < rank; d++)
            if (want[d] > dims[d]) dims[d] = want[d];
        if (!rc && H5Dset_extent(ds, dims) < 0) rc = -1;
        if (sp >= 0) H5Sclose(sp);
        if (ds >= 0) H5Dclose(ds);
    }
    for (size_t i = 0; names && i < n; i++) free(names[i]);
    free(names);
    H5Gclose(g);
    return rc;
}

static int replace_attr(hid_t obj, const char *name, const char *value) {
    if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0) return -1;
    return attr_string(obj, name, value);
}

hs_code hs_results_grow(MPI_Comm comm, hs_results *f, const hs_results_layout *L, hs_error *err) {
    size_t old_R = f->n_runs, R = L->n_runs;
    if (R < old_R) return HS_FAIL(err, HS_ERR_INTERNAL, "grow from %zu to %zu runs", old_R, R);
    for (size_t r = 0; r < old_R; r++)
        if (strcmp(f->ids[r], L->ids[r]) != 0)
            return HS_FAIL(err, HS_ERR_INTERNAL, "grow: run %zu is %s in the file but %s in the plan", r, f->ids[r],
                           L->ids[r]);
    size_t N = L->n_records > f->n_records ? L->n_records : f->n_records;
    size_t Lm = L->max_layers > f->max_layers ? L->max_layers : f->max_layers;
    const char *what = "datasets";
    int rc = extend_group(f->file, "runs", R, N, Lm) || extend_group(f->file, "records", R, N, Lm) ||
             extend_group(f->file, "layers", R, N, Lm);
    hid_t runs = rc ? -1 : H5Gopen2(f->file, "runs", H5P_DEFAULT);
    if (!rc && runs < 0) rc = -1;
    /* key columns that vary only now: new datasets (collective), filled for every run below */
    unsigned char *fresh = calloc(L->n_cols + 1, 1);
    if (!fresh) rc = -1;
    for (size_t c = 0; !rc && c < L->n_cols; c++)
        if (H5Lexists(runs, L->cols[c].name, H5P_DEFAULT) <= 0) {
            fresh[c] = 1;
            rc = create_col(runs, &L->cols[c], R, R);
        }
    if (!rc) {
        uint8_t digest[32];
        char hex[65];
        hs_sha256(L->spec_text, strlen(L->spec_text), digest);
        for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
        what = "root attributes";
        rc = replace_attr(f->file, "spec", L->spec_text) || replace_attr(f->file, "spec_path", L->spec_path) ||
             replace_attr(f->file, "spec_sha256", hex) || replace_attr(f->file, "plan_digest", L->plan_digest);
    }
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (!rc && rank == 0) {
        what = "the new rows";
        rc = write_rows(f, runs, L, old_R, R, &what);
        for (size_t c = 0; !rc && c < L->n_cols; c++)
            rc = fresh[c] ? write_col(runs, &L->cols[c], 0, R, &what) : write_col(runs, &L->cols[c], old_R, R, &what);
    }
    free(fresh);
    if (runs >= 0) H5Gclose(runs);
    int all = 0;
    MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm);
    if (all < 0 || H5Fflush(f->file, H5F_SCOPE_GLOBAL) < 0)
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot append %zu runs (%s)", f->path, R - old_R, what);
    char (*ids)[ID_LEN] = realloc(f->ids, R * sizeof *ids);
    unsigned char *states = ids ? realloc(f->states, R) : NULL;
    if (ids) f->ids = ids;
    if (states) f->states = states;
    if (!ids || !states) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (size_t r = old_R; r < R; r++) snprintf(f->ids[r], ID_LEN, "%s", L->ids[r]), f->states[r] = HS_STATE_PENDING;
    f->n_runs = R, f->n_records = N, f->max_layers = Lm;
    return HS_OK;
}

/* ================================================================ per-run writes (independent) */

hs_code hs_results_mark_running(hs_results *f, size_t i, int rank, double start, hs_error *err) {
    if (i >= f->n_runs) return HS_FAIL(err, HS_ERR_INTERNAL, "run %zu of %zu", i, f->n_runs);
    hid_t runs = H5Gopen2(f->file, "runs", H5P_DEFAULT);
    unsigned char st = HS_STATE_RUNNING;
    int ok = runs >= 0 && !write_1d(runs, "rank", H5T_NATIVE_INT, i, 1, &rank) &&
             !write_1d(runs, "start", H5T_NATIVE_DOUBLE, i, 1, &start) &&
             !write_1d(runs, "status", f->state_type, i, 1, &st);
    if (runs >= 0) H5Gclose(runs);
    if (!ok) return HS_FAIL(err, HS_ERR_IO, "%s: cannot mark run %s running", f->path, f->ids[i]);
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
    hid_t recs = H5Gopen2(f->file, "records", H5P_DEFAULT), lays = H5Gopen2(f->file, "layers", H5P_DEFAULT);
    hid_t runs = H5Gopen2(f->file, "runs", H5P_DEFAULT);
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
        char msg[ERROR_LEN] = {0};
        snprintf(msg, sizeof msg, "%s", row->error ? row->error : "");
        hid_t t_err = str_type(ERROR_LEN);
        unsigned char st = (unsigned char)row->state;
        what = "the run table";
        rc = t_err < 0 || write_1d(runs, "rank", H5T_NATIVE_INT, i, 1, &row->rank) ||
                     write_1d(runs, "attempts", H5T_NATIVE_INT, i, 1, &row->attempts) ||
                     write_1d(runs, "start", H5T_NATIVE_DOUBLE, i, 1, &row->start) ||
                     write_1d(runs, "end", H5T_NATIVE_DOUBLE, i, 1, &row->end) ||
                     write_1d(runs, "wall", H5T_NATIVE_DOUBLE, i, 1, &row->wall) ||
                     write_1d(runs, "epochs_done", H5T_NATIVE_LLONG, i, 1, &row->epochs_done) ||
                     write_1d(runs, "steps", H5T_NATIVE_LLONG, i, 1, &row->steps) ||
                     write_1d(runs, "error", t_err, i, 1, msg)
                 ? -1
                 : 0;
        /* the commit marker: written last, so a reader never sees "done" without the data */
        if (!rc) rc = write_1d(runs, "status", f->state_type, i, 1, &st);
        if (!rc) f->states[i] = st;
        if (t_err >= 0) H5Tclose(t_err);
    }
    if (recs >= 0) H5Gclose(recs);
    if (lays >= 0) H5Gclose(lays);
    if (runs >= 0) H5Gclose(runs);
    free(buf);
    if (rc) return HS_FAIL(err, HS_ERR_IO, "%s: cannot write run %s (%s)", f->path, f->ids[i], what);
    return HS_OK;
}

hs_code hs_results_close(hs_results *f, hs_error *err) {
    if (!f) return HS_OK;
    hs_code rc = HS_OK;
    if (f->file >= 0 && H5Fclose(f->file) < 0) rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot close the results file", f->path);
    f->file = -1;
    results_free(f);
    return rc;
}

/* ================================================================ summary (serial) */

hs_code hs_results_describe(const char *path, hs_str *out, size_t *counts_out, hs_error *err) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        HS_FAIL(err, HS_ERR_IO, "%s: cannot open as an HDF5 file", path);
        hs_error_hint(err, "a results file is written by `hsweep run ... -o FILE`");
        return HS_ERR_IO;
    }
    char *format = attr_read_string(file, "format"), *spec = attr_read_string(file, "spec_path");
    char *sha = attr_read_string(file, "spec_sha256"), *created = attr_read_string(file, "created");
    hs_code rc = HS_OK;
    hid_t runs = -1, t_id = str_type(ID_LEN), t_err = str_type(ERROR_LEN), st = make_state_type();
    hsize_t d1[1] = {0};
    char (*ids)[ID_LEN] = NULL, (*errs)[ERROR_LEN] = NULL;
    unsigned char *states = NULL;
    double *wall = NULL;
    int *ranks = NULL;
    if (!format || strcmp(format, FORMAT) != 0) {
        rc = HS_FAIL(err, HS_ERR_VALUE, "%s: not an hsweep results file (no format attribute \"" FORMAT "\")", path);
        goto out;
    }
    runs = H5Gopen2(file, "runs", H5P_DEFAULT);
    if (runs < 0 || dims_of(runs, "id", d1, 1)) {
        rc = HS_FAIL(err, HS_ERR_VALUE, "%s: missing /runs/id", path);
        goto out;
    }
    size_t R = d1[0];
    ids = calloc(R + 1, sizeof *ids), errs = calloc(R + 1, sizeof *errs), states = calloc(R + 1, 1);
    wall = calloc(R + 1, sizeof *wall), ranks = calloc(R + 1, sizeof *ranks);
    if (!ids || !errs || !states || !wall || !ranks) {
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (R && (read_1d(runs, "id", t_id, ids) || read_1d(runs, "status", st, states) ||
              read_1d(runs, "error", t_err, errs) || read_1d(runs, "wall", H5T_NATIVE_DOUBLE, wall) ||
              read_1d(runs, "rank", H5T_NATIVE_INT, ranks))) {
        rc = HS_FAIL(err, HS_ERR_VALUE, "%s: cannot read the run table", path);
        goto out;
    }
    size_t count[HS_STATE_COUNT] = {0};
    double total = 0;
    if (counts_out) memset(counts_out, 0, HS_STATE_COUNT * sizeof *counts_out);
    size_t finished = 0;
    for (size_t r = 0; r < R; r++) {
        if (states[r] < HS_STATE_COUNT) count[states[r]]++;
        if (counts_out && states[r] < HS_STATE_COUNT) counts_out[states[r]]++;
        if ((states[r] == HS_STATE_DONE || states[r] == HS_STATE_DIVERGED) && isfinite(wall[r]))
            total += wall[r], finished++;
    }
    hs_str_printf(out, "%s: spec %s (sha256 %.12s), created %s\n", path, spec ? spec : "?", sha ? sha : "?",
                  created ? created : "?");
    hs_str_printf(out, "%zu runs: %zu done, %zu diverged, %zu failed, %zu running, %zu pending\n", R,
                  count[HS_STATE_DONE], count[HS_STATE_DIVERGED], count[HS_STATE_FAILED], count[HS_STATE_RUNNING],
                  count[HS_STATE_PENDING]);
    if (finished)
        hs_str_printf(out, "training time: %.1f s in finished runs (%.2f s per run)\n", total, total / (double)finished);
    static const struct {
        hs_run_state s;
        const char *title;
    } lists[] = {{HS_STATE_FAILED, "failed"},
                 {HS_STATE_DIVERGED, "diverged"},
                 {HS_STATE_RUNNING, "running when the job stopped (--resume runs them again)"}};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        if (!count[lists[l].s]) continue;
        hs_str_printf(out, "%s:\n", lists[l].title);
        for (size_t r = 0; r < R; r++)
            if (states[r] == lists[l].s) hs_str_printf(out, "  %s  rank %d  %s\n", ids[r], ranks[r], errs[r]);
    }
    if (count[HS_STATE_PENDING] || count[HS_STATE_RUNNING] || count[HS_STATE_FAILED])
        hs_str_printf(out, "incomplete: continue with `hsweep run %s -o %s --resume`%s\n", spec ? spec : "SPEC", path,
                      count[HS_STATE_FAILED] ? " (add --retry-failed to redo failed runs)" : "");
    else
        hs_str_printf(out, "complete\n");
out:
    free(ids), free(errs), free(states), free(wall), free(ranks);
    free(format), free(spec), free(sha), free(created);
    if (st >= 0) H5Tclose(st);
    if (t_id >= 0) H5Tclose(t_id);
    if (t_err >= 0) H5Tclose(t_err);
    if (runs >= 0) H5Gclose(runs);
    H5Fclose(file);
    return rc;
}
