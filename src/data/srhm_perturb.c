/* srhm_perturb.c - (S)RHM samples described by their choices (a synonym and a placement per
 * informative node), their re-draws, and the probe set of the sensitivity measurements: a
 * reference set with its synonym-exchanged (P_l) and displaced (tau_l) copies (see "a sample's
 * choices, perturbations" in include/hsweep/data.h).
 *
 * hs_rhm_sample interleaves a node's rule and placement draws on one stream, which is right for
 * training data but makes "the same sample with other synonyms" undefined. Here the choices are
 * explicit arrays indexed by a node's place in the tree, so a perturbation re-draws one array
 * over some levels and rebuilds the symbols; the rules (hs_rhm) and the encoding are shared with
 * srhm.c, so a probe input is encoded exactly as a training input. */
#include <stdlib.h>
#include <string.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"

size_t hs_rhm_n_nodes(const hs_rhm *g) {
    size_t n = 0, level = 1;
    for (int l = 0; l < g->o.L; l++, level *= (size_t)g->o.s) n += level;
    return n;
}

void hs_rhm_slots(const hs_rhm *g, uint64_t place, int *slot) {
    const int s = g->o.s, S = g->S, w = g->o.s0 + 1;
    if (w == 1) { /* the RHM: the children fill the patch */
        for (int t = 0; t < s; t++) slot[t] = t;
        return;
    }
    if (g->o.sparsity == HS_RHM_SPARSITY_A) { /* offsets, first child most significant */
        for (int t = s - 1; t >= 0; t--, place /= (uint64_t)w) slot[t] = t * w + (int)(place % (uint64_t)w);
        return;
    }
    /* B: unrank among the s-subsets of 0..S-1 in lexicographic order, as srhm.c's place() */
    const uint64_t *b = g->binom;
    for (int i = 0, k = s; k > 0; i++) {
        uint64_t with_i = b[(S - i - 1) * (s + 1) + k - 1];
        if (place < with_i) slot[s - k--] = i;
        else place -= with_i;
    }
}

/* A placement code drawn as hs_rhm_sample draws a node's placement (s offsets for A, one rank for
 * B, nothing for the RHM). */
static uint64_t draw_place(const hs_rhm *g, hs_rng *rng) {
    const int w = g->o.s0 + 1;
    if (w == 1) return 0;
    if (g->o.sparsity == HS_RHM_SPARSITY_B) return hs_rng_below(rng, g->placements);
    uint64_t code = 0;
    for (int t = 0; t < g->o.s; t++) code = code * (uint64_t)w + hs_rng_below(rng, (uint64_t)w);
    return code;
}

void hs_rhm_redraw(const hs_rhm *g, hs_rng *rng, int levels, unsigned what, hs_rhm_choices *c) {
    const int L = g->o.L, first = levels >= L ? 0 : L - levels;
    size_t off = 0, count = 1;
    for (int l = 0; l < L; l++, off += count, count *= (size_t)g->o.s) {
        if (l < first) continue;
        for (size_t k = 0; k < count; k++) {
            if (what & HS_RHM_SYNONYMS) c->rule[off + k] = (int32_t)hs_rng_below(rng, (uint64_t)g->o.m);
            if (what & HS_RHM_PLACEMENTS) c->place[off + k] = draw_place(g, rng);
        }
    }
}

/* Node k of level l, holding symbol sym at entry pos of the level-l string: write its subtree's
 * leaves into symbols. off = index of level l's first node in the choice arrays. Depth <= L. */
static void expand(const hs_rhm *g, const hs_rhm_choices *c, int l, size_t off, size_t k, int32_t sym, size_t pos,
                   int32_t *symbols) {
    const int s = g->o.s;
    int slot[16]; /* s <= 16 (the schema's and hs_rhm_rules' bound) */
    hs_rhm_slots(g, c->place[off + k], slot);
    const int32_t *ch = g->children[l] + ((size_t)sym * (size_t)g->o.m + (size_t)c->rule[off + k]) * (size_t)s;
    size_t level_nodes = 1;
    for (int i = 0; i < l; i++) level_nodes *= (size_t)s;
    for (int t = 0; t < s; t++) {
        size_t p = pos * (size_t)g->S + (size_t)slot[t];
        if (l + 1 == g->o.L) symbols[p] = ch[t];
        else expand(g, c, l + 1, off + level_nodes, k * (size_t)s + (size_t)t, ch[t], p, symbols);
    }
}

