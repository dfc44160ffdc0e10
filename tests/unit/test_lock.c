/* test_lock.c - the writer lock of a results file, between real processes: a forked child that
 * tries to take a held lock, a child killed while holding one, forged records of another host,
 * a held flock against the record, a lock file replaced while an acquirer waits, processes
 * contending for it, the heartbeat thread and its failures, leftovers of a crash, and an inspect
 * that must leave no trace.
 * Longer than 600 lines on purpose: it is one concern (the lock between processes), and every test
 * runs on the same scratch fixture and fork-and-pipe harness (in_child, forge), which a split
 * would only copy or move into a header used by this file alone. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hsweep/lock.h"
#include "hsweep/util.h"
#include "testing.h"

/* ---------------------------------------------------------------- helpers */

typedef struct scratch {
    char dir[64];
    char results[128]; /* dir/out.h5 (never created: the lock does not need it) */
    char lock[160];    /* dir/out.h5.lock */
} scratch;

static void scratch_make(scratch *s) {
    snprintf(s->dir, sizeof s->dir, "/tmp/hsweep-lock-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(s->dir));
    snprintf(s->results, sizeof s->results, "%s/out.h5", s->dir);
    snprintf(s->lock, sizeof s->lock, "%s.lock", s->results);
}

/* The folder must be empty again: every test ends with its lock released or removed. */
static void scratch_drop(scratch *s) {
    unlink(s->lock);
    CU_ASSERT_EQUAL(rmdir(s->dir), 0);
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}


static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void read_file(const char *path, char *buf, size_t n) {
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    size_t k = fread(buf, 1, n - 1, f);
    buf[k] = '\0';
    fclose(f);
}

/* A record as another process would write it. It replaces path at once (a new file renamed
 * over it): an acquirer must never see it empty, which would read as no owner. */
static void forge(const char *path, const char *host, long pid, double heartbeat) {
    char text[512], tmp[300];
    snprintf(text, sizeof text,
             "host=%s\npid=%ld\nuser=someone\ncommand=run\njob=999\narray=\nstart=%.3f\nheartbeat=%.3f\n", host, pid,
             heartbeat - 100, heartbeat);
    snprintf(tmp, sizeof tmp, "%s.forged", path);
    write_file(tmp, text);
    CU_ASSERT_EQUAL(rename(tmp, path), 0);
}

static const char *my_host(void) {
    static char host[256];
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    return host;
}

/* What a child process saw, sent back through a pipe. */
typedef struct outcome {
    hs_code code;
    hs_lock_state state;
    hs_lock_info info;
    char msg[1024], hint[256];
} outcome;

typedef void (*child_fn)(const scratch *s, outcome *o);

/* Run fn in a forked child and return what it saw. */
static outcome in_child(child_fn fn, const scratch *s) {
    outcome o;
    memset(&o, 0, sizeof o);
    o.code = HS_ERR_INTERNAL;
    snprintf(o.msg, sizeof o.msg, "the child sent nothing");
    int p[2];
    CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
    fflush(NULL); /* or the child's exit would print CUnit's buffered output twice */
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        outcome r;
        memset(&r, 0, sizeof r);
        fn(s, &r);
        ssize_t k = write(p[1], &r, sizeof r);
        _exit(k == (ssize_t)sizeof r ? 0 : 1);
    }
    close(p[1]);
    size_t got = 0;
    while (got < sizeof o) {
        ssize_t k = read(p[0], (char *)&o + got, sizeof o - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_EQUAL(got, sizeof o);
    return o;
}

/* Take the lock, and release it when taken. */
static void child_acquire(const scratch *s, outcome *o) {
    hs_error err = {0};
    hs_lock *l = NULL;
    o->code = hs_lock_acquire(s->results, "analyze", 0, &l, NULL, &err);
    memcpy(o->msg, err.msg, sizeof o->msg);
    memcpy(o->hint, err.hint, sizeof o->hint);
    hs_lock_release(l);
}

static void child_inspect(const scratch *s, outcome *o) {
    hs_error err = {0};
    o->code = hs_lock_inspect(s->results, &o->info, &o->state, &err);
    memcpy(o->msg, err.msg, sizeof o->msg);
}

/* ---------------------------------------------------------------- tests */

static void test_held_lock_refuses_another_process(void) {
    scratch s;
    scratch_make(&s);
    hs_error err = {0};
    hs_lock *l = NULL;
    hs_lock_info dead;
    CU_ASSERT_EQUAL_FATAL(hs_lock_acquire(s.results, "run", 0, &l, &dead, &err), HS_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_EQUAL(dead.pid, 0);
    CU_ASSERT(exists(s.lock));

    /* the record a user reads with cat */
    char text[1024], line[300];
    read_file(s.lock, text, sizeof text);
    snprintf(line, sizeof line, "pid=%ld\n", (long)getpid());
    HS_ASSERT_CONTAINS(text, line);
    snprintf(line, sizeof line, "host=%s\n", my_host());
    HS_ASSERT_CONTAINS(text, line);
    HS_ASSERT_CONTAINS(text, "command=run\n");

    outcome o = in_child(child_acquire, &s);
    CU_ASSERT_EQUAL(o.code, HS_ERR_IO);
    HS_ASSERT_CONTAINS(o.msg, "is being written by `hsweep run`");
    snprintf(line, sizeof line, "pid %ld on host %s", (long)getpid(), my_host());
    HS_ASSERT_CONTAINS(o.msg, line);
    HS_ASSERT_CONTAINS(o.msg, s.results);
    CU_ASSERT(o.hint[0] != '\0');
    CU_ASSERT(exists(s.lock)); /* the refused child left the holder's file alone */

    o = in_child(child_inspect, &s);
    CU_ASSERT_EQUAL(o.code, HS_OK);
    CU_ASSERT_EQUAL(o.state, HS_LOCK_LIVE);
    CU_ASSERT_EQUAL(o.info.pid, (long)getpid());
    CU_ASSERT_STRING_EQUAL(o.info.host, my_host());
    CU_ASSERT_STRING_EQUAL(o.info.command, "run");

    /* the holder's own process inspects it as live too (a second open conflicts with our flock) */
    hs_lock_info info;
    hs_lock_state st = HS_LOCK_NONE;
    CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &info, &st, &err), HS_OK);
    CU_ASSERT_EQUAL(st, HS_LOCK_LIVE);
    CU_ASSERT_EQUAL(info.pid, (long)getpid());

    /* a second acquire in the same process is refused like any other */
    hs_lock *twice = NULL;
    CU_ASSERT_EQUAL(hs_lock_acquire(s.results, "run", 1, &twice, NULL, &err), HS_ERR_IO);
    CU_ASSERT_PTR_NULL(twice);

    hs_lock_release(l);
    CU_ASSERT(!exists(s.lock));
    o = in_child(child_acquire, &s);
    CU_ASSERT_EQUAL(o.code, HS_OK);
    if (o.code != HS_OK) fprintf(stderr, "\n  child: %s\n", o.msg);
    CU_ASSERT(!exists(s.lock)); /* the child released it */
    hs_lock_release(NULL);
    scratch_drop(&s);
}

static void test_killed_owner_is_stale(void) {
    scratch s;
    scratch_make(&s);
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        hs_lock *l = NULL;
        if (hs_lock_acquire(s.results, "run", 0, &l, NULL, NULL) != HS_OK) _exit(3);
        kill(getpid(), SIGKILL); /* dies holding it: no release, no unlink */
        _exit(4);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CU_ASSERT_FATAL(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CU_ASSERT(exists(s.lock));

    hs_error err = {0};
    hs_lock_info info;
    hs_lock_state st = HS_LOCK_NONE;
    CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &info, &st, &err), HS_OK);
    CU_ASSERT_EQUAL(st, HS_LOCK_STALE);
    CU_ASSERT_EQUAL(info.pid, (long)pid);

    hs_lock *l = NULL;
    hs_lock_info dead;
    CU_ASSERT_EQUAL(hs_lock_acquire(s.results, "run", 0, &l, &dead, &err), HS_ERR_IO);
    CU_ASSERT_PTR_NULL(l);
    CU_ASSERT_EQUAL(dead.pid, 0);
    HS_ASSERT_CONTAINS(err.msg, "stale");
    char gone[300];
    snprintf(gone, sizeof gone, "pid %ld on %s is gone", (long)pid, my_host());
    HS_ASSERT_CONTAINS(err.msg, gone);
    HS_ASSERT_CONTAINS(err.hint, "--resume");
    /* the refusal left the dead owner's record as it was */
    CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &info, &st, &err), HS_OK);
    CU_ASSERT_EQUAL(info.pid, (long)pid);

    CU_ASSERT_EQUAL(hs_lock_acquire(s.results, "run", 1, &l, &dead, &err), HS_OK);
    CU_ASSERT_PTR_NOT_NULL(l);
    CU_ASSERT_EQUAL(dead.pid, (long)pid);
    CU_ASSERT_STRING_EQUAL(dead.host, my_host());
    CU_ASSERT_STRING_EQUAL(dead.command, "run");
    CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &info, &st, &err), HS_OK);
    CU_ASSERT_EQUAL(st, HS_LOCK_LIVE);
    CU_ASSERT_EQUAL(info.pid, (long)getpid());
    hs_lock_release(l);
    scratch_drop(&s);
}

