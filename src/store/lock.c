/* lock.c - the writer lock of a results file (see include/hsweep/lock.h).
 *
 * flock rather than fcntl (F_SETLK) locks: an fcntl lock belongs to the process and vanishes when
 * the process closes *any* descriptor of the file, so an hs_lock_inspect (or any library) opening
 * F.lock inside the owner would silently drop the owner's lock. A flock belongs to the open file
 * description: only our own close drops it, and a second open in the same process conflicts like
 * another process would. On NFS the kernel emulates flock with server-side byte-range locks; on
 * Lustre it is cluster-wide, node-local or missing depending on the mount. So flock is trusted
 * where it answers and the record's pid and heartbeat decide where it cannot, which is why a
 * free flock is never taken as proof on its own that the recorded owner is dead. */
#include "hsweep/lock.h"
#include "hsweep/util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT 600.0
#define DEFAULT_PERIOD 30.0
/* How long acquire keeps trying a held flock before it refuses: an inspector holds a shared
 * flock for microseconds, and a writer must not be refused because of it. */
#define PATIENCE 0.1
/* Each reopen follows a holder that released (or a file replaced by hand) while we waited: a
 * bound against a loop, never reached by a handful of processes. */
#define REOPENS 1000
#define RECORD_MAX 4096

struct hs_lock {
    int fd;
    char *path;          /* results path + ".lock" */
    pid_t owner;         /* the acquiring process: only it unlinks and joins the thread */
    pthread_mutex_t io;  /* one record write at a time: the thread and hs_lock_heartbeat */
    hs_lock_info me;     /* our record; heartbeat changes under io */
    pthread_mutex_t mu;  /* guards the fields below */
    pthread_cond_t cv;   /* signalled by release, so the thread stops without waiting its period */
    pthread_t thread;
    int running, stop;
    double period;
    int beat_errno;      /* the last background refresh's failure, ENOENT for a lost file (0: it succeeded) */
};

const char *hs_lock_state_to_string(hs_lock_state s) {
    switch (s) {
    case HS_LOCK_NONE: return "none";
    case HS_LOCK_LIVE: return "live";
    case HS_LOCK_STALE: return "stale";
    }
    return "unknown";
}

double hs_lock_timeout(void) {
    const char *s = getenv("HSWEEP_LOCK_TIMEOUT");
    if (!s || !*s) return DEFAULT_TIMEOUT;
    char *end;
    double t = strtod(s, &end);
    return (*end == '\0' && isfinite(t) && t > 0) ? t : DEFAULT_TIMEOUT;
}


static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Copy at most n-1 bytes, replacing control characters: a value must stay on its line. */
static void copy_field(char *dst, size_t n, const char *src, size_t len) {
    size_t k = 0;
    for (; src && k < len && k + 1 < n && src[k]; k++)
        dst[k] = ((unsigned char)src[k] < 0x20 || src[k] == 0x7f) ? '?' : src[k];
    dst[k] = '\0';
}

static void set_field(char *dst, size_t n, const char *src) { copy_field(dst, n, src, src ? strlen(src) : 0); }

static void own_host(char *buf, size_t n) {
    if (gethostname(buf, n) != 0) snprintf(buf, n, "unknown");
    buf[n - 1] = '\0';
}

static void own_user(char *buf, size_t n) {
    struct passwd pw, *res = NULL;
    char scratch[4096];
    if (getpwuid_r(geteuid(), &pw, scratch, sizeof scratch, &res) == 0 && res && res->pw_name) {
        set_field(buf, n, res->pw_name);
        return;
    }
    const char *env = getenv("USER");
    if (env && *env) set_field(buf, n, env);
    else snprintf(buf, n, "uid %ld", (long)geteuid());
}

static int format_record(const hs_lock_info *r, char *buf, size_t n) {
    return snprintf(buf, n, "host=%s\npid=%ld\nuser=%s\ncommand=%s\njob=%s\narray=%s\nstart=%.3f\nheartbeat=%.3f\n",
                    r->host, r->pid, r->user, r->command, r->job, r->array, r->start, r->heartbeat);
}

