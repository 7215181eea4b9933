/* SPDX-License-Identifier: MIT */
/* The renderer table: the one place that lists every output format. */
#include <string.h>
#include <strings.h>

#include "diff_render_internal.h"

static const pyi_renderer *const RENDERERS[] = {
    &pyi_renderer_text,
    &pyi_renderer_json,
    &pyi_renderer_speedscope,
    &pyi_renderer_pprof,
    &pyi_renderer_collapsed,
#ifdef PYI_HAVE_HTML_RENDERER
    &pyi_renderer_html,
#endif
};

const pyi_renderer *const *pyi_renderers(size_t *count)
{
    *count = sizeof(RENDERERS) / sizeof(RENDERERS[0]);
    return RENDERERS;
}

const pyi_renderer *pyi_renderer_find(const char *name)
{
    for (size_t i = 0; i < sizeof(RENDERERS) / sizeof(RENDERERS[0]); i++)
        if (!strcmp(RENDERERS[i]->name, name))
            return RENDERERS[i];
    return NULL;
}

const pyi_renderer *pyi_renderer_for_path(const char *path)
{
    const pyi_renderer *best = NULL;
    size_t best_length = 0, length = strlen(path);
    for (size_t i = 0; i < sizeof(RENDERERS) / sizeof(RENDERERS[0]); i++) {
        const char *ext = RENDERERS[i]->extension;
        size_t n = strlen(ext);
        if (n && n <= length && n > best_length && !strcasecmp(path + length - n, ext)) {
            best = RENDERERS[i];
            best_length = n;
        }
    }
    return best;
}

/* ---- Diff renderers ------------------------------------------------------------ */

static const pyi_diff_renderer *const DIFF_RENDERERS[] = {
    &pyi_diff_renderer_text,
    &pyi_diff_renderer_json,
    &pyi_diff_renderer_markdown,
    &pyi_diff_renderer_collapsed,
#ifdef PYI_HAVE_HTML_RENDERER
    &pyi_diff_renderer_html,
#endif
};

const pyi_diff_renderer *const *pyi_diff_renderers(size_t *count)
{
    *count = sizeof(DIFF_RENDERERS) / sizeof(DIFF_RENDERERS[0]);
    return DIFF_RENDERERS;
}

const pyi_diff_renderer *pyi_diff_renderer_find(const char *name)
{
    for (size_t i = 0; i < sizeof(DIFF_RENDERERS) / sizeof(DIFF_RENDERERS[0]); i++)
        if (!strcmp(DIFF_RENDERERS[i]->name, name))
            return DIFF_RENDERERS[i];
    return NULL;
}

const pyi_diff_renderer *pyi_diff_renderer_for_path(const char *path)
{
    const pyi_diff_renderer *best = NULL;
    size_t best_length = 0, length = strlen(path);
    for (size_t i = 0; i < sizeof(DIFF_RENDERERS) / sizeof(DIFF_RENDERERS[0]); i++) {
        const char *ext = DIFF_RENDERERS[i]->extension;
        size_t n = strlen(ext);
        if (n && n <= length && n > best_length && !strcasecmp(path + length - n, ext)) {
            best = DIFF_RENDERERS[i];
            best_length = n;
        }
    }
    return best;
}
