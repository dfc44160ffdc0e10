/* registry.c - the table of data kinds (see "the registry of data kinds" in include/hsweep/data.h).
 *
 * A kind is one file under src/data/kinds/ defining a `const hs_data_kind hs_data_kind_NAME`, and
 * one line here (its declaration and its table entry, side by side). The table's order is the
 * order `hsweep keys` lists the kinds in; lookups go by name, so the order means nothing else.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "hsweep/data.h"
#include "hsweep/util.h"

#define KIND(name) extern const hs_data_kind hs_data_kind_##name;
#define ENTRY(name) &hs_data_kind_##name,
#define KINDS(X)                                                                                                       \
    X(cfm) X(cm) X(cc) X(fashion_mnist) X(cifar10) X(gaussian) X(rhm) X(srhm) X(hierarchy) X(partition) X(xor)         \
        X(gated_toy) X(gated_fmnist) X(mnist) X(gated_perm) X(gated_rot)

KINDS(KIND)
static const hs_data_kind *const table[] = {KINDS(ENTRY)};
#define N_KINDS (sizeof table / sizeof table[0])

size_t hs_data_kind_count(void) { return N_KINDS; }

const hs_data_kind *hs_data_kind_at(size_t i) { return i < N_KINDS ? table[i] : NULL; }

const hs_data_kind *hs_data_kind_find(const char *name) {
    for (size_t i = 0; name && i < N_KINDS; i++)
        if (!strcmp(table[i]->name, name)) return table[i];
    return NULL;
}

/* The registered name nearest to name, or NULL when none is close enough to be a typo (the
 * schema's rule: within a third of the word, at least 2 edits). */
static const char *nearest(const char *name) {
    const char *best = NULL;
    int best_d = 1 << 30;
    for (size_t i = 0; i < N_KINDS; i++) {
        int d = hs_edit_distance(name, table[i]->name);
        if (d < best_d) best_d = d, best = table[i]->name;
    }
    size_t len = strlen(name);
    int limit = len <= 4 ? 2 : (int)(len / 3) + 1;
    return best_d <= limit ? best : NULL;
}

hs_code hs_data_kind_lookup(const char *name, const hs_data_kind **out, hs_error *err) {
    *out = hs_data_kind_find(name);
    if (*out) return HS_OK;
    HS_FAIL(err, HS_ERR_SPEC, "data.kind = %s: no such data kind (expected one of: %s)", name ? name : "(none)",
            hs_data_kind_choices());
    const char *near = name ? nearest(name) : NULL;
    if (near) hs_error_hint(err, "did you mean %s?", near);
    return HS_ERR_SPEC;
}

int hs_data_kind_has(const hs_data_opts *o, unsigned flags) {
    const hs_data_kind *k = o ? hs_data_kind_find(o->kind) : NULL;
    return k && (k->flags & flags) == flags;
}

/* ---------------------------------------------------------------- for the schema */

/* Built once: the table is constant, so every caller sees the same text. */
static char choices[1024], doc[4096];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void) {
    size_t nc = 0, nd = (size_t)snprintf(doc, sizeof doc, "Dataset.");
    for (size_t i = 0; i < N_KINDS; i++) {
        nc += (size_t)snprintf(choices + nc, sizeof choices - nc, "%s%s", i ? "|" : "", table[i]->name);
        nd += (size_t)snprintf(doc + nd, sizeof doc - nd, "%s %s: %s", i ? ";" : "", table[i]->name, table[i]->doc);
        if (nc >= sizeof choices || nd >= sizeof doc) break; /* a unit test keeps both well inside */
    }
    if (nd < sizeof doc) snprintf(doc + nd, sizeof doc - nd, ".");
}

const char *hs_data_kind_choices(void) {
    pthread_once(&once, build);
    return choices;
}

const char *hs_data_kind_doc(void) {
    pthread_once(&once, build);
    return doc;
}
