/* Finds the CPython runtime of another process from /proc and its ELF files (attach by pid). */
/* SPDX-License-Identifier: MIT */
#include "pyi/attach.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "elf_image_internal.h"
#include "engine_internal.h"
#include "proc_maps_internal.h"

/* ---- Internal --------------------------------------------------------- */

#define RETRY_SLEEP_NS 5000000L /* between attempts while a process starts */
#define CAP_SYS_PTRACE_BIT 19

enum { SYM_RUNTIME, SYM_VERSION, SYM_CODE_TYPE, SYM_COUNT };
static const char *const symbol_names[SYM_COUNT] = {"_PyRuntime", "Py_Version", "PyCode_Type"};

/* Where one binary's symbols landed in the process. */
typedef struct located {
    uint64_t runtime, version, code_type; /* process addresses, 0 = not found */
    int minor_from_name;                  /* 3.<minor> from the file name, -1 = none */
    char release[32];                     /* "3.9.18" from .rodata before 3.11, or "" */
} located;

static int problem(pyi_attach_info *info, pyi_attach_problem kind, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int problem(pyi_attach_info *info, pyi_attach_problem kind, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(info->message, sizeof info->message, fmt, ap);
    va_end(ap);
    info->problem = kind;
    return rc;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* "libpython3.11.so.1.0", "python3.9", "libpython2.7.so" -> major and minor. */
static int version_from_name(const char *path, int *major, int *minor)
{
    const char *name = base_name(path), *at = strstr(name, "python");
    int n = 0;
    return at != NULL && sscanf(at, "python%d.%d%n", major, minor, &n) == 2 && n > 0 ? 0 : -1;
}

static void version_text(uint32_t hex, char *out, size_t size)
{
    unsigned level = (hex >> 4) & 0xf, serial = hex & 0xf;
    const char *suffix = level == 0xa ? "a" : level == 0xb ? "b" : level == 0xc ? "rc" : "";
    if (suffix[0])
        snprintf(out, size, "%u.%u.%u%s%u", hex >> 24, (hex >> 16) & 0xff, (hex >> 8) & 0xff,
                 suffix, serial);
    else
        snprintf(out, size, "%u.%u.%u", hex >> 24, (hex >> 16) & 0xff, (hex >> 8) & 0xff);
}

/* Before 3.11 there is no Py_Version; the PY_VERSION literal ("3.9.18",
 * "3.10.0rc2", "3.8.18+") sits in .rodata, often as the tail of a longer
 * string (linkers merge "Python-3.9.18" and "3.9.18"). Finds the first
 * "3.<minor>.<digits>[a|b|rc<digits>][+]" that ends at a NUL and does not
 * continue a number. */
static void release_from_rodata(const pyi_elf_image *e, int minor, char *out, size_t size)
{
    enum { MAX_RODATA = 64 << 20 };
    out[0] = '\0';
    if (minor < 0 || e->rodata.size == 0 || e->rodata.size > MAX_RODATA)
        return;
    char *data = malloc(e->rodata.size + 1);
    if (data == NULL || pyi_elf_read(e, e->rodata.offset, data, e->rodata.size) != 0) {
        free(data);
        return;
    }
    data[e->rodata.size] = '\0';
    char prefix[16];
    size_t prefix_len = (size_t)snprintf(prefix, sizeof prefix, "3.%d.", minor);
    const char *end = data + e->rodata.size;
    for (const char *text = data; (text = memmem(text, (size_t)(end - text), prefix,
                                                  prefix_len)) != NULL; text++) {
        if (text > data && ((text[-1] >= '0' && text[-1] <= '9') || text[-1] == '.'))
            continue;
        const char *c = text + prefix_len;
        if (*c < '0' || *c > '9')
            continue;
        while (*c >= '0' && *c <= '9')
            c++;
        if (*c == 'a' || *c == 'b' || (c[0] == 'r' && c[1] == 'c')) {
            c += *c == 'r' ? 2 : 1;
            if (*c < '0' || *c > '9')
                continue;
            while (*c >= '0' && *c <= '9')
                c++;
        }
        if (*c == '+')
            c++;
        if (*c == '\0' && (size_t)(c - text) < size) {
            memcpy(out, text, (size_t)(c - text) + 1);
            break;
        }
    }
    free(data);
}

/* The path to open a file the process maps: through its root, so that a
 * container's files resolve; a deleted executable through /proc/PID/exe. */
static void readable_path(int64_t pid, const char *path, int is_exe, char *out, size_t size)
{
    static const char deleted[] = " (deleted)";
    size_t n = strlen(path), d = sizeof deleted - 1;
    if (n > d && strcmp(path + n - d, deleted) == 0 && is_exe)
        snprintf(out, size, "/proc/%" PRId64 "/exe", pid);
    else
        snprintf(out, size, "/proc/%" PRId64 "/root%.*s", pid,
                 (int)(n > d && strcmp(path + n - d, deleted) == 0 ? n - d : n), path);
}

/* The load bias of a file: where its first PT_LOAD is mapped minus its vaddr. */
static int load_bias(const pyi_proc_maps *maps, const char *path, const pyi_elf_image *e,
                     uint64_t *bias)
{
    for (size_t i = 0; i < maps->count; i++) {
        const pyi_map_entry *m = &maps->entries[i];
        if (strcmp(m->path, path) == 0 && m->offset == e->load_offset) {
            *bias = m->start - e->load_vaddr;
            return 0;
        }
    }
    return -1;
}

/* Looks for the runtime in one mapped file. 1 = found, 0 = not in it, < 0 = error (message). */
static int binary_try(int64_t pid, const pyi_proc_maps *maps, const pyi_map_entry *map,
                      int is_exe, pyi_attach_info *info, located *out)
{
    char path[4200];
    int error_number;
    pyi_elf_image elf;
    readable_path(pid, map->path, is_exe, path, sizeof path);
    if (pyi_elf_open(&elf, path, &error_number, info->message, sizeof info->message) != 0)
        return error_number == EACCES || error_number == EPERM ? -PYI_ATTACH_DENIED : 0;
    uint64_t values[SYM_COUNT];
    int found = pyi_elf_find_symbols(&elf, symbol_names, SYM_COUNT, values);
    if (values[SYM_RUNTIME] == 0 && elf.pyruntime.size > 0)
        values[SYM_RUNTIME] = elf.pyruntime.address; /* stripped of symbols */
    uint64_t bias = 0;
    int rc = 0;
    int major, minor;
    out->minor_from_name = version_from_name(map->path, &major, &minor) == 0 && major == 3
                               ? minor : -1;
    out->release[0] = '\0';
    if (found >= 0 && values[SYM_RUNTIME] != 0 && values[SYM_VERSION] == 0)
        release_from_rodata(&elf, out->minor_from_name, out->release, sizeof out->release);
    if (found >= 0 && values[SYM_RUNTIME] != 0) {
        rc = 1;
        if (elf.inode != map->inode) {
            snprintf(info->message, sizeof info->message,
                     "%.900s was replaced on disk since process %" PRId64 " loaded it", map->path,
                     pid);
            rc = -PYI_ATTACH_FAILED;
        } else if (load_bias(maps, map->path, &elf, &bias) != 0) {
            snprintf(info->message, sizeof info->message, "cannot tell where %.900s is loaded",
                     map->path);
            rc = -PYI_ATTACH_FAILED;
        }
    }
    pyi_elf_close(&elf);
    if (rc != 1)
        return rc;
    out->runtime = bias + values[SYM_RUNTIME];
    out->version = values[SYM_VERSION] ? bias + values[SYM_VERSION] : 0;
    out->code_type = values[SYM_CODE_TYPE] ? bias + values[SYM_CODE_TYPE] : 0;
    snprintf(info->binary, sizeof info->binary, "%s", map->path);
    return 1;
}

/* Whether the file is one that may hold the runtime: the executable or a libpython. */
static int is_candidate(const pyi_map_entry *m, const char *exe)
{
    if (m->path[0] != '/' || m->inode == 0)
        return 0;
    return strcmp(m->path, exe) == 0 || strstr(base_name(m->path), "libpython") != NULL;
}

/* The Python version a mapped file is named for ("3.11", "2.7"), for the messages. */
static int python_named(const pyi_proc_maps *maps, char *out, size_t size)
{
    for (size_t i = 0; i < maps->count; i++) {
        int major, minor;
        if (maps->entries[i].path[0] == '/' &&
            version_from_name(maps->entries[i].path, &major, &minor) == 0) {
            snprintf(out, size, "%d.%d", major, minor);
            return 1;
        }
    }
    return 0;
}

/* Finds the runtime among the executable and libpython mappings. */
static int runtime_find(int64_t pid, const pyi_proc_maps *maps, pyi_attach_info *info,
                        located *out)
{
    for (size_t i = 0; i < maps->count; i++) {
        const pyi_map_entry *m = &maps->entries[i];
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(maps->entries[j].path, m->path) == 0;
        if (seen || !is_candidate(m, info->executable))
            continue;
        int rc = binary_try(pid, maps, m, strcmp(m->path, info->executable) == 0, info, out);
        if (rc == -PYI_ATTACH_DENIED)
            return problem(info, PYI_ATTACH_DENIED, PYI_E_IO, "%s", info->message);
        if (rc < 0)
            return problem(info, PYI_ATTACH_FAILED, PYI_E_IO, "%s", info->message);
        if (rc == 1)
            return 0;
    }
    char comm[64] = "", old[16] = "";
    if (pyi_proc_read_file(pid, "comm", comm, sizeof comm) > 0)
        comm[strcspn(comm, "\n")] = '\0';
    int major = 0, minor = 0;
    if (python_named(maps, old, sizeof old) && sscanf(old, "%d.%d", &major, &minor) == 2 &&
        !(major == 3 && minor >= 8 && minor <= 13))
        return problem(info, PYI_ATTACH_UNSUPPORTED, PYI_E_UNSUPPORTED,
                       "process %" PRId64 " (%s) runs Python %s, which pyinst does not record "
                       "(CPython 3.8 to 3.13)", pid, comm, old);
    /* A supported version by name but no runtime yet: a shared build before
     * the loader has mapped libpython, or an exec in progress (a pyenv shim).
     * Retried while the process is young; then it is not one we can read. */
    if (old[0] != '\0' && major == 3)
        return problem(info, PYI_ATTACH_NOT_READY, PYI_E_STATE,
                       "process %" PRId64 " (%s) maps Python %s files but no _PyRuntime was "
                       "found in %.900s or a libpython it maps", pid, comm, old,
                       info->executable);
    return problem(info, PYI_ATTACH_NOT_PYTHON, PYI_E_UNSUPPORTED,
                   "process %" PRId64 " (%s) is not a Python process: neither %.900s nor any "
                   "libpython it maps defines _PyRuntime", pid, comm, info->executable);
}

/* Classifies a failed read of the process's memory. */
static int memory_problem(int64_t pid, const located *where, pyi_attach_info *info)
{
    uint64_t word;
    struct iovec local = {&word, sizeof word};
    struct iovec remote = {(void *)(uintptr_t)where->runtime, sizeof word};
    errno = 0;
    if (process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0) == (ssize_t)sizeof word)
        return problem(info, PYI_ATTACH_FAILED, PYI_E_IO, "%s", info->message);
    if (errno == ESRCH)
        return problem(info, PYI_ATTACH_NO_PROCESS, PYI_E_IO, "process %" PRId64 " exited",
                       pid);
    if (errno == EPERM || errno == EACCES) {
        char hint[900];
        pyi_attach_permission_hint(pid, hint, sizeof hint);
        return problem(info, PYI_ATTACH_DENIED, PYI_E_IO, "%s", hint);
    }
    return problem(info, PYI_ATTACH_FAILED, PYI_E_IO,
                   "cannot read _PyRuntime of process %" PRId64 " at 0x%" PRIx64 ": %s", pid,
                   where->runtime, strerror(errno));
}

/* The version: _Py_DebugOffsets (3.13+), Py_Version (3.11+), or the file name. */
static int version_find(int64_t pid, pyi_mem_reader *mem, const located *where,
                        pyi_attach_info *info)
{
    unsigned char head[16];
    uint32_t hex = 0;
    if (pyi_mem_read(mem, where->runtime, head, sizeof head) == 0 &&
        memcmp(head, PYI_DEBUG_OFFSETS_COOKIE, 8) == 0)
        memcpy(&hex, head + 8, sizeof hex);
    else if (where->version != 0 && pyi_mem_read(mem, where->version, &hex, sizeof hex) != 0)
        hex = 0;
    if (hex != 0) {
        version_text(hex, info->version, sizeof info->version);
    } else if (where->minor_from_name >= 0) {
        hex = 0x03000000u | ((uint32_t)where->minor_from_name << 16);
        if (where->release[0])
            snprintf(info->version, sizeof info->version, "%s", where->release);
        else
            snprintf(info->version, sizeof info->version, "3.%d", where->minor_from_name);
    } else {
        return problem(info, PYI_ATTACH_UNSUPPORTED, PYI_E_UNSUPPORTED,
                       "cannot tell which Python version process %" PRId64 " runs (%.900s has "
                       "no Py_Version and its name has no version)", pid, info->binary);
    }
    unsigned major = hex >> 24, minor = (hex >> 16) & 0xff;
    if (major != 3 || minor < 8 || minor > 13)
        return problem(info, PYI_ATTACH_UNSUPPORTED, PYI_E_UNSUPPORTED,
                       "process %" PRId64 " runs CPython %s, which pyinst does not record "
                       "(CPython 3.8 to 3.13)", pid, info->version);
    info->target.python_version_hex = hex;
    return 0;
}

/* Checks that the runtime leads to a thread (the interpreter has started). */
static int readiness_check(int64_t pid, pyi_mem_reader *mem, pyi_attach_info *info)
{
    pyi_py_layout layout;
    char msg[512];
    int rc = pyi__layout_select(mem, &info->target, &layout, msg, sizeof msg);
    if (rc != 0)
        return problem(info, PYI_ATTACH_UNSUPPORTED, PYI_E_UNSUPPORTED,
                       "process %" PRId64 ": %s", pid, msg);
    pyi_probe probe = {0};
    rc = pyi__target_probe(mem, &layout, &info->target, &probe, msg, sizeof msg);
    info->threads = probe.threads;
    if (rc != 0)
        return problem(info, PYI_ATTACH_NOT_READY, PYI_E_STATE,
                       "the CPython %s of process %" PRId64 " has no readable thread yet "
                       "(starting or finishing)", info->version, pid);
    return 0;
}

static int maps_problem(int64_t pid, int error_number, pyi_attach_info *info)
{
    if (error_number == EACCES || error_number == EPERM) {
        char hint[900];
        pyi_attach_permission_hint(pid, hint, sizeof hint);
        return problem(info, PYI_ATTACH_DENIED, PYI_E_IO, "%s", hint);
    }
    if (error_number == ENOENT || error_number == ESRCH)
        return problem(info, PYI_ATTACH_NO_PROCESS, PYI_E_IO, "no process with pid %" PRId64,
                       pid);
    return problem(info, PYI_ATTACH_FAILED, PYI_E_IO, "cannot read /proc/%" PRId64 "/maps: %s",
                   pid, strerror(error_number));
}

/* Reads /proc/PID/exe into info->executable. 0 or an errno. */
static int executable_read(int64_t pid, pyi_attach_info *info)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/%" PRId64 "/exe", pid);
    ssize_t n = readlink(link, info->executable, sizeof info->executable - 1);
    if (n < 0)
        return errno;
    info->executable[n] = '\0';
    return 0;
}

