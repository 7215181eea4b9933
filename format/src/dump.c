/* SPDX-License-Identifier: MIT */
/*
 * The canonical JSON dump of spec §10: one JSON object per line, byte for
 * byte what spec/reference_reader.py prints, so two readers can be compared.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "msgpack_read_internal.h"
#include "common_internal.h"

/* ---- JSON text ---- */

static void print_string(FILE *out, const char *s, size_t length)
{
    fputc('"', out);
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\b':
            fputs("\\b", out);
            break;
        case '\f':
            fputs("\\f", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (c < 0x20)
                fprintf(out, "\\u%04x", c);
            else
                fputc(c, out);
        }
    }
    fputc('"', out);
}

static void print_cstring(FILE *out, const char *s)
{
    print_string(out, s, strlen(s));
}

/* The shortest %.Ng that reads back as the same double (spec §10). */
static void print_double(FILE *out, double x)
{
    if (!isfinite(x)) {
        fputs("null", out);
        return;
    }
    char text[40];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(text, sizeof(text), "%.*g", digits, x);
        if (strtod(text, NULL) == x)
            break;
    }
    fputs(text, out);
}

/* Prints one msgpack object; the input was validated by pyi__mp_value. */
static int print_msgpack(FILE *out, pyi_mp *m)
{
    if (m->pos >= m->end)
        return PYI_E_CORRUPT;
    uint8_t c = *m->pos;
    uint32_t n;
    if ((c >= 0x90 && c <= 0x9f) || c == 0xdc || c == 0xdd) {
        if (pyi__mp_array(m, &n))
            return PYI_E_CORRUPT;
        fputc('[', out);
        for (uint32_t i = 0; i < n; i++) {
            if (i)
                fputc(',', out);
            if (print_msgpack(out, m))
                return PYI_E_CORRUPT;
        }
        fputc(']', out);
        return PYI_OK;
    }
    if ((c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf) {
        if (pyi__mp_map(m, &n))
            return PYI_E_CORRUPT;
        fputc('{', out);
        for (uint32_t i = 0; i < n; i++) {
            const char *key;
            uint32_t length;
            if (i)
                fputc(',', out);
            if (pyi__mp_str(m, &key, &length))
                return PYI_E_CORRUPT;
            print_string(out, key, length);
            fputc(':', out);
            if (print_msgpack(out, m))
                return PYI_E_CORRUPT;
        }
        fputc('}', out);
        return PYI_OK;
    }
    if (c == 0xc4 || c == 0xc5 || c == 0xc6) {
        /* bin: lower-case hex; pyi__mp_str only takes str, so decode here */
        int width = c == 0xc4 ? 1 : c == 0xc5 ? 2 : 4;
        if (pyi__mp_remaining(m) < (size_t)(1 + width))
            return PYI_E_CORRUPT;
        uint64_t length = 0;
        for (int i = 0; i < width; i++)
            length = (length << 8) | m->pos[1 + i];
        m->pos += 1 + width;
        if (pyi__mp_remaining(m) < length)
            return PYI_E_CORRUPT;
        fputc('"', out);
        for (uint64_t i = 0; i < length; i++)
            fprintf(out, "%02x", m->pos[i]);
        fputc('"', out);
        m->pos += length;
        return PYI_OK;
    }
    pyi_value v;
    if (pyi__mp_value(m, &v))
        return PYI_E_CORRUPT;
    return pyi_value_print_json(&v, out);
}

int pyi_value_print_json(const pyi_value *v, FILE *out)
{
    switch (v->kind) {
    case PYI_VALUE_NIL:
        fputs("null", out);
        return PYI_OK;
    case PYI_VALUE_BOOL:
        fputs(v->i ? "true" : "false", out);
        return PYI_OK;
    case PYI_VALUE_INT:
        fprintf(out, "%" PRId64, v->i);
        return PYI_OK;
    case PYI_VALUE_UINT:
        fprintf(out, "%" PRIu64, v->u);
        return PYI_OK;
    case PYI_VALUE_FLOAT:
        print_double(out, v->f);
        return PYI_OK;
    case PYI_VALUE_STRING:
        print_string(out, v->s, v->length);
        return PYI_OK;
    case PYI_VALUE_RAW: {
        pyi_mp m;
        pyi__mp_init(&m, v->s, v->length);
        return print_msgpack(out, &m);
    }
    }
    return PYI_E_INVALID_ARG;
}

static int print_map(FILE *out, const pyi_meta_entry *entries, size_t count)
{
    fputc('{', out);
    for (size_t i = 0; i < count; i++) {
        if (i)
            fputc(',', out);
        print_cstring(out, entries[i].key);
        fputc(':', out);
        if (pyi_value_print_json(&entries[i].value, out))
            return PYI_E_CORRUPT;
    }
    fputc('}', out);
    return PYI_OK;
}

/* ---- Records ---- */

static int print_record(FILE *out, const pyi_record *rec)
{
    switch (rec->type) {
    case PYI_RECORD_CHUNK: {
        const pyi_chunk_info *c = &rec->u.chunk;
        fprintf(out,
                "{\"record\":\"chunk\",\"sequence\":%" PRIu64 ",\"offset\":%" PRIu64
                ",\"size\":%" PRIu64 ",\"content_size\":%" PRIu64 ",\"base_time_ns\":%" PRIu64
                "}\n",
                c->sequence, c->offset, c->size, c->content_size, c->base_time_ns);
        return PYI_OK;
    }
    case PYI_RECORD_STRING:
        fprintf(out, "{\"record\":\"string\",\"id\":%" PRIu32 ",\"value\":", rec->u.string.id);
        print_string(out, rec->u.string.utf8, rec->u.string.length);
        fputs("}\n", out);
        return PYI_OK;
    case PYI_RECORD_FUNCTION: {
        const pyi_function *f = &rec->u.function;
        fprintf(out,
                "{\"record\":\"function\",\"id\":%" PRIu32 ",\"name\":%" PRIu32
                ",\"file\":%" PRIu32 ",\"first_line\":%" PRIu32 ",\"kind\":%" PRIu32 "}\n",
                f->id, f->name_id, f->file_id, f->first_line, f->kind);
        return PYI_OK;
    }
    case PYI_RECORD_LOCATION: {
        const pyi_location *l = &rec->u.location;
        fprintf(out,
                "{\"record\":\"location\",\"id\":%" PRIu32 ",\"function\":%" PRIu32
                ",\"line\":%" PRIu32 "}\n",
                l->id, l->function_id, l->line);
        return PYI_OK;
    }
    case PYI_RECORD_STACK: {
        const pyi_stack *s = &rec->u.stack;
        fprintf(out,
                "{\"record\":\"stack\",\"id\":%" PRIu32 ",\"parent\":%" PRIu32
                ",\"location\":%" PRIu32 "}\n",
                s->id, s->parent_id, s->location_id);
        return PYI_OK;
    }
    case PYI_RECORD_THREAD: {
        const pyi_thread *t = &rec->u.thread;
        fprintf(out,
                "{\"record\":\"thread\",\"id\":%" PRIu32 ",\"process\":%" PRIu32
                ",\"native_id\":%" PRIu64 ",\"name\":%" PRIu32 ",\"flags\":%" PRIu32 "}\n",
                t->id, t->process_id, t->native_id, t->name_id, t->flags);
        return PYI_OK;
    }
    default:
        break;
    }
    return -1; /* not a definition: print_event */
}

static int print_event(FILE *out, const pyi_record *rec)
{
    switch (rec->type) {
    case PYI_RECORD_PROCESS: {
        const pyi_process *p = &rec->u.process;
        fprintf(out,
                "{\"record\":\"process\",\"id\":%" PRIu32 ",\"parent\":%" PRIu32
                ",\"pid\":%" PRId64 ",\"meta\":",
                p->id, p->parent_id, p->pid);
        if (print_map(out, p->meta, p->meta_count))
            return PYI_E_CORRUPT;
        fputs("}\n", out);
        return PYI_OK;
    }
    case PYI_RECORD_SAMPLE: {
        const pyi_sample *s = &rec->u.sample;
        fprintf(out,
                "{\"record\":\"sample\",\"thread\":%" PRIu32 ",\"time_ns\":%" PRIu64
                ",\"stack\":%" PRIu32 ",\"status\":%" PRIu32 ",\"weight_ns\":%" PRIu64
                ",\"cpu_ns\":",
                s->thread_id, s->time_ns, s->stack_id, s->status, s->weight_ns);
        if (s->cpu_ns == PYI_CPU_UNKNOWN)
            fputs("null}\n", out);
        else
            fprintf(out, "%" PRIu64 "}\n", s->cpu_ns);
        return PYI_OK;
    }
    case PYI_RECORD_LOST: {
        const pyi_lost *l = &rec->u.lost;
        fprintf(out,
                "{\"record\":\"lost\",\"thread\":%" PRIu32 ",\"reason\":%" PRIu32
                ",\"count\":%" PRIu64 ",\"weight_ns\":%" PRIu64 "}\n",
                l->thread_id, l->reason, l->count, l->weight_ns);
        return PYI_OK;
    }
    case PYI_RECORD_MARKER: {
        const pyi_marker *mk = &rec->u.marker;
        fprintf(out,
                "{\"record\":\"marker\",\"thread\":%" PRIu32 ",\"name\":%" PRIu32
                ",\"time_ns\":%" PRIu64 ",\"duration_ns\":%" PRIu64 ",\"args\":",
                mk->thread_id, mk->name_id, mk->time_ns, mk->duration_ns);
        if (print_map(out, mk->args, mk->arg_count))
            return PYI_E_CORRUPT;
        fputs("}\n", out);
        return PYI_OK;
    }
    case PYI_RECORD_META:
        fputs("{\"record\":\"meta\",\"key\":", out);
        print_cstring(out, rec->u.meta.key);
        fputs(",\"value\":", out);
        if (pyi_value_print_json(&rec->u.meta.value, out))
            return PYI_E_CORRUPT;
        fputs("}\n", out);
        return PYI_OK;
    case PYI_RECORD_END:
        fputs("{\"record\":\"end\",\"summary\":", out);
        if (print_map(out, rec->u.end.entries, rec->u.end.count))
            return PYI_E_CORRUPT;
        fputs("}\n", out);
        return PYI_OK;
    default:
        return PYI_OK;
    }
}

int pyi_dump_json(pyi_reader *r, FILE *out)
{
    const pyi_header *h = pyi_reader_header(r);
    fprintf(out,
            "{\"record\":\"header\",\"major\":%u,\"minor\":%u,\"incompat_flags\":%" PRIu32
            ",\"compat_flags\":%" PRIu32 ",\"meta\":",
            h->major, h->minor, h->incompat_flags, h->compat_flags);
    if (print_map(out, h->entries, h->entry_count))
        return PYI_E_CORRUPT;
    fputs("}\n", out);
    pyi_record rec;
    int rc;
    while ((rc = pyi_reader_next(r, &rec)) == 1) {
        if (print_record(out, &rec) < 0 && print_event(out, &rec))
            return PYI_E_CORRUPT;
    }
    if (rc < 0)
        return rc;
    const pyi_reader_stats *s = pyi_reader_get_stats(r);
    fprintf(out,
            "{\"record\":\"stats\",\"chunks\":%" PRIu64 ",\"samples\":%" PRIu64
            ",\"lost_samples\":%" PRIu64 ",\"unknown_records\":%" PRIu64
            ",\"unknown_frames\":%" PRIu64 ",\"truncated\":%s,\"has_end\":%s,\"has_index\":%s}\n",
            s->chunks, s->samples, s->lost_samples, s->unknown_records, s->unknown_frames,
            s->truncated ? "true" : "false", s->has_end ? "true" : "false",
            s->has_index ? "true" : "false");
    return PYI_OK;
}
