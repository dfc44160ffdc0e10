/*
 * spec.h - a sweep spec: YAML text -> validated, typed description of a set of runs.
 *
 * A spec is a base config plus one or more blocks; the union of the blocks' expansions is the
 * sweep (the plan module expands it). Worked example:
 *
 *     name: depth-vs-lr
 *     sweep: {max_attempts: 5, checkpoint_minutes: 10}   # how to run it; not part of any run id
 *     base:                          # one training's full config; unset keys take defaults
 *       data: {kind: cfm}
 *       model: {depth: 2, width: 100}
 *       train: {opt: sgd, epochs: 600, lr_drops: [200, 400]}
 *     blocks:                        # omit `blocks:` to write one block's keys at top level
 *       - name: main
 *         product:                   # Cartesian axes over dotted keys, last varies fastest
 *           train.opt: [sgd, adam]
 *           seed: [1, 2, 3]
 *         zip:                       # axes advanced together (equal lengths)
 *           - model.depth: [2, 6, 18]
 *             train.lr: [0.003, 0.001, 0.0003]
 *         set:                       # conditional overrides, applied in order after expansion
 *           - where: {train.opt: sgd, model.depth: [2, 6]}
 *             to: {train.lr: 0.3}
 *         exclude:                   # drop combinations (matched after `set`)
 *           - {train.opt: sgd, model.depth: 18}
 *       - name: no-bn control
 *         base: {model.norm: none, model.depth: 18}     # block-level overrides of base
 *         product:
 *           seed: [1, 2, 3]
 *           data.per_class: {logspace: {from: 10, to: 1000, num: 5}}   # 10 32 100 316 1000
 *       - name: random lr
 *         sample:                    # n distinct random points, crossed with the other axes
 *           n: 20
 *           seed: 7                  # the sampler's seed, not the runs' `seed` key
 *           train.lr: loguniform(1e-4, 1e-1)
 *           train.opt: choice(sgd, adam)
 *
 * Ranges: {logspace: {from, to, num}} gives num values geometrically spaced from `from` to `to`
 * (endpoint values, not exponents, so numpy's geomspace); {linspace: {from, to, num}} equally
 * spaced. Integer keys round to the nearest integer and drop repeats the rounding creates.
 * `where` values may be a list (any of). Top-level `set` and `exclude` apply to every block,
 * after the block's own.
 *
 * Samples: uniform(a, b) and loguniform(a, b) on numeric keys (an int key draws integers),
 * choice(x, y, ...) on any; in flow style write {loguniform: [a, b]} (a comma ends a plain value).
 * A sample is one axis (a zip group of its keys) of n distinct points, a pure function of the
 * spec: one random stream per key, so n = 30 begins with the points of n = 20 (src/spec/sample.c).
 *
 *     hs_spec *spec = NULL;
 *     hs_error err = {0};
 *     if (hs_spec_load("sweeps/default.yaml", &spec, &err) != HS_OK) ... err.msg ...
 *     hs_spec_free(spec);
 *
 * Stages: `stages:` (instead of `blocks:`) is a list of blocks run one after the other into the
 * same results file, each with a `name` and its axes (`axes:` is another word for `product:`);
 * a later stage may take a key's value from what an earlier one measured:
 *
 *     stages:
 *       - name: lr
 *         axes: {train.lr: [0.001, 0.01, 0.1], model.depth: [2, 4]}
 *       - name: seeds
 *         select: {from: lr, by: min(test_loss), over: train.lr, per: [model.depth]}
 *         axes: {seed: [1, 2, 3], model.depth: [2, 4]}
 *
 * The select fixes `over` in this stage, for each group of `per` values, to the value whose runs
 * of stage `from` had the smallest (min) or largest (max) mean final metric (averaged over every
 * finished run of the group with that value: seeds and whatever else varies). `over` must be an
 * axis key of `from` and no axis key of this stage; every `per` key an axis key of both. A run
 * that diverged counts as the worst value; a failed one does not count; a group with no counted
 * run has no winner, and its runs in this stage are not plannable (reported, the rest proceed).
 * A run of a later stage equal to one of an earlier stage is the same run (same id, trained once).
 *
 * A stage may instead search, per combination of its `over` axes, for where a metric crosses a
 * target:
 *
 *       - name: pstar
 *         axes: {model.arch: [cnn, lcn], data.s0: [0, 1]}
 *         search: {key: data.n_train, target: test_err = 0.1, over: [model.arch, data.s0],
 *                  lo: 100, hi: 10000, log: true, rtol: 0.05, seeds: 3, batch: 2, max_rounds: 20}
 *
 * Round 0 trains lo, hi and `batch` points between them; each later round trains `batch` points
 * inside the bracket (the adjacent measured points where the seed-averaged metric crosses the
 * target, the first from lo), until hi / lo - 1 <= rtol, no point fits between the ends (an
 * integer key), or max_rounds. Points are canonical values of the key (integers rounded, floats
 * to 6 significant digits), each trained with seed = 1 .. seeds. The rounds are a pure function
 * of the spec and the measured values (replayed from the file on every resume). `seed` and
 * `key` must be no axis of the stage; defaults: log false, rtol 0.05, seeds 1, batch 1,
 * max_rounds 20, over every axis key of the stage.
 *
 * Every error message starts "FILE:LINE:COL: KEY.PATH: " (1-based line and column), names what
 * was expected, and suggests the nearest valid key or value where one is close.
 */
