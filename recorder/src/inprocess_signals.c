/* In-process only: terminating signals finish the trace first; fork children drop the recorder. */
/* SPDX-License-Identifier: MIT */
#include "recorder_internal.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- Internal --------------------------------------------------------- */

static const int caught_signals[PYI_RECORDER_SIGNALS] = {SIGTERM, SIGHUP,  SIGINT, SIGQUIT,
                                                         SIGUSR1, SIGUSR2, SIGALRM};

#define FINISH_WAIT_STEPS 300          /* x 10 ms: how long a signal waits for the trace */
#define FINISH_WAIT_STEP_NS 10000000L

static _Atomic(pyi_recorder *) current; /* the recorder whose signals are caught */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Asks the sampler to close the trace and waits for it, with async-signal-safe calls only. */
static void finish_trace(pyi_recorder *r)
{
    if (atomic_load(&r->state) == PYI_STATE_FINISHED)
        return;
    atomic_store(&r->command, PYI_COMMAND_STOP);
    uint64_t one = 1;
    ssize_t n = write(r->wake_fd, &one, sizeof one);
    (void)n;
    struct timespec step = {0, FINISH_WAIT_STEP_NS};
    for (int i = 0; i < FINISH_WAIT_STEPS; i++) {
        if (sem_trywait(&r->finished) == 0) {
            sem_post(&r->finished); /* others (stop, a second signal) may wait too */
            return;
        }
        nanosleep(&step, NULL);
    }
}

/* The program did not handle this signal: finish the trace, then let the
 * default action happen exactly as it would have without us. */
static void on_terminating_signal(int sig)
{
    int saved_errno = errno;
    pyi_recorder *r = atomic_load(&current);
    if (r != NULL)
        finish_trace(r);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, sig);
    pthread_sigmask(SIG_UNBLOCK, &only, NULL);
    raise(sig);
    errno = saved_errno; /* still alive: the signal is now blocked elsewhere or ignored */
}

/* In a fork child the sampler does not exist: never wait for it there. */
static void atfork_child(void)
{
    atomic_store(&current, NULL);
}

static void atfork_register(void)
{
    pthread_atfork(NULL, NULL, atfork_child);
}

/* ---- Public ----------------------------------------------------------- */

int pyi_recorder_catch_signals(pyi_recorder *r)
{
    pyi_recorder *expected = NULL;
    if (r == NULL || !atomic_compare_exchange_strong(&current, &expected, r))
        return PYI_E_STATE;
    pthread_once(&atfork_once, atfork_register);
    for (int i = 0; i < PYI_RECORDER_SIGNALS; i++) {
        struct sigaction old;
        r->saved_valid[i] = 0;
        if (sigaction(caught_signals[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
            (old.sa_flags & SA_SIGINFO))
            continue; /* handled or ignored by the program: its business */
        struct sigaction ours;
        memset(&ours, 0, sizeof ours);
        ours.sa_handler = on_terminating_signal;
        sigfillset(&ours.sa_mask); /* nothing interrupts the finishing */
        ours.sa_flags = SA_RESTART;
        if (sigaction(caught_signals[i], &ours, NULL) == 0) {
            r->saved_actions[i] = old;
            r->saved_valid[i] = 1;
        }
    }
    r->signals_caught = 1;
    return 0;
}

void pyi_recorder_release_signals(pyi_recorder *r)
{
    if (r == NULL || !r->signals_caught)
        return;
    for (int i = 0; i < PYI_RECORDER_SIGNALS; i++) {
        struct sigaction now;
        if (!r->saved_valid[i] || sigaction(caught_signals[i], NULL, &now) != 0)
            continue;
        /* The program may have installed its own handler since: keep it. */
        if (now.sa_handler == on_terminating_signal)
            sigaction(caught_signals[i], &r->saved_actions[i], NULL);
        r->saved_valid[i] = 0;
    }
    r->signals_caught = 0;
    pyi_recorder *expected = r;
    atomic_compare_exchange_strong(&current, &expected, NULL);
}
