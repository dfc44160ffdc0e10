/* cmd_status.c - hsweep status: a results file summarised from the file and its lock alone
 * (read-only, safe while a sweep writes it), with an exit code a batch script decides from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hsweep/lock.h"
#include "hsweep/store.h"

const char cmd_status_usage[] =
    "usage: hsweep status FILE [--runs]\n"
    "\n"
    "Summarise a results file (safe while it is written): its writer, runs by state, running runs'\n"
    "progress and ETA, failed runs with their messages, what to do next; for a spec with stages,\n"
    "each stage as complete, incomplete or waiting, with the winners of its select or its search.\n"
    "\n"
    "options:\n"
    "      --runs               then one line per run: id, state, the host it ran on, its products'\n"
    "                           path (gemm), the build (git describe) and the BLAS; \"unknown\" for\n"
    "                           a run not stored yet or a file from before runs recorded them\n"
    "  -h, --help               this text\n"
    "\n"
    "exit codes: 0 complete, 1 unreadable, 3 runs left to resume, 4 complete but some runs failed,\n"
    "            5 stalled (runs left, the last two jobs made no progress), 6 being written now\n";

/* Lines on the stages of a staged sweep: each planned from what the file holds, as `run` plans
 * it, with its runs by state; a stage whose predecessor is not complete waits. Returns the runs
 * left (a waiting stage counts its bound, at least 1), 0 for a file without stages. */
