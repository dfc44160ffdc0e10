/* hnet.c - model kinds "cnn", "lcn" and "fcn": the hierarchical nets of the SRHM experiments
 * (nn.h, hs_model_hnet), one parameterised net whose kinds differ in how a layer shares its
 * weights, so the three entries share this file. They read [channels x positions] inputs that
 * filters of model.filter tile in data.L levels, one hidden layer per level. */
#include <stdio.h>

#include "../internal.h"
#include "hsweep/models.h"

static hs_hnet_kind hnet_kind(const hs_train_config *c) {
    return hs_model_kind_is(c->arch, "cnn") ? HS_HNET_CNN : hs_model_kind_is(c->arch, "lcn") ? HS_HNET_LCN : HS_HNET_FCN;
}

static void describe(const hs_train_config *c, char *buf, size_t size) {
    snprintf(buf, size, "%s, width %d", c->arch->name, c->width);
}

/* Levels the filter tiles the positions in (-1 when it does not tile them exactly). */
static int depth_of(int S, long long positions) {
    long long p = 1;
    int depth = 0;
    for (; S >= 2 && p < positions; p *= S) depth++;
    return S < 2 || p != positions ? -1 : depth;
}

/* The layout announces data.L + 1 layers, so the filters must tile the input in data.L levels. */
static hs_code check(const hs_train_config *c, const hs_data_shape *sh, hs_error *err) {
    int channels = sh->channels;
    if (channels < 1)
        return HS_FAIL(err, HS_ERR_VALUE, "model.arch %s needs data with a [channels x positions] layout (data.kind "
                       "rhm or srhm), not data.kind %s", c->arch->name, c->data.kind);
    long long positions = sh->dim / channels;
    if (depth_of(c->filter, positions) != c->data.L) {
        HS_FAIL(err, HS_ERR_VALUE, "model.filter = %d: model.arch %s needs filters that tile the %lld input positions "
                "in data.L = %d levels (filter^%d = %lld)", c->filter, c->arch->name, positions, c->data.L,
                c->data.L, positions);
        return hs_error_hint(err, "model.filter 0 takes s (s0 + 1) from rhm and srhm data");
    }
    return HS_OK;
}

/* The net of c on positions x channels inputs of `classes` classes, for max_batch rows. */
static hs_hnet_opts opts_of(const hs_train_config *c, int channels, int positions, int classes, int max_batch) {
    const int S = c->filter;
    int depth = 0;
    for (long long p = 1; S >= 2 && p < positions; p *= S) depth++;
    return (hs_hnet_opts){.kind = hnet_kind(c), .channels = channels, .positions = positions, .filter = S,
                          .depth = depth, .width = c->width, .out_dim = classes, .bias_scale = 0.1, .seed = c->seed,
                          .max_batch = max_batch};
}

static hs_code create(hs_model *m, const hs_train_config *c, const hs_dataset *train, int max_batch, hs_error *err) {
    const int positions = train->height * train->width;
    if (train->channels < 1 || positions < 1 || train->channels * positions != train->dim)
        return HS_FAIL(err, HS_ERR_VALUE, "model.arch cnn/lcn/fcn needs data with a [channels x positions] layout "
                                          "(rhm or srhm); got %d dims", train->dim);
    const hs_hnet_opts ho = opts_of(c, train->channels, positions, train->classes, max_batch);
    return hs_model_hnet(m, &ho, err);
}

static size_t layers(const hs_train_config *c) { return (size_t)c->data.L + 1; }

/* one weight per hidden layer and the readout; their shapes vary by kind (0 x 0) */
static int weights(const hs_train_config *c, const hs_data_shape *sh, int out, int *rows, int *cols, int cap) {
    (void)sh, (void)out;
    int n = 0;
    for (int l = 0; l <= c->data.L && n < cap; l++, n++) rows[n] = cols[n] = 0;
    return n;
}

/* Layer l maps d/S^l positions of C_in channels to d/S^(l+1) positions of H channels (the same
 * count for CNN and LCN; the FCN's dense layers connect every unit of one layer to every unit of
 * the next); the readout is out x H. */
static double macs(const hs_train_config *c, const hs_data_shape *sh) {
    int channels = sh->channels;
    double S = c->filter, H = c->width, cin = channels, pos = channels > 0 ? (double)(sh->dim / channels) : 0, sum = 0;
    int fcn = hnet_kind(c) == HS_HNET_FCN, depth = channels > 0 ? depth_of(c->filter, sh->dim / channels) : -1;
    for (int l = 0; l < depth; l++) {
        double out_pos = pos / S;
        sum += fcn ? (cin * pos) * (H * out_pos) : out_pos * H * cin * S;
        cin = H, pos = out_pos;
    }
    return sum + H * hs_model_out_dim(c, sh->t_dim, sh->classes);
}

/* hs_model_hnet's tensors (src/nn/hnet.c): per level l, going from P positions of C_in channels
 * to P/S positions of H: the weight (CNN H x S C_in, shared; LCN one such per output position;
 * FCN (P C_in or the previous width) x (P/S) H) and a bias per output unit ((P/S) H, the CNN's
 * too), then the readout out x H. -1 when the filter does not tile the positions. */
static long long params(const hs_train_config *c, const hs_data_shape *sh) {
    const int channels = sh->channels;
    const int depth = channels > 0 ? depth_of(c->filter, sh->dim / channels) : -1;
    if (depth < 1) return -1;
    const hs_hnet_kind k = hnet_kind(c);
    long long pos = sh->dim / channels, cin = channels, in_w = sh->dim, n = 0;
    const long long S = c->filter, H = c->width;
    for (int l = 0; l < depth; l++) {
        pos /= S;
        const long long units = pos * H;
        n += (k == HS_HNET_CNN ? H * S * cin : k == HS_HNET_LCN ? units * S * cin : units * in_w) + units;
        cin = H, in_w = units;
    }
    return n + H * hs_model_out_dim(c, sh->t_dim, sh->classes);
}

static double bytes(const hs_train_config *c, const hs_data_shape *sh, int max_batch) {
    const hs_hnet_opts ho = opts_of(c, sh->channels, sh->height * sh->width, sh->classes, max_batch);
    size_t n = 0;
    hs_error err = {0};
    return hs_hnet_bytes(&ho, &n, &err) == HS_OK ? (double)n : 0;
}

#define HNET_KIND(id, text)                                                                                          \
    const hs_model_kind hs_model_kind_##id = {                                                                       \
        .name = #id, .summary = text, .flags = 0, .describe = describe, .check = check, .create = create,            \
        .layers = layers, .weights = weights, .macs = macs, .params = params, .bytes = bytes}

HNET_KIND(cnn, "hierarchical conv net: filters of size = stride model.filter shared by the positions, width H");
HNET_KIND(lcn, "hierarchical locally connected net: the cnn with one filter per position");
HNET_KIND(fcn, "dense net with the lcn's unit counts per layer");
