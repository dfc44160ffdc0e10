/*
 * nn.h - the network pieces: layers as forward/backward pairs, the MLP built from them, losses,
 * and initialisation. float32 throughout; every dense product is one matrix product (src/nn/gemm.c:
 * an AVX-512 kernel for the small products of a training step where the CPU has it, cblas_sgemm
 * otherwise; the choice depends only on the CPU and the shapes, so results are deterministic).
 *
 * Training one minibatch of an MLP (B rows of in_dim floats, labels y):
 *
 *     int widths[] = {100, 100, 100};                      // 3 hidden layers (He & Su depth 2)
 *     double scales[] = {1, 1, 1, 1};                      // one per dense layer, readout last
 *     hs_mlp_opts o = {.in_dim = 100, .out_dim = 10, .n_hidden = 3, .widths = widths,
 *                      .norm = HS_NORM_BATCH, .act = HS_ACT_RELU, .bias = 1,
 *                      .bn_eps = 1e-5f, .bn_momentum = 0.1f, .init = HS_INIT_TORCH,
 *                      .init_scales = scales, .seed = 7, .max_batch = 128};
 *     hs_mlp net;
 *     HS_TRY(err, hs_mlp_init(&net, &o, err));
 *     const float *logits = hs_mlp_forward(&net, x, B, HS_MODE_TRAIN);    // [B x 10]
 *     double loss = hs_loss_forward_backward(HS_LOSS_CE, logits, y, NULL, B, 10, net.dlogits, NULL);
 *     hs_mlp_backward(&net, net.dlogits, B);               // net.grads now holds dLoss/dparams
 *     ... hs_optim_update over net.tensors ...
 *     hs_mlp_free(&net);
 *
 * Memory: hs_mlp_init allocates everything (parameters, gradients, running statistics and the
 * activations of max_batch rows); forward and backward never allocate.
 *
 * Layouts (row-major, PyTorch's): a dense weight is [out x in], activations are [B x features].
 * All parameters live in one flat array `params` (and `grads` alongside) so optimisers and
 * checkpoints treat the net as one vector; `tensors` says which slice is which.
 */
#ifndef HSWEEP_NN_H
#define HSWEEP_NN_H

#include <stddef.h>
#include <stdint.h>

#include "hsweep/optim.h"
#include "hsweep/status.h"

typedef enum hs_act { HS_ACT_RELU, HS_ACT_TANH, HS_ACT_IDENTITY } hs_act;
typedef enum hs_norm { HS_NORM_BATCH, HS_NORM_NONE } hs_norm;
typedef enum hs_init { HS_INIT_TORCH, HS_INIT_NORMAL, HS_INIT_ORTHOGONAL, HS_INIT_BALANCED } hs_init;
typedef enum hs_loss { HS_LOSS_CE, HS_LOSS_MSE } hs_loss;

/* How BatchNorm normalises during a forward pass.
 *   TRAIN:  batch statistics, and the running averages are updated (training steps);
 *   EVAL:   running averages (test metrics, eval-mode features);
 *   BATCH:  batch statistics without touching the running averages (He & Su's feature
 *           extraction in chunks of 100). Layers without BN ignore the mode. */
typedef enum hs_mode { HS_MODE_TRAIN, HS_MODE_EVAL, HS_MODE_BATCH } hs_mode;

/* ================================================================ layers
 * Stateless kernels on caller-owned buffers. B = rows in the batch. */

/* out[B x n_out] = in[B x n_in] . W^T + b. W is [n_out x n_in]; b may be NULL (no bias). */
void hs_dense_forward(float *out, const float *in, const float *W, const float *b, int B, int n_in, int n_out);

/* Given dout[B x n_out] and the forward input in[B x n_in]:
 *   dW[n_out x n_in] = dout^T . in      (overwritten, not accumulated)
 *   db[n_out]        = column sums of dout (skipped when db is NULL)
 *   din[B x n_in]    = dout . W        (skipped when din is NULL: the first layer needs none) */
void hs_dense_backward(float *din, float *dW, float *db, const float *dout, const float *in, const float *W, int B,
                       int n_in, int n_out);

