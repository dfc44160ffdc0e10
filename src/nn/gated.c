/* gated.c - the routing network of gated deep linear networks (Saxe, Sodhani & Lewallen, ICML
 * 2022) behind the generic hs_model interface; see include/hsweep/nn.h.
 *
 * A row x = [item | i | j] goes through input module i, the shared layer and output module j:
 *     z = Win_i item [H],  h = Wh z [H],  out = Wout_j h [n_out].
 * Rows of one batch may use different pathways. Each forward sorts the row indices twice with a
 * counting sort, by input module (perm_in) and by output module (perm_out); a module's rows are
 * then one contiguous run of a gathered buffer and each module is one sgemm over its run. The
 * shared layer acts on all rows at once (one sgemm, in perm_in order). All memory comes from one
 * block allocated at construction; forward and backward never allocate. */
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "carve.h"
#include "hsweep/nn.h"

/* Bounds that keep every int handed to sgemm and every size_t product far from overflow. */
#define GATED_MAX_DIM (1 << 24)
#define GATED_MAX_MODULES 4096

typedef struct gated {
    hs_gated_opts o;
    int M, n_in, H, n_out;
    int width[1];               /* hidden_width: {H} */
    hs_tensor *tensors;         /* [2M + 1] */
    float *params, *grads;      /* [n_params] */
    size_t n_params;
    /* views into params / grads: Win[i] [H x n_in], Wh [H x H], Wout[j] [n_out x H] */
    float **Win, **dWin, **Wout, **dWout, *Wh, *dWh;
    /* row orders of the last forward: perm_*[q] = the original row at gathered position q;
     * module m's rows are positions start_*[m] .. start_*[m + 1] - 1 */
    int *mod_in, *mod_out, *perm_in, *perm_out, *start_in, *start_out;
    int *inv_in; /* inv_in[perm_in[q]] = q */
    /* activations, max_batch rows each: xg items (perm_in), zg = Win_i item (perm_in), hid = Wh z
     * (original order: hidden(0)), hg = hid (perm_out), og = out (perm_out), logits (original) */
    float *xg, *zg, *hid, *hg, *og, *logits, *dlogits;
    /* gradients: dog (perm_out), dhg = d/dh (perm_out), dh (perm_in), dz (perm_in) */
    float *dog, *dhg, *dh, *dz;
    int last_B;
    void *alloc;
} gated;

static gated *net_of(const hs_model *m) { return (gated *)m->impl; }

/* ================================================================ forward and backward */

/* The module index stored as a float at x[col]: -1 unless it is an exact integer in 0..M-1. */
static int module_at(float v, int M) {
    if (!(v >= 0.0f && v < (float)M)) return -1;
    const int k = (int)v;
    return (float)k == v ? k : -1;
}

/* Counting sort of rows 0..B-1 by mod[]: perm [B], start [M + 1]. Stable (rows of one module
 * keep their order), so results do not depend on anything but the batch. */
static void sort_rows(int *perm, int *start, const int *mod, int B, int M) {
    memset(start, 0, (size_t)(M + 1) * sizeof(int));
    for (int r = 0; r < B; r++) start[mod[r] + 1]++;
    for (int m = 0; m < M; m++) start[m + 1] += start[m];
    for (int r = 0; r < B; r++) perm[start[mod[r]]++] = r;
    for (int m = M; m > 0; m--) start[m] = start[m - 1]; /* the fills moved each start to the next's */
    start[0] = 0;
}

/* x [B x (n_in + 2)] -> logits [B x n_out]. NULL when B is out of 1..max_batch or a row's
 * module index is not an integer in 0..M-1. mode is ignored (no batch statistics). */
