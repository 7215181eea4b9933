/* SPDX-License-Identifier: MIT */
/*
 * The trace reader: walks the frames of a file (spec §3), decompresses and
 * checks each chunk, checks the index (spec §6), and hands records out one at
 * a time. Damage stops a strict reader and is skipped by a salvaging one
 * (spec §8); a file cut inside a frame ends normally, flagged truncated.
 */
#define _POSIX_C_SOURCE 200809L
#include "reader_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DAMAGE_NOTES 64

/* ---- Errors and damage ---- */

static void format_detail(pyi_reader *r, const char *fmt, va_list ap)
{
    int n = snprintf(r->detail, sizeof(r->detail), "%s: ", r->name ? r->name : "trace");
    if (n > 0 && (size_t)n < sizeof(r->detail))
        vsnprintf(r->detail + n, sizeof(r->detail) - (size_t)n, fmt, ap);
}

int pyi__reader_fail(pyi_reader *r, int error, const char *fmt, ...)
{
    if (r->error)
        return r->error;
    va_list ap;
    va_start(ap, fmt);
    format_detail(r, fmt, ap);
    va_end(ap);
    r->error = error;
    r->in_chunk = 0;
    return error;
}

static void note_damage(pyi_reader *r, const char *message)
{
    if (r->damage_count >= MAX_DAMAGE_NOTES)
        return;
    void *notes = r->damage;
    if (pyi__grow(r->allocator, &notes, &r->damage_capacity, r->damage_count + 1,
                  sizeof(char *)))
        return; /* the counters still say what happened */
    r->damage = notes;
    char *copy = pyi__arena_strdup(&r->arena, message, strlen(message));
    if (copy)
        r->damage[r->damage_count++] = copy;
}

int pyi__reader_damage(pyi_reader *r, uint64_t offset, uint64_t size, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (!r->options.salvage)
        return pyi__reader_fail(r, PYI_E_CORRUPT, "offset %" PRIu64 ": %s", offset, what);
    char note[480];
    snprintf(note, sizeof(note), "offset %" PRIu64 ": %s (%" PRIu64 " bytes skipped)", offset,
             what, size);
    note_damage(r, note);
    r->stats.damaged++;
    r->stats.bytes_skipped += size;
    r->in_chunk = 0;
    return PYI_OK;
}

/* ---- Frames ---- */

static int is_skippable(uint32_t magic)
{
    return (magic & PYI_SKIPPABLE_MASK) == PYI_SKIPPABLE_BASE;
}

/* Non-zero when the n < 8 bytes at p can begin a frame (spec §8: a file
 * ending in the first bytes of a magic was cut, anything else is damage). */
static int starts_a_magic(const uint8_t *p, size_t n)
{
    static const uint8_t zstd[4] = {0x28, 0xB5, 0x2F, 0xFD};
    static const uint8_t skippable[3] = {0x2A, 0x4D, 0x18}; /* after 0x50..0x5F */
    size_t k = n < 4 ? n : 4;
    if (!memcmp(p, zstd, k))
        return 1;
    return (p[0] & 0xF0) == 0x50 && !memcmp(p + 1, skippable, k - 1);
}

static int resync(pyi_reader *r);

/* The file ends inside a frame: deliver what came before (spec §8). */
static int truncated_tail(pyi_reader *r)
{
    /* salvage: a magic met while resynchronising that runs off the end is no
     * frame at all: keep searching after it (spec §8 rule 1) */
    if (r->resyncing)
        return resync(r);
    uint64_t left = pyi__input_available(&r->in);
    char note[160];
    snprintf(note, sizeof(note), "offset %" PRIu64 ": the file ends inside a frame (%" PRIu64
             " bytes ignored)", r->in.offset, left);
    note_damage(r, note);
    r->stats.truncated = 1;
    r->stats.bytes_skipped += left;
    pyi__input_consume(&r->in, (size_t)left);
    r->finished = 1;
    return PYI_OK;
}