/* BatchNorm1d over C features, training form: per feature, batch mean and biased variance,
 * xhat = (in - mean) * rstd with rstd = 1/sqrt(var + eps), out = gamma * xhat + beta.
 * Saves xhat[B x C] and rstd[C] for the backward pass. When run_mean/run_var are not NULL they
 * are updated PyTorch's way: run = (1 - momentum) run + momentum * batch, with the UNBIASED
 * variance (var * B / (B - 1)) for run_var. Needs B >= 2 (a batch of one has no variance). */
void hs_bn_forward_train(float *out, float *xhat, float *rstd, const float *in, const float *gamma, const float *beta,
                         float *run_mean, float *run_var, int B, int C, float eps, float momentum);

/* BatchNorm1d, evaluation form: out = gamma * (in - run_mean) / sqrt(run_var + eps) + beta. */
void hs_bn_forward_eval(float *out, const float *in, const float *gamma, const float *beta, const float *run_mean,
                        const float *run_var, int B, int C, float eps);

/* Backward of hs_bn_forward_train (batch statistics are functions of the input, so every row's
 * gradient depends on the whole batch):
 *   dgamma[C] = sum_b dout * xhat,  dbeta[C] = sum_b dout   (overwritten)
 *   din = gamma * rstd / B * (B * dout - dbeta - xhat * dgamma). */
void hs_bn_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *xhat, const float *rstd,
                    const float *gamma, int B, int C);

/* out[n] = act(in[n]); in-place allowed (out == in). */
void hs_act_forward(float *out, const float *in, size_t n, hs_act act);
/* din[n] = dout * act'(.), computed from the forward OUTPUT (relu: out > 0; tanh: 1 - out^2);
 * in-place allowed (din == dout). */
void hs_act_backward(float *din, const float *dout, const float *out, size_t n, hs_act act);

/* ================================================================ losses */

/* Loss of logits[B x K] averaged over the batch, and its gradient dlogits[B x K] (of that mean).
 *   CE:  labels y[B] in 0..K-1; softmax cross-entropy, computed with the max-shift (log-sum-exp)
 *        so large logits do not overflow. targets is ignored.
 *   MSE: PyTorch's MSELoss(reduction='mean'): sum (logit - t)^2 / (B*K), with t = targets[B x K]
 *        when targets is not NULL, else one-hot(y).
 * Accumulation is in double; the returned loss is double. dlogits may be NULL (evaluation only).
 * correct (may be NULL) receives the number of rows whose argmax (first maximum) equals y. */
double hs_loss_forward_backward(hs_loss loss, const float *logits, const int32_t *y, const float *targets, int B, int K,
                                float *dlogits, int *correct);

/* ================================================================ initialisation
 * Draws come from hs_rng stream (HS_STREAM_INIT, layer) of the seed, weights first (row-major),
 * then the bias, so a layer's values do not depend on any other layer's shape.
 *   TORCH:      W ~ U(-a, a), a = scale / sqrt(n_in)  (PyTorch's nn.Linear default for scale 1)
 *   NORMAL:     W ~ N(0, scale^2)
 *   ORTHOGONAL: W = scale * Q, Q with orthonormal rows (n_out <= n_in) or columns, from the QR
 *               of a standard normal matrix with the signs of diag(R) folded in (as
 *               torch.nn.init.orthogonal_), computed with LAPACK in double.
 * Biases (b not NULL): U(-1/sqrt(n_in), 1/sqrt(n_in)) as PyTorch, or 0 when zero_bias. */
hs_code hs_init_dense(float *W, float *b, int n_in, int n_out, hs_init init, double scale, int zero_bias,
                      uint64_t seed, uint32_t layer, hs_error *err);

/* ================================================================ the MLP
 * n_hidden blocks [Linear -> BatchNorm (norm: batch) -> act], then a Linear readout to out_dim.
 * He & Su's depth L is n_hidden = L + 1. */

typedef enum hs_tensor_kind { HS_TENSOR_WEIGHT, HS_TENSOR_BIAS, HS_TENSOR_BN_GAMMA, HS_TENSOR_BN_BETA } hs_tensor_kind;

/* A tensor of params / grads: element (r, c) at offset + r * ld + c. A weight whose rows would lie
 * a multiple of 128 bytes apart may be stored with ld > cols (hnet.c's wide weights): rows a
 * power of two apart fall into the same few cache sets, so the rows a product tile reads at once
 * evict each other. The ld - cols floats ending each such row are padding: 0 in params and grads,
 * and any update leaves them 0. size spans the padding (rows x ld), so an update over
 * [offset, offset + size) stays one loop; rows x cols is what the tensor holds. */
