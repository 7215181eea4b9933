/* SPDX-License-Identifier: MIT */
/*
 * The collapsed renderer: folded stacks for flamegraph.pl, inferno,
 * speedscope and Pyroscope. One line per distinct processed stack, root
 * first, frames joined by ';', then one space and an integer count. Frames
 * read "name (file:line)"; characters the format cannot hold (';' and
 * control characters) are replaced. With several threads the thread is
 * the root frame. Counts are microseconds of the metric (samples for
 * --metric samples).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "render_internal.h"

typedef struct folded_line {
    char *text;
    uint64_t count;
} folded_line;

typedef struct collapsed_ctx {
    const pyi_model *model;
    const pyi_render_options *options;
    int thread_roots;
    folded_line *lines;
    size_t count, capacity;
    pyi_buffer buffer; /* the line being built */
    pyi_sink line_sink;
} collapsed_ctx;

/* Appends text with ';' -> ':' and controls -> '?', so one frame stays one field. */
static int append_clean(collapsed_ctx *c, const char *text)
{
    char chunk[256];
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
        unsigned char ch = *s;
        chunk[n++] = ch == ';' ? ':' : (ch < 0x20 || ch == 0x7F) ? '?' : (char)ch;
        if (n == sizeof(chunk)) {
            if (pyi_sink_write(&c->line_sink, chunk, n))
                return PYI_E_NOMEM;
            n = 0;
        }
    }
    return pyi_sink_write(&c->line_sink, chunk, n) ? PYI_E_NOMEM : 0;
}

static int append_frame(collapsed_ctx *c, const pyi_model_function *f)
{
    int rc = append_clean(c, f->name);
    if (!rc && *f->file) {
        rc = pyi_sink_puts(&c->line_sink, " (");
        rc = rc ? rc : append_clean(c, f->file);
        if (!rc && f->first_line)
            rc = pyi_sink_printf(&c->line_sink, ":%" PRIu32, f->first_line);
        rc = rc ? rc : pyi_sink_puts(&c->line_sink, ")");
    }
    return rc;
}

static int visit(void *ctx, uint32_t thread, const pyi_view_frame *frames, size_t depth,
                 const pyi_metrics *totals)
{
    collapsed_ctx *c = ctx;
    uint64_t value = pyi_metrics_value(totals, c->options->metric);
    if (c->options->metric != PYI_METRIC_SAMPLES)
        value /= 1000; /* microseconds: integers, as every consumer wants */
    if (!value)
        return 0;
    c->buffer.size = 0;
    int rc = 0;
    if (c->thread_roots) {
        const pyi_model_thread *t = pyi_model_thread_get(c->model, thread);
        rc = append_clean(c, *t->name ? t->name : "thread");
        rc = rc ? rc : pyi_sink_printf(&c->line_sink, " (tid %" PRIu64 ")", t->native_id);
    }
    for (size_t i = 0; i < depth && !rc; i++) {
        if (i || c->thread_roots)
            rc = pyi_sink_puts(&c->line_sink, ";");
        rc = rc ? rc : append_frame(c, pyi_model_function_get(c->model, frames[i].function));
    }
    if (!depth && !rc)
        rc = pyi_sink_puts(&c->line_sink, c->thread_roots ? ";[no Python frame]"
                                                           : "[no Python frame]");
    if (rc)
        return PYI_E_NOMEM;
    if (c->count == c->capacity) {
        size_t capacity = c->capacity ? c->capacity * 2 : 256;
        folded_line *grown = realloc(c->lines, capacity * sizeof(*grown));
        if (!grown)
            return PYI_E_NOMEM;
        c->lines = grown;
        c->capacity = capacity;
    }
    char *text = malloc(c->buffer.size + 1);
    if (!text)
        return PYI_E_NOMEM;
    memcpy(text, c->buffer.data, c->buffer.size + 1);
    c->lines[c->count++] = (folded_line){text, value};
    return 0;
}

static int compare_lines(const void *a, const void *b)
{
    return strcmp(((const folded_line *)a)->text, ((const folded_line *)b)->text);
}

/* Sorted, with equal stacks (several aggregates after processing) merged. */
static int write_lines(collapsed_ctx *c, pyi_sink *sink)
{
    if (c->count) /* qsort wants a valid pointer even for nothing */
        qsort(c->lines, c->count, sizeof(*c->lines), compare_lines);
    int rc = 0;
    for (size_t i = 0; i < c->count && !rc;) {
        uint64_t count = c->lines[i].count;
        size_t j = i + 1;
        while (j < c->count && !strcmp(c->lines[j].text, c->lines[i].text))
            count += c->lines[j++].count;
        rc = pyi_sink_puts(sink, c->lines[i].text);
        rc = rc ? rc : pyi_sink_printf(sink, " %" PRIu64 "\n", count);
        i = j;
    }
    return rc;
}

static int render_collapsed(const pyi_model *model, const pyi_render_options *options,
                            pyi_sink *sink, char *error, size_t error_size)
{
    collapsed_ctx c;
    memset(&c, 0, sizeof(c));
    c.model = model;
    c.options = options;
    c.thread_roots = pyi_model_get_info(model)->thread_count > 1 &&
                     options->thread == PYI_THREAD_ALL;
    pyi_buffer_init(&c.buffer, &c.line_sink);
    pyi_view_options view;
    pyi_view_options_init(&view);
    view.processors = pyi_render_processors(&pyi_renderer_collapsed, options);
    view.metric = options->metric;
    view.thread = options->thread;
    int rc = pyi_model_visit_stacks(model, &view, visit, &c);
    if (!rc)
        rc = write_lines(&c, sink);
    for (size_t i = 0; i < c.count; i++)
        free(c.lines[i].text);
    free(c.lines);
    pyi_buffer_destroy(&c.buffer);
    if (rc)
        return pyi__render_fail(error, error_size, rc, "collapsed: %s", pyi_strerror(rc));
    return 0;
}

const pyi_renderer pyi_renderer_collapsed = {
    "collapsed", ".folded", "folded stacks for flamegraph.pl, inferno, speedscope, Pyroscope",
    0, PYI_PROC_HIDE_IMPORTLIB | PYI_PROC_HIDE_PROFILER, render_collapsed,
};
