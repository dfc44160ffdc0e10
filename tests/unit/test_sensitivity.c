/* test_sensitivity.c - the numerics of the sensitivity and stability probes: the pairwise mean Z
 * against the brute-force double loop; S and D of the identity map against a count of symbols
 * derived by hand; D_{k,1} = 0 for a net that max-pools over sub-patches (exactly tau_1-invariant);
 * the Gaussian control's sigma and Petrini's R_f at the input against their closed forms; the
 * diffeomorphisms (identity at T = 0, bilinear clamped remap, displacement statistics). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/data.h"
#include "hsweep/metrics.h"
#include "hsweep/rng.h"
#include "srhm_helpers.h"
#include "testing.h"

#define REL(a, b, tol) CU_ASSERT(fabs((a) - (b)) <= (tol) * fabs(b))

/* The definition, literally: the mean over all n^2 ordered pairs of ||a_i - a_j||^2. */
static double brute_pairs(const float *a, size_t n, size_t w) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (size_t k = 0; k < w; k++) {
                double d = (double)a[i * w + k] - a[j * w + k];
                s += d * d;
            }
    return s / ((double)n * n);
}

static void test_pair_mean(void) {
    enum { N = 37, W = 23 };
    static float a[N * W];
    hs_rng r;
    hs_rng_init(&r, 1, 2);
    /* a large common offset (1000) over unit spread: the Gram identity without the shift would
     * lose 6 of its 16 digits to cancellation */
    for (int i = 0; i < N * W; i++) a[i] = (float)(1000.0 + hs_rng_normal(&r));
    double brute = brute_pairs(a, N, W);
    REL(hs_pair_mean(a, N, W), brute, 1e-12);
    double sum[W], shift[W];
    hs_pair_acc z;
    hs_pair_acc_init(&z, W, sum, shift);
    CU_ASSERT(isnan(hs_pair_acc_mean(&z)));
    hs_pair_acc_add(&z, a, 5), hs_pair_acc_add(&z, a + 5 * W, 0), hs_pair_acc_add(&z, a + 5 * W, N - 5);
    REL(hs_pair_acc_mean(&z), brute, 1e-12);
    /* diagonal included: (N-1)/N of the mean over distinct pairs, which for i.i.d. unit-variance
     * entries is about 2 W */
    CU_ASSERT(fabs(brute * N / (N - 1) / (2.0 * W) - 1) < 0.15);
    /* one row, identical rows: 0; the hand case {0, 3} in one dimension: (0 + 9 + 9 + 0) / 4 */
    CU_ASSERT_EQUAL(hs_pair_mean(a, 1, W), 0.0);
    float two[2] = {0, 3};
    CU_ASSERT_EQUAL(hs_pair_mean(two, 2, 1), 4.5);
    CU_ASSERT(isnan(hs_pair_mean(a, 0, W)));
}

/* Entries differing between the encodings of two symbol strings: a position informative in one
 * only differs in one channel, in both with other symbols in two (see test_identity_map). */
static double delta(const int32_t *p, const int32_t *q, int d) {
    double c = 0;
    for (int i = 0; i < d; i++) {
        if ((p[i] < 0) != (q[i] < 0)) c += 1;
        else if (p[i] >= 0 && p[i] != q[i]) c += 2;
    }
    return c;
}

/* The identity map f(x) = x on the encoded inputs, by hand. Whitening sends a one to 1 and a zero
 * to -a (a = 1/sqrt(v-1)), so two encodings differ only in entries where one holds a one and the
 * other a zero, each by 1 + a:
 *     ||enc(p) - enc(q)||^2 = (1 + a)^2 Delta(p, q),
 *     Delta = #{positions informative in exactly one of p, q} + 2 #{positions informative in both
 *             with different symbols}.
 * The factor (1 + a)^2 cancels in the ratio, so
 *     S_{0,l} = mean_i Delta(x_i, P_l x_i) / mean_{i,j} Delta(x_i, x_j)   (all n^2 pairs),
 *     D_{0,l} = the same with tau_l,
 * numbers of symbols, computed here without any float. */
