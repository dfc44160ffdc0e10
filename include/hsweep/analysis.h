/*
 * analysis.h - the analyze stage: from a results file to fits, tables and figure data.
 *
 *     mpirun -np 2 hsweep analyze results.h5 [--kind auto|srhm|neighbours|dynamics|sensitivity|stability|equisep|finals]
 *
 * Every analysis is one entry of a registry (PETSc's XXXRegister pattern): a name, a line of
 * documentation, `applies` (does this results file call for it?) and `run`. Each lives in its own
 * file under src/analysis/ and is listed by one line of the table in src/analysis/registry.c;
 * nothing else knows its name. Analyses read the file through the store's reader
 * (hsweep/reader.h) and write their results back under /analysis/<name> with hs_aout_*.
 *
 *     hs_analyze_opts o = {.path = "results.h5"};
 *     hs_str summary = {0}, table = {0};
 *     HS_TRY(err, hs_analyze_run(MPI_COMM_WORLD, "auto", &o, &summary, &table, err)); // collective
 *     // summary: "results.h5: 4 runs, 4 finished, 4 fitted, ...\n" (every rank);
 *     // table: the Markdown the analysis wrote to results.<name>.md (rank 0);
 *     // "auto" ran the first entry, in registry order, whose applies() said yes.
 *
 * Adding an analysis "foo": write src/analysis/foo.c holding
 *
 *     static hs_code foo_run(MPI_Comm comm, const hs_analyze_opts *o, hs_str *summary, hs_str *table,
 *                            hs_error *err) { ... hs_reader_open, reduce, hs_analysis_out_open(o->path, "foo") ... }
 *     const hs_analysis hs_analysis_foo = {"foo", "what it computes, in one line", NULL, foo_run};
 *
 * and add X(foo) to the ANALYSES line of registry.c (applies = NULL: only `--kind foo` runs it).
 *
 * Tables: an analysis writes each of its tables (CSV, and Markdown for the ones it prints) to
 * <prefix>.<kind>.csv / .md beside the file and, the same text, into the file as
 * /tables/<kind>/csv and /tables/<kind>/md (variable-length string scalars; a re-analysis
 * replaces them; the md dataset is absent for a CSV-only table such as srhm-exponent), so the
 * file alone carries them: `hsweep report` and python/hsweep/tables.py read them from there.
 * src/analysis/finals.c is the smallest complete example.
 *
 * What each analysis computes and stores is documented below, one section per analysis.
 */
#ifndef HSWEEP_ANALYSIS_H
#define HSWEEP_ANALYSIS_H

#include <mpi.h>
#include <stddef.h>

#include "hsweep/status.h"
#include "hsweep/util.h"

struct hs_results_reader;

typedef struct hs_analyze_opts {
    const char *path;   /* the results file */
    const char *prefix; /* tables go to <prefix>.<name>.csv / .md; NULL = path without .h5 */
    double obey_r;      /* equisep: a run obeys the law when r <= obey_r; 0 = -0.99 */
    double threshold;   /* srhm: P* is where the best test error crosses this; 0 = 0.10 */
} hs_analyze_opts;

/* ================================================================ the registry of analyses */

typedef struct hs_analysis {
    const char *name; /* --kind's value and the group /analysis/<name> */
    const char *doc;  /* one line for `hsweep analyze --help` */
    /* Non-zero when the file calls for this analysis (auto-detection; asked in registry order,
     * on every rank, with the file open through rd). NULL: never picked by "auto". */
    int (*applies)(const struct hs_results_reader *rd);
    /* Collective over comm. summary (every rank) receives the lines the CLI prints, table (rank
     * 0; may be NULL) the Markdown also written to <prefix>.<name>.md. */
    hs_code (*run)(MPI_Comm comm, const hs_analyze_opts *o, hs_str *summary, hs_str *table, hs_error *err);
} hs_analysis;

