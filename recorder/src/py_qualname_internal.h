/* Private to recorder/: qualified names for code objects older than co_qualname (CPython <= 3.10). */
/* SPDX-License-Identifier: MIT */
/*
 * Before 3.11 a code object only knows its bare name ("method", "<lambda>").
 * The qualified name ("Outer.Inner.method", "f.<locals>.<lambda>") follows
 * from where the code sits in its source file, so we rebuild it from the
 * file: a light tokenizer finds logical lines (outside strings and
 * brackets), their indentation and the def/class they start; the enclosing
 * def/class lines of the code's first line give the prefix. When the file is
 * missing, changed (the line does not define that name) or odd, the bare name
 * is used. Files are read on the sampler thread, never on a profiled one.
 */
#ifndef PYI_PY_QUALNAME_INTERNAL_H
#define PYI_PY_QUALNAME_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PYI_SOURCE_CACHE_FILES 4        /* parsed files kept */
#define PYI_SOURCE_MAX_BYTES (8u << 20) /* larger files are not parsed */

/* What the tokenizer learned about one physical line. */
typedef struct pyi_source_line {
    int32_t indent;       /* columns of indentation if a logical line starts here, else -1 */
    uint32_t scope_start; /* offset of the def/class name in the text, 0 = none */
    uint16_t scope_length;
    uint8_t scope_kind;   /* 0 none, 1 def, 2 class */
    uint8_t decorator;    /* the logical line starts with '@' */
} pyi_source_line;

typedef struct pyi_source_file {
    char *path;            /* NULL = free entry */
    char *text;
    pyi_source_line *lines; /* lines[0] is line 1 */
    uint32_t line_count;
    uint64_t last_use;
} pyi_source_file;

typedef struct pyi_source_cache {
    pyi_source_file files[PYI_SOURCE_CACHE_FILES];
    uint64_t clock;
} pyi_source_cache;

void pyi_source_cache_destroy(pyi_source_cache *cache);

/*
 * Writes the qualified name of the code object called name whose first line
 * is firstlineno in path into out (size bytes, NUL-terminated). Returns 1 when
 * the source confirmed it, 0 when out holds just name.
 */
int pyi_qualname_from_source(pyi_source_cache *cache, const char *path, int32_t firstlineno,
                             const char *name, char *out, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* PYI_PY_QUALNAME_INTERNAL_H */
