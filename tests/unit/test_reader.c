/* test_reader.c - the typed reader on a real results file written by the store (a tiny sweep of
 * three runs: one done, one diverged, one left pending; a varying int, float and string key, a
 * record, a per-layer metric and a series), the canonical-config parser, and an analysis written
 * back and replaced. One process (MPI_COMM_SELF), and a second one (this binary with
 * --hold-reader FILE, no MPI) holding a reader open while this one writes into the file as a
 * search stage or `hsweep analyze` does: readers must never stand in a writer's way. */
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include "hsweep/models.h"
#include "hsweep/reader.h"
#include "hsweep/store.h"
#include "testing.h"

static char g_dir[64], g_path[128];

static const char *const ids[] = {"00000000000000a1", "00000000000000b2", "00000000000000c3"};
static const char *const configs[] = {
    "hsweep/1\ndata.kind=\"cfm\"\nmodel.arch=\"mlp\"\nmodel.depth=2\ntrain.lr=0.1\n",
    "hsweep/1\ndata.kind=\"xor\"\nmodel.depth=3\ntrain.lr=0.01\n",
    "hsweep/1\nmodel.depth=4\ntrain.lr=0.001\n",
};

/* Write the file through store.h, as a sweep does. */
static void write_file(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/hsweep-reader-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(g_dir));
    snprintf(g_path, sizeof g_path, "%s/out.h5", g_dir);
    static const long long depth[] = {2, 3, 4};
    static const double lr[] = {0.1, 0.01, 0.001};
    static const char *const kind[] = {"cfm", "xor", "cfm"};
    hs_results_col cols[] = {{.name = "model.depth", .type = HS_COL_INT, .i = depth},
                             {.name = "train.lr", .type = HS_COL_FLOAT, .f = lr},
                             {.name = "data.kind", .type = HS_COL_STR, .s = kind}};
    static const char *const metrics[] = {"step", "test_acc"}, *const lmetrics[] = {"weight_norm"};
    hs_results_series ser = {.name = "level_acc", .axes = "level", .ndim = 1, .dims = {2}, .n_points = 2, .every = 1};
    hs_results_layout lay = {.n_runs = 3, .ids = ids, .configs = configs, .cols = cols, .n_cols = 3,
                             .n_records = 2, .metrics = metrics, .n_metrics = 2, .max_layers = 2,
                             .layer_metrics = lmetrics, .n_layer_metrics = 1, .series = &ser, .n_series = 1,
                             .spec_text = "x: 1\n", .spec_path = "t.yaml", .plan_digest = "d", .hsweep_version = "t",
                             .schema_version = 1};
    hs_results *f = NULL;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_results_create(MPI_COMM_SELF, g_path, &lay, &f, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_results_use_metrics(f, metrics, 2, lmetrics, 1, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_results_use_series(f, &ser, 1, &err), HS_OK);
    for (size_t i = 0; i < 2; i++) {
        double rec[4] = {10, 0.5 + (double)i, 20, 0.75 + (double)i}; /* [point x metric] */
        double lay_v[4] = {1, 2 + (double)i, 3, 4};                 /* [point x metric x layer] */
        long long pt[2] = {0, 1};
        double sv[4] = {0.1, 0.2, 0.3, 0.4 + (double)i};
        hs_store_series s = {.name = "level_acc", .axes = "level", .ndim = 1, .dims = {2}, .n = 2, .point = pt,
                             .values = sv};
        CU_ASSERT_EQUAL(hs_results_write_series(f, i, &s, 1, &err), HS_OK);
        hs_results_row row = {.state = i == 0 ? HS_STATE_DONE : HS_STATE_DIVERGED, .error = ""};
        CU_ASSERT_EQUAL(hs_results_write_run(f, i, &row, rec, lay_v, &err), HS_OK);
    }
    CU_ASSERT_EQUAL(hs_results_close(f, &err), HS_OK);
}

