/* test_analysis.c - the registry of analyses (lookup, choices, auto-detection's precedence) and the
 * finals analysis against hand-computed numbers, on small results files written by the store. Runs
 * on one process (unit_analysis) and on two (mpi_analysis: rank 0 writes the files, every rank
 * detects and analyses collectively; rank 0 alone holds the Markdown). */
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hsweep/analysis.h"
#include "hsweep/reader.h"
#include "hsweep/store.h"
#include "../../src/analysis/internal.h"
#include "../../src/analysis/neighbours.h"
#include "testing.h"

static char g_dir[64], g_finals[128], g_srhm[128], g_dyn[128], g_route[128];

#define NM 5
static const char *const metrics[NM] = {"step", "train_loss", "test_loss", "train_acc", "test_acc"};

/* A file of n runs with the given configs, a varying model.depth and seed; run r gets the records
 * rec[r] [2 points x NM] when state[r] is not pending. */
static void write_file(const char *path, size_t n, const char *const *configs, const long long *depth,
                       const long long *seed, const double (*rec)[2 * NM], const hs_run_state *state) {
    char ids[8][17];
    const char *idp[8];
    for (size_t r = 0; r < n; r++) snprintf(ids[r], sizeof ids[r], "%016zx", r + 1), idp[r] = ids[r];
    hs_results_col cols[] = {{.name = "model.depth", .type = HS_COL_INT, .i = depth},
                             {.name = "seed", .type = HS_COL_INT, .i = seed}};
    hs_results_layout lay = {.n_runs = n, .ids = idp, .configs = configs, .cols = cols, .n_cols = 2, .n_records = 2,
                             .metrics = metrics, .n_metrics = NM, .spec_text = "x: 1\n", .spec_path = "t.yaml",
                             .plan_digest = "d", .hsweep_version = "t", .schema_version = 1};
    hs_results *f = NULL;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_results_create(MPI_COMM_SELF, path, &lay, &f, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_results_use_metrics(f, metrics, NM, NULL, 0, &err), HS_OK);
    for (size_t r = 0; r < n; r++) {
        if (state[r] == HS_STATE_PENDING) continue;
        hs_results_row row = {.state = state[r], .error = ""};
        CU_ASSERT_EQUAL(hs_results_write_run(f, r, &row, rec[r], NULL, &err), HS_OK);
    }
    CU_ASSERT_EQUAL(hs_results_close(f, &err), HS_OK);
}

static int g_rank;

