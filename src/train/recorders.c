/* recorders.c - the time-series recorders of one training (see recorders.h and train.h).
 *
 * Everything is allocated in rec_init; a record point only forwards examples through the net
 * (eval mode), reduces in double and writes into the run's series.
 *
 * Some 650 lines, kept whole (the probes live in probe_*.c): every series reads the one private
 * rec_state and the catalogue at the top (names, axes, layout); a split would publish rec_state to
 * a header for no reader. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/models.h"
#include "hsweep/rng.h"
#include "probes.h"
#include "recorders.h"

/* ================================================================ the catalogue */

enum {
    S_LEVEL_ACC, S_LEVEL_ACC_PROB, S_LEVEL_LOSS, S_CENTER_GAP, S_CENTROID_GRAM, S_REP_SNAPSHOT, S_REP_LABELS,
    S_GRAD_NORM, S_SVALS, S_MODE_STRENGTH, S_MODE_SVALS, S_W_FIRST, S_W_LAST, S_NEIGH_REP, S_NEIGH_ROWS,
    S_NEIGH_LABELS, S_COUNT
};
static const char *const series_name[S_COUNT] = {
    "level_acc", "level_acc_prob", "level_loss", "center_gap", "centroid_gram", "rep_snapshot", "rep_labels",
    "grad_norm", "singular_values", "mode_strength", "mode_svals", "weights_first", "weights_last",
    "neigh_rep", "neigh_rows", "neigh_labels"};
static const char *const series_axes[S_COUNT] = {
    "level", "level", "level", "rep,level", "rep,class,class", "rep,sample,unit", "sample",
    "tensor", "tensor,index", "mode", "mode", "unit,input", "output,unit", "sample,unit", "sample", "sample"};

#define MAX_LEVELS 20

static size_t points_for(size_t every, size_t n_records) {
    return every <= 1 ? n_records : (n_records - 1 + every - 1) / every + 1;
}

/* Output width of the net: the targets' width for MSE on real targets, else the classes. */
static int out_dim_of(const hs_train_config *c, int t_dim, int classes) {
    return c->loss == HS_LOSS_MSE && t_dim > 0 ? t_dim : classes;
}

/* The label hierarchy the level recorders use: the tree of hierarchy data, and for its control
 * (partition) the same grouping of class indices, which carries no structure there. */
static int levels_of(const hs_train_config *c) {
    if (!hs_data_kind_has(&c->data, HS_DATA_KIND_LABEL_LEVELS)) return 0;
    return c->data.levels >= 2 && c->data.levels <= MAX_LEVELS ? c->data.levels : 0;
}

int rec_levels(const hs_train_config *c) { return levels_of(c); }

/* Widths of the dense stack's layer boundaries (HS_MODEL_DENSE_VIEWS): dims[0] = in, dims[1..nh]
 * hidden, dims[nh + 1] = out. */
static int mlp_dim(const hs_train_config *c, int in, int out, int l) {
    return l == 0 ? in : l <= c->model.n_hidden ? c->model.widths[l - 1] : out;
}

/* Width of representation r (numbered as center_gap's reps), 0 past the last. */
static int rep_dim(const hs_train_config *c, int in, int out, int r) {
    const int nh = c->model.n_hidden;
    return r < 0 || r > 2 * nh + 1 ? 0 : r == 0 ? in : r == 2 * nh + 1 ? out : mlp_dim(c, in, out, (r - 1) / 2 + 1);
}

#define MAX_TENSORS 4096

