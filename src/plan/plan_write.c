/* plan_write.c - a plan as text for people, TSV for scripts or JSON (see include/hsweep/plan.h).
 *
 * Only what `hsweep plan` prints; expansion and ids live in plan.c. */
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hsweep/plan.h"

static hs_code write_text(const hs_plan *p, hs_str *o, int tsv) {
    const hs_spec *s = p->spec;
    size_t nv = 0;
    for (size_t k = 0; k < p->n_keys; k++) nv += p->varying[k];
    int show_block = s->n_blocks > 1;
    hs_str cell = {0};
    hs_code rc = HS_OK;
    /* column widths (text only) */
    size_t *wid = calloc(p->n_keys + 1, sizeof *wid);
    long long *params = malloc((p->n_runs ? p->n_runs : 1) * sizeof *params);
    if (!wid || !params) {
        free(wid), free(params);
        return HS_ERR_NOMEM;
    }
    int show_params = 0;
    for (size_t r = 0; r < p->n_runs; r++) show_params |= (params[r] = hs_plan_params(p, r)) >= 0;
    size_t bw = 5;
    for (size_t b = 0; b < s->n_blocks; b++)
        if (strlen(s->blocks[b].name) > bw) bw = strlen(s->blocks[b].name);
    for (size_t k = 0; k < p->n_keys; k++) {
        if (!p->varying[k]) continue;
        wid[k] = strlen(hs_schema_key(k)->name);
        for (size_t r = 0; r < p->n_runs && !tsv && rc == HS_OK; r++) {
            hs_str_reset(&cell);
            rc = hs_value_show(hs_plan_value(p, r, (int)k), &cell);
            if (cell.len > wid[k]) wid[k] = cell.len;
        }
    }
    if (!tsv && rc == HS_OK) {
        size_t planned = 0;
        for (size_t r = 0; r < p->n_runs; r++)
            if (s->blocks[p->runs[r].block].stage + 1 > planned) planned = s->blocks[p->runs[r].block].stage + 1;
        if (s->n_stages)
            rc = hs_str_printf(o, "%s: %zu run%s in %zu of %zu stages", s->name, p->n_runs, p->n_runs == 1 ? "" : "s",
                               planned, s->n_stages);
        else
            rc = hs_str_printf(o, "%s: %zu run%s in %zu block%s", s->name, p->n_runs, p->n_runs == 1 ? "" : "s",
                               s->n_blocks, s->n_blocks == 1 ? "" : "s");
        if (rc == HS_OK && p->n_excluded) rc = hs_str_printf(o, " (%zu excluded)", p->n_excluded);
        if (rc == HS_OK && p->n_narrowed) rc = hs_str_printf(o, " (%zu left out by --set)", p->n_narrowed);
        if (rc == HS_OK) rc = hs_str_printf(o, "; %zu key%s\n", nv, nv == 1 ? " varies" : "s vary");
    }
    const char *sep = tsv ? "\t" : "  ";
    if (rc == HS_OK) rc = hs_str_printf(o, tsv ? "id" : "%-16s", "id");
    if (rc == HS_OK && (show_block || tsv)) rc = hs_str_printf(o, "%s%-*s", sep, tsv ? 0 : (int)bw, "block");
    for (size_t k = 0; k < p->n_keys && rc == HS_OK; k++)
        if (p->varying[k]) rc = hs_str_printf(o, "%s%-*s", sep, tsv ? 0 : (int)wid[k], hs_schema_key(k)->name);
    if (rc == HS_OK && show_params) rc = hs_str_printf(o, "%sparams", sep);
    if (rc == HS_OK) rc = hs_str_printf(o, "\n");
    for (size_t r = 0; r < p->n_runs && rc == HS_OK; r++) {
        rc = hs_str_printf(o, "%016llx", (unsigned long long)p->runs[r].id);
        if (rc == HS_OK && (show_block || tsv))
            rc = hs_str_printf(o, "%s%-*s", sep, tsv ? 0 : (int)bw, s->blocks[p->runs[r].block].name);
        for (size_t k = 0; k < p->n_keys && rc == HS_OK; k++) {
            if (!p->varying[k]) continue;
            hs_str_reset(&cell);
            rc = hs_value_show(hs_plan_value(p, r, (int)k), &cell);
            if (rc == HS_OK) rc = hs_str_printf(o, "%s%-*s", sep, tsv ? 0 : (int)wid[k], cell.buf);
        }
        if (rc == HS_OK && show_params)
            rc = params[r] >= 0 ? hs_str_printf(o, "%s%lld", sep, params[r]) : hs_str_printf(o, "%s-", sep);
        /* no trailing blanks */
        while (rc == HS_OK && o->len && o->buf[o->len - 1] == ' ') o->buf[--o->len] = '\0';
        if (rc == HS_OK) rc = hs_str_printf(o, "\n");
    }
    if (!tsv && rc == HS_OK && p->n_runs) {
        double total = 0, most = 0;
        for (size_t r = 0; r < p->n_runs; r++) {
            double c = hs_plan_cost(p, r);
            total += c;
            if (c > most) most = c;
        }
        /* 50 GFLOP/s: what one core sustains on these shapes with AVX-512 OpenBLAS kernels */
        rc = hs_str_printf(o, "estimated training cost: %.3g FLOP in all, %.3g in the largest run (about %.2g core-hours "
                              "at 50 GFLOP/s)\n", total, most, total / 50e9 / 3600);
    }
    free(wid);
    free(params);
    hs_str_free(&cell);
    return rc;
}

