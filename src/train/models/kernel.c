/* kernel.c - model kind "kernel": kernel ridge regression (kernel.h), solved in closed form by
 * the scheduler on all ranks together rather than trained here; the entry describes and costs it
 * and gives its results' shape. */
#include <stdio.h>

#include "hsweep/models.h"

static void describe(const hs_train_config *c, char *buf, size_t size) {
    static const char *const names[] = {"laplace", "gaussian", "ntk"};
    snprintf(buf, size, "kernel %s, ridge %g",
             (unsigned)c->kernel_kind < sizeof names / sizeof names[0] ? names[c->kernel_kind] : "?", c->ridge);
}

static hs_code create(hs_model *m, const hs_train_config *c, const hs_dataset *train, int max_batch, hs_error *err) {
    (void)m, (void)c, (void)train, (void)max_batch;
    return HS_FAIL(err, HS_ERR_USAGE, "model.arch kernel is solved on all ranks together: use `hsweep run` (under "
                                      "mpirun for several ranks), not a single training");
}

/* the per-layer table keeps the hierarchy's shape, though a kernel run fills none of it */
static size_t layers(const hs_train_config *c) { return (size_t)c->data.L + 1; }

static int weights(const hs_train_config *c, const hs_data_shape *sh, int out, int *rows, int *cols, int cap) {
    (void)c, (void)sh, (void)out, (void)rows, (void)cols, (void)cap;
    return 0;
}

/* the Gram matrix (2 n^2 dim) and its Cholesky factor (n^3 / 3) */
static double flops(const hs_train_config *c, const hs_data_shape *sh) {
    (void)c;
    double n = (double)sh->n_train;
    return n * n * n / 3 + 2 * n * n * sh->dim;
}

/* the n x n kernel matrix in double, spread over the ranks (ScaLAPACK) or held by one */
static double bytes(const hs_train_config *c, const hs_data_shape *sh, int max_batch) {
    (void)c, (void)max_batch;
    return 8.0 * (double)sh->n_train * (double)sh->n_train;
}

const hs_model_kind hs_model_kind_kernel = {
    .name = "kernel",
    .summary = "kernel ridge regression (model.kernel: laplace, gaussian or the ntk), solved, not trained",
    .flags = HS_MODEL_SOLVED,
    .describe = describe,
    .create = create,
    .layers = layers,
    .weights = weights,
    .flops = flops,
    .bytes = bytes,
};
