/* spec_edit.c - changes to a parsed spec from the command line (`--set key=value`), and freeing
 * a spec (see include/hsweep/spec.h). The YAML parser is spec.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/spec.h"
#include "hsweep/util.h"
#include "internal.h"

#define PATH_MAX_LEN 256

/* The key and value of "key=value", with the messages of a bad one. */
static hs_code parse_override(const char *assignment, int *key, hs_value *v, hs_error *err) {
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return HS_FAIL(err, HS_ERR_USAGE, "--set %s: expected key=value (e.g. --set model.depth=6)", assignment);
    char name[PATH_MAX_LEN];
    snprintf(name, sizeof name, "%.*s", (int)(eq - assignment), assignment);
    int k = hs_schema_find(name);
    if (k < 0) {
        const char *best = hs_schema_suggest(name);
        if (best) return HS_FAIL(err, HS_ERR_SPEC, "--set %s: unknown key '%s' (did you mean '%s'?)", assignment, name, best);
        return HS_FAIL(err, HS_ERR_SPEC, "--set %s: unknown key '%s'", assignment, name);
    }
    char why[400];
    hs_code rc = hs_value_parse(hs_schema_key((size_t)k), eq + 1, v, why, sizeof why);
    if (rc != HS_OK) return HS_FAIL(err, rc, "--set %s: %s", assignment, why);
    *key = k;
    return HS_OK;
}

/* v (owned from here) appended to the spec's base as key k. */
static hs_code push_base(hs_spec *spec, int k, hs_value v, hs_error *err) {
    if (!hs_spec_grow(&spec->base, &spec->n_base, sizeof(hs_assign))) {
        hs_value_free(&v);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    spec->base[spec->n_base - 1] = (hs_assign){.key = k, .val = v, .loc = {0, 0}};
    return HS_OK;
}

hs_code hs_spec_override(hs_spec *spec, const char *assignment, hs_error *err) {
    int k;
    hs_value v;
    HS_TRY(err, parse_override(assignment, &k, &v, err));
    return push_base(spec, k, v, err);
}

/* Where a spec gives key k above its base: the first place in file order (what an editor jumps
 * to), described for a message. */
typedef struct given_at {
    hs_loc loc;
    const char *block; /* block name, or NULL for the top-level rules */
    const char *verb, *where, *hint;
} given_at;

static void consider(given_at *g, hs_loc loc, const char *block, const char *verb, const char *where,
                     const char *hint) {
    if (g->verb && (g->loc.line < loc.line || (g->loc.line == loc.line && g->loc.col <= loc.col))) return;
    *g = (given_at){loc, block, verb, where, hint};
}

static void rules_giving(given_at *g, const hs_set_rule *r, size_t n, int k, const char *block) {
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < r[i].n_to; j++)
            if (r[i].to[j].key == k)
                consider(g, r[i].to[j].loc, block, "sets", block ? "in a `set` rule" : "in a top-level `set` rule",
                         "remove the key from the rule's `to`, or edit the spec");
}

static void free_values(hs_value *v, size_t n) {
    for (size_t i = 0; i < n; i++) hs_value_free(&v[i]);
    free(v);
}

/* "key=[v1, v2]" on a key whose values are scalars: its values, parsed (*n = 0: not that form). */
static hs_code several_values(const char *assignment, int *key, hs_value **vals, size_t *n, hs_error *err) {
    *n = 0, *vals = NULL;
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment) return HS_OK;
    char name[PATH_MAX_LEN];
    snprintf(name, sizeof name, "%.*s", (int)(eq - assignment), assignment);
    const int k = hs_schema_find(name);
    const size_t len = strlen(eq + 1);
    if (k < 0 || len < 2 || eq[1] != '[' || eq[len] != ']') return HS_OK;
    const hs_key *key_of = hs_schema_key((size_t)k);
    if (key_of->type == HS_T_INT_LIST || key_of->type == HS_T_FLOAT_LIST) return HS_OK;
    char why[400];
    hs_code rc = hs_value_parse_elements(key_of, eq + 1, vals, n, why, sizeof why);
    if (rc != HS_OK) return HS_FAIL(err, rc, "--set %s: %s", assignment, why);
    if (*n == 0) {
        free(*vals), *vals = NULL;
        return HS_FAIL(err, HS_ERR_SPEC, "--set %s: no values between the brackets", assignment);
    }
    *key = k;
    return HS_OK;
}

