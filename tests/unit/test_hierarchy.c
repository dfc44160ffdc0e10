/* test_hierarchy.c - the datasets of the learning-dynamics experiments (src/data/hierarchy.c,
 * src/data/tasks.c, the shapes of src/data/dataset.c); the forest sampler is in test_forest.c.
 *   hierarchy / partition: a small set rebuilt from the documented recipe (graph numbering,
 *     streams, split, dense normalisation) equals hs_data_load's to float rounding; variance of
 *     example differences against tree distance; the partition has no structure above the leaves;
 *     determinism; errors.
 *   xor, gated_toy, gated_fmnist: rows, targets and the pathway split by hand (the toy's singular
 *     values against the reference note), Fashion-MNIST items against cfm.
 *   hs_data_shape_of: equal to what hs_data_load builds, for every kind that loads here. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "testing.h"

/* ================================================================ helpers */

static hs_data_opts hierarchy_opts(int b, int V, long long per_leaf, int features) {
    return (hs_data_opts){.kind = "hierarchy", .seed = 7, .branching = b, .levels = V, .per_leaf = per_leaf,
                          .features = features, .sigma = 5, .beta = 1.6103e-4, .test_fraction = 0.2};
}

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    hs_code rc = hs_data_load(o, train, test, err);
    if (rc != HS_OK) fprintf(stderr, "\n  hs_data_load: %s\n", err->msg);
    return rc;
}

/* ================================================================ hierarchy: the recipe */

