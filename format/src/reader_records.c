/* SPDX-License-Identifier: MIT */
/*
 * Decoding the records of a chunk (spec §5) and keeping the definition
 * tables they build: every id is checked to be defined before use, dense and
 * never redefined, and sample times are rebuilt from per-thread deltas.
 */
#include "reader_internal.h"

#include <inttypes.h>

/* ---- Internal ---- */

static const char *const RECORD_NAMES[13] = {
    "?",      "CHUNK_BEGIN", "STRING", "FUNCTION", "LOCATION", "STACK", "THREAD",
    "SAMPLE", "LOST",        "MARKER", "META",     "PROCESS",  "END",
};

/* Reports a bad record: strict readers stop, salvaging ones drop the chunk's rest. */
static int bad_record(pyi_reader *r, pyi_record_type type, const char *what)
{
    r->in_chunk = 0;
    if (type == PYI_RECORD_NONE)
        return pyi__reader_damage(r, r->chunk.offset, r->chunk.size,
                                  "chunk %" PRIu64 ": record %" PRIu64 ": %s", r->chunk.sequence,
                                  r->record_index, what);
    return pyi__reader_damage(r, r->chunk.offset, r->chunk.size,
                              "chunk %" PRIu64 ": record %" PRIu64 " (%s): %s",
                              r->chunk.sequence, r->record_index, RECORD_NAMES[type], what);
}

/* A reference to an undefined id: corrupt, or in salvage mode a casualty of
 * a skipped chunk, dropped and counted. Returns 0 to continue, 1 to drop. */
static int missing_reference(pyi_reader *r, pyi_record_type type, const char *what, int *rc)
{
    if (r->options.salvage) {
        r->stats.dropped_records++;
        *rc = PYI_OK;
        return 1;
    }
    *rc = bad_record(r, type, what);
    return 1;
}

/* Checks a new definition's id: the next one (or, salvaging, a later one). */
static int id_is_next(const pyi_reader *r, uint64_t id, size_t count)
{
    if (id == count + 1)
        return 1;
    /* spec §11: a bounded skip, so a corrupt id cannot size the tables */
    return r->options.salvage && id > count + 1 && id - count - 1 <= PYI_MAX_ID_SKIP &&
           id <= UINT32_MAX;
}

/* Grows a table so that index id - 1 exists; new entries are zeroed (undefined).
 * table_field is the address of the table pointer, updated through memcpy so
 * that one function serves every element type without aliasing tricks. */
static int table_reserve(pyi_reader *r, void *table_field, size_t *capacity, size_t *count,
                         size_t id, size_t elem)
{
    if (id <= *count)
        return PYI_OK;
    void *table;
    memcpy(&table, table_field, sizeof(table));
    size_t old = *capacity;
    if (pyi__grow(r->allocator, &table, capacity, id, elem))
        return PYI_E_NOMEM;
    memset((char *)table + old * elem, 0, (*capacity - old) * elem);
    memcpy(table_field, &table, sizeof(table));
    *count = id;
    return PYI_OK;
}

#define RESERVE(r, table, name, id)                                                          \
    table_reserve((r), &(r)->table, &(r)->name##_capacity, &(r)->name##_count, (size_t)(id),   \
                  sizeof(*(r)->table))

static int string_defined(const pyi_reader *r, uint64_t id)
{
    return id >= 1 && id <= r->string_count && r->strings[id - 1].text;
}

static int function_defined(const pyi_reader *r, uint64_t id)
{
    return id >= 1 && id <= r->function_count && r->functions[id - 1].id;
}

static int location_defined(const pyi_reader *r, uint64_t id)
{
    return id >= 1 && id <= r->location_count && r->locations[id - 1].id;
}

static int stack_defined(const pyi_reader *r, uint64_t id)
{
    return id >= 1 && id <= r->stack_count && r->stacks[id - 1].id;
}

static int thread_defined(const pyi_reader *r, uint64_t id)
{
    return id >= 1 && id <= r->thread_count && r->threads[id - 1].id;
}

static int process_defined(const pyi_reader *r, uint64_t id)
{
    return id >= 1 && id <= r->process_count && r->processes[id - 1].id;
}

