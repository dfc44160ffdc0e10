/* bench_checkpoint.c - what a training checkpoint costs: bytes and milliseconds per save of a
 * depth-18 width-1000 MLP (model.depth 18 = 19 hidden blocks Linear -> BatchNorm -> ReLU) on 784
 * inputs and 10 classes with Adam, the largest net of the He & Su sweeps; and what resuming
 * costs.
 *
 *   bench_checkpoint [--dir /tmp] [--saves 6]
 *
 * The saves are hs_train_run's own (every_seconds tiny, so one at each step boundary, then one
 * when should_stop fires), written to DIR/bench.ckpt: a CRC-32 over the bytes, fwrite, fflush,
 * fsync, rename, fsync of the directory. The CRC-32 rate over the same number of bytes is
 * measured apart, to say how much of a save is the checksum and how much is the file system. One
 * BLAS thread, synthetic data (512 rows, batch 128). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "hsweep/plan.h"
#include "hsweep/rng.h"
#include "hsweep/spec.h"
#include "hsweep/train.h"
#include "hsweep/util.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct stopper {
    long long polls, stop_at;
} stopper;

static int stop_at(void *ctx) {
    stopper *s = ctx;
    return ++s->polls == s->stop_at;
}

static int die(const hs_error *err) {
    fprintf(stderr, "error: %s\n", err->msg);
    return 1;
}

int main(int argc, char **argv) {
    const char *dir = "/tmp";
    int saves = 6;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--saves") && i + 1 < argc) saves = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_checkpoint [--dir /tmp] [--saves 6]\n");
            return 2;
        }
    }
    if (saves < 2) saves = 2;
    hs_blas_set_threads(1);
    static const char yaml[] = "base:\n"
                               "  seed: 1\n"
                               "  model: {depth: 18, width: 1000}\n"
                               "  train: {epochs: 4, batch: 128, lr: 0.001, opt: adam}\n"
                               "  record: {every: 1, separation: none}\n";
    hs_error err = {0};
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    hs_train_config c;
    if (hs_spec_parse(yaml, strlen(yaml), "bench.yaml", &spec, &err) != HS_OK ||
        hs_plan_expand(spec, NULL, &plan, &err) != HS_OK || hs_train_config_from_plan(plan, 0, &c, &err) != HS_OK)
        return die(&err);

    hs_dataset d = {.n = 512, .dim = 784, .classes = 10};
    d.x = malloc((size_t)d.n * d.dim * sizeof *d.x);
    d.y = malloc((size_t)d.n * sizeof *d.y);
    if (!d.x || !d.y) return 1;
    hs_rng r;
    hs_rng_init(&r, 7, 1);
    for (long long i = 0; i < d.n; i++) {
        d.y[i] = (int32_t)(i % 10);
        for (int j = 0; j < d.dim; j++) d.x[i * d.dim + j] = (float)hs_rng_normal(&r);
    }

    char path[4096];
    snprintf(path, sizeof path, "%s/bench.ckpt", dir);
    if (hs_train_checkpoint_remove(path, &err) != HS_OK) return die(&err);

    /* one save alone (a stop before the first step): the first save of a process also hashes
     * the initial parameters once (w0.sha256) */
    stopper st = {0, 1};
    hs_train_hooks h = {.ctx = &st, .should_stop = stop_at, .checkpoint = {.path = path}};
    hs_train_result res = {0};
    if (hs_train_run(&c, &d, NULL, &h, &res, &err) != HS_OK) return die(&err);
    const double first = res.checkpoint_seconds;
    hs_train_result_free(&res);

    /* then saves at the first `saves - 1` step boundaries (periodic) and one on the stop */
    st = (stopper){0, saves};
    h.checkpoint.every_seconds = 1e-9;
    double t0 = now();
    if (hs_train_run(&c, &d, NULL, &h, &res, &err) != HS_OK) return die(&err);
    double wall = now() - t0;
    const double per_save = (res.checkpoint_seconds - first) / (res.checkpoints - 1);
    const size_t bytes = res.checkpoint_bytes / (size_t)res.checkpoints;
    printf("net: %zu parameters (%.1f MB as float32), Adam\n", res.n_params, res.n_params * 4 / 1e6);
    printf("saves: %d to %s, %zu bytes each (%.1f MB, %.2f x the parameters)\n", res.checkpoints, path, bytes,
           bytes / 1e6, (double)bytes / (4.0 * (double)res.n_params));
    printf("  %.1f ms per save (hash + write + fsync + rename + directory fsync), %.0f MB/s; the first save of a "
           "process %.1f ms\n", 1e3 * per_save, bytes / per_save / 1e6, 1e3 * first);
    printf("  the training call: %.2f s for %lld steps and %d saves\n", wall, res.steps, res.checkpoints);
    hs_train_result_free(&res);

    /* the checksum alone, over as many bytes (zlib's crc32 takes at most 4 GiB - 1 per call) */
    unsigned char *buf = malloc(bytes);
    if (!buf) return 1;
    for (size_t i = 0; i < bytes; i++) buf[i] = (unsigned char)(i * 2654435761u >> 13);
    t0 = now();
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t at = 0; at < bytes; at += 1u << 30)
        crc = crc32(crc, buf + at, (uInt)(bytes - at < (1u << 30) ? bytes - at : (1u << 30)));
    double sum = now() - t0;
    free(buf);
    printf("  of which the CRC-32 alone: %.1f ms (%.0f MB/s; %08lx)\n", 1e3 * sum, bytes / sum / 1e6, crc);

    /* resume: build the net, open and verify the file (a pass of CRC-32), read it, hash the
     * rebuilt initial parameters; stopping at the first poll makes one more save, taken out */
    st = (stopper){0, 1};
    h.checkpoint.every_seconds = 0, h.checkpoint.resume = 1;
    t0 = now();
    if (hs_train_run(&c, &d, NULL, &h, &res, &err) != HS_OK) return die(&err);
    wall = now() - t0;
    printf("resume from step %lld: %.1f ms (building the net, verifying and reading the checkpoint)\n",
           res.resumed_from_step, 1e3 * (wall - res.checkpoint_seconds));
    hs_train_result_free(&res);

    if (hs_train_checkpoint_remove(path, &err) != HS_OK) return die(&err);
    free(d.x), free(d.y);
    hs_train_config_free(&c);
    hs_plan_free(plan);
    hs_spec_free(spec);
    return 0;
}