static hs_code write_json(const hs_plan *p, hs_str *o) {
    const hs_spec *s = p->spec;
    hs_str canon = {0};
    hs_code rc = hs_str_printf(o, "{\"name\": ");
    if (rc == HS_OK) rc = hs_str_json(o, s->name);
    if (rc == HS_OK) rc = hs_str_printf(o, ", \"spec\": ");
    if (rc == HS_OK) rc = hs_str_json(o, s->path);
    if (rc == HS_OK)
        rc = hs_str_printf(o, ", \"schema_version\": %d, \"count\": %zu, \"excluded\": %zu, \"narrowed\": %zu, \"varying\": [",
                           HS_SCHEMA_VERSION, p->n_runs, p->n_excluded, p->n_narrowed);
    int first = 1;
    for (size_t k = 0; k < p->n_keys && rc == HS_OK; k++) {
        if (!p->varying[k]) continue;
        rc = hs_str_printf(o, "%s\"%s\"", first ? "" : ", ", hs_schema_key(k)->name);
        first = 0;
    }
    if (rc == HS_OK) rc = hs_str_printf(o, "],\n \"runs\": [");
    for (size_t r = 0; r < p->n_runs && rc == HS_OK; r++) {
        rc = hs_str_printf(o, "%s\n  {\"id\": \"%016llx\", \"block\": ", r ? "," : "", (unsigned long long)p->runs[r].id);
        if (rc == HS_OK) rc = hs_str_json(o, s->blocks[p->runs[r].block].name);
        hs_str_reset(&canon);
        if (rc == HS_OK) rc = hs_plan_canonical(p, r, &canon);
        if (rc == HS_OK) rc = hs_str_printf(o, ", \"canonical\": ");
        if (rc == HS_OK) rc = hs_str_json(o, canon.buf);
        const long long np = hs_plan_params(p, r);
        if (rc == HS_OK && np >= 0) rc = hs_str_printf(o, ", \"params\": %lld", np);
        const double mem = hs_plan_memory(p, r);
        if (rc == HS_OK && mem > 0) rc = hs_str_printf(o, ", \"memory_bytes\": %.0f", mem);
        if (rc == HS_OK) rc = hs_str_printf(o, ", \"config\": {");
        for (size_t k = 0; k < p->n_keys && rc == HS_OK; k++)
            rc = hs_str_printf(o, "%s\"%s\": %s", k ? ", " : "", hs_schema_key(k)->name,
                               p->pool_canon[p->cells[r * p->n_keys + k]]);
        if (rc == HS_OK) rc = hs_str_printf(o, "}}");
    }
    if (rc == HS_OK) rc = hs_str_printf(o, "\n ]}\n");
    hs_str_free(&canon);
    return rc;
}

hs_code hs_plan_write(const hs_plan *p, hs_plan_format fmt, hs_str *out) {
    switch (fmt) {
    case HS_PLAN_TEXT: return write_text(p, out, 0);
    case HS_PLAN_TSV: return write_text(p, out, 1);
    case HS_PLAN_JSON: return write_json(p, out);
    }
    return HS_ERR_INTERNAL;
}

