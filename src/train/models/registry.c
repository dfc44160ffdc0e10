/* registry.c - the table of model kinds (see include/hsweep/models.h): one line per kind, each
 * defined in its own file beside this one. */
#include <stdio.h>
#include <string.h>

#include "hsweep/models.h"
#include "hsweep/util.h"

extern const hs_model_kind hs_model_kind_mlp, hs_model_kind_cnn, hs_model_kind_lcn, hs_model_kind_fcn,
    hs_model_kind_kernel, hs_model_kind_gated, hs_model_kind_vgg11, hs_model_kind_vgg16, hs_model_kind_resnet18,
    hs_model_kind_resnet34, hs_model_kind_effnet_b0, hs_model_kind_vgg13_es, hs_model_kind_alexnet_es;

/* In model.arch's order of choices in the schema. */
static const hs_model_kind *const registry[] = {
    &hs_model_kind_mlp,
    &hs_model_kind_cnn,
    &hs_model_kind_lcn,
    &hs_model_kind_fcn,
    &hs_model_kind_kernel,
    &hs_model_kind_gated,
    &hs_model_kind_vgg11,
    &hs_model_kind_vgg16,
    &hs_model_kind_resnet18,
    &hs_model_kind_resnet34,
    &hs_model_kind_effnet_b0,
    &hs_model_kind_vgg13_es,
    &hs_model_kind_alexnet_es,
};
#define N_KINDS (sizeof registry / sizeof registry[0])

const hs_model_kind *const *hs_model_kinds(size_t *n) {
    *n = N_KINDS;
    return registry;
}

const hs_model_kind *hs_model_kind_lookup(const char *name) {
    for (size_t i = 0; name && i < N_KINDS; i++)
        if (!strcmp(registry[i]->name, name)) return registry[i];
    return NULL;
}

int hs_model_kind_is(const hs_model_kind *k, const char *name) { return k && name && !strcmp(k->name, name); }

hs_code hs_model_kind_find(const char *name, const hs_model_kind **out, hs_error *err) {
    if ((*out = hs_model_kind_lookup(name))) return HS_OK;
    char known[256] = "";
    const char *best = NULL;
    int best_d = 3; /* suggest only names within two edits */
    size_t len = 0;
    for (size_t i = 0; i < N_KINDS; i++) {
        int w = snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "", registry[i]->name);
        if (w > 0 && (size_t)w < sizeof known - len) len += (size_t)w;
        int d = name ? hs_edit_distance(name, registry[i]->name) : 255;
        if (d < best_d) best_d = d, best = registry[i]->name;
    }
    HS_FAIL(err, HS_ERR_VALUE, "model.arch: unknown model kind '%s'", name ? name : "(none)");
    if (best) return hs_error_hint(err, "did you mean '%s'? (the model kinds: %s)", best, known);
    return hs_error_hint(err, "the model kinds: %s", known);
}
