/* spec.c - YAML sweep spec -> hs_spec, with every error located (see include/hsweep/spec.h).
 *
 * libyaml's document API gives a node tree whose nodes keep their source marks, so validation
 * runs on the tree and every message can say file:line:col and the dotted key path.
 *
 * Some 1250 lines, kept whole: one recursive descent over one document, whose functions all share
 * the located-error context and the node helpers at the top; a split would publish both in a
 * header. What is not parsing (--set overrides, freeing) is in spec_edit.c. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "hsweep/spec.h"
#include "internal.h"

#define PATH_MAX_LEN 256
#define RANGE_MAX_NUM 1000000
#define SAMPLE_MAX_N 100000 /* a random search of more runs than this belongs in several sweeps */

typedef struct ctx {
    const char *file;
    yaml_document_t *doc;
    hs_error *err;
} ctx;

/* ================================================================ errors */

static hs_loc loc_of(const yaml_node_t *n) {
    hs_loc l = {1, 1};
    if (n) l = (hs_loc){(int)n->start_mark.line + 1, (int)n->start_mark.column + 1};
    return l;
}

/* "file:line:col: path: message" */
static hs_code spec_fail_at(ctx *c, hs_loc l, const char *path, hs_code code, const char *src, int line,
                            const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static hs_code spec_fail_at(ctx *c, hs_loc l, const char *path, hs_code code, const char *src, int line,
                            const char *fmt, ...) {
    char text[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (path && path[0]) hs_error_set(c->err, code, src, line, "%s:%d:%d: %s: %s", c->file, l.line, l.col, path, text);
    else hs_error_set(c->err, code, src, line, "%s:%d:%d: %s", c->file, l.line, l.col, text);
    return code;
}
#define FAIL_AT(c, loc, path, code, ...) spec_fail_at((c), (loc), (path), (code), __FILE__, __LINE__, __VA_ARGS__)
#define FAIL(c, node, path, code, ...) FAIL_AT((c), loc_of(node), (path), (code), __VA_ARGS__)
#define NOMEM(c) HS_FAIL((c)->err, HS_ERR_NOMEM, "out of memory while reading %s", (c)->file)

/* ================================================================ node helpers */

static yaml_node_t *node(ctx *c, int idx) { return yaml_document_get_node(c->doc, idx); }

static const char *kind_name(const yaml_node_t *n) {
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a single value";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

/* Scalar text, or NULL with an error when the node is not a clean scalar. */
static const char *scalar(ctx *c, yaml_node_t *n, const char *path, const char *expected) {
    if (n->type != YAML_SCALAR_NODE) {
        FAIL(c, n, path, HS_ERR_SPEC, "expected %s, got %s", expected, kind_name(n));
        return NULL;
    }
    const char *s = (const char *)n->data.scalar.value;
    if (strlen(s) != n->data.scalar.length) {
        FAIL(c, n, path, HS_ERR_SPEC, "value contains a NUL byte");
        return NULL;
    }
    return s;
}

static int is_quoted(const yaml_node_t *n) {
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
}

/* out = a.b (or b); 0 when it does not fit, which only absurd specs reach. */
static int join(char *out, const char *a, const char *b) {
    int n = a && a[0] ? snprintf(out, PATH_MAX_LEN, "%s.%s", a, b) : snprintf(out, PATH_MAX_LEN, "%s", b);
    return n >= 0 && n < PATH_MAX_LEN;
}

int hs_spec_grow(void *arrp, size_t *n, size_t elsize) {
    void **arr = arrp;
    void *p = realloc(*arr, (*n + 1) * elsize);
    if (!p) return 0;
    memset((char *)p + *n * elsize, 0, elsize);
    *arr = p;
    (*n)++;
    return 1;
}

/* A mapping whose keys are all scalars, none repeated. */
static hs_code check_mapping(ctx *c, yaml_node_t *map, const char *path, const char *expected) {
    if (map->type != YAML_MAPPING_NODE)
        return FAIL(c, map, path, HS_ERR_SPEC, "expected %s, got %s", expected, kind_name(map));
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key);
        if (!scalar(c, k, path, "a key name")) return c->err->code;
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = node(c, q->key);
            if (k2->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, (char *)k2->data.scalar.value) == 0)
                return FAIL(c, k, path, HS_ERR_SPEC, "duplicate key '%s' (first given at line %d)",
                            (char *)k->data.scalar.value, loc_of(k2).line);
        }
    }
    return HS_OK;
}

/* Unknown word among a fixed vocabulary (spec structure keys): suggest the closest. */
static hs_code unknown_word(ctx *c, yaml_node_t *k, const char *path, const char *what, const char *const *words) {
    const char *w = (const char *)k->data.scalar.value;
    const char *best = NULL;
    int best_d = 3;
    for (const char *const *p = words; *p; p++) {
        int d = hs_edit_distance(w, *p);
        if (d < best_d) best_d = d, best = *p;
    }
    char allowed[256] = "";
    for (const char *const *p = words; *p; p++) {
        strncat(allowed, *p, sizeof allowed - strlen(allowed) - 1);
        if (p[1]) strncat(allowed, ", ", sizeof allowed - strlen(allowed) - 1);
    }
    if (best)
        return FAIL(c, k, path, HS_ERR_SPEC, "unknown %s '%s' (did you mean '%s'?; allowed: %s)", what, w, best, allowed);
    return FAIL(c, k, path, HS_ERR_SPEC, "unknown %s '%s' (allowed: %s)", what, w, allowed);
}

/* ================================================================ values */

/* One value of key k from node n (scalar, or a sequence of scalars for list keys). */
static hs_code parse_value(ctx *c, yaml_node_t *n, int k, const char *path, hs_value *out) {
    const hs_key *key = hs_schema_key((size_t)k);
    char why[400], hint[128];
    if (key->type == HS_T_INT_LIST || key->type == HS_T_FLOAT_LIST) {
        if (n->type != YAML_SEQUENCE_NODE)
            return FAIL(c, n, path, HS_ERR_SPEC, "expected a list of %s, got %s",
                        key->type == HS_T_INT_LIST ? "integers" : "numbers", kind_name(n));
        size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        hs_value *elems = calloc(len ? len : 1, sizeof *elems);
        if (!elems) return NOMEM(c);
        hs_code rc = HS_OK;
        for (size_t i = 0; i < len && rc == HS_OK; i++) {
            yaml_node_t *e = node(c, n->data.sequence.items.start[i]);
            char epath[PATH_MAX_LEN + 16];
            snprintf(epath, sizeof epath, "%s[%zu]", path, i);
            const char *s = scalar(c, e, epath, "a number");
            if (!s) rc = c->err->code;
            else if ((rc = hs_value_parse_scalar(key, s, is_quoted(e), &elems[i], why, sizeof why, hint, sizeof hint)))
                FAIL(c, e, epath, rc, "%s", why);
        }
        if (rc == HS_OK && (rc = hs_value_list(key, elems, len, out, why, sizeof why)) != HS_OK)
            FAIL(c, n, path, rc, "%s", why);
        free(elems);
        return rc;
    }
    const char *s = scalar(c, n, path, key->type == HS_T_ENUM ? "one of the allowed values" : hs_type_to_string(key->type));
    if (!s) {
        if (n->type == YAML_SEQUENCE_NODE)
            hs_error_hint(c->err, "a list of values belongs in an axis (product or zip), not here");
        return c->err->code;
    }
    hs_code rc = hs_value_parse_scalar(key, s, is_quoted(n), out, why, sizeof why, hint, sizeof hint);
    if (rc != HS_OK) {
        if (hint[0] && strncmp(hint, "did you mean", 12) == 0) FAIL(c, n, path, rc, "%s; %s", why, hint);
        else {
            FAIL(c, n, path, rc, "%s", why);
            if (hint[0]) hs_error_hint(c->err, "%s", hint);
        }
    }
    return rc;
}

/* ================================================================ key walking */

/* Called for every schema key reached below a mapping: val is its value node. */
typedef hs_code (*key_fn)(ctx *c, int key, yaml_node_t *keynode, yaml_node_t *val, const char *path, void *user);

/* Resolve the keys of a mapping against the schema, accepting both nested sections
 * ({model: {depth: 2}}) and dotted names ({model.depth: 2}). */
static hs_code walk_keys(ctx *c, yaml_node_t *map, const char *prefix, const char *path, key_fn fn, void *user);

