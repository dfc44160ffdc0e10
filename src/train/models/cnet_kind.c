/* cnet_kind.c - the model kinds of the deep conv nets (cnet_kind.h): a run's config and its data's
 * layout become hs_cnet_opts, and everything the registry asks (checks, layers, weights, cost,
 * parameters) is read off the layer list nets.h summarises, so the plan and the net agree. */
#include <stdio.h>

#include "../internal.h"
#include "cnet_kind.h"

/* The net's options for c on inputs [channels x height x width] (1-D: height 1) and out outputs. */
static hs_code opts_of(const hs_cnet_arch *a, const hs_train_config *c, int channels, int height, int width,
                       int out, int max_batch, hs_cnet_opts *o, hs_error *err) {
    if (c->model.init != HS_INIT_TORCH) {
        HS_FAIL(err, HS_ERR_VALUE, "model.init: model.arch %s initialises as PyTorch does (torch) only", a->name);
        return hs_error_hint(err, "leave model.init at torch; model.init_scale scales the weights");
    }
    if (c->scales_ && c->model.n_hidden >= 0) {
        for (int l = 1; l <= c->model.n_hidden; l++)
            if (c->model.init_scales[l] != c->model.init_scales[0]) {
                HS_FAIL(err, HS_ERR_VALUE, "model.init_scales: model.arch %s takes one scale for all its layers", a->name);
                return hs_error_hint(err, "use model.init_scale");
            }
    }
    if (channels < 1 || height < 1 || width < 1) {
        HS_FAIL(err, HS_ERR_VALUE, "model.arch %s needs data with an image [channels x height x width] or a [channels x "
                "positions] layout, not data.kind %s", a->name, c->data.kind);
        return hs_error_hint(err, "image kinds (fashion_mnist, cifar10, cfm, ...) or rhm/srhm");
    }
    *o = (hs_cnet_opts){.arch = a, .channels = channels, .height = height, .width = width, .out_dim = out,
                        .width_mult = c->width_mult, .dropout = c->dropout,
                        .drop_connect = c->drop_connect,
                        .batch_norm = c->model.norm == HS_NORM_BATCH, .bn_eps = c->model.bn_eps,
                        .bn_momentum = c->model.bn_momentum,
                        .init_scale = c->model.init_scales ? c->model.init_scales[0] : 1,
                        .zero_bias = c->model.zero_bias, .seed = c->seed, .max_batch = max_batch};
    return HS_OK;
}

static hs_code summary_of(const hs_cnet_arch *a, const hs_train_config *c, const hs_data_shape *sh, int out,
                          hs_cnet_summary *s, int *rows, int *cols, int cap, hs_error *err) {
    hs_cnet_opts o;
    long long B = hs_train_batch(c, sh->n_train > 0 ? sh->n_train : 1, sh->classes);
    HS_TRY(err, opts_of(a, c, sh->channels, sh->height, sh->width, out, B > 0 ? (int)B : 1, &o, err));
    HS_TRY(err, hs_cnet_summarize(&o, s, rows, cols, cap, err));
    return HS_OK;
}

void cnet_kind_describe(const hs_cnet_arch *a, const hs_train_config *c, char *buf, size_t size) {
    const double p = c->dropout < 0 ? a->dropout : c->dropout;
    int w = snprintf(buf, size, "%s", a->name);
    if (w >= 0 && (size_t)w < size && c->width_mult != 1) w += snprintf(buf + w, size - (size_t)w, ", width x%g",
                                                                           c->width_mult);
    if (w >= 0 && (size_t)w < size && p > 0) w += snprintf(buf + w, size - (size_t)w, ", dropout %g", p);
    if (w >= 0 && (size_t)w < size && c->drop_connect > 0)
        w += snprintf(buf + w, size - (size_t)w, ", drop-path %g", c->drop_connect);
    if (w >= 0 && (size_t)w < size && c->model.norm != HS_NORM_BATCH) snprintf(buf + w, size - (size_t)w, ", no BN");
}

hs_code cnet_kind_check(const hs_cnet_arch *a, const hs_train_config *c, const hs_data_shape *sh, hs_error *err) {
    hs_cnet_summary s;
    HS_TRY(err, summary_of(a, c, sh, hs_model_out_dim(c, sh->t_dim, sh->classes), &s, NULL, NULL, 0, err));
    return HS_OK;
}

hs_code cnet_kind_create(const hs_cnet_arch *a, hs_model *m, const hs_train_config *c, const hs_dataset *train,
                         int max_batch, hs_error *err) {
    hs_cnet_opts o;
    const int C = train->channels, H = train->height, W = train->width;
    if (C > 0 && H > 0 && W > 0 && (long long)C * H * W != train->dim)
        return HS_FAIL(err, HS_ERR_INTERNAL, "data of %d dims in a %d x %d x %d layout", train->dim, C, H, W);
    HS_TRY(err, opts_of(a, c, C, H, W, hs_model_out_dim(c, train->t ? train->t_dim : 0, train->classes), max_batch,
                        &o, err));
    HS_TRY(err, hs_model_cnet(m, &o, err));
    return HS_OK;
}

int cnet_kind_weights(const hs_cnet_arch *a, const hs_train_config *c, const hs_data_shape *sh, int out, int *rows,
                      int *cols, int cap) {
    hs_cnet_summary s;
    hs_error err = {0};
    if (summary_of(a, c, sh, out, &s, rows, cols, cap, &err) != HS_OK) return 0;
    return s.n_weights < cap ? s.n_weights : cap;
}

/* The weight with the most singular values: min(rows, cols) of conv weights as [C_out x fan_in]. */
int cnet_kind_svd_rank(const hs_cnet_arch *a, const hs_train_config *c, const hs_data_shape *sh, int out) {
    enum { CAP = 512 };
    int rows[CAP], cols[CAP], best = 0;
    const int n = cnet_kind_weights(a, c, sh, out, rows, cols, CAP);
    for (int i = 0; i < n; i++) {
        const int k = rows[i] < cols[i] ? rows[i] : cols[i];
        if (k > best) best = k;
    }
    return best;
}

double cnet_kind_macs(const hs_cnet_arch *a, const hs_train_config *c, const hs_data_shape *sh) {
    hs_cnet_summary s;
    hs_error err = {0};
    return summary_of(a, c, sh, hs_model_out_dim(c, sh->t_dim, sh->classes), &s, NULL, NULL, 0, &err) == HS_OK ? s.macs
                                                                                                             : 0;
}

double cnet_kind_bytes(const hs_cnet_arch *a, const hs_train_config *c, const hs_data_shape *sh, int max_batch) {
    hs_cnet_opts o;
    hs_error err = {0};
    size_t n = 0;
    if (opts_of(a, c, sh->channels, sh->height, sh->width, hs_model_out_dim(c, sh->t_dim, sh->classes), max_batch, &o,
                &err) != HS_OK || hs_cnet_bytes(&o, &n, &err) != HS_OK)
        return 0;
    return (double)n;
}

long long cnet_kind_params(const hs_cnet_arch *a, const hs_train_config *c, const hs_data_shape *sh) {
    hs_cnet_summary s;
    hs_error err = {0};
    return summary_of(a, c, sh, hs_model_out_dim(c, sh->t_dim, sh->classes), &s, NULL, NULL, 0, &err) == HS_OK
               ? (long long)s.n_params
               : -1;
}
