/* search.c - a searching stage's result in the results file, /search/<stage> (store.h), and its
 * reader (reader.h): the one place its names and types are spelled. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/reader.h"
#include "hsweep/store.h"
#include "internal.h"
#include "paths.h"

static int write_ds(hid_t g, const char *name, hid_t ftype, hid_t mtype, int nd, const hsize_t *dims, const void *buf) {
    hid_t sp = H5Screate_simple(nd, dims, NULL);
    hid_t ds = sp >= 0 ? H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int ok = ds >= 0 && (dims[0] == 0 || H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    if (ds >= 0) H5Dclose(ds);
    if (sp >= 0) H5Sclose(sp);
    return ok;
}

hs_code hs_results_write_search(const char *path, const char *stage, const char *key, const char *metric,
                                double target, const hs_search_result *rows, size_t n, size_t n_seeds, hs_error *err) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (strchr(stage, '/')) return HS_FAIL(err, HS_ERR_VALUE, "stage name '%s' holds a '/'", stage);
    HS_TRY(err, store_check_room(path, (double)n * (double)(n_seeds + 8) * 16.0, "storing the search's result", err));
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    char pending[128];
    hid_t g = f >= 0 ? store_pending_group(f, pending, sizeof pending) : -1;
    int ok = g >= 0;
    size_t S = n_seeds ? n_seeds : 1, w = 1;
    for (size_t i = 0; i < n; i++)
        if (strlen(rows[i].group) + 1 > w) w = strlen(rows[i].group) + 1;
    char *names = calloc(n + 1, w);
    int *status = malloc((n + 1) * sizeof *status), *rounds = malloc((n + 1) * sizeof *rounds);
    long long *points = malloc((n + 1) * sizeof *points);
    double *col = malloc((n + 1) * 5 * sizeof *col), *seeds = malloc((n * S + 1) * 2 * sizeof *seeds);
    if (!names || !status || !rounds || !points || !col || !seeds) ok = 0;
    for (size_t i = 0; ok && i < n; i++) {
        memcpy(names + i * w, rows[i].group, strlen(rows[i].group));
        status[i] = rows[i].status, rounds[i] = rows[i].rounds, points[i] = rows[i].points;
        col[i] = rows[i].crossing, col[n + i] = rows[i].lo, col[2 * n + i] = rows[i].hi;
        col[3 * n + i] = rows[i].err_lo, col[4 * n + i] = rows[i].err_hi;
        for (size_t s = 0; s < n_seeds; s++)
            seeds[i * S + s] = rows[i].seeds_lo[s], seeds[n * S + i * S + s] = rows[i].seeds_hi[s];
    }
    hsize_t d1[1] = {n}, d2[2] = {n, n_seeds};
    if (ok) {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, w);
        H5Tset_cset(t, H5T_CSET_UTF8);
        ok = write_ds(g, HS_SEARCH_GROUP, t, t, 1, d1, names);
        H5Tclose(t);
    }
    ok = ok && write_ds(g, HS_SEARCH_STATUS, H5T_STD_I32LE, H5T_NATIVE_INT, 1, d1, status);
    ok = ok && write_ds(g, HS_SEARCH_ROUNDS, H5T_STD_I32LE, H5T_NATIVE_INT, 1, d1, rounds);
    ok = ok && write_ds(g, HS_SEARCH_POINTS, H5T_STD_I64LE, H5T_NATIVE_LLONG, 1, d1, points);
    static const char *const cols[5] = {HS_SEARCH_CROSSING, HS_SEARCH_LO, HS_SEARCH_HI, HS_SEARCH_ERR_LO, HS_SEARCH_ERR_HI};
    for (int c = 0; c < 5 && ok; c++) ok = write_ds(g, cols[c], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, d1, col + (size_t)c * n);
    ok = ok && write_ds(g, HS_SEARCH_SEEDS_LO, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d2, seeds);
    ok = ok && write_ds(g, HS_SEARCH_SEEDS_HI, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d2, seeds + n * S);
    ok = ok && store_attr_string(g, HS_SEARCH_ATTR_KEY, key) == 0 && store_attr_string(g, HS_SEARCH_ATTR_METRIC, metric) == 0;
    if (ok) {
        hid_t sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(g, HS_SEARCH_ATTR_TARGET, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        ok = a >= 0 && H5Awrite(a, H5T_NATIVE_DOUBLE, &target) >= 0;
        if (a >= 0) H5Aclose(a);
        H5Sclose(sp);
    }
    free(names), free(status), free(rounds), free(points), free(col), free(seeds);
    if (g >= 0) H5Gclose(g);
    if (f >= 0) { /* a later round replaces the stage's result, once the new one is whole */
        if (ok) ok = store_commit_group(f, pending, HS_PATH_SEARCH, stage) == 0;
        else store_drop_pending(f, pending);
    }
    if (f >= 0 && H5Fclose(f) < 0) ok = 0;
    if (!ok) return HS_FAIL(err, HS_ERR_IO, "%s: cannot write %s/%s", path, HS_PATH_SEARCH, stage);
    return HS_OK;
}

/* ---------------------------------------------------------------- reading it */

/* Needs the reader's file handle: reader.c hands it over. */
hid_t hs_reader_hid(const hs_results_reader *rd);

