/* reader.c - read a results file by meaning, write an analysis back (see include/hsweep/reader.h).
 *
 * The only place outside the writer that knows the file's paths. The reader opens read-only and
 * never touches the lock, as `hsweep status` does; over several ranks it opens through MPI-IO
 * (independent metadata reads, so a rank reading its own block never waits for the others). */
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/reader.h"
#include "hsweep/schema.h"
#include "internal.h"
#include "paths.h"

/* ================================================================ the canonical config parser */

hs_code hs_canon_parse(const char *text, hs_canon_config *out, hs_error *err) {
    memset(out, 0, sizeof *out);
    out->text = strdup(text ? text : "");
    size_t cap = 1;
    for (const char *p = out->text; p && *p; p++) cap += *p == '\n';
    out->pairs = out->text ? calloc(cap, sizeof *out->pairs) : NULL;
    if (!out->pairs) {
        hs_canon_free(out);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory parsing a config");
    }
    int first = 1;
    for (char *line = out->text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        char *eq = strchr(line, '=');
        if (!first && eq) { /* the first line is the format tag */
            *eq = '\0';
            out->pairs[out->n++] = (hs_canon_kv){line, eq + 1};
        }
        first = 0;
    }
    return HS_OK;
}

const char *hs_canon_get(const hs_canon_config *c, const char *key) {
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->pairs[i].key, key)) return c->pairs[i].val;
    return NULL;
}

hs_code hs_canon_default(const char *key, hs_str *out) {
    int k = hs_schema_find(key);
    if (k < 0) return HS_OK;
    const hs_key *def = hs_schema_key((size_t)k);
    hs_value v;
    char why[256];
    if (hs_value_parse(def, def->def, &v, why, sizeof why) != HS_OK) return hs_str_printf(out, "%s", def->def);
    hs_code rc = hs_value_canon(&v, out);
    hs_value_free(&v);
    return rc;
}

/* Strip the JSON quotes of a canonical string (\" and \\ unescaped) into out. */
static void json_unquote(const char *t, hs_str *out) {
    size_t n = strlen(t);
    if (n < 2 || t[0] != '"' || t[n - 1] != '"') {
        hs_str_printf(out, "%s", t);
        return;
    }
    for (size_t i = 1; i + 1 < n; i++) {
        if (t[i] == '\\' && i + 2 < n) i++;
        hs_str_append(out, t + i, 1);
    }
    if (!out->buf) hs_str_printf(out, "%s", "");
}

hs_code hs_canon_typed(const hs_canon_config *c, hs_train_config *cfg, hs_error *err) {
    size_t K = hs_schema_count();
    hs_value *vals = calloc(K + 1, sizeof *vals);
    const hs_value **ptr = calloc(K + 1, sizeof *ptr);
    hs_code rc = HS_OK;
    if (!vals || !ptr) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    hs_str v = {0};
    char why[256];
    for (size_t i = 0; rc == HS_OK && i < c->n; i++) {
        int k = hs_schema_find(c->pairs[i].key);
        if (k < 0 || ptr[k]) continue;
        hs_str_reset(&v);
        json_unquote(c->pairs[i].val, &v);
        if (hs_value_parse(hs_schema_key((size_t)k), v.buf ? v.buf : "", &vals[k], why, sizeof why) != HS_OK)
            rc = HS_FAIL(err, HS_ERR_VALUE, "%s=%s: %s", c->pairs[i].key, c->pairs[i].val, why);
        else ptr[k] = &vals[k];
    }
    for (size_t k = 0; rc == HS_OK && k < K; k++) {
        if (ptr[k]) continue;
        const hs_key *key = hs_schema_key(k);
        if (hs_value_parse(key, key->def, &vals[k], why, sizeof why) != HS_OK)
            rc = HS_FAIL(err, HS_ERR_INTERNAL, "%s: default '%s': %s", key->name, key->def, why);
        else ptr[k] = &vals[k];
    }
    if (rc == HS_OK) rc = hs_train_config_from_values(ptr, cfg, err);
    for (size_t k = 0; vals && k < K; k++)
        if (ptr && ptr[k]) hs_value_free(&vals[k]);
    hs_str_free(&v);
    free(vals), free(ptr);
    return rc;
}

