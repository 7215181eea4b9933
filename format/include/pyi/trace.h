/* SPDX-License-Identifier: MIT */
/*
 * The .pyitrace format library: the only code in pyinst that knows the bytes
 * of a trace file (spec/pyitrace.md). The recorder links the writer, the
 * analyzer links the reader; neither knows anything of Python or rendering.
 *
 * Conventions:
 *  - Functions return 0 (PYI_OK) or a negative pyi_error; pyi_reader_next
 *    also returns 1 for "a record". Every failure leaves a one-line message
 *    in pyi_writer_error_detail / pyi_reader_error_detail.
 *  - Ids (strings, functions, locations, stacks, threads, processes) are
 *    small dense integers starting at 1; 0 always means "none".
 *  - Times in the API are nanoseconds of CLOCK_MONOTONIC (or the clock the
 *    header names). The file stores microseconds, so values read back are
 *    multiples of 1000 (spec §5.1 explains why).
 *  - Nothing here is thread-safe unless it says so: one thread drives one
 *    writer or reader.
 */
#ifndef PYI_TRACE_H
#define PYI_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pyi/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions (spec §2, "Versions") ---------------------------------- */

#define PYI_FORMAT_MAJOR 1   /* readers refuse files with a larger major */
#define PYI_FORMAT_MINOR 0   /* the newest minor this library writes and reads */
#define PYI_LIBRARY_VERSION "0.1.0"

/* Skippable-frame magics (little-endian u32) and the payload tags (spec §3). */
#define PYI_MAGIC_HEADER 0x184D2A5Bu
#define PYI_MAGIC_INDEX 0x184D2A5Cu
#define PYI_HEADER_TAG "PYITRACE"
#define PYI_INDEX_TAG "PYIINDEX"
#define PYI_TRAILER_TAG "PYIEND01"
#define PYI_TRAILER_SIZE 24
#define PYI_MAX_CHUNK_SIZE (64u << 20) /* largest decompressed chunk a reader accepts */
#define PYI_MAX_HEADER_SIZE (1u << 20) /* largest header payload a reader accepts */
/* Largest time, weight or duration a file may hold, in microseconds: so that
 * nanoseconds fit a signed 64-bit integer (spec §1). The writer refuses
 * larger nanosecond values than PYI_MAX_TIME_US * 1000. */
#define PYI_MAX_TIME_US 9223372036854775ull
/* Most ids a salvaging reader accepts skipping at once (spec §11). */
#define PYI_MAX_ID_SKIP (1u << 20)

/* ---- Record types (spec §5) ------------------------------------------- */

typedef enum pyi_record_type {
    PYI_RECORD_NONE = 0,
    PYI_RECORD_CHUNK = 1,    /* CHUNK_BEGIN: start of a chunk (delivered for information) */
    PYI_RECORD_STRING = 2,
    PYI_RECORD_FUNCTION = 3,
    PYI_RECORD_LOCATION = 4,
    PYI_RECORD_STACK = 5,
    PYI_RECORD_THREAD = 6,
    PYI_RECORD_SAMPLE = 7,
    PYI_RECORD_LOST = 8,
    PYI_RECORD_MARKER = 9,
    PYI_RECORD_META = 10,
    PYI_RECORD_PROCESS = 11,
    PYI_RECORD_END = 12,
} pyi_record_type;

/* Sample status bits (spec §5.8). Unknown bits are ignored by readers. */
#define PYI_STATUS_ON_CPU 0x01u      /* the thread used CPU during most of its weight */
#define PYI_STATUS_HOLDS_GIL 0x02u   /* the thread held the GIL when sampled */
#define PYI_STATUS_IN_GC 0x04u       /* the garbage collector was running */
#define PYI_STATUS_TRUNCATED 0x08u   /* the stack was deeper than the recorder keeps */
#define PYI_STATUS_NATIVE_LEAF 0x10u /* the leaf frame is native code called from Python */

/* Function kinds (spec §5.3). */
#define PYI_FUNCTION_PYTHON 0u    /* a Python code object */
#define PYI_FUNCTION_NATIVE 1u    /* a C function called from Python (e.g. time.sleep) */
#define PYI_FUNCTION_SYNTHETIC 2u /* made up by a tool: <GC>, <idle>, process roots */

