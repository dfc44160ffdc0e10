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

static hs_code shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) { return hs_image_shape(&spec, o, out, err); }

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    return hs_image_load(&spec, o, train, test, err);
}

static hs_code check_files(const hs_data_opts *o, hs_error *err) { return hs_image_check_files(&spec, o, 0, err); }

const hs_data_kind hs_data_kind_fashion_mnist = {
    .name = "fashion_mnist",
    .doc = "Fashion-MNIST at 32x32, normalised",
    .code = 3,
    .classes = HS_IMAGE_CLASSES,
    .shape = shape,
    .load = load,
    .check_files = check_files,
};
