/* srhm.c - sample complexity P* of the (Sparse) Random Hierarchy Model from a results file
 * (see include/hsweep/analysis.h for what is computed and stored).
 *
 * Two phases, as equisep.c. Collective: every rank opens the file through the store's reader,
 * reads its own block of test accuracies and reduces each finished run to its best test error;
 * the errors are gathered on rank 0 (which keeps the runs' canonical configs) and the file is
 * closed by all. Rank 0 alone: groups runs into configurations, builds the curves eps(P), finds
 * P*, fits the scaling laws, writes /analysis/srhm back into the file (hs_analysis_out, after the
 * collective close) and the tables. Rank 0's outcome (code and message) is broadcast, so every
 * rank returns the same thing and nobody is left waiting in a collective. Nothing here aborts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/analysis.h"
#include "hsweep/metrics.h"
#include "hsweep/reader.h"
#include "hsweep/schema.h"
#include "internal.h"

static void free_texts(char **text, size_t R) {
    for (size_t r = 0; text && r < R; r++) free(text[r]);
    free(text);
}

/* ================================================================ collective phase */

/* Every rank: which runs are finished and the best test error of its block; rank 0 gets eps[R]
 * (NaN for unfinished runs and for finished runs without a recorded test accuracy) and a copy of
 * every run's canonical config. Returns 0, or on every rank -1 (not a file this analysis can
 * read) or -2 (I/O failure). */
static int read_errors(MPI_Comm comm, const char *path, size_t *R_out, unsigned char **fin_out, char ***text_out,
                       double **eps_out, char *why, size_t wlen) {
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    hs_results_reader *rd = NULL;
    hs_error e = {0};
    if (hs_reader_open(comm, path, &rd, &e) != HS_OK) {
        snprintf(why, wlen, "%s", e.msg);
        return -2;
    }
    int rc = 0, nd = 0;
    size_t dims[HS_READER_MAX_DIMS] = {0}, R = hs_reader_n_runs(rd);
    if (!hs_reader_has(rd, HS_READ_RECORDS, "test_acc")) {
        snprintf(why, wlen, "%s: no /records/test_acc: the runs recorded no test accuracy", path);
        rc = -1;
    } else if (hs_reader_dims(rd, HS_READ_RECORDS, "test_acc", &nd, dims) != HS_OK || nd != 2 || dims[0] != R) {
        snprintf(why, wlen, "%s: /records/test_acc is not [%zu runs x records]", path, R);
        rc = -1;
    }
    size_t N = dims[1];
    unsigned char *fin = calloc(R + 1, 1);
    char **text = rank == 0 ? calloc(R + 1, sizeof *text) : NULL;
    if (!rc && (!fin || (rank == 0 && !text))) snprintf(why, wlen, "out of memory"), rc = -1;
    for (size_t r = 0; !rc && r < R; r++) {
        fin[r] = (unsigned char)hs_reader_finished(rd, r);
        if (text && !(text[r] = strdup(hs_reader_config(rd, r)))) snprintf(why, wlen, "out of memory"), rc = -1;
    }
    size_t r0, r1;
    hs_an_block(R, rank, nranks, &r0, &r1);
    size_t mine = r1 - r0;
    double *acc = malloc((mine * N + 1) * sizeof *acc), *eps = malloc((mine + 1) * sizeof *eps);
    if (!rc && (!acc || !eps)) snprintf(why, wlen, "out of memory"), rc = -1;
    if (!rc && mine && N && hs_reader_rows(rd, HS_READ_RECORDS, "test_acc", r0, mine, acc, &e) != HS_OK) {
        snprintf(why, wlen, "%s", e.msg);
        rc = -2;
    }
    /* the protocol records the test error at every check and keeps the best one seen */
    for (size_t i = 0; !rc && i < mine; i++) {
        eps[i] = NAN;
        if (!fin[r0 + i]) continue;
        for (size_t t = 0; t < N; t++) {
            double x = 1.0 - acc[i * N + t];
            if (isfinite(x) && (isnan(eps[i]) || x < eps[i])) eps[i] = x;
        }
    }
    hs_reader_close(rd);
    free(acc);

    int all = 0;
    MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm);
    if (all < 0) {
        free(eps), free(fin), free_texts(text, R);
        if (!rc) snprintf(why, wlen, "another rank failed to read %s", path);
        return all;
    }
    int *counts = malloc((size_t)nranks * sizeof *counts), *displs = malloc((size_t)nranks * sizeof *displs);
    double *alleps = rank == 0 ? malloc((R + 1) * sizeof *alleps) : NULL;
    int ok = counts && displs && (rank != 0 || alleps), ok_all = 0;
    MPI_Allreduce(&ok, &ok_all, 1, MPI_INT, MPI_MIN, comm);
    if (!ok_all) {
        free(counts), free(displs), free(alleps), free(eps), free(fin), free_texts(text, R);
        snprintf(why, wlen, "out of memory");
        return -1;
    }
    for (int q = 0; q < nranks; q++) {
        size_t a, b;
        hs_an_block(R, q, nranks, &a, &b);
        counts[q] = (int)(b - a), displs[q] = (int)a;
    }
    MPI_Gatherv(eps, (int)mine, MPI_DOUBLE, alleps, counts, displs, MPI_DOUBLE, 0, comm);
    free(counts), free(displs), free(eps);
    *R_out = R, *fin_out = fin, *text_out = text, *eps_out = alleps;
    return 0;
}

/* ================================================================ rank 0: run configs */

typedef struct srun {
    hs_canon_config cc; /* the canonical config */
    int hier, flag, cfg;
    double eps, P;
    char arch[32], kind[32];
    long long v, n_c, m, s, L, s0; /* resolved: n_c, m never 0; s0 = 0 for the RHM */
    char *ckey, *skey;             /* configuration and seed identities */
} srun;

typedef struct scfg {
    size_t first; /* a representative run */
    double X, p_star, p_closest, eps_closest, l10_mean, l10_std;
    int reached, n_p, n_seeds, n_seeds_reached;
} scfg;

static const char *lookup(const srun *u, const char *key) { return hs_canon_get(&u->cc, key); }

