/* main.c - the hsweep command line: the only place that decides exit codes.
 *
 *   hsweep plan SPEC.yaml [--format text|tsv|json] [--set key=value ...] [--max-runs N]
 *   hsweep train SPEC.yaml [--run ID] [--set key=value ...] [-o FILE] [--quiet]
 *   hsweep run SPEC.yaml -o FILE [--resume [--retry-failed] | --overwrite] [--max-failures N] ...
 *   hsweep status FILE
 *   hsweep analyze FILE [--prefix P] [--obey-r R]
 *   hsweep keys [--format text|markdown|tsv]
 *   hsweep version
 *
 * Under mpirun every rank expands the plan and the ranks compare plan digests, so a node that
 * sees a different spec file (or a different build) is caught before any work is handed out. */
#include <cblas.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hsweep/analysis.h"
#include "hsweep/lock.h"
#include "hsweep/metrics.h"
#include "hsweep/models.h"
#include "hsweep/plan.h"
#include "hsweep/run.h"
#include "hsweep/sched.h"
#include "hsweep/schema.h"
#include "hsweep/spec.h"
#include "hsweep/store.h"
#include "hsweep/train.h"

#define HSWEEP_VERSION HSWEEP_VERSION_STRING

/* Exit codes, the same for `run` and `status` so that batch scripts decide from either:
 * 3 work left (requeue), 4 finished but some runs failed (no requeue; analyse the rest),
 * 5 stalled (work left, but the last two jobs made no progress: do not requeue),
 * 6 a live writer holds the file (status only). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_FAILED_RUNS = 4, EXIT_STALLED = 5, EXIT_LIVE = 6 };

static const char usage[] =
    "usage: hsweep <command> [options]\n"
    "\n"
    "commands:\n"
    "  plan SPEC.yaml    expand a sweep spec, check every run before any compute (data files, sizes,\n"
    "                    config), list the runs and estimate the results file (dry run)\n"
    "      --format text|tsv|json   output form (default text)\n"
    "      --set key=value          override a base key (repeatable), e.g. --set train.epochs=5; an error\n"
    "                               when an axis, a block's base or a set rule gives the key\n"
    "      --max-runs N             refuse plans larger than N runs (default 1000000)\n"
    "  run SPEC.yaml     run every training of the sweep across the MPI ranks into one HDF5 file\n"
    "      -o FILE                  results file (default results.h5); FILE.log is its text log\n"
    "      --resume                 continue FILE (or start it when missing): runs are matched by id, finished\n"
    "                               ones kept, interrupted ones continued from their checkpoint, new ones appended\n"
    "      --retry-failed           with --resume: run failed runs again\n"
    "      --overwrite              FILE exists: move it aside (FILE.replaced-<time>, never deleted) and start anew\n"
    "      --max-failures N         stop handing out work after N failed runs\n"
    "      --set key=value          override a base key (repeatable; as for plan)\n"
    "      --progress SECONDS       progress line interval on rank 0 (default 5; 0 = default, -1 = none)\n"
    "      --quiet                  no per-run lines\n"
    "    exit codes: 0 all runs finished (done or diverged), 1 error, 2 usage, 3 interrupted by\n"
    "                SIGINT/SIGTERM/SIGUSR1 (requeue the job and run again with --resume), 4 finished with\n"
    "                failed runs\n"
    "  analyze FILE      analyse a results file (also under mpirun), writing back into FILE and tables\n"
    "                    beside it: equi-separation (per-run fits of ln D_l on l, statistics over seeds;\n"
    "                    /analysis/equisep, .equisep.csv/.md) or, for rhm/srhm sweeps, sample complexity\n"
    "                    (best test error vs P, P* and its fits against theory; /analysis/srhm, .srhm.csv/.md)\n"
    "      --kind auto|equisep|srhm|dynamics which analysis (default auto: srhm for rhm/srhm runs, dynamics for issue-8 data or series)\n"
    "      --prefix P               write the tables to P.<kind>.csv / .md instead\n"
    "      --obey-r R               equisep: a run obeys the law when r <= R (default -0.99)\n"
    "      --threshold T            srhm: P* is where the test error crosses T (default 0.1)\n"
    "  status FILE       summarise a results file (safe while it is written): its writer, runs by state,\n"
    "                    running runs' progress and ETA, failed runs with their messages, what to do next\n"
    "    exit codes: 0 complete, 1 unreadable, 3 runs left to resume, 4 complete but some runs failed,\n"
    "                5 stalled (runs left, the last two jobs made no progress), 6 being written now\n"
    "  train SPEC.yaml   train one run of the spec in this process and write its records to HDF5\n"
    "      --run ID                 the run to train (an id from `hsweep plan`, or a unique prefix);\n"
    "                               optional when the spec has a single run\n"
    "      --set key=value          change the chosen run's config (repeatable), e.g. --set train.epochs=5\n"
    "      -o FILE                  output file (default run-<id>.h5)\n"
    "      --quiet                  no progress lines\n"
    "  keys              list every config key with type, default, range and meaning\n"
    "      --format text|markdown|tsv\n"
    "  version           print the version and schema version\n"
    "\n"
    "Run under MPI (mpirun -np N hsweep plan ...): every rank expands and the ranks check they agree.\n";

static void print_error(const hs_error *err, int rank, int nranks) {
    if (nranks > 1) fprintf(stderr, "hsweep: rank %d: error: %s\n", rank, err->msg);
    else fprintf(stderr, "hsweep: error: %s\n", err->msg);
    if (err->hint[0]) fprintf(stderr, "  hint: %s\n", err->hint);
    if (getenv("HSWEEP_TRACE")) fprintf(stderr, "  trace: %s\n", err->trace);
}

static int write_out(const hs_str *s) {
    if (s->len && fwrite(s->buf, 1, s->len, stdout) != s->len) {
        fprintf(stderr, "hsweep: error: cannot write the output\n");
        return EXIT_FAIL;
    }
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* ---------------------------------------------------------------- keys */

