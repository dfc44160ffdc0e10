/* results_table.c - the run table (/runs): its bookkeeping columns, the typed key columns and the
 * rows' initial values.
 *
 * Fixed-length string cells, widths from paths.h. Rank 0 writes a new row's cells and its id
 * last: a row counts once its id is there, so a grow cut short leaves no half row behind. */
#define _GNU_SOURCE /* fallocate(2), gmtime_r, statvfs */
#include "internal.h"

/* ================================================================ the run table */

/* Bookkeeping columns of /runs besides id, config and the typed key columns. */
enum { BOOK_STATE, BOOK_I32, BOOK_F64, BOOK_I64, BOOK_ERR };
static const struct {
    const char *name;
    int type;
} book[] = {{HS_RUNS_STATUS, BOOK_STATE}, {HS_RUNS_RANK, BOOK_I32},        {HS_RUNS_ATTEMPTS, BOOK_I32},
            {HS_RUNS_START, BOOK_F64},    {HS_RUNS_END, BOOK_F64},         {HS_RUNS_WALL, BOOK_F64},
            {HS_RUNS_EPOCHS_DONE, BOOK_I64}, {HS_RUNS_STEPS, BOOK_I64},    {HS_RUNS_ERROR, BOOK_ERR},
            {HS_RUNS_STEPS_TOTAL, BOOK_I64}, {HS_RUNS_IN_PLAN, BOOK_I32}};

size_t store_book_count(void) { return sizeof book / sizeof book[0]; }
const char *store_book_name(size_t c) { return book[c].name; }

/* The file type of bookkeeping column c (H5T_ names are run-time values, hence a function). */
hid_t store_book_type(size_t c, hid_t state_type, hid_t err_type) {
    switch (book[c].type) {
    case BOOK_STATE: return state_type;
    case BOOK_I32: return H5T_STD_I32LE;
    case BOOK_F64: return H5T_IEEE_F64LE;
    case BOOK_I64: return H5T_STD_I64LE;
    default: return err_type;
    }
}

/* Width for a fixed-length string column: twice the longest value (room for appended runs). */
size_t store_str_width(const char *const *s, size_t n, size_t floor) {
    size_t w = 1;
    for (size_t r = 0; r < n; r++) {
        size_t k = strlen(s[r]) + 1;
        if (k > w) w = k;
    }
    w = 2 * w;
    return w > floor ? w : floor;
}

/* Size in bytes of a string dataset's elements, or 0. */
size_t store_ds_str_size(hid_t loc, const char *name) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return 0;
    hid_t t = H5Dget_type(ds);
    size_t n = t >= 0 && H5Tget_class(t) == H5T_STRING ? H5Tget_size(t) : 0;
    if (t >= 0) H5Tclose(t);
    H5Dclose(ds);
    return n;
}

/* Collective: the dataset of one typed key column, rows = R. */
int store_create_col(hid_t runs, const hs_results_col *col, size_t R, size_t n_values) {
    hsize_t d1[1] = {R};
    hid_t t = col->type == HS_COL_INT ? H5T_STD_I64LE : col->type == HS_COL_FLOAT ? H5T_IEEE_F64LE : -1, ts = -1;
    if (col->type == HS_COL_STR) t = ts = store_str_type(store_str_width(col->s, n_values, HS_KEY_STR_MIN_WIDTH));
    hid_t ds = t >= 0 ? store_create_ds(runs, col->name, t, 1, d1, NULL) : -1;
    if (ds >= 0) H5Dclose(ds);
    if (ts >= 0) H5Tclose(ts);
    return ds >= 0 ? 0 : -1;
}

/* Pack strings s[from..to) into fixed-width cells; -1 when one does not fit. */
static char *pack(const char *const *s, size_t from, size_t to, size_t width) {
    char *buf = calloc(to - from + 1, width);
    for (size_t r = from; buf && r < to; r++) {
        size_t n = strlen(s[r]);
        if (n >= width) {
            free(buf);
            return NULL;
        }
        memcpy(buf + (r - from) * width, s[r], n);
    }
    return buf;
}

/* Rank 0 only (independent I/O): values of key column col for rows [from, to). */
int store_write_col(hid_t runs, const hs_results_col *col, size_t from, size_t to, const char **what) {
    *what = col->name;
    if (col->type == HS_COL_INT) return store_write_1d(runs, col->name, H5T_NATIVE_LLONG, from, to - from, col->i + from);
    if (col->type == HS_COL_FLOAT) return store_write_1d(runs, col->name, H5T_NATIVE_DOUBLE, from, to - from, col->f + from);
    size_t w = store_ds_str_size(runs, col->name);
    char *buf = w ? pack(col->s, from, to, w) : NULL;
    hid_t t = store_str_type(w ? w : 1);
    int rc = buf && t >= 0 ? store_write_1d(runs, col->name, t, from, to - from, buf) : -1;
    if (!buf) *what = "a key column (a value longer than the column allows: write to a new file)";
    free(buf);
    if (t >= 0) H5Tclose(t);
    return rc;
}

