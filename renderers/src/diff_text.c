/* SPDX-License-Identifier: MIT */
/*
 * The diff's text renderer: what the two sides are, total time per run,
 * ranked tables of functions (slower, faster, the rest), the differential
 * call tree, and the verdict with its thresholds. Colours (red slower, green
 * faster) only when the caller asks for them.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff_render_internal.h"

#define ANSI_RESET "\033[0m"
#define ANSI_RED "\033[31m"
#define ANSI_GREEN "\033[32m"
#define ANSI_FAINT "\033[2m"
#define ANSI_BOLD "\033[1m"

typedef struct text_ctx {
    const pyi_diff *diff;
    const pyi_model *model;
    const pyi_render_options *options;
    pyi_sink *sink;
    const char *arrow, *plus_minus;
    int rc;
} text_ctx;

static const char *on(const text_ctx *c, const char *code)
{
    return c->options->color ? code : "";
}

static void put(text_ctx *c, const char *text)
{
    if (!c->rc)
        c->rc = pyi_sink_puts(c->sink, text);
}

static void put_safe(text_ctx *c, const char *text)
{
    if (!c->rc)
        c->rc = pyi__text_safe(c->sink, text);
}

/* text, then spaces up to width characters (UTF-8 aware). */
static void put_padded(text_ctx *c, const char *text, size_t width)
{
    size_t chars = 0;
    for (const unsigned char *s = (const unsigned char *)text; *s; s++)
        chars += (*s & 0xC0) != 0x80;
    put(c, text);
    for (; chars < width; chars++)
        put(c, " ");
}

/* "±" is not ASCII: --ascii writes "+-". */
static void points(const text_ctx *c, const pyi_diff_estimate *e, char *out, size_t size)
{
    pyi__diff_format_points(e, out, size);
    char *pm = strstr(out, "\u00b1");
    if (pm && c->options->ascii) {
        pm[0] = '+';
        pm[1] = '-';
    }
}

/* ---- Header --------------------------------------------------------------------- */

static void write_side(text_ctx *c, const char *label, int side)
{
    const pyi_diff_side_info *s = &pyi_diff_get_summary(c->diff)->side[side];
    char total[48];
    pyi__diff_format_time(c->diff, s->total, total, sizeof(total));
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "%s %zu run%s, %" PRIu64 " samples, %s per run:",
                                label, s->runs, s->runs == 1 ? "" : "s", s->samples, total);
    for (size_t i = 0; i < s->runs; i++) {
        put(c, " ");
        put_safe(c, pyi_model_source_get(c->model, s->first_source + (uint32_t)i)->path);
    }
    put(c, "\n");
}

static void write_header(text_ctx *c)
{
    const pyi_diff_summary *s = pyi_diff_get_summary(c->diff);
    write_side(c, "Base:", PYI_DIFF_BASE);
    write_side(c, "Head:", PYI_DIFF_HEAD);
    if (!c->rc)
        c->rc = pyi_sink_printf(
            c->sink,
            "Compared: %s, as shares of all sampled time and per run; %.0f%% intervals;\n"
            "a change counts when significant (Holm-adjusted p < %g over %zu comparisons)\n"
            "and beyond its threshold.%s\n\n",
            pyi__diff_metric_name(s->metric), 100 * s->confidence, s->alpha, s->function_tests,
            s->variance == PYI_DIFF_VARIANCE_BINOMIAL
                ? " Noise model: independent samples (--naive)." : "");
}