/* Thread flags (spec §5.6). */
#define PYI_THREAD_MAIN 0x01u

/* Reasons in LOST records (spec §5.9). */
#define PYI_LOST_INVALID 1u /* a stack read failed or looked inconsistent */
#define PYI_LOST_MISSED 2u  /* the sampler fell behind its schedule */
#define PYI_LOST_DROPPED 3u /* the recorder dropped samples (e.g. buffer full) */
#define PYI_LOST_OTHER 4u

#define PYI_CPU_UNKNOWN UINT64_MAX /* pyi_sample.cpu_ns when not measured */

/* ---- Values and metadata ---------------------------------------------- */

typedef enum pyi_value_kind {
    PYI_VALUE_NIL = 0,
    PYI_VALUE_BOOL,
    PYI_VALUE_INT,    /* signed: .i */
    PYI_VALUE_UINT,   /* unsigned: .u (only values above INT64_MAX need it) */
    PYI_VALUE_FLOAT,  /* .f */
    PYI_VALUE_STRING, /* .s with .length bytes of UTF-8, not NUL-terminated when read */
    PYI_VALUE_RAW,    /* arrays, maps, binary: .s/.length hold the msgpack encoding */
} pyi_value_kind;

typedef struct pyi_value {
    pyi_value_kind kind;
    int64_t i;        /* PYI_VALUE_INT, PYI_VALUE_BOOL (0/1) */
    uint64_t u;       /* PYI_VALUE_UINT */
    double f;         /* PYI_VALUE_FLOAT */
    const char *s;    /* PYI_VALUE_STRING, PYI_VALUE_RAW */
    size_t length;    /* bytes at .s */
} pyi_value;

/*
 * A RAW value holding a msgpack array of str (e.g. the argv of a PROCESS
 * record's metadata), encoded into the caller's buffer: the leading items
 * that fit are kept (all of them when the buffer is large enough). Returns
 * how many items were encoded; out points into buffer.
 */
size_t pyi_value_from_strings(const char *const *items, size_t count, void *buffer,
                              size_t size, pyi_value *out);

typedef struct pyi_meta_entry {
    const char *key; /* NUL-terminated UTF-8 */
    pyi_value value;
} pyi_meta_entry;

/*
 * The header of a trace (spec §4). When writing, NULL strings and zero
 * numbers are omitted unless marked required. When reading, every pointer
 * is owned by the reader and valid until pyi_reader_free; absent strings
 * read as "" and absent numbers as 0.
 */
typedef struct pyi_header {
    uint16_t major, minor;       /* read only: the file's format version */
    uint32_t incompat_flags;     /* read only; always 0 in format 1.0 */
    uint32_t compat_flags;       /* read only; always 0 in format 1.0 */
    const char *recorder;        /* required: program and version, "pyinst 0.1.0" */
    const char *mode;            /* required: "wall" or "cpu" */
    const char *clock;           /* required: "CLOCK_MONOTONIC" */
    uint64_t interval_ns;        /* required: nominal sampling interval */
    uint64_t start_mono_ns;      /* required: clock value when recording started */
    uint64_t start_wall_ns;      /* required: Unix time (ns) at start_mono_ns */
    int64_t pid;                 /* recorded process, 0 = unknown */
    const char *const *argv;     /* argc strings */
    size_t argc;
    const char *cwd;
    const char *hostname;
    const char *platform;        /* "linux-x86_64" */
    const char *python;          /* interpreter version, "3.11.7" */
    const char *python_implementation; /* "CPython" */
    uint32_t status_known;       /* PYI_STATUS_* bits the recorder measured */
    uint32_t max_depth;          /* deepest stack kept; deeper ones are TRUNCATED */
    const pyi_meta_entry *extra; /* writing: more keys; reading: keys not listed above */
    size_t extra_count;
    const pyi_meta_entry *entries; /* read only: every key, in file order */
    size_t entry_count;
} pyi_header;

/* ---- Definitions and events ------------------------------------------- */