typedef struct hs_tensor {
    hs_tensor_kind kind;
    int layer;      /* dense layer 0..n_hidden (n_hidden = readout) */
    size_t offset;  /* into params / grads */
    size_t size;    /* floats spanned: rows x ld */
    int rows, cols; /* weight: n_out x n_in; vectors: size x 1 */
    int ld;         /* floats from a row to the next, >= cols (vectors: 1) */
} hs_tensor;

/* Values a tensor holds (rows x cols: its padding left out). */
static inline size_t hs_tensor_count(const hs_tensor *t) { return (size_t)t->rows * (size_t)t->cols; }

typedef struct hs_mlp_opts {
    int in_dim, out_dim;
    int n_hidden;          /* >= 0; 0 = a linear (or softmax-regression) model */
    const int *widths;     /* [n_hidden] */
    hs_norm norm;
    hs_act act;
    int bias;              /* dense layers carry biases */
    float bn_eps, bn_momentum;
    hs_init init;
    const double *init_scales; /* [n_hidden + 1], readout last */
    int zero_bias;
    uint64_t seed;         /* initialisation seed */
    int max_batch;         /* largest B passed to forward */
    /* HS_INIT_BALANCED: the input-output correlation Sigma_yx [out_dim x in_dim] (row-major) of
     * the training data, borrowed during hs_mlp_init (NULL afterwards in the copy); see
     * hs_init_balanced. The balanced init takes ONE scale: every init_scales entry must be equal
     * (HS_ERR_VALUE otherwise); biases are zero whatever zero_bias says. */
    const double *sigma_yx;
} hs_mlp_opts;

typedef struct hs_mlp {
    hs_mlp_opts o;         /* copy; o.widths / o.init_scales point into this struct's own arrays */
    int n_dense;           /* n_hidden + 1 */
    int *dims;             /* [n_dense + 1]: in_dim, widths..., out_dim */
    float *params, *grads; /* [n_params] */
    size_t n_params;
    hs_tensor *tensors;
    int n_tensors;
    /* per dense layer l: pointers into params / grads (b, gamma, beta NULL when absent) */
    float **W, **b, **gamma, **beta, **dW, **db, **dgamma, **dbeta;
    float **run_mean, **run_var; /* [n_hidden] BN running statistics (buffers, not parameters) */
    /* activations for max_batch rows, per hidden layer l: z = Linear output, xhat and rstd (BN),
     * h = block output (post-activation); logits [max_batch x out_dim] */
    float **z, **xhat, **rstd, **h;
    float *logits, *dlogits, *work_a, *work_b;
    const float *input;    /* the x of the last forward (borrowed) */
    int last_B;
    hs_mode last_mode;
    void *alloc;           /* private */
} hs_mlp;

/* Build the net and initialise it (see hs_init_dense; layer index = dense layer; HS_INIT_BALANCED:
 * hs_init_balanced on dims in_dim, widths..., out_dim, see sigma_yx above). BN: gamma 1,
 * beta 0, running mean 0, running var 1. HS_ERR_VALUE for a bad shape, HS_ERR_NOMEM. */
hs_code hs_mlp_init(hs_mlp *m, const hs_mlp_opts *o, hs_error *err);
/* The bytes hs_mlp_init allocates for o's net (parameters, gradients, running statistics and the
 * activations of o.max_batch rows), without allocating them; errors as hs_mlp_init's. */
hs_code hs_mlp_bytes(const hs_mlp_opts *o, size_t *bytes, hs_error *err);
void hs_mlp_free(hs_mlp *m); /* safe on a zeroed struct */

/* Forward x[B x in_dim] (B <= max_batch; B >= 2 when mode needs batch statistics). Returns the
 * logits [B x out_dim] (owned by the net, valid until the next forward). x must stay valid until
 * hs_mlp_backward. */
const float *hs_mlp_forward(hs_mlp *m, const float *x, int B, hs_mode mode);

/* Backward of the last forward (which must have been HS_MODE_TRAIN or HS_MODE_BATCH) from
 * dlogits[B x out_dim]; overwrites m->grads with the gradient of the loss. */
void hs_mlp_backward(hs_mlp *m, const float *dlogits, int B);

