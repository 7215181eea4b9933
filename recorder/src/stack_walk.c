/* Walks interpreters -> thread states -> frame chains through fault-safe reads. */
/* SPDX-License-Identifier: MIT */
#include "stack_walk_internal.h"

#include <stdlib.h>
#include <string.h>

#include "pyi/errors.h"

/* ---- Internal --------------------------------------------------------- */

#define MAX_STRUCT_COPY 512 /* largest interp/tstate/frame prefix we copy */

static uint64_t field_u64(const unsigned char *base, int32_t offset)
{
    uint64_t v;
    memcpy(&v, base + offset, sizeof v);
    return v;
}

static int32_t field_i32(const unsigned char *base, int32_t offset)
{
    int32_t v;
    memcpy(&v, base + offset, sizeof v);
    return v;
}

/* ---- 3.11+ data stack copies ---- */

static void chunks_reset(pyi_walker *w)
{
    w->chunk_count = 0;
    w->chunk_used = 0;
    w->next_chunk = 0;
}

/* Copies [start, end) of the remote data stack into the buffer. */
static int chunk_copy(pyi_walker *w, uint64_t start, uint64_t end)
{
    size_t size = (size_t)(end - start);
    if (end <= start || w->chunk_count == PYI_WALK_MAX_CHUNKS ||
        size > PYI_WALK_CHUNK_BUFFER - w->chunk_used)
        return -1;
    if (pyi_mem_read(w->mem, start, w->chunk_buffer + w->chunk_used, size) != 0)
        return -1;
    w->chunks[w->chunk_count].start = start;
    w->chunks[w->chunk_count].end = end;
    w->chunks[w->chunk_count].offset = w->chunk_used;
    w->chunk_count++;
    w->chunk_used += size;
    return 0;
}

/* Copies the used part of the thread's current chunk; remembers the previous one. */
static void chunks_start(pyi_walker *w, const unsigned char *tstate)
{
    const pyi_py_layout *l = w->layout;
    chunks_reset(w);
    if (l->tstate_datastack_chunk < 0 || l->tstate_datastack_top < 0)
        return;
    uint64_t chunk = field_u64(tstate, l->tstate_datastack_chunk);
    uint64_t top = field_u64(tstate, l->tstate_datastack_top);
    if (chunk == 0 || top <= chunk || top - chunk > PYI_WALK_CHUNK_BUFFER)
        return;
    if (chunk_copy(w, chunk, top) == 0) {
        w->next_chunk = field_u64(w->chunk_buffer, l->chunk_previous);
        /* The whole chunk is one allocation: the next round may copy more of it. */
        uint64_t size = field_u64(w->chunk_buffer, l->chunk_size);
        if (size >= top - chunk && size <= PYI_WALK_CHUNK_BUFFER)
            pyi_mem_note_extent(w->mem, chunk, size);
    }
}

/* Copies the next older chunk (header first: its saved top says how much is used). */
static int chunks_extend(pyi_walker *w)
{
    const pyi_py_layout *l = w->layout;
    uint64_t chunk = w->next_chunk;
    unsigned char header[32];
    w->next_chunk = 0;
    if (chunk == 0 || pyi_mem_read(w->mem, chunk, header, (size_t)l->chunk_data) != 0)
        return -1;
    uint64_t used = field_u64(header, l->chunk_top);
    uint64_t size = field_u64(header, l->chunk_size);
    if (used > size / 8 || size > PYI_WALK_CHUNK_BUFFER)
        return -1;
    if (chunk_copy(w, chunk, chunk + (uint64_t)l->chunk_data + used * 8) != 0)
        return -1;
    w->next_chunk = field_u64(header, l->chunk_previous);
    return 0;
}

/* ---- Frame chains remembered between walks ---- */

