/* cnet_archs.c - the architectures of nets.h as layer lists: VGG-11/16, ResNet-18/34 and
 * EfficientNet-B0, CIFAR variants (Petrini et al.'s models, which Tomasini & Wyart adapt to 1-D
 * SRHM inputs), and He & Su's modified VGG-13 and AlexNet (the equi-separation law on conv nets).
 * Each adds its layers through the builder (cnet_internal.h); the builder checks the shapes and
 * counts parameters, multiply-adds and buffers as they come. */
#include "cnet_internal.h"

static int ch(const hs_cnet_opts *o, int c) { return hs_cnet_channels(c, o->width_mult); }

/* ================================================================ VGG */

#define M 0 /* a max-pool in the tables */
static const int vgg11_cfg[] = {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};
static const int vgg16_cfg[] = {64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M};

/* [conv k3 pad 1 (bias) -> BN -> ReLU] per number, max-pool k2 s2 per M unless a pooled dimension
 * is already 1 (the 1-D net pools the positions only), [dropout], Linear on what is left. */
static hs_code vgg(hs_cnet_builder *b, const hs_cnet_opts *o, const int *cfg, int n, hs_error *err) {
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (cfg[i] != M) {
            x = cb_act(b, CN_RELU, cb_conv_bn(b, x, ch(o, cfg[i]), 3, 1, 1, 1, 1), 1);
            continue;
        }
        const cnet_value *v = cb_value(b, x);
        if (v && v->W >= 2 && (b->one_d || v->H >= 2)) x = cb_maxpool(b, x);
    }
    cb_linear(b, cb_dropout(b, x, cnet_dropout_of(o)), o->out_dim);
    return b->failed ? err->code : HS_OK;
}

static hs_code build_vgg11(hs_cnet_builder *b, const hs_cnet_opts *o, hs_error *err) {
    return vgg(b, o, vgg11_cfg, (int)(sizeof vgg11_cfg / sizeof *vgg11_cfg), err);
}
static hs_code build_vgg16(hs_cnet_builder *b, const hs_cnet_opts *o, hs_error *err) {
    return vgg(b, o, vgg16_cfg, (int)(sizeof vgg16_cfg / sizeof *vgg16_cfg), err);
}

const hs_cnet_arch hs_cnet_vgg11 = {"vgg11", 8, 0, 0, build_vgg11};
const hs_cnet_arch hs_cnet_vgg16 = {"vgg16", 13, 0, 0, build_vgg16};

/* ================================================================ ResNet */

/* relu(bn(conv3(relu(bn(conv3 with the stride(x))))) + shortcut(x)); the shortcut is conv 1x1
 * with the stride + BN when the stride or the width changes, x itself otherwise. */
static int basic_block(hs_cnet_builder *b, int x, int planes, int stride) {
    const cnet_value *v = cb_value(b, x);
    const int in_planes = v ? v->C : planes;
    int h = cb_act(b, CN_RELU, cb_conv_bn(b, x, planes, 3, stride, 1, 1, 0), 1);
    h = cb_conv_bn(b, h, planes, 3, 1, 1, 1, 0);
    int s = stride != 1 || in_planes != planes ? cb_conv_bn(b, x, planes, 1, stride, 0, 1, 0) : x;
    return cb_act(b, CN_RELU, cb_add(b, h, s), 1);
}

static hs_code resnet(hs_cnet_builder *b, const hs_cnet_opts *o, const int blocks[4], hs_error *err) {
    static const int planes[4] = {64, 128, 256, 512}, strides[4] = {1, 2, 2, 2};
    int x = cb_act(b, CN_RELU, cb_conv_bn(b, 0, ch(o, 64), 3, 1, 1, 1, 0), 1);
    for (int s = 0; s < 4; s++)
        for (int k = 0; k < blocks[s]; k++) x = basic_block(b, x, ch(o, planes[s]), k == 0 ? strides[s] : 1);
    cb_linear(b, cb_dropout(b, cb_gap(b, x), cnet_dropout_of(o)), o->out_dim);
    return b->failed ? err->code : HS_OK;
}

