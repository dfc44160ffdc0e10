/* cnet.c - the conv nets of nets.h behind the generic hs_model interface: one memory block laid out
 * from the layer list (cnet_build.c), a forward that runs the list, a backward that runs it in
 * reverse, and the state (parameters, BN running statistics, the masks' step).
 *
 * Gradients flow through buffers that cnet_plan_grads assigns: a value's gradient is written by
 * the first of its readers the backward meets and added to by the others (through a scratch
 * buffer, since every op of ops.h overwrites what it writes); a layer that wrote over its input
 * (ReLU after BN, the residual add) passes its gradient buffer on. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "carve.h"
#include "cnet_internal.h"
#include "hsweep/rng.h"

typedef struct cnet {
    hs_cnet_builder b;   /* the layer list (owned) */
    float *params, *grads, *buffers;
    float **act;         /* [b.n_bufs] activation buffers, [max_batch x size] */
    float **grad;        /* [n_grad] gradient buffers */
    int *gbuf;           /* [2 n_vals]: each value's gradient buffer (-1: none), then scratch */
    int n_grad;
    float *scratch[2];   /* accumulation of a node's first and second input */
    float **xhat, **rstd, **mask; /* per save slot (BN: xhat, rstd; dropout, drop-path: mask) */
    int32_t **arg;       /* per save slot (max-pool) */
    float *work;         /* the convs' shared scratch */
    float *dlogits;
    int *hidden_val;     /* [n_hidden]: the value of each node */
    int *hidden_width;
    float *step_lo;      /* NULL without dropout and drop-path, else two floats in buffers: the step count */
    int last_B;
    hs_mode last_mode;
    void *alloc;
} cnet;

static cnet *net_of(const hs_model *m) { return (cnet *)m->impl; }
static float *act_of(const cnet *n, int v) { return n->act[n->b.vals[v].buf]; }
static float *grad_of(const cnet *n, int v) { return n->gbuf[v] >= 0 ? n->grad[n->gbuf[v]] : NULL; }

/* ================================================================ the dropout step */

/* Two floats of 24 bits each: exact, so a checkpoint of the buffers carries the count. */
static uint64_t get_step(const cnet *n) {
    return n->step_lo ? (uint64_t)n->step_lo[0] | (uint64_t)n->step_lo[1] << 24 : 0;
}
static void put_step(cnet *n, uint64_t s) {
    if (!n->step_lo) return;
    n->step_lo[0] = (float)(s & 0xffffff);
    n->step_lo[1] = (float)((s >> 24) & 0xffffff);
}

/* ================================================================ forward */

static int has_bn(const cnet *n) { return n->b.o.batch_norm; }

