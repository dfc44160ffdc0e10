/* dynamics.h - the learning-dynamics analysis' shared shapes (private to src/analysis/).
 *
 * One analysis, "dynamics" (include/hsweep/analysis.h says what it computes and stores), in
 * parts: dynamics.c reads the file and reduces each run to one fixed-stride row of numbers, then
 * groups runs into configurations and writes /analysis/dynamics; each part (hierarchy.c,
 * richlazy.c, dln.c, gated.c) fills its block of a run's row and, per configuration, writes its
 * subgroup /analysis/dynamics/<part> and its tables; dynamics_common.c holds the statistics,
 * writers and formatting the parts share.
 *
 *     layout y;            // offsets of every part's block in a row, from the file's shapes
 *     row[y.o_t90 + l]     // hierarchy: the step where level l reaches the threshold
 *     dyn_stage_hier(&x, out, &csv, &md, &summary);   // rank 0, after the collective phase
 */
#ifndef HSWEEP_ANALYSIS_DYNAMICS_H
#define HSWEEP_ANALYSIS_DYNAMICS_H

#include <stddef.h>

#include "hsweep/analysis.h"
#include "hsweep/data.h"
#include "hsweep/reader.h"
#include "hsweep/train.h"
#include "internal.h"

/* ================================================================ the per-run row
 * Every rank lays a run's results out the same way: offsets from the file's shapes. */

enum { B_FLAG, B_TRAIN_LOSS, B_TEST_LOSS, B_INIT_SCALE, B_DECAY, B_XOR, B_LAST_STEP, N_BASE };
enum { H_HAS, H_COARSE, H_NLEV, N_HBASE };
enum { D_HAS, D_FLAG, D_NLAYERS, D_TAU, N_DBASE };
enum { DM_S, DM_A0, DM_FLAG, DM_DEV, DM_DEV_REL, DM_THALF_SIM, DM_THALF_TH, N_DM };
/* G_UNIT: 1 when the pathway error is the toy's ||Y - out||_F^2 / 2 per pathway, 0 when it is the
 * fraction of wrong arg-maxes; G_ERR_TR / G_ERR_TE: trained / held-out pathway error at the
 * fractions GATED_AT of the run (first record point at or past that fraction of the last epoch). */
#define GATED_N_AT 4
/* G_PUB: the published toy value this run's protocol reproduces (0 none, 1 the init-scale
 * figure, 2 the coverage slides), G_PUB_TR / G_PUB_TE its trained / held-out error. */
enum { G_HAS, G_FLAG, G_DT, G_B0, G_M, G_K, G_TRAIN, G_TEST, G_UNIT, G_PUB, G_PUB_TR, G_PUB_TE,
       G_ERR_TR, G_ERR_TE = G_ERR_TR + GATED_N_AT, N_GBASE = G_ERR_TE + GATED_N_AT };
enum { GM_S, GM_FP, GM_FINAL, GM_DIFF, GM_DEV_H, GM_DEV_IN, GM_DEV_OUT, GM_FINAL_IN, GM_FINAL_OUT, N_GM };

typedef struct layout {
    size_t R, N, L;            /* runs, record points, per-layer layers (0 without /layers) */
    size_t V, NsH, NsG2, reps; /* level_acc levels and points, center_gap points and reps */
    size_t km, NsM, NsMS;      /* mode_strength modes and points, mode_svals points */
    size_t T, kg, NsS;         /* singular_values tensors, values and points */
    int has_acc, has_gap, has_modes, has_svals, has_msvals;
    /* offsets into a row */
    size_t o_wc, o_nc, o_hier, o_t90, o_gap_step, o_gap_max, o_gap_final, o_dln, o_dm, o_dth, o_dstep;
    size_t o_gat, o_gm, o_gh, o_gin, o_gout, o_gep, stride;
} layout;

/* ================================================================ rank 0: the configurations */

typedef struct ctx {
    layout y;
    size_t R, C;
    double *rows;      /* [R x stride] */
    int *cfg;          /* [R] configuration of each run, -1 unfinished or bad */
    size_t *first;     /* [C] a representative run */
    char **label;      /* [C] */
    signed char *sel;  /* [R] scratch selection */
    double *tmp, *buf; /* scratch */
    hs_an_column *cols;
    size_t ncols;
    const char *part;  /* the subgroup of /analysis/dynamics the writers below write into ("" top) */
} ctx;

/* ---- per run (each part's file) */

/* acc [Ns x V] level accuracies, pt [Ns] their record points; writes t90 [V] (step, NaN never),
 * and returns the run's level count (levels with any finite value). */
size_t dyn_hier_levels(const double *acc, const double *pt, size_t Ns, size_t V, const double *step, size_t N,
                       double thr, size_t w, double *t90);
/* Coarse before fine: t90 of levels nv-1 (coarsest) .. 0 non-decreasing, never = +inf. */
int dyn_coarse_first(const double *t90, size_t nv);
/* gap [Ns x reps x V]: per (rep, level) the step of the smoothed maximum, that maximum and the
 * last finite raw value. */
void dyn_hier_gaps(const double *gap, const double *pt, size_t Ns, size_t reps, size_t V, const double *step,
                   size_t N, size_t w, double *mstep, double *mval, double *fin);
