/* cifar.c - CIFAR-10 binary batches (see include/hsweep/data.h).
 *
 * Each file is a bare sequence of 3073-byte records: 1 label byte, then the 32x32 red, green and
 * blue planes. There is no header, so the only checks possible are the size (a whole number of
 * records) and the labels. The sizes of all files are checked before anything is allocated, so a
 * wrong folder costs a stat per file, not a 150 MB read. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hsweep/data.h"

#define CIFAR_PIXELS 3072 /* 3 x 32 x 32 */
#define CIFAR_RECORD (1 + CIFAR_PIXELS)
#define CIFAR_TRAIN_FILES 5

static const char *const train_files[CIFAR_TRAIN_FILES] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                                           "data_batch_4.bin", "data_batch_5.bin"};
static const char *const test_files[1] = {"test_batch.bin"};

#define CIFAR_HINT                                                                                                     \
    "set data.path to the folder holding data_batch_1.bin ... data_batch_5.bin and test_batch.bin (the CIFAR-10 "      \
    "binary version, cifar-10-batches-bin)"

/* ================================================================ file checks */

/* dir/name into path; an error when it does not fit. */
static hs_code join(char *path, size_t size, const char *dir, const char *name, hs_error *err) {
    int n = snprintf(path, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size) return HS_FAIL(err, HS_ERR_VALUE, "%s: folder name too long", dir);
    return HS_OK;
}

/* The number of records in path, from its size alone. */
static hs_code count_records(const char *path, size_t *records, hs_error *err) {
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        HS_FAIL(err, HS_ERR_IO, "%s: cannot open: %s", path, strerror(e));
        if (e == ENOENT || e == ENOTDIR) hs_error_hint(err, CIFAR_HINT);
        return HS_ERR_IO;
    }
    if (S_ISDIR(st.st_mode))
        return HS_FAIL(err, HS_ERR_IO, "%s: is a directory, expected a CIFAR-10 binary batch file", path);
    size_t size = (size_t)st.st_size;
    if (size == 0 || size % CIFAR_RECORD != 0) {
        HS_FAIL(err, HS_ERR_VALUE,
                "%s: size %zu bytes is not a whole number of CIFAR-10 records (%d bytes each: 1 label + 3x32x32 "
                "pixels; a batch holds 10000, %d bytes)",
                path, size, CIFAR_RECORD, 10000 * CIFAR_RECORD);
        hs_error_hint(err, "this loader reads the binary version (cifar-10-batches-bin), not the Python or Matlab one");
        return HS_ERR_VALUE;
    }
    *records = size / CIFAR_RECORD;
    return HS_OK;
}

/* Read the n records of path into labels[n] and images[n x 3072]. */
static hs_code read_records(const char *path, size_t n, uint8_t *labels, uint8_t *images, hs_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    hs_code rc = HS_OK;
    for (size_t i = 0; i < n; i++) {
        if (fread(labels + i, 1, 1, f) != 1 || fread(images + i * CIFAR_PIXELS, 1, CIFAR_PIXELS, f) != CIFAR_PIXELS) {
            int e = errno;
            rc = ferror(f)
                     ? HS_FAIL(err, HS_ERR_IO, "%s: cannot read: %s", path, strerror(e))
                     : HS_FAIL(err, HS_ERR_IO, "%s: file shrank while being read (record %zu of %zu)", path, i, n);
            break;
        }
        if (labels[i] > 9) {
            rc = HS_FAIL(err, HS_ERR_VALUE, "%s: record %zu has label %u, expected 0..9 (is this CIFAR-100?)", path, i,
                         (unsigned)labels[i]);
            break;
        }
    }
    fclose(f);
    return rc;
}

hs_code hs_cifar10_check(const char *dir, int train, hs_error *err) {
    if (!dir || !dir[0]) {
        HS_FAIL(err, HS_ERR_VALUE, "CIFAR-10 has no standard place: data.path is empty");
        return hs_error_hint(err, CIFAR_HINT);
    }
    const char *const *files = train ? train_files : test_files;
    char path[4096];
    for (int k = 0; k < (train ? CIFAR_TRAIN_FILES : 1); k++) {
        size_t records;
        HS_TRY(err, join(path, sizeof path, dir, files[k], err));
        HS_TRY(err, count_records(path, &records, err));
        FILE *f = fopen(path, "rb");
        if (!f) {
            int e = errno;
            return HS_FAIL(err, HS_ERR_IO, "%s: cannot open: %s", path, strerror(e));
        }
        fclose(f);
    }
    return HS_OK;
}

/* ================================================================ loading */

hs_code hs_cifar10_load(const char *dir, int train, hs_cifar *out, hs_error *err) {
    if (!out) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_cifar10_load: out must not be NULL");
    *out = (hs_cifar){0};
    if (!dir || !dir[0]) {
        HS_FAIL(err, HS_ERR_VALUE, "CIFAR-10 has no standard place: data.path is empty");
        return hs_error_hint(err, CIFAR_HINT);
    }
    const char *const *files = train ? train_files : test_files;
    int nfiles = train ? CIFAR_TRAIN_FILES : 1;

    char path[4096];
    size_t records[CIFAR_TRAIN_FILES], total = 0;
    for (int k = 0; k < nfiles; k++) {
        HS_TRY(err, join(path, sizeof path, dir, files[k], err));
        HS_TRY(err, count_records(path, &records[k], err));
        total += records[k];
    }

    out->labels = malloc(total);
    out->images = malloc(total * CIFAR_PIXELS);
    if (!out->labels || !out->images) {
        hs_cifar_free(out);
        return HS_FAIL(err, HS_ERR_NOMEM, "%s: out of memory for %zu CIFAR-10 records", dir, total);
    }
    size_t at = 0;
    for (int k = 0; k < nfiles; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[k]); /* fitted in the first loop */
        hs_code rc = read_records(path, records[k], out->labels + at, out->images + at * CIFAR_PIXELS, err);
        if (rc != HS_OK) {
            hs_cifar_free(out);
            hs_error_trace(err, __FILE__, __LINE__);
            return rc;
        }
        at += records[k];
    }
    out->n = total;
    return HS_OK;
}

void hs_cifar_free(hs_cifar *c) {
    if (!c) return;
    free(c->images);
    free(c->labels);
    *c = (hs_cifar){0};
}
