/* test_gemm.c - the dense layers' products (src/nn/gemm.c) against a double-precision reference
 * written here: the NN, NT and TN forms, on both paths (the AVX-512 kernel where this CPU has it,
 * and cblas_sgemm), for shapes that are not multiples of the kernel's tiles (12 rows, 16 and 32
 * columns, 256 inner indices), with bias and accumulation, on strided operands; plus the cells
 * outside C that must stay untouched, and bit-identical repeats. Also the fused BatchNorm + ReLU
 * kernels of src/nn/fused.h against the public calls they replace (bit for bit). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/nn/fused.h"
#include "../../src/nn/gemm.h"
#include "hsweep/nn.h"
#include "hsweep/rng.h"
#include "testing.h"

/* M, N, K; the tiles are 12 x {16, 32} and inner blocks of 256 (128 for wide B), so these cover full tiles,
 * every remainder tile (8, 4, 2, 1 rows), one- and two-vector panels with masked edges, inner
 * dimensions of 1, just under, at and over a block, and last panels of <= 8 columns (N mod 32
 * in 1..8), which the NT form computes as dot products in tiles of 6 rows. */
static const int shapes[][3] = {
    {1, 1, 1},     {2, 3, 1},     {13, 17, 5},   {12, 32, 16},  {25, 33, 300}, {7, 100, 257},
    {64, 50, 270}, {100, 10, 128}, {10, 100, 128}, {31, 47, 19}, {128, 10, 100}, {3, 48, 256},
    {128, 36, 40}, {113, 7, 9},
    /* B rows >= 512 floats apart: NN and TN pack 256 columns x 128 inner indices at a time
     * (several column blocks, a last one of 18 or 5 columns, inner remainders) */
    {13, 530, 300}, {30, 517, 129}, {12, 1000, 40},
};

#define PAD 3          /* extra columns in every leading dimension */
#define SENTINEL 12345.0f

static void fill(float *x, size_t n, hs_rng *r) {
    for (size_t i = 0; i < n; i++) x[i] = 2.0f * hs_rng_uniformf(r) - 1.0f;
}

/* Run one case on the given path, through hs_gemm (kernel_entry 0) or hs_gemm_kernel (1; 2 with
 * C stored around the caches), and
 * compare against the reference; returns the worst error in units of the bound
 * (K + 2) eps sum |terms| (<= 1 passes). */
static double check_case(int path, int kernel_entry, hs_gemm_op op, int M, int N, int K, int with_bias, int accumulate,
                         hs_rng *r) {
    const int a_rows = op == HS_GEMM_TN ? K : M, a_cols = op == HS_GEMM_TN ? M : K;
    const int b_rows = op == HS_GEMM_NT ? N : K, b_cols = op == HS_GEMM_NT ? K : N;
    const int lda = a_cols + PAD, ldb = b_cols + PAD, ldc = N + PAD;
    float *A = malloc(sizeof(float) * (size_t)a_rows * lda), *B = malloc(sizeof(float) * (size_t)b_rows * ldb),
          *C = malloc(sizeof(float) * (size_t)M * ldc), *C0 = malloc(sizeof(float) * (size_t)M * ldc),
          *C2 = malloc(sizeof(float) * (size_t)M * ldc), *bias = malloc(sizeof(float) * (size_t)N);
    CU_ASSERT_FATAL(A && B && C && C0 && C2 && bias);
    fill(A, (size_t)a_rows * lda, r);
    fill(B, (size_t)b_rows * ldb, r);
    fill(bias, (size_t)N, r);
    fill(C0, (size_t)M * ldc, r);
    for (int i = 0; i < M; i++)
        for (int j = N; j < ldc; j++) C0[(size_t)i * ldc + j] = SENTINEL; /* must survive */
    memcpy(C, C0, sizeof(float) * (size_t)M * ldc);
    memcpy(C2, C0, sizeof(float) * (size_t)M * ldc);

    hs_gemm_force(path);
    for (int rep = 0; rep < 2; rep++) {
        float *Cr = rep ? C2 : C;
        if (kernel_entry)
            hs_gemm_kernel(op, M, N, K, A, lda, B, ldb, with_bias ? bias : NULL, accumulate, Cr, ldc, kernel_entry - 1);
        else
            hs_gemm(op, M, N, K, A, lda, B, ldb, with_bias ? bias : NULL, accumulate, Cr, ldc);
    }
    hs_gemm_force(0);
    CU_ASSERT(memcmp(C, C2, sizeof(float) * (size_t)M * ldc) == 0); /* deterministic */

    double worst = 0;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double s = 0, abs_s = 0;
            for (int k = 0; k < K; k++) {
                const double a = op == HS_GEMM_TN ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                const double b = op == HS_GEMM_NT ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
                abs_s += fabs(a * b);
            }
            if (with_bias) s += bias[j], abs_s += fabs(bias[j]);
            if (accumulate) s += C0[(size_t)i * ldc + j], abs_s += fabs(C0[(size_t)i * ldc + j]);
            const double bound = (K + 2) * (double)FLT_EPSILON * abs_s + 1e-30;
            const double e = fabs((double)C[(size_t)i * ldc + j] - s) / bound;
            if (!(e <= worst)) worst = e; /* NaN sticks */
        }
        for (int j = N; j < ldc; j++) CU_ASSERT_EQUAL(C[(size_t)i * ldc + j], SENTINEL);
    }
    free(A), free(B), free(C), free(C0), free(C2), free(bias);
    return worst;
}

