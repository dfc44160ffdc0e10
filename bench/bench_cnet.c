/* bench_cnet.c - training steps per second of the deep conv nets (nets.h) on one core, against
 * the same nets in PyTorch (bench/torch_cnet.py) and against this machine's sgemm rate.
 *
 *   bench_cnet [--seconds S] [--pairs N] [--nets vgg11,...,resnet18_2d] [--widths 1,0.25]
 *              [--min-steps K] [--no-torch] [--python /usr/bin/python3]
 *
 * Workloads: vgg11, vgg16, resnet18, resnet34, effnet_b0 on 1-D SRHM inputs (10 channels x 36
 * positions, one-hot per position, 10 classes, batch 40 = 4 per class from a set of 4000 sorted by
 * class; default widths 1 and 0.25), and resnet18_2d, ResNet-18 on 1 x 28 x 28 uniform images (10
 * classes, batch 128 drawn with replacement from 10000; default widths 1 and 0.5). --widths
 * replaces the defaults for every net. One step: gather the minibatch, forward (TRAIN),
 * cross-entropy, backward, SGD with momentum 0.9 at lr 0.01; torch_cnet.py does the same.
 *
 * Protocol: per configuration the model is built once on each side, then N pairs of measurements
 * alternate, hsweep then torch (A B A B ...), each one warm-up step and then steps for at least S
 * seconds and K steps. PyTorch runs as one python coprocess (--serve) for the whole program, so
 * its start and import are paid once. The ratio hsweep/torch is formed per pair and reported as
 * the median with its min-max. This VM's core speed drifts (see bench/README.md, bench_train),
 * so during hsweep's measurements a 1000^3 sgemm is timed between steps (one untimed call, one
 * timed, after every REF_EVERY seconds of steps): hsweep's GFLOP/s (6 x MACs x batch per step,
 * MACs from hs_cnet_summarize) is compared with the sgemm at the same moments. */
#include <cblas.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hsweep/util.h"
#include "hsweep/nets.h"
#include "hsweep/nn.h"
#include "hsweep/optim.h"
#include "hsweep/rng.h"

#ifndef HSWEEP_BENCH_DIR
#define HSWEEP_BENCH_DIR "bench"
#endif

enum { MAX_PAIRS = 64, MAX_WIDTHS = 8, MAX_ROWS = 64, CLASSES = 10 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median, min and max of n values (n >= 1; v is reordered) */
static void stats(double *v, int n, double *med, double *lo, double *hi) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    *med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    *lo = v[0], *hi = v[n - 1];
}

/* ================================================================ the workloads */

typedef struct workload {
    const char *name;
    const hs_cnet_arch *arch;
    int two_d;
    double widths[2];
} workload;

static const workload workloads[] = {
    {"vgg11", &hs_cnet_vgg11, 0, {1, 0.25}},       {"vgg16", &hs_cnet_vgg16, 0, {1, 0.25}},
    {"resnet18", &hs_cnet_resnet18, 0, {1, 0.25}}, {"resnet34", &hs_cnet_resnet34, 0, {1, 0.25}},
    {"effnet_b0", &hs_cnet_effnet_b0, 0, {1, 0.25}}, {"resnet18_2d", &hs_cnet_resnet18, 1, {1, 0.5}},
};

/* The synthetic set and the minibatch rule of a workload (as torch_cnet.py's Workload). */
typedef struct dataset {
    int n, dim, batch, per_class; /* per_class 0: draws with replacement from the whole set */
    float *X;                     /* [n x dim] */
    int32_t *Y;
    hs_rng r;
} dataset;

