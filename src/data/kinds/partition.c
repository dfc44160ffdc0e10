/* partition.c - the data kind partition: the control of hierarchy: the same examples hung from unconnected class
 * nodes, so the labels carry no tree (include/hsweep/data.h, "hierarchical category data").
 */
#include "../internal.h"

static hs_code shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) { return hs_category_shape(o, 0, out, err); }

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    return hs_category_load(o, 0, train, test, err);
}

const hs_data_kind hs_data_kind_partition = {
    .name = "partition",
    .doc = "the unstructured control of hierarchy",
    .code = 9,
    .flags = HS_DATA_KIND_LABEL_LEVELS,
    .classes = 10,
    .shape = shape,
    .load = load,
};
