/* cmd_run.c - hsweep run: every training of a sweep across the MPI ranks into one results file.
 * The ranks agree on the plan and its preflight before anything is created; src/sched does the
 * rest, and this file turns its summary into lines and an exit code a batch script acts on. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const char cmd_run_usage[] =
    "usage: hsweep run SPEC.yaml [-o results.h5] [--resume [--retry-failed] | --overwrite]\n"
    "                  [--max-failures N] [--set key=value ...] [--progress S] [--quiet]\n"
    "\n"
    "Run every training of the sweep across the MPI ranks into one HDF5 file\n"
    "(mpirun -np N hsweep run ...).\n"
    "\n"
    "options:\n"
    "  -o FILE                  results file (default results.h5); FILE.log is its text log\n"
    "  --resume                 continue FILE (or start it when missing): runs are matched by id, finished\n"
    "                           ones kept, interrupted ones continued from their checkpoint, new ones appended\n"
    "  --retry-failed           with --resume: run failed runs again\n"
    "  --overwrite              FILE exists: move it aside (FILE.replaced-<time>, never deleted) and start anew\n"
    "  --max-failures N         stop handing out work after N failed runs\n"
    "  --set key=value          override a base key (repeatable; as for plan)\n"
    "  --progress SECONDS       progress line interval on rank 0 (default 5; 0 = default, -1 = none)\n"
    "  --quiet                  no per-run lines\n"
    "  -h, --help               this text\n"
    "\n"
    "exit codes: 0 all runs finished (done or diverged), 1 error, 2 usage, 3 interrupted by\n"
    "            SIGINT/SIGTERM/SIGUSR1 (requeue the job and run again with --resume), 4 finished with\n"
    "            failed runs\n";

typedef struct run_args {
    const char *spec, *out;
    const char **sets;
    int n_sets, resume, retry_failed, overwrite, quiet;
    long max_failures;
    double progress;
} run_args;

/* -1 to go on, else the exit code (0 after --help). */
static int parse_run_args(const cli_command *cmd, int argc, char **argv, run_args *a) {
    enum { OPT_RESUME = 256, OPT_RETRY_FAILED, OPT_OVERWRITE, OPT_MAX_FAILURES, OPT_PROGRESS, OPT_QUIET, OPT_SET };
    static const struct option opts[] = {{"set", required_argument, NULL, OPT_SET},
                                         {"resume", no_argument, NULL, OPT_RESUME},
                                         {"retry-failed", no_argument, NULL, OPT_RETRY_FAILED},
                                         {"overwrite", no_argument, NULL, OPT_OVERWRITE},
                                         {"quiet", no_argument, NULL, OPT_QUIET},
                                         {"max-failures", required_argument, NULL, OPT_MAX_FAILURES},
                                         {"progress", required_argument, NULL, OPT_PROGRESS},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    for (int c; (c = cli_next_option(cmd, argc, argv, "ho:", opts)) != -1;) {
        char *end;
        switch (c) {
        case 'o': a->out = optarg; break;
        case OPT_SET: a->sets[a->n_sets++] = optarg; break;
        case OPT_RESUME: a->resume = 1; break;
        case OPT_RETRY_FAILED: a->retry_failed = 1; break;
        case OPT_OVERWRITE: a->overwrite = 1; break;
        case OPT_QUIET: a->quiet = 1; break;
        case OPT_MAX_FAILURES:
            a->max_failures = strtol(optarg, &end, 10);
            if (*end || a->max_failures < 1) {
                fprintf(stderr, "hsweep run: --max-failures needs a positive integer, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_PROGRESS:
            a->progress = strtod(optarg, &end);
            if (*end) {
                fprintf(stderr, "hsweep run: --progress needs a number of seconds, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h': return cli_help(cmd);
        case CLI_ARG:
            if (cli_take_spec(cmd, optarg, &a->spec) != EXIT_OK) return EXIT_USAGE;
            break;
        default: return EXIT_USAGE;
        }
    }
    if (!a->spec) return cli_missing_spec(cmd);
    if (a->retry_failed && !a->resume) {
        fprintf(stderr, "hsweep run: --retry-failed only makes sense with --resume\n");
        return EXIT_USAGE;
    }
    if (a->overwrite && a->resume) {
        fprintf(stderr, "hsweep run: --overwrite and --resume exclude each other\n");
        return EXIT_USAGE;
    }
    if (!a->out) a->out = "results.h5";
    return -1;
}

int cmd_run(const cli_command *cmd, int argc, char **argv) {
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    if (!sets) return EXIT_FAIL;
    run_args a = {.sets = sets};
    int rc = parse_run_args(cmd, argc, argv, &a);
    if (rc >= 0) {
        free(sets);
        return rc;
    }
    int rank = 0, nranks = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    hs_error err = {0};
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    hs_code code = cli_build_plan(a.spec, a.sets, a.n_sets, 0, &spec, &plan, &err);
    if ((rc = cli_plan_agree(code, &err, plan, a.spec)) != EXIT_OK) goto done;
    if ((rc = cli_preflight_agree(plan)) != EXIT_OK) goto done;
    hs_str overrides = {0};
    for (int i = 0; i < a.n_sets; i++) hs_str_printf(&overrides, "%s%s", i ? "\n" : "", a.sets[i]);
    hs_sweep_opts so = {.spec = spec, .plan = plan, .out_path = a.out, .resume = a.resume,
                        .retry_failed = a.retry_failed, .overwrite = a.overwrite, .max_failures = a.max_failures,
                        .progress_every = a.progress, .quiet = a.quiet, .overrides = overrides.buf};
    hs_sweep_summary sum;
    code = hs_sweep_run(MPI_COMM_WORLD, &so, &sum, &err);
    hs_str_free(&overrides);
    if (code != HS_OK) {
        if (rank == 0) cli_print_error(&err, rank, 1);
        rc = EXIT_FAIL;
        goto done;
    }
    if (rank == 0) {
        printf("%s: %zu runs: %zu done, %zu diverged, %zu failed, %zu pending; this job finished %zu in %.1f s on %d "
               "rank%s (workers waited at most %.2f ms for work)\n",
               a.out, sum.total, sum.done, sum.diverged, sum.failed, sum.pending, sum.ran, sum.wall, nranks,
               nranks == 1 ? "" : "s", 1e3 * sum.idle_max);
        if (sum.failed && !sum.interrupted)
            printf("%zu failed runs: `hsweep status %s` lists them; --resume --retry-failed runs them again\n",
                   sum.failed, a.out);
        if (sum.interrupted)
            printf("interrupted by a signal: %zu runs pending; continue with: hsweep run %s -o %s --resume\n",
                   sum.pending, a.spec, a.out);
        if (sum.stopped_on_failures) printf("stopped after %zu failed runs (--max-failures)\n", sum.failed);
        fflush(stdout);
    }
    rc = sum.interrupted ? HS_EXIT_REQUEUE : sum.pending ? EXIT_FAIL : sum.failed ? EXIT_FAILED_RUNS : EXIT_OK;
done:
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    hs_plan_free(plan);
    hs_spec_free(spec);
    free(sets);
    return rc;
}
