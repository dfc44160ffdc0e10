/* bench_hnet.c - training steps per second of the SRHM's hierarchical nets (the CNN, LCN and FCN
 * of nn.h) on one core, against the 1000^3 sgemm run between the steps (bench_common.h) and
 * against the same nets in PyTorch (bench/torch_hnet.py), the two programs alternating repeat by
 * repeat so that both see the same stretches of this VM's drifting core.
 *
 *   bench_hnet [--models cnn,lcn,fcn] [--shapes l2,l3] [--widths 256,512,1024] [--seconds S]
 *              [--repeats R] [--opt sgd|momentum] [--lr LR] [--v V] [--gemm auto|cblas|kernel]
 *              [--update fused|each|pass] [--no-torch] [--no-ref] [--python PATH]
 *
 * Shapes, from sweeps/srhm-paper.yaml (s = 2, sparsity A, 4 samples per class per batch):
 *   l2: L = 2, s0 = 2, v = n_c = 8: filter S = s (s0 + 1) = 6, d = 36 positions, batch 32
 *   l3: L = 3, s0 = 1, v = n_c = 6: filter S = 4, d = 64 positions, batch 24
 * --v V sets v = n_c (and the batch, 4 V) of every shape. The inputs are SRHM-shaped: [v channels
 * x d positions], each position one-hot with probability (s0 + 1)^-L and empty otherwise,
 * whitened as the authors do (x (1 + a) - a, a = 1/sqrt(v - 1)); labels uniform; 4096 samples in
 * shuffled minibatches gathered into a batch buffer each step.
 * One step = gather, forward, cross-entropy, backward, the optimiser over every tensor at
 * lr x lr_scale (lr x H), as hs_train_run does: the hidden layers' weights stepped by the net
 * itself as their gradients leave the products, the other tensors as soon as the backward is done
 * with them (hs_model_backward_each with sgd; the "opt" column is then 0 and "bwd" includes the
 * updates); with --update each every tensor as soon as the backward is done with it (no sgd),
 * with --update pass all of them in a pass after the backward. One BLAS thread.
 *
 * GFLOP/s counts 6 x (multiply-adds per sample) x batch per step, the convention of bench_train
 * (forward, dW and din products; the input layer needs no din, so slightly fewer are executed).
 * "of sgemm" is that rate over the mean rate of the interleaved 1000^3 sgemm calls, "(cpu)" the
 * same with both rates per second of this thread's CPU time (on a shared core the wall-clock
 * figures carry the time other jobs held it; the CPU-time ones do not), "fwd+bwd" the forward,
 * loss and backward alone (no gather, no optimiser) over the interleaved sgemm. Each line is the
 * median over the repeats, with [min - max]; the PyTorch ratio is formed per repeat (hsweep's
 * and torch's runs of one repeat are seconds apart) and summarised the same way.
 *
 * "bound" is the most of the interleaved sgemm any implementation of the step could reach on this
 * machine: a momentum step must read and write every weight and its momentum (16 bytes per
 * parameter, whatever is fused), so it takes at least the time of that stream alone (timed here
 * on arrays of the net's size, best of 5, "GB/s") and at least the step's FLOPs at the sgemm's
 * rate; bound = FLOP time / max(FLOP time, stream time), which assumes both overlap perfectly.
 * "cold" is the same stream with 256 MB written before each pass, so that w and its momentum come
 * from memory, as they do between two steps (the separate update pass of a step runs at about
 * this rate: bench_optim's cold column); "serial" = FLOP time / (FLOP time + cold stream time),
 * the most of the sgemm a step whose update is a pass of its own could reach. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"
#include "gemm.h" /* src/nn: hs_gemm_force, for --gemm */
#include "hsweep/nn.h"
#include "hsweep/optim.h"
#include "hsweep/rng.h"

#ifndef HSWEEP_BENCH_DIR
#define HSWEEP_BENCH_DIR "bench"
#endif

