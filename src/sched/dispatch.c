/* dispatch.c - self-scheduling: rank 0 hands out runs one at a time, most expensive first, and
 * trains runs itself in between; the workers ask for their next run while they train the current one. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* Next run to hand out, or -1. */
static int next_run(sweep *S) {
    if (S->stop || hs_sweep_signalled() || S->next >= S->n_order) return -1;
    return (int)S->order[S->next++];
}

/* Account for one finished run (rank 0). */
void sched_account(sweep *S, const report *rep) {
    if (rep->run < 0) return;
    S->running--;
    if (rep->rank > 0 && rep->rank < S->nranks && S->held[rep->rank] > 0 && --S->held[rep->rank] > 0) S->queued--;
    if (rep->state == HS_STATE_PENDING) S->saved_steps += rep->saved_steps;
    else if (!rep->io_error && S->steps_total[rep->run] > 0) S->steps_finished += (double)S->steps_total[rep->run];
    if (rep->rank == 0) S->cur_step = S->cur_total = 0;
    if (rep->unstarted) {
        S->stop = 1;
        return;
    }
    if (rep->io_error) {
        S->stop = 1;
        if (!S->io_error) sched_set_msg(S->io_msg, sizeof S->io_msg, rep->error);
        S->io_error = 1;
        fprintf(stderr, "%s[hsweep] run %s on rank %d: %s; stopping the sweep (nothing more is handed out)\n",
                isatty(fileno(stderr)) ? "\r\033[K" : "", hs_results_id(S->file, S->row[rep->run]), rep->rank,
                rep->error);
        return;
    }
    switch ((hs_run_state)rep->state) {
    case HS_STATE_DONE: S->done++; break;
    case HS_STATE_DIVERGED: S->diverged++; break;
    case HS_STATE_FAILED: S->failed++; break;
    default: S->pending++; break;
    }
    if (rep->signalled) S->stop = 1;
    if (S->o->max_failures > 0 && (long)S->failed >= S->o->max_failures) S->stop = 1;
    if (!S->o->quiet && rep->state != HS_STATE_DONE && rep->state != HS_STATE_PENDING)
        fprintf(stderr, "%s[hsweep] run %s %s on rank %d: %s\n", isatty(fileno(stderr)) ? "\r\033[K" : "",
                hs_results_id(S->file, S->row[rep->run]), hs_run_state_to_string((hs_run_state)rep->state), rep->rank,
                rep->error);
}

/* Hand worker w its next run, or -1 ("no more", which counts it out). */
static void answer(sweep *S, int w) {
    int next = next_run(S);
    if (next >= 0) {
        S->running++;
        if (w > 0 && w < S->nranks && S->held[w]++ > 0) S->queued++;
    } else {
        S->active_workers--;
    }
    MPI_Send(&next, 1, MPI_INT, w, TAG_WORK, S->comm);
}

/* Answer worker requests: all waiting ones (non-blocking), or at least one (blocking). A worker
 * asks for its next run while it trains the current one; that ask is answered at once while at
 * least one unassigned run per rank is left, and otherwise when the worker reports its current run
 * done: in the tail, a run promised ahead would sit behind a long training while a rank that
 * finishes sooner (rank 0 included) has nothing to do. */
void sched_serve_requests(sweep *S, int blocking) {
    for (;;) {
        int flag = 0;
        MPI_Status st;
        if (blocking) {
            /* Polled, not MPI_Probe: Open MPI's blocking calls spin a core (taken from a rank
             * that trains when ranks outnumber cores), and in the tail, while the last runs
             * train on the workers, rank 0 keeps its progress lines coming. */
            for (;;) {
                MPI_Iprobe(MPI_ANY_SOURCE, TAG_REPORT, S->comm, &flag, &st);
                if (flag) break;
                sched_progress(S, 0);
                nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
            }
            blocking = 0;
        } else {
            MPI_Iprobe(MPI_ANY_SOURCE, TAG_REPORT, S->comm, &flag, &st);
        }
        if (!flag) break;
        report rep;
        MPI_Recv(&rep, sizeof rep, MPI_BYTE, st.MPI_SOURCE, TAG_REPORT, S->comm, MPI_STATUS_IGNORE);
        sched_account(S, &rep);
        S->idle_total += rep.idle;
        if (rep.idle > S->idle_max) S->idle_max = rep.idle;
        const int w = st.MPI_SOURCE;
        if (!rep.want) { /* a run reported back: a deferred ask of this worker is answered now */
            if (w > 0 && w < S->nranks && S->deferred[w] && S->held[w] == 0) S->deferred[w] = 0, answer(S, w);
            continue;
        }
        if (w > 0 && w < S->nranks && S->held[w] > 0 && !rep.unstarted && S->n_order - S->next < (size_t)S->nranks &&
            !S->stop && !hs_sweep_signalled()) {
            S->deferred[w] = 1;
            continue;
        }
        answer(S, w);
    }
    sched_progress(S, 0);
}

