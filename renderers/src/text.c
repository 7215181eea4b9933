/* SPDX-License-Identifier: MIT */
/*
 * The text renderer: a pyinstrument-style call tree with seconds (or
 * percentages), box drawing or ASCII connectors, colours by cost when the
 * caller asks for them, a header, and a flat "top functions" table as the
 * other view.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render_internal.h"

#define ANSI_RESET "\033[0m"
#define ANSI_RED "\033[31m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_GREEN "\033[32m"
#define ANSI_DIM_GREEN "\033[92;2m"
#define ANSI_FAINT "\033[2m"
#define ANSI_BOLD "\033[1m"

typedef struct text_ctx {
    const pyi_model *model;
    const pyi_render_options *options;
    pyi_sink *sink;
    const pyi_tree *tree;
    uint64_t total; /* root value in the metric */
    int decimals;   /* of seconds */
    char *prefix;   /* connector columns of the current line */
    size_t prefix_length, prefix_capacity;
    int several_processes; /* thread labels then name their pid */
} text_ctx;

/* Whether the model's threads come from more than one process (--subprocesses, merges). */
static int has_several_processes(const pyi_model *m, uint32_t thread_count)
{
    const pyi_model_thread *first = pyi_model_thread_get(m, 1);
    for (uint32_t id = 2; first != NULL && id <= thread_count; id++)
        if (pyi_model_thread_get(m, id)->pid != first->pid)
            return 1;
    return 0;
}

static int decimals_for(uint64_t interval_ns)
{
    if (!interval_ns)
        return 3;
    int d = (int)ceil(-log10((double)interval_ns / 1e9) - 1e-9);
    return d < 1 ? 1 : d > 6 ? 6 : d;
}

/* "1.234" seconds, "12.3%", or a sample count. */
static void format_value(const text_ctx *c, uint64_t value, char *out, size_t size)
{
    if (c->options->percent)
        snprintf(out, size, "%.1f%%", c->total ? 100.0 * (double)value / (double)c->total : 0.0);
    else if (c->options->metric != PYI_METRIC_SAMPLES)
        snprintf(out, size, "%.*f", c->decimals, pyi__seconds(value));
    else
        snprintf(out, size, "%" PRIu64, value);
}

static const char *colour_for(const text_ctx *c, uint64_t value)
{
    double share = c->total ? (double)value / (double)c->total : 0;
    return share > 0.6 ? ANSI_RED : share > 0.2 ? ANSI_YELLOW
         : share > 0.05 ? ANSI_GREEN : ANSI_DIM_GREEN;
}

static const char *on(const text_ctx *c, const char *code)
{
    return c->options->color ? code : "";
}

/* ---- Header --------------------------------------------------------------- */

