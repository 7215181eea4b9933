/* SPDX-License-Identifier: MIT */
/*
 * Streams one trace into the model through the reader's pull iterator: maps
 * the trace's ids to model ids (functions merge across traces), applies the
 * load filters, and adds every kept sample to its (thread, stack) aggregate,
 * its thread's totals and its thread's timeline. Memory grows with distinct
 * definitions and stacks, never with samples.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model_internal.h"
#include "pyi/trace.h"

#define PROGRESS_EVERY 65536u

/* Per trace id: what it became in the model. */
typedef struct stack_map_entry {
    uint32_t stack;       /* model stack after exclusion and focus; 0 = none */
    uint32_t has_focus;   /* the stack passes through the focus function */
    uint32_t last_thread; /* cache: the aggregate last used with this stack */
    uint32_t last_aggregate;
} stack_map_entry;

typedef struct load_state {
    pyi_model *m;
    pyi_reader *r;
    pyi__source *source;
    uint32_t source_id;
    const char *root;
    uint64_t start_mono_ns;
    uint64_t first_width_ns;
    uint64_t file_size;
    uint32_t *functions; /* trace function id -> model function id */
    size_t function_capacity;
    uint32_t *locations; /* trace location id -> model location id */
    size_t location_capacity;
    stack_map_entry *stacks;
    size_t stack_capacity;
    uint32_t *threads; /* trace thread id -> model thread id */
    size_t thread_capacity;
    uint8_t *thread_keep;
    size_t keep_capacity;
    uint64_t samples_since_progress;
} load_state;

/* ---- Definitions -------------------------------------------------------------- */

static int map_function(load_state *st, const pyi_function *fn)
{
    size_t name_length = 0, path_length = 0;
    const char *name = pyi_reader_string(st->r, fn->name_id, &name_length);
    const char *path = fn->file_id ? pyi_reader_string(st->r, fn->file_id, &path_length) : "";
    if (!name)
        name = "";
    if (!path)
        path = "";
    uint32_t id = pyi__model_intern_function(st->m, name, name_length, path, path_length,
                                             fn->first_line, fn->kind, st->root);
    if (!id || pyi__array_grow((void **)&st->functions, &st->function_capacity, fn->id + 1,
                         sizeof(*st->functions)))
        return PYI_E_NOMEM;
    st->functions[fn->id] = id;
    return 0;
}

static int map_location(load_state *st, const pyi_location *loc)
{
    uint32_t function = loc->function_id < st->function_capacity
                            ? st->functions[loc->function_id] : 0;
    if (!function)
        return pyi__model_fail(st->m, PYI_E_CORRUPT, "%s: location %u has no function",
                               st->source->pub.path, loc->id);
    uint32_t id = pyi__model_intern_location(st->m, function, loc->line);
    if (!id || pyi__array_grow((void **)&st->locations, &st->location_capacity, loc->id + 1,
                         sizeof(*st->locations)))
        return PYI_E_NOMEM;
    st->locations[loc->id] = id;
    return 0;
}

/* Exclusion removes a frame (its time goes to the caller); focus keeps only
 * stacks through a matching function, re-rooted at its outermost call. */
static int map_stack(load_state *st, const pyi_stack *s)
{
    pyi_model *m = st->m;
    uint32_t location = s->location_id < st->location_capacity ? st->locations[s->location_id]
                                                               : 0;
    if (!location)
        return pyi__model_fail(m, PYI_E_CORRUPT, "%s: stack %u has no location",
                               st->source->pub.path, s->id);
    if (pyi__array_grow((void **)&st->stacks, &st->stack_capacity, s->id + 1, sizeof(*st->stacks)))
        return PYI_E_NOMEM;
    stack_map_entry parent = {0, 0, 0, 0};
    if (s->parent_id && s->parent_id < st->stack_capacity)
        parent = st->stacks[s->parent_id];
    uint32_t function = m->locations[location - 1].function;
    uint32_t matches = m->function_matches[function - 1];
    stack_map_entry *e = &st->stacks[s->id];
    if (matches & PYI__MATCH_EXCLUDED) {
        e->stack = parent.stack;
        e->has_focus = parent.has_focus;
        return 0;
    }
    if (m->has_focus && !parent.has_focus) {
        e->has_focus = (matches & PYI__MATCH_FOCUS) != 0;
        e->stack = e->has_focus ? pyi__model_intern_stack(m, 0, location) : 0;
        return e->has_focus && !e->stack ? PYI_E_NOMEM : 0;
    }
    e->has_focus = parent.has_focus;
    e->stack = pyi__model_intern_stack(m, parent.stack, location);
    return e->stack ? 0 : PYI_E_NOMEM;
}

