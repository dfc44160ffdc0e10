/* hnet.c - the hierarchical nets of nn.h (CNN, LCN, FCN with non-overlapping filters, in the
 * mean-field parametrisation of the SRHM experiments) behind the generic hs_model interface.
 *
 * Every hidden layer of the three kinds is one "patch layer": B samples, P output positions, each
 * reading a contiguous patch of K inputs and writing Co outputs,
 *     z[b, i, c'] = alpha * sum_j W_i[c', j] in[b, i, j] + bs * bias[i, c'],   h = ReLU(z)
 * with in [B x P x K] and h [B x P x Co] row-major. The kinds differ only in how they fill it:
 *     CNN: K = S * C_in, Co = H, W_i = W shared by all P positions, alpha = 1/sqrt(C_in)
 *     LCN: the same shapes, one W_i per position
 *     FCN: P = 1, K = all inputs of the dense layer, Co = H * d/S^(l+1), alpha = 1/sqrt(K)
 * CNN and LCN keep activations position-major ([B][position][channel]), so the patch of output
 * position i is the contiguous run of S positions x C_in channels starting at i * S * C_in: the
 * CNN layer is one product over B * P rows, the LCN layer one product per position with leading
 * dimension P * K, and no im2col copy is ever made. Only the input needs a transpose, from the
 * channel-major x[c * d + i] of the data to [i][c]. All memory comes from one block allocated
 * at construction; forward and backward never allocate.
 *
 * The products run on src/nn/gemm.c's kernel in the forms that suit a minibatch of 24-32 rows
 * against a weight of megabytes (bench/README.md, bench_hnet, measures them against the sgemm
 * peak): the forward as its transpose, z^T = W_i in_i^T (hs_gemm_nt_short: the weight streamed
 * once from wherever it lies, with no pack), then one pass that transposes back, scales, adds
 * the bias and applies the ReLU; din with the weight prefetched; dW_i by row tiles. When the
 * training step's optimiser is SGD or momentum (hs_model_backward_each's sgd), dW_i is never
 * stored: each tile of it steps W_i and its momentum as it leaves the registers. Up to
 * STREAM_UPDATED_BYTES a tensor, din, dW_i and the step are one sweep over W_i
 * (hs_gemm_backward_update: each block of W_i read once, its din term added, then stepped); above
 * it din runs first and the step follows the gradient's row tiles (hs_gemm_tn_update). Either way
 * the step moves W and its momentum once, beside the FMAs, instead of writing the gradient and
 * reading all three back in a pass of its own. Otherwise dW_i is stored, around the caches once it
 * is too large to stay in them until the optimiser reads it. The path of each product depends on
 * its shape alone. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "carve.h"
#include "gemm.h"
#include "hsweep/nn.h"
#include "hsweep/rng.h"
#include "hsweep/util.h"

/* Bounds that keep every int product handed to a product (rows = batch x positions, leading
 * dimensions = positions x patch) below INT_MAX, and every size_t product far from overflow.
 * Depth is bounded by the positions anyway (d = S^L <= 2^24 with S >= 2 means L <= 24); the
 * per-layer arrays below hold HNET_MAX_DEPTH. */
#define HNET_MAX_DIM (1 << 24)
#define HNET_MAX_DEPTH 64

