/* SPDX-License-Identifier: MIT */
/*
 * The trace writer's front half: opening, interning, and encoding records
 * into the open chunk on the caller's thread. Closed chunks go to the sink
 * (writer_sink.c), which compresses and writes them.
 */
#define _POSIX_C_SOURCE 200809L
#include "writer_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* ---- Internal ---- */

#define MAX_STRING_BYTES (16u << 20)

int pyi__writer_fail(pyi_writer *w, int error, const char *fmt, ...)
{
    if (w->error)
        return w->error; /* keep the first: later ones are consequences */
    w->error = error;
    int n = snprintf(w->detail, sizeof(w->detail), "%s: ", w->name ? w->name : "trace");
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(w->detail))
        vsnprintf(w->detail + n, sizeof(w->detail) - (size_t)n, fmt, ap);
    va_end(ap);
    return error;
}

/* An argument error does not poison the writer: nothing was written. */
static int reject(pyi_writer *w, const char *fmt, ...)
{
    int n = snprintf(w->detail, sizeof(w->detail), "%s: ", w->name ? w->name : "trace");
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(w->detail))
        vsnprintf(w->detail + n, sizeof(w->detail) - (size_t)n, fmt, ap);
    va_end(ap);
    return PYI_E_INVALID_ARG;
}

/* Nanoseconds whose microseconds a file can hold (spec §1). */
static int time_in_range(uint64_t ns)
{
    return ns <= PYI_MAX_TIME_US * 1000;
}