/* Independent I/O: empty cells [from, from + n) of a fixed-length string column. */
int store_write_empty(hid_t runs, const char *name, size_t from, size_t n) {
    size_t w = store_ds_str_size(runs, name);
    char *buf = w ? calloc(n + 1, w) : NULL;
    hid_t t = store_str_type(w ? w : 1);
    int rc = buf && t >= 0 ? store_write_1d(runs, name, t, from, n, buf) : -1;
    free(buf);
    if (t >= 0) H5Tclose(t);
    return rc;
}

/* Rank 0 only (independent I/O): id, config and fresh bookkeeping for rows [from, to), all
 * pending. */
int store_write_rows(hs_results *f, hid_t runs, const hs_results_layout *L, size_t from, size_t to,
                      const char **what) {
    size_t n = to - from, wc = store_ds_str_size(runs, HS_RUNS_CONFIG);
    double *dv = malloc(n * sizeof *dv);
    int *iv = malloc(n * sizeof *iv), *zv = calloc(n, sizeof *zv);
    long long *lv = calloc(n, sizeof *lv);
    unsigned char *sv = calloc(n, 1); /* HS_STATE_PENDING == 0 */
    char *ev = calloc(n, HS_ERROR_LEN);
    char *cfg = wc ? pack(L->configs, from, to, wc) : NULL;
    hid_t t_cfg = store_str_type(wc ? wc : 1), t_err = store_str_type(HS_ERROR_LEN);
    int rc = !dv || !iv || !zv || !lv || !sv || !ev || t_cfg < 0 || t_err < 0 ? -1 : 0;
    if (!cfg) rc = -1, *what = HS_PATH_RUNS_CONFIG " (a config longer than the column allows: write to a new file)";
    for (size_t r = 0; !rc && r < n; r++) dv[r] = NAN, iv[r] = -1;
    if (!rc) rc = store_write_1d(runs, HS_RUNS_CONFIG, t_cfg, from, n, cfg);
    if (!rc) rc = store_write_1d(runs, HS_RUNS_RANK, H5T_NATIVE_INT, from, n, iv);
    if (!rc) rc = store_write_1d(runs, HS_RUNS_ATTEMPTS, H5T_NATIVE_INT, from, n, zv);
    if (!rc) rc = store_write_1d(runs, HS_RUNS_START, H5T_NATIVE_DOUBLE, from, n, dv);
    if (!rc) rc = store_write_1d(runs, HS_RUNS_END, H5T_NATIVE_DOUBLE, from, n, dv);
    if (!rc) rc = store_write_1d(runs, HS_RUNS_WALL, H5T_NATIVE_DOUBLE, from, n, dv);
    if (!rc) rc = store_write_1d(runs, HS_RUNS_EPOCHS_DONE, H5T_NATIVE_LLONG, from, n, lv);
    if (!rc) rc = store_write_1d(runs, HS_RUNS_STEPS, H5T_NATIVE_LLONG, from, n, lv);
    if (!rc) rc = store_write_1d(runs, HS_RUNS_ERROR, t_err, from, n, ev);
    for (size_t r = 0; !rc && r < n; r++) lv[r] = L->steps_total ? L->steps_total[from + r] : -1, iv[r] = 1;
    /* columns a file from an earlier hsweep may lack (in_plan is added by hs_results_mark_plan) */
    if (!rc && H5Lexists(runs, HS_RUNS_STEPS_TOTAL, H5P_DEFAULT) > 0)
        rc = store_write_1d(runs, HS_RUNS_STEPS_TOTAL, H5T_NATIVE_LLONG, from, n, lv);
    if (!rc && H5Lexists(runs, HS_RUNS_IN_PLAN, H5P_DEFAULT) > 0) rc = store_write_1d(runs, HS_RUNS_IN_PLAN, H5T_NATIVE_INT, from, n, iv);
    if (!rc && H5Lexists(runs, HS_RUNS_PROVENANCE, H5P_DEFAULT) > 0) rc = store_write_empty(runs, HS_RUNS_PROVENANCE, from, n);
    if (!rc) rc = store_write_1d(runs, HS_RUNS_STATUS, f->state_type, from, n, sv);
    /* the ids last, after the key columns too (write_ids): a row counts once its id is there */
    free(dv), free(iv), free(zv), free(lv), free(sv), free(ev), free(cfg);
    if (t_cfg >= 0) H5Tclose(t_cfg);
    if (t_err >= 0) H5Tclose(t_err);
    return rc;
}

/* Rank 0 only (independent I/O): the ids of rows [from, to), the last cells of a new row. */
int store_write_ids(hid_t runs, const hs_results_layout *L, size_t from, size_t to) {
    char *ids = pack(L->ids, from, to, HS_ID_LEN);
    hid_t t_id = store_str_type(HS_ID_LEN);
    int rc = ids && t_id >= 0 ? store_write_1d(runs, HS_RUNS_ID, t_id, from, to - from, ids) : -1;
    free(ids);
    if (t_id >= 0) H5Tclose(t_id);
    return rc;
}

/* Rows of a run table whose id dataset has n cells: the leading cells with an id. The id is the
 * last thing written for a new row, so a row without one was never finished being added. */
size_t store_rows_with_id(const char (*ids)[HS_ID_LEN], size_t n) {
    size_t r = 0;
    while (r < n && ids[r][0]) r++;
    return r;
}

