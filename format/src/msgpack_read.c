/* SPDX-License-Identifier: MIT */
/* The bounds-checked msgpack cursor (see msgpack_read_internal.h for why). */
#include "msgpack_read_internal.h"

#include <string.h>

#include "common_internal.h"

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Consumes n bytes of payload after a header byte, or fails. */
static int take(pyi_mp *m, size_t n, const uint8_t **out)
{
    if (pyi__mp_remaining(m) < n)
        return PYI_E_CORRUPT;
    *out = m->pos;
    m->pos += n;
    return PYI_OK;
}

/* Reads a length of width bytes (1, 2 or 4). */
static int take_length(pyi_mp *m, int width, uint64_t *length)
{
    const uint8_t *p;
    if (take(m, (size_t)width, &p))
        return PYI_E_CORRUPT;
    *length = be(p, width);
    return PYI_OK;
}

int pyi__mp_array(pyi_mp *m, uint32_t *count)
{
    if (m->pos >= m->end)
        return PYI_E_CORRUPT;
    uint8_t c = *m->pos++;
    uint64_t n;
    if (c >= 0x90 && c <= 0x9f)
        n = c & 0x0f;
    else if (c == 0xdc || c == 0xdd) {
        if (take_length(m, c == 0xdc ? 2 : 4, &n))
            return PYI_E_CORRUPT;
    } else
        return PYI_E_CORRUPT;
    if (n > pyi__mp_remaining(m)) /* every element takes at least one byte */
        return PYI_E_CORRUPT;
    *count = (uint32_t)n;
    return PYI_OK;
}

int pyi__mp_map(pyi_mp *m, uint32_t *count)
{
    if (m->pos >= m->end)
        return PYI_E_CORRUPT;
    uint8_t c = *m->pos++;
    uint64_t n;
    if (c >= 0x80 && c <= 0x8f)
        n = c & 0x0f;
    else if (c == 0xde || c == 0xdf) {
        if (take_length(m, c == 0xde ? 2 : 4, &n))
            return PYI_E_CORRUPT;
    } else
        return PYI_E_CORRUPT;
    if (n > pyi__mp_remaining(m) / 2)
        return PYI_E_CORRUPT;
    *count = (uint32_t)n;
    return PYI_OK;
}

/* Reads any integer as a sign flag plus magnitude bits. */
static int read_integer(pyi_mp *m, int *negative, uint64_t *bits)
{
    if (m->pos >= m->end)
        return PYI_E_CORRUPT;
    uint8_t c = *m->pos++;
    const uint8_t *p;
    *negative = 0;
    if (c <= 0x7f) {
        *bits = c;
        return PYI_OK;
    }
    if (c >= 0xe0) {
        *negative = 1;
        *bits = (uint64_t)(int64_t)(int8_t)c;
        return PYI_OK;
    }
    if (c >= 0xcc && c <= 0xcf) {
        int width = 1 << (c - 0xcc);
        if (take(m, (size_t)width, &p))
            return PYI_E_CORRUPT;
        *bits = be(p, width);
        return PYI_OK;
    }
    if (c >= 0xd0 && c <= 0xd3) {
        int width = 1 << (c - 0xd0);
        if (take(m, (size_t)width, &p))
            return PYI_E_CORRUPT;
        uint64_t raw = be(p, width);
        int shift = 64 - 8 * width;
        int64_t value = shift ? (int64_t)(raw << shift) >> shift : (int64_t)raw;
        *negative = value < 0;
        *bits = (uint64_t)value;
        return PYI_OK;
    }
    return PYI_E_CORRUPT;
}

int pyi__mp_uint(pyi_mp *m, uint64_t *value)
{
    int negative;
    if (read_integer(m, &negative, value) || negative)
        return PYI_E_CORRUPT;
    return PYI_OK;
}

int pyi__mp_u32(pyi_mp *m, uint32_t *value)
{
    uint64_t v;
    if (pyi__mp_uint(m, &v) || v > UINT32_MAX)
        return PYI_E_CORRUPT;
    *value = (uint32_t)v;
    return PYI_OK;
}