static uint32_t hash_address(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

static pyi_chain_memo *memo_for(pyi_walker *w, uint64_t tstate)
{
    pyi_chain_memo *oldest = &w->memos[0];
    for (int i = 0; i < PYI_WALK_MEMOS; i++) {
        if (w->memos[i].tstate == tstate)
            return &w->memos[i];
        if (w->memos[i].last_use < oldest->last_use)
            oldest = &w->memos[i];
    }
    oldest->tstate = tstate;
    oldest->count = 0;
    return oldest;
}

static int inside_chunks(const pyi_walker *w, uint64_t addr, size_t size)
{
    for (unsigned i = 0; i < w->chunk_count; i++)
        if (addr >= w->chunks[i].start && addr < w->chunks[i].end &&
            size <= w->chunks[i].end - addr)
            return 1;
    return 0;
}

/* Reads, in one scatter read, the frames the thread had last time that the
 * data-stack copies do not already hold. */
static void prefetch_start(pyi_walker *w, uint64_t tstate)
{
    size_t size = w->layout->frame_read_size;
    w->memo = memo_for(w, tstate);
    w->memo->last_use = ++w->walks;
    w->prefetch_count = 0;
    for (uint32_t i = 0; i < w->memo->count && w->prefetch_count < w->max_depth; i++) {
        uint64_t addr = w->memo->frames[i];
        if (addr == 0 || (addr & 7) || inside_chunks(w, addr, size))
            continue;
        uint32_t n = w->prefetch_count++;
        w->prefetch_spans[n] = (pyi_mem_span){addr, w->prefetched + (size_t)n * size, size};
        uint32_t h = hash_address(addr) & w->prefetch_mask;
        while (w->prefetch_slots[h] != 0)
            h = (h + 1) & w->prefetch_mask;
        w->prefetch_slots[h] = n + 1;
    }
    if (w->prefetch_count > 0 &&
        pyi_mem_read_spans(w->mem, w->prefetch_spans, w->prefetch_count,
                           w->prefetch_failed) == PYI_MEM_GONE)
        memset(w->prefetch_failed, 1, w->prefetch_count);
}

static const unsigned char *prefetched_copy(const pyi_walker *w, uint64_t addr)
{
    if (w->prefetch_count == 0)
        return NULL;
    uint32_t h = hash_address(addr) & w->prefetch_mask;
    for (uint32_t slot; (slot = w->prefetch_slots[h]) != 0; h = (h + 1) & w->prefetch_mask)
        if (w->prefetch_spans[slot - 1].addr == addr)
            return w->prefetch_failed[slot - 1] ? NULL : w->prefetch_spans[slot - 1].dst;
    return NULL;
}

/* Remembers this walk's chain and clears the prefetch index. */
static void prefetch_finish(pyi_walker *w, uint32_t depth)
{
    for (uint32_t i = 0; i < w->prefetch_count; i++) {
        uint32_t h = hash_address(w->prefetch_spans[i].addr) & w->prefetch_mask;
        while (w->prefetch_slots[h] != 0)
            w->prefetch_slots[h] = 0, h = (h + 1) & w->prefetch_mask;
    }
    w->prefetch_count = 0;
    pyi_chain_memo *m = w->memo;
    w->memo = NULL;
    if (m == NULL)
        return;
    if (depth > m->capacity) {
        /* Grows only when a thread's stack gets deeper than ever before. */
        uint64_t *frames = realloc(m->frames, depth * sizeof *frames);
        if (frames == NULL) {
            m->count = 0;
            return;
        }
        m->frames = frames;
        m->capacity = depth;
    }
    for (uint32_t i = 0; i < depth; i++)
        m->frames[i] = w->frames[i].address;
    m->count = depth;
}

/* Reads a frame from the chunk copies when it lies inside one, else directly. */
static int frame_read(pyi_walker *w, uint64_t addr, unsigned char *out, size_t size)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        for (unsigned i = 0; i < w->chunk_count; i++) {
            /* addr is untrusted: written so that no sum can wrap around. */
            if (addr >= w->chunks[i].start && addr < w->chunks[i].end &&
                size <= w->chunks[i].end - addr) {
                memcpy(out, w->chunk_buffer + w->chunks[i].offset + (addr - w->chunks[i].start),
                       size);
                return 0;
            }
        }
        /* Frames below the copied chunks live in older chunks; generator frames
         * live on the heap and miss every chunk. */
        if (attempt == 0 && (w->next_chunk == 0 || chunks_extend(w) != 0))
            break;
    }
    const unsigned char *copy = prefetched_copy(w, addr);
    if (copy != NULL) {
        w->prefetch_hits++;
        memcpy(out, copy, size);
        return 0;
    }
    w->frame_reads++;
    return pyi_mem_read(w->mem, addr, out, size);
}

