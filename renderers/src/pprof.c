/* SPDX-License-Identifier: MIT */
/*
 * The pprof renderer: a gzipped perftools.profiles.Profile (profile.proto)
 * for go tool pprof, Pyroscope, Parca and Perfetto. Sample types are
 * samples/count, wall/nanoseconds and, when measured, cpu/nanoseconds; one
 * Function per model function, one Location per (function, line); samples
 * carry thread_name and thread_id labels. Function.system_name stays unset:
 * pprof "demangles" names equal to it and turns <module> into <unknown>.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "render_internal.h"

/* ---- Protobuf encoding into a growable buffer ---------------------------------- */

typedef struct pb {
    unsigned char *data;
    size_t size, capacity;
    int failed;
} pb;

static void pb_bytes(pb *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (b->size + n > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 1024;
        while (capacity < b->size + n)
            capacity *= 2;
        unsigned char *grown = realloc(b->data, capacity);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->size, data, n);
    b->size += n;
}

static void pb_varint(pb *b, uint64_t v)
{
    unsigned char out[10];
    size_t n = 0;
    do {
        out[n] = (unsigned char)(v & 0x7F);
        v >>= 7;
        if (v)
            out[n] |= 0x80;
        n++;
    } while (v);
    pb_bytes(b, out, n);
}

static void pb_uint(pb *b, uint32_t field, uint64_t v) /* wire type 0 */
{
    if (!v)
        return; /* proto3: zero is the default and is not written */
    pb_varint(b, (uint64_t)field << 3);
    pb_varint(b, v);
}

static void pb_message(pb *b, uint32_t field, const pb *inner) /* wire type 2 */
{
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, inner->size);
    pb_bytes(b, inner->data, inner->size);
    b->failed |= inner->failed;
}

static void pb_string(pb *b, uint32_t field, const char *s)
{
    size_t n = strlen(s);
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, n);
    pb_bytes(b, s, n);
}

/* ---- String table ------------------------------------------------------------------ */

typedef struct strtab {
    const char **items; /* borrowed: model strings and literals */
    size_t count, capacity;
    uint32_t *slots;    /* index + 1, open addressing */
    size_t slot_capacity;
} strtab;

static uint64_t hash_text(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
    return h;
}

