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

static uint32_t status_of(const pyi_thread_snapshot *snap, uint64_t weight, uint64_t cpu)
{
    uint32_t status = 0;
    if (snap->holds_gil == 1)
        status |= PYI_STATUS_HOLDS_GIL;
    if (snap->gc_running == 1)
        status |= PYI_STATUS_IN_GC;
    if (cpu != PYI_CPU_UNKNOWN && cpu * 2 > weight)
        status |= PYI_STATUS_ON_CPU;
    return status;
}

/* One thread of one round: walk result -> sample (or a lost record). */
static int on_thread(void *ctx, const pyi_thread_snapshot *snap)
{
    pyi_recorder *r = ctx;
    uint64_t now = pyi_monotonic_ns();
    pyi_thread_slot *slot;
    int created;
    if (snap->error == PYI_WALK_OK && snap->depth == 0 && !snap->truncated) {
        /* No Python frame: nothing to attribute. A thread state its creator
         * is still setting up (it carries the creator's ids) looks like
         * this too, so such states never define a thread. */
        slot = pyi_thread_table_find(&r->threads, snap, r->round);
        if (slot != NULL) {
            slot->last_time_ns = now;
            slot->last_cpu_ns = pyi_thread_cpu_ns(&r->threads, snap->native_id);
        }
        return 0;
    }
    int rc = pyi_thread_table_get(&r->threads, r->writer, snap, r->round, &slot, &created);
    if (rc == PYI_E_LIMIT) {
        r->live.dropped++;
        return record_lost(r, 0, PYI_LOST_DROPPED, 1, 0);
    }
    if (rc != 0)
        return rc;
    uint64_t weight = created ? r->interval_ns : now - slot->last_time_ns;
    uint64_t cpu_now = pyi_thread_cpu_ns(&r->threads, snap->native_id);
    uint64_t cpu = cpu_now == PYI_CPU_UNKNOWN || slot->last_cpu_ns == PYI_CPU_UNKNOWN ||
                           cpu_now < slot->last_cpu_ns
                       ? PYI_CPU_UNKNOWN
                       : cpu_now - slot->last_cpu_ns;
    slot->last_time_ns = now;
    slot->last_cpu_ns = cpu_now;
    uint32_t status = status_of(snap, weight, cpu), count = 0, stack_id = 0;
    int invalid = snap->error != PYI_WALK_OK;
    if (!invalid) {
        rc = pyi_resolver_resolve(&r->resolver, snap->frames, snap->depth, snap->truncated,
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
    return pyi_writer_add_sample(r->writer, &sample);
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
    r->window_rounds_late = 0;
    if (r->interval_ns == before)
        return 0;
    r->live.rate_changes++;
    return add_marker_interval(r, now, share);
}

static int round_run(pyi_recorder *r)
{
    r->round++;
    int rc = pyi_thread_table_apply_names(&r->threads, r->writer);
    if (rc != 0)
        return rc;
    rc = pyi_walker_walk(&r->walker, on_thread, r);
    if (rc == PYI_MEM_GONE) {
        pyi__recorder_fail(r, PYI_E_IO, "the recorded process has exited");
        return rc;
    }
    if (rc == -1) {
        /* The runtime or an interpreter was unreadable: the whole round is lost. */
        r->live.invalid++;
        rc = record_lost(r, 0, PYI_LOST_INVALID, 1, 0);
    }
    if (rc != 0)
        return rc;
    r->live.rounds++;
    /* A thread missing from two rounds in a row has ended. */
    pyi_thread_table_expire(&r->threads, r->round > 2 ? r->round - 2 : 0);
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
    pyi_value method = {.kind = PYI_VALUE_STRING, .s = pyi_mem_method_name(r->mem.method)};
    method.length = strlen(method.s);
    pyi_writer_add_meta(r->writer, "recorder.memory_method", &method);
}

/* Publishes the counters for pyi_recorder_get_stats (readers take the same lock). */
static void stats_update(pyi_recorder *r, uint64_t now)
{
    r->live.duration_ns = now - r->start_ns;
    r->live.sampler_cpu_ns = thread_cpu_now();
    r->live.final_interval_ns = r->interval_ns;
    r->live.threads = r->threads.distinct;
    r->live.memory_reads = r->mem.reads;
    r->live.memory_syscalls = r->mem.syscalls;
    r->live.code_misses = r->resolver.stats.code_misses;
    r->live.memory_method = (int)r->mem.method;
    pthread_mutex_lock(&r->stats_lock);
    r->stats = r->live;
    pthread_mutex_unlock(&r->stats_lock);
}

/* Last names, summary metadata, close; then the trace is complete. */
static void sampler_finish(pyi_recorder *r)
{
    stats_update(r, pyi_monotonic_ns());
    if (r->error == 0) {
        pyi_thread_table_apply_names(&r->threads, r->writer);
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
    while (r->error == 0 && sleep_until(r, deadline) == PYI_COMMAND_RUN) {
        uint64_t cpu_before = thread_cpu_now();
        int rc = round_run(r);
        r->live.round_cpu_ns += thread_cpu_now() - cpu_before;
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
