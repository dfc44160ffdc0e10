/* stages.c - what run, plan and status share about a spec's stages: the metric table a select
 * ranks (read from the results file through the reader) and the lines that describe a select's
 * winners and a stage's progress. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hsweep/lock.h"

hs_code cli_stage_metric(const hs_plan *prev, const hs_select *sel, const hs_results_reader *rd, double *metric,
                         hs_error *err) {
    int complement = 0;
    const char *rec = hs_metric_record(sel->metric, &complement);
    const size_t R = hs_reader_n_runs(rd);
    for (size_t r = 0; r < prev->n_runs; r++) metric[r] = NAN;
    double *fin = malloc((R + 1) * sizeof *fin);
    if (!fin) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    hs_code rc = hs_reader_final(rd, rec, fin, err);
    for (size_t i = 0; i < R && rc == HS_OK; i++) {
        long r = hs_plan_find(prev, strtoull(hs_reader_id(rd, i), NULL, 16));
        if (r < 0) continue;
        hs_run_state st = hs_reader_state(rd, i);
        /* a value that diverged must lose to every value that trained */
        if (st == HS_STATE_DIVERGED) metric[r] = sel->maximize ? -HUGE_VAL : HUGE_VAL;
        else if (st == HS_STATE_DONE && !isnan(fin[i])) metric[r] = complement ? 1 - fin[i] : fin[i];
    }
    free(fin);
    return rc;
}

/* A group by its keys' values: "model.depth=2, train.opt=sgd" ("all runs" when no key splits
 * them); a select's per keys and a search's over keys alike. */
static void describe_group(const int *keys, const hs_value *vals, size_t n, hs_str *out) {
    for (size_t j = 0; j < n; j++) {
        hs_str v = {0};
        hs_value_canon(&vals[j], &v);
        hs_str_printf(out, "%s%s=%s", j ? ", " : "", hs_schema_key((size_t)keys[j])->name, v.buf ? v.buf : "?");
        hs_str_free(&v);
    }
    if (!n) hs_str_printf(out, "all runs");
}

size_t cli_describe_picks(const hs_spec *spec, size_t stage, const hs_picks *pk, hs_str *out) {
    const hs_select *sel = spec->blocks[stage].select;
    const char *over = hs_schema_key((size_t)sel->over)->name;
    size_t missing = 0;
    hs_str_printf(out, "stage '%s': %s by %s(%s) in stage '%s':\n", spec->blocks[stage].name, over,
                  sel->maximize ? "max" : "min", hs_metric_to_string(sel->metric), spec->blocks[sel->from].name);
    for (size_t g = 0; g < pk->n; g++) {
        hs_str_printf(out, "  ");
        describe_group(sel->per, pk->groups[g].per, sel->n_per, out);
        if (pk->groups[g].found) {
            hs_str v = {0};
            hs_value_canon(&pk->groups[g].over, &v);
            hs_str_printf(out, ": %s=%s (mean %.6g over %zu run%s)\n", over, v.buf ? v.buf : "?", pk->groups[g].score,
                          pk->groups[g].n_counted, pk->groups[g].n_counted == 1 ? "" : "s");
            hs_str_free(&v);
        } else {
            missing++;
            hs_str_printf(out, ": no finished run in stage '%s': its runs are not plannable\n",
                          spec->blocks[sel->from].name);
        }
    }
    return missing;
}

hs_code cli_run_values(const hs_plan *plan, const hs_results_reader *rd, hs_metric m, double *metric,
                       unsigned char *resolved, hs_error *err) {
    int complement = 0;
    const char *rec = hs_metric_record(m, &complement);
    const size_t R = hs_reader_n_runs(rd);
    for (size_t r = 0; r < plan->n_runs; r++) metric[r] = NAN, resolved[r] = 0;
    double *fin = malloc((R + 1) * sizeof *fin);
    if (!fin) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    hs_code rc = hs_reader_final(rd, rec, fin, err);
    for (size_t i = 0; i < R && rc == HS_OK; i++) {
        long r = hs_plan_find(plan, strtoull(hs_reader_id(rd, i), NULL, 16));
        if (r < 0) continue;
        hs_run_state st = hs_reader_state(rd, i);
        resolved[r] = st == HS_STATE_DONE || st == HS_STATE_DIVERGED || st == HS_STATE_FAILED;
        if (st == HS_STATE_DONE && !isnan(fin[i])) metric[r] = complement ? 1 - fin[i] : fin[i];
    }
    free(fin);
    return rc;
}

typedef struct measure_ctx {
    const hs_plan *plan;
    size_t stage;
    const hs_search *sr;
    const hs_search_state *st;
    const double *metric;
    const unsigned char *resolved;
} measure_ctx;

