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
