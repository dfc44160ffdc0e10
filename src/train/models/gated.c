/* gated.c - model kind "gated": the routing net of Saxe, Sodhani & Lewallen (nn.h,
 * hs_model_gated) on the rows of a routing task, its balanced init aligned with the items'
 * Sigma_yx. */
#include <stdio.h>
#include <stdlib.h>

#include "../internal.h"
#include "../recorders.h"
#include "hsweep/models.h"

static void describe(const hs_train_config *c, char *buf, size_t size) { snprintf(buf, size, "gated, width %d", c->width); }

static hs_code check(const hs_train_config *c, const hs_data_shape *sh, hs_error *err) {
    (void)c;
    if (sh->modules < 1 || sh->t_dim < 1)
        return HS_FAIL(err, HS_ERR_VALUE, "model.arch gated needs the rows of a routing task (data.kind gated_toy or "
                       "gated_fmnist), not data.kind %s", c->data.kind);
    return HS_OK;
}

/* The net of c on rows of dim values (item features, then the two module indices), t_dim targets
 * and `modules` modules, for max_batch rows. */
static hs_gated_opts opts_of(const hs_train_config *c, int dim, int t_dim, int modules, int max_batch) {
    const int K = c->data.active < c->data.modules ? c->data.active : c->data.modules;
    return (hs_gated_opts){.in_dim = dim - 2, .hidden = c->width, .out_dim = t_dim, .modules = modules,
                           .pathways = modules * K, .init = c->model.init, .init_scale = c->model.init_scales[0],
                           .seed = c->seed, .max_batch = max_batch};
}

static hs_code create(hs_model *m, const hs_train_config *c, const hs_dataset *train, int max_batch, hs_error *err) {
    if (train->modules < 1 || !train->t)
        return HS_FAIL(err, HS_ERR_VALUE, "model.arch gated needs the rows of a routing task (data.kind gated_toy or "
                                          "gated_fmnist), not data.kind %s", c->data.kind);
    double *yx = NULL;
    int in = 0;
    if (c->model.init == HS_INIT_BALANCED) HS_TRY(err, rec_sigma_yx(train, train->t_dim, &yx, &in, err));
    hs_gated_opts go = opts_of(c, train->dim, train->t_dim, train->modules, max_batch);
    go.sigma_yx = yx;
    hs_code rc = hs_model_gated(m, &go, err);
    free(yx);
    return rc;
}

/* the per-layer table: the input and the shared hidden layer */
static size_t layers(const hs_train_config *c) {
    (void)c;
    return 2;
}

/* Win_i [H x in] per input module, the shared Wh [H x H], Wout_j [out x H] per output module. */
static int weights(const hs_train_config *c, const hs_data_shape *sh, int out, int *rows, int *cols, int cap) {
    int M = sh->modules, H = c->width, in = sh->dim - 2, n = 0;
    for (int i = 0; i < 2 * M + 1 && n < cap; i++, n++) {
        rows[n] = i < M ? H : i == M ? H : out;
        cols[n] = i < M ? in : H;
    }
    return n;
}

/* the shared H x H layer has the most */
static int svd_rank(const hs_train_config *c, const hs_data_shape *sh, int out) {
    (void)sh, (void)out;
    return c->width;
}

/* One row runs one pathway: Win_i, Wh, Wout_j. */
static double macs(const hs_train_config *c, const hs_data_shape *sh) {
    double H = c->width, in = sh->dim - 2, out = sh->t_dim;
    return H * in + H * H + out * H;
}

/* The weights of `weights` (no biases): M input modules, the shared layer, M output modules. */
static long long params(const hs_train_config *c, const hs_data_shape *sh) {
    const long long M = sh->modules, H = c->width, in = sh->dim - 2, out = sh->t_dim;
    return M * H * in + H * H + M * out * H;
}

static double bytes(const hs_train_config *c, const hs_data_shape *sh, int max_batch) {
    const hs_gated_opts go = opts_of(c, sh->dim, sh->t_dim, sh->modules, max_batch);
    size_t n = 0;
    hs_error err = {0};
    return hs_gated_bytes(&go, &n, &err) == HS_OK ? (double)n : 0;
}

const hs_model_kind hs_model_kind_gated = {
    .name = "gated",
    .summary = "routing net: input modules, one shared hidden layer, output modules (linear, no biases)",
    .flags = 0,
    .describe = describe,
    .check = check,
    .create = create,
    .layers = layers,
    .weights = weights,
    .svd_rank = svd_rank,
    .macs = macs,
    .params = params,
    .bytes = bytes,
};
