/* What a trace says about a process recorded from outside: its header and PROCESS metadata from /proc. */
/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "record_attach.h"

/* ---- Internal --------------------------------------------------------- */

/* Reads /proc/PID/cmdline into p->cmdline and points argv at its strings. */
static void argv_read(int64_t pid, record_process_info *p)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%" PRId64 "/cmdline", pid);
    FILE *f = fopen(path, "re");
    size_t n = f ? fread(p->cmdline, 1, sizeof p->cmdline - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    p->cmdline[n] = '\0';
    p->argc = 0;
    for (size_t at = 0; at < n && p->argc < RECORD_ARGV_MAX; at += strlen(p->cmdline + at) + 1)
        p->argv[p->argc++] = p->cmdline + at;
}

/* ---- Public (to the command) -------------------------------------------- */

void record_process_info_read(int64_t pid, const char *python_version, record_process_info *p)
{
    memset(p, 0, sizeof *p);
    argv_read(pid, p);
    char link[64];
    snprintf(link, sizeof link, "/proc/%" PRId64 "/cwd", pid);
    ssize_t n = readlink(link, p->cwd, sizeof p->cwd - 1);
    p->cwd[n > 0 ? n : 0] = '\0';
    snprintf(link, sizeof link, "/proc/%" PRId64 "/exe", pid);
    n = readlink(link, p->executable, sizeof p->executable - 1);
    p->executable[n > 0 ? n : 0] = '\0';
    snprintf(p->python, sizeof p->python, "%s", python_version);
    p->meta[0].key = "argv";
    pyi_value_from_strings((const char *const *)p->argv, p->argc, p->argv_packed,
                           sizeof p->argv_packed, &p->meta[0].value);
    p->meta[1] = (pyi_meta_entry){"cwd", {.kind = PYI_VALUE_STRING, .s = p->cwd,
                                          .length = strlen(p->cwd)}};
    p->meta[2] = (pyi_meta_entry){"python", {.kind = PYI_VALUE_STRING, .s = p->python,
                                             .length = strlen(p->python)}};
    p->meta[3] = (pyi_meta_entry){"python_implementation",
                                  {.kind = PYI_VALUE_STRING, .s = "CPython", .length = 7}};
    p->meta[4] = (pyi_meta_entry){"python.executable",
                                  {.kind = PYI_VALUE_STRING, .s = p->executable,
                                   .length = strlen(p->executable)}};
    p->meta_count = 5;
}

void record_header_fill(int64_t pid, const record_process_info *p, const char *how,
                        const char *command, record_header *out)
{
    memset(out, 0, sizeof *out);
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(out->hostname, sizeof out->hostname, "%s", u.nodename);
        snprintf(out->platform, sizeof out->platform, "linux-%s", u.machine);
    }
    out->extra[0] = (pyi_meta_entry){"python.executable",
                                     {.kind = PYI_VALUE_STRING, .s = p->executable,
                                      .length = strlen(p->executable)}};
    out->extra[1] = (pyi_meta_entry){"pyinst.attach", {.kind = PYI_VALUE_STRING, .s = how,
                                                       .length = strlen(how)}};
    out->extra[2] = (pyi_meta_entry){"pyinst.command", {.kind = PYI_VALUE_STRING, .s = command,
                                                        .length = strlen(command)}};
    pyi_header *h = &out->header;
    h->pid = pid;
    h->argv = (const char *const *)p->argv;
    h->argc = p->argc;
    h->cwd = p->cwd;
    h->hostname = out->hostname;
    h->platform = out->platform;
    h->python = p->python;
    h->python_implementation = "CPython";
    h->extra = out->extra;
    h->extra_count = 3;
}
