/* The sampler thread: jittered schedule, one walk per round, samples to the writer, CPU budget. */
/* SPDX-License-Identifier: MIT */
#include "recorder_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ---- Internal --------------------------------------------------------- */

/* Thread CPU clocks are real syscalls (no vDSO): reading one before and
 * after every round would cost more syscalls than the sampling itself. */
#define PYI_ROUND_CPU_EVERY 16

static uint64_t thread_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Uniform in [3/4, 5/4] of the interval: no aliasing with periodic work. */
static uint64_t jittered(pyi_recorder *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    uint64_t quarter = r->interval_ns / 4;
    return r->interval_ns - quarter + (quarter ? r->rng % (2 * quarter + 1) : 0);
}

/* Sleeps until deadline or a wake-up; returns the command then in force. */
static int sleep_until(pyi_recorder *r, uint64_t deadline)
{
    for (;;) {
        int command = atomic_load(&r->command);
        uint64_t now = pyi_monotonic_ns();
        if (command != PYI_COMMAND_RUN || now >= deadline)
            return command;
        uint64_t wait = deadline - now;
        struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};
        struct pollfd pfd = {r->wake_fd, POLLIN, 0};
        if (ppoll(&pfd, 1, &ts, NULL) > 0) {
            uint64_t drained;
            if (read(r->wake_fd, &drained, sizeof drained) < 0 && errno != EAGAIN)
                return PYI_COMMAND_STOP;
        }
    }
}

static int record_lost(pyi_recorder *r, uint32_t thread_id, uint32_t reason, uint64_t count,
                       uint64_t weight)
{
    pyi_lost lost = {thread_id, reason, count, weight};
    return pyi_writer_add_lost(r->writer, &lost);
}

/* running: the thread's OS state (another process, -1 = not known). */
static uint32_t status_of(const pyi_thread_snapshot *snap, uint64_t weight, uint64_t cpu,
                          int running)
{
    uint32_t status = 0;
    if (snap->holds_gil == 1)
        status |= PYI_STATUS_HOLDS_GIL;
    if (snap->gc_running == 1)
        status |= PYI_STATUS_IN_GC;
    if (running >= 0 ? running == 1 : cpu != PYI_CPU_UNKNOWN && cpu * 2 > weight)
        status |= PYI_STATUS_ON_CPU;
    return status;
}

/* What the walk callback needs: the recorder and the process being walked. */
typedef struct walk_context {
    pyi_recorder *r;
    pyi_engine *e;
} walk_context;

/* Hands a written sample to options.on_sample with its frames named. */
static void hook_call(pyi_recorder *r, const pyi_engine *e, const pyi_thread_slot *slot,
                      const pyi_sample *sample, uint32_t count)
{
    uint32_t depth = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t function, line;
        const pyi_catalog_function *f =
            pyi_catalog_function_of(&r->catalog, r->locations[i], &function, &line);
        if (f != NULL)
            r->hook_frames[depth++] = (pyi_recorder_frame){function, f->name, f->file, line,
                                                           f->kind};
    }
    pyi_recorder_sample_info info = {e->mem.pid,       slot->os_tid,     sample->time_ns,
                                     sample->weight_ns, sample->cpu_ns,   sample->status,
                                     r->hook_frames,    depth};
    r->options.on_sample(r->options.on_sample_ctx, &info);
}

/*
 * Another process's CPU time and state come from one /proc stat read per
 * thread-sample, and its CPU times only move at scheduler ticks (every 4 ms
 * at HZ=250). So up to PYI_PROC_SKIP reads in a row are skipped where the
 * last read is as good as a new one: a thread last seen running that holds
 * the GIL now (it is running Python code), or one last seen waiting that
 * does not hold the GIL and whose stack has not moved. A skipped sample
 * keeps the last state and gets 0 CPU; the next read's delta covers the
 * whole span, so CPU totals stay exact. Wrong for at most PYI_PROC_SKIP
 * samples: a thread that blocks while holding the GIL, or a waiting one that
 * starts computing inside the same native call without the GIL.
 */
#define PYI_PROC_SKIP 3

static uint64_t frames_hash(const pyi_thread_snapshot *snap)
{
    uint64_t h = 1469598103934665603ull ^ snap->depth;
    for (uint32_t i = 0; i < snap->depth; i++) {
        h = (h ^ snap->frames[i].address) * 1099511628211ull;
        h = (h ^ snap->frames[i].code) * 1099511628211ull;
        h = (h ^ (uint32_t)snap->frames[i].lasti) * 1099511628211ull;
    }
    return h;
}

