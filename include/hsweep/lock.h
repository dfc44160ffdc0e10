/*
 * lock.h - the writer lock of a results file: weeks of compute go into one file F, so exactly one
 * process at a time may write it. `hsweep run -o F` (rank 0) holds the lock for its whole life,
 * `hsweep analyze F` while it adds its groups; readers (`hsweep status`, the Python reader) only
 * inspect it. Plain POSIX: no MPI, no HDF5.
 *
 * The lock is the file F.lock beside F, held with flock() and holding a small text record of its
 * owner, one key=value per line, which is also what a user reads with `cat F.lock`:
 *
 *     host=n01
 *     pid=1234
 *     user=alice
 *     command=run
 *     job=567                     SLURM_JOB_ID, empty outside Slurm
 *     array=560_7                 <SLURM_ARRAY_JOB_ID>_<SLURM_ARRAY_TASK_ID>, empty outside an array
 *     start=1796378400.000        Unix seconds
 *     heartbeat=1796378412.000    Unix seconds, refreshed every 30 s while the owner lives
 *
 * A writer (rank 0 of `hsweep run`):
 *
 *     hs_lock *lock = NULL;
 *     hs_lock_info dead = {0};
 *     HS_TRY(err, hs_lock_acquire("out.h5", "run", resume, &lock, &dead, err));
 *     if (dead.pid) {                       // a stale lock was taken over: say whose it was
 *         char who[512];
 *         hs_lock_describe(&dead, who, sizeof who);
 *         fprintf(stderr, "warning: took over the stale lock of %s\n", who);
 *     }
 *     HS_TRY(err, hs_lock_start_heartbeat(lock, 0, err));   // a thread refreshes it every 30 s
 *     ... weeks of MPI work; the thread makes no MPI call ...
 *     hs_lock_release(lock);                                 // stops the thread, removes F.lock
 *
 * A refused acquire fails with HS_ERR_IO and a message a user can act on:
 *
 *     out.h5 is being written by `hsweep run` (pid 1234 on host n01, user alice, Slurm job 567,
 *     since 2026-12-04T10:00:00Z, heartbeat 12 s ago)
 *
 * A reader:
 *
 *     hs_lock_info who;
 *     hs_lock_state st;
 *     HS_TRY(err, hs_lock_inspect("out.h5", &who, &st, err));   // never creates or takes F.lock
 *     if (st == HS_LOCK_LIVE) printf("still being written (pid %ld on %s)\n", who.pid, who.host);
 *
 * Live or stale. A lock whose flock is held by another process is live. A record whose flock is
 * free (the owner died: the kernel drops a flock with its last descriptor) is judged from its
 * content: an owner on this host is alive when its pid is (kill(pid, 0); a pid since reused by
 * another program reads as alive too, and the refusal says so); an owner on another host is
 * alive while its heartbeat is younger than HSWEEP_LOCK_TIMEOUT seconds (default 600).
 * A dead owner's lock is stale: acquire refuses it unless the caller allows taking it over (the
 * `--resume` of `hsweep run`), and then reports whose it was. An empty or unreadable record with
 * a free flock is no owner at all (a crash between creating F.lock and writing it) and is taken
 * silently.
 *
 * On NFS and Lustre. flock may work across nodes (NFS emulates it with server-side locks, Lustre
 * mounted with -o flock), be local to one node (Lustre -o localflock, NFS -o local_lock), or not
 * exist (Lustre without either option: flock fails and the record alone decides). When it is
 * local or missing, a second writer on another node is caught by the heartbeat instead: a live
 * writer rewrites (and fsyncs) its record every 30 s, and a record older than HSWEEP_LOCK_TIMEOUT
 * (default 600 s) counts as dead. This needs the nodes' clocks to roughly agree (NTP is plenty)
 * and means a writer killed on another node blocks F for up to the timeout. Two writers starting
 * on two nodes within the same moment are not excluded without a cluster-wide flock. A user who
 * knows the owner is dead (its node crashed, its job is gone from squeue) may delete F.lock by
 * hand; the owner, if it was alive after all, notices at its next heartbeat (hs_lock_check).
 */
#ifndef HSWEEP_LOCK_H
#define HSWEEP_LOCK_H

#include <stddef.h>

#include "hsweep/status.h"

