/* cmd_plan.c - hsweep plan: the dry run. Expand a spec, check every run before any compute, list
 * the runs, estimate the results file and the memory of the largest run. Under mpirun every rank
 * expands the plan and the ranks compare plan digests, so a node that sees a different spec file
 * (or a different build) is caught before any work is handed out. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hsweep/train.h"

const char cmd_plan_usage[] =
    "usage: hsweep plan SPEC.yaml [--format text|tsv|json] [--set key=value ...] [--max-runs N]\n"
    "\n"
    "Expand a sweep spec, check every run before any compute (data files, sizes, config), list the\n"
    "runs, estimate the results file and the least memory of the largest run (dry run).\n"
    "\n"
    "options:\n"
    "  --format text|tsv|json   output form (default text)\n"
    "  --set key=value          override a base key (repeatable), e.g. --set train.epochs=5; on a key\n"
    "                           only axes vary, keep the runs with that value (--set model.arch=vgg11)\n"
    "                           or any of several (--set \"model.arch=[vgg11, vgg16]\");\n"
    "                           an error when a block's base or a set rule gives the key\n"
    "  --max-runs N             refuse plans larger than N runs (default 1000000)\n"
    "  -h, --help               this text\n"
    "\n"
    "Run under MPI (mpirun -np N hsweep plan ...): every rank expands and the ranks check they agree.\n";

typedef struct plan_args {
    const char *spec;
    hs_plan_format fmt;
    size_t max_runs;
    const char **sets;
    int n_sets;
} plan_args;

/* -1 to go on, else the exit code (0 after --help). */
static int parse_plan_args(const cli_command *cmd, int argc, char **argv, plan_args *a) {
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"set", required_argument, NULL, 's'},
                                         {"max-runs", required_argument, NULL, 'm'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    for (int c; (c = cli_next_option(cmd, argc, argv, "h", opts)) != -1;) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "text")) a->fmt = HS_PLAN_TEXT;
            else if (!strcmp(optarg, "tsv")) a->fmt = HS_PLAN_TSV;
            else if (!strcmp(optarg, "json")) a->fmt = HS_PLAN_JSON;
            else {
                fprintf(stderr, "hsweep plan: unknown format '%s' (text, tsv or json)\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 's': a->sets[a->n_sets++] = optarg; break;
        case 'm': {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*end || v == 0) {
                fprintf(stderr, "hsweep plan: --max-runs needs a positive integer, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            a->max_runs = (size_t)v;
            break;
        }
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

/* What the plan of a staged spec cannot list yet: each later stage's runs, bounded (a select's
 * key left at its base value gives one run per winner it can choose), and their training cost
 * bounded alike: a search's every run at the cost of its first round's costliest (hi, for a key
 * the cost grows with, as data.n_train), at the full epochs (a stop_loss ends runs sooner).
 * json: one array. */
static hs_code describe_later_stages(const hs_spec *spec, size_t max_runs, int json, hs_str *out, hs_error *err) {
    size_t total = 0;
    for (size_t k = spec->blocks[0].search ? 0 : 1; k < spec->n_stages; k++) {
        hs_plan *b = NULL;
        hs_plan_opts o = {.max_runs = max_runs, .stage = k, .bound = 1};
        HS_TRY(err, hs_plan_expand(spec, &o, &b, err));
        const hs_block *bl = &spec->blocks[k];
        const char *waits = k == 0 ? "" : spec->blocks[bl->select ? bl->select->from : k - 1].name;
        const hs_search *sr = bl->search;
        size_t most = b->n_runs * (sr ? (size_t)sr->seeds * hs_search_max_points(sr) : 1);
        /* a search's first round is planned without a results file: lo, hi and batch between */
        hs_plan *fr = NULL;
        hs_plan_opts fo = {.max_runs = max_runs, .stage = k};
        hs_error ferr = {0};
        const hs_plan *costed = sr && hs_plan_expand(spec, &fo, &fr, &ferr) == HS_OK ? fr : b;
        double first = 0, top = 0;
        size_t n_first = 0;
        for (size_t r = 0; r < costed->n_runs; r++) {
            if (spec->blocks[costed->runs[r].block].stage != k) continue;
            double c = hs_plan_cost(costed, r);
            first += c, top = c > top ? c : top, n_first++;
        }
        hs_plan_free(fr);
        double bound = sr ? top * (double)most : first;
        hs_code rc = HS_OK;
        if (json) {
            rc = hs_str_printf(out, "%s{\"name\": ", k > (spec->blocks[0].search ? 0u : 1u) ? ", " : "");
            if (rc == HS_OK) rc = hs_str_json(out, bl->name);
            if (rc == HS_OK) rc = hs_str_printf(out, ", \"waits_for\": ");
            if (rc == HS_OK) rc = hs_str_json(out, waits);
            if (rc == HS_OK) rc = hs_str_printf(out, ", \"at_most\": %zu, \"at_most_flop\": %.6g}", most, bound);
        } else if (sr) {
            rc = hs_str_printf(out, "stage '%s'%s%s%s searches %s where %s = %g in [%g, %g]: %zu groups x %d seeds, "
                               "at most %zu runs (%zu rounds; %s)\n", bl->name, k ? " (after stage '" : "", waits,
                               k ? "')" : "", hs_schema_key((size_t)sr->key)->name, hs_metric_to_string(sr->metric),
                               sr->target, sr->lo, sr->hi, b->n_runs, sr->seeds, most, (size_t)sr->max_rounds + 1,
                               k ? "its first round once that stage is over" : "the first round is listed above");
            if (rc == HS_OK)
                rc = hs_str_printf(out, "  training cost: first round %.3g FLOP (%zu runs), at most %.3g FLOP (about %.2g "
                                   "core-hours at 50 GFLOP/s), %.3g FLOP per run at %s = %g\n", first, n_first, bound,
                                   bound / 50e9 / 3600, top, hs_schema_key((size_t)sr->key)->name, sr->hi);
        } else if (bl->select) {
            rc = hs_str_printf(out, "stage '%s' waits for stage '%s': at most %zu runs (%s chosen by %s(%s)", bl->name, waits,
                               b->n_runs, hs_schema_key((size_t)bl->select->over)->name,
                               bl->select->maximize ? "max" : "min", hs_metric_to_string(bl->select->metric));
            for (size_t j = 0; j < bl->select->n_per && rc == HS_OK; j++)
                rc = hs_str_printf(out, "%s%s", j ? ", " : " per ", hs_schema_key((size_t)bl->select->per[j])->name);
            if (rc == HS_OK) rc = hs_str_printf(out, ")\n");
            if (rc == HS_OK)
                rc = hs_str_printf(out, "  training cost: about %.3g FLOP (%.2g core-hours at 50 GFLOP/s) with %s at its "
                                   "base value\n", bound, bound / 50e9 / 3600,
                                   hs_schema_key((size_t)bl->select->over)->name);
        } else {
            rc = hs_str_printf(out, "stage '%s' runs after stage '%s': %zu runs\n", bl->name, waits, b->n_runs);
            if (rc == HS_OK)
                rc = hs_str_printf(out, "  training cost: %.3g FLOP (%.2g core-hours at 50 GFLOP/s)\n", bound,
                                   bound / 50e9 / 3600);
        }
        total += k ? most : 0;
        hs_plan_free(b);
        if (rc != HS_OK) return HS_FAIL(err, rc, "out of memory");
    }
    if (!json && spec->n_stages > 1) return hs_str_printf(out, "later stages: at most %zu runs\n", total);
    return HS_OK;
}

/* One line after the plan: what the results file of `hsweep run` will weigh and what makes it. */
static hs_code describe_results_size(const hs_train_plan_layout *L, hs_str *out) {
    char total[32], rec[32], lay[32], tab[32];
    hs_format_bytes(L->bytes_total, total, sizeof total);
    hs_format_bytes(L->bytes_records, rec, sizeof rec);
    hs_format_bytes(L->bytes_layers, lay, sizeof lay);
    hs_format_bytes(L->bytes_table, tab, sizeof tab);
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
        hs_format_bytes(L->bytes_series[order[i]], b, sizeof b);
        rc = hs_str_printf(out, "%s %s %s", i ? "," : "; series:", L->series[order[i]].name, b);
    }
    if (rc == HS_OK && L->skipped)
        rc = hs_str_printf(out, "; %zu run%s left out", L->skipped, L->skipped == 1 ? "" : "s");
    if (rc == HS_OK) rc = hs_str_printf(out, ")\n");
    return rc;
}

/* One line after the plan: the least memory the largest run holds, against this machine's (the
 * plan may be made on a login node: `hsweep run` makes the same check on the nodes that train). */
static hs_code describe_memory(const hs_plan *plan, int nranks, hs_str *out, hs_error *err) {
    hs_train_memory_need m;
    HS_TRY(err, hs_train_memory_plan(plan, -1, nranks, 0, NULL, &m, err));
    if (m.bytes <= 0) return HS_OK;
    const char *what = NULL;
    const double limit = hs_memory_limit(&what);
    char need[32], have[32];
    hs_format_bytes(m.bytes, need, sizeof need);
    hs_format_bytes(limit, have, sizeof have);
    const unsigned long long id = plan->runs[m.run].id;
    HS_TRY(err, m.solved ? hs_str_printf(out, "memory: at least %s a rank, for the largest run (%016llx: its %lld x "
                                         "%lld kernel matrix over %d rank%s, and the data sets)", need, id, m.n_train,
                                         m.n_train, nranks, nranks == 1 ? "" : "s")
                         : hs_str_printf(out, "memory: at least %s a rank, for the largest run (%016llx: data sets, "
                                         "the net with its gradients, activations and optimiser state)", need, id));
    if (limit > 0 && m.bytes > limit)
        return hs_str_printf(out, "; more than this machine allows (%s, %s): `hsweep run` refuses it on such a node\n",
                             have, what);
    /* what -np a laptop can take; on a cluster the nodes of the job decide */
    const double fit = limit > 0 ? floor(limit / m.bytes) : 0;
    if (fit >= 1 && fit < 1e4) /* beyond that the count says nothing */
        return hs_str_printf(out, "; room for at most %.0f such rank%s on this machine (%s, %s)\n", fit,
                             fit == 1 ? "" : "s", have, what);
    return hs_str_printf(out, "\n");
}

int cmd_plan(const cli_command *cmd, int argc, char **argv) {
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    if (!sets) return EXIT_FAIL;
    plan_args a = {.fmt = HS_PLAN_TEXT, .sets = sets};
    int rc = parse_plan_args(cmd, argc, argv, &a);
    if (rc >= 0) {
        free(sets);
        return rc;
    }
    int rank = 0, nranks = 1;
    if (cli_have_mpi) {
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    }

    hs_error err = {0};
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    hs_code code = cli_build_plan(a.spec, a.sets, a.n_sets, a.max_runs, &spec, &plan, &err);

    /* Agree on failure before anything else: every rank reaches the same collectives. */
    if ((rc = cli_plan_agree(code, &err, plan, a.spec)) != EXIT_OK) goto done;
    if ((rc = cli_preflight_agree(plan)) != EXIT_OK) goto done;
    if (rank == 0) {
        hs_str out = {0};
        hs_train_plan_layout lay;
        hs_code wrc = hs_plan_write(plan, a.fmt, &out);
        if (wrc == HS_OK && a.fmt != HS_PLAN_TSV) wrc = hs_train_plan_layout_of(plan, &lay, NULL, &err);
        if (wrc == HS_OK && a.fmt == HS_PLAN_TEXT) wrc = describe_results_size(&lay, &out);
        if (wrc == HS_OK && a.fmt == HS_PLAN_TEXT) wrc = describe_memory(plan, nranks, &out, &err);
        int staged = spec->n_stages > 1 || (spec->n_stages && spec->blocks[0].search);
        if (wrc == HS_OK && a.fmt == HS_PLAN_TEXT && staged)
            wrc = describe_later_stages(spec, a.max_runs, 0, &out, &err);
        if (wrc == HS_OK && a.fmt == HS_PLAN_JSON && out.len >= 2 && !strcmp(out.buf + out.len - 2, "}\n")) {
            out.buf[out.len -= 2] = '\0'; /* one more field in the top-level object */
            wrc = hs_str_printf(&out, ", \"expected_bytes\": %.0f", lay.bytes_total);
            hs_train_memory_need m = {0};
            if (wrc == HS_OK) wrc = hs_train_memory_plan(plan, -1, nranks, 0, NULL, &m, &err);
            if (wrc == HS_OK) wrc = hs_str_printf(&out, ", \"memory_floor_bytes\": %.0f", m.bytes);
            if (wrc == HS_OK && staged) {
                wrc = hs_str_printf(&out, ", \"later_stages\": [");
                if (wrc == HS_OK) wrc = describe_later_stages(spec, a.max_runs, 1, &out, &err);
                if (wrc == HS_OK) wrc = hs_str_printf(&out, "]");
            }
            if (wrc == HS_OK) wrc = hs_str_printf(&out, "}\n");
        }
        if (wrc != HS_OK) {
            if (err.msg[0]) cli_print_error(&err, 0, 1);
            else fprintf(stderr, "hsweep: error: out of memory writing the plan\n");
            rc = EXIT_FAIL;
        } else {
            rc = cli_write_out(&out);
        }
        if (rc == EXIT_OK && a.fmt == HS_PLAN_TEXT) {
            fprintf(stdout, "plan digest %02x%02x%02x%02x%02x%02x%02x%02x, identical on %d rank%s\n", plan->digest[0],
                    plan->digest[1], plan->digest[2], plan->digest[3], plan->digest[4], plan->digest[5],
                    plan->digest[6], plan->digest[7], nranks, nranks == 1 ? "" : "s");
        }
        hs_str_free(&out);
    }
done:
    if (cli_have_mpi) MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    hs_plan_free(plan);
    hs_spec_free(spec);
    free(sets);
    return rc;
}