typedef struct hnet {
    hs_hnet_opts o;
    int L, H, K;                 /* depth, width, classes */
    int shared;                  /* one W for all positions: CNN (and the FCN, which has one position) */
    float bs;                    /* bias scale */
    /* per hidden layer l: the patch-layer shapes (see the top of the file) */
    int P[HNET_MAX_DEPTH];       /* output positions */
    int KP[HNET_MAX_DEPTH];      /* patch length (inputs per output position) */
    int LD[HNET_MAX_DEPTH];      /* row stride of the weight, >= KP (padded_ld) */
    int Co[HNET_MAX_DEPTH];      /* outputs per position */
    float alpha[HNET_MAX_DEPTH]; /* pre-activation scale */
    int width[HNET_MAX_DEPTH];   /* P * Co = H * d/S^(l+1): the model's hidden_width */
    /* views into params / grads; W[L], dW[L] = the readout */
    float *W[HNET_MAX_DEPTH + 1], *b[HNET_MAX_DEPTH], *dW[HNET_MAX_DEPTH + 1], *db[HNET_MAX_DEPTH];
    hs_tensor tensors[2 * HNET_MAX_DEPTH + 1];
    float *params, *grads;       /* [n_params] */
    size_t n_params;
    float *xin;                  /* [max_batch x d x v] position-major input (CNN, LCN) */
    float *h[HNET_MAX_DEPTH];    /* [max_batch x width[l]] post-ReLU outputs */
    float *logits, *dlogits;     /* [max_batch x K] */
    float *dl_scaled;            /* [max_batch x K] dlogits / H, backward's copy */
    float *zt;                   /* a transposed product of up to SHORT_ROWS rows, [Co x rows] */
    float *pack;                 /* HS_GEMM_SHORT_WORK floats for hs_gemm_nt_short */
    int stream_dw;               /* the weight gradients are stored around the caches (STREAM_GRADIENT_BYTES) */
    float *work_a, *work_b;      /* [max_batch x max_w] gradient ping-pong */
    const float *input;          /* layer 0's input of the last forward: xin, or x itself (FCN, borrowed) */
    int last_B;
    void *alloc; /* hs_map_zeroed's, of alloc_bytes */
    size_t alloc_bytes;
} hnet;

static hnet *net_of(const hs_model *m) { return (hnet *)m->impl; }

/* ================================================================ the patch layer */

/* From this many bytes of gradient on, the dW products store around the caches: between a
 * gradient's product and the optimiser's read of it the step moves the whole net's weights,
 * gradients and optimiser state (three times this), which then no longer stay in a core's share
 * of L3, and a store that misses would first read the line it overwrites. Measured with
 * bench_hnet (bench/README.md): +4-6% at 1.6-5 M parameters, neutral to -3% below 0.5 M. */
#define STREAM_GRADIENT_BYTES ((size_t)4 << 20)

/* The threshold per tensor when the caller updates each tensor as soon as its gradient is final
 * (hs_model_backward_each): the update then reads the gradient back from cache right away, so
 * only a gradient too large to stay there goes around it. Measured with bench_hnet against the
 * update as a pass of its own (bench/README.md), steps per second: the L = 2 nets (tensors up to
 * 6.3 MB) 1.13-1.21x, the L = 3 CNN 0.98-1.13x; the L = 3 LCN (a 16.8 MB tensor) and FCN (12.6
 * and 64 MB) 0.98-1.02x with those streamed, 0.84-0.95x with them stored into the cache. The same
 * bound picks the step inside the products (patch_backward): one sweep over W_i by column strips
 * up to it; above it, where those strips touch a new page every row, din in row order and the
 * step by the gradient's row tiles (the single sweep made the L = 3 LCN 0.9x, the FCN 0.8x). */
#define STREAM_UPDATED_BYTES ((size_t)8 << 20)

/* Rows up to this many take the transposed product (hs_gemm_nt_short: the weight streamed, once
 * per 32 rows); taller ones the kernel's usual form (the weight packed once, swept by all rows). */
#define SHORT_ROWS 128

/* h[r][j] = ReLU(alpha * z[r][j] + bs * bias[r mod period][j]) for r < M, j < N, with z read
 * transposed from zt[N x M] (ldzt) when zt is not NULL, else in place from h; h rows ldh apart. */
static void bias_relu(float *restrict h, int ldh, const float *restrict zt, int ldzt, const float *restrict bias,
                      int period, int M, int N, float alpha, float bs) {
    for (int r = 0; r < M; r++) {
        float *hr = h + (size_t)r * ldh;
        const float *br = bias + (size_t)(r % period) * N;
        if (zt)
            for (int j = 0; j < N; j++) {
                const float v = alpha * zt[(size_t)j * ldzt + r] + bs * br[j];
                hr[j] = v > 0.0f ? v : 0.0f;
            }
        else
            for (int j = 0; j < N; j++) {
                const float v = alpha * hr[j] + bs * br[j];
                hr[j] = v > 0.0f ? v : 0.0f;
            }
    }
}

