/* layout.c - what a run will record, from its config and its data's shape alone: the record
 * points of its schedule, the per-layer table, and the recorders' series (see hs_train_layout in
 * include/hsweep/train.h). */
#include <math.h>
#include <string.h>

#include "hsweep/models.h"
#include "internal.h"
#include "loop.h"
#include "recorders.h"

/* The step counts of the record points of the steps and log schedules, ascending, from 0 to
 * total (steps may be NULL to count them). log: round(total^(i / (points - 1))) for i = 0 ..
 * points - 1, duplicates dropped, after step 0. */
size_t train_schedule_steps(const hs_train_config *c, long long total, long long *steps) {
    size_t n = 0;
    if (steps) steps[n] = 0;
    n++;
    if (c->record_schedule == HS_REC_STEPS) {
        long long k = c->record_every_steps > 0 ? c->record_every_steps : 1;
        for (long long s = k; s < total; s += k, n++)
            if (steps) steps[n] = s;
    } else {
        long long prev = 0;
        int P = c->record_log_points > 1 ? c->record_log_points : 2;
        for (int i = 0; i < P; i++) {
            long long s = (long long)llround(pow((double)total, (double)i / (P - 1)));
            if (s <= prev || s >= total) continue;
            if (steps) steps[n] = s;
            n++, prev = s;
        }
    }
    if (total > 0) {
        if (steps) steps[n] = total;
        n++;
    }
    return n;
}

/* ================================================================ layout from the config */

hs_code hs_train_layout_for(const hs_train_config *c, const hs_data_shape *shp, hs_train_layout *out, hs_error *err) {
    memset(out, 0, sizeof *out);
    const hs_data_shape sh = *shp;
    if (sh.n_train < 1) return HS_FAIL(err, HS_ERR_VALUE, "the training set of this config is empty");
    long long B = hs_train_batch(c, sh.n_train, sh.classes);
    out->steps_per_epoch = (sh.n_train + B - 1) / B;
    out->total_steps = out->steps_per_epoch * c->epochs;
    if (c->record_schedule == HS_REC_EPOCHS) {
        long long every = c->record_every > 0 ? c->record_every : 1;
        out->n_records = 1 + (size_t)(c->epochs / every) + (c->epochs % every ? 1 : 0);
    } else {
        out->n_records = train_schedule_steps(c, out->total_steps, NULL);
    }
    out->n_layers = c->arch->layers(c);
    if (c->arch->flags & HS_MODEL_SOLVED) out->n_records = 1; /* the solution */
    HS_TRY(err, rec_layout(c, &sh, out, err));
    return HS_OK;
}

hs_code hs_train_layout_of(const hs_train_config *c, hs_train_layout *out, hs_error *err) {
    hs_data_shape sh;
    HS_TRY(err, hs_data_shape_of(&c->data, &sh, err));
    return hs_train_layout_for(c, &sh, out, err);
}
