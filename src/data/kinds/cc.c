/* cc.c - the data kind cc: He & Su's CIFAR-10, the green plane resized to 10x10 (data.resize) and normalised
 * with the channel's mean and std: 100 dims (include/hsweep/data.h).
 */
#include "../internal.h"

static const hs_image_spec spec = {.name = "CIFAR-10",
                                   .cifar = 1,
                                   .hint = HS_CIFAR_HINT,
                                   .src_c = 3,
                                   .src_h = 32,
                                   .src_w = 32,
                                   .first = 1,
                                   .channels = 1,
                                   .out_h = 10,
                                   .out_w = 10,
                                   .mean = {0.4822},
                                   .std = {0.243}};

HS_IMAGE_KIND(cc, &spec, "CIFAR-10 resized to 10x10, mean/std normalised, green channel (He & Su)", 2);