/* Returns once every rank has called it. A worker done with its last run can wait here for as long
 * as the longest run still trains; it waits in a non-blocking barrier polled every millisecond,
 * because Open MPI's blocking collectives (the close's first Bcast, HDF5's barriers) spin a core,
 * which ranks outnumbering cores would take from the ranks still training. */
void sched_wait_all(sweep *S) {
    MPI_Request req;
    MPI_Ibarrier(S->comm, &req);
    for (int done = 0;;) {
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (done) return;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
}

void sched_master(sweep *S) {
    S->active_workers = S->nranks - 1;
    /* Workers ask right after the file is created; answer all of them before rank 0 starts a
     * training of its own, or the first answer would wait for its data loading and first steps. */
    for (int w = 1; w < S->nranks; w++) sched_serve_requests(S, 1);
    for (;;) {
        if (S->nranks > 1) sched_serve_requests(S, 0);
        int r = next_run(S);
        if (r < 0) break;
        S->running++;
        report rep;
        sched_run_one(S, (size_t)r, &rep);
        sched_account(S, &rep);
    }
    /* every worker told "no more", and every handed-out run reported back */
    while (S->active_workers > 0 || S->running > 0) sched_serve_requests(S, 1);
}

/* A worker asks for its next run before it starts the current one, so the answer travels while
 * it trains and it waits only when rank 0 was slower than a whole training to answer. Sends are
 * non-blocking: Open MPI's shared-memory transport holds a blocking send of a report this size
 * until rank 0 enters MPI, which it does only between its own training steps (measured: up to
 * 0.46 s lost while rank 0 loaded data). A buffer is reused only after its send completed. */
void sched_worker(sweep *S) {
    report req, rep, back;
    memset(&req, 0, sizeof req);
    memset(&rep, 0, sizeof rep);
    req.run = -1, req.rank = S->rank, req.want = 1;
    MPI_Request sreq = MPI_REQUEST_NULL, srep = MPI_REQUEST_NULL;
    int cur = -1, nxt = -1;
    double t = hs_time_unix();
    MPI_Send(&req, sizeof req, MPI_BYTE, 0, TAG_REPORT, S->comm);
    MPI_Recv(&cur, 1, MPI_INT, 0, TAG_WORK, S->comm, MPI_STATUS_IGNORE);
    double idle = hs_time_unix() - t;
    while (cur >= 0) {
        /* always ask, even after a signal: rank 0 then answers "no more", which is how it
         * learns this worker is finished */
        MPI_Request pending;
        MPI_Wait(&sreq, MPI_STATUS_IGNORE);
        req.idle = idle;
        MPI_Isend(&req, sizeof req, MPI_BYTE, 0, TAG_REPORT, S->comm, &sreq);
        MPI_Irecv(&nxt, 1, MPI_INT, 0, TAG_WORK, S->comm, &pending);
        MPI_Wait(&srep, MPI_STATUS_IGNORE);
        sched_run_one(S, (size_t)cur, &rep);
        /* the report goes first: rank 0 may hold the answer to the ask-ahead until it has it */
        rep.idle = 0, rep.want = 0;
        MPI_Isend(&rep, sizeof rep, MPI_BYTE, 0, TAG_REPORT, S->comm, &srep);
        t = hs_time_unix();
        MPI_Wait(&pending, MPI_STATUS_IGNORE);
        idle = hs_time_unix() - t; /* reported with the next ask (or lost with the last "no more") */
        if (nxt >= 0 && hs_sweep_signalled()) {
            /* handed out but never started: give it back, and ask once more so that rank 0
             * (which stops dispatching on this report) answers "no more" and counts us out */
            memset(&back, 0, sizeof back);
            back.run = nxt, back.rank = S->rank, back.state = HS_STATE_PENDING, back.signalled = 1;
            back.unstarted = 1, back.want = 1;
            MPI_Send(&back, sizeof back, MPI_BYTE, 0, TAG_REPORT, S->comm);
            MPI_Recv(&nxt, 1, MPI_INT, 0, TAG_WORK, S->comm, MPI_STATUS_IGNORE);
        }
        cur = nxt;
    }
    MPI_Wait(&sreq, MPI_STATUS_IGNORE);
    MPI_Wait(&srep, MPI_STATUS_IGNORE);
}
