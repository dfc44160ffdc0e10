/* vgg.c - model kinds "vgg11" and "vgg16": VGG with BatchNorm, CIFAR variant (nets.h), on images or
 * on 1-D [channels x positions] inputs such as the SRHM's. */
#include "cnet_kind.h"

CNET_KIND(vgg11, hs_cnet_vgg11, "VGG-11 with BatchNorm (8 conv-BN-ReLU, max-pools, Linear), model.width_mult");
CNET_KIND(vgg16, hs_cnet_vgg16, "VGG-16 with BatchNorm (13 conv-BN-ReLU, max-pools, Linear), model.width_mult");
