/* bench_train.c - training steps per second of the MLP engine on one core, side by side with
 * PyTorch (bench/torch_train.py) and with this machine's single-core sgemm rate.
 *
 * The workload is He & Su's Fashion-MNIST setting: 784 inputs, 10 classes, batch 128, depth 6
 * (n_hidden = 7 blocks Linear -> BatchNorm -> ReLU), plain SGD at lr 0.01, cross-entropy, on
 * 60000 synthetic samples in shuffled minibatches gathered row by row as a training loop does.
 *
 *   bench_train [--seconds S] [--widths 100,1000] [--no-torch] [--python /usr/bin/python3]
 *               [--gemm auto|cblas|kernel]
 *
 * --gemm forces the dense layers' products onto one path of src/nn/gemm.c (default auto: the
 * AVX-512 kernel where it wins, cblas_sgemm elsewhere), to compare them in place.
 *
 * One BLAS thread (hs_blas_set_threads(1); the torch script gets OPENBLAS_NUM_THREADS=1 and
 * torch.set_num_threads(1)). FLOP rate = 6 * (dense weights) * batch per step, the usual count
 * (forward, dW and din products), against the rate of a 1000^3 sgemm measured in the same run and
 * against the rate of the width-1000 layers' own three product shapes, both best-of before the
 * training; and against the same 1000^3 sgemm interleaved with the training steps, which sees
 * the core at the same moments as the steps (see ref_gemm). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "hsweep/nn.h"
#include "hsweep/optim.h"
#include "hsweep/rng.h"
#include "gemm.h" /* src/nn: hs_gemm_force, for --gemm */

#ifndef HSWEEP_BENCH_DIR
#define HSWEEP_BENCH_DIR "bench"
#endif

enum { IN_DIM = 784, N_CLASSES = 10, BATCH = 128, N_HIDDEN = 7, N_SAMPLES = 60000, MAX_WIDTHS = 8 };

/* ================================================================ sgemm reference rate */

/* GFLOP/s of C[M x N] = op(A) op(B) (row-major, inner dimension K), best of repeated runs
 * within about `seconds`. */
static double sgemm_rate(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, double seconds) {
    float *A = malloc(sizeof(float) * (size_t)M * K), *B = malloc(sizeof(float) * (size_t)K * N),
          *C = malloc(sizeof(float) * (size_t)M * N);
    if (!A || !B || !C) {
        free(A), free(B), free(C);
        return 0;
    }
    for (size_t i = 0; i < (size_t)M * K; i++) A[i] = (float)(i % 17) * 0.01f;
    for (size_t i = 0; i < (size_t)K * N; i++) B[i] = (float)(i % 13) * 0.01f;
    const int lda = ta == CblasNoTrans ? K : M, ldb = tb == CblasNoTrans ? N : K;
    double best = 1e30, t_end = bench_now() + seconds;
    for (int rep = 0; rep < 3 || bench_now() < t_end; rep++) {
        double t0 = bench_now();
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
        double dt = bench_now() - t0;
        if (dt < best) best = dt;
    }
    free(A), free(B), free(C);
    return 2.0 * M * N * K / best * 1e-9;
}

/* The interleaved 1000^3 reference: ref_gemm, bench_common.h. */

/* ================================================================ one training configuration */

typedef struct bench_result {
    size_t weights;           /* dense weights (the 6 P B count) */
    size_t params;            /* all parameters */
    double steps_per_s;
    double cpu_per_wall;      /* < 1: the core was shared */
    double median_sps;        /* samples/s at the median step time (robust to a shared core) */
    double ms_gather, ms_forward, ms_loss, ms_backward, ms_optim; /* per step */
    double ref_mean;          /* GFLOP/s of the interleaved sgemm calls: their FLOPs over their time */
    double ref_median;        /* median GFLOP/s of those calls */
    double pair_median;       /* median over calls of (training GFLOP/s since the previous call) / (call's) */
    long n_refs;
} bench_result;