/* Output of hidden block l (0 <= l < n_hidden), [last_B x widths[l]], after the last forward. */
const float *hs_mlp_hidden(const hs_mlp *m, int l);

/* Copy of all parameters and BN running statistics into / out of flat arrays (checkpoints,
 * tests): n_params floats, then sum(widths) running means, then as many running variances. */
size_t hs_mlp_state_size(const hs_mlp *m);
void hs_mlp_state_get(const hs_mlp *m, float *state);
void hs_mlp_state_set(hs_mlp *m, const float *state);

/* ================================================================ models
 * What the training loop sees of any architecture: one flat parameter vector with its tensor
 * table, forward/backward on a batch, and the outputs of its hidden layers (per-layer metrics).
 * The MLP above is one implementation (hs_model_mlp); others (the CNN/LCN/FCN of the hierarchy
 * experiments) provide their own hs_model_ops. The loop never looks behind `impl`.
 *
 *     hs_model m;
 *     HS_TRY(err, hs_model_mlp(&m, &mlp_opts, err));
 *     const float *logits = hs_model_forward(&m, x, B, HS_MODE_TRAIN);
 *     hs_loss_forward_backward(HS_LOSS_CE, logits, y, NULL, B, m.out_dim, m.dlogits, NULL);
 *     hs_model_backward(&m, m.dlogits, B);          // m.grads
 *     hs_model_free(&m);
 */
typedef struct hs_model hs_model;

/* Called by hs_model_backward_each for tensor t (an index into the model's tensor table) once its
 * gradient is final and the rest of the backward no longer reads its parameters. */
typedef void (*hs_tensor_ready)(void *ctx, int t);

/* Asked by hs_model_backward_each (when given) about tensor t before its gradient is computed:
 * returns 1 with *s filled (optim.h) when the caller's step for t is SGD or momentum and nothing
 * will read t's gradient, 0 otherwise. The model may then apply that step itself as the gradient
 * leaves the registers: it then does not call ready for t, and m->grads holds no gradient of t. */
typedef int (*hs_tensor_sgd)(void *ctx, int t, hs_optim_sgd *s);

typedef struct hs_model_ops {
    /* x [B x in_dim] -> logits [B x out_dim] (owned by the model); NULL when B is out of range */
    const float *(*forward)(hs_model *m, const float *x, int B, hs_mode mode);
    /* gradient of the loss w.r.t. every parameter into m->grads, from the last forward */
    void (*backward)(hs_model *m, const float *dlogits, int B);
    /* post-activation output of hidden layer l of the last forward, [B x hidden_width[l]] */
    const float *(*hidden)(const hs_model *m, int l);
    /* state = the n_params parameters in `params` order, then the buffers (e.g. BN running
     * statistics): everything a later step depends on besides the optimiser */
    size_t (*state_size)(const hs_model *m);
    void (*state_get)(const hs_model *m, float *state);
    void (*state_set)(hs_model *m, const float *state);
    void (*free)(hs_model *m);
    /* the buffers of the state (what follows the parameters) as one array owned by the model,
     * *n floats; NULL and *n = 0 for a model without any. Checkpoints read and write it in place
     * rather than copy the whole state. */
    float *(*buffers)(hs_model *m, size_t *n);
    /* optional: backward, calling ready(ctx, t) for every tensor, each as early as the contract of
     * hs_tensor_ready allows, so that the caller's optimiser updates a tensor while its gradient
     * is still in cache, except the tensors it updated itself as sgd (may be NULL) allowed.
     * NULL: hs_model_backward_each calls backward, then ready in tensor order. */
    void (*backward_each)(hs_model *m, const float *dlogits, int B, hs_tensor_ready ready, hs_tensor_sgd sgd,
                          void *ctx);
} hs_model_ops;

struct hs_model {
    const hs_model_ops *ops;
    void *impl;
    float *params, *grads;   /* [n_params] */
    size_t n_params;
    const hs_tensor *tensors; /* kinds and dense-layer indices (weights of layer n_hidden = readout) */
    int n_tensors;
    int in_dim, out_dim, max_batch;
    int n_hidden;             /* hidden layers whose outputs `hidden` returns */
    const int *hidden_width;  /* [n_hidden] */
    float *dlogits;           /* [max_batch x out_dim] scratch for the loss gradient */
    double lr_scale;          /* the optimiser's learning rate is multiplied by this (1; mean-field nets: H) */
    int batch_stats;          /* uses batch statistics in training (BatchNorm): batches of one are refused */
};