static int strtab_rehash(strtab *t)
{
    size_t capacity = t->slot_capacity ? t->slot_capacity * 2 : 1024;
    uint32_t *slots = calloc(capacity, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < t->count; i++) {
        size_t k = hash_text(t->items[i]) & (capacity - 1);
        while (slots[k])
            k = (k + 1) & (capacity - 1);
        slots[k] = (uint32_t)i + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->slot_capacity = capacity;
    return 0;
}

/* The index of s; -1 when memory runs out. */
static int64_t strtab_index(strtab *t, const char *s)
{
    if ((t->count + 1) * 2 > t->slot_capacity && strtab_rehash(t))
        return -1;
    size_t k = hash_text(s) & (t->slot_capacity - 1);
    for (; t->slots[k]; k = (k + 1) & (t->slot_capacity - 1))
        if (!strcmp(t->items[t->slots[k] - 1], s))
            return t->slots[k] - 1;
    if (t->count == t->capacity) {
        size_t capacity = t->capacity ? t->capacity * 2 : 256;
        const char **grown = realloc((void *)t->items, capacity * sizeof(*grown));
        if (!grown)
            return -1;
        t->items = grown;
        t->capacity = capacity;
    }
    t->items[t->count] = s;
    t->slots[k] = (uint32_t)++t->count;
    return (int64_t)t->count - 1;
}

/* ---- Profile ------------------------------------------------------------------------- */

typedef struct pprof_ctx {
    const pyi_model *model;
    const pyi_render_options *options;
    int has_cpu;
    pb profile;
    strtab strings;
    uint8_t *function_used; /* [function id] */
    uint8_t *location_used; /* [location id] */
    uint64_t no_stack_id;   /* function and location id for "[no Python frame]" */
    int no_stack_used;
    int failed;
} pprof_ctx;

static uint64_t str_id(pprof_ctx *c, const char *s)
{
    int64_t i = strtab_index(&c->strings, s);
    if (i < 0)
        c->failed = 1;
    return i < 0 ? 0 : (uint64_t)i;
}

static void add_value_type(pprof_ctx *c, uint32_t field, const char *type, const char *unit)
{
    pb vt = {0};
    pb_uint(&vt, 1, str_id(c, type));
    pb_uint(&vt, 2, str_id(c, unit));
    pb_message(&c->profile, field, &vt);
    free(vt.data);
}

static void add_label(pprof_ctx *c, pb *sample, const char *key, const char *str, uint64_t num)
{
    pb label = {0};
    pb_uint(&label, 1, str_id(c, key));
    if (str)
        pb_uint(&label, 2, str_id(c, str));
    else
        pb_uint(&label, 3, num);
    pb_message(sample, 3, &label);
    free(label.data);
}

static int visit(void *ctx, uint32_t thread, const pyi_view_frame *frames, size_t depth,
                 const pyi_metrics *totals)
{
    pprof_ctx *c = ctx;
    if (!totals->samples)
        return 0;
    pb sample = {0}, ids = {0}, values = {0};
    if (!depth) { /* e.g. an idle thread: a synthetic frame keeps the totals whole */
        pb_varint(&ids, c->no_stack_id);
        c->no_stack_used = 1;
    }
    for (size_t i = depth; i-- > 0;) { /* pprof wants the leaf first */
        pb_varint(&ids, frames[i].location);
        c->location_used[frames[i].location] = 1;
        c->function_used[frames[i].function] = 1;
    }
    pb_varint(&values, totals->samples);
    pb_varint(&values, totals->wall_ns);
    if (c->has_cpu)
        pb_varint(&values, totals->cpu_ns);
    pb_message(&sample, 1, &ids); /* packed repeated fields */
    pb_message(&sample, 2, &values);
    const pyi_model_thread *t = pyi_model_thread_get(c->model, thread);
    if (*t->name)
        add_label(c, &sample, "thread_name", t->name, 0);
    add_label(c, &sample, "thread_id", NULL, t->native_id);
    pb_message(&c->profile, 2, &sample);
    free(sample.data);
    free(ids.data);
    free(values.data);
    return c->profile.failed || c->failed ? PYI_E_NOMEM : 0;
}

static void add_locations_and_functions(pprof_ctx *c)
{
    const pyi_model_info *info = pyi_model_get_info(c->model);
    for (uint32_t id = 1; id <= info->location_count; id++) {
        if (!c->location_used[id])
            continue;
        const pyi_model_location *l = pyi_model_location_get(c->model, id);
        pb loc = {0}, line = {0};
        pb_uint(&loc, 1, id);
        pb_uint(&line, 1, l->function);
        pb_uint(&line, 2, l->line);
        pb_message(&loc, 4, &line);
        pb_message(&c->profile, 4, &loc);
        free(loc.data);
        free(line.data);
    }
    if (c->no_stack_used) {
        pb loc = {0}, line = {0}, fn = {0};
        pb_uint(&loc, 1, c->no_stack_id);
        pb_uint(&line, 1, c->no_stack_id);
        pb_message(&loc, 4, &line);
        pb_message(&c->profile, 4, &loc);
        pb_uint(&fn, 1, c->no_stack_id);
        pb_uint(&fn, 2, str_id(c, "[no Python frame]"));
        pb_message(&c->profile, 5, &fn);
        free(loc.data);
        free(line.data);
        free(fn.data);
    }
    for (uint32_t id = 1; id <= info->function_count; id++) {
        if (!c->function_used[id])
            continue;
        const pyi_model_function *f = pyi_model_function_get(c->model, id);
        pb fn = {0};
        pb_uint(&fn, 1, id);
        pb_uint(&fn, 2, str_id(c, f->name));
        pb_uint(&fn, 4, str_id(c, *f->path ? f->path : f->file));
        pb_uint(&fn, 5, f->first_line);
        pb_message(&c->profile, 5, &fn);
        free(fn.data);
    }
}

static void add_header_fields(pprof_ctx *c)
{
    str_id(c, ""); /* string_table[0] must be "" */
    add_value_type(c, 1, "samples", "count");
    add_value_type(c, 1, "wall", "nanoseconds");
    if (c->has_cpu)
        add_value_type(c, 1, "cpu", "nanoseconds");
}

static void add_trailer_fields(pprof_ctx *c)
{
    const pyi_model_info *info = pyi_model_get_info(c->model);
    pb_uint(&c->profile, 9, info->start_wall_ns);
    pb_uint(&c->profile, 10, info->duration_ns);
    add_value_type(c, 11, "wall", "nanoseconds");
    pb_uint(&c->profile, 12, info->interval_ns);
    pb_uint(&c->profile, 13, str_id(c, c->options->producer ? c->options->producer
                                                              : "pyinst-report"));
    pb_uint(&c->profile, 14, str_id(c, c->options->metric == PYI_METRIC_CPU && c->has_cpu
                                           ? "cpu" : "wall"));
    for (size_t i = 0; i < c->strings.count; i++)
        pb_string(&c->profile, 6, c->strings.items[i]);
}

/* gzip (RFC 1952) through zlib, streamed to the sink. */
static int write_gzip(pyi_sink *sink, const unsigned char *data, size_t size)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return PYI_E_NOMEM;
    unsigned char out[65536];
    int rc = 0, zrc = Z_OK;
    z.next_in = (unsigned char *)(uintptr_t)data;
    while (zrc != Z_STREAM_END && !rc) {
        size_t chunk = size > 1u << 30 ? 1u << 30 : size;
        z.avail_in = (uInt)chunk;
        int flush = chunk == size ? Z_FINISH : Z_NO_FLUSH;
        do {
            z.next_out = out;
            z.avail_out = sizeof(out);
            zrc = deflate(&z, flush);
            rc = pyi_sink_write(sink, out, sizeof(out) - z.avail_out);
        } while (!rc && z.avail_out == 0);
        size -= chunk - z.avail_in;
        if (zrc == Z_STREAM_ERROR)
            rc = PYI_E_IO;
    }
    deflateEnd(&z);
    return rc;
}

