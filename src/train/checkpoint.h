/* checkpoint.h - the checkpoint file of one training (private to train/; the format is described
 * in checkpoint.c, the behaviour in train.h's "checkpoints" section).
 *
 * The file is a list of named, typed sections behind a header that says which run and which
 * configuration wrote it. train.c decides what the sections are; this part only writes them
 * atomically and reads them back with every check a torn, altered or foreign file must fail.
 *
 *     ck_section s[] = {{"loop.epoch", CK_I64, 1, &e}, {"model.params", CK_F32, n, params}};
 *     HS_TRY(err, ck_write(path, &id, s, 2, &bytes, err));
 *     ...
 *     ck_file *f = NULL;
 *     HS_TRY(err, ck_open(path, &id, &f, err));          // f == NULL: there is no checkpoint
 *     rc = ck_read(f, &s[0], err);                        // type and count must match exactly
 *     ... every section ...
 *     if (rc == HS_OK) rc = ck_finish(f, err);            // a section nobody read is an error
 *     ck_close(f);
 */
#ifndef HSWEEP_TRAIN_CHECKPOINT_H
#define HSWEEP_TRAIN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "hsweep/status.h"
#include "hsweep/train.h"

typedef enum ck_type { CK_U8 = 1, CK_U32 = 2, CK_I64 = 3, CK_F32 = 4, CK_F64 = 5 } ck_type;

typedef struct ck_section {
    const char *name; /* 1..63 printable ASCII characters */
    ck_type type;
    size_t count;     /* elements; 0 is allowed (data may then be NULL) */
    void *data;       /* ck_write: the source; ck_read: the destination */
} ck_section;

/* Who wrote a checkpoint: the caller's run id (16 characters, or 16 NUL bytes for none) and the
 * digest of the configuration and data shapes (ck_config_digest). */
typedef struct ck_identity {
    char run_id[16];
    uint8_t config[32];
} ck_identity;

/* SHA-256 over every field of c that can change a training, and the shapes of the sets it runs
 * on (the data themselves follow from c's data options and seeds). */
void ck_config_digest(const hs_train_config *c, const hs_dataset *train, const hs_dataset *test, uint8_t out[32]);

/* Write the sections to path atomically: path.tmp is written, flushed, fsynced and renamed over
 * path, then the directory is fsynced, so a kill at any point leaves the old file or the new one.
 * *bytes receives the file's size. HS_ERR_IO naming the path (path.tmp is removed on failure). */
hs_code ck_write(const char *path, const ck_identity *id, const ck_section *s, size_t n, size_t *bytes,
                 hs_error *err);

typedef struct ck_file ck_file;

/* Open and verify path: magic, format version, byte order, checksum over the whole file, then
 * the identity. *out = NULL (and HS_OK) when path does not exist. HS_ERR_IO for an unreadable,
 * short, corrupt or foreign file, the message naming the path and what failed. */
hs_code ck_open(const char *path, const ck_identity *id, ck_file **out, hs_error *err);

/* Read section s->name into s->data: the file must hold it exactly once, with s->type and
 * s->count (HS_ERR_IO naming the path and the section otherwise). */
hs_code ck_read(ck_file *f, const ck_section *s, hs_error *err);

/* HS_ERR_IO when the file holds a section no ck_read asked for (a checkpoint of another model
 * or another version would otherwise restore partly). */
hs_code ck_finish(ck_file *f, hs_error *err);

void ck_close(ck_file *f); /* safe on NULL */

#endif
