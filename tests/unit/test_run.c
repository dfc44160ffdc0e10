/* test_run.c - hs_run_one, the one path of a training: the same opts give the same result bit for
 * bit (with fresh data or the datasets kept from the previous call), the hooks see what is
 * stored, a run that cannot start still reaches the store hook, and a solve hook takes the
 * training's place. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/plan.h"
#include "hsweep/run.h"
#include "hsweep/spec.h"
#include "testing.h"

/* An MLP with separation at every record point (per-layer values) and gradient norms (a series). */
static const char *spec_text = "name: t\n"
                               "base:\n"
                               "  data: {kind: gaussian, classes: 3, dim: 5, per_class: 20}\n"
                               "  model: {width: 8, depth: 2}\n"
                               "  train: {opt: momentum, lr: 0.05, epochs: 4, batch: 10}\n"
                               "  record: {every: 2, separation: every, grad_norms: true}\n"
                               "product:\n"
                               "  seed: [1, 2]\n";

/* What the store hook saw, in bytes: the records without their wall-clock seconds, the layers,
 * every series' points and values, and the status. */
typedef struct capture {
    int calls, records_seen;
    hs_code rc;
    unsigned char *bytes;
    size_t n;
} capture;

static void put(capture *c, const void *p, size_t n) {
    c->bytes = realloc(c->bytes, c->n + n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c->bytes);
    memcpy(c->bytes + c->n, p, n);
    c->n += n;
}

static hs_code on_record(void *ctx, const hs_run_info *run, const hs_record *rec, size_t index, hs_error *err) {
    (void)run, (void)rec, (void)err;
    capture *c = ctx;
    CU_ASSERT_EQUAL(index, (size_t)c->records_seen);
    c->records_seen++;
    return HS_OK;
}

static hs_code store(void *ctx, const hs_run_info *run, const hs_run_outcome *out, hs_error *err) {
    (void)err;
    capture *c = ctx;
    c->calls++;
    c->rc = out->rc;
    put(c, run->id, sizeof run->id);
    if (out->rc != HS_OK) return out->rc;
    const hs_train_result *r = &out->res;
    CU_ASSERT_EQUAL(r->n_records, (size_t)c->records_seen);
    put(c, &r->status, sizeof r->status);
    put(c, &r->epochs_done, sizeof r->epochs_done);
    put(c, &r->steps, sizeof r->steps);
    for (size_t t = 0; t < r->n_records; t++) {
        hs_record x = r->records[t];
        x.seconds = 0; /* wall clock */
        put(c, &x, sizeof x);
    }
    put(c, r->layers, r->n_records * HS_LAYER_FIELDS * r->n_layers * sizeof *r->layers);
    for (size_t k = 0; k < r->n_series; k++) {
        const hs_series *s = &r->series[k];
        put(c, s->spec.name, strlen(s->spec.name));
        put(c, &s->n, sizeof s->n);
        put(c, s->point, s->n * sizeof *s->point);
        put(c, s->values, s->n * s->size * sizeof *s->values);
    }
    return HS_OK;
}

