/* preflight.c - what a run would fail at its start, checked from its config before any compute,
 * the least memory it needs, and the size of a plan's results file (see include/hsweep/train.h).
 *
 * The checks are the ones the data loaders and hs_train_run make, written on the data's shape
 * (hs_data_shape_of) so that they need no data; hs_train_check_shape is shared with train.c's own
 * check, so the two cannot drift apart. Only a file's content is left to the run itself. The
 * memory a run needs at least is a separate check, since only the machine that trains can judge
 * it (hs_train_memory_plan). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/models.h"
#include "hsweep/schema.h"
#include "hsweep/train.h"
#include "hsweep/util.h"
#include "internal.h"
#include "probes.h"
#include "recorders.h"

/* ================================================================ checks on the data's shape */

/* The network's output width: the targets for MSE on real targets, else one per class. */
static int out_dim_of(const hs_train_config *c, const hs_data_shape *sh) {
    return hs_model_out_dim(c, sh->t_dim, sh->classes);
}

/* record.* requests against the data: each recorder would otherwise size its series by the
 * request and store NaN in the rest (see internal.h). */
static hs_code check_records(const hs_train_config *c, const hs_data_shape *sh, hs_error *err) {
    const int mlp = (c->arch->flags & HS_MODEL_DENSE_VIEWS) != 0;
    if (mlp && c->snapshot_samples > 0 && c->snapshot_every > 0 && c->snapshot_samples > sh->n_test) {
        HS_FAIL(err, HS_ERR_VALUE,
                "record.snapshot_samples = %d but the test set holds %lld samples: series rep_snapshot is sized "
                "for the %d asked for at every layer and snapshot", c->snapshot_samples, sh->n_test,
                c->snapshot_samples);
        return hs_error_hint(err, "set record.snapshot_samples to at most %lld", sh->n_test);
    }
    if (mlp && c->centroids > 0 && rec_levels(c) > 0) {
        long long per_leaf = sh->classes > 0 ? sh->n_test / sh->classes : 0;
        if (c->centroids > per_leaf) {
            HS_FAIL(err, HS_ERR_VALUE,
                    "record.centroids = %d but the test set holds %lld examples per leaf class (%lld over %d "
                    "leaves)", c->centroids, per_leaf, sh->n_test, sh->classes);
            return hs_error_hint(err, per_leaf > 0 ? "set record.centroids to at most %lld"
                                                   : "hold out test examples (data.test_fraction > 0), or set "
                                                     "record.centroids to 0 (%lld)", per_leaf);
        }
    }
    if (mlp && c->neighbours > 0) {
        long long per = sh->classes > 0 ? sh->n_test / sh->classes : 0, pool = per < c->neighbours_pool ? per : c->neighbours_pool;
        if ((long long)c->neighbours > pool * sh->classes) {
            HS_FAIL(err, HS_ERR_VALUE,
                    "record.neighbours = %d but the pool holds about %lld test examples (%lld per class x %d classes)",
                    c->neighbours, pool * sh->classes, pool, sh->classes);
            return hs_error_hint(err, "set record.neighbours to at most %lld, or raise record.neighbours_pool",
                                 pool * sh->classes);
        }
    }
    if (c->eval_samples > 0 && c->eval_samples > sh->n_train && c->eval_samples > sh->n_test) {
        HS_FAIL(err, HS_ERR_VALUE,
                "record.eval_samples = %lld is more than the training set (%lld samples) and the test set (%lld): "
                "every record point would measure the full sets", c->eval_samples, sh->n_train, sh->n_test);
        return hs_error_hint(err, "set record.eval_samples to 0 for the full sets, or below %lld for draws",
                             sh->n_train > sh->n_test ? sh->n_train : sh->n_test);
    }
    if (mlp && c->modes > 0) {
        int in = sh->modules ? sh->dim - 2 : sh->dim, out = out_dim_of(c, sh), rank = in < out ? in : out;
        if (c->modes > rank) {
            HS_FAIL(err, HS_ERR_VALUE,
                    "record.modes = %d but Sigma_yx of this data (%d outputs x %d inputs) has at most %d singular "
                    "modes", c->modes, out, in, rank);
            return hs_error_hint(err, "set record.modes to at most %d", rank);
        }
    }
    HS_TRY(err, probe_sens_check(c, sh, err));
    HS_TRY(err, probe_stab_check(c, sh, err));
    if (c->svd > 0 && c->arch->svd_rank) {
        int most = c->arch->svd_rank(c, sh, out_dim_of(c, sh));
        if (c->svd > most) {
            HS_FAIL(err, HS_ERR_VALUE, "record.svd = %d but the largest weight matrix of this net has %d singular "
                    "values", c->svd, most);
            return hs_error_hint(err, "set record.svd to at most %d", most);
        }
    }
    return HS_OK;
}

