/* pyinst-record's attach mode: records a running process (--pid), or starts the program and records it from outside. */
/* SPDX-License-Identifier: MIT */
/*
 * The target is read through process_vm_readv by the same engine the
 * in-process mode uses; nothing stops it and nothing runs inside it. This
 * file owns the session: find the interpreter (retrying while a program we
 * started is still loading), write the header from /proc, start the
 * recorder, then wait in one loop for the end (duration, Ctrl-C or SIGTERM,
 * q in the live view, or every recorded process gone) while following
 * children and redrawing the live view. The trace is complete in every case.
 *
 * Started programs (--subprocesses, --live, --duration with a program) are
 * our child, in our process group: a Ctrl-C from the terminal reaches them
 * directly and recording goes on until they exit; a signal sent to
 * pyinst-record alone is passed on to them. We exit as they did.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "record_attach.h"
#include "record_cli.h"

/* ---- Internal --------------------------------------------------------- */

#define ATTACH_STARTUP_MS 2000   /* --pid: retry a process this young while it starts */
#define SPAWN_STARTUP_MS 20000   /* a program we started: its interpreter may load slowly */
#define CHILD_POLL_MS 100        /* --subprocesses: scan for descendants this often */
#define CHILD_POLL_BUSY_MS 10    /* ...while some are starting */

static volatile sig_atomic_t stop_signal, forward_signal, resized;

static void on_stop_signal(int sig, siginfo_t *info, void *context)
{
    (void)context;
    stop_signal = sig;
    /* Sent to us alone (kill), not by the terminal to the whole group. */
    if (info != NULL && (info->si_code == SI_USER || info->si_code == SI_QUEUE))
        forward_signal = sig;
}

static void on_resize(int sig)
{
    (void)sig;
    resized = 1;
}

typedef struct session {
    const record_options *o;
    int64_t pid;               /* process 1 of the trace */
    pid_t child;               /* the program we started, 0 = --pid */
    int child_status;          /* its wait status once reaped */
    int child_reaped;
    pyi_recorder *r;
    record_children *children;
    record_live *live;
    pyi_attach_info info;
    record_process_info process;
    record_header header;
    char output[PATH_MAX];
    char command[8192];
    char report[PATH_MAX + 32];
} session;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_stop_signal;
    sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: poll() returns at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    struct sigaction winch;
    memset(&winch, 0, sizeof winch);
    winch.sa_handler = on_resize;
    sigemptyset(&winch.sa_mask);
    sigaction(SIGWINCH, &winch, NULL);
}