static int thread_matches_filter(const pyi_model *m, const pyi_model_thread *t)
{
    if (!m->thread_filter_count)
        return 1;
    char id[32], native[32], pid_tid[64];
    snprintf(id, sizeof(id), "%" PRIu32, t->id);
    snprintf(native, sizeof(native), "%" PRIu64, t->native_id);
    snprintf(pid_tid, sizeof(pid_tid), "%" PRId64 ":%" PRIu64, t->pid, t->native_id);
    for (size_t i = 0; i < m->thread_filter_count; i++) {
        const char *f = m->thread_filters[i];
        if (!strcmp(f, t->name) || !strcmp(f, id) || (t->native_id && !strcmp(f, native)) ||
            !strcmp(f, pid_tid))
            return 1;
    }
    return 0;
}

static int64_t process_pid(load_state *st, uint32_t process_id)
{
    if (process_id <= 1)
        return pyi_reader_header(st->r)->pid;
    const pyi_process *p = pyi_reader_process(st->r, process_id);
    return p ? p->pid : 0;
}

static int map_thread(load_state *st, const pyi_thread *th)
{
    pyi_model *m = st->m;
    if (pyi__array_grow((void **)&st->threads, &st->thread_capacity, th->id + 1,
                  sizeof(*st->threads)) ||
        pyi__array_grow((void **)&st->thread_keep, &st->keep_capacity, th->id + 1, 1))
        return PYI_E_NOMEM;
    uint32_t id = st->threads[th->id];
    if (!id) {
        size_t cap = m->thread_capacity, cap2 = m->thread_capacity;
        if (pyi__array_grow((void **)&m->threads, &m->thread_capacity, m->thread_count + 1,
                      sizeof(*m->threads)) ||
            pyi__array_grow((void **)&m->thread_names, &cap, m->thread_count + 1, sizeof(char *)) ||
            pyi__array_grow((void **)&m->timelines, &cap2, m->thread_count + 1,
                      sizeof(*m->timelines)))
            return PYI_E_NOMEM;
        id = (uint32_t)++m->thread_count;
        st->threads[th->id] = id;
        pyi_model_thread *t = &m->threads[id - 1];
        t->id = id;
        t->source = st->source_id;
        t->native_id = th->native_id;
        t->pid = process_pid(st, th->process_id);
        t->name = "";
    }
    pyi_model_thread *t = &m->threads[id - 1];
    t->is_main |= (th->flags & PYI_THREAD_MAIN) != 0;
    size_t length = 0;
    const char *name = th->name_id ? pyi_reader_string(st->r, th->name_id, &length) : NULL;
    if (name) {
        char *copy = malloc(length + 1);
        if (!copy)
            return PYI_E_NOMEM;
        memcpy(copy, name, length);
        copy[length] = '\0';
        free(m->thread_names[id - 1]);
        m->thread_names[id - 1] = copy;
        t->name = copy;
    }
    st->thread_keep[th->id] |= (uint8_t)thread_matches_filter(m, t);
    return 0;
}

/* ---- Samples -------------------------------------------------------------------- */

static int state_passes(const pyi_model *m, uint32_t status)
{
    switch (m->options.filter.state) {
    case PYI_STATE_ON_CPU:
        return (status & PYI_STATUS_ON_CPU) != 0;
    case PYI_STATE_WAITING:
        return (status & PYI_STATUS_ON_CPU) == 0;
    case PYI_STATE_ALL:
    default:
        return 1;
    }
}

