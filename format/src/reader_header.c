/* SPDX-License-Identifier: MIT */
/* Reading and checking the header frame and its metadata map (spec §4). */
#include "reader_internal.h"

#include <inttypes.h>
#include <stdio.h>

/* ---- Maps ---- */

static int copy_value(pyi_arena *arena, pyi_value *v)
{
    if (v->kind != PYI_VALUE_STRING && v->kind != PYI_VALUE_RAW)
        return PYI_OK;
    char *copy = pyi__arena_strdup(arena, v->s, v->length);
    if (!copy)
        return PYI_E_NOMEM;
    v->s = copy;
    return PYI_OK;
}

int pyi__read_map(pyi_mp *m, pyi_arena *arena, pyi_meta_entry **entries, size_t *count)
{
    uint32_t n;
    if (pyi__mp_map(m, &n))
        return PYI_E_CORRUPT;
    pyi_meta_entry *e = pyi__arena_alloc(arena, (n ? n : 1) * sizeof(*e));
    if (!e)
        return PYI_E_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        const char *key;
        uint32_t key_length;
        if (pyi__mp_str(m, &key, &key_length) || !pyi__utf8_valid(key, key_length) ||
            pyi__mp_value(m, &e[i].value))
            return PYI_E_CORRUPT;
        e[i].key = pyi__arena_strdup(arena, key, key_length);
        if (!e[i].key || copy_value(arena, &e[i].value))
            return PYI_E_NOMEM;
    }
    *entries = e;
    *count = n;
    return PYI_OK;
}

/* ---- Known keys ---- */

typedef enum key_type { KEY_STRING, KEY_UINT, KEY_UINT32, KEY_INT, KEY_ARGV } key_type;

typedef struct known_key {
    const char *name;
    key_type type;
    size_t field; /* offsetof into pyi_header */
    int required;
} known_key;

#define FIELD(name) offsetof(pyi_header, name)
static const known_key KNOWN_KEYS[] = {
    {"recorder", KEY_STRING, FIELD(recorder), 1},
    {"mode", KEY_STRING, FIELD(mode), 1},
    {"clock", KEY_STRING, FIELD(clock), 1},
    {"interval_ns", KEY_UINT, FIELD(interval_ns), 1},
    {"start_mono_ns", KEY_UINT, FIELD(start_mono_ns), 1},
    {"start_wall_ns", KEY_UINT, FIELD(start_wall_ns), 1},
    {"pid", KEY_INT, FIELD(pid), 0},
    {"argv", KEY_ARGV, FIELD(argv), 0},
    {"cwd", KEY_STRING, FIELD(cwd), 0},
    {"hostname", KEY_STRING, FIELD(hostname), 0},
    {"platform", KEY_STRING, FIELD(platform), 0},
    {"python", KEY_STRING, FIELD(python), 0},
    {"python_implementation", KEY_STRING, FIELD(python_implementation), 0},
    {"status_known", KEY_UINT32, FIELD(status_known), 0},
    {"max_depth", KEY_UINT32, FIELD(max_depth), 0},
};
#define KNOWN_COUNT (sizeof(KNOWN_KEYS) / sizeof(KNOWN_KEYS[0]))

static int value_uint(const pyi_value *v, uint64_t *out)
{
    if (v->kind == PYI_VALUE_UINT)
        *out = v->u;
    else if (v->kind == PYI_VALUE_INT && v->i >= 0)
        *out = (uint64_t)v->i;
    else
        return -1;
    return 0;
}

static int decode_argv(pyi_reader *r, const pyi_value *v)
{
    if (v->kind != PYI_VALUE_RAW)
        return -1;
    pyi_mp m;
    pyi__mp_init(&m, v->s, v->length);
    uint32_t n;
    if (pyi__mp_array(&m, &n))
        return -1;
    const char **argv = pyi__arena_alloc(&r->arena, (n ? n : 1) * sizeof(*argv));
    if (!argv)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        const char *s;
        uint32_t length;
        if (pyi__mp_str(&m, &s, &length) || !(argv[i] = pyi__arena_strdup(&r->arena, s, length)))
            return -1;
    }
    r->header.argv = argv;
    r->header.argc = n;
    return 0;
}

