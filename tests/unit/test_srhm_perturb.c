/* test_srhm_perturb.c - (S)RHM samples from explicit choices, and the probe set of the sensitivity
 * measurements: every perturbed sample is a sentence of its reference's class; P_l moves no
 * informative symbol and keeps every level above its bottom l; tau_l changes no symbol and keeps
 * every leaf inside its level-(L - l) patch; P_L re-draws the rules of every level; the set is a
 * pure function of (grammar, seed) and encodes like the training inputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "srhm_helpers.h"
#include "testing.h"

/* The grammars the tests walk: A and B sparsity, the RHM, s = 3, L = 1 and 3. */
static const hs_rhm_opts grammars[] = {
    {.v = 4, .n_c = 4, .m = 4, .s = 2, .L = 3, .s0 = 1, .sparsity = HS_RHM_SPARSITY_A, .rule_seed = 3},
    {.v = 4, .n_c = 4, .m = 4, .s = 2, .L = 2, .s0 = 2, .sparsity = HS_RHM_SPARSITY_B, .rule_seed = 4},
    {.v = 5, .n_c = 3, .m = 5, .s = 2, .L = 3, .s0 = 0, .rule_seed = 5},
    {.v = 3, .n_c = 3, .m = 3, .s = 3, .L = 2, .s0 = 1, .sparsity = HS_RHM_SPARSITY_A, .rule_seed = 6},
    {.v = 6, .n_c = 6, .m = 6, .s = 2, .L = 1, .s0 = 3, .sparsity = HS_RHM_SPARSITY_A, .rule_seed = 7},
};
#define NG (sizeof grammars / sizeof grammars[0])

/* Reduce the bottom `levels` levels of sym in place (hs_rhm_parse's reduction, stopped early):
 * the level-(L - levels) string, S^(L - levels) entries at the front of work. 0, or -1 when a
 * patch is not a rule. */
static int reduce(const hs_rhm *g, const int32_t *sym, int levels, int32_t *work) {
    const int S = g->S, v = g->o.v;
    memcpy(work, sym, (size_t)g->d * sizeof *work);
    int len = g->d / S;
    for (int l = g->o.L - 1; l >= g->o.L - levels; l--, len /= S)
        for (int j = 0; j < len; j++) {
            int code = 0, count = 0;
            for (int i = 0; i < S; i++)
                if (work[j * S + i] >= 0) code = code * v + work[j * S + i], count++;
            if (count == 0) work[j] = -1;
            else if (count != g->o.s || g->parent_of[l][code] < 0) return -1;
            else work[j] = g->parent_of[l][code];
        }
    return 0;
}

/* The informative symbols of sym, left to right, and their positions; returns how many. */
static int leaves(const hs_rhm *g, const int32_t *sym, int32_t *val, int *pos) {
    int n = 0;
    for (int i = 0; i < g->d; i++)
        if (sym[i] >= 0) val[n] = sym[i], pos[n++] = i;
    return n;
}

