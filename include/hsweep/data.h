/*
 * data.h - datasets: loaders for the files on disk (IDX for MNIST/Fashion-MNIST, CIFAR-10 binary
 * batches), the He & Su preprocessing (10x10 resampling, scaling, normalisation), per-class
 * subsets, a synthetic Gaussian mixture, the (Sparse) Random Hierarchy Model, hierarchical
 * category data (a Gaussian tree prior) with its partition control, and the small tasks of the
 * learning-dynamics experiments (XOR, the routing task of gated linear networks). What training
 * sees is an hs_dataset: float32 rows, with real-valued targets t for the regression tasks.
 *
 * Some 630 lines, kept as one header: the project has one public header per module, and data/
 * is one module; each section below (IDX, CIFAR-10, resampling, the registry, the (S)RHM and its
 * probe set, hierarchical data, the small tasks, whitening) opens with its own example.
 *
 *     hs_data_opts o = {.kind = "cfm", .seed = 1, .per_class = 100};
 *     hs_dataset train = {0}, test = {0};
 *     HS_TRY(err, hs_data_load(&o, &train, &test, err));
 *     // train.n == 1000, train.dim == 100, train.classes == 10, values in [-1, 1];
 *     // test.n == 10000 (the full test split, same preprocessing)
 *     hs_dataset_free(&train); hs_dataset_free(&test);
 *
 * ---------------------------------------------------------------- IDX files
 *
 * An IDX file is a big-endian header (magic 0x00 0x00 <type> <ndim>, then ndim 32-bit sizes)
 * followed by the array, row-major. The files usually ship gzip-compressed; the loader looks at
 * the first two bytes (gzip magic 1f 8b) rather than the name, so a file that was unpacked but
 * kept its .gz name, or the reverse, still loads. Loading the Fashion-MNIST training images:
 *
 *     hs_error err = {0};
 *     hs_idx images = {0};
 *     if (hs_idx_load(HS_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", &images, &err) != HS_OK) {
 *         fprintf(stderr, "error: %s\n", err.msg);   // ...: cannot open: No such file or directory
 *         if (err.hint[0]) fprintf(stderr, "hint: %s\n", err.hint);
 *         return err.code;
 *     }
 *     // images.ndim == 3, images.dims = {60000, 28, 28}, images.count == 47040000
 *     size_t pixels = (size_t)images.dims[1] * images.dims[2];   // 784 per image
 *     const uint8_t *first = images.data;                        // image 0, 28 rows of 28 bytes
 *     const uint8_t *second = images.data + pixels;              // image 1
 *     hs_idx_free(&images);
 *
 * The labels file (train-labels-idx1-ubyte.gz) loads the same way with ndim == 1 and one byte,
 * 0..9, per image. Only unsigned bytes (type 0x08) are supported: it is all the image datasets
 * use, and it lets the loader hand back the bytes exactly as stored.
 */
#ifndef HSWEEP_DATA_H
#define HSWEEP_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "hsweep/rng.h"
#include "hsweep/status.h"

/* An IDX array of unsigned bytes (type code 0x08), row-major, as stored on disk. */
typedef struct hs_idx {
    uint8_t *data;    /* owned; count bytes */
    int ndim;         /* 1..4 */
    uint32_t dims[4]; /* dims[0] = number of items */
    size_t count;     /* product of dims */
} hs_idx;

/* Load an IDX file, plain or gzip-compressed (detected by the gzip magic 1f 8b, not by the name).
 * Errors (HS_ERR_IO for open/read failures, HS_ERR_VALUE for bad content) name the path and what
 * was expected, e.g.
 *   "...: not an IDX file (magic 0x1f8b0800, expected 0x0000080N with N = 1..4 dimensions)"
 *   "...: truncated: header promises 47040000 bytes of data, file has 1000"
 *   "...: IDX type 0x0d (float) is not supported; only unsigned bytes (0x08)"
 *   "...: cannot open: No such file or directory", with the hint "install the Debian package
 *        dataset-fashion-mnist, or point data.path at a folder holding the files".
 * Trailing bytes after the data are an error too. Absurd headers (a dimension of 0, or more than
 * 2^31 bytes) are refused before anything is allocated. out is overwritten without being freed;
 * on failure it is left zeroed (so hs_idx_free is safe). */
hs_code hs_idx_load(const char *path, hs_idx *out, hs_error *err);
void hs_idx_free(hs_idx *x);   /* safe on a zeroed or already-freed struct */

/* The standard place of Fashion-MNIST from Debian's dataset-fashion-mnist package. */
#define HS_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* ================================================================ CIFAR-10 binary batches
 * The "binary version" (cifar-10-batches-bin): data_batch_1.bin .. data_batch_5.bin and
 * test_batch.bin, each 10000 records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32).
 * Loads the 50000 training or 10000 test records into labels[n] and images[n x 3072] (planes as
 * stored). A missing file, a size that is not a multiple of 3073 bytes, or a label above 9 is an
 * error naming the path. Files with fewer records than 10000 are accepted (tests use tiny ones). */
typedef struct hs_cifar {
    uint8_t *images; /* [n x 3 x 32 x 32] */
    uint8_t *labels; /* [n], 0..9 */
    size_t n;
} hs_cifar;
hs_code hs_cifar10_load(const char *dir, int train, hs_cifar *out, hs_error *err);
/* What hs_cifar10_load checks before it reads a byte (every file there, a regular file, a size that
 * is a whole, non-zero number of records), plus that each file opens for reading; from stat and
 * open alone, with the loader's messages. */
hs_code hs_cifar10_check(const char *dir, int train, hs_error *err);
void hs_cifar_free(hs_cifar *c);

/* ================================================================ resampling
 * One channel, src[sh x sw] -> dst[dh x dw], row-major, float. Both are separable (rows, then
 * columns) and treat pixel centres at (i + 0.5) * scale, like PIL and torchvision.
 *   bilinear: triangle filter whose support widens with the downscale factor (antialiasing), as
 *             PIL's BILINEAR / torchvision's Resize(antialias=True); plain bilinear when upsampling.
 *   area:     PIL's BOX: each output pixel is the plain mean of the input pixels whose centres
 *             fall inside the box it covers. For integer factors that is the exact area average
 *             (OpenCV's INTER_AREA); for others it is not: 28 -> 10 averages 3, 3, 2, 3, 3, ... pixels
 *             with equal weights, where an exact area average would weight edge pixels by overlap. */