size_t hs_analysis_count(void);
const hs_analysis *hs_analysis_at(size_t i);         /* registry order; NULL past the end */
const hs_analysis *hs_analysis_find(const char *name); /* NULL for a name not registered */
/* "auto|srhm|dynamics|equisep|finals": --kind's choices, for help and messages. */
const char *hs_analysis_choices(void);

/* Collective: the first entry whose applies() says yes for the file at path (on every rank
 * alike). Fails when the file is no results file or nothing applies. */
hs_code hs_analysis_detect(MPI_Comm comm, const char *path, const hs_analysis **out, hs_error *err);

/* Collective: run the analysis kind ("auto": hs_analysis_detect) on o->path. summary and table
 * as hs_analysis.run; an unknown kind is HS_ERR_USAGE naming the choices. */
hs_code hs_analyze_run(MPI_Comm comm, const char *kind, const hs_analyze_opts *o, hs_str *summary, hs_str *table,
                       hs_error *err);

/* ================================================================ equi-separation
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
 * Work is split by runs across ranks (each reads and fits its own block of rows). */

enum { HS_FIT_OK = 0, HS_FIT_UNFINISHED = 1, HS_FIT_NO_D = 2, HS_FIT_BAD_D = 3 };


typedef struct hs_analyze_summary {
    size_t runs, finished, fitted, flagged, unfinished, configs, obey;
} hs_analyze_summary;

/* Collective over comm. On rank 0, table (may be NULL) receives the Markdown table. */
hs_code hs_analyze_equisep(MPI_Comm comm, const hs_analyze_opts *o, hs_analyze_summary *s, hs_str *table,
                           hs_error *err);