/* ---- Frame chains ---- */

/* Decodes one copied frame into raw; returns its caller's address. */
static uint64_t frame_decode(const pyi_py_layout *l, const unsigned char *buf, uint64_t addr,
                             pyi_raw_frame *raw)
{
    raw->address = addr;
    raw->code = field_u64(buf, l->frame_code);
    raw->owner = l->frame_owner >= 0 ? buf[l->frame_owner] : 0;
    switch (l->instr_kind) {
    case PYI_INSTR_LASTI_BYTES: {
        int32_t lasti = field_i32(buf, l->frame_instr);
        raw->lasti = lasti < 0 ? -1 : lasti / 2;
        break;
    }
    case PYI_INSTR_LASTI_UNITS:
        raw->lasti = field_i32(buf, l->frame_instr);
        if (raw->lasti < 0)
            raw->lasti = -1;
        break;
    default: {
        /* Pointer into the code object's inline bytecode; -1 = not started. */
        int64_t delta = (int64_t)(field_u64(buf, l->frame_instr) -
                                  (raw->code + (uint64_t)l->code_code_adaptive));
        raw->lasti = delta < -2 || delta > (int64_t)INT32_MAX ? INT32_MIN : (int32_t)(delta / 2);
        break;
    }
    }
    return field_u64(buf, l->frame_previous);
}

static int frames_contain(const pyi_raw_frame *frames, uint32_t count, uint64_t addr)
{
    for (uint32_t i = 0; i < count; i++)
        if (frames[i].address == addr)
            return 1;
    return 0;
}

/* Walks the chain from frame into w->frames, innermost first. */
static int walk_frames(pyi_walker *w, uint64_t frame, pyi_thread_snapshot *snap)
{
    const pyi_py_layout *l = w->layout;
    unsigned char buf[MAX_STRUCT_COPY];
    uint32_t depth = 0;
    while (frame != 0) {
        /* Frames are 8-byte aligned: anything else is a torn or stale read
         * (on 3.11/3.12 the current frame is reached through a C stack). */
        if (frame & 7)
            return PYI_WALK_BAD_FRAME;
        if (depth == w->max_depth) {
            /* A loop looks like an endless stack: tell the two apart. */
            if (frames_contain(w->frames, depth, frame))
                return PYI_WALK_CYCLE;
            snap->truncated = 1;
            break;
        }
        if (frame_read(w, frame, buf, l->frame_read_size) != 0)
            return PYI_WALK_BAD_FRAME;
        pyi_raw_frame *raw = &w->frames[depth];
        uint64_t previous = frame_decode(l, buf, frame, raw);
        if (previous == frame)
            return PYI_WALK_CYCLE;
        /* 3.12+: C-stack shim frames (entry points) are not Python code. */
        int shown = l->minor < 12 || raw->owner != PYI_FRAME_OWNED_BY_CSTACK;
        if (shown && (raw->lasti == INT32_MIN || raw->code == 0 || (raw->code & 7)))
            return PYI_WALK_BAD_FRAME;
        depth += shown;
        frame = previous;
    }
    snap->depth = depth;
    return PYI_WALK_OK;
}

/* The thread's innermost frame: tstate->frame, ->cframe->current_frame or ->current_frame. */
static int top_frame(pyi_walker *w, const unsigned char *tstate, uint64_t *frame)
{
    const pyi_py_layout *l = w->layout;
    uint64_t value = field_u64(tstate, l->tstate_frame);
    if (l->cframe_current_frame >= 0) {
        if (value == 0) {
            *frame = 0;
            return 0;
        }
        if (pyi_mem_read_u64(w->mem, value + (uint64_t)l->cframe_current_frame, &value) != 0)
            return -1;
    }
    *frame = value;
    return 0;
}