static int data_make(dataset *d, int two_d) {
    hs_rng g;
    hs_rng_init(&g, 1, hs_rng_stream(HS_STREAM_DATA, 0));
    if (two_d) d->n = 10000, d->dim = 28 * 28, d->batch = 128, d->per_class = 0;
    else d->n = 4000, d->dim = 10 * 36, d->batch = 40, d->per_class = 4000 / CLASSES;
    d->X = calloc((size_t)d->n * d->dim, sizeof *d->X);
    d->Y = malloc((size_t)d->n * sizeof *d->Y);
    if (!d->X || !d->Y) return 1;
    for (int i = 0; i < d->n; i++) {
        float *x = d->X + (size_t)i * d->dim;
        if (two_d) {
            for (int k = 0; k < d->dim; k++) x[k] = hs_rng_uniformf(&g);
            d->Y[i] = (int32_t)hs_rng_below(&g, CLASSES);
        } else {
            for (int p = 0; p < 36; p++) x[(size_t)hs_rng_below(&g, 10) * 36 + (size_t)p] = 1.0f; /* [10 x 36] */
            d->Y[i] = i / d->per_class;
        }
    }
    hs_rng_init(&d->r, 1, hs_rng_stream(HS_STREAM_BATCH, 0));
    return 0;
}

static void data_free(dataset *d) { free(d->X), free(d->Y); }

/* rows of the next minibatch into xb, yb: 4 per class (1-D), or uniform draws (2-D) */
static void data_gather(dataset *d, float *xb, int32_t *yb) {
    for (int b = 0; b < d->batch; b++) {
        const int k = d->per_class
                          ? (b / (d->batch / CLASSES)) * d->per_class + (int)hs_rng_below(&d->r, (uint64_t)d->per_class)
                          : (int)hs_rng_below(&d->r, (uint64_t)d->n);
        memcpy(xb + (size_t)b * d->dim, d->X + (size_t)k * d->dim, sizeof(float) * (size_t)d->dim);
        yb[b] = d->Y[k];
    }
}

/* ================================================================ sgemm reference */

enum { REF_N = 1000 };
#define REF_EVERY 0.25 /* seconds of steps between reference calls: about 10% of hsweep's wall time */
static float *ref_A, *ref_B, *ref_C;

static int ref_init(void) {
    const size_t n = (size_t)REF_N * REF_N;
    ref_A = malloc(sizeof(float) * n), ref_B = malloc(sizeof(float) * n), ref_C = malloc(sizeof(float) * n);
    if (!ref_A || !ref_B || !ref_C) return 1;
    for (size_t i = 0; i < n; i++) ref_A[i] = (float)(i % 17) * 0.01f, ref_B[i] = (float)(i % 13) * 0.01f;
    return 0;
}

/* Seconds of one call, after an untimed one that brings the operands back into cache. */
static double ref_run(void) {
    double dt = 0;
    for (int rep = 0; rep < 2; rep++) {
        const double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, REF_N, REF_N, REF_N, 1.0f, ref_A, REF_N, ref_B, REF_N,
                    0.0f, ref_C, REF_N);
        dt = now() - t0;
    }
    return dt;
}

/* ================================================================ hsweep's side */

typedef struct hs_side {
    hs_model m;
    hs_optim opt;
    dataset d;
    float *xb;
    int32_t *yb;
} hs_side;

static void hs_step(hs_side *s) {
    data_gather(&s->d, s->xb, s->yb);
    const float *logits = hs_model_forward(&s->m, s->xb, s->d.batch, HS_MODE_TRAIN);
    hs_loss_forward_backward(HS_LOSS_CE, logits, s->yb, NULL, s->d.batch, CLASSES, s->m.dlogits, NULL);
    hs_model_backward(&s->m, s->m.dlogits, s->d.batch);
    hs_optim_begin_step(&s->opt);
    for (int t = 0; t < s->m.n_tensors; t++)
        hs_optim_update(&s->opt, s->m.params, s->m.grads, s->m.tensors[t].offset, s->m.tensors[t].size, 0.01, 0.0);
}

typedef struct measure {
    double steps_per_s, cpu_per_wall, median_step;
    double ref_gflops;  /* the interleaved sgemm calls' FLOPs over their time (hsweep only) */
} measure;

