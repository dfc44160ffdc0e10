/* cli.c - what the commands share: option parsing, messages, and the ranks' agreement on a plan. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <mpi.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hsweep/train.h"

int cli_have_mpi;

/* The name a user typed for the option getopt_long just returned (idx its long option, or -1). */
static const char *typed_option(int argc, char **argv, int idx, const struct option *opts) {
    if (optind < 1 || optind > argc) return "";
    const char *el = argv[optind - 1];
    /* "--set key=value": the value is the last element taken, the option the one before */
    if (idx >= 0 && opts[idx].has_arg != no_argument && optarg == el && optind >= 2) el = argv[optind - 2];
    return el;
}

int cli_next_option(const cli_command *cmd, int argc, char **argv, const char *shortopts, const struct option *opts) {
    /* After "--" (getopt_long's end), the rest are positional arguments. */
    static int rest = -1;
    if (rest >= 0) {
        if (rest >= argc) return -1;
        optarg = argv[rest++];
        return CLI_ARG;
    }
    /* "-": positional arguments come back in place, in order (whatever POSIXLY_CORRECT says);
     * ":": a missing value is told apart from an unknown option; messages are ours (opterr 0). */
    char optstring[64];
    snprintf(optstring, sizeof optstring, "-:%s", shortopts);
    opterr = 0;
    int idx = -1;
    int c = getopt_long(argc, argv, optstring, opts, &idx);
    if (c == -1) {
        if (optind < argc) {
            rest = optind;
            return cli_next_option(cmd, argc, argv, shortopts, opts);
        }
        return -1;
    }
    if (c == CLI_ARG) return c;
    if (c == ':') {
        fprintf(stderr, "hsweep %s: option '%s' needs a value\n%s", cmd->name, typed_option(argc, argv, -1, opts),
                cli_usage(cmd));
        return '?';
    }
    if (c == '?') {
        const char *el = typed_option(argc, argv, -1, opts);
        char shortname[3] = {'-', (char)optopt, '\0'};
        /* An unknown letter is named alone (in "-xq" the element may not even be the last one
         * taken); "--quiet=1" (a value to a switch) and unknown long names by what was typed. */
        int long_value = el[0] == '-' && el[1] == '-' && strchr(el, '=');
        fprintf(stderr, "hsweep %s: unknown option '%s'\n%s", cmd->name, optopt && !long_value ? shortname : el,
                cli_usage(cmd));
        return '?';
    }
    if (idx >= 0) {
        /* getopt_long accepts any unique prefix of a long name; a command line that works
         * should spell the option the way the usage and the scripts do */
        const char *el = typed_option(argc, argv, idx, opts);
        size_t n = strlen(opts[idx].name);
        if (strncmp(el, "--", 2) != 0 || strncmp(el + 2, opts[idx].name, n) != 0 || (el[2 + n] && el[2 + n] != '=')) {
            size_t len = strcspn(el, "=");
            fprintf(stderr, "hsweep %s: unknown option '%.*s'\n%s", cmd->name, (int)len, el, cli_usage(cmd));
            return '?';
        }
    }
    return c;
}

const char *cli_usage(const cli_command *cmd) { return cmd->usage_of ? cmd->usage_of() : cmd->usage; }

