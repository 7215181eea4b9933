/* Private to recorder/: walks interpreters, threads and frame chains into raw stacks. */
/* SPDX-License-Identifier: MIT */
/*
 * The walker only copies and checks memory; it knows nothing of names,
 * lines or the trace. For each Python thread it produces the raw frames
 * (code object address + instruction index), innermost first, plus the
 * thread's identity and GIL/GC state. Works the same on our own process and
 * on another one: all reads go through the pyi_mem_reader.
 */
#ifndef PYI_STACK_WALK_INTERNAL_H
#define PYI_STACK_WALK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mem_reader_internal.h"
#include "py_layout_internal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PYI_WALK_MAX_INTERPRETERS 64
#define PYI_WALK_MAX_THREADS 4096    /* per interpreter */
#define PYI_WALK_CHUNK_BUFFER (1u << 20) /* bytes of 3.11+ data stack copied per thread */
#define PYI_WALK_MAX_CHUNKS 64
#define PYI_WALK_MEMOS 16 /* threads whose last frame chain is remembered */

/* Why a thread's stack could not be read (pyi_thread_snapshot.error). */
#define PYI_WALK_OK 0
#define PYI_WALK_BAD_THREAD 1 /* the thread state itself is unreadable or inconsistent */
#define PYI_WALK_BAD_FRAME 2  /* a frame is unreadable */
#define PYI_WALK_CYCLE 3      /* the frame chain loops */

typedef struct pyi_raw_frame {
    uint64_t address; /* the frame (PyFrameObject or _PyInterpreterFrame) */
    uint64_t code;    /* code object (f_code / f_executable) */
    int32_t lasti;    /* instruction in code units, -1 = not started */
    uint8_t owner;    /* 3.11+ frame owner, 0 before */
} pyi_raw_frame;

typedef struct pyi_thread_snapshot {
    uint64_t tstate;    /* PyThreadState address */
    uint64_t interp;    /* its interpreter */
    int64_t interp_id;
    uint64_t thread_id; /* PyThreadState.thread_id: pthread_t */
    uint64_t native_id; /* Linux TID, 0 = unknown */
    int holds_gil;      /* 1 yes, 0 no, -1 unknown */
    int gc_running;     /* 1 yes, 0 no, -1 unknown */
    int error;          /* PYI_WALK_* */
    int truncated;      /* the stack is deeper than max_depth: the outer frames are cut */
    uint32_t depth;     /* frames filled, innermost first */
    const pyi_raw_frame *frames; /* borrowed from the walker until the next thread */
} pyi_thread_snapshot;

/* The frame chain a thread had at its last walk: most of it is usually still
 * there, so the next walk reads all of it in one scatter read up front
 * instead of one read per frame (frames before 3.11, generator frames). */
typedef struct pyi_chain_memo {
    uint64_t tstate;   /* 0 = free */
    uint64_t *frames;  /* frame addresses, innermost first */
    uint32_t count;
    uint32_t capacity;
    uint64_t last_use; /* walk counter, for replacement */
} pyi_chain_memo;

/* Called once per thread; a non-zero return stops the walk and is returned. */
typedef int (*pyi_walk_fn)(void *ctx, const pyi_thread_snapshot *thread);

typedef struct pyi_walker {
    pyi_mem_reader *mem;        /* borrowed */
    const pyi_py_layout *layout; /* borrowed */
    uint64_t runtime;           /* address of _PyRuntime */
    uint32_t max_depth;         /* frames kept per thread */
    uint64_t only_thread;       /* 0 = all, else the thread_id whose stack is walked */
    uint64_t only_native_id;    /* 0 = all, else the OS thread id (in the target's pid
                                   namespace) whose stack is walked */
    int32_t pthread_tid_offset; /* offset of the TID in glibc's struct pthread; -1 unknown */
    pyi_raw_frame *frames;      /* max_depth entries */
    unsigned char *chunk_buffer; /* PYI_WALK_CHUNK_BUFFER bytes of copied data stack */
    struct {
        uint64_t start, end;    /* remote range [start, end) */
        size_t offset;          /* where it sits in chunk_buffer */
    } chunks[PYI_WALK_MAX_CHUNKS];
    unsigned chunk_count;
    size_t chunk_used;
    uint64_t next_chunk;        /* remote chunk to copy next when a frame misses, 0 = none */
    pyi_chain_memo memos[PYI_WALK_MEMOS];
    uint64_t walks;             /* thread walks so far (memo ages) */
    pyi_chain_memo *memo;       /* the memo of the thread being walked, or NULL */
    unsigned char *prefetched;  /* max_depth frame copies read up front */
    uint32_t *prefetch_slots;   /* open addressing: frame address -> index + 1 */
    uint32_t prefetch_mask;
    pyi_mem_span *prefetch_spans;
    unsigned char *prefetch_failed;
    uint32_t prefetch_count;
    uint64_t frame_reads;       /* frames copied one by one (no chunk, no prefetch) */
    uint64_t prefetch_hits;     /* frames found in the up-front read */
} pyi_walker;

/* Allocates the walker's buffers. Returns 0 or PYI_E_NOMEM. */
int pyi_walker_init(pyi_walker *w, pyi_mem_reader *mem, const pyi_py_layout *layout,
                    uint64_t runtime, uint32_t max_depth);
void pyi_walker_destroy(pyi_walker *w);

/*
 * Walks every thread of every interpreter and calls fn for each. Returns 0,
 * fn's non-zero value, PYI_MEM_GONE when the process is gone, or
 * PYI_WALK_BAD_THREAD as a negative (-1) when the runtime or the interpreter
 * list itself is unreadable (the whole round is invalid).
 */
int pyi_walker_walk(pyi_walker *w, pyi_walk_fn fn, void *ctx);

/*
 * Finds where glibc keeps the kernel TID inside struct pthread, by looking
 * for expected_tid in the struct at pthread_address (a pthread_t). Returns
 * the offset or -1.
 */
int32_t pyi_walker_find_tid_offset(pyi_mem_reader *mem, uint64_t pthread_address,
                                   uint32_t expected_tid);

/*
 * The same for another process, where no thread's TID is known beforehand:
 * reads the struct pthread of each of the count threads (their pthread_t)
 * and returns the offset at which every one holds a distinct id from tids
 * (the process's threads, as its namespace numbers them) with one of them
 * main_tid (the process's own id: its main thread). Prefers glibc's x86_64
 * offset when several fit. Returns -1 when none fits.
 */
int32_t pyi_walker_learn_tid_offset(pyi_mem_reader *mem, const uint64_t *pthreads, size_t count,
                                    const uint64_t *tids, size_t tid_count, uint64_t main_tid);

#ifdef __cplusplus
}
#endif

#endif /* PYI_STACK_WALK_INTERNAL_H */
