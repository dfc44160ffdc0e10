/* cnet_build.c - the layer list of a conv net (cnet_internal.h): the builder the architectures
 * call, with every shape, parameter tensor, multiply-add and buffer counted as layers are added,
 * the plan of the backward's gradient buffers, and hs_cnet_summarize. Nothing here touches
 * activations; cnet.c allocates and runs what this file lays out. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnet_internal.h"

/* Per-sample sizes and max_batch are bounded so that every index the ops compute in int (B x C x
 * H x W) stays below INT_MAX. */
#define CNET_MAX_INDEX ((double)INT_MAX)

int hs_cnet_channels(int c, double w) {
    double v = floor((double)c * w + 0.5);
    return v < 1 ? 1 : v > (1 << 24) ? 1 << 24 : (int)v;
}

double cnet_dropout_of(const hs_cnet_opts *o) { return o->dropout < 0 ? o->arch->dropout : o->dropout; }
int cnet_draws_masks(const hs_cnet_opts *o) { return cnet_dropout_of(o) > 0 || o->drop_connect > 0; }

/* ================================================================ growing the lists */

static int fail(hs_cnet_builder *b, hs_code code, const char *what) {
    if (!b->failed) HS_FAIL(b->err, code, "model.arch %s: %s", b->o.arch->name, what);
    b->failed = 1;
    return -1;
}

static int grow(hs_cnet_builder *b, void **p, int *cap, int n, size_t el) {
    if (n < *cap) return 0;
    int nc = *cap ? 2 * *cap : 64;
    void *q = realloc(*p, (size_t)nc * el);
    if (!q) return fail(b, HS_ERR_NOMEM, "out of memory for the layer list");
    *p = q, *cap = nc;
    return 0;
}

/* Value v as the input of a new node: counted as used; -1 when it was written over in place. */
static int use(hs_cnet_builder *b, int v) {
    if (b->failed) return -1;
    if (v < 0 || v >= b->n_vals || b->vals[v].spent) return fail(b, HS_ERR_INTERNAL, "a layer reads a spent value");
    b->vals[v].users++;
    return v;
}

static int new_value(hs_cnet_builder *b, int C, int H, int W, int buf) {
    if (grow(b, (void **)&b->vals, &b->cap_vals, b->n_vals, sizeof *b->vals)) return -1;
    const double size = (double)C * H * W;
    if (size * b->o.max_batch > CNET_MAX_INDEX) {
        char msg[160];
        snprintf(msg, sizeof msg, "an activation of %d x %d x %d floats per sample times max_batch %d is beyond int "
                 "indices", C, H, W, b->o.max_batch);
        return fail(b, HS_ERR_VALUE, msg);
    }
    b->vals[b->n_vals] = (cnet_value){.C = C, .H = H, .W = W, .size = (size_t)C * H * W,
                                      .buf = buf < 0 ? b->n_bufs++ : buf, .node = b->n_nodes - 1, .hidden = -1};
    return b->n_vals++;
}

/* A new node reading in (and in2) and writing a new value of shape C x H x W, in place over in
 * when inplace is set and nothing else reads in. */
static int add_node(hs_cnet_builder *b, cnet_node nd, int C, int H, int W, int inplace) {
    if (b->failed || grow(b, (void **)&b->nodes, &b->cap_nodes, b->n_nodes, sizeof *b->nodes)) return -1;
    cnet_value *in = &b->vals[nd.in];
    /* in place only over a value no other layer reads (nor will: it is spent below) and that is
     * neither the input (kept for the first conv's backward) nor a node somebody inspects */
    int buf = -1;
    if (inplace && nd.in > 0 && in->users == 1 && in->hidden < 0) buf = in->buf;
    nd.out = -1;
    b->nodes[b->n_nodes++] = nd;
    int v = new_value(b, C, H, W, buf);
    if (v < 0) return -1;
    if (buf >= 0) b->vals[nd.in].spent = 1; /* later reads are a bug, see use() */
    b->nodes[b->n_nodes - 1].out = v;
    return v;
}

