/* SPDX-License-Identifier: MIT */
/* Growable arrays, a 64-bit-key hash map and a string interner for the model. */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

int pyi__array_grow(void **data, size_t *capacity, size_t need, size_t elem)
{
    if (need <= *capacity)
        return 0;
    size_t grown = *capacity ? *capacity : 16;
    while (grown < need)
        grown *= 2;
    if (grown > SIZE_MAX / elem)
        return -1;
    void *p = realloc(*data, grown * elem);
    if (!p)
        return -1;
    memset((char *)p + *capacity * elem, 0, (grown - *capacity) * elem);
    *data = p;
    *capacity = grown;
    return 0;
}

/* splitmix64's finaliser: cheap and mixes every input bit into every output bit. */
uint64_t pyi__hash64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

uint32_t pyi__map_get(const pyi__map *map, uint64_t key)
{
    if (!map->capacity)
        return 0;
    size_t mask = map->capacity - 1;
    for (size_t i = pyi__hash64(key) & mask;; i = (i + 1) & mask) {
        if (!map->values[i])
            return 0;
        if (map->keys[i] == key)
            return map->values[i];
    }
}

static int map_rehash(pyi__map *map, size_t capacity)
{
    uint64_t *keys = calloc(capacity, sizeof(*keys));
    uint32_t *values = calloc(capacity, sizeof(*values));
    if (!keys || !values) {
        free(keys);
        free(values);
        return -1;
    }
    size_t mask = capacity - 1;
    for (size_t j = 0; j < map->capacity; j++) {
        if (!map->values[j])
            continue;
        size_t i = pyi__hash64(map->keys[j]) & mask;
        while (values[i])
            i = (i + 1) & mask;
        keys[i] = map->keys[j];
        values[i] = map->values[j];
    }
    free(map->keys);
    free(map->values);
    map->keys = keys;
    map->values = values;
    map->capacity = capacity;
    return 0;
}

int pyi__map_put(pyi__map *map, uint64_t key, uint32_t value)
{
    if ((map->count + 1) * 2 > map->capacity &&
        map_rehash(map, map->capacity ? map->capacity * 2 : 64))
        return -1;
    size_t mask = map->capacity - 1;
    size_t i = pyi__hash64(key) & mask;
    while (map->values[i] && map->keys[i] != key)
        i = (i + 1) & mask;
    if (!map->values[i])
        map->count++;
    map->keys[i] = key;
    map->values[i] = value;
    return 0;
}

void pyi__map_destroy(pyi__map *map)
{
    free(map->keys);
    free(map->values);
    memset(map, 0, sizeof(*map));
}

static uint64_t hash_bytes(const char *text, size_t length)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < length; i++)
        h = (h ^ (unsigned char)text[i]) * 0x100000001b3ull;
    return h;
}

/* Strings store their length in front of the text so NULs inside survive. */
static size_t stored_length(const char *item)
{
    size_t length;
    memcpy(&length, item - sizeof(size_t), sizeof(length));
    return length;
}

static int strings_rehash(pyi__strings *s, size_t capacity)
{
    uint32_t *table = calloc(capacity, sizeof(*table));
    if (!table)
        return -1;
    for (size_t id = 1; id <= s->count; id++) {
        const char *item = s->items[id - 1];
        size_t i = hash_bytes(item, stored_length(item)) & (capacity - 1);
        while (table[i])
            i = (i + 1) & (capacity - 1);
        table[i] = (uint32_t)id;
    }
    free(s->table);
    s->table = table;
    s->table_capacity = capacity;
    return 0;
}

uint32_t pyi__strings_intern(pyi__strings *s, const char *text, size_t length)
{
    if ((s->count + 1) * 2 > s->table_capacity &&
        strings_rehash(s, s->table_capacity ? s->table_capacity * 2 : 256))
        return 0;
    size_t mask = s->table_capacity - 1;
    size_t i = hash_bytes(text, length) & mask;
    for (; s->table[i]; i = (i + 1) & mask) {
        const char *item = s->items[s->table[i] - 1];
        if (stored_length(item) == length && !memcmp(item, text, length))
            return s->table[i];
    }
    if (s->count >= UINT32_MAX - 1 || pyi__array_grow((void **)&s->items, &s->capacity, s->count + 1,
                                                sizeof(*s->items)))
        return 0;
    char *block = malloc(sizeof(size_t) + length + 1);
    if (!block)
        return 0;
    memcpy(block, &length, sizeof(length));
    memcpy(block + sizeof(size_t), text, length);
    block[sizeof(size_t) + length] = '\0';
    s->items[s->count++] = block + sizeof(size_t);
    s->table[i] = (uint32_t)s->count;
    return (uint32_t)s->count;
}

const char *pyi__strings_get(const pyi__strings *s, uint32_t id)
{
    return id && id <= s->count ? s->items[id - 1] : "";
}

void pyi__strings_destroy(pyi__strings *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->items[i] - sizeof(size_t));
    free(s->items);
    free(s->table);
    memset(s, 0, sizeof(*s));
}
