/* checkpoint.c - the checkpoint file of one training (see checkpoint.h and train.h).
 *
 * Format, version 1 (integers little-endian, reals IEEE-754 little-endian):
 *     offset  0   magic "HSCKPT1\n" (8 bytes)
 *             8   u32 format version (1)
 *            12   u32 byte-order mark 0x01020304 as the writer stored it
 *            16   run id: 16 ASCII characters (the plan's run id), or 16 NUL bytes for none
 *            32   config digest: SHA-256 of the configuration and data shapes (32 bytes)
 *            64   u32 number of sections, then each section:
 *                     u32 name length (1..63), the name (ASCII, no NUL),
 *                     u32 element type (1 u8, 2 u32, 3 i64, 4 f32, 5 f64), u64 element count,
 *                     u64 byte length (= count x element size), the elements
 *     size - 4    u32 CRC-32 (zlib's, ISO-HDLC) of every byte before it
 * The trailer is a CRC, not a cryptographic hash: it guards against torn and altered files, not
 * against forgery, and at 2-5 GB/s it keeps a 226 MB checkpoint's save within its write time
 * (SHA-256 here ran at 0.1-0.25 GB/s, more than half of every save).
 * A reader needs nothing but this comment to list a file's contents; hsweep itself refuses any
 * file whose checksum, version, identity or any section's type and length differ from what the
 * run being resumed expects. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <zlib.h>

#include "checkpoint.h"
#include "hsweep/models.h"
#include "hsweep/util.h"
#include "probes.h"

#define CK_MAGIC "HSCKPT1\n"
#define CK_VERSION 1u
#define CK_BOM 0x01020304u
#define CK_HEADER 68 /* magic, version, mark, run id, digest, section count */
#define CK_NAME_MAX 63
#define CK_TRAILER 4 /* the CRC-32 */

static size_t type_size(uint32_t t) {
    switch (t) {
    case CK_U8: return 1;
    case CK_U32: return 4;
    case CK_I64: return 8;
    case CK_F32: return 4;
    case CK_F64: return 8;
    }
    return 0;
}

static const char *type_name(uint32_t t) {
    switch (t) {
    case CK_U8: return "u8";
    case CK_U32: return "u32";
    case CK_I64: return "i64";
    case CK_F32: return "f32";
    case CK_F64: return "f64";
    }
    return "?";
}

/* The sections are copied byte for byte from memory: the format is little-endian, so a host of
 * the other order would have to swap, which no machine hsweep runs on needs. */
static int host_is_little_endian(void) {
    const uint32_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* ================================================================ the config digest */

typedef struct digest {
    hs_sha256_ctx c;
} digest;

/* Each value goes in with its name, so that two configs that differ only in which field holds a
 * value still hash differently. */
static void put(digest *d, const char *name, const void *v, size_t n) {
    hs_sha256_update(&d->c, name, strlen(name) + 1);
    uint64_t len = n;
    hs_sha256_update(&d->c, &len, sizeof len);
    if (n) hs_sha256_update(&d->c, v, n);
}
static void put_i(digest *d, const char *name, long long v) {
    int64_t x = v;
    put(d, name, &x, sizeof x);
}
static void put_f(digest *d, const char *name, double v) { put(d, name, &v, sizeof v); }
static void put_s(digest *d, const char *name, const char *s) { put(d, name, s ? s : "", s ? strlen(s) : 0); }

/* When a field is added to one of these structs, it must be added to ck_config_digest too (a
 * checkpoint of a run with another value of it would be accepted otherwise); these sizes are a
 * reminder on the LP64 hosts hsweep runs on. */
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(hs_train_config) == 680, "hs_train_config changed: update ck_config_digest, then this size");
_Static_assert(sizeof(hs_data_opts) == 208, "hs_data_opts changed: update ck_config_digest, then this size");
_Static_assert(sizeof(hs_mlp_opts) == 88, "hs_mlp_opts changed: update ck_config_digest, then this size");
_Static_assert(sizeof(hs_optim_opts) == 48, "hs_optim_opts changed: update ck_config_digest, then this size");
_Static_assert(sizeof(hs_schedule) == 48, "hs_schedule changed: update ck_config_digest, then this size");
#endif

