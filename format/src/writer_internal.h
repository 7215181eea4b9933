/* SPDX-License-Identifier: MIT */
/*
 * Private to format/: the writer's state, shared by writer.c (encoding and
 * interning on the caller's thread) and writer_sink.c (compressing and
 * writing closed chunks, on the writer thread when options.threaded).
 */
#ifndef PYI_WRITER_INTERNAL_H
#define PYI_WRITER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <zstd.h>
#include <msgpack.h>

#include "common_internal.h"
#include "intern_internal.h"

/* One chunk's records while it is filled, then while it waits to be written. */
typedef struct pyi_chunk {
    pyi_buffer records;      /* msgpack records, CHUNK_BEGIN first */
    uint64_t sequence;       /* CHUNK_BEGIN sequence number */
    uint64_t record_count;   /* records in the buffer, CHUNK_BEGIN included */
    uint64_t samples;        /* SAMPLE records in the buffer */
    uint64_t first_time_us;  /* earliest sample time; 0 = no sample yet */
    uint64_t last_time_us;   /* latest sample time */
} pyi_chunk;

/* What the index (spec §6) says of each chunk written. */
typedef struct pyi_index_entry {
    uint64_t offset, size, content_size;
    uint64_t first_time_us, last_time_us, samples;
} pyi_index_entry;

/* Compression and file output; see writer_sink.c. */
typedef struct pyi_sink {
    int fd;
    int close_fd;
    int threaded;
    int sync;
    int thread_started;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t work_ready; /* writer thread waits: chunk queued or stop */
    pthread_cond_t work_done;  /* producer waits: queue has room or drained */
    pyi_chunk **queue;         /* ring of chunks waiting to be written */
    size_t queue_capacity, queue_head, queue_count;
    pyi_chunk **spare;         /* written chunks ready for reuse */
    size_t spare_count, chunks_allocated;
    int busy;                  /* the writer thread is writing a chunk */
    int stopping;
    atomic_int error;          /* sticky: first failure (0 = none) */
    char detail[256];          /* its message, set under lock */
    ZSTD_CCtx *cctx;
    pyi_buffer frame;          /* compressed output of one chunk */
    uint64_t file_offset;      /* bytes written to the file */
    uint64_t chunks_written;
    pyi_index_entry *index;
    size_t index_count, index_capacity;
    const pyi_allocator *allocator;
} pyi_sink;

typedef struct pyi_writer_thread {
    uint32_t process_id;
    uint64_t native_id;
    uint32_t flags;
    uint64_t prev_time_ns;  /* previous sample's time */
    uint64_t prev_time_us;  /* ...as written */
    uint64_t prev_sequence; /* chunk of the previous sample; valid when has_prev */
    int has_prev;
} pyi_writer_thread;

struct pyi_writer {
    const pyi_allocator *allocator;
    pyi_writer_options options;
    char *name;                /* path or name, for messages */
    pyi_chunk *chunk;          /* being filled */
    uint64_t chunk_opened_ms;  /* coarse clock when it opened */
    uint64_t chunk_base_us;    /* its CHUNK_BEGIN base time */
    uint64_t next_sequence;
    uint64_t last_time_us;     /* latest time seen: the next chunk's base */
    uint64_t first_sample_us, last_sample_us; /* over the file, for END */
    msgpack_packer packer;     /* appends to chunk->records */
    pyi_intern_table strings, functions, locations, stacks;
    uint32_t string_count, function_count, location_count, stack_count;
    pyi_writer_thread *threads;
    size_t thread_count, thread_capacity;
    uint32_t process_count;    /* 1: the header's process */
    pyi_writer_stats stats;
    int closed;
    int error;                 /* sticky error of the producer side */
    char detail[512];
    pyi_sink sink;
};

/* Sets w's sticky error with a formatted message; returns error. */
int pyi__writer_fail(pyi_writer *w, int error, const char *fmt, ...);

int pyi__sink_init(pyi_writer *w, int fd, int close_fd);
/* Writes bytes directly (header, index): only while no chunk is in flight. */
int pyi__sink_write_raw(pyi_writer *w, const void *data, size_t size);
/* Hands the filled chunk over and returns an empty one to continue in. */
int pyi__sink_submit(pyi_writer *w, pyi_chunk *filled, pyi_chunk **empty);
/* Waits until every submitted chunk is written. */
int pyi__sink_drain(pyi_writer *w);
/* Drains, stops the writer thread and closes the file if owned. */
int pyi__sink_finish(pyi_writer *w, int close_file);
/* Frees everything; with abandon, touches neither the thread nor the locks. */
void pyi__sink_destroy(pyi_writer *w, int abandon);
void pyi__chunk_free(const pyi_allocator *a, pyi_chunk *c);

/* Builds the header frame (spec §4) for header into out. */
int pyi__header_encode(const pyi_header *header, const pyi_allocator *a, pyi_buffer *out);
/* msgpack helpers on a packer writing to a pyi_buffer. */
int pyi__pack_value(msgpack_packer *pk, const pyi_value *value);
int pyi__pack_map(msgpack_packer *pk, const pyi_meta_entry *entries, size_t count);
int pyi__pack_buffer_write(void *data, const char *buf, size_t len);

#endif /* PYI_WRITER_INTERNAL_H */