/* Salvage: finds the next offset where a frame magic starts, after a bad one. */
static int resync(pyi_reader *r)
{
    pyi_input *in = &r->in;
    uint64_t start = in->offset;
    pyi__input_consume(in, 1);
    r->resyncing = 1;
    for (;;) {
        if (pyi__input_ensure(in, 4))
            return pyi__reader_fail(r, PYI_E_IO, "cannot read: %s", strerror(errno));
        size_t avail = pyi__input_available(in);
        if (avail < 4) {
            pyi__input_consume(in, avail);
            break;
        }
        const uint8_t *p = pyi__input_data(in);
        size_t i = 0;
        for (; i + 4 <= avail; i++) {
            uint32_t magic = pyi__le32(p + i);
            if (magic == PYI_ZSTD_MAGIC || is_skippable(magic))
                break;
        }
        pyi__input_consume(in, i);
        if (i + 4 <= avail)
            break;
    }
    r->stats.bytes_skipped += in->offset - start;
    return PYI_OK;
}

/* A frame that cannot be delimited: strict readers stop, salvage resyncs. */
static int bad_framing(pyi_reader *r, const char *what)
{
    uint64_t offset = r->in.offset;
    if (!r->options.salvage)
        return pyi__reader_fail(r, PYI_E_CORRUPT, "offset %" PRIu64 ": %s", offset, what);
    char note[256];
    snprintf(note, sizeof(note), "offset %" PRIu64 ": %s", offset, what);
    note_damage(r, note);
    r->stats.chunks_damaged++;
    r->stats.damaged++;
    return resync(r);
}

static int remember_frame(pyi_reader *r, uint64_t offset, uint64_t size, uint64_t content_size)
{
    void *frames = r->frames;
    if (pyi__grow(r->allocator, &frames, &r->frames_capacity, r->frames_seen + 1,
                  sizeof(*r->frames)))
        return pyi__reader_fail(r, PYI_E_NOMEM, "out of memory");
    r->frames = frames;
    pyi_frame_seen f = {offset, size, content_size};
    r->frames[r->frames_seen++] = f;
    return PYI_OK;
}

/* Checks the index payload against what the scan saw (spec §6). */
static const char *index_problem(pyi_reader *r, const uint8_t *payload, size_t size,
                                 uint64_t frame_offset)
{
    if (size < 8 + PYI_TRAILER_SIZE + 1 || memcmp(payload, PYI_INDEX_TAG, 8) != 0)
        return "index: bad tag or size";
    const uint8_t *trailer = payload + size - PYI_TRAILER_SIZE;
    if (memcmp(trailer + 16, PYI_TRAILER_TAG, 8) != 0)
        return "index: bad trailer tag";
    if (pyi__le32(trailer + 12) != pyi__crc32(0, payload, size - PYI_TRAILER_SIZE))
        return "index: CRC mismatch";
    if (pyi__le64(trailer) != frame_offset)
        return "index: the trailer's offset is not the index's";
    if (pyi__le32(trailer + 8) != r->frames_seen)
        return "index: chunk count disagrees with the file";
    pyi_mp m;
    pyi__mp_init(&m, payload + 8, size - 8 - PYI_TRAILER_SIZE);
    uint32_t outer, count;
    if (pyi__mp_array(&m, &outer) || outer < 2 || pyi__mp_array(&m, &count) ||
        count != r->frames_seen)
        return "index: chunk list disagrees with the file";
    for (uint32_t i = 0; i < count; i++) {
        uint32_t fields;
        uint64_t v[3];
        if (pyi__mp_array(&m, &fields) || fields < 6 || pyi__mp_uint(&m, &v[0]) ||
            pyi__mp_uint(&m, &v[1]) || pyi__mp_uint(&m, &v[2]))
            return "index: malformed chunk entry";
        const pyi_frame_seen *f = &r->frames[i];
        if (v[0] != f->offset || v[1] != f->size || v[2] != f->content_size)
            return "index: a chunk entry disagrees with the file";
        for (uint32_t k = 3; k < fields; k++)
            if (pyi__mp_skip(&m))
                return "index: malformed chunk entry";
    }
    pyi_meta_entry *summary;
    size_t summary_count;
    if (pyi__read_map(&m, &r->scratch, &summary, &summary_count))
        return "index: malformed summary";
    for (uint32_t k = 2; k < outer; k++)
        if (pyi__mp_skip(&m))
            return "index: malformed";
    if (pyi__mp_remaining(&m) != 0)
        return "index: trailing bytes before the trailer";
    return NULL;
}