/* Returns 1 when text names an owner (a host and a positive pid), else 0 with *r zeroed: a
 * record cut short by a crash between create and write is no owner. */
static int parse_record(const char *text, hs_lock_info *r) {
    memset(r, 0, sizeof *r);
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        const char *eq = memchr(line, '=', len);
        if (eq) {
            size_t klen = (size_t)(eq - line), vlen = len - klen - 1;
            const char *v = eq + 1;
            char num[64];
            copy_field(num, sizeof num, v, vlen);
            char *end;
#define KEY(k) (klen == strlen(k) && memcmp(line, k, klen) == 0)
            if (KEY("host")) copy_field(r->host, sizeof r->host, v, vlen);
            else if (KEY("user")) copy_field(r->user, sizeof r->user, v, vlen);
            else if (KEY("command")) copy_field(r->command, sizeof r->command, v, vlen);
            else if (KEY("job")) copy_field(r->job, sizeof r->job, v, vlen);
            else if (KEY("array")) copy_field(r->array, sizeof r->array, v, vlen);
            else if (KEY("pid")) {
                long p = strtol(num, &end, 10);
                r->pid = (end != num && *end == '\0' && p > 0) ? p : 0;
            } else if (KEY("start") || KEY("heartbeat")) {
                double t = strtod(num, &end);
                if (end != num && *end == '\0' && isfinite(t)) *(KEY("start") ? &r->start : &r->heartbeat) = t;
            }
#undef KEY
        }
        line += len + (eol ? 1 : 0);
    }
    if (!r->host[0] || r->pid <= 0) {
        memset(r, 0, sizeof *r);
        return 0;
    }
    return 1;
}

/* Returns 1 when fd has an owner record (into *r), 0 when it is empty or unreadable as one,
 * -1 with errno on a read error. */
static int read_record(int fd, hs_lock_info *r) {
    char buf[RECORD_MAX];
    size_t got = 0;
    while (got < sizeof buf - 1) {
        ssize_t k = pread(fd, buf + got, sizeof buf - 1 - got, (off_t)got);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return -1;
        if (k == 0) break;
        got += (size_t)k;
    }
    buf[got] = '\0';
    return parse_record(buf, r);
}

