/* Call-site analysis: is the instruction at lasti a call, and which names does its callee load. */
/* SPDX-License-Identifier: MIT */
#include "py_opcodes_internal.h"

#include <string.h>

/* ---- Internal --------------------------------------------------------- */

typedef struct instruction {
    int32_t unit;   /* first code unit */
    int32_t size;   /* units including inline caches */
    uint8_t kind;   /* pyi_op_kind */
    uint8_t shift;  /* name_shift */
    uint32_t oparg; /* with EXTENDED_ARG prefixes applied */
} instruction;

typedef struct candidate {
    int found;
    pyi_position pos;
    instruction ins;
} candidate;

/* Orders end positions: is (line_a, col_a) before (line_b, col_b)? */
static int ends_before(const pyi_position *a, const pyi_position *b)
{
    return a->end_line < b->end_line ||
           (a->end_line == b->end_line && a->end_column < b->end_column);
}

static int same_position(const pyi_position *a, const pyi_position *b)
{
    return a->line == b->line && a->end_line == b->end_line && a->column == b->column &&
           a->end_column == b->end_column;
}

/* An instruction that starts where the call expression starts and ends
 * before it is part of the callee expression (3.11+ columns). */
static int is_callee_part(const pyi_position *pos, const pyi_position *call)
{
    return pos->line == call->line && pos->column == call->column && pos->column >= 0 &&
           ends_before(pos, call);
}

static void offer(candidate *best, candidate *second, const instruction *ins,
                  const pyi_position *pos)
{
    if (!best->found || !ends_before(pos, &best->pos)) {
        *second = *best;
        best->found = 1;
        best->pos = *pos;
        best->ins = *ins;
    } else if (!second->found || !ends_before(pos, &second->pos)) {
        second->found = 1;
        second->pos = *pos;
        second->ins = *ins;
    }
}

static int name_of(const candidate *c, uint8_t *table, uint32_t *index)
{
    if (!c->found)
        return 0;
    if (c->ins.kind == PYI_OP_LOAD_GLOBAL || c->ins.kind == PYI_OP_LOAD_ATTR) {
        *table = PYI_NAME_FROM_NAMES;
        *index = c->ins.oparg >> c->ins.shift;
        return 1;
    }
    if (c->ins.kind == PYI_OP_LOAD_LOCAL) {
        *table = PYI_NAME_FROM_LOCALS;
        *index = c->ins.oparg;
        return 1;
    }
    return 0;
}

/* Fills out->names from the two instructions ending last inside the callee. */
static void take_names(const candidate *best, const candidate *second, pyi_call_site *out)
{
    uint8_t table;
    uint32_t index;
    if (!name_of(best, &table, &index))
        return;
    /* A receiver only makes sense in front of an attribute ("time" . "sleep"). */
    if (best->ins.kind == PYI_OP_LOAD_ATTR &&
        name_of(second, &out->names[0].table, &out->names[0].index))
        out->name_count = 1;
    out->names[out->name_count].table = table;
    out->names[out->name_count].index = index;
    out->name_count++;
}

/* Decodes the instruction at unit; returns 0, or -1 if the byte is unknown
 * or hides its real opcode (instrumentation). */
static int decode(const pyi_opcode_table *t, const uint8_t *code, int32_t unit,
                  uint32_t extended, instruction *ins)
{
    uint8_t raw = code[2 * unit];
    ins->unit = unit;
    ins->kind = t->kind[raw];
    if (ins->kind == PYI_OP_OPAQUE || (t->deopt[raw] == 0 && raw != 0))
        return -1;
    ins->shift = t->name_shift[raw];
    ins->size = 1 + t->caches[raw];
    ins->oparg = (extended << 8) | code[2 * unit + 1];
    return 0;
}

/* ---- Before 3.11: back from the call through known stack effects ---- */

#define BACKWARD_LIMIT 256 /* instructions scanned back from a call */

