/* Private to recorder/: names of the trace's functions and locations, kept for sample hooks. */
/* SPDX-License-Identifier: MIT */
/*
 * The writer interns functions and locations into ids and forgets the
 * strings' meaning. A sample hook (the live view of pyinst-record) wants
 * names, so when one is set the resolver also notes each new id here. Trace
 * ids are dense from 1, so the tables are plain arrays indexed by id. Only
 * the sampler thread uses a catalog.
 */
#ifndef PYI_CATALOG_INTERNAL_H
#define PYI_CATALOG_INTERNAL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pyi_catalog_function {
    char *name;    /* owned; NULL = not noted */
    char *file;    /* owned; "" for native and synthetic functions */
    uint32_t kind; /* PYI_FUNCTION_* */
} pyi_catalog_function;

typedef struct pyi_catalog_location {
    uint32_t function; /* 0 = not noted */
    uint32_t line;
} pyi_catalog_location;

typedef struct pyi_catalog {
    pyi_catalog_function *functions; /* indexed by function id */
    uint32_t function_capacity;
    pyi_catalog_location *locations; /* indexed by location id */
    uint32_t location_capacity;
} pyi_catalog;

void pyi_catalog_destroy(pyi_catalog *c);

/* Notes a function id (no-op when already noted). 0 or PYI_E_NOMEM. */
int pyi_catalog_note_function(pyi_catalog *c, uint32_t id, const char *name, const char *file,
                              uint32_t kind);

/* Notes a location id. 0 or PYI_E_NOMEM. */
int pyi_catalog_note_location(pyi_catalog *c, uint32_t id, uint32_t function, uint32_t line);

/* The function noted for a location, or NULL. */
const pyi_catalog_function *pyi_catalog_function_of(const pyi_catalog *c, uint32_t location,
                                                    uint32_t *function, uint32_t *line);

#ifdef __cplusplus
}
#endif

#endif /* PYI_CATALOG_INTERNAL_H */
