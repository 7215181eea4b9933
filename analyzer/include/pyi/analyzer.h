/* SPDX-License-Identifier: MIT */
/*
 * The profile model: what pyinst-report, the renderers and the Python API
 * know of a recording. The analyzer reads one or many .pyitrace files through
 * the format library's reader (pyi/trace.h) and aggregates them, as it
 * streams, into a model whose size grows with the number of distinct stacks,
 * never with the number of samples. Everything a renderer shows is a read-only
 * view of that model:
 *
 *   pyi_model        functions, locations, stacks, threads, metadata, and one
 *                    aggregate per (thread, stack): the exact totals;
 *   pyi_tree         a call tree (per thread or combined, optionally with
 *                    thread roots), or an inverted (callers, bottom-up) tree,
 *                    built from the model with processors applied;
 *   pyi_model_visit_stacks  the processed stacks one by one (for folded,
 *                    pprof, speedscope exports);
 *   function / line totals and a downsampled time axis per thread.
 *
 * DAG: analyzer depends on format's reader and writer (merge writes a trace);
 * renderers depend on this header only.
 *
 * Conventions: functions return 0 or a negative pyi_error (pyi/errors.h) and
 * leave a one-line message naming the file where one is involved
 * (pyi_model_error_detail). Ids are dense from 1; 0 means "none". Times are
 * nanoseconds. A model is not thread-safe while it loads; once finished it is
 * read-only and any number of threads may read it and build trees from it.
 */
#ifndef PYI_ANALYZER_H
#define PYI_ANALYZER_H

#include <stddef.h>
#include <stdint.h>

#include "pyi/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PYI_ANALYZER_VERSION "0.1.0"

/* ---- Measures ----------------------------------------------------------- */

/*
 * What a number in a view measures. Samples carry a measured wall weight, the
 * CPU time of the same span when the recorder measured it, and status bits;
 * every aggregate keeps all of them so any view can choose.
 */
typedef enum pyi_metric {
    PYI_METRIC_WALL = 0, /* wall nanoseconds (the sample weights): the default */
    PYI_METRIC_ON_CPU,   /* wall nanoseconds of samples whose status says ON_CPU */
    PYI_METRIC_WAITING,  /* wall nanoseconds of samples not ON_CPU */
    PYI_METRIC_CPU,      /* measured CPU nanoseconds (0 where the trace has none) */
    PYI_METRIC_SAMPLES,  /* number of samples */
} pyi_metric;

/* Totals of a set of samples. All fields add up when sets are merged. */
typedef struct pyi_metrics {
    uint64_t samples;   /* samples */
    uint64_t on_cpu_samples; /* samples whose status says ON_CPU */
    uint64_t wall_ns;   /* sum of sample weights */
    uint64_t on_cpu_ns; /* sum of weights of ON_CPU samples */
    uint64_t cpu_ns;    /* sum of measured CPU time; samples without it add 0 */
} pyi_metrics;

/* The value of one metric; for PYI_METRIC_SAMPLES a count, else nanoseconds. */
uint64_t pyi_metrics_value(const pyi_metrics *m, pyi_metric metric);
/* Adds b into a. */
void pyi_metrics_add(pyi_metrics *a, const pyi_metrics *b);
/* Parses "wall", "cpu", "on-cpu", "waiting" or "samples"; 0, or -1 if unknown. */
int pyi_metric_from_name(const char *name, pyi_metric *metric);

/* ---- Loading: options and filters ---------------------------------------- */

/* Which samples the load keeps, by the status bits. */
typedef enum pyi_state_filter {
    PYI_STATE_ALL = 0,
    PYI_STATE_ON_CPU,  /* only samples with PYI_STATUS_ON_CPU */
    PYI_STATE_WAITING, /* only samples without it */
} pyi_state_filter;

/*
 * Filters applied while loading, sample by sample. A sample that does not
 * pass is not counted anywhere (the header's totals say how many were read).
 * Strings are borrowed for the duration of pyi_model_new only; regexes are
 * POSIX extended (regcomp REG_EXTENDED) and are searched, not anchored.
 */