/* One pair of a mapping of config keys: a key (fn), a section (recursion) or an unknown key. */
static hs_code walk_pair(ctx *c, yaml_node_t *kn, yaml_node_t *vn, const char *prefix, const char *path, key_fn fn,
                         void *user) {
    const char *name = (const char *)kn->data.scalar.value;
    char full[PATH_MAX_LEN], kpath[PATH_MAX_LEN];
    if (!join(full, prefix, name) || !join(kpath, path, name))
        return FAIL(c, kn, path, HS_ERR_SPEC, "key path too long (over %d characters)", PATH_MAX_LEN - 1);
    int k = hs_schema_find(full);
    if (k >= 0) return fn(c, k, kn, vn, kpath, user);
    if (hs_schema_is_section(full)) {
        if (vn->type != YAML_MAPPING_NODE)
            return FAIL(c, vn, kpath, HS_ERR_SPEC, "'%s' is a section, not a key: expected a mapping of its keys, got %s",
                        full, kind_name(vn));
        return walk_keys(c, vn, full, kpath, fn, user);
    }
    const char *best = hs_schema_suggest(full);
    if (best) FAIL(c, kn, kpath, HS_ERR_SPEC, "unknown key '%s' (did you mean '%s'?)", full, best);
    else FAIL(c, kn, kpath, HS_ERR_SPEC, "unknown key '%s'", full);
    hs_error_hint(c->err, "`hsweep keys` lists every key with its type and default");
    return HS_ERR_SPEC;
}

/* Resolve the keys of a mapping against the schema, accepting both nested sections
 * ({model: {depth: 2}}) and dotted names ({model.depth: 2}). */
static hs_code walk_keys(ctx *c, yaml_node_t *map, const char *prefix, const char *path, key_fn fn, void *user) {
    HS_TRY(c->err, check_mapping(c, map, path, "a mapping of config keys"));
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
        HS_TRY(c->err, walk_pair(c, node(c, p->key), node(c, p->value), prefix, path, fn, user));
    return HS_OK;
}

/* ---------------------------------------------------------------- assignments (base, to) */

typedef struct assign_list {
    hs_assign **items;
    size_t *n;
} assign_list;

static hs_code add_assign(ctx *c, int k, yaml_node_t *kn, yaml_node_t *vn, const char *path, void *user) {
    assign_list *l = user;
    for (size_t i = 0; i < *l->n; i++)
        if ((*l->items)[i].key == k)
            return FAIL(c, kn, path, HS_ERR_SPEC, "'%s' is set twice (first at line %d)", hs_schema_key((size_t)k)->name,
                        (*l->items)[i].loc.line);
    hs_value v;
    HS_TRY(c->err, parse_value(c, vn, k, path, &v));
    if (!hs_spec_grow(l->items, l->n, sizeof(hs_assign))) {
        hs_value_free(&v);
        return NOMEM(c);
    }
    (*l->items)[*l->n - 1] = (hs_assign){.key = k, .val = v, .loc = loc_of(vn)};
    return HS_OK;
}

static hs_code parse_assigns(ctx *c, yaml_node_t *map, const char *path, hs_assign **items, size_t *n) {
    assign_list l = {items, n};
    return walk_keys(c, map, "", path, add_assign, &l);
}

/* ---------------------------------------------------------------- where (set, exclude) */

static hs_code add_cond(ctx *c, int k, yaml_node_t *kn, yaml_node_t *vn, const char *path, void *user) {
    (void)kn;
    hs_where *w = user;
    const hs_key *key = hs_schema_key((size_t)k);
    int is_list_key = key->type == HS_T_INT_LIST || key->type == HS_T_FLOAT_LIST;
    /* A sequence means "any of", except for list keys, where a plain list is one value. */
    int any_of = vn->type == YAML_SEQUENCE_NODE &&
                 (!is_list_key || (vn->data.sequence.items.top > vn->data.sequence.items.start &&
                                   node(c, *vn->data.sequence.items.start)->type == YAML_SEQUENCE_NODE));
    size_t n = any_of ? (size_t)(vn->data.sequence.items.top - vn->data.sequence.items.start) : 1;
    if (n == 0) return FAIL(c, vn, path, HS_ERR_SPEC, "empty list of values: the condition can never hold");
    if (!hs_spec_grow(&w->conds, &w->n_conds, sizeof(hs_cond))) return NOMEM(c);
    hs_cond *cond = &w->conds[w->n_conds - 1];
    cond->key = k;
    cond->loc = loc_of(vn);
    cond->vals = calloc(n, sizeof(hs_value));
    if (!cond->vals) return NOMEM(c);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *e = any_of ? node(c, vn->data.sequence.items.start[i]) : vn;
        char epath[PATH_MAX_LEN + 16];
        if (any_of) snprintf(epath, sizeof epath, "%s[%zu]", path, i);
        else snprintf(epath, sizeof epath, "%s", path);
        HS_TRY(c->err, parse_value(c, e, k, epath, &cond->vals[i]));
        cond->n_vals++;
    }
    return HS_OK;
}

static hs_code parse_where(ctx *c, yaml_node_t *map, const char *path, hs_where *w) {
    w->loc = loc_of(map);
    HS_TRY(c->err, walk_keys(c, map, "", path, add_cond, w));
    if (w->n_conds == 0) return FAIL(c, map, path, HS_ERR_SPEC, "empty condition: it would match every run");
    return HS_OK;
}

/* `key: {...}` or `key: [{...}, ...]`: the number of mapping items, or -1 after an error. A single
 * mapping is accepted where a list is expected, because one-element lists are the common case. */
static long items_of(ctx *c, yaml_node_t *n, const char *path, const char *expected) {
    if (n->type == YAML_MAPPING_NODE) return 1;
    if (n->type != YAML_SEQUENCE_NODE) {
        FAIL(c, n, path, HS_ERR_SPEC, "expected a list of %s, got %s", expected, kind_name(n));
        return -1;
    }
    return (long)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *item_at(ctx *c, yaml_node_t *n, size_t i) {
    return n->type == YAML_MAPPING_NODE ? n : node(c, n->data.sequence.items.start[i]);
}

static hs_code parse_excludes(ctx *c, yaml_node_t *n, const char *path, hs_where **items, size_t *count) {
    long len = items_of(c, n, path, "conditions such as {model.depth: 18}");
    if (len < 0) return c->err->code;
    for (size_t i = 0; i < (size_t)len; i++) {
        yaml_node_t *e = item_at(c, n, i);
        char epath[PATH_MAX_LEN];
        snprintf(epath, sizeof epath, "%s[%zu]", path, i);
        if (!hs_spec_grow(items, count, sizeof(hs_where))) return NOMEM(c);
        HS_TRY(c->err, parse_where(c, e, epath, &(*items)[*count - 1]));
    }
    return HS_OK;
}

static hs_code parse_sets(ctx *c, yaml_node_t *n, const char *path, hs_set_rule **items, size_t *count) {
    static const char *const words[] = {"where", "to", NULL};
    long len = items_of(c, n, path, "rules such as {where: {...}, to: {...}}");
    if (len < 0) return c->err->code;
    for (size_t i = 0; i < (size_t)len; i++) {
        yaml_node_t *e = item_at(c, n, i);
        char epath[PATH_MAX_LEN], sub[PATH_MAX_LEN];
        snprintf(epath, sizeof epath, "%s[%zu]", path, i);
        HS_TRY(c->err, check_mapping(c, e, epath, "a rule {where: {...}, to: {...}}"));
        if (!hs_spec_grow(items, count, sizeof(hs_set_rule))) return NOMEM(c);
        hs_set_rule *r = &(*items)[*count - 1];
        r->loc = loc_of(e);
        for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top; p++) {
            yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
            const char *w = (const char *)kn->data.scalar.value;
            if (!join(sub, epath, w)) return unknown_word(c, kn, epath, "rule key", words);
            if (!strcmp(w, "where")) HS_TRY(c->err, parse_where(c, vn, sub, &r->where));
            else if (!strcmp(w, "to")) HS_TRY(c->err, parse_assigns(c, vn, sub, &r->to, &r->n_to));
            else return unknown_word(c, kn, epath, "rule key", words);
        }
        if (r->n_to == 0) return FAIL(c, e, epath, HS_ERR_SPEC, "rule has no 'to:' (the keys to set)");
    }
    return HS_OK;
}

/* ---------------------------------------------------------------- axes (product, zip) */

/* Round a generated float to 12 significant digits so that a range value equals the same number
 * typed by hand (0.30000000000000004 -> 0.3). */
static double snap12(double x) {
    char buf[40];
    snprintf(buf, sizeof buf, "%.12g", x);
    return strtod(buf, NULL);
}

