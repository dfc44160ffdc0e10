/* results_grow.c - collective changes to an open results file: appending runs of a grown plan
 * (and growing records, layers and series), marking which rows the plan names, and the sessions
 * history.
 *
 * Each collective step is agreed by every rank before the next (store_agree), and room is
 * checked before anything changes, so a file is never left half grown. */
#define _GNU_SOURCE /* fallocate(2), gmtime_r, statvfs */
#include "internal.h"

/* Collective: every series of the file grows to R runs and to the layout's points and dims (a
 * series the layout does not name only along runs); series new in the layout are created, and
 * `every` follows the layout. f->series is updated after success by the caller. */
static int grow_series(MPI_Comm comm, hid_t file, const hs_results *f, const hs_results_layout *L, size_t R,
                       const char **what) {
    if (!f->n_series && !L->n_series) return 0;
    *what = HS_PATH_SERIES;
    hid_t sg = H5Lexists(file, HS_GROUP_SERIES, H5P_DEFAULT) > 0 ? H5Gopen2(file, HS_GROUP_SERIES, H5P_DEFAULT)
                                                         : H5Gcreate2(file, HS_GROUP_SERIES, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = store_agree(comm, sg < 0 ? -1 : 0);
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
                    (L->series[j].every && store_attr_int(g, HS_SERIES_EVERY, (long long)L->series[j].every)))
                    rc = -1;
                if (g >= 0) H5Gclose(g);
            }
        hid_t g = rc ? -1 : H5Gopen2(sg, s->name, H5P_DEFAULT);
        rc = store_agree(comm, rc || g < 0 ? -1 : 0);
        if (rc || store_extend_ds(comm, g, HS_SERIES_VALUES, want) || store_extend_ds(comm, g, HS_SERIES_POINT, want)) rc = -1, *what = s->name;
        if (g >= 0) H5Gclose(g);
    }
    for (size_t j = 0; !rc && j < L->n_series; j++)
        if (!store_series_find(f, L->series[j].name) && store_agree(comm, store_create_series(comm, sg, &L->series[j], R)))
            rc = -1, *what = L->series[j].name;
    H5Gclose(sg);
    return rc;
}