/* Rebuild o's data from the documented recipe with dense computations, and compare. */
static void check_recipe(const hs_data_opts *o) {
    hs_error err = {0};
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(load(o, &train, &test, &err), HS_OK);
    int b = o->branching, V = o->levels, P = o->features, tree = !strcmp(o->kind, "hierarchy");
    int C = 1;
    for (int l = 0; l < V; l++) C *= b;
    int per = (int)o->per_leaf, E = C * per;
    int n = E + C;
    if (tree)
        for (int c = C; c > 1; c /= b) n += c / b;
    /* graph in the documented numbering */
    int32_t *parent = malloc((size_t)n * sizeof *parent);
    double *w = malloc((size_t)n * sizeof *w), *s = malloc((size_t)n * sizeof *s);
    double *diag = malloc((size_t)n * sizeof *diag), *off = malloc((size_t)n * sizeof *off);
    double *x = malloc((size_t)n * sizeof *x), *raw = malloc((size_t)E * P * sizeof *raw);
    CU_ASSERT_FATAL(parent && w && s && diag && off && x && raw);
    for (int e = 0; e < E; e++) parent[e] = E + e / per, s[e] = 1.0 / (o->sigma * o->sigma);
    int start = E, count = C;
    for (int i = E; i < n; i++) s[i] = 0;
    if (!tree)
        for (int c = 0; c < C; c++) parent[E + c] = -1;
    else {
        for (; count > 1; start += count, count /= b)
            for (int k = 0; k < count; k++) parent[start + k] = start + count + k / b;
        parent[start] = -1;
        CU_ASSERT_EQUAL(start, n - 1);
    }
    /* features */
    for (int f = 0; f < P; f++) {
        hs_rng rng;
        hs_rng_init(&rng, o->seed, hs_rng_stream(HS_STREAM_DATA, (uint32_t)f));
        double u;
        do u = hs_rng_uniform(&rng);
        while (u == 0);
        for (int i = 0; i < n; i++) w[i] = 1.0 / (-o->beta * log(u));
        CU_ASSERT_EQUAL_FATAL(hs_forest_cholesky(n, parent, w, s, diag, off, &err), HS_OK);
        for (int i = 0; i < n; i++) x[i] = hs_rng_normal(&rng);
        hs_forest_solve(n, parent, diag, off, x);
        for (int e = 0; e < E; e++) raw[(size_t)e * P + f] = (float)x[e]; /* float, as stored */
    }
    /* dense normalisation: the E x E covariance of the examples across features */
    double mean = 0, maxc = -INFINITY, maxdiag = -INFINITY;
    for (size_t i = 0; i < (size_t)E * P; i++) mean += raw[i];
    mean /= (double)E * P;
    double *m = calloc((size_t)E, sizeof *m);
    for (int a = 0; a < E; a++) {
        for (int f = 0; f < P; f++) m[a] += raw[(size_t)a * P + f];
        m[a] /= P;
    }
    for (int a = 0; a < E; a++)
        for (int c2 = 0; c2 < E; c2++) {
            double cab = 0;
            for (int f = 0; f < P; f++) cab += (raw[(size_t)a * P + f] - m[a]) * (raw[(size_t)c2 * P + f] - m[c2]);
            cab /= P;
            if (cab > maxc) maxc = cab;
            if (a == c2 && cab > maxdiag) maxdiag = cab;
        }
    CU_ASSERT_DOUBLE_EQUAL(maxc, maxdiag, 1e-12 * maxc); /* Cauchy-Schwarz: the largest entry is diagonal */
    /* the split and the comparison */
    long long tpl = (long long)floor(per * o->test_fraction + 0.5), rtr = 0, rte = 0;
    double worst = 0;
    uint32_t *order = malloc((size_t)per * sizeof *order);
    for (int c = 0; c < C; c++) {
        hs_rng rng;
        hs_rng_init(&rng, o->seed, hs_rng_stream(HS_STREAM_TEST, (uint32_t)c));
        for (int j = 0; j < per; j++) order[j] = (uint32_t)j;
        hs_rng_permute(&rng, order, (size_t)per);
        for (int j = 0; j < per; j++) {
            int is_test = 0;
            for (long long k = 0; k < tpl; k++) is_test |= order[k] == (uint32_t)j;
            hs_dataset *d = is_test ? &test : &train;
            long long r = is_test ? rte++ : rtr++;
            CU_ASSERT_EQUAL(d->y[r], c);
            for (int f = 0; f < P; f++) {
                double want = (raw[(size_t)(c * per + j) * P + f] - mean) / sqrt(maxc);
                double diff = fabs(d->x[(size_t)r * P + f] - want);
                if (diff > worst) worst = diff;
            }
        }
    }
    CU_ASSERT_EQUAL(rtr, train.n);
    CU_ASSERT_EQUAL(rte, test.n);
    if (worst > 1e-5) fprintf(stderr, "\n  recipe and hs_data_load differ by %g\n", worst);
    CU_ASSERT(worst < 1e-5); /* values are O(1): float rounding */
    CU_ASSERT_EQUAL(train.levels, tree ? V : 1);
    CU_ASSERT_EQUAL(train.branching, tree ? b : 0);
    CU_ASSERT_EQUAL(test.levels, train.levels);
    CU_ASSERT_EQUAL(train.classes, C);
    CU_ASSERT_PTR_NULL(train.t);
    free(order);
    free(m);
    free(parent), free(w), free(s), free(diag), free(off), free(x), free(raw);
    hs_dataset_free(&train);
    hs_dataset_free(&test);
}

static void test_hierarchy_recipe(void) {
    hs_data_opts o = hierarchy_opts(2, 2, 5, 40);
    check_recipe(&o); /* 4 leaves x 5 examples, 1 test per leaf */
    o = hierarchy_opts(3, 2, 4, 30);
    o.test_fraction = 0.5;
    o.beta = 0.0923671;
    check_recipe(&o);
    o.kind = "partition";
    check_recipe(&o);
}

/* ================================================================ hierarchy: structure */

/* mean over features of (x_a - x_b)^2, rows a and b of d */
static double diff_var(const hs_dataset *d, long long a, long long b) {
    double v = 0;
    for (int f = 0; f < d->dim; f++) {
        double t = (double)d->x[(size_t)a * d->dim + f] - d->x[(size_t)b * d->dim + f];
        v += t * t;
    }
    return v / d->dim;
}