typedef enum hs_resize { HS_RESIZE_BILINEAR, HS_RESIZE_AREA } hs_resize;
/* As PIL's Image.resize on a mode "F" (float32) image, to float rounding. */
void hs_resize_image(const float *src, int sh, int sw, float *dst, int dh, int dw, hs_resize how);
/* As PIL's Image.resize on a mode "L" (8-bit) image, bit for bit: the 8-bit intermediate after the
 * horizontal pass and PIL's fixed-point weights included. This is what torchvision's Resize does to
 * the PIL images of the datasets, and what hs_data_load uses. */
void hs_resize_image_u8(const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw, hs_resize how);

/* ================================================================ datasets */

/* A dataset is named by its kind, a string ("cfm", "rhm", ...): the registry below maps it to
 * the code that knows the kind. The kinds (`hsweep keys` lists them under data.kind):
 *   cfm, cm        Fashion-MNIST / MNIST -> 10x10, [-1, 1]: 100 dims (cm: data.path, or
 *                  /usr/share/datasets/mnist)
 *   cc             CIFAR-10 green channel -> 10x10, normalised: 100 dims (needs data.path)
 *   fashion_mnist  Fashion-MNIST -> 32x32, (x - 0.2860) / 0.3530: 1024 dims
 *   mnist          MNIST -> 32x32, (x - 0.1307) / 0.3081: 1024 dims
 *   cifar10        CIFAR-10 3x32x32, per-channel normalised: 3072 dims (needs data.path)
 *   gaussian       K-class Gaussian mixture in p dims
 *   rhm, srhm      the (Sparse) Random Hierarchy Model: v x s^L and v x (s (s0 + 1))^L, see below
 *   hierarchy      tree-structured Gaussian categories (Kemp & Tenenbaum prior), see below;
 *   partition      its control: the same examples hung from unconnected class nodes
 *   xor            the rich/lazy XOR task: 4 points in {-1,1}^2, real targets -1/+1
 *   gated_toy      gated deep linear networks: the routing toy task (4 items, 7 features)
 *   gated_fmnist   the routing task on Fashion-MNIST: pixel-permuted inputs, label-permuted outputs
 *   gated_perm     the paper's image task on 28x28 Fashion-MNIST: pixel permutations, lexicographic label maps
 *   gated_rot      gated_perm with rotated inputs */
typedef struct hs_data_kind hs_data_kind;
struct hs_rhm_opts; /* the (S)RHM section below */

/* How the SRHM spreads a rule's s children over its patch of S = s (s0 + 1) slots (see below). */
typedef enum hs_rhm_sparsity {
    HS_RHM_SPARSITY_A = 0, /* child t at a uniform offset in its own sub-patch t (the main model) */
    HS_RHM_SPARSITY_B = 1, /* the s children on any s of the S slots, order kept, uniform */
} hs_rhm_sparsity;

typedef struct hs_data_opts {
    const char *kind;               /* a registered kind's name: "cfm", "rhm", ... */
    const char *path;               /* folder with the files; NULL or "" = the standard place */
    uint64_t seed;                  /* data seed: subset choice, synthetic draws */
    long long per_class;            /* training samples per class */
    const long long *class_counts;  /* [classes] or NULL: imbalanced per-class counts */
    long long n_test;               /* 0 = the full test split (gaussian: as many as the training set) */
    hs_resize resize;               /* 10x10 variants */
    int classes, dim;               /* gaussian: K, p */
    double separation;              /* gaussian: distance between class means / noise std */
    /* rhm, srhm (the SRHM section below; `seed` is the sample seed). 0 in n_c and m means the
     * main experiments' values n_c = v and m = v^(s-1). */
    int v, n_c, m, s, L, s0;        /* vocabulary, classes, rules per symbol, children, depth, empties per child */
    hs_rhm_sparsity sparsity;       /* srhm: A or B (no effect when s0 = 0) */
    uint64_t rule_seed;             /* seed of the rules (the grammar), apart from the sample seed */
    int whiten;                     /* 1: x <- x (1 + 1/sqrt(v-1)) - 1/sqrt(v-1) over the whole input */
    long long n_train;              /* training samples P (rhm, srhm; per_class is not used there) */
    /* hierarchy, partition (the "hierarchical category data" section below) */
    int branching, levels;          /* children per tree node; label levels (leaves = branching^levels) */
    long long per_leaf;             /* examples hung from each leaf (class node) */
    int features;                   /* P: independent features, one tree draw each */
    double sigma, beta;             /* example-node noise sigma; mean edge length beta */
    double test_fraction;           /* held out as the test set (hierarchy, partition, xor with repeats > 1) */
    /* xor */
    int repeats;                    /* copies of each of the 4 points (1 = the 4 points exactly) */
    double noise;                   /* Gaussian noise std added to the copies */
    /* gated_toy, gated_fmnist (the "routing task" section below) */
    int modules, active;            /* M input and M output modules; K active output modules per input */
    int zca;                        /* whiten the inputs (hs_data_zca): Sigma_xx = I on the training set */
    int level_targets;              /* hierarchy/partition: t = one-hot labels of every level, finest first */
} hs_data_opts;

typedef struct hs_dataset {
    float *x;         /* [n x dim], row-major */
    int32_t *y;       /* [n], 0..classes-1 */
    long long n;
    int dim, classes;
    int channels, height, width; /* image shape (channels * height * width == dim), or 0 */
    /* Real-valued regression targets [n x t_dim] (xor: t_dim 1, the gated tasks: the output
     * features), or NULL: MSE then compares against one-hot(y). Owned. */
    float *t;
    int t_dim;
    /* A label hierarchy (hierarchy data): levels >= 2 means y is the leaf label and the label of
     * level l (0 = leaves, levels - 1 = the coarsest) is y / branching^l. 0 or 1: flat labels. */
    int levels, branching;
    /* Gated tasks: each row is one (item, pathway) pair; x = [item features (dim - 2) | input
     * module i | output module j] with i, j stored as exact small floats, modules = M. 0 otherwise. */
    int modules;
} hs_dataset;

