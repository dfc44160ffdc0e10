/* srhm_search.c - the SRHM analysis' searched P* and its exponent fits (srhm.h): where a stage
 * searched for P* (/search/<stage>, read through the store's reader), its crossing replaces the
 * grid-interpolated one of the configuration that holds the search's runs; then the scaling fits:
 * ln P* on ln X and the exponent of (s0+1) in P* with an interval over seeds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/metrics.h"
#include "hsweep/plan.h"
#include "internal.h"
#include "srhm.h"

int srhm_read_searches(const hs_results_reader *rd, ctx *c, char *why, size_t wlen) {
    hs_error e = {0};
    if (hs_reader_search_stages(rd, &c->stages, &c->ntabs, &e) != HS_OK) return snprintf(why, wlen, "%s", e.msg), -1;
    c->tabs = calloc(c->ntabs + 1, sizeof *c->tabs);
    if (!c->tabs) return snprintf(why, wlen, "out of memory"), -1;
    for (size_t i = 0; i < c->ntabs; i++)
        if (hs_reader_search(rd, c->stages[i], &c->tabs[i], &e) != HS_OK) return snprintf(why, wlen, "%s", e.msg), -1;
    return 0;
}

void srhm_free_searches(ctx *c) {
    for (size_t i = 0; c->tabs && i < c->ntabs; i++) hs_search_table_free(&c->tabs[i]);
    for (size_t i = 0; c->stages && i < c->ntabs; i++) free(c->stages[i]);
    free(c->tabs), free(c->stages);
    c->tabs = NULL, c->stages = NULL, c->ntabs = 0;
}

/* The next "key=value" of a search group's name ("model.arch=\"cnn\", data.s0=1", canonical
 * values as the run configs hold them): key and value into the buffers, *p past it. A quoted
 * value may hold ", "; a list's brackets nest. 0 at the end or on a malformed name. */
static int next_pair(const char **p, char *key, size_t klen, char *val, size_t vlen) {
    const char *s = *p;
    while (*s == ',' || *s == ' ') s++;
    const char *eq = strchr(s, '=');
    if (!*s || !eq || (size_t)(eq - s) >= klen) return 0;
    memcpy(key, s, (size_t)(eq - s)), key[eq - s] = '\0';
    const char *v = eq + 1, *t = v;
    int depth = 0, quoted = 0;
    for (; *t; t++) {
        if (quoted) {
            if (*t == '\\' && t[1]) t++;
            else if (*t == '"') quoted = 0;
        } else if (*t == '"') quoted = 1;
        else if (*t == '[' || *t == '{') depth++;
        else if (*t == ']' || *t == '}') depth--;
        else if (*t == ',' && depth <= 0) break;
    }
    if ((size_t)(t - v) >= vlen) return 0;
    memcpy(val, v, (size_t)(t - v)), val[t - v] = '\0';
    *p = t;
    return 1;
}

/* Does configuration k have the group's over values (its name)? */
static int has_values(const ctx *c, size_t k, const char *group) {
    const srun *u = &c->runs[c->cfgs[k].first];
    char key[128], val[256];
    const char *p = group;
    int any = 0;
    while (next_pair(&p, key, sizeof key, val, sizeof val)) {
        any = 1;
        const char *have = hs_canon_get(&u->cc, key);
        hs_str d = {0};
        if (!have && hs_canon_default(key, &d) == HS_OK) have = d.buf;
        int same = have && !strcmp(have, val);
        hs_str_free(&d);
        if (!same) return 0;
    }
    return any || !strcmp(group, "all runs");
}

/* Does configuration k hold the search's runs at x (seed s + 1 with the final error vals[s] for
 * every seed the search counted)? A search's value is the final test error of the very run the
 * analysis reads, so they agree to the last bit: the check identifies the configuration even
 * when another one (a grid at another learning rate, say) shares its over values. */
static int holds_runs(const ctx *c, size_t k, double x, const double *vals, size_t S) {
    size_t counted = 0;
    for (size_t s = 0; s < S; s++) {
        if (isnan(vals[s])) continue;
        int found = 0;
        for (size_t r = 0; r < c->R && !found; r++) {
            const srun *u = &c->runs[r];
            found = u->cfg == (int)k && u->P == x && u->seed == (long long)s + 1 && u->fin == vals[s];
        }
        if (!found) return 0;
        counted++;
    }
    return counted > 0;
}