typedef struct pyi_function {
    uint32_t id;
    uint32_t name_id;    /* string: qualified name ("Class.method", "<module>") */
    uint32_t file_id;    /* string: file path; 0 = unknown */
    uint32_t first_line; /* 0 = unknown */
    uint32_t kind;       /* PYI_FUNCTION_* */
} pyi_function;

typedef struct pyi_location {
    uint32_t id;
    uint32_t function_id;
    uint32_t line; /* line being executed; 0 = unknown */
} pyi_location;

/* A stack is its caller's stack plus one location: a prefix tree. */
typedef struct pyi_stack {
    uint32_t id;
    uint32_t parent_id;   /* 0 = this frame is the root (outermost) */
    uint32_t location_id; /* the innermost frame of this stack */
    uint32_t depth;       /* read only: number of frames, >= 1 */
} pyi_stack;

typedef struct pyi_thread {
    uint32_t id;
    uint32_t process_id; /* 1 = the process the header describes */
    uint64_t native_id;  /* OS thread id (Linux TID); 0 = unknown */
    uint32_t name_id;    /* string; 0 = unnamed */
    uint32_t flags;      /* PYI_THREAD_* */
} pyi_thread;

typedef struct pyi_process {
    uint32_t id;                /* >= 2; 1 is the header's process */
    uint32_t parent_id;         /* process that started it, 0 = none or unknown */
    int64_t pid;
    const pyi_meta_entry *meta; /* same keys as the header's map (argv, cwd, ...) */
    size_t meta_count;
} pyi_process;

typedef struct pyi_sample {
    uint32_t thread_id;
    uint32_t stack_id;  /* 0 = no Python frame */
    uint64_t time_ns;   /* when the thread was sampled */
    uint64_t weight_ns; /* wall time the sample stands for (since the thread's previous one) */
    uint64_t cpu_ns;    /* CPU time over the same span, PYI_CPU_UNKNOWN if not measured */
    uint32_t status;    /* PYI_STATUS_* */
} pyi_sample;

typedef struct pyi_lost {
    uint32_t thread_id; /* 0 = not tied to one thread */
    uint32_t reason;    /* PYI_LOST_* */
    uint64_t count;     /* samples lost */
    uint64_t weight_ns; /* wall time they would have covered; 0 = unknown */
} pyi_lost;

typedef struct pyi_marker {
    uint32_t thread_id; /* 0 = the whole trace */
    uint32_t name_id;   /* string, e.g. "gc", "pyinst.interval" */
    uint64_t time_ns;
    uint64_t duration_ns; /* 0 = an instant */
    const pyi_meta_entry *args;
    size_t arg_count;
} pyi_marker;

typedef struct pyi_chunk_info {
    uint64_t sequence;     /* 0, 1, 2 ... in file order */
    uint64_t offset;       /* file offset of the chunk's zstd frame */
    uint64_t size;         /* compressed bytes */
    uint64_t content_size; /* decompressed bytes */
    uint64_t base_time_ns;
} pyi_chunk_info;

typedef struct pyi_record {
    pyi_record_type type;
    union {
        pyi_chunk_info chunk;
        struct {
            uint32_t id;
            const char *utf8; /* NUL-terminated copy; may contain NULs within length */
            size_t length;
        } string;
        pyi_function function;
        pyi_location location;
        pyi_stack stack;
        pyi_thread thread;
        pyi_process process;
        pyi_sample sample;
        pyi_lost lost;
        pyi_marker marker;
        pyi_meta_entry meta;
        struct {
            const pyi_meta_entry *entries;
            size_t count;
        } end;
    } u;
} pyi_record;

/* ---- Allocation -------------------------------------------------------- */