static void test_runs_and_states(void) {
    hs_results_reader *rd = NULL;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_reader_open(MPI_COMM_SELF, g_path, &rd, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_reader_n_runs(rd), 3);
    CU_ASSERT_STRING_EQUAL(hs_reader_id(rd, 1), "00000000000000b2");
    CU_ASSERT_EQUAL(hs_reader_state(rd, 0), HS_STATE_DONE);
    CU_ASSERT_EQUAL(hs_reader_state(rd, 1), HS_STATE_DIVERGED);
    CU_ASSERT_EQUAL(hs_reader_state(rd, 2), HS_STATE_PENDING);
    CU_ASSERT(hs_reader_finished(rd, 0) && hs_reader_finished(rd, 1) && !hs_reader_finished(rd, 2));
    CU_ASSERT_EQUAL(hs_reader_in_plan(rd, 2), 1);
    CU_ASSERT_STRING_EQUAL(hs_reader_config(rd, 2), configs[2]);
    hs_str a = {0};
    CU_ASSERT_EQUAL(hs_reader_attr(rd, "plan_digest", &a, &err), HS_OK);
    CU_ASSERT_STRING_EQUAL(a.buf, "d");
    CU_ASSERT_EQUAL(hs_reader_attr(rd, "no_such_attribute", &a, &err), HS_ERR_VALUE);
    hs_str_free(&a);
    hs_reader_close(rd);
}

static void test_arrays(void) {
    hs_results_reader *rd = NULL;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_reader_open(MPI_COMM_SELF, g_path, &rd, &err), HS_OK);
    int nd;
    size_t d[HS_READER_MAX_DIMS];
    CU_ASSERT_EQUAL(hs_reader_dims(rd, HS_READ_RECORDS, "test_acc", &nd, d), HS_OK);
    CU_ASSERT(nd == 2 && d[0] == 3 && d[1] == 2);
    CU_ASSERT_EQUAL(hs_reader_dims(rd, HS_READ_RECORDS, "nope", &nd, d), HS_ERR_VALUE);
    CU_ASSERT(!hs_reader_has(rd, HS_READ_RECORDS, "nope") && hs_reader_has(rd, HS_READ_RECORDS, "step"));
    double acc[4];
    CU_ASSERT_EQUAL(hs_reader_rows(rd, HS_READ_RECORDS, "test_acc", 1, 2, acc, &err), HS_OK);
    CU_ASSERT(acc[0] == 1.5 && acc[1] == 1.75 && isnan(acc[2]) && isnan(acc[3])); /* run 2 pending: NaN */
    CU_ASSERT_EQUAL(hs_reader_dims(rd, HS_READ_LAYERS, "weight_norm", &nd, d), HS_OK);
    CU_ASSERT(nd == 3 && d[2] == 2);
    double w[4];
    CU_ASSERT_EQUAL(hs_reader_rows(rd, HS_READ_LAYERS, "weight_norm", 1, 1, w, &err), HS_OK);
    CU_ASSERT(w[0] == 1 && w[1] == 3 && w[2] == 3 && w[3] == 4);
    CU_ASSERT(hs_reader_has(rd, HS_READ_SERIES, "level_acc"));
    CU_ASSERT_EQUAL(hs_reader_dims(rd, HS_READ_SERIES, "level_acc", &nd, d), HS_OK);
    CU_ASSERT(nd == 3 && d[0] == 3 && d[1] == 2 && d[2] == 2);
    double sv[4], pt[2];
    CU_ASSERT_EQUAL(hs_reader_rows(rd, HS_READ_SERIES, "level_acc", 1, 1, sv, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_reader_rows(rd, HS_READ_SERIES_POINT, "level_acc", 1, 1, pt, &err), HS_OK);
    CU_ASSERT(sv[3] == 1.4 && pt[0] == 0 && pt[1] == 1);
    CU_ASSERT(hs_reader_rows(rd, HS_READ_RECORDS, "../runs/id", 0, 1, acc, &err) != HS_OK);
    hs_reader_close(rd);
}