/* {logspace: {from, to, num}} or {linspace: ...} -> values of key k. */
static hs_code parse_range(ctx *c, yaml_node_t *n, int k, const char *path, hs_value **vals, size_t *len) {
    static const char *const kinds[] = {"logspace", "linspace", NULL};
    static const char *const fields[] = {"from", "to", "num", NULL};
    const hs_key *key = hs_schema_key((size_t)k);
    HS_TRY(c->err, check_mapping(c, n, path, "a range"));
    if (n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
        return FAIL(c, n, path, HS_ERR_SPEC, "expected a list of values or one range {logspace: {...}} / {linspace: {...}}");
    yaml_node_t *kn = node(c, n->data.mapping.pairs.start->key), *body = node(c, n->data.mapping.pairs.start->value);
    const char *kind = (const char *)kn->data.scalar.value;
    if (strcmp(kind, "logspace") && strcmp(kind, "linspace")) return unknown_word(c, kn, path, "range", kinds);
    int is_log = !strcmp(kind, "logspace");
    char rpath[PATH_MAX_LEN];
    if (!join(rpath, path, kind)) return FAIL(c, kn, path, HS_ERR_SPEC, "key path too long");
    if (key->type != HS_T_INT && key->type != HS_T_FLOAT)
        return FAIL(c, kn, rpath, HS_ERR_SPEC, "a range needs a numeric key; '%s' is %s", key->name,
                    hs_type_to_string(key->type));
    HS_TRY(c->err, check_mapping(c, body, rpath, "{from: ..., to: ..., num: ...}"));
    double v[3];
    int seen[3] = {0, 0, 0};
    for (yaml_node_pair_t *p = body->data.mapping.pairs.start; p < body->data.mapping.pairs.top; p++) {
        yaml_node_t *fk = node(c, p->key), *fv = node(c, p->value);
        const char *f = (const char *)fk->data.scalar.value;
        int idx = !strcmp(f, "from") ? 0 : !strcmp(f, "to") ? 1 : !strcmp(f, "num") ? 2 : -1;
        if (idx < 0) return unknown_word(c, fk, rpath, "range field", fields);
        char fpath[PATH_MAX_LEN];
        if (!join(fpath, rpath, f)) return FAIL(c, fk, rpath, HS_ERR_SPEC, "key path too long");
        const char *s = scalar(c, fv, fpath, "a number");
        if (!s) return c->err->code;
        char *end;
        v[idx] = strtod(s, &end);
        if (!*s || *end || !isfinite(v[idx]) || is_quoted(fv))
            return FAIL(c, fv, fpath, HS_ERR_SPEC, "expected a number, got '%s'", s);
        if (idx == 2 && (v[2] != floor(v[2]) || v[2] < 1 || v[2] > RANGE_MAX_NUM))
            return FAIL(c, fv, fpath, HS_ERR_VALUE, "num must be an integer from 1 to %d, got '%s'", RANGE_MAX_NUM, s);
        if (idx < 2 && is_log && v[idx] <= 0)
            return FAIL(c, fv, fpath, HS_ERR_VALUE, "logspace endpoints must be > 0 (they are values, not exponents), got '%s'", s);
        seen[idx] = 1;
    }
    for (int i = 0; i < 3; i++)
        if (!seen[i]) return FAIL(c, body, rpath, HS_ERR_SPEC, "missing '%s' (a range needs from, to and num)", fields[i]);
    size_t num = (size_t)v[2];
    *vals = calloc(num, sizeof(hs_value));
    if (!*vals) return NOMEM(c);
    *len = 0;
    char why[400];
    for (size_t i = 0; i < num; i++) {
        double t = num == 1 ? 0.0 : (double)i / (double)(num - 1);
        double x = i == num - 1 ? v[1] : i == 0 ? v[0]
                 : is_log       ? exp(log(v[0]) + t * (log(v[1]) - log(v[0])))
                                : v[0] + t * (v[1] - v[0]);
        if (num == 1) x = v[0];
        hs_value val = {.type = key->type};
        if (key->type == HS_T_INT) {
            val.u.i = llround(x);
            if (*len > 0 && (*vals)[*len - 1].u.i == val.u.i) continue; /* rounding made a repeat */
        } else {
            val.u.f = snap12(x);
        }
        if (hs_value_check(key, &val, why, sizeof why) != HS_OK)
            return FAIL(c, body, rpath, HS_ERR_VALUE, "generated value %zu: %s", i, why);
        (*vals)[(*len)++] = val;
    }
    return HS_OK;
}

/* The values of one axis key: a non-empty list, or a range. */
static hs_code parse_axis_values(ctx *c, yaml_node_t *n, int k, const char *path, hs_value **vals, size_t *len) {
    *vals = NULL;
    *len = 0;
    if (n->type == YAML_MAPPING_NODE) return parse_range(c, n, k, path, vals, len);
    if (n->type != YAML_SEQUENCE_NODE) {
        FAIL(c, n, path, HS_ERR_SPEC, "expected a list of values for this axis, got %s", kind_name(n));
        return hs_error_hint(c->err, "write [%s] for a single value, or set it in base",
                             n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "...");
    }
    size_t num = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (num == 0) return FAIL(c, n, path, HS_ERR_SPEC, "empty axis: a list with no values expands to no runs");
    *vals = calloc(num, sizeof(hs_value));
    if (!*vals) return NOMEM(c);
    for (size_t i = 0; i < num; i++) {
        char epath[PATH_MAX_LEN + 16];
        snprintf(epath, sizeof epath, "%s[%zu]", path, i);
        HS_TRY(c->err, parse_value(c, node(c, n->data.sequence.items.start[i]), k, epath, &(*vals)[i]));
        (*len)++;
    }
    return HS_OK;
}

typedef struct axis_ctx {
    hs_block *block;
    hs_axis *zip; /* NULL: each key is its own product axis */
    size_t zip_first_len;
    const char *zip_first_key;
} axis_ctx;

static int block_has_axis_key(const hs_block *b, int k, hs_loc *where) {
    for (size_t a = 0; a < b->n_axes; a++)
        for (size_t j = 0; j < b->axes[a].n_keys; j++)
            if (b->axes[a].keys[j] == k) {
                *where = b->axes[a].loc;
                return 1;
            }
    return 0;
}

static hs_code add_axis_key(ctx *c, int k, yaml_node_t *kn, yaml_node_t *vn, const char *path, void *user) {
    axis_ctx *ax = user;
    hs_loc prev;
    if (block_has_axis_key(ax->block, k, &prev))
        return FAIL(c, kn, path, HS_ERR_SPEC, "'%s' appears in more than one axis of this block (also at line %d)",
                    hs_schema_key((size_t)k)->name, prev.line);
    hs_value *vals = NULL;
    size_t len = 0;
    hs_code rc = parse_axis_values(c, vn, k, path, &vals, &len);
    if (rc != HS_OK) {
        for (size_t i = 0; i < len; i++) hs_value_free(&vals[i]);
        free(vals);
        return rc;
    }
    hs_axis *a = ax->zip;
    if (!a) { /* product: a new single-key axis */
        if (!hs_spec_grow(&ax->block->axes, &ax->block->n_axes, sizeof(hs_axis))) goto nomem;
        a = &ax->block->axes[ax->block->n_axes - 1];
        a->loc = loc_of(kn);
        a->keys = malloc(sizeof(int));
        a->key_locs = malloc(sizeof(hs_loc));
        if (!a->keys || !a->key_locs) goto nomem;
        a->keys[0] = k;
        a->key_locs[0] = a->loc;
        a->n_keys = 1;
        a->vals = vals;
        a->len = len;
        return HS_OK;
    }
    /* zip: append a column; all columns must have the first one's length */
    if (a->n_keys > 0 && len != a->len) {
        FAIL(c, kn, path, HS_ERR_SPEC, "zip lengths differ: '%s' has %zu values but '%s' has %zu",
             hs_schema_key((size_t)k)->name, len, ax->zip_first_key, a->len);
        for (size_t i = 0; i < len; i++) hs_value_free(&vals[i]);
        free(vals);
        return HS_ERR_SPEC;
    }
    int *keys = realloc(a->keys, (a->n_keys + 1) * sizeof(int));
    if (!keys) goto nomem;
    a->keys = keys;
    hs_loc *key_locs = realloc(a->key_locs, (a->n_keys + 1) * sizeof(hs_loc));
    if (!key_locs) goto nomem;
    a->key_locs = key_locs;
    a->key_locs[a->n_keys] = loc_of(kn);
    hs_value *nv = calloc(len * (a->n_keys + 1), sizeof(hs_value));
    if (!nv) goto nomem;
    for (size_t j = 0; j < len; j++) {
        for (size_t q = 0; q < a->n_keys; q++) nv[j * (a->n_keys + 1) + q] = a->vals[j * a->n_keys + q];
        nv[j * (a->n_keys + 1) + a->n_keys] = vals[j];
    }
    free(a->vals);
    free(vals);
    a->vals = nv;
    a->keys[a->n_keys++] = k;
    if (a->n_keys == 1) {
        a->len = len;
        ax->zip_first_key = hs_schema_key((size_t)k)->name;
    }
    return HS_OK;
nomem:
    for (size_t i = 0; i < len; i++) hs_value_free(&vals[i]);
    free(vals);
    return NOMEM(c);
}

static hs_code parse_product(ctx *c, yaml_node_t *n, const char *path, hs_block *b) {
    axis_ctx ax = {.block = b};
    return walk_keys(c, n, "", path, add_axis_key, &ax);
}

static hs_code parse_zip(ctx *c, yaml_node_t *n, const char *path, hs_block *b) {
    long len = items_of(c, n, path, "zip groups such as {model.depth: [2, 6], train.lr: [0.1, 0.01]}");
    if (len < 0) return c->err->code;
    for (size_t i = 0; i < (size_t)len; i++) {
        yaml_node_t *g = item_at(c, n, i);
        char gpath[PATH_MAX_LEN];
        snprintf(gpath, sizeof gpath, "%s[%zu]", path, i);
        if (!hs_spec_grow(&b->axes, &b->n_axes, sizeof(hs_axis))) return NOMEM(c);
        size_t slot = b->n_axes - 1;
        b->axes[slot].loc = loc_of(g);
        /* zip keys only extend this axis, so b->axes does not move while the group is read */
        axis_ctx ax = {.block = b, .zip = &b->axes[slot]};
        HS_TRY(c->err, walk_keys(c, g, "", gpath, add_axis_key, &ax));
        if (b->axes[slot].n_keys == 0) return FAIL(c, g, gpath, HS_ERR_SPEC, "empty zip group");
    }
    return HS_OK;
}

/* ---------------------------------------------------------------- random axes */

typedef struct sample_ctx {
    hs_block *block;
    const hs_key **keys;
    hs_sample_dist *dists;
    hs_loc *locs;
    size_t n;
} sample_ctx;

static void sample_ctx_free(sample_ctx *sc) {
    for (size_t i = 0; i < sc->n; i++) hs_sample_dist_free(&sc->dists[i]);
    free(sc->keys), free(sc->dists), free(sc->locs);
}

/* One sampled key: "loguniform(1e-4, 0.1)" or {loguniform: [1e-4, 0.1]} (the form a flow
 * mapping needs, where a comma ends a plain value). */
static hs_code add_sample_key(ctx *c, int k, yaml_node_t *kn, yaml_node_t *vn, const char *path, void *user) {
    sample_ctx *sc = user;
    const hs_key *key = hs_schema_key((size_t)k);
    hs_loc prev;
    if (block_has_axis_key(sc->block, k, &prev))
        return FAIL(c, kn, path, HS_ERR_SPEC, "'%s' is sampled and also an axis of this block (line %d)", key->name,
                    prev.line);
    for (size_t i = 0; i < sc->n; i++)
        if (sc->keys[i] == key)
            return FAIL(c, kn, path, HS_ERR_SPEC, "'%s' is sampled twice (first at line %d)", key->name, sc->locs[i].line);
    char why[400], hint[160];
    hs_sample_dist d;
    hs_code rc;
    if (vn->type == YAML_MAPPING_NODE) {
        if (vn->data.mapping.pairs.top - vn->data.mapping.pairs.start != 1)
            return FAIL(c, vn, path, HS_ERR_SPEC, "expected one distribution, e.g. {loguniform: [1e-4, 0.1]}");
        yaml_node_t *dn = node(c, vn->data.mapping.pairs.start->key), *an = node(c, vn->data.mapping.pairs.start->value);
        const char *name = scalar(c, dn, path, "a distribution name");
        if (!name) return c->err->code;
        if (an->type != YAML_SEQUENCE_NODE)
            return FAIL(c, an, path, HS_ERR_SPEC, "expected the list of %s's arguments, got %s", name, kind_name(an));
        size_t na = (size_t)(an->data.sequence.items.top - an->data.sequence.items.start);
        const char **args = calloc(na ? na : 1, sizeof *args);
        if (!args) return NOMEM(c);
        for (size_t i = 0; i < na; i++) {
            yaml_node_t *e = node(c, an->data.sequence.items.start[i]);
            if (!(args[i] = scalar(c, e, path, "a value"))) {
                free(args);
                return c->err->code;
            }
        }
        rc = hs_sample_dist_init(key, name, args, na, &d, why, sizeof why, hint, sizeof hint);
        free(args);
    } else {
        const char *text = scalar(c, vn, path, "a distribution such as loguniform(1e-4, 0.1)");
        if (!text) return c->err->code;
        rc = hs_sample_dist_parse(key, text, &d, why, sizeof why, hint, sizeof hint);
    }
    if (rc != HS_OK) {
        FAIL(c, vn, path, rc, "%s", why);
        return hint[0] ? hs_error_hint(c->err, "%s", hint) : rc;
    }
    if (!hs_spec_grow(&sc->keys, &sc->n, sizeof *sc->keys)) {
        hs_sample_dist_free(&d);
        return NOMEM(c);
    }
    hs_sample_dist *dists = realloc(sc->dists, sc->n * sizeof *dists);
    hs_loc *locs = dists ? realloc(sc->locs, sc->n * sizeof *locs) : NULL;
    if (dists) sc->dists = dists;
    if (locs) sc->locs = locs;
    if (!dists || !locs) {
        sc->n--;
        hs_sample_dist_free(&d);
        return NOMEM(c);
    }
    sc->keys[sc->n - 1] = key, sc->dists[sc->n - 1] = d, sc->locs[sc->n - 1] = loc_of(kn);
    return HS_OK;
}

/* `sample: {n: N, seed: S, key: distribution, ...}`: one axis of N distinct points whose keys
 * advance together (as a zip group), drawn by sample.c from S. */
static hs_code parse_sample(ctx *c, yaml_node_t *n, const char *path, hs_block *b) {
    HS_TRY(c->err, check_mapping(c, n, path, "a mapping {n: ..., seed: ..., key: distribution, ...}"));
    sample_ctx sc = {.block = b};
    long long num = -1, seed = 0;
    hs_code rc = HS_OK;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top && rc == HS_OK; p++) {
        yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
        const char *w = (const char *)kn->data.scalar.value;
        if (!strcmp(w, "n") || !strcmp(w, "seed")) {
            /* the sampler's own settings: `seed` here is not the runs' seed key */
            char sub[PATH_MAX_LEN];
            join(sub, path, w);
            const char *t = scalar(c, vn, sub, "an integer");
            char *end;
            long long v = t ? strtoll(t, &end, 10) : 0;
            if (!t) rc = c->err->code;
            else if (!*t || *end || is_quoted(vn) || v < (w[0] == 'n' ? 1 : 0) || (w[0] == 'n' && v > SAMPLE_MAX_N))
                rc = FAIL(c, vn, sub, HS_ERR_VALUE, "%s must be an integer %s, got '%s'", w,
                          w[0] == 'n' ? "from 1 to 100000" : ">= 0", t);
            else if (w[0] == 'n') num = v;
            else seed = v;
            continue;
        }
        rc = walk_pair(c, kn, vn, "", path, add_sample_key, &sc);
    }
    if (rc == HS_OK && num < 0) rc = FAIL(c, n, path, HS_ERR_SPEC, "missing 'n' (how many points to draw)");
    if (rc == HS_OK && sc.n == 0)
        rc = FAIL(c, n, path, HS_ERR_SPEC, "no key to sample: add one, e.g. train.lr: loguniform(1e-4, 0.1)");
    hs_value *vals = NULL;
    if (rc == HS_OK && !(vals = calloc((size_t)num * sc.n, sizeof *vals))) rc = NOMEM(c);
    char why[400];
    if (rc == HS_OK && (rc = hs_sample_draw(sc.keys, sc.dists, sc.n, (size_t)num, (uint64_t)seed, vals, why,
                                            sizeof why)) != HS_OK)
        FAIL(c, n, path, rc, "%s", why);
    if (rc == HS_OK && !hs_spec_grow(&b->axes, &b->n_axes, sizeof(hs_axis))) rc = NOMEM(c);
    if (rc != HS_OK) {
        for (size_t i = 0; vals && i < (size_t)num * sc.n; i++) hs_value_free(&vals[i]); /* zeroed ones too */
        free(vals);
        sample_ctx_free(&sc);
        return rc;
    }
    hs_axis *a = &b->axes[b->n_axes - 1];
    a->loc = loc_of(n);
    a->keys = malloc(sc.n * sizeof *a->keys);
    a->key_locs = sc.locs, sc.locs = NULL;
    a->vals = vals, a->len = (size_t)num, a->n_keys = sc.n;
    if (!a->keys) {
        sample_ctx_free(&sc);
        return NOMEM(c);
    }
    for (size_t i = 0; i < sc.n; i++) a->keys[i] = hs_schema_find(sc.keys[i]->name);
    sample_ctx_free(&sc);
    return HS_OK;
}

