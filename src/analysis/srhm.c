/* srhm.c - sample complexity P* of the (Sparse) Random Hierarchy Model from a results file
 * (see include/hsweep/analysis.h for what is computed and stored).
 *
 * Two phases, as equisep.c. Collective: every rank opens the file through the store's reader,
 * reads its own block of test accuracies and reduces each finished run to its best test error;
 * the errors are gathered on rank 0 (which keeps the runs' canonical configs) and the file is
 * closed by all. Rank 0 alone: groups runs into configurations, builds the curves eps(P), finds
 * P*, fits the scaling laws, writes /analysis/srhm back into the file (hs_analysis_out, after the
 * collective close) and the tables. Rank 0's outcome (code and message) is broadcast, so every
 * rank returns the same thing and nobody is left waiting in a collective. Nothing here aborts.
 *
 * About 600 lines, kept whole: reading, curves and crossings all work on the one table of runs and
 * configurations defined here; searched P* and the fits are srhm_search.c, the output (tables,
 * /analysis/srhm) srhm_output.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/analysis.h"
#include "hsweep/data.h"
#include "hsweep/metrics.h"
#include "hsweep/reader.h"
#include "hsweep/schema.h"
#include "internal.h"
#include "srhm.h"

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
                       double **eps_out, double **final_out, ctx *c, char *why, size_t wlen) {
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
    /* a search's metric is the final test error: the searched P* and its per-seed values need it */
    double *finals = malloc((R + 1) * sizeof *finals);
    if (!rc && !finals) snprintf(why, wlen, "out of memory"), rc = -1;
    if (!rc && N && hs_reader_final(rd, "test_acc", finals, &e) != HS_OK) snprintf(why, wlen, "%s", e.msg), rc = -2;
    for (size_t r = 0; !rc && r < R; r++) finals[r] = N ? 1.0 - finals[r] : NAN;
    if (!rc && srhm_read_searches(rd, c, why, wlen) < 0) rc = -2;
    hs_reader_close(rd);
    free(acc);

    int all = 0;
    MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm);
    if (all < 0) {
        free(eps), free(fin), free(finals), free_texts(text, R);
        if (!rc) snprintf(why, wlen, "another rank failed to read %s", path);
        return all;
    }
    int *counts = malloc((size_t)nranks * sizeof *counts), *displs = malloc((size_t)nranks * sizeof *displs);
    double *alleps = rank == 0 ? malloc((R + 1) * sizeof *alleps) : NULL;
    int ok = counts && displs && (rank != 0 || alleps), ok_all = 0;
    MPI_Allreduce(&ok, &ok_all, 1, MPI_INT, MPI_MIN, comm);
    if (!ok_all) {
        free(counts), free(displs), free(alleps), free(eps), free(fin), free(finals), free_texts(text, R);
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
    *R_out = R, *fin_out = fin, *text_out = text, *eps_out = alleps, *final_out = finals;
    return 0;
}

/* ================================================================ rank 0: run configs */

static const char *lookup(const srun *u, const char *key) { return hs_canon_get(&u->cc, key); }

/* Copy text into buf[len], cut to fit (config values are short; a cut one still compares). */
static void copy_cut(char *buf, size_t len, const char *text) {
    size_t n = strlen(text);
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
    if (text) srhm_unquote(text, raw, sizeof raw);
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

/* Collapse runs idx[0..n) (sorted by P) into distinct P with mean, std (ddof 1) and count of eps
 * (use_final: of the final test errors, a NaN one left out as a search leaves it out). */
static size_t curve_of(const srun *runs, const size_t *idx, size_t n, int use_final, double *P, double *mean,
                       double *sd, int *cnt, double *scratch) {
    size_t np = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, m = 0;
        for (; j < n && runs[idx[j]].P == runs[idx[i]].P; j++) {
            double v = use_final ? runs[idx[j]].fin : runs[idx[j]].eps;
            if (!isnan(v)) scratch[m++] = v;
        }
        if (m) {
            P[np] = runs[idx[i]].P, mean[np] = hs_mean(scratch, m), sd[np] = hs_std(scratch, m, 1);
            cnt[np++] = (int)m;
        }
        i = j;
    }
    return np;
}