static int located_check(int64_t pid, const pyi_proc_maps *maps, pyi_attach_info *info)
{
    located where = {0};
    int rc = runtime_find(pid, maps, info, &where);
    if (rc != 0)
        return rc;
    pyi_mem_reader mem;
    char msg[512];
    if (pyi_mem_open(&mem, (int)pid, PYI_MEMORY_AUTO, msg, sizeof msg) != 0) {
        snprintf(info->message, sizeof info->message, "%s", msg);
        return memory_problem(pid, &where, info);
    }
    info->target.pid = pid;
    info->target.runtime_address = where.runtime;
    info->target.code_type_address = where.code_type;
    rc = version_find(pid, &mem, &where, info);
    if (rc == 0)
        rc = readiness_check(pid, &mem, info);
    pyi_mem_close(&mem);
    if (rc == 0)
        snprintf(info->message, sizeof info->message,
                 "process %" PRId64 ": CPython %s in %.900s, %d thread(s)", pid, info->version,
                 info->binary, info->threads);
    return rc;
}

static uint64_t process_age_ms(int64_t pid)
{
    uint64_t start = pyi_proc_start_ticks(pid);
    long ticks = sysconf(_SC_CLK_TCK);
    struct timespec now;
    if (start == 0 || ticks <= 0 || clock_gettime(CLOCK_BOOTTIME, &now) != 0)
        return UINT64_MAX;
    uint64_t now_ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
    uint64_t start_ms = start * 1000u / (uint64_t)ticks;
    return now_ms > start_ms ? now_ms - start_ms : 0;
}

