/* theory.c - closed forms and ODE integrators of the linear-network theory (see
 * include/hsweep/theory.h). Plain double math. */
#include <math.h>

#include "hsweep/theory.h"

/* ================================================================ closed forms */

double hs_dln_strength(double s, double a0, double t, double tau) {
    return s / (1.0 + (s / a0 - 1.0) * exp(-2.0 * s * t / tau));
}

double hs_dln_time_to_learn(double s, double u0, double uf, double tau) {
    const double r = uf * (s - u0) / (u0 * (s - uf));
    return r > 0 ? tau / (2.0 * s) * log(r) : NAN;
}

double hs_dln_tau(hs_dln_loss loss, int n_out, double eta) {
    if (!(eta > 0) || n_out < 1) return NAN;
    return loss == HS_DLN_LOSS_HALF_MEAN ? 1.0 / eta : loss == HS_DLN_LOSS_MSE ? n_out / (2.0 * eta) : NAN;
}

double hs_gated_epoch_time(double lr, double lr_scale, long long rows, int n_out, int modules) {
    if (!(lr > 0) || !(lr_scale > 0) || rows < 1 || n_out < 1 || modules < 1) return NAN;
    return 2.0 * lr * lr_scale * (double)modules * modules / ((double)rows * n_out);
}

/* ================================================================ the integrator */

#define ODE_MAX_DIM 3

/* dy/dt = f(y) (autonomous) of dimension n <= ODE_MAX_DIM; p holds the parameters. */
typedef void (*ode_rhs)(const double *y, double *dy, const double *p);

