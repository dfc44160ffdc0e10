/*
 * nets.h - deep convolutional nets (VGG, ResNet, EfficientNet-B0, He & Su's VGG-13 and AlexNet)
 * as hs_model objects: a net is a list of layers from ops.h (convolution, BatchNorm over channels,
 * ReLU/SiLU/sigmoid, pooling, residual add, squeeze-excite scaling, dropout, channel tiling, fully
 * connected layers) and a Linear readout, on 1-D signals [channels x positions] (the SRHM's v x d)
 * or images [channels x height x width].
 *
 * Training VGG-11 at an eighth of its width on SRHM inputs (10 channels x 36 positions):
 *
 *     hs_cnet_opts o = {.arch = &hs_cnet_vgg11, .channels = 10, .height = 1, .width = 36,
 *                       .out_dim = 10, .width_mult = 0.125, .dropout = -1, .batch_norm = 1,
 *                       .bn_eps = 1e-5f, .bn_momentum = 0.1f, .init_scale = 1, .seed = 7,
 *                       .max_batch = 40};
 *     hs_model m;
 *     HS_TRY(err, hs_model_cnet(&m, &o, err));
 *     const float *logits = hs_model_forward(&m, x, B, HS_MODE_TRAIN);   // x [B x 10*1*36]
 *     hs_loss_forward_backward(HS_LOSS_CE, logits, y, NULL, B, 10, m.dlogits, NULL);
 *     hs_model_backward(&m, m.dlogits, B);                               // m.grads
 *     const float *h3 = hs_model_hidden(&m, 3);   // 4th ReLU's output, [B x m.hidden_width[3]]
 *     hs_model_free(&m);
 *
 * The architectures (PyTorch's CIFAR variants as in Petrini et al.'s and Tomasini & Wyart's code;
 * shared/reference/srhm-sensitivity.md section 4). Every channel count c of the tables becomes
 * max(1, floor(c * width_mult + 1/2)) (nearest, halves up); the input channels and the classes
 * are never scaled. 1-D nets (height 1) use kernels 1 x k, so every conv and pool acts along the
 * positions only.
 *   vgg11, vgg16   [conv k3 pad 1 (with bias) -> BN -> ReLU] per number of the usual configs
 *                  (VGG11: 64 M 128 M 256 256 M 512 512 M 512 512 M), max-pool k2 s2 at each M
 *                  unless a pooled dimension is already 1 (so 36 -> 18 -> 9 -> 4 -> 2 -> 1 and
 *                  28 -> 14 -> 7 -> 3 -> 1 work), then [dropout] and Linear(C x H x W, classes)
 *                  (C = 512 w and H = W = 1 on the inputs above). Nodes: every ReLU (8, 13).
 *   resnet18, 34   stem conv k3 s1 pad 1 -> 64 (no bias), BN, ReLU; stages of BasicBlocks with
 *                  64/128/256/512 channels, strides 1/2/2/2, [2 2 2 2] or [3 4 6 3] blocks:
 *                  relu(bn(conv3(relu(bn(conv3_stride(x))))) + shortcut(x)), the shortcut a
 *                  conv 1x1 with the stride + BN when the stride or the width changes, else x;
 *                  global average pool, [dropout], Linear(512 w, classes). Nodes: every ReLU
 *                  (17, 33).
 *   effnet_b0      stem conv k3 s1 pad 1 -> 32 (no bias), BN, SiLU; the B0 table of MBConv
 *                  blocks (expansion, channels, repeats, kernel, stride) = (1,16,1,3,1)
 *                  (6,24,2,3,2) (6,40,2,5,2) (6,80,3,3,2) (6,112,3,5,1) (6,192,4,5,2)
 *                  (6,320,1,3,1), whose first block of a stage has the stride (the CIFAR
 *                  variant: stride 1 in the stem, so 32 -> 16 -> 8 -> 4 -> 2 and 36 -> 18 -> 9
 *                  -> 5 -> 3; a stride on size 1 keeps 1). A block: [conv 1x1 to e x C_in, BN,
 *                  SiLU] when e > 1, depthwise conv k (pad k/2) with the stride, BN, SiLU,
 *                  squeeze-excite (global average, conv 1x1 to max(1, floor(C_in / 4)) with bias,
 *                  SiLU, conv 1x1 back with bias, sigmoid, channel scaling), conv 1x1 to C_out,
 *                  BN, + x when stride 1 and C_in = C_out, the branch under drop-path at rate
 *                  drop_connect x j / 16 for the j-th block (0-based, as the authors' CIFAR code:
 *                  0.2 there; 0 here unless set). Then global average
 *                  pool, dropout (0.2 unless set) and Linear(320 w, classes). Nodes: every SiLU
 *                  output and every squeeze-excite gate (the sigmoid), in forward order: 64,
 *                  the count of sigmoid calls of the reference code, whose swish is x sigmoid(x);
 *                  a SiLU node holds the SiLU's output (what the next layer reads), a gate node
 *                  the per-channel gate [C].
 *   vgg13_es,      He & Su's modified VGG-13 and AlexNet (shared/reference/equisep-extra.md section
 *   alexnet_es     3): the input tiled along the channels (16 or 32 copies: channel c is input
 *                  channel c mod C, as torch's repeat), every conv k5 pad 2 with bias -> BN -> ReLU,
 *                  then Linear(features, 4096 w) -> BN -> ReLU twice and Linear(4096 w, classes).
 *                  vgg13_es: 64 64 M 128 128 M 256 256 M 512 512 M 512 512 M, M a max-pool k2 s2
 *                  (skipped on a dimension of 1 as above); alexnet_es: 64, max-pool k3 s2 pad 1,
 *                  192, max-pool, 384, 256, 256, max-pool (32 -> 16 -> 8 -> 4). The fully
 *                  connected widths scale with width_mult like the channels. Nodes: every conv's
 *                  ReLU and the two fully connected ReLUs (12, 7); the tiled input is no node, since
 *                  tiling leaves the separation fuzziness D unchanged (the raw input, the measured
 *                  layer 0, stands for it), so a run measures the 13 and 8 points of the paper.
 * batch_norm 0 removes every BatchNorm (the VGG convs keep their biases; ResNet and EfficientNet
 * convs have none, as in the reference). The hidden node l of hs_model_hidden is the l-th node
 * above, flattened per sample (C x H x W, channel-major), so n_hidden = the node count.
 *
 * Parameters: one flat array; tensors in forward order, per conv its weight [C_out x C_in/groups
 * x KH x KW] (rows C_out, cols the rest) and bias, per BN gamma and beta, the readout weight
 * [classes x features] and bias. A tensor's `layer` is the index of the first node after it in
 * forward order (n_hidden when only the readout follows), so per-layer weight norms group the
 * convs that feed one node. Initialisation as PyTorch's defaults: weight t ~ U(-a, a) with a =
 * init_scale / sqrt(fan_in), bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (0 with zero_bias), fan_in
 * = C_in/groups x KH x KW (Linear: features); gamma 1, beta 0; each tensor t from hs_rng stream
 * (HS_STREAM_INIT, t) of the seed, so the parameters are a pure function of the seed and shapes.
 *
 * State: the parameters, then the buffers: per BN (forward order) its running mean [C] and
 * variance [C] (start 0 and 1; PyTorch's update with the unbiased variance), then, when the net
 * has dropout or drop-path, the count of training forwards in two floats (low and high 24 bits,
 * exact).
 * Modes (nn.h): TRAIN uses batch statistics and updates the running ones, BATCH uses batch
 * statistics only, EVAL the running ones; dropout acts in TRAIN only. The mask of the t-th
 * training forward (t = 0, 1, ...) is hs_dropout_forward's on stream (HS_STREAM_DROPOUT, 0) of the
 * seed at word t x max_batch x features, so it depends on the seed and the step alone, and a
 * checkpoint (the count is in the buffers) resumes the same masks; block j's drop-path rows are
 * hs_droppath_forward's on stream (HS_STREAM_DROPPATH, j) at word t x max_batch.
 *
 * Memory: hs_model_cnet allocates everything once for max_batch rows: parameters, gradients,
 * every activation the backward needs, and gradient buffers shared by layers whose gradients are
 * never alive at once; forward and backward never allocate. The input is copied, so x need not
 * outlive the forward. forward returns NULL when B is out of 1..max_batch, or B = 1 with
 * BatchNorm in TRAIN or BATCH mode (a batch of one has no variance at the 1 x 1 layers). A
 * backward whose B differs from the last forward's, or after an EVAL forward, fills the gradients
 * with NaN.
 */
