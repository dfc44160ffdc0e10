/* srhm.c - the data kind srhm: the Sparse Random Hierarchy Model, data.s0 empty slots per informative
 * child placed by data.sparsity (include/hsweep/data.h).
 */
#include "../internal.h"

HS_RHM_KIND(srhm, 1, "the Sparse Random Hierarchy Model (Tomasini & Wyart 2024)", 7);
