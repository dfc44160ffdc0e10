/* schema.c - the table of configuration keys (see include/hsweep/schema.h).
 *
 * Rules for editing the table:
 *  - keep it sorted by name (a unit test checks);
 *  - a new key's default must reproduce the behaviour from before the key existed, so that
 *    existing run ids stay valid (keys at their default do not enter the id);
 *  - never change an existing default's meaning without bumping HS_SCHEMA_VERSION.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <pthread.h>

#include "hsweep/data.h"
#include "hsweep/schema.h"

#define INF INFINITY
#define I32MAX 2147483647.0

static hs_key table[] = {
    /* ------------------------------------------------------------ data */
    {"data.L", HS_T_INT, "2", 1, 30, 0, 0, NULL,
     "rhm/srhm: depth L of the hierarchy (levels of rules); the input has (s(s0+1))^L positions, s^L of them informative."},
    {"data.active", HS_T_INT, "4", 1, 10000, 0, 0, NULL,
     "gated_toy/gated_fmnist/gated_perm/gated_rot: active output modules K per input module (gated_toy, gated_fmnist: gate 'K plus-minus mod': input i -> outputs i + j mod M, j in [-floor((K-1)/2), floor(K/2)]; gated_perm, gated_rot: 'K plus mod permute': i -> i + j mod M, j in 0..K-1, output columns shuffled by data.seed)."},
    {"data.beta", HS_T_FLOAT, "0.00016103", 0, INF, HS_KEY_MIN_OPEN, 0, NULL,
     "hierarchy/partition: mean of the exponential edge-length draw (one per feature; every edge gets weight 1/length)."},
    {"data.branching", HS_T_INT, "2", 2, 64, 0, 0, NULL,
     "hierarchy: children per tree node (leaves = branching^levels)."},
    {"data.class_counts", HS_T_INT_LIST, "[]", 1, 1e7, 0, 100000, NULL,
     "Training samples of each class, for imbalanced sets (one entry per class); empty = data.per_class for every class."},
    {"data.classes", HS_T_INT, "10", 2, 100000, 0, 0, NULL,
     "gaussian: number of classes K."},
    {"data.dim", HS_T_INT, "20", 1, 1e7, 0, 0, NULL,
     "gaussian: input dimension p."},
    {"data.features", HS_T_INT, "936", 1, 1e7, 0, 0, NULL,
     "hierarchy/partition: number of input features P, each an independent Gaussian draw over the whole graph."},
    {"data.kind", HS_T_ENUM, "cfm", 0, 0, 0, 0, NULL, NULL}, /* choices and text: the data registry's */
    {"data.levels", HS_T_INT, "6", 1, 20, 0, 0, NULL,
     "hierarchy/partition: label levels of the tree (6: 64, 32, ..., 2 classes under one root); partition has branching^levels unconnected classes."},
    {"data.m", HS_T_INT, "0", 0, 1e6, 0, 0, NULL,
     "rhm/srhm: synonymic rules per symbol m; 0 = v^(s-1) (each level a random partition of all s-tuples)."},
    {"data.modules", HS_T_INT, "7", 1, 10000, 0, 0, NULL,
     "gated_toy/gated_fmnist/gated_perm/gated_rot: number M of input and of output modules of the routing task."},
    {"data.n_c", HS_T_INT, "0", 0, 1e6, 0, 0, NULL,
     "rhm/srhm: number of classes n_c; 0 = v."},
    {"data.n_test", HS_T_INT, "0", 0, 1e9, 0, 0, NULL,
     "Test samples; 0 = the full test split (gaussian: as many as the training set)."},
    {"data.n_train", HS_T_INT, "1000", 1, 1e9, 0, 0, NULL,
     "rhm/srhm: training-set size P; training sets of different P are nested prefixes of one sample stream."},
    {"data.noise", HS_T_FLOAT, "0", 0, INF, 0, 0, NULL,
     "xor: standard deviation of the Gaussian noise added to each repeated point."},
    {"data.path", HS_T_STR, "", 0, 0, 0, 0, NULL,
     "Folder with the dataset files; empty = the standard place: /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist) for cfm and fashion_mnist, /usr/share/datasets/mnist for cm and mnist; cc and cifar10 need the folder of the CIFAR-10 binary batches."},
    {"data.per_class", HS_T_INT, "100", 1, 1e7, 0, 0, NULL,
     "Training samples per class, chosen from the train split by data.seed."},
    {"data.per_leaf", HS_T_INT, "1000", 1, 1e7, 0, 0, NULL,
     "hierarchy/partition: examples hung from each leaf (class) node, before the test split."},
    {"data.repeats", HS_T_INT, "1", 1, 1e6, 0, 0, NULL,
     "xor: copies of each of the 4 points (1 = the 4 points exactly, used for training and test; more = noisy copies split by data.test_fraction)."},
    {"data.resize", HS_T_ENUM, "bilinear", 0, 0, 0, 0, "bilinear|area",
     "Resampler for the 10x10 variants, bit-exact with PIL (torchvision's Resize on images): bilinear (antialiased triangle filter) or area (PIL's BOX: mean of the pixels whose centres fall in each output pixel)."},
    {"data.rule_seed", HS_T_INT, "-1", -1, I32MAX, 0, 0, NULL,
     "rhm/srhm: seed of the rules (the grammar); -1 = data.seed. Vary data.seed with a fixed rule_seed to resample data from one grammar."},
    {"data.s", HS_T_INT, "2", 2, 16, 0, 0, NULL,
     "rhm/srhm: informative children per rule s."},
    {"data.s0", HS_T_INT, "0", 0, 64, 0, 0, NULL,
     "srhm: empty slots added per informative child (sparsity); 0 = the RHM."},
    {"data.seed", HS_T_INT, "-1", -1, I32MAX, 0, 0, NULL,
     "Seed for data generation and subset choice; -1 = the value of seed. Vary it to resample data with fixed initialisation."},
    {"data.separation", HS_T_FLOAT, "3", 0, INF, 0, 0, NULL,
     "gaussian: distance between neighbouring class means, in units of the noise standard deviation."},
    {"data.sigma", HS_T_FLOAT, "5", 0, INF, HS_KEY_MIN_OPEN, 0, NULL,
     "hierarchy/partition: example-node noise: 1/sigma^2 is added to the precision of every example node."},
    {"data.sparsity", HS_T_ENUM, "A", 0, 0, 0, 0, "A|B",
     "srhm: A = each informative child at an independent uniform offset in its own sub-patch, re-drawn for every sample and node; B = the s children at any s of the s(s0+1) slots, order kept."},
    {"data.targets", HS_T_ENUM, "labels", 0, 0, 0, 0, "labels|levels",
     "hierarchy/partition with train.loss mse: labels = one-hot leaf labels; levels = one-hot labels of every tree level concatenated, finest first (126 outputs for 6 binary levels), the hierarchical targets of Saxe et al. whose singular modes are the tree's levels."},
    {"data.test_fraction", HS_T_FLOAT, "0.2", 0, 1, HS_KEY_MAX_OPEN, 0, NULL,
     "hierarchy/partition (per leaf) and xor with repeats > 1: fraction of the examples held out as the test set."},
    {"data.v", HS_T_INT, "8", 2, 1000, 0, 0, NULL,
     "rhm/srhm: vocabulary size v of every level."},
    {"data.whiten", HS_T_BOOL, "true", 0, 0, 0, 0, NULL,
     "rhm/srhm: encode as the authors do, x (1 + 1/sqrt(v-1)) - 1/sqrt(v-1) over the one-hot [v x d] tensor; false = plain one-hot."},
    {"data.zca", HS_T_BOOL, "false", 0, 0, 0, 0, NULL,
     "Whiten the inputs: x <- Sigma_xx^(-1/2) x with Sigma_xx = (1/n) X^T X of the training set (the test set gets the same matrix), so deep-linear-network theory applies (it assumes Sigma_xx = I)."},
    /* ------------------------------------------------------------ model */
    {"model.act", HS_T_ENUM, "relu", 0, 0, 0, 0, "relu|tanh|identity",
     "Hidden activation; identity gives the linearised control (and, without norm, a deep linear net)."},
    {"model.arch", HS_T_ENUM, "mlp", 0, 0, 0, 0, "mlp|cnn|lcn|fcn|kernel|gated|vgg11|vgg16|resnet18|resnet34|effnet_b0|vgg13_es|alexnet_es",
     "Architecture. mlp: [Linear -> norm -> act] blocks, then a Linear readout; cnn/lcn/fcn: the mean-field hierarchical nets of the SRHM (filter = stride, ReLU, width H, N(0,1) init, lr x H), one layer per hierarchy level; kernel: kernel ridge regression (model.kernel), solved on all ranks with ScaLAPACK; gated: the routing gated deep linear network (M input modules, a shared hidden layer of model.width, M output modules; needs gated_toy, gated_fmnist, gated_perm or gated_rot data); vgg11/vgg16/resnet18/resnet34/effnet_b0: the CIFAR-style deep conv nets (conv + BatchNorm unless model.norm none, PyTorch init, model.width_mult, model.dropout) on images or on rhm/srhm inputs as 1-D signals [v x positions]; their measured layers are every ReLU (vgg, resnet) or every SiLU and squeeze-excite gate (effnet_b0); vgg13_es/alexnet_es: He & Su's modified VGG-13 and AlexNet (input tiled x16 / x32 along the channels, conv 5x5 pad 2 + BN + ReLU, two Linear(4096)-BN-ReLU blocks, Linear readout; fully connected widths scale with model.width_mult too), measured at the input and every ReLU (13 and 8 layers, the paper's points: tiling leaves D unchanged, so the input stands for the tiled input)."},
    {"model.bias", HS_T_BOOL, "true", 0, 0, 0, 0, NULL,
     "Dense layers carry a bias."},
    {"model.bn_eps", HS_T_FLOAT, "1e-05", 0, 1, HS_KEY_MIN_OPEN, 0, NULL,
     "BatchNorm epsilon added to the variance."},
    {"model.bn_momentum", HS_T_FLOAT, "0.1", 0, 1, 0, 0, NULL,
     "BatchNorm running-average momentum (PyTorch convention: new = (1-m) old + m batch)."},
    {"model.depth", HS_T_INT, "2", 0, 10000, 0, 0, NULL,
     "Hidden H->H blocks after the input block (He & Su's L): depth+1 hidden layers, depth+2 measured layers."},
    {"model.drop_connect", HS_T_FLOAT, "0", 0, 1, HS_KEY_MAX_OPEN, 0, NULL,
     "effnet_b0: drop-path (stochastic depth) of the residual branches during training: the j-th of the 16 blocks (0-based) drops a sample's branch with probability drop_connect x j / 16 (masks from seed and step). The authors' CIFAR EfficientNet uses 0.2; 0 = none. Other archs refuse a value > 0."},
    {"model.dropout", HS_T_FLOAT, "-1", -1, 1, HS_KEY_MAX_OPEN, 0, NULL,
     "vgg11/vgg16/resnet18/resnet34/effnet_b0/vgg13_es/alexnet_es: dropout probability before the Linear readout (training steps only, masks from seed and step); -1 = the architecture's own: 0.2 for effnet_b0, 0 for the others. Other archs ignore it."},
    {"model.filter", HS_T_INT, "0", 0, 1e6, 0, 0, NULL,
     "cnn/lcn/fcn: filter size = stride S; 0 = s(s0+1) of rhm/srhm data."},
    {"model.init", HS_T_ENUM, "torch", 0, 0, 0, 0, "torch|normal|orthogonal|balanced",
     "Weight initialisation. torch: U(+-1/sqrt(fan_in)) for weights and biases; normal: N(0, init_scale^2); orthogonal: gain init_scale; balanced: aligned with the singular modes of the training data's Sigma_yx, every layer of every mode at strength init_scale, biases zero (deep linear and gated nets)."},
    {"model.init_scale", HS_T_FLOAT, "1", 0, INF, 0, 0, NULL,
     "Scale of the initial weights: std for normal, gain for orthogonal, bound multiplier for torch."},
    {"model.init_scales", HS_T_FLOAT_LIST, "[]", 0, INF, 0, 100000, NULL,
     "Per-layer init scales, one per dense layer (readout last); empty = init_scale everywhere."},
    {"model.kernel", HS_T_ENUM, "laplace", 0, 0, 0, 0, "laplace|gaussian|ntk",
     "arch kernel: exp(-|x-y|/sigma), exp(-|x-y|^2/(2 sigma^2)), or the infinite-width NTK of a bias-free ReLU MLP (model.ntk_depth hidden layers)."},
    {"model.kernel_block", HS_T_INT, "64", 1, 1e6, 0, 0, NULL,
     "arch kernel: ScaLAPACK block size of the block-cyclic Gram matrix."},
    {"model.kernel_sigma", HS_T_FLOAT, "1", 0, INF, HS_KEY_MIN_OPEN, 0, NULL,
     "arch kernel: length scale sigma of the Laplace and Gaussian kernels."},
    {"model.norm", HS_T_ENUM, "batch", 0, 0, 0, 0, "batch|none",
     "Normalisation after each hidden Linear: BatchNorm1d or none."},
    {"model.ntk_depth", HS_T_INT, "1", 0, 1000, 0, 0, NULL,
     "arch kernel, kernel ntk: hidden layers of the ReLU network whose NTK it is."},
    {"model.ridge", HS_T_FLOAT, "1e-06", 0, INF, 0, 0, NULL,
     "arch kernel: ridge lambda added to the Gram matrix's diagonal (one-hot targets)."},
    {"model.width", HS_T_INT, "100", 1, 1e7, 0, 0, NULL,
     "Width H of every hidden layer (unless model.widths is given)."},
    {"model.width_mult", HS_T_FLOAT, "1", 0, 64, HS_KEY_MIN_OPEN, 0, NULL,
     "vgg11/vgg16/resnet18/resnet34/effnet_b0/vgg13_es/alexnet_es: multiplier of every channel count (and of the 4096 fully connected widths of vgg13_es/alexnet_es) of the architecture's table, each rounded to the nearest integer (halves up), at least 1 (0.125: 64 -> 8); input channels and classes are not scaled. Other archs ignore it."},
    {"model.widths", HS_T_INT_LIST, "[]", 1, 1e7, 0, 100000, NULL,
     "Width of each hidden layer, input side first (e.g. [624, 208]); overrides depth and width. Empty = depth+1 layers of width."},
    {"model.zero_bias", HS_T_BOOL, "false", 0, 0, 0, 0, NULL,
     "Initialise every bias to zero."},
    /* ------------------------------------------------------------ record */
    {"record.bn_chunk", HS_T_INT, "100", 1, 1e7, 0, 0, NULL,
     "record.bn_mode batch: samples per chunk whose statistics normalise the features."},
    {"record.bn_mode", HS_T_ENUM, "eval", 0, 0, 0, 0, "eval|batch",
     "BatchNorm mode when features are measured: eval (running statistics) or batch (chunk statistics, as He & Su)."},
    {"record.centroids", HS_T_INT, "0", 0, 1e6, 0, 0, NULL,
     "Held-out test examples per leaf class whose centroids give center_gap at every record point and centroid_gram at snapshots (hierarchy data); 0 = off."},
    {"record.diffeo_T", HS_T_FLOAT, "0", 0, INF, 0, 0, NULL,
     "record.stability: temperature T of the diffeomorphisms; 0 = sqrt(T_min T_max) with T_min = 1/(pi n^2 ln c), T_max = 4/(pi^3 c^2 ln c) for n x n images (refused above T_max). The T used is stored in series stability_diffeo."},
    {"record.diffeo_c", HS_T_INT, "3", 2, 64, 0, 0, NULL,
     "record.stability: high-frequency cutoff c of the diffeomorphisms (sine modes i, j >= 1 with sqrt(i^2 + j^2) < c + 0.5)."},
    {"record.eval_samples", HS_T_INT, "0", 0, 1e9, 0, 0, NULL,
     "Measure train/test loss and accuracy (and per-level accuracy) on a fresh random draw of this many examples of each set at every record point; 0 = the full sets."},
    {"record.every", HS_T_INT, "10", 1, 1e9, 0, 0, NULL,
     "Record loss and accuracies every this many epochs, and after the last epoch."},
    {"record.every_steps", HS_T_INT, "15", 1, 1e9, 0, 0, NULL,
     "record.schedule steps: record every this many optimiser steps (minibatches), and at the end."},
    {"record.grad_norms", HS_T_BOOL, "false", 0, 0, 0, 0, NULL,
     "Record the Frobenius norm of dLoss/dW of every dense layer on the last minibatch before each record point (series grad_norm)."},
    {"record.log_points", HS_T_INT, "100", 2, 1e6, 0, 0, NULL,
     "record.schedule log: record points at about this many log-spaced steps between 1 and the last step (plus step 0)."},
    {"record.modes", HS_T_INT, "0", 0, 10000, 0, 0, NULL,
     "Record the strengths u_a^T W_total v_a of the top this many singular modes of the training data's Sigma_yx (linear nets: the product of all weights); 0 = off."},
    {"record.neighbours", HS_T_INT, "0", 0, 1e6, 0, 0, NULL,
     "Examples whose representation record.neighbours_rep is stored at every record point (series neigh_rep, neigh_rows, neigh_labels), drawn afresh at each point from a fixed seeded pool of record.neighbours_pool test examples per class: the input of the neighbours analysis (kNN pseudotime, fixed point, category composition; the hierarchy paper draws 100); 0 = off."},
    {"record.neighbours_pool", HS_T_INT, "50", 1, 1e6, 0, 0, NULL,
     "record.neighbours: test examples per class in the pool the per-point draws come from (the hierarchy paper's extraction set: 50 per leaf class)."},
    {"record.neighbours_rep", HS_T_INT, "1", 0, 1000, 0, 0, NULL,
     "record.neighbours: the representation stored (mlp): 0 the input, 2l+1 hidden layer l's Linear output (before norm and activation), 2l+2 its block output, 2 n_hidden + 1 the logits; 1 = the first Linear output (the paper's fc1)."},
    {"record.schedule", HS_T_ENUM, "epochs", 0, 0, 0, 0, "epochs|steps|log",
     "When to record: every record.every epochs, every record.every_steps steps, or at record.log_points log-spaced steps; always at the start and the end."},
    {"record.sensitivity", HS_T_INT, "0", 0, 1000000, 0, 0, NULL,
     "rhm/srhm data: reference samples per class of the sensitivity probes, measured at every record point: S_{k,l} (synonyms of the bottom l levels re-drawn), D_{k,l} (their positions re-drawn) and the Gaussian control G_k at every hidden layer and the logits (series sensitivity_S, _D, _G); 0 = off. The authors use 20."},
    {"record.separation", HS_T_ENUM, "final", 0, 0, 0, 0, "none|final|every",
     "When to measure per-layer separation fuzziness D: never, after training, or at every record point."},
    {"record.separation_weighting", HS_T_ENUM, "balanced", 0, 0, 0, 0, "balanced|paper",
     "Class weighting of D: balanced (each class 1/K, the authors' code) or paper (by class size); they differ only for imbalanced classes."},
    {"record.snapshot_every", HS_T_INT, "0", 0, 1e9, 0, 0, NULL,
     "Record points between snapshots (centroid_gram, rep_snapshot, weights_first/last), plus the last point; 0 = no snapshots."},
    {"record.snapshot_samples", HS_T_INT, "0", 0, 1e6, 0, 0, NULL,
     "Held-out examples whose representations at every layer are stored at snapshots (series rep_snapshot), for t-SNE or kNN; 0 = off."},
    {"record.stability", HS_T_INT, "0", 0, 1000000, 0, 0, NULL,
     "Square-image data: test images of Petrini et al.'s relative stability, measured at every record point: D_f (max-entropy diffeomorphisms), G_f (Gaussian noise of the same norm) and R_f = D_f/G_f at the input, every hidden layer and the logits (series stability_D, _G, _R); 0 = off. Petrini et al. use 500."},
    {"record.svd", HS_T_INT, "0", 0, 10000, 0, 0, NULL,
     "Record the top this many singular values of every weight matrix at every record point (series singular_values); 0 = off."},
    {"record.weight_snapshots", HS_T_BOOL, "false", 0, 0, 0, 0, NULL,
     "Store the first dense layer's and the readout's weights at snapshots (series weights_first, weights_last)."},
    /* ------------------------------------------------------------ (root) */
    {"seed", HS_T_INT, "0", 0, I32MAX, 0, 0, NULL,
     "Seed for initialisation and minibatch order (and for data, unless data.seed is set)."},
    /* ------------------------------------------------------------ train */
    {"train.augment", HS_T_ENUM, "none", 0, 0, 0, 0, "none|crop|flip|crop_flip",
     "Image data: seeded random crops (padded by train.crop_pad pixels of the channel's darkest value) and/or left-right flips of every training row, per epoch (torchvision's RandomCrop + RandomHorizontalFlip)."},
    {"train.batch", HS_T_INT, "128", 1, 1e9, 0, 0, NULL,
     "Minibatch size; batches are reshuffled every epoch and the last partial batch is kept."},
    {"train.batch_per_class", HS_T_INT, "0", 0, 1e9, 0, 0, NULL,
     "Minibatch size in samples per class (the batch is this times the number of classes); 0 = use train.batch."},
    {"train.beta1", HS_T_FLOAT, "0.9", 0, 1, HS_KEY_MAX_OPEN, 0, NULL,
     "adam/adamw: first-moment decay."},
    {"train.beta2", HS_T_FLOAT, "0.999", 0, 1, HS_KEY_MAX_OPEN, 0, NULL,
     "adam/adamw: second-moment decay."},
    {"train.crop_pad", HS_T_INT, "4", 0, 64, 0, 0, NULL,
     "train.augment crop: padding in pixels on each side before the random crop back to the image size."},
    {"train.decay_on", HS_T_ENUM, "all", 0, 0, 0, 0, "all|weights|mean",
     "How weight decay applies: all parameters (as PyTorch by default), weight matrices only, or mean: the loss term weight_decay * mean(p^2) per tensor (gradient 2 wd p / numel, the SRHM authors' L2 penalty)."},
    {"train.epochs", HS_T_INT, "100", 1, 1e9, 0, 0, NULL,
     "Passes over the training set."},
    {"train.eps", HS_T_FLOAT, "1e-08", 0, 1, HS_KEY_MIN_OPEN, 0, NULL,
     "adam/adamw: denominator epsilon."},
    {"train.loss", HS_T_ENUM, "ce", 0, 0, 0, 0, "ce|mse",
     "Loss: softmax cross-entropy, or mean squared error against one-hot or real targets."},
    {"train.lr", HS_T_FLOAT, "0.01", 0, 1e6, HS_KEY_MIN_OPEN, 0, NULL,
     "Initial learning rate."},
    {"train.lr_drop_factor", HS_T_FLOAT, "0.1", 0, 1, HS_KEY_MIN_OPEN, 0, NULL,
     "train.schedule step: factor applied to the learning rate at each epoch in lr_drops."},
    {"train.lr_drops", HS_T_INT_LIST, "[]", 1, 1e9, 0, 1000, NULL,
     "train.schedule step: epochs (ascending) after which the learning rate is multiplied by lr_drop_factor."},
    {"train.momentum", HS_T_FLOAT, "0.9", 0, 1, HS_KEY_MAX_OPEN, 0, NULL,
     "opt momentum: momentum factor (PyTorch semantics: buf = m buf + g)."},
    {"train.nesterov", HS_T_BOOL, "false", 0, 0, 0, 0, NULL,
     "opt momentum: use Nesterov momentum."},
    {"train.opt", HS_T_ENUM, "sgd", 0, 0, 0, 0, "sgd|momentum|adam|adamw",
     "Optimiser, with PyTorch's semantics: sgd, sgd with momentum, adam (coupled L2 decay), adamw (decoupled decay)."},
    {"train.schedule", HS_T_ENUM, "step", 0, 0, 0, 0, "step|cosine",
     "Learning-rate schedule: step (drops at lr_drops; constant when empty) or cosine annealing to 0 over the epochs."},
    {"train.stop_loss", HS_T_FLOAT, "0", 0, INF, 0, 0, NULL,
     "Stop at the first record point (every record.every epochs) where the epoch-mean training loss is below this; 0 = train all epochs."},
    {"train.weight_decay", HS_T_FLOAT, "0", 0, INF, 0, 0, NULL,
     "Weight decay; coupled L2 (added to the gradient) except for adamw."},
};

