/* SPDX-License-Identifier: MIT */
/*
 * Downsampled time axis per thread: a bounded number of fixed-width buckets
 * from the thread's first sample. When a sample falls past the last bucket the
 * buckets merge pairwise and the width doubles, so memory stays bounded
 * whatever the recording's length, and short-lived threads use few buckets.
 * Each bucket tracks its heaviest stack with a weighted majority vote (one
 * candidate and a counter): exact when one stack has most of the bucket's
 * weight, which is what a timeline needs to draw.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/* Weighted Boyer-Moore vote: the candidate survives unless outweighed. */
static void vote(pyi_timeline_bucket *b, uint32_t stack, uint64_t weight)
{
    if (b->top_stack == stack || b->top_wall_ns == 0) {
        b->top_stack = stack;
        b->top_wall_ns += weight;
    } else if (b->top_wall_ns >= weight) {
        b->top_wall_ns -= weight;
    } else {
        b->top_stack = stack;
        b->top_wall_ns = weight - b->top_wall_ns;
    }
}

static void merge_into(pyi_timeline_bucket *to, const pyi_timeline_bucket *a,
                       const pyi_timeline_bucket *b)
{
    pyi_timeline_bucket out = *a;
    pyi_metrics_add(&out.totals, &b->totals);
    if (b->top_wall_ns)
        vote(&out, b->top_stack, b->top_wall_ns);
    *to = out;
}

/* Doubles the width: pairs of buckets merge. The origin moves down to a
 * multiple of the new width, so bucket boundaries stay aligned across threads. */
static void halve(pyi__thread_timeline *t)
{
    uint64_t width = t->width_ns * 2;
    size_t shift = t->origin_ns % width ? 1 : 0; /* an empty bucket in front */
    size_t n = 0;
    for (size_t i = 0; i < t->count + shift; i += 2) {
        pyi_timeline_bucket empty = {0};
        const pyi_timeline_bucket *a = i >= shift ? &t->buckets[i - shift] : &empty;
        if (i + 1 < t->count + shift)
            merge_into(&t->buckets[n], a, &t->buckets[i + 1 - shift]);
        else
            t->buckets[n] = *a;
        n++;
    }
    t->origin_ns -= shift * t->width_ns;
    t->width_ns = width;
    for (size_t i = 0; i < n; i++)
        t->buckets[i].start_ns = t->origin_ns + (uint64_t)i * width;
    memset(t->buckets + n, 0, (t->count - n) * sizeof(*t->buckets));
    t->count = n;
}

static int ensure_buckets(pyi__thread_timeline *t, size_t need, uint32_t max_buckets)
{
    if (need <= t->capacity)
        return 0;
    size_t capacity = t->capacity ? t->capacity : 16;
    while (capacity < need)
        capacity *= 2;
    if (capacity > max_buckets)
        capacity = max_buckets;
    pyi_timeline_bucket *grown = realloc(t->buckets, capacity * sizeof(*grown));
    if (!grown)
        return -1;
    memset(grown + t->capacity, 0, (capacity - t->capacity) * sizeof(*grown));
    t->buckets = grown;
    t->capacity = capacity;
    return 0;
}

int pyi__timeline_add(pyi__thread_timeline *t, uint32_t max_buckets, uint64_t first_width_ns,
                      uint64_t time_ns, uint32_t stack, const pyi_metrics *sample)
{
    if (!t->width_ns) {
        t->width_ns = first_width_ns ? first_width_ns : 1000000;
        t->origin_ns = time_ns - time_ns % t->width_ns; /* short threads: few buckets */
    }
    if (time_ns < t->origin_ns)
        time_ns = t->origin_ns; /* samples of a thread come in time order; clamp if not */
    uint64_t index = (time_ns - t->origin_ns) / t->width_ns;
    while (index >= max_buckets) {
        halve(t);
        index = (time_ns - t->origin_ns) / t->width_ns;
    }
    if (ensure_buckets(t, (size_t)index + 1, max_buckets))
        return -1;
    while (t->count <= index) {
        t->buckets[t->count].start_ns = t->origin_ns + (uint64_t)t->count * t->width_ns;
        t->count++;
    }
    pyi_timeline_bucket *b = &t->buckets[index];
    pyi_metrics_add(&b->totals, sample);
    vote(b, stack, sample->wall_ns ? sample->wall_ns : 1);
    return 0;
}

void pyi__timeline_destroy(pyi__thread_timeline *t)
{
    free(t->buckets);
    memset(t, 0, sizeof(*t));
}

const pyi_timeline_bucket *pyi_model_timeline(const pyi_model *m, uint32_t thread,
                                              size_t *count, uint64_t *bucket_ns)
{
    *count = 0;
    if (bucket_ns)
        *bucket_ns = 0;
    if (!thread || thread > m->thread_count || !m->timelines[thread - 1].count)
        return NULL;
    const pyi__thread_timeline *t = &m->timelines[thread - 1];
    *count = t->count;
    if (bucket_ns)
        *bucket_ns = t->width_ns;
    return t->buckets;
}