enum { N_SAMPLES = 4096, MAX_LIST = 8, MAX_REPEATS = 32, EVICT_BYTES = 256 << 20 };
#define REF_EVERY 0.05 /* seconds of steps between two interleaved sgemm calls */

typedef struct shape {
    const char *name;
    int L, s, s0, v; /* SRHM: depth, informative children, empties per child, vocabulary = classes */
} shape;

static const shape shapes[] = {{"l2", 2, 2, 2, 8}, {"l3", 3, 2, 1, 6}};

typedef struct config {
    hs_hnet_kind kind;
    const shape *sh;
    int width, batch;
} config;

static const char *kind_name(hs_hnet_kind k) { return k == HS_HNET_CNN ? "cnn" : k == HS_HNET_LCN ? "lcn" : "fcn"; }

static hs_hnet_opts opts_of(const config *c) {
    const int S = c->sh->s * (c->sh->s0 + 1);
    int d = 1;
    for (int l = 0; l < c->sh->L; l++) d *= S;
    return (hs_hnet_opts){.kind = c->kind, .channels = c->sh->v, .positions = d, .filter = S, .depth = c->sh->L,
                          .width = c->width, .out_dim = c->sh->v, .bias_scale = 0.1, .seed = 1,
                          .max_batch = c->batch};
}

/* Multiply-adds per sample: per layer, weights x the positions that use them (the CNN's shared
 * weight once per position), and the readout. */
static double macs_of(const hs_model *m, hs_hnet_kind kind, int H) {
    double macs = 0;
    for (int t = 0; t < m->n_tensors; t++) {
        const hs_tensor *T = &m->tensors[t];
        if (T->kind != HS_TENSOR_WEIGHT) continue;
        const int uses = kind == HS_HNET_CNN && T->layer < m->n_hidden ? m->hidden_width[T->layer] / H : 1;
        macs += (double)hs_tensor_count(T) * uses;
    }
    return macs;
}

/* ================================================================ data */

static void make_data(float *X, int32_t *Y, const shape *sh, int d) {
    hs_rng r;
    hs_rng_init(&r, 1, hs_rng_stream(HS_STREAM_DATA, 0));
    const int v = sh->v;
    const double p_inf = pow(sh->s0 + 1, -sh->L), a = 1.0 / sqrt((double)v - 1.0);
    for (int n = 0; n < N_SAMPLES; n++) {
        float *x = X + (size_t)n * v * d;
        for (int i = 0; i < d; i++) {
            const int on = hs_rng_uniform(&r) < p_inf ? (int)hs_rng_below(&r, (uint64_t)v) : -1;
            for (int c = 0; c < v; c++) x[(size_t)c * d + i] = (float)((c == on) * (1.0 + a) - a);
        }
        Y[n] = (int32_t)hs_rng_below(&r, (uint64_t)v);
    }
}

/* ================================================================ one hsweep run */

enum { UPDATE_PASS, UPDATE_EACH, UPDATE_FUSED };
static int update_mode = UPDATE_FUSED; /* --update pass|each|fused */

typedef struct update_ctx {
    hs_optim *opt;
    hs_model *m;
    double lr;
} update_ctx;

/* hs_tensor_ready: tensor t's update, as the training step does it */
static void update_tensor(void *ctx, int t) {
    const update_ctx *u = ctx;
    hs_optim_update(u->opt, u->m->params, u->m->grads, u->m->tensors[t].offset, u->m->tensors[t].size, u->lr, 0);
}

/* hs_tensor_sgd: the same update, for the net to apply as it computes the gradient */
static int sgd_tensor(void *ctx, int t, hs_optim_sgd *s) {
    const update_ctx *u = ctx;
    return hs_optim_sgd_of(u->opt, u->m->tensors[t].offset, u->lr, 0, s);
}