static void test_build(void) {
    for (size_t k = 0; k < NG; k++) {
        hs_rhm *g = make(grammars[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        size_t nn = hs_rhm_n_nodes(g), want = 0, p = 1;
        for (int l = 0; l < g->o.L; l++, p *= (size_t)g->o.s) want += p;
        CU_ASSERT_EQUAL(nn, want);
        int32_t *rule = malloc(nn * sizeof *rule), *sym = malloc((size_t)g->d * sizeof *sym);
        int32_t *work = malloc((size_t)g->d * sizeof *work);
        uint64_t *place = malloc(nn * sizeof *place);
        for (int i = 0; i < 200; i++) {
            hs_rhm_choices c = {.y = i % g->o.n_c, .rule = rule, .place = place};
            hs_rng rng;
            hs_rng_init(&rng, 11, hs_rng_stream(HS_STREAM_PROBE, (uint32_t)i));
            hs_rhm_redraw(g, &rng, g->o.L, HS_RHM_SYNONYMS | HS_RHM_PLACEMENTS, &c);
            for (size_t q = 0; q < nn; q++) CU_ASSERT(rule[q] >= 0 && rule[q] < g->o.m && place[q] < g->placements);
            hs_rhm_build(g, &c, sym);
            CU_ASSERT_EQUAL(hs_rhm_parse(g, sym, work), c.y);
            CU_ASSERT_EQUAL(count_informative(sym, g->d), g->n_informative);
        }
        /* the slots of every placement code: s distinct, increasing, A: child t in sub-patch t */
        for (uint64_t q = 0; q < g->placements && q < 4096; q++) {
            int slot[16];
            hs_rhm_slots(g, q, slot);
            for (int t = 0; t < g->o.s; t++) {
                CU_ASSERT(slot[t] >= 0 && slot[t] < g->S);
                if (t) CU_ASSERT(slot[t] > slot[t - 1]);
                if (g->o.sparsity == HS_RHM_SPARSITY_A) CU_ASSERT_EQUAL(slot[t] / (g->o.s0 + 1), t);
            }
        }
        free(rule), free(place), free(sym), free(work);
        hs_rhm_free(g);
    }
}

/* Choices of the bottom `levels` levels (generation levels >= L - levels) start at this index. */
static size_t first_bottom(const hs_rhm *g, int levels) {
    size_t off = 0, p = 1;
    for (int l = 0; l < g->o.L - levels; l++, p *= (size_t)g->o.s) off += p;
    return off;
}

static void test_perturbations(void) {
    for (size_t k = 0; k < NG; k++) {
        hs_rhm *g = make(grammars[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        hs_rhm_probes P;
        hs_error err = {0};
        CU_ASSERT_EQUAL_FATAL(hs_rhm_probes_make(g, 42, 12, &P, &err), HS_OK);
        const int L = g->o.L, n = P.n, d = g->d, nl = g->n_informative;
        const size_t nn = hs_rhm_n_nodes(g);
        CU_ASSERT_EQUAL(n, 12 * g->o.n_c);
        CU_ASSERT_EQUAL(P.blocks, 2 * L + 1);
        int32_t *s0 = malloc((size_t)d * sizeof *s0), *s1 = malloc((size_t)d * sizeof *s1);
        int32_t *w0 = malloc((size_t)d * sizeof *w0), *w1 = malloc((size_t)d * sizeof *w1);
        int32_t *v0 = malloc((size_t)nl * sizeof *v0), *v1 = malloc((size_t)nl * sizeof *v1);
        int *p0 = malloc((size_t)nl * sizeof *p0), *p1 = malloc((size_t)nl * sizeof *p1);
        int moved[64] = {0}, renamed[64] = {0};
        for (int i = 0; i < n; i++) {
            const hs_rhm_choices *ref = &P.c[i];
            CU_ASSERT_EQUAL(ref->y, i % g->o.n_c); /* classes interleaved */
            hs_rhm_build(g, ref, s0);
            CU_ASSERT_EQUAL(hs_rhm_parse(g, s0, w0), ref->y);
            leaves(g, s0, v0, p0);
            for (int l = 1; l <= L; l++) {
                /* P_l: same class; every informative position kept; levels above the bottom l unchanged */
                const hs_rhm_choices *pl = &P.c[(size_t)l * n + i];
                size_t cut = first_bottom(g, l);
                CU_ASSERT_EQUAL(pl->y, ref->y);
                CU_ASSERT(memcmp(pl->place, ref->place, nn * sizeof *pl->place) == 0);
                CU_ASSERT(memcmp(pl->rule, ref->rule, cut * sizeof *pl->rule) == 0);
                hs_rhm_build(g, pl, s1);
                CU_ASSERT_EQUAL(hs_rhm_parse(g, s1, w1), ref->y);
                CU_ASSERT_EQUAL(leaves(g, s1, v1, p1), nl);
                CU_ASSERT(memcmp(p0, p1, (size_t)nl * sizeof *p0) == 0);
                CU_ASSERT_EQUAL_FATAL(reduce(g, s0, l, w0), 0);
                CU_ASSERT_EQUAL_FATAL(reduce(g, s1, l, w1), 0);
                int above = 1;
                for (int l2 = 0; l2 < L - l; l2++) above *= g->S;
                CU_ASSERT(memcmp(w0, w1, (size_t)above * sizeof *w0) == 0);
                renamed[l] += memcmp(v0, v1, (size_t)nl * sizeof *v0) != 0;

                /* tau_l: same class; the same symbols in the same order; each leaf stays in its
                 * level-(L - l) patch (S^l inputs wide); rules and the placements above kept */
                const hs_rhm_choices *tl = &P.c[(size_t)(L + l) * n + i];
                CU_ASSERT_EQUAL(tl->y, ref->y);
                CU_ASSERT(memcmp(tl->rule, ref->rule, nn * sizeof *tl->rule) == 0);
                CU_ASSERT(memcmp(tl->place, ref->place, cut * sizeof *tl->place) == 0);
                hs_rhm_build(g, tl, s1);
                CU_ASSERT_EQUAL(hs_rhm_parse(g, s1, w1), ref->y);
                CU_ASSERT_EQUAL(leaves(g, s1, v1, p1), nl);
                CU_ASSERT(memcmp(v0, v1, (size_t)nl * sizeof *v0) == 0);
                int width = 1;
                for (int l2 = 0; l2 < l; l2++) width *= g->S;
                for (int q = 0; q < nl; q++) CU_ASSERT_EQUAL(p0[q] / width, p1[q] / width);
                moved[l] += memcmp(p0, p1, (size_t)nl * sizeof *p0) != 0;
            }
        }
        /* the perturbations do something: with m >= 3 rules (s0 >= 1 slots) most samples change */
        for (int l = 1; l <= L; l++) {
            CU_ASSERT(renamed[l] > n / 2);
            if (g->o.s0 > 0) {
                CU_ASSERT(moved[l] > n / 2);
            } else {
                CU_ASSERT_EQUAL(moved[l], 0); /* the RHM has one placement: tau_l is the identity */
            }
        }
        free(s0), free(s1), free(w0), free(w1), free(v0), free(v1), free(p0), free(p1);
        hs_rhm_probes_free(&P);
        hs_rhm_free(g);
    }
}

/* P_L re-draws the synonym of every node from scratch: each node's rule is uniform and
 * independent of its reference's, so it equals it with probability 1/m at every level (the
 * root's too: a fresh same-class sample), and P_(L-1) never touches the root. */
static void test_fresh_class_draw(void) {
    hs_rhm *g = make((hs_rhm_opts){.v = 4, .n_c = 4, .m = 4, .s = 2, .L = 2, .s0 = 1, .rule_seed = 9});
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    hs_rhm_probes P;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_rhm_probes_make(g, 5, 500, &P, &err), HS_OK); /* 2000 samples */
    const int n = P.n, L = 2, m = 4;
    long long same[3] = {0}, root_counts[4] = {0}, root_prev = 0;
    for (int i = 0; i < n; i++) {
        const hs_rhm_choices *ref = &P.c[i], *pL = &P.c[(size_t)L * n + i], *p1 = &P.c[(size_t)1 * n + i];
        for (int q = 0; q < 3; q++) same[q] += pL->rule[q] == ref->rule[q]; /* the root, its 2 children */
        root_counts[pL->rule[0]]++;
        root_prev += p1->rule[0] == ref->rule[0];
    }
    /* binomial(2000, 1/4): mean 500, sd 19.4; 5 sd */
    for (int q = 0; q < 3; q++) CU_ASSERT(fabs((double)same[q] - n / (double)m) < 5 * sqrt(n * 0.25 * 0.75));
    CU_ASSERT(chi2_uniform(root_counts, m) < chi2_crit_001(m - 1));
    CU_ASSERT_EQUAL(root_prev, n);
    hs_rhm_probes_free(&P);
    hs_rhm_free(g);
}

static void test_determinism_and_encoding(void) {
    hs_rhm *g = make(grammars[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    hs_rhm_probes a, b, c;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_rhm_probes_make(g, 7, 3, &a, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_rhm_probes_make(g, 7, 3, &b, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_rhm_probes_make(g, 8, 3, &c, &err), HS_OK);
    const int dim = g->o.v * g->d, n = a.n;
    float *xa = malloc((size_t)n * dim * sizeof *xa), *xb = malloc((size_t)n * dim * sizeof *xb);
    float *xc = malloc((size_t)n * dim * sizeof *xc), *x1 = malloc((size_t)dim * sizeof *x1);
    int32_t *sym = malloc((size_t)g->d * sizeof *sym);
    int differ = 0;
    for (int blk = 0; blk < a.blocks; blk++) {
        hs_rhm_probes_encode(g, &a, blk, 0, n, 1, xa);
        hs_rhm_probes_encode(g, &b, blk, 0, n, 1, xb);
        hs_rhm_probes_encode(g, &c, blk, 0, n, 1, xc);
        CU_ASSERT(memcmp(xa, xb, (size_t)n * dim * sizeof *xa) == 0); /* a pure function of the seed */
        differ += memcmp(xa, xc, (size_t)n * dim * sizeof *xa) != 0;
        /* rows first.. of a block are the same rows encoded alone; whitening as hs_rhm_encode */
        hs_rhm_probes_encode(g, &a, blk, 5, 1, 1, x1);
        CU_ASSERT(memcmp(x1, xa + 5 * (size_t)dim, (size_t)dim * sizeof *x1) == 0);
        hs_rhm_build(g, &a.c[(size_t)blk * n + 5], sym);
        hs_rhm_encode(g, sym, 1, x1);
        CU_ASSERT(memcmp(x1, xa + 5 * (size_t)dim, (size_t)dim * sizeof *x1) == 0);
    }
    CU_ASSERT_EQUAL(differ, a.blocks);
    /* whitened entries: one at 1 (to an ulp), zeros at -1/sqrt(v-1) */
    float lo = -(float)(1.0 / sqrt(3.0));
    for (int i = 0; i < dim; i++) CU_ASSERT(fabsf(xa[i] - lo) < 1e-6f || fabsf(xa[i] - 1.0f) < 1e-6f);
    /* refusals name the key */
    hs_rhm_probes z;
    CU_ASSERT_EQUAL(hs_rhm_probes_make(g, 7, 0, &z, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "record.sensitivity = 0");
    CU_ASSERT_PTR_NULL(z.c);
    hs_rhm_probes_free(&z);
    free(xa), free(xb), free(xc), free(x1), free(sym);
    hs_rhm_probes_free(&a), hs_rhm_probes_free(&b), hs_rhm_probes_free(&c);
    hs_rhm_free(g);
}

int main(void) {
    static const hs_test tests[] = {
        {"samples built from choices are sentences of their class with s^L leaves", test_build},
        {"P_l keeps positions and the levels above; tau_l keeps symbols and the patches above", test_perturbations},
        {"P_L is a fresh draw of every level's synonyms, same class", test_fresh_class_draw},
        {"the probe set is a function of the seed and encodes like training inputs", test_determinism_and_encoding},
        {NULL, NULL},
    };
    return hs_test_main("srhm_perturb", tests);
}