static uint32_t aggregate_for(load_state *st, uint32_t thread, const pyi_sample *s,
                              uint32_t stack, uint64_t time)
{
    if (s->stack_id && s->stack_id < st->stack_capacity) {
        stack_map_entry *e = &st->stacks[s->stack_id];
        if (e->last_aggregate && e->last_thread == thread)
            return e->last_aggregate;
        uint32_t index = pyi__model_aggregate(st->m, thread, stack, time);
        e->last_thread = thread;
        e->last_aggregate = index;
        return index;
    }
    return pyi__model_aggregate(st->m, thread, stack, time);
}

static int add_sample(load_state *st, const pyi_sample *s)
{
    pyi_model *m = st->m;
    pyi_model_source *src = &st->source->pub;
    src->samples_read++;
    if (s->cpu_ns != PYI_CPU_UNKNOWN)
        src->cpu_ns += s->cpu_ns;
    uint64_t time = s->time_ns > st->start_mono_ns ? s->time_ns - st->start_mono_ns : 0;
    if (time > src->duration_ns)
        src->duration_ns = time;
    const pyi_filter *f = &m->options.filter;
    if (time < f->time_from_ns || (f->time_to_ns && time >= f->time_to_ns))
        return 0;
    if (s->thread_id >= st->thread_capacity || !st->threads[s->thread_id])
        return pyi__model_fail(m, PYI_E_CORRUPT, "%s: sample of undefined thread %u",
                               src->path, s->thread_id);
    if (!st->thread_keep[s->thread_id] || !state_passes(m, s->status))
        return 0;
    uint32_t stack = 0;
    if (s->stack_id) {
        if (s->stack_id >= st->stack_capacity)
            return pyi__model_fail(m, PYI_E_CORRUPT, "%s: sample of undefined stack %u",
                                   src->path, s->stack_id);
        const stack_map_entry *e = &st->stacks[s->stack_id];
        if (m->has_focus && !e->has_focus)
            return 0;
        stack = e->stack;
    } else if (m->has_focus) {
        return 0;
    }
    uint32_t thread = st->threads[s->thread_id];
    time += src->offset_ns;
    uint32_t index = aggregate_for(st, thread, s, stack, time);
    if (!index)
        return PYI_E_NOMEM;
    int on_cpu = (s->status & PYI_STATUS_ON_CPU) != 0;
    pyi_metrics one = {1, (uint64_t)on_cpu, s->weight_ns, on_cpu ? s->weight_ns : 0,
                       s->cpu_ns != PYI_CPU_UNKNOWN ? s->cpu_ns : 0};
    pyi_metrics_add(&m->aggregates[index - 1].totals, &one);
    pyi_model_thread *t = &m->threads[thread - 1];
    if (!t->totals.samples || time < t->first_ns)
        t->first_ns = time;
    if (time > t->last_ns)
        t->last_ns = time;
    pyi_metrics_add(&t->totals, &one);
    if (m->sample_hook) {
        int rc = m->sample_hook(m->sample_hook_ctx, thread, stack, &one);
        if (rc)
            return pyi__model_fail(m, rc, "%s: %s", src->path, pyi_strerror(rc));
    }
    return pyi__timeline_add(&m->timelines[thread - 1], m->options.timeline_buckets,
                             st->first_width_ns, time, stack, &one)
               ? PYI_E_NOMEM : 0;
}

static int report_progress(load_state *st)
{
    pyi_model *m = st->m;
    if (!m->options.progress)
        return 0;
    const pyi_reader_stats *rs = pyi_reader_get_stats(st->r);
    if (m->options.progress(m->options.progress_ctx, st->source_id - 1, m->progress_file_count,
                            rs->file_bytes, st->file_size))
        return pyi__model_fail(m, PYI_E_STATE, "%s: loading cancelled", st->source->pub.path);
    return 0;
}

