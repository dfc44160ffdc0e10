/*
 * analysis.h - the analyze stage: from a results file to fits, tables and figure data.
 *
 *     mpirun -np 2 hsweep analyze results.h5        // or without mpirun
 *
 *     hs_analyze_opts o = {.path = "results.h5", .obey_r = -0.99};
 *     hs_analyze_summary s;
 *     hs_str table = {0};
 *     HS_TRY(err, hs_analyze_equisep(MPI_COMM_WORLD, &o, &s, &table, err));   // collective
 *     // rank 0: table.buf holds the Markdown table; results.equisep.csv / .md are written, and
 *     // the fits are stored back into the file under /analysis/equisep
 *
 * Equi-separation (He & Su 2023): for every finished run, the final per-layer separation
 * fuzziness D_0 .. D_{L+1} (/layers/separation at the run's last measured record point) is fitted
 * by OLS of ln D_l on l: slope, intercept, decay ratio rho = exp(slope), half-life ln 2 / -slope
 * (in layers; infinite when D does not decay), Pearson r and R^2. Runs whose D has a zero or
 * non-finite value are flagged, not dropped silently. Runs are grouped into configurations by
 * every varying config key except the seeds (seed, data.seed); per configuration the mean and
 * standard deviation over seeds of rho and r, and how many runs obey the law (r <= obey_r).
 *
 * Stored in the file (rank 0 writes after the collective read), all [R] per run or [C] per
 * configuration, under /analysis/equisep:
 *     slope, intercept, rho, half_life, r, r2, d_first, d_last (float64 [R]), n_layers (int32 [R]),
 *     flag (int8 [R]: 0 fitted, 1 unfinished, 2 no D recorded, 3 bad D), config (int32 [R], -1 none);
 *     label (string [C]), n_runs, n_fitted, n_obey (int32 [C]), rho_mean, rho_std, r_mean, r_std,
 *     half_life_mean, d_first_mean, d_last_mean (float64 [C]); attribute obey_r.
 * Standard deviations use ddof = 1 (sample), NaN with one run.
 * Work is split by runs across ranks (each reads and fits its own block of rows).
 */
#ifndef HSWEEP_ANALYSIS_H
#define HSWEEP_ANALYSIS_H

#include <mpi.h>
#include <stddef.h>

#include "hsweep/status.h"
#include "hsweep/util.h"

enum { HS_FIT_OK = 0, HS_FIT_UNFINISHED = 1, HS_FIT_NO_D = 2, HS_FIT_BAD_D = 3 };

typedef struct hs_analyze_opts {
    const char *path;   /* the results file */
    const char *prefix; /* tables go to <prefix>.equisep.csv / .md; NULL = path without .h5 */
    double obey_r;      /* a run obeys the law when r <= obey_r; 0 = -0.99 */
} hs_analyze_opts;

typedef struct hs_analyze_summary {
    size_t runs, finished, fitted, flagged, unfinished, configs, obey;
} hs_analyze_summary;

/* Collective over comm. On rank 0, table (may be NULL) receives the Markdown table. */
hs_code hs_analyze_equisep(MPI_Comm comm, const hs_analyze_opts *o, hs_analyze_summary *s, hs_str *table,
                           hs_error *err);

#endif /* HSWEEP_ANALYSIS_H */
