/* pyinst-record: runs a Python program unchanged while the in-process recorder samples it. */
/* SPDX-License-Identifier: MIT */
/*
 * After checking its arguments and the interpreter, pyinst-record becomes
 * the program: it execs the chosen interpreter with the very same command
 * line, plus PYTHONPATH pointing at pyinst's start-up hook
 * (python/pyinst/_boot/sitecustomize.py), which starts the recorder and then
 * removes every trace of itself. So the pid, stdin/stdout/stderr, signals and
 * the exit status are the program's own, with no process in between. The
 * recorder prints the one-line summary at exit (also when a signal the
 * program does not handle ends it).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record_cli.h"

#define BOOT_SUBDIR "/pyinst/_boot"

static int set_env(const char *name, const char *value, char *err, size_t err_size)
{
    if (setenv(name, value, 1) == 0)
        return 0;
    snprintf(err, err_size, "cannot set %s: %s", name, strerror(errno));
    return -1;
}

void record_report_command(char *out, size_t size)
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

void record_join_command(int argc, char **argv, char *out, size_t size)
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

/* The environment the start-up hook reads (it removes all of it again). */
static int prepare_environment(const record_options *o, const char *package_dir,
                               const char *output, const char *command, char *err,
                               size_t err_size)
{
    char path[PATH_MAX * 2 + 64], number[32], report[PATH_MAX + 32];
    const char *original = getenv("PYTHONPATH");
    snprintf(path, sizeof path, "%s" BOOT_SUBDIR "%s%s", package_dir,
             original && original[0] ? ":" : "", original ? original : "");
    record_report_command(report, sizeof report);
    snprintf(number, sizeof number, "%u", o->max_depth);
    int rc = (original != NULL ? set_env("PYINST_RECORD_PYTHONPATH", original, err, err_size)
                               : 0) |
             set_env("PYTHONPATH", path, err, err_size) |
             set_env("PYINST_RECORD_PACKAGE_DIR", package_dir, err, err_size) |
             set_env("PYINST_RECORD_OUTPUT", output, err, err_size) |
             set_env("PYINST_RECORD_INTERVAL", o->interval_text, err, err_size) |
             set_env("PYINST_RECORD_THREADS", o->threads, err, err_size) |
             set_env("PYINST_RECORD_MAX_DEPTH", number, err, err_size) |
             set_env("PYINST_RECORD_QUIET", o->quiet ? "1" : "0", err, err_size) |
             set_env("PYINST_RECORD_REPORT_COMMAND", report, err, err_size) |
             set_env("PYINST_RECORD_COMMAND", command, err, err_size);
    snprintf(number, sizeof number, "%g", o->cpu_budget);
    rc |= set_env("PYINST_RECORD_CPU_BUDGET", number, err, err_size);
    snprintf(number, sizeof number, "%d", o->sampler_nice);
    rc |= set_env("PYINST_RECORD_SAMPLER_NICE", number, err, err_size);
    return rc;
}

/* Replaces this process with the program. Returns only on failure. */
static void exec_program(const record_options *o, const record_python *py, char *err,
                         size_t err_size)
{
    char **argv = record_program_argv(o, py->path);
    if (argv == NULL) {
        snprintf(err, err_size, "out of memory");
        return;
    }
    execv(py->path, argv);
    snprintf(err, err_size, "cannot run %s: %s", py->path, strerror(errno));
    free(argv);
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
    int rc = record_parse_args(argc, argv, &o, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc == 0 && record_uses_attach(&o))
        return record_attach_main(&o, argc, argv);
    if (rc == 0)
        rc = check_target(&o, err, sizeof err);
    if (rc == 0)
        rc = record_probe_python(o.python ? o.python : "python3", &py, err, sizeof err);
    if (rc == 0)
        rc = record_find_package(&py, package_dir, sizeof package_dir, err, sizeof err);
    if (rc == 0) {
        if (o.output != NULL)
            snprintf(output, sizeof output, "%s", o.output);
        else
            record_default_output(output, sizeof output);
        record_join_command(argc, argv, command, sizeof command);
        rc = prepare_environment(&o, package_dir, output, command, err, sizeof err);
    }
    if (rc == 0)
        exec_program(&o, &py, err, sizeof err);
    fprintf(stderr, "pyinst-record: %s\n", err);
    return RECORD_EXIT_USAGE;
}
