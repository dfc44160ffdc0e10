/* main.c - the hsweep command line: the table of commands, MPI around them, and dispatch.
 *
 * Each command is one cmd_*.c file (its options, usage text and work) and one line of the table
 * below, the only place that lists commands; `hsweep --help` is printed from it and
 * `hsweep CMD --help` prints the command's own usage. Only cli/ decides exit codes (cli.h). */
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hsweep/util.h"

static const cli_command commands[] = {
    {"plan", "expand a sweep spec, check every run before any compute, list the runs (dry run)", cmd_plan,
     cmd_plan_usage, CLI_MPI_IF_LAUNCHED, NULL, NULL},
    {"train", "train one run of a spec in this process and write its records to HDF5", cmd_train, cmd_train_usage,
     CLI_MPI_NEVER, NULL, NULL},
    /* signals before MPI_Init: one that comes while the ranks start (a job cancelled at once)
     * must drain them, not kill them by its default action with a run marked running */
    {"run", "run every training of a sweep across the MPI ranks into one HDF5 file", cmd_run, cmd_run_usage,
     CLI_MPI_ALWAYS, hs_sweep_install_signals, NULL},
    {"data", "write one run's exact training and test sets (after its data kind's processing) to HDF5", cmd_data,
     cmd_data_usage, CLI_MPI_NEVER, NULL, NULL},
    {"status", "summarise a results file (safe while it is written) and say what to do next", cmd_status,
     cmd_status_usage, CLI_MPI_NEVER, NULL, NULL},
    {"analyze", "analyse a results file (also under mpirun), writing back into it and tables beside it", cmd_analyze,
     NULL, CLI_MPI_ALWAYS, NULL, cmd_analyze_usage},
    {"report", "write one self-contained HTML page of a results file: spec, runs, tables, figures", cmd_report,
     cmd_report_usage, CLI_MPI_NEVER, NULL, NULL},
    {"keys", "list every config key with type, default, range and meaning", cmd_keys, cmd_keys_usage, CLI_MPI_NEVER,
     NULL, NULL},
    {"version", "print the version, the config schema version and the BLAS kernels in use", cmd_version,
     cmd_version_usage, CLI_MPI_NEVER, NULL, NULL},
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static void print_usage(FILE *f) {
    fputs("usage: hsweep <command> [options]\n\ncommands:\n", f);
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fputs("\n`hsweep <command> --help` shows a command's usage and options.\n"
          "Exit codes: 0 success, 1 error, 2 usage; run and status add their own (see their --help).\n"
          "Run under MPI (mpirun -np N hsweep plan ...): every rank expands and the ranks check they agree.\n",
          f);
}

static const cli_command *find_command(const char *name) {
    if (!strcmp(name, "--version")) name = "version";
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i].name, name)) return &commands[i];
    return NULL;
}

/* Non-zero when a launcher (mpirun, mpiexec, srun) started this process as an MPI rank. */
static int launched_by_mpi(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

/* The exit code: the command's, or a failure when its output on stdout could not be written. */
static int finish(int rc) {
    int out = cli_stdout_check();
    return rc == EXIT_OK ? out : rc;
}

int main(int argc, char **argv) {
    /* A reader that closes its end early (`hsweep analyze f.h5 | head`) must not kill the command
     * by SIGPIPE's default action: an analysis would die holding the file's lock, a sweep's rank
     * mid-write. Writes fail with EPIPE instead, and cli_stdout_check tells that from a real error. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        const cli_command *cmd = argc == 3 && !strcmp(argv[1], "help") ? find_command(argv[2]) : NULL;
        if (cmd) return finish(cli_help(cmd));
        print_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : finish(EXIT_OK);
    }
    const cli_command *cmd = find_command(argv[1]);
    if (!cmd) {
        fprintf(stderr, "hsweep: unknown command '%s'\n", argv[1]);
        print_usage(stderr);
        return EXIT_USAGE;
    }
    cli_fix_blas_kernels(argv);
    hs_blas_set_threads(1); /* one BLAS thread per process: ranks are the parallelism */
    if (cmd->mpi == CLI_MPI_ALWAYS || (cmd->mpi == CLI_MPI_IF_LAUNCHED && launched_by_mpi())) {
        if (cmd->before_mpi) cmd->before_mpi();
        MPI_Init(&argc, &argv);
        cli_have_mpi = 1;
    }
    int rc = cmd->run(cmd, argc - 1, argv + 1);
    if (cli_have_mpi) MPI_Finalize();
    return finish(rc);
}