/* Reads n uint fields that each fit 32 bits. */
static int read_u32s(pyi_mp *m, uint32_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pyi__mp_u32(m, &out[i]))
            return PYI_E_CORRUPT;
    return PYI_OK;
}

/* Microseconds to nanoseconds, refusing values out of range (spec §1). */
static int us_to_ns(uint64_t us, uint64_t *ns)
{
    if (us > PYI_MAX_TIME_US)
        return -1;
    *ns = us * 1000;
    return 0;
}

/* An optional trailing uint field: absent or nil gives has = 0. */
static int read_optional_uint(pyi_mp *m, uint32_t *fields_left, uint64_t *value, int *has)
{
    *has = 0;
    if (*fields_left == 0)
        return PYI_OK;
    (*fields_left)--;
    if (pyi__mp_next_is_nil(m))
        return pyi__mp_nil(m);
    *has = 1;
    return pyi__mp_uint(m, value);
}

/* ---- Definitions ---- */

static int decode_string(pyi_reader *r, pyi_mp *m, uint32_t *left, pyi_record *rec)
{
    uint64_t id;
    const char *text;
    uint32_t length;
    (void)left;
    if (pyi__mp_uint(m, &id) || pyi__mp_str(m, &text, &length))
        return bad_record(r, PYI_RECORD_STRING, "malformed fields");
    if (!pyi__utf8_valid(text, length))
        return bad_record(r, PYI_RECORD_STRING, "the value is not valid UTF-8");
    if (!id_is_next(r, id, r->string_count))
        return bad_record(r, PYI_RECORD_STRING, "id is not the next string id");
    if (RESERVE(r, strings, string, id))
        return pyi__reader_fail(r, PYI_E_NOMEM, "out of memory");
    char *copy = pyi__arena_strdup(&r->arena, text, length);
    if (!copy)
        return pyi__reader_fail(r, PYI_E_NOMEM, "out of memory");
    r->strings[id - 1].text = copy;
    r->strings[id - 1].length = length;
    r->stats.strings++;
    rec->u.string.id = (uint32_t)id;
    rec->u.string.utf8 = copy;
    rec->u.string.length = length;
    return 1;
}

static int decode_function(pyi_reader *r, pyi_mp *m, uint32_t *left, pyi_record *rec)
{
    uint32_t f[5]; /* id, name, file, first_line, kind */
    int rc;
    (void)left;
    if (read_u32s(m, f, 5))
        return bad_record(r, PYI_RECORD_FUNCTION, "malformed fields");
    if (!id_is_next(r, f[0], r->function_count))
        return bad_record(r, PYI_RECORD_FUNCTION, "id is not the next function id");
    if (!string_defined(r, f[1]) || (f[2] && !string_defined(r, f[2])))
        if (missing_reference(r, PYI_RECORD_FUNCTION, "refers to an undefined string", &rc))
            return rc;
    if (RESERVE(r, functions, function, f[0]))
        return pyi__reader_fail(r, PYI_E_NOMEM, "out of memory");
    pyi_function fn = {f[0], f[1], f[2], f[3], f[4]};
    r->functions[f[0] - 1] = fn;
    r->stats.functions++;
    rec->u.function = fn;
    return 1;
}

static int decode_location(pyi_reader *r, pyi_mp *m, uint32_t *left, pyi_record *rec)
{
    uint32_t f[3]; /* id, function, line */
    int rc;
    (void)left;
    if (read_u32s(m, f, 3))
        return bad_record(r, PYI_RECORD_LOCATION, "malformed fields");
    if (!id_is_next(r, f[0], r->location_count))
        return bad_record(r, PYI_RECORD_LOCATION, "id is not the next location id");
    if (!function_defined(r, f[1]))
        if (missing_reference(r, PYI_RECORD_LOCATION, "refers to an undefined function", &rc))
            return rc;
    if (RESERVE(r, locations, location, f[0]))
        return pyi__reader_fail(r, PYI_E_NOMEM, "out of memory");
    pyi_location loc = {f[0], f[1], f[2]};
    r->locations[f[0] - 1] = loc;
    r->stats.locations++;
    rec->u.location = loc;
    return 1;
}

