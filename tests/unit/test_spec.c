/* test_spec.c - the schema table, typed values, and the YAML spec parser: good specs parse into
 * the expected structure, and every malformed spec in tests/specs/bad gives its exact message.
 * Some 740 lines, kept as one file as spec.c is one parser: each section follows a part of it
 * (schema, values, blocks, random axes, stages), sharing the tables of bad specs and messages. */
#include <math.h>
#include <stdlib.h>

#include "hsweep/schema.h"
#include "hsweep/spec.h"
#include "testing.h"

#define SPECS HSWEEP_TEST_SPECS

/* ================================================================ schema */

static void test_schema_table(void) {
    size_t n = hs_schema_count();
    CU_ASSERT(n >= 40);
    for (size_t i = 0; i < n; i++) {
        const hs_key *k = hs_schema_key(i);
        if (i > 0 && strcmp(hs_schema_key(i - 1)->name, k->name) >= 0) {
            fprintf(stderr, "\n  schema not sorted at %s\n", k->name);
            CU_FAIL("schema table must be sorted by name with unique names");
        }
        CU_ASSERT(strlen(k->doc) > 10);
        CU_ASSERT_EQUAL(hs_schema_find(k->name), (int)i);
        /* every default parses and is within its own range */
        hs_value v;
        char why[256] = "";
        hs_code rc = hs_value_parse(k, k->def, &v, why, sizeof why);
        if (rc != HS_OK) fprintf(stderr, "\n  default of %s: %s\n", k->name, why);
        CU_ASSERT_EQUAL(rc, HS_OK);
        if (rc == HS_OK) {
            CU_ASSERT_EQUAL(v.type, k->type);
            hs_value_free(&v);
        }
        if (k->type == HS_T_ENUM) CU_ASSERT_PTR_NOT_NULL(k->choices);
    }
    CU_ASSERT_EQUAL(hs_schema_find("model.nope"), -1);
    CU_ASSERT_PTR_NULL(hs_schema_key(n));
}

static void test_schema_sections_and_suggestions(void) {
    CU_ASSERT(hs_schema_is_section("model"));
    CU_ASSERT(hs_schema_is_section("train"));
    CU_ASSERT(!hs_schema_is_section("mode"));
    CU_ASSERT(!hs_schema_is_section("model.depth"));
    CU_ASSERT_STRING_EQUAL(hs_schema_suggest("model.dept"), "model.depth");
    CU_ASSERT_STRING_EQUAL(hs_schema_suggest("depth"), "model.depth");     /* wrong section */
    CU_ASSERT_STRING_EQUAL(hs_schema_suggest("train.depth"), "model.depth");
    CU_ASSERT_PTR_NULL(hs_schema_suggest("completely.unrelated"));
}

/* ================================================================ values */

static hs_value parse_ok(const char *key, const char *text) {
    hs_value v = {0};
    char why[256] = "";
    hs_code rc = hs_value_parse(hs_schema_key((size_t)hs_schema_find(key)), text, &v, why, sizeof why);
    if (rc != HS_OK) fprintf(stderr, "\n  %s=%s: %s\n", key, text, why);
    CU_ASSERT_EQUAL(rc, HS_OK);
    return v;
}

static void parse_bad(const char *key, const char *text, hs_code code, const char *expect) {
    hs_value v = {0};
    char why[256] = "";
    CU_ASSERT_EQUAL(hs_value_parse(hs_schema_key((size_t)hs_schema_find(key)), text, &v, why, sizeof why), code);
    HS_ASSERT_CONTAINS(why, expect);
}

static void test_value_parse(void) {
    hs_value v = parse_ok("model.depth", "6");
    CU_ASSERT_EQUAL(v.u.i, 6);
    v = parse_ok("data.per_class", "1e4"); /* integral float accepted for an int key */
    CU_ASSERT_EQUAL(v.type, HS_T_INT);
    CU_ASSERT_EQUAL(v.u.i, 10000);
    v = parse_ok("train.lr", "1e-3");
    CU_ASSERT_DOUBLE_EQUAL(v.u.f, 0.001, 0);
    v = parse_ok("train.nesterov", "true");
    CU_ASSERT_EQUAL(v.u.b, 1);
    v = parse_ok("model.widths", "[624, 208]");
    CU_ASSERT_EQUAL(v.n, 2);
    CU_ASSERT_EQUAL(v.u.il[1], 208);
    hs_value_free(&v);
    v = parse_ok("model.widths", "[]");
    CU_ASSERT_EQUAL(v.n, 0);
    v = parse_ok("model.act", "identity");
    CU_ASSERT_STRING_EQUAL(v.u.s, "identity");
    hs_value_free(&v);

    parse_bad("model.depth", "2.5", HS_ERR_SPEC, "expected an integer, got '2.5'");
    parse_bad("model.depth", "-1", HS_ERR_VALUE, "value -1 is below the allowed range (>= 0)");
    parse_bad("train.lr", "0", HS_ERR_VALUE, "value 0 is below the allowed range (> 0)");
    parse_bad("train.momentum", "1", HS_ERR_VALUE, "value 1 is above the allowed range (< 1)");
    parse_bad("train.lr", "inf", HS_ERR_SPEC, "expected a number, got 'inf'");
    parse_bad("train.lr", "nan", HS_ERR_SPEC, "expected a number");
    parse_bad("train.lr", "0x10", HS_ERR_SPEC, "expected a number");
    parse_bad("train.lr", "1e999", HS_ERR_VALUE, "out of the representable range");
    parse_bad("train.nesterov", "yes", HS_ERR_SPEC, "expected true or false");
    parse_bad("model.norm", "layer", HS_ERR_SPEC, "unknown value 'layer' (expected one of: batch|none)");
    parse_bad("model.widths", "[100, 0]", HS_ERR_VALUE, "value 0 is below");
    parse_bad("model.widths", "[100, x]", HS_ERR_SPEC, "expected an integer, got 'x'");
    parse_bad("model.depth", "", HS_ERR_SPEC, "missing value");
}

static void test_value_scalar_quoting_and_hints(void) {
    const hs_key *lr = hs_schema_key((size_t)hs_schema_find("train.lr"));
    const hs_key *opt = hs_schema_key((size_t)hs_schema_find("train.opt"));
    hs_value v;
    char why[256], hint[128];
    CU_ASSERT_EQUAL(hs_value_parse_scalar(lr, "0.1", 1, &v, why, sizeof why, hint, sizeof hint), HS_ERR_SPEC);
    HS_ASSERT_CONTAINS(why, "quoted string \"0.1\"");
    HS_ASSERT_CONTAINS(hint, "without quotes");
    CU_ASSERT_EQUAL(hs_value_parse_scalar(opt, "adma", 0, &v, why, sizeof why, hint, sizeof hint), HS_ERR_SPEC);
    CU_ASSERT_STRING_EQUAL(hint, "did you mean 'adam'?");
    CU_ASSERT_EQUAL(hs_value_parse_scalar(opt, "zzzzzz", 0, &v, why, sizeof why, hint, sizeof hint), HS_ERR_SPEC);
    CU_ASSERT_STRING_EQUAL(hint, "");
}

