/* mlp.c - model kind "mlp": the plain stack of dense layers of nn.h (hs_model_mlp), with
 * optional BatchNorm, and the balanced init aligned with the training set's Sigma_yx. */
#include <stdio.h>
#include <stdlib.h>

#include "../internal.h"
#include "../recorders.h"
#include "hsweep/models.h"

static void describe(const hs_train_config *c, char *buf, size_t size) {
    snprintf(buf, size, "%d hidden layer%s", c->model.n_hidden, c->model.n_hidden == 1 ? "" : "s");
}

static hs_code create(hs_model *m, const hs_train_config *c, const hs_dataset *train, int max_batch, hs_error *err) {
    hs_mlp_opts mo = c->model;
    double *yx = NULL;
    mo.in_dim = train->dim;
    mo.out_dim = hs_model_out_dim(c, train->t ? train->t_dim : 0, train->classes);
    mo.max_batch = max_batch;
    if (mo.init == HS_INIT_BALANCED) {
        int in = 0;
        HS_TRY(err, rec_sigma_yx(train, mo.out_dim, &yx, &in, err));
        mo.sigma_yx = yx;
    }
    hs_code rc = hs_model_mlp(m, &mo, err);
    free(yx);
    return rc;
}

static size_t layers(const hs_train_config *c) { return (size_t)c->model.n_hidden + 1; }

/* Width of layer boundary l: 0 the input, 1..n_hidden the hidden layers, n_hidden + 1 the output. */
static int dim_at(const hs_train_config *c, int in, int out, int l) {
    return l == 0 ? in : l <= c->model.n_hidden ? c->model.widths[l - 1] : out;
}

static int weights(const hs_train_config *c, const hs_data_shape *sh, int out, int *rows, int *cols, int cap) {
    int n = 0;
    for (int l = 0; l <= c->model.n_hidden; l++, n++)
        if (n < cap) rows[n] = dim_at(c, sh->dim, out, l + 1), cols[n] = dim_at(c, sh->dim, out, l);
    return n < cap ? n : cap;
}

static int svd_rank(const hs_train_config *c, const hs_data_shape *sh, int out) {
    int best = 0;
    for (int l = 0; l <= c->model.n_hidden; l++) {
        int a = dim_at(c, sh->dim, out, l), b = dim_at(c, sh->dim, out, l + 1), m = a < b ? a : b;
        if (m > best) best = m;
    }
    return best;
}

/* The dense products; biases, norms and activations are lower order. */
static double macs(const hs_train_config *c, const hs_data_shape *sh) {
    int out = hs_model_out_dim(c, sh->t_dim, sh->classes);
    double sum = 0;
    for (int l = 0; l <= c->model.n_hidden; l++)
        sum += (double)dim_at(c, sh->dim, out, l) * (double)dim_at(c, sh->dim, out, l + 1);
    return sum;
}

/* W and b of every dense layer, gamma and beta of every hidden layer with BatchNorm (its running
 * statistics are buffers, not parameters). */
static long long params(const hs_train_config *c, const hs_data_shape *sh) {
    const int out = hs_model_out_dim(c, sh->t_dim, sh->classes), bn = c->model.norm == HS_NORM_BATCH;
    long long n = 0;
    for (int l = 0; l <= c->model.n_hidden; l++) {
        const long long rows = dim_at(c, sh->dim, out, l + 1);
        n += rows * dim_at(c, sh->dim, out, l) + (c->model.bias ? rows : 0);
        if (bn && l < c->model.n_hidden) n += 2 * rows;
    }
    return n;
}

static double bytes(const hs_train_config *c, const hs_data_shape *sh, int max_batch) {
    hs_mlp_opts mo = c->model;
    mo.in_dim = sh->dim;
    mo.out_dim = hs_model_out_dim(c, sh->t_dim, sh->classes);
    mo.max_batch = max_batch;
    size_t n = 0;
    hs_error err = {0};
    return hs_mlp_bytes(&mo, &n, &err) == HS_OK ? (double)n : 0;
}

const hs_model_kind hs_model_kind_mlp = {
    .name = "mlp",
    .summary = "dense layers (model.depth or model.widths) with optional BatchNorm, then a linear readout",
    .flags = HS_MODEL_NORM | HS_MODEL_DENSE_VIEWS,
    .describe = describe,
    .create = create,
    .layers = layers,
    .weights = weights,
    .svd_rank = svd_rank,
    .macs = macs,
    .params = params,
    .bytes = bytes,
};
