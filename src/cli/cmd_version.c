/* cmd_version.c - hsweep version: the version, the config schema's and the BLAS kernels in use. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "hsweep/schema.h"
#include "hsweep/util.h"

const char cmd_version_usage[] =
    "usage: hsweep version\n"
    "\n"
    "Print the version, the config schema version and the BLAS kernels in use.\n"
    "\n"
    "options:\n"
    "  -h, --help               this text\n";

int cmd_version(const cli_command *cmd, int argc, char **argv) {
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    for (int c; (c = cli_next_option(cmd, argc, argv, "h", opts)) != -1;) {
        switch (c) {
        case 'h': return cli_help(cmd);
        case CLI_ARG: return cli_unexpected(cmd, optarg);
        default: return EXIT_USAGE;
        }
    }
    /* set by cli_fix_blas_kernels when it chose the kernels for OpenBLAS */
    const char *was = getenv("HSWEEP_BLAS_REEXEC");
    printf("hsweep %s (config schema %d)\nBLAS: %s%s%s%s\n", HSWEEP_VERSION_STRING, HS_SCHEMA_VERSION,
           hs_blas_describe(), was ? " (chosen by hsweep: OpenBLAS did not recognise the CPU and picked " : "",
           was ? was : "", was ? ")" : "");
    const char *blas = cli_symbol_library("cblas_sgemm"), *lapack = cli_symbol_library("dpotrf_");
    printf("BLAS library: %s\nLAPACK library: %s\n", blas ? blas : "linked statically",
           lapack ? lapack : "linked statically");
    return EXIT_OK;
}
