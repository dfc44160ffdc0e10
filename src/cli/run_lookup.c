/* run_lookup.c - one run of a spec, wherever it comes from: the spec's first expansion, a later
 * stage the spec alone plans, or a stage planned from earlier stages' results (found in the
 * sweep's results file). `hsweep train` and `hsweep data` take a run by id the same way, so
 * both reach every run a sweep can train. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "hsweep/store.h"

/* The hint that names the command listing a spec's run ids. */
static void plan_hint(hs_error *err, const char *spec) {
    hs_str q = {0};
    hs_str_shell(&q, spec);
    hs_error_hint(err, "`hsweep plan %s` lists the ids", q.buf ? q.buf : spec);
    hs_str_free(&q);
}

/* Is prefix a run id or a prefix of one (up to 16 hex digits)? */
static int is_id_prefix(const char *prefix) {
    size_t len = strlen(prefix);
    return len > 0 && len <= 16 && strspn(prefix, "0123456789abcdefABCDEF") == len;
}

/* How many runs of plan (those of stage `stage` only, unless stage is -1) have an id starting
 * with prefix (case-insensitive); *out is the last. */
static size_t find_runs(const hs_plan *plan, long stage, const char *prefix, size_t *out) {
    size_t found = 0, len = strlen(prefix);
    for (size_t r = 0; r < plan->n_runs; r++) {
        if (stage >= 0 && plan->spec->blocks[plan->runs[r].block].stage != (size_t)stage) continue;
        char id[17];
        snprintf(id, sizeof id, "%016llx", (unsigned long long)plan->runs[r].id);
        if (strncasecmp(id, prefix, len) == 0) found++, *out = r;
    }
    return found;
}

/* The run of the spec's first expansion whose id starts with prefix. HS_ERR_VALUE (err untouched)
 * when none does: the caller looks further. */
static hs_code pick_run(const hs_plan *plan, const char *prefix, const char *spec, size_t *out, hs_error *err) {
    if (!prefix) {
        if (plan->n_runs == 1) {
            *out = 0;
            return HS_OK;
        }
        HS_FAIL(err, HS_ERR_USAGE, "%s has %zu runs; choose one with --run ID", spec, plan->n_runs);
        plan_hint(err, spec);
        return HS_ERR_USAGE;
    }
    if (!is_id_prefix(prefix))
        return HS_FAIL(err, HS_ERR_USAGE, "--run: '%s' is not a run id (up to 16 hex digits)", prefix);
    size_t found = find_runs(plan, -1, prefix, out);
    if (found > 1) return HS_FAIL(err, HS_ERR_USAGE, "--run: '%s' matches several runs; give more digits", prefix);
    return found ? HS_OK : HS_ERR_VALUE;
}

/* A run that is no run of the first expansion: of a later stage the spec alone plans (one that
 * selects nothing, or a search's first round), else of the results file. Its canonical config
 * into *canon. */
static hs_code find_later_run(const hs_spec *spec, const char *spec_path, const char *run, const char *results,
                              hs_str *canon, hs_error *err) {
    size_t hits = 0;
    hs_str names = {0};
    if (spec->n_stages && spec->blocks[0].search)
        hs_str_printf(&names, "'%s' after its first round", spec->blocks[0].name);
    for (size_t k = 1; k < spec->n_stages; k++) {
        const hs_block *b = NULL;
        for (size_t i = 0; i < spec->n_blocks && !b; i++)
            if (spec->blocks[i].stage == k) b = &spec->blocks[i];
        if (b && b->select) { /* planned from the stage it selects from: only the file knows it */
            hs_str_printf(&names, "%s'%s' (selects from '%s')", names.len ? ", " : "", b->name,
                          spec->blocks[b->select->from].name);
            continue;
        }
        if (b && b->search) hs_str_printf(&names, "%s'%s' after its first round", names.len ? ", " : "", b->name);
        hs_plan *p = NULL;
        hs_plan_opts o = {.stage = k};
        hs_error e = {0};
        if (hs_plan_expand(spec, &o, &p, &e) != HS_OK) continue; /* an earlier select's stage: not plannable */
        size_t r = 0, n = find_runs(p, (long)k, run, &r);
        if (n && !hits) hs_plan_canonical(p, r, canon);
        hits += n;
        hs_plan_free(p);
    }
    if (hits > 1) {
        hs_str_free(&names);
        return HS_FAIL(err, HS_ERR_USAGE, "--run: '%s' matches several runs; give more digits", run);
    }
    if (!hits && results) {
        hs_results_reader *rd = NULL;
        hs_code rc = hs_reader_open(MPI_COMM_NULL, results, &rd, err);
        size_t n = 0, len = strlen(run);
        for (size_t i = 0; rc == HS_OK && i < hs_reader_n_runs(rd); i++)
            if (strncasecmp(hs_reader_id(rd, i), run, len) == 0 && !n++) rc = hs_str_printf(canon, "%s", hs_reader_config(rd, i));
        hs_reader_close(rd);
        if (rc != HS_OK) {
            hs_str_free(&names);
            return rc;
        }
        if (n > 1) {
            hs_str_free(&names);
            return HS_FAIL(err, HS_ERR_USAGE, "--run: '%s' matches several runs of %s; give more digits", run,
                           results);
        }
        hits = n;
    }
    if (!hits) {
        if (results)
            HS_FAIL(err, HS_ERR_USAGE, "--run: no run of %s nor of %s has an id starting with '%s'", spec_path,
                    results, run);
        else if (names.len)
            HS_FAIL(err, HS_ERR_USAGE, "--run: no run of %s that the spec alone plans has an id starting with '%s'; "
                    "the runs of stage %s are planned from the results file", spec_path, run, names.buf);
        else
            HS_FAIL(err, HS_ERR_USAGE, "--run: no run of %s has an id starting with '%s'", spec_path, run);
        if (names.len && !results) hs_error_hint(err, "give the sweep's results file: --results FILE");
        else plan_hint(err, spec_path);
        hs_str_free(&names);
        return HS_ERR_USAGE;
    }
    hs_str_free(&names);
    return HS_OK;
}