static void setup(void) {
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    snprintf(g_dir, sizeof g_dir, "/tmp/hsweep-analysis-XXXXXX");
    if (g_rank == 0) CU_ASSERT_PTR_NOT_NULL(mkdtemp(g_dir));
    MPI_Bcast(g_dir, sizeof g_dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    snprintf(g_finals, sizeof g_finals, "%s/finals.h5", g_dir);
    snprintf(g_srhm, sizeof g_srhm, "%s/srhm.h5", g_dir);
    snprintf(g_dyn, sizeof g_dyn, "%s/dyn.h5", g_dir);
    snprintf(g_route, sizeof g_route, "%s/route.h5", g_dir);
    static const char *const cfm[] = {
        "hsweep/1\ndata.kind=\"cfm\"\nmodel.depth=2\nseed=0\n", "hsweep/1\ndata.kind=\"cfm\"\nmodel.depth=2\nseed=1\n",
        "hsweep/1\ndata.kind=\"cfm\"\nmodel.depth=2\nseed=2\n", "hsweep/1\ndata.kind=\"cfm\"\nmodel.depth=3\nseed=0\n",
        "hsweep/1\ndata.kind=\"cfm\"\nmodel.depth=3\nseed=1\n"};
    static const long long depth[] = {2, 2, 2, 3, 3}, seed[] = {0, 1, 2, 0, 1};
    /* [point x (step, train_loss, test_loss, train_acc, test_acc)]; run 2's test loss is missing
     * at its last point (its final test loss is the one before), run 4 never ran */
    static const double rec[5][2 * NM] = {{0, 1.0, 1.2, 0.5, 0.4, 10, 0.2, 0.5, 0.9, 0.8},
                                          {0, 1.0, 1.2, 0.5, 0.4, 10, 0.4, 0.7, 0.8, 0.7},
                                          {0, 1.0, 1.1, 0.5, 0.4, 10, 0.3, NAN, 0.85, 0.75},
                                          {0, 1.0, 1.2, 0.5, 0.4, 10, 0.1, 0.3, 1.0, 0.9},
                                          {0}};
    static const hs_run_state st[] = {HS_STATE_DONE, HS_STATE_DONE, HS_STATE_DIVERGED, HS_STATE_DONE,
                                      HS_STATE_PENDING};
    if (g_rank == 0) write_file(g_finals, 5, cfm, depth, seed, rec, st);
    /* auto-detection: an srhm run wins over an xor run; an xor run alone calls for dynamics */
    static const char *const mixed[] = {"hsweep/1\ndata.kind=\"xor\"\n", "hsweep/1\ndata.kind=\"srhm\"\n"};
    if (g_rank == 0) {
        write_file(g_srhm, 2, mixed, depth, seed, rec, st);
        write_file(g_dyn, 1, mixed, depth, seed, rec, st);
    }
    /* a routing task calls for dynamics whatever net learns it */
    static const char *const route[] = {"hsweep/1\ndata.kind=\"gated_fmnist\"\nmodel.arch=\"mlp\"\n"};
    if (g_rank == 0) write_file(g_route, 1, route, depth, seed, rec, st);
    MPI_Barrier(MPI_COMM_WORLD);
}

static void test_registry(void) {
    CU_ASSERT(hs_analysis_count() >= 4);
    for (size_t i = 0; i < hs_analysis_count(); i++) {
        const hs_analysis *a = hs_analysis_at(i);
        CU_ASSERT_PTR_EQUAL(hs_analysis_find(a->name), a);
        CU_ASSERT(a->doc && a->doc[0] && a->run);
        HS_ASSERT_CONTAINS(hs_analysis_choices(), a->name);
    }
    CU_ASSERT_PTR_NULL(hs_analysis_at(hs_analysis_count()));
    CU_ASSERT_PTR_NULL(hs_analysis_find("nope"));
    CU_ASSERT_PTR_NULL(hs_analysis_find("finals")->applies); /* by name only */
    CU_ASSERT_STRING_EQUAL(hs_analysis_choices(), "auto|srhm|neighbours|dynamics|sensitivity|stability|equisep|finals");
}

static void test_detect(void) {
    const hs_analysis *a = NULL;
    hs_error err = {0};
    CU_ASSERT_EQUAL(hs_analysis_detect(MPI_COMM_WORLD, g_finals, &a, &err), HS_OK);
    CU_ASSERT_STRING_EQUAL(a->name, "equisep"); /* the fallback */
    CU_ASSERT_EQUAL(hs_analysis_detect(MPI_COMM_WORLD, g_srhm, &a, &err), HS_OK);
    CU_ASSERT_STRING_EQUAL(a->name, "srhm");
    CU_ASSERT_EQUAL(hs_analysis_detect(MPI_COMM_WORLD, g_dyn, &a, &err), HS_OK);
    CU_ASSERT_STRING_EQUAL(a->name, "dynamics");
    CU_ASSERT_EQUAL(hs_analysis_detect(MPI_COMM_WORLD, g_route, &a, &err), HS_OK);
    CU_ASSERT_STRING_EQUAL(a->name, "dynamics");
    CU_ASSERT_EQUAL(hs_analysis_detect(MPI_COMM_WORLD, "/nonexistent/x.h5", &a, &err), HS_ERR_IO);
    HS_ASSERT_CONTAINS(err.msg, "cannot open");
    hs_str s = {0}, t = {0};
    hs_analyze_opts o = {.path = g_finals};
    CU_ASSERT_EQUAL(hs_analyze_run(MPI_COMM_WORLD, "nope", &o, &s, &t, &err), HS_ERR_USAGE);
    HS_ASSERT_CONTAINS(err.msg, "auto|srhm|neighbours|dynamics|sensitivity|stability|equisep|finals");
}

/* /analysis/finals/<name> [n] as doubles. */
static void read_ds(const char *name, double *v, size_t n) {
    char p[128];
    snprintf(p, sizeof p, "/analysis/finals/%s", name);
    hid_t f = H5Fopen(g_finals, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = f >= 0 ? H5Dopen2(f, p, H5P_DEFAULT) : -1;
    hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
    CU_ASSERT_FATAL(sp >= 0 && (size_t)H5Sget_simple_extent_npoints(sp) == n);
    CU_ASSERT(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Sclose(sp), H5Dclose(d), H5Fclose(f);
}

#define NEAR(x, y) CU_ASSERT(fabs((x) - (y)) < 1e-12)

/* The string scalar at ds of the file at path (malloc'd), or NULL when it is not there. */
static char *read_text(const char *path, const char *ds) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = f >= 0 && H5Lexists(f, "tables", H5P_DEFAULT) > 0 ? H5Dopen2(f, ds, H5P_DEFAULT) : -1;
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8); /* HDF5 converts no character set into another */
    char *v = NULL, *out = NULL;
    if (d >= 0 && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) >= 0 && v) {
        out = strdup(v);
        H5free_memory(v);
    }
    H5Tclose(t);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    return out;
}

