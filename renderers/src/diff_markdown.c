/* SPDX-License-Identifier: MIT */
/*
 * The diff's Markdown renderer: a summary to post as a pull-request comment.
 * A headline with the verdict, total time per run, tables of the functions
 * that got slower and faster, and folded sections (<details>) with the other
 * changes, the differential call tree and how the verdict was reached. Names
 * from traces are escaped for Markdown and HTML (diff_render_common.c).
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "diff_render_internal.h"

typedef struct md_ctx {
    const pyi_diff *diff;
    const pyi_model *model;
    const pyi_render_options *options;
    pyi_sink *sink;
    int rc;
} md_ctx;

static void put(md_ctx *c, const char *text)
{
    if (!c->rc)
        c->rc = pyi_sink_puts(c->sink, text);
}

static void putf_share(md_ctx *c, const pyi_diff_estimate *e, int bold)
{
    char base[16], head[16], delta[48];
    if (e->base == 0 && e->head == 0) { /* e.g. the self time of a caller */
        put(c, "–");
        return;
    }
    bold = bold && e->significant;
    pyi__diff_format_share(e->base, base, sizeof(base));
    pyi__diff_format_share(e->head, head, sizeof(head));
    pyi__diff_format_points(e, delta, sizeof(delta));
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "%s \u2192 %s (%s%s%s)", base, head, bold ? "**" : "",
                                delta, bold ? "**" : "");
}

/* ---- Headline and total ----------------------------------------------------------------- */

static void write_headline(md_ctx *c)
{
    const pyi_diff_verdict *v = pyi_diff_get_verdict(c->diff);
    int status = pyi__diff_exit_status(v);
    put(c, status == 2 ? "### \u26a0\ufe0f pyinst diff: not comparable\n\n"
           : status    ? "### \u274c pyinst diff: regression\n\n"
                       : "### \u2705 pyinst diff: no regression\n\n");
    if (*v->note) {
        put(c, "> ");
        if (!c->rc)
            c->rc = pyi__diff_markdown_text(c->sink, v->note);
        put(c, "\n\n");
    }
}

static void write_total(md_ctx *c)
{
    const pyi_diff_summary *s = pyi_diff_get_summary(c->diff);
    const pyi_diff_estimate *e = &s->total;
    char base[48], head[48], rel[32], p[16];
    pyi__diff_format_time(c->diff, e->base, base, sizeof(base));
    pyi__diff_format_time(c->diff, e->head, head, sizeof(head));
    pyi__diff_format_relative(e, rel, sizeof(rel));
    pyi__diff_format_p(e->p_value, p, sizeof(p));
    put(c, "| | base | head | change |\n|---|---:|---:|---|\n");
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "| **Total time per run** | %s | %s | %s%s%s ", base,
                                head, e->significant ? "**" : "", rel,
                                e->significant ? "**" : "");
    if (!c->rc && e->tested && e->base > 0)
        c->rc = pyi_sink_printf(c->sink, "(%+.1f%% \u2026 %+.1f%%, p %s %s) |\n",
                                100 * e->low / e->base, 100 * e->high / e->base,
                                p[0] == '<' ? "<" : "=", p[0] == '<' ? p + 1 : p);
    else
        put(c, "(one run per side: not tested) |\n");
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "| Runs, samples | %zu, %" PRIu64 " | %zu, %" PRIu64
                                " | |\n\n", s->side[0].runs, s->side[0].samples,
                                s->side[1].runs, s->side[1].samples);
}

/* ---- Function tables ------------------------------------------------------------------- */

static void write_row(md_ctx *c, const pyi_diff_function *f)
{
    const pyi_model_function *fn = pyi_model_function_get(c->model, f->function);
    const pyi_diff_estimate *headline = pyi__diff_headline(f);
    char base[32], head[32], rel[24], p[16];
    put(c, "| **");
    if (!c->rc)
        c->rc = pyi__diff_markdown_text(c->sink, fn->name);
    put(c, "**");
    if (*fn->file) {
        put(c, "<br>");
        if (!c->rc)
            c->rc = pyi__diff_markdown_text(c->sink, fn->file);
        if (!c->rc && fn->first_line)
            c->rc = pyi_sink_printf(c->sink, ":%" PRIu32, fn->first_line);
    }
    if (f->presence != PYI_DIFF_BOTH) {
        put(c, " (");
        if (!c->rc)
            c->rc = pyi__diff_write_presence(c->sink, c->diff, f, pyi__diff_markdown_text);
        put(c, ")");
    }
    put(c, " | ");
    putf_share(c, &f->self_share, headline == &f->self_share);
    put(c, " | ");
    putf_share(c, &f->total_share, headline == &f->total_share);
    pyi__diff_format_time(c->diff, f->total_time.base, base, sizeof(base));
    pyi__diff_format_time(c->diff, f->total_time.head, head, sizeof(head));
    pyi__diff_format_relative(&f->total_time, rel, sizeof(rel));
    pyi__diff_format_p(headline->p_adjusted, p, sizeof(p));
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, " | %s \u2192 %s (%s) | %s |\n", base, head, rel, p);
}

static void write_table(md_ctx *c, const pyi_diff_function *rows, size_t count)
{
    put(c, "| function | self share | total share | total time per run | p (adj.) |\n"
           "|---|---:|---:|---:|---:|\n");
    size_t limit = c->options->flat_limit > 0 ? (size_t)c->options->flat_limit : 10;
    for (size_t i = 0; i < count && i < limit; i++)
        write_row(c, &rows[i]);
    if (count > limit && !c->rc)
        c->rc = pyi_sink_printf(c->sink, "\n_%zu more not shown._\n", count - limit);
    put(c, "\n");
}

