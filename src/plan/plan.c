/* plan.c - spec -> runs with stable ids (see include/hsweep/plan.h).
 *
 * Some 660 lines, kept whole: the value pool, one block's expansion (axes, a stage's select and
 * search, set rules, excludes, ids) and the plan's tables all work on the one hs_plan being built;
 * what is not expansion lives beside it (plan_write.c, cost.c, select.c, search.c). */
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/plan.h"

#define MSG_CONFIG_MAX 300

/* ================================================================ value pool */

static uint64_t fnv1a(const char *s, hs_type t) {
    uint64_t h = 1469598103934665603ull ^ (uint64_t)t;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

typedef struct pool_index {
    uint32_t *slots; /* pool index + 1; 0 = empty */
    size_t cap;
} pool_index;

/* Intern v (copied) and return its pool index through *idx. */
static hs_code intern(hs_plan *p, pool_index *pi, const hs_value *v, uint32_t *idx) {
    hs_str canon = {0};
    if (hs_value_canon(v, &canon) != HS_OK) return HS_ERR_NOMEM;
    if (p->n_pool * 2 + 2 > pi->cap) { /* rehash */
        size_t cap = pi->cap ? pi->cap * 2 : 256;
        uint32_t *slots = calloc(cap, sizeof *slots);
        if (!slots) goto nomem;
        for (size_t i = 0; i < p->n_pool; i++) {
            size_t h = fnv1a(p->pool_canon[i], p->pool[i].type) & (cap - 1);
            while (slots[h]) h = (h + 1) & (cap - 1);
            slots[h] = (uint32_t)i + 1;
        }
        free(pi->slots);
        pi->slots = slots;
        pi->cap = cap;
    }
    size_t h = fnv1a(canon.buf, v->type) & (pi->cap - 1);
    while (pi->slots[h]) {
        uint32_t i = pi->slots[h] - 1;
        if (p->pool[i].type == v->type && strcmp(p->pool_canon[i], canon.buf) == 0) {
            hs_str_free(&canon);
            *idx = i;
            return HS_OK;
        }
        h = (h + 1) & (pi->cap - 1);
    }
    if (p->n_pool == p->cap_pool) {
        size_t cap = p->cap_pool ? p->cap_pool * 2 : 64;
        hs_value *pool = realloc(p->pool, cap * sizeof *pool);
        if (!pool) goto nomem;
        p->pool = pool;
        char **pc = realloc(p->pool_canon, cap * sizeof *pc);
        if (!pc) goto nomem;
        p->pool_canon = pc;
        p->cap_pool = cap;
    }
    if (hs_value_copy(v, &p->pool[p->n_pool]) != HS_OK) goto nomem;
    p->pool_canon[p->n_pool] = canon.buf; /* ownership moves to the pool */
    pi->slots[h] = (uint32_t)p->n_pool + 1;
    *idx = (uint32_t)p->n_pool++;
    return HS_OK;
nomem:
    hs_str_free(&canon);
    return HS_ERR_NOMEM;
}

/* ================================================================ canonical form and ids */

hs_code hs_plan_canonical(const hs_plan *p, size_t r, hs_str *out) {
    const uint32_t *row = &p->cells[r * p->n_keys];
    hs_code rc = hs_str_printf(out, "hsweep/%d\n", HS_SCHEMA_VERSION);
    for (size_t k = 0; k < p->n_keys && rc == HS_OK; k++) /* the table is sorted by name */
        if (row[k] != p->default_cell[k])
            rc = hs_str_printf(out, "%s=%s\n", hs_schema_key(k)->name, p->pool_canon[row[k]]);
    return rc;
}

/* "model.depth=2, seed=1" (non-default keys), shortened for messages. */
static void describe_run(const hs_plan *p, const uint32_t *row, char *buf, size_t len) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < p->n_keys && used + 1 < len; k++) {
        if (row[k] == p->default_cell[k]) continue;
        int n = snprintf(buf + used, len - used, "%s%s=%s", used ? ", " : "", hs_schema_key(k)->name, p->pool_canon[row[k]]);
        if (n < 0 || (size_t)n >= len - used) {
            snprintf(buf + (len > 4 ? len - 4 : 0), 4, "...");
            return;
        }
        used += (size_t)n;
    }
    if (!used) snprintf(buf, len, "all defaults");
}

