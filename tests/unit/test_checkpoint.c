/* test_checkpoint.c - a training stopped at a step boundary, saved, and resumed in a fresh
 * hs_train_run finishes bit-identical to the uninterrupted run (records but `seconds`, per-layer
 * values, series, epochs_done, steps, status, message and the final parameters and buffers):
 *   an MLP with BatchNorm and Adam (weight decay, an lr drop mid-run, separation at every point);
 *   an MLP with momentum SGD on hierarchy labels, the steps schedule and every series a record
 *   point can make on synthetic data (levels, centroids, snapshots, grad norms, SVD, weights),
 *   with fresh evaluation draws;
 *   a CNN and an LCN on a small SRHM; the gated net on the routing toy;
 *   runs that converge (train.stop_loss) under both record schedules;
 * each stopped at chosen steps: the very first, mid-epoch, an epoch boundary, exactly after a
 * record point, the last, twice or three times in one run; and (all but the gated net and the
 * long converging run) at every single step, and once more stopped and resumed at every step in
 * turn. Periodic saves (every_seconds) leave the result unchanged; a corrupt, foreign or
 * truncated checkpoint is refused naming the path.
 * Each state piece was checked to matter by leaving it out of save and restore by hand: the BN
 * running statistics, the epoch loss sum, Adam's v, the optimiser step, the evaluation draws,
 * since_sum, the series, the per-layer values, the rebuilt w0 and the continued clock each make
 * this test fail. */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hsweep/data.h"
#include "hsweep/rng.h"
#include "hsweep/train.h"
#include "config_of.h"
#include "blobs.h"
#include "testing.h"

/* ================================================================ helpers */

static char g_dir[64];
static char g_path[128];