typedef struct pyi_filter {
    uint64_t time_from_ns;  /* keep samples at or after this offset from their trace's start */
    uint64_t time_to_ns;    /* ...and before this offset; 0 = no end */
    const char *const *threads; /* keep threads whose name equals, or whose model id,  */
    size_t thread_count;        /* native id or "pid:tid" is, one of these; 0 = all    */
    const char *focus;      /* regex on "qualname" or "file:qualname": keep only stacks
                               through a matching function, re-rooted at its outermost
                               occurrence; NULL = no focus */
    const char *const *exclude_functions; /* regexes on qualified names: matching frames */
    size_t exclude_function_count;        /* are removed from stacks (time goes to the caller) */
    const char *const *exclude_files;     /* regexes on file paths (as recorded and as */
    size_t exclude_file_count;            /* normalised): same removal */
    pyi_state_filter state;
} pyi_filter;

/* Called now and then while loading (about every 64 Ki samples, and once per
 * file at its end). file_index counts from 0; file_count is 0 when unknown
 * (pyi_model_add_file), known with pyi_model_load. bytes_done/bytes_total
 * count within the current file (bytes_total 0: unknown, e.g. a pipe).
 * Return non-zero to cancel: the load then fails with PYI_E_STATE. */
typedef int (*pyi_progress_fn)(void *ctx, size_t file_index, size_t file_count,
                               uint64_t bytes_done, uint64_t bytes_total);

typedef struct pyi_model_options {
    pyi_filter filter;
    int salvage;              /* non-zero: skip damaged chunks instead of failing */
    const char *project_root; /* paths below it are shown relative to it; NULL = each
                                 trace's recorded cwd */
    uint32_t timeline_buckets; /* most time buckets kept per thread; 0 = 2048 */
    pyi_progress_fn progress; /* NULL = none */
    void *progress_ctx;
} pyi_model_options;

/* Fills *options with the defaults: everything kept, no progress. */
void pyi_model_options_init(pyi_model_options *options);

/* ---- The model: lifecycle ----------------------------------------------- */

typedef struct pyi_model pyi_model;

/*
 * Creates an empty model. Bad options (a regex that does not compile) fail
 * here with PYI_E_INVALID_ARG; *out then holds the message (free it anyway),
 * or is NULL when memory ran out.
 */
int pyi_model_new(pyi_model **out, const pyi_model_options *options);

/*
 * Streams one trace into the model (call once per file to merge several);
 * path "-" reads standard input.
 * Functions are the same across traces when their qualified name, kind and
 * normalised file path match; threads stay apart (each belongs to its file).
 * Errors (message in pyi_model_error_detail, naming the file):
 * PYI_E_IO, PYI_E_EMPTY, PYI_E_NOT_TRACE, PYI_E_VERSION, PYI_E_TRUNCATED (the
 * header is cut), PYI_E_CORRUPT (damage outside salvage mode), PYI_E_NOMEM,
 * PYI_E_STATE (cancelled by the progress callback, or the model is finished).
 * A file cut inside a chunk loads what is intact and succeeds; the warning is
 * in the source's info (pyi_model_source).
 * After an error the model holds part of the file: free it.
 */
int pyi_model_add_file(pyi_model *model, const char *path);

/* As pyi_model_add_file on a trace in memory (kept alive by the caller during
 * the call only); name is used in messages. */
int pyi_model_add_memory(pyi_model *model, const void *data, size_t size, const char *name);

/* Ends loading: sorts, builds indexes and finishes the timelines. Views below
 * need a finished model; adding files afterwards fails with PYI_E_STATE. */
int pyi_model_finish(pyi_model *model);

/* Convenience: new + add every path + finish. On failure *out is NULL and the
 * message is copied to detail (detail_size bytes, may be 0). */
int pyi_model_load(pyi_model **out, const char *const *paths, size_t path_count,
                   const pyi_model_options *options, char *detail, size_t detail_size);

/* "path: what went wrong" for the last error; "" if none. Borrowed. */
const char *pyi_model_error_detail(const pyi_model *model);

void pyi_model_free(pyi_model *model);

/* ---- The model: definitions --------------------------------------------- */