static void write_total(text_ctx *c)
{
    const pyi_diff_estimate *e = &pyi_diff_get_summary(c->diff)->total;
    char base[48], head[48], rel[32], p[16];
    pyi__diff_format_time(c->diff, e->base, base, sizeof(base));
    pyi__diff_format_time(c->diff, e->head, head, sizeof(head));
    pyi__diff_format_relative(e, rel, sizeof(rel));
    pyi__diff_format_p(e->p_value, p, sizeof(p));
    const char *colour = e->significant ? on(c, e->delta > 0 ? ANSI_RED : ANSI_GREEN) : "";
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "Total time per run: %s %s %s  %s%s%s", base, c->arrow,
                                head, colour, rel, on(c, ANSI_RESET));
    if (!c->rc && e->tested && e->base > 0)
        c->rc = pyi_sink_printf(c->sink, "  [%+.1f%%, %+.1f%%]  p%s%s\n\n",
                                100 * e->low / e->base, 100 * e->high / e->base,
                                pyi__diff_p_relation(p), p);
    else
        put(c, e->tested ? "\n\n" : "  (one run per side: no spread, not tested)\n\n");
}

/* ---- Function tables ------------------------------------------------------------------ */

static void write_row_header(text_ctx *c)
{
    put(c, "  ");
    put_padded(c, "self share", 31);
    put_padded(c, "total share", 31);
    put_padded(c, "total time per run", 33);
    put(c, "p      function\n");
}

static void share_column(text_ctx *c, const pyi_diff_estimate *e, int headline)
{
    char base[16], head[16], delta[48], cell[96];
    if (e->base == 0 && e->head == 0) { /* e.g. the self time of a caller */
        put_padded(c, "     -", 31);
        return;
    }
    pyi__diff_format_share(e->base, base, sizeof(base));
    pyi__diff_format_share(e->head, head, sizeof(head));
    points(c, e, delta, sizeof(delta));
    snprintf(cell, sizeof(cell), "%6s %s %-6s ", base, c->arrow, head);
    put(c, cell);
    const char *colour = !e->significant ? "" : e->delta > 0 ? ANSI_RED : ANSI_GREEN;
    put(c, headline && e->significant ? on(c, ANSI_BOLD) : "");
    put(c, on(c, colour));
    put_padded(c, delta, 14);
    put(c, on(c, ANSI_RESET));
    put(c, " ");
}

static void write_function_row(text_ctx *c, const pyi_diff_function *f)
{
    const pyi_diff_estimate *headline = pyi__diff_headline(f);
    char base[32], head[32], rel[24], time[96], p[16];
    put(c, "  ");
    share_column(c, &f->self_share, headline == &f->self_share);
    share_column(c, &f->total_share, headline == &f->total_share);
    pyi__diff_format_time(c->diff, f->total_time.base, base, sizeof(base));
    pyi__diff_format_time(c->diff, f->total_time.head, head, sizeof(head));
    pyi__diff_format_relative(&f->total_time, rel, sizeof(rel));
    snprintf(time, sizeof(time), "%s %s %s %s", base, c->arrow, head, rel);
    put_padded(c, time, 33);
    pyi__diff_format_p(headline->p_adjusted, p, sizeof(p));
    put_padded(c, p, 7);
    const pyi_model_function *fn = pyi_model_function_get(c->model, f->function);
    put(c, on(c, ANSI_BOLD));
    put_safe(c, fn->name);
    put(c, on(c, ANSI_RESET));
    if (*fn->file) {
        put(c, "  ");
        put(c, on(c, ANSI_FAINT));
        put_safe(c, fn->file);
        if (!c->rc && fn->first_line)
            c->rc = pyi_sink_printf(c->sink, ":%" PRIu32, fn->first_line);
        put(c, on(c, ANSI_RESET));
    }
    if (f->presence != PYI_DIFF_BOTH) {
        put(c, "  [");
        if (!c->rc)
            c->rc = pyi__diff_write_presence(c->sink, c->diff, f, pyi__text_safe);
        put(c, "]");
    }
    put(c, "\n");
}

static size_t row_limit(const text_ctx *c)
{
    return c->options->flat_limit > 0 ? (size_t)c->options->flat_limit : 10;
}

