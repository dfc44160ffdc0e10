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

static hs_code shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) { return hs_image_shape(&spec, o, out, err); }

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    return hs_image_load(&spec, o, train, test, err);
}

static hs_code check_files(const hs_data_opts *o, hs_error *err) { return hs_image_check_files(&spec, o, 0, err); }

const hs_data_kind hs_data_kind_cc = {
    .name = "cc",
    .doc = "CIFAR-10 resized to 10x10, mean/std normalised, green channel (He & Su)",
    .code = 2,
    .classes = HS_IMAGE_CLASSES,
    .shape = shape,
    .load = load,
    .check_files = check_files,
};
