/* SPDX-License-Identifier: MIT */
/*
 * The html renderer's stack table and aggregates, bounded: when the model has
 * more stack nodes than STACK_BUDGET, the lightest ones (by wall time over all
 * threads) fold into their nearest kept caller, as a minimum share would hide
 * them, and aggregates that then share a (thread, stack) merge. Outermost
 * frames are always kept, so every sample keeps a frame. Time columns are
 * written in a unit (the greatest common divisor of the values, at least 1 us)
 * to keep numbers short.
 */
#include <stdlib.h>
#include <string.h>

#include "html_internal.h"

#define STACK_BUDGET 50000
#define MIN_TIME_UNIT_NS 1000

static int compare_u64_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x < y) - (x > y);
}

/* Wall time through each stack node (index = id), or NULL when a parent does
 * not precede its child (then nothing is folded). */
static uint64_t *stack_weights(const pyi_model *model, size_t stack_count)
{
    uint64_t *weight = calloc(stack_count + 1, sizeof(*weight));
    if (!weight)
        return NULL;
    size_t count;
    const pyi_model_aggregate *agg = pyi_model_aggregates(model, &count);
    for (size_t i = 0; i < count; i++)
        weight[agg[i].stack] += agg[i].totals.wall_ns;
    for (uint32_t id = (uint32_t)stack_count; id >= 1; id--) {
        uint32_t parent = pyi_model_stack_get(model, id)->parent;
        if (parent >= id) {
            free(weight);
            return NULL;
        }
        weight[parent] += weight[id];
    }
    return weight;
}

/* The weight a non-outermost node needs to be kept within the budget. */
static int keep_threshold(const pyi_model *model, const uint64_t *weight, size_t stack_count,
                          uint64_t *threshold)
{
    uint64_t *sorted = malloc(stack_count * sizeof(*sorted));
    if (!sorted)
        return PYI_E_NOMEM;
    size_t n = 0, roots = 0;
    for (uint32_t id = 1; id <= stack_count; id++) {
        if (pyi_model_stack_get(model, id)->parent)
            sorted[n++] = weight[id];
        else
            roots++;
    }
    qsort(sorted, n, sizeof(*sorted), compare_u64_desc);
    size_t room = roots < STACK_BUDGET ? STACK_BUDGET - roots : 0;
    *threshold = room < n ? sorted[room] : 0; /* keep weights strictly above */
    free(sorted);
    return 0;
}

/* map[id] = the page's id of the stack or of its nearest kept caller. */
static int map_stacks(const pyi_model *model, pyi_html_stacks *s)
{
    size_t count = s->model_count;
    s->map = calloc(count + 1, sizeof(*s->map));
    s->kept = calloc(count + 1, sizeof(*s->kept));
    if (!s->map || !s->kept)
        return PYI_E_NOMEM;
    uint64_t *weight = count > STACK_BUDGET ? stack_weights(model, count) : NULL;
    uint64_t threshold = 0;
    if (weight && keep_threshold(model, weight, count, &threshold)) {
        free(weight);
        return PYI_E_NOMEM;
    }
    for (uint32_t id = 1; id <= count; id++) {
        uint32_t parent = pyi_model_stack_get(model, id)->parent;
        if (!weight || !parent || weight[id] > threshold) {
            s->kept[++s->count] = id;
            s->map[id] = (uint32_t)s->count;
        } else {
            s->map[id] = s->map[parent];
            s->folded++;
        }
    }
    free(weight);
    return 0;
}

static int compare_aggregate(const void *a, const void *b)
{
    const pyi_html_aggregate *x = a, *y = b;
    if (x->thread != y->thread)
        return (x->thread > y->thread) - (x->thread < y->thread);
    return (x->stack > y->stack) - (x->stack < y->stack);
}

/* The model's aggregates on the page's stacks, merged where folding made
 * two of them the same (thread, stack). */
static int merge_aggregates(const pyi_model *model, pyi_html_stacks *s)
{
    size_t count;
    const pyi_model_aggregate *agg = pyi_model_aggregates(model, &count);
    s->aggregates = malloc((count ? count : 1) * sizeof(*s->aggregates));
    if (!s->aggregates)
        return PYI_E_NOMEM;
    for (size_t i = 0; i < count; i++)
        s->aggregates[i] = (pyi_html_aggregate){agg[i].thread, s->map[agg[i].stack],
                                                agg[i].totals};
    if (s->folded)
        qsort(s->aggregates, count, sizeof(*s->aggregates), compare_aggregate);
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        if (n && s->folded && !compare_aggregate(&s->aggregates[n - 1], &s->aggregates[i]))
            pyi_metrics_add(&s->aggregates[n - 1].totals, &s->aggregates[i].totals);
        else
            s->aggregates[n++] = s->aggregates[i];
    }
    s->aggregate_count = n;
    return 0;
}

