/*
 * train.h - one training: a resolved config, its data, its net, its optimiser, and the records
 * it leaves behind. Everything a sweep does per run happens here; the scheduler above only
 * decides which run goes where.
 *
 *     hs_train_config cfg;
 *     HS_TRY(err, hs_train_config_from_plan(plan, r, &cfg, err));   // typed view of run r
 *     hs_dataset train = {0}, test = {0};
 *     HS_TRY(err, hs_data_load(&cfg.data, &train, &test, err));
 *     hs_train_result res = {0};
 *     HS_TRY(err, hs_train_run(&cfg, &train, &test, NULL, &res, err));
 *     // res.status == HS_RUN_DONE (or HS_RUN_DIVERGED with res.message), res.records[0..n)
 *     hs_train_result_free(&res); hs_dataset_free(&train); hs_dataset_free(&test);
 *     hs_train_config_free(&cfg);
 *
 * Determinism: initialisation uses `seed` (stream HS_STREAM_INIT, dense layer), the minibatch
 * order of epoch e uses `seed` (stream HS_STREAM_BATCH, e), the data uses `data.seed`. Nothing
 * depends on the rank, the thread count or what ran before in the same process, so the same run
 * gives bit-identical parameters and records anywhere OpenBLAS picks the same kernels (same CPU
 * family, one thread).
 *
 * Denormal floats are flushed to zero while a training runs (x86 FTZ/DAZ): vanishing gradients
 * otherwise make deep unnormalised nets 10-100x slower, and no training depends on values below
 * 1.2e-38. The caller's floating-point mode is restored on return.
 *
 * A training that goes wrong numerically (non-finite loss) is a result, not an error: the run
 * stops with status HS_RUN_DIVERGED and its records so far. Errors (bad config, no memory) are
 * returned as hs_code.
 *
 * A training can be saved to a checkpoint file at a step boundary and continued in another
 * process, with a result bit-identical to an uninterrupted run's (see "checkpoints" below).
 */
#ifndef HSWEEP_TRAIN_H
#define HSWEEP_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "hsweep/data.h"
#include "hsweep/nn.h"
#include "hsweep/optim.h"
#include "hsweep/plan.h"
#include "hsweep/status.h"

/* ================================================================ the config of one run */

typedef enum hs_sep_when { HS_SEP_NONE, HS_SEP_FINAL, HS_SEP_EVERY } hs_sep_when;
/* model.arch: an entry of the model-kind registry (models.h) */
typedef struct hs_model_kind hs_model_kind;
typedef enum hs_rec_schedule { HS_REC_EPOCHS, HS_REC_STEPS, HS_REC_LOG } hs_rec_schedule;

/* train.decay_on: which tensors weight decay applies to, and how.
 *   ALL:     every tensor, coefficient wd (PyTorch's weight_decay);
 *   WEIGHTS: weight matrices only (biases and BatchNorm parameters exempt);
 *   MEAN:    every tensor t, as the loss term wd * mean(p_t^2) (the SRHM authors' L2 penalty): the
 *            gradient term is 2 wd p / numel(t), i.e. weight decay 2 wd / numel(t) per tensor. */
enum { HS_DECAY_ALL, HS_DECAY_WEIGHTS, HS_DECAY_MEAN };
/* train.augment: seeded crops (padding train.crop_pad) and left-right flips of image rows. */
enum { HS_AUG_NONE, HS_AUG_CROP, HS_AUG_FLIP, HS_AUG_CROP_FLIP };