static uint64_t coarse_ms(void)
{
    struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Checks the sticky errors of both halves before any new work. */
static int writer_check(pyi_writer *w)
{
    if (w->error)
        return w->error;
    int sink_error = atomic_load(&w->sink.error);
    if (sink_error) {
        pthread_mutex_lock(&w->sink.lock);
        pyi__writer_fail(w, sink_error, "%s", w->sink.detail);
        pthread_mutex_unlock(&w->sink.lock);
        return w->error;
    }
    if (w->closed)
        return PYI_E_STATE;
    return PYI_OK;
}

/* Starts a chunk in w->chunk with its CHUNK_BEGIN record. */
static int chunk_begin(pyi_writer *w)
{
    pyi_chunk *c = w->chunk;
    c->records.size = 0;
    c->record_count = 1;
    c->samples = 0;
    c->first_time_us = c->last_time_us = 0;
    c->sequence = w->next_sequence++;
    w->chunk_base_us = w->last_time_us;
    w->chunk_opened_ms = coarse_ms();
    w->packer.data = &c->records;
    msgpack_packer *pk = &w->packer;
    if (msgpack_pack_array(pk, 3) || msgpack_pack_uint8(pk, PYI_RECORD_CHUNK) ||
        msgpack_pack_uint64(pk, c->sequence) || msgpack_pack_uint64(pk, w->chunk_base_us))
        return pyi__writer_fail(w, PYI_E_NOMEM, "out of memory starting a chunk");
    return PYI_OK;
}

/* Closes the open chunk (if it holds more than CHUNK_BEGIN) and opens the next. */
static int chunk_close(pyi_writer *w)
{
    if (w->chunk->record_count <= 1)
        return PYI_OK;
    pyi_chunk *next;
    int rc = pyi__sink_submit(w, w->chunk, &next);
    if (rc)
        return writer_check(w) ? w->error : pyi__writer_fail(w, rc, "cannot queue a chunk");
    w->chunk = next;
    return chunk_begin(w);
}

/* Every record goes through here: packs it, or rolls the chunk back. */
typedef int (*record_packer)(pyi_writer *w, const void *arg);

/* sample_us: the time of a SAMPLE record, counted in its chunk's index entry. */
static int append_timed_record(pyi_writer *w, record_packer pack, const void *arg,
                               const uint64_t *sample_us)
{
    pyi_chunk *c = w->chunk;
    size_t mark = c->records.size;
    if (pack(w, arg)) {
        c->records.size = mark; /* a half record would corrupt the chunk */
        return pyi__writer_fail(w, PYI_E_NOMEM, "out of memory encoding a record");
    }
    if (sample_us) {
        if (!c->samples || *sample_us < c->first_time_us)
            c->first_time_us = *sample_us;
        if (*sample_us > c->last_time_us)
            c->last_time_us = *sample_us;
        c->samples++;
    }
    size_t added = c->records.size - mark;
    c->record_count++;
    w->stats.records++;
    w->stats.record_bytes += added;
    if (w->chunk->records.size >= w->options.chunk_bytes ||
        coarse_ms() - w->chunk_opened_ms >= w->options.chunk_age_ms)
        return chunk_close(w);
    return PYI_OK;
}

static int append_record(pyi_writer *w, record_packer pack, const void *arg)
{
    return append_timed_record(w, pack, arg, NULL);
}

static int pack_type(msgpack_packer *pk, size_t fields, pyi_record_type type)
{
    return msgpack_pack_array(pk, fields + 1) || msgpack_pack_uint8(pk, (uint8_t)type);
}

/* ---- Options and open ---- */

void pyi_writer_options_init(pyi_writer_options *options)
{
    memset(options, 0, sizeof(*options));
}

static int options_resolve(pyi_writer *w, const pyi_writer_options *given)
{
    pyi_writer_options o;
    if (given)
        o = *given;
    else
        pyi_writer_options_init(&o);
    if (!o.chunk_bytes)
        o.chunk_bytes = 256u << 10;
    if (!o.chunk_age_ms)
        o.chunk_age_ms = 1000;
    if (!o.compression_level)
        o.compression_level = 3;
    if (!o.queue_chunks)
        o.queue_chunks = 4;
    if (o.chunk_bytes < (4u << 10) || o.chunk_bytes > (16u << 20))
        return reject(w, "chunk_bytes %u is outside 4 KiB..16 MiB", o.chunk_bytes);
    if (o.queue_chunks > 64)
        return reject(w, "queue_chunks %u is over 64", o.queue_chunks);
    if (o.compression_level < ZSTD_minCLevel() || o.compression_level > ZSTD_maxCLevel())
        return reject(w, "compression level %d is not a zstd level", o.compression_level);
    w->options = o;
    return PYI_OK;
}

static int header_check(pyi_writer *w, const pyi_header *h)
{
    if (!h)
        return reject(w, "no header given");
    if (!h->recorder || !h->mode || !h->clock)
        return reject(w, "the header needs recorder, mode and clock");
    for (size_t i = 0; i < h->argc; i++)
        if (!h->argv[i])
            return reject(w, "argv[%zu] is NULL", i);
    return PYI_OK;
}

static pyi_writer *writer_new(const char *name, const pyi_writer_options *options)
{
    const pyi_allocator *a = options ? options->allocator : NULL;
    pyi_writer *w = pyi__malloc(a, sizeof(*w));
    if (!w)
        return NULL;
    memset(w, 0, sizeof(*w));
    w->allocator = a;
    w->name = pyi__strdup(a, name ? name : "trace", strlen(name ? name : "trace"));
    w->process_count = 1;
    w->sink.fd = -1;
    pthread_mutex_init(&w->sink.lock, NULL);
    pthread_cond_init(&w->sink.work_ready, NULL);
    pthread_cond_init(&w->sink.work_done, NULL);
    pyi__intern_init(&w->strings, a);
    pyi__intern_init(&w->functions, a);
    pyi__intern_init(&w->locations, a);
    pyi__intern_init(&w->stacks, a);
    msgpack_packer_init(&w->packer, NULL, pyi__pack_buffer_write);
    return w;
}

static int writer_start(pyi_writer *w, int fd, int close_fd, const pyi_header *header)
{
    int rc = pyi__sink_init(w, fd, close_fd);
    if (rc)
        return rc;
    w->last_time_us = header->start_mono_ns / 1000;
    pyi_buffer frame;
    pyi__buffer_init(&frame, w->allocator);
    rc = pyi__header_encode(header, w->allocator, &frame);
    if (rc == PYI_OK)
        rc = pyi__sink_write_raw(w, frame.data, frame.size);
    else
        rc = pyi__writer_fail(w, rc, "cannot encode the header (%s)", pyi_strerror(rc));
    pyi__buffer_destroy(&frame);
    if (rc)
        return rc;
    w->chunk = pyi__malloc(w->allocator, sizeof(*w->chunk));
    if (!w->chunk)
        return pyi__writer_fail(w, PYI_E_NOMEM, "out of memory");
    memset(w->chunk, 0, sizeof(*w->chunk));
    pyi__buffer_init(&w->chunk->records, w->allocator);
    w->sink.chunks_allocated = 1;
    return chunk_begin(w);
}

int pyi_writer_open_fd(pyi_writer **out, int fd, int close_fd, const char *name,
                       const pyi_header *header, const pyi_writer_options *options)
{
    pyi_writer *w = writer_new(name, options);
    *out = w;
    if (!w || !w->name) {
        if (close_fd)
            close(fd);
        if (w)
            w->closed = 1;
        return PYI_E_NOMEM;
    }
    int rc = options_resolve(w, options);
    if (!rc)
        rc = header_check(w, header);
    if (rc) {
        if (close_fd)
            close(fd);
        w->closed = 1;
        return rc;
    }
    rc = writer_start(w, fd, close_fd, header);
    if (rc)
        w->closed = 1;
    return rc;
}

int pyi_writer_open(pyi_writer **out, const char *path, const pyi_header *header,
                    const pyi_writer_options *options)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        int saved = errno;
        pyi_writer *w = writer_new(path, options);
        *out = w;
        if (!w)
            return PYI_E_NOMEM;
        w->closed = 1;
        return pyi__writer_fail(w, PYI_E_IO, "cannot create: %s", strerror(saved));
    }
    return pyi_writer_open_fd(out, fd, 1, path, header, options);
}