static void test_tree_distance(void) {
    /* b = 2, V = 6, sigma and beta of the paper, 2 examples per leaf, 3000 features, no test set:
     * row 2c + j is example j of leaf c. Leaves c and c' meet k levels up when c >> k == c' >> k,
     * so a pair of examples is 2 (k + 1) edges apart: 2 (same leaf), 4 (siblings), ..., 14
     * (opposite halves); Var(x_a - x_b) is close to edges x E[l] (effective resistance). */
    hs_data_opts o = hierarchy_opts(2, 6, 2, 3000);
    o.test_fraction = 0;
    hs_error err = {0};
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(train.n, 128);
    CU_ASSERT_EQUAL(test.n, 0);
    double var[7] = {0};
    int pairs[7] = {0};
    for (int a = 0; a < 128; a++)
        for (int b2 = a + 1; b2 < 128; b2++) {
            int ca = a / 2, cb = b2 / 2, k = 0;
            while ((ca >> k) != (cb >> k)) k++; /* levels up to the meeting node: 0..6 */
            var[k] += diff_var(&train, a, b2);
            pairs[k]++;
        }
    for (int k = 0; k <= 6; k++) var[k] /= pairs[k];
    for (int k = 1; k <= 6; k++) {
        double ratio = var[k] / var[0], want = (double)(k + 1); /* (2 (k + 1) edges) / (2 edges) */
        if (fabs(ratio / want - 1) > 0.03)
            fprintf(stderr, "\n  distance %d: ratio %g, expected about %g\n", k, ratio, want);
        CU_ASSERT(fabs(ratio / want - 1) < 0.03); /* measured within 1% at this seed */
        CU_ASSERT(var[k] > var[k - 1]);
    }
    hs_dataset_free(&train);
    hs_dataset_free(&test);
}

static void test_partition_flat(void) {
    /* the control: examples of different classes sit in different components, so their difference
     * has the same variance whatever the two classes (about 2 sigma^2 / per_leaf before scaling),
     * far above the within-class 2 E[l] */
    hs_data_opts o = hierarchy_opts(2, 6, 2, 3000);
    o.kind = "partition";
    o.test_fraction = 0;
    hs_error err = {0};
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test, &err), HS_OK);
    CU_ASSERT_EQUAL(train.levels, 1);
    CU_ASSERT_EQUAL(train.classes, 64);
    double var[7] = {0}, lo = INFINITY, hi = 0;
    int pairs[7] = {0};
    for (int a = 0; a < 128; a++)
        for (int b2 = a + 1; b2 < 128; b2++) {
            int ca = a / 2, cb = b2 / 2, k = 0;
            while ((ca >> k) != (cb >> k)) k++;
            var[k] += diff_var(&train, a, b2);
            pairs[k]++;
        }
    for (int k = 0; k <= 6; k++) var[k] /= pairs[k];
    for (int k = 1; k <= 6; k++) {
        if (var[k] < lo) lo = var[k];
        if (var[k] > hi) hi = var[k];
    }
    if (hi / lo > 1.05) fprintf(stderr, "\n  partition: between-class variances from %g to %g\n", lo, hi);
    CU_ASSERT(hi / lo < 1.05); /* "siblings" are no closer than "opposite halves" */
    CU_ASSERT(var[0] < 1e-3 * lo);
    hs_dataset_free(&train);
    hs_dataset_free(&test);
}

static void test_hierarchy_determinism(void) {
    hs_data_opts o = hierarchy_opts(2, 3, 10, 50);
    hs_error err = {0};
    hs_dataset a = {0}, at = {0}, b = {0}, bt = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &a, &at, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(load(&o, &b, &bt, &err), HS_OK);
    CU_ASSERT_EQUAL(a.n, 64);
    CU_ASSERT_EQUAL(at.n, 16);
    CU_ASSERT_EQUAL(memcmp(a.x, b.x, (size_t)a.n * a.dim * sizeof *a.x), 0);
    CU_ASSERT_EQUAL(memcmp(at.x, bt.x, (size_t)at.n * at.dim * sizeof *at.x), 0);
    CU_ASSERT_EQUAL(memcmp(a.y, b.y, (size_t)a.n * sizeof *a.y), 0);
    hs_dataset_free(&b);
    hs_dataset_free(&bt);
    o.seed = 8;
    CU_ASSERT_EQUAL_FATAL(load(&o, &b, &bt, &err), HS_OK);
    long long same = 0;
    for (size_t i = 0; i < (size_t)a.n * a.dim; i++) same += a.x[i] == b.x[i];
    CU_ASSERT(same < 10);
    hs_dataset_free(&a), hs_dataset_free(&at), hs_dataset_free(&b), hs_dataset_free(&bt);
}

