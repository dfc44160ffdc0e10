/* cifar10.c - the data kind cifar10: CIFAR-10 as stored, 3x32x32, each channel normalised with its mean and
 * std: 3072 dims in channel planes (include/hsweep/data.h).
 */
#include "../internal.h"

static const hs_image_spec spec = {.name = "CIFAR-10",
                                   .cifar = 1,
                                   .hint = HS_CIFAR_HINT,
                                   .src_c = 3,
                                   .src_h = 32,
                                   .src_w = 32,
                                   .channels = 3,
                                   .out_h = 32,
                                   .out_w = 32,
                                   .mean = {0.4914, 0.4822, 0.4465},
                                   .std = {0.247, 0.243, 0.261}};

HS_IMAGE_KIND(cifar10, &spec, "CIFAR-10 at 3x32x32, normalised", 4);
