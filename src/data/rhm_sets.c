/* rhm_sets.c - rhm and srhm data from hs_data_opts: the checks made before the rules, the shapes
 * without drawing the rules, and the nested, disjoint sets of srhm.c (include/hsweep/data.h, the
 * "(Sparse) Random Hierarchy Model" section). Shared by kinds/rhm.c (the SRHM with s0 = 0) and
 * kinds/srhm.c.
 */
#include "internal.h"

/* The rhm/srhm checks made before the rules, and the generator's options of o. */
static hs_code rhm_opts(const hs_data_opts *o, int sparse, hs_rhm_opts *ro, hs_error *err) {
    if (!sparse && o->s0 != 0) {
        HS_FAIL(err, HS_ERR_VALUE, "data.s0 = %d with data.kind rhm: the RHM has no empty slots", o->s0);
        return hs_error_hint(err, "use data.kind srhm for the sparse model");
    }
    if (o->n_train < 1) return HS_FAIL(err, HS_ERR_VALUE, "data.n_train = %lld: must be >= 1", o->n_train);
    if (o->n_test < 0) return HS_FAIL(err, HS_ERR_VALUE, "data.n_test = %lld: must be >= 0", o->n_test);
    *ro = (hs_rhm_opts){.v = o->v,
                        .n_c = o->n_c,
                        .m = o->m,
                        .s = o->s,
                        .L = o->L,
                        .s0 = o->s0,
                        .sparsity = sparse ? o->sparsity : HS_RHM_SPARSITY_A,
                        .rule_seed = o->rule_seed};
    return HS_OK;
}

/* n_test = 0 -> min(20000, P_max / 2) */
static long long rhm_n_test(long long n_test, double p_max) {
    return n_test != 0 ? n_test : p_max >= 40000.0 ? 20000 : (long long)(p_max / 2);
}

/* rules from o, then the nested, disjoint sets of srhm.c; n_test = 0 -> min(20000, P_max / 2),
 * which does not depend on n_train (the test set is the head of the sample stream, so a size
 * that moved with P would shift every training set). */
hs_code hs_rhm_data_load(const hs_data_opts *o, int sparse, hs_dataset *train, hs_dataset *test, hs_error *err) {
    hs_rhm_opts ro;
    HS_TRY(err, rhm_opts(o, sparse, &ro, err));
    hs_rhm *g = NULL;
    HS_TRY(err, hs_rhm_rules(&ro, &g, err));
    long long n_test = rhm_n_test(o->n_test, g->p_max);
    hs_code rc = hs_rhm_dataset(g, o->seed, o->n_train, n_test, o->whiten, train, test, NULL, err);
    if (rc != HS_OK && o->n_test == 0 && err)
        hs_error_hint(err, "data.n_test = 0 took min(20000, P_max / 2) = %lld test samples; set data.n_test "
                           "to make room for data.n_train", n_test);
    hs_rhm_free(g);
    if (rc != HS_OK) hs_error_trace(err, __FILE__, __LINE__);
    return rc;
}

/* rhm, srhm: the sizes of hs_rhm_rules without drawing the rules; invalid options are handed to
 * hs_rhm_rules, which refuses them (with its message) before allocating anything. */
hs_code hs_rhm_data_shape(const hs_data_opts *o, int sparse, hs_data_shape *out, hs_error *err) {
    hs_rhm_opts ro;
    HS_TRY(err, rhm_opts(o, sparse, &ro, err));
    double p_max = hs_rhm_pmax(&ro);
    if (!(p_max > 0.0)) {
        hs_rhm *g = NULL;
        hs_code rc = hs_rhm_rules(&ro, &g, err);
        hs_rhm_free(g);
        return rc != HS_OK ? rc : HS_FAIL(err, HS_ERR_INTERNAL, "shape of rhm: P_max is 0 for valid rules");
    }
    long long d = 1; /* checked by hs_rhm_pmax: d <= 2^24, v d <= 2^30 */
    for (int l = 0; l < o->L; l++) d *= (long long)o->s * (o->s0 + 1);
    long long n_test = rhm_n_test(o->n_test, p_max);
    if ((double)o->n_train + (double)n_test > p_max) {
        HS_FAIL(err, HS_ERR_VALUE,
                "data.n_train = %lld plus %lld test samples is more than the P_max = %.0f distinct inputs",
                o->n_train, n_test, p_max);
        if (o->n_test == 0)
            hs_error_hint(err, "data.n_test = 0 took min(20000, P_max / 2) = %lld test samples; set data.n_test "
                               "to make room for data.n_train", n_test);
        return HS_ERR_VALUE;
    }
    *out = (hs_data_shape){.dim = (int)(o->v * d), .classes = o->n_c ? o->n_c : o->v, .n_train = o->n_train,
                           .n_test = n_test, .channels = o->v, .height = 1, .width = (int)d, .p_max = p_max};
    return HS_OK;
}

hs_code hs_rhm_data_check(const hs_data_opts *o, int sparse, hs_error *err) {
    hs_rhm_opts ro;
    HS_TRY(err, rhm_opts(o, sparse, &ro, err));
    hs_rhm *g = NULL;
    hs_code rc = hs_rhm_rules(&ro, &g, err);
    hs_rhm_free(g);
    return rc;
}

int hs_rhm_data_rules(const hs_data_opts *o, int sparse, hs_rhm_opts *out) {
    *out = (hs_rhm_opts){.v = o->v, .n_c = o->n_c, .m = o->m, .s = o->s, .L = o->L, .s0 = o->s0,
                         .sparsity = sparse ? o->sparsity : HS_RHM_SPARSITY_A, .rule_seed = o->rule_seed};
    return 1;
}

int hs_rhm_data_patch(const hs_data_opts *o) { return o->s * (o->s0 + 1); }
