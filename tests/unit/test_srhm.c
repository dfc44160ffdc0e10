/* test_srhm.c - the (Sparse) Random Hierarchy Model generator (src/data/srhm.c).
 *   Sizes and P_max against hand-computed values; the rules form a partition of the tuples level by
 *   level (and the errors when they cannot); every sample parses back to its label (RHM, SRHM A and
 *   B, s = 2 and 3); the placements are uniform (chi-square at p = 0.001, including a check per rule
 *   that a faulty "offset drawn once per rule" variant fails); nested, disjoint, deterministic data
 *   sets, also when they exhaust P_max; the encoding and hs_data_load. */
#include <math.h>
#include <stdlib.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "testing.h"

/* ================================================================ helpers */

static hs_rhm *make(hs_rhm_opts o) {
    hs_error err = {0};
    hs_rhm *g = NULL;
    hs_code rc = hs_rhm_rules(&o, &g, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  hs_rhm_rules: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, HS_OK);
    return g;
}

/* Upper p = 0.001 point of chi-square with df degrees of freedom: the table for small df, the
 * Wilson-Hilferty approximation (relative error < 1e-3 here) beyond. */
static double chi2_crit_001(int df) {
    static const double table[] = {0, 10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124,
                                   27.877, 29.588, 31.264, 32.909, 34.528, 36.123, 37.697};
    if (df < (int)(sizeof table / sizeof table[0])) return table[df];
    double z = 3.090232, k = df, c = 1.0 - 2.0 / (9.0 * k) + z * sqrt(2.0 / (9.0 * k));
    return k * c * c * c;
}

/* Pearson's statistic of counts[n] against a uniform expectation. */
static double chi2_uniform(const long long *counts, int n) {
    long long total = 0;
    for (int i = 0; i < n; i++) total += counts[i];
    double e = (double)total / n, x = 0;
    for (int i = 0; i < n; i++) x += (counts[i] - e) * (counts[i] - e) / e;
    return x;
}

