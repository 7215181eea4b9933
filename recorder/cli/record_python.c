/* pyinst-record's checks on the interpreter: is it CPython 3.8-3.13, and is pyinst built for it. */
/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "record_cli.h"

#define PROBE_TIMEOUT_MS 20000

static const char probe_code[] =
    "import sys; v = sys.version_info; "
    "print(sys.implementation.name, v[0], v[1], v[2])";

/* Waits for pid at most timeout_ms; kills it after that. Returns the wait status or -1. */
static int wait_bounded(pid_t pid, int timeout_ms)
{
    struct timespec step = {0, 10000000};
    int status;
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            return status;
        if (done < 0 && errno != EINTR)
            return -1;
        nanosleep(&step, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* Runs "python -I -S -c probe_code" and reads its one line. */
static int run_probe(const char *python, char *line, size_t size)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDERR_FILENO);
        }
        execl(python, python, "-I", "-S", "-c", probe_code, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    ssize_t n;
    while (used + 1 < size && (n = read(fds[0], line + used, size - used - 1)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        used += (size_t)n;
    }
    line[used] = '\0';
    close(fds[0]);
    int status = wait_bounded(pid, PROBE_TIMEOUT_MS);
    return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int record_find_program(const char *name, char *out, size_t size)
{
    if (strchr(name, '/') != NULL) {
        snprintf(out, size, "%s", name);
        return access(out, X_OK) == 0 ? 0 : -1;
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(out, size, "%.*s/%s", (int)n, n ? p : ".", name);
        if (access(out, X_OK) == 0)
            return 0;
        p += n + (p[n] == ':');
    }
    return -1;
}

int record_probe_python(const char *name, record_python *py, char *err, size_t err_size)
{
    char line[256];
    memset(py, 0, sizeof *py);
    if (record_find_program(name, py->path, sizeof py->path) != 0) {
        snprintf(err, err_size, "cannot find the Python interpreter '%s'", name);
        return -1;
    }
    if (run_probe(py->path, line, sizeof line) != 0 ||
        sscanf(line, "%31s %d %d %d", py->implementation, &py->major, &py->minor,
               &py->micro) != 4) {
        snprintf(err, err_size, "%s is not a Python interpreter pyinst can run", py->path);
        return -1;
    }
    if (strcmp(py->implementation, "cpython") != 0 || py->major != 3 || py->minor < 8 ||
        py->minor > 13) {
        snprintf(err, err_size, "%s is %s %d.%d.%d; pyinst records CPython 3.8 to 3.13",
                 py->path, strcmp(py->implementation, "cpython") ? py->implementation : "CPython",
                 py->major, py->minor, py->micro);
        return -1;
    }
    return 0;
}

/* Is there a _recorder.cpython-3XY*.so in dir/pyinst? */
static int has_extension(const char *dir, int minor)
{
    char folder[PATH_MAX + 16], prefix[64];
    snprintf(folder, sizeof folder, "%s/pyinst", dir);
    snprintf(prefix, sizeof prefix, "_recorder.cpython-3%d-", minor);
    DIR *d = opendir(folder);
    if (d == NULL)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        found = strncmp(e->d_name, prefix, strlen(prefix)) == 0 && n > 3 &&
                strcmp(e->d_name + n - 3, ".so") == 0;
    }
    closedir(d);
    return found;
}

int record_find_package(const record_python *py, char *dir, size_t dir_size, char *err,
                        size_t err_size)
{
    const char *env = getenv("PYINST_PYTHONPATH");
    char exe[PATH_MAX], probe[PATH_MAX + 64];
    if (env != NULL && env[0]) {
        snprintf(dir, dir_size, "%s", env);
    } else {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
        for (int up = 0; up < 2; up++) { /* <prefix>/bin/pyinst-record -> <prefix> */
            char *slash = strrchr(exe, '/');
            if (slash != NULL)
                *slash = '\0';
        }
        snprintf(dir, dir_size, "%s/python", exe); /* build tree: <build>/python */
        snprintf(probe, sizeof probe, "%s/pyinst/_boot/sitecustomize.py", dir);
        if (access(probe, R_OK) != 0)
            snprintf(dir, dir_size, "%s/lib/pyinst/python", exe); /* installed */
    }
    snprintf(probe, sizeof probe, "%s/pyinst/_boot/sitecustomize.py", dir);
    if (access(probe, R_OK) != 0) {
        snprintf(err, err_size, "cannot find the pyinst package (looked in %s; set "
                 "PYINST_PYTHONPATH)", dir);
        return -1;
    }
    if (!has_extension(dir, py->minor)) {
        snprintf(err, err_size, "pyinst has no extension for CPython 3.%d in %s/pyinst (build "
                 "with PYI_PYTHONS=%s)", py->minor, dir, py->path);
        return -1;
    }
    return 0;
}