/* ================================================================ SRHM sample complexity
 *
 *     hs_analyze_opts o = {.path = "results.h5", .threshold = 0.10};
 *     hs_analyze_srhm_summary s;
 *     HS_TRY(err, hs_analyze_srhm(MPI_COMM_WORLD, &o, &s, &table, err));   // collective
 *     // rank 0: table.buf holds the Markdown; results.srhm.csv / .md written; /analysis/srhm stored
 *
 * Sample complexity P* of the (Sparse) Random Hierarchy Model (Tomasini & Wyart 2024; Cagnetta et
 * al. 2024). Only runs with data.kind rhm or srhm take part (others get flag 3 and config -1).
 *   - Per finished run (done or diverged): the best test error eps = min over record points of
 *     1 - test_acc (the protocol keeps the best error seen at any check). Unfinished runs are
 *     counted and left out; a finished run with no test accuracy recorded is flagged 2.
 *   - Configuration = every config key that varies among the rhm/srhm runs (canonical value, a key
 *     absent from a run's config text having its schema default) except data.n_train (P: the
 *     curve's x), seed, data.seed and data.rule_seed (seeds: averaged over). Per configuration
 *     and P: mean, standard deviation (ddof = 1) and count of eps over seeds.
 *   - p_star (interpolated): on the mean curve in increasing P, the first crossing from above:
 *     the first grid point j with eps_j <= threshold whose predecessor has eps_{j-1} > threshold;
 *     log P is interpolated linearly in eps between P_{j-1} and P_j. reached = 1 then; 0 when
 *     every grid point is above the threshold (P* beyond the grid), 2 when the smallest P is
 *     already at or below it (P* below the grid), -1 when the configuration has no finished run;
 *     p_star is NaN unless reached = 1.
 *   - p_star_closest (the authors' way): the grid point whose mean eps is nearest the threshold
 *     (the smaller P on a tie), accepted only when |eps - threshold| <= HS_SRHM_CLOSEST_TOL (0.10,
 *     absolute error units), else NaN. eps_closest stores that mean eps.
 *   - Spread: the same interpolation on each seed's own curve (runs sharing seed, data.seed and
 *     data.rule_seed); mean and std (ddof = 1) of log10 P* over the seeds that cross.
 *   - Theory: X = (s0+1)^2 n_c m^L (cnn), s^(L/2) (s0+1)^L n_c m^L (lcn), n_c m^L otherwise
 *     (fcn, mlp); data.kind rhm counts as s0 = 0. n_c = 0 means v, m = 0 means v^(s-1).
 *   - Searched P* (source "search"): a stage that searched data.n_train where test_err crosses
 *     the threshold leaves /search/<stage> (store.h); each group's crossing (the seed mean of
 *     the FINAL test error, the search's metric, log-interpolated in its bracket) becomes the P*
 *     of the one configuration holding the search's runs (its over values, and runs with seed
 *     s + 1 at the bracket's ends whose final errors are the search's per-seed values), with the
 *     bracket as p_star_lo, p_star_hi and reached = 1; that configuration's per-seed crossings
 *     use the final errors too. Other configurations keep the grid's P* (source "grid"). A
 *     search of another key, metric or target, a group without a crossing and a group no single
 *     configuration holds are left out, each named in the Markdown.
 *   - Fits (natural logs, configurations with reached = 1): per (arch, s), OLS ln P* = a + b ln X,
 *     prefactor exp(a); per (arch, v, L, s) with >= 2 distinct s0, OLS of ln(P* / (n_c m^L)) on
 *     ln(s0+1): the exponent b (predicted 2 for cnn, L for lcn) and prefactor (C1 resp. C0), with
 *     a 95% interval over seeds: each seed that crosses at every s0 of the fit gets its own slope
 *     (its per-seed P*), and the interval is Student's t-interval of their mean (metrics.h:
 *     hs_fit_slope_ci). Fits with too few points are stored with NaN and their point count.
 *
 * Stored under /analysis/srhm (rank 0, serial, after the collective read; replaced on re-analysis):
 *     per run [R]: best_error (float64), flag (int8, HS_SRHM_*), config (int32, -1 none), P (float64);
 *     per configuration [C]: label, arch (string), v, n_c, m, s, L, s0, n_p, n_seeds,
 *       p_star_n_seeds (int32), X, p_star, p_star_closest, eps_closest, p_star_log10_mean,
 *       p_star_log10_std, p_star_lo, p_star_hi (float64), reached (int8), source ("search" or
 *       "grid"), search_stage (string, "" for the grid);
 *     curves, flat over (configuration, P) sorted by configuration then P: curve_config (int32),
 *       curve_P, curve_eps_mean, curve_eps_std (float64), curve_n (int32);
 *     fits: fit_arch (string), fit_s, fit_n (int32), fit_b, fit_prefactor, fit_r (float64);
 *       s0_fit_arch (string), s0_fit_v, s0_fit_L, s0_fit_s, s0_fit_n (int32), s0_fit_exponent,
 *       s0_fit_expected, s0_fit_prefactor, s0_fit_r, s0_fit_seed_mean, s0_fit_lo, s0_fit_hi (float64),
 *       s0_fit_n_s0, s0_fit_seeds (int32);
 *     attributes threshold, closest_tol, s0_fit_level (float64).
 * Configurations are sorted by arch, v, L, s0, then s, n_c, m and the other varying keys. Tables:
 * <prefix>.srhm.csv (every column), .srhm-exponent.csv (the exponent fits) and .md (one row per
 * configuration, then the notes on searches and the fits).
 * Errors: no rhm/srhm runs in the file, no /records/test_acc, unreadable or unwritable file;
 * every rank returns the same code and message.
 */

enum { HS_SRHM_OK = 0, HS_SRHM_UNFINISHED = 1, HS_SRHM_NO_TEST = 2, HS_SRHM_NOT_HIER = 3 };
enum { HS_SRHM_NO_DATA = -1, HS_SRHM_NEVER = 0, HS_SRHM_REACHED = 1, HS_SRHM_BELOW_GRID = 2 };
#define HS_SRHM_THRESHOLD 0.10
#define HS_SRHM_CLOSEST_TOL 0.10

