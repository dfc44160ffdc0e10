/* rng.c - Philox4x32-10 and the distributions built on it (see include/hsweep/rng.h). */
#include <math.h>

#include "hsweep/rng.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

void hs_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c0 = n0;
        c1 = (uint32_t)p1;
        c2 = n2;
        c3 = (uint32_t)p0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

static void refill(hs_rng *r) {
    uint32_t ctr[4] = {(uint32_t)r->position, (uint32_t)(r->position >> 32), (uint32_t)r->stream,
                       (uint32_t)(r->stream >> 32)};
    hs_philox4x32_10(ctr, r->key, r->block);
    r->position++;
    r->used = 0;
}

void hs_rng_init(hs_rng *r, uint64_t seed, uint64_t stream) {
    r->key[0] = (uint32_t)seed;
    r->key[1] = (uint32_t)(seed >> 32);
    r->stream = stream;
    r->position = 0;
    r->used = 4;
    r->has_spare = 0;
    r->spare = 0;
}

void hs_rng_seek(hs_rng *r, uint64_t word) {
    r->position = word / 4;
    r->has_spare = 0;
    refill(r);
    r->used = (int)(word % 4);
}

uint32_t hs_rng_u32(hs_rng *r) {
    if (r->used == 4) refill(r);
    return r->block[r->used++];
}

uint64_t hs_rng_u64(hs_rng *r) {
    uint64_t lo = hs_rng_u32(r);
    return lo | (uint64_t)hs_rng_u32(r) << 32;
}

double hs_rng_uniform(hs_rng *r) { return (double)(hs_rng_u64(r) >> 11) * 0x1.0p-53; }

float hs_rng_uniformf(hs_rng *r) { return (float)(hs_rng_u32(r) >> 8) * 0x1.0p-24f; }

double hs_rng_normal(hs_rng *r) {
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = 1.0 - hs_rng_uniform(r); /* (0, 1]: log stays finite */
    double u2 = hs_rng_uniform(r);
    double radius = sqrt(-2.0 * log(u1)), angle = 6.283185307179586 * u2;
    r->spare = radius * sin(angle);
    r->has_spare = 1;
    return radius * cos(angle);
}

uint64_t hs_rng_below(hs_rng *r, uint64_t n) {
    if (n <= 1) return 0;
    /* Reject the lowest (2^64 mod n) values so that every residue is equally likely. */
    uint64_t threshold = (0 - n) % n;
    uint64_t x;
    do x = hs_rng_u64(r);
    while (x < threshold);
    return x % n;
}

void hs_rng_permute(hs_rng *r, uint32_t *idx, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)hs_rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
