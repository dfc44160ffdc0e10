/* select.c - the winners of a stage's select from the measured runs of an earlier stage (see
 * include/hsweep/plan.h). A pure function of the plan and the metric table, so every rank, and
 * every resume, picks the same values and plans the same run ids. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/plan.h"

void hs_picks_free(hs_picks *pk) {
    if (!pk) return;
    for (size_t g = 0; g < pk->n; g++) {
        for (size_t j = 0; j < pk->n_per; j++) hs_value_free(&pk->groups[g].per[j]);
        free(pk->groups[g].per);
        if (pk->groups[g].found) hs_value_free(&pk->groups[g].over);
    }
    free(pk->groups);
    memset(pk, 0, sizeof *pk);
}

/* Plan cells are pool indices and the pool interns values, so equal values have equal cells. */
static uint32_t cell(const hs_plan *p, size_t r, int key) { return p->cells[r * p->n_keys + (size_t)key]; }

hs_code hs_select_pick(const hs_plan *plan, const hs_select *sel, const double *metric, hs_picks *out, hs_error *err) {
    memset(out, 0, sizeof *out);
    out->n_per = sel->n_per;
    const size_t R = plan->n_runs;
    /* per run of the stage selected from: its group and its candidate (the over value) */
    size_t *group = malloc((R ? R : 1) * sizeof *group), *first = malloc((R ? R : 1) * sizeof *first);
    double *sum = calloc(R ? R : 1, sizeof *sum);
    size_t *count = calloc(R ? R : 1, sizeof *count);
    size_t n_groups = 0;
    if (!group || !first || !sum || !count) goto nomem;
    /* first[g]: a run of group g (its per values); candidates are keyed by the first run with
     * that (group, over) pair, so sum/count are indexed by run */
    size_t *cand = malloc((R ? R : 1) * sizeof *cand);
    if (!cand) goto nomem;
    for (size_t r = 0; r < R; r++) {
        group[r] = SIZE_MAX, cand[r] = SIZE_MAX;
        if (plan->spec->blocks[plan->runs[r].block].stage != sel->from) continue;
        size_t g = 0;
        for (; g < n_groups; g++) {
            size_t j = 0;
            while (j < sel->n_per && cell(plan, r, sel->per[j]) == cell(plan, first[g], sel->per[j])) j++;
            if (j == sel->n_per) break;
        }
        if (g == n_groups) first[n_groups++] = r;
        group[r] = g;
        size_t c = r;
        for (size_t q = 0; q < r; q++)
            if (group[q] == g && cand[q] == q && cell(plan, q, sel->over) == cell(plan, r, sel->over)) {
                c = q;
                break;
            }
        cand[r] = c;
        if (!isnan(metric[r])) sum[c] += metric[r], count[c]++;
    }
    if (!(out->groups = calloc(n_groups ? n_groups : 1, sizeof *out->groups))) {
        free(cand);
        goto nomem;
    }
    hs_code rc = HS_OK;
    for (size_t g = 0; g < n_groups && rc == HS_OK; g++) {
        hs_pick *pk = &out->groups[g];
        out->n++;
        if (!(pk->per = calloc(sel->n_per ? sel->n_per : 1, sizeof *pk->per))) rc = HS_ERR_NOMEM;
        for (size_t j = 0; j < sel->n_per && rc == HS_OK; j++)
            rc = hs_value_copy(hs_plan_value(plan, first[g], sel->per[j]), &pk->per[j]);
        size_t best = SIZE_MAX;
        double best_mean = 0;
        for (size_t r = 0; r < R && rc == HS_OK; r++) {
            if (group[r] != g || cand[r] != r || count[r] == 0) continue;
            double mean = sum[r] / (double)count[r]; /* +-inf for a value that diverged */
            int better = best == SIZE_MAX || (sel->maximize ? mean > best_mean : mean < best_mean);
            if (better) best = r, best_mean = mean;
        }
        if (rc == HS_OK && best != SIZE_MAX) {
            rc = hs_value_copy(hs_plan_value(plan, best, sel->over), &pk->over);
            if (rc == HS_OK) pk->found = 1, pk->score = best_mean, pk->n_counted = count[best];
        }
    }
    free(cand), free(group), free(first), free(sum), free(count);
    if (rc != HS_OK) {
        hs_picks_free(out);
        return HS_FAIL(err, rc, "out of memory selecting");
    }
    return HS_OK;
nomem:
    free(group), free(first), free(sum), free(count);
    return HS_FAIL(err, HS_ERR_NOMEM, "out of memory selecting");
}