hs_code rec_layout(const hs_train_config *c, const hs_data_shape *sh, hs_train_layout *lay, hs_error *err) {
    const int mlp = (c->arch->flags & HS_MODEL_DENSE_VIEWS) != 0, out = out_dim_of(c, sh->t_dim, sh->classes);
    const int V = levels_of(c), snap = c->snapshot_every;
    size_t K = 1;
    for (int l = 0; l < V; l++) K *= (size_t)c->data.branching;
    if (V && K != (size_t)sh->classes)
        return HS_FAIL(err, HS_ERR_INTERNAL, "label hierarchy of %zu leaves for data with %d classes", K, sh->classes);
    const size_t R = mlp ? 2 * (size_t)c->model.n_hidden + 2 : 0;
    size_t wmax = (size_t)sh->dim;
    for (int l = 1; mlp && l <= c->model.n_hidden + 1; l++)
        if ((size_t)mlp_dim(c, sh->dim, out, l) > wmax) wmax = (size_t)mlp_dim(c, sh->dim, out, l);
    static int rows[MAX_TENSORS], cols[MAX_TENSORS];
    const int T = c->arch->weights(c, sh, out, rows, cols, MAX_TENSORS);

    const int nb = mlp && c->neighbours > 0, nbw = nb ? rep_dim(c, sh->dim, out, c->neighbours_rep) : 0;
    if (nb && nbw <= 0)
        return HS_FAIL(err, HS_ERR_VALUE, "record.neighbours_rep = %d but the net has representations 0..%d",
                       c->neighbours_rep, 2 * c->model.n_hidden + 1);
    struct { int on, ndim; size_t d0, d1, d2, every; } want[S_COUNT] = {
        [S_LEVEL_ACC] = {V > 0 && sh->n_test > 0, 1, (size_t)V, 0, 0, 1},
        [S_LEVEL_ACC_PROB] = {V > 0 && sh->n_test > 0, 1, (size_t)V, 0, 0, 1},
        [S_LEVEL_LOSS] = {V > 0 && sh->n_test > 0, 1, (size_t)V, 0, 0, 1},
        [S_CENTER_GAP] = {V > 0 && mlp && c->centroids > 0, 2, R, (size_t)V, 0, 1},
        [S_CENTROID_GRAM] = {V > 0 && mlp && c->centroids > 0 && snap > 0, 3, R, K, K, (size_t)snap},
        [S_REP_SNAPSHOT] = {mlp && c->snapshot_samples > 0 && snap > 0, 3, R, (size_t)c->snapshot_samples, wmax,
                            (size_t)snap},
        [S_REP_LABELS] = {mlp && c->snapshot_samples > 0 && snap > 0, 1, (size_t)c->snapshot_samples, 0, 0,
                          (size_t)snap},
        [S_GRAD_NORM] = {c->grad_norms && T > 0, 1, (size_t)T, 0, 0, 1},
        [S_SVALS] = {c->svd > 0 && T > 0 && c->arch->svd_rank, 2, (size_t)T, (size_t)c->svd, 0, 1},
        [S_MODE_STRENGTH] = {c->modes > 0 && mlp, 1, (size_t)c->modes, 0, 0, 1},
        [S_MODE_SVALS] = {c->modes > 0 && mlp, 1, (size_t)c->modes, 0, 0, 1},
        [S_W_FIRST] = {mlp && c->weight_snapshots && snap > 0, 2, (size_t)rows[0], (size_t)cols[0], 0, (size_t)snap},
        [S_W_LAST] = {mlp && c->weight_snapshots && snap > 0, 2, T ? (size_t)rows[T - 1] : 0,
                      T ? (size_t)cols[T - 1] : 0, 0, (size_t)snap},
        [S_NEIGH_REP] = {nb, 2, (size_t)c->neighbours, (size_t)nbw, 0, 1},
        [S_NEIGH_ROWS] = {nb, 1, (size_t)c->neighbours, 0, 0, 1},
        [S_NEIGH_LABELS] = {nb, 1, (size_t)c->neighbours, 0, 0, 1},
    };
    for (int s = 0; s < S_COUNT; s++)
        if (want[s].on)
            HS_TRY(err, rec_add_series(lay, &(hs_series_spec){.name = series_name[s], .axes = series_axes[s],
                                                              .ndim = want[s].ndim,
                                                              .dims = {want[s].d0, want[s].d1, want[s].d2},
                                                              .every = want[s].every}, err));
    if (!(c->arch->flags & HS_MODEL_SOLVED)) { /* the probes: nets with layers to forward */
        HS_TRY(err, probe_sens_layout(c, lay, err));
        HS_TRY(err, probe_stab_layout(c, lay, err));
    }
    return HS_OK;
}

hs_code rec_add_series(hs_train_layout *lay, const hs_series_spec *spec, hs_error *err) {
    if (lay->n_series == HS_TRAIN_MAX_SERIES)
        return HS_FAIL(err, HS_ERR_INTERNAL, "more than %d series", HS_TRAIN_MAX_SERIES);
    hs_series_spec *sp = &lay->series[lay->n_series++];
    *sp = *spec;
    sp->n_points = points_for(sp->every, lay->n_records);
    size_t size = 1;
    for (int d = 0; d < sp->ndim; d++) size *= sp->dims[d];
    if (size == 0 || size > ((size_t)1 << 31) / (sp->n_points ? sp->n_points : 1))
        return HS_FAIL(err, HS_ERR_LIMIT, "series %s: %zu values per point x %zu points is too large", sp->name,
                       size, sp->n_points);
    return HS_OK;
}

/* ================================================================ Sigma_yx */

hs_code rec_sigma_yx(const hs_dataset *d, int out_dim, double **out, int *in_dim, hs_error *err) {
    const int in = d->modules ? d->dim - 2 : d->dim;
    const int real = d->t && d->t_dim == out_dim;
    double *S = calloc((size_t)out_dim * (size_t)in, sizeof *S);
    if (!S) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for Sigma_yx (%d x %d)", out_dim, in);
    for (long long r = 0; r < d->n; r++) {
        const float *x = d->x + (size_t)r * (size_t)d->dim;
        if (real) {
            const float *t = d->t + (size_t)r * (size_t)d->t_dim;
            for (int o = 0; o < out_dim; o++)
                for (int i = 0; i < in; i++) S[(size_t)o * in + i] += (double)t[o] * x[i];
        } else if (d->y[r] >= 0 && d->y[r] < out_dim) {
            double *row = S + (size_t)d->y[r] * in;
            for (int i = 0; i < in; i++) row[i] += x[i];
        }
    }
    for (size_t i = 0; i < (size_t)out_dim * (size_t)in; i++) S[i] /= (double)(d->n > 0 ? d->n : 1);
    *out = S;
    *in_dim = in;
    return HS_OK;
}

/* ================================================================ state */