static int cmd_keys(int argc, char **argv) {
    hs_keys_format fmt = HS_KEYS_TEXT;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            const char *f = argv[++i];
            if (!strcmp(f, "text")) fmt = HS_KEYS_TEXT;
            else if (!strcmp(f, "markdown")) fmt = HS_KEYS_MARKDOWN;
            else if (!strcmp(f, "tsv")) fmt = HS_KEYS_TSV;
            else {
                fprintf(stderr, "hsweep keys: unknown format '%s' (text, markdown or tsv)\n", f);
                return EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "hsweep keys: unexpected argument '%s'\n%s", argv[i], usage);
            return EXIT_USAGE;
        }
    }
    hs_str out = {0};
    if (hs_schema_describe(fmt, &out) != HS_OK) {
        fprintf(stderr, "hsweep: error: out of memory\n");
        hs_str_free(&out);
        return EXIT_FAIL;
    }
    int rc = write_out(&out);
    hs_str_free(&out);
    return rc;
}

/* ---------------------------------------------------------------- plan */

/* Arguments of plan, run and train: an argument that is not an option is the spec file; one only. */
static int take_spec(const char *cmd, const char *arg, const char **spec) {
    if (arg[0] == '-' && arg[1]) {
        fprintf(stderr, "hsweep %s: unknown option '%s'\n%s", cmd, arg, usage);
        return EXIT_USAGE;
    }
    if (*spec) {
        fprintf(stderr, "hsweep %s: more than one spec file ('%s' and '%s')\n", cmd, *spec, arg);
        return EXIT_USAGE;
    }
    *spec = arg;
    return EXIT_OK;
}

static int missing_spec(const char *cmd) {
    fprintf(stderr, "hsweep %s: missing the spec file\n%s", cmd, usage);
    return EXIT_USAGE;
}

typedef struct plan_args {
    const char *spec;
    hs_plan_format fmt;
    size_t max_runs;
    const char **sets;
    int n_sets;
} plan_args;

static int parse_plan_args(int argc, char **argv, plan_args *a) {
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--format") && i + 1 < argc) {
            const char *f = argv[++i];
            if (!strcmp(f, "text")) a->fmt = HS_PLAN_TEXT;
            else if (!strcmp(f, "tsv")) a->fmt = HS_PLAN_TSV;
            else if (!strcmp(f, "json")) a->fmt = HS_PLAN_JSON;
            else {
                fprintf(stderr, "hsweep plan: unknown format '%s' (text, tsv or json)\n", f);
                return EXIT_USAGE;
            }
        } else if (!strcmp(o, "--set") && i + 1 < argc) {
            a->sets[a->n_sets++] = argv[++i];
        } else if (!strcmp(o, "--max-runs") && i + 1 < argc) {
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end || v == 0) {
                fprintf(stderr, "hsweep plan: --max-runs needs a positive integer, got '%s'\n", argv[i]);
                return EXIT_USAGE;
            }
            a->max_runs = (size_t)v;
        } else if (take_spec("plan", o, &a->spec) != EXIT_OK) {
            return EXIT_USAGE;
        }
    }
    if (!a->spec) return missing_spec("plan");
    return EXIT_OK;
}