static int skippable_frame(pyi_reader *r, uint32_t magic)
{
    pyi_input *in = &r->in;
    uint64_t offset = in->offset;
    size_t size = pyi__le32(pyi__input_data(in) + 4);
    if (pyi__input_ensure(in, 8 + size))
        return pyi__reader_fail(r, PYI_E_IO, "cannot read: %s", strerror(errno));
    if (pyi__input_available(in) < 8 + size)
        return truncated_tail(r);
    r->resyncing = 0;
    if (magic == PYI_MAGIC_HEADER)
        return bad_framing(r, "a second header frame (spec §3)");
    if (magic == PYI_MAGIC_INDEX) {
        const char *problem = index_problem(r, pyi__input_data(in) + 8, size, offset);
        pyi__input_consume(in, 8 + size);
        if (problem)
            return pyi__reader_damage(r, offset, 8 + size, "%s", problem);
        r->stats.has_index = 1;
        r->index_seen = 1;
        return PYI_OK;
    }
    pyi__input_consume(in, 8 + size);
    r->stats.unknown_frames++;
    return PYI_OK;
}

/* Delimits the zstd frame at the input position; 0 with *size, or an outcome. */
static int delimit_zstd_frame(pyi_reader *r, size_t *size)
{
    pyi_input *in = &r->in;
    size_t want = 1u << 16;
    for (;;) {
        if (pyi__input_ensure(in, want))
            return pyi__reader_fail(r, PYI_E_IO, "cannot read: %s", strerror(errno));
        size_t avail = pyi__input_available(in);
        size_t n = ZSTD_findFrameCompressedSize(pyi__input_data(in), avail);
        if (!ZSTD_isError(n)) {
            *size = n;
            r->resyncing = 0;
            return PYI_OK;
        }
        if (ZSTD_getErrorCode(n) != ZSTD_error_srcSize_wrong)
            return bad_framing(r, ZSTD_getErrorName(n));
        if (in->eof) {
            /* a clean trailer at the end means the frame is damaged, not cut */
            const uint8_t *tail = pyi__input_data(in) + avail - 8;
            if (avail >= 8 && !memcmp(tail, PYI_TRAILER_TAG, 8))
                return bad_framing(r, "a chunk frame runs into the index (damaged frame)");
            return truncated_tail(r);
        }
        if (avail > ZSTD_compressBound(PYI_MAX_CHUNK_SIZE) + 4096)
            return bad_framing(r, "a chunk frame larger than any valid chunk");
        want = avail * 2;
    }
}

/* spec §5: checksum on, no dictionary, content size declared and bounded. */
static const char *chunk_frame_problem(const uint8_t *p, size_t size, uint64_t *content_size)
{
    if (size < 6)
        return "chunk frame too short";
    /* noted even for a frame that breaks the rules: the index lists it as declared */
    unsigned long long fcs = ZSTD_getFrameContentSize(p, size);
    if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs != ZSTD_CONTENTSIZE_ERROR)
        *content_size = fcs;
    uint8_t descriptor = p[4];
    if (!(descriptor & 0x04))
        return "chunk frame without checksum (spec §5)";
    if (descriptor & 0x03)
        return "chunk frame uses a dictionary (spec §5)";
    if (fcs == ZSTD_CONTENTSIZE_UNKNOWN || fcs == ZSTD_CONTENTSIZE_ERROR)
        return "chunk frame does not declare its content size (spec §5)";
    if (fcs > PYI_MAX_CHUNK_SIZE || fcs == 0)
        return "chunk content size is 0 or over 64 MiB (spec §5)";
    return NULL;
}