/* Classification of a function's code, from its kind and file path. */
#define PYI_CODE_APP 0x01u        /* the user's code (not any of the below) */
#define PYI_CODE_STDLIB 0x02u     /* the Python standard library */
#define PYI_CODE_SITE 0x04u       /* a site-packages / dist-packages distribution */
#define PYI_CODE_IMPORTLIB 0x08u  /* import machinery (<frozen importlib._bootstrap...>) */
#define PYI_CODE_PROFILER 0x10u   /* pyinst's own frames, and runpy start-up frames */
#define PYI_CODE_NATIVE 0x20u     /* a native function (PYI_FUNCTION_NATIVE) */
#define PYI_CODE_SYNTHETIC 0x40u  /* made up by a tool (PYI_FUNCTION_SYNTHETIC) */
#define PYI_CODE_LIBRARY (PYI_CODE_STDLIB | PYI_CODE_SITE | PYI_CODE_IMPORTLIB)

typedef struct pyi_model_function {
    uint32_t id;
    const char *name;      /* qualified name, "Class.method", "<module>" */
    const char *file;      /* normalised path: relative to site-packages, the stdlib or
                              the project root; the recorded path otherwise; "" = unknown */
    const char *path;      /* the path as first recorded (for reading source); "" = unknown */
    const char *library;   /* top-level package or module for library code ("json",
                              "requests"); "" for application code */
    uint32_t first_line;   /* 0 = unknown */
    uint32_t kind;         /* PYI_FUNCTION_* of pyi/trace.h: 0 Python, 1 native, 2 synthetic */
    uint32_t code;         /* PYI_CODE_* bits */
} pyi_model_function;

typedef struct pyi_model_location {
    uint32_t id;
    uint32_t function; /* function id */
    uint32_t line;     /* line executing in that frame; 0 = unknown */
} pyi_model_location;

/* Stacks form a prefix tree, as in the trace: a stack is its parent plus one
 * frame. Identical stacks from different traces are one model stack. */
typedef struct pyi_model_stack {
    uint32_t id;
    uint32_t parent;   /* 0 = outermost frame */
    uint32_t location; /* innermost frame */
    uint32_t depth;    /* frames, >= 1 */
} pyi_model_stack;

typedef struct pyi_model_thread {
    uint32_t id;          /* model thread id, dense from 1 over all sources */
    uint32_t source;      /* source id (the file it came from) */
    const char *name;     /* last name the trace gave it; "" if unnamed */
    uint64_t native_id;   /* OS thread id, 0 = unknown */
    int64_t pid;          /* its process, 0 = unknown */
    int is_main;          /* the process's main thread */
    pyi_metrics totals;   /* every kept sample of the thread (stackless ones too) */
    uint64_t first_ns;    /* first and last sample time, relative to the model's start */
    uint64_t last_ns;
} pyi_model_thread;

/* One loaded file and what its header said. */
typedef struct pyi_model_source {
    uint32_t id;
    const char *path;        /* as given to pyi_model_add_file */
    const char *recorder;    /* "pyinst 0.1.0" */
    const char *mode;        /* "wall" or "cpu" */
    const char *program;     /* argv joined by spaces; "" if not recorded */
    const char *hostname, *python, *platform, *cwd;
    int64_t pid;
    uint16_t major, minor;   /* format version of the file */
    uint64_t interval_ns;
    uint64_t start_wall_ns;  /* Unix time of the recording's start */
    uint64_t offset_ns;      /* where its time 0 sits on the model's time axis */
    uint64_t duration_ns;    /* from its start to its last sample */
    uint64_t samples_read;   /* samples in the file, kept or not */
    uint64_t lost_samples;   /* from LOST records */
    uint64_t lost_ns;        /* the wall time they would have covered, when known */
    uint64_t cpu_ns;         /* sum of measured sample CPU time */
    int truncated;           /* the file ends inside a chunk (a crash or a copy cut short) */
    int closed_cleanly;      /* it has an END record */
    uint64_t chunks_damaged; /* skipped in salvage mode */
    const char *warning;     /* one line for the user ("" if none): truncated, damaged... */
} pyi_model_source;

