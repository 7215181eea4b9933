/* The recorder API: check the target, open the trace, run and stop the sampler thread. */
/* SPDX-License-Identifier: MIT */
#include "recorder_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---- Internal --------------------------------------------------------- */

#define DEFAULT_INTERVAL_NS 1000000u
#define DEFAULT_MAX_DEPTH 2048u
#define MIN_MAX_DEPTH 64u
#define DEFAULT_BUDGET 0.1
#define DEFAULT_FLUSH_MS 1000u

static void fail_message(char *msg, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_message(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
}

/* Chooses the layout: built-in table, or _Py_DebugOffsets from the runtime (3.13+). */
static int layout_select(pyi_mem_reader *mem, const pyi_target *t, pyi_py_layout *out,
                         char *msg, size_t size)
{
    unsigned major = t->python_version_hex >> 24, minor = (t->python_version_hex >> 16) & 0xff;
    if (major != 3 || minor < 8 || minor > 13) {
        fail_message(msg, size, "CPython %u.%u is not supported (pyinst records 3.8 to 3.13)",
                     major, minor);
        return PYI_E_UNSUPPORTED;
    }
    if (minor < 13)
        return pyi_py_layout_from_table(minor, out);
    unsigned char bytes[PYI_DEBUG_OFFSETS_313_SIZE];
    if (pyi_mem_read(mem, t->runtime_address, bytes, sizeof bytes) != 0) {
        fail_message(msg, size, "cannot read _PyRuntime at 0x%llx",
                     (unsigned long long)t->runtime_address);
        return PYI_E_UNSUPPORTED;
    }
    return pyi_py_layout_from_debug_offsets(bytes, sizeof bytes, out, msg, size);
}

typedef struct probe {
    uint64_t tstate;       /* thread to look for, 0 = any */
    uint64_t code;         /* its expected innermost code object */
    int threads, bad, found;
    uint64_t seen_code;
} probe;

static int probe_thread(void *ctx, const pyi_thread_snapshot *snap)
{
    probe *p = ctx;
    p->threads++;
    p->bad += snap->error == PYI_WALK_BAD_THREAD;
    if (snap->tstate == p->tstate) {
        p->found = 1;
        p->seen_code = snap->depth > 0 ? snap->frames[0].code : 0;
    }
    return 0;
}

/* One walk on the calling thread: the runtime must lead to readable threads. */
static int target_probe(pyi_mem_reader *mem, const pyi_py_layout *layout,
                        const pyi_target *t, probe *p, char *msg, size_t size)
{
    pyi_walker walker;
    int rc = pyi_walker_init(&walker, mem, layout, t->runtime_address, 64);
    if (rc != 0)
        return rc;
    rc = pyi_walker_walk(&walker, probe_thread, p);
    pyi_walker_destroy(&walker);
    if (rc != 0 || p->threads == 0 || p->bad == p->threads) {
        fail_message(msg, size,
                     "the interpreter state of CPython 3.%u does not look as expected "
                     "(walk %d, %d threads, %d unreadable): not a standard build?",
                     layout->minor, rc, p->threads, p->bad);
        return PYI_E_STATE;
    }
    return 0;
}

static void options_normalize(pyi_recorder_options *o)
{
    if (o->interval_ns == 0)
        o->interval_ns = DEFAULT_INTERVAL_NS;
    if (o->max_depth == 0)
        o->max_depth = DEFAULT_MAX_DEPTH;
    if (o->max_depth < MIN_MAX_DEPTH)
        o->max_depth = MIN_MAX_DEPTH;
    if (!(o->cpu_budget > 0))
        o->cpu_budget = DEFAULT_BUDGET;
    if (o->flush_ms == 0)
        o->flush_ms = DEFAULT_FLUSH_MS;
}

/* Opens the trace with the defaults filled in. */
static int trace_open(pyi_recorder *r, const pyi_header *given)
{
    pyi_header h = given ? *given : (pyi_header){0};
    static const char recorder[] = "pyinst " PYI_RECORDER_VERSION;
    h.recorder = h.recorder ? h.recorder : recorder;
    h.mode = h.mode ? h.mode : "wall";
    h.clock = h.clock ? h.clock : "CLOCK_MONOTONIC";
    h.interval_ns = r->options.interval_ns;
    h.start_mono_ns = pyi_monotonic_ns();
    h.start_wall_ns = pyi_wall_ns();
    h.pid = h.pid ? h.pid : r->mem.pid;
    h.python_implementation = h.python_implementation ? h.python_implementation : "CPython";
    h.max_depth = r->options.max_depth;
    h.status_known = PYI_STATUS_IN_GC | PYI_STATUS_TRUNCATED | PYI_STATUS_ON_CPU |
                     PYI_STATUS_HOLDS_GIL | PYI_STATUS_NATIVE_LEAF;
    pyi_writer_options wo;
    pyi_writer_options_init(&wo);
    wo.threaded = 1;
    r->start_ns = h.start_mono_ns;
    int fd = open(r->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        fail_message(r->detail, sizeof r->detail, "cannot write %s: %s", r->path,
                     strerror(errno));
        return PYI_E_IO;
    }
    int rc = pyi_writer_open_fd(&r->writer, pyi_fd_move_high(fd), 1, r->path, &h, &wo);
    if (rc != 0)
        fail_message(r->detail, sizeof r->detail, "cannot write %s: %s", r->path,
                     r->writer ? pyi_writer_error_detail(r->writer) : pyi_strerror(rc));
    return rc;
}

/* Builds the engine: memory reader, layout, probe, walker, resolver, thread table. */
static int engine_open(pyi_recorder *r)
{
    int rc = pyi_mem_open(&r->mem, (int)r->target.pid, (pyi_memory_method)r->options.memory_method,
                          r->detail, sizeof r->detail);
    if (rc != 0)
        return PYI_E_UNSUPPORTED;
    rc = layout_select(&r->mem, &r->target, &r->layout, r->detail, sizeof r->detail);
    if (rc != 0)
        return rc;
    probe p = {0};
    rc = target_probe(&r->mem, &r->layout, &r->target, &p, r->detail, sizeof r->detail);
    if (rc != 0)
        return rc;
    rc = pyi_walker_init(&r->walker, &r->mem, &r->layout, r->target.runtime_address,
                         r->options.max_depth);
    if (rc == 0)
        rc = pyi_thread_table_init(&r->threads, r->mem.pid, r->mem.is_self);
    r->locations = calloc(r->options.max_depth + 2, sizeof *r->locations);
    if (rc == 0 && r->locations == NULL)
        rc = PYI_E_NOMEM;
    if (rc != 0)
        fail_message(r->detail, sizeof r->detail, "out of memory");
    r->walker.only_thread = r->options.only_thread;
    /* Before 3.11 a thread state only has the pthread_t: learn where glibc
     * keeps the kernel id inside struct pthread, from our own thread. */
    if (rc == 0 && r->layout.tstate_native_thread_id < 0 && r->mem.is_self)
        r->walker.pthread_tid_offset = pyi_walker_find_tid_offset(
            &r->mem, (uint64_t)pthread_self(), (uint32_t)gettid());
    return rc;
}

/* Opens the trace and starts the sampler, with every signal blocked so that
 * the writer and sampler threads inherit a full mask and never run the
 * program's signal handlers. */
static int threads_start(pyi_recorder *r, const pyi_header *header)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = trace_open(r, header);
    if (rc == 0) {
        rc = pyi_resolver_init(&r->resolver, &r->mem, &r->layout, r->writer,
                               r->target.code_type_address, r->options.max_depth);
        if (rc != 0)
            fail_message(r->detail, sizeof r->detail, "out of memory");
    }
    if (rc == 0) {
        r->interval_ns = r->options.interval_ns;
        r->rng = pyi_monotonic_ns() | 1;
        /* A new thread inherits its creator's nice value: hand the sampler its
         * priority from birth (on a loaded machine a new nice-0 thread can
         * wait a long time for its first slice), then take ours back, which
         * is always permitted. Without CAP_SYS_NICE nothing changes. */
        errno = 0;
        int nice = getpriority(PRIO_PROCESS, (id_t)gettid());
        int lowered = errno == 0 && r->options.sampler_nice < nice &&
                      setpriority(PRIO_PROCESS, (id_t)gettid(), r->options.sampler_nice) == 0;
        int err = pthread_create(&r->thread, NULL, pyi__sampler_main, r);
        if (lowered)
            setpriority(PRIO_PROCESS, (id_t)gettid(), nice);
        if (err != 0) {
            fail_message(r->detail, sizeof r->detail, "cannot start the sampler thread: %s",
                         strerror(err));
            rc = PYI_E_IO;
        }
        r->thread_started = err == 0;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static pyi_recorder *recorder_new(const char *path, const pyi_target *target,
                                  const pyi_recorder_options *options)
{
    pyi_recorder *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->path = strdup(path ? path : "");
    r->wake_fd = pyi_fd_move_high(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (r->path == NULL || r->wake_fd < 0) {
        free(r->path);
        if (r->wake_fd >= 0)
            close(r->wake_fd);
        free(r);
        return NULL;
    }
    r->target = *target;
    if (options)
        r->options = *options;
    else
        pyi_recorder_options_init(&r->options);
    /* The caller's strings need not outlive this call. */
    r->summary_label = r->options.summary_label ? strdup(r->options.summary_label) : NULL;
    r->report_command = r->options.report_command ? strdup(r->options.report_command) : NULL;
    r->options.summary_label = r->options.report_command = NULL;
    options_normalize(&r->options);
    pthread_mutex_init(&r->stats_lock, NULL);
    sem_init(&r->finished, 0, 0);
    r->live.nominal_interval_ns = r->options.interval_ns;
    r->stats = r->live;
    return r;
}

static void wake(pyi_recorder *r)
{
    uint64_t one = 1;
    ssize_t n = write(r->wake_fd, &one, sizeof one);
    (void)n; /* a full counter already means "wake up" */
}

/* ---- Internal, shared within recorder/ ---------------------------------- */

void pyi__recorder_fail(pyi_recorder *r, int error, const char *fmt, ...)
{
    if (r->error != 0)
        return;
    r->error = error;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

/* Shell-quotes text into out when it needs it (spaces, quotes...). */
static void shell_quote(const char *text, char *out, size_t size)
{
    if (strpbrk(text, " \t\"'$\\`;&|<>()*?[]#~") == NULL) {
        snprintf(out, size, "%s", text);
        return;
    }
    size_t used = 0;
    out[used++] = '\'';
    for (const char *p = text; *p && used + 5 < size; p++) {
        if (*p == '\'') {
            memcpy(out + used, "'\\''", 4);
            used += 4;
        } else {
            out[used++] = *p;
        }
    }
    out[used++] = '\'';
    out[used] = '\0';
}

void pyi__recorder_write_summary(pyi_recorder *r)
{
    if (r->options.summary_fd < 0 || atomic_exchange(&r->summary_written, 1))
        return;
    const pyi_recorder_stats *s = &r->live;
    const char *label = r->summary_label ? r->summary_label : "pyinst";
    char quoted[1024], line[2560];
    shell_quote(r->path, quoted, sizeof quoted);
    int n = snprintf(line, sizeof line,
                     "%s: %.2f s, %llu samples, %llu lost, %llu KiB in %s; report: %s %s\n",
                     label, (double)s->duration_ns / 1e9, (unsigned long long)s->samples,
                     (unsigned long long)(s->invalid + s->missed + s->dropped),
                     (unsigned long long)(s->file_bytes + 1023) / 1024, r->path,
                     r->report_command ? r->report_command : "pyinst-report", quoted);
    if (r->error != 0 && n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, "%s: recording stopped early: %s\n",
                      label, r->detail);
    if (n > 0) {
        ssize_t w = write(r->options.summary_fd, line, (size_t)n < sizeof line ? (size_t)n
                                                                              : sizeof line - 1);
        (void)w; /* nobody left to tell */
    }
}

/* ---- Public ----------------------------------------------------------- */

void pyi_recorder_options_init(pyi_recorder_options *options)
{
    memset(options, 0, sizeof *options);
    options->summary_fd = -1;
    options->sampler_nice = PYI_RECORDER_NICE_DEFAULT;
}

int pyi_recorder_start(pyi_recorder **out, const char *path, const pyi_header *header,
                       const pyi_target *target, const pyi_recorder_options *options)
{
    *out = NULL;
    if (target == NULL)
        return PYI_E_INVALID_ARG;
    pyi_recorder *r = recorder_new(path, target, options);
    if (r == NULL)
        return PYI_E_NOMEM;
    *out = r;
    int rc = path && path[0] ? 0 : PYI_E_INVALID_ARG;
    if (rc != 0)
        fail_message(r->detail, sizeof r->detail, "no trace file name given");
    if (rc == 0)
        rc = engine_open(r);
    if (rc == 0)
        rc = threads_start(r, header);
    if (rc != 0)
        r->error = rc;
    return rc;
}

int pyi_recorder_stop(pyi_recorder *r)
{
    if (r == NULL)
        return PYI_E_INVALID_ARG;
    pyi_recorder_release_signals(r);
    if (r->thread_started) {
        atomic_store(&r->command, PYI_COMMAND_STOP);
        wake(r);
        pthread_join(r->thread, NULL);
        r->thread_started = 0;
    }
    return r->error;
}

void pyi_recorder_free(pyi_recorder *r)
{
    if (r == NULL)
        return;
    pyi_recorder_stop(r);
    pyi_writer_free(r->writer); /* closed by the sampler, or never started */
    pyi_resolver_destroy(&r->resolver);
    pyi_walker_destroy(&r->walker);
    pyi_thread_table_destroy(&r->threads);
    pyi_mem_close(&r->mem);
    free(r->locations);
    free(r->path);
    free(r->summary_label);
    free(r->report_command);
    close(r->wake_fd);
    sem_destroy(&r->finished);
    pthread_mutex_destroy(&r->stats_lock);
    free(r);
}

void pyi_recorder_abandon(pyi_recorder *r)
{
    if (r == NULL)
        return;
    /* The threads are the parent's: no join, no close. The writer's file
     * descriptor stays open in this child until it exits or execs (it is
     * O_CLOEXEC); the memory is released. */
    pyi_writer_abandon(r->writer);
    pyi_resolver_destroy(&r->resolver);
    pyi_walker_destroy(&r->walker);
    free(r->threads.slots); /* its mutex may be held by a thread that is gone */
    pyi_mem_close(&r->mem);
    free(r->locations);
    free(r->path);
    free(r->summary_label);
    free(r->report_command);
    close(r->wake_fd);
    free(r);
}

int pyi_recorder_name_thread(pyi_recorder *r, uint64_t thread_id, uint64_t native_id,
                             const char *name)
{
    if (r == NULL || name == NULL || r->threads.slots == NULL)
        return PYI_E_INVALID_ARG;
    return pyi_thread_table_name(&r->threads, thread_id, native_id, name);
}

int pyi_recorder_thread_count(const pyi_recorder *r)
{
    return r != NULL && r->thread_started ? 2 : 0; /* the sampler, and the writer's thread */
}

void pyi_recorder_get_stats(const pyi_recorder *r, pyi_recorder_stats *stats)
{
    pyi_recorder *m = (pyi_recorder *)r; /* the lock is not part of the value */
    pthread_mutex_lock(&m->stats_lock);
    *stats = r->stats;
    pthread_mutex_unlock(&m->stats_lock);
}

const char *pyi_recorder_error_detail(const pyi_recorder *r)
{
    return r ? r->detail : "out of memory";
}

int pyi_recorder_check_target(const pyi_target *target, uint64_t tstate_address,
                              uint64_t expected_code, char *msg, size_t msg_size)
{
    pyi_mem_reader mem;
    pyi_py_layout layout;
    int rc = pyi_mem_open(&mem, (int)target->pid, PYI_MEMORY_AUTO, msg, msg_size);
    if (rc != 0)
        return PYI_E_UNSUPPORTED;
    rc = layout_select(&mem, target, &layout, msg, msg_size);
    probe p = {tstate_address, expected_code, 0, 0, 0, 0};
    if (rc == 0)
        rc = target_probe(&mem, &layout, target, &p, msg, msg_size);
    if (rc == 0 && (!p.found || p.seen_code != expected_code)) {
        fail_message(msg, msg_size,
                     "layout check failed on CPython 3.%u (%s): the calling thread was %s, "
                     "innermost code 0x%llx instead of 0x%llx",
                     layout.minor, layout.source, p.found ? "found" : "not found",
                     (unsigned long long)p.seen_code, (unsigned long long)expected_code);
        rc = PYI_E_STATE;
    }
    pyi_mem_close(&mem);
    return rc;
}

int pyi_recorder_verify_layout(const pyi_target *target, char *source, size_t source_size,
                               char *msg, size_t msg_size)
{
    pyi_mem_reader mem;
    pyi_py_layout layout, table;
    int rc = pyi_mem_open(&mem, (int)target->pid, PYI_MEMORY_AUTO, msg, msg_size);
    if (rc != 0)
        return PYI_E_UNSUPPORTED;
    rc = layout_select(&mem, target, &layout, msg, msg_size);
    pyi_mem_close(&mem);
    if (rc != 0)
        return rc;
    snprintf(source, source_size, "%s", layout.source);
    if (msg_size > 0)
        msg[0] = '\0';
    if (pyi_py_layout_from_table(layout.minor, &table) != 0)
        return 0;
    return pyi_py_layout_compare(&layout, &table, msg, msg_size);
}