int cli_help(const cli_command *cmd) {
    fputs(cli_usage(cmd), stdout);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

int cli_unexpected(const cli_command *cmd, const char *arg) {
    fprintf(stderr, "hsweep %s: unexpected argument '%s'\n%s", cmd->name, arg, cli_usage(cmd));
    return EXIT_USAGE;
}

int cli_take_spec(const cli_command *cmd, const char *arg, const char **spec) {
    if (*spec) {
        fprintf(stderr, "hsweep %s: more than one spec file ('%s' and '%s')\n", cmd->name, *spec, arg);
        return EXIT_USAGE;
    }
    *spec = arg;
    return EXIT_OK;
}

int cli_missing_spec(const cli_command *cmd) {
    fprintf(stderr, "hsweep %s: missing the spec file\n%s", cmd->name, cli_usage(cmd));
    return EXIT_USAGE;
}

void cli_print_error(const hs_error *err, int rank, int nranks) {
    if (nranks > 1) fprintf(stderr, "hsweep: rank %d: error: %s\n", rank, err->msg);
    else fprintf(stderr, "hsweep: error: %s\n", err->msg);
    if (err->hint[0]) fprintf(stderr, "  hint: %s\n", err->hint);
    if (getenv("HSWEEP_TRACE")) fprintf(stderr, "  trace: %s\n", err->trace);
}

int cli_write_out(const hs_str *s) {
    if (s->len) fwrite(s->buf, 1, s->len, stdout);
    return cli_stdout_check();
}

/* Non-zero when nobody wants stdout: closed by the caller (`>&-`), or a pipe or socket whose
 * reader has gone. The error of an earlier write may since have been overwritten in errno; the
 * descriptor's state cannot. */
static int stdout_unwanted(void) {
    if (fcntl(STDOUT_FILENO, F_GETFD) == -1 && errno == EBADF) return 1;
    struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

int cli_stdout_check(void) {
    int flushed = fflush(stdout) == 0, e = errno;
    if (flushed && !ferror(stdout)) return EXIT_OK;
    clearerr(stdout); /* said once: the exit path checks again */
    /* a reader that stopped early (`| head`) wanted no more, a closed stdout wanted none: nothing
     * is lost, and the command's own answer (status's exit code) still stands */
    if ((!flushed && (e == EPIPE || e == EBADF)) || stdout_unwanted()) return EXIT_OK;
    /* when an earlier write failed, errno has moved on since: name no cause rather than a wrong one */
    fprintf(stderr, "hsweep: error: the output on stdout is incomplete%s%s\n", flushed ? "" : ": ",
            flushed ? " (a write failed: a full disk?)" : strerror(e));
    return EXIT_FAIL;
}

hs_code cli_build_plan(const char *spec_path, const char *const *sets, int n_sets, size_t max_runs, hs_spec **spec,
                       hs_plan **plan, hs_error *err) {
    HS_TRY(err, hs_spec_load(spec_path, spec, err));
    /* the spec's base, and nothing above it may silently win (train has its own --set) */
    for (int i = 0; i < n_sets; i++) HS_TRY(err, hs_spec_override_base(*spec, sets[i], err));
    /* a first stage that searches expands to its first round, known before anything ran */
    hs_plan_opts opts = {.max_runs = max_runs};
    return hs_plan_expand(*spec, &opts, plan, err);
}

int cli_first_failure(hs_code code, const hs_error *err, int name_rank) {
    int rank = 0, nranks = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int my_fail = code != HS_OK ? rank : nranks, first_fail = nranks;
    MPI_Allreduce(&my_fail, &first_fail, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first_fail < nranks && rank == first_fail) cli_print_error(err, rank, first_fail || name_rank ? nranks : 1);
    return first_fail < nranks;
}

int cli_plan_agree(hs_code code, const hs_error *err, const hs_plan *plan, const char *spec_path) {
    if (!cli_have_mpi) {
        if (code != HS_OK) cli_print_error(err, 0, 1);
        return code != HS_OK ? EXIT_FAIL : EXIT_OK;
    }
    if (cli_first_failure(code, err, 1)) return EXIT_FAIL;
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

int cli_memory_agree(const hs_plan *plan) {
    hs_error err = {0};
    const char *what = NULL;
    const double limit = hs_memory_limit(&what);
    hs_train_memory_need need = {0};
    int nranks = 1;
    if (cli_have_mpi) MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    hs_code code = hs_train_memory_plan(plan, -1, nranks, limit, what, &need, &err);
    if (!cli_have_mpi) {
        if (code != HS_OK) cli_print_error(&err, 0, 1);
        return code != HS_OK ? EXIT_FAIL : EXIT_OK;
    }
    if (cli_first_failure(code, &err, 0)) return EXIT_FAIL;
    /* Each run fits its node alone; ranks on one node share its memory, so the dispatcher holds
     * large runs back there (dispatch.c) and ranks wait: worth a word before the sweep starts. */
    MPI_Comm node;
    int rank = 0, on_node = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &on_node);
    MPI_Comm_free(&node);
    double mine[2] = {limit > 0 ? on_node * need.bytes / limit : 0, on_node}, most[2];
    MPI_Allreduce(mine, most, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0 && most[0] > 1) {
        char least[32], have[32];
        hs_format_bytes(need.bytes, least, sizeof least);
        hs_format_bytes(limit, have, sizeof have);
        fprintf(stderr, "hsweep: warning: run %016llx needs at least %s of memory and up to %.0f ranks on a node could "
                "hold runs that large at once: more than the node allows (%s here: %s); such runs are handed out "
                "fewer at a time there, and ranks wait\n"
                "  hint: fewer ranks per node for this sweep (mpirun --map-by ppr:N:node, sbatch "
                "--ntasks-per-node), or more memory per node\n",
                (unsigned long long)plan->runs[need.run].id, least, most[1], what ? what : "memory", have);
    }
    return EXIT_OK;
}

int cli_preflight_agree(const hs_plan *plan) {
    hs_error err = {0};
    hs_code code = hs_train_preflight_plan(plan, &err);
    if (!cli_have_mpi) {
        if (code != HS_OK) cli_print_error(&err, 0, 1);
        return code != HS_OK ? EXIT_FAIL : EXIT_OK;
    }
    return cli_first_failure(code, &err, 0) ? EXIT_FAIL : EXIT_OK;
}
