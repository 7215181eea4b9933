/* SPDX-License-Identifier: MIT */
/*
 * The diff's JSON renderer, for machines: settings, thresholds, verdict, the
 * two sides and their traces, total time, every function row in rank order
 * and the differential call tree, in the schema "pyinst-diff-json" version 1
 * (spec/diff.md). Shares are fractions, times seconds (or samples); every
 * string is escaped, including <, > and &, so the output can sit in HTML.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff_render_internal.h"

#define DIFF_JSON_VERSION 1

typedef struct json_ctx {
    const pyi_diff *diff;
    const pyi_model *model;
    pyi_sink *sink;
    double time_scale; /* metric units to output units: 1e-9 (s) or 1 (samples) */
    int rc;
} json_ctx;

static void put(json_ctx *c, const char *text)
{
    if (!c->rc)
        c->rc = pyi_sink_puts(c->sink, text);
}

static void put_key(json_ctx *c, const char *key, int first)
{
    put(c, first ? "\"" : ",\"");
    put(c, key);
    put(c, "\":");
}

static void put_str(json_ctx *c, const char *key, const char *value, int first)
{
    put_key(c, key, first);
    put(c, "\"");
    if (!c->rc)
        c->rc = pyi__json_string(c->sink, value);
    put(c, "\"");
}

/* A finite number, or null (JSON has no infinities). */
static void put_number(json_ctx *c, const char *key, double value, int first)
{
    put_key(c, key, first);
    if (!isfinite(value))
        put(c, "null");
    else if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "%.10g", value);
}

static void put_bool(json_ctx *c, const char *key, int value, int first)
{
    put_key(c, key, first);
    put(c, value ? "true" : "false");
}

/* A threshold, or null when that check is off. */
static void put_threshold(json_ctx *c, const char *key, double value, int first)
{
    put_number(c, key, value >= 0 ? value : NAN, first);
}

static void put_estimate(json_ctx *c, const char *key, const pyi_diff_estimate *e,
                         double scale)
{
    put_key(c, key, 0);
    put(c, "{");
    put_number(c, "base", e->base * scale, 1);
    put_number(c, "head", e->head * scale, 0);
    put_number(c, "delta", e->delta * scale, 0);
    put_number(c, "low", e->low * scale, 0);
    put_number(c, "high", e->high * scale, 0);
    put_number(c, "p", e->p_value, 0);
    put_number(c, "p_adjusted", e->p_adjusted, 0);
    put_number(c, "df", e->df, 0);
    put_bool(c, "tested", e->tested, 0);
    put_bool(c, "significant", e->significant, 0);
    put(c, "}");
}

static void put_function_ref(json_ctx *c, const char *prefix, uint32_t id)
{
    const pyi_model_function *f = pyi_model_function_get(c->model, id);
    char key[32];
    snprintf(key, sizeof(key), "%sname", prefix);
    put_str(c, key, f->name, 0);
    snprintf(key, sizeof(key), "%sfile", prefix);
    put_str(c, key, f->file, 0);
    snprintf(key, sizeof(key), "%sline", prefix);
    put_number(c, key, f->first_line, 0);
}

/* ---- Header ---------------------------------------------------------------------- */

static const char *metric_key(pyi_metric metric)
{
    static const char *const NAMES[] = {"wall", "on-cpu", "waiting", "cpu", "samples"};
    return (unsigned)metric < 5 ? NAMES[metric] : "wall";
}

