/* stages.c - what run, plan and status share about a spec's stages: the metric table a select
 * ranks (read from the results file through the reader) and the lines that describe a select's
 * winners and a stage's progress. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

/* "model.depth=2, train.opt=sgd" */
static void describe_group(const hs_select *sel, const hs_pick *g, hs_str *out) {
    for (size_t j = 0; j < sel->n_per; j++) {
        hs_str v = {0};
        hs_value_canon(&g->per[j], &v);
        hs_str_printf(out, "%s%s=%s", j ? ", " : "", hs_schema_key((size_t)sel->per[j])->name, v.buf ? v.buf : "?");
        hs_str_free(&v);
    }
    if (!sel->n_per) hs_str_printf(out, "all runs");
}

size_t cli_describe_picks(const hs_spec *spec, size_t stage, const hs_picks *pk, hs_str *out) {
    const hs_select *sel = spec->blocks[stage].select;
    const char *over = hs_schema_key((size_t)sel->over)->name;
    size_t missing = 0;
    hs_str_printf(out, "stage '%s': %s by %s(%s) in stage '%s':\n", spec->blocks[stage].name, over,
                  sel->maximize ? "max" : "min", hs_metric_to_string(sel->metric), spec->blocks[sel->from].name);
    for (size_t g = 0; g < pk->n; g++) {
        hs_str_printf(out, "  ");
        describe_group(sel, &pk->groups[g], out);
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
