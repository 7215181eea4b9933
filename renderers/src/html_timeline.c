/* SPDX-License-Identifier: MIT */
/*
 * The html renderer's timelines: each thread's downsampled time axis from the
 * model (pyi_model_timeline), with leading and trailing empty buckets cut, and
 * neighbours merged when all threads together would exceed a bucket budget,
 * so a trace with hundreds of threads still gives a small page.
 */
#include <stdlib.h>
#include <string.h>

#include "html_internal.h"

/* Buckets over all threads; a few bytes each per column. */
#define TIMELINE_BUDGET 65536

typedef struct merged_bucket {
    pyi_metrics totals;
    uint32_t top_stack;
    uint64_t top_wall_ns;
} merged_bucket;

/* Bucket `index` of the timeline with `factor` neighbours merged into one. */
static merged_bucket merge_group(const pyi_timeline_bucket *buckets, size_t count, size_t index,
                                 size_t factor)
{
    merged_bucket m;
    memset(&m, 0, sizeof(m));
    for (size_t i = index * factor; i < (index + 1) * factor && i < count; i++) {
        pyi_metrics_add(&m.totals, &buckets[i].totals);
        if (buckets[i].top_stack && buckets[i].top_wall_ns >= m.top_wall_ns) {
            m.top_stack = buckets[i].top_stack;
            m.top_wall_ns = buckets[i].top_wall_ns;
        }
    }
    return m;
}

static size_t merge_factor(const pyi_model *model)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    size_t total = 0;
    for (uint32_t id = 1; id <= info->thread_count; id++) {
        size_t count;
        uint64_t width;
        pyi_model_timeline(model, id, &count, &width);
        total += count;
    }
    size_t factor = 1;
    while (total / factor > TIMELINE_BUDGET)
        factor *= 2;
    return factor;
}

typedef struct timeline_columns {
    const merged_bucket *buckets;
    size_t count;
    const pyi_html_stacks *stacks; /* maps top stacks to the page's */
    uint64_t unit;                 /* time unit of wall and on_cpu */
} timeline_columns;

static void put_bucket_column(pyi_html_out *out, const char *key, const timeline_columns *t,
                              int column)
{
    pyi__html_key(out, key, 0);
    pyi__html_put(out, "[");
    for (size_t i = 0; i < t->count && !out->rc; i++) {
        const merged_bucket *b = &t->buckets[i];
        if (i)
            pyi__html_put(out, ",");
        pyi__html_u64(out, column == 0   ? pyi__html_in_unit(b->totals.wall_ns, t->unit)
                           : column == 1 ? pyi__html_in_unit(b->totals.on_cpu_ns, t->unit)
                           : column == 2 ? b->totals.samples
                                         : t->stacks->map[b->top_stack]);
    }
    pyi__html_put(out, "]");
}

/* Writes one thread's timeline object; returns 0 or PYI_E_NOMEM. */
static int write_thread_timeline(pyi_html_out *out, const pyi_model *model,
                                 const pyi_html_stacks *stacks, uint32_t thread, size_t factor,
                                 int first)
{
    size_t count;
    uint64_t width;
    const pyi_timeline_bucket *buckets = pyi_model_timeline(model, thread, &count, &width);
    size_t merged_count = (count + factor - 1) / factor;
    merged_bucket *merged = calloc(merged_count ? merged_count : 1, sizeof(*merged));
    if (!merged)
        return PYI_E_NOMEM;
    size_t begin = 0, end = 0;
    uint64_t gcd = 0;
    for (size_t i = 0; i < merged_count; i++) {
        merged[i] = merge_group(buckets, count, i, factor);
        gcd = pyi__html_gcd(pyi__html_gcd(gcd, merged[i].totals.wall_ns),
                            merged[i].totals.on_cpu_ns);
        if (merged[i].totals.samples) {
            begin = end ? begin : i;
            end = i + 1;
        }
    }
    timeline_columns columns = {merged + begin, end - begin, stacks, pyi__html_time_unit(gcd)};
    pyi__html_put(out, first ? "{\"thread\":" : ",{\"thread\":");
    pyi__html_u64(out, thread);
    pyi__html_key(out, "start_ns", 0);
    pyi__html_u64(out, end ? buckets[begin * factor].start_ns : 0);
    pyi__html_key(out, "bucket_ns", 0);
    pyi__html_u64(out, width * factor);
    pyi__html_key(out, "time_unit_ns", 0);
    pyi__html_u64(out, columns.unit);
    static const char *const KEYS[] = {"wall", "on_cpu", "samples", "top"};
    for (int column = 0; column < 4; column++)
        put_bucket_column(out, KEYS[column], &columns, column);
    pyi__html_put(out, "}");
    free(merged);
    return 0;
}

void pyi__html_timelines(pyi_html_out *out, const pyi_model *model,
                         const pyi_html_stacks *stacks)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    size_t factor = merge_factor(model);
    pyi__html_key(out, "timelines", 0);
    pyi__html_put(out, "[");
    int first = 1;
    for (uint32_t id = 1; id <= info->thread_count && !out->rc; id++) {
        size_t count;
        uint64_t width;
        if (!pyi_model_timeline(model, id, &count, &width) || !count)
            continue;
        int rc = write_thread_timeline(out, model, stacks, id, factor, first);
        if (rc)
            out->rc = rc;
        first = 0;
    }
    pyi__html_put(out, "]");
}
