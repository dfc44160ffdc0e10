/* file.c - whole small files written so that a reader never meets half of one (see util.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hsweep/util.h"

const char *hs_path_not_file(const char *path, int *is_dir) {
    struct stat st;
    const int known = stat(path, &st) == 0;
    if (is_dir) *is_dir = known && S_ISDIR(st.st_mode);
    if (!known || S_ISREG(st.st_mode)) return NULL;
    return S_ISDIR(st.st_mode) ? "a directory" : "a device, FIFO or socket";
}

hs_code hs_file_write_whole(const char *path, const void *buf, size_t n, hs_error *err) {
    struct stat st;
    /* a device, a FIFO or a link is written into: renaming over it would put a regular file in
     * its place (as root, over /dev/stdout) */
    int in_place = lstat(path, &st) == 0 && !S_ISREG(st.st_mode);
    hs_str tmp = {0};
    if (!in_place && hs_str_printf(&tmp, "%s.tmp-%ld", path, (long)getpid()) != HS_OK)
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory writing %s", path);
    const char *target = in_place ? path : tmp.buf;
    FILE *f = fopen(target, "w");
    int e = f ? 0 : errno;
    if (f && n && fwrite(buf, 1, n, f) != n) e = errno ? errno : EIO;
    if (f && fclose(f) != 0 && !e) e = errno ? errno : EIO;
    if (!e && !in_place && rename(tmp.buf, path) != 0) e = errno;
    if (e && !in_place && f) unlink(tmp.buf); /* the old file, if any, stays whole */
    hs_str_free(&tmp);
    if (e) return HS_FAIL(err, HS_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    return HS_OK;
}
