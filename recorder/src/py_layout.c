/* Interpreter structure layouts: built-in tables for CPython 3.8-3.13 and the 3.13 _Py_DebugOffsets parser. */
/* SPDX-License-Identifier: MIT */
#include "py_layout_internal.h"

#include <stdio.h>
#include <string.h>

#include "pyi/errors.h"

/* ---- Internal --------------------------------------------------------- */

/* Every int32 field, in one list so comparison and messages cannot drift. */
#define LAYOUT_FIELDS(X)                                                                   \
    X(runtime_interpreters_head) X(runtime_gil_current) X(runtime_gc) X(interp_next)       \
    X(interp_threads_head) X(interp_id) X(interp_gc) X(interp_gil) X(gc_collecting)        \
    X(gil_last_holder) X(gil_locked) X(tstate_next) X(tstate_interp) X(tstate_frame)       \
    X(cframe_current_frame) X(tstate_thread_id) X(tstate_native_thread_id)                 \
    X(tstate_datastack_chunk) X(tstate_datastack_top) X(frame_previous) X(frame_code)      \
    X(frame_instr) X(frame_owner) X(frame_localsplus) X(code_firstlineno) X(code_filename) \
    X(code_name) X(code_qualname) X(code_linetable) X(code_code) X(code_code_adaptive)     \
    X(code_firsttraceable) X(code_units) X(code_names) X(code_local_names) X(unicode_length)             \
    X(unicode_state) X(unicode_ascii_size) X(unicode_compact_size) X(bytes_size)           \
    X(bytes_data) X(tuple_size) X(tuple_items) X(chunk_previous) X(chunk_size) X(chunk_top)  \
    X(chunk_data) X(object_type)

/* Fields shared by 3.8-3.10 (PyFrameObject era). */
#define LEGACY_COMMON                                                                      \
    .runtime_interpreters_head = 32, .interp_next = 0, .interp_threads_head = 8,           \
    .interp_gil = -1, .gc_collecting = 200, .gil_last_holder = -1, .gil_locked = -1,       \
    .tstate_next = 8, .tstate_interp = 16, .tstate_frame = 24, .cframe_current_frame = -1, \
    .tstate_thread_id = 176, .tstate_native_thread_id = -1, .tstate_datastack_chunk = -1,  \
    .tstate_datastack_top = -1, .frame_previous = 24, .frame_code = 32, .frame_owner = -1, \
    .frame_localsplus = -1, .code_firstlineno = 40, .code_filename = 104, .code_name = 112, \
    .code_qualname = -1, .code_linetable = 120, .code_code = 48, .code_code_adaptive = -1, \
    .code_firsttraceable = -1, .code_units = -1, .code_names = 64, .code_local_names = 72,                   \
    .unicode_ascii_size = 48, .unicode_compact_size = 72, .chunk_previous = -1,            \
    .chunk_size = -1, .chunk_top = -1, .chunk_data = -1

/* Fields shared by every version. */
#define ALL_COMMON                                                                         \
    .source = "table", .unicode_length = 16, .unicode_state = 32, .bytes_size = 16,        \
    .bytes_data = 32, .tuple_size = 16, .tuple_items = 24, .object_type = 8

/* Fields shared by 3.11+ (_PyInterpreterFrame era). */
#define MODERN_COMMON                                                                      \
    .tstate_next = 8, .tstate_interp = 16, .frame_localsplus = 72, .code_filename = 112,   \
    .code_name = 120, .code_qualname = 128, .code_linetable = 136,                         \
    .linetable_kind = PYI_LINETABLE_LOCATIONS, .code_code = -1, .code_names = 32,          \
    .code_units = 16,                                                                      \
    .code_local_names = 96, .gc_collecting = 200, .chunk_previous = 0, .chunk_size = 8,    \
    .chunk_top = 16, .chunk_data = 24

