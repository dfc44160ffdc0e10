/* bench_plan.c - how fast a spec expands into runs with ids (the cost rank 0 pays before any
 * work is handed out). Usage: bench_plan [side]: side seeds x side weight decays x 4 optimisers x 2
 * activations, minus the excluded (tanh, adamw) pairs = 7 side^2 runs (default side 100: 70,000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hsweep/plan.h"
#include "hsweep/spec.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    int side = argc > 1 ? atoi(argv[1]) : 100;
    if (side < 1 || side > 100000) {
        fprintf(stderr, "usage: bench_plan [side in 1..100000]\n");
        return 2;
    }
    char text[1024];
    snprintf(text, sizeof text,
             "base: {train.epochs: 600, train.lr_drops: [200, 400]}\n"
             "product:\n"
             "  seed: {linspace: {from: 1, to: %d, num: %d}}\n"
             "  train.weight_decay: {logspace: {from: 1e-6, to: 0.1, num: %d}}\n"
             "  train.opt: [sgd, momentum, adam, adamw]\n"
             "  model.act: [relu, tanh]\n"
             "set:\n  - where: {train.opt: adam}\n    to: {train.lr: 0.001}\n"
             "exclude:\n  - {model.act: tanh, train.opt: adamw}\n",
             side, side, side);
    hs_error err = {0};
    hs_spec *spec = NULL;
    if (hs_spec_parse(text, strlen(text), "bench.yaml", &spec, &err) != HS_OK) {
        fprintf(stderr, "bench_plan: %s\n", err.msg);
        return 1;
    }
    hs_plan_opts opts = {.max_runs = 100000000};
    double best = 1e30;
    size_t n = 0;
    for (int rep = 0; rep < 3; rep++) {
        hs_plan *plan = NULL;
        double t0 = now();
        if (hs_plan_expand(spec, &opts, &plan, &err) != HS_OK) {
            fprintf(stderr, "bench_plan: %s\n", err.msg);
            return 1;
        }
        double dt = now() - t0;
        if (dt < best) best = dt;
        n = plan->n_runs;
        hs_plan_free(plan);
    }
    printf("bench_plan: %zu runs expanded in %.3f s (best of 3): %.0f runs/s, %.2f us/run\n", n, best,
           (double)n / best, 1e6 * best / (double)n);
    hs_spec_free(spec);
    return 0;
}