typedef struct hs_analyze_srhm_summary {
    size_t runs;       /* rows of the file */
    size_t hier;       /* runs with data.kind rhm or srhm */
    size_t finished;   /* of those: done or diverged */
    size_t used;       /* of those: with a best test error */
    size_t unfinished; /* rhm/srhm runs pending, running or failed */
    size_t configs, reached, never, below_grid;
    double threshold;
} hs_analyze_srhm_summary;

/* Collective over comm. On rank 0, table (may be NULL) receives the Markdown (table and fits). */
hs_code hs_analyze_srhm(MPI_Comm comm, const hs_analyze_opts *o, hs_analyze_srhm_summary *s, hs_str *table,
                        hs_error *err);

/* ================================================================ learning dynamics
 *
 *     hs_analyze_dynamics_summary s;
 *     HS_TRY(err, hs_analyze_dynamics(MPI_COMM_WORLD, &o, &s, &table, err));   // collective
 *     // rank 0: table.buf holds the Markdown of every part; tables written; /analysis/dynamics stored
 *
 * How networks learn over time, laid beside theory (shared/reference/hierarchy.md and
 * linear-and-gated-networks.md). Every finished run (done or diverged) is reduced by the rank that
 * owns it; its typed config comes from its canonical config (schema defaults for keys not listed). Four
 * parts, each for the runs that have its data (a part without runs writes nothing):
 *   - hierarchy (runs with series level_acc): per level l (0 = leaves, V-1 = coarsest) the first
 *     optimiser step (/records/step of the stored point) where the test accuracy, smoothed by a
 *     TRAILING mean over the last HS_DYN_WINDOW (10) stored points, reaches HS_DYN_ACC_THRESHOLD
 *     (0.9); NaN when never. The order of levels by that step and coarse_first = 1 when every
 *     coarser level is reached no later than the next finer one (never = +inf, so two levels that
 *     never reach it are in order). With center_gap: per (rep, level) the step of the maximum of
 *     the same trailing mean, that maximum and the last raw value.
 *   - richlazy (runs with data.kind xor; the per-run values below exist for every run with
 *     /layers): final train and test loss (the last record point), weight_change (|W_l - W_l(0)| /
 *     |W_l(0)|, the recorded value at the last point with a weight norm) and norm_change
 *     ((|W_l(T)| - |W_l(0)|) / |W_l(0)| from weight_norm), per dense layer (readout last); per
 *     configuration mean and std over seeds; init scale = the first layer's (model.init_scales[0]).
 *   - dln (runs with series mode_strength and mode_svals): per mode s (mode_svals), a0 (the
 *     strength at the first stored point), theory a(t) at every stored point from the first one's
 *     step: hs_dln_strength for two weight matrices (model.n_hidden = 1), else hs_dln_deep (RK4,
 *     dt = min(1, tau / (100 s)) steps), tau = hs_dln_tau(HS_DLN_LOSS_MSE, n_out, train.lr) steps
 *     (n_out = the targets' t_dim, else the classes); max over points of |u - a| (max_dev) and
 *     / s (max_dev_rel); the step where u and a first reach s/2 (linear between points; the
 *     closed form's exact time for two matrices). A mode with a0 <= 0 has no theory (mode_flag
 *     HS_DYN_MODE_NEGATIVE_START, NaN). Run flags (bits, HS_DYN_DLN_*) say when the theory's
 *     assumptions fail (loss, full batch, linear net, plain constant-lr SGD, aligned balanced
 *     init, whitened inputs data.zca): the numbers are computed anyway.
 *   - gated (model.arch gated with series singular_values [T x k], tensors Win_0..Win_(M-1), Wh,
 *     Wout_0..): per mode of the gated_toy task's Y^T X (its singular values 13.601, 6.403, 3, 3
 *     computed here from data.h's Y), the ODE hs_gated_ode from b0 = model.init_scales[0]
 *     (Euler, dt = hs_gated_epoch_time(lr, M K, training rows, t_dim, M) per epoch, sampled at the
 *     stored points' epochs) for b_h, b_in, b_out against the singular values of Wh, Win_0 and
 *     Wout_0 (sorted, mode a = the a-th largest); max deviations; the final Wh value, the fixed
 *     point hs_gated_fixed_point and their difference; final train (trained pathways) and test
 *     (untrained pathways) loss. Other data (gated_fmnist, gated_perm, gated_rot) and runs
 *     without singular_values get HS_DYN_GATED_NO_THEORY and only the measured values. Every gated
 *     run: the trained and held-out pathway error at 0, 1/4, 1/2 and all of its last epoch (the
 *     first record point at or past it): on gated_toy with MSE the paper's ||Y - out||_F^2 / 2 per
 *     pathway (the loss x items x t_dim / 2), else 1 - accuracy; the table beside it quotes the
 *     published 7-domain toy sweep (M = 7, K = 4, sigma0 = init_scale in 0.2 .. 2.5).
 * Configurations: every varying config column of the run table except the seeds (seed, data.seed,
 * data.rule_seed), as equisep; means and standard deviations (ddof = 1) over the finite values of a
 * configuration's runs in that part.
 *
 * Stored under /analysis/dynamics (rank 0, serial, after the collective read; replaced on
 * re-analysis). [R] per run, [C] per configuration, NaN where nothing applies:
 *     config (int32 [R], -1 not analysed), flag (int8 [R], HS_DYN_*), final_train_loss,
 *     final_test_loss, init_scale, weight_decay, last_step (float64 [R]), weight_change,
 *     norm_change (float64 [R x L]), label (string [C]);
 *   hierarchy/: has, coarse_first (int8 [R], -1 none), n_levels (int32 [R]), t90 [R x V],
 *     order (string [R], e.g. "5,4,3=2,1 (never: 0)"), t90_mean, t90_std [C x V], t90_n (int32
 *     [C x V]), n_runs, n_coarse_first (int32 [C]), gap_max_step, gap_max, gap_final [R x reps x V],
 *     gap_final_mean, gap_final_std, gap_max_step_mean, gap_max_step_std [C x reps x V];
 *     attributes threshold, window;
 *   richlazy/: n_runs (int32 [C]), train_loss_, test_loss_, init_scale_, weight_decay_ {mean,std}
 *     [C x 1], weight_change_, norm_change_ {mean,std} [C x L];
 *   dln/: has (int8), flag, n_layers (int32), tau [R]; s, a0, mode_flag, max_dev, max_dev_rel,
 *     t_half_sim, t_half_theory [R x k]; theory [R x Ns x k] and step [R x Ns] (the stored points
 *     of mode_strength); max_dev_{mean,std,n}, max_dev_rel_, t_half_sim_, t_half_theory_, s_
 *     {mean,std} [C x k]; n_runs, flags (OR of the runs', int32 [C]);
 *   gated/: has (int8), flag, modules, active (int32), dt, b0, train_loss, test_loss [R]; s,
 *     fixed_point, final_h, diff, max_dev_h, max_dev_in, max_dev_out, final_in, final_out
 *     [R x k]; ode_h, ode_in, ode_out [R x Ns x k], epoch [R x Ns] (the stored points of
 *     singular_values); final_h_{mean,std,n}, diff_, fixed_point_, max_dev_h_ {mean,std} [C x k],
 *     train_loss_, test_loss_ {mean,std} [C x 1]; n_runs, flags (int32 [C]); error_unit (int8
 *     [R], 1 squared error per pathway, 0 fraction wrong), error_trained, error_heldout [R x 4]
 *     at the fractions error_at [4] = 0, 0.25, 0.5, 1 of the run, error_trained_, error_heldout_
 *     {mean,std} [C x 4].
 * Tables: <prefix>.dynamics.csv (one row per run), <prefix>.dynamics.md (every part), and per
 * part <prefix>.dynamics-{hierarchy,richlazy,dln,gated}.csv / .md (one row per configuration,
 * or per configuration and mode). Errors: no series and no /layers, unreadable or unwritable
 * file; every rank returns the same code and message. */

