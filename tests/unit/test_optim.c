/* test_optim.c - optimisers and schedules against values printed by torch 1.13 (torch.optim.SGD,
 * Adam, AdamW, lr_scheduler.MultiStepLR / CosineAnnealingLR). The script, run once with
 * /usr/bin/python3 and pasted here:
 *
 *   import torch
 *   p0 = [0.5, -1.0, 2.0, 0.0, 3.0, -0.25]
 *   g = [0.1, -0.2, 0.3, 0.4, -0.5, 1e-3]
 *   def run(make, steps=3, split=None):   # split: the last three get weight_decay 0 (a 2nd group)
 *       a = torch.tensor(p0[:3], requires_grad=True); b = torch.tensor(p0[3:], requires_grad=True)
 *       opt = make([{"params": [a]}, {"params": [b], "weight_decay": 0.0}] if split else [a, b])
 *       for _ in range(steps):
 *           a.grad = torch.tensor(g[:3]); b.grad = torch.tensor(g[3:]); opt.step()
 *       return torch.cat([a, b]).tolist()
 *   cases = {
 *    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1, weight_decay=0.01),
 *    "momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
 *    "nesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
 *    "adam": lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
 *    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)}
 *   for k, f in cases.items(): print(k, ", ".join("%.9g" % v for v in run(f)))
 *   for k, f in cases.items(): print(k, "split", ", ".join("%.9g" % v for v in run(f, split=True)))
 *   for sch in (lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[2, 4], gamma=0.1),
 *               lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10)):
 *       opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1); s = sch(opt); out = []
 *       for e in range(11): out.append(opt.param_groups[0]["lr"]); opt.step(); s.step()
 *       print(", ".join("%.17g" % v for v in out))
 */
#include <math.h>
#include <string.h>

#include "hsweep/optim.h"
#include "testing.h"

#define NP 6
static const float p0[NP] = {0.5f, -1.0f, 2.0f, 0.0f, 3.0f, -0.25f};
static const float g0[NP] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 1e-3f};

typedef struct optim_case {
    const char *name;
    hs_optim_opts o;
    double lr, wd;
    float want[NP];       /* every parameter decayed */
    float want_split[NP]; /* the last three with wd = 0 */
} optim_case;

static const optim_case cases[] = {
    {"sgd", {.kind = HS_OPT_SGD}, 0.1, 0.01,
     {0.468531489f, -0.937062979f, 1.90409601f, -0.119880043f, 3.14085889f, -0.249550462f},
     {0.468531489f, -0.937062979f, 1.90409601f, -0.120000005f, 3.14999986f, -0.25029996f}},
    {"momentum", {.kind = HS_OPT_MOMENTUM, .momentum = 0.9}, 0.1, 0.01,
     {0.44114536f, -0.882290721f, 1.82063365f, -0.224208042f, 3.26344442f, -0.249159217f},
     {0.44114536f, -0.882290721f, 1.82063365f, -0.224399999f, 3.28049994f, -0.250560969f}},
    {"nesterov", {.kind = HS_OPT_MOMENTUM, .momentum = 0.9, .nesterov = 1}, 0.1, 0.01,
     {0.415631443f, -0.831262887f, 1.74287689f, -0.32140395f, 3.37764955f, -0.248794734f},
     {0.415631443f, -0.831262887f, 1.74287689f, -0.321960002f, 3.40245008f, -0.250804871f}},
    {"adam", {.kind = HS_OPT_ADAM, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8}, 0.01, 0.01,
     {0.470000923f, -0.970000446f, 1.97000039f, -0.0299997609f, 3.02999973f, -0.220090494f},
     {0.470000923f, -0.970000446f, 1.97000039f, -0.0299999975f, 3.02999997f, -0.279999703f}},
    {"adamw", {.kind = HS_OPT_ADAMW, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8}, 0.01, 0.1,
     {0.468531519f, -0.967033088f, 1.96403611f, -0.0299700089f, 3.02097917f, -0.279220462f},
     {0.468531519f, -0.967033088f, 1.96403611f, -0.0299999975f, 3.02999997f, -0.279999703f}},
};

/* |got - want| within 1e-6 relative (1e-7 absolute near zero), printing the offender. */
static int close_to(const char *what, int i, double got, double want) {
    int ok = fabs(got - want) <= 1e-6 * fabs(want) + 1e-7;
    if (!ok) fprintf(stderr, "\n  %s[%d]: got %.9g, torch %.9g\n", what, i, got, want);
    return ok;
}

/* Three steps with fixed gradients; split: the update is two calls, the second slice with wd 0
 * (as a training loop exempts biases / BN parameters). */