/* Reads, checks and decompresses the chunk at the input position. */
static int chunk_frame(pyi_reader *r, pyi_record *record)
{
    pyi_input *in = &r->in;
    size_t size = 0;
    uint64_t chunks_damaged = r->stats.chunks_damaged;
    int rc = delimit_zstd_frame(r, &size);
    if (rc || r->finished || r->stats.chunks_damaged != chunks_damaged)
        return rc;
    uint64_t offset = in->offset;
    const uint8_t *p = pyi__input_data(in);
    uint64_t content_size = 0;
    const char *problem = chunk_frame_problem(p, size, &content_size);
    if (remember_frame(r, offset, size, content_size))
        return r->error;
    r->chunk.offset = offset;
    r->chunk.size = size;
    r->chunk.content_size = content_size;
    r->chunk.sequence = r->frames_seen - 1;
    if (!problem) {
        r->content.size = 0;
        if (pyi__buffer_reserve(&r->content, (size_t)content_size))
            return pyi__reader_fail(r, PYI_E_NOMEM, "out of memory");
        size_t n = ZSTD_decompressDCtx(r->dctx, r->content.data, (size_t)content_size, p, size);
        if (ZSTD_isError(n))
            problem = ZSTD_getErrorName(n);
        else if (n != content_size)
            problem = "chunk content shorter than declared";
    }
    pyi__input_consume(in, size);
    if (problem) {
        r->stats.chunks_damaged++;
        return pyi__reader_damage(r, offset, size, "chunk %" PRIu64 ": %s", r->frames_seen - 1,
                                  problem);
    }
    if (r->end_seen)
        return pyi__reader_damage(r, offset, size, "a chunk follows END (spec §5.13)");
    r->content.size = (size_t)content_size;
    pyi__mp_init(&r->cursor, r->content.data, r->content.size);
    r->in_chunk = 1;
    rc = pyi__reader_begin_chunk(r, record);
    if (rc == 1)
        r->stats.chunks++;
    else if (rc == 0)
        r->stats.chunks_damaged++;
    return rc;
}

/* Moves to the next chunk; 1 with its CHUNK record, 0 at the end, or an error. */
static int next_frame(pyi_reader *r, pyi_record *record)
{
    pyi_input *in = &r->in;
    while (!r->finished) {
        if (pyi__input_ensure(in, 8))
            return pyi__reader_fail(r, PYI_E_IO, "cannot read: %s", strerror(errno));
        size_t avail = pyi__input_available(in);
        if (avail == 0) {
            r->finished = 1;
            break;
        }
        uint32_t magic = avail >= 4 ? pyi__le32(pyi__input_data(in)) : 0;
        int rc;
        if (r->index_seen) {
            rc = bad_framing(r, "data after the index (spec §3)");
        } else if (avail < 8 && starts_a_magic(pyi__input_data(in), avail)) {
            rc = truncated_tail(r);
        } else if (is_skippable(magic)) {
            rc = skippable_frame(r, magic);
        } else if (magic == PYI_ZSTD_MAGIC) {
            rc = chunk_frame(r, record);
            if (rc == 1)
                return 1;
        } else {
            rc = bad_framing(r, "not a frame: unknown magic number (spec §3)");
        }
        if (rc < 0)
            return rc;
    }
    r->stats.file_bytes = in->offset;
    return 0;
}

/* ---- Public ---- */

void pyi_reader_options_init(pyi_reader_options *options)
{
    memset(options, 0, sizeof(*options));
}