static inline const float *hs_model_forward(hs_model *m, const float *x, int B, hs_mode mode) {
    return m->ops->forward(m, x, B, mode);
}
static inline void hs_model_backward(hs_model *m, const float *dlogits, int B) { m->ops->backward(m, dlogits, B); }
/* hs_model_backward with ready(ctx, t) called once for each tensor t (see hs_model_ops) that the
 * model did not update itself under sgd (NULL: none). The gradients left in m->grads are the same
 * either way, but for the tensors the model updated. */
static inline void hs_model_backward_each(hs_model *m, const float *dlogits, int B, hs_tensor_ready ready,
                                          hs_tensor_sgd sgd, void *ctx) {
    if (m->ops->backward_each) {
        m->ops->backward_each(m, dlogits, B, ready, sgd, ctx);
        return;
    }
    m->ops->backward(m, dlogits, B);
    for (int t = 0; t < m->n_tensors; t++) ready(ctx, t);
}
static inline const float *hs_model_hidden(const hs_model *m, int l) { return m->ops->hidden(m, l); }
static inline size_t hs_model_state_size(const hs_model *m) { return m->ops->state_size(m); }
static inline void hs_model_state_get(const hs_model *m, float *s) { m->ops->state_get(m, s); }
static inline void hs_model_state_set(hs_model *m, const float *s) { m->ops->state_set(m, s); }
static inline float *hs_model_buffers(hs_model *m, size_t *n) { return m->ops->buffers(m, n); }

/* The parameters a model has: n_params less the padding of its tensors (hs_tensor). */
static inline size_t hs_model_count_params(const hs_model *m) {
    size_t pad = 0;
    for (int t = 0; t < m->n_tensors; t++) pad += m->tensors[t].size - hs_tensor_count(&m->tensors[t]);
    return m->n_params - pad;
}

/* The MLP as a model (owns an hs_mlp in impl; hidden_width = widths). */
hs_code hs_model_mlp(hs_model *m, const hs_mlp_opts *o, hs_error *err);
/* The MLP behind a model made by hs_model_mlp, or NULL. */
hs_mlp *hs_model_as_mlp(hs_model *m);
void hs_model_free(hs_model *m); /* safe on a zeroed struct */

/* ================================================================ hierarchical nets
 * The CNN, LCN and FCN of the SRHM sample-complexity experiments (Tomasini & Wyart 2024), in
 * their mean-field parametrisation; see shared/reference/srhm.md, "Networks". The input is
 * x [B x v*d], channel-major per sample (x[c * d + i]: v channels, d = S^L positions). L hidden
 * layers of width H with non-overlapping filters (size = stride = S) and ReLU:
 *     h_l[c', i] = ReLU( sum_{c, k<S} W_l[c', c, k] h_{l-1}[c, i*S + k] / sqrt(C_in) + bias_scale * b_l[c', i] )
 * C_in = v (l = 0) or H; layer l has d/S^(l+1) positions and a bias per position in all kinds.
 *   CNN: W_l shared by the positions;  LCN: one W_l per output position;
 *   FCN: dense layers with the LCN's unit counts (H * d/S^(l+1), input v*d), pre-activation
 *        scale 1/sqrt(fan_in) with fan_in = every input of the dense layer (v*d, then
 *        H * d/S^l), bias_scale * b per unit.
 * Output f = (1/H) W_r h_{L-1} (the spatial size is 1 by then), readout W_r [out_dim x H], no
 * bias. Every weight, bias and the readout start N(0, 1): layer l from hs_rng stream
 * (HS_STREAM_INIT, l), the readout from (HS_STREAM_INIT, L); within a layer the weight in stored
 * order, then the bias. The model sets lr_scale = H (the learning rate of the mean-field limit)
 * and batch_stats = 0; modes are ignored.
 *
 * Tensors, in parameter order: per hidden layer l, weight then bias (layer l); the readout
 * weight (layer L). CNN and LCN store patches position-major (k before c, c fastest):
 *   CNN weight [H x S*C_in]        (c', k, c) at c' * S*C_in + k * C_in + c
 *   LCN weight [P_l*H x S*C_in]    (i, c', k, c) at (i * H + c') * S*C_in + k * C_in + c
 *   FCN weight [n_out x n_in]      layer 0's columns index x itself (c * d + i)
 *   bias [P_l*H] ((i, c') at i * H + c'; FCN: per unit), readout [out_dim x H]
 * hidden(l) is [B x hidden_width[l]], hidden_width[l] = H * d/S^(l+1): for CNN and LCN each
 * sample's row is position-major, (i, c') at i * H + c'; for the FCN the units in weight-row
 * order. The layers are matrix products (src/nn/gemm.c's kernel where the CPU has AVX-512, the
 * path chosen from the shapes alone): one per layer and direction for the CNN (B * positions
 * rows), one per position for the LCN; forward and backward never allocate. Given an SGD or
 * momentum step (hs_model_backward_each's sgd), the hidden layers' weights are stepped inside their
 * gradient products and their gradients are not stored. CNN and LCN copy x into
 * their own position-major buffer; the FCN reads x again in backward, so x must stay valid until
 * then (as for the MLP).
 *
 *     hs_hnet_opts o = {.kind = HS_HNET_CNN, .channels = 6, .positions = 8, .filter = 2, .depth = 3,
 *                       .width = 512, .out_dim = 6, .bias_scale = 0.1, .seed = 1, .max_batch = 24};
 *     HS_TRY(err, hs_model_hnet(&m, &o, err));     // then as any hs_model
 */
