/* test_recorders.c - the time-resolved recorders of a training: the steps and log
 * record schedules, fresh evaluation draws, and every series checked against a computation by
 * hand on the net at the record point (through the on_record hook, which sees the net right
 * after the recorders ran). */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

#include "hsweep/plan.h"
#include "hsweep/rng.h"
#include "hsweep/spec.h"
#include "hsweep/train.h"
#include "config_of.h"
#include "testing.h"

/* ================================================================ helpers */

/* K Gaussian blobs in p dims (class i % K), means 2.5 apart on the axes. */
static void blobs(hs_dataset *d, int K, int p, int n, uint64_t seed) {
    *d = (hs_dataset){.n = n, .dim = p, .classes = K};
    d->x = malloc((size_t)n * (size_t)p * sizeof *d->x);
    d->y = malloc((size_t)n * sizeof *d->y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d->x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d->y);
    hs_rng r;
    hs_rng_init(&r, seed, 77);
    for (int i = 0; i < n; i++) {
        d->y[i] = i % K;
        for (int j = 0; j < p; j++) d->x[i * p + j] = (float)(hs_rng_normal(&r) + (j == i % K % p ? 2.5 : 0.0));
    }
}

static const hs_series *find(const hs_train_result *res, const char *name) {
    for (size_t i = 0; i < res->n_series; i++)
        if (strcmp(res->series[i].spec.name, name) == 0) return &res->series[i];
    return NULL;
}

/* ================================================================ schedules */

static const char *steps_yaml = "base:\n"
    "  seed: 2\n"
    "  data: {kind: gaussian, classes: 3, dim: 5, per_class: 40}\n"
    "  model: {depth: 0, width: 8}\n"
    "  train: {epochs: 12, batch: 32, lr: 0.1}\n"
    "  record: {schedule: steps, every_steps: 10, separation: none}\n";

static void test_steps_schedule(void) {
    hs_train_config c;
    config_of(steps_yaml, &c);
    hs_train_layout lay;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_train_layout_of(&c, &lay, &err), HS_OK);
    /* 120 rows in batches of 32: 4 steps per epoch, 48 in all: points at 0 10 20 30 40 48 */
    CU_ASSERT_EQUAL(lay.steps_per_epoch, 4);
    CU_ASSERT_EQUAL(lay.total_steps, 48);
    CU_ASSERT_EQUAL(lay.n_records, 6);
    CU_ASSERT_EQUAL(lay.n_series, 0);
    hs_dataset d = {0};
    blobs(&d, 3, 5, 120, 1);
    hs_train_result res = {0};
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, &d, NULL, &res, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(res.n_records, 6);
    const long long want[] = {0, 10, 20, 30, 40, 48}, epochs[] = {0, 2, 5, 7, 10, 12};
    for (int i = 0; i < 6; i++) {
        CU_ASSERT_EQUAL(res.records[i].step, want[i]);
        CU_ASSERT_EQUAL(res.records[i].epoch, epochs[i]);
    }
    CU_ASSERT(isnan(res.records[0].epoch_loss));
    CU_ASSERT(isfinite(res.records[1].epoch_loss) && res.records[1].epoch_loss > 0);
    CU_ASSERT_EQUAL(res.steps, 48);
    hs_train_result_free(&res);

    /* log: round(48^(i/4)) = 1 3 7 18 48 after step 0 */
    c.record_schedule = HS_REC_LOG, c.record_log_points = 5;
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, &d, NULL, &res, &err), HS_OK);
    const long long logw[] = {0, 1, 3, 7, 18, 48};
    CU_ASSERT_EQUAL_FATAL(res.n_records, 6);
    for (int i = 0; i < 6; i++) CU_ASSERT_EQUAL(res.records[i].step, logw[i]);
    CU_ASSERT_EQUAL_FATAL(hs_train_layout_of(&c, &lay, &err), HS_OK);
    CU_ASSERT_EQUAL(lay.n_records, 6);
    hs_train_result_free(&res);

    /* stop_loss is checked at the record points inside the epochs */
    c.record_schedule = HS_REC_STEPS, c.stop_loss = 10.0; /* any loss is below it */
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, &d, NULL, &res, &err), HS_OK);
    CU_ASSERT_EQUAL(res.n_records, 2);
    CU_ASSERT_EQUAL(res.steps, 10);
    HS_ASSERT_CONTAINS(res.message, "converged");
    hs_train_result_free(&res);

    /* fresh draws of 10 examples: accuracies are multiples of 1/10 and the draws differ */
    c.stop_loss = 0, c.eval_samples = 10;
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, &d, NULL, &res, &err), HS_OK);
    int differ = 0;
    for (size_t i = 0; i < res.n_records; i++) {
        double k = res.records[i].test_acc * 10;
        CU_ASSERT_DOUBLE_EQUAL(k, round(k), 1e-9);
        differ += res.records[i].test_acc != res.records[i].train_acc;
    }
    CU_ASSERT(differ > 0);
    hs_train_result_free(&res);
    hs_dataset_free(&d);
    hs_train_config_free(&c);
}

