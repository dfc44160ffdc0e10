/* cnet_internal.h - the layer list of a conv net (nets.h), private to nn/: what the architectures
 * (cnet_archs.c) add through the builder (cnet_build.c), and what the engine (cnet.c) runs.
 *
 * A net is a list of nodes in forward order over values. Value 0 is the input; every node writes
 * one new value, [B x C x H x W] per batch. A node whose input is used by nothing else may write
 * over it in place (ReLU after BN, the residual add into its first operand): then the two values
 * share one activation buffer and one gradient buffer. */
#ifndef HSWEEP_NN_CNET_INTERNAL_H
#define HSWEEP_NN_CNET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "hsweep/nets.h"
#include "hsweep/ops.h"

typedef enum cnet_op {
    CN_CONV,    /* in -> conv(in, W) + b */
    CN_BN,      /* BatchNorm over channels */
    CN_RELU,    /* in place */
    CN_SILU,
    CN_SIGMOID,
    CN_MAXPOOL, /* window k, stride, padding of its ps */
    CN_GAP,     /* [C x H x W] -> [C x 1 x 1] */
    CN_SCALE,   /* in2 = gate [C x 1 x 1]: in[c, :] * gate[c] */
    CN_ADD,     /* in + in2, in place into in */
    CN_DROPOUT,
    CN_DROPPATH, /* whole rows of in zeroed or scaled (p, block: its rate and stream index) */
    CN_LINEAR,  /* in flattened -> [out x 1 x 1] (the readout, or a hidden fully connected layer) */
    CN_TILE     /* [C x H x W] -> [r C x H x W]: channel c is input channel c mod C */
} cnet_op;

typedef struct cnet_value {
    int C, H, W;
    size_t size;  /* C x H x W */
    int buf;      /* activation buffer (values written in place share one) */
    int spent;    /* written over in place by the next layer: nothing else may read it */
    int users;    /* nodes reading it */
    int node;     /* node that writes it (-1: the input) */
    int hidden;   /* its hidden-node index, or -1 */
} cnet_value;

/* How a node's backward delivers the gradient of one of its inputs. */
typedef enum cnet_grad { CG_NONE, CG_WRITE, CG_ACCUM, CG_SHARED } cnet_grad;

typedef struct cnet_node {
    cnet_op op;
    int in, in2, out;  /* values (in2: the add's second operand, the scaling's gate; else -1) */
    int tw, tb;        /* tensors: weight and bias (BN: gamma and beta), -1 when absent */
    hs_conv_shape cs;  /* CN_CONV, planned for max_batch rows */
    hs_pool_shape ps;  /* CN_MAXPOOL, planned for max_batch rows */
    float p;           /* CN_DROPOUT, CN_DROPPATH */
    int block;         /* CN_DROPPATH: the index of its stream */
    size_t stats;      /* CN_BN: offset of its running mean (then var) in the buffers */
    int save;          /* CN_BN: xhat/rstd slot; CN_MAXPOOL: arg slot; CN_DROPOUT, CN_DROPPATH: mask slot */
    cnet_grad g_in, g_in2; /* filled by cnet_plan_grads */
} cnet_node;

struct hs_cnet_builder {
    hs_cnet_opts o;
    int one_d;             /* input height 1: kernels 1 x k */
    cnet_node *nodes;
    int n_nodes, cap_nodes;
    cnet_value *vals;
    int n_vals, cap_vals;
    hs_tensor *tensors;
    int n_tensors, cap_tensors;
    size_t n_params, n_buffers;
    int n_hidden, n_weights, n_bufs; /* n_bufs: activation buffers */
    int n_saves;
    double macs;
    int failed;            /* a builder call failed: err holds why */
    hs_error *err;
};

/* The builder calls return the new value, or -1 once anything failed (later calls then do
 * nothing, so an architecture checks only at its end). hidden: the value is the next node. */
int cb_conv(hs_cnet_builder *b, int in, int C_out, int k, int stride, int pad, int groups, int bias);
int cb_bn(hs_cnet_builder *b, int in);
int cb_act(hs_cnet_builder *b, cnet_op op, int in, int hidden); /* CN_RELU, CN_SILU, CN_SIGMOID */
int cb_maxpool(hs_cnet_builder *b, int in);                      /* k2 s2 */
int cb_pool(hs_cnet_builder *b, int in, int k, int stride, int pad); /* max over k x k windows */
int cb_tile(hs_cnet_builder *b, int in, int r);                  /* the channels repeated r times */
int cb_gap(hs_cnet_builder *b, int in);
int cb_scale(hs_cnet_builder *b, int in, int gate);
int cb_add(hs_cnet_builder *b, int a, int c);
int cb_dropout(hs_cnet_builder *b, int in, double p);
int cb_droppath(hs_cnet_builder *b, int in, double p, int block); /* p = 0: in itself, no layer */
int cb_linear(hs_cnet_builder *b, int in, int out);
/* conv -> BN (when the net has BN) */
int cb_conv_bn(hs_cnet_builder *b, int in, int C_out, int k, int stride, int pad, int groups, int bias);
/* The shape of value v. */
static inline const cnet_value *cb_value(const hs_cnet_builder *b, int v) { return v >= 0 ? &b->vals[v] : NULL; }

/* Check o, then build its layer list into b (input value 0, the architecture's layers, the
 * readout). b is zeroed first; release it with cnet_builder_free even on failure. */
hs_code cnet_builder_make(hs_cnet_builder *b, const hs_cnet_opts *o, hs_error *err);
void cnet_builder_free(hs_cnet_builder *b);

/* The dropout before the readout that o asks for (the architecture's when o's is negative). */
double cnet_dropout_of(const hs_cnet_opts *o);
/* Whether the net draws masks (dropout or drop-path), so counts its training forwards. */
int cnet_draws_masks(const hs_cnet_opts *o);

/* The backward's gradient buffers: every value's buffer index (into *n_out buffers), assigned so
 * that buffers are reused once their gradient is spent; sets the nodes' g_in / g_in2. gbuf has
 * 2 b->n_vals ints (the second half is scratch); the input's entry is -1 unless input_grad, and
 * the logits' -1 (their gradient is the caller's). */
void cnet_plan_grads(hs_cnet_builder *b, int *gbuf, int *n_out);

#endif