static void node_forward(cnet *n, const cnet_node *nd, int B, hs_mode mode, uint64_t step, int *dropouts) {
    const hs_cnet_opts *o = &n->b.o;
    const cnet_value *x = &n->b.vals[nd->in], *y = &n->b.vals[nd->out];
    const float *in = act_of(n, nd->in), *W = nd->tw >= 0 ? n->params + n->b.tensors[nd->tw].offset : NULL,
                *bias = nd->tb >= 0 ? n->params + n->b.tensors[nd->tb].offset : NULL;
    float *out = act_of(n, nd->out);
    const size_t len = (size_t)B * y->size;
    switch (nd->op) {
    case CN_CONV: {
        hs_conv_shape s = nd->cs;
        s.B = B;
        hs_conv_forward(out, in, W, bias, &s, n->work);
        break;
    }
    case CN_BN: {
        float *rm = n->buffers + nd->stats, *rv = rm + x->C;
        const int pos = x->H * x->W;
        if (mode == HS_MODE_EVAL)
            hs_bn2d_forward_eval(out, in, W, bias, rm, rv, B, x->C, pos, o->bn_eps);
        else
            hs_bn2d_forward_train(out, n->xhat[nd->save], n->rstd[nd->save], in, W, bias,
                                  mode == HS_MODE_TRAIN ? rm : NULL, mode == HS_MODE_TRAIN ? rv : NULL, B, x->C, pos,
                                  o->bn_eps, o->bn_momentum);
        break;
    }
    case CN_RELU: hs_act_forward(out, in, len, HS_ACT_RELU); break;
    case CN_SILU: hs_pact_forward(out, in, len, HS_PACT_SILU); break;
    case CN_SIGMOID: hs_pact_forward(out, in, len, HS_PACT_SIGMOID); break;
    case CN_MAXPOOL: {
        hs_pool_shape s = nd->ps;
        s.B = B;
        hs_pool_forward(out, n->arg[nd->save], in, &s);
        break;
    }
    case CN_GAP: hs_gap_forward(out, in, B, x->C, x->H * x->W); break;
    case CN_SCALE: hs_chscale_forward(out, in, act_of(n, nd->in2), B, x->C, x->H * x->W); break;
    case CN_ADD: hs_add_forward(out, in, act_of(n, nd->in2), len); break;
    case CN_DROPOUT:
        if (mode == HS_MODE_TRAIN)
            hs_dropout_forward(out, n->mask[nd->save], in, len, nd->p, o->seed,
                               hs_rng_stream(HS_STREAM_DROPOUT, (uint32_t)*dropouts),
                               step * (uint64_t)o->max_batch * y->size);
        else
            memcpy(out, in, len * sizeof *out);
        ++*dropouts;
        break;
    case CN_DROPPATH:
        if (mode == HS_MODE_TRAIN)
            hs_droppath_forward(out, n->mask[nd->save], in, B, y->size, nd->p, o->seed,
                                hs_rng_stream(HS_STREAM_DROPPATH, (uint32_t)nd->block), step * (uint64_t)o->max_batch);
        else
            memcpy(out, in, len * sizeof *out);
        break;
    case CN_LINEAR: hs_dense_forward(out, in, W, bias, B, (int)x->size, (int)y->size); break;
    case CN_TILE:
        for (int q = 0; q < B; q++)
            for (size_t o0 = 0; o0 < y->size; o0 += x->size)
                memcpy(out + (size_t)q * y->size + o0, in + (size_t)q * x->size, x->size * sizeof *out);
        break;
    }
}

static const float *cnet_forward(hs_model *m, const float *x, int B, hs_mode mode) {
    cnet *n = net_of(m);
    n->last_B = 0;
    if (B < 1 || B > n->b.o.max_batch || (B < 2 && has_bn(n) && mode != HS_MODE_EVAL)) return NULL;
    memcpy(act_of(n, 0), x, (size_t)B * n->b.vals[0].size * sizeof *x);
    const uint64_t step = get_step(n);
    int dropouts = 0;
    for (int i = 0; i < n->b.n_nodes; i++) node_forward(n, &n->b.nodes[i], B, mode, step, &dropouts);
    if (mode == HS_MODE_TRAIN) put_step(n, step + 1);
    n->last_B = B, n->last_mode = mode;
    return act_of(n, n->b.nodes[n->b.n_nodes - 1].out);
}

/* ================================================================ backward */

/* Where a node's backward writes the gradient of an input: the input's buffer, or a scratch to
 * be added to it, or nowhere. */
static float *target(const cnet *n, cnet_grad g, int v, int slot) {
    return g == CG_NONE ? NULL : g == CG_ACCUM ? n->scratch[slot] : grad_of(n, v);
}

static void accumulate(const cnet *n, cnet_grad g, int v, int slot, size_t len) {
    if (g != CG_ACCUM) return;
    float *dst = grad_of(n, v);
    const float *src = n->scratch[slot];
    for (size_t i = 0; i < len; i++) dst[i] += src[i];
}