/* Copy text into buf[len], cut to fit (config values are short; a cut one still compares). */
static void copy_cut(char *buf, size_t len, const char *text) {
    size_t n = strlen(text);
    if (n >= len) n = len - 1;
    memcpy(buf, text, n);
    buf[n] = '\0';
}

/* Strip the JSON quotes of a canonical string value (enum choices carry no escapes). */
static void unquote(const char *text, char *buf, size_t len) {
    size_t n = strlen(text);
    if (n >= 2 && text[0] == '"' && text[n - 1] == '"') text++, n -= 2;
    if (n >= len) n = len - 1;
    memcpy(buf, text, n);
    buf[n] = '\0';
}

/* Integer config value: the run's line, else the schema default. Parsed with the key's schema
 * row when this build has one (range-checked), plainly otherwise. */
static int cfg_int(const srun *u, const char *key, long long *out, char *why, size_t wlen) {
    int k = hs_schema_find(key);
    const char *text = lookup(u, key);
    if (!text && k >= 0) text = hs_schema_key((size_t)k)->def;
    if (!text) return snprintf(why, wlen, "%s: no value and no default", key), -1;
    if (k >= 0 && hs_schema_key((size_t)k)->type == HS_T_INT) {
        hs_value v;
        char w[256];
        if (hs_value_parse(hs_schema_key((size_t)k), text, &v, w, sizeof w) != HS_OK)
            return snprintf(why, wlen, "%s=%s: %s", key, text, w), -1;
        *out = v.u.i;
        hs_value_free(&v);
        return 0;
    }
    char *end;
    *out = strtoll(text, &end, 10);
    if (end == text || *end) return snprintf(why, wlen, "%s=%s: not an integer", key, text), -1;
    return 0;
}

/* String or enum config value, quotes stripped. A value the schema row refuses (an enum choice
 * this build lacks) is kept as written: the analysis needs the name, not a valid config. */
static void cfg_str(const srun *u, const char *key, char *buf, size_t len) {
    int k = hs_schema_find(key);
    const char *text = lookup(u, key);
    char raw[256];
    if (text) unquote(text, raw, sizeof raw);
    else snprintf(raw, sizeof raw, "%s", k >= 0 ? hs_schema_key((size_t)k)->def : "");
    hs_value v;
    char w[256];
    if (k >= 0 && hs_value_parse(hs_schema_key((size_t)k), raw, &v, w, sizeof w) == HS_OK) {
        copy_cut(buf, len, v.type == HS_T_STR || v.type == HS_T_ENUM ? v.u.s : raw);
        hs_value_free(&v);
        return;
    }
    copy_cut(buf, len, raw);
}

static long long ipow(long long b, long long e) {
    long long r = 1;
    for (long long i = 0; i < e && r < (1LL << 52); i++) r *= b;
    return r;
}

/* Theory's scale X of a run's configuration (see analysis.h). */
static double theory_x(const srun *u) {
    double base = (double)u->n_c * pow((double)u->m, (double)u->L), q = (double)(u->s0 + 1);
    if (!strcmp(u->arch, "cnn")) return q * q * base;
    if (!strcmp(u->arch, "lcn")) return pow((double)u->s, (double)u->L / 2.0) * pow(q, (double)u->L) * base;
    return base;
}

/* ================================================================ rank 0: curves and P* */

/* First crossing from above of thr by the curve e over increasing P (n points): log P
 * interpolated linearly in e between the bracketing points. Returns HS_SRHM_* reached code. */
static int crossing(const double *P, const double *e, size_t n, double thr, double *p_star) {
    *p_star = NAN;
    if (n == 0) return HS_SRHM_NO_DATA;
    if (e[0] <= thr) return HS_SRHM_BELOW_GRID;
    for (size_t j = 1; j < n; j++) {
        if (e[j] > thr) continue;
        /* e[j-1] > thr >= e[j]: t in (0, 1] */
        double t = (thr - e[j - 1]) / (e[j] - e[j - 1]);
        *p_star = exp(log(P[j - 1]) + t * (log(P[j]) - log(P[j - 1])));
        return HS_SRHM_REACHED;
    }
    return HS_SRHM_NEVER;
}

static const srun *g_runs; /* for qsort */

static int cmp_by_p(const void *x, const void *y) {
    double a = g_runs[*(const size_t *)x].P, b = g_runs[*(const size_t *)y].P;
    return (a > b) - (a < b);
}

/* Collapse runs idx[0..n) (sorted by P) into distinct P with mean, std (ddof 1) and count of eps. */
static size_t curve_of(const srun *runs, const size_t *idx, size_t n, double *P, double *mean, double *sd, int *cnt,
                       double *scratch) {
    size_t np = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && runs[idx[j]].P == runs[idx[i]].P) scratch[j - i] = runs[idx[j]].eps, j++;
        P[np] = runs[idx[i]].P, mean[np] = hs_mean(scratch, j - i), sd[np] = hs_std(scratch, j - i, 1);
        cnt[np++] = (int)(j - i);
        i = j;
    }
    return np;
}

/* ---------------------------------------------------------------- sorting configurations */

static const char *const g_first_keys[] = {"model.arch", "data.v", "data.L", "data.s0", "data.s", "data.n_c", "data.m"};
#define N_FIRST_KEYS (sizeof g_first_keys / sizeof g_first_keys[0])
static char **g_other; /* the other varying keys, by name */
static size_t g_nother;
static const hs_str *g_defaults; /* default canon of each g_other key */

static const char *value_of(const srun *u, size_t o) {
    const char *v = lookup(u, g_other[o]);
    return v ? v : g_defaults[o].buf ? g_defaults[o].buf : "";
}

static int cmp_text(const char *a, const char *b) {
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (ea != a && !*ea && eb != b && !*eb) return (x > y) - (x < y);
    return strcmp(a, b);
}

static int cmp_cfg(const void *x, const void *y) {
    const srun *a = &g_runs[((const scfg *)x)->first], *b = &g_runs[((const scfg *)y)->first];
    int d = strcmp(a->arch, b->arch);
    long long ka[6] = {a->v, a->L, a->s0, a->s, a->n_c, a->m}, kb[6] = {b->v, b->L, b->s0, b->s, b->n_c, b->m};
    for (int i = 0; !d && i < 6; i++) d = (ka[i] > kb[i]) - (ka[i] < kb[i]);
    for (size_t o = 0; !d && o < g_nother; o++) d = cmp_text(value_of(a, o), value_of(b, o));
    return d;
}