typedef struct run_result {
    double steps_per_s, cpu_per_wall, median_step, best_step;
    double ref_mean;                 /* GFLOP/s of the interleaved sgemm calls: their FLOPs over their time */
    double cpu_steps_per_s;          /* steps per second of this thread's CPU time (immune to preemption) */
    double ref_cpu;                  /* the interleaved calls' GFLOP/s per second of CPU time */
    double ms[5];                    /* per step: gather, forward, loss, backward, optimiser */
    double loss;                     /* the last step's, to show the training stayed finite */
} run_result;

static int bench_hsweep(const config *c, const hs_optim_opts *oo, double lr, double seconds, const float *X,
                        const int32_t *Y, ref_gemm *ref, run_result *res) {
    const hs_hnet_opts ho = opts_of(c);
    hs_error err = {0};
    hs_model m;
    hs_optim opt;
    if (hs_model_hnet(&m, &ho, &err) != HS_OK) {
        fprintf(stderr, "bench_hnet: %s\n", err.msg);
        return 1;
    }
    if (hs_optim_init(&opt, oo, m.n_params, &err) != HS_OK) {
        fprintf(stderr, "bench_hnet: %s\n", err.msg);
        hs_model_free(&m);
        return 1;
    }
    const int B = c->batch, D = m.in_dim, K = m.out_dim;
    float *xb = malloc(sizeof(float) * (size_t)B * D);
    int32_t *yb = malloc(sizeof(int32_t) * (size_t)B);
    uint32_t perm[N_SAMPLES];
    enum { MAX_TIMES = 1 << 20 };
    double *times = malloc(sizeof(double) * MAX_TIMES);
    if (!xb || !yb || !times) {
        fprintf(stderr, "bench_hnet: out of memory\n");
        return 1;
    }
    const double ref_flops = 2.0 * REF_N * REF_N * REF_N;
    const long warmup = 5;
    long steps = 0, n_times = 0, n_refs = 0;
    double phase[5] = {0}, train_time = 0, since_ref = 0, ref_time = 0, t_start = 0, cpu_start = 0, loss = 0;
    double train_cpu = 0, ref_cpu = 0;
    const int per_epoch = N_SAMPLES / B;
    for (uint32_t epoch = 0;; epoch++) {
        hs_rng r;
        hs_rng_init(&r, 1, hs_rng_stream(HS_STREAM_BATCH, epoch));
        for (uint32_t i = 0; i < N_SAMPLES; i++) perm[i] = i;
        hs_rng_permute(&r, perm, N_SAMPLES);
        for (int s = 0; s < per_epoch; s++, steps++) {
            if (steps == warmup) {
                memset(phase, 0, sizeof phase);
                t_start = bench_now(), cpu_start = bench_cpu_now();
            }
            if (steps > warmup && train_time >= seconds) goto done;
            double t[6];
            const double c0 = bench_thread_cpu_now();
            t[0] = bench_now();
            for (int b = 0; b < B; b++) {
                const uint32_t k = perm[s * B + b];
                memcpy(xb + (size_t)b * D, X + (size_t)k * D, sizeof(float) * (size_t)D);
                yb[b] = Y[k];
            }
            t[1] = bench_now();
            const float *logits = hs_model_forward(&m, xb, B, HS_MODE_TRAIN);
            t[2] = bench_now();
            loss = hs_loss_forward_backward(HS_LOSS_CE, logits, yb, NULL, B, K, m.dlogits, NULL);
            t[3] = bench_now();
            update_ctx u = {&opt, &m, lr * m.lr_scale};
            if (update_mode != UPDATE_PASS) {
                hs_optim_begin_step(&opt);
                hs_model_backward_each(&m, m.dlogits, B, update_tensor,
                                       update_mode == UPDATE_FUSED ? sgd_tensor : NULL, &u);
                t[4] = t[5] = bench_now();
            } else {
                hs_model_backward(&m, m.dlogits, B);
                t[4] = bench_now();
                hs_optim_begin_step(&opt);
                for (int q = 0; q < m.n_tensors; q++) update_tensor(&u, q);
                t[5] = bench_now();
            }
            const double c1 = bench_thread_cpu_now();
            for (int q = 0; q < 5; q++) phase[q] += t[q + 1] - t[q];
            if (steps < warmup) continue;
            train_cpu += c1 - c0;
            const double dt = t[5] - t[0];
            if (n_times < MAX_TIMES) times[n_times++] = dt;
            train_time += dt, since_ref += dt;
            if (ref && since_ref >= REF_EVERY) {
                double rc;
                const double rt = ref_run(ref, &rc);
                ref_time += rt, ref_cpu += rc, n_refs++, since_ref = 0;
            }
        }
    }
done:;
    const double n = (double)(steps - warmup), wall = bench_now() - t_start;
    res->steps_per_s = n / train_time;
    res->cpu_per_wall = (bench_cpu_now() - cpu_start) / wall;
    res->ref_mean = n_refs ? ref_flops * (double)n_refs / ref_time * 1e-9 : 0;
    res->cpu_steps_per_s = n / train_cpu;
    res->ref_cpu = n_refs ? ref_flops * (double)n_refs / ref_cpu * 1e-9 : 0;
    for (int q = 0; q < 5; q++) res->ms[q] = 1e3 * phase[q] / n;
    qsort(times, (size_t)n_times, sizeof(double), bench_cmp_double);
    res->median_step = n_times ? times[n_times / 2] : 0;
    res->best_step = n_times ? times[0] : 0;
    res->loss = loss;
    free(xb), free(yb), free(times);
    hs_optim_free(&opt);
    hs_model_free(&m);
    return 0;
}