/* ---- Interning ---- */

typedef struct string_arg {
    uint32_t id;
    const char *utf8;
    size_t length;
} string_arg;

static int pack_string_record(pyi_writer *w, const void *arg)
{
    const string_arg *s = arg;
    msgpack_packer *pk = &w->packer;
    return pack_type(pk, 2, PYI_RECORD_STRING) || msgpack_pack_uint32(pk, s->id) ||
           msgpack_pack_str(pk, s->length) || msgpack_pack_str_body(pk, s->utf8, s->length);
}

int pyi_writer_intern_string(pyi_writer *w, const char *utf8, size_t length, uint32_t *id)
{
    int rc = writer_check(w);
    if (rc)
        return rc;
    if (length > MAX_STRING_BYTES)
        return reject(w, "a string of %zu bytes is over the 16 MiB limit", length);
    *id = pyi__intern_find_string(&w->strings, utf8, length);
    if (*id)
        return PYI_OK;
    string_arg s = {w->string_count + 1, utf8, length};
    char *repaired = NULL;
    if (!pyi__utf8_valid(utf8, length)) {
        /* spec §7: only valid UTF-8 is written; bad bytes become U+FFFD */
        repaired = pyi__malloc(w->allocator, length * 3);
        if (!repaired)
            return pyi__writer_fail(w, PYI_E_NOMEM, "out of memory");
        s.length = pyi__utf8_repair(utf8, length, repaired);
        s.utf8 = repaired;
    }
    rc = pyi__intern_insert_string(&w->strings, utf8, length, s.id);
    if (rc == PYI_OK)
        rc = append_record(w, pack_string_record, &s);
    else
        rc = pyi__writer_fail(w, rc, "out of memory");
    pyi__free(w->allocator, repaired);
    if (rc == PYI_OK) {
        w->string_count = s.id;
        *id = s.id;
    }
    return rc;
}

typedef struct tuple_arg {
    pyi_record_type type;
    uint32_t values[5]; /* id first */
    size_t count;
} tuple_arg;

static int pack_tuple_record(pyi_writer *w, const void *arg)
{
    const tuple_arg *t = arg;
    msgpack_packer *pk = &w->packer;
    if (pack_type(pk, t->count, t->type))
        return -1;
    for (size_t i = 0; i < t->count; i++)
        if (msgpack_pack_uint32(pk, t->values[i]))
            return -1;
    return 0;
}

/* Shared by functions, locations and stacks: find, or define with the next id. */
static int intern_tuple(pyi_writer *w, pyi_intern_table *table, uint32_t *counter,
                        tuple_arg *t, uint64_t key_a, uint64_t key_b, uint32_t *id)
{
    *id = pyi__intern_find(table, key_a, key_b);
    if (*id)
        return PYI_OK;
    t->values[0] = *counter + 1;
    if (pyi__intern_insert(table, key_a, key_b, t->values[0]))
        return pyi__writer_fail(w, PYI_E_NOMEM, "out of memory");
    int rc = append_record(w, pack_tuple_record, t);
    if (rc)
        return rc;
    *id = ++*counter;
    return PYI_OK;
}

