/* carve.h - one allocation for a whole model (private to nn/). The layout routine runs twice:
 * with base == NULL it only measures, then it hands out pointers into the real block. Each array
 * starts on a 64-byte line (SIMD loads, no false sharing). */
#ifndef HSWEEP_NN_CARVE_H
#define HSWEEP_NN_CARVE_H

#include <stddef.h>

typedef struct carver {
    char *base;
    size_t used;
} carver;

static inline void *carve(carver *c, size_t count, size_t elsize) {
    size_t at = (c->used + 63) & ~(size_t)63;
    c->used = at + count * elsize;
    return c->base ? c->base + at : NULL;
}

#endif
