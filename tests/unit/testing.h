/* testing.h - a tiny layer over CUnit: one suite per test program, a non-zero exit on any
 * failure (or when nothing ran), and helpers shared by the unit tests. */
#ifndef HSWEEP_TESTING_H
#define HSWEEP_TESTING_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

typedef struct hs_test {
    const char *name;
    CU_TestFunc fn;
} hs_test;

static inline int hs_test_main(const char *suite_name, const hs_test *tests) {
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    CU_pSuite suite = CU_add_suite(suite_name, NULL, NULL);
    for (const hs_test *t = tests; suite && t->name; t++) CU_add_test(suite, t->name, t->fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_tests_failed(), ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    printf("\n%s: %u passed, %u failed\n", suite_name, ran - failed, failed);
    return (failed || ran == 0) ? 1 : 0;
}

/* Assert that haystack contains needle, printing both when it does not. */
#define HS_ASSERT_CONTAINS(haystack, needle)                                                       \
    do {                                                                                           \
        const char *h_ = (haystack), *n_ = (needle);                                               \
        int ok_ = h_ && strstr(h_, n_) != NULL;                                                    \
        if (!ok_) fprintf(stderr, "\n  expected to find: %s\n  in: %s\n", n_, h_ ? h_ : "(null)"); \
        CU_ASSERT(ok_);                                                                            \
    } while (0)

#endif