static hs_code build_plan(const plan_args *a, hs_spec **spec, hs_plan **plan, hs_error *err) {
    HS_TRY(err, hs_spec_load(a->spec, spec, err));
    /* the spec's base, and nothing above it may silently win (train has its own --set) */
    for (int i = 0; i < a->n_sets; i++) HS_TRY(err, hs_spec_override_base(*spec, a->sets[i], err));
    hs_plan_opts opts = {.max_runs = a->max_runs};
    HS_TRY(err, hs_plan_expand(*spec, &opts, plan, err));
    return HS_OK;
}

/* Set once MPI_Init has run. `plan` started outside a launcher skips MPI: a singleton MPI_Init
 * costs Open MPI 0.3-0.4 s of start-up, 20 times the plan's own work on a ready sweep. */
static int have_mpi;

/* Non-zero when a launcher (mpirun, mpiexec, srun) started this process as an MPI rank. */
static int launched_by_mpi(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

/* Collective: non-zero on every rank when code failed on any; the first failing rank prints its
 * error, naming itself (always with name_rank, else only when it is not rank 0, which speaks for
 * the job). */
static int first_failure(hs_code code, const hs_error *err, int name_rank) {
    int rank = 0, nranks = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int my_fail = code != HS_OK ? rank : nranks, first_fail = nranks;
    MPI_Allreduce(&my_fail, &first_fail, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first_fail < nranks && rank == first_fail) print_error(err, rank, first_fail || name_rank ? nranks : 1);
    return first_fail < nranks;
}

/* Every rank built the plan; agree on the outcome before any other collective: the first failing
 * rank prints its error, and all ranks must hold the same plan (same digest), or none goes on. */
static int plan_agree(hs_code code, const hs_error *err, const hs_plan *plan, const char *spec_path) {
    if (!have_mpi) {
        if (code != HS_OK) print_error(err, 0, 1);
        return code != HS_OK ? EXIT_FAIL : EXIT_OK;
    }
    if (first_failure(code, err, 1)) return EXIT_FAIL;
    int rank = 0, nranks = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    unsigned char lo[32], hi[32];
    MPI_Allreduce(plan->digest, lo, 32, MPI_UNSIGNED_CHAR, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(plan->digest, hi, 32, MPI_UNSIGNED_CHAR, MPI_MAX, MPI_COMM_WORLD);
    if (memcmp(lo, hi, 32) != 0) {
        if (rank == 0)
            fprintf(stderr, "hsweep: error: the %d ranks expanded different plans from %s\n"
                            "  hint: every node must see the same spec file and run the same hsweep build\n",
                    nranks, spec_path);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* Every run of the agreed plan passes the preflight (its data, files and config checks) before any
 * compute. Each rank checks for itself, since ranks on other nodes may see other files; the
 * first failing rank prints its error and all ranks get the same answer. */
static int preflight_agree(const hs_plan *plan) {
    hs_error err = {0};
    hs_code code = hs_train_preflight_plan(plan, &err);
    if (!have_mpi) {
        if (code != HS_OK) print_error(&err, 0, 1);
        return code != HS_OK ? EXIT_FAIL : EXIT_OK;
    }
    return first_failure(code, &err, 0) ? EXIT_FAIL : EXIT_OK;
}

/* "12.3 MB" (decimal units, as ls -l --si and df -H). */
static void format_bytes(double b, char *buf, size_t len) {
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (b >= 999.5 && u < 5) b /= 1000, u++;
    snprintf(buf, len, u ? "%.3g %s" : "%.0f %s", b, units[u]);
}

/* One line after the plan: what the results file of `hsweep run` will weigh and what makes it. */
static hs_code describe_results_size(const hs_train_plan_layout *L, hs_str *out) {
    char total[32], rec[32], lay[32], tab[32];
    format_bytes(L->bytes_total, total, sizeof total);
    format_bytes(L->bytes_records, rec, sizeof rec);
    format_bytes(L->bytes_layers, lay, sizeof lay);
    format_bytes(L->bytes_table, tab, sizeof tab);
    hs_code rc = hs_str_printf(out, "results file: about %s (%zu run%s x %zu record point%s x %zu layer%s: records %s, "
                               "layers %s, run table %s", total, L->n_runs, L->n_runs == 1 ? "" : "s", L->n_records,
                               L->n_records == 1 ? "" : "s", L->n_layers, L->n_layers == 1 ? "" : "s", rec, lay, tab);
    /* largest series first: they are what a snapshot setting blows up */
    size_t order[HS_TRAIN_PLAN_MAX_SERIES];
    for (size_t i = 0; i < L->n_series; i++) {
        size_t j = i;
        for (; j > 0 && L->bytes_series[order[j - 1]] < L->bytes_series[i]; j--) order[j] = order[j - 1];
        order[j] = i;
    }
    for (size_t i = 0; i < L->n_series && rc == HS_OK; i++) {
        char b[32];
        format_bytes(L->bytes_series[order[i]], b, sizeof b);
        rc = hs_str_printf(out, "%s %s %s", i ? "," : "; series:", L->series[order[i]].name, b);
    }
    if (rc == HS_OK && L->skipped)
        rc = hs_str_printf(out, "; %zu run%s left out", L->skipped, L->skipped == 1 ? "" : "s");
    if (rc == HS_OK) rc = hs_str_printf(out, ")\n");
    return rc;
}

static int cmd_plan(int argc, char **argv) {
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    if (!sets) return EXIT_FAIL;
    plan_args a = {.fmt = HS_PLAN_TEXT, .sets = sets};
    int rc = parse_plan_args(argc, argv, &a);
    if (rc != EXIT_OK) {
        free(sets);
        return rc;
    }
    int rank = 0, nranks = 1;
    if (have_mpi) {
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    }

    hs_error err = {0};
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    hs_code code = build_plan(&a, &spec, &plan, &err);

    /* Agree on failure before anything else: every rank reaches the same collectives. */
    if ((rc = plan_agree(code, &err, plan, a.spec)) != EXIT_OK) goto done;
    if ((rc = preflight_agree(plan)) != EXIT_OK) goto done;
    if (rank == 0) {
        hs_str out = {0};
        hs_train_plan_layout lay;
        hs_code wrc = hs_plan_write(plan, a.fmt, &out);
        if (wrc == HS_OK && a.fmt != HS_PLAN_TSV) wrc = hs_train_plan_layout_of(plan, &lay, NULL, &err);
        if (wrc == HS_OK && a.fmt == HS_PLAN_TEXT) wrc = describe_results_size(&lay, &out);
        if (wrc == HS_OK && a.fmt == HS_PLAN_JSON && out.len >= 2 && !strcmp(out.buf + out.len - 2, "}\n")) {
            out.buf[out.len -= 2] = '\0'; /* one more field in the top-level object */
            wrc = hs_str_printf(&out, ", \"expected_bytes\": %.0f}\n", lay.bytes_total);
        }
        if (wrc != HS_OK) {
            if (err.msg[0]) print_error(&err, 0, 1);
            else fprintf(stderr, "hsweep: error: out of memory writing the plan\n");
            rc = EXIT_FAIL;
        } else {
            rc = write_out(&out);
        }
        if (rc == EXIT_OK && a.fmt == HS_PLAN_TEXT) {
            fprintf(stdout, "plan digest %02x%02x%02x%02x%02x%02x%02x%02x, identical on %d rank%s\n", plan->digest[0],
                    plan->digest[1], plan->digest[2], plan->digest[3], plan->digest[4], plan->digest[5],
                    plan->digest[6], plan->digest[7], nranks, nranks == 1 ? "" : "s");
        }
        hs_str_free(&out);
    }
done:
    if (have_mpi) MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    hs_plan_free(plan);
    hs_spec_free(spec);
    free(sets);
    return rc;
}

/* ---------------------------------------------------------------- run */

typedef struct run_args {
    const char *spec, *out;
    const char **sets;
    int n_sets, resume, retry_failed, overwrite, quiet;
    long max_failures;
    double progress;
} run_args;

static int parse_run_args(int argc, char **argv, run_args *a) {
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        char *end;
        if (!strcmp(o, "-o") && i + 1 < argc) a->out = argv[++i];
        else if (!strcmp(o, "--set") && i + 1 < argc) a->sets[a->n_sets++] = argv[++i];
        else if (!strcmp(o, "--resume")) a->resume = 1;
        else if (!strcmp(o, "--retry-failed")) a->retry_failed = 1;
        else if (!strcmp(o, "--overwrite")) a->overwrite = 1;
        else if (!strcmp(o, "--quiet")) a->quiet = 1;
        else if (!strcmp(o, "--max-failures") && i + 1 < argc) {
            a->max_failures = strtol(argv[++i], &end, 10);
            if (*end || a->max_failures < 1) {
                fprintf(stderr, "hsweep run: --max-failures needs a positive integer, got '%s'\n", argv[i]);
                return EXIT_USAGE;
            }
        } else if (!strcmp(o, "--progress") && i + 1 < argc) {
            a->progress = strtod(argv[++i], &end);
            if (*end) {
                fprintf(stderr, "hsweep run: --progress needs a number of seconds, got '%s'\n", argv[i]);
                return EXIT_USAGE;
            }
        } else if (take_spec("run", o, &a->spec) != EXIT_OK) {
            return EXIT_USAGE;
        }
    }
    if (!a->spec) return missing_spec("run");
    if (a->retry_failed && !a->resume) {
        fprintf(stderr, "hsweep run: --retry-failed only makes sense with --resume\n");
        return EXIT_USAGE;
    }
    if (a->overwrite && a->resume) {
        fprintf(stderr, "hsweep run: --overwrite and --resume exclude each other\n");
        return EXIT_USAGE;
    }
    if (!a->out) a->out = "results.h5";
    return EXIT_OK;
}

static int cmd_run(int argc, char **argv) {
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    if (!sets) return EXIT_FAIL;
    run_args a = {.sets = sets};
    int rc = parse_run_args(argc, argv, &a);
    if (rc != EXIT_OK) {
        free(sets);
        return rc;
    }
    int rank = 0, nranks = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    hs_error err = {0};
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    plan_args pa = {.spec = a.spec, .sets = a.sets, .n_sets = a.n_sets};
    hs_code code = build_plan(&pa, &spec, &plan, &err);
    if ((rc = plan_agree(code, &err, plan, a.spec)) != EXIT_OK) goto done;
    if ((rc = preflight_agree(plan)) != EXIT_OK) goto done;
    hs_str overrides = {0};
    for (int i = 0; i < a.n_sets; i++) hs_str_printf(&overrides, "%s%s", i ? "\n" : "", a.sets[i]);
    hs_sweep_opts so = {.spec = spec, .plan = plan, .out_path = a.out, .resume = a.resume,
                        .retry_failed = a.retry_failed, .overwrite = a.overwrite, .max_failures = a.max_failures,
                        .progress_every = a.progress, .quiet = a.quiet, .overrides = overrides.buf};
    hs_sweep_summary sum;
    code = hs_sweep_run(MPI_COMM_WORLD, &so, &sum, &err);
    hs_str_free(&overrides);
    if (code != HS_OK) {
        if (rank == 0) print_error(&err, rank, 1);
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

/* ---------------------------------------------------------------- analyze */

static int cmd_analyze(int argc, char **argv) {
    hs_analyze_opts o = {0};
    const char *kind = "auto";
    for (int i = 0; i < argc; i++) {
        char *end;
        if (!strcmp(argv[i], "--prefix") && i + 1 < argc) o.prefix = argv[++i];
        else if (!strcmp(argv[i], "--kind") && i + 1 < argc) {
            kind = argv[++i];
            if (strcmp(kind, "auto") && strcmp(kind, "equisep") && strcmp(kind, "srhm") && strcmp(kind, "dynamics")) {
                fprintf(stderr, "hsweep analyze: --kind must be auto, equisep, srhm or dynamics, got '%s'\n", kind);
                return EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--obey-r") && i + 1 < argc) {
            o.obey_r = strtod(argv[++i], &end);
            if (*end || !(o.obey_r >= -1 && o.obey_r < 0)) {
                fprintf(stderr, "hsweep analyze: --obey-r needs a number in [-1, 0), got '%s'\n", argv[i]);
                return EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--threshold") && i + 1 < argc) {
            o.threshold = strtod(argv[++i], &end);
            if (*end || !(o.threshold > 0 && o.threshold < 1)) {
                fprintf(stderr, "hsweep analyze: --threshold needs a test error in (0, 1), got '%s'\n", argv[i]);
                return EXIT_USAGE;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "hsweep analyze: unknown option '%s'\n%s", argv[i], usage);
            return EXIT_USAGE;
        } else if (!o.path) o.path = argv[i];
        else {
            fprintf(stderr, "hsweep analyze: more than one results file\n");
            return EXIT_USAGE;
        }
    }
    if (!o.path) {
        fprintf(stderr, "hsweep analyze: missing the results file\n%s", usage);
        return EXIT_USAGE;
    }
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    hs_error err = {0};
    hs_str table = {0};
    int rc = EXIT_OK;
    hs_analysis_kind k = HS_ANALYSIS_EQUISEP;
    /* The analysis writes into the results file, so it is a writer: it takes the file's lock
     * and is refused while a sweep writes the file (two writers corrupt HDF5 for good). A lock
     * left by a dead writer is taken over (the analysis reads finished runs only). */
    hs_lock *lock = NULL;
    hs_lock_info dead = {0};
    hs_code code = rank == 0 ? hs_lock_acquire(o.path, "analyze", 1, &lock, &dead, &err) : HS_OK;
    if (code == HS_OK && rank == 0 && dead.pid) {
        char who[512];
        hs_lock_describe(&dead, who, sizeof who);
        fprintf(stderr, "hsweep analyze: warning: %s: the writer is gone (%s); analysing the finished runs\n", o.path,
                who);
    }
    if (code != HS_OK && rank == 0)
        hs_error_hint(&err, "wait until the sweep has finished (the Slurm analysis job waits for it), or stop it "
                            "with SIGUSR1 (it drains and closes the file), then analyse; `hsweep status` is safe now");
    int lock_code = code;
    MPI_Bcast(&lock_code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (lock_code != HS_OK) {
        if (rank == 0) print_error(&err, 0, 1);
        return EXIT_FAIL;
    }
    if (!strcmp(kind, "srhm")) k = HS_ANALYSIS_SRHM;
    else if (!strcmp(kind, "dynamics")) k = HS_ANALYSIS_DYNAMICS;
    else if (!strcmp(kind, "auto")) code = hs_analyze_detect(MPI_COMM_WORLD, o.path, &k, &err);
    if (code == HS_OK && k == HS_ANALYSIS_DYNAMICS) {
        hs_analyze_dynamics_summary s;
        code = hs_analyze_dynamics(MPI_COMM_WORLD, &o, &s, &table, &err);
        if (code == HS_OK && rank == 0)
            printf("%s: learning dynamics of %zu runs (%zu analysed, %zu unfinished, %zu with an unreadable config): "
                   "%zu configurations; hierarchy %zu runs (%zu coarse first), rich/lazy %zu, deep linear %zu, "
                   "gated %zu\n",
                   o.path, s.runs, s.analysed, s.unfinished, s.bad_config, s.configs, s.hier_runs, s.hier_coarse_first,
                   s.richlazy_runs, s.dln_runs, s.gated_runs);
    } else if (code == HS_OK && k == HS_ANALYSIS_SRHM) {
        hs_analyze_srhm_summary s;
        code = hs_analyze_srhm(MPI_COMM_WORLD, &o, &s, &table, &err);
        if (code == HS_OK && rank == 0)
            printf("%s: sample complexity of %zu rhm/srhm runs (%zu finished, %zu unfinished): %zu configurations, "
                   "%zu reach test error %g\n",
                   o.path, s.hier, s.finished, s.unfinished, s.configs, s.reached, s.threshold);
    } else if (code == HS_OK) {
        hs_analyze_summary s;
        code = hs_analyze_equisep(MPI_COMM_WORLD, &o, &s, &table, &err);
        if (code == HS_OK && rank == 0) {
            printf("%s: %zu runs, %zu finished, %zu fitted, %zu flagged (zero or non-finite D, or none recorded); "
                   "%zu configurations; %zu of %zu fitted runs obey the law (r <= %g)\n",
                   o.path, s.runs, s.finished, s.fitted, s.flagged, s.configs, s.obey, s.fitted,
                   o.obey_r != 0 ? o.obey_r : -0.99);
            if (s.unfinished)
                printf("%zu runs are not finished (pending, running or failed): analysed the finished ones\n",
                       s.unfinished);
        }
    }
    if (code != HS_OK) {
        if (rank == 0) print_error(&err, 0, 1);
        rc = EXIT_FAIL;
    } else if (rank == 0) {
        rc = write_out(&table);
    }
    hs_str_free(&table);
    MPI_Barrier(MPI_COMM_WORLD); /* every rank has closed the file before the lock goes */
    hs_lock_release(lock);
    return rc;
}

/* ---------------------------------------------------------------- status */

static int cmd_status(int argc, char **argv) {
    if (argc != 1 || argv[0][0] == '-') {
        fprintf(stderr, "hsweep status: expected one results file\n%s", usage);
        return EXIT_USAGE;
    }
    hs_error err = {0};
    hs_str out = {0};
    hs_results_census c;
    if (hs_results_describe(argv[0], &out, &c, &err) != HS_OK) {
        print_error(&err, 0, 1);
        hs_str_free(&out);
        return c.writer == HS_LOCK_LIVE ? EXIT_LIVE : EXIT_FAIL;
    }
    int rc = write_out(&out);
    hs_str_free(&out);
    /* Scripts decide from the exit code alone (see the enum above). */
    size_t left = c.states[HS_STATE_PENDING] + c.states[HS_STATE_RUNNING];
    if (rc != EXIT_OK) return rc;
    if (c.writer == HS_LOCK_LIVE) return EXIT_LIVE;
    if (left) return c.stalled ? EXIT_STALLED : HS_EXIT_REQUEUE;
    return c.states[HS_STATE_FAILED] ? EXIT_FAILED_RUNS : EXIT_OK;
}

/* ---------------------------------------------------------------- train */

typedef struct train_args {
    const char *spec, *run, *out;
    const char **sets;
    int n_sets, quiet;
} train_args;

static int parse_train_args(int argc, char **argv, train_args *a) {
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--run") && i + 1 < argc) a->run = argv[++i];
        else if (!strcmp(o, "--set") && i + 1 < argc) a->sets[a->n_sets++] = argv[++i];
        else if (!strcmp(o, "-o") && i + 1 < argc) a->out = argv[++i];
        else if (!strcmp(o, "--quiet")) a->quiet = 1;
        else if (take_spec("train", o, &a->spec) != EXIT_OK)
            return EXIT_USAGE;
    }
    if (!a->spec) return missing_spec("train");
    return EXIT_OK;
}

/* The run whose id starts with prefix (hex, case-insensitive). */
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
    size_t len = strlen(prefix), found = 0;
    if (len == 0 || len > 16 || strspn(prefix, "0123456789abcdefABCDEF") != len)
        return HS_FAIL(err, HS_ERR_USAGE, "--run: '%s' is not a run id (up to 16 hex digits)", prefix);
    for (size_t r = 0; r < plan->n_runs; r++) {
        char id[17];
        snprintf(id, sizeof id, "%016llx", (unsigned long long)plan->runs[r].id);
        if (strncasecmp(id, prefix, len) == 0) {
            if (found++) return HS_FAIL(err, HS_ERR_USAGE, "--run: '%s' matches several runs; give more digits", prefix);
            *out = r;
        }
    }
    if (!found) {
        HS_FAIL(err, HS_ERR_USAGE, "--run: no run of %s has an id starting with '%s'", spec, prefix);
        hs_error_hint(err, "`hsweep plan %s` lists the ids", spec);
        return HS_ERR_USAGE;
    }
    return HS_OK;
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
    if (rc == HS_OK && a->run && a->n_sets) {
        /* --run names a run of the spec as written; --set then changes that run's config (and
         * so its id), whatever level of the spec set the key. The run is rebuilt as a one-run
         * spec from its canonical config; data.seed is left out when it merely followed seed,
         * so that --set seed=N moves the data seed too. */
        hs_plan *written = NULL;
        hs_str yaml = {0}, one = {0};
        rc = hs_plan_expand(spec, &opts, &written, err);
        if (rc == HS_OK) rc = pick_run(written, a->run, a->spec, &r, err);
        if (rc == HS_OK) rc = hs_plan_canonical(written, r, &one);
        if (rc == HS_OK) {
            const hs_value *seed = hs_plan_value(written, r, hs_schema_find("seed"));
            const hs_value *dseed = hs_plan_value(written, r, hs_schema_find("data.seed"));
            hs_str_printf(&yaml, "name: %s\nbase:\n", spec->name ? spec->name : "run");
            for (char *line = strchr(one.buf, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
                char *eq = strchr(line + 1, '='), *end = strchr(line + 1, '\n');
                if (!eq || (end && eq > end)) continue;
                int klen = (int)(eq - line - 1), vlen = end ? (int)(end - eq - 1) : (int)strlen(eq + 1);
                if (klen == 9 && !strncmp(line + 1, "data.seed", 9) && dseed->u.i == seed->u.i) continue;
                hs_str_printf(&yaml, "  %.*s: %.*s\n", klen, line + 1, vlen, eq + 1);
            }
            hs_spec *single = NULL;
            rc = hs_spec_parse(yaml.buf, yaml.len, a->spec, &single, err);
            if (rc == HS_OK) hs_spec_free(spec), spec = single;
            r = 0;
        }
        hs_str_free(&yaml);
        hs_str_free(&one);
        hs_plan_free(written);
    }
    for (int i = 0; i < a->n_sets && rc == HS_OK; i++) rc = hs_spec_override(spec, a->sets[i], err);
    if (rc == HS_OK) rc = hs_plan_expand(spec, &opts, &plan, err);
    if (rc == HS_OK && !(a->run && a->n_sets)) rc = pick_run(plan, a->run, a->spec, &r, err);
    if (rc == HS_OK) {
        char path[64];
        const char *out = a->out;
        if (!out) snprintf(path, sizeof path, "run-%016llx.h5", (unsigned long long)plan->runs[r].id), out = path;
        train_sink sink = {.a = a, .file = {.path = out, .spec_path = a->spec, .version = HSWEEP_VERSION}};
        hs_run_opts ro = {.plan = plan, .r = r,
                          .hooks = {.ctx = &sink, .on_ready = a->quiet ? NULL : print_header,
                                    .on_record = a->quiet ? NULL : print_record, .store = store_and_print}};
        rc = hs_run_one(&ro, err);
    }
    hs_plan_free(plan);
    hs_spec_free(spec);
    return rc;
}

static int cmd_train(int argc, char **argv) {
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    if (!sets) return EXIT_FAIL;
    train_args a = {.sets = sets};
    int rc = parse_train_args(argc, argv, &a);
    if (rc == EXIT_OK) {
        hs_error err = {0};
        if (train_one(&a, &err) != HS_OK) {
            print_error(&err, 0, 1);
            rc = err.code == HS_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL;
        }
    }
    free(sets);
    return rc;
}

/* ---------------------------------------------------------------- BLAS kernels */

/* OpenBLAS picks its kernels from the CPU model at load time. On virtual machines that hide the
 * model ("Intel Xeon Processor") Debian's OpenBLAS 0.3.21 falls back to SSE3 "Prescott" kernels,
 * 3-5x slower than the AVX2/AVX-512 ones the CPU supports (measured: sgemm 33 vs 156 GFLOP/s).
 * The choice is made before main(), so the only remedy is to set OPENBLAS_CORETYPE and exec
 * ourselves again, once, before MPI_Init. A user's own OPENBLAS_CORETYPE is always respected. */
static void fix_blas_kernels(char **argv) {
    if (getenv("OPENBLAS_CORETYPE") || getenv("HSWEEP_BLAS_REEXEC")) return;
    const char *core = openblas_get_corename();
    if (!core || (strcasecmp(core, "prescott") != 0 && strcasecmp(core, "core2") != 0 &&
                  strcasecmp(core, "nehalem") != 0))
        return;
    const char *want = NULL;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        want = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        want = "Haswell";
#endif
    if (!want) return;
    setenv("OPENBLAS_CORETYPE", want, 1);
    setenv("HSWEEP_BLAS_REEXEC", core, 1); /* guard, and a note for `hsweep version` */
    execv("/proc/self/exe", argv);          /* returns only on failure: carry on with slow kernels */
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *cmd = argv[1];
    fix_blas_kernels(argv);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        const char *was = getenv("HSWEEP_BLAS_REEXEC");
        printf("hsweep %s (config schema %d)\nBLAS: OpenBLAS, %s kernels%s%s%s\n", HSWEEP_VERSION, HS_SCHEMA_VERSION,
               openblas_get_corename(), was ? " (chosen by hsweep: OpenBLAS did not recognise the CPU and picked " : "",
               was ? was : "", was ? ")" : "");
        return EXIT_OK;
    }
    openblas_set_num_threads(1); /* one BLAS thread per process: ranks are the parallelism */
    if (!strcmp(cmd, "keys")) return cmd_keys(argc - 2, argv + 2);
    if (!strcmp(cmd, "train")) return cmd_train(argc - 2, argv + 2);
    if (!strcmp(cmd, "status")) return cmd_status(argc - 2, argv + 2);
    if (!strcmp(cmd, "analyze")) {
        MPI_Init(&argc, &argv);
        have_mpi = 1;
        int rc = cmd_analyze(argc - 2, argv + 2);
        MPI_Finalize();
        return rc;
    }
    if (!strcmp(cmd, "run")) {
        /* before MPI_Init: a signal that comes while the ranks start (a job cancelled at once)
         * must drain them, not kill them by its default action with a run marked running */
        hs_sweep_install_signals();
        MPI_Init(&argc, &argv);
        have_mpi = 1;
        int rc = cmd_run(argc - 2, argv + 2);
        MPI_Finalize();
        return rc;
    }
    if (!strcmp(cmd, "plan")) {
        if ((have_mpi = launched_by_mpi())) MPI_Init(&argc, &argv);
        int rc = cmd_plan(argc - 2, argv + 2);
        if (have_mpi) MPI_Finalize();
        return rc;
    }
    fprintf(stderr, "hsweep: unknown command '%s'\n%s", cmd, usage);
    return EXIT_USAGE;
}