static void node_backward(cnet *n, const cnet_node *nd, const float *dout, int B) {
    const cnet_value *x = &n->b.vals[nd->in], *y = &n->b.vals[nd->out];
    const float *in = act_of(n, nd->in), *W = nd->tw >= 0 ? n->params + n->b.tensors[nd->tw].offset : NULL;
    float *dW = nd->tw >= 0 ? n->grads + n->b.tensors[nd->tw].offset : NULL,
          *db = nd->tb >= 0 ? n->grads + n->b.tensors[nd->tb].offset : NULL;
    float *din = target(n, nd->g_in, nd->in, 0);
    const size_t len = (size_t)B * y->size, len_in = (size_t)B * x->size;
    const int pos = x->H * x->W;
    switch (nd->op) {
    case CN_CONV: {
        hs_conv_shape s = nd->cs;
        s.B = B;
        hs_conv_backward(din, dW, db, dout, in, W, &s, n->work);
        break;
    }
    case CN_BN: hs_bn2d_backward(din, dW, db, dout, n->xhat[nd->save], n->rstd[nd->save], W, B, x->C, pos); break;
    case CN_RELU:
        if (din) hs_act_backward(din, dout, act_of(n, nd->out), len, HS_ACT_RELU);
        break;
    case CN_SILU:
    case CN_SIGMOID:
        if (din) hs_pact_backward(din, dout, in, len, nd->op == CN_SILU ? HS_PACT_SILU : HS_PACT_SIGMOID);
        break;
    case CN_MAXPOOL: {
        hs_pool_shape s = nd->ps;
        s.B = B;
        if (din) hs_pool_backward(din, dout, n->arg[nd->save], &s);
        break;
    }
    case CN_GAP:
        if (din) hs_gap_backward(din, dout, B, x->C, pos);
        break;
    case CN_SCALE: {
        float *dg = target(n, nd->g_in2, nd->in2, 1);
        hs_chscale_backward(din, dg, dout, in, act_of(n, nd->in2), B, x->C, pos);
        accumulate(n, nd->g_in2, nd->in2, 1, (size_t)B * x->C);
        break;
    }
    case CN_ADD: {
        /* the identity to both operands: the first usually shares dout's buffer already */
        if (din && din != dout) memcpy(din, dout, len * sizeof *din);
        float *d2 = target(n, nd->g_in2, nd->in2, 1);
        if (d2) memcpy(d2, dout, len * sizeof *d2);
        accumulate(n, nd->g_in2, nd->in2, 1, len);
        break;
    }
    case CN_DROPOUT:
        if (din && n->last_mode == HS_MODE_TRAIN) hs_dropout_backward(din, dout, n->mask[nd->save], len);
        else if (din) memcpy(din, dout, len * sizeof *din);
        break;
    case CN_DROPPATH:
        if (din && n->last_mode == HS_MODE_TRAIN) hs_droppath_backward(din, dout, n->mask[nd->save], B, y->size);
        else if (din) memcpy(din, dout, len * sizeof *din);
        break;
    case CN_LINEAR: hs_dense_backward(din, dW, db, dout, in, W, B, (int)x->size, (int)y->size); break;
    case CN_TILE: /* every copy's gradient, summed in the order of the copies */
        for (int q = 0; din && q < B; q++) {
            float *d = din + (size_t)q * x->size;
            const float *g = dout + (size_t)q * y->size;
            memcpy(d, g, x->size * sizeof *d);
            for (size_t o0 = x->size; o0 < y->size; o0 += x->size)
                for (size_t i = 0; i < x->size; i++) d[i] += g[o0 + i];
        }
        break;
    }
    accumulate(n, nd->g_in, nd->in, 0, len_in);
}

/* Gradients of every parameter (and of the input with input_grad) from dlogits [B x out_dim]. A
 * backward that does not follow a TRAIN or BATCH forward of the same B fills them with NaN. */
static void cnet_backward(hs_model *m, const float *dlogits, int B) {
    cnet *n = net_of(m);
    if (B < 1 || B != n->last_B || n->last_mode == HS_MODE_EVAL) {
        for (size_t i = 0; i < n->b.n_params; i++) n->grads[i] = NAN;
        return;
    }
    for (int i = n->b.n_nodes - 1; i >= 0; i--) {
        const cnet_node *nd = &n->b.nodes[i];
        node_backward(n, nd, i == n->b.n_nodes - 1 ? dlogits : grad_of(n, nd->out), B);
    }
}

/* ================================================================ hidden nodes and state */

static const float *cnet_hidden(const hs_model *m, int l) {
    const cnet *n = net_of(m);
    return l >= 0 && l < n->b.n_hidden ? act_of(n, n->hidden_val[l]) : NULL;
}