/* The whole text of a file (malloc'd), or NULL. */
static char *slurp(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, fp) : 0;
    fclose(fp);
    if (buf) buf[n] = '\0';
    return buf;
}

/* Link names directly under /tables, joined by ",", into out. */
static void table_kinds(const char *path, char *out, size_t cap) {
    out[0] = '\0';
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t g = f >= 0 ? H5Gopen2(f, "tables", H5P_DEFAULT) : -1;
    H5G_info_t info = {0};
    if (g >= 0) H5Gget_info(g, &info);
    for (hsize_t i = 0; i < info.nlinks; i++) {
        char name[64];
        H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", len ? "," : "", name);
    }
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
}

static void test_finals(void) {
    hs_analyze_opts o = {.path = g_finals};
    hs_str summary = {0}, table = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_analyze_run(MPI_COMM_WORLD, "finals", &o, &summary, &table, &err), HS_OK);
    char want[256];
    snprintf(want, sizeof want, "%s: final losses and errors of 5 runs (4 finished) in 2 configurations\n", g_finals);
    CU_ASSERT_STRING_EQUAL(summary.buf, want); /* every rank */
    if (g_rank == 0) {
        HS_ASSERT_CONTAINS(table.buf, "| depth | runs | train loss | test loss | train error | test error |");
        HS_ASSERT_CONTAINS(table.buf, "| 2 | 3/3 | 0.3 +- 0.1 [0.2, 0.4] |");
        HS_ASSERT_CONTAINS(table.buf, "| 3 | 1/2 | 0.1 | 0.3 |");
    } else {
        CU_ASSERT_EQUAL(table.len, 0);
    }
    double cfg[5], n[2], nf[2], m[2], s[2], lo[2], hi[2];
    read_ds("config", cfg, 5), read_ds("n_runs", n, 2), read_ds("n_finished", nf, 2);
    CU_ASSERT(cfg[0] == 0 && cfg[1] == 0 && cfg[2] == 0 && cfg[3] == 1 && cfg[4] == 1); /* seeds do not split */
    CU_ASSERT(n[0] == 3 && n[1] == 2 && nf[0] == 3 && nf[1] == 1);
    read_ds("train_loss_mean", m, 2), read_ds("train_loss_std", s, 2);
    read_ds("train_loss_min", lo, 2), read_ds("train_loss_max", hi, 2);
    NEAR(m[0], 0.3); NEAR(s[0], 0.1); NEAR(lo[0], 0.2); NEAR(hi[0], 0.4);
    NEAR(m[1], 0.1); CU_ASSERT(isnan(s[1])); NEAR(lo[1], 0.1); NEAR(hi[1], 0.1); /* one run: std NaN */
    /* test loss {0.5, 0.7, 1.1}: run 2's last recorded value is at point 0 */
    read_ds("test_loss_mean", m, 2), read_ds("test_loss_std", s, 2), read_ds("test_loss_max", hi, 2);
    NEAR(m[0], 2.3 / 3); NEAR(s[0], sqrt((0.28 / 3) * 1.0)); NEAR(hi[0], 1.1);
    /* errors = 1 - accuracy: train {0.1, 0.2, 0.15}, test {0.2, 0.3, 0.25} */
    read_ds("train_err_mean", m, 2), read_ds("train_err_std", s, 2), read_ds("train_err_min", lo, 2);
    NEAR(m[0], 0.15); NEAR(s[0], 0.05); NEAR(lo[0], 0.1); NEAR(m[1], 0.0);
    read_ds("test_err_mean", m, 2), read_ds("test_err_max", hi, 2);
    NEAR(m[0], 0.25); NEAR(hi[0], 0.3); NEAR(m[1], 0.1);
    /* the tables beside the file, and the same text inside it; a second run replaces the group */
    char csv[160];
    snprintf(csv, sizeof csv, "%s/finals.finals.csv", g_dir);
    CU_ASSERT_EQUAL(access(csv, R_OK), 0);
    MPI_Barrier(MPI_COMM_WORLD);
    if (g_rank == 0) {
        char *beside = slurp(csv), *inside = read_text(g_finals, "/tables/finals/csv");
        char *md = read_text(g_finals, "/tables/finals/md");
        CU_ASSERT_PTR_NOT_NULL_FATAL(beside);
        CU_ASSERT_PTR_NOT_NULL_FATAL(inside);
        CU_ASSERT_PTR_NOT_NULL_FATAL(md);
        CU_ASSERT_STRING_EQUAL(inside, beside);
        CU_ASSERT_STRING_EQUAL(md, table.buf);
        HS_ASSERT_CONTAINS(inside, "model.depth,");
        free(beside), free(inside), free(md);
    }
    hs_str_reset(&summary);
    CU_ASSERT_EQUAL(hs_analyze_run(MPI_COMM_WORLD, "finals", &o, &summary, NULL, &err), HS_OK);
    hs_str_free(&summary), hs_str_free(&table);
    MPI_Barrier(MPI_COMM_WORLD);
    if (g_rank == 0) {
        unlink(csv);
        snprintf(csv, sizeof csv, "%s/finals.finals.md", g_dir);
        unlink(csv);
        char kinds[128];
        table_kinds(g_finals, kinds, sizeof kinds);
        CU_ASSERT_STRING_EQUAL(kinds, "finals");
    }
}