/* Whether path still names the file open on fd: 1 yes, 0 no (removed or replaced), -1 error. */
static int names_fd(int fd, const char *path) {
    struct stat a, b;
    if (fstat(fd, &a) != 0) return -1;
    if (stat(path, &b) != 0) return errno == ENOENT ? 0 : -1;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Errors by which flock says the file system has no locks (Lustre without -o flock answers
 * ENOSYS); the record alone decides there. */
static int no_flock_here(int e) { return e == ENOLCK || e == ENOSYS || e == EOPNOTSUPP || e == ENOTSUP || e == EINVAL; }

enum { FLOCK_TAKEN, FLOCK_HELD, FLOCK_NONE, FLOCK_ERROR };

/* Try flock(op | LOCK_NB), again every 10 ms while it is held and the monotonic clock is
 * before give_up. */
static int try_flock(int fd, int op, double give_up) {
    for (;;) {
        if (flock(fd, op | LOCK_NB) == 0) return FLOCK_TAKEN;
        if (errno == EINTR) continue;
        if (no_flock_here(errno)) return FLOCK_NONE;
        if (errno != EWOULDBLOCK && errno != EAGAIN) return FLOCK_ERROR;
        if (hs_time_mono() >= give_up) return FLOCK_HELD;
        sleep_ms(10);
    }
}

/* Whether the owner of a record whose flock we could take (or which has none) is alive; when it
 * is not, why into why[n]. */
static int owner_alive(const hs_lock_info *r, int flock_works, double timeout, char *why, size_t n) {
    char host[256];
    own_host(host, sizeof host);
    if (strcmp(r->host, host) == 0) {
        /* Our own pid in a record whose flock we hold is a dead owner's pid reused by us. */
        if (flock_works && r->pid == (long)getpid()) {
            snprintf(why, n, "pid %ld on %s is gone", r->pid, r->host);
            return 0;
        }
        if (kill((pid_t)r->pid, 0) == 0 || errno == EPERM) return 1;
        snprintf(why, n, "pid %ld on %s is gone", r->pid, r->host);
        return 0;
    }
    double age = hs_time_unix() - r->heartbeat;
    if (age < timeout) return 1;
    snprintf(why, n, "its heartbeat is %.0f s old, more than HSWEEP_LOCK_TIMEOUT = %g s", age, timeout);
    return 0;
}

int hs_lock_describe(const hs_lock_info *info, char *buf, size_t n) {
    char who[64], job[160] = "", since[64] = "", beat[64] = "";
    if (info->command[0]) snprintf(who, sizeof who, "`hsweep %s`", info->command);
    else snprintf(who, sizeof who, "a process");
    if (info->job[0] && info->array[0]) snprintf(job, sizeof job, ", Slurm job %s (array task %s)", info->job, info->array);
    else if (info->job[0]) snprintf(job, sizeof job, ", Slurm job %s", info->job);
    else if (info->array[0]) snprintf(job, sizeof job, ", Slurm array task %s", info->array);
    if (info->start > 0) {
        time_t t = (time_t)info->start;
        struct tm tm;
        char iso[32];
        if (gmtime_r(&t, &tm) && strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm))
            snprintf(since, sizeof since, ", since %s", iso);
    }
    if (info->heartbeat > 0) {
        double age = hs_time_unix() - info->heartbeat;
        /* A heartbeat ahead of our clock: the two hosts' clocks disagree. */
        if (age < -1) snprintf(beat, sizeof beat, ", heartbeat %.0f s in the future", -age);
        else snprintf(beat, sizeof beat, ", heartbeat %.0f s ago", age < 0 ? 0.0 : age);
    }
    return snprintf(buf, n, "%s (pid %ld on host %s%s%s%s%s%s)", who, info->pid, info->host[0] ? info->host : "?",
                    info->user[0] ? ", user " : "", info->user, job, since, beat);
}

/* Rewrite our record with a fresh heartbeat. The whole record goes in one pwrite over the old
 * one and only then is the file cut to length: a reader on another node sees the old record or
 * the new one, never an empty file (which would read as no owner). The times are printed with
 * fixed decimals, so successive records have the same length and the cut changes nothing. fsync
 * is what carries the heartbeat to the NFS or Lustre server, where other nodes read it. Returns
 * 0 or an errno. */
static int write_record(hs_lock *l) {
    pthread_mutex_lock(&l->io);
    l->me.heartbeat = hs_time_unix();
    char buf[RECORD_MAX];
    int len = format_record(&l->me, buf, sizeof buf), e = 0;
    if (len < 0 || (size_t)len >= sizeof buf) e = EOVERFLOW;
    ssize_t done = 0;
    while (!e && done < len) {
        ssize_t k = pwrite(l->fd, buf + done, (size_t)(len - done), (off_t)done);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) e = errno;
        else done += k;
    }
    if (!e && ftruncate(l->fd, (off_t)len) != 0) e = errno;
    if (!e && fsync(l->fd) != 0) e = errno;
    pthread_mutex_unlock(&l->io);
    return e;
}

static void free_lock(hs_lock *l) {
    if (!l) return;
    pthread_mutex_destroy(&l->io);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l->path);
    free(l);
}

