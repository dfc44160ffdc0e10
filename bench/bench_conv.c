/* bench_conv.c - the convolutions of the deep conv nets (src/nn/conv.c, conv_direct.c,
 * conv_winograd.c, conv_winograd1d.c) on each path, im2col + gemm, direct and where it fits 2-D
 * Winograd F(2x2, 3x3) or 1-D Winograd with either tile, one thread: GFLOP/s of the forward and of the backward (dW and
 * din), with a 1000^3 sgemm through hs_gemm timed between the shapes as the peak reference.
 *
 *   bench_conv [--seconds S] [--set a|b|c|d|e] [--cpu]
 *
 * Sets: (a) the 1-D VGG/ResNet convs on SRHM inputs (batch 40, kernel 3 pad 1); (b) the 3x3 convs
 * of a 2-D ResNet-18 on 28 x 28 inputs, batch 128 and 32; (c) the depthwise 3x3/5x5 and 1x1
 * pointwise convs of an EfficientNet-B0-like net on 28 x 28, batch 32; (d) grouped and thin convs
 * around the plan's rule; (e) more 1-D lengths for the Winograd tile choice. Within a shape the
 * paths' calls alternate, forward and backward, for S seconds (default 0.4), so a slow stretch of
 * the core hits both; the table gives each one's median rate and its spread (min-max). FLOPs are
 * 2 B C_out OH OW (C_in/groups) KH KW a forward and twice that a backward (dW and din). The
 * `plan` column is the path hs_conv_plan chooses. --cpu times on the thread's CPU time instead of
 * the wall clock: on a machine others load, a preempted call then does not count its wait. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hsweep/util.h"
#include "conv_winograd1d.h"
#include "gemm.h"
#include "hsweep/ops.h"

static clockid_t bench_clock = CLOCK_MONOTONIC; /* --cpu: the thread's CPU time */

static double now(void) {
    struct timespec t;
    clock_gettime(bench_clock, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static float *alloc_fill(size_t n, float scale) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    if (!x) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) x[i] = scale * (float)((int)(i % 23) - 11);
    return x;
}

/* GFLOP/s of one 1000^3 hs_gemm (NN), after an untimed call that brings its operands in. */
static double sgemm_rate(float *A, float *B, float *C) {
    hs_gemm(HS_GEMM_NN, 1000, 1000, 1000, A, 1000, B, 1000, NULL, 0, C, 1000);
    const double t0 = now();
    hs_gemm(HS_GEMM_NN, 1000, 1000, 1000, A, 1000, B, 1000, NULL, 0, C, 1000);
    return 2e9 / (now() - t0) * 1e-9;
}

typedef struct {
    const char *set, *what;
    int B, C_in, H, W, C_out, K, stride, pad, groups;
} shape;

#define MAXREP 4096

typedef struct {
    double fwd[MAXREP], bwd[MAXREP]; /* seconds per call */
    int n;
} timings;

static void summary(const timings *t, double flops, double *med_f, double *lo_f, double *hi_f, double *med_b,
                    double *lo_b, double *hi_b) {
    double f[MAXREP], b[MAXREP];
    memcpy(f, t->fwd, sizeof(double) * t->n);
    memcpy(b, t->bwd, sizeof(double) * t->n);
    qsort(f, t->n, sizeof(double), cmp_double);
    qsort(b, t->n, sizeof(double), cmp_double);
    *med_f = flops / f[t->n / 2] * 1e-9, *hi_f = flops / f[0] * 1e-9, *lo_f = flops / f[t->n - 1] * 1e-9;
    *med_b = 2 * flops / b[t->n / 2] * 1e-9, *hi_b = 2 * flops / b[0] * 1e-9, *lo_b = 2 * flops / b[t->n - 1] * 1e-9;
}

/* The variants a shape is timed on: im2col, direct, and where the shape fits them 2-D Winograd
 * and the 1-D Winograd path with each tile (F(2,3), F(4,3); the plan picks one from the length). */
