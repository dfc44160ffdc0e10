/* search.c - the bracketing search of a stage, replayed from its measurements (see
 * include/hsweep/plan.h). Nothing of a search is kept but the runs it trained: every call
 * proposes the rounds again from the spec and the measured points, so a killed search resumes
 * where it was and retrains nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/plan.h"

static const char *const status_names[HS_SEARCH_STATUS_COUNT] = {"open", "converged", "not bracketed", "max rounds"};

const char *hs_search_status_to_string(hs_search_status s) {
    return (unsigned)s < HS_SEARCH_STATUS_COUNT ? status_names[s] : "?";
}

double hs_search_canon(const hs_search *sr, double x) {
    if (hs_schema_key((size_t)sr->key)->type == HS_T_INT) return (double)llround(x);
    char buf[40];
    snprintf(buf, sizeof buf, "%.6g", x); /* a value a person can retype: the run id hashes it */
    return strtod(buf, NULL);
}

void hs_search_state_free(hs_search_state *s) {
    if (!s) return;
    for (size_t g = 0; g < s->n; g++) {
        hs_search_group *gr = &s->groups[g];
        for (size_t j = 0; gr->over && j < s->n_over; j++) hs_value_free(&gr->over[j]);
        free(gr->over), free(gr->x), free(gr->seeds_lo), free(gr->seeds_hi);
    }
    free(s->groups);
    memset(s, 0, sizeof *s);
}

hs_code hs_search_groups(const hs_spec *spec, size_t stage, hs_search_state *out, hs_error *err) {
    memset(out, 0, sizeof *out);
    const hs_search *sr = spec->blocks[stage].search;
    if (!sr) return HS_FAIL(err, HS_ERR_INTERNAL, "stage %zu has no search", stage);
    hs_plan *p = NULL;
    hs_plan_opts o = {.stage = stage, .bound = 1};
    HS_TRY(err, hs_plan_expand(spec, &o, &p, err));
    out->n_over = sr->n_over, out->seeds = (size_t)sr->seeds;
    out->groups = calloc(p->n_runs ? p->n_runs : 1, sizeof *out->groups);
    hs_code rc = out->groups ? HS_OK : HS_ERR_NOMEM;
    for (size_t r = 0; r < p->n_runs && rc == HS_OK; r++) {
        size_t g = 0;
        for (; g < out->n; g++) {
            size_t j = 0;
            while (j < sr->n_over && hs_value_equal(hs_plan_value(p, r, sr->over[j]), &out->groups[g].over[j])) j++;
            if (j == sr->n_over) break;
        }
        if (g < out->n) continue;
        hs_search_group *gr = &out->groups[out->n++];
        gr->lo = gr->hi = gr->err_lo = gr->err_hi = gr->crossing = NAN;
        gr->over = calloc(sr->n_over ? sr->n_over : 1, sizeof *gr->over);
        gr->seeds_lo = malloc((size_t)sr->seeds * sizeof *gr->seeds_lo);
        gr->seeds_hi = malloc((size_t)sr->seeds * sizeof *gr->seeds_hi);
        if (!gr->over || !gr->seeds_lo || !gr->seeds_hi) rc = HS_ERR_NOMEM;
        for (size_t j = 0; j < sr->n_over && rc == HS_OK; j++) rc = hs_value_copy(hs_plan_value(p, r, sr->over[j]), &gr->over[j]);
        for (int s = 0; s < sr->seeds && rc == HS_OK; s++) gr->seeds_lo[s] = gr->seeds_hi[s] = NAN;
    }
    hs_plan_free(p);
    if (rc != HS_OK) {
        hs_search_state_free(out);
        return HS_FAIL(err, rc, "out of memory");
    }
    return HS_OK;
}

/* Appends the canonical value of x to g's points unless it is already one, or lies outside
 * (a, b) when inside is set. */
static int add_point(const hs_search *sr, hs_search_group *g, size_t *cap, double x, int inside, double a, double b) {
    x = hs_search_canon(sr, x);
    if (inside && !(x > a && x < b)) return 1;
    for (size_t i = 0; i < g->n_x; i++)
        if (g->x[i] == x) return 1;
    if (g->n_x == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        double *p = realloc(g->x, c * sizeof *p);
        if (!p) return 0;
        g->x = p, *cap = c;
    }
    g->x[g->n_x++] = x;
    return 1;
}

/* batch points strictly inside (a, b), evenly in key or log(key). */
static int add_interior(const hs_search *sr, hs_search_group *g, size_t *cap, double a, double b) {
    for (int j = 1; j <= sr->batch; j++) {
        double t = (double)j / (sr->batch + 1);
        double x = sr->log ? exp(log(a) + t * (log(b) - log(a))) : a + t * (b - a);
        if (!add_point(sr, g, cap, x, 1, a, b)) return 0;
    }
    return 1;
}

