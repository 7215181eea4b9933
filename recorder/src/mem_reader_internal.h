/* Private to recorder/: fault-safe reads of a process's memory (this one or another). */
/* SPDX-License-Identifier: MIT */
/*
 * Every byte the sampler learns about the interpreter comes through here. A
 * read of an address that is unmapped, freed or being changed never faults:
 * it returns an error (or bytes the caller must validate). The same reader
 * serves the in-process recorder (target = our own pid) and attach-by-pid.
 *
 * Methods, tried in this order by PYI_MEMORY_AUTO:
 *  - process_vm_readv: one syscall per read, scatter reads in one call;
 *    needs ptrace access for another pid, and some seccomp profiles (Docker's
 *    default) forbid it even on our own pid.
 *  - /proc/PID/mem: pread() at the address; EIO for unmapped pages.
 *  - memfd (own process only): pwrite() the source range into a memfd, which
 *    makes the kernel do the copy and report EFAULT, then read the bytes back
 *    from a mapping of that memfd.
 */
#ifndef PYI_MEM_READER_INTERNAL_H
#define PYI_MEM_READER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pyi_memory_method {
    PYI_MEMORY_AUTO = 0,
    PYI_MEMORY_VM_READV = 1,
    PYI_MEMORY_PROC_MEM = 2,
    PYI_MEMORY_MEMFD = 3,
} pyi_memory_method;

/* Read results: 0, or one of these (negative, distinct from pyi_error). */
#define PYI_MEM_FAULT (-100) /* the range is not readable (unmapped, partial) */
#define PYI_MEM_GONE (-101)  /* the target process no longer exists */
#define PYI_MEM_DENIED (-102) /* the method is not permitted (EPERM, seccomp) */

#define PYI_MEM_MEMFD_SIZE (1u << 20) /* largest single read through the memfd method */

typedef struct pyi_mem_prefetch pyi_mem_prefetch;

typedef struct pyi_mem_reader {
    int pid;                   /* target process; the caller's own pid for in-process */
    int is_self;               /* 1 when pid is this process */
    pyi_memory_method method;  /* the method in use after pyi_mem_open */
    int proc_mem_fd;           /* /proc/PID/mem, -1 if unused */
    int memfd;                 /* memfd of the memfd method, -1 if unused */
    unsigned char *memfd_view; /* read-only mapping of memfd, PYI_MEM_MEMFD_SIZE bytes */
    uint64_t reads;            /* read calls made (each may be one or more syscalls) */
    uint64_t syscalls;         /* syscalls issued by reads */
    uint64_t faults;           /* reads that failed */
    pyi_mem_prefetch *prefetch; /* round prefetch (mem_prefetch.c), NULL = off */
    uint64_t prefetch_hits;    /* reads served from the round's prefetched copies */
} pyi_mem_reader;

/* One piece of a scatter read: size bytes at remote address addr into dst. */
typedef struct pyi_mem_span {
    uint64_t addr;
    void *dst;
    size_t size;
} pyi_mem_span;

/*
 * Opens a reader on pid (0 = this process) with the given method, or the
 * first one that works for PYI_MEMORY_AUTO. Each candidate is probed by
 * reading a known-good address (this process) or the first readable mapping
 * (another one). Returns 0, or PYI_E_UNSUPPORTED / PYI_E_IO with a message in
 * msg (msg_size bytes) saying which methods failed and why.
 */
int pyi_mem_open(pyi_mem_reader *m, int pid, pyi_memory_method method, char *msg,
                 size_t msg_size);

/* Reads size bytes at addr into dst. 0, PYI_MEM_FAULT, PYI_MEM_GONE or PYI_MEM_DENIED. */
int pyi_mem_read(pyi_mem_reader *m, uint64_t addr, void *dst, size_t size);

/*
 * Reads every span (one syscall for up to 1024 spans with process_vm_readv).
 * Returns 0 when all succeeded; otherwise failed[i] (if failed is not NULL) is
 * set to 1 for each span that could not be read, and the result is
 * PYI_MEM_FAULT (or PYI_MEM_GONE).
 */
int pyi_mem_read_spans(pyi_mem_reader *m, const pyi_mem_span *spans, size_t count,
                       unsigned char *failed);

/* Reads a pointer-sized little-endian value. */
int pyi_mem_read_u64(pyi_mem_reader *m, uint64_t addr, uint64_t *value);

/* Releases descriptors and mappings. Safe on a zeroed or already closed reader. */
void pyi_mem_close(pyi_mem_reader *m);

/* ---- Round prefetch (mem_prefetch.c) ----
 *
 * A sampling round reads nearly the same ranges as the round before: the
 * runtime and interpreter fields, each thread state, its current frame's
 * holder, its data stack, the heads of the code objects on its stack. With
 * prefetch on, every successful read of a round is logged, and the next
 * round starts by reading all of those ranges in one scatter read (one
 * process_vm_readv per 1024 ranges). Reads inside the round are then
 * served from those copies when their start address was logged with at
 * least their size, and only the rest cost a syscall (and are logged for
 * the round after). The copies all come from one moment at the round's
 * start, which is no less consistent than reading them one by one.
 */

/* Turns round prefetch on. 0 or PYI_E_NOMEM. */
int pyi_mem_prefetch_enable(pyi_mem_reader *m);

/* Reads last round's ranges up front; later reads may be served from them. */
void pyi_mem_round_begin(pyi_mem_reader *m);

/* Ends the round: the copies are no longer used; this round's log becomes the plan. */
void pyi_mem_round_end(pyi_mem_reader *m);

/* Says that [addr, addr + extent) is readable as one object (a data-stack
 * chunk), so that next round's prefetch of the read at addr may copy more
 * than was asked this time (the used part grows and shrinks). */
void pyi_mem_note_extent(pyi_mem_reader *m, uint64_t addr, uint64_t extent);

/* Internal to the reader: the prefetch hooks of pyi_mem_read/_spans. */
int pyi__prefetch_lookup(pyi_mem_reader *m, uint64_t addr, void *dst, size_t size);
void pyi__prefetch_log(pyi_mem_reader *m, uint64_t addr, size_t size);
void pyi__prefetch_free(pyi_mem_reader *m);
int pyi__mem_read_spans_raw(pyi_mem_reader *m, const pyi_mem_span *spans, size_t count,
                            unsigned char *failed);

/*
 * Moves a descriptor of ours high (close-on-exec), out of the range a
 * profiled program's own open() calls would get, so it sees the numbers it
 * would have seen without us. Returns the new descriptor (or fd unchanged
 * when that is not possible).
 */
int pyi_fd_move_high(int fd);

/* "process_vm_readv", "/proc/PID/mem" or "memfd". */
const char *pyi_mem_method_name(pyi_memory_method method);

#ifdef __cplusplus
}
#endif

#endif /* PYI_MEM_READER_INTERNAL_H */
