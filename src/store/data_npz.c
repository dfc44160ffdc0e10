/* data_npz.c - the data file of one run as numpy's .npz (see hs_store_write_data in store.h): a
 * zip archive of .npy files, stored uncompressed (numpy reads them without copying through
 * zlib), one per array, each entry's CRC-32 from zlib. No zip64: an entry or the archive beyond
 * 4 GB is refused with a hint to write HDF5 instead. */
#define _FILE_OFFSET_BITS 64
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hsweep/store.h"

typedef struct npz {
    FILE *fp;
    struct entry {
        char name[32];
        uint32_t crc, size;
        uint64_t offset;
    } e[16];
    int n;
    int failed;
} npz;

static void le16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }
static void le32(unsigned char *p, uint32_t v) {
    for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}

/* A local file header (30 bytes + name) for entry e; written twice: before and after its data. */
static void local_header(npz *z, const struct entry *e) {
    unsigned char h[30] = {0};
    le32(h, 0x04034b50u), le16(h + 4, 20), le16(h + 12, 0x21); /* version 2.0; date 1980-01-01 */
    le32(h + 14, e->crc), le32(h + 18, e->size), le32(h + 22, e->size), le16(h + 26, (unsigned)strlen(e->name));
    if (fwrite(h, 1, 30, z->fp) != 30 || fwrite(e->name, 1, strlen(e->name), z->fp) != strlen(e->name)) z->failed = 1;
}

/* One .npy entry: name (".npy" appended), descr ("<f4", "<i4", "<U7"), shape, data of bytes. */
static void add(npz *z, const char *name, const char *descr, int nd, const long long *shape, const void *data,
                uint64_t bytes) {
    if (z->failed || z->n == (int)(sizeof z->e / sizeof z->e[0])) return (void)(z->failed = 1);
    char dict[256];
    int k = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int d = 0; d < nd; d++) k += snprintf(dict + k, sizeof dict - (size_t)k, "%lld,%s", shape[d], d + 1 < nd ? " " : "");
    k += snprintf(dict + k, sizeof dict - (size_t)k, "), }");
    /* magic (6) + version (2) + length (2) + dict padded with spaces and '\n' to 64 bytes */
    size_t head = 10 + (size_t)k + 1, pad = (64 - head % 64) % 64, hlen = (size_t)k + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    le16(pre + 8, (unsigned)hlen);
    char *hdr = malloc(hlen);
    if (!hdr) return (void)(z->failed = 1);
    memcpy(hdr, dict, (size_t)k), memset(hdr + k, ' ', pad), hdr[hlen - 1] = '\n';
    struct entry *e = &z->e[z->n++];
    snprintf(e->name, sizeof e->name, "%s.npy", name);
    uint64_t size = 10 + hlen + bytes;
    long long at = ftello(z->fp);
    if (at < 0 || size > 0xffffffffu || (uint64_t)at + size > 0xffffffffu) z->failed = 2;
    e->offset = (uint64_t)(at < 0 ? 0 : at), e->size = (uint32_t)size;
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, pre, 10), crc = crc32(crc, (const Bytef *)hdr, (uInt)hlen);
    for (uint64_t o = 0; o < bytes; o += 1u << 30) /* crc32 takes at most uInt bytes at once */
        crc = crc32(crc, (const Bytef *)data + o, (uInt)(bytes - o < (1u << 30) ? bytes - o : (1u << 30)));
    e->crc = (uint32_t)crc;
    if (!z->failed) local_header(z, e);
    if (!z->failed && (fwrite(pre, 1, 10, z->fp) != 10 || fwrite(hdr, 1, hlen, z->fp) != hlen ||
                       (bytes && fwrite(data, 1, bytes, z->fp) != bytes)))
        z->failed = 1;
    free(hdr);
}

