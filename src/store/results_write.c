/* results_write.c - what a rank writes into its own runs' rows with independent I/O: running,
 * live record points, failed, and a finished run with its status last.
 *
 * The status cell is the commit marker: a reader trusts a row's values only once its status says
 * it finished, so it is always written after everything else of the row. */
#define _GNU_SOURCE /* fallocate(2), gmtime_r, statvfs */
#include "internal.h"

/* ================================================================ per-run writes (independent) */

hs_code hs_results_mark_running(hs_results *f, size_t i, int rank, double start, hs_error *err) {
    if (i >= f->n_runs) return HS_FAIL(err, HS_ERR_INTERNAL, "run %zu of %zu", i, f->n_runs);
    hid_t runs = H5Gopen2(f->file, HS_GROUP_RUNS, H5P_DEFAULT);
    unsigned char st = HS_STATE_RUNNING;
    int attempts = f->attempts[i] + 1; /* counted before it starts: a rank that dies has used it */
    int ok = runs >= 0 && !store_write_1d(runs, HS_RUNS_RANK, H5T_NATIVE_INT, i, 1, &rank) &&
             !store_write_1d(runs, HS_RUNS_START, H5T_NATIVE_DOUBLE, i, 1, &start) &&
             !store_write_1d(runs, HS_RUNS_ATTEMPTS, H5T_NATIVE_INT, i, 1, &attempts) &&
             !store_write_1d(runs, HS_RUNS_STATUS, f->state_type, i, 1, &st);
    store_cause cb;
    const char *cause = ok ? "" : store_h5_cause(&cb, f->path);
    if (runs >= 0) H5Gclose(runs);
    if (!ok)
        return STORE_FAIL_CAUSE(err, cause, "%s: cannot mark run %s running", f->path, f->ids[i]);
    f->states[i] = st, f->attempts[i] = attempts;
    return HS_OK;
}

/* Close the kept handles of live writes (before anything collective touches the datasets). */
void store_live_close(hs_results *f) {
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
    if (rc) store_live_close(f);
    return rc;
}

hs_code hs_results_write_point(hs_results *f, size_t i, size_t t, const double *values, long long epochs_done,
                               long long steps, hs_error *err) {
    if (i >= f->n_runs || t >= f->n_records) return HS_OK; /* beyond the file: the final write says it */
    int rc = live_open(f);
    for (size_t m = 0; !rc && m < f->n_metrics; m++) {
        hsize_t start[2] = {i, t}, count[2] = {1, 1};
        rc = store_write_block(f->live_ds[m], H5T_NATIVE_DOUBLE, 2, start, count, &values[m]);
    }
    hsize_t at[1] = {i}, one[1] = {1};
    if (!rc) rc = store_write_block(f->live_ds[f->n_metrics], H5T_NATIVE_LLONG, 1, at, one, &epochs_done) ||
                  store_write_block(f->live_ds[f->n_metrics + 1], H5T_NATIVE_LLONG, 1, at, one, &steps);
    store_cause cb;
    const char *cause = rc ? store_h5_cause(&cb, f->path) : "";
    if (rc)
        return STORE_FAIL_CAUSE(err, cause, "%s: cannot write record point %zu of run %s", f->path, t, f->ids[i]);
    return HS_OK;
}

hs_code hs_results_mark_failed(hs_results *f, size_t i, const char *why, hs_error *err) {
    if (i >= f->n_runs) return HS_FAIL(err, HS_ERR_INTERNAL, "run %zu of %zu", i, f->n_runs);
    char msg[HS_ERROR_LEN] = {0};
    snprintf(msg, sizeof msg, "%s", why);
    hid_t runs = H5Gopen2(f->file, HS_GROUP_RUNS, H5P_DEFAULT), t_err = store_str_type(HS_ERROR_LEN);
    unsigned char st = HS_STATE_FAILED;
    int ok = runs >= 0 && t_err >= 0 && !store_write_1d(runs, HS_RUNS_ERROR, t_err, i, 1, msg) &&
             !store_write_1d(runs, HS_RUNS_STATUS, f->state_type, i, 1, &st);
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
        if (store_write_row(recs, f->metrics[m], H5T_NATIVE_DOUBLE, i, buf)) rc = -1, what = f->metrics[m];
    }
    for (size_t m = 0; !rc && layers && m < f->n_layer_metrics; m++) {
        for (size_t t = 0; t < N; t++)
            memcpy(buf + t * Lm, layers + (t * f->n_layer_metrics + m) * Lm, Lm * sizeof *buf);
        if (store_write_row(lays, f->layer_metrics[m], H5T_NATIVE_DOUBLE, i, buf)) rc = -1, what = f->layer_metrics[m];
    }
    if (!rc) {
        char msg[HS_ERROR_LEN] = {0};
        snprintf(msg, sizeof msg, "%s", row->error ? row->error : "");
        hid_t t_err = store_str_type(HS_ERROR_LEN);
        unsigned char st = (unsigned char)row->state;
        what = "the run table";
        rc = t_err < 0 || store_write_1d(runs, HS_RUNS_RANK, H5T_NATIVE_INT, i, 1, &row->rank) ||
                     store_write_1d(runs, HS_RUNS_ATTEMPTS, H5T_NATIVE_INT, i, 1, &row->attempts) ||
                     store_write_1d(runs, HS_RUNS_START, H5T_NATIVE_DOUBLE, i, 1, &row->start) ||
                     store_write_1d(runs, HS_RUNS_END, H5T_NATIVE_DOUBLE, i, 1, &row->end) ||
                     store_write_1d(runs, HS_RUNS_WALL, H5T_NATIVE_DOUBLE, i, 1, &row->wall) ||
                     store_write_1d(runs, HS_RUNS_EPOCHS_DONE, H5T_NATIVE_LLONG, i, 1, &row->epochs_done) ||
                     store_write_1d(runs, HS_RUNS_STEPS, H5T_NATIVE_LLONG, i, 1, &row->steps) ||
                     store_write_1d(runs, HS_RUNS_ERROR, t_err, i, 1, msg)
                 ? -1
                 : 0;
        /* where and how it ran; a rerun (a resume) replaces the provenance of the earlier job */
        if (!rc && row->provenance && H5Lexists(runs, HS_RUNS_PROVENANCE, H5P_DEFAULT) > 0) {
            char *prov = calloc(1, HS_PROVENANCE_LEN);
            hid_t t_prov = store_str_type(HS_PROVENANCE_LEN);
            if (prov) snprintf(prov, HS_PROVENANCE_LEN, "%s", row->provenance);
            rc = !prov || t_prov < 0 || store_write_1d(runs, HS_RUNS_PROVENANCE, t_prov, i, 1, prov) ? -1 : 0;
            if (t_prov >= 0) H5Tclose(t_prov);
            free(prov);
        }
        /* the commit marker: written last, so a reader never sees "done" without the data */
        if (!rc) rc = store_write_1d(runs, HS_RUNS_STATUS, f->state_type, i, 1, &st);
        if (!rc) f->states[i] = st, f->attempts[i] = row->attempts;
        if (t_err >= 0) H5Tclose(t_err);
    }
    if (recs >= 0) H5Gclose(recs);
    if (lays >= 0) H5Gclose(lays);
    if (runs >= 0) H5Gclose(runs);
    free(buf);
    if (rc) {
        return STORE_FAIL_IO(err, f->path, "%s: cannot write run %s (%s)", f->path, f->ids[i], what);
    }
    return HS_OK;
}