/* ================================================================ PyTorch: a server process */

/* bench/torch_hnet.py --serve, on two pipes: one request line per run, one answer line back. */
typedef struct torch_proc {
    pid_t pid;
    FILE *to, *from;
    int ok;
} torch_proc;

static void torch_start(torch_proc *t, const char *python) {
    memset(t, 0, sizeof *t);
    int in[2], out[2];
    if (pipe(in) || pipe(out)) return;
    char script[1024];
    snprintf(script, sizeof script, "%s/torch_hnet.py", HSWEEP_BENCH_DIR);
    t->pid = fork();
    if (t->pid < 0) return;
    if (t->pid == 0) {
        dup2(in[0], 0), dup2(out[1], 1);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        setenv("OPENBLAS_NUM_THREADS", "1", 1), setenv("OMP_NUM_THREADS", "1", 1), setenv("MKL_NUM_THREADS", "1", 1);
        execl(python, python, script, "--serve", (char *)NULL);
        _exit(127);
    }
    close(in[0]), close(out[1]);
    t->to = fdopen(in[1], "w"), t->from = fdopen(out[0], "r");
    char line[256];
    if (!t->to || !t->from || !fgets(line, sizeof line, t->from)) return;
    if (!strncmp(line, "ready", 5)) t->ok = 1;
    else fprintf(stderr, "bench_hnet: %s", line); /* e.g. "torch not available" */
}

/* steps/s of one torch run, 0 on failure; its cpu/wall and last loss */
static double torch_run(torch_proc *t, const config *c, const hs_hnet_opts *o, const char *opt, double lr,
                        double seconds, double *cpu, double *loss) {
    if (!t->ok) return 0;
    fprintf(t->to, "run kind=%s v=%d filter=%d depth=%d width=%d batch=%d seconds=%g opt=%s lr=%g s0=%d\n",
            kind_name(c->kind), o->channels, o->filter, o->depth, o->width, c->batch, seconds, opt, lr, c->sh->s0);
    fflush(t->to);
    char line[512];
    double sps = 0;
    if (!fgets(line, sizeof line, t->from) ||
        sscanf(line, "torch steps_per_s=%lf cpu_per_wall=%lf loss=%lf", &sps, cpu, loss) != 3) {
        fprintf(stderr, "bench_hnet: torch answered: %s", line);
        t->ok = 0;
        return 0;
    }
    return sps;
}