/* hs_analysis_out_table on its own: stored text read back, a second call replaces the kind whole
 * (an md that is now empty disappears), kinds sit side by side, and a kind that is not one path
 * component is refused before the file is touched. */
static void test_tables(void) {
    if (g_rank != 0) return;
    char path[160];
    snprintf(path, sizeof path, "%s/tables.h5", g_dir);
    const double rec[1][2 * NM] = {{0}};
    const hs_run_state st[1] = {HS_STATE_DONE};
    const char *cfg[1] = {"hsweep/1\nseed=0\n"};
    const long long d[1] = {1}, sd[1] = {0};
    write_file(path, 1, cfg, d, sd, rec, st);
    hs_error err = {0};
    CU_ASSERT_EQUAL(hs_analysis_out_table(path, "a", "x,y\n1,2.5\n", "| x | y |\n", &err), HS_OK);
    CU_ASSERT_EQUAL(hs_analysis_out_table(path, "b-part", "k\n\"q,r\"\n", NULL, &err), HS_OK);
    char *t = read_text(path, "/tables/a/csv");
    CU_ASSERT(t && !strcmp(t, "x,y\n1,2.5\n"));
    free(t);
    t = read_text(path, "/tables/a/md");
    CU_ASSERT(t && !strcmp(t, "| x | y |\n"));
    free(t);
    t = read_text(path, "/tables/b-part/csv");
    CU_ASSERT(t && !strcmp(t, "k\n\"q,r\"\n"));
    free(t);
    CU_ASSERT_PTR_NULL(read_text(path, "/tables/b-part/md"));
    CU_ASSERT_EQUAL(hs_analysis_out_table(path, "a", "x\n3\n", "", &err), HS_OK);
    t = read_text(path, "/tables/a/csv");
    CU_ASSERT(t && !strcmp(t, "x\n3\n"));
    free(t);
    CU_ASSERT_PTR_NULL(read_text(path, "/tables/a/md"));
    char kinds[128];
    table_kinds(path, kinds, sizeof kinds);
    CU_ASSERT_STRING_EQUAL(kinds, "a,b-part");
    CU_ASSERT_EQUAL(hs_analysis_out_table(path, "a/b", "x\n", NULL, &err), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err.msg, "no table name");
    CU_ASSERT_EQUAL(hs_analysis_out_table(path, "", "x\n", NULL, &err), HS_ERR_VALUE);
    CU_ASSERT_EQUAL(hs_analysis_out_table("/nonexistent/x.h5", "a", "x\n", NULL, &err), HS_ERR_IO);
    HS_ASSERT_CONTAINS(err.msg, "cannot write the table /tables/a");
    unlink(path);
}

