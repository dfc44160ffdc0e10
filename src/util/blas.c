/* blas.c - the BLAS library's own controls, where the linked BLAS has them.
 *
 * Which vendor's functions exist is found when the build is configured (cmake/HsweepBlas.cmake
 * defines HSWEEP_HAVE_OPENBLAS, _MKL or _BLIS for this file alone), so hsweep links against any
 * BLAS, the reference one included. The functions are declared here rather than through the
 * vendor's header: cblas.h is not the vendor's everywhere (Debian switches it with alternatives). */
#include <stdint.h>
#include <stdio.h>

#include "hsweep/util.h"

#if defined(HSWEEP_HAVE_OPENBLAS)
void openblas_set_num_threads(int n);
char *openblas_get_corename(void);
#elif defined(HSWEEP_HAVE_MKL)
void MKL_Set_Num_Threads(int n);
#elif defined(HSWEEP_HAVE_BLIS)
void bli_thread_set_num_threads(int64_t n); /* dim_t: 64-bit in BLIS's default configuration */
#endif

int hs_blas_set_threads(int n) {
#if defined(HSWEEP_HAVE_OPENBLAS)
    openblas_set_num_threads(n);
    return 1;
#elif defined(HSWEEP_HAVE_MKL)
    MKL_Set_Num_Threads(n);
    return 1;
#elif defined(HSWEEP_HAVE_BLIS)
    bli_thread_set_num_threads(n);
    return 1;
#else
    (void)n;
    return 0;
#endif
}

const char *hs_blas_corename(void) {
#if defined(HSWEEP_HAVE_OPENBLAS)
    return openblas_get_corename();
#else
    return NULL;
#endif
}

const char *hs_blas_describe(void) {
#if defined(HSWEEP_HAVE_OPENBLAS)
    static char text[96];
    const char *core = openblas_get_corename();
    snprintf(text, sizeof text, "OpenBLAS, %s kernels", core ? core : "unknown");
    return text;
#elif defined(HSWEEP_HAVE_MKL)
    return "Intel MKL";
#elif defined(HSWEEP_HAVE_BLIS)
    return "BLIS";
#else
    return "a BLAS without vendor controls (reference or unknown)";
#endif
}
