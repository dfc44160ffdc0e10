/* cmd_data.c - hsweep data: the exact training and test sets of one run, exported to HDF5 for
 * inspection outside hsweep. The sets are those run/ hands the training (hs_run_data_load: the
 * data kind's subset, resizing, whitening, generation), so what is exported is what was trained. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hsweep/run.h"
#include "hsweep/store.h"
#include "hsweep/train.h"

const char cmd_data_usage[] =
    "usage: hsweep data SPEC.yaml [--run ID [--results FILE]] [-o FILE]\n"
    "\n"
    "Build one run's training and test sets as its training does (subset, resizing, whitening,\n"
    "generation: whatever its data kind does) and write them to HDF5: /train/x, /train/y,\n"
    "/test/x, /test/y (and /train/t, /test/t for real-valued targets), with the run's id and\n"
    "canonical config as attributes. Images keep their shape [n x C x H x W]. A FILE ending in\n"
    "\".npz\" is numpy's archive instead: train_x, train_y, test_x, test_y (train_t, test_t) and\n"
    "each attribute as a 0-d string array (np.load(FILE)[\"run_id\"][()]).\n"
    "\n"
    "options:\n"
    "  --run ID                 the run (an id from `hsweep plan`, or a unique prefix); optional\n"
    "                           when the spec has a single run. A run of a later stage: as for\n"
    "                           `hsweep train --run` (from the spec, else from the results file)\n"
    "  --results FILE           the sweep's results file, where runs planned from earlier stages'\n"
    "                           results (a select's, a search's later rounds) are found by id\n"
    "  -o FILE                  output file, .h5 or .npz (default data-<id>.h5)\n"
    "  -h, --help               this text\n";

static hs_store_set set_of(const hs_dataset *d) {
    return (hs_store_set){.x = d->x, .y = d->y, .t = d->t, .n = d->n, .dim = d->dim, .t_dim = d->t_dim,
                          .channels = d->channels, .height = d->height, .width = d->width};
}

static hs_code export(const char *spec_path, const char *run, const char *results, const char *out, hs_error *err) {
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    hs_train_config cfg = {0};
    hs_run_data data = {0};
    hs_str canon = {0};
    size_t r = 0;
    hs_code rc = cli_plan_one_run(spec_path, run, results, NULL, 0, &spec, &plan, &r, err);
    if (rc == HS_OK) rc = hs_train_config_from_plan(plan, r, &cfg, err);
    if (rc == HS_OK) rc = hs_run_data_load(&data, plan, r, &cfg.data, err);
    if (rc == HS_OK && hs_plan_canonical(plan, r, &canon) != HS_OK) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    if (rc == HS_OK) {
        char id[17], path[64], classes[16];
        snprintf(id, sizeof id, "%016llx", (unsigned long long)plan->runs[r].id);
        snprintf(path, sizeof path, "data-%s.h5", id);
        snprintf(classes, sizeof classes, "%d", data.train.classes);
        if (!out) out = path;
        hs_store_attr attrs[] = {{"hsweep_version", HSWEEP_VERSION_STRING}, {"run_id", id}, {"config", canon.buf},
                                 {"spec", spec_path}, {"data_kind", cfg.data.kind}, {"classes", classes}};
        hs_store_set train = set_of(&data.train), test = set_of(&data.test);
        rc = hs_store_write_data(out, attrs, sizeof attrs / sizeof attrs[0], &train, &test, err);
        if (rc == HS_OK)
            printf("run %s: %lld training / %lld test samples of %d dims, %d classes (%s) in %s\n", id, data.train.n,
                   data.test.n, data.train.dim, data.train.classes, cfg.data.kind, out);
    }
    hs_str_free(&canon);
    hs_run_data_free(&data);
    hs_train_config_free(&cfg);
    hs_plan_free(plan);
    hs_spec_free(spec);
    return rc;
}

int cmd_data(const cli_command *cmd, int argc, char **argv) {
    static const struct option opts[] = {{"run", required_argument, NULL, 'r'},
                                         {"results", required_argument, NULL, 'R'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *spec = NULL, *run = NULL, *out = NULL, *results = NULL;
    for (int c; (c = cli_next_option(cmd, argc, argv, "ho:", opts)) != -1;) {
        switch (c) {
        case 'r': run = optarg; break;
        case 'R': results = optarg; break;
        case 'o': out = optarg; break;
        case 'h': return cli_help(cmd);
        case CLI_ARG:
            if (cli_take_spec(cmd, optarg, &spec) != EXIT_OK) return EXIT_USAGE;
            break;
        default: return EXIT_USAGE;
        }
    }
    if (!spec) return cli_missing_spec(cmd);
    hs_error err = {0};
    if (export(spec, run, results, out, &err) != HS_OK) {
        cli_print_error(&err, 0, 1);
        return err.code == HS_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL;
    }
    return EXIT_OK;
}