/* ---------------------------------------------------------------- sorting configurations */

static const ctx *g_ctx; /* for qsort: the other varying keys */

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
    for (size_t o = 0; !d && o < g_ctx->nother; o++) d = cmp_text(srhm_value(g_ctx, a, o), srhm_value(g_ctx, b, o));
    return d;
}

static int cmp_name(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }


/* ================================================================ the stage */

static void ctx_free(ctx *c) {
    for (size_t r = 0; c->runs && r < c->R; r++) {
        hs_canon_free(&c->runs[r].cc), free(c->runs[r].ckey), free(c->runs[r].skey);
    }
    for (size_t i = 0; c->names && i < c->nnames; i++) free(c->names[i]);
    for (size_t i = 0; c->defs && i < c->nnames; i++) hs_str_free(&c->defs[i]);
    for (size_t i = 0; c->labels && i < c->ncfg; i++) free(c->labels[i]);
    free(c->runs), free(c->cfgs), free(c->names), free(c->defs), free(c->idx), free(c->cP), free(c->cmean);
    free(c->csd), free(c->scratch), free(c->sP), free(c->se), free(c->cn), free(c->ccfg), free(c->fits);
    free(c->s0fits), free(c->labels), free(c->seed_lp), free(c->seed_key);
    srhm_free_searches(c);
    hs_str_free(&c->notes);
    g_runs = NULL, g_ctx = NULL;
}

static int is_seed_or_p(const char *key) {
    return !strcmp(key, "data.n_train") || !strcmp(key, "seed") || !strcmp(key, "data.seed") ||
           !strcmp(key, "data.rule_seed");
}

static int is_first_key(const char *key) {
    for (size_t i = 0; i < N_FIRST_KEYS; i++)
        if (!strcmp(key, srhm_first_keys[i])) return 1;
    return 0;
}

