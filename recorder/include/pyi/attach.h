/* SPDX-License-Identifier: MIT */
/*
 * Attach-by-pid: finds the CPython interpreter of another running process
 * from outside, without stopping it and without any code in it, so that
 * the recorder (pyi/recorder.h) can sample it through process_vm_readv.
 *
 * Everything comes from /proc and the ELF files the process maps:
 * /proc/PID/maps names the executable and any libpython; their dynamic
 * symbols `_PyRuntime`, `Py_Version` and `PyCode_Type` (or the `.PyRuntime`
 * section) give the addresses, read through /proc/PID/root so that files
 * inside containers resolve; the version comes from `_Py_DebugOffsets`
 * (3.13+), `Py_Version` (3.11+), or before that the library's name and the
 * PY_VERSION literal in its .rodata. Shared (pyenv) and
 * static (Debian's /usr/bin/python3.11) builds both work.
 *
 * Depends on: the recorder's internals (memory reader, layouts, walker).
 * Thread safety: the functions keep no state; any thread.
 */
#ifndef PYI_ATTACH_H
#define PYI_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "pyi/recorder.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Why a process cannot be recorded (pyi_attach_info.problem). */
typedef enum pyi_attach_problem {
    PYI_ATTACH_OK = 0,
    PYI_ATTACH_NO_PROCESS = 1,  /* no such pid, or it exited */
    PYI_ATTACH_DENIED = 2,      /* not permitted to read it (the message says what is needed) */
    PYI_ATTACH_NOT_PYTHON = 3,  /* no CPython runtime in it */
    PYI_ATTACH_UNSUPPORTED = 4, /* a Python pyinst does not record (the message names it) */
    PYI_ATTACH_NOT_READY = 5,   /* the runtime is there but has no thread (starting, ending) */
    PYI_ATTACH_FAILED = 6,      /* anything else (unreadable files...) */
} pyi_attach_problem;

typedef struct pyi_attach_info {
    pyi_target target;          /* ready for pyi_recorder_start / _add_process */
    pyi_attach_problem problem; /* PYI_ATTACH_OK when target is usable */
    char version[32];           /* "3.11.7", or "3.9" when only the minor is known */
    char binary[4096];          /* file holding _PyRuntime, as the process names it */
    char executable[4096];      /* /proc/PID/exe, as the process names it */
    int64_t ns_pid;             /* the pid inside the process's own pid namespace */
    int threads;                /* Python threads seen by the readiness check */
    char message[1024];         /* one line: what was found, or what is wrong */
} pyi_attach_info;

/*
 * Looks once for the interpreter of pid: maps, ELF symbols, version, and a
 * check that its runtime leads to at least one readable thread state.
 * Returns 0 (info->problem == PYI_ATTACH_OK), or a negative pyi_error with
 * info->problem and info->message saying why (PYI_E_UNSUPPORTED for
 * NOT_PYTHON/UNSUPPORTED, PYI_E_STATE for NOT_READY, PYI_E_IO otherwise).
 */
int pyi_attach_locate(int64_t pid, pyi_attach_info *info);

/*
 * As pyi_attach_locate, retrying while the process is young: as long as it
 * started less than startup_ms ago (an interpreter that is still loading or
 * initialising), a NOT_PYTHON or NOT_READY result is retried every few
 * milliseconds. A process older than that gets a single attempt.
 */
int pyi_attach_wait(int64_t pid, uint32_t startup_ms, pyi_attach_info *info);

/*
 * One line on why reading pid's memory is denied and what would permit it:
 * the owners, CAP_SYS_PTRACE, and kernel.yama.ptrace_scope with its value.
 */
void pyi_attach_permission_hint(int64_t pid, char *out, size_t size);

/* Whether pid exists and is not a zombie. */
int pyi_attach_is_alive(int64_t pid);

/* The parent of pid, or -1. */
int64_t pyi_attach_parent(int64_t pid);

/* When pid started (clock ticks since boot; distinguishes a reused pid), 0 if unknown. */
uint64_t pyi_attach_start_ticks(int64_t pid);

#ifdef __cplusplus
}
#endif

#endif /* PYI_ATTACH_H */
