/* SPDX-License-Identifier: MIT */
/* Private to renderers/: what the diff renderers (diff_*.c) share. */
#ifndef PYI_DIFF_RENDER_INTERNAL_H
#define PYI_DIFF_RENDER_INTERNAL_H

#include "render_internal.h"

extern const pyi_diff_renderer pyi_diff_renderer_text;
extern const pyi_diff_renderer pyi_diff_renderer_json;
extern const pyi_diff_renderer pyi_diff_renderer_markdown;
extern const pyi_diff_renderer pyi_diff_renderer_collapsed;
extern const pyi_diff_renderer pyi_diff_renderer_html; /* diff_html.c, when built */

/* The exit status pyinst-report diff gives this verdict: 0, 1, or 2 when the
 * sides are not comparable. */
int pyi__diff_exit_status(const pyi_diff_verdict *v);

/* "wall time", "CPU time", ..., and whether values are samples, not ns. */
const char *pyi__diff_metric_name(pyi_metric metric);
int pyi__diff_in_samples(const pyi_diff *diff);

/* The comparison a function row is listed for: the self share when that is
 * what crossed the threshold (or, unflagged, changed most), else the total. */
const pyi_diff_estimate *pyi__diff_headline(const pyi_diff_function *f);

/* "0.0004", "0.012", "<1e-9", "1". */
void pyi__diff_format_p(double p, char *out, size_t size);
/* What goes between "p" and a formatted p-value: "=", or "" before "<1e-9". */
static inline const char *pyi__diff_p_relation(const char *formatted)
{
    return formatted[0] == '<' ? "" : "=";
}
/* A share as "12.3%"; a delta of shares as "+4.5" (points) with "±1.2". */
void pyi__diff_format_share(double share, char *out, size_t size);
void pyi__diff_format_points(const pyi_diff_estimate *e, char *out, size_t size);
/* Time per run: "1.234 s" or "1234 samples"; a relative change "+12.3%". */
void pyi__diff_format_time(const pyi_diff *diff, double value, char *out, size_t size);
void pyi__diff_format_relative(const pyi_diff_estimate *e, char *out, size_t size);

/* "new", "gone", "moved from FILE", "renamed from NAME", or "" (both sides);
 * the name or file is written through write_name. */
typedef int (*pyi__name_writer)(pyi_sink *sink, const char *text);
int pyi__diff_write_presence(pyi_sink *sink, const pyi_diff *diff, const pyi_diff_function *f,
                             pyi__name_writer write_name);

/* The visible differential tree, depth first: nodes whose larger total share
 * is at least min_share (the root stands for its single child, when it has
 * one and no self time). connector and prefix are the tree drawing ("├─ ",
 * "│  "...) before the node; the callback returns 0 or a pyi_error. */
typedef int (*pyi__diff_node_fn)(void *ctx, const pyi_diff_node *node, const char *prefix,
                                 const char *connector);
int pyi__diff_walk_tree(const pyi_diff *diff, double min_share, int ascii,
                        pyi__diff_node_fn fn, void *ctx);

/* Untrusted text for HTML (&<>"' as entities) or for Markdown (also its
 * punctuation backslash-escaped, | as an entity so tables hold): controls
 * become \xNN and invalid UTF-8 U+FFFD. */
int pyi__diff_html_text(pyi_sink *sink, const char *text);
int pyi__diff_markdown_text(pyi_sink *sink, const char *text);

/* min_share from the options: the renderer's default when left to it. */
double pyi__diff_min_share(const pyi_render_options *o, double default_share);

#endif /* PYI_DIFF_RENDER_INTERNAL_H */
