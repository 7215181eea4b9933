/* SPDX-License-Identifier: MIT */
/*
 * Flat views: per-function and per-line totals. Self time goes to the
 * innermost frame; total time counts each sample once per function (or
 * line) however often it recurses, which is what pyinstrument's flat
 * "total" mode gets wrong.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

typedef struct totals_ctx {
    const pyi_model *m;
    int by_line;           /* 0: functions, 1: locations */
    pyi_metrics *self;     /* [id - 1] */
    pyi_metrics *total;
    uint64_t *stamp;       /* [id - 1]: last visit that counted it */
    uint64_t visit;
} totals_ctx;

static int add_stack(void *ctx, uint32_t thread, const pyi_view_frame *frames, size_t depth,
                     const pyi_metrics *totals)
{
    (void)thread;
    totals_ctx *c = ctx;
    if (!depth)
        return 0;
    c->visit++;
    for (size_t i = 0; i < depth; i++) {
        uint32_t id = c->by_line ? frames[i].location : frames[i].function;
        if (c->stamp[id - 1] == c->visit)
            continue;
        c->stamp[id - 1] = c->visit;
        pyi_metrics_add(&c->total[id - 1], totals);
    }
    uint32_t leaf = c->by_line ? frames[depth - 1].location : frames[depth - 1].function;
    pyi_metrics_add(&c->self[leaf - 1], totals);
    return 0;
}

/* Sort keys copied out so qsort needs no context. */
typedef struct total_item {
    uint64_t self, total;
    uint32_t id;
} total_item;

static int compare_items(const void *pa, const void *pb)
{
    const total_item *a = pa, *b = pb;
    if (a->self != b->self)
        return a->self > b->self ? -1 : 1;
    if (a->total != b->total)
        return a->total > b->total ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Collects ids with any time, sorted; fills order (caller frees). */
static int collect(const pyi_model *m, const pyi_view_options *view, int by_line,
                   totals_ctx *c, total_item **order, size_t *count)
{
    size_t n = by_line ? m->location_count : m->function_count;
    c->m = m;
    c->by_line = by_line;
    c->self = calloc(n + 1, sizeof(*c->self));
    c->total = calloc(n + 1, sizeof(*c->total));
    c->stamp = calloc(n + 1, sizeof(*c->stamp));
    *order = calloc(n + 1, sizeof(**order));
    if (!c->self || !c->total || !c->stamp || !*order)
        return PYI_E_NOMEM;
    pyi_view_options v;
    if (view)
        v = *view;
    else
        pyi_view_options_init(&v);
    v.processors &= PYI_PROC_HIDE_IMPORTLIB | PYI_PROC_HIDE_PROFILER;
    int rc = pyi_model_visit_stacks(m, &v, add_stack, c);
    if (rc)
        return rc;
    *count = 0;
    for (size_t i = 0; i < n; i++)
        if (c->total[i].samples)
            (*order)[(*count)++] = (total_item){pyi_metrics_value(&c->self[i], v.metric),
                                                pyi_metrics_value(&c->total[i], v.metric),
                                                (uint32_t)i + 1};
    qsort(*order, *count, sizeof(**order), compare_items);
    return 0;
}

static void release(totals_ctx *c, total_item *order)
{
    free(c->self);
    free(c->total);
    free(c->stamp);
    free(order);
}

int pyi_model_function_totals(const pyi_model *m, const pyi_view_options *view,
                              pyi_function_total **out, size_t *count)
{
    totals_ctx c = {0};
    total_item *order = NULL;
    *out = NULL;
    *count = 0;
    if (!m->finished)
        return PYI_E_STATE;
    size_t n = 0;
    int rc = collect(m, view, 0, &c, &order, &n);
    if (rc == 0 && !(*out = calloc(n + 1, sizeof(**out))))
        rc = PYI_E_NOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint32_t id = order[i].id;
        (*out)[i] = (pyi_function_total){id, c.self[id - 1], c.total[id - 1]};
    }
    if (rc == 0)
        *count = n;
    release(&c, order);
    return rc;
}

int pyi_model_line_totals(const pyi_model *m, const pyi_view_options *view,
                          pyi_line_total **out, size_t *count)
{
    totals_ctx c = {0};
    total_item *order = NULL;
    *out = NULL;
    *count = 0;
    if (!m->finished)
        return PYI_E_STATE;
    size_t n = 0;
    int rc = collect(m, view, 1, &c, &order, &n);
    if (rc == 0 && !(*out = calloc(n + 1, sizeof(**out))))
        rc = PYI_E_NOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint32_t id = order[i].id;
        (*out)[i] = (pyi_line_total){id, c.self[id - 1], c.total[id - 1]};
    }
    if (rc == 0)
        *count = n;
    release(&c, order);
    return rc;
}
