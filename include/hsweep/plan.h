/*
 * plan.h - expand a spec into the exact list of runs it stands for, each with a stable id.
 *
 *     hs_plan *plan = NULL;
 *     hs_plan_opts opts = {0};                               // defaults: at most 1e6 runs
 *     if (hs_plan_expand(spec, &opts, &plan, &err) != HS_OK) ... err.msg ...
 *     for (size_t r = 0; r < plan->n_runs; r++) {
 *         const hs_value *depth = hs_plan_value(plan, r, hs_schema_find("model.depth"));
 *         printf("%016llx depth=%lld\n", (unsigned long long)plan->runs[r].id, depth->u.i);
 *     }
 *     hs_plan_free(plan);
 *
 * Expansion of one block, in this order: defaults <- spec base <- block base <- one combination
 * of the axes (product keys in file order, then zip groups in file order; the last axis varies
 * fastest) <- the block's `set` rules, then the top-level ones, in order <- derived values
 * (data.seed = seed when left at -1) -> dropped if any `exclude` matches -> cross-key checks.
 * Blocks follow each other in file order. The order is a pure function of the spec.
 *
 * Run id: the first 16 hex digits of SHA-256 over the canonical text
 *     "hsweep/<schema version>\n" + "key=value\n" for every key whose value differs from its
 *     default, keys sorted by name, values in hs_value_canon form.
 * So reordering YAML keys, moving a value between base and an axis, or extending an axis leaves
 * existing ids unchanged, and `printf '%s' "$canonical" | sha256sum | cut -c1-16` reproduces an id.
 * Two runs with the same id (overlapping blocks, a `set` that collapses two combinations) are an
 * error that names both; across stages they are one run (the earlier stage's).
 *
 * Stages: a stage with a select takes its key's value right after the axes (before `set`), from
 * the winner of the run's group. hs_plan_expand plans stages 0 .. opts->stage, so a staged
 * sweep's plan grows stage by stage and keeps every id it had.
 */
#ifndef HSWEEP_PLAN_H
#define HSWEEP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "hsweep/schema.h"
#include "hsweep/spec.h"
#include "hsweep/status.h"
#include "hsweep/util.h"

#define HS_PLAN_DEFAULT_MAX_RUNS 1000000

/* The winners of a stage's select (hs_select_pick): one entry per group of `per` values. */
typedef struct hs_pick {
    hs_value *per;     /* [n_per] the group's values of the per keys */
    hs_value over;     /* the chosen value (when found) */
    int found;         /* 0: no run of the group counted in the stage selected from */
    double score;      /* the winner's mean metric */
    size_t n_counted;  /* runs of the winning value that counted */
} hs_pick;

typedef struct hs_picks {
    hs_pick *groups;
    size_t n, n_per;
} hs_picks;

/* One group of a stage's search (hs_search_replay): its points so far and what they showed. */
typedef enum hs_search_status {
    HS_SEARCH_OPEN,          /* points proposed and not all measured yet */
    HS_SEARCH_CONVERGED,     /* hi / lo - 1 <= rtol, or no point fits between the ends */
    HS_SEARCH_NOT_BRACKETED, /* the metric does not cross the target between lo and hi */
    HS_SEARCH_MAX_ROUNDS,    /* max_rounds reached: the crossing is that of the last bracket */
    HS_SEARCH_STATUS_COUNT
} hs_search_status;
const char *hs_search_status_to_string(hs_search_status s); /* "open", "converged", ... */

typedef struct hs_search_group {
    hs_value *over;          /* [n_over] the group's values of the over keys */
    double *x;               /* [n_x] the key's values to train, in the order proposed */
    size_t n_x;
    hs_search_status status;
    int rounds;              /* rounds proposed (1: only the first) */
    double lo, hi;           /* the bracket (the last one), NaN before it is known */
    double err_lo, err_hi;   /* seed-averaged metric at its ends */
    double *seeds_lo, *seeds_hi; /* [seeds] per-seed values at its ends (NaN: not counted) */
    double crossing;         /* interpolated in the bracket; NaN unless converged or max_rounds */
} hs_search_group;

typedef struct hs_search_state {
    hs_search_group *groups;
    size_t n, n_over, seeds;
} hs_search_state;

/* What the search knows of one point: 0 while any of its seeds is not finished (or the point was
 * never planned); 1 when all are, with vals[s] the final metric of seed s + 1 (NaN: failed or
 * diverged, not counted). */
typedef int (*hs_search_measure)(void *ctx, size_t group, double x, double *vals);

/* The points of every group of search sr, replayed from the measurements alone: round 0 is lo,
 * hi and `batch` points between; while a round is fully measured, the bracket is the first pair
 * of adjacent measured points (by key) whose seed means lie on both sides of the target, and the
 * next round is `batch` points inside it (log-spaced when log), canonical for the key type,
 * distinct from every point so far. So the points, the runs and their ids are a pure function of
 * the spec and the file: a resumed search proposes what the killed one did. out->groups[g].over
 * must be set (hs_search_groups) before the call; measure NULL: nothing measured (round 0). */
hs_code hs_search_replay(const hs_search *sr, hs_search_state *out, hs_search_measure measure, void *ctx,
                         hs_error *err);
/* The groups of stage `stage`'s search: the distinct values of its over keys in the stage's
 * expansion (spec order). *out is new, every group open with no points. */
hs_code hs_search_groups(const hs_spec *spec, size_t stage, hs_search_state *out, hs_error *err);
/* The canonical value of the search key nearest x: integers rounded, floats to 6 significant
 * digits. */
