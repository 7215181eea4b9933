/* pyinst-record: runs a Python program unchanged while the in-process recorder samples it. */
/* SPDX-License-Identifier: MIT */
/*
 * The program runs as our child: the chosen interpreter with the very same
 * command line, plus PYTHONPATH pointing at pyinst's start-up hook
 * (python/pyinst/_boot/sitecustomize.py), which starts the recorder and then
 * removes every trace of itself. This parent forwards signals, waits, prints
 * one summary line from what the recorder reports through a pipe, and exits
 * the way the program did (same status, or the same signal).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "record_cli.h"

#define BOOT_SUBDIR "/pyinst/_boot"
#define EXIT_BOOT_FAILED 125 /* the start-up hook could not start recording */

static volatile sig_atomic_t child_pid;
static const int forwarded[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM};

/* ---- Running the program ------------------------------------------------ */

/* Signals sent to us go on to the program. Terminal signals (Ctrl-C) reach
 * the whole foreground group, the program included: never send them twice. */
static void forward_signal(int sig, siginfo_t *info, void *context)
{
    (void)context;
    if (info != NULL && info->si_code == SI_KERNEL)
        return;
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

static void install_forwarding(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaction(forwarded[i], &sa, NULL);
}

static void set_env(const char *name, const char *value)
{
    if (setenv(name, value, 1) != 0) {
        perror("pyinst-record: setenv");
        _exit(RECORD_EXIT_USAGE);
    }
}

/* In the child: the environment the start-up hook reads, then exec. */
static void exec_program(const record_options *o, const record_python *py,
                         const char *package_dir, const char *output, int status_fd,
                         const char *command)
{
    char value[PATH_MAX * 2 + 64], number[32];
    const char *original = getenv("PYTHONPATH");
    if (original != NULL)
        set_env("PYINST_RECORD_PYTHONPATH", original);
    snprintf(value, sizeof value, "%s" BOOT_SUBDIR "%s%s", package_dir,
             original && original[0] ? ":" : "", original ? original : "");
    set_env("PYTHONPATH", value);
    set_env("PYINST_RECORD_PACKAGE_DIR", package_dir);
    set_env("PYINST_RECORD_OUTPUT", output);
    set_env("PYINST_RECORD_INTERVAL", o->interval_text);
    set_env("PYINST_RECORD_THREADS", o->threads);
    snprintf(number, sizeof number, "%u", o->max_depth);
    set_env("PYINST_RECORD_MAX_DEPTH", number);
    snprintf(number, sizeof number, "%g", o->cpu_budget);
    set_env("PYINST_RECORD_CPU_BUDGET", number);
    snprintf(number, sizeof number, "%d", status_fd);
    set_env("PYINST_RECORD_STATUS_FD", number);
    set_env("PYINST_RECORD_COMMAND", command);
    char **argv = calloc((size_t)o->arg_count + 4, sizeof *argv);
    if (argv == NULL)
        _exit(RECORD_EXIT_USAGE);
    int n = 0;
    argv[n++] = (char *)py->path;
    if (o->kind == RECORD_RUN_MODULE)
        argv[n++] = "-m";
    else if (o->kind == RECORD_RUN_CODE)
        argv[n++] = "-c";
    argv[n++] = (char *)o->target;
    for (int i = 0; i < o->arg_count; i++)
        argv[n++] = o->args[i];
    execv(py->path, argv);
    fprintf(stderr, "pyinst-record: cannot run %s: %s\n", py->path, strerror(errno));
    _exit(127);
}

/* Starts the program; returns the child's pid, the read end of the status pipe in *status_fd. */
static pid_t launch(const record_options *o, const record_python *py, const char *package_dir,
                    const char *output, const char *command, int *status_fd)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old); /* no forwarding before child_pid is known */
    pid_t pid = fork();
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        exec_program(o, py, package_dir, output, fds[1], command);
    }
    close(fds[1]);
    if (pid > 0) {
        child_pid = pid;
        install_forwarding();
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    *status_fd = fds[0];
    return pid;
}

static int wait_program(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return status;
}

/* ---- Summary ------------------------------------------------------------ */

typedef struct summary {
    int present;              /* the recorder finished the trace and reported */
    char error[512];          /* the start-up hook's error, "" if none */
    unsigned long long duration_ns, samples, invalid, missed, dropped, bytes;
    int recorder_error;
    char detail[512];
} summary;

/* Reads what the recorder wrote, without waiting for writers that outlive
 * the program (forked grandchildren inherit the pipe). */