static void test_identity_map(void) {
    hs_rhm *g = make((hs_rhm_opts){.v = 4, .n_c = 4, .m = 4, .s = 2, .L = 2, .s0 = 1, .rule_seed = 2});
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    hs_rhm_probes P;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_rhm_probes_make(g, 3, 6, &P, &err), HS_OK);
    const int n = P.n, d = g->d, dim = g->o.v * d;
    float *x = malloc((size_t)n * dim * sizeof *x), *px = malloc((size_t)n * dim * sizeof *px);
    int32_t *sym = malloc((size_t)P.blocks * n * d * sizeof *sym);
    for (int b = 0; b < P.blocks; b++)
        for (int i = 0; i < n; i++) hs_rhm_build(g, &P.c[(size_t)b * n + i], sym + ((size_t)b * n + i) * d);
    double pairs = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) pairs += delta(sym + (size_t)i * d, sym + (size_t)j * d, d);
    pairs /= (double)n * n;
    hs_rhm_probes_encode(g, &P, 0, 0, n, 1, x);
    for (int b = 1; b < P.blocks; b++) {
        double moved = 0;
        for (int i = 0; i < n; i++) moved += delta(sym + (size_t)i * d, sym + ((size_t)b * n + i) * d, d);
        double want = moved / n / pairs;
        hs_rhm_probes_encode(g, &P, b, 0, n, 1, px);
        double got = hs_sensitivity(x, px, n, dim);
        REL(got, want, 1e-6); /* float encodings: (1 + a)^2 in float against the exact ratio */
        CU_ASSERT(want > 0);
    }
    free(x), free(px), free(sym);
    hs_rhm_probes_free(&P);
    hs_rhm_free(g);
}

/* A toy net on [v x d] inputs: node 0 = the per-channel max over each sub-patch of s0 + 1
 * positions (a window aligned with the sub-patches), node 1 = ReLU(W1 node0), node 2 = W2 node1.
 * Sparsity A keeps every leaf inside its own sub-patch under tau_1, so node 0 and everything
 * after it cannot see tau_1: D_{k,1} = 0 exactly; tau_2 moves whole patches across windows. */
static void toy_forward(const hs_rhm *g, const float *x, int n, const float *W1, const float *W2, int h, float *f0,
                        float *f1, float *f2) {
    const int v = g->o.v, d = g->d, w = g->o.s0 + 1, nw = d / w, in = v * nw;
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * v * d;
        float *a = f0 + (size_t)i * in, *b = f1 + (size_t)i * h, *c = f2 + (size_t)i * 3;
        for (int ch = 0; ch < v; ch++)
            for (int q = 0; q < nw; q++) {
                float m = xi[ch * d + q * w];
                for (int o = 1; o < w; o++) m = fmaxf(m, xi[ch * d + q * w + o]);
                a[ch * nw + q] = m;
            }
        for (int u = 0; u < h; u++) {
            double s = 0;
            for (int k = 0; k < in; k++) s += (double)W1[u * in + k] * a[k];
            b[u] = s > 0 ? (float)s : 0.0f;
        }
        for (int o = 0; o < 3; o++) {
            double s = 0;
            for (int u = 0; u < h; u++) s += (double)W2[o * h + u] * b[u];
            c[o] = (float)s;
        }
    }
}

static void test_invariant_net(void) {
    hs_rhm *g = make((hs_rhm_opts){.v = 4, .n_c = 4, .m = 4, .s = 2, .L = 2, .s0 = 2, .rule_seed = 8});
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    hs_rhm_probes P;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_rhm_probes_make(g, 4, 5, &P, &err), HS_OK);
    const int n = P.n, dim = g->o.v * g->d, in = g->o.v * g->d / (g->o.s0 + 1), h = 16;
    float *W1 = malloc((size_t)h * in * sizeof *W1), W2[3 * 16];
    hs_rng r;
    hs_rng_init(&r, 9, 9);
    for (int i = 0; i < h * in; i++) W1[i] = (float)hs_rng_normal(&r);
    for (int i = 0; i < 3 * h; i++) W2[i] = (float)hs_rng_normal(&r);
    float *x = malloc((size_t)n * dim * sizeof *x), *f[2][3];
    const int widths[3] = {in, h, 3};
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 3; k++) f[s][k] = malloc((size_t)n * widths[k] * sizeof *f[s][k]);
    hs_rhm_probes_encode(g, &P, 0, 0, n, 1, x);
    toy_forward(g, x, n, W1, W2, h, f[0][0], f[0][1], f[0][2]);
    const int L = 2;
    for (int l = 1; l <= L; l++) {
        hs_rhm_probes_encode(g, &P, L + l, 0, n, 1, x); /* tau_l */
        toy_forward(g, x, n, W1, W2, h, f[1][0], f[1][1], f[1][2]);
        for (int k = 0; k < 3; k++) {
            double D = hs_sensitivity(f[0][k], f[1][k], n, widths[k]);
            if (l == 1) {
                CU_ASSERT_EQUAL(D, 0.0);
            } else {
                CU_ASSERT(D > 0.05);
            }
        }
        hs_rhm_probes_encode(g, &P, l, 0, n, 1, x); /* P_l: the synonyms still show */
        toy_forward(g, x, n, W1, W2, h, f[1][0], f[1][1], f[1][2]);
        for (int k = 0; k < 3; k++) CU_ASSERT(hs_sensitivity(f[0][k], f[1][k], n, widths[k]) > 0.05);
    }
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 3; k++) free(f[s][k]);
    free(W1), free(x);
    hs_rhm_probes_free(&P);
    hs_rhm_free(g);
}

