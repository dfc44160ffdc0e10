/* test_gated_images.c - the image tasks of gated deep linear networks (data kinds gated_perm and
 * gated_rot with model.arch gated): the lexicographic label maps and the gate "K plus mod
 * permute" by hand; rows against the raw image (permutations rearrange it, rotations by 90 and 180
 * degrees move pixels where a hand formula says); the routing net's cross-entropy gradients at
 * image size against central differences; and a short end-to-end training whose recorded trained
 * and held-out pathway errors are recounted here row by row, the trained error falling. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_of.h"
#include "hsweep/data.h"
#include "hsweep/nn.h"
#include "hsweep/rng.h"
#include "testing.h"

/* Lexicographic label maps at hand-enumerated indices; the gate's row and column sums. */
static void test_label_maps_and_gate(void) {
    int map[10];
    hs_lex_label_map(0, map);
    for (int c = 0; c < 10; c++) CU_ASSERT_EQUAL(map[c], c);
    hs_lex_label_map(1, map); /* (0 1 2 3 4 5 6 7 9 8) */
    CU_ASSERT(map[8] == 9 && map[9] == 8 && map[7] == 7 && map[0] == 0);
    hs_lex_label_map(119, map); /* (0 1 2 3 4 9 8 7 6 5): the last order of the last five */
    for (int c = 5; c < 10; c++) CU_ASSERT_EQUAL(map[c], 14 - c);
    hs_lex_label_map(120, map); /* (0 1 2 3 5 4 6 7 8 9): 120 = 5! moves the fifth entry */
    CU_ASSERT(map[4] == 5 && map[5] == 4 && map[6] == 6 && map[3] == 3);
    hs_lex_label_map(3628799, map); /* 10! - 1: the reverse */
    for (int c = 0; c < 10; c++) CU_ASSERT_EQUAL(map[c], 9 - c);
    int fixed = 1;
    for (int j = 0; j < 120; j++) { /* the note's check: M <= 120 keeps classes 0..4 */
        hs_lex_label_map(j, map);
        for (int c = 0; c < 5; c++) fixed &= map[c] == c;
    }
    CU_ASSERT(fixed);
    const int M = 9, K = 4;
    const uint32_t col[9] = {3, 0, 8, 5, 1, 7, 2, 6, 4};
    for (int i = 0; i < M; i++) {
        int row = 0, column = 0;
        for (int j = 0; j < M; j++) row += hs_gate_plus_permute_active(M, K, col, i, j);
        for (int j = 0; j < M; j++) column += hs_gate_plus_permute_active(M, K, col, j, i);
        CU_ASSERT(row == K && column == K);
    }
    /* (col[j] - i) mod 9 < 4: input 0 -> outputs with col 0..3 = j 1, 4, 6, 0 */
    CU_ASSERT(hs_gate_plus_permute_active(M, K, col, 0, 1) && hs_gate_plus_permute_active(M, K, col, 0, 6) &&
              !hs_gate_plus_permute_active(M, K, col, 0, 3));
}

static int have_fashion(void) {
    struct stat st;
    if (stat("/usr/share/datasets/fashion-mnist", &st) == 0) return 1;
    CU_FAIL("/usr/share/datasets/fashion-mnist is missing: install the Debian package dataset-fashion-mnist");
    return 0;
}