/* Reads a small text file into out; "" when it cannot. */
static void read_text(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "re");
    out[0] = '\0';
    if (f == NULL)
        return;
    if (fgets(out, (int)size, f) == NULL)
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

static int has_cap_sys_ptrace(void)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "re");
    unsigned long long caps = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "CapEff: %llx", &caps) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return (caps >> CAP_SYS_PTRACE_BIT) & 1;
}

/* The real uid of pid from its status, or -1. */
static long process_uid(int64_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%" PRId64 "/status", pid);
    FILE *f = fopen(path, "re");
    long uid = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "Uid: %ld", &uid) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return uid;
}

/* ---- Public ----------------------------------------------------------- */

int pyi_attach_locate(int64_t pid, pyi_attach_info *info)
{
    memset(info, 0, sizeof *info);
    if (pid <= 0 || pid > INT32_MAX)
        return problem(info, PYI_ATTACH_NO_PROCESS, PYI_E_IO, "no process with pid %" PRId64,
                       pid);
    pyi_proc_maps maps;
    int error_number = pyi_proc_maps_read(pid, &maps);
    if (error_number != 0)
        return maps_problem(pid, error_number, info);
    error_number = executable_read(pid, info);
    int rc;
    if (error_number != 0 || maps.count == 0) {
        int gone = !pyi_proc_is_alive(pid);
        rc = error_number == EACCES || error_number == EPERM
                 ? maps_problem(pid, error_number, info)
                 : problem(info, gone ? PYI_ATTACH_NO_PROCESS : PYI_ATTACH_NOT_PYTHON,
                           PYI_E_IO, "process %" PRId64 " %s", pid,
                           gone ? "exited" : "is a kernel thread, not a Python process");
    } else {
        info->ns_pid = pyi_proc_ns_pid(pid);
        rc = located_check(pid, &maps, info);
    }
    pyi_proc_maps_free(&maps);
    return rc;
}

