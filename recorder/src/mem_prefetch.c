/* Round prefetch: read what the last round read in one scatter read, serve the round from the copies. */
/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "mem_reader_internal.h"
#include "pyi/errors.h"

/* ---- Internal --------------------------------------------------------- */

#define PLAN_MAX 4096u              /* ranges prefetched per round */
#define PLAN_BYTES (4u << 20)       /* bytes prefetched per round */
#define SLOTS 16384u                /* hash slots (power of two, > 2 * PLAN_MAX) */
#define GROWTH_MIN 512u             /* a growable range is prefetched this much longer */

typedef struct plan_entry {
    uint64_t addr;
    uint32_t size;   /* bytes read at addr this round (the largest read) */
    uint32_t extent; /* bytes known readable at addr (0 = just size) */
} plan_entry;

struct pyi_mem_prefetch {
    plan_entry *log;        /* this round's successful reads: next round's plan */
    uint32_t *log_slots;    /* addr -> log index + 1 */
    uint32_t log_count;
    plan_entry *plan;       /* last round's log, being served */
    uint32_t plan_count;
    pyi_mem_span *spans;    /* the prefetched copies of this round */
    unsigned char *failed;
    unsigned char *buffer;  /* PLAN_BYTES */
    uint32_t *span_slots;   /* addr -> span index + 1 */
    uint32_t span_count;
    int active;             /* inside a round */
};

static uint32_t hash_addr(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (uint32_t)x & (SLOTS - 1);
}

/* The log entry for addr, or NULL; *slot is where it is or would go. */
static plan_entry *log_find(pyi_mem_prefetch *p, uint64_t addr, uint32_t *slot)
{
    uint32_t h = hash_addr(addr);
    while (p->log_slots[h] != 0 && p->log[p->log_slots[h] - 1].addr != addr)
        h = (h + 1) & (SLOTS - 1);
    *slot = h;
    return p->log_slots[h] ? &p->log[p->log_slots[h] - 1] : NULL;
}

/* How much to prefetch for a logged read: a range that grows (a data stack)
 * gets room to grow within what is known to be readable. */
static uint32_t prefetch_size(const plan_entry *e)
{
    if (e->extent <= e->size)
        return e->size;
    uint32_t growth = e->size / 4 > GROWTH_MIN ? e->size / 4 : GROWTH_MIN;
    uint64_t want = ((uint64_t)e->size + growth + 63) & ~(uint64_t)63;
    return want < e->extent ? (uint32_t)want : e->extent;
}

/* Empties the slots from addr's home to the end of its probe run (every
 * address in the table is being dropped, so clearing neighbours is fine). */
static void slots_clear_from(uint32_t *slots, uint64_t addr)
{
    for (uint32_t h = hash_addr(addr); slots[h] != 0; h = (h + 1) & (SLOTS - 1))
        slots[h] = 0;
}

static void spans_clear(pyi_mem_prefetch *p)
{
    for (uint32_t i = 0; i < p->span_count; i++)
        slots_clear_from(p->span_slots, p->spans[i].addr);
    p->span_count = 0;
}

static void log_clear(pyi_mem_prefetch *p)
{
    for (uint32_t i = 0; i < p->log_count; i++)
        slots_clear_from(p->log_slots, p->log[i].addr);
    p->log_count = 0;
}

/* ---- Public (to recorder/) -------------------------------------------- */

int pyi_mem_prefetch_enable(pyi_mem_reader *m)
{
    if (m->prefetch != NULL)
        return 0;
    pyi_mem_prefetch *p = calloc(1, sizeof *p);
    if (p == NULL)
        return PYI_E_NOMEM;
    p->log = calloc(PLAN_MAX, sizeof *p->log);
    p->plan = calloc(PLAN_MAX, sizeof *p->plan);
    p->log_slots = calloc(SLOTS, sizeof *p->log_slots);
    p->span_slots = calloc(SLOTS, sizeof *p->span_slots);
    p->spans = calloc(PLAN_MAX, sizeof *p->spans);
    p->failed = calloc(PLAN_MAX, 1);
    p->buffer = malloc(PLAN_BYTES);
    m->prefetch = p;
    if (!p->log || !p->plan || !p->log_slots || !p->span_slots || !p->spans || !p->failed ||
        !p->buffer) {
        pyi__prefetch_free(m);
        return PYI_E_NOMEM;
    }
    return 0;
}