/* The lock of results_path, not yet acquired: path, our record, the thread's synchronisation. */
static hs_code new_lock(const char *results_path, const char *command, hs_lock **out, hs_error *err) {
    hs_lock *l = calloc(1, sizeof *l);
    size_t n = strlen(results_path) + sizeof ".lock";
    char *path = malloc(n);
    pthread_condattr_t ca;
    int ok = l && path && pthread_condattr_init(&ca) == 0;
    if (!ok) {
        free(l), free(path);
        return HS_FAIL(err, HS_ERR_NOMEM, "out of memory for the lock of %s", results_path);
    }
    snprintf(path, n, "%s.lock", results_path);
    l->path = path;
    l->fd = -1;
    l->owner = getpid();
    /* The period is a duration: a clock step (NTP, an admin) must not stretch or skip it. */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int e1 = pthread_mutex_init(&l->io, NULL), e2 = pthread_mutex_init(&l->mu, NULL);
    int e3 = pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (e1 || e2 || e3) {
        if (!e1) pthread_mutex_destroy(&l->io);
        if (!e2) pthread_mutex_destroy(&l->mu);
        if (!e3) pthread_cond_destroy(&l->cv);
        free(path), free(l);
        return HS_FAIL(err, HS_ERR_INTERNAL, "cannot set up the lock of %s: %s", results_path,
                       strerror(e1 ? e1 : e2 ? e2 : e3));
    }
    hs_lock_info *me = &l->me;
    own_host(me->host, sizeof me->host);
    me->pid = (long)getpid();
    own_user(me->user, sizeof me->user);
    set_field(me->command, sizeof me->command, command);
    set_field(me->job, sizeof me->job, getenv("SLURM_JOB_ID"));
    const char *aj = getenv("SLURM_ARRAY_JOB_ID"), *at = getenv("SLURM_ARRAY_TASK_ID");
    if (aj && *aj && at && *at) {
        char arr[160];
        snprintf(arr, sizeof arr, "%s_%s", aj, at);
        set_field(me->array, sizeof me->array, arr);
    }
    me->start = me->heartbeat = hs_time_unix();
    *out = l;
    return HS_OK;
}

hs_code hs_lock_acquire(const char *results_path, const char *command, int take_stale, hs_lock **out,
                        hs_lock_info *was_stale, hs_error *err) {
    if (was_stale) memset(was_stale, 0, sizeof *was_stale);
    if (!out) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_lock_acquire: out is NULL");
    *out = NULL;
    if (!results_path || !results_path[0]) return HS_FAIL(err, HS_ERR_VALUE, "no results file to lock");
    hs_lock *l = NULL;
    HS_TRY(err, new_lock(results_path, command ? command : "", &l, err));
    double timeout = hs_lock_timeout();
    hs_code rc = HS_OK;
    double give_up = hs_time_mono() + PATIENCE;
    for (int attempt = 0; attempt < REOPENS; attempt++) {
        int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            const int e = errno;
            rc = HS_FAIL(err, HS_ERR_IO, "cannot create the lock file %s: %s", l->path, strerror(e));
            if (e == ENOENT)
                hs_error_hint(err,
                              "the folder of %s does not exist: create it (mkdir -p) or give a path in one that does",
                              results_path);
            else if (e == ENOTDIR)
                hs_error_hint(err, "part of the folder path of %s is a file, not a folder", results_path);
            else
                hs_error_hint(err, "a writer needs write access to the lock file and its folder");
            break;
        }
        int fl = try_flock(fd, LOCK_EX, give_up);
        if (fl == FLOCK_ERROR) {
            rc = HS_FAIL(err, HS_ERR_IO, "cannot lock %s: %s", l->path, strerror(errno));
            close(fd);
            break;
        }
        /* The inode check: between our open and our flock (or while we waited for it) the holder
         * may have released, unlinking the file we opened, and a third process created a new
         * F.lock. Our flock of the old file would exclude nobody, so start over with whatever the
         * path names now; a held flock of a replaced file is no refusal either. */
        int same = names_fd(fd, l->path);
        if (same <= 0) {
            int e = errno;
            close(fd);
            if (same == 0) continue;
            rc = HS_FAIL(err, HS_ERR_IO, "cannot stat the lock file %s: %s", l->path, strerror(e));
            break;
        }
        hs_lock_info other;
        int has = read_record(fd, &other);
        if (has < 0) {
            rc = HS_FAIL(err, HS_ERR_IO, "cannot read the lock file %s: %s", l->path, strerror(errno));
            close(fd);
            break;
        }
        char who[700], why[320] = "";
        if (has) hs_lock_describe(&other, who, sizeof who);
        if (fl == FLOCK_HELD) {
            if (has) rc = HS_FAIL(err, HS_ERR_IO, "%s is being written by %s", results_path, who);
            else rc = HS_FAIL(err, HS_ERR_IO, "%s is being written by another process (which has not written its "
                              "record in %s yet)", results_path, l->path);
            hs_error_hint(err, "wait for it to finish: two writers would corrupt the file");
            close(fd);
            break;
        }
        if (has && owner_alive(&other, fl == FLOCK_TAKEN, timeout, why, sizeof why)) {
            rc = HS_FAIL(err, HS_ERR_IO, "%s is being written by %s", results_path, who);
            if (strcmp(other.host, l->me.host) != 0)
                hs_error_hint(err, "wait for it; if you are sure it is dead (its node crashed), delete %s by hand",
                              l->path);
            else
                hs_error_hint(err, "its pid is alive; if that is another program that reused the pid, delete %s "
                              "by hand", l->path);
            close(fd);
            break;
        }
        if (has && !take_stale) {
            rc = HS_FAIL(err, HS_ERR_IO, "%s has a stale lock of %s: %s", results_path, who, why);
            hs_error_hint(err, "--resume takes a stale lock over (or delete %s by hand)", l->path);
            close(fd);
            break;
        }
        if (has && was_stale) *was_stale = other;
        l->fd = fd;
        int e = write_record(l);
        if (e) {
            rc = HS_FAIL(err, HS_ERR_IO, "cannot write the lock file %s: %s", l->path, strerror(e));
            unlink(l->path);
            close(fd);
            l->fd = -1;
            break;
        }
        *out = l;
        return HS_OK;
    }
    if (rc == HS_OK)
        rc = HS_FAIL(err, HS_ERR_IO, "the lock file %s was replaced %d times while this process tried to take it",
                     l->path, REOPENS);
    if (was_stale) memset(was_stale, 0, sizeof *was_stale);
    free_lock(l);
    return rc;
}