#ifndef HSWEEP_NETS_H
#define HSWEEP_NETS_H

#include <stddef.h>
#include <stdint.h>

#include "hsweep/nn.h"
#include "hsweep/status.h"

typedef struct hs_cnet_arch hs_cnet_arch;
typedef struct hs_cnet_builder hs_cnet_builder; /* private to src/nn */

typedef struct hs_cnet_opts {
    const hs_cnet_arch *arch;
    int channels, height, width; /* input [channels x height x width]; 1-D: height 1, width = positions */
    int out_dim;                 /* classes */
    double width_mult;           /* > 0: scales every channel count of the tables (see above) */
    double dropout;              /* before the readout, in [0, 1); < 0: the architecture's own */
    double drop_connect;         /* effnet_b0: drop-path rate of the last residual branch, in [0, 1) */
    int batch_norm;              /* 1: BatchNorm after the convs; 0: none */
    float bn_eps, bn_momentum;
    double init_scale;           /* multiplies the weights' bound (1: PyTorch's) */
    int zero_bias;               /* biases start at 0 */
    uint64_t seed;               /* initialisation, dropout and drop-path */
    int max_batch;               /* largest B passed to forward */
    int input_grad;              /* backward also computes d loss / d x (hs_cnet_input_grad) */
} hs_cnet_opts;