/* hs_search_measure over a plan's runs and their values from the file. */
static int measure_point(void *vctx, size_t g, double x, double *vals) {
    const measure_ctx *c = vctx;
    const size_t S = (size_t)c->sr->seeds;
    const int k_seed = hs_schema_find("seed");
    size_t seen = 0;
    for (size_t s = 0; s < S; s++) vals[s] = NAN;
    if (!c->metric) return 0;
    for (size_t r = 0; r < c->plan->n_runs; r++) {
        if (c->plan->spec->blocks[c->plan->runs[r].block].stage != c->stage) continue;
        const hs_value *v = hs_plan_value(c->plan, r, c->sr->key);
        if ((v->type == HS_T_INT ? (double)v->u.i : v->u.f) != x) continue;
        size_t j = 0;
        while (j < c->sr->n_over && hs_value_equal(hs_plan_value(c->plan, r, c->sr->over[j]), &c->st->groups[g].over[j])) j++;
        if (j < c->sr->n_over) continue;
        long long seed = hs_plan_value(c->plan, r, k_seed)->u.i;
        if (seed < 1 || seed > (long long)S) continue;
        if (!c->resolved[r]) return 0;
        vals[seed - 1] = c->metric[r];
        seen++;
    }
    return seen == S;
}

hs_code cli_search_replay(const hs_spec *spec, size_t stage, const hs_plan *plan, const double *metric,
                          const unsigned char *resolved, hs_search_state *st, hs_error *err) {
    const hs_search *sr = spec->blocks[stage].search;
    measure_ctx c = {.plan = plan, .stage = stage, .sr = sr, .st = st, .metric = metric, .resolved = resolved};
    return hs_search_replay(sr, st, measure_point, &c, err);
}

size_t cli_describe_search(const hs_spec *spec, size_t stage, const hs_search_state *st, hs_str *out) {
    const hs_search *sr = spec->blocks[stage].search;
    const char *key = hs_schema_key((size_t)sr->key)->name;
    size_t open = 0, trainings = 0;
    for (size_t g = 0; g < st->n; g++) trainings += st->groups[g].n_x * st->seeds;
    hs_str_printf(out, "stage '%s': %s where %s = %g (%zu trainings so far):\n", spec->blocks[stage].name, key,
                  hs_metric_to_string(sr->metric), sr->target, trainings);
    for (size_t g = 0; g < st->n; g++) {
        const hs_search_group *gr = &st->groups[g];
        hs_str_printf(out, "  ");
        describe_group(sr->over, gr->over, sr->n_over, out);
        hs_str_printf(out, ": %s after %d round%s, %zu points", hs_search_status_to_string(gr->status), gr->rounds,
                      gr->rounds == 1 ? "" : "s", gr->n_x);
        if (!isnan(gr->lo))
            hs_str_printf(out, "; bracket [%g, %g] (%s %.4g, %.4g)", gr->lo, gr->hi, hs_metric_to_string(sr->metric),
                          gr->err_lo, gr->err_hi);
        if (!isnan(gr->crossing)) hs_str_printf(out, "; %s* = %.6g", key, gr->crossing);
        hs_str_printf(out, "\n");
        open += gr->status == HS_SEARCH_OPEN;
    }
    return open;
}

hs_code cli_search_store(const char *path, const hs_spec *spec, size_t stage, const hs_search_state *st, hs_error *err) {
    const hs_search *sr = spec->blocks[stage].search;
    hs_search_result *rows = calloc(st->n + 1, sizeof *rows);
    hs_str *names = calloc(st->n + 1, sizeof *names);
    if (!rows || !names) {
        free(rows), free(names);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    for (size_t g = 0; g < st->n; g++) {
        const hs_search_group *gr = &st->groups[g];
        describe_group(sr->over, gr->over, sr->n_over, &names[g]);
        rows[g] = (hs_search_result){.group = names[g].buf ? names[g].buf : "", .status = (int)gr->status,
                                     .rounds = gr->rounds, .points = (long long)gr->n_x, .crossing = gr->crossing,
                                     .lo = gr->lo, .hi = gr->hi, .err_lo = gr->err_lo, .err_hi = gr->err_hi,
                                     .seeds_lo = gr->seeds_lo, .seeds_hi = gr->seeds_hi};
    }
    /* The sweep released the file's writer lock when its round ended: take it again for this
     * write, so no other writer (a second run, analyze) has the file open meanwhile. */
    hs_lock *lock = NULL;
    hs_code rc = hs_lock_acquire(path, "run", 0, &lock, NULL, err);
    if (rc == HS_OK)
        rc = hs_results_write_search(path, spec->blocks[stage].name, hs_schema_key((size_t)sr->key)->name,
                                     hs_metric_to_string(sr->metric), sr->target, rows, st->n, st->seeds, err);
    hs_lock_release(lock);
    for (size_t g = 0; g < st->n; g++) hs_str_free(&names[g]);
    free(names), free(rows);
    return rc;
}
