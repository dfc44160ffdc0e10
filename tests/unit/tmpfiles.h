/* tmpfiles.h - a scratch folder per test program and the helpers that fill it: files written
 * plain or gzipped, read back whole, subfolders, and the recursive removal main() ends with.
 * Every function is static inline so a program that uses only some of them still builds with
 * -Werror. Usage: main() fills tmp_dir with tmp_dir_make("/tmp/hsweep-test-X-XXXXXX") and calls
 * tmp_dir_remove() after hs_test_main. */
#ifndef HSWEEP_TMPFILES_H
#define HSWEEP_TMPFILES_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "testing.h"

static char tmp_dir[64]; /* made by main with mkdtemp, emptied and removed at the end */

/* Make tmp_dir from a mkdtemp template; 0 on success, else prints why and returns -1. */
static inline int tmp_dir_make(const char *template) {
    snprintf(tmp_dir, sizeof tmp_dir, "%s", template);
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

/* tmp_dir/name into out; a path that does not fit comes back empty (every open of it fails). */
static inline void tmp_path(char *out, size_t size, const char *name) {
    if (snprintf(out, size, "%s/%s", tmp_dir, name) >= (int)size) out[0] = '\0';
}

/* Write n raw bytes to tmp_dir/name; the full path goes to path. */
static inline void write_plain(char *path, size_t size, const char *name, const void *bytes, size_t n) {
    tmp_path(path, size, name);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(bytes, 1, n, f), n);
    CU_ASSERT_EQUAL(fclose(f), 0);
}

/* Write n bytes gzip-compressed to tmp_dir/name. */
static inline void write_gz(char *path, size_t size, const char *name, const void *bytes, size_t n) {
    tmp_path(path, size, name);
    gzFile gz = gzopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gz);
    CU_ASSERT_EQUAL(gzwrite(gz, bytes, (unsigned)n), (int)n);
    CU_ASSERT_EQUAL(gzclose(gz), Z_OK);
}

/* Whole file into a malloc'd buffer (the caller frees it). */
static inline uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = malloc(1 << 20);
    *n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

/* Remove dir, its files and its subfolders (the dataset tests make one folder per dataset). */
static inline void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        char path[512];
        struct stat st;
        for (struct dirent *e; (e = readdir(d));) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            /* a path that does not fit is skipped (the folder then stays), never cut short */
            if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
            if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(path);
            else remove(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

static inline void tmp_dir_remove(void) { remove_tree(tmp_dir); }

/* Make tmp_dir/name (a folder for one synthetic dataset); its full path goes to path. */
static inline void make_subdir(char *path, size_t size, const char *name) {
    tmp_path(path, size, name);
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0700), 0);
}

#endif
