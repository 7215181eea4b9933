/* Decoders for co_lnotab (3.8/3.9), PEP 626 co_linetable (3.10) and PEP 657 location tables (3.11+). */
/* SPDX-License-Identifier: MIT */
#include "py_linetable_internal.h"

#include <string.h>

/* ---- Internal --------------------------------------------------------- */

/* PEP 657 entry codes (Objects/locations.md). */
#define LOC_SHORT_MAX 9      /* 0-9: same line, one byte of column data */
#define LOC_ONE_LINE0 10     /* 10-12: line delta 0/1/2, column and end column bytes */
#define LOC_NO_COLUMNS 13    /* signed varint line delta */
#define LOC_LONG 14          /* line delta, end line delta, column+1, end column+1 */
#define LOC_NONE 15          /* no location */

static const pyi_position no_position = {-1, -1, -1, -1};

/* 6-bit little-endian groups, 0x40 = more follows. */
static int read_varint(pyi_linetable_iter *it, uint32_t *value)
{
    uint32_t result = 0;
    for (unsigned shift = 0; shift < 32; shift += 6) {
        if (it->offset >= it->size)
            return -1;
        uint8_t byte = it->table[it->offset++];
        result |= (uint32_t)(byte & 63) << shift;
        if (!(byte & 64)) {
            *value = result;
            return 0;
        }
    }
    return -1;
}

static int read_signed_varint(pyi_linetable_iter *it, int32_t *value)
{
    uint32_t raw;
    if (read_varint(it, &raw) != 0)
        return -1;
    *value = (raw & 1) ? -(int32_t)(raw >> 1) : (int32_t)(raw >> 1);
    return 0;
}

static int read_byte(pyi_linetable_iter *it, uint8_t *value)
{
    if (it->offset >= it->size)
        return -1;
    *value = it->table[it->offset++];
    return 0;
}

/* Reads the body of a PEP 657 entry with the given code into pos. */
static int read_location_body(pyi_linetable_iter *it, int code, pyi_position *pos)
{
    uint8_t a, b;
    int32_t delta;
    uint32_t end_delta, column, end_column;
    if (code == LOC_NONE) {
        *pos = no_position;
        return 0;
    }
    if (code <= LOC_SHORT_MAX) {
        if (read_byte(it, &a) != 0)
            return -1;
        pos->line = pos->end_line = it->line;
        pos->column = (code << 3) | (a >> 4);
        pos->end_column = pos->column + (a & 15);
        return 0;
    }
    if (code < LOC_NO_COLUMNS) {
        if (read_byte(it, &a) != 0 || read_byte(it, &b) != 0)
            return -1;
        it->line += code - LOC_ONE_LINE0;
        *pos = (pyi_position){it->line, it->line, a, b};
        return 0;
    }
    if (read_signed_varint(it, &delta) != 0)
        return -1;
    it->line += delta;
    if (code == LOC_NO_COLUMNS) {
        *pos = (pyi_position){it->line, it->line, -1, -1};
        return 0;
    }
    if (read_varint(it, &end_delta) != 0 || read_varint(it, &column) != 0 ||
        read_varint(it, &end_column) != 0)
        return -1;
    *pos = (pyi_position){it->line, it->line + (int32_t)end_delta, (int32_t)column - 1,
                          (int32_t)end_column - 1};
    return 0;
}

static int next_location(pyi_linetable_iter *it, pyi_linetable_range *range)
{
    uint8_t first;
    if (it->offset >= it->size)
        return 0;
    if (read_byte(it, &first) != 0 || !(first & 0x80))
        return -1;
    range->start = it->unit;
    it->unit += (first & 7) + 1;
    range->end = it->unit;
    return read_location_body(it, (first >> 3) & 15, &range->pos) == 0 ? 1 : -1;
}

/* 3.10: (byte length, signed line delta) pairs; -128 = no line. */
static int next_pep626(pyi_linetable_iter *it, pyi_linetable_range *range)
{
    uint8_t length = 0, delta = 0;
    if (it->offset + 2 > it->size)
        return it->offset == it->size ? 0 : -1;
    if (read_byte(it, &length) != 0 || read_byte(it, &delta) != 0)
        return -1;
    range->start = it->unit;
    it->bytes += length;
    it->unit = (int32_t)((it->bytes + 1) / 2); /* first unit at or past it */
    range->end = it->unit;
    if ((int8_t)delta == -128) {
        range->pos = no_position;
    } else {
        it->line += (int8_t)delta;
        range->pos = (pyi_position){it->line, it->line, -1, -1};
    }
    return 1;
}

/* 3.8/3.9: (byte increment, signed line increment) pairs. A pair's address
 * increment ends the current line's range; its line increment starts the
 * next one. The last range runs to the end of the code. */
static int next_lnotab(pyi_linetable_iter *it, pyi_linetable_range *range)
{
    if (it->offset > it->size)
        return 0;
    range->start = it->unit;
    range->pos = (pyi_position){it->line, it->line, -1, -1};
    for (;;) {
        if (it->offset + 2 > it->size) {
            it->offset = it->size + 1; /* the open-ended last range is produced once */
            range->end = INT32_MAX;
            return 1;
        }
        uint8_t increment = it->table[it->offset], delta = it->table[it->offset + 1];
        it->offset += 2;
        it->bytes += increment; /* sum bytes: a 255 increment is odd */
        it->unit = (int32_t)((it->bytes + 1) / 2); /* first unit at or past it */
        if ((int8_t)delta != 0 || increment == 0) {
            range->end = it->unit;
            it->line += (int8_t)delta;
            return 1;
        }
    }
}

/* ---- Public (to recorder/) -------------------------------------------- */

void pyi_linetable_iter_init(pyi_linetable_iter *it, pyi_linetable_kind kind,
                             const uint8_t *table, size_t size, int32_t firstlineno)
{
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->table = table;
    it->size = size;
    it->line = firstlineno;
}

int pyi_linetable_next(pyi_linetable_iter *it, pyi_linetable_range *range)
{
    for (;;) {
        int rc;
        switch (it->kind) {
        case PYI_LINETABLE_LOCATIONS:
            rc = next_location(it, range);
            break;
        case PYI_LINETABLE_PEP626:
            rc = next_pep626(it, range);
            break;
        case PYI_LINETABLE_LNOTAB:
            rc = next_lnotab(it, range);
            break;
        default:
            return -1;
        }
        if (rc != 1 || range->end > range->start)
            return rc;
    }
}

int pyi_linetable_find(pyi_linetable_kind kind, const uint8_t *table, size_t size,
                       int32_t firstlineno, int32_t unit, pyi_position *pos)
{
    if (unit < 0) {
        *pos = (pyi_position){firstlineno, firstlineno, -1, -1};
        return 0;
    }
    pyi_linetable_iter it;
    pyi_linetable_range range;
    pyi_linetable_iter_init(&it, kind, table, size, firstlineno);
    int rc;
    while ((rc = pyi_linetable_next(&it, &range)) == 1) {
        if (unit >= range.start && unit < range.end) {
            *pos = range.pos;
            return 0;
        }
    }
    return -1;
}
