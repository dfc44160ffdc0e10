/* cmd_keys.c - hsweep keys: every config key with its type, default, range and meaning. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hsweep/schema.h"

const char cmd_keys_usage[] =
    "usage: hsweep keys [--format text|markdown|tsv]\n"
    "\n"
    "List every config key with type, default, range and meaning (the README's key reference is\n"
    "`hsweep keys --format markdown`).\n"
    "\n"
    "options:\n"
    "  --format text|markdown|tsv   output form (default text)\n"
    "  -h, --help                   this text\n";

int cmd_keys(const cli_command *cmd, int argc, char **argv) {
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    hs_keys_format fmt = HS_KEYS_TEXT;
    for (int c; (c = cli_next_option(cmd, argc, argv, "h", opts)) != -1;) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "text")) fmt = HS_KEYS_TEXT;
            else if (!strcmp(optarg, "markdown")) fmt = HS_KEYS_MARKDOWN;
            else if (!strcmp(optarg, "tsv")) fmt = HS_KEYS_TSV;
            else {
                fprintf(stderr, "hsweep keys: unknown format '%s' (text, markdown or tsv)\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h': return cli_help(cmd);
        case CLI_ARG: return cli_unexpected(cmd, optarg);
        default: return EXIT_USAGE;
        }
    }
    hs_str out = {0};
    if (hs_schema_describe(fmt, &out) != HS_OK) {
        fprintf(stderr, "hsweep: error: out of memory\n");
        hs_str_free(&out);
        return EXIT_FAIL;
    }
    int rc = cli_write_out(&out);
    hs_str_free(&out);
    return rc;
}