#define HS_DYN_ACC_THRESHOLD 0.9
#define HS_DYN_WINDOW 10
enum { HS_DYN_OK = 0, HS_DYN_UNFINISHED = 1, HS_DYN_BAD_CONFIG = 2 };
enum { HS_DYN_DLN_NOT_MSE = 1, HS_DYN_DLN_NOT_FULL_BATCH = 2, HS_DYN_DLN_NOT_LINEAR = 4, HS_DYN_DLN_NOT_PLAIN_SGD = 8,
       HS_DYN_DLN_UNALIGNED = 16, HS_DYN_DLN_NOT_WHITENED = 32 };
enum { HS_DYN_MODE_OK = 0, HS_DYN_MODE_NEGATIVE_START = 1, HS_DYN_MODE_TINY_START = 2, HS_DYN_MODE_NO_DATA = 3,
       HS_DYN_MODE_ODE_FAILED = 4 };
enum { HS_DYN_GATED_NO_THEORY = 1, HS_DYN_GATED_NOT_FULL_BATCH = 2, HS_DYN_GATED_UNALIGNED = 4,
       HS_DYN_GATED_NOT_PLAIN_SGD = 8, HS_DYN_GATED_NOT_MSE = 16 };

typedef struct hs_analyze_dynamics_summary {
    size_t runs, analysed, unfinished, bad_config, configs;
    size_t hier_runs, hier_coarse_first, richlazy_runs, dln_runs, gated_runs;
} hs_analyze_dynamics_summary;