hs_code hs_train_check_shape(const hs_train_config *c, const hs_data_shape *sh, hs_error *err) {
    if (sh->n_train < 1 || sh->dim < 1 || sh->classes < 2)
        return HS_FAIL(err, HS_ERR_VALUE, "training set is empty or malformed (%lld rows of %d dims, %d classes)",
                       sh->n_train, sh->dim, sh->classes);
    if (sh->n_train > UINT32_MAX) return HS_FAIL(err, HS_ERR_LIMIT, "training sets above 2^32 rows are not supported");
    long long B = hs_train_batch(c, sh->n_train, sh->classes);
    /* A one-sample batch has no variance to normalise by; PyTorch refuses it too. */
    const int bn = (c->arch->flags & HS_MODEL_NORM) && c->model.norm == HS_NORM_BATCH;
    if (bn && (B == 1 || (sh->n_train > B && sh->n_train % B == 1))) {
        HS_FAIL(err, HS_ERR_VALUE,
                "train.batch: %d with %lld training samples leaves a batch of one sample, which BatchNorm cannot "
                "normalise", (int)B, sh->n_train);
        hs_error_hint(err, "choose a train.batch that does not leave a remainder of 1 (e.g. %lld)", B + 1);
        return HS_ERR_VALUE;
    }
    if (c->separation != HS_SEP_NONE && bn && c->bn_record_mode == HS_MODE_BATCH) {
        long long chunk = c->bn_chunk < sh->n_train ? c->bn_chunk : sh->n_train;
        if (chunk == 1 || (sh->n_train > chunk && sh->n_train % chunk == 1)) {
            HS_FAIL(err, HS_ERR_VALUE,
                    "record.bn_chunk: %d with %lld training samples leaves a chunk of one sample, which BatchNorm "
                    "cannot normalise", c->bn_chunk, sh->n_train);
            hs_error_hint(err, "choose another record.bn_chunk, or record.bn_mode: eval");
            return HS_ERR_VALUE;
        }
    }
    /* a crop or flip of a 1-D string (rhm, srhm) or of a feature vector moves what the label
     * depends on; only an image row survives it */
    if (c->augment != HS_AUG_NONE && (sh->height < 2 || sh->width < 2)) {
        HS_FAIL(err, HS_ERR_VALUE, "train.augment: crops and flips need images (height and width >= 2); data.kind %s "
                "has %d x %d", c->data.kind, sh->height, sh->width);
        return hs_error_hint(err, "use train.augment none for this data");
    }
    HS_TRY(err, check_records(c, sh, err));
    return HS_OK;
}

/* ================================================================ checks of the data alone */

/* The sets hs_data_load would allocate: at most 2^31 values each (hs_data_alloc's limit, which
 * hs_data_shape_of does not apply). */