/* One product z = in_i . W_i^T of M rows (in rows lda apart, W_i's ldw) into h (rows ldh apart), then the
 * bias of period `period` and the ReLU; the path depends on M alone. */
static void product_forward(hnet *n, float *h, int ldh, const float *in, int lda, const float *W, int ldw,
                            const float *bias, int period, int M, int K, int Co, float alpha) {
    if (M <= SHORT_ROWS) {
        hs_gemm_nt_short(M, Co, K, in, lda, W, ldw, n->zt, M, n->pack);
        bias_relu(h, ldh, n->zt, M, bias, period, M, Co, alpha, n->bs);
    } else {
        hs_gemm_kernel(HS_GEMM_NT, M, Co, K, in, lda, W, ldw, NULL, 0, h, ldh, 0);
        bias_relu(h, ldh, NULL, 0, bias, period, M, Co, alpha, n->bs);
    }
}

/* Layer l from in [B x P x K] to h[l] [B x P x Co] (the patch-layer shapes at the top of the
 * file): h = ReLU(alpha * in_i . W_i^T + bs * bias_i). Shared weights make all B * P patch rows
 * one product (the bias of row b * P + i is bias_i); per-position weights one product per
 * position over rows strided by P * K (in) and P * Co (h). */
static void patch_forward(hnet *n, int l, const float *in, int B) {
    const int P = n->P[l], K = n->KP[l], Co = n->Co[l], ldw = n->LD[l];
    if (n->shared) {
        product_forward(n, n->h[l], Co, in, K, n->W[l], ldw, n->b[l], P, B * P, K, Co, n->alpha[l]);
        return;
    }
    for (int i = 0; i < P; i++)
        product_forward(n, n->h[l] + (size_t)i * Co, P * Co, in + (size_t)i * K, P * K,
                        n->W[l] + (size_t)i * Co * ldw, ldw, n->b[l] + (size_t)i * Co, 1, B, K, Co, n->alpha[l]);
}

/* Backward of patch_forward (layer l, which read in) from dh [B x P x Co], the gradient w.r.t.
 * h[l]; dh is overwritten with alpha * dz, dz = dh * (h > 0) (z > 0 exactly where h > 0), so
 * that the products below need no scale of their own. Then, into the layer's gradients,
 *   dbias[P x Co] = bs * sum_b dz
 *   dW_i [Co x K] = alpha * dz_i^T . in_i   (shared: summed over positions, which the single
 *                                           product over B * P rows does by itself)
 *   din  [B x P x K] = alpha * dz_i . W_i   (skipped when din is NULL: the input layer)
 * din must not alias dh (a product must not write its input). The products run once over all
 * B * P patch rows (shared) or once per position over B rows strided by P * Co (dz) and P * K
 * (in, din). stream: dW is stored around the caches. sgd (may be NULL): dW is not stored but
 * steps W by sgd as it is computed, after din has read W: in one sweep over W_i
 * (hs_gemm_backward_update), or, with stream, din first and the step by the gradient's row tiles
 * (hs_gemm_tn_update); returns 1 when it was, 0 when dW was stored. */
