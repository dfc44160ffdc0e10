/*
 * models.h - the registry of model kinds: every value model.arch can take is one entry of a table,
 * in the way PETSc registers its Krylov solvers (KSPRegister("cg", KSPCreate_CG)). An entry knows
 * how to build its net from a run's config and data, what the recorders and checks may ask of it,
 * how to describe itself in one line, and what one sample costs; nothing outside the entry asks
 * which kind it is. The nets themselves (forward, backward, parameters, state) are hs_model
 * objects (nn.h); an entry is the bridge from a config to one of them.
 *
 *     const hs_model_kind *k = NULL;
 *     HS_TRY(err, hs_model_kind_find("gated", &k, err));   // unknown names: HS_ERR_VALUE + hint
 *     char line[128];
 *     k->describe(&cfg, line, sizeof line);                // "gated, width 16"
 *     hs_model net;
 *     HS_TRY(err, k->create(&net, &cfg, &train, 32, err)); // then hs_model_forward/backward
 *     double per_sample = k->macs(&cfg, &shape);           // multiply-adds of one forward
 *     hs_model_free(&net);
 *
 * A run's config carries its kind (hs_train_config.arch, set by hs_train_config_from_values), so
 * code that holds a config writes c->arch->create(...), never a comparison of names.
 *
 * Adding a model kind: one file under src/train/models/ defining `const hs_model_kind
 * hs_model_kind_<name>`, one line in src/train/models/registry.c, the name among model.arch's
 * choices in the schema (a unit test checks that the two lists agree), and its tests.
 */
#ifndef HSWEEP_MODELS_H
#define HSWEEP_MODELS_H

#include <stddef.h>

#include "hsweep/data.h"
#include "hsweep/nn.h"
#include "hsweep/status.h"
#include "hsweep/train.h"

/* What a kind offers beyond building its net. */
enum {
    /* solved in closed form on all ranks together (the kernel machines), not trained step by
     * step: one record point, no series, no single-process `hsweep train` */
    HS_MODEL_SOLVED = 1u << 0,
    /* honours model.norm: with BatchNorm a batch (or a record.bn_chunk) of one sample is refused,
     * and record.bn_mode batch forwards chunks of record.bn_chunk rows */
    HS_MODEL_NORM = 1u << 1,
    /* the per-layer views of a plain stack of dense layers (hs_model_as_mlp): Linear outputs and
     * block outputs per hidden layer for the centroid and snapshot series, first and last weight
     * matrices for weight snapshots, the end-to-end map for record.modes */
    HS_MODEL_DENSE_VIEWS = 1u << 2,
};

struct hs_model_kind {
    const char *name;    /* model.arch's value, e.g. "gated" */
    const char *summary; /* one line for listings */
    unsigned flags;      /* HS_MODEL_* */

    /* The train header's description of the net of c, e.g. "2 hidden layers", "cnn, width 512". */
    void (*describe)(const hs_train_config *c, char *buf, size_t size);

    /* What building the net would refuse that the data's shape decides (NULL: nothing), so that a
     * plan refuses it before any training. Errors name the keys at fault. */
    hs_code (*check)(const hs_train_config *c, const hs_data_shape *sh, hs_error *err);

    /* Build and initialise the net of c for the training set train, for batches of at most
     * max_batch rows. Solved kinds refuse (HS_ERR_USAGE): their solver lives elsewhere. */
    hs_code (*create)(hs_model *m, const hs_train_config *c, const hs_dataset *train, int max_batch, hs_error *err);

    /* The layers the per-layer table of the results file has for c (hs_layer_field_names). */
    size_t (*layers)(const hs_train_config *c);

    /* The weight matrices of the net, in tensor order: their count, and rows x cols of the first
     * cap of them (0 x 0 where the kind's shapes vary by position). out = the output width. */
    int (*weights)(const hs_train_config *c, const hs_data_shape *sh, int out, int *rows, int *cols, int cap);

    /* The most singular values any weight matrix has, for record.svd; NULL: the kind records no
     * singular values. */
    int (*svd_rank)(const hs_train_config *c, const hs_data_shape *sh, int out);

    /* Multiply-adds of one sample's forward pass (the cost model takes 6 x macs per sample and
     * step: forward, and backward twice as dear); solved kinds give their whole solve's FLOP in
     * `flops` instead. */
    double (*macs)(const hs_train_config *c, const hs_data_shape *sh);
    double (*flops)(const hs_train_config *c, const hs_data_shape *sh);

    /* The net's parameter count on data of shape sh, which `hsweep plan` shows (NULL: the kind
     * does not say; -1: the net cannot be built on that shape). */
    long long (*params)(const hs_train_config *c, const hs_data_shape *sh);

    /* The bytes `create` would allocate for max_batch rows on data of shape sh: parameters,
     * gradients, activations and workspaces (NULL: the kind does not say, and the memory floor
     * counts parameters and gradients only; 0: the net cannot be built on that shape). A solved
     * kind gives the matrices of its whole solve, which the ranks solving it together share. */
    double (*bytes)(const hs_train_config *c, const hs_data_shape *sh, int max_batch);
};

/* The kind named name; HS_ERR_VALUE with the known names as a hint (and a near one suggested)
 * for any other. */
hs_code hs_model_kind_find(const char *name, const hs_model_kind **out, hs_error *err);
/* The kind named name, or NULL. */
const hs_model_kind *hs_model_kind_lookup(const char *name);
/* The registered kinds in registration order; *n receives their count. */
const hs_model_kind *const *hs_model_kinds(size_t *n);
/* k is the kind called name (for the few analyses that apply to one kind only). */
int hs_model_kind_is(const hs_model_kind *k, const char *name);

/* The output width of c's net on data of shape sh: the targets for MSE on real targets, else one
 * per class. */
static inline int hs_model_out_dim(const hs_train_config *c, int t_dim, int classes) {
    return c->loss == HS_LOSS_MSE && t_dim > 0 ? t_dim : classes;
}

#endif /* HSWEEP_MODELS_H */
