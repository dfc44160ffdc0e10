/*
 * theory.h - the analytic learning dynamics that the linear-network experiments are checked
 * against: Saxe, McClelland & Ganguli (2014) for deep linear networks and the neural race
 * reduction of gated deep linear networks (Saxe, Sodhani & Lewallen, ICML 2022); see
 * shared/reference/linear-and-gated-networks.md. Plain double math: no MPI, no files.
 *
 *     // a 2-weight-matrix linear net, PyTorch MSELoss, full-batch SGD lr 0.01, 10 outputs
 *     double tau = hs_dln_tau(HS_DLN_LOSS_MSE, 10, 0.01);            // 500 steps
 *     double a = hs_dln_strength(s, a0, 1000.0, tau);                 // mode strength after 1000 epochs
 *     double t50 = hs_dln_time_to_learn(s, a0, 0.5 * s, tau);         // epochs to reach s/2
 *     double t[3] = {0, 500, 1000}, u[3];
 *     HS_TRY(err, hs_dln_deep(4, s, a0, tau, HS_ODE_RK4, 0.5, t, 3, u, err));   // 3 weight matrices
 *
 *     // the routing network: M = 7 modules, K = 4 active outputs per input, balanced b0 = 0.08
 *     double dt = hs_gated_epoch_time(0.02, 28, 112, 7, 7);            // 0.07 ODE time per epoch
 *     double ep[2] = {0, 500 * dt};
 *     hs_gated_strength b[2], start = {0.08, 0.08, 0.08};
 *     HS_TRY(err, hs_gated_ode(7, 4, 13.6015, start, HS_ODE_EULER, dt, ep, 2, b, err));
 *     double bh;                                                       // b[1].h ~ bh = 4.5635
 *     HS_TRY(err, hs_gated_fixed_point(7, 13.6015, 0.08, &bh, err));
 *
 * Conventions. A mode alpha of Sigma_yx = U S V^T (inputs whitened) has singular value s; its
 * strength u is u_alpha^T W_total v_alpha of the net's end-to-end map. Integrators start at
 * t = 0 and report the state at each of the requested times (non-decreasing, >= 0): between two
 * reports they take ceil(gap / dt) equal steps of at most dt, so times on a grid of dt (e.g.
 * epochs) are hit with steps of exactly dt up to rounding. A state that stops being finite is an
 * HS_ERR_VALUE (the step is too large); the reports before it are filled.
 */
#ifndef HSWEEP_THEORY_H
#define HSWEEP_THEORY_H

#include "hsweep/status.h"

typedef enum hs_ode_method {
    HS_ODE_RK4,   /* classical 4th-order Runge-Kutta (the default choice: the flow itself) */
    HS_ODE_EULER, /* explicit Euler: full-batch gradient descent IS Euler on the flow, step = one epoch */
} hs_ode_method;

/* ================================================================ deep linear networks (Saxe 2014)
 * Full-batch gradient flow, tau du/dt = ..., small balanced start aligned to the modes. */

/* The 2-layer closed form (one hidden layer, two weight matrices, a0 > 0, s > 0):
 *     a(t) = s e^{2 s t/tau} / (e^{2 s t/tau} - 1 + s/a0),
 * written as s / (1 + (s/a0 - 1) e^{-2 s t/tau}) so that it never overflows for large t. */
double hs_dln_strength(double s, double a0, double t, double tau);

/* Time for the closed form to go from u0 to uf (both strictly between 0 and s, or both above s
 * on the way down): t = (tau / 2s) ln[uf (s - u0) / (u0 (s - uf))]. NaN when uf is not reached. */
double hs_dln_time_to_learn(double s, double u0, double uf, double tau);

/* Loss conventions for the time constant of discrete full-batch training (tau in steps):
 *   HALF_MEAN: L = 1/2 mean over examples of |y - f(x)|^2, step eta    -> tau = 1/eta
 *   MSE:       PyTorch MSELoss, mean over examples AND the N_out outputs -> tau = N_out / (2 eta)
 * (hs_loss_forward_backward's HS_LOSS_MSE is the second.) s is then a singular value of
 * Sigma_yx = (1/n) sum y x^T, with Sigma_xx = (1/n) sum x x^T = I. */