static double interpolate(const hs_search *sr, double a, double ea, double b, double eb) {
    double t = eb != ea ? (sr->target - ea) / (eb - ea) : 0.5;
    return sr->log ? exp(log(a) + t * (log(b) - log(a))) : a + t * (b - a);
}

static int by_x(const void *p, const void *q) {
    const double *a = p, *b = q;
    return (a[0] > b[0]) - (a[0] < b[0]);
}

static hs_code replay_group(const hs_search *sr, size_t gi, hs_search_group *g, hs_search_measure measure, void *ctx) {
    const size_t S = (size_t)sr->seeds;
    size_t cap = 0, measured = 0;
    g->n_x = 0, g->rounds = 1, g->status = HS_SEARCH_OPEN;
    g->lo = g->hi = g->err_lo = g->err_hi = g->crossing = NAN;
    if (!add_point(sr, g, &cap, sr->lo, 0, 0, 0) || !add_point(sr, g, &cap, sr->hi, 0, 0, 0) ||
        !add_interior(sr, g, &cap, sr->lo, sr->hi))
        return HS_ERR_NOMEM;
    /* per measured point: x, mean, then its S seed values */
    const size_t W = 2 + S;
    double *tab = NULL, *vals = malloc(S * sizeof *vals);
    size_t tab_cap = 0;
    hs_code rc = vals ? HS_OK : HS_ERR_NOMEM;
    while (rc == HS_OK) {
        for (; measured < g->n_x; measured++) {
            if (!measure || !measure(ctx, gi, g->x[measured], vals)) goto done; /* this round is not measured yet */
            if (measured + 1 > tab_cap) {
                tab_cap = tab_cap ? 2 * tab_cap : 16;
                double *t = realloc(tab, tab_cap * W * sizeof *t);
                if (!t) {
                    rc = HS_ERR_NOMEM;
                    goto done;
                }
                tab = t;
            }
            double *row = &tab[measured * W], sum = 0;
            size_t n = 0;
            for (size_t s = 0; s < S; s++) {
                row[2 + s] = vals[s];
                if (!isnan(vals[s])) sum += vals[s], n++;
            }
            row[0] = g->x[measured], row[1] = n ? sum / (double)n : NAN;
        }
        /* the bracket: sorted usable points, first sign change of (mean - target) */
        double *sorted = malloc((measured + 1) * W * sizeof *sorted);
        if (!sorted) {
            rc = HS_ERR_NOMEM;
            break;
        }
        size_t m = 0;
        for (size_t i = 0; i < measured; i++)
            if (!isnan(tab[i * W + 1])) memcpy(&sorted[m++ * W], &tab[i * W], W * sizeof *tab);
        qsort(sorted, m, W * sizeof *sorted, by_x);
        size_t at = m;
        for (size_t i = 0; i + 1 < m && at == m; i++)
            if ((sorted[i * W + 1] > sr->target) != (sorted[(i + 1) * W + 1] > sr->target)) at = i;
        if (at == m) {
            g->status = HS_SEARCH_NOT_BRACKETED;
            free(sorted);
            break;
        }
        const double *A = &sorted[at * W], *B = &sorted[(at + 1) * W];
        g->lo = A[0], g->hi = B[0], g->err_lo = A[1], g->err_hi = B[1];
        for (size_t s = 0; s < S; s++) g->seeds_lo[s] = A[2 + s], g->seeds_hi[s] = B[2 + s];
        g->crossing = interpolate(sr, A[0], A[1], B[0], B[1]);
        free(sorted);
        double width = g->lo > 0 ? g->hi / g->lo - 1 : (g->hi - g->lo) / fmax(fabs(g->lo), fabs(g->hi));
        if (width <= sr->rtol) {
            g->status = HS_SEARCH_CONVERGED;
            break;
        }
        if (g->rounds > sr->max_rounds) {
            g->status = HS_SEARCH_MAX_ROUNDS;
            break;
        }
        size_t before = g->n_x;
        if (!add_interior(sr, g, &cap, g->lo, g->hi)) {
            rc = HS_ERR_NOMEM;
            break;
        }
        if (g->n_x == before) { /* an integer bracket with nothing between its ends */
            g->status = HS_SEARCH_CONVERGED;
            break;
        }
        g->rounds++;
    }
done:
    if (g->status == HS_SEARCH_OPEN) g->crossing = NAN;
    free(tab), free(vals);
    return rc;
}

hs_code hs_search_replay(const hs_search *sr, hs_search_state *out, hs_search_measure measure, void *ctx,
                         hs_error *err) {
    for (size_t g = 0; g < out->n; g++)
        if (replay_group(sr, g, &out->groups[g], measure, ctx) != HS_OK) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    return HS_OK;
}

size_t hs_search_max_points(const hs_search *sr) { return 2 + (size_t)sr->batch * (1 + (size_t)sr->max_rounds); }