static hs_code check_set_sizes(const hs_data_shape *sh, hs_error *err) {
    const double limit = 2147483648.0, width = (double)sh->dim + (double)sh->t_dim;
    const struct { const char *name; long long n; } sets[] = {{"training", sh->n_train}, {"test", sh->n_test}};
    for (int i = 0; i < 2; i++)
        if ((double)sets[i].n * (double)sh->dim > limit || (double)sets[i].n * (double)sh->t_dim > limit) {
            HS_FAIL(err, HS_ERR_LIMIT, "data: %lld %s samples of %.0f values: more than 2^31 values (8 GiB) in one "
                    "set", sets[i].n, sets[i].name, width);
            return hs_error_hint(err, "fewer samples (data.per_class, data.n_train, data.n_test, ...) or fewer "
                                      "values per sample");
        }
    return HS_OK;
}

/* Everything about run c's data: options, rules, set sizes, files. */
static hs_code preflight_data(const hs_data_opts *o, hs_data_shape *sh, hs_error *err) {
    HS_TRY(err, hs_data_shape_of(o, sh, err));
    HS_TRY(err, check_set_sizes(sh, err));
    HS_TRY(err, hs_data_check(o, err)); /* rhm, srhm: the rules */
    HS_TRY(err, hs_data_check_files(o, err));
    return HS_OK;
}

/* Everything of run c that depends on its data's shape sh only. */
static hs_code preflight_on(const hs_train_config *c, const hs_data_shape *sh, hs_error *err) {
    if (c->arch->flags & HS_MODEL_SOLVED) { /* solved, not trained: the data is all it needs */
        if (c->sensitivity <= 0 && c->stability <= 0) return HS_OK;
        HS_FAIL(err, HS_ERR_VALUE, "record.%s = %d: model.arch %s is solved in closed form, not a net with layers "
                "to probe", c->sensitivity > 0 ? "sensitivity" : "stability",
                c->sensitivity > 0 ? c->sensitivity : c->stability, c->arch->name);
        return hs_error_hint(err, "set record.sensitivity and record.stability to 0 for kernel runs");
    }
    HS_TRY(err, hs_train_check_shape(c, sh, err));
    if (c->arch->check) HS_TRY(err, c->arch->check(c, sh, err));
    hs_train_layout lay; /* series too large to store, a schedule without points */
    HS_TRY(err, hs_train_layout_for(c, sh, &lay, err));
    return HS_OK;
}

hs_code hs_train_preflight(const hs_train_config *c, hs_error *err) {
    hs_data_shape sh;
    HS_TRY(err, preflight_data(&c->data, &sh, err));
    HS_TRY(err, preflight_on(c, &sh, err));
    return HS_OK;
}

/* ================================================================ over a plan */

/* Data shapes (and file checks) per distinct data config: runs whose data.* values are all equal
 * (the plan's interned cells) share one entry. data.seed is already resolved in the plan (it
 * follows seed there), so the data options depend on these cells alone. */
typedef struct data_entry {
    size_t run;      /* the first run of this data config */
    int shaped;      /* hs_data_shape_of has run: shape_rc is its outcome */
    hs_code shape_rc;
    hs_data_shape shape;
    int checked;     /* set sizes, rules and files passed */
} data_entry;

typedef struct data_cache {
    const hs_plan *p;
    int *keys; /* schema indices of the data.* keys */
    size_t n_keys;
    data_entry *e; /* [n_slots / 2] */
    size_t n;
    uint32_t *slots; /* entry + 1, open addressing; 0 = empty */
    size_t n_slots;
} data_cache;

static void cache_free(data_cache *d) {
    free(d->keys);
    free(d->e);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

static hs_code cache_init(data_cache *d, const hs_plan *p, hs_error *err) {
    memset(d, 0, sizeof *d);
    d->p = p;
    d->keys = malloc((p->n_keys ? p->n_keys : 1) * sizeof *d->keys);
    if (!d->keys) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < p->n_keys; k++)
        if (!strncmp(hs_schema_key(k)->name, "data.", 5)) d->keys[d->n_keys++] = (int)k;
    return HS_OK;
}

