/* hierarchy.c - hierarchical category data and its partition control (the "hierarchical category
 * data" section of include/hsweep/data.h): the graph, the exact Gaussian sampler on a forest, the
 * normalisation of rescale_data.m and the stratified split.
 *
 * Cost: per feature one pass up the graph (the factor) and one pass down (the solve), plus one
 * normal draw per node; the 64127 nodes x 936 features of the defaults take about a second, most
 * of it in the normal draws. Features are made in chunks of CHUNK into a feature-major buffer and
 * then copied into the rows, so the [examples x features] rows are written contiguously rather
 * than one strided column at a time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "internal.h"

#define CHUNK 16 /* features per pass over the rows */

/* ================================================================ the forest sampler */

hs_code hs_forest_cholesky(int32_t n, const int32_t *parent, const double *w, const double *s, double *diag,
                           double *off, hs_error *err) {
    for (int32_t i = 0; i < n; i++) {
        if (!(s[i] >= 0.0) || isinf(s[i]))
            return HS_FAIL(err, HS_ERR_VALUE, "forest node %d: s = %g, expected finite and >= 0", (int)i, s[i]);
        diag[i] = s[i]; /* accumulates e_i: s_i plus what the children pass up */
    }
    for (int32_t i = 0; i < n; i++) {
        int32_t p = parent[i];
        double e = diag[i];
        if (p == -1) {
            if (!(e > 0.0))
                return HS_FAIL(err, HS_ERR_VALUE,
                               "forest root %d: Q is not positive definite (no node of its tree has s > 0)", (int)i);
            diag[i] = sqrt(e);
            off[i] = 0.0;
            continue;
        }
        if (p <= i || p >= n)
            return HS_FAIL(err, HS_ERR_VALUE, "forest node %d: parent %d, expected a later node (< %d) or -1", (int)i,
                           (int)p, (int)n);
        double wi = w[i];
        if (!(wi >= 0.0) || isinf(wi))
            return HS_FAIL(err, HS_ERR_VALUE, "forest node %d: edge weight %g, expected finite and >= 0", (int)i, wi);
        double d = wi + e;
        if (!(d > 0.0))
            return HS_FAIL(err, HS_ERR_VALUE,
                           "forest node %d: Q is not positive definite (a subtree with no s > 0 and no edge up)",
                           (int)i);
        diag[i] = sqrt(d);
        off[i] = -wi / diag[i];
        /* Q_pp - L_pi^2 = Q_pp - w_i^2 / (w_i + e_i): the w_i in Q_pp and the w_i^2 / d cancel to
         * w_i e_i / (w_i + e_i), added here without ever forming the difference */
        diag[p] += wi * e / d;
    }
    return HS_OK;
}

void hs_forest_solve(int32_t n, const int32_t *parent, const double *diag, const double *off, double *x) {
    for (int32_t i = n - 1; i >= 0; i--) {
        double v = x[i];
        if (parent[i] >= 0) v -= off[i] * x[parent[i]];
        x[i] = v / diag[i];
    }
}

/* ================================================================ sizes */

/* What the options make (checked). */
typedef struct category {
    int tree;                 /* hierarchy (1) or partition (0) */
    int b, V, P;              /* branching, levels, features */
    long long C, per_leaf, E; /* leaves, examples per leaf, examples */
    long long nodes;          /* examples + class nodes (+ the levels above and the root) */
    long long test_per_leaf;
} category;

