/* SPDX-License-Identifier: MIT */
/*
 * The json renderer: the processed call tree plus metadata, in the stable
 * schema documented in spec/json-report.md ("pyinst-report-json", version 1).
 * Written iteratively (trees can be thousands of frames deep) with every
 * string escaped, including <, > and &, so the output can sit inside HTML.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "render_internal.h"

#define JSON_SCHEMA_VERSION 1

typedef struct json_ctx {
    const pyi_model *model;
    pyi_sink *sink;
    int rc;
} json_ctx;

static void put(json_ctx *c, const char *text)
{
    if (!c->rc)
        c->rc = pyi_sink_puts(c->sink, text);
}

static void put_string(json_ctx *c, const char *text)
{
    put(c, "\"");
    if (!c->rc)
        c->rc = pyi__json_string(c->sink, text);
    put(c, "\"");
}

static void put_key(json_ctx *c, const char *key, int first)
{
    put(c, first ? "\"" : ",\"");
    put(c, key);
    put(c, "\":");
}

static void put_u64(json_ctx *c, const char *key, uint64_t v, int first)
{
    put_key(c, key, first);
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "%" PRIu64, v);
}

static void put_seconds(json_ctx *c, const char *key, uint64_t ns, int first)
{
    put_key(c, key, first);
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u,
                                ns % 1000000000u);
}

static void put_str(json_ctx *c, const char *key, const char *v, int first)
{
    put_key(c, key, first);
    put_string(c, v);
}

static void put_metrics(json_ctx *c, const char *key, const pyi_metrics *m)
{
    put_key(c, key, 0);
    put(c, "{");
    put_u64(c, "samples", m->samples, 1);
    put_seconds(c, "time", m->wall_ns, 0);
    put_seconds(c, "on_cpu_time", m->on_cpu_ns, 0);
    put_seconds(c, "cpu_time", m->cpu_ns, 0);
    put(c, "}");
}

static const char *kind_name(uint32_t kind)
{
    return kind == 1 ? "native" : kind == 2 ? "synthetic" : "python";
}

static const char *code_name(uint32_t code)
{
    return code & PYI_CODE_PROFILER   ? "profiler"
         : code & PYI_CODE_IMPORTLIB  ? "importlib"
         : code & PYI_CODE_STDLIB     ? "stdlib"
         : code & PYI_CODE_SITE       ? "site-packages"
         : code & PYI_CODE_NATIVE     ? "native"
         : code & PYI_CODE_SYNTHETIC  ? "synthetic"
                                      : "app";
}

static void write_sources(json_ctx *c)
{
    const pyi_model_info *info = pyi_model_get_info(c->model);
    put(c, ",\"sources\":[");
    for (uint32_t id = 1; id <= info->source_count; id++) {
        const pyi_model_source *s = pyi_model_source_get(c->model, id);
        put(c, id > 1 ? ",{" : "{");
        put_u64(c, "id", id, 1);
        put_str(c, "path", s->path, 0);
        put_str(c, "recorder", s->recorder, 0);
        put_str(c, "mode", s->mode, 0);
        put_str(c, "program", s->program, 0);
        put_str(c, "hostname", s->hostname, 0);
        put_str(c, "python", s->python, 0);
        put_key(c, "pid", 0);
        if (!c->rc)
            c->rc = pyi_sink_printf(c->sink, "%" PRId64, s->pid);
        put_u64(c, "format_major", s->major, 0);
        put_u64(c, "format_minor", s->minor, 0);
        put_seconds(c, "interval", s->interval_ns, 0);
        put_seconds(c, "start_time", s->start_wall_ns, 0);
        put_seconds(c, "duration", s->duration_ns, 0);
        put_u64(c, "samples_read", s->samples_read, 0);
        put_u64(c, "lost_samples", s->lost_samples, 0);
        put_key(c, "truncated", 0);
        put(c, s->truncated ? "true" : "false");
        put_key(c, "closed_cleanly", 0);
        put(c, s->closed_cleanly ? "true" : "false");
        put_str(c, "warning", s->warning, 0);
        put(c, "}");
    }
    put(c, "]");
}

static void write_threads(json_ctx *c)
{
    const pyi_model_info *info = pyi_model_get_info(c->model);
    put(c, ",\"threads\":[");
    for (uint32_t id = 1; id <= info->thread_count; id++) {
        const pyi_model_thread *t = pyi_model_thread_get(c->model, id);
        put(c, id > 1 ? ",{" : "{");
        put_u64(c, "id", id, 1);
        put_u64(c, "source", t->source, 0);
        put_str(c, "name", t->name, 0);
        put_u64(c, "tid", t->native_id, 0);
        put_key(c, "pid", 0);
        if (!c->rc)
            c->rc = pyi_sink_printf(c->sink, "%" PRId64, t->pid);
        put_key(c, "main", 0);
        put(c, t->is_main ? "true" : "false");
        put_metrics(c, "totals", &t->totals);
        put(c, "}");
    }
    put(c, "]");
}

static void write_functions(json_ctx *c)
{
    const pyi_model_info *info = pyi_model_get_info(c->model);
    put(c, ",\"functions\":[");
    for (uint32_t id = 1; id <= info->function_count; id++) {
        const pyi_model_function *f = pyi_model_function_get(c->model, id);
        put(c, id > 1 ? ",{" : "{");
        put_u64(c, "id", id, 1);
        put_str(c, "name", f->name, 0);
        put_str(c, "file", f->file, 0);
        put_str(c, "path", f->path, 0);
        put_u64(c, "line", f->first_line, 0);
        put_str(c, "kind", kind_name(f->kind), 0);
        put_str(c, "code", code_name(f->code), 0);
        put_str(c, "library", f->library, 0);
        put(c, "}");
    }
    put(c, "]");
}

static const char *node_kind_name(pyi_node_kind kind)
{
    static const char *const NAMES[] = {"root", "thread", "frame", "self", "no_stack"};
    return (unsigned)kind < 5 ? NAMES[kind] : "unknown";
}

static void write_node_open(json_ctx *c, const pyi_tree *tree, const pyi_tree_node *n)
{
    put(c, "{");
    put_str(c, "kind", node_kind_name(n->kind), 1);
    if (n->function)
        put_u64(c, "function", n->function, 0);
    if (n->thread)
        put_u64(c, "thread", n->thread, 0);
    if (n->line)
        put_u64(c, "line", n->line, 0);
    put_u64(c, "samples", n->total.samples, 0);
    put_seconds(c, "time", n->total.wall_ns, 0);
    put_seconds(c, "self_time", n->self.wall_ns, 0);
    put_seconds(c, "on_cpu_time", n->total.on_cpu_ns, 0);
    put_seconds(c, "cpu_time", n->total.cpu_ns, 0);
    if (n->flags & PYI_NODE_GROUP) {
        put_u64(c, "hidden_frames", n->hidden_frames, 0);
        put_str(c, "libraries", pyi_tree_node_libraries(tree, n->id), 0);
    }
    if (n->flags & PYI_NODE_RECURSIVE)
        put(c, ",\"recursive\":true");
    put(c, ",\"children\":[");
}

/* Nodes are in depth-first order, so closing brackets follow the depths. */
static void write_tree(json_ctx *c, const pyi_tree *tree)
{
    size_t count = pyi_tree_node_count(tree);
    uint32_t prev_depth = 0;
    for (uint32_t id = 0; id < count && !c->rc; id++) {
        const pyi_tree_node *n = pyi_tree_node_get(tree, id);
        if (id) {
            for (uint32_t d = prev_depth; d >= n->depth; d--)
                put(c, "]}");
            put(c, n->depth > prev_depth ? "" : ",");
        }
        write_node_open(c, tree, n);
        prev_depth = n->depth;
    }
    for (uint32_t d = prev_depth + 1; d-- > 0;)
        put(c, "]}");
}