/* ================================================================ blocks and the document */

static const char *const block_words[] = {"name", "base", "product", "zip", "sample", "set", "exclude", NULL};
static const char *const stage_words[] = {"name", "base", "axes", "product", "zip", "sample", "set", "exclude",
                                          "select", "search", NULL};
static const char *const top_words[] = {"name", "description", "sweep", "base",   "blocks", "stages", "product",
                                        "zip",  "sample",      "set",   "exclude", NULL};
static const char *const sweep_words[] = {"max_attempts", "checkpoint_minutes", NULL};

/* `sweep:` holds how the sweep is run, not what a run is: these settings are no part of any run's
 * config, so changing them between resumes keeps every run id. */
static hs_code parse_sweep(ctx *c, yaml_node_t *n, hs_spec *s) {
    HS_TRY(c->err, check_mapping(c, n, "sweep", "a mapping (max_attempts, checkpoint_minutes)"));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
        const char *w = (const char *)kn->data.scalar.value;
        char sub[PATH_MAX_LEN];
        if (!join(sub, "sweep", w)) return unknown_word(c, kn, "sweep", "sweep key", sweep_words);
        int is_attempts = !strcmp(w, "max_attempts");
        if (!is_attempts && strcmp(w, "checkpoint_minutes") != 0) return unknown_word(c, kn, "sweep", "sweep key", sweep_words);
        const char *v = scalar(c, vn, sub, is_attempts ? "an integer" : "a number of minutes");
        if (!v) return c->err->code;
        char *end = NULL;
        errno = 0;
        if (is_attempts) {
            long x = strtol(v, &end, 10);
            if (!*v || *end || errno || x < 1 || x > 1000)
                return FAIL(c, vn, sub, HS_ERR_VALUE, "expected an integer from 1 to 1000, got '%s'", v);
            s->max_attempts = (int)x;
        } else {
            double x = strtod(v, &end);
            if (!*v || *end || errno || !(x >= 0 && x <= 1e6))
                return FAIL(c, vn, sub, HS_ERR_VALUE, "expected minutes >= 0 (0: only when drained), got '%s'", v);
            s->checkpoint_minutes = x;
        }
    }
    return HS_OK;
}