/* Trains for `seconds` of step time; after every REF_EVERY seconds of steps, one reference call
 * (two calls, the first untimed: about 40% of the wall time goes to the reference). */
#define REF_EVERY 0.05
static int bench_width(int width, const float *X, const int32_t *Y, double seconds, ref_gemm *ref,
                       bench_result *res) {
    int widths[N_HIDDEN];
    for (int l = 0; l < N_HIDDEN; l++) widths[l] = width;
    hs_mlp_opts o = {.in_dim = IN_DIM, .out_dim = N_CLASSES, .n_hidden = N_HIDDEN, .widths = widths,
                     .norm = HS_NORM_BATCH, .act = HS_ACT_RELU, .bias = 1, .bn_eps = 1e-5f,
                     .bn_momentum = 0.1f, .init = HS_INIT_TORCH, .seed = 1, .max_batch = BATCH};
    hs_optim_opts oo = {.kind = HS_OPT_SGD};
    hs_error err = {0};
    hs_mlp net;
    hs_optim opt;
    if (hs_mlp_init(&net, &o, &err) != HS_OK || hs_optim_init(&opt, &oo, net.n_params, &err) != HS_OK) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        return 1;
    }
    float *xb = malloc(sizeof(float) * BATCH * IN_DIM);
    int32_t yb[BATCH];
    uint32_t *perm = malloc(sizeof(uint32_t) * N_SAMPLES);
    enum { MAX_TIMES = 1 << 20 };
    double *step_times = malloc(sizeof(double) * MAX_TIMES); /* each step's time, for the median */
    if (!xb || !perm || !step_times) {
        fprintf(stderr, "bench_train: out of memory\n");
        return 1;
    }
    res->weights = 0;
    for (int t = 0; t < net.n_tensors; t++)
        if (net.tensors[t].kind == HS_TENSOR_WEIGHT) res->weights += net.tensors[t].size;
    res->params = net.n_params;

    const int steps_per_epoch = N_SAMPLES / BATCH;
    double t_phase[5] = {0};
    long steps = 0, warmup = 5, n_times = 0;
    double t_start = 0, cpu_start = 0, train_time = 0, since_ref = 0, ref_time = 0;
    long steps_since_ref = 0, n_refs = 0;
    const double flops_per_step = 6.0 * (double)res->weights * BATCH, ref_flops = 2.0 * REF_N * REF_N * REF_N;
    for (long long epoch = 0;; epoch++) {
        hs_rng r;
        hs_rng_init(&r, 1, hs_rng_stream(HS_STREAM_BATCH, (uint32_t)epoch));
        for (uint32_t i = 0; i < N_SAMPLES; i++) perm[i] = i;
        hs_rng_permute(&r, perm, N_SAMPLES);
        for (int s = 0; s < steps_per_epoch; s++, steps++) {
            if (steps == warmup) {
                memset(t_phase, 0, sizeof t_phase);
                t_start = bench_now();
                cpu_start = bench_cpu_now();
            }
            if (steps > warmup && train_time >= seconds) goto done;
            double t0 = bench_now();
            for (int b = 0; b < BATCH; b++) {
                const uint32_t k = perm[s * BATCH + b];
                memcpy(xb + (size_t)b * IN_DIM, X + (size_t)k * IN_DIM, sizeof(float) * IN_DIM);
                yb[b] = Y[k];
            }
            double t1 = bench_now();
            const float *logits = hs_mlp_forward(&net, xb, BATCH, HS_MODE_TRAIN);
            double t2 = bench_now();
            hs_loss_forward_backward(HS_LOSS_CE, logits, yb, NULL, BATCH, N_CLASSES, net.dlogits, NULL);
            double t3 = bench_now();
            hs_mlp_backward(&net, net.dlogits, BATCH);
            double t4 = bench_now();
            hs_optim_begin_step(&opt);
            for (int t = 0; t < net.n_tensors; t++)
                hs_optim_update(&opt, net.params, net.grads, net.tensors[t].offset, net.tensors[t].size, 0.01, 0.0);
            double t5 = bench_now();
            t_phase[0] += t1 - t0, t_phase[1] += t2 - t1, t_phase[2] += t3 - t2, t_phase[3] += t4 - t3;
            t_phase[4] += t5 - t4;
            if (steps >= warmup && n_times < MAX_TIMES) step_times[n_times++] = t5 - t0;
            if (steps >= warmup) {
                train_time += t5 - t0, since_ref += t5 - t0, steps_since_ref++;
                if (since_ref >= REF_EVERY && n_refs < MAX_REFS) {
                    const double dt = ref_run(ref, NULL);
                    ref->rates[n_refs] = ref_flops / dt * 1e-9;
                    ref->ratios[n_refs] = (flops_per_step * (double)steps_since_ref / since_ref) / (ref_flops / dt);
                    ref_time += dt, n_refs++, since_ref = 0, steps_since_ref = 0;
                }
            }
        }
    }