static void write_functions(text_ctx *c)
{
    size_t count = 0;
    const pyi_diff_function *rows = pyi_diff_functions(c->diff, &count);
    const pyi_diff_thresholds *th = &pyi_diff_get_verdict(c->diff)->thresholds;
    double points = th->share_points >= 0 ? th->share_points : 0;
    static const char *const TITLES[] = {"Slower", "Faster", "Other changes"};
    size_t start = 0;
    for (int group = 0; group < 3 && !c->rc; group++) {
        size_t end = start;
        unsigned want = group == 0 ? PYI_DIFF_SLOWER : group == 1 ? PYI_DIFF_FASTER : 0;
        while (end < count && (group == 2 || (rows[end].flags & want)))
            end++;
        if (!c->rc)
            c->rc = pyi_sink_printf(c->sink, "%s%s (%zu)%s", on(c, ANSI_BOLD), TITLES[group],
                                    end - start, on(c, ANSI_RESET));
        if (!c->rc && group < 2)
            c->rc = pyi_sink_printf(c->sink, ": a share %s by more than %.1f points, "
                                             "significant\n", group ? "down" : "up", points);
        else
            put(c, group < 2 ? "\n" : ": not significant or within the threshold, largest "
                                      "first\n");
        if (end > start)
            write_row_header(c);
        size_t limit = row_limit(c);
        for (size_t i = start; i < end && i - start < limit; i++)
            write_function_row(c, &rows[i]);
        if (!c->rc && end - start > limit)
            c->rc = pyi_sink_printf(c->sink, "  ... %zu more (--limit N shows more)\n",
                                    end - start - limit);
        put(c, "\n");
        start = end;
    }
}

/* ---- Tree ---------------------------------------------------------------------------- */

static int tree_line(void *ctx, const pyi_diff_node *n, const char *prefix, const char *connector)
{
    text_ctx *c = ctx;
    char base[16], head[16], line[64];
    pyi__diff_format_share(n->total_share.base, base, sizeof(base));
    pyi__diff_format_share(n->total_share.head, head, sizeof(head));
    put(c, prefix);
    put(c, connector);
    snprintf(line, sizeof(line), "%s %s %s ", base, c->arrow, head);
    put(c, line);
    const char *mark = n->flags & PYI_DIFF_SLOWER ? (c->options->ascii ? "^" : "\u25b2")
                     : n->flags & PYI_DIFF_FASTER ? (c->options->ascii ? "v" : "\u25bc") : NULL;
    if (mark && !c->rc) {
        c->rc = pyi_sink_printf(c->sink, "%s%+.1f %s%s ", on(c, n->flags & PYI_DIFF_SLOWER
                                                                     ? ANSI_RED : ANSI_GREEN),
                                100 * n->total_share.delta, mark, on(c, ANSI_RESET));
    }
    const pyi_model_function *f = pyi_model_function_get(c->model, n->function);
    if (!f) {
        put(c, "[all]\n");
        return c->rc;
    }
    put(c, " ");
    put_safe(c, f->name);
    if (*f->file) {
        put(c, "  ");
        put(c, on(c, ANSI_FAINT));
        put_safe(c, f->file);
        put(c, on(c, ANSI_RESET));
    }
    put(c, "\n");
    return c->rc;
}

static void write_tree(text_ctx *c)
{
    double min_share = pyi__diff_min_share(c->options, 0.01);
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "%sCall tree%s: total share, base %s head; %s slower, "
                                "%s faster (significant); paths under %g%% hidden\n",
                                on(c, ANSI_BOLD), on(c, ANSI_RESET), c->arrow,
                                c->options->ascii ? "^" : "\u25b2",
                                c->options->ascii ? "v" : "\u25bc", 100 * min_share);
    if (!c->rc)
        c->rc = pyi__diff_walk_tree(c->diff, min_share, c->options->ascii, tree_line, c);
    put(c, "\n");
}

/* ---- Verdict -------------------------------------------------------------------------- */

