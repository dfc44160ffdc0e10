/* neighbours.c - the neighbours analysis: the hierarchy paper's Fig. 5 "repertoire dating" of
 * representations across training time, and the category composition of their neighbourhoods,
 * from the series neigh_rep / neigh_labels that record.neighbours stores (see
 * include/hsweep/analysis.h for what is stored and written).
 *
 * Per run the S draws of every record point are stacked in time order into one [N x W] matrix
 * (N = points x S). Every row's k = 100 nearest rows among all N (exact, double precision, the
 * row itself neighbour 0) give
 *   - pseudotime percentiles: neighbour row index / (N - 1), the 13 percentiles of each row's k
 *     neighbours, averaged over a point's S rows and smoothed (trailing mean over 10 points);
 *   - the drift: per row the mean over neighbours 1..k-1 of (own index - neighbour index), in
 *     record points, averaged per point; its smoothed absolute value's arg-min is the fixed point;
 *   - the mean neighbour pseudotime per point, and the same after the time-permuted control of the
 *     note (the rows shuffled before the search, so that a row's position says nothing of when it
 *     was produced: every curve must collapse to ~0.5, and a curve that does not is an artefact of
 *     the search, not of training);
 * and within each point's S rows alone, every row's kc = 10 nearest others give the category
 * composition per tree level (same class; the note's within mask: siblings; between mask:
 * cousins) beside chance (the same fractions over all other rows of the point).
 *
 * Work: the query rows of a run are split across ranks (every rank reads the run's matrix), the
 * per-point sums are reduced to rank 0, which writes /analysis/neighbours and the tables. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsweep/analysis.h"
#include "hsweep/data.h"
#include "hsweep/metrics.h"
#include "hsweep/reader.h"
#include "hsweep/rng.h"
#include "internal.h"
#include "neighbours.h"
#include "probes_common.h"

#define NB_K 100     /* neighbours in the stacked search (the paper's k) */
#define NB_KC 10     /* neighbours within one point's draws, for the composition */
#define NB_WINDOW 10 /* trailing mean over this many record points (the paper's smoothing) */
#define NB_MAXV 20
#define NB_QCH 512   /* query rows per pass of the stacked search: bounds its index and distance buffers */
static const double pcts[] = {1, 5, 10, 15, 20, 25, 50, 75, 80, 85, 90, 95, 99};
#define NP (sizeof pcts / sizeof pcts[0])

/* ================================================================ kernels */

int an_lca_level(int a, int b, int branching, int V) {
    for (int l = 0; l < V; l++, a /= branching, b /= branching)
        if (a == b) return l;
    return V;
}

void an_composition(int self, const int *nb, size_t n, int branching, int V, double *share, double *sib,
                    double *cou) {
    size_t cnt[NB_MAXV + 1] = {0};
    for (size_t i = 0; i < n; i++) cnt[an_lca_level(self, nb[i], branching, V)]++;
    size_t below = 0;
    for (int l = 0; l < V; l++) {
        below += cnt[l];
        share[l] = n ? (double)below / (double)n : NAN;
        sib[l] = n && l + 1 <= V ? (double)cnt[l + 1] / (double)n : NAN;
        cou[l] = n && l + 2 <= V ? (double)cnt[l + 2] / (double)n : NAN;
    }
}

double an_percentile_sorted(const double *x, size_t n, double p) {
    if (!n) return NAN;
    double pos = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    if (lo + 1 >= n) return x[n - 1];
    return x[lo] + (pos - (double)lo) * (x[lo + 1] - x[lo]);
}

void an_trailing_mean(const double *x, size_t sx, size_t n, size_t w, double *out, size_t so) {
    for (size_t j = 0; j < n; j++) {
        double s = 0;
        size_t m = 0;
        for (size_t i = j + 1 > w ? j + 1 - w : 0; i <= j; i++)
            if (isfinite(x[i * sx])) s += x[i * sx], m++;
        out[j * so] = m ? s / (double)m : NAN;
    }
}

/* Sift the root of the max-heap (d, i) of size n down; "larger" = farther, then higher index. */
static void heap_down(double *d, int *ix, size_t n) {
    size_t p = 0;
    for (;;) {
        size_t c = 2 * p + 1, m = p;
        if (c < n && (d[c] > d[m] || (d[c] == d[m] && ix[c] > ix[m]))) m = c;
        if (c + 1 < n && (d[c + 1] > d[m] || (d[c + 1] == d[m] && ix[c + 1] > ix[m]))) m = c + 1;
        if (m == p) return;
        double td = d[p];
        int ti = ix[p];
        d[p] = d[m], ix[p] = ix[m], d[m] = td, ix[m] = ti;
        p = m;
    }
}

