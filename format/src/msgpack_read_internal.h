/* SPDX-License-Identifier: MIT */
/*
 * Private to format/: a bounds-checked msgpack cursor for reading untrusted
 * bytes. msgpack-c's unpacker allocates for a claimed array length before it
 * has the elements, so one corrupt length byte could ask for gigabytes; this
 * cursor checks every length against the bytes that remain and allocates
 * nothing. Every function returns 0 or PYI_E_CORRUPT.
 */
#ifndef PYI_MSGPACK_READ_INTERNAL_H
#define PYI_MSGPACK_READ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "pyi/trace.h"

#define PYI_MP_MAX_DEPTH 32 /* spec §11 */

typedef struct pyi_mp {
    const uint8_t *pos; /* next byte to read */
    const uint8_t *end; /* one past the last byte */
} pyi_mp;

static inline void pyi__mp_init(pyi_mp *m, const void *data, size_t size)
{
    m->pos = (const uint8_t *)data;
    m->end = m->pos + size;
}

static inline size_t pyi__mp_remaining(const pyi_mp *m)
{
    return (size_t)(m->end - m->pos);
}

/* Non-zero when the next object is nil (does not consume it). */
static inline int pyi__mp_next_is_nil(const pyi_mp *m)
{
    return m->pos < m->end && *m->pos == 0xc0;
}

int pyi__mp_array(pyi_mp *m, uint32_t *count);
int pyi__mp_map(pyi_mp *m, uint32_t *count);
int pyi__mp_uint(pyi_mp *m, uint64_t *value);
int pyi__mp_u32(pyi_mp *m, uint32_t *value); /* a uint that fits 32 bits */
int pyi__mp_int(pyi_mp *m, int64_t *value);
int pyi__mp_nil(pyi_mp *m);
/* A str: *text points into the input (not NUL-terminated). UTF-8 unchecked. */
int pyi__mp_str(pyi_mp *m, const char **text, uint32_t *length);
/* Skips one object of any type (ext included: unknown records may hold it). */
int pyi__mp_skip(pyi_mp *m);
/* Reads one value for the API: scalars decoded, str checked as UTF-8,
 * containers and bin as PYI_VALUE_RAW after checking that they nest at most
 * PYI_MP_MAX_DEPTH deep, hold no ext and have only str map keys. */
int pyi__mp_value(pyi_mp *m, pyi_value *value);

#endif /* PYI_MSGPACK_READ_INTERNAL_H */