static void expect_canon(const char *key, const char *text, const char *canon) {
    hs_value v = parse_ok(key, text);
    hs_str s = {0};
    CU_ASSERT_EQUAL(hs_value_canon(&v, &s), HS_OK);
    if (strcmp(s.buf, canon)) fprintf(stderr, "\n  canon(%s=%s) = %s, expected %s\n", key, text, s.buf, canon);
    CU_ASSERT_STRING_EQUAL(s.buf, canon);
    hs_str_free(&s);
    hs_value_free(&v);
}

static void test_value_canon(void) {
    expect_canon("train.lr", "0.1", "0.1");
    expect_canon("train.lr", "1e-1", "0.1");       /* same double, same text */
    expect_canon("train.lr", "0.10000", "0.1");
    expect_canon("train.lr", "3", "3");
    expect_canon("train.weight_decay", "5e-4", "0.0005");
    expect_canon("train.eps", "1e-8", "1e-08");
    expect_canon("train.weight_decay", "-0.0", "0"); /* -0 folds into 0 */
    expect_canon("train.lr", "0.3333333333333333", "0.3333333333333333");
    expect_canon("train.lr", "0.30000000000000004", "0.30000000000000004");
    expect_canon("model.depth", "+18", "18");
    expect_canon("model.widths", "[624,208]", "[624,208]");
    expect_canon("model.init_scales", "[1, 0.5, 1e-3]", "[1,0.5,0.001]");
    expect_canon("model.act", "relu", "\"relu\"");
    expect_canon("data.path", "/data/my \"set\"", "\"/data/my \\\"set\\\"\"");
    expect_canon("model.bias", "True", "true");
    char buf[40];
    hs_format_double(1.0 / 3.0, buf, sizeof buf);
    CU_ASSERT_EQUAL(strtod(buf, NULL), 1.0 / 3.0);
    hs_format_double(INFINITY, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "inf");
}

static void test_value_equal_copy(void) {
    hs_value a = parse_ok("model.init_scales", "[1, 2]"), b = parse_ok("model.init_scales", "[1.0, 2.0]"),
             c = parse_ok("model.init_scales", "[1, 3]"), d;
    CU_ASSERT(hs_value_equal(&a, &b));
    CU_ASSERT(!hs_value_equal(&a, &c));
    CU_ASSERT_EQUAL(hs_value_copy(&a, &d), HS_OK);
    CU_ASSERT(hs_value_equal(&a, &d));
    CU_ASSERT_PTR_NOT_EQUAL(a.u.fl, d.u.fl);
    hs_value_free(&a), hs_value_free(&b), hs_value_free(&c), hs_value_free(&d);
}

