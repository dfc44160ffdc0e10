/* cli.h - what the hsweep commands share: exit codes, the command table's entry, option parsing,
 * error printing, and the agreements every rank of `plan` and `run` reach before any work.
 *
 * A command is one cmd_*.c file exporting its function and its usage text, plus one line in the
 * table of main.c, the only place that lists commands (`hsweep --help` is printed from it):
 *
 *     const char cmd_keys_usage[] = "usage: hsweep keys [--format text|markdown|tsv]\n...";
 *
 *     int cmd_keys(const cli_command *cmd, int argc, char **argv) {   // argv[0] is "keys"
 *         static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
 *                                              {"help", no_argument, NULL, 'h'}, {0}};
 *         for (int c; (c = cli_next_option(cmd, argc, argv, "h", opts)) != -1;)
 *             switch (c) {
 *             case 'f': ... break;
 *             case 'h': return cli_help(cmd);             // usage on stdout, exit 0
 *             case CLI_ARG: return cli_unexpected(cmd, optarg);
 *             default: return EXIT_USAGE;                 // cli_next_option said what was wrong
 *             }
 *         ...
 *     }
 *
 * Only cli/ exits: the library returns hs_code and fills hs_error, and these files turn that into
 * messages on stderr and exit codes. */
#ifndef HSWEEP_CLI_H
#define HSWEEP_CLI_H

#include <getopt.h>
#include <stddef.h>

#include "hsweep/plan.h"
#include "hsweep/reader.h"
#include "hsweep/sched.h"
#include "hsweep/spec.h"
#include "hsweep/status.h"
#include "hsweep/util.h"

/* Exit codes, the same for `run` and `status` so that batch scripts decide from either:
 * 3 work left (HS_EXIT_REQUEUE: requeue), 4 finished but some runs failed (no requeue; analyse
 * the rest), 5 stalled (work left, but the last two jobs made no progress: do not requeue),
 * 6 a live writer holds the file (status only). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_FAILED_RUNS = 4, EXIT_STALLED = 5, EXIT_LIVE = 6 };

/* How a command meets MPI: never (single process), only when a launcher started the process
 * (a singleton MPI_Init costs Open MPI 0.3-0.4 s), or always (the command is collective). */
typedef enum cli_mpi { CLI_MPI_NEVER, CLI_MPI_IF_LAUNCHED, CLI_MPI_ALWAYS } cli_mpi;

typedef struct cli_command cli_command;
struct cli_command {
    const char *name;    /* "plan" */
    const char *summary; /* one line for `hsweep --help` */
    int (*run)(const cli_command *cmd, int argc, char **argv); /* argv[0] is the name; returns the exit code */
    const char *usage;   /* `hsweep NAME --help`: starts with "usage: hsweep NAME ..." */
    cli_mpi mpi;
    void (*before_mpi)(void); /* optional: runs before MPI_Init (run's signal handlers) */
    /* optional, instead of usage: a usage built when asked, from a registry (analyze lists the
     * analyses the build has) */
    const char *(*usage_of)(void);
};

/* The command's usage text: usage_of() when set, else usage. */
const char *cli_usage(const cli_command *cmd);

/* Non-zero once MPI_Init has run (set by main). */
extern int cli_have_mpi;

/* cli_next_option's answer for a positional argument (in optarg), in the order given. */
enum { CLI_ARG = 1 };

/* getopt_long over argv[0..argc) with --long names given exactly (no abbreviations: `--over`
 * is not `--overwrite`). Returns an option's val, CLI_ARG for a positional argument (also
 * everything after "--"), -1 at the end, and '?' after printing what was wrong (an unknown
 * option, a missing value) with the command's usage on stderr. */
int cli_next_option(const cli_command *cmd, int argc, char **argv, const char *shortopts, const struct option *opts);

/* The command's usage on stdout; returns EXIT_OK (the answer to --help). */
int cli_help(const cli_command *cmd);

/* A positional argument the command takes none (more) of: message and usage on stderr, EXIT_USAGE. */
int cli_unexpected(const cli_command *cmd, const char *arg);

/* The spec file of plan, run and train: one only. EXIT_OK, or EXIT_USAGE after a message. */
int cli_take_spec(const cli_command *cmd, const char *arg, const char **spec);
int cli_missing_spec(const cli_command *cmd);

/* "hsweep: error: MSG" (naming the rank when there are several), the hint, and the trace when
 * HSWEEP_TRACE is set. */
void cli_print_error(const hs_error *err, int rank, int nranks);

/* s on stdout: EXIT_OK, or EXIT_FAIL when it cannot be written. */
int cli_write_out(const hs_str *s);

/* Flush stdout: EXIT_OK when everything written arrived, stdout is closed, or its reader closed
 * early (`| head`: SIGPIPE is ignored, so that reader cannot kill a command holding a lock or an
 * open file), EXIT_FAIL after a message when it could not be written (a full disk behind
 * `> out.md`). */
int cli_stdout_check(void);

/* The spec at spec_path with the --set overrides applied to its base, expanded. */
hs_code cli_build_plan(const char *spec_path, const char *const *sets, int n_sets, size_t max_runs, hs_spec **spec,
                       hs_plan **plan, hs_error *err);

