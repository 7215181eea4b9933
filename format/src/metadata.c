/* SPDX-License-Identifier: MIT */
/* Encoding of metadata values and maps, and of the header frame (spec §4). */
#include "writer_internal.h"

int pyi__pack_buffer_write(void *data, const char *buf, size_t len)
{
    return pyi__buffer_append(data, buf, len) ? -1 : 0;
}

static int pack_str(msgpack_packer *pk, const char *s, size_t length)
{
    return msgpack_pack_str(pk, length) || msgpack_pack_str_body(pk, s, length);
}

/* msgpack's header bytes for a str of length bytes, and for an array of count items. */
static size_t str_header_size(size_t length)
{
    return length < 32 ? 1 : length < 256 ? 2 : length < 65536 ? 3 : 5;
}

static size_t array_header_size(size_t count)
{
    return count < 16 ? 1 : count < 65536 ? 3 : 5;
}

typedef struct fixed_buffer {
    char *data;
    size_t size, used;
} fixed_buffer;

static int fixed_buffer_write(void *data, const char *buf, size_t len)
{
    fixed_buffer *b = data;
    if (len > b->size - b->used)
        return -1;
    memcpy(b->data + b->used, buf, len);
    b->used += len;
    return 0;
}

size_t pyi_value_from_strings(const char *const *items, size_t count, void *buffer,
                              size_t size, pyi_value *out)
{
    size_t kept = 0, body = 0;
    for (; kept < count; kept++) {
        size_t length = strlen(items[kept]);
        size_t item = str_header_size(length) + length;
        if (array_header_size(kept + 1) + body + item > size)
            break;
        body += item;
    }
    fixed_buffer b = {buffer, size, 0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &b, fixed_buffer_write);
    int rc = msgpack_pack_array(&pk, kept);
    for (size_t i = 0; i < kept && rc == 0; i++)
        rc = pack_str(&pk, items[i], strlen(items[i]));
    *out = (pyi_value){.kind = PYI_VALUE_RAW, .s = buffer, .length = rc == 0 ? b.used : 0};
    return rc == 0 ? kept : 0;
}

int pyi__pack_value(msgpack_packer *pk, const pyi_value *v)
{
    switch (v->kind) {
    case PYI_VALUE_NIL:
        return msgpack_pack_nil(pk);
    case PYI_VALUE_BOOL:
        return v->i ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    case PYI_VALUE_INT:
        return msgpack_pack_int64(pk, v->i);
    case PYI_VALUE_UINT:
        return msgpack_pack_uint64(pk, v->u);
    case PYI_VALUE_FLOAT:
        return msgpack_pack_double(pk, v->f);
    case PYI_VALUE_STRING:
        return pack_str(pk, v->s, v->length);
    case PYI_VALUE_RAW:
        /* already msgpack: the caller vouches for it */
        return pk->callback(pk->data, v->s, v->length);
    }
    return -1;
}

int pyi__pack_map(msgpack_packer *pk, const pyi_meta_entry *entries, size_t count)
{
    if (msgpack_pack_map(pk, count))
        return -1;
    for (size_t i = 0; i < count; i++) {
        const char *key = entries[i].key ? entries[i].key : "";
        if (pack_str(pk, key, strlen(key)) || pyi__pack_value(pk, &entries[i].value))
            return -1;
    }
    return 0;
}

/* ---- Header ---- */

static int pack_key(msgpack_packer *pk, const char *key)
{
    return pack_str(pk, key, strlen(key));
}

static int pack_string_field(msgpack_packer *pk, const char *key, const char *value)
{
    return pack_key(pk, key) || pack_str(pk, value, strlen(value));
}

static int pack_uint_field(msgpack_packer *pk, const char *key, uint64_t value)
{
    return pack_key(pk, key) || msgpack_pack_uint64(pk, value);
}

static size_t header_key_count(const pyi_header *h)
{
    size_t n = 6 + h->extra_count; /* the six required keys */
    n += h->pid != 0;
    n += h->argv != NULL;
    n += h->cwd != NULL;
    n += h->hostname != NULL;
    n += h->platform != NULL;
    n += h->python != NULL;
    n += h->python_implementation != NULL;
    n += h->status_known != 0;
    n += h->max_depth != 0;
    return n;
}

static int pack_header_map(msgpack_packer *pk, const pyi_header *h)
{
    if (msgpack_pack_map(pk, header_key_count(h)) ||
        pack_string_field(pk, "recorder", h->recorder) ||
        pack_string_field(pk, "mode", h->mode) || pack_string_field(pk, "clock", h->clock) ||
        pack_uint_field(pk, "interval_ns", h->interval_ns) ||
        pack_uint_field(pk, "start_mono_ns", h->start_mono_ns) ||
        pack_uint_field(pk, "start_wall_ns", h->start_wall_ns))
        return -1;
    if (h->pid && (pack_key(pk, "pid") || msgpack_pack_int64(pk, h->pid)))
        return -1;
    if (h->argv) {
        if (pack_key(pk, "argv") || msgpack_pack_array(pk, h->argc))
            return -1;
        for (size_t i = 0; i < h->argc; i++)
            if (pack_str(pk, h->argv[i], strlen(h->argv[i])))
                return -1;
    }
    if ((h->cwd && pack_string_field(pk, "cwd", h->cwd)) ||
        (h->hostname && pack_string_field(pk, "hostname", h->hostname)) ||
        (h->platform && pack_string_field(pk, "platform", h->platform)) ||
        (h->python && pack_string_field(pk, "python", h->python)) ||
        (h->python_implementation &&
         pack_string_field(pk, "python_implementation", h->python_implementation)) ||
        (h->status_known && pack_uint_field(pk, "status_known", h->status_known)) ||
        (h->max_depth && pack_uint_field(pk, "max_depth", h->max_depth)))
        return -1;
    for (size_t i = 0; i < h->extra_count; i++) {
        const char *key = h->extra[i].key ? h->extra[i].key : "";
        if (pack_key(pk, key) || pyi__pack_value(pk, &h->extra[i].value))
            return -1;
    }
    return 0;
}

int pyi__header_encode(const pyi_header *header, const pyi_allocator *a, pyi_buffer *out)
{
    (void)a;
    uint8_t fixed[8 + PYI_HEADER_FIXED];
    pyi__put_le32(fixed, PYI_MAGIC_HEADER);
    memcpy(fixed + 8, PYI_HEADER_TAG, 8);
    pyi__put_le16(fixed + 16, PYI_FORMAT_MAJOR);
    pyi__put_le16(fixed + 18, PYI_FORMAT_MINOR);
    pyi__put_le32(fixed + 20, 0); /* incompat_flags */
    pyi__put_le32(fixed + 24, 0); /* compat_flags */
    out->size = 0;
    if (pyi__buffer_append(out, fixed, sizeof(fixed)))
        return PYI_E_NOMEM;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, pyi__pack_buffer_write);
    if (pack_header_map(&pk, header))
        return PYI_E_NOMEM;
    size_t payload = out->size - 8 + 4;
    if (payload > PYI_MAX_HEADER_SIZE)
        return PYI_E_LIMIT;
    uint8_t crc[4];
    pyi__put_le32(crc, pyi__crc32(0, out->data + 8, out->size - 8));
    if (pyi__buffer_append(out, crc, 4))
        return PYI_E_NOMEM;
    pyi__put_le32(out->data + 4, (uint32_t)payload);
    return PYI_OK;
}