/* hs_data_load and hs_data_shape_of both refuse o with code, naming `needle`. */
static void refused(hs_data_opts o, hs_code code, const char *needle) {
    hs_error err = {0};
    hs_dataset train = {0}, test = {0};
    hs_data_shape sh;
    CU_ASSERT_EQUAL(hs_data_load(&o, &train, &test, &err), code);
    HS_ASSERT_CONTAINS(err.msg, needle);
    CU_ASSERT_PTR_NULL(train.x);
    CU_ASSERT_PTR_NULL(test.x);
    err = (hs_error){0};
    CU_ASSERT_EQUAL(hs_data_shape_of(&o, &sh, &err), code);
    HS_ASSERT_CONTAINS(err.msg, needle);
}

static void test_hierarchy_errors(void) {
    hs_data_opts o = hierarchy_opts(2, 6, 1000, 936), e;
    e = o, e.levels = 0, refused(e, HS_ERR_VALUE, "data.levels = 0");
    e = o, e.branching = 1, refused(e, HS_ERR_VALUE, "data.branching = 1");
    e = o, e.per_leaf = 0, refused(e, HS_ERR_VALUE, "data.per_leaf = 0");
    e = o, e.features = 1, refused(e, HS_ERR_VALUE, "data.features = 1");
    e = o, e.sigma = 0, refused(e, HS_ERR_VALUE, "data.sigma = 0");
    e = o, e.beta = -1, refused(e, HS_ERR_VALUE, "data.beta = -1");
    e = o, e.beta = INFINITY, refused(e, HS_ERR_VALUE, "data.beta = inf");
    e = o, e.test_fraction = 1, refused(e, HS_ERR_VALUE, "data.test_fraction = 1");
    e = o, e.per_leaf = 2, e.test_fraction = 0.8, refused(e, HS_ERR_VALUE, "holds out all 2 examples");
    e = o, e.n_test = 100, refused(e, HS_ERR_VALUE, "data.n_test = 100");
    e = o, e.levels = 40, refused(e, HS_ERR_LIMIT, "2^40 leaves");
    e = o, e.kind = "partition", e.per_leaf = 1ll << 40, refused(e, HS_ERR_LIMIT, "more than 2^30");
    e = o, e.features = 100000, refused(e, HS_ERR_LIMIT, "more than 2^31 values");
}

/* ================================================================ xor */

