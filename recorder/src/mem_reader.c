/* Fault-safe memory reads of this or another process: process_vm_readv, /proc/PID/mem, memfd. */
/* SPDX-License-Identifier: MIT */
#include "mem_reader_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pyi/errors.h"

/* ---- Internal --------------------------------------------------------- */

#define MAX_IOV 1024 /* IOV_MAX on Linux: the most iovecs one process_vm_readv takes */

static int errno_to_result(int error)
{
    switch (error) {
    case ESRCH:
        return PYI_MEM_GONE;
    case EPERM:
    case EACCES:
    case ENOSYS:
        return PYI_MEM_DENIED;
    default:
        return PYI_MEM_FAULT;
    }
}

static int read_vm_readv(pyi_mem_reader *m, uint64_t addr, void *dst, size_t size)
{
    struct iovec local = {dst, size};
    struct iovec remote = {(void *)(uintptr_t)addr, size};
    m->syscalls++;
    ssize_t got = process_vm_readv(m->pid, &local, 1, &remote, 1, 0);
    if (got == (ssize_t)size)
        return 0;
    return got < 0 ? errno_to_result(errno) : PYI_MEM_FAULT;
}

static int read_proc_mem(pyi_mem_reader *m, uint64_t addr, void *dst, size_t size)
{
    /* pread's offset is signed: addresses above 2^63 are kernel space anyway. */
    if (addr > (uint64_t)INT64_MAX - size)
        return PYI_MEM_FAULT;
    m->syscalls++;
    ssize_t got = pread(m->proc_mem_fd, dst, size, (off_t)addr);
    if (got == (ssize_t)size)
        return 0;
    if (got < 0 && errno == ESRCH)
        return PYI_MEM_GONE;
    return PYI_MEM_FAULT;
}

static int read_memfd_once(pyi_mem_reader *m, uint64_t addr, void *dst, size_t size)
{
    /* The kernel copies from our own address space into the memfd and returns
     * EFAULT instead of delivering SIGSEGV when the source is not mapped. */
    m->syscalls++;
    ssize_t put = pwrite(m->memfd, (const void *)(uintptr_t)addr, size, 0);
    if (put != (ssize_t)size)
        return put < 0 && (errno == EPERM || errno == ENOSYS) ? PYI_MEM_DENIED : PYI_MEM_FAULT;
    memcpy(dst, m->memfd_view, size);
    return 0;
}

static int read_memfd(pyi_mem_reader *m, uint64_t addr, void *dst, size_t size)
{
    unsigned char *out = dst;
    while (size > 0) {
        size_t piece = size < PYI_MEM_MEMFD_SIZE ? size : PYI_MEM_MEMFD_SIZE;
        int rc = read_memfd_once(m, addr, out, piece);
        if (rc != 0)
            return rc;
        addr += piece;
        out += piece;
        size -= piece;
    }
    return 0;
}

static int read_with_method(pyi_mem_reader *m, uint64_t addr, void *dst, size_t size)
{
    switch (m->method) {
    case PYI_MEMORY_VM_READV:
        return read_vm_readv(m, addr, dst, size);
    case PYI_MEMORY_PROC_MEM:
        return read_proc_mem(m, addr, dst, size);
    case PYI_MEMORY_MEMFD:
        return read_memfd(m, addr, dst, size);
    default:
        return PYI_MEM_DENIED;
    }
}

static int open_memfd(pyi_mem_reader *m)
{
    m->memfd = pyi_fd_move_high((int)syscall(SYS_memfd_create, "pyinst-read", 1u /* MFD_CLOEXEC */));
    if (m->memfd < 0)
        return -1;
    if (ftruncate(m->memfd, PYI_MEM_MEMFD_SIZE) != 0)
        return -1;
    void *view = mmap(NULL, PYI_MEM_MEMFD_SIZE, PROT_READ, MAP_SHARED, m->memfd, 0);
    if (view == MAP_FAILED)
        return -1;
    m->memfd_view = view;
    return 0;
}

static int open_proc_mem(pyi_mem_reader *m)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", m->pid);
    m->proc_mem_fd = pyi_fd_move_high(open(path, O_RDONLY | O_CLOEXEC));
    return m->proc_mem_fd < 0 ? -1 : 0;
}

/* Some address of the target that must be readable: for ourselves a local
 * variable, for another process the start of its first readable mapping. */
static uint64_t probe_address(const pyi_mem_reader *m, const void *local)
{
    if (m->is_self)
        return (uint64_t)(uintptr_t)local;
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", m->pid);
    FILE *maps = fopen(path, "re");
    if (maps == NULL)
        return 0;
    unsigned long long start = 0, found = 0;
    char perms[8];
    while (found == 0 && fgets(line, sizeof line, maps) != NULL) {
        if (sscanf(line, "%llx-%*x %7s", &start, perms) == 2 && perms[0] == 'r' &&
            strstr(line, "[vvar") == NULL && strstr(line, "[vsyscall]") == NULL)
            found = start;
    }
    fclose(maps);
    return found;
}