static int add_tensor(hs_cnet_builder *b, hs_tensor_kind kind, int rows, int cols) {
    if (b->failed || grow(b, (void **)&b->tensors, &b->cap_tensors, b->n_tensors, sizeof *b->tensors)) return -1;
    const size_t size = (size_t)rows * (size_t)cols;
    b->tensors[b->n_tensors] = (hs_tensor){kind, b->n_hidden, b->n_params, size, rows, cols, cols};
    b->n_params += size;
    if (kind == HS_TENSOR_WEIGHT) b->n_weights++;
    return b->n_tensors++;
}

/* ================================================================ the layers */

int cb_conv(hs_cnet_builder *b, int in, int C_out, int k, int stride, int pad, int groups, int bias) {
    if (use(b, in) < 0) return -1;
    const cnet_value *x = &b->vals[in];
    hs_conv_shape cs = {.B = b->o.max_batch, .C_in = x->C, .H = x->H, .W = x->W, .C_out = C_out,
                        .KH = b->one_d ? 1 : k, .KW = k, .stride = stride, .pad = pad, .dilation = 1,
                        .groups = groups};
    if (hs_conv_plan(&cs) != 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "a conv %d -> %d channels, kernel %d, stride %d, pad %d, groups %d cannot take "
                 "%d x %d x %d inputs", x->C, C_out, k, stride, pad, groups, x->C, x->H, x->W);
        return fail(b, HS_ERR_VALUE, msg);
    }
    const int fan_in = x->C / groups * cs.KH * cs.KW;
    cnet_node nd = {.op = CN_CONV, .in = in, .in2 = -1, .cs = cs, .save = -1};
    nd.tw = add_tensor(b, HS_TENSOR_WEIGHT, C_out, fan_in);
    nd.tb = bias ? add_tensor(b, HS_TENSOR_BIAS, C_out, 1) : -1;
    b->macs += (double)cs.OH * cs.OW * C_out * fan_in;
    return add_node(b, nd, C_out, cs.OH, cs.OW, 0);
}

int cb_bn(hs_cnet_builder *b, int in) {
    if (use(b, in) < 0) return -1;
    const cnet_value *x = &b->vals[in];
    const int C = x->C, H = x->H, W = x->W;
    cnet_node nd = {.op = CN_BN, .in = in, .in2 = -1, .stats = b->n_buffers, .save = b->n_saves++};
    nd.tw = add_tensor(b, HS_TENSOR_BN_GAMMA, C, 1);
    nd.tb = add_tensor(b, HS_TENSOR_BN_BETA, C, 1);
    b->n_buffers += 2 * (size_t)C;
    return add_node(b, nd, C, H, W, 0);
}

int cb_conv_bn(hs_cnet_builder *b, int in, int C_out, int k, int stride, int pad, int groups, int bias) {
    int v = cb_conv(b, in, C_out, k, stride, pad, groups, bias);
    return b->o.batch_norm ? cb_bn(b, v) : v;
}

int cb_act(hs_cnet_builder *b, cnet_op op, int in, int hidden) {
    if (use(b, in) < 0) return -1;
    if (op != CN_RELU && op != CN_SILU && op != CN_SIGMOID) return fail(b, HS_ERR_INTERNAL, "not an activation");
    const cnet_value x = b->vals[in];
    /* ReLU's backward reads its output, so it may overwrite its input; SiLU and sigmoid read
     * their input */
    int v = add_node(b, (cnet_node){.op = op, .in = in, .in2 = -1, .tw = -1, .tb = -1, .save = -1}, x.C, x.H, x.W,
                     op == CN_RELU);
    if (v >= 0 && hidden) b->vals[v].hidden = b->n_hidden++;
    return v;
}