/* Shapes of the sets hs_data_load would build, from the options alone (no file is read), so a
 * sweep can size its results file before any training: what the plan and the recorders need. */
typedef struct hs_data_shape {
    int dim, classes, t_dim;        /* t_dim 0 = no real targets */
    long long n_train, n_test;      /* rows (gated: item x pathway rows) */
    int levels, branching, modules; /* as in hs_dataset */
    int channels;                   /* as in hs_dataset: the [channels x positions] layout, or 0 */
    int height, width;              /* as in hs_dataset: images H x W, rhm/srhm 1 x positions, or 0 */
    double p_max;                   /* distinct inputs the kind can draw (rhm, srhm), or 0 = not counted */
} hs_data_shape;
/* Image kinds: dim 100 (cfm, cm, cc), 1024 (fashion_mnist, mnist), 3072 (cifar10), 10 classes, n_train =
 * the sum of data.class_counts or 10 per_class, n_test = data.n_test or 10000 (the size of the
 * standard test splits: the files are not opened, so a smaller test file is not seen). gaussian:
 * dim, classes, n_test = data.n_test or n_train. rhm/srhm: dim v (s (s0 + 1))^L, n_c classes,
 * n_test as hs_data_load (min(20000, floor(P_max / 2)) when 0); a rule level that runs out of
 * tuples only for some rule seeds is found by hs_data_load alone. The other kinds: exactly what
 * hs_data_load builds. HS_ERR_VALUE / HS_ERR_LIMIT for options out of range, with the messages
 * hs_data_load would give. */
hs_code hs_data_shape_of(const hs_data_opts *o, hs_data_shape *out, hs_error *err);

/* The files hs_data_load would read for o are there, without reading them: for the image kinds
 * (and gated_fmnist, which reads the Fashion-MNIST training split only) the folder (data.path or
 * the standard place) exists, and each file it opens exists (IDX: name.gz or name, as the loader
 * looks for them), is a regular file that opens for reading, and is large enough to be what it
 * claims (IDX: at least its header, 16 bytes for images and 8 for labels; CIFAR-10: the loader's
 * own size check, a whole number of 3073-byte records). A present file with broken content
 * passes: only loading it can tell. Messages start with "data.path", e.g.
 *   "data.path = /data/fm: cannot open the folder: No such file or directory (Fashion-MNIST reads
 *    train-images-idx3-ubyte.gz, ... from it)"
 * with the kind's install hint. Kinds without files: HS_OK. */
hs_code hs_data_check_files(const hs_data_opts *o, hs_error *err);

/* ================================================================ the registry of data kinds
 * Each kind is one entry, in its own file under src/data/kinds/, listed by one line of
 * src/data/registry.c (PETSc's XXXRegister pattern). Nothing outside an entry asks which kind it
 * is: code that needs to know something about the data asks the entry's hooks or flags, through
 * the hs_data_* functions above and below, which look the kind up by name. Adding a dataset is a
 * new file holding an hs_data_kind and one line in the registry's table.
 *
 *     const hs_data_kind *k = hs_data_kind_find("srhm");   // NULL for a name not registered
 *     hs_data_shape sh;
 *     HS_TRY(err, k->shape(&(hs_data_opts){.kind = "srhm", .v = 4, .s = 2, .L = 2, .s0 = 1,
 *                                          .n_train = 10}, &sh, err));
 *     // sh.dim == 4 * 16, sh.channels == 4, sh.p_max == the distinct inputs of the grammar
 *     for (size_t i = 0; i < hs_data_kind_count(); i++) puts(hs_data_kind_at(i)->name);
 */
enum {
    HS_DATA_KIND_LABEL_LEVELS = 1 << 0, /* labels nest in data.levels levels of data.branching (the
                                           level recorders, data.targets levels) */
    HS_DATA_KIND_GATED_THEORY = 1 << 1, /* the gated net's closed-form learning curves hold (the toy's
                                           orthogonal items) */
    HS_DATA_KIND_RICH_LAZY = 1 << 2,    /* the rich/lazy task the XOR analysis reads */
};

struct hs_data_kind {
    const char *name; /* data.kind */
    const char *doc;  /* a phrase for `hsweep keys` */
    int code;         /* stable number, hashed into checkpoint digests; never reuse one */
    unsigned flags;   /* HS_DATA_KIND_* */
    int classes;      /* entries data.class_counts must have; 0 = data.classes */
    /* hs_data_shape_of and hs_data_load for this kind (o->kind names it) */
    hs_code (*shape)(const hs_data_opts *o, hs_data_shape *out, hs_error *err);
    hs_code (*load)(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err);
    /* optional: hs_data_check_files (NULL: no files), hs_data_check (NULL: shape says it all),
     * hs_data_patch (NULL: 0) */
    hs_code (*check_files)(const hs_data_opts *o, hs_error *err);
    hs_code (*check)(const hs_data_opts *o, hs_error *err);
    int (*patch)(const hs_data_opts *o);
    int (*rules)(const hs_data_opts *o, struct hs_rhm_opts *out); /* hs_data_rules (NULL: 0) */
};

size_t hs_data_kind_count(void);
const hs_data_kind *hs_data_kind_at(size_t i); /* registry order; NULL past the end */
const hs_data_kind *hs_data_kind_find(const char *name); /* NULL when not registered (or NULL) */
/* As hs_data_kind_find, but an unknown name is an HS_ERR_SPEC naming the kinds, with a
 * did-you-mean hint when a registered name is close ("data.kind = fmnist: ..., hint: did you mean
 * fashion_mnist?"). */
hs_code hs_data_kind_lookup(const char *name, const hs_data_kind **out, hs_error *err);
/* o's kind carries every bit of flags (0 for an unknown kind). */
int hs_data_kind_has(const hs_data_opts *o, unsigned flags);
/* The checks that shape does not make because they cost more (rhm, srhm: drawing the rules, a
 * level of which can run out of tuples for some rule seeds only). HS_OK for the other kinds. */
hs_code hs_data_check(const hs_data_opts *o, hs_error *err);
/* The width of the data's natural patch, the filter size the hierarchical nets default to
 * (rhm, srhm: s (s0 + 1)); 0 when the data has none. */
