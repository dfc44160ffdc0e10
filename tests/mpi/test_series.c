/*
 * test_series.c - time series in the results file through the store API on real parallel HDF5
 * (ctest: 1 and 2 ranks): create with two series of different shapes, runs with their own
 * (smaller) dims and point counts written by different ranks with independent I/O, a failed run
 * that writes none, close; reopen for resume, refusals (wrong ndim or axes, bad names), grow by
 * a run, a new scalar series and larger points and dims of an existing one, a shorter rewrite of
 * a run (its old points must not survive), close; then rank 0 reads every value back with
 * serial HDF5 and compares it with the formula that wrote it, NaN padding and point = -1
 * included.
 *
 *     mpiexec -n 2 test_series [FILE]    FILE kept for tests/cli/test_series.sh (Python reader)
 *
 * Values: run r, stored point j, per-point index (a, b, c) holds
 * 10000 (r + 1) + 1000 j + 100 a + 10 b + c (+ 0.5 for the rewrite of run 1), point[j] = every j.
 */
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hsweep/store.h"

/* ---------------------------------------------------------------- tiny harness */

#include "harness.h"

#define CHECK_OK(call, e)                                                                          \
    do {                                                                                           \
        hs_code rc_ = (call);                                                                      \
        CHECK(rc_ == HS_OK, "%s -> %d: %s", #call, (int)rc_, (e)->msg);                           \
    } while (0)

/* ---------------------------------------------------------------- what each run stores */

enum { S_ACC, S_GRAM, S_SVALS, N_SER };
static const char *const ser_name[N_SER] = {"acc", "gram", "svals"};
static const char *const ser_axes[N_SER] = {"level", "rep,class,class", ""};
static const int ser_ndim[N_SER] = {1, 3, 0};
static const size_t ser_every[N_SER] = {1, 2, 1};

/* One run's own shape of one series: n points (0 = none written), dims. */
typedef struct own {
    size_t n, dims[3];
    double shift; /* added to every value (tells a rewrite from the first write) */
} own;

/* The final state the reader must see, [run][series]; filled as the test writes. */
static own g_final[4][N_SER];

static double value_at(size_t r, size_t j, size_t a, size_t b, size_t c, double shift) {
    return 10000.0 * (double)(r + 1) + 1000.0 * (double)j + 100.0 * (double)a + 10.0 * (double)b + (double)c + shift;
}

/* Rank `writer` writes run r's series s with shape o (independent I/O); every rank remembers it
 * as the state rank 0 must read back. */
static void write_one(hs_results *f, int writer, size_t r, int s, own o) {
    g_final[r][s] = o;
    if (g_rank != writer) return;
    size_t d[3] = {1, 1, 1}, size = 1;
    for (int k = 0; k < ser_ndim[s]; k++) d[k] = o.dims[k], size *= o.dims[k];
    double *v = malloc((o.n * size + 1) * sizeof *v);
    long long *pt = malloc((o.n + 1) * sizeof *pt);
    for (size_t j = 0; j < o.n; j++) {
        pt[j] = (long long)(j * ser_every[s]);
        for (size_t a = 0; a < d[0]; a++)
            for (size_t b = 0; b < d[1]; b++)
                for (size_t c = 0; c < d[2]; c++) v[((j * d[0] + a) * d[1] + b) * d[2] + c] = value_at(r, j, a, b, c, o.shift);
    }
    hs_store_series ss = {.name = ser_name[s], .axes = ser_axes[s], .ndim = ser_ndim[s], .every = ser_every[s],
                          .n = o.n, .point = pt, .values = v};
    memcpy(ss.dims, o.dims, sizeof ss.dims);
    hs_error e = {0};
    CHECK_OK(hs_results_write_series(f, r, &ss, 1, &e), &e);
    free(v);
    free(pt);
}

static void finish_run(hs_results *f, int writer, size_t r, hs_run_state st) {
    if (g_rank != writer) return;
    hs_results_row row = {.state = st, .rank = g_rank, .attempts = 1, .start = 1, .end = 2, .wall = 1,
                          .error = st == HS_STATE_FAILED ? "boom" : ""};
    double rec[6];
    for (int t = 0; t < 6; t++) rec[t] = t;
    hs_error e = {0};
    CHECK_OK(hs_results_write_run(f, r, &row, rec, NULL, &e), &e);
}

/* ---------------------------------------------------------------- layouts */

static const char *const ids[4] = {"00000000000000a1", "00000000000000b2", "00000000000000c3", "00000000000000d4"};
static const char *const configs[4] = {"hsweep/1\nseed=1\n", "hsweep/1\nseed=2\n", "hsweep/1\nseed=3\n",
                                       "hsweep/1\nseed=4\n"};
static const char *const metrics[1] = {"epoch"};

static hs_results_layout layout(size_t R, size_t n_records, const hs_results_series *ser, size_t n_ser) {
    return (hs_results_layout){.n_runs = R, .ids = ids, .configs = configs, .n_records = n_records,
                               .metrics = metrics, .n_metrics = 1, .max_layers = 1, .series = ser, .n_series = n_ser,
                               .spec_text = "name: series\n", .spec_path = "series.yaml", .plan_digest = "0123456789abcdef",
                               .hsweep_version = "test", .schema_version = 1};
}

/* ---------------------------------------------------------------- reading back (rank 0, serial) */

static void check_series(hid_t file, size_t R, int s, size_t Ns, const size_t *D, long long every_attr) {
    char path[64];
    snprintf(path, sizeof path, "/series/%s/values", ser_name[s]);
    hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
    CHECK(ds >= 0, "%s missing", path);
    if (ds < 0) return;
    hid_t sp = H5Dget_space(ds);
    int rank = H5Sget_simple_extent_ndims(sp);
    hsize_t dims[5] = {0};
    H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    CHECK(rank == 2 + ser_ndim[s], "%s: rank %d", path, rank);
    size_t d[3] = {1, 1, 1}, size = 1;
    for (int k = 0; k < ser_ndim[s]; k++) d[k] = D[k], size *= D[k];
    CHECK(dims[0] == R && dims[1] == Ns, "%s: %llu x %llu, want %zu x %zu", path, (unsigned long long)dims[0],
          (unsigned long long)dims[1], R, Ns);
    for (int k = 0; k < ser_ndim[s]; k++)
        CHECK(dims[2 + k] == D[k], "%s: dim %d is %llu, want %zu", path, k, (unsigned long long)dims[2 + k], D[k]);
    double *v = malloc(R * Ns * size * sizeof *v);
    long long *pt = malloc(R * Ns * sizeof *pt);
    CHECK(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0, "read %s", path);
    H5Dclose(ds);
    snprintf(path, sizeof path, "/series/%s/point", ser_name[s]);
    ds = H5Dopen2(file, path, H5P_DEFAULT);
    CHECK(ds >= 0 && H5Dread(ds, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, pt) >= 0, "read %s", path);
    if (ds >= 0) H5Dclose(ds);
    size_t bad = 0, nan_cells = 0, value_cells = 0;
    for (size_t r = 0; r < R; r++) {
        own o = g_final[r][s];
        size_t od[3] = {1, 1, 1};
        for (int k = 0; k < ser_ndim[s]; k++) od[k] = o.dims[k];
        for (size_t j = 0; j < Ns; j++) {
            long long want_pt = j < o.n ? (long long)(j * ser_every[s]) : -1;
            if (pt[r * Ns + j] != want_pt && bad++ < 5)
                CHECK(0, "%s: run %zu point %zu is %lld, want %lld", ser_name[s], r, j, pt[r * Ns + j], want_pt);
            for (size_t a = 0; a < d[0]; a++)
                for (size_t b = 0; b < d[1]; b++)
                    for (size_t c = 0; c < d[2]; c++) {
                        double got = v[(((r * Ns + j) * d[0] + a) * d[1] + b) * d[2] + c];
                        int inside = j < o.n && a < od[0] && b < od[1] && c < od[2];
                        double want = inside ? value_at(r, j, a, b, c, o.shift) : NAN;
                        int same = inside ? got == want : isnan(got);
                        inside ? value_cells++ : nan_cells++;
                        if (!same && bad++ < 5)
                            CHECK(0, "%s: run %zu point %zu [%zu,%zu,%zu] is %g, want %g", ser_name[s], r, j, a, b, c,
                                  got, want);
                    }
        }
    }
    CHECK(bad == 0, "%s: %zu wrong cells", ser_name[s], bad);
    CHECK(value_cells > 0 && nan_cells > 0, "%s: %zu values, %zu NaN", ser_name[s], value_cells, nan_cells);
    free(v);
    free(pt);
    /* attributes: axes always, every only when the layout's runs agree */
    snprintf(path, sizeof path, "/series/%s", ser_name[s]);
    hid_t g = H5Gopen2(file, path, H5P_DEFAULT);
    char *axes = NULL;
    hid_t a = H5Aopen(g, "axes", H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    CHECK(a >= 0 && H5Aread(a, t, &axes) >= 0 && axes && !strcmp(axes, ser_axes[s]), "%s axes '%s'", path,
          axes ? axes : "?");
    H5free_memory(axes);
    if (a >= 0) H5Aclose(a);
    H5Tclose(t);
    long long every = -1;
    if (H5Aexists(g, "every") > 0) {
        a = H5Aopen(g, "every", H5P_DEFAULT);
        H5Aread(a, H5T_NATIVE_LLONG, &every);
        H5Aclose(a);
    }
    CHECK(every == every_attr, "%s: every %lld, want %lld", path, every, every_attr);
    H5Gclose(g);
}

/* ---------------------------------------------------------------- the file of one training */

/* hs_store_write_run with two series (serial, rank 0): values [n x dims] and point [n] as given,
 * the attributes, no run axis; read back with HDF5. */
static void test_run_file(const char *path) {
    double epoch[3] = {0, 5, 10}, acc[3 * 2] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, sv[2] = {7, 8};
    long long p_acc[3] = {0, 1, 2}, p_sv[2] = {0, 2};
    hs_store_attr attrs[1] = {{"run_id", "00000000000000a1"}};
    hs_store_column cols[1] = {{"epoch", epoch}};
    hs_store_series ser[2] = {
        {.name = "acc", .axes = "level", .ndim = 1, .dims = {2}, .every = 1, .n = 3, .point = p_acc, .values = acc},
        {.name = "svals", .axes = "", .ndim = 0, .every = 2, .n = 2, .point = p_sv, .values = sv}};
    hs_error e = {0};
    CHECK_OK(hs_store_write_run(path, attrs, 1, cols, 1, 3, NULL, 0, ser, 2, &e), &e);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file >= 0, "open %s", path);
    if (file < 0) return;
    double v[6] = {0};
    long long pt[3] = {0};
    hsize_t d[2] = {0};
    hid_t ds = H5Dopen2(file, "/series/acc/values", H5P_DEFAULT), sp = H5Dget_space(ds);
    CHECK(H5Sget_simple_extent_ndims(sp) == 2 && H5Sget_simple_extent_dims(sp, d, NULL) == 2 && d[0] == 3 && d[1] == 2,
          "acc values %llu x %llu", (unsigned long long)d[0], (unsigned long long)d[1]);
    CHECK(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0 && !memcmp(v, acc, sizeof acc), "acc");
    H5Sclose(sp), H5Dclose(ds);
    ds = H5Dopen2(file, "/series/svals/point", H5P_DEFAULT), sp = H5Dget_space(ds);
    CHECK(H5Sget_simple_extent_ndims(sp) == 1 && H5Dread(ds, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, pt) >= 0 &&
              pt[0] == 0 && pt[1] == 2,
          "svals point %lld %lld", pt[0], pt[1]);
    H5Sclose(sp), H5Dclose(ds);
    long long every = 0;
    hid_t a = H5Aopen_by_name(file, "/series/svals", "every", H5P_DEFAULT, H5P_DEFAULT);
    CHECK(a >= 0 && H5Aread(a, H5T_NATIVE_LLONG, &every) >= 0 && every == 2, "svals every %lld", every);
    if (a >= 0) H5Aclose(a);
    H5Fclose(file);
    /* a bad series is refused by name */
    ser[1].name = "a/b";
    hs_error be = {0};
    CHECK(hs_store_write_run(path, attrs, 1, cols, 1, 3, NULL, 0, ser, 2, &be) == HS_ERR_IO && strstr(be.msg, "a/b"),
          "bad name: %s", be.msg);
    ser[1].name = "svals";
    CHECK_OK(hs_store_write_run(path, attrs, 1, cols, 1, 3, NULL, 0, ser, 2, &e), &e); /* leave a good file */
}

/* ---------------------------------------------------------------- the test */

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    double t0 = MPI_Wtime();
    char path[512];
    if (argc > 1) snprintf(path, sizeof path, "%s", argv[1]);
    else {
        long pid = (long)getpid();
        MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
        snprintf(path, sizeof path, "%s/test_series-%ld.h5", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", pid);
    }
    if (g_rank == 0) printf("test_series on %d rank(s): %s\n", g_size, path);
    hs_error e = {0};

    /* 1. refusals before any file exists: the same on every rank, so no collective is left hanging */
    hs_results_series bad_ser[2] = {{.name = "a/b", .axes = "x", .ndim = 1, .dims = {2}, .n_points = 1, .every = 1},
                                    {.name = "acc", .axes = "x", .ndim = 4, .n_points = 1, .every = 1}};
    hs_results *f = NULL;
    for (int k = 0; k < 2; k++) {
        hs_results_layout Lb = layout(3, 4, &bad_ser[k], 1);
        hs_error be = {0};
        CHECK(hs_results_create(MPI_COMM_WORLD, path, &Lb, &f, &be) == HS_ERR_INTERNAL && !f, "bad series %d", k);
        CHECK(strstr(be.msg, bad_ser[k].name) != NULL, "message names the series: %s", be.msg);
    }

    /* 2. create: acc [3] x 4 points (every 1), gram [2 x 3 x 3] x 2 points (every 2) */
    hs_results_series A[2] = {
        {.name = "acc", .axes = "level", .ndim = 1, .dims = {3}, .n_points = 4, .every = 1},
        {.name = "gram", .axes = "rep,class,class", .ndim = 3, .dims = {2, 3, 3}, .n_points = 2, .every = 2}};
    hs_results_layout LA = layout(3, 4, A, 2);
    CHECK_OK(hs_results_create(MPI_COMM_WORLD, path, &LA, &f, &e), &e);
    if (!f) MPI_Abort(MPI_COMM_WORLD, 1);
    /* run 0: the full shapes; run 1: smaller dims and fewer points; run 2: fails, writes none */
    int w0 = 0, w1 = 1 % g_size, w2 = 2 % g_size, w3 = 3 % g_size;
    write_one(f, w0, 0, S_ACC, (own){4, {3}, 0});
    write_one(f, w0, 0, S_GRAM, (own){2, {2, 3, 3}, 0});
    finish_run(f, w0, 0, HS_STATE_DONE);
    write_one(f, w1, 1, S_ACC, (own){3, {2}, 0});
    write_one(f, w1, 1, S_GRAM, (own){1, {1, 2, 2}, 0});
    finish_run(f, w1, 1, HS_STATE_DONE);
    finish_run(f, w2, 2, HS_STATE_FAILED);
    {   /* a series that does not fit is refused, naming it, and writes nothing */
        hs_store_series big = {.name = "acc", .axes = "level", .ndim = 1, .dims = {4}, .n = 1,
                               .point = (long long[]){0}, .values = (double[]){1, 2, 3, 4}};
        hs_error be = {0};
        CHECK(hs_results_write_series(f, 2, &big, 1, &be) != HS_OK && strstr(be.msg, "'acc'"), "too big: %s", be.msg);
        big.name = "nope";
        CHECK(hs_results_write_series(f, 2, &big, 1, &be) != HS_OK && strstr(be.msg, "'nope'"), "absent: %s", be.msg);
    }
    CHECK_OK(hs_results_close(f, &e), &e);

    /* 3. reopen for resume: the same layout fits; a different ndim or axes is refused by name */
    f = NULL;
    CHECK_OK(hs_results_open(MPI_COMM_WORLD, path, &f, &e), &e);
    if (!f) MPI_Abort(MPI_COMM_WORLD, 1);
    CHECK(hs_results_needs_grow(f, &LA) == 0, "the creating layout fits");
    CHECK_OK(hs_results_use_series(f, A, 2, &e), &e);
    hs_results_series wrong = A[1];
    wrong.ndim = 2;
    hs_error we = {0};
    CHECK(hs_results_use_series(f, &wrong, 1, &we) == HS_ERR_VALUE && strstr(we.msg, "'gram'"), "ndim: %s", we.msg);
    wrong = A[1], wrong.axes = "rep,unit,unit";
    hs_results_layout LW = layout(4, 4, &wrong, 1);
    CHECK(hs_results_needs_grow(f, &LW) == 1, "more runs need growing");
    CHECK(hs_results_grow(MPI_COMM_WORLD, f, &LW, &we) == HS_ERR_VALUE && strstr(we.msg, "'gram'") &&
              strstr(we.msg, "other axes"),
          "grow refuses other axes: %s", we.msg);
    CHECK(hs_results_n_runs(f) == 3, "a refused grow changes nothing: %zu runs", hs_results_n_runs(f));

    /* 4. grow: a 4th run, acc to [5] x 6 points with no common every, gram unchanged, svals new */
    hs_results_series B[3] = {
        {.name = "acc", .axes = "level", .ndim = 1, .dims = {5}, .n_points = 6, .every = 0},
        A[1],
        {.name = "svals", .axes = "", .ndim = 0, .n_points = 3, .every = 1}};
    hs_results_layout LB = layout(4, 6, B, 3);
    CHECK(hs_results_needs_grow(f, &LB) == 1, "the grown layout needs room");
    hs_results_layout LS = layout(3, 4, &B[2], 1);
    CHECK(hs_results_needs_grow(f, &LS) == 1, "a new series alone needs room");
    CHECK(hs_results_use_series(f, &B[2], 1, &we) == HS_ERR_VALUE && strstr(we.msg, "'svals'"), "absent: %s", we.msg);
    CHECK_OK(hs_results_grow(MPI_COMM_WORLD, f, &LB, &e), &e);
    CHECK(hs_results_n_runs(f) == 4 && hs_results_n_records(f) == 6, "grown to %zu runs x %zu records",
          hs_results_n_runs(f), hs_results_n_records(f));
    CHECK(hs_results_needs_grow(f, &LB) == 0, "the grown layout fits");
    CHECK_OK(hs_results_use_series(f, B, 3, &e), &e);
    /* run 3 (new) with every series at full size; run 1 rewritten shorter (a rerun of a run that
     * was stopped): its old points 1, 2 must read as -1 / NaN */
    write_one(f, w3, 3, S_ACC, (own){6, {5}, 0});
    write_one(f, w3, 3, S_GRAM, (own){2, {2, 3, 3}, 0});
    write_one(f, w3, 3, S_SVALS, (own){3, {0}, 0});
    finish_run(f, w3, 3, HS_STATE_DONE);
    int w1b = (g_size - 1) % g_size; /* the rerun lands on another rank than the first attempt */
    write_one(f, w1b, 1, S_ACC, (own){1, {2}, 0.5});
    finish_run(f, w1b, 1, HS_STATE_DONE);
    CHECK_OK(hs_results_close(f, &e), &e);

    /* 5. reopen once more: the series come back with the grown shapes */
    f = NULL;
    CHECK_OK(hs_results_open(MPI_COMM_WORLD, path, &f, &e), &e);
    if (f) {
        CHECK(hs_results_needs_grow(f, &LB) == 0, "reopened grown file fits its layout");
        hs_results_series more = B[2];
        more.n_points = 4;
        CHECK(hs_results_use_series(f, &more, 1, &we) == HS_ERR_VALUE && strstr(we.msg, "fewer points"), "%s", we.msg);
        CHECK_OK(hs_results_close(f, &e), &e);
    }

    /* 6. every value back, serially on rank 0 */
    MPI_Barrier(MPI_COMM_WORLD);
    if (g_rank == 0) {
        hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        CHECK(file >= 0, "open %s", path);
        if (file >= 0) {
            check_series(file, 4, S_ACC, 6, (size_t[]){5}, -1);
            check_series(file, 4, S_GRAM, 2, (size_t[]){2, 3, 3}, 2);
            check_series(file, 4, S_SVALS, 3, (size_t[]){0}, 1);
            unsigned char st[4] = {0};
            hid_t ds = H5Dopen2(file, "/runs/status", H5P_DEFAULT);
            CHECK(ds >= 0 && H5Dread(ds, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, st) >= 0, "status");
            if (ds >= 0) H5Dclose(ds);
            CHECK(st[0] == HS_STATE_DONE && st[1] == HS_STATE_DONE && st[2] == HS_STATE_FAILED && st[3] == HS_STATE_DONE,
                  "states %d %d %d %d", st[0], st[1], st[2], st[3]);
            H5Fclose(file);
        }
        char run_path[600];
        snprintf(run_path, sizeof run_path, "%s.run.h5", path);
        test_run_file(run_path);
        if (argc <= 1) unlink(path), unlink(run_path);
    }
    int failed = 0;
    MPI_Allreduce(&g_failed, &failed, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (g_rank == 0)
        printf("test_series: %d checks on rank 0, %d failed over all ranks (%.2f s)\n", g_checks, failed,
               MPI_Wtime() - t0);
    MPI_Finalize();
    return failed ? 1 : 0;
}
