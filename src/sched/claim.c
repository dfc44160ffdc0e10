/* claim.c - rank 0 claims the results file before any collective HDF5 call: the writer lock,
 * the rule that a fresh sweep never replaces a file unless told, and the checkpoint folder. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"

/* <out>.ckpt, the folder of the runs' checkpoints (rank 0, before any training). */
static hs_code ckpt_dir_make(const char *out, hs_error *err) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s.ckpt", out);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot create the checkpoint folder: %s", dir, strerror(errno));
    return HS_OK;
}

/* Rank 0 only, before any collective HDF5 call: the writer lock of out_path, then what to do
 * with the file. A fresh run never replaces a file unless told (--overwrite moves it aside,
 * never deletes it); --resume on a missing file starts it. *resume says which. */
hs_code sched_claim_file(const hs_sweep_opts *o, hs_lock **lock, int *resume, hs_error *err) {
    struct stat st;
    /* a results file is a regular file: --overwrite would otherwise move a directory, or as root
     * /dev/null itself, aside, and the lock would be made beside a device */
    int dir;
    const char *what = hs_path_not_file(o->out_path, &dir);
    if (what) {
        HS_FAIL(err, HS_ERR_IO, "%s is %s, not a results file", o->out_path, what);
        hs_error_hint(err, "give -o the name of a file, e.g. %s/sweep.h5", dir ? o->out_path : "results");
        return HS_ERR_IO;
    }
    hs_lock_info dead = {0};
    HS_TRY(err, hs_lock_acquire(o->out_path, "run", o->resume, lock, &dead, err));
    if (dead.pid && !o->quiet) {
        char who[512];
        hs_lock_describe(&dead, who, sizeof who);
        fprintf(stderr, "[hsweep] warning: %s: took over the lock of a writer that is gone (%s)\n", o->out_path, who);
    }
    int exists = stat(o->out_path, &st) == 0;
    *resume = o->resume && exists;
    if (o->resume && !exists && !o->quiet)
        fprintf(stderr, "[hsweep] %s does not exist yet: --resume starts it\n", o->out_path);
    if (!exists || o->resume) return ckpt_dir_make(o->out_path, err);
    if (!o->overwrite) {
        HS_FAIL(err, HS_ERR_IO, "%s exists: refusing to overwrite it", o->out_path);
        hs_error_hint(err, "--resume continues it (finished runs are kept); --overwrite moves it aside first; or "
                           "choose another -o");
        return HS_ERR_IO;
    }
    /* aside, with its log and checkpoints, under a name that says when */
    char stamp[32], aside[4096];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(aside, sizeof aside, "%s.replaced-%s", o->out_path, stamp);
    if (stat(aside, &st) == 0 || rename(o->out_path, aside) != 0)
        return HS_FAIL(err, HS_ERR_IO, "%s: cannot move it aside to %s: %s", o->out_path, aside,
                       errno ? strerror(errno) : "that name exists");
    static const char *const side[] = {".log", ".ckpt"};
    for (size_t k = 0; k < sizeof side / sizeof side[0]; k++) {
        char from[4096], to[4200];
        snprintf(from, sizeof from, "%s%s", o->out_path, side[k]);
        snprintf(to, sizeof to, "%s%s", aside, side[k]);
        if (stat(from, &st) == 0) rename(from, to);
    }
    if (!o->quiet) fprintf(stderr, "[hsweep] %s existed: moved aside to %s\n", o->out_path, aside);
    return ckpt_dir_make(o->out_path, err);
}

/* Every rank learns rank 0's outcome (code and message). */
hs_code sched_share_outcome(MPI_Comm comm, hs_code rc, hs_error *err) {
    int code = (int)rc;
    MPI_Bcast(&code, 1, MPI_INT, 0, comm);
    if (code != HS_OK) MPI_Bcast(err, (int)sizeof *err, MPI_BYTE, 0, comm);
    return (hs_code)code;
}