static int render_pprof(const pyi_model *model, const pyi_render_options *options,
                        pyi_sink *sink, char *error, size_t error_size)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    pprof_ctx c;
    memset(&c, 0, sizeof(c));
    c.model = model;
    c.options = options;
    c.has_cpu = info->has_cpu;
    /* ids above every model id: pprof needs them unique per kind only */
    c.no_stack_id = (info->location_count > info->function_count ? info->location_count
                                                                  : info->function_count) + 1;
    c.function_used = calloc(info->function_count + 1, 1);
    c.location_used = calloc(info->location_count + 1, 1);
    int rc = c.function_used && c.location_used ? 0 : PYI_E_NOMEM;
    pyi_view_options view;
    pyi_view_options_init(&view);
    view.processors = pyi_render_processors(&pyi_renderer_pprof, options);
    view.thread = options->thread;
    if (!rc) {
        add_header_fields(&c);
        rc = pyi_model_visit_stacks(model, &view, visit, &c);
    }
    if (!rc) {
        add_locations_and_functions(&c);
        add_trailer_fields(&c);
        rc = c.profile.failed || c.failed ? PYI_E_NOMEM : 0;
    }
    if (!rc)
        rc = write_gzip(sink, c.profile.data, c.profile.size);
    free(c.profile.data);
    free((void *)c.strings.items);
    free(c.strings.slots);
    free(c.function_used);
    free(c.location_used);
    if (rc)
        return pyi__render_fail(error, error_size, rc, "pprof: %s", pyi_strerror(rc));
    return 0;
}

const pyi_renderer pyi_renderer_pprof = {
    "pprof", ".pb.gz", "gzipped profile.proto for go tool pprof, Pyroscope, Parca",
    1, PYI_PROC_HIDE_IMPORTLIB | PYI_PROC_HIDE_PROFILER, render_pprof,
};