struct rec_state {
    const hs_train_config *c;
    hs_model *net;
    hs_mlp *mlp;
    const hs_dataset *train, *test;
    hs_train_result *res;
    int sidx[S_COUNT];           /* index into res->series, or -1 */
    rec_view vtrain, vtest;
    /* label hierarchy */
    int V, b, K;
    double *probs;               /* [out] softmax of one row */
    /* representations of the MLP: R = 2 n_hidden + 2 */
    int R, wmax;
    float *gx;                   /* [max_batch x dim] gathered rows */
    /* centroids: the first record.centroids test rows of each leaf class */
    long long *cent_rows;
    long long n_cent;
    long long *cent_count;       /* [K] */
    double *csum, *gram;         /* [K x wmax], [R x K x K] */
    double *lgram;               /* [K x K] scratch for coarse levels */
    /* representation snapshots */
    long long *snap_rows;
    int n_snap;
    /* neighbour draws: a fixed pool of test rows, S of them drawn afresh at each point */
    long long *nb_pool, *nb_order, *nb_rows; /* [n_pool], scratch [n_pool], [S] */
    long long n_pool;
    /* singular values */
    double *sv_a, *sv_s;
    /* modes of Sigma_yx */
    int kmodes, modes_in, modes_out;
    double *mU, *mS, *mV;        /* [out x k], [k], [in x k] */
    double *mw_a, *mw_b;         /* [wmax x k] */
    /* the probes (probes.h), NULL when off */
    probe_sens *sens;
    probe_stab *stab;
};

static hs_series *series_at(rec_state *R, int s) { return R->sidx[s] < 0 ? NULL : &R->res->series[R->sidx[s]]; }

double *rec_point(hs_series *S, size_t t, int final) {
    if (!S) return NULL;
    size_t every = S->spec.every, j;
    if (t % every == 0) j = t / every;
    else if (final) j = t / every + 1;
    else return NULL;
    if (j >= S->spec.n_points) return NULL;
    S->point[j] = (long long)t;
    if (S->n < j + 1) S->n = j + 1;
    return S->values + j * S->size;
}

/* Point j of series s for record point t, or NULL when s does not measure at t. */
static double *point_of(rec_state *R, int s, size_t t, int final) { return rec_point(series_at(R, s), t, final); }

static void view_free(rec_view *v) {
    if (v->take > 0) {
        free(v->d.x);
        free(v->d.y);
        free(v->d.t);
    }
    free(v->perm);
    memset(v, 0, sizeof *v);
}

static hs_code view_init(rec_view *v, const hs_dataset *src, long long take, hs_error *err) {
    memset(v, 0, sizeof *v);
    v->src = src;
    v->d = *src;
    if (take <= 0 || take >= src->n) return HS_OK; /* the whole set */
    v->take = take;
    v->d.n = take;
    v->d.x = malloc((size_t)take * (size_t)src->dim * sizeof *v->d.x);
    v->d.y = malloc((size_t)take * sizeof *v->d.y);
    v->d.t = src->t ? malloc((size_t)take * (size_t)src->t_dim * sizeof *v->d.t) : NULL;
    v->perm = malloc((size_t)src->n * sizeof *v->perm);
    if (!v->d.x || !v->d.y || (src->t && !v->d.t) || !v->perm)
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for an evaluation draw of %lld rows", take);
    for (long long i = 0; i < src->n; i++) v->perm[i] = (uint32_t)i;
    return HS_OK;
}

/* A fresh draw without replacement: the first `take` steps of a Fisher-Yates shuffle of the
 * running permutation (uniform whatever order the permutation is in). */
static void view_draw(rec_view *v, uint64_t seed, uint32_t index) {
    if (v->take == 0) return;
    const hs_dataset *s = v->src;
    hs_rng rng;
    hs_rng_init(&rng, seed, hs_rng_stream(HS_STREAM_RECORD, index));
    for (long long i = 0; i < v->take; i++) {
        long long j = i + (long long)hs_rng_below(&rng, (uint64_t)(s->n - i));
        uint32_t tmp = v->perm[i];
        v->perm[i] = v->perm[j], v->perm[j] = tmp;
        size_t r = v->perm[i];
        memcpy(v->d.x + (size_t)i * s->dim, s->x + r * s->dim, (size_t)s->dim * sizeof *s->x);
        v->d.y[i] = s->y[r];
        if (s->t) memcpy(v->d.t + (size_t)i * s->t_dim, s->t + r * s->t_dim, (size_t)s->t_dim * sizeof *s->t);
    }
}

void rec_views(rec_state *R, size_t t, const hs_dataset **train, const hs_dataset **test) {
    view_draw(&R->vtrain, R->c->seed, (uint32_t)(4 * t));
    view_draw(&R->vtest, R->c->seed, (uint32_t)(4 * t + 1));
    *train = &R->vtrain.d;
    *test = &R->vtest.d;
}

uint32_t *rec_draws(rec_state *R, int test, size_t *n) {
    const rec_view *v = test ? &R->vtest : &R->vtrain;
    *n = v->take > 0 ? (size_t)v->src->n : 0;
    return *n ? v->perm : NULL;
}

