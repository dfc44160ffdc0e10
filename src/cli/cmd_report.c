/* cmd_report.c - hsweep report: one self-contained HTML page of a results file.
 *
 * The page is made by the Python package (python/hsweep/report.py): it reads the file through the
 * package's reader, runs the figure scripts of analysis/ and inlines their PNGs, which C would
 * have to redo. This command finds the interpreter, the package and the scripts the way the
 * binary finds its other files (an installed tree beside the executable first, else the source
 * tree this build came from), runs the module, and turns its failure into an error message. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

#ifndef HSWEEP_PYTHON_DEFAULT
#define HSWEEP_PYTHON_DEFAULT "/usr/bin/python3"
#endif
#ifndef HSWEEP_PYSITE_FROM_BIN
#define HSWEEP_PYSITE_FROM_BIN "../lib/python3/site-packages"
#endif
#ifndef HSWEEP_DATADIR_FROM_BIN
#define HSWEEP_DATADIR_FROM_BIN "../share/hsweep"
#endif

const char cmd_report_usage[] =
    "usage: hsweep report FILE -o report.html [--no-figures] [--python PY]\n"
    "\n"
    "Write one self-contained HTML page of a results file (no network needed to view it: figures\n"
    "inlined as PNG, styles inline): the sweep's spec, runs by state and a table of every run (its\n"
    "varying keys, state, attempts, wall time, error, where it ran), the failed runs' errors, every\n"
    "table the analyses stored in the file (`hsweep analyze`) and the figures of the figure scripts\n"
    "that match them (analysis/README.md), each with its caption. Read-only: nothing is written into\n"
    "FILE or beside it, and a file a sweep is writing reads fine. A figure script that fails is\n"
    "shown on the page with its message.\n"
    "\n"
    "options:\n"
    "  -o, --output PATH        the page to write (required)\n"
    "      --no-figures         leave the figures out (the page in a second instead of several)\n"
    "      --python PY          the interpreter (needs numpy, h5py, pandas, matplotlib); default\n"
    "                           $HSWEEP_PYTHON, else the python3 found at configure time\n"
    "  -h, --help               this text\n";

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The directory holding the package hsweep, and the figure scripts' directory, as *py and *scripts:
 * those of the install this executable belongs to (site-packages and share/hsweep/analysis, found
 * from bin/), else the source tree of this build. */
static hs_code find_dirs(hs_str *py, hs_str *scripts, hs_error *err) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        hs_str probe = {0};
        hs_str_printf(&probe, "%s/%s/hsweep/report.py", exe, HSWEEP_PYSITE_FROM_BIN);
        int installed = probe.buf && is_file(probe.buf);
        hs_str_reset(&probe);
        hs_str_printf(&probe, "%s/%s/analysis/README.md", exe, HSWEEP_DATADIR_FROM_BIN);
        installed = installed && probe.buf && is_file(probe.buf);
        hs_str_free(&probe);
        if (installed) {
            hs_str_printf(py, "%s/%s", exe, HSWEEP_PYSITE_FROM_BIN);
            hs_str_printf(scripts, "%s/%s/analysis", exe, HSWEEP_DATADIR_FROM_BIN);
            return HS_OK;
        }
    }
#ifdef HSWEEP_SOURCE_DIR
    if (is_file(HSWEEP_SOURCE_DIR "/python/hsweep/report.py")) {
        hs_str_printf(py, "%s", HSWEEP_SOURCE_DIR "/python");
        hs_str_printf(scripts, "%s", HSWEEP_SOURCE_DIR "/analysis");
        return HS_OK;
    }
#endif
    hs_code rc = HS_FAIL(err, HS_ERR_IO, "cannot find the report generator (python/hsweep/report.py)");
    hs_error_hint(err, "run the hsweep of an installed tree (its Python package and share/hsweep found from bin/) "
                       "or of a build");
    return rc;
}

/* The last non-empty line of text (a Python traceback's last line is its message). */
static const char *last_line(hs_str *s) {
    if (!s->buf) return "";
    size_t len = s->len;
    while (len && (s->buf[len - 1] == '\n' || s->buf[len - 1] == ' ' || s->buf[len - 1] == '\r')) s->buf[--len] = '\0';
    const char *nl = strrchr(s->buf, '\n');
    return nl ? nl + 1 : s->buf;
}

/* Run python -m hsweep.report FILE -o OUT --scripts DIR with PYTHONPATH led by pydir. Its stderr
 * goes to ours as it comes (progress, a failing figure script, a traceback) and into *errtext. */
