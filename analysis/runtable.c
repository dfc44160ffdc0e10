/* runtable.c - see runtable.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/reader.h"
#include "hsweep/schema.h"
#include "runtable.h"

/* Non-zero when /runs/<name> is configuration (a schema key), not bookkeeping or a seed. */
static int is_config_key(const char *name) {
    static const char *const seeds[] = {"seed", "data.seed", "data.rule_seed"};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        if (!strcmp(name, seeds[i])) return 0;
    return hs_schema_find(name) >= 0;
}

/* Read /runs/<name> [R] into c: 0, or -1 (missing, another type, out of memory; c partly filled). */
static int column_read(hid_t runs, const char *name, size_t R, hs_an_column *c) {
    c->name = strdup(name);
    c->text = calloc(R + 1, sizeof *c->text);
    c->num = malloc((R + 1) * sizeof *c->num);
    if (!c->name || !c->text || !c->num) return -1;
    hid_t ds = H5Dopen2(runs, name, H5P_DEFAULT);
    hid_t t = ds >= 0 ? H5Dget_type(ds) : -1;
    int rc = t < 0 ? -1 : 0;
    H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    if (!rc && cls == H5T_STRING && H5Tis_variable_str(t) <= 0) {
        /* read with one byte more than stored and NUL termination, so every value is a C string */
        size_t w = H5Tget_size(t);
        hid_t mt = H5Tcopy(t);
        char *buf = calloc(R + 1, w + 1);
        H5Tset_size(mt, w + 1);
        H5Tset_strpad(mt, H5T_STR_NULLTERM);
        if (!buf || (R && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)) rc = -1;
        for (size_t r = 0; !rc && r < R; r++) {
            c->num[r] = NAN;
            if (!(c->text[r] = strdup(buf + r * (w + 1)))) rc = -1;
        }
        free(buf);
        H5Tclose(mt);
    } else if (!rc && (cls == H5T_INTEGER || cls == H5T_FLOAT)) {
        if (R && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->num) < 0) rc = -1;
        for (size_t r = 0; !rc && r < R; r++) {
            char b[40];
            snprintf(b, sizeof b, cls == H5T_INTEGER ? "%.0f" : "%.10g", c->num[r]);
            if (!(c->text[r] = strdup(b))) rc = -1;
        }
    } else {
        rc = -1;
    }
    if (t >= 0) H5Tclose(t);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

int hs_an_config_columns(hid_t runs, size_t R, hs_an_column **cols, size_t *n, char *bad, size_t blen) {
    *n = 0;
    if (blen) bad[0] = '\0';
    H5G_info_t gi;
    if (H5Gget_info(runs, &gi) < 0) return -1;
    if (!(*cols = calloc(gi.nlinks + 1, sizeof **cols))) return -1;
    for (hsize_t i = 0; i < gi.nlinks; i++) {
        char name[256];
        if (H5Lget_name_by_idx(runs, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0) continue;
        if (!is_config_key(name)) continue;
        if (column_read(runs, name, R, &(*cols)[(*n)++]) < 0) {
            snprintf(bad, blen, "%s", name);
            return -1;
        }
    }
    return 0;
}

void hs_an_columns_free(hs_an_column *cols, size_t n, size_t R) {
    for (size_t k = 0; cols && k < n; k++) {
        for (size_t r = 0; cols[k].text && r < R; r++) free(cols[k].text[r]);
        free(cols[k].text), free(cols[k].num), free(cols[k].name);
    }
    free(cols);
}

int hs_an_runs_cmp(const hs_an_column *cols, const int *order, size_t n, size_t a, size_t b) {
    for (size_t k = 0; k < n; k++) {
        const hs_an_column *c = &cols[order ? order[k] : (int)k];
        const int both = !isnan(c->num[a]) && !isnan(c->num[b]);
        const int d = both ? (c->num[a] > c->num[b]) - (c->num[a] < c->num[b]) : strcmp(c->text[a], c->text[b]);
        if (d) return d;
    }
    return 0;
}

int hs_an_config_columns_rd(const hs_results_reader *rd, hs_an_column **cols, size_t *n, char *bad, size_t blen) {
    *n = 0;
    if (blen) bad[0] = '\0';
    size_t R = hs_reader_n_runs(rd), nc = 0;
    hs_reader_col *rc = NULL;
    hs_error e = {0};
    if (hs_reader_columns(rd, &rc, &nc, &e) != HS_OK) {
        snprintf(bad, blen, "%s", "*");
        hs_reader_columns_free(rc, nc, R);
        return -1;
    }
    *cols = calloc(nc + 1, sizeof **cols);
    int ret = *cols ? 0 : -1;
    for (size_t k = 0; !ret && k < nc; k++) {
        if (!is_config_key(rc[k].name)) continue;
        hs_an_column *c = &(*cols)[(*n)++];
        c->name = strdup(rc[k].name);
        c->text = calloc(R + 1, sizeof *c->text);
        c->num = malloc((R + 1) * sizeof *c->num);
        if (!c->name || !c->text || !c->num) ret = -1;
        for (size_t r = 0; !ret && r < R; r++) {
            char b[40];
            if (rc[k].type == HS_COL_STR) c->num[r] = NAN, c->text[r] = strdup(rc[k].s[r]);
            else {
                c->num[r] = rc[k].type == HS_COL_INT ? (double)rc[k].i[r] : rc[k].f[r];
                snprintf(b, sizeof b, rc[k].type == HS_COL_INT ? "%.0f" : "%.10g", c->num[r]);
                c->text[r] = strdup(b);
            }
            if (!c->text[r]) ret = -1;
        }
    }
    hs_reader_columns_free(rc, nc, R);
    return ret;
}
