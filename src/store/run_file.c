/* run_file.c - the HDF5 file of a single training (see include/hsweep/store.h).
 *
 * Serial HDF5 calls on the parallel library: the default file access property list uses the
 * sec2 driver, so this needs no communicator and works with or without mpirun. */
#include <hdf5.h>
#include <string.h>

#include "hsweep/store.h"
#include "internal.h"
#include "paths.h"

/* /series/<name> of one series: values [n x dims], point [n], attributes axes and every. */
static int write_series(hid_t sg, const hs_store_series *s) {
    if (s->ndim < 0 || s->ndim > HS_STORE_MAX_DIMS || !s->name || !s->name[0] || strchr(s->name, '/')) return -1;
    hsize_t dv[1 + HS_STORE_MAX_DIMS] = {s->n}, dp[1] = {s->n};
    size_t count = s->n;
    for (int d = 0; d < s->ndim; d++) dv[1 + d] = s->dims[d], count *= s->dims[d];
    hid_t g = H5Gcreate2(sg, s->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t vs = H5Screate_simple(1 + s->ndim, dv, NULL), ps = H5Screate_simple(1, dp, NULL);
    hid_t v = g >= 0 && vs >= 0 ? H5Dcreate2(g, HS_SERIES_VALUES, H5T_IEEE_F64LE, vs, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    hid_t p = g >= 0 && ps >= 0 ? H5Dcreate2(g, HS_SERIES_POINT, H5T_STD_I64LE, ps, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int ok = v >= 0 && p >= 0 && (count == 0 || H5Dwrite(v, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, s->values) >= 0) &&
             (s->n == 0 || H5Dwrite(p, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, s->point) >= 0) &&
             store_attr_string(g, HS_SERIES_AXES, s->axes ? s->axes : "") >= 0;
    if (ok && s->every) {
        long long every = (long long)s->every;
        hid_t as = H5Screate(H5S_SCALAR);
        hid_t a = as >= 0 ? H5Acreate2(g, HS_SERIES_EVERY, H5T_STD_I64LE, as, H5P_DEFAULT, H5P_DEFAULT) : -1;
        ok = a >= 0 && H5Awrite(a, H5T_NATIVE_LLONG, &every) >= 0;
        if (a >= 0) H5Aclose(a);
        if (as >= 0) H5Sclose(as);
    }
    if (p >= 0) H5Dclose(p);
    if (v >= 0) H5Dclose(v);
    if (ps >= 0) H5Sclose(ps);
    if (vs >= 0) H5Sclose(vs);
    if (g >= 0) H5Gclose(g);
    return ok ? 0 : -1;
}

hs_code hs_store_write_run(const char *path, const hs_store_attr *attrs, size_t n_attrs,
                           const hs_store_column *cols, size_t n_cols, size_t n_rows, const hs_store_matrix *mats,
                           size_t n_mats, const hs_store_series *series, size_t n_series, hs_error *err) {
    hid_t file;
    hs_code rc = store_create_single(path, attrs, n_attrs, &file, err);
    if (rc != HS_OK) return rc;

    hid_t group = rc == HS_OK ? H5Gcreate2(file, HS_GROUP_RECORDS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (rc == HS_OK && group < 0) rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot create the group " HS_PATH_RECORDS, path);
    hsize_t dims[1] = {n_rows};
    hid_t space = rc == HS_OK ? H5Screate_simple(1, dims, NULL) : -1;
    for (size_t i = 0; i < n_cols && rc == HS_OK; i++) {
        hid_t ds = H5Dcreate2(group, cols[i].name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        herr_t st = ds >= 0 && (n_rows == 0 || H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                                        cols[i].values) >= 0)
                        ? 0
                        : -1;
        if (ds >= 0) H5Dclose(ds);
        if (st < 0) rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot write the dataset " HS_PATH_RECORDS "/%s", path, cols[i].name);
    }
    if (space >= 0) H5Sclose(space);
    if (group >= 0) H5Gclose(group);
    hid_t lg = rc == HS_OK && n_mats ? H5Gcreate2(file, HS_GROUP_LAYERS, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (rc == HS_OK && n_mats && lg < 0) rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot create the group " HS_PATH_LAYERS, path);
    for (size_t i = 0; i < n_mats && rc == HS_OK; i++) {
        hsize_t d2[2] = {mats[i].rows, mats[i].cols};
        hid_t sp = H5Screate_simple(2, d2, NULL);
        hid_t ds = sp >= 0 ? H5Dcreate2(lg, mats[i].name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
        int ok = ds >= 0 && (mats[i].rows * mats[i].cols == 0 ||
                             H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, mats[i].values) >= 0);
        if (ds >= 0) H5Dclose(ds);
        if (sp >= 0) H5Sclose(sp);
        if (!ok) rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot write the dataset " HS_PATH_LAYERS "/%s", path, mats[i].name);
    }
    if (lg >= 0) H5Gclose(lg);
    hid_t sg = rc == HS_OK && n_series ? H5Gcreate2(file, HS_GROUP_SERIES, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (rc == HS_OK && n_series && sg < 0) rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot create the group " HS_PATH_SERIES, path);
    for (size_t i = 0; i < n_series && rc == HS_OK; i++)
        if (write_series(sg, &series[i]))
            rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot write the series " HS_PATH_SERIES "/%s", path, series[i].name);
    if (sg >= 0) H5Gclose(sg);
    if (H5Fclose(file) < 0 && rc == HS_OK) rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot close the HDF5 file", path);
    return rc;
}
