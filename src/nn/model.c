/* model.c - the MLP behind the generic hs_model interface (see include/hsweep/nn.h). */
#include <stdlib.h>
#include <string.h>

#include "hsweep/nn.h"

static hs_mlp *mlp(const hs_model *m) { return (hs_mlp *)m->impl; }

static const float *mlp_forward(hs_model *m, const float *x, int B, hs_mode mode) {
    return hs_mlp_forward(mlp(m), x, B, mode);
}
static void mlp_backward(hs_model *m, const float *dlogits, int B) { hs_mlp_backward(mlp(m), dlogits, B); }
static const float *mlp_hidden(const hs_model *m, int l) { return hs_mlp_hidden(mlp(m), l); }
static size_t mlp_state_size(const hs_model *m) { return hs_mlp_state_size(mlp(m)); }
static void mlp_state_get(const hs_model *m, float *s) { hs_mlp_state_get(mlp(m), s); }
static void mlp_state_set(hs_model *m, const float *s) { hs_mlp_state_set(mlp(m), s); }
/* The running means and variances are one contiguous run in the block (hs_mlp_state_get). */
static float *mlp_buffers(hs_model *m, size_t *n) {
    hs_mlp *net = mlp(m);
    *n = hs_mlp_state_size(net) - net->n_params;
    return *n ? net->run_mean[0] : NULL;
}
static void mlp_free(hs_model *m) {
    hs_mlp_free(mlp(m));
    free(m->impl);
}

static const hs_model_ops mlp_ops = {mlp_forward, mlp_backward, mlp_hidden, mlp_state_size,
                                     mlp_state_get, mlp_state_set, mlp_free, mlp_buffers, NULL};

hs_code hs_model_mlp(hs_model *m, const hs_mlp_opts *o, hs_error *err) {
    memset(m, 0, sizeof *m);
    hs_mlp *net = calloc(1, sizeof *net);
    if (!net) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    hs_code rc = hs_mlp_init(net, o, err);
    if (rc != HS_OK) {
        free(net);
        hs_error_trace(err, __FILE__, __LINE__);
        return rc;
    }
    *m = (hs_model){.ops = &mlp_ops,
                    .impl = net,
                    .params = net->params,
                    .grads = net->grads,
                    .n_params = net->n_params,
                    .tensors = net->tensors,
                    .n_tensors = net->n_tensors,
                    .in_dim = o->in_dim,
                    .out_dim = o->out_dim,
                    .max_batch = o->max_batch,
                    .n_hidden = o->n_hidden,
                    .hidden_width = net->dims + 1,
                    .dlogits = net->dlogits,
                    .lr_scale = 1,
                    .batch_stats = o->norm == HS_NORM_BATCH};
    return HS_OK;
}

hs_mlp *hs_model_as_mlp(hs_model *m) { return m && m->ops == &mlp_ops ? mlp(m) : NULL; }

void hs_model_free(hs_model *m) {
    if (m && m->ops) m->ops->free(m);
    if (m) memset(m, 0, sizeof *m);
}