/* Resolve every run's configuration: kind, arch, (v, n_c, m, s, L, s0), P, identities. */
static hs_code resolve_runs(ctx *c, const unsigned char *fin, const double *eps, const double *finals,
                            const char *path, hs_analyze_srhm_summary *s, hs_error *err) {
    char why[512];
    for (size_t r = 0; r < c->R; r++) {
        srun *u = &c->runs[r];
        u->cfg = -1, u->eps = eps[r], u->P = NAN, u->fin = finals[r];
        cfg_str(u, "data.kind", u->kind, sizeof u->kind);
        hs_rhm_opts rules;
        u->hier = hs_data_rules(&(hs_data_opts){.kind = u->kind}, &rules); /* a grammar's data: rhm, srhm */
        int finished = fin[r];
        u->flag = !u->hier        ? HS_SRHM_NOT_HIER
                  : !finished     ? HS_SRHM_UNFINISHED
                  : isnan(eps[r]) ? HS_SRHM_NO_TEST
                                  : HS_SRHM_OK;
        if (!u->hier) continue;
        s->hier++;
        s->finished += finished, s->unfinished += !finished, s->used += u->flag == HS_SRHM_OK;
        cfg_str(u, "model.arch", u->arch, sizeof u->arch);
        long long P = 0;
        if (cfg_int(u, "data.v", &u->v, why, sizeof why) < 0 || cfg_int(u, "data.n_c", &u->n_c, why, sizeof why) < 0 ||
            cfg_int(u, "data.m", &u->m, why, sizeof why) < 0 || cfg_int(u, "data.s", &u->s, why, sizeof why) < 0 ||
            cfg_int(u, "data.L", &u->L, why, sizeof why) < 0 || cfg_int(u, "data.s0", &u->s0, why, sizeof why) < 0 ||
            cfg_int(u, "seed", &u->seed, why, sizeof why) < 0)
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
            if (!(c->names[c->nnames++] = strdup(u->cc.pairs[i].key)))
                return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
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
    c->nother = no;
    g_ctx = c;

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

hs_code srhm_seed_crossings(ctx *c, size_t k, double thr, int use_final, hs_error *err) {
    scfg *g = &c->cfgs[k];
    size_t R = c->R, n = 0, nl = 0, ns_all = 0;
    size_t *idx = malloc((R + 1) * sizeof *idx), *sidx = malloc((R + 1) * sizeof *sidx);
    double *m = malloc((R + 1) * sizeof *m), *sd = malloc((R + 1) * sizeof *sd), *l10 = malloc((R + 1) * sizeof *l10);
    int *cnt = malloc((R + 1) * sizeof *cnt);
    if (!idx || !sidx || !m || !sd || !l10 || !cnt) {
        free(idx), free(sidx), free(m), free(sd), free(l10), free(cnt);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; r < R; r++)
        if (c->runs[r].cfg == (int)k && c->runs[r].flag == HS_SRHM_OK) idx[n++] = r;
    g_runs = c->runs;
    qsort(idx, n, sizeof *idx, cmp_by_p);
    if (!use_final && !g->n_seeds) g->seed0 = c->nseed_lp; /* the first call appends the block */
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t q = 0; q < i && !seen; q++) seen = !strcmp(c->runs[idx[q]].skey, c->runs[idx[i]].skey);
        if (seen) continue;
        size_t ns = 0;
        for (size_t q = i; q < n; q++)
            if (!strcmp(c->runs[idx[q]].skey, c->runs[idx[i]].skey)) sidx[ns++] = idx[q];
        size_t sp = curve_of(c->runs, sidx, ns, use_final, c->sP, m, sd, cnt, c->scratch);
        double ps, lp = NAN;
        if (crossing(c->sP, m, sp, thr, &ps) == HS_SRHM_REACHED) l10[nl++] = log10(ps), lp = log(ps);
        c->seed_lp[g->seed0 + ns_all] = lp, c->seed_key[g->seed0 + ns_all] = c->runs[idx[i]].skey;
        ns_all++;
    }
    if (!use_final && !g->n_seeds) c->nseed_lp += ns_all;
    g->n_seeds = (int)ns_all, g->n_seeds_reached = (int)nl;
    g->l10_mean = hs_mean(l10, nl), g->l10_std = hs_std(l10, nl, 1);
    free(idx), free(sidx), free(m), free(sd), free(l10), free(cnt);
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
    c->seed_lp = malloc((R + 1) * sizeof *c->seed_lp), c->seed_key = calloc(R + 1, sizeof *c->seed_key);
    if (!c->cfgs || !c->idx || !c->cP || !c->cmean || !c->csd || !c->scratch || !c->sP || !c->se || !c->cn ||
        !c->ccfg || !c->seed_lp || !c->seed_key)
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
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
        g->s_lo = g->s_hi = NAN;
        /* the configuration's usable runs, by P */
        size_t n = 0;
        for (size_t r = 0; r < R; r++) {
            if (!c->runs[r].hier || strcmp(c->runs[r].ckey, rep->ckey)) continue;
            c->runs[r].cfg = (int)k;
            if (c->runs[r].flag == HS_SRHM_OK) c->idx[n++] = r;
        }
        g_runs = c->runs;
        qsort(c->idx, n, sizeof *c->idx, cmp_by_p);
        size_t np = curve_of(c->runs, c->idx, n, 0, c->cP + c->ncurve, c->cmean + c->ncurve, c->csd + c->ncurve,
                             c->cn + c->ncurve, c->scratch);
        const double *P = c->cP + c->ncurve, *e = c->cmean + c->ncurve;
        for (size_t j = 0; j < np; j++) c->ccfg[c->ncurve + j] = (int)k;
        g->n_p = (int)np;
        g->reached = crossing(P, e, np, thr, &g->p_star);
        /* the authors' way: the grid point nearest the threshold, within the tolerance */
        g->p_closest = g->eps_closest = NAN;
        for (size_t j = 0; j < np; j++)
            if (isnan(g->eps_closest) || fabs(e[j] - thr) < fabs(g->eps_closest - thr))
                g->eps_closest = e[j], g->p_closest = P[j];
        if (!(fabs(g->eps_closest - thr) <= HS_SRHM_CLOSEST_TOL + 1e-12)) g->p_closest = NAN;
        c->ncurve += np;
        HS_TRY(err, srhm_seed_crossings(c, k, thr, 0, err));
    }
    s->configs = c->ncfg;
    return HS_OK;
}

