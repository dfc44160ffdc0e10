/* sample.c - random axes: the distributions of a block's `sample:` and their draws (see
 * include/hsweep/spec.h; spec.c reads the YAML and builds the axis from these).
 *
 * Why the draws are made this way:
 * - every key has its own stream, (HS_STREAM_SAMPLE, FNV-1a of the key's name), so adding a key
 *   to a sample or reordering its keys changes no other key's values;
 * - attempt t of a key reads words 2t, 2t + 1 of its stream (one 53-bit uniform), so n = 30
 *   begins with the 20 points of n = 20 and a sweep grown that way resumes its finished runs;
 * - a float is rounded to 6 significant digits: the run ids and table labels hold a number a
 *   person can retype, and the value does not hang on the last bits of exp/log of a libm;
 * - a point equal to an earlier one (an integer key with few values, a choice) is drawn again,
 *   so the n points are distinct runs; a space with fewer than n points is an error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/rng.h"
#include "hsweep/util.h"
#include "internal.h"

static const char *const dist_names[] = {"uniform", "loguniform", "choice", NULL};

static uint32_t fnv1a(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static double round6(double x) {
    char buf[40];
    snprintf(buf, sizeof buf, "%.6g", x);
    return strtod(buf, NULL);
}

/* Strip blanks at both ends of s[0..n) in place; returns the new start and sets *len. */
static const char *trim(const char *s, size_t n, size_t *len) {
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    *len = n;
    return s;
}

void hs_sample_dist_free(hs_sample_dist *d) {
    for (size_t i = 0; i < d->n_choices; i++) hs_value_free(&d->choices[i]);
    free(d->choices);
    memset(d, 0, sizeof *d);
}