static void write_functions(md_ctx *c)
{
    size_t count = 0, slower = 0, faster = 0;
    const pyi_diff_function *rows = pyi_diff_functions(c->diff, &count);
    while (slower < count && (rows[slower].flags & PYI_DIFF_SLOWER))
        slower++;
    while (slower + faster < count && (rows[slower + faster].flags & PYI_DIFF_FASTER))
        faster++;
    double points = pyi_diff_get_verdict(c->diff)->thresholds.share_points;
    points = points >= 0 ? points : 0;
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "**Slower** (a share up by more than %.1f points, "
                                "significant): %s\n\n", points, slower ? "" : "none");
    if (slower)
        write_table(c, rows, slower);
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "**Faster** (a share down by more than %.1f points, "
                                "significant): %s\n\n", points, faster ? "" : "none");
    if (faster)
        write_table(c, rows + slower, faster);
    if (count > slower + faster) {
        put(c, "<details><summary>Other changes (not significant or within the threshold)"
               "</summary>\n\n");
        write_table(c, rows + slower + faster, count - slower - faster);
        put(c, "</details>\n\n");
    }
}

/* ---- Tree and method ---------------------------------------------------------------------- */

static int tree_line(void *ctx, const pyi_diff_node *n, const char *prefix, const char *connector)
{
    md_ctx *c = ctx;
    char base[16], head[16];
    pyi__diff_format_share(n->total_share.base, base, sizeof(base));
    pyi__diff_format_share(n->total_share.head, head, sizeof(head));
    const pyi_model_function *f = pyi_model_function_get(c->model, n->function);
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "%s%s%s \u2192 %s", prefix, connector, base, head);
    if (!c->rc && (n->flags & (PYI_DIFF_SLOWER | PYI_DIFF_FASTER)))
        c->rc = pyi_sink_printf(c->sink, " %+.1f %s", 100 * n->total_share.delta,
                                n->flags & PYI_DIFF_SLOWER ? "\u25b2" : "\u25bc");
    put(c, "  ");
    if (!c->rc)
        c->rc = pyi__diff_html_text(c->sink, f ? f->name : "[all]");
    if (f && *f->file) {
        put(c, "  ");
        if (!c->rc)
            c->rc = pyi__diff_html_text(c->sink, f->file);
    }
    put(c, "\n");
    return c->rc;
}

static void write_tree(md_ctx *c)
{
    double min_share = pyi__diff_min_share(c->options, 0.01);
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "<details><summary>Call tree (total share, base "
                                "\u2192 head; \u25b2 slower, \u25bc faster; paths under %g%% "
                                "hidden)</summary>\n\n<pre>\n", 100 * min_share);
    if (!c->rc)
        c->rc = pyi__diff_walk_tree(c->diff, min_share, 0, tree_line, c);
    put(c, "</pre>\n</details>\n\n");
}

static void write_method(md_ctx *c)
{
    const pyi_diff_verdict *v = pyi_diff_get_verdict(c->diff);
    const pyi_diff_summary *s = pyi_diff_get_summary(c->diff);
    const pyi_diff_thresholds *th = &v->thresholds;
    put(c, "<details><summary>How this was decided</summary>\n\n");
    if (th->total_percent >= 0 && !c->rc)
        c->rc = pyi_sink_printf(c->sink, "- Fails when total time per run is up by more than "
                                "%g%% (significant): %s.\n", th->total_percent,
                                v->total_fails ? "**failed**" : s->total.tested ? "passed"
                                : "not tested (one run per side)");
    if (th->share_points >= 0 && !c->rc)
        c->rc = pyi_sink_printf(c->sink, "- Fails when a function's self or total share is up "
                                "by more than %g points (significant): %zu function%s.\n",
                                th->share_points, v->functions_failing,
                                v->functions_failing == 1 ? "" : "s");
    if (th->path_points >= 0 && !c->rc)
        c->rc = pyi_sink_printf(c->sink, "- Fails when a call path's total share is up by "
                                "more than %g points (significant): %zu path%s.\n",
                                th->path_points, v->paths_failing,
                                v->paths_failing == 1 ? "" : "s");
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "- Compared: %s, as shares of all sampled time and "
                                "per run. Significant: Holm-adjusted p < %g over %zu "
                                "comparisons; intervals are %.0f%%. Runs of consecutive "
                                "samples, not samples, count as independent.\n\n"
                                "</details>\n", pyi__diff_metric_name(s->metric), s->alpha,
                                s->function_tests, 100 * s->confidence);
}

static int render_diff_markdown(const pyi_diff *diff, const pyi_render_options *options,
                                pyi_sink *sink, char *error, size_t error_size)
{
    md_ctx c = {diff, pyi_diff_model(diff), options, sink, 0};
    write_headline(&c);
    write_total(&c);
    write_functions(&c);
    write_tree(&c);
    write_method(&c);
    if (c.rc)
        return pyi__render_fail(error, error_size, c.rc, "markdown: %s", pyi_strerror(c.rc));
    return 0;
}

const pyi_diff_renderer pyi_diff_renderer_markdown = {
    "markdown", ".md", "a summary for a pull-request comment", render_diff_markdown,
};
