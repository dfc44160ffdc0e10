/* resume.c - a resumed results file: its rows matched to the plan's runs by id, the plan's new
 * runs appended, and the rows the plan no longer names kept and marked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/schema.h"
#include "internal.h"

typedef struct id_row {
    const char *id;
    size_t row;
} id_row;

static int by_id(const void *a, const void *b) { return strcmp(((const id_row *)a)->id, ((const id_row *)b)->id); }

/* The value of key c's column for an orphan row (a run the spec no longer names), from its
 * canonical config: "key=value" when it differs from the default, else the default. Only
 * needed when a column is new to the file, since columns are written once per row. */
static void orphan_value(const char *canon, const hs_results_col *col, size_t k, long long *iv, double *fv,
                         char **sv) {
    char pat[256];
    snprintf(pat, sizeof pat, "\n%s=", col->name);
    const char *at = canon ? strstr(canon, pat) : NULL, *v = NULL;
    size_t n = 0;
    if (at) {
        v = at + strlen(pat);
        n = strcspn(v, "\n");
    } else {
        const hs_key *key = hs_schema_key(k);
        v = key && key->def ? key->def : "";
        n = strlen(v);
    }
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)n, v);
    if (col->type == HS_COL_INT) *iv = !strcmp(buf, "true") ? 1 : !strcmp(buf, "false") ? 0 : strtoll(buf, NULL, 10);
    else if (col->type == HS_COL_FLOAT) *fv = strtod(buf, NULL);
    else {
        size_t len = strlen(buf);
        if (len >= 2 && buf[0] == '"' && buf[len - 1] == '"') buf[len - 1] = '\0', memmove(buf, buf + 1, len - 1);
        *sv = strdup(buf);
    }
}

/* The file's rows in file order, then the plan's new runs: the layout hs_results_grow takes. */
typedef struct file_layout {
    hs_results_layout L;
    const char **ids, **configs;
    hs_results_col *cols;
    long long **ci;
    double **cf;
    char ***cs;
    long long *steps_total;
    size_t n;
} file_layout;

static void file_layout_free(file_layout *F) {
    for (size_t c = 0; c < F->L.n_cols; c++) {
        if (F->ci) free(F->ci[c]);
        if (F->cf) free(F->cf[c]);
        for (size_t r = 0; F->cs && F->cs[c] && r < F->n; r++) free(F->cs[c][r]);
        if (F->cs) free(F->cs[c]);
    }
    free(F->ids), free(F->configs), free(F->cols), free(F->ci), free(F->cf), free(F->cs), free(F->steps_total);
    memset(F, 0, sizeof *F);
}

/* Match the plan's runs to the file's rows by id (S->row), append the plan's new runs to the
 * file, and mark which rows the plan names. Collective; every rank reads the same file and plan,
 * so every rank decides the same. Refused: another schema version (ids would not mean the same
 * configs), and a row whose id matches but whose stored config differs (a damaged file). */