typedef enum hs_dln_loss { HS_DLN_LOSS_HALF_MEAN, HS_DLN_LOSS_MSE } hs_dln_loss;
double hs_dln_tau(hs_dln_loss loss, int n_out, double eta); /* NaN for eta <= 0 or n_out < 1 */

/* The unbalanced 2-layer ODE, tau du/dt = sqrt(c^2 + 4u^2) (s - u), c = a0^2 - b0^2 the
 * conserved imbalance of the two layers' strengths (c = 0: the balanced 2u(s - u)). u [n_times]. */
hs_code hs_dln_unbalanced(double s, double c, double u0, double tau, hs_ode_method method, double dt,
                          const double *times, int n_times, double *u, hs_error *err);

/* The deep equal-strength ODE, tau du/dt = (N_l - 1) |u|^(2 - 2/(N_l - 1)) (s - u), for a net
 * with N_l >= 2 layers of units (N_l - 1 weight matrices, each of strength u^(1/(N_l - 1))):
 * N_l = 3 is the closed form's net, N_l = 2 a single matrix (tau du/dt = s - u). u [n_times]. */
hs_code hs_dln_deep(int n_layers, double s, double u0, double tau, hs_ode_method method, double dt,
                    const double *times, int n_times, double *u, hs_error *err);

/* ================================================================ gated deep linear networks
 * The routing network (nn.h, hs_model_gated) with M modules, K active output modules per input
 * module (each output module also fed by K inputs, as the "K plus-minus mod" gate), a balanced
 * mode-aligned start and whitened items. Per mode of s (a singular value of Y^T X summed over
 * the items: 13.601, 6.403, 3, 3 for the toy task), with every module's strengths equal:
 *     db_in/dt  = (K/M^2) b_h  b_out (s - b_in b_h b_out)
 *     db_h/dt   = (K/M)   b_in b_out (s - b_in b_h b_out)
 *     db_out/dt = (K/M^2) b_in b_h   (s - b_in b_h b_out)
 * b_h^2 - M b_in^2 and b_h^2 - M b_out^2 are conserved ((M - 1) b0^2 below zero from b0). */
typedef struct hs_gated_strength {
    double in, h, out; /* b_in (each input module), b_h (the shared layer), b_out (each output module) */
} hs_gated_strength;

/* Integrate the three ODEs from b0 onto times[n_times], b [n_times]. M >= 1, 1 <= K <= M. */
hs_code hs_gated_ode(int modules, int active, double s, hs_gated_strength b0, hs_ode_method method, double dt,
                     const double *times, int n_times, hs_gated_strength *b, hs_error *err);

/* The ODE time of one full-batch SGD epoch (p -= lr * lr_scale * g) on the batch-mean MSE of
 * hs_loss_forward_backward (mean over `rows` rows and n_out outputs), rows = every training
 * (item, active pathway) pair once:
 *     dt = 2 lr lr_scale M^2 / (rows n_out).
 * Why: each pathway's summed squared error has gradient 2 (W - Sigma_yx) along a mode, the
 * loss divides it by rows * n_out, and b_in collects K pathways: db_in per epoch = lr lr_scale
 * 2 K b_h b_out (s - a) / (rows n_out), which is the ODE's (K/M^2) b_h b_out (s - a) dt. With
 * lr_scale = P (hs_model_gated) and rows = P * items: dt = 2 lr M^2 / (items n_out), i.e. the
 * reference notebook's dt = lr M / 2 for the toy task (4 items, n_out = M = 7). An epoch is
 * then exactly one Euler step of size dt. NaN for a non-positive argument. */
double hs_gated_epoch_time(double lr, double lr_scale, long long rows, int n_out, int modules);

/* The shared layer's converged strength from the balanced start b0 (b_in = b_h = b_out = b0):
 * the positive root of b_h (b_h^2 + c0) = M s, c0 = (M - 1) b0^2, by Newton from cbrt(M s)
 * (f is increasing and convex there, so the iteration falls monotonically onto the root).
 * Then b_in = b_out = sqrt((b_h^2 + c0) / M). s > 0, M >= 1. */
hs_code hs_gated_fixed_point(int modules, double s, double b0, double *b_h, hs_error *err);

#endif /* HSWEEP_THEORY_H */