#define QB 64
#define DB 1024

int an_knn(const double *X, size_t N, size_t W, size_t q0, size_t q1, size_t k, int *Ix, double *D) {
    double *nrm = malloc((N + 1) * sizeof *nrm), *G = malloc((size_t)QB * DB * sizeof *G);
    if (!nrm || !G || k == 0 || k > N) {
        free(nrm), free(G);
        return -1;
    }
    for (size_t i = 0; i < N; i++) nrm[i] = cblas_ddot((int)W, X + i * W, 1, X + i * W, 1);
    for (size_t a = q0; a < q1; a += QB) {
        size_t na = q1 - a < QB ? q1 - a : QB;
        for (size_t q = 0; q < na; q++) { /* empty heaps: everything is nearer than +inf */
            for (size_t c = 0; c < k; c++) D[(a - q0 + q) * k + c] = INFINITY, Ix[(a - q0 + q) * k + c] = -1;
        }
        size_t fill = 0; /* heaps fill together: every query sees the same candidates in index order */
        for (size_t b = 0; b < N; b += DB) {
            size_t nb = N - b < DB ? N - b : DB;
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)na, (int)nb, (int)W, 1.0, X + a * W, (int)W,
                        X + b * W, (int)W, 0.0, G, (int)nb);
            for (size_t q = 0; q < na; q++) {
                double *hd = D + (a - q0 + q) * k;
                int *hi = Ix + (a - q0 + q) * k;
                size_t n = fill;
                for (size_t j = 0; j < nb; j++) {
                    size_t idx = b + j;
                    /* the row itself ranks first whatever rounding gives it (and any duplicate) */
                    double d = idx == a + q ? -1.0 : fmax(nrm[a + q] + nrm[idx] - 2 * G[q * nb + j], 0.0);
                    if (n < k) { /* heap not full: sift up */
                        size_t c = n++;
                        hd[c] = d, hi[c] = (int)idx;
                        while (c > 0) {
                            size_t p = (c - 1) / 2;
                            if (hd[p] > hd[c] || (hd[p] == hd[c] && hi[p] > hi[c])) break;
                            double td = hd[p];
                            int ti = hi[p];
                            hd[p] = hd[c], hi[p] = hi[c], hd[c] = td, hi[c] = ti, c = p;
                        }
                    } else if (d < hd[0]) { /* candidates come in index order: a tie loses to the heap */
                        hd[0] = d, hi[0] = (int)idx;
                        heap_down(hd, hi, k);
                    }
                }
            }
            fill = fill + nb < k ? fill + nb : k;
        }
        for (size_t q = 0; q < na; q++) { /* sort each heap by (d, index): insertion, k is small */
            double *hd = D + (a - q0 + q) * k;
            int *hi = Ix + (a - q0 + q) * k;
            for (size_t i = 1; i < k; i++) {
                double td = hd[i];
                int ti = hi[i];
                size_t j = i;
                for (; j > 0 && (hd[j - 1] > td || (hd[j - 1] == td && hi[j - 1] > ti)); j--)
                    hd[j] = hd[j - 1], hi[j] = hi[j - 1];
                hd[j] = td, hi[j] = ti;
            }
            for (size_t i = 0; i < k; i++) hd[i] = hd[i] < 0 ? 0.0 : sqrt(hd[i]);
        }
    }
    free(nrm), free(G);
    return 0;
}

/* ================================================================ one run */

/* Per-point sums of one run, every rank's share added by the reduction: the stacked search's
 * percentiles, drift and mean pseudotime, the control's percentiles and mean, the rows counted. */
enum { A_PCT = 0, A_DRIFT = NP, A_MEAN, A_CPCT, A_CMEAN = A_CPCT + NP, A_ROWS, A_PER_POINT }; /* [Np x A_PER_POINT] */

/* The control's shuffle: one fixed stream, so every rank shuffles alike and a rerun agrees. */
#define NB_CONTROL_SEED 0x6e6569676862ULL

typedef struct nb_run {
    size_t Np, S, W, V, k, kc;
    int branching;
    double *X;      /* [Np S x W] the run's valid points, stacked (shuffled in place for the control) */
    int *lab;       /* [Np S] leaf labels */
    long *pidx;     /* [Np] the record point of each valid point */
    double *acc;    /* [Np x A_PER_POINT] */
    double *comp;   /* [Np x 6 x V]: share, sib, cou, and their chance values */
} nb_run;

static void nb_run_free(nb_run *u) {
    free(u->X), free(u->lab), free(u->pidx), free(u->acc), free(u->comp);
    memset(u, 0, sizeof *u);
}