static const float *gated_forward(hs_model *m, const float *x, int B, hs_mode mode) {
    (void)mode;
    gated *g = net_of(m);
    g->last_B = 0;
    if (B < 1 || B > g->o.max_batch) return NULL;
    const int M = g->M, n_in = g->n_in, H = g->H, K = g->n_out, D = n_in + 2;
    for (int r = 0; r < B; r++) {
        const float *row = x + (size_t)r * D;
        g->mod_in[r] = module_at(row[n_in], M);
        g->mod_out[r] = module_at(row[n_in + 1], M);
        if (g->mod_in[r] < 0 || g->mod_out[r] < 0) return NULL;
    }
    sort_rows(g->perm_in, g->start_in, g->mod_in, B, M);
    sort_rows(g->perm_out, g->start_out, g->mod_out, B, M);
    for (int q = 0; q < B; q++) g->inv_in[g->perm_in[q]] = q;

    for (int q = 0; q < B; q++) memcpy(g->xg + (size_t)q * n_in, x + (size_t)g->perm_in[q] * D, n_in * sizeof(float));
    for (int i = 0; i < M; i++) { /* zg_i = xg_i Win_i^T */
        const int r0 = g->start_in[i], n = g->start_in[i + 1] - r0;
        if (n > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H, n_in, 1.0f, g->xg + (size_t)r0 * n_in, n_in,
                        g->Win[i], n_in, 0.0f, g->zg + (size_t)r0 * H, H);
    }
    /* the shared layer on all rows (perm_in order), written to dh as scratch, then unpermuted */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, H, H, 1.0f, g->zg, H, g->Wh, H, 0.0f, g->dh, H);
    for (int q = 0; q < B; q++) memcpy(g->hid + (size_t)g->perm_in[q] * H, g->dh + (size_t)q * H, H * sizeof(float));
    for (int q = 0; q < B; q++) memcpy(g->hg + (size_t)q * H, g->hid + (size_t)g->perm_out[q] * H, H * sizeof(float));
    for (int j = 0; j < M; j++) { /* og_j = hg_j Wout_j^T */
        const int r0 = g->start_out[j], n = g->start_out[j + 1] - r0;
        if (n > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, K, H, 1.0f, g->hg + (size_t)r0 * H, H, g->Wout[j],
                        H, 0.0f, g->og + (size_t)r0 * K, K);
    }
    for (int q = 0; q < B; q++)
        memcpy(g->logits + (size_t)g->perm_out[q] * K, g->og + (size_t)q * K, K * sizeof(float));
    g->last_B = B;
    return g->logits;
}

/* dlogits [B x n_out] -> grads (overwritten; a module without rows in the batch gets zeros).
 *   dWout_j = dout_j^T h_j,  dh = dout_j Wout_j     (per output module, perm_out order)
 *   dWh     = dh^T z,        dz = dh Wh             (all rows, perm_in order)
 *   dWin_i  = dz_i^T item_i                         (per input module)
 * A backward whose B is not the last forward's fills grads with NaN (as the MLP does). */
static void gated_backward(hs_model *m, const float *dlogits, int B) {
    gated *g = net_of(m);
    if (B < 1 || B != g->last_B) {
        for (size_t i = 0; i < g->n_params; i++) g->grads[i] = NAN;
        return;
    }
    const int M = g->M, n_in = g->n_in, H = g->H, K = g->n_out;
    for (int q = 0; q < B; q++) memcpy(g->dog + (size_t)q * K, dlogits + (size_t)g->perm_out[q] * K, K * sizeof(float));
    for (int j = 0; j < M; j++) {
        const int r0 = g->start_out[j], n = g->start_out[j + 1] - r0;
        if (n == 0) {
            memset(g->dWout[j], 0, (size_t)K * H * sizeof(float));
            continue;
        }
        const float *d = g->dog + (size_t)r0 * K;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, H, n, 1.0f, d, K, g->hg + (size_t)r0 * H, H, 0.0f,
                    g->dWout[j], H);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, H, K, 1.0f, d, K, g->Wout[j], H, 0.0f,
                    g->dhg + (size_t)r0 * H, H);
    }
    /* dh from perm_out order to perm_in order: perm_out position q is original row perm_out[q],
     * whose perm_in position is inv_in[perm_out[q]] */
    for (int q = 0; q < B; q++)
        memcpy(g->dh + (size_t)g->inv_in[g->perm_out[q]] * H, g->dhg + (size_t)q * H, H * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, H, B, 1.0f, g->dh, H, g->zg, H, 0.0f, g->dWh, H);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, H, 1.0f, g->dh, H, g->Wh, H, 0.0f, g->dz, H);
    for (int i = 0; i < M; i++) {
        const int r0 = g->start_in[i], n = g->start_in[i + 1] - r0;
        if (n == 0) {
            memset(g->dWin[i], 0, (size_t)H * n_in * sizeof(float));
            continue;
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, n_in, n, 1.0f, g->dz + (size_t)r0 * H, H,
                    g->xg + (size_t)r0 * n_in, n_in, 0.0f, g->dWin[i], n_in);
    }
}

static const float *gated_hidden(const hs_model *m, int l) { return l == 0 ? net_of(m)->hid : NULL; }

/* No buffers besides the parameters. */
static size_t gated_state_size(const hs_model *m) { return net_of(m)->n_params; }
static void gated_state_get(const hs_model *m, float *s) {
    memcpy(s, net_of(m)->params, net_of(m)->n_params * sizeof(float));
}
static void gated_state_set(hs_model *m, const float *s) {
    memcpy(net_of(m)->params, s, net_of(m)->n_params * sizeof(float));
}
static float *gated_buffers(hs_model *m, size_t *n) {
    (void)m;
    *n = 0;
    return NULL;
}

static void gated_free(hs_model *m) {
    gated *g = net_of(m);
    if (g) free(g->alloc);
    free(g);
}

