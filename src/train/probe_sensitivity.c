/* probe_sensitivity.c - the synonym and displacement sensitivities S_{k,l}, D_{k,l} and the
 * Gaussian control G_k of (S)RHM data (Tomasini & Wyart; ../shared/reference/srhm-sensitivity.md
 * sections 1 and 2), measured on the net at every record point (see probes.h).
 *
 * The reference set and its 2L perturbed blocks are drawn once (hs_rhm_probes_make) as choices;
 * a record point encodes a chunk of reference inputs, keeps every node's features of it, and
 * forwards the same rows of each perturbed block against them, so only one chunk of features is
 * ever held; Z_k streams through hs_pair_acc. The Gaussian control uses the first 20 reference
 * inputs (all classes: the set interleaves them) and noise fixed at the start. */
#include <stdlib.h>
#include <string.h>

#include "hsweep/metrics.h"
#include "probes.h"
#include "recorders.h"

#define GAUSS_INPUTS 20 /* the authors' control: 20 clean inputs */

struct probe_sens {
    int K, L, n, ng, dim, whiten;
    hs_rhm *g;
    hs_rhm_probes P;
    int *w;           /* [K] node widths */
    size_t *off;      /* [K] node k's block of clean: max_batch x w[k] floats */
    float *x;         /* [max_batch x dim] a chunk of inputs */
    float *clean;     /* the reference chunk's features, node after node */
    double *acc;      /* 2 sum(w) doubles: each node's hs_pair_acc sum and shift */
    hs_pair_acc *z;   /* [K] */
    double *dist;     /* [K x 2L]: sum of squared distances to P_1..P_L, tau_1..tau_L; [K] Gaussian after */
    float *gx, *gnx;  /* [ng x dim] the control's clean and noisy inputs */
    hs_series *sS, *sD, *sG;
};

hs_code probe_sens_layout(const hs_train_config *c, hs_train_layout *lay, hs_error *err) {
    if (c->sensitivity <= 0) return HS_OK;
    const size_t K = lay->n_layers, L = (size_t)c->data.L;
    HS_TRY(err, rec_add_series(lay, &(hs_series_spec){"sensitivity_S", "node,level", 2, {K, L, 0}, 1, 0}, err));
    HS_TRY(err, rec_add_series(lay, &(hs_series_spec){"sensitivity_D", "node,level", 2, {K, L, 0}, 1, 0}, err));
    HS_TRY(err, rec_add_series(lay, &(hs_series_spec){"sensitivity_G", "node", 1, {K, 0, 0}, 1, 0}, err));
    return HS_OK;
}

hs_code probe_sens_check(const hs_train_config *c, const hs_data_shape *sh, hs_error *err) {
    if (c->sensitivity <= 0) return HS_OK;
    hs_rhm_opts ro;
    if (!hs_data_rules(&c->data, &ro)) {
        HS_FAIL(err, HS_ERR_VALUE,
                "record.sensitivity = %d: the sensitivity probes re-draw the synonyms and positions of a "
                "grammar's samples, and data.kind %s has no grammar", c->sensitivity, c->data.kind);
        return hs_error_hint(err, "use data.kind srhm (or rhm), or set record.sensitivity to 0");
    }
    long long n = (long long)c->sensitivity * sh->classes;
    if (n > HS_RHM_PROBE_MAX_SAMPLES) {
        HS_FAIL(err, HS_ERR_VALUE, "record.sensitivity = %d: %lld reference samples over %d classes, more than %d",
                c->sensitivity, n, sh->classes, HS_RHM_PROBE_MAX_SAMPLES);
        return hs_error_hint(err, "the authors use 20 per class");
    }
    return HS_OK;
}

void probe_sens_free(probe_sens *p) {
    if (!p) return;
    hs_rhm_probes_free(&p->P);
    hs_rhm_free(p->g);
    free(p->w), free(p->off), free(p->x), free(p->clean), free(p->acc), free(p->z), free(p->dist), free(p->gx);
    free(p->gnx), free(p);
}

