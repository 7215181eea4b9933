/* Per-thread sampler state: identity, weights, CPU clocks, names and stack-prefix reuse. */
/* SPDX-License-Identifier: MIT */
#include "thread_table_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mem_reader_internal.h"
#include "pyi/errors.h"

/* ---- Internal --------------------------------------------------------- */

/* Linux encodes "CPU clock of thread TID" as a negative clockid (see
 * clock_getcpuclockid(3) and the kernel's CPUCLOCK_* macros). Unlike
 * pthread_getcpuclockid, it needs no live pthread_t: a dead TID gives EINVAL. */
static clockid_t thread_cpu_clock(uint64_t tid)
{
    const clockid_t sched = 2, per_thread = 4;
    return (clockid_t)((~(clockid_t)tid) * 8) | sched | per_thread;
}

/* CPU time and state of a thread of another process, from its /proc stat
 * (kept open between samples: one pread instead of open, read and close).
 * The kernel brings a running thread's CPU time up to date only at its
 * scheduler tick (every few ms), so per-sample CPU deltas are coarse: the
 * state letter says whether it is on CPU now (R: running or runnable). */
static uint64_t proc_cpu_ns(pyi_thread_table *t, pyi_thread_slot *s)
{
    char text[512];
    s->running = -1;
    t->proc_reads++;
    if (s->cpu_fd < 0) {
        t->proc_reads++;
        snprintf(text, sizeof text, "/proc/%d/task/%llu/stat", t->pid,
                 (unsigned long long)s->os_tid);
        s->cpu_fd = pyi_fd_move_high(open(text, O_RDONLY | O_CLOEXEC));
        if (s->cpu_fd < 0)
            return PYI_CPU_UNKNOWN;
    }
    ssize_t n = pread(s->cpu_fd, text, sizeof text - 1, 0);
    if (n <= 0)
        return PYI_CPU_UNKNOWN;
    text[n] = '\0';
    const char *fields = strrchr(text, ')'); /* the name may hold spaces and parentheses */
    char state;
    unsigned long long user, system;
    if (fields == NULL || sscanf(fields + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu",
                                 &state, &user, &system) != 3)
        return PYI_CPU_UNKNOWN;
    s->running = state == 'R';
    return (user + system) * t->ns_per_tick;
}

static uint64_t tid_map_find(const pyi_thread_table *t, uint64_t ns_tid)
{
    for (int i = 0; i < t->tid_map_count; i++)
        if (t->tid_map[i].ns == ns_tid)
            return t->tid_map[i].host;
    return 0;
}

/* The id our /proc knows a thread of the target by (0 = not found). */
static uint64_t host_tid(pyi_thread_table *t, uint64_t ns_tid)
{
    if (t->tid_map == NULL || ns_tid == 0)
        return ns_tid;
    uint64_t host = tid_map_find(t, ns_tid);
    if (host == 0) {
        int n = pyi_proc_tasks(t->pid, t->tid_map, PYI_THREAD_TID_MAP);
        t->tid_map_count = n > 0 ? n : 0;
        host = tid_map_find(t, ns_tid);
    }
    return host;
}

static void slot_release(pyi_thread_slot *s)
{
    if (s->cpu_fd >= 0)
        close(s->cpu_fd);
    s->cpu_fd = -1;
    s->tstate = 0; /* keeps its stack buffers for the next thread */
}

static int slot_matches(const pyi_thread_slot *s, const pyi_thread_snapshot *snap)
{
    return s->tstate == snap->tstate && s->thread_id == snap->thread_id &&
           (s->native_id == snap->native_id || s->native_id == 0 || snap->native_id == 0);
}

/* Takes the waiting name of a thread out of the queue (lock held). Both ids
 * must match when both are known: glibc hands a finished thread's pthread_t
 * to the next thread it starts. */
static int take_pending(pyi_thread_table *t, uint64_t thread_id, uint64_t native_id,
                        char *name)
{
    for (uint32_t i = 0; i < t->pending_count; i++) {
        const pyi_pending_name *p = &t->pending[i];
        if (p->thread_id == thread_id &&
            (p->native_id == native_id || p->native_id == 0 || native_id == 0)) {
            memcpy(name, t->pending[i].name, PYI_THREAD_NAME_MAX);
            t->pending[i] = t->pending[--t->pending_count];
            return 1;
        }
    }
    return 0;
}

/* A name for a thread of another process, which cannot tell us threading's
 * names: the main thread is MainThread; another is named after its OS name
 * when the program set one (CPython 3.8-3.13 leave it as the process's). */
static int outside_name(const pyi_thread_table *t, uint64_t native_id, uint64_t os_tid,
                        char *name)
{
    if (native_id == (uint64_t)t->ns_pid) {
        snprintf(name, PYI_THREAD_NAME_MAX, "MainThread");
        return 1;
    }
    char task[64], process[64];
    snprintf(task, sizeof task, "task/%llu/comm", (unsigned long long)os_tid);
    if (os_tid == 0 || pyi_proc_read_file(t->pid, task, name, PYI_THREAD_NAME_MAX) <= 0 ||
        pyi_proc_read_file(t->pid, "comm", process, sizeof process) <= 0)
        return 0;
    name[strcspn(name, "\n")] = '\0';
    process[strcspn(process, "\n")] = '\0';
    return name[0] != '\0' && strcmp(name, process) != 0;
}