static void torch_stop(torch_proc *t) {
    if (t->to) fclose(t->to);
    if (t->from) fclose(t->from);
    if (t->pid > 0) waitpid(t->pid, NULL, 0);
}

/* ================================================================ main */

static int parse_list(const char *arg, const char *const *names, int n_names, int *out) {
    int n = 0;
    for (const char *s = arg; *s && n < MAX_LIST;) {
        const size_t len = strcspn(s, ",");
        int found = -1;
        for (int i = 0; i < n_names; i++)
            if (strlen(names[i]) == len && !strncmp(s, names[i], len)) found = i;
        if (found < 0) return -1;
        out[n++] = found;
        s += len + (s[len] == ',');
    }
    return n;
}

/* median, min and max of x[0..n) (sorts x) */
static void summary(double *x, int n, double *med, double *lo, double *hi) {
    qsort(x, (size_t)n, sizeof(double), bench_cmp_double);
    *med = n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
    *lo = x[0], *hi = x[n - 1];
}

/* x[0..n) as "median [min-max]" with the format of one value (times scale) */
static void range(char *buf, size_t size, double *x, int n, double scale, const char *fmt) {
    double med, lo, hi;
    summary(x, n, &med, &lo, &hi);
    char f[64];
    snprintf(f, sizeof f, "%s [%s-%s]", fmt, fmt, fmt);
    snprintf(buf, size, f, scale * med, scale * lo, scale * hi);
}

static double median(double *x, int n) {
    double med, lo, hi;
    summary(x, n, &med, &lo, &hi);
    return med;
}

/* Seconds of the least memory traffic of a momentum step over n parameters (w and its momentum
 * read and written, the gradient a constant: what a perfectly fused step would move), best of 5
 * after one that brings the arrays to where they live between steps; with `evict` (EVICT_BYTES),
 * that buffer is written before each pass, so the arrays come from memory. */
static double stream_seconds(size_t n, unsigned char *evict) {
    float *w = malloc(n * sizeof *w), *v = malloc(n * sizeof *v);
    if (!w || !v) {
        free(w), free(v);
        return 0;
    }
    for (size_t i = 0; i < n; i++) w[i] = 1.0f, v[i] = 0.0f;
    double best = INFINITY;
    for (int r = 0; r < 6; r++) {
        if (evict) memset(evict, r, EVICT_BYTES);
        const double t0 = bench_now();
        for (size_t i = 0; i < n; i++) {
            const float u = 0.9f * v[i] + 1e-3f;
            v[i] = u;
            w[i] -= 1e-3f * u;
        }
        const double t = bench_now() - t0;
        if (r > 0 && t < best) best = t;
    }
    volatile float sink = w[n / 2] + v[n / 3]; /* the stores are observable */
    (void)sink;
    free(w), free(v);
    return best;
}

