/* resnet.c - model kinds "resnet18" and "resnet34": CIFAR-style ResNets of BasicBlocks (nets.h), on
 * images or on 1-D [channels x positions] inputs such as the SRHM's. */
#include "cnet_kind.h"

CNET_KIND(resnet18, hs_cnet_resnet18, "ResNet-18 (stem conv k3 s1, BasicBlocks [2 2 2 2], global average pool, Linear)");
CNET_KIND(resnet34, hs_cnet_resnet34, "ResNet-34 (stem conv k3 s1, BasicBlocks [3 4 6 3], global average pool, Linear)");