/* Whole-model facts for headers. */
typedef struct pyi_model_info {
    size_t source_count, thread_count, function_count, location_count, stack_count;
    size_t aggregate_count;  /* distinct (thread, stack) pairs */
    uint64_t start_wall_ns;  /* earliest source start (Unix ns) */
    uint64_t duration_ns;    /* length of the model's time axis */
    uint64_t interval_ns;    /* smallest nominal interval of the sources */
    uint64_t samples_read;   /* samples in the files */
    uint64_t lost_samples;
    pyi_metrics totals;      /* every kept sample */
    int has_cpu;             /* some sample measured CPU time */
    int has_status;          /* some source measured the ON_CPU bit */
    uint32_t max_stack_depth; /* frames in the deepest stack (sizes pyi_model_stack_frames) */
} pyi_model_info;

/* All accessors return NULL for an id out of range. Pointers are owned by the
 * model and valid until pyi_model_free. */
const pyi_model_info *pyi_model_get_info(const pyi_model *model);
const pyi_model_source *pyi_model_source_get(const pyi_model *model, uint32_t id);
const pyi_model_thread *pyi_model_thread_get(const pyi_model *model, uint32_t id);
const pyi_model_function *pyi_model_function_get(const pyi_model *model, uint32_t id);
const pyi_model_location *pyi_model_location_get(const pyi_model *model, uint32_t id);
const pyi_model_stack *pyi_model_stack_get(const pyi_model *model, uint32_t id);

/* The aggregates: one per (thread, stack) with the totals of its samples, in
 * order of first appearance. Stack 0 collects samples with no Python frame. */
typedef struct pyi_model_aggregate {
    uint32_t thread;
    uint32_t stack;
    uint64_t first_ns; /* first sample's time on the model's axis */
    pyi_metrics totals;
} pyi_model_aggregate;

const pyi_model_aggregate *pyi_model_aggregates(const pyi_model *model, size_t *count);

/* ---- Processors and views --------------------------------------------- */

/* Tree processors (pyinstrument's names in brackets). */
#define PYI_PROC_HIDE_IMPORTLIB 0x01u   /* drop import-machinery frames [remove_importlib] */
#define PYI_PROC_HIDE_PROFILER 0x02u    /* drop pyinst's own and runpy start-up frames
                                           [remove_first_pyinstrument_frames] */
#define PYI_PROC_GROUP_LIBRARY 0x04u    /* a chain of library frames collapses into its first
                                           frame, listing what it hides [group_library_frames] */
#define PYI_PROC_MERGE_SELF 0x08u       /* a node's self time is one [self] entry; off: one
                                           per executing line [merge_consecutive_self_time] */
#define PYI_PROC_AGGREGATE_CALLS 0x10u  /* calls of one function from different lines of its
                                           caller are one node; off: one node per call site
                                           [aggregate_repeated_calls] */
#define PYI_PROC_COLLAPSE_RECURSION 0x20u /* a function calling itself directly is one frame */
#define PYI_PROC_DEFAULT (PYI_PROC_HIDE_IMPORTLIB | PYI_PROC_HIDE_PROFILER | \
                          PYI_PROC_GROUP_LIBRARY | PYI_PROC_MERGE_SELF |   \
                          PYI_PROC_AGGREGATE_CALLS)

/* Parses "hide-importlib", "hide-profiler", "group-library", "merge-self",
 * "aggregate-calls", "collapse-recursion" into its bit; 0 if unknown. */
unsigned pyi_processor_from_name(const char *name);
/* The name of one bit; NULL if not exactly one known bit. */
const char *pyi_processor_name(unsigned bit);

#define PYI_THREAD_ALL 0u /* pyi_view_options.thread: every thread */

typedef struct pyi_view_options {
    unsigned processors;  /* PYI_PROC_* */
    pyi_metric metric;    /* what sorts and filters; all metrics are still filled in */
    uint32_t thread;      /* a model thread id, or PYI_THREAD_ALL */
} pyi_view_options;

/* processors = PYI_PROC_DEFAULT, metric WALL, every thread. */
void pyi_view_options_init(pyi_view_options *options);

/*
 * One processed frame of a visited stack. group_hidden counts the library
 * frames PYI_PROC_GROUP_LIBRARY folded into this one (0 = not a group).
 */
