/* runtable.c - see runtable.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/reader.h"
#include "runtable.h"

/* Non-zero for the seeds, which vary within a configuration (the reader's columns are config keys). */
static int is_seed(const char *name) {
    static const char *const seeds[] = {"seed", "data.seed", "data.rule_seed"};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        if (!strcmp(name, seeds[i])) return 1;
    return 0;
}

void hs_an_columns_free(hs_an_column *cols, size_t n, size_t R) {
    for (size_t k = 0; cols && k < n; k++) {
        for (size_t r = 0; cols[k].text && r < R; r++) free(cols[k].text[r]);
        free(cols[k].text), free(cols[k].num), free(cols[k].name);
    }
    free(cols);
}

int hs_an_runs_cmp(const hs_an_column *cols, const int *order, size_t n, size_t a, size_t b) {
    for (size_t k = 0; k < n; k++) {
        const hs_an_column *c = &cols[order ? order[k] : (int)k];
        const int both = !isnan(c->num[a]) && !isnan(c->num[b]);
        const int d = both ? (c->num[a] > c->num[b]) - (c->num[a] < c->num[b]) : strcmp(c->text[a], c->text[b]);
        if (d) return d;
    }
    return 0;
}

hs_code hs_an_config_columns(const hs_results_reader *rd, hs_an_column **cols, size_t *n, hs_error *err) {
    *n = 0, *cols = NULL;
    size_t R = hs_reader_n_runs(rd), nc = 0;
    hs_reader_col *rc = NULL;
    hs_code code = hs_reader_columns(rd, &rc, &nc, err);
    if (code != HS_OK) {
        hs_reader_columns_free(rc, nc, R);
        return code;
    }
    *cols = calloc(nc + 1, sizeof **cols);
    int bad = !*cols;
    for (size_t k = 0; !bad && k < nc; k++) {
        if (is_seed(rc[k].name)) continue;
        hs_an_column *c = &(*cols)[(*n)++];
        c->name = strdup(rc[k].name);
        c->text = calloc(R + 1, sizeof *c->text);
        c->num = malloc((R + 1) * sizeof *c->num);
        if (!c->name || !c->text || !c->num) bad = 1;
        for (size_t r = 0; !bad && r < R; r++) {
            char b[40];
            if (rc[k].type == HS_COL_STR) c->num[r] = NAN, c->text[r] = strdup(rc[k].s[r]);
            else {
                c->num[r] = rc[k].type == HS_COL_INT ? (double)rc[k].i[r] : rc[k].f[r];
                snprintf(b, sizeof b, rc[k].type == HS_COL_INT ? "%.0f" : "%.10g", c->num[r]);
                c->text[r] = strdup(b);
            }
            if (!c->text[r]) bad = 1;
        }
    }
    hs_reader_columns_free(rc, nc, R);
    return bad ? HS_FAIL(err, HS_ERR_NOMEM, "out of memory reading the run table") : HS_OK;
}
