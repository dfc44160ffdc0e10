/* optim.c - SGD, momentum (heavy ball / Nesterov), Adam and AdamW with torch.optim's update
 * order and float32 arithmetic, and the MultiStepLR / CosineAnnealingLR schedules. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/optim.h"
#include "hsweep/util.h"

#define PI 3.14159265358979323846

/* ================================================================ state */

hs_code hs_optim_init(hs_optim *opt, const hs_optim_opts *o, size_t n, hs_error *err) {
    memset(opt, 0, sizeof *opt);
    int n_state;
    switch (o->kind) {
    case HS_OPT_SGD: n_state = 0; break;
    case HS_OPT_MOMENTUM: n_state = 1; break;
    case HS_OPT_ADAM:
    case HS_OPT_ADAMW: n_state = 2; break;
    default: return HS_FAIL(err, HS_ERR_VALUE, "optimiser: unknown kind %d", (int)o->kind);
    }
    if (o->kind == HS_OPT_MOMENTUM && !(o->momentum >= 0.0 && isfinite(o->momentum)))
        return HS_FAIL(err, HS_ERR_VALUE, "optimiser: momentum must be finite and >= 0, got %g", o->momentum);
    if (n_state == 2 && !(o->beta1 >= 0.0 && o->beta1 < 1.0 && o->beta2 >= 0.0 && o->beta2 < 1.0))
        return HS_FAIL(err, HS_ERR_VALUE, "optimiser: adam betas must be in [0, 1), got %g and %g", o->beta1,
                       o->beta2);
    if (n_state == 2 && !(o->eps >= 0.0 && isfinite(o->eps)))
        return HS_FAIL(err, HS_ERR_VALUE, "optimiser: eps must be finite and >= 0, got %g", o->eps);
    opt->o = *o;
    opt->n = n;
    opt->bc1 = opt->bc2 = 1.0;
    if (n_state > 0 && n > 0) {
        float *s = n <= SIZE_MAX / sizeof(float) / 2 ? hs_map_zeroed(n * (size_t)n_state * sizeof(float)) : NULL;
        if (!s) return HS_FAIL(err, HS_ERR_NOMEM, "optimiser: out of memory for the state of %zu parameters", n);
        opt->m = s;
        opt->v = n_state == 2 ? s + n : NULL;
    }
    return HS_OK;
}

void hs_optim_free(hs_optim *opt) {
    hs_unmap(opt->m, opt->n * (opt->v ? 2 : 1) * sizeof(float)); /* v lives in the same allocation */
    memset(opt, 0, sizeof *opt);
}

void hs_optim_begin_step(hs_optim *opt) {
    opt->step++;
    if (opt->o.kind == HS_OPT_ADAM || opt->o.kind == HS_OPT_ADAMW) {
        opt->bc1 = 1.0 - pow(opt->o.beta1, (double)opt->step);
        opt->bc2 = 1.0 - pow(opt->o.beta2, (double)opt->step);
    }
}

/* ================================================================ updates
 * Each rule is one pass over its slice. The momentum buffer starts at zero, so mu * 0 + g gives
 * torch's "buf = g at the first step" without a special case. */

static void sgd(float *p, const float *g, size_t n, float lr, float wd) {
    if (wd == 0.0f)
        for (size_t i = 0; i < n; i++) p[i] -= lr * g[i];
    else
        for (size_t i = 0; i < n; i++) p[i] -= lr * (g[i] + wd * p[i]);
}

static void momentum(float *p, const float *g, float *buf, size_t n, float lr, float wd, float mu, int nesterov) {
    for (size_t i = 0; i < n; i++) {
        const float d = g[i] + wd * p[i];
        const float b = mu * buf[i] + d;
        buf[i] = b;
        p[i] -= lr * (nesterov ? d + mu * b : b);
    }
}

typedef struct adam_coef {
    float step_size, bc2_sqrt, eps, b1, one_minus_b1, b2, one_minus_b2, wd_l2, decay;
} adam_coef;

/* Adam / AdamW: wd_l2 is the coupled (Adam) decay, decay the decoupled factor 1 - lr wd (AdamW).
 * 1 - beta is rounded from double, as torch passes it (alpha = 1 - beta1 is a Python float). */
static void adam(float *p, const float *g, float *m, float *v, size_t n, adam_coef c) {
    for (size_t i = 0; i < n; i++) {
        const float q = p[i] * c.decay;
        const float d = g[i] + c.wd_l2 * q;
        const float mi = c.b1 * m[i] + c.one_minus_b1 * d;
        const float vi = c.b2 * v[i] + c.one_minus_b2 * (d * d);
        m[i] = mi, v[i] = vi;
        p[i] = q - c.step_size * (mi / (sqrtf(vi) / c.bc2_sqrt + c.eps));
    }
}

void hs_optim_update(hs_optim *opt, float *params, const float *grads, size_t off, size_t n, double lr, double wd) {
    float *p = params + off;
    const float *g = grads + off;
    const hs_optim_opts *o = &opt->o;
    switch (o->kind) {
    case HS_OPT_SGD: sgd(p, g, n, (float)lr, (float)wd); break;
    case HS_OPT_MOMENTUM:
        momentum(p, g, opt->m + off, n, (float)lr, (float)wd, (float)o->momentum, o->nesterov);
        break;
    case HS_OPT_ADAM:
    case HS_OPT_ADAMW: {
        const int decoupled = o->kind == HS_OPT_ADAMW;
        const adam_coef c = {.step_size = (float)(lr / opt->bc1),
                             .bc2_sqrt = (float)sqrt(opt->bc2),
                             .eps = (float)o->eps,
                             .b1 = (float)o->beta1,
                             .one_minus_b1 = (float)(1.0 - o->beta1),
                             .b2 = (float)o->beta2,
                             .one_minus_b2 = (float)(1.0 - o->beta2),
                             .wd_l2 = decoupled ? 0.0f : (float)wd,
                             .decay = decoupled ? (float)(1.0 - lr * wd) : 1.0f};
        adam(p, g, opt->m + off, opt->v + off, n, c);
        break;
    }
    }
}

int hs_optim_sgd_of(const hs_optim *opt, size_t off, double lr, double wd, hs_optim_sgd *s) {
    const hs_optim_opts *o = &opt->o;
    if (o->kind != HS_OPT_SGD && o->kind != HS_OPT_MOMENTUM) return 0;
    *s = (hs_optim_sgd){.lr = (float)lr, .wd = (float)wd};
    if (o->kind == HS_OPT_MOMENTUM)
        s->mu = (float)o->momentum, s->nesterov = o->nesterov, s->buf = opt->m + off;
    return 1;
}

/* ================================================================ schedules */

double hs_schedule_lr(const hs_schedule *s, long long epoch) {
    switch (s->kind) {
    case HS_SCHED_STEP: {
        double lr = s->lr;
        for (size_t i = 0; i < s->n_drops && s->drops[i] <= epoch; i++) lr *= s->drop_factor;
        return lr;
    }
    case HS_SCHED_COSINE:
        if (s->epochs <= 0) return s->lr;
        return s->lr * (1.0 + cos(PI * (double)epoch / (double)s->epochs)) / 2.0;
    }
    return s->lr;
}