int pyi_writer_intern_function(pyi_writer *w, uint32_t name_id, uint32_t file_id,
                               uint32_t first_line, uint32_t kind, uint32_t *id)
{
    int rc = writer_check(w);
    if (rc)
        return rc;
    if (name_id == 0 || name_id > w->string_count || file_id > w->string_count)
        return reject(w, "function refers to undefined strings %u, %u", name_id, file_id);
    tuple_arg t = {PYI_RECORD_FUNCTION, {0, name_id, file_id, first_line, kind}, 5};
    return intern_tuple(w, &w->functions, &w->function_count, &t,
                        ((uint64_t)name_id << 32) | file_id, ((uint64_t)first_line << 32) | kind,
                        id);
}

int pyi_writer_intern_location(pyi_writer *w, uint32_t function_id, uint32_t line, uint32_t *id)
{
    int rc = writer_check(w);
    if (rc)
        return rc;
    if (function_id == 0 || function_id > w->function_count)
        return reject(w, "location refers to undefined function %u", function_id);
    tuple_arg t = {PYI_RECORD_LOCATION, {0, function_id, line}, 3};
    return intern_tuple(w, &w->locations, &w->location_count, &t, function_id, line, id);
}

int pyi_writer_intern_stack(pyi_writer *w, uint32_t parent_id, uint32_t location_id,
                            uint32_t *id)
{
    int rc = writer_check(w);
    if (rc)
        return rc;
    if (parent_id > w->stack_count || location_id == 0 || location_id > w->location_count)
        return reject(w, "stack refers to undefined stack %u or location %u", parent_id,
                      location_id);
    tuple_arg t = {PYI_RECORD_STACK, {0, parent_id, location_id}, 3};
    return intern_tuple(w, &w->stacks, &w->stack_count, &t, parent_id, location_id, id);
}

/* ---- Threads and processes ---- */

typedef struct thread_arg {
    uint32_t id;
    const pyi_writer_thread *thread;
    uint32_t name_id;
} thread_arg;

static int pack_thread_record(pyi_writer *w, const void *arg)
{
    const thread_arg *t = arg;
    msgpack_packer *pk = &w->packer;
    return pack_type(pk, 5, PYI_RECORD_THREAD) || msgpack_pack_uint32(pk, t->id) ||
           msgpack_pack_uint32(pk, t->thread->process_id) ||
           msgpack_pack_uint64(pk, t->thread->native_id) || msgpack_pack_uint32(pk, t->name_id) ||
           msgpack_pack_uint32(pk, t->thread->flags);
}

int pyi_writer_add_thread(pyi_writer *w, const pyi_thread *thread, uint32_t *id)
{
    int rc = writer_check(w);
    if (rc)
        return rc;
    if (thread->process_id == 0 || thread->process_id > w->process_count)
        return reject(w, "thread refers to undefined process %u", thread->process_id);
    if (thread->name_id > w->string_count)
        return reject(w, "thread refers to undefined string %u", thread->name_id);
    void *threads = w->threads;
    if (pyi__grow(w->allocator, &threads, &w->thread_capacity, w->thread_count + 1,
                  sizeof(*w->threads)))
        return pyi__writer_fail(w, PYI_E_NOMEM, "out of memory");
    w->threads = threads;
    pyi_writer_thread *t = &w->threads[w->thread_count];
    memset(t, 0, sizeof(*t));
    t->process_id = thread->process_id;
    t->native_id = thread->native_id;
    t->flags = thread->flags;
    thread_arg arg = {(uint32_t)w->thread_count + 1, t, thread->name_id};
    rc = append_record(w, pack_thread_record, &arg);
    if (rc)
        return rc;
    *id = arg.id;
    w->thread_count++;
    return PYI_OK;
}

int pyi_writer_rename_thread(pyi_writer *w, uint32_t thread_id, uint32_t name_id)
{
    int rc = writer_check(w);
    if (rc)
        return rc;
    if (thread_id == 0 || thread_id > w->thread_count || name_id > w->string_count)
        return reject(w, "rename refers to undefined thread %u or string %u", thread_id,
                      name_id);
    thread_arg arg = {thread_id, &w->threads[thread_id - 1], name_id};
    return append_record(w, pack_thread_record, &arg);
}

