/* recorders.h - the time-series recorders of one training (private to train/).
 *
 * train.c owns the loop and the scalar records; this part owns everything train.h's "time
 * series" section lists: which series a config asks for (the same function sizes the results
 * file before any training and allocates the run's arrays), the views of the training and test
 * sets a record point evaluates on (full sets, or fresh random draws of record.eval_samples),
 * and the measurements at a record point. */
#ifndef HSWEEP_TRAIN_RECORDERS_H
#define HSWEEP_TRAIN_RECORDERS_H

#include "hsweep/data.h"
#include "hsweep/nn.h"
#include "hsweep/train.h"

/* The label levels the level and centroid recorders see (0: none): the tree of hierarchy data,
 * and the same grouping of class indices for its partition control. */
int rec_levels(const hs_train_config *c);

/* The series of c, given its data's shape and its record-point count, appended to lay. */
hs_code rec_layout(const hs_train_config *c, const hs_data_shape *shape, hs_train_layout *lay, hs_error *err);

/* The values of series S for record point t (point j = t / every, or the one after at the final
 * point), marking it stored; NULL when S is NULL or does not measure at t. */
double *rec_point(hs_series *S, size_t t, int final);

/* Append the series spec to lay, its points from lay's record count and spec->every;
 * HS_ERR_LIMIT for a series too large to store, HS_ERR_INTERNAL beyond HS_TRAIN_MAX_SERIES. */
hs_code rec_add_series(hs_train_layout *lay, const hs_series_spec *spec, hs_error *err);

/* Sigma_yx = (1/n) sum_i y_i x_i^T [out x in] of d in double: y = the targets when d has them,
 * else one-hot(label); for gated rows x is the item part (the first dim - 2 columns). */
hs_code rec_sigma_yx(const hs_dataset *d, int out_dim, double **out, int *in_dim, hs_error *err);

typedef struct rec_view {
    hs_dataset d;      /* what a record point evaluates on: the set itself or a random draw */
    const hs_dataset *src;
    uint32_t *perm;    /* draws without replacement: a running partial Fisher-Yates */
    long long take;    /* rows per draw, 0 = the whole set */
} rec_view;

typedef struct rec_state rec_state;

/* Allocate every enabled recorder for net on (train, test); res->series gets lay's series. */
hs_code rec_init(rec_state **out, const hs_train_config *c, const hs_train_layout *lay, hs_model *net,
                 const hs_dataset *train, const hs_dataset *test, hs_train_result *res, hs_error *err);
void rec_free(rec_state *R);

/* The views of record point t (fresh draws when record.eval_samples asks for them). */
void rec_views(rec_state *R, size_t t, const hs_dataset **train, const hs_dataset **test);

/* Loss and accuracy of net on d in eval mode, and, when the data has a label hierarchy, the
 * per-level series of record point t (level_acc, level_acc_prob, level_loss). Accuracy with one
 * output (real targets): the sign of the output against the sign of the target. */
void rec_evaluate(rec_state *R, hs_model *net, const hs_dataset *d, hs_loss loss, int levels_at, size_t t,
                  double *mean_loss, double *accuracy);

/* Every other series at record point t (final: the last point, where snapshots are taken too). */
hs_code rec_measure(rec_state *R, hs_model *net, size_t t, int final, hs_error *err);

/* The recorders' history, which a checkpoint must carry: the running permutation of the
 * record.eval_samples draws from the training set (test = 0) or the test set (test = 1), *n
 * entries (0 and NULL when that set is evaluated whole). Each draw continues the permutation the
 * draws before it left, so it depends on how many record points came before; everything else
 * the recorders keep is a function of the config and the data (rebuilt by rec_init) or scratch
 * that a record point fills before reading. */
uint32_t *rec_draws(rec_state *R, int test, size_t *n);

#endif
