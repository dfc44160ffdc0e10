/* probe_stability.c - Petrini et al.'s relative stability R_f = D_f / G_f of every node on square
 * images (../shared/reference/srhm-sensitivity.md section 6), measured on the net at every record
 * point (see probes.h).
 *
 * The images, their diffeomorphisms and the matched-norm noise are fixed at the start
 * (hs_stability_inputs: record.stability test images, cut record.diffeo_c, temperature
 * record.diffeo_T or sqrt(T_min T_max)); a record point forwards a chunk of clean images, keeps
 * every node's features, and forwards the same rows deformed and noised against them. Node 0 is
 * the input itself, which no training moves: its D_f, G_f and R_f are the same at every point. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/metrics.h"
#include "probes.h"
#include "recorders.h"

struct probe_stab {
    int K, n, dim, c; /* nodes: the input, the hidden layers, the logits */
    double T;
    float *x, *tx, *ex; /* [n x dim] clean, deformed, noised */
    int *w;
    size_t *off;
    float *clean;       /* a chunk's features of nodes 1..K-1, node after node */
    double *acc;
    hs_pair_acc *z;
    double *dd, *dg;    /* [K] squared distances to the deformed and to the noised */
    hs_series *sD, *sG, *sR, *sP;
};

hs_code probe_stab_layout(const hs_train_config *c, hs_train_layout *lay, hs_error *err) {
    if (c->stability <= 0) return HS_OK;
    const size_t K = lay->n_layers + 1;
    HS_TRY(err, rec_add_series(lay, &(hs_series_spec){"stability_D", "node", 1, {K, 0, 0}, 1, 0}, err));
    HS_TRY(err, rec_add_series(lay, &(hs_series_spec){"stability_G", "node", 1, {K, 0, 0}, 1, 0}, err));
    HS_TRY(err, rec_add_series(lay, &(hs_series_spec){"stability_R", "node", 1, {K, 0, 0}, 1, 0}, err));
    HS_TRY(err, rec_add_series(lay, &(hs_series_spec){"stability_diffeo", "param", 1, {2, 0, 0}, 1, 0}, err));
    return HS_OK;
}

/* The temperature of c's diffeomorphisms of side x side images. */
static double temperature(const hs_train_config *c, int side) {
    if (c->diffeo_T > 0) return c->diffeo_T;
    return sqrt(hs_diffeo_t_min(side, c->diffeo_c) * hs_diffeo_t_max(c->diffeo_c));
}

hs_code probe_stab_check(const hs_train_config *c, const hs_data_shape *sh, hs_error *err) {
    if (c->stability <= 0) {
        if (c->diffeo_T == 0 && c->diffeo_c == PROBE_DEFAULT_CUT) return HS_OK;
        HS_FAIL(err, HS_ERR_VALUE, "record.diffeo_%s = %g has no effect with record.stability = 0",
                c->diffeo_T != 0 ? "T" : "c", c->diffeo_T != 0 ? c->diffeo_T : (double)c->diffeo_c);
        return hs_error_hint(err, "set record.stability to the number of test images to deform, or leave "
                                  "record.diffeo_c and record.diffeo_T at their defaults");
    }
    const int side = sh->height;
    if (sh->channels < 1 || side < 2 || sh->width != side || (long long)sh->channels * side * side != sh->dim) {
        if (sh->channels >= 1 && sh->height >= 1 && sh->width >= 1)
            HS_FAIL(err, HS_ERR_VALUE, "record.stability = %d: the diffeomorphisms deform square images, and data.kind "
                    "%s gives %d x %d x %d inputs", c->stability, c->data.kind, sh->channels, sh->height, sh->width);
        else
            HS_FAIL(err, HS_ERR_VALUE, "record.stability = %d: the diffeomorphisms deform square images, and data.kind "
                    "%s has no image layout", c->stability, c->data.kind);
        return hs_error_hint(err, "use image data (fashion_mnist, mnist, cfm, cm, cifar10, cc), or set "
                                  "record.stability to 0");
    }
    if (c->stability < 2 || c->stability > sh->n_test || c->stability > HS_PROBE_MAX_INPUTS) {
        HS_FAIL(err, HS_ERR_VALUE, "record.stability = %d but the test set holds %lld images; the denominator "
                "needs pairs of them", c->stability, sh->n_test);
        return hs_error_hint(err, "set record.stability to 2 .. %lld", sh->n_test);
    }
    double tmax = hs_diffeo_t_max(c->diffeo_c);
    if (c->diffeo_T > tmax) {
        HS_FAIL(err, HS_ERR_VALUE, "record.diffeo_T = %g is above T_max = 4 / (pi^3 c^2 ln c) = %g for "
                "record.diffeo_c = %d: the deformation folds over and is no diffeomorphism", c->diffeo_T, tmax,
                c->diffeo_c);
        return hs_error_hint(err, "natural temperatures for %d x %d images: [T_min, T_max] = [%g, %g]; 0 takes "
                                  "their geometric mean", side, side, hs_diffeo_t_min(side, c->diffeo_c), tmax);
    }
    return HS_OK;
}

void probe_stab_free(probe_stab *p) {
    if (!p) return;
    free(p->x), free(p->tx), free(p->ex), free(p->w), free(p->off), free(p->clean), free(p->acc), free(p->z);
    free(p->dd), free(p->dg), free(p);
}