/* Stores one known key's value in the header; -1 when its type is wrong. */
static int apply_known(pyi_reader *r, const known_key *k, const pyi_value *v)
{
    char *base = (char *)&r->header;
    uint64_t u;
    switch (k->type) {
    case KEY_STRING:
        if (v->kind != PYI_VALUE_STRING)
            return -1;
        memcpy(base + k->field, &v->s, sizeof(v->s)); /* memcpy: offsetof fields, any type */
        return 0;
    case KEY_UINT:
        if (value_uint(v, &u))
            return -1;
        memcpy(base + k->field, &u, sizeof(u));
        return 0;
    case KEY_UINT32: {
        if (value_uint(v, &u) || u > UINT32_MAX)
            return -1;
        uint32_t u32 = (uint32_t)u;
        memcpy(base + k->field, &u32, sizeof(u32));
        return 0;
    }
    case KEY_INT:
        if (v->kind != PYI_VALUE_INT)
            return -1;
        memcpy(base + k->field, &v->i, sizeof(v->i));
        return 0;
    case KEY_ARGV:
        return decode_argv(r, v);
    }
    return -1;
}

static int apply_metadata(pyi_reader *r, const pyi_meta_entry *e, size_t n)
{
    int seen[KNOWN_COUNT] = {0};
    pyi_meta_entry *extra = pyi__arena_alloc(&r->arena, (n ? n : 1) * sizeof(*extra));
    if (!extra)
        return pyi__reader_fail(r, PYI_E_NOMEM, "out of memory");
    size_t extra_count = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < KNOWN_COUNT && strcmp(KNOWN_KEYS[k].name, e[i].key) != 0)
            k++;
        if (k == KNOWN_COUNT) {
            extra[extra_count++] = e[i];
            continue;
        }
        if (apply_known(r, &KNOWN_KEYS[k], &e[i].value))
            return pyi__reader_fail(r, PYI_E_CORRUPT,
                                    "header: key '%s' has a value of the wrong type (spec §4.1)",
                                    e[i].key);
        seen[k] = 1;
    }
    for (size_t k = 0; k < KNOWN_COUNT; k++)
        if (KNOWN_KEYS[k].required && !seen[k])
            return pyi__reader_fail(r, PYI_E_CORRUPT,
                                    "header: required key '%s' is missing (spec §4.1)",
                                    KNOWN_KEYS[k].name);
    r->header.entries = e;
    r->header.entry_count = n;
    r->header.extra = extra;
    r->header.extra_count = extra_count;
    return PYI_OK;
}

/* Absent strings read as "" (pyi_header contract). */
static void default_strings(pyi_header *h)
{
    const char **fields[] = {&h->recorder, &h->mode,     &h->clock,  &h->cwd,
                             &h->hostname, &h->platform, &h->python, &h->python_implementation};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (!*fields[i])
            *fields[i] = "";
}

/* For a newer major: the recorder that wrote it, if the map still parses. */
static void newer_recorder(const uint8_t *map, size_t size, char *out, size_t out_size)
{
    pyi_mp m;
    pyi__mp_init(&m, map, size);
    uint32_t n;
    if (pyi__mp_map(&m, &n))
        return;
    for (uint32_t i = 0; i < n; i++) {
        const char *key, *value;
        uint32_t key_length, value_length;
        if (pyi__mp_str(&m, &key, &key_length))
            return;
        if (key_length == 8 && !memcmp(key, "recorder", 8) &&
            !pyi__mp_str(&m, &value, &value_length)) {
            snprintf(out, out_size, "%.*s", (int)(value_length > 64 ? 64 : value_length), value);
            return;
        }
        if (pyi__mp_skip(&m))
            return;
    }
}

/* ---- Header frame ---- */

/*
 * spec §4, in order: the magic and the tag (as far as the file goes: bytes
 * present that differ make it not a trace; a file that ends before the tag
 * is complete is a cut header), then the payload's size and presence.
 */