static void test_noise_sigma(void) {
    /* {0, 0} and {3, 4}: both pairs (0, 1) and (1, 0) have RMS sqrt((9 + 16) / 2) */
    float x[4] = {0, 0, 3, 4};
    REL(hs_noise_sigma(x, 2, 2), sqrt(12.5), 1e-15);
    /* three points on a line 0, 1, 3: pairs (0,1) 1, (1,2) 2, (2,0) 3: mean 2 */
    float y[3] = {0, 1, 3};
    REL(hs_noise_sigma(y, 3, 1), 2.0, 1e-15);
    CU_ASSERT(isnan(hs_noise_sigma(x, 1, 2)));
}

/* R_f of the identity on images: eta_i isotropic with ||eta_i|| = m1 = mean_j ||tau x_j - x_j||,
 * so G = m1^2 / M and D = m2 / M with m2 = mean ||tau x - x||^2: R = m2 / m1^2 >= 1 whatever M. */
static void test_stability_identity(void) {
    enum { NI = 24, N = 12, CH = 2 };
    const int dim = CH * N * N, c = 3;
    float *x = malloc((size_t)NI * dim * sizeof *x), *tx = malloc((size_t)NI * dim * sizeof *tx);
    float *ex = malloc((size_t)NI * dim * sizeof *ex), dx[N * N], dy[N * N];
    double work[N * 3], m1 = 0, m2 = 0;
    hs_rng r;
    hs_rng_init(&r, 5, 6);
    for (int i = 0; i < NI * dim; i++) x[i] = (float)hs_rng_normal(&r);
    double T = sqrt(hs_diffeo_t_min(N, c) * hs_diffeo_t_max(c));
    for (int i = 0; i < NI; i++) {
        hs_diffeo_field(N, c, T, &r, work, dx, dy);
        hs_diffeo_apply(x + (size_t)i * dim, CH, N, dx, dy, tx + (size_t)i * dim);
        double q = hs_sq_dist_sum(x + (size_t)i * dim, tx + (size_t)i * dim, 1, dim);
        m1 += sqrt(q), m2 += q;
    }
    m1 /= NI, m2 /= NI;
    for (int i = 0; i < NI; i++) {
        double s = 0;
        for (int k = 0; k < dim; k++) {
            ex[(size_t)i * dim + k] = (float)hs_rng_normal(&r);
            s += (double)ex[(size_t)i * dim + k] * ex[(size_t)i * dim + k];
        }
        float *e = ex + (size_t)i * dim;
        for (int k = 0; k < dim; k++) e[k] = x[(size_t)i * dim + k] + (float)(e[k] * m1 / sqrt(s));
    }
    hs_stability st = hs_relative_stability(x, tx, ex, NI, dim);
    double M = brute_pairs(x, NI, dim) * NI / (NI - 1);
    REL(st.D, m2 / M, 1e-9);
    REL(st.G, m1 * m1 / M, 1e-5); /* x + eta rounded to float */
    REL(st.R, m2 / (m1 * m1), 1e-5);
    CU_ASSERT(st.R >= 1.0);
    hs_stability none = hs_relative_stability(x, tx, ex, 1, dim);
    CU_ASSERT(isnan(none.R));
    free(x), free(tx), free(ex);
}

static void test_diffeo_remap(void) {
    enum { N = 5 };
    float in[2 * N * N], out[2 * N * N], dx[N * N], dy[N * N];
    for (int i = 0; i < 2 * N * N; i++) in[i] = (float)(i * i % 17) - 3.5f;
    /* T = 0: the identity, bit for bit */
    double work[N * 4];
    hs_rng r;
    hs_rng_init(&r, 1, 1);
    hs_diffeo_field(N, 4, 0.0, &r, work, dx, dy);
    for (int p = 0; p < N * N; p++) CU_ASSERT(dx[p] == 0 && dy[p] == 0);
    hs_diffeo_apply(in, 2, N, dx, dy, out);
    CU_ASSERT(memcmp(in, out, sizeof in) == 0);
    /* half a pixel to the right: out(y, x) = (in(y, x - 1) + in(y, x)) / 2, column 0 clamped */
    for (int p = 0; p < N * N; p++) dx[p] = 0.5f, dy[p] = 0;
    hs_diffeo_apply(in, 2, N, dx, dy, out);
    for (int ch = 0; ch < 2; ch++)
        for (int y = 0; y < N; y++)
            for (int x = 0; x < N; x++) {
                const float *a = in + ch * N * N + y * N;
                float want = x == 0 ? a[0] : 0.5f * (a[x - 1] + a[x]);
                CU_ASSERT(fabsf(out[ch * N * N + y * N + x] - want) < 1e-6f);
            }
    /* 1.25 pixels up (dy = -1.25): out(y, x) = 0.75 in(y+1, x) + 0.25 in(y+2, x), rows clamped at
     * N - 1 */
    for (int p = 0; p < N * N; p++) dx[p] = 0, dy[p] = -1.25f;
    hs_diffeo_apply(in, 1, N, dx, dy, out);
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) {
            double yn = y + 1.25 > N - 1 ? N - 1 : y + 1.25;
            int yf = (int)floor(yn), yc = (int)ceil(yn);
            double want = (1 - (yn - yf)) * in[yf * N + x] + (yn - yf) * in[yc * N + x];
            CU_ASSERT(fabs(out[y * N + x] - want) < 1e-5);
        }
}