int hs_data_patch(const hs_data_opts *o);
/* The grammar o's kind draws its samples from (rhm, srhm): 1 and *out as the loader hands it to
 * hs_rhm_rules, so that callers can tell data configs sharing one grammar; 0 for other kinds. */
int hs_data_rules(const hs_data_opts *o, struct hs_rhm_opts *out);
/* The kinds' names "cfm|cm|...", and data.kind's documentation, for the schema. */
const char *hs_data_kind_choices(void);
const char *hs_data_kind_doc(void);

/* Build the training set and the test set of o (both preprocessed identically).
 * Training subset: for each class c, the class's indices in the train split are shuffled with
 * hs_rng stream (HS_STREAM_DATA, c) of o->seed and the first count_c kept (so a larger per_class
 * extends a smaller one); the kept rows are stored in file order. Test set: the full test split,
 * or n_test rows drawn without replacement with stream (HS_STREAM_TEST, 0), in file order.
 * A class with fewer samples than asked for is an HS_ERR_VALUE naming the class and both counts.
 * Gaussian: class means on a regular simplex (p >= K: mean_c = separation / sqrt(2) e_c, so every
 * pair is `separation` apart) or, when p < K, on a circle in the first two dimensions (a line
 * centred on 0 when p = 1) with neighbours `separation` apart; noise N(0, I); training draws from
 * stream (HS_STREAM_DATA, c), test draws from (HS_STREAM_TEST, c). Rows are stored class after
 * class; n_test > 0 is split evenly over the classes, the remainder going to the first ones.
 * hierarchy, partition, xor, gated_toy, gated_fmnist: see their sections below (a test set may
 * be empty there: n = 0, x = y = t = NULL, dim and classes set).
 * On failure both sets are left zeroed. */
hs_code hs_data_load(const hs_data_opts *o, hs_dataset *train, hs_dataset *test, hs_error *err);
/* rhm, srhm: rules from (v, n_c, m, s, L, s0, sparsity, rule_seed) (hs_rhm_rules), then
 * hs_rhm_dataset with the sample seed `seed`, P = n_train (>= 1) and n_test, where n_test = 0
 * means min(20000, floor(P_max / 2)) (a choice that does not depend on P, so training sets stay
 * nested). rhm requires s0 = 0 (and ignores sparsity). */
void hs_dataset_free(hs_dataset *d); /* safe on a zeroed struct */

/* ================================================================ (Sparse) Random Hierarchy Model
 * Cagnetta et al., PRX 2024 (RHM) and Tomasini & Wyart, ICML 2024 (SRHM); the reference note is
 * ../shared/reference/srhm.md. Parameters: v symbols per level, n_c classes, m synonymic rules per
 * symbol, s informative children per rule, L levels, s0 empty slots per informative child.
 *
 * Rules (the grammar), drawn from ONE hs_rng stream: key rule_seed, stream
 * (HS_STREAM_DATA, HS_RHM_RULE_STREAM), level by level from the top. A rule's right-hand side is
 * an s-tuple of symbols, coded c_0 v^(s-1) + ... + c_(s-1) (first child most significant).
 *   level 0: the parents are the n_c classes; level l >= 1: the distinct symbols appearing in the
 *   rules of level l - 1, in increasing order. All v^s tuple codes are shuffled (hs_rng_permute)
 *   and parent number k (in that order) gets tuples [k m, (k + 1) m) of the shuffle, so no tuple
 *   has two parents and parsing is unambiguous. Needs m * parents <= v^s at every level (always
 *   true for m <= v^(s-1); otherwise it can depend on the rule seed).
 *
 * A sample, from key = sample seed, stream (HS_STREAM_DATA, index): the label y = below(n_c)
 * (uniform, so class counts are multinomial), then top-down one level at a time, the nodes of a
 * level from right to left: each informative node draws its rule below(m), then its placement.
 * A node's patch has S = s (s0 + 1) slots:
 *   A: child t sits in sub-patch t (slots [t (s0+1), (t+1)(s0+1))) at offset below(s0 + 1), drawn
 *      afresh for every node of every sample (s draws);
 *   B: the children take s of the S slots in order, the subset drawn as below(C(S, s)) and
 *      unranked lexicographically (1 draw).
 * No placement draw when s0 = 0 (the RHM: A and B coincide). The root (the class) expands into a
 * patch too, and an empty slot expands into S empty slots. Result: d = S^L positions, exactly s^L
 * of them informative, symbols[i] in 0..v-1 or -1 (empty).
 *
 * Distinct inputs: every choice can be read back from the input (hs_rhm_parse), so
 *   P_max = n_c (m * placements)^((s^L - 1)/(s - 1)), placements = (s0+1)^s (A) or C(S, s) (B).
 * (For B the note's "(s0+1)^s" would undercount: C(4, 2) = 6 > 2^2 for s = 2, s0 = 1.)
 *
 * Encoding, channel-major [v x d]: x[c * d + i] = 1 if symbols[i] == c else 0 (empty positions
 * are zero columns). Whitening, as the authors' code, over the WHOLE tensor (empty positions too),
 * in float32 like torch: with a = (float)(1/sqrt(v-1)) and b = (float)(1 + 1/sqrt(v-1)), a one
 * becomes b - a (= 1 to an ulp), a zero becomes -a.
 *
 * Data sets (hs_rhm_dataset): one stream of DISTINCT samples: walk index = 0, 1, 2, ..., skip a
 * sample equal to one already kept (hash of the symbols, then exact comparison of the encoded
 * rows). The first n_test kept samples are the test set, the next n_train the training set. A
 * kept sample never depends on later ones, so for fixed (rules, seed, n_test) the training set of
 * P is the first P rows of the training set of any P' > P, and it is disjoint from the test set.
 * Since every distinct input has probability 1 / P_max, this is uniform sampling without
 * replacement (the authors' default too), whatever P / P_max; n_train + n_test > P_max is an error.
 *
 *     hs_error err = {0};
 *     hs_rhm_opts o = {.v = 6, .n_c = 6, .m = 6, .s = 2, .L = 3, .s0 = 2, .rule_seed = 1};
 *     hs_rhm *g = NULL;
 *     HS_TRY(&err, hs_rhm_rules(&o, &g, &err));
 *     // g->S == 6, g->d == 216, g->n_informative == 8, g->p_max == 6 * (6 * 3^2)^7 = 8033551259904
 *     int32_t sym[216], work[216];
 *     int y = hs_rhm_sample(g, 42, 0, sym);       // sample 0 of sample seed 42: label 0..5
 *     // hs_rhm_parse(g, sym, work) == y; 8 entries of sym are in 0..5, the other 208 are -1
 *     hs_dataset train = {0}, test = {0};
 *     hs_rhm_info info;
 *     HS_TRY(&err, hs_rhm_dataset(g, 42, 1000, 20000, 1, &train, &test, &info, &err));
 *     // train.n == 1000, train.dim == 6 * 216, channels 6, height 1, width 216, classes 6;
 *     // info.duplicates == 0 here (P_max is huge); with 100 instead of 1000, train holds the
 *     // first 100 rows of this train
 *     hs_dataset_free(&train); hs_dataset_free(&test); hs_rhm_free(g);
 */