void ck_config_digest(const hs_train_config *c, const hs_dataset *train, const hs_dataset *test, uint8_t out[32]) {
    digest d;
    hs_sha256_init(&d.c);
    put_s(&d, "hsweep checkpoint config", "1");
    put_i(&d, "seed", (long long)c->seed);
    put_i(&d, "data_seed", (long long)c->data_seed);
    /* data options */
    const hs_data_opts *o = &c->data;
    const hs_data_kind *kind = hs_data_kind_find(o->kind);
    put_i(&d, "data.kind", kind ? kind->code : -1);
    put_s(&d, "data.path", o->path);
    put_i(&d, "data.seed", (long long)o->seed);
    put_i(&d, "data.per_class", o->per_class);
    put_i(&d, "data.class_counts.n", o->class_counts ? train->classes : -1);
    for (int k = 0; o->class_counts && k < train->classes; k++) put_i(&d, "data.class_counts", o->class_counts[k]);
    put_i(&d, "data.n_test", o->n_test);
    put_i(&d, "data.resize", o->resize);
    put_i(&d, "data.classes", o->classes);
    put_i(&d, "data.dim", o->dim);
    put_f(&d, "data.separation", o->separation);
    put_i(&d, "data.v", o->v);
    put_i(&d, "data.n_c", o->n_c);
    put_i(&d, "data.m", o->m);
    put_i(&d, "data.s", o->s);
    put_i(&d, "data.L", o->L);
    put_i(&d, "data.s0", o->s0);
    put_i(&d, "data.sparsity", o->sparsity);
    put_i(&d, "data.rule_seed", (long long)o->rule_seed);
    put_i(&d, "data.whiten", o->whiten);
    put_i(&d, "data.n_train", o->n_train);
    put_i(&d, "data.branching", o->branching);
    put_i(&d, "data.levels", o->levels);
    put_i(&d, "data.per_leaf", o->per_leaf);
    put_i(&d, "data.features", o->features);
    put_f(&d, "data.sigma", o->sigma);
    put_f(&d, "data.beta", o->beta);
    put_f(&d, "data.test_fraction", o->test_fraction);
    put_i(&d, "data.repeats", o->repeats);
    put_f(&d, "data.noise", o->noise);
    put_i(&d, "data.modules", o->modules);
    put_i(&d, "data.active", o->active);
    put_i(&d, "data.zca", o->zca);
    put_i(&d, "data.level_targets", o->level_targets);
    /* model */
    put_s(&d, "arch", c->arch ? c->arch->name : "");
    const hs_mlp_opts *m = &c->model;
    put_i(&d, "model.in_dim", m->in_dim);
    put_i(&d, "model.out_dim", m->out_dim);
    put_i(&d, "model.n_hidden", m->n_hidden);
    for (int l = 0; m->widths && l < m->n_hidden; l++) put_i(&d, "model.widths", m->widths[l]);
    for (int l = 0; m->init_scales && l <= m->n_hidden; l++) put_f(&d, "model.init_scales", m->init_scales[l]);
    put_i(&d, "model.norm", m->norm);
    put_i(&d, "model.act", m->act);
    put_i(&d, "model.bias", m->bias);
    put_f(&d, "model.bn_eps", m->bn_eps);
    put_f(&d, "model.bn_momentum", m->bn_momentum);
    put_i(&d, "model.init", m->init);
    put_i(&d, "model.zero_bias", m->zero_bias);
    put_i(&d, "model.seed", (long long)m->seed);
    put_i(&d, "model.max_batch", m->max_batch);
    put_i(&d, "filter", c->filter);
    put_i(&d, "width", c->width);
    /* only when set, so the checkpoints of runs from before these keys keep their digest */
    if (c->width_mult != 1) put_f(&d, "width_mult", c->width_mult);
    if (c->dropout != -1) put_f(&d, "dropout", c->dropout);
    if (c->drop_connect != 0) put_f(&d, "drop_connect", c->drop_connect);
    put_i(&d, "kernel_kind", c->kernel_kind);
    put_f(&d, "kernel_sigma", c->kernel_sigma);
    put_f(&d, "ridge", c->ridge);
    put_i(&d, "ntk_depth", c->ntk_depth);
    put_i(&d, "kernel_block", c->kernel_block);
    /* optimiser and schedule */
    put_i(&d, "optim.kind", c->optim.kind);
    put_f(&d, "optim.momentum", c->optim.momentum);
    put_i(&d, "optim.nesterov", c->optim.nesterov);
    put_f(&d, "optim.beta1", c->optim.beta1);
    put_f(&d, "optim.beta2", c->optim.beta2);
    put_f(&d, "optim.eps", c->optim.eps);
    put_i(&d, "schedule.kind", c->schedule.kind);
    put_f(&d, "schedule.lr", c->schedule.lr);
    put_i(&d, "schedule.n_drops", (long long)c->schedule.n_drops);
    for (size_t i = 0; c->schedule.drops && i < c->schedule.n_drops; i++)
        put_i(&d, "schedule.drops", c->schedule.drops[i]);
    put_f(&d, "schedule.drop_factor", c->schedule.drop_factor);
    put_i(&d, "schedule.epochs", c->schedule.epochs);
    put_f(&d, "weight_decay", c->weight_decay);
    put_i(&d, "decay_weights_only", c->decay_on); /* the name older checkpoints carry: 0 and 1 kept their meaning */
    if (c->augment != HS_AUG_NONE) { /* absent when off, so checkpoints from before augmentation still match */
        put_i(&d, "augment", c->augment);
        put_i(&d, "crop_pad", c->crop_pad);
    }
    put_i(&d, "loss", c->loss);
    put_i(&d, "epochs", c->epochs);
    put_i(&d, "batch", c->batch);
    put_i(&d, "batch_per_class", c->batch_per_class);
    put_f(&d, "stop_loss", c->stop_loss);
    /* recording */
    put_i(&d, "record_every", c->record_every);
    put_i(&d, "record_schedule", c->record_schedule);
    put_i(&d, "record_every_steps", c->record_every_steps);
    put_i(&d, "record_log_points", c->record_log_points);
    put_i(&d, "eval_samples", c->eval_samples);
    put_i(&d, "centroids", c->centroids);
    put_i(&d, "snapshot_every", c->snapshot_every);
    put_i(&d, "snapshot_samples", c->snapshot_samples);
    put_i(&d, "weight_snapshots", c->weight_snapshots);
    put_i(&d, "grad_norms", c->grad_norms);
    put_i(&d, "svd", c->svd);
    put_i(&d, "modes", c->modes);
    put_i(&d, "separation", c->separation);
    put_i(&d, "bn_record_mode", c->bn_record_mode);
    put_i(&d, "bn_chunk", c->bn_chunk);
    put_i(&d, "sep_paper_weighting", c->sep_paper_weighting);
    /* likewise the neighbour draws: only when on, so other runs' digests stay as they were */
    if (c->neighbours) {
        put_i(&d, "neighbours", c->neighbours);
        put_i(&d, "neighbours_pool", c->neighbours_pool);
        put_i(&d, "neighbours_rep", c->neighbours_rep);
    }
    /* the probes change no training, but their series are in the checkpoint; only when on, so the
     * digests of runs without them stay those of older builds */
    if (c->sensitivity || c->stability || c->diffeo_c != PROBE_DEFAULT_CUT || c->diffeo_T != 0) {
        put_i(&d, "sensitivity", c->sensitivity);
        put_i(&d, "stability", c->stability);
        put_i(&d, "diffeo_c", c->diffeo_c);
        put_f(&d, "diffeo_T", c->diffeo_T);
    }
    /* the sets the run was handed */
    const hs_dataset *sets[2] = {train, test};
    for (int k = 0; k < 2; k++) {
        const hs_dataset *s = sets[k];
        put_i(&d, "set.n", s ? s->n : 0);
        put_i(&d, "set.dim", s ? s->dim : 0);
        put_i(&d, "set.classes", s ? s->classes : 0);
        put_i(&d, "set.channels", s ? s->channels : 0);
        put_i(&d, "set.height", s ? s->height : 0);
        put_i(&d, "set.width", s ? s->width : 0);
        put_i(&d, "set.t_dim", s && s->t ? s->t_dim : 0);
        put_i(&d, "set.levels", s ? s->levels : 0);
        put_i(&d, "set.branching", s ? s->branching : 0);
        put_i(&d, "set.modules", s ? s->modules : 0);
    }
    hs_sha256_final(&d.c, out);
}