hs_code hs_spec_override_base(hs_spec *spec, const char *assignment, hs_error *err) {
    int k = -1;
    hs_value *vals = NULL;
    size_t n = 0;
    HS_TRY(err, several_values(assignment, &k, &vals, &n, err));
    const int single = n == 0;
    if (single) { /* one value: the override's own errors (unknown key, bad value) come first */
        if (!(vals = malloc(sizeof *vals))) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        hs_code rc = parse_override(assignment, &k, &vals[0], err);
        if (rc != HS_OK) {
            free(vals);
            return rc;
        }
        n = 1;
    }
    given_at g = {0};            /* the first place above the base that is not an axis */
    const hs_axis *first = NULL; /* the first axis giving k, and where */
    size_t first_q = 0;
    const hs_block *first_b = NULL;
    const hs_value *missing = NULL; /* a value no axis has */
    for (size_t i = 0; i < n && !missing; i++) {
        const hs_value *v = &vals[i];
        int on_axis = 0;
        for (size_t bi = 0; bi < spec->n_blocks; bi++) {
            const hs_block *b = &spec->blocks[bi];
            for (size_t a = 0; a < b->n_axes; a++)
                for (size_t q = 0; q < b->axes[a].n_keys; q++) {
                    if (b->axes[a].keys[q] != k) continue;
                    if (!first) first = &b->axes[a], first_q = q, first_b = b;
                    for (size_t j = 0; j < b->axes[a].len && !on_axis; j++)
                        on_axis = hs_value_equal(&b->axes[a].vals[j * b->axes[a].n_keys + q], v);
                }
        }
        if (!on_axis) missing = v;
    }
    for (size_t bi = 0; bi < spec->n_blocks; bi++) {
        const hs_block *b = &spec->blocks[bi];
        for (size_t i = 0; i < b->n_base; i++)
            if (b->base[i].key == k)
                consider(&g, b->base[i].loc, b->name, "sets", "in its `base`",
                         "remove the key from the block's `base`, or edit the spec");
        rules_giving(&g, b->sets, b->n_sets, k, b->name);
    }
    rules_giving(&g, spec->sets, spec->n_sets, k, NULL);
    const char *name = hs_schema_key((size_t)k)->name;
    hs_code rc = HS_OK;
    if (g.verb) {
        if (g.block)
            HS_FAIL(err, HS_ERR_SPEC, "--set %s: block '%s' %s %s %s at %s:%d:%d, which would win over the --set",
                    assignment, g.block, g.verb, name, g.where, spec->path, g.loc.line, g.loc.col);
        else
            HS_FAIL(err, HS_ERR_SPEC, "--set %s: the spec %s %s %s at %s:%d:%d, which would win over the --set",
                    assignment, g.verb, name, g.where, spec->path, g.loc.line, g.loc.col);
        rc = hs_error_hint(err, "%s; --set with plan and run changes only the spec's base", g.hint);
    } else if (!first && single) { /* the base's alone */
        const hs_value v = vals[0];
        free(vals);
        return push_base(spec, k, v, err);
    } else if (!first) {
        rc = HS_FAIL(err, HS_ERR_SPEC, "--set %s: no axis varies %s, so it takes one value", assignment, name);
        hs_error_hint(err, "several values in brackets keep the runs with any of them, on a key an axis varies");
    } else if (missing) {
        /* only axes give k, but not this value: a typo */
        hs_str shown = {0}, vals_of = {0};
        hs_value_show(missing, &shown);
        hs_values_show(first->vals + first_q, first->len, first->n_keys, &vals_of);
        const hs_loc at = first->key_locs ? first->key_locs[first_q] : first->loc;
        HS_FAIL(err, HS_ERR_SPEC, "--set %s: block '%s' varies %s along an axis at %s:%d:%d over %s, not %s", assignment,
                first_b->name, name, spec->path, at.line, at.col, vals_of.buf ? vals_of.buf : "", shown.buf ? shown.buf : "");
        hs_str_free(&shown), hs_str_free(&vals_of);
        rc = hs_error_hint(err, "--set on a key an axis varies keeps only the runs with that value: give the axis' "
                                "values, or edit the spec");
    }
    if (rc == HS_OK && !hs_spec_grow(&spec->only, &spec->n_only, sizeof(hs_only)))
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    if (rc != HS_OK) {
        free_values(vals, n);
        return rc;
    }
    /* only axes give k: the sweep keeps the runs with these values (a later run of the whole spec
     * with --resume adds the others, by id) */
    spec->only[spec->n_only - 1] = (hs_only){k, vals, n};
    return HS_OK;
}

