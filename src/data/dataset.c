/* dataset.c - the public entry points of data/ (include/hsweep/data.h): each looks o's kind up in
 * the registry and hands over to the kind's hooks; what every kind shares (data.zca, freeing the
 * sets on failure) happens here, once.
 */
#include <stddef.h>

#include "hsweep/data.h"

static hs_code kind_of(const hs_data_opts *o, const hs_data_kind **k, hs_error *err) {
    HS_TRY(err, hs_data_kind_lookup(o->kind, k, err));
    return HS_OK;
}

hs_code hs_data_shape_of(const hs_data_opts *o, hs_data_shape *out, hs_error *err) {
    if (!o || !out) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_shape_of: o and out must not be NULL");
    *out = (hs_data_shape){0};
    const hs_data_kind *k;
    HS_TRY(err, kind_of(o, &k, err));
    HS_TRY(err, k->shape(o, out, err));
    return HS_OK;
}

hs_code hs_data_check_files(const hs_data_opts *o, hs_error *err) {
    if (!o) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_check_files: o must not be NULL");
    const hs_data_kind *k;
    HS_TRY(err, kind_of(o, &k, err));
    return k->check_files ? k->check_files(o, err) : HS_OK;
}

hs_code hs_data_check(const hs_data_opts *o, hs_error *err) {
    if (!o) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_check: o must not be NULL");
    const hs_data_kind *k;
    HS_TRY(err, kind_of(o, &k, err));
    return k->check ? k->check(o, err) : HS_OK;
}

int hs_data_patch(const hs_data_opts *o) {
    const hs_data_kind *k = o ? hs_data_kind_find(o->kind) : NULL;
    return k && k->patch ? k->patch(o) : 0;
}

int hs_data_rules(const hs_data_opts *o, struct hs_rhm_opts *out) {
    const hs_data_kind *k = o ? hs_data_kind_find(o->kind) : NULL;
    return k && k->rules ? k->rules(o, out) : 0;
}

hs_code hs_data_load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    if (!o || !train || !test) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_data_load: o, train and test must not be NULL");
    *train = (hs_dataset){0};
    *test = (hs_dataset){0};
    const hs_data_kind *k;
    HS_TRY(err, kind_of(o, &k, err));
    hs_code rc = k->load(o, train, test, err);
    if (rc == HS_OK && o->zca) rc = hs_data_zca(train, test, 1e-10, err);
    if (rc != HS_OK) {
        hs_dataset_free(train);
        hs_dataset_free(test);
        hs_error_trace(err, __FILE__, __LINE__);
    }
    return rc;
}