void rec_free(rec_state *R) {
    if (!R) return;
    view_free(&R->vtrain);
    view_free(&R->vtest);
    free(R->probs), free(R->gx), free(R->cent_rows), free(R->cent_count), free(R->csum), free(R->gram);
    free(R->lgram), free(R->snap_rows), free(R->nb_pool), free(R->nb_order), free(R->nb_rows), free(R->sv_a), free(R->sv_s), free(R->mU), free(R->mS), free(R->mV);
    free(R->mw_a), free(R->mw_b);
    probe_sens_free(R->sens);
    probe_stab_free(R->stab);
    free(R);
}

/* The neighbour pool: up to record.neighbours_pool test rows of every class, the first ones met
 * in a seeded shuffle of the test set, so the pool is fixed for the run and spread over it. */
static hs_code neigh_pool(rec_state *R, hs_error *err) {
    const hs_dataset *d = R->test;
    const long long n = d->n, per = R->c->neighbours_pool;
    long long *perm = malloc((size_t)(n > 0 ? n : 1) * sizeof *perm), *count = calloc((size_t)R->K + 1, sizeof *count);
    R->nb_pool = malloc((size_t)(n > 0 ? n : 1) * sizeof *R->nb_pool);
    R->nb_order = malloc((size_t)(n > 0 ? n : 1) * sizeof *R->nb_order);
    R->nb_rows = malloc((size_t)R->c->neighbours * sizeof *R->nb_rows);
    if (!perm || !count || !R->nb_pool || !R->nb_order || !R->nb_rows) {
        free(perm), free(count);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the neighbour pool");
    }
    hs_rng rng;
    hs_rng_init(&rng, R->c->seed, hs_rng_stream(HS_STREAM_RECORD, 3)); /* 4t + 3 at t = 0: no view uses it */
    for (long long i = 0; i < n; i++) perm[i] = i;
    for (long long i = n - 1; i > 0; i--) {
        long long j = (long long)hs_rng_below(&rng, (uint64_t)(i + 1)), tmp = perm[i];
        perm[i] = perm[j], perm[j] = tmp;
    }
    for (long long i = 0; i < n; i++) {
        int y = d->y[perm[i]];
        if (y >= 0 && y < R->K && count[y] < per) count[y]++, R->nb_pool[R->n_pool++] = perm[i];
    }
    free(perm), free(count);
    if (R->n_pool < R->c->neighbours)
        return HS_FAIL(err, HS_ERR_VALUE, "record.neighbours = %d but the pool holds %lld test examples",
                       R->c->neighbours, R->n_pool);
    return HS_OK;
}

/* Draw the point's rows without replacement from the pool, leaf labels into labels: a partial
 * Fisher-Yates from the pool's fixed order seeded by the record point, so a draw depends on the
 * config and t alone (a resumed run draws what an uninterrupted one would, with nothing saved). */
static void neigh_draw(rec_state *R, size_t t, double *rows, double *labels) {
    hs_rng rng;
    hs_rng_init(&rng, R->c->seed, hs_rng_stream(HS_STREAM_RECORD, (uint32_t)(4 * t + 2)));
    long long *o = R->nb_order;
    memcpy(o, R->nb_pool, (size_t)R->n_pool * sizeof *o);
    for (long long i = 0; i < R->c->neighbours; i++) {
        long long j = i + (long long)hs_rng_below(&rng, (uint64_t)(R->n_pool - i)), tmp = o[i];
        o[i] = o[j], o[j] = tmp;
        R->nb_rows[i] = o[i];
        rows[i] = (double)R->nb_rows[i], labels[i] = R->test->y[R->nb_rows[i]];
    }
}