static uint64_t data_hash(const data_cache *d, size_t r) {
    const uint32_t *row = &d->p->cells[r * d->p->n_keys];
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < d->n_keys; i++) h = (h ^ row[d->keys[i]]) * 1099511628211ull;
    return h;
}

static int same_data(const data_cache *d, size_t a, size_t b) {
    const uint32_t *ra = &d->p->cells[a * d->p->n_keys], *rb = &d->p->cells[b * d->p->n_keys];
    for (size_t i = 0; i < d->n_keys; i++)
        if (ra[d->keys[i]] != rb[d->keys[i]]) return 0;
    return 1;
}

/* The entry of run r's data config, created (not yet shaped) when new. */
static data_entry *cache_entry(data_cache *d, size_t r, hs_error *err) {
    if ((d->n + 1) * 2 > d->n_slots) {
        size_t n_slots = d->n_slots ? d->n_slots * 2 : 64;
        uint32_t *slots = calloc(n_slots, sizeof *slots);
        data_entry *e = realloc(d->e, n_slots / 2 * sizeof *e);
        if (!slots || !e) {
            free(slots);
            if (e) d->e = e;
            HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
            return NULL;
        }
        d->e = e;
        for (size_t i = 0; i < d->n; i++) {
            size_t h = (size_t)data_hash(d, d->e[i].run) & (n_slots - 1);
            while (slots[h]) h = (h + 1) & (n_slots - 1);
            slots[h] = (uint32_t)i + 1;
        }
        free(d->slots);
        d->slots = slots;
        d->n_slots = n_slots;
    }
    size_t h = (size_t)data_hash(d, r) & (d->n_slots - 1);
    for (; d->slots[h]; h = (h + 1) & (d->n_slots - 1))
        if (same_data(d, d->e[d->slots[h] - 1].run, r)) return &d->e[d->slots[h] - 1];
    d->e[d->n] = (data_entry){.run = r};
    d->slots[h] = (uint32_t)d->n + 1;
    return &d->e[d->n++];
}

/* The shape of c's data through the cache. A failing data config is asked again for its message
 * (only runs after the first failure do that, and the preflight stops at the first). */
static hs_code cached_shape(data_entry *e, const hs_train_config *c, hs_error *err) {
    if (!e->shaped || e->shape_rc != HS_OK) {
        e->shape_rc = hs_data_shape_of(&c->data, &e->shape, err);
        e->shaped = 1;
    }
    return e->shape_rc;
}

/* Grammars whose rules were drawn without error: many data configs (seeds, sizes) share one. */
typedef struct rules_cache {
    hs_rhm_opts *o; /* [n_slots / 2] */
    size_t n;
    uint32_t *slots; /* entry + 1; 0 = empty */
    size_t n_slots;
} rules_cache;

static uint64_t rules_hash(const hs_rhm_opts *o) {
    const uint64_t f[] = {(uint64_t)o->v, (uint64_t)o->n_c, (uint64_t)o->m, (uint64_t)o->s, (uint64_t)o->L,
                          (uint64_t)o->s0, (uint64_t)o->sparsity, o->rule_seed};
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) h = (h ^ f[i]) * 1099511628211ull;
    return h;
}

static int same_rules(const hs_rhm_opts *a, const hs_rhm_opts *b) {
    return a->v == b->v && a->n_c == b->n_c && a->m == b->m && a->s == b->s && a->L == b->L && a->s0 == b->s0 &&
           a->sparsity == b->sparsity && a->rule_seed == b->rule_seed;
}

