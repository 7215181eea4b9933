/* SPDX-License-Identifier: MIT */
/* Formatting and tree walking shared by the diff renderers (diff_*.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff_render_internal.h"

int pyi__diff_exit_status(const pyi_diff_verdict *v)
{
    return !v->comparable ? 2 : v->regression ? 1 : 0;
}

const char *pyi__diff_metric_name(pyi_metric metric)
{
    switch (metric) {
    case PYI_METRIC_ON_CPU:
        return "on-CPU wall time";
    case PYI_METRIC_WAITING:
        return "waiting wall time";
    case PYI_METRIC_CPU:
        return "CPU time";
    case PYI_METRIC_SAMPLES:
        return "samples";
    case PYI_METRIC_WALL:
    default:
        return "wall time";
    }
}

int pyi__diff_in_samples(const pyi_diff *diff)
{
    return pyi_diff_get_summary(diff)->metric == PYI_METRIC_SAMPLES;
}

const pyi_diff_estimate *pyi__diff_headline(const pyi_diff_function *f)
{
    if (f->flags & (PYI_DIFF_SLOWER | PYI_DIFF_FASTER))
        return f->flags & PYI_DIFF_SELF_COUNTS ? &f->self_share : &f->total_share;
    return fabs(f->self_share.delta) >= fabs(f->total_share.delta) ? &f->self_share
                                                                   : &f->total_share;
}

void pyi__diff_format_p(double p, char *out, size_t size)
{
    if (p >= 0.9995)
        snprintf(out, size, "1");
    else if (p >= 0.001)
        snprintf(out, size, "%.3f", p);
    else if (p >= 1e-9)
        snprintf(out, size, "%.0e", p);
    else
        snprintf(out, size, "<1e-9");
}

void pyi__diff_format_share(double share, char *out, size_t size)
{
    snprintf(out, size, "%.1f%%", 100 * share);
}

void pyi__diff_format_points(const pyi_diff_estimate *e, char *out, size_t size)
{
    if (e->tested)
        snprintf(out, size, "%+.1f \u00b1%.1f", 100 * e->delta, 100 * (e->high - e->delta));
    else
        snprintf(out, size, "%+.1f", 100 * e->delta);
}

void pyi__diff_format_time(const pyi_diff *diff, double value, char *out, size_t size)
{
    if (pyi__diff_in_samples(diff))
        snprintf(out, size, "%.0f samples", value);
    else
        snprintf(out, size, "%.3f s", value / 1e9);
}

void pyi__diff_format_relative(const pyi_diff_estimate *e, char *out, size_t size)
{
    if (e->base > 0)
        snprintf(out, size, "%+.1f%%", 100 * e->delta / e->base);
    else
        snprintf(out, size, "new");
}

int pyi__diff_write_presence(pyi_sink *sink, const pyi_diff *diff, const pyi_diff_function *f,
                             pyi__name_writer write_name)
{
    const pyi_model *m = pyi_diff_model(diff);
    const pyi_model_function *old = pyi_model_function_get(m, f->base_function);
    switch (f->presence) {
    case PYI_DIFF_APPEARED:
        return pyi_sink_puts(sink, "new");
    case PYI_DIFF_DISAPPEARED:
        return pyi_sink_puts(sink, "gone");
    case PYI_DIFF_MOVED: {
        int rc = pyi_sink_puts(sink, "moved from ");
        return rc ? rc : write_name(sink, old->file);
    }
    case PYI_DIFF_RENAMED: {
        int rc = pyi_sink_puts(sink, "renamed from ");
        return rc ? rc : write_name(sink, old->name);
    }
    case PYI_DIFF_BOTH:
    default:
        return 0;
    }
}

double pyi__diff_min_share(const pyi_render_options *o, double default_share)
{
    return o->show_all ? 0 : o->min_share < 0 ? default_share : o->min_share;
}

/* ---- Tree walk --------------------------------------------------------------------- */

static int is_visible(const pyi_diff *diff, uint32_t id, double min_share)
{
    const pyi_diff_node *n = pyi_diff_node_get(diff, id);
    return n && fmax(n->total_share.base, n->total_share.head) >= min_share &&
           fmax(n->total_share.base, n->total_share.head) > 0;
}

typedef struct walk_level {
    uint32_t node;       /* next child to show at this level; 0 = done */
    size_t prefix_length;
} walk_level;

typedef struct walk_state {
    char *prefix;
    size_t length, capacity;
    walk_level *levels;
    size_t depth, level_capacity;
} walk_state;

