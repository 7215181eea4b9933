/* SPDX-License-Identifier: MIT */
/*
 * The profile model: lifecycle, options, interning of functions, locations,
 * stacks and aggregates, and the read-only accessors. Loading a trace is in
 * model_load.c; views are in view.c, tree.c, totals.c and timeline.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "pyi/trace.h"

/* ---- Metrics ------------------------------------------------------------ */

uint64_t pyi_metrics_value(const pyi_metrics *m, pyi_metric metric)
{
    switch (metric) {
    case PYI_METRIC_ON_CPU:
        return m->on_cpu_ns;
    case PYI_METRIC_WAITING:
        return m->wall_ns - m->on_cpu_ns;
    case PYI_METRIC_CPU:
        return m->cpu_ns;
    case PYI_METRIC_SAMPLES:
        return m->samples;
    case PYI_METRIC_WALL:
    default:
        return m->wall_ns;
    }
}

void pyi_metrics_add(pyi_metrics *a, const pyi_metrics *b)
{
    a->samples += b->samples;
    a->on_cpu_samples += b->on_cpu_samples;
    a->wall_ns += b->wall_ns;
    a->on_cpu_ns += b->on_cpu_ns;
    a->cpu_ns += b->cpu_ns;
}

/* ---- Lifecycle ------------------------------------------------------------ */

void pyi_model_options_init(pyi_model_options *options)
{
    memset(options, 0, sizeof(*options));
}

int pyi__model_fail(pyi_model *m, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->detail, sizeof(m->detail), fmt, ap);
    va_end(ap);
    return error;
}

static int compile_regex(pyi_model *m, regex_t *re, const char *pattern, const char *what)
{
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        char why[256];
        regerror(rc, re, why, sizeof(why));
        return pyi__model_fail(m, PYI_E_INVALID_ARG, "%s regex '%s': %s", what, pattern, why);
    }
    return 0;
}

static int compile_list(pyi_model *m, regex_t **out, size_t *compiled, const char *const *list,
                        size_t count, const char *what)
{
    if (!count)
        return 0;
    *out = calloc(count, sizeof(regex_t));
    if (!*out)
        return pyi__model_fail(m, PYI_E_NOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        int rc = compile_regex(m, &(*out)[i], list[i], what);
        if (rc)
            return rc;
        (*compiled)++;
    }
    return 0;
}

static int copy_filters(pyi_model *m)
{
    const pyi_filter *f = &m->options.filter;
    int rc = 0;
    if (f->focus) {
        rc = compile_regex(m, &m->focus, f->focus, "focus");
        m->has_focus = rc == 0;
    }
    if (!rc)
        rc = compile_list(m, &m->exclude_functions, &m->exclude_function_count,
                          f->exclude_functions, f->exclude_function_count, "exclude-function");
    if (!rc)
        rc = compile_list(m, &m->exclude_files, &m->exclude_file_count, f->exclude_files,
                          f->exclude_file_count, "exclude-file");
    if (!rc && f->thread_count) {
        m->thread_filters = calloc(f->thread_count, sizeof(char *));
        if (!m->thread_filters)
            return pyi__model_fail(m, PYI_E_NOMEM, "out of memory");
        for (size_t i = 0; i < f->thread_count; i++) {
            m->thread_filters[i] = strdup(f->threads[i]);
            if (!m->thread_filters[i])
                return pyi__model_fail(m, PYI_E_NOMEM, "out of memory");
            m->thread_filter_count++;
        }
    }
    /* The strings of the caller's filter are only borrowed during this call. */
    m->options.filter.focus = NULL;
    m->options.filter.exclude_functions = m->options.filter.exclude_files = NULL;
    m->options.filter.threads = NULL;
    m->options.project_root = NULL;
    return rc;
}

