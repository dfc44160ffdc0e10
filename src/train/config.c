/* config.c - from the schema's flat key/value form to the typed structs the engine takes.
 *
 * This is the only place that knows both the key names and the engine's option structs, so a new
 * key touches the schema table and this file. Enum values are compared against the schema's
 * choices; an unknown one here would be a bug (the schema already validated it), reported as
 * HS_ERR_INTERNAL rather than silently mapped to a default. */
#include <stdlib.h>
#include <string.h>

#include "hsweep/models.h"
#include "hsweep/schema.h"
#include "hsweep/train.h"

static const hs_value *get(const hs_value *const *cfg, const char *name) {
    int k = hs_schema_find(name);
    return k < 0 ? NULL : cfg[k];
}

/* Index of value v in the '|'-separated choices, or -1. */
static int choice(const char *choices, const char *v) {
    size_t n = strlen(v);
    int i = 0;
    for (const char *p = choices; p; i++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0) return i;
        p = bar ? bar + 1 : NULL;
    }
    return -1;
}

/* The enum value of key name as an index into its choices (which the caller's enum mirrors). */
static hs_code enum_of(const hs_value *const *cfg, const char *name, const char *expect, int *out, hs_error *err) {
    const hs_value *v = get(cfg, name);
    const hs_key *k = hs_schema_key((size_t)hs_schema_find(name));
    if (!v || !k || v->type != HS_T_ENUM || strcmp(k->choices, expect) != 0)
        return HS_FAIL(err, HS_ERR_INTERNAL, "%s: the engine expects the choices %s, the schema has %s", name, expect,
                       k ? k->choices : "no such key");
    *out = choice(expect, v->u.s);
    if (*out < 0) return HS_FAIL(err, HS_ERR_INTERNAL, "%s: unexpected value '%s'", name, v->u.s);
    return HS_OK;
}

#define GET_I(name) (get(cfg, name)->u.i)
#define GET_F(name) (get(cfg, name)->u.f)
#define GET_B(name) (get(cfg, name)->u.b)

