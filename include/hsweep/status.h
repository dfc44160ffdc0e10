/*
 * status.h - how every hsweep library function reports failure.
 *
 * Library code never exits or aborts: inside an MPI job a dying rank takes the whole
 * sweep with it. A function that can fail returns an hs_code and fills the caller's
 * hs_error with a one-line message, an optional hint and a trace of source locations
 * that grows as the error travels up (PETSc style). Only cli/ decides to exit.
 *
 *     hs_error err = {0};
 *     hs_spec *spec = NULL;
 *     if (hs_spec_load("sweep.yaml", &spec, &err) != HS_OK) {
 *         fprintf(stderr, "error: %s\n", err.msg);       // sweep.yaml:4:3: model.dept: unknown key ...
 *         if (err.hint[0]) fprintf(stderr, "hint: %s\n", err.hint);
 *         fprintf(stderr, "trace: %s\n", err.trace);     // src/spec/spec.c:212 <- src/spec/spec.c:430
 *     }
 *
 * Inside the library:
 *
 *     if (n < 0) return HS_FAIL(err, HS_ERR_VALUE, "n must be >= 0, got %d", n);
 *     HS_TRY(err, hs_plan_expand(spec, &opts, &plan, err));   // appends this file:line on failure
 *
 * When something must be released on the way out, the one goto-cleanup form:
 *
 *     hs_code rc = HS_OK;
 *     float *buf = malloc(n * sizeof *buf);
 *     if (!buf) return HS_FAIL(err, HS_ERR_NOMEM, "no memory for %zu floats", n);
 *     HS_CHECK(err, rc, hs_load(path, buf, n, err), done);    // rc = code, trace, goto done
 * done:
 *     free(buf);
 *     return rc;
 */
#ifndef HSWEEP_STATUS_H
#define HSWEEP_STATUS_H

#include <stddef.h>

typedef enum hs_code {
    HS_OK = 0,
    HS_ERR_USAGE,    /* bad command line */
    HS_ERR_IO,       /* a file could not be opened, read or written */
    HS_ERR_YAML,     /* the spec is not well-formed YAML */
    HS_ERR_SPEC,     /* well-formed YAML that is not a valid sweep spec */
    HS_ERR_VALUE,    /* a value of the right type but outside its allowed range */
    HS_ERR_NOMEM,    /* an allocation failed */
    HS_ERR_LIMIT,    /* a configured limit (e.g. maximum plan size) was exceeded */
    HS_ERR_MPI,      /* an MPI call failed or ranks disagree */
    HS_ERR_INTERNAL, /* a bug in hsweep: please report it */
    HS_CODE_COUNT
} hs_code;

typedef struct hs_error {
    hs_code code;
    char msg[1024];  /* one line, user-facing; spec errors start with file:line:col: key.path: */
    char hint[256];  /* optional suggestion ("did you mean 'model.depth'?"), may be empty */
    char trace[512]; /* "src/a.c:10 <- src/b.c:20": where it was raised, then each HS_TRY it crossed */
} hs_error;

/* Stable lower-case name of a code ("spec", "nomem", ...), for messages and tests. */
const char *hs_code_to_string(hs_code code);

/* Fill err (which may be NULL) with code and a printf-style message; records file:line as the
 * first trace entry and clears the hint. Returns code so it can be used in a return statement. */
hs_code hs_error_set(hs_error *err, hs_code code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Set the hint of an error already raised (printf-style). Returns err->code. */
hs_code hs_error_hint(hs_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append "<- file:line" to the trace (truncated quietly when full). */
void hs_error_trace(hs_error *err, const char *file, int line);

/* Reset err to HS_OK with empty strings. */
void hs_error_clear(hs_error *err);

#define HS_FAIL(err, code, ...) hs_error_set((err), (code), __FILE__, __LINE__, __VA_ARGS__)

/* Evaluate an hs_code expression; on failure add this location to the trace and return it. */
#define HS_TRY(err, expr)                                                                          \
    do {                                                                                           \
        hs_code hs_try_rc_ = (expr);                                                               \
        if (hs_try_rc_ != HS_OK) {                                                                 \
            hs_error_trace((err), __FILE__, __LINE__);                                             \
            return hs_try_rc_;                                                                     \
        }                                                                                          \
    } while (0)

/* Evaluate an hs_code expression into rc; on failure add this location to the trace and jump to
 * label (the function's single cleanup block, which returns rc). */
#define HS_CHECK(err, rc, expr, label)                                                             \
    do {                                                                                           \
        if (((rc) = (expr)) != HS_OK) {                                                            \
            hs_error_trace((err), __FILE__, __LINE__);                                             \
            goto label;                                                                            \
        }                                                                                          \
    } while (0)

#endif /* HSWEEP_STATUS_H */
