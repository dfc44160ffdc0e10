/* stability.c - Petrini et al.'s relative stability R_f = D_f / G_f per node over training (see
 * "relative stability" in include/hsweep/analysis.h): at the initialised net, at the end, and at
 * every record point, per configuration over seeds.
 *
 * As sensitivity.c: rank 0 reads the few numbers per run and point while every rank holds the
 * file open, reduces and writes /analysis/stability and the tables; its outcome is broadcast. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/analysis.h"
#include "hsweep/reader.h"
#include "internal.h"
#include "probes_common.h"

enum { Q_R, Q_D, Q_G, NQ };
static const char *const q_name[NQ] = {"R", "D", "G"};

typedef struct stab {
    size_t R, K;
    an_series s[NQ], P; /* stability_R, _D, _G [K]; stability_diffeo [2] */
    signed char *flag;
    double *init, *end; /* [NQ][R x K] at the first and the last stored point */
    double *cT;         /* [R x 2] c and T */
    an_groups g;
    double *im, *is, *em, *es; /* [NQ][C x K] */
    double *cTm, *cTs;         /* [C x 2] */
    an_time t[NQ];
} stab;

static void stab_free(stab *s) {
    for (int q = 0; q < NQ; q++) an_series_free(&s->s[q]), an_time_free(&s->t[q]);
    an_series_free(&s->P);
    an_groups_free(&s->g);
    free(s->flag), free(s->init), free(s->end), free(s->cT), free(s->im), free(s->is), free(s->em), free(s->es);
    free(s->cTm), free(s->cTs);
}

static hs_code read_runs(const hs_results_reader *rd, stab *s, hs_error *err) {
    static const char *why = "the runs did not record the relative stability: set record.stability (image data)";
    static const char *const names[NQ] = {"stability_R", "stability_D", "stability_G"};
    for (int q = 0; q < NQ; q++) HS_TRY(err, an_series_read(rd, names[q], why, &s->s[q], err));
    HS_TRY(err, an_series_read(rd, "stability_diffeo", why, &s->P, err));
    const size_t R = s->R = s->s[Q_R].R, K = s->K = s->s[Q_R].size;
    s->flag = malloc(R + 1), s->cT = malloc((2 * R + 1) * sizeof *s->cT);
    s->init = malloc((NQ * R * K + 1) * sizeof *s->init), s->end = malloc((NQ * R * K + 1) * sizeof *s->end);
    if (!s->flag || !s->cT || !s->init || !s->end) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < R; r++) {
        long j = an_series_last(&s->s[Q_R], r);
        s->flag[r] = !hs_reader_finished(rd, r) ? HS_STAB_UNFINISHED : j < 0 ? HS_STAB_NO_PROBE : HS_STAB_OK;
        s->cT[2 * r] = s->cT[2 * r + 1] = NAN;
        for (int q = 0; q < NQ; q++)
            for (size_t k = 0; k < K; k++) s->init[(q * R + r) * K + k] = s->end[(q * R + r) * K + k] = NAN;
        if (s->flag[r] != HS_STAB_OK) continue;
        long j0 = -1; /* the stored point of record point 0: the initialised net */
        for (size_t i = 0; i < s->s[Q_R].Ns && j0 < 0; i++)
            if (s->s[Q_R].pt[r * s->s[Q_R].Ns + i] == 0) j0 = (long)i;
        for (int q = 0; q < NQ; q++) {
            if (j0 >= 0) memcpy(s->init + (q * R + r) * K, an_series_at(&s->s[q], r, (size_t)j0), K * sizeof *s->init);
            memcpy(s->end + (q * R + r) * K, an_series_at(&s->s[q], r, (size_t)j), K * sizeof *s->end);
        }
        long jp = an_series_last(&s->P, r);
        if (jp >= 0) memcpy(s->cT + 2 * r, an_series_at(&s->P, r, (size_t)jp), 2 * sizeof *s->cT);
    }
    return HS_OK;
}