int cb_pool(hs_cnet_builder *b, int in, int k, int stride, int pad) {
    if (use(b, in) < 0) return -1;
    const cnet_value *x = &b->vals[in];
    hs_pool_shape ps = {.kind = HS_POOL_MAX, .B = b->o.max_batch, .C = x->C, .H = x->H, .W = x->W, .k = k,
                        .stride = stride, .pad = pad};
    if (hs_pool_plan(&ps) != 0) return fail(b, HS_ERR_VALUE, "a max-pool cannot take its input");
    return add_node(b, (cnet_node){.op = CN_MAXPOOL, .in = in, .in2 = -1, .tw = -1, .tb = -1, .ps = ps,
                                   .save = b->n_saves++}, x->C, ps.OH, ps.OW, 0);
}

int cb_maxpool(hs_cnet_builder *b, int in) { return cb_pool(b, in, 2, 2, 0); }

int cb_tile(hs_cnet_builder *b, int in, int r) {
    if (use(b, in) < 0) return -1;
    if (r < 1) return fail(b, HS_ERR_INTERNAL, "a tiling of fewer than one copy");
    const cnet_value x = b->vals[in];
    return add_node(b, (cnet_node){.op = CN_TILE, .in = in, .in2 = -1, .tw = -1, .tb = -1, .save = -1}, r * x.C, x.H,
                    x.W, 0);
}

int cb_gap(hs_cnet_builder *b, int in) {
    if (use(b, in) < 0) return -1;
    const int C = b->vals[in].C;
    return add_node(b, (cnet_node){.op = CN_GAP, .in = in, .in2 = -1, .tw = -1, .tb = -1, .save = -1}, C, 1, 1, 0);
}

int cb_scale(hs_cnet_builder *b, int in, int gate) {
    if (use(b, in) < 0 || use(b, gate) < 0) return -1;
    const cnet_value x = b->vals[in], *g = &b->vals[gate];
    if (g->C != x.C || g->H * g->W != 1) return fail(b, HS_ERR_INTERNAL, "a gate of another width");
    return add_node(b, (cnet_node){.op = CN_SCALE, .in = in, .in2 = gate, .tw = -1, .tb = -1, .save = -1}, x.C, x.H,
                    x.W, 0);
}

int cb_add(hs_cnet_builder *b, int a, int c) {
    if (use(b, a) < 0 || use(b, c) < 0) return -1;
    const cnet_value x = b->vals[a], *y = &b->vals[c];
    if (x.C != y->C || x.H != y->H || x.W != y->W) return fail(b, HS_ERR_INTERNAL, "a residual of another shape");
    return add_node(b, (cnet_node){.op = CN_ADD, .in = a, .in2 = c, .tw = -1, .tb = -1, .save = -1}, x.C, x.H, x.W, 1);
}

int cb_dropout(hs_cnet_builder *b, int in, double p) {
    if (b->failed) return -1;
    if (p == 0) return in;
    if (use(b, in) < 0) return -1;
    const cnet_value x = b->vals[in];
    return add_node(b, (cnet_node){.op = CN_DROPOUT, .in = in, .in2 = -1, .tw = -1, .tb = -1, .p = (float)p,
                                   .save = b->n_saves++}, x.C, x.H, x.W, 0);
}

int cb_droppath(hs_cnet_builder *b, int in, double p, int block) {
    if (b->failed) return -1;
    if (p == 0) return in;
    if (use(b, in) < 0) return -1;
    const cnet_value x = b->vals[in];
    return add_node(b, (cnet_node){.op = CN_DROPPATH, .in = in, .in2 = -1, .tw = -1, .tb = -1, .p = (float)p,
                                   .block = block, .save = b->n_saves++}, x.C, x.H, x.W, 0);
}