static const pyi_py_layout layout_tables[] = {
    {ALL_COMMON, LEGACY_COMMON, .minor = 8, .runtime_gil_current = 1368, .runtime_gc = 344,
     .interp_id = 16, .interp_gc = -1, .frame_instr = 104, .instr_kind = PYI_INSTR_LASTI_BYTES,
     .linetable_kind = PYI_LINETABLE_LNOTAB},
    {ALL_COMMON, LEGACY_COMMON, .minor = 9, .runtime_gil_current = 568, .runtime_gc = -1,
     .interp_id = 24, .interp_gc = 616, .frame_instr = 104, .instr_kind = PYI_INSTR_LASTI_BYTES,
     .linetable_kind = PYI_LINETABLE_LNOTAB},
    {ALL_COMMON, LEGACY_COMMON, .minor = 10, .runtime_gil_current = 568, .runtime_gc = -1,
     .interp_id = 24, .interp_gc = 616, .frame_instr = 96, .instr_kind = PYI_INSTR_LASTI_UNITS,
     .linetable_kind = PYI_LINETABLE_PEP626},
    {ALL_COMMON, MODERN_COMMON, .minor = 11, .runtime_interpreters_head = 40,
     .runtime_gil_current = 576, .runtime_gc = -1, .interp_next = 0, .interp_threads_head = 16,
     .interp_id = 48, .interp_gc = 648, .interp_gil = -1, .gil_last_holder = -1,
     .gil_locked = -1, .tstate_frame = 56, .cframe_current_frame = 8, .tstate_thread_id = 152,
     .tstate_native_thread_id = 160, .tstate_datastack_chunk = 296,
     .tstate_datastack_top = 304, .frame_previous = 48, .frame_code = 32, .frame_instr = 56,
     .instr_kind = PYI_INSTR_PREV_INSTR, .frame_owner = 69, .code_firstlineno = 72,
     .code_code_adaptive = 184, .code_firsttraceable = 168, .unicode_ascii_size = 48,
     .unicode_compact_size = 72},
    {ALL_COMMON, MODERN_COMMON, .minor = 12, .runtime_interpreters_head = 40,
     .runtime_gil_current = -1, .runtime_gc = -1, .interp_next = 0, .interp_threads_head = 72,
     .interp_id = 8, .interp_gc = 112, .interp_gil = 384, .gil_last_holder = 8,
     .gil_locked = 16, .tstate_frame = 56, .cframe_current_frame = 0, .tstate_thread_id = 136,
     .tstate_native_thread_id = 144, .tstate_datastack_chunk = 232,
     .tstate_datastack_top = 240, .frame_previous = 8, .frame_code = 0, .frame_instr = 56,
     .instr_kind = PYI_INSTR_PREV_INSTR, .frame_owner = 70, .code_firstlineno = 68,
     .code_code_adaptive = 192, .code_firsttraceable = 176, .unicode_ascii_size = 40,
     .unicode_compact_size = 56},
    {ALL_COMMON, MODERN_COMMON, .minor = 13, .runtime_interpreters_head = 632,
     .runtime_gil_current = -1, .runtime_gc = -1, .interp_next = 7264,
     .interp_threads_head = 7344, .interp_id = 7272, .interp_gc = 7400, .interp_gil = 16,
     .gil_last_holder = 8, .gil_locked = 16, .tstate_frame = 72, .cframe_current_frame = -1,
     .tstate_thread_id = 152, .tstate_native_thread_id = 160, .tstate_datastack_chunk = 232,
     .tstate_datastack_top = 240, .frame_previous = 8, .frame_code = 0, .frame_instr = 56,
     .instr_kind = PYI_INSTR_INSTR_PTR, .frame_owner = 70, .code_firstlineno = 68,
     .code_code_adaptive = 200, .code_firsttraceable = 184, .unicode_ascii_size = 40,
     .unicode_compact_size = 56},
};

/* The 3.13 _Py_DebugOffsets, all fields uint64 (Include/internal/pycore_runtime.h). */
typedef struct debug_offsets_313 {
    char cookie[8];
    uint64_t version, free_threaded;
    struct { uint64_t size, finalizing, interpreters_head; } runtime_state;
    struct {
        uint64_t size, id, next, threads_head, gc, imports_modules, sysdict, builtins,
            ceval_gil, gil_runtime_state, gil_runtime_state_enabled, gil_runtime_state_locked,
            gil_runtime_state_holder;
    } interpreter_state;
    struct {
        uint64_t size, prev, next, interp, current_frame, thread_id, native_thread_id,
            datastack_chunk, status;
    } thread_state;
    struct { uint64_t size, previous, executable, instr_ptr, localsplus, owner; } interpreter_frame;
    struct {
        uint64_t size, filename, name, qualname, linetable, firstlineno, argcount,
            localsplusnames, localspluskinds, co_code_adaptive;
    } code_object;
    struct { uint64_t size, ob_type; } pyobject;
    struct { uint64_t size, tp_name, tp_repr, tp_flags; } type_object;
    struct { uint64_t size, ob_item, ob_size; } tuple_object;
    struct { uint64_t size, ob_item, ob_size; } list_object;
    struct { uint64_t size, ma_keys, ma_values; } dict_object;
    struct { uint64_t size, ob_fval; } float_object;
    struct { uint64_t size, lv_tag, ob_digit; } long_object;
    struct { uint64_t size, ob_size, ob_sval; } bytes_object;
    struct { uint64_t size, state, length, asciiobject_size; } unicode_object;
    struct { uint64_t size, collecting; } gc;
} debug_offsets_313;