hs_code probe_sens_init(probe_sens **out, const hs_train_config *c, hs_model *net, hs_train_result *res,
                        hs_error *err) {
    *out = NULL;
    if (c->sensitivity <= 0) return HS_OK;
    probe_sens *p = calloc(1, sizeof *p);
    if (!p) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the sensitivity probe");
    hs_rhm_opts ro;
    hs_code rc = hs_data_rules(&c->data, &ro) ? hs_rhm_rules(&ro, &p->g, err)
                                               : HS_FAIL(err, HS_ERR_VALUE, "record.sensitivity: no grammar");
    if (rc == HS_OK) rc = hs_rhm_probes_make(p->g, c->data_seed, c->sensitivity, &p->P, err);
    if (rc != HS_OK) {
        probe_sens_free(p);
        return rc;
    }
    p->K = net->n_hidden + 1, p->L = p->g->o.L, p->n = p->P.n, p->whiten = c->data.whiten;
    p->dim = p->g->o.v * p->g->d;
    p->ng = p->n < GAUSS_INPUTS ? p->n : GAUSS_INPUTS;
    if (p->dim != net->in_dim) {
        int dim = p->dim;
        probe_sens_free(p);
        return HS_FAIL(err, HS_ERR_INTERNAL, "sensitivity probe: the grammar's inputs have %d values, the net takes %d",
                       dim, net->in_dim);
    }
    const size_t B = (size_t)net->max_batch, K = (size_t)p->K;
    p->w = malloc(K * sizeof *p->w), p->off = malloc(K * sizeof *p->off), p->z = malloc(K * sizeof *p->z);
    p->dist = malloc(K * (2 * (size_t)p->L + 1) * sizeof *p->dist);
    p->x = malloc(B * (size_t)p->dim * sizeof *p->x);
    p->gx = malloc((size_t)p->ng * p->dim * sizeof *p->gx), p->gnx = malloc((size_t)p->ng * p->dim * sizeof *p->gnx);
    size_t total = 0;
    for (int k = 0; p->w && p->off && k < p->K; k++) {
        p->w[k] = k < net->n_hidden ? net->hidden_width[k] : net->out_dim;
        p->off[k] = B * total, total += (size_t)p->w[k];
    }
    p->clean = malloc(B * total * sizeof *p->clean), p->acc = malloc(2 * total * sizeof *p->acc);
    if (!p->w || !p->off || !p->z || !p->dist || !p->x || !p->gx || !p->gnx || !p->clean || !p->acc) {
        probe_sens_free(p);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the sensitivity probe (%zu features per row)", total);
    }
    hs_rhm_probes_encode(p->g, &p->P, 0, 0, p->ng, p->whiten, p->gx);
    hs_noise_control(p->gx, (size_t)p->ng, (size_t)p->dim, c->data_seed, p->gnx);
    p->sS = probe_series(res, "sensitivity_S"), p->sD = probe_series(res, "sensitivity_D");
    p->sG = probe_series(res, "sensitivity_G");
    *out = p;
    return HS_OK;
}

/* Each node's pairwise accumulator, emptied. */
static void reset_pairs(probe_sens *p) {
    double *a = p->acc;
    for (int k = 0; k < p->K; k++) {
        hs_pair_acc_init(&p->z[k], (size_t)p->w[k], a, a + p->w[k]);
        a += 2 * (size_t)p->w[k];
    }
}

/* Forward nb rows of x and keep every node's features as the chunk's reference. */
static int forward_reference(probe_sens *p, hs_model *net, const float *x, int nb) {
    const float *logits = hs_model_forward(net, x, nb, HS_MODE_EVAL);
    if (!logits) return -1;
    for (int k = 0, w; k < p->K; k++) {
        const float *f = probe_node(net, logits, k, &w);
        memcpy(p->clean + p->off[k], f, (size_t)nb * (size_t)w * sizeof *f);
        hs_pair_acc_add(&p->z[k], f, (size_t)nb);
    }
    return 0;
}

/* Forward nb perturbed rows and add each node's squared distances to the reference into d[k * stride]. */
static int forward_against(probe_sens *p, hs_model *net, const float *x, int nb, double *d, size_t stride) {
    const float *logits = hs_model_forward(net, x, nb, HS_MODE_EVAL);
    if (!logits) return -1;
    for (int k = 0, w; k < p->K; k++) {
        const float *f = probe_node(net, logits, k, &w);
        d[(size_t)k * stride] += hs_sq_dist_sum(p->clean + p->off[k], f, (size_t)nb, (size_t)w);
    }
    return 0;
}

hs_code probe_sens_measure(probe_sens *p, hs_model *net, size_t t, int final, hs_error *err) {
    if (!p) return HS_OK;
    double *S = rec_point(p->sS, t, final), *D = rec_point(p->sD, t, final), *G = rec_point(p->sG, t, final);
    if (!S && !D && !G) return HS_OK;
    const int K = p->K, L = p->L, B = net->max_batch, nb2 = 2 * L;
    memset(p->dist, 0, (size_t)K * (size_t)(nb2 + 1) * sizeof *p->dist);
    reset_pairs(p);
    for (int i0 = 0; i0 < p->n; i0 += B) {
        int nb = p->n - i0 < B ? p->n - i0 : B;
        hs_rhm_probes_encode(p->g, &p->P, 0, i0, nb, p->whiten, p->x);
        if (forward_reference(p, net, p->x, nb) != 0) goto refused;
        for (int b = 1; b <= nb2; b++) {
            hs_rhm_probes_encode(p->g, &p->P, b, i0, nb, p->whiten, p->x);
            if (forward_against(p, net, p->x, nb, p->dist + (b - 1), (size_t)nb2) != 0) goto refused;
        }
    }
    for (int k = 0; k < K; k++) {
        double Z = hs_pair_acc_mean(&p->z[k]);
        for (int l = 0; l < L; l++) {
            if (S) S[k * L + l] = p->dist[(size_t)k * nb2 + l] / p->n / Z;
            if (D) D[k * L + l] = p->dist[(size_t)k * nb2 + L + l] / p->n / Z;
        }
    }
    /* the Gaussian control: its own clean inputs give its denominator */
    double *dg = p->dist + (size_t)K * nb2;
    reset_pairs(p);
    for (int i0 = 0; i0 < p->ng; i0 += B) {
        int nb = p->ng - i0 < B ? p->ng - i0 : B;
        if (forward_reference(p, net, p->gx + (size_t)i0 * p->dim, nb) != 0) goto refused;
        if (forward_against(p, net, p->gnx + (size_t)i0 * p->dim, nb, dg, 1) != 0) goto refused;
    }
    for (int k = 0; G && k < K; k++) G[k] = dg[k] / p->ng / hs_pair_acc_mean(&p->z[k]);
    return HS_OK;
refused:
    return HS_FAIL(err, HS_ERR_INTERNAL, "the net refused a sensitivity probe chunk");
}