static int patch_backward(hnet *n, int l, float *din, float *restrict dh, const float *in, int B, int stream,
                          const hs_optim_sgd *sgd) {
    const int P = n->P[l], K = n->KP[l], Co = n->Co[l], ldw = n->LD[l];
    const float alpha = n->alpha[l], bs = n->bs, *restrict h = n->h[l];
    float *restrict dbias = n->db[l];
    const size_t row = (size_t)P * Co;
    memset(dbias, 0, row * sizeof(float));
    for (int r = 0; r < B; r++) {
        float *d = dh + (size_t)r * row;
        const float *o = h + (size_t)r * row;
        for (size_t j = 0; j < row; j++) {
            const float g = o[j] > 0.0f ? d[j] : 0.0f;
            d[j] = alpha * g;
            dbias[j] += g;
        }
    }
    for (size_t j = 0; j < row; j++) dbias[j] *= bs;
    const int products = n->shared ? 1 : P, rows = n->shared ? B * P : B;
    const int ldz = n->shared ? Co : P * Co, ldi = n->shared ? K : P * K;
    const int fused = sgd && hs_gemm_update_applies(rows);
    for (int i = 0; i < products; i++) {
        const size_t at = (size_t)i * Co * ldw; /* W_i and dW_i */
        const float *dz = dh + (size_t)i * Co, *ini = in + (size_t)i * K;
        float *Wi = n->W[l] + at, *dini = din ? din + (size_t)i * K : NULL;
        hs_optim_sgd si = fused ? *sgd : (hs_optim_sgd){0};
        if (si.buf) si.buf += at;
        if (fused && !stream) { /* one sweep over W_i: din, the gradient and the step tile by tile */
            hs_gemm_backward_update(rows, Co, K, dz, ldz, ini, ldi, Wi, ldw, dini, ldi, &si);
            continue;
        }
        /* din in row order, before any step can change W_i; beyond the caches the sweep's column
         * strips (one row of W_i every few hundred FMAs) lose to that, then the step as the
         * gradient's row tiles leave */
        if (dini) hs_gemm_kernel(HS_GEMM_NN, rows, K, Co, dz, ldz, Wi, ldw, NULL, 0, dini, ldi, 0);
        if (fused) hs_gemm_tn_update(Co, K, rows, dz, ldz, ini, ldi, Wi, ldw, &si);
        else hs_gemm_kernel(HS_GEMM_TN, Co, K, rows, dz, ldz, ini, ldi, NULL, 0, n->dW[l] + at, ldw, stream);
    }
    return fused;
}

/* ================================================================ the model's operations */

/* x [B x v*d] channel-major -> logits [B x K]; NULL when B is out of 1..max_batch. mode is
 * ignored (no batch statistics). */
static const float *hnet_forward(hs_model *m, const float *x, int B, hs_mode mode) {
    (void)mode;
    hnet *n = net_of(m);
    n->last_B = 0;
    if (B < 1 || B > n->o.max_batch) return NULL;
    const int v = n->o.channels, d = n->o.positions;
    if (n->o.kind == HS_HNET_FCN) {
        n->input = x;
    } else { /* xin[b][i][c] = x[b][c][i] */
        for (int r = 0; r < B; r++) {
            const float *xs = x + (size_t)r * v * d;
            float *t = n->xin + (size_t)r * v * d;
            for (int c = 0; c < v; c++)
                for (int i = 0; i < d; i++) t[(size_t)i * v + c] = xs[(size_t)c * d + i];
        }
        n->input = n->xin;
    }
    const float *in = n->input;
    for (int l = 0; l < n->L; l++) {
        patch_forward(n, l, in, B);
        in = n->h[l];
    }
    /* readout: logits = (1/H) h[L-1] . W_r^T, W_r [K x H] */
    hs_gemm(HS_GEMM_NT, B, n->K, n->H, in, n->H, n->W[n->L], n->H, NULL, 0, n->logits, n->K);
    const float inv_h = 1.0f / (float)n->H;
    for (int j = 0; j < B * n->K; j++) n->logits[j] *= inv_h;
    n->last_B = B;
    return n->logits;
}

/* dlogits [B x K] -> grads (overwritten), with ready (when not NULL) called for each tensor once
 * its gradient is final and no later product reads its weight: the readout after dh, a hidden
 * layer's weight and bias after its din. The gradient w.r.t. each hidden output alternates
 * between work_a and work_b. A backward whose B is not the last forward's fills grads with NaN
 * (as the MLP does) rather than return something plausible. */
