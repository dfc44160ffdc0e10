/* internal.h - what train.c and preflight.c share (private to train/): the minibatch size, the
 * layout of a config on a known data shape, and the checks hs_train_run makes on the sets it is
 * handed, written on their shape so that a plan can make them before any data exists. */
#ifndef HSWEEP_TRAIN_INTERNAL_H
#define HSWEEP_TRAIN_INTERNAL_H

#include "hsweep/data.h"
#include "hsweep/models.h"
#include "hsweep/train.h"

/* The minibatch size: train.batch, or batch_per_class times the classes, at most the set. */
static inline long long hs_train_batch(const hs_train_config *c, long long n, int classes) {
    long long b = c->batch_per_class > 0 ? (long long)c->batch_per_class * classes : c->batch;
    return b < n ? b : n;
}

/* The rows the net is built for: the minibatch (batch), or the bn_chunk rows that batch-mode
 * feature extraction forwards when that is more (at most the n training rows). */
static inline int hs_train_net_rows(const hs_train_config *c, long long batch, long long n) {
    if (c->separation != HS_SEP_NONE && c->bn_record_mode == HS_MODE_BATCH && (c->arch->flags & HS_MODEL_NORM) &&
        c->model.norm == HS_NORM_BATCH) {
        long long chunk = c->bn_chunk < n ? c->bn_chunk : n;
        if (chunk > batch) batch = chunk;
    }
    return (int)batch;
}

/* hs_train_layout_of on data of shape sh (hs_train_layout_of: the config's own data options;
 * hs_train_run: the sets it was handed, which tests build by hand). */
hs_code hs_train_layout_for(const hs_train_config *c, const hs_data_shape *sh, hs_train_layout *out, hs_error *err);

/* What hs_train_run refuses on a training set and a test set of shape sh, before it builds the
 * net: an empty or malformed training set, more than 2^32 rows, a BatchNorm batch (or bn_chunk)
 * of one sample, and record requests beyond the data: record.snapshot_samples above the test
 * set, record.centroids above the test examples per leaf class, record.eval_samples above both
 * sets, record.modes above the rank of Sigma_yx, record.svd above the largest weight matrix's
 * singular values. Each such request would otherwise size its series by the request and fill
 * the rest with NaN (or, for rep_snapshot, lay the smaller snapshot out with the wrong stride). */
hs_code hs_train_check_shape(const hs_train_config *c, const hs_data_shape *sh, hs_error *err);

#endif