/* check_rules through the cache (a grammar that failed is not kept: the preflight stops there). */
static hs_code cached_rules(rules_cache *rc, const hs_data_opts *o, hs_error *err) {
    hs_rhm_opts ro;
    if (!hs_data_rules(o, &ro)) return HS_OK;
    for (size_t h = rc->n_slots ? (size_t)rules_hash(&ro) & (rc->n_slots - 1) : 0; rc->n_slots && rc->slots[h];
         h = (h + 1) & (rc->n_slots - 1))
        if (same_rules(&rc->o[rc->slots[h] - 1], &ro)) return HS_OK;
    HS_TRY(err, hs_data_check(o, err)); /* rhm, srhm: the rules */
    if ((rc->n + 1) * 2 > rc->n_slots) {
        size_t n_slots = rc->n_slots ? rc->n_slots * 2 : 16;
        uint32_t *slots = calloc(n_slots, sizeof *slots);
        hs_rhm_opts *e = realloc(rc->o, n_slots / 2 * sizeof *e);
        if (e) rc->o = e;
        if (!slots || !e) {
            free(slots);
            return HS_OK; /* not remembered: drawn again next time, still right */
        }
        for (size_t i = 0; i < rc->n; i++) {
            size_t h = (size_t)rules_hash(&rc->o[i]) & (n_slots - 1);
            while (slots[h]) h = (h + 1) & (n_slots - 1);
            slots[h] = (uint32_t)i + 1;
        }
        free(rc->slots);
        rc->slots = slots;
        rc->n_slots = n_slots;
    }
    size_t h = (size_t)rules_hash(&ro) & (rc->n_slots - 1);
    while (rc->slots[h]) h = (h + 1) & (rc->n_slots - 1);
    rc->o[rc->n] = ro;
    rc->slots[h] = (uint32_t)++rc->n;
    return HS_OK;
}

/* "model.depth=3, seed=1": run r's values of the keys that vary in the plan, shortened. */
static void describe_varying(const hs_plan *p, size_t r, char *buf, size_t len) {
    size_t used = 0;
    hs_str v = {0};
    buf[0] = '\0';
    for (size_t k = 0; k < p->n_keys && used + 1 < len; k++) {
        if (!p->varying[k]) continue;
        hs_str_reset(&v);
        if (hs_value_show(hs_plan_value(p, r, (int)k), &v) != HS_OK) break;
        int n = snprintf(buf + used, len - used, "%s%s=%s", used ? ", " : "", hs_schema_key(k)->name,
                         v.buf ? v.buf : "");
        if (n < 0 || (size_t)n >= len - used) {
            snprintf(buf + (len > 4 ? len - 4 : 0), 4, "...");
            break;
        }
        used += (size_t)n;
    }
    hs_str_free(&v);
}

/* Prefix err's message with "run <id> (<varying values>): ". */
static hs_code run_failed(const hs_plan *p, size_t r, hs_error *err) {
    if (!err) return HS_ERR_VALUE;
    char desc[240], head[300], msg[sizeof err->msg];
    describe_varying(p, r, desc, sizeof desc);
    int n = desc[0] ? snprintf(head, sizeof head, "run %016llx (%s): ", (unsigned long long)p->runs[r].id, desc)
                    : snprintf(head, sizeof head, "run %016llx: ", (unsigned long long)p->runs[r].id);
    size_t hn = n > 0 ? (size_t)n : 0, mn = strlen(err->msg), cap = sizeof msg - 1;
    if (hn > cap) hn = cap;
    if (mn > cap - hn) mn = cap - hn;
    memcpy(msg, head, hn);
    memcpy(msg + hn, err->msg, mn);
    msg[hn + mn] = '\0';
    memcpy(err->msg, msg, hn + mn + 1);
    hs_error_trace(err, __FILE__, __LINE__);
    return err->code;
}

