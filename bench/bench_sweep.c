/* bench_sweep.c - what the sweep machinery costs around the trainings (an MPI program).
 *
 *   mpiexec -np N bench_sweep [dispatch|hdf5|overhead|all] [--runs R] [--epochs E] [--reps K]
 *
 *   dispatch  runs/s that hs_sweep_run hands out when a run costs nothing (hs_sweep_opts.run_fn =
 *             a no-op): the self-scheduling protocol alone. Target >= 10,000 runs/s on 2 ranks.
 *             The call also builds the layout and creates the results file (collective) before the
 *             first run and closes it after the last; the run function's own timestamps separate
 *             that fixed cost from the dispatch itself.
 *   hdf5      microseconds per run of hs_results_mark_running + hs_results_write_run with the rows
 *             of a realistic run (9 metrics x 61 record points, 5 per-layer metrics x 8 layers),
 *             every rank writing its own (interleaved, disjoint) runs into one file; and apart,
 *             per record point, hs_results_write_point (the live write a running run makes).
 *   overhead  a small real sweep (cfm, 12 runs of 0.7-1.1 s with data loading) through
 *             hs_sweep_run on 1 rank, and on all ranks when N > 1, against the same trainings back
 *             to back in one process without MPI dispatch or HDF5. Target: < 2% of wall time.
 *
 * Files go to a fresh folder under $TMPDIR (or /tmp) that is removed at the end. One BLAS thread
 * per rank, as `hsweep run` sets. */
#include <cblas.h>
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hsweep/util.h"
#include "hsweep/data.h"
#include "hsweep/plan.h"
#include "hsweep/sched.h"
#include "hsweep/spec.h"
#include "hsweep/store.h"
#include "hsweep/train.h"

