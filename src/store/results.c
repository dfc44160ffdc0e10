/* results.c - the life of a sweep's results file: create, open (resume), the metric order a
 * resumed writer uses, the accessors of what open read, and close; plus the run states' names.
 * The pieces it assembles live beside it: h5.c (HDF5 helpers and error causes), results_ds.c
 * (extendible datasets and their fill), results_table.c (/runs), results_series.c (/series),
 * results_grow.c (resume of a grown plan), results_write.c (a rank's own rows), results_status.c
 * (the human summary). Layout in include/hsweep/store.h; names in paths.h.
 *
 * Parallel-HDF5 rules the whole file lives by: every call that touches metadata (create/open/close
 * of the file, creation of datasets, groups and attributes, extent changes) is made by every rank
 * with the same arguments, and only in create/open/grow/close. Between those, ranks write raw data
 * of their own runs with independent transfers. Datasets are chunked along the run axis (so a
 * resume can append runs) without filters; parallel HDF5 allocates their space at creation, so
 * later writes change no metadata. A run's rows are contiguous bytes in the file, so two ranks
 * never write the same bytes even when their rows share a chunk. */
#define _GNU_SOURCE /* fallocate(2), gmtime_r, statvfs */
#include "internal.h"

static const char *const state_names[HS_STATE_COUNT] = {"pending", "running", "done", "failed", "diverged"};

const char *hs_run_state_to_string(hs_run_state s) { return (unsigned)s < HS_STATE_COUNT ? state_names[s] : "?"; }

static const char *const attr_names[6] = {HS_ATTR_FORMAT, HS_ATTR_HSWEEP_VERSION, HS_ATTR_SPEC, HS_ATTR_SPEC_PATH, HS_ATTR_SPEC_SHA256,
                                          HS_ATTR_PLAN_DIGEST};

