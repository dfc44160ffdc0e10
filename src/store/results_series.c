/* results_series.c - /series/<name>: the series' bookkeeping in hs_results, their creation, what
 * open finds, whether a layout fits the file, and a run's series writes.
 *
 * Series are the one part of the layout whose shape varies with the run (points and dims), so
 * they have their own checks: a resume may grow them but never change their axes. */
#define _GNU_SOURCE /* fallocate(2), gmtime_r, statvfs */
#include "internal.h"

/* ================================================================ series */

/* A layout's series are well-formed: names usable as HDF5 link names and unique, ndim in range.
 * Returns the offending series' name (or NULL) and why. */
const char *store_series_invalid(const hs_results_series *s, size_t n, const char **why) {
    for (size_t k = 0; k < n; k++) {
        if (!s[k].name || !s[k].name[0] || strchr(s[k].name, '/') || !strcmp(s[k].name, "."))
            return *why = "is not a usable dataset name", s[k].name ? s[k].name : "(null)";
        if (s[k].ndim < 0 || s[k].ndim > HS_STORE_MAX_DIMS) return *why = "has more than 3 axes per point", s[k].name;
        for (size_t j = 0; j < k; j++)
            if (!strcmp(s[j].name, s[k].name)) return *why = "appears twice in the layout", s[k].name;
    }
    return NULL;
}

const series_info *store_series_find(const hs_results *f, const char *name) {
    for (size_t k = 0; k < f->n_series; k++)
        if (!strcmp(f->series[k].name, name)) return &f->series[k];
    return NULL;
}

/* Append copies of the layout's series that f does not list yet (f's own view; no file I/O). */
int store_series_adopt(hs_results *f, const hs_results_series *s, size_t n) {
    series_info *grown = realloc(f->series, (f->n_series + n + 1) * sizeof *grown);
    if (!grown) return -1;
    f->series = grown;
    for (size_t k = 0; k < n; k++) {
        series_info *have = (series_info *)store_series_find(f, s[k].name);
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
int store_create_series(MPI_Comm comm, hid_t sg, const hs_results_series *s, size_t R) {
    const hsize_t zeros[MAX_RANK] = {0};
    hsize_t dv[MAX_RANK] = {R, s->n_points}, dp[2] = {R, s->n_points};
    for (int d = 0; d < s->ndim; d++) dv[2 + d] = s->dims[d];
    const double nan = NAN;
    const long long none = -1;
    hid_t g = H5Gcreate2(sg, s->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t v = g >= 0 ? store_create_series_ds(g, HS_SERIES_VALUES, H5T_IEEE_F64LE, 2 + s->ndim, dv, &nan) : -1;
    hid_t p = v >= 0 ? store_create_series_ds(g, HS_SERIES_POINT, H5T_STD_I64LE, 2, dp, &none) : -1;
    int rc = p >= 0 && !store_attr_string(g, HS_SERIES_AXES, s->axes ? s->axes : "") &&
                     (s->every == 0 || !store_attr_int(g, HS_SERIES_EVERY, (long long)s->every))
                 ? 0
                 : -1;
    if (!rc) rc = store_fill_fresh(comm, v, zeros) || store_fill_fresh(comm, p, zeros) ? -1 : 0;
    if (p >= 0) H5Dclose(p);
    if (v >= 0) H5Dclose(v);
    if (g >= 0) H5Gclose(g);
    return rc;
}

/* The series of an opened file: every group under /series with its values' shape and axes.
 * Returns NULL when all is well, else why (the name of the bad series in *bad). */
const char *store_open_series(hs_results *f, const char **bad) {
    if (H5Lexists(f->file, HS_GROUP_SERIES, H5P_DEFAULT) <= 0) return NULL; /* a file without series */
    hid_t sg = H5Gopen2(f->file, HS_GROUP_SERIES, H5P_DEFAULT);
    if (sg < 0) return "cannot open " HS_PATH_SERIES;
    size_t n = 0;
    char **names = store_list_names(sg, &n);
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
        s->axes = g >= 0 ? store_attr_read_string(g, HS_SERIES_AXES) : NULL;
        if (rank < 2 || rank > MAX_RANK || H5Sget_simple_extent_dims(sp, dims, NULL) < 0 || !s->axes)
            why = "malformed " HS_PATH_SERIES " group (" HS_SERIES_VALUES ", " HS_SERIES_AXES ")";
        else if (store_dims_of(g, HS_SERIES_POINT, dp, 2) || dp[0] != dims[0] || dp[1] != dims[1])
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

/* How series s of a layout relates to the file: 0 = fits, 1 = needs room (absent, more points or
 * larger dims), -1 = incompatible (another ndim or axes), with why. */
int store_series_fit(const hs_results *f, const hs_results_series *s, const char **why) {
    const series_info *have = store_series_find(f, s->name);
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
        if (store_series_fit(f, &series[k], &why))
            return HS_FAIL(err, HS_ERR_VALUE, "%s: the series '%s' (axes %s) %s (written by another hsweep version?)",
                           f->path, series[k].name, series[k].axes ? series[k].axes : "", why);
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
    if (!rc && Ns) *what = HS_SERIES_POINT, rc = store_write_block(pd, H5T_NATIVE_LLONG, 2, start, count, pt);
    free(pt);
    /* values [i, 0:n, 0:own dims] straight from the caller's contiguous buffer */
    count[1] = s->n;
    for (int d = 0; d < have->ndim; d++) count[2 + d] = s->dims[d];
    if (!rc && s->n && own) *what = HS_SERIES_VALUES, rc = store_write_block(vd, H5T_NATIVE_DOUBLE, rank, start, count, s->values);
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
        *what = HS_SERIES_VALUES, rc = store_write_block(vd, H5T_NATIVE_DOUBLE, rank, start, count, nan);
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
        const series_info *have = store_series_find(f, s->name);
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
            return STORE_FAIL_IO(err, f->path, "%s: cannot write run %s (" HS_PATH_SERIES "/%s/%s)", f->path, f->ids[i], s->name, what);
        }
    }
    return HS_OK;
}

