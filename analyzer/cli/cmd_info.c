/* SPDX-License-Identifier: MIT */
/*
 * pyinst-report info: what a trace holds and whether it is whole: header,
 * late metadata, chunks, threads, samples, lost samples and damage. With
 * --verify the exit status says whether the file is complete and undamaged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "pyi/trace.h"

static const char USAGE[] =
    "usage: pyinst-report info [--verify] FILE...\n"
    "Shows each trace's header, metadata, chunks, threads, samples, lost samples\n"
    "and damage. Damaged chunks are skipped and listed, never fatal.\n"
    "  --verify  exit 1 unless every file is complete (closed cleanly) and undamaged\n";

#define LOST_REASONS 5 /* PYI_LOST_* are 1..4; 0 collects unknown reasons */

typedef struct thread_tally {
    uint64_t samples;
    uint64_t weight_ns;
    uint64_t on_cpu;
} thread_tally;

typedef struct info_tally {
    thread_tally *threads; /* by thread id - 1 */
    size_t thread_count;
    uint64_t lost[LOST_REASONS];
    uint64_t records, markers, meta;
    int end_seen;
} info_tally;

static int tally_thread(info_tally *t, uint32_t id)
{
    if (id <= t->thread_count)
        return 0;
    thread_tally *grown = realloc(t->threads, id * sizeof(*grown));
    if (!grown)
        return -1;
    memset(grown + t->thread_count, 0, (id - t->thread_count) * sizeof(*grown));
    t->threads = grown;
    t->thread_count = id;
    return 0;
}

static void print_time(const char *label, uint64_t wall_ns)
{
    time_t seconds = (time_t)(wall_ns / 1000000000u);
    struct tm tm;
    char text[64] = "?";
    if (gmtime_r(&seconds, &tm))
        strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &tm);
    printf("%-12s %s\n", label, text);
}

static void print_header(const char *path, const pyi_header *h)
{
    printf("%-12s %s\n", "file:", path);
    printf("%-12s %u.%u, written by %s\n", "format:", h->major, h->minor, h->recorder);
    print_time("started:", h->start_wall_ns);
    printf("%-12s %s, interval %.3f ms, clock %s\n", "mode:", h->mode, h->interval_ns / 1e6,
           h->clock);
    printf("%-12s pid %" PRId64 ":", "process:", h->pid);
    for (size_t i = 0; i < h->argc; i++)
        printf(" %s", h->argv[i]);
    printf("\n");
    if (*h->python || *h->hostname)
        printf("%-12s %s %s on %s, host %s\n", "", *h->python_implementation
               ? h->python_implementation : "Python", h->python, h->platform, h->hostname);
    if (*h->cwd)
        printf("%-12s cwd %s\n", "", h->cwd);
    for (size_t i = 0; i < h->extra_count; i++) {
        printf("%-12s %s = ", i == 0 ? "metadata:" : "", h->extra[i].key);
        pyi_value_print_json(&h->extra[i].value, stdout);
        printf("\n");
    }
}

/* Reads every record, counting what info shows. */
static int tally_records(pyi_reader *r, info_tally *t)
{
    pyi_record rec;
    int rc;
    while ((rc = pyi_reader_next(r, &rec)) == 1) {
        t->records++;
        if (rec.type == PYI_RECORD_SAMPLE) {
            const pyi_sample *s = &rec.u.sample;
            if (tally_thread(t, s->thread_id))
                return PYI_E_NOMEM;
            thread_tally *th = &t->threads[s->thread_id - 1];
            th->samples++;
            th->weight_ns += s->weight_ns;
            th->on_cpu += (s->status & PYI_STATUS_ON_CPU) != 0;
        } else if (rec.type == PYI_RECORD_LOST) {
            uint32_t reason = rec.u.lost.reason < LOST_REASONS ? rec.u.lost.reason : 0;
            t->lost[reason] += rec.u.lost.count;
        } else if (rec.type == PYI_RECORD_MARKER) {
            t->markers++;
        } else if (rec.type == PYI_RECORD_META) {
            if (t->meta++ == 0)
                printf("%-12s (recorded later)\n", "metadata:");
            printf("%-12s %s = ", "", rec.u.meta.key);
            pyi_value_print_json(&rec.u.meta.value, stdout);
            printf("\n");
        }
    }
    return rc;
}