static int pack_process_record(pyi_writer *w, const void *arg)
{
    const pyi_process *p = arg;
    msgpack_packer *pk = &w->packer;
    return pack_type(pk, 4, PYI_RECORD_PROCESS) || msgpack_pack_uint32(pk, p->id) ||
           msgpack_pack_uint32(pk, p->parent_id) || msgpack_pack_int64(pk, p->pid) ||
           pyi__pack_map(pk, p->meta, p->meta_count);
}

int pyi_writer_add_process(pyi_writer *w, const pyi_process *process, uint32_t *id)
{
    int rc = writer_check(w);
    if (rc)
        return rc;
    if (process->parent_id > w->process_count)
        return reject(w, "process refers to undefined parent %u", process->parent_id);
    pyi_process p = *process;
    p.id = w->process_count + 1;
    rc = append_record(w, pack_process_record, &p);
    if (rc)
        return rc;
    *id = ++w->process_count;
    return PYI_OK;
}

/* ---- Samples and events ---- */

typedef struct sample_arg {
    const pyi_sample *sample;
    int64_t dt_us;
    int weight_implied;
} sample_arg;

static int pack_sample_record(pyi_writer *w, const void *arg)
{
    const sample_arg *a = arg;
    const pyi_sample *s = a->sample;
    msgpack_packer *pk = &w->packer;
    int has_cpu = s->cpu_ns != PYI_CPU_UNKNOWN;
    size_t fields = has_cpu ? 6 : a->weight_implied ? 4 : 5;
    if (pack_type(pk, fields, PYI_RECORD_SAMPLE) || msgpack_pack_uint32(pk, s->thread_id) ||
        msgpack_pack_int64(pk, a->dt_us) || msgpack_pack_uint32(pk, s->stack_id) ||
        msgpack_pack_uint32(pk, s->status))
        return -1;
    if (fields >= 5) {
        if (a->weight_implied ? msgpack_pack_nil(pk)
                              : msgpack_pack_uint64(pk, (s->weight_ns + 500) / 1000))
            return -1;
    }
    if (has_cpu && msgpack_pack_uint64(pk, (s->cpu_ns + 500) / 1000))
        return -1;
    return 0;
}

int pyi_writer_add_sample(pyi_writer *w, const pyi_sample *sample)
{
    int rc = writer_check(w);
    if (rc)
        return rc;
    if (sample->thread_id == 0 || sample->thread_id > w->thread_count ||
        sample->stack_id > w->stack_count)
        return reject(w, "sample refers to undefined thread %u or stack %u", sample->thread_id,
                      sample->stack_id);
    if (!time_in_range(sample->time_ns) || !time_in_range(sample->weight_ns) ||
        (sample->cpu_ns != PYI_CPU_UNKNOWN && !time_in_range(sample->cpu_ns)))
        return reject(w, "sample time, weight or CPU time out of range (spec §1)");
    pyi_writer_thread *t = &w->threads[sample->thread_id - 1];
    pyi_sample s = *sample;
    if (t->has_prev && s.time_ns < t->prev_time_ns)
        s.time_ns = t->prev_time_ns; /* never backwards within a thread */
    uint64_t time_us = s.time_ns / 1000;
    int same_chunk = t->has_prev && t->prev_sequence == w->chunk->sequence;
    sample_arg a = {&s, 0, 0};
    if (same_chunk) {
        a.dt_us = (int64_t)(time_us - t->prev_time_us);
        a.weight_implied = s.weight_ns == s.time_ns - t->prev_time_ns;
    } else {
        a.dt_us = (int64_t)time_us - (int64_t)w->chunk_base_us;
    }
    uint64_t sequence = w->chunk->sequence; /* the chunk may close after this record */
    rc = append_timed_record(w, pack_sample_record, &a, &time_us);
    if (rc)
        return rc;
    t->has_prev = 1;
    t->prev_sequence = sequence;
    t->prev_time_ns = s.time_ns;
    t->prev_time_us = time_us;
    if (time_us > w->last_time_us)
        w->last_time_us = time_us;
    if (!w->first_sample_us || time_us < w->first_sample_us)
        w->first_sample_us = time_us;
    if (time_us > w->last_sample_us)
        w->last_sample_us = time_us;
    w->stats.samples++;
    return PYI_OK;
}

static int pack_lost_record(pyi_writer *w, const void *arg)
{
    const pyi_lost *l = arg;
    msgpack_packer *pk = &w->packer;
    return pack_type(pk, 4, PYI_RECORD_LOST) || msgpack_pack_uint32(pk, l->thread_id) ||
           msgpack_pack_uint32(pk, l->reason) || msgpack_pack_uint64(pk, l->count) ||
           msgpack_pack_uint64(pk, (l->weight_ns + 500) / 1000);
}