hs_code probe_stab_init(probe_stab **out, const hs_train_config *c, hs_model *net, const hs_dataset *test,
                        hs_train_result *res, hs_error *err) {
    *out = NULL;
    if (c->stability <= 0) return HS_OK;
    probe_stab *p = calloc(1, sizeof *p);
    if (!p) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the stability probe");
    const int side = test->height;
    p->K = net->n_hidden + 2, p->n = c->stability, p->dim = test->dim, p->c = c->diffeo_c;
    p->T = temperature(c, side);
    const size_t B = (size_t)net->max_batch, K = (size_t)p->K, rows = (size_t)p->n * (size_t)p->dim;
    p->x = malloc(rows * sizeof *p->x), p->tx = malloc(rows * sizeof *p->tx), p->ex = malloc(rows * sizeof *p->ex);
    p->w = malloc(K * sizeof *p->w), p->off = malloc(K * sizeof *p->off), p->z = malloc(K * sizeof *p->z);
    p->dd = malloc(K * sizeof *p->dd), p->dg = malloc(K * sizeof *p->dg);
    size_t total = 0, all = 0;
    for (int k = 0; p->w && p->off && k < p->K; k++) {
        p->w[k] = k == 0 ? p->dim : k - 1 < net->n_hidden ? net->hidden_width[k - 1] : net->out_dim;
        p->off[k] = B * total, all += (size_t)p->w[k];
        if (k > 0) total += (size_t)p->w[k];
    }
    p->clean = malloc((B * total + 1) * sizeof *p->clean), p->acc = malloc(2 * all * sizeof *p->acc);
    hs_code rc = p->x && p->tx && p->ex && p->w && p->off && p->z && p->dd && p->dg && p->clean && p->acc
                     ? HS_OK
                     : HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the stability probe's %d images", p->n);
    if (rc == HS_OK && test->dim != net->in_dim)
        rc = HS_FAIL(err, HS_ERR_INTERNAL, "stability probe: images of %d values for a net taking %d", test->dim,
                     net->in_dim);
    if (rc == HS_OK)
        rc = hs_stability_inputs(test->x, test->n, test->channels, side, p->n, p->c, p->T, c->data_seed, p->x, p->tx,
                                 p->ex, err);
    if (rc != HS_OK) {
        probe_stab_free(p);
        return rc;
    }
    p->sD = probe_series(res, "stability_D"), p->sG = probe_series(res, "stability_G");
    p->sR = probe_series(res, "stability_R"), p->sP = probe_series(res, "stability_diffeo");
    *out = p;
    return HS_OK;
}

/* Node k's rows after a forward that returned logits (node 0: the forwarded input x). */
static const float *node(const hs_model *net, const float *logits, const float *x, int k) {
    int w;
    return k == 0 ? x : probe_node(net, logits, k - 1, &w);
}

/* Forward nb rows of y and add each node's squared distances to the chunk's clean features. */
static int against(probe_stab *p, hs_model *net, const float *x, const float *y, int nb, double *d) {
    const float *logits = hs_model_forward(net, y, nb, HS_MODE_EVAL);
    if (!logits) return -1;
    for (int k = 0; k < p->K; k++) {
        const float *ref = k == 0 ? x : p->clean + p->off[k];
        d[k] += hs_sq_dist_sum(ref, node(net, logits, y, k), (size_t)nb, (size_t)p->w[k]);
    }
    return 0;
}

hs_code probe_stab_measure(probe_stab *p, hs_model *net, size_t t, int final, hs_error *err) {
    if (!p) return HS_OK;
    double *D = rec_point(p->sD, t, final), *G = rec_point(p->sG, t, final), *R = rec_point(p->sR, t, final);
    double *P = rec_point(p->sP, t, final);
    if (P) P[0] = p->c, P[1] = p->T;
    if (!D && !G && !R) return HS_OK;
    const int B = net->max_batch;
    double *a = p->acc;
    for (int k = 0; k < p->K; k++) {
        hs_pair_acc_init(&p->z[k], (size_t)p->w[k], a, a + p->w[k]);
        a += 2 * (size_t)p->w[k];
        p->dd[k] = p->dg[k] = 0;
    }
    for (int i0 = 0; i0 < p->n; i0 += B) {
        int nb = p->n - i0 < B ? p->n - i0 : B;
        const float *x = p->x + (size_t)i0 * p->dim;
        const float *logits = hs_model_forward(net, x, nb, HS_MODE_EVAL);
        if (!logits) goto refused;
        for (int k = 0; k < p->K; k++) {
            const float *f = node(net, logits, x, k);
            if (k > 0) memcpy(p->clean + p->off[k], f, (size_t)nb * (size_t)p->w[k] * sizeof *f);
            hs_pair_acc_add(&p->z[k], f, (size_t)nb);
        }
        if (against(p, net, x, p->tx + (size_t)i0 * p->dim, nb, p->dd) != 0) goto refused;
        if (against(p, net, x, p->ex + (size_t)i0 * p->dim, nb, p->dg) != 0) goto refused;
    }
    for (int k = 0; k < p->K; k++) {
        /* the mean over distinct pairs: Z n / (n - 1) (hs_relative_stability) */
        double M = hs_pair_acc_mean(&p->z[k]) * p->n / (p->n - 1);
        double d = p->dd[k] / p->n / M, g = p->dg[k] / p->n / M;
        if (D) D[k] = d;
        if (G) G[k] = g;
        if (R) R[k] = d / g;
    }
    return HS_OK;
refused:
    return HS_FAIL(err, HS_ERR_INTERNAL, "the net refused a stability probe chunk");
}