static void run_case(const optim_case *c, int split) {
    hs_error err = {0};
    hs_optim opt;
    CU_ASSERT_EQUAL_FATAL(hs_optim_init(&opt, &c->o, NP, &err), HS_OK);
    float p[NP], g[NP];
    memcpy(p, p0, sizeof p);
    for (int step = 0; step < 3; step++) {
        memcpy(g, g0, sizeof g);
        hs_optim_begin_step(&opt);
        if (split) {
            hs_optim_update(&opt, p, g, 0, 3, c->lr, c->wd);
            hs_optim_update(&opt, p, g, 3, 3, c->lr, 0.0);
        } else {
            hs_optim_update(&opt, p, g, 0, NP, c->lr, c->wd);
        }
        for (int i = 0; i < NP; i++) CU_ASSERT_EQUAL(g[i], g0[i]); /* gradients are read-only */
    }
    CU_ASSERT_EQUAL(opt.step, 3);
    const float *want = split ? c->want_split : c->want;
    for (int i = 0; i < NP; i++) CU_ASSERT(close_to(c->name, i, p[i], want[i]));
    hs_optim_free(&opt);
    CU_ASSERT_PTR_NULL(opt.m);
}

static void test_against_torch(void) {
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) run_case(&cases[k], 0);
}

static void test_against_torch_split_decay(void) {
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) run_case(&cases[k], 1);
}

