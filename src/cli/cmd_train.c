/* cmd_train.c - hsweep train: one run of a spec in this process, to debug a config before a
 * sweep. The training itself is run/'s, the same function every rank of a sweep calls; this file
 * picks the run, prints its progress and stores it in the run's own file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "hsweep/metrics.h"
#include "hsweep/models.h"
#include "hsweep/run.h"
#include "hsweep/schema.h"
#include "hsweep/store.h"
#include "hsweep/train.h"

const char cmd_train_usage[] =
    "usage: hsweep train SPEC.yaml [--run ID [--results FILE]] [--set key=value ...] [-o FILE] [--quiet]\n"
    "\n"
    "Train one run of the spec in this process and write its records to HDF5.\n"
    "\n"
    "options:\n"
    "  --run ID                 the run to train (an id from `hsweep plan`, or a unique prefix);\n"
    "                           optional when the spec has a single run. A run of a later stage:\n"
    "                           one of a stage that selects nothing, or of a search's first round, is\n"
    "                           found from the spec; any other is looked up in the results file\n"
    "  --results FILE           the sweep's results file, where runs planned from earlier stages'\n"
    "                           results (a select's, a search's later rounds) are found by id\n"
    "  --set key=value          change the chosen run's config (repeatable), e.g. --set train.epochs=5\n"
    "  -o FILE                  output file (default run-<id>.h5)\n"
    "  --quiet                  no progress lines\n"
    "  -h, --help               this text\n";

typedef struct train_args {
    const char *spec, *run, *out, *results;
    const char **sets;
    int n_sets, quiet;
} train_args;

/* -1 to go on, else the exit code (0 after --help). */
static int parse_train_args(const cli_command *cmd, int argc, char **argv, train_args *a) {
    static const struct option opts[] = {{"run", required_argument, NULL, 'r'},
                                         {"results", required_argument, NULL, 'R'},
                                         {"set", required_argument, NULL, 's'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    for (int c; (c = cli_next_option(cmd, argc, argv, "ho:", opts)) != -1;) {
        switch (c) {
        case 'r': a->run = optarg; break;
        case 'R': a->results = optarg; break;
        case 's': a->sets[a->n_sets++] = optarg; break;
        case 'o': a->out = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'h': return cli_help(cmd);
        case CLI_ARG:
            if (cli_take_spec(cmd, optarg, &a->spec) != EXIT_OK) return EXIT_USAGE;
            break;
        default: return EXIT_USAGE;
        }
    }
    if (!a->spec) return cli_missing_spec(cmd);
    return -1;
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
        hs_error_hint(err, "`hsweep plan %s` lists the ids", spec);
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
static hs_code find_later_run(const hs_spec *spec, const train_args *a, hs_str *canon, hs_error *err) {
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
        size_t r = 0, n = find_runs(p, (long)k, a->run, &r);
        if (n && !hits) hs_plan_canonical(p, r, canon);
        hits += n;
        hs_plan_free(p);
    }
    if (hits > 1) {
        hs_str_free(&names);
        return HS_FAIL(err, HS_ERR_USAGE, "--run: '%s' matches several runs; give more digits", a->run);
    }
    if (!hits && a->results) {
        hs_results_reader *rd = NULL;
        hs_code rc = hs_reader_open(MPI_COMM_NULL, a->results, &rd, err);
        size_t n = 0, len = strlen(a->run);
        for (size_t i = 0; rc == HS_OK && i < hs_reader_n_runs(rd); i++)
            if (strncasecmp(hs_reader_id(rd, i), a->run, len) == 0 && !n++) rc = hs_str_printf(canon, "%s", hs_reader_config(rd, i));
        hs_reader_close(rd);
        if (rc != HS_OK) {
            hs_str_free(&names);
            return rc;
        }
        if (n > 1) {
            hs_str_free(&names);
            return HS_FAIL(err, HS_ERR_USAGE, "--run: '%s' matches several runs of %s; give more digits", a->run,
                           a->results);
        }
        hits = n;
    }
    if (!hits) {
        if (a->results)
            HS_FAIL(err, HS_ERR_USAGE, "--run: no run of %s nor of %s has an id starting with '%s'", a->spec,
                    a->results, a->run);
        else if (names.len)
            HS_FAIL(err, HS_ERR_USAGE, "--run: no run of %s that the spec alone plans has an id starting with '%s'; "
                    "the runs of stage %s are planned from the results file", a->spec, a->run, names.buf);
        else
            HS_FAIL(err, HS_ERR_USAGE, "--run: no run of %s has an id starting with '%s'", a->spec, a->run);
        if (names.len && !a->results) hs_error_hint(err, "give the sweep's results file: --results FILE");
        else hs_error_hint(err, "`hsweep plan %s` lists the ids", a->spec);
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

static hs_code print_record(void *ctx, const hs_run_info *run, const hs_record *r, size_t index, hs_error *err) {
    (void)ctx, (void)index, (void)err;
    const hs_train_config *c = run->cfg;
    char test[64] = "";
    if (!isnan(r->test_acc)) snprintf(test, sizeof test, "  test %6.2f%% (loss %.4f)", 100 * r->test_acc, r->test_loss);
    printf("epoch %*lld/%lld  lr %-9.3g loss %-9.4g train %6.2f%%%s  %7.1f s\n", c->epochs >= 1000 ? 5 : 3, r->epoch,
           c->epochs, r->lr, r->epoch > 0 ? r->epoch_loss : r->train_loss, 100 * r->train_acc, test, r->seconds);
    fflush(stdout);
    return HS_OK;
}

/* The header line: what the run trains on, and what. */
static hs_code print_header(void *ctx, const hs_run_info *run, hs_error *err) {
    (void)ctx, (void)err;
    const hs_train_config cfg = *run->cfg;
    const hs_dataset train = *run->train, test = *run->test;
    printf("run %s: %lld training / %lld test samples of %d dims, %d classes", run->id, train.n, test.n, train.dim,
           train.classes);
    hs_data_shape sh;
    hs_error shape_err = {0};
    if (hs_data_shape_of(&cfg.data, &sh, &shape_err) == HS_OK && sh.p_max > 0)
        printf(" (%s: %d positions, P_max = %.6g distinct inputs)", cfg.data.kind, train.width, sh.p_max);
    char net[128];
    cfg.arch->describe(&cfg, net, sizeof net);
    printf("; %s\n", net);
    fflush(stdout);
    return HS_OK;
}

typedef struct train_sink {
    const train_args *a;
    hs_run_file file;
} train_sink;

/* The store hook of `hsweep train`: the run's own file, then the summary lines; a run that did
 * not finish is an error once its records are stored. */
static hs_code store_and_print(void *ctx, const hs_run_info *run, const hs_run_outcome *outcome, hs_error *err) {
    train_sink *t = ctx;
    const train_args *a = t->a;
    const hs_train_result *res = &outcome->res;
    HS_TRY(err, hs_run_file_store(&t->file, run, outcome, err));
    /* the final separation fuzziness per layer, and the equi-separation fit */
    if (!a->quiet && res->n_records) {
        const double *D = res->layers + (res->n_records - 1) * HS_LAYER_FIELDS * res->n_layers; /* field 0 */
        if (!isnan(D[0])) {
            double x[4096], y[4096];
            size_t n = 0, bad = 0;
            printf("separation fuzziness D by layer:");
            for (size_t l = 0; l < res->n_layers && l < 4096; l++, n++) {
                printf(" %.4g", D[l]);
                x[l] = (double)l, y[l] = log(D[l]);
                bad |= !(D[l] > 0) || !isfinite(D[l]);
            }
            hs_line_fit fit;
            hs_error ferr = {0};
            if (!bad && hs_fit_line(x, y, n, &fit, &ferr) == HS_OK)
                printf("\n  fit ln D = %.4f %+.4f l: decay ratio rho = %.4f, Pearson r = %.4f\n", fit.intercept,
                       fit.slope, exp(fit.slope), fit.r);
            else
                printf("\n  (no fit: a zero or non-finite D)\n");
        }
    }
    if (!a->quiet)
        printf("%s after %lld epochs (%lld steps, %.1f s)%s%s; records in %s\n", hs_run_status_to_string(res->status),
               res->epochs_done, res->steps, res->seconds, res->message[0] ? ": " : "", res->message, t->file.path);
    if (res->status != HS_RUN_DONE)
        return HS_FAIL(err, HS_ERR_VALUE, "run %s %s: %s", run->id, hs_run_status_to_string(res->status), res->message);
    return HS_OK;
}

static hs_code train_one(const train_args *a, hs_error *err) {
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    hs_code rc = hs_spec_load(a->spec, &spec, err);
    hs_plan_opts opts = {0};
    size_t r = 0;
    /* --run names a run of the spec as written. A run of the first expansion without --set is
     * trained from it; any other (a later stage's, or one --set changes, and so its id, whatever
     * level of the spec set the key) is rebuilt as a one-run spec from its canonical config. */
    hs_str canon = {0};
    if (rc == HS_OK && !a->run) { /* the spec's single run, changed by --set */
        for (int i = 0; i < a->n_sets && rc == HS_OK; i++) rc = hs_spec_override(spec, a->sets[i], err);
        if (rc == HS_OK) rc = hs_plan_expand(spec, &opts, &plan, err);
        if (rc == HS_OK) rc = pick_run(plan, NULL, a->spec, &r, err);
    } else if (rc == HS_OK) {
        rc = hs_plan_expand(spec, &opts, &plan, err);
        if (rc == HS_OK) rc = pick_run(plan, a->run, a->spec, &r, err);
        if (rc == HS_OK && a->n_sets) rc = hs_plan_canonical(plan, r, &canon);
        else if (rc == HS_ERR_VALUE) rc = find_later_run(spec, a, &canon, err);
    }
    if (rc == HS_OK && canon.len) {
        hs_spec *single = NULL;
        rc = one_run_spec(canon.buf, spec->name ? spec->name : "run", a->spec, &single, err);
        if (rc == HS_OK) hs_spec_free(spec), spec = single;
        for (int i = 0; i < a->n_sets && rc == HS_OK; i++) rc = hs_spec_override(spec, a->sets[i], err);
        hs_plan_free(plan), plan = NULL;
        if (rc == HS_OK) rc = hs_plan_expand(spec, &opts, &plan, err);
        r = 0;
        /* without --set the rebuilt run is the run asked for: the same config, the same id */
        char id[17] = "";
        if (rc == HS_OK) snprintf(id, sizeof id, "%016llx", (unsigned long long)plan->runs[0].id);
        if (rc == HS_OK && !a->n_sets && strncasecmp(id, a->run, strlen(a->run)))
            rc = HS_FAIL(err, HS_ERR_INTERNAL, "--run %s: its config rebuilt as one run has id %s", a->run, id);
    }
    hs_str_free(&canon);
    if (rc == HS_OK) {
        char path[64];
        const char *out = a->out;
        if (!out) snprintf(path, sizeof path, "run-%016llx.h5", (unsigned long long)plan->runs[r].id), out = path;
        train_sink sink = {.a = a, .file = {.path = out, .spec_path = a->spec, .version = HSWEEP_VERSION_STRING}};
        hs_run_opts ro = {.plan = plan, .r = r,
                          .hooks = {.ctx = &sink, .on_ready = a->quiet ? NULL : print_header,
                                    .on_record = a->quiet ? NULL : print_record, .store = store_and_print}};
        rc = hs_run_one(&ro, err);
    }
    hs_plan_free(plan);
    hs_spec_free(spec);
    return rc;
}

int cmd_train(const cli_command *cmd, int argc, char **argv) {
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    if (!sets) return EXIT_FAIL;
    train_args a = {.sets = sets};
    int rc = parse_train_args(cmd, argc, argv, &a);
    if (rc < 0) {
        rc = EXIT_OK;
        hs_error err = {0};
        if (train_one(&a, &err) != HS_OK) {
            cli_print_error(&err, 0, 1);
            rc = err.code == HS_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL;
        }
    }
    free(sets);
    return rc;
}