static hs_code build_resnet18(hs_cnet_builder *b, const hs_cnet_opts *o, hs_error *err) {
    static const int blocks[4] = {2, 2, 2, 2};
    return resnet(b, o, blocks, err);
}
static hs_code build_resnet34(hs_cnet_builder *b, const hs_cnet_opts *o, hs_error *err) {
    static const int blocks[4] = {3, 4, 6, 3};
    return resnet(b, o, blocks, err);
}

const hs_cnet_arch hs_cnet_resnet18 = {"resnet18", 1 + 2 * 8, 0, 0, build_resnet18};
const hs_cnet_arch hs_cnet_resnet34 = {"resnet34", 1 + 2 * 16, 0, 0, build_resnet34};

/* ================================================================ EfficientNet-B0 */

/* Squeeze-excite on x (C channels): global average, conv 1x1 to se channels (bias), SiLU, conv
 * 1x1 back to C (bias), sigmoid, and x scaled per channel by the gate. */
static int squeeze_excite(hs_cnet_builder *b, int x, int se) {
    const cnet_value *v = cb_value(b, x);
    const int C = v ? v->C : 1;
    int g = cb_act(b, CN_SILU, cb_conv(b, cb_gap(b, x), se, 1, 1, 0, 1, 1), 1);
    g = cb_act(b, CN_SIGMOID, cb_conv(b, g, C, 1, 1, 0, 1, 1), 1);
    return cb_scale(b, x, g);
}

/* MBConv: [expand 1x1, BN, SiLU] (e > 1), depthwise k with the stride, BN, SiLU, squeeze-excite
 * to floor(C_in / 4) channels (at least 1), project 1x1, BN, + x when the shape is kept, the
 * branch under drop-path at rate drop (stream `block`). */
static int mbconv(hs_cnet_builder *b, int x, int e, int out, int k, int stride, double drop, int block) {
    const cnet_value *v = cb_value(b, x);
    const int in = v ? v->C : out, C = e * in, se = in / 4 > 0 ? in / 4 : 1;
    int h = e == 1 ? x : cb_act(b, CN_SILU, cb_conv_bn(b, x, C, 1, 1, 0, 1, 0), 1);
    h = cb_act(b, CN_SILU, cb_conv_bn(b, h, C, k, stride, k / 2, C, 0), 1);
    h = cb_conv_bn(b, squeeze_excite(b, h, se), out, 1, 1, 0, 1, 0);
    return stride == 1 && in == out ? cb_add(b, cb_droppath(b, h, drop, block), x) : h;
}

static hs_code build_effnet_b0(hs_cnet_builder *b, const hs_cnet_opts *o, hs_error *err) {
    static const struct {
        int e, c, n, k, s;
    } stages[] = {{1, 16, 1, 3, 1},  {6, 24, 2, 3, 2},  {6, 40, 2, 5, 2}, {6, 80, 3, 3, 2},
                  {6, 112, 3, 5, 1}, {6, 192, 4, 5, 2}, {6, 320, 1, 3, 1}};
    int x = cb_act(b, CN_SILU, cb_conv_bn(b, 0, ch(o, 32), 3, 1, 1, 1, 0), 1);
    enum { BLOCKS = 16 };
    int j = 0; /* the block's number: its drop-path rate grows linearly, as the authors' code */
    for (size_t s = 0; s < sizeof stages / sizeof stages[0]; s++)
        for (int r = 0; r < stages[s].n; r++, j++)
            x = mbconv(b, x, stages[s].e, ch(o, stages[s].c), stages[s].k, r == 0 ? stages[s].s : 1,
                       o->drop_connect * j / BLOCKS, j);
    cb_linear(b, cb_dropout(b, cb_gap(b, x), cnet_dropout_of(o)), o->out_dim);
    return b->failed ? err->code : HS_OK;
}