static void write_checks(text_ctx *c)
{
    const pyi_diff_verdict *v = pyi_diff_get_verdict(c->diff);
    const pyi_diff_summary *s = pyi_diff_get_summary(c->diff);
    const pyi_diff_thresholds *th = &v->thresholds;
    char rel[32], p[16];
    pyi__diff_format_relative(&s->total, rel, sizeof(rel));
    pyi__diff_format_p(s->total.p_value, p, sizeof(p));
    if (th->total_percent >= 0 && !c->rc)
        c->rc = pyi_sink_printf(c->sink, "  total time per run up > %g%%: %s (%s%s) -> %s\n",
                                th->total_percent, rel,
                                s->total.tested ? (p[0] == '<' ? "p" : "p=")
                                                : "untested: one run per side",
                                s->total.tested ? p : "", v->total_fails ? "FAILS" : "ok");
    if (th->share_points >= 0 && !c->rc)
        c->rc = pyi_sink_printf(c->sink, "  a function's self or total share up > %g points: "
                                "%zu function%s -> %s\n", th->share_points,
                                v->functions_failing, v->functions_failing == 1 ? "" : "s",
                                v->functions_failing ? "FAILS" : "ok");
    if (th->path_points >= 0 && !c->rc)
        c->rc = pyi_sink_printf(c->sink, "  a call path's total share up > %g points: %zu "
                                "path%s -> %s\n", th->path_points, v->paths_failing,
                                v->paths_failing == 1 ? "" : "s",
                                v->paths_failing ? "FAILS" : "ok");
    if (th->total_percent < 0 && th->share_points < 0 && th->path_points < 0)
        put(c, "  no checks (--fail-on none)\n");
}

static void write_verdict(text_ctx *c)
{
    const pyi_diff_verdict *v = pyi_diff_get_verdict(c->diff);
    int status = pyi__diff_exit_status(v);
    const char *word = status == 2 ? "NOT COMPARABLE" : status ? "REGRESSION" : "no regression";
    const char *colour = status ? ANSI_RED : ANSI_GREEN;
    if (!c->rc)
        c->rc = pyi_sink_printf(c->sink, "%sVerdict: %s%s%s (exit status %d)%s\n",
                                on(c, ANSI_BOLD), on(c, colour), word, on(c, ANSI_RESET), status,
                                on(c, ANSI_RESET));
    write_checks(c);
    size_t count = 0;
    const pyi_diff_function *rows = pyi_diff_functions(c->diff, &count);
    for (size_t i = 0; i < count && (rows[i].flags & PYI_DIFF_FAILS) && !c->rc; i++) {
        const pyi_diff_estimate *e = pyi__diff_headline(&rows[i]);
        char base[16], head[16], p[16];
        pyi__diff_format_share(e->base, base, sizeof(base));
        pyi__diff_format_share(e->head, head, sizeof(head));
        pyi__diff_format_p(e->p_adjusted, p, sizeof(p));
        put(c, "    ");
        put_safe(c, pyi_model_function_get(c->model, rows[i].function)->name);
        c->rc = c->rc ? c->rc : pyi_sink_printf(c->sink, ": %s share %s %s %s (%+.1f points, "
                                                "p%s%s)\n", e == &rows[i].self_share ? "self"
                                                : "total", base, c->arrow, head,
                                                100 * e->delta, pyi__diff_p_relation(p), p);
    }
    if (*v->note) {
        put(c, "  note: ");
        put_safe(c, v->note);
        put(c, "\n");
    }
}

static int render_diff_text(const pyi_diff *diff, const pyi_render_options *options,
                            pyi_sink *sink, char *error, size_t error_size)
{
    text_ctx c = {diff, pyi_diff_model(diff), options, sink, "\u2192", "\u00b1", 0};
    if (options->ascii) {
        c.arrow = "->";
        c.plus_minus = "+-";
    }
    if (!options->no_header)
        write_header(&c);
    write_total(&c);
    write_functions(&c);
    write_tree(&c);
    write_verdict(&c);
    if (c.rc)
        return pyi__render_fail(error, error_size, c.rc, "text: %s", pyi_strerror(c.rc));
    return 0;
}

const pyi_diff_renderer pyi_diff_renderer_text = {
    "text", ".txt", "ranked tables, differential call tree and verdict as text",
    render_diff_text,
};
