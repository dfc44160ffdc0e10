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
        (!fill || (H5Pset_fill_value(dcpl, type, fill) >= 0 && H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC) >= 0)))
        ds = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return ds;
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

/* Collective: /series/<name> for R runs, values NaN and point -1 everywhere, and its attributes. */
static int create_series(hid_t sg, const hs_results_series *s, size_t R) {
    hsize_t dv[MAX_RANK] = {R, s->n_points}, dp[2] = {R, s->n_points};
    for (int d = 0; d < s->ndim; d++) dv[2 + d] = s->dims[d];
    const double nan = NAN;
    const long long none = -1;
    hid_t g = H5Gcreate2(sg, s->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t v = g >= 0 ? create_series_ds(g, "values", H5T_IEEE_F64LE, 2 + s->ndim, dv, &nan) : -1;
    hid_t p = v >= 0 ? create_series_ds(g, "point", H5T_STD_I64LE, 2, dp, &none) : -1;
    int rc = p >= 0 && !attr_string(g, "axes", s->axes ? s->axes : "") &&
                     (s->every == 0 || !attr_int(g, "every", (long long)s->every))
                 ? 0
                 : -1;
    if (p >= 0) H5Dclose(p);
    if (v >= 0) H5Dclose(v);
    if (g >= 0) H5Gclose(g);
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
    if (!rc && L->n_series) {
        *what = "/series";
        hid_t sg = H5Gcreate2(file, "series", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (sg < 0) rc = -1;
        for (size_t k = 0; !rc && k < L->n_series; k++)
            if (create_series(sg, &L->series[k], R)) rc = -1, *what = L->series[k].name;
        if (sg >= 0) H5Gclose(sg);
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
    if (!f->metrics || !f->layer_metrics || !f->ids || !f->states || series_adopt(f, L->series, L->n_series)) {
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

/* The series of an opened file: every group under /series with its values' shape and axes.
 * Returns NULL when all is well, else why (the name of the bad series in *bad). */
static const char *open_series(hs_results *f, const char **bad) {
    if (H5Lexists(f->file, "series", H5P_DEFAULT) <= 0) return NULL; /* a file without series */
    hid_t sg = H5Gopen2(f->file, "series", H5P_DEFAULT);
    if (sg < 0) return "cannot open /series";
    size_t n = 0;
    char **names = list_names(sg, &n);
    const char *why = names ? NULL : "cannot list /series";
    f->series = calloc(n + 1, sizeof *f->series);
    if (!why && !f->series) why = "out of memory";
    for (size_t k = 0; !why && k < n; k++) {
        series_info *s = &f->series[k];
        s->name = names[k], names[k] = NULL;
        f->n_series = k + 1;
        *bad = s->name;
        hid_t g = H5Gopen2(sg, s->name, H5P_DEFAULT);
        hid_t ds = g >= 0 ? H5Dopen2(g, "values", H5P_DEFAULT) : -1;
        hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
        int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
        hsize_t dims[MAX_RANK] = {0}, dp[2] = {0};
        s->axes = g >= 0 ? attr_read_string(g, "axes") : NULL;
        if (rank < 2 || rank > MAX_RANK || H5Sget_simple_extent_dims(sp, dims, NULL) < 0 || !s->axes)
            why = "malformed /series group (values, axes)";
        else if (dims_of(g, "point", dp, 2) || dp[0] != dims[0] || dp[1] != dims[1])
            why = "malformed /series group (point)";
        else if (dims[0] != f->n_runs)
            why = "/series group with another run count than /runs";
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
    const char *bad = NULL;
    if (!why && (why = open_series(f, &bad)) && bad) {
        snprintf(series_why, sizeof series_why, "%s: /series/%s", why, bad);
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
hs_run_state hs_results_state(const hs_results *f, size_t i) {
    return i < f->n_runs ? (hs_run_state)f->states[i] : HS_STATE_PENDING;
}
const char *hs_results_attr(const hs_results *f, const char *name) {
    for (int a = 0; a < 6; a++)
        if (!strcmp(name, attr_names[a])) return f->attr_text[a];
    return NULL;
}

/* ================================================================ grow (resume of a grown plan) */

/* Collective: set the extent of dataset loc/name to at least want[0 .. its rank). */
static int extend_ds(hid_t loc, const char *name, const hsize_t *want) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1, rc = 0, grow = 0;
    hsize_t dims[MAX_RANK] = {0};
    if (rank < 1 || rank > MAX_RANK || H5Sget_simple_extent_dims(sp, dims, NULL) < 0) rc = -1;
    for (int d = 0; !rc && d < rank; d++)
        if (want[d] > dims[d]) dims[d] = want[d], grow = 1;
    if (!rc && grow && H5Dset_extent(ds, dims) < 0) rc = -1;
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* Collective: set the extent of every dataset in group to at least (R, N, L) (per its rank). */
static int extend_group(hid_t file, const char *group, hsize_t R, hsize_t N, hsize_t L) {
    hid_t g = H5Gopen2(file, group, H5P_DEFAULT);
    if (g < 0) return -1;
    size_t n = 0;
    char **names = list_names(g, &n);
    int rc = names ? 0 : -1;
    hsize_t want[3] = {R, N, L};
    for (size_t i = 0; !rc && i < n; i++) rc = extend_ds(g, names[i], want);
    for (size_t i = 0; names && i < n; i++) free(names[i]);
    free(names);
    H5Gclose(g);
    return rc;
}

/* Collective: every series of the file grows to R runs and to the layout's points and dims (a
 * series the layout does not name only along runs); series new in the layout are created, and
 * `every` follows the layout. f->series is updated after success by the caller. */
static int grow_series(hid_t file, const hs_results *f, const hs_results_layout *L, size_t R, const char **what) {
    if (!f->n_series && !L->n_series) return 0;
    *what = "/series";
    hid_t sg = H5Lexists(file, "series", H5P_DEFAULT) > 0 ? H5Gopen2(file, "series", H5P_DEFAULT)
                                                         : H5Gcreate2(file, "series", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (sg < 0) return -1;
    int rc = 0;
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
                if (g < 0 || (H5Aexists(g, "every") > 0 && H5Adelete(g, "every") < 0) ||
                    (L->series[j].every && attr_int(g, "every", (long long)L->series[j].every)))
                    rc = -1;
                if (g >= 0) H5Gclose(g);
            }
        hid_t g = rc ? -1 : H5Gopen2(sg, s->name, H5P_DEFAULT);
        if (g < 0 || extend_ds(g, "values", want) || extend_ds(g, "point", want)) rc = -1, *what = s->name;
        if (g >= 0) H5Gclose(g);
    }
    for (size_t j = 0; !rc && j < L->n_series; j++)
        if (!series_find(f, L->series[j].name) && create_series(sg, &L->series[j], R)) rc = -1, *what = L->series[j].name;
    H5Gclose(sg);
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
    const char *what = "datasets";
    int rc = extend_group(f->file, "runs", R, N, Lm) || extend_group(f->file, "records", R, N, Lm) ||
             extend_group(f->file, "layers", R, N, Lm) || grow_series(f->file, f, L, R, &what);
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
    if (series_adopt(f, L->series, L->n_series)) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
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

/* Independent: one series of run i (see hs_results_write_series). */
static int write_one_series(hs_results *f, size_t i, const hs_store_series *s, const series_info *have,
                            const char **what) {
    hid_t g = H5Gopen2(f->file, "series", H5P_DEFAULT);
    hid_t sg = g >= 0 ? H5Gopen2(g, s->name, H5P_DEFAULT) : -1;
    hid_t pd = sg >= 0 ? H5Dopen2(sg, "point", H5P_DEFAULT) : -1;
    hid_t vd = pd >= 0 ? H5Dopen2(sg, "values", H5P_DEFAULT) : -1;
    int rank = 2 + have->ndim, rc = vd >= 0 ? 0 : -1;
    size_t Ns = have->n_points, own = 1, full = 1;
    for (int d = 0; d < have->ndim; d++) own *= s->dims[d], full *= have->dims[d];
    /* point [i, 0:Ns]: the run's indices, -1 after them */
    long long *pt = malloc((Ns + 1) * sizeof *pt);
    if (!rc && !pt) rc = -1;
    for (size_t j = 0; !rc && j < Ns; j++) pt[j] = j < s->n ? s->point[j] : -1;
    hsize_t start[MAX_RANK] = {i, 0}, count[MAX_RANK] = {1, Ns};
    if (!rc && Ns) *what = "point", rc = write_block(pd, H5T_NATIVE_LLONG, 2, start, count, pt);
    free(pt);
    /* values [i, 0:n, 0:own dims] straight from the caller's contiguous buffer */
    count[1] = s->n;
    for (int d = 0; d < have->ndim; d++) count[2 + d] = s->dims[d];
    if (!rc && s->n && own) *what = "values", rc = write_block(vd, H5T_NATIVE_DOUBLE, rank, start, count, s->values);
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
        *what = "values", rc = write_block(vd, H5T_NATIVE_DOUBLE, rank, start, count, nan);
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
        if (write_one_series(f, i, s, have, &what))
            return HS_FAIL(err, HS_ERR_IO, "%s: cannot write run %s (/series/%s/%s)", f->path, f->ids[i], s->name, what);
    }
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