static size_t describe_stages(const char *path, hs_str *out) {
    hs_error err = {0};
    hs_results_reader *rd = NULL;
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    hs_str text = {0}, spath = {0}, sets = {0};
    size_t left = 0;
    if (hs_reader_open(MPI_COMM_NULL, path, &rd, &err) != HS_OK || hs_reader_attr(rd, "spec", &text, &err) != HS_OK)
        goto done;
    hs_reader_attr(rd, "spec_path", &spath, &err);
    if (hs_spec_parse(text.buf, text.len, spath.buf ? spath.buf : "spec", &spec, &err) != HS_OK || !spec->n_stages ||
        (spec->n_stages < 2 && !spec->blocks[0].search))
        goto done;
    if (hs_reader_attr(rd, "overrides", &sets, &err) == HS_OK && sets.buf)
        for (char *line = strtok(sets.buf, "\n"); line; line = strtok(NULL, "\n"))
            if (hs_spec_override_base(spec, line, &err) != HS_OK) goto done;
    hs_picks *picks = calloc(spec->n_stages, sizeof *picks);
    const hs_picks **pick_of = calloc(spec->n_stages, sizeof *pick_of);
    hs_search_state *searches = calloc(spec->n_stages, sizeof *searches);
    const hs_search_state **search_of = calloc(spec->n_stages, sizeof *search_of);
    const size_t R = hs_reader_n_runs(rd);
    int prev_complete = 1;
    hs_str_printf(out, "stages:\n");
    for (size_t k = 0; k < spec->n_stages && picks && pick_of && searches && search_of; k++) {
        const hs_block *b = &spec->blocks[k];
        hs_plan_opts o = {.stage = k, .picks = pick_of, .searches = search_of, .bound = !prev_complete};
        if (!prev_complete) {
            hs_plan *bound = NULL;
            if (hs_plan_expand(spec, &o, &bound, &err) != HS_OK) break;
            size_t most = bound->n_runs * (b->search ? (size_t)b->search->seeds * hs_search_max_points(b->search) : 1);
            hs_str_printf(out, "  %-12s waits for stage '%s': at most %zu runs\n", b->name, spec->blocks[k - 1].name, most);
            left += most ? most : 1;
            hs_plan_free(bound);
            continue;
        }
        if (b->search) {
            /* replayed as `run` does: each round's runs are looked up once the plan holds them */
            if (hs_search_groups(spec, k, &searches[k], &err) != HS_OK ||
                cli_search_replay(spec, k, plan, NULL, NULL, &searches[k], &err) != HS_OK)
                break;
            search_of[k] = &searches[k];
            int grew = 1;
            while (grew) {
                hs_plan *next = NULL;
                if (hs_plan_expand(spec, &o, &next, &err) != HS_OK) break;
                hs_plan_free(plan);
                plan = next;
                size_t before = 0, after = 0;
                for (size_t g = 0; g < searches[k].n; g++) before += searches[k].groups[g].n_x;
                double *metric = malloc((plan->n_runs + 1) * sizeof *metric);
                unsigned char *resolved = malloc(plan->n_runs + 1);
                hs_code rc = metric && resolved ? cli_run_values(plan, rd, b->search->metric, metric, resolved, &err)
                                                : HS_ERR_NOMEM;
                if (rc == HS_OK) rc = cli_search_replay(spec, k, plan, metric, resolved, &searches[k], &err);
                free(metric), free(resolved);
                if (rc != HS_OK) break;
                for (size_t g = 0; g < searches[k].n; g++) after += searches[k].groups[g].n_x;
                grew = after != before;
            }
            if (grew) break;
        }
        if (b->select) {
            double *metric = malloc((plan->n_runs + 1) * sizeof *metric);
            hs_code rc = metric ? cli_stage_metric(plan, b->select, rd, metric, &err) : HS_ERR_NOMEM;
            if (rc == HS_OK) rc = hs_select_pick(plan, b->select, metric, &picks[k], &err);
            free(metric);
            if (rc != HS_OK) break;
            pick_of[k] = &picks[k];
        }
        hs_plan *next = NULL;
        if (hs_plan_expand(spec, &o, &next, &err) != HS_OK) break;
        hs_plan_free(plan);
        plan = next;
        size_t n = 0, fin = 0, failed = 0, absent = 0;
        for (size_t r = 0; r < plan->n_runs; r++) {
            if (spec->blocks[plan->runs[r].block].stage != k) continue;
            n++;
            absent++;
        }
        for (size_t i = 0; i < R; i++) {
            long r = hs_plan_find(plan, strtoull(hs_reader_id(rd, i), NULL, 16));
            if (r < 0 || spec->blocks[plan->runs[r].block].stage != k) continue;
            absent--;
            hs_run_state s = hs_reader_state(rd, i);
            fin += s == HS_STATE_DONE || s == HS_STATE_DIVERGED;
            failed += s == HS_STATE_FAILED;
        }
        size_t open = n - fin - failed, open_groups = 0;
        for (size_t g = 0; b->search && g < searches[k].n; g++) open_groups += searches[k].groups[g].status == HS_SEARCH_OPEN;
        left += open ? open : open_groups; /* a search between rounds: the next round is not planned yet */
        prev_complete = open == 0 && open_groups == 0;
        hs_str_printf(out, "  %-12s %s: %zu runs, %zu finished, %zu failed, %zu left", b->name,
                      prev_complete ? "complete" : "incomplete", n, fin, failed, open);
        if (absent) hs_str_printf(out, " (%zu not yet in the file)", absent);
        if (plan->n_shared) hs_str_printf(out, "; %zu runs shared with earlier stages", plan->n_shared);
        hs_str_printf(out, "\n");
        if (b->search) {
            hs_str lines = {0};
            cli_describe_search(spec, k, &searches[k], &lines);
            for (char *line = lines.buf ? strtok(lines.buf, "\n") : NULL; line; line = strtok(NULL, "\n"))
                hs_str_printf(out, "    %s\n", line[0] == ' ' ? line + 2 : line);
            hs_str_free(&lines);
            hs_search_table tab;
            if (hs_reader_search(rd, b->name, &tab, &err) == HS_OK) {
                hs_str_printf(out, "    stored in /search/%s: %zu groups, %s where %s = %g\n", b->name, tab.n, tab.key,
                              tab.metric, tab.target);
                hs_search_table_free(&tab);
            }
        }
        if (b->select) {
            hs_str lines = {0};
            cli_describe_picks(spec, k, &picks[k], &lines);
            if (lines.buf) {
                /* indent the winners under their stage */
                for (char *line = strtok(lines.buf, "\n"); line; line = strtok(NULL, "\n"))
                    if (line[0] == ' ') hs_str_printf(out, "    %s\n", line);
            }
            hs_str_free(&lines);
        }
    }
    for (size_t k = 0; picks && k < spec->n_stages; k++) hs_picks_free(&picks[k]);
    for (size_t k = 0; searches && k < spec->n_stages; k++) hs_search_state_free(&searches[k]);
    free(picks), free(pick_of), free(searches), free(search_of);
done:
    if (err.msg[0] && spec && spec->n_stages > 1) hs_str_printf(out, "stages: cannot plan them: %s\n", err.msg);
    hs_plan_free(plan);
    hs_spec_free(spec);
    hs_reader_close(rd);
    hs_str_free(&text), hs_str_free(&spath), hs_str_free(&sets);
    return left;
}

