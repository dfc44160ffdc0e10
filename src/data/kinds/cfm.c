/* cfm.c - the data kind cfm: He & Su's Fashion-MNIST, resized to 10x10 (data.resize) and scaled to [-1, 1]:
 * 100 dims (include/hsweep/data.h).
 */
#include "../internal.h"

HS_IMAGE_KIND(cfm, &hs_image_fashion_10x10, "Fashion-MNIST resized to 10x10 and scaled to [-1,1] (He & Su)", 0);
