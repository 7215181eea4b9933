/* SPDX-License-Identifier: MIT */
/*
 * Views: a model stack turned into the frames a person should see, with the
 * stack processors applied (hide import machinery, hide pyinst's own frames,
 * fold direct recursion, group library code), and the visit of every
 * aggregate's processed stack that the exporters and the tree builder use.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

static const struct {
    unsigned bit;
    const char *name;
} PROCESSORS[] = {
    {PYI_PROC_HIDE_IMPORTLIB, "hide-importlib"},
    {PYI_PROC_HIDE_PROFILER, "hide-profiler"},
    {PYI_PROC_GROUP_LIBRARY, "group-library"},
    {PYI_PROC_MERGE_SELF, "merge-self"},
    {PYI_PROC_AGGREGATE_CALLS, "aggregate-calls"},
    {PYI_PROC_COLLAPSE_RECURSION, "collapse-recursion"},
};

unsigned pyi_processor_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(PROCESSORS) / sizeof(PROCESSORS[0]); i++)
        if (!strcmp(name, PROCESSORS[i].name))
            return PROCESSORS[i].bit;
    return 0;
}

const char *pyi_processor_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof(PROCESSORS) / sizeof(PROCESSORS[0]); i++)
        if (bit == PROCESSORS[i].bit)
            return PROCESSORS[i].name;
    return NULL;
}

int pyi_metric_from_name(const char *name, pyi_metric *metric)
{
    static const struct {
        const char *name;
        pyi_metric metric;
    } METRICS[] = {{"wall", PYI_METRIC_WALL},       {"cpu", PYI_METRIC_CPU},
                   {"on-cpu", PYI_METRIC_ON_CPU},   {"waiting", PYI_METRIC_WAITING},
                   {"samples", PYI_METRIC_SAMPLES}};
    for (size_t i = 0; i < sizeof(METRICS) / sizeof(METRICS[0]); i++)
        if (!strcmp(name, METRICS[i].name)) {
            *metric = METRICS[i].metric;
            return 0;
        }
    return -1;
}

void pyi_view_options_init(pyi_view_options *options)
{
    memset(options, 0, sizeof(*options));
    options->processors = PYI_PROC_DEFAULT;
    options->metric = PYI_METRIC_WALL;
    options->thread = PYI_THREAD_ALL;
}

static int is_runpy(const pyi_model_function *f)
{
    return !strcmp(f->library, "runpy") && (f->code & PYI_CODE_STDLIB);
}

/* Is this frame dropped by the hiding processors? leading: no frame kept yet. */
static int is_hidden(const pyi_model_function *f, unsigned processors)
{
    if ((processors & PYI_PROC_HIDE_IMPORTLIB) && (f->code & PYI_CODE_IMPORTLIB))
        return 1;
    return (processors & PYI_PROC_HIDE_PROFILER) && (f->code & PYI_CODE_PROFILER);
}

static int is_groupable(const pyi_model_function *f)
{
    return (f->code & PYI_CODE_LIBRARY) && !(f->code & (PYI_CODE_NATIVE | PYI_CODE_SYNTHETIC));
}

/* Leading start-up frames (runpy) go when something of the user's follows. */
static size_t skip_startup(const pyi_model *m, const pyi_view_frame *frames, size_t depth)
{
    size_t i = 0;
    while (i < depth && is_runpy(&m->functions[frames[i].function - 1]))
        i++;
    return i < depth ? i : 0;
}

int pyi__view_frames_hidden(const pyi_model *m, unsigned processors, uint32_t stack,
                            pyi_view_frame *frames, size_t capacity, uint32_t *hidden)
{
    if (!stack)
        return 0;
    size_t depth = m->stacks[stack - 1].depth;
    if (depth > capacity)
        return -1;
    for (size_t i = depth; stack; stack = m->stacks[stack - 1].parent) {
        uint32_t loc = m->stacks[stack - 1].location;
        frames[--i] = (pyi_view_frame){loc, m->locations[loc - 1].function, 0, 0, 0};
    }
    size_t start = 0, kept = 0, hidden_count = 0;
    if (processors & PYI_PROC_HIDE_PROFILER) {
        /* pyinst's own frames may sit above runpy's: drop them first. */
        size_t w = 0;
        for (size_t i = 0; i < depth; i++)
            if (!is_hidden(&m->functions[frames[i].function - 1], processors))
                frames[w++] = frames[i];
        depth = w;
        start = skip_startup(m, frames, depth);
    }
    int in_group = 0;
    for (size_t i = start; i < depth; i++) {
        pyi_view_frame fr = frames[i];
        const pyi_model_function *f = &m->functions[fr.function - 1];
        if (is_hidden(f, processors))
            continue;
        pyi_view_frame *prev = kept ? &frames[kept - 1] : NULL;
        if ((processors & PYI_PROC_COLLAPSE_RECURSION) && prev && prev->function == fr.function &&
            !prev->group_hidden) {
            prev->location = fr.location; /* the innermost call's line is what runs */
            prev->flags |= PYI_NODE_RECURSIVE;
            continue;
        }
        if ((processors & PYI_PROC_GROUP_LIBRARY) && is_groupable(f)) {
            if (in_group && prev) {
                if (hidden)
                    hidden[hidden_count] = fr.function;
                hidden_count++;
                prev->group_hidden++;
                continue;
            }
            in_group = 1;
        } else {
            in_group = 0;
        }
        frames[kept++] = fr;
    }
    for (size_t i = 0; i < kept; i++)
        frames[i].call_line = i ? m->locations[frames[i - 1].location - 1].line : 0;
    return (int)kept;
}

int pyi__view_frames(const pyi_model *m, unsigned processors, uint32_t stack,
                     pyi_view_frame *frames, size_t capacity)
{
    return pyi__view_frames_hidden(m, processors, stack, frames, capacity, NULL);
}

size_t pyi__model_max_depth(const pyi_model *m)
{
    size_t depth = 1;
    for (size_t i = 0; i < m->stack_count; i++)
        if (m->stacks[i].depth > depth)
            depth = m->stacks[i].depth;
    return depth;
}

int pyi_model_visit_stacks(const pyi_model *m, const pyi_view_options *view,
                           pyi_stack_visit_fn fn, void *ctx)
{
    pyi_view_options defaults;
    if (!view) {
        pyi_view_options_init(&defaults);
        view = &defaults;
    }
    size_t capacity = pyi__model_max_depth(m);
    pyi_view_frame *frames = malloc(capacity * sizeof(*frames));
    if (!frames)
        return PYI_E_NOMEM;
    int rc = 0;
    for (size_t i = 0; i < m->aggregate_count && rc == 0; i++) {
        const pyi_model_aggregate *a = &m->aggregates[i];
        if (view->thread != PYI_THREAD_ALL && a->thread != view->thread)
            continue;
        int depth = pyi__view_frames(m, view->processors, a->stack, frames, capacity);
        rc = fn(ctx, a->thread, frames, (size_t)depth, &a->totals);
    }
    free(frames);
    return rc;
}

int pyi_model_stack_frames(const pyi_model *m, unsigned processors, uint32_t stack,
                           pyi_view_frame *frames, size_t capacity)
{
    if (stack > m->stack_count)
        return PYI_E_INVALID_ARG;
    int depth = pyi__view_frames(m, processors, stack, frames, capacity);
    return depth < 0 ? PYI_E_LIMIT : depth;
}