/* hs_gemm_kernel's own orders (NN: panels outer with the next block prefetched; TN: row tiles
 * outer) on wide B: tall C, several column blocks with a narrower last one, inner dimensions
 * that end in a shorter block (whose predecessor then prefetches nothing) */
static const int kernel_shapes[][3] = {
    {300, 530, 24}, {37, 1100, 40}, {13, 700, 300}, {25, 520, 256}, {24, 2048, 129},
};

static void run_shapes(int path, int kernel_entry, const int (*list)[3], size_t n, hs_rng *r) {
    const hs_gemm_op ops[3] = {HS_GEMM_NN, HS_GEMM_NT, HS_GEMM_TN};
    const char *names[3] = {"NN", "NT", "TN"};
    for (size_t s = 0; s < n; s++)
        for (int o = 0; o < 3; o++)
            for (int variant = 0; variant < 3; variant++) { /* plain, bias, bias + accumulate */
                const int M = list[s][0], N = list[s][1], K = list[s][2];
                const double e = check_case(path, kernel_entry, ops[o], M, N, K, variant >= 1, variant == 2, r);
                static const char *const entries[3] = {"hs_gemm", "hs_gemm_kernel", "hs_gemm_kernel streaming C"};
                if (!(e <= 1.0))
                    fprintf(stderr, "\n  path %d %s %s M=%d N=%d K=%d bias=%d acc=%d: error %.3g x bound\n", path,
                            entries[kernel_entry], names[o], M, N, K, variant >= 1, variant == 2, e);
                CU_ASSERT(e <= 1.0);
            }
}

static void run_all(int path) {
    hs_rng r;
    hs_rng_init(&r, 11, hs_rng_stream(HS_STREAM_TEST, (uint32_t)path));
    run_shapes(path, 0, shapes, sizeof shapes / sizeof shapes[0], &r);
    if (path != 0) return; /* hs_gemm_kernel has no automatic choice: forced or its own */
    for (int entry = 1; entry <= 2; entry++) {
        run_shapes(2, entry, shapes, sizeof shapes / sizeof shapes[0], &r);
        run_shapes(2, entry, kernel_shapes, sizeof kernel_shapes / sizeof kernel_shapes[0], &r);
        run_shapes(1, entry, kernel_shapes, sizeof kernel_shapes / sizeof kernel_shapes[0], &r);
    }
}

/* hs_gemm_nt_short: Ct [N x M] = B A^T against the double reference on strided operands (the
 * cells between Ct's rows untouched), bit-identical on repeat; M across one and two 32-column
 * panels of A^T with masked edges, K across blocks of HS_GEMM_KCS, N over every row tile. */