/* Query rows [q0, q1) of the stacked search over X [N x W] (S rows per point) into acc at offsets
 * pct (percentiles), mean and, when drift >= 0, drift; Ix, D hold NB_QCH k entries, pt k. */
static int nb_stacked(const nb_run *u, const double *X, size_t q0, size_t q1, size_t pct, size_t mean, long drift,
                      int *Ix, double *D, double *pt) {
    const size_t N = u->Np * u->S, k = u->k;
    for (size_t a = q0; a < q1; a += NB_QCH) {
        size_t na = q1 - a < NB_QCH ? q1 - a : NB_QCH;
        if (an_knn(X, N, u->W, a, a + na, k, Ix, D)) return -1;
        for (size_t q = 0; q < na; q++) {
            const size_t row = a + q, j = row / u->S;
            const int *nb = Ix + q * k;
            double dr = 0, sum = 0;
            for (size_t c = 0; c < k; c++) pt[c] = N > 1 ? (double)nb[c] / (double)(N - 1) : 0, sum += pt[c];
            for (size_t c = 1; c < k; c++) dr += ((double)row - (double)nb[c]) / (double)u->S;
            /* pseudotimes in (d, index) order are not sorted in time: sort for the percentiles */
            for (size_t i = 1; i < k; i++) {
                double t = pt[i];
                size_t m = i;
                for (; m > 0 && pt[m - 1] > t; m--) pt[m] = pt[m - 1];
                pt[m] = t;
            }
            double *ac = u->acc + j * A_PER_POINT;
            for (size_t p = 0; p < NP; p++) ac[pct + p] += an_percentile_sorted(pt, k, pcts[p]);
            ac[mean] += sum / (double)k;
            if (drift >= 0) ac[drift] += k > 1 ? dr / (double)(k - 1) : 0, ac[A_ROWS] += 1;
        }
    }
    return 0;
}

/* This rank's rows [q0, q1) of the stacked search and of the control, and its points
 * (j % nranks == rank) of the within-point composition, as sums into acc and comp. Leaves u->X
 * shuffled: the control permutes its rows in place (a copy would double the largest buffer). */
static int nb_compute(nb_run *u, int rank, int nranks) {
    const size_t N = u->Np * u->S, k = u->k, V = u->V;
    size_t q0, q1;
    hs_an_block(N, rank, nranks, &q0, &q1);
    const size_t buf = NB_QCH * k > u->S * (u->kc + 1) ? NB_QCH * k : u->S * (u->kc + 1);
    int *Ix = malloc(buf * sizeof *Ix), *nbl = malloc((u->S + 1) * sizeof *nbl);
    double *D = malloc(buf * sizeof *D), *pt = malloc(k * sizeof *pt);
    int rc = Ix && nbl && D && pt ? 0 : -1;
    if (!rc) rc = nb_stacked(u, u->X, q0, q1, A_PCT, A_MEAN, A_DRIFT, Ix, D, pt);
    /* composition: the point's own draws, kc nearest others and all others (chance) */
    double sh[NB_MAXV], sb[NB_MAXV], co[NB_MAXV];
    for (size_t j = (size_t)rank; !rc && u->kc > 0 && j < u->Np; j += (size_t)nranks) {
        const double *Xj = u->X + j * u->S * u->W;
        const int *lj = u->lab + j * u->S;
        if ((rc = an_knn(Xj, u->S, u->W, 0, u->S, u->kc + 1, Ix, D))) break;
        double *cp = u->comp + j * 6 * V;
        for (size_t q = 0; q < u->S; q++) {
            for (size_t c = 0; c < u->kc; c++) nbl[c] = lj[Ix[q * (u->kc + 1) + c + 1]];
            an_composition(lj[q], nbl, u->kc, u->branching, (int)V, sh, sb, co);
            for (size_t l = 0; l < V; l++) cp[l] += sh[l], cp[V + l] += sb[l], cp[2 * V + l] += co[l];
            size_t m = 0;
            for (size_t o = 0; o < u->S; o++)
                if (o != q) nbl[m++] = lj[o];
            an_composition(lj[q], nbl, m, u->branching, (int)V, sh, sb, co);
            for (size_t l = 0; l < V; l++) cp[3 * V + l] += sh[l], cp[4 * V + l] += sb[l], cp[5 * V + l] += co[l];
        }
        for (size_t i = 0; i < 6 * V; i++) cp[i] /= (double)u->S;
    }
    if (!rc) { /* the control: Fisher-Yates on the rows, the same on every rank (one fixed stream) */
        hs_rng g;
        hs_rng_init(&g, NB_CONTROL_SEED, hs_rng_stream(HS_STREAM_RECORD, 0));
        for (size_t i = N; i > 1; i--) {
            size_t j = (size_t)hs_rng_below(&g, i);
            double *x = u->X + (i - 1) * u->W, *y = u->X + j * u->W;
            for (size_t w = 0; j != i - 1 && w < u->W; w++) {
                double t = x[w];
                x[w] = y[w], y[w] = t;
            }
        }
        rc = nb_stacked(u, u->X, q0, q1, A_CPCT, A_CMEAN, -1, Ix, D, pt);
    }
    free(Ix), free(nbl), free(D), free(pt);
    return rc;
}