void hs_canon_free(hs_canon_config *c) {
    free(c->text), free(c->pairs);
    memset(c, 0, sizeof *c);
}

/* ================================================================ the reader */

struct hs_results_reader {
    hid_t file;
    char *path;
    size_t R;
    char **ids, **configs, **prov; /* prov: NULL in a file without /runs/provenance */
    unsigned char *state;
    int *in_plan;
};

/* A fixed-length string column [R] into owned C strings (read one byte wider, NUL-terminated). */
static int read_strings(hid_t file, const char *name, size_t R, char **out) {
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t t = ds >= 0 ? H5Dget_type(ds) : -1;
    int rc = t < 0 || H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) > 0 ? -1 : 0;
    size_t w = rc ? 0 : H5Tget_size(t);
    char *buf = rc ? NULL : calloc(R + 1, w + 1);
    hid_t mt = rc ? -1 : H5Tcopy(t);
    if (!rc && (!buf || mt < 0 || H5Tset_size(mt, w + 1) < 0 || H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
                (R && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)))
        rc = -1;
    for (size_t r = 0; !rc && r < R; r++)
        if (!(out[r] = strdup(buf + r * (w + 1)))) rc = -1;
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    if (t >= 0) H5Tclose(t);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* Does the object at path exist (its parents too)? */
static int exists(hid_t file, const char *path) {
    char buf[512];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return 0;
    for (char *p = buf + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        if (H5Lexists(file, buf, H5P_DEFAULT) <= 0) return 0;
        *p = '/';
    }
    return H5Lexists(file, buf, H5P_DEFAULT) > 0;
}

static void reader_free(hs_results_reader *rd) {
    for (size_t r = 0; r < rd->R; r++) {
        if (rd->ids) free(rd->ids[r]);
        if (rd->configs) free(rd->configs[r]);
        if (rd->prov) free(rd->prov[r]);
    }
    free(rd->prov);
    free(rd->ids), free(rd->configs), free(rd->state), free(rd->in_plan), free(rd->path);
    free(rd);
}

