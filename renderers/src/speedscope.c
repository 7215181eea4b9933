/* SPDX-License-Identifier: MIT */
/*
 * The speedscope renderer: the published file format
 * (https://www.speedscope.app/file-format-schema.json) with one "sampled"
 * profile per thread sharing one frame table. Each aggregate is one sample
 * weighted by its total, in order of first appearance: the left-heavy and
 * sandwich views are exact; the time-order view shows aggregates, not time.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "render_internal.h"

#define NO_STACK_FRAME "[no Python frame]"

typedef struct speedscope_ctx {
    const pyi_model *model;
    const pyi_render_options *options;
    pyi_sink *sink;
    uint32_t *frame_index;   /* model function id -> frame index + 1 */
    uint32_t frame_count;
    uint32_t no_stack_index; /* + 1; 0 = not used */
    uint32_t thread;         /* the profile being written */
    uint64_t weight_sum;
    size_t written;          /* samples written in this profile */
    int pass;                /* 0: collect frames, 1: samples, 2: weights */
    int rc;
} speedscope_ctx;

static int collect_frames(speedscope_ctx *c, const pyi_view_frame *frames, size_t depth)
{
    for (size_t i = 0; i < depth; i++)
        if (!c->frame_index[frames[i].function])
            c->frame_index[frames[i].function] = ++c->frame_count;
    if (!depth && !c->no_stack_index)
        c->no_stack_index = ++c->frame_count;
    return 0;
}

static int visit(void *ctx, uint32_t thread, const pyi_view_frame *frames, size_t depth,
                 const pyi_metrics *totals)
{
    speedscope_ctx *c = ctx;
    if (c->pass == 0)
        return collect_frames(c, frames, depth);
    uint64_t weight = pyi_metrics_value(totals, c->options->metric);
    if (thread != c->thread || !weight)
        return 0;
    if (c->pass == 2) {
        c->weight_sum += weight;
        return pyi_sink_printf(c->sink, "%s%" PRIu64, c->written++ ? "," : "", weight);
    }
    int rc = pyi_sink_puts(c->sink, c->written++ ? ",[" : "[");
    for (size_t i = 0; i < depth && !rc; i++)
        rc = pyi_sink_printf(c->sink, "%s%" PRIu32, i ? "," : "",
                             c->frame_index[frames[i].function] - 1);
    if (!depth && !rc)
        rc = pyi_sink_printf(c->sink, "%" PRIu32, c->no_stack_index - 1);
    return rc ? rc : pyi_sink_puts(c->sink, "]");
}

static int write_frames(speedscope_ctx *c)
{
    const pyi_model_info *info = pyi_model_get_info(c->model);
    uint32_t *order = calloc(c->frame_count + 1, sizeof(*order)); /* index -> function */
    if (!order)
        return PYI_E_NOMEM;
    for (uint32_t f = 1; f <= info->function_count; f++)
        if (c->frame_index[f])
            order[c->frame_index[f] - 1] = f;
    int rc = pyi_sink_puts(c->sink, "\"shared\":{\"frames\":[");
    for (uint32_t i = 0; i < c->frame_count && !rc; i++) {
        rc = pyi_sink_puts(c->sink, i ? ",{\"name\":\"" : "{\"name\":\"");
        if (!order[i]) {
            rc = rc ? rc : pyi_sink_puts(c->sink, NO_STACK_FRAME "\"}");
            continue;
        }
        const pyi_model_function *f = pyi_model_function_get(c->model, order[i]);
        rc = rc ? rc : pyi__json_string(c->sink, f->name);
        if (!rc && *f->file) {
            rc = pyi_sink_puts(c->sink, "\",\"file\":\"");
            rc = rc ? rc : pyi__json_string(c->sink, f->file);
        }
        rc = rc ? rc : pyi_sink_puts(c->sink, "\"");
        if (!rc && f->first_line)
            rc = pyi_sink_printf(c->sink, ",\"line\":%" PRIu32, f->first_line);
        rc = rc ? rc : pyi_sink_puts(c->sink, "}");
    }
    free(order);
    return rc ? rc : pyi_sink_puts(c->sink, "]}");
}