typedef struct hs_train_config {
    uint64_t seed, data_seed;
    hs_data_opts data;
    const hs_model_kind *arch; /* model.arch (models.h): what builds, describes and costs the net */
    hs_mlp_opts model;      /* mlp; in_dim/out_dim are filled from the data by hs_train_run */
    int filter, width;      /* cnn/lcn/fcn: filter = stride S (from the data when 0), width H; their
                               depth is log_S of the input's positions (the hierarchy's L) */
    double width_mult;      /* vgg/resnet/effnet: multiplier of every channel count (nets.h) */
    double dropout;         /* vgg/resnet/effnet: dropout before the readout; -1 = the architecture's */
    double drop_connect;    /* effnet: drop-path rate of the last residual branch (0: none) */
    /* kernel (solved by the scheduler on all ranks, not by hs_train_run): the values of
     * hs_kernel_opts (kernel.h), kept here as plain fields so train/ needs no MPI */
    int kernel_kind;        /* 0 laplace, 1 gaussian, 2 ntk (hs_kernel_kind) */
    double kernel_sigma, ridge;
    int ntk_depth, kernel_block;
    hs_optim_opts optim;
    hs_schedule schedule;
    double weight_decay;
    int decay_on;           /* train.decay_on: HS_DECAY_ALL, HS_DECAY_WEIGHTS or HS_DECAY_MEAN */
    int augment;            /* train.augment: HS_AUG_* (images only) */
    int crop_pad;           /* train.crop_pad: padding of the random crops, pixels */
    hs_loss loss;
    long long epochs;
    int batch;
    int batch_per_class;    /* train.batch_per_class: > 0 overrides batch (times the classes) */
    double stop_loss;       /* train.stop_loss: 0 = off */
    int record_every;
    /* record.schedule: epochs (every record_every epochs), steps (every record_every_steps
     * optimiser steps), log (record_log_points log-spaced steps); point 0 and the end always */
    int record_schedule;    /* HS_REC_EPOCHS, HS_REC_STEPS, HS_REC_LOG */
    long long record_every_steps;
    int record_log_points;
    long long eval_samples;  /* record.eval_samples: > 0 = train/test metrics on fresh random draws of this many */
    int centroids;           /* record.centroids: held-out examples per leaf class for centroid metrics (0 off) */
    int snapshot_every;      /* record.snapshot_every: record points between snapshots (0 off) */
    int snapshot_samples;    /* record.snapshot_samples: examples per representation snapshot (0 off) */
    int neighbours;          /* record.neighbours: examples per record point of series neigh_rep (0 off) */
    int neighbours_pool;     /* record.neighbours_pool: pool of test examples per class they are drawn from */
    int neighbours_rep;      /* record.neighbours_rep: which representation (reps numbered as center_gap's) */
    int weight_snapshots;    /* record.weight_snapshots: first-layer and readout weights at snapshots */
    int grad_norms;          /* record.grad_norms */
    int svd;                 /* record.svd: top singular values per weight matrix (0 off) */
    int modes;               /* record.modes: strengths of the top singular modes of Sigma_yx (0 off) */
    hs_sep_when separation; /* record.separation (measured by the recorders, recorders.h) */
    hs_mode bn_record_mode; /* record.bn_mode: HS_MODE_EVAL or HS_MODE_BATCH */
    int bn_chunk;
    int sep_paper_weighting; /* record.separation_weighting: paper (else balanced) */
    int sensitivity;         /* record.sensitivity: reference samples per class of the SRHM probes (0 off) */
    int stability;           /* record.stability: test images of the relative-stability probe (0 off) */
    int diffeo_c;            /* record.diffeo_c: the diffeomorphisms' cutoff c */
    double diffeo_T;         /* record.diffeo_T: their temperature; 0 = sqrt(T_min T_max) */
    /* owned storage behind the pointers above */
    int *widths_;
    double *scales_;
    long long *class_counts_, *drops_;
    char *path_;
} hs_train_config;

/* Typed view of a resolved config (cfg[k] = value of schema key k, as hs_plan_value gives). */
hs_code hs_train_config_from_values(const hs_value *const *cfg, hs_train_config *out, hs_error *err);
hs_code hs_train_config_from_plan(const hs_plan *plan, size_t r, hs_train_config *out, hs_error *err);
void hs_train_config_free(hs_train_config *c); /* safe on a zeroed struct */

/* ================================================================ records */

/* One record point: after `epoch` completed epochs (0 = the initialised net). Losses and
 * accuracies over the full training set and the test set are measured in eval mode (BN running
 * statistics), accuracies as fractions in [0, 1]. */
typedef struct hs_record {
    long long epoch;
    long long step;         /* optimiser steps so far */
    double lr;              /* learning rate of the last epoch (the initial one at epoch 0) */
    double epoch_loss;      /* mean minibatch loss during the last epoch (NaN at epoch 0) */
    double train_loss, train_acc;
    double test_loss, test_acc;
    double seconds;         /* wall time since the training started */
} hs_record;

