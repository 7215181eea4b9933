/* SPDX-License-Identifier: MIT */
/*
 * The diff's html renderer: one self-contained page (renderers/assets/html:
 * diff.html, diff.css and js/diff.js with the report page's tree, flame
 * graph and search components, embedded at build time) around a JSON data
 * blob of the differential profile: verdict, sides, the ranked function rows
 * and the call-path nodes with their four comparisons each. The page draws a
 * differential flame graph and tree coloured by significant change, and the
 * ranked table. Strings go through pyi__html_string (<, > and & escaped), as
 * in the report page; the data format is in renderers/assets/html/README.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "diff_render_internal.h"
#include "html_internal.h"
#include "html_page.h"

#define DIFF_HTML_VERSION 1
#define DIFF_HTML_MAX_NODES 20000     /* past this, the lightest paths are left out */
#define DIFF_HTML_LIGHT_SHARE 1e-4    /* ...those under this share on both sides */
#define DIFF_HTML_DEFAULT_MIN_SHARE 0.001

static void put_number(pyi_html_out *out, double value)
{
    char text[32];
    if (!isfinite(value)) {
        pyi__html_put(out, "null");
        return;
    }
    snprintf(text, sizeof(text), "%.9g", value);
    pyi__html_put(out, text);
}

static void put_number_field(pyi_html_out *out, const char *key, double value)
{
    pyi__html_key(out, key, 0);
    put_number(out, value);
}

/* [base, head, low, high, p_adjusted, significant, tested]: shares as
 * fractions, times in nanoseconds (or samples). */
static void put_estimate(pyi_html_out *out, const pyi_diff_estimate *e)
{
    const double values[] = {e->base, e->head, e->low, e->high, e->p_adjusted};
    for (size_t i = 0; i < 5; i++) {
        pyi__html_put(out, i ? "," : "[");
        put_number(out, values[i]);
    }
    pyi__html_put(out, e->significant ? ",1" : ",0");
    pyi__html_put(out, e->tested ? ",1]" : ",0]");
}

/* ---- Header data ---------------------------------------------------------------- */

static void write_summary(pyi_html_out *out, const pyi_diff *diff,
                          const pyi_render_options *options)
{
    const pyi_diff_summary *s = pyi_diff_get_summary(diff);
    const pyi_diff_verdict *v = pyi_diff_get_verdict(diff);
    static const char *const METRICS[] = {"wall", "on-cpu", "waiting", "cpu", "samples"};
    pyi__html_put(out, "{\"format\":\"pyinst-diff-html\"");
    put_number_field(out, "version", DIFF_HTML_VERSION);
    pyi__html_key(out, "producer", 0);
    pyi__html_string(out, options->producer ? options->producer : "pyinst-report");
    pyi__html_key(out, "metric", 0);
    pyi__html_string(out, (unsigned)s->metric < 5 ? METRICS[s->metric] : "wall");
    put_number_field(out, "min_share", pyi__diff_min_share(options, DIFF_HTML_DEFAULT_MIN_SHARE));
    put_number_field(out, "alpha", s->alpha);
    put_number_field(out, "confidence", s->confidence);
    put_number_field(out, "overlap", s->overlap);
    put_number_field(out, "function_tests", (double)s->function_tests);
    pyi__html_put(out, ",\"verdict\":{\"status\":");
    put_number(out, pyi__diff_exit_status(v));
    put_number_field(out, "total_fails", v->total_fails);
    put_number_field(out, "functions_failing", (double)v->functions_failing);
    put_number_field(out, "paths_failing", (double)v->paths_failing);
    put_number_field(out, "total_percent", v->thresholds.total_percent >= 0
                                               ? v->thresholds.total_percent : NAN);
    put_number_field(out, "share_points", v->thresholds.share_points >= 0
                                              ? v->thresholds.share_points : NAN);
    put_number_field(out, "path_points", v->thresholds.path_points >= 0
                                             ? v->thresholds.path_points : NAN);
    pyi__html_key(out, "note", 0);
    pyi__html_string(out, v->note);
    pyi__html_put(out, "}");
}

static void write_sides(pyi_html_out *out, const pyi_diff *diff)
{
    const pyi_model *m = pyi_diff_model(diff);
    pyi__html_key(out, "sides", 0);
    for (int side = 0; side < 2; side++) {
        const pyi_diff_side_info *s = &pyi_diff_get_summary(diff)->side[side];
        pyi__html_put(out, side ? ",{\"runs\":" : "[{\"runs\":");
        put_number(out, (double)s->runs);
        put_number_field(out, "samples", (double)s->samples);
        put_number_field(out, "total", s->total);
        put_number_field(out, "duration_ns", s->duration_ns);
        pyi__html_key(out, "traces", 0);
        for (size_t i = 0; i < s->runs; i++) {
            const pyi_model_source *src = pyi_model_source_get(m, s->first_source + (uint32_t)i);
            pyi__html_put(out, i ? ",{\"path\":" : "[{\"path\":");
            pyi__html_string(out, src->path);
            pyi__html_key(out, "program", 0);
            pyi__html_string(out, src->program);
            pyi__html_key(out, "warning", 0);
            pyi__html_string(out, src->warning);
            pyi__html_put(out, "}");
        }
        pyi__html_put(out, "]}");
    }
    pyi__html_put(out, "]");
    pyi__html_key(out, "total", 0);
    put_estimate(out, &pyi_diff_get_summary(diff)->total);
}

