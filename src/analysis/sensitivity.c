/* sensitivity.c - the synonym and displacement sensitivities of (S)RHM runs against their test
 * error and training-set size (see "sensitivities" in include/hsweep/analysis.h): per
 * configuration S_{k,l}, D_{k,l}, G_k at the final point and over record points, test error
 * against S_{2,1} and D_{2,1}, the thresholds P*_S, P*_D of the authors' notebooks per family.
 *
 * The probes' series are a few numbers per run and point, so rank 0 reads everything while every
 * rank holds the file open (the reader's open and close are collective), reduces, writes
 * /analysis/sensitivity and the tables; rank 0's outcome is broadcast, as finals.c does. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/analysis.h"
#include "hsweep/metrics.h"
#include "hsweep/models.h"
#include "hsweep/reader.h"
#include "internal.h"
#include "probes_common.h"

/* Per-run quantities: the best test error, S and D of node 2 (index 1) at level 1, S and G at the
 * 80%-depth node. */
enum { Q_ERR, Q_S21, Q_D21, Q_S80, Q_G80, NQ };
static const char *const q_name[NQ] = {"test_err", "S21", "D21", "S80", "G80"};
/* The readings of a family: P* (test error), P*_S, P*_D. */
enum { P_ERR, P_S, P_D, NP };
static const char *const p_name[NP] = {"p_star", "p_star_S", "p_star_D"};

typedef struct sens {
    size_t R, K, L;
    an_series S, D, G;
    signed char *flag;      /* [R] HS_SENS_* */
    int *nodes, *node80;    /* [R] the run's node count, its 80%-depth node */
    double *q;              /* [R x NQ] */
    double *Sf, *Df, *Gf;   /* [R x K x L], [R x K x L], [R x K] at the run's last point */
    an_groups g;
    double *qm, *qs;        /* [C x NQ] */
    int *qn;
    double *Sm, *Ss, *Dm, *Ds, *Gm, *Gs; /* [C x K x L] and [C x K] */
    an_time tS, tD, tG;
    double *thr, *p, *at;   /* [F x NP]: threshold, reading (closest grid point), value there */
    int *fnode, *fnp;       /* [F] node of the S/D readings, grid points */
    char **farch;           /* [F] */
    double r[3][2];         /* Pearson r of test error against S21, D21, S80: plain, log-log */
    int nr[3][2];
} sens;

static void sens_free(sens *s) {
    an_series_free(&s->S), an_series_free(&s->D), an_series_free(&s->G);
    an_time_free(&s->tS), an_time_free(&s->tD), an_time_free(&s->tG);
    for (size_t f = 0; s->farch && f < s->g.F; f++) free(s->farch[f]);
    an_groups_free(&s->g);
    free(s->flag), free(s->nodes), free(s->node80), free(s->q), free(s->Sf), free(s->Df), free(s->Gf);
    free(s->qm), free(s->qs), free(s->qn), free(s->Sm), free(s->Ss), free(s->Dm), free(s->Ds), free(s->Gm);
    free(s->Gs), free(s->thr), free(s->p), free(s->at), free(s->fnode), free(s->fnp), free(s->farch);
}

/* The thresholds of section 3 of the reference note for a net (test error, S, D) and the node S and
 * D are read at (0-based; K nodes). */
static void thresholds(const char *arch, int L, int s, int K, double *thr, int *node) {
    if (!strcmp(arch, "cnn")) {
        thr[P_ERR] = 0.10, thr[P_D] = 0.2, *node = 1;
        thr[P_S] = L >= 3 ? 0.2 : L == 2 ? (s == 2 ? 0.4 : 0.5) : NAN;
    } else if (!strcmp(arch, "lcn")) {
        thr[P_ERR] = 0.10, thr[P_S] = s == 2 ? 0.3 : 0.5, thr[P_D] = 0.1, *node = 1;
    } else if (!strcmp(arch, "fcn")) {
        thr[P_ERR] = 0.10, thr[P_S] = 0.2, thr[P_D] = 0.2, *node = K - 1;
    } else { /* the common architectures' row */
        thr[P_ERR] = 0.07, thr[P_S] = 0.13, thr[P_D] = 0.07, *node = K - 2;
    }
    if (*node < 0 || *node >= K) *node = K - 1;
}

