/* tasks.c - what the small tasks of the learning-dynamics experiments share (the "xor, the
 * routing task" section of include/hsweep/data.h): a test set fixed by the task, and the routing
 * of gated deep linear networks (which pathways are trained, and the rows of both sets). The
 * tasks themselves are kinds: kinds/xor.c, kinds/gated_toy.c, kinds/gated_fmnist.c.
 *
 * These sets carry real targets t (MSE against t rather than one-hot(y)); y is kept meaningful
 * (the sign class for XOR, the item for the toy, the permuted label for Fashion-MNIST) so that
 * accuracies and per-class tools still work.
 */
#include "internal.h"

hs_code hs_task_refuse_n_test(const hs_data_opts *o, const char *instead, hs_error *err) {
    if (o->n_test == 0) return HS_OK;
    HS_FAIL(err, HS_ERR_VALUE, "data.n_test = %lld with data.kind %s: the test set is fixed by the task", o->n_test,
            o->kind);
    return hs_error_hint(err, "%s", instead);
}

/* Pathway i -> j is trained under "K plus-minus mod": (j - i) mod M in [-floor((K-1)/2), floor(K/2)]. */
int hs_gate_active(int M, int K, int i, int j) {
    int offset = ((j - i) % M + M) % M;
    return offset <= K / 2 || offset >= M - (K - 1) / 2;
}

hs_code hs_gate_check(const hs_data_opts *o, hs_error *err) {
    HS_TRY(err, hs_task_refuse_n_test(o, "the test rows are the inactive pathways (set data.active)", err));
    if (o->modules < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.modules = %d: needs >= 1 module", o->modules);
    if (o->modules > HS_GATED_MAX_MODULES)
        return HS_FAIL(err, HS_ERR_LIMIT, "data.modules = %d: more than %d", o->modules, HS_GATED_MAX_MODULES);
    if (o->active < 1 || o->active > o->modules)
        return HS_FAIL(err, HS_ERR_VALUE, "data.active = %d with data.modules = %d: must be in 1..%d", o->active,
                       o->modules, o->modules);
    return HS_OK;
}

hs_code hs_gate_alloc(const hs_data_opts *o, long long items, int dim, int t_dim, int classes, hs_dataset *train,
                      hs_dataset *test, hs_error *err) {
    long long M = o->modules, K = o->active;
    HS_TRY(err, hs_data_alloc(train, items * M * K, dim, t_dim, classes, err));
    HS_TRY(err, hs_data_alloc(test, items * M * (M - K), dim, t_dim, classes, err));
    train->modules = test->modules = o->modules;
    return HS_OK;
}