#define N_KEYS (sizeof table / sizeof table[0])

/* The row of data.kind lists the registered kinds: filled from the registry before any use, so
 * a new kind appears in validation, `hsweep keys` and the README without an edit here. */
static pthread_once_t filled = PTHREAD_ONCE_INIT;
static void fill_kinds(void) {
    for (size_t i = 0; i < N_KEYS; i++)
        if (!strcmp(table[i].name, "data.kind")) {
            table[i].choices = hs_data_kind_choices();
            table[i].doc = hs_data_kind_doc();
        }
}
#define FILL() pthread_once(&filled, fill_kinds)

size_t hs_schema_count(void) { return N_KEYS; }

const hs_key *hs_schema_key(size_t i) {
    FILL();
    return i < N_KEYS ? &table[i] : NULL;
}

int hs_schema_find(const char *name) {
    size_t lo = 0, hi = N_KEYS;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, table[mid].name);
        if (c == 0) return (int)mid;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return -1;
}

int hs_schema_is_section(const char *prefix) {
    size_t n = strlen(prefix);
    if (n == 0) return 1;
    for (size_t i = 0; i < N_KEYS; i++)
        if (strncmp(table[i].name, prefix, n) == 0 && table[i].name[n] == '.') return 1;
    return 0;
}

static const char *last_part(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot ? dot + 1 : name;
}