/* Six points on a line, x = 0, 1, 3, 4, 10, 12, leaves 0, 1, 2, 3, 0, 2 of a binary tree with
 * V = 2 levels (leaf = level 0, parents {0,1} and {2,3} = level 1). By hand, k = 3:
 *   0: self, 1 (d 1), 3 (d 3)      1: self, 0 (1), 3 (2)        2: self, 3 (1), 1 (2)
 *   3: self, 2 (1), 1 (3)          4: self, 5 (2), 3 (6)        5: self, 4 (2), 3 (8)
 * (point 0's third: 3 at d 3 vs 4 at d 4; point 1's: 2 at d 2 vs 3 at d 3). A copy of point 2 at
 * index 6 (x = 3) ties with point 2 at distance 0: the row itself comes first, then the tie by
 * index. Composition of point 0 (leaf 0) with neighbours {1, 3} (leaves 1, 3): lca levels 1 and
 * 2 (root), so share = {0, 1/2}, sib = {1/2, 1/2}, cou = {1/2, NaN}. */
static void test_knn_line(void) {
    const double x[7] = {0, 1, 3, 4, 10, 12, 3};
    const int want[6][3] = {{0, 1, 2}, {1, 0, 2}, {2, 3, 1}, {3, 2, 1}, {4, 5, 3}, {5, 4, 3}};
    const double wd[6][3] = {{0, 1, 3}, {0, 1, 2}, {0, 1, 2}, {0, 1, 3}, {0, 2, 6}, {0, 2, 8}};
    int nb[7 * 3];
    double d[7 * 3];
    CU_ASSERT_EQUAL_FATAL(an_knn(x, 6, 1, 0, 6, 3, nb, d), 0);
    for (int i = 0; i < 6; i++)
        for (int c = 0; c < 3; c++) {
            CU_ASSERT_EQUAL(nb[i * 3 + c], want[i][c]);
            CU_ASSERT(fabs(d[i * 3 + c] - wd[i][c]) < 1e-12);
        }
    /* query rows 2..4 only, of all 7 rows: row 2's tie with its copy 6, row 6 itself first */
    CU_ASSERT_EQUAL_FATAL(an_knn(x, 7, 1, 2, 4, 3, nb, d), 0);
    CU_ASSERT(nb[0] == 2 && nb[1] == 6 && nb[2] == 3 && d[1] == 0 && d[2] == 1);
    CU_ASSERT_EQUAL_FATAL(an_knn(x, 7, 1, 6, 7, 3, nb, d), 0);
    CU_ASSERT(nb[0] == 6 && nb[1] == 2 && nb[2] == 3);
    CU_ASSERT_EQUAL(an_knn(x, 6, 1, 0, 6, 7, nb, d), -1); /* k > N */
    /* two dimensions: the 3-4-5 triangle */
    const double p[6] = {0, 0, 3, 4, 3, 0};
    CU_ASSERT_EQUAL_FATAL(an_knn(p, 3, 2, 0, 3, 3, nb, d), 0);
    CU_ASSERT(nb[1] == 2 && nb[2] == 1 && fabs(d[1] - 3) < 1e-12 && fabs(d[2] - 5) < 1e-12);

    const int leaf[6] = {0, 1, 2, 3, 0, 2};
    CU_ASSERT_EQUAL(an_lca_level(0, 0, 2, 2), 0);
    CU_ASSERT_EQUAL(an_lca_level(0, 1, 2, 2), 1);
    CU_ASSERT_EQUAL(an_lca_level(1, 3, 2, 2), 2);
    double sh[2], sb[2], co[2];
    int l0[2] = {leaf[1], leaf[3]};
    an_composition(leaf[0], l0, 2, 2, 2, sh, sb, co);
    CU_ASSERT(sh[0] == 0 && sh[1] == 0.5 && sb[0] == 0.5 && sb[1] == 0.5 && co[0] == 0.5 && isnan(co[1]));
    int l4[2] = {leaf[5], leaf[3]}; /* point 4 (leaf 0): leaves 2 and 3, both across the root */
    an_composition(leaf[4], l4, 2, 2, 2, sh, sb, co);
    CU_ASSERT(sh[0] == 0 && sh[1] == 0 && sb[0] == 0 && sb[1] == 1 && co[0] == 1);
    int self[1] = {0};
    an_composition(0, self, 1, 2, 2, sh, sb, co);
    CU_ASSERT(sh[0] == 1 && sh[1] == 1 && sb[0] == 0 && co[0] == 0);
    an_composition(0, self, 0, 2, 2, sh, sb, co);
    CU_ASSERT(isnan(sh[0]) && isnan(sb[0]));

    /* numpy.percentile([0, 1, 3, 4], p): 25 -> 0.75, 50 -> 2, 99 -> 3.97; trailing mean, w = 2 */
    const double s4[4] = {0, 1, 3, 4};
    CU_ASSERT(fabs(an_percentile_sorted(s4, 4, 25) - 0.75) < 1e-12);
    CU_ASSERT(fabs(an_percentile_sorted(s4, 4, 50) - 2) < 1e-12);
    CU_ASSERT(fabs(an_percentile_sorted(s4, 4, 99) - 3.97) < 1e-12);
    CU_ASSERT(an_percentile_sorted(s4, 4, 100) == 4 && an_percentile_sorted(s4, 1, 50) == 0);
    const double tm[4] = {1, NAN, 3, 5};
    double out[4];
    an_trailing_mean(tm, 1, 4, 2, out, 1);
    CU_ASSERT(out[0] == 1 && out[1] == 1 && out[2] == 3 && out[3] == 4);
}