static void test_columns(void) {
    hs_results_reader *rd = NULL;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_reader_open(MPI_COMM_SELF, g_path, &rd, &err), HS_OK);
    hs_reader_col *cols = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(hs_reader_columns(rd, &cols, &n, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(n, 3); /* bookkeeping (status, wall, ...) is not configuration */
    CU_ASSERT_STRING_EQUAL(cols[0].name, "data.kind"); /* name order */
    CU_ASSERT(cols[0].type == HS_COL_STR && !strcmp(cols[0].s[1], "xor"));
    CU_ASSERT(cols[1].type == HS_COL_INT && cols[1].i[2] == 4);
    CU_ASSERT(cols[2].type == HS_COL_FLOAT && cols[2].f[1] == 0.01);
    hs_reader_columns_free(cols, n, hs_reader_n_runs(rd));
    hs_reader_close(rd);
}

static void test_canonical_config(void) {
    hs_canon_config c;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_canon_parse(configs[1], &c, &err), HS_OK);
    CU_ASSERT_EQUAL(c.n, 3);
    CU_ASSERT_STRING_EQUAL(hs_canon_get(&c, "data.kind"), "\"xor\"");
    CU_ASSERT_PTR_NULL(hs_canon_get(&c, "hsweep/1"));
    CU_ASSERT_PTR_NULL(hs_canon_get(&c, "model.arch"));
    hs_str d = {0};
    CU_ASSERT_EQUAL(hs_canon_default("model.arch", &d), HS_OK);
    CU_ASSERT_STRING_EQUAL(d.buf, "\"mlp\"");
    hs_str_free(&d);
    CU_ASSERT_EQUAL(hs_canon_default("no.such.key", &d), HS_OK);
    CU_ASSERT_PTR_NULL(d.buf);
    hs_train_config cfg;
    CU_ASSERT_EQUAL_FATAL(hs_canon_typed(&c, &cfg, &err), HS_OK);
    CU_ASSERT_STRING_EQUAL(cfg.data.kind, "xor");
    CU_ASSERT_TRUE(hs_model_kind_is(cfg.arch, "mlp"));
    CU_ASSERT_EQUAL(cfg.schedule.lr, 0.01);
    hs_train_config_free(&cfg);
    hs_canon_free(&c);
    CU_ASSERT_EQUAL(hs_canon_parse(NULL, &c, &err), HS_OK);
    CU_ASSERT_EQUAL(c.n, 0);
    hs_canon_free(&c);
}

static void test_write_back(void) {
    hs_analysis_out *g = NULL;
    hs_error err = {0};
    for (int round = 0; round < 2; round++) { /* the second replaces the first */
        CU_ASSERT_EQUAL_FATAL(hs_analysis_out_open(g_path, "demo", &g, &err), HS_OK);
        double x[2] = {1, 2 + round};
        size_t n = 2;
        const char *s[] = {"a", NULL};
        hs_code w = hs_aout_f64(g, "x", 1, &n, x);
        w = w ? w : hs_aout_group(g, "part");
        w = w ? w : hs_aout_strs(g, "part/label", 2, s);
        w = w ? w : hs_aout_attr(g, "part", "threshold", 0.5);
        CU_ASSERT_EQUAL(w, HS_OK);
        CU_ASSERT_EQUAL(hs_analysis_out_close(g, w, &err), HS_OK);
    }
    CU_ASSERT_EQUAL_FATAL(hs_analysis_out_open(g_path, "demo", &g, &err), HS_OK);
    size_t n = 1;
    double x = 0;
    CU_ASSERT_EQUAL(hs_aout_f64(g, "x", 1, &n, &x), HS_OK);
    CU_ASSERT_EQUAL(hs_aout_f64(g, "x", 1, &n, &x), HS_ERR_IO); /* exists: the name is reported */
    CU_ASSERT_EQUAL(hs_analysis_out_close(g, HS_OK, &err), HS_ERR_IO);
    HS_ASSERT_CONTAINS(err.msg, "/analysis/demo/x");
    /* the reader still opens the file, and the run table is untouched */
    hs_results_reader *rd = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_reader_open(MPI_COMM_SELF, g_path, &rd, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_reader_n_runs(rd), 3);
    hs_reader_close(rd);
}

