/* config_of.h - the typed config of the single run a spec text describes (unit tests of train/). */
#ifndef HSWEEP_TEST_CONFIG_OF_H
#define HSWEEP_TEST_CONFIG_OF_H

#include "hsweep/plan.h"
#include "hsweep/spec.h"
#include "hsweep/train.h"
#include "testing.h"

static inline void config_of(const char *yaml, hs_train_config *c) {
    hs_error err = {0};
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    hs_code rc = hs_spec_parse(yaml, strlen(yaml), "test.yaml", &spec, &err);
    if (rc == HS_OK) rc = hs_plan_expand(spec, NULL, &plan, &err);
    if (rc == HS_OK) CU_ASSERT_EQUAL(plan->n_runs, 1);
    if (rc == HS_OK) rc = hs_train_config_from_plan(plan, 0, c, &err);
    if (rc != HS_OK) fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
    hs_plan_free(plan);
    hs_spec_free(spec);
}

#endif
