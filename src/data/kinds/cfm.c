/* cfm.c - the data kind cfm: He & Su's Fashion-MNIST, resized to 10x10 (data.resize) and scaled to [-1, 1]:
 * 100 dims (include/hsweep/data.h).
 */
#include "../internal.h"

static hs_code shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) { return hs_image_shape(&hs_image_fashion_10x10, o, out, err); }

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    return hs_image_load(&hs_image_fashion_10x10, o, train, test, err);
}

static hs_code check_files(const hs_data_opts *o, hs_error *err) { return hs_image_check_files(&hs_image_fashion_10x10, o, 0, err); }

const hs_data_kind hs_data_kind_cfm = {
    .name = "cfm",
    .doc = "Fashion-MNIST resized to 10x10 and scaled to [-1,1] (He & Su)",
    .code = 0,
    .classes = HS_IMAGE_CLASSES,
    .shape = shape,
    .load = load,
    .check_files = check_files,
};
