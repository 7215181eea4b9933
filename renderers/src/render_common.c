/* SPDX-License-Identifier: MIT */
/* Sinks, option defaults and helpers shared by every renderer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render_internal.h"

int pyi_sink_write(pyi_sink *sink, const void *data, size_t size)
{
    if (!size)
        return 0;
    return sink->write(sink->ctx, data, size) ? PYI_E_IO : 0;
}

int pyi_sink_puts(pyi_sink *sink, const char *text)
{
    return pyi_sink_write(sink, text, strlen(text));
}

int pyi_sink_printf(pyi_sink *sink, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return PYI_E_IO;
    if ((size_t)n < sizeof(small))
        return pyi_sink_write(sink, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return PYI_E_NOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = pyi_sink_write(sink, big, (size_t)n);
    free(big);
    return rc;
}

int pyi_sink_file_write(void *ctx, const void *data, size_t size)
{
    return fwrite(data, 1, size, (FILE *)ctx) == size ? 0 : -1;
}

static int buffer_write(void *ctx, const void *data, size_t size)
{
    pyi_buffer *b = ctx;
    if (b->size + size + 1 > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 4096;
        while (capacity < b->size + size + 1)
            capacity *= 2;
        char *grown = realloc(b->data, capacity);
        if (!grown)
            return -1;
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->size, data, size);
    b->size += size;
    b->data[b->size] = '\0';
    return 0;
}

void pyi_buffer_init(pyi_buffer *buffer, pyi_sink *sink)
{
    memset(buffer, 0, sizeof(*buffer));
    sink->write = buffer_write;
    sink->ctx = buffer;
}

void pyi_buffer_destroy(pyi_buffer *buffer)
{
    free(buffer->data);
    memset(buffer, 0, sizeof(*buffer));
}

void pyi_render_options_init(pyi_render_options *options)
{
    memset(options, 0, sizeof(*options));
    options->metric = PYI_METRIC_WALL;
    options->thread = PYI_THREAD_ALL;
    options->min_share = -1;
}

unsigned pyi_render_processors(const pyi_renderer *renderer, const pyi_render_options *options)
{
    unsigned p = renderer->default_processors;
    if (options->show_all)
        p &= ~(unsigned)(PYI_PROC_HIDE_IMPORTLIB | PYI_PROC_GROUP_LIBRARY);
    p &= ~options->processors_off;
    p |= options->processors_on;
    return p;
}

int pyi__render_fail(char *error, size_t error_size, int rc, const char *fmt, ...)
{
    if (error_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(error, error_size, fmt, ap);
        va_end(ap);
    }
    return rc;
}

void pyi__render_tree_options(const pyi_renderer *r, const pyi_render_options *o,
                              double default_share, pyi_tree_options *tree)
{
    pyi_tree_options_init(tree);
    tree->view.processors = pyi_render_processors(r, o);
    tree->view.metric = o->metric;
    tree->view.thread = o->thread;
    tree->focus_function = o->focus_function;
    tree->inverted = o->inverted;
    tree->min_share = o->show_all ? 0 : o->min_share < 0 ? default_share : o->min_share;
}

size_t pyi__utf8_sequence(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
             : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!n || (n == 2 && s[0] < 0xC2) || s[0] > 0xF4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if (n == 3 && ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0)))
        return 0; /* overlong, or a surrogate */
    if (n == 4 && ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90)))
        return 0;
    return n;
}

int pyi__json_string(pyi_sink *sink, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    const unsigned char *run = s;
    int rc = 0;
    while (*s && rc == 0) {
        size_t n = pyi__utf8_sequence(s);
        if (n && *s >= 0x20 && *s != '"' && *s != '\\' && *s != '<' && *s != '>' &&
            *s != '&') {
            s += n;
            continue;
        }
        rc = pyi_sink_write(sink, run, (size_t)(s - run));
        char esc[8];
        if (!n)
            rc = rc ? rc : pyi_sink_puts(sink, "\\ufffd");
        else if (*s == '"' || *s == '\\')
            rc = rc ? rc : (snprintf(esc, sizeof(esc), "\\%c", *s), pyi_sink_puts(sink, esc));
        else /* controls, and <>& so JSON can sit inside HTML safely */
            rc = rc ? rc : (snprintf(esc, sizeof(esc), "\\u%04x", *s), pyi_sink_puts(sink, esc));
        s += 1;
        run = s;
    }
    return rc ? rc : pyi_sink_write(sink, run, (size_t)(s - run));
}

int pyi__text_safe(pyi_sink *sink, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    const unsigned char *run = s;
    int rc = 0;
    while (*s && rc == 0) {
        size_t n = pyi__utf8_sequence(s);
        int c1 = n == 2 && s[0] == 0xC2 && s[1] < 0xA0; /* C1 controls: terminals obey them */
        if (n && *s >= 0x20 && *s != 0x7F && !c1) {
            s += n;
            continue;
        }
        rc = pyi_sink_write(sink, run, (size_t)(s - run));
        char esc[8];
        if (!n)
            snprintf(esc, sizeof(esc), "\\x%02x", *s);
        else if (*s == '\n')
            snprintf(esc, sizeof(esc), "\\n");
        else if (*s == '\t')
            snprintf(esc, sizeof(esc), "\\t");
        else
            snprintf(esc, sizeof(esc), "\\x%02x", c1 ? s[1] : *s);
        rc = rc ? rc : pyi_sink_puts(sink, esc);
        s += c1 ? 2 : 1;
        run = s;
    }
    return rc ? rc : pyi_sink_write(sink, run, (size_t)(s - run));
}
