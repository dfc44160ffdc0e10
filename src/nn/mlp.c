/* mlp.c - the MLP of nn.h: n_hidden blocks [Linear -> BatchNorm -> act] and a Linear readout,
 * all memory in one block allocated by hs_mlp_init (forward and backward never allocate). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "carve.h"
#include "fused.h"
#include "hsweep/nn.h"

/* Bounds that keep every size computation far from overflow (sizes are size_t products of ints). */
#define MLP_MAX_LAYERS 100000
#define MLP_MAX_DIM (1 << 24)

/* ================================================================ the memory block (one carve, see carve.h) */

/* Width of the layer boundary l: 0 = input, n_hidden + 1 = logits. */
static int dim_at(const hs_mlp_opts *o, const int *widths, int l) {
    return l == 0 ? o->in_dim : l <= o->n_hidden ? widths[l - 1] : o->out_dim;
}

static int has_bn(const hs_mlp *m) { return m->o.norm == HS_NORM_BATCH && m->o.n_hidden > 0; }

static size_t sum_widths(const hs_mlp *m) {
    size_t s = 0;
    for (int l = 0; l < m->o.n_hidden; l++) s += (size_t)m->dims[l + 1];
    return s;
}

/* Lay out everything once dims, n_dense and o are known. Pass 1 (c->base NULL) leaves the
 * pointers NULL and only counts bytes; n_params/n_tensors are set in both passes. */
static void layout(hs_mlp *m, carver *c, const int *widths, const double *scales) {
    const int nd = m->n_dense, nh = m->o.n_hidden, bn = m->o.norm == HS_NORM_BATCH, bias = m->o.bias != 0;
    const size_t B = (size_t)m->o.max_batch;

    int *dims = carve(c, (size_t)nd + 1, sizeof(int));
    double *sc = carve(c, (size_t)nd, sizeof(double));
    if (c->base) {
        for (int l = 0; l <= nd; l++) dims[l] = dim_at(&m->o, widths, l);
        for (int l = 0; l < nd; l++) sc[l] = scales ? scales[l] : 1.0;
        m->dims = dims;
        m->o.widths = dims + 1;
        m->o.init_scales = sc;
    }

    /* tensor table: per dense layer W, b, then (hidden with BN) gamma, beta */
    m->n_tensors = nd * (1 + bias) + (bn ? 2 * nh : 0);
    hs_tensor *t = carve(c, (size_t)m->n_tensors, sizeof(hs_tensor));
    size_t off = 0;
    int k = 0;
    for (int l = 0; l < nd; l++) {
        const int rows = dim_at(&m->o, widths, l + 1), cols = dim_at(&m->o, widths, l);
        const hs_tensor_kind kinds[4] = {HS_TENSOR_WEIGHT, HS_TENSOR_BIAS, HS_TENSOR_BN_GAMMA, HS_TENSOR_BN_BETA};
        const int present[4] = {1, bias, bn && l < nh, bn && l < nh};
        for (int q = 0; q < 4; q++) {
            if (!present[q]) continue;
            const size_t size = q == 0 ? (size_t)rows * cols : (size_t)rows;
            if (c->base) t[k] = (hs_tensor){kinds[q], l, off, size, q == 0 ? rows : (int)size, q == 0 ? cols : 1, q == 0 ? cols : 1};
            off += size;
            k++;
        }
    }
    m->n_params = off;
    m->tensors = t;

    float ***ptrs[] = {&m->W, &m->b, &m->gamma, &m->beta, &m->dW, &m->db, &m->dgamma, &m->dbeta,
                       &m->run_mean, &m->run_var, &m->z, &m->xhat, &m->rstd, &m->h};
    for (size_t q = 0; q < sizeof ptrs / sizeof ptrs[0]; q++) *ptrs[q] = carve(c, (size_t)nd, sizeof(float *));

    m->params = carve(c, m->n_params, sizeof(float));
    m->grads = carve(c, m->n_params, sizeof(float));
    size_t sw = 0, max_w = (size_t)m->o.out_dim;
    for (int l = 0; l < nh; l++) {
        sw += (size_t)widths[l];
        if ((size_t)widths[l] > max_w) max_w = (size_t)widths[l];
    }
    float *stats = carve(c, bn ? 2 * sw : 0, sizeof(float));
    float *acts = carve(c, B * sw * (bn ? 3 : 2) + (bn ? sw : 0), sizeof(float));
    m->logits = carve(c, B * (size_t)m->o.out_dim, sizeof(float));
    m->dlogits = carve(c, B * (size_t)m->o.out_dim, sizeof(float));
    m->work_a = carve(c, B * max_w, sizeof(float));
    m->work_b = carve(c, B * max_w, sizeof(float));
    if (!c->base) return;

    /* per-layer views into params/grads (tensor order) and the activation arrays */
    for (int l = 0; l < nd; l++) m->b[l] = m->gamma[l] = m->beta[l] = m->db[l] = m->dgamma[l] = m->dbeta[l] = NULL;
    for (k = 0; k < m->n_tensors; k++) {
        const int l = t[k].layer;
        float *p = m->params + t[k].offset, *g = m->grads + t[k].offset;
        switch (t[k].kind) {
        case HS_TENSOR_WEIGHT: m->W[l] = p, m->dW[l] = g; break;
        case HS_TENSOR_BIAS: m->b[l] = p, m->db[l] = g; break;
        case HS_TENSOR_BN_GAMMA: m->gamma[l] = p, m->dgamma[l] = g; break;
        case HS_TENSOR_BN_BETA: m->beta[l] = p, m->dbeta[l] = g; break;
        }
    }
    for (int l = 0; l < nd; l++) m->run_mean[l] = m->run_var[l] = m->z[l] = m->xhat[l] = m->rstd[l] = m->h[l] = NULL;
    for (int l = 0; l < nh; l++) {
        const size_t w = (size_t)widths[l];
        m->z[l] = acts, acts += B * w;
        m->h[l] = acts, acts += B * w;
        if (bn) {
            m->xhat[l] = acts, acts += B * w;
            m->rstd[l] = acts, acts += w;
            m->run_mean[l] = stats;
            m->run_var[l] = stats + sw;
            stats += w;
        }
    }
}