static const hs_model_ops gated_ops = {gated_forward, gated_backward, gated_hidden, gated_state_size,
                                       gated_state_get, gated_state_set, gated_free, gated_buffers, NULL};

/* ================================================================ construction */

static hs_code validate(const hs_gated_opts *o, hs_error *err) {
    const struct {
        const char *name;
        int value, lo, hi;
    } ints[] = {{"in_dim", o->in_dim, 1, GATED_MAX_DIM},      {"hidden", o->hidden, 1, GATED_MAX_DIM},
                {"out_dim", o->out_dim, 1, GATED_MAX_DIM},    {"modules", o->modules, 1, GATED_MAX_MODULES},
                {"max_batch", o->max_batch, 1, GATED_MAX_DIM}};
    for (size_t q = 0; q < sizeof ints / sizeof ints[0]; q++)
        if (ints[q].value < ints[q].lo || ints[q].value > ints[q].hi)
            return HS_FAIL(err, HS_ERR_VALUE, "gated: %s must be in %d..%d, got %d", ints[q].name, ints[q].lo,
                           ints[q].hi, ints[q].value);
    if (o->pathways < 1 || o->pathways > o->modules * o->modules)
        return HS_FAIL(err, HS_ERR_VALUE, "gated: pathways must be in 1..modules^2 = %d, got %d",
                       o->modules * o->modules, o->pathways);
    if (o->init != HS_INIT_TORCH && o->init != HS_INIT_NORMAL && o->init != HS_INIT_ORTHOGONAL &&
        o->init != HS_INIT_BALANCED)
        return HS_FAIL(err, HS_ERR_VALUE, "gated: unknown init %d", (int)o->init);
    if (!isfinite(o->init_scale))
        return HS_FAIL(err, HS_ERR_VALUE, "gated: init_scale must be finite, got %g", o->init_scale);
    if (o->init == HS_INIT_BALANCED && !o->sigma_yx)
        return HS_FAIL(err, HS_ERR_VALUE, "gated: the balanced init needs sigma_yx (the items' Y^T X)");
    /* sizes in double, so that absurd shapes fail here rather than wrap an int or a size_t */
    const double M = o->modules, n_in = o->in_dim, H = o->hidden, K = o->out_dim, B = o->max_batch;
    const double params = M * H * (n_in + K) + H * H;
    const double widest = fmax(fmax(n_in + 2, H), K);
    if (B * widest > INT_MAX || params > INT_MAX)
        return HS_FAIL(err, HS_ERR_VALUE, "gated: %.17g parameters or max_batch %d x %.17g floats is beyond what sgemm "
                       "indexes", params, o->max_batch, widest);
    const double bytes = (2 * params + B * (n_in + 8 * H + 5 * K)) * sizeof(float) + 8 * B * sizeof(int);
    if (bytes > 0x1p50)
        return HS_FAIL(err, HS_ERR_VALUE, "gated: %.3g bytes of parameters and activations is beyond any machine",
                       bytes);
    return HS_OK;
}

/* The tensor table (parameter order: Win_0..Win_(M-1), Wh, Wout_0..Wout_(M-1); layer = index)
 * and every buffer. Pass 1 (c->base NULL) only counts bytes. */
static void layout(gated *g, carver *c) {
    const int M = g->M, n_in = g->n_in, H = g->H, K = g->n_out;
    const size_t B = (size_t)g->o.max_batch;
    g->tensors = carve(c, (size_t)(2 * M + 1), sizeof(hs_tensor));
    size_t off = 0;
    for (int t = 0; t < 2 * M + 1; t++) {
        const int rows = t < M ? H : t == M ? H : K, cols = t < M ? n_in : H;
        if (c->base) g->tensors[t] = (hs_tensor){HS_TENSOR_WEIGHT, t, off, (size_t)rows * cols, rows, cols, cols};
        off += (size_t)rows * cols;
    }
    g->n_params = off;
    g->params = carve(c, off, sizeof(float));
    g->grads = carve(c, off, sizeof(float));
    float ***views[] = {&g->Win, &g->dWin, &g->Wout, &g->dWout};
    for (size_t q = 0; q < 4; q++) *views[q] = carve(c, (size_t)M, sizeof(float *));
    int **ints[] = {&g->mod_in, &g->mod_out, &g->perm_in, &g->perm_out, &g->inv_in};
    for (size_t q = 0; q < 5; q++) *ints[q] = carve(c, B, sizeof(int));
    g->start_in = carve(c, (size_t)M + 1, sizeof(int));
    g->start_out = carve(c, (size_t)M + 1, sizeof(int));
    g->xg = carve(c, B * n_in, sizeof(float));
    float **hbufs[] = {&g->zg, &g->hid, &g->hg, &g->dhg, &g->dh, &g->dz};
    for (size_t q = 0; q < 6; q++) *hbufs[q] = carve(c, B * H, sizeof(float));
    float **kbufs[] = {&g->og, &g->logits, &g->dlogits, &g->dog};
    for (size_t q = 0; q < 4; q++) *kbufs[q] = carve(c, B * K, sizeof(float));
    if (!c->base) return;
    for (int i = 0; i < M; i++) {
        g->Win[i] = g->params + g->tensors[i].offset, g->dWin[i] = g->grads + g->tensors[i].offset;
        g->Wout[i] = g->params + g->tensors[M + 1 + i].offset, g->dWout[i] = g->grads + g->tensors[M + 1 + i].offset;
    }
    g->Wh = g->params + g->tensors[M].offset, g->dWh = g->grads + g->tensors[M].offset;
}