hs_code hs_train_config_from_values(const hs_value *const *cfg, hs_train_config *c, hs_error *err) {
    memset(c, 0, sizeof *c);
    int e;
    hs_code rc = HS_OK;

    c->seed = (uint64_t)GET_I("seed");
    long long ds = GET_I("data.seed");
    c->data_seed = ds < 0 ? c->seed : (uint64_t)ds;

    /* ------------------------------------------------------------ data */
    const hs_data_kind *kind; /* the registry's name outlives the plan's values */
    if ((rc = hs_data_kind_lookup(get(cfg, "data.kind")->u.s, &kind, err))) goto fail;
    c->data.kind = kind->name;
    const char *path = get(cfg, "data.path")->u.s;
    c->path_ = strdup(path ? path : "");
    const hs_value *counts = get(cfg, "data.class_counts");
    if (counts->n) c->class_counts_ = malloc(counts->n * sizeof *c->class_counts_);
    if (!c->path_ || (counts->n && !c->class_counts_)) goto nomem;
    if (counts->n) memcpy(c->class_counts_, counts->u.il, counts->n * sizeof *c->class_counts_);
    c->data.path = c->path_;
    c->data.seed = c->data_seed;
    c->data.per_class = GET_I("data.per_class");
    c->data.class_counts = c->class_counts_;
    c->data.n_test = GET_I("data.n_test");
    if ((rc = enum_of(cfg, "data.resize", "bilinear|area", &e, err))) goto fail;
    c->data.resize = e == 0 ? HS_RESIZE_BILINEAR : HS_RESIZE_AREA;
    c->data.classes = (int)GET_I("data.classes");
    c->data.dim = (int)GET_I("data.dim");
    c->data.separation = GET_F("data.separation");
    c->data.v = (int)GET_I("data.v");
    c->data.n_c = (int)GET_I("data.n_c");
    c->data.m = (int)GET_I("data.m");
    c->data.s = (int)GET_I("data.s");
    c->data.L = (int)GET_I("data.L");
    c->data.s0 = (int)GET_I("data.s0");
    if ((rc = enum_of(cfg, "data.sparsity", "A|B", &e, err))) goto fail;
    c->data.sparsity = e == 0 ? HS_RHM_SPARSITY_A : HS_RHM_SPARSITY_B;
    long long rs = GET_I("data.rule_seed");
    c->data.rule_seed = rs < 0 ? c->data_seed : (uint64_t)rs;
    c->data.whiten = GET_B("data.whiten");
    c->data.n_train = GET_I("data.n_train");
    c->data.branching = (int)GET_I("data.branching");
    c->data.levels = (int)GET_I("data.levels");
    c->data.per_leaf = GET_I("data.per_leaf");
    c->data.features = (int)GET_I("data.features");
    c->data.sigma = GET_F("data.sigma");
    c->data.beta = GET_F("data.beta");
    c->data.test_fraction = GET_F("data.test_fraction");
    c->data.repeats = (int)GET_I("data.repeats");
    c->data.noise = GET_F("data.noise");
    c->data.modules = (int)GET_I("data.modules");
    c->data.active = (int)GET_I("data.active");
    c->data.zca = GET_B("data.zca");
    if ((rc = enum_of(cfg, "data.targets", "labels|levels", &e, err))) goto fail;
    c->data.level_targets = e == 1;

    /* ------------------------------------------------------------ model */
    const hs_value *arch = get(cfg, "model.arch");
    if (!arch || arch->type != HS_T_ENUM) {
        rc = HS_FAIL(err, HS_ERR_INTERNAL, "model.arch: the schema has no such choice key");
        goto fail;
    }
    if ((rc = hs_model_kind_find(arch->u.s, &c->arch, err))) goto fail;
    long long filter = GET_I("model.filter");
    c->filter = (int)filter;
    if (c->filter == 0) c->filter = hs_data_patch(&c->data);
    c->width = (int)GET_I("model.width");
    c->width_mult = GET_F("model.width_mult");
    c->dropout = GET_F("model.dropout");
    c->drop_connect = GET_F("model.drop_connect");
    if ((rc = enum_of(cfg, "model.kernel", "laplace|gaussian|ntk", &e, err))) goto fail;
    c->kernel_kind = e;
    c->kernel_sigma = GET_F("model.kernel_sigma");
    c->ridge = GET_F("model.ridge");
    c->ntk_depth = (int)GET_I("model.ntk_depth");
    c->kernel_block = (int)GET_I("model.kernel_block");
    const hs_value *widths = get(cfg, "model.widths"), *scales = get(cfg, "model.init_scales");
    size_t hidden = widths->n ? widths->n : (size_t)GET_I("model.depth") + 1;
    c->widths_ = malloc((hidden ? hidden : 1) * sizeof *c->widths_);
    c->scales_ = malloc((hidden + 1) * sizeof *c->scales_);
    if (!c->widths_ || !c->scales_) goto nomem;
    for (size_t l = 0; l < hidden; l++) c->widths_[l] = (int)(widths->n ? widths->u.il[l] : GET_I("model.width"));
    if (scales->n && scales->n != hidden + 1) {
        rc = HS_FAIL(err, HS_ERR_VALUE, "model.init_scales has %zu entries but the net has %zu dense layers", scales->n,
                     hidden + 1);
        goto fail;
    }
    for (size_t l = 0; l <= hidden; l++) c->scales_[l] = scales->n ? scales->u.fl[l] : GET_F("model.init_scale");
    c->model.n_hidden = (int)hidden;
    c->model.widths = c->widths_;
    c->model.init_scales = c->scales_;
    if ((rc = enum_of(cfg, "model.norm", "batch|none", &e, err))) goto fail;
    c->model.norm = e == 0 ? HS_NORM_BATCH : HS_NORM_NONE;
    if ((rc = enum_of(cfg, "model.act", "relu|tanh|identity", &e, err))) goto fail;
    c->model.act = e == 0 ? HS_ACT_RELU : e == 1 ? HS_ACT_TANH : HS_ACT_IDENTITY;
    c->model.bias = GET_B("model.bias");
    c->model.bn_eps = (float)GET_F("model.bn_eps");
    c->model.bn_momentum = (float)GET_F("model.bn_momentum");
    if ((rc = enum_of(cfg, "model.init", "torch|normal|orthogonal|balanced", &e, err))) goto fail;
    static const hs_init inits[] = {HS_INIT_TORCH, HS_INIT_NORMAL, HS_INIT_ORTHOGONAL, HS_INIT_BALANCED};
    c->model.init = inits[e];
    c->model.zero_bias = GET_B("model.zero_bias");
    c->model.seed = c->seed;

    /* ------------------------------------------------------------ training */
    if ((rc = enum_of(cfg, "train.opt", "sgd|momentum|adam|adamw", &e, err))) goto fail;
    static const hs_opt_kind opts[] = {HS_OPT_SGD, HS_OPT_MOMENTUM, HS_OPT_ADAM, HS_OPT_ADAMW};
    c->optim.kind = opts[e];
    c->optim.momentum = GET_F("train.momentum");
    c->optim.nesterov = GET_B("train.nesterov");
    c->optim.beta1 = GET_F("train.beta1");
    c->optim.beta2 = GET_F("train.beta2");
    c->optim.eps = GET_F("train.eps");
    c->weight_decay = GET_F("train.weight_decay");
    if ((rc = enum_of(cfg, "train.decay_on", "all|weights|mean", &e, err))) goto fail;
    c->decay_on = e; /* HS_DECAY_* in the schema's order */
    if ((rc = enum_of(cfg, "train.augment", "none|crop|flip|crop_flip", &e, err))) goto fail;
    c->augment = e; /* HS_AUG_* in the schema's order */
    c->crop_pad = (int)GET_I("train.crop_pad");
    if ((rc = enum_of(cfg, "train.loss", "ce|mse", &e, err))) goto fail;
    c->loss = e == 0 ? HS_LOSS_CE : HS_LOSS_MSE;
    c->epochs = GET_I("train.epochs");
    long long batch = GET_I("train.batch");
    c->batch = batch > 1 << 30 ? 1 << 30 : (int)batch;
    long long bpc = GET_I("train.batch_per_class");
    c->batch_per_class = bpc > 1 << 20 ? 1 << 20 : (int)bpc;
    c->stop_loss = GET_F("train.stop_loss");

    if ((rc = enum_of(cfg, "train.schedule", "step|cosine", &e, err))) goto fail;
    const hs_value *drops = get(cfg, "train.lr_drops");
    if (drops->n) {
        c->drops_ = malloc(drops->n * sizeof *c->drops_);
        if (!c->drops_) goto nomem;
        memcpy(c->drops_, drops->u.il, drops->n * sizeof *c->drops_);
    }
    c->schedule = (hs_schedule){.kind = e == 0 ? HS_SCHED_STEP : HS_SCHED_COSINE,
                                .lr = GET_F("train.lr"),
                                .drops = c->drops_,
                                .n_drops = drops->n,
                                .drop_factor = GET_F("train.lr_drop_factor"),
                                .epochs = c->epochs};

    /* ------------------------------------------------------------ recording */
    long long every = GET_I("record.every");
    c->record_every = every > 1 << 30 ? 1 << 30 : (int)every;
    if ((rc = enum_of(cfg, "record.separation", "none|final|every", &e, err))) goto fail;
    c->separation = (hs_sep_when)e;
    if ((rc = enum_of(cfg, "record.bn_mode", "eval|batch", &e, err))) goto fail;
    c->bn_record_mode = e == 0 ? HS_MODE_EVAL : HS_MODE_BATCH;
    if ((rc = enum_of(cfg, "record.separation_weighting", "balanced|paper", &e, err))) goto fail;
    c->sep_paper_weighting = e == 1;
    long long chunk = GET_I("record.bn_chunk");
    c->bn_chunk = chunk > 1 << 30 ? 1 << 30 : (int)chunk;
    if ((rc = enum_of(cfg, "record.schedule", "epochs|steps|log", &e, err))) goto fail;
    static const hs_rec_schedule scheds[] = {HS_REC_EPOCHS, HS_REC_STEPS, HS_REC_LOG};
    c->record_schedule = scheds[e];
    c->record_every_steps = GET_I("record.every_steps");
    c->record_log_points = (int)GET_I("record.log_points");
    c->eval_samples = GET_I("record.eval_samples");
    c->centroids = (int)GET_I("record.centroids");
    long long snap = GET_I("record.snapshot_every");
    c->snapshot_every = snap > 1 << 30 ? 1 << 30 : (int)snap;
    c->snapshot_samples = (int)GET_I("record.snapshot_samples");
    c->neighbours = (int)GET_I("record.neighbours");
    c->neighbours_pool = (int)GET_I("record.neighbours_pool");
    c->neighbours_rep = (int)GET_I("record.neighbours_rep");
    c->weight_snapshots = GET_B("record.weight_snapshots");
    c->grad_norms = GET_B("record.grad_norms");
    c->svd = (int)GET_I("record.svd");
    c->modes = (int)GET_I("record.modes");
    c->sensitivity = (int)GET_I("record.sensitivity");
    c->stability = (int)GET_I("record.stability");
    c->diffeo_c = (int)GET_I("record.diffeo_c");
    c->diffeo_T = GET_F("record.diffeo_T");
    return HS_OK;

nomem:
    rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory building a run's config");
fail:
    hs_train_config_free(c);
    return rc;
}

hs_code hs_train_config_from_plan(const hs_plan *plan, size_t r, hs_train_config *out, hs_error *err) {
    if (r >= plan->n_runs) return HS_FAIL(err, HS_ERR_INTERNAL, "run %zu of a plan with %zu runs", r, plan->n_runs);
    const hs_value **cfg = malloc(plan->n_keys * sizeof *cfg);
    if (!cfg) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < plan->n_keys; k++) cfg[k] = hs_plan_value(plan, r, (int)k);
    hs_code rc = hs_train_config_from_values(cfg, out, err);
    free(cfg);
    if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
    return rc;
}

void hs_train_config_free(hs_train_config *c) {
    if (!c) return;
    free(c->widths_);
    free(c->scales_);
    free(c->class_counts_);
    free(c->drops_);
    free(c->path_);
    memset(c, 0, sizeof *c);
}