static double check_short(int path, int M, int N, int K, hs_rng *r) {
    const int lda = K + PAD, ldb = K + PAD, ldct = M + PAD;
    float *A = malloc(sizeof(float) * (size_t)M * lda), *B = malloc(sizeof(float) * (size_t)N * ldb),
          *Ct = malloc(sizeof(float) * (size_t)N * ldct), *Ct2 = malloc(sizeof(float) * (size_t)N * ldct),
          *work = aligned_alloc(64, sizeof(float) * HS_GEMM_SHORT_WORK);
    CU_ASSERT_FATAL(A && B && Ct && Ct2 && work);
    fill(A, (size_t)M * lda, r), fill(B, (size_t)N * ldb, r);
    for (size_t i = 0; i < (size_t)N * ldct; i++) Ct[i] = Ct2[i] = SENTINEL;
    hs_gemm_force(path);
    hs_gemm_nt_short(M, N, K, A, lda, B, ldb, Ct, ldct, work);
    hs_gemm_nt_short(M, N, K, A, lda, B, ldb, Ct2, ldct, work);
    hs_gemm_force(0);
    CU_ASSERT(memcmp(Ct, Ct2, sizeof(float) * (size_t)N * ldct) == 0);
    double worst = 0;
    for (int j = 0; j < N; j++) {
        for (int i = 0; i < M; i++) {
            double s = 0, abs_s = 0;
            for (int k = 0; k < K; k++) {
                const double t = (double)A[(size_t)i * lda + k] * B[(size_t)j * ldb + k];
                s += t, abs_s += fabs(t);
            }
            const double bound = (K + 2) * (double)FLT_EPSILON * abs_s + 1e-30;
            const double e = fabs((double)Ct[(size_t)j * ldct + i] - s) / bound;
            if (!(e <= worst)) worst = e;
        }
        for (int i = M; i < ldct; i++) CU_ASSERT_EQUAL(Ct[(size_t)j * ldct + i], SENTINEL);
    }
    free(A), free(B), free(Ct), free(Ct2), free(work);
    return worst;
}

static void test_nt_short(void) {
    static const int cases[][3] = {{1, 1, 1},    {5, 13, 7},    {16, 100, 300}, {17, 37, 48},
                                   {24, 515, 96}, {32, 64, 1030}, {33, 25, 2100}, {70, 29, 260}};
    hs_rng r;
    hs_rng_init(&r, 17, hs_rng_stream(HS_STREAM_TEST, 7));
    for (int path = 1; path <= 2; path++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            const double e = check_short(path, cases[c][0], cases[c][1], cases[c][2], &r);
            if (!(e <= 1.0))
                fprintf(stderr, "\n  nt_short path %d M=%d N=%d K=%d: error %.3g x bound\n", path, cases[c][0],
                        cases[c][1], cases[c][2], e);
            CU_ASSERT(e <= 1.0);
        }
}

/* hs_gemm_kernel's orders, prefetches and streamed stores change no value: bit-identical to
 * hs_gemm's kernel path on every shape of both lists, NN and TN, with bias and accumulation. */
static void test_kernel_entry_bits(void) {
    hs_rng r;
    hs_rng_init(&r, 23, hs_rng_stream(HS_STREAM_TEST, 3));
    const int n1 = (int)(sizeof shapes / sizeof shapes[0]), n2 = (int)(sizeof kernel_shapes / sizeof kernel_shapes[0]);
    size_t differ = 0;
    for (int q = 0; q < n1 + n2; q++)
        for (int o = 0; o < 2; o++) {
            const int *sh = q < n1 ? shapes[q] : kernel_shapes[q - n1], M = sh[0], N = sh[1], K = sh[2];
            const hs_gemm_op op = o ? HS_GEMM_TN : HS_GEMM_NN;
            const int lda = (op == HS_GEMM_TN ? M : K) + PAD, ldb = N + PAD, ldc = N + PAD;
            const size_t na = (size_t)(op == HS_GEMM_TN ? K : M) * lda, nb = (size_t)K * ldb, nc = (size_t)M * ldc;
            float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * nb), *bias = malloc(sizeof(float) * N),
                  *C[3];
            for (int v = 0; v < 3; v++) C[v] = malloc(sizeof(float) * nc);
            CU_ASSERT_FATAL(A && B && bias && C[0] && C[1] && C[2]);
            fill(A, na, &r), fill(B, nb, &r), fill(bias, (size_t)N, &r), fill(C[0], nc, &r);
            memcpy(C[1], C[0], sizeof(float) * nc), memcpy(C[2], C[0], sizeof(float) * nc);
            hs_gemm_force(2);
            hs_gemm(op, M, N, K, A, lda, B, ldb, bias, 1, C[0], ldc);
            hs_gemm_kernel(op, M, N, K, A, lda, B, ldb, bias, 1, C[1], ldc, 0);
            hs_gemm_kernel(op, M, N, K, A, lda, B, ldb, bias, 1, C[2], ldc, 1);
            hs_gemm_force(0);
            differ += memcmp(C[0], C[1], sizeof(float) * nc) != 0;
            differ += memcmp(C[0], C[2], sizeof(float) * nc) != 0;
            free(A), free(B), free(bias), free(C[0]), free(C[1]), free(C[2]);
        }
    CU_ASSERT_EQUAL(differ, 0);
}