/* ================================================================ writing */

/* zlib's crc32 takes at most 4 GiB - 1 per call */
static uint32_t crc_update(uint32_t crc, const void *p, size_t n) {
    const unsigned char *b = p;
    while (n) {
        uInt take = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, b, take);
        b += take, n -= take;
    }
    return crc;
}

typedef struct writer {
    FILE *f;
    uint32_t crc;
    size_t bytes;
    int failed;
} writer;

static void w_bytes(writer *w, const void *p, size_t n) {
    if (w->failed || n == 0) return;
    if (fwrite(p, 1, n, w->f) != n) {
        w->failed = 1;
        return;
    }
    w->crc = crc_update(w->crc, p, n);
    w->bytes += n;
}
static void w_u32(writer *w, uint32_t v) { w_bytes(w, &v, sizeof v); }
static void w_u64(writer *w, uint64_t v) { w_bytes(w, &v, sizeof v); }

/* The directory holding path ("." when path has no slash), fsynced so the rename is durable. */
static int sync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) strcpy(dir, ".");
    else if (slash == path) strcpy(dir, "/");
    else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir) return -1;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    /* some file systems cannot sync a directory (and order their renames themselves) */
    if (rc != 0 && (errno == EINVAL || errno == ENOTSUP)) rc = 0;
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

