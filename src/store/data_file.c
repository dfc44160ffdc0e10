/* data_file.c - the data file of one run (`hsweep data`; see include/hsweep/store.h). Serial HDF5
 * on the default (sec2) driver, as the file of one training; a .npz name goes to data_npz.c. */
#include <hdf5.h>
#include <string.h>

#include "hsweep/store.h"
#include "internal.h"
#include "paths.h"

/* One dataset of nd dims from buf (mem type mt, file type ft); 0 or -1. */
static int write_ds(hid_t g, const char *name, hid_t ft, hid_t mt, int nd, const hsize_t *dims, const void *buf) {
    hid_t sp = H5Screate_simple(nd, dims, NULL);
    hid_t ds = sp >= 0 ? H5Dcreate2(g, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    hsize_t count = 1;
    for (int d = 0; d < nd; d++) count *= dims[d];
    int rc = ds >= 0 && (count == 0 || H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0) ? 0 : -1;
    if (ds >= 0) H5Dclose(ds);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

/* /<group>/x, y (and t) of one set; the failing dataset's name into *what. */
static int write_set(hid_t file, const char *group, const hs_store_set *s, const char **what) {
    hid_t g = H5Gcreate2(file, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    *what = group;
    if (g < 0) return -1;
    const hsize_t n = (hsize_t)s->n;
    int image = s->channels > 0 && s->height > 0 && s->width > 0 &&
                (long long)s->channels * s->height * s->width == (long long)s->dim;
    hsize_t dx[4] = {n, (hsize_t)s->dim}, dy[1] = {n}, dt[2] = {n, (hsize_t)s->t_dim};
    if (image) dx[1] = (hsize_t)s->channels, dx[2] = (hsize_t)s->height, dx[3] = (hsize_t)s->width;
    int rc = write_ds(g, HS_DATA_X, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, image ? 4 : 2, dx, s->x);
    if (rc) *what = HS_DATA_X;
    if (!rc && (rc = write_ds(g, HS_DATA_Y, H5T_STD_I32LE, H5T_NATIVE_INT32, 1, dy, s->y))) *what = HS_DATA_Y;
    if (!rc && s->t && s->t_dim > 0 && (rc = write_ds(g, HS_DATA_T, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dt, s->t))) *what = HS_DATA_T;
    H5Gclose(g);
    return rc;
}

hs_code store_write_data_npz(const char *path, const hs_store_attr *attrs, size_t n_attrs, const hs_store_set *train,
                             const hs_store_set *test, hs_error *err); /* data_npz.c */

hs_code hs_store_write_data(const char *path, const hs_store_attr *attrs, size_t n_attrs, const hs_store_set *train,
                            const hs_store_set *test, hs_error *err) {
    hs_store_attr all[16];
    size_t n = 0;
    all[n++] = (hs_store_attr){HS_DATA_ATTR_FORMAT, HS_DATA_FORMAT};
    for (size_t i = 0; i < n_attrs && n < 16; i++) all[n++] = attrs[i];
    size_t len = strlen(path);
    if (len > 4 && !strcmp(path + len - 4, ".npz")) return store_write_data_npz(path, all, n, train, test, err);
    hid_t file;
    hs_code rc = store_create_single(path, all, n, &file, err);
    if (rc != HS_OK) return rc;
    const char *what = "";
    if (rc == HS_OK && write_set(file, HS_DATA_GROUP_TRAIN, train, &what))
        rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot write /" HS_DATA_GROUP_TRAIN "/%s", path, what);
    if (rc == HS_OK && write_set(file, HS_DATA_GROUP_TEST, test, &what))
        rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot write /" HS_DATA_GROUP_TEST "/%s", path, what);
    if (H5Fclose(file) < 0 && rc == HS_OK) rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot close the HDF5 file", path);
    return rc;
}