/* The authors' reading (srhm-sensitivity.md): the output for the SRHM's own CNN, LCN and FCN;
 * for the common nets floor(0.8 x hidden nodes), the output not counted (VGG-11 6 of 8 ReLUs,
 * VGG-16 10, ResNet-18 13, ResNet-34 26, EfficientNet-B0 51). */
int hs_sensitivity_node80(const char *arch, int nodes) {
    const int own = !strcmp(arch, "cnn") || !strcmp(arch, "lcn") || !strcmp(arch, "fcn");
    return own || nodes < 2 ? nodes - 1 : (int)floor(0.8 * (nodes - 1));
}

/* The sensitivity nodes of run r (its net's hidden layers and the logits), from its config, and
 * its 80%-depth node; -1 when the config does not parse. */
static int nodes_of(const hs_results_reader *rd, size_t r, int *node80) {
    hs_canon_config cc = {0};
    hs_train_config cfg = {0};
    hs_error quiet = {0};
    int k = -1;
    if (hs_canon_parse(hs_reader_config(rd, r), &cc, &quiet) == HS_OK && hs_canon_typed(&cc, &cfg, &quiet) == HS_OK) {
        k = (int)cfg.arch->layers(&cfg);
        *node80 = hs_sensitivity_node80(cfg.arch->name, k);
    }
    hs_train_config_free(&cfg);
    hs_canon_free(&cc);
    return k;
}

/* Rank 0: the series, the test errors and every run's values at its last point. */
static hs_code read_runs(const hs_results_reader *rd, sens *s, hs_error *err) {
    static const char *why = "the runs did not record sensitivities: set record.sensitivity (SRHM data)";
    HS_TRY(err, an_series_read(rd, "sensitivity_S", why, &s->S, err));
    HS_TRY(err, an_series_read(rd, "sensitivity_D", why, &s->D, err));
    HS_TRY(err, an_series_read(rd, "sensitivity_G", why, &s->G, err));
    const size_t R = s->R = s->S.R;
    s->K = s->S.dims[0], s->L = s->S.nd == 2 ? s->S.dims[1] : 1;
    const size_t KL = s->K * s->L, K = s->K;
    double *acc = NULL;
    size_t N = 0;
    HS_TRY(err, an_records(rd, "test_acc", &acc, &N, err));
    s->flag = malloc(R + 1), s->nodes = malloc((R + 1) * sizeof *s->nodes);
    s->node80 = malloc((R + 1) * sizeof *s->node80), s->q = malloc((R * NQ + 1) * sizeof *s->q);
    s->Sf = malloc((R * KL + 1) * sizeof *s->Sf), s->Df = malloc((R * KL + 1) * sizeof *s->Df);
    s->Gf = malloc((R * K + 1) * sizeof *s->Gf);
    if (!s->flag || !s->nodes || !s->node80 || !s->q || !s->Sf || !s->Df || !s->Gf) {
        free(acc);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; r < R; r++) {
        double *q = s->q + r * NQ, *Sf = s->Sf + r * KL, *Df = s->Df + r * KL, *Gf = s->Gf + r * K;
        for (size_t i = 0; i < NQ; i++) q[i] = NAN;
        for (size_t i = 0; i < KL; i++) Sf[i] = Df[i] = NAN;
        for (size_t i = 0; i < K; i++) Gf[i] = NAN;
        long j = an_series_last(&s->S, r);
        s->flag[r] = !hs_reader_finished(rd, r) ? HS_SENS_UNFINISHED : j < 0 ? HS_SENS_NO_PROBE : HS_SENS_OK;
        s->nodes[r] = s->node80[r] = 0;
        if (s->flag[r] != HS_SENS_OK) continue;
        for (size_t t = 0; acc && t < N; t++) {
            double e = 1.0 - acc[r * N + t]; /* the protocol keeps the best test error seen */
            if (isfinite(e) && (isnan(q[Q_ERR]) || e < q[Q_ERR])) q[Q_ERR] = e;
        }
        memcpy(Sf, an_series_at(&s->S, r, (size_t)j), KL * sizeof *Sf);
        memcpy(Df, an_series_at(&s->D, r, (size_t)j), KL * sizeof *Df);
        memcpy(Gf, an_series_at(&s->G, r, (size_t)j), K * sizeof *Gf);
        int n80 = 0, k = nodes_of(rd, r, &n80); /* the run's own nodes (a smaller net than the file's pads with NaN) */
        if (k < 0 || (size_t)k > K) return HS_FAIL(err, HS_ERR_VALUE, "%s: run %s: its config does not parse or "
                                                     "does not fit its %zu nodes", hs_reader_path(rd),
                                                     hs_reader_id(rd, r), K);
        s->nodes[r] = k, s->node80[r] = n80;
        if (k >= 2) q[Q_S21] = Sf[1 * s->L], q[Q_D21] = Df[1 * s->L];
        if (k >= 1) q[Q_S80] = Sf[(size_t)s->node80[r] * s->L], q[Q_G80] = Gf[s->node80[r]];
    }
    free(acc);
    return HS_OK;
}

