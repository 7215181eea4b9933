/* Private to recorder/: the sampler's per-thread state, thread names and CPU clocks. */
/* SPDX-License-Identifier: MIT */
/*
 * A thread is identified by its PyThreadState address plus its pthread and
 * kernel ids (a dead thread's state can be reused by a new thread). Each
 * slot keeps the time and CPU clock of the thread's previous sample (its
 * weight is the wall time since) and the previous stack, so that a sample
 * only interns the frames that differ from the last one.
 */
#ifndef PYI_THREAD_TABLE_INTERNAL_H
#define PYI_THREAD_TABLE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "proc_maps_internal.h"
#include "pyi/trace.h"
#include "stack_walk_internal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PYI_THREAD_SLOTS 512         /* threads tracked at once; more are dropped */
#define PYI_THREAD_NAME_MAX 64       /* bytes of a thread name, NUL included */
#define PYI_THREAD_PENDING_NAMES 256 /* names waiting for the sampler */

typedef struct pyi_thread_slot {
    uint64_t tstate;        /* 0 = free slot */
    uint64_t thread_id;
    uint64_t native_id;
    uint32_t trace_id;      /* the trace's thread id */
    uint32_t name_id;       /* current name string, 0 = unnamed */
    uint64_t last_time_ns;  /* time of the previous sample */
    uint64_t last_cpu_ns;   /* thread CPU clock then; PYI_CPU_UNKNOWN = unknown */
    uint64_t last_round;    /* round it was last seen in */
    uint64_t os_tid;        /* the thread's id where our /proc sees it (host namespace) */
    int cpu_fd;             /* another process: its open /proc/.../task/TID/stat, -1 = none */
    int running;            /* another process: its state was R at the last CPU read;
                               -1 = unknown (this process: CPU clocks tell) */
    uint32_t reads_skipped; /* another process: /proc reads skipped in a row */
    uint64_t frames_hash;   /* of the raw frames at its previous sample */
    uint32_t *stack_locations; /* previous stack, outermost first */
    uint32_t *stack_ids;    /* stack id of each prefix of it */
    uint32_t stack_depth;
    uint32_t stack_capacity;
} pyi_thread_slot;

typedef struct pyi_pending_name {
    uint64_t thread_id;
    uint64_t native_id;     /* 0 = unknown: matches any thread with thread_id */
    char name[PYI_THREAD_NAME_MAX];
} pyi_pending_name;

#define PYI_THREAD_TID_MAP 1024 /* threads of a process in another pid namespace */

typedef struct pyi_thread_table {
    pyi_thread_slot *slots;  /* PYI_THREAD_SLOTS */
    uint32_t used;           /* slots[0..used) may be in use */
    uint64_t distinct;       /* threads ever added */
    int cpu_local;           /* per-thread CPU clocks (this process) vs /proc (another) */
    int pid;                 /* the target process, as our /proc knows it */
    int ns_pid;              /* the same inside its own pid namespace (thread states hold
                                ids of that namespace); == pid when it shares ours */
    uint32_t process_id;     /* the trace's id of the process (1 = the header's) */
    struct pyi_task_id *tid_map; /* ns_pid != pid: thread ids there -> ours; else NULL */
    int tid_map_count;
    uint64_t proc_reads;     /* syscalls spent reading CPU times from /proc */
    uint64_t ns_per_tick;    /* /proc's CPU times count clock ticks of this length */
    pthread_mutex_t lock;    /* guards pending */
    pyi_pending_name pending[PYI_THREAD_PENDING_NAMES];
    uint32_t pending_count;
} pyi_thread_table;

/* pid: the process as our /proc knows it; ns_pid: its pid in its own namespace. */
int pyi_thread_table_init(pyi_thread_table *t, int pid, int ns_pid, int cpu_local,
                          uint32_t process_id);
void pyi_thread_table_destroy(pyi_thread_table *t);

/*
 * The slot of the thread in snap, defining it in the trace when new (with a
 * waiting name if there is one). *created says whether it is new. Returns
 * 0, PYI_E_LIMIT when the table is full, or a writer error.
 */
int pyi_thread_table_get(pyi_thread_table *t, pyi_writer *w, const pyi_thread_snapshot *snap,
                         uint64_t round, pyi_thread_slot **slot, int *created);

/* The slot of the thread in snap if it has one, else NULL; marks it seen. */
pyi_thread_slot *pyi_thread_table_find(pyi_thread_table *t, const pyi_thread_snapshot *snap,
                                       uint64_t round);

/* Frees slots of threads not seen since round `before`. */
void pyi_thread_table_expire(pyi_thread_table *t, uint64_t before);

/* Queues a name for a thread (any thread may call this). 0 or PYI_E_LIMIT. */
int pyi_thread_table_name(pyi_thread_table *t, uint64_t thread_id, uint64_t native_id,
                          const char *name);

/* Applies waiting names to known threads (sampler thread only). */
int pyi_thread_table_apply_names(pyi_thread_table *t, pyi_writer *w);

/* The stack id of locations[0..count) (outermost first), reusing the prefix
 * shared with the slot's previous stack. 0 for an empty stack. */
int pyi_thread_table_intern_stack(pyi_thread_slot *slot, pyi_writer *w,
                                  const uint32_t *locations, uint32_t count,
                                  uint32_t *stack_id);

/* CPU time the thread has used, in ns, or PYI_CPU_UNKNOWN. */
uint64_t pyi_thread_cpu_ns(pyi_thread_table *t, pyi_thread_slot *slot);

#ifdef __cplusplus
}
#endif

#endif /* PYI_THREAD_TABLE_INTERNAL_H */