static void test_config_check(void) {
    size_t n = hs_schema_count();
    hs_value *vals = calloc(n, sizeof *vals);
    const hs_value **cfg = calloc(n, sizeof *cfg);
    for (size_t k = 0; k < n; k++) {
        char why[256];
        CU_ASSERT_EQUAL(hs_value_parse(hs_schema_key(k), hs_schema_key(k)->def, &vals[k], why, sizeof why), HS_OK);
        cfg[k] = &vals[k];
    }
    char why[400];
    CU_ASSERT_EQUAL(hs_config_check(cfg, why, sizeof why), HS_OK); /* defaults are consistent */
    int ks = hs_schema_find("model.init_scales"), kw = hs_schema_find("model.widths");
    hs_value_free(&vals[ks]);
    vals[ks] = parse_ok("model.init_scales", "[1, 1, 1, 1]"); /* depth 2: 3 hidden + readout */
    CU_ASSERT_EQUAL(hs_config_check(cfg, why, sizeof why), HS_OK);
    hs_value_free(&vals[kw]);
    vals[kw] = parse_ok("model.widths", "[624, 208]"); /* widths override depth: 2 hidden + readout */
    CU_ASSERT_EQUAL(hs_config_check(cfg, why, sizeof why), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(why, "has 4 entries but the net has 3 dense layers");
    int kc = hs_schema_find("data.class_counts");
    hs_value_free(&vals[ks]);
    vals[ks] = parse_ok("model.init_scales", "[]");
    hs_value_free(&vals[kc]);
    vals[kc] = parse_ok("data.class_counts", "[500, 500, 500, 500, 500, 100, 100, 100, 100]");
    CU_ASSERT_EQUAL(hs_config_check(cfg, why, sizeof why), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(why, "data.class_counts has 9 entries but data.kind cfm has 10 classes");
    for (size_t k = 0; k < n; k++) hs_value_free(&vals[k]);
    free(vals);
    free(cfg);
}

static void test_keys_markdown(void) {
    hs_str s = {0};
    CU_ASSERT_EQUAL(hs_schema_describe(HS_KEYS_MARKDOWN, &s), HS_OK);
    HS_ASSERT_CONTAINS(s.buf, "| `model.depth` | int | `2` | >= 0, <= 10000 |");
    HS_ASSERT_CONTAINS(s.buf, "| `train.lr` | float | `0.01` | > 0, <= 1000000 |");
    HS_ASSERT_CONTAINS(s.buf, "| `model.norm` | enum | `batch` | batch, none |");
    HS_ASSERT_CONTAINS(s.buf, "| `train.opt` | enum | `sgd` | sgd, momentum, adam, adamw |");
    size_t lines = 0;
    for (const char *p = s.buf; *p; p++) lines += *p == '\n';
    CU_ASSERT_EQUAL(lines, hs_schema_count() + 2);
    hs_str_free(&s);
}

/* ================================================================ good specs */

static hs_spec *load_ok(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/good/%s", SPECS, name);
    hs_spec *s = NULL;
    hs_error err = {0};
    hs_code rc = hs_spec_load(path, &s, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
    return s;
}

static void test_parse_full(void) {
    hs_spec *s = load_ok("full.yaml");
    CU_ASSERT_STRING_EQUAL(s->name, "full");
    CU_ASSERT_STRING_EQUAL(s->description, "He & Su style grid plus a control block");
    CU_ASSERT_EQUAL(s->n_base, 7);
    CU_ASSERT_EQUAL(s->n_blocks, 2);
    hs_block *m = &s->blocks[0], *c = &s->blocks[1];
    CU_ASSERT_STRING_EQUAL(m->name, "main");
    CU_ASSERT_STRING_EQUAL(m->path, "blocks[0]");
    CU_ASSERT_EQUAL(m->n_axes, 3); /* two product keys + one zip group */
    CU_ASSERT_EQUAL(m->axes[0].keys[0], hs_schema_find("train.opt"));
    CU_ASSERT_EQUAL(m->axes[0].len, 3);
    CU_ASSERT_EQUAL(m->axes[2].n_keys, 2);
    CU_ASSERT_EQUAL(m->axes[2].len, 3);
    /* zip values are stored row-major: position 1 of (depth, lr) = (6, 0.001) */
    CU_ASSERT_EQUAL(m->axes[2].vals[1 * 2 + 0].u.i, 6);
    CU_ASSERT_DOUBLE_EQUAL(m->axes[2].vals[1 * 2 + 1].u.f, 0.001, 0);
    CU_ASSERT_EQUAL(m->n_sets, 2);
    CU_ASSERT_EQUAL(m->sets[1].where.n_conds, 2);
    CU_ASSERT_EQUAL(m->n_excludes, 1);
    CU_ASSERT_EQUAL(m->excludes[0].loc.line, 22);
    CU_ASSERT_EQUAL(m->excludes[0].loc.col, 9);
    CU_ASSERT_EQUAL(c->n_base, 4);
    CU_ASSERT_EQUAL(c->loc.line, 23);
    CU_ASSERT_EQUAL(c->loc.col, 5);
    CU_ASSERT_PTR_NOT_NULL(strstr(s->text, "He & Su style grid")); /* kept verbatim */
    hs_spec_free(s);
}

static void test_parse_shorthand_and_defaults(void) {
    hs_spec *s = load_ok("minimal.yaml");
    CU_ASSERT_STRING_EQUAL(s->name, "minimal"); /* from the file name */
    CU_ASSERT_STRING_EQUAL(s->description, "");
    CU_ASSERT_EQUAL(s->n_blocks, 1);
    CU_ASSERT_STRING_EQUAL(s->blocks[0].name, "main");
    CU_ASSERT_EQUAL(s->blocks[0].n_axes, 0);
    hs_spec_free(s);
}

static void test_parse_ranges(void) {
    hs_spec *s = load_ok("ranges.yaml");
    hs_axis *pc = &s->blocks[0].axes[0], *lr = &s->blocks[0].axes[1];
    long long want[] = {10, 32, 100, 316, 1000};
    CU_ASSERT_EQUAL_FATAL(pc->len, 5);
    for (int i = 0; i < 5; i++) CU_ASSERT_EQUAL(pc->vals[i].u.i, want[i]);
    double wl[] = {0.1, 0.2, 0.3, 0.4, 0.5};
    CU_ASSERT_EQUAL_FATAL(lr->len, 5);
    for (int i = 0; i < 5; i++) CU_ASSERT_EQUAL(lr->vals[i].u.f, wl[i]); /* exactly: snapped to 12 digits */
    hs_spec_free(s);
    /* integer rounding drops the repeats it creates: 1..4 on 10 log points -> 1 2 3 4 */
    const char *t = "product:\n  model.depth: {logspace: {from: 1, to: 4, num: 10}}\n";
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_spec_parse(t, strlen(t), "mem.yaml", &s, &err), HS_OK);
    CU_ASSERT_EQUAL(s->blocks[0].axes[0].len, 4);
    CU_ASSERT_EQUAL(s->blocks[0].axes[0].vals[3].u.i, 4);
    hs_spec_free(s);
}

static void test_override(void) {
    hs_spec *s = load_ok("minimal.yaml");
    hs_error err = {0};
    CU_ASSERT_EQUAL(hs_spec_override(s, "train.epochs=5", &err), HS_OK);
    CU_ASSERT_EQUAL(s->n_base, 2);
    CU_ASSERT_EQUAL(s->base[1].val.u.i, 5);
    CU_ASSERT_EQUAL(hs_spec_override(s, "model.widths=[10,20]", &err), HS_OK);
    CU_ASSERT_EQUAL(s->base[2].val.n, 2);
    CU_ASSERT_EQUAL(hs_spec_override(s, "model.dept=3", &err), HS_ERR_SPEC);
    CU_ASSERT_STRING_EQUAL(err.msg, "--set model.dept=3: unknown key 'model.dept' (did you mean 'model.depth'?)");
    CU_ASSERT_EQUAL(hs_spec_override(s, "train.lr=fast", &err), HS_ERR_SPEC);
    CU_ASSERT_STRING_EQUAL(err.msg, "--set train.lr=fast: expected a number, got 'fast'");
    CU_ASSERT_EQUAL(hs_spec_override(s, "novalue", &err), HS_ERR_USAGE);
    hs_spec_free(s);
}

/* plan and run: a --set that a block's base or a set rule would silently override is an error
 * naming the first such place; on a key only axes give it narrows the sweep to the runs with that
 * value (hs_spec.only), and a value no axis has is an error naming the axis and its values; train
 * keeps hs_spec_override, which accepts any. */
static void test_override_base(void) {
    hs_spec *s = load_ok("full.yaml");
    hs_error err = {0};
    size_t n_base = s->n_base;
    char want[512];
    /* model.depth: main's zip axis (line 14) and the controls' base (line 25): the base wins */
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "model.depth=3", &err), HS_ERR_SPEC);
    snprintf(want, sizeof want, "--set model.depth=3: block 'controls' sets model.depth in its `base` at "
             "%s/good/full.yaml:25:22, which would win over the --set", SPECS);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    CU_ASSERT_STRING_EQUAL(err.hint, "remove the key from the block's `base`, or edit the spec; --set with plan and run "
                                     "changes only the spec's base");
    CU_ASSERT_EQUAL(s->n_base, n_base); /* the refused override is not kept */
    /* train.lr: in the zip (line 15), two set rules and the controls' base: the first of those */
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "train.lr=0.1", &err), HS_ERR_SPEC);
    HS_ASSERT_CONTAINS(err.msg, "block 'main' sets train.lr in a `set` rule at");
    HS_ASSERT_CONTAINS(err.msg, "full.yaml:18:24,");
    /* seed: axes only (both blocks), so a value narrows, and one no axis has is refused */
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "seed=4", &err), HS_ERR_SPEC);
    snprintf(want, sizeof want, "--set seed=4: block 'main' varies seed along an axis at %s/good/full.yaml:12:7 over 1, 2, "
             "not 4", SPECS);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    HS_ASSERT_CONTAINS(err.hint, "keeps only the runs with that value");
    CU_ASSERT_EQUAL(s->n_base, n_base);
    CU_ASSERT_EQUAL(s->n_only, 0);
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "seed=2", &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(s->n_only, 1);
    CU_ASSERT_EQUAL(s->only[0].key, hs_schema_find("seed"));
    CU_ASSERT_EQUAL_FATAL(s->only[0].n, 1);
    CU_ASSERT_EQUAL(s->only[0].vals[0].u.i, 2);
    CU_ASSERT_EQUAL(s->n_base, n_base); /* a narrowing, not a base value */
    /* several values of a scalar key in brackets: any of them; each must be on an axis */
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "model.act=[relu, identity]", &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(s->n_only, 2);
    CU_ASSERT_EQUAL(s->only[1].n, 2);
    CU_ASSERT_STRING_EQUAL(s->only[1].vals[1].u.s, "identity");
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "seed=[1, 5]", &err), HS_ERR_SPEC);
    HS_ASSERT_CONTAINS(err.msg, "over 1, 2, not 5");
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "seed=[1, x]", &err), HS_ERR_SPEC);
    CU_ASSERT_STRING_EQUAL(err.msg, "--set seed=[1, x]: expected an integer, got 'x'");
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "seed=[]", &err), HS_ERR_SPEC);
    HS_ASSERT_CONTAINS(err.msg, "no values between the brackets");
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "train.epochs=[1, 2]", &err), HS_ERR_SPEC);
    CU_ASSERT_STRING_EQUAL(err.msg, "--set train.epochs=[1, 2]: no axis varies train.epochs, so it takes one value");
    CU_ASSERT_EQUAL(s->n_only, 2);
    CU_ASSERT_EQUAL(s->n_base, n_base);
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "model.norm=none", &err), HS_ERR_SPEC);
    HS_ASSERT_CONTAINS(err.msg, "--set model.norm=none: block 'controls' sets model.norm in its `base` at");
    HS_ASSERT_CONTAINS(err.msg, "full.yaml:25:32,");
    /* a key only the spec's own base gives, and data.seed, which merely follows the seed axis */
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "train.epochs=5", &err), HS_OK);
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "data.seed=7", &err), HS_OK);
    CU_ASSERT_EQUAL(s->n_base, n_base + 2);
    /* the override's own errors come first */
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "model.depth=x", &err), HS_ERR_SPEC);
    CU_ASSERT_STRING_EQUAL(err.msg, "--set model.depth=x: expected an integer, got 'x'");
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "model.dept=3", &err), HS_ERR_SPEC);
    HS_ASSERT_CONTAINS(err.msg, "unknown key 'model.dept'");
    /* train's override accepts what an axis also gives (it rebuilds the chosen run first) */
    CU_ASSERT_EQUAL(hs_spec_override(s, "model.depth=3", &err), HS_OK);
    hs_spec_free(s);

    s = load_ok("global_rules.yaml");
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "train.batch=32", &err), HS_ERR_SPEC);
    snprintf(want, sizeof want, "--set train.batch=32: the spec sets train.batch in a top-level `set` rule at "
             "%s/good/global_rules.yaml:13:23, which would win over the --set", SPECS);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    HS_ASSERT_CONTAINS(err.hint, "remove the key from the rule's `to`");
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "model.width=3", &err), HS_ERR_SPEC);
    HS_ASSERT_CONTAINS(err.msg, "block 'b' sets model.width in its `base` at");
    hs_spec_free(s);

    /* the second key of a zip group is located at its own key, not the group's first */
    static const char zip[] = "zip:\n  - model.depth: [1, 2]\n    train.lr: [0.1, 0.2]\n";
    CU_ASSERT_EQUAL_FATAL(hs_spec_parse(zip, sizeof zip - 1, "zip.yaml", &s, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "train.lr=0.3", &err), HS_ERR_SPEC);
    HS_ASSERT_CONTAINS(err.msg, "block 'main' varies train.lr along an axis at zip.yaml:3:5 over 0.1, 0.2, not 0.3");
    CU_ASSERT_EQUAL(hs_spec_override_base(s, "train.lr=0.2", &err), HS_OK);
    hs_spec_free(s);
}