static void write_functions(pyi_html_out *out, const pyi_model *m)
{
    size_t count = pyi_model_get_info(m)->function_count;
    static const char *const COLUMNS[] = {"name", "file", "library", "line", "code"};
    pyi__html_key(out, "functions", 0);
    for (int column = 0; column < 5; column++) {
        pyi__html_put(out, column ? ",\"" : "{\"");
        pyi__html_put(out, COLUMNS[column]);
        pyi__html_put(out, "\":[");
        for (uint32_t id = 1; id <= count && !out->rc; id++) {
            const pyi_model_function *f = pyi_model_function_get(m, id);
            if (id > 1)
                pyi__html_put(out, ",");
            if (column == 0)
                pyi__html_string(out, f->name);
            else if (column == 1)
                pyi__html_string(out, f->file);
            else if (column == 2)
                pyi__html_string(out, f->library);
            else
                pyi__html_u64(out, column == 3 ? f->first_line : f->code);
        }
        pyi__html_put(out, "]");
    }
    pyi__html_put(out, "}");
}

/* ---- Rows and nodes --------------------------------------------------------------- */

static void write_rows(pyi_html_out *out, const pyi_diff *diff)
{
    size_t count = 0;
    const pyi_diff_function *rows = pyi_diff_functions(diff, &count);
    pyi__html_key(out, "rows", 0);
    pyi__html_put(out, "[");
    for (size_t i = 0; i < count && !out->rc; i++) {
        const pyi_diff_function *f = &rows[i];
        pyi__html_put(out, i ? ",[" : "[");
        pyi__html_u64(out, f->function);
        pyi__html_put(out, ",");
        pyi__html_u64(out, f->base_function);
        pyi__html_put(out, ",");
        pyi__html_u64(out, (uint64_t)f->presence);
        pyi__html_put(out, ",");
        pyi__html_u64(out, f->flags);
        const pyi_diff_estimate *e[4] = {&f->self_share, &f->total_share, &f->self_time,
                                         &f->total_time};
        for (int k = 0; k < 4; k++) {
            pyi__html_put(out, ",");
            put_estimate(out, e[k]);
        }
        pyi__html_put(out, "]");
    }
    pyi__html_put(out, "]");
}

/* Page ids for the nodes kept (all, unless there are too many: then the
 * lightest, whose children are lighter still, are left out). */
static uint32_t *keep_nodes(const pyi_diff *diff, size_t *kept)
{
    size_t count = pyi_diff_node_count(diff);
    uint32_t *page_id = calloc(count + 1, sizeof(*page_id));
    if (!page_id)
        return NULL;
    double floor_share = count > DIFF_HTML_MAX_NODES ? DIFF_HTML_LIGHT_SHARE : 0;
    *kept = 0;
    for (uint32_t id = 1; id <= count; id++) {
        const pyi_diff_node *n = pyi_diff_node_get(diff, id);
        int heavy = fmax(n->total_share.base, n->total_share.head) >= floor_share;
        if (id == 1 || (heavy && page_id[n->parent]))
            page_id[id] = (uint32_t)++*kept;
    }
    return page_id;
}

static void write_node_column(pyi_html_out *out, const pyi_diff *diff, const uint32_t *page_id,
                              int column)
{
    static const char *const KEYS[] = {"parent", "function", "flags", "self_share",
                                       "total_share", "self_time", "total_time"};
    pyi__html_put(out, column ? ",\"" : "{\"");
    pyi__html_put(out, KEYS[column]);
    pyi__html_put(out, "\":[");
    int first = 1;
    for (uint32_t id = 1; id <= pyi_diff_node_count(diff) && !out->rc; id++) {
        if (!page_id[id])
            continue;
        const pyi_diff_node *n = pyi_diff_node_get(diff, id);
        pyi__html_put(out, first ? "" : ",");
        first = 0;
        const pyi_diff_estimate *e[4] = {&n->self_share, &n->total_share, &n->self_time,
                                         &n->total_time};
        if (column == 0)
            pyi__html_u64(out, n->parent ? page_id[n->parent] : 0);
        else if (column == 1)
            pyi__html_u64(out, n->function);
        else if (column == 2)
            pyi__html_u64(out, n->flags);
        else
            put_estimate(out, e[column - 3]);
    }
    pyi__html_put(out, "]");
}

static int write_nodes(pyi_html_out *out, const pyi_diff *diff)
{
    size_t kept = 0;
    uint32_t *page_id = keep_nodes(diff, &kept);
    if (!page_id)
        return PYI_E_NOMEM;
    pyi__html_key(out, "nodes", 0);
    for (int column = 0; column < 7; column++)
        write_node_column(out, diff, page_id, column);
    pyi__html_put(out, "}");
    put_number_field(out, "nodes_left_out", (double)(pyi_diff_node_count(diff) - kept));
    free(page_id);
    return 0;
}

static int render_diff_html(const pyi_diff *diff, const pyi_render_options *options,
                            pyi_sink *sink, char *error, size_t error_size)
{
    pyi_html_out *out = malloc(sizeof(*out));
    if (!out)
        return pyi__render_fail(error, error_size, PYI_E_NOMEM, "html: %s",
                                pyi_strerror(PYI_E_NOMEM));
    pyi__html_out_init(out, sink);
    const pyi_html_page *page = &pyi__html_diff_page;
    pyi__html_write(out, page->head, page->head_size);
    write_summary(out, diff, options);
    write_sides(out, diff);
    write_functions(out, pyi_diff_model(diff));
    write_rows(out, diff);
    int rc = write_nodes(out, diff);
    pyi__html_put(out, "}");
    pyi__html_write(out, page->tail, page->tail_size);
    if (!rc)
        rc = pyi__html_out_flush(out);
    free(out);
    if (rc)
        return pyi__render_fail(error, error_size, rc, "html: %s", pyi_strerror(rc));
    return 0;
}

const pyi_diff_renderer pyi_diff_renderer_html = {
    "html", ".html",
    "a self-contained page: differential flame graph and call tree, ranked functions",
    render_diff_html,
};