#define NVAR 5
static const char *const var_name[NVAR] = {"im2col", "direct", "F(2x2,3x3)", "F(2,3)", "F(4,3)"};
static const int var_tile[NVAR] = {0, 0, 0, 2, 4};

static void bench_shape(const shape *sh, double seconds, double ref) {
    hs_conv_shape s = {.B = sh->B, .C_in = sh->C_in, .H = sh->H, .W = sh->W, .C_out = sh->C_out,
                       .KH = sh->H == 1 ? 1 : sh->K, .KW = sh->K, .stride = sh->stride, .pad = sh->pad,
                       .dilation = 1, .groups = sh->groups};
    hs_conv_shape p[NVAR] = {s, s, s, s, s};
    if (hs_conv_plan(&s) || hs_conv_plan_path(&p[0], HS_CONV_IM2COL) || hs_conv_plan_path(&p[1], HS_CONV_DIRECT)) {
        fprintf(stderr, "bad shape %s\n", sh->what);
        return;
    }
    int has[NVAR] = {1, 1, hs_conv_plan_path(&p[2], HS_CONV_WINOGRAD) == 0, 0, 0};
    for (int q = 3; q < NVAR; q++) {
        hs_conv_winograd1d_force(var_tile[q]);
        has[q] = hs_conv_plan_path(&p[q], HS_CONV_WINOGRAD1D) == 0;
    }
    hs_conv_winograd1d_force(0);
    int vars[NVAR], nvar = 0;
    for (int q = 0; q < NVAR; q++)
        if (has[q]) vars[nvar++] = q;
    const size_t ni = (size_t)s.B * s.C_in * s.H * s.W, no = (size_t)s.B * s.C_out * s.OH * s.OW,
                 nw = (size_t)s.C_out * (s.C_in / s.groups) * s.KH * s.KW;
    size_t nwork = 0;
    for (int q = 0; q < NVAR; q++)
        if (has[q] && p[q].work > nwork) nwork = p[q].work;
    float *in = alloc_fill(ni, 0.01f), *W = alloc_fill(nw, 0.02f), *b = alloc_fill((size_t)s.C_out, 0.1f),
          *out = alloc_fill(no, 0), *dout = alloc_fill(no, 0.01f), *din = alloc_fill(ni, 0), *dW = alloc_fill(nw, 0),
          *db = alloc_fill((size_t)s.C_out, 0), *work = alloc_fill(nwork, 0);
    const double flops = 2.0 * s.B * s.C_out * s.OH * s.OW * (double)(s.C_in / s.groups) * s.KH * s.KW;
    static timings t[NVAR];
    for (int q = 0; q < NVAR; q++) t[q].n = 0;
    const double end = now() + seconds;
    for (int rep = 0; rep < MAXREP && (rep < 3 || now() < end); rep++)
        for (int q = 0; q < nvar; q++) {
            const int path = vars[(rep + q) % nvar]; /* rotate which path goes first */
            hs_conv_winograd1d_force(var_tile[path]);
            double t0 = now();
            hs_conv_forward(out, in, W, b, &p[path], work);
            double t1 = now();
            hs_conv_backward(din, dW, db, dout, in, W, &p[path], work);
            double t2 = now();
            t[path].fwd[t[path].n] = t1 - t0, t[path].bwd[t[path].n] = t2 - t1;
            t[path].n++;
        }
    hs_conv_winograd1d_force(0);
    double mf[NVAR], lf[NVAR], hf[NVAR], mb[NVAR], lb[NVAR], hb[NVAR];
    for (int q = 0; q < NVAR; q++)
        if (has[q]) summary(&t[q], flops, &mf[q], &lf[q], &hf[q], &mb[q], &lb[q], &hb[q]);
    char dims[64];
    if (s.H == 1) snprintf(dims, sizeof dims, "%d", s.W);
    else snprintf(dims, sizeof dims, "%dx%d", s.H, s.W);
    /* fwd + bwd time of a path is proportional to 1/fwd rate + 2/bwd rate; Winograd's rates count
     * im2col's FLOPs (the effective rate) */
    double tv[NVAR];
    for (int q = 0; q < NVAR; q++) tv[q] = has[q] ? 1 / mf[q] + 2 / mb[q] : 0;
    const int planned_var = s.path == HS_CONV_DIRECT       ? 1
                            : s.path == HS_CONV_WINOGRAD   ? 2
                            : s.path == HS_CONV_WINOGRAD1D ? (hs_conv_winograd1d_tile(&s) == 2 ? 3 : 4)
                                                           : 0;
    const double planned = 3 / tv[planned_var];
    printf("%-3s %-22s %4d %5d %5d %7s %2d %d %4d | %7.1f (%5.1f-%5.1f) %7.1f (%5.1f-%5.1f) | %7.1f (%5.1f-%5.1f) "
           "%7.1f (%5.1f-%5.1f) | %-10s %5.2f | %6.1f %3.0f%%",
           sh->set, sh->what, s.B, s.C_in, s.C_out, dims, sh->K, s.stride, s.groups, mf[0], lf[0], hf[0], mf[1],
           lf[1], hf[1], mb[0], lb[0], hb[0], mb[1], lb[1], hb[1], hs_conv_path_to_string(s.path), tv[0] / tv[1],
           ref, 100.0 * planned / ref);
    for (int q = 2; q < NVAR; q++)
        if (has[q]) printf(" | %s %6.1f %6.1f %5.2f", var_name[q], mf[q], mb[q], tv[0] / tv[q]);
    printf("\n");
    fflush(stdout);
    free(in), free(W), free(b), free(out), free(dout), free(din), free(dW), free(db), free(work);
}

