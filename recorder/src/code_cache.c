/* Resolves raw frames to trace locations: address-keyed code cache with fingerprint re-validation. */
/* SPDX-License-Identifier: MIT */
#include "code_cache_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "py_linetable_internal.h"
#include "py_object_internal.h"

/* ---- Internal --------------------------------------------------------- */

#define SKIP_FRAME UINT32_MAX     /* not a code object (3.13 f_executable) or not started */
#define NAME_BUFFER 1024          /* qualified names and callee expressions are cut here */
#define PATH_BUFFER 4096

static uint64_t field_u64(const unsigned char *base, int32_t offset)
{
    uint64_t v = 0;
    if (offset >= 0)
        memcpy(&v, base + offset, sizeof v);
    return v;
}

static int32_t field_i32(const unsigned char *base, int32_t offset)
{
    int32_t v = 0;
    if (offset >= 0)
        memcpy(&v, base + offset, sizeof v);
    return v;
}

static uint32_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

static void fingerprint_of(const pyi_py_layout *l, const unsigned char *h, uint64_t out[7])
{
    out[0] = field_u64(h, l->object_type);
    out[1] = field_u64(h, l->code_filename);
    out[2] = field_u64(h, l->code_name);
    out[3] = field_u64(h, l->code_qualname);
    out[4] = field_u64(h, l->code_linetable);
    out[5] = field_u64(h, l->code_names);
    out[6] = field_u64(h, l->code_local_names);
}

static void caches_reset(pyi_resolver *r)
{
    memset(r->codes, 0, PYI_CODE_CACHE_SLOTS * sizeof *r->codes);
    memset(r->locations, 0, PYI_LOCATION_CACHE_SLOTS * sizeof *r->locations);
    r->code_count = 0;
    r->location_count = 0;
    r->stats.cache_resets++;
}

/* The slot holding address, or the free slot where it would go. */
static uint32_t code_slot(const pyi_resolver *r, uint64_t address)
{
    uint32_t mask = PYI_CODE_CACHE_SLOTS - 1, i = hash_u64(address) & mask;
    while (r->codes[i].address != 0 && r->codes[i].address != address)
        i = (i + 1) & mask;
    return i;
}

static pyi_location_entry *location_slot(pyi_resolver *r, uint32_t serial, int32_t lasti)
{
    uint32_t mask = PYI_LOCATION_CACHE_SLOTS - 1;
    uint32_t i = hash_u64(((uint64_t)serial << 32) | (uint32_t)lasti) & mask;
    while (r->locations[i].serial != 0 &&
           (r->locations[i].serial != serial || r->locations[i].lasti != lasti))
        i = (i + 1) & mask;
    return &r->locations[i];
}

static int intern_function(pyi_resolver *r, const char *name, const char *file,
                           uint32_t first_line, uint32_t kind, uint32_t *id)
{
    uint32_t name_id, file_id = 0;
    int rc = pyi_writer_intern_string(r->writer, name, strlen(name), &name_id);
    if (rc == 0 && file != NULL)
        rc = pyi_writer_intern_string(r->writer, file, strlen(file), &file_id);
    if (rc == 0)
        rc = pyi_writer_intern_function(r->writer, name_id, file_id, first_line, kind, id);
    if (rc == 0 && r->catalog != NULL)
        rc = pyi_catalog_note_function(r->catalog, *id, name, file, kind);
    return rc;
}

static int intern_location(pyi_resolver *r, uint32_t function_id, uint32_t line, uint32_t *id)
{
    int rc = pyi_writer_intern_location(r->writer, function_id, line, id);
    if (rc == 0 && r->catalog != NULL)
        rc = pyi_catalog_note_location(r->catalog, *id, function_id, line);
    return rc;
}

/* Where the sampler can read a source file the target names: the same path
 * in-process; for another process, through its root or working directory. */
static const char *source_path(const pyi_resolver *r, const char *path, char *out, size_t size)
{
    if (r->source_pid == 0)
        return path;
    snprintf(out, size, "/proc/%lld/%s/%s", (long long)r->source_pid,
             path[0] == '/' ? "root" : "cwd", path + (path[0] == '/'));
    return out;
}

/* Reads the names of a code object and defines its trace function.
 * Returns 0, 1 (unreadable: invalid sample) or a negative writer error. */