static void write_settings(json_ctx *c, const pyi_render_options *options)
{
    const pyi_diff_summary *s = pyi_diff_get_summary(c->diff);
    const pyi_diff_verdict *v = pyi_diff_get_verdict(c->diff);
    put(c, "{\"schema\":\"pyinst-diff-json\"");
    put_number(c, "version", DIFF_JSON_VERSION, 0);
    put_str(c, "producer", options->producer ? options->producer : "pyinst-report", 0);
    put_str(c, "metric", metric_key(s->metric), 0);
    put_str(c, "unit", pyi__diff_in_samples(c->diff) ? "samples" : "seconds", 0);
    put_number(c, "alpha", s->alpha, 0);
    put_number(c, "confidence", s->confidence, 0);
    put_str(c, "variance", s->variance == PYI_DIFF_VARIANCE_BINOMIAL ? "binomial" : "runs", 0);
    put_key(c, "processors", 0);
    put(c, "[");
    int first = 1;
    for (unsigned bit = 1; bit <= PYI_PROC_COLLAPSE_RECURSION; bit <<= 1)
        if ((s->processors & bit) && pyi_processor_name(bit)) {
            put(c, first ? "\"" : ",\"");
            put(c, pyi_processor_name(bit));
            put(c, "\"");
            first = 0;
        }
    put(c, "]");
    put_key(c, "thresholds", 0);
    put(c, "{");
    put_threshold(c, "total_percent", v->thresholds.total_percent, 1);
    put_threshold(c, "share_points", v->thresholds.share_points, 0);
    put_threshold(c, "path_points", v->thresholds.path_points, 0);
    put(c, "}");
}

static void write_verdict(json_ctx *c)
{
    const pyi_diff_verdict *v = pyi_diff_get_verdict(c->diff);
    const pyi_diff_summary *s = pyi_diff_get_summary(c->diff);
    put_key(c, "verdict", 0);
    put(c, "{");
    put_bool(c, "regression", v->regression, 1);
    put_bool(c, "comparable", v->comparable, 0);
    put_number(c, "exit_status", pyi__diff_exit_status(v), 0);
    put_bool(c, "total_fails", v->total_fails, 0);
    put_number(c, "functions_failing", (double)v->functions_failing, 0);
    put_number(c, "paths_failing", (double)v->paths_failing, 0);
    put_number(c, "function_tests", (double)s->function_tests, 0);
    put_number(c, "path_tests", (double)s->path_tests, 0);
    put_number(c, "overlap", s->overlap, 0);
    put_str(c, "note", v->note, 0);
    put(c, "}");
}

static void write_side(json_ctx *c, const char *key, int side, int first)
{
    const pyi_diff_side_info *s = &pyi_diff_get_summary(c->diff)->side[side];
    put_key(c, key, first);
    put(c, "{");
    put_number(c, "runs", (double)s->runs, 1);
    put_number(c, "samples", (double)s->samples, 0);
    put_number(c, "total_per_run", s->total * c->time_scale, 0);
    put_number(c, "total_sd", s->total_sd * c->time_scale, 0);
    put_number(c, "duration_per_run", s->duration_ns / 1e9, 0);
    put_number(c, "share_dispersion", s->share_dispersion, 0);
    put_number(c, "time_dispersion", s->time_dispersion, 0);
    put_key(c, "traces", 0);
    put(c, "[");
    for (size_t i = 0; i < s->runs; i++) {
        const pyi_model_source *src = pyi_model_source_get(c->model, s->first_source +
                                                                         (uint32_t)i);
        put(c, i ? ",{" : "{");
        put_str(c, "path", src->path, 1);
        put_str(c, "program", src->program, 0);
        put_str(c, "hostname", src->hostname, 0);
        put_number(c, "duration", (double)src->duration_ns / 1e9, 0);
        put_number(c, "samples_read", (double)src->samples_read, 0);
        put_str(c, "warning", src->warning, 0);
        put(c, "}");
    }
    put(c, "]}");
}

/* ---- Rows ---------------------------------------------------------------------------- */

static const char *presence_key(pyi_diff_presence p)
{
    static const char *const NAMES[] = {"both", "appeared", "disappeared", "moved", "renamed"};
    return (unsigned)p < 5 ? NAMES[p] : "both";
}