static int read_ds(hid_t g, const char *name, hid_t mtype, size_t count, void *buf) {
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    int ok = sp >= 0 && (size_t)H5Sget_simple_extent_npoints(sp) == count &&
             (count == 0 || H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return ok;
}

void hs_search_table_free(hs_search_table *t) {
    if (!t) return;
    for (size_t i = 0; t->group && i < t->n; i++) free(t->group[i]);
    free(t->group), free(t->key), free(t->metric), free(t->status), free(t->rounds), free(t->points);
    free(t->crossing), free(t->lo), free(t->hi), free(t->err_lo), free(t->err_hi), free(t->seeds_lo), free(t->seeds_hi);
    memset(t, 0, sizeof *t);
}

hs_code hs_reader_search(const hs_results_reader *rd, const char *stage, hs_search_table *out, hs_error *err) {
    memset(out, 0, sizeof *out);
    hid_t f = hs_reader_hid(rd);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/%s", HS_PATH_SEARCH, stage);
    if (strchr(stage, '/') || H5Lexists(f, HS_PATH_SEARCH, H5P_DEFAULT) <= 0 || H5Lexists(f, sub, H5P_DEFAULT) <= 0)
        return HS_ERR_VALUE;
    hid_t g = H5Gopen2(f, sub, H5P_DEFAULT);
    hid_t ds = g >= 0 ? H5Dopen2(g, HS_SEARCH_SEEDS_LO, H5P_DEFAULT) : -1;
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    hsize_t d[2] = {0, 0};
    int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 2 && H5Sget_simple_extent_dims(sp, d, NULL) >= 0;
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    size_t n = (size_t)d[0], S = (size_t)d[1];
    out->n = n, out->n_seeds = S;
    out->group = calloc(n + 1, sizeof *out->group);
    out->status = malloc((n + 1) * sizeof(int)), out->rounds = malloc((n + 1) * sizeof(int));
    out->points = malloc((n + 1) * sizeof(long long));
    double **cols[5] = {&out->crossing, &out->lo, &out->hi, &out->err_lo, &out->err_hi};
    for (int c = 0; c < 5; c++) *cols[c] = malloc((n + 1) * sizeof(double));
    out->seeds_lo = malloc((n * S + 1) * sizeof(double)), out->seeds_hi = malloc((n * S + 1) * sizeof(double));
    ok = ok && out->group && out->status && out->rounds && out->points && out->crossing && out->lo && out->hi &&
         out->err_lo && out->err_hi && out->seeds_lo && out->seeds_hi;
    ok = ok && read_ds(g, HS_SEARCH_STATUS, H5T_NATIVE_INT, n, out->status) &&
         read_ds(g, HS_SEARCH_ROUNDS, H5T_NATIVE_INT, n, out->rounds) &&
         read_ds(g, HS_SEARCH_POINTS, H5T_NATIVE_LLONG, n, out->points);
    static const char *const names[5] = {HS_SEARCH_CROSSING, HS_SEARCH_LO, HS_SEARCH_HI, HS_SEARCH_ERR_LO, HS_SEARCH_ERR_HI};
    for (int c = 0; c < 5 && ok; c++) ok = read_ds(g, names[c], H5T_NATIVE_DOUBLE, n, *cols[c]);
    ok = ok && read_ds(g, HS_SEARCH_SEEDS_LO, H5T_NATIVE_DOUBLE, n * S, out->seeds_lo) &&
         read_ds(g, HS_SEARCH_SEEDS_HI, H5T_NATIVE_DOUBLE, n * S, out->seeds_hi);
    if (ok) {
        hid_t gd = H5Dopen2(g, HS_SEARCH_GROUP, H5P_DEFAULT);
        hid_t t = gd >= 0 ? H5Dget_type(gd) : -1;
        size_t w = t >= 0 ? H5Tget_size(t) : 0;
        char *buf = t >= 0 ? calloc(n + 1, w + 1) : NULL;
        hid_t mt = buf ? H5Tcopy(t) : -1;
        ok = mt >= 0 && H5Tset_size(mt, w + 1) >= 0 && H5Tset_strpad(mt, H5T_STR_NULLTERM) >= 0 &&
             (n == 0 || H5Dread(gd, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
        for (size_t i = 0; ok && i < n; i++) ok = (out->group[i] = strdup(buf + i * (w + 1))) != NULL;
        free(buf);
        if (mt >= 0) H5Tclose(mt);
        if (t >= 0) H5Tclose(t);
        if (gd >= 0) H5Dclose(gd);
    }
    if (ok) {
        out->key = store_attr_read_string(g, HS_SEARCH_ATTR_KEY), out->metric = store_attr_read_string(g, HS_SEARCH_ATTR_METRIC);
        hid_t a = H5Aopen(g, HS_SEARCH_ATTR_TARGET, H5P_DEFAULT);
        ok = out->key && out->metric && a >= 0 && H5Aread(a, H5T_NATIVE_DOUBLE, &out->target) >= 0;
        if (a >= 0) H5Aclose(a);
    }
    if (g >= 0) H5Gclose(g);
    if (!ok) {
        hs_search_table_free(out);
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot read %s", hs_reader_path(rd), sub);
    }
    return HS_OK;
}

hs_code hs_reader_search_stages(const hs_results_reader *rd, char ***names, size_t *n, hs_error *err) {
    *names = NULL, *n = 0;
    hid_t f = hs_reader_hid(rd);
    if (H5Lexists(f, HS_PATH_SEARCH, H5P_DEFAULT) <= 0) return HS_OK;
    hid_t g = H5Gopen2(f, HS_PATH_SEARCH, H5P_DEFAULT);
    if (g < 0) return HS_FAIL(err, HS_ERR_IO, "%s: cannot open %s", hs_reader_path(rd), HS_PATH_SEARCH);
    H5G_info_t info;
    size_t want = H5Gget_info(g, &info) >= 0 ? (size_t)info.nlinks : (size_t)-1;
    *names = store_list_names(g, n);
    H5Gclose(g);
    if (!*names || *n != want) {
        for (size_t i = 0; *names && i < *n; i++) free((*names)[i]);
        free(*names), *names = NULL, *n = 0;
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot list %s", hs_reader_path(rd), HS_PATH_SEARCH);
    }
    return HS_OK;
}
