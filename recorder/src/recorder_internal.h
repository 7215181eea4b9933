/* Private to recorder/: the recorder object shared by the API, the sampler loop and the signal glue. */
/* SPDX-License-Identifier: MIT */
#ifndef PYI_RECORDER_INTERNAL_H
#define PYI_RECORDER_INTERNAL_H

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "catalog_internal.h"
#include "engine_internal.h"
#include "pyi/recorder.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Commands to the sampler thread (pyi_recorder.command). */
#define PYI_COMMAND_RUN 0
#define PYI_COMMAND_STOP 1   /* finish and close the trace */

/* Sampler thread lifecycle (pyi_recorder.state). */
#define PYI_STATE_RUNNING 0
#define PYI_STATE_FINISHED 1 /* the trace is closed; the thread is exiting */

#define PYI_MAX_INTERVAL_NS 100000000u /* back-off never goes slower than 10 Hz */
#define PYI_BUDGET_WINDOW_NS 250000000u /* CPU use is judged over windows this long */
#define PYI_RECORDER_SIGNALS 7
#define PYI_UNREADABLE_RETIRE_NS 500000000u /* another process whose runtime stays unreadable
                                               this long has exec'd: stop recording it */

struct pyi_recorder {
    /* Configuration. */
    pyi_target target;
    pyi_recorder_options options;
    char *path;
    char *summary_label;       /* copies of the options' strings */
    char *report_command;
    /* Engines: the recorded processes. */
    pyi_engine *root;          /* process 1 of the trace; first in engines */
    pyi_engine *engines;       /* adopted engines; the sampler thread changes the list,
                                  under engines_lock */
    pyi_engine *pending;       /* added, not adopted yet (engines_lock) */
    pthread_mutex_t engines_lock;
    pyi_writer *writer;        /* owned; the sampler thread is its only user after start */
    uint32_t *locations;       /* max_depth + 2 scratch for one resolved stack */
    pyi_catalog catalog;       /* function names for options.on_sample */
    pyi_recorder_frame *hook_frames; /* max_depth + 2 scratch for the hook */
    /* Sampler thread. */
    pthread_t thread;
    int thread_started;
    int wake_fd;               /* eventfd: commands and signals wake the sampler */
    atomic_int command;        /* PYI_COMMAND_* */
    atomic_int state;          /* PYI_STATE_* */
    sem_t finished;            /* posted once the trace is closed */
    uint64_t rng;              /* xorshift state for jitter */
    uint64_t interval_ns;      /* current interval (nominal or backed off) */
    uint64_t start_ns;
    uint64_t round;
    /* Budget window. */
    uint64_t window_start_ns;
    uint64_t window_cpu_ns;
    uint64_t window_rounds_late;
    /* In-round CPU is measured on one round in PYI_ROUND_CPU_EVERY (each
     * measure is two clock syscalls) and scaled to all rounds. */
    uint64_t round_cpu_measured_ns, rounds_measured, rounds_run;
    uint64_t last_flush_ns;
    /* Results; stats are written by the sampler and read after it finishes
     * (or racily, as a snapshot). */
    pyi_recorder_stats live;   /* the sampler's own counters */
    pyi_recorder_stats stats;  /* a copy of live published under stats_lock */
    pthread_mutex_t stats_lock;
    int error;                 /* first fatal error, 0 = none */
    char detail[512];
    atomic_int summary_written;
    /* Signal glue. */
    int signals_caught;
    struct sigaction saved_actions[PYI_RECORDER_SIGNALS];
    int saved_valid[PYI_RECORDER_SIGNALS];
};

/* Runs on the sampler thread (sampler.c). */
void *pyi__sampler_main(void *arg);

/* Records a fatal error once; later ones are dropped. */
void pyi__recorder_fail(pyi_recorder *r, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the summary line to options.summary_fd once (from the sampler thread). */
void pyi__recorder_write_summary(pyi_recorder *r);

#ifdef __cplusplus
}
#endif

#endif /* PYI_RECORDER_INTERNAL_H */