typedef struct pyi_view_frame {
    uint32_t location;     /* model location (function + line executing) */
    uint32_t function;     /* its function, for convenience */
    uint32_t call_line;    /* line of the caller that called it; 0 for the outermost */
    uint32_t group_hidden; /* frames hidden under this one by library grouping */
    uint32_t flags;        /* PYI_NODE_RECURSIVE when direct recursion was folded here */
} pyi_view_frame;

/* Called once per aggregate that survives the view, with its processed frames
 * outermost first (depth may be 0: no Python frame, or everything hidden).
 * The array is borrowed for the call. Non-zero stops the visit. */
typedef int (*pyi_stack_visit_fn)(void *ctx, uint32_t thread, const pyi_view_frame *frames,
                                  size_t depth, const pyi_metrics *totals);

/* The processed frames of one model stack (e.g. a timeline bucket's top_stack),
 * outermost first, into frames (capacity entries; max_stack_depth is always
 * enough). Returns the depth (0 for stack 0 or when everything is hidden), or
 * PYI_E_LIMIT when capacity is too small. */
int pyi_model_stack_frames(const pyi_model *model, unsigned processors, uint32_t stack,
                           pyi_view_frame *frames, size_t capacity);

/* Visits the processed stacks in aggregate order. Returns 0, PYI_E_NOMEM, or
 * the callback's non-zero value. */
int pyi_model_visit_stacks(const pyi_model *model, const pyi_view_options *view,
                           pyi_stack_visit_fn fn, void *ctx);

/* ---- Call trees ------------------------------------------------------- */

typedef enum pyi_node_kind {
    PYI_NODE_ROOT = 0,  /* the tree's root: the totals of everything in it */
    PYI_NODE_THREAD,    /* a thread (tree built with thread_roots) */
    PYI_NODE_FRAME,     /* a call of a function */
    PYI_NODE_SELF,      /* [self]: time of the parent not spent in a shown child */
    PYI_NODE_NO_STACK,  /* samples without any Python frame, e.g. an idle thread */
} pyi_node_kind;

#define PYI_NODE_GROUP 0x01u     /* library frames are folded into this one (hidden_frames) */
#define PYI_NODE_RECURSIVE 0x02u /* direct recursion was collapsed into this frame */

typedef struct pyi_tree_node {
    uint32_t id;           /* index in the tree; 0 is the root */
    uint32_t parent;       /* 0 for the root's children (and the root itself) */
    uint32_t first_child;  /* 0 = none; children are sorted by the view metric, largest first */
    uint32_t next_sibling; /* 0 = last */
    uint32_t child_count;
    uint32_t depth;        /* root 0 */
    pyi_node_kind kind;
    uint32_t flags;        /* PYI_NODE_* */
    uint32_t function;     /* FRAME/SELF: model function id; 0 otherwise */
    uint32_t line;         /* FRAME: call site in the caller when calls are not aggregated,
                              else 0; SELF: executing line when self is not merged, else 0 */
    uint32_t thread;       /* THREAD: model thread id; 0 otherwise */
    uint32_t hidden_frames; /* GROUP: distinct library frames folded in */
    pyi_metrics total;     /* everything at and below this node */
    pyi_metrics self;      /* samples whose stack ends here (for FRAME) */
} pyi_tree_node;

typedef struct pyi_tree_options {
    pyi_view_options view;
    int thread_roots;      /* non-zero: the root's children are threads */
    int inverted;          /* non-zero: callers (bottom-up) tree: the root's children are
                              the innermost frames, their children their callers */
    uint32_t focus_function; /* non-zero: only stacks through this function; normal trees
                                are re-rooted at its outermost call (callees), inverted trees
                                start at its innermost call (callers) */
    double min_share;      /* drop nodes whose total is under this share of the root's
                              (0..1); their time stays in their parent's total. 0 = keep all */
    int self_nodes;        /* non-zero: add [self] children to frames that have both self
                              time and children (pyinstrument style) */
} pyi_tree_options;

/* Default view, no thread roots, not inverted, no focus, min_share 0, self nodes on. */
void pyi_tree_options_init(pyi_tree_options *options);

typedef struct pyi_tree pyi_tree;

/* Builds a tree from a finished model. Errors: PYI_E_STATE (model not
 * finished), PYI_E_INVALID_ARG (unknown thread or function), PYI_E_NOMEM. */