static int code_fill(pyi_resolver *r, pyi_code_entry *e, uint64_t address,
                     const unsigned char *header)
{
    const pyi_py_layout *l = r->layout;
    char path[PATH_BUFFER], name[NAME_BUFFER], qualname[NAME_BUFFER];
    size_t length;
    uint64_t name_object = l->code_qualname >= 0 ? field_u64(header, l->code_qualname)
                                                 : field_u64(header, l->code_name);
    if (pyi_read_str(r->mem, l, field_u64(header, l->code_filename), path, sizeof path,
                     &length) != 0 ||
        pyi_read_str(r->mem, l, name_object, name, sizeof name, &length) != 0)
        return 1;
    int32_t firstlineno = field_i32(header, l->code_firstlineno);
    const char *shown = name;
    char readable[PATH_BUFFER + 64];
    if (l->code_qualname < 0 &&
        pyi_qualname_from_source(&r->sources, source_path(r, path, readable, sizeof readable),
                                 firstlineno, name, qualname, sizeof qualname) == 1)
        shown = qualname;
    uint32_t function_id;
    int rc = intern_function(r, shown, path, firstlineno > 0 ? (uint32_t)firstlineno : 0,
                             PYI_FUNCTION_PYTHON, &function_id);
    if (rc != 0)
        return rc;
    if (e->address == 0)
        r->code_count++;
    else
        r->stats.code_reuses++;
    e->address = address;
    fingerprint_of(l, header, e->fingerprint);
    e->firstlineno = firstlineno;
    e->firsttraceable = field_i32(header, l->code_firsttraceable);
    e->serial = ++r->next_serial ? r->next_serial : ++r->next_serial;
    e->function_id = function_id;
    r->stats.code_misses++;
    return 0;
}

/* Copies the code object's line table into r->linetable. */
static int linetable_read(pyi_resolver *r, const pyi_code_entry *e, size_t *size)
{
    return pyi_read_bytes(r->mem, r->layout, e->fingerprint[4], r->linetable, PYI_LINETABLE_MAX,
                          size);
}

static int location_fill(pyi_resolver *r, const pyi_code_entry *e, int32_t lasti,
                         pyi_location_entry *loc)
{
    size_t size;
    pyi_position pos = {-1, -1, -1, -1};
    if (linetable_read(r, e, &size) == 0)
        pyi_linetable_find(r->layout->linetable_kind, r->linetable, size, e->firstlineno, lasti,
                           &pos);
    int rc = intern_location(r, e->function_id, pos.line > 0 ? (uint32_t)pos.line : 0,
                             &loc->location_id);
    if (rc != 0)
        return rc;
    loc->serial = e->serial;
    loc->lasti = lasti;
    loc->analysed = 0;
    loc->native_location_id = 0;
    r->location_count++;
    r->stats.location_misses++;
    return 0;
}

/* Copies the bytecode up to lasti (plus room for its caches); returns units or 0. */
static size_t bytecode_read(pyi_resolver *r, const pyi_code_entry *e, uint64_t address,
                            int32_t lasti)
{
    const pyi_py_layout *l = r->layout;
    size_t want = ((size_t)lasti + 32) * 2;
    if (want > PYI_BYTECODE_MAX)
        return 0;
    if (l->code_code_adaptive >= 0) {
        uint64_t units;
        if (pyi_mem_read_u64(r->mem, address + (uint64_t)l->code_units, &units) != 0)
            return 0;
        if (units * 2 < want)
            want = (size_t)units * 2;
        int rc = pyi_mem_read(r->mem, address + (uint64_t)l->code_code_adaptive, r->bytecode,
                              want);
        return rc == 0 ? want / 2 : 0;
    }
    (void)e;
    uint64_t code_bytes;
    size_t size;
    if (pyi_mem_read_u64(r->mem, address + (uint64_t)l->code_code, &code_bytes) != 0 ||
        pyi_read_bytes(r->mem, l, code_bytes, r->bytecode, PYI_BYTECODE_MAX, &size) != 0)
        return 0;
    return size / 2;
}

/* Builds "receiver.attribute" from the names the call-site analysis found. */
static void callee_name(pyi_resolver *r, const pyi_code_entry *e, const pyi_call_site *site,
                        char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < site->name_count; i++) {
        uint64_t tuple = site->names[i].table == PYI_NAME_FROM_NAMES ? e->fingerprint[5]
                                                                     : e->fingerprint[6];
        uint64_t item;
        size_t length;
        if (used + 2 >= size || pyi_read_tuple_item(r->mem, r->layout, tuple,
                                                    site->names[i].index, &item) != 0 ||
            pyi_read_str(r->mem, r->layout, item, out + used + (i > 0), size - used - (i > 0),
                         &length) != 0) {
            out[0] = '\0';
            return;
        }
        if (i > 0)
            out[used] = '.';
        used += length + (i > 0);
    }
}