static void test_parse_hostile_bytes(void) {
    /* NUL inside a scalar, an unterminated flow, a recursive alias, deep nesting: errors, never crashes */
    static const char nul[] = "base:\n  model.depth: \"2\\0\"\n";
    static const char *cases[] = {
        "base: {model: {depth: [",
        "base: &a {model: *a}\n",
        "product: &x\n  seed: [1, 2]\n  model.depth: *x\n",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]",
        "\xff\xfe\x00b",
        "base:\n  model.depth: 99999999999999999999999\n",
        "base:\n  data.class_counts: [[1]]\n",
    };
    hs_spec *s = NULL;
    hs_error err = {0};
    CU_ASSERT_NOT_EQUAL(hs_spec_parse(nul, sizeof nul - 1, "nul.yaml", &s, &err), HS_OK);
    HS_ASSERT_CONTAINS(err.msg, "nul.yaml:2:");
    CU_ASSERT_PTR_NULL(s);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t len = i == 4 ? 4 : strlen(cases[i]);
        hs_error_clear(&err);
        CU_ASSERT_NOT_EQUAL(hs_spec_parse(cases[i], len, "x.yaml", &s, &err), HS_OK);
        CU_ASSERT_EQUAL(strncmp(err.msg, "x.yaml:", 7), 0);
        CU_ASSERT_PTR_NULL(s);
    }
}

/* ================================================================ random axes */

