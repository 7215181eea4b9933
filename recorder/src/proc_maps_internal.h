/* Private to recorder/: what /proc tells about another process (maps, ids, namespaces). */
/* SPDX-License-Identifier: MIT */
/*
 * Attach-by-pid learns everything it needs about a process that is not ours
 * from /proc: which files are mapped where (to find the interpreter's ELF),
 * its parent, its pid and thread ids inside its own pid namespace (thread
 * states hold those), and whether it still exists. Reading another user's
 * maps needs the same permission as reading its memory, so a failure here
 * says early and clearly which permission is missing.
 */
#ifndef PYI_PROC_MAPS_INTERNAL_H
#define PYI_PROC_MAPS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pyi_map_entry {
    uint64_t start, end;   /* [start, end) in the process */
    uint64_t offset;       /* file offset of start */
    uint64_t inode;        /* 0 = anonymous */
    char perms[5];         /* "r-xp" */
    const char *path;      /* "" for anonymous; "[heap]" etc.; points into the maps' text */
} pyi_map_entry;

typedef struct pyi_proc_maps {
    pyi_map_entry *entries;
    size_t count;
    char *text;            /* the whole file, paths point into it */
} pyi_proc_maps;

/*
 * Reads /proc/PID/maps. Returns 0, or the errno that stopped it: ENOENT /
 * ESRCH (no such process), EACCES / EPERM (not permitted), ENOMEM.
 */
int pyi_proc_maps_read(int64_t pid, pyi_proc_maps *maps);
void pyi_proc_maps_free(pyi_proc_maps *maps);

/* Whether the process exists (and is not a zombie). */
int pyi_proc_is_alive(int64_t pid);

/* The parent pid from /proc/PID/stat, or -1. */
int64_t pyi_proc_parent(int64_t pid);

/* When the process started, in clock ticks since boot (field 22 of stat), or 0. */
uint64_t pyi_proc_start_ticks(int64_t pid);

/* The pid of pid inside its own (innermost) pid namespace: NSpid's last
 * value in /proc/PID/status; pid itself when that line is absent. -1 when
 * the process cannot be read. */
int64_t pyi_proc_ns_pid(int64_t pid);

/* One thread of a process: its id on the host and in the process's namespace. */
typedef struct pyi_task_id {
    uint64_t host;
    uint64_t ns;
} pyi_task_id;

/* Lists the threads of pid (at most max). Returns the count, or -1. */
int pyi_proc_tasks(int64_t pid, pyi_task_id *out, int max);

/* Reads a whole small /proc file (cmdline, comm...) into out (NUL added).
 * Returns the bytes read or -1. */
long pyi_proc_read_file(int64_t pid, const char *name, char *out, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* PYI_PROC_MAPS_INTERNAL_H */
