/* SPDX-License-Identifier: MIT */
/*
 * Re-encodes a trace record by record through the reader and the writer
 * (pyinst-report convert IN.pyitrace -o OUT.pyitrace): every definition,
 * sample, lost count, marker and metadata entry is kept, ids are remapped,
 * and the output is closed cleanly with a fresh index. A truncated input
 * becomes a whole file holding what was intact.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "pyi/trace.h"

typedef struct id_map {
    uint32_t *ids;
    size_t capacity;
} id_map;

typedef struct copy_state {
    pyi_reader *r;
    pyi_writer *w;
    id_map strings, functions, locations, stacks, threads, processes;
} copy_state;

static int map_set(id_map *map, uint32_t from, uint32_t to)
{
    if (pyi__array_grow((void **)&map->ids, &map->capacity, (size_t)from + 1,
                        sizeof(*map->ids)))
        return PYI_E_NOMEM;
    map->ids[from] = to;
    return 0;
}

/* 0 stays 0 ("none"); an id the reader delivered is always mapped. */
static uint32_t map_get(const id_map *map, uint32_t from)
{
    return from < map->capacity ? map->ids[from] : 0;
}

static int copy_thread(copy_state *st, const pyi_thread *t)
{
    uint32_t name = map_get(&st->strings, t->name_id);
    uint32_t have = map_get(&st->threads, t->id);
    if (have)
        return pyi_writer_rename_thread(st->w, have, name);
    pyi_thread th = *t;
    th.name_id = name;
    th.process_id = t->process_id <= 1 ? 1 : map_get(&st->processes, t->process_id);
    uint32_t id = 0;
    int rc = pyi_writer_add_thread(st->w, &th, &id);
    return rc ? rc : map_set(&st->threads, t->id, id);
}

static int copy_definition(copy_state *st, const pyi_record *rec)
{
    uint32_t id = 0;
    int rc;
    switch (rec->type) {
    case PYI_RECORD_STRING:
        rc = pyi_writer_intern_string(st->w, rec->u.string.utf8, rec->u.string.length, &id);
        return rc ? rc : map_set(&st->strings, rec->u.string.id, id);
    case PYI_RECORD_FUNCTION: {
        const pyi_function *f = &rec->u.function;
        rc = pyi_writer_intern_function(st->w, map_get(&st->strings, f->name_id),
                                        map_get(&st->strings, f->file_id), f->first_line,
                                        f->kind, &id);
        return rc ? rc : map_set(&st->functions, f->id, id);
    }
    case PYI_RECORD_LOCATION:
        rc = pyi_writer_intern_location(st->w, map_get(&st->functions,
                                                       rec->u.location.function_id),
                                        rec->u.location.line, &id);
        return rc ? rc : map_set(&st->locations, rec->u.location.id, id);
    case PYI_RECORD_STACK:
        rc = pyi_writer_intern_stack(st->w, map_get(&st->stacks, rec->u.stack.parent_id),
                                     map_get(&st->locations, rec->u.stack.location_id), &id);
        return rc ? rc : map_set(&st->stacks, rec->u.stack.id, id);
    case PYI_RECORD_PROCESS: {
        pyi_process p = rec->u.process;
        p.parent_id = p.parent_id <= 1 ? p.parent_id : map_get(&st->processes, p.parent_id);
        rc = pyi_writer_add_process(st->w, &p, &id);
        return rc ? rc : map_set(&st->processes, rec->u.process.id, id);
    }
    case PYI_RECORD_THREAD:
        return copy_thread(st, &rec->u.thread);
    default:
        return 0;
    }
}

static int copy_record(copy_state *st, const pyi_record *rec)
{
    switch (rec->type) {
    case PYI_RECORD_SAMPLE: {
        pyi_sample s = rec->u.sample;
        s.thread_id = map_get(&st->threads, s.thread_id);
        s.stack_id = map_get(&st->stacks, s.stack_id);
        return pyi_writer_add_sample(st->w, &s);
    }
    case PYI_RECORD_LOST: {
        pyi_lost l = rec->u.lost;
        l.thread_id = map_get(&st->threads, l.thread_id);
        return pyi_writer_add_lost(st->w, &l);
    }
    case PYI_RECORD_MARKER: {
        pyi_marker mk = rec->u.marker;
        mk.thread_id = map_get(&st->threads, mk.thread_id);
        mk.name_id = map_get(&st->strings, mk.name_id);
        return pyi_writer_add_marker(st->w, &mk);
    }
    case PYI_RECORD_META:
        return pyi_writer_add_meta(st->w, rec->u.meta.key, &rec->u.meta.value);
    case PYI_RECORD_CHUNK:
    case PYI_RECORD_END:
        return 0; /* the writer makes its own chunks and END */
    default:
        return copy_definition(st, rec);
    }
}

static void free_maps(copy_state *st)
{
    free(st->strings.ids);
    free(st->functions.ids);
    free(st->locations.ids);
    free(st->stacks.ids);
    free(st->threads.ids);
    free(st->processes.ids);
}

int pyi_trace_copy(const char *in_path, const char *out_path, int salvage, char *detail,
                   size_t detail_size)
{
    copy_state st;
    memset(&st, 0, sizeof(st));
    pyi_reader_options ro;
    pyi_reader_options_init(&ro);
    ro.salvage = salvage;
    int rc = pyi_reader_open(&st.r, in_path, &ro);
    const char *failed_detail = NULL;
    if (rc) {
        failed_detail = st.r ? pyi_reader_error_detail(st.r) : "out of memory";
        goto out;
    }
    rc = pyi_writer_open(&st.w, out_path, pyi_reader_header(st.r), NULL);
    pyi_record rec;
    while (!rc && (rc = pyi_reader_next(st.r, &rec)) == 1)
        rc = copy_record(&st, &rec);
    if (rc < 0) {
        failed_detail = st.w && *pyi_writer_error_detail(st.w) ? pyi_writer_error_detail(st.w)
                        : pyi_reader_error_detail(st.r);
        goto out;
    }
    rc = pyi_writer_close(st.w);
    if (rc)
        failed_detail = pyi_writer_error_detail(st.w);
out:
    if (rc && detail_size)
        snprintf(detail, detail_size, "%s", failed_detail && *failed_detail ? failed_detail
                                                                             : pyi_strerror(rc));
    pyi_writer_free(st.w);
    pyi_reader_free(st.r);
    free_maps(&st);
    return rc;
}
