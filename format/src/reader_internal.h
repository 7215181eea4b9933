/* SPDX-License-Identifier: MIT */
/*
 * Private to format/: the reader's state, shared by reader.c (input, frames,
 * chunks, the index), reader_header.c (spec §4) and reader_records.c (record
 * decoding and the definition tables of spec §5).
 */
#ifndef PYI_READER_INTERNAL_H
#define PYI_READER_INTERNAL_H

#include <zstd.h>
#include <zstd_errors.h>

#include "common_internal.h"
#include "msgpack_read_internal.h"

/* The bytes of the file: a window that slides over an fd, or all of memory. */
typedef struct pyi_input {
    int fd;                /* -1 when reading memory */
    const uint8_t *memory; /* memory input; else NULL */
    uint8_t *buffer;       /* window (points into memory for memory input) */
    size_t capacity;
    size_t start, end;     /* valid bytes are buffer[start, end) */
    uint64_t offset;       /* file offset of buffer[start] */
    int eof;
    const pyi_allocator *allocator;
} pyi_input;

typedef struct pyi_string_def {
    const char *text; /* NUL-terminated copy in the arena; NULL = undefined */
    size_t length;
} pyi_string_def;

typedef struct pyi_thread_clock {
    uint64_t chunk_sequence; /* chunk of the previous sample; valid when has_prev */
    int64_t prev_us;
    int has_prev;
} pyi_thread_clock;

typedef struct pyi_frame_seen {
    uint64_t offset, size, content_size; /* checked against the index */
} pyi_frame_seen;

struct pyi_reader {
    const pyi_allocator *allocator;
    pyi_reader_options options;
    char *name;
    pyi_input in;
    pyi_header header;
    pyi_arena arena;   /* lives as long as the reader */
    pyi_arena scratch; /* reset for every record */
    /* definitions, indexed by id - 1; an id of 0 in an entry = undefined */
    pyi_string_def *strings;
    size_t string_count, string_capacity;
    pyi_function *functions;
    size_t function_count, function_capacity;
    pyi_location *locations;
    size_t location_count, location_capacity;
    pyi_stack *stacks;
    size_t stack_count, stack_capacity;
    pyi_thread *threads;
    pyi_thread_clock *clocks; /* parallel to threads */
    size_t thread_count, thread_capacity, clock_capacity;
    pyi_process *processes; /* processes[0] is process 1 */
    size_t process_count, process_capacity;
    /* the chunk being read */
    ZSTD_DCtx *dctx;
    pyi_buffer content;
    pyi_mp cursor;
    int in_chunk;
    pyi_chunk_info chunk;
    uint64_t chunk_base_us;
    uint64_t record_index; /* within the chunk, for messages */
    uint64_t frames_seen;  /* chunk frames met, damaged ones included */
    uint64_t next_sequence; /* the least CHUNK_BEGIN sequence still possible */
    pyi_frame_seen *frames;
    size_t frames_capacity;
    int end_seen, index_seen, finished;
    int owns_fd;
    int resyncing; /* salvage: searching for a frame after damage */
    int error; /* sticky */
    pyi_reader_stats stats;
    char **damage;
    size_t damage_count, damage_capacity;
    char detail[512];
};

/* reader.c */
int pyi__reader_fail(pyi_reader *r, int error, const char *fmt, ...);
/* Corruption at offset: fails (strict) or notes damage (salvage, returns 0). */
int pyi__reader_damage(pyi_reader *r, uint64_t offset, uint64_t size, const char *fmt, ...);

/* reader_header.c: reads and checks the header frame at offset 0. */
int pyi__reader_read_header(pyi_reader *r);
/* Decodes a map of str keys into entries allocated in arena. */
int pyi__read_map(pyi_mp *m, pyi_arena *arena, pyi_meta_entry **entries, size_t *count);

/* reader_records.c: decodes the next record of the current chunk.
 * Returns 1 with *record set, 0 at the end of the chunk, or an error. */
int pyi__reader_next_record(pyi_reader *r, pyi_record *record);
/* Checks and decodes the CHUNK_BEGIN that starts a chunk. */
int pyi__reader_begin_chunk(pyi_reader *r, pyi_record *record);
void pyi__reader_free_tables(pyi_reader *r);
/* Defines process 1, the one the header describes (spec §5.11). */
int pyi__reader_define_header_process(pyi_reader *r);

/* reader_input.c */
void pyi__input_init_fd(pyi_input *in, int fd, const pyi_allocator *a);
void pyi__input_init_memory(pyi_input *in, const void *data, size_t size);
/* Makes at least n bytes available unless the file ends first. 0 or PYI_E_IO/NOMEM. */
int pyi__input_ensure(pyi_input *in, size_t n);
static inline size_t pyi__input_available(const pyi_input *in)
{
    return in->end - in->start;
}
static inline const uint8_t *pyi__input_data(const pyi_input *in)
{
    return in->buffer + in->start;
}
void pyi__input_consume(pyi_input *in, size_t n);
void pyi__input_destroy(pyi_input *in);

#endif /* PYI_READER_INTERNAL_H */
