/* Private to recorder/: per-version opcode facts and the call-site analysis behind native leaves. */
/* SPDX-License-Identifier: MIT */
/*
 * When a thread's innermost Python frame is executing a call instruction,
 * the thread is inside the callee, and since the callee has no Python frame
 * it is native code (time.sleep, socket.recv, a json speedup...). This module
 * decides whether the instruction at lasti is a call and which names the
 * callee expression loads ("time.sleep"): on 3.11+ by matching the PEP 657
 * column ranges of the instructions before the call; before 3.11 (no
 * columns) by walking back from the call through straight-line code with
 * known stack effects to the instruction that pushed the callable.
 */
#ifndef PYI_PY_OPCODES_INTERNAL_H
#define PYI_PY_OPCODES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "py_linetable_internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Classification of base opcodes (mirrored in recorder/tools/gen_opcode_tables.py). */
typedef enum pyi_op_kind {
    PYI_OP_OTHER = 0,
    PYI_OP_CALL = 1,         /* calls whatever is on the stack */
    PYI_OP_LOAD_GLOBAL = 2,  /* a global or module name: oparg >> name_shift indexes co_names */
    PYI_OP_LOAD_LOCAL = 3,   /* oparg indexes the local names (3.11+; LOAD_FAST before) */
    PYI_OP_EXTENDED_ARG = 4,
    PYI_OP_OPAQUE = 5,       /* instrumentation hides the real opcode: analysis stops */
    PYI_OP_LOAD_ATTR = 6,    /* an attribute of the value below: co_names as LOAD_GLOBAL */
    PYI_OP_NEUTRAL = 7,      /* shares the callee's source range without computing it */
    PYI_OP_CALL_PY = 8,      /* a call specialised for Python callees: never native */
} pyi_op_kind;

typedef struct pyi_opcode_table {
    unsigned minor;              /* CPython 3.<minor> */
    unsigned have_argument;      /* opcodes below this ignore oparg */
    const uint8_t *deopt;        /* [256] base opcode, 0 for unknown bytes */
    const uint8_t *caches;       /* [256] inline cache units after the instruction (3.11+) */
    const uint8_t *kind;         /* [256] pyi_op_kind */
    const uint8_t *name_shift;   /* [256] oparg >> shift = name index */
    const uint16_t *effect;      /* [256] before 3.11: stack effect, PYI_EFFECT_* class in
                                    bits 0-3, fixed pops in 4-7, pushes in 8-11 */
} pyi_opcode_table;

/* Stack-effect classes (generated with the tables). */
#define PYI_EFFECT_UNKNOWN 0       /* the backward scan stops here */
#define PYI_EFFECT_FIXED 1         /* pops and pushes as encoded */
#define PYI_EFFECT_POPS_N 2        /* pops oparg */
#define PYI_EFFECT_POPS_2N 3       /* pops 2 * oparg (BUILD_MAP) */
#define PYI_EFFECT_POPS_N1 4       /* pops oparg + 1 */
#define PYI_EFFECT_POPS_N2 5       /* pops oparg + 2 */
#define PYI_EFFECT_FORMAT 6        /* FORMAT_VALUE: 1, or 2 with a format spec */
#define PYI_EFFECT_MAKE_FUNCTION 7 /* 2 + one per flag bit */
#define PYI_EFFECT_CALL_EX 8       /* CALL_FUNCTION_EX: 2, or 3 with kwargs */

/* Generated tables (py_opcodes_table.c). */
extern const pyi_opcode_table pyi__opcode_tables[];
extern const size_t pyi__opcode_table_count;

/* The table for CPython 3.<minor>, or NULL. */
const pyi_opcode_table *pyi_opcode_table_for(unsigned minor);

/* Which name table a callee name comes from. */
#define PYI_NAME_FROM_NAMES 1  /* co_names */
#define PYI_NAME_FROM_LOCALS 2 /* co_localsplusnames / co_varnames */

typedef struct pyi_call_site {
    int is_call;        /* the instruction at lasti calls something */
    int name_count;     /* 0 (unknown callee), 1 or 2 */
    struct {
        uint8_t table;  /* PYI_NAME_FROM_* */
        uint32_t index;
    } names[2];         /* outermost first: "time" then "sleep" */
} pyi_call_site;

/*
 * Analyses the instruction at code unit lasti of code (units 2-byte code
 * units, at least lasti + 1 of them). linetable is only used from 3.11 (it
 * may be NULL before). Never fails: anything it cannot follow leaves
 * name_count at 0.
 */
void pyi_call_site_analyze(const pyi_opcode_table *t, const uint8_t *code, size_t units,
                           const uint8_t *linetable, size_t linetable_size,
                           int32_t firstlineno, int32_t lasti, pyi_call_site *out);

#ifdef __cplusplus
}
#endif

#endif /* PYI_PY_OPCODES_INTERNAL_H */
