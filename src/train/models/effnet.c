/* effnet.c - model kind "effnet_b0": EfficientNet-B0, CIFAR variant (MBConv blocks with
 * squeeze-excite, SiLU, dropout 0.2 before the readout; nets.h), on images or on 1-D
 * [channels x positions] inputs such as the SRHM's. */
#include "cnet_kind.h"

CNET_KIND(effnet_b0, hs_cnet_effnet_b0, "EfficientNet-B0, CIFAR variant (MBConv + squeeze-excite, SiLU, dropout 0.2)");