static int count_informative(const int32_t *sym, int d) {
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
static int walk(const hs_rhm *g, const int32_t *sym, int32_t *work, void (*fn)(const node *, void *), void *ctx) {
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

/* ================================================================ sizes and P_max */

static void test_sizes_and_pmax(void) {
    /* the brief's hand example: 2 * 2^3 */
    hs_rhm_opts o = {.v = 2, .n_c = 2, .m = 2, .s = 2, .L = 2};
    CU_ASSERT_EQUAL(hs_rhm_pmax(&o), 16.0);
    hs_rhm *g = make(o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g->S, 2);
    CU_ASSERT_EQUAL(g->d, 4);
    CU_ASSERT_EQUAL(g->n_informative, 4);
    CU_ASSERT_EQUAL(g->n_tuples, 4);
    CU_ASSERT_EQUAL(g->placements, 1);
    CU_ASSERT_EQUAL(g->p_max, 16.0);
    hs_rhm_free(g);

    /* the note's "RHM with v = 4, L = 2 has only 256 distinct data" (defaults n_c = v, m = v^(s-1)) */
    o = (hs_rhm_opts){.v = 4, .s = 2, .L = 2};
    CU_ASSERT_EQUAL(hs_rhm_pmax(&o), 256.0);

    /* SRHM A, v = 6, s = 2, L = 3, s0 = 2: S = 6, d = 216, 8 informative, 7 internal nodes with
     * 6 rules x 3^2 offsets each: 6 * 54^7 */
    o = (hs_rhm_opts){.v = 6, .s = 2, .L = 3, .s0 = 2, .rule_seed = 1};
    CU_ASSERT_EQUAL(hs_rhm_pmax(&o), 8033551259904.0);
    g = make(o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g->o.n_c, 6);
    CU_ASSERT_EQUAL(g->o.m, 6);
    CU_ASSERT_EQUAL(g->S, 6);
    CU_ASSERT_EQUAL(g->d, 216);
    CU_ASSERT_EQUAL(g->n_informative, 8);
    CU_ASSERT_EQUAL(g->placements, 9);
    hs_rhm_free(g);

    /* the same with sparsity B: C(6, 2) = 15 placements, 6 * 90^7 */
    o.sparsity = HS_RHM_SPARSITY_B;
    CU_ASSERT_EQUAL(hs_rhm_pmax(&o), 286978140000000.0);
    g = make(o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g->placements, 15);
    hs_rhm_free(g);

    /* s = 3: v = 3, m = 9, L = 2, s0 = 1 (A): S = 6, d = 36, 9 informative, 4 nodes x 9 x 2^3 */
    o = (hs_rhm_opts){.v = 3, .s = 3, .L = 2, .s0 = 1};
    CU_ASSERT_EQUAL(hs_rhm_pmax(&o), 3.0 * 72 * 72 * 72 * 72);
    g = make(o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g->d, 36);
    CU_ASSERT_EQUAL(g->n_informative, 9);
    hs_rhm_free(g);

    /* beyond 2^53: through logs, 8 * 200^15 */
    o = (hs_rhm_opts){.v = 8, .s = 2, .L = 4, .s0 = 4};
    CU_ASSERT_DOUBLE_EQUAL(hs_rhm_pmax(&o) / (8.0 * pow(200.0, 15)), 1.0, 1e-12);
    /* beyond double: 161 * (161^2 * 16^3)^40 ~ 1e322 */
    o = (hs_rhm_opts){.v = 161, .s = 3, .L = 4, .s0 = 15};
    CU_ASSERT(isinf(hs_rhm_pmax(&o)));
    /* out of range */
    o = (hs_rhm_opts){.v = 1, .s = 2, .L = 2};
    CU_ASSERT_EQUAL(hs_rhm_pmax(&o), 0.0);
    CU_ASSERT_EQUAL(hs_rhm_pmax(NULL), 0.0);
}

/* ================================================================ rules */

/* Check the rules of g level by level: parents, m rules each, no tuple twice, parent_of the
 * inverse of rules, children the digits of the codes. */
static void check_partition(const hs_rhm *g) {
    const hs_rhm_opts *o = &g->o;
    int *used = calloc((size_t)g->n_tuples, sizeof *used);
    CU_ASSERT_PTR_NOT_NULL_FATAL(used);
    for (int l = 0; l < o->L; l++) {
        int rows = l == 0 ? o->n_c : o->v, np = g->n_parents[l];
        memset(used, 0, (size_t)g->n_tuples * sizeof *used);
        /* parents: the classes, then the distinct children of the level above, increasing */
        if (l == 0) {
            CU_ASSERT_EQUAL(np, o->n_c);
        } else {
            int seen[64] = {0}, expect = 0;
            for (int k = 0; k < g->n_parents[l - 1]; k++)
                for (int j = 0; j < o->m * o->s; j++)
                    seen[g->children[l - 1][(size_t)g->parents[l - 1][k] * o->m * o->s + j]] = 1;
            for (int c = 0; c < o->v; c++) expect += seen[c];
            CU_ASSERT_EQUAL(np, expect);
            for (int k = 0; k < np; k++) CU_ASSERT(seen[g->parents[l][k]]);
        }
        for (int k = 1; k < np; k++) CU_ASSERT(g->parents[l][k] > g->parents[l][k - 1]);
        int with_rules = 0;
        for (int p = 0; p < rows; p++) {
            int has = g->rules[l][(size_t)p * o->m] >= 0;
            with_rules += has;
            for (int j = 0; j < o->m; j++) {
                int code = g->rules[l][(size_t)p * o->m + j];
                CU_ASSERT_EQUAL(code >= 0, has); /* all m rules, or none */
                if (code < 0) continue;
                used[code]++;
                CU_ASSERT_EQUAL(g->parent_of[l][code], p);
                for (int t = o->s - 1, c = code; t >= 0; t--, c /= o->v)
                    CU_ASSERT_EQUAL(g->children[l][((size_t)p * o->m + j) * o->s + t], c % o->v);
            }
        }
        CU_ASSERT_EQUAL(with_rules, np);
        int tuples_used = 0;
        for (int c = 0; c < g->n_tuples; c++) {
            CU_ASSERT(used[c] <= 1); /* no tuple has two parents (or two rules) */
            tuples_used += used[c];
            if (!used[c]) CU_ASSERT_EQUAL(g->parent_of[l][c], -1);
        }
        CU_ASSERT_EQUAL(tuples_used, o->m * np);
    }
    free(used);
}

static void test_rules_partition(void) {
    /* n_c = v, m = v^(s-1): every level is a random partition of all v^s tuples */
    hs_rhm *g = make((hs_rhm_opts){.v = 6, .s = 2, .L = 3, .rule_seed = 11});
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    check_partition(g);
    for (int l = 0; l < 3; l++) CU_ASSERT_EQUAL(g->n_parents[l], 6);
    hs_rhm_free(g);
    /* s = 3 */
    g = make((hs_rhm_opts){.v = 3, .s = 3, .L = 3, .s0 = 1, .rule_seed = 2});
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    check_partition(g);
    hs_rhm_free(g);
    /* few rules: 2 classes x 1 rule covers at most 4 of the 8 symbols at level 1 */
    g = make((hs_rhm_opts){.v = 8, .n_c = 2, .m = 1, .s = 2, .L = 4, .rule_seed = 5});
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    check_partition(g);
    CU_ASSERT(g->n_parents[1] >= 2 && g->n_parents[1] <= 4);
    hs_rhm_free(g);
    /* a fresh shuffle per level: level 1's rules are not level 0's */
    g = make((hs_rhm_opts){.v = 4, .s = 2, .L = 2, .rule_seed = 3});
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT(memcmp(g->rules[0], g->rules[1], 16 * sizeof(int32_t)) != 0);
    hs_rhm_free(g);
}

static void expect_rules_error(hs_rhm_opts o, hs_code code, const char *msg) {
    hs_error err = {0};
    hs_rhm *g = (hs_rhm *)&err; /* must be reset to NULL */
    CU_ASSERT_EQUAL(hs_rhm_rules(&o, &g, &err), code);
    CU_ASSERT_PTR_NULL(g);
    HS_ASSERT_CONTAINS(err.msg, msg);
}

static void test_rules_validation(void) {
    hs_error err = {0};
    hs_rhm *g = NULL;
    hs_rhm_opts o = {.v = 2, .n_c = 3, .m = 2, .s = 2, .L = 2};
    CU_ASSERT_EQUAL(hs_rhm_rules(&o, &g, &err), HS_ERR_VALUE);
    CU_ASSERT_PTR_NULL(g);
    CU_ASSERT_STRING_EQUAL(err.msg, "SRHM rules: level 0 needs data.m = 2 rules for each of 3 parents (the n_c "
                                    "classes) = 6 tuples, but only v^s = 2^2 = 4 tuples exist (no tuple may have "
                                    "two parents)");
    CU_ASSERT_STRING_EQUAL(err.hint, "m <= v^(s-1) = 2 always fits");
    CU_ASSERT_EQUAL(hs_rhm_pmax(&o), 0.0);
    /* level 1: 10 of the 16 tuples always cover all 4 symbols (9 tuples avoid any one symbol), so
     * 4 parents x 5 rules = 20 > 16 whatever the seed */
    o = (hs_rhm_opts){.v = 4, .n_c = 2, .m = 5, .s = 2, .L = 2, .rule_seed = 9};
    CU_ASSERT_EQUAL(hs_rhm_rules(&o, &g, &err), HS_ERR_VALUE);
    CU_ASSERT_PTR_NULL(g);
    CU_ASSERT_STRING_EQUAL(err.msg, "SRHM rules: level 1 needs data.m = 5 rules for each of 4 parents (the distinct "
                                    "symbols of level 0's rules) = 20 tuples, but only v^s = 4^2 = 16 tuples exist "
                                    "(no tuple may have two parents)");
    HS_ASSERT_CONTAINS(err.hint, "depends on data.rule_seed");
    /* L = 1 has no level 1: the same options are fine */
    o.L = 1;
    g = make(o);
    hs_rhm_free(g);

    expect_rules_error((hs_rhm_opts){.v = 1, .s = 2, .L = 2}, HS_ERR_VALUE, "data.v = 1");
    expect_rules_error((hs_rhm_opts){.v = 4, .s = 1, .L = 2}, HS_ERR_VALUE, "data.s = 1");
    expect_rules_error((hs_rhm_opts){.v = 4, .s = 2, .L = 0}, HS_ERR_VALUE, "data.L = 0");
    expect_rules_error((hs_rhm_opts){.v = 4, .s = 2, .L = 2, .s0 = -1}, HS_ERR_VALUE, "data.s0 = -1");
    expect_rules_error((hs_rhm_opts){.v = 4, .n_c = 1, .s = 2, .L = 2}, HS_ERR_VALUE, "data.n_c = 1");
    expect_rules_error((hs_rhm_opts){.v = 4, .m = -2, .s = 2, .L = 2}, HS_ERR_VALUE, "data.m = -2");
    expect_rules_error((hs_rhm_opts){.v = 4, .s = 2, .L = 2, .sparsity = (hs_rhm_sparsity)7}, HS_ERR_VALUE,
                       "data.sparsity = 7");
    expect_rules_error((hs_rhm_opts){.v = 2, .s = 23, .L = 1}, HS_ERR_LIMIT, "v^s = 2^23 = 8388608 tuples");
    expect_rules_error((hs_rhm_opts){.v = 4, .s = 2, .L = 10, .s0 = 2}, HS_ERR_LIMIT, "6^10 = 60466176 positions");
    expect_rules_error((hs_rhm_opts){.v = 4, .s = 2, .L = 1, .s0 = 5000}, HS_ERR_LIMIT, "10002 slots");
    CU_ASSERT_EQUAL(hs_rhm_rules(NULL, &g, &err), HS_ERR_INTERNAL);
}

/* ================================================================ samples parse to their labels */

static void noop(const node *n, void *ctx) {
    (void)n;
    (void)ctx;
}

/* n samples of g: the right number of informative positions, symbols in range, parse == label
 * (both with hs_rhm_parse and the test's own walk), every class drawn. */
static void check_parses(const hs_rhm *g, uint64_t seed, int n) {
    int32_t *sym = malloc((size_t)g->d * sizeof *sym), *work = malloc((size_t)g->d * sizeof *work);
    CU_ASSERT_FATAL(sym && work);
    int bad = 0, classes[64] = {0};
    for (int i = 0; i < n; i++) {
        int y = hs_rhm_sample(g, seed, (uint64_t)i, sym);
        if (y < 0 || y >= g->o.n_c) {
            bad++;
            continue;
        }
        classes[y]++;
        for (int k = 0; k < g->d; k++) bad += sym[k] < -1 || sym[k] >= g->o.v;
        bad += count_informative(sym, g->d) != g->n_informative;
        bad += hs_rhm_parse(g, sym, work) != y;
        bad += walk(g, sym, work, noop, NULL) != y;
    }
    CU_ASSERT_EQUAL(bad, 0);
    for (int c = 0; c < g->o.n_c; c++) CU_ASSERT(classes[c] > 0);
    free(sym);
    free(work);
}

static void test_parse_recovers_labels(void) {
    static const hs_rhm_opts configs[] = {
        {.v = 4, .s = 2, .L = 3, .rule_seed = 1},                                           /* RHM */
        {.v = 6, .s = 2, .L = 3, .s0 = 2, .rule_seed = 2},                                  /* SRHM A */
        {.v = 6, .s = 2, .L = 3, .s0 = 2, .sparsity = HS_RHM_SPARSITY_B, .rule_seed = 2},   /* SRHM B */
        {.v = 3, .s = 3, .L = 2, .s0 = 1, .rule_seed = 3},                                  /* s = 3, A */
        {.v = 3, .s = 3, .L = 2, .s0 = 1, .sparsity = HS_RHM_SPARSITY_B, .rule_seed = 3},   /* s = 3, B */
        {.v = 5, .n_c = 3, .m = 3, .s = 2, .L = 3, .s0 = 1, .sparsity = HS_RHM_SPARSITY_B}, /* unused tuples */
    };
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
        hs_rhm *g = make(configs[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        check_parses(g, 100 + k, 3000);
        hs_rhm_free(g);
    }
}

/* Inputs that are not sentences parse to -1. */
static void test_parse_rejects(void) {
    hs_rhm *g = make((hs_rhm_opts){.v = 4, .s = 2, .L = 2, .s0 = 1, .rule_seed = 4}); /* A: S = 4, d = 16 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    int32_t sym[16], bent[16], work[16];
    int y = hs_rhm_sample(g, 1, 0, sym);
    CU_ASSERT_EQUAL(hs_rhm_parse(g, sym, work), y);
    /* all empty */
    for (int i = 0; i < 16; i++) bent[i] = -1;
    CU_ASSERT_EQUAL(hs_rhm_parse(g, bent, work), -1);
    /* a symbol out of range */
    memcpy(bent, sym, sizeof sym);
    for (int i = 0; i < 16; i++)
        if (bent[i] >= 0) {
            bent[i] = 4;
            break;
        }
    CU_ASSERT_EQUAL(hs_rhm_parse(g, bent, work), -1);
    /* an extra informative symbol */
    memcpy(bent, sym, sizeof sym);
    for (int i = 0; i < 16; i++)
        if (bent[i] < 0) {
            bent[i] = 0;
            break;
        }
    CU_ASSERT_EQUAL(hs_rhm_parse(g, bent, work), -1);
    /* A: both children of the first bottom patch in one sub-patch (slots 0 and 1) */
    memcpy(bent, sym, sizeof sym);
    int first = -1, second = -1;
    for (int i = 0; i < 4; i++)
        if (bent[i] >= 0) {
            if (first < 0) first = i;
            else second = i;
        }
    if (first >= 0 && second >= 0) { /* the patch is informative */
        int a = bent[first], b = bent[second];
        bent[0] = bent[1] = bent[2] = bent[3] = -1;
        bent[0] = a;
        bent[1] = b;
        CU_ASSERT_EQUAL(hs_rhm_parse(g, bent, work), -1);
    }
    hs_rhm_free(g);
}

/* s0 = 0 draws no placements: sparsity A and B give the same samples, and both are the RHM. */
static void test_rhm_is_s0_zero(void) {
    hs_rhm *a = make((hs_rhm_opts){.v = 4, .s = 2, .L = 3, .rule_seed = 8});
    hs_rhm *b = make((hs_rhm_opts){.v = 4, .s = 2, .L = 3, .sparsity = HS_RHM_SPARSITY_B, .rule_seed = 8});
    CU_ASSERT_FATAL(a && b);
    int32_t sa[8], sb[8];
    int same = 1;
    for (int i = 0; i < 200; i++) {
        same &= hs_rhm_sample(a, 3, (uint64_t)i, sa) == hs_rhm_sample(b, 3, (uint64_t)i, sb);
        same &= memcmp(sa, sb, sizeof sa) == 0;
        same &= count_informative(sa, 8) == 8;
    }
    CU_ASSERT(same);
    CU_ASSERT_EQUAL(hs_rhm_sample(a, 3, HS_RHM_MAX_INDEX, sa), -1);
    CU_ASSERT(hs_rhm_sample(a, 3, HS_RHM_MAX_INDEX - 1, sa) >= 0);
    hs_rhm_free(a);
    hs_rhm_free(b);
}

/* Every one of the P_max distinct inputs is equally likely (what makes "skip duplicates" uniform
 * sampling without replacement): small grammars, 1000 draws per input, chi-square at p = 0.001. */
static void test_inputs_uniform(void) {
    static const hs_rhm_opts configs[] = {
        {.v = 2, .n_c = 2, .m = 2, .s = 2, .L = 2, .rule_seed = 1},                                    /* 16 */
        {.v = 2, .n_c = 2, .m = 2, .s = 2, .L = 1, .s0 = 1, .rule_seed = 1},                           /* 16 */
        {.v = 2, .n_c = 2, .m = 2, .s = 2, .L = 1, .s0 = 1, .sparsity = HS_RHM_SPARSITY_B, .rule_seed = 1}, /* 24 */
    };
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
        hs_rhm *g = make(configs[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        CU_ASSERT_EQUAL_FATAL(g->d, 4);
        int n_max = (int)g->p_max, seen = 0;
        int32_t inputs[24][4], sym[4];
        long long counts[24] = {0};
        for (int i = 0; i < 1000 * n_max; i++) {
            hs_rhm_sample(g, 2 + k, (uint64_t)i, sym);
            int j = 0;
            while (j < seen && memcmp(inputs[j], sym, sizeof sym) != 0) j++;
            if (j == seen && seen < 24) memcpy(inputs[seen++], sym, sizeof sym);
            if (j < 24) counts[j]++;
        }
        CU_ASSERT_EQUAL(seen, n_max);
        double x = chi2_uniform(counts, n_max);
        printf("\n    %d distinct inputs: chi2 = %.2f (df %d, crit %.3f)", n_max, x, n_max - 1,
               chi2_crit_001(n_max - 1));
        CU_ASSERT(x < chi2_crit_001(n_max - 1));
        hs_rhm_free(g);
    }
}

/* ================================================================ sparsity A: offsets */

enum { A_S0 = 2, A_W = A_S0 + 1, A_L = 3, A_V = 4 };

typedef struct offsets {
    long long marginal[A_W];         /* every child's offset in its sub-patch */
    long long joint[A_W * A_W];      /* both children's offsets of a node */
    long long per_level[A_L][A_W];
    long long cond[A_L][16][2][A_W]; /* per (level, rule tuple, child) */
    int outside;                     /* children outside their own sub-patch */
} offsets;

static void count_offsets(const node *n, void *ctx) {
    offsets *c = ctx;
    int off[2];
    for (int t = 0; t < 2; t++) {
        c->outside += n->slot[t] / A_W != t;
        off[t] = n->slot[t] % A_W;
        c->marginal[off[t]]++;
        c->per_level[n->level][off[t]]++;
        c->cond[n->level][n->code][t][off[t]]++;
    }
    c->joint[off[0] * A_W + off[1]]++;
}

/* Sum over the cells of a per-rule table of the chi-square against uniform offsets; df, too. */
static double chi2_per_rule(long long cond[A_L][16][2][A_W], int *df) {
    double x = 0;
    *df = 0;
    for (int l = 0; l < A_L; l++)
        for (int code = 0; code < 16; code++)
            for (int t = 0; t < 2; t++) {
                long long n = 0;
                for (int k = 0; k < A_W; k++) n += cond[l][code][t][k];
                if (n == 0) continue;
                x += chi2_uniform(cond[l][code][t], A_W);
                *df += A_W - 1;
            }
    return x;
}

static void test_sparsity_a_offsets(void) {
    hs_rhm *g = make((hs_rhm_opts){.v = A_V, .s = 2, .L = A_L, .s0 = A_S0, .rule_seed = 21});
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    int32_t sym[216], work[216];
    CU_ASSERT_EQUAL_FATAL(g->d, 216);
    static offsets c;
    memset(&c, 0, sizeof c);
    const int n = 4000;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        int y = hs_rhm_sample(g, 77, (uint64_t)i, sym);
        bad += walk(g, sym, work, count_offsets, &c) != y;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(c.outside, 0); /* each child in its own sub-patch */
    long long nodes = 0;
    for (int k = 0; k < A_W * A_W; k++) nodes += c.joint[k];
    CU_ASSERT_EQUAL(nodes, 7LL * n); /* 1 + 2 + 4 informative nodes per sample */
    for (int l = 0; l < A_L; l++)
        for (int k = 0; k < A_W; k++) CU_ASSERT(c.per_level[l][k] > 0); /* all offsets 0..s0, every level */

    double marginal = chi2_uniform(c.marginal, A_W), joint = chi2_uniform(c.joint, A_W * A_W);
    int df_rule;
    double per_rule = chi2_per_rule(c.cond, &df_rule);
    printf("\n    A offsets: %lld children: marginal chi2 = %.2f (df %d, crit %.3f), joint chi2 = %.2f (df %d, "
           "crit %.3f), per rule chi2 = %.1f (df %d, crit %.1f)",
           2 * nodes, marginal, A_W - 1, chi2_crit_001(A_W - 1), joint, A_W * A_W - 1, chi2_crit_001(A_W * A_W - 1),
           per_rule, df_rule, chi2_crit_001(df_rule));
    CU_ASSERT(marginal < chi2_crit_001(A_W - 1));
    CU_ASSERT(joint < chi2_crit_001(A_W * A_W - 1));
    CU_ASSERT_EQUAL(df_rule, A_L * 16 * 2 * (A_W - 1)); /* every tuple is a rule at every level */
    CU_ASSERT(per_rule < chi2_crit_001(df_rule));

    /* The faulty reproduction drew each rule's offsets once: the same rule choices, offsets a fixed
     * function of (level, rule, child). Its per-rule statistic explodes; its marginal may not. */
    static long long faulty[A_L][16][2][A_W];
    memset(faulty, 0, sizeof faulty);
    long long faulty_marginal[A_W] = {0};
    hs_rng rng;
    hs_rng_init(&rng, 5, 0);
    for (int l = 0; l < A_L; l++)
        for (int code = 0; code < 16; code++)
            for (int t = 0; t < 2; t++) {
                long long m = 0;
                for (int k = 0; k < A_W; k++) m += c.cond[l][code][t][k];
                int fixed = (int)hs_rng_below(&rng, A_W);
                faulty[l][code][t][fixed] = m;
                faulty_marginal[fixed] += m;
            }
    int df_faulty;
    double faulty_rule = chi2_per_rule(faulty, &df_faulty);
    printf("\n    faulty once-per-rule variant: per rule chi2 = %.0f (df %d, crit %.1f), marginal chi2 = %.1f "
           "(crit %.3f)",
           faulty_rule, df_faulty, chi2_crit_001(df_faulty), chi2_uniform(faulty_marginal, A_W),
           chi2_crit_001(A_W - 1));
    CU_ASSERT(faulty_rule > 10 * chi2_crit_001(df_faulty));
    hs_rhm_free(g);
}

/* ================================================================ sparsity B: placements */

/* Lexicographic rank of the 2-subset {i < j} of 0..5 (as the generator's unranking). */
static int rank2(int i, int j) {
    int r = 0;
    for (int a = 0; a < i; a++) r += 5 - a; /* subsets starting with a: C(6 - a - 1, 1) */
    return r + (j - i - 1);
}

typedef struct placements {
    long long count[15];
    long long same_subpatch; /* both children in one sub-patch of 3 (impossible under A) */
} placements;

static void count_placements(const node *n, void *ctx) {
    placements *p = ctx;
    p->count[rank2(n->slot[0], n->slot[1])]++;
    p->same_subpatch += n->slot[0] / 3 == n->slot[1] / 3;
}

static void test_sparsity_b_placements(void) {
    /* v = 4, s = 2, L = 2, s0 = 2: S = 6, C(6, 2) = 15 placements per node */
    hs_rhm *g = make((hs_rhm_opts){.v = 4, .s = 2, .L = 2, .s0 = 2, .sparsity = HS_RHM_SPARSITY_B, .rule_seed = 31});
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL_FATAL(g->d, 36);
    int32_t sym[36], work[36];
    placements p = {{0}, 0};
    int bad = 0;
    const int n = 6000;
    for (int i = 0; i < n; i++) {
        int y = hs_rhm_sample(g, 12, (uint64_t)i, sym);
        bad += walk(g, sym, work, count_placements, &p) != y;
    }
    CU_ASSERT_EQUAL(bad, 0);
    for (int k = 0; k < 15; k++) CU_ASSERT(p.count[k] > 0); /* all C(S, s) placements occur */
    double x = chi2_uniform(p.count, 15);
    printf("\n    B placements: %d nodes, chi2 = %.2f (df 14, crit %.3f), both in one sub-patch: %lld",
           3 * n, x, chi2_crit_001(14), p.same_subpatch);
    CU_ASSERT(x < chi2_crit_001(14));
    /* 6 of the 15 placements put both children in one half: expect 40% */
    CU_ASSERT_DOUBLE_EQUAL((double)p.same_subpatch / (3.0 * n), 0.4, 0.03);
    hs_rhm_free(g);

    /* order preserved: with L = 1 the informative symbols, read left to right, are exactly one of
     * the label's rules (with v = 5, 3 classes and 2 rules only 6 of the 25 tuples are rules) */
    g = make((hs_rhm_opts){.v = 5, .n_c = 3, .m = 2, .s = 2, .L = 1, .s0 = 3, .sparsity = HS_RHM_SPARSITY_B});
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL_FATAL(g->d, 8);
    int32_t leaf[8];
    bad = 0;
    for (int i = 0; i < 2000; i++) {
        int y = hs_rhm_sample(g, 4, (uint64_t)i, leaf), got[2], k = 0;
        for (int j = 0; j < 8; j++)
            if (leaf[j] >= 0 && k < 2) got[k++] = leaf[j];
        int match = 0;
        for (int r = 0; r < 2; r++) {
            const int32_t *rule = g->children[0] + (y * 2 + r) * 2; /* rule r of class y */
            match |= k == 2 && got[0] == rule[0] && got[1] == rule[1];
        }
        bad += !match;
    }
    CU_ASSERT_EQUAL(bad, 0);
    hs_rhm_free(g);
}

/* ================================================================ data sets */

static size_t cmp_dim; /* floats per row, for cmp_rows */

static int cmp_rows(const void *a, const void *b) {
    return memcmp(*(const float *const *)a, *(const float *const *)b, cmp_dim * sizeof(float));
}

/* Number of equal pairs among the rows of a and b (as a multiset; a and b may be the same set). */
static long long equal_rows(const hs_dataset *a, const hs_dataset *b) {
    long long n = a->n + (a == b ? 0 : b->n);
    const float **rows = malloc((size_t)n * sizeof *rows);
    if (!rows) return -1;
    for (long long i = 0; i < a->n; i++) rows[i] = a->x + (size_t)i * a->dim;
    if (a != b)
        for (long long i = 0; i < b->n; i++) rows[a->n + i] = b->x + (size_t)i * b->dim;
    cmp_dim = (size_t)a->dim;
    qsort(rows, (size_t)n, sizeof *rows, cmp_rows);
    long long eq = 0;
    for (long long i = 1; i < n; i++) eq += cmp_rows(&rows[i - 1], &rows[i]) == 0;
    free(rows);
    return eq;
}

static hs_code make_sets(const hs_rhm *g, uint64_t seed, long long n_train, long long n_test, int whiten,
                         hs_dataset *train, hs_dataset *test, hs_rhm_info *info) {
    hs_error err = {0};
    hs_code rc = hs_rhm_dataset(g, seed, n_train, n_test, whiten, train, test, info, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  hs_rhm_dataset: %s\n", err.msg);
    return rc;
}

static int same_rows(const hs_dataset *a, const hs_dataset *b, long long n) {
    return a->dim == b->dim && memcmp(a->x, b->x, (size_t)n * a->dim * sizeof(float)) == 0 &&
           memcmp(a->y, b->y, (size_t)n * sizeof(int32_t)) == 0;
}

static void test_nested_disjoint_deterministic(void) {
    hs_rhm *g = make((hs_rhm_opts){.v = 6, .s = 2, .L = 2, .s0 = 1, .rule_seed = 41});
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    hs_dataset tr100 = {0}, te100 = {0}, tr1000 = {0}, te1000 = {0}, again = {0}, again_te = {0};
    hs_rhm_info info;
    CU_ASSERT_EQUAL_FATAL(make_sets(g, 7, 100, 500, 1, &tr100, &te100, &info), HS_OK);
    CU_ASSERT_EQUAL(info.draws, 600 + info.duplicates); /* P_max = 6 (6 * 4)^3 = 82944: ~2 expected */
    CU_ASSERT(info.duplicates < 12);
    CU_ASSERT_EQUAL(info.p_max, 82944.0);
    CU_ASSERT_EQUAL_FATAL(make_sets(g, 7, 1000, 500, 1, &tr1000, &te1000, &info), HS_OK);
    CU_ASSERT_EQUAL(tr1000.n, 1000);
    CU_ASSERT_EQUAL(te1000.n, 500);
    CU_ASSERT(same_rows(&te100, &te1000, 500));  /* the same test set */
    CU_ASSERT(same_rows(&tr100, &tr1000, 100));  /* P = 100 is the head of P = 1000 */
    CU_ASSERT_EQUAL(equal_rows(&tr1000, &te1000), 0); /* disjoint, and no duplicates inside */
    CU_ASSERT_EQUAL(info.draws, 1500 + info.duplicates);
    CU_ASSERT(info.duplicates < 40); /* sum_k k / (P_max - k) = 13.7 expected */
    printf("\n    P = 1000 + 500 test of P_max = 82944: %lld draws, %lld duplicates skipped", info.draws,
           info.duplicates);
    /* determinism */
    CU_ASSERT_EQUAL_FATAL(make_sets(g, 7, 1000, 500, 1, &again, &again_te, NULL), HS_OK);
    CU_ASSERT(same_rows(&again, &tr1000, 1000));
    CU_ASSERT(same_rows(&again_te, &te1000, 500));
    hs_dataset_free(&again);
    hs_dataset_free(&again_te);
    /* another sample seed: other samples of the same grammar */
    CU_ASSERT_EQUAL_FATAL(make_sets(g, 8, 1000, 500, 1, &again, &again_te, NULL), HS_OK);
    long long common = equal_rows(&again, &tr1000);
    CU_ASSERT(common >= 0 && common < 100); /* ~ 1000^2 / 82944 = 12 by chance */
    int32_t sym[144], work[144];
    int bad = 0;
    for (long long i = 0; i < again.n; i++) {
        /* read the symbols back from the whitened rows: the largest entry of each column, if any */
        for (int p = 0; p < g->d; p++) {
            sym[p] = -1;
            for (int c = 0; c < g->o.v; c++)
                if (again.x[(size_t)i * again.dim + (size_t)c * g->d + p] > 0.5f) sym[p] = c;
        }
        bad += hs_rhm_parse(g, sym, work) != again.y[i];
    }
    CU_ASSERT_EQUAL(bad, 0);
    hs_dataset_free(&again);
    hs_dataset_free(&again_te);
    /* another rule seed: other rules, other data for the same sample seed */
    hs_rhm *h = make((hs_rhm_opts){.v = 6, .s = 2, .L = 2, .s0 = 1, .rule_seed = 42});
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT(memcmp(g->rules[0], h->rules[0], 36 * sizeof(int32_t)) != 0);
    CU_ASSERT(memcmp(g->rules[1], h->rules[1], 36 * sizeof(int32_t)) != 0);
    CU_ASSERT_EQUAL_FATAL(make_sets(h, 7, 1000, 500, 1, &again, &again_te, NULL), HS_OK);
    CU_ASSERT(!same_rows(&again, &tr1000, 1000));
    hs_dataset_free(&again);
    hs_dataset_free(&again_te);
    hs_rhm_free(h);

    hs_dataset_free(&tr100);
    hs_dataset_free(&te100);
    hs_dataset_free(&tr1000);
    hs_dataset_free(&te1000);
    hs_rhm_free(g);
}

/* P + n_test = P_max: every distinct input exactly once, still nested; one more is an error. */
static void test_exhausting_pmax(void) {
    hs_rhm *g = make((hs_rhm_opts){.v = 2, .n_c = 2, .m = 2, .s = 2, .L = 2, .rule_seed = 1}); /* P_max = 16 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    hs_dataset tr = {0}, te = {0}, tr5 = {0}, te5 = {0};
    hs_rhm_info info;
    CU_ASSERT_EQUAL_FATAL(make_sets(g, 3, 10, 6, 0, &tr, &te, &info), HS_OK);
    CU_ASSERT_EQUAL(equal_rows(&tr, &te), 0); /* 16 distinct rows: all of them */
    CU_ASSERT(info.duplicates > 0);
    CU_ASSERT_EQUAL(info.draws, 16 + info.duplicates);
    printf("\n    all 16 of P_max = 16: %lld draws, %lld duplicates skipped", info.draws, info.duplicates);
    CU_ASSERT_EQUAL_FATAL(make_sets(g, 3, 5, 6, 0, &tr5, &te5, NULL), HS_OK);
    CU_ASSERT(same_rows(&te5, &te, 6));
    CU_ASSERT(same_rows(&tr5, &tr, 5));
    hs_dataset_free(&tr);
    hs_dataset_free(&te);
    hs_dataset_free(&tr5);
    hs_dataset_free(&te5);

    hs_error err = {0};
    CU_ASSERT_EQUAL(hs_rhm_dataset(g, 3, 11, 6, 0, &tr, &te, NULL, &err), HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "11 training + 6 test samples = 17, but this RHM (v=2 n_c=2 m=2 s=2 L=2 s0=0) "
                                    "has only P_max = 16 distinct inputs");
    CU_ASSERT_PTR_NULL(tr.x);
    CU_ASSERT_PTR_NULL(te.x);
    CU_ASSERT_EQUAL(hs_rhm_dataset(g, 3, -1, 6, 0, &tr, &te, NULL, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "data.n_train = -1");
    /* empty sets are fine */
    CU_ASSERT_EQUAL_FATAL(make_sets(g, 3, 4, 0, 0, &tr, &te, NULL), HS_OK);
    CU_ASSERT_EQUAL(te.n, 0);
    CU_ASSERT_EQUAL(tr.n, 4);
    hs_dataset_free(&tr);
    hs_dataset_free(&te);
    hs_rhm_free(g);
}

/* ================================================================ encoding */

static void test_encoding(void) {
    hs_rhm *g = make((hs_rhm_opts){.v = 6, .s = 2, .L = 2, .s0 = 2, .rule_seed = 51}); /* d = 36 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    int32_t sym[36];
    float x[6 * 36], w[6 * 36];
    int bad = 0;
    float a = (float)(1.0 / sqrt(5.0)), b = (float)(1.0 + 1.0 / sqrt(5.0));
    float one = b - a, zero = -a;
    CU_ASSERT(fabsf(one - 1.0f) <= 2e-7f);
    for (int i = 0; i < 100; i++) {
        hs_rhm_sample(g, 9, (uint64_t)i, sym);
        hs_rhm_encode(g, sym, 0, x);
        hs_rhm_encode(g, sym, 1, w);
        for (int p = 0; p < 36; p++)
            for (int c = 0; c < 6; c++) {
                float e = x[c * 36 + p], f = w[c * 36 + p];
                if (sym[p] == c) bad += e != 1.0f || f != one;
                else bad += e != 0.0f || f != zero; /* other channels, and the whole column when empty */
            }
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* v = 2: whitening maps one-hot columns to +-1, empty columns to -1 */
    hs_rhm *h = make((hs_rhm_opts){.v = 2, .s = 2, .L = 1, .s0 = 1}); /* d = 4 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    int32_t s4[4] = {1, -1, -1, 0};
    float x4[8];
    hs_rhm_encode(h, s4, 1, x4);
    const float want[8] = {-1, -1, -1, 1, 1, -1, -1, -1};
    CU_ASSERT(memcmp(x4, want, sizeof want) == 0);
    hs_rhm_free(h);

    hs_dataset tr = {0}, te = {0};
    CU_ASSERT_EQUAL_FATAL(make_sets(g, 9, 50, 20, 1, &tr, &te, NULL), HS_OK);
    CU_ASSERT_EQUAL(tr.n, 50);
    CU_ASSERT_EQUAL(te.n, 20);
    CU_ASSERT_EQUAL(tr.dim, 6 * 36);
    CU_ASSERT_EQUAL(tr.channels, 6);
    CU_ASSERT_EQUAL(tr.height, 1);
    CU_ASSERT_EQUAL(tr.width, 36);
    CU_ASSERT_EQUAL(tr.classes, 6);
    CU_ASSERT_EQUAL(te.dim, tr.dim);
    CU_ASSERT_EQUAL(te.width, 36);
    /* the rows are the encodings of the distinct stream: here (no duplicate) samples 0..69 */
    hs_rhm_sample(g, 9, 20, sym);
    hs_rhm_encode(g, sym, 1, w);
    CU_ASSERT(memcmp(tr.x, w, sizeof w) == 0);
    hs_dataset_free(&tr);
    hs_dataset_free(&te);
    hs_rhm_free(g);
}

/* ================================================================ hs_data_load */

static void test_data_load(void) {
    hs_error err = {0};
    hs_dataset tr = {0}, te = {0}, tr2 = {0}, te2 = {0};
    hs_data_opts o = {.kind = "srhm", .seed = 5, .v = 6, .s = 2, .L = 3, .s0 = 2, .rule_seed = 6, .whiten = 1,
                      .n_train = 300, .n_test = 200};
    CU_ASSERT_EQUAL_FATAL(hs_data_load(&o, &tr, &te, &err), HS_OK);
    CU_ASSERT_EQUAL(tr.n, 300);
    CU_ASSERT_EQUAL(te.n, 200);
    CU_ASSERT_EQUAL(tr.dim, 6 * 216);
    CU_ASSERT_EQUAL(tr.channels, 6);
    CU_ASSERT_EQUAL(tr.width, 216);
    CU_ASSERT_EQUAL(tr.classes, 6);
    /* the same as building it by hand */
    hs_rhm *g = make((hs_rhm_opts){.v = 6, .s = 2, .L = 3, .s0 = 2, .rule_seed = 6});
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL_FATAL(make_sets(g, 5, 300, 200, 1, &tr2, &te2, NULL), HS_OK);
    CU_ASSERT(same_rows(&tr, &tr2, 300));
    CU_ASSERT(same_rows(&te, &te2, 200));
    hs_dataset_free(&tr2);
    hs_dataset_free(&te2);
    hs_rhm_free(g);
    hs_dataset_free(&tr);
    hs_dataset_free(&te);

    /* n_test = 0: min(20000, P_max / 2); the RHM v = 4, L = 2 has P_max = 256 */
    o = (hs_data_opts){.kind = "rhm", .seed = 1, .v = 4, .s = 2, .L = 2, .n_train = 100};
    CU_ASSERT_EQUAL_FATAL(hs_data_load(&o, &tr, &te, &err), HS_OK);
    CU_ASSERT_EQUAL(te.n, 128);
    CU_ASSERT_EQUAL(tr.dim, 16);
    CU_ASSERT_EQUAL(equal_rows(&tr, &te), 0);
    hs_dataset_free(&tr);
    hs_dataset_free(&te);
    o.n_train = 200;
    CU_ASSERT_EQUAL(hs_data_load(&o, &tr, &te, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "200 training + 128 test samples = 328");
    HS_ASSERT_CONTAINS(err.hint, "min(20000, P_max / 2) = 128");
    o = (hs_data_opts){.kind = "srhm", .seed = 1, .v = 6, .s = 2, .L = 2, .s0 = 1, .n_train = 10};
    CU_ASSERT_EQUAL_FATAL(hs_data_load(&o, &tr, &te, &err), HS_OK);
    CU_ASSERT_EQUAL(te.n, 20000);
    hs_dataset_free(&tr);
    hs_dataset_free(&te);

    o = (hs_data_opts){.kind = "rhm", .v = 4, .s = 2, .L = 2, .s0 = 1, .n_train = 10};
    CU_ASSERT_EQUAL(hs_data_load(&o, &tr, &te, &err), HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "data.s0 = 1 with data.kind rhm: the RHM has no empty slots");
    o = (hs_data_opts){.kind = "srhm", .v = 4, .s = 2, .L = 2};
    CU_ASSERT_EQUAL(hs_data_load(&o, &tr, &te, &err), HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "data.n_train = 0: must be >= 1");
    o = (hs_data_opts){.kind = "srhm", .v = 1, .s = 2, .L = 2, .n_train = 5};
    CU_ASSERT_EQUAL(hs_data_load(&o, &tr, &te, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "data.v = 1");
    CU_ASSERT_PTR_NULL(tr.x);
    CU_ASSERT_PTR_NULL(te.x);
}

int main(void) {
    static const hs_test tests[] = {
        {"sizes and P_max, by hand", test_sizes_and_pmax},
        {"rules: a partition of the tuples, level by level", test_rules_partition},
        {"rules: m * parents > v^s and other errors", test_rules_validation},
        {"every sample parses back to its label (RHM, A, B, s = 2, 3)", test_parse_recovers_labels},
        {"the parser rejects non-sentences", test_parse_rejects},
        {"s0 = 0: A = B = the RHM, no placement draws", test_rhm_is_s0_zero},
        {"all P_max distinct inputs equally likely", test_inputs_uniform},
        {"sparsity A: offsets uniform per rule (chi-square), faulty variant caught", test_sparsity_a_offsets},
        {"sparsity B: all C(S, s) placements, uniform, order kept", test_sparsity_b_placements},
        {"data sets: nested, disjoint, deterministic, seeds", test_nested_disjoint_deterministic},
        {"data sets: exhausting P_max, and beyond", test_exhausting_pmax},
        {"encoding: one-hot, empty columns, whitening, shapes", test_encoding},
        {"hs_data_load: rhm and srhm", test_data_load},
        {NULL, NULL},
    };
    return hs_test_main("srhm", tests);
}