int pyi_model_new(pyi_model **out, const pyi_model_options *options)
{
    *out = calloc(1, sizeof(pyi_model));
    if (!*out)
        return PYI_E_NOMEM;
    pyi_model *m = *out;
    pyi_model_options defaults;
    pyi_model_options_init(&defaults);
    m->options = options ? *options : defaults;
    if (!m->options.timeline_buckets)
        m->options.timeline_buckets = 2048;
    if (m->options.timeline_buckets < 2)
        m->options.timeline_buckets = 2;
    if (options && options->project_root) {
        m->project_root = strdup(options->project_root);
        if (!m->project_root)
            return pyi__model_fail(m, PYI_E_NOMEM, "out of memory");
    }
    return copy_filters(m);
}

static void free_sources(pyi_model *m)
{
    for (size_t i = 0; i < m->source_count; i++) {
        pyi__source *s = m->sources[i];
        for (size_t k = 0; k < sizeof(s->strings) / sizeof(s->strings[0]); k++)
            free(s->strings[k]);
        free(s);
    }
    free(m->sources);
}

void pyi_model_free(pyi_model *m)
{
    if (!m)
        return;
    if (m->has_focus)
        regfree(&m->focus);
    for (size_t i = 0; i < m->exclude_function_count; i++)
        regfree(&m->exclude_functions[i]);
    for (size_t i = 0; i < m->exclude_file_count; i++)
        regfree(&m->exclude_files[i]);
    free(m->exclude_functions);
    free(m->exclude_files);
    for (size_t i = 0; i < m->thread_filter_count; i++)
        free(m->thread_filters[i]);
    free(m->thread_filters);
    free(m->project_root);
    pyi__strings_destroy(&m->strings);
    free(m->functions);
    free(m->function_matches);
    pyi__map_destroy(&m->function_index);
    free(m->locations);
    pyi__map_destroy(&m->location_index);
    free(m->stacks);
    pyi__map_destroy(&m->stack_index);
    for (size_t i = 0; i < m->thread_count; i++) {
        free(m->thread_names[i]);
        pyi__timeline_destroy(&m->timelines[i]);
    }
    free(m->threads);
    free(m->thread_names);
    free(m->timelines);
    free_sources(m);
    free(m->aggregates);
    pyi__map_destroy(&m->aggregate_index);
    free(m);
}

const char *pyi_model_error_detail(const pyi_model *m)
{
    return m ? m->detail : "out of memory";
}

int pyi_model_finish(pyi_model *m)
{
    if (m->finished)
        return 0;
    pyi_model_info *info = &m->info;
    info->source_count = m->source_count;
    info->thread_count = m->thread_count;
    info->function_count = m->function_count;
    info->location_count = m->location_count;
    info->stack_count = m->stack_count;
    info->aggregate_count = m->aggregate_count;
    memset(&info->totals, 0, sizeof(info->totals));
    for (size_t i = 0; i < m->thread_count; i++) {
        pyi_metrics_add(&info->totals, &m->threads[i].totals);
        if (m->threads[i].last_ns > info->duration_ns)
            info->duration_ns = m->threads[i].last_ns;
    }
    for (size_t i = 0; i < m->source_count; i++) {
        const pyi_model_source *s = &m->sources[i]->pub;
        if (s->offset_ns + s->duration_ns > info->duration_ns)
            info->duration_ns = s->offset_ns + s->duration_ns;
    }
    info->has_cpu = info->totals.cpu_ns != 0;
    info->max_stack_depth = (uint32_t)pyi__model_max_depth(m);
    m->finished = 1;
    return 0;
}

int pyi_model_load(pyi_model **out, const char *const *paths, size_t path_count,
                   const pyi_model_options *options, char *detail, size_t detail_size)
{
    pyi_model *m = NULL;
    int rc = pyi_model_new(&m, options);
    if (m)
        m->progress_file_count = path_count;
    for (size_t i = 0; rc == 0 && i < path_count; i++)
        rc = pyi_model_add_file(m, paths[i]);
    if (rc == 0)
        rc = pyi_model_finish(m);
    if (rc) {
        if (detail_size)
            snprintf(detail, detail_size, "%s", pyi_model_error_detail(m));
        pyi_model_free(m);
        m = NULL;
    }
    *out = m;
    return rc;
}