static hs_plan *plan_of(const char *yaml) {
    hs_error err = {0};
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    hs_code rc = hs_spec_parse(yaml, strlen(yaml), "test.yaml", &spec, &err);
    if (rc == HS_OK) rc = hs_plan_expand(spec, NULL, &plan, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
    hs_spec_free(spec);
    return plan;
}

static void train(const hs_plan *plan, size_t r, hs_run_data *data, capture *c) {
    memset(c, 0, sizeof *c);
    hs_error err = {0};
    hs_run_opts o = {.plan = plan, .r = r, .data = data, .hooks = {.ctx = c, .on_record = on_record, .store = store}};
    hs_code rc = hs_run_one(&o, &err);
    CU_ASSERT_EQUAL(rc, c->rc);
    CU_ASSERT_EQUAL(c->calls, 1);
}

static void test_same_opts_same_result(void) {
    hs_plan *plan = plan_of(spec_text);
    hs_run_data data = {0};
    capture a, b, fresh, other;
    train(plan, 0, &data, &a);
    train(plan, 0, &data, &b);      /* the datasets kept from the first call */
    train(plan, 0, NULL, &fresh);   /* loaded anew */
    train(plan, 1, &data, &other);  /* another seed */
    CU_ASSERT_EQUAL(a.rc, HS_OK);
    CU_ASSERT(a.records_seen >= 3);
    CU_ASSERT(a.n == b.n && !memcmp(a.bytes, b.bytes, a.n));
    CU_ASSERT(a.n == fresh.n && !memcmp(a.bytes, fresh.bytes, a.n));
    CU_ASSERT(!(a.n == other.n && !memcmp(a.bytes, other.bytes, a.n)));
    free(a.bytes), free(b.bytes), free(fresh.bytes), free(other.bytes);
    hs_run_data_free(&data);
    hs_plan_free(plan);
}

/* A run whose data cannot be loaded is handed to the store hook as a failed outcome, and without
 * a store hook its error is returned. */
static void test_failed_start_is_stored(void) {
    hs_plan *plan = plan_of("name: t\nbase:\n  data: {kind: cfm, per_class: 5, path: /nonexistent}\n"
                            "  train: {epochs: 1}\n  record: {separation: none}\n");
    capture c;
    train(plan, 0, NULL, &c);
    CU_ASSERT_EQUAL(c.rc, HS_ERR_IO);
    CU_ASSERT_EQUAL(c.records_seen, 0);
    hs_error err = {0};
    hs_run_opts o = {.plan = plan, .r = 0};
    CU_ASSERT_EQUAL(hs_run_one(&o, &err), HS_ERR_IO);
    HS_ASSERT_CONTAINS(err.msg, "/nonexistent");
    free(c.bytes);
    hs_plan_free(plan);
}

/* A solve hook replaces the training, and is reached even when the data could not be loaded (a
 * collective solve needs every process), with that outcome as ready. */
typedef struct solving {
    capture c; /* first: on_record sees a capture */
    int calls;
    hs_code ready;
    int had_cfg;
} solving;

static hs_code solve(void *ctx, const hs_run_info *run, hs_code ready, hs_train_result *res, hs_error *err) {
    solving *v = ctx;
    v->calls++, v->ready = ready, v->had_cfg = run->cfg != NULL && run->train != NULL;
    if (ready != HS_OK) return ready;
    res->records = calloc(1, sizeof *res->records);
    if (!res->records) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    res->records[0].test_acc = 0.5;
    res->n_records = 1;
    res->status = HS_RUN_DONE;
    return HS_OK;
}

static void test_solve_replaces_training(void) {
    solving both;
    const char *bad = "name: t\nbase:\n  data: {kind: cfm, per_class: 5, path: /nonexistent}\n"
                      "  train: {epochs: 1}\n  record: {separation: none}\n";
    const char *texts[] = {spec_text, bad};
    for (int i = 0; i < 2; i++) {
        hs_plan *plan = plan_of(texts[i]);
        memset(&both, 0, sizeof both);
        hs_error err = {0};
        hs_run_opts o = {.plan = plan, .r = 0, .hooks = {.ctx = &both, .on_record = on_record, .solve = solve}};
        hs_code rc = hs_run_one(&o, &err);
        CU_ASSERT_EQUAL(both.calls, 1);
        CU_ASSERT_EQUAL(both.c.records_seen, 0); /* nothing trained */
        if (i == 0) {
            CU_ASSERT_EQUAL(rc, HS_OK);
            CU_ASSERT_EQUAL(both.ready, HS_OK);
            CU_ASSERT(both.had_cfg);
        } else {
            CU_ASSERT_EQUAL(rc, HS_ERR_IO);
            CU_ASSERT_EQUAL(both.ready, HS_ERR_IO);
            CU_ASSERT(!both.had_cfg);
            HS_ASSERT_CONTAINS(err.msg, "/nonexistent");
        }
        hs_plan_free(plan);
    }
}

int main(void) {
    static const hs_test tests[] = {
        {"the same opts give the same result, bit for bit", test_same_opts_same_result},
        {"a run that cannot start reaches the store hook", test_failed_start_is_stored},
        {"a solve hook replaces the training, reached even when loading failed", test_solve_replaces_training},
        {NULL, NULL},
    };
    return hs_test_main("run", tests);
}
