/* layout.c - the layout of a new results file, from the plan: one row per run (id, canonical
 * config), one column per varying key, and the record, layer and series shapes every run fits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/schema.h"
#include "internal.h"

_Static_assert(HS_SERIES_MAX_DIMS <= HS_STORE_MAX_DIMS, "the results file holds every series shape");

void sched_layout_free(layout_store *s, size_t n_runs) {
    for (size_t r = 0; r < n_runs; r++) {
        if (s->ids) free(s->ids[r]);
        if (s->configs) free(s->configs[r]);
    }
    for (size_t c = 0; c < s->L.n_cols; c++) {
        if (s->col_strs && s->col_strs[c]) {
            for (size_t r = 0; r < n_runs; r++) free(s->col_strs[c][r]);
            free(s->col_strs[c]);
        }
        if (s->col_data) free(s->col_data[c]);
    }
    free(s->ids), free(s->configs), free(s->cols), free(s->col_data), free(s->col_strs), free(s->series);
    free(s->steps_total);
    memset(s, 0, sizeof *s);
}

hs_code sched_layout_build(const hs_plan *p, const hs_spec *spec, const char *overrides, layout_store *s,
                            hs_error *err) {
    memset(s, 0, sizeof *s);
    hs_code rc = HS_OK;
    size_t R = p->n_runs;
    s->ids = calloc(R ? R : 1, sizeof *s->ids);
    s->configs = calloc(R ? R : 1, sizeof *s->configs);
    size_t n_vary = 0;
    for (size_t k = 0; k < p->n_keys; k++) n_vary += p->varying[k] != 0;
    s->cols = calloc(n_vary ? n_vary : 1, sizeof *s->cols);
    s->col_data = calloc(n_vary ? n_vary : 1, sizeof *s->col_data);
    s->col_strs = calloc(n_vary ? n_vary : 1, sizeof *s->col_strs);
    s->series = calloc(HS_TRAIN_PLAN_MAX_SERIES, sizeof *s->series);
    s->steps_total = calloc(R ? R : 1, sizeof *s->steps_total);
    if (!s->ids || !s->configs || !s->cols || !s->col_data || !s->col_strs || !s->series || !s->steps_total) goto nomem;
    for (size_t r = 0; r < R; r++) {
        s->ids[r] = malloc(17);
        hs_str canon = {0};
        if (!s->ids[r] || hs_plan_canonical(p, r, &canon) != HS_OK) {
            hs_str_free(&canon);
            goto nomem;
        }
        snprintf(s->ids[r], 17, "%016llx", (unsigned long long)p->runs[r].id);
        s->configs[r] = canon.buf ? canon.buf : strdup("");
        if (!s->configs[r]) goto nomem;
    }
    /* hs_train_layout_of is the one truth for what a run records, so the file is sized from the
     * same function the training fills (folded over the runs by train/) */
    hs_train_plan_layout pl;
    HS_CHECK(err, rc, hs_train_plan_layout_of(p, &pl, s->steps_total, err), fail);
    size_t n_rec = pl.n_records, n_lay = pl.n_layers, n_ser = pl.n_series;
    for (size_t j = 0; j < n_ser; j++) {
        const hs_series_spec *t = &pl.series[j];
        s->series[j] = (hs_results_series){.name = t->name, .axes = t->axes, .ndim = t->ndim,
                                           .n_points = t->n_points, .every = t->every};
        for (int d = 0; d < t->ndim; d++) s->series[j].dims[d] = t->dims[d];
    }
    size_t c = 0;
    for (size_t k = 0; k < p->n_keys; k++) {
        if (!p->varying[k]) continue;
        const hs_key *key = hs_schema_key(k);
        hs_results_col *col = &s->cols[c];
        col->name = key->name;
        s->L.n_cols = c + 1;
        if (key->type == HS_T_INT || key->type == HS_T_BOOL) {
            long long *v = malloc((R ? R : 1) * sizeof *v);
            if (!(s->col_data[c] = v)) goto nomem;
            for (size_t r = 0; r < R; r++) {
                const hs_value *x = hs_plan_value(p, r, (int)k);
                v[r] = key->type == HS_T_BOOL ? x->u.b : x->u.i;
            }
            col->type = HS_COL_INT, col->i = v;
        } else if (key->type == HS_T_FLOAT) {
            double *v = malloc((R ? R : 1) * sizeof *v);
            if (!(s->col_data[c] = v)) goto nomem;
            for (size_t r = 0; r < R; r++) v[r] = hs_plan_value(p, r, (int)k)->u.f;
            col->type = HS_COL_FLOAT, col->f = v;
        } else {
            char **v = calloc(R ? R : 1, sizeof *v);
            if (!(s->col_strs[c] = v)) goto nomem;
            for (size_t r = 0; r < R; r++) {
                hs_str t = {0};
                if (hs_value_show(hs_plan_value(p, r, (int)k), &t) != HS_OK) {
                    hs_str_free(&t);
                    goto nomem;
                }
                v[r] = t.buf ? t.buf : strdup("");
                if (!v[r]) goto nomem;
            }
            col->type = HS_COL_STR, col->s = (const char *const *)v;
        }
        c++;
    }
    for (int i = 0; i < 8; i++) snprintf(s->digest + 2 * i, 3, "%02x", p->digest[i]);
    s->L = (hs_results_layout){.n_runs = R,
                               .ids = (const char *const *)s->ids,
                               .configs = (const char *const *)s->configs,
                               .cols = s->cols,
                               .n_cols = s->L.n_cols,
                               .n_records = n_rec,
                               .metrics = hs_record_field_names,
                               .n_metrics = HS_RECORD_FIELDS,
                               .max_layers = n_lay,
                               .layer_metrics = hs_layer_field_names,
                               .n_layer_metrics = N_LAYER_METRICS,
                               .series = s->series,
                               .n_series = n_ser,
                               .steps_total = s->steps_total,
                               .overrides = overrides ? overrides : "",
                               .spec_text = spec->text ? spec->text : "",
                               .spec_path = spec->path ? spec->path : "",
                               .plan_digest = s->digest,
                               .hsweep_version = HSWEEP_VERSION_STRING,
                               .schema_version = HS_SCHEMA_VERSION};
    return HS_OK;
nomem:
    rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory building the results layout");
fail:
    sched_layout_free(s, R);
    return rc;
}