static int render_json(const pyi_model *model, const pyi_render_options *options,
                       pyi_sink *sink, char *error, size_t error_size)
{
    json_ctx c = {model, sink, 0};
    const pyi_model_info *info = pyi_model_get_info(model);
    pyi_tree_options to;
    pyi__render_tree_options(&pyi_renderer_json, options, 0, &to);
    to.thread_roots = options->thread == PYI_THREAD_ALL;
    pyi_tree *tree = NULL;
    int rc = pyi_tree_build(&tree, model, &to);
    if (rc)
        return pyi__render_fail(error, error_size, rc, "json: %s", pyi_strerror(rc));
    put(&c, "{\"schema\":\"pyinst-report-json\"");
    put_u64(&c, "version", JSON_SCHEMA_VERSION, 0);
    put_str(&c, "producer", options->producer ? options->producer : "pyinst-report", 0);
    put_seconds(&c, "start_time", info->start_wall_ns, 0);
    put_seconds(&c, "duration", info->duration_ns, 0);
    put_seconds(&c, "interval", info->interval_ns, 0);
    put_u64(&c, "samples_read", info->samples_read, 0);
    put_u64(&c, "lost_samples", info->lost_samples, 0);
    put_metrics(&c, "totals", &info->totals);
    put_key(&c, "view", 0);
    put(&c, "{\"processors\":[");
    int first = 1;
    for (unsigned bit = 1; bit <= PYI_PROC_COLLAPSE_RECURSION; bit <<= 1)
        if ((to.view.processors & bit) && pyi_processor_name(bit)) {
            put(&c, first ? "" : ",");
            put_string(&c, pyi_processor_name(bit));
            first = 0;
        }
    put(&c, "]");
    put_key(&c, "min_share", 0);
    if (!c.rc)
        c.rc = pyi_sink_printf(sink, "%g", to.min_share);
    put_key(&c, "inverted", 0);
    put(&c, to.inverted ? "true" : "false");
    put(&c, "}");
    write_sources(&c);
    write_threads(&c);
    write_functions(&c);
    put(&c, ",\"root\":");
    write_tree(&c, tree);
    put(&c, "}\n");
    pyi_tree_free(tree);
    if (c.rc)
        return pyi__render_fail(error, error_size, c.rc, "json: %s", pyi_strerror(c.rc));
    return 0;
}

const pyi_renderer pyi_renderer_json = {
    "json", ".json", "the processed call tree and metadata (schema: spec/json-report.md)",
    0, PYI_PROC_DEFAULT, render_json,
};