static void hnet_backward_each(hs_model *m, const float *dlogits, int B, hs_tensor_ready ready, hs_tensor_sgd sgd,
                               void *ctx) {
    hnet *n = net_of(m);
    if (B < 1 || B != n->last_B) {
        for (int t = 0; t < m->n_tensors; t++) { /* the padding stays 0 (hs_tensor) */
            const hs_tensor *T = &n->tensors[t];
            for (int r = 0; r < T->rows; r++)
                for (int j = 0; j < T->cols; j++) n->grads[T->offset + (size_t)r * T->ld + j] = NAN;
        }
        for (int t = 0; ready && t < m->n_tensors; t++) ready(ctx, t);
        return;
    }
    const int L = n->L, H = n->H, K = n->K;
    const float inv_h = 1.0f / (float)H;
    float *buf[2] = {n->work_a, n->work_b};
    int cur = 0;
    /* readout: dW_r [K x H] = (1/H) dlogits^T . h[L-1];  dh [B x H] = (1/H) dlogits . W_r, the
     * scale taken by a copy of dlogits (the caller's, possibly m->dlogits itself) */
    for (int j = 0; j < B * K; j++) n->dl_scaled[j] = inv_h * dlogits[j];
    hs_gemm(HS_GEMM_TN, K, H, B, n->dl_scaled, K, n->h[L - 1], H, NULL, 0, n->dW[L], H);
    hs_gemm(HS_GEMM_NN, B, H, K, n->dl_scaled, K, n->W[L], H, NULL, 0, buf[cur], H);
    if (ready) ready(ctx, 2 * L);
    for (int l = L - 1; l >= 0; l--) {
        const float *in = l == 0 ? n->input : n->h[l - 1];
        float *din = l == 0 ? NULL : buf[cur ^ 1];
        const int stream = ready ? n->tensors[2 * l].size * sizeof(float) >= STREAM_UPDATED_BYTES : n->stream_dw;
        hs_optim_sgd step;
        const int fused =
            patch_backward(n, l, din, buf[cur], in, B, stream, sgd && sgd(ctx, 2 * l, &step) ? &step : NULL);
        if (ready && !fused) ready(ctx, 2 * l);
        if (ready) ready(ctx, 2 * l + 1);
        cur ^= 1;
    }
}

static void hnet_backward(hs_model *m, const float *dlogits, int B) {
    hnet_backward_each(m, dlogits, B, NULL, NULL, NULL);
}

static const float *hnet_hidden(const hs_model *m, int l) {
    const hnet *n = net_of(m);
    return l >= 0 && l < n->L ? n->h[l] : NULL;
}

/* No buffers besides the parameters. */
static size_t hnet_state_size(const hs_model *m) { return net_of(m)->n_params; }
static void hnet_state_get(const hs_model *m, float *s) {
    memcpy(s, net_of(m)->params, net_of(m)->n_params * sizeof(float));
}
static void hnet_state_set(hs_model *m, const float *s) {
    memcpy(net_of(m)->params, s, net_of(m)->n_params * sizeof(float));
}
static float *hnet_buffers(hs_model *m, size_t *n) {
    (void)m;
    *n = 0;
    return NULL;
}

static void hnet_free(hs_model *m) {
    hnet *n = net_of(m);
    if (n) hs_unmap(n->alloc, n->alloc_bytes);
    free(n);
}

static const hs_model_ops hnet_ops = {hnet_forward, hnet_backward, hnet_hidden, hnet_state_size,
                                      hnet_state_get, hnet_state_set, hnet_free, hnet_buffers, hnet_backward_each};

/* ================================================================ construction */

static const char *kind_name(hs_hnet_kind k) { return k == HS_HNET_CNN ? "cnn" : k == HS_HNET_LCN ? "lcn" : "fcn"; }

