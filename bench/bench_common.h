/* bench_common.h - what the training benchmarks (bench_train, bench_hnet) share: clocks, and the
 * 1000^3 sgemm reference run between training steps.
 *
 * Why interleaved: this VM's core speed drifts between about 70 and 115 GFLOP/s over tenths of a
 * second (another tenant on the sibling hyperthread), so a reference taken before the training,
 * and its best-of figure above all, compares the training's average moment with the core's best
 * one. Interleaved, both see the same moments.
 *
 *     ref_gemm ref;
 *     if (ref_init(&ref)) ... out of memory
 *     ... every ~50 ms of training steps:  double dt = ref_run(&ref);  // seconds of one call
 *     ref_free(&ref);
 */
#ifndef HSWEEP_BENCH_COMMON_H
#define HSWEEP_BENCH_COMMON_H

#include <cblas.h>
#include <stdlib.h>
#include <time.h>

#include "hsweep/util.h"

static inline double bench_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU time of this process: cpu / wall < 1 means the core was shared with other jobs. */
static inline double bench_cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU time of the calling thread: what a step costs without the time other jobs held the core. */
static inline double bench_thread_cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { REF_N = 1000, MAX_REFS = 1 << 16 };
typedef struct ref_gemm {
    float *A, *B, *C;   /* [REF_N x REF_N] each */
    double *rates;      /* [MAX_REFS] GFLOP/s of each interleaved call */
    double *ratios;     /* [MAX_REFS] training GFLOP/s since the previous call / this call's rate */
} ref_gemm;

static inline int ref_init(ref_gemm *g) {
    const size_t n = (size_t)REF_N * REF_N;
    g->A = malloc(sizeof(float) * n), g->B = malloc(sizeof(float) * n), g->C = malloc(sizeof(float) * n);
    g->rates = malloc(sizeof(double) * MAX_REFS), g->ratios = malloc(sizeof(double) * MAX_REFS);
    if (!g->A || !g->B || !g->C || !g->rates || !g->ratios) return 1;
    for (size_t i = 0; i < n; i++) g->A[i] = (float)(i % 17) * 0.01f, g->B[i] = (float)(i % 13) * 0.01f;
    return 0;
}

static inline void ref_free(ref_gemm *g) { free(g->A), free(g->B), free(g->C), free(g->rates), free(g->ratios); }

/* Seconds of one reference call, timed after an untimed one: the steps in between have evicted
 * the reference's 12 MB, and a cold call would flatter the training. *cpu (when not NULL) gets
 * the call's thread CPU time. */
static inline double ref_run(ref_gemm *g, double *cpu) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, REF_N, REF_N, REF_N, 1.0f, g->A, REF_N, g->B, REF_N, 0.0f,
                g->C, REF_N);
    const double t0 = bench_now(), c0 = cpu ? bench_thread_cpu_now() : 0;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, REF_N, REF_N, REF_N, 1.0f, g->A, REF_N, g->B, REF_N, 0.0f,
                g->C, REF_N);
    if (cpu) *cpu = bench_thread_cpu_now() - c0;
    return bench_now() - t0;
}

#endif