static int cmp_name(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }


/* ================================================================ rank 0: writing */



/* ================================================================ rank 0: fits */

typedef struct sfit {
    char arch[32];
    int v, L, s, n;
    double b, prefactor, r, expected;
} sfit;

/* OLS of y on x over n points; NaN results (and the count) when there are too few or all x equal. */
static void fit_or_nan(const double *x, const double *y, size_t n, sfit *f) {
    hs_line_fit lf;
    hs_error e = {0};
    f->n = (int)n, f->b = f->prefactor = f->r = NAN;
    if (n >= 2 && hs_fit_line(x, y, n, &lf, &e) == HS_OK) f->b = lf.slope, f->prefactor = exp(lf.intercept), f->r = lf.r;
}

/* ================================================================ rank 0: formatting */

static void fmt_g(char *b, size_t n, double x, const char *f) {
    if (isnan(x)) snprintf(b, n, "-");
    else snprintf(b, n, f, x);
}

static const char *reached_name(int r) {
    switch (r) {
    case HS_SRHM_REACHED: return "yes";
    case HS_SRHM_NEVER: return "never";
    case HS_SRHM_BELOW_GRID: return "below grid";
    default: return "no data";
    }
}

/* ================================================================ the stage */

typedef struct ctx {
    size_t R;
    srun *runs;
    scfg *cfgs;
    size_t ncfg;
    char **names; /* union of keys in the rhm/srhm runs' configs */
    size_t nnames;
    hs_str *defs; /* default canon per g_other key */
    size_t *idx;
    double *cP, *cmean, *csd, *scratch, *sP, *se;
    int *cn, *ccfg;
    size_t ncurve;
    sfit *fits, *s0fits;
    size_t nfits, ns0fits;
    char **labels;
} ctx;

static void ctx_free(ctx *c) {
    for (size_t r = 0; c->runs && r < c->R; r++) {
        hs_canon_free(&c->runs[r].cc), free(c->runs[r].ckey), free(c->runs[r].skey);
    }
    for (size_t i = 0; c->names && i < c->nnames; i++) free(c->names[i]);
    for (size_t i = 0; c->defs && i < c->nnames; i++) hs_str_free(&c->defs[i]);
    for (size_t i = 0; c->labels && i < c->ncfg; i++) free(c->labels[i]);
    free(c->runs), free(c->cfgs), free(c->names), free(c->defs), free(c->idx), free(c->cP), free(c->cmean);
    free(c->csd), free(c->scratch), free(c->sP), free(c->se), free(c->cn), free(c->ccfg), free(c->fits);
    free(c->s0fits), free(c->labels);
    g_runs = NULL, g_other = NULL, g_nother = 0, g_defaults = NULL;
}

static int is_seed_or_p(const char *key) {
    return !strcmp(key, "data.n_train") || !strcmp(key, "seed") || !strcmp(key, "data.seed") ||
           !strcmp(key, "data.rule_seed");
}

static int is_first_key(const char *key) {
    for (size_t i = 0; i < N_FIRST_KEYS; i++)
        if (!strcmp(key, g_first_keys[i])) return 1;
    return 0;
}

/* Resolve every run's configuration: kind, arch, (v, n_c, m, s, L, s0), P, identities. */
static hs_code resolve_runs(ctx *c, const unsigned char *fin, const double *eps, const char *path,
                            hs_analyze_srhm_summary *s, hs_error *err) {
    char why[512];
    for (size_t r = 0; r < c->R; r++) {
        srun *u = &c->runs[r];
        u->cfg = -1, u->eps = eps[r], u->P = NAN;
        cfg_str(u, "data.kind", u->kind, sizeof u->kind);
        u->hier = !strcmp(u->kind, "rhm") || !strcmp(u->kind, "srhm");
        int finished = fin[r];
        u->flag = !u->hier ? HS_SRHM_NOT_HIER : !finished ? HS_SRHM_UNFINISHED : isnan(eps[r]) ? HS_SRHM_NO_TEST : HS_SRHM_OK;
        if (!u->hier) continue;
        s->hier++;
        s->finished += finished, s->unfinished += !finished, s->used += u->flag == HS_SRHM_OK;
        cfg_str(u, "model.arch", u->arch, sizeof u->arch);
        long long P = 0;
        if (cfg_int(u, "data.v", &u->v, why, sizeof why) < 0 || cfg_int(u, "data.n_c", &u->n_c, why, sizeof why) < 0 ||
            cfg_int(u, "data.m", &u->m, why, sizeof why) < 0 || cfg_int(u, "data.s", &u->s, why, sizeof why) < 0 ||
            cfg_int(u, "data.L", &u->L, why, sizeof why) < 0 || cfg_int(u, "data.s0", &u->s0, why, sizeof why) < 0)
            return HS_FAIL(err, HS_ERR_VALUE, "%s: run %zu: %s", path, r, why);
        if (lookup(u, "data.n_train") || hs_schema_find("data.n_train") >= 0) {
            if (cfg_int(u, "data.n_train", &P, why, sizeof why) < 0)
                return HS_FAIL(err, HS_ERR_VALUE, "%s: run %zu: %s", path, r, why);
        }
        if (!(P > 0)) return HS_FAIL(err, HS_ERR_VALUE, "%s: run %zu: no training-set size data.n_train", path, r);
        u->P = (double)P;
        if (u->n_c == 0) u->n_c = u->v;
        if (u->m == 0) u->m = ipow(u->v, u->s - 1);
        if (!strcmp(u->kind, "rhm")) u->s0 = 0; /* the RHM is the s0 = 0 case whatever data.s0 says */
    }
    if (s->hier == 0)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: no rhm/srhm runs (data.kind) in the file: nothing to analyse", path);
    return HS_OK;
}

