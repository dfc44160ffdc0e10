/* srhm.c - the data kind srhm: the Sparse Random Hierarchy Model, data.s0 empty slots per informative
 * child placed by data.sparsity (include/hsweep/data.h).
 */
#include "../internal.h"

static hs_code shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) { return hs_rhm_data_shape(o, 1, out, err); }

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    return hs_rhm_data_load(o, 1, train, test, err);
}

static int rules(const hs_data_opts *o, hs_rhm_opts *out) { return hs_rhm_data_rules(o, 1, out); }

static hs_code check(const hs_data_opts *o, hs_error *err) { return hs_rhm_data_check(o, 1, err); }

const hs_data_kind hs_data_kind_srhm = {
    .name = "srhm",
    .doc = "the Sparse Random Hierarchy Model (Tomasini & Wyart 2024)",
    .code = 7,
    .classes = 10,
    .shape = shape,
    .load = load,
    .check = check,
    .patch = hs_rhm_data_patch,
    .rules = rules,
};