static uint64_t native_id_of(pyi_walker *w, const unsigned char *tstate, uint64_t thread_id)
{
    const pyi_py_layout *l = w->layout;
    if (l->tstate_native_thread_id >= 0)
        return field_u64(tstate, l->tstate_native_thread_id);
    uint32_t tid = 0;
    if (w->pthread_tid_offset < 0 || thread_id == 0 ||
        pyi_mem_read(w->mem, thread_id + (uint64_t)w->pthread_tid_offset, &tid, sizeof tid) != 0)
        return 0;
    return tid;
}

/* ---- Interpreters and threads ---- */

typedef struct interp_state {
    uint64_t address;
    int64_t id;
    uint64_t gil_holder; /* thread state holding the GIL, 0 = none */
    int gil_known;
    int gc_running;
} interp_state;

static int thread_snapshot(pyi_walker *w, const interp_state *interp, uint64_t tstate_addr,
                           pyi_thread_snapshot *snap, uint64_t *next)
{
    const pyi_py_layout *l = w->layout;
    unsigned char tstate[MAX_STRUCT_COPY];
    memset(snap, 0, sizeof *snap);
    snap->tstate = tstate_addr;
    snap->interp = interp->address;
    snap->interp_id = interp->id;
    snap->gc_running = interp->gc_running;
    snap->holds_gil = interp->gil_known ? interp->gil_holder == tstate_addr : -1;
    snap->frames = w->frames;
    if (pyi_mem_read(w->mem, tstate_addr, tstate, l->tstate_read_size) != 0 ||
        field_u64(tstate, l->tstate_interp) != interp->address) {
        snap->error = PYI_WALK_BAD_THREAD;
        *next = 0;
        return 0;
    }
    *next = field_u64(tstate, l->tstate_next);
    snap->thread_id = field_u64(tstate, l->tstate_thread_id);
    snap->native_id = native_id_of(w, tstate, snap->thread_id);
    if ((w->only_thread != 0 && snap->thread_id != w->only_thread) ||
        (w->only_native_id != 0 && snap->native_id != w->only_native_id))
        return 1; /* not selected: the caller skips it */
    uint64_t frame;
    if (top_frame(w, tstate, &frame) != 0) {
        snap->error = PYI_WALK_BAD_THREAD;
        return 0;
    }
    chunks_start(w, tstate);
    prefetch_start(w, tstate_addr);
    snap->error = walk_frames(w, frame, snap);
    prefetch_finish(w, snap->error == PYI_WALK_OK ? snap->depth : 0);
    return 0;
}

/* The GIL holder from a 3.12+ _gil_runtime_state: last_holder while locked. */
static void gil_read(pyi_walker *w, uint64_t gil, interp_state *out)
{
    const pyi_py_layout *l = w->layout;
    unsigned char buf[64];
    int32_t span = (l->gil_locked > l->gil_last_holder ? l->gil_locked + 4
                                                       : l->gil_last_holder + 8);
    if (gil == 0 || span > (int32_t)sizeof buf || pyi_mem_read(w->mem, gil, buf, (size_t)span) != 0)
        return;
    out->gil_holder = field_i32(buf, l->gil_locked) ? field_u64(buf, l->gil_last_holder) : 0;
    out->gil_known = 1;
}

/* Reads what one round needs to know about an interpreter: one scatter read
 * of its scattered fields (3.13 keeps them kilobytes apart), plus the GIL. */