/* A block, or a stage when select_node is not NULL: then `axes` is a product and the `select`
 * and `search` nodes are handed back (select_node[0], [1]), to be read once every stage's name
 * and axes are known. */
static hs_code parse_block(ctx *c, yaml_node_t *n, const char *path, hs_block *b, yaml_node_t **select_node) {
    const char *const *words = select_node ? stage_words : block_words;
    const char *what = select_node ? "stage key" : "block key";
    HS_TRY(c->err, check_mapping(c, n, path, select_node ? "a stage (a mapping with name/axes/select/...)"
                                                         : "a block (a mapping with product/zip/set/exclude)"));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
        const char *w = (const char *)kn->data.scalar.value;
        char sub[PATH_MAX_LEN];
        if (!join(sub, path, w)) return unknown_word(c, kn, path, what, words);
        if (select_node && !strcmp(w, "select")) select_node[0] = vn;
        else if (select_node && !strcmp(w, "search")) select_node[1] = vn;
        else if (select_node && !strcmp(w, "axes")) HS_TRY(c->err, parse_product(c, vn, sub, b));
        else if (!strcmp(w, "name")) {
            const char *s = scalar(c, vn, sub, "a name");
            if (!s) return c->err->code;
            free(b->name);
            if (!(b->name = strdup(s))) return NOMEM(c);
        } else if (!strcmp(w, "base")) HS_TRY(c->err, parse_assigns(c, vn, sub, &b->base, &b->n_base));
        else if (!strcmp(w, "product")) HS_TRY(c->err, parse_product(c, vn, sub, b));
        else if (!strcmp(w, "zip")) HS_TRY(c->err, parse_zip(c, vn, sub, b));
        else if (!strcmp(w, "sample")) HS_TRY(c->err, parse_sample(c, vn, sub, b));
        else if (!strcmp(w, "set")) HS_TRY(c->err, parse_sets(c, vn, sub, &b->sets, &b->n_sets));
        else if (!strcmp(w, "exclude")) HS_TRY(c->err, parse_excludes(c, vn, sub, &b->excludes, &b->n_excludes));
        else return unknown_word(c, kn, path, what, words);
    }
    return HS_OK;
}

/* ---------------------------------------------------------------- stages and select */

static int axis_key_of(const hs_block *b, int k) {
    hs_loc unused;
    return block_has_axis_key(b, k, &unused);
}

/* A config key named by a select (over, per): a schema key, else an error suggesting one. */
static int select_key(ctx *c, yaml_node_t *n, const char *path) {
    const char *name = scalar(c, n, path, "a config key such as train.lr");
    if (!name) return -1;
    int k = hs_schema_find(name);
    if (k >= 0) return k;
    const char *best = hs_schema_suggest(name);
    if (best) FAIL(c, n, path, HS_ERR_SPEC, "unknown key '%s' (did you mean '%s'?)", name, best);
    else FAIL(c, n, path, HS_ERR_SPEC, "unknown key '%s'", name);
    return -1;
}

/* `by: min(test_loss)`. */
static hs_code parse_by(ctx *c, yaml_node_t *n, const char *path, hs_select *sel) {
    const char *s = scalar(c, n, path, "min(METRIC) or max(METRIC)");
    if (!s) return c->err->code;
    char metric[64] = "";
    int maximize = !strncmp(s, "max(", 4), ok = maximize || !strncmp(s, "min(", 4);
    size_t len = strlen(s);
    if (ok && len > 5 && s[len - 1] == ')' && len - 5 < sizeof metric) memcpy(metric, s + 4, len - 5), metric[len - 5] = 0;
    else ok = 0;
    int m = ok ? hs_metric_from_string(metric) : -1;
    if (m >= 0) {
        sel->metric = (hs_metric)m, sel->maximize = maximize;
        return HS_OK;
    }
    char names[200] = "";
    for (int i = 0; i < HS_METRIC_COUNT; i++) {
        strncat(names, hs_metric_to_string((hs_metric)i), sizeof names - strlen(names) - 1);
        if (i + 1 < HS_METRIC_COUNT) strncat(names, ", ", sizeof names - strlen(names) - 1);
    }
    if (ok) {
        const char *best = NULL;
        int best_d = 3;
        for (int i = 0; i < HS_METRIC_COUNT; i++) {
            int d = hs_edit_distance(metric, hs_metric_to_string((hs_metric)i));
            if (d < best_d) best_d = d, best = hs_metric_to_string((hs_metric)i);
        }
        if (best) return FAIL(c, n, path, HS_ERR_SPEC, "unknown metric '%s' (did you mean '%s'?; allowed: %s)", metric, best, names);
        return FAIL(c, n, path, HS_ERR_SPEC, "unknown metric '%s' (allowed: %s)", metric, names);
    }
    return FAIL(c, n, path, HS_ERR_SPEC, "expected min(METRIC) or max(METRIC), METRIC one of %s; got '%s'", names, s);
}