/* Every rank: run r's valid points (point index >= 0, values finite) of neigh_rep into u. */
static hs_code nb_read(const hs_results_reader *rd, size_t r, const size_t *d, nb_run *u, hs_error *err) {
    const size_t Ns = d[1], S = d[2], W = d[3];
    u->S = S, u->W = W;
    double *v = malloc((Ns * S * W + 1) * sizeof *v), *lab = malloc((Ns * S + 1) * sizeof *lab);
    double *pt = malloc((Ns + 1) * sizeof *pt);
    u->X = v, u->lab = malloc((Ns * S + 1) * sizeof *u->lab), u->pidx = malloc((Ns + 1) * sizeof *u->pidx);
    hs_code rc = v && lab && pt && u->lab && u->pidx ? HS_OK : HS_FAIL(err, HS_ERR_NOMEM, "out of memory for run %zu", r);
    if (rc == HS_OK) rc = hs_reader_rows(rd, HS_READ_SERIES, "neigh_rep", r, 1, v, err);
    if (rc == HS_OK) rc = hs_reader_rows(rd, HS_READ_SERIES, "neigh_labels", r, 1, lab, err);
    if (rc == HS_OK) rc = hs_reader_rows(rd, HS_READ_SERIES_POINT, "neigh_rep", r, 1, pt, err);
    for (size_t j = 0; rc == HS_OK && j < Ns; j++) {
        int ok = pt[j] >= 0;
        for (size_t i = 0; ok && i < S * W; i++) ok = isfinite(v[j * S * W + i]);
        for (size_t i = 0; ok && i < S; i++) ok = isfinite(lab[j * S + i]);
        if (!ok) continue;
        memmove(v + u->Np * S * W, v + j * S * W, S * W * sizeof *v); /* compact in place: Np <= j */
        for (size_t i = 0; i < S; i++) u->lab[u->Np * S + i] = (int)lab[j * S + i];
        u->pidx[u->Np++] = (long)pt[j]; /* the record point (the series stores every point: pt[j] = j) */
    }
    free(lab), free(pt);
    return rc;
}

/* ================================================================ the analysis */

typedef struct nb_all {
    size_t R, Ns, V, analysed;
    double *pct, *pct_s, *drift, *drift_s, *comp, *step, *x; /* [R x Ns x ...], NaN padded */
    double *mean, *cpct, *cmean;                              /* [R x Ns (x NP)]: pseudotime, control */
    double *fixed_step, *fixed_x, *fixed_drift;              /* [R] */
    int *fixed_index, *levels, *k, *draws;                    /* [R] */
    hs_an_column *cols;
    size_t ncols, C;
    int *cfg;      /* [R] configuration of each run (the columns but the seeds), -1 not analysed */
    char **clabel; /* [C] */
} nb_all;

static void nb_all_free(nb_all *a) {
    hs_an_columns_free(a->cols, a->ncols, a->R);
    for (size_t c = 0; a->clabel && c < a->C; c++) free(a->clabel[c]);
    free(a->clabel), free(a->cfg);
    free(a->mean), free(a->cpct), free(a->cmean), free(a->pct), free(a->pct_s), free(a->drift), free(a->drift_s), free(a->comp), free(a->step), free(a->x);
    free(a->fixed_step), free(a->fixed_x), free(a->fixed_drift), free(a->fixed_index), free(a->levels), free(a->k), free(a->draws);
}

static double *nan_array(size_t n) {
    double *p = malloc((n + 1) * sizeof *p);
    for (size_t i = 0; p && i < n; i++) p[i] = NAN;
    return p;
}