/* hs_gemm_tn_update applies the step hs_optim_update would apply from the stored TN product, bit
 * for bit: W and the momentum buffer (strided, with the cells beyond each row untouched), for plain
 * SGD with and without decay, momentum, and Nesterov, on every shape of both lists with K up to
 * HS_GEMM_UPDATE_MAX_K; it declines (returns 0, W untouched) above that K, and wherever the CPU
 * has no AVX-512 kernel or the cblas path is forced. */
static void test_tn_update_bits(void) {
    hs_rng r;
    hs_rng_init(&r, 29, hs_rng_stream(HS_STREAM_TEST, 4));
    const int n1 = (int)(sizeof shapes / sizeof shapes[0]), n2 = (int)(sizeof kernel_shapes / sizeof kernel_shapes[0]);
    const hs_optim_opts rules[4] = {{.kind = HS_OPT_SGD}, {.kind = HS_OPT_SGD},
                                    {.kind = HS_OPT_MOMENTUM, .momentum = 0.9},
                                    {.kind = HS_OPT_MOMENTUM, .momentum = 0.8, .nesterov = 1}};
    const double wds[4] = {0, 0.01, 0.005, 0.02};
    size_t differ = 0, done = 0, declined = 0, cases = 0;
    for (int q = 0; q < n1 + n2; q++)
        for (int u = 0; u < 4; u++) {
            const int *sh = q < n1 ? shapes[q] : kernel_shapes[q - n1], M = sh[0], N = sh[1], K = sh[2];
            const int lda = M + PAD, ldb = N + PAD, ldw = N + PAD;
            const size_t na = (size_t)K * lda, nb = (size_t)K * ldb, nw = (size_t)M * ldw;
            float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * nb), *G = malloc(sizeof(float) * nw);
            hs_optim o[2];
            memset(o, 0, sizeof o);
            CU_ASSERT_FATAL(A && B && G);
            CU_ASSERT_EQUAL_FATAL(hs_optim_init(&o[0], &rules[u], nw, NULL), HS_OK);
            CU_ASSERT_EQUAL_FATAL(hs_optim_init(&o[1], &rules[u], nw, NULL), HS_OK);
            float *W[2] = {malloc(sizeof(float) * nw), malloc(sizeof(float) * nw)};
            CU_ASSERT_FATAL(W[0] && W[1]);
            fill(W[0], nw, &r);
            memcpy(W[1], W[0], sizeof(float) * nw);
            if (o[0].m) { /* a momentum buffer from earlier steps, with sentinels beyond each row */
                fill(o[0].m, nw, &r);
                for (int i = 0; i < M; i++)
                    for (int j = N; j < ldw; j++) o[0].m[(size_t)i * ldw + j] = SENTINEL;
                memcpy(o[1].m, o[0].m, sizeof(float) * nw);
            }
            for (int i = 0; i < M; i++)
                for (int j = N; j < ldw; j++) W[0][(size_t)i * ldw + j] = W[1][(size_t)i * ldw + j] = SENTINEL;
            /* two steps, so that the second reads a buffer the first wrote */
            for (int step = 0; step < 2; step++) {
                fill(A, na, &r), fill(B, nb, &r);
                hs_gemm_force(2);
                hs_gemm_kernel(HS_GEMM_TN, M, N, K, A, lda, B, ldb, NULL, 0, G, ldw, 0);
                hs_gemm_force(0);
                for (int i = 0; i < M; i++) /* row by row: the cells beyond N are not the weight's */
                    hs_optim_update(&o[0], W[0], G, (size_t)i * ldw, (size_t)N, 0.05, wds[u]);
                hs_optim_sgd sgd;
                CU_ASSERT_FATAL(hs_optim_sgd_of(&o[1], 0, 0.05, wds[u], &sgd));
                const int applied = hs_gemm_tn_update(M, N, K, A, lda, B, ldb, W[1], ldw, &sgd);
                if (!applied) { /* the caller's fallback */
                    hs_gemm_kernel(HS_GEMM_TN, M, N, K, A, lda, B, ldb, NULL, 0, G, ldw, 0);
                    for (int i = 0; i < M; i++)
                        hs_optim_update(&o[1], W[1], G, (size_t)i * ldw, (size_t)N, 0.05, wds[u]);
                }
                const int expect = hs_gemm_have_kernel() && K <= HS_GEMM_UPDATE_MAX_K;
                CU_ASSERT_EQUAL(applied, expect);
                done += applied, declined += !applied, cases++;
            }
            differ += memcmp(W[0], W[1], sizeof(float) * nw) != 0;
            if (o[0].m) differ += memcmp(o[0].m, o[1].m, sizeof(float) * nw) != 0;
            free(A), free(B), free(G), free(W[0]), free(W[1]);
            hs_optim_free(&o[0]), hs_optim_free(&o[1]);
        }
    CU_ASSERT_EQUAL(differ, 0);
    /* both sides of the K bound were exercised where the kernel runs */
    if (hs_gemm_have_kernel()) CU_ASSERT(done > cases / 2 && declined > 0);
    /* forced to cblas, the fused path declines */
    float a = 1, b = 1, w = 1;
    hs_optim_sgd sgd = {.lr = 1};
    hs_gemm_force(1);
    CU_ASSERT_EQUAL(hs_gemm_tn_update(1, 1, 1, &a, 1, &b, 1, &w, 1, &sgd), 0);
    CU_ASSERT_EQUAL(hs_gemm_backward_update(1, 1, 1, &a, 1, &b, 1, &w, 1, NULL, 1, &sgd), 0);
    CU_ASSERT_EQUAL(hs_gemm_update_applies(1), 0);
    hs_gemm_force(0);
    CU_ASSERT_EQUAL(hs_gemm_update_applies(1), hs_gemm_have_kernel());
    CU_ASSERT_EQUAL(hs_gemm_update_applies(HS_GEMM_UPDATE_MAX_K + 1), 0);
    CU_ASSERT_EQUAL(w, 1.0f);
}