static hs_code parse_select(ctx *c, yaml_node_t *n, hs_spec *s, size_t stage) {
    static const char *const words[] = {"from", "by", "over", "per", NULL};
    hs_block *b = &s->blocks[stage];
    char path[PATH_MAX_LEN], sub[PATH_MAX_LEN + 8];
    snprintf(path, sizeof path, "%s.select", b->path);
    HS_TRY(c->err, check_mapping(c, n, path, "a mapping {from: STAGE, by: min(METRIC), over: KEY, per: [KEYS]}"));
    if (!(b->select = calloc(1, sizeof *b->select))) return NOMEM(c);
    hs_select *sel = b->select;
    sel->loc = loc_of(n);
    yaml_node_t *from = NULL, *by = NULL, *over = NULL, *per = NULL;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
        const char *w = (const char *)kn->data.scalar.value;
        if (!strcmp(w, "from")) from = vn;
        else if (!strcmp(w, "by")) by = vn;
        else if (!strcmp(w, "over")) over = vn;
        else if (!strcmp(w, "per")) per = vn;
        else return unknown_word(c, kn, path, "select key", words);
    }
    const char *missing = !from ? "from" : !by ? "by" : !over ? "over" : NULL;
    if (missing)
        return FAIL(c, n, path, HS_ERR_SPEC, "missing '%s' (a select needs from, by and over; per is optional)", missing);

    snprintf(sub, sizeof sub, "%s.from", path);
    const char *fname = scalar(c, from, sub, "the name of an earlier stage");
    if (!fname) return c->err->code;
    size_t f = 0;
    while (f < s->n_blocks && strcmp(s->blocks[f].name, fname) != 0) f++;
    if (f < s->n_blocks && f >= stage)
        return FAIL(c, from, sub, HS_ERR_SPEC, "stage '%s' does not run before this one: a select reads an earlier stage",
                    fname);
    if (f >= s->n_blocks) {
        const char *best = NULL;
        int best_d = 3;
        char names[256] = "";
        for (size_t j = 0; j < stage; j++) {
            int d = hs_edit_distance(fname, s->blocks[j].name);
            if (d < best_d) best_d = d, best = s->blocks[j].name;
            strncat(names, s->blocks[j].name, sizeof names - strlen(names) - 1);
            if (j + 1 < stage) strncat(names, ", ", sizeof names - strlen(names) - 1);
        }
        if (best) return FAIL(c, from, sub, HS_ERR_SPEC, "unknown stage '%s' (did you mean '%s'?; earlier stages: %s)", fname, best, names);
        return FAIL(c, from, sub, HS_ERR_SPEC, "unknown stage '%s' (earlier stages: %s)", fname, names);
    }
    sel->from = f;
    const hs_block *fb = &s->blocks[f];

    snprintf(sub, sizeof sub, "%s.by", path);
    HS_TRY(c->err, parse_by(c, by, sub, sel));

    snprintf(sub, sizeof sub, "%s.over", path);
    if ((sel->over = select_key(c, over, sub)) < 0) return c->err->code;
    const char *oname = hs_schema_key((size_t)sel->over)->name;
    if (!axis_key_of(fb, sel->over))
        return FAIL(c, over, sub, HS_ERR_SPEC, "stage '%s' does not vary '%s': there is nothing to select among", fb->name, oname);
    if (axis_key_of(b, sel->over))
        return FAIL(c, over, sub, HS_ERR_SPEC, "'%s' is also an axis of this stage; the select fixes it, so drop the axis",
                    oname);

    if (!per) return HS_OK;
    snprintf(sub, sizeof sub, "%s.per", path);
    size_t np = per->type == YAML_SEQUENCE_NODE ? (size_t)(per->data.sequence.items.top - per->data.sequence.items.start) : 1;
    if (!(sel->per = calloc(np ? np : 1, sizeof *sel->per))) return NOMEM(c);
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *e = per->type == YAML_SEQUENCE_NODE ? node(c, per->data.sequence.items.start[i]) : per;
        char epath[PATH_MAX_LEN + 32];
        snprintf(epath, sizeof epath, "%s[%zu]", sub, i);
        int k = select_key(c, e, epath);
        if (k < 0) return c->err->code;
        const char *kname = hs_schema_key((size_t)k)->name;
        if (k == sel->over) return FAIL(c, e, epath, HS_ERR_SPEC, "'%s' is the key selected (over); it cannot group too", kname);
        for (size_t j = 0; j < sel->n_per; j++)
            if (sel->per[j] == k) return FAIL(c, e, epath, HS_ERR_SPEC, "'%s' is listed twice", kname);
        const hs_block *lacks = !axis_key_of(fb, k) ? fb : !axis_key_of(b, k) ? b : NULL;
        if (lacks)
            return FAIL(c, e, epath, HS_ERR_SPEC, "stage '%s' does not vary '%s': a per key must be an axis of both stages",
                        lacks->name, kname);
        sel->per[sel->n_per++] = k;
    }
    return HS_OK;
}

/* A number field of a search: finite, in [lo, hi]. */
static hs_code search_number(ctx *c, yaml_node_t *n, const char *path, double lo, double hi, int integer, double *out) {
    const char *v = scalar(c, n, path, integer ? "an integer" : "a number");
    if (!v) return c->err->code;
    char *end = NULL;
    errno = 0;
    double x = strtod(v, &end);
    if (!*v || *end || errno || !isfinite(x) || x < lo || x > hi || (integer && x != floor(x))) {
        if (hi >= 1e300) return FAIL(c, n, path, HS_ERR_VALUE, "expected %s, got '%s'", integer ? "an integer" : "a number", v);
        if (integer) return FAIL(c, n, path, HS_ERR_VALUE, "expected an integer from %.0f to %.0f, got '%s'", lo, hi, v);
        return FAIL(c, n, path, HS_ERR_VALUE, "expected a number from %g to %g, got '%s'", lo, hi, v);
    }
    *out = x;
    return HS_OK;
}

/* `target: test_err = 0.1`. */
static hs_code parse_target(ctx *c, yaml_node_t *n, const char *path, hs_search *sr) {
    const char *v = scalar(c, n, path, "METRIC = VALUE");
    if (!v) return c->err->code;
    const char *eq = strchr(v, '=');
    char name[64];
    size_t len = eq ? (size_t)(eq - v) : 0;
    while (len && v[len - 1] == ' ') len--;
    if (!eq || len == 0 || len >= sizeof name)
        return FAIL(c, n, path, HS_ERR_SPEC, "expected METRIC = VALUE such as 'test_err = 0.1', got '%s'", v);
    memcpy(name, v, len), name[len] = '\0';
    int m = hs_metric_from_string(name);
    if (m < 0) return FAIL(c, n, path, HS_ERR_SPEC, "unknown metric '%s' (test_loss, test_err, test_acc, train_loss, "
                           "train_err or train_acc)", name);
    char *end = NULL;
    double x = strtod(eq + 1, &end);
    while (end && *end == ' ') end++;
    if (end == eq + 1 || !end || *end || !isfinite(x))
        return FAIL(c, n, path, HS_ERR_SPEC, "expected a number after '=', got '%s'", eq + 1);
    sr->metric = (hs_metric)m, sr->target = x;
    return HS_OK;
}

