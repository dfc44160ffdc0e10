/* srhm.c - the Random Hierarchy Model (Cagnetta et al. 2024) and the Sparse RHM (Tomasini & Wyart
 * 2024): rules, samples, encoding, parsing and the nested, disjoint data sets (see the SRHM
 * section of include/hsweep/data.h for the model, the draw order and the guarantees).
 *
 * Everything works on symbol strings in place: a level-l string has S^l entries (-1 = empty) and
 * becomes level l + 1 by replacing entry j with patch [j S, (j + 1) S). Going top-down, nodes are
 * expanded from right to left, so a patch only overwrites entries already expanded; going
 * bottom-up (parsing), patches are reduced from left to right, so an entry is only overwritten
 * after its patch was read. No allocation per sample: callers hand in the d-entry buffers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"

/* n x dim above this in one set is a mistake in the spec (8 GiB of floats), as in dataset.c */
#define MAX_VALUES (1ll << 31)

/* ================================================================ parameters */

/* o with the defaults n_c = v and m = v^(s-1) resolved (only when v and s are sane: the checks
 * come after). */
static hs_rhm_opts resolve(const hs_rhm_opts *o) {
    hs_rhm_opts r = *o;
    if (r.n_c == 0) r.n_c = r.v;
    if (r.m == 0 && r.v >= 2 && r.s >= 2 && r.s <= 62) {
        double m = pow((double)r.v, (double)(r.s - 1));
        r.m = m < 2147483647.0 ? (int)m : -1; /* -1: refused as out of range below */
    }
    return r;
}

/* base^e as an exact integer when it stays below 2^53, else 0. */
static uint64_t exact_pow(uint64_t base, uint64_t e) {
    uint64_t r = 1;
    for (uint64_t i = 0; i < e; i++) {
        if (base != 0 && r > (1ull << 53) / base) return 0;
        r *= base;
    }
    return r <= (1ull << 53) ? r : 0;
}

/* C(n, k) in double (exact while below 2^53). */
static double binom_double(int n, int k) {
    double c = 1.0;
    for (int i = 1; i <= k; i++) c = c * (double)(n - k + i) / (double)i;
    return floor(c + 0.5);
}

/* Sizes derived from resolved options (check_opts fills them). */
typedef struct sizes {
    int S, d, n_inf, n_tuples;
    double placements;
} sizes;

/* The error for m * parents > v^s at level l. */
static hs_code too_many_tuples(const hs_rhm_opts *o, int l, int parents, int n_tuples, hs_error *err) {
    char who[64];
    if (l == 0) snprintf(who, sizeof who, "the n_c classes");
    else snprintf(who, sizeof who, "the distinct symbols of level %d's rules", l - 1);
    hs_code rc = HS_FAIL(err, HS_ERR_VALUE,
                         "SRHM rules: level %d needs data.m = %d rules for each of %d parents (%s) = %lld tuples, "
                         "but only v^s = %d^%d = %d tuples exist (no tuple may have two parents)",
                         l, o->m, parents, who, (long long)o->m * parents, o->v, o->s, n_tuples);
    if (err)
        hs_error_hint(err, "m <= v^(s-1) = %.0f always fits%s", pow(o->v, o->s - 1),
                      l > 0 ? "; at levels >= 1 the parent count depends on data.rule_seed" : "");
    return rc;
}

/* Check resolved options and derive their sizes: S, d, s^L, v^s, placements (double, exact while
 * small). HS_ERR_VALUE / HS_ERR_LIMIT naming the config key; err may be NULL (hs_rhm_pmax). */