/* CSV fields as RFC 4180 has them (Python's csv module writes the same): a plain value as is, one
 * with a comma, a quote or a line break quoted with its quotes doubled; quote = 1 always quotes. */
static void test_csv_field(void) {
    static const struct {
        const char *v;
        int quote;
        const char *want;
    } cases[] = {{"abc", 0, "abc"},          {"abc", 1, "\"abc\""},       {"a,b", 0, "\"a,b\""},
                 {"say \"hi\"", 0, "\"say \"\"hi\"\"\""}, {"\"\"", 0, "\"\"\"\"\"\""}, {"", 0, ""},
                 {"", 1, "\"\""},             {"x\ny", 0, "\"x\ny\""},     {"\"", 1, "\"\"\"\""}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hs_str s = {0};
        hs_an_csv_put(&s, cases[i].v, cases[i].quote);
        CU_ASSERT_STRING_EQUAL(s.buf ? s.buf : "", cases[i].want);
        hs_str_free(&s);
    }
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    static const hs_test tests[] = {
        {"small results files written through the store", setup},
        {"the registry: lookup by name, position and --kind's choices", test_registry},
        {"auto-detection asks the entries in order: srhm, dynamics, then equisep", test_detect},
        {"finals: per configuration mean, std, min and max of the final values", test_finals},
        {"tables stored in the file: read back, replaced whole, bad names refused", test_tables},
        {"neighbours: exact kNN, tree composition and percentiles on points of a line", test_knn_line},
        {"CSV fields quoted and escaped as RFC 4180", test_csv_field},
        {NULL, NULL},
    };
    int rc = hs_test_main("analysis", tests);
    MPI_Barrier(MPI_COMM_WORLD);
    if (g_rank == 0) unlink(g_finals), unlink(g_srhm), unlink(g_dyn), unlink(g_route), rmdir(g_dir);
    MPI_Finalize();
    return rc;
}