static void test_other_host_by_heartbeat(void) {
    scratch s;
    scratch_make(&s);
    const char *elsewhere = "node-elsewhere.invalid";
    hs_error err = {0};
    hs_lock_info info, dead;
    hs_lock_state st = HS_LOCK_NONE;
    hs_lock *l = NULL;

    unsetenv("HSWEEP_LOCK_TIMEOUT");
    CU_ASSERT_DOUBLE_EQUAL(hs_lock_timeout(), 600.0, 1e-9);
    forge(s.lock, elsewhere, 4242, hs_time_unix() - 30);
    CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &info, &st, &err), HS_OK);
    CU_ASSERT_EQUAL(st, HS_LOCK_LIVE);
    CU_ASSERT_STRING_EQUAL(info.host, elsewhere);
    CU_ASSERT_EQUAL(info.pid, 4242);
    CU_ASSERT_STRING_EQUAL(info.job, "999");
    /* a live owner is never taken over, take_stale or not */
    CU_ASSERT_EQUAL(hs_lock_acquire(s.results, "run", 1, &l, &dead, &err), HS_ERR_IO);
    CU_ASSERT_PTR_NULL(l);
    HS_ASSERT_CONTAINS(err.msg, "pid 4242 on host node-elsewhere.invalid");
    HS_ASSERT_CONTAINS(err.msg, "Slurm job 999");
    HS_ASSERT_CONTAINS(err.msg, "heartbeat 30 s ago");
    HS_ASSERT_CONTAINS(err.hint, "delete");

    CU_ASSERT_EQUAL(setenv("HSWEEP_LOCK_TIMEOUT", "5", 1), 0);
    CU_ASSERT_DOUBLE_EQUAL(hs_lock_timeout(), 5.0, 1e-9);
    forge(s.lock, elsewhere, 4242, hs_time_unix() - 60);
    CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &info, &st, &err), HS_OK);
    CU_ASSERT_EQUAL(st, HS_LOCK_STALE);
    CU_ASSERT_EQUAL(hs_lock_acquire(s.results, "run", 0, &l, &dead, &err), HS_ERR_IO);
    HS_ASSERT_CONTAINS(err.msg, "stale");
    HS_ASSERT_CONTAINS(err.msg, "HSWEEP_LOCK_TIMEOUT");
    CU_ASSERT_EQUAL(hs_lock_acquire(s.results, "run", 1, &l, &dead, &err), HS_OK);
    CU_ASSERT_EQUAL(dead.pid, 4242);
    CU_ASSERT_STRING_EQUAL(dead.host, elsewhere);
    CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &info, &st, &err), HS_OK);
    CU_ASSERT_EQUAL(st, HS_LOCK_LIVE);
    CU_ASSERT_EQUAL(info.pid, (long)getpid());
    hs_lock_release(l);

    /* nonsense falls back to the default rather than to 0 (which would make every lock stale) */
    CU_ASSERT_EQUAL(setenv("HSWEEP_LOCK_TIMEOUT", "soon", 1), 0);
    CU_ASSERT_DOUBLE_EQUAL(hs_lock_timeout(), 600.0, 1e-9);
    CU_ASSERT_EQUAL(setenv("HSWEEP_LOCK_TIMEOUT", "-1", 1), 0);
    CU_ASSERT_DOUBLE_EQUAL(hs_lock_timeout(), 600.0, 1e-9);
    unsetenv("HSWEEP_LOCK_TIMEOUT");
    scratch_drop(&s);
}