static size_t cnet_state_size(const hs_model *m) { return net_of(m)->b.n_params + net_of(m)->b.n_buffers; }

/* The buffers follow the parameters in the block, so the state is one contiguous run. */
static void cnet_state_get(const hs_model *m, float *s) {
    memcpy(s, net_of(m)->params, cnet_state_size(m) * sizeof *s);
}
static void cnet_state_set(hs_model *m, const float *s) {
    memcpy(net_of(m)->params, s, cnet_state_size(m) * sizeof *s);
}
static float *cnet_buffers(hs_model *m, size_t *nb) {
    cnet *n = net_of(m);
    *nb = n->b.n_buffers;
    return *nb ? n->buffers : NULL;
}

static void cnet_free(hs_model *m) {
    cnet *n = net_of(m);
    if (!n) return;
    cnet_builder_free(&n->b);
    free(n->gbuf);
    free(n->alloc);
    free(n);
}

static const hs_model_ops cnet_ops = {cnet_forward, cnet_backward, cnet_hidden, cnet_state_size,
                                      cnet_state_get, cnet_state_set, cnet_free, cnet_buffers, NULL};

const float *hs_cnet_input_grad(const hs_model *m) {
    return m && m->ops == &cnet_ops && net_of(m)->b.o.input_grad ? grad_of(net_of(m), 0) : NULL;
}
uint64_t hs_cnet_step(const hs_model *m) { return m && m->ops == &cnet_ops ? get_step(net_of(m)) : 0; }
void hs_cnet_set_step(hs_model *m, uint64_t step) {
    if (m && m->ops == &cnet_ops) put_step(net_of(m), step);
}

/* ================================================================ construction */

/* Everything in one block (carve.h: measured with base NULL, then handed out). gsize and
 * ssize: the floats per sample of each gradient buffer and of the two scratches. */
static void layout(cnet *n, carver *c, const size_t *bsize, const size_t *gsize, const size_t *ssize) {
    hs_cnet_builder *b = &n->b;
    const size_t B = (size_t)b->o.max_batch;
    n->params = carve(c, b->n_params + b->n_buffers, sizeof(float)); /* the state, contiguous */
    n->buffers = n->params ? n->params + b->n_params : NULL;
    n->grads = carve(c, b->n_params, sizeof(float));
    n->act = carve(c, (size_t)b->n_bufs, sizeof(float *));
    n->grad = carve(c, (size_t)n->n_grad, sizeof(float *));
    n->xhat = carve(c, (size_t)b->n_saves, sizeof(float *));
    n->rstd = carve(c, (size_t)b->n_saves, sizeof(float *));
    n->mask = carve(c, (size_t)b->n_saves, sizeof(float *));
    n->arg = carve(c, (size_t)b->n_saves, sizeof(int32_t *));
    n->hidden_val = carve(c, (size_t)b->n_hidden, sizeof(int));
    n->hidden_width = carve(c, (size_t)b->n_hidden, sizeof(int));
    for (int i = 0; i < b->n_bufs; i++) {
        float *p = carve(c, B * bsize[i], sizeof(float));
        if (c->base) n->act[i] = p;
    }
    for (int i = 0; i < n->n_grad; i++) {
        float *p = carve(c, B * gsize[i], sizeof(float));
        if (c->base) n->grad[i] = p;
    }
    for (int s = 0; s < 2; s++) n->scratch[s] = carve(c, B * ssize[s], sizeof(float));
    size_t work = 0;
    for (int i = 0; i < b->n_nodes; i++) {
        const cnet_node *nd = &b->nodes[i];
        const size_t in = b->vals[nd->in].size, out = b->vals[nd->out].size;
        if (nd->op == CN_CONV && nd->cs.work > work) work = nd->cs.work;
        if (nd->save < 0) continue;
        void *p1 = NULL, *p2 = NULL;
        if (nd->op == CN_BN) p1 = carve(c, B * in, sizeof(float)), p2 = carve(c, (size_t)b->vals[nd->in].C, sizeof(float));
        if (nd->op == CN_MAXPOOL) p1 = carve(c, B * out, sizeof(int32_t));
        if (nd->op == CN_DROPOUT) p1 = carve(c, B * out, sizeof(float));
        if (nd->op == CN_DROPPATH) p1 = carve(c, B, sizeof(float));
        if (!c->base) continue;
        if (nd->op == CN_BN) n->xhat[nd->save] = p1, n->rstd[nd->save] = p2;
        if (nd->op == CN_MAXPOOL) n->arg[nd->save] = p1;
        if (nd->op == CN_DROPOUT || nd->op == CN_DROPPATH) n->mask[nd->save] = p1;
    }
    n->work = carve(c, work, sizeof(float));
    n->dlogits = carve(c, B * (size_t)b->o.out_dim, sizeof(float));
}

