/* file.c - whole small files written so that a reader never meets half of one, what lies at a
 * path, the memory this process may use, and its largest arrays' (see util.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
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

#define HUGE_PAGE ((size_t)2 << 20)

static _Atomic size_t mapped_bytes;

static size_t mapped_length(size_t bytes) { return (bytes + 4095) & ~(size_t)4095; }

void *hs_map_zeroed(size_t bytes) {
    if (bytes < HUGE_PAGE) {
        void *p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
        if (p) memset(p, 0, bytes);
        return p;
    }
    if (bytes > SIZE_MAX / 2) return NULL;
    /* map a 2 MB more, keep the part from the first 2 MB boundary, return the rest */
    const size_t len = mapped_length(bytes), over = len + HUGE_PAGE;
    char *raw = mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    char *p = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (p > raw) munmap(raw, (size_t)(p - raw));
    if (raw + over > p + len) munmap(p + len, (size_t)(raw + over - (p + len)));
#ifdef MADV_HUGEPAGE
    (void)madvise(p, len, MADV_HUGEPAGE); /* advice: refused or not, the memory is the same */
#endif
    atomic_fetch_add(&mapped_bytes, len);
    return p; /* anonymous memory reads as zeros */
}

void hs_unmap(void *p, size_t bytes) {
    if (!p) return;
    if (bytes < HUGE_PAGE) {
        free(p);
        return;
    }
    munmap(p, mapped_length(bytes));
    atomic_fetch_sub(&mapped_bytes, mapped_length(bytes));
}

size_t hs_mapped_bytes(void) { return atomic_load(&mapped_bytes); }

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

/* The smallest memory limit a cgroup line "hier:controllers:/path" of /proc/self/cgroup puts on
 * this process: the limit file of its group and of each group above it (a parent's limit binds
 * its children), under base. 0 when none is set. */
static double cgroup_limit(const char *base, const char *group, const char *file) {
    char path[1024];
    double least = 0;
    size_t n = strlen(group);
    for (;;) {
        snprintf(path, sizeof path, "%s%.*s/%s", base, (int)n, group, file);
        FILE *f = fopen(path, "r");
        char word[64] = "";
        if (f) {
            if (!fgets(word, sizeof word, f)) word[0] = '\0';
            fclose(f);
        }
        char *end = NULL;
        double v = strtod(word, &end);
        /* "max" (v2) or a page-rounded INT64_MAX (v1) mean no limit */
        if (end != word && v > 0 && v < 1e18 && (least == 0 || v < least)) least = v;
        while (n > 0 && group[n - 1] != '/') n--;
        if (n == 0) break;
        n--; /* drop the slash: the parent group, "" at the root */
    }
    return least;
}

double hs_memory_limit(const char **what) {
    double limit = hs_memory_limit_in("", what);
    /* a user's own cap below the machine's: room for other work on a shared workstation */
    const char *env = getenv("HSWEEP_MEMORY_LIMIT");
    char *end = NULL;
    double v = env ? strtod(env, &end) : 0;
    if (env && end != env) {
        const char unit = *end;
        v *= unit == 'k' || unit == 'K' ? 1e3 : unit == 'M' ? 1e6 : unit == 'G' ? 1e9 : unit == 'T' ? 1e12 : 1;
        if (v > 0 && (limit <= 0 || v < limit)) {
            limit = v;
            if (what) *what = "HSWEEP_MEMORY_LIMIT";
        }
    }
    return limit;
}

double hs_memory_limit_in(const char *root, const char **what) {
    double total = 0;
    char path[1024], line[512];
    snprintf(path, sizeof path, "%s/proc/meminfo", root);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long kb;
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) total = (double)kb * 1024.0;
    }
    if (f) fclose(f);
    if (what) *what = "MemTotal";
    double cg = 0;
    char v1[1024], v2[1024];
    snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
    snprintf(v2, sizeof v2, "%s/sys/fs/cgroup", root);
    snprintf(v1, sizeof v1, "%s/sys/fs/cgroup/memory", root);
    f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c1 = *c2 = '\0'; /* line: the hierarchy's number */
        const char *controllers = c1 + 1, *group = c2 + 1;
        double v = 0;
        if (!strcmp(line, "0") && !controllers[0]) /* v2: one hierarchy */
            v = cgroup_limit(v2, group, "memory.max");
        else if (strstr(controllers, "memory"))
            v = cgroup_limit(v1, group, "memory.limit_in_bytes");
        if (v > 0 && (cg == 0 || v < cg)) cg = v;
    }
    if (f) fclose(f);
    if (cg > 0 && (total == 0 || cg < total)) {
        total = cg;
        if (what) *what = "the cgroup's memory limit";
    }
    return total;
}