static hs_spec *parse_text(const char *t) {
    hs_spec *s = NULL;
    hs_error err = {0};
    hs_code rc = hs_spec_parse(t, strlen(t), "mem.yaml", &s, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
    return s;
}

static const char sample_spec[] = "product: {model.depth: [1, 2]}\n"
                                  "sample:\n"
                                  "  n: %d\n"
                                  "  seed: 7\n"
                                  "  train.lr: loguniform(1e-4, 1e-1)\n"
                                  "  train: {momentum: {uniform: [0.8, 0.99]}}\n"
                                  "  model.width: choice(8, 16, 32)\n"
                                  "  train.batch: uniform(8, 64)\n";

static hs_axis *sample_axis(hs_spec *s) {
    CU_ASSERT_EQUAL_FATAL(s->blocks[0].n_axes, 2);
    return &s->blocks[0].axes[1];
}

static void test_parse_sample(void) {
    char t[1024];
    snprintf(t, sizeof t, sample_spec, 12);
    hs_spec *a = parse_text(t), *b = parse_text(t);
    hs_axis *x = sample_axis(a), *y = sample_axis(b);
    CU_ASSERT_EQUAL_FATAL(x->len, 12);
    CU_ASSERT_EQUAL_FATAL(x->n_keys, 4);
    CU_ASSERT_EQUAL(x->keys[0], hs_schema_find("train.lr"));
    CU_ASSERT_EQUAL(x->keys[1], hs_schema_find("train.momentum"));
    CU_ASSERT_EQUAL(x->key_locs[0].line, 5);
    CU_ASSERT_EQUAL(x->key_locs[0].col, 3);
    for (size_t j = 0; j < x->len; j++) {
        const hs_value *v = &x->vals[j * 4];
        for (int k = 0; k < 4; k++) CU_ASSERT(hs_value_equal(&v[k], &y->vals[j * 4 + k])); /* same spec, same points */
        CU_ASSERT(v[0].u.f >= 1e-4 && v[0].u.f <= 0.1);
        CU_ASSERT(v[1].u.f >= 0.8 && v[1].u.f <= 0.99);
        CU_ASSERT(v[2].u.i == 8 || v[2].u.i == 16 || v[2].u.i == 32);
        CU_ASSERT(v[3].u.i >= 8 && v[3].u.i <= 64);
        char six[40];
        snprintf(six, sizeof six, "%.6g", v[0].u.f); /* floats carry 6 significant digits */
        CU_ASSERT_EQUAL(strtod(six, NULL), v[0].u.f);
        for (size_t i = 0; i < j; i++) { /* distinct points */
            int same = 1;
            for (int k = 0; k < 4; k++) same &= hs_value_equal(&v[k], &x->vals[i * 4 + k]);
            CU_ASSERT_FALSE(same);
        }
    }
    /* n = 5 is the first 5 points of n = 12, so a grown sample resumes its finished runs */
    snprintf(t, sizeof t, sample_spec, 5);
    hs_spec *c = parse_text(t);
    for (size_t i = 0; i < 5 * 4; i++) CU_ASSERT(hs_value_equal(&sample_axis(c)->vals[i], &x->vals[i]));
    hs_spec_free(c);
    /* another key added to the sample moves none of the others' values (one stream per key) */
    hs_spec_free(b);
    const char *more = "sample:\n  n: 12\n  seed: 7\n  train.lr: loguniform(1e-4, 1e-1)\n"
                       "  train: {momentum: {uniform: [0.8, 0.99]}}\n  model.width: choice(8, 16, 32)\n"
                       "  train.batch: uniform(8, 64)\n  data.seed: uniform(1, 1000000)\n";
    b = parse_text(more);
    CU_ASSERT_EQUAL_FATAL(b->blocks[0].axes[0].n_keys, 5);
    for (size_t j = 0; j < 12; j++)
        for (int k = 0; k < 4; k++) CU_ASSERT(hs_value_equal(&b->blocks[0].axes[0].vals[j * 5 + k], &x->vals[j * 4 + k]));
    hs_spec_free(a), hs_spec_free(b);

    /* log-uniform is uniform in log: half of 4000 draws of [1e-4, 1] fall below 1e-2; uniform puts
     * 1% there. An integer key's uniform(1, 4) with n = 4 yields each of 1..4 once. */
    a = parse_text("sample: {n: 4000, seed: 3, train.lr: 'loguniform(1e-4, 1)', train.momentum: 'uniform(0, 0.99)'}\n");
    x = &a->blocks[0].axes[0];
    size_t below_log = 0, below_lin = 0;
    for (size_t j = 0; j < x->len; j++) below_log += x->vals[j * 2].u.f < 1e-2, below_lin += x->vals[j * 2 + 1].u.f < 1e-2;
    CU_ASSERT(below_log > 1900 && below_log < 2100);
    CU_ASSERT(below_lin > 20 && below_lin < 65);
    hs_spec_free(a);
    a = parse_text("sample: {n: 4, model.depth: 'uniform(1, 4)'}\n");
    long long seen = 0;
    for (size_t j = 0; j < 4; j++) seen |= 1LL << a->blocks[0].axes[0].vals[j].u.i;
    CU_ASSERT_EQUAL(seen, 0x1e);
    hs_spec_free(a);
}

typedef struct sample_bad {
    const char *text, *msg;
} sample_bad;

static void test_sample_errors(void) {
    static const sample_bad cases[] = {
        {"sample: {train.lr: 'loguniform(1e-4, 0.1)'}\n", "mem.yaml:1:9: sample: missing 'n' (how many points to draw)"},
        {"sample:\n  n: 3\n  train.lr: logunifrm(1e-4, 0.1)\n",
         "mem.yaml:3:13: sample.train.lr: unknown distribution 'logunifrm' (did you mean 'loguniform'?)"},
        {"sample: {n: 3, train.lr: uniform(0.01, 0.1)}\n",
         "mem.yaml:1:26: sample.train.lr: expected a distribution such as loguniform(1e-4, 0.1), got 'uniform(0.01'"},
        {"sample: {n: 3, train.lr: {uniform: [0.1, 0.01]}}\n",
         "mem.yaml:1:26: sample.train.lr: uniform(0.1, 0.01): the lower bound must be below the upper"},
        {"sample: {n: 3, train.lr: 'loguniform(0, 0.1)'}\n",
         "mem.yaml:1:26: sample.train.lr: loguniform(0, 0.1): the bounds must be > 0"},
        {"sample: {n: 3, model.depth: 'uniform(1, 2.5)'}\n",
         "mem.yaml:1:29: sample.model.depth: uniform(1, 2.5): 'model.depth' is an integer key"},
        {"sample: {n: 3, train.opt: 'uniform(1, 2)'}\n", "uniform() needs a numeric key; 'train.opt' is enum"},
        {"sample: {n: 3, train.opt: 'choice(sgd, adm)'}\n", "choice value 2: unknown value 'adm'"},
        {"sample: {n: 3, train.opt: 'choice(sgd, adam)'}\n",
         "mem.yaml:1:9: sample: the sampled keys have at most 2 distinct points, fewer than n = 3"},
        {"sample: {n: 3, train.opt: 'choice(sgd, sgd, adam)'}\n",
         "mem.yaml:1:9: sample: found only 2 distinct points in 1192 draws, fewer than n = 3"},
        {"product: {train.lr: [0.1]}\nsample: {n: 3, train.lr: 'uniform(0.01, 0.1)'}\n",
         "mem.yaml:2:16: sample.train.lr: 'train.lr' is sampled and also an axis of this block (line 1)"},
        {"sample: {n: 3, train.lr: 'uniform(0.01, 0.1)', train: {lr: 'uniform(0.1, 1)'}}\n",
         "mem.yaml:1:56: sample.train.lr: 'train.lr' is sampled twice (first at line 1)"},
        {"sample: {n: 0, train.lr: 'uniform(0.01, 0.1)'}\n",
         "mem.yaml:1:13: sample.n: n must be an integer from 1 to 100000, got '0'"},
        {"sample: {n: 2, seed: x, train.lr: 'uniform(0.01, 0.1)'}\n",
         "mem.yaml:1:22: sample.seed: seed must be an integer >= 0, got 'x'"},
        {"sample: {n: 3}\n", "mem.yaml:1:9: sample: no key to sample"},
        {"sample: {n: 3, train.lrr: 'uniform(0.01, 0.1)'}\n",
         "mem.yaml:1:16: sample.train.lrr: unknown key 'train.lrr' (did you mean 'train.lr'?)"},
        {"sample: {n: 3, train.lr: 'uniform(0.01, 1e9)'}\n", "bound 1e+09: value 1000000000 is above the allowed range"},
        {"sample: {n: 3, train.lr: {uniform: 0.1}}\n", "expected the list of uniform's arguments, got a single value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        hs_spec *s = NULL;
        hs_error err = {0};
        hs_code rc = hs_spec_parse(cases[i].text, strlen(cases[i].text), "mem.yaml", &s, &err);
        CU_ASSERT_NOT_EQUAL(rc, HS_OK);
        CU_ASSERT_PTR_NULL(s);
        if (!strstr(err.msg, cases[i].msg)) fprintf(stderr, "\n  case %zu got:  %s\n  want: %s\n", i, err.msg, cases[i].msg);
        HS_ASSERT_CONTAINS(err.msg, cases[i].msg);
        hs_spec_free(s);
    }
    /* the flow-mapping comma gets its hint */
    hs_spec *s = NULL;
    hs_error err = {0};
    const char *t = "sample: {n: 3, train.lr: uniform(0.01, 0.1)}\n";
    CU_ASSERT_NOT_EQUAL(hs_spec_parse(t, strlen(t), "mem.yaml", &s, &err), HS_OK);
    HS_ASSERT_CONTAINS(err.hint, "quote it, or write {uniform: [a, b]}");
}

/* ================================================================ bad specs */

typedef struct bad_case {
    const char *file;
    hs_code code;
    const char *msg; /* the whole message after "<specs>/bad/" */
} bad_case;

static const bad_case bad_cases[] = {
    {"yaml_syntax.yaml", HS_ERR_YAML,
     "yaml_syntax.yaml:3:8: YAML syntax error: did not find expected ',' or '}' while parsing a flow mapping"},
    {"unknown_key.yaml", HS_ERR_SPEC,
     "unknown_key.yaml:3:5: base.model.dept: unknown key 'model.dept' (did you mean 'model.depth'?)"},
    {"wrong_type.yaml", HS_ERR_SPEC, "wrong_type.yaml:2:16: base.model.depth: expected an integer, got 'six'"},
    {"out_of_range.yaml", HS_ERR_VALUE, "out_of_range.yaml:3:9: base.train.lr: value 0 is below the allowed range (> 0)"},
    {"zip_mismatch.yaml", HS_ERR_SPEC,
     "zip_mismatch.yaml:3:5: zip[0].train.lr: zip lengths differ: 'train.lr' has 2 values but 'model.depth' has 3"},
    {"unknown_enum.yaml", HS_ERR_SPEC,
     "unknown_enum.yaml:2:17: base.model.arch: unknown value 'mlpp' (expected one of: mlp|cnn|lcn|fcn|kernel|gated|vgg11|vgg16|resnet18|resnet34|effnet_b0|vgg13_es|alexnet_es); did you mean 'mlp'?"},
    {"empty_expansion.yaml", HS_ERR_SPEC, "empty_expansion.yaml:4:5: sweep: empty expansion: all 2 combinations are excluded"},
    {"empty_axis.yaml", HS_ERR_SPEC, "empty_axis.yaml:2:9: product.seed: empty axis: a list with no values expands to no runs"},
    {"duplicate_runs.yaml", HS_ERR_SPEC,
     "duplicate_runs.yaml:5:5: blocks[1] ('extra'): duplicate run 01fb533e6514cd16: combination 0 repeats combination 1 "
     "of blocks[0] ('grid', line 2): data.seed=0, model.depth=6"},
    {"duplicate_key.yaml", HS_ERR_SPEC, "duplicate_key.yaml:5:5: base.model: duplicate key 'depth' (first given at line 3)"},
    {"axis_twice.yaml", HS_ERR_SPEC,
     "axis_twice.yaml:4:13: zip[0].model.depth: 'model.depth' appears in more than one axis of this block (also at line 2)"},
    {"scalar_axis.yaml", HS_ERR_SPEC, "scalar_axis.yaml:2:9: product.seed: expected a list of values for this axis, got a single value"},
    {"bad_logspace.yaml", HS_ERR_VALUE,
     "bad_logspace.yaml:2:37: product.data.per_class.logspace.from: logspace endpoints must be > 0 (they are values, not exponents), got '0'"},
    {"unknown_top.yaml", HS_ERR_SPEC,
     "unknown_top.yaml:1:1: unknown top-level key 'prodcut' (did you mean 'product'?; allowed: name, description, sweep, base, blocks, stages, product, zip, sample, set, exclude)"},
    {"float_for_int.yaml", HS_ERR_SPEC, "float_for_int.yaml:2:18: base.model.depth: expected an integer, got '2.5'"},
    {"quoted_number.yaml", HS_ERR_SPEC, "quoted_number.yaml:2:15: base.train.lr: expected a number, got the quoted string \"0.1\""},
    {"set_without_to.yaml", HS_ERR_SPEC, "set_without_to.yaml:4:5: set[0]: rule has no 'to:' (the keys to set)"},
    {"empty.yaml", HS_ERR_SPEC, "empty.yaml:1:1: empty spec: expected at least 'base:' or 'product:'"},
    {"init_scales_mismatch.yaml", HS_ERR_VALUE,
     "init_scales_mismatch.yaml:1:1: sweep: combination 0 (data.seed=0, model.init_scales=[1,0.5]): model.init_scales has 2 "
     "entries but the net has 4 dense layers (one per hidden layer plus the readout)"},
    {"section_scalar.yaml", HS_ERR_SPEC,
     "section_scalar.yaml:2:10: base.model: 'model' is a section, not a key: expected a mapping of its keys, got a single value"},
    {"blocks_and_product.yaml", HS_ERR_SPEC,
     "blocks_and_product.yaml:1:1: 'product' at the top level cannot be combined with 'blocks:'; move it into a block"},
    {"lr_drops_order.yaml", HS_ERR_VALUE,
     "lr_drops_order.yaml:1:1: sweep: combination 0 (data.seed=0, train.epochs=600, train.lr_drops=[400,200]): "
     "train.lr_drops must be strictly increasing, got 200 after 400"},
    {"two_documents.yaml", HS_ERR_SPEC, "two_documents.yaml:2:1: more than one YAML document ('---'); a spec is one document"},
    {"repeated_value.yaml", HS_ERR_SPEC,
     "repeated_value.yaml:2:3: sweep: duplicate run dff19c6457d40b70: combination 2 repeats combination 0: data.seed=1, seed=1"},
    {"range_missing_num.yaml", HS_ERR_SPEC,
     "range_missing_num.yaml:2:30: product.data.per_class.logspace: missing 'num' (a range needs from, to and num)"},
    {"where_bad_enum.yaml", HS_ERR_SPEC,
     "where_bad_enum.yaml:2:24: set[0].where.train.opt: unknown value 'sdg' (expected one of: sgd|momentum|adam|adamw); did you mean 'sgd'?"},
};

#include "hsweep/plan.h"

/* ================================================================ stages and select */

static const char stages_spec[] = "stages:\n"
                                  "  - name: lr\n"
                                  "    axes: {train.lr: [0.001, 0.01, 0.1], model.depth: [2, 4]}\n"
                                  "  - name: seeds\n"
                                  "    select: {from: lr, by: max(test_acc), over: train.lr, per: [model.depth]}\n"
                                  "    axes: {seed: [1, 2, 3], model.depth: [2, 4]}\n";

static void test_parse_stages(void) {
    hs_spec *s = parse_text(stages_spec);
    CU_ASSERT_EQUAL(s->n_stages, 2);
    CU_ASSERT_EQUAL_FATAL(s->n_blocks, 2);
    CU_ASSERT_STRING_EQUAL(s->blocks[0].name, "lr");
    CU_ASSERT_STRING_EQUAL(s->blocks[1].path, "stages[1]");
    CU_ASSERT_EQUAL(s->blocks[0].stage, 0);
    CU_ASSERT_EQUAL(s->blocks[1].stage, 1);
    CU_ASSERT_EQUAL(s->blocks[0].n_axes, 2);
    CU_ASSERT_PTR_NULL(s->blocks[0].select);
    const hs_select *sel = s->blocks[1].select;
    CU_ASSERT_PTR_NOT_NULL_FATAL(sel);
    CU_ASSERT_EQUAL(sel->from, 0);
    CU_ASSERT_EQUAL(sel->metric, HS_METRIC_TEST_ACC);
    CU_ASSERT(sel->maximize);
    CU_ASSERT_EQUAL(sel->over, hs_schema_find("train.lr"));
    CU_ASSERT_EQUAL_FATAL(sel->n_per, 1);
    CU_ASSERT_EQUAL(sel->per[0], hs_schema_find("model.depth"));
    CU_ASSERT_EQUAL(sel->loc.line, 5);
    hs_spec_free(s);
    /* a spec without stages is one stage */
    s = parse_text("product: {seed: [1, 2]}\n");
    CU_ASSERT_EQUAL(s->n_stages, 0);
    CU_ASSERT_EQUAL(s->blocks[0].stage, 0);
    hs_spec_free(s);
    for (int m = 0; m < HS_METRIC_COUNT; m++)
        CU_ASSERT_EQUAL(hs_metric_from_string(hs_metric_to_string((hs_metric)m)), m);
    int comp = 0;
    CU_ASSERT_STRING_EQUAL(hs_metric_record(HS_METRIC_TEST_ERR, &comp), "test_acc");
    CU_ASSERT_EQUAL(comp, 1);
    CU_ASSERT_STRING_EQUAL(hs_metric_record(HS_METRIC_TRAIN_LOSS, &comp), "train_loss");
    CU_ASSERT_EQUAL(comp, 0);
}

static void test_select_errors(void) {
#define STAGE1 "stages:\n  - name: lr\n    axes: {train.lr: [0.01, 0.1], model.depth: [2, 4]}\n"
    static const sample_bad cases[] = {
        {STAGE1 "  - name: seeds\n    select: {from: lrr, by: min(test_loss), over: train.lr}\n    axes: {seed: [1, 2]}\n",
         "mem.yaml:5:20: stages[1].select.from: unknown stage 'lrr' (did you mean 'lr'?; earlier stages: lr)"},
        {STAGE1 "  - name: seeds\n    select: {from: seeds, by: min(test_loss), over: train.lr}\n    axes: {seed: [1, 2]}\n",
         "mem.yaml:5:20: stages[1].select.from: stage 'seeds' does not run before this one"},
        {STAGE1 "  - name: seeds\n    select: {from: lr, by: min(test_los), over: train.lr}\n    axes: {seed: [1, 2]}\n",
         "mem.yaml:5:28: stages[1].select.by: unknown metric 'test_los' (did you mean 'test_loss'?"},
        {STAGE1 "  - name: seeds\n    select: {from: lr, by: lowest, over: train.lr}\n    axes: {seed: [1, 2]}\n",
         "mem.yaml:5:28: stages[1].select.by: expected min(METRIC) or max(METRIC), METRIC one of test_loss"},
        {STAGE1 "  - name: seeds\n    select: {from: lr, by: min(test_loss), over: train.momentum}\n    axes: {seed: [1, 2]}\n",
         "mem.yaml:5:50: stages[1].select.over: stage 'lr' does not vary 'train.momentum'"},
        {STAGE1 "  - name: seeds\n    select: {from: lr, by: min(test_loss), over: train.lrr}\n    axes: {seed: [1, 2]}\n",
         "mem.yaml:5:50: stages[1].select.over: unknown key 'train.lrr' (did you mean 'train.lr'?)"},
        {STAGE1 "  - name: seeds\n    select: {from: lr, by: min(test_loss), over: train.lr}\n    axes: {train.lr: [1, 2]}\n",
         "mem.yaml:5:50: stages[1].select.over: 'train.lr' is also an axis of this stage"},
        {STAGE1 "  - name: seeds\n    select: {from: lr, by: min(test_loss), over: train.lr, per: [model.depth]}\n"
                "    axes: {seed: [1, 2]}\n",
         "mem.yaml:5:66: stages[1].select.per[0]: stage 'seeds' does not vary 'model.depth'"},
        {STAGE1 "  - name: seeds\n    select: {from: lr, by: min(test_loss), over: train.lr, per: [seed]}\n"
                "    axes: {seed: [1, 2]}\n",
         "mem.yaml:5:66: stages[1].select.per[0]: stage 'lr' does not vary 'seed'"},
        {STAGE1 "  - name: seeds\n    select: {from: lr, over: train.lr}\n    axes: {seed: [1, 2]}\n",
         "mem.yaml:5:13: stages[1].select: missing 'by'"},
        {STAGE1 "  - name: seeds\n    select: {from: lr, by: min(test_loss), over: train.lr, sort: x}\n",
         "mem.yaml:5:60: stages[1].select: unknown select key 'sort'"},
        {STAGE1 "  - name: lr\n    axes: {seed: [1]}\n", "mem.yaml:4:5: stages[1]: stage name 'lr' is used twice"},
        {"stages:\n  - select: {from: x, by: min(test_loss), over: train.lr}\n",
         "mem.yaml:2:13: stages[0].select: the first stage has no earlier stage to select from"},
        {STAGE1 "product: {seed: [1]}\n", "mem.yaml:1:1: 'stages' cannot be combined with 'product' at the top level"},
        {"stages:\n  - name: a\n    axis: {seed: [1]}\n", "mem.yaml:3:5: stages[0]: unknown stage key 'axis' (did you mean 'axes'?"},
#define SEARCH "stages:\n  - name: p\n    axes: {model.depth: [1, 2]}\n    search: "
        {SEARCH "{key: train.opt, target: test_err = 0.1, lo: 1, hi: 2}\n",
         "mem.yaml:4:19: stages[0].search.key: 'train.opt' is enum: a search needs a numeric key"},
        {SEARCH "{key: model.depth, target: test_err = 0.1, lo: 1, hi: 2}\n",
         "mem.yaml:4:19: stages[0].search.key: 'model.depth' is also an axis of this stage"},
        {SEARCH "{key: data.per_class, target: test_eror = 0.1, lo: 1, hi: 2}\n",
         "mem.yaml:4:43: stages[0].search.target: unknown metric 'test_eror'"},
        {SEARCH "{key: data.per_class, target: test_err 0.1, lo: 1, hi: 2}\n",
         "mem.yaml:4:43: stages[0].search.target: expected METRIC = VALUE such as 'test_err = 0.1', got 'test_err 0.1'"},
        {SEARCH "{key: data.per_class, target: test_err = 0.1, lo: 10, hi: 2}\n",
         "mem.yaml:4:71: stages[0].search.hi: hi (2) must be above lo (10)"},
        {SEARCH "{key: data.per_class, target: test_err = 0.1, lo: 1.5, hi: 2}\n",
         "mem.yaml:4:63: stages[0].search.lo: expected an integer, got '1.5'"},
        {SEARCH "{key: data.per_class, target: test_err = 0.1, lo: 1, hi: 20, over: [train.lr]}\n",
         "mem.yaml:4:81: stages[0].search.over[0]: 'train.lr' is no axis of this stage"},
        {SEARCH "{key: data.per_class, target: test_err = 0.1, lo: 1, hi: 20, over: []}\n",
         "stages[0].search.over: 'model.depth' is an axis of this stage but not in over"},
        {SEARCH "{key: data.per_class, target: test_err = 0.1, hi: 20}\n", "mem.yaml:4:13: stages[0].search: missing 'lo'"},
        {SEARCH "{key: data.per_class, target: test_err = 0.1, lo: 1, hi: 20, rounds: 3}\n",
         "mem.yaml:4:74: stages[0].search: unknown search key 'rounds' (allowed: key, target, over"},
        {SEARCH "{key: data.per_class, target: test_err = 0.1, lo: 1, hi: 20, seeds: 0}\n",
         "mem.yaml:4:81: stages[0].search.seeds: expected an integer from 1 to 100, got '0'"},
        {SEARCH "{key: data.per_class, target: test_err = 0.1, lo: 1, hi: 20}\nset: [{where: {model.depth: 1}, to: {data.per_class: 5}}]\n",
         "mem.yaml:5:54: set: a set rule gives 'data.per_class', which stage 'p' searches"},
        {STAGE1 "  - name: b\n    axes: {model.depth: [1, 2]}\n"
                "    select: {from: lr, by: min(test_loss), over: train.lr, per: [model.depth]}\n"
                "    search: {key: data.per_class, target: test_err = 0.3, lo: 2, hi: 400}\n",
         "mem.yaml:7:13: stages[1].search: a stage either selects or searches; split it in two stages"},
#undef SEARCH
    };
#undef STAGE1
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        hs_spec *s = NULL;
        hs_error err = {0};
        hs_code rc = hs_spec_parse(cases[i].text, strlen(cases[i].text), "mem.yaml", &s, &err);
        CU_ASSERT_NOT_EQUAL(rc, HS_OK);
        CU_ASSERT_PTR_NULL(s);
        if (!strstr(err.msg, cases[i].msg)) fprintf(stderr, "\n  case %zu got:  %s\n  want: %s\n", i, err.msg, cases[i].msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].msg));
    }
}

