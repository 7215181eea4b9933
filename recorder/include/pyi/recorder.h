/* SPDX-License-Identifier: MIT */
/*
 * The pyinst sampling engine: records the Python stacks of a running CPython
 * 3.8-3.13 into a .pyitrace file without taking the GIL and without any hook
 * on the profiled threads. A native sampler thread wakes at a jittered
 * interval, reads the interpreter's memory through fault-safe copies
 * (process_vm_readv, /proc/PID/mem or a memfd) and hands samples to the
 * format library's writer, which compresses and writes on its own thread.
 *
 * The engine knows nothing of the CPython C API: it needs a pyi_target (pid,
 * version, where _PyRuntime and PyCode_Type are), so the same code records
 * this process (the pyinst._recorder extension fills the target from the
 * running interpreter) or another one (attach by pid).
 *
 * Depends on: format (the writer only). Thread safety: each function says
 * which thread may call it.
 */
#ifndef PYI_RECORDER_H
#define PYI_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "pyi/errors.h"
#include "pyi/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PYI_RECORDER_VERSION "0.1.0"

/* Where the interpreter to record is. */
typedef struct pyi_target {
    int64_t pid;                 /* 0 = this process */
    uint32_t python_version_hex; /* PY_VERSION_HEX of the target, e.g. 0x030b07f0 */
    uint64_t runtime_address;    /* &_PyRuntime in the target */
    uint64_t code_type_address;  /* &PyCode_Type in the target; 0 = do not check */
} pyi_target;

/* How to read the target's memory (pyi_recorder_options.memory_method). */
#define PYI_RECORDER_MEMORY_AUTO 0     /* the first that works, in the order below */
#define PYI_RECORDER_MEMORY_VM_READV 1 /* process_vm_readv */
#define PYI_RECORDER_MEMORY_PROC_MEM 2 /* pread on /proc/PID/mem */
#define PYI_RECORDER_MEMORY_MEMFD 3    /* pwrite into a memfd (this process only) */

/* One frame of a sample, as a sample hook sees it. */
typedef struct pyi_recorder_frame {
    uint32_t function_id; /* the trace's function id (the same function in every process) */
    const char *name;     /* qualified name, "<native>" or the callee of a native leaf */
    const char *file;     /* "" for native and synthetic frames */
    uint32_t line;        /* line executing, 0 = unknown */
    uint32_t kind;        /* PYI_FUNCTION_* */
} pyi_recorder_frame;

/* A sample as a hook sees it; every pointer is valid during the call only. */
typedef struct pyi_recorder_sample_info {
    int64_t pid;        /* OS pid of the sampled process */
    uint64_t native_id; /* OS thread id, 0 = unknown */
    uint64_t time_ns;   /* CLOCK_MONOTONIC */
    uint64_t weight_ns; /* wall time the sample stands for */
    uint64_t cpu_ns;    /* CPU time over it, PYI_CPU_UNKNOWN if not measured */
    uint32_t status;    /* PYI_STATUS_* */
    const pyi_recorder_frame *frames; /* outermost first */
    uint32_t depth;
} pyi_recorder_sample_info;

/* Called on the sampler thread after each sample is written: must be quick
 * and must not call into the recorder. */
typedef void (*pyi_recorder_sample_fn)(void *ctx, const pyi_recorder_sample_info *sample);

typedef struct pyi_recorder_options {
    uint64_t interval_ns;   /* nominal interval between samples; 0 = 1 ms */
    uint32_t max_depth;     /* frames kept per stack (innermost); 0 = 2048, at least 64 */
    uint64_t only_thread;   /* 0 = every Python thread; else the one whose thread_id
                               (threading.get_ident()) this is */
    uint64_t only_native_id; /* 0 = no filter; else only the thread whose OS thread id (as
                               the target's pid namespace numbers it) this is */
    double cpu_budget;      /* share of one CPU the sampler may use before it lowers its
                               rate; 0 = 0.1 */
    uint32_t flush_ms;      /* flush the trace this often; 0 = 1000 */
    int memory_method;      /* PYI_RECORDER_MEMORY_* */
    int sampler_nice;       /* nice value the sampler thread asks for, so that it wakes on
                               time on a busy machine (needs CAP_SYS_NICE to go below the
                               process's own; silently kept otherwise). 0 = leave it;
                               PYI_RECORDER_NICE_DEFAULT = -10 */
    int summary_fd;         /* when >= 0: a one-line summary is written here at the end:
                               "LABEL: 2.31 s, 2302 samples, 0 lost, 45 KiB in FILE;
                               report: COMMAND FILE" (also when a signal ends it) */
    const char *summary_label;  /* NULL = "pyinst" */
    const char *report_command; /* NULL = "pyinst-report" */
    pyi_recorder_sample_fn on_sample; /* NULL = none */
    void *on_sample_ctx;
    int prefetch;           /* non-zero: each round reads what the last one read in one
                               scatter read up front (fewer syscalls; for another process) */
} pyi_recorder_options;