/* ================================================================ construction */

static hs_code validate(const hs_mlp_opts *o, hs_error *err) {
    if (o->in_dim < 1 || o->in_dim > MLP_MAX_DIM)
        return HS_FAIL(err, HS_ERR_VALUE, "mlp: in_dim must be in 1..%d, got %d", MLP_MAX_DIM, o->in_dim);
    if (o->out_dim < 1 || o->out_dim > MLP_MAX_DIM)
        return HS_FAIL(err, HS_ERR_VALUE, "mlp: out_dim must be in 1..%d, got %d", MLP_MAX_DIM, o->out_dim);
    if (o->n_hidden < 0 || o->n_hidden > MLP_MAX_LAYERS)
        return HS_FAIL(err, HS_ERR_VALUE, "mlp: n_hidden must be in 0..%d, got %d", MLP_MAX_LAYERS, o->n_hidden);
    if (o->n_hidden > 0 && !o->widths)
        return HS_FAIL(err, HS_ERR_VALUE, "mlp: %d hidden layers but no widths", o->n_hidden);
    for (int l = 0; l < o->n_hidden; l++)
        if (o->widths[l] < 1 || o->widths[l] > MLP_MAX_DIM)
            return HS_FAIL(err, HS_ERR_VALUE, "mlp: widths[%d] must be in 1..%d, got %d", l, MLP_MAX_DIM,
                           o->widths[l]);
    if (o->max_batch < 1 || o->max_batch > MLP_MAX_DIM)
        return HS_FAIL(err, HS_ERR_VALUE, "mlp: max_batch must be in 1..%d, got %d", MLP_MAX_DIM, o->max_batch);
    /* the same sizes in double, so that absurd shapes fail here rather than wrap a size_t */
    double floats = 0;
    for (int l = 0; l <= o->n_hidden; l++) {
        const double n_in = l == 0 ? o->in_dim : o->widths[l - 1], n_out = l < o->n_hidden ? o->widths[l] : o->out_dim;
        floats += 2 * (n_in + 2) * n_out + 4.0 * o->max_batch * n_out;
    }
    if (floats * sizeof(float) > 0x1p50)
        return HS_FAIL(err, HS_ERR_VALUE, "mlp: %.3g bytes of parameters and activations is beyond any machine",
                       floats * sizeof(float));
    if (o->norm != HS_NORM_BATCH && o->norm != HS_NORM_NONE)
        return HS_FAIL(err, HS_ERR_VALUE, "mlp: unknown norm %d", (int)o->norm);
    if (o->act != HS_ACT_RELU && o->act != HS_ACT_TANH && o->act != HS_ACT_IDENTITY)
        return HS_FAIL(err, HS_ERR_VALUE, "mlp: unknown activation %d", (int)o->act);
    if (o->norm == HS_NORM_BATCH) {
        if (!(o->bn_eps >= 0.0f) || !isfinite(o->bn_eps))
            return HS_FAIL(err, HS_ERR_VALUE, "mlp: bn_eps must be finite and >= 0, got %g", (double)o->bn_eps);
        if (!(o->bn_momentum >= 0.0f && o->bn_momentum <= 1.0f))
            return HS_FAIL(err, HS_ERR_VALUE, "mlp: bn_momentum must be in [0, 1], got %g", (double)o->bn_momentum);
    }
    return HS_OK;
}

