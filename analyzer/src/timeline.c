/* SPDX-License-Identifier: MIT */
/*
 * Downsampled time axis per thread: a bounded number of fixed-width buckets.
 * When a sample falls past the last bucket the buckets merge pairwise and the
 * width doubles, so memory stays bounded whatever the recording's length.
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

static void halve(pyi__thread_timeline *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->count; i += 2) {
        if (i + 1 < t->count)
            merge_into(&t->buckets[n], &t->buckets[i], &t->buckets[i + 1]);
        else
            t->buckets[n] = t->buckets[i];
        n++;
    }
    t->width_ns *= 2;
    for (size_t i = 0; i < n; i++)
        t->buckets[i].start_ns = (uint64_t)i * t->width_ns;
    memset(t->buckets + n, 0, (t->count - n) * sizeof(*t->buckets));
    t->count = n;
}

int pyi__timeline_add(pyi__thread_timeline *t, uint32_t max_buckets, uint64_t first_width_ns,
                      uint64_t time_ns, uint32_t stack, const pyi_metrics *sample)
{
    if (!t->buckets) {
        t->buckets = calloc(max_buckets, sizeof(*t->buckets));
        if (!t->buckets)
            return -1;
        t->width_ns = first_width_ns ? first_width_ns : 1000000;
    }
    uint64_t index = time_ns / t->width_ns;
    while (index >= max_buckets) {
        halve(t);
        index = time_ns / t->width_ns;
    }
    while (t->count <= index) {
        t->buckets[t->count].start_ns = (uint64_t)t->count * t->width_ns;
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