/* A one-run spec from a canonical config ("hsweep/1\nkey=value\n..."): data.seed is left out
 * when it merely followed seed, so that --set seed=N moves the data seed too. */
static hs_code one_run_spec(const char *canon, const char *name, const char *path, hs_spec **out, hs_error *err) {
    hs_str yaml = {0};
    const char *seed = NULL, *dseed = NULL;
    size_t seed_len = 0, dseed_len = 0;
    for (const char *line = strchr(canon, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        const char *eq = strchr(line + 1, '='), *end = strchr(line + 1, '\n');
        if (!eq || (end && eq > end)) continue;
        size_t vlen = end ? (size_t)(end - eq - 1) : strlen(eq + 1);
        if (eq - line - 1 == 4 && !strncmp(line + 1, "seed", 4)) seed = eq + 1, seed_len = vlen;
        if (eq - line - 1 == 9 && !strncmp(line + 1, "data.seed", 9)) dseed = eq + 1, dseed_len = vlen;
    }
    int follows = seed && dseed && seed_len == dseed_len && !strncmp(seed, dseed, seed_len);
    hs_str_printf(&yaml, "name: %s\nbase:\n", name);
    for (const char *line = strchr(canon, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        const char *eq = strchr(line + 1, '='), *end = strchr(line + 1, '\n');
        if (!eq || (end && eq > end)) continue;
        int klen = (int)(eq - line - 1), vlen = end ? (int)(end - eq - 1) : (int)strlen(eq + 1);
        if (klen == 9 && !strncmp(line + 1, "data.seed", 9) && follows) continue;
        hs_str_printf(&yaml, "  %.*s: %.*s\n", klen, line + 1, vlen, eq + 1);
    }
    hs_code rc = yaml.buf ? hs_spec_parse(yaml.buf, yaml.len, path, out, err) : HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    hs_str_free(&yaml);
    return rc;
}

hs_code cli_plan_one_run(const char *spec_path, const char *run, const char *results, const char *const *sets,
                         int n_sets, hs_spec **spec_out, hs_plan **plan_out, size_t *r_out, hs_error *err) {
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    hs_code rc = hs_spec_load(spec_path, &spec, err);
    hs_plan_opts opts = {0};
    size_t r = 0;
    /* --run names a run of the spec as written. A run of the first expansion without --set is
     * taken from it; any other (a later stage's, or one --set changes, and so its id, whatever
     * level of the spec set the key) is rebuilt as a one-run spec from its canonical config. */
    hs_str canon = {0};
    if (rc == HS_OK && !run) { /* the spec's single run, changed by --set */
        for (int i = 0; i < n_sets && rc == HS_OK; i++) rc = hs_spec_override(spec, sets[i], err);
        if (rc == HS_OK) rc = hs_plan_expand(spec, &opts, &plan, err);
        if (rc == HS_OK) rc = pick_run(plan, NULL, spec_path, &r, err);
    } else if (rc == HS_OK) {
        rc = hs_plan_expand(spec, &opts, &plan, err);
        if (rc == HS_OK) rc = pick_run(plan, run, spec_path, &r, err);
        if (rc == HS_OK && n_sets) rc = hs_plan_canonical(plan, r, &canon);
        else if (rc == HS_ERR_VALUE) rc = find_later_run(spec, spec_path, run, results, &canon, err);
    }
    if (rc == HS_OK && canon.len) {
        hs_spec *single = NULL;
        rc = one_run_spec(canon.buf, spec->name ? spec->name : "run", spec_path, &single, err);
        if (rc == HS_OK) hs_spec_free(spec), spec = single;
        for (int i = 0; i < n_sets && rc == HS_OK; i++) rc = hs_spec_override(spec, sets[i], err);
        hs_plan_free(plan), plan = NULL;
        if (rc == HS_OK) rc = hs_plan_expand(spec, &opts, &plan, err);
        r = 0;
        /* without --set the rebuilt run is the run asked for: the same config, the same id */
        char id[17] = "";
        if (rc == HS_OK) snprintf(id, sizeof id, "%016llx", (unsigned long long)plan->runs[0].id);
        if (rc == HS_OK && !n_sets && strncasecmp(id, run, strlen(run)))
            rc = HS_FAIL(err, HS_ERR_INTERNAL, "--run %s: its config rebuilt as one run has id %s", run, id);
    }
    hs_str_free(&canon);
    if (rc != HS_OK) {
        hs_plan_free(plan);
        hs_spec_free(spec);
        return rc;
    }
    *spec_out = spec, *plan_out = plan, *r_out = r;
    return HS_OK;
}