hs_code hs_reader_open(MPI_Comm comm, const char *path, hs_results_reader **out, hs_error *err) {
    *out = NULL;
    int nranks = 1;
    if (comm != MPI_COMM_NULL) MPI_Comm_size(comm, &nranks);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hs_results_reader *rd = calloc(1, sizeof *rd);
    char why[512] = "";
    int rc = rd ? 0 : -1;
    if (!rd) snprintf(why, sizeof why, "out of memory");
    if (!rc) {
        rd->file = -1;
        rd->path = strdup(path);
        int refused = store_path_unopenable(path, why, sizeof why);
        hid_t fapl = refused ? -1 : store_read_access(comm);
        rd->file = fapl >= 0 ? H5Fopen(path, H5F_ACC_RDONLY, fapl) : -1;
        if (rd->file < 0 && !refused) store_open_failure(path, why, sizeof why);
        if (fapl >= 0) H5Pclose(fapl);
        if (rd->file < 0) rc = -1;
    }
    hsize_t R = 0;
    if (!rc) {
        hid_t ds = exists(rd->file, HS_PATH_RUNS_STATUS) ? H5Dopen2(rd->file, HS_PATH_RUNS_STATUS, H5P_DEFAULT) : -1;
        hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
        if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1 || H5Sget_simple_extent_dims(sp, &R, NULL) < 0)
            snprintf(why, sizeof why, "%s: not an hsweep results file (no /runs/status)", path), rc = -1;
        rd->R = R;
        rd->state = calloc(R + 1, 1);
        rd->in_plan = malloc((R + 1) * sizeof *rd->in_plan);
        rd->ids = calloc(R + 1, sizeof *rd->ids);
        rd->configs = calloc(R + 1, sizeof *rd->configs);
        if (!rc && (!rd->state || !rd->in_plan || !rd->ids || !rd->configs))
            snprintf(why, sizeof why, "out of memory"), rc = -1;
        if (!rc && R && H5Dread(ds, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, rd->state) < 0)
            snprintf(why, sizeof why, "%s: cannot read /runs/status", path), rc = -1;
        if (sp >= 0) H5Sclose(sp);
        if (ds >= 0) H5Dclose(ds);
    }
    if (!rc && (!exists(rd->file, HS_PATH_RUNS_CONFIG) || read_strings(rd->file, HS_PATH_RUNS_CONFIG, R, rd->configs) < 0))
        snprintf(why, sizeof why, "%s: cannot read /runs/config", path), rc = -1;
    if (!rc && (!exists(rd->file, HS_PATH_RUNS_ID) || read_strings(rd->file, HS_PATH_RUNS_ID, R, rd->ids) < 0))
        snprintf(why, sizeof why, "%s: cannot read /runs/id", path), rc = -1;
    for (size_t r = 0; !rc && r < R; r++) rd->in_plan[r] = 1;
    if (!rc && exists(rd->file, HS_PATH_RUNS_IN_PLAN)) {
        hid_t ds = H5Dopen2(rd->file, HS_PATH_RUNS_IN_PLAN, H5P_DEFAULT);
        if (ds < 0 || (R && H5Dread(ds, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, rd->in_plan) < 0))
            snprintf(why, sizeof why, "%s: cannot read /runs/in_plan", path), rc = -1;
        if (ds >= 0) H5Dclose(ds);
    }
    if (!rc && exists(rd->file, HS_PATH_RUNS_PROVENANCE) &&
        (!(rd->prov = calloc(R + 1, sizeof *rd->prov)) || read_strings(rd->file, HS_PATH_RUNS_PROVENANCE, R, rd->prov) < 0))
        snprintf(why, sizeof why, "%s: cannot read " HS_PATH_RUNS_PROVENANCE, path), rc = -1;
    /* every rank opened or none did: a rank that failed alone would leave the others in close */
    int all = rc;
    if (nranks > 1) MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm);
    if (all < 0) {
        if (rd && rd->file >= 0) H5Fclose(rd->file);
        if (rd) reader_free(rd);
        if (!why[0]) snprintf(why, sizeof why, "another rank failed to open %s", path);
        HS_FAIL(err, HS_ERR_IO, "%s", why);
        hs_error_hint(err, "%s", store_unopenable_hint(why));
        return HS_ERR_IO;
    }
    *out = rd;
    return HS_OK;
}

void hs_reader_close(hs_results_reader *rd) {
    if (!rd) return;
    if (rd->file >= 0) H5Fclose(rd->file);
    reader_free(rd);
}

const char *hs_reader_path(const hs_results_reader *rd) { return rd->path; }
hid_t hs_reader_hid(const hs_results_reader *rd); /* for search.c, the other reader of the file */
hid_t hs_reader_hid(const hs_results_reader *rd) { return rd->file; }
size_t hs_reader_n_runs(const hs_results_reader *rd) { return rd->R; }
const char *hs_reader_id(const hs_results_reader *rd, size_t i) { return rd->ids[i]; }
hs_run_state hs_reader_state(const hs_results_reader *rd, size_t i) { return (hs_run_state)rd->state[i]; }
int hs_reader_finished(const hs_results_reader *rd, size_t i) {
    return rd->state[i] == HS_STATE_DONE || rd->state[i] == HS_STATE_DIVERGED;
}
int hs_reader_in_plan(const hs_results_reader *rd, size_t i) { return rd->in_plan[i] != 0; }
const char *hs_reader_config(const hs_results_reader *rd, size_t i) { return rd->configs[i]; }
const char *hs_reader_provenance(const hs_results_reader *rd, size_t i) {
    return rd->prov && rd->prov[i] ? rd->prov[i] : "";
}
const char *hs_reader_provenance_field(const hs_results_reader *rd, size_t i, const char *key, char *buf, size_t n) {
    snprintf(buf, n, "unknown");
    size_t k = strlen(key);
    for (const char *line = hs_reader_provenance(rd, i); *line;) {
        size_t len = strcspn(line, "\n");
        if (len > k && !strncmp(line, key, k) && line[k] == '=') {
            snprintf(buf, n, "%.*s", (int)(len - k - 1), line + k + 1);
            break;
        }
        line += len + (line[len] == '\n');
    }
    return buf;
}