/* The grid point whose value is nearest thr (the smaller P on a tie), accepted within tol. */
static void closest(const double *P, const double *v, size_t n, double thr, double tol, double *p, double *at) {
    *p = *at = NAN;
    size_t best = n;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]) && (best == n || fabs(v[i] - thr) < fabs(v[best] - thr))) best = i;
    if (best < n && fabs(v[best] - thr) <= tol + 1e-12) *p = P[best], *at = v[best];
}

/* Rank 0: configurations, their statistics and curves, the families' readings, correlations. */
static hs_code reduce(const hs_results_reader *rd, sens *s, const double *steps, size_t N, hs_error *err) {
    unsigned char *use = malloc(s->R + 1);
    if (!use) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < s->R; r++) use[r] = s->flag[r] == HS_SENS_OK;
    hs_code rc = an_groups_make(rd, use, &s->g, err);
    free(use);
    HS_TRY(err, rc);
    const size_t C = s->g.C, F = s->g.F, KL = s->K * s->L, K = s->K;
    s->qm = malloc((C * NQ + 1) * sizeof *s->qm), s->qs = malloc((C * NQ + 1) * sizeof *s->qs);
    s->qn = malloc((C * NQ + 1) * sizeof *s->qn);
    s->Sm = malloc((C * KL + 1) * sizeof *s->Sm), s->Ss = malloc((C * KL + 1) * sizeof *s->Ss);
    s->Dm = malloc((C * KL + 1) * sizeof *s->Dm), s->Ds = malloc((C * KL + 1) * sizeof *s->Ds);
    s->Gm = malloc((C * K + 1) * sizeof *s->Gm), s->Gs = malloc((C * K + 1) * sizeof *s->Gs);
    s->thr = malloc((F * NP + 1) * sizeof *s->thr), s->p = malloc((F * NP + 1) * sizeof *s->p);
    s->at = malloc((F * NP + 1) * sizeof *s->at), s->fnode = malloc((F + 1) * sizeof *s->fnode);
    s->fnp = calloc(F + 1, sizeof *s->fnp), s->farch = calloc(F + 1, sizeof *s->farch);
    double *P = malloc((C + 1) * sizeof *P), *v = malloc((C + 1) * sizeof *v), *x = malloc((C + 1) * sizeof *x);
    if (!s->qm || !s->qs || !s->qn || !s->Sm || !s->Ss || !s->Dm || !s->Ds || !s->Gm || !s->Gs || !s->thr || !s->p ||
        !s->at || !s->fnode || !s->fnp || !s->farch || !P || !v || !x)
        rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    if (rc == HS_OK) rc = an_config_stats(&s->g, s->q, NQ, s->qm, s->qs, s->qn, err);
    if (rc == HS_OK) rc = an_config_stats(&s->g, s->Sf, KL, s->Sm, s->Ss, NULL, err);
    if (rc == HS_OK) rc = an_config_stats(&s->g, s->Df, KL, s->Dm, s->Ds, NULL, err);
    if (rc == HS_OK) rc = an_config_stats(&s->g, s->Gf, K, s->Gm, s->Gs, NULL, err);
    if (rc == HS_OK) rc = an_time_make(&s->g, &s->S, steps, N, &s->tS, err);
    if (rc == HS_OK) rc = an_time_make(&s->g, &s->D, steps, N, &s->tD, err);
    if (rc == HS_OK) rc = an_time_make(&s->g, &s->G, steps, N, &s->tG, err);
    for (size_t f = 0; rc == HS_OK && f < F; f++) {
        hs_canon_config cc = {0};
        hs_train_config cfg = {0};
        size_t r0 = s->g.ffirst[f];
        rc = hs_canon_parse(hs_reader_config(rd, r0), &cc, err);
        if (rc == HS_OK) rc = hs_canon_typed(&cc, &cfg, err);
        if (rc == HS_OK) {
            thresholds(cfg.arch->name, cfg.data.L, cfg.data.s, s->nodes[r0], s->thr + f * NP, &s->fnode[f]);
            if (!(s->farch[f] = strdup(cfg.arch->name))) rc = HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
        }
        hs_train_config_free(&cfg);
        hs_canon_free(&cc);
        /* the family's curves in increasing P (configurations differing only in P sort by it) */
        size_t n = 0;
        for (size_t c = 0; rc == HS_OK && c < C; c++)
            if (s->g.fam[c] == (int)f)
                P[n] = s->g.p_col >= 0 ? s->g.cols[s->g.p_col].num[s->g.first[c]] : NAN, x[n++] = (double)c;
        s->fnp[f] = (int)n;
        for (int w = 0; rc == HS_OK && w < NP; w++) {
            for (size_t i = 0; i < n; i++) {
                size_t c = (size_t)x[i], node = (size_t)s->fnode[f];
                v[i] = w == P_ERR ? s->qm[c * NQ + Q_ERR] : (w == P_S ? s->Sm : s->Dm)[(c * K + node) * s->L];
            }
            closest(P, v, n, s->thr[f * NP + w], w == P_ERR ? HS_SRHM_CLOSEST_TOL : HS_SENS_CLOSEST_TOL,
                    &s->p[f * NP + w], &s->at[f * NP + w]);
        }
    }
    /* test error against the sensitivities across configurations, plain and log-log */
    static const int against[3] = {Q_S21, Q_D21, Q_S80};
    for (int a = 0; rc == HS_OK && a < 3; a++)
        for (int lg = 0; lg < 2; lg++) {
            size_t n = 0;
            for (size_t c = 0; c < C; c++) {
                double e = s->qm[c * NQ + Q_ERR], q = s->qm[c * NQ + against[a]];
                if (!isfinite(e) || !isfinite(q) || (lg && (e <= 0 || q <= 0))) continue;
                x[n] = lg ? log(q) : q, v[n++] = lg ? log(e) : e;
            }
            hs_line_fit lf;
            hs_error quiet = {0};
            s->nr[a][lg] = (int)n;
            s->r[a][lg] = n >= 2 && hs_fit_line(x, v, n, &lf, &quiet) == HS_OK ? lf.r : NAN;
        }
    free(P), free(v), free(x);
    return rc;
}