/* Rank 0: run r's curves, smoothing and fixed point from the reduced sums. */
static void nb_finish(nb_all *a, size_t r, const nb_run *u, const double *steps, size_t N_rec) {
    const size_t Ns = a->Ns;
    double last = NAN;
    for (size_t j = 0; j < u->Np; j++) {
        long p = u->pidx[j];
        if (p >= 0 && (size_t)p < N_rec && isfinite(steps[p])) last = steps[p];
    }
    double *absd = malloc((u->Np + 1) * sizeof *absd), *sm = malloc((u->Np + 1) * sizeof *sm);
    if (!absd || !sm) {
        free(absd), free(sm);
        return;
    }
    for (size_t j = 0; j < u->Np; j++) {
        const double *ac = u->acc + j * A_PER_POINT;
        double n = ac[A_ROWS];
        double st = (size_t)u->pidx[j] < N_rec ? steps[u->pidx[j]] : NAN;
        a->step[r * Ns + j] = st, a->x[r * Ns + j] = last > 0 ? st / last : NAN;
        for (size_t p = 0; p < NP; p++) a->pct[(r * Ns + j) * NP + p] = ac[A_PCT + p] / n;
        for (size_t p = 0; p < NP; p++) a->cpct[(r * Ns + j) * NP + p] = ac[A_CPCT + p] / n;
        a->mean[r * Ns + j] = ac[A_MEAN] / n, a->cmean[r * Ns + j] = ac[A_CMEAN] / n;
        a->drift[r * Ns + j] = ac[A_DRIFT] / n;
        absd[j] = fabs(ac[A_DRIFT] / n);
        for (size_t q = 0; q < 6; q++)
            memcpy(a->comp + ((r * Ns + j) * 6 + q) * a->V, u->comp + (j * 6 + q) * u->V, u->V * sizeof *u->comp);
    }
    for (size_t p = 0; p < NP; p++)
        an_trailing_mean(a->pct + r * Ns * NP + p, NP, u->Np, NB_WINDOW, a->pct_s + r * Ns * NP + p, NP);
    an_trailing_mean(absd, 1, u->Np, NB_WINDOW, sm, 1);
    size_t best = 0;
    for (size_t j = 0; j < u->Np; j++) {
        a->drift_s[r * Ns + j] = sm[j];
        if (sm[j] < sm[best]) best = j;
    }
    if (u->Np) {
        a->fixed_index[r] = (int)best, a->fixed_step[r] = a->step[r * Ns + best];
        a->fixed_x[r] = a->x[r * Ns + best], a->fixed_drift[r] = sm[best];
    }
    free(absd), free(sm);
}

static hs_code nb_write(const char *path, const nb_all *a, hs_error *err) {
    hs_analysis_out *g = NULL;
    HS_TRY(err, hs_analysis_out_open(path, "neighbours", &g, err));
    size_t R = a->R, d2[2] = {R, a->Ns}, d3[3] = {R, a->Ns, NP}, d4[4] = {R, a->Ns, 6, a->V}, n1 = R, np = NP;
    hs_aout_f64(g, "step", 2, d2, a->step), hs_aout_f64(g, "x", 2, d2, a->x);
    hs_aout_f64(g, "percentiles", 1, &np, pcts);
    hs_aout_f64(g, "pseudotime_pct", 3, d3, a->pct), hs_aout_f64(g, "pseudotime_pct_smooth", 3, d3, a->pct_s);
    hs_aout_f64(g, "pseudotime_mean", 2, d2, a->mean), hs_aout_f64(g, "control_mean", 2, d2, a->cmean);
    hs_aout_f64(g, "control_pct", 3, d3, a->cpct);
    hs_aout_f64(g, "drift", 2, d2, a->drift), hs_aout_f64(g, "drift_abs_smooth", 2, d2, a->drift_s);
    hs_aout_f64(g, "composition", 4, d4, a->comp);
    hs_aout_i32(g, "fixed_index", 1, &n1, a->fixed_index), hs_aout_f64(g, "fixed_step", 1, &n1, a->fixed_step);
    hs_aout_f64(g, "fixed_x", 1, &n1, a->fixed_x), hs_aout_i32(g, "levels", 1, &n1, a->levels);
    hs_aout_i32(g, "k", 1, &n1, a->k), hs_aout_i32(g, "config", 1, &n1, a->cfg);
    hs_aout_strs(g, "label", a->C, (const char *const *)a->clabel);
    hs_aout_attr(g, "", "kc", NB_KC), hs_aout_attr(g, "", "window", NB_WINDOW);
    return hs_analysis_out_close(g, HS_OK, err);
}

/* Rank 0: the analysed runs grouped into configurations (every column but the seeds), in order of
 * first appearance, each labelled by its columns. */