/* The repeats of one configuration, hsweep and torch alternating, and its table row. */
static int bench_config(const config *c, double macs, size_t n_params, const hs_optim_opts *oo, int momentum, double lr,
                        double seconds, int repeats, const float *X, const int32_t *Y, ref_gemm *ref,
                        torch_proc *tp) {
    const hs_hnet_opts o = opts_of(c);
    const double flops = 6.0 * macs * c->batch;
    double gf[MAX_REPEATS], share[MAX_REPEATS], share_cpu[MAX_REPEATS], share_fb[MAX_REPEATS], sps[MAX_REPEATS],
        tsps[MAX_REPEATS], ratio[MAX_REPEATS], fwd[MAX_REPEATS], bwd[MAX_REPEATS], opt[MAX_REPEATS],
        ref_rate[MAX_REPEATS], best[MAX_REPEATS], bound[MAX_REPEATS], gbs[MAX_REPEATS], gbs_cold[MAX_REPEATS],
        serial[MAX_REPEATS], cpu_h = 1, cpu_t = 1;
    unsigned char *evict = malloc(EVICT_BYTES);
    int n_torch = 0;
    for (int r = 0; r < repeats; r++) {
        run_result res;
        if (bench_hsweep(c, oo, lr, seconds, X, Y, ref, &res)) {
            free(evict);
            return 1;
        }
        sps[r] = res.steps_per_s, gf[r] = flops * res.steps_per_s * 1e-9, ref_rate[r] = res.ref_mean;
        share[r] = res.ref_mean > 0 ? gf[r] / res.ref_mean : 0;
        share_cpu[r] = res.ref_cpu > 0 ? flops * res.cpu_steps_per_s * 1e-9 / res.ref_cpu : 0;
        const double fb_seconds = 1e-3 * (res.ms[1] + res.ms[2] + res.ms[3]);
        share_fb[r] = res.ref_mean > 0 ? flops / fb_seconds * 1e-9 / res.ref_mean : 0;
        fwd[r] = res.ms[1], bwd[r] = res.ms[3], opt[r] = res.ms[4];
        best[r] = flops / res.best_step * 1e-9;
        const double ts = stream_seconds(n_params, NULL), tc = evict ? stream_seconds(n_params, evict) : 0,
                     tf = res.ref_mean > 0 ? flops / (res.ref_mean * 1e9) : 0;
        gbs[r] = ts > 0 ? 16.0 * (double)n_params / ts * 1e-9 : 0;
        gbs_cold[r] = tc > 0 ? 16.0 * (double)n_params / tc * 1e-9 : 0;
        bound[r] = tf > 0 && ts > 0 ? tf / fmax(tf, ts) : 0;
        serial[r] = tf > 0 && tc > 0 ? tf / (tf + tc) : 0;
        cpu_h = fmin(cpu_h, res.cpu_per_wall);
        if (!isfinite(res.loss)) fprintf(stderr, "bench_hnet: hsweep's loss is %g\n", res.loss);
        double tcpu = 0, tloss = 0;
        const double t = torch_run(tp, c, &o, momentum ? "momentum" : "sgd", lr, seconds, &tcpu, &tloss);
        if (t > 0) {
            tsps[n_torch] = t, ratio[n_torch++] = res.steps_per_s / t;
            cpu_t = fmin(cpu_t, tcpu);
        }
    }
    char shs[64], scs[64], ts[32] = "-", rs[64] = "-", cw[32];
    range(shs, sizeof shs, share, repeats, 100, "%.0f%%");
    range(scs, sizeof scs, share_cpu, repeats, 100, "%.0f%%");
    if (n_torch > 0) {
        snprintf(ts, sizeof ts, "%.1f", median(tsps, n_torch));
        range(rs, sizeof rs, ratio, n_torch, 1, "%.2fx");
        snprintf(cw, sizeof cw, "%.2f/%.2f", cpu_h, cpu_t);
    } else {
        snprintf(cw, sizeof cw, "%.2f", cpu_h);
    }
    free(evict);
    char bs[64];
    range(bs, sizeof bs, bound, repeats, 100, "%.0f%%");
    printf("%-5s %-4s %5d %5d %8.3f | %9.1f %8.1f %8.1f %18s %18s | %9s %20s | %6.2f %6.2f %6.2f %6.1f %6.0f%% | "
           "%6.1f %16s %6.1f %6.0f%% | %9s\n",
           c->sh->name, kind_name(c->kind), c->width, c->batch, macs * 1e-6, median(sps, repeats),
           median(gf, repeats), median(ref_rate, repeats), shs, scs, ts, rs, median(fwd, repeats),
           median(bwd, repeats), median(opt, repeats), median(best, repeats), 100 * median(share_fb, repeats),
           median(gbs, repeats), bs, median(gbs_cold, repeats), 100 * median(serial, repeats), cw);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    double seconds = 3, lr = 0.01;
    int repeats = 3, use_torch = 1, gemm_path = 0, momentum = 1, use_ref = 1, v_override = 0;
    const char *python = "/usr/bin/python3", *models_arg = "cnn,lcn,fcn", *shapes_arg = "l2,l3",
               *widths_arg = "512";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--seconds") && v) seconds = atof(v), i++;
        else if (!strcmp(a, "--repeats") && v) repeats = atoi(v), i++;
        else if (!strcmp(a, "--models") && v) models_arg = v, i++;
        else if (!strcmp(a, "--shapes") && v) shapes_arg = v, i++;
        else if (!strcmp(a, "--v") && v) v_override = atoi(v), i++;
        else if (!strcmp(a, "--widths") && v) widths_arg = v, i++;
        else if (!strcmp(a, "--lr") && v) lr = atof(v), i++;
        else if (!strcmp(a, "--python") && v) python = v, i++;
        else if (!strcmp(a, "--no-torch")) use_torch = 0;
        else if (!strcmp(a, "--no-ref")) use_ref = 0; /* for profilers: the steps alone */
        else if (!strcmp(a, "--opt") && v && (!strcmp(v, "sgd") || !strcmp(v, "momentum")))
            momentum = !strcmp(v, "momentum"), i++;
        else if (!strcmp(a, "--gemm") && v && (!strcmp(v, "auto") || !strcmp(v, "cblas") || !strcmp(v, "kernel")))
            gemm_path = !strcmp(v, "auto") ? 0 : !strcmp(v, "cblas") ? 1 : 2, i++;
        else if (!strcmp(a, "--update") && v && (!strcmp(v, "fused") || !strcmp(v, "each") || !strcmp(v, "pass")))
            update_mode = !strcmp(v, "pass") ? UPDATE_PASS : !strcmp(v, "each") ? UPDATE_EACH : UPDATE_FUSED, i++;
        else {
            fprintf(stderr, "usage: bench_hnet [--models cnn,lcn,fcn] [--shapes l2,l3] [--widths 256,512,1024] "
                            "[--seconds S] [--repeats R] [--opt sgd|momentum] [--lr LR] [--v V] "
                            "[--gemm auto|cblas|kernel] [--update fused|each|pass] [--no-torch] [--no-ref] "
                            "[--python PATH]\n");
            return 2;
        }
    }
    static const char *const model_names[3] = {"cnn", "lcn", "fcn"}, *const shape_names[2] = {"l2", "l3"};
    int models[MAX_LIST], shape_ix[MAX_LIST], widths[MAX_LIST];
    const int n_models = parse_list(models_arg, model_names, 3, models),
              n_shapes = parse_list(shapes_arg, shape_names, 2, shape_ix);
    int n_widths = 0;
    for (const char *s = widths_arg; *s && n_widths < MAX_LIST;) {
        char *end;
        const long w = strtol(s, &end, 10);
        if (end == s || w < 1 || w > 16384) n_widths = -1;
        if (n_widths < 0) break;
        widths[n_widths++] = (int)w;
        s = *end == ',' ? end + 1 : end;
    }
    if (n_models < 1 || n_shapes < 1 || n_widths < 1 || repeats < 1 || repeats > MAX_REPEATS || !(seconds > 0) ||
        (v_override && (v_override < 2 || v_override > 64))) {
        fprintf(stderr, "bench_hnet: bad --models, --shapes, --widths, --repeats (1..%d), --seconds or --v (2..64)\n",
                MAX_REPEATS);
        return 2;
    }
    hs_blas_set_threads(1);
    hs_gemm_force(gemm_path);
    static const char *const path_names[3] = {"auto", "cblas", "kernel"};
    printf("BLAS: %s; products: --gemm %s (AVX-512 kernel %s)\n", hs_blas_describe(),
           path_names[gemm_path], hs_gemm_have_kernel() ? "available" : "not available");
    printf("optimiser %s, lr %g (x H), each tensor updated %s; %.3g s per run, %d repeats, hsweep and torch "
           "alternating\n",
           momentum ? "momentum 0.9" : "sgd", lr,
           update_mode == UPDATE_PASS    ? "in a pass after the backward"
           : update_mode == UPDATE_FUSED ? "in the products where they can, else as soon as the backward is done"
                                         : "as soon as the backward is done with it",
           seconds,
           repeats);
    const hs_optim_opts oo = {.kind = momentum ? HS_OPT_MOMENTUM : HS_OPT_SGD, .momentum = momentum ? 0.9 : 0};

    ref_gemm ref;
    if (ref_init(&ref)) {
        fprintf(stderr, "bench_hnet: out of memory\n");
        return 1;
    }
    torch_proc tp = {0};
    if (use_torch) torch_start(&tp, python);

    printf("\n%-5s %-4s %5s %5s %8s | %9s %8s %8s %18s %18s | %9s %20s | %6s %6s %6s %6s %7s | %6s %16s %6s %7s | "
           "%9s\n",
           "shape", "net", "H", "batch", "MMAC/smp", "steps/s", "GFLOP/s", "sgemm", "of sgemm", "of sgemm (cpu)",
           "torch s/s", "ratio [min-max]", "fwd", "bwd", "opt", "best", "fwd+bwd", "GB/s", "bound", "cold", "serial",
           "cpu/wall");
    for (int si = 0; si < n_shapes; si++) {
        shape sv = shapes[shape_ix[si]];
        if (v_override) sv.v = v_override;
        const shape *sh = &sv;
        config c0 = {.sh = sh, .batch = 4 * sh->v};
        const hs_hnet_opts o0 = opts_of(&c0);
        const int D = o0.channels * o0.positions;
        float *X = malloc(sizeof(float) * (size_t)N_SAMPLES * D);
        int32_t *Y = malloc(sizeof(int32_t) * N_SAMPLES);
        if (!X || !Y) {
            fprintf(stderr, "bench_hnet: out of memory\n");
            return 1;
        }
        make_data(X, Y, sh, o0.positions);
        for (int mi = 0; mi < n_models; mi++)
            for (int wi = 0; wi < n_widths; wi++) {
                const config c = {.kind = (hs_hnet_kind)models[mi], .sh = sh, .width = widths[wi], .batch = 4 * sh->v};
                const hs_hnet_opts o = opts_of(&c);
                hs_model probe;
                hs_error err = {0};
                if (hs_model_hnet(&probe, &o, &err) != HS_OK) {
                    fprintf(stderr, "bench_hnet: %s\n", err.msg);
                    return 1;
                }
                const double macs = macs_of(&probe, c.kind, c.width);
                const size_t n_params = probe.n_params;
                hs_model_free(&probe);
                if (bench_config(&c, macs, n_params, &oo, momentum, lr, seconds, repeats, X, Y, use_ref ? &ref : NULL,
                                 &tp))
                    return 1;
            }
        free(X), free(Y);
    }
    printf("\nmedians over repeats [min-max]; of sgemm: GFLOP/s over the interleaved sgemm's, both per wall second; "
           "(cpu): both per second of CPU time (what preemption by other jobs does not move); fwd/bwd/opt: ms per "
           "step (wall; with --update each the updates run inside bwd and opt is 0); best: GFLOP/s of the fastest "
           "step; fwd+bwd: forward, loss and backward alone (no gather, and no optimiser with --update pass) over "
           "the interleaved sgemm; GB/s: the 16 bytes per parameter a momentum step must move, "
           "streamed alone; bound: the most of the sgemm a step could reach given that stream (file header); "
           "cold: the same stream from memory; serial: the most a step whose update is a pass of its own could "
           "reach; "
           "cpu/wall: the lowest of the repeats (hsweep/torch), below 1 when the core was shared\n");
    torch_stop(&tp);
    ref_free(&ref);
    return 0;
}
