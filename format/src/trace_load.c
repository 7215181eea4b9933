/* SPDX-License-Identifier: MIT */
/* pyi_trace_load: a whole trace in memory, for tests and small tools. */
#include "reader_internal.h"

#include <stdio.h>

static int append(const pyi_allocator *a, void **array, size_t *count, size_t *capacity,
                  const void *item, size_t size)
{
    if (pyi__grow(a, array, capacity, *count + 1, size))
        return PYI_E_NOMEM;
    memcpy((char *)*array + *count * size, item, size);
    (*count)++;
    return PYI_OK;
}

static int load_records(pyi_trace *t)
{
    const pyi_allocator *a = t->reader->allocator;
    size_t sample_cap = 0, lost_cap = 0, marker_cap = 0;
    void *samples = NULL, *lost = NULL, *markers = NULL;
    pyi_record rec;
    int rc;
    while ((rc = pyi_reader_next(t->reader, &rec)) == 1) {
        if (rec.type == PYI_RECORD_SAMPLE)
            rc = append(a, &samples, &t->sample_count, &sample_cap, &rec.u.sample,
                        sizeof(pyi_sample));
        else if (rec.type == PYI_RECORD_LOST)
            rc = append(a, &lost, &t->lost_count, &lost_cap, &rec.u.lost, sizeof(pyi_lost));
        else if (rec.type == PYI_RECORD_MARKER) {
            rec.u.marker.args = NULL; /* borrowed until the next record: not kept */
            rec.u.marker.arg_count = 0;
            rc = append(a, &markers, &t->marker_count, &marker_cap, &rec.u.marker,
                        sizeof(pyi_marker));
        } else
            rc = PYI_OK;
        if (rc)
            break;
    }
    t->samples = samples;
    t->lost = lost;
    t->markers = markers;
    return rc;
}

int pyi_trace_load(pyi_trace **out, const char *path, const pyi_reader_options *options,
                   char *detail, size_t detail_size)
{
    const pyi_allocator *a = options ? options->allocator : NULL;
    *out = NULL;
    pyi_trace *t = pyi__malloc(a, sizeof(*t));
    if (!t) {
        if (detail && detail_size)
            snprintf(detail, detail_size, "%s: out of memory", path);
        return PYI_E_NOMEM;
    }
    memset(t, 0, sizeof(*t));
    int rc = pyi_reader_open(&t->reader, path, options);
    if (rc == PYI_OK)
        rc = load_records(t);
    if (rc < 0) {
        if (detail && detail_size)
            snprintf(detail, detail_size, "%s",
                     t->reader ? pyi_reader_error_detail(t->reader) : "out of memory");
        pyi__free(a, t->samples);
        pyi__free(a, t->lost);
        pyi__free(a, t->markers);
        pyi_reader_free(t->reader);
        pyi__free(a, t);
        return rc;
    }
    *out = t;
    return PYI_OK;
}

void pyi_trace_free(pyi_trace *t)
{
    if (!t)
        return;
    const pyi_allocator *a = t->reader ? t->reader->allocator : NULL;
    pyi__free(a, t->samples);
    pyi__free(a, t->lost);
    pyi__free(a, t->markers);
    pyi_reader_free(t->reader);
    pyi__free(a, t);
}
