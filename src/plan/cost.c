/* cost.c - the cost model of a plan's runs (hs_plan_cost, see include/hsweep/plan.h), their
 * nets' parameter counts (hs_plan_params) and their least memory (hs_plan_memory).
 *
 * It asks the registries rather than naming kinds: the data kind for the shape of the sets
 * (hs_data_shape_of: inputs, outputs, training samples, without loading anything) and the model
 * kind for the multiply-adds of one sample (or, for a kind solved in closed form, its FLOP). */
#include "hsweep/models.h"
#include "hsweep/plan.h"
#include "hsweep/train.h"

double hs_plan_cost(const hs_plan *p, size_t r) {
    hs_train_config c;
    hs_error err = {0};
    if (hs_train_config_from_plan(p, r, &c, &err) != HS_OK) return 0;
    hs_data_shape sh;
    double cost = 0;
    if (hs_data_shape_of(&c.data, &sh, &err) == HS_OK) {
        if (c.arch->flags & HS_MODEL_SOLVED)
            cost = c.arch->flops ? c.arch->flops(&c, &sh) : 0;
        else if (c.arch->macs)
            cost = 6 * c.arch->macs(&c, &sh) * (double)sh.n_train * (double)c.epochs;
    }
    hs_train_config_free(&c);
    return cost;
}

double hs_plan_memory(const hs_plan *p, size_t r) {
    hs_train_config c;
    hs_error err = {0};
    if (hs_train_config_from_plan(p, r, &c, &err) != HS_OK) return 0;
    hs_data_shape sh;
    double bytes = hs_data_shape_of(&c.data, &sh, &err) == HS_OK ? hs_train_memory_floor(&c, &sh, 1) : 0;
    hs_train_config_free(&c);
    return bytes;
}

long long hs_plan_params(const hs_plan *p, size_t r) {
    hs_train_config c;
    hs_error err = {0};
    if (hs_train_config_from_plan(p, r, &c, &err) != HS_OK) return -1;
    hs_data_shape sh;
    long long n = -1;
    if (c.arch->params && hs_data_shape_of(&c.data, &sh, &err) == HS_OK) n = c.arch->params(&c, &sh);
    hs_train_config_free(&c);
    return n;
}