/* HS_INIT_BALANCED: one scale for the whole net (balanced means equal in every layer), so the
 * per-layer scales must agree; biases zero (a bias would break the alignment to the modes). */
static hs_code init_balanced(hs_mlp *m, hs_error *err) {
    const double scale = m->o.init_scales[0];
    for (int l = 1; l < m->n_dense; l++)
        if (m->o.init_scales[l] != scale) {
            hs_code rc = HS_FAIL(err, HS_ERR_VALUE,
                                 "mlp: the balanced init takes one scale, but layer %d's is %g and layer 0's %g", l,
                                 m->o.init_scales[l], scale);
            hs_error_hint(err, "give every dense layer the same init scale");
            return rc;
        }
    if (!m->o.sigma_yx) return HS_FAIL(err, HS_ERR_VALUE, "mlp: the balanced init needs sigma_yx (Y^T X of the data)");
    HS_TRY(err, hs_init_balanced(m->W, m->dims, m->n_dense, m->o.sigma_yx, scale, m->o.seed, err));
    for (int l = 0; l < m->n_dense; l++)
        if (m->b[l]) memset(m->b[l], 0, (size_t)m->dims[l + 1] * sizeof(float));
    return HS_OK;
}

hs_code hs_mlp_bytes(const hs_mlp_opts *o, size_t *bytes, hs_error *err) {
    *bytes = 0;
    HS_TRY(err, validate(o, err));
    hs_mlp m = {.o = *o, .n_dense = o->n_hidden + 1};
    carver c = {NULL, 0};
    layout(&m, &c, o->widths, o->init_scales); /* counts only: no base */
    *bytes = (c.used + 63) & ~(size_t)63;
    return HS_OK;
}

hs_code hs_mlp_init(hs_mlp *m, const hs_mlp_opts *o, hs_error *err) {
    memset(m, 0, sizeof *m);
    HS_TRY(err, validate(o, err));
    m->o = *o;
    m->n_dense = o->n_hidden + 1;

    carver c = {NULL, 0};
    layout(m, &c, o->widths, o->init_scales);
    const size_t bytes = (c.used + 63) & ~(size_t)63;
    void *block = aligned_alloc(64, bytes);
    if (!block) {
        memset(m, 0, sizeof *m);
        return HS_FAIL(err, HS_ERR_NOMEM, "mlp: out of memory: %.3g GB for parameters, gradients and activations",
                       (double)bytes * 1e-9);
    }
    memset(block, 0, bytes); /* grads and activations start defined */
    c = (carver){block, 0};
    layout(m, &c, o->widths, o->init_scales);
    m->alloc = block;

    if (o->init == HS_INIT_BALANCED) {
        hs_code rc = init_balanced(m, err);
        if (rc != HS_OK) {
            hs_error_trace(err, __FILE__, __LINE__);
            hs_mlp_free(m);
            return rc;
        }
    }
    for (int l = 0; l < m->n_dense && o->init != HS_INIT_BALANCED; l++) {
        hs_code rc = hs_init_dense(m->W[l], m->b[l], m->dims[l], m->dims[l + 1], o->init, m->o.init_scales[l],
                                   o->zero_bias, o->seed, (uint32_t)l, err);
        if (rc != HS_OK) {
            hs_error_trace(err, __FILE__, __LINE__);
            hs_mlp_free(m);
            return rc;
        }
    }
    m->o.sigma_yx = NULL; /* borrowed during init only: the copy must not dangle */
    for (int l = 0; l < o->n_hidden && o->norm == HS_NORM_BATCH; l++)
        for (int j = 0; j < m->dims[l + 1]; j++) m->gamma[l][j] = 1.0f, m->run_var[l][j] = 1.0f;
    return HS_OK;
}

void hs_mlp_free(hs_mlp *m) {
    free(m->alloc);
    memset(m, 0, sizeof *m);
}

/* ================================================================ forward and backward */

/* x [B x in_dim] -> logits [B x out_dim]. NULL when B is out of range (B < 1, B > max_batch, or
 * B < 2 where BatchNorm needs batch statistics). */
