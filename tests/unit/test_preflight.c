/* test_preflight.c - the checks a plan makes before any compute (every run's data options, data
 * files and the training's own refusals, from the config alone), their messages, the plan-wide
 * prefix naming the run, and the results file's size from the runs' layouts. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hsweep/models.h"
#include "hsweep/plan.h"
#include "hsweep/spec.h"
#include "hsweep/train.h"
#include "config_of.h"
#include "testing.h"

#define SPECS HSWEEP_TEST_SPECS

static char tmp_dir[64]; /* made by main with mkdtemp, emptied and removed at the end */

/* hs_train_preflight of the one run yaml describes: its code, and its message in err. */
static hs_code preflight_of(const char *yaml, hs_error *err) {
    hs_train_config c;
    config_of(yaml, &c);
    hs_error_clear(err);
    hs_code rc = hs_train_preflight(&c, err);
    hs_train_config_free(&c);
    return rc;
}

static void write_file(const char *dir, const char *name, size_t bytes) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (size_t i = 0; i < bytes; i++) fputc('x', f);
    fclose(f);
}

static const char *hier = "  data: {kind: hierarchy, levels: 3, branching: 2, per_leaf: 40, features: 48}\n"
                          "  model: {widths: [32, 16], norm: none}\n"
                          "  train: {epochs: 3, batch: 16}\n";

/* ================================================================ one run */

static void test_srhm_beyond_pmax(void) {
    hs_error err;
    /* v = 4, s = 2, L = 2, m = v: P_max = 4 (4 * 1)^3 = 256; n_test 0 takes min(20000, 128) */
    static const char *yaml = "base:\n  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 0, n_train: 200}\n"
                              "  model: {arch: cnn, width: 8}\n  record: {separation: none}\n";
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "data.n_train = 200 plus 128 test samples is more than the P_max = 256 distinct inputs");
    HS_ASSERT_CONTAINS(err.hint, "set data.n_test to make room for data.n_train");
    /* exactly P_max fits, as it does for the loader */
    static const char *fits = "base:\n  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 0, n_train: 128}\n"
                              "  model: {arch: cnn, width: 8}\n  record: {separation: none}\n";
    CU_ASSERT_EQUAL(preflight_of(fits, &err), HS_OK);
    hs_train_config c;
    config_of(fits, &c);
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL(hs_data_load(&c.data, &train, &test, &err), HS_OK);
    CU_ASSERT_EQUAL(train.n + test.n, 256);
    hs_dataset_free(&train), hs_dataset_free(&test), hs_train_config_free(&c);
    /* one more sample and the loader refuses too */
    config_of("base:\n  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 0, n_train: 129}\n  model: {arch: cnn, width: 8}\n", &c);
    CU_ASSERT_EQUAL(hs_data_load(&c.data, &train, &test, &err), HS_ERR_VALUE);
    CU_ASSERT_EQUAL(hs_train_preflight(&c, &err), HS_ERR_VALUE);
    hs_train_config_free(&c);
}

static void test_rules_and_set_sizes(void) {
    hs_error err;
    /* level 0 fits (m n_c = 8 of the 3^2 = 9 tuples), so the shape does; level 1 has 3 parents */
    static const char *yaml = "base:\n  data: {kind: rhm, v: 3, s: 2, L: 2, n_c: 2, m: 4, n_train: 10}\n"
                              "  model: {arch: cnn, width: 8}\n";
    hs_train_config c;
    config_of(yaml, &c);
    hs_data_shape sh;
    CU_ASSERT_EQUAL(hs_data_shape_of(&c.data, &sh, &err), HS_OK);
    hs_train_config_free(&c);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "SRHM rules: level 1 needs data.m = 4 rules for each of 3 parents");
    /* more than 2^31 values in one set, which the loader refuses when it allocates */
    CU_ASSERT_EQUAL(preflight_of("base:\n  data: {kind: gaussian, classes: 2, dim: 1000000, per_class: 1100}\n", &err),
                    HS_ERR_LIMIT);
    CU_ASSERT_STRING_EQUAL(err.msg, "data: 2200 training samples of 1000000 values: more than 2^31 values (8 GiB) in one set");
}

