/* test_srhm_sets.c - the (S)RHM's data sets: nested, disjoint, deterministic per seed, also when
 * they exhaust P_max and beyond; the encoding (one-hot, empty columns, whitening, shapes); and
 * hs_data_load of the rhm and srhm kinds. */
#include <math.h>
#include <stdlib.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "srhm_helpers.h"
#include "testing.h"

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
        {"data sets: nested, disjoint, deterministic, seeds", test_nested_disjoint_deterministic},
        {"data sets: exhausting P_max, and beyond", test_exhausting_pmax},
        {"encoding: one-hot, empty columns, whitening, shapes", test_encoding},
        {"hs_data_load: rhm and srhm", test_data_load},
        {NULL, NULL},
    };
    return hs_test_main("srhm_sets", tests);
}