/* A flock held by another process outweighs the record: another host's old heartbeat (a lagging
 * clock on a file system whose flock reaches across nodes), or no record yet (a writer between
 * creating F.lock and writing it). */
static void test_held_flock_outweighs_the_record(void) {
    scratch s;
    scratch_make(&s);
    CU_ASSERT_EQUAL(setenv("HSWEEP_LOCK_TIMEOUT", "5", 1), 0);
    for (int empty = 0; empty < 2; empty++) {
        if (empty) write_file(s.lock, "");
        else forge(s.lock, "node-elsewhere.invalid", 4242, hs_time_unix() - 60);
        int ready[2], done[2];
        CU_ASSERT_FATAL(pipe(ready) == 0 && pipe(done) == 0);
        fflush(NULL);
        pid_t pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            close(ready[0]), close(done[1]);
            int fd = open(s.lock, O_RDWR);
            char c = 'x', d;
            if (fd < 0 || flock(fd, LOCK_EX) != 0 || write(ready[1], &c, 1) != 1) _exit(1);
            _exit(read(done[0], &d, 1) == 0 ? 0 : 2); /* hold until the parent closes done */
        }
        close(ready[1]), close(done[0]);
        char c = 0;
        CU_ASSERT_EQUAL_FATAL(read(ready[0], &c, 1), 1);

        hs_error err = {0};
        hs_lock_info info, dead;
        hs_lock_state st = HS_LOCK_NONE;
        CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &info, &st, &err), HS_OK);
        CU_ASSERT_EQUAL(st, HS_LOCK_LIVE);
        CU_ASSERT_EQUAL(info.pid, empty ? 0 : 4242);
        hs_lock *l = NULL;
        CU_ASSERT_EQUAL(hs_lock_acquire(s.results, "run", 1, &l, &dead, &err), HS_ERR_IO);
        CU_ASSERT_PTR_NULL(l);
        CU_ASSERT_EQUAL(dead.pid, 0);
        HS_ASSERT_CONTAINS(err.msg, "is being written by");
        HS_ASSERT_CONTAINS(err.msg, empty ? "has not written its record" : "pid 4242 on host node-elsewhere.invalid");

        close(done[1]);
        int status = 0;
        waitpid(pid, &status, 0);
        close(ready[0]);
        CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        /* its flock gone, the record decides */
        CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &info, &st, &err), HS_OK);
        CU_ASSERT_EQUAL(st, empty ? HS_LOCK_NONE : HS_LOCK_STALE);
    }
    unsetenv("HSWEEP_LOCK_TIMEOUT");
    scratch_drop(&s);
}

