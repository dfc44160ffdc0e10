/* fuzz_spec.c - libFuzzer target: any bytes through the spec parser and the plan expander.
 * Properties checked beyond "no crash, no leak, no UB": a failure always carries a located
 * message, a --set that the spec would override is refused with the place that overrides it
 * (and not kept), and a successful plan has unique ids and a self-consistent id table. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/plan.h"
#include "hsweep/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hs_error err = {0};
    hs_spec *spec = NULL;
    if (hs_spec_parse((const char *)data, size, "fuzz.yaml", &spec, &err) != HS_OK) {
        if (err.code != HS_ERR_NOMEM && strncmp(err.msg, "fuzz.yaml:", 10) != 0) {
            fprintf(stderr, "spec error without a location: %s\n", err.msg);
            abort();
        }
        return 0;
    }
    size_t n_base = spec->n_base;
    if (hs_spec_override_base(spec, "model.depth=3", &err) != HS_OK) {
        if (strncmp(err.msg, "--set model.depth=3: ", 21) != 0 || !strstr(err.msg, " at fuzz.yaml:") ||
            spec->n_base != n_base) {
            fprintf(stderr, "refused --set without its place, or kept: %s\n", err.msg);
            abort();
        }
    }
    hs_plan *plan = NULL;
    hs_plan_opts opts = {.max_runs = 5000};
    if (hs_plan_expand(spec, &opts, &plan, &err) == HS_OK) {
        for (size_t r = 0; r < plan->n_runs; r++)
            if (hs_plan_find(plan, plan->runs[r].id) != (long)r) abort();
        hs_str out = {0};
        if (hs_plan_write(plan, HS_PLAN_JSON, &out) != HS_OK) abort();
        hs_str_free(&out);
        hs_plan_free(plan);
    } else if (err.code == HS_ERR_INTERNAL) {
        fprintf(stderr, "internal error: %s\n", err.msg);
        abort();
    }
    hs_spec_free(spec);
    return 0;
}
