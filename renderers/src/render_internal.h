/* SPDX-License-Identifier: MIT */
/* Private to renderers/: the renderer table entries and helpers they share. */
#ifndef PYI_RENDER_INTERNAL_H
#define PYI_RENDER_INTERNAL_H

#include <stdio.h>

#include "pyi/renderer.h"

extern const pyi_renderer pyi_renderer_text;
extern const pyi_renderer pyi_renderer_json;
extern const pyi_renderer pyi_renderer_speedscope;
extern const pyi_renderer pyi_renderer_pprof;
extern const pyi_renderer pyi_renderer_collapsed;
extern const pyi_renderer pyi_renderer_html; /* renderers/src/html.c, when built */

/* Copies "what" into error (if error_size) and returns rc. */
int pyi__render_fail(char *error, size_t error_size, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Tree options from render options: the renderer's processors, show_all,
 * metric, thread, focus and inverted; min_share from default_share when the
 * options leave it to the renderer. */
void pyi__render_tree_options(const pyi_renderer *r, const pyi_render_options *o,
                              double default_share, pyi_tree_options *tree);

/* Writes s as the inside of a JSON string (no quotes): escapes quotes,
 * backslashes and controls, and replaces invalid UTF-8 with U+FFFD. */
int pyi__json_string(pyi_sink *sink, const char *s);

/* Length of the valid UTF-8 sequence at s (NUL-terminated), or 0 if it is not
 * one (RFC 3629: no overlongs, surrogates or code points past U+10FFFF). */
size_t pyi__utf8_sequence(const unsigned char *s);

/* Writes s for a terminal: control characters (C0, DEL, C1) as \\n, \\t or
 * \\xNN, and bytes that are not UTF-8 as \\xNN, so a name cannot move the
 * cursor or change colours. */
int pyi__text_safe(pyi_sink *sink, const char *s);

/* Seconds from nanoseconds. */
static inline double pyi__seconds(uint64_t ns)
{
    return (double)ns / 1e9;
}

#endif /* PYI_RENDER_INTERNAL_H */