int pyi_writer_add_lost(pyi_writer *w, const pyi_lost *lost)
{
    int rc = writer_check(w);
    if (rc)
        return rc;
    if (lost->thread_id > w->thread_count)
        return reject(w, "lost samples refer to undefined thread %u", lost->thread_id);
    if (!time_in_range(lost->weight_ns))
        return reject(w, "lost weight out of range (spec §1)");
    rc = append_record(w, pack_lost_record, lost);
    if (rc == PYI_OK)
        w->stats.lost += lost->count;
    return rc;
}

static int pack_marker_record(pyi_writer *w, const void *arg)
{
    const pyi_marker *m = arg;
    msgpack_packer *pk = &w->packer;
    int64_t offset_us = (int64_t)(m->time_ns / 1000) - (int64_t)w->chunk_base_us;
    int has_args = m->arg_count > 0;
    return pack_type(pk, has_args ? 5 : 4, PYI_RECORD_MARKER) ||
           msgpack_pack_uint32(pk, m->thread_id) || msgpack_pack_int64(pk, offset_us) ||
           msgpack_pack_uint64(pk, (m->duration_ns + 500) / 1000) ||
           msgpack_pack_uint32(pk, m->name_id) ||
           (has_args && pyi__pack_map(pk, m->args, m->arg_count));
}

int pyi_writer_add_marker(pyi_writer *w, const pyi_marker *marker)
{
    int rc = writer_check(w);
    if (rc)
        return rc;
    if (marker->thread_id > w->thread_count || marker->name_id == 0 ||
        marker->name_id > w->string_count)
        return reject(w, "marker refers to undefined thread %u or string %u", marker->thread_id,
                      marker->name_id);
    if (!time_in_range(marker->time_ns) || !time_in_range(marker->duration_ns))
        return reject(w, "marker time or duration out of range (spec §1)");
    return append_record(w, pack_marker_record, marker);
}

typedef struct meta_arg {
    const char *key;
    const pyi_value *value;
} meta_arg;

static int pack_meta_record(pyi_writer *w, const void *arg)
{
    const meta_arg *m = arg;
    msgpack_packer *pk = &w->packer;
    size_t length = strlen(m->key);
    return pack_type(pk, 2, PYI_RECORD_META) || msgpack_pack_str(pk, length) ||
           msgpack_pack_str_body(pk, m->key, length) || pyi__pack_value(pk, m->value);
}

int pyi_writer_add_meta(pyi_writer *w, const char *key, const pyi_value *value)
{
    int rc = writer_check(w);
    if (rc)
        return rc;
    if (!key || !value)
        return reject(w, "meta needs a key and a value");
    meta_arg m = {key, value};
    return append_record(w, pack_meta_record, &m);
}

/* ---- Flush, close, free ---- */

int pyi_writer_flush(pyi_writer *w)
{
    int rc = writer_check(w);
    if (rc)
        return rc;
    rc = chunk_close(w);
    if (rc)
        return rc;
    rc = pyi__sink_drain(w);
    return rc ? writer_check(w) : PYI_OK;
}

/* The END record's map and the index's summary (spec §5.13). */
static int pack_summary(pyi_writer *w, msgpack_packer *pk)
{
    return msgpack_pack_map(pk, 5) || msgpack_pack_str_with_body(pk, "samples", 7) ||
           msgpack_pack_uint64(pk, w->stats.samples) ||
           msgpack_pack_str_with_body(pk, "lost", 4) || msgpack_pack_uint64(pk, w->stats.lost) ||
           msgpack_pack_str_with_body(pk, "records", 7) ||
           msgpack_pack_uint64(pk, w->stats.records) ||
           msgpack_pack_str_with_body(pk, "first_time_us", 13) ||
           msgpack_pack_uint64(pk, w->first_sample_us) ||
           msgpack_pack_str_with_body(pk, "last_time_us", 12) ||
           msgpack_pack_uint64(pk, w->last_sample_us);
}

static int pack_end_record(pyi_writer *w, const void *arg)
{
    (void)arg;
    return pack_type(&w->packer, 1, PYI_RECORD_END) || pack_summary(w, &w->packer);
}