static void hs_measure(hs_side *s, double seconds, int min_steps, measure *r) {
    enum { MAX_T = 1 << 16 };
    static double t[MAX_T];
    hs_step(s); /* warm-up: the other program has had the caches */
    int n = 0, n_ref = 0;
    double train = 0, since_ref = 0, ref_time = 0;
    const double w0 = now(), c0 = cpu_now();
    while (n < min_steps || train < seconds) {
        const double t0 = now();
        hs_step(s);
        const double dt = now() - t0;
        if (n < MAX_T) t[n] = dt;
        n++, train += dt, since_ref += dt;
        if (since_ref >= REF_EVERY) ref_time += ref_run(), n_ref++, since_ref = 0;
    }
    const double wall = now() - w0;
    r->cpu_per_wall = (cpu_now() - c0) / wall;
    r->steps_per_s = n / train; /* the reference calls' time is not the training's */
    double lo, hi;
    stats(t, n < MAX_T ? n : MAX_T, &r->median_step, &lo, &hi);
    r->ref_gflops = n_ref ? 2.0 * REF_N * REF_N * REF_N * n_ref / ref_time * 1e-9 : 0;
}

/* ================================================================ torch's side (a coprocess) */

typedef struct torch_proc {
    pid_t pid;
    FILE *to, *from;
} torch_proc;

/* Starts `python torch_cnet.py --serve`; 0 when it answered "ready". */
static int torch_start(torch_proc *tp, const char *python) {
    int in[2], out[2];
    if (pipe(in) || pipe(out)) return 1;
    tp->pid = fork();
    if (tp->pid < 0) return 1;
    if (tp->pid == 0) {
        dup2(in[0], 0), dup2(out[1], 1);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        setenv("OPENBLAS_NUM_THREADS", "1", 1), setenv("OMP_NUM_THREADS", "1", 1), setenv("MKL_NUM_THREADS", "1", 1);
        execl(python, python, HSWEEP_BENCH_DIR "/torch_cnet.py", "--serve", (char *)NULL);
        _exit(127);
    }
    close(in[0]), close(out[1]);
    tp->to = fdopen(in[1], "w"), tp->from = fdopen(out[0], "r");
    char line[512];
    if (!tp->to || !tp->from || !fgets(line, sizeof line, tp->from)) return 1;
    if (strncmp(line, "ready", 5)) {
        fputs(line, stdout); /* e.g. "torch not available" */
        return 1;
    }
    return 0;
}

static void torch_stop(torch_proc *tp) {
    if (tp->to) fputs("quit\n", tp->to), fclose(tp->to);
    if (tp->from) fclose(tp->from);
    if (tp->pid > 0) waitpid(tp->pid, NULL, 0);
    memset(tp, 0, sizeof *tp);
}

/* One command, one answer line into line; 0 on an answer that is not an error. */
static int torch_ask(torch_proc *tp, char *line, size_t cap, const char *fmt, const char *net, double w, double s,
                     int k) {
    fprintf(tp->to, fmt, net, w, s, k);
    fflush(tp->to);
    if (!fgets(line, (int)cap, tp->from)) return 1;
    if (!strncmp(line, "error", 5)) {
        fprintf(stderr, "bench_cnet: torch: %s", line);
        return 1;
    }
    return 0;
}

/* ================================================================ one configuration */

typedef struct row {
    const char *net;
    double width;
    size_t params, torch_params;
    double macs;
    int batch, pairs, have_torch;
    double hs_sps, hs_lo, hs_hi, t_sps, t_lo, t_hi; /* steps/s: medians and min-max over pairs */
    double ratio, ratio_lo, ratio_hi;               /* hsweep / torch per pair */
    double gflops, ref, frac, frac_lo, frac_hi;     /* hsweep GFLOP/s, interleaved sgemm, fraction per pair */
    double hs_cpu, t_cpu;                           /* medians */
    double hs_med_ms, t_med_ms;                     /* medians over pairs of the median step */
} row;