/* One line per run with where it ran (--runs). */
static void describe_runs(const char *path, hs_str *out) {
    hs_results_reader *rd = NULL;
    hs_error err = {0};
    if (hs_reader_open(MPI_COMM_NULL, path, &rd, &err) != HS_OK) {
        hs_str_printf(out, "runs: cannot read them: %s\n", err.msg);
        return;
    }
    const size_t R = hs_reader_n_runs(rd);
    hs_str_printf(out, "\nruns:\n  %-16s %-9s %-20s %-18s %-24s %s\n", "id", "state", "host", "gemm", "git", "blas");
    for (size_t r = 0; r < R; r++) {
        char host[128], gemm[64], git[64], blas[160];
        hs_reader_provenance_field(rd, r, "host", host, sizeof host);
        hs_reader_provenance_field(rd, r, "gemm", gemm, sizeof gemm);
        hs_reader_provenance_field(rd, r, "git", git, sizeof git);
        hs_reader_provenance_field(rd, r, "blas", blas, sizeof blas);
        hs_str_printf(out, "  %-16s %-9s %-20s %-18s %-24s %s\n", hs_reader_id(rd, r),
                      hs_run_state_to_string(hs_reader_state(rd, r)), host, gemm, git, blas);
    }
    hs_reader_close(rd);
}

int cmd_status(const cli_command *cmd, int argc, char **argv) {
    static const struct option opts[] = {{"runs", no_argument, NULL, 'u'}, {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int n_paths = 0, runs = 0;
    for (int c; (c = cli_next_option(cmd, argc, argv, "h", opts)) != -1;) {
        switch (c) {
        case 'u': runs = 1; break;
        case 'h': return cli_help(cmd);
        case CLI_ARG: path = optarg, n_paths++; break;
        default: return EXIT_USAGE;
        }
    }
    if (n_paths != 1) {
        fprintf(stderr, "hsweep status: expected one results file\n%s", cli_usage(cmd));
        return EXIT_USAGE;
    }
    hs_error err = {0};
    hs_str out = {0};
    hs_results_census c;
    if (hs_results_describe(path, &out, &c, &err) != HS_OK) {
        cli_print_error(&err, 0, 1);
        hs_str_free(&out);
        return c.writer == HS_LOCK_LIVE ? EXIT_LIVE : EXIT_FAIL;
    }
    size_t stage_left = describe_stages(path, &out);
    if (runs) describe_runs(path, &out);
    int rc = cli_write_out(&out);
    hs_str_free(&out);
    /* Scripts decide from the exit code alone (see cli.h). */
    size_t left = c.states[HS_STATE_PENDING] + c.states[HS_STATE_RUNNING] + stage_left;
    if (rc != EXIT_OK) return rc;
    if (c.writer == HS_LOCK_LIVE) return EXIT_LIVE;
    if (left) return c.stalled ? EXIT_STALLED : HS_EXIT_REQUEUE;
    return c.states[HS_STATE_FAILED] ? EXIT_FAILED_RUNS : EXIT_OK;
}
