/* bench_optim.c - the optimisers' update pass (src/nn/optim.c): nanoseconds per parameter and
 * the bandwidth it reaches, for the parameter counts of the project's nets.
 *
 *   bench_optim [--repeats R]
 *
 * Each (kind, n) is timed R times back to back ("hot": what fits the caches stays there) and R
 * times after a 256 MB buffer is written between calls ("cold": the state comes from memory, as
 * after a forward and backward over a large net). Printed: median and min ns per parameter, and
 * the median's GB/s over the bytes the rule must move (SGD reads p and g and writes p: 12 bytes;
 * momentum adds the buffer: 20; Adam both moments: 28). One thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "hsweep/optim.h"

enum { EVICT_BYTES = 256 << 20, MAX_REPEATS = 1000 };

static double time_updates(hs_optim *opt, float *p, const float *g, size_t n, int repeats, char *evict,
                           double *best) {
    double t[MAX_REPEATS];
    for (int r = 0; r < repeats; r++) {
        if (evict) memset(evict, r & 0xff, EVICT_BYTES);
        hs_optim_begin_step(opt);
        const double t0 = bench_now();
        hs_optim_update(opt, p, g, 0, n, 1e-4, 5e-4);
        t[r] = bench_now() - t0;
    }
    qsort(t, (size_t)repeats, sizeof t[0], bench_cmp_double);
    *best = t[0];
    return t[repeats / 2];
}

int main(int argc, char **argv) {
    int repeats = 21;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--repeats") && i + 1 < argc) {
            repeats = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: bench_optim [--repeats R]\n");
            return 2;
        }
    }
    if (repeats < 1 || repeats > MAX_REPEATS) repeats = 21;
    static const struct {
        const char *name;
        hs_optim_opts o;
        double bytes;
    } kinds[] = {
        {"sgd", {.kind = HS_OPT_SGD}, 12},
        {"momentum", {.kind = HS_OPT_MOMENTUM, .momentum = 0.9}, 20},
        {"adam", {.kind = HS_OPT_ADAM, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8}, 28},
    };
    /* an SRHM CNN (L = 2), an LCN (L = 3), a depth-2 and a depth-18 width-1000 MLP */
    static const size_t sizes[] = {1600000, 5400000, 2060000, 18900000};
    char *evict = malloc(EVICT_BYTES);
    if (!evict) return 1;
    printf("%-9s %10s | %-28s | %-28s\n", "kind", "params", "hot: ns/param median [min]  GB/s",
           "cold: ns/param median [min]  GB/s");
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            const size_t n = sizes[s];
            float *p = malloc(sizeof(float) * n), *g = malloc(sizeof(float) * n);
            hs_optim opt;
            if (!p || !g || hs_optim_init(&opt, &kinds[k].o, n, NULL) != HS_OK) return 1;
            for (size_t i = 0; i < n; i++) p[i] = 1e-3f * (float)(i % 7), g[i] = 1e-3f * (float)(i % 5) - 2e-3f;
            double hot_min, cold_min;
            time_updates(&opt, p, g, n, 2, NULL, &hot_min); /* touch the state once */
            const double hot = time_updates(&opt, p, g, n, repeats, NULL, &hot_min);
            const double cold = time_updates(&opt, p, g, n, repeats, evict, &cold_min);
            printf("%-9s %10zu | %8.3f [%6.3f] %9.1f | %8.3f [%6.3f] %9.1f\n", kinds[k].name, n, 1e9 * hot / n,
                   1e9 * hot_min / n, kinds[k].bytes * n / hot * 1e-9, 1e9 * cold / n, 1e9 * cold_min / n,
                   kinds[k].bytes * n / cold * 1e-9);
            fflush(stdout);
            hs_optim_free(&opt);
            free(p), free(g);
        }
    }
    free(evict);
    return 0;
}