static int nb_group(nb_all *a) {
    size_t *first = malloc((a->R + 1) * sizeof *first);
    a->cfg = malloc((a->R + 1) * sizeof *a->cfg), a->clabel = calloc(a->R + 1, sizeof *a->clabel);
    if (!first || !a->cfg || !a->clabel) return free(first), -1;
    hs_str l = {0};
    int rc = 0;
    for (size_t r = 0; r < a->R; r++) {
        a->cfg[r] = -1;
        if (a->k[r] <= 0) continue;
        size_t c = 0;
        while (c < a->C && hs_an_runs_cmp(a->cols, NULL, a->ncols, first[c], r)) c++;
        if (c == a->C) {
            first[a->C++] = r;
            hs_str_reset(&l);
            for (size_t k = 0; k < a->ncols; k++)
                hs_str_printf(&l, "%s%s=%s", k ? ", " : "", hs_an_short_name(a->cols[k].name), a->cols[k].text[r]);
            if (!(a->clabel[c] = strdup(l.buf ? l.buf : "all runs"))) rc = -1;
        }
        a->cfg[r] = (int)c;
    }
    hs_str_free(&l);
    free(first);
    return rc;
}

static void nb_tables(const hs_results_reader *rd, const nb_all *a, hs_str *csv, hs_str *md) {
    hs_str_printf(md, "## Neighbours: fixed point per configuration\n\nFixed point x (step / last step) and its "
                      "record point: mean +- std (ddof 1) [min, max] over the seeds (each seed also redraws the "
                      "stored examples).\n\n| config | runs | fixed x | fixed point |\n|---|---|---|---|\n");
    double *v = malloc((a->R + 1) * sizeof *v), *w = malloc((a->R + 1) * sizeof *w);
    for (size_t c = 0; v && w && c < a->C; c++) {
        size_t n = 0;
        double lo = INFINITY, hi = -INFINITY;
        for (size_t r = 0; r < a->R; r++)
            if (a->cfg[r] == (int)c) {
                v[n] = a->fixed_x[r], w[n++] = a->fixed_index[r];
                lo = fmin(lo, a->fixed_x[r]), hi = fmax(hi, a->fixed_x[r]);
            }
        hs_str_printf(md, "| %s | %zu | %.3f +- %.3f [%.3f, %.3f] | %.1f +- %.1f |\n", a->clabel[c], n, hs_mean(v, n),
                      n > 1 ? hs_std(v, n, 1) : NAN, lo, hi, hs_mean(w, n), n > 1 ? hs_std(w, n, 1) : NAN);
    }
    free(v), free(w);
    hs_str_printf(md, "\n");
    hs_str_printf(md,
                  "## Neighbours: kNN pseudotime fixed point and category composition\n\n"
                  "Stacked search: each stored draw's k nearest among all draws of the run (Euclidean, self "
                  "included). Fixed point: the record point minimising the smoothed (trailing mean over %d points) "
                  "|mean of own minus neighbour index| (in record points); x = its step / the last step (the "
                  "paper: 0.30 at beta 1.61e-4, 0.44 at beta 0.0924). Composition: each draw's %d nearest others "
                  "among its own point's draws; final = smoothed value at the last point, as share at each level "
                  "(leaf = level 0) with chance in brackets. Control: the rows shuffled before the search (the note's "
                  "time-permuted control); its mean neighbour pseudotime over the points and the largest distance "
                  "of a point's mean from 0.5 (a search that dates the rows correctly gives ~0.5 everywhere).\n\n"
                  "| run | config | points x draws | k | fixed point (step) | x | drift there | control mean [max "
                  "dev] | final share per level (chance) |\n|---|---|---|---|---|---|---|---|---|\n",
                  NB_WINDOW, NB_KC);
    hs_str_printf(csv, "run,id,seed,config,points,draws,k,levels,fixed_index,fixed_step,fixed_x,fixed_drift,"
                       "control_mean,control_max_dev");
    for (size_t l = 0; l < a->V; l++) hs_str_printf(csv, ",share_l%zu,chance_l%zu,sib_l%zu,cou_l%zu", l, l, l, l);
    hs_str_printf(csv, "\n");
    for (size_t r = 0; r < a->R; r++) {
        if (a->k[r] <= 0) continue;
        size_t Np = 0;
        while (Np < a->Ns && !isnan(a->step[r * a->Ns + Np])) Np++;
        const char *lab = a->cfg[r] >= 0 ? a->clabel[a->cfg[r]] : "";
        hs_canon_config cc = {0};
        hs_error e = {0};
        const char *seed = hs_canon_parse(hs_reader_config(rd, r), &cc, &e) == HS_OK ? hs_canon_get(&cc, "seed") : NULL;
        double cm = 0, dev = 0;
        for (size_t j = 0; j < Np; j++)
            cm += a->cmean[r * a->Ns + j] / (double)Np, dev = fmax(dev, fabs(a->cmean[r * a->Ns + j] - 0.5));
        hs_str_printf(csv, "%zu,%s,%s,", r, hs_reader_id(rd, r), seed ? seed : "0");
        hs_an_csv_put(csv, lab, 1);
        hs_str_printf(csv, ",%zu,%d,%d,%d,%d,%.10g,%.10g,%.10g,%.10g,%.10g", Np, a->draws[r], a->k[r], a->levels[r],
                      a->fixed_index[r], a->fixed_step[r], a->fixed_x[r], a->fixed_drift[r], cm, dev);
        hs_str_printf(md, "| %zu %s (seed %s) | %s | %zu x %d | %d | %d (%.0f) | %.3f | %.3g | %.3f [%.3f] |", r,
                      hs_reader_id(rd, r), seed ? seed : "0", lab, Np, a->draws[r], a->k[r], a->fixed_index[r],
                      a->fixed_step[r], a->fixed_x[r], a->fixed_drift[r], cm, dev);
        for (size_t l = 0; l < a->V; l++) {
            double f[4] = {NAN, NAN, NAN, NAN};
            const int which[4] = {0, 3, 1, 2}; /* share, chance share, sib, cou */
            for (int q = 0; q < 4; q++) {
                double *tmp = malloc((Np + 1) * sizeof *tmp);
                if (!tmp || !Np || l >= (size_t)a->levels[r]) {
                    f[q] = NAN, free(tmp);
                    continue;
                }
                an_trailing_mean(a->comp + (r * a->Ns) * 6 * a->V + which[q] * a->V + l, 6 * a->V, Np,
                                 NB_WINDOW, tmp, 1);
                f[q] = tmp[Np - 1];
                free(tmp);
            }
            hs_str_printf(csv, ",%.10g,%.10g,%.10g,%.10g", f[0], f[1], f[2], f[3]);
            if (l < (size_t)a->levels[r]) hs_str_printf(md, "%s %zu: %.2f (%.2f)", l ? "," : "", l, f[0], f[1]);
        }
        hs_str_printf(csv, "\n");
        hs_str_printf(md, " |\n");
        hs_canon_free(&cc);
    }
    hs_str_printf(md, "\n");
}

