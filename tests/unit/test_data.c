/* test_data.c - the data layer's registry (every kind by name, whole entries, stable codes, the
 * schema's choices, near names hinted) and the Gaussian mixture (statistics at a fixed seed,
 * streams, counts, errors). The loaders have their own programs: test_idx.c (IDX files),
 * test_resize.c (resampling, normalisation), test_data_cifar.c (CIFAR-10, cc, cifar10) and
 * test_data_mnist.c (cm, mnist, cfm, fashion_mnist). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets.h"
#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "hsweep/schema.h"
#include "testing.h"

/* ================================================================ Gaussian mixture */

/* Class means of d (classes x dim, in double). */
static double *class_means(const hs_dataset *d) {
    double *m = calloc((size_t)d->classes * d->dim, sizeof *m);
    long long *n = calloc((size_t)d->classes, sizeof *n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    for (long long i = 0; i < d->n; i++) {
        n[d->y[i]]++;
        for (int k = 0; k < d->dim; k++) m[d->y[i] * d->dim + k] += d->x[i * d->dim + k];
    }
    for (int c = 0; c < d->classes; c++)
        for (int k = 0; k < d->dim; k++) m[c * d->dim + k] /= n[c] ? (double)n[c] : 1.0;
    free(n);
    return m;
}

static double distance(const double *a, const double *b, int dim) {
    double s = 0;
    for (int k = 0; k < dim; k++) s += (a[k] - b[k]) * (a[k] - b[k]);
    return sqrt(s);
}

/* Mean squared deviation of every value from its class mean: the noise variance. */
static double noise_variance(const hs_dataset *d, const double *means) {
    double s = 0;
    for (long long i = 0; i < d->n; i++)
        for (int k = 0; k < d->dim; k++) {
            double e = d->x[i * d->dim + k] - means[d->y[i] * d->dim + k];
            s += e * e;
        }
    return s / ((double)d->n * d->dim);
}

/* Tolerances below are 4-5 standard errors at 2000 or more samples per class. */
static void test_gaussian_simplex(void) {
    hs_data_opts o = {
        .kind = "gaussian", .seed = 7, .per_class = 2000, .classes = 4, .dim = 10, .separation = 3.0};
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test), HS_OK);
    CU_ASSERT(train.n == 8000 && train.dim == 10 && train.classes == 4);
    CU_ASSERT(train.channels == 0 && train.height == 0 && train.width == 0);
    CU_ASSERT_EQUAL(test.n, 8000);
    int order_ok = 1; /* class after class */
    for (long long i = 0; i < train.n; i++) order_ok &= train.y[i] == i / 2000 && test.y[i] == i / 2000;
    CU_ASSERT(order_ok);

    for (int s = 0; s < 2; s++) {
        const hs_dataset *d = s ? &test : &train;
        double *m = class_means(d);
        int far = 0; /* mean_c = 3 / sqrt(2) e_c */
        for (int c = 0; c < 4; c++)
            for (int k = 0; k < 10; k++) far += fabs(m[c * 10 + k] - (k == c ? 3.0 / sqrt(2.0) : 0.0)) > 0.1;
        CU_ASSERT_EQUAL(far, 0);
        for (int a = 0; a < 4; a++)
            for (int b = a + 1; b < 4; b++) CU_ASSERT_DOUBLE_EQUAL(distance(m + a * 10, m + b * 10, 10), 3.0, 0.15);
        CU_ASSERT_DOUBLE_EQUAL(noise_variance(d, m), 1.0, 0.03);
        free(m);
    }

    /* train and test are independent draws: their noise is uncorrelated, row by row */
    double *m = class_means(&train), cross = 0, tt = 0, ss = 0;
    for (long long i = 0; i < train.n; i++)
        for (int k = 0; k < 10; k++) {
            double a = train.x[i * 10 + k] - m[train.y[i] * 10 + k], b = test.x[i * 10 + k] - m[test.y[i] * 10 + k];
            cross += a * b;
            tt += a * a;
            ss += b * b;
        }
    free(m);
    CU_ASSERT(fabs(cross / sqrt(tt * ss)) < 0.02);
    hs_dataset_free(&train);
    hs_dataset_free(&test);
}