#ifndef HSWEEP_SPEC_H
#define HSWEEP_SPEC_H

#include <stddef.h>

#include "hsweep/schema.h"
#include "hsweep/status.h"

typedef struct hs_loc {
    int line, col; /* 1-based position in the spec file */
} hs_loc;

/* key = value, e.g. one entry of `base` or of a `set` rule's `to`. */
typedef struct hs_assign {
    int key; /* schema index */
    hs_value val;
    hs_loc loc;
} hs_assign;

/* One condition of a `where` (or `exclude`) map: key equals any of vals. */
typedef struct hs_cond {
    int key;
    hs_value *vals;
    size_t n_vals;
    hs_loc loc;
} hs_cond;

typedef struct hs_where {
    hs_cond *conds;
    size_t n_conds;
    hs_loc loc;
} hs_where;

typedef struct hs_set_rule {
    hs_where where; /* n_conds == 0: applies to every run */
    hs_assign *to;
    size_t n_to;
    hs_loc loc;
} hs_set_rule;

/* An axis: one product key (n_keys == 1) or one zip group (n_keys >= 1) of equal-length lists.
 * vals[j * n_keys + k] is position j of key k. */
typedef struct hs_axis {
    int *keys;
    size_t n_keys;
    hs_value *vals;
    size_t len;
    hs_loc loc;
    hs_loc *key_locs; /* [n_keys]: where each key is written (a zip group's loc is its first key) */
} hs_axis;

/* What a select ranks by: a run's final value of a record. */
typedef enum hs_metric {
    HS_METRIC_TEST_LOSS,
    HS_METRIC_TEST_ERR, /* 1 - test_acc */
    HS_METRIC_TEST_ACC,
    HS_METRIC_TRAIN_LOSS,
    HS_METRIC_TRAIN_ERR,
    HS_METRIC_TRAIN_ACC,
    HS_METRIC_COUNT
} hs_metric;
const char *hs_metric_to_string(hs_metric m); /* "test_loss", ... */
/* The metric named s, or -1. */
int hs_metric_from_string(const char *s);
/* The record (/records/<name>) a metric is read from; *complement = 1 when it is 1 - that record. */
const char *hs_metric_record(hs_metric m, int *complement);

/* `select:` of a stage (see above). */
typedef struct hs_select {
    size_t from;       /* stage index, < this stage's */
    hs_metric metric;
    int maximize;      /* by: max(...) */
    int over;          /* schema index */
    int *per;          /* [n_per] schema indices */
    size_t n_per;
    hs_loc loc;
} hs_select;

/* `search:` of a stage: a bracketing search, per group of `over` values, for the value of `key`
 * where the seed-averaged final metric crosses target (plan.h: hs_search_replay). */
typedef struct hs_search {
    int key;           /* schema index of a numeric key, no axis of the stage */
    hs_metric metric;
    double target;
    int *over;         /* [n_over] axis keys of the stage: one search per combination */
    size_t n_over;
    double lo, hi;     /* the first bracket */
    int log;           /* points spaced (and the crossing interpolated) in log(key) */
    double rtol;       /* done when hi / lo - 1 <= rtol */
    int seeds;         /* every point is trained with seed = 1 .. seeds */
    int batch;         /* points per round inside the bracket */
    int max_rounds;    /* rounds after the first, at most */
    hs_loc loc;
} hs_search;