/* The oparg of the instruction at unit, with its EXTENDED_ARG prefixes. */
static uint32_t legacy_oparg(const pyi_opcode_table *t, const uint8_t *code, int32_t unit)
{
    uint32_t oparg = code[2 * unit + 1];
    for (int shift = 8; shift <= 24 && unit > 0; shift += 8) {
        unit--;
        if (t->kind[code[2 * unit]] != PYI_OP_EXTENDED_ARG)
            break;
        oparg |= (uint32_t)code[2 * unit + 1] << shift;
    }
    return oparg;
}

/* Pops and pushes of an instruction; -1 when the scan cannot follow it. */
static int legacy_effect(const pyi_opcode_table *t, uint8_t raw, uint32_t oparg, uint32_t *pops,
                         uint32_t *pushes)
{
    uint16_t effect = t->effect[raw];
    uint32_t fixed = (effect >> 4) & 15, flags = oparg & 15;
    *pushes = (effect >> 8) & 15;
    switch (effect & 15) {
    case PYI_EFFECT_FIXED: *pops = fixed; return 0;
    case PYI_EFFECT_POPS_N: *pops = oparg; return 0;
    case PYI_EFFECT_POPS_2N: *pops = 2 * oparg; return 0;
    case PYI_EFFECT_POPS_N1: *pops = oparg + 1; return 0;
    case PYI_EFFECT_POPS_N2: *pops = oparg + 2; return 0;
    case PYI_EFFECT_FORMAT: *pops = (oparg & 4) ? 2 : 1; return 0;
    case PYI_EFFECT_CALL_EX: *pops = 2 + (oparg & 1); return 0;
    case PYI_EFFECT_MAKE_FUNCTION:
        *pops = 2 + (flags & 1) + ((flags >> 1) & 1) + ((flags >> 2) & 1) + ((flags >> 3) & 1);
        return 0;
    default: return -1;
    }
}

/* Finds the instruction before unit `from` that pushed the value `need`
 * slots below the top; returns its unit (and *slot, its index among what it
 * pushed, counted from the top), or -1. */
static int32_t legacy_pusher(const pyi_opcode_table *t, const uint8_t *code, int32_t from,
                             uint32_t need, uint32_t *slot)
{
    for (int32_t unit = from - 1, scanned = 0; unit >= 0 && scanned < BACKWARD_LIMIT;
         unit--, scanned++) {
        uint8_t raw = code[2 * unit];
        if (t->kind[raw] == PYI_OP_EXTENDED_ARG)
            continue;
        uint32_t pops, pushes;
        if (legacy_effect(t, raw, legacy_oparg(t, code, unit), &pops, &pushes) != 0)
            return -1; /* a jump, a stack shuffle, anything unknown: stop */
        if (need < pushes) {
            *slot = need;
            return unit;
        }
        need = need - pushes + pops;
    }
    return -1;
}

static int legacy_name(const pyi_opcode_table *t, const uint8_t *code, int32_t unit,
                       uint8_t *table, uint32_t *index)
{
    uint8_t kind = t->kind[code[2 * unit]];
    if (kind != PYI_OP_LOAD_GLOBAL && kind != PYI_OP_LOAD_ATTR && kind != PYI_OP_LOAD_LOCAL)
        return 0;
    *table = kind == PYI_OP_LOAD_LOCAL ? PYI_NAME_FROM_LOCALS : PYI_NAME_FROM_NAMES;
    *index = legacy_oparg(t, code, unit);
    return 1;
}

