/* test_srhm.c - the (Sparse) Random Hierarchy Model's grammar (src/data/srhm.c): sizes and P_max
 * against hand-computed values; the rules form a partition of the tuples level by level (and the
 * errors when they cannot); every sample parses back to its label (RHM, SRHM A and B, s = 2 and 3)
 * and the parser rejects non-sentences; s0 = 0 is the RHM. The sampling's uniformity is in
 * test_srhm_uniform.c, the data sets and their encoding in test_srhm_sets.c. */
#include <math.h>
#include <stdlib.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "srhm_helpers.h"
#include "testing.h"

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

int main(void) {
    static const hs_test tests[] = {
        {"sizes and P_max, by hand", test_sizes_and_pmax},
        {"rules: a partition of the tuples, level by level", test_rules_partition},
        {"rules: m * parents > v^s and other errors", test_rules_validation},
        {"every sample parses back to its label (RHM, A, B, s = 2, 3)", test_parse_recovers_labels},
        {"the parser rejects non-sentences", test_parse_rejects},
        {"s0 = 0: A = B = the RHM, no placement draws", test_rhm_is_s0_zero},
        {NULL, NULL},
    };
    return hs_test_main("srhm", tests);
}
