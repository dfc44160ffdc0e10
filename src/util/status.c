/* status.c - error codes, messages and traces (see include/hsweep/status.h). */
#include "hsweep/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const code_names[HS_CODE_COUNT] = {
    [HS_OK] = "ok",           [HS_ERR_USAGE] = "usage", [HS_ERR_IO] = "io",
    [HS_ERR_YAML] = "yaml",   [HS_ERR_SPEC] = "spec",   [HS_ERR_VALUE] = "value",
    [HS_ERR_NOMEM] = "nomem", [HS_ERR_LIMIT] = "limit", [HS_ERR_MPI] = "mpi",
    [HS_ERR_INTERNAL] = "internal",
};

const char *hs_code_to_string(hs_code code) {
    if ((int)code < 0 || code >= HS_CODE_COUNT) return "unknown";
    return code_names[code];
}

/* Trace entries name the file relative to the source tree: __FILE__ may be absolute. */
static const char *short_path(const char *file) {
    const char *p = strstr(file, "/src/");
    if (!p) p = strstr(file, "/tests/");
    return p ? p + 1 : file;
}

hs_code hs_error_set(hs_error *err, hs_code code, const char *file, int line, const char *fmt, ...) {
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->hint[0] = '\0';
    snprintf(err->trace, sizeof err->trace, "%s:%d", short_path(file), line);
    return code;
}

hs_code hs_error_hint(hs_error *err, const char *fmt, ...) {
    if (!err) return HS_ERR_INTERNAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof err->hint, fmt, ap);
    va_end(ap);
    return err->code;
}

void hs_error_trace(hs_error *err, const char *file, int line) {
    if (!err) return;
    size_t used = strlen(err->trace);
    if (used + 8 >= sizeof err->trace) return;
    snprintf(err->trace + used, sizeof err->trace - used, " <- %s:%d", short_path(file), line);
}

void hs_error_clear(hs_error *err) {
    if (!err) return;
    err->code = HS_OK;
    err->msg[0] = err->hint[0] = err->trace[0] = '\0';
}