static hs_code write_group(const char *path, const sens *s, hs_error *err) {
    hs_analysis_out *g = NULL;
    HS_TRY(err, hs_analysis_out_open(path, "sensitivity", &g, err));
    const size_t R = s->R, C = s->g.C, F = s->g.F, K = s->K, L = s->L;
    size_t nc = (C > R ? C : R) * NQ + F * NP + 1;
    double *col = malloc(nc * sizeof *col);
    int *ic = malloc(nc * sizeof *ic);
    hs_aout_i32(g, "config", 1, &R, s->g.cfg);
    hs_aout_i8(g, "flag", R, s->flag);
    hs_aout_i32(g, "n_nodes", 1, &R, s->nodes);
    hs_aout_strs(g, "label", C, (const char *const *)s->g.label);
    hs_aout_i32(g, "family", 1, &C, s->g.fam);
    hs_aout_i32(g, "n_runs", 1, &C, s->g.n_runs);
    for (size_t i = 0; col && ic && i < NQ; i++) {
        char name[64];
        for (size_t r = 0; r < R; r++) col[r] = s->q[r * NQ + i];
        hs_aout_f64(g, q_name[i], 1, &R, col);
        for (int k = 0; k < 2; k++) {
            for (size_t c = 0; c < C; c++) col[c] = (k ? s->qs : s->qm)[c * NQ + i];
            snprintf(name, sizeof name, "%s_%s", q_name[i], k ? "std" : "mean");
            hs_aout_f64(g, name, 1, &C, col);
        }
        for (size_t c = 0; c < C; c++) ic[c] = s->qn[c * NQ + i];
        snprintf(name, sizeof name, "%s_n", q_name[i]);
        hs_aout_i32(g, name, 1, &C, ic);
    }
    for (size_t c = 0; col && c < C; c++) col[c] = s->g.p_col >= 0 ? s->g.cols[s->g.p_col].num[s->g.first[c]] : NAN;
    if (col) hs_aout_f64(g, "P", 1, &C, col);
    size_t dkl[3] = {C, K, L}, dk[2] = {C, K};
    hs_aout_f64(g, "S_mean", 3, dkl, s->Sm), hs_aout_f64(g, "S_std", 3, dkl, s->Ss);
    hs_aout_f64(g, "D_mean", 3, dkl, s->Dm), hs_aout_f64(g, "D_std", 3, dkl, s->Ds);
    hs_aout_f64(g, "G_mean", 2, dk, s->Gm), hs_aout_f64(g, "G_std", 2, dk, s->Gs);
    const an_time *ts[3] = {&s->tS, &s->tD, &s->tG};
    static const char *const tn[3] = {"S", "D", "G"};
    size_t T = s->tS.T, dt3[3] = {T, K, L}, dt2[2] = {T, K};
    hs_aout_i32(g, "time_config", 1, &T, s->tS.cfg), hs_aout_i32(g, "time_point", 1, &T, s->tS.pt);
    hs_aout_i32(g, "time_n", 1, &T, s->tS.n), hs_aout_f64(g, "time_step", 1, &T, s->tS.step);
    for (int i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "time_%s_mean", tn[i]);
        hs_aout_f64(g, name, i < 2 ? 3 : 2, i < 2 ? dt3 : dt2, ts[i]->mean);
        snprintf(name, sizeof name, "time_%s_std", tn[i]);
        hs_aout_f64(g, name, i < 2 ? 3 : 2, i < 2 ? dt3 : dt2, ts[i]->sd);
    }
    hs_aout_strs(g, "family_label", F, (const char *const *)s->g.flabel);
    hs_aout_strs(g, "family_arch", F, (const char *const *)s->farch);
    hs_aout_i32(g, "family_node", 1, &F, s->fnode), hs_aout_i32(g, "family_n_p", 1, &F, s->fnp);
    for (int w = 0; col && w < NP; w++) {
        char name[64];
        const double *src[3] = {s->thr, s->p, s->at};
        static const char *const fmt[3] = {"thr_%s", "%s", "at_%s"};
        for (int k = 0; k < 3; k++) {
            for (size_t f = 0; f < F; f++) col[f] = src[k][f * NP + w];
            snprintf(name, sizeof name, fmt[k], p_name[w]);
            hs_aout_f64(g, name, 1, &F, col);
        }
    }
    static const char *const rn[3] = {"S21", "D21", "S80"};
    for (int a = 0; a < 3; a++) {
        char name[64];
        snprintf(name, sizeof name, "r_%s", rn[a]), hs_aout_attr(g, "", name, s->r[a][0]);
        snprintf(name, sizeof name, "r_log_%s", rn[a]), hs_aout_attr(g, "", name, s->r[a][1]);
        snprintf(name, sizeof name, "n_r_%s", rn[a]), hs_aout_attr(g, "", name, s->nr[a][0]);
    }
    hs_aout_attr(g, "", "closest_tol", HS_SENS_CLOSEST_TOL);
    hs_aout_attr(g, "", "closest_tol_err", HS_SRHM_CLOSEST_TOL);
    hs_code rc = hs_analysis_out_close(g, col && ic ? HS_OK : HS_ERR_NOMEM, err);
    free(col), free(ic);
    return rc;
}

