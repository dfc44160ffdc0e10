/* probes_common.h - what the analyses of the probes' series (sensitivity.c, stability.c) share
 * (private to src/analysis/): a series read whole for every run, runs grouped into
 * configurations (every varying config key but the seeds, as finals) and families (the same
 * without data.n_train: a curve over P), statistics over a configuration's runs, and the table of
 * means over record points. Rank 0 calls them while the reader is open.
 *
 *     an_series s;
 *     HS_TRY(err, an_series_read(rd, "stability_R", &s, err));  // [R x Ns x size]
 *     an_groups g;
 *     HS_TRY(err, an_groups_make(rd, use, &g, err));           // use[r]: runs that take part
 *     an_config_stats(&g, last, s.size, mean, sd, n);          // last [R x size] per run
 *     an_time t;
 *     HS_TRY(err, an_time_make(&g, &s, steps, N, &t, err));    // means per (configuration, point)
 */
#ifndef HSWEEP_ANALYSIS_PROBES_COMMON_H
#define HSWEEP_ANALYSIS_PROBES_COMMON_H

#include <stddef.h>

#include "hsweep/reader.h"
#include "runtable.h"

typedef struct an_series {
    size_t R, Ns, size; /* runs, stored points, values per point */
    int nd;
    size_t dims[3];     /* the per-point shape (the largest over the runs) */
    double *v;          /* [R x Ns x size], NaN where nothing was stored */
    double *pt;         /* [R x Ns] record-point index of each stored point, -1 where none */
} an_series;

/* Series `name` of every run. HS_ERR_VALUE when the file has no such series (the message says
 * which record.* key turns it on: `why`), HS_ERR_IO on a failed read. */
hs_code an_series_read(const hs_results_reader *rd, const char *name, const char *why, an_series *s, hs_error *err);
void an_series_free(an_series *s);
/* The stored point of run r's last record point, or -1 when it stored none. */
long an_series_last(const an_series *s, size_t r);
static inline const double *an_series_at(const an_series *s, size_t r, size_t j) {
    return s->v + (r * s->Ns + j) * s->size;
}

typedef struct an_groups {
    size_t R, C, F;
    hs_an_column *cols;
    size_t ncols;
    int p_col;      /* the column of data.n_train, -1 when it does not vary */
    int *cfg;       /* [R] configuration of each run taking part, -1 for the others */
    int *n_runs;    /* [C] */
    size_t *first;  /* [C] a representative run; configurations sorted by the columns (name order) */
    char **label;   /* [C] "arch=cnn, n_train=100" (every column), or "all runs" */
    int *fam;       /* [C] family: the configuration without data.n_train */
    size_t *ffirst; /* [F] the representative of its first configuration */
    char **flabel;  /* [F] the label without data.n_train */
} an_groups;
hs_code an_groups_make(const hs_results_reader *rd, const unsigned char *use, an_groups *g, hs_error *err);
void an_groups_free(an_groups *g);

/* Per configuration and entry of x [R x size] (runs with cfg >= 0): mean, standard deviation
 * (ddof 1) and count of the finite values, into [C x size] arrays (NaN where none / one). */
hs_code an_config_stats(const an_groups *g, const double *x, size_t size, double *mean, double *sd, int *n,
                        hs_error *err);

typedef struct an_time {
    size_t T, size;
    int *cfg, *pt, *n; /* [T] configuration, stored point j, runs that stored it */
    double *step;      /* [T] mean optimiser step of those runs at that record point (NaN without steps) */
    double *mean, *sd; /* [T x size] over those runs (finite values) */
} an_time;
/* One entry per configuration and stored point j that some of its runs stored, configurations in
 * order, j increasing. steps: /records/step [R x N] (NULL: no steps). */
hs_code an_time_make(const an_groups *g, const an_series *s, const double *steps, size_t N, an_time *t, hs_error *err);
void an_time_free(an_time *t);

/* /records/<name> [R x N] into *out (NULL and N = 0 when the file has none). */
hs_code an_records(const hs_results_reader *rd, const char *name, double **out, size_t *N, hs_error *err);

#endif