/* Names the callable of the call at lasti, and its receiver for an attribute. */
static void legacy_callee(const pyi_opcode_table *t, const uint8_t *code, int32_t lasti,
                          pyi_call_site *out)
{
    uint8_t raw = code[2 * lasti];
    uint32_t oparg = legacy_oparg(t, code, lasti), pops, pushes, slot;
    if (legacy_effect(t, raw, oparg, &pops, &pushes) != 0 || pops == 0)
        return;
    /* The callable is the deepest value the call pops; for CALL_METHOD that is
     * LOAD_METHOD's method, one above its self-or-NULL. */
    int32_t pusher = legacy_pusher(t, code, lasti, pops - 1, &slot);
    if (pusher < 0)
        return;
    uint32_t pusher_pushes = (t->effect[code[2 * pusher]] >> 8) & 15;
    if (slot != pusher_pushes - 1) /* the deepest value it pushed: the method, not self */
        return;
    uint8_t table;
    uint32_t index;
    if (!legacy_name(t, code, pusher, &table, &index))
        return;
    /* An attribute's receiver is what was on top when it was loaded. */
    int32_t receiver = t->kind[code[2 * pusher]] == PYI_OP_LOAD_ATTR
                           ? legacy_pusher(t, code, pusher, 0, &slot) : -1;
    if (receiver >= 0 && slot == 0 &&
        legacy_name(t, code, receiver, &out->names[0].table, &out->names[0].index))
        out->name_count = 1;
    out->names[out->name_count].table = table;
    out->names[out->name_count].index = index;
    out->name_count++;
}

/* ---- Public (to recorder/) -------------------------------------------- */

const pyi_opcode_table *pyi_opcode_table_for(unsigned minor)
{
    for (size_t i = 0; i < pyi__opcode_table_count; i++)
        if (pyi__opcode_tables[i].minor == minor)
            return &pyi__opcode_tables[i];
    return NULL;
}

void pyi_call_site_analyze(const pyi_opcode_table *t, const uint8_t *code, size_t units,
                           const uint8_t *linetable, size_t linetable_size,
                           int32_t firstlineno, int32_t lasti, pyi_call_site *out)
{
    memset(out, 0, sizeof *out);
    if (t == NULL || lasti < 0 || (size_t)lasti >= units)
        return;
    pyi_position call = {-1, -1, -1, -1};
    int columns = t->minor >= 11 && linetable != NULL &&
                  pyi_linetable_find(PYI_LINETABLE_LOCATIONS, linetable, linetable_size,
                                     firstlineno, lasti, &call) == 0 && call.column >= 0;
    pyi_linetable_iter it;
    pyi_linetable_range range = {0, 0, {-1, -1, -1, -1}};
    if (columns)
        pyi_linetable_iter_init(&it, PYI_LINETABLE_LOCATIONS, linetable, linetable_size,
                                firstlineno);
    candidate best = {0}, second = {0};
    uint32_t extended = 0;
    int evaluated = 0; /* an earlier call with the same position was passed */
    instruction ins;
    for (int32_t unit = 0; unit <= lasti; unit += ins.size) {
        if (decode(t, code, unit, extended, &ins) != 0)
            return;
        if (unit == lasti) {
            out->is_call = ins.kind == PYI_OP_CALL;
            break;
        }
        if (unit + ins.size > lasti)
            return; /* lasti is not an instruction boundary: stale or torn bytes */
        extended = ins.kind == PYI_OP_EXTENDED_ARG ? ins.oparg : 0;
        while (columns && range.end <= unit)
            if (pyi_linetable_next(&it, &range) != 1)
                columns = 0;
        int computes = ins.kind != PYI_OP_NEUTRAL && ins.kind != PYI_OP_EXTENDED_ARG;
        int is_call = ins.kind == PYI_OP_CALL || ins.kind == PYI_OP_CALL_PY;
        if (columns && is_call && range.start <= unit && same_position(&range.pos, &call)) {
            /* The same expression evaluated earlier (a loop test repeated at
             * the bottom of the loop): its parts are not this call's. */
            evaluated = 1;
        } else if (columns && computes && range.start <= unit &&
                   is_callee_part(&range.pos, &call)) {
            if (evaluated)
                best = second = (candidate){0};
            evaluated = 0;
            offer(&best, &second, &ins, &range.pos);
        }
    }
    if (out->is_call && columns)
        take_names(&best, &second, out);
    else if (out->is_call && t->minor < 11)
        legacy_callee(t, code, lasti, out);
}