/* ================================================================ every series against a hand computation */

typedef struct check {
    hs_train_result *res;
    const hs_dataset *test;
    size_t t;
    int checked;
    double max_err;
} check;

static void note(check *k, double got, double want) {
    double e = fabs(got - want) / (1 + fabs(want));
    if (!(e <= k->max_err)) k->max_err = isnan(e) ? INFINITY : e;
}

/* The value of series name at record point t, element i, or NAN. */
static double at(const check *k, const char *name, size_t i) {
    const hs_series *s = find(k->res, name);
    if (!s) return NAN;
    for (size_t j = 0; j < s->n; j++)
        if (s->point[j] == (long long)k->t) return s->values[j * s->size + i];
    return NAN;
}

static double cosd(const double *a, const double *b, int w) {
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < w; i++) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
    return 1 - ab / sqrt(aa * bb);
}

static hs_code check_point(void *ctx, const hs_record *rec, hs_model *net, const hs_dataset *train, hs_error *err) {
    (void)rec, (void)train, (void)err;
    check *k = ctx;
    k->t = k->res->n_records - 1;
    const hs_dataset *d = k->test;
    hs_mlp *m = hs_model_as_mlp(net);
    const int K = 4, n = (int)d->n;
    /* level accuracies: the predicted leaf's parent (leaf / 2), and the summed probabilities */
    int ok0 = 0, ok1 = 0, okp = 0;
    double loss1 = 0;
    double cent[2][4][8] = {{{0}}}; /* input (dim 6) and logits (4) centroids of the first 5 per class */
    int cnt[4] = {0};
    for (int i = 0; i < n; i++) {
        const float *z = hs_model_forward(net, d->x + (size_t)i * d->dim, 1, HS_MODE_EVAL);
        int p = 0;
        double e[4], Z = 0;
        for (int c = 1; c < K; c++) p = z[c] > z[p] ? c : p;
        for (int c = 0; c < K; c++) Z += e[c] = exp(z[c]);
        ok0 += p == d->y[i], ok1 += p / 2 == d->y[i] / 2;
        double P[2] = {(e[0] + e[1]) / Z, (e[2] + e[3]) / Z};
        okp += (P[1] > P[0]) == (d->y[i] / 2 == 1);
        loss1 -= log(P[d->y[i] / 2]);
        int y = d->y[i];
        if (cnt[y] < 5) {
            for (int j = 0; j < d->dim; j++) cent[0][y][j] += d->x[(size_t)i * d->dim + j] / 5.0;
            for (int j = 0; j < K; j++) cent[1][y][j] += z[j] / 5.0;
            cnt[y]++;
        }
    }
    note(k, at(k, "level_acc", 0), (double)ok0 / n);
    note(k, at(k, "level_acc", 1), (double)ok1 / n);
    note(k, at(k, "level_acc_prob", 1), (double)okp / n);
    note(k, at(k, "level_loss", 1), loss1 / n);
    note(k, rec->test_acc, (double)ok0 / n);
    /* center gap at level 0: cousins (0-2, 0-3, 1-2, 1-3) minus siblings (0-1, 2-3); reps 0 and last */
    for (int r = 0; r < 2; r++) {
        int w = r == 0 ? d->dim : K, rep = r == 0 ? 0 : 2 * m->o.n_hidden + 1;
        double sib = (cosd(cent[r][0], cent[r][1], w) + cosd(cent[r][2], cent[r][3], w)) / 2;
        double cou = (cosd(cent[r][0], cent[r][2], w) + cosd(cent[r][0], cent[r][3], w) +
                      cosd(cent[r][1], cent[r][2], w) + cosd(cent[r][1], cent[r][3], w)) / 4;
        note(k, at(k, "center_gap", (size_t)rep * 2 + 0), cou - sib);
        CU_ASSERT(isnan(at(k, "center_gap", (size_t)rep * 2 + 1))); /* the top level has no cousins */
        /* the Gram matrix at snapshot points: entry (0, 2) */
        double g02 = 0;
        for (int j = 0; j < w; j++) g02 += cent[r][0][j] * cent[r][2][j];
        double got = at(k, "centroid_gram", (size_t)rep * 16 + 0 * 4 + 2);
        if (!isnan(got)) note(k, got, g02);
    }
    /* singular values of the first weight matrix, grad norm of the readout */
    double a[6 * 8], s[6];
    for (int i = 0; i < 8 * 6; i++) a[i] = m->W[0][i];
    CU_ASSERT_EQUAL(LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', 8, 6, a, 6, s, NULL, 6, NULL, 6), 0);
    for (int i = 0; i < 3; i++) note(k, at(k, "singular_values", (size_t)i), s[i]);
    double g = 0;
    for (int i = 0; i < K * 8; i++) g += (double)m->dW[1][i] * m->dW[1][i];
    if (k->res->steps > 0) note(k, at(k, "grad_norm", 1), sqrt(g));
    else CU_ASSERT(isnan(at(k, "grad_norm", 1)));
    /* weights at snapshots */
    double wf = at(k, "weights_first", 7);
    if (!isnan(wf)) note(k, wf, m->W[0][7]);
    k->checked++;
    return HS_OK;
}

static const char *levels_yaml = "base:\n"
    "  seed: 3\n"
    "  data: {kind: hierarchy, levels: 2, branching: 2}\n"
    "  model: {depth: 0, width: 8, norm: none}\n"
    "  train: {epochs: 5, batch: 20, lr: 0.05}\n"
    "  record: {schedule: steps, every_steps: 7, centroids: 5, snapshot_every: 2, snapshot_samples: 3,\n"
    "           grad_norms: true, svd: 3, weight_snapshots: true, separation: none}\n";

static void test_series_by_hand(void) {
    hs_train_config c;
    config_of(levels_yaml, &c);
    hs_dataset d = {0}, t = {0};
    blobs(&d, 4, 6, 100, 1);
    blobs(&t, 4, 6, 40, 2);
    hs_train_result res = {0};
    check k = {.res = &res, .test = &t};
    hs_train_hooks h = {.ctx = &k, .on_record = check_point};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, &t, &h, &res, &err), HS_OK);
    /* 5 steps per epoch, 25 in all: points at 0 7 14 21 25 */
    CU_ASSERT_EQUAL(res.n_records, 5);
    CU_ASSERT_EQUAL(k.checked, 5);
    printf("\n  largest relative deviation of a series from the hand computation: %.2e\n", k.max_err);
    CU_ASSERT(k.max_err < 1e-6);
    const char *names[] = {"level_acc", "level_acc_prob", "level_loss", "center_gap", "centroid_gram",
                           "rep_snapshot", "rep_labels", "grad_norm", "singular_values", "weights_first",
                           "weights_last"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const hs_series *s = find(&res, names[i]);
        if (!s) fprintf(stderr, "\n  missing series %s\n", names[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    }
    /* snapshots every 2 record points and at the last: points 0, 2, 4 */
    const hs_series *snap = find(&res, "rep_snapshot");
    CU_ASSERT_EQUAL(snap->n, 3);
    CU_ASSERT_EQUAL(snap->point[1], 2);
    CU_ASSERT_EQUAL(snap->spec.dims[0], 4); /* input, pre, post, logits */
    CU_ASSERT_EQUAL(snap->spec.dims[1], 3);
    CU_ASSERT_EQUAL(snap->spec.dims[2], 8); /* the widest: the hidden layer */
    /* the input rep of sample 1 (test row 13 = 1 * 40 / 3) and padding beyond its 6 dims */
    CU_ASSERT_DOUBLE_EQUAL(snap->values[(0 * 3 + 1) * 8 + 4], t.x[13 * 6 + 4], 0);
    CU_ASSERT(isnan(snap->values[(0 * 3 + 1) * 8 + 6]));
    const hs_series *lab = find(&res, "rep_labels");
    CU_ASSERT_DOUBLE_EQUAL(lab->values[1], t.y[13], 0);
    hs_train_result_free(&res);
    hs_dataset_free(&d);
    hs_dataset_free(&t);
    hs_train_config_free(&c);
}

/* ================================================================ modes of a deep linear net */

static const char *linear_yaml = "base:\n"
    "  seed: 4\n"
    "  data: {kind: gaussian, classes: 3, dim: 5, per_class: 30}\n"
    "  model: {depth: 1, width: 7, norm: none, act: identity, bias: false,\n"
    "          init: normal, init_scale: 0.05}\n"
    "  train: {epochs: 20, batch: 90, lr: 0.5, loss: mse}\n"
    "  record: {every: 5, modes: 3, separation: none}\n";

typedef struct mode_check {
    const hs_train_result *res;
    const hs_dataset *d;
    double max_err, last[3];
} mode_check;

static hs_code check_modes(void *ctx, const hs_record *rec, hs_model *net, const hs_dataset *train, hs_error *err) {
    (void)rec, (void)err;
    mode_check *k = ctx;
    hs_mlp *m = hs_model_as_mlp(net);
    const int in = 5, out = 3;
    /* Sigma_yx by hand and its SVD */
    double S[3 * 5] = {0}, U[9], s[3], Vt[15], sup[3];
    for (long long i = 0; i < train->n; i++)
        for (int j = 0; j < in; j++) S[train->y[i] * in + j] += train->x[i * in + j] / (double)train->n;
    CU_ASSERT_EQUAL(LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'S', 'S', out, in, S, in, s, U, 3, Vt, in, sup), 0);
    /* W_total = W2 W1 W0 */
    double P[3 * 5] = {0};
    for (int o = 0; o < out; o++)
        for (int j = 0; j < in; j++) {
            double v = 0;
            for (int a = 0; a < 7; a++)
                for (int b = 0; b < 7; b++) v += (double)m->W[2][o * 7 + a] * m->W[1][a * 7 + b] * m->W[0][b * in + j];
            P[o * in + j] = v;
        }
    const hs_series *ms = find(k->res, "mode_strength"), *sv = find(k->res, "mode_svals");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ms);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sv);
    size_t t = k->res->n_records - 1;
    for (int a = 0; a < 3; a++) {
        double u = 0;
        for (int o = 0; o < out; o++)
            for (int j = 0; j < in; j++) u += U[o * 3 + a] * P[o * in + j] * Vt[a * in + j];
        double e1 = fabs(ms->values[t * 3 + a] - u), e2 = fabs(sv->values[t * 3 + a] - s[a]);
        if (e1 > k->max_err) k->max_err = e1;
        if (e2 > k->max_err) k->max_err = e2;
        k->last[a] = u;
    }
    return HS_OK;
}

