/* test_theory.c - the linear-network theory of theory.h: the Saxe closed form against the RK4
 * integrator of the N_l = 3 ODE, the time-to-learn formula against the closed form, the
 * unbalanced and deep ODEs against direct simulations of the layers' scalar strengths written
 * here, the time constant of discrete training against a real two-layer linear MLP, and the
 * gated routing ODEs: conserved quantities, the fixed point 4.5635, 3.5486, 2.7543, 2.7543 of the
 * toy task (s computed as singular values of Y^T X) by RK4 and by Newton, the epoch time unit. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/nn.h"
#include "hsweep/rng.h"
#include "hsweep/theory.h"
#include "testing.h"

/* ================================================================ helpers */

/* A reference RK4 for dy/dt = f(y) (n <= 3), fixed step h, from t = 0 to T (T a multiple of h). */
typedef void (*ref_rhs)(const double *y, double *dy, const double *p);
static void ref_rk4(ref_rhs f, const double *p, double *y, int n, double h, long steps) {
    double k1[3], k2[3], k3[3], k4[3], t[3];
    for (long q = 0; q < steps; q++) {
        f(y, k1, p);
        for (int i = 0; i < n; i++) t[i] = y[i] + 0.5 * h * k1[i];
        f(t, k2, p);
        for (int i = 0; i < n; i++) t[i] = y[i] + 0.5 * h * k2[i];
        f(t, k3, p);
        for (int i = 0; i < n; i++) t[i] = y[i] + h * k3[i];
        f(t, k4, p);
        for (int i = 0; i < n; i++) y[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    }
}

/* The toy task's Y^T X (X = I_4): [7 x 4] row-major, feature f of item n at f * 4 + n. */
static void toy_sigma(double *yx) {
    memset(yx, 0, 28 * sizeof(double));
    for (int n = 0; n < 4; n++) {
        yx[0 * 4 + n] = 6;
        yx[1 * 4 + n] = n < 2 ? 4 : 0;
        yx[2 * 4 + n] = n < 2 ? 0 : 4;
        yx[(3 + n) * 4 + n] = 3;
    }
}

static void toy_svals(double *s) {
    double a[28], u[28], vt[16];
    toy_sigma(a);
    CU_ASSERT_EQUAL_FATAL(LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', 7, 4, a, 4, s, u, 4, vt, 4), 0);
}

static const double TOY_BH[4] = {4.5635, 3.5486, 2.7543, 2.7543};

/* ================================================================ deep linear networks */

/* Closed form vs RK4 of tau du/dt = 2 u (s - u) (N_l = 3) at many times across the transition. */
static void test_closed_form_vs_rk4(void) {
    hs_error err = {0};
    const double s = 3.0, a0 = 1e-3, tau = 50.0;
    double t[41], u[41], worst = 0;
    for (int k = 0; k <= 40; k++) t[k] = 10.0 * k;
    CU_ASSERT_EQUAL_FATAL(hs_dln_deep(3, s, a0, tau, HS_ODE_RK4, 0.05, t, 41, u, &err), HS_OK);
    for (int k = 0; k <= 40; k++) worst = fmax(worst, fabs(u[k] - hs_dln_strength(s, a0, t[k], tau)));
    printf("\n  closed form vs RK4 (N_l = 3): max |diff| = %.3g\n", worst);
    CU_ASSERT(worst < 1e-8);
    CU_ASSERT_DOUBLE_EQUAL(u[0], a0, 0);
    CU_ASSERT(u[40] > 0.999 * s); /* the transition happened in the window */
    CU_ASSERT(u[1] < 0.01);       /* ... and not at its start */
    /* the unbalanced ODE with c = 0 is the same flow */
    double v[41];
    CU_ASSERT_EQUAL_FATAL(hs_dln_unbalanced(s, 0.0, a0, tau, HS_ODE_RK4, 0.05, t, 41, v, &err), HS_OK);
    for (int k = 0; k <= 40; k++) CU_ASSERT(fabs(v[k] - u[k]) < 1e-12);
}

/* t(u0 -> uf) puts the closed form at uf; hand values of the formula; the rising and the falling
 * case; an unreachable target is NaN. */
static void test_time_to_learn(void) {
    const double s = 5.0, tau = 20.0;
    const double u0[3] = {1e-4, 0.01, 2.0}, uf[3] = {2.5, 4.9, 4.0};
    for (int q = 0; q < 3; q++) {
        const double t = hs_dln_time_to_learn(s, u0[q], uf[q], tau);
        CU_ASSERT(t > 0);
        CU_ASSERT(fabs(hs_dln_strength(s, u0[q], t, tau) - uf[q]) < 1e-12 * s);
    }
    /* u0 = 1, uf = s/2 = 2.5: (tau/2s) ln[2.5 * 4 / (1 * 2.5)] = 2 ln 4 */
    CU_ASSERT_DOUBLE_EQUAL(hs_dln_time_to_learn(s, 1.0, 2.5, tau), 2.0 * log(4.0), 1e-12);
    const double down = hs_dln_time_to_learn(s, 8.0, 6.0, tau);
    CU_ASSERT(down > 0);
    CU_ASSERT(fabs(hs_dln_strength(s, 8.0, down, tau) - 6.0) < 1e-12);
    CU_ASSERT(isnan(hs_dln_time_to_learn(s, 1.0, 6.0, tau))); /* s is never crossed */
    /* the closed form is the sigmoid: u(0) = a0, u(inf) = s, no overflow far out */
    CU_ASSERT_DOUBLE_EQUAL(hs_dln_strength(s, 0.3, 0.0, tau), 0.3, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(hs_dln_strength(s, 0.3, 1e9, tau), s, 1e-12);
}

/* Two layers of strengths a, b: tau a' = b (s - ab), tau b' = a (s - ab), a0^2 - b0^2 = c. */
static void rhs_two(const double *y, double *dy, const double *p) {
    const double e = p[0] - y[0] * y[1];
    dy[0] = y[1] * e / p[1], dy[1] = y[0] * e / p[1];
}

/* Three equal layers of strength b: tau b' = b^2 (s - b^3); u = b^3. */
static void rhs_three(const double *y, double *dy, const double *p) {
    dy[0] = y[0] * y[0] * (p[0] - pow(y[0], 3)) / p[1];
}

static void test_unbalanced_and_deep(void) {
    hs_error err = {0};
    const double s = 2.0, tau = 10.0, a0 = 0.5, b0 = 0.05, c = a0 * a0 - b0 * b0;
    double t[6] = {0, 5, 10, 20, 40, 80}, u[6];
    CU_ASSERT_EQUAL_FATAL(hs_dln_unbalanced(s, c, a0 * b0, tau, HS_ODE_RK4, 0.01, t, 6, u, &err), HS_OK);
    double y[2] = {a0, b0}, p[2] = {s, tau}, prev = 0, worst = 0;
    for (int k = 0; k < 6; k++) {
        ref_rk4(rhs_two, p, y, 2, 0.001, lround((t[k] - prev) / 0.001));
        prev = t[k];
        worst = fmax(worst, fabs(u[k] - y[0] * y[1]));
    }
    printf("\n  unbalanced ODE vs two layers: max |diff| = %.3g\n", worst);
    CU_ASSERT(worst < 1e-9);
    CU_ASSERT(u[5] > 0.99 * s);

    const double ub = 0.2; /* b = 0.2, u = 0.008 */
    double v[6];
    CU_ASSERT_EQUAL_FATAL(hs_dln_deep(4, s, ub * ub * ub, tau, HS_ODE_RK4, 0.01, t, 6, v, &err), HS_OK);
    double z = ub;
    prev = 0, worst = 0;
    for (int k = 0; k < 6; k++) {
        ref_rk4(rhs_three, p, &z, 1, 0.001, lround((t[k] - prev) / 0.001));
        prev = t[k];
        worst = fmax(worst, fabs(v[k] - z * z * z));
    }
    printf("  deep ODE (N_l = 4) vs three layers: max |diff| = %.3g\n", worst);
    CU_ASSERT(worst < 1e-8);
    CU_ASSERT(v[5] > 0.99 * s);
    /* N_l = 2: tau u' = s - u, u = s + (u0 - s) e^{-t/tau} */
    CU_ASSERT_EQUAL_FATAL(hs_dln_deep(2, s, 0.0, tau, HS_ODE_RK4, 0.01, t, 6, v, &err), HS_OK);
    for (int k = 0; k < 6; k++) CU_ASSERT(fabs(v[k] - s * (1 - exp(-t[k] / tau))) < 1e-10);
}

/* Euler takes steps of exactly dt on an epoch grid: 3 steps of u' = s - u by hand. */
static void test_euler_steps(void) {
    hs_error err = {0};
    double t[2] = {0.3, 0.3}, u[2];
    CU_ASSERT_EQUAL_FATAL(hs_dln_deep(2, 1.0, 0.0, 1.0, HS_ODE_EULER, 0.1, t, 2, u, &err), HS_OK);
    const double hand = 1 - 0.9 * 0.9 * 0.9; /* u_{k+1} = u_k + 0.1 (1 - u_k) */
    CU_ASSERT_DOUBLE_EQUAL(u[0], hand, 1e-15);
    CU_ASSERT_EQUAL(u[1], u[0]); /* a repeated time adds no step */
}

/* tau of discrete training: hand values, and a real two-layer linear MLP (balanced init, no
 * bias, full-batch SGD on PyTorch-style MSE) whose mode strengths follow the closed form with
 * tau = N_out / (2 eta) epochs. Whitened inputs: x_k = 2 e_k for 4 examples, (1/n) X^T X = I. */
static void test_tau_mapping(void) {
    CU_ASSERT_DOUBLE_EQUAL(hs_dln_tau(HS_DLN_LOSS_HALF_MEAN, 10, 0.01), 100.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(hs_dln_tau(HS_DLN_LOSS_MSE, 10, 0.01), 500.0, 1e-12);
    CU_ASSERT(isnan(hs_dln_tau(HS_DLN_LOSS_MSE, 0, 0.01)));
    CU_ASSERT(isnan(hs_dln_tau(HS_DLN_LOSS_MSE, 3, 0.0)));

    enum { N = 4, IN = 4, OUT = 3, HID = 8, EPOCHS = 1500 };
    const double eta = 0.005, a0 = 1e-3;
    float x[N * IN] = {0}, y[N * OUT];
    hs_rng r;
    hs_rng_init(&r, 5, hs_rng_stream(HS_STREAM_DATA, 0));
    for (int k = 0; k < N; k++) x[k * IN + k] = 2.0f;
    for (int q = 0; q < N * OUT; q++) y[q] = (float)(1.5 * hs_rng_normal(&r));
    /* Sigma_yx = (1/n) sum y x^T [OUT x IN] */
    double yx[OUT * IN] = {0}, a[OUT * IN], sv[OUT], U[OUT * OUT], Vt[OUT * IN];
    for (int k = 0; k < N; k++)
        for (int o = 0; o < OUT; o++)
            for (int i = 0; i < IN; i++) yx[o * IN + i] += (double)y[k * OUT + o] * x[k * IN + i] / N;
    memcpy(a, yx, sizeof a);
    CU_ASSERT_EQUAL_FATAL(LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', OUT, IN, a, IN, sv, U, OUT, Vt, IN), 0);

    int widths[1] = {HID};
    double scales[2] = {sqrt(a0), sqrt(a0)};
    hs_mlp_opts o = {.in_dim = IN, .out_dim = OUT, .n_hidden = 1, .widths = widths, .norm = HS_NORM_NONE,
                     .act = HS_ACT_IDENTITY, .bias = 0, .init = HS_INIT_BALANCED, .init_scales = scales,
                     .seed = 3, .max_batch = N, .sigma_yx = yx};
    hs_mlp net;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_mlp_init(&net, &o, &err), HS_OK);
    const double tau = hs_dln_tau(HS_DLN_LOSS_MSE, OUT, eta);
    double worst = 0;
    for (int e = 0; e <= EPOCHS; e++) {
        if (e % 50 == 0)
            for (int m = 0; m < OUT; m++) { /* u_m^T W1 W0 v_m */
                double str = 0;
                for (int o2 = 0; o2 < OUT; o2++)
                    for (int h = 0; h < HID; h++)
                        for (int i = 0; i < IN; i++)
                            str += U[o2 * OUT + m] * net.W[1][o2 * HID + h] * net.W[0][h * IN + i] * Vt[m * IN + i];
                worst = fmax(worst, fabs(str - hs_dln_strength(sv[m], a0, e, tau)) / sv[m]);
            }
        const float *logits = hs_mlp_forward(&net, x, N, HS_MODE_TRAIN);
        hs_loss_forward_backward(HS_LOSS_MSE, logits, NULL, y, N, OUT, net.dlogits, NULL);
        hs_mlp_backward(&net, net.dlogits, N);
        for (size_t q = 0; q < net.n_params; q++) net.params[q] -= (float)eta * net.grads[q];
    }
    printf("\n  2-layer linear MLP vs closed form (tau = N_out/(2 eta) = %g epochs): max |diff|/s = %.3g\n", tau,
           worst);
    CU_ASSERT(worst < 0.02);
    hs_mlp_free(&net);
    /* a wrong tau (the HALF_MEAN one) would be far off: the check above can fail */
    const double mid = hs_dln_time_to_learn(sv[0], a0, 0.5 * sv[0], tau);
    CU_ASSERT(fabs(hs_dln_strength(sv[0], a0, mid, 1 / eta) - 0.5 * sv[0]) > 0.3 * sv[0]);
}

/* ================================================================ gated deep linear networks */

static void test_gated_conserved(void) {
    hs_error err = {0};
    const int M = 7, K = 4;
    const double b0 = 0.08, c = -(M - 1) * b0 * b0;
    double t[50];
    for (int k = 0; k < 50; k++) t[k] = 2.0 * k;
    hs_gated_strength b[50];
    double s[4];
    toy_svals(s);
    for (int a = 0; a < 4; a++) {
        CU_ASSERT_EQUAL_FATAL(hs_gated_ode(M, K, s[a], (hs_gated_strength){b0, b0, b0}, HS_ODE_RK4, 0.01, t, 50, b,
                                           &err),
                              HS_OK);
        double worst = 0;
        for (int k = 0; k < 50; k++) {
            worst = fmax(worst, fabs(b[k].h * b[k].h - M * b[k].in * b[k].in - c));
            worst = fmax(worst, fabs(b[k].h * b[k].h - M * b[k].out * b[k].out - c));
        }
        CU_ASSERT(worst < 1e-8); /* RK4 conserves it only to its truncation error */
        CU_ASSERT(b[49].h > 2.5); /* the mode was learned in the window */
        if (a == 0) printf("\n  gated ODE: |b_h^2 - M b_in^2 + (M-1) b0^2| <= %.3g along mode 0\n", worst);
    }
}

static void test_gated_fixed_point(void) {
    hs_error err = {0};
    const int M = 7, K = 4;
    const double b0 = 0.08;
    double s[4];
    toy_svals(s);
    CU_ASSERT_DOUBLE_EQUAL(s[0], sqrt(185.0), 1e-12); /* Gram Y Y^T: 36 J + 16 blocks + 9 I */
    CU_ASSERT_DOUBLE_EQUAL(s[1], sqrt(41.0), 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s[2], 3.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s[3], 3.0, 1e-12);
    const double T[1] = {400.0};
    for (int a = 0; a < 4; a++) {
        double bh;
        CU_ASSERT_EQUAL_FATAL(hs_gated_fixed_point(M, s[a], b0, &bh, &err), HS_OK);
        CU_ASSERT(fabs(bh - TOY_BH[a]) < 5e-5); /* the reference's numbers, rounded to 4 decimals */
        CU_ASSERT(fabs(bh * (bh * bh + (M - 1) * b0 * b0) - M * s[a]) < 1e-12 * M * s[a]);
        hs_gated_strength b;
        CU_ASSERT_EQUAL_FATAL(hs_gated_ode(M, K, s[a], (hs_gated_strength){b0, b0, b0}, HS_ODE_RK4, 0.01, T, 1, &b,
                                           &err),
                              HS_OK);
        printf("%s  mode %d: s = %.6f  b_h(RK4, t = 400) = %.6f  Newton %.6f\n", a ? "" : "\n", a, s[a], b.h, bh);
        CU_ASSERT(fabs(b.h - TOY_BH[a]) < 1e-4);
        CU_ASSERT(fabs(b.h - bh) < 1e-8);
        const double bin = sqrt((bh * bh + (M - 1) * b0 * b0) / M);
        CU_ASSERT(fabs(b.in - bin) < 1e-8 && fabs(b.out - bin) < 1e-8);
    }
    /* b0 = 0: c0 = 0, b_h = cbrt(M s) exactly */
    double bh;
    CU_ASSERT_EQUAL_FATAL(hs_gated_fixed_point(8, 1.0, 0.0, &bh, &err), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(bh, 2.0, 1e-14);
    CU_ASSERT_EQUAL(hs_gated_fixed_point(7, 0.0, 0.08, &bh, &err), HS_ERR_VALUE);
}

/* One epoch of the toy task is dt = lr M / 2 (the reference notebook's Euler step). */
static void test_gated_epoch_time(void) {
    CU_ASSERT_DOUBLE_EQUAL(hs_gated_epoch_time(0.02, 28, 112, 7, 7), 0.07, 1e-15);
    /* in general 2 lr M^2 / (items n_out) when lr_scale = P and rows = P items */
    CU_ASSERT_DOUBLE_EQUAL(hs_gated_epoch_time(0.01, 40, 400, 10, 10), 2 * 0.01 * 100 / (10.0 * 10), 1e-15);
    CU_ASSERT(isnan(hs_gated_epoch_time(0.0, 28, 112, 7, 7)));
    CU_ASSERT(isnan(hs_gated_epoch_time(0.02, 28, 0, 7, 7)));
}

static void test_validation(void) {
    hs_error err = {0};
    double t[2] = {1, 0.5}, u[2];
    hs_gated_strength b[2];
    CU_ASSERT_EQUAL(hs_dln_deep(3, 1, 0.1, 1, HS_ODE_RK4, 0.1, t, 2, u, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "non-decreasing");
    t[1] = 2;
    CU_ASSERT_EQUAL(hs_dln_deep(3, 1, 0.1, 1, HS_ODE_RK4, 0.0, t, 2, u, &err), HS_ERR_VALUE);
    CU_ASSERT_EQUAL(hs_dln_deep(1, 1, 0.1, 1, HS_ODE_RK4, 0.1, t, 2, u, &err), HS_ERR_VALUE);
    CU_ASSERT_EQUAL(hs_dln_unbalanced(1, 0, 0.1, 0, HS_ODE_RK4, 0.1, t, 2, u, &err), HS_ERR_VALUE);
    CU_ASSERT_EQUAL(hs_dln_deep(3, 1, 0.1, 1, (hs_ode_method)7, 0.1, t, 2, u, &err), HS_ERR_VALUE);
    CU_ASSERT_EQUAL(hs_gated_ode(3, 4, 1, (hs_gated_strength){0.1, 0.1, 0.1}, HS_ODE_RK4, 0.1, t, 2, b, &err),
                    HS_ERR_VALUE);
    /* a step far too large blows up: an error, not a silent inf */
    t[1] = 20;
    CU_ASSERT_EQUAL(hs_dln_deep(3, 100, 1, 1, HS_ODE_EULER, 1.0, t, 2, u, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "diverged");
    CU_ASSERT_EQUAL(hs_dln_deep(3, 1, 0.1, 1, HS_ODE_RK4, 0.1, NULL, 0, NULL, &err), HS_OK);
}

int main(void) {
    const hs_test tests[] = {{"closed form vs RK4 of the N_l = 3 ODE", test_closed_form_vs_rk4},
                             {"time to learn vs the closed form", test_time_to_learn},
                             {"unbalanced and deep ODEs vs layer simulations", test_unbalanced_and_deep},
                             {"Euler steps on an epoch grid", test_euler_steps},
                             {"tau of discrete training vs a linear MLP", test_tau_mapping},
                             {"gated ODE conserved quantities", test_gated_conserved},
                             {"gated fixed point: RK4, Newton, the reference", test_gated_fixed_point},
                             {"gated epoch time", test_gated_epoch_time},
                             {"validation", test_validation},
                             {NULL, NULL}};
    return hs_test_main("theory", tests);
}
