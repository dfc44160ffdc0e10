/* runtable.h - the run table of a results file (its config columns, read through the store's
 * reader), for the analyses that group runs into configurations (private to src/analysis/). A column
 * is read as display text and as numbers, so runs compare numerically where both values are
 * numbers (depth 2 < depth 10) and as text otherwise; two runs are one configuration when every
 * configuration column compares equal.
 *
 *     hs_an_column *cols = NULL;
 *     size_t n = 0;
 *     if (hs_an_config_columns(rd, &cols, &n, err) != HS_OK) ... the reader failed ...
 *     if (hs_an_runs_cmp(cols, NULL, n, a, b) == 0) ... runs a and b share a configuration ...
 *     hs_an_columns_free(cols, n, R);
 *
 * hs_an_config_columns reads through an open reader (any rank; independent reads). */
#ifndef HSWEEP_ANALYSIS_RUNTABLE_H
#define HSWEEP_ANALYSIS_RUNTABLE_H

#include <stddef.h>

#include "hsweep/reader.h"

typedef struct hs_an_column {
    char *name;  /* the key, e.g. "model.depth" */
    char **text; /* [R] display values ("%.0f" for integers, "%.10g" for floats) */
    double *num; /* [R] numeric values, NaN for string columns */
} hs_an_column;

/* Every configuration column of the run table [R] into *cols (allocated here, *n of them): the
 * config keys but the seeds (seed, data.seed, data.rule_seed), which vary within a configuration.
 * Integers display as "%.0f", floats as "%.10g". On failure *cols may be partly filled and must
 * still be freed. */
hs_code hs_an_config_columns(const hs_results_reader *rd, hs_an_column **cols, size_t *n, hs_error *err);

/* Free what hs_an_config_columns allocated (safe on NULL and on a partly filled table). */
void hs_an_columns_free(hs_an_column *cols, size_t n, size_t R);

/* Compare runs a and b column by column, in the order order[0 .. n) (NULL: the columns as
 * given): < 0, 0 or > 0 like strcmp. Numeric where both values are numbers, else by text. */
int hs_an_runs_cmp(const hs_an_column *cols, const int *order, size_t n, size_t a, size_t b);

#endif
