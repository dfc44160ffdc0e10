/* cmd_train.c - hsweep train: one run of a spec in this process, to debug a config before a
 * sweep. The training itself is run/'s, the same function every rank of a sweep calls; this file
 * picks the run, prints its progress and stores it in the run's own file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    size_t r = 0;
    hs_code rc = cli_plan_one_run(a->spec, a->run, a->results, a->sets, a->n_sets, &spec, &plan, &r, err);
    if (rc == HS_OK) {
        const char *what = NULL;
        const double limit = hs_memory_limit(&what);
        rc = hs_train_memory_plan(plan, (long)r, 1, limit, what, NULL, err);
    }
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
