/* SPDX-License-Identifier: MIT */
/*
 * The html renderer: one self-contained page (renderers/assets/html, embedded
 * at build time) around a JSON data blob of the aggregated model: functions,
 * locations, the stack prefix tree, one aggregate per (thread, stack) with
 * every metric, downsampled timelines and, when asked, the source lines the
 * profile references. The page's JavaScript builds every view (call tree,
 * inverted tree, flame graph, timelines) and applies the filters itself, so
 * the file size follows the number of distinct stacks, not of samples.
 *
 * The data format is documented in renderers/assets/html/README.md. Every
 * string goes through pyi__html_string, which escapes <, > and &: the blob
 * sits in <script type="application/json"> and must not be able to close it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "html_internal.h"
#include "html_page.h"

#define HTML_DATA_VERSION 1
#define HTML_DEFAULT_MIN_SHARE 0.001 /* 0.1%, as pyinstrument's call-stack view */

/* ---- Buffered JSON output ---------------------------------------------------- */

static int buffered_write(void *ctx, const void *data, size_t size)
{
    pyi_html_out *out = ctx;
    if (out->used + size > sizeof(out->buf)) {
        if (pyi_sink_write(out->sink, out->buf, out->used))
            return -1;
        out->used = 0;
        if (size > sizeof(out->buf))
            return pyi_sink_write(out->sink, data, size) ? -1 : 0;
    }
    memcpy(out->buf + out->used, data, size);
    out->used += size;
    return 0;
}

void pyi__html_out_init(pyi_html_out *out, pyi_sink *sink)
{
    out->sink = sink;
    out->buffered.write = buffered_write;
    out->buffered.ctx = out;
    out->rc = 0;
    out->used = 0;
}

int pyi__html_out_flush(pyi_html_out *out)
{
    if (!out->rc && out->used)
        out->rc = pyi_sink_write(out->sink, out->buf, out->used);
    out->used = 0;
    return out->rc;
}

void pyi__html_write(pyi_html_out *out, const void *data, size_t size)
{
    if (!out->rc)
        out->rc = pyi_sink_write(&out->buffered, data, size);
}

void pyi__html_put(pyi_html_out *out, const char *text)
{
    pyi__html_write(out, text, strlen(text));
}

void pyi__html_u64(pyi_html_out *out, uint64_t value)
{
    char digits[24];
    size_t n = sizeof(digits);
    do {
        digits[--n] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    pyi__html_write(out, digits + n, sizeof(digits) - n);
}

void pyi__html_i64(pyi_html_out *out, int64_t value)
{
    if (value < 0) {
        pyi__html_put(out, "-");
        pyi__html_u64(out, (uint64_t)0 - (uint64_t)value);
    } else {
        pyi__html_u64(out, (uint64_t)value);
    }
}

void pyi__html_string(pyi_html_out *out, const char *text)
{
    pyi__html_put(out, "\"");
    if (!out->rc)
        out->rc = pyi__json_string(&out->buffered, text ? text : "");
    pyi__html_put(out, "\"");
}

void pyi__html_key(pyi_html_out *out, const char *key, int first)
{
    pyi__html_put(out, first ? "\"" : ",\"");
    pyi__html_put(out, key);
    pyi__html_put(out, "\":");
}

/* ---- Data blob: metadata ------------------------------------------------------ */

/* [samples, on_cpu_samples, wall_ns, on_cpu_ns, cpu_ns]: the order the page expects. */
static void put_metrics(pyi_html_out *out, const pyi_metrics *m)
{
    const uint64_t values[] = {m->samples, m->on_cpu_samples, m->wall_ns, m->on_cpu_ns,
                               m->cpu_ns};
    for (size_t i = 0; i < 5; i++) {
        pyi__html_put(out, i ? "," : "[");
        pyi__html_u64(out, values[i]);
    }
    pyi__html_put(out, "]");
}

static void put_u64_field(pyi_html_out *out, const char *key, uint64_t value)
{
    pyi__html_key(out, key, 0);
    pyi__html_u64(out, value);
}

static void put_str_field(pyi_html_out *out, const char *key, const char *value)
{
    pyi__html_key(out, key, 0);
    pyi__html_string(out, value);
}

static void write_info(pyi_html_out *out, const pyi_model *model, const char *producer)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    pyi__html_put(out, "{\"format\":\"pyinst-html\"");
    put_u64_field(out, "version", HTML_DATA_VERSION);
    put_str_field(out, "producer", producer ? producer : "pyinst-report");
    pyi__html_key(out, "info", 0);
    pyi__html_put(out, "{\"start_wall_ns\":");
    pyi__html_u64(out, info->start_wall_ns);
    put_u64_field(out, "duration_ns", info->duration_ns);
    put_u64_field(out, "interval_ns", info->interval_ns);
    put_u64_field(out, "samples_read", info->samples_read);
    put_u64_field(out, "lost_samples", info->lost_samples);
    pyi__html_put(out, info->has_cpu ? ",\"has_cpu\":true" : ",\"has_cpu\":false");
    pyi__html_put(out, info->has_status ? ",\"has_status\":true" : ",\"has_status\":false");
    pyi__html_key(out, "totals", 0);
    put_metrics(out, &info->totals);
    pyi__html_put(out, "}");
}

