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

static hs_code shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) { return hs_image_shape(&spec, o, out, err); }

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    return hs_image_load(&spec, o, train, test, err);
}

static hs_code check_files(const hs_data_opts *o, hs_error *err) { return hs_image_check_files(&spec, o, 0, err); }

const hs_data_kind hs_data_kind_cm = {
    .name = "cm",
    .doc = "MNIST resized to 10x10 and scaled to [-1,1] (He & Su)",
    .code = 1,
    .classes = HS_IMAGE_CLASSES,
    .shape = shape,
    .load = load,
    .check_files = check_files,
};
