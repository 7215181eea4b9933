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
    h.pid = h.pid ? h.pid : r->root->mem.pid;
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
        pyi__fail_message(r->detail, sizeof r->detail, "cannot write %s: %s", r->path,
                     strerror(errno));
        return PYI_E_IO;
    }
    int rc = pyi_writer_open_fd(&r->writer, pyi_fd_move_high(fd), 1, r->path, &h, &wo);
    if (rc != 0)
        pyi__fail_message(r->detail, sizeof r->detail, "cannot write %s: %s", r->path,
                     r->writer ? pyi_writer_error_detail(r->writer) : pyi_strerror(rc));
    return rc;
}

/* Builds the root engine (process 1) and the scratch the sampler needs. */
static int engine_open(pyi_recorder *r)
{
    int rc = pyi_engine_open(&r->root, &r->target, &r->options, 1, r->detail, sizeof r->detail);
    if (rc != 0)
        return rc;
    r->engines = r->root;
    r->locations = calloc(r->options.max_depth + 2, sizeof *r->locations);
    if (r->options.on_sample != NULL)
        r->hook_frames = calloc(r->options.max_depth + 2, sizeof *r->hook_frames);
    if (r->locations == NULL || (r->options.on_sample != NULL && r->hook_frames == NULL)) {
        pyi__fail_message(r->detail, sizeof r->detail, "out of memory");
        return PYI_E_NOMEM;
    }
    return 0;
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
        pyi_engine_bind(r->root, r->writer, r->options.on_sample ? &r->catalog : NULL);
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
            pyi__fail_message(r->detail, sizeof r->detail, "cannot start the sampler thread: %s",
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
    pthread_mutex_init(&r->engines_lock, NULL);
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

/* The summary line (and a second one when recording stopped early). */
static int summary_format(const pyi_recorder *r, char *line, size_t size)
{
    const pyi_recorder_stats *s = &r->live;
    const char *label = r->summary_label ? r->summary_label : "pyinst";
    char quoted[1024], processes[48] = "";
    shell_quote(r->path, quoted, sizeof quoted);
    if (s->processes > 1)
        snprintf(processes, sizeof processes, " %llu processes,",
                 (unsigned long long)s->processes);
    int n = snprintf(line, size,
                     "%s: %.2f s,%s %llu samples, %llu lost, %llu KiB in %s; report: %s %s\n",
                     label, (double)s->duration_ns / 1e9, processes,
                     (unsigned long long)s->samples,
                     (unsigned long long)(s->invalid + s->missed + s->dropped),
                     (unsigned long long)(s->file_bytes + 1023) / 1024, r->path,
                     r->report_command ? r->report_command : "pyinst-report", quoted);
    if (r->error != 0 && n > 0 && (size_t)n < size)
        n += snprintf(line + n, size - (size_t)n, "%s: recording stopped early: %s\n", label,
                      r->detail);
    return n <= 0 ? 0 : (size_t)n < size ? n : (int)size - 1;
}

static void summary_write(const pyi_recorder *r, int fd)
{
    char line[2560];
    int n = summary_format(r, line, sizeof line);
    if (n > 0) {
        ssize_t w = write(fd, line, (size_t)n);
        (void)w; /* nobody left to tell */
    }
}

void pyi__recorder_write_summary(pyi_recorder *r)
{
    if (r->options.summary_fd < 0 || atomic_exchange(&r->summary_written, 1))
        return;
    summary_write(r, r->options.summary_fd);
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
        pyi__fail_message(r->detail, sizeof r->detail, "no trace file name given");
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
    for (pyi_engine *e = r->engines, *next; e != NULL; e = next) {
        next = e->next;
        pyi_engine_free(e);
    }
    for (pyi_engine *e = r->pending, *next; e != NULL; e = next) {
        next = e->next;
        pyi_engine_free(e);
    }
    pyi_catalog_destroy(&r->catalog);
    free(r->hook_frames);
    free(r->locations);
    free(r->path);
    free(r->summary_label);
    free(r->report_command);
    close(r->wake_fd);
    sem_destroy(&r->finished);
    pthread_mutex_destroy(&r->stats_lock);
    pthread_mutex_destroy(&r->engines_lock);
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
    pyi_engine *e = r->root;
    if (e != NULL) {
        /* In-process: the root is the only engine. Its thread table's mutex
         * may be held by a thread that is gone: free around it. */
        pyi_resolver_destroy(&e->resolver);
        pyi_walker_destroy(&e->walker);
        free(e->threads.slots);
        free(e->threads.tid_map);
        pyi_mem_close(&e->mem);
        free(e);
    }
    pyi_catalog_destroy(&r->catalog);
    free(r->hook_frames);
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
    if (r == NULL || name == NULL || r->root == NULL)
        return PYI_E_INVALID_ARG;
    return pyi_thread_table_name(&r->root->threads, thread_id, native_id, name);
}

/* Copies the caller's metadata for the engine's PROCESS record. */
static int meta_copy(pyi_engine *e, const pyi_meta_entry *meta, size_t count)
{
    e->meta = calloc(count ? count : 1, sizeof *e->meta);
    if (e->meta == NULL)
        return PYI_E_NOMEM;
    for (size_t i = 0; i < count; i++) {
        pyi_meta_entry *m = &e->meta[e->meta_count++];
        m->key = strdup(meta[i].key);
        m->value = meta[i].value;
        if (meta[i].value.kind == PYI_VALUE_STRING || meta[i].value.kind == PYI_VALUE_RAW) {
            char *bytes = malloc(meta[i].value.length + 1);
            if (bytes != NULL) {
                memcpy(bytes, meta[i].value.s, meta[i].value.length);
                bytes[meta[i].value.length] = '\0';
            }
            m->value.s = bytes;
            if (bytes == NULL)
                return PYI_E_NOMEM;
        }
        if (m->key == NULL)
            return PYI_E_NOMEM;
    }
    return 0;
}

int pyi_recorder_add_process(pyi_recorder *r, const pyi_target *target, int64_t parent_pid,
                             const pyi_meta_entry *meta, size_t meta_count, char *msg,
                             size_t msg_size)
{
    if (r == NULL || target == NULL || !r->thread_started || pyi_recorder_finished(r)) {
        snprintf(msg, msg_size, "not recording");
        return PYI_E_STATE;
    }
    pyi_engine *e;
    int rc = pyi_engine_open(&e, target, &r->options, 0, msg, msg_size);
    if (rc != 0)
        return rc;
    e->parent_pid = parent_pid;
    if (meta_copy(e, meta, meta_count) != 0) {
        pyi_engine_free(e);
        snprintf(msg, msg_size, "out of memory");
        return PYI_E_NOMEM;
    }
    pyi_engine_bind(e, r->writer, r->options.on_sample ? &r->catalog : NULL);
    pthread_mutex_lock(&r->engines_lock);
    e->next = r->pending;
    r->pending = e;
    pthread_mutex_unlock(&r->engines_lock);
    return 0;
}

int pyi_recorder_has_process(pyi_recorder *r, int64_t pid)
{
    int found = 0;
    pthread_mutex_lock(&r->engines_lock);
    for (const pyi_engine *e = r->engines; e != NULL && !found; e = e->next)
        found = !e->gone && e->mem.pid == pid;
    for (const pyi_engine *e = r->pending; e != NULL && !found; e = e->next)
        found = e->mem.pid == pid;
    pthread_mutex_unlock(&r->engines_lock);
    return found;
}

int pyi_recorder_finished(const pyi_recorder *r)
{
    return r != NULL && atomic_load(&((pyi_recorder *)r)->state) == PYI_STATE_FINISHED;
}

void pyi_recorder_print_summary(const pyi_recorder *r, int fd)
{
    if (r != NULL && !r->thread_started && pyi_recorder_finished(r))
        summary_write(r, fd);
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
    rc = pyi__layout_select(&mem, target, &layout, msg, msg_size);
    pyi_probe p = {0};
    p.tstate = tstate_address;
    p.code = expected_code;
    if (rc == 0)
        rc = pyi__target_probe(&mem, &layout, target, &p, msg, msg_size);
    if (rc == 0 && (!p.found || p.seen_code != expected_code)) {
        pyi__fail_message(msg, msg_size,
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
    rc = pyi__layout_select(&mem, target, &layout, msg, msg_size);
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