const char *hs_schema_suggest(const char *name) {
    const char *best = NULL;
    int best_d = 1 << 30;
    for (size_t i = 0; i < N_KEYS; i++) {
        int d = hs_edit_distance(name, table[i].name);
        /* "depth" at the top level, or "train.depth", most likely meant model.depth */
        int dl = hs_edit_distance(last_part(name), last_part(table[i].name)) + 1;
        if (dl < d) d = dl;
        if (d < best_d) {
            best_d = d;
            best = table[i].name;
        }
    }
    /* A suggestion further away than a third of the word is noise, not help. */
    size_t len = strlen(last_part(name));
    int limit = len <= 4 ? 2 : (int)(len / 3) + 1;
    return best_d <= limit ? best : NULL;
}

/* ---------------------------------------------------------------- cross-key rules */

static const hs_value *get(const hs_value *const *cfg, const char *name) { return cfg[hs_schema_find(name)]; }

hs_code hs_config_check(const hs_value *const *cfg, char *why, size_t why_len) {
    const hs_value *widths = get(cfg, "model.widths"), *scales = get(cfg, "model.init_scales");
    size_t hidden = widths->n ? widths->n : (size_t)get(cfg, "model.depth")->u.i + 1;
    if (scales->n && scales->n != hidden + 1) {
        snprintf(why, why_len, "model.init_scales has %zu entries but the net has %zu dense layers (one per hidden layer plus the readout)",
                 scales->n, hidden + 1);
        return HS_ERR_VALUE;
    }
    const hs_value *drops = get(cfg, "train.lr_drops");
    for (size_t i = 1; i < drops->n; i++)
        if (drops->u.il[i] <= drops->u.il[i - 1]) {
            snprintf(why, why_len, "train.lr_drops must be strictly increasing, got %lld after %lld", drops->u.il[i],
                     drops->u.il[i - 1]);
            return HS_ERR_VALUE;
        }
    const hs_value *counts = get(cfg, "data.class_counts");
    const hs_data_kind *kind = hs_data_kind_find(get(cfg, "data.kind")->u.s);
    long long classes = !kind ? 10 : kind->classes ? kind->classes : get(cfg, "data.classes")->u.i;
    if (counts->n && (long long)counts->n != classes) {
        snprintf(why, why_len, "data.class_counts has %zu entries but data.kind %s has %lld classes", counts->n,
                 get(cfg, "data.kind")->u.s, classes);
        return HS_ERR_VALUE;
    }
    return HS_OK;
}

