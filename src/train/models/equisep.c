/* equisep.c - model kinds "vgg13_es" and "alexnet_es": He & Su's modified VGG-13 and AlexNet
 * (tiled input, conv k5 + BN + ReLU, two fully connected BN blocks; nets.h), whose measured layers
 * are the input and every ReLU, the points of the equi-separation law on conv nets. */
#include "cnet_kind.h"

CNET_KIND(vgg13_es, hs_cnet_vgg13_es,
          "He & Su's VGG-13 (input tiled x16, 10 conv5-BN-ReLU, 2 Linear-BN-ReLU, Linear), model.width_mult");
CNET_KIND(alexnet_es, hs_cnet_alexnet_es,
          "He & Su's AlexNet (input tiled x32, 5 conv5-BN-ReLU, 2 Linear-BN-ReLU, Linear), model.width_mult");
