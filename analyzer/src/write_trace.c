/* SPDX-License-Identifier: MIT */
/*
 * Writes a finished model back as a .pyitrace through the format writer
 * (pyinst-report merge): every source becomes a process, every model thread a
 * thread, and each aggregate as many samples as it holds, with its exact
 * totals spread over them. Per-sample timing is not kept: the samples of an
 * aggregate all sit at its first appearance.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "pyi/trace.h"

#define FILE_TIME_BASE_NS 1000000000ull /* any fixed origin: times are relative */

typedef struct write_state {
    pyi_model *m;
    pyi_writer *w;
    uint32_t *functions; /* model id -> writer id */
    uint32_t *locations;
    uint32_t *stacks;
    uint32_t *threads;
    uint32_t *processes; /* source id -> writer process id */
} write_state;

static uint32_t intern_text(write_state *st, const char *text, int *rc)
{
    uint32_t id = 0;
    if (!*rc && *text)
        *rc = pyi_writer_intern_string(st->w, text, strlen(text), &id);
    return id;
}

static int write_definitions(write_state *st)
{
    pyi_model *m = st->m;
    int rc = 0;
    for (size_t i = 0; i < m->function_count && !rc; i++) {
        const pyi_model_function *f = &m->functions[i];
        uint32_t name = intern_text(st, f->name, &rc);
        uint32_t file = intern_text(st, *f->path ? f->path : f->file, &rc);
        if (!rc && !name) /* the writer needs a name string: "" is interned explicitly */
            rc = pyi_writer_intern_string(st->w, "", 0, &name);
        if (!rc)
            rc = pyi_writer_intern_function(st->w, name, file, f->first_line, f->kind,
                                            &st->functions[i + 1]);
    }
    for (size_t i = 0; i < m->location_count && !rc; i++)
        rc = pyi_writer_intern_location(st->w, st->functions[m->locations[i].function],
                                        m->locations[i].line, &st->locations[i + 1]);
    for (size_t i = 0; i < m->stack_count && !rc; i++) /* parents have smaller ids */
        rc = pyi_writer_intern_stack(st->w, st->stacks[m->stacks[i].parent],
                                     st->locations[m->stacks[i].location], &st->stacks[i + 1]);
    return rc;
}

static int write_threads(write_state *st)
{
    pyi_model *m = st->m;
    int rc = 0;
    st->processes[1] = 1;
    for (size_t s = 2; s <= m->source_count && !rc; s++) {
        pyi_process p = {0, 0, m->sources[s - 1]->pub.pid, NULL, 0};
        rc = pyi_writer_add_process(st->w, &p, &st->processes[s]);
    }
    for (size_t i = 0; i < m->thread_count && !rc; i++) {
        const pyi_model_thread *t = &m->threads[i];
        pyi_thread th = {0, st->processes[t->source], t->native_id, intern_text(st, t->name, &rc),
                         t->is_main ? PYI_THREAD_MAIN : 0};
        if (!rc)
            rc = pyi_writer_add_thread(st->w, &th, &st->threads[i + 1]);
    }
    return rc;
}

/* n samples sharing total_ns (µs steps, the file's resolution) and cpu_ns. */
static int write_spread(write_state *st, pyi_sample *s, uint64_t n, uint64_t total_ns,
                        uint64_t cpu_ns, int has_cpu)
{
    uint64_t total_us = total_ns / 1000, cpu_us = cpu_ns / 1000;
    for (uint64_t k = 0; k < n; k++) {
        s->weight_ns = (total_us / n + (k < total_us % n)) * 1000;
        s->cpu_ns = has_cpu ? (cpu_us / n + (k < cpu_us % n)) * 1000 : PYI_CPU_UNKNOWN;
        int rc = pyi_writer_add_sample(st->w, s);
        if (rc)
            return rc;
    }
    return 0;
}