/* The keys that vary among the rhm/srhm runs, and each run's configuration and seed identities. */
static hs_code identities(ctx *c, hs_error *err) {
    /* union of listed keys */
    size_t cap = 16;
    c->names = calloc(cap, sizeof *c->names);
    for (size_t r = 0; c->names && r < c->R; r++) {
        const srun *u = &c->runs[r];
        for (size_t i = 0; u->hier && i < u->cc.n; i++) {
            size_t k = 0;
            while (k < c->nnames && strcmp(c->names[k], u->cc.pairs[i].key)) k++;
            if (k < c->nnames) continue;
            if (c->nnames == cap) {
                char **g = realloc(c->names, 2 * cap * sizeof *g);
                if (!g) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
                c->names = g, cap *= 2;
            }
            if (!(c->names[c->nnames++] = strdup(u->cc.pairs[i].key))) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        }
    }
    if (!c->names) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    qsort(c->names, c->nnames, sizeof *c->names, cmp_name);
    c->defs = calloc(c->nnames + 1, sizeof *c->defs);
    if (!c->defs) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    /* keep those that vary (not seeds or P): they move to the front of names, defaults alongside */
    size_t nv = 0;
    for (size_t k = 0; k < c->nnames; k++) {
        hs_str d = {0};
        if (hs_canon_default(c->names[k], &d) != HS_OK) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        const char *first = NULL;
        int varies = 0;
        for (size_t r = 0; r < c->R && !varies; r++) {
            if (!c->runs[r].hier) continue;
            const char *v = lookup(&c->runs[r], c->names[k]);
            if (!v) v = d.buf ? d.buf : "";
            if (!first) first = v;
            else varies = strcmp(first, v) != 0;
        }
        if (varies && !is_seed_or_p(c->names[k])) {
            char *t = c->names[nv];
            c->names[nv] = c->names[k], c->names[k] = t;
            c->defs[nv++] = d;
        } else {
            hs_str_free(&d);
        }
    }
    /* "other" keys (beyond arch, v, L, s0, s, n_c, m), by name, for sorting and extra columns */
    size_t no = 0;
    for (size_t k = 0; k < nv; k++)
        if (!is_first_key(c->names[k])) {
            char *t = c->names[no];
            hs_str td = c->defs[no];
            c->names[no] = c->names[k], c->defs[no] = c->defs[k];
            c->names[k] = t, c->defs[k] = td;
            no++;
        }
    /* keep the others sorted by name (the swaps above preserve their relative order) */
    g_other = c->names, g_nother = no, g_defaults = c->defs;

    /* identities: configuration = the varying keys' canonical values, seed = the three seeds */
    hs_str id = {0};
    for (size_t r = 0; r < c->R; r++) {
        srun *u = &c->runs[r];
        if (!u->hier) continue;
        hs_str_reset(&id);
        hs_code rc = HS_OK;
        for (size_t k = 0; k < nv && rc == HS_OK; k++) {
            const char *v = lookup(u, c->names[k]);
            rc = hs_str_printf(&id, "%s=%s\n", c->names[k], v ? v : c->defs[k].buf ? c->defs[k].buf : "");
        }
        if (rc == HS_OK && !(u->ckey = strdup(id.buf ? id.buf : ""))) rc = HS_ERR_NOMEM;
        hs_str_reset(&id);
        static const char *const seeds[] = {"seed", "data.seed", "data.rule_seed"};
        for (size_t k = 0; k < 3 && rc == HS_OK; k++) {
            const char *v = lookup(u, seeds[k]);
            rc = hs_str_printf(&id, "%s=%s\n", seeds[k], v ? v : "default");
        }
        if (rc == HS_OK && !(u->skey = strdup(id.buf ? id.buf : ""))) rc = HS_ERR_NOMEM;
        if (rc != HS_OK) {
            hs_str_free(&id);
            return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        }
    }
    hs_str_free(&id);
    return HS_OK;
}

