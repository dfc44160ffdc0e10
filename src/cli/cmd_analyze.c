/* cmd_analyze.c - hsweep analyze: analyse a results file (also under mpirun), writing back into
 * the file and tables beside it. The analysis is a writer: it takes the file's lock. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hsweep/analysis.h"
#include "hsweep/lock.h"

/* The usage lists the analyses this build registers, so a new analysis documents itself here. */
const char *cmd_analyze_usage(void) {
    static hs_str text;
    if (text.buf) return text.buf;
    hs_str_printf(&text,
                  "usage: hsweep analyze FILE [--kind %s] [--prefix P] [--obey-r R] [--threshold T]\n"
                  "\n"
                  "Analyse a results file (also under mpirun), writing back into FILE under /analysis/<name> and\n"
                  "tables beside it (FILE without .h5, then .<name>.csv and .<name>.md). The analyses:\n",
                  hs_analysis_choices());
    for (size_t i = 0; i < hs_analysis_count(); i++) {
        const hs_analysis *a = hs_analysis_at(i);
        hs_str_printf(&text, "  %-11s %s%s\n", a->name, a->doc, a->applies ? "" : " (only with --kind)");
    }
    hs_str_printf(&text,
                  "\n"
                  "options:\n"
                  "  --kind NAME              which analysis; auto (the default) runs the first of the list above\n"
                  "                           that the file calls for: srhm for rhm/srhm runs,\n"
                  "                           dynamics for hierarchy, partition, xor and gated runs or their series,\n"
                  "                           sensitivity / stability for runs with those probes' series,\n"
                  "                           else equisep\n"
                  "  --prefix P               write the tables to P.<name>.csv / .md instead\n"
                  "  --obey-r R               equisep: a run obeys the law when r <= R (default -0.99)\n"
                  "  --threshold T            srhm: P* is where the test error crosses T (default 0.1)\n"
                  "  -h, --help               this text\n");
    return text.buf ? text.buf : "usage: hsweep analyze FILE [options]\n";
}

int cmd_analyze(const cli_command *cmd, int argc, char **argv) {
    static const struct option opts[] = {{"prefix", required_argument, NULL, 'p'},
                                         {"kind", required_argument, NULL, 'k'},
                                         {"obey-r", required_argument, NULL, 'r'},
                                         {"threshold", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    hs_analyze_opts o = {0};
    const char *kind = "auto";
    for (int c; (c = cli_next_option(cmd, argc, argv, "h", opts)) != -1;) {
        char *end;
        switch (c) {
        case 'p': o.prefix = optarg; break;
        case 'k':
            kind = optarg;
            if (strcmp(kind, "auto") && !hs_analysis_find(kind)) {
                fprintf(stderr, "hsweep analyze: --kind must be one of %s, got '%s'\n", hs_analysis_choices(), kind);
                return EXIT_USAGE;
            }
            break;
        case 'r':
            o.obey_r = strtod(optarg, &end);
            if (*end || !(o.obey_r >= -1 && o.obey_r < 0)) {
                fprintf(stderr, "hsweep analyze: --obey-r needs a number in [-1, 0), got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 't':
            o.threshold = strtod(optarg, &end);
            if (*end || !(o.threshold > 0 && o.threshold < 1)) {
                fprintf(stderr, "hsweep analyze: --threshold needs a test error in (0, 1), got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h': return cli_help(cmd);
        case CLI_ARG:
            if (!o.path) o.path = optarg;
            else {
                fprintf(stderr, "hsweep analyze: more than one results file\n");
                return EXIT_USAGE;
            }
            break;
        default: return EXIT_USAGE;
        }
    }
    if (!o.path) {
        fprintf(stderr, "hsweep analyze: missing the results file\n%s", cmd->usage);
        return EXIT_USAGE;
    }
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    hs_error err = {0};
    hs_str table = {0};
    int rc = EXIT_OK;
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
    if (code != HS_OK && rank == 0) {
        /* the hint for a writer that holds the file; the lock file's own failure (a full disk, no
         * write permission beside the file) already names its cause */
        hs_lock_info owner = {0};
        hs_lock_state ls = HS_LOCK_NONE;
        hs_error ierr = {0};
        if (hs_lock_inspect(o.path, &owner, &ls, &ierr) == HS_OK && ls == HS_LOCK_LIVE)
            hs_error_hint(&err, "wait until the sweep has finished (the Slurm analysis job waits for it), or stop "
                                "it with SIGUSR1 (it drains and closes the file), then analyse; `hsweep status` is "
                                "safe now");
    }
    int lock_code = code;
    MPI_Bcast(&lock_code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (lock_code != HS_OK) {
        if (rank == 0) cli_print_error(&err, 0, 1);
        return EXIT_FAIL;
    }
    hs_str summary = {0};
    code = hs_analyze_run(MPI_COMM_WORLD, kind, &o, &summary, &table, &err);
    if (code == HS_OK && rank == 0 && summary.buf) fputs(summary.buf, stdout);
    hs_str_free(&summary);
    if (code != HS_OK) {
        if (rank == 0) cli_print_error(&err, 0, 1);
        rc = EXIT_FAIL;
    } else if (rank == 0) {
        rc = cli_write_out(&table);
    }
    hs_str_free(&table);
    MPI_Barrier(MPI_COMM_WORLD); /* every rank has closed the file before the lock goes */
    hs_lock_release(lock);
    return rc;
}