/* Optional allocator (e.g. PyMem_Raw* in the recorder). All three or none. */
typedef struct pyi_allocator {
    void *(*malloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
} pyi_allocator;

/* ---- Writer ------------------------------------------------------------ */

typedef struct pyi_writer pyi_writer;

typedef struct pyi_writer_options {
    uint32_t chunk_bytes;    /* close a chunk at this many record bytes; 0 = 256 KiB */
    uint32_t chunk_age_ms;   /* ...or when it is this old; 0 = 1000 */
    int compression_level;   /* zstd level; 0 = 3 */
    int threaded;            /* non-zero: compress and write on a writer thread */
    uint32_t queue_chunks;   /* closed chunks that may wait for that thread; 0 = 4 */
    int sync;                /* non-zero: fdatasync after each chunk */
    const pyi_allocator *allocator; /* NULL = malloc; must outlive the writer */
} pyi_writer_options;

/* Fills *options with the defaults (all zero). */
void pyi_writer_options_init(pyi_writer_options *options);

/*
 * Creates (or truncates) path and writes the header. On success *out is a
 * writer to free with pyi_writer_free. On failure *out is still a writer
 * holding the message (pyi_writer_error_detail), or NULL when memory ran out;
 * free it either way.
 * Errors: PYI_E_IO (cannot create or write), PYI_E_INVALID_ARG (a required
 * header field is missing), PYI_E_NOMEM.
 */
int pyi_writer_open(pyi_writer **out, const char *path, const pyi_header *header,
                    const pyi_writer_options *options);

/* As pyi_writer_open on an open descriptor (a pipe works: nothing seeks).
 * With close_fd the writer closes fd in pyi_writer_close/free. */
int pyi_writer_open_fd(pyi_writer **out, int fd, int close_fd, const char *name,
                       const pyi_header *header, const pyi_writer_options *options);

/*
 * Interning: each returns the id of an equal definition already written, or
 * defines a new one (emitting its record before any record that uses it).
 * Errors: PYI_E_INVALID_ARG (a referenced id is not defined), PYI_E_LIMIT
 * (string over 16 MiB), PYI_E_NOMEM, or a sticky error from the writer thread.
 */
int pyi_writer_intern_string(pyi_writer *w, const char *utf8, size_t length, uint32_t *id);
int pyi_writer_intern_function(pyi_writer *w, uint32_t name_id, uint32_t file_id,
                               uint32_t first_line, uint32_t kind, uint32_t *id);
int pyi_writer_intern_location(pyi_writer *w, uint32_t function_id, uint32_t line,
                               uint32_t *id);
int pyi_writer_intern_stack(pyi_writer *w, uint32_t parent_id, uint32_t location_id,
                            uint32_t *id);

/* Defines a thread (thread->id is ignored) and stores the new id in *id. */
int pyi_writer_add_thread(pyi_writer *w, const pyi_thread *thread, uint32_t *id);
/* Renames a thread: writes its THREAD record again with name_id. */
int pyi_writer_rename_thread(pyi_writer *w, uint32_t thread_id, uint32_t name_id);
/* Defines another process (process->id is ignored). */
int pyi_writer_add_process(pyi_writer *w, const pyi_process *process, uint32_t *id);

/*
 * Appends a sample. Times must not go backwards for one thread (a smaller
 * time_ns is clamped to the thread's previous one). Cheap: the caller's
 * thread only encodes bytes; compression happens on chunk close (on the
 * writer thread when options.threaded).
 */
int pyi_writer_add_sample(pyi_writer *w, const pyi_sample *sample);
int pyi_writer_add_lost(pyi_writer *w, const pyi_lost *lost);
int pyi_writer_add_marker(pyi_writer *w, const pyi_marker *marker);
int pyi_writer_add_meta(pyi_writer *w, const char *key, const pyi_value *value);

/*
 * Closes the current chunk and returns once every record added so far is
 * written to the file (and synced when options.sync). Call it periodically
 * and from signal-driven shutdown paths (never from a signal handler).
 */
int pyi_writer_flush(pyi_writer *w);

/* Writes END with the summary, the last chunk and the index, then closes the
 * file. The writer can only be freed afterwards. Safe to call twice. */
int pyi_writer_close(pyi_writer *w);

/* Frees the writer. A writer not closed is flushed first (without END or
 * index: the file then reads as "not closed cleanly"). NULL is fine. */
void pyi_writer_free(pyi_writer *w);

/* Frees the writer without writing anything more and without joining a
 * writer thread: for the child side of fork(), where that thread is gone. */
void pyi_writer_abandon(pyi_writer *w);

/* The message of the last error, "" if none. Borrowed from the writer. */
const char *pyi_writer_error_detail(const pyi_writer *w);

typedef struct pyi_writer_stats {
    uint64_t samples;          /* SAMPLE records added */
    uint64_t lost;             /* sum of LOST counts added */
    uint64_t records;          /* all records added */
    uint64_t record_bytes;     /* uncompressed bytes of records */
    uint64_t chunks_written;   /* frames fully written to the file */
    uint64_t file_bytes;       /* bytes written to the file so far */
    uint64_t producer_waits;   /* times the caller waited for the writer thread */
} pyi_writer_stats;

/* A snapshot of the counters; safe to call from the writing thread only. */
void pyi_writer_get_stats(const pyi_writer *w, pyi_writer_stats *stats);

/* ---- Reader ------------------------------------------------------------ */

typedef struct pyi_reader pyi_reader;

typedef struct pyi_reader_options {
    int salvage; /* non-zero: skip damaged chunks (and records that needed them) */
    const pyi_allocator *allocator;
} pyi_reader_options;

void pyi_reader_options_init(pyi_reader_options *options);

/*
 * Opens a trace and reads its header. On failure *out is still a reader
 * holding the message (or NULL when memory ran out); free it either way.
 * Errors: PYI_E_IO, PYI_E_EMPTY, PYI_E_NOT_TRACE, PYI_E_VERSION (newer major
 * or unknown incompatible flag; the message names both versions),
 * PYI_E_TRUNCATED (the header itself is cut), PYI_E_CORRUPT.
 */
int pyi_reader_open(pyi_reader **out, const char *path, const pyi_reader_options *options);
/* Reads from fd (a pipe works) without closing it; name is used in messages. */
int pyi_reader_open_fd(pyi_reader **out, int fd, const char *name,
                       const pyi_reader_options *options);
/* Reads from memory the caller keeps alive until pyi_reader_free. */
int pyi_reader_open_memory(pyi_reader **out, const void *data, size_t size, const char *name,
                           const pyi_reader_options *options);

/* The header; owned by the reader. */
const pyi_header *pyi_reader_header(const pyi_reader *r);

/*
 * The pull iterator. Returns 1 with *record filled, 0 at the end of the
 * trace, or a negative error. Pointers inside *record are borrowed until the
 * next call. Definitions are checked (defined before use, dense ids, known
 * references) and times are resolved to absolute nanoseconds.
 * A file cut inside a chunk ends normally with stats.truncated set: the
 * complete chunks before the cut are all delivered. Damage (bad checksum,
 * bad framing, bad records) returns PYI_E_CORRUPT, or in salvage mode is
 * skipped and listed in the damage report. Unknown record types and unknown
 * skippable frames are skipped and counted.
 */
int pyi_reader_next(pyi_reader *r, pyi_record *record);

/* Callback table for pyi_reader_run: NULL members are skipped. A non-zero
 * return from a callback stops the run and is returned. */
typedef struct pyi_reader_callbacks {
    int (*on_header)(void *ctx, const pyi_header *header);
    int (*on_string)(void *ctx, uint32_t id, const char *utf8, size_t length);
    int (*on_function)(void *ctx, const pyi_function *function);
    int (*on_location)(void *ctx, const pyi_location *location);
    int (*on_stack)(void *ctx, const pyi_stack *stack);
    int (*on_thread)(void *ctx, const pyi_thread *thread);
    int (*on_process)(void *ctx, const pyi_process *process);
    int (*on_sample)(void *ctx, const pyi_sample *sample);
    int (*on_lost)(void *ctx, const pyi_lost *lost);
    int (*on_marker)(void *ctx, const pyi_marker *marker);
    int (*on_meta)(void *ctx, const pyi_meta_entry *meta);
    int (*on_chunk)(void *ctx, const pyi_chunk_info *chunk);
    int (*on_end)(void *ctx, const pyi_meta_entry *summary, size_t count);
} pyi_reader_callbacks;

/* Reads to the end, calling cb. Returns 0, a reader error, or a callback's value. */
int pyi_reader_run(pyi_reader *r, const pyi_reader_callbacks *cb, void *ctx);

/* Lookups of what has been defined so far; NULL when id is not (yet) defined. */
const char *pyi_reader_string(const pyi_reader *r, uint32_t id, size_t *length);
const pyi_function *pyi_reader_function(const pyi_reader *r, uint32_t id);
const pyi_location *pyi_reader_location(const pyi_reader *r, uint32_t id);
const pyi_stack *pyi_reader_stack(const pyi_reader *r, uint32_t id);
const pyi_thread *pyi_reader_thread(const pyi_reader *r, uint32_t id);
const pyi_process *pyi_reader_process(const pyi_reader *r, uint32_t id);

typedef struct pyi_reader_stats {
    uint64_t file_bytes;      /* bytes consumed so far (the file size at the end) */
    uint64_t chunks;          /* intact chunks delivered */
    uint64_t chunks_damaged;  /* damaged chunks skipped (salvage mode) */
    uint64_t bytes_skipped;   /* bytes not delivered: damage and the truncated tail */
    uint64_t records;         /* records delivered */
    uint64_t samples;
    uint64_t lost_samples;    /* sum of LOST counts */
    uint64_t unknown_records; /* skipped: record types this reader does not know */
    uint64_t unknown_frames;  /* skipped: skippable frames this reader does not know */
    uint64_t dropped_records; /* salvage: records that referred to lost definitions */
    uint64_t strings, functions, locations, stacks, threads, processes; /* defined */
    uint64_t first_time_ns, last_time_ns; /* sample times seen; 0 if none */
    uint64_t damaged;         /* damaged regions skipped (salvage): chunks, records, index */
    int truncated;            /* the file ends inside a frame */
    int has_end;              /* an END record was read: the writer closed cleanly */
    int has_index;            /* a valid index frame and trailer were read */
} pyi_reader_stats;

const pyi_reader_stats *pyi_reader_get_stats(const pyi_reader *r);

/* Damage skipped in salvage mode (and the truncated tail): one line each,
 * "offset N: what", borrowed until pyi_reader_free. */
size_t pyi_reader_damage_count(const pyi_reader *r);
const char *pyi_reader_damage(const pyi_reader *r, size_t index);

/* "NAME: what went wrong, where" for the last error; "" if none. */
const char *pyi_reader_error_detail(const pyi_reader *r);

void pyi_reader_free(pyi_reader *r);

/* ---- Convenience loader ------------------------------------------------ */

/* A whole trace in memory: for tests and small tools. The analyzer streams. */
typedef struct pyi_trace {
    pyi_reader *reader;  /* owns the header and every definition (use the lookups) */
    pyi_sample *samples; /* in file order */
    size_t sample_count;
    pyi_lost *lost;
    size_t lost_count;
    pyi_marker *markers; /* args are not kept (arg_count 0) */
    size_t marker_count;
} pyi_trace;

/* Loads path. On failure *out is NULL and, if detail is not NULL, the message
 * is copied into detail (detail_size bytes). */
int pyi_trace_load(pyi_trace **out, const char *path, const pyi_reader_options *options,
                   char *detail, size_t detail_size);
void pyi_trace_free(pyi_trace *trace);

/* ---- Canonical JSON dump (spec §10) ------------------------------------- */

/*
 * Prints the header, every remaining record and a stats line as JSON lines,
 * exactly as spec §10 defines (the reference reader prints the same bytes).
 * Returns 0 or the reader's error (the lines before it are printed).
 */
int pyi_dump_json(pyi_reader *r, FILE *out);

/* Appends the JSON form of a value to out (spec §10 rules); PYI_E_CORRUPT if
 * a RAW value is not valid msgpack. */
int pyi_value_print_json(const pyi_value *value, FILE *out);

/* ---- Small helpers ------------------------------------------------------ */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t pyi_monotonic_ns(void);
/* CLOCK_REALTIME in nanoseconds since the Unix epoch. */
uint64_t pyi_wall_ns(void);

#ifdef __cplusplus
}
#endif

#endif /* PYI_TRACE_H */
