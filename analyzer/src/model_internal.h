/* SPDX-License-Identifier: MIT */
/*
 * Private to analyzer/: the model's storage, shared by the loader, the views
 * (stacks, trees, totals, timelines) and the trace writer. Nothing outside
 * analyzer/src includes this file.
 */
#ifndef PYI_MODEL_INTERNAL_H
#define PYI_MODEL_INTERNAL_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "pyi/analyzer.h"
#include "pyi/trace.h"

/* ---- Small containers ---------------------------------------------------- */

/* Grows *data (elements of elem bytes) so that need fit; 0 or -1 (no memory).
 * New space is zeroed. */
int pyi__array_grow(void **data, size_t *capacity, size_t need, size_t elem);

/* Open-addressing map from a non-zero 64-bit key to a non-zero 32-bit value. */
typedef struct pyi__map {
    uint64_t *keys;
    uint32_t *values; /* 0 = empty slot */
    size_t capacity;  /* power of two, or 0 */
    size_t count;
} pyi__map;

uint32_t pyi__map_get(const pyi__map *map, uint64_t key);
int pyi__map_put(pyi__map *map, uint64_t key, uint32_t value); /* 0 or -1 */
void pyi__map_destroy(pyi__map *map);

/* Interned NUL-terminated strings with ids from 1. */
typedef struct pyi__strings {
    char **items;     /* items[id - 1] */
    size_t count, capacity;
    uint32_t *table;  /* open addressing of ids by hash; 0 = empty */
    size_t table_capacity;
} pyi__strings;

/* The id of text (length bytes; NULs inside are kept), adding it if new;
 * 0 when memory runs out. */
uint32_t pyi__strings_intern(pyi__strings *s, const char *text, size_t length);
const char *pyi__strings_get(const pyi__strings *s, uint32_t id);
void pyi__strings_destroy(pyi__strings *s);

uint64_t pyi__hash64(uint64_t x);

/* ---- Paths --------------------------------------------------------------- */

/* What a recorded path becomes in the model. */
typedef struct pyi__path_info {
    char *file;      /* normalised path, malloc'd */
    char *library;   /* "" or the top-level package/module, malloc'd */
    uint32_t code;   /* PYI_CODE_* from the path alone */
} pyi__path_info;

/* Normalises path against root (may be NULL or ""). 0 or -1 (no memory). */
int pyi__path_normalise(const char *path, const char *root, pyi__path_info *info);
void pyi__path_info_destroy(pyi__path_info *info);

#define PYI__MATCH_EXCLUDED 0x1u /* an exclude regex matches the function */
#define PYI__MATCH_FOCUS 0x2u    /* the focus regex matches it */

/* ---- The model ------------------------------------------------------------ */

/* A per-sample observer (see struct pyi_model.sample_hook): thread and stack
 * are model ids (stack 0: no Python frame); the model's definitions may be
 * read inside, its views may not (it is not finished). */
typedef int (*pyi__sample_hook)(void *ctx, uint32_t thread, uint32_t stack,
                                const pyi_metrics *sample);

typedef struct pyi__thread_timeline {
    pyi_timeline_bucket *buckets;
    size_t count;       /* buckets in use */
    size_t capacity;    /* buckets allocated (at most the model's bound) */
    uint64_t width_ns;  /* 0 until the first sample */
    uint64_t origin_ns; /* start of bucket 0, a multiple of width_ns */
} pyi__thread_timeline;

typedef struct pyi__source {
    pyi_model_source pub;
    char *strings[10]; /* owned copies behind pub's const char pointers */
    char warning[512];
} pyi__source;

struct pyi_model {
    pyi_model_options options; /* borrowed strings cleared after pyi_model_new */
    char *project_root;        /* owned copy, or NULL */
    size_t progress_file_count; /* files pyi_model_load was given; 0 = unknown */
    int finished;
    char detail[1024];

    /* compiled filters */
    regex_t focus;
    int has_focus;
    regex_t *exclude_functions; /* exclude_function_count compiled regexes */
    size_t exclude_function_count;
    regex_t *exclude_files;
    size_t exclude_file_count;
    char **thread_filters; /* copies of options.filter.threads */
    size_t thread_filter_count;

    pyi__strings strings;

    pyi_model_function *functions; /* [id - 1]; string fields point into strings */
    size_t function_count, function_capacity;
    pyi__map function_index; /* (name_sid, file_sid, kind) -> id */
    uint32_t *function_matches; /* [id - 1]: PYI__MATCH_* */

    pyi_model_location *locations;
    size_t location_count, location_capacity;
    pyi__map location_index; /* (function, line) -> id */

    pyi_model_stack *stacks;
    size_t stack_count, stack_capacity;
    pyi__map stack_index; /* (parent, location) -> id */

    pyi_model_thread *threads;
    size_t thread_count, thread_capacity;
    char **thread_names; /* [id - 1] owned */
    pyi__thread_timeline *timelines; /* [id - 1] */

    pyi__source **sources;
    size_t source_count, source_capacity;

    pyi_model_aggregate *aggregates;
    size_t aggregate_count, aggregate_capacity;
    pyi__map aggregate_index; /* (thread, stack) -> index + 1 */

    pyi_model_info info;

    /* Called for every kept sample after it is counted, in file order (NULL =
     * none): the diff's run statistics need the order, which the aggregates
     * drop. Returns 0 or a negative pyi_error, which stops the load. */
    pyi__sample_hook sample_hook;
    void *sample_hook_ctx;
};

/* Sets the model's message; returns error. */
int pyi__model_fail(pyi_model *m, int error, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Interning into the model; each returns the id, 0 when memory runs out. */
uint32_t pyi__model_intern_function(pyi_model *m, const char *name, size_t name_length,
                                    const char *path, size_t path_length, uint32_t first_line,
                                    uint32_t kind, const char *root);
uint32_t pyi__model_intern_location(pyi_model *m, uint32_t function, uint32_t line);
uint32_t pyi__model_intern_stack(pyi_model *m, uint32_t parent, uint32_t location);
/* The index + 1 of the aggregate of (thread, stack), created at first_ns if
 * new; 0 when memory runs out. */
uint32_t pyi__model_aggregate(pyi_model *m, uint32_t thread, uint32_t stack, uint64_t first_ns);

/* Timelines (timeline.c). */
int pyi__timeline_add(pyi__thread_timeline *t, uint32_t max_buckets, uint64_t first_width_ns,
                      uint64_t time_ns, uint32_t stack, const pyi_metrics *sample);
void pyi__timeline_destroy(pyi__thread_timeline *t);

/* Loader (model_load.c). */
int pyi__model_load(pyi_model *m, pyi_reader *reader, const char *name);

/* Views (view.c): fills frames (outermost first) for a model stack with the
 * view's processors applied; returns the depth, or -1 if frames is too small.
 * scratch must hold at least the stack's depth. */
int pyi__view_frames(const pyi_model *m, unsigned processors, uint32_t stack,
                     pyi_view_frame *frames, size_t capacity);
/* The same, also writing the functions that library grouping hid into hidden
 * (capacity entries; may be NULL), in frame order. */
int pyi__view_frames_hidden(const pyi_model *m, unsigned processors, uint32_t stack,
                            pyi_view_frame *frames, size_t capacity, uint32_t *hidden);
/* The deepest stack's depth (at least 1). */
size_t pyi__model_max_depth(const pyi_model *m);

#endif /* PYI_MODEL_INTERNAL_H */