static int slot_define(pyi_thread_table *t, pyi_writer *w, pyi_thread_slot *s,
                       const pyi_thread_snapshot *snap)
{
    char name[PYI_THREAD_NAME_MAX];
    uint32_t name_id = 0;
    int named = 0;
    /* trylock: a signal may have stopped a thread holding it; names can wait. */
    if (pthread_mutex_trylock(&t->lock) == 0) {
        named = take_pending(t, snap->thread_id, snap->native_id, name);
        pthread_mutex_unlock(&t->lock);
    }
    uint64_t os_tid = host_tid(t, snap->native_id);
    if (!named && !t->cpu_local)
        named = outside_name(t, snap->native_id, os_tid, name);
    if (named) {
        int rc = pyi_writer_intern_string(w, name, strlen(name), &name_id);
        if (rc != 0)
            return rc;
    }
    pyi_thread thread = {0};
    thread.process_id = t->process_id;
    thread.native_id = os_tid ? os_tid : snap->native_id;
    thread.name_id = name_id;
    thread.flags = snap->native_id == (uint64_t)t->ns_pid ? PYI_THREAD_MAIN : 0;
    int rc = pyi_writer_add_thread(w, &thread, &s->trace_id);
    if (rc != 0)
        return rc;
    s->tstate = snap->tstate;
    s->thread_id = snap->thread_id;
    s->native_id = snap->native_id;
    s->os_tid = os_tid; /* cpu_fd is -1: the slot was free */
    s->running = -1;
    s->reads_skipped = 0;
    s->frames_hash = 0;
    s->name_id = name_id;
    s->last_time_ns = 0;
    s->last_cpu_ns = PYI_CPU_UNKNOWN;
    s->stack_depth = 0;
    t->distinct++;
    return 0;
}

/* ---- Public (to recorder/) -------------------------------------------- */

int pyi_thread_table_init(pyi_thread_table *t, int pid, int ns_pid, int cpu_local,
                          uint32_t process_id)
{
    memset(t, 0, sizeof *t);
    t->pid = pid;
    t->ns_pid = ns_pid;
    t->cpu_local = cpu_local;
    t->process_id = process_id;
    long ticks = sysconf(_SC_CLK_TCK);
    t->ns_per_tick = ticks > 0 ? 1000000000u / (uint64_t)ticks : 10000000u;
    t->slots = calloc(PYI_THREAD_SLOTS, sizeof *t->slots);
    if (ns_pid != pid)
        t->tid_map = calloc(PYI_THREAD_TID_MAP, sizeof *t->tid_map);
    if (t->slots == NULL || (ns_pid != pid && t->tid_map == NULL)) {
        free(t->slots);
        free(t->tid_map);
        t->slots = NULL;
        t->tid_map = NULL;
        return PYI_E_NOMEM;
    }
    for (uint32_t i = 0; i < PYI_THREAD_SLOTS; i++)
        t->slots[i].cpu_fd = -1;
    pthread_mutex_init(&t->lock, NULL);
    return 0;
}

void pyi_thread_table_destroy(pyi_thread_table *t)
{
    if (t->slots == NULL)
        return;
    for (uint32_t i = 0; i < PYI_THREAD_SLOTS; i++) {
        slot_release(&t->slots[i]);
        free(t->slots[i].stack_locations);
        free(t->slots[i].stack_ids);
    }
    free(t->slots);
    free(t->tid_map);
    t->slots = NULL;
    t->tid_map = NULL;
    pthread_mutex_destroy(&t->lock);
}

pyi_thread_slot *pyi_thread_table_find(pyi_thread_table *t, const pyi_thread_snapshot *snap,
                                       uint64_t round)
{
    for (uint32_t i = 0; i < t->used; i++) {
        pyi_thread_slot *s = &t->slots[i];
        if (s->tstate != 0 && slot_matches(s, snap)) {
            s->last_round = round;
            return s;
        }
    }
    return NULL;
}

int pyi_thread_table_get(pyi_thread_table *t, pyi_writer *w, const pyi_thread_snapshot *snap,
                         uint64_t round, pyi_thread_slot **slot, int *created)
{
    pyi_thread_slot *free_slot = NULL;
    *created = 0;
    for (uint32_t i = 0; i < t->used; i++) {
        pyi_thread_slot *s = &t->slots[i];
        if (s->tstate != 0 && slot_matches(s, snap)) {
            s->last_round = round;
            *slot = s;
            return 0;
        }
        if (s->tstate == 0 && free_slot == NULL)
            free_slot = s;
    }
    if (free_slot == NULL) {
        if (t->used == PYI_THREAD_SLOTS)
            return PYI_E_LIMIT;
        free_slot = &t->slots[t->used++];
    }
    int rc = slot_define(t, w, free_slot, snap);
    if (rc != 0)
        return rc;
    free_slot->last_round = round;
    *slot = free_slot;
    *created = 1;
    return 0;
}