static int check_start(pyi_reader *r, uint32_t *size)
{
    pyi_input *in = &r->in;
    if (pyi__input_ensure(in, 16))
        return pyi__reader_fail(r, PYI_E_IO, "cannot read");
    size_t avail = pyi__input_available(in);
    const uint8_t *p = pyi__input_data(in);
    if (avail == 0)
        return pyi__reader_fail(r, PYI_E_EMPTY, "the file is empty");
    uint8_t expected[16];
    pyi__put_le32(expected, PYI_MAGIC_HEADER);
    memcpy(expected + 8, PYI_HEADER_TAG, 8);
    size_t magic_bytes = avail < 4 ? avail : 4;
    if (memcmp(p, expected, magic_bytes) != 0) {
        if (avail >= 4 && pyi__le32(p) == PYI_ZSTD_MAGIC)
            return pyi__reader_fail(r, PYI_E_NOT_TRACE,
                                    "a zstd stream, but not a .pyitrace file (no pyitrace header)");
        return pyi__reader_fail(r, PYI_E_NOT_TRACE, "not a .pyitrace file");
    }
    if (avail > 8 && memcmp(p + 8, expected + 8, avail - 8 < 8 ? avail - 8 : 8) != 0)
        return pyi__reader_fail(r, PYI_E_NOT_TRACE, "not a .pyitrace file (no PYITRACE tag)");
    if (avail < 16)
        return pyi__reader_fail(r, PYI_E_TRUNCATED, "the file is cut inside its header");
    *size = pyi__le32(p + 4);
    if (*size > PYI_MAX_HEADER_SIZE)
        return pyi__reader_fail(r, PYI_E_CORRUPT, "header: size %u is over the 1 MiB limit",
                                *size);
    if (pyi__input_ensure(in, 8 + (size_t)*size))
        return pyi__reader_fail(r, PYI_E_IO, "cannot read");
    if (pyi__input_available(in) < 8 + (size_t)*size)
        return pyi__reader_fail(r, PYI_E_TRUNCATED, "the file is cut inside its header");
    if (*size < 12)
        return pyi__reader_fail(r, PYI_E_CORRUPT, "header: payload of %u bytes is too short",
                                *size);
    return PYI_OK;
}

static int check_version(pyi_reader *r, const uint8_t *payload, size_t size)
{
    pyi_header *h = &r->header;
    h->major = pyi__le16(payload + 8); /* size >= 12 was checked */
    h->minor = pyi__le16(payload + 10);
    if (h->major > PYI_FORMAT_MAJOR || h->major == 0) {
        char recorder[80] = "an unknown recorder";
        if (size > PYI_HEADER_FIXED)
            newer_recorder(payload + PYI_HEADER_FIXED, size - PYI_HEADER_FIXED, recorder,
                           sizeof(recorder));
        return pyi__reader_fail(r, PYI_E_VERSION,
                                "format %u.%u (written by %s) is not readable by this reader "
                                "(format %d.%d); a newer pyinst is needed",
                                h->major, h->minor, recorder, PYI_FORMAT_MAJOR, PYI_FORMAT_MINOR);
    }
    if (size < PYI_HEADER_FIXED + 4)
        return pyi__reader_fail(r, PYI_E_CORRUPT, "header: payload of %zu bytes is too short",
                                size);
    h->incompat_flags = pyi__le32(payload + 12);
    h->compat_flags = pyi__le32(payload + 16);
    uint32_t stored = pyi__le32(payload + size - 4);
    if (stored != pyi__crc32(0, payload, size - 4))
        return pyi__reader_fail(r, PYI_E_CORRUPT, "header: CRC mismatch (spec §4)");
    if (h->incompat_flags)
        return pyi__reader_fail(r, PYI_E_VERSION,
                                "format %u.%u uses incompatible features 0x%08" PRIx32
                                " unknown to this reader (format %d.%d); a newer pyinst is "
                                "needed",
                                h->major, h->minor, h->incompat_flags, PYI_FORMAT_MAJOR,
                                PYI_FORMAT_MINOR);
    return PYI_OK;
}

int pyi__reader_read_header(pyi_reader *r)
{
    uint32_t size = 0;
    int rc = check_start(r, &size);
    if (rc)
        return rc;
    pyi_input *in = &r->in;
    const uint8_t *payload = pyi__input_data(in) + 8;
    rc = check_version(r, payload, size);
    if (rc)
        return rc;
    pyi_mp m;
    pyi__mp_init(&m, payload + PYI_HEADER_FIXED, size - PYI_HEADER_FIXED - 4);
    pyi_meta_entry *entries;
    size_t count;
    rc = pyi__read_map(&m, &r->arena, &entries, &count);
    if (rc == PYI_E_NOMEM)
        return pyi__reader_fail(r, rc, "out of memory");
    if (rc || pyi__mp_remaining(&m) != 0)
        return pyi__reader_fail(r, PYI_E_CORRUPT,
                                "header: the metadata is not one msgpack map (spec §4)");
    rc = apply_metadata(r, entries, count);
    if (rc)
        return rc;
    default_strings(&r->header);
    pyi__input_consume(in, 8 + (size_t)size);
    r->stats.file_bytes = r->in.offset;
    return PYI_OK;
}