static int write_samples(write_state *st)
{
    pyi_model *m = st->m;
    int has_cpu = m->info.has_cpu;
    for (size_t i = 0; i < m->aggregate_count; i++) {
        const pyi_model_aggregate *a = &m->aggregates[i];
        const pyi_metrics *t = &a->totals;
        pyi_sample s = {st->threads[a->thread], st->stacks[a->stack],
                        FILE_TIME_BASE_NS + a->first_ns, 0, 0, PYI_STATUS_ON_CPU};
        uint64_t on = t->on_cpu_samples, off = t->samples - on;
        uint64_t cpu_on = on ? t->cpu_ns * on / t->samples : 0;
        int rc = write_spread(st, &s, on, t->on_cpu_ns, cpu_on, has_cpu);
        s.status = 0;
        if (!rc)
            rc = write_spread(st, &s, off, t->wall_ns - t->on_cpu_ns, t->cpu_ns - cpu_on,
                              has_cpu);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < m->source_count; i++) {
        const pyi_model_source *src = &m->sources[i]->pub;
        pyi_lost lost = {0, PYI_LOST_OTHER, src->lost_samples, src->lost_ns};
        int rc = src->lost_samples ? pyi_writer_add_lost(st->w, &lost) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

static void fill_header(const pyi_model *m, pyi_header *h, const char **argv)
{
    const pyi_model_source *first = m->source_count ? &m->sources[0]->pub : NULL;
    memset(h, 0, sizeof(*h));
    h->recorder = "pyinst-report " PYI_ANALYZER_VERSION " (merge)";
    h->mode = first && *first->mode ? first->mode : "wall";
    h->clock = "CLOCK_MONOTONIC";
    h->interval_ns = m->info.interval_ns ? m->info.interval_ns : 1000000;
    h->start_mono_ns = FILE_TIME_BASE_NS;
    h->start_wall_ns = m->info.start_wall_ns;
    h->status_known = m->info.has_status ? PYI_STATUS_ON_CPU : 0;
    if (first) {
        h->pid = first->pid;
        argv[0] = first->program;
        h->argv = argv;
        h->argc = *first->program ? 1 : 0;
        h->cwd = first->cwd;
        h->hostname = first->hostname;
        h->python = first->python;
        h->platform = first->platform;
    }
}

int pyi_model_write_trace(pyi_model *m, const char *path)
{
    if (!m->finished)
        return pyi__model_fail(m, PYI_E_STATE, "%s: the model is not finished", path);
    write_state st = {m, NULL, NULL, NULL, NULL, NULL, NULL};
    st.functions = calloc(m->function_count + 1, sizeof(uint32_t));
    st.locations = calloc(m->location_count + 1, sizeof(uint32_t));
    st.stacks = calloc(m->stack_count + 1, sizeof(uint32_t));
    st.threads = calloc(m->thread_count + 1, sizeof(uint32_t));
    st.processes = calloc(m->source_count + 1, sizeof(uint32_t));
    int rc = PYI_E_NOMEM;
    if (!st.functions || !st.locations || !st.stacks || !st.threads || !st.processes)
        goto out;
    pyi_header h;
    const char *argv[1];
    fill_header(m, &h, argv);
    rc = pyi_writer_open(&st.w, path, &h, NULL);
    if (!rc)
        rc = write_definitions(&st);
    if (!rc)
        rc = write_threads(&st);
    if (!rc)
        rc = write_samples(&st);
    if (!rc)
        rc = pyi_writer_close(st.w);
    if (rc)
        pyi__model_fail(m, rc, "%s", st.w ? pyi_writer_error_detail(st.w) : "out of memory");
out:
    if (rc == PYI_E_NOMEM && !st.w)
        pyi__model_fail(m, rc, "%s: out of memory", path);
    pyi_writer_free(st.w);
    free(st.functions);
    free(st.locations);
    free(st.stacks);
    free(st.threads);
    free(st.processes);
    return rc;
}
