/* rhm.c - the data kind rhm: the Random Hierarchy Model, the SRHM without empty slots (data.s0 must be 0,
 * data.sparsity is not used; include/hsweep/data.h).
 */
#include "../internal.h"

HS_RHM_KIND(rhm, 0, "the Random Hierarchy Model (Cagnetta et al. 2024)", 6);