static void test_xor(void) {
    hs_data_opts o = {.kind = "xor", .seed = 3, .repeats = 1, .noise = 0.1, .test_fraction = 0.2};
    hs_error err = {0};
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test, &err), HS_OK);
    static const float x[8] = {-1, -1, -1, 1, 1, -1, 1, 1}, t[4] = {-1, 1, 1, -1};
    static const int32_t y[4] = {0, 1, 1, 0};
    for (int k = 0; k < 2; k++) {
        const hs_dataset *d = k ? &test : &train;
        CU_ASSERT_EQUAL_FATAL(d->n, 4);
        CU_ASSERT_EQUAL(d->dim, 2);
        CU_ASSERT_EQUAL(d->t_dim, 1);
        CU_ASSERT_EQUAL(d->classes, 2);
        CU_ASSERT_EQUAL(memcmp(d->x, x, sizeof x), 0); /* exact: noise is unused with one copy */
        CU_ASSERT_EQUAL(memcmp(d->t, t, sizeof t), 0);
        CU_ASSERT_EQUAL(memcmp(d->y, y, sizeof y), 0);
    }
    hs_dataset_free(&train);
    hs_dataset_free(&test);

    /* the noisy variant of the reference: 50 copies, noise 0.1, 80/20 */
    o.repeats = 50;
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(train.n, 160);
    CU_ASSERT_EQUAL_FATAL(test.n, 40);
    double sum = 0, sq = 0;
    for (int k = 0; k < 2; k++) {
        const hs_dataset *d = k ? &test : &train;
        long long per = d->n / 4;
        for (long long r = 0; r < d->n; r++) {
            int p = (int)(r / per); /* point after point */
            CU_ASSERT_EQUAL(d->t[r], t[p]);
            CU_ASSERT_EQUAL(d->y[r], y[p]);
            for (int c = 0; c < 2; c++) {
                double n = d->x[2 * r + c] - x[2 * p + c];
                CU_ASSERT(fabs(n) < 0.6);
                sum += n, sq += n * n;
            }
        }
    }
    double mean = sum / 400, std = sqrt(sq / 400 - mean * mean);
    CU_ASSERT(fabs(mean) < 0.02);          /* 4 standard errors of 0.1 / sqrt(400) */
    CU_ASSERT(fabs(std / 0.1 - 1) < 0.15); /* ~4 standard errors of a 400-sample std */
    hs_dataset a = {0}, at = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &a, &at, &err), HS_OK);
    CU_ASSERT_EQUAL(memcmp(a.x, train.x, 160 * 2 * sizeof(float)), 0);
    hs_dataset_free(&a), hs_dataset_free(&at);
    o.seed = 4;
    CU_ASSERT_EQUAL_FATAL(load(&o, &a, &at, &err), HS_OK);
    CU_ASSERT_NOT_EQUAL(memcmp(a.x, train.x, 160 * 2 * sizeof(float)), 0);
    hs_dataset_free(&a), hs_dataset_free(&at);
    hs_dataset_free(&train);
    hs_dataset_free(&test);

    hs_data_opts e = o;
    e.repeats = 0, refused(e, HS_ERR_VALUE, "data.repeats = 0");
    e = o, e.noise = -1, refused(e, HS_ERR_VALUE, "data.noise = -1");
    e = o, e.test_fraction = 0.999, refused(e, HS_ERR_VALUE, "holds out every copy");
    e = o, e.n_test = 3, refused(e, HS_ERR_VALUE, "data.n_test = 3");
}

/* ================================================================ routing tasks */

