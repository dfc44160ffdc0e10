/* test_models.c - the model-kind registry (models.h): every model.arch choice of the schema is a
 * registered kind and back, unknown names fail with a hint, the train header's descriptions, the
 * cost model's multiply-adds on a hand-computed case, and forward/backward of nets built through
 * the registry against central finite differences (mlp and gated), parameter counts against the
 * built nets, and a run's memory floor. */
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config_of.h"
#include "hsweep/models.h"
#include "hsweep/schema.h"
#include "hsweep/util.h"
#include "testing.h"

static void test_lookup(void) {
    size_t n = 0;
    const hs_model_kind *const *all = hs_model_kinds(&n);
    CU_ASSERT_EQUAL(n, 13);
    const char *names[] = {"mlp",      "cnn",       "lcn",      "fcn",       "kernel",    "gated",     "vgg11",
                           "vgg16",    "resnet18",  "resnet34", "effnet_b0", "vgg13_es",  "alexnet_es"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const hs_model_kind *k = NULL;
        hs_error err = {0};
        CU_ASSERT_EQUAL(hs_model_kind_find(names[i], &k, &err), HS_OK);
        CU_ASSERT_PTR_NOT_NULL_FATAL(k);
        CU_ASSERT_STRING_EQUAL(k->name, names[i]);
        CU_ASSERT(hs_model_kind_is(k, names[i]));
        CU_ASSERT_PTR_NOT_NULL(k->describe);
        CU_ASSERT_PTR_NOT_NULL(k->create);
        CU_ASSERT_PTR_NOT_NULL(k->layers);
        CU_ASSERT_PTR_NOT_NULL(k->weights);
        CU_ASSERT((k->flags & HS_MODEL_SOLVED) ? k->flags != 0 && k->flops != NULL : k->macs != NULL);
    }
    CU_ASSERT(hs_model_kind_lookup("kernel")->flags & HS_MODEL_SOLVED);
    CU_ASSERT(!(hs_model_kind_lookup("mlp")->flags & HS_MODEL_SOLVED));
    /* the schema's choices of model.arch are the registry's names, in order */
    const hs_key *key = hs_schema_key((size_t)hs_schema_find("model.arch"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(key);
    char joined[256] = "";
    for (size_t i = 0; i < n; i++) {
        if (i) strcat(joined, "|");
        strcat(joined, all[i]->name);
    }
    CU_ASSERT_STRING_EQUAL(key->choices, joined);
}

static void test_unknown(void) {
    const hs_model_kind *k = (const hs_model_kind *)1;
    hs_error err = {0};
    CU_ASSERT_EQUAL(hs_model_kind_find("gatd", &k, &err), HS_ERR_VALUE);
    CU_ASSERT_PTR_NULL(k);
    HS_ASSERT_CONTAINS(err.msg, "unknown model kind 'gatd'");
    HS_ASSERT_CONTAINS(err.hint, "did you mean 'gated'?");
    HS_ASSERT_CONTAINS(err.hint, "mlp, cnn, lcn, fcn, kernel, gated");
    hs_error err2 = {0};
    CU_ASSERT_EQUAL(hs_model_kind_find("transformer", &k, &err2), HS_ERR_VALUE);
    HS_ASSERT_CONTAINS(err2.hint, "the model kinds: mlp");
    CU_ASSERT_PTR_NULL(hs_model_kind_lookup(NULL));
}

static const char *gaussian = "base:\n  data: {kind: gaussian, dim: 8, classes: 4, per_class: 10, n_test: 8}\n"
                              "  model: {arch: mlp, widths: [5, 6], norm: none, act: tanh}\n"
                              "  train: {loss: ce, batch: 40, epochs: 1}\n  record: {separation: none}\n";
static const char *gated = "base:\n  data: {kind: gated_toy, modules: 3, active: 2}\n"
                           "  model: {arch: gated, width: 16, init: orthogonal, init_scale: 0.5}\n"
                           "  train: {loss: mse, batch: 8, epochs: 1}\n  record: {separation: none}\n";

/* The parameter count of c's net as its kind builds it on c's data, checked against the kind's
 * own count on the data's shape (sh). */
static void check_built_params(const hs_train_config *c, const hs_data_shape *sh, long long want) {
    hs_error err = {0};
    CU_ASSERT_PTR_NOT_NULL_FATAL(c->arch->params);
    CU_ASSERT_EQUAL(c->arch->params(c, sh), want);
    hs_dataset train = {0}, test = {0};
    CU_ASSERT_EQUAL_FATAL(hs_data_load(&c->data, &train, &test, &err), HS_OK);
    hs_model m;
    CU_ASSERT_EQUAL_FATAL(c->arch->create(&m, c, &train, 4, &err), HS_OK);
    CU_ASSERT_EQUAL((long long)m.n_params, want);
    hs_model_free(&m);
    hs_dataset_free(&train), hs_dataset_free(&test);
}

static void test_describe_and_macs(void) {
    hs_train_config c;
    char line[128];
    config_of(gaussian, &c);
    c.arch->describe(&c, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, "2 hidden layers");
    hs_data_shape sh;
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_data_shape_of(&c.data, &sh, &err), HS_OK);
    /* 8 -> 5 -> 6 -> 4: 40 + 30 + 24 multiply-adds per sample */
    CU_ASSERT_DOUBLE_EQUAL(c.arch->macs(&c, &sh), 94.0, 0);
    CU_ASSERT_EQUAL(c.arch->layers(&c), 3);
    hs_train_config_free(&c);

    config_of(gated, &c);
    c.arch->describe(&c, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, "gated, width 16");
    CU_ASSERT_EQUAL_FATAL(hs_data_shape_of(&c.data, &sh, &err), HS_OK);
    /* one pathway per row: H in + H H + out H */
    double in = sh.dim - 2, out = sh.t_dim;
    CU_ASSERT_DOUBLE_EQUAL(c.arch->macs(&c, &sh), 16 * in + 16 * 16 + out * 16, 0);
    CU_ASSERT_EQUAL(c.arch->layers(&c), 2);
    hs_train_config_free(&c);

    config_of("base:\n  data: {kind: srhm, v: 4, n_c: 4, m: 2, s: 2, L: 2, s0: 0, n_train: 16}\n"
              "  model: {arch: cnn, width: 8}\n  record: {separation: none}\n", &c);
    c.arch->describe(&c, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, "cnn, width 8");
    CU_ASSERT_EQUAL_FATAL(hs_data_shape_of(&c.data, &sh, &err), HS_OK);
    /* 4 channels x 4 positions, filter 2: layer 0 2 x 8 x 4 x 2 = 128, layer 1 1 x 8 x 8 x 2 = 128,
     * readout 8 x 4 = 32 */
    CU_ASSERT_DOUBLE_EQUAL(c.arch->macs(&c, &sh), 288.0, 0);
    hs_train_config_free(&c);

    /* Parameters on the same data: weights, a bias per output unit (the CNN's too), readout 8 x 4.
     *   cnn: 8 x (2 x 4) + 2 x 8, then 8 x (2 x 8) + 8, + 32 = 248
     *   lcn: per position: 2 x 8 x 8 + 16, then 1 x 8 x 16 + 8, + 32 = 312
     *   fcn: 16 -> 16 units: 256 + 16, 16 -> 8: 128 + 8, + 32 = 440
     * and each equals the built net's count. */
    const char *arch[3] = {"cnn", "lcn", "fcn"};
    const long long want[3] = {248, 312, 440};
    for (int a = 0; a < 3; a++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml,
                 "base:\n  data: {kind: srhm, v: 4, n_c: 4, m: 2, s: 2, L: 2, s0: 0, n_train: 16}\n"
                 "  model: {arch: %s, width: 8}\n  record: {separation: none}\n", arch[a]);
        config_of(yaml, &c);
        CU_ASSERT_EQUAL_FATAL(hs_data_shape_of(&c.data, &sh, &err), HS_OK);
        check_built_params(&c, &sh, want[a]);
        hs_train_config_free(&c);
    }
}

