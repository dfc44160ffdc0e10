/* clock.c - the two clocks hsweep reads (see include/hsweep/util.h). */
#include <time.h>

#include "hsweep/util.h"

double hs_time_unix(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double hs_time_mono(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