hs_code rec_init(rec_state **out, const hs_train_config *c, const hs_train_layout *lay, hs_model *net,
                 const hs_dataset *train, const hs_dataset *test, hs_train_result *res, hs_error *err) {
    *out = NULL;
    rec_state *R = calloc(1, sizeof *R);
    if (!R) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the recorders");
    *out = R;
    R->c = c, R->net = net, R->mlp = hs_model_as_mlp(net), R->train = train, R->test = test, R->res = res;
    for (int s = 0; s < S_COUNT; s++) R->sidx[s] = -1;

    /* the run's series, as the layout announced them */
    res->series = calloc(lay->n_series ? lay->n_series : 1, sizeof *res->series);
    if (!res->series) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the series");
    res->n_series = lay->n_series;
    for (size_t i = 0; i < lay->n_series; i++) {
        hs_series *S = &res->series[i];
        S->spec = lay->series[i];
        S->size = 1;
        for (int d = 0; d < S->spec.ndim; d++) S->size *= S->spec.dims[d];
        S->values = malloc(S->spec.n_points * S->size * sizeof *S->values);
        S->point = malloc(S->spec.n_points * sizeof *S->point);
        if (!S->values || !S->point) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for series %s", S->spec.name);
        for (size_t k = 0; k < S->spec.n_points * S->size; k++) S->values[k] = NAN;
        for (size_t k = 0; k < S->spec.n_points; k++) S->point[k] = -1;
        for (int s = 0; s < S_COUNT; s++)
            if (strcmp(series_name[s], S->spec.name) == 0) R->sidx[s] = (int)i;
    }

    HS_TRY(err, view_init(&R->vtrain, train, c->eval_samples, err));
    HS_TRY(err, view_init(&R->vtest, test, c->eval_samples, err));
    R->V = levels_of(c), R->b = c->data.branching, R->K = train->classes;
    R->probs = malloc((size_t)(net->out_dim > 0 ? net->out_dim : 1) * sizeof *R->probs);
    R->gx = malloc((size_t)net->max_batch * (size_t)train->dim * sizeof *R->gx);
    if (!R->probs || !R->gx) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the recorders' buffers");

    if (R->mlp) {
        R->R = 2 * R->mlp->o.n_hidden + 2;
        R->wmax = train->dim;
        for (int l = 1; l <= R->mlp->n_dense; l++)
            if (R->mlp->dims[l] > R->wmax) R->wmax = R->mlp->dims[l];
    }
    const size_t K = (size_t)R->K;
    if (series_at(R, S_CENTER_GAP) || series_at(R, S_CENTROID_GRAM)) {
        R->cent_count = calloc(K, sizeof *R->cent_count);
        R->cent_rows = malloc((size_t)(test->n > 0 ? test->n : 1) * sizeof *R->cent_rows);
        R->csum = malloc((size_t)R->R * K * (size_t)R->wmax * sizeof *R->csum);
        R->gram = malloc((size_t)R->R * K * K * sizeof *R->gram);
        R->lgram = malloc(K * K * sizeof *R->lgram);
        if (!R->cent_count || !R->cent_rows || !R->csum || !R->gram || !R->lgram)
            return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the centroid recorder (%zu classes)", K);
        for (long long i = 0; i < test->n; i++) {
            int y = test->y[i];
            if (y >= 0 && (size_t)y < K && R->cent_count[y] < c->centroids) R->cent_count[y]++, R->cent_rows[R->n_cent++] = i;
        }
    }
    if (series_at(R, S_REP_SNAPSHOT)) {
        R->n_snap = (int)(c->snapshot_samples < test->n ? c->snapshot_samples : test->n);
        R->snap_rows = malloc((size_t)(R->n_snap > 0 ? R->n_snap : 1) * sizeof *R->snap_rows);
        if (!R->snap_rows) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for snapshot rows");
        for (int s = 0; s < R->n_snap; s++) R->snap_rows[s] = (long long)s * test->n / R->n_snap; /* spread over the set */
    }
    if (series_at(R, S_NEIGH_REP)) HS_TRY(err, neigh_pool(R, err));
    if (series_at(R, S_SVALS)) {
        size_t big = 1;
        for (int k = 0; k < net->n_tensors; k++)
            if (net->tensors[k].kind == HS_TENSOR_WEIGHT && net->tensors[k].size > big) big = net->tensors[k].size;
        R->sv_a = malloc(big * sizeof *R->sv_a);
        R->sv_s = malloc(big * sizeof *R->sv_s);
        if (!R->sv_a || !R->sv_s) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the SVD recorder");
    }
    if (series_at(R, S_MODE_STRENGTH) && R->mlp) {
        double *S = NULL;
        int in = 0, o = net->out_dim;
        HS_TRY(err, rec_sigma_yx(train, o, &S, &in, err));
        int r = o < in ? o : in, k = c->modes < r ? c->modes : r;
        double *U = malloc((size_t)o * r * sizeof *U), *s = malloc((size_t)r * sizeof *s);
        double *Vt = malloc((size_t)r * in * sizeof *Vt), *sup = malloc((size_t)(r > 1 ? r : 2) * sizeof *sup);
        R->mU = malloc((size_t)o * k * sizeof *R->mU);
        R->mS = malloc((size_t)(k > 0 ? k : 1) * sizeof *R->mS);
        R->mV = malloc((size_t)in * k * sizeof *R->mV);
        R->mw_a = malloc((size_t)R->wmax * k * sizeof *R->mw_a);
        R->mw_b = malloc((size_t)R->wmax * k * sizeof *R->mw_b);
        int info = (U && s && Vt && sup && R->mU && R->mS && R->mV && R->mw_a && R->mw_b)
                       ? LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'S', 'S', o, in, S, in, s, U, r, Vt, in, sup)
                       : -1000;
        if (info == 0) {
            for (int a = 0; a < k; a++) {
                R->mS[a] = s[a];
                for (int i = 0; i < o; i++) R->mU[(size_t)i * k + a] = U[(size_t)i * r + a];
                for (int i = 0; i < in; i++) R->mV[(size_t)i * k + a] = Vt[(size_t)a * in + i];
            }
            R->kmodes = k, R->modes_in = in, R->modes_out = o;
        }
        free(S), free(U), free(s), free(Vt), free(sup);
        if (info != 0)
            return HS_FAIL(err, info == -1000 ? HS_ERR_NOMEM : HS_ERR_INTERNAL, "SVD of Sigma_yx (%d x %d) failed (%d)",
                           o, in, info);
    }
    HS_TRY(err, probe_sens_init(&R->sens, c, net, res, err));
    HS_TRY(err, probe_stab_init(&R->stab, c, net, test, res, err));
    return HS_OK;
}

/* ================================================================ evaluation with levels */