static hs_code check_opts(const hs_rhm_opts *o, sizes *z, hs_error *err) {
    if (o->v < 2) return HS_FAIL(err, HS_ERR_VALUE, "data.v = %d: the vocabulary needs >= 2 symbols", o->v);
    if (o->s < 2) return HS_FAIL(err, HS_ERR_VALUE, "data.s = %d: a rule needs >= 2 children", o->s);
    if (o->L < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.L = %d: needs >= 1 level", o->L);
    if (o->s0 < 0) return HS_FAIL(err, HS_ERR_VALUE, "data.s0 = %d: must be >= 0", o->s0);
    if (o->n_c < 2) return HS_FAIL(err, HS_ERR_VALUE, "data.n_c = %d: needs >= 2 classes (0 = v)", o->n_c);
    if (o->sparsity != HS_RHM_SPARSITY_A && o->sparsity != HS_RHM_SPARSITY_B)
        return HS_FAIL(err, HS_ERR_VALUE, "data.sparsity = %d: expected A (0) or B (1)", (int)o->sparsity);
    double tuples = pow((double)o->v, (double)o->s);
    if (tuples > HS_RHM_MAX_TUPLES)
        return HS_FAIL(err, HS_ERR_LIMIT, "v^s = %d^%d = %.0f tuples: more than the %d this generator supports",
                       o->v, o->s, tuples, HS_RHM_MAX_TUPLES);
    if (o->m < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.m = %d: needs >= 1 rule per symbol (0 = v^(s-1))", o->m);
    /* level 0 does not depend on the draw: refuse it here, before anything is allocated */
    if ((long long)o->m * o->n_c > (long long)tuples) return too_many_tuples(o, 0, o->n_c, (int)tuples, err);
    double S = (double)o->s * ((double)o->s0 + 1.0);
    if (S > HS_RHM_MAX_SLOTS)
        return HS_FAIL(err, HS_ERR_LIMIT, "a patch of s (s0 + 1) = %d x %d = %.0f slots: more than %d", o->s,
                       o->s0 + 1, S, HS_RHM_MAX_SLOTS);
    double d = pow(S, (double)o->L);
    if (d > HS_RHM_MAX_POSITIONS || d * o->v > HS_RHM_MAX_DIM)
        return HS_FAIL(err, HS_ERR_LIMIT,
                       "(s (s0 + 1))^L = %.0f^%d = %.0f positions x v = %d: more than %d positions or %d values "
                       "per input",
                       S, o->L, d, o->v, HS_RHM_MAX_POSITIONS, HS_RHM_MAX_DIM);
    z->S = (int)S;
    z->n_tuples = (int)tuples;
    z->d = 1;
    z->n_inf = 1;
    for (int l = 0; l < o->L; l++) {
        z->d *= z->S;
        z->n_inf *= o->s;
    }
    if (o->s0 == 0) z->placements = 1.0;
    else if (o->sparsity == HS_RHM_SPARSITY_A) z->placements = pow((double)o->s0 + 1.0, (double)o->s);
    else z->placements = binom_double(z->S, o->s);
    if (z->placements >= 0x1p62)
        return HS_FAIL(err, HS_ERR_LIMIT, "%.3g placements of %d children in %d slots: more than 2^62", z->placements,
                       o->s, z->S);
    return HS_OK;
}

/* P_max = n_c (m * placements)^((s^L - 1) / (s - 1)) of checked options. */
static double pmax_of(const hs_rhm_opts *o, const sizes *z) {
    uint64_t nodes = ((uint64_t)z->n_inf - 1) / (uint64_t)(o->s - 1); /* informative internal nodes */
    double base = (double)o->m * z->placements;
    if (base < 0x1p53) {
        uint64_t p = exact_pow((uint64_t)base, nodes);
        if (p != 0 && p <= (1ull << 53) / (uint64_t)o->n_c) return (double)(p * (uint64_t)o->n_c);
    }
    return exp(log((double)o->n_c) + (double)nodes * log(base)); /* +inf on overflow */
}

double hs_rhm_pmax(const hs_rhm_opts *o) {
    if (!o) return 0.0;
    hs_rhm_opts r = resolve(o);
    sizes z;
    if (check_opts(&r, &z, NULL) != HS_OK) return 0.0;
    return pmax_of(&r, &z);
}

/* ================================================================ rules */

void hs_rhm_free(hs_rhm *g) {
    if (!g) return;
    for (int l = 0; l < HS_RHM_MAX_LEVELS; l++) {
        free(g->parents[l]);
        free(g->rules[l]);
        free(g->children[l]);
        free(g->parent_of[l]);
    }
    free(g->binom);
    free(g);
}

/* Pascal's triangle up to row S, columns 0..s (B only). Entries stay <= C(S, s) < 2^62 because
 * s <= S / 2 whenever s0 >= 1, so no column k <= s exceeds C(n, s) <= C(S, s). */
static void fill_binom(uint64_t *b, int S, int s) {
    for (int n = 0; n <= S; n++)
        for (int k = 0; k <= s; k++)
            b[n * (s + 1) + k] = k == 0 ? 1 : n == 0 ? 0 : b[(n - 1) * (s + 1) + k - 1] + b[(n - 1) * (s + 1) + k];
}

/* One level of rules: parents (increasing) get consecutive blocks of m codes of a fresh shuffle
 * of all v^s codes. perm[v^s] is scratch; seen[v] collects the children, i.e. the next level's
 * parents. */
static hs_code draw_level(hs_rhm *g, int l, hs_rng *rng, uint32_t *perm, uint8_t *seen, hs_error *err) {
    const hs_rhm_opts *o = &g->o;
    int np = g->n_parents[l], rows = l == 0 ? o->n_c : o->v, m = o->m, s = o->s;
    if ((long long)m * np > g->n_tuples) return too_many_tuples(o, l, np, g->n_tuples, err);
    g->rules[l] = malloc((size_t)rows * m * sizeof *g->rules[l]);
    g->children[l] = malloc((size_t)rows * m * s * sizeof *g->children[l]);
    g->parent_of[l] = malloc((size_t)g->n_tuples * sizeof *g->parent_of[l]);
    if (!g->rules[l] || !g->children[l] || !g->parent_of[l])
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the rules of level %d", l);
    for (long long i = 0; i < (long long)rows * m; i++) g->rules[l][i] = -1;
    for (long long i = 0; i < (long long)rows * m * s; i++) g->children[l][i] = -1;
    for (int i = 0; i < g->n_tuples; i++) {
        g->parent_of[l][i] = -1;
        perm[i] = (uint32_t)i;
    }
    hs_rng_permute(rng, perm, (size_t)g->n_tuples);
    memset(seen, 0, (size_t)o->v);
    for (int k = 0; k < np; k++) {
        int p = g->parents[l][k];
        for (int j = 0; j < m; j++) {
            int32_t code = (int32_t)perm[(size_t)k * m + j];
            g->rules[l][(size_t)p * m + j] = code;
            g->parent_of[l][code] = p;
            int32_t *ch = g->children[l] + ((size_t)p * m + j) * s;
            for (int t = s - 1, c = code; t >= 0; t--, c /= o->v) {
                ch[t] = c % o->v;
                seen[ch[t]] = 1;
            }
        }
    }
    return HS_OK;
}

/* The next level's parents: the symbols seen in this level's rules, increasing. */
static hs_code next_parents(hs_rhm *g, int l, const uint8_t *seen, hs_error *err) {
    int np = 0;
    for (int c = 0; c < g->o.v; c++) np += seen[c];
    g->parents[l] = malloc((size_t)np * sizeof *g->parents[l]);
    if (!g->parents[l]) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %d parents", np);
    g->n_parents[l] = 0;
    for (int c = 0; c < g->o.v; c++)
        if (seen[c]) g->parents[l][g->n_parents[l]++] = c;
    return HS_OK;
}

hs_code hs_rhm_rules(const hs_rhm_opts *o, hs_rhm **out, hs_error *err) {
    if (!o || !out) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_rhm_rules: o and out must not be NULL");
    *out = NULL;
    hs_rhm_opts r = resolve(o);
    sizes z;
    HS_TRY(err, check_opts(&r, &z, err));
    hs_rhm *g = calloc(1, sizeof *g);
    if (!g) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the SRHM");
    g->o = r;
    g->S = z.S;
    g->d = z.d;
    g->n_informative = z.n_inf;
    g->n_tuples = z.n_tuples;
    g->placements = (uint64_t)z.placements;
    g->p_max = pmax_of(&r, &z);

    hs_code rc = HS_OK;
    uint32_t *perm = malloc((size_t)z.n_tuples * sizeof *perm);
    uint8_t *seen = malloc((size_t)r.v);
    if (!perm || !seen) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory for a shuffle of %d tuples", z.n_tuples);
    if (rc == HS_OK && r.sparsity == HS_RHM_SPARSITY_B && r.s0 > 0) {
        g->binom = malloc((size_t)(z.S + 1) * (size_t)(r.s + 1) * sizeof *g->binom);
        if (!g->binom) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory for a table of binomials");
        else fill_binom(g->binom, z.S, r.s);
    }
    if (rc == HS_OK) {
        g->parents[0] = malloc((size_t)r.n_c * sizeof *g->parents[0]);
        if (!g->parents[0]) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %d classes", r.n_c);
        else {
            g->n_parents[0] = r.n_c;
            for (int c = 0; c < r.n_c; c++) g->parents[0][c] = c;
        }
    }
    hs_rng rng; /* one stream for all levels, in order */
    hs_rng_init(&rng, r.rule_seed, hs_rng_stream(HS_STREAM_DATA, HS_RHM_RULE_STREAM));
    for (int l = 0; rc == HS_OK && l < r.L; l++) {
        rc = draw_level(g, l, &rng, perm, seen, err);
        if (rc == HS_OK && l + 1 < r.L) rc = next_parents(g, l + 1, seen, err);
    }
    free(perm);
    free(seen);
    if (rc != HS_OK) {
        hs_rhm_free(g);
        hs_error_trace(err, __FILE__, __LINE__);
        return rc;
    }
    *out = g;
    return HS_OK;
}

/* ================================================================ samples */

/* Write the patch out[S] of one node whose rule has children ch[s], drawing its placement. */
static inline void place(const hs_rhm *g, hs_rng *rng, const int32_t *ch, int32_t *out) {
    int S = g->S, s = g->o.s, w = g->o.s0 + 1;
    if (w == 1) { /* the RHM: no empty slots, no draw */
        memcpy(out, ch, (size_t)s * sizeof *out);
        return;
    }
    for (int i = 0; i < S; i++) out[i] = -1;
    if (g->o.sparsity == HS_RHM_SPARSITY_A) {
        for (int t = 0; t < s; t++) out[t * w + (int)hs_rng_below(rng, (uint64_t)w)] = ch[t];
        return;
    }
    /* B: unrank r among the s-subsets of 0..S-1 in lexicographic order; C(S - i - 1, k - 1) of the
     * k-subsets of i..S-1 start with i */
    uint64_t r = hs_rng_below(rng, g->placements);
    const uint64_t *b = g->binom;
    for (int i = 0, k = s; k > 0; i++) {
        uint64_t with_i = b[(S - i - 1) * (s + 1) + k - 1];
        if (r < with_i) {
            out[i] = ch[s - k];
            k--;
        } else {
            r -= with_i;
        }
    }
}

int hs_rhm_sample(const hs_rhm *g, uint64_t seed, uint64_t index, int32_t *symbols) {
    if (index >= HS_RHM_MAX_INDEX) return -1;
    hs_rng rng;
    hs_rng_init(&rng, seed, hs_rng_stream(HS_STREAM_DATA, (uint32_t)index));
    const int m = g->o.m, s = g->o.s, S = g->S;
    int y = (int)hs_rng_below(&rng, (uint64_t)g->o.n_c);
    symbols[0] = y;
    int len = 1;
    for (int l = 0; l < g->o.L; l++, len *= S) {
        const int32_t *children = g->children[l];
        for (int j = len - 1; j >= 0; j--) {
            int32_t sym = symbols[j];
            int32_t *out = symbols + (size_t)j * S;
            if (sym < 0) {
                for (int i = 0; i < S; i++) out[i] = -1;
                continue;
            }
            uint64_t k = hs_rng_below(&rng, (uint64_t)m);
            place(g, &rng, children + ((size_t)sym * m + k) * s, out);
        }
    }
    return y;
}

/* ================================================================ encoding and parsing */

/* The two values of an entry, float32 as torch computes x * (1 + a) - a on a float tensor. */
static void entry_values(int v, int whiten, float *one, float *zero) {
    if (!whiten) {
        *one = 1.0f;
        *zero = 0.0f;
        return;
    }
    double a = 1.0 / sqrt((double)(v - 1));
    float af = (float)a, bf = (float)(1.0 + a);
    *one = 1.0f * bf - af;
    *zero = 0.0f * bf - af;
}

void hs_rhm_encode(const hs_rhm *g, const int32_t *symbols, int whiten, float *x) {
    float one, zero;
    entry_values(g->o.v, whiten, &one, &zero);
    size_t d = (size_t)g->d, n = (size_t)g->o.v * d;
    for (size_t i = 0; i < n; i++) x[i] = zero;
    for (size_t i = 0; i < d; i++)
        if (symbols[i] >= 0) x[(size_t)symbols[i] * d + i] = one;
}

int hs_rhm_parse(const hs_rhm *g, const int32_t *symbols, int32_t *work) {
    const int v = g->o.v, s = g->o.s, S = g->S, w = g->o.s0 + 1;
    const int a_layout = g->o.sparsity == HS_RHM_SPARSITY_A;
    for (int i = 0; i < g->d; i++) {
        if (symbols[i] < -1 || symbols[i] >= v) return -1;
        work[i] = symbols[i];
    }
    int len = g->d / S; /* patches at the level being reduced */
    for (int l = g->o.L - 1; l >= 0; l--, len /= S) {
        for (int j = 0; j < len; j++) {
            const int32_t *p = work + (size_t)j * S;
            int count = 0, code = 0;
            for (int i = 0; i < S; i++) {
                if (p[i] < 0) continue;
                /* A: the count-th child must sit in sub-patch number count */
                if (count == s || (a_layout && i / w != count)) return -1;
                code = code * v + p[i];
                count++;
            }
            if (count == 0) work[j] = -1;
            else if (count != s || g->parent_of[l][code] < 0) return -1;
            else work[j] = g->parent_of[l][code];
        }
    }
    return work[0];
}

/* ================================================================ data sets */

/* FNV-style 64-bit mix of the symbols; never 0 (0 marks a free slot of the table). */
static uint64_t hash_symbols(const int32_t *sym, int d) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < d; i++) {
        h ^= (uint64_t)(uint32_t)(sym[i] + 1);
        h *= 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h ? h : 1;
}

typedef struct slot {
    uint64_t hash;
    long long row; /* kept sample number: < n_test in the test set, else train row + n_test */
} slot;

static hs_code alloc_set(hs_dataset *ds, const hs_rhm *g, long long n, hs_error *err) {
    int dim = g->o.v * g->d;
    if (n > MAX_VALUES / dim)
        return HS_FAIL(err, HS_ERR_LIMIT, "%lld samples of %d values: more than 2^31 values (8 GiB) in one set", n,
                       dim);
    size_t rows = n > 0 ? (size_t)n : 1; /* malloc(0) may be NULL */
    ds->x = malloc(rows * (size_t)dim * sizeof *ds->x);
    ds->y = malloc(rows * sizeof *ds->y);
    if (!ds->x || !ds->y) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %lld samples of %d values", n, dim);
    ds->n = n;
    ds->dim = dim;
    ds->classes = g->o.n_c;
    ds->channels = g->o.v;
    ds->height = 1;
    ds->width = g->d;
    return HS_OK;
}

/* Fill test then train with the distinct-sample stream. table[cap] (cap a power of two >= 2 x
 * the rows) starts zeroed; sym[d] is scratch. */
static hs_code fill_sets(const hs_rhm *g, uint64_t seed, int whiten, hs_dataset *train, hs_dataset *test, slot *table,
                         size_t cap, int32_t *sym, hs_rhm_info *info, hs_error *err) {
    const long long total = test->n + train->n;
    const size_t dim = (size_t)train->dim;
    long long row = 0, duplicates = 0;
    uint64_t index = 0;
    while (row < total) {
        if (index >= HS_RHM_MAX_INDEX)
            return HS_FAIL(err, HS_ERR_LIMIT,
                           "SRHM: %llu draws gave only %lld distinct samples of the %lld asked for (P_max = %.0f)",
                           (unsigned long long)index, row, total, g->p_max);
        int y = hs_rhm_sample(g, seed, index++, sym);
        hs_dataset *ds = row < test->n ? test : train;
        long long r = row < test->n ? row : row - test->n;
        float *x = ds->x + (size_t)r * dim;
        hs_rhm_encode(g, sym, whiten, x);
        uint64_t h = hash_symbols(sym, g->d);
        size_t i = (size_t)h & (cap - 1);
        int dup = 0;
        for (; table[i].hash; i = (i + 1) & (cap - 1)) {
            if (table[i].hash != h) continue;
            long long k = table[i].row;
            const float *old = k < test->n ? test->x + (size_t)k * dim : train->x + (size_t)(k - test->n) * dim;
            if (memcmp(old, x, dim * sizeof *x) == 0) {
                dup = 1;
                break;
            }
        }
        if (dup) {
            duplicates++;
            continue; /* the row is overwritten by the next draw */
        }
        table[i] = (slot){h, row};
        ds->y[r] = y;
        row++;
    }
    if (info) *info = (hs_rhm_info){.draws = (long long)index, .duplicates = duplicates, .p_max = g->p_max};
    return HS_OK;
}

hs_code hs_rhm_dataset(const hs_rhm *g, uint64_t seed, long long n_train, long long n_test, int whiten,
                       hs_dataset *train, hs_dataset *test, hs_rhm_info *info, hs_error *err) {
    if (!g || !train || !test)
        return HS_FAIL(err, HS_ERR_INTERNAL, "hs_rhm_dataset: g, train and test must not be NULL");
    *train = (hs_dataset){0};
    *test = (hs_dataset){0};
    if (n_train < 0 || n_test < 0)
        return HS_FAIL(err, HS_ERR_VALUE, "data.n_train = %lld, data.n_test = %lld: counts must be >= 0", n_train,
                       n_test);
    if (n_train > MAX_VALUES || n_test > MAX_VALUES)
        return HS_FAIL(err, HS_ERR_LIMIT, "data.n_train = %lld, data.n_test = %lld: more than 2^31 samples", n_train,
                       n_test);
    if ((double)(n_train + n_test) > g->p_max) {
        const hs_rhm_opts *o = &g->o;
        HS_FAIL(err, HS_ERR_VALUE,
                "%lld training + %lld test samples = %lld, but this %s (v=%d n_c=%d m=%d s=%d L=%d s0=%d%s) has only "
                "P_max = %.0f distinct inputs",
                n_train, n_test, n_train + n_test, o->s0 ? "SRHM" : "RHM", o->v, o->n_c, o->m, o->s, o->L, o->s0,
                o->s0 ? (o->sparsity == HS_RHM_SPARSITY_A ? " sparsity A" : " sparsity B") : "", g->p_max);
        return hs_error_hint(err, "train and test sets are disjoint sets of distinct inputs: lower data.n_train or "
                                  "data.n_test");
    }
    long long total = n_train + n_test;
    size_t cap = 16;
    while (cap < 2 * (size_t)total) cap *= 2;
    slot *table = NULL;
    int32_t *sym = NULL;
    hs_code rc = alloc_set(train, g, n_train, err);
    if (rc == HS_OK) rc = alloc_set(test, g, n_test, err);
    if (rc == HS_OK) {
        table = calloc(cap, sizeof *table);
        sym = malloc((size_t)g->d * sizeof *sym);
        if (!table || !sym) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory for a table of %zu samples", cap);
    }
    if (rc == HS_OK) rc = fill_sets(g, seed, whiten, train, test, table, cap, sym, info, err);
    free(table);
    free(sym);
    if (rc != HS_OK) {
        hs_dataset_free(train);
        hs_dataset_free(test);
        hs_error_trace(err, __FILE__, __LINE__);
    }
    return rc;
}