/* nodes: the stem's SiLU, per block (16) the expansion's SiLU (all but the first), the
 * depthwise conv's SiLU, and squeeze-excite's SiLU and sigmoid */
const hs_cnet_arch hs_cnet_effnet_b0 = {"effnet_b0", 1 + 15 + 3 * 16, 0.2, 1, build_effnet_b0};

/* ================================================================ He & Su's VGG-13 and AlexNet */

/* Linear(features, out) -> BN (when the net has BN) -> ReLU, a node: the fully connected blocks
 * of the two nets below, on the flattened map (BN over the out features, BatchNorm1d). */
static int fc_bn_relu(hs_cnet_builder *b, int x, int out) {
    int h = cb_linear(b, x, out);
    return cb_act(b, CN_RELU, b->o.batch_norm ? cb_bn(b, h) : h, 1);
}

/* conv k5 pad 2 (bias) -> BN -> ReLU, a node */
static int conv5(hs_cnet_builder *b, int x, int out) {
    return cb_act(b, CN_RELU, cb_conv_bn(b, x, out, 5, 1, 2, 1, 1), 1);
}

static const int vgg13_es_cfg[] = {64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};

/* The input tiled 16 times along the channels (so the first conv sees 16 or 48 channels), the
 * VGG-13 plan with kernel 5, a max-pool k2 s2 per M unless a pooled dimension is already 1, then
 * two fully connected blocks of 4096 and the readout. */
static hs_code build_vgg13_es(hs_cnet_builder *b, const hs_cnet_opts *o, hs_error *err) {
    int x = cb_tile(b, 0, 16);
    for (size_t i = 0; i < sizeof vgg13_es_cfg / sizeof *vgg13_es_cfg; i++) {
        if (vgg13_es_cfg[i] != M) {
            x = conv5(b, x, ch(o, vgg13_es_cfg[i]));
            continue;
        }
        const cnet_value *v = cb_value(b, x);
        if (v && v->W >= 2 && (b->one_d || v->H >= 2)) x = cb_maxpool(b, x);
    }
    x = fc_bn_relu(b, fc_bn_relu(b, x, ch(o, 4096)), ch(o, 4096));
    cb_linear(b, cb_dropout(b, x, cnet_dropout_of(o)), o->out_dim);
    return b->failed ? err->code : HS_OK;
}

/* The input tiled 32 times; five conv k5 blocks (64, 192, 384, 256, 256), max-pool k3 s2 pad 1
 * after the first, the second and the fifth (32 -> 16 -> 8 -> 4), then two fully connected
 * blocks of 4096 on the flattened map (256 x 4 x 4 = 4096 at 32 x 32) and the readout. */
static hs_code build_alexnet_es(hs_cnet_builder *b, const hs_cnet_opts *o, hs_error *err) {
    static const int plan[5] = {64, 192, 384, 256, 256}, pooled[5] = {1, 1, 0, 0, 1};
    int x = cb_tile(b, 0, 32);
    for (int i = 0; i < 5; i++) {
        x = conv5(b, x, ch(o, plan[i]));
        if (pooled[i]) x = cb_pool(b, x, 3, 2, 1);
    }
    x = fc_bn_relu(b, fc_bn_relu(b, x, ch(o, 4096)), ch(o, 4096));
    cb_linear(b, cb_dropout(b, x, cnet_dropout_of(o)), o->out_dim);
    return b->failed ? err->code : HS_OK;
}

/* nodes: every conv's ReLU and the two fully connected blocks' (the tiled input is not a node:
 * tiling leaves D unchanged, so the measured input stands for it) */
const hs_cnet_arch hs_cnet_vgg13_es = {"vgg13_es", 10 + 2, 0, 0, build_vgg13_es};
const hs_cnet_arch hs_cnet_alexnet_es = {"alexnet_es", 5 + 2, 0, 0, build_alexnet_es};