void pyi_mem_round_begin(pyi_mem_reader *m)
{
    pyi_mem_prefetch *p = m->prefetch;
    if (p == NULL)
        return;
    plan_entry *swap = p->plan;
    p->plan = p->log;
    p->plan_count = p->log_count;
    log_clear(p);
    p->log = swap;
    size_t used = 0;
    for (uint32_t i = 0; i < p->plan_count; i++) {
        uint32_t size = prefetch_size(&p->plan[i]);
        if (size > PLAN_BYTES - used)
            continue;
        uint32_t h = hash_addr(p->plan[i].addr);
        while (p->span_slots[h] != 0)
            h = (h + 1) & (SLOTS - 1);
        p->spans[p->span_count] = (pyi_mem_span){p->plan[i].addr, p->buffer + used, size};
        p->span_slots[h] = ++p->span_count;
        used += size;
    }
    /* Failed spans are simply not served; the rest of the round reads them. */
    if (p->span_count > 0 &&
        pyi__mem_read_spans_raw(m, p->spans, p->span_count, p->failed) == PYI_MEM_GONE)
        memset(p->failed, 1, p->span_count);
    p->active = 1;
}

void pyi_mem_round_end(pyi_mem_reader *m)
{
    pyi_mem_prefetch *p = m->prefetch;
    if (p == NULL)
        return;
    p->active = 0;
    spans_clear(p);
}

void pyi_mem_note_extent(pyi_mem_reader *m, uint64_t addr, uint64_t extent)
{
    pyi_mem_prefetch *p = m->prefetch;
    uint32_t slot;
    plan_entry *e = p != NULL ? log_find(p, addr, &slot) : NULL;
    if (e != NULL)
        e->extent = extent > UINT32_MAX ? UINT32_MAX : (uint32_t)extent;
}

int pyi__prefetch_lookup(pyi_mem_reader *m, uint64_t addr, void *dst, size_t size)
{
    pyi_mem_prefetch *p = m->prefetch;
    if (p == NULL || !p->active)
        return 0;
    uint32_t h = hash_addr(addr), k;
    while ((k = p->span_slots[h]) != 0 && p->spans[k - 1].addr != addr)
        h = (h + 1) & (SLOTS - 1);
    if (k == 0 || p->failed[k - 1] || size > p->spans[k - 1].size)
        return 0;
    memcpy(dst, p->spans[k - 1].dst, size);
    m->prefetch_hits++;
    pyi__prefetch_log(m, addr, size);
    return 1;
}

void pyi__prefetch_log(pyi_mem_reader *m, uint64_t addr, size_t size)
{
    pyi_mem_prefetch *p = m->prefetch;
    if (p == NULL || !p->active || size > PLAN_BYTES)
        return;
    uint32_t slot;
    plan_entry *e = log_find(p, addr, &slot);
    if (e != NULL) {
        if (size > e->size)
            e->size = (uint32_t)size;
        return;
    }
    if (p->log_count == PLAN_MAX)
        return;
    p->log[p->log_count] = (plan_entry){addr, (uint32_t)size, 0};
    p->log_slots[slot] = ++p->log_count;
}

void pyi__prefetch_free(pyi_mem_reader *m)
{
    pyi_mem_prefetch *p = m->prefetch;
    if (p == NULL)
        return;
    free(p->log);
    free(p->plan);
    free(p->log_slots);
    free(p->span_slots);
    free(p->spans);
    free(p->failed);
    free(p->buffer);
    free(p);
    m->prefetch = NULL;
}
