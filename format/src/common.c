/* SPDX-License-Identifier: MIT */
/* Allocation, byte buffers, CRC-32 and UTF-8 checks shared inside format/. */
#include "common_internal.h"

#include <stdlib.h>

/* ---- Allocation ---- */

void *pyi__malloc(const pyi_allocator *a, size_t size)
{
    if (size == 0)
        size = 1;
    return a ? a->malloc(a->ctx, size) : malloc(size);
}

void *pyi__realloc(const pyi_allocator *a, void *ptr, size_t size)
{
    if (size == 0)
        size = 1;
    return a ? a->realloc(a->ctx, ptr, size) : realloc(ptr, size);
}

void pyi__free(const pyi_allocator *a, void *ptr)
{
    if (!ptr)
        return;
    if (a)
        a->free(a->ctx, ptr);
    else
        free(ptr);
}

int pyi__grow(const pyi_allocator *a, void **array, size_t *capacity, size_t need,
              size_t elem_size)
{
    if (need <= *capacity)
        return PYI_OK;
    size_t cap = *capacity ? *capacity : 16;
    while (cap < need) {
        if (cap > SIZE_MAX / 2 / elem_size)
            return PYI_E_NOMEM;
        cap *= 2;
    }
    void *grown = pyi__realloc(a, *array, cap * elem_size);
    if (!grown)
        return PYI_E_NOMEM;
    *array = grown;
    *capacity = cap;
    return PYI_OK;
}

char *pyi__strdup(const pyi_allocator *a, const char *s, size_t length)
{
    char *copy = pyi__malloc(a, length + 1);
    if (!copy)
        return NULL;
    if (length)
        memcpy(copy, s, length);
    copy[length] = '\0';
    return copy;
}

/* ---- Byte buffer ---- */

void pyi__buffer_init(pyi_buffer *b, const pyi_allocator *a)
{
    memset(b, 0, sizeof(*b));
    b->allocator = a;
}

void pyi__buffer_destroy(pyi_buffer *b)
{
    pyi__free(b->allocator, b->data);
    b->data = NULL;
    b->size = b->capacity = 0;
}

int pyi__buffer_reserve(pyi_buffer *b, size_t extra)
{
    if (extra > SIZE_MAX - b->size)
        return PYI_E_NOMEM;
    void *data = b->data;
    int rc = pyi__grow(b->allocator, &data, &b->capacity, b->size + extra, 1);
    b->data = data;
    return rc;
}

int pyi__buffer_append(pyi_buffer *b, const void *data, size_t size)
{
    if (size == 0)
        return PYI_OK;
    int rc = pyi__buffer_reserve(b, size);
    if (rc)
        return rc;
    memcpy(b->data + b->size, data, size);
    b->size += size;
    return PYI_OK;
}

/* ---- CRC-32 ---- */

/* Bitwise: only headers and indexes (kilobytes) are checksummed this way;
 * chunks rely on zstd's own frame checksum. */
uint32_t pyi__crc32(uint32_t crc, const void *data, size_t size)
{
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < size; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_sequence(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

int pyi__utf8_valid(const char *data, size_t size)
{
    const uint8_t *p = (const uint8_t *)data;
    size_t i = 0;
    while (i < size) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = utf8_sequence(p + i, size - i);
        if (!len)
            return 0;
        i += len;
    }
    return 1;
}

size_t pyi__utf8_repair(const char *data, size_t size, char *out)
{
    const uint8_t *p = (const uint8_t *)data;
    size_t i = 0, o = 0;
    while (i < size) {
        size_t len = utf8_sequence(p + i, size - i);
        if (len) {
            memcpy(out + o, p + i, len);
            o += len;
            i += len;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    return o;
}

/* ---- Arena ---- */

struct pyi_arena_block {
    pyi_arena_block *next;
    size_t capacity;
    max_align_t data[]; /* capacity bytes */
};

void pyi__arena_init(pyi_arena *arena, const pyi_allocator *a)
{
    memset(arena, 0, sizeof(*arena));
    arena->allocator = a;
}

void pyi__arena_reset(pyi_arena *arena)
{
    if (!arena->head)
        return;
    pyi_arena_block *keep = arena->head, *b = keep->next;
    while (b) {
        pyi_arena_block *next = b->next;
        pyi__free(arena->allocator, b);
        b = next;
    }
    keep->next = NULL;
    arena->used = 0;
}

void pyi__arena_destroy(pyi_arena *arena)
{
    pyi_arena_block *b = arena->head;
    while (b) {
        pyi_arena_block *next = b->next;
        pyi__free(arena->allocator, b);
        b = next;
    }
    arena->head = NULL;
    arena->used = arena->block_size = 0;
}

void *pyi__arena_alloc(pyi_arena *arena, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    if (!arena->head || arena->block_size - arena->used < size) {
        size_t capacity = size > 16384 ? size : 16384;
        pyi_arena_block *b = pyi__malloc(arena->allocator, sizeof(*b) + capacity);
        if (!b)
            return NULL;
        b->capacity = capacity;
        b->next = arena->head;
        arena->head = b;
        arena->used = 0;
        arena->block_size = capacity;
    }
    void *p = (char *)arena->head->data + arena->used;
    arena->used += size;
    return p;
}

char *pyi__arena_strdup(pyi_arena *arena, const char *s, size_t length)
{
    char *copy = pyi__arena_alloc(arena, length + 1);
    if (!copy)
        return NULL;
    if (length)
        memcpy(copy, s, length);
    copy[length] = '\0';
    return copy;
}
