/* Facts about another process from /proc: mappings, parent, start time, namespaced ids. */
/* SPDX-License-Identifier: MIT */
#include "proc_maps_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- Internal --------------------------------------------------------- */

#define MAPS_MAX_BYTES (64u << 20) /* a maps file larger than this is not a process we read */

/* Reads a whole /proc file (they report size 0: read until EOF). */
static int slurp(const char *path, char **out, size_t *length)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    size_t capacity = 64 << 10, used = 0;
    char *text = malloc(capacity);
    int rc = text ? 0 : ENOMEM;
    while (rc == 0) {
        if (used + 1 >= capacity) {
            char *bigger = capacity < MAPS_MAX_BYTES ? realloc(text, capacity * 2) : NULL;
            if (bigger == NULL) {
                rc = ENOMEM;
                break;
            }
            text = bigger;
            capacity *= 2;
        }
        ssize_t n = read(fd, text + used, capacity - used - 1);
        if (n == 0)
            break;
        if (n < 0 && errno != EINTR)
            rc = errno;
        used += n > 0 ? (size_t)n : 0;
    }
    close(fd);
    if (rc != 0) {
        free(text);
        return rc;
    }
    text[used] = '\0';
    *out = text;
    *length = used;
    return 0;
}

/* Parses one maps line in place ("start-end perms offset dev inode   path"). */
static int parse_line(char *line, pyi_map_entry *e)
{
    unsigned long long start, end, offset, inode;
    char perms[8];
    int path_at = 0;
    if (sscanf(line, "%llx-%llx %7s %llx %*x:%*x %llu %n", &start, &end, perms, &offset, &inode,
               &path_at) != 5)
        return -1;
    e->start = start;
    e->end = end;
    e->offset = offset;
    e->inode = inode;
    memcpy(e->perms, perms, 4);
    e->perms[4] = '\0';
    e->path = line + path_at;
    return 0;
}

static int read_status_line(int64_t pid, const char *task, const char *key, char *out,
                            size_t size)
{
    char path[96], line[256];
    snprintf(path, sizeof path, "/proc/%" PRId64 "%s/status", pid, task);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    size_t key_length = strlen(key);
    int found = -1;
    while (found != 0 && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, key_length) == 0) {
            snprintf(out, size, "%s", line + key_length);
            found = 0;
        }
    }
    fclose(f);
    return found;
}

/* The last number of an "NSpid:\t12\t1" value. */
static int64_t last_number(const char *text)
{
    int64_t value = -1;
    for (const char *p = text; *p;) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        value = v;
        p = end;
    }
    return value;
}

/* ---- Public (to recorder/) -------------------------------------------- */

int pyi_proc_maps_read(int64_t pid, pyi_proc_maps *maps)
{
    char path[64];
    size_t length = 0;
    memset(maps, 0, sizeof *maps);
    snprintf(path, sizeof path, "/proc/%" PRId64 "/maps", pid);
    int rc = slurp(path, &maps->text, &length);
    if (rc != 0)
        return rc;
    size_t lines = 0;
    for (size_t i = 0; i < length; i++)
        lines += maps->text[i] == '\n';
    maps->entries = calloc(lines + 1, sizeof *maps->entries);
    if (maps->entries == NULL) {
        pyi_proc_maps_free(maps);
        return ENOMEM;
    }
    for (char *line = maps->text; *line;) {
        char *newline = strchr(line, '\n');
        if (newline != NULL)
            *newline = '\0';
        if (parse_line(line, &maps->entries[maps->count]) == 0)
            maps->count++;
        line = newline ? newline + 1 : line + strlen(line);
    }
    /* An empty maps file: a zombie, or a kernel thread. Neither runs Python. */
    return 0;
}

void pyi_proc_maps_free(pyi_proc_maps *maps)
{
    free(maps->entries);
    free(maps->text);
    memset(maps, 0, sizeof *maps);
}

int pyi_proc_is_alive(int64_t pid)
{
    char state[64];
    if (read_status_line(pid, "", "State:", state, sizeof state) != 0)
        return 0;
    return strchr(state, 'Z') == NULL && strchr(state, 'X') == NULL;
}

/* Fields after the command name, which may contain spaces and parentheses. */
static const char *stat_fields(int64_t pid, char *buffer, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%" PRId64 "/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buffer, size - 1);
    close(fd);
    if (n <= 0)
        return NULL;
    buffer[n] = '\0';
    const char *close_paren = strrchr(buffer, ')');
    return close_paren ? close_paren + 2 : NULL; /* at field 3, the state */
}

int64_t pyi_proc_parent(int64_t pid)
{
    char buffer[1024];
    const char *fields = stat_fields(pid, buffer, sizeof buffer);
    long long parent;
    if (fields == NULL || sscanf(fields, "%*c %lld", &parent) != 1)
        return -1;
    return parent;
}

uint64_t pyi_proc_start_ticks(int64_t pid)
{
    char buffer[1024];
    const char *fields = stat_fields(pid, buffer, sizeof buffer);
    unsigned long long start = 0;
    /* Fields 3..21 come first: skip 19 of them. */
    if (fields == NULL ||
        sscanf(fields, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                       "%*s %*s %*s %llu",
               &start) != 1)
        return 0;
    return start;
}

int64_t pyi_proc_ns_pid(int64_t pid)
{
    char value[128];
    if (read_status_line(pid, "", "NSpid:", value, sizeof value) != 0)
        return pyi_proc_is_alive(pid) ? pid : -1;
    return last_number(value);
}

int pyi_proc_tasks(int64_t pid, pyi_task_id *out, int max)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%" PRId64 "/task", pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int count = 0;
    struct dirent *e;
    while (count < max && (e = readdir(d)) != NULL) {
        char *end;
        unsigned long long tid = strtoull(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0')
            continue;
        char task[48], value[128];
        snprintf(task, sizeof task, "/task/%llu", tid);
        out[count].host = tid;
        out[count].ns = read_status_line(pid, task, "NSpid:", value, sizeof value) == 0
                            ? (uint64_t)last_number(value)
                            : tid;
        count++;
    }
    closedir(d);
    return count;
}

long pyi_proc_read_file(int64_t pid, const char *name, char *out, size_t size)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%" PRId64 "/%s", pid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || size == 0)
        return fd < 0 ? -1 : 0;
    size_t used = 0;
    while (used + 1 < size) {
        ssize_t n = read(fd, out + used, size - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    out[used] = '\0';
    return (long)used;
}