uint64_t pyi__html_gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

uint64_t pyi__html_time_unit(uint64_t gcd)
{
    return gcd >= MIN_TIME_UNIT_NS ? gcd : MIN_TIME_UNIT_NS;
}

/* value in units of unit, rounded to the nearest */
uint64_t pyi__html_in_unit(uint64_t value, uint64_t unit)
{
    return value / unit + (value % unit >= (unit + 1) / 2);
}

int pyi__html_stacks_build(const pyi_model *model, pyi_html_stacks *s)
{
    memset(s, 0, sizeof(*s));
    s->model_count = pyi_model_get_info(model)->stack_count;
    int rc = map_stacks(model, s);
    if (!rc)
        rc = merge_aggregates(model, s);
    if (rc) {
        pyi__html_stacks_destroy(s);
        return rc;
    }
    uint64_t gcd = 0;
    for (size_t i = 0; i < s->aggregate_count; i++) {
        const pyi_metrics *m = &s->aggregates[i].totals;
        gcd = pyi__html_gcd(pyi__html_gcd(pyi__html_gcd(gcd, m->wall_ns), m->on_cpu_ns), m->cpu_ns);
    }
    s->time_unit_ns = pyi__html_time_unit(gcd);
    return 0;
}

void pyi__html_stacks_destroy(pyi_html_stacks *s)
{
    free(s->map);
    free(s->kept);
    free(s->aggregates);
    memset(s, 0, sizeof(*s));
}

/* ---- Writing ------------------------------------------------------------------- */

static void write_stacks(pyi_html_out *out, const pyi_model *model, const pyi_html_stacks *s)
{
    pyi__html_key(out, "stacks", 0);
    pyi__html_put(out, "{\"parent_delta\":[");
    for (size_t id = 1; id <= s->count && !out->rc; id++) {
        uint32_t parent = s->map[pyi_model_stack_get(model, s->kept[id])->parent];
        pyi__html_put(out, id > 1 ? "," : "");
        pyi__html_u64(out, id - parent);
    }
    pyi__html_put(out, "],\"location\":[");
    for (size_t id = 1; id <= s->count && !out->rc; id++) {
        pyi__html_put(out, id > 1 ? "," : "");
        pyi__html_u64(out, pyi_model_stack_get(model, s->kept[id])->location);
    }
    pyi__html_put(out, "]");
    pyi__html_key(out, "folded", 0);
    pyi__html_u64(out, s->folded);
    pyi__html_put(out, "}");
}

typedef enum aggregate_column {
    AGG_THREAD, AGG_STACK, AGG_SAMPLES, AGG_ON_CPU_SAMPLES, AGG_WALL, AGG_ON_CPU, AGG_CPU, AGG_COLUMNS
} aggregate_column;

static const char *const AGGREGATE_KEYS[AGG_COLUMNS] = {
    "thread", "stack", "samples", "on_cpu_samples", "wall", "on_cpu", "cpu"};

static uint64_t aggregate_value(const pyi_html_aggregate *a, aggregate_column column,
                                uint64_t unit)
{
    switch (column) {
    case AGG_THREAD: return a->thread;
    case AGG_STACK: return a->stack;
    case AGG_SAMPLES: return a->totals.samples;
    case AGG_ON_CPU_SAMPLES: return a->totals.on_cpu_samples;
    case AGG_WALL: return pyi__html_in_unit(a->totals.wall_ns, unit);
    case AGG_ON_CPU: return pyi__html_in_unit(a->totals.on_cpu_ns, unit);
    case AGG_CPU: return pyi__html_in_unit(a->totals.cpu_ns, unit);
    case AGG_COLUMNS: break;
    }
    return 0;
}

static void write_aggregates(pyi_html_out *out, const pyi_html_stacks *s)
{
    pyi__html_key(out, "aggregates", 0);
    pyi__html_put(out, "{\"time_unit_ns\":");
    pyi__html_u64(out, s->time_unit_ns);
    for (int column = 0; column < AGG_COLUMNS; column++) {
        pyi__html_key(out, AGGREGATE_KEYS[column], 0);
        pyi__html_put(out, "[");
        for (size_t i = 0; i < s->aggregate_count && !out->rc; i++) {
            pyi__html_put(out, i ? "," : "");
            pyi__html_u64(out, aggregate_value(&s->aggregates[i], (aggregate_column)column,
                                               s->time_unit_ns));
        }
        pyi__html_put(out, "]");
    }
    pyi__html_put(out, "}");
}

void pyi__html_stacks_write(pyi_html_out *out, const pyi_model *model, const pyi_html_stacks *s)
{
    write_stacks(out, model, s);
    write_aggregates(out, s);
}