static int handle_record(load_state *st, const pyi_record *rec)
{
    switch (rec->type) {
    case PYI_RECORD_FUNCTION:
        return map_function(st, &rec->u.function);
    case PYI_RECORD_LOCATION:
        return map_location(st, &rec->u.location);
    case PYI_RECORD_STACK:
        return map_stack(st, &rec->u.stack);
    case PYI_RECORD_THREAD:
        return map_thread(st, &rec->u.thread);
    case PYI_RECORD_SAMPLE:
        if (++st->samples_since_progress >= PROGRESS_EVERY) {
            st->samples_since_progress = 0;
            int rc = report_progress(st);
            if (rc)
                return rc;
        }
        return add_sample(st, &rec->u.sample);
    case PYI_RECORD_LOST:
        st->source->pub.lost_samples += rec->u.lost.count;
        st->source->pub.lost_ns += rec->u.lost.weight_ns;
        return 0;
    default:
        return 0;
    }
}

/* ---- Source metadata --------------------------------------------------------------- */

static const char *keep_string(pyi__source *s, size_t slot, const char *text)
{
    s->strings[slot] = strdup(text ? text : "");
    return s->strings[slot] ? s->strings[slot] : "";
}

static const char *join_argv(pyi__source *s, size_t slot, const pyi_header *h)
{
    size_t n = 1;
    for (size_t i = 0; i < h->argc; i++)
        n += strlen(h->argv[i]) + 1;
    char *out = malloc(n);
    if (!out)
        return "";
    out[0] = '\0';
    for (size_t i = 0; i < h->argc; i++) {
        if (i)
            strcat(out, " ");
        strcat(out, h->argv[i]);
    }
    s->strings[slot] = out;
    return out;
}

static void fill_source(pyi__source *s, const char *path, const pyi_header *h)
{
    pyi_model_source *p = &s->pub;
    p->path = keep_string(s, 0, path);
    p->recorder = keep_string(s, 1, h->recorder);
    p->mode = keep_string(s, 2, h->mode);
    p->program = join_argv(s, 3, h);
    p->hostname = keep_string(s, 4, h->hostname);
    p->python = keep_string(s, 5, h->python);
    p->platform = keep_string(s, 6, h->platform);
    p->cwd = keep_string(s, 7, h->cwd);
    p->pid = h->pid;
    p->major = h->major;
    p->minor = h->minor;
    p->interval_ns = h->interval_ns;
    p->start_wall_ns = h->start_wall_ns;
    p->offset_ns = 0; /* sources are overlaid, each at its own start */
    p->warning = s->warning;
}

static void finish_source(load_state *st)
{
    pyi_model_source *p = &st->source->pub;
    const pyi_reader_stats *rs = pyi_reader_get_stats(st->r);
    p->truncated = rs->truncated;
    p->closed_cleanly = rs->has_end;
    p->chunks_damaged = rs->chunks_damaged;
    char *w = st->source->warning;
    size_t size = sizeof(st->source->warning);
    if (rs->truncated)
        snprintf(w, size, "%s: truncated: loaded what was intact (%" PRIu64 " chunk%s, %" PRIu64
                 " samples); the last %" PRIu64 " bytes were cut off",
                 p->path, rs->chunks, rs->chunks == 1 ? "" : "s", rs->samples,
                 rs->bytes_skipped);
    else if (rs->chunks_damaged)
        snprintf(w, size, "%s: %" PRIu64 " damaged chunk%s skipped (%" PRIu64 " bytes)",
                 p->path, rs->chunks_damaged, rs->chunks_damaged == 1 ? "" : "s",
                 rs->bytes_skipped);
    else if (!rs->has_end)
        snprintf(w, size, "%s: not closed cleanly: the recorder did not finish this file",
                 p->path);
}