/* The rule stream's index within HS_STREAM_DATA; sample indices stay below it (HS_RHM_MAX_INDEX),
 * so the rule stream is never a sample's stream even when rule_seed equals the sample seed. */
#define HS_RHM_RULE_STREAM 0xffffffffu
#define HS_RHM_MAX_INDEX 0xffffffffu
/* Sizes refused (HS_ERR_LIMIT) beyond: v^s tuples, d positions, v * d values per input, S slots. */
#define HS_RHM_MAX_TUPLES (1 << 22)
#define HS_RHM_MAX_POSITIONS (1 << 24)
#define HS_RHM_MAX_DIM (1 << 30)
#define HS_RHM_MAX_SLOTS 4096
#define HS_RHM_MAX_LEVELS 24 /* S >= 2 and d <= 2^24 */

typedef struct hs_rhm_opts {
    int v;        /* symbols per level, >= 2 */
    int n_c;      /* classes, 2..v^s; 0 = v */
    int m;        /* rules per symbol, >= 1; 0 = v^(s-1) */
    int s;        /* informative children per rule, >= 2 */
    int L;        /* levels, >= 1 */
    int s0;       /* empty slots per informative child, >= 0 (0 = the RHM) */
    hs_rhm_sparsity sparsity;
    uint64_t rule_seed;
} hs_rhm_opts;

/* A drawn grammar. Read-only after hs_rhm_rules; safe to share between threads. Level l rewrites a
 * level-l symbol (a class at l = 0) into level-(l + 1) symbols. */
typedef struct hs_rhm {
    hs_rhm_opts o;            /* as given, with n_c and m resolved */
    int S;                    /* slots per patch, s (s0 + 1) */
    int d;                    /* input positions, S^L */
    int n_informative;        /* s^L */
    int n_tuples;             /* v^s */
    uint64_t placements;      /* per node: (s0+1)^s (A), C(S, s) (B) */
    double p_max;             /* distinct inputs (+inf when beyond double) */
    int n_parents[HS_RHM_MAX_LEVELS];      /* parents with rules at level l */
    int32_t *parents[HS_RHM_MAX_LEVELS];   /* [n_parents[l]], increasing */
    int32_t *rules[HS_RHM_MAX_LEVELS];     /* [rows x m] tuple codes, row = parent symbol (rows: n_c at
                                              l = 0, v after); -1 in the rows of symbols without rules */
    int32_t *children[HS_RHM_MAX_LEVELS];  /* [rows x m x s] the same rules decoded into symbols */
    int32_t *parent_of[HS_RHM_MAX_LEVELS]; /* [v^s] tuple code -> its parent, or -1 (unused tuple) */
    uint64_t *binom;          /* B: C(n, k) at [n * (s + 1) + k], n <= S, k <= s; else NULL */
} hs_rhm;

/* Draw the rules of o. Errors: HS_ERR_VALUE for parameters out of range (naming data.v, data.m,
 * ...), including m * parents > v^s at some level, e.g.
 *   "SRHM rules: level 0 needs data.m = 2 rules for each of 3 parents (the n_c classes) = 6 tuples,
 *    but only v^s = 2^2 = 4 tuples exist (no tuple may have two parents)";
 * HS_ERR_LIMIT beyond the HS_RHM_MAX_* sizes; HS_ERR_NOMEM. *out is NULL on failure. */
hs_code hs_rhm_rules(const hs_rhm_opts *o, hs_rhm **out, hs_error *err);
void hs_rhm_free(hs_rhm *g); /* NULL is fine */

/* P_max of o (see above), computed exactly while below 2^53, else through logs (+inf on overflow).
 * 0 when o is out of range. Needs no rules. */
double hs_rhm_pmax(const hs_rhm_opts *o);

/* Sample number `index` (< HS_RHM_MAX_INDEX) of sample seed `seed`: symbols[d] in 0..v-1 or -1.
 * Returns the label 0..n_c-1, or -1 when index is out of range. A pure function of
 * (g, seed, index); allocates nothing. */
int hs_rhm_sample(const hs_rhm *g, uint64_t seed, uint64_t index, int32_t *symbols);

/* symbols[d] -> x[v x d] (channel-major); whiten as above. */
void hs_rhm_encode(const hs_rhm *g, const int32_t *symbols, int whiten, float *x);

/* Parse symbols[d] bottom-up with the rules: the class, or -1 when the input is not a sentence of
 * the grammar (a symbol outside -1..v-1, a patch whose informative slots are not s in the layout of
 * g's sparsity, a tuple that is no rule of its level, an empty root). work[d] is scratch. */
int hs_rhm_parse(const hs_rhm *g, const int32_t *symbols, int32_t *work);

/* What hs_rhm_dataset drew. */
typedef struct hs_rhm_info {
    long long draws;      /* sample indices used */
    long long duplicates; /* samples skipped as equal to an earlier kept one */
    double p_max;
} hs_rhm_info;

/* The distinct-sample stream of (g, seed) cut into test (first n_test) and train (next n_train)
 * sets, as above; labels in y, encoding in x (whiten 0/1); dim = v * d, channels = v, height = 1,
 * width = d, classes = n_c. Errors: n_train + n_test > P_max (HS_ERR_VALUE, naming both counts
 * and P_max), negative counts, more than 2^31 values in a set (HS_ERR_LIMIT), HS_ERR_NOMEM. On
 * failure both sets are left zeroed. info may be NULL. */