static hs_code run_generator(const char *python, const char *pydir, const char *scripts, int figures, const char *file,
                             const char *out, hs_str *errtext, int *status, hs_error *err) {
    int fd[2];
    if (pipe(fd) != 0) return HS_FAIL(err, HS_ERR_IO, "cannot make a pipe: %s", strerror(errno));
    fflush(stdout), fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]), close(fd[1]);
        return HS_FAIL(err, HS_ERR_IO, "cannot start %s: %s", python, strerror(errno));
    }
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], STDERR_FILENO);
        close(fd[1]);
        const char *old = getenv("PYTHONPATH");
        hs_str pp = {0};
        hs_str_printf(&pp, "%s%s%s", pydir, old && *old ? ":" : "", old && *old ? old : "");
        if (pp.buf) setenv("PYTHONPATH", pp.buf, 1);
        char *argv[] = {(char *)python, "-m", "hsweep.report", (char *)file, "-o", (char *)out,
                        "--scripts", (char *)scripts, figures ? NULL : "--no-figures", NULL};
        execv(python, argv);
        fprintf(stderr, "cannot run %s: %s\n", python, strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    char buf[4096];
    for (ssize_t n; (n = read(fd[0], buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        hs_str_append(errtext, buf, (size_t)n);
        fwrite(buf, 1, (size_t)n, stderr);
    }
    close(fd[0]);
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR) return HS_FAIL(err, HS_ERR_IO, "lost the report generator: %s", strerror(errno));
    return HS_OK;
}

static hs_code report(const char *file, const char *out, const char *python, int figures, hs_error *err) {
    const char *what = hs_path_not_file(file, NULL);
    if (what) return HS_FAIL(err, HS_ERR_IO, "%s: is %s, not a results file", file, what);
    if (!is_file(file)) return HS_FAIL(err, HS_ERR_IO, "%s: no such file", file);
    if (access(python, X_OK) != 0) {
        hs_code rc = HS_FAIL(err, HS_ERR_IO, "no Python interpreter at %s", python);
        hs_error_hint(err, "give one with --python PY (it needs numpy, h5py, pandas and matplotlib)");
        return rc;
    }
    hs_str pydir = {0}, scripts = {0}, errtext = {0};
    int status = 0;
    hs_code rc = find_dirs(&pydir, &scripts, err);
    if (rc == HS_OK) rc = run_generator(python, pydir.buf, scripts.buf, figures, file, out, &errtext, &status, err);
    if (rc == HS_OK) {
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        if (code != 0) {
            rc = HS_FAIL(err, HS_ERR_IO, "the report generator failed (%s -m hsweep.report, exit %d): %.700s",
                         python, code, last_line(&errtext));
            if (strstr(errtext.buf ? errtext.buf : "", "No module named"))
                hs_error_hint(err, "the interpreter lacks a module the page needs (numpy, h5py, pandas, "
                                   "matplotlib): pick another with --python");
        }
    }
    hs_str_free(&pydir), hs_str_free(&scripts), hs_str_free(&errtext);
    return rc;
}

int cmd_report(const cli_command *cmd, int argc, char **argv) {
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"python", required_argument, NULL, 'p'},
                                         {"no-figures", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *file = NULL, *out = NULL, *python = NULL;
    int figures = 1;
    for (int c; (c = cli_next_option(cmd, argc, argv, "o:h", opts)) != -1;) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'p': python = optarg; break;
        case 'n': figures = 0; break;
        case 'h': return cli_help(cmd);
        case CLI_ARG:
            if (file) return cli_unexpected(cmd, optarg);
            file = optarg;
            break;
        default: return EXIT_USAGE;
        }
    }
    if (!file || !out) {
        fprintf(stderr, "hsweep report: missing %s\n%s", !file ? "the results file" : "-o PATH", cli_usage(cmd));
        return EXIT_USAGE;
    }
    if (!python) python = getenv("HSWEEP_PYTHON");
    /* the configure-time interpreter may be gone where an install was copied to */
    if (!python || !*python) python = access(HSWEEP_PYTHON_DEFAULT, X_OK) == 0 ? HSWEEP_PYTHON_DEFAULT : "/usr/bin/python3";
    hs_error err = {0};
    if (report(file, out, python, figures, &err) != HS_OK) {
        cli_print_error(&err, 0, 1);
        return EXIT_FAIL;
    }
    /* on stderr: the page itself may be what goes to stdout (-o /dev/stdout) */
    fprintf(stderr, "wrote %s\n", out);
    return EXIT_OK;
}