/* Names of the hs_record fields, in order, as stored in files ("epoch", "step", "lr", ...). */
#define HS_RECORD_FIELDS 9
extern const char *const hs_record_field_names[HS_RECORD_FIELDS];
/* Field i of a record as a double. */
double hs_record_field(const hs_record *r, int i);

/* Per-layer quantities at record points, layer index l = 0 .. n_hidden (n_hidden + 1 layers):
 *   separation, separation_rank, separation_cond: separation fuzziness D of the layer-l features
 *       on the training set (l = 0: the preprocessed input; l >= 1: hidden block l's output,
 *       post-activation), with the rank and condition number of the between-class matrix;
 *       measured at the record points record.separation asks for, NaN elsewhere;
 *   weight_norm, weight_change: |W_l|_F and |W_l - W_l(0)|_F / |W_l(0)|_F of dense layer l
 *       (l = n_hidden: the readout), at every record point. */
#define HS_LAYER_FIELDS 5
extern const char *const hs_layer_field_names[HS_LAYER_FIELDS];

typedef enum hs_run_status { HS_RUN_DONE, HS_RUN_DIVERGED, HS_RUN_STOPPED } hs_run_status;
const char *hs_run_status_to_string(hs_run_status s); /* "done", "diverged", "stopped" */

/* ================================================================ time series
 * Everything a recorder measures beyond the scalar records and the per-layer table: named arrays
 * of a fixed shape per record point (e.g. accuracy per tree level [levels], centroid Gram
 * matrices [reps x K x K]). A series is measured at the record points t with t % every == 0 and
 * at the last record point, and kept compactly: point j holds record point point[j]
 * (= j * every, except the last). Its shape, like the number of record points, follows from the
 * config alone (hs_train_layout), so a sweep sizes its results file before any training. */
/*
 * The series the recorders write (name [per-point shape] axes: meaning):
 *   level_acc      [V]          level:  test accuracy at tree level l (0 = leaves, V-1 = coarsest):
 *                                       the predicted leaf mapped to its level-l ancestor
 *   level_loss     [V]          level:  test cross-entropy at level l (softmax probabilities summed
 *                                       over each level-l class)
 *   center_gap     [R x V]      rep,level: mean cosine distance between centroids of cousin classes
 *                                       minus that of sibling classes at level l (NaN at the top)
 *   centroid_gram  [R x K x K]  rep,class,class: inner products of the leaf-class centroids of the
 *                                       held-out examples (snapshot points only); coarse centroids
 *                                       are means of leaf centroids, so every level follows from it
 *     reps (R = 2 n_hidden + 2): 0 the input, 2l+1 the Linear output of hidden layer l (before
 *     norm and activation), 2l+2 its block output, R-1 the logits
 *   rep_snapshot   [R x S x Wmax] rep,sample,unit: representations of S fixed held-out examples
 *   rep_labels     [S]          sample: their leaf labels
 *   neigh_rep      [S x W]      sample,unit: representation record.neighbours_rep of S test examples
 *                                       drawn afresh at each point from a fixed pool (record.neighbours)
 *   neigh_rows     [S]          sample: their test-set rows
 *   neigh_labels   [S]          sample: their leaf labels
 *   grad_norm      [D]          dense:  |dLoss/dW_l|_F of the last minibatch before the point
 *   singular_values [T x k]     tensor,index: top-k singular values of every weight matrix
 *                                       (tensor order of the model; the gated net: inputs, hidden,
 *                                       outputs)
 *   mode_strength  [k]          mode:   u_a^T W_total v_a for the top-k singular modes of
 *                                       Sigma_yx = (1/n) sum y x^T of the training set (linear nets)
 *   mode_svals     [k]          mode:   the singular values s_a of Sigma_yx
 *   weights_first  [H x in]     unit,input: first dense layer's weights (snapshot points)
 *   weights_last   [out x H]    output,unit: readout weights (snapshot points)
 *   sensitivity_S  [K x L]      node,level: synonymic sensitivity S_{k,l} of (S)RHM data
 *                                       (record.sensitivity): node k = hidden layer k + 1 (its
 *                                       hs_model_hidden output) for k < K - 1, the logits at K - 1
 *                                       (K = the net's hidden layers + 1); level l = P_(l+1)
 *   sensitivity_D  [K x L]      node,level: the same for the displacements tau_(l+1)
 *   sensitivity_G  [K]          node:   the authors' Gaussian control G_k
 *   stability_D    [K + 1]      node:   Petrini's D_f on record.stability test images: node 0
 *                                       the input, node k + 1 = sensitivity's node k
 *   stability_G    [K + 1]      node:   G_f (noise of the diffeomorphisms' mean norm)
 *   stability_R    [K + 1]      node:   R_f = D_f / G_f
 *   stability_diffeo [2]        param:  the cutoff c and the temperature T used (constant)
 * Snapshot series use every = record.snapshot_every; the others every = 1. The probes (the last
 * seven; include/hsweep/metrics.h defines them) forward in eval mode and draw only from
 * HS_STREAM_PROBE keyed by data.seed, so turning them on changes no training.
 */