static void test_bias_corrections(void) {
    hs_optim_opts o = {.kind = HS_OPT_ADAM, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    hs_optim opt;
    CU_ASSERT_EQUAL_FATAL(hs_optim_init(&opt, &o, 4, NULL), HS_OK);
    CU_ASSERT_PTR_NOT_NULL(opt.m);
    CU_ASSERT_PTR_NOT_NULL(opt.v);
    for (int t = 1; t <= 5; t++) {
        hs_optim_begin_step(&opt);
        CU_ASSERT_DOUBLE_EQUAL(opt.bc1, 1.0 - pow(0.9, t), 1e-15);
        CU_ASSERT_DOUBLE_EQUAL(opt.bc2, 1.0 - pow(0.999, t), 1e-15);
    }
    hs_optim_free(&opt);
    o = (hs_optim_opts){.kind = HS_OPT_SGD};
    CU_ASSERT_EQUAL_FATAL(hs_optim_init(&opt, &o, 4, NULL), HS_OK);
    CU_ASSERT_PTR_NULL(opt.m); /* plain SGD keeps no state */
    hs_optim_free(&opt);
}

static void test_bad_options(void) {
    hs_error err = {0};
    hs_optim opt;
    hs_optim_opts o = {.kind = (hs_opt_kind)42};
    CU_ASSERT_EQUAL(hs_optim_init(&opt, &o, 4, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "unknown kind");
    o = (hs_optim_opts){.kind = HS_OPT_ADAM, .beta1 = 0.9, .beta2 = 1.0};
    CU_ASSERT_EQUAL(hs_optim_init(&opt, &o, 4, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "betas");
    o = (hs_optim_opts){.kind = HS_OPT_MOMENTUM, .momentum = -0.5};
    CU_ASSERT_EQUAL(hs_optim_init(&opt, &o, 4, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "momentum");
    hs_optim_free(&opt); /* safe after a failed init */
}

static void test_schedules(void) {
    static const double step_want[11] = {0.10000000000000001,   0.10000000000000001,   0.010000000000000002,
                                         0.010000000000000002,  0.0010000000000000002, 0.0010000000000000002,
                                         0.0010000000000000002, 0.0010000000000000002, 0.0010000000000000002,
                                         0.0010000000000000002, 0.0010000000000000002};
    static const double cos_want[11] = {0.10000000000000001,  0.097552825814757688, 0.090450849718747381,
                                        0.079389262614623674, 0.065450849718747386, 0.05000000000000001,
                                        0.03454915028125264,  0.020610737385376353, 0.0095491502812526351,
                                        0.002447174185242324, 0};
    const long long drops[2] = {2, 4};
    hs_schedule step = {.kind = HS_SCHED_STEP, .lr = 0.1, .drops = drops, .n_drops = 2, .drop_factor = 0.1};
    hs_schedule cosine = {.kind = HS_SCHED_COSINE, .lr = 0.1, .epochs = 10};
    for (int e = 0; e <= 10; e++) {
        double s = hs_schedule_lr(&step, e), c = hs_schedule_lr(&cosine, e);
        if (fabs(s - step_want[e]) > 1e-12 * step_want[e]) fprintf(stderr, "\n  step lr(%d) = %.17g\n", e, s);
        if (fabs(c - cos_want[e]) > 1e-12 * 0.1) fprintf(stderr, "\n  cosine lr(%d) = %.17g\n", e, c);
        CU_ASSERT(fabs(s - step_want[e]) <= 1e-12 * step_want[e]);
        CU_ASSERT(fabs(c - cos_want[e]) <= 1e-12 * 0.1);
    }
    /* no drops: constant; a repeated milestone drops twice (MultiStepLR counts milestones) */
    hs_schedule flat = {.kind = HS_SCHED_STEP, .lr = 0.3, .drop_factor = 0.1};
    CU_ASSERT_DOUBLE_EQUAL(hs_schedule_lr(&flat, 1000), 0.3, 0);
    const long long twice[2] = {3, 3};
    hs_schedule rep = {.kind = HS_SCHED_STEP, .lr = 1, .drops = twice, .n_drops = 2, .drop_factor = 0.5};
    CU_ASSERT_DOUBLE_EQUAL(hs_schedule_lr(&rep, 2), 1.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(hs_schedule_lr(&rep, 3), 0.25, 0);
}

/* The update over a long slice (vectorised in optim.c, which is built without errno checks on
 * sqrtf) equals, bit for bit, the same formulas applied one element at a time here: a fused
 * multiply-add, a reciprocal estimate or reassociation in the vector loop would show. Odd length
 * and offset so the vector loop's head and tail both run. */
static float ref_sqrtf(float x) {
    volatile float v = x; /* keeps this loop scalar */
    return sqrtf(v);
}

static void test_long_slice_bits(void) {
    enum { N = 1029, OFF = 3, STEPS = 4 };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const optim_case *c = &cases[k];
        hs_optim opt;
        CU_ASSERT_EQUAL_FATAL(hs_optim_init(&opt, &c->o, OFF + N, NULL), HS_OK);
        static float p[OFF + N], g[OFF + N], q[N], m[N], v[N];
        for (int i = 0; i < OFF + N; i++) p[i] = 0.01f * (float)((i * 37) % 201 - 100);
        for (int i = 0; i < N; i++) q[i] = p[OFF + i], m[i] = 0, v[i] = 0;
        const float lr = (float)c->lr, wd = (float)c->wd, mu = (float)c->o.momentum;
        for (int step = 1; step <= STEPS; step++) {
            for (int i = 0; i < OFF + N; i++) g[i] = 1e-3f * (float)((i * 53 + step * 11) % 97 - 48);
            hs_optim_begin_step(&opt);
            hs_optim_update(&opt, p, g, OFF, N, c->lr, c->wd);
            const float step_size = (float)(c->lr / opt.bc1), bc2_sqrt = (float)sqrt(opt.bc2);
            const float b1 = (float)c->o.beta1, b2 = (float)c->o.beta2, eps = (float)c->o.eps;
            const float omb1 = (float)(1.0 - c->o.beta1), omb2 = (float)(1.0 - c->o.beta2);
            for (int i = 0; i < N; i++) {
                const float gi = g[OFF + i];
                switch (c->o.kind) {
                case HS_OPT_SGD: q[i] -= lr * (gi + wd * q[i]); break;
                case HS_OPT_MOMENTUM: {
                    const float d = gi + wd * q[i], b = mu * m[i] + d;
                    m[i] = b;
                    q[i] -= lr * (c->o.nesterov ? d + mu * b : b);
                    break;
                }
                case HS_OPT_ADAM:
                case HS_OPT_ADAMW: {
                    const int decoupled = c->o.kind == HS_OPT_ADAMW;
                    const float x = q[i] * (decoupled ? (float)(1.0 - c->lr * c->wd) : 1.0f);
                    const float d = gi + (decoupled ? 0.0f : wd) * x;
                    m[i] = b1 * m[i] + omb1 * d;
                    v[i] = b2 * v[i] + omb2 * (d * d);
                    q[i] = x - step_size * (m[i] / (ref_sqrtf(v[i]) / bc2_sqrt + eps));
                    break;
                }
                }
            }
        }
        int same = memcmp(p + OFF, q, sizeof q) == 0;
        if (!same) fprintf(stderr, "\n  %s: the long slice differs from the element-wise update\n", c->name);
        CU_ASSERT(same);
        hs_optim_free(&opt);
    }
}

int main(void) {
    static const hs_test tests[] = {
        {"sgd, momentum, nesterov, adam, adamw vs torch", test_against_torch},
        {"same with a weight-decay-free slice", test_against_torch_split_decay},
        {"adam bias corrections, sgd stateless", test_bias_corrections},
        {"bad options are errors", test_bad_options},
        {"MultiStepLR and CosineAnnealingLR vs torch", test_schedules},
        {"a long slice: the element-wise formulas, bit for bit", test_long_slice_bits},
        {NULL, NULL},
    };
    return hs_test_main("optim", tests);
}