static void write_sources(pyi_html_out *out, const pyi_model *model)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    pyi__html_key(out, "sources", 0);
    for (uint32_t id = 1; id <= info->source_count; id++) {
        const pyi_model_source *s = pyi_model_source_get(model, id);
        pyi__html_put(out, id > 1 ? ",{\"path\":" : "[{\"path\":");
        pyi__html_string(out, s->path);
        put_str_field(out, "recorder", s->recorder);
        put_str_field(out, "mode", s->mode);
        put_str_field(out, "program", s->program);
        put_str_field(out, "hostname", s->hostname);
        put_str_field(out, "python", s->python);
        put_str_field(out, "platform", s->platform);
        put_str_field(out, "cwd", s->cwd);
        pyi__html_key(out, "pid", 0);
        pyi__html_i64(out, s->pid);
        put_u64_field(out, "interval_ns", s->interval_ns);
        put_u64_field(out, "start_wall_ns", s->start_wall_ns);
        put_u64_field(out, "offset_ns", s->offset_ns);
        put_u64_field(out, "duration_ns", s->duration_ns);
        put_u64_field(out, "samples_read", s->samples_read);
        put_u64_field(out, "lost_samples", s->lost_samples);
        put_str_field(out, "warning", s->warning);
        pyi__html_put(out, "}");
    }
    pyi__html_put(out, info->source_count ? "]" : "[]");
}

static void write_threads(pyi_html_out *out, const pyi_model *model)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    pyi__html_key(out, "threads", 0);
    for (uint32_t id = 1; id <= info->thread_count; id++) {
        const pyi_model_thread *t = pyi_model_thread_get(model, id);
        pyi__html_put(out, id > 1 ? ",{\"id\":" : "[{\"id\":");
        pyi__html_u64(out, id);
        put_u64_field(out, "source", t->source);
        put_str_field(out, "name", t->name);
        put_u64_field(out, "tid", t->native_id);
        pyi__html_key(out, "pid", 0);
        pyi__html_i64(out, t->pid);
        pyi__html_put(out, t->is_main ? ",\"main\":true" : ",\"main\":false");
        put_u64_field(out, "first_ns", t->first_ns);
        put_u64_field(out, "last_ns", t->last_ns);
        pyi__html_key(out, "totals", 0);
        put_metrics(out, &t->totals);
        pyi__html_put(out, "}");
    }
    pyi__html_put(out, info->thread_count ? "]" : "[]");
}

/* ---- Data blob: definitions, columnar (index = id - 1) ------------------------- */

typedef enum function_column {
    FN_NAME, FN_FILE, FN_LIBRARY, FN_LINE, FN_KIND, FN_CODE, FN_SOURCE, FN_COLUMNS
} function_column;

static const char *const FUNCTION_COLUMN_KEYS[FN_COLUMNS] = {
    "name", "file", "library", "line", "kind", "code", "source"};

static void put_function_value(pyi_html_out *out, const pyi_model_function *f,
                               function_column column, const pyi_html_sources *sources)
{
    switch (column) {
    case FN_NAME: pyi__html_string(out, f->name); break;
    case FN_FILE: pyi__html_string(out, f->file); break;
    case FN_LIBRARY: pyi__html_string(out, f->library); break;
    case FN_LINE: pyi__html_u64(out, f->first_line); break;
    case FN_KIND: pyi__html_u64(out, f->kind); break;
    case FN_CODE: pyi__html_u64(out, f->code); break;
    case FN_SOURCE: pyi__html_i64(out, pyi__html_sources_index(sources, f->id)); break;
    case FN_COLUMNS: break;
    }
}

static void write_functions(pyi_html_out *out, const pyi_model *model,
                            const pyi_html_sources *sources)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    pyi__html_key(out, "functions", 0);
    pyi__html_put(out, "{");
    for (int column = 0; column < FN_COLUMNS; column++) {
        pyi__html_key(out, FUNCTION_COLUMN_KEYS[column], column == 0);
        for (uint32_t id = 1; id <= info->function_count && !out->rc; id++) {
            pyi__html_put(out, id > 1 ? "," : "[");
            put_function_value(out, pyi_model_function_get(model, id), (function_column)column,
                               sources);
        }
        pyi__html_put(out, info->function_count ? "]" : "[]");
    }
    pyi__html_put(out, "}");
}

typedef uint64_t (*column_get_fn)(const pyi_model *model, size_t index);