hs_code ck_write(const char *path, const ck_identity *id, const ck_section *s, size_t n, size_t *bytes,
                 hs_error *err) {
    if (!host_is_little_endian())
        return HS_FAIL(err, HS_ERR_INTERNAL, "%s: checkpoints are little-endian and this host is not", path);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(s[i].name);
        if (len < 1 || len > CK_NAME_MAX || type_size(s[i].type) == 0 || (s[i].count && !s[i].data))
            return HS_FAIL(err, HS_ERR_INTERNAL, "%s: malformed checkpoint section %zu ('%s')", path, i, s[i].name);
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);

    writer w = {.f = fopen(tmp, "wb")};
    if (!w.f) {
        hs_code rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot create the checkpoint: %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    /* large sections go to the kernel in few calls */
    setvbuf(w.f, NULL, _IOFBF, (size_t)1 << 20);
    w.crc = (uint32_t)crc32(0L, Z_NULL, 0);
    w_bytes(&w, CK_MAGIC, 8);
    w_u32(&w, CK_VERSION);
    w_u32(&w, CK_BOM);
    w_bytes(&w, id->run_id, sizeof id->run_id);
    w_bytes(&w, id->config, sizeof id->config);
    w_u32(&w, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        uint32_t len = (uint32_t)strlen(s[i].name);
        w_u32(&w, len);
        w_bytes(&w, s[i].name, len);
        w_u32(&w, (uint32_t)s[i].type);
        w_u64(&w, s[i].count);
        w_u64(&w, s[i].count * type_size(s[i].type));
        w_bytes(&w, s[i].data, s[i].count * type_size(s[i].type));
    }
    uint32_t sum = w.crc;
    if (!w.failed && fwrite(&sum, 1, sizeof sum, w.f) != sizeof sum) w.failed = 1;
    w.bytes += sizeof sum;
    int e = w.failed ? errno : 0;
    if (!w.failed && (fflush(w.f) != 0 || fsync(fileno(w.f)) != 0)) w.failed = 1, e = errno;
    if (fclose(w.f) != 0 && !w.failed) w.failed = 1, e = errno;
    if (!w.failed && rename(tmp, path) != 0) w.failed = 1, e = errno;
    if (w.failed) {
        hs_code rc = HS_FAIL(err, HS_ERR_IO, "%s: writing the checkpoint failed: %s", tmp, strerror(e ? e : EIO));
        remove(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    /* the new file is in place; without this its directory entry could be lost in a crash */
    if (sync_dir(path) != 0)
        return HS_FAIL(err, HS_ERR_IO, "%s: the checkpoint was written but its directory could not be synced: %s",
                       path, strerror(errno));
    if (bytes) *bytes = w.bytes;
    return HS_OK;
}

/* ================================================================ reading */

typedef struct ck_entry {
    char name[CK_NAME_MAX + 1];
    uint32_t type;
    uint64_t count;
    off_t offset; /* of the elements */
    int read;
} ck_entry;

struct ck_file {
    const char *path;
    FILE *f;
    ck_entry *e;
    size_t n;
};

void ck_close(ck_file *f) {
    if (!f) return;
    if (f->f) fclose(f->f);
    free(f->e);
    free(f);
}

static int r_bytes(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n ? 0 : -1; }

/* Why the last read of f came up short. */
static const char *read_failure(FILE *f) { return ferror(f) ? strerror(errno) : "unexpected end of file"; }

static void hex(const uint8_t *b, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) out[2 * i] = digits[b[i] >> 4], out[2 * i + 1] = digits[b[i] & 15];
    out[2 * n] = '\0';
}

/* The run id as text for messages ("none" for the NUL id). */
static void id_text(const char id[16], char out[17]) {
    int none = 1;
    for (int i = 0; i < 16; i++) none &= id[i] == '\0';
    if (none) {
        strcpy(out, "none");
        return;
    }
    for (int i = 0; i < 16; i++) out[i] = id[i] >= 32 && id[i] < 127 ? id[i] : '?';
    out[16] = '\0';
}

/* The checksum: the CRC-32 of everything before the trailer, against the trailer. */
static hs_code verify_checksum(ck_file *f, off_t size, hs_error *err) {
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
    off_t left = size - CK_TRAILER;
    int bad = fseeko(f->f, 0, SEEK_SET) != 0;
    while (!bad && left > 0) {
        size_t take = left < CHUNK ? (size_t)left : (size_t)CHUNK;
        if (r_bytes(f->f, buf, take) != 0) bad = 1;
        else crc = crc_update(crc, buf, take), left -= (off_t)take;
    }
    uint32_t want = 0;
    if (!bad && r_bytes(f->f, &want, CK_TRAILER) != 0) bad = 1;
    free(buf);
    if (bad) return HS_FAIL(err, HS_ERR_IO, "%s: reading the checkpoint failed: %s", f->path, read_failure(f->f));
    if (want != crc)
        return HS_FAIL(err, HS_ERR_IO, "%s: checksum mismatch: the checkpoint is corrupt (torn or altered) and cannot "
                       "be resumed", f->path);
    return HS_OK;
}

/* The section table, walking the headers and seeking over the elements; every length is checked
 * against the bytes the file has left before it is trusted. */
static hs_code read_directory(ck_file *f, off_t size, hs_error *err) {
    uint32_t n;
    if (fseeko(f->f, CK_HEADER - 4, SEEK_SET) != 0 || r_bytes(f->f, &n, 4) != 0)
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot read the section count", f->path);
    const off_t end = size - CK_TRAILER;
    if ((off_t)n > (end - CK_HEADER) / 24)
        return HS_FAIL(err, HS_ERR_IO, "%s: %u sections cannot fit in %lld bytes", f->path, n, (long long)size);
    f->e = calloc(n ? n : 1, sizeof *f->e);
    if (!f->e) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for %u checkpoint sections", n);
    off_t at = CK_HEADER;
    for (uint32_t i = 0; i < n; i++) {
        ck_entry *e = &f->e[i];
        uint32_t len;
        uint64_t bytes;
        if (end - at < 4 || r_bytes(f->f, &len, 4) != 0 || len < 1 || len > CK_NAME_MAX ||
            end - at - 4 < (off_t)len + 20 || r_bytes(f->f, e->name, len) != 0 || r_bytes(f->f, &e->type, 4) != 0 ||
            r_bytes(f->f, &e->count, 8) != 0 || r_bytes(f->f, &bytes, 8) != 0)
            return HS_FAIL(err, HS_ERR_IO, "%s: the header of section %u is malformed", f->path, i);
        e->name[len] = '\0';
        at += 4 + (off_t)len + 20;
        size_t es = type_size(e->type);
        if (es == 0 || e->count > (uint64_t)(end - at) / es || bytes != e->count * es)
            return HS_FAIL(err, HS_ERR_IO, "%s: section '%s' has a malformed type or length", f->path, e->name);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(f->e[j].name, e->name) == 0)
                return HS_FAIL(err, HS_ERR_IO, "%s: section '%s' appears twice", f->path, e->name);
        e->offset = at;
        at += (off_t)bytes;
        if (fseeko(f->f, at, SEEK_SET) != 0)
            return HS_FAIL(err, HS_ERR_IO, "%s: cannot seek in the checkpoint", f->path);
        f->n++;
    }
    if (at != end)
        return HS_FAIL(err, HS_ERR_IO, "%s: %lld bytes after the last section", f->path, (long long)(end - at));
    return HS_OK;
}

