/* provenance.c - where and how this process trains (see hs_run_provenance in run.h): what a run's
 * numbers may depend on besides its config (the CPU's instruction sets pick the products' kernels,
 * the BLAS sums in its own order), and where to find its job's logs (host, Slurm ids). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hsweep/nn.h"
#include "hsweep/run.h"
#include "hsweep_git.h"

#ifndef HSWEEP_VERSION_STRING
#define HSWEEP_VERSION_STRING "unknown"
#endif

/* OpenBLAS's own answers, when hsweep is linked to it; weak so that another CBLAS links too. */
extern char *openblas_get_config(void) __attribute__((weak));
extern char *openblas_get_corename(void) __attribute__((weak));

/* Append "key=value\n" with newlines and tabs in value made spaces ("unknown" for NULL or ""). */
static hs_code put(hs_str *out, const char *key, const char *value) {
    if (!value || !value[0]) value = "unknown";
    size_t at = out->len;
    hs_code rc = hs_str_printf(out, "%s=%s\n", key, value);
    for (size_t k = at + strlen(key) + 1; rc == HS_OK && k + 1 < out->len; k++)
        if (out->buf[k] == '\n' || out->buf[k] == '\r' || out->buf[k] == '\t') out->buf[k] = ' ';
    return rc;
}

/* /proc/cpuinfo's first "model name" (x86) or "Model"/"CPU part" line's value, into buf. */
static void cpu_model(char *buf, size_t n) {
    buf[0] = '\0';
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (!fp) return;
    char line[512];
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "model name", 10) != 0 && strncmp(line, "Model", 5) != 0) continue;
        const char *v = strchr(line, ':');
        if (!v) continue;
        for (v++; *v == ' ' || *v == '\t'; v++) {}
        snprintf(buf, n, "%s", v);
        buf[strcspn(buf, "\n")] = '\0';
        break;
    }
    fclose(fp);
}

static void isa_flags(hs_str *s) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    /* __builtin_cpu_supports takes literals only, hence the table of pairs */
    const struct {
        const char *name;
        int on;
    } f[] = {{"sse4.2", __builtin_cpu_supports("sse4.2")},     {"avx", __builtin_cpu_supports("avx")},
             {"avx2", __builtin_cpu_supports("avx2")},         {"fma", __builtin_cpu_supports("fma")},
             {"avx512f", __builtin_cpu_supports("avx512f")},   {"avx512bw", __builtin_cpu_supports("avx512bw")},
             {"avx512dq", __builtin_cpu_supports("avx512dq")}, {"avx512vl", __builtin_cpu_supports("avx512vl")}};
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
        if (f[k].on) hs_str_printf(s, "%s%s", s->len ? "," : "", f[k].name);
#else
    (void)s;
#endif
}

hs_code hs_run_provenance(hs_str *out, hs_error *err) {
    char host[256] = "", cpu[256], mpi[MPI_MAX_LIBRARY_VERSION_STRING + 1] = "";
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    cpu_model(cpu, sizeof cpu);
    int len = 0;
    if (MPI_Get_library_version(mpi, &len) != MPI_SUCCESS) mpi[0] = '\0';
    mpi[strcspn(mpi, "\n")] = '\0';
    if (strlen(mpi) > 120) mpi[120] = '\0'; /* Open MPI's line goes on with its build details */
    hs_str isa = {0}, blas = {0};
    isa_flags(&isa);
    if (openblas_get_config) {
        const char *cfg = openblas_get_config(), *core = openblas_get_corename ? openblas_get_corename() : NULL;
        /* its config text starts "OpenBLAS <version>" */
        hs_str_printf(&blas, "%s (%s kernels)", cfg ? cfg : "OpenBLAS", core ? core : "unknown");
    } else {
        hs_str_printf(&blas, "cblas");
    }
    static const char *const slurm[][2] = {{"slurm_job_id", "SLURM_JOB_ID"},
                                           {"slurm_step_id", "SLURM_STEP_ID"},
                                           {"slurm_array_job_id", "SLURM_ARRAY_JOB_ID"},
                                           {"slurm_array_task_id", "SLURM_ARRAY_TASK_ID"}};
    hs_code rc = put(out, "host", host);
    if (rc == HS_OK) rc = put(out, "cpu", cpu);
    if (rc == HS_OK) rc = hs_str_printf(out, "isa=%s\n", isa.buf ? isa.buf : "");
    if (rc == HS_OK) rc = put(out, "gemm", hs_nn_gemm_path());
    if (rc == HS_OK) rc = put(out, "blas", blas.buf);
    if (rc == HS_OK) rc = put(out, "hsweep_version", HSWEEP_VERSION_STRING);
    if (rc == HS_OK) rc = put(out, "git", HSWEEP_GIT_DESCRIBE);
#if defined(__clang__)
    if (rc == HS_OK) rc = put(out, "compiler", __VERSION__); /* "Clang 14.0.6 ..." */
#elif defined(__GNUC__)
    if (rc == HS_OK) rc = put(out, "compiler", "gcc " __VERSION__); /* gcc's says only "12.2.0" */
#else
    if (rc == HS_OK) rc = put(out, "compiler", NULL);
#endif
    if (rc == HS_OK) rc = put(out, "mpi", mpi);
    for (size_t k = 0; rc == HS_OK && k < sizeof slurm / sizeof slurm[0]; k++) {
        const char *v = getenv(slurm[k][1]);
        if (v && v[0]) rc = put(out, slurm[k][0], v);
    }
    hs_str_free(&isa), hs_str_free(&blas);
    if (rc != HS_OK) return HS_FAIL(err, rc, "out of memory");
    return HS_OK;
}