typedef struct hs_block {
    char *name;     /* given name, or "block0", "block1", ... */
    char *path;     /* "blocks[1]" (or "" for the top-level shorthand), for messages */
    hs_loc loc;
    hs_assign *base; /* block-level overrides of the spec's base */
    size_t n_base;
    hs_axis *axes;
    size_t n_axes;
    hs_set_rule *sets;
    size_t n_sets;
    hs_where *excludes;
    size_t n_excludes;
    size_t stage;      /* 0 unless the spec has stages: then the block is stage `stage` */
    hs_select *select; /* NULL, or how the stage takes a key from an earlier one */
    hs_search *search; /* NULL, or the search the stage runs (never with a select) */
} hs_block;

/* Defaults of the `sweep:` settings: a run whose rank dies this many times is failed for good
 * (a run that always crashes, e.g. out of memory, must not requeue a job forever); a running
 * training saves its state this often (and whenever it is drained by a signal). */
#define HS_SPEC_MAX_ATTEMPTS 5
#define HS_SPEC_CHECKPOINT_MINUTES 10.0

/* A `--set key=v` or `--set key=[v1, v2]` on a key that only axes vary: the runs whose value of
 * key is one of vals are kept (hs_spec_override_base). */
typedef struct hs_only {
    int key;
    hs_value *vals;
    size_t n;
} hs_only;

typedef struct hs_spec {
    char *path;        /* file name used in messages */
    char *text;        /* the spec verbatim (stored in results files) */
    size_t text_len;
    char *name;        /* `name:`, or the file's base name without extension */
    char *description; /* may be "" */
    hs_assign *base;
    size_t n_base;
    hs_block *blocks;
    size_t n_blocks;
    size_t n_stages;   /* 0: no `stages:` (every block is stage 0); else n_blocks, one per stage */
    hs_set_rule *sets; /* top-level: apply to every block */
    size_t n_sets;
    hs_where *excludes;
    size_t n_excludes;
    hs_only *only; /* `--set` on keys only axes give (plan, run): the runs with one of those values */
    size_t n_only;
    int max_attempts;          /* sweep.max_attempts (HS_SPEC_MAX_ATTEMPTS unless given) */
    double checkpoint_minutes; /* sweep.checkpoint_minutes; 0 = only when drained */
} hs_spec;

/* Read and validate the spec file at path. On success *out is a new spec (hs_spec_free it). */
hs_code hs_spec_load(const char *path, hs_spec **out, hs_error *err);

/* Same from memory; path only names the source in messages. text need not be NUL-terminated. */
hs_code hs_spec_parse(const char *text, size_t len, const char *path, hs_spec **out, hs_error *err);

/* Add a `--set key=value` override to the spec's base (after the file's base), e.g. from the
 * command line. Errors name the override ("--set model.depth=x: expected an integer ..."). Every
 * level above the base still wins over it; `hsweep train` relies on that and rebuilds the chosen
 * run as a one-run spec first, so its --set changes the run whatever level set the key. */
hs_code hs_spec_override(hs_spec *spec, const char *assignment, hs_error *err);

/* hs_spec_override for `hsweep plan` and `run`, where the override is the spec's base: refused
 * (HS_ERR_SPEC) when a block's `base` or a block's or the top-level `set` rules give the key,
 * since that value would silently replace the override in the runs it reaches. The message names
 * the override and the first such place, with its block and file:line:col, e.g.
 *   "--set model.norm=none: block 'controls' sets model.norm in its `base` at sweep.yaml:25:32,
 *    which would win over the --set"
 * On a key that only axes give, the override narrows the sweep instead (spec->only): the plan
 * keeps the runs with that value, or with any of "key=[v1, v2]" (for a key whose values are
 * scalars; a list key's [a, b] is one value), with their ids, so part of a sweep can run on its
 * own and the whole spec resumed later adds the rest. A value no axis has is refused, naming the
 * first axis and its values. A key the expansion derives (data.seed following seed) is not given by the
 * spec: --set data.seed=5 beside a seed axis fixes the data seed of every run. */
hs_code hs_spec_override_base(hs_spec *spec, const char *assignment, hs_error *err);

void hs_spec_free(hs_spec *spec);

#endif /* HSWEEP_SPEC_H */