static int g_rank, g_size;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t); /* one clock for every rank of a node: windows compare */
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU time of this process: cpu / wall well below 1 means other jobs took the core. */
static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A benchmark has nobody to hand an error to: say what failed and take the job down. */
static void check(hs_code rc, const hs_error *err, const char *what) {
    if (rc == HS_OK) return;
    fprintf(stderr, "bench_sweep (rank %d): %s: %s\n", g_rank, what, err->msg);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

/* Ranks that sit out a one-rank measurement wait here without spinning: a blocking MPI wait
 * polls at 100% CPU, and on a 2-core machine that would take a core from the measured rank. */
static void wait_politely(MPI_Comm comm) {
    MPI_Request req;
    MPI_Ibarrier(comm, &req);
    int done = 0;
    struct timespec ms = {0, 1000000};
    while (MPI_Test(&req, &done, MPI_STATUS_IGNORE), !done) nanosleep(&ms, NULL);
}

static void plan_from_text(const char *text, hs_spec **spec, hs_plan **plan) {
    hs_error err = {0};
    check(hs_spec_parse(text, strlen(text), "bench.yaml", spec, &err), &err, "spec");
    hs_plan_opts opts = {.max_runs = 10000000};
    check(hs_plan_expand(*spec, &opts, plan, &err), &err, "plan");
}

/* The results file and the text log hs_sweep_run leaves beside it. */
static void remove_outputs(const char *path) {
    if (g_rank != 0) return;
    char log[1100];
    snprintf(log, sizeof log, "%s.log", path);
    unlink(path);
    unlink(log);
}

/* ================================================================ dispatch */

/* Per rank: when its first and last no-op run happened, and how many it got. */
typedef struct dispatch_ctx {
    double first, last;
    size_t n;
} dispatch_ctx;

static int noop_run(void *ctx, size_t r) {
    (void)r;
    dispatch_ctx *c = ctx;
    double t = now();
    if (c->n++ == 0) c->first = t;
    c->last = t;
    return HS_STATE_DONE;
}

static void bench_dispatch(const char *dir, long n_runs, int reps) {
    /* One training per seed. epochs 1, record.every 1 and depth 0 keep the file's records and
     * layers datasets small (2 record points x 2 layers): the file is created for real but its
     * size should not drown the dispatch in NaN fill. */
    char text[512];
    snprintf(text, sizeof text,
             "name: bench-dispatch\n"
             "base: {data: {kind: gaussian}, model: {depth: 0}, train: {epochs: 1}, record: {every: 1}}\n"
             "product:\n  seed: {linspace: {from: 1, to: %ld, num: %ld}}\n",
             n_runs, n_runs);
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    plan_from_text(text, &spec, &plan);
    char path[1024];
    snprintf(path, sizeof path, "%s/dispatch.h5", dir);

    double best_window = 1e30, best[5] = {0}; /* total, setup, window, close, rank-0 share */
    for (int rep = 0; rep < reps; rep++) {
        dispatch_ctx ctx = {0};
        hs_sweep_opts o = {.spec = spec, .plan = plan, .out_path = path, .quiet = 1, .progress_every = -1,
                           .run_fn = noop_run, .run_ctx = &ctx};
        hs_sweep_summary s;
        hs_error err = {0};
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = now();
        check(hs_sweep_run(MPI_COMM_WORLD, &o, &s, &err), &err, "hs_sweep_run");
        double t1 = now();
        if (s.ran != plan->n_runs) {
            fprintf(stderr, "bench_sweep: dispatch ran %zu of %zu runs\n", s.ran, plan->n_runs);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        /* a rank that got no run reports +-1e300, which min/max ignore */
        double mine[3] = {ctx.n ? ctx.first : 1e300, ctx.n ? ctx.last : -1e300, (double)ctx.n}, lo = 0, hi = 0;
        MPI_Reduce(&mine[0], &lo, 1, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
        MPI_Reduce(&mine[1], &hi, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
        remove_outputs(path);
        if (g_rank == 0 && hi - lo < best_window) {
            best_window = hi - lo;
            best[0] = t1 - t0, best[1] = lo - t0, best[2] = hi - lo, best[3] = t1 - hi;
            best[4] = mine[2] / (double)plan->n_runs;
        }
    }
    if (g_rank == 0)
        printf("| %d | %zu | %.3f | %.3f | %.3f | %.3f | %.0f | %.0f%% | %.0f |\n", g_size, plan->n_runs, best[0],
               best[1], best[2], best[3], (double)plan->n_runs / best[2], 100 * best[4],
               (1 - best[4]) * (double)plan->n_runs / best[2]);
    hs_plan_free(plan);
    hs_spec_free(spec);
}

/* ================================================================ hdf5 */

enum { H_RUNS = 2048, H_RECORDS = 61, H_LAYERS = 8 }; /* 61 points: 600 epochs, record.every 10 */

typedef struct hdf5_result {
    double create, close, mark_us, write_us, run_us, runs_per_s;
    double point_us; /* one live record point (hs_results_write_point), as a running run writes */
} hdf5_result;

/* One file: create, every rank writes runs rank, rank + N, ... (the interleaving a sweep gives,
 * so ranks share chunks), close. with_layers = 0 writes the records alone. */
static hdf5_result hdf5_round(const char *path, const hs_results_layout *L, int with_layers) {
    hdf5_result out = {0};
    size_t n_rec = (size_t)H_RECORDS * HS_RECORD_FIELDS, n_lay = (size_t)H_RECORDS * HS_LAYER_FIELDS * H_LAYERS;
    double *records = malloc(n_rec * sizeof *records), *layers = malloc(n_lay * sizeof *layers);
    if (!records || !layers) {
        fprintf(stderr, "bench_sweep: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (size_t i = 0; i < n_rec; i++) records[i] = 0.001 * (double)i;
    for (size_t i = 0; i < n_lay; i++) layers[i] = 0.5 + 0.001 * (double)i;
    hs_error err = {0};
    hs_results *f = NULL;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = now();
    check(hs_results_create(MPI_COMM_WORLD, path, L, &f, &err), &err, "hs_results_create");
    MPI_Barrier(MPI_COMM_WORLD);
    double t1 = now(), mark = 0, write = 0, live = 0;
    size_t mine = 0;
    for (size_t i = (size_t)g_rank; i < L->n_runs; i += (size_t)g_size, mine++) {
        double a = now();
        check(hs_results_mark_running(f, i, g_rank, a, &err), &err, "hs_results_mark_running");
        double b = now();
        /* the live record points a training writes as it makes them (records only) */
        for (size_t t = 0; t < H_RECORDS; t++)
            check(hs_results_write_point(f, i, t, records + t * HS_RECORD_FIELDS, (long long)t * 10, (long long)t * 80,
                                         &err),
                  &err, "hs_results_write_point");
        double c = now();
        live += c - b;
        mark += b - a;
        b = c, a = c;
        hs_results_row row = {.state = HS_STATE_DONE, .rank = g_rank, .attempts = 1, .start = a, .end = b,
                              .wall = b - a, .epochs_done = 600, .steps = 4800, .error = ""};
        check(hs_results_write_run(f, i, &row, records, with_layers ? layers : NULL, &err), &err,
              "hs_results_write_run");
        mark += b - a, write += now() - b;
    }
    MPI_Barrier(MPI_COMM_WORLD);
    double t2 = now();
    check(hs_results_close(f, &err), &err, "hs_results_close");
    double t3 = now();
    /* per-run costs averaged over every rank's runs: what one rank pays per run it trains */
    double sums[4] = {mark, write, (double)mine, live}, tot[4] = {0};
    MPI_Reduce(sums, tot, 4, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    out.point_us = 1e6 * tot[3] / (tot[2] * H_RECORDS);
    out.create = t1 - t0, out.close = t3 - t2;
    out.mark_us = 1e6 * tot[0] / tot[2], out.write_us = 1e6 * tot[1] / tot[2];
    out.run_us = out.mark_us + out.write_us;
    out.runs_per_s = (double)L->n_runs / (t2 - t1);
    if (g_rank == 0) unlink(path);
    free(records);
    free(layers);
    return out;
}

static void bench_hdf5(const char *dir, int reps) {
    /* A hand-built layout shaped like a He & Su sweep's: 16-hex ids, canonical configs of a few
     * lines, one varying key column. */
    size_t R = H_RUNS;
    char **ids = malloc(R * sizeof *ids), **configs = malloc(R * sizeof *configs);
    long long *seeds = malloc(R * sizeof *seeds);
    if (!ids || !configs || !seeds) {
        fprintf(stderr, "bench_sweep: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (size_t r = 0; r < R; r++) {
        ids[r] = malloc(17), configs[r] = malloc(256);
        if (!ids[r] || !configs[r]) {
            fprintf(stderr, "bench_sweep: out of memory\n");
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        snprintf(ids[r], 17, "%016llx", (unsigned long long)((r + 1) * 0x9e3779b97f4a7c15ULL));
        snprintf(configs[r], 256,
                 "hsweep/1\nmodel.depth=6\nseed=%zu\ntrain.epochs=600\ntrain.lr=0.03\ntrain.lr_drops=[200,400]\n"
                 "train.weight_decay=0.0005\n",
                 r + 1);
        seeds[r] = (long long)r + 1;
    }
    hs_results_col col = {.name = "seed", .type = HS_COL_INT, .i = seeds};
    hs_results_layout L = {.n_runs = R,
                           .ids = (const char *const *)ids,
                           .configs = (const char *const *)configs,
                           .cols = &col,
                           .n_cols = 1,
                           .n_records = H_RECORDS,
                           .metrics = hs_record_field_names,
                           .n_metrics = HS_RECORD_FIELDS,
                           .max_layers = H_LAYERS,
                           .layer_metrics = hs_layer_field_names,
                           .n_layer_metrics = HS_LAYER_FIELDS,
                           .spec_text = "name: bench-hdf5\n",
                           .spec_path = "bench.yaml",
                           .plan_digest = "0123456789abcdef",
                           .hsweep_version = "bench",
                           .schema_version = 1};
    char path[1024];
    snprintf(path, sizeof path, "%s/hdf5.h5", dir);
    for (int with_layers = 1; with_layers >= 0; with_layers--) {
        hdf5_result best = {.run_us = 1e30};
        for (int rep = 0; rep < reps; rep++) {
            hdf5_result h = hdf5_round(path, &L, with_layers);
            if (h.run_us < best.run_us) best = h;
        }
        if (g_rank == 0)
            printf("| %d | %s | %zu | %.3f | %.1f | %.1f | %.1f | %.0f | %.3f | %.1f |\n", g_size,
                   with_layers ? "records + layers" : "records only", R, best.create, best.mark_us, best.write_us,
                   best.run_us, best.runs_per_s, best.close, best.point_us);
    }
    for (size_t r = 0; r < R; r++) free(ids[r]), free(configs[r]);
    free(ids), free(configs), free(seeds);
}

/* ================================================================ overhead */

/* One timed pass over the plan, as seen by the rank 0 of whoever ran it. */
typedef struct pass {
    double wall, cpu;  /* seconds; cpu of rank 0 (MPI waits poll, so only meaningful on 1 rank) */
    double inside;     /* sweeps: summed /runs/wall, the time inside runs */
    double busiest;    /* sweeps: the largest per-rank sum of /runs/wall */
    double load;       /* back to back: time in hs_data_load */
    double idle_total, idle_max; /* sweeps: workers waiting for an answer (hs_sweep_summary) */
} pass;

/* (a): the plan's trainings back to back in this process, as the sweep would do them minus
 * dispatch and HDF5. Every run has its own data.seed (it follows seed), so both ways load the
 * data once per run and the sweep's dataset cache never hits: no asymmetry to correct for. */
static pass back_to_back(const hs_plan *plan) {
    pass p = {0};
    double t0 = now(), c0 = cpu_now();
    for (size_t r = 0; r < plan->n_runs; r++) {
        hs_error err = {0};
        hs_train_config cfg = {0};
        hs_dataset train = {0}, test = {0};
        hs_train_result res = {0};
        check(hs_train_config_from_plan(plan, r, &cfg, &err), &err, "config");
        double a = now();
        check(hs_data_load(&cfg.data, &train, &test, &err), &err, "data");
        p.load += now() - a;
        check(hs_train_run(&cfg, &train, &test, NULL, &res, &err), &err, "train");
        hs_train_result_free(&res);
        hs_dataset_free(&train);
        hs_dataset_free(&test);
        hs_train_config_free(&cfg);
    }
    p.wall = now() - t0, p.cpu = cpu_now() - c0;
    return p;
}

/* Sums of /runs/wall (from before mark_running to the end of the training with its records
 * copied; write_run comes after) in a closed results file: over all runs into p->inside, per rank
 * (/runs/rank) with the largest into p->busiest. */
static void read_run_walls(const char *path, size_t n_runs, int n_ranks, pass *p) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t dw = f >= 0 ? H5Dopen2(f, "runs/wall", H5P_DEFAULT) : -1;
    hid_t dr = f >= 0 ? H5Dopen2(f, "runs/rank", H5P_DEFAULT) : -1;
    double *w = malloc((n_runs + 1) * sizeof *w), *per = calloc((size_t)n_ranks, sizeof *per);
    int *rk = malloc((n_runs + 1) * sizeof *rk);
    p->inside = p->busiest = -1;
    if (dw >= 0 && dr >= 0 && w && rk && per && H5Dread(dw, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, w) >= 0 &&
        H5Dread(dr, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, rk) >= 0) {
        p->inside = p->busiest = 0;
        for (size_t r = 0; r < n_runs; r++) {
            p->inside += w[r];
            if (rk[r] >= 0 && rk[r] < n_ranks) per[rk[r]] += w[r];
        }
        for (int q = 0; q < n_ranks; q++) p->busiest = per[q] > p->busiest ? per[q] : p->busiest;
    }
    free(w), free(rk), free(per);
    if (dw >= 0) H5Dclose(dw);
    if (dr >= 0) H5Dclose(dr);
    if (f >= 0) H5Fclose(f);
}

/* (b): the same plan through hs_sweep_run on comm, real trainings. */
static pass through_sweep(MPI_Comm comm, const hs_spec *spec, const hs_plan *plan, const char *path) {
    pass p = {0};
    hs_sweep_opts o = {.spec = spec, .plan = plan, .out_path = path, .quiet = 1, .progress_every = -1};
    hs_sweep_summary s;
    hs_error err = {0};
    MPI_Barrier(comm);
    double t0 = now(), c0 = cpu_now();
    check(hs_sweep_run(comm, &o, &s, &err), &err, "hs_sweep_run");
    p.wall = now() - t0, p.cpu = cpu_now() - c0;
    p.idle_total = s.idle_total, p.idle_max = s.idle_max;
    if (s.done != plan->n_runs) {
        fprintf(stderr, "bench_sweep: overhead sweep finished %zu of %zu runs\n", s.done, plan->n_runs);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int r = 0, n = 1;
    MPI_Comm_rank(comm, &r);
    MPI_Comm_size(comm, &n);
    if (r == 0) {
        read_run_walls(path, plan->n_runs, n, &p);
        char log[1100];
        snprintf(log, sizeof log, "%s.log", path);
        unlink(path);
        unlink(log);
    }
    return p;
}

static int by_wall(const void *x, const void *y) {
    double a = ((const pass *)x)->wall, b = ((const pass *)y)->wall;
    return (a > b) - (a < b);
}

/* The pass of median wall time (the lower middle one for an even count). */
static pass median_pass(const pass *v, int n) {
    pass s[64];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, by_wall);
    return s[(n - 1) / 2];
}

static void bench_overhead(const char *dir, int epochs, int reps) {
    /* Fashion-MNIST at 10x10 (He & Su's cfm), 100 per class, BN-ReLU MLPs of width 100: 6 seeds x
     * depths 2 and 6, shortened training; separation fuzziness measured at the end, as default. */
    char text[512];
    snprintf(text, sizeof text,
             "name: bench-overhead\n"
             "base:\n"
             "  data: {kind: cfm, per_class: 100}\n"
             "  model: {width: 100}\n"
             "  train: {epochs: %d, lr: 0.1, weight_decay: 5e-4}\n"
             "  record: {every: 10}\n"
             "product:\n  seed: [1, 2, 3, 4, 5, 6]\n  model.depth: [2, 6]\n",
             epochs);
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    plan_from_text(text, &spec, &plan);
    char path1[1024], pathn[1024];
    snprintf(path1, sizeof path1, "%s/overhead-1.h5", dir);
    snprintf(pathn, sizeof pathn, "%s/overhead-n.h5", dir);
    MPI_Comm solo; /* rank 0 alone, for the 1-rank sweep inside an N-rank job */
    MPI_Comm_split(MPI_COMM_WORLD, g_rank == 0 ? 0 : MPI_UNDEFINED, 0, &solo);

    enum { MAX_REPS = 32 };
    pass a[MAX_REPS], b1[MAX_REPS], bn[MAX_REPS];
    if (reps > MAX_REPS) reps = MAX_REPS;
    /* warm-up: the dataset files into the page cache, OpenBLAS and the allocator initialised */
    if (g_rank == 0) {
        hs_error err = {0};
        hs_train_config cfg = {0};
        hs_dataset train = {0}, test = {0};
        check(hs_train_config_from_plan(plan, 0, &cfg, &err), &err, "config");
        check(hs_data_load(&cfg.data, &train, &test, &err), &err, "data");
        hs_dataset_free(&train);
        hs_dataset_free(&test);
        hs_train_config_free(&cfg);
    }
    /* interleaved, so that drifts of a shared machine hit every variant alike */
    for (int rep = 0; rep < reps; rep++) {
        if (g_rank == 0) {
            a[rep] = back_to_back(plan);
            b1[rep] = through_sweep(solo, spec, plan, path1);
        }
        wait_politely(MPI_COMM_WORLD);
        if (g_size > 1) bn[rep] = through_sweep(MPI_COMM_WORLD, spec, plan, pathn);
    }
    if (g_rank == 0) {
        pass am = median_pass(a, reps), b1m = median_pass(b1, reps);
        double abest = a[0].wall, b1best = b1[0].wall;
        for (int i = 1; i < reps; i++) {
            abest = a[i].wall < abest ? a[i].wall : abest;
            b1best = b1[i].wall < b1best ? b1[i].wall : b1best;
        }
        printf("| back to back, one process | 1 | %.2f | %.2f | | |\n", abest, am.wall);
        printf("| hs_sweep_run | 1 | %.2f | %.2f | %+.1f%% | %+.1f%% |\n", b1best, b1m.wall, 100 * (b1best / abest - 1),
               100 * (b1m.wall / am.wall - 1));
        pass bm = {0};
        if (g_size > 1) {
            bm = median_pass(bn, reps);
            double bbest = bn[0].wall;
            for (int i = 1; i < reps; i++) bbest = bn[i].wall < bbest ? bn[i].wall : bbest;
            printf("| hs_sweep_run | %d | %.2f | %.2f | speedup %.2fx | speedup %.2fx |\n", g_size, bbest, bm.wall,
                   abest / bbest, am.wall / bm.wall);
        }
        /* The direct measure: within one 1-rank sweep, its wall time minus the time inside its runs
         * (layout, file creation, write_run, log lines, close); immune to drift between passes. */
        double out = b1m.wall - b1m.inside;
        printf("\n%zu runs; medians: back to back %.2f s (data loading %.2f s, cpu/wall %.2f); 1-rank sweep %.2f s "
               "(cpu/wall %.2f), of which outside its runs %.3f s = %.2f%% (%.1f ms per run)\n",
               plan->n_runs, am.wall, am.load, am.cpu / am.wall, b1m.wall, b1m.cpu / b1m.wall, out,
               100 * out / b1m.wall, 1e3 * out / (double)plan->n_runs);
        if (g_size > 1)
            printf("%d-rank sweep: runs summed %.2f s (%.2fx their back-to-back time: %.0f%% slower each when %d "
                   "train at once), busiest rank %.2f s of %.2f s wall; workers waited %.3f s in all "
                   "(longest %.3f s)\n",
                   g_size, bm.inside, bm.inside / am.wall, 100 * (bm.inside / am.wall - 1), g_size, bm.busiest,
                   bm.wall, bm.idle_total, bm.idle_max);
        printf("per pass (s):");
        for (int i = 0; i < reps; i++) {
            printf(" [back to back %.2f, 1-rank %.2f", a[i].wall, b1[i].wall);
            if (g_size > 1) printf(", %d-rank %.2f", g_size, bn[i].wall);
            printf("]");
        }
        printf("\n");
    }
    if (solo != MPI_COMM_NULL) MPI_Comm_free(&solo);
    hs_plan_free(plan);
    hs_spec_free(spec);
}

/* ================================================================ main */

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    hs_blas_set_threads(1); /* ranks are the parallelism, as in `hsweep run` */

    const char *mode = "all";
    long runs = 50000;
    int epochs = 30, reps = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atol(argv[++i]);
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (argv[i][0] != '-') mode = argv[i];
        else mode = "";
    }
    int all = !strcmp(mode, "all");
    if (!all && strcmp(mode, "dispatch") && strcmp(mode, "hdf5") && strcmp(mode, "overhead")) mode = "";
    if (!*mode || runs < 1 || runs > 5000000 || epochs < 1 || reps < 1) {
        if (g_rank == 0)
            fprintf(stderr, "usage: mpiexec -np N bench_sweep [dispatch|hdf5|overhead|all] [--runs R] "
                            "[--epochs E] [--reps K]\n");
        MPI_Finalize();
        return 2;
    }

    /* a private folder for the files, named on rank 0 and shared (one node: same path everywhere) */
    char dir[1024] = {0};
    if (g_rank == 0) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/bench_sweep.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror("bench_sweep: mkdtemp");
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);

    if (all || !strcmp(mode, "dispatch")) {
        if (g_rank == 0)
            printf("\ndispatch: no-op runs through hs_sweep_run (best of %d)\n\n"
                   "| ranks | runs | call s | setup s | dispatch s | close s | runs/s | run by rank 0 "
                   "| runs/s via workers |\n"
                   "|---|---|---|---|---|---|---|---|---|\n",
                   reps);
        fflush(stdout);
        bench_dispatch(dir, runs, reps);
    }
    if (all || !strcmp(mode, "hdf5")) {
        if (g_rank == 0)
            printf("\nhdf5: mark_running + write_run, %d x %d records, %d x %d x %d layers (best of %d); and apart, "
                   "the live write of one record point\n\n"
                   "| ranks | rows | runs | create s | mark us | write us | us/run | runs/s (file) | close s "
                   "| live point us |\n"
                   "|---|---|---|---|---|---|---|---|---|---|\n",
                   HS_RECORD_FIELDS, H_RECORDS, HS_LAYER_FIELDS, H_RECORDS, H_LAYERS, reps);
        fflush(stdout);
        bench_hdf5(dir, reps);
    }
    if (all || !strcmp(mode, "overhead")) {
        if (g_rank == 0)
            printf("\noverhead: cfm, 12 runs of %d epochs (%d interleaved reps)\n\n"
                   "| how | ranks | best s | median s | vs back to back (best) | (median) |\n"
                   "|---|---|---|---|---|---|\n",
                   epochs, reps);
        fflush(stdout);
        bench_overhead(dir, epochs, reps);
    }
    fflush(stdout);
    MPI_Barrier(MPI_COMM_WORLD);
    if (g_rank == 0 && rmdir(dir) != 0) perror("bench_sweep: rmdir");
    MPI_Finalize();
    return 0;
}