hs_code sched_resume_map(sweep *S, const layout_store *P, size_t *n_new_out, size_t *n_orphans, hs_error *err) {
    hs_results *f = S->file;
    const hs_sweep_opts *o = S->o;
    size_t fr = hs_results_n_runs(f), pr = P->L.n_runs;
    if (hs_results_schema_version(f) != HS_SCHEMA_VERSION) {
        HS_FAIL(err, HS_ERR_VALUE, "%s was written with config schema %d; this hsweep uses schema %d", o->out_path,
                hs_results_schema_version(f), HS_SCHEMA_VERSION);
        hs_error_hint(err, "resume it with the hsweep version that wrote it, or start a new file with -o");
        return HS_ERR_VALUE;
    }
    id_row *idx = malloc((fr ? fr : 1) * sizeof *idx);
    unsigned char *in_plan = calloc(fr + pr + 1, 1);
    file_layout F = {0};
    long long *plan_of = NULL; /* row -> plan run, -1 for orphans */
    hs_code rc = HS_OK;
    if (!idx || !in_plan) {
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < fr; i++) idx[i] = (id_row){hs_results_id(f, i), i};
    qsort(idx, fr, sizeof *idx, by_id);
    size_t n_new = 0;
    for (size_t r = 0; r < pr; r++) {
        id_row key = {P->ids[r], 0}, *hit = fr ? bsearch(&key, idx, fr, sizeof *idx, by_id) : NULL;
        if (!hit) {
            S->row[r] = fr + n_new++;
            in_plan[S->row[r]] = 1;
            continue;
        }
        const char *have = hs_results_config(f, hit->row);
        if (have && strcmp(have, P->configs[r]) != 0) {
            rc = HS_FAIL(err, HS_ERR_VALUE, "%s: row %zu has id %s but another config than the plan's run of that id",
                         o->out_path, hit->row, P->ids[r]);
            hs_error_hint(err, "the file is damaged or was edited by hand: write to a new file with -o");
            goto out;
        }
        S->row[r] = hit->row;
        in_plan[hit->row] = 1;
    }
    *n_orphans = 0;
    for (size_t i = 0; i < fr; i++) *n_orphans += !in_plan[i];
    *n_new_out = n_new;

    /* the layout of the file as it will be: its rows, then the new runs */
    size_t R = fr + n_new, C = P->L.n_cols;
    F.n = R;
    F.ids = calloc(R + 1, sizeof *F.ids), F.configs = calloc(R + 1, sizeof *F.configs);
    F.cols = calloc(C + 1, sizeof *F.cols), F.steps_total = calloc(R + 1, sizeof *F.steps_total);
    F.ci = calloc(C + 1, sizeof *F.ci), F.cf = calloc(C + 1, sizeof *F.cf), F.cs = calloc(C + 1, sizeof *F.cs);
    plan_of = malloc((R + 1) * sizeof *plan_of);
    if (!F.ids || !F.configs || !F.cols || !F.steps_total || !F.ci || !F.cf || !F.cs || !plan_of) {
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        goto out;
    }
    F.L = P->L;
    F.L.n_runs = R, F.L.n_cols = C;
    for (size_t i = 0; i < R; i++) plan_of[i] = -1;
    for (size_t r = 0; r < pr; r++) plan_of[S->row[r]] = (long long)r;
    for (size_t i = 0; i < R; i++) {
        long long r = plan_of[i];
        F.ids[i] = r >= 0 ? P->ids[r] : hs_results_id(f, i);
        F.configs[i] = r >= 0 ? P->configs[r] : hs_results_config(f, i) ? hs_results_config(f, i) : "";
        F.steps_total[i] = r >= 0 ? P->steps_total[r] : -1;
    }
    for (size_t c = 0; c < C; c++) {
        const hs_results_col *pc = &P->L.cols[c];
        hs_results_col *fc = &F.cols[c];
        *fc = (hs_results_col){.name = pc->name, .type = pc->type};
        size_t k = (size_t)hs_schema_find(pc->name);
        if (pc->type == HS_COL_INT) F.ci[c] = malloc((R + 1) * sizeof **F.ci), fc->i = F.ci[c];
        else if (pc->type == HS_COL_FLOAT) F.cf[c] = malloc((R + 1) * sizeof **F.cf), fc->f = F.cf[c];
        else F.cs[c] = calloc(R + 1, sizeof **F.cs), fc->s = (const char *const *)F.cs[c];
        if (!F.ci[c] && !F.cf[c] && !F.cs[c]) {
            rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < R; i++) {
            long long r = plan_of[i];
            if (r >= 0 && pc->type == HS_COL_INT) F.ci[c][i] = pc->i[r];
            else if (r >= 0 && pc->type == HS_COL_FLOAT) F.cf[c][i] = pc->f[r];
            else if (r >= 0) F.cs[c][i] = strdup(pc->s[r]);
            else
                orphan_value(hs_results_config(f, i), pc, k, F.ci[c] ? &F.ci[c][i] : NULL,
                             F.cf[c] ? &F.cf[c][i] : NULL, F.cs[c] ? &F.cs[c][i] : NULL);
            if (F.cs[c] && !F.cs[c][i] && !(F.cs[c][i] = strdup(""))) {
                rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
                goto out;
            }
        }
    }
    F.L.ids = F.ids, F.L.configs = F.configs, F.L.cols = F.cols, F.L.steps_total = F.steps_total;
    if (hs_results_needs_grow(f, &F.L)) {
        HS_CHECK(err, rc, hs_results_grow(S->comm, f, &F.L, err), out);
        if (S->rank == 0 && !o->quiet && n_new)
            fprintf(stderr, "[hsweep] %s: %zu new runs appended; the file now holds %zu runs\n", o->out_path, n_new,
                    hs_results_n_runs(f));
    }
    HS_CHECK(err, rc, hs_results_mark_plan(S->comm, f, in_plan, err), out);
out:
    file_layout_free(&F);
    free(plan_of);
    free(idx);
    free(in_plan);
    return rc;
}
