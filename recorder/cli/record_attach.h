/* Private to recorder/cli: the pieces of pyinst-record's attach mode (header facts, children, live view). */
/* SPDX-License-Identifier: MIT */
#ifndef PYI_RECORD_ATTACH_H
#define PYI_RECORD_ATTACH_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "pyi/attach.h"
#include "pyi/recorder.h"
#include "pyi/trace.h"

#define RECORD_ARGV_MAX 256
#define RECORD_CMDLINE_MAX 8192

/* What the trace records about one process (from /proc). */
typedef struct record_process_info {
    char cmdline[RECORD_CMDLINE_MAX]; /* NUL-separated, as /proc gives it */
    char *argv[RECORD_ARGV_MAX];      /* into cmdline */
    size_t argc;
    char cwd[PATH_MAX];
    char executable[PATH_MAX];
    char python[32];                  /* "3.11.7" */
    unsigned char argv_packed[RECORD_CMDLINE_MAX + 3 * RECORD_ARGV_MAX + 3]; /* msgpack array */
    pyi_meta_entry meta[5];           /* for a PROCESS record: argv, cwd, python... */
    size_t meta_count;
} record_process_info;

/* A trace header about a process, with the storage it points into. */
typedef struct record_header {
    pyi_header header;
    char hostname[256];
    char platform[80];
    pyi_meta_entry extra[3];
} record_header;

/* Reads argv, cwd and executable of pid; python_version is what attach found. */
void record_process_info_read(int64_t pid, const char *python_version, record_process_info *p);

/* The header for a recording of pid: how is "pid" (attached) or "spawn"
 * (started by pyinst-record), command our own command line. Points into p. */
void record_header_fill(int64_t pid, const record_process_info *p, const char *how,
                        const char *command, record_header *out);

/* ---- Children (record_children.c) -------------------------------------- */

typedef struct record_children record_children;

/* Follows the descendants of root_pid (which the recording already holds).
 * also_parent (0 = none): a process whose children count as descendants too
 * (pyinst-record itself as a subreaper: orphans are reparented to it). */
record_children *record_children_new(int64_t root_pid, int64_t also_parent, int quiet);
void record_children_free(record_children *c);

/*
 * Looks for new descendants (a scan of /proc) and adds the Python ones to
 * the recording, each with one attempt, retried only while the process is
 * starting. Processes that exec are looked at again. Returns how many were
 * added. Call it every ~100 ms; sooner while *busy says processes are
 * starting.
 */
int record_children_poll(record_children *c, pyi_recorder *r, int *busy);

/* ---- Live view (record_live.c) ------------------------------------------- */

typedef struct record_live record_live;

/* A live view on stdout: a full-screen table on a terminal, periodic plain
 * lines otherwise. Keys are read from stdin when it is a terminal. */
record_live *record_live_new(void);

/* Takes over the terminal (alternate screen, keys); NULL is fine. */
void record_live_begin(record_live *l);

/* Restores the terminal and frees the view. NULL is fine. */
void record_live_free(record_live *l);

/* The recorder's sample hook (pyi_recorder_options.on_sample, ctx = the view). */
void record_live_on_sample(void *ctx, const pyi_recorder_sample_info *sample);

/* The descriptor to poll for keys, or -1. */
int record_live_key_fd(const record_live *l);

/* Reads waiting keys; returns 1 when the user asked to quit. */
int record_live_keys(record_live *l);

/* Redraws when due; returns the milliseconds until the next redraw. */
int record_live_tick(record_live *l, const pyi_recorder_stats *stats, int64_t pid);

/* The terminal changed size (call from the main loop after SIGWINCH). */
void record_live_resized(record_live *l);

#endif /* PYI_RECORD_ATTACH_H */