static hs_code reduce(const hs_results_reader *rd, stab *s, const double *steps, size_t N, hs_error *err) {
    unsigned char *use = malloc(s->R + 1);
    if (!use) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < s->R; r++) use[r] = s->flag[r] == HS_STAB_OK;
    hs_code rc = an_groups_make(rd, use, &s->g, err);
    free(use);
    HS_TRY(err, rc);
    const size_t C = s->g.C, K = s->K, R = s->R;
    s->im = malloc((NQ * C * K + 1) * sizeof *s->im), s->is = malloc((NQ * C * K + 1) * sizeof *s->is);
    s->em = malloc((NQ * C * K + 1) * sizeof *s->em), s->es = malloc((NQ * C * K + 1) * sizeof *s->es);
    s->cTm = malloc((2 * C + 1) * sizeof *s->cTm), s->cTs = malloc((2 * C + 1) * sizeof *s->cTs);
    if (!s->im || !s->is || !s->em || !s->es || !s->cTm || !s->cTs) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (int q = 0; q < NQ; q++) {
        HS_TRY(err, an_config_stats(&s->g, s->init + q * R * K, K, s->im + q * C * K, s->is + q * C * K, NULL, err));
        HS_TRY(err, an_config_stats(&s->g, s->end + q * R * K, K, s->em + q * C * K, s->es + q * C * K, NULL, err));
        HS_TRY(err, an_time_make(&s->g, &s->s[q], steps, N, &s->t[q], err));
    }
    return an_config_stats(&s->g, s->cT, 2, s->cTm, s->cTs, NULL, err);
}

static hs_code write_group(const char *path, const stab *s, hs_error *err) {
    hs_analysis_out *g = NULL;
    HS_TRY(err, hs_analysis_out_open(path, "stability", &g, err));
    const size_t R = s->R, C = s->g.C, K = s->K, T = s->t[Q_R].T;
    double *col = malloc(((R > C ? R : C) + 1) * sizeof *col);
    hs_aout_i32(g, "config", 1, &R, s->g.cfg);
    hs_aout_i8(g, "flag", R, s->flag);
    for (int k = 0; col && k < 2; k++) {
        for (size_t r = 0; r < R; r++) col[r] = s->cT[2 * r + k];
        hs_aout_f64(g, k ? "T" : "c", 1, &R, col);
        for (size_t c = 0; c < C; c++) col[c] = s->cTm[2 * c + k];
        hs_aout_f64(g, k ? "config_T" : "config_c", 1, &C, col);
    }
    hs_aout_strs(g, "label", C, (const char *const *)s->g.label);
    hs_aout_i32(g, "n_runs", 1, &C, s->g.n_runs);
    size_t dk[2] = {C, K}, dt[2] = {T, K};
    hs_aout_i32(g, "time_config", 1, &T, s->t[Q_R].cfg), hs_aout_i32(g, "time_point", 1, &T, s->t[Q_R].pt);
    hs_aout_i32(g, "time_n", 1, &T, s->t[Q_R].n), hs_aout_f64(g, "time_step", 1, &T, s->t[Q_R].step);
    for (int q = 0; q < NQ; q++) {
        char name[64];
        const double *src[4] = {s->im + q * C * K, s->is + q * C * K, s->em + q * C * K, s->es + q * C * K};
        static const char *const fmt[4] = {"%s_init_mean", "%s_init_std", "%s_end_mean", "%s_end_std"};
        for (int k = 0; k < 4; k++) snprintf(name, sizeof name, fmt[k], q_name[q]), hs_aout_f64(g, name, 2, dk, src[k]);
        snprintf(name, sizeof name, "time_%s_mean", q_name[q]), hs_aout_f64(g, name, 2, dt, s->t[q].mean);
        snprintf(name, sizeof name, "time_%s_std", q_name[q]), hs_aout_f64(g, name, 2, dt, s->t[q].sd);
    }
    hs_code rc = hs_analysis_out_close(g, col ? HS_OK : HS_ERR_NOMEM, err);
    free(col);
    return rc;
}

static void cell(hs_str *md, double m, double sd) {
    if (isnan(m)) hs_str_printf(md, " - |");
    else if (isnan(sd)) hs_str_printf(md, " %.3g |", m);
    else hs_str_printf(md, " %.3g +- %.2g |", m, sd);
}

