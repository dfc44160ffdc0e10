/* runtable.h - the /runs table of a results file, one column at a time, for the analysis stages
 * that group runs into configurations (equisep.c, dynamics.c; private to analysis/). A column
 * is read as display text and as numbers, so runs compare numerically where both values are
 * numbers (depth 2 < depth 10) and as text otherwise; two runs are one configuration when every
 * configuration column compares equal.
 *
 *     hs_an_column cols[64];
 *     size_t n = 0;
 *     for (each dataset name in /runs)
 *         if (hs_an_is_config_key(name) && hs_an_column_read(runs, name, R, &cols[n]) == 0) n++;
 *     if (hs_an_runs_cmp(cols, NULL, n, a, b) == 0) ... runs a and b share a configuration ...
 *     for (size_t k = 0; k < n; k++) hs_an_column_free(&cols[k], R);
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

/* Non-zero when /runs/<name> is part of a run's configuration; zero for the bookkeeping columns
 * (id, status, rank, times, ...) and the seeds (seed, data.seed, data.rule_seed), which vary
 * within a configuration. */
int hs_an_is_config_key(const char *name);

/* Read /runs/<name> [R] (fixed-length strings, integers or floats) into c. 0, or -1 when the
 * dataset is missing, of another type, or memory ran out; c is then partly filled and must
 * still be freed. */
int hs_an_column_read(hid_t runs, const char *name, size_t R, hs_an_column *c);

/* Free what hs_an_column_read allocated (safe on a zeroed or partly filled column). */
void hs_an_column_free(hs_an_column *c, size_t R);

/* Compare runs a and b column by column, in the order order[0 .. n) (NULL: the columns as
 * given): < 0, 0 or > 0 like strcmp. Numeric where both values are numbers, else by text. */
int hs_an_runs_cmp(const hs_an_column *cols, const int *order, size_t n, size_t a, size_t b);

#endif