static int index_encode(pyi_writer *w, pyi_buffer *out)
{
    const pyi_sink *s = &w->sink;
    uint64_t index_offset = s->file_offset;
    uint8_t head[16];
    pyi__put_le32(head, PYI_MAGIC_INDEX);
    memcpy(head + 8, PYI_INDEX_TAG, 8);
    if (pyi__buffer_append(out, head, sizeof(head)))
        return -1;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, pyi__pack_buffer_write);
    if (msgpack_pack_array(&pk, 2) || msgpack_pack_array(&pk, s->index_count))
        return -1;
    for (size_t i = 0; i < s->index_count; i++) {
        const pyi_index_entry *e = &s->index[i];
        if (msgpack_pack_array(&pk, 6) || msgpack_pack_uint64(&pk, e->offset) ||
            msgpack_pack_uint64(&pk, e->size) || msgpack_pack_uint64(&pk, e->content_size) ||
            msgpack_pack_uint64(&pk, e->first_time_us) ||
            msgpack_pack_uint64(&pk, e->last_time_us) || msgpack_pack_uint64(&pk, e->samples))
            return -1;
    }
    if (pack_summary(w, &pk))
        return -1;
    uint8_t trailer[PYI_TRAILER_SIZE];
    pyi__put_le64(trailer, index_offset);
    pyi__put_le32(trailer + 8, (uint32_t)s->index_count);
    pyi__put_le32(trailer + 12, pyi__crc32(0, out->data + 8, out->size - 8));
    memcpy(trailer + 16, PYI_TRAILER_TAG, 8);
    if (pyi__buffer_append(out, trailer, sizeof(trailer)))
        return -1;
    pyi__put_le32(out->data + 4, (uint32_t)(out->size - 8));
    return 0;
}

int pyi_writer_close(pyi_writer *w)
{
    if (!w)
        return PYI_E_INVALID_ARG;
    if (w->closed)
        return w->error;
    int rc = writer_check(w);
    if (rc == PYI_OK)
        rc = append_record(w, pack_end_record, NULL);
    if (rc == PYI_OK)
        rc = chunk_close(w);
    int finish = pyi__sink_finish(w, 0);
    if (rc == PYI_OK && finish)
        rc = writer_check(w);
    if (rc == PYI_OK) {
        pyi_buffer index;
        pyi__buffer_init(&index, w->allocator);
        if (index_encode(w, &index))
            rc = pyi__writer_fail(w, PYI_E_NOMEM, "out of memory writing the index");
        else
            rc = pyi__sink_write_raw(w, index.data, index.size);
        pyi__buffer_destroy(&index);
    }
    int close_rc = pyi__sink_finish(w, 1);
    if (rc == PYI_OK && close_rc)
        rc = writer_check(w);
    w->closed = 1;
    if (rc && !w->error)
        w->error = rc;
    return rc;
}

static void writer_release(pyi_writer *w, int abandon)
{
    pyi__sink_destroy(w, abandon);
    if (w->chunk)
        pyi__chunk_free(w->allocator, w->chunk);
    pyi__intern_destroy(&w->strings);
    pyi__intern_destroy(&w->functions);
    pyi__intern_destroy(&w->locations);
    pyi__intern_destroy(&w->stacks);
    pyi__free(w->allocator, w->threads);
    pyi__free(w->allocator, w->name);
    pyi__free(w->allocator, w);
}

void pyi_writer_free(pyi_writer *w)
{
    if (!w)
        return;
    if (!w->closed) {
        /* keep what was recorded, but without END or index: not a clean close */
        if (w->chunk && writer_check(w) == PYI_OK)
            chunk_close(w);
        pyi__sink_finish(w, 1);
        w->closed = 1;
    }
    writer_release(w, 0);
}

void pyi_writer_abandon(pyi_writer *w)
{
    if (w)
        writer_release(w, 1);
}

const char *pyi_writer_error_detail(const pyi_writer *w)
{
    return w ? w->detail : "out of memory";
}

void pyi_writer_get_stats(const pyi_writer *w, pyi_writer_stats *stats)
{
    *stats = w->stats;
    pyi_sink *s = (pyi_sink *)&w->sink; /* the lock is not part of the value */
    pthread_mutex_lock(&s->lock);
    stats->chunks_written = s->chunks_written;
    stats->file_bytes = s->file_offset;
    pthread_mutex_unlock(&s->lock);
}