int cb_linear(hs_cnet_builder *b, int in, int out) {
    if (use(b, in) < 0) return -1;
    const int F = (int)b->vals[in].size;
    cnet_node nd = {.op = CN_LINEAR, .in = in, .in2 = -1, .save = -1};
    nd.tw = add_tensor(b, HS_TENSOR_WEIGHT, out, F);
    nd.tb = add_tensor(b, HS_TENSOR_BIAS, out, 1);
    b->macs += (double)F * out;
    return add_node(b, nd, out, 1, 1, 0);
}

/* ================================================================ the whole list */

static hs_code check_opts(const hs_cnet_opts *o, hs_error *err) {
    if (!o->arch || !o->arch->build) return HS_FAIL(err, HS_ERR_VALUE, "cnet: no architecture");
    const char *a = o->arch->name;
    const struct {
        const char *what;
        int v;
    } ints[] = {{"input channels", o->channels}, {"input height", o->height}, {"input width", o->width},
                {"out_dim (classes)", o->out_dim}, {"max_batch", o->max_batch}};
    for (size_t q = 0; q < sizeof ints / sizeof ints[0]; q++)
        if (ints[q].v < 1) return HS_FAIL(err, HS_ERR_VALUE, "model.arch %s: %s must be >= 1, got %d", a, ints[q].what,
                                          ints[q].v);
    if (!isfinite(o->width_mult) || o->width_mult <= 0 || o->width_mult > 64) {
        HS_FAIL(err, HS_ERR_VALUE, "model.width_mult = %g: must be in (0, 64]", o->width_mult);
        return hs_error_hint(err, "e.g. 0.125 for an eighth of every channel count");
    }
    if (!(o->dropout < 1) || (o->dropout < 0 && o->dropout != -1)) {
        HS_FAIL(err, HS_ERR_VALUE, "model.dropout = %g: must be in [0, 1), or -1 for the architecture's own", o->dropout);
        return hs_error_hint(err, "model.arch %s drops %g by default", a, o->arch->dropout);
    }
    if (!(o->drop_connect >= 0 && o->drop_connect < 1))
        return HS_FAIL(err, HS_ERR_VALUE, "model.drop_connect = %g: must be in [0, 1)", o->drop_connect);
    if (o->drop_connect > 0 && !o->arch->drop_path) {
        HS_FAIL(err, HS_ERR_VALUE, "model.drop_connect = %g: model.arch %s has no drop-path", o->drop_connect, a);
        return hs_error_hint(err, "drop-path (stochastic depth) is effnet_b0's; leave model.drop_connect at 0");
    }
    if (o->batch_norm && (!(o->bn_eps > 0) || !(o->bn_momentum >= 0 && o->bn_momentum <= 1)))
        return HS_FAIL(err, HS_ERR_VALUE, "model.arch %s: BatchNorm needs eps > 0 and momentum in [0, 1], got %g and %g",
                       a, o->bn_eps, o->bn_momentum);
    if (!isfinite(o->init_scale))
        return HS_FAIL(err, HS_ERR_VALUE, "model.init_scale = %g: must be finite", o->init_scale);
    if ((double)o->channels * o->height * o->width * o->max_batch > CNET_MAX_INDEX)
        return HS_FAIL(err, HS_ERR_VALUE, "model.arch %s: %d x %d x %d inputs times max_batch %d is beyond int "
                       "indices", a, o->channels, o->height, o->width, o->max_batch);
    return HS_OK;
}

void cnet_builder_free(hs_cnet_builder *b) {
    free(b->nodes);
    free(b->vals);
    free(b->tensors);
    memset(b, 0, sizeof *b);
}