static int decode_stack(pyi_reader *r, pyi_mp *m, uint32_t *left, pyi_record *rec)
{
    uint32_t f[3]; /* id, parent, location */
    int rc;
    (void)left;
    if (read_u32s(m, f, 3))
        return bad_record(r, PYI_RECORD_STACK, "malformed fields");
    if (!id_is_next(r, f[0], r->stack_count))
        return bad_record(r, PYI_RECORD_STACK, "id is not the next stack id");
    if ((f[1] && !stack_defined(r, f[1])) || !location_defined(r, f[2]))
        if (missing_reference(r, PYI_RECORD_STACK, "refers to an undefined stack or location",
                              &rc))
            return rc;
    uint32_t depth = f[1] ? r->stacks[f[1] - 1].depth + 1 : 1;
    if (RESERVE(r, stacks, stack, f[0]))
        return pyi__reader_fail(r, PYI_E_NOMEM, "out of memory");
    pyi_stack st = {f[0], f[1], f[2], depth};
    r->stacks[f[0] - 1] = st;
    r->stats.stacks++;
    rec->u.stack = st;
    return 1;
}

static int decode_thread(pyi_reader *r, pyi_mp *m, uint32_t *left, pyi_record *rec)
{
    uint32_t id, process, name, flags;
    uint64_t native;
    int rc;
    (void)left;
    if (pyi__mp_u32(m, &id) || pyi__mp_u32(m, &process) || pyi__mp_uint(m, &native) ||
        pyi__mp_u32(m, &name) || pyi__mp_u32(m, &flags))
        return bad_record(r, PYI_RECORD_THREAD, "malformed fields");
    if (!process_defined(r, process) || (name && !string_defined(r, name)))
        if (missing_reference(r, PYI_RECORD_THREAD, "refers to an undefined process or string",
                              &rc))
            return rc;
    pyi_thread t = {id, process, native, name, flags};
    if (thread_defined(r, id)) { /* a rename (spec §5.6) */
        pyi_thread *old = &r->threads[id - 1];
        if (old->process_id != process || old->native_id != native)
            return bad_record(r, PYI_RECORD_THREAD, "a rename changes process or native id");
        old->name_id = name;
        old->flags = flags;
        rec->u.thread = *old;
        return 1;
    }
    if (!id_is_next(r, id, r->thread_count))
        return bad_record(r, PYI_RECORD_THREAD, "id is not the next thread id");
    size_t clock_count = r->thread_count;
    if (RESERVE(r, threads, thread, id) || table_reserve(r, &r->clocks, &r->clock_capacity, &clock_count,
                                                id, sizeof(*r->clocks)))
        return pyi__reader_fail(r, PYI_E_NOMEM, "out of memory");
    r->threads[id - 1] = t;
    r->stats.threads++;
    rec->u.thread = t;
    return 1;
}

static int decode_process(pyi_reader *r, pyi_mp *m, uint32_t *left, pyi_record *rec)
{
    uint32_t id, parent;
    int64_t pid;
    int rc;
    (void)left;
    if (pyi__mp_u32(m, &id) || pyi__mp_u32(m, &parent) || pyi__mp_int(m, &pid))
        return bad_record(r, PYI_RECORD_PROCESS, "malformed fields");
    pyi_process p = {id, parent, pid, NULL, 0};
    rc = pyi__read_map(m, &r->arena, (pyi_meta_entry **)&p.meta, &p.meta_count);
    if (rc == PYI_E_NOMEM)
        return pyi__reader_fail(r, rc, "out of memory");
    if (rc)
        return bad_record(r, PYI_RECORD_PROCESS, "malformed meta map");
    if (!id_is_next(r, id, r->process_count))
        return bad_record(r, PYI_RECORD_PROCESS, "id is not the next process id");
    if (parent && !process_defined(r, parent))
        if (missing_reference(r, PYI_RECORD_PROCESS, "refers to an undefined parent", &rc))
            return rc;
    if (RESERVE(r, processes, process, id))
        return pyi__reader_fail(r, PYI_E_NOMEM, "out of memory");
    r->processes[id - 1] = p;
    r->stats.processes++;
    rec->u.process = p;
    return 1;
}