static hs_code parse_search(ctx *c, yaml_node_t *n, hs_block *b) {
    static const char *const words[] = {"key", "target", "over", "lo", "hi", "log", "rtol", "seeds", "batch",
                                        "max_rounds", NULL};
    char path[PATH_MAX_LEN], sub[PATH_MAX_LEN + 16];
    snprintf(path, sizeof path, "%s.search", b->path);
    HS_TRY(c->err, check_mapping(c, n, path, "a mapping {key, target, lo, hi, ...}"));
    if (!(b->search = calloc(1, sizeof *b->search))) return NOMEM(c);
    hs_search *sr = b->search;
    *sr = (hs_search){.key = -1, .rtol = 0.05, .seeds = 1, .batch = 1, .max_rounds = 20, .loc = loc_of(n)};
    yaml_node_t *key = NULL, *target = NULL, *over = NULL, *lo = NULL, *hi = NULL;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
        const char *w = (const char *)kn->data.scalar.value;
        snprintf(sub, sizeof sub, "%s.%s", path, w);
        double x;
        if (!strcmp(w, "key")) key = vn;
        else if (!strcmp(w, "target")) target = vn;
        else if (!strcmp(w, "over")) over = vn;
        else if (!strcmp(w, "lo")) lo = vn;
        else if (!strcmp(w, "hi")) hi = vn;
        else if (!strcmp(w, "log")) {
            const char *v = scalar(c, vn, sub, "true or false");
            if (!v) return c->err->code;
            if (strcmp(v, "true") && strcmp(v, "false")) return FAIL(c, vn, sub, HS_ERR_VALUE, "expected true or false, got '%s'", v);
            sr->log = !strcmp(v, "true");
        } else if (!strcmp(w, "rtol")) {
            HS_TRY(c->err, search_number(c, vn, sub, 1e-9, 1e9, 0, &x));
            sr->rtol = x;
        } else if (!strcmp(w, "seeds") || !strcmp(w, "batch") || !strcmp(w, "max_rounds")) {
            HS_TRY(c->err, search_number(c, vn, sub, 1, w[0] == 'm' ? 1000 : 100, 1, &x));
            *(w[0] == 's' ? &sr->seeds : w[0] == 'b' ? &sr->batch : &sr->max_rounds) = (int)x;
        } else return unknown_word(c, kn, path, "search key", words);
    }
    const char *missing = !key ? "key" : !target ? "target" : !lo ? "lo" : !hi ? "hi" : NULL;
    if (missing) return FAIL(c, n, path, HS_ERR_SPEC, "missing '%s' (a search needs key, target, lo and hi)", missing);
    snprintf(sub, sizeof sub, "%s.key", path);
    if ((sr->key = select_key(c, key, sub)) < 0) return c->err->code;
    const hs_key *k = hs_schema_key((size_t)sr->key);
    if (k->type != HS_T_INT && k->type != HS_T_FLOAT)
        return FAIL(c, key, sub, HS_ERR_SPEC, "'%s' is %s: a search needs a numeric key", k->name, hs_type_to_string(k->type));
    if (axis_key_of(b, sr->key))
        return FAIL(c, key, sub, HS_ERR_SPEC, "'%s' is also an axis of this stage; the search chooses its values", k->name);
    if (axis_key_of(b, hs_schema_find("seed")))
        return FAIL(c, key, sub, HS_ERR_SPEC, "'seed' is an axis of this stage; a search trains seeds 1 .. `seeds` itself");
    snprintf(sub, sizeof sub, "%s.target", path);
    HS_TRY(c->err, parse_target(c, target, sub, sr));
    double ends[2];
    yaml_node_t *en[2] = {lo, hi};
    for (int i = 0; i < 2; i++) {
        snprintf(sub, sizeof sub, "%s.%s", path, i ? "hi" : "lo");
        HS_TRY(c->err, search_number(c, en[i], sub, -1e300, 1e300, k->type == HS_T_INT, &ends[i]));
        hs_value v = {.type = k->type};
        if (k->type == HS_T_INT) v.u.i = (long long)ends[i];
        else v.u.f = ends[i];
        char why[300];
        if (hs_value_check(k, &v, why, sizeof why) != HS_OK) return FAIL(c, en[i], sub, HS_ERR_VALUE, "%s", why);
    }
    if (!(ends[0] < ends[1])) return FAIL(c, hi, sub, HS_ERR_VALUE, "hi (%g) must be above lo (%g)", ends[1], ends[0]);
    if (sr->log && ends[0] <= 0)
        return FAIL(c, lo, path, HS_ERR_VALUE, "a search in log space needs lo > 0, got %g", ends[0]);
    sr->lo = ends[0], sr->hi = ends[1];
    snprintf(sub, sizeof sub, "%s.over", path);
    size_t na = 0;
    for (size_t a = 0; a < b->n_axes; a++) na += b->axes[a].n_keys;
    size_t no = !over ? na : over->type == YAML_SEQUENCE_NODE ? (size_t)(over->data.sequence.items.top - over->data.sequence.items.start) : 1;
    if (!(sr->over = calloc(no ? no : 1, sizeof *sr->over))) return NOMEM(c);
    if (!over) {
        for (size_t a = 0; a < b->n_axes; a++)
            for (size_t j = 0; j < b->axes[a].n_keys; j++) sr->over[sr->n_over++] = b->axes[a].keys[j];
        return HS_OK;
    }
    for (size_t i = 0; i < no; i++) {
        yaml_node_t *e = over->type == YAML_SEQUENCE_NODE ? node(c, over->data.sequence.items.start[i]) : over;
        char epath[PATH_MAX_LEN + 48];
        snprintf(epath, sizeof epath, "%s[%zu]", sub, i);
        int kk = select_key(c, e, epath);
        if (kk < 0) return c->err->code;
        if (!axis_key_of(b, kk))
            return FAIL(c, e, epath, HS_ERR_SPEC, "'%s' is no axis of this stage: a search runs per combination of its axes",
                        hs_schema_key((size_t)kk)->name);
        for (size_t j = 0; j < sr->n_over; j++)
            if (sr->over[j] == kk) return FAIL(c, e, epath, HS_ERR_SPEC, "'%s' is listed twice", hs_schema_key((size_t)kk)->name);
        sr->over[sr->n_over++] = kk;
    }
    for (size_t a = 0; a < b->n_axes; a++)
        for (size_t j = 0; j < b->axes[a].n_keys; j++) {
            size_t i = 0;
            while (i < sr->n_over && sr->over[i] != b->axes[a].keys[j]) i++;
            if (i == sr->n_over)
                return FAIL(c, over, sub, HS_ERR_SPEC, "'%s' is an axis of this stage but not in over: a search runs "
                            "per combination of the stage's axes", hs_schema_key((size_t)b->axes[a].keys[j])->name);
        }
    return HS_OK;
}

static hs_code parse_stages(ctx *c, yaml_node_t *stages, hs_spec *s) {
    if (stages->type != YAML_SEQUENCE_NODE)
        return FAIL(c, stages, "stages", HS_ERR_SPEC, "expected a list of stages, got %s", kind_name(stages));
    size_t n = (size_t)(stages->data.sequence.items.top - stages->data.sequence.items.start);
    if (n == 0) return FAIL(c, stages, "stages", HS_ERR_SPEC, "empty list of stages: the sweep has no runs");
    yaml_node_t **selects = calloc(2 * n, sizeof *selects); /* [i][0] select, [i][1] search */
    if (!selects) return NOMEM(c);
    hs_code rc = HS_OK;
    for (size_t i = 0; i < n && rc == HS_OK; i++) {
        if (!hs_spec_grow(&s->blocks, &s->n_blocks, sizeof(hs_block))) {
            rc = NOMEM(c);
            break;
        }
        hs_block *b = &s->blocks[i];
        char path[PATH_MAX_LEN];
        snprintf(path, sizeof path, "stages[%zu]", i);
        yaml_node_t *bn = node(c, stages->data.sequence.items.start[i]);
        b->loc = loc_of(bn);
        b->stage = i;
        if (!(b->path = strdup(path))) rc = NOMEM(c);
        else rc = parse_block(c, bn, path, b, &selects[2 * i]);
        if (rc == HS_OK && !b->name) {
            char nm[32];
            snprintf(nm, sizeof nm, "stage%zu", i);
            if (!(b->name = strdup(nm))) rc = NOMEM(c);
        }
        for (size_t j = 0; j < i && rc == HS_OK; j++)
            if (!strcmp(s->blocks[j].name, b->name))
                rc = FAIL_AT(c, b->loc, b->path, HS_ERR_SPEC, "stage name '%s' is used twice (also %s)", b->name,
                             s->blocks[j].path);
    }
    s->n_stages = s->n_blocks;
    if (rc == HS_OK && selects[0])
        rc = FAIL(c, selects[0], "stages[0].select", HS_ERR_SPEC, "the first stage has no earlier stage to select from");
    for (size_t i = 0; i < n && rc == HS_OK; i++) {
        if (selects[2 * i] && selects[2 * i + 1]) {
            char path[PATH_MAX_LEN + 8];
            snprintf(path, sizeof path, "%s.search", s->blocks[i].path);
            rc = FAIL(c, selects[2 * i + 1], path, HS_ERR_SPEC, "a stage either selects or searches; split it in two stages");
        }
        if (rc == HS_OK && i > 0 && selects[2 * i]) rc = parse_select(c, selects[2 * i], s, i);
        if (rc == HS_OK && selects[2 * i + 1]) rc = parse_search(c, selects[2 * i + 1], &s->blocks[i]);
        /* `set` applies after the select or search has chosen: a rule on that key would undo it */
        const hs_block *b = &s->blocks[i];
        int chosen = b->select ? b->select->over : b->search ? b->search->key : -1;
        for (size_t r = 0; chosen >= 0 && rc == HS_OK && r < b->n_sets + s->n_sets; r++) {
            const hs_set_rule *rule = r < b->n_sets ? &b->sets[r] : &s->sets[r - b->n_sets];
            for (size_t j = 0; j < rule->n_to && rc == HS_OK; j++)
                if (rule->to[j].key == chosen)
                    rc = FAIL_AT(c, rule->to[j].loc, r < b->n_sets ? b->path : "set", HS_ERR_SPEC,
                                 "a set rule gives '%s', which stage '%s' %s", hs_schema_key((size_t)chosen)->name, b->name,
                                 b->select ? "selects" : "searches");
        }
    }
    free(selects);
    return rc;
}