hs_code srhm_use_searches(ctx *c, double thr, hs_error *err) {
    for (size_t t = 0; t < c->ntabs; t++) {
        const hs_search_table *T = &c->tabs[t];
        if (strcmp(T->key, "data.n_train") || strcmp(T->metric, "test_err") || fabs(T->target - thr) > 1e-12) {
            hs_str_printf(&c->notes, "- /search/%s is not used: it searched %s where %s = %g, not data.n_train where "
                          "test_err = %g.\n", c->stages[t], T->key, T->metric, T->target, thr);
            continue;
        }
        for (size_t i = 0; i < T->n; i++) {
            if (isnan(T->crossing[i])) {
                hs_str_printf(&c->notes, "- /search/%s, %s: no crossing (%s): the grid's P* is reported.\n",
                              c->stages[t], T->group[i], hs_search_status_to_string((hs_search_status)T->status[i]));
                continue;
            }
            size_t hit = c->ncfg, nhit = 0;
            for (size_t k = 0; k < c->ncfg; k++)
                if (has_values(c, k, T->group[i]) && holds_runs(c, k, T->lo[i], T->seeds_lo + i * T->n_seeds, T->n_seeds) &&
                    holds_runs(c, k, T->hi[i], T->seeds_hi + i * T->n_seeds, T->n_seeds))
                    hit = k, nhit++;
            if (nhit != 1) {
                hs_str_printf(&c->notes, "- /search/%s, %s: %s configuration holds its runs: not used.\n", c->stages[t],
                              T->group[i], nhit ? "more than one" : "no");
                continue;
            }
            scfg *g = &c->cfgs[hit];
            if (g->searched) { /* two stages searched it: the later name wins, said so */
                hs_str_printf(&c->notes, "- /search/%s, %s: replaces /search/%s's P* %.6g.\n", c->stages[t],
                              T->group[i], g->stage, g->p_star);
            }
            g->searched = 1, g->stage = c->stages[t];
            g->p_star = T->crossing[i], g->s_lo = T->lo[i], g->s_hi = T->hi[i], g->reached = HS_SRHM_REACHED;
            /* the per-seed values measure what the search measured: the final test error */
            HS_TRY(err, srhm_seed_crossings(c, hit, thr, 1, err));
        }
    }
    return HS_OK;
}

/* ---------------------------------------------------------------- fits */

/* OLS of y on x over n points; NaN results (and the count) when there are too few or all x equal. */
static void fit_or_nan(const double *x, const double *y, size_t n, sfit *f) {
    hs_line_fit lf;
    hs_error e = {0};
    f->n = (int)n, f->b = f->prefactor = f->r = NAN;
    if (n >= 2 && hs_fit_line(x, y, n, &lf, &e) == HS_OK)
        f->b = lf.slope, f->prefactor = exp(lf.intercept), f->r = lf.r;
}

/* The scaling fits over the configurations that reach the threshold. */
hs_code srhm_x_fits(ctx *c, hs_error *err) {
    size_t C = c->ncfg;
    c->fits = calloc(C + 1, sizeof *c->fits);
    double *x = malloc((C + 1) * sizeof *x), *y = malloc((C + 1) * sizeof *y);
    if (!c->fits || !x || !y) {
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
    }
    free(x), free(y);
    return HS_OK;
}

/* Per (arch, v, L, s) over the configurations that reach the threshold: OLS of
 * ln(P* / (n_c m^L)) on ln(s0+1), and the exponent's 95% interval over seeds. Why that interval:
 * a seed (the training set's draw and the initialisation; the grammar is one rule_seed) is an
 * independent replicate of the whole experiment, so each seed's own P* per s0 fitted alone gives
 * independent exponents, and Student's t-interval of their mean is exact for normal scatter and
 * honest about having 3 of them (t = 4.30 at 2 degrees of freedom). A bootstrap over 3 seeds has
 * 10 distinct resamples and would report a far too narrow interval. Seeds enter only when they
 * cross at every s0 of the fit, so each slope spans the same points. */