/* ---- Interning --------------------------------------------------------------- */

static uint32_t function_matches(const pyi_model *m, const pyi_model_function *f)
{
    uint32_t matches = 0;
    for (size_t i = 0; i < m->exclude_function_count; i++)
        if (!regexec(&m->exclude_functions[i], f->name, 0, NULL, 0))
            matches |= PYI__MATCH_EXCLUDED;
    for (size_t i = 0; i < m->exclude_file_count; i++)
        if (!regexec(&m->exclude_files[i], f->file, 0, NULL, 0) ||
            !regexec(&m->exclude_files[i], f->path, 0, NULL, 0))
            matches |= PYI__MATCH_EXCLUDED;
    if (m->has_focus) {
        size_t n = strlen(f->file) + strlen(f->name) + 2;
        char *qualified = malloc(n);
        if (qualified) {
            snprintf(qualified, n, "%s:%s", f->file, f->name);
            if (!regexec(&m->focus, f->name, 0, NULL, 0) ||
                !regexec(&m->focus, qualified, 0, NULL, 0))
                matches |= PYI__MATCH_FOCUS;
            free(qualified);
        }
    }
    return matches;
}

static uint32_t add_function(pyi_model *m, uint32_t name_sid, const pyi__path_info *pi,
                             const char *path, size_t path_length, uint32_t first_line,
                             uint32_t kind)
{
    uint32_t file_sid = pyi__strings_intern(&m->strings, pi->file, strlen(pi->file));
    uint32_t path_sid = pyi__strings_intern(&m->strings, path, path_length);
    uint32_t lib_sid = pyi__strings_intern(&m->strings, pi->library, strlen(pi->library));
    if (!file_sid || !path_sid || !lib_sid || file_sid >= (1u << 29))
        return 0;
    uint64_t key = ((uint64_t)name_sid << 32) | ((uint64_t)file_sid << 2) | (kind & 3u);
    uint32_t id = pyi__map_get(&m->function_index, key);
    if (id)
        return id;
    size_t cap = m->function_capacity;
    if (pyi__array_grow((void **)&m->functions, &m->function_capacity, m->function_count + 1,
                  sizeof(*m->functions)) ||
        pyi__array_grow((void **)&m->function_matches, &cap, m->function_count + 1,
                  sizeof(*m->function_matches)))
        return 0;
    id = (uint32_t)++m->function_count;
    pyi_model_function *f = &m->functions[id - 1];
    f->id = id;
    /* Interned strings never move (each is its own allocation). */
    f->name = pyi__strings_get(&m->strings, name_sid);
    f->file = pyi__strings_get(&m->strings, file_sid);
    f->path = pyi__strings_get(&m->strings, path_sid);
    f->library = pyi__strings_get(&m->strings, lib_sid);
    f->first_line = first_line;
    f->kind = kind;
    f->code = kind == PYI_FUNCTION_NATIVE      ? PYI_CODE_NATIVE
              : kind == PYI_FUNCTION_SYNTHETIC ? PYI_CODE_SYNTHETIC
                                               : pi->code;
    m->function_matches[id - 1] = function_matches(m, f);
    if (pyi__map_put(&m->function_index, key, id))
        return 0;
    return id;
}

uint32_t pyi__model_intern_function(pyi_model *m, const char *name, size_t name_length,
                                    const char *path, size_t path_length, uint32_t first_line,
                                    uint32_t kind, const char *root)
{
    if (kind > PYI_FUNCTION_SYNTHETIC)
        kind = PYI_FUNCTION_PYTHON; /* spec §5.3: unknown kinds read as Python */
    uint32_t name_sid = pyi__strings_intern(&m->strings, name, name_length);
    if (!name_sid)
        return 0;
    pyi__path_info pi;
    /* Paths with NULs inside are cut at the first: regexes and C APIs see no further. */
    if (pyi__path_normalise(path, root, &pi)) {
        pyi__path_info_destroy(&pi);
        return 0;
    }
    uint32_t id = add_function(m, name_sid, &pi, path, path_length, first_line, kind);
    pyi__path_info_destroy(&pi);
    return id;
}

