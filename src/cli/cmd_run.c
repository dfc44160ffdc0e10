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
    "(mpirun -np N hsweep run ...). A spec with stages runs them in order into the same file: a\n"
    "stage that selects or searches is planned from what the earlier runs measured.\n"
    "\n"
    "options:\n"
    "  -o FILE                  results file (default results.h5); FILE.log is its text log\n"
    "  --resume                 continue FILE (or start it when missing): runs are matched by id, finished\n"
    "                           ones kept, interrupted ones continued from their checkpoint, new ones appended\n"
    "  --retry-failed           with --resume: run failed runs again\n"
    "  --overwrite              FILE exists: move it aside (FILE.replaced-<time>, never deleted) and start anew\n"
    "  --max-failures N         stop handing out work after N failed runs\n"
    "  --set key=value          override a base key, or keep the runs with that value of an axis key\n"
    "                           (repeatable; as for plan; --resume without it adds the other runs)\n"
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

/* Rank 0 reads the results of the stages before `stage` (the runs of prev) and every rank picks
 * the select's winners from the same table, so all plan the same runs. Collective. */
static int pick_stage(const hs_spec *spec, size_t stage, const hs_plan *prev, const char *out, hs_picks *pk) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const hs_select *sel = spec->blocks[stage].select;
    double *metric = malloc((prev->n_runs + 1) * sizeof *metric);
    hs_error err = {0};
    hs_code code = metric ? HS_OK : HS_FAIL(&err, HS_ERR_NOMEM, "out of memory");
    if (rank == 0 && code == HS_OK) {
        hs_results_reader *rd = NULL;
        code = hs_reader_open(MPI_COMM_SELF, out, &rd, &err);
        if (code == HS_OK) code = cli_stage_metric(prev, sel, rd, metric, &err);
        hs_reader_close(rd);
    }
    if (cli_first_failure(code, &err, 0)) {
        free(metric);
        return EXIT_FAIL;
    }
    MPI_Bcast(metric, (int)prev->n_runs, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    code = hs_select_pick(prev, sel, metric, pk, &err);
    free(metric);
    if (cli_first_failure(code, &err, 0)) return EXIT_FAIL;
    if (rank == 0) {
        hs_str lines = {0};
        cli_describe_picks(spec, stage, pk, &lines);
        if (lines.buf) fputs(lines.buf, stdout);
        fflush(stdout);
        hs_str_free(&lines);
    }
    return EXIT_OK;
}

/* Non-zero (on every rank) when every run of plan is finished in the file at out: the stage
 * needs no job of its own, and running it would mark the later stages' rows as orphans. */
static int stage_finished(const hs_plan *plan, const char *out, int retry_failed) {
    int rank = 0, all = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        hs_error err = {0};
        hs_results_reader *rd = NULL;
        if (hs_reader_open(MPI_COMM_SELF, out, &rd, &err) == HS_OK) {
            size_t seen = 0;
            int open_run = 0;
            for (size_t i = 0; i < hs_reader_n_runs(rd); i++) {
                if (hs_plan_find(plan, strtoull(hs_reader_id(rd, i), NULL, 16)) < 0) continue;
                seen++;
                hs_run_state st = hs_reader_state(rd, i);
                open_run |= st == HS_STATE_PENDING || st == HS_STATE_RUNNING || (st == HS_STATE_FAILED && retry_failed);
            }
            all = seen == plan->n_runs && !open_run;
        }
        hs_reader_close(rd);
    }
    MPI_Bcast(&all, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return all;
}

/* Rank 0 reads every run of plan from the file (metric m, resolved), every rank gets the same
 * arrays. Collective; EXIT_OK or EXIT_FAIL. */
static int share_values(const hs_plan *plan, const char *out, hs_metric m, double *metric, unsigned char *resolved) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    hs_error err = {0};
    hs_code code = HS_OK;
    if (rank == 0) {
        hs_results_reader *rd = NULL;
        code = hs_reader_open(MPI_COMM_SELF, out, &rd, &err);
        if (code == HS_OK) code = cli_run_values(plan, rd, m, metric, resolved, &err);
        hs_reader_close(rd);
    }
    if (cli_first_failure(code, &err, 0)) return EXIT_FAIL;
    MPI_Bcast(metric, (int)plan->n_runs, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    MPI_Bcast(resolved, (int)plan->n_runs, MPI_UNSIGNED_CHAR, 0, MPI_COMM_WORLD);
    return EXIT_OK;
}