/* Collective over comm. On rank 0, table (may be NULL) receives the Markdown of every part. */
hs_code hs_analyze_dynamics(MPI_Comm comm, const hs_analyze_opts *o, hs_analyze_dynamics_summary *s, hs_str *table,
                            hs_error *err);

/* ================================================================ sensitivities (SRHM)
 *
 * sensitivity (runs with series sensitivity_S, _D, _G: record.sensitivity on (S)RHM data; picked
 * by "auto" only when srhm and dynamics do not apply): the probes of Tomasini & Wyart
 * (../shared/reference/srhm-sensitivity.md) against test error and training-set size.
 *   - Per finished run with a stored point: the best test error (min over record points of
 *     1 - test_acc), and at its last stored point S_{k,l}, D_{k,l} [node x level] and G_k. Node
 *     k (1-based in tables, 0-based in arrays) = hidden layer k, the last node the output. The
 *     run's quantities: S21 = S_{2,1}, D21 = D_{2,1} (node 2, level 1), S80 and G80 at the
 *     80%-depth node as the authors read it: the output for the SRHM's CNN, LCN and FCN, else
 *     floor(0.8 H) (0-based) of the H hidden nodes (VGG-11: node 6 of its 8 ReLUs). Flags:
 *     HS_SENS_*.
 *   - Configurations: every varying config key but the seeds (as finals), data.n_train included;
 *     mean and std (ddof 1) over seeds of the run quantities and of S, D, G per node and level.
 *     Over record points: per configuration and stored point, the means (and std) of S, D, G and
 *     of the optimiser step.
 *   - Families (a configuration without data.n_train: curves over P) read the authors' thresholds
 *     (section 3 of the note) on the mean curves: P* = the grid P whose mean test error is closest
 *     to thr_err (accepted within HS_SRHM_CLOSEST_TOL), P*_S and P*_D = the grid P whose mean S
 *     (D) at node `family_node`, level 1, is closest to thr_S (thr_D), accepted within
 *     HS_SENS_CLOSEST_TOL (0.5, the notebooks' "within 0.5"); the smaller P on a tie; NaN when
 *     not accepted. Thresholds and node by model.arch: cnn 10% / S 0.4 (L = 2, s = 2), 0.5 (L = 2,
 *     s > 2), 0.2 (L >= 3), none (L = 1) / D 0.2, node 2; lcn 10% / 0.3 (s = 2) or 0.5 / 0.1,
 *     node 2; fcn 10% / 0.2 / 0.2, the output node; any other net (mlp, the deep conv nets) the
 *     common architectures' row: 7% / 0.13 / 0.07 at node K - 1 (1-based; num_nodes - 2 0-based).
 *   - Pearson r of the test error against S21, D21 and S80 across configurations (their means),
 *     plain and log-log (positive values only).
 * Stored under /analysis/sensitivity (rank 0, after the collective read; replaced on re-analysis):
 *     per run [R]: config (int32, -1 not used), flag (int8), n_nodes (int32), test_err, S21, D21,
 *       S80, G80 (float64);
 *     per configuration [C]: label (string), family, n_runs, <q>_n (int32), P, <q>_mean, <q>_std
 *       (float64) for q in test_err S21 D21 S80 G80; S_mean, S_std, D_mean, D_std [C x K x L],
 *       G_mean, G_std [C x K];
 *     over record points [T]: time_config, time_point (the stored point), time_n (int32),
 *       time_step, time_S_mean/std, time_D_mean/std [T x K x L], time_G_mean/std [T x K];
 *     per family [F]: family_label, family_arch (string), family_node (0-based), family_n_p
 *       (int32), thr_p_star, p_star, at_p_star, and the same for p_star_S, p_star_D (float64);
 *     attributes r_S21, r_log_S21, n_r_S21 (and D21, S80), closest_tol, closest_tol_err.
 * Tables: <prefix>.sensitivity.csv / .md (per configuration; the .md has every part),
 * <prefix>.sensitivity-nodes.csv (configuration x node x level), <prefix>.sensitivity-pstar.csv
 * (per family). Errors: no sensitivity series in the file (hint: record.sensitivity). */