static void print_threads(pyi_reader *r, const info_tally *t)
{
    const pyi_reader_stats *s = pyi_reader_get_stats(r);
    printf("%-12s %" PRIu64 " in %" PRIu64 " thread(s), %" PRIu64 " process(es)\n",
           "samples:", s->samples, s->threads, s->processes + 1);
    for (uint32_t id = 1; id <= s->threads; id++) {
        const pyi_thread *th = pyi_reader_thread(r, id);
        if (!th)
            continue;
        const char *name = pyi_reader_string(r, th->name_id, NULL);
        const thread_tally *tt = id <= t->thread_count ? &t->threads[id - 1] : NULL;
        printf("%-12s thread %u %s (tid %" PRIu64 "%s): %" PRIu64 " samples, %.3f s, %" PRIu64
               " on CPU\n",
               id == 1 ? "threads:" : "", id, name ? name : "(unnamed)", th->native_id,
               th->flags & PYI_THREAD_MAIN ? ", main" : "", tt ? tt->samples : 0,
               tt ? tt->weight_ns / 1e9 : 0.0, tt ? tt->on_cpu : 0);
    }
    uint64_t lost = s->lost_samples;
    printf("%-12s %" PRIu64, "lost:", lost);
    if (lost)
        printf(" (invalid %" PRIu64 ", missed %" PRIu64 ", dropped %" PRIu64 ", other %" PRIu64
               ")",
               t->lost[PYI_LOST_INVALID], t->lost[PYI_LOST_MISSED], t->lost[PYI_LOST_DROPPED],
               t->lost[PYI_LOST_OTHER] + t->lost[0]);
    printf("\n");
}

/* Prints the file's condition; returns non-zero when it is not whole. */
static int print_condition(pyi_reader *r, const pyi_header *h)
{
    const pyi_reader_stats *s = pyi_reader_get_stats(r);
    if (s->first_time_ns)
        printf("%-12s %.3f s of samples\n", "duration:",
               (s->last_time_ns - s->first_time_ns) / 1e9);
    printf("%-12s %" PRIu64 " strings, %" PRIu64 " functions, %" PRIu64 " locations, %" PRIu64
           " stacks\n",
           "defined:", s->strings, s->functions, s->locations, s->stacks);
    printf("%-12s %" PRIu64 " intact, %" PRIu64 " damaged; index %s; %" PRIu64 " bytes\n",
           "chunks:", s->chunks, s->chunks_damaged, s->has_index ? "present" : "absent",
           s->file_bytes);
    if (s->unknown_records || s->unknown_frames)
        printf("%-12s %" PRIu64 " unknown records, %" PRIu64
               " unknown frames (a newer minor version, %u.%u)\n",
               "skipped:", s->unknown_records, s->unknown_frames, h->major, h->minor);
    int whole = s->has_end && !s->truncated && !s->damaged && !s->dropped_records;
    printf("%-12s %s\n", "state:",
           s->has_end ? (s->truncated ? "closed, then damaged at the end" : "closed cleanly")
                      : s->truncated ? "truncated: the recorder did not finish this file"
                                     : "not closed cleanly: the recorder did not finish");
    for (size_t i = 0; i < pyi_reader_damage_count(r); i++)
        printf("%-12s %s\n", i == 0 ? "damage:" : "", pyi_reader_damage(r, i));
    if (s->dropped_records)
        printf("%-12s %" PRIu64 " records referred to definitions in damaged chunks\n", "",
               s->dropped_records);
    return !whole;
}

static int info_one(const char *path, int *damaged)
{
    pyi_reader_options options;
    pyi_reader_options_init(&options);
    options.salvage = 1; /* info reports damage rather than stopping at it */
    pyi_reader *r = NULL;
    info_tally tally = {0};
    int rc = pyi_reader_open(&r, path, &options);
    if (rc == PYI_OK) {
        print_header(path, pyi_reader_header(r));
        rc = tally_records(r, &tally);
    }
    if (rc < 0) {
        fflush(stdout);
        report_error("%s", pyi_reader_error_detail(r));
    } else {
        print_threads(r, &tally);
        *damaged |= print_condition(r, pyi_reader_header(r));
    }
    free(tally.threads);
    pyi_reader_free(r);
    return rc < 0 ? -1 : 0;
}

int cmd_info(int argc, char **argv)
{
    int verify = 0, files = 0, failed = 0, damaged = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--verify"))
            verify = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            report_error("info: unknown option '%s'", argv[i]);
            return 2;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            continue;
        if (files++)
            printf("\n");
        failed |= info_one(argv[i], &damaged) != 0;
    }
    if (!files) {
        fputs(USAGE, stderr);
        return 2;
    }
    if (failed)
        return 2;
    return verify && damaged ? 1 : 0;
}
