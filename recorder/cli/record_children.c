/* --subprocesses: finds the descendants of the recorded process and adds the Python ones to the recording. */
/* SPDX-License-Identifier: MIT */
/*
 * Every poll reads (pid, parent, start time) of the known descendants and
 * of their children (of every process where the kernel has no children
 * files) and extends the set of known descendants to a fixpoint: anything
 * whose parent is a known descendant (Python or not: a shell between two
 * Pythons) is one too, and stays one after its parent exits. A new
 * descendant gets one attach attempt; a process that is still starting
 * (exec'd less than START_WINDOW_MS ago, its interpreter not up yet) is
 * tried again at the next polls. A descendant that execs (a new executable,
 * or the recorder dropped it as unreadable) is looked at again. Nothing here
 * ever stops a process.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "record_attach.h"

/* ---- Internal --------------------------------------------------------- */

#define START_WINDOW_MS 2000 /* retry a descendant this long after it appears or execs */
#define PROC_MAX 65536

typedef enum child_state {
    CHILD_PENDING,   /* not attached yet: starting, or to be tried */
    CHILD_RECORDED,  /* in the recording */
    CHILD_OTHER,     /* not Python (or not recordable): followed for its own children */
} child_state;

typedef struct child {
    int64_t pid;
    int64_t parent;
    uint64_t start_ticks; /* tells a reused pid from the original */
    uint64_t exe_hash;    /* of /proc/PID/exe: a change means it exec'd */
    uint64_t since_ms;    /* when it appeared or last exec'd */
    child_state state;
    int seen;             /* found by the current scan */
} child;

struct record_children {
    int64_t root;
    int64_t also_parent;  /* its children are descendants too (0 = none) */
    int quiet;
    child *known;
    size_t count, capacity;
    struct {
        int64_t pid, parent;
        uint64_t start;
    } *scan;
    size_t scan_count;
    int children_files;   /* the kernel has /proc/PID/task/TID/children */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t exe_hash(int64_t pid)
{
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/%" PRId64 "/exe", pid);
    ssize_t n = readlink(link, path, sizeof path);
    uint64_t h = 1469598103934665603ull;
    for (ssize_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)path[i]) * 1099511628211ull;
    return n > 0 ? h : 0;
}

static child *child_find(record_children *c, int64_t pid)
{
    for (size_t i = 0; i < c->count; i++)
        if (c->known[i].pid == pid)
            return &c->known[i];
    return NULL;
}

static int is_descendant_parent(record_children *c, int64_t parent)
{
    return parent == c->root || (c->also_parent != 0 && parent == c->also_parent) ||
           child_find(c, parent) != NULL;
}

/* Adds pid to the scan unless it is there; 1 when added. */
static int scan_add(record_children *c, int64_t pid)
{
    for (size_t i = 0; i < c->scan_count; i++)
        if (c->scan[i].pid == pid)
            return 0;
    int64_t parent = pyi_attach_parent(pid);
    if (parent < 0 || c->scan_count >= PROC_MAX)
        return 0;
    c->scan[c->scan_count].pid = pid;
    c->scan[c->scan_count].parent = parent;
    c->scan[c->scan_count].start = pyi_attach_start_ticks(pid);
    c->scan_count++;
    return 1;
}

/* Reads pid, parent and start time of every process: the fallback when the
 * kernel has no children files. */
static void scan_all(record_children *c)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL && c->scan_count < PROC_MAX) {
        char *end;
        long long pid = strtoll(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || pid <= 0)
            continue;
        int64_t parent = pyi_attach_parent(pid);
        if (parent < 0)
            continue;
        c->scan[c->scan_count].pid = pid;
        c->scan[c->scan_count].parent = parent;
        c->scan[c->scan_count].start = pyi_attach_start_ticks(pid);
        c->scan_count++;
    }
    if (d != NULL)
        closedir(d);
}

/* Adds the children of every thread of pid (/proc/PID/task/TID/children). */
static void scan_children_of(record_children *c, int64_t pid)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%" PRId64 "/task", pid);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%" PRId64 "/task/%.20s/children", pid, e->d_name);
        FILE *f = fopen(path, "re");
        long long child_pid;
        while (f != NULL && fscanf(f, "%lld", &child_pid) == 1)
            scan_add(c, child_pid);
        if (f != NULL)
            fclose(f);
    }
    if (d != NULL)
        closedir(d);
}

/*
 * Reads pid, parent and start time of the processes that matter: the known
 * descendants themselves (an orphan stays one) and the children of the root
 * and of each of them, down the tree. With children files the cost follows
 * the recorded tree, not how many processes the host runs (scanning all of
 * /proc ten times a second is 100k+ syscalls a second on a busy server).
 */
static void scan_proc(record_children *c)
{
    c->scan_count = 0;
    if (!c->children_files) {
        scan_all(c);
        return;
    }
    for (size_t i = 0; i < c->count; i++)
        scan_add(c, c->known[i].pid);
    scan_children_of(c, c->root);
    if (c->also_parent != 0)
        scan_children_of(c, c->also_parent);
    /* The scan grows while it is walked: each process's children are read once. */
    for (size_t i = 0; i < c->scan_count; i++)
        scan_children_of(c, c->scan[i].pid);
}

