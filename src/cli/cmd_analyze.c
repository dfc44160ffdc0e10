/* cmd_analyze.c - hsweep analyze: analyse a results file (also under mpirun), writing back into
 * the file and tables beside it. The analysis is a writer: it takes the file's lock. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hsweep/analysis.h"
#include "hsweep/lock.h"

const char cmd_analyze_usage[] =
    "usage: hsweep analyze FILE [--kind auto|equisep|srhm|dynamics] [--prefix P] [--obey-r R] [--threshold T]\n"
    "\n"
    "Analyse a results file (also under mpirun), writing back into FILE and tables beside it:\n"
    "equi-separation (per-run fits of ln D_l on l, statistics over seeds; /analysis/equisep,\n"
    ".equisep.csv/.md) or, for rhm/srhm sweeps, sample complexity (best test error vs P, P* and its\n"
    "fits against theory; /analysis/srhm, .srhm.csv/.md) or, for learning-dynamics sweeps, the\n"
    "dynamics analyses (per-level learning order, rich vs lazy, deep linear and gated nets against\n"
    "their theory; /analysis/dynamics, .dynamics.csv/.md).\n"
    "\n"
    "options:\n"
    "  --kind auto|equisep|srhm|dynamics\n"
    "                           which analysis; auto (the default) picks srhm for rhm/srhm runs,\n"
    "                           dynamics for hierarchy, partition, xor and gated runs or their series,\n"
    "                           else equisep\n"
    "  --prefix P               write the tables to P.<kind>.csv / .md instead\n"
    "  --obey-r R               equisep: a run obeys the law when r <= R (default -0.99)\n"
    "  --threshold T            srhm: P* is where the test error crosses T (default 0.1)\n"
    "  -h, --help               this text\n";

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
            if (strcmp(kind, "auto") && strcmp(kind, "equisep") && strcmp(kind, "srhm") && strcmp(kind, "dynamics")) {
                fprintf(stderr, "hsweep analyze: --kind must be auto, equisep, srhm or dynamics, got '%s'\n", kind);
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
        if (rank == 0) cli_print_error(&err, 0, 1);
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
