/*
 * rng.h - counter-based random numbers (Philox4x32-10, Salmon et al. SC'11 / Random123).
 *
 * Why counter-based: a draw is a pure function of (seed, stream, position), so every stream of
 * every run is reproducible on its own, whatever rank runs it, in whatever order, and however
 * many other streams were used before. A run derives all randomness like this:
 *
 *     hs_rng init, order, data;
 *     hs_rng_init(&init, seed, hs_rng_stream(HS_STREAM_INIT, layer));    // weights of one layer
 *     hs_rng_init(&order, seed, hs_rng_stream(HS_STREAM_BATCH, epoch));  // minibatch order of one epoch
 *     hs_rng_init(&data, data_seed, hs_rng_stream(HS_STREAM_DATA, 0));    // dataset generation / subset
 *     float w = (float)hs_rng_normal(&init) * scale;
 *     hs_rng_permute(&order, idx, n);
 *
 * Changing the depth of a net therefore does not change the batch order, and changing `seed` with a
 * fixed `data.seed` keeps the data. Layout: key = the 64-bit seed; counter words 0-1 = position
 * (64-bit, one 128-bit block per step), words 2-3 = the 64-bit stream id.
 */
#ifndef HSWEEP_RNG_H
#define HSWEEP_RNG_H

#include <stddef.h>
#include <stdint.h>

/* Purposes of streams; the low 32 bits of a stream id index within a purpose (layer, epoch, ...).
 * Never renumber: results files record which numbers were drawn. */
enum {
    HS_STREAM_INIT = 1,   /* parameter initialisation, index = layer */
    HS_STREAM_BATCH = 2,  /* minibatch order, index = epoch */
    HS_STREAM_DATA = 3,   /* synthetic data generation, subset choice */
    HS_STREAM_TEST = 4,   /* test-set sampling */
    HS_STREAM_RECORD = 5, /* sampling done by recorders (e.g. representation snapshots) */
    HS_STREAM_DROPOUT = 6, /* dropout masks, index = layer (word offset = elements of earlier steps) */
    HS_STREAM_AUGMENT = 7, /* data augmentation (crops, flips), index = epoch */
    HS_STREAM_PROBE = 8,   /* probes' reference sets and perturbations (sensitivities, stability) */
    HS_STREAM_SAMPLE = 9,  /* a spec's random axes (keyed by sample.seed), index = FNV-1a of the key's name */
    HS_STREAM_DROPPATH = 10, /* drop-path masks, index = block (word offset = rows of earlier steps) */
};

/* Indices within HS_STREAM_PROBE (keyed by the run's data seed), i < 2^24 an input's number:
 * below 2^30 the SRHM probe set (data.h, HS_RHM_PROBE_STREAM(block, i)); then the noise of the
 * Gaussian control's input i; which test images the stability probe takes; the diffeomorphism
 * and the noise of its image i (metrics.h). */
#define HS_PROBE_GAUSS(i) (0x40000000u | (uint32_t)(i))
#define HS_PROBE_PICK 0x80000000u
#define HS_PROBE_DIFFEO(i) (0x81000000u | (uint32_t)(i))
#define HS_PROBE_NOISE(i) (0x82000000u | (uint32_t)(i))
#define HS_PROBE_MAX_INPUTS (1 << 24)

static inline uint64_t hs_rng_stream(uint32_t purpose, uint32_t index) { return (uint64_t)purpose << 32 | index; }

typedef struct hs_rng {
    uint32_t key[2];
    uint64_t stream;
    uint64_t position; /* next block to generate */
    uint32_t block[4];
    int used;          /* words of block already returned (4 = empty) */
    int has_spare;     /* Box-Muller makes normals in pairs */
    double spare;
} hs_rng;

/* The raw bijection: out = Philox4x32-10(counter, key). */
void hs_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

void hs_rng_init(hs_rng *r, uint64_t seed, uint64_t stream);
/* Jump to 32-bit word number `word` of the stream (as if that many u32 had been drawn). */
void hs_rng_seek(hs_rng *r, uint64_t word);

uint32_t hs_rng_u32(hs_rng *r);
uint64_t hs_rng_u64(hs_rng *r);    /* two words, low word first */
double hs_rng_uniform(hs_rng *r);  /* [0, 1), 53 random bits */
float hs_rng_uniformf(hs_rng *r);  /* [0, 1), 24 random bits */
double hs_rng_normal(hs_rng *r);   /* N(0, 1), Box-Muller */
/* Uniform integer in [0, n), without modulo bias; n >= 1. */
uint64_t hs_rng_below(hs_rng *r, uint64_t n);
/* Uniform random permutation of idx[0..n) in place (Fisher-Yates). */
void hs_rng_permute(hs_rng *r, uint32_t *idx, size_t n);

#endif /* HSWEEP_RNG_H */