/* The race the inode check is for, staged: an acquirer waits for the flock of F.lock while its
 * holder removes that file, a new writer's F.lock appears, and only then is the old flock
 * dropped. The flock the acquirer then gets is of a file nobody will open again, and the record
 * in it (stale here) is not the current owner's: it must start over on the new F.lock, find the
 * new writer live and refuse. Taking the stale record over instead would make two writers. */
static void test_lock_file_replaced_while_waiting(void) {
    scratch s;
    scratch_make(&s);
    CU_ASSERT_EQUAL(setenv("HSWEEP_LOCK_TIMEOUT", "5", 1), 0);
    int staged = 0;
    /* the holder's switch comes 20 ms into the acquire's 100 ms of patience: retry when a slow
     * machine missed the window (the acquire then refused the old file's holder) */
    for (int round = 0; round < 5 && !staged; round++) {
        forge(s.lock, "node-old.invalid", 1111, hs_time_unix() - 60);
        int ready[2];
        CU_ASSERT_FATAL(pipe(ready) == 0);
        fflush(NULL);
        pid_t pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            close(ready[0]);
            int fd = open(s.lock, O_RDWR);
            char c = 'x';
            if (fd < 0 || flock(fd, LOCK_EX) != 0 || write(ready[1], &c, 1) != 1) _exit(1);
            sleep_s(0.02);
            forge(s.lock, "node-new.invalid", 2222, hs_time_unix()); /* the old file is unlinked */
            _exit(0); /* drops the flock of the old file */
        }
        close(ready[1]);
        char c = 0;
        CU_ASSERT_EQUAL_FATAL(read(ready[0], &c, 1), 1);
        close(ready[0]);
        hs_error err = {0};
        hs_lock *l = NULL;
        hs_lock_info dead;
        hs_code rc = hs_lock_acquire(s.results, "run", 1, &l, &dead, &err);
        int status = 0;
        waitpid(pid, &status, 0);
        CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CU_ASSERT_EQUAL(rc, HS_ERR_IO);
        CU_ASSERT_PTR_NULL(l);
        CU_ASSERT_EQUAL(dead.pid, 0);
        hs_lock_release(l);
        if (strstr(err.msg, "node-old.invalid")) continue;
        staged = 1;
        HS_ASSERT_CONTAINS(err.msg, "pid 2222 on host node-new.invalid");
        hs_lock_info info;
        hs_lock_state st;
        CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &info, &st, &err), HS_OK);
        CU_ASSERT_EQUAL(st, HS_LOCK_LIVE);
        CU_ASSERT_EQUAL(info.pid, 2222);
    }
    CU_ASSERT(staged);
    unsetenv("HSWEEP_LOCK_TIMEOUT");
    scratch_drop(&s);
}