/* The temperatures and the displacement field's size. Every C_ij is N(0, T / r^2) and the
 * fields are sums of independent modes, so at pixel (y, x)
 *     E[dx^2 + dy^2] = 2 n^2 T sum_modes sin^2(i pi u_x) sin^2(j pi v_y) / (i^2 + j^2),
 * whose mean over the image is 2 n^2 T sum_modes m_i m_j / r^2, m_i = mean_p sin^2(i pi p/(n-1)).
 * The empirical mean over 400 fields must match it within 5% (its relative standard error is
 * about 1.5% here), and its square root must be within a factor 1.3 of Petrini's typical
 * displacement delta (0.89 delta for n = 28, c = 3: delta's ln c is the large-c sum). */
static void test_diffeo_statistics(void) {
    enum { N = 28, C = 3, K = 400 };
    REL(hs_diffeo_t_min(N, C), 1.0 / (3.141592653589793 * N * N * log(3.0)), 1e-15);
    REL(hs_diffeo_t_max(C), 4.0 / (pow(3.141592653589793, 3) * 9 * log(3.0)), 1e-15);
    REL(hs_diffeo_delta(N, C, hs_diffeo_t_min(N, C)), 0.5, 1e-12); /* half a pixel at T_min */
    double T = sqrt(hs_diffeo_t_min(N, C) * hs_diffeo_t_max(C));
    double m[C + 1] = {0}, expect = 0;
    for (int i = 1; i <= C; i++) {
        for (int p = 0; p < N; p++) m[i] += pow(sin(3.141592653589793 * i * p / (N - 1)), 2);
        m[i] /= N;
    }
    for (int i = 1; i <= C; i++)
        for (int j = 1; j <= C; j++)
            if (sqrt(i * i + j * j) < C + 0.5) expect += m[i] * m[j] / (i * i + j * j);
    expect *= 2.0 * N * N * T;
    static float dx[N * N], dy[N * N];
    double work[N * C], got = 0;
    hs_rng r;
    hs_rng_init(&r, 17, 3);
    for (int k = 0; k < K; k++) {
        hs_diffeo_field(N, C, T, &r, work, dx, dy);
        for (int p = 0; p < N * N; p++) got += (double)dx[p] * dx[p] + (double)dy[p] * dy[p];
        /* zero on the border: sin(0) = sin(pi) = 0 */
        for (int q = 0; q < N; q++) CU_ASSERT(fabsf(dx[q]) < 1e-4f && fabsf(dy[(N - 1) * N + q]) < 1e-4f);
    }
    got /= (double)K * N * N;
    REL(got, expect, 0.05);
    double ratio = sqrt(got) / hs_diffeo_delta(N, C, T);
    CU_ASSERT(ratio > 1 / 1.3 && ratio < 1.3);
    /* a pure function of the stream */
    float ex[N * N], ey[N * N];
    hs_rng_init(&r, 17, 3);
    hs_diffeo_field(N, C, T, &r, work, ex, ey);
    hs_rng_init(&r, 17, 3);
    hs_diffeo_field(N, C, T, &r, work, dx, dy);
    CU_ASSERT(memcmp(ex, dx, sizeof ex) == 0 && memcmp(ey, dy, sizeof ey) == 0);
}

int main(void) {
    static const hs_test tests[] = {
        {"Z by the Gram identity equals the brute-force mean over all ordered pairs", test_pair_mean},
        {"S and D of the identity map equal the hand-derived count of changed symbols", test_identity_map},
        {"a net max-pooling over sub-patches has D_{k,1} = 0 at every node", test_invariant_net},
        {"the Gaussian control's sigma on hand cases", test_noise_sigma},
        {"R_f of the identity is mean |tau x - x|^2 / (mean |tau x - x|)^2", test_stability_identity},
        {"diffeomorphisms: T = 0 is the identity; bilinear remap with clamping", test_diffeo_remap},
        {"diffeomorphisms: temperatures and the displacement's size", test_diffeo_statistics},
        {NULL, NULL},
    };
    return hs_test_main("sensitivity", tests);
}
