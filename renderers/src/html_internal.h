/* SPDX-License-Identifier: MIT */
/* Private to renderers/: the html renderer's buffered JSON writer and the parts of
 * its data blob written by separate files (timelines, source lines). */
#ifndef PYI_HTML_INTERNAL_H
#define PYI_HTML_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "render_internal.h"

#define PYI_HTML_BUFFER_SIZE 65536

/* Buffers small writes (numbers, escaped strings) in front of the caller's sink.
 * The first failure sticks in rc and turns every later call into a no-op. */
typedef struct pyi_html_out {
    pyi_sink *sink;       /* the caller's sink */
    pyi_sink buffered;    /* writes into buf, flushing to sink when full */
    int rc;               /* 0 or the first error (PYI_E_IO, PYI_E_NOMEM) */
    size_t used;          /* bytes in buf */
    char buf[PYI_HTML_BUFFER_SIZE];
} pyi_html_out;

void pyi__html_out_init(pyi_html_out *out, pyi_sink *sink);
/* Flushes what is buffered; returns out->rc. */
int pyi__html_out_flush(pyi_html_out *out);

void pyi__html_write(pyi_html_out *out, const void *data, size_t size);
void pyi__html_put(pyi_html_out *out, const char *text);
void pyi__html_u64(pyi_html_out *out, uint64_t value);
void pyi__html_i64(pyi_html_out *out, int64_t value);
/* A quoted JSON string that is safe inside HTML: <, > and & are \u-escaped, so
 * the data block can never close its <script> element. */
void pyi__html_string(pyi_html_out *out, const char *text);
/* ,"key": (without the comma when first). */
void pyi__html_key(pyi_html_out *out, const char *key, int first);

/* The page's stack table and aggregates (html_stacks.c): model stacks beyond a
 * budget fold into their callers; page ids are dense from 1. */
typedef struct pyi_html_aggregate {
    uint32_t thread;     /* model thread id */
    uint32_t stack;      /* page stack id; 0 = no Python frame */
    pyi_metrics totals;
} pyi_html_aggregate;

typedef struct pyi_html_stacks {
    size_t model_count;  /* stacks in the model */
    uint32_t *map;       /* by model stack id (0..model_count): page stack id */
    uint32_t *kept;      /* by page stack id (1..count): model stack id */
    size_t count;        /* page stacks */
    size_t folded;       /* model stacks folded into a caller (0 = none) */
    pyi_html_aggregate *aggregates; /* one per (thread, page stack) */
    size_t aggregate_count;
    uint64_t time_unit_ns; /* aggregate times are written in this unit */
} pyi_html_stacks;

/* Returns 0 or PYI_E_NOMEM (then *stacks is empty). */
int pyi__html_stacks_build(const pyi_model *model, pyi_html_stacks *stacks);
void pyi__html_stacks_destroy(pyi_html_stacks *stacks);
/* ,"stacks":{...},"aggregates":{...} */
void pyi__html_stacks_write(pyi_html_out *out, const pyi_model *model,
                            const pyi_html_stacks *stacks);

/* Time units: values are written divided by a unit, the gcd of the values but
 * at least 1 us (then rounded), so 1 ms samples write as 1, not 1000000. */
uint64_t pyi__html_gcd(uint64_t a, uint64_t b);
uint64_t pyi__html_time_unit(uint64_t gcd);
uint64_t pyi__html_in_unit(uint64_t value, uint64_t unit);

/* "timelines":[...] : every thread's buckets, merged down to a total budget,
 * their top stacks mapped to the page's stacks. */
void pyi__html_timelines(pyi_html_out *out, const pyi_model *model,
                         const pyi_html_stacks *stacks);

/* "source_files":[...] and the functions' "source" column index: reads, once
 * per file, the lines the profile references (bounded; see html_source.c). */
typedef struct pyi_html_sources pyi_html_sources;
/* Reads what it can; files that cannot be read are skipped silently. Returns
 * 0 or PYI_E_NOMEM; *out may be NULL when nothing was read. */
int pyi__html_sources_read(const pyi_model *model, pyi_html_sources **out);
/* Index into source_files of a function's file, or -1. */
int64_t pyi__html_sources_index(const pyi_html_sources *sources, uint32_t function);
void pyi__html_sources_write(pyi_html_out *out, const pyi_html_sources *sources);
void pyi__html_sources_free(pyi_html_sources *sources);

#endif /* PYI_HTML_INTERNAL_H */
