/* test_srhm_uniform.c - the (S)RHM's sampling is uniform (chi-square at p = 0.001): all P_max
 * distinct inputs equally likely; sparsity A's offsets uniform per rule, with a check that a faulty
 * "offset drawn once per rule" variant fails; sparsity B's C(S, s) placements uniform, order kept. */
#include <math.h>
#include <stdlib.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "srhm_helpers.h"
#include "testing.h"


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

int main(void) {
    static const hs_test tests[] = {
        {"all P_max distinct inputs equally likely", test_inputs_uniform},
        {"sparsity A: offsets uniform per rule (chi-square), faulty variant caught", test_sparsity_a_offsets},
        {"sparsity B: all C(S, s) placements, uniform, order kept", test_sparsity_b_placements},
        {NULL, NULL},
    };
    return hs_test_main("srhm_uniform", tests);
}