static pyi_reader *reader_new(const char *name, const pyi_reader_options *options)
{
    const pyi_allocator *a = options ? options->allocator : NULL;
    pyi_reader *r = pyi__malloc(a, sizeof(*r));
    if (!r)
        return NULL;
    memset(r, 0, sizeof(*r));
    r->allocator = a;
    if (options)
        r->options = *options;
    pyi__arena_init(&r->arena, a);
    pyi__arena_init(&r->scratch, a);
    pyi__buffer_init(&r->content, a);
    r->in.fd = -1;
    r->name = pyi__strdup(a, name ? name : "trace", strlen(name ? name : "trace"));
    r->dctx = ZSTD_createDCtx();
    if (!r->name || !r->dctx) {
        pyi_reader_free(r);
        return NULL;
    }
    return r;
}

/* After the input is set up: the header, and process 1 from it. */
static int reader_start(pyi_reader *r)
{
    int rc = pyi__reader_read_header(r);
    if (rc)
        return rc;
    return pyi__reader_define_header_process(r);
}

int pyi_reader_open_memory(pyi_reader **out, const void *data, size_t size, const char *name,
                           const pyi_reader_options *options)
{
    pyi_reader *r = reader_new(name, options);
    *out = r;
    if (!r)
        return PYI_E_NOMEM;
    pyi__input_init_memory(&r->in, data, size);
    return reader_start(r);
}

int pyi_reader_open_fd(pyi_reader **out, int fd, const char *name,
                       const pyi_reader_options *options)
{
    pyi_reader *r = reader_new(name, options);
    *out = r;
    if (!r)
        return PYI_E_NOMEM;
    pyi__input_init_fd(&r->in, fd, r->allocator);
    return reader_start(r);
}

int pyi_reader_open(pyi_reader **out, const char *path, const pyi_reader_options *options)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;
        pyi_reader *r = reader_new(path, options);
        *out = r;
        if (!r)
            return PYI_E_NOMEM;
        return pyi__reader_fail(r, PYI_E_IO, "cannot open: %s", strerror(saved));
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        pyi_reader *r = reader_new(path, options);
        *out = r;
        if (!r)
            return PYI_E_NOMEM;
        return pyi__reader_fail(r, PYI_E_IO, "is a directory, not a trace file");
    }
    int rc = pyi_reader_open_fd(out, fd, path, options);
    if (*out)
        (*out)->owns_fd = 1; /* closed by pyi_reader_free */
    else
        close(fd);
    return rc;
}

const pyi_header *pyi_reader_header(const pyi_reader *r)
{
    return &r->header;
}

int pyi_reader_next(pyi_reader *r, pyi_record *record)
{
    if (r->error)
        return r->error;
    for (;;) {
        if (r->in_chunk) {
            int rc = pyi__reader_next_record(r, record);
            if (rc != 0)
                return rc;
            if (r->error)
                return r->error;
        }
        int rc = next_frame(r, record);
        if (rc != 0 || r->finished)
            return rc;
    }
}

