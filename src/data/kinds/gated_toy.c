/* gated_toy.c - the data kind gated_toy: the routing task of gated deep linear networks on the
 * 4-item toy of Saxe, Sodhani & Lewallen (include/hsweep/data.h, "xor, the routing task").
 */
#include <string.h>

#include "../internal.h"

static const float toy_y[4][7] = {
    {6, 4, 0, 3, 0, 0, 0}, {6, 4, 0, 0, 3, 0, 0}, {6, 0, 4, 0, 0, 3, 0}, {6, 0, 4, 0, 0, 0, 3}};

static hs_code load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err) {
    HS_TRY(err, hs_gate_check(o, err));
    HS_TRY(err, hs_gate_alloc(o, 4, 6, 7, 4, train, test, err));
    int M = o->modules, K = o->active;
    long long n[2] = {0, 0};
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            int a = hs_gate_active(M, K, i, j);
            hs_dataset *d = a ? train : test;
            for (int item = 0; item < 4; item++) {
                long long r = n[a]++;
                float *x = d->x + r * 6;
                for (int k = 0; k < 4; k++) x[k] = k == item ? 1.0f : 0.0f;
                x[4] = (float)i;
                x[5] = (float)j;
                memcpy(d->t + r * 7, toy_y[item], sizeof toy_y[item]);
                d->y[r] = item;
            }
        }
    return HS_OK;
}

static hs_code shape(const hs_data_opts *o, hs_data_shape *out, hs_error *err) {
    long long M = o->modules, K = o->active;
    HS_TRY(err, hs_gate_check(o, err));
    *out = (hs_data_shape){.dim = 6, .classes = 4, .t_dim = 7, .n_train = 4 * M * K, .n_test = 4 * M * (M - K),
                           .modules = (int)M};
    return HS_OK;
}

const hs_data_kind hs_data_kind_gated_toy = {
    .name = "gated_toy",
    .doc = "the routing task of gated deep linear networks on 4 items (rows are item x pathway pairs)",
    .code = 11,
    .flags = HS_DATA_KIND_GATED_THEORY,
    .classes = 10,
    .shape = shape,
    .load = load,
};