hs_code hs_sample_dist_init(const hs_key *key, const char *name, const char *const *args, size_t n_args,
                            hs_sample_dist *d, char *why, size_t why_len, char *hint, size_t hint_len) {
    memset(d, 0, sizeof *d);
    if (hint && hint_len) hint[0] = '\0';
    int kind = -1;
    for (int i = 0; dist_names[i]; i++)
        if (!strcmp(name, dist_names[i])) kind = i;
    if (kind < 0) {
        const char *best = NULL;
        int best_d = 3;
        for (int i = 0; dist_names[i]; i++) {
            int dd = hs_edit_distance(name, dist_names[i]);
            if (dd < best_d) best_d = dd, best = dist_names[i];
        }
        snprintf(why, why_len, "unknown distribution '%s'%s%s%s (uniform(a, b), loguniform(a, b) or choice(x, y, ...))",
                 name, best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
        return HS_ERR_SPEC;
    }
    d->kind = (hs_sample_kind)kind;
    if (d->kind == HS_SAMPLE_CHOICE) {
        if (n_args < 1) {
            snprintf(why, why_len, "choice() needs at least one value");
            return HS_ERR_SPEC;
        }
        if (!(d->choices = calloc(n_args, sizeof *d->choices))) {
            snprintf(why, why_len, "out of memory");
            return HS_ERR_NOMEM;
        }
        for (size_t i = 0; i < n_args; i++) {
            char w[300];
            hs_code rc = hs_value_parse_scalar(key, args[i], 0, &d->choices[d->n_choices], w, sizeof w, hint, hint_len);
            if (rc != HS_OK) {
                snprintf(why, why_len, "choice value %zu: %s", i + 1, w);
                hs_sample_dist_free(d);
                return rc;
            }
            d->n_choices++;
        }
        return HS_OK;
    }
    if (key->type != HS_T_INT && key->type != HS_T_FLOAT) {
        snprintf(why, why_len, "%s() needs a numeric key; '%s' is %s: use choice(...)", name, key->name,
                 hs_type_to_string(key->type));
        return HS_ERR_SPEC;
    }
    if (n_args != 2) {
        snprintf(why, why_len, "%s() takes two numbers, the bounds (got %zu arguments)", name, n_args);
        return HS_ERR_SPEC;
    }
    double v[2];
    for (int i = 0; i < 2; i++) {
        char *end;
        v[i] = strtod(args[i], &end);
        if (!*args[i] || *end || !isfinite(v[i])) {
            snprintf(why, why_len, "%s(): bound '%s' is not a number", name, args[i]);
            return HS_ERR_SPEC;
        }
    }
    if (!(v[0] < v[1])) {
        snprintf(why, why_len, "%s(%g, %g): the lower bound must be below the upper", name, v[0], v[1]);
        return HS_ERR_VALUE;
    }
    if (d->kind == HS_SAMPLE_LOGUNIFORM && v[0] <= 0) {
        snprintf(why, why_len, "loguniform(%g, %g): the bounds must be > 0", v[0], v[1]);
        return HS_ERR_VALUE;
    }
    if (key->type == HS_T_INT && (v[0] != floor(v[0]) || v[1] != floor(v[1]))) {
        snprintf(why, why_len, "%s(%g, %g): '%s' is an integer key, so the bounds must be integers", name, v[0], v[1],
                 key->name);
        return HS_ERR_VALUE;
    }
    d->lo = v[0], d->hi = v[1];
    /* both bounds must be values the key accepts, so no draw can fall outside its range */
    for (int i = 0; i < 2; i++) {
        hs_value b = {.type = key->type};
        if (key->type == HS_T_INT) b.u.i = (long long)v[i];
        else b.u.f = v[i];
        char w[300];
        hs_code rc = hs_value_check(key, &b, w, sizeof w);
        if (rc != HS_OK) {
            snprintf(why, why_len, "%s(): bound %g: %s", name, v[i], w);
            return rc;
        }
    }
    return HS_OK;
}

hs_code hs_sample_dist_parse(const hs_key *key, const char *text, hs_sample_dist *d, char *why, size_t why_len,
                             char *hint, size_t hint_len) {
    if (hint && hint_len) hint[0] = '\0';
    const char *open = strchr(text, '('), *close = strrchr(text, ')');
    size_t tail;
    if (!open || !close || close < open || (trim(close + 1, strlen(close + 1), &tail), tail)) {
        snprintf(why, why_len, "expected a distribution such as loguniform(1e-4, 0.1), got '%s'", text);
        if (hint && hint_len && open && !close) /* "uniform(0.8" : a flow mapping cut it at its comma */
            snprintf(hint, hint_len, "inside { } a comma ends the value: quote it, or write {%.*s: [a, b]}",
                     (int)(open - text), text);
        return HS_ERR_SPEC;
    }
    size_t nlen;
    const char *nm = trim(text, (size_t)(open - text), &nlen);
    char name[32];
    if (nlen == 0 || nlen >= sizeof name) {
        snprintf(why, why_len, "expected a distribution such as loguniform(1e-4, 0.1), got '%s'", text);
        return HS_ERR_SPEC;
    }
    memcpy(name, nm, nlen), name[nlen] = '\0';
    /* split the arguments at commas into one buffer of NUL-separated strings */
    size_t alen = (size_t)(close - open - 1);
    char *buf = malloc(alen + 1);
    const char **args = calloc(alen / 2 + 2, sizeof *args);
    if (!buf || !args) {
        free(buf), free(args);
        snprintf(why, why_len, "out of memory");
        return HS_ERR_NOMEM;
    }
    size_t n_args = 0, at = 0;
    const char *p = open + 1;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(close - p));
        const char *stop = comma ? comma : close;
        size_t l;
        const char *a = trim(p, (size_t)(stop - p), &l);
        if (l || comma || n_args) { /* "f()" has no argument; "f(a,)" an empty one */
            memcpy(buf + at, a, l), buf[at + l] = '\0';
            args[n_args++] = buf + at;
            at += l + 1;
        }
        if (!comma) break;
        p = comma + 1;
    }
    hs_code rc = hs_sample_dist_init(key, name, args, n_args, d, why, why_len, hint, hint_len);
    free(buf), free(args);
    return rc;
}

/* Attempt t of the key: its value from the key's own stream. */
static hs_code draw(const hs_key *key, const hs_sample_dist *d, uint64_t seed, uint64_t t, hs_value *out) {
    hs_rng r;
    hs_rng_init(&r, seed, hs_rng_stream(HS_STREAM_SAMPLE, fnv1a(key->name)));
    hs_rng_seek(&r, 2 * t);
    const double u = hs_rng_uniform(&r);
    memset(out, 0, sizeof *out);
    if (d->kind == HS_SAMPLE_CHOICE) return hs_value_copy(&d->choices[(size_t)(u * (double)d->n_choices)], out);
    out->type = key->type;
    if (key->type == HS_T_INT) {
        if (d->kind == HS_SAMPLE_UNIFORM) { /* every integer of [lo, hi] equally likely */
            const double span = d->hi - d->lo + 1;
            out->u.i = (long long)d->lo + (long long)floor(u * span);
        } else {
            out->u.i = llround(exp(log(d->lo) + u * (log(d->hi) - log(d->lo))));
        }
        if (out->u.i > (long long)d->hi) out->u.i = (long long)d->hi;
        return HS_OK;
    }
    const double x = d->kind == HS_SAMPLE_UNIFORM ? d->lo + u * (d->hi - d->lo)
                                                  : exp(log(d->lo) + u * (log(d->hi) - log(d->lo)));
    out->u.f = round6(x);
    if (out->u.f < d->lo) out->u.f = d->lo; /* rounding past a bound */
    if (out->u.f > d->hi) out->u.f = d->hi;
    return HS_OK;
}

