/*
 * optim.h - optimisers and learning-rate schedules with PyTorch's exact semantics, so that a
 * published setting (lr, momentum, weight decay, drops) means the same thing here.
 *
 *     hs_optim_opts oo = {.kind = HS_OPT_MOMENTUM, .momentum = 0.9};   // adam: set beta1, beta2, eps
 *     double wd = 5e-4;                                                  // passed per tensor below
 *     hs_optim opt;
 *     HS_TRY(err, hs_optim_init(&opt, &oo, net.n_params, err));
 *     hs_schedule sch = {.kind = HS_SCHED_STEP, .lr = 0.1, .drops = drops, .n_drops = 2,
 *                        .drop_factor = 0.1, .epochs = 600};
 *     for each epoch e, for each batch:
 *         ... forward, backward ...
 *         hs_optim_begin_step(&opt);
 *         for (int t = 0; t < net.n_tensors; t++)           // one call per tensor: decay may differ
 *             hs_optim_update(&opt, net.params, net.grads, net.tensors[t].offset, net.tensors[t].size,
 *                             hs_schedule_lr(&sch, e), wd);      // 0 for tensors exempt from decay
 *     hs_optim_free(&opt);
 *
 * Update rules (g = gradient, p = parameter, wd = weight decay, t = step count from 1):
 *   sgd:       g += wd p;                                  p -= lr g
 *   momentum:  g += wd p; buf = mu buf + g  (buf = g at t = 1);
 *              p -= lr (g + mu buf) with nesterov, else p -= lr buf
 *   adam:      g += wd p  (coupled L2);  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *              p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *   adamw:     p *= 1 - lr wd  (decoupled), then adam without the L2 term.
 * State is float32 like the parameters; bias corrections are computed in double.
 */
#ifndef HSWEEP_OPTIM_H
#define HSWEEP_OPTIM_H

#include <stddef.h>

#include "hsweep/status.h"

typedef enum hs_opt_kind { HS_OPT_SGD, HS_OPT_MOMENTUM, HS_OPT_ADAM, HS_OPT_ADAMW } hs_opt_kind;

typedef struct hs_optim_opts {
    hs_opt_kind kind;
    double momentum;     /* momentum */
    int nesterov;        /* momentum */
    double beta1, beta2; /* adam, adamw */
    double eps;          /* adam, adamw */
} hs_optim_opts;

typedef struct hs_optim {
    hs_optim_opts o;
    size_t n;
    float *m, *v; /* [n] momentum buffer / first moment, second moment (NULL when unused) */
    long step;    /* completed hs_optim_begin_step calls */
    double bc1, bc2; /* adam bias corrections 1 - b1^t, 1 - b2^t of the current step */
} hs_optim;

/* Allocate state for n parameters (zeroed). HS_ERR_NOMEM. */
hs_code hs_optim_init(hs_optim *opt, const hs_optim_opts *o, size_t n, hs_error *err);
void hs_optim_free(hs_optim *opt); /* safe on a zeroed struct */

/* Start step t = step + 1 (updates the bias corrections). Call once per minibatch, before the
 * hs_optim_update calls of that step. All fields of hs_optim_opts are taken literally (a zeroed
 * struct means beta1 = beta2 = 0); the schema's defaults are 0.9, 0.999, 1e-8. */
void hs_optim_begin_step(hs_optim *opt);

/* Update params[off .. off+n) from grads[off .. off+n) with learning rate lr and weight decay wd
 * (pass 0 for tensors exempt from decay). The optimiser state of that slice is used. */
void hs_optim_update(hs_optim *opt, float *params, const float *grads, size_t off, size_t n, double lr, double wd);

/* One tensor's step as plain numbers, for a model that applies it where the gradient is computed
 * (hs_model_backward_each's sgd), so that the gradient is never stored: lr, wd and mu as
 * hs_optim_update rounds them, buf the slice's momentum buffer (NULL for plain SGD). Whoever
 * applies it must give the bits hs_optim_update gives (the rules at the top of this file,
 * operation by operation, no fused multiply-add). */
typedef struct hs_optim_sgd {
    float lr, wd, mu;
    int nesterov;
    float *buf;
} hs_optim_sgd;

/* Fills *s for the slice at off, learning rate lr and weight decay wd, and returns 1 when the
 * optimiser is sgd or momentum; returns 0 (Adam and AdamW, whose steps stay here). */
int hs_optim_sgd_of(const hs_optim *opt, size_t off, double lr, double wd, hs_optim_sgd *s);

/* ---------------------------------------------------------------- schedules */

typedef enum hs_sched_kind { HS_SCHED_STEP, HS_SCHED_COSINE } hs_sched_kind;

typedef struct hs_schedule {
    hs_sched_kind kind;
    double lr;                /* initial learning rate */
    const long long *drops;   /* step: ascending epochs; from epoch drops[i] on, lr is multiplied by
                                 drop_factor^(i+1) (PyTorch MultiStepLR with milestones = drops) */
    size_t n_drops;
    double drop_factor;
    long long epochs;         /* cosine: T_max; lr(e) = lr (1 + cos(pi e / epochs)) / 2 (CosineAnnealingLR, eta_min 0) */
} hs_schedule;

/* Learning rate used during epoch e (0-based). */
double hs_schedule_lr(const hs_schedule *s, long long epoch);

#endif /* HSWEEP_OPTIM_H */