hs_code hs_train_preflight_plan(const hs_plan *p, hs_error *err) {
    data_cache d;
    rules_cache g = {0};
    HS_TRY(err, cache_init(&d, p, err));
    hs_code rc = HS_OK;
    for (size_t r = 0; r < p->n_runs && rc == HS_OK; r++) {
        hs_train_config c = {0};
        data_entry *e = NULL;
        rc = hs_train_config_from_plan(p, r, &c, err);
        if (rc == HS_OK && !(e = cache_entry(&d, r, err))) rc = HS_ERR_NOMEM;
        if (rc == HS_OK) rc = cached_shape(e, &c, err);
        if (rc == HS_OK && !e->checked) { /* what preflight_data does after the shape */
            rc = check_set_sizes(&e->shape, err);
            if (rc == HS_OK) rc = cached_rules(&g, &c.data, err);
            if (rc == HS_OK) rc = hs_data_check_files(&c.data, err);
            e->checked = rc == HS_OK;
        }
        if (rc == HS_OK) rc = preflight_on(&c, &e->shape, err);
        if (rc != HS_OK && rc != HS_ERR_NOMEM) run_failed(p, r, err);
        hs_train_config_free(&c);
    }
    free(g.o);
    free(g.slots);
    cache_free(&d);
    return rc;
}

/* ================================================================ memory */

double hs_train_memory_floor(const hs_train_config *c, const hs_data_shape *sh, int ranks) {
    const double rows = (double)sh->n_train + (double)sh->n_test;
    double bytes = rows * (4.0 * sh->dim + 4.0 * sh->t_dim + 4.0); /* inputs, targets, labels */
    if (c->arch->flags & HS_MODEL_SOLVED) /* every rank holds the data and its share of the solve */
        return bytes + (c->arch->bytes ? c->arch->bytes(c, sh, 0) / (ranks > 1 ? ranks : 1) : 0);
    const long long np = c->arch->params ? c->arch->params(c, sh) : -1;
    if (np > 0) {
        const hs_opt_kind k = c->optim.kind;
        const int state = k == HS_OPT_MOMENTUM ? 1 : k == HS_OPT_ADAM || k == HS_OPT_ADAMW ? 2 : 0;
        const double net = c->arch->bytes ? c->arch->bytes(c, sh, hs_train_net_rows(c, hs_train_batch(c, sh->n_train,
                                                                                   sh->classes), sh->n_train))
                                          : 0;
        /* the net as built (values, gradients, activations), else values and gradients alone */
        bytes += (net > 0 ? net : 8.0 * (double)np) + 4.0 * (double)np * state;
    }
    return bytes;
}

hs_code hs_train_memory_plan(const hs_plan *p, long only, int ranks, double limit, const char *limit_what,
                             hs_train_memory_need *need, hs_error *err) {
    data_cache d;
    HS_TRY(err, cache_init(&d, p, err));
    hs_code rc = HS_OK;
    hs_train_memory_need m = {.params = -1};
    for (size_t r = 0; r < p->n_runs && rc == HS_OK; r++) {
        if (only >= 0 && r != (size_t)only) continue;
        hs_train_config c = {0};
        data_entry *e = NULL;
        rc = hs_train_config_from_plan(p, r, &c, err);
        if (rc == HS_OK && !(e = cache_entry(&d, r, err))) rc = HS_ERR_NOMEM;
        if (rc == HS_OK && cached_shape(e, &c, err) == HS_OK) {
            const double b = hs_train_memory_floor(&c, &e->shape, ranks);
            if (b > m.bytes) {
                const int solved = (c.arch->flags & HS_MODEL_SOLVED) != 0;
                m = (hs_train_memory_need){.run = r, .bytes = b, .solved = solved, .n_train = e->shape.n_train,
                                           .params = !solved && c.arch->params ? c.arch->params(&c, &e->shape) : -1};
            }
        }
        if (rc == HS_ERR_VALUE || rc == HS_ERR_LIMIT) rc = HS_OK; /* the preflight's to report */
        hs_train_config_free(&c);
    }
    cache_free(&d);
    if (rc != HS_OK) return rc;
    if (need) *need = m;
    if (limit > 0 && m.bytes > limit) {
        char least[32], have[32];
        hs_format_bytes(m.bytes, least, sizeof least);
        hs_format_bytes(limit, have, sizeof have);
        if (m.solved)
            HS_FAIL(err, HS_ERR_LIMIT, "needs at least %s of memory on each of %d rank%s (its share of the %lld x %lld "
                    "kernel matrix, and the data sets) but this machine allows %s (%s)", least, ranks,
                    ranks == 1 ? "" : "s", m.n_train, m.n_train, have, limit_what ? limit_what : "its memory");
        else if (m.params > 0)
            HS_FAIL(err, HS_ERR_LIMIT, "needs at least %s of memory (the net of %lld parameters with its gradients, "
                    "activations and optimiser state, and the data sets) but this machine allows %s (%s)", least,
                    m.params, have, limit_what ? limit_what : "its memory");
        else
            HS_FAIL(err, HS_ERR_LIMIT, "needs at least %s of memory for its data sets but this machine allows %s (%s)",
                    least, have, limit_what ? limit_what : "its memory");
        run_failed(p, m.run, err);
        return hs_error_hint(err, m.solved ? "spread the solve over more ranks (on more nodes), or lower data.n_train"
                                              : "shrink that run (model.width, model.depth, data.n_train), or run the "
                                                "sweep on nodes with more memory; `hsweep plan` shows the largest run's "
                                                "need");
    }
    return HS_OK;
}

