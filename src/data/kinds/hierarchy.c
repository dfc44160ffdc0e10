/* hierarchy.c - the data kind hierarchy: tree-structured Gaussian categories with labels at every level (the
 * Kemp & Tenenbaum prior; include/hsweep/data.h, "hierarchical category data").
 */
#include "../internal.h"

static hs_code shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) { return hs_category_shape(o, 1, out, err); }

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    return hs_category_load(o, 1, train, test, err);
}

const hs_data_kind hs_data_kind_hierarchy = {
    .name = "hierarchy",
    .doc = "tree-structured Gaussian categories with labels at every level",
    .code = 8,
    .flags = HS_DATA_KIND_LABEL_LEVELS,
    .classes = 10,
    .shape = shape,
    .load = load,
};