/* Collective: non-zero on every rank when code failed on any; the first failing rank prints its
 * error, naming itself (always with name_rank, else only when it is not rank 0, which speaks for
 * the job). */
int cli_first_failure(hs_code code, const hs_error *err, int name_rank);

/* Every rank built the plan; agree on the outcome before any other collective: the first failing
 * rank prints its error, and all ranks must hold the same plan (same digest), or none goes on. */
int cli_plan_agree(hs_code code, const hs_error *err, const hs_plan *plan, const char *spec_path);

/* Every run of the agreed plan passes the preflight (its data, files and config checks) before any
 * compute. Each rank checks for itself, since ranks on other nodes may see other files; the
 * first failing rank prints its error and all ranks get the same answer. */
int cli_preflight_agree(const hs_plan *plan);

/* Collective, after cli_preflight_agree: every run of the agreed plan fits the memory of the node
 * each rank is on (hs_memory_limit against hs_train_memory_plan's floor), or none goes on; a
 * warning when the ranks of a node could together hold more than it allows (the dispatcher then
 * hands such runs out fewer at a time there). */
int cli_memory_agree(const hs_plan *plan);

/* OpenBLAS's kernels for this CPU, re-executing the process once when OpenBLAS guessed badly
 * (blas.c); call before MPI_Init. */
void cli_fix_blas_kernels(char **argv);
/* The file of the shared library that defines symbol in this process (calls bind to it), or NULL
 * when it is linked statically or cannot be told. On Debian libblas.so.3 and liblapack.so.3 may be
 * OpenBLAS or the reference libraries whatever the build linked: this tells which was loaded. */
const char *cli_symbol_library(const char *symbol);

/* The plan of one run of the spec at spec_path (run_lookup.c): the run whose id starts with `run`
 * (NULL: the spec's single run) of any stage: the first expansion's, a later stage's that the spec
 * alone plans, or, given the sweep's results file, one planned from earlier stages' results; with
 * the --set overrides applied (they change its id). *spec and *plan are the caller's to free, the
 * run is *plan's row *r. HS_ERR_USAGE with the reason and a hint when no run or several match. */
hs_code cli_plan_one_run(const char *spec_path, const char *run, const char *results, const char *const *sets,
                         int n_sets, hs_spec **spec, hs_plan **plan, size_t *r, hs_error *err);

/* The commands (one cmd_*.c each). */
int cmd_plan(const cli_command *cmd, int argc, char **argv);
int cmd_train(const cli_command *cmd, int argc, char **argv);
int cmd_run(const cli_command *cmd, int argc, char **argv);
int cmd_status(const cli_command *cmd, int argc, char **argv);
int cmd_analyze(const cli_command *cmd, int argc, char **argv);
int cmd_keys(const cli_command *cmd, int argc, char **argv);
int cmd_version(const cli_command *cmd, int argc, char **argv);
int cmd_data(const cli_command *cmd, int argc, char **argv);
int cmd_report(const cli_command *cmd, int argc, char **argv);
extern const char cmd_plan_usage[], cmd_train_usage[], cmd_run_usage[], cmd_status_usage[], cmd_keys_usage[],
    cmd_version_usage[], cmd_data_usage[], cmd_report_usage[];
const char *cmd_analyze_usage(void); /* lists the analysis registry */

/* ---------------------------------------------------------------- stages (stages.c) */

/* The metric table hs_select_pick ranks, for the runs of prev (a plan of the stages before the
 * select's): each run's final value of sel->metric from the file rd, matched by id; +-HUGE_VAL
 * (the worst) for a diverged run; NaN for a run not done or not in the file. */
hs_code cli_stage_metric(const hs_plan *prev, const hs_select *sel, const hs_results_reader *rd, double *metric,
                         hs_error *err);
/* Lines naming each group's winner of stage `stage`'s select; returns the number of groups
 * without one (their runs are not plannable). */
size_t cli_describe_picks(const hs_spec *spec, size_t stage, const hs_picks *pk, hs_str *out);

/* Each run of plan from the file rd: metric[r] its final value of m (NaN unless done), resolved[r]
 * 1 when it is done, diverged or failed (nothing more will come of it). */
hs_code cli_run_values(const hs_plan *plan, const hs_results_reader *rd, hs_metric m, double *metric,
                       unsigned char *resolved, hs_error *err);
/* The points of stage `stage`'s search (st from hs_search_groups), replayed from the values of
 * plan's runs (metric NULL: nothing measured, the first round). */
hs_code cli_search_replay(const hs_spec *spec, size_t stage, const hs_plan *plan, const double *metric,
                          const unsigned char *resolved, hs_search_state *st, hs_error *err);
/* Lines per group of a search: status, bracket, crossing; returns the groups still open. */
size_t cli_describe_search(const hs_spec *spec, size_t stage, const hs_search_state *st, hs_str *out);
/* The search's result into the results file at path (store.h: hs_results_write_search). */
hs_code cli_search_store(const char *path, const hs_spec *spec, size_t stage, const hs_search_state *st, hs_error *err);

#endif
