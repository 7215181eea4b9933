/* SPDX-License-Identifier: MIT */
/* Private to renderers/: an HTML page embedded at build time (cmake/EmbedHtml.cmake),
 * split where a renderer writes its data blob. */
#ifndef PYI_HTML_PAGE_H
#define PYI_HTML_PAGE_H

#include <stddef.h>

typedef struct pyi_html_page {
    const unsigned char *head; /* template up to the data placeholder, CSS/JS inlined */
    size_t head_size;          /* bytes */
    const unsigned char *tail; /* the rest of the page after the data */
    size_t tail_size;          /* bytes */
} pyi_html_page;

/* The report page: renderers/assets/html (generated pyi__html_report_page.c). */
extern const pyi_html_page pyi__html_report_page;
/* The diff page: diff.html, diff.css, js/diff.js and the components it reuses
 * (generated pyi__html_diff_page.c; see renderers/src/diff_html.c). */
extern const pyi_html_page pyi__html_diff_page;

#endif /* PYI_HTML_PAGE_H */