int pyi_reader_run(pyi_reader *r, const pyi_reader_callbacks *cb, void *ctx)
{
    int rc = cb->on_header ? cb->on_header(ctx, &r->header) : 0;
    pyi_record rec;
    while (rc == 0) {
        int got = pyi_reader_next(r, &rec);
        if (got <= 0)
            return got;
        const pyi_record *x = &rec;
        switch (rec.type) {
        case PYI_RECORD_CHUNK:
            rc = cb->on_chunk ? cb->on_chunk(ctx, &x->u.chunk) : 0;
            break;
        case PYI_RECORD_STRING:
            rc = cb->on_string ? cb->on_string(ctx, x->u.string.id, x->u.string.utf8,
                                               x->u.string.length)
                               : 0;
            break;
        case PYI_RECORD_FUNCTION:
            rc = cb->on_function ? cb->on_function(ctx, &x->u.function) : 0;
            break;
        case PYI_RECORD_LOCATION:
            rc = cb->on_location ? cb->on_location(ctx, &x->u.location) : 0;
            break;
        case PYI_RECORD_STACK:
            rc = cb->on_stack ? cb->on_stack(ctx, &x->u.stack) : 0;
            break;
        case PYI_RECORD_THREAD:
            rc = cb->on_thread ? cb->on_thread(ctx, &x->u.thread) : 0;
            break;
        case PYI_RECORD_PROCESS:
            rc = cb->on_process ? cb->on_process(ctx, &x->u.process) : 0;
            break;
        case PYI_RECORD_SAMPLE:
            rc = cb->on_sample ? cb->on_sample(ctx, &x->u.sample) : 0;
            break;
        case PYI_RECORD_LOST:
            rc = cb->on_lost ? cb->on_lost(ctx, &x->u.lost) : 0;
            break;
        case PYI_RECORD_MARKER:
            rc = cb->on_marker ? cb->on_marker(ctx, &x->u.marker) : 0;
            break;
        case PYI_RECORD_META:
            rc = cb->on_meta ? cb->on_meta(ctx, &x->u.meta) : 0;
            break;
        case PYI_RECORD_END:
            rc = cb->on_end ? cb->on_end(ctx, x->u.end.entries, x->u.end.count) : 0;
            break;
        case PYI_RECORD_NONE:
            break;
        }
    }
    return rc;
}

/* ---- Lookups ---- */

const char *pyi_reader_string(const pyi_reader *r, uint32_t id, size_t *length)
{
    if (id == 0 || id > r->string_count || !r->strings[id - 1].text)
        return NULL;
    if (length)
        *length = r->strings[id - 1].length;
    return r->strings[id - 1].text;
}

const pyi_function *pyi_reader_function(const pyi_reader *r, uint32_t id)
{
    return id && id <= r->function_count && r->functions[id - 1].id ? &r->functions[id - 1]
                                                                     : NULL;
}

const pyi_location *pyi_reader_location(const pyi_reader *r, uint32_t id)
{
    return id && id <= r->location_count && r->locations[id - 1].id ? &r->locations[id - 1]
                                                                     : NULL;
}

const pyi_stack *pyi_reader_stack(const pyi_reader *r, uint32_t id)
{
    return id && id <= r->stack_count && r->stacks[id - 1].id ? &r->stacks[id - 1] : NULL;
}

const pyi_thread *pyi_reader_thread(const pyi_reader *r, uint32_t id)
{
    return id && id <= r->thread_count && r->threads[id - 1].id ? &r->threads[id - 1] : NULL;
}

const pyi_process *pyi_reader_process(const pyi_reader *r, uint32_t id)
{
    return id && id <= r->process_count && r->processes[id - 1].id ? &r->processes[id - 1]
                                                                    : NULL;
}

/* ---- Reports ---- */

const pyi_reader_stats *pyi_reader_get_stats(const pyi_reader *r)
{
    return &r->stats;
}

size_t pyi_reader_damage_count(const pyi_reader *r)
{
    return r->damage_count;
}

const char *pyi_reader_damage(const pyi_reader *r, size_t index)
{
    return index < r->damage_count ? r->damage[index] : NULL;
}

const char *pyi_reader_error_detail(const pyi_reader *r)
{
    return r ? r->detail : "out of memory";
}

void pyi_reader_free(pyi_reader *r)
{
    if (!r)
        return;
    if (r->owns_fd && r->in.fd >= 0)
        close(r->in.fd);
    pyi__input_destroy(&r->in);
    pyi__reader_free_tables(r);
    pyi__free(r->allocator, r->frames);
    pyi__free(r->allocator, r->damage);
    pyi__buffer_destroy(&r->content);
    ZSTD_freeDCtx(r->dctx);
    pyi__arena_destroy(&r->arena);
    pyi__arena_destroy(&r->scratch);
    pyi__free(r->allocator, r->name);
    pyi__free(r->allocator, r);
}