/* Check that F.lock is still ours, then rewrite the record. Returns 0, ENOENT when the file was
 * deleted or replaced, or another errno. */
static int refresh(hs_lock *l) {
    int same = names_fd(l->fd, l->path);
    if (same < 0) return errno;
    if (same == 0) return ENOENT;
    return write_record(l);
}

static hs_code refresh_failed(const hs_lock *l, int e, hs_error *err) {
    if (e == ENOENT) {
        HS_FAIL(err, HS_ERR_IO, "the lock file %s was deleted or replaced while this process held it", l->path);
        return hs_error_hint(err, "another writer may now take the results file: stop one of them");
    }
    return HS_FAIL(err, HS_ERR_IO, "cannot refresh the lock file %s: %s", l->path, strerror(e));
}

hs_code hs_lock_heartbeat(hs_lock *l, hs_error *err) {
    if (!l || l->fd < 0) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_lock_heartbeat: no lock");
    int e = refresh(l);
    return e ? refresh_failed(l, e, err) : HS_OK;
}

static struct timespec deadline_after(double seconds) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double whole = floor(seconds);
    t.tv_sec += (time_t)whole;
    t.tv_nsec += (long)((seconds - whole) * 1e9);
    if (t.tv_nsec >= 1000000000L) t.tv_sec++, t.tv_nsec -= 1000000000L;
    return t;
}