hs_code cnet_builder_make(hs_cnet_builder *b, const hs_cnet_opts *o, hs_error *err) {
    memset(b, 0, sizeof *b);
    HS_TRY(err, check_opts(o, err));
    b->o = *o;
    b->err = err;
    b->one_d = o->height == 1;
    if (new_value(b, o->channels, o->height, o->width, -1) < 0) return err->code;
    hs_code rc = o->arch->build(b, o, err);
    if (rc != HS_OK || b->failed) {
        hs_error_trace(err, __FILE__, __LINE__);
        return rc != HS_OK ? rc : err->code;
    }
    /* what the engine relies on: the readout last, every other value read by some layer, the
     * node count the architecture announced */
    if (b->n_nodes < 1 || b->nodes[b->n_nodes - 1].op != CN_LINEAR || b->n_hidden != o->arch->nodes)
        return HS_FAIL(err, HS_ERR_INTERNAL, "model.arch %s: a layer list of %d nodes without a readout at its end",
                       o->arch->name, b->n_hidden);
    for (int v = 0; v + 1 < b->n_vals; v++)
        if (b->vals[v].users == 0)
            return HS_FAIL(err, HS_ERR_INTERNAL, "model.arch %s: value %d is read by no layer", o->arch->name, v);
    if (cnet_draws_masks(o)) b->n_buffers += 2; /* the step count of the masks */
    return HS_OK;
}

/* ================================================================ gradient buffers */

/* Reverse order is the backward's: a value's gradient is alive from the first of its readers
 * met (which writes it) to its writer (which spends it); a value written in place hands its
 * gradient buffer on to the value it overwrote. Buffer ids are the lowest free ones, so a chain
 * of layers alternates between two buffers and a residual block adds one. */
void cnet_plan_grads(hs_cnet_builder *b, int *gbuf, int *n_out) {
    int n = 0;
    int *busy = gbuf + b->n_vals; /* the caller's 2 n_vals ints: busy flags after gbuf */
    memset(busy, 0, (size_t)b->n_vals * sizeof *busy);
    for (int v = 0; v < b->n_vals; v++) gbuf[v] = -1;
    for (int i = b->n_nodes - 1; i >= 0; i--) {
        cnet_node *nd = &b->nodes[i];
        const int go = gbuf[nd->out]; /* -1 for the logits: their gradient is the caller's */
        int handed_on = 0;
        for (int slot = 0; slot < 2; slot++) {
            const int u = slot ? nd->in2 : nd->in;
            cnet_grad *mode = slot ? &nd->g_in2 : &nd->g_in;
            *mode = CG_NONE;
            if (u < 0 || (u == 0 && !b->o.input_grad)) continue;
            if (!slot && go >= 0 && b->vals[u].spent && b->vals[u].buf == b->vals[nd->out].buf) {
                gbuf[u] = go, *mode = CG_SHARED, handed_on = 1;
            } else if (gbuf[u] < 0) {
                int id = 0;
                while (busy[id]) id++;
                busy[id] = 1;
                if (id + 1 > n) n = id + 1;
                gbuf[u] = id, *mode = CG_WRITE;
            } else {
                *mode = CG_ACCUM;
            }
        }
        if (go >= 0 && !handed_on) busy[go] = 0;
    }
    *n_out = n;
}

/* ================================================================ summary */

hs_code hs_cnet_summarize(const hs_cnet_opts *o, hs_cnet_summary *s, int *rows, int *cols, int cap, hs_error *err) {
    hs_cnet_builder b;
    memset(s, 0, sizeof *s);
    hs_code rc = cnet_builder_make(&b, o, err);
    if (rc == HS_OK) {
        *s = (hs_cnet_summary){.n_params = b.n_params, .n_buffers = b.n_buffers, .macs = b.macs,
                               .n_hidden = b.n_hidden, .n_weights = b.n_weights,
                               .features = (int)b.vals[b.nodes[b.n_nodes - 1].in].size};
        int w = 0;
        for (int t = 0; t < b.n_tensors && w < cap; t++)
            if (b.tensors[t].kind == HS_TENSOR_WEIGHT) rows[w] = b.tensors[t].rows, cols[w] = b.tensors[t].cols, w++;
    } else {
        hs_error_trace(err, __FILE__, __LINE__);
    }
    cnet_builder_free(&b);
    return rc;
}