hs_code ck_open(const char *path, const ck_identity *id, ck_file **out, hs_error *err) {
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (errno == ENOENT) return HS_OK;
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot open the checkpoint: %s", path, strerror(errno));
    }
    ck_file *f = calloc(1, sizeof *f);
    if (!f) {
        fclose(fp);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    }
    f->path = path, f->f = fp;
    hs_code rc = HS_OK;
    struct stat st;
    unsigned char head[CK_HEADER];
    uint32_t version, bom;
    if (fstat(fileno(fp), &st) != 0) {
        rc = HS_FAIL(err, HS_ERR_IO, "%s: cannot stat the checkpoint: %s", path, strerror(errno));
        goto fail;
    }
    if (st.st_size < CK_HEADER + CK_TRAILER || r_bytes(fp, head, CK_HEADER) != 0) {
        rc = HS_FAIL(err, HS_ERR_IO, "%s: %lld bytes is too short to be a checkpoint", path, (long long)st.st_size);
        goto fail;
    }
    if (memcmp(head, CK_MAGIC, 8) != 0) {
        rc = HS_FAIL(err, HS_ERR_IO, "%s: not an hsweep checkpoint (no HSCKPT1 magic)", path);
        goto fail;
    }
    memcpy(&version, head + 8, 4);
    memcpy(&bom, head + 12, 4);
    if (bom != CK_BOM) {
        rc = HS_FAIL(err, HS_ERR_IO, "%s: the checkpoint was written on a host of another byte order", path);
        goto fail;
    }
    if (version != CK_VERSION) {
        rc = HS_FAIL(err, HS_ERR_IO, "%s: checkpoint format version %u, this hsweep reads version %u", path, version,
                     CK_VERSION);
        goto fail;
    }
    if ((rc = verify_checksum(f, st.st_size, err)) != HS_OK) goto fail;
    if (memcmp(head + 16, id->run_id, 16) != 0) {
        char a[17], b[17];
        id_text((const char *)head + 16, a), id_text(id->run_id, b);
        rc = HS_FAIL(err, HS_ERR_IO, "%s: the checkpoint belongs to run %s, not to run %s", path, a, b);
        goto fail;
    }
    if (memcmp(head + 32, id->config, 32) != 0) {
        char a[65], b[65];
        hex(head + 32, 32, a), hex(id->config, 32, b);
        rc = HS_FAIL(err, HS_ERR_IO,
                     "%s: the checkpoint was written for another configuration (config digest %.16s..., this run's "
                     "%.16s...)", path, a, b);
        hs_error_hint(err, "remove the file to start the run afresh");
        goto fail;
    }
    if ((rc = read_directory(f, st.st_size, err)) != HS_OK) goto fail;
    *out = f;
    return HS_OK;
