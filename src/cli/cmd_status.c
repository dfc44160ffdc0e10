/* cmd_status.c - hsweep status: a results file summarised from the file and its lock alone
 * (read-only, safe while a sweep writes it), with an exit code a batch script decides from. */
#include <stdio.h>

#include "cli.h"
#include "hsweep/lock.h"
#include "hsweep/store.h"

const char cmd_status_usage[] =
    "usage: hsweep status FILE\n"
    "\n"
    "Summarise a results file (safe while it is written): its writer, runs by state, running runs'\n"
    "progress and ETA, failed runs with their messages, what to do next.\n"
    "\n"
    "options:\n"
    "  -h, --help               this text\n"
    "\n"
    "exit codes: 0 complete, 1 unreadable, 3 runs left to resume, 4 complete but some runs failed,\n"
    "            5 stalled (runs left, the last two jobs made no progress), 6 being written now\n";

int cmd_status(const cli_command *cmd, int argc, char **argv) {
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int n_paths = 0;
    for (int c; (c = cli_next_option(cmd, argc, argv, "h", opts)) != -1;) {
        switch (c) {
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
    int rc = cli_write_out(&out);
    hs_str_free(&out);
    /* Scripts decide from the exit code alone (see cli.h). */
    size_t left = c.states[HS_STATE_PENDING] + c.states[HS_STATE_RUNNING];
    if (rc != EXIT_OK) return rc;
    if (c.writer == HS_LOCK_LIVE) return EXIT_LIVE;
    if (left) return c.stalled ? EXIT_STALLED : HS_EXIT_REQUEUE;
    return c.states[HS_STATE_FAILED] ? EXIT_FAILED_RUNS : EXIT_OK;
}