#define PYI_RECORDER_NICE_DEFAULT (-10)

/* Fills *options with the defaults (zero, summary_fd -1, sampler_nice
 * PYI_RECORDER_NICE_DEFAULT). */
void pyi_recorder_options_init(pyi_recorder_options *options);

typedef struct pyi_recorder_stats {
    uint64_t duration_ns;       /* from start to the last round */
    uint64_t rounds;            /* sampling rounds (each samples every selected thread) */
    uint64_t samples;           /* samples written */
    uint64_t invalid;           /* thread samples lost to unreadable/inconsistent memory */
    uint64_t missed;            /* rounds skipped because the sampler fell behind */
    uint64_t dropped;           /* samples dropped (thread table full) */
    uint64_t threads;           /* distinct threads seen */
    uint64_t sampler_cpu_ns;    /* CPU time the sampler thread used, sleeping and waking
                                   included (updated every 250 ms and at the end) */
    uint64_t round_cpu_ns;      /* of which inside rounds (reading, resolving, writing),
                                   measured on one round in 16 and scaled */
    uint64_t nominal_interval_ns;
    uint64_t final_interval_ns; /* the interval when recording ended (after any back-off) */
    uint64_t rate_changes;      /* times the sampler changed its interval */
    uint64_t memory_reads;      /* read calls and syscalls they took */
    uint64_t memory_syscalls;
    uint64_t code_misses;       /* code objects resolved */
    int sampler_nice;           /* the sampler thread's nice value while recording */
    uint64_t file_bytes;        /* bytes of trace written */
    int memory_method;          /* the method in use */
    uint64_t cpu_reads;         /* /proc reads of thread CPU times (another process) */
    uint64_t thread_samples;    /* thread walks that gave a sample or a lost record */
    uint64_t processes;         /* processes recorded (1 + children added) */
    uint64_t processes_alive;   /* of which still recorded */
    int targets_exited;         /* recording ended because every recorded process exited */
} pyi_recorder_stats;

typedef struct pyi_recorder pyi_recorder;

/*
 * Checks the target (version, layout, that the runtime and its threads can
 * be read), creates the trace at path with header (recorder, mode, clock,
 * interval and start times are filled in when absent) and starts the
 * sampler thread. Signals are blocked in the threads it starts.
 *
 * On success *out is a running recorder. On failure *out is still a
 * recorder holding the message (pyi_recorder_error_detail), or NULL when
 * memory ran out; free it either way.
 * Errors: PYI_E_UNSUPPORTED (version or build not supported, memory not
 * readable), PYI_E_INVALID_ARG, PYI_E_IO (the trace file), PYI_E_NOMEM,
 * PYI_E_STATE (the layout check failed: the runtime does not look like the
 * version claims).
 */
int pyi_recorder_start(pyi_recorder **out, const char *path, const pyi_header *header,
                       const pyi_target *target, const pyi_recorder_options *options);

/*
 * Stops sampling, writes the summary metadata and closes the trace. Blocks
 * until the sampler thread has exited. Returns 0 or the first error the
 * sampler met (the trace then holds what was written before it). Safe to
 * call twice and after pyi_recorder_finish_from_signal.
 */
int pyi_recorder_stop(pyi_recorder *r);

/* Frees a stopped recorder (stops it first if needed). NULL is fine. */
void pyi_recorder_free(pyi_recorder *r);

/*
 * For the child side of fork(): the sampler and writer threads do not exist
 * there. Releases the recorder without touching the trace or joining
 * anything (the file stays the parent's). Memory held by locks the parent's
 * threads owned at fork time is leaked rather than touched.
 */
void pyi_recorder_abandon(pyi_recorder *r);