static int argmax_d(const double *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

void rec_evaluate(rec_state *R, hs_model *net, const hs_dataset *d, hs_loss loss, int levels_at, size_t t,
                  double *mean_loss, double *accuracy) {
    if (d->n == 0) {
        *mean_loss = *accuracy = NAN;
        return;
    }
    const int K = net->out_dim, V = levels_at ? R->V : 0, b = R->b;
    const int real = d->t && d->t_dim == K && loss == HS_LOSS_MSE;
    double lacc[MAX_LEVELS] = {0}, lprob[MAX_LEVELS] = {0}, lloss[MAX_LEVELS] = {0};
    double sum = 0;
    long long correct = 0;
    const int chunk = net->max_batch;
    for (long long i = 0; i < d->n; i += chunk) {
        int nb = (int)(d->n - i < chunk ? d->n - i : chunk);
        const float *logits = hs_model_forward(net, d->x + (size_t)i * (size_t)d->dim, nb, HS_MODE_EVAL);
        if (!logits) {
            *mean_loss = *accuracy = NAN;
            return;
        }
        int ok = 0;
        sum += nb * hs_loss_forward_backward(loss, logits, d->y + i, real ? d->t + (size_t)i * K : NULL, nb, K, NULL,
                                             &ok);
        if (K == 1) { /* one real output: the sign decides the class */
            ok = 0;
            for (int r = 0; r < nb; r++) {
                int target_pos = real ? d->t[i + r] > 0 : d->y[i + r] == 1;
                ok += (logits[r] > 0) == target_pos;
            }
        }
        correct += ok;
        for (int r = 0; r < nb && V > 0; r++) {
            const float *z = logits + (size_t)r * K;
            double mx = z[0], Z = 0;
            for (int k = 1; k < K; k++) mx = z[k] > mx ? z[k] : mx;
            for (int k = 0; k < K; k++) Z += R->probs[k] = exp((double)z[k] - mx);
            for (int k = 0; k < K; k++) R->probs[k] /= Z;
            const int pred = argmax_d(R->probs, K), y = d->y[i + r];
            int div = 1, n_l = K;
            for (int l = 0; l < V; l++, div *= b, n_l /= b) {
                lacc[l] += pred / div == y / div;
                if (l > 0) /* probabilities of the level-l classes: sums of b children, in place */
                    for (int A = 0; A < n_l; A++) {
                        double s = 0;
                        for (int q = 0; q < b; q++) s += R->probs[A * b + q];
                        R->probs[A] = s;
                    }
                lprob[l] += argmax_d(R->probs, n_l) == y / div;
                lloss[l] += -log(R->probs[y / div] > 1e-300 ? R->probs[y / div] : 1e-300);
            }
        }
    }
    *mean_loss = sum / (double)d->n;
    *accuracy = (double)correct / (double)d->n;
    double *pa = V ? point_of(R, S_LEVEL_ACC, t, 0) : NULL, *pp = V ? point_of(R, S_LEVEL_ACC_PROB, t, 0) : NULL;
    double *pl = V ? point_of(R, S_LEVEL_LOSS, t, 0) : NULL;
    for (int l = 0; l < V; l++) {
        if (pa) pa[l] = lacc[l] / (double)d->n;
        if (pp) pp[l] = lprob[l] / (double)d->n;
        if (pl) pl[l] = lloss[l] / (double)d->n;
    }
}

/* ================================================================ representations */

/* Rows of representation r of the last forward ([B x width]); input = the forwarded rows. */
static const float *rep_rows(const rec_state *R, int r, const float *input, int *width) {
    const hs_mlp *m = R->mlp;
    if (r == 0) return *width = m->dims[0], input;
    if (r == R->R - 1) return *width = m->dims[m->n_dense], m->logits;
    int l = (r - 1) / 2;
    *width = m->dims[l + 1];
    return (r - 1) % 2 == 0 ? m->z[l] : m->h[l];
}

/* Forward rows[0..n) of the test set in chunks; fn(ctx, first, count) after each chunk. */
static int forward_rows(rec_state *R, const long long *rows, long long n,
                        void (*fn)(rec_state *, const long long *, int, void *), void *ctx) {
    const hs_dataset *d = R->test;
    const int chunk = R->net->max_batch;
    for (long long i = 0; i < n; i += chunk) {
        int nb = (int)(n - i < chunk ? n - i : chunk);
        for (int r = 0; r < nb; r++)
            memcpy(R->gx + (size_t)r * d->dim, d->x + (size_t)rows[i + r] * d->dim, (size_t)d->dim * sizeof *R->gx);
        if (!hs_model_forward(R->net, R->gx, nb, HS_MODE_EVAL)) return -1;
        fn(R, rows + i, nb, ctx);
    }
    return 0;
}

/* Per-class sums of every representation: csum is [R x K x wmax]. */
static void add_centroids(rec_state *R, const long long *rows, int nb, void *ctx) {
    (void)ctx;
    const size_t K = (size_t)R->K;
    for (int rep = 0; rep < R->R; rep++) {
        int w;
        const float *h = rep_rows(R, rep, R->gx, &w);
        for (int r = 0; r < nb; r++) {
            double *dst = R->csum + ((size_t)rep * K + (size_t)R->test->y[rows[r]]) * R->wmax;
            const float *src = h + (size_t)r * w;
            for (int k = 0; k < w; k++) dst[k] += src[k];
        }
    }
}

/* Gram matrix of the leaf centroids of every representation into R->gram, from one forward
 * pass over the centroid examples. */
static int centroid_grams(rec_state *R) {
    const int K = R->K;
    memset(R->csum, 0, (size_t)R->R * K * R->wmax * sizeof *R->csum);
    if (forward_rows(R, R->cent_rows, R->n_cent, add_centroids, NULL) != 0) return -1;
    for (int rep = 0; rep < R->R; rep++) {
        int w;
        rep_rows(R, rep, R->gx, &w);
        double *C = R->csum + (size_t)rep * K * R->wmax;
        for (int c = 0; c < K; c++)
            for (int k = 0; k < w; k++) C[(size_t)c * R->wmax + k] /= R->cent_count[c] > 0 ? (double)R->cent_count[c] : NAN;
        double *G = R->gram + (size_t)rep * K * K;
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, K, w, 1.0, C, R->wmax, 0.0, G, K);
        for (int a = 0; a < K; a++)
            for (int c = 0; c < a; c++) G[(size_t)a * K + c] = G[(size_t)c * K + a];
    }
    return 0;
}