static int write_header(const text_ctx *c)
{
    const pyi_model_info *info = pyi_model_get_info(c->model);
    const pyi_model_source *first = pyi_model_source_get(c->model, 1);
    pyi_sink *s = c->sink;
    char when[64] = "?", cpu[32] = "unknown";
    time_t seconds = (time_t)(info->start_wall_ns / 1000000000u);
    struct tm tm;
    if (gmtime_r(&seconds, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
    if (info->has_cpu)
        snprintf(cpu, sizeof(cpu), "%.3f s", pyi__seconds(info->totals.cpu_ns));
    int rc = 0;
    if (first && *first->program) {
        rc = pyi_sink_puts(s, "Program:  ");
        rc = rc ? rc : pyi__text_safe(s, first->program);
        rc = rc ? rc : pyi_sink_puts(s, "\n");
    }
    if (!rc && info->source_count > 1)
        rc = pyi_sink_printf(s, "Traces:   %zu merged\n", info->source_count);
    if (!rc)
        rc = pyi_sink_printf(s, "Recorded: %s   Samples: %" PRIu64 "   Lost samples: %" PRIu64
                             "\n", when, info->totals.samples, info->lost_samples);
    if (!rc)
        rc = pyi_sink_printf(s, "Duration: %.3f s   CPU time: %s   Threads: %zu\n",
                             pyi__seconds(info->duration_ns), cpu, info->thread_count);
    return rc ? rc : pyi_sink_puts(s, "\n");
}

/* ---- Tree lines ------------------------------------------------------------- */

static int write_location(const text_ctx *c, const pyi_model_function *f, uint32_t line)
{
    const char *faint = on(c, ANSI_FAINT), *reset = on(c, ANSI_RESET);
    if (f->code & PYI_CODE_SYNTHETIC)
        return 0;
    if (!*f->file)
        return pyi_sink_printf(c->sink, "  %s%s%s", faint,
                               f->code & PYI_CODE_NATIVE ? "<native>" : "<unknown>", reset);
    int rc = pyi_sink_printf(c->sink, "  %s", faint);
    if (!rc)
        rc = pyi__text_safe(c->sink, f->file);
    if (!rc && line)
        rc = pyi_sink_printf(c->sink, ":%" PRIu32, line);
    return rc ? rc : pyi_sink_puts(c->sink, reset);
}

static int write_label(const text_ctx *c, const pyi_tree_node *n)
{
    const pyi_model *m = c->model;
    const char *bold = on(c, ANSI_BOLD), *reset = on(c, ANSI_RESET);
    if (n->kind == PYI_NODE_THREAD) {
        const pyi_model_thread *t = pyi_model_thread_get(m, n->thread);
        int rc = pyi_sink_puts(c->sink, bold);
        if (!rc)
            rc = pyi__text_safe(c->sink, *t->name ? t->name : "(unnamed thread)");
        if (!rc)
            rc = pyi_sink_printf(c->sink, "%s  [thread %" PRIu32 ", ", reset, t->id);
        if (!rc && c->several_processes)
            rc = pyi_sink_printf(c->sink, "pid %" PRId64 ", ", t->pid);
        return rc ? rc : pyi_sink_printf(c->sink, "tid %" PRIu64 "%s]", t->native_id,
                                         t->is_main ? ", main" : "");
    }
    if (n->kind == PYI_NODE_NO_STACK)
        return pyi_sink_puts(c->sink, "[no Python frame]");
    if (n->kind == PYI_NODE_ROOT)
        return pyi_sink_puts(c->sink, "[all]");
    const pyi_model_function *f = pyi_model_function_get(m, n->function);
    if (n->kind == PYI_NODE_SELF) {
        int rc = pyi_sink_puts(c->sink, "[self]");
        return rc ? rc : write_location(c, f, n->line);
    }
    int app = (f->code & PYI_CODE_APP) != 0;
    int rc = pyi_sink_puts(c->sink, app ? bold : "");
    if (!rc)
        rc = pyi__text_safe(c->sink, f->name);
    if (!rc)
        rc = pyi_sink_puts(c->sink, app ? reset : "");
    if (!rc)
        rc = write_location(c, f, f->first_line);
    if (!rc && n->line)
        rc = pyi_sink_printf(c->sink, "  (called at line %" PRIu32 ")", n->line);
    if (!rc && (n->flags & PYI_NODE_RECURSIVE))
        rc = pyi_sink_puts(c->sink, "  [recursion collapsed]");
    return rc;
}

static int prefix_push(text_ctx *c, const char *columns)
{
    size_t n = strlen(columns);
    if (c->prefix_length + n + 1 > c->prefix_capacity) {
        size_t capacity = (c->prefix_length + n + 1) * 2;
        char *grown = realloc(c->prefix, capacity);
        if (!grown)
            return PYI_E_NOMEM;
        c->prefix = grown;
        c->prefix_capacity = capacity;
    }
    memcpy(c->prefix + c->prefix_length, columns, n + 1);
    c->prefix_length += n;
    return 0;
}

/* One tree line; child_columns is what this node's children get in front of
 * their connector ("" for the top node), used for the "[N frames hidden]" line. */
static int write_node_line(text_ctx *c, const pyi_tree_node *n, const char *connector,
                           const char *child_columns)
{
    uint64_t value = pyi_metrics_value(&n->total, c->options->metric);
    const char *prefix = c->prefix ? c->prefix : "";
    char number[48];
    format_value(c, value, number, sizeof(number));
    int rc = pyi_sink_printf(c->sink, "%s%s%s%s%s ", prefix, connector,
                             c->options->color ? colour_for(c, value) : "", number,
                             on(c, ANSI_RESET));
    if (!rc)
        rc = write_label(c, n);
    if (!rc)
        rc = pyi_sink_puts(c->sink, "\n");
    if (!rc && (n->flags & PYI_NODE_GROUP) && n->hidden_frames) {
        const char *through = c->options->ascii ? "|  " : "\u2502  ";
        rc = pyi_sink_printf(c->sink, "%s%s%s%s[%" PRIu32 " frame%s hidden]  %s%s\n", prefix,
                             child_columns, n->first_child ? through : "   ",
                             on(c, ANSI_FAINT), n->hidden_frames,
                             n->hidden_frames == 1 ? "" : "s",
                             pyi_tree_node_libraries(c->tree, n->id), on(c, ANSI_RESET));
    }
    return rc;
}

/* Depth-first with an explicit stack: trees can be thousands of frames deep. */
static int write_tree(text_ctx *c, uint32_t top)
{
    const char *branch = c->options->ascii ? "|- " : "\u251c\u2500 ";
    const char *last = c->options->ascii ? "`- " : "\u2514\u2500 ";
    const char *through = c->options->ascii ? "|  " : "\u2502  ";
    typedef struct frame_pos {
        uint32_t node;
        size_t prefix_length;
    } frame_pos;
    size_t capacity = 64, depth = 0;
    frame_pos *stack = malloc(capacity * sizeof(*stack));
    if (!stack)
        return PYI_E_NOMEM;
    int rc = write_node_line(c, pyi_tree_node_get(c->tree, top), "", "");
    stack[depth++] = (frame_pos){pyi_tree_node_get(c->tree, top)->first_child, 0};
    while (depth && !rc) {
        frame_pos *fp = &stack[depth - 1];
        if (!fp->node) {
            depth--;
            continue;
        }
        const pyi_tree_node *n = pyi_tree_node_get(c->tree, fp->node);
        fp->node = n->next_sibling;
        c->prefix_length = fp->prefix_length;
        if (c->prefix)
            c->prefix[c->prefix_length] = '\0';
        rc = write_node_line(c, n, n->next_sibling ? branch : last,
                             n->next_sibling ? through : "   ");
        if (rc || !n->first_child)
            continue;
        rc = prefix_push(c, n->next_sibling ? through : "   ");
        if (depth == capacity) {
            frame_pos *grown = realloc(stack, (capacity *= 2) * sizeof(*stack));
            if (!grown) {
                rc = PYI_E_NOMEM;
                break;
            }
            stack = grown;
        }
        stack[depth++] = (frame_pos){n->first_child, c->prefix_length};
    }
    free(stack);
    return rc;
}

/* ---- Flat table ------------------------------------------------------------- */

/* One row of the flat table: a function, or a function's line. */
typedef struct flat_row {
    uint32_t function;
    uint32_t line; /* 0 = the function's first line */
    const pyi_metrics *self, *total;
} flat_row;

static int write_flat_row(text_ctx *c, const flat_row *row)
{
    char self[48], total[48];
    uint64_t sv = pyi_metrics_value(row->self, c->options->metric);
    uint64_t tv = pyi_metrics_value(row->total, c->options->metric);
    if (!c->options->show_all && c->total && (double)tv < 0.001 * (double)c->total)
        return 0;
    format_value(c, sv, self, sizeof(self));
    format_value(c, tv, total, sizeof(total));
    const pyi_model_function *f = pyi_model_function_get(c->model, row->function);
    int rc = pyi_sink_printf(c->sink, "%s%10s%s %10s  ",
                             c->options->color ? colour_for(c, sv) : "", self,
                             on(c, ANSI_RESET), total);
    rc = rc ? rc : pyi__text_safe(c->sink, f->name);
    rc = rc ? rc : write_location(c, f, row->line ? row->line : f->first_line);
    return rc ? rc : pyi_sink_puts(c->sink, "\n");
}

static int write_flat(text_ctx *c, const pyi_view_options *view)
{
    pyi_function_total *functions = NULL;
    pyi_line_total *lines = NULL;
    size_t count = 0;
    int rc = c->options->flat_lines ? pyi_model_line_totals(c->model, view, &lines, &count)
                                    : pyi_model_function_totals(c->model, view, &functions,
                                                                &count);
    if (rc)
        return rc;
    size_t limit = c->options->flat_limit > 0 ? (size_t)c->options->flat_limit : 40;
    const char *unit = c->options->percent ? "%" : c->options->metric == PYI_METRIC_SAMPLES
                                                      ? "samples" : "s";
    rc = pyi_sink_printf(c->sink, "%10s %10s  %s  (self, total in %s)\n", "self", "total",
                         c->options->flat_lines ? "line" : "function", unit);
    for (size_t i = 0; i < count && i < limit && !rc; i++) {
        flat_row row;
        if (lines) {
            const pyi_model_location *l = pyi_model_location_get(c->model, lines[i].location);
            row = (flat_row){l->function, l->line, &lines[i].self, &lines[i].total};
        } else {
            row = (flat_row){functions[i].function, 0, &functions[i].self, &functions[i].total};
        }
        rc = write_flat_row(c, &row);
    }
    free(functions);
    free(lines);
    return rc;
}

/* ---- Entry ------------------------------------------------------------------ */

static int render_text(const pyi_model *model, const pyi_render_options *options,
                       pyi_sink *sink, char *error, size_t error_size)
{
    text_ctx c = {model, options, sink, NULL, 0, 3, NULL, 0, 0, 0};
    const pyi_model_info *info = pyi_model_get_info(model);
    c.several_processes = has_several_processes(model, (uint32_t)info->thread_count);
    c.decimals = decimals_for(info->interval_ns);
    int rc = options->no_header ? 0 : write_header(&c);
    pyi_tree_options to;
    pyi__render_tree_options(&pyi_renderer_text, options, 0.01, &to);
    to.thread_roots = info->thread_count > 1 && options->thread == PYI_THREAD_ALL;
    pyi_tree *tree = NULL;
    if (!rc)
        rc = pyi_tree_build(&tree, model, &to);
    if (rc)
        goto out;
    c.tree = tree;
    const pyi_tree_node *root = pyi_tree_node_get(tree, 0);
    c.total = pyi_metrics_value(&root->total, options->metric);
    if (!root->total.samples) {
        rc = pyi_sink_puts(sink, "No samples were recorded.\n");
    } else if (options->flat) {
        rc = write_flat(&c, &to.view);
    } else if (root->child_count == 1 && !to.thread_roots) {
        rc = write_tree(&c, root->first_child);
    } else {
        rc = write_tree(&c, 0);
    }
out:
    pyi_tree_free(tree);
    free(c.prefix);
    if (rc)
        return pyi__render_fail(error, error_size, rc, "text: %s", pyi_strerror(rc));
    return 0;
}

const pyi_renderer pyi_renderer_text = {
    "text", ".txt", "call tree as text (pyinstrument style), or --flat: top functions",
    0, PYI_PROC_DEFAULT, render_text,
};
