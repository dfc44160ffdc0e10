/* h5common.h - small helpers shared by the analysis stages (private to analysis/). Rank 0 writes
 * the stages' results with these after the collective phase, so they are serial calls. */
#ifndef HSWEEP_ANALYSIS_H5COMMON_H
#define HSWEEP_ANALYSIS_H5COMMON_H

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/analysis.h"
#include "hsweep/util.h"

/* Collective: open path read-only through MPI-IO on comm, HDF5's own error printing off. */
static inline hid_t hs_an_open_mpio(MPI_Comm comm, const char *path) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    return file;
}

/* Write the tables of one stage: <prefix>.<kind>.csv and .md, where prefix is o->prefix or the
 * results path without ".h5" (analyze.c). */
hs_code hs_an_write_tables(const hs_analyze_opts *o, const char *kind, const hs_str *csv, const hs_str *md,
                           hs_error *err);

/* "model.depth" -> "depth", for table headers and labels */
static inline const char *hs_an_short_name(const char *key) {
    const char *dot = strrchr(key, '.');
    return dot ? dot + 1 : key;
}

/* A fixed-length UTF-8 string type of n bytes (the caller closes it). */
static inline hid_t hs_an_str_type(size_t n) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, n);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* Create the 1-D dataset g/name [n] of file type ftype and write buf (memory type mtype). */
static inline int hs_an_write_ds(hid_t g, const char *name, hid_t ftype, hid_t mtype, size_t n, const void *buf) {
    hsize_t d = n;
    hid_t sp = H5Screate_simple(1, &d, NULL);
    hid_t ds = sp >= 0 ? H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int ok = ds >= 0 && (n == 0 || H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    if (ds >= 0) H5Dclose(ds);
    if (sp >= 0) H5Sclose(sp);
    return ok ? 0 : -1;
}

/* g/name [n] of fixed-length UTF-8 strings as wide as the longest (at least 1 byte); NULL = "". */
static inline int hs_an_write_strs(hid_t g, const char *name, size_t n, const char *const *v) {
    size_t w = 1;
    for (size_t i = 0; i < n; i++)
        if (v[i] && strlen(v[i]) + 1 > w) w = strlen(v[i]) + 1;
    char *buf = calloc(n + 1, w);
    if (!buf) return -1;
    for (size_t i = 0; i < n; i++)
        if (v[i]) memcpy(buf + i * w, v[i], strlen(v[i]));
    hid_t t = hs_an_str_type(w);
    int rc = hs_an_write_ds(g, name, t, t, n, buf);
    H5Tclose(t);
    free(buf);
    return rc;
}

/* A scalar float64 attribute g.name = x. */
static inline int hs_an_write_attr(hid_t g, const char *name, double x) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = sp >= 0 ? H5Acreate2(g, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int ok = a >= 0 && H5Awrite(a, H5T_NATIVE_DOUBLE, &x) >= 0;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return ok ? 0 : -1;
}

#endif
