/* run_file.c - the store hook of a run written to a file of its own (see include/hsweep/run.h). */
#include <stdio.h>
#include <stdlib.h>

#include "hsweep/run.h"
#include "hsweep/store.h"

hs_code hs_run_file_store(void *ctx, const hs_run_info *run, const hs_run_outcome *out, hs_error *err) {
    const hs_run_file *f = ctx;
    if (out->rc != HS_OK) {
        *err = out->err;
        hs_error_trace(err, __FILE__, __LINE__);
        return out->rc;
    }
    const hs_train_result *res = &out->res;
    hs_str canon = {0}, prov = {0};
    double *cols = NULL, *lay = NULL;
    hs_store_series *ser = NULL;
    hs_code rc = hs_plan_canonical(run->plan, run->r, &canon);
    if (rc != HS_OK) {
        rc = HS_FAIL(err, rc, "out of memory");
        goto done;
    }
    hs_error perr = {0};
    if (hs_run_provenance(&prov, &perr) != HS_OK) hs_str_free(&prov);
    char params[32], epochs[32];
    snprintf(params, sizeof params, "%zu", res->n_params);
    snprintf(epochs, sizeof epochs, "%lld", res->epochs_done);
    hs_store_attr attrs[] = {{"hsweep_version", f->version}, {"run_id", run->id},
                             {"status", hs_run_status_to_string(res->status)}, {"message", res->message},
                             {"config", canon.buf ? canon.buf : ""}, {"spec", f->spec_path},
                             {"n_params", params}, {"epochs_done", epochs},
                             {"provenance", prov.buf ? prov.buf : ""}};
    cols = malloc((res->n_records ? res->n_records : 1) * HS_RECORD_FIELDS * sizeof *cols);
    lay = malloc((res->n_records * res->n_layers + 1) * HS_LAYER_FIELDS * sizeof *lay);
    ser = calloc(res->n_series + 1, sizeof *ser);
    if (!cols || !lay || !ser) {
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        goto done;
    }
    hs_store_column columns[HS_RECORD_FIELDS];
    for (int k = 0; k < HS_RECORD_FIELDS; k++) {
        for (size_t i = 0; i < res->n_records; i++)
            cols[(size_t)k * res->n_records + i] = hs_record_field(&res->records[i], k);
        columns[k] = (hs_store_column){hs_record_field_names[k], cols + (size_t)k * res->n_records};
    }
    /* /layers: one [n_records x n_layers] matrix per per-layer field */
    hs_store_matrix mats[HS_LAYER_FIELDS];
    for (int k = 0; k < HS_LAYER_FIELDS; k++) {
        double *m = lay + (size_t)k * res->n_records * res->n_layers;
        for (size_t t = 0; t < res->n_records; t++)
            for (size_t l = 0; l < res->n_layers; l++)
                m[t * res->n_layers + l] = res->layers[(t * HS_LAYER_FIELDS + (size_t)k) * res->n_layers + l];
        mats[k] = (hs_store_matrix){hs_layer_field_names[k], m, res->n_records, res->n_layers};
    }
    /* /series: each series' filled points as they are, [n x its dims] */
    for (size_t k = 0; k < res->n_series; k++) {
        const hs_series *s = &res->series[k];
        ser[k] = (hs_store_series){.name = s->spec.name, .axes = s->spec.axes, .ndim = s->spec.ndim,
                                   .every = s->spec.every, .n = s->n, .point = s->point, .values = s->values};
        for (int d = 0; d < s->spec.ndim && d < HS_STORE_MAX_DIMS; d++) ser[k].dims[d] = s->spec.dims[d];
    }
    HS_CHECK(err, rc,
             hs_store_write_run(f->path, attrs, sizeof attrs / sizeof attrs[0], columns, HS_RECORD_FIELDS,
                                res->n_records, mats, HS_LAYER_FIELDS, ser, res->n_series, err),
             done);
done:
    free(cols);
    free(lay);
    free(ser);
    hs_str_free(&canon), hs_str_free(&prov);
    return rc;
}
