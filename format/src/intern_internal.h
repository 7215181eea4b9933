/* SPDX-License-Identifier: MIT */
/*
 * Private to format/: the writer's interning tables, mapping a definition
 * (string bytes, or a tuple of up to two 64-bit words) to its dense id, so
 * that every distinct value is defined exactly once (spec §5, "Ids").
 */
#ifndef PYI_INTERN_INTERNAL_H
#define PYI_INTERN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common_internal.h"

typedef struct pyi_intern_slot {
    uint64_t key_a, key_b; /* the tuple, or (hash, length) for strings */
    uint32_t id;           /* 0 = empty slot */
} pyi_intern_slot;

typedef struct pyi_string_ref {
    const char *data; /* copy in the table's arena */
    size_t length;
} pyi_string_ref;

typedef struct pyi_intern_table {
    pyi_intern_slot *slots;
    size_t slot_count; /* power of two */
    size_t used;
    pyi_string_ref *strings; /* strings tables only: by id - 1 */
    size_t string_capacity;
    pyi_arena arena;
    const pyi_allocator *allocator;
} pyi_intern_table;

void pyi__intern_init(pyi_intern_table *t, const pyi_allocator *a);
void pyi__intern_destroy(pyi_intern_table *t);

/* Looks up (a, b); returns its id or 0. */
uint32_t pyi__intern_find(const pyi_intern_table *t, uint64_t a, uint64_t b);
/* Records (a, b) -> id; the caller checked it is absent. 0 or PYI_E_NOMEM. */
int pyi__intern_insert(pyi_intern_table *t, uint64_t a, uint64_t b, uint32_t id);

/* The same for strings, compared by content. */
uint32_t pyi__intern_find_string(const pyi_intern_table *t, const char *s, size_t length);
int pyi__intern_insert_string(pyi_intern_table *t, const char *s, size_t length, uint32_t id);

#endif /* PYI_INTERN_INTERNAL_H */