fail:
    ck_close(f);
    return rc;
}

hs_code ck_read(ck_file *f, const ck_section *s, hs_error *err) {
    ck_entry *e = NULL;
    for (size_t i = 0; i < f->n && !e; i++)
        if (strcmp(f->e[i].name, s->name) == 0) e = &f->e[i];
    if (!e) return HS_FAIL(err, HS_ERR_IO, "%s: the checkpoint has no section '%s'", f->path, s->name);
    if (e->type != (uint32_t)s->type || e->count != s->count)
        return HS_FAIL(err, HS_ERR_IO, "%s: section '%s' holds %llu %s, this run needs %zu %s", f->path, s->name,
                       (unsigned long long)e->count, type_name(e->type), s->count, type_name(s->type));
    size_t bytes = s->count * type_size(s->type);
    if (bytes && (fseeko(f->f, e->offset, SEEK_SET) != 0 || r_bytes(f->f, s->data, bytes) != 0))
        return HS_FAIL(err, HS_ERR_IO, "%s: reading section '%s' failed: %s", f->path, s->name, read_failure(f->f));
    e->read = 1;
    return HS_OK;
}

hs_code ck_finish(ck_file *f, hs_error *err) {
    for (size_t i = 0; i < f->n; i++)
        if (!f->e[i].read)
            return HS_FAIL(err, HS_ERR_IO, "%s: section '%s' is not part of this run's state (a checkpoint of "
                           "another model or hsweep version?)", f->path, f->e[i].name);
    return HS_OK;
}

/* ================================================================ removal */

hs_code hs_train_checkpoint_remove(const char *path, hs_error *err) {
    if (!path) return HS_OK;
    if (remove(path) != 0 && errno != ENOENT)
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot remove the checkpoint: %s", path, strerror(errno));
    /* a save killed between creating and renaming its temporary leaves this behind */
    size_t n = strlen(path);
    char *tmp = malloc(n + 5);
    if (!tmp) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory");
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    int bad = remove(tmp) != 0 && errno != ENOENT;
    int e = errno;
    free(tmp);
    if (bad) return HS_FAIL(err, HS_ERR_IO, "%s.tmp: cannot remove: %s", path, strerror(e));
    if (sync_dir(path) != 0 && errno != ENOENT)
        return HS_FAIL(err, HS_ERR_IO, "%s: removed, but its directory could not be synced: %s", path, strerror(errno));
    return HS_OK;
}