static hs_code parse_document(ctx *c, yaml_node_t *root, hs_spec *s) {
    HS_TRY(c->err, check_mapping(c, root, "", "a mapping at the top level (base:, product:, blocks:, ...)"));
    yaml_node_t *blocks = NULL, *shorthand = NULL, *stages = NULL, *stages_key = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
        const char *w = (const char *)kn->data.scalar.value;
        int ok = 0;
        for (const char *const *t = top_words; *t; t++) ok |= !strcmp(w, *t);
        if (!ok) return unknown_word(c, kn, "", "top-level key", top_words);
        if (!strcmp(w, "name") || !strcmp(w, "description")) {
            const char *v = scalar(c, vn, w, "text");
            if (!v) return c->err->code;
            char **dst = !strcmp(w, "name") ? &s->name : &s->description;
            free(*dst);
            if (!(*dst = strdup(v))) return NOMEM(c);
        } else if (!strcmp(w, "sweep")) HS_TRY(c->err, parse_sweep(c, vn, s));
        else if (!strcmp(w, "base")) HS_TRY(c->err, parse_assigns(c, vn, "base", &s->base, &s->n_base));
        else if (!strcmp(w, "blocks")) blocks = vn;
        else if (!strcmp(w, "stages")) stages = vn, stages_key = kn;
        else if (!strcmp(w, "set")) HS_TRY(c->err, parse_sets(c, vn, "set", &s->sets, &s->n_sets));
        else if (!strcmp(w, "exclude")) HS_TRY(c->err, parse_excludes(c, vn, "exclude", &s->excludes, &s->n_excludes));
        else if (!shorthand) shorthand = kn; /* product, zip or sample at top level */
    }
    if (stages && (blocks || shorthand))
        return FAIL(c, stages_key, "", HS_ERR_SPEC, "'stages' cannot be combined with '%s' at the top level; move it into a stage",
                    blocks ? "blocks" : (const char *)shorthand->data.scalar.value);
    if (stages) return parse_stages(c, stages, s);
    if (blocks && shorthand)
        return FAIL(c, shorthand, "", HS_ERR_SPEC, "'%s' at the top level cannot be combined with 'blocks:'; move it into a block",
                    (const char *)shorthand->data.scalar.value);
    if (blocks) {
        if (blocks->type != YAML_SEQUENCE_NODE)
            return FAIL(c, blocks, "blocks", HS_ERR_SPEC, "expected a list of blocks, got %s", kind_name(blocks));
        size_t n = (size_t)(blocks->data.sequence.items.top - blocks->data.sequence.items.start);
        if (n == 0) return FAIL(c, blocks, "blocks", HS_ERR_SPEC, "empty list of blocks: the sweep has no runs");
        for (size_t i = 0; i < n; i++) {
            if (!hs_spec_grow(&s->blocks, &s->n_blocks, sizeof(hs_block))) return NOMEM(c);
            hs_block *b = &s->blocks[i];
            char path[PATH_MAX_LEN];
            snprintf(path, sizeof path, "blocks[%zu]", i);
            yaml_node_t *bn = node(c, blocks->data.sequence.items.start[i]);
            b->loc = loc_of(bn);
            if (!(b->path = strdup(path))) return NOMEM(c);
            HS_TRY(c->err, parse_block(c, bn, path, b, NULL));
        }
    } else {
        /* One block from the top-level product/zip (or none: a single run of base). */
        if (!hs_spec_grow(&s->blocks, &s->n_blocks, sizeof(hs_block))) return NOMEM(c);
        hs_block *b = &s->blocks[0];
        b->loc = loc_of(root);
        if (!(b->path = strdup(""))) return NOMEM(c);
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
            yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
            const char *w = (const char *)kn->data.scalar.value;
            if (!strcmp(w, "product")) HS_TRY(c->err, parse_product(c, vn, "product", b));
            else if (!strcmp(w, "zip")) HS_TRY(c->err, parse_zip(c, vn, "zip", b));
            else if (!strcmp(w, "sample")) HS_TRY(c->err, parse_sample(c, vn, "sample", b));
        }
    }
    for (size_t i = 0; i < s->n_blocks; i++) {
        hs_block *b = &s->blocks[i];
        if (!b->name) {
            char nm[32];
            snprintf(nm, sizeof nm, s->n_blocks == 1 ? "main" : "block%zu", i);
            if (!(b->name = strdup(nm))) return NOMEM(c);
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->blocks[j].name, b->name))
                return FAIL_AT(c, b->loc, b->path, HS_ERR_SPEC, "block name '%s' is used twice (also %s)", b->name,
                               s->blocks[j].path);
    }
    return HS_OK;
}

/* ================================================================ entry points */

static char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    const char *dot = strrchr(b, '.');
    return strndup(b, dot && dot != b ? (size_t)(dot - b) : strlen(b));
}

hs_code hs_spec_parse(const char *text, size_t len, const char *path, hs_spec **out, hs_error *err) {
    *out = NULL;
    hs_spec *s = calloc(1, sizeof *s);
    if (!s) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    s->path = strdup(path);
    s->text = malloc(len + 1);
    if (!s->path || !s->text) {
        hs_spec_free(s);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    s->text_len = len;

    s->max_attempts = HS_SPEC_MAX_ATTEMPTS;
    s->checkpoint_minutes = HS_SPEC_CHECKPOINT_MINUTES;
    ctx c = {.file = path, .err = err};
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        hs_spec_free(s);
        return HS_FAIL(err, HS_ERR_NOMEM, "cannot initialise the YAML parser");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)s->text, len);
    hs_code rc = HS_OK;
    if (!yaml_parser_load(&parser, &doc)) {
        yaml_mark_t m = parser.problem_mark;
        rc = FAIL_AT(&c, ((hs_loc){(int)m.line + 1, (int)m.column + 1}), "", HS_ERR_YAML, "YAML syntax error: %s%s%s",
                     parser.problem ? parser.problem : "malformed input", parser.context ? " " : "",
                     parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        hs_spec_free(s);
        return rc;
    }
    c.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        rc = FAIL_AT(&c, ((hs_loc){1, 1}), "", HS_ERR_SPEC, "empty spec: expected at least 'base:' or 'product:'");
    } else {
        yaml_document_t next;
        if (yaml_parser_load(&parser, &next)) {
            if (yaml_document_get_root_node(&next))
                rc = FAIL_AT(&c, ((hs_loc){(int)next.start_mark.line + 1, (int)next.start_mark.column + 1}), "",
                             HS_ERR_SPEC, "more than one YAML document ('---'); a spec is one document");
            yaml_document_delete(&next);
        } else {
            yaml_mark_t m = parser.problem_mark;
            rc = FAIL_AT(&c, ((hs_loc){(int)m.line + 1, (int)m.column + 1}), "", HS_ERR_YAML, "YAML syntax error: %s",
                         parser.problem ? parser.problem : "malformed input");
        }
        if (rc == HS_OK) rc = parse_document(&c, root, s);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc == HS_OK && !s->name && !(s->name = base_name(path))) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    if (rc == HS_OK && !s->description && !(s->description = strdup("")))
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    if (rc != HS_OK) {
        hs_spec_free(s);
        return rc;
    }
    *out = s;
    return HS_OK;
}

hs_code hs_spec_load(const char *path, hs_spec **out, hs_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        HS_FAIL(err, HS_ERR_IO, "%s: cannot open the spec file", path);
        return hs_error_hint(err, "check the path; sweeps/ holds ready specs");
    }
    hs_str text = {0};
    char buf[65536];
    size_t n;
    hs_code rc = HS_OK;
    errno = 0;
    while (rc == HS_OK && (n = fread(buf, 1, sizeof buf, f)) > 0) rc = hs_str_append(&text, buf, n);
    int bad = ferror(f), e = errno;
    fclose(f);
    if (rc != HS_OK || bad) {
        hs_str_free(&text);
        return rc != HS_OK ? HS_FAIL(err, rc, "out of memory reading %s", path)
                           : HS_FAIL(err, HS_ERR_IO, "%s: cannot read the spec file: %s", path,
                                     e ? strerror(e) : "read error");
    }
    rc = hs_spec_parse(text.buf ? text.buf : "", text.len, path, out, err);
    hs_str_free(&text);
    if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
    return rc;
}