typedef enum hs_hnet_kind { HS_HNET_CNN, HS_HNET_LCN, HS_HNET_FCN } hs_hnet_kind;

typedef struct hs_hnet_opts {
    hs_hnet_kind kind;
    int channels;      /* v: input channels (vocabulary size) */
    int positions;     /* d = filter^depth */
    int filter;        /* S >= 2: filter size = stride (s (s0 + 1) in the SRHM) */
    int depth;         /* L >= 1 hidden layers */
    int width;         /* H: channels of every hidden layer (FCN: H per remaining position) */
    int out_dim;       /* classes */
    double bias_scale; /* multiplies every bias; the note's value is 0.1 */
    uint64_t seed;     /* initialisation seed */
    int max_batch;     /* largest B passed to forward */
} hs_hnet_opts;

/* Build and initialise the net. HS_ERR_VALUE for a bad shape (positions != filter^depth, a
 * non-positive size, sizes beyond one sgemm's int indices), HS_ERR_NOMEM. */
hs_code hs_model_hnet(hs_model *m, const hs_hnet_opts *o, hs_error *err);
/* The bytes hs_model_hnet allocates for o's net (parameters, gradients, the activations and
 * workspaces of o.max_batch rows), without allocating them; errors as hs_model_hnet's. */
hs_code hs_hnet_bytes(const hs_hnet_opts *o, size_t *bytes, hs_error *err);

/* ================================================================ balanced, mode-aligned init
 * Saxe et al.'s decoupled initial condition for deep linear nets: with Sigma_yx = U S V^T (rank r,
 * singular values above 1e-10 s_max; U_r, V_r their first r columns) every layer is diagonal in
 * the modes,
 *     W_0 = scale R_1 V_r^T,  W_l = scale R_(l+1) R_l^T,  W_(n-1) = scale U_r R_(n-1)^T,
 * where R_l [dims[l] x r] (l = 1..n_dense-1) has orthonormal columns drawn from hs_rng stream
 * (HS_STREAM_INIT, l) of seed: the Q of the QR of a dims[l] x r standard normal matrix (drawn
 * row-major) with the signs of diag(R) folded in, as the orthogonal init. The product is
 * scale^n_dense U_r V_r^T (u_a^T W v_b = scale^n_dense delta_ab), every layer has r singular
 * values equal to scale and the rest zero (balanced). n_dense = 1: W_0 = scale U_r V_r^T. W[l]
 * is [dims[l+1] x dims[l]] row-major, sigma_yx [dims[n_dense] x dims[0]] row-major. HS_ERR_VALUE
 * for a hidden dim < r (naming the layer), a zero or non-finite Sigma_yx, a non-finite scale.
 * SVD in double (LAPACKE_dgesdd). Modes with equal singular values are any orthonormal basis of
 * their subspace (LAPACK's choice), which the dynamics do not distinguish. */
