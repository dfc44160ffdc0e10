/* run.c - one training end to end (see include/hsweep/run.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hsweep/run.h"
#include "hsweep/schema.h"

void hs_run_data_free(hs_run_data *d) {
    if (!d) return;
    hs_dataset_free(&d->train);
    hs_dataset_free(&d->test);
    free(d->key);
    d->key = NULL;
}

/* Key of run r's data: the canonical values of every data.* key (data.seed resolved by the plan).
 * The datasets are a function of exactly these, so runs with equal keys see identical data, and
 * a key added to the schema joins the key by itself. */
static char *data_key(const hs_plan *plan, size_t r) {
    hs_str s = {0};
    for (size_t k = 0; k < plan->n_keys; k++) {
        const char *name = hs_schema_key(k)->name;
        if (strncmp(name, "data.", 5) != 0) continue;
        if (hs_str_printf(&s, "%s=", name) != HS_OK || hs_value_canon(hs_plan_value(plan, r, (int)k), &s) != HS_OK ||
            hs_str_printf(&s, "\n") != HS_OK) {
            hs_str_free(&s);
            return NULL;
        }
    }
    return s.buf;
}

/* The run's datasets into d, reusing the previous run's when its data options are the same (a
 * sweep over seeds with a fixed data.seed loads once per rank). */
hs_code hs_run_data_load(hs_run_data *d, const hs_plan *plan, size_t r, const hs_data_opts *opts, hs_error *err) {
    char *key = data_key(plan, r);
    hs_code rc = HS_OK;
    if (!key || !d->key || strcmp(key, d->key) != 0) {
        hs_run_data_free(d);
        rc = hs_data_load(opts, &d->train, &d->test, err);
        if (rc == HS_OK) d->key = key, key = NULL;
    }
    free(key);
    return rc;
}

/* hs_train_run's hooks, forwarded to the caller's with the run and the record's index. */
typedef struct relay {
    const hs_run_opts *o;
    const hs_run_info *run;
    const hs_train_result *res;
} relay;

static hs_code relay_record(void *ctx, const hs_record *rec, hs_model *net, const hs_dataset *train, hs_error *err) {
    (void)net, (void)train;
    relay *y = ctx;
    const hs_run_hooks *h = &y->o->hooks;
    return h->on_record(h->ctx, y->run, rec, (size_t)(rec - y->res->records), err);
}

static int relay_stop(void *ctx) {
    const hs_run_hooks *h = &((relay *)ctx)->o->hooks;
    return h->should_stop(h->ctx);
}

hs_code hs_run_one(const hs_run_opts *o, hs_error *err) {
    const hs_run_hooks *h = &o->hooks;
    hs_run_data own = {0}, *data = o->data ? o->data : &own;
    hs_train_config cfg = {0};
    hs_run_outcome out = {0};
    hs_run_info run = {.plan = o->plan, .r = o->r};
    snprintf(run.id, sizeof run.id, "%016llx", (unsigned long long)o->plan->runs[o->r].id);

    hs_error *terr = &out.err;
    out.rc = hs_train_config_from_plan(o->plan, o->r, &cfg, terr);
    if (out.rc == HS_OK) out.rc = hs_run_data_load(data, o->plan, o->r, &cfg.data, terr);
    if (out.rc == HS_OK) {
        run.cfg = &cfg, run.train = &data->train, run.test = &data->test;
        if (h->on_ready) out.rc = h->on_ready(h->ctx, &run, terr);
    }
    relay y = {.o = o, .run = &run, .res = &out.res};
    hs_train_hooks th = {.ctx = &y, .on_record = h->on_record ? relay_record : NULL,
                         .should_stop = h->should_stop ? relay_stop : NULL,
                         .checkpoint = {.path = o->checkpoint, .run_id = run.id,
                                        .every_seconds = o->checkpoint_every, .resume = 1}};
    const char *ckpt = o->checkpoint;
    if (h->solve) {
        /* reached whatever the steps before gave: a solve may be collective, and a process that
         * could not load its data must still tell the others */
        if (out.rc != HS_OK) run.cfg = NULL, run.train = run.test = NULL;
        out.rc = h->solve(h->ctx, &run, out.rc, &out.res, terr);
    } else if (out.rc == HS_OK) {
        out.rc = hs_train_run(&cfg, &data->train, &data->test, &th, &out.res, terr);
    }
    if (!h->solve && out.rc != HS_OK && out.rc != HS_ERR_IO && ckpt && strstr(terr->msg, ckpt) &&
        access(ckpt, F_OK) == 0) {
        /* a checkpoint this build cannot use (damaged, or of another version): kept aside for a
         * post-mortem, and the run starts afresh rather than failing for ever */
        char aside[4300];
        snprintf(aside, sizeof aside, "%s.unusable", ckpt);
        rename(ckpt, aside);
        fprintf(stderr, "[hsweep] run %s%s%s: %s; moved it to %s and started the run afresh\n", run.id,
                o->who ? " on " : "", o->who ? o->who : "", terr->msg, aside);
        hs_train_result_free(&out.res);
        hs_error_clear(terr);
        out.rc = hs_train_run(&cfg, &data->train, &data->test, &th, &out.res, terr);
    }
    /* a checkpoint that cannot be saved is the disk's trouble, as a results write would be */
    out.checkpoint_io = out.rc == HS_ERR_IO && ckpt && strstr(terr->msg, ckpt);

    hs_code rc = out.rc;
    if (h->store) {
        rc = h->store(h->ctx, &run, &out, err);
        /* stored for good: its checkpoint has served */
        if (rc == HS_OK && out.rc == HS_OK && out.res.status != HS_RUN_STOPPED && ckpt) {
            hs_error rerr = {0};
            if (hs_train_checkpoint_remove(ckpt, &rerr) != HS_OK) fprintf(stderr, "[hsweep] warning: %s\n", rerr.msg);
        }
    } else if (rc != HS_OK && err) {
        *err = out.err;
        hs_error_trace(err, __FILE__, __LINE__);
    }
    hs_train_result_free(&out.res);
    hs_train_config_free(&cfg);
    hs_run_data_free(&own);
    return rc;
}