hs_code hs_reader_final(const hs_results_reader *rd, const char *name, double *out, hs_error *err) {
    int nd;
    size_t dims[HS_READER_MAX_DIMS];
    const size_t R = rd->R;
    if (hs_reader_dims(rd, HS_READ_RECORDS, name, &nd, dims) != HS_OK || nd != 2 || dims[0] != R)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: no record '%s' of one value per run and point", rd->path, name);
    const size_t N = dims[1];
    double *buf = malloc((R * N + 1) * sizeof *buf);
    if (!buf) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory reading %s", name);
    hs_code rc = hs_reader_rows(rd, HS_READ_RECORDS, name, 0, R, buf, err);
    if (rc != HS_OK) {
        free(buf);
        return rc;
    }
    for (size_t i = 0; i < R; i++) {
        out[i] = NAN;
        if (!hs_reader_finished(rd, i)) continue;
        for (size_t t = N; t-- > 0;)
            if (!isnan(buf[i * N + t])) {
                out[i] = buf[i * N + t];
                break;
            }
    }
    free(buf);
    return HS_OK;
}

/* The dataset path of (t, name) into buf; -1 when it does not fit or name holds a '/'. */
static int table_path(hs_read_table t, const char *name, char *buf, size_t len) {
    if (strchr(name, '/')) return -1;
    int n = -1;
    switch (t) {
    case HS_READ_RECORDS: n = snprintf(buf, len, "%s/%s", HS_PATH_RECORDS, name); break;
    case HS_READ_LAYERS: n = snprintf(buf, len, "%s/%s", HS_PATH_LAYERS, name); break;
    case HS_READ_SERIES: n = snprintf(buf, len, "%s/%s/%s", HS_PATH_SERIES, name, HS_SERIES_VALUES); break;
    case HS_READ_SERIES_POINT: n = snprintf(buf, len, "%s/%s/%s", HS_PATH_SERIES, name, HS_SERIES_POINT); break;
    }
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

hs_code hs_reader_dims(const hs_results_reader *rd, hs_read_table t, const char *name, int *nd, size_t *dims) {
    char p[512];
    *nd = 0;
    if (table_path(t, name, p, sizeof p) < 0 || !exists(rd->file, p)) return HS_ERR_VALUE;
    hid_t ds = H5Dopen2(rd->file, p, H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    int n = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t d[HS_READER_MAX_DIMS];
    int ok = n >= 1 && n <= HS_READER_MAX_DIMS && H5Sget_simple_extent_dims(sp, d, NULL) >= 0;
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    if (!ok) return HS_ERR_VALUE;
    *nd = n;
    for (int k = 0; k < n; k++) dims[k] = (size_t)d[k];
    return HS_OK;
}

int hs_reader_has(const hs_results_reader *rd, hs_read_table t, const char *name) {
    char p[512];
    if (table_path(t, name, p, sizeof p) < 0 || !exists(rd->file, p)) return 0;
    if (t == HS_READ_SERIES || t == HS_READ_SERIES_POINT) {
        char v[512], q[512];
        return table_path(HS_READ_SERIES, name, v, sizeof v) == 0 && exists(rd->file, v) &&
               table_path(HS_READ_SERIES_POINT, name, q, sizeof q) == 0 && exists(rd->file, q);
    }
    return 1;
}

hs_code hs_reader_rows(const hs_results_reader *rd, hs_read_table t, const char *name, size_t r0, size_t n,
                       double *buf, hs_error *err) {
    if (n == 0) return HS_OK;
    char p[512];
    if (table_path(t, name, p, sizeof p) < 0) return HS_FAIL(err, HS_ERR_VALUE, "%s: bad array name '%s'", rd->path, name);
    hid_t ds = H5Dopen2(rd->file, p, H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    hsize_t dims[HS_READER_MAX_DIMS], start[HS_READER_MAX_DIMS] = {0}, count[HS_READER_MAX_DIMS];
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1, ok = 0;
    if (nd >= 1 && nd <= HS_READER_MAX_DIMS && H5Sget_simple_extent_dims(sp, dims, NULL) >= 0) {
        for (int d = 0; d < nd; d++) count[d] = dims[d];
        start[0] = r0, count[0] = n;
        hid_t ms = H5Screate_simple(nd, count, NULL);
        ok = ms >= 0 && H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             H5Dread(ds, H5T_NATIVE_DOUBLE, ms, sp, H5P_DEFAULT, buf) >= 0;
        if (ms >= 0) H5Sclose(ms);
    }
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return ok ? HS_OK : HS_FAIL(err, HS_ERR_IO, "%s: cannot read %s rows %zu..%zu", rd->path, p, r0, r0 + n);
}

/* Non-zero when /runs/<name> is configuration (a schema key), not bookkeeping. */
static int is_config_key(const char *name) { return hs_schema_find(name) >= 0; }

/* Read /runs/<name> [R] into c: 0, or -1 (missing, another type, out of memory; c partly filled). */
static int column_read(hid_t runs, const char *name, size_t R, hs_reader_col *c) {
    c->name = strdup(name);
    if (!c->name) return -1;
    hid_t ds = H5Dopen2(runs, name, H5P_DEFAULT);
    hid_t t = ds >= 0 ? H5Dget_type(ds) : -1;
    int rc = t < 0 ? -1 : 0;
    H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    if (!rc && cls == H5T_STRING && H5Tis_variable_str(t) <= 0) {
        c->type = HS_COL_STR;
        c->s = calloc(R + 1, sizeof *c->s);
        H5Dclose(ds), ds = -1;
        char p[512];
        snprintf(p, sizeof p, "%s", name);
        rc = c->s ? read_strings(runs, p, R, c->s) : -1;
    } else if (!rc && cls == H5T_INTEGER) {
        c->type = HS_COL_INT;
        c->i = malloc((R + 1) * sizeof *c->i);
        if (!c->i || (R && H5Dread(ds, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->i) < 0)) rc = -1;
    } else if (!rc && cls == H5T_FLOAT) {
        c->type = HS_COL_FLOAT;
        c->f = malloc((R + 1) * sizeof *c->f);
        if (!c->f || (R && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->f) < 0)) rc = -1;
    } else {
        rc = -1;
    }
    if (t >= 0) H5Tclose(t);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

hs_code hs_reader_columns(const hs_results_reader *rd, hs_reader_col **cols, size_t *n, hs_error *err) {
    *n = 0, *cols = NULL;
    hid_t runs = H5Gopen2(rd->file, HS_PATH_RUNS, H5P_DEFAULT);
    H5G_info_t gi;
    if (runs < 0 || H5Gget_info(runs, &gi) < 0) {
        if (runs >= 0) H5Gclose(runs);
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot read the run table", rd->path);
    }
    hs_code rc = HS_OK;
    if (!(*cols = calloc(gi.nlinks + 1, sizeof **cols))) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (hsize_t i = 0; rc == HS_OK && i < gi.nlinks; i++) {
        char name[256];
        if (H5Lget_name_by_idx(runs, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0) continue;
        if (!is_config_key(name)) continue;
        if (column_read(runs, name, rd->R, &(*cols)[(*n)++]) < 0)
            rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot read /runs/%s", rd->path, name);
    }
    H5Gclose(runs);
    return rc;
}

void hs_reader_columns_free(hs_reader_col *cols, size_t n, size_t R) {
    for (size_t k = 0; cols && k < n; k++) {
        for (size_t r = 0; cols[k].s && r < R; r++) free(cols[k].s[r]);
        free(cols[k].s), free(cols[k].i), free(cols[k].f), free(cols[k].name);
    }
    free(cols);
}

hs_code hs_reader_attr(const hs_results_reader *rd, const char *name, hs_str *out, hs_error *err) {
    if (H5Aexists(rd->file, name) <= 0) return HS_ERR_VALUE;
    hid_t a = H5Aopen(rd->file, name, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1;
    hs_code rc = HS_OK;
    if (t < 0 || H5Tget_class(t) != H5T_STRING) rc = HS_FAIL(err, HS_ERR_VALUE, "%s: attribute %s is not text", rd->path, name);
    else if (H5Tis_variable_str(t) > 0) {
        char *s = NULL;
        hid_t mt = H5Tcopy(t);
        if (H5Aread(a, mt, &s) < 0 || !s) rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot read attribute %s", rd->path, name);
        else rc = hs_str_printf(out, "%s", s);
        if (s) H5free_memory(s);
        H5Tclose(mt);
    } else {
        size_t w = H5Tget_size(t);
        char *s = calloc(w + 2, 1);
        hid_t mt = H5Tcopy(t);
        H5Tset_size(mt, w + 1);
        H5Tset_strpad(mt, H5T_STR_NULLTERM);
        if (!s || H5Aread(a, mt, s) < 0) rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot read attribute %s", rd->path, name);
        else rc = hs_str_printf(out, "%s", s);
        free(s);
        H5Tclose(mt);
    }
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return rc;
}

/* ================================================================ writing an analysis back */

void store_test_kill_write(void) {
    static long count;
    const char *v = getenv("HSWEEP_TEST_KILL_WRITE");
    if (v && *v && ++count >= atol(v)) raise(SIGKILL);
}

struct hs_analysis_out {
    hid_t file, group;   /* group: the new analysis, under /.pending until the close commits it */
    char *path, *name;
    char pending[128];
    char failed[256]; /* the first write that failed, "" when none */
    char why[300];    /* its cause when known */
};

hs_code hs_analysis_out_open(const char *path, const char *name, hs_analysis_out **out, hs_error *err) {
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    HS_TRY(err, store_check_room(path, 0, "writing the analysis", err));
    hs_analysis_out *g = calloc(1, sizeof *g);
    if (!g) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    g->group = -1;
    g->path = strdup(path), g->name = strdup(name);
    store_test_kill_write();
    g->file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    /* the old analysis stays whole until the close commits the new one (store_pending_group) */
    if (g->file >= 0 && g->path && g->name) g->group = store_pending_group(g->file, g->pending, sizeof g->pending);
    if (g->group < 0) {
        hs_code rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot open for writing the analysis (/analysis/%s)", path, name);
        if (g->file >= 0) H5Fclose(g->file);
        free(g->path), free(g->name), free(g);
        return rc;
    }
    *out = g;
    return HS_OK;
}

hs_code hs_analysis_out_close(hs_analysis_out *g, hs_code fail_code, hs_error *err) {
    if (!g) return fail_code;
    hs_code rc = HS_OK;
    if (g->failed[0])
        rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot write /analysis/%s/%s%s%s", g->path, g->name, g->failed,
                     g->why[0] ? ": " : "", g->why);
    else if (fail_code != HS_OK) rc = HS_FAIL(err, fail_code, "%s: cannot write /analysis/%s", g->path, g->name);
    if (g->group >= 0) H5Gclose(g->group);
    if (rc == HS_OK && store_commit_group(g->file, g->pending, HS_PATH_ANALYSIS, g->name) < 0)
        rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot put /analysis/%s in place", g->path, g->name);
    if (rc != HS_OK) store_drop_pending(g->file, g->pending); /* the previous analysis, if any, stays */
    store_test_kill_write();
    if (g->file >= 0 && H5Fclose(g->file) < 0 && rc == HS_OK)
        rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot close after writing /analysis/%s", g->path, g->name);
    free(g->path), free(g->name), free(g);
    return rc;
}

static hs_code note(hs_analysis_out *g, const char *name, int ok) {
    if (ok) return HS_OK;
    if (!g->failed[0]) snprintf(g->failed, sizeof g->failed, "%s", name);
    return HS_ERR_IO;
}

hs_code hs_aout_group(hs_analysis_out *g, const char *name) {
    store_test_kill_write();
    hid_t s = H5Gcreate2(g->group, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (s >= 0) H5Gclose(s);
    return note(g, name, s >= 0);
}

/* g/name with dims [nd] of file type ftype from buf (memory type mtype). */
static hs_code write_nd(hs_analysis_out *g, const char *name, hid_t ftype, hid_t mtype, int nd, const size_t *dims,
                        const void *buf) {
    store_test_kill_write();
    hsize_t d[HS_READER_MAX_DIMS];
    size_t total = 1;
    for (int k = 0; k < nd && k < HS_READER_MAX_DIMS; k++) d[k] = dims[k], total *= dims[k];
    if (g->failed[0]) return note(g, name, 0); /* nothing more once a write failed */
    /* each piece only with room for it and the close's flush (store_check_room says why) */
    double bytes = (double)total * (double)H5Tget_size(ftype);
    if (store_room_for(MPI_COMM_SELF, g->path, bytes + STORE_ROOM_MARGIN, g->why, sizeof g->why))
        return note(g, name, 0);
    hid_t sp = nd >= 1 && nd <= HS_READER_MAX_DIMS ? H5Screate_simple(nd, d, NULL) : -1;
    hid_t ds = sp >= 0 ? H5Dcreate2(g->group, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int ok = ds >= 0 && (total == 0 || H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    if (ds >= 0) H5Dclose(ds);
    if (sp >= 0) H5Sclose(sp);
    return note(g, name, ok);
}

hs_code hs_aout_f64(hs_analysis_out *g, const char *name, int nd, const size_t *dims, const double *v) {
    return write_nd(g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, nd, dims, v);
}

hs_code hs_aout_i32(hs_analysis_out *g, const char *name, int nd, const size_t *dims, const int *v) {
    return write_nd(g, name, H5T_STD_I32LE, H5T_NATIVE_INT, nd, dims, v);
}

hs_code hs_aout_i8(hs_analysis_out *g, const char *name, size_t n, const signed char *v) {
    return write_nd(g, name, H5T_STD_I8LE, H5T_NATIVE_SCHAR, 1, &n, v);
}

hs_code hs_aout_strs(hs_analysis_out *g, const char *name, size_t n, const char *const *v) {
    size_t w = 1;
    for (size_t i = 0; i < n; i++)
        if (v[i] && strlen(v[i]) + 1 > w) w = strlen(v[i]) + 1;
    char *buf = calloc(n + 1, w);
    if (!buf) return note(g, name, 0);
    for (size_t i = 0; i < n; i++)
        if (v[i]) memcpy(buf + i * w, v[i], strlen(v[i]));
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, w);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hs_code rc = write_nd(g, name, t, t, 1, &n, buf);
    H5Tclose(t);
    free(buf);
    return rc;
}

hs_code hs_aout_attr(hs_analysis_out *g, const char *group, const char *name, double x) {
    store_test_kill_write();
    hid_t at = group && group[0] ? H5Gopen2(g->group, group, H5P_DEFAULT) : g->group;
    hid_t sp = at >= 0 ? H5Screate(H5S_SCALAR) : -1;
    hid_t a = sp >= 0 ? H5Acreate2(at, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int ok = a >= 0 && H5Awrite(a, H5T_NATIVE_DOUBLE, &x) >= 0;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    if (at >= 0 && at != g->group) H5Gclose(at);
    return note(g, name, ok);
}