/* PyTorch's defaults, tensor t from stream (INIT, t): weights U(+-init_scale / sqrt(fan_in)),
 * biases U(+-1 / sqrt(fan_in)) with the fan_in of their weight (the tensor before them), gamma 1,
 * beta 0; running means 0, variances 1, step 0. */
static void init_params(cnet *n) {
    const hs_cnet_builder *b = &n->b;
    double fan = 1;
    for (int t = 0; t < b->n_tensors; t++) {
        const hs_tensor *ts = &b->tensors[t];
        float *p = n->params + ts->offset;
        hs_rng r;
        hs_rng_init(&r, b->o.seed, hs_rng_stream(HS_STREAM_INIT, (uint32_t)t));
        if (ts->kind == HS_TENSOR_WEIGHT) fan = 1.0 / sqrt((double)ts->cols);
        const double bound = ts->kind == HS_TENSOR_WEIGHT ? b->o.init_scale * fan : fan;
        for (size_t i = 0; i < ts->size; i++) {
            switch (ts->kind) {
            case HS_TENSOR_WEIGHT: p[i] = (float)((2.0 * hs_rng_uniformf(&r) - 1.0) * bound); break;
            case HS_TENSOR_BIAS: p[i] = b->o.zero_bias ? 0.0f : (float)((2.0 * hs_rng_uniformf(&r) - 1.0) * bound); break;
            case HS_TENSOR_BN_GAMMA: p[i] = 1.0f; break;
            case HS_TENSOR_BN_BETA: p[i] = 0.0f; break;
            }
        }
    }
    for (int i = 0; i < b->n_nodes; i++) {
        const cnet_node *nd = &b->nodes[i];
        if (nd->op != CN_BN) continue;
        const int C = b->vals[nd->in].C;
        for (int k = 0; k < C; k++) n->buffers[nd->stats + (size_t)k] = 0.0f, n->buffers[nd->stats + (size_t)(C + k)] = 1.0f;
    }
    put_step(n, 0);
}

/* Sizes per sample of the activation buffers, the gradient buffers and the two scratches. */
static hs_code sizes(cnet *n, size_t **bsize, size_t **gsize, size_t ssize[2], hs_error *err) {
    hs_cnet_builder *b = &n->b;
    *bsize = calloc((size_t)b->n_bufs, sizeof **bsize);
    *gsize = calloc((size_t)b->n_vals, sizeof **gsize);
    if (!*bsize || !*gsize) return HS_FAIL(err, HS_ERR_NOMEM, "model.arch %s: out of memory", b->o.arch->name);
    for (int v = 0; v < b->n_vals; v++) {
        const cnet_value *x = &b->vals[v];
        if (x->size > (*bsize)[x->buf]) (*bsize)[x->buf] = x->size;
        if (n->gbuf[v] >= 0 && x->size > (*gsize)[n->gbuf[v]]) (*gsize)[n->gbuf[v]] = x->size;
    }
    ssize[0] = ssize[1] = 0;
    for (int i = 0; i < b->n_nodes; i++) {
        const cnet_node *nd = &b->nodes[i];
        if (nd->g_in == CG_ACCUM && b->vals[nd->in].size > ssize[0]) ssize[0] = b->vals[nd->in].size;
        if (nd->g_in2 == CG_ACCUM && b->vals[nd->in2].size > ssize[1]) ssize[1] = b->vals[nd->in2].size;
    }
    return HS_OK;
}