int pyi_attach_wait(int64_t pid, uint32_t startup_ms, pyi_attach_info *info)
{
    for (;;) {
        int rc = pyi_attach_locate(pid, info);
        if (rc == 0 || info->problem == PYI_ATTACH_NO_PROCESS ||
            info->problem == PYI_ATTACH_DENIED || info->problem == PYI_ATTACH_UNSUPPORTED ||
            process_age_ms(pid) >= startup_ms)
            return rc;
        struct timespec pause = {0, RETRY_SLEEP_NS};
        nanosleep(&pause, NULL);
    }
}

void pyi_attach_permission_hint(int64_t pid, char *out, size_t size)
{
    char scope[32];
    read_text("/proc/sys/kernel/yama/ptrace_scope", scope, sizeof scope);
    long owner = process_uid(pid), me = (long)geteuid();
    const char *scope_text = scope[0] ? scope : "not set (no Yama)";
    int capable = has_cap_sys_ptrace();
    if (owner >= 0 && owner != me && !capable)
        snprintf(out, size,
                 "permission denied: process %" PRId64 " belongs to uid %ld, not to you (uid "
                 "%ld); reading it needs root or CAP_SYS_PTRACE (kernel.yama.ptrace_scope: %s)",
                 pid, owner, me, scope_text);
    else if (scope[0] && scope[0] != '0' && !capable)
        snprintf(out, size,
                 "permission denied: reading process %" PRId64 " needs CAP_SYS_PTRACE, or "
                 "kernel.yama.ptrace_scope 0 for processes of your own uid (now %s%s)",
                 pid, scope, scope[0] == '3' ? ": no process may be read until reboot" : "");
    else
        snprintf(out, size,
                 "permission denied: reading process %" PRId64 " needs CAP_SYS_PTRACE%s, or "
                 "the same uid with kernel.yama.ptrace_scope 0 (now: %s); a process that "
                 "made itself non-dumpable needs CAP_SYS_PTRACE",
                 pid, capable ? " (held, but refused: a container or LSM may forbid it)" : "",
                 scope_text);
}

int pyi_attach_is_alive(int64_t pid)
{
    return pid > 0 && pyi_proc_is_alive(pid);
}

int64_t pyi_attach_parent(int64_t pid)
{
    return pyi_proc_parent(pid);
}

uint64_t pyi_attach_start_ticks(int64_t pid)
{
    return pyi_proc_start_ticks(pid);
}