static int write_profile(speedscope_ctx *c, const pyi_view_options *view,
                         const pyi_model_thread *t, int first)
{
    const char *unit = c->options->metric == PYI_METRIC_SAMPLES ? "none" : "nanoseconds";
    int rc = pyi_sink_puts(c->sink, first ? "{\"type\":\"sampled\",\"name\":\""
                                          : ",{\"type\":\"sampled\",\"name\":\"");
    rc = rc ? rc : pyi__json_string(c->sink, *t->name ? t->name : "thread");
    rc = rc ? rc : pyi_sink_printf(c->sink, " (tid %" PRIu64 ")\",\"unit\":\"%s\","
                                   "\"startValue\":0,\"samples\":[", t->native_id, unit);
    c->thread = t->id;
    c->pass = 1;
    c->written = 0;
    rc = rc ? rc : pyi_model_visit_stacks(c->model, view, visit, c);
    rc = rc ? rc : pyi_sink_puts(c->sink, "],\"weights\":[");
    c->pass = 2;
    c->written = 0;
    c->weight_sum = 0;
    rc = rc ? rc : pyi_model_visit_stacks(c->model, view, visit, c);
    return rc ? rc : pyi_sink_printf(c->sink, "],\"endValue\":%" PRIu64 "}", c->weight_sum);
}

static int write_document(speedscope_ctx *c, const pyi_view_options *view)
{
    const pyi_model_info *info = pyi_model_get_info(c->model);
    const pyi_model_source *src = pyi_model_source_get(c->model, 1);
    int rc = pyi_sink_puts(c->sink, "{\"$schema\":\"https://www.speedscope.app/"
                                    "file-format-schema.json\",\"name\":\"");
    rc = rc ? rc : pyi__json_string(c->sink, src && *src->program ? src->program : "pyinst");
    rc = rc ? rc : pyi_sink_puts(c->sink, "\",\"exporter\":\"");
    rc = rc ? rc : pyi__json_string(c->sink, c->options->producer ? c->options->producer
                                                                  : "pyinst-report");
    rc = rc ? rc : pyi_sink_puts(c->sink, "\",");
    rc = rc ? rc : write_frames(c);
    rc = rc ? rc : pyi_sink_puts(c->sink, ",\"profiles\":[");
    uint32_t written = 0, active = 0;
    for (uint32_t id = 1; id <= info->thread_count && !rc; id++) {
        const pyi_model_thread *t = pyi_model_thread_get(c->model, id);
        if (!pyi_metrics_value(&t->totals, c->options->metric) ||
            (c->options->thread != PYI_THREAD_ALL && c->options->thread != id))
            continue;
        if (t->is_main && !active)
            active = written;
        rc = write_profile(c, view, t, written++ == 0);
    }
    return rc ? rc : pyi_sink_printf(c->sink, "],\"activeProfileIndex\":%" PRIu32 "}\n", active);
}

static int render_speedscope(const pyi_model *model, const pyi_render_options *options,
                             pyi_sink *sink, char *error, size_t error_size)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    speedscope_ctx c = {model, options, sink, NULL, 0, 0, 0, 0, 0, 0, 0};
    c.frame_index = calloc(info->function_count + 1, sizeof(*c.frame_index));
    if (!c.frame_index)
        return pyi__render_fail(error, error_size, PYI_E_NOMEM, "speedscope: out of memory");
    pyi_view_options view;
    pyi_view_options_init(&view);
    view.processors = pyi_render_processors(&pyi_renderer_speedscope, options);
    view.metric = options->metric;
    int rc = pyi_model_visit_stacks(model, &view, visit, &c);
    if (!rc)
        rc = write_document(&c, &view);
    free(c.frame_index);
    if (rc)
        return pyi__render_fail(error, error_size, rc, "speedscope: %s", pyi_strerror(rc));
    return 0;
}

const pyi_renderer pyi_renderer_speedscope = {
    "speedscope", ".speedscope.json", "speedscope.app file: one sampled profile per thread",
    0, PYI_PROC_HIDE_IMPORTLIB | PYI_PROC_HIDE_PROFILER, render_speedscope,
};