double hs_search_canon(const hs_search *sr, double x);
void hs_search_state_free(hs_search_state *s);
/* The most points one group of sr can train: lo, hi, batch between, and batch per later round. */
size_t hs_search_max_points(const hs_search *sr);

typedef struct hs_plan_opts {
    size_t max_runs; /* refuse larger plans (and blocks with more combinations); 0 = default */
    /* Specs with stages: expand stages 0 .. stage (0: the first alone). A stage with a select
     * needs picks[stage] (its winners, from the results of the earlier stages); its runs whose
     * group has no winner are left out and counted in n_unplannable. */
    size_t stage;
    const hs_picks *const *picks; /* [spec->n_stages], NULL entries for stages without a select */
    /* A stage with a search takes searches[stage]: each combination of its axes is trained at its
     * group's points x seeds 1 .. sr->seeds. Without it (NULL array or entry) the stage expands to
     * its first round, the points the search proposes before anything is measured. */
    const hs_search_state *const *searches;
    /* Expand stage `stage` alone with its select's key left at its base value: as many runs as
     * the stage can have, before the earlier stages have run. */
    int bound;
} hs_plan_opts;

typedef struct hs_run {
    uint64_t id;
    uint32_t block;   /* index into spec->blocks */
    uint32_t ordinal; /* combination number within the block, before excludes */
} hs_run;

typedef struct hs_plan {
    const hs_spec *spec; /* borrowed: must outlive the plan */
    size_t n_runs, n_keys;
    hs_run *runs;
    uint32_t *cells;        /* [n_runs][n_keys]: index into pool of each key's value */
    hs_value *pool;         /* distinct values (interned by type and canonical text) */
    char **pool_canon;      /* canonical text of each pool value */
    size_t n_pool, cap_pool;
    uint32_t *default_cell; /* [n_keys]: pool index of each key's default */
    unsigned char *varying; /* [n_keys]: 1 when the key takes more than one value in the plan */
    size_t n_excluded;      /* combinations dropped by `exclude` */
    size_t n_narrowed;      /* runs left out by a --set on an axis (hs_spec.only) */
    size_t n_unplannable;   /* runs of a select stage whose group has no winner */
    size_t n_shared;        /* runs of a stage equal to a run of an earlier stage (kept once) */
    uint8_t digest[32];     /* SHA-256 of all ids in plan order: equal plans have equal digests */
    /* private */
    uint64_t *id_table;     /* open addressing, for duplicate detection */
    uint32_t *id_slot_run;
    size_t id_cap;
} hs_plan;

hs_code hs_plan_expand(const hs_spec *spec, const hs_plan_opts *opts, hs_plan **out, hs_error *err);

/* The winners of select sel (a stage's) among the runs of stage sel->from in plan (which holds
 * that stage): metric[r] is run r's final value of sel->metric, NaN when it does not count
 * (not finished, failed), +-HUGE_VAL for the worst (diverged). Groups are the distinct values of
 * the per keys among those runs, in plan order; in each, the value of `over` with the smallest
 * (largest for max) mean over its counted runs wins, the first in plan order on ties. A group
 * with no counted run has found = 0. *out is new (hs_picks_free it). */
hs_code hs_select_pick(const hs_plan *plan, const hs_select *sel, const double *metric, hs_picks *out, hs_error *err);
void hs_picks_free(hs_picks *p);

/* Value of key (schema index) in run r. */
const hs_value *hs_plan_value(const hs_plan *plan, size_t r, int key);

/* The canonical text that run r's id hashes (see above). */
hs_code hs_plan_canonical(const hs_plan *plan, size_t r, hs_str *out);

/* Estimated FLOPs of run r from its config alone (src/plan/cost.c): 6 x the model kind's
 * multiply-adds per sample (forward + backward) x training samples x epochs, the samples and the
 * input and output widths from the data kind's shape; a solved kind's own count of its solve; 0
 * when the config or its data shape is refused. The scheduler hands out the most expensive runs
 * first. */
double hs_plan_cost(const hs_plan *plan, size_t r);

/* Parameter count of run r's net (the model kind's `params`, models.h), or -1 when its kind does
 * not count them or the config or its data shape is refused. */
long long hs_plan_params(const hs_plan *plan, size_t r);

/* The least memory run r holds on one rank (hs_train_memory_floor: its data, its net as built
 * and the optimiser's state; a kernel run's whole matrix), or 0 when its config or data shape is
 * refused. */
double hs_plan_memory(const hs_plan *plan, size_t r);

/* Run index with this id, or -1. */
long hs_plan_find(const hs_plan *plan, uint64_t id);

typedef enum hs_plan_format { HS_PLAN_TEXT, HS_PLAN_TSV, HS_PLAN_JSON } hs_plan_format;
/* text: a summary line, then one aligned line per run with its id and the keys that vary;
 * tsv:  a header and one row per run (id, block, varying keys);
 * json: {"name", "spec", "schema_version", "count", "varying", "runs": [{"id", "block",
 *        "canonical", "config": {every key}}]}.
 * When the model kind of any run counts its parameters (hs_plan_params), text and tsv end each
 * line with a column "params" ("-" for runs whose kind does not count) and json runs whose kind
 * does have a "params" field; plans of other kinds print as before. json runs also carry
 * "memory_bytes" (hs_plan_memory). */
hs_code hs_plan_write(const hs_plan *plan, hs_plan_format fmt, hs_str *out);

void hs_plan_free(hs_plan *plan);

#endif /* HSWEEP_PLAN_H */