static void make_tables(const stab *s, hs_str *csv, hs_str *md) {
    const size_t C = s->g.C, K = s->K;
    for (size_t k = 0; k < s->g.ncols; k++) hs_str_printf(csv, "%s,", s->g.cols[k].name);
    hs_str_printf(csv, "n_runs,c,T,node");
    for (int q = 0; q < NQ; q++)
        hs_str_printf(csv, ",%s_init_mean,%s_init_std,%s_end_mean,%s_end_std", q_name[q], q_name[q], q_name[q],
                      q_name[q]);
    hs_str_printf(csv, "\n");
    hs_str_printf(md, "Relative stability R_f = D_f / G_f per node (0 = the input, the last = the output) at the "
                      "initialised net and at the end: mean +- std over seeds (ddof 1).\n\n| configuration | c | T "
                      "| node | R_f init | R_f end | D_f end | G_f end |\n|---|---|---|---|---|---|---|---|\n");
    for (size_t c = 0; c < C; c++)
        for (size_t k = 0; k < K; k++) {
            if (!isfinite(s->em[(Q_R * C + c) * K + k]) && !isfinite(s->im[(Q_R * C + c) * K + k])) continue;
            for (size_t i = 0; i < s->g.ncols; i++) {
                const char *v = s->g.cols[i].text[s->g.first[c]];
                hs_an_csv_put(csv, v, 0);
                hs_str_append(csv, ",", 1);
            }
            hs_str_printf(csv, "%d,%.10g,%.10g,%zu", s->g.n_runs[c], s->cTm[2 * c], s->cTm[2 * c + 1], k);
            for (int q = 0; q < NQ; q++) {
                size_t e = (q * C + c) * K + k;
                hs_str_printf(csv, ",%.10g,%.10g,%.10g,%.10g", s->im[e], s->is[e], s->em[e], s->es[e]);
            }
            hs_str_printf(csv, "\n");
            hs_str_printf(md, "| %s | %.0f | %.3g | %zu |", s->g.label[c], s->cTm[2 * c], s->cTm[2 * c + 1], k);
            cell(md, s->im[(Q_R * C + c) * K + k], s->is[(Q_R * C + c) * K + k]);
            cell(md, s->em[(Q_R * C + c) * K + k], s->es[(Q_R * C + c) * K + k]);
            cell(md, s->em[(Q_D * C + c) * K + k], s->es[(Q_D * C + c) * K + k]);
            cell(md, s->em[(Q_G * C + c) * K + k], s->es[(Q_G * C + c) * K + k]);
            hs_str_printf(md, "\n");
        }
}

static hs_code stab_run(MPI_Comm comm, const hs_analyze_opts *o, hs_str *summary, hs_str *table, hs_error *err) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    hs_results_reader *rd = NULL;
    HS_TRY(err, hs_reader_open(comm, o->path, &rd, err));
    stab s = {0};
    hs_error mine = {0};
    hs_code rc = HS_OK;
    double *steps = NULL;
    size_t N = 0;
    if (rank == 0) {
        rc = read_runs(rd, &s, &mine);
        if (rc == HS_OK) rc = an_records(rd, "step", &steps, &N, &mine);
        if (rc == HS_OK) rc = reduce(rd, &s, steps, N, &mine);
    }
    hs_reader_close(rd);
    if (rank == 0 && rc == HS_OK) rc = write_group(o->path, &s, &mine);
    if (rank == 0 && rc == HS_OK) {
        hs_str csv = {0}, md = {0};
        make_tables(&s, &csv, &md);
        rc = hs_an_write_tables(o, "stability", &csv, &md, &mine);
        if (table && rc == HS_OK && md.buf) hs_str_append(table, md.buf, md.len);
        hs_str_free(&csv), hs_str_free(&md);
    }
    size_t used = 0;
    for (size_t r = 0; rank == 0 && r < s.R; r++) used += s.flag[r] == HS_STAB_OK;
    double n[3] = {(double)s.R, (double)used, (double)s.g.C};
    stab_free(&s);
    free(steps);
    HS_TRY(err, hs_an_share_outcome(comm, rc, &mine, n, 3, err));
    return hs_str_printf(summary, "%s: relative stability of %.0f runs (%.0f finished with probes) in %.0f "
                                  "configurations\n", o->path, n[0], n[1], n[2]);
}

/* Files whose runs recorded the relative stability. */
static int stab_applies(const hs_results_reader *rd) { return hs_reader_has(rd, HS_READ_SERIES, "stability_R"); }

const hs_analysis hs_analysis_stability = {
    .name = "stability",
    .doc = "relative stability R_f = D_f / G_f per node (diffeomorphisms vs noise) at init, end and over training",
    .applies = stab_applies,
    .run = stab_run,
};
