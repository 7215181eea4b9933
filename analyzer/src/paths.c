/* SPDX-License-Identifier: MIT */
/*
 * Path normalisation and code classification: turns a recorded file path into
 * the short, host-independent form that merges frames across traces
 * ("requests/api.py", "json/encoder.py", "app/main.py") and says whether the
 * code is the user's, the standard library's, a distribution's, the import
 * machinery's or pyinst's own.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

static char *copy_n(const char *text, size_t length)
{
    char *out = malloc(length + 1);
    if (out) {
        memcpy(out, text, length);
        out[length] = '\0';
    }
    return out;
}

/* The first path component, without a ".py" suffix: the library's name. */
static char *top_level_name(const char *rel)
{
    size_t n = strcspn(rel, "/");
    if (rel[n] == '\0' && n > 3 && !strcmp(rel + n - 3, ".py"))
        n -= 3;
    return copy_n(rel, n);
}

/* The part after the last "/site-packages/" or "/dist-packages/", or NULL. */
static const char *after_site_packages(const char *path)
{
    const char *best = NULL;
    const char *markers[] = {"/site-packages/", "/dist-packages/"};
    for (size_t k = 0; k < 2; k++) {
        for (const char *p = strstr(path, markers[k]); p; p = strstr(p + 1, markers[k]))
            if (!best || p + strlen(markers[k]) > best)
                best = p + strlen(markers[k]);
    }
    return best;
}

/* The part after ".../lib/pythonX.Y/" (or lib64, or Windows' "/Lib/"), or NULL. */
static const char *after_stdlib_dir(const char *path)
{
    const char *found = NULL;
    for (const char *p = strstr(path, "/python"); p; p = strstr(p + 1, "/python")) {
        const char *q = p + 7;
        if (*q < '0' || *q > '9')
            continue;
        while ((*q >= '0' && *q <= '9') || *q == '.')
            q++;
        if (*q == 't') /* free-threaded builds: lib/python3.13t */
            q++;
        if (*q != '/')
            continue;
        if ((p - path >= 4 && !strncmp(p - 4, "/lib", 4)) ||
            (p - path >= 6 && !strncmp(p - 6, "/lib64", 6)))
            found = q + 1;
    }
    if (!found) {
        const char *w = strstr(path, "/Lib/");
        if (w)
            found = w + 5;
    }
    return found;
}

/* Is rel (normalised) inside pyinst's own package: installed (site-packages
 * stripped, so "pyinst/...") or run from a source checkout ("python/pyinst/")?
 * Not any folder named pyinst: a user's project may be called that. */
static int is_profiler_path(const char *rel)
{
    return !strncmp(rel, "pyinst/", 7) || !strncmp(rel, "python/pyinst/", 14) ||
           strstr(rel, "/python/pyinst/") != NULL;
}

static int classify_special(const char *path, pyi__path_info *info)
{
    /* "<frozen importlib._bootstrap>", "<frozen runpy>", "<string>", "<built-in>" */
    if (!strncmp(path, "<frozen ", 8)) {
        const char *name = path + 8;
        size_t n = strcspn(name, ">.");
        info->code = PYI_CODE_STDLIB;
        if (!strncmp(name, "importlib._bootstrap", 20))
            info->code |= PYI_CODE_IMPORTLIB;
        info->library = copy_n(name, n);
    } else {
        info->code = PYI_CODE_APP;
        info->library = copy_n("", 0);
    }
    info->file = copy_n(path, strlen(path));
    return info->file && info->library ? 0 : -1;
}

int pyi__path_normalise(const char *path, const char *root, pyi__path_info *info)
{
    memset(info, 0, sizeof(*info));
    if (path[0] == '<' || path[0] == '\0')
        return classify_special(path, info);
    const char *rel = after_site_packages(path);
    if (rel) {
        info->code = is_profiler_path(rel) ? PYI_CODE_PROFILER | PYI_CODE_SITE : PYI_CODE_SITE;
    } else if ((rel = after_stdlib_dir(path)) != NULL) {
        info->code = PYI_CODE_STDLIB;
        if (!strncmp(rel, "importlib/_bootstrap", 20))
            info->code |= PYI_CODE_IMPORTLIB;
    }
    if (rel) {
        info->file = copy_n(rel, strlen(rel));
        info->library = top_level_name(rel);
        return info->file && info->library ? 0 : -1;
    }
    size_t root_length = root ? strlen(root) : 0;
    while (root_length > 1 && root[root_length - 1] == '/')
        root_length--;
    if (root_length && !strncmp(path, root, root_length) && path[root_length] == '/')
        rel = path + root_length + 1;
    else
        rel = path;
    info->code = is_profiler_path(rel) ? PYI_CODE_PROFILER : PYI_CODE_APP;
    info->file = copy_n(rel, strlen(rel));
    info->library = copy_n("", 0);
    return info->file && info->library ? 0 : -1;
}

void pyi__path_info_destroy(pyi__path_info *info)
{
    free(info->file);
    free(info->library);
    memset(info, 0, sizeof(*info));
}