/* The parameter counts of the kinds without a conv layout, each equal to the built net's, and the
 * memory floor of a run (train.h) on a hand-computed case. */
static void test_params_and_memory(void) {
    /* gaussian 8 -> 5 -> 6 -> 4 with biases: 40 + 5 + 30 + 6 + 24 + 4 = 109; BatchNorm on the two
     * hidden layers adds gamma and beta: 2 x (5 + 6) = 22 more */
    const char *yaml[2] = {gaussian, "base:\n  data: {kind: gaussian, dim: 8, classes: 4, per_class: 10, n_test: 8}\n"
                                     "  model: {arch: mlp, widths: [5, 6], norm: batch}\n"
                                     "  train: {loss: ce, batch: 40, epochs: 1, opt: adam}\n  record: {separation: none}\n"};
    const long long want[2] = {109, 131};
    for (int i = 0; i < 2; i++) {
        hs_train_config c;
        hs_data_shape sh;
        hs_error err = {0};
        config_of(yaml[i], &c);
        CU_ASSERT_EQUAL_FATAL(hs_data_shape_of(&c.data, &sh, &err), HS_OK);
        check_built_params(&c, &sh, want[i]);
        /* A kind that does not say what its net takes: 40 training + 8 test rows of 8 floats and a
         * label (48 x 36 = 1728 bytes), the parameters and their gradients: plain sgd keeps no
         * state (109 x 4 x 2 = 872), adam two more copies (131 x 4 x 4 = 2096) */
        hs_model_kind silent = *c.arch;
        silent.bytes = NULL;
        const hs_model_kind *own = c.arch;
        c.arch = &silent;
        CU_ASSERT_DOUBLE_EQUAL(hs_train_memory_floor(&c, &sh, 1), i == 0 ? 1728 + 872 : 1728 + 2096, 0);
        c.optim.kind = HS_OPT_MOMENTUM; /* one copy of state: 4 bytes a parameter more */
        CU_ASSERT_DOUBLE_EQUAL(hs_train_memory_floor(&c, &sh, 1), i == 0 ? 1728 + 1308 : 1728 + 1572, 0);
        c.arch = own;
        hs_train_config_free(&c);
    }
    /* gated: M input modules H x in, the shared H x H, M output modules out x H, no biases */
    hs_train_config c;
    hs_data_shape sh;
    hs_error err = {0};
    config_of(gated, &c);
    CU_ASSERT_EQUAL_FATAL(hs_data_shape_of(&c.data, &sh, &err), HS_OK);
    const long long M = sh.modules, in = sh.dim - 2, out = sh.t_dim;
    CU_ASSERT_EQUAL(M, 3);
    check_built_params(&c, &sh, M * 16 * in + 16 * 16 + M * out * 16);
    hs_train_config_free(&c);
}