void hs_rhm_build(const hs_rhm *g, const hs_rhm_choices *c, int32_t *symbols) {
    for (int i = 0; i < g->d; i++) symbols[i] = -1;
    expand(g, c, 0, 0, 0, c->y, 0, symbols);
}

/* ================================================================ the probe set */

void hs_rhm_probes_free(hs_rhm_probes *p) {
    if (!p) return;
    free(p->c), free(p->rules), free(p->places), free(p->symbols);
    memset(p, 0, sizeof *p);
}

hs_code hs_rhm_probes_make(const hs_rhm *g, uint64_t seed, int n_per_class, hs_rhm_probes *out, hs_error *err) {
    memset(out, 0, sizeof *out);
    const long long n = (long long)n_per_class * g->o.n_c;
    if (n_per_class < 1 || n > HS_RHM_PROBE_MAX_SAMPLES) {
        HS_FAIL(err, HS_ERR_VALUE, "record.sensitivity = %d: %lld reference samples (%d classes); need 1 .. %d",
                n_per_class, n, g->o.n_c, HS_RHM_PROBE_MAX_SAMPLES);
        return hs_error_hint(err, "at most %d samples per class", HS_RHM_PROBE_MAX_SAMPLES / g->o.n_c);
    }
    const int L = g->o.L, blocks = 2 * L + 1;
    const size_t nn = hs_rhm_n_nodes(g), rows = (size_t)blocks * (size_t)n;
    out->n = (int)n, out->n_per_class = n_per_class, out->blocks = blocks;
    out->c = malloc(rows * sizeof *out->c);
    out->rules = malloc(rows * nn * sizeof *out->rules);
    out->places = malloc(rows * nn * sizeof *out->places);
    out->symbols = malloc((size_t)g->d * sizeof *out->symbols);
    if (!out->c || !out->rules || !out->places || !out->symbols) {
        hs_rhm_probes_free(out);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %zu probe samples of %zu nodes", rows, nn);
    }
    for (size_t r = 0; r < rows; r++) out->c[r] = (hs_rhm_choices){.rule = out->rules + r * nn,
                                                                     .place = out->places + r * nn};
    hs_rng rng;
    for (int i = 0; i < n; i++) {
        hs_rhm_choices *ref = &out->c[i];
        ref->y = i % g->o.n_c;
        hs_rng_init(&rng, seed, hs_rng_stream(HS_STREAM_PROBE, HS_RHM_PROBE_STREAM(0, i)));
        hs_rhm_redraw(g, &rng, L, HS_RHM_SYNONYMS | HS_RHM_PLACEMENTS, ref);
        for (int b = 1; b < blocks; b++) {
            hs_rhm_choices *p = &out->c[(size_t)b * (size_t)n + (size_t)i];
            p->y = ref->y;
            memcpy(p->rule, ref->rule, nn * sizeof *p->rule);
            memcpy(p->place, ref->place, nn * sizeof *p->place);
            hs_rng_init(&rng, seed, hs_rng_stream(HS_STREAM_PROBE, HS_RHM_PROBE_STREAM(b, i)));
            if (b <= L) hs_rhm_redraw(g, &rng, b, HS_RHM_SYNONYMS, p);
            else hs_rhm_redraw(g, &rng, b - L, HS_RHM_PLACEMENTS, p);
        }
    }
    return HS_OK;
}

void hs_rhm_probes_encode(const hs_rhm *g, hs_rhm_probes *p, int b, int first, int count, int whiten, float *x) {
    const size_t dim = (size_t)g->o.v * (size_t)g->d;
    for (int r = 0; r < count; r++) {
        hs_rhm_build(g, &p->c[(size_t)b * (size_t)p->n + (size_t)(first + r)], p->symbols);
        hs_rhm_encode(g, p->symbols, whiten, x + (size_t)r * dim);
    }
}