_Static_assert(sizeof(debug_offsets_313) == PYI_DEBUG_OFFSETS_313_SIZE,
               "the 3.13 _Py_DebugOffsets mirror must match its 584 bytes");

static uint32_t max_end(uint32_t size, int32_t offset, uint32_t width)
{
    if (offset >= 0 && (uint32_t)offset + width > size)
        return (uint32_t)offset + width;
    return size;
}

/* Derives the bytes to copy per structure from the field offsets. */
static void compute_read_sizes(pyi_py_layout *l)
{
    l->interp_read_size = 0;
    l->interp_read_size = max_end(l->interp_read_size, l->interp_next, 8);
    l->interp_read_size = max_end(l->interp_read_size, l->interp_threads_head, 8);
    l->interp_read_size = max_end(l->interp_read_size, l->interp_id, 8);
    l->interp_read_size = max_end(l->interp_read_size, l->interp_gil, 8);
    if (l->interp_gc >= 0)
        l->interp_read_size = max_end(l->interp_read_size, l->interp_gc + l->gc_collecting, 4);

    uint32_t t = 0;
    t = max_end(t, l->tstate_next, 8);
    t = max_end(t, l->tstate_interp, 8);
    t = max_end(t, l->tstate_frame, 8);
    t = max_end(t, l->tstate_thread_id, 8);
    t = max_end(t, l->tstate_native_thread_id, 8);
    t = max_end(t, l->tstate_datastack_chunk, 8);
    l->tstate_read_size = max_end(t, l->tstate_datastack_top, 8);

    uint32_t f = 0;
    f = max_end(f, l->frame_previous, 8);
    f = max_end(f, l->frame_code, 8);
    f = max_end(f, l->frame_instr, 8);
    l->frame_read_size = max_end(f, l->frame_owner, 1);

    uint32_t c = 0;
    c = max_end(c, l->object_type, 8);
    c = max_end(c, l->code_firstlineno, 4);
    c = max_end(c, l->code_filename, 8);
    c = max_end(c, l->code_name, 8);
    c = max_end(c, l->code_qualname, 8);
    c = max_end(c, l->code_linetable, 8);
    c = max_end(c, l->code_code, 8);
    c = max_end(c, l->code_firsttraceable, 4);
    c = max_end(c, l->code_units, 8);
    c = max_end(c, l->code_names, 8);
    l->code_read_size = max_end(c, l->code_local_names, 8);
    l->unicode_read_size = (uint32_t)l->unicode_compact_size + 8; /* up to data.any */
}

/* A debug offset must fit the structure it indexes; reject nonsense early. */
static int offset_ok(uint64_t offset, uint64_t limit)
{
    return offset < limit && offset < INT32_MAX;
}

static int check_debug_offsets(const debug_offsets_313 *d, char *msg, size_t msg_size)
{
    const uint64_t big = 1u << 20;
    if (memcmp(d->cookie, PYI_DEBUG_OFFSETS_COOKIE, 8) != 0) {
        snprintf(msg, msg_size, "_PyRuntime does not start with the _Py_DebugOffsets cookie");
        return PYI_E_UNSUPPORTED;
    }
    unsigned major = (unsigned)(d->version >> 24), minor = (unsigned)(d->version >> 16) & 0xff;
    if (major != 3 || minor != 13) {
        snprintf(msg, msg_size, "_Py_DebugOffsets of CPython %u.%u: this recorder knows 3.13",
                 major, minor);
        return PYI_E_UNSUPPORTED;
    }
    if (d->free_threaded) {
        snprintf(msg, msg_size, "free-threaded CPython builds are not supported");
        return PYI_E_UNSUPPORTED;
    }
    int sane = offset_ok(d->runtime_state.interpreters_head, d->runtime_state.size) &&
               offset_ok(d->interpreter_state.threads_head, d->interpreter_state.size) &&
               offset_ok(d->thread_state.current_frame, d->thread_state.size) &&
               offset_ok(d->interpreter_frame.instr_ptr, d->interpreter_frame.size) &&
               offset_ok(d->code_object.co_code_adaptive, d->code_object.size + 1) &&
               d->interpreter_state.size < big * 4 && d->code_object.size < big;
    if (!sane) {
        snprintf(msg, msg_size, "_Py_DebugOffsets holds offsets outside their structures");
        return PYI_E_UNSUPPORTED;
    }
    return 0;
}

/* ---- Public (to recorder/) -------------------------------------------- */

int pyi_py_layout_from_table(unsigned minor, pyi_py_layout *out)
{
    for (size_t i = 0; i < sizeof layout_tables / sizeof layout_tables[0]; i++) {
        if (layout_tables[i].minor == minor) {
            *out = layout_tables[i];
            compute_read_sizes(out);
            return 0;
        }
    }
    return PYI_E_UNSUPPORTED;
}