#define HS_SERIES_MAX_DIMS 3
typedef struct hs_series_spec {
    const char *name;  /* static string, e.g. "level_acc" */
    const char *axes;  /* names of the per-point axes, comma-separated, e.g. "rep,class,class" */
    int ndim;          /* 0..HS_SERIES_MAX_DIMS (0 = a scalar per point) */
    size_t dims[HS_SERIES_MAX_DIMS];
    size_t every;      /* >= 1 */
    size_t n_points;   /* points for the run's full record schedule */
} hs_series_spec;

typedef struct hs_series {
    hs_series_spec spec;
    size_t size;       /* product of dims */
    size_t n;          /* points filled so far (<= spec.n_points) */
    long long *point;  /* [spec.n_points] record-point index of each stored point */
    double *values;    /* [spec.n_points x size], NaN where nothing was measured */
} hs_series;

/* What a run will record, from its config alone: record points (the most the run can make),
 * measured layers, and its series. `series` is filled up to HS_TRAIN_MAX_SERIES entries. */
#define HS_TRAIN_MAX_SERIES 24
typedef struct hs_train_layout {
    size_t n_records;
    size_t n_layers;
    hs_series_spec series[HS_TRAIN_MAX_SERIES];
    size_t n_series;
    long long steps_per_epoch, total_steps;
} hs_train_layout;
hs_code hs_train_layout_of(const hs_train_config *c, hs_train_layout *out, hs_error *err);

typedef struct hs_train_result {
    hs_run_status status;
    char message[256];      /* why it diverged or stopped; empty when done */
    hs_record *records;
    size_t n_records;
    double *layers;         /* [n_records x HS_LAYER_FIELDS x n_layers], see hs_layer_field_names */
    size_t n_layers;        /* n_hidden + 1 */
    long long epochs_done, steps;
    double seconds;         /* wall time of the training, summed over every process that ran part of it */
    size_t n_params;
    hs_series *series;      /* [n_series], as hs_train_layout_of announced, in that order */
    size_t n_series;
    /* checkpoints (see below): where this call took over (-1, -1: a fresh start), and what saving
     * cost it (files written, their bytes in all, the seconds spent writing them, fsync included) */
    long long resumed_from_step, resumed_from_epoch;
    int checkpoints;
    size_t checkpoint_bytes;
    double checkpoint_seconds;
} hs_train_result;
void hs_train_result_free(hs_train_result *r);

/* ================================================================ checkpoints
 * A cluster job ends at its time limit; a training longer than the limit continues in the next
 * job from a checkpoint, and finishes with the result an uninterrupted run would have had: every
 * record field but `seconds`, every per-layer value, every series value and point, epochs_done,
 * steps, status, message and the final parameters are bit-identical.
 *
 *     hs_train_hooks hooks = {.ctx = S, .should_stop = should_stop,
 *                             .checkpoint = {.path = "ckpt/3f2a9c0d11e4b5a7.ckpt",
 *                                            .run_id = "3f2a9c0d11e4b5a7",   // the plan's run id
 *                                            .every_seconds = 1800, .resume = 1}};
 *     HS_TRY(err, hs_train_run(&cfg, &train, &test, &hooks, &res, err));
 *     if (res.status == HS_RUN_STOPPED)   // the state is in the file: run the same call again later
 *         ...;
 *     else {                              // done or diverged: store the result first, then
 *         ... write res ...;
 *         HS_TRY(err, hs_train_checkpoint_remove(hooks.checkpoint.path, err));
 *     }
 *
 * Behaviour, with checkpoint.path set:
 *   - resume: when path holds a checkpoint, the run continues from it (res->resumed_from_step
 *     and _epoch say where) and the records before it are the checkpoint's (on_record is called
 *     for the new ones only); when path does not exist the run starts afresh. A checkpoint that
 *     is corrupt, of another run id or of another configuration (or other data shapes) is an
 *     error naming the path, never a fresh start or a partial restore.
 *   - should_stop: the state at that step boundary is saved before the run returns with
 *     HS_RUN_STOPPED.
 *   - every_seconds > 0: the state is also saved whenever that much training time has passed
 *     since the last save (checked at step boundaries), and the training goes on.
 *   - A run that finishes (done or diverged) leaves its last checkpoint in place: hs_train_run
 *     cannot know when the caller has stored the result, so removing it is the caller's job.
 *   - Saving draws no random numbers and changes no arithmetic: a run saved 100 times gives the
 *     result of a run never saved. A save writes path.tmp and renames it over path, so a kill at
 *     any moment leaves the previous checkpoint or the new one. A failed save is an error.
 * The file holds the parameters, the model's buffers (BatchNorm running statistics), the
 * optimiser state, the position in the epoch, the loss sums, and the records and series so far:
 * 3 x the parameters' size for Adam, 2 x for momentum, 1 x for SGD, plus the records. */