/* ---- Events ---- */

static int decode_sample(pyi_reader *r, pyi_mp *m, uint32_t *left, pyi_record *rec)
{
    uint32_t thread, stack, status;
    int64_t dt;
    uint64_t weight_us, cpu_us;
    int has_weight, has_cpu, rc;
    if (pyi__mp_u32(m, &thread) || pyi__mp_int(m, &dt) || pyi__mp_u32(m, &stack) ||
        pyi__mp_u32(m, &status) || read_optional_uint(m, left, &weight_us, &has_weight) ||
        read_optional_uint(m, left, &cpu_us, &has_cpu))
        return bad_record(r, PYI_RECORD_SAMPLE, "malformed fields");
    if (!thread_defined(r, thread) || (stack && !stack_defined(r, stack)))
        if (missing_reference(r, PYI_RECORD_SAMPLE, "refers to an undefined thread or stack",
                              &rc))
            return rc;
    pyi_thread_clock *clock = &r->clocks[thread - 1];
    int first = !clock->has_prev || clock->chunk_sequence != r->chunk.sequence;
    if (!first && dt < 0)
        return bad_record(r, PYI_RECORD_SAMPLE, "time goes backwards (spec §5, Times)");
    if (!has_weight && dt < 0)
        return bad_record(r, PYI_RECORD_SAMPLE, "negative dt with no weight");
    int64_t base = first ? (int64_t)r->chunk_base_us : clock->prev_us;
    if ((dt > 0 && base > INT64_MAX - dt) || base + dt < 0)
        return bad_record(r, PYI_RECORD_SAMPLE, "time out of range");
    int64_t time_us = base + dt;
    pyi_sample *s = &rec->u.sample;
    if (us_to_ns((uint64_t)time_us, &s->time_ns) ||
        us_to_ns(has_weight ? weight_us : (uint64_t)dt, &s->weight_ns) ||
        (has_cpu && us_to_ns(cpu_us, &s->cpu_ns)))
        return bad_record(r, PYI_RECORD_SAMPLE, "time out of range");
    if (!has_cpu)
        s->cpu_ns = PYI_CPU_UNKNOWN;
    s->thread_id = thread;
    s->stack_id = stack;
    s->status = status;
    clock->has_prev = 1;
    clock->chunk_sequence = r->chunk.sequence;
    clock->prev_us = time_us;
    r->stats.samples++;
    if (!r->stats.first_time_ns || s->time_ns < r->stats.first_time_ns)
        r->stats.first_time_ns = s->time_ns;
    if (s->time_ns > r->stats.last_time_ns)
        r->stats.last_time_ns = s->time_ns;
    return 1;
}

static int decode_lost(pyi_reader *r, pyi_mp *m, uint32_t *left, pyi_record *rec)
{
    uint32_t thread, reason;
    uint64_t count, weight_us;
    int rc;
    (void)left;
    if (pyi__mp_u32(m, &thread) || pyi__mp_u32(m, &reason) || pyi__mp_uint(m, &count) ||
        pyi__mp_uint(m, &weight_us))
        return bad_record(r, PYI_RECORD_LOST, "malformed fields");
    if (thread && !thread_defined(r, thread))
        if (missing_reference(r, PYI_RECORD_LOST, "refers to an undefined thread", &rc))
            return rc;
    pyi_lost *l = &rec->u.lost;
    l->thread_id = thread;
    l->reason = reason;
    l->count = count;
    if (us_to_ns(weight_us, &l->weight_ns))
        return bad_record(r, PYI_RECORD_LOST, "weight out of range");
    /* sums saturate (spec §10) rather than wrap */
    r->stats.lost_samples = count > UINT64_MAX - r->stats.lost_samples ? UINT64_MAX
                                                                       : r->stats.lost_samples + count;
    return 1;
}

