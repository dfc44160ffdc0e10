/* dispatch.c - self-scheduling: rank 0 hands out runs one at a time, most expensive first, and
 * trains runs itself in between; the workers ask for their next run while they train the current one.
 * Memory-aware: a node's ranks are not handed runs whose floors together exceed MEM_SHARE of what
 * the node allows; the first run in cost order that fits goes instead, or the ask waits for a run
 * on that node to end. A run goes to an idle node whatever its floor (the preflight refused any
 * above the node), so nothing waits for ever. Results do not depend on the order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hsweep/plan.h"
#include "internal.h"

/* Of a node's memory, the share its runs' floors may fill: the floors leave out evaluation
 * buffers, recorders and the MPI and HDF5 processes (3-5% above the floor in the runs measured). */
#define MEM_SHARE 0.85

#define NO_RUN_LEFT (-1)
#define NO_RUN_FITS (-2)

/* Next run for rank w to train, NO_RUN_LEFT, or NO_RUN_FITS (runs are left, none fits its node now). */
static int next_run(sweep *S, int w) {
    if (S->stop || hs_sweep_signalled() || S->left == 0) return NO_RUN_LEFT;
    const int nd = S->node_of ? S->node_of[w] : 0;
    const double budget = S->node_of && S->node_limit[nd] > 0 ? MEM_SHARE * S->node_limit[nd] : 0;
    for (size_t i = S->next; i < S->n_order; i++) {
        if (S->taken[i]) continue;
        const size_t r = S->order[i];
        if (budget > 0 && S->node_use[nd] > 0 && S->node_use[nd] + S->mem[r] > budget) continue;
        S->taken[i] = 1, S->left--;
        while (S->next < S->n_order && S->taken[S->next]) S->next++;
        if (S->node_of) S->node_use[nd] += S->mem[r];
        return (int)r;
    }
    return NO_RUN_FITS;
}

void sched_memory_setup(sweep *S) {
    MPI_Comm node;
    MPI_Comm_split_type(S->comm, MPI_COMM_TYPE_SHARED, S->rank, MPI_INFO_NULL, &node);
    int leader = S->rank; /* the node's first rank in S->comm (keys are the ranks) */
    MPI_Bcast(&leader, 1, MPI_INT, 0, node);
    MPI_Comm_free(&node);
    const double limit = hs_memory_limit(NULL);
    double *limits = NULL;
    int ok = 1;
    if (S->rank == 0) {
        S->node_of = malloc((size_t)S->nranks * sizeof *S->node_of);
        S->node_limit = calloc((size_t)S->nranks, sizeof *S->node_limit);
        S->node_use = calloc((size_t)S->nranks, sizeof *S->node_use);
        S->mem = calloc(S->plan->n_runs ? S->plan->n_runs : 1, sizeof *S->mem);
        limits = malloc((size_t)S->nranks * sizeof *limits);
        ok = S->node_of && S->node_limit && S->node_use && S->mem && limits;
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, S->comm);
    if (ok) {
        MPI_Gather(&leader, 1, MPI_INT, S->node_of, 1, MPI_INT, 0, S->comm);
        MPI_Gather(&limit, 1, MPI_DOUBLE, limits, 1, MPI_DOUBLE, 0, S->comm);
    }
    if (S->rank != 0) return;
    if (ok) {
        for (int w = 0; w < S->nranks; w++) S->node_limit[S->node_of[w]] = limits[S->node_of[w]];
        for (size_t i = 0; i < S->n_order; i++) S->mem[S->order[i]] = hs_plan_memory(S->plan, S->order[i]);
    } else { /* no memory for the bookkeeping: the cost order alone */
        free(S->node_of), free(S->node_limit), free(S->node_use), free(S->mem);
        S->node_of = NULL, S->node_limit = S->node_use = S->mem = NULL;
    }
    free(limits);
}

/* Account for one finished run (rank 0): counters, its node's memory, the stop conditions. */
static void account(sweep *S, const report *rep) {
    if (rep->run < 0) return;
    S->running--;
    if (S->node_of && rep->rank >= 0 && rep->rank < S->nranks) {
        double *use = &S->node_use[S->node_of[rep->rank]];
        *use -= S->mem[rep->run];
        if (*use < 1) *use = 0; /* no rounding residue keeps an idle node "in use" */
    }
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

/* Hand worker w its next run, or -1 ("no more", which counts it out); when runs are left but none
 * fits w's node now, the ask waits (mem_wait) for a run there to end. */
static void answer(sweep *S, int w) {
    int next = next_run(S, w);
    if (next == NO_RUN_FITS) {
        S->mem_wait[w] = 1;
        return;
    }
    if (next >= 0) {
        S->running++;
        if (w > 0 && w < S->nranks && S->held[w]++ > 0) S->queued++;
    } else {
        S->active_workers--;
    }
    MPI_Send(&next, 1, MPI_INT, w, TAG_WORK, S->comm);
}

/* A run ended (memory freed on its node, or the sweep stops): the asks that waited for memory are
 * answered now if they can be. */
static void retry_waiting(sweep *S) {
    for (int w = 1; w < S->nranks; w++)
        if (S->mem_wait[w]) S->mem_wait[w] = 0, answer(S, w);
}

/* Every finished run passes here, whoever trained it, so no ask waits on memory already freed. */
void sched_account(sweep *S, const report *rep) {
    account(S, rep);
    if (rep->run >= 0) retry_waiting(S);
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
        if (w > 0 && w < S->nranks && S->held[w] > 0 && !rep.unstarted && S->left < (size_t)S->nranks &&
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
        int r = next_run(S, 0);
        if (r == NO_RUN_FITS) { /* its node is full: a worker's report there frees memory */
            sched_serve_requests(S, 1);
            continue;
        }
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