/* 64-bit hash of one value (FNV-1a over its bits), for the distinctness set. */
static uint64_t value_hash(uint64_t h, const hs_value *v) {
    const unsigned char *p;
    size_t n;
    long long iv;
    double fv;
    switch (v->type) {
    case HS_T_INT: iv = v->u.i, p = (const unsigned char *)&iv, n = sizeof iv; break;
    case HS_T_FLOAT: fv = v->u.f, p = (const unsigned char *)&fv, n = sizeof fv; break;
    case HS_T_BOOL: iv = v->u.b, p = (const unsigned char *)&iv, n = sizeof iv; break;
    case HS_T_STR:
    case HS_T_ENUM: p = (const unsigned char *)v->u.s, n = strlen(v->u.s); break;
    default: p = NULL, n = 0; break;
    }
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull;
}

/* An upper bound on the number of distinct points (HUGE_VAL when a key is a float). */
static double space_size(const hs_key *const *keys, const hs_sample_dist *dists, size_t n_keys) {
    double size = 1;
    for (size_t k = 0; k < n_keys; k++) {
        if (dists[k].kind == HS_SAMPLE_CHOICE) size *= (double)dists[k].n_choices;
        else if (keys[k]->type == HS_T_INT) size *= dists[k].hi - dists[k].lo + 1;
        else return HUGE_VAL;
    }
    return size;
}

hs_code hs_sample_draw(const hs_key *const *keys, const hs_sample_dist *dists, size_t n_keys, size_t n, uint64_t seed,
                       hs_value *vals, char *why, size_t why_len) {
    const double space = space_size(keys, dists, n_keys);
    if (space < (double)n) {
        snprintf(why, why_len, "the sampled keys have at most %.0f distinct points, fewer than n = %zu (a product axis "
                 "lists every value)", space, n);
        return HS_ERR_VALUE;
    }
    /* a bound on attempts: n distinct points of a space of exactly n take n H_n ~ n ln n draws */
    const uint64_t max_tries = 64 * (uint64_t)n + 1000;
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    size_t *set = malloc(cap * sizeof *set); /* open addressing: point index + 1, 0 = empty */
    hs_value *cand = calloc(n_keys ? n_keys : 1, sizeof *cand);
    if (!set || !cand) {
        free(set), free(cand);
        snprintf(why, why_len, "out of memory");
        return HS_ERR_NOMEM;
    }
    memset(set, 0, cap * sizeof *set);
    size_t got = 0;
    hs_code rc = HS_OK;
    for (uint64_t t = 0; got < n && t < max_tries && rc == HS_OK; t++) {
        uint64_t h = 1469598103934665603ull;
        for (size_t k = 0; k < n_keys && rc == HS_OK; k++) {
            rc = draw(keys[k], &dists[k], seed, t, &cand[k]);
            h = value_hash(h, &cand[k]);
        }
        if (rc != HS_OK) break;
        size_t slot = (size_t)h & (cap - 1);
        int seen = 0;
        for (; set[slot] && !seen; slot = (slot + 1) & (cap - 1)) {
            const hs_value *old = &vals[(set[slot] - 1) * n_keys];
            seen = 1;
            for (size_t k = 0; k < n_keys && seen; k++) seen = hs_value_equal(&old[k], &cand[k]);
        }
        for (size_t k = 0; k < n_keys; k++) {
            if (seen) hs_value_free(&cand[k]);
            else vals[got * n_keys + k] = cand[k];
            memset(&cand[k], 0, sizeof cand[k]);
        }
        if (!seen) set[slot] = ++got;
    }
    free(cand), free(set);
    if (rc == HS_OK && got < n) {
        snprintf(why, why_len, "found only %zu distinct points in %llu draws, fewer than n = %zu: the sampled "
                 "space is too small (a product axis lists every value)", got, (unsigned long long)max_tries, n);
        rc = HS_ERR_VALUE;
    }
    if (rc != HS_OK)
        for (size_t i = 0; i < got * n_keys; i++) hs_value_free(&vals[i]);
    return rc;
}