static int interp_read(pyi_walker *w, uint64_t addr, uint64_t runtime_gil_holder,
                       int runtime_gc, interp_state *out, uint64_t *threads, uint64_t *next)
{
    const pyi_py_layout *l = w->layout;
    uint64_t head = 0, next_interp = 0, id = 0, gil = 0;
    int32_t collecting = 0;
    pyi_mem_span spans[5] = {
        {addr + (uint64_t)l->interp_threads_head, &head, 8},
        {addr + (uint64_t)l->interp_next, &next_interp, 8},
        {addr + (uint64_t)l->interp_id, &id, 8},
    };
    size_t count = 3;
    if (l->interp_gc >= 0)
        spans[count++] = (pyi_mem_span){addr + (uint64_t)(l->interp_gc + l->gc_collecting),
                                        &collecting, 4};
    if (l->interp_gil >= 0)
        spans[count++] = (pyi_mem_span){addr + (uint64_t)l->interp_gil, &gil, 8};
    if (pyi_mem_read_spans(w->mem, spans, count, NULL) != 0)
        return -1;
    memset(out, 0, sizeof *out);
    out->address = addr;
    out->id = (int64_t)id;
    out->gc_running = runtime_gc >= 0 ? runtime_gc : l->interp_gc >= 0 ? collecting != 0 : -1;
    if (l->runtime_gil_current >= 0) {
        out->gil_holder = runtime_gil_holder;
        out->gil_known = 1;
    } else if (l->interp_gil >= 0) {
        gil_read(w, gil, out);
    }
    *threads = head;
    *next = next_interp;
    return 0;
}

static int walk_interp(pyi_walker *w, const interp_state *interp, uint64_t tstate,
                       pyi_walk_fn fn, void *ctx)
{
    pyi_thread_snapshot snap;
    for (int count = 0; tstate != 0 && count < PYI_WALK_MAX_THREADS; count++) {
        uint64_t next;
        if (thread_snapshot(w, interp, tstate, &snap, &next) == 0) {
            int rc = fn(ctx, &snap);
            if (rc != 0)
                return rc;
        }
        tstate = next;
    }
    return 0;
}

/* ---- Public (to recorder/) -------------------------------------------- */

int pyi_walker_init(pyi_walker *w, pyi_mem_reader *mem, const pyi_py_layout *layout,
                    uint64_t runtime, uint32_t max_depth)
{
    memset(w, 0, sizeof *w);
    w->mem = mem;
    w->layout = layout;
    w->runtime = runtime;
    w->max_depth = max_depth ? max_depth : 1;
    w->pthread_tid_offset = -1;
    w->frames = calloc(w->max_depth, sizeof *w->frames);
    w->chunk_buffer = malloc(PYI_WALK_CHUNK_BUFFER);
    uint32_t slots = 1;
    while (slots < 2 * w->max_depth)
        slots <<= 1;
    w->prefetch_mask = slots - 1;
    w->prefetch_slots = calloc(slots, sizeof *w->prefetch_slots);
    w->prefetched = malloc((size_t)w->max_depth * layout->frame_read_size);
    w->prefetch_spans = calloc(w->max_depth, sizeof *w->prefetch_spans);
    w->prefetch_failed = calloc(w->max_depth, 1);
    if (w->frames == NULL || w->chunk_buffer == NULL || w->prefetch_slots == NULL ||
        w->prefetched == NULL || w->prefetch_spans == NULL || w->prefetch_failed == NULL) {
        pyi_walker_destroy(w);
        return PYI_E_NOMEM;
    }
    return 0;
}

void pyi_walker_destroy(pyi_walker *w)
{
    free(w->frames);
    free(w->chunk_buffer);
    free(w->prefetch_slots);
    free(w->prefetched);
    free(w->prefetch_spans);
    free(w->prefetch_failed);
    for (int i = 0; i < PYI_WALK_MEMOS; i++)
        free(w->memos[i].frames);
    memset(w->memos, 0, sizeof w->memos);
    w->frames = NULL;
    w->chunk_buffer = NULL;
    w->prefetch_slots = NULL;
    w->prefetched = NULL;
    w->prefetch_spans = NULL;
    w->prefetch_failed = NULL;
}