done:;
    const double elapsed = bench_now() - t_start, n = (double)(steps - warmup);
    res->steps_per_s = n / train_time;
    res->cpu_per_wall = (bench_cpu_now() - cpu_start) / elapsed;
    res->n_refs = n_refs;
    res->ref_mean = ref_time > 0 ? ref_flops * (double)n_refs / ref_time * 1e-9 : 0;
    qsort(ref->rates, (size_t)n_refs, sizeof(double), bench_cmp_double);
    qsort(ref->ratios, (size_t)n_refs, sizeof(double), bench_cmp_double);
    res->ref_median = n_refs ? ref->rates[n_refs / 2] : 0;
    res->pair_median = n_refs ? ref->ratios[n_refs / 2] : 0;
    res->ms_gather = 1e3 * t_phase[0] / n, res->ms_forward = 1e3 * t_phase[1] / n;
    res->ms_loss = 1e3 * t_phase[2] / n, res->ms_backward = 1e3 * t_phase[3] / n;
    res->ms_optim = 1e3 * t_phase[4] / n;
    qsort(step_times, (size_t)n_times, sizeof(double), bench_cmp_double);
    res->median_sps = n_times ? BATCH / step_times[n_times / 2] : 0;
    free(xb), free(perm), free(step_times);
    hs_optim_free(&opt);
    hs_mlp_free(&net);
    return 0;
}

/* ================================================================ PyTorch, through its script */

/* samples/s per width from bench/torch_train.py, 0 where it printed none (torch missing). */
static void run_torch(const char *python, const char *widths_arg, double seconds, const int *widths, int n_widths,
                      double *torch_sps, double *torch_cpu, double *torch_med) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 %s %s/torch_train.py --seconds %g "
             "--widths %s",
             python, HSWEEP_BENCH_DIR, seconds, widths_arg);
    FILE *p = popen(cmd, "r");
    if (!p) {
        fprintf(stderr, "bench_train: cannot run %s\n", cmd);
        return;
    }
    char line[512];
    while (fgets(line, sizeof line, p)) {
        int w;
        double sps, steps, cpu, med;
        const int got = sscanf(line, "torch width=%d samples_per_s=%lf steps_per_s=%lf cpu_per_wall=%lf "
                               "median_samples_per_s=%lf", &w, &sps, &steps, &cpu, &med);
        if (got >= 2) {
            for (int i = 0; i < n_widths; i++)
                if (widths[i] == w)
                    torch_sps[i] = sps, torch_cpu[i] = got >= 4 ? cpu : 0, torch_med[i] = got == 5 ? med : 0;
        } else {
            fputs(line, stdout); /* e.g. "torch not available: skipped" */
        }
    }
    pclose(p);
}

/* ================================================================ main */

