/* cm.c - the data kind cm: He & Su's MNIST, resized to 10x10 (data.resize) and scaled to [-1, 1]: 100 dims
 * (include/hsweep/data.h).
 */
#include "../internal.h"

static const hs_image_spec spec = {.name = "MNIST",
                                   .default_dir = HS_MNIST_DIR,
                                   .hint = HS_MNIST_HINT,
                                   .src_c = 1,
                                   .src_h = 28,
                                   .src_w = 28,
                                   .channels = 1,
                                   .out_h = 10,
                                   .out_w = 10,
                                   .mean = {0.5},
                                   .std = {0.5}};

HS_IMAGE_KIND(cm, &spec, "MNIST resized to 10x10 and scaled to [-1,1] (He & Su)", 1);
