/* Rebuilds qualified names for CPython <= 3.10 code objects from their source files. */
/* SPDX-License-Identifier: MIT */
#include "py_qualname_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- Internal --------------------------------------------------------- */

#define SCOPE_DEF 1
#define SCOPE_CLASS 2
#define MAX_SCOPES 32
#define DECORATOR_LOOKAHEAD 64 /* lines from a decorator to its def */

typedef struct tokenizer {
    const char *text;
    size_t size;
    size_t pos;
    int depth;       /* open brackets */
    char quote;      /* inside a string: its quote character, else 0 */
    int triple;      /* the string is triple-quoted */
    int continued;   /* the previous line ended with a backslash */
} tokenizer;

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || (unsigned char)c >= 0x80;
}

/* Does the text at p start with keyword kw followed by a space? */
static int starts_with_keyword(const char *p, const char *end, const char *kw)
{
    size_t n = strlen(kw);
    return (size_t)(end - p) > n && memcmp(p, kw, n) == 0 && (p[n] == ' ' || p[n] == '\t');
}

/* Records "def NAME" / "class NAME" (after optional "async") at p. */
static void note_scope(const char *text, const char *p, const char *end, pyi_source_line *line)
{
    if (starts_with_keyword(p, end, "async")) {
        p += 5;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
    }
    int kind = starts_with_keyword(p, end, "def")     ? SCOPE_DEF
               : starts_with_keyword(p, end, "class") ? SCOPE_CLASS
                                                      : 0;
    if (kind == 0) {
        line->decorator = p < end && *p == '@';
        return;
    }
    p += kind == SCOPE_DEF ? 3 : 5;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    const char *name = p;
    while (p < end && is_name_char(*p))
        p++;
    if (p == name || p - name > 0xffff)
        return;
    line->scope_kind = (uint8_t)kind;
    line->scope_start = (uint32_t)(name - text);
    line->scope_length = (uint16_t)(p - name);
}

/* At the start of a physical line outside strings and brackets: indentation,
 * and whether a statement starts here (not blank, not a comment). */
static void line_start(tokenizer *t, pyi_source_line *line)
{
    const char *p = t->text + t->pos, *end = t->text + t->size;
    int32_t indent = 0;
    for (; p < end && (*p == ' ' || *p == '\t' || *p == '\f'); p++)
        indent = *p == '\t' ? (indent / 8 + 1) * 8 : *p == '\f' ? 0 : indent + 1;
    if (p == end || *p == '\n' || *p == '\r' || *p == '#')
        return;
    line->indent = indent;
    note_scope(t->text, p, end, line);
}

/* Consumes one character of code; returns 1 at the end of a physical line. */
static int code_step(tokenizer *t)
{
    char c = t->text[t->pos];
    if (t->quote) {
        if (c == '\\' && t->pos + 1 < t->size) {
            t->pos += 2;
            return t->text[t->pos - 1] == '\n';
        }
        if (c == t->quote && (!t->triple || (t->pos + 2 < t->size &&
                                             t->text[t->pos + 1] == c && t->text[t->pos + 2] == c))) {
            t->pos += t->triple ? 3 : 1;
            t->quote = 0;
            return 0;
        }
        if (c == '\n' && !t->triple)
            t->quote = 0; /* unterminated: Python would not compile it; recover */
        t->pos++;
        return c == '\n';
    }
    t->pos++;
    switch (c) {
    case '\n':
        return 1;
    case '#':
        while (t->pos < t->size && t->text[t->pos] != '\n')
            t->pos++;
        return 0;
    case '\\':
        if (t->pos < t->size && t->text[t->pos] == '\n')
            t->continued = 1;
        return 0;
    case '(': case '[': case '{':
        t->depth++;
        return 0;
    case ')': case ']': case '}':
        t->depth -= t->depth > 0;
        return 0;
    case '"': case '\'':
        t->quote = c;
        t->triple = t->pos + 1 < t->size && t->text[t->pos] == c && t->text[t->pos + 1] == c;
        if (t->triple)
            t->pos += 2;
        return 0;
    default:
        return 0;
    }
}

static pyi_source_line *tokenize(const char *text, size_t size, uint32_t *count)
{
    uint32_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';
    pyi_source_line *out = calloc(lines, sizeof *out);
    if (out == NULL)
        return NULL;
    tokenizer t = {text, size, 0, 0, 0, 0, 0};
    for (uint32_t n = 0; n < lines; n++) {
        out[n].indent = -1;
        int statement_start = !t.quote && t.depth == 0 && !t.continued;
        t.continued = 0;
        if (statement_start)
            line_start(&t, &out[n]);
        while (t.pos < t.size && !code_step(&t))
            ;
    }
    *count = lines;
    return out;
}