/* Processes taking and releasing the lock as fast as they can: at no moment do two hold it. A
 * holder proves it is alone by creating a marker file with O_EXCL. This is where the inode check
 * earns its keep: a process that opened F.lock just before its holder unlinked it gets the flock
 * of a file nobody else will ever open again, while the next process locks a new F.lock. */
static void test_contention_one_holder_at_a_time(void) {
    enum { PROCS = 4 };
    scratch s;
    scratch_make(&s);
    char marker[200], log[200];
    snprintf(marker, sizeof marker, "%s/held", s.dir);
    snprintf(log, sizeof log, "%s/log", s.dir);
    pid_t pids[PROCS];
    fflush(NULL);
    for (int p = 0; p < PROCS; p++) {
        pids[p] = fork();
        CU_ASSERT_FATAL(pids[p] >= 0);
        if (pids[p] > 0) continue;
        int overlap = 0, odd = 0;
        double end = hs_time_mono() + 1.0;
        while (hs_time_mono() < end) {
            hs_error err = {0};
            hs_lock *l = NULL;
            if (hs_lock_acquire(s.results, "run", 0, &l, NULL, &err) != HS_OK) {
                if (!strstr(err.msg, "is being written by")) odd++, fprintf(stderr, "\n  %s\n", err.msg);
                continue;
            }
            int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL, 0644);
            if (fd < 0) overlap++;
            sleep_s(0.001); /* a window in which a second holder would be caught */
            if (fd >= 0) close(fd), unlink(marker);
            fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd < 0 || write(fd, "x", 1) != 1) odd++;
            if (fd >= 0) close(fd);
            hs_lock_release(l);
        }
        _exit(overlap ? 1 : odd ? 2 : 0);
    }
    for (int p = 0; p < PROCS; p++) {
        int status = 0;
        waitpid(pids[p], &status, 0);
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 100;
        if (code) fprintf(stderr, "\n  process %d: %s\n", p, code == 1 ? "held the lock together with another" :
                                                           code == 2 ? "an unexpected error" : "died");
        CU_ASSERT_EQUAL(code, 0);
    }
    struct stat st;
    CU_ASSERT(stat(log, &st) == 0 && st.st_size >= 20); /* it did change hands, many times */
    unlink(log);
    CU_ASSERT(!exists(marker));
    CU_ASSERT(!exists(s.lock));
    scratch_drop(&s);
}