static int decode_marker(pyi_reader *r, pyi_mp *m, uint32_t *left, pyi_record *rec)
{
    uint32_t thread, name;
    int64_t offset_us;
    uint64_t duration_us;
    int rc;
    if (pyi__mp_u32(m, &thread) || pyi__mp_int(m, &offset_us) ||
        pyi__mp_uint(m, &duration_us) || pyi__mp_u32(m, &name))
        return bad_record(r, PYI_RECORD_MARKER, "malformed fields");
    pyi_marker *mk = &rec->u.marker;
    mk->args = NULL;
    mk->arg_count = 0;
    if (*left > 0) {
        (*left)--;
        if (pyi__mp_next_is_nil(m)) {
            m->pos++;
        } else {
            rc = pyi__read_map(m, &r->scratch, (pyi_meta_entry **)&mk->args, &mk->arg_count);
            if (rc == PYI_E_NOMEM)
                return pyi__reader_fail(r, rc, "out of memory");
            if (rc)
                return bad_record(r, PYI_RECORD_MARKER, "malformed args");
        }
    }
    if ((thread && !thread_defined(r, thread)) || !string_defined(r, name))
        if (missing_reference(r, PYI_RECORD_MARKER, "refers to an undefined thread or string",
                              &rc))
            return rc;
    int64_t base = (int64_t)r->chunk_base_us;
    if ((offset_us > 0 && base > INT64_MAX - offset_us) || base + offset_us < 0 ||
        us_to_ns((uint64_t)(base + offset_us), &mk->time_ns) ||
        us_to_ns(duration_us, &mk->duration_ns))
        return bad_record(r, PYI_RECORD_MARKER, "time out of range");
    mk->thread_id = thread;
    mk->name_id = name;
    return 1;
}

static int decode_meta(pyi_reader *r, pyi_mp *m, uint32_t *left, pyi_record *rec)
{
    const char *key;
    uint32_t length;
    (void)left;
    pyi_meta_entry *e = &rec->u.meta;
    if (pyi__mp_str(m, &key, &length) || !pyi__utf8_valid(key, length) ||
        pyi__mp_value(m, &e->value))
        return bad_record(r, PYI_RECORD_META, "malformed fields");
    e->key = pyi__arena_strdup(&r->scratch, key, length);
    if (!e->key)
        return pyi__reader_fail(r, PYI_E_NOMEM, "out of memory");
    return 1;
}

static int decode_end(pyi_reader *r, pyi_mp *m, uint32_t *left, pyi_record *rec)
{
    pyi_meta_entry *entries;
    size_t count;
    (void)left;
    int rc = pyi__read_map(m, &r->scratch, &entries, &count);
    if (rc == PYI_E_NOMEM)
        return pyi__reader_fail(r, rc, "out of memory");
    if (rc)
        return bad_record(r, PYI_RECORD_END, "malformed summary");
    rec->u.end.entries = entries;
    rec->u.end.count = count;
    r->end_seen = 1;
    r->stats.has_end = 1;
    return 1;
}

/* ---- Dispatch ---- */

typedef int (*record_decoder)(pyi_reader *r, pyi_mp *m, uint32_t *left, pyi_record *rec);

typedef struct record_kind {
    record_decoder decode;
    uint32_t required; /* fields after the type */
    uint32_t optional;
} record_kind;

static const record_kind RECORD_KINDS[] = {
    [PYI_RECORD_STRING] = {decode_string, 2, 0},
    [PYI_RECORD_FUNCTION] = {decode_function, 5, 0},
    [PYI_RECORD_LOCATION] = {decode_location, 3, 0},
    [PYI_RECORD_STACK] = {decode_stack, 3, 0},
    [PYI_RECORD_THREAD] = {decode_thread, 5, 0},
    [PYI_RECORD_SAMPLE] = {decode_sample, 4, 2},
    [PYI_RECORD_LOST] = {decode_lost, 4, 0},
    [PYI_RECORD_MARKER] = {decode_marker, 4, 1},
    [PYI_RECORD_META] = {decode_meta, 2, 0},
    [PYI_RECORD_PROCESS] = {decode_process, 4, 0},
    [PYI_RECORD_END] = {decode_end, 1, 0},
};

static int skip_fields(pyi_reader *r, pyi_mp *m, uint32_t n, pyi_record_type type)
{
    for (uint32_t i = 0; i < n; i++)
        if (pyi__mp_skip(m))
            return bad_record(r, type, "malformed msgpack");
    return PYI_OK;
}

