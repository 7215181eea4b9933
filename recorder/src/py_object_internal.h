/* Private to recorder/: reading str, bytes and tuple objects out of interpreter memory. */
/* SPDX-License-Identifier: MIT */
/*
 * Every function validates what it reads (kinds, lengths, flags) and fails
 * with PYI_OBJ_INVALID rather than trusting a stale or freed object.
 */
#ifndef PYI_PY_OBJECT_INTERNAL_H
#define PYI_PY_OBJECT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mem_reader_internal.h"
#include "py_layout_internal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PYI_OBJ_INVALID (-110) /* the bytes read do not form a plausible object */

#define PYI_STRING_MAX_CHARS 4096 /* longer strings are cut to this many code points */

/*
 * Reads the str object at addr as UTF-8 into buf (NUL-terminated; at most
 * size - 1 bytes; a string that does not fit is cut at a character
 * boundary). Kinds 1/2/4, compact or not; lone surrogates become U+FFFD.
 * Returns 0 with *length set, a PYI_MEM_* error or PYI_OBJ_INVALID.
 */
int pyi_read_str(pyi_mem_reader *m, const pyi_py_layout *l, uint64_t addr, char *buf,
                 size_t size, size_t *length);

/* Reads the bytes object at addr into buf; fails with PYI_OBJ_INVALID when it
 * holds more than size bytes. */
int pyi_read_bytes(pyi_mem_reader *m, const pyi_py_layout *l, uint64_t addr, uint8_t *buf,
                   size_t size, size_t *length);

/* Reads item index of the tuple at addr (bounds-checked against ob_size). */
int pyi_read_tuple_item(pyi_mem_reader *m, const pyi_py_layout *l, uint64_t addr,
                        uint32_t index, uint64_t *item);

/* Appends code point cp as UTF-8 to out (4 bytes of room needed); returns bytes written. */
size_t pyi_utf8_put(char *out, uint32_t cp);

#ifdef __cplusplus
}
#endif

#endif /* PYI_PY_OBJECT_INTERNAL_H */