static int add_source(pyi_model *m, const char *name, const pyi_header *h, pyi__source **out)
{
    if (pyi__array_grow((void **)&m->sources, &m->source_capacity, m->source_count + 1,
                  sizeof(*m->sources)))
        return PYI_E_NOMEM;
    pyi__source *s = calloc(1, sizeof(*s));
    if (!s)
        return PYI_E_NOMEM;
    fill_source(s, name, h);
    m->sources[m->source_count++] = s;
    s->pub.id = (uint32_t)m->source_count;
    if (!m->info.start_wall_ns || (h->start_wall_ns && h->start_wall_ns < m->info.start_wall_ns))
        m->info.start_wall_ns = h->start_wall_ns;
    if (!m->info.interval_ns || (h->interval_ns && h->interval_ns < m->info.interval_ns))
        m->info.interval_ns = h->interval_ns;
    m->info.has_status |= (h->status_known & PYI_STATUS_ON_CPU) != 0;
    *out = s;
    return 0;
}

int pyi__model_load(pyi_model *m, pyi_reader *r, const char *name)
{
    const pyi_header *h = pyi_reader_header(r);
    load_state st;
    memset(&st, 0, sizeof(st));
    st.m = m;
    st.r = r;
    st.start_mono_ns = h->start_mono_ns;
    st.first_width_ns = h->interval_ns >= 1000 ? h->interval_ns : 1000000;
    st.root = m->project_root ? m->project_root : h->cwd;
    struct stat sb;
    if (stat(name, &sb) == 0 && S_ISREG(sb.st_mode))
        st.file_size = (uint64_t)sb.st_size;
    m->detail[0] = '\0';
    int rc = add_source(m, name, h, &st.source);
    if (rc)
        return pyi__model_fail(m, rc, "%s: out of memory", name);
    st.source_id = st.source->pub.id;
    pyi_record rec;
    while ((rc = pyi_reader_next(r, &rec)) == 1) {
        rc = handle_record(&st, &rec);
        if (rc)
            break;
    }
    if (rc < 0 && !m->detail[0]) {
        if (rc == PYI_E_NOMEM)
            pyi__model_fail(m, rc, "%s: out of memory", name);
        else
            pyi__model_fail(m, rc, "%s", pyi_reader_error_detail(r));
    }
    if (rc == 0) {
        finish_source(&st);
        m->info.samples_read += st.source->pub.samples_read;
        m->info.lost_samples += st.source->pub.lost_samples;
        rc = report_progress(&st);
    }
    free(st.functions);
    free(st.locations);
    free(st.stacks);
    free(st.threads);
    free(st.thread_keep);
    return rc;
}

/* ---- Public entry points ------------------------------------------------------------ */

static int load_opened(pyi_model *m, pyi_reader *r, int rc, const char *name)
{
    if (rc == PYI_OK)
        rc = pyi__model_load(m, r, name);
    else if (rc == PYI_E_NOMEM || !r)
        pyi__model_fail(m, PYI_E_NOMEM, "%s: out of memory", name);
    else
        pyi__model_fail(m, rc, "%s", pyi_reader_error_detail(r));
    pyi_reader_free(r);
    return rc;
}

int pyi_model_add_file(pyi_model *m, const char *path)
{
    if (m->finished)
        return pyi__model_fail(m, PYI_E_STATE, "%s: the model is already finished", path);
    pyi_reader_options options;
    pyi_reader_options_init(&options);
    options.salvage = m->options.salvage;
    pyi_reader *r = NULL;
    int rc = strcmp(path, "-") ? pyi_reader_open(&r, path, &options)
                               : pyi_reader_open_fd(&r, 0, "<stdin>", &options);
    return load_opened(m, r, rc, strcmp(path, "-") ? path : "<stdin>");
}

int pyi_model_add_memory(pyi_model *m, const void *data, size_t size, const char *name)
{
    if (m->finished)
        return pyi__model_fail(m, PYI_E_STATE, "%s: the model is already finished", name);
    pyi_reader_options options;
    pyi_reader_options_init(&options);
    options.salvage = m->options.salvage;
    pyi_reader *r = NULL;
    int rc = pyi_reader_open_memory(&r, data, size, name, &options);
    return load_opened(m, r, rc, name);
}
