/* main.c - the hsweep command line: the only place that decides exit codes.
 *
 *   hsweep plan SPEC.yaml [--format text|tsv|json] [--set key=value ...] [--max-runs N]
 *   hsweep keys [--format text|markdown|tsv]
 *   hsweep version
 *
 * Under mpirun every rank expands the plan and the ranks compare plan digests, so a node that
 * sees a different spec file (or a different build) is caught before any work is handed out. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/plan.h"
#include "hsweep/schema.h"
#include "hsweep/spec.h"

#define HSWEEP_VERSION "0.1.0"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static const char usage[] =
    "usage: hsweep <command> [options]\n"
    "\n"
    "commands:\n"
    "  plan SPEC.yaml    expand a sweep spec and list its runs (dry run)\n"
    "      --format text|tsv|json   output form (default text)\n"
    "      --set key=value          override a base key (repeatable), e.g. --set train.epochs=5\n"
    "      --max-runs N             refuse plans larger than N runs (default 1000000)\n"
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
        } else if (o[0] == '-' && o[1]) {
            fprintf(stderr, "hsweep plan: unknown option '%s'\n%s", o, usage);
            return EXIT_USAGE;
        } else if (!a->spec) {
            a->spec = o;
        } else {
            fprintf(stderr, "hsweep plan: more than one spec file ('%s' and '%s')\n", a->spec, o);
            return EXIT_USAGE;
        }
    }
    if (!a->spec) {
        fprintf(stderr, "hsweep plan: missing the spec file\n%s", usage);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static hs_code build_plan(const plan_args *a, hs_spec **spec, hs_plan **plan, hs_error *err) {
    HS_TRY(err, hs_spec_load(a->spec, spec, err));
    for (int i = 0; i < a->n_sets; i++) HS_TRY(err, hs_spec_override(*spec, a->sets[i], err));
    hs_plan_opts opts = {.max_runs = a->max_runs};
    HS_TRY(err, hs_plan_expand(*spec, &opts, plan, err));
    return HS_OK;
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
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);

    hs_error err = {0};
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    hs_code code = build_plan(&a, &spec, &plan, &err);

    /* Agree on failure before anything else: every rank reaches the same collectives. */
    int my_fail = code != HS_OK ? rank : nranks, first_fail = nranks;
    MPI_Allreduce(&my_fail, &first_fail, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first_fail < nranks) {
        if (rank == first_fail) print_error(&err, rank, nranks);
        rc = EXIT_FAIL;
        goto done;
    }
    unsigned char lo[32], hi[32];
    MPI_Allreduce(plan->digest, lo, 32, MPI_UNSIGNED_CHAR, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(plan->digest, hi, 32, MPI_UNSIGNED_CHAR, MPI_MAX, MPI_COMM_WORLD);
    if (memcmp(lo, hi, 32) != 0) {
        if (rank == 0)
            fprintf(stderr, "hsweep: error: the %d ranks expanded different plans from %s\n"
                            "  hint: every node must see the same spec file and run the same hsweep build\n",
                    nranks, a.spec);
        rc = EXIT_FAIL;
        goto done;
    }
    if (rank == 0) {
        hs_str out = {0};
        if (hs_plan_write(plan, a.fmt, &out) != HS_OK) {
            fprintf(stderr, "hsweep: error: out of memory writing the plan\n");
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
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    hs_plan_free(plan);
    hs_spec_free(spec);
    free(sets);
    return rc;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("hsweep %s (config schema %d)\n", HSWEEP_VERSION, HS_SCHEMA_VERSION);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "keys")) return cmd_keys(argc - 2, argv + 2);
    if (!strcmp(cmd, "plan")) {
        MPI_Init(&argc, &argv);
        int rc = cmd_plan(argc - 2, argv + 2);
        MPI_Finalize();
        return rc;
    }
    fprintf(stderr, "hsweep: unknown command '%s'\n%s", cmd, usage);
    return EXIT_USAGE;
}