static const shape shapes[] = {
    /* (a) 1-D VGG/ResNet on SRHM inputs: 10 channels x 36 positions, batch 40, k3 p1 */
    {"a", "VGG/ResNet stem", 40, 10, 1, 36, 64, 3, 1, 1, 1},
    {"a", "stage 64", 40, 64, 1, 36, 64, 3, 1, 1, 1},
    {"a", "stage 128", 40, 128, 1, 18, 128, 3, 1, 1, 1},
    {"a", "stage 256", 40, 256, 1, 9, 256, 3, 1, 1, 1},
    {"a", "VGG stage 512 at 4", 40, 512, 1, 4, 512, 3, 1, 1, 1},
    {"a", "VGG stage 512 at 2", 40, 512, 1, 2, 512, 3, 1, 1, 1},
    {"a", "ResNet stage 512 at 5", 40, 512, 1, 5, 512, 3, 1, 1, 1},
    {"a", "ResNet 256->512 s2", 40, 256, 1, 9, 512, 3, 2, 1, 1},
    {"a", "VGG 64->128 at 18", 40, 64, 1, 18, 128, 3, 1, 1, 1},
    {"a", "VGG 128->256 at 9", 40, 128, 1, 9, 256, 3, 1, 1, 1},
    {"a", "VGG 256->512 at 4", 40, 256, 1, 4, 512, 3, 1, 1, 1},
    /* (b) 2-D ResNet-18 on 28 x 28, batch 128 and 32 */
    {"b", "stem 1->64", 128, 1, 28, 28, 64, 3, 1, 1, 1},
    {"b", "stage 64", 128, 64, 28, 28, 64, 3, 1, 1, 1},
    {"b", "stage 128", 128, 128, 14, 14, 128, 3, 1, 1, 1},
    {"b", "stage 256", 128, 256, 7, 7, 256, 3, 1, 1, 1},
    {"b", "stage 512", 128, 512, 4, 4, 512, 3, 1, 1, 1},
    {"b", "w0.5 stage 32", 128, 32, 28, 28, 32, 3, 1, 1, 1},
    {"b", "w0.5 stage 64", 128, 64, 14, 14, 64, 3, 1, 1, 1},
    {"b", "w0.5 stage 128", 128, 128, 7, 7, 128, 3, 1, 1, 1},
    {"b", "w0.5 stage 256", 128, 256, 4, 4, 256, 3, 1, 1, 1},
    {"b", "stem 1->64", 32, 1, 28, 28, 64, 3, 1, 1, 1},
    {"b", "stage 64", 32, 64, 28, 28, 64, 3, 1, 1, 1},
    {"b", "stage 128", 32, 128, 14, 14, 128, 3, 1, 1, 1},
    {"b", "stage 256", 32, 256, 7, 7, 256, 3, 1, 1, 1},
    {"b", "stage 512", 32, 512, 4, 4, 512, 3, 1, 1, 1},
    /* (c) EfficientNet-B0-like on 28 x 28, batch 32: depthwise (groups = channels) and 1x1 */
    {"c", "dw3 32", 32, 32, 28, 28, 32, 3, 1, 1, 32},
    {"c", "dw3 96 s2", 32, 96, 28, 28, 96, 3, 2, 1, 96},
    {"c", "dw3 144", 32, 144, 14, 14, 144, 3, 1, 1, 144},
    {"c", "dw5 144 s2", 32, 144, 14, 14, 144, 5, 2, 2, 144},
    {"c", "dw5 240", 32, 240, 7, 7, 240, 5, 1, 2, 240},
    {"c", "dw3 480", 32, 480, 4, 4, 480, 3, 1, 1, 480},
    {"c", "dw5 672", 32, 672, 4, 4, 672, 5, 1, 2, 672},
    {"c", "dw5 1152", 32, 1152, 2, 2, 1152, 5, 1, 2, 1152},
    {"c", "pw 32->16", 32, 32, 28, 28, 16, 1, 1, 0, 1},
    {"c", "pw 16->96", 32, 16, 28, 28, 96, 1, 1, 0, 1},
    {"c", "pw 144->24", 32, 144, 14, 14, 24, 1, 1, 0, 1},
    {"c", "pw 240->40", 32, 240, 7, 7, 40, 1, 1, 0, 1},
    {"c", "pw 480->80", 32, 480, 4, 4, 80, 1, 1, 0, 1},
    {"c", "pw 672->112", 32, 672, 4, 4, 112, 1, 1, 0, 1},
    {"c", "pw 1152->192", 32, 1152, 2, 2, 192, 1, 1, 0, 1},
    {"c", "pw 320->1280", 32, 320, 2, 2, 1280, 1, 1, 0, 1},
    {"c", "SE reduce 1x1 on 1x1", 32, 672, 1, 1, 28, 1, 1, 0, 1},
    /* (d) where the rule's line falls: grouped convs of 2..16 channels a group, thin inputs */
    {"d", "grouped 2/group", 32, 128, 14, 14, 128, 3, 1, 1, 64},
    {"d", "grouped 3/group", 32, 96, 14, 14, 96, 3, 1, 1, 32},
    {"d", "grouped 4/group", 32, 128, 14, 14, 128, 3, 1, 1, 32},
    {"d", "depthwise x4 32->128", 32, 32, 14, 14, 128, 3, 1, 1, 32},
    {"d", "depthwise x8 32->256", 32, 32, 14, 14, 256, 3, 1, 1, 32},
    {"d", "grouped 8/group", 32, 128, 14, 14, 128, 3, 1, 1, 16},
    {"d", "grouped 16/group", 32, 128, 14, 14, 128, 3, 1, 1, 8},
    {"d", "1-D grouped 4/group", 40, 128, 1, 18, 128, 3, 1, 1, 32},
    {"d", "1-D grouped 8/group", 40, 128, 1, 18, 128, 3, 1, 1, 16},
    {"d", "1-D depthwise", 40, 128, 1, 18, 128, 3, 1, 1, 128},
    {"d", "1-D depthwise k5 s2", 40, 240, 1, 9, 240, 5, 2, 2, 240},
    {"d", "1x1 2->64", 32, 2, 28, 28, 64, 1, 1, 0, 1},
    {"d", "3x3 2->64", 32, 2, 28, 28, 64, 3, 1, 1, 1},
    {"d", "3x3 64->4", 32, 64, 14, 14, 4, 3, 1, 1, 1},
    {"d", "3x3 64->8", 32, 64, 14, 14, 8, 3, 1, 1, 1},
    {"d", "3x3 64->2", 32, 64, 14, 14, 2, 3, 1, 1, 1},
    {"d", "3x3 4->64", 32, 4, 28, 28, 64, 3, 1, 1, 1},
    {"d", "3x3 8->64", 32, 8, 28, 28, 64, 3, 1, 1, 1},
    {"d", "3x3 16->16", 32, 16, 28, 28, 16, 3, 1, 1, 1},
    {"d", "3x3 8->8", 32, 8, 14, 14, 8, 3, 1, 1, 1},
    {"d", "3x3 32->32 at 2x2", 32, 32, 2, 2, 32, 3, 1, 1, 1},
    {"d", "3x3 64->64 at 1x1", 32, 64, 1, 1, 64, 3, 1, 1, 1},
    /* (e) 1-D k3 p1 at the lengths around the Winograd tile choice, and thin channels */
    {"e", "1-D 128 at 3", 40, 128, 1, 3, 128, 3, 1, 1, 1},
    {"e", "1-D 128 at 6", 40, 128, 1, 6, 128, 3, 1, 1, 1},
    {"e", "1-D 128 at 7", 40, 128, 1, 7, 128, 3, 1, 1, 1},
    {"e", "1-D 128 at 8", 40, 128, 1, 8, 128, 3, 1, 1, 1},
    {"e", "1-D 16 at 36", 40, 16, 1, 36, 16, 3, 1, 1, 1},
    {"e", "1-D 32 at 36", 40, 32, 1, 36, 32, 3, 1, 1, 1},
    {"e", "1-D 32 at 2", 40, 32, 1, 2, 32, 3, 1, 1, 1},
};

