/* Private to recorder/: where each interpreter structure keeps the fields the sampler reads. */
/* SPDX-License-Identifier: MIT */
/*
 * One pyi_py_layout describes one CPython minor version on x86_64/aarch64
 * Linux (default GIL build, not a debug build). 3.8-3.12 come from tables
 * measured against each version's internal headers; 3.13 comes from the
 * interpreter's own _Py_DebugOffsets (the first member of _PyRuntime), with
 * the few fields it lacks taken from the 3.13 table. Offsets are in bytes
 * from the start of the structure; -1 marks a field that version lacks.
 * Facts: shared/notes/samplers.md §7.1 and tests/python/layout_check.c.
 */
#ifndef PYI_PY_LAYOUT_INTERNAL_H
#define PYI_PY_LAYOUT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How a frame says which instruction runs. */
typedef enum pyi_instr_kind {
    PYI_INSTR_LASTI_BYTES = 1, /* 3.8/3.9: int f_lasti, byte offset, -1 = not started */
    PYI_INSTR_LASTI_UNITS = 2, /* 3.10: int f_lasti, in 2-byte code units */
    PYI_INSTR_PREV_INSTR = 3,  /* 3.11/3.12: pointer to the instruction being executed */
    PYI_INSTR_INSTR_PTR = 4,   /* 3.13: pointer to the current instruction */
} pyi_instr_kind;

/* Which line-table encoding co_linetable/co_lnotab holds. */
typedef enum pyi_linetable_kind {
    PYI_LINETABLE_LNOTAB = 1,    /* 3.8/3.9 co_lnotab */
    PYI_LINETABLE_PEP626 = 2,    /* 3.10 co_linetable */
    PYI_LINETABLE_LOCATIONS = 3, /* 3.11+ PEP 657 location table */
} pyi_linetable_kind;

#define PYI_FRAME_OWNED_BY_GENERATOR 1 /* 3.11+ frame owners (enum _frameowner) */
#define PYI_FRAME_OWNED_BY_CSTACK 3    /* 3.12+: C-stack shim frame, never shown */

typedef struct pyi_py_layout {
    unsigned minor;        /* 8..13: CPython 3.<minor> */
    const char *source;    /* "table" or "_Py_DebugOffsets" */
    int32_t runtime_interpreters_head; /* _PyRuntime.interpreters.head */
    int32_t runtime_gil_current;       /* _PyRuntime.gilstate.tstate_current (<= 3.11), -1 */
    int32_t runtime_gc;                /* _PyRuntime.gc (3.8 only), -1 */
    int32_t interp_next;
    int32_t interp_threads_head;
    int32_t interp_id;
    int32_t interp_gc;       /* PyInterpreterState.gc (3.9+), -1 */
    int32_t interp_gil;      /* PyInterpreterState.ceval.gil pointer (3.12+), -1 */
    int32_t gc_collecting;   /* int collecting inside the GC state */
    int32_t gil_last_holder; /* inside struct _gil_runtime_state (3.12+) */
    int32_t gil_locked;
    int32_t tstate_next;
    int32_t tstate_interp;
    int32_t tstate_frame;         /* frame / cframe / current_frame */
    int32_t cframe_current_frame; /* 3.11/3.12: _PyCFrame.current_frame; -1 = tstate_frame is direct */
    int32_t tstate_thread_id;     /* unsigned long, pthread_t on Linux */
    int32_t tstate_native_thread_id; /* 3.11+, -1 */
    int32_t tstate_datastack_chunk;  /* 3.11+, -1 */
    int32_t tstate_datastack_top;    /* 3.11+, -1 */
    int32_t frame_previous;       /* f_back / previous */
    int32_t frame_code;           /* f_code / f_executable */
    int32_t frame_instr;          /* see instr_kind */
    pyi_instr_kind instr_kind;
    int32_t frame_owner;          /* 3.11+ (char), -1 */
    int32_t frame_localsplus;     /* 3.11+, -1 */
    int32_t code_firstlineno;     /* int */
    int32_t code_filename;
    int32_t code_name;
    int32_t code_qualname;        /* 3.11+, -1 */
    int32_t code_linetable;       /* bytes: co_lnotab or co_linetable */
    pyi_linetable_kind linetable_kind;
    int32_t code_code;            /* <= 3.10: bytes co_code, -1 */
    int32_t code_code_adaptive;   /* 3.11+: first instruction inside the code object, -1 */
    int32_t code_firsttraceable;  /* 3.11+: int _co_firsttraceable, -1 */
    int32_t code_units;           /* 3.11+: ob_size, the bytecode length in code units, -1 */
    int32_t code_names;           /* tuple co_names */
    int32_t code_local_names;     /* tuple co_localsplusnames (3.11+) or co_varnames */
    int32_t unicode_length;
    int32_t unicode_state;
    int32_t unicode_ascii_size;   /* sizeof(PyASCIIObject): compact ASCII data follows */
    int32_t unicode_compact_size; /* sizeof(PyCompactUnicodeObject): other compact data, or data.any */
    int32_t bytes_size;           /* ob_size */
    int32_t bytes_data;           /* ob_sval */
    int32_t tuple_size;
    int32_t tuple_items;
    int32_t chunk_previous;       /* _PyStackChunk (3.11+) */
    int32_t chunk_size;
    int32_t chunk_top;
    int32_t chunk_data;
    int32_t object_type;          /* ob_type */
    /* Bytes to copy so that every field above of that structure is inside. */
    uint32_t interp_read_size;
    uint32_t tstate_read_size;
    uint32_t frame_read_size;
    uint32_t code_read_size;
    uint32_t unicode_read_size;
} pyi_py_layout;

/* Size of the 3.13 _Py_DebugOffsets structure (and of the prefix we parse). */
#define PYI_DEBUG_OFFSETS_313_SIZE 584
#define PYI_DEBUG_OFFSETS_COOKIE "xdebugpy"

/*
 * Copies the built-in table for CPython 3.<minor> into *out. Returns 0, or
 * PYI_E_UNSUPPORTED for a minor we have no table for. 3.13's table exists to
 * fill gaps in and cross-check the interpreter's _Py_DebugOffsets.
 */
int pyi_py_layout_from_table(unsigned minor, pyi_py_layout *out);

/*
 * Builds the layout of a 3.13+ interpreter from the bytes at the start of its
 * _PyRuntime (at least PYI_DEBUG_OFFSETS_313_SIZE of them). Returns 0, or
 * PYI_E_UNSUPPORTED with a message when the cookie is missing, the version is
 * not one we know how to parse, or the build is free-threaded.
 */
int pyi_py_layout_from_debug_offsets(const void *bytes, size_t size, pyi_py_layout *out,
                                     char *msg, size_t msg_size);

/*
 * Compares two layouts field by field. Returns the number of differing
 * fields and writes the first few ("tstate_frame 72 != 56; ...") into msg.
 */
int pyi_py_layout_compare(const pyi_py_layout *a, const pyi_py_layout *b, char *msg,
                          size_t msg_size);

#ifdef __cplusplus
}
#endif

#endif /* PYI_PY_LAYOUT_INTERNAL_H */