/* "key":[get(0),get(1),...] */
static void write_column(pyi_html_out *out, const char *key, int first, size_t count,
                         column_get_fn get, const pyi_model *model)
{
    pyi__html_key(out, key, first);
    pyi__html_put(out, "[");
    for (size_t i = 0; i < count && !out->rc; i++) {
        if (i)
            pyi__html_put(out, ",");
        pyi__html_u64(out, get(model, i));
    }
    pyi__html_put(out, "]");
}

static uint64_t location_function(const pyi_model *m, size_t i)
{
    return pyi_model_location_get(m, (uint32_t)i + 1)->function;
}

static uint64_t location_line(const pyi_model *m, size_t i)
{
    return pyi_model_location_get(m, (uint32_t)i + 1)->line;
}

static void write_locations(pyi_html_out *out, const pyi_model *model)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    pyi__html_key(out, "locations", 0);
    pyi__html_put(out, "{");
    write_column(out, "function", 1, info->location_count, location_function, model);
    write_column(out, "line", 0, info->location_count, location_line, model);
    pyi__html_put(out, "}");
}

/* ---- Data blob: the initial view (the command line's choices) ------------------- */

static const char *metric_name(pyi_metric metric)
{
    static const char *const NAMES[] = {"wall", "on-cpu", "waiting", "cpu", "samples"};
    return (unsigned)metric < 5 ? NAMES[metric] : "wall";
}

static void write_view(pyi_html_out *out, const pyi_render_options *options)
{
    unsigned processors = pyi_render_processors(&pyi_renderer_html, options);
    double min_share = options->show_all ? 0
                     : options->min_share < 0 ? HTML_DEFAULT_MIN_SHARE : options->min_share;
    char share[32];
    snprintf(share, sizeof(share), "%.6g", min_share);
    pyi__html_key(out, "view", 0);
    pyi__html_put(out, "{\"metric\":");
    pyi__html_string(out, metric_name(options->metric));
    put_u64_field(out, "thread", options->thread);
    put_u64_field(out, "focus_function", options->focus_function);
    pyi__html_put(out, options->inverted ? ",\"inverted\":true" : ",\"inverted\":false");
    pyi__html_key(out, "min_share", 0);
    pyi__html_put(out, share);
    pyi__html_key(out, "processors", 0);
    int first = 1;
    for (unsigned bit = 1; bit <= PYI_PROC_COLLAPSE_RECURSION; bit <<= 1)
        if ((processors & bit) && pyi_processor_name(bit)) {
            pyi__html_put(out, first ? "[" : ",");
            pyi__html_string(out, pyi_processor_name(bit));
            first = 0;
        }
    pyi__html_put(out, first ? "[]}" : "]}");
}

/* ---- The page ----------------------------------------------------------------------- */

static void write_data(pyi_html_out *out, const pyi_model *model,
                       const pyi_render_options *options, const pyi_html_stacks *stacks,
                       const pyi_html_sources *sources)
{
    write_info(out, model, options->producer);
    write_view(out, options);
    write_sources(out, model);
    write_threads(out, model);
    write_functions(out, model, sources);
    write_locations(out, model);
    pyi__html_stacks_write(out, model, stacks);
    pyi__html_timelines(out, model, stacks);
    pyi__html_sources_write(out, sources);
    pyi__html_put(out, "}");
}

static int render_html(const pyi_model *model, const pyi_render_options *options,
                       pyi_sink *sink, char *error, size_t error_size)
{
    pyi_html_sources *sources = NULL;
    pyi_html_stacks stacks;
    pyi_html_out *out = NULL;
    int rc = pyi__html_stacks_build(model, &stacks);
    if (rc)
        goto out_fail;
    if (options->with_source && (rc = pyi__html_sources_read(model, &sources)) != 0)
        goto out_free_stacks;
    out = malloc(sizeof(*out));
    if (!out) {
        rc = PYI_E_NOMEM;
        goto out_free_stacks;
    }
    pyi__html_out_init(out, sink);
    const pyi_html_page *page = &pyi__html_report_page;
    pyi__html_write(out, page->head, page->head_size);
    write_data(out, model, options, &stacks, sources);
    pyi__html_write(out, page->tail, page->tail_size);
    rc = pyi__html_out_flush(out);
    free(out);
out_free_stacks:
    pyi__html_sources_free(sources);
    pyi__html_stacks_destroy(&stacks);
out_fail:
    if (rc)
        return pyi__render_fail(error, error_size, rc, "html: %s", pyi_strerror(rc));
    return 0;
}

const pyi_renderer pyi_renderer_html = {
    .name = "html",
    .extension = ".html",
    .description = "a self-contained page: call tree, flame graph, timelines, filters",
    .binary = 0,
    .default_processors = PYI_PROC_DEFAULT,
    .render = render_html,
};