/* The central directory and its end record. */
static void finish(npz *z) {
    long long at = ftello(z->fp);
    if (at < 0 || z->failed) return (void)(z->failed = z->failed ? z->failed : 1);
    uint32_t cd = 0;
    for (int i = 0; i < z->n && !z->failed; i++) {
        const struct entry *e = &z->e[i];
        unsigned char h[46] = {0};
        le32(h, 0x02014b50u), le16(h + 4, 20), le16(h + 6, 20), le16(h + 14, 0x21);
        le32(h + 16, e->crc), le32(h + 20, e->size), le32(h + 24, e->size), le16(h + 28, (unsigned)strlen(e->name));
        le32(h + 42, (uint32_t)e->offset);
        if (fwrite(h, 1, 46, z->fp) != 46 || fwrite(e->name, 1, strlen(e->name), z->fp) != strlen(e->name)) z->failed = 1;
        cd += 46 + (uint32_t)strlen(e->name);
    }
    unsigned char end[22] = {0};
    le32(end, 0x06054b50u), le16(end + 8, (unsigned)z->n), le16(end + 10, (unsigned)z->n);
    le32(end + 12, cd), le32(end + 16, (uint32_t)at);
    if (!z->failed && fwrite(end, 1, 22, z->fp) != 22) z->failed = 1;
}

/* A string as a 0-d numpy unicode array (UCS-4 little-endian, as numpy stores '<U'). */
static void add_text(npz *z, const char *name, const char *s) {
    size_t n = strlen(s);
    unsigned char *u = calloc(n + 1, 4);
    if (!u) return (void)(z->failed = 1);
    for (size_t i = 0; i < n; i++) u[4 * i] = (unsigned char)s[i]; /* the attributes are ASCII */
    char descr[32];
    snprintf(descr, sizeof descr, "<U%zu", n ? n : 1);
    add(z, name, descr, 0, NULL, u, 4 * (n ? n : 1));
    free(u);
}

static void add_set(npz *z, const char *prefix, const hs_store_set *s) {
    char name[32];
    int image = s->channels > 0 && s->height > 0 && s->width > 0 &&
                (long long)s->channels * s->height * s->width == (long long)s->dim;
    long long sx[4] = {s->n, s->dim}, sy[1] = {s->n}, st[2] = {s->n, s->t_dim};
    if (image) sx[1] = s->channels, sx[2] = s->height, sx[3] = s->width;
    snprintf(name, sizeof name, "%s_x", prefix);
    add(z, name, "<f4", image ? 4 : 2, sx, s->x, (uint64_t)s->n * (uint64_t)s->dim * 4);
    snprintf(name, sizeof name, "%s_y", prefix);
    add(z, name, "<i4", 1, sy, s->y, (uint64_t)s->n * 4);
    if (s->t && s->t_dim > 0) {
        snprintf(name, sizeof name, "%s_t", prefix);
        add(z, name, "<f4", 2, st, s->t, (uint64_t)s->n * (uint64_t)s->t_dim * 4);
    }
}

hs_code store_write_data_npz(const char *path, const hs_store_attr *attrs, size_t n_attrs, const hs_store_set *train,
                             const hs_store_set *test, hs_error *err);
hs_code store_write_data_npz(const char *path, const hs_store_attr *attrs, size_t n_attrs, const hs_store_set *train,
                             const hs_store_set *test, hs_error *err) {
    const uint16_t one = 1;
    if (*(const unsigned char *)&one != 1) /* the arrays are written as they lie in memory */
        return HS_FAIL(err, HS_ERR_INTERNAL, "%s: .npz is written on little-endian machines only", path);
    /* the archive's headers are patched by seeking back; a FIFO would also block the open */
    int dir;
    const char *what = hs_path_not_file(path, &dir);
    if (what) {
        HS_FAIL(err, HS_ERR_IO, "%s is %s: a .npz archive must be a regular file", path, what);
        return hs_error_hint(err, "give -o the name of a file, e.g. %s/out.npz", dir ? path : "data");
    }
    npz z = {.fp = fopen(path, "wb")};
    if (!z.fp) {
        hs_code code = HS_FAIL(err, HS_ERR_IO, "%s: cannot create the file", path);
        hs_error_hint(err, "check that the folder exists and is writable");
        return code;
    }
    add_set(&z, "train", train);
    add_set(&z, "test", test);
    for (size_t i = 0; i < n_attrs; i++) add_text(&z, attrs[i].name, attrs[i].value ? attrs[i].value : "");
    finish(&z);
    if (fclose(z.fp) != 0 && !z.failed) z.failed = 1;
    if (z.failed == 2) {
        hs_code code = HS_FAIL(err, HS_ERR_VALUE, "%s: the sets need more than the 4 GB a plain .npz entry holds", path);
        hs_error_hint(err, "write HDF5 instead (-o with a .h5 name)");
        return code;
    }
    if (z.failed) return HS_FAIL(err, HS_ERR_IO, "%s: cannot write the .npz archive", path);
    return HS_OK;
}