static void test_modes_of_linear_net(void) {
    hs_train_config c;
    config_of(linear_yaml, &c);
    hs_dataset d = {0};
    blobs(&d, 3, 5, 90, 5);
    hs_train_result res = {0};
    mode_check k = {.res = &res, .d = &d};
    hs_train_hooks h = {.ctx = &k, .on_record = check_modes};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &d, &d, &h, &res, &err), HS_OK);
    CU_ASSERT_EQUAL(res.n_records, 5);
    CU_ASSERT(k.max_err < 1e-9);
    /* small init: the modes start near 0 and the strongest grows first */
    const hs_series *ms = find(&res, "mode_strength");
    CU_ASSERT(fabs(ms->values[0]) < 1e-2);
    printf("\n  mode strengths at the end: %.4f %.4f %.4f (Sigma_yx singular values %.4f %.4f %.4f)\n", k.last[0],
           k.last[1], k.last[2], find(&res, "mode_svals")->values[0], find(&res, "mode_svals")->values[1],
           find(&res, "mode_svals")->values[2]);
    CU_ASSERT(k.last[0] > k.last[2]);
    hs_train_result_free(&res);
    hs_dataset_free(&d);
    hs_train_config_free(&c);
}

int main(void) {
    static const hs_test tests[] = {
        {"schedules: steps, log, stop_loss inside epochs, fresh evaluation draws", test_steps_schedule},
        {"series: levels, centroids, snapshots, svd, grad norms against hand computations", test_series_by_hand},
        {"series: mode strengths of a deep linear net", test_modes_of_linear_net},
        {NULL, NULL},
    };
    return hs_test_main("recorders", tests);
}
