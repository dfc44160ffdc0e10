/* signals.c - the signals that drain a sweep (see include/hsweep/sched.h). */
#include <signal.h>
#include <string.h>

#include "hsweep/sched.h"

static volatile sig_atomic_t g_signal = 0;

static void on_signal(int sig) { g_signal = sig; }

void hs_sweep_install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* SIGINT too: a sweep started without mpirun (a laptop, an interactive node) is stopped with
     * Ctrl-C, and must drain like a job at its time limit instead of dying mid-write */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

int hs_sweep_signalled(void) { return g_signal != 0; }