static void test_bad_specs(void) {
    size_t n = sizeof bad_cases / sizeof *bad_cases;
    CU_ASSERT(n >= 10);
    for (size_t i = 0; i < n; i++) {
        char path[512], want[1024];
        snprintf(path, sizeof path, "%s/bad/%s", SPECS, bad_cases[i].file);
        snprintf(want, sizeof want, "%s/bad/%s", SPECS, bad_cases[i].msg);
        hs_error err = {0};
        hs_spec *s = NULL;
        hs_plan *p = NULL;
        hs_code rc = hs_spec_load(path, &s, &err);
        if (rc == HS_OK) { /* some errors only show when the runs are expanded */
            rc = hs_plan_expand(s, NULL, &p, &err);
            hs_plan_free(p);
            hs_spec_free(s);
        } else {
            CU_ASSERT_PTR_NULL(s);
        }
        if (rc != bad_cases[i].code || strcmp(err.msg, want) != 0)
            fprintf(stderr, "\n  %s: code %s (want %s)\n  got:  %s\n  want: %s\n", bad_cases[i].file,
                    hs_code_to_string(rc), hs_code_to_string(bad_cases[i].code), err.msg, want);
        CU_ASSERT_EQUAL(rc, bad_cases[i].code);
        CU_ASSERT_STRING_EQUAL(err.msg, want);
        CU_ASSERT(strchr(err.msg, '\n') == NULL); /* one line */
        CU_ASSERT(err.trace[0] != '\0');
    }
}

