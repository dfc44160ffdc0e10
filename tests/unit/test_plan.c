/* test_plan.c - expansion order, counts, canonical text, golden run ids, and id stability under
 * key reordering, axis extension and base/axis moves. */
#include <math.h>
#include <stdlib.h>

#include "hsweep/plan.h"
#include "hsweep/spec.h"
#include "testing.h"

#define SPECS HSWEEP_TEST_SPECS

typedef struct loaded {
    hs_spec *spec;
    hs_plan *plan;
} loaded;

static loaded load_plan(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/good/%s", SPECS, name);
    loaded l = {0};
    hs_error err = {0};
    hs_code rc = hs_spec_load(path, &l.spec, &err);
    if (rc == HS_OK) rc = hs_plan_expand(l.spec, NULL, &l.plan, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
    return l;
}

static loaded plan_text(const char *text, hs_code want, hs_error *err) {
    loaded l = {0};
    hs_code rc = hs_spec_parse(text, strlen(text), "mem.yaml", &l.spec, err);
    if (rc == HS_OK) rc = hs_plan_expand(l.spec, NULL, &l.plan, err);
    if (rc != want) fprintf(stderr, "\n  got %s: %s\n", hs_code_to_string(rc), err->msg);
    CU_ASSERT_EQUAL(rc, want);
    return l;
}

static void unload(loaded *l) {
    hs_plan_free(l->plan);
    hs_spec_free(l->spec);
}

static long long ival(const hs_plan *p, size_t r, const char *key) { return hs_plan_value(p, r, hs_schema_find(key))->u.i; }
static double fval(const hs_plan *p, size_t r, const char *key) { return hs_plan_value(p, r, hs_schema_find(key))->u.f; }
static const char *sval(const hs_plan *p, size_t r, const char *key) { return hs_plan_value(p, r, hs_schema_find(key))->u.s; }

static void test_full_count_and_order(void) {
    loaded l = load_plan("full.yaml");
    hs_plan *p = l.plan;
    /* main: 3 opts x 2 seeds x 3 zipped (depth, lr) = 18, minus momentum at depth 18 (2 seeds) = 16;
     * controls: 2 acts x 2 seeds = 4 */
    CU_ASSERT_EQUAL(p->n_runs, 20);
    CU_ASSERT_EQUAL(p->n_excluded, 2);
    /* product keys in file order, then the zip group; the last axis varies fastest */
    CU_ASSERT_STRING_EQUAL(sval(p, 0, "train.opt"), "sgd");
    CU_ASSERT_EQUAL(ival(p, 0, "seed"), 1);
    CU_ASSERT_EQUAL(ival(p, 0, "model.depth"), 2);
    CU_ASSERT_EQUAL(ival(p, 1, "model.depth"), 6);
    CU_ASSERT_EQUAL(ival(p, 3, "seed"), 2);
    /* set rules, in order: sgd -> 0.3, then sgd at depth 6 -> 0.03 */
    CU_ASSERT_DOUBLE_EQUAL(fval(p, 0, "train.lr"), 0.3, 0);
    CU_ASSERT_DOUBLE_EQUAL(fval(p, 1, "train.lr"), 0.03, 0);
    CU_ASSERT_DOUBLE_EQUAL(fval(p, 2, "train.lr"), 0.3, 0);
    /* momentum keeps the zipped rates and loses depth 18 */
    CU_ASSERT_STRING_EQUAL(sval(p, 6, "train.opt"), "momentum");
    CU_ASSERT_DOUBLE_EQUAL(fval(p, 7, "train.lr"), 0.001, 0);
    CU_ASSERT_STRING_EQUAL(sval(p, 8, "train.opt"), "momentum");
    CU_ASSERT_EQUAL(ival(p, 8, "seed"), 2);
    for (size_t r = 0; r < 16; r++) {
        CU_ASSERT_EQUAL(p->runs[r].block, 0);
        CU_ASSERT(!(strcmp(sval(p, r, "train.opt"), "momentum") == 0 && ival(p, r, "model.depth") == 18));
    }
    /* ordinals count combinations before excludes: momentum/seed 2/depth 2 is combination 9 */
    CU_ASSERT_EQUAL(p->runs[8].ordinal, 9);
    /* controls: block base, then set (identity gets BN back) */
    CU_ASSERT_EQUAL(p->runs[16].block, 1);
    CU_ASSERT_STRING_EQUAL(sval(p, 16, "model.norm"), "none");
    CU_ASSERT_STRING_EQUAL(sval(p, 18, "model.act"), "identity");
    CU_ASSERT_STRING_EQUAL(sval(p, 18, "model.norm"), "batch");
    CU_ASSERT_EQUAL(ival(p, 18, "model.depth"), 18);
    /* spec base reaches every run; data.seed follows seed */
    for (size_t r = 0; r < p->n_runs; r++) {
        CU_ASSERT_EQUAL(ival(p, r, "train.epochs"), 600);
        CU_ASSERT_EQUAL(ival(p, r, "data.seed"), ival(p, r, "seed"));
    }
    const char *vary[] = {"data.seed", "model.act", "model.depth", "model.norm", "seed", "train.lr", "train.opt"};
    size_t nv = 0;
    for (size_t k = 0; k < p->n_keys; k++) nv += p->varying[k];
    CU_ASSERT_EQUAL(nv, 7);
    for (size_t i = 0; i < 7; i++) CU_ASSERT(p->varying[hs_schema_find(vary[i])]);
    unload(&l);
}

static void test_canonical_and_golden_ids(void) {
    loaded l = load_plan("full.yaml");
    hs_str c = {0};
    CU_ASSERT_EQUAL(hs_plan_canonical(l.plan, 0, &c), HS_OK);
    /* keys at their default (data.kind, model.depth 2, train.opt sgd, ...) do not appear */
    CU_ASSERT_STRING_EQUAL(c.buf, "hsweep/1\n"
                                  "data.seed=1\n"
                                  "seed=1\n"
                                  "train.epochs=600\n"
                                  "train.lr=0.3\n"
                                  "train.lr_drops=[200,400]\n"
                                  "train.weight_decay=0.0005\n");
    /* id = first 64 bits of SHA-256 of exactly that text (checked with Python's hashlib in tests/cli) */
    uint8_t d[32];
    hs_sha256(c.buf, c.len, d);
    CU_ASSERT_EQUAL(l.plan->runs[0].id, hs_sha256_prefix64(d));
    /* golden ids: if one of these changes, every results file ever written loses its runs */
    CU_ASSERT_EQUAL(l.plan->runs[0].id, 0x3fbf8cfa65ecc27aull);
    CU_ASSERT_EQUAL(l.plan->runs[1].id, 0x2122715243e94351ull);
    CU_ASSERT_EQUAL(l.plan->runs[15].id, 0x98c8c2eaf9f546d2ull);
    CU_ASSERT_EQUAL(l.plan->runs[19].id, 0x89b9a7c367f4530aull);
    CU_ASSERT_EQUAL(hs_plan_find(l.plan, 0x98c8c2eaf9f546d2ull), 15);
    CU_ASSERT_EQUAL(hs_plan_find(l.plan, 0x0123456789abcdefull), -1);
    hs_str_free(&c);
    unload(&l);
}

static int has_id(const hs_plan *p, uint64_t id) { return hs_plan_find(p, id) >= 0; }

static void test_ids_stable_under_reordering(void) {
    loaded a = load_plan("full.yaml"), b = load_plan("full_reordered.yaml");
    CU_ASSERT_EQUAL_FATAL(a.plan->n_runs, b.plan->n_runs);
    for (size_t r = 0; r < a.plan->n_runs; r++) CU_ASSERT(has_id(b.plan, a.plan->runs[r].id));
    /* reordering product keys changes the order of the runs, not the runs */
    CU_ASSERT_NOT_EQUAL(a.plan->runs[1].id, b.plan->runs[1].id);
    unload(&a);
    unload(&b);
}

static void test_ids_stable_under_axis_extension(void) {
    loaded a = load_plan("full.yaml"), b = load_plan("full_more_seeds.yaml");
    CU_ASSERT_EQUAL(b.plan->n_runs, 24 + 6); /* main 3x3x3 - 3 excluded, controls 2x3 */
    for (size_t r = 0; r < a.plan->n_runs; r++) CU_ASSERT(has_id(b.plan, a.plan->runs[r].id));
    unload(&a);
    unload(&b);
}

static void test_ids_base_vs_axis_and_explicit_default(void) {
    loaded a = load_plan("base_vs_axis.yaml"), b = load_plan("base_vs_axis_ref.yaml");
    CU_ASSERT_EQUAL_FATAL(a.plan->n_runs, 2);
    CU_ASSERT_EQUAL_FATAL(b.plan->n_runs, 2);
    CU_ASSERT_EQUAL(a.plan->runs[0].id, b.plan->runs[0].id);
    CU_ASSERT_EQUAL(a.plan->runs[1].id, b.plan->runs[1].id);
    /* digests agree when the run lists agree */
    CU_ASSERT_EQUAL(memcmp(a.plan->digest, b.plan->digest, 32), 0);
    unload(&a);
    unload(&b);
    /* the same number written differently is the same run */
    hs_error err = {0};
    loaded x = plan_text("base: {train.lr: 0.001, train.weight_decay: 5e-4}\n", HS_OK, &err);
    loaded y = plan_text("base: {train.lr: 1e-3, train.weight_decay: 0.00050}\n", HS_OK, &err);
    CU_ASSERT_EQUAL(x.plan->runs[0].id, y.plan->runs[0].id);
    unload(&x);
    unload(&y);
}

static void test_global_rules_and_any_of(void) {
    loaded l = load_plan("global_rules.yaml");
    hs_plan *p = l.plan;
    /* a: depths 1 2 3; b (width 50): depths 1 3 (depth 2 at width 50 excluded by the top-level rule) */
    CU_ASSERT_EQUAL_FATAL(p->n_runs, 5);
    CU_ASSERT_EQUAL(p->n_excluded, 1);
    long long batch[] = {64, 128, 64, 64, 64};
    for (size_t r = 0; r < 5; r++) CU_ASSERT_EQUAL(ival(p, r, "train.batch"), batch[r]);
    CU_ASSERT_EQUAL(ival(p, 4, "model.width"), 50);
    CU_ASSERT_EQUAL(ival(p, 4, "model.depth"), 3);
    unload(&l);
}

static void test_ranges_expand(void) {
    loaded l = load_plan("ranges.yaml");
    CU_ASSERT_EQUAL(l.plan->n_runs, 25);
    CU_ASSERT_EQUAL(ival(l.plan, 5, "data.per_class"), 32);
    CU_ASSERT_DOUBLE_EQUAL(fval(l.plan, 2, "train.lr"), 0.3, 0);
    unload(&l);
    /* a range value equals the same value typed by hand: same id */
    hs_error err = {0};
    loaded a = plan_text("product: {train.lr: {linspace: {from: 0.1, to: 0.5, num: 5}}}\n", HS_OK, &err);
    loaded b = plan_text("product: {train.lr: [0.3]}\n", HS_OK, &err);
    CU_ASSERT_EQUAL(a.plan->runs[2].id, b.plan->runs[0].id);
    unload(&a);
    unload(&b);
}

static void test_derived_data_seed(void) {
    hs_error err = {0};
    loaded l = plan_text("base: {data.seed: 7}\nproduct: {seed: [1, 2]}\n", HS_OK, &err);
    CU_ASSERT_EQUAL(ival(l.plan, 0, "data.seed"), 7);
    CU_ASSERT_EQUAL(ival(l.plan, 1, "data.seed"), 7);
    /* data.seed equal to seed by hand = the same run as data.seed left to follow seed */
    loaded m = plan_text("base: {data.seed: 1, seed: 1}\n", HS_OK, &err);
    loaded n = plan_text("base: {seed: 1}\n", HS_OK, &err);
    CU_ASSERT_EQUAL(m.plan->runs[0].id, n.plan->runs[0].id);
    unload(&l);
    unload(&m);
    unload(&n);
}

static void test_limits(void) {
    hs_error err = {0};
    loaded l = {0};
    const char *t = "product:\n  seed: {linspace: {from: 1, to: 100, num: 100}}\n  model.depth: {linspace: {from: 1, to: 100, num: 100}}\n";
    CU_ASSERT_EQUAL_FATAL(hs_spec_parse(t, strlen(t), "big.yaml", &l.spec, &err), HS_OK);
    hs_plan_opts opts = {.max_runs = 9999};
    CU_ASSERT_EQUAL(hs_plan_expand(l.spec, &opts, &l.plan, &err), HS_ERR_LIMIT);
    CU_ASSERT_STRING_EQUAL(err.msg, "big.yaml:1:1: sweep: the axes multiply to more than the limit of 9999 runs");
    CU_ASSERT_PTR_NULL(l.plan);
    opts.max_runs = 10000;
    CU_ASSERT_EQUAL(hs_plan_expand(l.spec, &opts, &l.plan, &err), HS_OK);
    CU_ASSERT_EQUAL(l.plan->n_runs, 10000);
    for (size_t r = 0; r < l.plan->n_runs; r++) CU_ASSERT_EQUAL(hs_plan_find(l.plan, l.plan->runs[r].id), (long)r);
    unload(&l);
}

static void test_write_formats(void) {
    loaded l = load_plan("full.yaml");
    hs_str s = {0};
    CU_ASSERT_EQUAL(hs_plan_write(l.plan, HS_PLAN_TEXT, &s), HS_OK);
    HS_ASSERT_CONTAINS(s.buf, "full: 20 runs in 2 blocks (2 excluded); 7 keys vary\n");
    /* the last column, params: depth 2 on cfm is 3 hidden layers of 100 with BatchNorm, 100 x 100
     * x 3 + 100 x 10 weights, 310 biases, 600 gamma and beta = 31910; depth 18 (19 hidden layers):
     * 100 x 100 x 19 + 1000 + 1910 + 3800 = 196710 */
    HS_ASSERT_CONTAINS(s.buf, "3fbf8cfa65ecc27a  main      1          relu       2            batch       1     0.3       sgd        31910\n");
    hs_str_reset(&s);
    CU_ASSERT_EQUAL(hs_plan_write(l.plan, HS_PLAN_TSV, &s), HS_OK);
    CU_ASSERT_EQUAL(strncmp(s.buf, "id\tblock\tdata.seed\tmodel.act\tmodel.depth\tmodel.norm\tseed\ttrain.lr\ttrain.opt\tparams\n", 80), 0);
    HS_ASSERT_CONTAINS(s.buf, "\n89b9a7c367f4530a\tcontrols\t2\tidentity\t18\tbatch\t2\t0.0003\tadam\t196710\n");
    size_t lines = 0;
    for (const char *q = s.buf; *q; q++) lines += *q == '\n';
    CU_ASSERT_EQUAL(lines, 21);
    hs_str_reset(&s);
    CU_ASSERT_EQUAL(hs_plan_write(l.plan, HS_PLAN_JSON, &s), HS_OK);
    HS_ASSERT_CONTAINS(s.buf, "\"count\": 20, \"excluded\": 2");
    HS_ASSERT_CONTAINS(s.buf, "{\"id\": \"3fbf8cfa65ecc27a\", \"block\": \"main\", \"canonical\": \"hsweep/1\\ndata.seed=1\\n");
    HS_ASSERT_CONTAINS(s.buf, "\"model.act\": \"relu\"");
    hs_str_free(&s);
    unload(&l);
}

/* A --set on a key only axes give (hs_spec_override_base) keeps the runs with that value: full.yaml
 * with seed=2 is the 10 of its 20 runs with seed 2, with their ids; on a zip it keeps the zipped
 * tuple; values that no run has together are an error naming them. */
static void test_narrowing(void) {
    loaded all = load_plan("full.yaml"), one = load_plan("full.yaml");
    hs_error err = {0};
    hs_plan_free(one.plan);
    CU_ASSERT_EQUAL_FATAL(hs_spec_override_base(one.spec, "seed=2", &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_plan_expand(one.spec, NULL, &one.plan, &err), HS_OK);
    CU_ASSERT_EQUAL(all.plan->n_runs, 20);
    CU_ASSERT_EQUAL(one.plan->n_runs, 10);
    CU_ASSERT_EQUAL(one.plan->n_narrowed, 10);
    CU_ASSERT_EQUAL(one.plan->n_excluded, all.plan->n_excluded); /* excludes are counted before the narrowing */
    size_t same = 0;
    for (size_t r = 0; r < one.plan->n_runs; r++) {
        CU_ASSERT_EQUAL(ival(one.plan, r, "seed"), 2);
        same += has_id(all.plan, one.plan->runs[r].id);
    }
    CU_ASSERT_EQUAL(same, 10);
    CU_ASSERT(memcmp(one.plan->digest, all.plan->digest, 32) != 0);
    /* a second value of the same key: no run has both */
    hs_plan_free(one.plan), one.plan = NULL;
    CU_ASSERT_EQUAL(hs_spec_override_base(one.spec, "seed=1", &err), HS_OK);
    CU_ASSERT_EQUAL(hs_plan_expand(one.spec, NULL, &one.plan, &err), HS_ERR_SPEC);
    HS_ASSERT_CONTAINS(err.msg, "no run of the spec has seed=2, seed=1");
    /* both values in one --set: either */
    unload(&one);
    one = load_plan("full.yaml");
    hs_plan_free(one.plan), one.plan = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_spec_override_base(one.spec, "seed=[2, 1]", &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_plan_expand(one.spec, NULL, &one.plan, &err), HS_OK);
    CU_ASSERT_EQUAL(one.plan->n_runs, 20);
    CU_ASSERT_EQUAL(memcmp(one.plan->digest, all.plan->digest, 32), 0);
    unload(&all), unload(&one);

    loaded z = plan_text("zip:\n  - model.depth: [1, 2, 3]\n    train.lr: [0.1, 0.2, 0.3]\n", HS_OK, &err);
    hs_plan_free(z.plan), z.plan = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_spec_override_base(z.spec, "train.lr=0.2", &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_plan_expand(z.spec, NULL, &z.plan, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(z.plan->n_runs, 1);
    CU_ASSERT_EQUAL(ival(z.plan, 0, "model.depth"), 2);
    CU_ASSERT_DOUBLE_EQUAL(fval(z.plan, 0, "train.lr"), 0.2, 0);
    unload(&z);
}

static void test_digest_distinguishes_plans(void) {
    loaded a = load_plan("full.yaml"), b = load_plan("full_reordered.yaml"), c = load_plan("full.yaml");
    CU_ASSERT_EQUAL(memcmp(a.plan->digest, c.plan->digest, 32), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a.plan->digest, b.plan->digest, 32), 0); /* same runs, other order */
    unload(&a);
    unload(&b);
    unload(&c);
}

/* ================================================================ stages and select */

static const char staged[] = "stages:\n"
                             "  - name: lr\n"
                             "    axes: {model.depth: [2, 4, 6], train.lr: [0.001, 0.01, 0.1], seed: [1, 2]}\n"
                             "  - name: seeds\n"
                             "    select: {from: lr, by: %s, over: train.lr, per: [model.depth]}\n"
                             "    axes: {model.depth: [2, 4, 6], seed: [1, 2, 3]}\n";

/* Stage lr's runs are depth-major, then lr, then seed: run 6 d + 2 l + s. The table: depth 2's
 * seed means are 0.5 (lr 0.001), 0.3 (0.01: 0.2 and 0.4), 0.35 (0.1); depth 4's lr 0.01 has one
 * seed diverged (the worst) and one failed (NaN, not counted: 0.1 is lr 0.1's only count, beating
 * 0.25); depth 6 has no counted run at all. */
static const double table[18] = {0.5, 0.5, 0.2, 0.4, 0.3, 0.4,               /* depth 2 */
                                 0.25, 0.25, HUGE_VAL, 0.05, NAN, 0.1,      /* depth 4 */
                                 NAN, NAN, NAN, NAN, NAN, NAN};             /* depth 6 */

static void test_select_hand_table(void) {
    char text[1024];
    snprintf(text, sizeof text, staged, "min(test_loss)");
    hs_error err = {0};
    loaded l = plan_text(text, HS_OK, &err);
    CU_ASSERT_EQUAL_FATAL(l.plan->n_runs, 18); /* the first stage alone */
    const int lr = hs_schema_find("train.lr"), depth = hs_schema_find("model.depth");
    CU_ASSERT_EQUAL(hs_plan_value(l.plan, 8, depth)->u.i, 4);
    CU_ASSERT_DOUBLE_EQUAL(hs_plan_value(l.plan, 8, lr)->u.f, 0.01, 1e-15);
    hs_picks pk;
    CU_ASSERT_EQUAL_FATAL(hs_select_pick(l.plan, l.spec->blocks[1].select, table, &pk, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(pk.n, 3);
    CU_ASSERT_EQUAL(pk.groups[0].per[0].u.i, 2);
    CU_ASSERT(pk.groups[0].found);
    CU_ASSERT_DOUBLE_EQUAL(pk.groups[0].over.u.f, 0.01, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(pk.groups[0].score, 0.3, 1e-12);
    CU_ASSERT_EQUAL(pk.groups[0].n_counted, 2);
    CU_ASSERT(pk.groups[1].found);
    CU_ASSERT_DOUBLE_EQUAL(pk.groups[1].over.u.f, 0.1, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(pk.groups[1].score, 0.1, 1e-12);
    CU_ASSERT_EQUAL(pk.groups[1].n_counted, 1);
    CU_ASSERT_EQUAL(pk.groups[2].per[0].u.i, 6);
    CU_ASSERT(!pk.groups[2].found);

    /* the second stage: the chosen lr per depth, depth 6 not plannable, ids those of the config */
    const hs_picks *picks[2] = {NULL, &pk};
    hs_plan_opts o = {.stage = 1, .picks = picks};
    hs_plan *p2 = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_plan_expand(l.spec, &o, &p2, &err), HS_OK);
    CU_ASSERT_EQUAL(p2->n_unplannable, 3);
    CU_ASSERT_EQUAL(p2->n_shared, 4); /* seeds 1 and 2 at the chosen lr ran in stage lr */
    CU_ASSERT_EQUAL_FATAL(p2->n_runs, 18 + 6 - 4);
    for (size_t r = 0; r < 18; r++) CU_ASSERT_EQUAL(p2->runs[r].id, l.plan->runs[r].id);
    loaded flat = plan_text("product: {seed: [3]}\nzip: [{model.depth: [2, 4], train.lr: [0.01, 0.1]}]\n", HS_OK, &err);
    CU_ASSERT_EQUAL_FATAL(flat.plan->n_runs, 2);
    CU_ASSERT_EQUAL(p2->runs[18].id, flat.plan->runs[0].id);
    CU_ASSERT_EQUAL(p2->runs[19].id, flat.plan->runs[1].id);
    CU_ASSERT_EQUAL(p2->spec->blocks[p2->runs[19].block].stage, 1);
    unload(&flat);
    hs_plan_free(p2);

    /* without the winners the stage cannot be planned; bound mode plans it alone, lr at its base */
    o.picks = NULL;
    CU_ASSERT_EQUAL(hs_plan_expand(l.spec, &o, &p2, &err), HS_ERR_INTERNAL);
    o.bound = 1;
    CU_ASSERT_EQUAL_FATAL(hs_plan_expand(l.spec, &o, &p2, &err), HS_OK);
    CU_ASSERT_EQUAL(p2->n_runs, 9);
    hs_plan_free(p2);
    hs_picks_free(&pk);
    unload(&l);

    /* max(test_acc) on the same table: the largest means win */
    snprintf(text, sizeof text, staged, "max(test_acc)");
    l = plan_text(text, HS_OK, &err);
    double neg[18];
    for (int i = 0; i < 18; i++) neg[i] = table[i] == HUGE_VAL ? -HUGE_VAL : table[i];
    CU_ASSERT_EQUAL_FATAL(hs_select_pick(l.plan, l.spec->blocks[1].select, neg, &pk, &err), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(pk.groups[0].over.u.f, 0.001, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(pk.groups[1].over.u.f, 0.001, 1e-15); /* 0.25 beats 0.1 */
    CU_ASSERT(!pk.groups[2].found);
    hs_picks_free(&pk);
    unload(&l);
}

/* ================================================================ search */

static const char search_spec[] = "stages:\n"
                                  "  - name: pstar\n"
                                  "    axes: {model.depth: [1, 2]}\n"
                                  "    search: {key: data.n_train, target: test_err = 0.1, over: [model.depth], lo: 100,\n"
                                  "             hi: 10000, log: true, rtol: 0.05, seeds: 2, batch: %d}\n";

/* A closed-form "test error" falling as a power of the key, crossing 0.1 at xstar[group]; the
 * seeds differ by +-1% around it. limit > 0: only the first `limit` points asked are measured
 * (a search killed mid-way). */
typedef struct closed_form {
    double xstar[2];
    size_t asked, limit;
    double asked_x[4096];
} closed_form;

static int closed_measure(void *vctx, size_t g, double x, double *vals) {
    closed_form *c = vctx;
    size_t i = 0;
    while (i < c->asked && c->asked_x[i] != x + 1e6 * (double)g) i++;
    if (i == c->asked && c->asked < 4096) c->asked_x[c->asked++] = x + 1e6 * (double)g;
    if (c->limit && i >= c->limit) return 0;
    for (int s = 0; s < 2; s++) vals[s] = 0.1 * pow(c->xstar[g] / x, 0.8) * (1 + 0.01 * (2 * s - 1));
    return 1;
}

static void test_search_closed_form(void) {
    char text[1024];
    snprintf(text, sizeof text, search_spec, 2);
    hs_error err = {0};
    hs_spec *spec = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_spec_parse(text, strlen(text), "mem.yaml", &spec, &err), HS_OK);
    const hs_search *sr = spec->blocks[0].search;
    CU_ASSERT_PTR_NOT_NULL_FATAL(sr);
    CU_ASSERT_EQUAL(sr->seeds, 2);
    CU_ASSERT_EQUAL(sr->key, hs_schema_find("data.n_train"));
    CU_ASSERT(sr->log);
    hs_search_state st;
    CU_ASSERT_EQUAL_FATAL(hs_search_groups(spec, 0, &st, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(st.n, 2);
    closed_form cf = {.xstar = {537.0, 2913.0}};
    CU_ASSERT_EQUAL_FATAL(hs_search_replay(sr, &st, closed_measure, &cf, &err), HS_OK);
    size_t points = 0;
    for (size_t g = 0; g < 2; g++) {
        const hs_search_group *gr = &st.groups[g];
        CU_ASSERT_EQUAL(gr->status, HS_SEARCH_CONVERGED);
        CU_ASSERT(gr->hi / gr->lo - 1 <= sr->rtol);
        CU_ASSERT(gr->lo <= cf.xstar[g] && cf.xstar[g] <= gr->hi);
        if (fabs(gr->crossing / cf.xstar[g] - 1) > sr->rtol)
            fprintf(stderr, "\n  group %zu: crossing %g, true %g\n", g, gr->crossing, cf.xstar[g]);
        CU_ASSERT(fabs(gr->crossing / cf.xstar[g] - 1) <= sr->rtol);
        CU_ASSERT(gr->err_lo > 0.1 && gr->err_hi < 0.1);
        CU_ASSERT_DOUBLE_EQUAL(gr->seeds_lo[0], gr->err_lo * 0.99, 1e-12);
        for (size_t i = 0; i < gr->n_x; i++) {
            CU_ASSERT_EQUAL(gr->x[i], floor(gr->x[i])); /* an integer key: integer points */
            for (size_t j = 0; j < i; j++) CU_ASSERT(gr->x[i] != gr->x[j]);
        }
        points += gr->n_x;
    }
    /* a grid as fine as rtol over [100, 10000] in log would take 95 points per group */
    CU_ASSERT(points < 2 * 30);
    fprintf(stderr, "\n  search: %zu points (x 2 seeds) for 2 groups, against 2 x 95 on a grid of ratio 1.05 ", points);

    /* stateless: killed after any number of measurements, the replay proposes a prefix of the
     * same points, and the plan holds exactly those runs */
    size_t full = st.groups[0].n_x;
    double first[64];
    memcpy(first, st.groups[0].x, full * sizeof *first);
    for (size_t limit = 1; limit < 12; limit++) {
        closed_form part = {.xstar = {537.0, 2913.0}, .limit = limit};
        CU_ASSERT_EQUAL_FATAL(hs_search_replay(sr, &st, closed_measure, &part, &err), HS_OK);
        CU_ASSERT(st.groups[0].n_x <= full);
        for (size_t i = 0; i < st.groups[0].n_x; i++) CU_ASSERT_EQUAL(st.groups[0].x[i], first[i]);
        CU_ASSERT(st.groups[0].status == HS_SEARCH_OPEN || st.groups[0].n_x == full);
    }
    const hs_search_state *searches[1] = {&st};
    hs_plan_opts o = {.searches = searches};
    hs_plan *p = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_plan_expand(spec, &o, &p, &err), HS_OK);
    size_t want = 0;
    for (size_t g = 0; g < 2; g++) want += 2 * st.groups[g].n_x;
    CU_ASSERT_EQUAL(p->n_runs, want);
    /* a run's id is its config: the first run is depth 1, n_train 100, seed 1 */
    hs_plan *flat = NULL;
    hs_spec *fs = NULL;
    const char *ft = "base: {model.depth: 1, data.n_train: 100, seed: 1}\n";
    CU_ASSERT_EQUAL_FATAL(hs_spec_parse(ft, strlen(ft), "mem.yaml", &fs, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_plan_expand(fs, NULL, &flat, &err), HS_OK);
    CU_ASSERT_EQUAL(p->runs[0].id, flat->runs[0].id);
    hs_plan_free(flat), hs_spec_free(fs), hs_plan_free(p);

    /* the target outside [lo, hi]: not bracketed, no crossing */
    closed_form far = {.xstar = {50.0, 1e6}};
    CU_ASSERT_EQUAL_FATAL(hs_search_replay(sr, &st, closed_measure, &far, &err), HS_OK);
    CU_ASSERT_EQUAL(st.groups[0].status, HS_SEARCH_NOT_BRACKETED);
    CU_ASSERT_EQUAL(st.groups[1].status, HS_SEARCH_NOT_BRACKETED);
    CU_ASSERT(isnan(st.groups[0].crossing));
    CU_ASSERT_EQUAL(st.groups[0].n_x, 4); /* round 0 alone */
    hs_search_state_free(&st);

    /* without a state (no results file yet) the plan is the plan0 round: lo, hi and `batch`
     * points between, x 2 seeds x 2 groups, the same runs a replay with nothing measured gives */
    hs_plan *plan0 = NULL, *replayed = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_plan_expand(spec, NULL, &plan0, &err), HS_OK);
    CU_ASSERT_EQUAL(plan0->n_runs, 2 * 2 * 4);
    CU_ASSERT_EQUAL_FATAL(hs_search_groups(spec, 0, &st, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_search_replay(sr, &st, NULL, NULL, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_plan_expand(spec, &o, &replayed, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(replayed->n_runs, plan0->n_runs);
    for (size_t r = 0; r < plan0->n_runs; r++) CU_ASSERT_EQUAL(plan0->runs[r].id, replayed->runs[r].id);
    hs_plan_free(plan0), hs_plan_free(replayed);
    hs_search_state_free(&st);
    hs_spec_free(spec);
}

int main(void) {
    static const hs_test tests[] = {
        {"full spec: count, order, set, exclude", test_full_count_and_order},
        {"canonical text and golden ids", test_canonical_and_golden_ids},
        {"ids stable under YAML reordering", test_ids_stable_under_reordering},
        {"ids stable under axis extension", test_ids_stable_under_axis_extension},
        {"ids: base vs axis, number spelling", test_ids_base_vs_axis_and_explicit_default},
        {"top-level set/exclude and any-of", test_global_rules_and_any_of},
        {"ranges expand and match typed values", test_ranges_expand},
        {"data.seed follows seed unless set", test_derived_data_seed},
        {"plan size limit", test_limits},
        {"text, tsv and json output", test_write_formats},
        {"plan digest", test_digest_distinguishes_plans},
        {"--set on an axis narrows the plan", test_narrowing},
        {"select: hand-computed winners, stage plans, ids", test_select_hand_table},
        {"search: a closed-form crossing within rtol, stateless replay", test_search_closed_form},
        {NULL, NULL},
    };
    return hs_test_main("plan", tests);
}