/* Whether this sample may reuse the last /proc read. Only a waiting thread's
 * stack is hashed (0 otherwise), so a match means "waiting at the same
 * place in the previous sample too"; this process never gets here. */
static int proc_read_skippable(pyi_thread_slot *slot, const pyi_thread_snapshot *snap)
{
    int waiting = slot->running == 0 && snap->holds_gil == 0 && snap->error == PYI_WALK_OK;
    uint64_t hash = waiting ? frames_hash(snap) : 0, previous = slot->frames_hash;
    slot->frames_hash = hash;
    if (slot->last_cpu_ns == PYI_CPU_UNKNOWN || slot->reads_skipped >= PYI_PROC_SKIP ||
        snap->error != PYI_WALK_OK)
        return 0;
    return slot->running == 1 ? snap->holds_gil == 1 : waiting && hash == previous;
}

/* The CPU time since the slot's previous sample (PYI_CPU_UNKNOWN if not known). */
static uint64_t cpu_delta(pyi_engine *e, pyi_thread_slot *slot, const pyi_thread_snapshot *snap)
{
    if (!e->threads.cpu_local && proc_read_skippable(slot, snap)) {
        slot->reads_skipped++;
        return 0;
    }
    slot->reads_skipped = 0;
    uint64_t cpu_now = pyi_thread_cpu_ns(&e->threads, slot);
    uint64_t cpu = cpu_now == PYI_CPU_UNKNOWN || slot->last_cpu_ns == PYI_CPU_UNKNOWN ||
                           cpu_now < slot->last_cpu_ns
                       ? PYI_CPU_UNKNOWN
                       : cpu_now - slot->last_cpu_ns;
    slot->last_cpu_ns = cpu_now;
    return cpu;
}

/* One thread of one round: walk result -> sample (or a lost record). */
static int on_thread(void *ctx, const pyi_thread_snapshot *snap)
{
    pyi_recorder *r = ((walk_context *)ctx)->r;
    pyi_engine *e = ((walk_context *)ctx)->e;
    uint64_t now = pyi_monotonic_ns();
    pyi_thread_slot *slot;
    int created;
    if (snap->error == PYI_WALK_OK && snap->depth == 0 && !snap->truncated) {
        /* No Python frame: nothing to attribute. A thread state its creator
         * is still setting up (it carries the creator's ids) looks like
         * this too, so such states never define a thread. */
        slot = pyi_thread_table_find(&e->threads, snap, r->round);
        if (slot != NULL) {
            slot->last_time_ns = now;
            cpu_delta(e, slot, snap);
        }
        return 0;
    }
    int rc = pyi_thread_table_get(&e->threads, r->writer, snap, r->round, &slot, &created);
    if (rc == PYI_E_LIMIT) {
        r->live.dropped++;
        return record_lost(r, 0, PYI_LOST_DROPPED, 1, 0);
    }
    if (rc != 0)
        return rc;
    r->live.thread_samples++;
    uint64_t weight = created ? r->interval_ns : now - slot->last_time_ns;
    uint64_t cpu = cpu_delta(e, slot, snap);
    slot->last_time_ns = now;
    uint32_t status = status_of(snap, weight, cpu, slot->running), count = 0, stack_id = 0;
    int invalid = snap->error != PYI_WALK_OK;
    if (!invalid) {
        rc = pyi_resolver_resolve(&e->resolver, snap->frames, snap->depth, snap->truncated,
                                  r->locations, &count, &status);
        if (rc < 0)
            return rc;
        invalid = rc == 1;
    }
    if (!invalid) {
        rc = pyi_thread_table_intern_stack(slot, r->writer, r->locations, count, &stack_id);
        if (rc != 0)
            return rc;
    }
    if (invalid) {
        r->live.invalid++;
        return record_lost(r, slot->trace_id, PYI_LOST_INVALID, 1, weight);
    }
    pyi_sample sample = {slot->trace_id, stack_id, now, weight, cpu, status};
    r->live.samples++;
    rc = pyi_writer_add_sample(r->writer, &sample);
    if (rc == 0 && r->options.on_sample != NULL)
        hook_call(r, e, slot, &sample, count);
    return rc;
}

