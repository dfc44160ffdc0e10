/* test_probe_analysis.c - the sensitivity and stability analyses against values computed by hand,
 * on small results files written through the store as a sweep writes them (probe series, test
 * accuracies, steps, an unfinished run). Runs on one process (unit_probe_analysis) and on two
 * (mpi_probe_analysis: rank 0 writes, every rank analyses collectively). */
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hsweep/analysis.h"
#include "hsweep/store.h"
#include "testing.h"

static char g_dir[64], g_sens[128], g_stab[128];
static int g_rank;

static const char *const metrics[] = {"step", "test_acc"};

/* Write path: n runs with configs and typed columns; run r's records rec[r] [2 points x (step,
 * test_acc)] and its series (ns of them, values[s][r] over 2 points), unless state[r] is pending. */
static void write_file(const char *path, size_t n, const char *const *configs, const hs_results_col *cols,
                       size_t ncols, const double (*rec)[4], const hs_results_series *ser, size_t ns,
                       const double *const *values, const hs_run_state *state) {
    char ids[8][17];
    const char *idp[8];
    for (size_t r = 0; r < n; r++) snprintf(ids[r], sizeof ids[r], "%016zx", r + 1), idp[r] = ids[r];
    hs_results_layout lay = {.n_runs = n, .ids = idp, .configs = configs, .cols = cols, .n_cols = ncols,
                             .n_records = 2, .metrics = metrics, .n_metrics = 2, .series = ser, .n_series = ns,
                             .spec_text = "x: 1\n", .spec_path = "t.yaml", .plan_digest = "d", .hsweep_version = "t",
                             .schema_version = 1};
    hs_results *f = NULL;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_results_create(MPI_COMM_SELF, path, &lay, &f, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_results_use_metrics(f, metrics, 2, NULL, 0, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_results_use_series(f, ser, ns, &err), HS_OK);
    for (size_t r = 0; r < n; r++) {
        if (state[r] == HS_STATE_PENDING) continue;
        long long pt[2] = {0, 1};
        hs_store_series s[4];
        for (size_t k = 0; k < ns; k++) {
            size_t size = 1;
            for (int d = 0; d < ser[k].ndim; d++) size *= ser[k].dims[d];
            s[k] = (hs_store_series){.name = ser[k].name, .axes = ser[k].axes, .ndim = ser[k].ndim, .n = 2,
                                     .point = pt, .values = values[k] + r * 2 * size};
            memcpy(s[k].dims, ser[k].dims, sizeof s[k].dims);
        }
        CU_ASSERT_EQUAL(hs_results_write_series(f, r, s, ns, &err), HS_OK);
        hs_results_row row = {.state = state[r], .error = ""};
        CU_ASSERT_EQUAL(hs_results_write_run(f, r, &row, rec[r], NULL, &err), HS_OK);
    }
    CU_ASSERT_EQUAL(hs_results_close(f, &err), HS_OK);
}

/* ---------------------------------------------------------------- the sensitivity file
 * Seven CNN runs (data.L = s = 2 by default: 3 nodes, 2 levels) at P = 100, 200, 400, seeds 1, 2,
 * plus one pending; one LCN run at P = 100. At the last point, for seed 1 (-) and 2 (+):
 *   S_{k,l} = a_P (1 - 0.2 k) + 0.05 l -+ 0.01, a = 0.875, 0.5625, 0.375 (S_{2,1} = 0.7, 0.45, 0.3)
 *   D_{k,l} = b_P (1 - 0.2 k) + 0.05 l -+ 0.01, b = 0.375, 0.3125, 0.125 (D_{2,1} = 0.3, 0.25, 0.1)
 *   G_k = 1 - 0.1 k -+ 0.01; best test errors 0.42/0.38, 0.13/0.11, 0.05/0.05;
 * every value 1 at point 0 (test accuracy 0.2 there). The LCN run: S = 0.9, D = 0.8, G = 1,
 * error 0.5. Steps at point 1: 100 (seed 1), 120 (seed 2). */
#define NS_RUNS 8
static double sS[NS_RUNS * 2 * 6], sD[NS_RUNS * 2 * 6], sG[NS_RUNS * 2 * 3];

static void setup(void) {
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    snprintf(g_dir, sizeof g_dir, "/tmp/hsweep-probe-an-XXXXXX");
    if (g_rank == 0) CU_ASSERT_PTR_NOT_NULL(mkdtemp(g_dir));
    MPI_Bcast(g_dir, sizeof g_dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    snprintf(g_sens, sizeof g_sens, "%s/sens.h5", g_dir);
    snprintf(g_stab, sizeof g_stab, "%s/stab.h5", g_dir);
    if (g_rank != 0) {
        MPI_Barrier(MPI_COMM_WORLD);
        return;
    }
    static const long long P[NS_RUNS] = {100, 100, 200, 200, 400, 400, 100, 100};
    static const long long seed[NS_RUNS] = {1, 2, 1, 2, 1, 2, 1, 3};
    static const char *const arch[NS_RUNS] = {"cnn", "cnn", "cnn", "cnn", "cnn", "cnn", "lcn", "cnn"};
    static const double eps[NS_RUNS] = {0.42, 0.38, 0.13, 0.11, 0.05, 0.05, 0.5, 0};
    static char cfg_text[NS_RUNS][160];
    static const char *configs[NS_RUNS];
    double rec[NS_RUNS][4];
    for (int r = 0; r < NS_RUNS; r++) {
        snprintf(cfg_text[r], sizeof cfg_text[r],
                 "hsweep/1\ndata.kind=\"srhm\"\ndata.n_train=%lld\nmodel.arch=\"%s\"\nseed=%lld\n", P[r], arch[r],
                 seed[r]);
        configs[r] = cfg_text[r];
        double pm = seed[r] == 1 ? -0.01 : 0.01, a = P[r] == 100 ? 0.875 : P[r] == 200 ? 0.5625 : 0.375;
        double b = P[r] == 100 ? 0.375 : P[r] == 200 ? 0.3125 : 0.125;
        rec[r][0] = 0, rec[r][1] = 0.2, rec[r][2] = seed[r] == 1 ? 100 : 120, rec[r][3] = 1 - eps[r];
        for (int k = 0; k < 3; k++) {
            for (int l = 0; l < 2; l++) {
                int lcn = r == 6;
                sS[r * 12 + k * 2 + l] = sD[r * 12 + k * 2 + l] = 1; /* point 0 */
                sS[r * 12 + 6 + k * 2 + l] = lcn ? 0.9 : a * (1 - 0.2 * k) + 0.05 * l + pm;
                sD[r * 12 + 6 + k * 2 + l] = lcn ? 0.8 : b * (1 - 0.2 * k) + 0.05 * l + pm;
            }
            sG[r * 6 + k] = 1, sG[r * 6 + 3 + k] = r == 6 ? 1 : 1 - 0.1 * k + pm;
        }
    }
    hs_results_col cols[] = {{.name = "data.n_train", .type = HS_COL_INT, .i = P},
                             {.name = "model.arch", .type = HS_COL_STR, .s = arch},
                             {.name = "seed", .type = HS_COL_INT, .i = seed}};
    hs_results_series ser[3] = {
        {.name = "sensitivity_S", .axes = "node,level", .ndim = 2, .dims = {3, 2}, .n_points = 2, .every = 1},
        {.name = "sensitivity_D", .axes = "node,level", .ndim = 2, .dims = {3, 2}, .n_points = 2, .every = 1},
        {.name = "sensitivity_G", .axes = "node", .ndim = 1, .dims = {3}, .n_points = 2, .every = 1}};
    const double *values[3] = {sS, sD, sG};
    hs_run_state st[NS_RUNS];
    for (int r = 0; r < NS_RUNS; r++) st[r] = r == 7 ? HS_STATE_PENDING : HS_STATE_DONE;
    write_file(g_sens, NS_RUNS, configs, cols, 3, (const double(*)[4])rec, ser, 3, values, st);

    /* ---------------------------------------------------------------- the stability file
     * cfm runs, width 16 (seeds 1, 2) and 32 (seed 1); 3 nodes; R at point 0 / 1:
     *   run 0: [1, 1.2, 1.4] / [1, 2, 3]; run 1: [1, 1.0, 1.2] / [1, 3, 5]; run 2: [1, 1, 1] / [1, 4, 9];
     * D = R / 10, G = 0.1; (c, T) = (3, 0.01). */
    static const long long width[3] = {16, 16, 32}, sd2[3] = {1, 2, 1};
    static const char *const ccfg[3] = {"hsweep/1\ndata.kind=\"cfm\"\nmodel.width=16\nseed=1\n",
                                        "hsweep/1\ndata.kind=\"cfm\"\nmodel.width=16\nseed=2\n",
                                        "hsweep/1\ndata.kind=\"cfm\"\nmodel.width=32\nseed=1\n"};
    static const double R[3][6] = {{1, 1.2, 1.4, 1, 2, 3}, {1, 1.0, 1.2, 1, 3, 5}, {1, 1, 1, 1, 4, 9}};
    static double vR[18], vD[18], vG[18], vP[12];
    for (int r = 0; r < 3; r++) {
        for (int i = 0; i < 6; i++) vR[r * 6 + i] = R[r][i], vD[r * 6 + i] = R[r][i] / 10, vG[r * 6 + i] = 0.1;
        for (int j = 0; j < 2; j++) vP[r * 4 + j * 2] = 3, vP[r * 4 + j * 2 + 1] = 0.01;
        rec[r][0] = 0, rec[r][1] = 0.1, rec[r][2] = 50, rec[r][3] = 0.8;
    }
    hs_results_col c2[] = {{.name = "model.width", .type = HS_COL_INT, .i = width},
                           {.name = "seed", .type = HS_COL_INT, .i = sd2}};
    hs_results_series s2[4] = {
        {.name = "stability_D", .axes = "node", .ndim = 1, .dims = {3}, .n_points = 2, .every = 1},
        {.name = "stability_G", .axes = "node", .ndim = 1, .dims = {3}, .n_points = 2, .every = 1},
        {.name = "stability_R", .axes = "node", .ndim = 1, .dims = {3}, .n_points = 2, .every = 1},
        {.name = "stability_diffeo", .axes = "param", .ndim = 1, .dims = {2}, .n_points = 2, .every = 1}};
    const double *v2[4] = {vD, vG, vR, vP};
    hs_run_state st2[3] = {HS_STATE_DONE, HS_STATE_DONE, HS_STATE_DONE};
    write_file(g_stab, 3, ccfg, c2, 2, (const double(*)[4])rec, s2, 4, v2, st2);
    MPI_Barrier(MPI_COMM_WORLD);
}

/* /analysis/<group>/<name> [n] as doubles. */
static void read_ds(const char *path, const char *group, const char *name, double *v, size_t n) {
    char p[160];
    snprintf(p, sizeof p, "/analysis/%s/%s", group, name);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = f >= 0 ? H5Dopen2(f, p, H5P_DEFAULT) : -1;
    hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
    if (sp < 0 || (size_t)H5Sget_simple_extent_npoints(sp) != n) fprintf(stderr, "\n  %s: missing or not %zu\n", p, n);
    CU_ASSERT_FATAL(sp >= 0 && (size_t)H5Sget_simple_extent_npoints(sp) == n);
    CU_ASSERT(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Sclose(sp), H5Dclose(d), H5Fclose(f);
}

static double read_attr(const char *path, const char *group, const char *name) {
    char p[160];
    snprintf(p, sizeof p, "/analysis/%s", group);
    double v = NAN;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t a = f >= 0 ? H5Aopen_by_name(f, p, name, H5P_DEFAULT, H5P_DEFAULT) : -1;
    CU_ASSERT(a >= 0 && H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0);
    if (a >= 0) H5Aclose(a);
    H5Fclose(f);
    return v;
}

#define NEAR(x, y) CU_ASSERT(fabs((x) - (y)) < 1e-12)

static void test_sensitivity(void) {
    hs_analyze_opts o = {.path = g_sens};
    hs_str summary = {0}, table = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_analyze_run(MPI_COMM_WORLD, "sensitivity", &o, &summary, &table, &err), HS_OK);
    HS_ASSERT_CONTAINS(summary.buf, "sensitivities of 8 runs (7 finished with probes) in 4 configurations, 2 families");
    if (g_rank != 0) {
        CU_ASSERT_EQUAL(table.len, 0);
        hs_str_free(&summary);
        return;
    }
    /* configurations sorted by (n_train, arch): (100, cnn), (100, lcn), (200, cnn), (400, cnn) */
    double cfg[NS_RUNS], fam[4], P[4], m[4], s[4], n[4];
    read_ds(g_sens, "sensitivity", "config", cfg, NS_RUNS);
    const double want_cfg[NS_RUNS] = {0, 0, 2, 2, 3, 3, 1, -1};
    for (int r = 0; r < NS_RUNS; r++) CU_ASSERT_EQUAL(cfg[r], want_cfg[r]);
    read_ds(g_sens, "sensitivity", "family", fam, 4), read_ds(g_sens, "sensitivity", "P", P, 4);
    CU_ASSERT(fam[0] == 0 && fam[1] == 1 && fam[2] == 0 && fam[3] == 0);
    CU_ASSERT(P[0] == 100 && P[1] == 100 && P[2] == 200 && P[3] == 400);
    /* the run quantities over seeds: S_{2,1} = 0.7 -+ 0.01, std sqrt(2 x 0.01^2 / 1) */
    read_ds(g_sens, "sensitivity", "S21_mean", m, 4), read_ds(g_sens, "sensitivity", "S21_std", s, 4);
    NEAR(m[0], 0.7); NEAR(m[1], 0.9); NEAR(m[2], 0.45); NEAR(m[3], 0.3);
    NEAR(s[0], sqrt(2e-4)); CU_ASSERT(isnan(s[1]));
    read_ds(g_sens, "sensitivity", "test_err_mean", m, 4), read_ds(g_sens, "sensitivity", "test_err_n", n, 4);
    NEAR(m[0], 0.40); NEAR(m[1], 0.5); NEAR(m[2], 0.12); NEAR(m[3], 0.05);
    CU_ASSERT(n[0] == 2 && n[1] == 1);
    read_ds(g_sens, "sensitivity", "D21_mean", m, 4);
    NEAR(m[0], 0.3); NEAR(m[2], 0.25); NEAR(m[3], 0.1);
    /* the 80%-depth node: the CNN/LCN's output (node 2 of 3): S = 0.6 a, G = 0.8; the common nets'
     * indices as the reference note lists them (hidden nodes only: VGG-11 has 8 ReLUs + logits) */
    CU_ASSERT_EQUAL(hs_sensitivity_node80("cnn", 3), 2);
    CU_ASSERT_EQUAL(hs_sensitivity_node80("lcn", 4), 3);
    CU_ASSERT_EQUAL(hs_sensitivity_node80("vgg11", 9), 6);
    CU_ASSERT_EQUAL(hs_sensitivity_node80("vgg16", 14), 10);
    CU_ASSERT_EQUAL(hs_sensitivity_node80("resnet18", 18), 13);
    CU_ASSERT_EQUAL(hs_sensitivity_node80("resnet34", 34), 26);
    CU_ASSERT_EQUAL(hs_sensitivity_node80("effnet_b0", 65), 51);
    read_ds(g_sens, "sensitivity", "S80_mean", m, 4), read_ds(g_sens, "sensitivity", "G80_mean", s, 4);
    NEAR(m[0], 0.525); NEAR(m[2], 0.3375); NEAR(s[0], 0.8); NEAR(s[1], 1.0);
    /* the whole final matrices: S_{3,2} of (400, cnn) = 0.375 x 0.6 + 0.05 */
    double Sm[4 * 6], Gm[4 * 3];
    read_ds(g_sens, "sensitivity", "S_mean", Sm, 24), read_ds(g_sens, "sensitivity", "G_mean", Gm, 12);
    NEAR(Sm[3 * 6 + 2 * 2 + 1], 0.375 * 0.6 + 0.05); NEAR(Gm[2 * 3 + 1], 0.9);
    /* over record points: 2 points per configuration; at point 1 the mean step (100 + 120) / 2 */
    double tc[8], tp[8], ts[8], tS[8 * 6];
    read_ds(g_sens, "sensitivity", "time_config", tc, 8), read_ds(g_sens, "sensitivity", "time_point", tp, 8);
    read_ds(g_sens, "sensitivity", "time_step", ts, 8), read_ds(g_sens, "sensitivity", "time_S_mean", tS, 48);
    CU_ASSERT(tc[0] == 0 && tp[0] == 0 && tc[1] == 0 && tp[1] == 1 && tc[7] == 3);
    NEAR(ts[0], 0); NEAR(ts[1], 110); NEAR(ts[3], 100); /* the LCN's one run: seed 1 */
    NEAR(tS[0 * 6 + 3], 1.0); NEAR(tS[1 * 6 + 1 * 2], 0.7);
    /* the families' readings: CNN thresholds (L = s = 2) 0.1, 0.4, 0.2 at node 2; each reads
     * P = 200 (0.12, 0.45, 0.25 are the nearest); the LCN's one point is too far from 0.1, 0.3 and
     * 0.1 (0.4, 0.6, 0.7 > the tolerances 0.1, 0.5, 0.5) */
    double thr[2], ps[2], at[2], node[2];
    read_ds(g_sens, "sensitivity", "thr_p_star_S", thr, 2), read_ds(g_sens, "sensitivity", "p_star_S", ps, 2);
    read_ds(g_sens, "sensitivity", "at_p_star_S", at, 2), read_ds(g_sens, "sensitivity", "family_node", node, 2);
    NEAR(thr[0], 0.4); NEAR(thr[1], 0.3); NEAR(ps[0], 200); NEAR(at[0], 0.45); CU_ASSERT(isnan(ps[1]));
    CU_ASSERT(node[0] == 1 && node[1] == 1);
    read_ds(g_sens, "sensitivity", "p_star", ps, 2), read_ds(g_sens, "sensitivity", "at_p_star", at, 2);
    NEAR(ps[0], 200); NEAR(at[0], 0.12); CU_ASSERT(isnan(ps[1]));
    read_ds(g_sens, "sensitivity", "p_star_D", ps, 2), read_ds(g_sens, "sensitivity", "thr_p_star_D", thr, 2);
    NEAR(ps[0], 200); NEAR(thr[0], 0.2); NEAR(thr[1], 0.1); CU_ASSERT(isnan(ps[1]));
    /* Pearson r over the 4 configurations: x = S21 (0.7, 0.9, 0.45, 0.3), y = error (0.4, 0.5,
     * 0.12, 0.05): numpy.corrcoef gives 0.9868645512812754, on logs 0.9916425542539629; against
     * D21 (0.3, 0.8, 0.25, 0.1) 0.8468199610761301 */
    CU_ASSERT(fabs(read_attr(g_sens, "sensitivity", "r_S21") - 0.9868645512812754) < 1e-12);
    CU_ASSERT(fabs(read_attr(g_sens, "sensitivity", "r_log_S21") - 0.9916425542539629) < 1e-12);
    CU_ASSERT(fabs(read_attr(g_sens, "sensitivity", "r_D21") - 0.8468199610761301) < 1e-12);
    HS_ASSERT_CONTAINS(table.buf, "| n_train=100, arch=cnn | 2 | 0.4 +- 0.028 | 0.7 +- 0.014 | 0.3 +- 0.014 |");
    HS_ASSERT_CONTAINS(table.buf, "| arch=cnn | cnn | 2 | 200 (0.12 at 0.1) | 200 (0.45 at 0.4) | 200 (0.25 at 0.2) |");
    HS_ASSERT_CONTAINS(table.buf, "| arch=lcn | lcn | 2 | - (0.1) | - (0.3) | - (0.1) |");
    char p[160];
    static const char *const parts[] = {"sensitivity.csv", "sensitivity.md", "sensitivity-nodes.csv",
                                        "sensitivity-pstar.csv"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/sens.%s", g_dir, parts[i]);
        CU_ASSERT_EQUAL(access(p, R_OK), 0);
        unlink(p);
    }
    /* CSV-only tables leave no empty Markdown file beside them */
    snprintf(p, sizeof p, "%s/sens.sensitivity-nodes.md", g_dir);
    CU_ASSERT_NOT_EQUAL(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/sens.sensitivity-pstar.md", g_dir);
    CU_ASSERT_NOT_EQUAL(access(p, F_OK), 0);
    hs_str_free(&summary), hs_str_free(&table);
}

static void test_stability(void) {
    hs_analyze_opts o = {.path = g_stab};
    hs_str summary = {0}, table = {0};
    hs_error err = {0};
    const hs_analysis *a = NULL;
    CU_ASSERT_EQUAL(hs_analysis_detect(MPI_COMM_WORLD, g_stab, &a, &err), HS_OK);
    CU_ASSERT_STRING_EQUAL(a->name, "stability"); /* auto: before equisep */
    CU_ASSERT_EQUAL_FATAL(hs_analyze_run(MPI_COMM_WORLD, "stability", &o, &summary, &table, &err), HS_OK);
    HS_ASSERT_CONTAINS(summary.buf, "relative stability of 3 runs (3 finished with probes) in 2 configurations");
    /* the sensitivity analysis on this file says what is missing */
    o.path = g_stab;
    CU_ASSERT_EQUAL(hs_analyze_run(MPI_COMM_WORLD, "sensitivity", &o, &summary, NULL, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "no series sensitivity_S");
    HS_ASSERT_CONTAINS(err.hint, "record.sensitivity");
    if (g_rank == 0) {
        /* width 16: R init (1, 1.1, 1.3) +- (0, sqrt(0.02), sqrt(0.02)), end (1, 2.5, 4) +- (0, sqrt(0.5), sqrt(2)) */
        double im[6], is[6], em[6], es[6], Dm[6], c[2], T[2];
        read_ds(g_stab, "stability", "R_init_mean", im, 6), read_ds(g_stab, "stability", "R_init_std", is, 6);
        read_ds(g_stab, "stability", "R_end_mean", em, 6), read_ds(g_stab, "stability", "R_end_std", es, 6);
        read_ds(g_stab, "stability", "D_end_mean", Dm, 6);
        NEAR(im[0], 1); NEAR(im[1], 1.1); NEAR(im[2], 1.3); NEAR(is[0], 0); NEAR(is[1], sqrt(0.02));
        NEAR(em[1], 2.5); NEAR(em[2], 4); NEAR(es[1], sqrt(0.5)); NEAR(es[2], sqrt(2.0));
        NEAR(em[5], 9); CU_ASSERT(isnan(es[5])); NEAR(Dm[2], 0.4);
        read_ds(g_stab, "stability", "config_c", c, 2), read_ds(g_stab, "stability", "config_T", T, 2);
        NEAR(c[0], 3); NEAR(T[1], 0.01);
        double tR[4 * 3], tst[4];
        read_ds(g_stab, "stability", "time_R_mean", tR, 12), read_ds(g_stab, "stability", "time_step", tst, 4);
        NEAR(tR[1 * 3 + 2], 4); NEAR(tst[1], 50);
        HS_ASSERT_CONTAINS(table.buf, "| width=16 | 3 | 0.01 | 2 | 1.3 +- 0.14 | 4 +- 1.4 | 0.4 +- 0.14 | 0.1 +- 0 |");
        char p[160];
        snprintf(p, sizeof p, "%s/stab.stability.csv", g_dir);
        CU_ASSERT_EQUAL(access(p, R_OK), 0);
        unlink(p);
        snprintf(p, sizeof p, "%s/stab.stability.md", g_dir), unlink(p);
    }
    hs_str_free(&summary), hs_str_free(&table);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    static const hs_test tests[] = {
        {"probe series written through the store", setup},
        {"sensitivity: statistics, curves, P*_S / P*_D readings and Pearson r by hand", test_sensitivity},
        {"stability: R_f, D_f, G_f at init and at the end, over points, by hand", test_stability},
        {NULL, NULL},
    };
    int rc = hs_test_main("probe_analysis", tests);
    MPI_Barrier(MPI_COMM_WORLD);
    if (g_rank == 0) unlink(g_sens), unlink(g_stab), rmdir(g_dir);
    MPI_Finalize();
    return rc;
}