static void test_missing_file(void) {
    hs_error err = {0};
    hs_spec *s = NULL;
    CU_ASSERT_EQUAL(hs_spec_load("/nonexistent/sweep.yaml", &s, &err), HS_ERR_IO);
    CU_ASSERT_STRING_EQUAL(err.msg, "/nonexistent/sweep.yaml: cannot open the spec file");
    HS_ASSERT_CONTAINS(err.hint, "sweeps/");
}

int main(void) {
    static const hs_test tests[] = {
        {"schema table sorted, documented, defaults valid", test_schema_table},
        {"schema sections and did-you-mean", test_schema_sections_and_suggestions},
        {"value parsing and ranges", test_value_parse},
        {"quoted numbers and enum hints", test_value_scalar_quoting_and_hints},
        {"canonical value text", test_value_canon},
        {"value equality and copies", test_value_equal_copy},
        {"cross-key config rules", test_config_check},
        {"keys reference (markdown)", test_keys_markdown},
        {"full spec structure", test_parse_full},
        {"top-level shorthand and defaults", test_parse_shorthand_and_defaults},
        {"logspace/linspace ranges", test_parse_ranges},
        {"sample: random axes, deterministic, distinct, prefix-stable", test_parse_sample},
        {"sample: located errors", test_sample_errors},
        {"stages and select", test_parse_stages},
        {"select: located errors", test_select_errors},
        {"--set overrides", test_override},
        {"--set on plan and run: refused where the spec would win", test_override_base},
        {"hostile bytes give located errors", test_parse_hostile_bytes},
        {"malformed specs: exact messages", test_bad_specs},
        {"missing spec file", test_missing_file},
        {NULL, NULL},
    };
    return hs_test_main("spec", tests);
}