/* ================================================================ freeing */

static void free_assigns(hs_assign *a, size_t n) {
    for (size_t i = 0; i < n; i++) hs_value_free(&a[i].val);
    free(a);
}

static void free_where(hs_where *w) {
    for (size_t i = 0; i < w->n_conds; i++) {
        for (size_t j = 0; j < w->conds[i].n_vals; j++) hs_value_free(&w->conds[i].vals[j]);
        free(w->conds[i].vals);
    }
    free(w->conds);
}

static void free_sets(hs_set_rule *r, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free_where(&r[i].where);
        free_assigns(r[i].to, r[i].n_to);
    }
    free(r);
}

static void free_excludes(hs_where *w, size_t n) {
    for (size_t i = 0; i < n; i++) free_where(&w[i]);
    free(w);
}

void hs_spec_free(hs_spec *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_blocks; i++) {
        hs_block *b = &s->blocks[i];
        free(b->name);
        free(b->path);
        free_assigns(b->base, b->n_base);
        for (size_t a = 0; a < b->n_axes; a++) {
            for (size_t j = 0; j < b->axes[a].len * b->axes[a].n_keys; j++) hs_value_free(&b->axes[a].vals[j]);
            free(b->axes[a].vals);
            free(b->axes[a].keys);
            free(b->axes[a].key_locs);
        }
        free(b->axes);
        free_sets(b->sets, b->n_sets);
        free_excludes(b->excludes, b->n_excludes);
        if (b->select) free(b->select->per);
        free(b->select);
        if (b->search) free(b->search->over);
        free(b->search);
    }
    free(s->blocks);
    free_assigns(s->base, s->n_base);
    for (size_t i = 0; i < s->n_only; i++) free_values(s->only[i].vals, s->only[i].n);
    free(s->only);
    free_sets(s->sets, s->n_sets);
    free_excludes(s->excludes, s->n_excludes);
    free(s->path);
    free(s->text);
    free(s->name);
    free(s->description);
    free(s);
}

/* ---------------------------------------------------------------- what a select ranks by */

static const char *const metric_names[HS_METRIC_COUNT] = {"test_loss",  "test_err",  "test_acc",
                                                          "train_loss", "train_err", "train_acc"};

const char *hs_metric_to_string(hs_metric m) { return (unsigned)m < HS_METRIC_COUNT ? metric_names[m] : "?"; }

int hs_metric_from_string(const char *s) {
    for (int i = 0; i < HS_METRIC_COUNT; i++)
        if (!strcmp(s, metric_names[i])) return i;
    return -1;
}

const char *hs_metric_record(hs_metric m, int *complement) {
    static const char *const records[HS_METRIC_COUNT] = {"test_loss",  "test_acc",  "test_acc",
                                                         "train_loss", "train_acc", "train_acc"};
    *complement = m == HS_METRIC_TEST_ERR || m == HS_METRIC_TRAIN_ERR;
    return (unsigned)m < HS_METRIC_COUNT ? records[m] : NULL;
}