static hs_code category_of(const hs_data_opts *o, int tree, category *g, hs_error *err) {
    const char *kind = o->kind;
    *g = (category){.tree = tree, .b = o->branching, .V = o->levels, .P = o->features,
                    .per_leaf = o->per_leaf};
    if (o->levels < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.levels = %d: needs >= 1 label level", o->levels);
    if (o->branching < 2)
        return HS_FAIL(err, HS_ERR_VALUE, "data.branching = %d: a tree node needs >= 2 children", o->branching);
    if (o->per_leaf < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.per_leaf = %lld: needs >= 1 example", o->per_leaf);
    if (o->features < 2)
        return HS_FAIL(err, HS_ERR_VALUE,
                       "data.features = %d: needs >= 2 (the normalisation divides by the largest variance of an "
                       "example across its features)", o->features);
    if (!(o->sigma > 0.0) || isinf(o->sigma))
        return HS_FAIL(err, HS_ERR_VALUE, "data.sigma = %g: must be finite and > 0", o->sigma);
    if (!(o->beta > 0.0) || isinf(o->beta))
        return HS_FAIL(err, HS_ERR_VALUE, "data.beta = %g: the mean edge length must be finite and > 0", o->beta);
    if (!(o->test_fraction >= 0.0 && o->test_fraction < 1.0))
        return HS_FAIL(err, HS_ERR_VALUE, "data.test_fraction = %g: must be in [0, 1)", o->test_fraction);
    if (o->n_test != 0) {
        HS_FAIL(err, HS_ERR_VALUE, "data.n_test = %lld with data.kind %s: the test set is a fraction of each leaf",
                o->n_test, kind);
        return hs_error_hint(err, "set data.test_fraction instead (0.2 holds out 20%% of every leaf's examples)");
    }
    long long C = 1, tree_nodes = 1; /* tree_nodes: the leaves and everything above */
    for (int l = 0; l < o->levels; l++) {
        if (C > HS_HIERARCHY_MAX_NODES / o->branching)
            return HS_FAIL(err, HS_ERR_LIMIT, "data.branching^data.levels = %d^%d leaves: more than 2^30", o->branching,
                           o->levels);
        C *= o->branching;
        tree_nodes += C; /* the root, then b, b^2, ..., b^V: at most 2 C */
    }
    g->C = C;
    if (o->per_leaf > HS_HIERARCHY_MAX_NODES / C)
        return HS_FAIL(err, HS_ERR_LIMIT, "%lld leaves x data.per_leaf = %lld examples: more than 2^30", C,
                       o->per_leaf);
    g->E = C * o->per_leaf;
    g->nodes = g->E + (g->tree ? tree_nodes : C);
    if (g->nodes > HS_HIERARCHY_MAX_NODES)
        return HS_FAIL(err, HS_ERR_LIMIT, "%lld graph nodes: more than 2^30", g->nodes);
    if (g->E > HS_DATA_MAX_VALUES / o->features)
        return HS_FAIL(err, HS_ERR_LIMIT, "%lld examples x data.features = %d: more than 2^31 values (8 GiB)", g->E,
                       o->features);
    g->test_per_leaf = (long long)floor((double)o->per_leaf * o->test_fraction + 0.5);
    if (g->test_per_leaf >= o->per_leaf) {
        HS_FAIL(err, HS_ERR_VALUE,
                "data.test_fraction = %g of data.per_leaf = %lld holds out all %lld examples of a leaf",
                o->test_fraction, o->per_leaf, g->test_per_leaf);
        return hs_error_hint(err, "lower data.test_fraction or raise data.per_leaf");
    }
    return HS_OK;
}

static int level_targets_dim(int levels, int branching, int classes);

hs_code hs_category_shape(const hs_data_opts *o, int tree, hs_data_shape *out, hs_error *err) {
    category g;
    HS_TRY(err, category_of(o, tree, &g, err));
    *out = (hs_data_shape){.dim = g.P,
                           .classes = (int)g.C,
                           .n_train = g.C * (g.per_leaf - g.test_per_leaf),
                           .n_test = g.C * g.test_per_leaf,
                           .levels = g.tree ? g.V : 1,
                           .branching = g.tree ? g.b : 0};
    if (o->level_targets) out->t_dim = level_targets_dim(out->levels, out->branching, out->classes);
    return HS_OK;
}

/* ================================================================ the graph */

/* parent[nodes] in the numbering of data.h, and s (1/sigma^2 on the examples, 0 above). */
static void build_graph(const category *g, double sigma, int32_t *parent, double *s) {
    long long E = g->E;
    double s_example = 1.0 / (sigma * sigma);
    for (long long e = 0; e < E; e++) {
        parent[e] = (int32_t)(E + e / g->per_leaf);
        s[e] = s_example;
    }
    for (long long i = E; i < g->nodes; i++) s[i] = 0.0;
    if (!g->tree) {
        for (long long c = 0; c < g->C; c++) parent[E + c] = -1;
        return;
    }
    long long start = E, count = g->C; /* level l: count nodes from start */
    while (count > 1) {
        long long next = start + count;
        for (long long k = 0; k < count; k++) parent[start + k] = (int32_t)(next + k / g->b);
        start = next;
        count /= g->b;
    }
    parent[start] = -1; /* the root */
}

/* ================================================================ the split */

/* rows[e] = where example e goes (a row of train or test), and the labels: per leaf c, the first
 * test_per_leaf of a shuffle with (HS_STREAM_TEST, c) are test; rows leaf after leaf, in example
 * order. */
static hs_code split_rows(const category *g, uint64_t seed, hs_dataset *train, hs_dataset *test, float **rows,
                          hs_error *err) {
    size_t per = (size_t)g->per_leaf; /* >= 1, checked */
    uint32_t *order = malloc(per * sizeof *order);
    uint8_t *is_test = malloc(per);
    if (!order || !is_test) {
        free(order);
        free(is_test);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the split of %lld examples per leaf", g->per_leaf);
    }
    long long n_train = 0, n_test = 0;
    for (long long c = 0; c < g->C; c++) {
        for (size_t j = 0; j < per; j++) order[j] = (uint32_t)j;
        hs_rng rng;
        hs_rng_init(&rng, seed, hs_rng_stream(HS_STREAM_TEST, (uint32_t)c));
        hs_rng_permute(&rng, order, per);
        for (size_t j = 0; j < per; j++) is_test[j] = 0;
        for (long long k = 0; k < g->test_per_leaf; k++) is_test[order[k]] = 1;
        for (size_t j = 0; j < per; j++) {
            hs_dataset *d = is_test[j] ? test : train;
            long long *r = is_test[j] ? &n_test : &n_train;
            rows[(size_t)c * per + j] = d->x + (size_t)*r * (size_t)g->P;
            d->y[(*r)++] = (int32_t)c;
        }
    }
    free(order);
    free(is_test);
    return HS_OK;
}

/* ================================================================ features */

/* The edge length of one feature: -beta log u with u uniform in (0, 1) (u = 0, probability 2^-53,
 * is drawn again: it would make the length 0 and the weight infinite). */
static double edge_length(hs_rng *rng, double beta) {
    double u;
    do u = hs_rng_uniform(rng);
    while (u == 0.0);
    return -beta * log(u);
}

/* Every feature, into rows[e][f] (float32). */
static hs_code draw_features(const category *g, const hs_data_opts *o, float *const *rows, hs_error *err) {
    int32_t n = (int32_t)g->nodes;
    long long E = g->E;
    int32_t *parent = malloc((size_t)n * sizeof *parent);
    double *work = malloc(5 * (size_t)n * sizeof *work);
    float *buf = malloc((size_t)CHUNK * (size_t)E * sizeof *buf); /* [CHUNK x E], feature-major */
    hs_code rc = HS_OK;
    if (!parent || !work || !buf) {
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory for a graph of %d nodes", (int)n);
        goto done;
    }
    double *w = work, *s = w + n, *diag = s + n, *off = diag + n, *x = off + n;
    build_graph(g, o->sigma, parent, s);
    for (int f0 = 0; f0 < g->P; f0 += CHUNK) {
        int nf = g->P - f0 < CHUNK ? g->P - f0 : CHUNK;
        for (int k = 0; k < nf; k++) {
            hs_rng rng;
            hs_rng_init(&rng, o->seed, hs_rng_stream(HS_STREAM_DATA, (uint32_t)(f0 + k)));
            double weight = 1.0 / edge_length(&rng, o->beta);
            for (int32_t i = 0; i < n; i++) w[i] = weight;
            if ((rc = hs_forest_cholesky(n, parent, w, s, diag, off, err)) != HS_OK) goto done;
            for (int32_t i = 0; i < n; i++) x[i] = hs_rng_normal(&rng);
            hs_forest_solve(n, parent, diag, off, x);
            float *col = buf + (size_t)k * (size_t)E;
            for (long long e = 0; e < E; e++) col[e] = (float)x[e];
        }
        for (long long e = 0; e < E; e++)
            for (int k = 0; k < nf; k++) rows[e][f0 + k] = buf[(size_t)k * (size_t)E + (size_t)e];
    }
done:
    free(parent);
    free(work);
    free(buf);
    if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
    return rc;
}

/* ================================================================ normalisation */

/* x <- (x - global mean) / sqrt(max_a C_aa) over the rows of both sets (data.h). */
static hs_code normalise(hs_dataset *train, hs_dataset *test, int P, hs_error *err) {
    hs_dataset *sets[2] = {train, test};
    double total = 0.0, max_var = 0.0;
    long long values = 0;
    for (int k = 0; k < 2; k++) {
        for (long long r = 0; r < sets[k]->n; r++) {
            const float *x = sets[k]->x + (size_t)r * (size_t)P;
            double sum = 0.0, m2 = 0.0;
            for (int f = 0; f < P; f++) sum += x[f];
            double m = sum / P;
            for (int f = 0; f < P; f++) m2 += (x[f] - m) * (x[f] - m);
            total += sum;
            if (m2 / P > max_var) max_var = m2 / P;
        }
        values += sets[k]->n * (long long)P;
    }
    if (!(max_var > 0.0) || isinf(max_var))
        return HS_FAIL(err, HS_ERR_VALUE, "the largest variance of an example across features is %g: cannot normalise",
                       max_var);
    double mean = total / (double)values, scale = 1.0 / sqrt(max_var);
    for (int k = 0; k < 2; k++) {
        float *x = sets[k]->x;
        size_t count = (size_t)sets[k]->n * (size_t)P;
        for (size_t i = 0; i < count; i++) x[i] = (float)(((double)x[i] - mean) * scale);
    }
    return HS_OK;
}

/* ================================================================ level targets */

/* data.targets: levels: one-hot labels of every tree level, finest first, concatenated
 * (64 + 32 + ... + 2 = 126 outputs for the default tree): Saxe et al.'s hierarchical item-feature
 * targets, whose singular modes are the tree's levels. Flat labels (partition): one-hot. */
static int level_targets_dim(int levels, int branching, int classes) {
    int T = 0, K = classes;
    for (int l = 0; l < (levels > 1 ? levels : 1); l++, K /= (branching > 1 ? branching : 1)) T += K;
    return T;
}

static hs_code add_level_targets(hs_dataset *d, hs_error *err) {
    const int T = level_targets_dim(d->levels, d->branching, d->classes), V = d->levels > 1 ? d->levels : 1;
    free(d->t);
    d->t_dim = T;
    d->t = calloc((size_t)(d->n > 0 ? d->n : 1) * (size_t)T, sizeof *d->t);
    if (!d->t) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %lld x %d level targets", d->n, T);
    for (long long r = 0; r < d->n; r++) {
        int off = 0, K = d->classes, div = 1;
        for (int l = 0; l < V; l++, off += K, K /= d->branching, div *= d->branching)
            d->t[(size_t)r * T + (size_t)(off + d->y[r] / div)] = 1.0f;
    }
    return HS_OK;
}

/* ================================================================ entry point */

hs_code hs_category_load(const hs_data_opts *o, int tree, hs_dataset *train, hs_dataset *test, hs_error *err) {
    category g;
    HS_TRY(err, category_of(o, tree, &g, err));
    long long n_test = g.C * g.test_per_leaf;
    HS_TRY(err, hs_data_alloc(train, g.E - n_test, g.P, 0, (int)g.C, err));
    HS_TRY(err, hs_data_alloc(test, n_test, g.P, 0, (int)g.C, err));
    for (int k = 0; k < 2; k++) {
        hs_dataset *d = k ? test : train;
        d->levels = g.tree ? g.V : 1;
        d->branching = g.tree ? g.b : 0;
    }
    float **rows = malloc((size_t)g.E * sizeof *rows);
    if (!rows) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %lld row pointers", g.E);
    hs_code rc = split_rows(&g, o->seed, train, test, rows, err);
    if (rc == HS_OK) rc = draw_features(&g, o, rows, err);
    free(rows);
    if (rc == HS_OK) rc = normalise(train, test, g.P, err);
    if (rc == HS_OK && o->level_targets) rc = add_level_targets(train, err);
    if (rc == HS_OK && o->level_targets) rc = add_level_targets(test, err);
    if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
    return rc;
}