static int add_marker_interval(pyi_recorder *r, uint64_t now, double cpu_share)
{
    uint32_t name_id;
    static const char name[] = "pyinst.interval";
    int rc = pyi_writer_intern_string(r->writer, name, sizeof name - 1, &name_id);
    if (rc != 0)
        return rc;
    pyi_meta_entry args[2] = {
        {"interval_ns", {.kind = PYI_VALUE_INT, .i = (int64_t)r->interval_ns}},
        {"sampler_cpu_share", {.kind = PYI_VALUE_FLOAT, .f = cpu_share}},
    };
    pyi_marker marker = {0, name_id, now, 0, args, 2};
    return pyi_writer_add_marker(r->writer, &marker);
}

/* Judges the last window: over budget (or late) slows down, far under speeds back up. */
static int budget_check(pyi_recorder *r, uint64_t now)
{
    if (now - r->window_start_ns < PYI_BUDGET_WINDOW_NS)
        return 0;
    uint64_t cpu = thread_cpu_now();
    double share = (double)(cpu - r->window_cpu_ns) / (double)(now - r->window_start_ns);
    uint64_t before = r->interval_ns;
    int late = r->window_rounds_late * 4 > (now - r->window_start_ns) / r->interval_ns;
    if ((share > r->options.cpu_budget || late) && r->interval_ns < PYI_MAX_INTERVAL_NS)
        r->interval_ns = r->interval_ns * 3 / 2 < PYI_MAX_INTERVAL_NS ? r->interval_ns * 3 / 2
                                                                       : PYI_MAX_INTERVAL_NS;
    else if (share < r->options.cpu_budget / 4 && !late &&
             r->interval_ns > r->options.interval_ns)
        r->interval_ns = r->interval_ns * 2 / 3 > r->options.interval_ns ? r->interval_ns * 2 / 3
                                                                          : r->options.interval_ns;
    r->window_start_ns = now;
    r->window_cpu_ns = cpu;
    r->live.sampler_cpu_ns = cpu;
    r->window_rounds_late = 0;
    if (r->interval_ns == before)
        return 0;
    r->live.rate_changes++;
    return add_marker_interval(r, now, share);
}

/* Marks an engine's process as no longer recorded (it exited, or exec'd into
 * something else) and releases what only sampling needed. */
static int engine_retire(pyi_recorder *r, pyi_engine *e, const char *why, uint64_t now)
{
    pthread_mutex_lock(&r->engines_lock);
    e->gone = 1;
    pthread_mutex_unlock(&r->engines_lock);
    r->live.processes_alive--;
    if (!e->mem.is_self) {
        pyi_thread_table_expire(&e->threads, UINT64_MAX); /* closes its /proc files */
        pyi_walker_destroy(&e->walker);
        e->code_misses += e->resolver.stats.code_misses;
        pyi_resolver_destroy(&e->resolver);
        pyi_mem_close(&e->mem);
    }
    uint32_t name_id;
    static const char name[] = "pyinst.process.end";
    int rc = pyi_writer_intern_string(r->writer, name, sizeof name - 1, &name_id);
    if (rc != 0)
        return rc;
    pyi_meta_entry args[3] = {
        {"pid", {.kind = PYI_VALUE_INT, .i = e->mem.pid}},
        {"process", {.kind = PYI_VALUE_INT, .i = e->process_id}},
        {"reason", {.kind = PYI_VALUE_STRING, .s = why, .length = strlen(why)}},
    };
    pyi_marker marker = {0, name_id, now, 0, args, 3};
    return pyi_writer_add_marker(r->writer, &marker);
}