static int child_add(record_children *c, int64_t pid, int64_t parent, uint64_t start)
{
    if (c->count == c->capacity) {
        size_t bigger = c->capacity ? c->capacity * 2 : 64;
        child *p = realloc(c->known, bigger * sizeof *p);
        if (p == NULL)
            return -1;
        c->known = p;
        c->capacity = bigger;
    }
    c->known[c->count++] = (child){pid, parent, start, exe_hash(pid), now_ms(), CHILD_PENDING, 1};
    return 0;
}

/* Marks the known that still exist, and adds new descendants until none is left. */
static void descendants_update(record_children *c)
{
    for (size_t i = 0; i < c->count; i++)
        c->known[i].seen = 0;
    for (int added = 1; added;) {
        added = 0;
        for (size_t i = 0; i < c->scan_count; i++) {
            child *k = child_find(c, c->scan[i].pid);
            if (k != NULL && k->start_ticks == c->scan[i].start) {
                k->seen = 1;
                continue;
            }
            if (k != NULL) /* the pid was reused: the old process is gone */
                *k = c->known[--c->count];
            if (c->scan[i].pid != c->root && is_descendant_parent(c, c->scan[i].parent) &&
                child_add(c, c->scan[i].pid, c->scan[i].parent, c->scan[i].start) == 0)
                added = 1;
        }
    }
    for (size_t i = 0; i < c->count;)
        if (!c->known[i].seen)
            c->known[i] = c->known[--c->count];
        else
            i++;
}

/* The closest ancestor that is recorded (its trace process is the parent). */
static int64_t recorded_ancestor(record_children *c, const child *k)
{
    int64_t parent = k->parent;
    for (int hops = 0; hops < 64; hops++) {
        if (parent == c->root)
            return parent;
        const child *p = child_find(c, parent);
        if (p == NULL)
            return 0;
        if (p->state == CHILD_RECORDED)
            return parent;
        parent = p->parent;
    }
    return 0;
}

/* One attach attempt; returns 1 when added. */
static int child_try(record_children *c, pyi_recorder *r, child *k)
{
    pyi_attach_info *info = malloc(sizeof *info);
    record_process_info *p = malloc(sizeof *p);
    int added = 0;
    if (info == NULL || p == NULL) {
        free(info);
        free(p);
        return 0;
    }
    int young = now_ms() - k->since_ms < START_WINDOW_MS;
    if (pyi_attach_locate(k->pid, info) == 0) {
        char msg[512];
        record_process_info_read(k->pid, info->version, p);
        if (pyi_recorder_add_process(r, &info->target, recorded_ancestor(c, k), p->meta,
                                     p->meta_count, msg, sizeof msg) == 0) {
            k->state = CHILD_RECORDED;
            added = 1;
        } else if (!young) {
            k->state = CHILD_OTHER;
            if (!c->quiet)
                fprintf(stderr, "pyinst-record: not recording child %" PRId64 ": %s\n", k->pid,
                        msg);
        }
    } else if (!young || info->problem == PYI_ATTACH_DENIED ||
               info->problem == PYI_ATTACH_UNSUPPORTED) {
        k->state = CHILD_OTHER;
        if (!c->quiet && (info->problem == PYI_ATTACH_DENIED ||
                          info->problem == PYI_ATTACH_UNSUPPORTED))
            fprintf(stderr, "pyinst-record: not recording child %" PRId64 ": %s\n", k->pid,
                    info->message);
    }
    free(info);
    free(p);
    return added;
}

/* A recorded child the recording dropped, or another that exec'd: look again. */
static void child_recheck(pyi_recorder *r, child *k)
{
    uint64_t hash = exe_hash(k->pid);
    int exec_seen = hash != 0 && hash != k->exe_hash;
    int dropped = k->state == CHILD_RECORDED && !pyi_recorder_has_process(r, k->pid);
    if (exec_seen || dropped) {
        k->exe_hash = hash;
        k->since_ms = now_ms();
        k->state = CHILD_PENDING;
    }
}

/* ---- Public (to the command) -------------------------------------------- */

record_children *record_children_new(int64_t root_pid, int64_t also_parent, int quiet)
{
    record_children *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->root = root_pid;
    c->also_parent = also_parent;
    c->quiet = quiet;
    c->scan = calloc(PROC_MAX, sizeof *c->scan);
    char path[96];
    snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", (long)getpid(), (long)getpid());
    c->children_files = access(path, R_OK) == 0;
    if (c->scan == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

void record_children_free(record_children *c)
{
    if (c == NULL)
        return;
    free(c->known);
    free(c->scan);
    free(c);
}

int record_children_poll(record_children *c, pyi_recorder *r, int *busy)
{
    scan_proc(c);
    descendants_update(c);
    int added = 0;
    *busy = 0;
    for (size_t i = 0; i < c->count; i++) {
        child *k = &c->known[i];
        if (k->state != CHILD_PENDING)
            child_recheck(r, k);
        if (k->state == CHILD_PENDING)
            added += child_try(c, r, k);
        *busy |= k->state == CHILD_PENDING;
    }
    return added;
}
