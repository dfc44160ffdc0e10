/* tables.c - an analysis' tables stored in the results file itself (see hs_analysis_out_table in
 * include/hsweep/reader.h).
 *
 * The CSV and Markdown files beside the results file are easy to lose or to mix up between
 * sweeps (a --prefix, a copied file); a copy kept in the file travels with it, so a report or a
 * reader made from the file alone shows the same tables the analysis printed. */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

#include "hsweep/reader.h"
#include "internal.h"
#include "paths.h"

/* One variable-length UTF-8 string scalar: h5py reads it as str (with .asstr()) or bytes. */
static int write_text(hid_t group, const char *name, const char *text) {
    hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR);
    int ok = t >= 0 && s >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0;
    hid_t d = ok ? H5Dcreate2(group, name, t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    ok = d >= 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &text) >= 0;
    if (d >= 0) H5Dclose(d);
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    return ok;
}

hs_code hs_analysis_out_table(const char *path, const char *kind, const char *csv, const char *md, hs_error *err) {
    if (!kind || !kind[0] || strchr(kind, '/') || !strcmp(kind, ".") || strlen(kind) > 200)
        return HS_FAIL(err, HS_ERR_VALUE, "'%s' is no table name (one path component)", kind ? kind : "(null)");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    double bytes = (double)(csv ? strlen(csv) : 0) + (double)(md ? strlen(md) : 0);
    HS_TRY(err, store_check_room(path, bytes, "storing the analysis' tables", err));
    store_test_kill_write();
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    char pending[128];
    hid_t g = f >= 0 ? store_pending_group(f, pending, sizeof pending) : -1;
    int ok = g >= 0 && write_text(g, HS_TABLE_CSV, csv ? csv : "");
    if (ok && md && md[0]) ok = write_text(g, HS_TABLE_MD, md);
    if (g >= 0) H5Gclose(g);
    if (f >= 0) { /* a re-analysis replaces the table, once the new one is whole */
        if (ok) ok = store_commit_group(f, pending, HS_PATH_TABLES, kind) == 0;
        else store_drop_pending(f, pending);
    }
    store_test_kill_write();
    if (f >= 0 && H5Fclose(f) < 0) ok = 0;
    if (!ok) return HS_FAIL(err, HS_ERR_IO, "%s: cannot write the table %s/%s", path, HS_PATH_TABLES, kind);
    return HS_OK;
}