typedef enum hs_lock_state {
    HS_LOCK_NONE,  /* no F.lock, or an empty or unreadable one whose flock is free: nobody writes F */
    HS_LOCK_LIVE,  /* flock held, or the owner's pid lives (this host) or heartbeat is fresh (other host) */
    HS_LOCK_STALE  /* a record whose owner is dead: its pid is gone, or its heartbeat is too old */
} hs_lock_state;
const char *hs_lock_state_to_string(hs_lock_state s); /* "none", "live", "stale" */

/* The owner record of F.lock. Strings are always NUL-terminated, "" when absent. */
typedef struct hs_lock_info {
    char host[256];     /* gethostname() of the owner */
    long pid;           /* 0: no owner */
    char user[64];
    char command[32];   /* what the owner does: "run", "analyze" */
    char job[64];       /* SLURM_JOB_ID */
    char array[64];     /* "<SLURM_ARRAY_JOB_ID>_<SLURM_ARRAY_TASK_ID>" (how squeue names the task) */
    double start;       /* Unix seconds: when the lock was taken */
    double heartbeat;   /* Unix seconds: the owner's last refresh */
} hs_lock_info;

typedef struct hs_lock hs_lock;

/* The seconds after which another host's heartbeat counts as dead: HSWEEP_LOCK_TIMEOUT when it
 * is a positive number, else 600. Read at every acquire and inspect, so tests can shorten it. */
double hs_lock_timeout(void);

/* Take the writer lock of results_path (the file need not exist yet): create or open
 * results_path.lock, flock it, and write this process's record (command is what it does, "run"
 * or "analyze"). A held flock is tried again for 0.1 s first, since an inspector holds one for
 * microseconds. Fails with HS_ERR_IO, naming the owner, when the lock is live, or stale and
 * take_stale is 0. With take_stale a stale lock is taken over and *was_stale (may be NULL)
 * receives the dead owner's record so the caller can warn; was_stale->pid is 0 when nothing
 * stale was taken. The lock's descriptor is close-on-exec: a program the owner execs does not
 * inherit (and outlive) the lock. */
hs_code hs_lock_acquire(const char *results_path, const char *command, int take_stale, hs_lock **out,
                        hs_lock_info *was_stale, hs_error *err);

/* Refresh the record's heartbeat now (the lock's background thread does this by itself). Fails
 * when the record cannot be written, or when F.lock is no longer this lock's file (deleted or
 * replaced by hand): another writer may then take F. */
hs_code hs_lock_heartbeat(hs_lock *l, hs_error *err);

/* Start a thread that refreshes the heartbeat every `seconds` (0: 30) until hs_lock_release. It
 * makes no MPI call and blocks every signal, so Slurm's signals reach the threads that handle
 * them. Once per lock. */
hs_code hs_lock_start_heartbeat(hs_lock *l, double seconds, hs_error *err);

/* HS_OK while the lock is sound: the background heartbeat's last refresh succeeded and F.lock is
 * still this lock's file. Otherwise HS_ERR_IO saying what went wrong, for the owner to warn (or
 * stop) between units of work; the thread itself has nobody to tell. */
hs_code hs_lock_check(hs_lock *l, hs_error *err);

/* Stop the heartbeat thread, remove F.lock, then close it (which drops the flock). Unlinking
 * while still holding the flock is what keeps two writers apart: a process that opened the old
 * F.lock and gets its flock after our close sees, by the inode check of hs_lock_acquire, that
 * the path no longer names that file and starts over on a new one; closing first would let it
 * lock the old file just before we unlink it, leaving it holding a lock nobody else can see.
 * Only the process that acquired removes F.lock (a forked child's release just closes). NULL-safe. */
void hs_lock_release(hs_lock *l);

/* Who holds results_path's lock, without creating F.lock or disturbing its holder: *state is
 * LIVE or STALE as above, or NONE when there is no F.lock or an empty or unreadable one whose
 * flock is free; *info is the record (zeroed when there is none). A lock held by a process on
 * this host always reads LIVE. Fails only when F.lock exists but cannot be read. */
hs_code hs_lock_inspect(const char *results_path, hs_lock_info *info, hs_lock_state *state, hs_error *err);

/* A one-line description of an owner into buf (at most n bytes, NUL-terminated):
 * "`hsweep run` (pid 1234 on host n01, user alice, Slurm job 567, since 2026-12-04T10:00:00Z,
 * heartbeat 12 s ago)". Returns what snprintf returns: the length it wanted. */
int hs_lock_describe(const hs_lock_info *info, char *buf, size_t n);

#endif /* HSWEEP_LOCK_H */