/* ================================================================ the results file's size */

/* The run table as store/results.c lays it out, per run: id (17 bytes), status (1), rank and
 * attempts (int32), start, end, wall (float64), epochs_done, steps (int64), error (256), then the
 * canonical config and the string columns as fixed-width strings twice as wide as their longest
 * value (at least 256 and 32 bytes), numeric columns 8 bytes each. */
#define TABLE_FIXED_BYTES (17 + 1 + 4 + 4 + 3 * 8 + 2 * 8 + 256)

static size_t fixed_width(size_t longest, size_t floor) {
    size_t w = 2 * (longest + 1);
    return w > floor ? w : floor;
}

/* Fold run r's layout into out (as the scheduler's layout code does). */
static hs_code fold_run(hs_train_plan_layout *out, const hs_train_config *c, const hs_train_layout *tl,
                        hs_error *err) {
    if (tl->n_records > out->n_records) out->n_records = tl->n_records;
    if (tl->n_layers > out->n_layers) out->n_layers = tl->n_layers;
    if (c->arch->flags & HS_MODEL_SOLVED) return HS_OK;
    for (size_t k = 0; k < tl->n_series && k < HS_TRAIN_MAX_SERIES; k++) {
        const hs_series_spec *t = &tl->series[k];
        size_t j = 0;
        while (j < out->n_series && strcmp(out->series[j].name, t->name) != 0) j++;
        if (j == out->n_series) {
            if (j == HS_TRAIN_PLAN_MAX_SERIES)
                return HS_FAIL(err, HS_ERR_INTERNAL, "more than %d different series in one plan", HS_TRAIN_PLAN_MAX_SERIES);
            out->series[j] = (hs_series_spec){.name = t->name, .axes = t->axes, .ndim = t->ndim, .every = t->every};
            out->n_series++;
        } else if (out->series[j].ndim != t->ndim || strcmp(out->series[j].axes, t->axes) != 0) {
            return HS_FAIL(err, HS_ERR_INTERNAL, "series '%s' has axes '%s' in one run and '%s' in another", t->name,
                           out->series[j].axes, t->axes);
        } else if (out->series[j].every != t->every) {
            out->series[j].every = 0;
        }
        if (t->n_points > out->series[j].n_points) out->series[j].n_points = t->n_points;
        for (int q = 0; q < t->ndim && q < HS_SERIES_MAX_DIMS; q++)
            if (t->dims[q] > out->series[j].dims[q]) out->series[j].dims[q] = t->dims[q];
    }
    return HS_OK;
}