int main(int argc, char **argv) {
    double seconds = 10;
    const char *widths_arg = "100,1000", *python = "/usr/bin/python3";
    int use_torch = 1, gemm_path = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--widths") && i + 1 < argc) widths_arg = argv[++i];
        else if (!strcmp(argv[i], "--python") && i + 1 < argc) python = argv[++i];
        else if (!strcmp(argv[i], "--no-torch")) use_torch = 0;
        else if (!strcmp(argv[i], "--gemm") && i + 1 < argc) {
            const char *g = argv[++i];
            gemm_path = !strcmp(g, "auto") ? 0 : !strcmp(g, "cblas") ? 1 : !strcmp(g, "kernel") ? 2 : -1;
            if (gemm_path < 0) {
                fprintf(stderr, "bench_train: --gemm takes auto, cblas or kernel\n");
                return 2;
            }
        }
        else {
            fprintf(stderr, "usage: bench_train [--seconds S] [--widths 100,1000] [--no-torch] [--python PATH] "
                            "[--gemm auto|cblas|kernel]\n");
            return 2;
        }
    }
    int widths[MAX_WIDTHS], n_widths = 0;
    for (const char *s = widths_arg; *s && n_widths < MAX_WIDTHS;) {
        char *end;
        long w = strtol(s, &end, 10);
        if (end == s || w < 1 || w > 100000) {
            fprintf(stderr, "bench_train: bad --widths '%s'\n", widths_arg);
            return 2;
        }
        widths[n_widths++] = (int)w;
        s = *end == ',' ? end + 1 : end;
    }
    hs_blas_set_threads(1);

    /* synthetic Fashion-MNIST-shaped data: uniform pixels, uniform labels */
    float *X = malloc(sizeof(float) * (size_t)N_SAMPLES * IN_DIM);
    int32_t *Y = malloc(sizeof(int32_t) * N_SAMPLES);
    if (!X || !Y) {
        fprintf(stderr, "bench_train: out of memory\n");
        return 1;
    }
    hs_rng r;
    hs_rng_init(&r, 1, hs_rng_stream(HS_STREAM_DATA, 0));
    for (size_t i = 0; i < (size_t)N_SAMPLES * IN_DIM; i++) X[i] = hs_rng_uniformf(&r);
    for (int i = 0; i < N_SAMPLES; i++) Y[i] = (int32_t)hs_rng_below(&r, N_CLASSES);

    const double gemm = sgemm_rate(CblasNoTrans, CblasNoTrans, 1000, 1000, 1000, 2.0);
    printf("BLAS: %s (OPENBLAS_CORETYPE=%s)\n", hs_blas_describe(),
           getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "unset");
    static const char *const path_names[3] = {"auto", "cblas", "kernel"};
    printf("dense products: --gemm %s (AVX-512 kernel %s on this CPU)\n", path_names[gemm_path],
           hs_gemm_have_kernel() ? "available" : "not available");
    hs_gemm_force(gemm_path);
    printf("sgemm 1000x1000x1000, 1 thread: %.1f GFLOP/s\n", gemm);
    const double g_fwd = sgemm_rate(CblasNoTrans, CblasTrans, BATCH, 1000, 1000, 1.0),
                 g_dw = sgemm_rate(CblasTrans, CblasNoTrans, 1000, 1000, BATCH, 1.0),
                 g_din = sgemm_rate(CblasNoTrans, CblasNoTrans, BATCH, 1000, 1000, 1.0);
    const double shapes = 3.0 / (1.0 / g_fwd + 1.0 / g_dw + 1.0 / g_din); /* equal FLOPs of each */
    printf("  width-1000 layer shapes: forward %.1f, dW %.1f, din %.1f GFLOP/s (together %.1f)\n", g_fwd, g_dw,
           g_din, shapes);

    bench_result res[MAX_WIDTHS];
    ref_gemm ref;
    if (ref_init(&ref)) {
        fprintf(stderr, "bench_train: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n_widths; i++)
        if (bench_width(widths[i], X, Y, seconds, &ref, &res[i])) return 1;
    ref_free(&ref);
    free(X), free(Y);

    double torch_sps[MAX_WIDTHS] = {0}, torch_cpu[MAX_WIDTHS] = {0}, torch_med[MAX_WIDTHS] = {0};
    if (use_torch) run_torch(python, widths_arg, seconds, widths, n_widths, torch_sps, torch_cpu, torch_med);

    printf("\nMLP 784-[w x %d]-10, BN + ReLU, batch %d, SGD, CE; %d samples; 1 thread; %.0f s per case\n",
           N_HIDDEN, BATCH, N_SAMPLES, seconds);
    printf("%6s %10s %12s %12s %8s %9s %9s %9s %9s\n", "width", "params", "hsweep smp/s", "torch smp/s", "speedup",
           "GFLOP/s", "of 1000^3", "of shapes", "cpu/wall");
    for (int i = 0; i < n_widths; i++) {
        const double sps = res[i].steps_per_s * BATCH;
        const double gf = 6.0 * (double)res[i].weights * BATCH * res[i].steps_per_s * 1e-9;
        char ts[32] = "-", sp[32] = "-", cw[32];
        if (torch_sps[i] > 0) {
            snprintf(ts, sizeof ts, "%.0f", torch_sps[i]);
            snprintf(sp, sizeof sp, "%.2fx", sps / torch_sps[i]);
        }
        if (torch_cpu[i] > 0) snprintf(cw, sizeof cw, "%.2f/%.2f", res[i].cpu_per_wall, torch_cpu[i]);
        else snprintf(cw, sizeof cw, "%.2f", res[i].cpu_per_wall);
        printf("%6d %10zu %12.0f %12s %8s %9.1f %8.0f%% %8.0f%% %9s\n", widths[i], res[i].params, sps, ts, sp, gf,
               100.0 * gf / gemm, 100.0 * gf / shapes, cw);
    }
    /* hsweep's rate at its median step time: a step preempted by another job on the core lands in
     * the slow tail, so this stays closer to a quiet machine's figure than the mean above. Not a
     * fair ratio against torch on a busy machine (a 1 ms step escapes preemption more often than a
     * 3 ms one), so no speedup is printed here. */
    printf("\nat the median step time (robust to a shared core; no ratio: shorter steps escape preemption more):\n");
    printf("%6s %12s %12s %9s %9s\n", "width", "hsweep smp/s", "torch smp/s", "GFLOP/s", "of 1000^3");
    for (int i = 0; i < n_widths; i++) {
        const double sps = res[i].median_sps, gf = 6.0 * (double)res[i].weights * sps * 1e-9;
        char ts[32] = "-";
        if (torch_med[i] > 0) snprintf(ts, sizeof ts, "%.0f", torch_med[i]);
        printf("%6d %12.0f %12s %9.1f %8.0f%%\n", widths[i], sps, ts, gf, 100.0 * gf / gemm);
    }
    /* The same-moment comparison: the training's mean rate against the mean rate of the sgemm
     * calls interleaved with its steps, and the median over calls of the ratio of the training
     * since the previous call to that call. */
    printf("\nagainst sgemm 1000^3 interleaved with the steps (one call per %.0f ms of steps; same moments):\n",
           1e3 * REF_EVERY);
    printf("%6s %8s %9s %14s %9s %14s %16s\n", "width", "calls", "GFLOP/s", "sgemm GFLOP/s", "of sgemm",
           "sgemm median", "median of pairs");
    for (int i = 0; i < n_widths; i++) {
        const double gf = 6.0 * (double)res[i].weights * BATCH * res[i].steps_per_s * 1e-9;
        printf("%6d %8ld %9.1f %14.1f %8.0f%% %14.1f %15.0f%%\n", widths[i], res[i].n_refs, gf, res[i].ref_mean,
               res[i].ref_mean > 0 ? 100.0 * gf / res[i].ref_mean : 0.0, res[i].ref_median, 100.0 * res[i].pair_median);
    }
    printf("\nper step (ms): gather forward loss backward optimiser\n");
    for (int i = 0; i < n_widths; i++)
        printf("  width %5d: %6.3f %7.3f %6.3f %7.3f %7.3f\n", widths[i], res[i].ms_gather, res[i].ms_forward,
               res[i].ms_loss, res[i].ms_backward, res[i].ms_optim);
    return 0;
}