enum { HS_SENS_OK = 0, HS_SENS_UNFINISHED = 1, HS_SENS_NO_PROBE = 2 };
#define HS_SENS_CLOSEST_TOL 0.5

/* The 80%-depth node (0-based) of a net of `nodes` sensitivity nodes (hidden layers + output)
 * whose model.arch is arch, as above: nodes - 1 for cnn, lcn, fcn; floor(0.8 (nodes - 1)) else. */
int hs_sensitivity_node80(const char *arch, int nodes);

/* ================================================================ relative stability (images)
 *
 * stability (runs with series stability_D, _G, _R: record.stability on square images): Petrini et
 * al.'s relative stability per node over training.
 *   - Per finished run with stored points: D_f, G_f, R_f [node] at its first stored point (the
 *     initialised net: record point 0) and its last; node 0 = the input, node k = hidden layer k,
 *     the last the output; the diffeomorphisms' cutoff c and temperature T (stability_diffeo).
 *   - Configurations as finals (every varying key but the seeds): mean and std (ddof 1) over
 *     seeds at init and at the end; over record points, per configuration and stored point, the
 *     means and std of R_f, D_f, G_f and the mean optimiser step.
 * Stored under /analysis/stability: per run [R]: config (int32), flag (int8, HS_STAB_*), c, T
 * (float64); per configuration [C]: label (string), n_runs (int32), c, T, and R_init_mean,
 * R_init_std, R_end_mean, R_end_std and the same for D and G [C x K]; over record points [T]:
 * time_config, time_point, time_n (int32), time_step, time_R_mean/std, time_D_mean/std,
 * time_G_mean/std [T x K]. Tables <prefix>.stability.csv (configuration x node) and .md.
 * Errors: no stability series in the file (hint: record.stability). */