/*
 * Names a thread in the trace. thread_id is the target's thread identifier
 * (threading.get_ident()) and native_id its kernel id (threading.get_native_id(),
 * 0 if unknown): together they tell a thread from a later one that reuses
 * the same pthread. The name is applied when the sampler next runs, also if
 * the thread has not been seen yet. Any thread may call it; it never blocks
 * on the sampler for long (a short mutex).
 * Errors: PYI_E_LIMIT when too many names are waiting.
 */
int pyi_recorder_name_thread(pyi_recorder *r, uint64_t thread_id, uint64_t native_id,
                             const char *name);

/*
 * Adds another process to a running recording, e.g. a child of the
 * recorded one: its threads become a new process of the same trace, whose
 * PROCESS record carries parent_pid's trace process (0 = none) and meta
 * (copied; keys as in the header: argv, cwd, python...). The engine is
 * built and probed on the calling thread; the sampler adopts it at its next
 * round. Any thread except the sampler's may call it.
 * Returns 0, or the errors of pyi_recorder_start with the message in msg.
 */
int pyi_recorder_add_process(pyi_recorder *r, const pyi_target *target, int64_t parent_pid,
                             const pyi_meta_entry *meta, size_t meta_count, char *msg,
                             size_t msg_size);

/* Whether pid is being recorded now (added, and neither exited nor exec'd). */
int pyi_recorder_has_process(pyi_recorder *r, int64_t pid);

/*
 * Whether the sampler has finished on its own: every recorded process
 * exited (stats.targets_exited) or an error stopped it. The trace is then
 * complete; pyi_recorder_stop still has to be called. Any thread.
 */
int pyi_recorder_finished(const pyi_recorder *r);

/* Writes the summary line (as options.summary_fd would get it) to fd, after
 * pyi_recorder_stop: for callers that could not show it at the time. */
void pyi_recorder_print_summary(const pyi_recorder *r, int fd);

/* Threads the recorder runs in the target while recording (the sampler and
 * the writer's): what a thread count of the process includes besides the
 * program's own. */
int pyi_recorder_thread_count(const pyi_recorder *r);

/* A snapshot of the counters (final after pyi_recorder_stop). Any thread. */
void pyi_recorder_get_stats(const pyi_recorder *r, pyi_recorder_stats *stats);

/* "" or a one-line description of the last error. */
const char *pyi_recorder_error_detail(const pyi_recorder *r);

/*
 * Walks the target once on the calling thread and checks that the thread
 * whose PyThreadState is at tstate_address has expected_code as the code
 * object of its innermost frame. Used in-process to prove the layout before
 * starting (call it with the GIL held, so the frame cannot change).
 * Returns 0, PYI_E_STATE with the mismatch in msg, or PYI_E_UNSUPPORTED.
 */
int pyi_recorder_check_target(const pyi_target *target, uint64_t tstate_address,
                              uint64_t expected_code, char *msg, size_t msg_size);

/*
 * Describes how the engine reads the target: which layout source it uses
 * ("table" or "_Py_DebugOffsets") and, where both exist (3.13), how many
 * fields the interpreter's _Py_DebugOffsets and the built-in table disagree
 * on, with the first few in msg. Returns the number of disagreements (0 for
 * versions with a table only), or a negative pyi_error.
 */
int pyi_recorder_verify_layout(const pyi_target *target, char *source, size_t source_size,
                               char *msg, size_t msg_size);

/* ---- In-process only ---------------------------------------------------- */

/*
 * Makes terminating signals still finish the trace: for each of SIGTERM,
 * SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2 and SIGALRM whose disposition is
 * SIG_DFL, installs a handler that asks the sampler to close the trace,
 * waits for it (at most ~3 s), restores SIG_DFL and re-raises the signal, so
 * the process ends exactly as it would have. Signals the program handles or
 * ignores are left alone. Also makes a fork() child abandon the recorder.
 * One recorder at a time; call from the thread that started it.
 */
int pyi_recorder_catch_signals(pyi_recorder *r);

/* Restores the dispositions pyi_recorder_catch_signals changed, where they
 * are still ours. Called by pyi_recorder_stop. */
void pyi_recorder_release_signals(pyi_recorder *r);

#ifdef __cplusplus
}
#endif

#endif /* PYI_RECORDER_H */