#if defined(__SANITIZE_ADDRESS__)
#define HS_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HS_TEST_ASAN 1
#endif
#endif

/* The bytes a kind says its net takes (models.h `bytes`) against what building it allocates: the
 * one large block comes from mmap, glibc's (whose count of mmapped bytes grows by it, rounded up
 * to pages; not under ASan, whose allocator glibc does not see) or, from 2 MB on, hs_map_zeroed's
 * (hs_mapped_bytes). And the memory floor of such a run is its data, that net and the
 * optimiser's state. */
static void test_net_bytes(void) {
    const char *yaml[4] = {"base:\n  data: {kind: srhm, v: 4, n_c: 4, m: 2, s: 2, L: 2, s0: 0, n_train: 16}\n"
                           "  model: {arch: lcn, width: 64}\n  train: {opt: momentum}\n  record: {separation: none}\n",
                           "base:\n  data: {kind: cfm, per_class: 2, n_test: 10}\n  model: {arch: resnet18, width_mult: 0.25}\n"
                           "  train: {batch: 20, opt: adam}\n  record: {separation: none}\n",
                           gaussian, gated};
    /* the batch: train.batch (128) at most the 16 samples; 20; 40; 8 */
    const int rows[4] = {16, 20, 40, 8}, state[4] = {1, 2, 0, 0};
    for (int i = 0; i < 4; i++) {
        hs_train_config c;
        hs_data_shape sh;
        hs_error err = {0};
        config_of(yaml[i], &c);
        CU_ASSERT_EQUAL_FATAL(hs_data_shape_of(&c.data, &sh, &err), HS_OK);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c.arch->bytes);
        const long long np = c.arch->params(&c, &sh);
        const double small = c.arch->bytes(&c, &sh, rows[i]), big = c.arch->bytes(&c, &sh, 64 * rows[i]);
        CU_ASSERT(small >= 8.0 * (double)np); /* values and gradients at least */
        CU_ASSERT(big > small);               /* activations grow with the rows */
        hs_dataset train = {0}, test = {0};
        CU_ASSERT_EQUAL_FATAL(hs_data_load(&c.data, &train, &test, &err), HS_OK);
#if !defined(HS_TEST_ASAN)
        mallopt(M_MMAP_THRESHOLD, 128 * 1024); /* fixed: a freed large block would raise it */
        struct mallinfo2 before = mallinfo2();
        const size_t mapped = hs_mapped_bytes();
        hs_model m;
        CU_ASSERT_EQUAL_FATAL(c.arch->create(&m, &c, &train, 64 * rows[i], &err), HS_OK);
        const double grew = (double)(mallinfo2().hblkhd - before.hblkhd) + (double)(hs_mapped_bytes() - mapped);
        CU_ASSERT(big >= 128 * 1024); /* large enough for mmap */
        CU_ASSERT(grew >= big && grew <= big + 4096 + 128); /* a page, a chunk header and alignment */
        if (!(grew >= big && grew <= big + 4096 + 128))
            fprintf(stderr, "\n  %s: %.0f bytes said, %.0f mmapped\n", c.arch->name, big, grew);
        hs_model_free(&m);
#endif
        const double data = (double)(sh.n_train + sh.n_test) * (4.0 * sh.dim + 4.0 * sh.t_dim + 4.0);
        CU_ASSERT_DOUBLE_EQUAL(hs_train_memory_floor(&c, &sh, 1), data + small + 4.0 * (double)np * state[i], 0);
        hs_dataset_free(&train), hs_dataset_free(&test);
        hs_train_config_free(&c);
    }
}

