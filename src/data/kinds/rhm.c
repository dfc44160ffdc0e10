/* rhm.c - the data kind rhm: the Random Hierarchy Model, the SRHM without empty slots (data.s0 must be 0,
 * data.sparsity is not used; include/hsweep/data.h).
 */
#include "../internal.h"

static hs_code shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) { return hs_rhm_data_shape(o, 0, out, err); }

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    return hs_rhm_data_load(o, 0, train, test, err);
}

static int rules(const hs_data_opts *o, hs_rhm_opts *out) { return hs_rhm_data_rules(o, 0, out); }

static hs_code check(const hs_data_opts *o, hs_error *err) { return hs_rhm_data_check(o, 0, err); }

const hs_data_kind hs_data_kind_rhm = {
    .name = "rhm",
    .doc = "the Random Hierarchy Model (Cagnetta et al. 2024)",
    .code = 6,
    .classes = 10,
    .shape = shape,
    .load = load,
    .check = check,
    .patch = hs_rhm_data_patch,
    .rules = rules,
};