static uint64_t row_id(const hs_plan *p, const uint32_t *row, hs_str *scratch) {
    hs_sha256_ctx c;
    hs_sha256_init(&c);
    char head[32];
    int n = snprintf(head, sizeof head, "hsweep/%d\n", HS_SCHEMA_VERSION);
    hs_sha256_update(&c, head, (size_t)n);
    for (size_t k = 0; k < p->n_keys; k++) {
        if (row[k] == p->default_cell[k]) continue;
        hs_str_reset(scratch);
        if (hs_str_printf(scratch, "%s=%s\n", hs_schema_key(k)->name, p->pool_canon[row[k]]) != HS_OK) return 0;
        hs_sha256_update(&c, scratch->buf, scratch->len);
    }
    uint8_t d[32];
    hs_sha256_final(&c, d);
    return hs_sha256_prefix64(d);
}

static hs_code id_table_grow(hs_plan *p) {
    size_t cap = p->id_cap ? p->id_cap * 2 : 1024;
    uint64_t *ids = calloc(cap, sizeof *ids);
    uint32_t *runs = calloc(cap, sizeof *runs);
    if (!ids || !runs) {
        free(ids);
        free(runs);
        return HS_ERR_NOMEM;
    }
    for (size_t r = 0; r < p->n_runs; r++) {
        size_t h = (size_t)(p->runs[r].id * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1);
        while (runs[h]) h = (h + 1) & (cap - 1);
        ids[h] = p->runs[r].id;
        runs[h] = (uint32_t)r + 1;
    }
    free(p->id_table);
    free(p->id_slot_run);
    p->id_table = ids;
    p->id_slot_run = runs;
    p->id_cap = cap;
    return HS_OK;
}

long hs_plan_find(const hs_plan *p, uint64_t id) {
    if (!p->id_cap) return -1;
    size_t h = (size_t)(id * 0x9e3779b97f4a7c15ull >> 20) & (p->id_cap - 1);
    while (p->id_slot_run[h]) {
        if (p->id_table[h] == id) return (long)p->id_slot_run[h] - 1;
        h = (h + 1) & (p->id_cap - 1);
    }
    return -1;
}

/* ================================================================ expansion */