static hs_code validate(const hs_hnet_opts *o, hs_error *err) {
    if (o->kind != HS_HNET_CNN && o->kind != HS_HNET_LCN && o->kind != HS_HNET_FCN)
        return HS_FAIL(err, HS_ERR_VALUE, "hnet: unknown kind %d", (int)o->kind);
    const char *k = kind_name(o->kind);
    const struct {
        const char *name;
        int value, lo, hi;
    } ints[] = {{"channels", o->channels, 1, HNET_MAX_DIM}, {"positions", o->positions, 1, HNET_MAX_DIM},
                {"filter", o->filter, 2, HNET_MAX_DIM},     {"depth", o->depth, 1, HNET_MAX_DEPTH},
                {"width", o->width, 1, HNET_MAX_DIM},       {"out_dim", o->out_dim, 1, HNET_MAX_DIM},
                {"max_batch", o->max_batch, 1, HNET_MAX_DIM}};
    for (size_t q = 0; q < sizeof ints / sizeof ints[0]; q++)
        if (ints[q].value < ints[q].lo || ints[q].value > ints[q].hi)
            return HS_FAIL(err, HS_ERR_VALUE, "%s: %s must be in %d..%d, got %d", k, ints[q].name, ints[q].lo,
                           ints[q].hi, ints[q].value);
    double sl = 1; /* S^L, in double: never wraps */
    for (int l = 0; l < o->depth; l++) sl *= o->filter;
    if (sl != (double)o->positions)
        return HS_FAIL(err, HS_ERR_VALUE,
                       "%s: positions must equal filter^depth (non-overlapping filters reduce d positions to 1), "
                       "got positions %d, filter^depth = %d^%d = %.17g",
                       k, o->positions, o->filter, o->depth, sl);
    if (!isfinite(o->bias_scale) || o->bias_scale < 0)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: bias_scale must be finite and >= 0, got %g", k, o->bias_scale);
    /* sizes in double, so that absurd shapes fail here rather than wrap an int or a size_t: every
     * int handed to sgemm is at most max_batch x (the widest per-sample layer) */
    const double v = o->channels, d = o->positions, S = o->filter, H = o->width, B = o->max_batch;
    double in_w = v * d, params = H * o->out_dim, acts = B * (v * d + 2.0 * o->out_dim), max_w = fmax(H, o->out_dim);
    max_w = fmax(max_w, in_w);
    if (in_w > HNET_MAX_DIM)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: channels x positions must be at most %d, got %d x %d", k, HNET_MAX_DIM,
                       o->channels, o->positions);
    for (int l = 0; l < o->depth; l++) {
        const double P = d / pow(S, l + 1), w = H * P, cin = l == 0 ? v : H;
        params += (o->kind == HS_HNET_CNN ? H * S * cin : o->kind == HS_HNET_LCN ? w * S * cin : w * in_w) + w;
        acts += B * w;
        max_w = fmax(max_w, w);
        if (w > HNET_MAX_DIM)
            return HS_FAIL(err, HS_ERR_VALUE, "%s: layer %d has %.17g units (width %d x %.17g positions), more than %d",
                           k, l + 1, w, o->width, P, HNET_MAX_DIM);
        in_w = w;
    }
    if (B * max_w > INT_MAX)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: max_batch %d x %.17g floats per sample is beyond what sgemm indexes", k,
                       o->max_batch, max_w);
    const double bytes = (2 * params + acts + 2 * B * max_w) * sizeof(float);
    if (bytes > 0x1p50)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: %.3g bytes of parameters and activations is beyond any machine", k,
                       bytes);
    return HS_OK;
}


/* The row stride of a hidden layer's weight with rows of k floats. At k = 3072 (the L = 2 nets'
 * second layer: 6 x 512) rows lie 12 kB apart, a multiple of 4 kB, so every row of a column
 * strip maps to the same L1 set (and, in physically contiguous memory, to a few L2 sets): the 12
 * rows a step tile reads and the next block it prefetches evict each other. Rows an odd number of
 * 64-byte lines apart map to different sets. bench_hnet at width 512 on a Zen 4 core
 * (bench/README.md), with the huge pages of hs_map_zeroed: of the sgemm, L = 2 CNN 69-73% -> 86%,
 * LCN 78-82% -> 87%, L = 3 LCN 54-60% -> 71%; widths 496 and 528, whose rows are not 4 kB
 * multiples, ran at 90-93% unpadded. Short rows span few lines and keep their stride. */