static int cmp_float(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The row of (i, j, item) in its set (rows go i, then j, then item within each set). */
static const float *row_of(const hs_dataset *tr, const hs_dataset *te, int i, int j, int item, int n, int32_t *y) {
    for (int s = 0; s < 2; s++) {
        const hs_dataset *d = s ? te : tr;
        for (long long r = 0; r < d->n; r += n)
            if ((int)d->x[r * 786 + 784] == i && (int)d->x[r * 786 + 785] == j) {
                *y = d->y[r + item];
                return d->x + (size_t)(r + item) * 786;
            }
    }
    return NULL;
}

/* M = 3, K = 2, one image per class: rotation 0 is the raw image, 90 and 180 degrees move pixel
 * (r, c) to in(c, 27 - r) and in(27 - r, 27 - c); every permuted copy is a rearrangement of it and
 * none (domain 0 included) is the raw order; one original class per item under every map. */
static void test_perm_and_rot_rows(void) {
    if (!have_fashion()) return;
    hs_data_opts o = {.kind = "gated_perm", .seed = 7, .per_class = 1, .modules = 3, .active = 2};
    hs_dataset ptr = {0}, pte = {0}, rtr = {0}, rte = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_data_load(&o, &ptr, &pte, &err), HS_OK);
    o.kind = "gated_rot";
    CU_ASSERT_EQUAL_FATAL(hs_data_load(&o, &rtr, &rte, &err), HS_OK);
    CU_ASSERT(ptr.n == 60 && pte.n == 30 && ptr.dim == 786 && ptr.t_dim == 10 && rtr.n == 60);
    int classes_seen = 0;
    double dev90 = 0, dev180 = 0;
    for (int item = 0; item < 10; item++) {
        int32_t y = -1;
        const float *raw = row_of(&rtr, &rte, 0, 0, item, 10, &y);
        CU_ASSERT_PTR_NOT_NULL_FATAL(raw);
        float a[784], b[784];
        memcpy(a, raw, sizeof a);
        qsort(a, 784, sizeof *a, cmp_float);
        for (int i = 0; i < 3; i++) {
            const float *p = row_of(&ptr, &pte, i, 0, item, 10, &y);
            memcpy(b, p, sizeof b);
            CU_ASSERT(memcmp(p, raw, sizeof b) != 0);
            qsort(b, 784, sizeof *b, cmp_float);
            CU_ASSERT(memcmp(a, b, sizeof a) == 0);
        }
        const float *r90 = row_of(&rtr, &rte, 1, 0, item, 10, &y), *r180 = row_of(&rtr, &rte, 2, 0, item, 10, &y);
        for (int r = 0; r < 28; r++)
            for (int c = 0; c < 28; c++) {
                dev90 = fmax(dev90, fabs(r90[r * 28 + c] - raw[c * 28 + 27 - r]));
                dev180 = fmax(dev180, fabs(r180[r * 28 + c] - raw[(27 - r) * 28 + 27 - c]));
            }
        int orig = -1, same = 1;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                int map[10], c0 = -1;
                y = -1;
                row_of(&ptr, &pte, i, j, item, 10, &y);
                hs_lex_label_map(j, map);
                for (int c = 0; c < 10; c++)
                    if (map[c] == y) c0 = c;
                if (orig < 0) orig = c0;
                same &= c0 == orig;
            }
        CU_ASSERT(same);
        classes_seen |= 1 << orig;
    }
    CU_ASSERT_EQUAL(classes_seen, 1023);
    CU_ASSERT(dev90 < 1e-5 && dev180 < 1e-5);
    hs_dataset_free(&ptr), hs_dataset_free(&pte), hs_dataset_free(&rtr), hs_dataset_free(&rte);
}

/* The routing net at image size under cross-entropy (the paper's loss) on gated_perm rows of
 * three pathways: sampled weights of Win_i, Wh and Wout_j against central differences of the
 * float32 loss (the net is linear in any one weight, so the difference is exact up to rounding). */
static void test_perm_ce_gradients(void) {
    if (!have_fashion()) return;
    hs_data_opts o = {.kind = "gated_perm", .seed = 3, .per_class = 1, .modules = 3, .active = 2};
    hs_dataset tr = {0}, te = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_data_load(&o, &tr, &te, &err), HS_OK);
    const int B = (int)tr.n;
    hs_gated_opts go = {.in_dim = 784, .hidden = 8, .out_dim = 10, .modules = 3, .pathways = 6,
                        .init = HS_INIT_ORTHOGONAL, .init_scale = 1.0, .seed = 2, .max_batch = B};
    hs_model m;
    CU_ASSERT_EQUAL_FATAL(hs_model_gated(&m, &go, &err), HS_OK);
    const float *z = hs_model_forward(&m, tr.x, B, HS_MODE_TRAIN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(z);
    hs_loss_forward_backward(HS_LOSS_CE, z, tr.y, NULL, B, 10, m.dlogits, NULL);
    hs_model_backward(&m, m.dlogits, B);
    float *g = malloc(m.n_params * sizeof *g);
    memcpy(g, m.grads, m.n_params * sizeof *g);
    hs_rng r;
    hs_rng_init(&r, 4, hs_rng_stream(HS_STREAM_DATA, 2));
    double worst = 0, largest = 0;
    for (int k = 0; k < 60; k++) {
        const hs_tensor *t = &m.tensors[k % 7]; /* Win_0..2, Wh, Wout_0..2 in turn */
        const size_t q = t->offset + (size_t)hs_rng_below(&r, t->size);
        const float keep = m.params[q], h = 0.05f;
        double l[2];
        for (int s = 0; s < 2; s++) {
            m.params[q] = keep + (s ? h : -h);
            z = hs_model_forward(&m, tr.x, B, HS_MODE_EVAL);
            l[s] = hs_loss_forward_backward(HS_LOSS_CE, z, tr.y, NULL, B, 10, NULL, NULL);
        }
        m.params[q] = keep;
        const double fd = (l[1] - l[0]) / (2.0 * h);
        worst = fmax(worst, fabs(fd - g[q]) / (1e-3 + fabs(fd)));
        largest = fmax(largest, fabs(fd));
    }
    printf("\n  784-pixel rows, CE: max |analytic - fd| / (1e-3 + |fd|) = %.2g over 60 weights (max |fd| %.3g)\n",
           worst, largest);
    CU_ASSERT(worst < 0.02 && largest > 1e-3);
    free(g);
    hs_model_free(&m);
    hs_dataset_free(&tr), hs_dataset_free(&te);
}

