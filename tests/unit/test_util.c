/* test_util.c - SHA-256 against FIPS 180-4 vectors, strings, shell quoting, whole-file writes,
 * the memory limit on laid-out machines, edit distance, error traces. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hsweep/status.h"
#include "hsweep/util.h"
#include "testing.h"

static void hex(const uint8_t d[32], char out[65]) {
    for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha_of(const char *msg, char out[65]) {
    uint8_t d[32];
    hs_sha256(msg, strlen(msg), d);
    hex(d, out);
}

static void test_sha256_vectors(void) {
    char h[65];
    sha_of("", h);
    CU_ASSERT_STRING_EQUAL(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha_of("abc", h);
    CU_ASSERT_STRING_EQUAL(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", h);
    CU_ASSERT_STRING_EQUAL(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* 55 and 56 bytes straddle the padding boundary */
    char m55[56], m56[57];
    memset(m55, 'a', 55), m55[55] = 0;
    memset(m56, 'a', 56), m56[56] = 0;
    sha_of(m55, h);
    CU_ASSERT_STRING_EQUAL(h, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    sha_of(m56, h);
    CU_ASSERT_STRING_EQUAL(h, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
}

static void test_sha256_million_a_incremental(void) {
    /* one million 'a' fed in uneven chunks equals the FIPS vector */
    hs_sha256_ctx c;
    hs_sha256_init(&c);
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    size_t left = 1000000;
    for (size_t step = 1; left > 0; step = step % 997 + 1) {
        size_t n = step < left ? step : left;
        hs_sha256_update(&c, chunk, n);
        left -= n;
    }
    uint8_t d[32];
    hs_sha256_final(&c, d);
    char h[65];
    hex(d, h);
    CU_ASSERT_STRING_EQUAL(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_prefix(void) {
    uint8_t d[32];
    hs_sha256("abc", 3, d);
    CU_ASSERT_EQUAL(hs_sha256_prefix64(d), 0xba7816bf8f01cfeaull);
}

static void test_str(void) {
    hs_str s = {0};
    for (int i = 0; i < 1000; i++) CU_ASSERT_EQUAL(hs_str_printf(&s, "%d,", i), HS_OK);
    CU_ASSERT_EQUAL(s.len, strlen(s.buf));
    CU_ASSERT_EQUAL(strncmp(s.buf, "0,1,2,", 6), 0);
    CU_ASSERT_STRING_EQUAL(s.buf + s.len - 4, "999,");
    hs_str_reset(&s);
    CU_ASSERT_EQUAL(s.len, 0);
    CU_ASSERT_EQUAL(hs_str_json(&s, "a\"b\\c\nd\x01"), HS_OK);
    CU_ASSERT_STRING_EQUAL(s.buf, "\"a\\\"b\\\\c\\nd\\u0001\"");
    hs_str_free(&s);
    CU_ASSERT_PTR_NULL(s.buf);
}

/* What /bin/sh makes of `printf %s WORD`, WORD quoted by hs_str_shell: the word itself. */
static void shell_round_trip(const char *word, const char *want_quoted) {
    hs_str q = {0}, cmd = {0}, got = {0};
    CU_ASSERT_EQUAL_FATAL(hs_str_shell(&q, word), HS_OK);
    if (want_quoted) CU_ASSERT_STRING_EQUAL(q.buf, want_quoted);
    hs_str_printf(&cmd, "printf %%s %s", q.buf);
    FILE *p = popen(cmd.buf, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char buf[512];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) hs_str_append(&got, buf, n);
    CU_ASSERT_EQUAL(pclose(p), 0);
    CU_ASSERT_STRING_EQUAL(got.buf ? got.buf : "", word);
    hs_str_free(&q), hs_str_free(&cmd), hs_str_free(&got);
}

static void test_shell_quote(void) {
    shell_round_trip("sweeps/default.yaml", "sweeps/default.yaml"); /* safe: as it is */
    shell_round_trip("/scratch/a-b_c,d=e+f@g:1%.h5", "/scratch/a-b_c,d=e+f@g:1%.h5");
    shell_round_trip("my results.h5", "'my results.h5'");
    shell_round_trip("it's", "'it'\\''s'");
    shell_round_trip("''", "''\\'''\\'''");
    shell_round_trip("$HOME `x` \\ \"q\" ; * ? ~ \xc3\xbc", NULL);
    shell_round_trip("-n", "-n"); /* (printf %s takes it as the word) */
}

static int count_aside(const char *dir) {
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp-") != NULL;
    if (d) closedir(d);
    return n;
}

static void test_file_write_whole(void) {
    char dir[] = "/tmp/hsweep-util-XXXXXX", path[300], fifo[300];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.csv", dir);
    hs_error err = {0};
    CU_ASSERT_EQUAL(hs_file_write_whole(path, "a,b\n", 4, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_file_write_whole(path, "c\n", 2, &err), HS_OK); /* replaced, not appended */
    char buf[16] = "";
    FILE *f = fopen(path, "r");
    CU_ASSERT_EQUAL(f ? fread(buf, 1, sizeof buf - 1, f) : 0, 2);
    if (f) fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "c\n");
    CU_ASSERT_EQUAL(count_aside(dir), 0);
    /* a device is written into, never renamed over: /dev/full stays a device and says ENOSPC */
    struct stat st;
    if (stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode)) { /* (a container may lack it) */
        CU_ASSERT_EQUAL(hs_file_write_whole("/dev/full", "x", 1, &err), HS_ERR_IO);
        HS_ASSERT_CONTAINS(err.msg, "/dev/full: cannot write: No space left on device");
        CU_ASSERT(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));
    }
    /* a FIFO too, held open for reading and writing here so that no open waits */
    snprintf(fifo, sizeof fifo, "%s/p", dir);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    FILE *r = fopen(fifo, "r+");
    CU_ASSERT_EQUAL(hs_file_write_whole(fifo, "hi", 2, &err), HS_OK);
    memset(buf, 0, sizeof buf);
    CU_ASSERT_EQUAL(r ? fread(buf, 1, 2, r) : 0, 2);
    CU_ASSERT_STRING_EQUAL(buf, "hi");
    if (r) fclose(r);
    CU_ASSERT(stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    /* a folder that does not exist: the error names the path and the cause, no aside copy */
    char nowhere[320];
    snprintf(nowhere, sizeof nowhere, "%s/no/t.csv", dir);
    CU_ASSERT_EQUAL(hs_file_write_whole(nowhere, "x", 1, &err), HS_ERR_IO);
    HS_ASSERT_CONTAINS(err.msg, "no/t.csv: cannot write: No such file or directory");
    CU_ASSERT_EQUAL(count_aside(dir), 0);
    remove(fifo), remove(path), rmdir(dir);
}

/* Write text to root/rel, making its folders. */
static void put(const char *root, const char *rel, const char *text) {
    char path[512], cmd[600];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* The memory a process may use, on machines laid out in a folder: MemTotal alone, a cgroup v2
 * job whose limit sits on a parent group ("max" below and above it), a v1 memory hierarchy beside
 * a v2 line (hybrid, as Slurm nodes often are), and a cgroup limit above the machine's memory. */
static void test_memory_limit(void) {
    const char *what = NULL;
    char root[] = "/tmp/hsweep_memlimit_XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
    put(root, "proc/meminfo", "MemFree:  100 kB\nMemTotal:        8000000 kB\nSwapTotal: 0 kB\n");
    put(root, "proc/self/cgroup", "0::/\n");
    CU_ASSERT_DOUBLE_EQUAL(hs_memory_limit_in(root, &what), 8000000.0 * 1024, 0);
    CU_ASSERT_STRING_EQUAL(what, "MemTotal");

    put(root, "proc/self/cgroup", "0::/system.slice/slurmstepd.scope/job_7/step_0/user/task_0\n");
    put(root, "sys/fs/cgroup/system.slice/memory.max", "max\n");
    put(root, "sys/fs/cgroup/system.slice/slurmstepd.scope/job_7/memory.max", "2147483648\n");
    put(root, "sys/fs/cgroup/system.slice/slurmstepd.scope/job_7/step_0/user/task_0/memory.max", "max\n");
    CU_ASSERT_DOUBLE_EQUAL(hs_memory_limit_in(root, &what), 2147483648.0, 0);
    CU_ASSERT_STRING_EQUAL(what, "the cgroup's memory limit");
    /* a tighter limit further down wins */
    put(root, "sys/fs/cgroup/system.slice/slurmstepd.scope/job_7/step_0/memory.max", "1000000000\n");
    CU_ASSERT_DOUBLE_EQUAL(hs_memory_limit_in(root, &what), 1e9, 0);

    put(root, "proc/self/cgroup", "12:cpu,cpuacct:/slurm/uid_0/job_5\n4:memory:/slurm/uid_0/job_5/step_batch\n0::/\n");
    put(root, "sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
    put(root, "sys/fs/cgroup/memory/slurm/uid_0/job_5/memory.limit_in_bytes", "1073741824\n");
    put(root, "sys/fs/cgroup/memory/slurm/uid_0/job_5/step_batch/memory.limit_in_bytes", "9223372036854771712\n");
    CU_ASSERT_DOUBLE_EQUAL(hs_memory_limit_in(root, &what), 1073741824.0, 0);
    CU_ASSERT_STRING_EQUAL(what, "the cgroup's memory limit");

    put(root, "sys/fs/cgroup/memory/slurm/uid_0/job_5/memory.limit_in_bytes", "64000000000\n");
    CU_ASSERT_DOUBLE_EQUAL(hs_memory_limit_in(root, &what), 8000000.0 * 1024, 0);
    CU_ASSERT_STRING_EQUAL(what, "MemTotal");

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CU_ASSERT_EQUAL(system(cmd), 0);
    /* this machine: MemTotal or a limit below it, never nothing */
    CU_ASSERT(hs_memory_limit(&what) > 0);
}

/* The largest arrays' memory: from 2 MB on a mapping on a 2 MB boundary, zeroed, of exactly the
 * bytes rounded to 4 kB (what hs_mapped_bytes counts; /proc/self/maps shows it mapped, perhaps
 * merged with a neighbour), released by hs_unmap; below, 64-byte aligned and zeroed. */
static void test_map_zeroed(void) {
    const size_t sizes[3] = {((size_t)2 << 20) + 12345, (size_t)6 << 20, 1000};
    for (int i = 0; i < 3; i++) {
        const size_t n = sizes[i], before = hs_mapped_bytes();
        unsigned char *p = hs_map_zeroed(n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        const int big = n >= ((size_t)2 << 20);
        CU_ASSERT_EQUAL((uintptr_t)p % (big ? (uintptr_t)2 << 20 : 64), 0);
        CU_ASSERT_EQUAL(hs_mapped_bytes() - before, big ? (n + 4095) / 4096 * 4096 : 0);
        size_t nonzero = 0;
        for (size_t j = 0; j < n; j++) nonzero += p[j] != 0;
        CU_ASSERT_EQUAL(nonzero, 0);
        p[0] = 1, p[n - 1] = 2; /* writable to the last byte */
        if (big) { /* mapped, in /proc/self/maps */
            FILE *f = fopen("/proc/self/maps", "r");
            char line[512];
            int found = 0;
            while (f && fgets(line, sizeof line, f)) {
                unsigned long lo, hi;
                if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= (uintptr_t)p && hi >= (uintptr_t)p + n) found = 1;
            }
            if (f) fclose(f);
            CU_ASSERT(found);
        }
        hs_unmap(p, n);
        CU_ASSERT_EQUAL(hs_mapped_bytes(), before);
    }
    hs_unmap(NULL, (size_t)8 << 20); /* nothing */
}

static void test_edit_distance(void) {
    CU_ASSERT_EQUAL(hs_edit_distance("kitten", "sitting"), 3);
    CU_ASSERT_EQUAL(hs_edit_distance("", "abc"), 3);
    CU_ASSERT_EQUAL(hs_edit_distance("model.dept", "model.depth"), 1);
    CU_ASSERT_EQUAL(hs_edit_distance("same", "same"), 0);
}

static hs_code inner(hs_error *err) { return HS_FAIL(err, HS_ERR_VALUE, "bad value %d", 7); }
static hs_code outer(hs_error *err) {
    HS_TRY(err, inner(err));
    return HS_OK;
}

static void test_status_trace(void) {
    hs_error err = {0};
    CU_ASSERT_EQUAL(outer(&err), HS_ERR_VALUE);
    CU_ASSERT_EQUAL(err.code, HS_ERR_VALUE);
    CU_ASSERT_STRING_EQUAL(err.msg, "bad value 7");
    /* raised in inner, then crossed the HS_TRY in outer: two entries, innermost first */
    HS_ASSERT_CONTAINS(err.trace, "tests/unit/test_util.c:");
    HS_ASSERT_CONTAINS(err.trace, " <- tests/unit/test_util.c:");
    CU_ASSERT_STRING_EQUAL(hs_code_to_string(HS_ERR_SPEC), "spec");
    CU_ASSERT_STRING_EQUAL(hs_code_to_string((hs_code)99), "unknown");
    hs_error_hint(&err, "try %s", "this");
    CU_ASSERT_STRING_EQUAL(err.hint, "try this");
    hs_error_clear(&err);
    CU_ASSERT_EQUAL(err.code, HS_OK);
    CU_ASSERT_STRING_EQUAL(err.msg, "");
    CU_ASSERT_EQUAL(HS_FAIL(NULL, HS_ERR_IO, "no error struct"), HS_ERR_IO); /* NULL is allowed */
}

int main(void) {
    static const hs_test tests[] = {
        {"sha256 FIPS vectors", test_sha256_vectors},
        {"sha256 million a, uneven chunks", test_sha256_million_a_incremental},
        {"sha256 64-bit prefix", test_sha256_prefix},
        {"growable string and JSON escaping", test_str},
        {"shell quoting, through /bin/sh", test_shell_quote},
        {"whole-file writes: replace, device, FIFO, missing folder", test_file_write_whole},
        {"the memory a process may use: MemTotal, cgroup v1 and v2", test_memory_limit},
        {"large arrays: 2 MB-aligned mappings of exactly their bytes", test_map_zeroed},
        {"edit distance", test_edit_distance},
        {"status codes, hints and traces", test_status_trace},
        {NULL, NULL},
    };
    return hs_test_main("util", tests);
}