enum { HS_STAB_OK = 0, HS_STAB_UNFINISHED = 1, HS_STAB_NO_PROBE = 2 };

/* ================================================================ neighbours (kNN over training time)
 *
 * neighbours (auto when the file has series neigh_rep, i.e. record.neighbours > 0; asked before
 * dynamics, so `--kind dynamics` gives the level accuracies of such a file): the hierarchy paper's
 * Fig. 5 (../shared/reference/hierarchy-fig5.md). Per finished run, the S draws of every stored
 * point (record.neighbours test examples from a fixed pool, one representation) are stacked in
 * time order, N = points x S rows, and each row's k = min(100, N) nearest rows (exact Euclidean,
 * double precision, the row itself neighbour 0, ties to the lower index) give
 *   - pseudotime_pct [R x Ns x 13]: per point the mean over its rows of the percentiles
 *     (percentiles [13]: 1, 5, 10, 15, 20, 25, 50, 75, 80, 85, 90, 95, 99; numpy's linear rule) of
 *     the neighbours' row index / (N - 1); pseudotime_pct_smooth the trailing mean over 10 points;
 *   - drift [R x Ns]: per point the mean over its rows of the mean over neighbours 1..k-1 of (own
 *     minus neighbour row) / S, in record points; drift_abs_smooth the trailing mean of |drift|;
 *     fixed_index [R] (int32, the stored point of its arg-min), fixed_step and fixed_x [R] (that
 *     point's step, and its step over the run's last step: the "fixed point");
 *   - pseudotime_mean [R x Ns]: per point the mean over its rows of the mean neighbour row / (N - 1);
 *     control_mean [R x Ns] and control_pct [R x Ns x 13] the same after the note's time-permuted
 *     control (the rows shuffled before the search, one fixed seed: a point's rows then sit at
 *     random positions, and every curve should be flat at ~0.5, resp. at the percentile / 100);
 *   - composition [R x Ns x 6 x V]: per point, each row's kc = min(10, S - 1) nearest others among
 *     the point's own draws, mean over rows of the fractions whose lowest common ancestor with the
 *     row lies at level <= l (0: share, same class at level l), exactly l + 1 (1: within, the
 *     note's sibling mask) and exactly l + 2 (2: between, cousins); 3..5 the same over all other
 *     draws of the point (chance). NaN where the parent or grandparent would be above the root.
 *     V = data.levels for data with label levels, else 1 (the classes).
 * Also step, x [R x Ns], levels, k (int32 [R], 0 for runs not analysed), config (int32 [R],
 * -1 not analysed) and label (string [C]: every varying key but the seeds), attributes kc and
 * window. Runs are split across ranks by query rows (every rank reads the run's draws; the search
 * costs 4 N^2 W flops per run with the control). Tables <prefix>.neighbours.csv (one row per
 * analysed run: seed, fixed point, the control's mean over points and largest distance from 0.5,
 * and per level the final smoothed share, chance, within and between fractions) and
 * .md (per configuration the fixed point's mean +- std over seeds, then the runs). */

/* ================================================================ final losses and errors
 *
 * finals (any sweep; only by name, never auto-detected): per configuration (every varying
 * config key but the seeds, as equisep), over its finished runs, the mean, standard deviation
 * (ddof = 1), min and max of the final train loss, test loss, train error and test error (1 -
 * the accuracy), each the value at the run's last record point that has one. Stored under
 * /analysis/finals: config (int32 [R], every run's configuration), label (string [C]), n_runs,
 * n_finished (int32 [C]), <quantity>_{mean,std,min,max} (float64 [C]) for train_loss,
 * test_loss, train_err, test_err (NaN where no finished run recorded it).
 * Tables <prefix>.finals.csv and .md, one row per configuration. */

#endif /* HSWEEP_ANALYSIS_H */
