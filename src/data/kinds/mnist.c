/* mnist.c - the data kind mnist: MNIST resized to 32x32 (bilinear), normalised with its mean 0.1307
 * and std 0.3081: 1024 dims, the conventions of fashion_mnist on MNIST's IDX files (data.path, or
 * /usr/share/datasets/mnist; include/hsweep/data.h).
 */
#include "../internal.h"

static const hs_image_spec spec = {.name = "MNIST",
                                   .default_dir = HS_MNIST_DIR,
                                   .hint = HS_MNIST_HINT,
                                   .src_c = 1,
                                   .src_h = 28,
                                   .src_w = 28,
                                   .channels = 1,
                                   .out_h = 32,
                                   .out_w = 32,
                                   .fixed_bilinear = 1,
                                   .mean = {0.1307},
                                   .std = {0.3081}};

HS_IMAGE_KIND(mnist, &spec, "MNIST at 32x32, normalised", 13);
