/* runtable.h - the /runs table of a results file, one column at a time, for the analysis stages
 * that group runs into configurations (equisep.c, dynamics.c; private to analysis/). A column
 * is read as display text and as numbers, so runs compare numerically where both values are
 * numbers (depth 2 < depth 10) and as text otherwise; two runs are one configuration when every
 * configuration column compares equal.
 *
 *     hs_an_column *cols = NULL;
 *     size_t n = 0;
 *     char bad[256];
 *     if (hs_an_config_columns(runs, R, &cols, &n, bad, sizeof bad) < 0) ... cannot read /runs/<bad> ...
 *     if (hs_an_runs_cmp(cols, NULL, n, a, b) == 0) ... runs a and b share a configuration ...
 *     hs_an_columns_free(cols, n, R);
 *
 * Serial calls (rank 0, after the collective reads). */
#ifndef HSWEEP_ANALYSIS_RUNTABLE_H
#define HSWEEP_ANALYSIS_RUNTABLE_H

#include <hdf5.h>
#include <stddef.h>

typedef struct hs_an_column {
    char *name;  /* the key, e.g. "model.depth" */
    char **text; /* [R] display values ("%.0f" for integers, "%.10g" for floats) */
    double *num; /* [R] numeric values, NaN for string columns */
} hs_an_column;

/* Read every configuration column of /runs [R] into *cols (allocated here, *n of them): all
 * but the bookkeeping columns (id, status, rank, times, ...) and the seeds (seed, data.seed,
 * data.rule_seed), which vary within a configuration. Fixed-length strings, integers and floats.
 * 0, or -1 with the failing column's name in bad ("" when memory ran out); *cols is then partly
 * filled and must still be freed. */
int hs_an_config_columns(hid_t runs, size_t R, hs_an_column **cols, size_t *n, char *bad, size_t blen);

/* The same through the store's reader (no HDF5 here); bad is "*" when the reader failed. */
struct hs_results_reader;
int hs_an_config_columns_rd(const struct hs_results_reader *rd, hs_an_column **cols, size_t *n, char *bad, size_t blen);

/* Free what hs_an_config_columns allocated (safe on NULL and on a partly filled table). */
void hs_an_columns_free(hs_an_column *cols, size_t n, size_t R);

/* Compare runs a and b column by column, in the order order[0 .. n) (NULL: the columns as
 * given): < 0, 0 or > 0 like strcmp. Numeric where both values are numbers, else by text. */
int hs_an_runs_cmp(const hs_an_column *cols, const int *order, size_t n, size_t a, size_t b);

#endif
