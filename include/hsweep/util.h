/*
 * util.h - small building blocks with no hsweep knowledge: a growable string, SHA-256
 * (run ids are a prefix of it), an edit distance for "did you mean" suggestions, whole-file
 * writes and the BLAS library's thread control.
 *
 *     hs_str s = {0};
 *     hs_str_printf(&s, "model.depth=%d\n", 6);     // returns HS_OK or HS_ERR_NOMEM
 *     uint8_t digest[32];
 *     hs_sha256(s.buf, s.len, digest);
 *     hs_str_free(&s);
 */
#ifndef HSWEEP_UTIL_H
#define HSWEEP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "hsweep/status.h"

/* ---------------------------------------------------------------- growable string */

/* A NUL-terminated byte string; {0} is a valid empty string. */
typedef struct hs_str {
    char *buf;
    size_t len, cap;
} hs_str;

/* Append printf-style text. On allocation failure returns HS_ERR_NOMEM and leaves s as it was. */
hs_code hs_str_printf(hs_str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append n raw bytes. */
hs_code hs_str_append(hs_str *s, const char *bytes, size_t n);
/* Append a JSON string literal (quotes and escapes included). */
hs_code hs_str_json(hs_str *s, const char *text);
/* Append word quoted for a POSIX shell where it needs it (a path with a space, a quote, a $):
 * 'my results.h5', it'\''s -> 'it'\''s'; a word of safe characters only goes in as it is. The
 * commands hsweep suggests must paste back as they are shown. */
hs_code hs_str_shell(hs_str *s, const char *word);
/* "12.3 MB" into buf: b bytes in decimal units (as ls -l --si and df -H), three figures. */
void hs_format_bytes(double b, char *buf, size_t len);
/* Forget the contents but keep the memory. */
void hs_str_reset(hs_str *s);
void hs_str_free(hs_str *s);

/* ---------------------------------------------------------------- whole files */

/* Write n bytes of buf as the file path, whole or not at all: written aside (path.tmp-PID) and
 * renamed over path, so a reader sees the old file or the new one, and a failure (a full disk)
 * leaves the old one as it was and no aside copy. A path that exists and is no regular file (a
 * device, a FIFO, a link) is written into instead. HS_ERR_IO names path and the system's cause. */
hs_code hs_file_write_whole(const char *path, const void *buf, size_t n, hs_error *err);

/* What lies at path when it is no regular file, for messages: "a directory" (*is_dir set to 1) or
 * "a device, FIFO or socket" (links followed); NULL for a regular file, nothing at all, or what
 * stat cannot reach. is_dir may be NULL. HDF5 files must be regular: opened for writing, a FIFO
 * blocks until someone reads it, and as root a block device would be written over. */
const char *hs_path_not_file(const char *path, int *is_dir);

/* The memory this process may use, in bytes: the machine's (MemTotal of /proc/meminfo) or, when
 * lower, the limit of its cgroup and the groups above it (v1 or v2: how Slurm and containers cap a
 * job), or, when lower still, HSWEEP_MEMORY_LIMIT (bytes, or with a k/M/G/T suffix: "8G"), a cap
 * that leaves room for other work. *what (may be NULL) names which it is, for messages. 0 when
 * none can be read. Ranks on one node share it. */
double hs_memory_limit(const char **what);
/* The machine's part of that (no HSWEEP_MEMORY_LIMIT), with every file read under root ("" = the
 * system's own /proc and /sys): tests lay out a machine's files there. */
double hs_memory_limit_in(const char *root, const char **what);

/* Zeroed memory of `bytes` for a net's largest arrays (its weights and their optimiser state), to
 * be released with hs_unmap(p, the same bytes); NULL when out of memory. From 2 MB on it is
 * mapped on its own, starting on a 2 MB boundary, and advised into transparent huge pages (where
 * the kernel gives them only on request): the arrays then lie in physically contiguous 2 MB
 * pages, so the cache sets their rows fall into follow the layout (hnet.c's padded rows) rather
 * than whichever 4 kB pages the kernel handed out, and a training step stops varying with them
 * (bench/README.md, bench_hnet). The mapping is the bytes rounded up to 4 kB, nothing more. Below
 * 2 MB: aligned_alloc on 64 bytes. */
void *hs_map_zeroed(size_t bytes);
void hs_unmap(void *p, size_t bytes); /* NULL: nothing */
/* Bytes hs_map_zeroed holds mapped now, in all (what a process's allocator does not see). */
size_t hs_mapped_bytes(void);

/* ---------------------------------------------------------------- the BLAS library */

/* Sets the linked BLAS's own thread count, where it has a control hsweep knows (OpenBLAS, MKL,
 * BLIS): returns 1 then, 0 for a BLAS without one (its threads follow its environment variables). */
int hs_blas_set_threads(int n);
/* OpenBLAS's kernel family for this CPU ("Haswell"), NULL for any other BLAS. */
const char *hs_blas_corename(void);
/* One line naming the linked BLAS, e.g. "OpenBLAS, Haswell kernels"; static text, not thread-safe. */
const char *hs_blas_describe(void);

/* ---------------------------------------------------------------- hashing */

/* SHA-256 (FIPS 180-4) of n bytes into out[32]. */
void hs_sha256(const void *data, size_t n, uint8_t out[32]);

/* Incremental form: init, update any number of times, final. */
typedef struct hs_sha256_ctx {
    uint32_t h[8];
    uint64_t total;
    uint8_t block[64];
    size_t used;
} hs_sha256_ctx;
void hs_sha256_init(hs_sha256_ctx *c);
void hs_sha256_update(hs_sha256_ctx *c, const void *data, size_t n);
void hs_sha256_final(hs_sha256_ctx *c, uint8_t out[32]);

/* The first 8 digest bytes as a big-endian integer: printed with %016llx it equals the first
 * 16 hex characters of the usual hex digest (so `sha256sum` reproduces a run id). */
uint64_t hs_sha256_prefix64(const uint8_t digest[32]);

/* ---------------------------------------------------------------- text */

/* Levenshtein distance between a and b (case-sensitive), capped at 255. */
int hs_edit_distance(const char *a, const char *b);

/* Seconds since the Unix epoch (wall clock: what files and other hosts compare), and seconds of
 * a monotonic clock (durations within a process: never jumps with the wall clock). */
double hs_time_unix(void);
double hs_time_mono(void);

#endif /* HSWEEP_UTIL_H */