static void test_gated_toy(void) {
    hs_data_opts o = {.kind = "gated_toy", .modules = 7, .active = 4};
    hs_error err = {0};
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(train.n, 4 * 7 * 4);
    CU_ASSERT_EQUAL_FATAL(test.n, 4 * 7 * 3);
    CU_ASSERT_EQUAL(train.dim, 6);
    CU_ASSERT_EQUAL(train.t_dim, 7);
    CU_ASSERT_EQUAL(train.classes, 4);
    CU_ASSERT_EQUAL(train.modules, 7);
    CU_ASSERT_EQUAL(test.modules, 7);
    static const float Y[4][7] = {
        {6, 4, 0, 3, 0, 0, 0}, {6, 4, 0, 0, 3, 0, 0}, {6, 0, 4, 0, 0, 3, 0}, {6, 0, 4, 0, 0, 0, 3}};
    /* by hand: input 0 trains outputs 6, 0, 1, 2 (offsets -1..2 mod 7), in the order 0, 1, 2, 6 */
    static const float row0[6] = {1, 0, 0, 0, 0, 0}, row12[6] = {1, 0, 0, 0, 0, 6}, trow0[6] = {1, 0, 0, 0, 0, 3};
    CU_ASSERT_EQUAL(memcmp(train.x, row0, sizeof row0), 0);
    CU_ASSERT_EQUAL(memcmp(train.x + 12 * 6, row12, sizeof row12), 0);
    CU_ASSERT_EQUAL(memcmp(test.x, trow0, sizeof trow0), 0);
    /* every row: the pathway in its set, ordered by (i, j, item), t = Y[item] */
    long long seen[2] = {0, 0};
    int last[2] = {-1, -1};
    for (int k = 0; k < 2; k++) {
        const hs_dataset *d = k ? &test : &train;
        for (long long r = 0; r < d->n; r++) {
            const float *x = d->x + r * 6;
            int item = d->y[r], i = (int)x[4], j = (int)x[5], off = ((j - i) % 7 + 7) % 7;
            int active = off <= 2 || off == 6;
            CU_ASSERT_EQUAL(active, k == 0);
            for (int c = 0; c < 4; c++) CU_ASSERT_EQUAL(x[c], c == item ? 1.0f : 0.0f);
            CU_ASSERT_EQUAL(memcmp(d->t + r * 7, Y[item], sizeof Y[item]), 0);
            int key = (i * 7 + j) * 4 + item;
            CU_ASSERT(key > last[k]);
            last[k] = key;
            seen[k]++;
        }
    }
    CU_ASSERT_EQUAL(seen[0] + seen[1], 4 * 49);
    /* Sigma_yx = Y^T X = Y^T: singular values 13.601, 6.403, 3, 3 (the reference note) */
    double A[4 * 7], sv[4], sup[3];
    for (int i = 0; i < 28; i++) A[i] = Y[i / 7][i % 7];
    CU_ASSERT_EQUAL_FATAL(LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', 4, 7, A, 7, sv, NULL, 1, NULL, 1, sup), 0);
    CU_ASSERT_DOUBLE_EQUAL(sv[0], sqrt(185.0), 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(sv[0], 13.601, 5e-4);
    CU_ASSERT_DOUBLE_EQUAL(sv[1], 6.403, 5e-4);
    CU_ASSERT_DOUBLE_EQUAL(sv[2], 3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(sv[3], 3, 1e-12);
    hs_dataset_free(&train);
    hs_dataset_free(&test);

    /* K = M: every pathway trained, an empty test set; K even and odd both split as documented */
    o.active = 7;
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test, &err), HS_OK);
    CU_ASSERT_EQUAL(train.n, 4 * 49);
    CU_ASSERT_EQUAL(test.n, 0);
    CU_ASSERT_PTR_NULL(test.x);
    CU_ASSERT_EQUAL(test.dim, 6);
    hs_dataset_free(&train);
    hs_dataset_free(&test);
    o.active = 3; /* offsets -1..1 */
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test, &err), HS_OK);
    CU_ASSERT_EQUAL(train.n, 4 * 7 * 3);
    CU_ASSERT_EQUAL(train.x[4 * 6 * 2 + 5], 6.0f); /* input 0: outputs 0, 1, 6 */
    hs_dataset_free(&train);
    hs_dataset_free(&test);

    hs_data_opts e = o;
    e.active = 8, refused(e, HS_ERR_VALUE, "data.active = 8 with data.modules = 7");
    e = o, e.active = 0, refused(e, HS_ERR_VALUE, "data.active = 0");
    e = o, e.modules = 0, refused(e, HS_ERR_VALUE, "data.modules = 0");
    e = o, e.modules = 5000, refused(e, HS_ERR_LIMIT, "data.modules = 5000");
}

