/* Function and location names by trace id, for sample hooks (the live view). */
/* SPDX-License-Identifier: MIT */
#include "catalog_internal.h"

#include <stdlib.h>
#include <string.h>

#include "pyi/errors.h"

/* ---- Internal --------------------------------------------------------- */

static int grow(void **array, uint32_t *capacity, uint32_t needed, size_t item)
{
    if (needed < *capacity)
        return 0;
    uint32_t bigger = *capacity ? *capacity : 256;
    while (bigger <= needed) {
        if (bigger > UINT32_MAX / 2)
            return PYI_E_NOMEM;
        bigger *= 2;
    }
    void *p = realloc(*array, (size_t)bigger * item);
    if (p == NULL)
        return PYI_E_NOMEM;
    memset((char *)p + (size_t)*capacity * item, 0, (size_t)(bigger - *capacity) * item);
    *array = p;
    *capacity = bigger;
    return 0;
}

/* ---- Public (to recorder/) -------------------------------------------- */

void pyi_catalog_destroy(pyi_catalog *c)
{
    for (uint32_t i = 0; i < c->function_capacity; i++) {
        free(c->functions[i].name);
        free(c->functions[i].file);
    }
    free(c->functions);
    free(c->locations);
    memset(c, 0, sizeof *c);
}

int pyi_catalog_note_function(pyi_catalog *c, uint32_t id, const char *name, const char *file,
                              uint32_t kind)
{
    if (grow((void **)&c->functions, &c->function_capacity, id, sizeof *c->functions) != 0)
        return PYI_E_NOMEM;
    pyi_catalog_function *f = &c->functions[id];
    if (f->name != NULL)
        return 0;
    f->name = strdup(name);
    f->file = strdup(file ? file : "");
    f->kind = kind;
    if (f->name == NULL || f->file == NULL) {
        free(f->name);
        free(f->file);
        f->name = f->file = NULL;
        return PYI_E_NOMEM;
    }
    return 0;
}

int pyi_catalog_note_location(pyi_catalog *c, uint32_t id, uint32_t function, uint32_t line)
{
    if (grow((void **)&c->locations, &c->location_capacity, id, sizeof *c->locations) != 0)
        return PYI_E_NOMEM;
    c->locations[id].function = function;
    c->locations[id].line = line;
    return 0;
}

const pyi_catalog_function *pyi_catalog_function_of(const pyi_catalog *c, uint32_t location,
                                                    uint32_t *function, uint32_t *line)
{
    if (location >= c->location_capacity || c->locations[location].function == 0)
        return NULL;
    uint32_t id = c->locations[location].function;
    if (id >= c->function_capacity || c->functions[id].name == NULL)
        return NULL;
    *function = id;
    *line = c->locations[location].line;
    return &c->functions[id];
}