static void write_functions(json_ctx *c)
{
    size_t count = 0;
    const pyi_diff_function *rows = pyi_diff_functions(c->diff, &count);
    put_key(c, "functions", 0);
    put(c, "[");
    for (size_t i = 0; i < count && !c->rc; i++) {
        const pyi_diff_function *f = &rows[i];
        put(c, i ? ",{" : "{");
        put_number(c, "rank", (double)i + 1, 1);
        put_function_ref(c, "", f->function);
        put_str(c, "presence", presence_key(f->presence), 0);
        if (f->presence == PYI_DIFF_MOVED || f->presence == PYI_DIFF_RENAMED)
            put_function_ref(c, "base_", f->base_function);
        put_bool(c, "slower", (f->flags & PYI_DIFF_SLOWER) != 0, 0);
        put_bool(c, "faster", (f->flags & PYI_DIFF_FASTER) != 0, 0);
        put_bool(c, "fails", (f->flags & PYI_DIFF_FAILS) != 0, 0);
        put_estimate(c, "self_share", &f->self_share, 1);
        put_estimate(c, "total_share", &f->total_share, 1);
        put_estimate(c, "self_time", &f->self_time, c->time_scale);
        put_estimate(c, "total_time", &f->total_time, c->time_scale);
        put(c, "}");
    }
    put(c, "]");
}

static void write_node_open(json_ctx *c, const pyi_diff_node *n)
{
    put(c, "{");
    if (n->function) {
        put_number(c, "depth", n->depth, 1);
        put_function_ref(c, "", n->function);
    } else {
        put_str(c, "name", "[all]", 1);
    }
    put_bool(c, "slower", (n->flags & PYI_DIFF_SLOWER) != 0, 0);
    put_bool(c, "faster", (n->flags & PYI_DIFF_FASTER) != 0, 0);
    put_bool(c, "fails", (n->flags & PYI_DIFF_FAILS) != 0, 0);
    put_estimate(c, "self_share", &n->self_share, 1);
    put_estimate(c, "total_share", &n->total_share, 1);
    put_estimate(c, "self_time", &n->self_time, c->time_scale);
    put_estimate(c, "total_time", &n->total_time, c->time_scale);
    put(c, ",\"children\":[");
}

/* Depth first without recursion: call paths can be thousands deep. */
static void write_tree(json_ctx *c)
{
    put_key(c, "tree", 0);
    const pyi_diff_node *n = pyi_diff_node_get(c->diff, 1);
    while (n && !c->rc) {
        write_node_open(c, n);
        if (n->first_child) {
            n = pyi_diff_node_get(c->diff, n->first_child);
            continue;
        }
        put(c, "]}");
        while (n && !n->next_sibling) {
            n = pyi_diff_node_get(c->diff, n->parent);
            if (n)
                put(c, "]}");
        }
        if (n) {
            put(c, ",");
            n = pyi_diff_node_get(c->diff, n->next_sibling);
        }
    }
}

static int render_diff_json(const pyi_diff *diff, const pyi_render_options *options,
                            pyi_sink *sink, char *error, size_t error_size)
{
    json_ctx c = {diff, pyi_diff_model(diff), sink, pyi__diff_in_samples(diff) ? 1 : 1e-9, 0};
    write_settings(&c, options);
    write_verdict(&c);
    put_key(&c, "sides", 0);
    put(&c, "{");
    write_side(&c, "base", PYI_DIFF_BASE, 1);
    write_side(&c, "head", PYI_DIFF_HEAD, 0);
    put(&c, "}");
    put_estimate(&c, "total", &pyi_diff_get_summary(diff)->total, c.time_scale);
    write_functions(&c);
    write_tree(&c);
    put(&c, "}\n");
    if (c.rc)
        return pyi__render_fail(error, error_size, c.rc, "json: %s", pyi_strerror(c.rc));
    return 0;
}

const pyi_diff_renderer pyi_diff_renderer_json = {
    "json", ".json", "everything, for machines (schema pyinst-diff-json, spec/diff.md)",
    render_diff_json,
};