/* One run's modes: strength [Ns x km], svals [Ns x km], pt [Ns]; fills the run's DLN block. */
void dyn_dln_run(const hs_train_config *c, const hs_train_layout *lay, int n_out, const double *str,
                 const double *sv, const double *pt, size_t Ns, size_t km, const double *step, size_t N, double *row,
                 const layout *y);
/* One gated run: sv [Ns x T x kg], pt [Ns], epochs [N]; fills the run's gated block. */
void dyn_gated_run(const hs_train_config *c, const hs_train_layout *lay, const hs_data_shape *sh, const double *sv,
                   const double *pt, size_t Ns, size_t T, size_t kg, const double *epoch, size_t N, double *row,
                   const layout *y);
/* Any gated run (singular values recorded or not): the trained and held-out pathway errors over
 * time from the records epoch, train/test loss and accuracy [N] (accuracies may be NULL); marks
 * the run's gated block present. */
void dyn_gated_errors(const hs_train_config *c, const hs_data_shape *sh, const double *epoch, const double *trl,
                      const double *tel, const double *tra, const double *tea, size_t N, double *row, const layout *y);

/* ---- per configuration: each part's subgroup and tables (0, or -1 when a write failed) */

int dyn_stage_hier(ctx *x, hs_analysis_out *g, hs_str *csv, hs_str *md, hs_analyze_dynamics_summary *s);
int dyn_stage_richlazy(ctx *x, hs_analysis_out *g, hs_str *csv, hs_str *md, hs_analyze_dynamics_summary *s);
int dyn_stage_dln(ctx *x, hs_analysis_out *g, hs_str *csv, hs_str *md, hs_analyze_dynamics_summary *s);
int dyn_stage_gated(ctx *x, hs_analysis_out *g, hs_str *csv, hs_str *md, hs_analyze_dynamics_summary *s);

/* ================================================================ shared (dynamics_common.c) */

/* The step (or epoch) of stored point j: step[] at its record point pt[j] (NaN when none). */
double dyn_step_of(const double *pt, size_t j, const double *step, size_t N);

/* Statistics over config c's selected runs (sel) of row value q: mean, std (ddof 1), count; max;
 * OR of flags; the count of selected runs. */
void dyn_cstat(const ctx *x, size_t c, size_t q, double *m, double *s, int *n);
double dyn_cmax(const ctx *x, size_t c, size_t q);
int dyn_cflags(const ctx *x, size_t c, size_t q);
size_t dyn_ccount(const ctx *x, size_t c);
/* sel[r] = 1 for analysed runs whose row value q is 1 (q = SIZE_MAX: every analysed run). */
size_t dyn_select(ctx *x, size_t q);
/* Per-config mean/std/count arrays [C x n] of row values q0 .. q0 + n - 1 (selected runs). */
void dyn_cstat_block(const ctx *x, size_t q0, size_t n, double *mean, double *sd, int *cnt);
/* Column q of every run's row, copied into out [R x n] (n consecutive values from offset q). */
void dyn_gather_col(const double *rows, size_t R, size_t stride, size_t q, size_t n, double *out);

/* Writers into x->part of the analysis group: each 0, or 1 when the write failed. */
int dyn_part(ctx *x, hs_analysis_out *g, const char *part); /* make the subgroup, write into it */
int dyn_f64(const ctx *x, hs_analysis_out *g, const char *name, int nd, const size_t *dims, const double *v);
int dyn_i32(const ctx *x, hs_analysis_out *g, const char *name, size_t n, const int *v);
int dyn_i32_nd(const ctx *x, hs_analysis_out *g, const char *name, int nd, const size_t *dims, const int *v);
int dyn_i8(const ctx *x, hs_analysis_out *g, const char *name, size_t n, const signed char *v);
int dyn_strs(const ctx *x, hs_analysis_out *g, const char *name, size_t n, const char *const *v);
int dyn_attr(const ctx *x, hs_analysis_out *g, const char *name, double v);
/* Per-run values q0 .. q0 + n - 1 as name [R x n] (or [R] when vec = 0). */
int dyn_runs(const ctx *x, hs_analysis_out *g, const char *name, size_t q0, size_t n, int vec);
/* Per-run mode/level value f of blocks [n x width] starting at q0: name [R x n]. */
int dyn_runs_strided(const ctx *x, hs_analysis_out *g, const char *name, size_t q0, size_t n, size_t width, size_t f);
/* A per-run int8 / int32 column of row value q (NaN -> -1). */
int dyn_runs_i8(const ctx *x, hs_analysis_out *g, const char *name, size_t q);
int dyn_runs_i32(const ctx *x, hs_analysis_out *g, const char *name, size_t q);
/* Per-config stats of values [n] (width-strided field f) under prefix p: <p>_mean, <p>_std [C x n]
 * (and <p>_n with with_n). */
int dyn_cfg_stats(const ctx *x, hs_analysis_out *g, const char *p, size_t q0, size_t n, size_t width, size_t f,
                  int with_n);

/* "m +- s" with format f ("-" when m is NaN, m alone when s is); x with f or "-". */
void dyn_fmt_pm(char *b, size_t n, double m, double s, const char *f);
void dyn_fmt_g(char *b, size_t n, double x, const char *f);
/* The names of the bits set in f, comma-separated ("" when none): flag bit b is names[b]. */
void dyn_flag_text(int f, const char *const *names, int n, hs_str *out);
/* "5,4,3=2,1 (never: 0)": levels in the order they reach the threshold. */
void dyn_order_text(const double *t90, size_t nv, hs_str *out);

#endif