static void test_gaussian_low_dim(void) {
    /* p < K: a hexagon in dims 0-1 (radius = side for K = 6), the other dims pure noise */
    hs_data_opts o = {
        .kind = "gaussian", .seed = 3, .per_class = 4000, .classes = 6, .dim = 3, .separation = 2.0};
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test), HS_OK);
    double *m = class_means(&train);
    for (int c = 0; c < 6; c++) {
        CU_ASSERT_DOUBLE_EQUAL(distance(m + c * 3, m + (c + 1) % 6 * 3, 3), 2.0, 0.1);
        CU_ASSERT_DOUBLE_EQUAL(hypot(m[c * 3], m[c * 3 + 1]), 2.0, 0.07);
        CU_ASSERT_DOUBLE_EQUAL(m[c * 3 + 2], 0.0, 0.07);
    }
    CU_ASSERT_DOUBLE_EQUAL(m[0], 2.0, 0.07); /* class 0 at angle 0 */
    free(m);
    hs_dataset_free(&train);
    hs_dataset_free(&test);

    /* p = 1: a line centred on 0 */
    o = (hs_data_opts){
        .kind = "gaussian", .seed = 3, .per_class = 4000, .classes = 3, .dim = 1, .separation = 2.5};
    CU_ASSERT_EQUAL_FATAL(load(&o, &train, &test), HS_OK);
    m = class_means(&train);
    CU_ASSERT_DOUBLE_EQUAL(m[0], -2.5, 0.07);
    CU_ASSERT_DOUBLE_EQUAL(m[1], 0.0, 0.07);
    CU_ASSERT_DOUBLE_EQUAL(m[2], 2.5, 0.07);
    CU_ASSERT_DOUBLE_EQUAL(noise_variance(&train, m), 1.0, 0.05);
    free(m);
    hs_dataset_free(&train);
    hs_dataset_free(&test);
}

static void test_gaussian_streams_and_counts(void) {
    hs_data_opts o = {.kind = "gaussian", .seed = 7, .per_class = 100, .classes = 4, .dim = 5, .separation = 3.0};
    hs_dataset a = {0}, a_test = {0}, b = {0}, b_test = {0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &a, &a_test), HS_OK);
    CU_ASSERT_EQUAL_FATAL(load(&o, &b, &b_test), HS_OK);
    CU_ASSERT_EQUAL(memcmp(a.x, b.x, 400 * 5 * sizeof(float)), 0); /* deterministic */
    CU_ASSERT_EQUAL(memcmp(a_test.x, b_test.x, 400 * 5 * sizeof(float)), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a.x, a_test.x, 5 * sizeof(float)), 0);
    hs_dataset_free(&b);
    hs_dataset_free(&b_test);

    /* per class streams: 200 per class starts with the 100 per class draws of each class */
    o.per_class = 200;
    CU_ASSERT_EQUAL_FATAL(load(&o, &b, &b_test), HS_OK);
    for (int c = 0; c < 4; c++)
        CU_ASSERT_EQUAL(memcmp(b.x + c * 200 * 5, a.x + c * 100 * 5, 100 * 5 * sizeof(float)), 0);
    hs_dataset_free(&b);
    hs_dataset_free(&b_test);

    o.per_class = 100;
    o.seed = 8;
    CU_ASSERT_EQUAL_FATAL(load(&o, &b, &b_test), HS_OK);
    CU_ASSERT_NOT_EQUAL(memcmp(a.x, b.x, 5 * sizeof(float)), 0);
    hs_dataset_free(&a);
    hs_dataset_free(&a_test);
    hs_dataset_free(&b);
    hs_dataset_free(&b_test);

    /* n_test split evenly, the remainder to the first classes; imbalanced training counts */
    static const long long counts[3] = {5, 0, 2};
    o = (hs_data_opts){.kind = "gaussian",
                       .seed = 1,
                       .class_counts = counts,
                       .n_test = 11,
                       .classes = 3,
                       .dim = 2,
                       .separation = 1.0};
    CU_ASSERT_EQUAL_FATAL(load(&o, &a, &a_test), HS_OK);
    CU_ASSERT_EQUAL(a.n, 7);
    static const int32_t want_train[7] = {0, 0, 0, 0, 0, 2, 2}, want_test[11] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2};
    CU_ASSERT_EQUAL(memcmp(a.y, want_train, sizeof want_train), 0);
    CU_ASSERT_EQUAL_FATAL(a_test.n, 11);
    CU_ASSERT_EQUAL(memcmp(a_test.y, want_test, sizeof want_test), 0);
    hs_dataset_free(&a);
    hs_dataset_free(&a_test);
    o.n_test = 0; /* as many as the training set, class by class */
    CU_ASSERT_EQUAL_FATAL(load(&o, &a, &a_test), HS_OK);
    CU_ASSERT_EQUAL_FATAL(a_test.n, 7);
    CU_ASSERT_EQUAL(memcmp(a_test.y, want_train, sizeof want_train), 0);
    hs_dataset_free(&a);
    hs_dataset_free(&a_test);

    o = (hs_data_opts){.kind = "gaussian", .seed = 1, .per_class = 10, .classes = 1, .dim = 2, .separation = 1.0};
    expect_load_fail(&o, HS_ERR_VALUE, "data.classes = 1: a mixture needs >= 2 classes", NULL);
    o.classes = 3;
    o.dim = 0;
    expect_load_fail(&o, HS_ERR_VALUE, "data.dim = 0: must be >= 1", NULL);
    o.dim = 2;
    o.separation = -1.0;
    expect_load_fail(&o, HS_ERR_VALUE, "data.separation = -1: must be finite and >= 0", NULL);
    o.separation = NAN;
    expect_load_fail(&o, HS_ERR_VALUE, "data.separation = nan", NULL);
    o.separation = 1.0;
    o.per_class = 100000000;
    o.dim = 100;
    expect_load_fail(&o, HS_ERR_LIMIT, "more than 2^31 values", NULL);
}