/* Decides whether the frame at lasti is inside a native call, and what it calls. */
static int native_leaf_analyse(pyi_resolver *r, const pyi_code_entry *e, uint64_t address,
                               pyi_location_entry *loc)
{
    loc->analysed = 1;
    size_t units = bytecode_read(r, e, address, loc->lasti);
    if (units == 0)
        return 0;
    size_t table_size = 0;
    const uint8_t *table = NULL;
    if (r->layout->linetable_kind == PYI_LINETABLE_LOCATIONS && linetable_read(r, e, &table_size) == 0)
        table = r->linetable;
    pyi_call_site site;
    pyi_call_site_analyze(r->ops, r->bytecode, units, table, table_size, e->firstlineno,
                          loc->lasti, &site);
    if (!site.is_call)
        return 0;
    char name[NAME_BUFFER];
    callee_name(r, e, &site, name, sizeof name);
    uint32_t function_id;
    int rc = intern_function(r, name[0] ? name : "<native>", NULL, 0, PYI_FUNCTION_NATIVE,
                             &function_id);
    if (rc == 0)
        rc = intern_location(r, function_id, 0, &loc->native_location_id);
    return rc;
}

/* Reads the head of every distinct code object of the sample in one batch. */
static int headers_fetch(pyi_resolver *r, const pyi_raw_frame *frames, uint32_t depth,
                         uint32_t *distinct_count)
{
    uint32_t n = 0, size = r->layout->code_read_size;
    for (uint32_t i = 0; i < depth; i++) {
        uint32_t h = hash_u64(frames[i].code) & r->seen_mask;
        while (r->seen[h] != 0 && r->distinct[r->seen[h] - 1] != frames[i].code)
            h = (h + 1) & r->seen_mask;
        if (r->seen[h] == 0) {
            r->distinct[n] = frames[i].code;
            r->spans[n] = (pyi_mem_span){frames[i].code, r->headers + (size_t)n * size, size};
            r->seen_pos[n] = h;
            r->seen[h] = ++n;
        }
        r->frame_slot[i] = r->seen[h] - 1;
    }
    for (uint32_t k = 0; k < n; k++) /* clear only what this sample used */
        r->seen[r->seen_pos[k]] = 0;
    *distinct_count = n;
    int rc = pyi_mem_read_spans(r->mem, r->spans, n, r->failed);
    return rc == 0 ? 0 : 1;
}

/* Finds or refills the cache slot of distinct code k. 0, 1 (invalid), < 0 (writer). */
static int code_check(pyi_resolver *r, uint32_t k)
{
    const pyi_py_layout *l = r->layout;
    const unsigned char *header = r->headers + (size_t)k * l->code_read_size;
    uint64_t print[7];
    fingerprint_of(l, header, print);
    if (r->code_type != 0 && print[0] != r->code_type) {
        /* 3.13 frames may run non-code executables: not shown, not an error. */
        r->distinct_slot[k] = SKIP_FRAME;
        return l->minor >= 13 ? 0 : 1;
    }
    uint32_t slot = code_slot(r, r->distinct[k]);
    pyi_code_entry *e = &r->codes[slot];
    r->distinct_slot[k] = slot;
    if (e->address != 0 && memcmp(e->fingerprint, print, sizeof print) == 0 &&
        e->firstlineno == field_i32(header, l->code_firstlineno))
        return 0;
    return code_fill(r, e, r->distinct[k], header);
}

/* ---- Public (to recorder/) -------------------------------------------- */

int pyi_resolver_init(pyi_resolver *r, pyi_mem_reader *mem, const pyi_py_layout *layout,
                      pyi_writer *writer, uint64_t code_type, uint32_t max_depth)
{
    memset(r, 0, sizeof *r);
    r->mem = mem;
    r->layout = layout;
    r->ops = pyi_opcode_table_for(layout->minor);
    r->writer = writer;
    r->code_type = code_type;
    r->max_depth = max_depth;
    uint32_t seen = 1;
    while (seen < 2 * max_depth)
        seen <<= 1;
    r->seen_mask = seen - 1;
    r->codes = calloc(PYI_CODE_CACHE_SLOTS, sizeof *r->codes);
    r->locations = calloc(PYI_LOCATION_CACHE_SLOTS, sizeof *r->locations);
    r->frame_slot = calloc(max_depth, sizeof *r->frame_slot);
    r->distinct = calloc(max_depth, sizeof *r->distinct);
    r->distinct_slot = calloc(max_depth, sizeof *r->distinct_slot);
    r->seen = calloc(seen, sizeof *r->seen);
    r->seen_pos = calloc(max_depth, sizeof *r->seen_pos);
    r->headers = calloc(max_depth, layout->code_read_size);
    r->spans = calloc(max_depth, sizeof *r->spans);
    r->failed = calloc(max_depth, 1);
    r->linetable = malloc(PYI_LINETABLE_MAX);
    r->bytecode = malloc(PYI_BYTECODE_MAX);
    if (!r->codes || !r->locations || !r->frame_slot || !r->distinct || !r->distinct_slot ||
        !r->seen || !r->seen_pos || !r->headers || !r->spans || !r->failed || !r->linetable || !r->bytecode) {
        pyi_resolver_destroy(r);
        return PYI_E_NOMEM;
    }
    return 0;
}

