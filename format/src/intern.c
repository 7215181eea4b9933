/* SPDX-License-Identifier: MIT */
/* Open-addressing hash tables behind the writer's interning. */
#include "intern_internal.h"

static uint64_t mix64(uint64_t x)
{
    /* splitmix64 finaliser: spreads tuple keys over all bits */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint64_t hash_bytes(const char *s, size_t length)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < length; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static size_t slot_of(const pyi_intern_table *t, uint64_t a, uint64_t b)
{
    return (size_t)(mix64(a ^ mix64(b)) & (t->slot_count - 1));
}

void pyi__intern_init(pyi_intern_table *t, const pyi_allocator *a)
{
    memset(t, 0, sizeof(*t));
    t->allocator = a;
    pyi__arena_init(&t->arena, a);
}

void pyi__intern_destroy(pyi_intern_table *t)
{
    pyi__free(t->allocator, t->slots);
    pyi__free(t->allocator, t->strings);
    pyi__arena_destroy(&t->arena);
    memset(t, 0, sizeof(*t));
}

uint32_t pyi__intern_find(const pyi_intern_table *t, uint64_t a, uint64_t b)
{
    if (!t->slot_count)
        return 0;
    for (size_t i = slot_of(t, a, b);; i = (i + 1) & (t->slot_count - 1)) {
        const pyi_intern_slot *s = &t->slots[i];
        if (!s->id)
            return 0;
        if (s->key_a == a && s->key_b == b)
            return s->id;
    }
}

static void place(pyi_intern_slot *slots, size_t count, const pyi_intern_table *t,
                  pyi_intern_slot item)
{
    size_t mask = count - 1;
    size_t i = (size_t)(mix64(item.key_a ^ mix64(item.key_b)) & mask);
    (void)t;
    while (slots[i].id)
        i = (i + 1) & mask;
    slots[i] = item;
}

/* Keeps the load factor under 1/2 so probes stay short. */
static int ensure_room(pyi_intern_table *t)
{
    if ((t->used + 1) * 2 <= t->slot_count)
        return PYI_OK;
    size_t count = t->slot_count ? t->slot_count * 2 : 256;
    pyi_intern_slot *slots = pyi__malloc(t->allocator, count * sizeof(*slots));
    if (!slots)
        return PYI_E_NOMEM;
    memset(slots, 0, count * sizeof(*slots));
    for (size_t i = 0; i < t->slot_count; i++)
        if (t->slots[i].id)
            place(slots, count, t, t->slots[i]);
    pyi__free(t->allocator, t->slots);
    t->slots = slots;
    t->slot_count = count;
    return PYI_OK;
}

int pyi__intern_insert(pyi_intern_table *t, uint64_t a, uint64_t b, uint32_t id)
{
    int rc = ensure_room(t);
    if (rc)
        return rc;
    pyi_intern_slot item = {a, b, id};
    place(t->slots, t->slot_count, t, item);
    t->used++;
    return PYI_OK;
}

uint32_t pyi__intern_find_string(const pyi_intern_table *t, const char *s, size_t length)
{
    if (!t->slot_count)
        return 0;
    uint64_t h = hash_bytes(s, length);
    for (size_t i = slot_of(t, h, length);; i = (i + 1) & (t->slot_count - 1)) {
        const pyi_intern_slot *slot = &t->slots[i];
        if (!slot->id)
            return 0;
        if (slot->key_a == h && slot->key_b == length) {
            const pyi_string_ref *ref = &t->strings[slot->id - 1];
            if (ref->length == length && (length == 0 || !memcmp(ref->data, s, length)))
                return slot->id;
        }
    }
}

int pyi__intern_insert_string(pyi_intern_table *t, const char *s, size_t length, uint32_t id)
{
    void *strings = t->strings;
    int rc = pyi__grow(t->allocator, &strings, &t->string_capacity, id, sizeof(pyi_string_ref));
    t->strings = strings;
    if (rc)
        return rc;
    char *copy = pyi__arena_strdup(&t->arena, s, length);
    if (!copy)
        return PYI_E_NOMEM;
    t->strings[id - 1].data = copy;
    t->strings[id - 1].length = length;
    return pyi__intern_insert(t, hash_bytes(s, length), length, id);
}
