/* TEMPORARY stub (replaced by the gated-network helper's implementation at merge). */
#include "hsweep/nn.h"
hs_code hs_model_gated(hs_model *m, const hs_gated_opts *o, hs_error *err) {
    (void)m, (void)o;
    return HS_FAIL(err, HS_ERR_INTERNAL, "model.arch gated is not built yet");
}
