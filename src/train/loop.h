/* loop.h - the state of one training in progress (private to train/): what train.c's loop steps,
 * resume.c saves and restores at a step boundary, and layout.c's record schedule. */
#ifndef HSWEEP_TRAIN_LOOP_H
#define HSWEEP_TRAIN_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "augment.h"
#include "checkpoint.h"
#include "hsweep/optim.h"
#include "hsweep/train.h"
#include "recorders.h"

typedef struct loop {
    const hs_train_config *c;
    const hs_dataset *train, *test;
    const hs_train_hooks *hooks;
    hs_train_result *res;
    hs_model net;
    hs_optim opt;
    int batch;       /* B: rows per step (the net's max_batch may be larger, for bn_chunk) */
    float *xb;       /* [B x dim] gathered batch */
    int32_t *yb;     /* [B] */
    float *tb;       /* [B x t_dim] gathered targets, when the loss uses them */
    train_augment aug; /* train.augment (kind HS_AUG_NONE: off) */
    long long *rec_steps; /* record.schedule steps/log: the step counts of the record points */
    size_t n_rec_steps, next_rec;
    double since_sum;     /* minibatch losses since the last record point (steps/log schedules) */
    long long since_n;
    rec_state *rec;
    uint32_t *order; /* [n] this epoch's permutation */
    size_t cap_records;
    double t0;
    float *w0;     /* [n_params] the initial parameters, for weight_change */
    float *feat;   /* features of the training set for D: one group of layers' (record_separation) */
    size_t feat_floats;
    /* checkpoints (NULL ck: none) */
    const hs_train_checkpointing *ck;
    ck_identity id;
    uint8_t w0_sha[32]; /* SHA-256 of w0, once per process */
    int have_w0_sha;
    double next_save;   /* hs_time_mono() at which the next periodic save is due */
} loop;

/* Checkpoints (resume.c): the options of L->hooks checked (L->ck stays NULL without a path); the
 * state at the step boundary before index start of epoch e's permutation, with sum the epoch's
 * loss sum so far; and the state read back (*found = 0 when the path holds no checkpoint). */
hs_code train_checkpoint_setup(loop *L, hs_error *err);
hs_code train_save_checkpoint(loop *L, long long e, size_t start, double sum, hs_error *err);
hs_code train_restore_checkpoint(loop *L, int *found, long long *e, size_t *start, double *sum, hs_error *err);

/* The step counts of the record points of the steps and log schedules, ascending, from 0 to
 * total (steps may be NULL to count them) (layout.c). */
size_t train_schedule_steps(const hs_train_config *c, long long total, long long *steps);

#endif