static void test_gated_fmnist(void) {
    hs_data_opts o = {.kind = "gated_fmnist", .seed = 5, .per_class = 2, .modules = 3, .active = 2};
    hs_error err = {0};
    hs_dataset train = {0}, test = {0}, items = {0}, cfm_test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test, &err), HS_OK);
    hs_data_opts c = o;
    c.kind = "cfm";
    c.n_test = 1;
    CU_ASSERT_EQUAL_FATAL(load(&c, &items, &cfm_test, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(items.n, 20);
    CU_ASSERT_EQUAL_FATAL(train.n, 20 * 3 * 2);
    CU_ASSERT_EQUAL_FATAL(test.n, 20 * 3 * 1);
    CU_ASSERT_EQUAL(train.dim, 102);
    CU_ASSERT_EQUAL(train.t_dim, 10);
    CU_ASSERT_EQUAL(train.classes, 10);
    CU_ASSERT_EQUAL(train.modules, 3);
    /* the documented permutations */
    uint32_t pi[3][100], sigma[3][10];
    for (int m = 0; m < 3; m++) {
        for (int k = 0; k < 100; k++) pi[m][k] = (uint32_t)k;
        for (int k = 0; k < 10; k++) sigma[m][k] = (uint32_t)k;
        if (m == 0) continue;
        hs_rng rng;
        hs_rng_init(&rng, 5, hs_rng_stream(HS_STREAM_DATA, HS_GATED_PIXEL_STREAM + (uint32_t)m));
        hs_rng_permute(&rng, pi[m], 100);
        hs_rng_init(&rng, 5, hs_rng_stream(HS_STREAM_DATA, HS_GATED_LABEL_STREAM + (uint32_t)m));
        hs_rng_permute(&rng, sigma[m], 10);
    }
    int moved = 0;
    for (int k = 0; k < 10; k++) moved += sigma[1][k] != (uint32_t)k;
    CU_ASSERT(moved > 0);
    /* every row by hand: (i, j, item) order; M = 3, K = 2: input i trains outputs i and i + 1 */
    long long r_set[2] = {0, 0};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            int active = j == i || j == (i + 1) % 3;
            hs_dataset *d = active ? &train : &test;
            for (long long it = 0; it < 20; it++) {
                long long r = r_set[!active]++;
                const float *x = d->x + r * 102, *t = d->t + r * 10;
                int bad = 0;
                for (int p = 0; p < 100; p++) bad += x[p] != items.x[it * 100 + pi[i][p]];
                CU_ASSERT_EQUAL(bad, 0);
                CU_ASSERT_EQUAL(x[100], (float)i);
                CU_ASSERT_EQUAL(x[101], (float)j);
                int label = (int)sigma[j][items.y[it]];
                CU_ASSERT_EQUAL(d->y[r], label);
                for (int k = 0; k < 10; k++) CU_ASSERT_EQUAL(t[k], k == label ? 1.0f : 0.0f);
            }
        }
    CU_ASSERT_EQUAL(r_set[0], train.n);
    CU_ASSERT_EQUAL(r_set[1], test.n);
    /* module 0 is the identity: the first rows are the cfm items themselves */
    for (int p = 0; p < 100; p++) CU_ASSERT_EQUAL(train.x[p], items.x[p]);
    hs_dataset_free(&train), hs_dataset_free(&test), hs_dataset_free(&items), hs_dataset_free(&cfm_test);
    hs_data_opts e = o;
    e.active = 4, refused(e, HS_ERR_VALUE, "data.active = 4 with data.modules = 3");
    e = o, e.per_class = 0, refused(e, HS_ERR_VALUE, "data.per_class = 0");
    /* 6000 items x 4096 modules x 2 active: refused before a file is read or anything allocated */
    e = o, e.per_class = 600, e.modules = 4096, e.path = "/nonexistent";
    refused(e, HS_ERR_LIMIT, "more than 2^31 values");
}

/* ================================================================ shapes */

static void check_shape(hs_data_opts o) {
    hs_error err = {0};
    hs_data_shape sh;
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(hs_data_shape_of(&o, &sh, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test, &err), HS_OK);
    int ok = sh.dim == train.dim && sh.classes == train.classes && sh.t_dim == train.t_dim && sh.n_train == train.n &&
             sh.n_test == test.n && sh.levels == train.levels && sh.branching == train.branching &&
             sh.modules == train.modules && sh.channels == train.channels && test.dim == train.dim &&
             test.t_dim == train.t_dim;
    if (!ok)
        fprintf(stderr, "\n  kind %s: shape %d %d %d %lld %lld %d %d %d, loaded %d %d %d %lld %lld %d %d %d\n",
                o.kind, sh.dim, sh.classes, sh.t_dim, sh.n_train, sh.n_test, sh.levels, sh.branching, sh.modules,
                train.dim, train.classes, train.t_dim, train.n, test.n, train.levels, train.branching, train.modules);
    CU_ASSERT(ok);
    hs_dataset_free(&train);
    hs_dataset_free(&test);
}