typedef struct recount {
    const hs_dataset *test;
    int n;
    double max_dev;
} recount;

/* Wrong arg-maxes over the rows of d, counted here (first maximum, as the loss counts). */
static double error_of(hs_model *net, const hs_dataset *d) {
    long long wrong = 0;
    for (long long i = 0; i < d->n; i += net->max_batch) {
        const int nb = (int)(d->n - i < net->max_batch ? d->n - i : net->max_batch);
        const float *z = hs_model_forward(net, d->x + (size_t)i * (size_t)d->dim, nb, HS_MODE_EVAL);
        if (!z) return NAN;
        for (int r = 0; r < nb; r++) {
            int best = 0;
            for (int k = 1; k < 10; k++) best = z[r * 10 + k] > z[r * 10 + best] ? k : best;
            wrong += best != d->y[i + r];
        }
    }
    return (double)wrong / (double)d->n;
}

static hs_code recount_errors(void *ctx, const hs_record *rec, hs_model *net, const hs_dataset *train, hs_error *err) {
    (void)err;
    recount *q = ctx;
    q->max_dev = fmax(q->max_dev, fabs(error_of(net, q->test) - (1 - rec->test_acc)));
    q->max_dev = fmax(q->max_dev, fabs(error_of(net, train) - (1 - rec->train_acc)));
    q->n++;
    return HS_OK;
}

/* A short run of the laptop sweep's perm block, shrunk: the trained pathways' error falls, and
 * the recorded trained / held-out errors are the fractions of wrong arg-maxes recounted here. */
static void test_perm_end_to_end(void) {
    if (!have_fashion()) return;
    const int quick = getenv("HSWEEP_TEST_QUICK") != NULL;
    hs_train_config c;
    config_of(quick ? "base:\n"
                      "  data: {kind: gated_perm, modules: 4, active: 2, per_class: 3}\n"
                      "  model: {arch: gated, width: 16, init: orthogonal, init_scale: 1.0}\n"
                      "  train: {opt: sgd, loss: ce, lr: 0.01, epochs: 8, batch: 16}\n"
                      "  record: {every: 4, separation: none}\n"
                    : "base:\n"
                      "  data: {kind: gated_perm, modules: 4, active: 2, per_class: 3}\n"
                      "  model: {arch: gated, width: 16, init: orthogonal, init_scale: 1.0}\n"
                      "  train: {opt: sgd, loss: ce, lr: 0.01, epochs: 20, batch: 16}\n"
                      "  record: {every: 5, separation: none}\n",
              &c);
    hs_dataset tr = {0}, te = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_data_load(&c.data, &tr, &te, &err), HS_OK);
    CU_ASSERT(tr.n == 240 && te.n == 240);
    recount q = {.test = &te};
    hs_train_hooks hooks = {.ctx = &q, .on_record = recount_errors};
    hs_train_result res = {0};
    CU_ASSERT_EQUAL_FATAL(hs_train_run(&c, &tr, &te, &hooks, &res, &err), HS_OK);
    CU_ASSERT_EQUAL(res.status, HS_RUN_DONE);
    CU_ASSERT_EQUAL_FATAL(res.n_records, quick ? 3u : 5u); /* epochs 0 5 .. 20, quick: 0 4 8 */
    CU_ASSERT_EQUAL(q.n, quick ? 3 : 5);
    CU_ASSERT(q.max_dev < 1e-12);
    const hs_record *first = &res.records[0], *last = &res.records[res.n_records - 1];
    printf("\n  trained error %.3f -> %.3f, held-out %.3f -> %.3f (loss %.3f -> %.3f)\n", 1 - first->train_acc,
           1 - last->train_acc, 1 - first->test_acc, 1 - last->test_acc, first->train_loss, last->train_loss);
    CU_ASSERT(last->train_loss < 0.8 * first->train_loss);
    CU_ASSERT(1 - last->train_acc < 1 - first->train_acc - 0.2);
    hs_train_result_free(&res);
    hs_dataset_free(&tr), hs_dataset_free(&te);
    hs_train_config_free(&c);
}

int main(void) {
    const hs_test tests[] = {{"gated images: label maps and gate", test_label_maps_and_gate},
                             {"gated images: permuted and rotated rows", test_perm_and_rot_rows},
                             {"gated images: cross-entropy gradients at image size", test_perm_ce_gradients},
                             {"gated images: end to end, recorded errors recounted", test_perm_end_to_end},
                             {NULL, NULL}};
    return hs_test_main("gated_images", tests);
}
