/* internal.h - what spec.c (the YAML parser) and spec_edit.c (--set overrides, freeing) share. */
#ifndef HSWEEP_SPEC_INTERNAL_H
#define HSWEEP_SPEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "hsweep/schema.h"
#include "hsweep/status.h"

/* Appends one zeroed element to the array *arrp of *n elements of elsize bytes; 0 when out of
 * memory (the array and *n are then unchanged). */
int hs_spec_grow(void *arrp, size_t *n, size_t elsize);

/* ---------------------------------------------------------------- random axes (sample.c) */

typedef enum hs_sample_kind { HS_SAMPLE_UNIFORM, HS_SAMPLE_LOGUNIFORM, HS_SAMPLE_CHOICE } hs_sample_kind;

/* One key's distribution: uniform(lo, hi) or loguniform(lo, hi) on a numeric key (an int key
 * draws integers: every one of [lo, hi] equally likely, or a rounded log-uniform), or a choice
 * among values of the key's type. */
typedef struct hs_sample_dist {
    hs_sample_kind kind;
    double lo, hi;
    hs_value *choices; /* HS_SAMPLE_CHOICE: owned */
    size_t n_choices;
} hs_sample_dist;

/* The distribution `name` with its arguments as text (numbers, or the choice's values), checked
 * against key: bounds ordered, inside the key's range, > 0 for loguniform, integers for an int
 * key. On failure returns HS_ERR_SPEC / HS_ERR_VALUE with the reason in why (hint may get a
 * suggestion). hs_sample_dist_free it on success. */
hs_code hs_sample_dist_init(const hs_key *key, const char *name, const char *const *args, size_t n_args,
                            hs_sample_dist *d, char *why, size_t why_len, char *hint, size_t hint_len);

/* The same from one scalar, "loguniform(1e-4, 0.1)" or "choice(sgd, adam)". */
hs_code hs_sample_dist_parse(const hs_key *key, const char *text, hs_sample_dist *d, char *why, size_t why_len,
                             char *hint, size_t hint_len);

void hs_sample_dist_free(hs_sample_dist *d);

/* n distinct points of the n_keys keys, drawn with seed: vals[j * n_keys + k] is point j's value
 * of key k (the layout of a zip axis). A pure function of (seed, each key's name and
 * distribution, n), and the first m points of n are those of m. HS_ERR_VALUE when the keys'
 * space has fewer than n points (reason in why). */
hs_code hs_sample_draw(const hs_key *const *keys, const hs_sample_dist *dists, size_t n_keys, size_t n, uint64_t seed,
                       hs_value *vals, char *why, size_t why_len);

#endif /* HSWEEP_SPEC_INTERNAL_H */