/* center_gap of one representation: per level, the mean cosine distance between cousin classes
 * minus that between sibling classes. Coarse centroids are means of their leaves' centroids
 * (equal counts per leaf), so the coarse Gram is the block mean of the leaf Gram. */
static void center_gaps(rec_state *R, const double *G, double *gap) {
    const int b = R->b;
    int n = R->K;
    memcpy(R->lgram, G, (size_t)n * n * sizeof *G);
    for (int l = 0; l < R->V; l++) {
        if (l > 0) { /* coarsen in place: block means of b x b blocks */
            int m = n / b;
            for (int A = 0; A < m; A++)
                for (int B = 0; B < m; B++) {
                    double s = 0;
                    for (int p = 0; p < b; p++)
                        for (int q = 0; q < b; q++) s += R->lgram[(size_t)(A * b + p) * n + (B * b + q)];
                    R->lgram[(size_t)A * m + B] = s / (b * b); /* row-major m x m fits in the read part */
                }
            n = m;
        }
        double sib = 0, cou = 0;
        long long ns = 0, nc = 0;
        for (int A = 0; A < n; A++)
            for (int B = A + 1; B < n; B++) {
                double gaa = R->lgram[(size_t)A * n + A], gbb = R->lgram[(size_t)B * n + B];
                double dist = 1.0 - R->lgram[(size_t)A * n + B] / sqrt(gaa * gbb);
                if (A / b == B / b) sib += dist, ns++;
                else if (A / (b * b) == B / (b * b)) cou += dist, nc++;
            }
        gap[l] = ns > 0 && nc > 0 ? cou / nc - sib / ns : NAN;
    }
}

typedef struct snap_ctx {
    double *dst;   /* [R x S x wmax] */
    size_t stride; /* S, the series' samples per rep (the request: more than the set may hold) */
    long long done;
} snap_ctx;

static void copy_snapshot(rec_state *R, const long long *rows, int nb, void *ctx) {
    snap_ctx *s = ctx;
    for (int rep = 0; rep < R->R; rep++) {
        int w;
        const float *h = rep_rows(R, rep, R->gx, &w);
        for (int r = 0; r < nb; r++) {
            double *dst = s->dst + ((size_t)rep * s->stride + (size_t)(s->done + r)) * R->wmax;
            for (int k = 0; k < w; k++) dst[k] = h[(size_t)r * w + k];
        }
    }
    (void)rows;
    s->done += nb;
}

/* The chosen representation of the neighbour draws into ctx (a snap_ctx over one rep). */
static void copy_neigh(rec_state *R, const long long *rows, int nb, void *ctx) {
    snap_ctx *s = ctx;
    int w;
    const float *h = rep_rows(R, R->c->neighbours_rep, R->gx, &w);
    for (int r = 0; r < nb; r++)
        for (int k = 0; k < w; k++) s->dst[(size_t)(s->done + r) * s->stride + k] = h[(size_t)r * w + k];
    (void)rows;
    s->done += nb;
}

/* ================================================================ weights */

/* The rows x cols values of tensor ts, row-major without its padding (hs_tensor), into dst. */
static void tensor_values(const hs_tensor *ts, const float *params, double *dst) {
    for (int i = 0; i < ts->rows; i++)
        for (int j = 0; j < ts->cols; j++) dst[(size_t)i * ts->cols + j] = params[ts->offset + (size_t)i * ts->ld + j];
}

