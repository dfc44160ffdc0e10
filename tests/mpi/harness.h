/* harness.h - the tiny check harness of the MPI test programs: every rank counts its checks and
 * failures, prints a failure with its rank and line, and main reduces the counts over ranks. */
#ifndef HSWEEP_TEST_MPI_HARNESS_H
#define HSWEEP_TEST_MPI_HARNESS_H

#include <stdio.h>

static int g_rank, g_size, g_failed, g_checks;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        g_checks++;                                                                                \
        if (!(cond)) {                                                                             \
            g_failed++;                                                                            \
            fprintf(stderr, "[rank %d] %s:%d: check failed: %s: ", g_rank, __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

#endif