hs_code hs_init_balanced(float *const *W, const int *dims, int n_dense, const double *sigma_yx, double scale,
                         uint64_t seed, hs_error *err);

/* ================================================================ gated deep linear networks
 * The routing network of Saxe, Sodhani & Lewallen (ICML 2022), ../shared/reference/
 * linear-and-gated-networks.md: M input modules Win_i [H x n_in], one shared hidden layer Wh
 * [H x H], M output modules Wout_j [n_out x H], no biases, no nonlinearity. A data row is one
 * (item, pathway) pair, x = [item (n_in) | i | j] (hs_dataset.modules), and the net computes
 *     out = Wout_j Wh Win_i item.
 * Which pathways are trained is the data's business (the gate: train rows are active pathways,
 * test rows the others). The model sets lr_scale = the number of active pathways P (set by the
 * caller in opts.pathways) so that the batch-mean MSE of the training loop (mean over rows and
 * outputs) times P is the reference's loss, the sum over active pathways of each pathway's MSE.
 * Tensors, in parameter order: Win_0..Win_(M-1) (layers 0..M-1), Wh (layer M), Wout_0..Wout_(M-1)
 * (layers M+1..2M), all HS_TENSOR_WEIGHT. hidden(0) is Wh Win_i item [B x H], rows in batch order.
 * The model's in_dim is opts.in_dim + 2 (the two module columns); n_hidden = 1, lr_scale =
 * pathways, batch_stats = 0, modes are ignored. forward returns NULL when B is out of
 * 1..max_batch or a row's i or j is not an exact integer in 0..M-1. Rows of one batch may mix
 * pathways: rows are grouped by module (a counting sort per forward) and each module is one
 * sgemm over its rows; forward and backward never allocate. A module without rows in the batch
 * gets a zero gradient.
 * Init: torch, normal (N(0, init_scale^2)) or orthogonal (gain init_scale) via hs_init_dense,
 * tensor t from stream (HS_STREAM_INIT, t) (so modules differ); or balanced: hs_init_balanced on
 * dims {n_in, H, H, n_out} with scale b0 = init_scale (streams (INIT, 1) and (INIT, 2)), copied
 * into every module, so every pathway's map Wout_j Wh Win_i starts at b0^3 U_r V_r^T and each mode
 * at b_in = b_h = b_out = b0 (needs sigma_yx, the items' Y^T X [n_out x n_in]; H >= its rank).
 * The mode strengths then follow the ODEs of theory.h (hs_gated_ode; one full-batch epoch is
 * hs_gated_epoch_time).
 *
 *     hs_gated_opts o = {.in_dim = 4, .hidden = 64, .out_dim = 7, .modules = 7, .pathways = 28,
 *                        .init = HS_INIT_BALANCED, .init_scale = 0.08, .sigma_yx = yx, .seed = 1,
 *                        .max_batch = 112};
 *     HS_TRY(err, hs_model_gated(&m, &o, err));   // then as any hs_model, MSE on dataset targets
 */
typedef struct hs_gated_opts {
    int in_dim, hidden, out_dim, modules;
    int pathways;              /* active pathways P (lr_scale), 1..modules^2 */
    hs_init init;              /* torch, normal, orthogonal or balanced */
    double init_scale;
    const double *sigma_yx;    /* balanced: [out_dim x in_dim], borrowed during init */
    uint64_t seed;
    int max_batch;             /* largest B passed to forward */
} hs_gated_opts;
/* Build and initialise the net. HS_ERR_VALUE for a bad shape or option (and the balanced init's
 * errors), HS_ERR_NOMEM. */
hs_code hs_model_gated(hs_model *m, const hs_gated_opts *o, hs_error *err);
/* The bytes hs_model_gated allocates for o's net (parameters, gradients, the activations of
 * o.max_batch rows), without allocating them; errors as hs_model_gated's. */
hs_code hs_gated_bytes(const hs_gated_opts *o, size_t *bytes, hs_error *err);

/* The path this process's dense products take, for a run's provenance: "hsweep-avx512+blas" when
 * the CPU runs the AVX-512 kernel (a training step's small products; the BLAS the rest), "blas"
 * when every product goes to cblas_sgemm. */
const char *hs_nn_gemm_path(void);

#endif /* HSWEEP_NN_H */