/* Levels and branching of run r's label tree: the data's levels, else the classes as one level. */
static void tree_of(const hs_results_reader *rd, size_t r, int *V, int *b) {
    *V = 1, *b = 2;
    hs_canon_config cc;
    hs_train_config cfg;
    hs_error e = {0};
    if (hs_canon_parse(hs_reader_config(rd, r), &cc, &e) != HS_OK) return;
    if (hs_canon_typed(&cc, &cfg, &e) == HS_OK) {
        if (hs_data_kind_has(&cfg.data, HS_DATA_KIND_LABEL_LEVELS) && cfg.data.levels >= 1 &&
            cfg.data.levels <= NB_MAXV && cfg.data.branching >= 2)
            *V = cfg.data.levels, *b = cfg.data.branching;
        hs_train_config_free(&cfg);
    }
    hs_canon_free(&cc);
}

static hs_code nb_run_all(MPI_Comm comm, const hs_analyze_opts *o, hs_str *summary, hs_str *table, hs_error *err) {
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    hs_results_reader *rd = NULL;
    HS_TRY(err, hs_reader_open(comm, o->path, &rd, err));
    nb_all a = {0};
    hs_error mine = {0};
    hs_code rc = HS_OK;
    int nd = 0;
    size_t d[HS_READER_MAX_DIMS];
    double *steps = NULL;
    size_t N_rec = 0;
    a.R = hs_reader_n_runs(rd);
    if (hs_reader_dims(rd, HS_READ_SERIES, "neigh_rep", &nd, d) != HS_OK || nd != 4 ||
        !hs_reader_has(rd, HS_READ_SERIES, "neigh_labels")) {
        rc = HS_FAIL(&mine, HS_ERR_VALUE, "%s: no series neigh_rep/neigh_labels", o->path);
        hs_error_hint(&mine, "record them with record.neighbours > 0 (an mlp on labelled data)");
    }
    a.Ns = rc == HS_OK ? d[1] : 0;
    for (size_t r = 0; r < a.R; r++) {
        int V, b;
        tree_of(rd, r, &V, &b);
        if ((size_t)V > a.V) a.V = (size_t)V;
    }
    const size_t R = a.R, Ns = a.Ns;
    a.pct = nan_array(R * Ns * NP), a.pct_s = nan_array(R * Ns * NP), a.drift = nan_array(R * Ns);
    a.drift_s = nan_array(R * Ns), a.comp = nan_array(R * Ns * 6 * a.V), a.step = nan_array(R * Ns);
    a.mean = nan_array(R * Ns), a.cmean = nan_array(R * Ns), a.cpct = nan_array(R * Ns * NP);
    a.x = nan_array(R * Ns), a.fixed_step = nan_array(R), a.fixed_x = nan_array(R), a.fixed_drift = nan_array(R);
    a.fixed_index = calloc(R + 1, sizeof(int)), a.levels = calloc(R + 1, sizeof(int)), a.k = calloc(R + 1, sizeof(int));
    a.draws = calloc(R + 1, sizeof(int));
    if (rc == HS_OK && !(a.mean && a.cmean && a.cpct && a.pct && a.pct_s && a.drift && a.drift_s && a.comp && a.step && a.x && a.fixed_step &&
                         a.fixed_x && a.fixed_drift && a.fixed_index && a.levels && a.k && a.draws))
        rc = HS_FAIL(&mine, HS_ERR_NOMEM, "out of memory");
    if (rc == HS_OK) rc = an_records(rd, "step", &steps, &N_rec, &mine);
    for (size_t r = 0; r < R; r++) {
        /* every rank decides alike (the same file), so the collective reductions below match */
        int go = rc == HS_OK && hs_reader_finished(rd, r) && hs_reader_in_plan(rd, r);
        int code = 0;
        nb_run u = {0};
        if (go) {
            int V, b;
            tree_of(rd, r, &V, &b);
            u.V = (size_t)V, u.branching = b;
            hs_error e = {0};
            code = nb_read(rd, r, d, &u, &e) != HS_OK;
            if (!code && u.Np > 0) {
                size_t N = u.Np * u.S;
                u.k = N < NB_K ? N : NB_K, u.kc = u.S > 1 ? (u.S - 1 < NB_KC ? u.S - 1 : NB_KC) : 0;
                u.acc = calloc(u.Np * A_PER_POINT + 1, sizeof *u.acc), u.comp = calloc(u.Np * 6 * u.V + 1, sizeof *u.comp);
                code = !u.acc || !u.comp || nb_compute(&u, rank, nranks);
            }
        }
        int any = 0;
        MPI_Allreduce(&code, &any, 1, MPI_INT, MPI_MAX, comm);
        if (go && any && rc == HS_OK) rc = HS_FAIL(&mine, HS_ERR_NOMEM, "run %zu: cannot read or search its draws", r);
        if (go && !any && u.Np > 0) {
            MPI_Reduce(rank ? u.acc : MPI_IN_PLACE, u.acc, (int)(u.Np * A_PER_POINT), MPI_DOUBLE, MPI_SUM, 0, comm);
            MPI_Reduce(rank ? u.comp : MPI_IN_PLACE, u.comp, (int)(u.Np * 6 * u.V), MPI_DOUBLE, MPI_SUM, 0, comm);
            if (rank == 0) {
                a.k[r] = (int)u.k, a.levels[r] = (int)u.V, a.draws[r] = (int)u.S;
                nb_finish(&a, r, &u, steps + r * N_rec, N_rec);
                a.analysed++;
            }
        }
        nb_run_free(&u);
    }
    if (rank == 0 && rc == HS_OK) rc = hs_an_config_columns(rd, &a.cols, &a.ncols, &mine);
    if (rank == 0 && rc == HS_OK && nb_group(&a)) rc = HS_FAIL(&mine, HS_ERR_NOMEM, "out of memory");
    hs_str csv = {0}, md = {0};
    if (rank == 0 && rc == HS_OK) nb_tables(rd, &a, &csv, &md);
    hs_reader_close(rd); /* collective: before rank 0 opens the file for writing */
    if (rank == 0 && rc == HS_OK) rc = nb_write(o->path, &a, &mine);
    if (rank == 0 && rc == HS_OK) rc = hs_an_write_tables(o, "neighbours", &csv, &md, &mine);
    if (rank == 0 && rc == HS_OK && table && md.buf) hs_str_append(table, md.buf, md.len);
    double n[2] = {(double)a.R, (double)a.analysed};
    hs_str_free(&csv), hs_str_free(&md);
    free(steps);
    nb_all_free(&a);
    HS_TRY(err, hs_an_share_outcome(comm, rc, &mine, n, 2, err));
    return hs_str_printf(summary, "%s: neighbours (kNN pseudotime, fixed point, composition) of %.0f runs, %.0f analysed\n",
                         o->path, n[0], n[1]);
}

static int nb_applies(const hs_results_reader *rd) { return hs_reader_has(rd, HS_READ_SERIES, "neigh_rep"); }

const hs_analysis hs_analysis_neighbours = {
    .name = "neighbours",
    .doc = "kNN pseudotime of stored representations over training (fixed point) and neighbourhood category composition",
    .applies = nb_applies,
    .run = nb_run_all,
};