static int padded_ld(int k) {
    if (k < 256) return k;
    const int ld = (k + 15) / 16 * 16;
    return (ld / 16) % 2 ? ld : ld + 16;
}

/* Shapes and the tensor table (no memory). Tensors, in parameter order: per hidden layer l the
 * weight then the bias (layer l), then the readout weight (layer L). Layouts, with a hidden
 * weight's rows ld = padded_ld(its columns) apart:
 *   CNN weight  [H x S*C_in]     element (c', k, c) at c' * ld + k * C_in + c
 *   LCN weight  [P*H x S*C_in]   element (i, c', k, c) at (i * H + c') * ld + k * C_in + c
 *   FCN weight  [n_out x n_in]   element (o, j) at o * ld + j; n_in = v*d (layer 0: the
 *                                channel-major x itself) or n_out of l-1
 *   CNN/LCN bias [P*H]           element (i, c') at i * H + c';  FCN bias [n_out]
 *   readout     [K x H]          element (k, c') at k * H + c' */
static void shapes(hnet *n, const hs_hnet_opts *o) {
    n->o = *o;
    n->L = o->depth, n->H = o->width, n->K = o->out_dim;
    n->shared = o->kind != HS_HNET_LCN;
    n->bs = (float)o->bias_scale;
    int P = o->positions, in_w = o->channels * o->positions;
    size_t off = 0;
    for (int l = 0; l < n->L; l++) {
        const int cin = l == 0 ? o->channels : o->width;
        P /= o->filter;
        n->width[l] = P * o->width;
        if (o->kind == HS_HNET_FCN) {
            n->P[l] = 1, n->KP[l] = in_w, n->Co[l] = n->width[l];
            n->alpha[l] = (float)(1.0 / sqrt((double)in_w));
        } else {
            n->P[l] = P, n->KP[l] = o->filter * cin, n->Co[l] = o->width;
            n->alpha[l] = (float)(1.0 / sqrt((double)cin));
        }
        const int wrows = o->kind == HS_HNET_CNN ? n->Co[l] : n->P[l] * n->Co[l];
        n->LD[l] = padded_ld(n->KP[l]);
        const size_t wsize = (size_t)wrows * (size_t)n->LD[l];
        n->tensors[2 * l] = (hs_tensor){HS_TENSOR_WEIGHT, l, off, wsize, wrows, n->KP[l], n->LD[l]};
        off += wsize;
        n->tensors[2 * l + 1] = (hs_tensor){HS_TENSOR_BIAS, l, off, (size_t)n->width[l], n->width[l], 1, 1};
        off += (size_t)n->width[l];
        in_w = n->width[l];
    }
    n->tensors[2 * n->L] = (hs_tensor){HS_TENSOR_WEIGHT, n->L, off, (size_t)n->K * n->H, n->K, n->H, n->H};
    n->n_params = off + (size_t)n->K * n->H;
}

static void layout(hnet *n, carver *c) {
    const size_t B = (size_t)n->o.max_batch, in_dim = (size_t)n->o.channels * n->o.positions;
    size_t max_w = (size_t)(n->H > n->K ? n->H : n->K);
    for (int l = 0; l < n->L; l++)
        if ((size_t)n->width[l] > max_w) max_w = (size_t)n->width[l];
    n->params = carve(c, n->n_params, sizeof(float));
    n->grads = carve(c, n->n_params, sizeof(float));
    n->xin = carve(c, n->o.kind == HS_HNET_FCN ? 0 : B * in_dim, sizeof(float));
    for (int l = 0; l < n->L; l++) n->h[l] = carve(c, B * (size_t)n->width[l], sizeof(float));
    n->logits = carve(c, B * (size_t)n->K, sizeof(float));
    n->dlogits = carve(c, B * (size_t)n->K, sizeof(float));
    n->dl_scaled = carve(c, B * (size_t)n->K, sizeof(float));
    size_t zt = 0;
    for (int l = 0; l < n->L; l++) {
        size_t rows = B * (size_t)(n->shared ? n->P[l] : 1);
        if (rows > SHORT_ROWS) rows = SHORT_ROWS;
        if (rows * (size_t)n->Co[l] > zt) zt = rows * (size_t)n->Co[l];
    }
    n->zt = carve(c, zt, sizeof(float));
    n->pack = carve(c, HS_GEMM_SHORT_WORK, sizeof(float));
    n->work_a = carve(c, B * max_w, sizeof(float));
    n->work_b = carve(c, B * max_w, sizeof(float));
    if (!c->base) return;
    for (int l = 0; l <= n->L; l++) {
        const hs_tensor *w = &n->tensors[2 * l];
        n->W[l] = n->params + w->offset, n->dW[l] = n->grads + w->offset;
        if (l == n->L) break;
        const hs_tensor *b = &n->tensors[2 * l + 1];
        n->b[l] = n->params + b->offset, n->db[l] = n->grads + b->offset;
    }
}