typedef struct hs_train_checkpointing {
    const char *path;     /* the checkpoint file; NULL = no checkpoints */
    const char *run_id;   /* NULL, or 16 hex digits (the plan's run id) stored in the file and
                             required to match on resume */
    double every_seconds; /* also save every this many seconds of training; 0 = only on stop */
    int resume;           /* continue from path when it exists */
} hs_train_checkpointing;

/* Remove a checkpoint (and a temporary a killed save left beside it); a missing file is fine. */
hs_code hs_train_checkpoint_remove(const char *path, hs_error *err);

/* ================================================================ hooks */

typedef struct hs_train_hooks {
    void *ctx;
    /* After each record point, with the net in its current state (e.g. to print progress or
     * measure features). A non-OK return aborts the training with that error. */
    hs_code (*on_record)(void *ctx, const hs_record *rec, hs_model *net, const hs_dataset *train, hs_error *err);
    /* Polled at every step boundary; non-zero stops the training (status HS_RUN_STOPPED), e.g.
     * when Slurm announces the end of the job. */
    int (*should_stop)(void *ctx);
    hs_train_checkpointing checkpoint; /* zeroed: no checkpoints */
} hs_train_hooks;

/* ================================================================ preflight, and the file's size
 * A sweep should not learn at its 300th run that the 301st asks for more SRHM samples than exist.
 * The preflight makes, from a run's config alone and before any compute, every check that would
 * otherwise fail the run when it starts: the data options (hs_data_shape_of: P + test samples
 * against P_max, sizes, ...), the data files (hs_data_check_files: present, readable, at least a
 * header, without reading them), and what hs_train_run refuses on sets of that shape (a
 * BatchNorm batch of one sample, an architecture the data cannot feed, record requests beyond the
 * data such as record.snapshot_samples above the test set, series too large to store). Kernel
 * runs (model.arch kernel) are solved, not trained: only their data is checked. Data a loader
 * finds broken (a truncated file) still fails the run itself, recorded as a failed run.
 *
 *     hs_error err = {0};
 *     if (hs_train_preflight_plan(plan, &err) != HS_OK) ... err.msg ...
 *     // "run 987f825ab89a30ea (data.L=2, data.n_train=100000, data.s0=1, ...): data.n_train =
 *     //  100000 plus 20000 test samples is more than the P_max = 82944 distinct inputs"
 *     hs_train_plan_layout lay;
 *     HS_TRY(&err, hs_train_plan_layout_of(plan, &lay, NULL, &err));
 *     printf("results file: about %.3g MB\n", lay.bytes_total / 1e6);
 */

/* The checks above for one run's config; errors name the key at fault. */
hs_code hs_train_preflight(const hs_train_config *c, hs_error *err);

/* hs_train_preflight for every run of p, in plan order, stopping at the first failure, whose
 * message then starts "run <16-hex id> (<its values of the keys that vary>): ". The data checks
 * are made once per distinct data config (every data.* value equal), so a plan of many trainings
 * on a few datasets costs a few shape computations and a few stat calls. */
hs_code hs_train_preflight_plan(const hs_plan *p, hs_error *err);