static void test_snapshot_samples_beyond_test_set(void) {
    hs_error err;
    char yaml[512];
    /* 8 leaves x 40 examples, 20% held out: 64 test samples */
    snprintf(yaml, sizeof yaml, "base:\n%s  record: {snapshot_every: 5, snapshot_samples: 2000, separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "record.snapshot_samples = 2000 but the test set holds 64 samples: series "
                                    "rep_snapshot is sized for the 2000 asked for at every layer and snapshot");
    CU_ASSERT_STRING_EQUAL(err.hint, "set record.snapshot_samples to at most 64");
    snprintf(yaml, sizeof yaml, "base:\n%s  record: {snapshot_every: 5, snapshot_samples: 64, separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_OK);
    /* without snapshots the setting records nothing, so it is not checked */
    snprintf(yaml, sizeof yaml, "base:\n%s  record: {snapshot_samples: 2000, separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_OK);
    /* a kernel run is solved, not trained: record settings do not apply */
    snprintf(yaml, sizeof yaml, "base:\n%s  model.arch: kernel\n  record: {snapshot_every: 5, snapshot_samples: 2000}\n",
             hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_OK);
}

static void test_other_record_requests(void) {
    hs_error err;
    char yaml[512];
    snprintf(yaml, sizeof yaml, "base:\n%s  record: {centroids: 9, separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "record.centroids = 9 but the test set holds 8 examples per leaf class (64 over 8 leaves)");
    snprintf(yaml, sizeof yaml, "base:\n%s  record: {centroids: 8, separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_OK);
    /* the neighbour pool: min(4 asked, 8 held out) per leaf x 8 leaves = 32 test examples */
    snprintf(yaml, sizeof yaml, "base:\n%s  record: {neighbours: 33, neighbours_pool: 4, separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "record.neighbours = 33 but the pool holds about 32 test examples (4 per class x 8 "
                                    "classes)");
    snprintf(yaml, sizeof yaml, "base:\n%s  record: {neighbours: 33, neighbours_pool: 50, separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_OK);
    snprintf(yaml, sizeof yaml, "base:\n%s  record: {neighbours: 65, neighbours_pool: 50, separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_VALUE);
    snprintf(yaml, sizeof yaml, "base:\n%s  record: {neighbours: 8, neighbours_rep: 6, separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "record.neighbours_rep = 6 but the net has representations 0..5");
    snprintf(yaml, sizeof yaml, "base:\n%s  record: {eval_samples: 257, separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "record.eval_samples = 257 is more than the training set (256 samples) and the test set (64)");
    snprintf(yaml, sizeof yaml, "base:\n%s  record: {eval_samples: 100, separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_OK); /* a draw from the training set, the full test set */
    snprintf(yaml, sizeof yaml, "base:\n%s  record: {modes: 9, separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "record.modes = 9 but Sigma_yx of this data (8 outputs x 48 inputs) has at most 8 "
                                    "singular modes");
    snprintf(yaml, sizeof yaml, "base:\n%s  record: {svd: 33, separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "record.svd = 33 but the largest weight matrix of this net has 32 singular values");
    snprintf(yaml, sizeof yaml, "base:\n%s  record: {svd: 32, separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_OK);
}

static void test_training_refusals(void) {
    hs_error err;
    /* 3 classes x 20 = 60 samples, batch 59: a last batch of one sample under BatchNorm */
    CU_ASSERT_EQUAL(preflight_of("base:\n  data: {kind: gaussian, classes: 3, dim: 4, per_class: 20}\n"
                                 "  train: {batch: 59}\n", &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "train.batch: 59 with 60 training samples leaves a batch of one sample");
    char yaml[512];
    snprintf(yaml, sizeof yaml, "base:\n%s  model.arch: gated\n  record: {separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "model.arch gated needs the rows of a routing task");
    snprintf(yaml, sizeof yaml, "base:\n%s  model.arch: lcn\n  record: {separation: none}\n", hier);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "model.arch lcn needs data with a [channels x positions] layout");
    /* srhm with a filter that does not tile its 4^2 = 16 positions in data.L = 2 levels */
    CU_ASSERT_EQUAL(preflight_of("base:\n  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 1, n_train: 100}\n"
                                 "  model: {arch: cnn, width: 8, filter: 2}\n  record: {separation: none}\n", &err),
                    HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "model.filter = 2: model.arch cnn needs filters that tile the 16 input positions in "
                                    "data.L = 2 levels (filter^2 = 16)");
    CU_ASSERT_EQUAL(preflight_of("base:\n  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 1, n_train: 100}\n"
                                 "  model: {arch: cnn, width: 8}\n  record: {separation: none}\n", &err),
                    HS_OK);
    /* crops and flips of a 1-D string or of feature vectors: refused; of images: accepted */
    CU_ASSERT_EQUAL(preflight_of("base:\n  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 1, n_train: 100}\n"
                                 "  model: {arch: cnn, width: 8}\n  train: {augment: flip}\n"
                                 "  record: {separation: none}\n", &err),
                    HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "train.augment: crops and flips need images (height and width >= 2); data.kind srhm has 1 x 16");
    CU_ASSERT_EQUAL(preflight_of("base:\n  data: {kind: gaussian, classes: 3, dim: 4, per_class: 20}\n"
                                 "  train: {augment: crop_flip}\n", &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "train.augment");
    CU_ASSERT_EQUAL(preflight_of("base:\n  data: {kind: cfm, per_class: 10}\n  train: {augment: crop_flip}\n"
                                 "  record: {separation: none}\n", &err), HS_OK);
}

/* The same refusals in hs_train_run on sets built by hand, before anything is allocated. */
static void test_train_run_shares_the_checks(void) {
    hs_train_config c;
    config_of("base:\n  data: {kind: gaussian, classes: 2, dim: 3}\n  model: {width: 4, depth: 0, norm: none}\n"
              "  train: {epochs: 1, batch: 4}\n  record: {snapshot_every: 1, snapshot_samples: 9, separation: none}\n",
              &c);
    hs_dataset train = {0}, test = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL(hs_data_load(&(hs_data_opts){.kind = "gaussian", .classes = 2, .dim = 3, .per_class = 4,
                                                 .n_test = 8, .separation = 1}, &train, &test, &err), HS_OK);
    hs_train_result res = {0};
    CU_ASSERT_EQUAL(hs_train_run(&c, &train, &test, NULL, &res, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "record.snapshot_samples = 9 but the test set holds 8 samples");
    hs_train_result_free(&res);
    hs_dataset_free(&train), hs_dataset_free(&test), hs_train_config_free(&c);
}

/* ================================================================ data files */

static void test_data_files(void) {
    hs_error err;
    char yaml[512];
    snprintf(yaml, sizeof yaml, "base:\n  data: {kind: cfm, per_class: 5, path: %s/nowhere}\n", tmp_dir);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_IO);
    char want[512];
    snprintf(want, sizeof want, "data.path = %s/nowhere: cannot open the folder: No such file or directory (Fashion-MNIST "
             "reads train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
             "t10k-labels-idx1-ubyte.gz from it)", tmp_dir);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    HS_ASSERT_CONTAINS(err.hint, "set data.path to a folder holding");

    /* present but corrupt: only loading can tell, so the check passes and the load fails */
    snprintf(yaml, sizeof yaml, "base:\n  data: {kind: cfm, per_class: 5, path: %s/train/fm-corrupt}\n", SPECS);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_OK);
    hs_train_config c;
    config_of(yaml, &c);
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL(hs_data_load(&c.data, &train, &test, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "not an IDX file");
    hs_train_config_free(&c);

    /* a folder with the training split only: the test split is missing (gated_fmnist needs no more) */
    char dir[128];
    snprintf(dir, sizeof dir, "%s/fm", tmp_dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
    write_file(dir, "train-images-idx3-ubyte.gz", 100);
    write_file(dir, "train-labels-idx1-ubyte", 7);
    snprintf(yaml, sizeof yaml, "base:\n  data: {kind: cfm, per_class: 5, path: %s}\n", dir);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_VALUE);
    snprintf(want, sizeof want, "data.path = %s: %s/train-labels-idx1-ubyte: 7 bytes, too small for an IDX file of "
             "labels (its header alone is 8 bytes)", dir, dir);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    write_file(dir, "train-labels-idx1-ubyte", 8);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_IO);
    HS_ASSERT_CONTAINS(err.msg, "/t10k-images-idx3-ubyte.gz: cannot open: No such file or directory (nor without .gz)");
    snprintf(yaml, sizeof yaml, "base:\n  data: {kind: gated_fmnist, modules: 2, active: 1, per_class: 5, path: %s}\n"
             "  model: {arch: gated}\n  record: {separation: none}\n", dir);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_OK);

    /* CIFAR-10: the loader's own size check, from stat alone */
    snprintf(dir, sizeof dir, "%s/cifar", tmp_dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
    for (int i = 1; i <= 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", i);
        write_file(dir, name, 3073);
    }
    write_file(dir, "test_batch.bin", 3000);
    snprintf(yaml, sizeof yaml, "base:\n  data: {kind: cc, per_class: 1, path: %s}\n", dir);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "/test_batch.bin: size 3000 bytes is not a whole number of CIFAR-10 records");
    write_file(dir, "test_batch.bin", 2 * 3073);
    CU_ASSERT_EQUAL(preflight_of(yaml, &err), HS_OK);
}

/* ================================================================ a plan */

static hs_plan *plan_of(const char *yaml, hs_spec **spec) {
    hs_error err = {0};
    hs_plan *p = NULL;
    hs_code rc = hs_spec_parse(yaml, strlen(yaml), "mem.yaml", spec, &err);
    if (rc == HS_OK) rc = hs_plan_expand(*spec, NULL, &p, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
    return p;
}

static void test_plan_names_the_run(void) {
    /* the second block's second n_train is beyond P_max = 256 (n_test 0 takes 128) */
    static const char *yaml = "base:\n  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 0}\n  model: {arch: cnn, width: 8}\n"
                              "  record: {separation: none}\n"
                              "blocks:\n"
                              "  - name: a\n    product: {seed: [1, 2], data.n_train: [10, 20]}\n"
                              "  - name: b\n    product: {seed: [3], data.n_train: [100, 129, 300]}\n";
    hs_spec *spec = NULL;
    hs_plan *p = plan_of(yaml, &spec);
    hs_error err = {0};
    CU_ASSERT_EQUAL(hs_train_preflight_plan(p, &err), HS_ERR_VALUE);
    char want[512];
    snprintf(want, sizeof want, "run %016llx (data.n_train=129, data.seed=3, seed=3): data.n_train = 129 plus 128 "
             "test samples is more than the P_max = 256 distinct inputs", (unsigned long long)p->runs[5].id);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    HS_ASSERT_CONTAINS(err.hint, "set data.n_test");
    hs_plan_free(p);
    hs_spec_free(spec);

    /* a plan whose runs all pass, many runs over two data configs */
    spec = NULL;
    p = plan_of("base:\n  data: {kind: gaussian, classes: 3, dim: 4, per_class: 20, seed: 1}\n  train: {batch: 16}\n"
                "product: {seed: {linspace: {from: 1, to: 200, num: 200}}, data.dim: [4, 5]}\n", &spec);
    CU_ASSERT_EQUAL(p->n_runs, 400);
    CU_ASSERT_EQUAL(hs_train_preflight_plan(p, &err), HS_OK);
    hs_plan_free(p);
    hs_spec_free(spec);
}

static void test_plan_layout_and_size(void) {
    /* two record schedules, snapshots in one block, a kernel run with neither */
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "base:\n%s  record: {every: 1, separation: none}\n"
             "blocks:\n"
             "  - name: plain\n    product: {seed: [1, 2]}\n"
             "  - name: snap\n    base: {record: {centroids: 4, snapshot_every: 2, snapshot_samples: 10}, train.epochs: 5}\n"
             "    product: {seed: [1]}\n"
             "  - name: kernel\n    base: {model.arch: kernel}\n    product: {seed: [1]}\n", hier);
    hs_spec *spec = NULL;
    hs_plan *p = plan_of(yaml, &spec);
    CU_ASSERT_EQUAL_FATAL(p->n_runs, 4);
    hs_error err = {0};
    CU_ASSERT_EQUAL(hs_train_preflight_plan(p, &err), HS_OK);
    hs_train_plan_layout L;
    CU_ASSERT_EQUAL_FATAL(hs_train_plan_layout_of(p, &L, NULL, &err), HS_OK);
    CU_ASSERT_EQUAL(L.n_runs, 4);
    CU_ASSERT_EQUAL(L.skipped, 0);
    CU_ASSERT_EQUAL(L.n_records, 6); /* epochs 0..5 of the snap block */
    CU_ASSERT_EQUAL(L.n_layers, 3);  /* two hidden layers and the readout */
    /* the union of the runs' series, by name, each at its largest */
    size_t seen = 0;
    for (size_t r = 0; r < p->n_runs; r++) {
        hs_train_config c;
        hs_train_layout tl;
        CU_ASSERT_EQUAL_FATAL(hs_train_config_from_plan(p, r, &c, &err), HS_OK);
        CU_ASSERT_EQUAL_FATAL(hs_train_layout_of(&c, &tl, &err), HS_OK);
        for (size_t k = 0; !(c.arch->flags & HS_MODEL_SOLVED) && k < tl.n_series; k++) {
            size_t j = 0;
            while (j < L.n_series && strcmp(L.series[j].name, tl.series[k].name)) j++;
            CU_ASSERT_FATAL(j < L.n_series);
            CU_ASSERT(L.series[j].n_points >= tl.series[k].n_points);
            for (int d = 0; d < tl.series[k].ndim; d++) CU_ASSERT(L.series[j].dims[d] >= tl.series[k].dims[d]);
            seen++;
        }
        hs_train_config_free(&c);
    }
    CU_ASSERT(seen > 0);
    double total = L.bytes_records + L.bytes_layers + L.bytes_table;
    CU_ASSERT_DOUBLE_EQUAL(L.bytes_records, 4.0 * 6 * 9 * 8, 0);
    CU_ASSERT_DOUBLE_EQUAL(L.bytes_layers, 4.0 * 6 * 3 * 5 * 8, 0);
    for (size_t j = 0; j < L.n_series; j++) {
        const hs_series_spec *s = &L.series[j];
        double per = 1;
        for (int d = 0; d < s->ndim; d++) per *= (double)s->dims[d];
        CU_ASSERT_DOUBLE_EQUAL(L.bytes_series[j], 4.0 * (double)s->n_points * (per * 8 + 8), 0);
        total += L.bytes_series[j];
        if (!strcmp(s->name, "rep_snapshot")) { /* [R = 6 reps x 10 samples x 48 units], points 0, 2, 4, 5 */
            CU_ASSERT_EQUAL(s->dims[0], 6);
            CU_ASSERT_EQUAL(s->dims[1], 10);
            CU_ASSERT_EQUAL(s->dims[2], 48);
            CU_ASSERT_EQUAL(s->n_points, 4);
            CU_ASSERT_EQUAL(s->every, 2);
        }
        if (!strcmp(s->name, "level_acc")) CU_ASSERT_EQUAL(s->n_points, 6);
    }
    CU_ASSERT_DOUBLE_EQUAL(L.bytes_total, total, 1e-6 * total);
    CU_ASSERT(L.bytes_table > 4 * 300.0);
    hs_plan_free(p);
    hs_spec_free(spec);
}

int main(void) {
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/hsweep-test-preflight-XXXXXX");
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 2;
    }
    static const hs_test tests[] = {
        {"srhm: P + test samples against P_max, as the loader", test_srhm_beyond_pmax},
        {"srhm rules past level 0, sets beyond 2^31 values", test_rules_and_set_sizes},
        {"record.snapshot_samples against the test set", test_snapshot_samples_beyond_test_set},
        {"record.centroids, eval_samples, modes, svd against the data", test_other_record_requests},
        {"BatchNorm batch of one, architectures the data cannot feed", test_training_refusals},
        {"hs_train_run refuses the same", test_train_run_shares_the_checks},
        {"data files: missing, too small, corrupt but present, CIFAR sizes", test_data_files},
        {"plan: the first failing run is named with its varying keys", test_plan_names_the_run},
        {"plan: layout union and results file size", test_plan_layout_and_size},
        {NULL, NULL},
    };
    int rc = hs_test_main("preflight", tests);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp_dir);
    return rc;
}
