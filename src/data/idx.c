/* idx.c - IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed (see include/hsweep/data.h).
 *
 * zlib's gz* functions read plain files transparently, so one code path serves both; the gzip
 * magic is still checked by hand so that a broken stream can be reported as a broken gzip
 * stream rather than as a bad IDX file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hsweep/data.h"

#define IDX_TYPE_UBYTE 0x08
#define IDX_MAX_NDIM 4
/* A larger array would not fit the int-sized counts of later stages and means a broken header. */
#define IDX_MAX_BYTES (1ull << 31)
/* gzread takes an unsigned and returns an int: stay well inside both. */
#define GZ_CHUNK (1u << 30)
/* zlib's default 8 KiB input buffer makes decompressing the 26 MB training images noticeably slower. */
#define GZ_BUFFER (128u * 1024u)

typedef struct idx_src {
    gzFile gz;
    const char *path;
    int gzip; /* the file starts with the gzip magic */
} idx_src;

/* The name of an IDX element type code, or NULL when the byte is not one of them. */
static const char *type_name(unsigned code) {
    switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return NULL;
    }
}

static uint32_t be32(const uint8_t b[4]) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* "60000x28x28" into buf (always NUL-terminated). */
static void format_dims(char *buf, size_t size, const uint32_t *dims, int ndim) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < ndim && used < size; i++) {
        int n = snprintf(buf + used, size - used, i ? "x%u" : "%u", (unsigned)dims[i]);
        if (n < 0) break;
        used += (size_t)n;
    }
}

/* Open path just to look at its first two bytes: *gzip = 1 when they are the gzip magic 1f 8b.
 * This is also where a missing file is reported, with errno's text and the install hint. */
static hs_code sniff_gzip(const char *path, int *gzip, hs_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        HS_FAIL(err, HS_ERR_IO, "%s: cannot open: %s", path, strerror(e));
        if (e == ENOENT || e == ENOTDIR)
            hs_error_hint(err, "install the Debian package dataset-fashion-mnist, or point data.path at a folder "
                               "holding the files");
        return HS_ERR_IO;
    }
    unsigned char magic[2] = {0, 0};
    size_t got = fread(magic, 1, 2, f);
    int failed = ferror(f), e = errno; /* a directory opens fine and fails here with EISDIR */
    fclose(f);
    if (failed) return HS_FAIL(err, HS_ERR_IO, "%s: cannot read: %s", path, strerror(e));
    *gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    return HS_OK;
}

/* Turn the gz stream's pending error into an hs_error. zlib prefixes its text with the path,
 * which our message already starts with, so that prefix is dropped. */
static hs_code stream_fail(const idx_src *s, hs_error *err) {
    int errnum = Z_OK;
    const char *text = gzerror(s->gz, &errnum);
    size_t plen = strlen(s->path);
    if (strncmp(text, s->path, plen) == 0 && strncmp(text + plen, ": ", 2) == 0) text += plen + 2;
    if (errnum == Z_MEM_ERROR) return HS_FAIL(err, HS_ERR_NOMEM, "%s: out of memory while decompressing", s->path);
    if (errnum == Z_ERRNO || !s->gzip) return HS_FAIL(err, HS_ERR_IO, "%s: cannot read: %s", s->path, text);
    HS_FAIL(err, HS_ERR_VALUE, "%s: corrupt gzip stream: %s", s->path, text);
    if (errnum == Z_BUF_ERROR)
        hs_error_hint(err, "the file ends in the middle of the compressed data; download or copy it again");
    return HS_ERR_VALUE;
}

/* Read up to n (decompressed) bytes into buf; *got < n only at the end of the data. Because gzread
 * reports a stream cut in the middle as a plain end of file, a short read asks gzerror whether the
 * end was clean. */
static hs_code src_read(const idx_src *s, uint8_t *buf, size_t n, size_t *got, hs_error *err) {
    size_t total = 0;
    while (total < n) {
        unsigned chunk = n - total > GZ_CHUNK ? GZ_CHUNK : (unsigned)(n - total);
        int r = gzread(s->gz, buf + total, chunk);
        if (r < 0) return stream_fail(s, err);
        if (r == 0) break;
        total += (size_t)r;
    }
    *got = total;
    if (total < n) {
        int errnum = Z_OK;
        gzerror(s->gz, &errnum);
        if (errnum != Z_OK) return stream_fail(s, err);
    }
    return HS_OK;
}

/* Parse header and data from an open source into out (which the caller frees on failure). The
 * header is validated completely, sizes included, before the data buffer is allocated. */