/* Prepares one method and checks that it reads the probe address. */
static int try_method(pyi_mem_reader *m, pyi_memory_method method, char *why, size_t why_size)
{
    uint64_t probe_value = 0x7079696e73740a00u; /* the local variable the probe reads */
    m->method = method;
    errno = 0;
    int setup = 0;
    if (method == PYI_MEMORY_PROC_MEM)
        setup = open_proc_mem(m);
    else if (method == PYI_MEMORY_MEMFD)
        setup = m->is_self ? open_memfd(m) : (errno = EINVAL, -1);
    if (setup != 0) {
        snprintf(why, why_size, "%s: %s", pyi_mem_method_name(method), strerror(errno));
        return -1;
    }
    uint64_t address = probe_address(m, &probe_value);
    uint64_t copy = 0;
    errno = 0;
    int rc = address ? read_with_method(m, address, &copy, sizeof copy) : PYI_MEM_FAULT;
    if (rc == 0 && (!m->is_self || copy == probe_value))
        return 0;
    snprintf(why, why_size, "%s: %s", pyi_mem_method_name(method),
             errno ? strerror(errno) : "probe read returned wrong bytes");
    return -1;
}

static void release_method(pyi_mem_reader *m)
{
    if (m->proc_mem_fd >= 0)
        close(m->proc_mem_fd);
    if (m->memfd_view != NULL)
        munmap(m->memfd_view, PYI_MEM_MEMFD_SIZE);
    if (m->memfd >= 0)
        close(m->memfd);
    m->proc_mem_fd = -1;
    m->memfd = -1;
    m->memfd_view = NULL;
}

/* ---- Public (to recorder/) -------------------------------------------- */

int pyi_fd_move_high(int fd)
{
    struct rlimit limit;
    if (fd < 0 || getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur < 64)
        return fd;
    long low = (long)(limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > 4096
                          ? 3072 : limit.rlim_cur * 3 / 4);
    int high = fcntl(fd, F_DUPFD_CLOEXEC, low);
    if (high < 0)
        return fd;
    close(fd);
    return high;
}

const char *pyi_mem_method_name(pyi_memory_method method)
{
    switch (method) {
    case PYI_MEMORY_VM_READV:
        return "process_vm_readv";
    case PYI_MEMORY_PROC_MEM:
        return "/proc/PID/mem";
    case PYI_MEMORY_MEMFD:
        return "memfd";
    default:
        return "auto";
    }
}

int pyi_mem_open(pyi_mem_reader *m, int pid, pyi_memory_method method, char *msg,
                 size_t msg_size)
{
    static const pyi_memory_method order[] = {PYI_MEMORY_VM_READV, PYI_MEMORY_PROC_MEM,
                                              PYI_MEMORY_MEMFD};
    memset(m, 0, sizeof *m);
    m->proc_mem_fd = -1;
    m->memfd = -1;
    m->pid = pid > 0 ? pid : (int)getpid();
    m->is_self = m->pid == (int)getpid();
    char reasons[3][160];
    size_t tried = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (method != PYI_MEMORY_AUTO && order[i] != method)
            continue;
        if (try_method(m, order[i], reasons[tried], sizeof reasons[tried]) == 0)
            return 0;
        release_method(m);
        tried++;
    }
    m->method = PYI_MEMORY_AUTO;
    if (msg_size > 0) {
        int n = snprintf(msg, msg_size, "cannot read the memory of process %d:", m->pid);
        for (size_t i = 0; i < tried && n > 0 && (size_t)n < msg_size; i++)
            n += snprintf(msg + n, msg_size - (size_t)n, "%s %s", i ? ";" : "", reasons[i]);
    }
    return tried == 0 ? PYI_E_INVALID_ARG : PYI_E_UNSUPPORTED;
}

int pyi_mem_read(pyi_mem_reader *m, uint64_t addr, void *dst, size_t size)
{
    m->reads++;
    if (size == 0)
        return 0;
    /* Null and near-null pointers never hold interpreter data: skip the syscall. */
    if (addr < 4096 || addr + size < addr) {
        m->faults++;
        return PYI_MEM_FAULT;
    }
    if (m->prefetch != NULL && pyi__prefetch_lookup(m, addr, dst, size))
        return 0;
    int rc = read_with_method(m, addr, dst, size);
    if (rc != 0)
        m->faults++;
    else if (m->prefetch != NULL)
        pyi__prefetch_log(m, addr, size);
    return rc;
}