/* Defines the processes added since the last round and starts walking them. */
static int engines_adopt(pyi_recorder *r)
{
    pthread_mutex_lock(&r->engines_lock);
    pyi_engine *added = r->pending;
    r->pending = NULL;
    pthread_mutex_unlock(&r->engines_lock);
    while (added != NULL) {
        pyi_engine *e = added;
        added = e->next;
        uint32_t parent = 0;
        for (const pyi_engine *p = r->engines; p != NULL && e->parent_pid != 0; p = p->next)
            if (p->mem.pid == e->parent_pid)
                parent = p->process_id; /* the latest one with that pid wins */
        pyi_process process = {0, parent, e->mem.pid, e->meta, e->meta_count};
        int rc = pyi_writer_add_process(r->writer, &process, &e->process_id);
        e->threads.process_id = e->process_id;
        pthread_mutex_lock(&r->engines_lock);
        pyi_engine **tail = &r->engines;
        while (*tail != NULL)
            tail = &(*tail)->next;
        e->next = NULL;
        *tail = e;
        pthread_mutex_unlock(&r->engines_lock);
        r->live.processes++;
        r->live.processes_alive++;
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* One round over one process. */
static int engine_round(pyi_recorder *r, pyi_engine *e, uint64_t now)
{
    walk_context ctx = {r, e};
    pyi_mem_round_begin(&e->mem);
    int rc = pyi_walker_walk(&e->walker, on_thread, &ctx);
    pyi_mem_round_end(&e->mem);
    if (rc == PYI_MEM_GONE)
        return engine_retire(r, e, "exited", now);
    if (rc == -1) {
        /* The runtime or an interpreter was unreadable: the whole round is
         * lost. Another process that stays so has exec'd. */
        if (e->unreadable_since == 0)
            e->unreadable_since = now;
        if (!e->mem.is_self && now - e->unreadable_since > PYI_UNREADABLE_RETIRE_NS)
            return engine_retire(r, e, "unreadable (exec?)", now);
        r->live.invalid++;
        return record_lost(r, 0, PYI_LOST_INVALID, 1, 0);
    }
    if (rc != 0)
        return rc;
    e->unreadable_since = 0;
    /* A thread missing from two rounds in a row has ended. */
    pyi_thread_table_expire(&e->threads, r->round > 2 ? r->round - 2 : 0);
    return 0;
}

static int round_run(pyi_recorder *r)
{
    r->round++;
    int rc = engines_adopt(r);
    if (rc == 0)
        rc = pyi_thread_table_apply_names(&r->root->threads, r->writer);
    uint64_t now = pyi_monotonic_ns();
    for (pyi_engine *e = r->engines; rc == 0 && e != NULL; e = e->next)
        if (!e->gone)
            rc = engine_round(r, e, now);
    if (rc != 0)
        return rc;
    r->live.rounds++;
    if (r->live.processes_alive == 0)
        r->live.targets_exited = 1;
    return 0;
}

/* Keeps the schedule. A little late catches up on the next rounds; a whole
 * interval or more behind counts those rounds as missed (never bursts). */
static int schedule_next(pyi_recorder *r, uint64_t *deadline, uint64_t now)
{
    *deadline += jittered(r);
    if (*deadline + r->interval_ns > now)
        return 0;
    uint64_t missed = (now - *deadline) / r->interval_ns;
    r->live.missed += missed;
    r->window_rounds_late += missed;
    *deadline = now + jittered(r) / 2;
    return record_lost(r, 0, PYI_LOST_MISSED, missed, 0);
}

static void write_final_meta(pyi_recorder *r)
{
    const struct {
        const char *key;
        uint64_t value;
    } items[] = {
        {"recorder.rounds", r->live.rounds},
        {"recorder.samples", r->live.samples},
        {"recorder.invalid", r->live.invalid},
        {"recorder.missed", r->live.missed},
        {"recorder.dropped", r->live.dropped},
        {"recorder.threads", r->live.threads},
        {"recorder.duration_ns", r->live.duration_ns},
        {"recorder.sampler_cpu_ns", r->live.sampler_cpu_ns},
        {"recorder.round_cpu_ns", r->live.round_cpu_ns},
        {"recorder.final_interval_ns", r->live.final_interval_ns},
        {"recorder.rate_changes", r->live.rate_changes},
        {"recorder.code_misses", r->live.code_misses},
        {"recorder.memory_syscalls", r->live.memory_syscalls},
        {"recorder.cpu_reads", r->live.cpu_reads},
        {"recorder.thread_samples", r->live.thread_samples},
        {"recorder.processes", r->live.processes},
    };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        pyi_value v = {.kind = PYI_VALUE_INT, .i = (int64_t)items[i].value};
        pyi_writer_add_meta(r->writer, items[i].key, &v);
    }
    double seconds = (double)r->live.duration_ns / 1e9;
    pyi_value rate = {.kind = PYI_VALUE_FLOAT,
                      .f = seconds > 0 ? (double)r->live.rounds / seconds : 0};
    pyi_writer_add_meta(r->writer, "recorder.achieved_hz", &rate);
    pyi_value nice = {.kind = PYI_VALUE_INT, .i = r->live.sampler_nice};
    pyi_writer_add_meta(r->writer, "recorder.sampler_nice", &nice);
    pyi_value method = {.kind = PYI_VALUE_STRING,
                        .s = pyi_mem_method_name(r->root->mem.method)};
    method.length = strlen(method.s);
    pyi_writer_add_meta(r->writer, "recorder.memory_method", &method);
}

/* Publishes the counters for pyi_recorder_get_stats (readers take the same lock). */
static void stats_update(pyi_recorder *r, uint64_t now)
{
    r->live.duration_ns = now - r->start_ns;
    /* sampler_cpu_ns is read where the budget is judged (every window) and at the end. */
    if (r->rounds_measured > 0)
        r->live.round_cpu_ns = r->round_cpu_measured_ns * r->rounds_run / r->rounds_measured;
    r->live.final_interval_ns = r->interval_ns;
    uint64_t threads = 0, reads = 0, syscalls = 0, misses = 0, cpu_reads = 0;
    for (const pyi_engine *e = r->engines; e != NULL; e = e->next) {
        threads += e->threads.distinct;
        reads += e->mem.reads;
        syscalls += e->mem.syscalls;
        misses += e->code_misses + e->resolver.stats.code_misses;
        cpu_reads += e->threads.proc_reads;
    }
    r->live.threads = threads;
    r->live.memory_reads = reads;
    r->live.memory_syscalls = syscalls;
    r->live.code_misses = misses;
    r->live.cpu_reads = cpu_reads;
    r->live.memory_method = (int)r->root->mem.method;
    pthread_mutex_lock(&r->stats_lock);
    r->stats = r->live;
    pthread_mutex_unlock(&r->stats_lock);
}

/* Last names, summary metadata, close; then the trace is complete. */
static void sampler_finish(pyi_recorder *r)
{
    r->live.sampler_cpu_ns = thread_cpu_now();
    stats_update(r, pyi_monotonic_ns());
    if (r->error == 0) {
        pyi_thread_table_apply_names(&r->root->threads, r->writer);
        write_final_meta(r);
    }
    int rc = pyi_writer_close(r->writer);
    if (rc != 0)
        pyi__recorder_fail(r, rc, "closing the trace: %s", pyi_writer_error_detail(r->writer));
    pyi_writer_stats ws;
    pyi_writer_get_stats(r->writer, &ws);
    r->live.file_bytes = ws.file_bytes;
    pthread_mutex_lock(&r->stats_lock);
    r->stats = r->live;
    pthread_mutex_unlock(&r->stats_lock);
    pyi__recorder_write_summary(r);
    atomic_store(&r->state, PYI_STATE_FINISHED);
    sem_post(&r->finished);
}

/* ---- Public (to recorder/) -------------------------------------------- */

void *pyi__sampler_main(void *arg)
{
    pyi_recorder *r = arg;
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); /* 1 µs: keep the schedule tight */
    prctl(PR_SET_NAME, (unsigned long)"pyinst-sampler", 0, 0, 0);
    /* Per-thread on Linux: only this thread. Refused without CAP_SYS_NICE. */
    if (r->options.sampler_nice != 0)
        setpriority(PRIO_PROCESS, (id_t)gettid(), r->options.sampler_nice);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, (id_t)gettid());
    r->live.sampler_nice = errno == 0 ? nice : 0;
    /* The schedule starts when the trace does: if this thread first runs
     * late (a loaded machine), the rounds it could not make are counted. */
    uint64_t deadline = r->start_ns;
    r->window_start_ns = r->last_flush_ns = pyi_monotonic_ns();
    r->window_cpu_ns = thread_cpu_now();
    r->live.processes = r->live.processes_alive = 1;
    while (r->error == 0 && !r->live.targets_exited &&
           sleep_until(r, deadline) == PYI_COMMAND_RUN) {
        int measure = r->rounds_run++ % PYI_ROUND_CPU_EVERY == 0;
        uint64_t cpu_before = measure ? thread_cpu_now() : 0;
        int rc = round_run(r);
        if (measure) {
            r->round_cpu_measured_ns += thread_cpu_now() - cpu_before;
            r->rounds_measured++;
        }
        uint64_t now = pyi_monotonic_ns();
        if (rc == 0)
            rc = budget_check(r, now);
        if (rc == 0)
            rc = schedule_next(r, &deadline, now);
        if (rc == 0 && now - r->last_flush_ns >= (uint64_t)r->options.flush_ms * 1000000u) {
            rc = pyi_writer_flush(r->writer);
            r->last_flush_ns = now;
        }
        if (rc != 0 && r->error == 0)
            pyi__recorder_fail(r, rc, "recording failed (%s): %s", pyi_err_name(rc),
                               pyi_writer_error_detail(r->writer));
        stats_update(r, now);
    }
    sampler_finish(r);
    return NULL;
}