static void test_heartbeat(void) {
    scratch s;
    scratch_make(&s);
    hs_error err = {0};
    hs_lock_info a, b;
    hs_lock_state st;
    hs_lock *l = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_lock_acquire(s.results, "run", 0, &l, NULL, &err), HS_OK);

    /* by hand */
    CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &a, &st, &err), HS_OK);
    sleep_s(0.05);
    CU_ASSERT_EQUAL(hs_lock_heartbeat(l, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &b, &st, &err), HS_OK);
    CU_ASSERT(b.heartbeat >= a.heartbeat + 0.04);
    CU_ASSERT_DOUBLE_EQUAL(b.start, a.start, 1e-9);

    /* by the thread: three or so refreshes in 0.7 s */
    CU_ASSERT_EQUAL(hs_lock_start_heartbeat(l, 0.2, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_lock_start_heartbeat(l, 0.2, &err), HS_ERR_INTERNAL); /* once per lock */
    CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &a, &st, &err), HS_OK);
    sleep_s(0.7);
    CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &b, &st, &err), HS_OK);
    CU_ASSERT_EQUAL(st, HS_LOCK_LIVE);
    CU_ASSERT(b.heartbeat >= a.heartbeat + 0.35);
    CU_ASSERT(b.heartbeat <= hs_time_unix() + 0.01);
    CU_ASSERT_DOUBLE_EQUAL(b.start, a.start, 1e-9);
    CU_ASSERT_EQUAL(hs_lock_check(l, &err), HS_OK);
    hs_lock_release(l);
    CU_ASSERT(!exists(s.lock));

    /* release wakes a thread in the middle of a long period */
    l = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_lock_acquire(s.results, "run", 0, &l, NULL, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_lock_start_heartbeat(l, 30, &err), HS_OK);
    sleep_s(0.05);
    double t0 = hs_time_mono();
    hs_lock_release(l);
    double took = hs_time_mono() - t0;
    CU_ASSERT(took < 0.5);
    if (took >= 0.5) fprintf(stderr, "\n  release took %.3f s\n", took);
    CU_ASSERT(!exists(s.lock));

    l = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_lock_acquire(s.results, "run", 0, &l, NULL, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_lock_start_heartbeat(l, -1, &err), HS_ERR_VALUE);
    hs_lock_release(l);
    scratch_drop(&s);
}

static void test_lock_file_deleted_by_hand(void) {
    scratch s;
    scratch_make(&s);
    hs_error err = {0};
    hs_lock *l = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_lock_acquire(s.results, "run", 0, &l, NULL, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_lock_start_heartbeat(l, 0.05, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_lock_check(l, &err), HS_OK);
    CU_ASSERT_EQUAL(unlink(s.lock), 0);
    sleep_s(0.2);
    CU_ASSERT_EQUAL(hs_lock_check(l, &err), HS_ERR_IO);
    HS_ASSERT_CONTAINS(err.msg, "deleted or replaced");
    CU_ASSERT_EQUAL(hs_lock_heartbeat(l, &err), HS_ERR_IO);
    CU_ASSERT(!exists(s.lock)); /* the heartbeat does not bring it back */
    /* meanwhile another writer took F: our release must not delete its lock */
    forge(s.lock, "node-elsewhere.invalid", 4242, hs_time_unix());
    hs_lock_release(l);
    CU_ASSERT(exists(s.lock));
    hs_lock_info info;
    hs_lock_state st;
    CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &info, &st, &err), HS_OK);
    CU_ASSERT_EQUAL(info.pid, 4242);
    scratch_drop(&s);
}