/* An architecture: its name, its node count (independent of the input shape and the width), the
 * default dropout before its readout and whether its residual branches take drop-path
 * (opts.drop_connect). build adds its layers through the private builder. */
struct hs_cnet_arch {
    const char *name;
    int nodes;
    double dropout;
    int drop_path;
    hs_code (*build)(hs_cnet_builder *b, const hs_cnet_opts *o, hs_error *err);
};

extern const hs_cnet_arch hs_cnet_vgg11, hs_cnet_vgg16, hs_cnet_resnet18, hs_cnet_resnet34, hs_cnet_effnet_b0,
    hs_cnet_vgg13_es, hs_cnet_alexnet_es;

/* Channel count c of an architecture's table at width multiplier w: max(1, floor(c w + 1/2)). */
int hs_cnet_channels(int c, double w);

/* What the net of o is, without building it (no memory beyond its layer list, freed again). */
typedef struct hs_cnet_summary {
    size_t n_params;   /* parameters (weights, biases, BN gamma and beta) */
    size_t n_buffers;  /* floats of state after the parameters */
    double macs;       /* multiply-adds of one sample's forward in the convs and the Linear layers
                          (every output element of a conv costs C_in/groups x KH x KW, of a Linear
                          its features); BN, activations, pooling, tiling and scaling are not
                          counted */
    int n_hidden;      /* nodes (= arch->nodes) */
    int n_weights;     /* conv and readout weight tensors */
    int features;      /* inputs of the readout */
} hs_cnet_summary;

/* Summary of o's net, and rows x cols of its first cap weight tensors in tensor order (rows and
 * cols may be NULL when cap is 0). HS_ERR_VALUE, naming the option, for a bad option or a shape
 * the net cannot take (e.g. a conv whose output would be empty). */
hs_code hs_cnet_summarize(const hs_cnet_opts *o, hs_cnet_summary *s, int *rows, int *cols, int cap, hs_error *err);

/* The bytes hs_model_cnet allocates for o's net (parameters and state, gradients, the
 * activations, saved statistics, masks and gradients of o.max_batch rows, the conv workspace),
 * without allocating them. Errors as hs_cnet_summarize. */
hs_code hs_cnet_bytes(const hs_cnet_opts *o, size_t *bytes, hs_error *err);

/* Build and initialise the net (see above). HS_ERR_VALUE for bad options, HS_ERR_NOMEM. */
hs_code hs_model_cnet(hs_model *m, const hs_cnet_opts *o, hs_error *err);

/* d loss / d x [B x in_dim] of the last backward when the net was built with input_grad, else
 * NULL (also for a model that is not a conv net). */
const float *hs_cnet_input_grad(const hs_model *m);

/* Training forwards so far (the dropout masks' position), and setting it (tests replay a step). */
uint64_t hs_cnet_step(const hs_model *m);
void hs_cnet_set_step(hs_model *m, uint64_t step);

#endif /* HSWEEP_NETS_H */