const float *hs_mlp_forward(hs_mlp *m, const float *x, int B, hs_mode mode) {
    const int nh = m->o.n_hidden, bn = has_bn(m);
    m->last_B = 0;
    if (B < 1 || B > m->o.max_batch || (bn && mode != HS_MODE_EVAL && B < 2)) return NULL;
    m->input = x;
    m->last_mode = mode;
    const float *in = x;
    for (int l = 0; l < nh; l++) {
        const int w = m->dims[l + 1];
        hs_dense_forward(m->z[l], in, m->W[l], m->b[l], B, m->dims[l], w);
        const float *pre = m->z[l];
        if (bn) {
            if (mode == HS_MODE_EVAL)
                hs_bn_forward_eval(m->h[l], m->z[l], m->gamma[l], m->beta[l], m->run_mean[l], m->run_var[l], B, w,
                                   m->o.bn_eps);
            else if (m->o.act == HS_ACT_RELU) { /* BN and ReLU in one pass */
                hs_bn_relu_forward_train(m->h[l], m->xhat[l], m->rstd[l], m->z[l], m->gamma[l], m->beta[l],
                                         mode == HS_MODE_TRAIN ? m->run_mean[l] : NULL,
                                         mode == HS_MODE_TRAIN ? m->run_var[l] : NULL, B, w, m->o.bn_eps,
                                         m->o.bn_momentum);
                in = m->h[l];
                continue;
            } else
                hs_bn_forward_train(m->h[l], m->xhat[l], m->rstd[l], m->z[l], m->gamma[l], m->beta[l],
                                    mode == HS_MODE_TRAIN ? m->run_mean[l] : NULL,
                                    mode == HS_MODE_TRAIN ? m->run_var[l] : NULL, B, w, m->o.bn_eps,
                                    m->o.bn_momentum);
            pre = m->h[l];
        }
        hs_act_forward(m->h[l], pre, (size_t)B * w, m->o.act);
        in = m->h[l];
    }
    hs_dense_forward(m->logits, in, m->W[nh], m->b[nh], B, m->dims[nh], m->dims[nh + 1]);
    m->last_B = B;
    return m->logits;
}

/* dlogits [B x out_dim] -> grads. Gradients flow through work_a / work_b: the dense backward
 * writes dh into one, act backward runs in place there, BN backward writes dz into the other,
 * which the next dense backward reads (sgemm and BN backward must not write their input). With
 * BN, the act backward is folded into BN backward's reads of dh for ReLU, and BN backward also
 * sums dz into the layer's db (fused.h; the same values in the same order as the dense backward's
 * own sum). A backward without a matching training-form forward (B differs, or BN after an EVAL
 * forward) fills grads with NaN rather than return something plausible. */
void hs_mlp_backward(hs_mlp *m, const float *dlogits, int B) {
    const int nh = m->o.n_hidden, bn = has_bn(m);
    if (B < 1 || B != m->last_B || (bn && m->last_mode == HS_MODE_EVAL)) {
        for (size_t i = 0; i < m->n_params; i++) m->grads[i] = NAN;
        return;
    }
    const float *d = dlogits;
    float *buf[2] = {m->work_a, m->work_b};
    int cur = 0;      /* buf[cur] receives the next dh; d is always the other one (or dlogits) */
    int db_done = 0;  /* db[l] already summed by the BN backward above it */
    for (int l = nh; l >= 0; l--) {
        const float *in = l == 0 ? m->input : m->h[l - 1];
        float *dh = l == 0 ? NULL : buf[cur];
        hs_dense_backward(dh, m->dW[l], db_done ? NULL : m->db[l], d, in, m->W[l], B, m->dims[l], m->dims[l + 1]);
        db_done = 0;
        if (l == 0) break;
        const int w = m->dims[l];
        if (bn) {
            const int relu = m->o.act == HS_ACT_RELU;
            if (!relu) hs_act_backward(dh, dh, m->h[l - 1], (size_t)B * w, m->o.act);
            hs_bn_act_backward(buf[cur ^ 1], m->dgamma[l - 1], m->dbeta[l - 1], dh, relu ? m->h[l - 1] : NULL,
                               m->xhat[l - 1], m->rstd[l - 1], m->gamma[l - 1], m->db[l - 1], B, w);
            db_done = m->db[l - 1] != NULL;
            cur ^= 1;
        } else {
            hs_act_backward(dh, dh, m->h[l - 1], (size_t)B * w, m->o.act);
        }
        d = buf[cur];
        cur ^= 1;
    }
}

const float *hs_mlp_hidden(const hs_mlp *m, int l) {
    if (l < 0 || l >= m->o.n_hidden) return NULL;
    return m->h[l];
}

/* ================================================================ state */

size_t hs_mlp_state_size(const hs_mlp *m) { return m->n_params + (has_bn(m) ? 2 * sum_widths(m) : 0); }

/* state = params, running means (all hidden layers), running variances; the running statistics
 * are contiguous in the block (means then variances), so each part is one memcpy. */
void hs_mlp_state_get(const hs_mlp *m, float *state) {
    memcpy(state, m->params, m->n_params * sizeof(float));
    if (has_bn(m)) memcpy(state + m->n_params, m->run_mean[0], 2 * sum_widths(m) * sizeof(float));
}

void hs_mlp_state_set(hs_mlp *m, const float *state) {
    memcpy(m->params, state, m->n_params * sizeof(float));
    if (has_bn(m)) memcpy(m->run_mean[0], state + m->n_params, 2 * sum_widths(m) * sizeof(float));
}