/* The least memory run c holds while it trains, in bytes: its training and test sets (inputs,
 * targets and labels as float32 / int32) and, for a trained kind that counts its parameters, the
 * net as its kind would build it for the run's batch (models.h `bytes`: parameters, gradients,
 * activations, workspaces; parameters and gradients alone where the kind does not say) and the
 * optimiser's state (none for sgd, one copy for momentum, two for adam/adamw), 4 bytes a
 * parameter. A solved kind (kernel) holds the data and its share of the kernel matrix, which the
 * `ranks` of the sweep hold together. Evaluation buffers, recorders and the allocator's overhead
 * come on top, so a run
 * whose floor is above the memory it may use cannot train there (with Linux's overcommit it may
 * even start, and be killed mid-run by the kernel). */
double hs_train_memory_floor(const hs_train_config *c, const hs_data_shape *sh, int ranks);

/* The run of a plan with the largest hs_train_memory_floor, and what makes its floor. */
typedef struct hs_train_memory_need {
    size_t run;         /* its index in the plan */
    double bytes;       /* its floor (0 when no run's is known) */
    int solved;         /* solved in closed form (kernel): bytes holds its share of the matrix */
    long long n_train;  /* its training samples (the matrix is n_train x n_train) */
    long long params;   /* its net's parameters (-1: solved, or the kind does not count them) */
} hs_train_memory_need;

/* The run of p (or only run `only` when only >= 0) with the largest hs_train_memory_floor on
 * `ranks` ranks, in *need (may be NULL). Runs the preflight refuses are skipped. When limit > 0
 * and that floor is above it: HS_ERR_LIMIT, the run named as the preflight names it, limit_what
 * (e.g. "MemTotal", see hs_memory_limit) in the message. */
hs_code hs_train_memory_plan(const hs_plan *p, long only, int ranks, double limit, const char *limit_what,
                             hs_train_memory_need *need, hs_error *err);

/* The results file of a plan, from the runs' layouts (hs_train_layout_of) folded as the scheduler
 * sizes the file: N record points and L layers at the most any run makes, series merged by name
 * (first appearance first) with their points and dims at the maxima, `every` kept only while all
 * runs agree (0 otherwise), kernel runs without series. Runs whose layout cannot be built are
 * left out and counted in `skipped` (they fail on their own when they run). The byte counts are
 * the datasets' raw sizes: /records R x N x 9 float64, /layers R x N x L x 5 float64, each series
 * R x Ns x its dims float64 plus R x Ns int64 points, and the run table (ids, canonical configs,
 * the varying keys' columns, status and bookkeeping). HDF5 adds its metadata and pads the last
 * chunk of runs, so the file is a little larger; mostly so for small sweeps. */
#define HS_TRAIN_PLAN_MAX_SERIES (4 * HS_TRAIN_MAX_SERIES)
typedef struct hs_train_plan_layout {
    size_t n_runs, n_records, n_layers;
    hs_series_spec series[HS_TRAIN_PLAN_MAX_SERIES];
    size_t n_series;
    size_t skipped;
    double bytes_records, bytes_layers, bytes_table;
    double bytes_series[HS_TRAIN_PLAN_MAX_SERIES]; /* values and points of series[i] */
    double bytes_total;
} hs_train_plan_layout;
/* steps_total (NULL, or [p->n_runs]) receives each run's optimiser steps in full (1 for a kernel
 * run, -1 for a run whose layout cannot be built): the progress the results file reports. */
hs_code hs_train_plan_layout_of(const hs_plan *p, hs_train_plan_layout *out, long long *steps_total, hs_error *err);

/* ================================================================ training */

/* Train one net on train, measuring on test (which may have n == 0). Record points: epoch 0,
 * every record_every epochs, and the last epoch. The result is filled even when the run
 * diverges or stops; free it with hs_train_result_free. */
hs_code hs_train_run(const hs_train_config *c, const hs_dataset *train, const hs_dataset *test,
                     const hs_train_hooks *hooks, hs_train_result *res, hs_error *err);

/* Mean loss and accuracy of net on d in eval mode, in chunks of the net's max_batch rows. */
void hs_train_evaluate(hs_model *net, const hs_dataset *d, hs_loss loss, double *mean_loss, double *accuracy);

#endif /* HSWEEP_TRAIN_H */