static hs_code load_from(const idx_src *s, hs_idx *out, hs_error *err) {
    const char *path = s->path;
    const char *decompressed = s->gzip ? " after decompression" : "";
    uint8_t head[4 * (1 + IDX_MAX_NDIM)];
    size_t got = 0;

    HS_TRY(err, src_read(s, head, 4, &got, err));
    if (got == 0)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: empty file%s: expected an IDX header (magic 0x0000080N, then N sizes)",
                       path, decompressed);
    if (got < 4)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: truncated: an IDX header starts with 4 bytes of magic, file has %zu%s",
                       path, got, decompressed);

    uint32_t magic = be32(head);
    unsigned type = head[2];
    int ndim = head[3];
    if (head[0] != 0 || head[1] != 0 || !type_name(type)) {
        HS_FAIL(err, HS_ERR_VALUE,
                "%s: not an IDX file (magic 0x%08x, expected 0x0000080N with N = 1..%d dimensions)", path,
                (unsigned)magic, IDX_MAX_NDIM);
        /* the gzip magic inside the decompressed data */
        if (head[0] == 0x1f && head[1] == 0x8b) hs_error_hint(err, "the file seems to be gzip-compressed twice");
        return HS_ERR_VALUE;
    }
    if (type != IDX_TYPE_UBYTE)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: IDX type 0x%02x (%s) is not supported; only unsigned bytes (0x08)", path,
                       type, type_name(type));
    if (ndim < 1 || ndim > IDX_MAX_NDIM)
        return HS_FAIL(err, HS_ERR_VALUE,
                       "%s: IDX file with %d dimensions (magic 0x%08x) is not supported; expected 1..%d", path, ndim,
                       (unsigned)magic, IDX_MAX_NDIM);

    size_t size_bytes = 4 * (size_t)ndim;
    HS_TRY(err, src_read(s, head + 4, size_bytes, &got, err));
    if (got < size_bytes)
        return HS_FAIL(err, HS_ERR_VALUE,
                       "%s: truncated: the header announces %d dimensions (%zu bytes of sizes), file has %zu%s", path,
                       ndim, size_bytes, got, decompressed);

    uint32_t dims[IDX_MAX_NDIM] = {0};
    for (int i = 0; i < ndim; i++) dims[i] = be32(head + 4 + 4 * i);
    char shape[64];
    format_dims(shape, sizeof shape, dims, ndim);

    /* Checked factor by factor because four 32-bit sizes can overflow even a 64-bit product. */
    uint64_t total = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] == 0)
            return HS_FAIL(err, HS_ERR_VALUE, "%s: dimension %d of the IDX header is 0 (dims %s); expected >= 1",
                           path, i, shape);
        if (dims[i] > IDX_MAX_BYTES / total)
            return HS_FAIL(err, HS_ERR_VALUE,
                           "%s: IDX header promises more than 2^31 bytes of data (dims %s); refusing to allocate it",
                           path, shape);
        total *= dims[i];
    }
    size_t count = (size_t)total;

    uint8_t *data = malloc(count);
    if (!data)
        return HS_FAIL(err, HS_ERR_NOMEM, "%s: out of memory for %zu bytes of data (dims %s)", path, count, shape);
    out->data = data; /* owned by out from here, so every later failure is freed by the caller */
    HS_TRY(err, src_read(s, data, count, &got, err));
    if (got < count)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: truncated: header promises %zu bytes of data, file has %zu%s (dims %s)",
                       path, count, got, decompressed, shape);

    /* Read to the end rather than probing one byte: the message can say how much is extra, and for
     * gzip this is also the read that reaches the CRC at the end of the stream. */
    size_t extra = 0;
    uint8_t scratch[4096];
    do {
        HS_TRY(err, src_read(s, scratch, sizeof scratch, &got, err));
        extra += got;
    } while (got == sizeof scratch);
    if (extra > 0)
        return HS_FAIL(err, HS_ERR_VALUE, "%s: %zu trailing bytes after the %zu bytes of data (dims %s)", path, extra,
                       count, shape);

    out->ndim = ndim;
    for (int i = 0; i < ndim; i++) out->dims[i] = dims[i];
    out->count = count;
    return HS_OK;
}

hs_code hs_idx_load(const char *path, hs_idx *out, hs_error *err) {
    if (!path || !out) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_idx_load: path and out must not be NULL");
    *out = (hs_idx){0};

    int gzip = 0;
    HS_TRY(err, sniff_gzip(path, &gzip, err));
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        /* the file opened a moment ago, so this is rare: removed in between, or no memory */
        int e = errno;
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot open: %s", path, e ? strerror(e) : "out of memory in zlib");
    }
    gzbuffer(gz, GZ_BUFFER);

    idx_src s = {gz, path, gzip};
    hs_code rc = load_from(&s, out, err);
    gzclose(gz); /* read errors, a cut stream included, were already seen by src_read */
    if (rc != HS_OK) {
        hs_idx_free(out);
        hs_error_trace(err, __FILE__, __LINE__);
    }
    return rc;
}

void hs_idx_free(hs_idx *x) {
    if (!x) return;
    free(x->data);
    *x = (hs_idx){0};
}