/* Every weight, bias and the readout ~ N(0, 1): layer l (readout: L) from stream (INIT, l) of the
 * seed, the weight row by row (its padding skipped: the draws do not depend on the stride), then
 * the bias, so no layer depends on another's shape. */
static void init_params(hnet *n) {
    for (int l = 0; l <= n->L; l++) {
        hs_rng r;
        hs_rng_init(&r, n->o.seed, hs_rng_stream(HS_STREAM_INIT, (uint32_t)l));
        const hs_tensor *w = &n->tensors[2 * l];
        for (int i = 0; i < w->rows; i++)
            for (int j = 0; j < w->cols; j++) n->params[w->offset + (size_t)i * w->ld + j] = (float)hs_rng_normal(&r);
        if (l == n->L) break;
        const hs_tensor *b = &n->tensors[2 * l + 1];
        for (size_t i = 0; i < b->size; i++) n->params[b->offset + i] = (float)hs_rng_normal(&r);
    }
}

hs_code hs_hnet_bytes(const hs_hnet_opts *o, size_t *bytes, hs_error *err) {
    *bytes = 0;
    HS_TRY(err, validate(o, err));
    hnet *n = calloc(1, sizeof *n);
    if (!n) return HS_FAIL(err, HS_ERR_NOMEM, "%s: out of memory", kind_name(o->kind));
    shapes(n, o);
    carver c = {NULL, 0};
    layout(n, &c); /* counts only: no base */
    *bytes = (c.used + 63) & ~(size_t)63;
    free(n);
    return HS_OK;
}

hs_code hs_model_hnet(hs_model *m, const hs_hnet_opts *o, hs_error *err) {
    memset(m, 0, sizeof *m);
    HS_TRY(err, validate(o, err));
    hnet *n = calloc(1, sizeof *n);
    if (!n) return HS_FAIL(err, HS_ERR_NOMEM, "%s: out of memory", kind_name(o->kind));
    shapes(n, o);
    carver c = {NULL, 0};
    layout(n, &c);
    const size_t bytes = (c.used + 63) & ~(size_t)63;
    void *block = hs_map_zeroed(bytes); /* grads and activations start defined */
    if (!block) {
        free(n);
        return HS_FAIL(err, HS_ERR_NOMEM, "%s: out of memory: %.3g GB for parameters, gradients and activations",
                       kind_name(o->kind), (double)bytes * 1e-9);
    }
    c = (carver){block, 0};
    layout(n, &c);
    n->alloc = block, n->alloc_bytes = bytes;
    init_params(n);
    n->stream_dw = n->n_params * sizeof(float) >= STREAM_GRADIENT_BYTES;
    *m = (hs_model){.ops = &hnet_ops,
                    .impl = n,
                    .params = n->params,
                    .grads = n->grads,
                    .n_params = n->n_params,
                    .tensors = n->tensors,
                    .n_tensors = 2 * n->L + 1,
                    .in_dim = o->channels * o->positions,
                    .out_dim = o->out_dim,
                    .max_batch = o->max_batch,
                    .n_hidden = n->L,
                    .hidden_width = n->width,
                    .dlogits = n->dlogits,
                    .lr_scale = o->width,
                    .batch_stats = 0};
    return HS_OK;
}