int pyi_walker_walk(pyi_walker *w, pyi_walk_fn fn, void *ctx)
{
    const pyi_py_layout *l = w->layout;
    uint64_t interp_addr = 0, gil_holder = 0;
    int32_t gc_collecting = 0;
    pyi_mem_span spans[3] = {
        {w->runtime + (uint64_t)l->runtime_interpreters_head, &interp_addr, 8},
    };
    size_t count = 1;
    if (l->runtime_gil_current >= 0)
        spans[count++] = (pyi_mem_span){w->runtime + (uint64_t)l->runtime_gil_current,
                                        &gil_holder, 8};
    if (l->runtime_gc >= 0)
        spans[count++] = (pyi_mem_span){
            w->runtime + (uint64_t)(l->runtime_gc + l->gc_collecting), &gc_collecting, 4};
    int rc = pyi_mem_read_spans(w->mem, spans, count, NULL);
    if (rc != 0)
        return rc == PYI_MEM_GONE ? rc : -1;
    int runtime_gc = l->runtime_gc >= 0 ? gc_collecting != 0 : -1;
    for (int n = 0; interp_addr != 0 && n < PYI_WALK_MAX_INTERPRETERS; n++) {
        interp_state interp;
        uint64_t threads, next;
        if (interp_read(w, interp_addr, gil_holder, runtime_gc, &interp, &threads, &next) != 0)
            return -1;
        rc = walk_interp(w, &interp, threads, fn, ctx);
        if (rc != 0)
            return rc;
        interp_addr = next;
    }
    return 0;
}

int32_t pyi_walker_find_tid_offset(pyi_mem_reader *mem, uint64_t pthread_address,
                                   uint32_t expected_tid)
{
    uint32_t words[1024];
    if (pthread_address == 0 || pyi_mem_read(mem, pthread_address, words, sizeof words) != 0)
        return -1;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (words[i] == expected_tid)
            return (int32_t)(i * sizeof words[0]);
    return -1;
}

#define TID_SCAN_WORDS 1024 /* struct pthread is about 2.3 KiB in glibc 2.36 */
#define TID_SCAN_THREADS 64
#define GLIBC_X86_64_TID_OFFSET 0x2d0

static int tid_listed(const uint64_t *tids, size_t count, uint32_t value)
{
    for (size_t i = 0; i < count; i++)
        if (tids[i] == value)
            return 1;
    return 0;
}

/* Whether words[k][word] is a distinct listed id for every thread k, main_tid among them. */
static int tid_offset_fits(uint32_t (*words)[TID_SCAN_WORDS], size_t count, size_t word,
                           const uint64_t *tids, size_t tid_count, uint64_t main_tid)
{
    int has_main = 0;
    for (size_t k = 0; k < count; k++) {
        uint32_t v = words[k][word];
        if (v == 0 || !tid_listed(tids, tid_count, v))
            return 0;
        for (size_t j = 0; j < k; j++)
            if (words[j][word] == v)
                return 0;
        has_main |= v == main_tid;
    }
    return has_main;
}

int32_t pyi_walker_learn_tid_offset(pyi_mem_reader *mem, const uint64_t *pthreads, size_t count,
                                    const uint64_t *tids, size_t tid_count, uint64_t main_tid)
{
    uint32_t(*words)[TID_SCAN_WORDS] = calloc(TID_SCAN_THREADS, sizeof *words);
    if (words == NULL)
        return -1;
    size_t readable = 0;
    for (size_t i = 0; i < count && readable < TID_SCAN_THREADS; i++)
        if (pthreads[i] != 0 &&
            pyi_mem_read(mem, pthreads[i], words[readable], sizeof words[readable]) == 0)
            readable++;
    int32_t found = -1;
    if (readable > 0 && tid_offset_fits(words, readable, GLIBC_X86_64_TID_OFFSET / 4, tids,
                                        tid_count, main_tid))
        found = GLIBC_X86_64_TID_OFFSET;
    for (size_t word = 0; found < 0 && readable > 0 && word < TID_SCAN_WORDS; word++)
        if (tid_offset_fits(words, readable, word, tids, tid_count, main_tid))
            found = (int32_t)(word * 4);
    free(words);
    return found;
}