int main(int argc, char **argv) {
    double seconds = 0.4;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--set") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--cpu")) bench_clock = CLOCK_THREAD_CPUTIME_ID;
        else {
            fprintf(stderr, "usage: bench_conv [--seconds S] [--set a|b|c|d|e] [--cpu]\n");
            return 2;
        }
    }
    hs_blas_set_threads(1);
    printf("BLAS: %s; hs_gemm AVX-512 kernel %s\n", hs_blas_describe(),
           hs_gemm_have_kernel() ? "available" : "NOT available");
    printf("GFLOP/s, median (min-max) over alternating calls; ratio = im2col time / direct time (fwd + bwd);\n"
           "sgemm = a 1000^3 hs_gemm timed just before the shape; %% = the planned path's fwd+bwd rate of it;\n"
           "then, where they fit, 2-D Winograd F(2x2,3x3) and the 1-D Winograd path with each tile (F(2,3), F(4,3)):\n"
           "fwd, bwd (effective GFLOP/s: im2col's FLOPs) and im2col time / its time\n\n");
    printf("%-3s %-22s %4s %5s %5s %7s %2s %s %4s | %-21s %-21s | %-21s %-21s | %-10s %5s | %6s %4s | %s\n", "set",
           "conv", "B", "C_in", "C_out", "size", "k", "s", "grp", "fwd im2col", "fwd direct", "bwd im2col", "bwd direct",
           "plan", "ratio", "sgemm", "%", "Winograd: fwd bwd x");
    float *A = alloc_fill(1000000, 0.001f), *Bm = alloc_fill(1000000, 0.001f), *C = alloc_fill(1000000, 0);
    double refs[64];
    int nref = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        if (only && strcmp(only, shapes[i].set)) continue;
        const double ref = sgemm_rate(A, Bm, C);
        if (nref < 64) refs[nref++] = ref;
        bench_shape(&shapes[i], seconds, ref);
    }
    if (nref) {
        qsort(refs, nref, sizeof(double), cmp_double);
        printf("\n1000^3 sgemm through hs_gemm between the shapes: median %.1f GFLOP/s (min %.1f, max %.1f, %d "
               "calls)\n",
               refs[nref / 2], refs[0], refs[nref - 1], nref);
    }
    free(A), free(Bm), free(C);
    return 0;
}