hs_code hs_rhm_dataset(const hs_rhm *g, uint64_t seed, long long n_train, long long n_test, int whiten,
                       hs_dataset *train, hs_dataset *test, hs_rhm_info *info, hs_error *err);

/* ---------------------------------------------------------------- a sample's choices, perturbations
 * The sensitivity probes (Tomasini & Wyart; ../shared/reference/srhm-sensitivity.md section 1)
 * perturb a sample in one kind of choice while keeping the other, so a sample is also described
 * by its choices rather than its symbols: the class y and, for every informative node of its
 * generation tree, its synonym (which of its symbol's m rules it uses, 0..m-1) and its placement
 * (where its s children sit in its patch, a code 0..placements-1: A: the offsets o_0 .. o_(s-1)
 * in {0..s0} as the number o_0 (s0+1)^(s-1) + ... + o_(s-1); B: the lexicographic rank of the
 * slot subset, as hs_rhm_sample unranks it). Nodes are numbered by their place in the tree, not
 * in the input: node k of generation level g (0 <= k < s^g, g = 0 the root) is child k % s of
 * node k / s of level g - 1, at index (s^g - 1) / (s - 1) + k of the arrays (hs_rhm_n_nodes(g) =
 * (s^L - 1) / (s - 1) nodes). A node's rule decides its children's symbols, its placement where
 * they sit, so the two never interact: moving a subtree keeps its symbols, re-drawing a rule
 * keeps every position. Children keep their order in both sparsities, so the informative symbols
 * read left to right are the leaves in tree order.
 *
 *     hs_rhm_choices c = {.y = 2, .rule = rule, .place = place};   // arrays of hs_rhm_n_nodes(g)
 *     hs_rng rng;
 *     hs_rng_init(&rng, seed, hs_rng_stream(HS_STREAM_PROBE, HS_RHM_PROBE_STREAM(0, i)));
 *     hs_rhm_redraw(g, &rng, g->o.L, HS_RHM_SYNONYMS | HS_RHM_PLACEMENTS, &c);  // a fresh class-2 sample
 *     hs_rhm_build(g, &c, symbols);                                              // its d symbols
 *     // hs_rhm_parse(g, symbols, work) == 2
 *     hs_rhm_redraw(g, &rng2, 1, HS_RHM_SYNONYMS, &c);  // P_1: new rules at the bottom level only
 *
 * The probe set (hs_rhm_probes_make): n = n_per_class x n_c reference samples, sample i of class
 * i % n_c (so any first rows cover the classes evenly), drawn with key `seed` (the run's data
 * seed) from stream (HS_STREAM_PROBE, HS_RHM_PROBE_STREAM(0, i)), never from the training
 * data's streams: adding a probe changes no training set. (A reference sample may equal a
 * training sample by chance, as in the authors' code.) Then 2L perturbed copies of each, one
 * block per perturbation, each starting from the reference choices:
 *   block l (1 <= l <= L):       P_l, the synonyms of the bottom l generation levels (g >= L - l)
 *                                re-drawn from stream HS_RHM_PROBE_STREAM(l, i); positions and
 *                                class kept. P_L is a fresh sample of the same class on the same
 *                                positions.
 *   block L + l (1 <= l <= L):   tau_l, the placements of the bottom l levels re-drawn from stream
 *                                HS_RHM_PROBE_STREAM(L + l, i); symbols and class kept (the RHM,
 *                                s0 = 0, has one placement: tau_l is the identity there).
 * A re-draw may pick the old choice again (probability 1/m per node for a rule), as the authors'
 * re-draw does. hs_rhm_probes_encode encodes rows of a block like the training inputs
 * (hs_rhm_encode, the run's data.whiten). */
#define HS_RHM_PROBE_MAX_SAMPLES (1 << 24)
/* block <= 2 HS_RHM_MAX_LEVELS < 64, i < 2^24: indices below 2^30 (rng.h lists the ranges) */
#define HS_RHM_PROBE_STREAM(block, i) ((uint32_t)(block) << 24 | (uint32_t)(i))
enum { HS_RHM_SYNONYMS = 1, HS_RHM_PLACEMENTS = 2 };

typedef struct hs_rhm_choices {
    int y;           /* the class */
    int32_t *rule;   /* [hs_rhm_n_nodes(g)] synonym of every informative node, 0..m-1 */
    uint64_t *place; /* [hs_rhm_n_nodes(g)] placement code of every informative node */
} hs_rhm_choices;

/* Informative internal nodes of a sample's tree: (s^L - 1) / (s - 1). */
size_t hs_rhm_n_nodes(const hs_rhm *g);
/* Re-draw `what` (HS_RHM_SYNONYMS, HS_RHM_PLACEMENTS or both) of the nodes of the bottom `levels`
 * generation levels (levels >= L: every level) from rng, level by level from the top, nodes in
 * order, the rule before the placement of each node; the class and the other choices stay. */
void hs_rhm_redraw(const hs_rhm *g, hs_rng *rng, int levels, unsigned what, hs_rhm_choices *c);
/* The d symbols of the sample c describes (0..v-1, -1 = empty), as hs_rhm_sample lays them out. */
void hs_rhm_build(const hs_rhm *g, const hs_rhm_choices *c, int32_t *symbols);
/* Where the children of a node with placement code `place` sit: slot[t] in 0..S-1, t < s. */
void hs_rhm_slots(const hs_rhm *g, uint64_t place, int *slot);

typedef struct hs_rhm_probes {
    int n, n_per_class;    /* reference samples n = n_per_class x n_c */
    int blocks;            /* 2L + 1: block 0 the reference set, then P_1..P_L, tau_1..tau_L */
    hs_rhm_choices *c;     /* [blocks x n], block b's sample i at [b n + i] */
    int32_t *rules;        /* storage behind c */
    uint64_t *places;
    int32_t *symbols;      /* [d] scratch of hs_rhm_probes_encode */
} hs_rhm_probes;
/* The reference set and its 2L perturbed blocks, as above. Errors: n_per_class < 1 or n above
 * HS_RHM_PROBE_MAX_SAMPLES (HS_ERR_VALUE, naming record.sensitivity), HS_ERR_NOMEM. out is
 * zeroed on failure. */
