/* One recorded process: opens its memory, picks its layout, probes it, sets up walker and resolver. */
/* SPDX-License-Identifier: MIT */
#include "engine_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_maps_internal.h"

/* ---- Internal --------------------------------------------------------- */

#define TASKS_MAX 4096

void pyi__fail_message(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
}

static int probe_thread(void *ctx, const pyi_thread_snapshot *snap)
{
    pyi_probe *p = ctx;
    p->threads++;
    p->bad += snap->error == PYI_WALK_BAD_THREAD;
    if (snap->tstate == p->tstate) {
        p->found = 1;
        p->seen_code = snap->depth > 0 ? snap->frames[0].code : 0;
    }
    if (snap->error != PYI_WALK_BAD_THREAD && p->thread_id_count < PYI_ENGINE_PROBE_THREADS)
        p->thread_ids[p->thread_id_count++] = snap->thread_id;
    return 0;
}

/* Before 3.11 a thread state holds only the pthread_t: learn where glibc
 * keeps the kernel id inside struct pthread. In-process our own thread
 * tells; in another process, its thread list does. */
static void tid_offset_learn(pyi_engine *e, const pyi_probe *p)
{
    if (e->layout.tstate_native_thread_id >= 0)
        return;
    if (e->mem.is_self) {
        e->walker.pthread_tid_offset = pyi_walker_find_tid_offset(
            &e->mem, (uint64_t)pthread_self(), (uint32_t)gettid());
        return;
    }
    pyi_task_id *tasks = calloc(TASKS_MAX, sizeof *tasks);
    uint64_t *ids = calloc(TASKS_MAX, sizeof *ids);
    int count = tasks && ids ? pyi_proc_tasks(e->mem.pid, tasks, TASKS_MAX) : -1;
    for (int i = 0; i < count; i++)
        ids[i] = tasks[i].ns;
    if (count > 0)
        e->walker.pthread_tid_offset = pyi_walker_learn_tid_offset(
            &e->mem, p->thread_ids, p->thread_id_count, ids, (size_t)count,
            (uint64_t)e->ns_pid);
    free(tasks);
    free(ids);
}

/* ---- Internal, shared within recorder/ ---------------------------------- */

int pyi__layout_select(pyi_mem_reader *mem, const pyi_target *t, pyi_py_layout *out, char *msg,
                       size_t size)
{
    unsigned major = t->python_version_hex >> 24, minor = (t->python_version_hex >> 16) & 0xff;
    if (major != 3 || minor < 8 || minor > 13) {
        pyi__fail_message(msg, size, "CPython %u.%u is not supported (pyinst records 3.8 to 3.13)",
                     major, minor);
        return PYI_E_UNSUPPORTED;
    }
    if (minor < 13)
        return pyi_py_layout_from_table(minor, out);
    unsigned char bytes[PYI_DEBUG_OFFSETS_313_SIZE];
    if (pyi_mem_read(mem, t->runtime_address, bytes, sizeof bytes) != 0) {
        pyi__fail_message(msg, size, "cannot read _PyRuntime at 0x%llx",
                     (unsigned long long)t->runtime_address);
        return PYI_E_UNSUPPORTED;
    }
    return pyi_py_layout_from_debug_offsets(bytes, sizeof bytes, out, msg, size);
}

int pyi__target_probe(pyi_mem_reader *mem, const pyi_py_layout *layout, const pyi_target *t,
                      pyi_probe *p, char *msg, size_t size)
{
    pyi_walker walker;
    int rc = pyi_walker_init(&walker, mem, layout, t->runtime_address, 64);
    if (rc != 0)
        return rc;
    rc = pyi_walker_walk(&walker, probe_thread, p);
    pyi_walker_destroy(&walker);
    if (rc != 0 || p->threads == 0 || p->bad == p->threads) {
        pyi__fail_message(msg, size,
                     "the interpreter state of CPython 3.%u does not look as expected "
                     "(walk %d, %d threads, %d unreadable): not a standard build?",
                     layout->minor, rc, p->threads, p->bad);
        return PYI_E_STATE;
    }
    return 0;
}

/* ---- Public (to recorder/) -------------------------------------------- */

int pyi_engine_open(pyi_engine **out, const pyi_target *target,
                    const pyi_recorder_options *options, uint32_t process_id, char *msg,
                    size_t msg_size)
{
    *out = NULL;
    pyi_engine *e = calloc(1, sizeof *e);
    if (e == NULL) {
        pyi__fail_message(msg, msg_size, "out of memory");
        return PYI_E_NOMEM;
    }
    e->process_id = process_id;
    int rc = pyi_mem_open(&e->mem, (int)target->pid,
                          (pyi_memory_method)options->memory_method, msg, msg_size);
    if (rc != 0) {
        free(e);
        return PYI_E_UNSUPPORTED;
    }
    e->ns_pid = e->mem.is_self ? e->mem.pid : pyi_proc_ns_pid(e->mem.pid);
    if (e->ns_pid <= 0)
        e->ns_pid = e->mem.pid;
    pyi_probe probe = {0};
    rc = pyi__layout_select(&e->mem, target, &e->layout, msg, msg_size);
    if (rc == 0)
        rc = pyi__target_probe(&e->mem, &e->layout, target, &probe, msg, msg_size);
    if (rc == 0 &&
        ((rc = pyi_walker_init(&e->walker, &e->mem, &e->layout, target->runtime_address,
                               options->max_depth)) != 0 ||
         (rc = pyi_thread_table_init(&e->threads, e->mem.pid, (int)e->ns_pid, e->mem.is_self,
                                     process_id)) != 0 ||
         (rc = pyi_resolver_init(&e->resolver, &e->mem, &e->layout, NULL,
                                 target->code_type_address, options->max_depth)) != 0))
        pyi__fail_message(msg, msg_size, "out of memory");
    if (rc != 0) {
        pyi_engine_free(e);
        return rc;
    }
    e->walker.only_thread = options->only_thread;
    e->walker.only_native_id = options->only_native_id;
    e->resolver.source_pid = e->mem.is_self ? 0 : e->mem.pid;
    tid_offset_learn(e, &probe);
    if (options->prefetch && !e->mem.is_self && pyi_mem_prefetch_enable(&e->mem) != 0) {
        pyi_engine_free(e);
        pyi__fail_message(msg, msg_size, "out of memory");
        return PYI_E_NOMEM;
    }
    *out = e;
    return 0;
}

void pyi_engine_bind(pyi_engine *e, pyi_writer *writer, pyi_catalog *catalog)
{
    e->resolver.writer = writer;
    e->resolver.catalog = catalog;
}

void pyi_engine_free(pyi_engine *e)
{
    if (e == NULL)
        return;
    pyi_resolver_destroy(&e->resolver);
    pyi_walker_destroy(&e->walker);
    pyi_thread_table_destroy(&e->threads);
    pyi_mem_close(&e->mem);
    for (size_t i = 0; i < e->meta_count; i++) {
        free((char *)e->meta[i].key);
        free((char *)e->meta[i].value.s);
    }
    free(e->meta);
    free(e);
}
