/* internal.h - what spec.c (the YAML parser) and spec_edit.c (--set overrides, freeing) share. */
#ifndef HSWEEP_SPEC_INTERNAL_H
#define HSWEEP_SPEC_INTERNAL_H

#include <stddef.h>

/* Appends one zeroed element to the array *arrp of *n elements of elsize bytes; 0 when out of
 * memory (the array and *n are then unchanged). */
int hs_spec_grow(void *arrp, size_t *n, size_t elsize);

#endif /* HSWEEP_SPEC_INTERNAL_H */