static void make_dir(void) {
    if (g_dir[0]) return;
    strcpy(g_dir, "/tmp/hsweep_ckpt_XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(g_dir));
    snprintf(g_path, sizeof g_path, "%s/run.ckpt", g_dir);
}

/* K Gaussian blobs in p dims, n_per rows each, class k shifted by 2.5 along axis k % p. */
static void blobs(hs_dataset *d, int K, int p, int n_per, uint64_t seed) { test_blobs(d, K, p, n_per, seed, 2.5); }

/* The hooks of one call: a stop after a number of polls, the state (parameters and buffers) at
 * every record point, and how many record points this call made. */
typedef struct probe {
    long long polls, stop_at_poll; /* should_stop fires at poll stop_at_poll (1 = before any step); 0 never */
    float *state;
    size_t size;
    int records;
} probe;

static int stop_at(void *ctx) {
    probe *p = ctx;
    return ++p->polls == p->stop_at_poll;
}

static hs_code keep_state(void *ctx, const hs_record *rec, hs_model *net, const hs_dataset *train, hs_error *err) {
    (void)rec, (void)train, (void)err;
    probe *p = ctx;
    p->records++;
    size_t n = hs_model_state_size(net);
    if (n != p->size) {
        free(p->state);
        p->state = malloc(n * sizeof *p->state);
        p->size = n;
    }
    if (!p->state) return HS_ERR_NOMEM;
    hs_model_state_get(net, p->state);
    return HS_OK;
}

typedef struct setup {
    const char *what;
    hs_train_config c;
    hs_dataset train, test;
} setup;

/* One hs_train_run with checkpoints at g_path. */
static hs_code run(setup *s, int checkpoint, int resume, long long stop_at_poll, double every, const char *run_id,
                   hs_train_result *res, probe *p, hs_error *err) {
    p->polls = 0, p->stop_at_poll = stop_at_poll, p->records = 0;
    hs_train_hooks h = {.ctx = p, .on_record = keep_state, .should_stop = stop_at};
    if (checkpoint)
        h.checkpoint = (hs_train_checkpointing){.path = g_path, .run_id = run_id, .every_seconds = every,
                                                .resume = resume};
    return hs_train_run(&s->c, &s->train, &s->test, &h, res, err);
}

static int same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Everything but `seconds` bit for bit; on a difference, say where (once). */
static int same_result(const char *what, const hs_train_result *a, const probe *pa, const hs_train_result *b,
                       const probe *pb) {
    char why[256] = "";
    if (a->status != b->status || strcmp(a->message, b->message) != 0)
        snprintf(why, sizeof why, "status/message: '%.100s' vs '%.100s'", a->message, b->message);
    else if (a->epochs_done != b->epochs_done || a->steps != b->steps)
        snprintf(why, sizeof why, "epochs/steps %lld/%lld vs %lld/%lld", a->epochs_done, a->steps, b->epochs_done,
                 b->steps);
    else if (a->n_records != b->n_records || a->n_layers != b->n_layers || a->n_series != b->n_series)
        snprintf(why, sizeof why, "%zu vs %zu records", a->n_records, b->n_records);
    for (size_t t = 0; !why[0] && t < a->n_records; t++)
        for (int f = 0; f < HS_RECORD_FIELDS && !why[0]; f++)
            if (strcmp(hs_record_field_names[f], "seconds") != 0 &&
                !same_double(hs_record_field(&a->records[t], f), hs_record_field(&b->records[t], f)))
                snprintf(why, sizeof why, "record %zu field %s: %.17g vs %.17g", t, hs_record_field_names[f],
                         hs_record_field(&a->records[t], f), hs_record_field(&b->records[t], f));
    size_t nl = a->n_records * HS_LAYER_FIELDS * a->n_layers;
    if (!why[0] && memcmp(a->layers, b->layers, nl * sizeof *a->layers) != 0) snprintf(why, sizeof why, "layers");
    for (size_t k = 0; !why[0] && k < a->n_series; k++) {
        const hs_series *x = &a->series[k], *y = &b->series[k];
        if (x->n != y->n || memcmp(x->point, y->point, x->spec.n_points * sizeof *x->point) != 0 ||
            memcmp(x->values, y->values, x->spec.n_points * x->size * sizeof *x->values) != 0)
            snprintf(why, sizeof why, "series %s", x->spec.name);
    }
    if (!why[0] && (pa->size != pb->size || !pa->state || !pb->state ||
                    memcmp(pa->state, pb->state, pa->size * sizeof *pa->state) != 0))
        snprintf(why, sizeof why, "final parameters and buffers");
    if (why[0]) fprintf(stderr, "\n  %s: differs from the uninterrupted run: %s\n", what, why);
    return !why[0];
}

/* Record seconds never go backwards across a resume. */
static int monotone_seconds(const hs_train_result *r) {
    for (size_t t = 1; t < r->n_records; t++)
        if (!(r->records[t].seconds >= r->records[t - 1].seconds)) return 0;
    return 1;
}

/* Stop at each global step of stops[0..n) in turn (each call resuming the previous one's
 * checkpoint), then run to the end; compare with ref. */
static void stop_and_resume(setup *s, const hs_train_result *ref, const probe *pref, const long long *stops, int n) {
    hs_error err = {0};
    CU_ASSERT_EQUAL(hs_train_checkpoint_remove(g_path, &err), HS_OK);
    long long at = 0;
    size_t records_before = 0;
    char what[256];
    int len = snprintf(what, sizeof what, "%s stopped at", s->what);
    for (int i = 0; i < n && len < (int)sizeof what; i++)
        len += snprintf(what + len, sizeof what - (size_t)len, " %lld", stops[i]);
    for (int i = 0; i <= n; i++) {
        hs_train_result res = {0};
        probe p = {0};
        long long poll = i < n ? stops[i] - at + 1 : 0;
        hs_code rc = run(s, 1, 1, poll, 0, "00000000000000aa", &res, &p, &err);
        if (rc != HS_OK) fprintf(stderr, "\n  %s: %s\n", what, err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
        CU_ASSERT_EQUAL(res.resumed_from_step, i == 0 ? -1 : at);
        /* on_record sees the new record points only */
        CU_ASSERT_EQUAL((size_t)p.records, res.n_records - records_before);
        if (i < n) {
            CU_ASSERT_EQUAL(res.status, HS_RUN_STOPPED);
            CU_ASSERT_EQUAL(res.steps, stops[i]);
            CU_ASSERT_EQUAL(res.checkpoints, 1);
            CU_ASSERT(res.checkpoint_bytes > 0);
            HS_ASSERT_CONTAINS(res.message, "checkpoint at step");
            at = stops[i], records_before = res.n_records;
        } else {
            CU_ASSERT(same_result(what, ref, pref, &res, &p));
            CU_ASSERT(monotone_seconds(&res));
            CU_ASSERT_EQUAL(res.checkpoints, 0);
        }
        free(p.state);
        hs_train_result_free(&res);
    }
    /* the finished run leaves its checkpoint for the caller to remove */
    CU_ASSERT_EQUAL(access(g_path, F_OK), 0);
    CU_ASSERT_EQUAL(hs_train_checkpoint_remove(g_path, &err), HS_OK);
    CU_ASSERT_NOT_EQUAL(access(g_path, F_OK), 0);
}

/* The uninterrupted run, then every stop list of stops (lists end at -1, the table at a lone
 * -1); with every_step, also a stop at each single step, and one run stopped and resumed at
 * every step in turn. */
static void check_setup(setup *s, const long long *stops, int every_step) {
    make_dir();
    hs_train_result ref = {0};
    probe pref = {0};
    hs_error err = {0};
    hs_code rc = run(s, 0, 0, 0, 0, NULL, &ref, &pref, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  %s: %s\n", s->what, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
    CU_ASSERT_EQUAL(ref.resumed_from_step, -1);
    CU_ASSERT_EQUAL(ref.checkpoints, 0);
    fprintf(stderr, "\n  %s: %lld steps, %zu records, %zu series, %s%s", s->what, ref.steps, ref.n_records,
            ref.n_series, hs_run_status_to_string(ref.status), ref.message[0] ? " (" : "");
    fprintf(stderr, "%s%s\n", ref.message, ref.message[0] ? ")" : "");
    for (const long long *p = stops; *p >= 0;) {
        int n = 0;
        while (p[n] >= 0) n++;
        for (int i = 0; i < n; i++) CU_ASSERT_FATAL(p[i] < ref.steps && (i == 0 || p[i] >= p[i - 1]));
        stop_and_resume(s, &ref, &pref, p, n);
        p += n + 1;
    }
    if (every_step) {
        long long *all = malloc((size_t)ref.steps * sizeof *all);
        CU_ASSERT_PTR_NOT_NULL_FATAL(all);
        for (long long k = 0; k < ref.steps; k++) {
            all[k] = k;
            stop_and_resume(s, &ref, &pref, &all[k], 1);
        }
        stop_and_resume(s, &ref, &pref, all, (int)ref.steps);
        free(all);
    }
    free(pref.state);
    hs_train_result_free(&ref);
}

static void setup_free(setup *s) {
    hs_dataset_free(&s->train);
    hs_dataset_free(&s->test);
    hs_train_config_free(&s->c);
}

static void setup_load(setup *s, const char *what, const char *yaml) {
    memset(s, 0, sizeof *s);
    s->what = what;
    config_of(yaml, &s->c);
    hs_error err = {0};
    hs_code rc = hs_data_load(&s->c.data, &s->train, &s->test, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  %s: %s\n", what, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
}

/* ================================================================ the nets */

/* BN + Adam with coupled weight decay, the lr dropping at epoch 4 of 8, D at every record point.
 * 120 rows in batches of 32: 4 steps per epoch (the last of 24), 32 in all; record points at
 * epochs 0, 2, 4, 6, 8, i.e. after steps 8, 16, 24. */
static const char *adam_bn_yaml = "base:\n"
                                  "  seed: 5\n"
                                  "  model: {width: 16, depth: 1}\n"
                                  "  train: {epochs: 8, batch: 32, lr: 0.01, opt: adam, weight_decay: 1e-3,\n"
                                  "          lr_drops: [4]}\n"
                                  "  record: {every: 2, separation: every}\n";

static void test_mlp_bn_adam(void) {
    setup s = {.what = "mlp bn adam"};
    config_of(adam_bn_yaml, &s.c);
    blobs(&s.train, 3, 5, 40, 1);
    blobs(&s.test, 3, 5, 20, 2);
    /* the first step, mid-epoch, right after a record point (step 8 = epoch 2), an epoch
     * boundary without one (12), the last step, twice, across the lr drop, and a resume that
     * stops again before its first step (a job whose time ran out as it started) */
    const long long stops[] = {0, -1, 5, -1, 8, -1, 12, -1, 31, -1, 3, 17, -1, 0, 16, 30, -1, 5, 5, 5, 20, -1, -1};
    check_setup(&s, stops, 1);
    setup_free(&s);
}

/* Momentum SGD on 4 leaf classes in a 2-level hierarchy, BN, the steps schedule (every 7 steps
 * of 100), every series synthetic data can make, fresh draws of 30 rows at every point. 400
 * rows in batches of 20: 20 steps per epoch; points at 0, 7, 14, ..., 98, 100. */
static const char *series_yaml = "base:\n"
                                 "  seed: 3\n"
                                 "  data: {kind: hierarchy, levels: 2, branching: 2}\n"
                                 "  model: {depth: 0, width: 8}\n"
                                 "  train: {epochs: 5, batch: 20, lr: 0.05, opt: momentum, momentum: 0.9,\n"
                                 "          weight_decay: 5e-4}\n"
                                 "  record: {schedule: steps, every_steps: 7, centroids: 5, snapshot_every: 2,\n"
                                 "           snapshot_samples: 3, grad_norms: true, svd: 3, weight_snapshots: true,\n"
                                 "           separation: none, eval_samples: 30}\n";

static void test_mlp_momentum_series(void) {
    setup s = {.what = "mlp momentum series"};
    config_of(series_yaml, &s.c);
    blobs(&s.train, 4, 6, 100, 1);
    blobs(&s.test, 4, 6, 40, 2);
    /* first step, on record points (7, 14: a snapshot point, 98), mid-epoch, epoch boundary
     * (20, 40), the last, twice */
    const long long stops[] = {0, -1, 7, -1, 14, -1, 13, -1, 20, -1, 98, -1, 99, -1, 40, 91, -1, -1};
    check_setup(&s, stops, 1);
    setup_free(&s);
}

/* The hierarchical nets (mean-field lr x H, no buffers) on an SRHM with 4 classes: batches of
 * 4 per class = 16 of 320 rows, 20 steps per epoch. */
static void test_hnets(void) {
    const char *arch[] = {"cnn", "lcn"};
    for (int a = 0; a < 2; a++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "base:\n"
                 "  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 1, n_train: 320, n_test: 200, seed: 3}\n"
                 "  model: {arch: %s, width: 16}\n"
                 "  train: {opt: momentum, lr: 0.01, epochs: 4, batch_per_class: 4}\n"
                 "  record: {every: 1, separation: final}\n",
                 arch[a]);
        setup s;
        setup_load(&s, arch[a], yaml);
        const long long stops[] = {0, -1, 20, -1, 33, -1, 11, 59, -1, 79, -1, -1};
        check_setup(&s, stops, 1);
        setup_free(&s);
    }
}

/* The probes' series resume like any other: the sensitivities of a CNN on the SRHM (320 rows,
 * 20 steps per epoch, points every epoch), and the relative stability of an MLP on 4 x 4 one-channel
 * "images" (the blobs' 16 features laid out square; 120 rows in batches of 32). */
static void test_probes(void) {
    setup s;
    setup_load(&s, "cnn, sensitivity probe",
               "base:\n"
               "  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 1, n_train: 320, n_test: 200, seed: 3}\n"
               "  model: {arch: cnn, width: 16}\n"
               "  train: {opt: momentum, lr: 0.01, epochs: 4, batch_per_class: 4}\n"
               "  record: {every: 1, separation: none, sensitivity: 3}\n");
    const long long stops[] = {0, -1, 20, -1, 33, -1, 11, 59, -1, 79, -1, -1};
    check_setup(&s, stops, 0);
    setup_free(&s);

    setup m = {.what = "mlp, stability probe"};
    config_of("base:\n"
              "  seed: 4\n"
              "  model: {width: 8, depth: 1, norm: none}\n"
              "  train: {epochs: 6, batch: 32, lr: 0.05, opt: momentum}\n"
              "  record: {every: 2, separation: none, stability: 12, diffeo_T: 0.01}\n",
              &m.c);
    blobs(&m.train, 3, 16, 40, 1);
    blobs(&m.test, 3, 16, 20, 2);
    m.train.channels = m.test.channels = 1;
    m.train.height = m.train.width = m.test.height = m.test.width = 4;
    const long long stops_m[] = {0, -1, 8, -1, 13, 21, -1, -1};
    check_setup(&m, stops_m, 0);
    setup_free(&m);
}

/* The deep conv nets: EfficientNet-B0 (BatchNorm statistics and the dropout step in the buffers)
 * and ResNet-18 at width 1/16 on an SRHM with 4 classes: 64 rows in batches of 16, 4 steps per
 * epoch, 3 epochs. */
static void test_cnets(void) {
    const char *arch[] = {"effnet_b0", "resnet18"};
    for (int a = 0; a < 2; a++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "base:\n"
                 "  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 1, n_train: 64, n_test: 32, seed: 3}\n"
                 "  model: {arch: %s, width_mult: 0.0625}\n"
                 "  train: {opt: momentum, lr: 0.01, epochs: 3, batch_per_class: 4, weight_decay: 5e-4}\n"
                 "  record: {every: 1, separation: none, grad_norms: true}\n",
                 arch[a]);
        setup s;
        setup_load(&s, arch[a], yaml);
        const long long stops[] = {0, -1, 4, -1, 6, -1, 1, 9, -1, 11, -1, -1};
        check_setup(&s, stops, 0);
        setup_free(&s);
    }
}

/* The gated routing net (balanced init) on the toy: 112 rows of mixed pathways in batches of
 * 16, 7 steps per epoch, 30 epochs, singular values every 5 epochs. */
static void test_gated(void) {
    setup s;
    setup_load(&s, "gated",
               "base:\n"
               "  data: {kind: gated_toy, modules: 7, active: 4}\n"
               "  model: {arch: gated, width: 16, init: balanced, init_scale: 0.08}\n"
               "  train: {opt: sgd, loss: mse, lr: 0.02, epochs: 30, batch: 16}\n"
               "  record: {every: 5, svd: 4, separation: none}\n");
    const long long stops[] = {0, -1, 35, -1, 100, -1, 3, 150, 209, -1, -1};
    check_setup(&s, stops, 0);
    setup_free(&s);
}

/* train.stop_loss cuts the run at a record point: inside an epoch under the steps schedule, at
 * an epoch's end under the epochs schedule. Stops before it, one at the boundary just after the
 * record point before the converged one. */
static void test_converging(void) {
    setup s = {.what = "converging, steps schedule"};
    config_of("base:\n"
              "  seed: 2\n"
              "  model: {width: 16, depth: 1}\n"
              "  train: {epochs: 200, batch: 32, lr: 0.05, opt: momentum, stop_loss: 0.1}\n"
              "  record: {schedule: steps, every_steps: 10, separation: final}\n",
              &s.c);
    blobs(&s.train, 3, 5, 40, 1);
    blobs(&s.test, 3, 5, 20, 2);
    /* the run converges at the record point of step 110: stops up to the one before it */
    const long long stops[] = {0, -1, 10, -1, 23, 41, -1, 100, -1, 109, -1, -1};
    check_setup(&s, stops, 1);
    setup_free(&s);

    setup e = {.what = "converging, epochs schedule"};
    config_of("base:\n"
              "  seed: 2\n"
              "  model: {width: 16, depth: 1}\n"
              "  train: {epochs: 200, batch_per_class: 4, lr: 0.1, opt: momentum, stop_loss: 0.2}\n"
              "  record: {every: 2, separation: final}\n",
              &e.c);
    blobs(&e.train, 3, 5, 40, 1);
    /* converged at the record point of epoch 26 (step 260); the one before it is at step 240 */
    const long long stops_e[] = {0, -1, 20, -1, 55, 101, -1, 240, -1, 259, -1, -1};
    check_setup(&e, stops_e, 0);
    setup_free(&e);
}

/* ================================================================ periodic saves */

/* every_seconds = 1e-9 saves at every step boundary: the result does not change, and the last
 * checkpoint (before the last step) resumes to it too. */
static void test_every_seconds(void) {
    make_dir();
    setup s = {.what = "periodic"};
    config_of(adam_bn_yaml, &s.c);
    blobs(&s.train, 3, 5, 40, 1);
    blobs(&s.test, 3, 5, 20, 2);
    hs_error err = {0};
    hs_train_result ref = {0}, res = {0}, again = {0};
    probe pref = {0}, p = {0}, pa = {0};
    CU_ASSERT_EQUAL_FATAL(run(&s, 0, 0, 0, 0, NULL, &ref, &pref, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_train_checkpoint_remove(g_path, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(run(&s, 1, 1, 0, 1e-9, NULL, &res, &p, &err), HS_OK);
    CU_ASSERT_EQUAL(res.checkpoints, ref.steps);
    CU_ASSERT(res.checkpoint_seconds > 0);
    fprintf(stderr, "\n  periodic: %d checkpoints of %zu bytes, %.3f ms each", res.checkpoints,
            res.checkpoint_bytes / (size_t)(res.checkpoints ? res.checkpoints : 1),
            1e3 * res.checkpoint_seconds / (res.checkpoints ? res.checkpoints : 1));
    fprintf(stderr, "\n");
    CU_ASSERT(same_result("periodic saves", &ref, &pref, &res, &p));
    CU_ASSERT_EQUAL_FATAL(run(&s, 1, 1, 0, 0, NULL, &again, &pa, &err), HS_OK);
    CU_ASSERT_EQUAL(again.resumed_from_step, ref.steps - 1);
    CU_ASSERT(same_result("resumed from the last periodic save", &ref, &pref, &again, &pa));
    free(pref.state), free(p.state), free(pa.state);
    hs_train_result_free(&ref), hs_train_result_free(&res), hs_train_result_free(&again);
    CU_ASSERT_EQUAL(hs_train_checkpoint_remove(g_path, &err), HS_OK);
    setup_free(&s);
}

/* ================================================================ refusals */

static void flip_byte(const char *path, long at) {
    FILE *f = fopen(path, "r+b");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fseek(f, at, at < 0 ? SEEK_END : SEEK_SET), 0);
    int c = fgetc(f);
    CU_ASSERT_EQUAL(fseek(f, at, at < 0 ? SEEK_END : SEEK_SET), 0);
    fputc(c ^ 0x10, f);
    fclose(f);
}

static void copy_file(const char *from, const char *to, long truncate_by) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    fseek(a, 0, SEEK_END);
    long n = ftell(a) - truncate_by;
    rewind(a);
    for (long i = 0; i < n; i++) fputc(fgetc(a), b);
    fclose(a), fclose(b);
}

/* A resume that must fail with HS_ERR_IO naming the path and saying why. */
static void refused(setup *s, const char *run_id, const char *why) {
    hs_train_result res = {0};
    probe p = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL(run(s, 1, 1, 0, 0, run_id, &res, &p, &err), HS_ERR_IO);
    HS_ASSERT_CONTAINS(err.msg, g_path);
    HS_ASSERT_CONTAINS(err.msg, why);
    CU_ASSERT_EQUAL(p.records, 0); /* nothing ran */
    free(p.state);
    hs_train_result_free(&res);
}

static void test_refusals(void) {
    make_dir();
    setup s = {.what = "refusals"};
    config_of(adam_bn_yaml, &s.c);
    blobs(&s.train, 3, 5, 40, 1);
    blobs(&s.test, 3, 5, 20, 2);
    const char *id = "0123456789abcdef";
    hs_error err = {0};
    hs_train_result res = {0};
    probe p = {0};
    char good[160];
    snprintf(good, sizeof good, "%s/good.ckpt", g_dir);

    /* no checkpoint yet: a fresh start */
    CU_ASSERT_EQUAL(hs_train_checkpoint_remove(g_path, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(run(&s, 1, 1, 10, 0, id, &res, &p, &err), HS_OK);
    CU_ASSERT_EQUAL(res.resumed_from_step, -1);
    CU_ASSERT_EQUAL(res.status, HS_RUN_STOPPED);
    hs_train_result_free(&res);
    copy_file(g_path, good, 0);

    /* one flipped byte anywhere: in a section's data, in the checksum, in the magic */
    flip_byte(g_path, 4000);
    refused(&s, id, "checksum mismatch");
    copy_file(good, g_path, 0);
    flip_byte(g_path, -1);
    refused(&s, id, "checksum mismatch");
    copy_file(good, g_path, 0);
    flip_byte(g_path, 2);
    refused(&s, id, "not an hsweep checkpoint");
    /* torn */
    copy_file(good, g_path, 100);
    refused(&s, id, "checksum mismatch");
    copy_file(good, g_path, 0);
    FILE *f = fopen(g_path, "wb");
    fclose(f);
    refused(&s, id, "too short");

    /* another run id, no run id, another config (the lr), other data shapes */
    copy_file(good, g_path, 0);
    refused(&s, "0123456789abcdee", "belongs to run 0123456789abcdef, not to run 0123456789abcdee");
    refused(&s, NULL, "not to run none");
    s.c.schedule.lr = 0.02;
    refused(&s, id, "another configuration");
    s.c.schedule.lr = 0.01;
    hs_dataset_free(&s.test);
    blobs(&s.test, 3, 5, 21, 2);
    refused(&s, id, "another configuration");
    hs_dataset_free(&s.test);
    blobs(&s.test, 3, 5, 20, 2);

    /* a bad run id is a usage error before anything is read */
    CU_ASSERT_EQUAL(run(&s, 1, 1, 0, 0, "xyz", &res, &p, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "not 16 hex digits");
    hs_train_result_free(&res);

    /* a temporary a killed save left behind does not matter; the good one still resumes */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", g_path);
    f = fopen(tmp, "wb");
    fputs("half a checkpoint", f);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(run(&s, 1, 1, 0, 0, id, &res, &p, &err), HS_OK);
    CU_ASSERT_EQUAL(res.resumed_from_step, 9);
    CU_ASSERT_EQUAL(res.status, HS_RUN_DONE);
    hs_train_result_free(&res);
    /* without resume the file is ignored (and overwritten by the next save) */
    CU_ASSERT_EQUAL_FATAL(run(&s, 1, 0, 3, 0, id, &res, &p, &err), HS_OK);
    CU_ASSERT_EQUAL(res.resumed_from_step, -1);
    CU_ASSERT_EQUAL(res.steps, 2);
    hs_train_result_free(&res);
    /* remove takes the temporary too, and a missing file is fine */
    CU_ASSERT_EQUAL(hs_train_checkpoint_remove(g_path, &err), HS_OK);
    CU_ASSERT_NOT_EQUAL(access(g_path, F_OK), 0);
    CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
    CU_ASSERT_EQUAL(hs_train_checkpoint_remove(g_path, &err), HS_OK);
    /* a directory that does not exist: the save fails naming the path */
    char nowhere[200];
    snprintf(nowhere, sizeof nowhere, "%s/no/such/dir/run.ckpt", g_dir);
    hs_train_hooks h = {.ctx = &p, .should_stop = stop_at, .checkpoint = {.path = nowhere}};
    p.polls = 0, p.stop_at_poll = 2;
    CU_ASSERT_EQUAL(hs_train_run(&s.c, &s.train, &s.test, &h, &res, &err), HS_ERR_IO);
    HS_ASSERT_CONTAINS(err.msg, nowhere);
    hs_train_result_free(&res);

    remove(good);
    free(p.state);
    setup_free(&s);
}

static void cleanup(void) {
    if (!g_dir[0]) return;
    hs_error err = {0};
    hs_train_checkpoint_remove(g_path, &err);
    char good[160]; /* left by test_refusals when it fails half-way */
    snprintf(good, sizeof good, "%s/good.ckpt", g_dir);
    remove(good);
    rmdir(g_dir);
}

int main(void) {
    static const hs_test tests[] = {
        {"mlp, BatchNorm, Adam, lr drop, separation: stop anywhere, resume", test_mlp_bn_adam},
        {"mlp, momentum, steps schedule, every series, eval draws", test_mlp_momentum_series},
        {"cnn and lcn on srhm", test_hnets},
        {"gated net on the routing toy", test_gated},
        {"the probes' series (sensitivity, stability)", test_probes},
        {"deep conv nets (BatchNorm, dropout) on srhm", test_cnets},
        {"runs that converge (stop_loss) under both schedules", test_converging},
        {"periodic saves change nothing", test_every_seconds},
        {"corrupt, torn, foreign checkpoints are refused", test_refusals},
        {NULL, NULL}};
    int rc = hs_test_main("checkpoint", tests);
    cleanup();
    return rc;
}