/* hs_gemm_backward_update = hs_gemm_kernel's NN product for din (from the weight before the step)
 * and hs_gemm_tn_update for the weight and its momentum, bit for bit, din strided with its cells
 * beyond each row untouched, or not wanted; every shape of both lists (R, Co, K) = (K, M, N) with
 * R up to HS_GEMM_UPDATE_MAX_K, momentum with decay and Nesterov. */
static void test_backward_update_bits(void) {
    hs_rng r;
    hs_rng_init(&r, 31, hs_rng_stream(HS_STREAM_TEST, 5));
    const int n1 = (int)(sizeof shapes / sizeof shapes[0]), n2 = (int)(sizeof kernel_shapes / sizeof kernel_shapes[0]);
    const hs_optim_opts rules[2] = {{.kind = HS_OPT_MOMENTUM, .momentum = 0.9},
                                    {.kind = HS_OPT_MOMENTUM, .momentum = 0.7, .nesterov = 1}};
    size_t differ = 0, done = 0;
    for (int q = 0; q < n1 + n2; q++)
        for (int u = 0; u < 2; u++) {
            const int *sh = q < n1 ? shapes[q] : kernel_shapes[q - n1], Co = sh[0], K = sh[1], R = sh[2];
            if (R > HS_GEMM_UPDATE_MAX_K) continue;
            const int ldz = Co + PAD, ldi = K + PAD, ldw = K + PAD, ldd = K + PAD;
            const size_t nz = (size_t)R * ldz, ni = (size_t)R * ldi, nw = (size_t)Co * ldw, nd = (size_t)R * ldd;
            float *dz = malloc(sizeof(float) * nz), *in = malloc(sizeof(float) * ni), *W[2], *D[2];
            hs_optim o[2];
            memset(o, 0, sizeof o);
            CU_ASSERT_FATAL(dz && in);
            for (int v = 0; v < 2; v++) {
                W[v] = malloc(sizeof(float) * nw), D[v] = malloc(sizeof(float) * nd);
                CU_ASSERT_FATAL(W[v] && D[v]);
                CU_ASSERT_EQUAL_FATAL(hs_optim_init(&o[v], &rules[u], nw, NULL), HS_OK);
            }
            fill(W[0], nw, &r), fill(o[0].m, nw, &r), fill(D[0], nd, &r);
            memcpy(W[1], W[0], sizeof(float) * nw), memcpy(o[1].m, o[0].m, sizeof(float) * nw);
            memcpy(D[1], D[0], sizeof(float) * nd);
            for (int step = 0; step < 2; step++) { /* the second step without din */
                fill(dz, nz, &r), fill(in, ni, &r);
                hs_optim_sgd sgd[2];
                CU_ASSERT_FATAL(hs_optim_sgd_of(&o[0], 0, 0.03, 0.01, &sgd[0]));
                CU_ASSERT_FATAL(hs_optim_sgd_of(&o[1], 0, 0.03, 0.01, &sgd[1]));
                hs_gemm_force(2);
                if (step == 0) hs_gemm_kernel(HS_GEMM_NN, R, K, Co, dz, ldz, W[0], ldw, NULL, 0, D[0], ldd, 0);
                hs_gemm_force(0);
                const int a = hs_gemm_tn_update(Co, K, R, dz, ldz, in, ldi, W[0], ldw, &sgd[0]);
                const int b = hs_gemm_backward_update(R, Co, K, dz, ldz, in, ldi, W[1], ldw, step ? NULL : D[1], ldd,
                                                      &sgd[1]);
                CU_ASSERT_EQUAL(a, b);
                CU_ASSERT_EQUAL(b, hs_gemm_have_kernel());
                done += b;
                if (!b) { /* no kernel: nothing to compare */
                    memcpy(W[1], W[0], sizeof(float) * nw), memcpy(o[1].m, o[0].m, sizeof(float) * nw);
                    memcpy(D[1], D[0], sizeof(float) * nd);
                }
            }
            differ += memcmp(W[0], W[1], sizeof(float) * nw) != 0;
            differ += memcmp(o[0].m, o[1].m, sizeof(float) * nw) != 0;
            differ += memcmp(D[0], D[1], sizeof(float) * nd) != 0;
            free(dz), free(in);
            for (int v = 0; v < 2; v++) free(W[v]), free(D[v]), hs_optim_free(&o[v]);
        }
    CU_ASSERT_EQUAL(differ, 0);
    if (hs_gemm_have_kernel()) CU_ASSERT(done > 20);
}