static int push_prefix(walk_state *w, const char *columns)
{
    size_t n = strlen(columns);
    if (w->length + n + 1 > w->capacity) {
        size_t capacity = (w->length + n + 1) * 2;
        char *grown = realloc(w->prefix, capacity);
        if (!grown)
            return PYI_E_NOMEM;
        w->prefix = grown;
        w->capacity = capacity;
    }
    memcpy(w->prefix + w->length, columns, n + 1);
    w->length += n;
    return 0;
}

static int push_level(walk_state *w, uint32_t first_child)
{
    if (w->depth == w->level_capacity) {
        size_t capacity = w->level_capacity ? w->level_capacity * 2 : 64;
        walk_level *grown = realloc(w->levels, capacity * sizeof(*grown));
        if (!grown)
            return PYI_E_NOMEM;
        w->levels = grown;
        w->level_capacity = capacity;
    }
    w->levels[w->depth++] = (walk_level){first_child, w->length};
    return 0;
}

/* Depth first with explicit stacks: trees can be thousands of frames deep. */
int pyi__diff_walk_tree(const pyi_diff *diff, double min_share, int ascii,
                        pyi__diff_node_fn fn, void *ctx)
{
    const char *branch = ascii ? "|- " : "\u251c\u2500 ", *last = ascii ? "`- " : "\u2514\u2500 ";
    const char *through = ascii ? "|  " : "\u2502  ";
    const pyi_diff_node *top = pyi_diff_node_get(diff, 1);
    if (!top)
        return 0;
    const pyi_diff_node *only = pyi_diff_node_get(diff, top->first_child);
    if (only && !only->next_sibling && top->self_share.base == 0 && top->self_share.head == 0)
        top = only;
    walk_state w = {0};
    int rc = push_prefix(&w, "");
    rc = rc ? rc : fn(ctx, top, "", "");
    rc = rc ? rc : push_level(&w, top->first_child);
    while (!rc && w.depth) {
        walk_level *level = &w.levels[w.depth - 1];
        if (!level->node || !is_visible(diff, level->node, min_share)) {
            w.depth--;
            continue;
        }
        const pyi_diff_node *n = pyi_diff_node_get(diff, level->node);
        int more = n->next_sibling && is_visible(diff, n->next_sibling, min_share);
        level->node = n->next_sibling;
        w.length = level->prefix_length;
        w.prefix[w.length] = '\0';
        rc = fn(ctx, n, w.prefix, more ? branch : last);
        if (!rc && n->first_child) {
            rc = push_prefix(&w, more ? through : "   ");
            rc = rc ? rc : push_level(&w, n->first_child);
        }
    }
    free(w.prefix);
    free(w.levels);
    return rc;
}

/* ---- Escaping for HTML and Markdown ---------------------------------------------------- */

/* Writes text with every byte that is not plain, valid, printable UTF-8, or
 * that markup would read, replaced by what replace() writes for it. */
static int write_escaped(pyi_sink *sink, const char *text, int markdown)
{
    const unsigned char *s = (const unsigned char *)text, *run = s;
    int rc = 0;
    while (*s && !rc) {
        size_t n = pyi__utf8_sequence(s);
        int special = strchr("&<>\"'", *s) != NULL ||
                      (markdown && strchr("\\`*_[]()#|~!{}", *s) != NULL);
        if (n && *s >= 0x20 && *s != 0x7F && !special) {
            s += n;
            continue;
        }
        rc = pyi_sink_write(sink, run, (size_t)(s - run));
        if (rc)
            break;
        if (!n)
            rc = pyi_sink_puts(sink, "\xef\xbf\xbd"); /* U+FFFD */
        else if (*s < 0x20 || *s == 0x7F)
            rc = pyi_sink_printf(sink, "%s\\x%02x", markdown ? "\\" : "", *s);
        else if (strchr("&<>\"'|", *s))
            rc = pyi_sink_printf(sink, "&#%d;", *s);
        else
            rc = pyi_sink_printf(sink, "\\%c", *s);
        s += 1;
        run = s;
    }
    return rc ? rc : pyi_sink_write(sink, run, (size_t)(s - run));
}

int pyi__diff_html_text(pyi_sink *sink, const char *text)
{
    return write_escaped(sink, text, 0);
}

int pyi__diff_markdown_text(pyi_sink *sink, const char *text)
{
    return write_escaped(sink, text, 1);
}