hs_code hs_train_plan_layout_of(const hs_plan *p, hs_train_plan_layout *out, long long *steps_total, hs_error *err) {
    memset(out, 0, sizeof *out);
    out->n_runs = p->n_runs;
    out->n_records = out->n_layers = 1;
    data_cache d;
    HS_TRY(err, cache_init(&d, p, err));
    /* widths of the run table's strings: the canonical configs and the varying string columns */
    size_t *canon_len = malloc((p->n_pool ? p->n_pool : 1) * sizeof *canon_len);
    size_t *col_len = calloc(p->n_keys ? p->n_keys : 1, sizeof *col_len), cfg_longest = 0;
    hs_str v = {0};
    hs_code rc = canon_len && col_len ? HS_OK : HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == HS_OK && i < p->n_pool; i++) canon_len[i] = strlen(p->pool_canon[i]);
    size_t head = (size_t)snprintf(NULL, 0, "hsweep/%d\n", HS_SCHEMA_VERSION);
    for (size_t r = 0; rc == HS_OK && r < p->n_runs; r++) {
        const uint32_t *row = &p->cells[r * p->n_keys];
        size_t len = head;
        for (size_t k = 0; k < p->n_keys; k++) {
            if (row[k] != p->default_cell[k]) len += strlen(hs_schema_key(k)->name) + canon_len[row[k]] + 2;
            hs_type t = hs_schema_key(k)->type;
            if (p->varying[k] && t != HS_T_INT && t != HS_T_BOOL && t != HS_T_FLOAT) {
                hs_str_reset(&v);
                if (hs_value_show(&p->pool[row[k]], &v) == HS_OK && v.len > col_len[k]) col_len[k] = v.len;
            }
        }
        if (len > cfg_longest) cfg_longest = len;

        hs_train_config c = {0};
        hs_train_layout tl;
        hs_error mine = {0};
        data_entry *e = NULL;
        hs_code lrc = hs_train_config_from_plan(p, r, &c, &mine);
        if (lrc == HS_OK && !(e = cache_entry(&d, r, &mine))) lrc = HS_ERR_NOMEM;
        if (lrc == HS_OK) lrc = cached_shape(e, &c, &mine);
        if (lrc == HS_OK) lrc = hs_train_layout_for(&c, &e->shape, &tl, &mine);
        if (lrc == HS_OK) lrc = fold_run(out, &c, &tl, &mine);
        if (steps_total) steps_total[r] = lrc != HS_OK ? -1 : c.arch->flags & HS_MODEL_SOLVED ? 1 : tl.total_steps;
        hs_train_config_free(&c);
        if (lrc == HS_ERR_NOMEM || lrc == HS_ERR_INTERNAL) {
            *err = mine;
            rc = lrc;
        } else if (lrc != HS_OK) {
            out->skipped++;
        }
    }
    if (rc == HS_OK) {
        const double R = (double)p->n_runs, N = (double)out->n_records, L = (double)out->n_layers;
        out->bytes_records = R * N * HS_RECORD_FIELDS * 8;
        out->bytes_layers = R * N * L * HS_LAYER_FIELDS * 8;
        double row = TABLE_FIXED_BYTES + (double)fixed_width(cfg_longest, 256);
        for (size_t k = 0; k < p->n_keys; k++) {
            if (!p->varying[k]) continue;
            hs_type t = hs_schema_key(k)->type;
            row += t == HS_T_INT || t == HS_T_BOOL || t == HS_T_FLOAT ? 8 : (double)fixed_width(col_len[k], 32);
        }
        out->bytes_table = R * row;
        out->bytes_total = out->bytes_records + out->bytes_layers + out->bytes_table;
        for (size_t j = 0; j < out->n_series; j++) {
            double per_point = 1;
            for (int q = 0; q < out->series[j].ndim; q++) per_point *= (double)out->series[j].dims[q];
            out->bytes_series[j] = R * (double)out->series[j].n_points * (per_point * 8 + 8);
            out->bytes_total += out->bytes_series[j];
        }
    }
    hs_str_free(&v);
    free(canon_len);
    free(col_len);
    cache_free(&d);
    return rc;
}