/* hs_gemm_conv is hs_gemm's kernel path, bit for bit, where it takes the kernel for every shape
 * (AVX-512 CPU, AVX2-only BLAS), else hs_gemm's automatic path; NN, NT and TN on every shape. */
static void test_conv_entry_bits(void) {
    hs_rng r;
    hs_rng_init(&r, 29, hs_rng_stream(HS_STREAM_TEST, 4));
    const int all = hs_gemm_conv_all_kernel();
    fprintf(stderr, " (hs_gemm_conv: %s) ", all ? "the kernel for every shape" : "hs_gemm's rule");
    size_t differ = 0;
    for (size_t q = 0; q < sizeof shapes / sizeof shapes[0]; q++)
        for (int o = 0; o < 3; o++) {
            const int M = shapes[q][0], N = shapes[q][1], K = shapes[q][2];
            const hs_gemm_op op = (hs_gemm_op)o;
            const int lda = (op == HS_GEMM_TN ? M : K) + PAD, ldb = (op == HS_GEMM_NT ? K : N) + PAD, ldc = N + PAD;
            const size_t na = (size_t)(op == HS_GEMM_TN ? K : M) * lda,
                         nb = (size_t)(op == HS_GEMM_NT ? N : K) * ldb, nc = (size_t)M * ldc;
            float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * nb), *C[2];
            for (int v = 0; v < 2; v++) C[v] = malloc(sizeof(float) * nc);
            CU_ASSERT_FATAL(A && B && C[0] && C[1]);
            fill(A, na, &r), fill(B, nb, &r), fill(C[0], nc, &r);
            memcpy(C[1], C[0], sizeof(float) * nc);
            hs_gemm_conv(op, M, N, K, A, lda, B, ldb, NULL, 1, C[0], ldc);
            hs_gemm_force(all ? 2 : 0);
            hs_gemm(op, M, N, K, A, lda, B, ldb, NULL, 1, C[1], ldc);
            hs_gemm_force(0);
            differ += memcmp(C[0], C[1], sizeof(float) * nc) != 0;
            free(A), free(B), free(C[0]), free(C[1]);
        }
    CU_ASSERT_EQUAL(differ, 0);
}