/* The next round of stage k's search from the file: 1 when a group proposed new points (the
 * plan must grow), 0 when every group is over, -1 on failure. Collective. */
static int search_step(const hs_spec *spec, size_t k, const hs_plan *plan, const char *out, hs_search_state *st) {
    size_t before = 0, after = 0;
    for (size_t g = 0; g < st->n; g++) before += st->groups[g].n_x;
    double *metric = malloc((plan->n_runs + 1) * sizeof *metric);
    unsigned char *resolved = malloc(plan->n_runs + 1);
    int rc = metric && resolved ? share_values(plan, out, spec->blocks[k].search->metric, metric, resolved) : EXIT_FAIL;
    hs_error err = {0};
    if (rc == EXIT_OK && cli_first_failure(cli_search_replay(spec, k, plan, metric, resolved, st, &err), &err, 0))
        rc = EXIT_FAIL;
    free(metric), free(resolved);
    if (rc != EXIT_OK) return -1;
    for (size_t g = 0; g < st->n; g++) after += st->groups[g].n_x;
    return after != before;
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
    hs_picks *picks = NULL;
    const hs_picks **pick_of = NULL;
    hs_search_state *searches = NULL;
    const hs_search_state **search_of = NULL;
    hs_str overrides = {0};
    hs_code code = cli_build_plan(a.spec, a.sets, a.n_sets, 0, &spec, &plan, &err);
    if ((rc = cli_plan_agree(code, &err, plan, a.spec)) != EXIT_OK) goto done;
    if ((rc = cli_preflight_agree(plan)) != EXIT_OK || (rc = cli_memory_agree(plan)) != EXIT_OK) goto done;
    for (int i = 0; i < a.n_sets; i++) hs_str_printf(&overrides, "%s%s", i ? "\n" : "", a.sets[i]);
    /* Stages run one after the other into the same file: stage k's plan is stages 0 .. k (and a
     * search's plan grows round by round), so each step resumes the file the earlier ones wrote
     * and every finished run is kept by id. A step whose runs are all finished is not run. */
    const size_t n_stages = spec->n_stages ? spec->n_stages : 1;
    picks = calloc(n_stages, sizeof *picks);
    pick_of = calloc(n_stages, sizeof *pick_of);
    searches = calloc(n_stages, sizeof *searches);
    search_of = calloc(n_stages, sizeof *search_of);
    if (!picks || !pick_of || !searches || !search_of) {
        rc = EXIT_FAIL;
        goto done;
    }
    hs_sweep_summary sum = {0};
    size_t ran = 0, unplannable = 0;
    double wall = 0;
    int written = a.resume, fresh = 0; /* the file may exist; sum describes the current plan */
    for (size_t k = 0; k < n_stages; k++) {
        const hs_block *b = &spec->blocks[k];
        if (k > 0 && b->select) {
            if ((rc = pick_stage(spec, k, plan, a.out, &picks[k])) != EXIT_OK) goto done;
            pick_of[k] = &picks[k];
        }
        if (b->search) {
            code = hs_search_groups(spec, k, &searches[k], &err);
            if (code == HS_OK) code = cli_search_replay(spec, k, plan, NULL, NULL, &searches[k], &err);
            if (cli_first_failure(code, &err, 0)) {
                rc = EXIT_FAIL;
                goto done;
            }
            search_of[k] = &searches[k];
        }
        for (int round = 0;; round++) {
            if (k > 0 || round > 0) {
                hs_plan *next = NULL;
                hs_plan_opts po = {.stage = k, .picks = pick_of, .searches = search_of};
                code = hs_plan_expand(spec, &po, &next, &err);
                if ((rc = cli_plan_agree(code, &err, next, a.spec)) != EXIT_OK) {
                    hs_plan_free(next);
                    goto done;
                }
                hs_plan_free(plan);
                plan = next, fresh = 0;
                if ((rc = cli_preflight_agree(plan)) != EXIT_OK || (rc = cli_memory_agree(plan)) != EXIT_OK)
                    goto done;
                unplannable = plan->n_unplannable;
            }
            if (!((n_stages > 1 || b->search) && written && stage_finished(plan, a.out, a.retry_failed))) {
                if (rank == 0 && (n_stages > 1 || b->search)) {
                    size_t own = 0;
                    for (size_t r = 0; r < plan->n_runs; r++) own += spec->blocks[plan->runs[r].block].stage == k;
                    if (b->search) printf("stage '%s' round %d: %zu runs (%zu with the earlier stages)\n", b->name, round + 1, own, plan->n_runs);
                    else printf("stage '%s': %zu runs (%zu with the earlier stages)\n", b->name, own, plan->n_runs);
                    fflush(stdout);
                }
                hs_sweep_opts so = {.spec = spec, .plan = plan, .out_path = a.out, .resume = written,
                                    .retry_failed = a.retry_failed, .overwrite = !written && a.overwrite,
                                    .max_failures = a.max_failures, .progress_every = a.progress, .quiet = a.quiet,
                                    .overrides = overrides.buf};
                code = hs_sweep_run(MPI_COMM_WORLD, &so, &sum, &err);
                if (code != HS_OK) {
                    if (rank == 0) cli_print_error(&err, rank, 1);
                    rc = EXIT_FAIL;
                    goto done;
                }
                written = 1, fresh = 1;
                ran += sum.ran, wall += sum.wall;
                if (sum.interrupted || sum.pending || sum.stopped_on_failures) goto report;
            } else if (rank == 0 && !b->search) {
                printf("stage '%s': finished in %s\n", b->name, a.out);
            }
            if (!b->search) break;
            int grew = search_step(spec, k, plan, a.out, &searches[k]);
            if (grew < 0) {
                rc = EXIT_FAIL;
                goto done;
            }
            if (!grew) break;
        }
        if (b->search) {
            hs_code wc = HS_OK;
            if (rank == 0) {
                hs_str lines = {0};
                cli_describe_search(spec, k, &searches[k], &lines);
                if (lines.buf) fputs(lines.buf, stdout);
                fflush(stdout);
                hs_str_free(&lines);
                wc = cli_search_store(a.out, spec, k, &searches[k], &err);
            }
            if (cli_first_failure(wc, &err, 0)) {
                rc = EXIT_FAIL;
                goto done;
            }
        }
    }
    if (!fresh) { /* every step was finished already: the totals of the file as it is */
        hs_sweep_opts so = {.spec = spec, .plan = plan, .out_path = a.out, .resume = 1, .retry_failed = a.retry_failed,
                            .progress_every = a.progress, .quiet = a.quiet, .overrides = overrides.buf};
        code = hs_sweep_run(MPI_COMM_WORLD, &so, &sum, &err);
        if (code != HS_OK) {
            if (rank == 0) cli_print_error(&err, rank, 1);
            rc = EXIT_FAIL;
            goto done;
        }
        ran += sum.ran, wall += sum.wall;
    }
report:
    if (rank == 0) {
        printf("%s: %zu runs: %zu done, %zu diverged, %zu failed, %zu pending; this job finished %zu in %.1f s on %d "
               "rank%s (workers waited at most %.2f ms for work)\n",
               a.out, sum.total, sum.done, sum.diverged, sum.failed, sum.pending, ran, wall, nranks,
               nranks == 1 ? "" : "s", 1e3 * sum.idle_max);
        hs_str qspec = {0}, qout = {0}; /* pasted back into a shell as shown */
        hs_str_shell(&qspec, a.spec), hs_str_shell(&qout, a.out);
        if (sum.failed && !sum.interrupted)
            printf("%zu failed runs: `hsweep status %s` lists them; --resume --retry-failed runs them again\n",
                   sum.failed, qout.buf ? qout.buf : a.out);
        if (unplannable) printf("%zu runs of the last stage are not plannable: their groups have no winner\n", unplannable);
        if (sum.interrupted)
            printf("interrupted by a signal: %zu runs pending; continue with: hsweep run %s -o %s --resume\n",
                   sum.pending, qspec.buf ? qspec.buf : a.spec, qout.buf ? qout.buf : a.out);
        hs_str_free(&qspec), hs_str_free(&qout);
        if (sum.stopped_on_failures) printf("stopped after %zu failed runs (--max-failures)\n", sum.failed);
        fflush(stdout);
    }
    rc = sum.interrupted ? HS_EXIT_REQUEUE
         : sum.pending   ? EXIT_FAIL
         : sum.failed || unplannable ? EXIT_FAILED_RUNS
                                     : EXIT_OK;
done:
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    for (size_t k = 0; picks && k < (spec->n_stages ? spec->n_stages : 1); k++) hs_picks_free(&picks[k]);
    for (size_t k = 0; searches && k < (spec->n_stages ? spec->n_stages : 1); k++) hs_search_state_free(&searches[k]);
    free(picks), free(pick_of), free(searches), free(search_of);
    hs_str_free(&overrides);
    hs_plan_free(plan);
    hs_spec_free(spec);
    free(sets);
    return rc;
}