int pyi__reader_next_record(pyi_reader *r, pyi_record *record)
{
    pyi_mp *m = &r->cursor;
    while (r->in_chunk && pyi__mp_remaining(m) > 0) {
        pyi__arena_reset(&r->scratch);
        r->record_index++;
        uint32_t fields;
        uint64_t type;
        if (pyi__mp_array(m, &fields) || fields == 0 || pyi__mp_uint(m, &type))
            return bad_record(r, PYI_RECORD_NONE, "not an array starting with a type");
        fields--;
        if (r->end_seen)
            return bad_record(r, PYI_RECORD_END, "a record follows END (spec §5.13)");
        if (type == PYI_RECORD_CHUNK)
            return bad_record(r, PYI_RECORD_CHUNK, "CHUNK_BEGIN inside a chunk (spec §5.1)");
        if (type >= sizeof(RECORD_KINDS) / sizeof(RECORD_KINDS[0]) || !RECORD_KINDS[type].decode) {
            int rc = skip_fields(r, m, fields, PYI_RECORD_NONE);
            if (rc || !r->in_chunk)
                return rc;
            r->stats.unknown_records++;
            continue;
        }
        const record_kind *kind = &RECORD_KINDS[type];
        if (fields < kind->required)
            return bad_record(r, (pyi_record_type)type, "too few fields");
        uint32_t left = fields - kind->required; /* optional + extra fields */
        memset(record, 0, sizeof(*record));
        record->type = (pyi_record_type)type;
        int rc = kind->decode(r, m, &left, record);
        if (rc < 0 || !r->in_chunk)
            return rc;
        if (skip_fields(r, m, left, record->type) || !r->in_chunk)
            return r->error;
        if (rc == 1) {
            r->stats.records++;
            return 1;
        }
    }
    r->in_chunk = 0;
    return 0;
}

int pyi__reader_begin_chunk(pyi_reader *r, pyi_record *record)
{
    pyi_mp *m = &r->cursor;
    uint32_t fields;
    uint64_t type, sequence, base_us;
    r->record_index = 1;
    if (pyi__mp_array(m, &fields) || fields < 3 || pyi__mp_uint(m, &type) ||
        type != PYI_RECORD_CHUNK || pyi__mp_uint(m, &sequence) || pyi__mp_uint(m, &base_us) ||
        skip_fields(r, m, fields - 3, PYI_RECORD_CHUNK))
        return r->in_chunk ? bad_record(r, PYI_RECORD_CHUNK,
                                        "a chunk must start with CHUNK_BEGIN (spec §5.1)")
                           : r->error;
    /* strict: the count of chunk frames so far; salvaging: frames lost to
     * damage may not have been counted, so any later number will do */
    if (r->options.salvage ? sequence < r->next_sequence : sequence != r->frames_seen - 1)
        return bad_record(r, PYI_RECORD_CHUNK, "wrong sequence number: a chunk is missing");
    r->next_sequence = sequence + 1;
    if (base_us > PYI_MAX_TIME_US)
        return bad_record(r, PYI_RECORD_CHUNK, "base time out of range");
    r->chunk.sequence = sequence;
    r->chunk.base_time_ns = base_us * 1000;
    r->chunk_base_us = base_us;
    memset(record, 0, sizeof(*record));
    record->type = PYI_RECORD_CHUNK;
    record->u.chunk = r->chunk;
    r->stats.records++;
    return 1;
}

int pyi__reader_define_header_process(pyi_reader *r)
{
    if (RESERVE(r, processes, process, 1))
        return pyi__reader_fail(r, PYI_E_NOMEM, "out of memory");
    pyi_process p = {1, 0, r->header.pid, r->header.entries, r->header.entry_count};
    r->processes[0] = p;
    return PYI_OK;
}

void pyi__reader_free_tables(pyi_reader *r)
{
    pyi__free(r->allocator, r->strings);
    pyi__free(r->allocator, r->functions);
    pyi__free(r->allocator, r->locations);
    pyi__free(r->allocator, r->stacks);
    pyi__free(r->allocator, r->threads);
    pyi__free(r->allocator, r->clocks);
    pyi__free(r->allocator, r->processes);
}