static void step(ode_rhs f, const double *p, double *y, int n, double h, hs_ode_method method) {
    double k1[ODE_MAX_DIM], k2[ODE_MAX_DIM], k3[ODE_MAX_DIM], k4[ODE_MAX_DIM], t[ODE_MAX_DIM];
    f(y, k1, p);
    if (method == HS_ODE_EULER) {
        for (int i = 0; i < n; i++) y[i] += h * k1[i];
        return;
    }
    for (int i = 0; i < n; i++) t[i] = y[i] + 0.5 * h * k1[i];
    f(t, k2, p);
    for (int i = 0; i < n; i++) t[i] = y[i] + 0.5 * h * k2[i];
    f(t, k3, p);
    for (int i = 0; i < n; i++) t[i] = y[i] + h * k3[i];
    f(t, k4, p);
    for (int i = 0; i < n; i++) y[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
}

/* The checks every integrator shares: method, step, output times. */
static hs_code check_run(const char *who, hs_ode_method method, double dt, const double *times, int n_times,
                         const void *out, hs_error *err) {
    if (method != HS_ODE_RK4 && method != HS_ODE_EULER)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: unknown ODE method %d", who, (int)method);
    if (!(dt > 0) || !isfinite(dt)) return HS_FAIL(err, HS_ERR_VALUE, "%s: the step must be > 0, got %g", who, dt);
    if (n_times < 0 || (n_times > 0 && (!times || !out)))
        return HS_FAIL(err, HS_ERR_VALUE, "%s: %d output times but no arrays", who, n_times);
    for (int k = 0; k < n_times; k++)
        if (!isfinite(times[k]) || times[k] < 0 || (k > 0 && times[k] < times[k - 1]))
            return HS_FAIL(err, HS_ERR_VALUE,
                           "%s: output times must be finite, >= 0 and non-decreasing (times[%d] = %g)", who, k,
                           times[k]);
    return HS_OK;
}

/* Advance y [n] by `gap` >= 0 in ceil(gap/dt) equal steps (a gap within 1e-9 steps of a whole
 * number of dt takes that whole number, so epoch grids are hit with steps of dt). t_to is only
 * for the message. */
static hs_code advance(const char *who, ode_rhs f, const double *p, double *y, int n, hs_ode_method method,
                       double dt, double gap, double t_to, hs_error *err) {
    if (!(gap > 0)) return HS_OK;
    double steps = ceil(gap / dt - 1e-9);
    if (steps < 1) steps = 1;
    if (steps > 1e12)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: %.3g steps to t = %g, the step is too small", who, steps, t_to);
    const double h = gap / steps;
    for (double q = 0; q < steps; q++) {
        step(f, p, y, n, h, method);
        for (int i = 0; i < n; i++)
            if (!isfinite(y[i]))
                return HS_FAIL(err, HS_ERR_VALUE, "%s: the state diverged before t = %g (step %g too large?)", who,
                               t_to, h);
    }
    return HS_OK;
}

/* A scalar ODE from u0 onto times[n_times] -> u [n_times]. */
static hs_code integrate_scalar(const char *who, ode_rhs f, const double *p, double u0, hs_ode_method method,
                                double dt, const double *times, int n_times, double *u, hs_error *err) {
    HS_TRY(err, check_run(who, method, dt, times, n_times, u, err));
    double y = u0, t = 0;
    for (int k = 0; k < n_times; k++) {
        HS_TRY(err, advance(who, f, p, &y, 1, method, dt, times[k] - t, times[k], err));
        t = times[k];
        u[k] = y;
    }
    return HS_OK;
}

/* ================================================================ deep linear networks */

/* p = {s, c, tau} */
static void rhs_unbalanced(const double *y, double *dy, const double *p) {
    dy[0] = sqrt(p[1] * p[1] + 4.0 * y[0] * y[0]) * (p[0] - y[0]) / p[2];
}

/* p = {s, N_l, tau}: |u|^(2 - 2/(N_l - 1)) is the product of the other layers' squared strengths */
static void rhs_deep(const double *y, double *dy, const double *p) {
    const double n1 = p[1] - 1.0, e = 2.0 - 2.0 / n1;
    dy[0] = n1 * (e == 0 ? 1.0 : pow(fabs(y[0]), e)) * (p[0] - y[0]) / p[2];
}

static hs_code check_dln(const char *who, double s, double u0, double tau, hs_error *err) {
    if (!isfinite(s) || !isfinite(u0))
        return HS_FAIL(err, HS_ERR_VALUE, "%s: s and u0 must be finite, got %g and %g", who, s, u0);
    if (!(tau > 0) || !isfinite(tau)) return HS_FAIL(err, HS_ERR_VALUE, "%s: tau must be > 0, got %g", who, tau);
    return HS_OK;
}

hs_code hs_dln_unbalanced(double s, double c, double u0, double tau, hs_ode_method method, double dt,
                          const double *times, int n_times, double *u, hs_error *err) {
    HS_TRY(err, check_dln("dln unbalanced", s, u0, tau, err));
    if (!isfinite(c)) return HS_FAIL(err, HS_ERR_VALUE, "dln unbalanced: c must be finite, got %g", c);
    const double p[3] = {s, c, tau};
    HS_TRY(err, integrate_scalar("dln unbalanced", rhs_unbalanced, p, u0, method, dt, times, n_times, u, err));
    return HS_OK;
}

hs_code hs_dln_deep(int n_layers, double s, double u0, double tau, hs_ode_method method, double dt,
                    const double *times, int n_times, double *u, hs_error *err) {
    HS_TRY(err, check_dln("dln deep", s, u0, tau, err));
    if (n_layers < 2 || n_layers > 1000)
        return HS_FAIL(err, HS_ERR_VALUE, "dln deep: n_layers (layers of units) must be in 2..1000, got %d", n_layers);
    const double p[3] = {s, (double)n_layers, tau};
    HS_TRY(err, integrate_scalar("dln deep", rhs_deep, p, u0, method, dt, times, n_times, u, err));
    return HS_OK;
}

/* ================================================================ gated deep linear networks */

/* y = {b_in, b_h, b_out}, p = {s, K/M^2, K/M} */
static void rhs_gated(const double *y, double *dy, const double *p) {
    const double e = p[0] - y[0] * y[1] * y[2];
    dy[0] = p[1] * y[1] * y[2] * e;
    dy[1] = p[2] * y[0] * y[2] * e;
    dy[2] = p[1] * y[0] * y[1] * e;
}

hs_code hs_gated_ode(int modules, int active, double s, hs_gated_strength b0, hs_ode_method method, double dt,
                     const double *times, int n_times, hs_gated_strength *b, hs_error *err) {
    if (modules < 1 || active < 1 || active > modules)
        return HS_FAIL(err, HS_ERR_VALUE, "gated ode: needs M >= 1 and 1 <= K <= M, got M = %d, K = %d", modules,
                       active);
    if (!isfinite(s) || !isfinite(b0.in) || !isfinite(b0.h) || !isfinite(b0.out))
        return HS_FAIL(err, HS_ERR_VALUE, "gated ode: s and the start must be finite");
    const double M = modules, K = active, p[3] = {s, K / (M * M), K / M};
    HS_TRY(err, check_run("gated ode", method, dt, times, n_times, b, err));
    double y[3] = {b0.in, b0.h, b0.out}, t = 0;
    for (int k = 0; k < n_times; k++) {
        HS_TRY(err, advance("gated ode", rhs_gated, p, y, 3, method, dt, times[k] - t, times[k], err));
        t = times[k];
        b[k] = (hs_gated_strength){y[0], y[1], y[2]};
    }
    return HS_OK;
}

hs_code hs_gated_fixed_point(int modules, double s, double b0, double *b_h, hs_error *err) {
    if (modules < 1 || !(s > 0) || !isfinite(s) || !isfinite(b0))
        return HS_FAIL(err, HS_ERR_VALUE, "gated fixed point: needs M >= 1, finite s > 0 and b0 (got %d, %g, %g)",
                       modules, s, b0);
    const double c0 = (modules - 1.0) * b0 * b0, ms = modules * s;
    double b = cbrt(ms);
    for (int it = 0; it < 200; it++) {
        const double f = b * (b * b + c0) - ms, next = b - f / (3.0 * b * b + c0);
        if (!(next < b)) break; /* monotone from above: stops at the root to rounding */
        b = next;
    }
    *b_h = b;
    return HS_OK;
}