/* Starts the program as our child. 0, or -1 with err. */
static int program_spawn(session *s, char *err, size_t err_size)
{
    record_python py;
    if (record_probe_python(s->o->python ? s->o->python : "python3", &py, err, err_size) != 0)
        return -1;
    const record_options *o = s->o;
    char **argv = record_program_argv(o, py.path);
    if (argv == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    /* Orphaned grandchildren become ours, so they stay descendants to follow. */
    if (o->subprocesses)
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    s->child = fork();
    if (s->child == 0) {
        execv(py.path, argv);
        fprintf(stderr, "pyinst-record: cannot run %s: %s\n", py.path, strerror(errno));
        _exit(127);
    }
    free(argv);
    if (s->child < 0) {
        snprintf(err, err_size, "cannot start the program: %s", strerror(errno));
        return -1;
    }
    s->pid = s->child;
    return 0;
}

/* Reaps our children without blocking: the program (its status is ours) and,
 * as a subreaper, orphaned grandchildren that exited. */
static void children_reap(session *s)
{
    for (;;) {
        int status;
        pid_t done = waitpid(-1, &status, WNOHANG);
        if (done <= 0)
            return;
        if (done == s->child) {
            s->child_status = status;
            s->child_reaped = 1;
        }
    }
}

static void options_fill(const session *s, pyi_recorder_options *ro)
{
    const record_options *o = s->o;
    pyi_recorder_options_init(ro);
    ro->interval_ns = (uint64_t)(o->interval * 1e9 + 0.5);
    ro->max_depth = o->max_depth;
    ro->cpu_budget = o->cpu_budget;
    ro->sampler_nice = o->sampler_nice;
    /* The live view owns the screen until the end: it prints the summary after. */
    ro->summary_fd = o->quiet || s->live != NULL ? -1 : STDERR_FILENO;
    ro->summary_label = "pyinst-record";
    ro->report_command = s->report;
    ro->prefetch = 1;
    if (strcmp(o->threads, "main") == 0)
        ro->only_native_id = (uint64_t)(s->info.ns_pid > 0 ? s->info.ns_pid : s->pid);
    else if (o->thread_tid != 0)
        ro->only_native_id = o->thread_tid;
    if (s->live != NULL) {
        ro->on_sample = record_live_on_sample;
        ro->on_sample_ctx = s->live;
    }
}

/* Finds the interpreter and starts recording. 0, or an exit status with the message printed. */
static int recording_start(session *s)
{
    uint32_t startup = s->child ? SPAWN_STARTUP_MS : ATTACH_STARTUP_MS;
    if (pyi_attach_wait(s->pid, startup, &s->info) != 0) {
        if (s->child != 0 && s->info.problem == PYI_ATTACH_NO_PROCESS)
            fprintf(stderr, "pyinst-record: the program ended before its interpreter could be "
                            "found; nothing was recorded\n");
        else
            fprintf(stderr, "pyinst-record: %s\n", s->info.message);
        return RECORD_EXIT_USAGE;
    }
    record_process_info_read(s->pid, s->info.version, &s->process);
    record_header_fill(s->pid, &s->process, s->child ? "spawn" : "pid", s->command, &s->header);
    pyi_recorder_options ro;
    options_fill(s, &ro);
    int rc = pyi_recorder_start(&s->r, s->output, &s->header.header, &s->info.target, &ro);
    if (rc != 0) {
        fprintf(stderr, "pyinst-record: %s\n", pyi_recorder_error_detail(s->r));
        pyi_recorder_free(s->r);
        s->r = NULL;
        return rc == PYI_E_IO ? RECORD_EXIT_FAILED : RECORD_EXIT_USAGE;
    }
    return 0;
}

/* What ends the loop: 1 = stop recording now. */
static int loop_should_stop(session *s, uint64_t end_ms)
{
    if (forward_signal != 0 && s->child != 0 && !s->child_reaped) {
        kill(s->child, forward_signal);
        forward_signal = 0;
    }
    /* A program we started decides when it ends; a signal only stops --pid. */
    if (stop_signal != 0 && s->child == 0)
        return 1;
    return pyi_recorder_finished(s->r) || now_ms() >= end_ms;
}

static int live_step(session *s)
{
    if (resized) {
        resized = 0;
        record_live_resized(s->live);
    }
    if (record_live_keys(s->live))
        return -1;
    pyi_recorder_stats stats;
    pyi_recorder_get_stats(s->r, &stats);
    return record_live_tick(s->live, &stats, s->pid);
}

/* Waits for the end while following children and drawing the live view. */
static void session_loop(session *s)
{
    uint64_t start = now_ms(), next_scan = start;
    uint64_t end = s->o->duration > 0 ? start + (uint64_t)(s->o->duration * 1000) : UINT64_MAX;
    for (;;) {
        children_reap(s);
        if (loop_should_stop(s, end))
            return;
        int wait_ms = 100;
        if (s->children != NULL && now_ms() >= next_scan) {
            int busy;
            record_children_poll(s->children, s->r, &busy);
            next_scan = now_ms() + (busy ? CHILD_POLL_BUSY_MS : CHILD_POLL_MS);
        }
        if (s->children != NULL)
            wait_ms = (int)(next_scan > now_ms() ? next_scan - now_ms() : 0);
        if (s->live != NULL) {
            int live_ms = live_step(s);
            if (live_ms < 0)
                return; /* q */
            wait_ms = live_ms < wait_ms ? live_ms : wait_ms;
        }
        if (end != UINT64_MAX && end - now_ms() < (uint64_t)wait_ms)
            wait_ms = (int)(end > now_ms() ? end - now_ms() : 0);
        struct pollfd key = {record_live_key_fd(s->live), POLLIN, 0};
        poll(&key, key.fd >= 0 ? 1 : 0, wait_ms > 0 ? wait_ms : 1);
    }
}

/* The program cannot be recorded: if it already ended, its status is ours;
 * else it is stopped rather than left running unseen. */
static int program_abandon(session *s, int status)
{
    children_reap(s);
    if (!s->child_reaped) {
        kill(s->child, SIGTERM);
        waitpid(s->child, NULL, 0);
        return status;
    }
    return WIFEXITED(s->child_status) ? WEXITSTATUS(s->child_status) : status;
}

/* Our exit status: the program's (a signal it died of is raised again), else
 * whether the recording went well. */
static int session_finish(session *s)
{
    int rc = pyi_recorder_stop(s->r);
    pyi_recorder_stats stats;
    pyi_recorder_get_stats(s->r, &stats);
    if (s->live != NULL && !s->o->quiet) {
        record_live_free(s->live);
        pyi_recorder_print_summary(s->r, STDERR_FILENO);
    } else {
        record_live_free(s->live);
    }
    s->live = NULL;
    if (!s->o->quiet && s->child == 0 && stats.targets_exited)
        fprintf(stderr, "pyinst-record: process %" PRId64 " exited; the trace is complete\n",
                s->pid);
    pyi_recorder_free(s->r);
    record_children_free(s->children);
    if (s->child == 0)
        return rc == 0 ? 0 : RECORD_EXIT_FAILED;
    while (!s->child_reaped) {
        int status;
        pid_t done = waitpid(s->child, &status, 0);
        if (done == s->child) {
            s->child_status = status;
            s->child_reaped = 1;
        } else if (done < 0 && errno != EINTR) {
            return RECORD_EXIT_FAILED;
        } else if (forward_signal != 0) {
            kill(s->child, forward_signal);
            forward_signal = 0;
        }
    }
    if (WIFSIGNALED(s->child_status)) {
        signal(WTERMSIG(s->child_status), SIG_DFL);
        raise(WTERMSIG(s->child_status));
    }
    return WIFEXITED(s->child_status) ? WEXITSTATUS(s->child_status) : RECORD_EXIT_FAILED;
}

/* ---- Public (to the command) -------------------------------------------- */

int record_attach_main(const record_options *o, int argc, char **argv)
{
    session *s = calloc(1, sizeof *s);
    char err[PATH_MAX + 256];
    if (s == NULL) {
        fprintf(stderr, "pyinst-record: out of memory\n");
        return RECORD_EXIT_FAILED;
    }
    s->o = o;
    s->pid = o->pid;
    record_join_command(argc, argv, s->command, sizeof s->command);
    record_report_command(s->report, sizeof s->report);
    if (o->output != NULL)
        snprintf(s->output, sizeof s->output, "%s", o->output);
    else
        record_default_output(s->output, sizeof s->output);
    signals_install();
    int status = 0;
    if (o->pid == 0 && program_spawn(s, err, sizeof err) != 0) {
        fprintf(stderr, "pyinst-record: %s\n", err);
        status = RECORD_EXIT_USAGE;
    }
    if (status == 0 && o->live && (s->live = record_live_new()) == NULL) {
        fprintf(stderr, "pyinst-record: out of memory\n");
        status = RECORD_EXIT_FAILED;
    }
    if (status == 0)
        status = recording_start(s);
    if (status != 0 && s->child != 0)
        status = program_abandon(s, status);
    if (status == 0) {
        if (o->subprocesses)
            s->children = record_children_new(s->pid, s->child ? (int64_t)getpid() : 0,
                                              o->quiet || o->live);
        record_live_begin(s->live);
        session_loop(s);
        status = session_finish(s);
    }
    record_live_free(s->live);
    free(s);
    return status;
}
