/*
 * schema.h - THE table of configuration keys, and the typed values they hold.
 *
 * One training is configured by a flat set of dotted keys (seed, data.kind, model.depth,
 * train.lr, ...). Every key has exactly one row in the schema table (src/spec/schema.c) with
 * its type, default, allowed range and meaning. That row drives everything else:
 * validation of specs and --set overrides, `hsweep keys`, the README key reference, the
 * canonical form that run ids hash, and the typed run-table columns of the results file.
 * Adding a key = adding a row; nothing else needs editing.
 *
 *     int k = hs_schema_find("model.depth");             // index, or -1
 *     const hs_key *key = hs_schema_key(k);              // key->type == HS_T_INT, key->def == "2"
 *     hs_value v;
 *     char why[256];
 *     if (hs_value_parse(key, "6", &v, why, sizeof why) != HS_OK) puts(why);
 *     hs_str canon = {0};
 *     hs_value_canon(&v, &canon);                        // "6"
 *
 * Run-id stability rule: a key whose value equals its default does not enter a run's id, so a
 * new key (whose default keeps old behaviour) leaves every existing id unchanged. Consequently a
 * default must never change meaning; if one has to, bump HS_SCHEMA_VERSION (all ids change).
 */
#ifndef HSWEEP_SCHEMA_H
#define HSWEEP_SCHEMA_H

#include <stddef.h>

#include "hsweep/status.h"
#include "hsweep/util.h"

#define HS_SCHEMA_VERSION 1

typedef enum hs_type {
    HS_T_INT,        /* 64-bit signed integer; a YAML float is accepted when integral (1e4) */
    HS_T_FLOAT,      /* double; finite only */
    HS_T_BOOL,       /* true | false */
    HS_T_STR,        /* free text */
    HS_T_ENUM,       /* one of key->choices */
    HS_T_INT_LIST,   /* [1, 2, 3]; element range = key range */
    HS_T_FLOAT_LIST, /* [0.1, 0.2]; element range = key range */
} hs_type;

/* Short type name for messages and `hsweep keys` ("int", "float list", ...). */
const char *hs_type_to_string(hs_type t);

enum {
    HS_KEY_MIN_OPEN = 1 << 0, /* the minimum itself is not allowed (lr > 0) */
    HS_KEY_MAX_OPEN = 1 << 1, /* the maximum itself is not allowed (momentum < 1) */
};

typedef struct hs_key {
    const char *name;    /* dotted path, e.g. "model.depth" */
    hs_type type;
    const char *def;     /* default, written as in YAML: "2", "[]", "batch", "" */
    double min, max;     /* numbers and list elements; +-INFINITY where unbounded */
    int flags;           /* HS_KEY_* */
    int max_len;         /* lists: maximum length */
    const char *choices; /* enums: "batch|none" */
    const char *doc;     /* one sentence: meaning and units */
} hs_key;

/* ---------------------------------------------------------------- the table */

size_t hs_schema_count(void);
/* Key i, 0 <= i < hs_schema_count(); keys are sorted by name (so ids hash them in order). */
const hs_key *hs_schema_key(size_t i);
/* Index of the key with this dotted name, or -1. */
int hs_schema_find(const char *name);
/* True when prefix names a section, i.e. some key starts with prefix + ".". */
int hs_schema_is_section(const char *prefix);
/* The valid key nearest to name (edit distance on the full path and on the last component),
 * or NULL when nothing is close enough to be a plausible typo. */
const char *hs_schema_suggest(const char *name);

/* ---------------------------------------------------------------- values */

typedef struct hs_value {
    hs_type type;
    size_t n; /* list length */
    union {
        long long i;
        double f;
        int b;
        char *s; /* HS_T_STR, HS_T_ENUM: owned */
        long long *il;
        double *fl;
    } u;
} hs_value;

/* Parse text (a YAML scalar, or for lists "[a, b]") as a value of key's type and check its
 * range. quoted: the scalar was quoted in YAML, which makes it a string (numbers must not be
 * quoted). On failure returns HS_ERR_SPEC or HS_ERR_VALUE with a reason in why and, when there is
 * a likely intended value, a suggestion in hint (both may be NULL). */
hs_code hs_value_parse_scalar(const hs_key *key, const char *text, int quoted, hs_value *out,
                              char *why, size_t why_len, char *hint, size_t hint_len);
hs_code hs_value_parse(const hs_key *key, const char *text, hs_value *out, char *why, size_t why_len);
/* The elements of "[a, b, c]" (brackets optional), each parsed as one element of key (a list
 * key's element type, or a scalar key's own): *out holds *n of them (none for blank text; free
 * each with hs_value_free, then the array). How list values and --set "key=[v1, v2]" are read. */
hs_code hs_value_parse_elements(const hs_key *key, const char *text, hs_value **out, size_t *n, char *why,
                                size_t why_len);

/* Build a list value of key's list type from already-parsed scalar elements (taking ownership
 * of nothing: elements are copied). Checks the length. */
hs_code hs_value_list(const hs_key *key, const hs_value *elems, size_t n, hs_value *out, char *why,
                      size_t why_len);

/* Check an element or whole value against key's range/choices/length. */
hs_code hs_value_check(const hs_key *key, const hs_value *v, char *why, size_t why_len);

/* Canonical text: integers in decimal, floats in the shortest form that round-trips
 * (0.1, 1e-05, 3), bools true/false, strings and enums as JSON strings, lists [a,b]. It is
 * valid JSON, and equal values always give equal text. */
hs_code hs_value_canon(const hs_value *v, hs_str *out);
/* Human form for tables: as canon, but strings unquoted. */
hs_code hs_value_show(const hs_value *v, hs_str *out);
/* n values v[0], v[stride], ... in that form, joined by ", " (an axis' values for one key of a
 * zip group: stride = its keys). */
hs_code hs_values_show(const hs_value *v, size_t n, size_t stride, hs_str *out);

int hs_value_equal(const hs_value *a, const hs_value *b);
hs_code hs_value_copy(const hs_value *src, hs_value *dst);
void hs_value_free(hs_value *v);

/* Format a double in the shortest "%.{15,16,17}g" form that parses back to the same double. */
void hs_format_double(double x, char *buf, size_t len);

/* ---------------------------------------------------------------- cross-key rules */

/* Rules that involve several keys of one resolved config (cfg[k] = value of schema key k),
 * e.g. model.init_scales needs one entry per dense layer. HS_OK, or HS_ERR_VALUE with why. */
hs_code hs_config_check(const hs_value *const *cfg, char *why, size_t why_len);

/* ---------------------------------------------------------------- documentation */

typedef enum hs_keys_format { HS_KEYS_TEXT, HS_KEYS_MARKDOWN, HS_KEYS_TSV } hs_keys_format;
/* The key reference (every key: type, default, range or choices, meaning). */
hs_code hs_schema_describe(hs_keys_format fmt, hs_str *out);

#endif /* HSWEEP_SCHEMA_H */