/* The registry: every kind found by its name, whole entries, distinct stable codes, the schema's
 * choices in table order, unknown names refused with a hint when one is near. */
static void test_registry(void) {
    size_t n = hs_data_kind_count();
    CU_ASSERT(n >= 14);
    CU_ASSERT_PTR_NULL(hs_data_kind_at(n));
    char choices[1024] = "";
    for (size_t i = 0; i < n; i++) {
        const hs_data_kind *k = hs_data_kind_at(i);
        CU_ASSERT_PTR_EQUAL(hs_data_kind_find(k->name), k);
        CU_ASSERT(k->shape && k->load && k->doc && k->doc[0]);
        for (size_t j = 0; j < i; j++) {
            CU_ASSERT(hs_data_kind_at(j)->code != k->code);
            CU_ASSERT(strcmp(hs_data_kind_at(j)->name, k->name) != 0);
        }
        snprintf(choices + strlen(choices), sizeof choices - strlen(choices), "%s%s", i ? "|" : "", k->name);
        HS_ASSERT_CONTAINS(hs_data_kind_doc(), k->doc);
    }
    CU_ASSERT_STRING_EQUAL(hs_data_kind_choices(), choices);
    const hs_key *key = hs_schema_key((size_t)hs_schema_find("data.kind"));
    CU_ASSERT_STRING_EQUAL(key->choices, choices);
    CU_ASSERT_STRING_EQUAL(key->doc, hs_data_kind_doc());
    /* the codes checkpoints hash: the order of the enum they replaced */
    static const char *const coded[] = {"cfm", "cm", "cc", "fashion_mnist", "cifar10", "gaussian", "rhm",
                                        "srhm", "hierarchy", "partition", "xor", "gated_toy", "gated_fmnist", "mnist"};
    for (int c = 0; c < 14; c++) CU_ASSERT_EQUAL(hs_data_kind_find(coded[c])->code, c);
    hs_error err = {0};
    const hs_data_kind *k = NULL;
    CU_ASSERT_EQUAL(hs_data_kind_lookup("gated_toy", &k, &err), HS_OK);
    CU_ASSERT(k && k->flags & HS_DATA_KIND_GATED_THEORY);
    CU_ASSERT_EQUAL(hs_data_kind_lookup("mnsit", &k, &err), HS_ERR_SPEC);
    CU_ASSERT_PTR_NULL(k);
    HS_ASSERT_CONTAINS(err.msg, "data.kind = mnsit: no such data kind");
    HS_ASSERT_CONTAINS(err.hint, "did you mean mnist?");
    err = (hs_error){0};
    CU_ASSERT_EQUAL(hs_data_kind_lookup("imagenet", &k, &err), HS_ERR_SPEC);
    CU_ASSERT_STRING_EQUAL(err.hint, "");
    CU_ASSERT_PTR_NULL(hs_data_kind_find(NULL));
    /* what callers outside data/ ask */
    hs_data_opts o = {.kind = "srhm", .s = 2, .s0 = 1};
    CU_ASSERT_EQUAL(hs_data_patch(&o), 4);
    hs_rhm_opts ro;
    CU_ASSERT_EQUAL(hs_data_rules(&o, &ro), 1);
    o.kind = "rhm", o.sparsity = HS_RHM_SPARSITY_B;
    CU_ASSERT(hs_data_rules(&o, &ro) == 1 && ro.sparsity == HS_RHM_SPARSITY_A);
    o.kind = "hierarchy";
    CU_ASSERT(hs_data_patch(&o) == 0 && hs_data_rules(&o, &ro) == 0);
    CU_ASSERT(hs_data_kind_has(&o, HS_DATA_KIND_LABEL_LEVELS) && !hs_data_kind_has(&o, HS_DATA_KIND_RICH_LAZY));
    o.kind = "nope";
    CU_ASSERT(!hs_data_kind_has(&o, 0) && hs_data_patch(&o) == 0);
    CU_ASSERT_EQUAL(hs_data_check(&o, &err), HS_ERR_SPEC);
    CU_ASSERT_EQUAL(hs_data_check_files(&o, &err), HS_ERR_SPEC);
}


int main(void) {
    static const hs_test tests[] = {
        {"registry: lookup, hints, codes, the schema's choices", test_registry},
        {"gaussian: simplex means, unit noise, independent test set", test_gaussian_simplex},
        {"gaussian: circle and line when p < K", test_gaussian_low_dim},
        {"gaussian: streams, counts, n_test, errors", test_gaussian_streams_and_counts},
        {NULL, NULL},
    };
    return hs_test_main("data", tests);
}