/* A cell "mean +- std" (the std left out when there is one run, "-" when none). */
static void cell(hs_str *md, double m, double sd) {
    if (isnan(m)) hs_str_printf(md, " - |");
    else if (isnan(sd)) hs_str_printf(md, " %.3g |", m);
    else hs_str_printf(md, " %.3g +- %.2g |", m, sd);
}

static void csv_cols(hs_str *csv, const sens *s, size_t r, int skip) {
    for (size_t k = 0; k < s->g.ncols; k++)
        if ((int)k != skip) {
            const char *v = s->g.cols[k].text[r];
            hs_an_csv_put(csv, v, 0);
            hs_str_append(csv, ",", 1);
        }
}

static void make_tables(const sens *s, hs_str *csv, hs_str *md, hs_str *ncsv, hs_str *pcsv) {
    const size_t C = s->g.C, F = s->g.F, K = s->K, L = s->L;
    for (size_t k = 0; k < s->g.ncols; k++) hs_str_printf(csv, "%s,", s->g.cols[k].name);
    hs_str_printf(csv, "n_runs,n_used");
    for (size_t i = 0; i < NQ; i++) hs_str_printf(csv, ",%s_mean,%s_std", q_name[i], q_name[i]);
    hs_str_printf(csv, "\n");
    hs_str_printf(md, "Sensitivities at the final point (mean +- std over seeds, ddof 1): best test error, S and D "
                      "of node 2 (the second hidden layer) at level 1, S and the Gaussian control G at the "
                      "80%%-depth node.\n\n| configuration | runs | test error | S_2,1 | D_2,1 | S_80%% | G_80%% |\n"
                      "|---|---|---|---|---|---|---|\n");
    for (size_t c = 0; c < C; c++) {
        csv_cols(csv, s, s->g.first[c], -1);
        hs_str_printf(csv, "%d,%d", s->g.n_runs[c], s->qn[c * NQ + Q_ERR]);
        hs_str_printf(md, "| %s | %d |", s->g.label[c], s->g.n_runs[c]);
        for (size_t i = 0; i < NQ; i++) {
            hs_str_printf(csv, ",%.10g,%.10g", s->qm[c * NQ + i], s->qs[c * NQ + i]);
            cell(md, s->qm[c * NQ + i], s->qs[c * NQ + i]);
        }
        hs_str_printf(csv, "\n"), hs_str_printf(md, "\n");
    }
    static const char *const rn[3] = {"S_2,1", "D_2,1", "S_80%"};
    hs_str_printf(md, "\nPearson r of the test error against the sensitivity across configurations:");
    for (int a = 0; a < 3; a++) {
        if (isnan(s->r[a][0]))
            hs_str_printf(md, "%s %s: n/a (%d configurations)", a ? ";" : "", rn[a], s->nr[a][0]);
        else
            hs_str_printf(md, "%s %s: %.3f (log-log %.3f, %d configurations)", a ? ";" : "", rn[a], s->r[a][0],
                          s->r[a][1], s->nr[a][0]);
    }
    /* per node and level */
    for (size_t k = 0; k < s->g.ncols; k++) hs_str_printf(ncsv, "%s,", s->g.cols[k].name);
    hs_str_printf(ncsv, "node,level,S_mean,S_std,D_mean,D_std,G_mean,G_std\n");
    hs_str_printf(md, "\n\nS_{k,l} and D_{k,l} at the final point, node k = hidden layer k (the last: the "
                      "output), level l = the bottom l levels perturbed (means over seeds).\n\n| configuration | "
                      "node |");
    for (size_t l = 0; l < L; l++) hs_str_printf(md, " S_k,%zu |", l + 1);
    for (size_t l = 0; l < L; l++) hs_str_printf(md, " D_k,%zu |", l + 1);
    hs_str_printf(md, " G_k |\n|---|---|");
    for (size_t l = 0; l < 2 * L + 1; l++) hs_str_printf(md, "---|");
    hs_str_printf(md, "\n");
    for (size_t c = 0; c < C; c++)
        for (size_t k = 0; k < K; k++) {
            if (!isfinite(s->Gm[c * K + k])) continue;
            hs_str_printf(md, "| %s | %zu |", s->g.label[c], k + 1);
            for (size_t l = 0; l < L; l++) hs_str_printf(md, " %.3g |", s->Sm[(c * K + k) * L + l]);
            for (size_t l = 0; l < L; l++) hs_str_printf(md, " %.3g |", s->Dm[(c * K + k) * L + l]);
            hs_str_printf(md, " %.3g |\n", s->Gm[c * K + k]);
            for (size_t l = 0; l < L; l++) {
                size_t e = (c * K + k) * L + l;
                csv_cols(ncsv, s, s->g.first[c], -1);
                hs_str_printf(ncsv, "%zu,%zu,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g\n", k + 1, l + 1, s->Sm[e], s->Ss[e],
                              s->Dm[e], s->Ds[e], s->Gm[c * K + k], s->Gs[c * K + k]);
            }
        }
    /* the families' readings */
    for (size_t k = 0; k < s->g.ncols; k++)
        if ((int)k != s->g.p_col) hs_str_printf(pcsv, "%s,", s->g.cols[k].name);
    hs_str_printf(pcsv, "arch,node,n_p");
    for (int w = 0; w < NP; w++) hs_str_printf(pcsv, ",thr_%s,%s,at_%s", p_name[w], p_name[w], p_name[w]);
    hs_str_printf(pcsv, "\n");
    hs_str_printf(md, "\nSample complexities read at the authors' thresholds (the grid point closest to the "
                      "threshold, accepted within %g of it for the test error, %g for S and D; S and D at the node "
                      "shown, level 1).\n\n| family | arch | node | P* (err) | P*_S (S) | P*_D (D) |\n"
                      "|---|---|---|---|---|---|\n", HS_SRHM_CLOSEST_TOL, HS_SENS_CLOSEST_TOL);
    for (size_t f = 0; f < F; f++) {
        csv_cols(pcsv, s, s->g.ffirst[f], s->g.p_col);
        hs_str_printf(pcsv, "%s,%d,%d", s->farch[f], s->fnode[f] + 1, s->fnp[f]);
        hs_str_printf(md, "| %s | %s | %d |", s->g.flabel[f], s->farch[f], s->fnode[f] + 1);
        for (int w = 0; w < NP; w++) {
            size_t i = f * NP + (size_t)w;
            hs_str_printf(pcsv, ",%.10g,%.10g,%.10g", s->thr[i], s->p[i], s->at[i]);
            if (isnan(s->p[i])) hs_str_printf(md, " - (%.2g) |", s->thr[i]);
            else hs_str_printf(md, " %.4g (%.3g at %.2g) |", s->p[i], s->at[i], s->thr[i]);
        }
        hs_str_printf(pcsv, "\n"), hs_str_printf(md, "\n");
    }
}

