/* test_whiten.c - data.zca: whitened training inputs have Sigma_xx = I, the test inputs get the
 * same matrix, and rank-deficient inputs stay finite. */
#include <math.h>
#include <stdlib.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "testing.h"

/* n rows of p dims with correlated coordinates: x = A z, A lower triangular with 1..p on the
 * diagonal; when rank < p the last coordinates copy the first ones. */
static void correlated(hs_dataset *d, long long n, int p, int rank, uint64_t seed) {
    *d = (hs_dataset){.n = n, .dim = p, .classes = 2};
    d->x = malloc((size_t)n * p * sizeof *d->x);
    d->y = calloc((size_t)n, sizeof *d->y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d->x);
    hs_rng r;
    hs_rng_init(&r, seed, 5);
    double z[16];
    for (long long i = 0; i < n; i++) {
        for (int j = 0; j < p; j++) z[j] = hs_rng_normal(&r);
        for (int j = 0; j < p; j++) {
            double v = 0;
            for (int k = 0; k <= j; k++) v += (k == j ? j + 1.0 : 0.5) * z[k];
            d->x[i * p + j] = (float)(j < rank ? v : d->x[i * p + j - rank]);
        }
    }
}

static double cov(const hs_dataset *d, int a, int b) {
    double s = 0;
    for (long long i = 0; i < d->n; i++) s += (double)d->x[i * d->dim + a] * d->x[i * d->dim + b];
    return s / (double)d->n;
}

static void test_identity_covariance(void) {
    hs_dataset tr = {0}, te = {0};
    correlated(&tr, 4000, 6, 6, 1);
    correlated(&te, 4000, 6, 6, 2);
    CU_ASSERT(fabs(cov(&tr, 0, 1)) > 0.3); /* correlated before */
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_data_zca(&tr, &te, 1e-10, &err), HS_OK);
    double worst = 0, worst_test = 0;
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 6; b++) {
            double e = fabs(cov(&tr, a, b) - (a == b)), et = fabs(cov(&te, a, b) - (a == b));
            worst = e > worst ? e : worst, worst_test = et > worst_test ? et : worst_test;
        }
    printf("\n  |Sigma_xx - I| after whitening: train %.2e, test (same matrix, other draw) %.2e\n", worst, worst_test);
    CU_ASSERT(worst < 1e-5);             /* exact up to float rounding */
    CU_ASSERT(worst_test < 0.1);          /* statistically: another sample of the same law */
    CU_ASSERT(worst_test > 1e-4);         /* and not whitened on its own */
    hs_dataset_free(&tr);
    hs_dataset_free(&te);
}

static void test_rank_deficient(void) {
    hs_dataset tr = {0};
    correlated(&tr, 2000, 6, 4, 3); /* coordinates 4, 5 copy 0, 1 */
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_data_zca(&tr, NULL, 1e-8, &err), HS_OK);
    for (long long i = 0; i < tr.n * 6; i++) CU_ASSERT_FATAL(isfinite(tr.x[i]));
    /* the 4 visited directions are whitened: the trace of Sigma_xx is the rank */
    double tr_cov = 0;
    for (int a = 0; a < 6; a++) tr_cov += cov(&tr, a, a);
    CU_ASSERT_DOUBLE_EQUAL(tr_cov, 4.0, 1e-4);
    hs_dataset_free(&tr);
    hs_dataset empty = {0};
    CU_ASSERT_EQUAL(hs_data_zca(&empty, NULL, 1e-8, &err), HS_ERR_VALUE);
}

int main(void) {
    static const hs_test tests[] = {
        {"zca: identity covariance on train, same matrix on test", test_identity_covariance},
        {"zca: rank-deficient inputs", test_rank_deficient},
        {NULL, NULL},
    };
    return hs_test_main("whiten", tests);
}
