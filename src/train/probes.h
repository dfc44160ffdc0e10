/* probes.h - the probes measured at every record point (private to train/): the synonym and
 * displacement sensitivities of (S)RHM data (probe_sensitivity.c) and Petrini et al.'s relative
 * stability on square images (probe_stability.c); the quantities are defined in
 * include/hsweep/metrics.h, the series in train.h.
 *
 * Each probe works with any hs_model: its nodes are the net's hidden layers (hs_model_hidden) and
 * the logits. It adds its series to the layout from the config alone, refuses what the data's
 * shape cannot give (the preflight and the training make the same check), builds its fixed
 * inputs once from HS_STREAM_PROBE (keyed by data.seed, so no training stream moves), and at a
 * record point forwards them in eval mode in chunks of the net's max_batch rows, without
 * allocating, reducing in double. The recorders call these five functions and nothing else:
 *
 *     HS_TRY(err, probe_sens_layout(c, lay, err));              // rec_layout
 *     HS_TRY(err, probe_sens_check(c, sh, err));                // hs_train_check_shape
 *     HS_TRY(err, probe_sens_init(&p, c, net, test, res, err)); // rec_init
 *     HS_TRY(err, probe_sens_measure(p, net, t, final, err));   // rec_measure
 *     probe_sens_free(p);                                       // rec_free
 */
#ifndef HSWEEP_TRAIN_PROBES_H
#define HSWEEP_TRAIN_PROBES_H

#include <string.h>

#include "hsweep/data.h"
#include "hsweep/nn.h"
#include "hsweep/train.h"

/* record.diffeo_c's schema default: any other value asks for the stability probe. */
#define PROBE_DEFAULT_CUT 3

typedef struct probe_sens probe_sens;
hs_code probe_sens_layout(const hs_train_config *c, hs_train_layout *lay, hs_error *err);
hs_code probe_sens_check(const hs_train_config *c, const hs_data_shape *sh, hs_error *err);
/* NULL *out when record.sensitivity is 0. */
hs_code probe_sens_init(probe_sens **out, const hs_train_config *c, hs_model *net, hs_train_result *res,
                        hs_error *err);
hs_code probe_sens_measure(probe_sens *p, hs_model *net, size_t t, int final, hs_error *err);
void probe_sens_free(probe_sens *p);

typedef struct probe_stab probe_stab;
hs_code probe_stab_layout(const hs_train_config *c, hs_train_layout *lay, hs_error *err);
hs_code probe_stab_check(const hs_train_config *c, const hs_data_shape *sh, hs_error *err);
/* NULL *out when record.stability is 0. The images are the test set's. */
hs_code probe_stab_init(probe_stab **out, const hs_train_config *c, hs_model *net, const hs_dataset *test,
                        hs_train_result *res, hs_error *err);
hs_code probe_stab_measure(probe_stab *p, hs_model *net, size_t t, int final, hs_error *err);
void probe_stab_free(probe_stab *p);

/* The rows of node k after a forward that returned logits: hidden layer k (k < n_hidden), the
 * logits at k = n_hidden; its width into *w. */
static inline const float *probe_node(const hs_model *net, const float *logits, int k, int *w) {
    if (k < net->n_hidden) return *w = net->hidden_width[k], hs_model_hidden(net, k);
    return *w = net->out_dim, logits;
}

/* The series of res called name (NULL when the layout has none). */
static inline hs_series *probe_series(hs_train_result *res, const char *name) {
    for (size_t i = 0; i < res->n_series; i++)
        if (!strcmp(res->series[i].spec.name, name)) return &res->series[i];
    return NULL;
}

#endif