static void test_kernel_path(void) {
    if (!hs_gemm_have_kernel()) fprintf(stderr, "\n  (no AVX-512 on this CPU: the kernel path is cblas too) ");
    run_all(2);
}

static void test_cblas_path(void) { run_all(1); }

static void test_automatic_path(void) { run_all(0); }

/* The kernel and cblas differ only in summation order: on a 128 x 100 x 784 product (the first
 * layer of the bench net) they agree to a few float ulps of the result's scale, and a wrong
 * index anywhere would be off by O(1). */
static void test_kernel_vs_cblas(void) {
    enum { M = 128, N = 100, K = 784 };
    hs_rng r;
    hs_rng_init(&r, 5, hs_rng_stream(HS_STREAM_TEST, 99));
    float *A = malloc(sizeof(float) * M * K), *W = malloc(sizeof(float) * N * K), *b = malloc(sizeof(float) * N),
          *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
    CU_ASSERT_FATAL(A && W && b && C1 && C2);
    fill(A, (size_t)M * K, &r), fill(W, (size_t)N * K, &r), fill(b, N, &r);
    hs_gemm_force(1);
    hs_gemm(HS_GEMM_NT, M, N, K, A, K, W, K, b, 0, C1, N);
    hs_gemm_force(2);
    hs_gemm(HS_GEMM_NT, M, N, K, A, K, W, K, b, 0, C2, N);
    hs_gemm_force(0);
    double worst = 0;
    for (int i = 0; i < M * N; i++) worst = fmax(worst, fabs((double)C1[i] - C2[i]));
    CU_ASSERT(worst < 1e-4); /* entries are sums of 784 products in [-1, 1]: |C| ~ 10 */
    free(A), free(W), free(b), free(C1), free(C2);
}

/* Fused BN + ReLU forward and backward (with the dense layer's db) against hs_bn_forward_train +
 * hs_act_forward and hs_act_backward + hs_bn_backward + a column sum: identical bits, about
 * half the pre-activations negative. */
