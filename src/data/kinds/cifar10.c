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

static hs_code shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) { return hs_image_shape(&spec, o, out, err); }

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    return hs_image_load(&spec, o, train, test, err);
}

static hs_code check_files(const hs_data_opts *o, hs_error *err) { return hs_image_check_files(&spec, o, 0, err); }

const hs_data_kind hs_data_kind_cifar10 = {
    .name = "cifar10",
    .doc = "CIFAR-10 at 3x32x32, normalised",
    .code = 4,
    .classes = HS_IMAGE_CLASSES,
    .shape = shape,
    .load = load,
    .check_files = check_files,
};