static hs_code fail_at(const hs_spec *s, hs_loc l, const char *what, hs_error *err, hs_code code, const char *file,
                       int line, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static hs_code fail_at(const hs_spec *s, hs_loc l, const char *what, hs_error *err, hs_code code, const char *file,
                       int line, const char *fmt, ...) {
    char text[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return hs_error_set(err, code, file, line, "%s:%d:%d: %s: %s", s->path, l.line, l.col, what, text);
}
#define PFAIL(s, loc, what, err, ...) fail_at((s), (loc), (what), (err), HS_ERR_SPEC, __FILE__, __LINE__, __VA_ARGS__)
#define PFAIL_CODE(s, loc, what, err, code, ...) fail_at((s), (loc), (what), (err), (code), __FILE__, __LINE__, __VA_ARGS__)

/* A `where` with its values interned: cond c holds when row[key[c]] is one of vals[c][..]. */
typedef struct icond {
    int key;
    uint32_t *vals;
    size_t n;
} icond;
typedef struct iwhere {
    icond *conds;
    size_t n;
} iwhere;
typedef struct iset {
    iwhere where;
    int *keys;
    uint32_t *vals;
    size_t n;
} iset;

static int matches(const iwhere *w, const uint32_t *row) {
    for (size_t c = 0; c < w->n; c++) {
        int any = 0;
        for (size_t j = 0; j < w->conds[c].n && !any; j++) any = row[w->conds[c].key] == w->conds[c].vals[j];
        if (!any) return 0;
    }
    return 1;
}

static hs_code intern_where(hs_plan *p, pool_index *pi, const hs_where *w, iwhere *out) {
    out->n = 0;
    out->conds = calloc(w->n_conds ? w->n_conds : 1, sizeof *out->conds);
    if (!out->conds) return HS_ERR_NOMEM;
    for (size_t c = 0; c < w->n_conds; c++) {
        icond *ic = &out->conds[out->n++];
        ic->key = w->conds[c].key;
        ic->vals = malloc(w->conds[c].n_vals * sizeof *ic->vals);
        if (!ic->vals) return HS_ERR_NOMEM;
        for (size_t j = 0; j < w->conds[c].n_vals; j++) {
            if (intern(p, pi, &w->conds[c].vals[j], &ic->vals[j]) != HS_OK) return HS_ERR_NOMEM;
            ic->n++;
        }
    }
    return HS_OK;
}

static void free_where(iwhere *w) {
    for (size_t c = 0; c < w->n; c++) free(w->conds[c].vals);
    free(w->conds);
}

static hs_code intern_sets(hs_plan *p, pool_index *pi, const hs_set_rule *r, size_t n, iset *out) {
    for (size_t i = 0; i < n; i++) {
        if (intern_where(p, pi, &r[i].where, &out[i].where) != HS_OK) return HS_ERR_NOMEM;
        out[i].keys = malloc((r[i].n_to ? r[i].n_to : 1) * sizeof(int));
        out[i].vals = malloc((r[i].n_to ? r[i].n_to : 1) * sizeof(uint32_t));
        if (!out[i].keys || !out[i].vals) return HS_ERR_NOMEM;
        for (size_t j = 0; j < r[i].n_to; j++) {
            out[i].keys[j] = r[i].to[j].key;
            if (intern(p, pi, &r[i].to[j].val, &out[i].vals[j]) != HS_OK) return HS_ERR_NOMEM;
            out[i].n++;
        }
    }
    return HS_OK;
}

static void free_sets(iset *s, size_t n) {
    for (size_t i = 0; s && i < n; i++) {
        free_where(&s[i].where);
        free(s[i].keys);
        free(s[i].vals);
    }
    free(s);
}

/* Everything the expansion of one block needs, interned. */
typedef struct block_work {
    uint32_t *base;      /* [n_keys] start row: defaults <- spec base <- block base */
    uint32_t **axis_val; /* [n_axes][len * n_keys] */
    size_t *pos;         /* [n_axes] odometer */
    iset *sets;          /* block rules then top-level rules */
    size_t n_sets;
    iwhere *excl;        /* block excludes then top-level excludes */
    size_t n_excl;
} block_work;

static void block_work_free(block_work *w, size_t n_axes) {
    free(w->base);
    for (size_t a = 0; w->axis_val && a < n_axes; a++) free(w->axis_val[a]);
    free(w->axis_val);
    free(w->pos);
    free_sets(w->sets, w->n_sets);
    for (size_t i = 0; w->excl && i < w->n_excl; i++) free_where(&w->excl[i]);
    free(w->excl);
    memset(w, 0, sizeof *w);
}

static hs_code block_work_init(hs_plan *p, pool_index *pi, const hs_spec *s, const hs_block *b, block_work *w) {
    memset(w, 0, sizeof *w);
    w->base = malloc(p->n_keys * sizeof *w->base);
    w->axis_val = calloc(b->n_axes ? b->n_axes : 1, sizeof *w->axis_val);
    w->pos = calloc(b->n_axes ? b->n_axes : 1, sizeof *w->pos);
    w->n_sets = b->n_sets + s->n_sets;
    w->sets = calloc(w->n_sets ? w->n_sets : 1, sizeof *w->sets);
    w->n_excl = b->n_excludes + s->n_excludes;
    w->excl = calloc(w->n_excl ? w->n_excl : 1, sizeof *w->excl);
    if (!w->base || !w->axis_val || !w->pos || !w->sets || !w->excl) return HS_ERR_NOMEM;
    memcpy(w->base, p->default_cell, p->n_keys * sizeof *w->base);
    for (size_t i = 0; i < s->n_base; i++)
        if (intern(p, pi, &s->base[i].val, &w->base[s->base[i].key]) != HS_OK) return HS_ERR_NOMEM;
    for (size_t i = 0; i < b->n_base; i++)
        if (intern(p, pi, &b->base[i].val, &w->base[b->base[i].key]) != HS_OK) return HS_ERR_NOMEM;
    for (size_t a = 0; a < b->n_axes; a++) {
        size_t n = b->axes[a].len * b->axes[a].n_keys;
        w->axis_val[a] = malloc((n ? n : 1) * sizeof(uint32_t));
        if (!w->axis_val[a]) return HS_ERR_NOMEM;
        for (size_t j = 0; j < n; j++)
            if (intern(p, pi, &b->axes[a].vals[j], &w->axis_val[a][j]) != HS_OK) return HS_ERR_NOMEM;
    }
    if (intern_sets(p, pi, b->sets, b->n_sets, w->sets) != HS_OK) return HS_ERR_NOMEM;
    if (intern_sets(p, pi, s->sets, s->n_sets, w->sets + b->n_sets) != HS_OK) return HS_ERR_NOMEM;
    for (size_t i = 0; i < b->n_excludes; i++)
        if (intern_where(p, pi, &b->excludes[i], &w->excl[i]) != HS_OK) return HS_ERR_NOMEM;
    for (size_t i = 0; i < s->n_excludes; i++)
        if (intern_where(p, pi, &s->excludes[i], &w->excl[b->n_excludes + i]) != HS_OK) return HS_ERR_NOMEM;
    return HS_OK;
}

static hs_code push_run(hs_plan *p, size_t *cap, const uint32_t *row, uint32_t block, uint32_t ordinal) {
    if (p->n_runs == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        hs_run *runs = realloc(p->runs, c * sizeof *runs);
        if (!runs) return HS_ERR_NOMEM;
        p->runs = runs;
        uint32_t *cells = realloc(p->cells, c * p->n_keys * sizeof *cells);
        if (!cells) return HS_ERR_NOMEM;
        p->cells = cells;
        *cap = c;
    }
    memcpy(&p->cells[p->n_runs * p->n_keys], row, p->n_keys * sizeof *row);
    p->runs[p->n_runs] = (hs_run){.block = block, .ordinal = ordinal};
    p->n_runs++;
    return HS_OK;
}

/* Location of the first axis where combinations a and b of block bl take different positions:
 * where two equal runs came from (a repeated value there, or a `set` that erased the difference). */
static hs_loc differing_axis(const hs_block *bl, size_t a, size_t b) {
    hs_loc at = bl->n_axes ? bl->axes[0].loc : bl->loc;
    for (size_t i = bl->n_axes; i-- > 0;) { /* last axis varies fastest */
        size_t len = bl->axes[i].len ? bl->axes[i].len : 1;
        if (a % len != b % len) at = bl->axes[i].loc;
        a /= len;
        b /= len;
    }
    return at;
}

/* A select's winners, interned: group g holds when row[per[j]] == per_val[g * n_per + j]. */
typedef struct ipicks {
    uint32_t *per_val, *over_val;
    unsigned char *found;
    size_t n;
} ipicks;

static hs_code intern_picks(hs_plan *p, pool_index *pi, const hs_picks *pk, ipicks *out) {
    size_t np = pk->n_per ? pk->n_per : 1, n = pk->n ? pk->n : 1;
    out->n = pk->n;
    out->per_val = malloc(n * np * sizeof *out->per_val);
    out->over_val = calloc(n, sizeof *out->over_val);
    out->found = calloc(n, 1);
    if (!out->per_val || !out->over_val || !out->found) return HS_ERR_NOMEM;
    for (size_t g = 0; g < pk->n; g++) {
        for (size_t j = 0; j < pk->n_per; j++)
            if (intern(p, pi, &pk->groups[g].per[j], &out->per_val[g * pk->n_per + j]) != HS_OK) return HS_ERR_NOMEM;
        out->found[g] = (unsigned char)pk->groups[g].found;
        if (out->found[g] && intern(p, pi, &pk->groups[g].over, &out->over_val[g]) != HS_OK) return HS_ERR_NOMEM;
    }
    return HS_OK;
}

/* Sets the select's key of row from its group's winner; 0 when the group has none. */
static int apply_pick(const hs_select *sel, const ipicks *ip, uint32_t *row) {
    for (size_t g = 0; g < ip->n; g++) {
        size_t j = 0;
        while (j < sel->n_per && row[sel->per[j]] == ip->per_val[g * sel->n_per + j]) j++;
        if (j < sel->n_per) continue;
        if (!ip->found[g]) return 0;
        row[sel->over] = ip->over_val[g];
        return 1;
    }
    return 0;
}

/* A search's groups, interned: group g holds when row[over[j]] == over_val[g * n_over + j]. */
typedef struct isearch {
    uint32_t *over_val;
    const hs_search_state *st;
} isearch;

static hs_code intern_search(hs_plan *p, pool_index *pi, const hs_search_state *st, isearch *out) {
    out->st = st;
    out->over_val = malloc((st->n * st->n_over + 1) * sizeof *out->over_val);
    if (!out->over_val) return HS_ERR_NOMEM;
    for (size_t g = 0; g < st->n; g++)
        for (size_t j = 0; j < st->n_over; j++)
            if (intern(p, pi, &st->groups[g].over[j], &out->over_val[g * st->n_over + j]) != HS_OK) return HS_ERR_NOMEM;
    return HS_OK;
}

static const hs_search_group *search_group(const hs_search *sr, const isearch *is, const uint32_t *row) {
    for (size_t g = 0; g < is->st->n; g++) {
        size_t j = 0;
        while (j < sr->n_over && row[sr->over[j]] == is->over_val[g * sr->n_over + j]) j++;
        if (j == sr->n_over) return &is->st->groups[g];
    }
    return NULL;
}

/* Variant var of a search group's runs: point var / seeds, seed var % seeds + 1. */
static hs_code search_row(hs_plan *p, pool_index *pi, const hs_search *sr, const hs_search_group *g, size_t var,
                          int k_seed, uint32_t *row) {
    const size_t S = (size_t)sr->seeds;
    hs_value x = {.type = hs_schema_key((size_t)sr->key)->type};
    if (x.type == HS_T_INT) x.u.i = llround(g->x[var / S]);
    else x.u.f = g->x[var / S];
    hs_value seed = {.type = HS_T_INT, .u.i = (long long)(var % S) + 1};
    if (intern(p, pi, &x, &row[sr->key]) != HS_OK || intern(p, pi, &seed, &row[k_seed]) != HS_OK) return HS_ERR_NOMEM;
    return HS_OK;
}

static hs_code expand_block(hs_plan *p, pool_index *pi, size_t bi, size_t max_runs, const hs_plan_opts *opts,
                            size_t *cap, hs_str *scratch, hs_error *err) {
    const hs_spec *s = p->spec;
    const hs_block *b = &s->blocks[bi];
    char what[160];
    if (b->path[0]) snprintf(what, sizeof what, "%s ('%s')", b->path, b->name);
    else snprintf(what, sizeof what, "sweep");
    const hs_select *sel = opts && opts->bound ? NULL : b->select;
    ipicks ip = {0};
    if (sel) {
        const hs_picks *pk = opts && opts->picks ? opts->picks[b->stage] : NULL;
        if (!pk || pk->n_per != sel->n_per)
            return PFAIL_CODE(s, sel->loc, what, err, HS_ERR_INTERNAL,
                              "stage '%s' is planned without the winners of its select", b->name);
        if (intern_picks(p, pi, pk, &ip) != HS_OK) {
            free(ip.per_val), free(ip.over_val), free(ip.found);
            return HS_FAIL(err, HS_ERR_NOMEM, "out of memory expanding %s", what);
        }
    }

    size_t combos = 1;
    for (size_t a = 0; a < b->n_axes; a++) {
        if (b->axes[a].len && combos > max_runs / b->axes[a].len) {
            PFAIL_CODE(s, b->loc, what, err, HS_ERR_LIMIT, "the axes multiply to more than the limit of %zu runs", max_runs);
            return hs_error_hint(err, "raise it with --max-runs if the sweep is really meant to be this large");
        }
        combos *= b->axes[a].len;
    }
    const hs_search *srch = opts && opts->bound ? NULL : b->search;
    isearch is = {0};
    if (srch) {
        const hs_search_state *st = opts && opts->searches ? opts->searches[b->stage] : NULL;
        if (!st || st->n_over != srch->n_over)
            return PFAIL_CODE(s, srch->loc, what, err, HS_ERR_INTERNAL,
                              "stage '%s' is planned without the points of its search", b->name);
        if (intern_search(p, pi, st, &is) != HS_OK) {
            free(is.over_val);
            return HS_FAIL(err, HS_ERR_NOMEM, "out of memory expanding %s", what);
        }
    }
    block_work w;
    hs_code rc = block_work_init(p, pi, s, b, &w);
    uint32_t *row = rc == HS_OK ? malloc(2 * p->n_keys * sizeof *row) : NULL;
    if (!row) {
        block_work_free(&w, b->n_axes);
        free(ip.per_val), free(ip.over_val), free(ip.found), free(is.over_val);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory expanding %s", what);
    }
    uint32_t *row0 = row + p->n_keys; /* a combination before the search's point and seed */
    size_t unplannable = 0;
    int k_seed = hs_schema_find("seed"), k_dseed = hs_schema_find("data.seed");
    size_t kept = 0, narrowed = 0;
    const hs_value *cfg_ptrs[256];
    for (size_t ord = 0; ord < combos && rc == HS_OK; ord++) {
        memcpy(row, w.base, p->n_keys * sizeof *row);
        for (size_t a = 0; a < b->n_axes; a++)
            for (size_t q = 0; q < b->axes[a].n_keys; q++)
                row[b->axes[a].keys[q]] = w.axis_val[a][w.pos[a] * b->axes[a].n_keys + q];
        /* advance the odometer, last axis fastest */
        for (size_t a = b->n_axes; a-- > 0;) {
            if (++w.pos[a] < b->axes[a].len) break;
            w.pos[a] = 0;
        }
        if (sel && !apply_pick(sel, &ip, row)) {
            unplannable++;
            continue;
        }
        const hs_search_group *sg = NULL;
        size_t n_var = 1;
        if (srch) {
            sg = search_group(srch, &is, row);
            n_var = sg ? sg->n_x * (size_t)srch->seeds : 0;
            if (!n_var) unplannable++;
        }
        memcpy(row0, row, p->n_keys * sizeof *row);
        for (size_t var = 0; var < n_var && rc == HS_OK; var++) {
            memcpy(row, row0, p->n_keys * sizeof *row);
            if (sg && (rc = search_row(p, pi, srch, sg, var, k_seed, row)) != HS_OK) {
                HS_FAIL(err, rc, "out of memory expanding %s", what);
                break;
            }
            for (size_t i = 0; i < w.n_sets; i++)
                if (matches(&w.sets[i].where, row))
                    for (size_t j = 0; j < w.sets[i].n; j++) row[w.sets[i].keys[j]] = w.sets[i].vals[j];
            if (p->pool[row[k_dseed]].u.i == -1) row[k_dseed] = row[k_seed];
            int dropped = 0;
            for (size_t i = 0; i < w.n_excl && !dropped; i++) dropped = matches(&w.excl[i], row);
            if (dropped) {
                p->n_excluded++;
                continue;
            }
            int other = 0; /* a --set on an axis keeps the runs with its value (hs_spec_override_base) */
            for (size_t i = 0; i < s->n_only && !other; i++) {
                int any = 0;
                for (size_t j = 0; j < s->only[i].n && !any; j++) any = hs_value_equal(&p->pool[row[s->only[i].key]], &s->only[i].vals[j]);
                other = !any;
            }
            if (other) {
                p->n_narrowed++;
                narrowed++;
                continue;
            }
            for (size_t k = 0; k < p->n_keys; k++) cfg_ptrs[k] = &p->pool[row[k]];
            char why[400];
            if (hs_config_check(cfg_ptrs, why, sizeof why) != HS_OK) {
                char desc[MSG_CONFIG_MAX];
                describe_run(p, row, desc, sizeof desc);
                rc = PFAIL_CODE(s, b->loc, what, err, HS_ERR_VALUE, "combination %zu (%s): %s", ord, desc, why);
                break;
            }
            if (p->n_runs >= max_runs) {
                rc = PFAIL_CODE(s, b->loc, what, err, HS_ERR_LIMIT, "the plan exceeds the limit of %zu runs", max_runs);
                hs_error_hint(err, "raise it with --max-runs if the sweep is really meant to be this large");
                break;
            }
            uint64_t id = row_id(p, row, scratch);
            long prev = hs_plan_find(p, id);
            if (prev >= 0) {
                const hs_run *o = &p->runs[prev];
                const hs_block *ob = &s->blocks[o->block];
                char desc[MSG_CONFIG_MAX];
                describe_run(p, row, desc, sizeof desc);
                int same = !memcmp(&p->cells[(size_t)prev * p->n_keys], row, p->n_keys * sizeof *row);
                if (same && ob->stage < b->stage) { /* an earlier stage trained it already */
                    p->n_shared++;
                    kept++;
                    continue;
                }
                if (!same)
                    rc = PFAIL(s, b->loc, what, err, "run id %016llx collides with a different config (%s); please report this",
                               (unsigned long long)id, desc);
                else if (o->block == bi)
                    rc = PFAIL(s, differing_axis(b, ord, o->ordinal), what, err,
                               "duplicate run %016llx: combination %zu repeats combination %u: %s",
                               (unsigned long long)id, ord, o->ordinal, desc);
                else
                    rc = PFAIL(s, b->loc, what, err,
                               "duplicate run %016llx: combination %zu repeats combination %u of %s ('%s', line %d): %s",
                               (unsigned long long)id, ord, o->ordinal, ob->path, ob->name, ob->loc.line, desc);
                if (rc == HS_ERR_SPEC && bi != o->block)
                    hs_error_hint(err, "overlapping blocks: add an exclude to one of them, or narrow its axes");
                else if (rc == HS_ERR_SPEC)
                    hs_error_hint(err, "a repeated axis value or a `set` rule made two combinations equal");
                break;
            }
            if ((p->n_runs + 1) * 2 > p->id_cap && (rc = id_table_grow(p)) != HS_OK) {
                HS_FAIL(err, rc, "out of memory: %zu runs", p->n_runs);
                break;
            }
            if ((rc = push_run(p, cap, row, (uint32_t)bi, (uint32_t)ord)) != HS_OK) {
                HS_FAIL(err, rc, "out of memory: %zu runs", p->n_runs);
                break;
            }
            p->runs[p->n_runs - 1].id = id;
            size_t h = (size_t)(id * 0x9e3779b97f4a7c15ull >> 20) & (p->id_cap - 1);
            while (p->id_slot_run[h]) h = (h + 1) & (p->id_cap - 1);
            p->id_table[h] = id;
            p->id_slot_run[h] = (uint32_t)p->n_runs;
            kept++;
        }
    }
    p->n_unplannable += unplannable;
    if (rc == HS_OK && kept == 0 && !unplannable && !narrowed) {
        hs_loc at = b->n_excludes ? b->excludes[0].loc : s->n_excludes ? s->excludes[0].loc : b->loc;
        rc = PFAIL(s, at, what, err, "empty expansion: all %zu combinations are excluded", combos);
    }
    free(row);
    block_work_free(&w, b->n_axes);
    free(ip.per_val), free(ip.over_val), free(ip.found), free(is.over_val);
    return rc;
}

hs_code hs_plan_expand(const hs_spec *spec, const hs_plan_opts *opts, hs_plan **out, hs_error *err) {
    *out = NULL;
    size_t max_runs = opts && opts->max_runs ? opts->max_runs : HS_PLAN_DEFAULT_MAX_RUNS;
    if (max_runs > UINT32_MAX - 1) max_runs = UINT32_MAX - 1;
    hs_plan *p = calloc(1, sizeof *p);
    if (!p) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    p->spec = spec;
    p->n_keys = hs_schema_count();
    if (p->n_keys > 256) {
        hs_plan_free(p);
        return HS_FAIL(err, HS_ERR_INTERNAL, "schema has %zu keys; raise the bound in plan.c", p->n_keys);
    }
    pool_index pi = {0};
    hs_str scratch = {0};
    hs_code rc = HS_OK;
    p->default_cell = malloc(p->n_keys * sizeof *p->default_cell);
    p->varying = calloc(p->n_keys, 1);
    if (!p->default_cell || !p->varying) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < p->n_keys && rc == HS_OK; k++) {
        hs_value v;
        char why[400];
        if (hs_value_parse(hs_schema_key(k), hs_schema_key(k)->def, &v, why, sizeof why) != HS_OK) {
            rc = HS_FAIL(err, HS_ERR_INTERNAL, "default of %s does not parse: %s", hs_schema_key(k)->name, why);
            break;
        }
        rc = intern(p, &pi, &v, &p->default_cell[k]);
        hs_value_free(&v);
        if (rc != HS_OK) HS_FAIL(err, rc, "out of memory");
    }
    size_t cap = 0;
    size_t upto = opts ? opts->stage : 0;
    /* A search stage planned without its state (a library caller that has no results file yet)
     * gets its first round: the points the search proposes before anything is measured. */
    const size_t n_st = spec->n_stages ? spec->n_stages : 1;
    hs_plan_opts local = opts ? *opts : (hs_plan_opts){0};
    hs_search_state *own = NULL;
    const hs_search_state **search_of = NULL;
    for (size_t b = 0; b < spec->n_blocks && rc == HS_OK && !local.bound; b++) {
        const size_t st = spec->blocks[b].stage;
        if (st > upto || !spec->blocks[b].search || st >= n_st || (opts && opts->searches && opts->searches[st]))
            continue;
        if (!own) {
            own = calloc(n_st, sizeof *own);
            search_of = calloc(n_st, sizeof *search_of);
            if (!own || !search_of) {
                rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
                break;
            }
            for (size_t k = 0; opts && opts->searches && k < n_st; k++) search_of[k] = opts->searches[k];
            local.searches = search_of;
        }
        rc = hs_search_groups(spec, st, &own[st], err);
        if (rc == HS_OK) rc = hs_search_replay(spec->blocks[b].search, &own[st], NULL, NULL, err);
        search_of[st] = &own[st];
    }
    for (size_t b = 0; b < spec->n_blocks && rc == HS_OK; b++) {
        size_t st = spec->blocks[b].stage;
        if (st > upto || (local.bound && st != upto)) continue;
        rc = expand_block(p, &pi, b, max_runs, &local, &cap, &scratch, err);
        if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
    }
    for (size_t k = 0; own && k < n_st; k++) hs_search_state_free(&own[k]);
    free(own), free(search_of);
    free(pi.slots);
    hs_str_free(&scratch);
    if (rc != HS_OK) {
        hs_plan_free(p);
        return rc;
    }
    if (p->n_runs == 0 && p->n_narrowed > 0 && p->n_unplannable == 0) {
        /* each value is on an axis, but no run has them all (two --set on one key, or an exclude) */
        hs_str sets = {0};
        for (size_t i = 0; i < spec->n_only; i++) {
            hs_str_printf(&sets, "%s%s=%s", i ? ", " : "", hs_schema_key((size_t)spec->only[i].key)->name,
                          spec->only[i].n > 1 ? "[" : "");
            hs_values_show(spec->only[i].vals, spec->only[i].n, 1, &sets);
            if (spec->only[i].n > 1) hs_str_append(&sets, "]", 1);
        }
        HS_FAIL(err, HS_ERR_SPEC, "%s: no run of the spec has %s", spec->path, sets.buf ? sets.buf : "");
        hs_str_free(&sets);
        hs_plan_free(p);
        return hs_error_hint(err, "each --set on an axis keeps only the runs with its value");
    }
    for (size_t r = 1; r < p->n_runs; r++)
        for (size_t k = 0; k < p->n_keys; k++)
            if (p->cells[r * p->n_keys + k] != p->cells[k]) p->varying[k] = 1;
    hs_sha256_ctx c;
    hs_sha256_init(&c);
    for (size_t r = 0; r < p->n_runs; r++) {
        uint8_t be[8];
        for (int i = 0; i < 8; i++) be[i] = (uint8_t)(p->runs[r].id >> (56 - 8 * i));
        hs_sha256_update(&c, be, 8);
    }
    hs_sha256_final(&c, p->digest);
    *out = p;
    return HS_OK;
}

const hs_value *hs_plan_value(const hs_plan *p, size_t r, int key) {
    return &p->pool[p->cells[r * p->n_keys + (size_t)key]];
}

void hs_plan_free(hs_plan *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n_pool; i++) {
        hs_value_free(&p->pool[i]);
        free(p->pool_canon[i]);
    }
    free(p->pool);
    free(p->pool_canon);
    free(p->runs);
    free(p->cells);
    free(p->default_cell);
    free(p->varying);
    free(p->id_table);
    free(p->id_slot_run);
    free(p);
}
