/* augment.h - seeded data augmentation of a gathered minibatch (private to train/): random crops
 * and left-right flips of images, torchvision's RandomCrop(padding) + RandomHorizontalFlip, the
 * augmentation of the CIFAR-style protocols. What a step sees is a pure function of (seed, epoch, position in the
 * epoch's permutation), so a resumed run draws the same crops and flips as one that never stopped,
 * and the minibatch order (HS_STREAM_BATCH) is untouched by turning augmentation on. */
#ifndef HSWEEP_TRAIN_AUGMENT_H
#define HSWEEP_TRAIN_AUGMENT_H

#include <stddef.h>

#include "hsweep/data.h"
#include "hsweep/train.h"

typedef struct train_augment {
    int kind;      /* HS_AUG_* of train.h; HS_AUG_NONE: aug_apply does nothing */
    int pad;       /* crop padding in pixels */
    int C, H, W;   /* image layout of a row */
    float *fill;   /* [C] the padding value per channel */
    float *row;    /* [C x H x W] scratch */
} train_augment;

/* Check c's augmentation against the training set (an image layout with H, W >= 2) and prepare
 * it. The padding value of a channel is its smallest value in the training set: the normalised
 * black that torchvision's RandomCrop pads with before Normalize. HS_ERR_VALUE naming
 * train.augment for data without an image layout, HS_ERR_NOMEM. */
hs_code aug_init(train_augment *a, const hs_train_config *c, const hs_dataset *train, hs_error *err);
void aug_free(train_augment *a); /* safe on a zeroed struct */

/* Augment rows 0..b-1 of xb [b x C*H*W] in place: row r is the sample at index start + r of
 * epoch e's permutation, and its crop offsets and flip come from hs_rng stream (HS_STREAM_AUGMENT,
 * e) of seed at word 4 (start + r) (one word each for dy, dx, flip; one spare). torchvision's order:
 * pad by `pad` and crop H x W at (dy, dx) in 0..2 pad, then flip left-right with probability 1/2. */
void aug_apply(const train_augment *a, float *xb, int b, uint64_t seed, long long e, size_t start);

#endif