static void test_not_a_results_file(void) {
    hs_results_reader *rd = NULL;
    hs_error err = {0};
    CU_ASSERT_EQUAL(hs_reader_open(MPI_COMM_SELF, "/nonexistent/x.h5", &rd, &err), HS_ERR_IO);
    CU_ASSERT_PTR_NULL(rd);
    HS_ASSERT_CONTAINS(err.msg, "cannot open");
}

extern char **environ;
static const char *g_self;

/* The other process: a reader (serial, as `hsweep status` and a 1-rank analyze open it) held open
 * on path until a byte arrives on stdin; "open" on stdout once it is. */
static int hold_reader(const char *path) {
    hs_results_reader *rd = NULL;
    hs_error err = {0};
    if (hs_reader_open(MPI_COMM_NULL, path, &rd, &err) != HS_OK) return fprintf(stderr, "%s\n", err.msg), 1;
    if (hs_results_describe(path, &(hs_str){0}, &(hs_results_census){0}, &err) != HS_OK) return 1;
    printf("open\n");
    fflush(stdout);
    char c;
    ssize_t got = read(0, &c, 1);
    hs_reader_close(rd);
    return got == 1 ? 0 : 1;
}

static void test_writer_beside_reader(void) {
    int to[2], from[2];
    CU_ASSERT_EQUAL_FATAL(pipe(to), 0);
    CU_ASSERT_EQUAL_FATAL(pipe(from), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, to[0], 0);
    posix_spawn_file_actions_adddup2(&fa, from[1], 1);
    posix_spawn_file_actions_addclose(&fa, to[1]);
    posix_spawn_file_actions_addclose(&fa, from[0]);
    pid_t pid;
    char *args[] = {(char *)g_self, "--hold-reader", g_path, NULL};
    CU_ASSERT_EQUAL_FATAL(posix_spawn(&pid, g_self, &fa, NULL, args, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(to[0]), close(from[1]);
    char line[16] = "";
    FILE *in = fdopen(from[0], "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, in));
    CU_ASSERT_STRING_EQUAL(line, "open\n");
    /* the serial writes a sweep or analyze makes while someone reads: a search stage's result, an
     * analysis' group */
    hs_error err = {0};
    double lo[1] = {0.3}, hi[1] = {0.1};
    hs_search_result row = {.group = "model.depth=2", .rounds = 1, .points = 2, .crossing = 50, .lo = 10,
                            .hi = 100, .err_lo = 0.3, .err_hi = 0.1, .seeds_lo = lo, .seeds_hi = hi};
    hs_code rc = hs_results_write_search(g_path, "s", "data.n_train", "test_err", 0.2, &row, 1, 1, &err);
    CU_ASSERT_EQUAL(rc, HS_OK);
    if (rc != HS_OK) printf("\n  search write beside a reader: %s\n", err.msg);
    hs_analysis_out *g = NULL;
    rc = hs_analysis_out_open(g_path, "beside", &g, &err);
    CU_ASSERT_EQUAL(rc, HS_OK);
    if (rc == HS_OK) {
        CU_ASSERT_EQUAL(hs_analysis_out_close(g, hs_aout_attr(g, "", "x", 1.0), &err), HS_OK);
    } else {
        printf("\n  analysis write beside a reader: %s\n", err.msg);
    }
    CU_ASSERT_EQUAL(write(to[1], "x", 1), 1);
    close(to[1]);
    fclose(in);
    int st = -1;
    CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--hold-reader")) return hold_reader(argv[2]);
    g_self = argv[0];
    MPI_Init(&argc, &argv);
    static const hs_test tests[] = {
        {"a tiny sweep's file written through the store", write_file},
        {"runs, ids, states, configs and attributes", test_runs_and_states},
        {"records, layers and series by name, a block of rows at a time", test_arrays},
        {"the varying config keys as typed columns", test_columns},
        {"the canonical-config parser: raw values, defaults, a typed config", test_canonical_config},
        {"an analysis written back, replaced, and a failed write named", test_write_back},
        {"a file that is not there", test_not_a_results_file},
        {"writes into the file while another process reads it", test_writer_beside_reader},
        {NULL, NULL},
    };
    int rc = hs_test_main("reader", tests);
    unlink(g_path);
    rmdir(g_dir);
    MPI_Finalize();
    return rc;
}