hid_t store_state_type(void) {
    hid_t t = H5Tenum_create(H5T_NATIVE_UCHAR);
    for (unsigned char v = 0; t >= 0 && v < HS_STATE_COUNT; v++)
        if (H5Tenum_insert(t, state_names[v], &v) < 0) {
            H5Tclose(t);
            return -1;
        }
    return t;
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
    f->state_type = store_state_type();
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

/* ================================================================ create */

/* The prologue: every dataset of the layout, collectively, each step agreed on by all ranks
 * before the next one (store_agree()). Returns 0 or -1 (on every rank alike) with what in `what`. */
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
    int rc = store_attr_string(file, HS_ATTR_FORMAT, HS_RESULTS_FORMAT) || store_attr_string(file, HS_ATTR_HSWEEP_VERSION, L->hsweep_version) ||
                     store_attr_int(file, HS_ATTR_SCHEMA_VERSION, L->schema_version) || store_attr_string(file, HS_ATTR_SPEC, L->spec_text) ||
                     store_attr_string(file, HS_ATTR_SPEC_PATH, L->spec_path) || store_attr_string(file, HS_ATTR_PLAN_DIGEST, L->plan_digest) ||
                     store_attr_string(file, HS_ATTR_OVERRIDES, L->overrides ? L->overrides : "") ||
                     store_attr_string(file, HS_ATTR_CREATED, buf)
                 ? -1
                 : 0;
    if (!rc) {
        uint8_t digest[32];
        hs_sha256(L->spec_text, strlen(L->spec_text), digest);
        char hex[65];
        for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
        rc = store_attr_string(file, HS_ATTR_SPEC_SHA256, hex);
    }
    if (store_agree(comm, rc)) return -1;

    hid_t runs = H5Gcreate2(file, HS_GROUP_RUNS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t recs = H5Gcreate2(file, HS_GROUP_RECORDS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t lays = H5Gcreate2(file, HS_GROUP_LAYERS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    rc = store_agree(comm, runs < 0 || recs < 0 || lays < 0 ? -1 : 0);

    /* Fixed-length strings, twice as wide as the longest value so that runs appended by a
     * later resume (a grown plan) usually fit. */
    size_t cfg_len = store_str_width(L->configs, R, HS_CONFIG_MIN_WIDTH);
    hid_t t_id = store_str_type(HS_ID_LEN), t_cfg = store_str_type(cfg_len), t_err = store_str_type(HS_ERROR_LEN);
    hid_t t_prov = store_str_type(HS_PROVENANCE_LEN);
    if (t_id < 0 || t_cfg < 0 || t_err < 0 || t_prov < 0) rc = -1;
    const double nan = NAN;

    /* Metadata first (collective creation); the run table's values follow from rank 0 alone. */
    if (!rc) *what = HS_PATH_RUNS " datasets";
    hid_t ds;
#define STEP(create)                                                                                               \
    do {                                                                                                           \
        if (!rc) {                                                                                                 \
            ds = (create);                                                                                         \
            if (ds >= 0) H5Dclose(ds);                                                                             \
            rc = store_agree(comm, ds >= 0 ? 0 : -1);                                                                    \
        }                                                                                                          \
    } while (0)
    STEP(store_create_ds(runs, HS_RUNS_ID, t_id, 1, d1, NULL));
    STEP(store_create_ds(runs, HS_RUNS_CONFIG, t_cfg, 1, d1, NULL));
    for (size_t c = 0; !rc && c < store_book_count(); c++)
        STEP(store_create_ds(runs, store_book_name(c), store_book_type(c, f->state_type, t_err), 1, d1, NULL));
    STEP(store_create_ds(runs, HS_RUNS_PROVENANCE, t_prov, 1, d1, NULL));
    for (size_t c = 0; !rc && c < L->n_cols; c++) rc = store_agree(comm, store_create_col(runs, &L->cols[c], R, R));
    if (!rc) *what = HS_PATH_RECORDS " and " HS_PATH_LAYERS " datasets";
#undef STEP
    const hsize_t none[MAX_RANK] = {0};
    for (size_t g = 0; g < 2; g++)
        for (size_t m = 0; !rc && m < (g ? L->n_layer_metrics : L->n_metrics); m++) {
            ds = g ? store_create_ds(lays, L->layer_metrics[m], H5T_IEEE_F64LE, 3, d3, &nan)
                   : store_create_ds(recs, L->metrics[m], H5T_IEEE_F64LE, 2, d2, &nan);
            rc = store_agree(comm, ds >= 0 ? 0 : -1);
            if (!rc) rc = store_agree(comm, store_fill_fresh(comm, ds, none));
            if (ds >= 0) H5Dclose(ds);
        }
    if (!rc && L->n_series) {
        *what = HS_PATH_SERIES;
        hid_t sg = H5Gcreate2(file, HS_GROUP_SERIES, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        rc = store_agree(comm, sg < 0 ? -1 : 0);
        for (size_t k = 0; !rc && k < L->n_series; k++)
            if (store_agree(comm, store_create_series(comm, sg, &L->series[k], R))) rc = -1, *what = L->series[k].name;
        if (sg >= 0) H5Gclose(sg);
    }

    /* The run table's values: one rank writes them (independent I/O) before the flush. */
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (!rc && rank == 0 && R > 0) {
        *what = "the run table";
        rc = store_write_rows(f, runs, L, 0, R, what);
        for (size_t c = 0; !rc && c < L->n_cols; c++) rc = store_write_col(runs, &L->cols[c], 0, R, what);
        if (!rc) rc = store_write_ids(runs, L, 0, R);
    }
    if (t_id >= 0) H5Tclose(t_id);
    if (t_cfg >= 0) H5Tclose(t_cfg);
    if (t_err >= 0) H5Tclose(t_err);
    if (t_prov >= 0) H5Tclose(t_prov);
    if (runs >= 0) H5Gclose(runs);
    if (recs >= 0) H5Gclose(recs);
    if (lays >= 0) H5Gclose(lays);
    return store_agree(comm, rc);
}

double hs_results_layout_bytes(const hs_results_layout *L) {
    double R = (double)L->n_runs, N = (double)L->n_records;
    double b = R * N * (double)L->n_metrics * 8 + R * N * (double)L->max_layers * (double)L->n_layer_metrics * 8;
    for (size_t k = 0; k < L->n_series; k++) {
        double per = 8;
        for (int d = 0; d < L->series[k].ndim; d++) per *= (double)L->series[k].dims[d];
        b += R * (double)L->series[k].n_points * (per + 8);
    }
    double row = HS_ID_LEN + (double)store_str_width(L->configs, L->n_runs, HS_CONFIG_MIN_WIDTH) + HS_ERROR_LEN + HS_PROVENANCE_LEN + 4 * 4 + 8 * 6 + 1;
    for (size_t c = 0; c < L->n_cols; c++)
        row += L->cols[c].type == HS_COL_STR ? (double)store_str_width(L->cols[c].s, L->n_runs, HS_KEY_STR_MIN_WIDTH) : 8;
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
int store_room_for(MPI_Comm comm, const char *path, double bytes, char *why, size_t n) {
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
            double avail = store_free_bytes(path);
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
    const char *why = NULL, *bad = store_series_invalid(L->series, L->n_series, &why);
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
        store_series_adopt(f, L->series, L->n_series)) {
        results_free(f);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; r < L->n_runs; r++) snprintf(f->ids[r], HS_ID_LEN, "%s", L->ids[r]);

    /* A file that cannot hold the layout is refused before it is made: a sweep that fills the
     * disk half way through its prologue helps nobody. */
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    char no_room[256];
    if (store_room_for(comm, path, hs_results_layout_bytes(L), no_room, sizeof no_room)) {
        results_free(f);
        hs_code code = HS_FAIL(err, HS_ERR_IO, "%s: the results file %s", path, no_room);
        hs_error_hint(err, "free space, or write the results to another file system with -o");
        return code;
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
    hid_t fapl = clash ? -1 : store_file_access(comm);
    f->file = fapl >= 0 ? H5Fcreate(tmp.buf, H5F_ACC_EXCL, H5P_DEFAULT, fapl) : -1;
    if (fapl >= 0) H5Pclose(fapl);
    if (f->file < 0) {
        store_cause cb;
        const char *cause = store_h5_cause(&cb, path);
        results_free(f);
        hs_code code = STORE_FAIL_CAUSE(err, clash ? "a file of that name exists" : cause, "%s: cannot create the results file", path);
        hs_error_hint(err, "check that the folder exists and is writable on every node, and that no file of that "
                           "name exists; on file systems without locking set HDF5_USE_FILE_LOCKING=FALSE");
        hs_str_free(&tmp);
        return code;
    }
    const char *what = "";
    int rc = create_layout(comm, f, L, &what);
    store_cause cb = {{0}};
    if (rc) store_h5_cause(&cb, path);
    if (!rc) rc = store_agree(comm, H5Fflush(f->file, H5F_SCOPE_GLOBAL) < 0 ? -1 : 0);
    if (rc && !cb.text[0]) store_h5_cause(&cb, path);
    if (rc) store_share_cause(comm, &cb);
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
        hs_code code = STORE_FAIL_CAUSE(err, cause, "%s: cannot create %s", path, what);
        hs_error_hint(err, "nothing was trained; fix the cause (e.g. free space) and run again");
        return code;
    }
    hs_str_free(&tmp);
    *out = f;
    return HS_OK;
}

hs_code hs_results_open(MPI_Comm comm, const char *path, hs_results **out, hs_error *err) {
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hs_results *f = results_new(path);
    if (!f) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    hid_t fapl = store_file_access(comm);
    f->file = fapl >= 0 ? H5Fopen(path, H5F_ACC_RDWR, fapl) : -1;
    if (fapl >= 0) H5Pclose(fapl);
    if (f->file < 0) {
        results_free(f);
        hs_code code = HS_FAIL(err, HS_ERR_IO, "%s: cannot open the results file for resuming", path);
        hs_error_hint(err, "is it an hsweep results file, on a path every rank sees? On file systems without "
                           "locking set HDF5_USE_FILE_LOCKING=FALSE");
        return code;
    }
    for (int a = 0; a < 6; a++) f->attr_text[a] = store_attr_read_string(f->file, attr_names[a]);
    const char *why = NULL;
    char series_why[256];
    if (!f->attr_text[0] || strcmp(f->attr_text[0], HS_RESULTS_FORMAT) != 0) why = "not an hsweep results file (" HS_ATTR_FORMAT " attribute)";
    hid_t runs = why ? -1 : H5Gopen2(f->file, HS_GROUP_RUNS, H5P_DEFAULT);
    hid_t recs = runs >= 0 ? H5Gopen2(f->file, HS_GROUP_RECORDS, H5P_DEFAULT) : -1;
    hid_t lays = recs >= 0 ? H5Gopen2(f->file, HS_GROUP_LAYERS, H5P_DEFAULT) : -1;
    if (!why && lays < 0) why = "missing " HS_PATH_RUNS ", " HS_PATH_RECORDS " or " HS_PATH_LAYERS;
    hsize_t d1[1] = {0};
    if (!why && store_dims_of(runs, HS_RUNS_ID, d1, 1)) why = "missing " HS_PATH_RUNS_ID;
    if (!why) {
        f->n_runs = d1[0];
        f->ids = calloc(f->n_runs ? f->n_runs : 1, sizeof *f->ids);
        f->states = calloc(f->n_runs ? f->n_runs : 1, 1);
        f->attempts = calloc(f->n_runs ? f->n_runs : 1, sizeof *f->attempts);
        f->config_w = store_ds_str_size(runs, HS_RUNS_CONFIG);
        f->configs = f->config_w ? calloc(f->n_runs ? f->n_runs : 1, f->config_w + 1) : NULL;
        hid_t t_id = store_str_type(HS_ID_LEN), t_cfg = store_str_type(f->config_w + 1);
        if (!f->ids || !f->states || !f->attempts || !f->configs || t_id < 0 || t_cfg < 0) why = "out of memory";
        else if (store_read_1d(runs, HS_RUNS_ID, t_id, f->n_runs, f->ids) ||
                 !(f->n_runs = store_rows_with_id((const char(*)[HS_ID_LEN])f->ids, f->n_runs), 1) ||
                 store_read_1d(runs, HS_RUNS_STATUS, f->state_type, f->n_runs, f->states) ||
                 store_read_1d(runs, HS_RUNS_ATTEMPTS, H5T_NATIVE_INT, f->n_runs, f->attempts) ||
                 store_read_1d(runs, HS_RUNS_CONFIG, t_cfg, f->n_runs, f->configs))
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
        f->metrics = store_list_names(recs, &f->n_metrics);
        f->layer_metrics = store_list_names(lays, &f->n_layer_metrics);
        hsize_t d2[2] = {0}, d3[3] = {0};
        if (!f->metrics || !f->layer_metrics) why = "cannot list " HS_PATH_RECORDS " or " HS_PATH_LAYERS;
        else if (f->n_metrics && store_dims_of(recs, f->metrics[0], d2, 2)) why = "malformed " HS_PATH_RECORDS " dataset";
        else if (f->n_layer_metrics && store_dims_of(lays, f->layer_metrics[0], d3, 3)) why = "malformed " HS_PATH_LAYERS " dataset";
        f->n_records = d2[1] ? d2[1] : d3[1];
        f->max_layers = d3[2];
    }
    const char *bad = NULL;
    if (!why && (why = store_open_series(f, &bad)) && bad) {
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
int hs_results_needs_grow(const hs_results *f, const hs_results_layout *L) {
    /* a file without /layers datasets (or /records) reads 0 layers (records): nothing to grow */
    if (L->n_runs > f->n_runs || (L->n_metrics + L->n_layer_metrics && L->n_records > f->n_records) ||
        (L->n_layer_metrics && L->max_layers > f->max_layers))
        return 1;
    const char *why;
    for (size_t k = 0; k < L->n_series; k++)
        if (store_series_fit(f, &L->series[k], &why)) return 1;
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

hs_code hs_results_close(hs_results *f, hs_error *err) {
    if (!f) return HS_OK;
    hs_code rc = HS_OK;
    store_live_close(f);
    if (f->file >= 0 && H5Fclose(f->file) < 0) rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot close the results file", f->path);
    f->file = -1;
    results_free(f);
    return rc;
}