hs_code hs_rhm_probes_make(const hs_rhm *g, uint64_t seed, int n_per_class, hs_rhm_probes *out, hs_error *err);
/* Encode samples first .. first + count - 1 of block b into x [count x v d] (hs_rhm_encode). */
void hs_rhm_probes_encode(const hs_rhm *g, hs_rhm_probes *p, int b, int first, int count, int whiten, float *x);
void hs_rhm_probes_free(hs_rhm_probes *p); /* safe on a zeroed struct */

/* ================================================================ hierarchical category data
 * data.kind hierarchy: the Gaussian graph prior of Kemp & Tenenbaum (PNAS 2008) on a tree, as in
 * "Learning Dynamics of Hierarchical Category Structure in Deep Non-Linear Networks" (NeurIPS 2021
 * submission; its create_synth_data_cholesky_method.m and Lake et al.'s rescale_data.m); the
 * reference note is ../shared/reference/hierarchy.md.
 *
 * Graph (b = branching, V = levels, C = b^V leaves, E = C * per_leaf examples). Nodes are numbered
 * children before parents, which is also the elimination order of the sampler:
 *   examples  0 .. E-1       example j of leaf c is node c * per_leaf + j, hung from its leaf;
 *   level 0   E .. E+C-1     the C leaves (class nodes); leaf c's parent is node c / b of level 1;
 *   level l   b^(V-l) nodes, 1 <= l < V, node k's parent is node k / b of level l + 1;
 *   level V   the root (every node of level V - 1 joins it).
 * b = 2, V = 6: 64 + 32 + 16 + 8 + 4 + 2 + 1 = 127 hidden nodes above the 64000 examples.
 * data.kind partition (the control): the same E examples and C class nodes, no tree above them
 * (every class node is a root).
 *
 * Features: P = data.features independent draws, feature f from stream (HS_STREAM_DATA, f) of
 * data.seed: one edge length l ~ Exponential(mean beta) (l = -beta log u, u uniform in (0, 1)),
 * every edge of the graph gets weight w = 1/l; Q = weighted Laplacian + diag(1/sigma^2 on the
 * example nodes); then z ~ N(0, I) over all nodes in node order and x = L^-T z with Q = L L^T
 * (hs_forest_cholesky, hs_forest_solve): x ~ N(0, Q^-1) exactly, in O(nodes) per feature. The
 * example nodes' values are kept; nothing else is added.
 *
 * Normalisation, over all E examples before the split (rescale_data.m): subtract the global mean
 * (one scalar over all E x P values), then divide by sqrt of the largest entry of the
 * example-by-example covariance C_ab = (1/P) sum_f (x_af - m_a)(x_bf - m_b), m_a = the mean of
 * example a over the features (MATLAB's cov(X', 1)). By Cauchy-Schwarz |C_ab| <= sqrt(C_aa C_bb),
 * so the largest entry is the largest diagonal entry: one pass over the rows, never the E x E
 * matrix. Afterwards the global mean is 0 and max C_ab = 1 (to float rounding). The statistics
 * are accumulated in double over the float32 values. (A later version of the authors' code,
 * rescale_data_feature_based.m, subtracts one mean per feature instead; the published
 * submission's code, followed here, subtracts the one global scalar.)
 *
 * Split: per leaf, round(per_leaf * test_fraction) of its examples (half up) are test, chosen by a
 * shuffle of its per_leaf examples with stream (HS_STREAM_TEST, c). Both sets keep the rows leaf
 * after leaf, examples in node order within a leaf. y = the leaf c (0..C-1); hierarchy: levels =
 * V, branching = b, so the level-l label is y / b^l; partition: levels = 1, branching = 0.
 * data.n_test must stay 0 (the split is data.test_fraction); data.per_class is not used.
 *
 *     hs_data_opts o = {.kind = "hierarchy", .seed = 1, .branching = 2, .levels = 6,
 *                       .per_leaf = 1000, .features = 936, .sigma = 5, .beta = 1.6103e-4,
 *                       .test_fraction = 0.2};
 *     hs_dataset train = {0}, test = {0};
 *     HS_TRY(err, hs_data_load(&o, &train, &test, err));
 *     // train.n == 51200 (800 per leaf), test.n == 12800, dim == 936, classes == 64,
 *     // levels == 6, branching == 2: the coarsest label of row r is train.y[r] / 32 (0 or 1)
 *     hs_dataset_free(&train); hs_dataset_free(&test);
 *
 * ---------------------------------------------------------------- a Gaussian prior on a forest
 * Nodes 0..n-1, numbered children before parents: parent[i] > i, or -1 for a root. Edge
 * (i, parent[i]) has weight w[i] >= 0 (a root's w is not read), s[i] >= 0 is added on the
 * diagonal: Q = weighted Laplacian + diag(s). Eliminating in node order (leaves first) has no
 * fill-in, so the Cholesky factor Q = L L^T (L lower triangular, positive diagonal: what LAPACK's
 * dpotrf 'L' computes) has two entries per column: diag[i] = L[i][i] and off[i] = L[parent[i]][i]
 * (0 for a root). The pivots are formed as conductances in series,
 *     e_i = s_i + sum over children c of w_c e_c / (w_c + e_c),   L[i][i]^2 = w_i + e_i,
 * which equals the textbook Q_ii - sum_c L[i][c]^2 but subtracts nothing: with w ~ 6000 and
 * 1/sigma^2 = 0.04 the textbook form cancels away about 5 digits per level (more for rare tiny
 * edge lengths), this form keeps full precision. */

/* Q = L L^T as above. HS_ERR_VALUE when a w or s is negative or not finite, a parent is out of
 * order, or Q is not positive definite (a tree of the forest without any s > 0). */
hs_code hs_forest_cholesky(int32_t n, const int32_t *parent, const double *w, const double *s, double *diag,
                           double *off, hs_error *err);
/* x = L^-T x in place (on entry the N(0, I) draws z, on return a draw of N(0, Q^-1)), from the
 * roots down: x_i = (z_i - off[i] x_parent) / diag[i]. */