int pyi_tree_build(pyi_tree **out, const pyi_model *model, const pyi_tree_options *options);
void pyi_tree_free(pyi_tree *tree);

/* Nodes are 0..count-1; node 0 is the root. Borrowed from the tree. */
const pyi_tree_node *pyi_tree_node_get(const pyi_tree *tree, uint32_t id);
size_t pyi_tree_node_count(const pyi_tree *tree);
/* The model the tree was built from, and its options. */
const pyi_model *pyi_tree_model(const pyi_tree *tree);
const pyi_tree_options *pyi_tree_get_options(const pyi_tree *tree);
/* For a GROUP node: the libraries its hidden frames belong to, comma separated,
 * e.g. "json, re"; "" otherwise. Borrowed from the tree. */
const char *pyi_tree_node_libraries(const pyi_tree *tree, uint32_t id);

/* ---- Flat views --------------------------------------------------------- */

/* A function's totals: self counts samples where it is the innermost frame,
 * total counts each sample once even when the function recurses. */
typedef struct pyi_function_total {
    uint32_t function;
    pyi_metrics self;
    pyi_metrics total;
} pyi_function_total;

/* Per-function totals under a view (its thread and hide processors apply;
 * grouping does not), sorted by the view metric of self time, largest first.
 * *out is owned by the caller: free() it. */
int pyi_model_function_totals(const pyi_model *model, const pyi_view_options *view,
                              pyi_function_total **out, size_t *count);

/* The same per location (function + executing line): the line totals. */
typedef struct pyi_line_total {
    uint32_t location;
    pyi_metrics self;
    pyi_metrics total;
} pyi_line_total;

int pyi_model_line_totals(const pyi_model *model, const pyi_view_options *view,
                          pyi_line_total **out, size_t *count);

/* ---- Time axis ---------------------------------------------------------- */

/*
 * A thread's samples in fixed-width buckets on the model's time axis, bounded
 * in number (pyi_model_options.timeline_buckets): when a thread outgrows
 * them, neighbours merge and the width doubles. Each bucket names its
 * heaviest stack, so a timeline can draw what the thread was doing.
 */
typedef struct pyi_timeline_bucket {
    uint64_t start_ns;   /* on the model's axis, a multiple of the width; buckets are
                            contiguous from the one holding the thread's first sample */
    pyi_metrics totals;  /* samples that fell in this bucket (all 0 = no sample) */
    uint32_t top_stack;  /* heaviest stack (by wall weight) among those seen, 0 = none */
    uint64_t top_wall_ns; /* its weight in this bucket (a lower bound after merges) */
} pyi_timeline_bucket;

/* The buckets of a thread and their width. NULL (count 0) for an unknown thread
 * or one without samples. Borrowed from the model. */
const pyi_timeline_bucket *pyi_model_timeline(const pyi_model *model, uint32_t thread,
                                              size_t *count, uint64_t *bucket_ns);

/* ---- Writing a model back as a trace ------------------------------------- */

/*
 * Writes the model as a .pyitrace (merge, and convert with filters, use it):
 * one process per source, their threads, every stack, and for each aggregate
 * as many samples as it holds, on and off CPU as counted, with its exact wall
 * and CPU totals spread over them (to the file's microsecond resolution). All
 * samples of an aggregate sit at its first appearance: totals are exact, the
 * time axis is not kept, and markers are not written.
 * Errors: PYI_E_IO, PYI_E_NOMEM, PYI_E_STATE (model not finished); the message
 * is in pyi_model_error_detail.
 */
int pyi_model_write_trace(pyi_model *model, const char *path);

/*
 * Re-encodes one trace record by record (pyinst-report convert to .pyitrace):
 * lossless, with fresh chunking, compression and index; a truncated input
 * yields a cleanly closed file of what was intact, and salvage skips damage.
 * Returns 0 or the reader's or writer's error, with the message copied into
 * detail (detail_size bytes, may be 0).
 */
int pyi_trace_copy(const char *in_path, const char *out_path, int salvage, char *detail,
                   size_t detail_size);

#ifdef __cplusplus
}
#endif

#endif /* PYI_ANALYZER_H */