void pyi_resolver_destroy(pyi_resolver *r)
{
    free(r->codes);
    free(r->locations);
    free(r->frame_slot);
    free(r->distinct);
    free(r->distinct_slot);
    free(r->seen);
    free(r->seen_pos);
    free(r->headers);
    free(r->spans);
    free(r->failed);
    free(r->linetable);
    free(r->bytecode);
    pyi_source_cache_destroy(&r->sources);
    memset(r, 0, sizeof *r);
}

/* The location of one frame (from the cache or decoded), and its native leaf. */
static int frame_location(pyi_resolver *r, const pyi_raw_frame *f, uint32_t slot, int leaf,
                          uint32_t *location, uint32_t *native)
{
    const pyi_code_entry *e = &r->codes[slot];
    pyi_location_entry *loc = location_slot(r, e->serial, f->lasti);
    int rc = 0;
    if (loc->serial == 0)
        rc = location_fill(r, e, f->lasti, loc);
    if (rc == 0 && leaf && r->ops != NULL && !loc->analysed)
        rc = native_leaf_analyse(r, e, f->code, loc);
    *location = loc->location_id;
    *native = leaf ? loc->native_location_id : 0;
    return rc;
}

static int truncated_root(pyi_resolver *r, uint32_t *location)
{
    if (r->truncated_location == 0) {
        uint32_t function_id;
        int rc = intern_function(r, "<truncated>", NULL, 0, PYI_FUNCTION_SYNTHETIC,
                                 &function_id);
        if (rc == 0)
            rc = intern_location(r, function_id, 0, &r->truncated_location);
        if (rc != 0)
            return rc;
    }
    *location = r->truncated_location;
    return 0;
}

int pyi_resolver_resolve(pyi_resolver *r, const pyi_raw_frame *frames, uint32_t depth,
                         int truncated, uint32_t *locations, uint32_t *count,
                         uint32_t *status)
{
    uint32_t distinct, n = 0, native = 0;
    *count = 0;
    /* Empty the caches between samples, never during one (slots are in use). */
    if (r->code_count + depth > PYI_CODE_CACHE_SLOTS * 3 / 4 ||
        r->location_count + depth > PYI_LOCATION_CACHE_SLOTS * 3 / 4)
        caches_reset(r);
    if (depth > 0 && headers_fetch(r, frames, depth, &distinct) != 0)
        return 1;
    for (uint32_t k = 0; k < (depth ? distinct : 0); k++) {
        int rc = code_check(r, k);
        if (rc != 0)
            return rc;
    }
    if (truncated) {
        int rc = truncated_root(r, &locations[n++]);
        if (rc != 0)
            return rc;
        *status |= PYI_STATUS_TRUNCATED;
    }
    /* The innermost shown frame decides the native leaf. */
    uint32_t leaf = depth;
    for (uint32_t i = 0; i < depth && leaf == depth; i++) {
        uint32_t slot = r->distinct_slot[r->frame_slot[i]];
        if (slot != SKIP_FRAME &&
            !(r->layout->minor >= 11 && frames[i].owner != PYI_FRAME_OWNED_BY_GENERATOR &&
              frames[i].lasti < r->codes[slot].firsttraceable))
            leaf = i;
    }
    for (uint32_t i = depth; i-- > leaf;) {
        uint32_t slot = r->distinct_slot[r->frame_slot[i]];
        if (slot == SKIP_FRAME)
            continue;
        int rc = frame_location(r, &frames[i], slot, i == leaf, &locations[n], &native);
        if (rc != 0)
            return rc;
        n++;
    }
    if (native != 0) {
        locations[n++] = native;
        *status |= PYI_STATUS_NATIVE_LEAF;
    }
    *count = n;
    return 0;
}