int pyi__mp_int(pyi_mp *m, int64_t *value)
{
    int negative;
    uint64_t bits;
    if (read_integer(m, &negative, &bits))
        return PYI_E_CORRUPT;
    if (!negative && bits > (uint64_t)INT64_MAX)
        return PYI_E_CORRUPT;
    *value = (int64_t)bits;
    return PYI_OK;
}

int pyi__mp_nil(pyi_mp *m)
{
    if (!pyi__mp_next_is_nil(m))
        return PYI_E_CORRUPT;
    m->pos++;
    return PYI_OK;
}

/* Reads a str or bin header: *kind 's' or 'b'. */
static int read_bytes_header(pyi_mp *m, uint8_t c, uint64_t *length)
{
    if (c >= 0xa0 && c <= 0xbf) {
        *length = c & 0x1f;
        return PYI_OK;
    }
    switch (c) {
    case 0xd9:
    case 0xc4:
        return take_length(m, 1, length);
    case 0xda:
    case 0xc5:
        return take_length(m, 2, length);
    case 0xdb:
    case 0xc6:
        return take_length(m, 4, length);
    }
    return PYI_E_CORRUPT;
}

static int is_str_byte(uint8_t c)
{
    return (c >= 0xa0 && c <= 0xbf) || c == 0xd9 || c == 0xda || c == 0xdb;
}

int pyi__mp_str(pyi_mp *m, const char **text, uint32_t *length)
{
    if (m->pos >= m->end || !is_str_byte(*m->pos))
        return PYI_E_CORRUPT;
    uint8_t c = *m->pos++;
    uint64_t n;
    const uint8_t *p;
    if (read_bytes_header(m, c, &n) || take(m, (size_t)n, &p))
        return PYI_E_CORRUPT;
    *text = (const char *)p;
    *length = (uint32_t)n;
    return PYI_OK;
}

/* What one object header says: how many child objects follow, and whether
 * it is a map key position problem to check. */
typedef struct mp_header {
    uint64_t children; /* array elements, or 2 x map pairs */
    int is_map;
    int is_ext;
    int is_str;
} mp_header;

/* Consumes one object header and its scalar payload. */
static int read_header(pyi_mp *m, mp_header *h)
{
    memset(h, 0, sizeof(*h));
    if (m->pos >= m->end)
        return PYI_E_CORRUPT;
    uint8_t c = *m->pos;
    const uint8_t *p;
    uint64_t n;
    if (c <= 0x7f || c >= 0xe0 || (c >= 0xcc && c <= 0xd3)) {
        int negative;
        return read_integer(m, &negative, &n);
    }
    if ((c >= 0x90 && c <= 0x9f) || c == 0xdc || c == 0xdd) {
        uint32_t count;
        if (pyi__mp_array(m, &count))
            return PYI_E_CORRUPT;
        h->children = count;
        return PYI_OK;
    }
    if ((c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf) {
        uint32_t count;
        if (pyi__mp_map(m, &count))
            return PYI_E_CORRUPT;
        h->children = 2ull * count;
        h->is_map = 1;
        return PYI_OK;
    }
    m->pos++;
    switch (c) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
        return PYI_OK;
    case 0xca:
        return take(m, 4, &p);
    case 0xcb:
        return take(m, 8, &p);
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        h->is_ext = 1;
        return take(m, 1 + ((size_t)1 << (c - 0xd4)), &p);
    case 0xc7:
    case 0xc8:
    case 0xc9:
        h->is_ext = 1;
        if (take_length(m, c == 0xc7 ? 1 : c == 0xc8 ? 2 : 4, &n))
            return PYI_E_CORRUPT;
        return take(m, (size_t)n + 1, &p);
    }
    h->is_str = is_str_byte(c);
    if (read_bytes_header(m, c, &n))
        return PYI_E_CORRUPT; /* 0xc1 and anything else unknown */
    return take(m, (size_t)n, &p);
}

