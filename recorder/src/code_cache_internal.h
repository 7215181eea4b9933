/* Private to recorder/: turns raw frames into trace location ids through cached code metadata. */
/* SPDX-License-Identifier: MIT */
/*
 * Code objects are keyed by address, which the allocator reuses once a code
 * object dies. So every sample re-reads the head of each distinct code
 * object on the stack (one batched syscall) and compares a fingerprint (type,
 * filename, name, qualname, line table and names pointers, first line)
 * before trusting the cache. A changed fingerprint refills the slot with a
 * new serial, which also retires every cached (code, instruction) location
 * of the old object. Names, files and lines are read and interned only on a
 * miss; a steady state costs no allocation and no string read.
 */
#ifndef PYI_CODE_CACHE_INTERNAL_H
#define PYI_CODE_CACHE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "catalog_internal.h"
#include "mem_reader_internal.h"
#include "py_layout_internal.h"
#include "py_opcodes_internal.h"
#include "py_qualname_internal.h"
#include "pyi/trace.h"
#include "stack_walk_internal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PYI_CODE_CACHE_SLOTS (1u << 14)     /* code objects remembered (power of two) */
#define PYI_LOCATION_CACHE_SLOTS (1u << 16) /* (code, instruction) pairs remembered */
#define PYI_LINETABLE_MAX (256u << 10)      /* larger line tables give line 0 */
#define PYI_BYTECODE_MAX (512u << 10)       /* bytecode bytes copied for call analysis */

typedef struct pyi_code_entry {
    uint64_t address;       /* code object; 0 = free slot */
    uint64_t fingerprint[7]; /* ob_type, filename, name, qualname, linetable, names, locals */
    int32_t firstlineno;
    int32_t firsttraceable; /* 3.11+: first instruction of a started frame; 0 before */
    uint32_t serial;        /* new on every fill; keys the location cache */
    uint32_t function_id;   /* trace function id */
} pyi_code_entry;

typedef struct pyi_location_entry {
    uint32_t serial;        /* code entry serial; 0 = free slot */
    int32_t lasti;
    uint32_t location_id;   /* trace location of (function, line) */
    uint32_t native_location_id; /* leaf below it when it is a call; 0 = none; */
    int analysed;           /* native_location_id was decided */
} pyi_location_entry;

typedef struct pyi_resolver_stats {
    uint64_t code_misses;      /* code objects read and interned */
    uint64_t code_reuses;      /* cached addresses that held another code object */
    uint64_t location_misses;  /* (code, instruction) pairs decoded */
    uint64_t cache_resets;     /* times a full cache was emptied */
} pyi_resolver_stats;

typedef struct pyi_resolver {
    pyi_mem_reader *mem;          /* borrowed */
    const pyi_py_layout *layout;  /* borrowed */
    const pyi_opcode_table *ops;  /* NULL = no native leaves */
    pyi_writer *writer;           /* borrowed; only the sampler thread uses it */
    pyi_catalog *catalog;         /* borrowed; NULL = names are not noted */
    int64_t source_pid;           /* 0: source files are ours to open; else read them through
                                     /proc/PID/root and /proc/PID/cwd (attach) */
    uint64_t code_type;           /* &PyCode_Type in the target, 0 = unchecked */
    uint32_t max_depth;
    pyi_code_entry *codes;        /* PYI_CODE_CACHE_SLOTS */
    uint32_t code_count;
    pyi_location_entry *locations; /* PYI_LOCATION_CACHE_SLOTS */
    uint32_t location_count;
    uint32_t next_serial;
    /* Per-sample scratch, sized for max_depth frames. */
    uint32_t *frame_slot;         /* code slot of each frame, UINT32_MAX = skip frame */
    uint64_t *distinct;           /* distinct code addresses of this sample */
    uint32_t *distinct_slot;      /* their code slots */
    uint32_t *seen;               /* open-addressing set over distinct (index + 1) */
    uint32_t *seen_pos;           /* the seen slots this sample set, to clear them */
    uint32_t seen_mask;
    unsigned char *headers;       /* code_read_size bytes per distinct code */
    pyi_mem_span *spans;
    unsigned char *failed;
    /* Miss scratch. */
    uint8_t *linetable;           /* PYI_LINETABLE_MAX */
    uint8_t *bytecode;            /* PYI_BYTECODE_MAX */
    pyi_source_cache sources;     /* <= 3.10 qualified names */
    uint32_t truncated_location;  /* synthetic "<truncated>" root, 0 until needed */
    pyi_resolver_stats stats;
} pyi_resolver;

/* Allocates the caches and scratch. Returns 0 or PYI_E_NOMEM. */
int pyi_resolver_init(pyi_resolver *r, pyi_mem_reader *mem, const pyi_py_layout *layout,
                      pyi_writer *writer, uint64_t code_type, uint32_t max_depth);
void pyi_resolver_destroy(pyi_resolver *r);

/*
 * Resolves a thread's raw frames (innermost first) into trace location ids,
 * written outermost first into locations (room for depth + 2) with the count
 * in *count. Adds PYI_STATUS_NATIVE_LEAF / PYI_STATUS_TRUNCATED to *status.
 * Returns 0; 1 when the sample is invalid (an unreadable or inconsistent
 * code object); a negative pyi_error when the writer failed (fatal).
 */
int pyi_resolver_resolve(pyi_resolver *r, const pyi_raw_frame *frames, uint32_t depth,
                         int truncated, uint32_t *locations, uint32_t *count,
                         uint32_t *status);

#ifdef __cplusplus
}
#endif

#endif /* PYI_CODE_CACHE_INTERNAL_H */