static void read_status(int fd, char *buf, size_t size)
{
    size_t used = 0;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    for (;;) {
        ssize_t n = read(fd, buf + used, size - used - 1);
        if (n > 0 && (used += (size_t)n) < size - 1)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    buf[used] = '\0';
}

static unsigned long long field(const char *line, const char *key)
{
    const char *p = strstr(line, key);
    return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static void parse_status(const char *text, summary *s)
{
    memset(s, 0, sizeof *s);
    const char *error = strstr(text, "pyinst-error ");
    if (error != NULL)
        snprintf(s->error, sizeof s->error, "%.*s", (int)strcspn(error + 13, "\n"), error + 13);
    const char *line = strstr(text, "pyinst-summary ");
    if (line == NULL)
        return;
    s->present = 1;
    s->duration_ns = field(line, " duration_ns=");
    s->samples = field(line, " samples=");
    s->invalid = field(line, " invalid=");
    s->missed = field(line, " missed=");
    s->dropped = field(line, " dropped=");
    s->bytes = field(line, " bytes=");
    s->recorder_error = (int)field(line, " error=");
    const char *detail = strstr(line, " detail=");
    if (detail != NULL)
        snprintf(s->detail, sizeof s->detail, "%.*s", (int)strcspn(detail + 8, "\n"),
                 detail + 8);
}

/* How to show the report: pyinst-report on PATH, else the one next to us. */
static void report_command(char *out, size_t size)
{
    char exe[PATH_MAX], found[PATH_MAX];
    if (record_find_program("pyinst-report", found, sizeof found) == 0) {
        snprintf(out, size, "pyinst-report");
        return;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash != NULL)
        *slash = '\0';
    snprintf(out, size, "%s/pyinst-report", exe);
}

static void print_summary(const summary *s, const char *output)
{
    char report[PATH_MAX + 32];
    report_command(report, sizeof report);
    const char *quote = strpbrk(output, " '\"$\\") ? "'" : "";
    if (!s->present) {
        fprintf(stderr,
                "pyinst-record: the program ended before the trace was finished (os._exit, "
                "exec or a crash); %s keeps the samples of all but the last second or so; "
                "report: %s %s%s%s\n",
                output, report, quote, output, quote);
        return;
    }
    unsigned long long lost = s->invalid + s->missed + s->dropped;
    fprintf(stderr, "pyinst-record: %.2f s, %llu samples, %llu lost, %llu KiB in %s; "
            "report: %s %s%s%s\n",
            (double)s->duration_ns / 1e9, s->samples, lost, (s->bytes + 1023) / 1024, output,
            report, quote, output, quote);
    if (s->recorder_error != 0)
        fprintf(stderr, "pyinst-record: recording stopped early: %s\n", s->detail);
}

/* ---- Main --------------------------------------------------------------- */

/* Ends pyinst-record the way the program ended. */
static int exit_like(int status)
{
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        signal(sig, SIG_DFL);
        sigset_t only;
        sigemptyset(&only);
        sigaddset(&only, sig);
        sigprocmask(SIG_UNBLOCK, &only, NULL);
        raise(sig);
        return 128 + sig;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static void join_command(int argc, char **argv, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < argc && used + 1 < size; i++) {
        int n = snprintf(out + used, size - used, "%s%s", i ? " " : "", argv[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static int check_target(const record_options *o, char *err, size_t err_size)
{
    if (o->kind != RECORD_RUN_SCRIPT || access(o->target, R_OK) == 0)
        return 0;
    snprintf(err, err_size, "cannot run %s: %s", o->target, strerror(errno));
    return -1;
}

int main(int argc, char **argv)
{
    record_options o;
    record_python py;
    char err[PATH_MAX + 256], package_dir[PATH_MAX], output[PATH_MAX], command[8192];
    char status_text[4096];
    int rc = record_parse_args(argc, argv, &o, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc == 0)
        rc = check_target(&o, err, sizeof err);
    if (rc == 0)
        rc = record_probe_python(o.python ? o.python : "python3", &py, err, sizeof err);
    if (rc == 0)
        rc = record_find_package(&py, package_dir, sizeof package_dir, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "pyinst-record: %s\n", err);
        return RECORD_EXIT_USAGE;
    }
    if (o.output != NULL)
        snprintf(output, sizeof output, "%s", o.output);
    else
        record_default_output(output, sizeof output);
    join_command(argc, argv, command, sizeof command);
    int status_fd;
    pid_t pid = launch(&o, &py, package_dir, output, command, &status_fd);
    if (pid < 0) {
        fprintf(stderr, "pyinst-record: cannot start %s: %s\n", py.path, strerror(errno));
        return RECORD_EXIT_USAGE;
    }
    int status = wait_program(pid);
    read_status(status_fd, status_text, sizeof status_text);
    close(status_fd);
    summary s;
    parse_status(status_text, &s);
    if (s.error[0] && WIFEXITED(status) && WEXITSTATUS(status) == EXIT_BOOT_FAILED) {
        fprintf(stderr, "pyinst-record: %s\n", s.error);
        return RECORD_EXIT_USAGE;
    }
    if (!o.quiet)
        print_summary(&s, output);
    return exit_like(status);
}