/* Loss of the net on the first B rows of d. */
static double loss_of(hs_model *m, const hs_train_config *c, const hs_dataset *d, int B, float *dlogits) {
    const float *logits = hs_model_forward(m, d->x, B, HS_MODE_TRAIN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(logits);
    const float *t = c->loss == HS_LOSS_MSE && d->t ? d->t : NULL;
    return hs_loss_forward_backward(c->loss, logits, d->y, t, B, m->out_dim, dlogits, NULL);
}

static void check_gradients(const char *yaml) {
    hs_train_config c;
    config_of(yaml, &c);
    hs_dataset train = {0}, test = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_data_load(&c.data, &train, &test, &err), HS_OK);
    hs_model m;
    int B = train.n < 8 ? (int)train.n : 8;
    CU_ASSERT_EQUAL_FATAL(c.arch->create(&m, &c, &train, B, &err), HS_OK);
    loss_of(&m, &c, &train, B, m.dlogits);
    hs_model_backward(&m, m.dlogits, B);
    float *g = malloc(m.n_params * sizeof *g);
    memcpy(g, m.grads, m.n_params * sizeof *g);
    double worst = 0;
    size_t step = m.n_params / 40 + 1;
    for (size_t i = 0; i < m.n_params; i += step) {
        const float keep = m.params[i], h = 1e-2f;
        m.params[i] = keep + h;
        double up = loss_of(&m, &c, &train, B, NULL);
        m.params[i] = keep - h;
        double down = loss_of(&m, &c, &train, B, NULL);
        m.params[i] = keep;
        double fd = (up - down) / (2.0 * h), e = fabs(fd - g[i]) / (fabs(fd) + fabs(g[i]) + 1e-3);
        if (e > worst) worst = e;
    }
    if (worst >= 2e-2) fprintf(stderr, "\n  %s: worst relative gradient error %g\n", c.arch->name, worst);
    CU_ASSERT(worst < 2e-2);
    free(g);
    hs_model_free(&m);
    hs_dataset_free(&train);
    hs_dataset_free(&test);
    hs_train_config_free(&c);
}

static void test_gradients_mlp(void) { check_gradients(gaussian); }
static void test_gradients_gated(void) { check_gradients(gated); }

static void test_kernel_refuses(void) {
    hs_train_config c;
    config_of("base:\n  data: {kind: gaussian, dim: 4, classes: 2, per_class: 4, n_test: 4}\n"
              "  model: {arch: kernel}\n  record: {separation: none}\n", &c);
    hs_dataset train = {0}, test = {0};
    hs_error err = {0};
    CU_ASSERT_EQUAL_FATAL(hs_data_load(&c.data, &train, &test, &err), HS_OK);
    hs_model m = {0};
    CU_ASSERT_EQUAL(c.arch->create(&m, &c, &train, 4, &err), HS_ERR_USAGE);
    HS_ASSERT_CONTAINS(err.msg, "solved on all ranks together");
    /* its memory floor: 8 training + 4 test rows of 4 floats and a label (12 x 20 = 240 bytes) on
     * every rank, the 8 x 8 kernel matrix in double (512 bytes) shared by the ranks */
    hs_data_shape sh;
    CU_ASSERT_EQUAL_FATAL(hs_data_shape_of(&c.data, &sh, &err), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(hs_train_memory_floor(&c, &sh, 1), 240 + 512, 0);
    CU_ASSERT_DOUBLE_EQUAL(hs_train_memory_floor(&c, &sh, 4), 240 + 128, 0);
    hs_dataset_free(&train);
    hs_dataset_free(&test);
    hs_train_config_free(&c);
}

int main(void) {
    const hs_test tests[] = {{"every kind by name; the schema's choices agree", test_lookup},
                             {"unknown kind: error with a hint", test_unknown},
                             {"describe and macs", test_describe_and_macs},
                             {"parameter counts and the memory floor", test_params_and_memory},
                             {"the bytes of a net as built", test_net_bytes},
                             {"mlp through the registry: gradients", test_gradients_mlp},
                             {"gated through the registry: gradients", test_gradients_gated},
                             {"kernel is solved, not built; its memory is shared", test_kernel_refuses},
                             {NULL, NULL}};
    return hs_test_main("models", tests);
}
