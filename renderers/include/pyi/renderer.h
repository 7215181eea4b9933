/* SPDX-License-Identifier: MIT */
/*
 * Renderers: one table of output formats, each fed by the analyzer's model
 * only (pyi/analyzer.h) and writing through a sink the caller provides. A
 * renderer never opens a file, never reads a trace, and never looks at the
 * terminal: whoever calls it decides colours, widths and where bytes go.
 *
 * Adding a renderer: a file renderers/src/<name>.c defining one
 * `const pyi_renderer pyi_renderer_<name>`, and one line in the table in
 * renderers/src/registry.c.
 *
 * Every name from a trace is untrusted: renderers escape it for their format
 * (HTML, JSON) or replace characters the format cannot hold (folded stacks).
 */
#ifndef PYI_RENDERER_H
#define PYI_RENDERER_H

#include <stddef.h>
#include <stdint.h>

#include "pyi/analyzer.h"
#include "pyi/diff.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pyi_renderer pyi_renderer;

/* ---- Output sink -------------------------------------------------------- */

/* Where a renderer's bytes go. write returns 0, or non-zero to stop the render
 * (which then fails with PYI_E_IO). The caller owns ctx. */
typedef struct pyi_sink {
    int (*write)(void *ctx, const void *data, size_t size);
    void *ctx;
} pyi_sink;

/* Helpers for renderers: each returns 0 or PYI_E_IO. */
int pyi_sink_write(pyi_sink *sink, const void *data, size_t size);
int pyi_sink_puts(pyi_sink *sink, const char *text);
int pyi_sink_printf(pyi_sink *sink, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* A sink writing to a stdio FILE* (ctx is the FILE*). */
int pyi_sink_file_write(void *ctx, const void *data, size_t size);

/* A growable memory sink; init, render, read data/size, then destroy. */
typedef struct pyi_buffer {
    char *data;      /* NUL-terminated after each write; NULL before the first */
    size_t size;     /* bytes written */
    size_t capacity; /* bytes allocated */
} pyi_buffer;

void pyi_buffer_init(pyi_buffer *buffer, pyi_sink *sink);
void pyi_buffer_destroy(pyi_buffer *buffer);

/* ---- Options ------------------------------------------------------------ */

/*
 * Every renderer takes the same options and ignores those it has no use for.
 * Processors: a renderer starts from its own default set (pyi_renderer.
 * default_processors), then clears processors_off and sets processors_on, so
 * the command line can say "--no-group-library" without knowing the format.
 */
typedef struct pyi_render_options {
    unsigned processors_on;   /* PYI_PROC_* to add to the renderer's defaults */
    unsigned processors_off;  /* PYI_PROC_* to remove from them */
    pyi_metric metric;        /* what the numbers measure; WALL by default */
    uint32_t thread;          /* one model thread, or PYI_THREAD_ALL */
    uint32_t focus_function;  /* non-zero: tree of this function's callees (or callers
                                 with inverted); model function id */
    int inverted;             /* callers (bottom-up) view where the format has trees */
    double min_share;         /* hide tree nodes under this share of the total; < 0 =
                                 the renderer's default (text: 1%); 0 keeps all */
    int show_all;             /* keep everything: min_share 0 and no hiding processors */
    /* text */
    int ascii;                /* ASCII connectors instead of box drawing */
    int color;                /* ANSI colours (the caller decides: TTY and NO_COLOR) */
    int flat;                 /* a flat top-functions table instead of the tree */
    int flat_limit;           /* rows of the flat table; 0 = 40 */
    int flat_lines;           /* the flat table per line (function:line), not per function */
    int percent;              /* times as percentages of the total */
    int no_header;            /* leave out the header block */
    /* html (and any renderer that can show source) */
    int with_source;          /* read source files at render time where readable */
    /* all: what the header names as the producer, e.g. "pyinst-report 0.1.0" */
    const char *producer;     /* NULL = "pyinst-report" */
} pyi_render_options;

/* Defaults: no processor changes, WALL, all threads, min_share -1 (renderer
 * default), no colour, unicode, tree view. */
void pyi_render_options_init(pyi_render_options *options);

/* The processors a renderer uses for these options. */
unsigned pyi_render_processors(const pyi_renderer *renderer,
                               const pyi_render_options *options);

/* ---- The renderer table ------------------------------------------------- */

struct pyi_renderer {
    const char *name;          /* "text", "json", "speedscope", "pprof", "collapsed", "html" */
    const char *extension;     /* file suffix it guesses from, e.g. ".speedscope.json" */
    const char *description;   /* one line for --help */
    int binary;                /* output is not text (refuse to write it to a terminal) */
    unsigned default_processors; /* PYI_PROC_* it starts from */
    /*
     * Renders a finished model. Returns 0 or a negative pyi_error: PYI_E_IO
     * (the sink refused), PYI_E_NOMEM, PYI_E_INVALID_ARG (an option that makes
     * no sense for this format). On error a one-line message is copied into
     * error (error_size bytes; may be 0). Output already written stays written.
     */
    int (*render)(const pyi_model *model, const pyi_render_options *options, pyi_sink *sink,
                  char *error, size_t error_size);
};

/* Every renderer built in, in a stable order; *count gets the number. */
const pyi_renderer *const *pyi_renderers(size_t *count);
/* By name ("text"); NULL if unknown. */
const pyi_renderer *pyi_renderer_find(const char *name);
/* By the longest extension that ends path (case-insensitive); NULL if none. */
const pyi_renderer *pyi_renderer_for_path(const char *path);

/* ---- Differential renderers (pyinst-report diff) ---------------------------- */

/*
 * A diff renders from a finished pyi_diff (pyi/diff.h) instead of a model,
 * with the same options (colour, ascii, min_share for the tree, flat_limit
 * for rows per table, producer) and the same sink and error conventions.
 * Adding one: renderers/src/diff_<name>.c defining `const pyi_diff_renderer
 * pyi_diff_renderer_<name>`, and one line in renderers/src/registry.c.
 */
typedef struct pyi_diff_renderer {
    const char *name;        /* "text", "json", "markdown", "collapsed", "html" */
    const char *extension;   /* file suffix it guesses from, e.g. ".md" */
    const char *description; /* one line for --help */
    int (*render)(const pyi_diff *diff, const pyi_render_options *options, pyi_sink *sink,
                  char *error, size_t error_size);
} pyi_diff_renderer;

/* Every diff renderer built in, in a stable order; *count gets the number. */
const pyi_diff_renderer *const *pyi_diff_renderers(size_t *count);
/* By name; NULL if unknown. */
const pyi_diff_renderer *pyi_diff_renderer_find(const char *name);
/* By the longest extension that ends path (case-insensitive); NULL if none. */
const pyi_diff_renderer *pyi_diff_renderer_for_path(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* PYI_RENDERER_H */