static void weight_stats(rec_state *R, size_t t, int final) {
    hs_model *net = R->net;
    double *gn = point_of(R, S_GRAD_NORM, t, final), *sv = point_of(R, S_SVALS, t, final);
    hs_series *svs = series_at(R, S_SVALS);
    size_t kk = svs ? svs->spec.dims[1] : 0;
    int w = 0;
    for (int k = 0; k < net->n_tensors; k++) {
        const hs_tensor *ts = &net->tensors[k];
        if (ts->kind != HS_TENSOR_WEIGHT) continue;
        if (gn) {
            double s = 0;
            for (size_t i = 0; i < ts->size; i++) s += (double)net->grads[ts->offset + i] * net->grads[ts->offset + i];
            gn[w] = R->res->steps > 0 ? sqrt(s) : NAN;
        }
        if (sv && ts->rows > 0 && ts->cols > 0) {
            tensor_values(ts, net->params, R->sv_a);
            int mn = ts->rows < ts->cols ? ts->rows : ts->cols;
            if (LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', ts->rows, ts->cols, R->sv_a, ts->cols, R->sv_s, NULL, ts->cols,
                               NULL, ts->cols) == 0)
                for (size_t i = 0; i < kk && (int)i < mn; i++) sv[(size_t)w * kk + i] = R->sv_s[i];
        }
        w++;
    }
}

/* u_a^T (W_n ... W_0) v_a of the MLP's weights, for the top modes of Sigma_yx. */
static void mode_strengths(rec_state *R, size_t t, int final) {
    double *ms = point_of(R, S_MODE_STRENGTH, t, final), *mv = point_of(R, S_MODE_SVALS, t, final);
    if (!ms || !R->kmodes) return;
    const hs_mlp *m = R->mlp;
    const int k = R->kmodes;
    double *cur = R->mw_a, *nxt = R->mw_b;
    memcpy(cur, R->mV, (size_t)R->modes_in * k * sizeof *cur);
    for (int l = 0; l < m->n_dense; l++) {
        const int rows = m->dims[l + 1], cols = m->dims[l];
        const float *W = m->W[l];
        for (int i = 0; i < rows; i++)
            for (int a = 0; a < k; a++) {
                double s = 0;
                for (int j = 0; j < cols; j++) s += (double)W[(size_t)i * cols + j] * cur[(size_t)j * k + a];
                nxt[(size_t)i * k + a] = s;
            }
        double *tmp = cur;
        cur = nxt, nxt = tmp;
    }
    for (int a = 0; a < k; a++) {
        double s = 0;
        for (int i = 0; i < R->modes_out; i++) s += R->mU[(size_t)i * k + a] * cur[(size_t)i * k + a];
        ms[a] = s;
        if (mv) mv[a] = R->mS[a];
    }
}

static void copy_weights(rec_state *R, int s, int layer, size_t t, int final) {
    double *dst = point_of(R, s, t, final);
    if (!dst) return;
    for (int k = 0; k < R->net->n_tensors; k++) {
        const hs_tensor *ts = &R->net->tensors[k];
        if (ts->kind != HS_TENSOR_WEIGHT || ts->layer != layer) continue;
        tensor_values(ts, R->net->params, dst);
    }
}

/* ================================================================ a record point */

hs_code rec_measure(rec_state *R, hs_model *net, size_t t, int final, hs_error *err) {
    (void)net;
    double *gapp = point_of(R, S_CENTER_GAP, t, final), *gram = point_of(R, S_CENTROID_GRAM, t, final);
    if (gapp || gram) {
        if (centroid_grams(R) != 0) return HS_FAIL(err, HS_ERR_INTERNAL, "the net refused a centroid chunk");
        const size_t KK = (size_t)R->K * R->K;
        for (int rep = 0; rep < R->R; rep++) {
            if (gapp) center_gaps(R, R->gram + rep * KK, gapp + (size_t)rep * R->V);
            if (gram) memcpy(gram + rep * KK, R->gram + rep * KK, KK * sizeof *gram);
        }
    }
    double *snap = point_of(R, S_REP_SNAPSHOT, t, final), *labels = point_of(R, S_REP_LABELS, t, final);
    if (snap) {
        snap_ctx s = {snap, series_at(R, S_REP_SNAPSHOT)->spec.dims[1], 0};
        if (forward_rows(R, R->snap_rows, R->n_snap, copy_snapshot, &s) != 0)
            return HS_FAIL(err, HS_ERR_INTERNAL, "the net refused a snapshot chunk");
    }
    for (int i = 0; labels && i < R->n_snap; i++) labels[i] = R->test->y[R->snap_rows[i]];
    double *nrep = point_of(R, S_NEIGH_REP, t, final), *nrows = point_of(R, S_NEIGH_ROWS, t, final);
    double *nlab = point_of(R, S_NEIGH_LABELS, t, final);
    if (nrep && nrows && nlab) {
        neigh_draw(R, t, nrows, nlab);
        snap_ctx s = {nrep, series_at(R, S_NEIGH_REP)->spec.dims[1], 0};
        if (forward_rows(R, R->nb_rows, R->c->neighbours, copy_neigh, &s) != 0)
            return HS_FAIL(err, HS_ERR_INTERNAL, "the net refused a neighbour chunk");
    }
    weight_stats(R, t, final);
    if (R->mlp) {
        mode_strengths(R, t, final);
        copy_weights(R, S_W_FIRST, 0, t, final);
        copy_weights(R, S_W_LAST, R->mlp->n_dense - 1, t, final);
    }
    HS_TRY(err, probe_sens_measure(R->sens, R->net, t, final, err));
    HS_TRY(err, probe_stab_measure(R->stab, R->net, t, final, err));
    return HS_OK;
}