hs_code hs_results_grow(MPI_Comm comm, hs_results *f, const hs_results_layout *L, hs_error *err) {
    store_live_close(f);
    size_t old_R = f->n_runs, R = L->n_runs;
    if (R < old_R) return HS_FAIL(err, HS_ERR_INTERNAL, "grow from %zu to %zu runs", old_R, R);
    for (size_t r = 0; r < old_R; r++)
        if (strcmp(f->ids[r], L->ids[r]) != 0)
            return HS_FAIL(err, HS_ERR_INTERNAL, "grow: run %zu is %s in the file but %s in the plan", r, f->ids[r],
                           L->ids[r]);
    /* refuse before any change: a file is never left half grown by a layout it cannot take */
    const char *why = NULL, *bad = store_series_invalid(L->series, L->n_series, &why);
    if (bad) return HS_FAIL(err, HS_ERR_INTERNAL, "%s: series '%s' %s", f->path, bad, why);
    for (size_t k = 0; k < L->n_series; k++)
        if (store_series_fit(f, &L->series[k], &why) < 0) {
            hs_code code = HS_FAIL(err, HS_ERR_VALUE, "%s: cannot grow: the series '%s' (axes %s) %s", f->path, L->series[k].name,
                    L->series[k].axes ? L->series[k].axes : "", why);
            hs_error_hint(err, "the series changed its shape between hsweep versions: write to a new file with -o");
            return code;
        }
    size_t N = L->n_records > f->n_records ? L->n_records : f->n_records;
    size_t Lm = L->max_layers > f->max_layers ? L->max_layers : f->max_layers;
    /* room first: a grow that meets a full disk half way cannot be undone */
    struct stat fst;
    double have = stat(f->path, &fst) == 0 ? (double)fst.st_size : 0, more = hs_results_layout_bytes(L) - have;
    char why_room[256];
    if (store_room_for(comm, f->path, more > 0 ? 1.1 * more : 0, why_room, sizeof why_room)) {
        hs_code code = HS_FAIL(err, HS_ERR_IO, "%s: cannot append %zu runs: the file %s", f->path, R - old_R, why_room);
        hs_error_hint(err, "the file is unchanged; free space (or move the file) and resume again");
        return code;
    }
    const char *what = "datasets";
    /* each collective step agreed on before the next (see store_agree()) */
    int rc = store_agree(comm, store_extend_group(comm, f->file, HS_GROUP_RUNS, R, N, Lm));
    if (!rc) rc = store_agree(comm, store_extend_group(comm, f->file, HS_GROUP_RECORDS, R, N, Lm));
    if (!rc) rc = store_agree(comm, store_extend_group(comm, f->file, HS_GROUP_LAYERS, R, N, Lm));
    if (!rc) rc = store_agree(comm, grow_series(comm, f->file, f, L, R, &what));
    hid_t runs = rc ? -1 : H5Gopen2(f->file, HS_GROUP_RUNS, H5P_DEFAULT);
    if (!rc) rc = store_agree(comm, runs < 0 ? -1 : 0);
    /* key columns that vary only now: new datasets (collective), filled for every run below */
    unsigned char *fresh = calloc(L->n_cols + 1, 1);
    if (!rc) rc = store_agree(comm, fresh ? 0 : -1);
    for (size_t c = 0; !rc && c < L->n_cols; c++)
        if (H5Lexists(runs, L->cols[c].name, H5P_DEFAULT) <= 0) {
            fresh[c] = 1;
            rc = store_agree(comm, store_create_col(runs, &L->cols[c], R, R));
        }
    if (!rc) {
        uint8_t digest[32];
        char hex[65];
        hs_sha256(L->spec_text, strlen(L->spec_text), digest);
        for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
        what = "root attributes";
        rc = store_agree(comm, store_replace_attr(f->file, HS_ATTR_SPEC, L->spec_text) || store_replace_attr(f->file, HS_ATTR_SPEC_PATH, L->spec_path) ||
                                 store_replace_attr(f->file, HS_ATTR_SPEC_SHA256, hex) ||
                                 store_replace_attr(f->file, HS_ATTR_PLAN_DIGEST, L->plan_digest) ||
                                 store_replace_attr(f->file, HS_ATTR_OVERRIDES, L->overrides ? L->overrides : "")
                             ? -1
                             : 0);
    }
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (!rc && rank == 0) {
        what = "the new rows";
        rc = store_write_rows(f, runs, L, old_R, R, &what);
        for (size_t c = 0; !rc && c < L->n_cols; c++)
            rc = fresh[c] ? store_write_col(runs, &L->cols[c], 0, R, &what) : store_write_col(runs, &L->cols[c], old_R, R, &what);
        if (!rc) rc = store_write_ids(runs, L, old_R, R);
    }
    free(fresh);
    if (runs >= 0) H5Gclose(runs);
    store_cause cb = {{0}};
    if (rc) store_h5_cause(&cb, f->path);
    rc = store_agree(comm, rc);
    if (!rc) rc = store_agree(comm, H5Fflush(f->file, H5F_SCOPE_GLOBAL) < 0 ? -1 : 0);
    if (rc && !cb.text[0]) store_h5_cause(&cb, f->path);
    if (rc) store_share_cause(comm, &cb);
    const char *cause = cb.text;
    if (rc) {
        hs_code code = STORE_FAIL_CAUSE(err, cause, "%s: cannot append %zu runs (%s)", f->path, R - old_R, what);
        hs_error_hint(err, "rows already in the file are untouched; fix the cause (e.g. free space) and resume again");
        return code;
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
    if (store_series_adopt(f, L->series, L->n_series)) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    return HS_OK;
}

hs_code hs_results_mark_plan(MPI_Comm comm, hs_results *f, const unsigned char *in_plan, hs_error *err) {
    hid_t runs = H5Gopen2(f->file, HS_GROUP_RUNS, H5P_DEFAULT);
    int rc = store_agree(comm, runs < 0 ? -1 : 0);
    hsize_t d1[1] = {f->n_runs};
    if (!rc && H5Lexists(runs, HS_RUNS_IN_PLAN, H5P_DEFAULT) <= 0) { /* a file from before the column */
        hid_t ds = store_create_ds(runs, HS_RUNS_IN_PLAN, H5T_STD_I32LE, 1, d1, NULL);
        if (ds >= 0) H5Dclose(ds);
        rc = store_agree(comm, ds < 0 ? -1 : 0);
    }
    int fresh_prov = 0;
    if (!rc && H5Lexists(runs, HS_RUNS_PROVENANCE, H5P_DEFAULT) <= 0) { /* likewise: its cells start empty */
        hid_t t = store_str_type(HS_PROVENANCE_LEN);
        hid_t ds = t >= 0 ? store_create_ds(runs, HS_RUNS_PROVENANCE, t, 1, d1, NULL) : -1;
        if (ds >= 0) H5Dclose(ds);
        if (t >= 0) H5Tclose(t);
        rc = store_agree(comm, ds < 0 ? -1 : 0);
        fresh_prov = 1;
    }
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (!rc && rank == 0 && fresh_prov && f->n_runs) rc = store_write_empty(runs, HS_RUNS_PROVENANCE, 0, f->n_runs);
    if (!rc && rank == 0 && f->n_runs) {
        int *v = malloc(f->n_runs * sizeof *v);
        for (size_t r = 0; v && r < f->n_runs; r++) v[r] = in_plan[r] != 0;
        rc = v ? store_write_1d(runs, HS_RUNS_IN_PLAN, H5T_NATIVE_INT, 0, f->n_runs, v) : -1;
        free(v);
    }
    store_cause cb;
    const char *cause = rc ? store_h5_cause(&cb, f->path) : "";
    if (runs >= 0) H5Gclose(runs);
    rc = store_agree(comm, rc);
    if (!rc) rc = store_agree(comm, H5Fflush(f->file, H5F_SCOPE_GLOBAL) < 0 ? -1 : 0);
    if (rc) return STORE_FAIL_CAUSE(err, cause, "%s: cannot write " HS_PATH_RUNS_IN_PLAN, f->path);
    return HS_OK;
}

hs_code hs_results_add_session(MPI_Comm comm, hs_results *f, const char *line, hs_error *err) {
    char *old = store_attr_read_string(f->file, HS_ATTR_SESSIONS);
    hs_str all = {0};
    hs_code sc = hs_str_printf(&all, "%s%s\n", old ? old : "", line);
    free(old);
    int rc = store_agree(comm, sc == HS_OK && !store_replace_attr(f->file, HS_ATTR_SESSIONS, all.buf) ? 0 : -1);
    hs_str_free(&all);
    if (!rc) rc = store_agree(comm, H5Fflush(f->file, H5F_SCOPE_GLOBAL) < 0 ? -1 : 0);
    if (rc) return HS_FAIL(err, HS_ERR_IO, "%s: cannot record the session", f->path);
    return HS_OK;
}