hs_code srhm_s0_fits(ctx *c, hs_error *err) {
    size_t C = c->ncfg;
    c->s0fits = calloc(C + 1, sizeof *c->s0fits);
    double *x = malloc((C + 1) * sizeof *x), *y = malloc((C + 1) * sizeof *y), *ys = NULL;
    size_t *members = malloc((C + 1) * sizeof *members);
    const char **keys = calloc(c->nseed_lp + 1, sizeof *keys);
    hs_code rc = c->s0fits && x && y && members && keys ? HS_OK : HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < C && rc == HS_OK; k++) {
        const srun *a = &c->runs[c->cfgs[k].first];
        size_t f = 0;
        while (f < c->ns0fits && (strcmp(c->s0fits[f].arch, a->arch) || c->s0fits[f].v != a->v ||
                                  c->s0fits[f].L != a->L || c->s0fits[f].s != a->s))
            f++;
        if (f < c->ns0fits) continue;
        sfit *F = &c->s0fits[c->ns0fits++];
        snprintf(F->arch, sizeof F->arch, "%s", a->arch);
        F->v = (int)a->v, F->L = (int)a->L, F->s = (int)a->s;
        F->expected = !strcmp(a->arch, "cnn") ? 2.0 : !strcmp(a->arch, "lcn") ? (double)a->L : NAN;
        F->b = F->prefactor = F->r = F->lo = F->hi = F->seed_mean = NAN;
        size_t n = 0, nk = 0;
        for (size_t q = 0; q < C; q++) {
            const srun *b = &c->runs[c->cfgs[q].first];
            if (c->cfgs[q].reached != HS_SRHM_REACHED || strcmp(b->arch, a->arch) || b->v != a->v || b->L != a->L ||
                b->s != a->s)
                continue;
            x[n] = log((double)(b->s0 + 1));
            y[n] = log(c->cfgs[q].p_star / ((double)b->n_c * pow((double)b->m, (double)b->L)));
            int seen_s0 = 0;
            for (size_t j = 0; j < n && !seen_s0; j++) seen_s0 = x[j] == x[n];
            F->n_s0 += !seen_s0;
            members[n++] = q;
            /* the seeds any member knows */
            for (int j = 0; j < c->cfgs[q].n_seeds; j++) {
                const char *key = c->seed_key[c->cfgs[q].seed0 + (size_t)j];
                size_t u = 0;
                while (u < nk && strcmp(keys[u], key)) u++;
                if (u == nk) keys[nk++] = key;
            }
        }
        F->n = (int)n;
        free(ys);
        if (!(ys = malloc((nk * n + 1) * sizeof *ys))) {
            rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
            break;
        }
        /* ys[seed][point]: that seed's ln P* less the same offset as y (NaN: no crossing there) */
        for (size_t u = 0; u < nk; u++)
            for (size_t i = 0; i < n; i++) {
                const scfg *g = &c->cfgs[members[i]];
                const srun *b = &c->runs[g->first];
                double v = NAN;
                for (int j = 0; j < g->n_seeds; j++)
                    if (!strcmp(c->seed_key[g->seed0 + (size_t)j], keys[u])) v = c->seed_lp[g->seed0 + (size_t)j];
                ys[u * n + i] = v - log((double)b->n_c * pow((double)b->m, (double)b->L));
            }
        hs_slope_ci ci;
        hs_error e = {0};
        if (hs_fit_slope_ci(x, y, n, ys, nk, SRHM_CI_LEVEL, &ci, &e) != HS_OK) continue; /* < 2 s0: stays NaN */
        hs_line_fit lf;
        if (hs_fit_line(x, y, n, &lf, &e) == HS_OK) F->r = lf.r;
        F->b = ci.slope, F->prefactor = exp(ci.intercept), F->lo = ci.lo, F->hi = ci.hi;
        F->seed_mean = ci.seed_mean, F->seeds = (int)ci.seeds;
    }
    free(x), free(y), free(ys), free(members), free(keys);
    return rc;
}