uint32_t pyi__model_intern_location(pyi_model *m, uint32_t function, uint32_t line)
{
    uint64_t key = ((uint64_t)function << 32) | line;
    uint32_t id = pyi__map_get(&m->location_index, key);
    if (id)
        return id;
    if (m->location_count >= UINT32_MAX - 1 ||
        pyi__array_grow((void **)&m->locations, &m->location_capacity, m->location_count + 1,
                  sizeof(*m->locations)))
        return 0;
    id = (uint32_t)++m->location_count;
    m->locations[id - 1] = (pyi_model_location){id, function, line};
    return pyi__map_put(&m->location_index, key, id) ? 0 : id;
}

uint32_t pyi__model_intern_stack(pyi_model *m, uint32_t parent, uint32_t location)
{
    uint64_t key = ((uint64_t)parent << 32) | location;
    uint32_t id = pyi__map_get(&m->stack_index, key);
    if (id)
        return id;
    if (m->stack_count >= UINT32_MAX - 1 ||
        pyi__array_grow((void **)&m->stacks, &m->stack_capacity, m->stack_count + 1,
                  sizeof(*m->stacks)))
        return 0;
    id = (uint32_t)++m->stack_count;
    uint32_t depth = parent ? m->stacks[parent - 1].depth + 1 : 1;
    m->stacks[id - 1] = (pyi_model_stack){id, parent, location, depth};
    return pyi__map_put(&m->stack_index, key, id) ? 0 : id;
}

uint32_t pyi__model_aggregate(pyi_model *m, uint32_t thread, uint32_t stack, uint64_t first_ns)
{
    uint64_t key = ((uint64_t)thread << 32) | stack;
    uint32_t index = pyi__map_get(&m->aggregate_index, key);
    if (index)
        return index;
    if (m->aggregate_count >= UINT32_MAX - 1 ||
        pyi__array_grow((void **)&m->aggregates, &m->aggregate_capacity, m->aggregate_count + 1,
                  sizeof(*m->aggregates)))
        return 0;
    pyi_model_aggregate *a = &m->aggregates[m->aggregate_count++];
    a->thread = thread;
    a->stack = stack;
    a->first_ns = first_ns;
    index = (uint32_t)m->aggregate_count;
    return pyi__map_put(&m->aggregate_index, key, index) ? 0 : index;
}

/* ---- Accessors ---------------------------------------------------------------- */

const pyi_model_info *pyi_model_get_info(const pyi_model *m)
{
    return &m->info;
}

const pyi_model_source *pyi_model_source_get(const pyi_model *m, uint32_t id)
{
    return id && id <= m->source_count ? &m->sources[id - 1]->pub : NULL;
}

const pyi_model_thread *pyi_model_thread_get(const pyi_model *m, uint32_t id)
{
    return id && id <= m->thread_count ? &m->threads[id - 1] : NULL;
}

const pyi_model_function *pyi_model_function_get(const pyi_model *m, uint32_t id)
{
    return id && id <= m->function_count ? &m->functions[id - 1] : NULL;
}

const pyi_model_location *pyi_model_location_get(const pyi_model *m, uint32_t id)
{
    return id && id <= m->location_count ? &m->locations[id - 1] : NULL;
}

const pyi_model_stack *pyi_model_stack_get(const pyi_model *m, uint32_t id)
{
    return id && id <= m->stack_count ? &m->stacks[id - 1] : NULL;
}

const pyi_model_aggregate *pyi_model_aggregates(const pyi_model *m, size_t *count)
{
    *count = m->aggregate_count;
    return m->aggregates;
}