static void test_shapes(void) {
    check_shape(hierarchy_opts(2, 3, 10, 20));
    hs_data_opts o = hierarchy_opts(3, 2, 7, 12);
    o.kind = "partition";
    check_shape(o);
    check_shape((hs_data_opts){.kind = "xor", .repeats = 1});
    check_shape((hs_data_opts){.kind = "xor", .repeats = 9, .noise = 0.1, .test_fraction = 0.3});
    check_shape((hs_data_opts){.kind = "gated_toy", .modules = 5, .active = 2});
    check_shape((hs_data_opts){.kind = "gated_fmnist", .seed = 1, .per_class = 1, .modules = 2, .active = 1});
    check_shape((hs_data_opts){.kind = "gaussian", .seed = 1, .per_class = 5, .classes = 3, .dim = 4});
    check_shape(
        (hs_data_opts){.kind = "gaussian", .seed = 1, .per_class = 5, .classes = 3, .dim = 4, .n_test = 7});
    long long counts[10] = {1, 2, 0, 3, 1, 1, 1, 1, 1, 4};
    check_shape((hs_data_opts){.kind = "cfm", .seed = 1, .class_counts = counts});
    check_shape((hs_data_opts){.kind = "cfm", .seed = 1, .per_class = 3, .n_test = 50});
    check_shape((hs_data_opts){.kind = "fashion_mnist", .seed = 1, .per_class = 1, .n_test = 5});
    check_shape((hs_data_opts){.kind = "rhm", .seed = 1, .v = 4, .s = 2, .L = 2, .n_train = 10, .rule_seed = 2});
    check_shape((hs_data_opts){.kind = "srhm", .seed = 1, .v = 3, .s = 2, .L = 2, .s0 = 1, .n_train = 10,
                               .rule_seed = 2, .sparsity = HS_RHM_SPARSITY_B});
    /* options alone: the full test split, cifar10's dims, and the errors load would give */
    hs_error err = {0};
    hs_data_shape sh;
    CU_ASSERT_EQUAL(hs_data_shape_of(&(hs_data_opts){.kind = "cfm", .per_class = 100}, &sh, &err), HS_OK);
    CU_ASSERT(sh.dim == 100 && sh.classes == 10 && sh.n_train == 1000 && sh.n_test == 10000 && sh.t_dim == 0);
    CU_ASSERT_EQUAL(
        hs_data_shape_of(&(hs_data_opts){.kind = "cifar10", .per_class = 2, .path = "/x"}, &sh, &err), HS_OK);
    CU_ASSERT(sh.dim == 3072 && sh.n_train == 20);
    CU_ASSERT_EQUAL(hs_data_shape_of(&(hs_data_opts){.kind = "cc", .per_class = 2}, &sh, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "needs data.path");
    refused((hs_data_opts){.kind = "cfm", .per_class = 0}, HS_ERR_VALUE, "data.per_class = 0");
    refused((hs_data_opts){.kind = "gaussian", .per_class = 1, .classes = 1, .dim = 2}, HS_ERR_VALUE,
            "data.classes = 1");
    refused((hs_data_opts){.kind = "rhm", .v = 1, .s = 2, .L = 2, .n_train = 10}, HS_ERR_VALUE, "data.v = 1");
    refused((hs_data_opts){.kind = "rhm", .v = 2, .s = 2, .L = 1, .n_train = 100}, HS_ERR_VALUE, "P_max");
}

int main(void) {
    static const hs_test tests[] = {
        {"hierarchy and partition rebuilt from the documented recipe", test_hierarchy_recipe},
        {"hierarchy: difference variance grows with tree distance", test_tree_distance},
        {"partition: no structure above the leaves", test_partition_flat},
        {"hierarchy: same seed same bytes, other seed other data", test_hierarchy_determinism},
        {"hierarchy: errors name the key", test_hierarchy_errors},
        {"xor: the 4 points, the noisy split, errors", test_xor},
        {"gated_toy: rows, targets, pathway split, singular values", test_gated_toy},
        {"gated_fmnist: permuted cfm items on the pathways", test_gated_fmnist},
        {"hs_data_shape_of equals hs_data_load, and its errors", test_shapes},
        {NULL, NULL},
    };
    return hs_test_main("hierarchy", tests);
}