/* torch / normal / orthogonal: hs_init_dense per tensor, stream (INIT, tensor layer). Balanced:
 * one deep linear net {n_in, H, H, n_out} (hs_init_balanced, streams (INIT, 1) and (INIT, 2)),
 * copied into every input and output module. */
static hs_code init_params(gated *g, hs_error *err) {
    const int M = g->M, n_in = g->n_in, H = g->H, K = g->n_out;
    if (g->o.init != HS_INIT_BALANCED) {
        for (int t = 0; t < 2 * M + 1; t++)
            HS_TRY(err, hs_init_dense(g->params + g->tensors[t].offset, NULL, g->tensors[t].cols, g->tensors[t].rows,
                                      g->o.init, g->o.init_scale, 1, g->o.seed, (uint32_t)t, err));
        return HS_OK;
    }
    const int dims[4] = {n_in, H, H, K};
    float *const W[3] = {g->Win[0], g->Wh, g->Wout[0]};
    HS_TRY(err, hs_init_balanced(W, dims, 3, g->o.sigma_yx, g->o.init_scale, g->o.seed, err));
    for (int i = 1; i < M; i++) {
        memcpy(g->Win[i], g->Win[0], (size_t)H * n_in * sizeof(float));
        memcpy(g->Wout[i], g->Wout[0], (size_t)K * H * sizeof(float));
    }
    return HS_OK;
}

/* g's options and sizes from o (before layout). */
static void shape(gated *g, const hs_gated_opts *o) {
    g->o = *o;
    g->o.sigma_yx = NULL; /* borrowed during init only */
    g->M = o->modules, g->n_in = o->in_dim, g->H = o->hidden, g->n_out = o->out_dim;
    g->width[0] = o->hidden;
}

hs_code hs_gated_bytes(const hs_gated_opts *o, size_t *bytes, hs_error *err) {
    *bytes = 0;
    HS_TRY(err, validate(o, err));
    gated *g = calloc(1, sizeof *g);
    if (!g) return HS_FAIL(err, HS_ERR_NOMEM, "gated: out of memory");
    shape(g, o);
    carver c = {NULL, 0};
    layout(g, &c); /* counts only: no base */
    *bytes = (c.used + 63) & ~(size_t)63;
    free(g);
    return HS_OK;
}

hs_code hs_model_gated(hs_model *m, const hs_gated_opts *o, hs_error *err) {
    memset(m, 0, sizeof *m);
    HS_TRY(err, validate(o, err));
    gated *g = calloc(1, sizeof *g);
    if (!g) return HS_FAIL(err, HS_ERR_NOMEM, "gated: out of memory");
    shape(g, o);
    carver c = {NULL, 0};
    layout(g, &c);
    const size_t bytes = (c.used + 63) & ~(size_t)63;
    void *block = aligned_alloc(64, bytes);
    if (!block) {
        free(g);
        return HS_FAIL(err, HS_ERR_NOMEM, "gated: out of memory: %.3g GB for parameters, gradients and activations",
                       (double)bytes * 1e-9);
    }
    memset(block, 0, bytes); /* grads and activations start defined */
    c = (carver){block, 0};
    layout(g, &c);
    g->alloc = block;
    g->o.sigma_yx = o->sigma_yx;
    hs_code rc = init_params(g, err);
    g->o.sigma_yx = NULL;
    if (rc != HS_OK) {
        hs_error_trace(err, __FILE__, __LINE__);
        free(block);
        free(g);
        return rc;
    }
    *m = (hs_model){.ops = &gated_ops,
                    .impl = g,
                    .params = g->params,
                    .grads = g->grads,
                    .n_params = g->n_params,
                    .tensors = g->tensors,
                    .n_tensors = 2 * o->modules + 1,
                    .in_dim = o->in_dim + 2,
                    .out_dim = o->out_dim,
                    .max_batch = o->max_batch,
                    .n_hidden = 1,
                    .hidden_width = g->width,
                    .dlogits = g->dlogits,
                    .lr_scale = o->pathways,
                    .batch_stats = 0};
    return HS_OK;
}
