/* blas.c - OpenBLAS's kernels for this CPU, chosen before anything else runs; which BLAS library
 * the process really uses. */
#define _GNU_SOURCE /* dladdr, RTLD_DEFAULT */
#include <dlfcn.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "hsweep/util.h"

/* OpenBLAS picks its kernels from the CPU model at load time. On virtual machines that hide the
 * model ("Intel Xeon Processor") Debian's OpenBLAS 0.3.21 falls back to SSE3 "Prescott" kernels,
 * 3-5x slower than the AVX2/AVX-512 ones the CPU supports (measured: sgemm 33 vs 156 GFLOP/s).
 * The choice is made before main(), so the only remedy is to set OPENBLAS_CORETYPE and exec
 * ourselves again, once, before MPI_Init. A user's own OPENBLAS_CORETYPE is always respected. */
void cli_fix_blas_kernels(char **argv) {
    if (getenv("OPENBLAS_CORETYPE") || getenv("HSWEEP_BLAS_REEXEC")) return;
    const char *core = hs_blas_corename(); /* NULL: not OpenBLAS */
    if (!core || (strcasecmp(core, "prescott") != 0 && strcasecmp(core, "core2") != 0 &&
                  strcasecmp(core, "nehalem") != 0))
        return;
    const char *want = NULL;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        want = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        want = "Haswell";
#endif
    if (!want) return;
    setenv("OPENBLAS_CORETYPE", want, 1);
    setenv("HSWEEP_BLAS_REEXEC", core, 1); /* guard, and a note for `hsweep version` */
    execv("/proc/self/exe", argv);          /* returns only on failure: carry on with slow kernels */
}

const char *cli_symbol_library(const char *symbol) {
    /* dlsym rather than &cblas_sgemm: the address of a function taken in the executable can be its
     * own PLT entry, while dlsym gives the definition the dynamic linker binds calls to */
    void *sym = dlsym(RTLD_DEFAULT, symbol);
    Dl_info info;
    if (!sym || !dladdr(sym, &info) || !info.dli_fname || !info.dli_fname[0]) return NULL;
    return info.dli_fname;
}