static hs_code sens_run(MPI_Comm comm, const hs_analyze_opts *o, hs_str *summary, hs_str *table, hs_error *err) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    hs_results_reader *rd = NULL;
    HS_TRY(err, hs_reader_open(comm, o->path, &rd, err));
    sens s = {0};
    hs_error mine = {0};
    hs_code rc = HS_OK;
    double *steps = NULL;
    size_t N = 0;
    if (rank == 0) {
        rc = read_runs(rd, &s, &mine);
        if (rc == HS_OK) rc = an_records(rd, "step", &steps, &N, &mine);
        if (rc == HS_OK) rc = reduce(rd, &s, steps, N, &mine);
    }
    hs_reader_close(rd); /* collective: before rank 0 opens the file for writing */
    if (rank == 0 && rc == HS_OK) rc = write_group(o->path, &s, &mine);
    if (rank == 0 && rc == HS_OK) {
        hs_str csv = {0}, md = {0}, ncsv = {0}, pcsv = {0}, none = {0};
        make_tables(&s, &csv, &md, &ncsv, &pcsv);
        rc = hs_an_write_tables(o, "sensitivity", &csv, &md, &mine);
        if (rc == HS_OK) rc = hs_an_write_tables(o, "sensitivity-nodes", &ncsv, &none, &mine);
        if (rc == HS_OK) rc = hs_an_write_tables(o, "sensitivity-pstar", &pcsv, &none, &mine);
        if (table && rc == HS_OK && md.buf) hs_str_append(table, md.buf, md.len);
        hs_str_free(&csv), hs_str_free(&md), hs_str_free(&ncsv), hs_str_free(&pcsv);
    }
    size_t used = 0;
    for (size_t r = 0; rank == 0 && r < s.R; r++) used += s.flag[r] == HS_SENS_OK;
    double n[5] = {(double)s.R, (double)used, (double)s.g.C, (double)s.g.F, s.r[0][0]};
    sens_free(&s);
    free(steps);
    HS_TRY(err, hs_an_share_outcome(comm, rc, &mine, n, 5, err));
    char r[48];
    if (isnan(n[4])) snprintf(r, sizeof r, "n/a (too few configurations)");
    else snprintf(r, sizeof r, "%.3f", n[4]);
    return hs_str_printf(summary, "%s: sensitivities of %.0f runs (%.0f finished with probes) in %.0f configurations, "
                                  "%.0f families; r(test error, S_2,1) = %s\n",
                         o->path, n[0], n[1], n[2], n[3], r);
}

/* Files whose runs recorded the sensitivity probes. */
static int sens_applies(const hs_results_reader *rd) { return hs_reader_has(rd, HS_READ_SERIES, "sensitivity_S"); }

const hs_analysis hs_analysis_sensitivity = {
    .name = "sensitivity",
    .doc = "SRHM synonym/displacement sensitivities S, D, G per node vs test error and P (P*_S, P*_D)",
    .applies = sens_applies,
    .run = sens_run,
};
