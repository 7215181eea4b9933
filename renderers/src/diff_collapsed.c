/* SPDX-License-Identifier: MIT */
/*
 * The diff's collapsed renderer: two-column folded stacks, the input
 * difffolded.pl writes for flamegraph.pl (and inferno-flamegraph) to draw a
 * differential flame graph. One line per call path with self time on either
 * side: frames root first joined by ';', then the base and head values per
 * run as integers (microseconds, or samples with --metric samples). Frames
 * read "name (file:line)" as in the collapsed renderer, with ';' and control
 * characters replaced.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "diff_render_internal.h"

static int write_clean(pyi_sink *sink, const char *text)
{
    char chunk[256];
    size_t n = 0;
    int rc = 0;
    for (const unsigned char *s = (const unsigned char *)text; *s && !rc; s++) {
        chunk[n++] = *s == ';' ? ':' : (*s < 0x20 || *s == 0x7F) ? '?' : (char)*s;
        if (n == sizeof(chunk)) {
            rc = pyi_sink_write(sink, chunk, n);
            n = 0;
        }
    }
    return rc ? rc : pyi_sink_write(sink, chunk, n);
}

static int write_frame(pyi_sink *sink, const pyi_model_function *f)
{
    int rc = write_clean(sink, f->name);
    if (!rc && *f->file) {
        rc = pyi_sink_puts(sink, " (");
        rc = rc ? rc : write_clean(sink, f->file);
        if (!rc && f->first_line)
            rc = pyi_sink_printf(sink, ":%" PRIu32, f->first_line);
        rc = rc ? rc : pyi_sink_puts(sink, ")");
    }
    return rc;
}

/* One line for a node: its path (walked up into ids), then both values. */
static int write_node(const pyi_diff *diff, const pyi_diff_node *n, uint32_t *ids,
                      double scale, pyi_sink *sink)
{
    const pyi_model *m = pyi_diff_model(diff);
    size_t depth = 0;
    for (const pyi_diff_node *p = n; p && p->function; p = pyi_diff_node_get(diff, p->parent))
        ids[depth++] = p->function;
    int rc = depth ? 0 : pyi_sink_puts(sink, "[no Python frame]");
    for (size_t i = depth; i-- > 0 && !rc;) {
        rc = write_frame(sink, pyi_model_function_get(m, ids[i]));
        if (!rc && i)
            rc = pyi_sink_puts(sink, ";");
    }
    return rc ? rc : pyi_sink_printf(sink, " %.0f %.0f\n", floor(n->self_time.base * scale + 0.5),
                                     floor(n->self_time.head * scale + 0.5));
}

static int render_diff_collapsed(const pyi_diff *diff, const pyi_render_options *options,
                                 pyi_sink *sink, char *error, size_t error_size)
{
    (void)options;
    size_t count = pyi_diff_node_count(diff), depth = 1;
    for (uint32_t id = 1; id <= count; id++)
        if (pyi_diff_node_get(diff, id)->depth + 1 > depth)
            depth = pyi_diff_node_get(diff, id)->depth + 1;
    uint32_t *ids = malloc(depth * sizeof(*ids));
    int rc = ids ? 0 : PYI_E_NOMEM;
    double scale = pyi__diff_in_samples(diff) ? 1 : 1e-3; /* ns -> us */
    for (uint32_t id = 1; id <= count && !rc; id++) {
        const pyi_diff_node *n = pyi_diff_node_get(diff, id);
        if (n->self_time.base * scale >= 0.5 || n->self_time.head * scale >= 0.5)
            rc = write_node(diff, n, ids, scale, sink);
    }
    free(ids);
    if (rc)
        return pyi__render_fail(error, error_size, rc, "collapsed: %s", pyi_strerror(rc));
    return 0;
}

const pyi_diff_renderer pyi_diff_renderer_collapsed = {
    "collapsed", ".folded",
    "two-column folded stacks (base head) for flamegraph.pl's differential flame graph",
    render_diff_collapsed,
};
