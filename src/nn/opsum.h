/* opsum.h - the sums behind the conv nets' statistics (internal to src/nn): a row of floats is
 * added in 16 running float lanes (lane j takes elements j, j + 16, ...), and the lanes are then
 * added in double in lane order. The order is fixed by n alone, so equal rows give equal sums, and
 * the compiler may vectorise the lane loop (each lane is its own chain, no reassociation needed).
 * Callers add the rows' results in double, so a channel's statistic over B rows of n keeps the
 * precision of a sum of n / 16 floats rather than of B n. */
#ifndef HSWEEP_NN_OPSUM_H
#define HSWEEP_NN_OPSUM_H

#include <stddef.h>

#define HS_SUM_LANES 16

/* sum_i x[i] */
static inline double hs_sum_row(const float *restrict x, size_t n) {
    float acc[HS_SUM_LANES] = {0};
    size_t i = 0;
    for (; i + HS_SUM_LANES <= n; i += HS_SUM_LANES)
        for (int j = 0; j < HS_SUM_LANES; j++) acc[j] += x[i + j];
    for (int j = 0; i + (size_t)j < n; j++) acc[j] += x[i + j];
    double s = 0.0;
    for (int j = 0; j < HS_SUM_LANES; j++) s += acc[j];
    return s;
}

/* sum_i (x[i] - c)^2, the deviations formed in float */
static inline double hs_sumsq_dev_row(const float *restrict x, size_t n, float c) {
    float acc[HS_SUM_LANES] = {0};
    size_t i = 0;
    for (; i + HS_SUM_LANES <= n; i += HS_SUM_LANES)
        for (int j = 0; j < HS_SUM_LANES; j++) {
            const float d = x[i + j] - c;
            acc[j] += d * d;
        }
    for (int j = 0; i + (size_t)j < n; j++) {
        const float d = x[i + j] - c;
        acc[j] += d * d;
    }
    double s = 0.0;
    for (int j = 0; j < HS_SUM_LANES; j++) s += acc[j];
    return s;
}

/* sum_i x[i] y[i] */
static inline double hs_dot_row(const float *restrict x, const float *restrict y, size_t n) {
    float acc[HS_SUM_LANES] = {0};
    size_t i = 0;
    for (; i + HS_SUM_LANES <= n; i += HS_SUM_LANES)
        for (int j = 0; j < HS_SUM_LANES; j++) acc[j] += x[i + j] * y[i + j];
    for (int j = 0; i + (size_t)j < n; j++) acc[j] += x[i + j] * y[i + j];
    double s = 0.0;
    for (int j = 0; j < HS_SUM_LANES; j++) s += acc[j];
    return s;
}

#endif