/* The summary's counts, once each configuration's P* (grid or searched) is known. */
static void count_reached(const ctx *c, hs_analyze_srhm_summary *s) {
    for (size_t k = 0; k < c->ncfg; k++) {
        int r = c->cfgs[k].reached;
        s->reached += r == HS_SRHM_REACHED, s->never += r == HS_SRHM_NEVER, s->below_grid += r == HS_SRHM_BELOW_GRID;
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
    double *eps = NULL, *finals = NULL;
    char why[1024] = "";
    ctx c = {0};
    int got = read_errors(comm, o->path, &R, &fin, &text, &eps, &finals, &c, why, sizeof why);
    if (got < 0) {
        srhm_free_searches(&c);
        return HS_FAIL(err, got == -2 ? HS_ERR_IO : HS_ERR_VALUE, "%s", why);
    }
    hs_code rc = HS_OK;
    hs_error mine = {0};
    c.R = R;
    if (rank != 0) goto done;

    s->runs = R;
    if (!(c.runs = calloc(R + 1, sizeof *c.runs))) {
        rc = HS_FAIL(&mine, HS_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t r = 0; r < R && rc == HS_OK; r++) rc = hs_canon_parse(text[r], &c.runs[r].cc, &mine);
    if (rc != HS_OK) goto done;
    if ((rc = resolve_runs(&c, fin, eps, finals, o->path, s, &mine)) != HS_OK) goto done;
    if ((rc = identities(&c, &mine)) != HS_OK) goto done;
    if ((rc = configurations(&c, thr, s, &mine)) != HS_OK) goto done;
    if ((rc = srhm_use_searches(&c, thr, &mine)) != HS_OK) goto done;
    count_reached(&c, s);
    if ((rc = srhm_x_fits(&c, &mine)) != HS_OK) goto done;
    if ((rc = srhm_s0_fits(&c, &mine)) != HS_OK) goto done;
    if ((rc = srhm_labels(&c, &mine)) != HS_OK) goto done;
    if ((rc = srhm_write_group(o->path, &c, thr, &mine)) != HS_OK) goto done;

    /* ---- tables */
    hs_str csv = {0}, md = {0};
    srhm_tables(&c, thr, s, &csv, &md);
    rc = hs_an_write_tables(o, "srhm", &csv, &md, &mine);
    hs_str ecsv = {0}, none = {0};
    srhm_exponent_csv(&c, &ecsv);
    if (rc == HS_OK) rc = hs_an_write_tables(o, "srhm-exponent", &ecsv, &none, &mine);
    hs_str_free(&ecsv);
    if (table && rc == HS_OK && md.buf) hs_str_append(table, md.buf, md.len);
    hs_str_free(&csv), hs_str_free(&md);

done:
    ctx_free(&c);
    free(fin), free(eps), free(finals), free_texts(text, R);
    /* rank 0's outcome, message and summary are everyone's */
    double sv[10] = {(double)s->runs,       (double)s->hier,    (double)s->finished, (double)s->used,
                     (double)s->unfinished, (double)s->configs, (double)s->reached,  (double)s->never,
                     (double)s->below_grid, s->threshold};
    rc = hs_an_share_outcome(comm, rc, &mine, sv, 10, err);
    s->runs = (size_t)sv[0], s->hier = (size_t)sv[1], s->finished = (size_t)sv[2], s->used = (size_t)sv[3];
    s->unfinished = (size_t)sv[4], s->configs = (size_t)sv[5], s->reached = (size_t)sv[6], s->never = (size_t)sv[7];
    s->below_grid = (size_t)sv[8], s->threshold = sv[9];
    return rc;
}

/* ================================================================ the registry entry */

/* Runs whose data kind draws its samples from a grammar (rhm, srhm) call for this analysis. */
static int has_grammar(const hs_train_config *c) {
    hs_rhm_opts rules;
    return hs_data_rules(&c->data, &rules);
}

static int srhm_applies(const hs_results_reader *rd) { return hs_an_any_run(rd, has_grammar); }

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