static int bench_config(const workload *wl, double w, double seconds, int pairs, int min_steps, torch_proc *tp,
                        row *r) {
    hs_cnet_opts o = {.arch = wl->arch, .channels = wl->two_d ? 1 : 10, .height = wl->two_d ? 28 : 1,
                      .width = wl->two_d ? 28 : 36, .out_dim = CLASSES, .width_mult = w, .dropout = -1,
                      .batch_norm = 1, .bn_eps = 1e-5f, .bn_momentum = 0.1f, .init_scale = 1, .seed = 1,
                      .max_batch = wl->two_d ? 128 : 40};
    hs_error err = {0};
    hs_cnet_summary sum;
    hs_side s = {0};
    hs_optim_opts oo = {.kind = HS_OPT_MOMENTUM, .momentum = 0.9};
    if (hs_cnet_summarize(&o, &sum, NULL, NULL, 0, &err) != HS_OK || hs_model_cnet(&s.m, &o, &err) != HS_OK ||
        hs_optim_init(&s.opt, &oo, s.m.n_params, &err) != HS_OK) {
        fprintf(stderr, "bench_cnet: %s\n", err.msg);
        return 1;
    }
    if (data_make(&s.d, wl->two_d) || !(s.xb = malloc(sizeof(float) * (size_t)s.d.batch * s.d.dim)) ||
        !(s.yb = malloc(sizeof(int32_t) * (size_t)s.d.batch))) {
        fprintf(stderr, "bench_cnet: out of memory\n");
        return 1;
    }
    *r = (row){.net = wl->name, .width = w, .params = sum.n_params, .macs = sum.macs, .batch = s.d.batch,
               .pairs = pairs, .have_torch = tp != NULL};
    char line[512];
    if (tp) {
        unsigned long long tpar = 0;
        if (torch_ask(tp, line, sizeof line, "params %s %.17g %g %d\n", wl->name, w, 0, 0) ||
            sscanf(line, "params=%llu", &tpar) != 1)
            return 1;
        r->torch_params = (size_t)tpar;
    }
    printf("%-12s w=%-5g params hsweep %zu, torch %s%zu%s; %.3g MMAC/sample, batch %d\n", wl->name, w, r->params,
           tp ? "" : "-", r->torch_params, tp ? (r->torch_params == r->params ? " (equal)" : " (DIFFERENT)") : "",
           r->macs * 1e-6, r->batch);
    fflush(stdout);

    double hs_sps[MAX_PAIRS], t_sps[MAX_PAIRS], ratio[MAX_PAIRS], frac[MAX_PAIRS], refs[MAX_PAIRS], hcpu[MAX_PAIRS],
        tcpu[MAX_PAIRS], hmed[MAX_PAIRS], tmed[MAX_PAIRS], gf[MAX_PAIRS];
    const double flops_per_step = 6.0 * r->macs * r->batch;
    for (int p = 0; p < pairs; p++) {
        measure h;
        hs_measure(&s, seconds, min_steps, &h);
        hs_sps[p] = h.steps_per_s, hcpu[p] = h.cpu_per_wall, hmed[p] = 1e3 * h.median_step, refs[p] = h.ref_gflops;
        gf[p] = flops_per_step * h.steps_per_s * 1e-9;
        frac[p] = h.ref_gflops > 0 ? gf[p] / h.ref_gflops : 0;
        printf("  pair %d: hsweep %8.3f steps/s (cpu/wall %.2f, %.1f GFLOP/s, sgemm %.1f)", p + 1, hs_sps[p], hcpu[p],
               gf[p], refs[p]);
        if (tp) {
            double ts, tc, tm;
            int k;
            if (torch_ask(tp, line, sizeof line, "run %s %.17g %g %d\n", wl->name, w, seconds, min_steps) ||
                sscanf(line, "steps_per_s=%lf cpu_per_wall=%lf median_step_ms=%lf steps=%d", &ts, &tc, &tm, &k) != 4)
                return 1;
            t_sps[p] = ts, tcpu[p] = tc, tmed[p] = tm, ratio[p] = hs_sps[p] / ts;
            printf("  torch %8.3f steps/s (cpu/wall %.2f)  ratio %.2f", ts, tc, ratio[p]);
        }
        printf("\n");
        fflush(stdout);
    }
    double lo, hi;
    stats(hs_sps, pairs, &r->hs_sps, &r->hs_lo, &r->hs_hi);
    stats(gf, pairs, &r->gflops, &lo, &hi);
    stats(refs, pairs, &r->ref, &lo, &hi);
    stats(frac, pairs, &r->frac, &r->frac_lo, &r->frac_hi);
    stats(hcpu, pairs, &r->hs_cpu, &lo, &hi);
    stats(hmed, pairs, &r->hs_med_ms, &lo, &hi);
    if (tp) {
        stats(t_sps, pairs, &r->t_sps, &r->t_lo, &r->t_hi);
        stats(ratio, pairs, &r->ratio, &r->ratio_lo, &r->ratio_hi);
        stats(tcpu, pairs, &r->t_cpu, &lo, &hi);
        stats(tmed, pairs, &r->t_med_ms, &lo, &hi);
    }
    data_free(&s.d);
    free(s.xb), free(s.yb);
    hs_optim_free(&s.opt);
    hs_model_free(&s.m);
    return 0;
}