/* Group runs into configurations (sorted), build the curves and P*. */
static hs_code configurations(ctx *c, double thr, hs_analyze_srhm_summary *s, hs_error *err) {
    size_t R = c->R;
    c->cfgs = calloc(R + 1, sizeof *c->cfgs);
    c->idx = malloc((R + 1) * sizeof *c->idx);
    c->cP = malloc((R + 1) * sizeof *c->cP), c->cmean = malloc((R + 1) * sizeof *c->cmean);
    c->csd = malloc((R + 1) * sizeof *c->csd), c->scratch = malloc((R + 1) * sizeof *c->scratch);
    c->sP = malloc((R + 1) * sizeof *c->sP), c->se = malloc((R + 1) * sizeof *c->se);
    c->cn = malloc((R + 1) * sizeof *c->cn), c->ccfg = malloc((R + 1) * sizeof *c->ccfg);
    double *l10 = malloc((R + 1) * sizeof *l10), *tmpm = malloc((R + 1) * sizeof *tmpm);
    double *tmps = malloc((R + 1) * sizeof *tmps);
    int *tmpn = malloc((R + 1) * sizeof *tmpn);
    size_t *sidx = malloc((R + 1) * sizeof *sidx);
    if (!c->cfgs || !c->idx || !c->cP || !c->cmean || !c->csd || !c->scratch || !c->sP || !c->se || !c->cn ||
        !c->ccfg || !l10 || !tmpm || !tmps || !tmpn || !sidx) {
        free(l10), free(tmpm), free(tmps), free(tmpn), free(sidx);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    /* a run joins the first configuration whose representative has its identity */
    for (size_t r = 0; r < R; r++) {
        if (!c->runs[r].hier) continue;
        size_t k = 0;
        while (k < c->ncfg && strcmp(c->runs[c->cfgs[k].first].ckey, c->runs[r].ckey)) k++;
        if (k == c->ncfg) c->cfgs[c->ncfg++].first = r;
    }
    g_runs = c->runs;
    qsort(c->cfgs, c->ncfg, sizeof *c->cfgs, cmp_cfg);
    for (size_t k = 0; k < c->ncfg; k++) {
        scfg *g = &c->cfgs[k];
        const srun *rep = &c->runs[g->first];
        g->X = theory_x(rep);
        /* the configuration's usable runs, by P */
        size_t n = 0;
        for (size_t r = 0; r < R; r++) {
            if (!c->runs[r].hier || strcmp(c->runs[r].ckey, rep->ckey)) continue;
            c->runs[r].cfg = (int)k;
            if (c->runs[r].flag == HS_SRHM_OK) c->idx[n++] = r;
        }
        qsort(c->idx, n, sizeof *c->idx, cmp_by_p);
        size_t np = curve_of(c->runs, c->idx, n, c->cP + c->ncurve, c->cmean + c->ncurve, c->csd + c->ncurve,
                             c->cn + c->ncurve, c->scratch);
        const double *P = c->cP + c->ncurve, *e = c->cmean + c->ncurve;
        for (size_t j = 0; j < np; j++) c->ccfg[c->ncurve + j] = (int)k;
        g->n_p = (int)np;
        g->reached = crossing(P, e, np, thr, &g->p_star);
        /* the authors' way: the grid point nearest the threshold, within the tolerance */
        g->p_closest = g->eps_closest = NAN;
        for (size_t j = 0; j < np; j++)
            if (isnan(g->eps_closest) || fabs(e[j] - thr) < fabs(g->eps_closest - thr)) g->eps_closest = e[j], g->p_closest = P[j];
        if (!(fabs(g->eps_closest - thr) <= HS_SRHM_CLOSEST_TOL + 1e-12)) g->p_closest = NAN;
        c->ncurve += np;
        /* per seed: the same crossing on each seed's own curve */
        size_t nl = 0;
        for (size_t i = 0; i < n; i++) {
            int seen = 0;
            for (size_t q = 0; q < i && !seen; q++) seen = !strcmp(c->runs[c->idx[q]].skey, c->runs[c->idx[i]].skey);
            if (seen) continue;
            g->n_seeds++;
            size_t ns = 0;
            for (size_t q = i; q < n; q++)
                if (!strcmp(c->runs[c->idx[q]].skey, c->runs[c->idx[i]].skey)) sidx[ns++] = c->idx[q];
            size_t sp = curve_of(c->runs, sidx, ns, c->sP, tmpm, tmps, tmpn, c->scratch);
            double ps;
            if (crossing(c->sP, tmpm, sp, thr, &ps) == HS_SRHM_REACHED) l10[nl++] = log10(ps);
        }
        g->n_seeds_reached = (int)nl;
        g->l10_mean = hs_mean(l10, nl), g->l10_std = hs_std(l10, nl, 1);
        s->reached += g->reached == HS_SRHM_REACHED, s->never += g->reached == HS_SRHM_NEVER;
        s->below_grid += g->reached == HS_SRHM_BELOW_GRID;
    }
    s->configs = c->ncfg;
    free(l10), free(tmpm), free(tmps), free(tmpn), free(sidx);
    return HS_OK;
}

/* The scaling fits over the configurations that reach the threshold. */
static hs_code scaling_fits(ctx *c, hs_error *err) {
    size_t C = c->ncfg;
    c->fits = calloc(C + 1, sizeof *c->fits), c->s0fits = calloc(C + 1, sizeof *c->s0fits);
    double *x = malloc((C + 1) * sizeof *x), *y = malloc((C + 1) * sizeof *y);
    if (!c->fits || !c->s0fits || !x || !y) {
        free(x), free(y);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    /* groups in configuration order, so the tables come out sorted like the configurations */
    for (size_t k = 0; k < C; k++) {
        const srun *a = &c->runs[c->cfgs[k].first];
        size_t f = 0;
        while (f < c->nfits && (strcmp(c->fits[f].arch, a->arch) || c->fits[f].s != a->s)) f++;
        if (f == c->nfits) {
            sfit *F = &c->fits[c->nfits++];
            snprintf(F->arch, sizeof F->arch, "%s", a->arch);
            F->s = (int)a->s, F->v = F->L = -1, F->expected = 1;
            size_t n = 0;
            for (size_t q = 0; q < C; q++) {
                const srun *b = &c->runs[c->cfgs[q].first];
                if (c->cfgs[q].reached != HS_SRHM_REACHED || strcmp(b->arch, a->arch) || b->s != a->s) continue;
                x[n] = log(c->cfgs[q].X), y[n++] = log(c->cfgs[q].p_star);
            }
            fit_or_nan(x, y, n, F);
        }
        f = 0;
        while (f < c->ns0fits && (strcmp(c->s0fits[f].arch, a->arch) || c->s0fits[f].v != a->v ||
                                  c->s0fits[f].L != a->L || c->s0fits[f].s != a->s))
            f++;
        if (f == c->ns0fits) {
            sfit *F = &c->s0fits[c->ns0fits++];
            snprintf(F->arch, sizeof F->arch, "%s", a->arch);
            F->v = (int)a->v, F->L = (int)a->L, F->s = (int)a->s;
            F->expected = !strcmp(a->arch, "cnn") ? 2.0 : !strcmp(a->arch, "lcn") ? (double)a->L : NAN;
            size_t n = 0;
            for (size_t q = 0; q < C; q++) {
                const srun *b = &c->runs[c->cfgs[q].first];
                if (c->cfgs[q].reached != HS_SRHM_REACHED || strcmp(b->arch, a->arch) || b->v != a->v || b->L != a->L ||
                    b->s != a->s)
                    continue;
                x[n] = log((double)(b->s0 + 1));
                y[n++] = log(c->cfgs[q].p_star / ((double)b->n_c * pow((double)b->m, (double)b->L)));
            }
            fit_or_nan(x, y, n, F); /* all s0 equal: hs_fit_line refuses, the fit stays NaN */
        }
    }
    free(x), free(y);
    return HS_OK;
}

/* Labels: "arch=cnn, v=6, L=2, s0=1, lr=0.1" over the keys that vary ("all runs" if none). */
static hs_code make_labels(ctx *c, hs_error *err) {
    c->labels = calloc(c->ncfg + 1, sizeof *c->labels);
    if (!c->labels) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    /* which of the first keys vary: compare resolved values over the configurations */
    int vary[N_FIRST_KEYS] = {0};
    for (size_t k = 1; k < c->ncfg; k++) {
        const srun *a = &c->runs[c->cfgs[0].first], *b = &c->runs[c->cfgs[k].first];
        vary[0] |= strcmp(a->arch, b->arch) != 0;
        long long va[6] = {a->v, a->L, a->s0, a->s, a->n_c, a->m}, vb[6] = {b->v, b->L, b->s0, b->s, b->n_c, b->m};
        for (int i = 0; i < 6; i++) vary[i + 1] |= va[i] != vb[i];
    }
    hs_str l = {0};
    for (size_t k = 0; k < c->ncfg; k++) {
        const srun *u = &c->runs[c->cfgs[k].first];
        long long vals[6] = {u->v, u->L, u->s0, u->s, u->n_c, u->m};
        hs_str_reset(&l);
        hs_code rc = HS_OK;
        if (vary[0]) rc = hs_str_printf(&l, "arch=%s", u->arch);
        for (int i = 0; i < 6 && rc == HS_OK; i++)
            if (vary[i + 1]) rc = hs_str_printf(&l, "%s%s=%lld", l.len ? ", " : "", hs_an_short_name(g_first_keys[i + 1]), vals[i]);
        for (size_t o = 0; o < g_nother && rc == HS_OK; o++) {
            char v[256];
            unquote(value_of(u, o), v, sizeof v);
            rc = hs_str_printf(&l, "%s%s=%s", l.len ? ", " : "", hs_an_short_name(g_other[o]), v);
        }
        if (rc != HS_OK || !(c->labels[k] = strdup(l.len ? l.buf : "all runs"))) {
            hs_str_free(&l);
            return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        }
    }
    hs_str_free(&l);
    return HS_OK;
}

/* /analysis/srhm, replacing an earlier analysis. */
static hs_code write_group(const char *path, const ctx *c, double thr, hs_error *err) {
    size_t R = c->R, C = c->ncfg, M = c->ncurve;
    hs_analysis_out *g = NULL;
    HS_TRY(err, hs_analysis_out_open(path, "srhm", &g, err));
    size_t n = R > C ? R : C;
    n = n > M ? n : M;
    double *d = malloc((n + 1) * sizeof *d);
    int *i32 = malloc((n + 1) * sizeof *i32);
    signed char *i8 = malloc(n + 1);
    const char **sv = calloc(n + 1, sizeof *sv);
    int oom = !d || !i32 || !i8 || !sv;
    /* per run */
    if (!oom) {
        for (size_t r = 0; r < R; r++) d[r] = c->runs[r].eps;
        hs_aout_f64(g, "best_error", 1, &R, d);
        for (size_t r = 0; r < R; r++) d[r] = c->runs[r].P;
        hs_aout_f64(g, "P", 1, &R, d);
        for (size_t r = 0; r < R; r++) i8[r] = (signed char)c->runs[r].flag;
        hs_aout_i8(g, "flag", R, i8);
        for (size_t r = 0; r < R; r++) i32[r] = c->runs[r].cfg;
        hs_aout_i32(g, "config", 1, &R, i32);
    }
    /* per configuration */
#define CFG_RUN_I32(expr, name)                                                                                        \
    for (size_t k = 0; k < C; k++) {                                                                                   \
        const srun *u = &c->runs[c->cfgs[k].first];                                                                    \
        i32[k] = (int)(expr);                                                                                          \
    }                                                                                                                  \
    hs_aout_i32(g, name, 1, &C, i32)
#define CFG_F64(field, name)                                                                                           \
    for (size_t k = 0; k < C; k++) d[k] = c->cfgs[k].field;                                                            \
    hs_aout_f64(g, name, 1, &C, d)
#define CFG_I32(field, name)                                                                                           \
    for (size_t k = 0; k < C; k++) i32[k] = c->cfgs[k].field;                                                          \
    hs_aout_i32(g, name, 1, &C, i32)
    if (!oom) {
        for (size_t k = 0; k < C; k++) sv[k] = c->labels[k];
        hs_aout_strs(g, "label", C, sv);
        for (size_t k = 0; k < C; k++) sv[k] = c->runs[c->cfgs[k].first].arch;
        hs_aout_strs(g, "arch", C, sv);
        CFG_RUN_I32(u->v, "v");
        CFG_RUN_I32(u->n_c, "n_c");
        CFG_RUN_I32(u->m, "m");
        CFG_RUN_I32(u->s, "s");
        CFG_RUN_I32(u->L, "L");
        CFG_RUN_I32(u->s0, "s0");
        CFG_I32(n_p, "n_p");
        CFG_I32(n_seeds, "n_seeds");
        CFG_I32(n_seeds_reached, "p_star_n_seeds");
        CFG_F64(X, "X");
        CFG_F64(p_star, "p_star");
        CFG_F64(p_closest, "p_star_closest");
        CFG_F64(eps_closest, "eps_closest");
        CFG_F64(l10_mean, "p_star_log10_mean");
        CFG_F64(l10_std, "p_star_log10_std");
        for (size_t k = 0; k < C; k++) i8[k] = (signed char)c->cfgs[k].reached;
        hs_aout_i8(g, "reached", C, i8);
    }
#undef CFG_RUN_I32
#undef CFG_F64
#undef CFG_I32
    /* curves */
    if (!oom) {
        hs_aout_i32(g, "curve_config", 1, &M, c->ccfg);
        hs_aout_f64(g, "curve_P", 1, &M, c->cP);
        hs_aout_f64(g, "curve_eps_mean", 1, &M, c->cmean);
        hs_aout_f64(g, "curve_eps_std", 1, &M, c->csd);
        hs_aout_i32(g, "curve_n", 1, &M, c->cn);
    }
    /* fits */
#define FIT_I32(arr, cnt, field, name)                                                                                 \
    for (size_t k = 0; k < cnt; k++) i32[k] = c->arr[k].field;                                                         \
    hs_aout_i32(g, name, 1, &cnt, i32)
#define FIT_F64(arr, cnt, field, name)                                                                                 \
    for (size_t k = 0; k < cnt; k++) d[k] = c->arr[k].field;                                                           \
    hs_aout_f64(g, name, 1, &cnt, d)
    if (!oom) {
        size_t nf = c->nfits, ns = c->ns0fits;
        for (size_t k = 0; k < nf; k++) sv[k] = c->fits[k].arch;
        hs_aout_strs(g, "fit_arch", nf, sv);
        FIT_I32(fits, nf, s, "fit_s");
        FIT_I32(fits, nf, n, "fit_n");
        FIT_F64(fits, nf, b, "fit_b");
        FIT_F64(fits, nf, prefactor, "fit_prefactor");
        FIT_F64(fits, nf, r, "fit_r");
        for (size_t k = 0; k < ns; k++) sv[k] = c->s0fits[k].arch;
        hs_aout_strs(g, "s0_fit_arch", ns, sv);
        FIT_I32(s0fits, ns, v, "s0_fit_v");
        FIT_I32(s0fits, ns, L, "s0_fit_L");
        FIT_I32(s0fits, ns, s, "s0_fit_s");
        FIT_I32(s0fits, ns, n, "s0_fit_n");
        FIT_F64(s0fits, ns, b, "s0_fit_exponent");
        FIT_F64(s0fits, ns, expected, "s0_fit_expected");
        FIT_F64(s0fits, ns, prefactor, "s0_fit_prefactor");
        FIT_F64(s0fits, ns, r, "s0_fit_r");
        hs_aout_attr(g, "", "threshold", thr);
        hs_aout_attr(g, "", "closest_tol", HS_SRHM_CLOSEST_TOL);
    }
#undef FIT_I32
#undef FIT_F64
    free(d), free(i32), free(i8), free(sv);
    return hs_analysis_out_close(g, oom ? HS_ERR_NOMEM : HS_OK, err);
}

/* CSV (one row per configuration, every column, full key names: a plain table for pandas) and
 * Markdown (the table, then the fits, which live in the file and here only). */
static void make_tables(const ctx *c, double thr, const hs_analyze_srhm_summary *s, hs_str *csv, hs_str *md) {
    hs_str_printf(csv, "arch,v,n_c,m,s,L,s0,");
    for (size_t o = 0; o < g_nother; o++) hs_str_printf(csv, "%s,", g_other[o]);
    hs_str_printf(csv, "X,n_p,n_seeds,p_star,p_star_over_X,p_star_closest,eps_closest,p_star_log10_mean,"
                       "p_star_log10_std,p_star_n_seeds,reached\n");
    hs_str_printf(md, "SRHM sample complexity: P* where the best test error crosses %g; %zu of %zu rhm/srhm runs "
                      "analysed", thr, s->used, s->hier);
    if (s->unfinished) hs_str_printf(md, ", %zu unfinished (left out)", s->unfinished);
    if (s->finished > s->used) hs_str_printf(md, ", %zu finished without a test accuracy", s->finished - s->used);
    hs_str_printf(md, ".\n\n| arch | v | n_c | m | s | L | s0 |");
    for (size_t o = 0; o < g_nother; o++) hs_str_printf(md, " %s |", hs_an_short_name(g_other[o]));
    hs_str_printf(md, " X | P points | seeds | P* | P*/X | P* closest (eps) | log10 P* over seeds | reached |\n|");
    for (size_t k = 0; k < 7 + g_nother + 8; k++) hs_str_printf(md, "---|");
    hs_str_printf(md, "\n");
    for (size_t k = 0; k < c->ncfg; k++) {
        const scfg *g = &c->cfgs[k];
        const srun *u = &c->runs[g->first];
        hs_str_printf(csv, "%s,%lld,%lld,%lld,%lld,%lld,%lld,", u->arch, u->v, u->n_c, u->m, u->s, u->L, u->s0);
        hs_str_printf(md, "| %s | %lld | %lld | %lld | %lld | %lld | %lld |", u->arch, u->v, u->n_c, u->m, u->s, u->L,
                      u->s0);
        for (size_t o = 0; o < g_nother; o++) {
            char v[256];
            unquote(value_of(u, o), v, sizeof v);
            hs_str_printf(csv, strpbrk(v, ",\"") ? "\"%s\"," : "%s,", v);
            hs_str_printf(md, " %s |", v);
        }
        hs_str_printf(csv, "%.6g,%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%d\n", g->X, g->n_p, g->n_seeds, g->p_star,
                      g->p_star / g->X, g->p_closest, g->eps_closest, g->l10_mean, g->l10_std, g->n_seeds_reached,
                      g->reached);
        char ps[32], ratio[32], pc[48], l10[64];
        fmt_g(ps, sizeof ps, g->p_star, "%.4g");
        fmt_g(ratio, sizeof ratio, g->p_star / g->X, "%.3g");
        if (isnan(g->eps_closest)) snprintf(pc, sizeof pc, "-");
        else if (isnan(g->p_closest)) snprintf(pc, sizeof pc, "- (%.3f)", g->eps_closest);
        else snprintf(pc, sizeof pc, "%.4g (%.3f)", g->p_closest, g->eps_closest);
        if (isnan(g->l10_mean)) snprintf(l10, sizeof l10, "-");
        else if (isnan(g->l10_std)) snprintf(l10, sizeof l10, "%.3f", g->l10_mean);
        else snprintf(l10, sizeof l10, "%.3f +- %.3f", g->l10_mean, g->l10_std);
        hs_str_printf(md, " %.4g | %d | %d | %s | %s | %s | %s (%d/%d) | %s |\n", g->X, g->n_p, g->n_seeds, ps, ratio, pc,
                      l10, g->n_seeds_reached, g->n_seeds, reached_name(g->reached));
    }
    hs_str_printf(md, "\nP* = prefactor X^b (OLS of ln P* on ln X over the configurations that reach %g):\n\n"
                      "| arch | s | configs | b | prefactor | r |\n|---|---|---|---|---|---|\n", thr);
    for (size_t f = 0; f < c->nfits; f++) {
        const sfit *F = &c->fits[f];
        char b[24], p[24], r[24];
        fmt_g(b, sizeof b, F->b, "%.3f"), fmt_g(p, sizeof p, F->prefactor, "%.3g"), fmt_g(r, sizeof r, F->r, "%.4f");
        hs_str_printf(md, "| %s | %d | %d | %s | %s | %s |\n", F->arch, F->s, F->n, b, p, r);
    }
    hs_str_printf(md, "\nExponent of (s0+1) in P*/(n_c m^L) at fixed (v, L, s) (OLS on ln(s0+1); predicted 2 for cnn, "
                      "L for lcn):\n\n| arch | v | L | s | configs | exponent | predicted | prefactor | r |\n"
                      "|---|---|---|---|---|---|---|---|---|\n");
    for (size_t f = 0; f < c->ns0fits; f++) {
        const sfit *F = &c->s0fits[f];
        char b[24], e[24], p[24], r[24];
        fmt_g(b, sizeof b, F->b, "%.3f"), fmt_g(e, sizeof e, F->expected, "%g");
        fmt_g(p, sizeof p, F->prefactor, "%.3g"), fmt_g(r, sizeof r, F->r, "%.4f");
        hs_str_printf(md, "| %s | %d | %d | %d | %d | %s | %s | %s | %s |\n", F->arch, F->v, F->L, F->s, F->n, b, e, p, r);
    }
}

hs_code hs_analyze_srhm(MPI_Comm comm, const hs_analyze_opts *o, hs_analyze_srhm_summary *s, hs_str *table,
                        hs_error *err) {
    memset(s, 0, sizeof *s);
    int rank;
    MPI_Comm_rank(comm, &rank);
    double thr = o->threshold != 0 ? o->threshold : HS_SRHM_THRESHOLD;
    s->threshold = thr;
    if (!(thr > 0 && thr < 1)) /* the same on every rank: no collective is skipped */
        return HS_FAIL(err, HS_ERR_USAGE, "srhm analysis: threshold must be in (0, 1), got %g", thr);
    size_t R = 0;
    unsigned char *fin = NULL;
    char **text = NULL;
    double *eps = NULL;
    char why[1024] = "";
    int got = read_errors(comm, o->path, &R, &fin, &text, &eps, why, sizeof why);
    if (got < 0) return HS_FAIL(err, got == -2 ? HS_ERR_IO : HS_ERR_VALUE, "%s", why);
    hs_code rc = HS_OK;
    hs_error mine = {0};
    ctx c = {.R = R};
    if (rank != 0) goto done;

    s->runs = R;
    if (!(c.runs = calloc(R + 1, sizeof *c.runs))) {
        rc = HS_FAIL(&mine, HS_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t r = 0; r < R && rc == HS_OK; r++) rc = hs_canon_parse(text[r], &c.runs[r].cc, &mine);
    if (rc != HS_OK) goto done;
    if ((rc = resolve_runs(&c, fin, eps, o->path, s, &mine)) != HS_OK) goto done;
    if ((rc = identities(&c, &mine)) != HS_OK) goto done;
    if ((rc = configurations(&c, thr, s, &mine)) != HS_OK) goto done;
    if ((rc = scaling_fits(&c, &mine)) != HS_OK) goto done;
    if ((rc = make_labels(&c, &mine)) != HS_OK) goto done;
    if ((rc = write_group(o->path, &c, thr, &mine)) != HS_OK) goto done;

    /* ---- tables */
    hs_str csv = {0}, md = {0};
    make_tables(&c, thr, s, &csv, &md);
    rc = hs_an_write_tables(o, "srhm", &csv, &md, &mine);
    if (table && rc == HS_OK && md.buf) hs_str_append(table, md.buf, md.len);
    hs_str_free(&csv), hs_str_free(&md);

done:
    ctx_free(&c);
    free(fin), free(eps), free_texts(text, R);
    /* rank 0's outcome, message and summary are everyone's */
    int code = (int)rc;
    MPI_Bcast(&code, 1, MPI_INT, 0, comm);
    MPI_Bcast(mine.msg, (int)sizeof mine.msg, MPI_CHAR, 0, comm);
    double sv[11] = {(double)s->runs,    (double)s->hier,   (double)s->finished, (double)s->used,
                     (double)s->unfinished, (double)s->configs, (double)s->reached, (double)s->never,
                     (double)s->below_grid, s->threshold, 0};
    MPI_Bcast(sv, 11, MPI_DOUBLE, 0, comm);
    s->runs = (size_t)sv[0], s->hier = (size_t)sv[1], s->finished = (size_t)sv[2], s->used = (size_t)sv[3];
    s->unfinished = (size_t)sv[4], s->configs = (size_t)sv[5], s->reached = (size_t)sv[6], s->never = (size_t)sv[7];
    s->below_grid = (size_t)sv[8], s->threshold = sv[9];
    if (code != HS_OK) {
        mine.msg[sizeof mine.msg - 1] = '\0';
        if (rank == 0 && err) {
            *err = mine;
            hs_error_trace(err, __FILE__, __LINE__);
        } else {
            rc = HS_FAIL(err, (hs_code)code, "%s", mine.msg);
        }
    }
    return rc;
}

/* ================================================================ the registry entry */

/* Runs whose data kind draws its samples from a grammar (rhm, srhm) call for this analysis. */
static int srhm_applies(const hs_results_reader *rd) {
    int yes = 0;
    for (size_t r = 0; r < hs_reader_n_runs(rd) && !yes; r++) {
        hs_canon_config cc;
        hs_train_config cfg;
        hs_error e = {0};
        if (hs_canon_parse(hs_reader_config(rd, r), &cc, &e) != HS_OK) continue;
        if (hs_canon_typed(&cc, &cfg, &e) == HS_OK) {
            hs_rhm_opts rules;
            yes = hs_data_rules(&cfg.data, &rules);
            hs_train_config_free(&cfg);
        }
        hs_canon_free(&cc);
    }
    return yes;
}

static hs_code srhm_run(MPI_Comm comm, const hs_analyze_opts *o, hs_str *summary, hs_str *table, hs_error *err) {
    hs_analyze_srhm_summary s;
    HS_TRY(err, hs_analyze_srhm(comm, o, &s, table, err));
    hs_str_printf(summary,
                  "%s: sample complexity of %zu rhm/srhm runs (%zu finished, %zu unfinished): %zu configurations, "
                  "%zu reach test error %g\n",
                  o->path, s.hier, s.finished, s.unfinished, s.configs, s.reached, s.threshold);
    return HS_OK;
}

const hs_analysis hs_analysis_srhm = {
    .name = "srhm",
    .doc = "sample complexity P* of the (sparse) random hierarchy model, its scaling fits",
    .applies = srhm_applies,
    .run = srhm_run,
};