/* In a child, so the file size limit stays there: the record no longer fits, so the thread's
 * writes fail, and hs_lock_check must say so. */
static void child_heartbeat_fails(const scratch *s, outcome *o) {
    hs_error err = {0};
    hs_lock *l = NULL;
    o->code = hs_lock_acquire(s->results, "run", 0, &l, NULL, &err);
    if (o->code != HS_OK) goto out;
    o->state = hs_lock_check(l, &err) == HS_OK ? HS_LOCK_LIVE : HS_LOCK_NONE; /* sound before */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = {16, 16};
    setrlimit(RLIMIT_FSIZE, &small);
    o->code = hs_lock_start_heartbeat(l, 0.05, &err);
    if (o->code != HS_OK) goto out;
    sleep_s(0.25);
    o->code = hs_lock_check(l, &err);
out:
    memcpy(o->msg, err.msg, sizeof o->msg);
    hs_lock_release(l);
}

static void test_failing_heartbeat_is_reported(void) {
    scratch s;
    scratch_make(&s);
    outcome o = in_child(child_heartbeat_fails, &s);
    CU_ASSERT_EQUAL(o.state, HS_LOCK_LIVE);
    CU_ASSERT_EQUAL(o.code, HS_ERR_IO);
    HS_ASSERT_CONTAINS(o.msg, "cannot refresh the lock file");
    HS_ASSERT_CONTAINS(o.msg, strerror(EFBIG));
    CU_ASSERT(!exists(s.lock));
    scratch_drop(&s);
}

static void test_empty_or_garbled_record_is_no_owner(void) {
    static const char *const leftovers[] = {"", "garbage\n", "host=n01\npid=abc\n", "pid=77\n"};
    for (size_t i = 0; i < sizeof leftovers / sizeof *leftovers; i++) {
        scratch s;
        scratch_make(&s);
        write_file(s.lock, leftovers[i]);
        hs_error err = {0};
        hs_lock_info info, dead;
        hs_lock_state st = HS_LOCK_LIVE;
        info.pid = -5;
        CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &info, &st, &err), HS_OK);
        CU_ASSERT_EQUAL(st, HS_LOCK_NONE);
        CU_ASSERT_EQUAL(info.pid, 0);
        hs_lock *l = NULL;
        dead.pid = -5;
        CU_ASSERT_EQUAL(hs_lock_acquire(s.results, "analyze", 0, &l, &dead, &err), HS_OK);
        CU_ASSERT_EQUAL(dead.pid, 0);
        CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &info, &st, &err), HS_OK);
        CU_ASSERT_EQUAL(st, HS_LOCK_LIVE);
        CU_ASSERT_EQUAL(info.pid, (long)getpid());
        CU_ASSERT_STRING_EQUAL(info.command, "analyze");
        hs_lock_release(l);
        CU_ASSERT(!exists(s.lock));
        scratch_drop(&s);
    }
}

static void test_inspect_creates_nothing(void) {
    scratch s;
    scratch_make(&s);
    hs_error err = {0};
    hs_lock_info info;
    hs_lock_state st = HS_LOCK_LIVE;
    info.pid = -5;
    CU_ASSERT_EQUAL(hs_lock_inspect(s.results, &info, &st, &err), HS_OK);
    CU_ASSERT_EQUAL(st, HS_LOCK_NONE);
    CU_ASSERT_EQUAL(info.pid, 0);
    CU_ASSERT(!exists(s.lock));
    scratch_drop(&s); /* rmdir fails if anything was left in the folder */
}