void pyi_thread_table_expire(pyi_thread_table *t, uint64_t before)
{
    for (uint32_t i = 0; i < t->used; i++)
        if (t->slots[i].tstate != 0 && t->slots[i].last_round < before)
            slot_release(&t->slots[i]);
    while (t->used > 0 && t->slots[t->used - 1].tstate == 0)
        t->used--;
}

int pyi_thread_table_name(pyi_thread_table *t, uint64_t thread_id, uint64_t native_id,
                          const char *name)
{
    int rc = 0;
    pthread_mutex_lock(&t->lock);
    uint32_t i = 0;
    while (i < t->pending_count && (t->pending[i].thread_id != thread_id ||
                                    t->pending[i].native_id != native_id))
        i++;
    if (i == PYI_THREAD_PENDING_NAMES) {
        rc = PYI_E_LIMIT;
    } else {
        t->pending[i].thread_id = thread_id;
        t->pending[i].native_id = native_id;
        snprintf(t->pending[i].name, PYI_THREAD_NAME_MAX, "%s", name);
        if (i == t->pending_count)
            t->pending_count++;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int pyi_thread_table_apply_names(pyi_thread_table *t, pyi_writer *w)
{
    /* trylock: a signal may have stopped a naming thread that holds it. */
    if (pthread_mutex_trylock(&t->lock) != 0)
        return 0;
    int waiting = t->pending_count > 0;
    pthread_mutex_unlock(&t->lock);
    if (!waiting)
        return 0;
    for (uint32_t i = 0; i < t->used; i++) {
        pyi_thread_slot *s = &t->slots[i];
        char name[PYI_THREAD_NAME_MAX];
        if (s->tstate == 0)
            continue;
        if (pthread_mutex_trylock(&t->lock) != 0)
            return 0; /* a naming thread holds it: try next round */
        int named = take_pending(t, s->thread_id, s->native_id, name);
        pthread_mutex_unlock(&t->lock);
        if (!named)
            continue;
        uint32_t name_id;
        int rc = pyi_writer_intern_string(w, name, strlen(name), &name_id);
        if (rc == 0 && name_id != s->name_id)
            rc = pyi_writer_rename_thread(w, s->trace_id, name_id);
        if (rc != 0)
            return rc;
        s->name_id = name_id;
    }
    return 0;
}

static int stack_reserve(pyi_thread_slot *s, uint32_t count)
{
    if (count <= s->stack_capacity)
        return 0;
    uint32_t capacity = s->stack_capacity ? s->stack_capacity : 64;
    while (capacity < count)
        capacity *= 2;
    uint32_t *locations = realloc(s->stack_locations, capacity * sizeof *locations);
    if (locations != NULL)
        s->stack_locations = locations;
    uint32_t *ids = realloc(s->stack_ids, capacity * sizeof *ids);
    if (ids != NULL)
        s->stack_ids = ids;
    if (locations == NULL || ids == NULL)
        return PYI_E_NOMEM;
    s->stack_capacity = capacity;
    return 0;
}

int pyi_thread_table_intern_stack(pyi_thread_slot *slot, pyi_writer *w,
                                  const uint32_t *locations, uint32_t count,
                                  uint32_t *stack_id)
{
    uint32_t common = 0;
    *stack_id = 0;
    if (count == 0)
        return 0;
    if (stack_reserve(slot, count) != 0)
        return PYI_E_NOMEM;
    while (common < count && common < slot->stack_depth &&
           slot->stack_locations[common] == locations[common])
        common++;
    uint32_t parent = common ? slot->stack_ids[common - 1] : 0;
    for (uint32_t i = common; i < count; i++) {
        int rc = pyi_writer_intern_stack(w, parent, locations[i], &parent);
        if (rc != 0) {
            slot->stack_depth = i; /* what is recorded stays consistent */
            return rc;
        }
        slot->stack_locations[i] = locations[i];
        slot->stack_ids[i] = parent;
    }
    slot->stack_depth = count;
    *stack_id = parent;
    return 0;
}

static uint64_t local_cpu_ns(uint64_t tid)
{
    struct timespec ts;
    if (tid == 0 || tid > INT32_MAX || clock_gettime(thread_cpu_clock(tid), &ts) != 0)
        return PYI_CPU_UNKNOWN;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t pyi_thread_cpu_ns(pyi_thread_table *t, pyi_thread_slot *slot)
{
    if (slot->os_tid == 0 || slot->os_tid > INT32_MAX)
        return PYI_CPU_UNKNOWN;
    if (t->cpu_local)
        return local_cpu_ns(slot->os_tid);
    return proc_cpu_ns(t, slot);
}
