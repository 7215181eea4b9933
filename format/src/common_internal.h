/* SPDX-License-Identifier: MIT */
/*
 * Private to format/: allocation through the optional pyi_allocator, a
 * growable byte buffer, little-endian helpers, CRC-32 and UTF-8 checks shared
 * by the writer and the reader. Not installed, not part of the API.
 */
#ifndef PYI_COMMON_INTERNAL_H
#define PYI_COMMON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pyi/trace.h"

/* ---- Allocation ---- */

void *pyi__malloc(const pyi_allocator *a, size_t size);
void *pyi__realloc(const pyi_allocator *a, void *ptr, size_t size);
void pyi__free(const pyi_allocator *a, void *ptr);
/* Grows *array (of elem_size items, *capacity of them) to hold at least
 * need items; doubles to keep appends amortised O(1). 0 or PYI_E_NOMEM. */
int pyi__grow(const pyi_allocator *a, void **array, size_t *capacity, size_t need,
              size_t elem_size);
char *pyi__strdup(const pyi_allocator *a, const char *s, size_t length);

/* ---- Byte buffer ---- */

typedef struct pyi_buffer {
    uint8_t *data;
    size_t size;     /* bytes used */
    size_t capacity; /* bytes allocated */
    const pyi_allocator *allocator;
} pyi_buffer;

void pyi__buffer_init(pyi_buffer *b, const pyi_allocator *a);
void pyi__buffer_destroy(pyi_buffer *b);
int pyi__buffer_reserve(pyi_buffer *b, size_t extra);
int pyi__buffer_append(pyi_buffer *b, const void *data, size_t size);

/* ---- Little-endian ---- */

static inline uint16_t pyi__le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t pyi__le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t pyi__le64(const uint8_t *p)
{
    return (uint64_t)pyi__le32(p) | ((uint64_t)pyi__le32(p + 4) << 32);
}

static inline void pyi__put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void pyi__put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void pyi__put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- Checks ---- */

/* CRC-32 (zlib's; spec §1). Start with crc = 0. */
uint32_t pyi__crc32(uint32_t crc, const void *data, size_t size);

/* Non-zero when data is valid UTF-8 (RFC 3629: no surrogates or overlongs). */
int pyi__utf8_valid(const char *data, size_t size);

/* Copies data to out replacing each byte that does not start a valid UTF-8
 * sequence with U+FFFD; returns the bytes written (out needs 3 * size). */
size_t pyi__utf8_repair(const char *data, size_t size, char *out);

/* Skippable frame magics are 0x184D2A50..0x184D2A5F (RFC 8878). */
#define PYI_SKIPPABLE_MASK 0xFFFFFFF0u
#define PYI_SKIPPABLE_BASE 0x184D2A50u
#define PYI_ZSTD_MAGIC 0xFD2FB528u

/* Header fixed part: tag, major, minor, two flag words; then map, then CRC. */
#define PYI_HEADER_FIXED 20

/* ---- Arena: many small allocations freed together ---- */

typedef struct pyi_arena_block pyi_arena_block;

typedef struct pyi_arena {
    pyi_arena_block *head; /* newest block first */
    size_t used;           /* bytes used in head */
    size_t block_size;     /* capacity of head */
    const pyi_allocator *allocator;
} pyi_arena;

void pyi__arena_init(pyi_arena *arena, const pyi_allocator *a);
/* Frees every block but the newest and rewinds it: for per-record scratch. */
void pyi__arena_reset(pyi_arena *arena);
void pyi__arena_destroy(pyi_arena *arena);
/* size bytes aligned to 8; NULL when memory runs out. */
void *pyi__arena_alloc(pyi_arena *arena, size_t size);
/* A NUL-terminated copy of length bytes. */
char *pyi__arena_strdup(pyi_arena *arena, const char *s, size_t length);

#endif /* PYI_COMMON_INTERNAL_H */