static void fused_case(const int B, const int C) {
    const int N = B * C;
    hs_rng r;
    hs_rng_init(&r, 3, hs_rng_stream(HS_STREAM_TEST, (uint32_t)C));
    float *buf = malloc(sizeof(float) * (16 * (size_t)N + 16 * C));
    CU_ASSERT_FATAL(buf != NULL);
    float *z = buf, *out1 = z + N, *out2 = out1 + N, *xh1 = out2 + N, *xh2 = xh1 + N, *dh = xh2 + N, *dm = dh + N,
          *din1 = dm + N, *din2 = din1 + N, *p = din2 + N;
    float *gamma = p, *beta = p + C, *rs1 = p + 2 * C, *rs2 = p + 3 * C, *rm1 = p + 4 * C, *rm2 = p + 5 * C,
          *rv1 = p + 6 * C, *rv2 = p + 7 * C, *dg1 = p + 8 * C, *dg2 = p + 9 * C, *db1 = p + 10 * C,
          *db2 = p + 11 * C, *sum1 = p + 12 * C, *sum2 = p + 13 * C;
    fill(z, N, &r), fill(dh, N, &r), fill(beta, C, &r);
    for (int c = 0; c < C; c++) {
        gamma[c] = 0.5f + hs_rng_uniformf(&r);
        rm1[c] = rm2[c] = 0.1f, rv1[c] = rv2[c] = 1.0f;
    }
    for (int i = 0; i < N; i++) z[i] = 3.0f * z[i] + 0.5f;

    hs_bn_forward_train(out1, xh1, rs1, z, gamma, beta, rm1, rv1, B, C, 1e-5f, 0.1f);
    hs_act_forward(out1, out1, N, HS_ACT_RELU);
    hs_bn_relu_forward_train(out2, xh2, rs2, z, gamma, beta, rm2, rv2, B, C, 1e-5f, 0.1f);
    CU_ASSERT(memcmp(out1, out2, sizeof(float) * N) == 0);
    CU_ASSERT(memcmp(xh1, xh2, sizeof(float) * N) == 0);
    CU_ASSERT(memcmp(rs1, rs2, sizeof(float) * C) == 0);
    CU_ASSERT(memcmp(rm1, rm2, sizeof(float) * C) == 0);
    CU_ASSERT(memcmp(rv1, rv2, sizeof(float) * C) == 0);
    int zeros = 0;
    for (int i = 0; i < N; i++) zeros += out1[i] == 0.0f;
    CU_ASSERT(zeros > N / 4 && zeros < 3 * N / 4); /* the mask matters */

    hs_act_backward(dm, dh, out1, N, HS_ACT_RELU);
    hs_bn_backward(din1, dg1, db1, dm, xh1, rs1, gamma, B, C);
    for (int c = 0; c < C; c++) sum1[c] = 0.0f;
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) sum1[c] += din1[(size_t)b * C + c];
    hs_bn_act_backward(din2, dg2, db2, dh, out1, xh1, rs1, gamma, sum2, B, C);
    CU_ASSERT(memcmp(din1, din2, sizeof(float) * N) == 0);
    CU_ASSERT(memcmp(dg1, dg2, sizeof(float) * C) == 0);
    CU_ASSERT(memcmp(db1, db2, sizeof(float) * C) == 0);
    CU_ASSERT(memcmp(sum1, sum2, sizeof(float) * C) == 0);
    /* without the mask and the sum it is hs_bn_backward itself */
    hs_bn_backward(din1, dg1, db1, dh, xh1, rs1, gamma, B, C);
    hs_bn_act_backward(din2, dg2, db2, dh, NULL, xh1, rs1, gamma, NULL, B, C);
    CU_ASSERT(memcmp(din1, din2, sizeof(float) * N) == 0);
    CU_ASSERT(memcmp(dg1, dg2, sizeof(float) * C) == 0);
    free(buf);
}

/* 100 and 37 features take the blocked AVX-512 form (4 vectors a block, masked tails), 300 the
 * row-streaming one; the portable loops where the CPU has no AVX-512. */
static void test_fused_bn_relu(void) {
    fused_case(37, 300);
    fused_case(128, 100);
    fused_case(5, 37);
}

int main(void) {
    static const hs_test tests[] = {
        {"kernel path vs double reference: NN/NT/TN, odd shapes, bias, accumulate", test_kernel_path},
        {"cblas path vs double reference", test_cblas_path},
        {"automatic path vs double reference; hs_gemm_kernel on both paths", test_automatic_path},
        {"hs_gemm_nt_short (transposed, weight streamed) vs double reference", test_nt_short},
        {"hs_gemm_kernel bit-identical to hs_gemm's kernel path", test_kernel_entry_bits},
        {"hs_gemm_conv bit-identical to the hs_gemm path it takes", test_conv_entry_bits},
        {"hs_gemm_tn_update = TN product + hs_optim_update, bit for bit", test_tn_update_bits},
        {"hs_gemm_backward_update = NN din + hs_gemm_tn_update, bit for bit", test_backward_update_bits},
        {"kernel and cblas agree on a 128 x 100 x 784 product", test_kernel_vs_cblas},
        {"fused BN + ReLU forward/backward bit-identical to the public kernels", test_fused_bn_relu},
        {NULL, NULL},
    };
    return hs_test_main("gemm", tests);
}
