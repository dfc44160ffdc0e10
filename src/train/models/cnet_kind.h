/* cnet_kind.h - what the model kinds of the deep conv nets (vgg.c, resnet.c, effnet.c) share: the
 * bridge from a run's config and its data's shape to the nets of nets.h. Each family file binds
 * these to its architectures with CNET_KIND. */
#ifndef HSWEEP_TRAIN_MODELS_CNET_KIND_H
#define HSWEEP_TRAIN_MODELS_CNET_KIND_H

#include "hsweep/models.h"
#include "hsweep/nets.h"

void cnet_kind_describe(const hs_cnet_arch *a, const hs_train_config *c, char *buf, size_t size);
hs_code cnet_kind_check(const hs_cnet_arch *a, const hs_train_config *c, const hs_data_shape *sh, hs_error *err);
hs_code cnet_kind_create(const hs_cnet_arch *a, hs_model *m, const hs_train_config *c, const hs_dataset *train,
                         int max_batch, hs_error *err);
int cnet_kind_weights(const hs_cnet_arch *a, const hs_train_config *c, const hs_data_shape *sh, int out, int *rows,
                      int *cols, int cap);
int cnet_kind_svd_rank(const hs_cnet_arch *a, const hs_train_config *c, const hs_data_shape *sh, int out);
double cnet_kind_macs(const hs_cnet_arch *a, const hs_train_config *c, const hs_data_shape *sh);
long long cnet_kind_params(const hs_cnet_arch *a, const hs_train_config *c, const hs_data_shape *sh);
double cnet_kind_bytes(const hs_cnet_arch *a, const hs_train_config *c, const hs_data_shape *sh, int max_batch);

/* The registry entry hs_model_kind_<id> of architecture arch. The measured layers are the input
 * and the architecture's nodes (nets.h). */
#define CNET_KIND(id, arch, text)                                                                                    \
    static void id##_describe(const hs_train_config *c, char *buf, size_t size) {                                   \
        cnet_kind_describe(&(arch), c, buf, size);                                                                  \
    }                                                                                                                \
    static hs_code id##_check(const hs_train_config *c, const hs_data_shape *sh, hs_error *err) {                   \
        return cnet_kind_check(&(arch), c, sh, err);                                                                \
    }                                                                                                                \
    static hs_code id##_create(hs_model *m, const hs_train_config *c, const hs_dataset *train, int max_batch,       \
                               hs_error *err) {                                                                     \
        return cnet_kind_create(&(arch), m, c, train, max_batch, err);                                              \
    }                                                                                                                \
    static size_t id##_layers(const hs_train_config *c) {                                                           \
        (void)c;                                                                                                     \
        return (size_t)(arch).nodes + 1;                                                                             \
    }                                                                                                                \
    static int id##_weights(const hs_train_config *c, const hs_data_shape *sh, int out, int *rows, int *cols,       \
                            int cap) {                                                                               \
        return cnet_kind_weights(&(arch), c, sh, out, rows, cols, cap);                                             \
    }                                                                                                                \
    static int id##_svd_rank(const hs_train_config *c, const hs_data_shape *sh, int out) {                          \
        return cnet_kind_svd_rank(&(arch), c, sh, out);                                                             \
    }                                                                                                                \
    static double id##_macs(const hs_train_config *c, const hs_data_shape *sh) {                                    \
        return cnet_kind_macs(&(arch), c, sh);                                                                      \
    }                                                                                                                \
    static long long id##_params(const hs_train_config *c, const hs_data_shape *sh) {                               \
        return cnet_kind_params(&(arch), c, sh);                                                                    \
    }                                                                                                                \
    static double id##_bytes(const hs_train_config *c, const hs_data_shape *sh, int max_batch) {                   \
        return cnet_kind_bytes(&(arch), c, sh, max_batch);                                                          \
    }                                                                                                                \
    const hs_model_kind hs_model_kind_##id = {.name = #id, .summary = text, .flags = HS_MODEL_NORM,                 \
                                              .describe = id##_describe, .check = id##_check,                       \
                                              .create = id##_create, .layers = id##_layers,                         \
                                              .weights = id##_weights, .svd_rank = id##_svd_rank,                   \
                                              .macs = id##_macs, .params = id##_params, .bytes = id##_bytes}

#endif