void hs_forest_solve(int32_t n, const int32_t *parent, const double *diag, const double *off, double *x);

/* Sizes refused (HS_ERR_LIMIT) beyond: graph nodes of hierarchy / partition data; modules. */
#define HS_HIERARCHY_MAX_NODES (1ll << 30)
#define HS_GATED_MAX_MODULES 4096

/* ================================================================ xor, the routing task
 * xor (rich vs lazy): the 4 points (x1, x2) in {-1, 1}^2 in the order (-1,-1), (-1,1), (1,-1),
 * (1,1); target t = x1 x2 negated: -1, +1, +1, -1 (t_dim 1), y = 0 for -1 and 1 for +1, classes 2,
 * dim 2. data.repeats = 1: the training set is the 4 points exactly and the test set is the same
 * 4 points (data.noise and data.test_fraction are not used). data.repeats = R > 1: point p is
 * copied R times, copy k adding noise * N(0, 1) to x1 and x2 (stream (HS_STREAM_DATA, p), copy
 * after copy), and round(R test_fraction) copies of each point (a shuffle with stream
 * (HS_STREAM_TEST, p)) are test; rows point after point, copies in order.
 *
 * gated_toy (Saxe, Sodhani & Lewallen, ICML 2022): items X = I_4, targets Y[4 x 7]:
 *     item 0: 6 4 0 3 0 0 0      item 2: 6 0 4 0 0 3 0
 *     item 1: 6 4 0 0 3 0 0      item 3: 6 0 4 0 0 0 3
 * M = data.modules input and output modules, K = data.active: pathway (i, j) is trained when
 * j = i + o (mod M) for an offset o in [-floor((K-1)/2), floor(K/2)] ("K plus-minus mod"). A row is
 * one (item, pathway): x = [one-hot item (4) | i | j] (dim 6), t = Y[item] (t_dim 7), y = item
 * (classes 4), modules = M. Training rows: the 4 M K active (item, pathway) pairs; test rows: the
 * 4 M (M - K) inactive ones (zero-shot; empty when K = M). Rows ordered by i, then j (0..M-1),
 * then item.
 *
 * gated_fmnist: the same routing on Fashion-MNIST items: the cfm training subset of data.per_class
 * (or data.class_counts) per class, chosen exactly as cfm chooses it (10x10, [-1, 1], file
 * order). Input module i sees the pixels permuted by pi_i (x[p] = pixels[pi_i[p]]), output module
 * j the label permuted by sigma_j; pi_0 and sigma_0 are the identity, pi_i (i >= 1) is a shuffle
 * of 0..99 with stream (HS_STREAM_DATA, HS_GATED_PIXEL_STREAM + i), sigma_j one of 0..9 with
 * (HS_STREAM_DATA, HS_GATED_LABEL_STREAM + j), both of data.seed. A row: x = [pi_i(pixels) (100)
 * | i | j] (dim 102), y = sigma_j(label), t = one-hot(y) (t_dim 10), classes 10. Training rows:
 * every item on every active pathway; test rows: the SAME items on the inactive pathways (the
 * Fashion-MNIST test split is not used). Order as gated_toy: i, then j, then item.
 *
 *     hs_data_opts o = {.kind = "gated_toy", .modules = 7, .active = 4};
 *     HS_TRY(err, hs_data_load(&o, &train, &test, err));
 *     // train.n == 112, test.n == 84, dim 6, t_dim 7; row 0: x = 1 0 0 0 | 0 | 0 (item 0 on
 *     // pathway 0 -> 0), t = 6 4 0 3 0 0 0; pathway 0 -> 3 is test (offsets -1..2 mod 7 = 6, 0, 1, 2)
 */
#define HS_GATED_PIXEL_STREAM 0x40000000u
#define HS_GATED_LABEL_STREAM 0x80000000u
#define HS_GATED_GATE_STREAM 0xC0000000u

/* gated_perm, gated_rot (the paper's image experiments, gated-dln-experiments.md): the training
 * split of 28x28 Fashion-MNIST (the subset of data.per_class or data.class_counts chosen as cfm
 * chooses it), pixels v / 255 in [0, 1]. Input domain i: gated_perm permutes the 784 pixels by a
 * shuffle with stream (HS_STREAM_DATA, HS_GATED_PIXEL_STREAM + i) of data.seed (i = 0 included:
 * no domain is the identity); gated_rot rotates by 270 i / M degrees (bilinear, zero fill,
 * counter-clockwise about the centre). Output domain j relabels class c as map_j[c] =
 * hs_lex_label_map(j) (the position of c in the j-th permutation of 0..9 in lexicographic
 * order; for M <= 120 classes 0..4 keep their labels in every domain). Gate "K plus mod permute":
 * col = a shuffle of 0..M-1 with (HS_STREAM_DATA, HS_GATED_GATE_STREAM), pathway (i, j) is
 * trained when (col[j] - i) mod M < K, so every input and every output domain has exactly K
 * trained partners. A row: x = [T_i(pixels) (784) | i | j] (dim 786), y = map_j[label],
 * t = one-hot(y) (t_dim 10); training rows every item on the trained pathways, test rows the
 * same items on the held-out ones; order i, then j, then item. The loss of the paper is
 * cross-entropy (train.loss ce); the error is 1 - accuracy. */
int hs_gate_plus_permute_active(int M, int K, const uint32_t *col, int i, int j);
/* map[c] = the position of class c in the j-th (0-based, lexicographic) permutation of 0..9;
 * j in 0..10! - 1. */
void hs_lex_label_map(long long j, int map[10]);

/* ================================================================ whitening
 * data.zca: the training inputs are whitened, x <- Sigma_xx^(-1/2) x with Sigma_xx = (1/n) X^T X
 * (uncentred, as the deep-linear-network solutions assume E[x x^T] = I), and the test inputs get
 * the same matrix. Eigen-directions with eigenvalue <= eps * the largest are dropped (a
 * pseudo-inverse square root, so rank-deficient data stays finite). Double precision, LAPACK
 * dsyevd; O(n p^2 + p^3), up to p = 8192 dimensions (HS_ERR_LIMIT beyond). */
hs_code hs_data_zca(hs_dataset *train, hs_dataset *test, double eps, hs_error *err);

#endif /* HSWEEP_DATA_H */