static void file_free(pyi_source_file *f)
{
    free(f->path);
    free(f->text);
    free(f->lines);
    memset(f, 0, sizeof *f);
}

static int file_load(pyi_source_file *f, const char *path)
{
    struct stat st;
    FILE *in = fopen(path, "rbe");
    if (in == NULL)
        return -1;
    int ok = fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
             (uint64_t)st.st_size <= PYI_SOURCE_MAX_BYTES;
    size_t size = ok ? (size_t)st.st_size : 0;
    f->text = ok ? malloc(size + 1) : NULL;
    ok = f->text != NULL && fread(f->text, 1, size, in) == size;
    fclose(in);
    if (ok) {
        f->text[size] = '\0';
        f->lines = tokenize(f->text, size, &f->line_count);
        f->path = strdup(path);
    }
    if (!ok || f->lines == NULL || f->path == NULL) {
        file_free(f);
        return -1;
    }
    return 0;
}

static pyi_source_file *file_get(pyi_source_cache *cache, const char *path)
{
    pyi_source_file *oldest = &cache->files[0];
    cache->clock++;
    for (int i = 0; i < PYI_SOURCE_CACHE_FILES; i++) {
        pyi_source_file *f = &cache->files[i];
        if (f->path != NULL && strcmp(f->path, path) == 0) {
            f->last_use = cache->clock;
            return f;
        }
        if (f->last_use < oldest->last_use)
            oldest = f;
    }
    file_free(oldest);
    if (file_load(oldest, path) != 0)
        return NULL;
    oldest->last_use = cache->clock;
    return oldest;
}

static int scope_is(const pyi_source_file *f, uint32_t index, const char *name)
{
    const pyi_source_line *line = &f->lines[index];
    return line->scope_kind != 0 && strlen(name) == line->scope_length &&
           memcmp(f->text + line->scope_start, name, line->scope_length) == 0;
}

/* Appends the enclosing def/class names of line index to out, outermost first. */
static size_t enclosing_scopes(const pyi_source_file *f, uint32_t index, char *out, size_t size)
{
    uint32_t scopes[MAX_SCOPES];
    int count = 0;
    int32_t threshold = f->lines[index].indent;
    for (uint32_t i = index; i-- > 0 && threshold > 0 && count < MAX_SCOPES;) {
        const pyi_source_line *line = &f->lines[i];
        if (line->indent < 0 || line->indent >= threshold)
            continue;
        threshold = line->indent;
        if (line->scope_kind != 0)
            scopes[count++] = i;
    }
    size_t used = 0;
    while (count-- > 0) {
        const pyi_source_line *line = &f->lines[scopes[count]];
        const char *suffix = line->scope_kind == SCOPE_DEF ? ".<locals>." : ".";
        int n = snprintf(out + used, size - used, "%.*s%s", (int)line->scope_length,
                         f->text + line->scope_start, suffix);
        if (n < 0 || (size_t)n >= size - used)
            return (size_t)-1;
        used += (size_t)n;
    }
    return used;
}

/* The line the code's qualified name hangs from, or -1 when the source disagrees. */
static int64_t anchor_line(const pyi_source_file *f, uint32_t index, const char *name)
{
    if (name[0] == '<') {
        /* lambda / comprehension: the statement holding the first line */
        while (index > 0 && f->lines[index].indent < 0)
            index--;
        return f->lines[index].indent >= 0 ? (int64_t)index : -1;
    }
    /* co_firstlineno of a decorated def is its first decorator's line. */
    for (uint32_t i = index; i < f->line_count && i < index + DECORATOR_LOOKAHEAD; i++) {
        if (f->lines[i].indent < 0)
            continue;
        if (scope_is(f, i, name))
            return i;
        if (!f->lines[i].decorator)
            return -1;
    }
    return -1;
}

/* ---- Public (to recorder/) -------------------------------------------- */

void pyi_source_cache_destroy(pyi_source_cache *cache)
{
    for (int i = 0; i < PYI_SOURCE_CACHE_FILES; i++)
        file_free(&cache->files[i]);
}

int pyi_qualname_from_source(pyi_source_cache *cache, const char *path, int32_t firstlineno,
                             const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s", name);
    if (strcmp(name, "<module>") == 0 || firstlineno < 1 || path[0] == '<')
        return 0;
    pyi_source_file *f = file_get(cache, path);
    if (f == NULL || (uint32_t)firstlineno > f->line_count)
        return 0;
    int64_t anchor = anchor_line(f, (uint32_t)firstlineno - 1, name);
    if (anchor < 0)
        return 0;
    char prefix[1024];
    size_t used = enclosing_scopes(f, (uint32_t)anchor, prefix, sizeof prefix);
    if (used == (size_t)-1)
        return 0;
    snprintf(out, size, "%.*s%s", (int)used, prefix, name);
    return 1;
}