static hs_code build(cnet *n, const hs_cnet_opts *o, hs_error *err) {
    HS_TRY(err, cnet_builder_make(&n->b, o, err));
    hs_cnet_builder *b = &n->b;
    if (!(n->gbuf = malloc(2 * (size_t)b->n_vals * sizeof *n->gbuf)))
        return HS_FAIL(err, HS_ERR_NOMEM, "model.arch %s: out of memory", o->arch->name);
    cnet_plan_grads(b, n->gbuf, &n->n_grad);
    size_t *bsize = NULL, *gsize = NULL, ssize[2];
    hs_code rc = sizes(n, &bsize, &gsize, ssize, err);
    carver c = {NULL, 0};
    if (rc == HS_OK) layout(n, &c, bsize, gsize, ssize);
    const size_t bytes = (c.used + 63) & ~(size_t)63;
    if (rc == HS_OK && !(n->alloc = aligned_alloc(64, bytes)))
        rc = HS_FAIL(err, HS_ERR_NOMEM, "model.arch %s: out of memory (%zu bytes for %zu parameters and the "
                     "activations of %d rows)", o->arch->name, bytes, b->n_params, o->max_batch);
    if (rc == HS_OK) {
        memset(n->alloc, 0, bytes); /* gradients and activations start defined */
        c = (carver){n->alloc, 0};
        layout(n, &c, bsize, gsize, ssize);
        for (int v = 0; v < b->n_vals; v++)
            if (b->vals[v].hidden >= 0)
                n->hidden_val[b->vals[v].hidden] = v, n->hidden_width[b->vals[v].hidden] = (int)b->vals[v].size;
        n->step_lo = cnet_draws_masks(o) ? n->buffers + b->n_buffers - 2 : NULL;
        init_params(n);
    }
    free(bsize);
    free(gsize);
    return rc;
}

hs_code hs_cnet_bytes(const hs_cnet_opts *o, size_t *bytes, hs_error *err) {
    cnet n = {0};
    size_t *bsize = NULL, *gsize = NULL, ssize[2];
    hs_code rc = cnet_builder_make(&n.b, o, err);
    if (rc == HS_OK && !(n.gbuf = malloc(2 * (size_t)n.b.n_vals * sizeof *n.gbuf)))
        rc = HS_FAIL(err, HS_ERR_NOMEM, "model.arch %s: out of memory", o->arch->name);
    if (rc == HS_OK) {
        cnet_plan_grads(&n.b, n.gbuf, &n.n_grad);
        rc = sizes(&n, &bsize, &gsize, ssize, err);
    }
    carver c = {NULL, 0};
    if (rc == HS_OK) layout(&n, &c, bsize, gsize, ssize); /* counts only: no base */
    *bytes = rc == HS_OK ? (c.used + 63) & ~(size_t)63 : 0;
    free(bsize);
    free(gsize);
    free(n.gbuf);
    cnet_builder_free(&n.b);
    return rc;
}

hs_code hs_model_cnet(hs_model *m, const hs_cnet_opts *o, hs_error *err) {
    memset(m, 0, sizeof *m);
    cnet *n = calloc(1, sizeof *n);
    if (!n) return HS_FAIL(err, HS_ERR_NOMEM, "conv net: out of memory");
    hs_code rc = build(n, o, err);
    if (rc != HS_OK) {
        cnet_builder_free(&n->b);
        free(n->gbuf);
        free(n->alloc);
        free(n);
        hs_error_trace(err, __FILE__, __LINE__);
        return rc;
    }
    *m = (hs_model){.ops = &cnet_ops,
                    .impl = n,
                    .params = n->params,
                    .grads = n->grads,
                    .n_params = n->b.n_params,
                    .tensors = n->b.tensors,
                    .n_tensors = n->b.n_tensors,
                    .in_dim = o->channels * o->height * o->width,
                    .out_dim = o->out_dim,
                    .max_batch = o->max_batch,
                    .n_hidden = n->b.n_hidden,
                    .hidden_width = n->hidden_width,
                    .dlogits = n->dlogits,
                    .lr_scale = 1,
                    .batch_stats = o->batch_norm != 0};
    return HS_OK;
}
