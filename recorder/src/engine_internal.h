/* Private to recorder/: one recorded process: its memory, layout, walker, resolver and threads. */
/* SPDX-License-Identifier: MIT */
/*
 * A recording holds one engine per process: the recorder's own target
 * (process 1 of the trace: this process, or the pid attach was given) and,
 * when children are followed, one more per child. All engines share the
 * recorder's single writer and sampler thread: each round walks every live
 * engine. An engine is built on whatever thread adds it (reading ELF files
 * and probing memory takes time) and only touched by the sampler thread
 * once adopted.
 */
#ifndef PYI_ENGINE_INTERNAL_H
#define PYI_ENGINE_INTERNAL_H

#include <stdint.h>

#include "catalog_internal.h"
#include "code_cache_internal.h"
#include "mem_reader_internal.h"
#include "py_layout_internal.h"
#include "pyi/recorder.h"
#include "stack_walk_internal.h"
#include "thread_table_internal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PYI_ENGINE_PROBE_THREADS 64 /* thread ids a probe remembers (TID offset learning) */

typedef struct pyi_engine {
    int64_t ns_pid;             /* the process's pid inside its own pid namespace */
    uint32_t process_id;        /* trace process id: 1 = the header's; 0 = not defined yet */
    int64_t parent_pid;         /* OS pid of the process that started it, 0 = unknown */
    pyi_meta_entry *meta;       /* owned copy for its PROCESS record */
    size_t meta_count;
    pyi_mem_reader mem;
    pyi_py_layout layout;
    pyi_walker walker;
    pyi_resolver resolver;
    pyi_thread_table threads;
    uint64_t unreadable_since;  /* monotonic ns of the first of consecutive rounds whose
                                   runtime could not be read; 0 = the last round could */
    int gone;                   /* exited or exec'd: no more rounds */
    uint64_t code_misses;       /* code objects resolved before the resolver was released */
    struct pyi_engine *next;
} pyi_engine;

/* What one walk of a target saw (used to check it before recording). */
typedef struct pyi_probe {
    uint64_t tstate;       /* thread to look for, 0 = any */
    uint64_t code;         /* its expected innermost code object */
    int threads, bad, found;
    uint64_t seen_code;
    uint64_t thread_ids[PYI_ENGINE_PROBE_THREADS]; /* pthread_t of the threads seen */
    size_t thread_id_count;
} pyi_probe;

/*
 * Builds an engine for target: memory reader, layout (the built-in table or
 * _Py_DebugOffsets), a probe walk (the runtime must lead to readable thread
 * states), walker, resolver and thread table. For another process also:
 * its pid namespace, CPU from /proc, sources through /proc/PID/root and,
 * before 3.11, where glibc keeps thread ids. process_id is its trace id.
 * Returns 0 or a pyi_error with the message in msg:
 * PYI_E_UNSUPPORTED (memory not readable, version), PYI_E_STATE (the probe
 * failed), PYI_E_NOMEM. On failure *out is NULL.
 */
int pyi_engine_open(pyi_engine **out, const pyi_target *target,
                    const pyi_recorder_options *options, uint32_t process_id, char *msg,
                    size_t msg_size);

/* Gives the engine the trace to write to (and the catalog, NULL = none). */
void pyi_engine_bind(pyi_engine *e, pyi_writer *writer, pyi_catalog *catalog);

/* Frees the engine, NULL is fine. */
void pyi_engine_free(pyi_engine *e);

/* Chooses the layout for target: the built-in table, or _Py_DebugOffsets (3.13+). */
int pyi__layout_select(pyi_mem_reader *mem, const pyi_target *t, pyi_py_layout *out, char *msg,
                       size_t size);

/* One walk on the calling thread into *p; PYI_E_STATE (with msg) when the runtime
 * leads to no readable thread. */
int pyi__target_probe(pyi_mem_reader *mem, const pyi_py_layout *layout, const pyi_target *t,
                      pyi_probe *p, char *msg, size_t size);

/* snprintf into a caller's message buffer (the recorder's error details). */
void pyi__fail_message(char *msg, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif /* PYI_ENGINE_INTERNAL_H */