/* ---------------------------------------------------------------- documentation */

static void range_text(const hs_key *k, char *buf, size_t len) {
    buf[0] = '\0';
    if (k->type == HS_T_ENUM) {
        snprintf(buf, len, "%s", k->choices);
        return;
    }
    if (k->type == HS_T_BOOL || k->type == HS_T_STR) return;
    char lo[32], hi[32];
    hs_format_double(k->min, lo, sizeof lo);
    hs_format_double(k->max, hi, sizeof hi);
    int has_lo = isfinite(k->min), has_hi = isfinite(k->max);
    const char *ge = (k->flags & HS_KEY_MIN_OPEN) ? ">" : ">=";
    const char *le = (k->flags & HS_KEY_MAX_OPEN) ? "<" : "<=";
    if (has_lo && has_hi) snprintf(buf, len, "%s %s, %s %s", ge, lo, le, hi);
    else if (has_lo) snprintf(buf, len, "%s %s", ge, lo);
    else if (has_hi) snprintf(buf, len, "%s %s", le, hi);
}

hs_code hs_schema_describe(hs_keys_format fmt, hs_str *out) {
    hs_code rc = HS_OK;
    if (fmt == HS_KEYS_MARKDOWN)
        rc = hs_str_printf(out, "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n");
    else if (fmt == HS_KEYS_TSV)
        rc = hs_str_printf(out, "key\ttype\tdefault\tallowed\tmeaning\n");
    for (size_t i = 0; i < N_KEYS && rc == HS_OK; i++) {
        FILL();
        const hs_key *k = &table[i];
        char range[320]; /* room for the markdown form, which widens each '|' to ", " */
        range_text(k, range, sizeof range / 2);
        const char *def = k->def[0] ? k->def : "\"\"";
        switch (fmt) {
        case HS_KEYS_MARKDOWN:
            for (char *bar = strchr(range, '|'); bar; bar = strchr(bar, '|')) { /* '|' would split the cell */
                memmove(bar + 2, bar + 1, strlen(bar + 1) + 1);
                bar[0] = ',', bar[1] = ' ';
            }
            rc = hs_str_printf(out, "| `%s` | %s | `%s` | %s | ", k->name, hs_type_to_string(k->type), def, range);
            for (const char *p = k->doc; rc == HS_OK && *p; p++) /* a '|' in the text would split the cell */
                rc = *p == '|' ? hs_str_printf(out, "&#124;") : hs_str_printf(out, "%c", *p);
            if (rc == HS_OK) rc = hs_str_printf(out, " |\n");
            break;
        case HS_KEYS_TSV:
            rc = hs_str_printf(out, "%s\t%s\t%s\t%s\t%s\n", k->name, hs_type_to_string(k->type), def, range,
                               k->doc);
            break;
        case HS_KEYS_TEXT:
            rc = hs_str_printf(out, "%-22s %-10s default %-10s %s\n%24s%s\n", k->name, hs_type_to_string(k->type),
                               def, range, "", k->doc);
            break;
        }
    }
    return rc;
}
