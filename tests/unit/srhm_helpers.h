/* srhm_helpers.h - what the (S)RHM generator tests share: rules made or the test failed, the
 * chi-square statistic and its p = 0.001 point, the informative symbols of a sample, and walk(), a
 * bottom-up reduction like hs_rhm_parse that reports every informative node (level, rule, slots).
 * Static inline so a program using only some of them builds with -Werror. */
#ifndef HSWEEP_SRHM_HELPERS_H
#define HSWEEP_SRHM_HELPERS_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/data.h"
#include "testing.h"

static inline hs_rhm *make(hs_rhm_opts o) {
    hs_error err = {0};
    hs_rhm *g = NULL;
    hs_code rc = hs_rhm_rules(&o, &g, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  hs_rhm_rules: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, HS_OK);
    return g;
}

/* Upper p = 0.001 point of chi-square with df degrees of freedom: the table for small df, the
 * Wilson-Hilferty approximation (relative error < 1e-3 here) beyond. */
static inline double chi2_crit_001(int df) {
    static const double table[] = {0, 10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124,
                                   27.877, 29.588, 31.264, 32.909, 34.528, 36.123, 37.697};
    if (df < (int)(sizeof table / sizeof table[0])) return table[df];
    double z = 3.090232, k = df, c = 1.0 - 2.0 / (9.0 * k) + z * sqrt(2.0 / (9.0 * k));
    return k * c * c * c;
}

/* Pearson's statistic of counts[n] against a uniform expectation. */
static inline double chi2_uniform(const long long *counts, int n) {
    long long total = 0;
    for (int i = 0; i < n; i++) total += counts[i];
    double e = (double)total / n, x = 0;
    for (int i = 0; i < n; i++) x += (counts[i] - e) * (counts[i] - e) / e;
    return x;
}

static inline int count_informative(const int32_t *sym, int d) {
    int n = 0;
    for (int i = 0; i < d; i++) n += sym[i] >= 0;
    return n;
}

/* One informative node found while reducing a sample bottom-up: its level, the tuple code of its
 * rule and the slots (0..S-1 within its patch) of its children. */
typedef struct node {
    int level, code, slot[8];
} node;

/* Reduce sym bottom-up like hs_rhm_parse, calling fn for every informative node. Returns the class
 * or -1. work[d] is scratch. */
static inline int walk(const hs_rhm *g, const int32_t *sym, int32_t *work, void (*fn)(const node *, void *),
                       void *ctx) {
    int S = g->S, s = g->o.s;
    memcpy(work, sym, (size_t)g->d * sizeof *work);
    int len = g->d / S;
    for (int l = g->o.L - 1; l >= 0; l--, len /= S) {
        for (int j = 0; j < len; j++) {
            node n = {.level = l};
            int count = 0;
            for (int i = 0; i < S; i++) {
                if (work[j * S + i] < 0) continue;
                if (count == s) return -1;
                n.code = n.code * g->o.v + work[j * S + i];
                n.slot[count++] = i;
            }
            if (count == 0) {
                work[j] = -1;
                continue;
            }
            if (count != s || g->parent_of[l][n.code] < 0) return -1;
            fn(&n, ctx);
            work[j] = g->parent_of[l][n.code];
        }
    }
    return work[0];
}

#endif
