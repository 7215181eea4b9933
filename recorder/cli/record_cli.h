/* Private to recorder/cli: the pieces of the pyinst-record command. */
/* SPDX-License-Identifier: MIT */
#ifndef PYI_RECORD_CLI_H
#define PYI_RECORD_CLI_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* How the program is named on the command line. */
typedef enum record_run_kind {
    RECORD_RUN_SCRIPT = 0, /* script.py (or a directory / zip with __main__.py) */
    RECORD_RUN_MODULE = 1, /* -m module */
    RECORD_RUN_CODE = 2,   /* -c code */
} record_run_kind;

typedef struct record_options {
    const char *output;      /* -o FILE, NULL = timestamped default */
    double interval;         /* -i seconds */
    const char *interval_text;
    const char *python;      /* --python PATH, NULL = python3 on PATH */
    const char *threads;     /* --threads all|main */
    unsigned max_depth;      /* --max-depth, 0 = the recorder's default */
    double cpu_budget;       /* --cpu-budget, 0 = the recorder's default */
    int sampler_nice;        /* --sampler-nice, default -10 */
    int quiet;               /* -q: no summary */
    int64_t pid;             /* -p/--pid: attach to this process, 0 = run a program */
    double duration;         /* -d/--duration seconds, 0 = until stopped */
    int subprocesses;        /* --subprocesses: follow children (spawns, then attaches) */
    int live;                /* --live: a top-like view while recording */
    uint64_t thread_tid;     /* --threads TID: only this OS thread (attach) */
    record_run_kind kind;
    const char *target;      /* script path, module name or code */
    char **args;             /* the program's own arguments */
    int arg_count;
} record_options;

/* Exit statuses of pyinst-record itself (the program's own status otherwise). */
#define RECORD_EXIT_FAILED 1 /* recording failed after it started */
#define RECORD_EXIT_USAGE 2  /* bad arguments, or a process that cannot be recorded */

/* The program's command line: python [-m|-c] target args..., NULL-terminated
 * and pointing into o (free only the array); NULL when out of memory. */
char **record_program_argv(const record_options *o, const char *python);

/* Whether the options ask for the attach engine (another process, or spawn then attach). */
int record_uses_attach(const record_options *o);

/* Parses argv. Returns 0 to run, 1 when --help/--version printed and we
 * should exit 0, -1 on an error (message in err). */
int record_parse_args(int argc, char **argv, record_options *o, char *err, size_t err_size);

/* The usage text. */
void record_usage(FILE *out);

typedef struct record_python {
    char path[PATH_MAX];    /* the interpreter, resolved on PATH */
    char implementation[32];
    int major, minor, micro;
} record_python;

/* Runs the interpreter once (-I -S) to learn what it is. 0 or -1 with err. */
int record_probe_python(const char *name, record_python *py, char *err, size_t err_size);

/* Finds the pyinst package folder and checks it has an extension for py.
 * 0 or -1 with err. */
int record_find_package(const record_python *py, char *dir, size_t dir_size, char *err,
                        size_t err_size);

/* Finds name on PATH or as a path with a slash; 0 or -1. */
int record_find_program(const char *name, char *out, size_t size);

/* Writes a default trace name (pyinst-YYYYmmdd-HHMMSS[-N].pyitrace) into out. */
void record_default_output(char *out, size_t size);

/* How to show the report: "pyinst-report" on PATH, else the one next to us. */
void record_report_command(char *out, size_t size);

/* argv joined with spaces (for the trace header), cut to size. */
void record_join_command(int argc, char **argv, char *out, size_t size);

/* Records another process (o->pid), or runs the program and records it from
 * outside (--subprocesses, --live). Returns the exit status. */
int record_attach_main(const record_options *o, int argc, char **argv);

#endif /* PYI_RECORD_CLI_H */