static void *heartbeat_main(void *arg) {
    hs_lock *l = arg;
    pthread_mutex_lock(&l->mu);
    struct timespec next = deadline_after(l->period);
    while (!l->stop) {
        int rc = pthread_cond_timedwait(&l->cv, &l->mu, &next);
        if (l->stop) break;
        if (rc != ETIMEDOUT) continue; /* spurious wakeup: keep waiting for the same deadline */
        pthread_mutex_unlock(&l->mu);
        int e = refresh(l);
        pthread_mutex_lock(&l->mu);
        l->beat_errno = e;
        /* From now, not from the missed deadline: a stalled node must not fire a burst of writes. */
        next = deadline_after(l->period);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

hs_code hs_lock_start_heartbeat(hs_lock *l, double seconds, hs_error *err) {
    if (!l || l->fd < 0) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_lock_start_heartbeat: no lock");
    if (!(seconds >= 0) || !isfinite(seconds))
        return HS_FAIL(err, HS_ERR_VALUE, "heartbeat period must be >= 0 seconds, got %g", seconds);
    if (l->running) return HS_FAIL(err, HS_ERR_INTERNAL, "the heartbeat of %s is already running", l->path);
    l->period = seconds > 0 ? seconds : DEFAULT_PERIOD;
    l->stop = 0;
    /* The thread inherits the creator's signal mask: with every signal blocked there, Slurm's
     * SIGTERM / SIGUSR1 go to a thread that expects them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&l->thread, NULL, heartbeat_main, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e) return HS_FAIL(err, HS_ERR_INTERNAL, "cannot start the heartbeat thread of %s: %s", l->path, strerror(e));
    l->running = 1;
    return HS_OK;
}

hs_code hs_lock_check(hs_lock *l, hs_error *err) {
    if (!l || l->fd < 0) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_lock_check: no lock");
    pthread_mutex_lock(&l->mu);
    int e = l->beat_errno;
    pthread_mutex_unlock(&l->mu);
    if (!e) {
        int same = names_fd(l->fd, l->path);
        e = same < 0 ? errno : same == 0 ? ENOENT : 0;
    }
    return e ? refresh_failed(l, e, err) : HS_OK;
}

void hs_lock_release(hs_lock *l) {
    if (!l) return;
    /* A forked child has a copy of the struct but neither the thread nor the ownership. */
    int owner = getpid() == l->owner;
    if (owner && l->running) {
        pthread_mutex_lock(&l->mu);
        l->stop = 1;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
        l->running = 0;
    }
    if (l->fd >= 0) {
        /* Unlink while the flock is still held (see lock.h), and only our own file: after a
         * deletion by hand the path may name another writer's lock. */
        if (owner && names_fd(l->fd, l->path) == 1) unlink(l->path);
        close(l->fd);
    }
    free_lock(l);
}

hs_code hs_lock_inspect(const char *results_path, hs_lock_info *info, hs_lock_state *state, hs_error *err) {
    if (!results_path || !info || !state) return HS_FAIL(err, HS_ERR_INTERNAL, "hs_lock_inspect: NULL argument");
    memset(info, 0, sizeof *info);
    *state = HS_LOCK_NONE;
    size_t n = strlen(results_path) + sizeof ".lock";
    char *path = malloc(n);
    if (!path) return HS_FAIL(err, HS_ERR_NOMEM, "out of memory inspecting the lock of %s", results_path);
    snprintf(path, n, "%s.lock", results_path);
    double timeout = hs_lock_timeout();
    hs_code rc = HS_OK;
    for (int attempt = 0; attempt < REOPENS; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno != ENOENT) rc = HS_FAIL(err, HS_ERR_IO, "cannot open the lock file %s: %s", path, strerror(errno));
            break;
        }
        /* A shared flock: it conflicts with a writer's exclusive one and with nothing else, needs
         * no write access (NFS wants a writable descriptor for an exclusive lock) and is dropped
         * at once. An acquirer meeting it retries for long enough. */
        int fl = try_flock(fd, LOCK_SH, 0.0);
        if (fl == FLOCK_TAKEN) flock(fd, LOCK_UN);
        hs_lock_info r;
        int has = read_record(fd, &r);
        int e = errno;
        /* A released lock is unlinked before its holder lets go: a record read from a file the
         * path no longer names belongs to an owner who already left. */
        int same = names_fd(fd, path);
        if (has >= 0) e = errno;
        close(fd);
        if (same == 0) continue;
        if (has < 0 || same < 0) {
            rc = HS_FAIL(err, HS_ERR_IO, "cannot read the lock file %s: %s", path, strerror(e));
            break;
        }
        char why[320];
        if (fl == FLOCK_HELD) *state = HS_LOCK_LIVE;
        else if (!has) *state = HS_LOCK_NONE;
        else *state = owner_alive(&r, fl == FLOCK_TAKEN, timeout, why, sizeof why) ? HS_LOCK_LIVE : HS_LOCK_STALE;
        if (has) *info = r;
        break;
    }
    free(path);
    return rc;
}