int pyi_py_layout_from_debug_offsets(const void *bytes, size_t size, pyi_py_layout *out,
                                     char *msg, size_t msg_size)
{
    debug_offsets_313 d;
    if (size < sizeof d) {
        snprintf(msg, msg_size, "_Py_DebugOffsets needs %zu bytes, got %zu", sizeof d, size);
        return PYI_E_UNSUPPORTED;
    }
    memcpy(&d, bytes, sizeof d);
    int rc = check_debug_offsets(&d, msg, msg_size);
    if (rc != 0)
        return rc;
    /* Fields the 3.13 debug offsets do not carry stay as in the table. */
    pyi_py_layout l;
    pyi_py_layout_from_table(13, &l);
    l.source = "_Py_DebugOffsets";
    l.runtime_interpreters_head = (int32_t)d.runtime_state.interpreters_head;
    l.interp_next = (int32_t)d.interpreter_state.next;
    l.interp_threads_head = (int32_t)d.interpreter_state.threads_head;
    l.interp_id = (int32_t)d.interpreter_state.id;
    l.interp_gc = (int32_t)d.interpreter_state.gc;
    l.interp_gil = (int32_t)d.interpreter_state.ceval_gil;
    /* locked/holder are given relative to the interpreter's embedded _gil. */
    l.gil_locked = (int32_t)(d.interpreter_state.gil_runtime_state_locked -
                             d.interpreter_state.gil_runtime_state);
    l.gil_last_holder = (int32_t)(d.interpreter_state.gil_runtime_state_holder -
                                  d.interpreter_state.gil_runtime_state);
    l.gc_collecting = (int32_t)d.gc.collecting;
    l.tstate_next = (int32_t)d.thread_state.next;
    l.tstate_interp = (int32_t)d.thread_state.interp;
    l.tstate_frame = (int32_t)d.thread_state.current_frame;
    l.tstate_thread_id = (int32_t)d.thread_state.thread_id;
    l.tstate_native_thread_id = (int32_t)d.thread_state.native_thread_id;
    l.tstate_datastack_chunk = (int32_t)d.thread_state.datastack_chunk;
    l.frame_previous = (int32_t)d.interpreter_frame.previous;
    l.frame_code = (int32_t)d.interpreter_frame.executable;
    l.frame_instr = (int32_t)d.interpreter_frame.instr_ptr;
    l.frame_owner = (int32_t)d.interpreter_frame.owner;
    l.frame_localsplus = (int32_t)d.interpreter_frame.localsplus;
    l.code_filename = (int32_t)d.code_object.filename;
    l.code_name = (int32_t)d.code_object.name;
    l.code_qualname = (int32_t)d.code_object.qualname;
    l.code_linetable = (int32_t)d.code_object.linetable;
    l.code_firstlineno = (int32_t)d.code_object.firstlineno;
    l.code_local_names = (int32_t)d.code_object.localsplusnames;
    l.code_code_adaptive = (int32_t)d.code_object.co_code_adaptive;
    l.object_type = (int32_t)d.pyobject.ob_type;
    l.tuple_items = (int32_t)d.tuple_object.ob_item;
    l.tuple_size = (int32_t)d.tuple_object.ob_size;
    l.bytes_size = (int32_t)d.bytes_object.ob_size;
    l.bytes_data = (int32_t)d.bytes_object.ob_sval;
    l.unicode_state = (int32_t)d.unicode_object.state;
    l.unicode_length = (int32_t)d.unicode_object.length;
    l.unicode_ascii_size = (int32_t)d.unicode_object.asciiobject_size;
    compute_read_sizes(&l);
    *out = l;
    return 0;
}

int pyi_py_layout_compare(const pyi_py_layout *a, const pyi_py_layout *b, char *msg,
                          size_t msg_size)
{
    int differences = 0;
    size_t used = 0;
    if (msg_size > 0)
        msg[0] = '\0';
#define COMPARE_FIELD(name)                                                                \
    if (a->name != b->name) {                                                              \
        if (differences < 4 && used < msg_size) {                                          \
            int n = snprintf(msg + used, msg_size - used, "%s%s %d != %d",                 \
                             differences ? "; " : "", #name, (int)a->name, (int)b->name);   \
            used += n > 0 ? (size_t)n : 0;                                                 \
        }                                                                                  \
        differences++;                                                                     \
    }
    LAYOUT_FIELDS(COMPARE_FIELD)
#undef COMPARE_FIELD
    if (a->minor != b->minor || a->instr_kind != b->instr_kind ||
        a->linetable_kind != b->linetable_kind)
        differences++;
    return differences;
}
