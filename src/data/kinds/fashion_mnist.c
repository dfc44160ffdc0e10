/* fashion_mnist.c - the data kind fashion_mnist: Fashion-MNIST resized to 32x32 (bilinear), normalised with its mean
 * 0.2860 and std 0.3530: 1024 dims (include/hsweep/data.h).
 */
#include "../internal.h"

static const hs_image_spec spec = {.name = "Fashion-MNIST",
                                   .default_dir = HS_FASHION_MNIST_DIR,
                                   .hint = HS_FASHION_HINT,
                                   .src_c = 1,
                                   .src_h = 28,
                                   .src_w = 28,
                                   .channels = 1,
                                   .out_h = 32,
                                   .out_w = 32,
                                   .fixed_bilinear = 1,
                                   .mean = {0.2860},
                                   .std = {0.3530}};

HS_IMAGE_KIND(fashion_mnist, &spec, "Fashion-MNIST at 32x32, normalised", 3);