static void test_record_and_describe(void) {
    CU_ASSERT_EQUAL(setenv("SLURM_JOB_ID", "567", 1), 0);
    CU_ASSERT_EQUAL(setenv("SLURM_ARRAY_JOB_ID", "560", 1), 0);
    CU_ASSERT_EQUAL(setenv("SLURM_ARRAY_TASK_ID", "7", 1), 0);
    scratch s;
    scratch_make(&s);
    hs_error err = {0};
    hs_lock *l = NULL;
    CU_ASSERT_EQUAL(hs_lock_acquire(s.results, "run\nsneaky=1", 0, &l, NULL, &err), HS_OK);
    char text[1024];
    read_file(s.lock, text, sizeof text);
    HS_ASSERT_CONTAINS(text, "\njob=567\n");
    HS_ASSERT_CONTAINS(text, "\narray=560_7\n");
    HS_ASSERT_CONTAINS(text, "\ncommand=run?sneaky=1\n"); /* a value cannot start a line of its own */
    CU_ASSERT_PTR_NULL(strstr(text, "\nsneaky"));
    hs_lock_release(l);
    scratch_drop(&s);
    unsetenv("SLURM_JOB_ID");
    unsetenv("SLURM_ARRAY_JOB_ID");
    unsetenv("SLURM_ARRAY_TASK_ID");

    hs_lock_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.host, sizeof info.host, "n01");
    info.pid = 1234;
    snprintf(info.user, sizeof info.user, "alice");
    snprintf(info.command, sizeof info.command, "run");
    snprintf(info.job, sizeof info.job, "567");
    info.start = 1796378400.0; /* 2026-12-04T10:00:00Z */
    info.heartbeat = hs_time_unix() - 12;
    char buf[512];
    int n = hs_lock_describe(&info, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "`hsweep run` (pid 1234 on host n01, user alice, Slurm job 567, "
                                "since 2026-12-04T10:00:00Z, heartbeat 12 s ago)");
    CU_ASSERT_EQUAL(n, (int)strlen(buf));
    snprintf(info.array, sizeof info.array, "560_7");
    hs_lock_describe(&info, buf, sizeof buf);
    HS_ASSERT_CONTAINS(buf, "Slurm job 567 (array task 560_7)");
    info.heartbeat = hs_time_unix() + 120;
    hs_lock_describe(&info, buf, sizeof buf);
    HS_ASSERT_CONTAINS(buf, "heartbeat 120 s in the future");
    char tiny[8];
    n = hs_lock_describe(&info, tiny, sizeof tiny);
    CU_ASSERT(n > (int)sizeof tiny);
    CU_ASSERT_EQUAL(strlen(tiny), sizeof tiny - 1);

    CU_ASSERT_STRING_EQUAL(hs_lock_state_to_string(HS_LOCK_NONE), "none");
    CU_ASSERT_STRING_EQUAL(hs_lock_state_to_string(HS_LOCK_LIVE), "live");
    CU_ASSERT_STRING_EQUAL(hs_lock_state_to_string(HS_LOCK_STALE), "stale");
}

int main(void) {
    static const hs_test tests[] = {
        {"a held lock refuses another process, which inspects it as live", test_held_lock_refuses_another_process},
        {"an owner killed while holding leaves a stale lock, taken over only when allowed", test_killed_owner_is_stale},
        {"another host's owner is live while its heartbeat is fresh", test_other_host_by_heartbeat},
        {"a flock held by another process outweighs the record", test_held_flock_outweighs_the_record},
        {"a lock file replaced while an acquirer waits for it is not taken", test_lock_file_replaced_while_waiting},
        {"processes contending for the lock never hold it together", test_contention_one_holder_at_a_time},
        {"the heartbeat advances by hand and by the thread; release stops it at once", test_heartbeat},
        {"a lock file deleted by hand is reported and not deleted again", test_lock_file_deleted_by_hand},
        {"a failing background heartbeat is reported", test_failing_heartbeat_is_reported},
        {"an empty or garbled lock file is no owner and is taken", test_empty_or_garbled_record_is_no_owner},
        {"inspect never creates the lock file", test_inspect_creates_nothing},
        {"the record's Slurm fields, and describe", test_record_and_describe},
        {NULL, NULL},
    };
    return hs_test_main("lock", tests);
}
