/* progress.c - what a sweep tells people while it runs: progress lines with an ETA on rank 0's
 * stderr, and one line per finished run in <out>.log. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static void fmt_duration(double s, char *buf, size_t n) {
    if (!isfinite(s) || s < 0) snprintf(buf, n, "?");
    else if (s < 60) snprintf(buf, n, "%.0fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

void sched_progress(sweep *S, int force) {
    double now = hs_time_unix(), every = S->o->progress_every == 0 ? 5 : S->o->progress_every;
    size_t finished_now = S->done + S->failed + S->diverged + S->pending;
    if (every < 0 || (!force && now - S->last_progress < every)) return;
    if (force && S->printed && S->printed_finished == finished_now) return; /* nothing new since */
    S->printed = 1, S->printed_finished = finished_now;
    S->last_progress = now;
    size_t finished = S->done + S->failed + S->diverged;
    size_t pending = S->n_todo - finished - S->running - S->pending;
    double el = now - S->t0, rate = finished / (el > 0 ? el : 1);
    /* The ETA weighs runs by their optimiser steps (runs of one sweep differ by orders of
     * magnitude, and the largest go first), counting rank 0's own run in flight. */
    double done_steps = S->steps_finished + (double)S->cur_step, step_rate = done_steps / (el > 0 ? el : 1);
    char eta[32], elapsed[32], mine[96] = "";
    fmt_duration(step_rate > 0 ? (S->steps_todo - done_steps) / step_rate : NAN, eta, sizeof eta);
    fmt_duration(el, elapsed, sizeof elapsed);
    if (S->cur_total > 0)
        snprintf(mine, sizeof mine, " | rank 0 at step %lld of %lld (%.0f%%)", S->cur_step, S->cur_total,
                 100.0 * (double)S->cur_step / (double)S->cur_total);
    int tty = isatty(fileno(stderr));
    fprintf(stderr, "%s[hsweep] %zu/%zu done, %zu running, %zu failed, %zu diverged, %zu pending | %.2f runs/min%s | %s elapsed, ETA %s%s",
            tty ? "\r\033[K" : "", S->done, S->n_todo, S->running - S->queued, S->failed, S->diverged,
            pending + S->pending + S->queued,
            60 * rate, mine, elapsed, eta, tty && !force ? "" : "\n");
    fflush(stderr);
}

/* Append one line for a finished run to <out>.log, from the rank that ran it: a second record
 * beside the HDF5 file that survives even if that rank dies right after. One write() of a short
 * line to an O_APPEND file does not interleave with other ranks' lines on local and Lustre file
 * systems (NFS gives no such promise; the HDF5 status column stays the reference). */
void sched_log_line(sweep *S, const report *rep) {
    if (!S->log_path || rep->run < 0) return;
    char ts[32], line[512];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char from[48] = "";
    if (rep->resumed_step > 0) snprintf(from, sizeof from, " (continued from step %lld)", rep->resumed_step);
    int n = snprintf(line, sizeof line, "%s %s %-8s rank %d  %.2f s  %lld epochs%s%s%.300s\n", ts,
                     hs_results_id(S->file, S->row[rep->run]),
                     rep->io_error ? "io-error" : hs_run_state_to_string((hs_run_state)rep->state), rep->rank, rep->wall,
                     rep->epochs, from, rep->error[0] ? "  " : "", rep->error);
    if (n <= 0) return;
    if (n >= (int)sizeof line) n = (int)sizeof line - 1, line[n - 1] = '\n';
    int fd = open(S->log_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) return;
    ssize_t w = write(fd, line, (size_t)n);
    (void)w; /* the log is a courtesy copy; the HDF5 file is the record */
    close(fd);
}