/* ================================================================ main */

static int parse_list(const char *arg, char *buf, size_t size, const char **items, int cap) {
    snprintf(buf, size, "%s", arg);
    int n = 0;
    for (char *tok = strtok(buf, ","); tok && n < cap; tok = strtok(NULL, ",")) items[n++] = tok;
    return n;
}

int main(int argc, char **argv) {
    double seconds = 2;
    int pairs = 5, min_steps = 2, use_torch = 1;
    const char *nets_arg = "vgg11,vgg16,resnet18,resnet34,effnet_b0,resnet18_2d", *widths_arg = NULL,
               *python = "/usr/bin/python3";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--pairs") && i + 1 < argc) pairs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-steps") && i + 1 < argc) min_steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--nets") && i + 1 < argc) nets_arg = argv[++i];
        else if (!strcmp(argv[i], "--widths") && i + 1 < argc) widths_arg = argv[++i];
        else if (!strcmp(argv[i], "--python") && i + 1 < argc) python = argv[++i];
        else if (!strcmp(argv[i], "--no-torch")) use_torch = 0;
        else {
            fprintf(stderr, "usage: bench_cnet [--seconds S] [--pairs N] [--min-steps K] [--nets a,b] "
                            "[--widths 1,0.25] [--no-torch] [--python PATH]\n  nets:");
            for (size_t k = 0; k < sizeof workloads / sizeof *workloads; k++) fprintf(stderr, " %s", workloads[k].name);
            fprintf(stderr, "\n");
            return 2;
        }
    }
    if (pairs < 1 || pairs > MAX_PAIRS || !(seconds > 0) || min_steps < 1) {
        fprintf(stderr, "bench_cnet: --pairs in 1..%d, --seconds > 0, --min-steps >= 1\n", MAX_PAIRS);
        return 2;
    }
    const char *nets[16], *wtok[MAX_WIDTHS];
    static char nets_buf[512], widths_buf[512];
    const int n_nets = parse_list(nets_arg, nets_buf, sizeof nets_buf, nets, 16);
    double widths[MAX_WIDTHS];
    int n_widths = 0;
    if (widths_arg) {
        const int n = parse_list(widths_arg, widths_buf, sizeof widths_buf, wtok, MAX_WIDTHS);
        for (int k = 0; k < n; k++) {
            char *end;
            widths[k] = strtod(wtok[k], &end);
            if (*end || !(widths[k] > 0)) {
                fprintf(stderr, "bench_cnet: bad --widths '%s'\n", widths_arg);
                return 2;
            }
        }
        n_widths = n;
    }
    const workload *wls[16];
    for (int i = 0; i < n_nets; i++) {
        wls[i] = NULL;
        for (size_t k = 0; k < sizeof workloads / sizeof *workloads; k++)
            if (!strcmp(nets[i], workloads[k].name)) wls[i] = &workloads[k];
        if (!wls[i]) {
            fprintf(stderr, "bench_cnet: unknown net '%s' (see --help)\n", nets[i]);
            return 2;
        }
    }
    hs_blas_set_threads(1);
    if (ref_init()) {
        fprintf(stderr, "bench_cnet: out of memory\n");
        return 1;
    }
    printf("BLAS: %s; %g s per measurement, %d pairs, >= %d steps each\n", hs_blas_describe(), seconds,
           pairs, min_steps);
    torch_proc tp = {0};
    if (use_torch && torch_start(&tp, python)) {
        printf("PyTorch side not available: hsweep only\n");
        torch_stop(&tp);
        use_torch = 0;
    }
    signal(SIGPIPE, SIG_IGN);

    static row rows[MAX_ROWS];
    int n_rows = 0;
    for (int i = 0; i < n_nets; i++) {
        const int nw = widths_arg ? n_widths : 2;
        for (int k = 0; k < nw && n_rows < MAX_ROWS; k++) {
            const double w = widths_arg ? widths[k] : wls[i]->widths[k];
            if (bench_config(wls[i], w, seconds, pairs, min_steps, use_torch ? &tp : NULL, &rows[n_rows])) {
                torch_stop(&tp);
                return 1;
            }
            n_rows++;
        }
    }
    if (use_torch) torch_stop(&tp);

    printf("\n%d interleaved pairs of >= %g s each; medians over pairs, [min-max]\n", pairs, seconds);
    printf("%-12s %5s %9s %9s %5s %20s %20s %18s %7s %6s %16s %11s\n", "net", "width", "params", "MMAC/smp", "batch",
           "hsweep steps/s", "torch steps/s", "hsweep/torch", "GFLOP/s", "sgemm", "of sgemm", "cpu/wall");
    for (int i = 0; i < n_rows; i++) {
        const row *r = &rows[i];
        char h[48], t[48] = "-", q[48] = "-", f[48], c[32];
        snprintf(h, sizeof h, "%.2f [%.2f-%.2f]", r->hs_sps, r->hs_lo, r->hs_hi);
        if (r->frac_lo > 0) snprintf(f, sizeof f, "%.0f%% [%.0f-%.0f]", 100 * r->frac, 100 * r->frac_lo, 100 * r->frac_hi);
        else snprintf(f, sizeof f, "- (raise --seconds)"); /* a measurement shorter than REF_EVERY had no sgemm */
        snprintf(c, sizeof c, "%.2f", r->hs_cpu);
        if (r->have_torch) {
            snprintf(t, sizeof t, "%.2f [%.2f-%.2f]", r->t_sps, r->t_lo, r->t_hi);
            snprintf(q, sizeof q, "%.2fx [%.2f-%.2f]", r->ratio, r->ratio_lo, r->ratio_hi);
            snprintf(c, sizeof c, "%.2f/%.2f", r->hs_cpu, r->t_cpu);
        }
        printf("%-12s %5g %9zu %9.2f %5d %20s %20s %18s %7.1f %6.1f %16s %11s\n", r->net, r->width, r->params,
               r->macs * 1e-6, r->batch, h, t, q, r->gflops, r->ref, f, c);
    }
    printf("\nmedian step (ms; medians over pairs): ");
    for (int i = 0; i < n_rows; i++)
        printf("%s%s w=%g %.2f/%.2f", i ? ", " : "", rows[i].net, rows[i].width, rows[i].hs_med_ms, rows[i].t_med_ms);
    printf("  (hsweep/torch)\n");
    return 0;
}
