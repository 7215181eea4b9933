/* Private to recorder/: decoders for CPython's three line-number table encodings. */
/* SPDX-License-Identifier: MIT */
/*
 * Pure functions on copied bytes: they never read interpreter memory and
 * never trust the table (any malformed input ends the walk with an error).
 * Instruction positions are in 2-byte code units on every version.
 * Formats: co_lnotab (3.8/3.9), PEP 626 co_linetable (3.10), PEP 657
 * location table (3.11+); shared/notes/samplers.md §7.2.
 */
#ifndef PYI_PY_LINETABLE_INTERNAL_H
#define PYI_PY_LINETABLE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "py_layout_internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where an instruction is in the source; -1 marks an unknown part. */
typedef struct pyi_position {
    int32_t line;       /* -1 = the instruction has no line (artificial code) */
    int32_t end_line;
    int32_t column;     /* 0-based UTF-8 byte column (3.11+ only), -1 */
    int32_t end_column;
} pyi_position;

/* One range of code units sharing a position. */
typedef struct pyi_linetable_range {
    int32_t start;    /* first code unit */
    int32_t end;      /* one past the last code unit */
    pyi_position pos;
} pyi_linetable_range;

typedef struct pyi_linetable_iter {
    pyi_linetable_kind kind;
    const uint8_t *table; /* borrowed */
    size_t size;
    size_t offset;        /* next byte to decode */
    int32_t line;         /* running line number */
    int32_t unit;         /* code unit where the next range starts */
    uint32_t bytes;       /* 3.8-3.10: byte offset where the next range starts */
} pyi_linetable_iter;

void pyi_linetable_iter_init(pyi_linetable_iter *it, pyi_linetable_kind kind,
                             const uint8_t *table, size_t size, int32_t firstlineno);

/* Produces the next range. Returns 1 with *range set, 0 at the end of the
 * table, or -1 when the table is malformed. Empty ranges are skipped. */
int pyi_linetable_next(pyi_linetable_iter *it, pyi_linetable_range *range);

/*
 * Position of the instruction at code unit `unit` (-1 = the frame has not
 * started: its position is the first line). Returns 0, or -1 when the table
 * is malformed or does not cover unit.
 */
int pyi_linetable_find(pyi_linetable_kind kind, const uint8_t *table, size_t size,
                       int32_t firstlineno, int32_t unit, pyi_position *pos);

#ifdef __cplusplus
}
#endif

#endif /* PYI_PY_LINETABLE_INTERNAL_H */