/*
 * Walks one object without recursion. With strict set it also enforces the
 * rules for values of known records: bounded nesting, no ext, str map keys,
 * valid UTF-8 strings.
 */
static int walk(pyi_mp *m, int strict)
{
    uint64_t pending[PYI_MP_MAX_DEPTH + 1]; /* children left per open container */
    int in_map[PYI_MP_MAX_DEPTH + 1];
    int depth = 0;
    pending[0] = 1;
    in_map[0] = 0;
    while (depth >= 0) {
        if (pending[depth] == 0) {
            depth--;
            continue;
        }
        int is_key = in_map[depth] && (pending[depth] % 2 == 0);
        pending[depth]--;
        const uint8_t *start = m->pos;
        mp_header h;
        if (read_header(m, &h))
            return PYI_E_CORRUPT;
        if (strict) {
            if (h.is_ext || (is_key && !h.is_str))
                return PYI_E_CORRUPT;
            if (h.is_str) {
                pyi_mp s = {start, m->pos};
                const char *text;
                uint32_t length;
                if (pyi__mp_str(&s, &text, &length) || !pyi__utf8_valid(text, length))
                    return PYI_E_CORRUPT;
            }
        }
        if (h.children > 0 || h.is_map) {
            if (depth == PYI_MP_MAX_DEPTH) {
                if (strict)
                    return PYI_E_CORRUPT;
                /* unknown records: nest freely by counting, not tracking kinds */
                pending[depth] += h.children;
                continue;
            }
            depth++;
            pending[depth] = h.children;
            in_map[depth] = h.is_map;
        }
    }
    return PYI_OK;
}

int pyi__mp_skip(pyi_mp *m)
{
    return walk(m, 0);
}

int pyi__mp_value(pyi_mp *m, pyi_value *value)
{
    memset(value, 0, sizeof(*value));
    if (m->pos >= m->end)
        return PYI_E_CORRUPT;
    uint8_t c = *m->pos;
    const uint8_t *start = m->pos;
    if (c == 0xc0) {
        m->pos++;
        value->kind = PYI_VALUE_NIL;
        return PYI_OK;
    }
    if (c == 0xc2 || c == 0xc3) {
        m->pos++;
        value->kind = PYI_VALUE_BOOL;
        value->i = c == 0xc3;
        return PYI_OK;
    }
    if (c <= 0x7f || c >= 0xe0 || (c >= 0xcc && c <= 0xd3)) {
        int negative;
        uint64_t bits;
        if (read_integer(m, &negative, &bits))
            return PYI_E_CORRUPT;
        if (!negative && bits > (uint64_t)INT64_MAX) {
            value->kind = PYI_VALUE_UINT;
            value->u = bits;
        } else {
            value->kind = PYI_VALUE_INT;
            value->i = (int64_t)bits;
        }
        return PYI_OK;
    }
    if (c == 0xca || c == 0xcb) {
        const uint8_t *p;
        m->pos++;
        if (take(m, c == 0xca ? 4 : 8, &p))
            return PYI_E_CORRUPT;
        value->kind = PYI_VALUE_FLOAT;
        if (c == 0xca) {
            uint32_t bits = (uint32_t)be(p, 4);
            float f;
            memcpy(&f, &bits, 4);
            value->f = f;
        } else {
            uint64_t bits = be(p, 8);
            memcpy(&value->f, &bits, 8);
        }
        return PYI_OK;
    }
    if (is_str_byte(c)) {
        const char *text;
        uint32_t length;
        if (pyi__mp_str(m, &text, &length) || !pyi__utf8_valid(text, length))
            return PYI_E_CORRUPT;
        value->kind = PYI_VALUE_STRING;
        value->s = text;
        value->length = length;
        return PYI_OK;
    }
    if (walk(m, 1))
        return PYI_E_CORRUPT;
    value->kind = PYI_VALUE_RAW;
    value->s = (const char *)start;
    value->length = (size_t)(m->pos - start);
    return PYI_OK;
}
