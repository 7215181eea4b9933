/* Reads str (kinds 1/2/4, compact or not), bytes and tuple objects from interpreter memory. */
/* SPDX-License-Identifier: MIT */
#include "py_object_internal.h"

#include <string.h>

/* ---- Internal --------------------------------------------------------- */

/* PyASCIIObject.state bits, the same from 3.8 to 3.13. */
#define STATE_KIND(state) (((state) >> 2) & 7u)
#define STATE_COMPACT(state) (((state) >> 5) & 1u)
#define STATE_ASCII(state) (((state) >> 6) & 1u)

static uint64_t load_u64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint32_t load_u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint32_t code_point_at(const unsigned char *data, unsigned kind, size_t i)
{
    if (kind == 1)
        return data[i];
    if (kind == 2) {
        uint16_t v;
        memcpy(&v, data + 2 * i, 2);
        return v;
    }
    return load_u32(data + 4 * i);
}

/* Converts count code points of the given kind into UTF-8 in buf. */
static size_t encode_utf8(const unsigned char *data, unsigned kind, size_t count, char *buf,
                          size_t size)
{
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t cp = code_point_at(data, kind, i);
        if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            cp = 0xFFFD; /* lone surrogates (surrogateescape) are not UTF-8 */
        char tmp[4];
        size_t n = pyi_utf8_put(tmp, cp);
        if (used + n + 1 > size)
            break;
        memcpy(buf + used, tmp, n);
        used += n;
    }
    buf[used] = '\0';
    return used;
}

/* ---- Public (to recorder/) -------------------------------------------- */

size_t pyi_utf8_put(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int pyi_read_str(pyi_mem_reader *m, const pyi_py_layout *l, uint64_t addr, char *buf,
                 size_t size, size_t *length)
{
    unsigned char header[128];
    unsigned char data[PYI_STRING_MAX_CHARS * 4];
    if (size == 0 || l->unicode_read_size > sizeof header)
        return PYI_OBJ_INVALID;
    int rc = pyi_mem_read(m, addr, header, l->unicode_read_size);
    if (rc != 0)
        return rc;
    uint64_t count = load_u64(header + l->unicode_length);
    uint32_t state = load_u32(header + l->unicode_state);
    unsigned kind = STATE_KIND(state);
    if ((kind != 1 && kind != 2 && kind != 4) || (STATE_ASCII(state) && kind != 1) ||
        count > (1u << 30))
        return PYI_OBJ_INVALID; /* kind 0 is a legacy string that is not ready */
    uint64_t data_addr;
    if (STATE_COMPACT(state))
        data_addr = addr + (uint64_t)(STATE_ASCII(state) ? l->unicode_ascii_size
                                                          : l->unicode_compact_size);
    else
        data_addr = load_u64(header + l->unicode_compact_size); /* data.any */
    size_t chars = count < PYI_STRING_MAX_CHARS ? (size_t)count : PYI_STRING_MAX_CHARS;
    rc = pyi_mem_read(m, data_addr, data, chars * kind);
    if (rc != 0)
        return rc;
    if (kind == 1 && STATE_ASCII(state)) {
        size_t n = chars < size - 1 ? chars : size - 1;
        for (size_t i = 0; i < n; i++)
            if (data[i] >= 0x80)
                return PYI_OBJ_INVALID; /* an ASCII string with high bytes is not a string */
        memcpy(buf, data, n);
        buf[n] = '\0';
        *length = n;
        return 0;
    }
    *length = encode_utf8(data, kind, chars, buf, size);
    return 0;
}

int pyi_read_bytes(pyi_mem_reader *m, const pyi_py_layout *l, uint64_t addr, uint8_t *buf,
                   size_t size, size_t *length)
{
    uint64_t count;
    int rc = pyi_mem_read_u64(m, addr + (uint64_t)l->bytes_size, &count);
    if (rc != 0)
        return rc;
    if (count > size)
        return PYI_OBJ_INVALID;
    rc = pyi_mem_read(m, addr + (uint64_t)l->bytes_data, buf, (size_t)count);
    if (rc != 0)
        return rc;
    *length = (size_t)count;
    return 0;
}

int pyi_read_tuple_item(pyi_mem_reader *m, const pyi_py_layout *l, uint64_t addr,
                        uint32_t index, uint64_t *item)
{
    uint64_t count;
    int rc = pyi_mem_read_u64(m, addr + (uint64_t)l->tuple_size, &count);
    if (rc != 0)
        return rc;
    if (index >= count)
        return PYI_OBJ_INVALID;
    return pyi_mem_read_u64(m, addr + (uint64_t)l->tuple_items + 8u * index, item);
}
