/*
 * data.h - datasets from disk. For now: the IDX format of MNIST and Fashion-MNIST.
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

#endif /* HSWEEP_DATA_H */