int pyi_mem_read_u64(pyi_mem_reader *m, uint64_t addr, uint64_t *value)
{
    return pyi_mem_read(m, addr, value, sizeof *value);
}

/* One process_vm_readv for up to MAX_IOV spans. The kernel stops at the
 * first span it cannot read completely: that one failed, and the rest are
 * read again in one more call, as many times as spans fail. */
static int read_spans_batch(pyi_mem_reader *m, const pyi_mem_span *spans, size_t count,
                            unsigned char *failed)
{
    struct iovec local[MAX_IOV], remote[MAX_IOV];
    int result = 0;
    size_t first = 0;
    while (first < count) {
        size_t total = 0, n = count - first;
        for (size_t i = 0; i < n; i++) {
            local[i].iov_base = spans[first + i].dst;
            local[i].iov_len = spans[first + i].size;
            remote[i].iov_base = (void *)(uintptr_t)spans[first + i].addr;
            remote[i].iov_len = spans[first + i].size;
            total += spans[first + i].size;
        }
        m->syscalls++;
        ssize_t got = process_vm_readv(m->pid, local, n, remote, n, 0);
        if (got == (ssize_t)total)
            return result;
        if (got < 0 && errno == ESRCH)
            return PYI_MEM_GONE;
        if (got < 0 && errno != EFAULT) {
            int hard = errno_to_result(errno); /* EPERM...: nothing more will be read */
            if (failed != NULL)
                memset(failed + first, 1, count - first);
            return hard;
        }
        size_t done = 0, consumed = got > 0 ? (size_t)got : 0;
        while (done < n && consumed >= spans[first + done].size)
            consumed -= spans[first + done++].size;
        result = PYI_MEM_FAULT;
        if (failed != NULL)
            failed[first + done] = 1;
        first += done + 1;
    }
    return result;
}

int pyi_mem_read_spans(pyi_mem_reader *m, const pyi_mem_span *spans, size_t count,
                       unsigned char *failed)
{
    if (m->prefetch == NULL)
        return pyi__mem_read_spans_raw(m, spans, count, failed);
    /* Serve what the round's prefetch holds; read the rest in one batch. */
    pyi_mem_span missing[64];
    size_t where[64], n = 0;
    int result = 0;
    if (failed != NULL)
        memset(failed, 0, count);
    for (size_t i = 0; i < count; i++) {
        if (pyi__prefetch_lookup(m, spans[i].addr, spans[i].dst, spans[i].size))
            continue;
        if (n == 64) { /* rare: a deep stack of code objects never seen */
            int rc = pyi_mem_read(m, spans[i].addr, spans[i].dst, spans[i].size);
            if (rc == PYI_MEM_GONE)
                return rc;
            if (rc != 0 && failed != NULL)
                failed[i] = 1;
            result = rc != 0 ? PYI_MEM_FAULT : result;
            continue;
        }
        where[n] = i;
        missing[n++] = spans[i];
    }
    unsigned char missing_failed[64];
    int rc = n ? pyi__mem_read_spans_raw(m, missing, n, missing_failed) : 0;
    if (rc == PYI_MEM_GONE)
        return rc;
    for (size_t k = 0; k < n; k++) {
        if (rc != 0 && missing_failed[k]) {
            if (failed != NULL)
                failed[where[k]] = 1;
            result = PYI_MEM_FAULT;
        } else {
            pyi__prefetch_log(m, missing[k].addr, missing[k].size);
        }
    }
    return result;
}

int pyi__mem_read_spans_raw(pyi_mem_reader *m, const pyi_mem_span *spans, size_t count,
                            unsigned char *failed)
{
    int result = 0;
    m->reads++;
    if (failed != NULL)
        memset(failed, 0, count);
    if (m->method == PYI_MEMORY_VM_READV) {
        for (size_t start = 0; start < count; start += MAX_IOV) {
            size_t n = count - start < MAX_IOV ? count - start : MAX_IOV;
            int rc = read_spans_batch(m, spans + start, n, failed ? failed + start : NULL);
            if (rc == PYI_MEM_GONE)
                return rc;
            if (rc != 0)
                result = rc;
        }
    } else {
        for (size_t i = 0; i < count; i++) {
            int rc = read_with_method(m, spans[i].addr, spans[i].dst, spans[i].size);
            if (rc == PYI_MEM_GONE)
                return rc;
            if (rc != 0) {
                result = PYI_MEM_FAULT;
                if (failed != NULL)
                    failed[i] = 1;
            }
        }
    }
    if (result != 0)
        m->faults++;
    return result;
}

void pyi_mem_close(pyi_mem_reader *m)
{
    pyi__prefetch_free(m);
    if (m->proc_mem_fd == 0 && m->memfd == 0 && m->memfd_view == NULL)
        return; /* zeroed, never opened */
    release_method(m);
}
