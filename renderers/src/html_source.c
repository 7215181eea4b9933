/* SPDX-License-Identifier: MIT */
/*
 * The html renderer's source lines: at render time, for each Python file the
 * profile names, read the lines its frames reference (a function's first line
 * and every executing or calling line) so the page can show them.
 *
 * The trace is untrusted and names the files, so this reads only what looks
 * like Python source: a regular file whose name ends in .py or .pyw, at most
 * SOURCE_MAX_FILE_BYTES long, and embeds only referenced lines, each cut to
 * SOURCE_MAX_LINE_BYTES, SOURCE_MAX_LINES in all. A file that cannot be read
 * is skipped without a message: sources are a convenience.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "html_internal.h"

#define SOURCE_MAX_FILES 4096
#define SOURCE_MAX_LINES 20000
#define SOURCE_MAX_LINE_BYTES 300
#define SOURCE_MAX_FILE_BYTES (16u << 20)

typedef struct source_want {
    const char *path; /* borrowed from the model */
    uint32_t line;
} source_want;

typedef struct source_line {
    uint32_t number;
    char *text; /* owned, cut to SOURCE_MAX_LINE_BYTES */
} source_line;

typedef struct source_file {
    const char *path;    /* borrowed from the model: as recorded */
    source_line *lines;  /* owned, ascending */
    size_t line_count;
} source_file;

struct pyi_html_sources {
    source_file *files;     /* owned, sorted by path; only files that were read */
    size_t file_count;
    int64_t *function_file; /* by function id: index into files, or -1 */
    size_t function_count;
};

static int compare_want(const void *a, const void *b)
{
    const source_want *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int is_python_path(const char *path)
{
    size_t n = strlen(path);
    return (n > 3 && !strcmp(path + n - 3, ".py")) || (n > 4 && !strcmp(path + n - 4, ".pyw"));
}

/* Every (path, line) the profile references, sorted, duplicates kept. */
static int collect_wants(const pyi_model *model, source_want **out, size_t *count)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    size_t capacity = info->location_count + info->function_count + 1;
    source_want *wants = malloc(capacity * sizeof(*wants));
    if (!wants)
        return PYI_E_NOMEM;
    size_t n = 0;
    for (uint32_t id = 1; id <= info->function_count; id++) {
        const pyi_model_function *f = pyi_model_function_get(model, id);
        if (f->first_line && is_python_path(f->path))
            wants[n++] = (source_want){f->path, f->first_line};
    }
    for (uint32_t id = 1; id <= info->location_count; id++) {
        const pyi_model_location *l = pyi_model_location_get(model, id);
        const pyi_model_function *f = pyi_model_function_get(model, l->function);
        if (l->line && f && is_python_path(f->path))
            wants[n++] = (source_want){f->path, l->line};
    }
    qsort(wants, n, sizeof(*wants), compare_want);
    *out = wants;
    *count = n;
    return 0;
}

/* Opens path, or the path under one of the recorded working directories when it
 * is relative; NULL when none is a readable, small enough regular file. */
static FILE *open_source(const pyi_model *model, const char *path)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    char joined[4096];
    for (uint32_t source = 0; source <= info->source_count; source++) {
        const char *candidate = path;
        if (source) {
            const pyi_model_source *s = pyi_model_source_get(model, source);
            if (path[0] == '/' || !*s->cwd)
                break;
            int n = snprintf(joined, sizeof(joined), "%s/%s", s->cwd, path);
            if (n < 0 || (size_t)n >= sizeof(joined))
                continue;
            candidate = joined;
        }
        struct stat st;
        if (stat(candidate, &st) || !S_ISREG(st.st_mode) ||
            (uint64_t)st.st_size > SOURCE_MAX_FILE_BYTES)
            continue;
        FILE *f = fopen(candidate, "rb");
        if (f)
            return f;
    }
    return NULL;
}

static char *copy_line(const char *text, size_t length)
{
    while (length && (text[length - 1] == '\n' || text[length - 1] == '\r'))
        length--;
    if (length > SOURCE_MAX_LINE_BYTES)
        length = SOURCE_MAX_LINE_BYTES;
    char *copy = malloc(length + 1);
    if (copy) {
        memcpy(copy, text, length);
        copy[length] = '\0';
    }
    return copy;
}

/* Reads the wanted lines (sorted, with duplicates) of one file into *file.
 * Returns 0 (also when the file cannot be read: then no lines) or PYI_E_NOMEM. */
static int read_file_lines(const pyi_model *model, const source_want *wants, size_t count,
                           size_t budget, source_file *file)
{
    FILE *f = open_source(model, wants[0].path);
    if (!f)
        return 0;
    file->lines = calloc(count, sizeof(*file->lines));
    if (!file->lines) {
        fclose(f);
        return PYI_E_NOMEM;
    }
    char *text = NULL;
    size_t capacity = 0, next = 0;
    uint32_t number = 0;
    ssize_t length;
    int rc = 0;
    while (next < count && file->line_count < budget && (length = getline(&text, &capacity, f)) >= 0) {
        number++;
        if (number != wants[next].line)
            continue;
        source_line *line = &file->lines[file->line_count];
        line->number = number;
        line->text = copy_line(text, (size_t)length);
        if (!line->text) {
            rc = PYI_E_NOMEM;
            break;
        }
        file->line_count++;
        while (next < count && wants[next].line <= number)
            next++;
    }
    free(text);
    fclose(f);
    return rc;
}

static void free_file(source_file *file)
{
    for (size_t i = 0; i < file->line_count; i++)
        free(file->lines[i].text);
    free(file->lines);
}

/* Reads every wanted file in order; files without any line read are dropped. */
static int read_files(const pyi_model *model, const source_want *wants, size_t count,
                      pyi_html_sources *sources)
{
    size_t total_lines = 0;
    for (size_t begin = 0, end; begin < count; begin = end) {
        for (end = begin + 1; end < count && !strcmp(wants[end].path, wants[begin].path); end++)
            ;
        if (sources->file_count == SOURCE_MAX_FILES || total_lines >= SOURCE_MAX_LINES)
            break;
        source_file *file = &sources->files[sources->file_count];
        memset(file, 0, sizeof(*file));
        file->path = wants[begin].path;
        int rc = read_file_lines(model, wants + begin, end - begin,
                                 SOURCE_MAX_LINES - total_lines, file);
        if (rc) {
            free_file(file);
            return rc;
        }
        if (!file->line_count) {
            free_file(file);
            continue;
        }
        total_lines += file->line_count;
        sources->file_count++;
    }
    return 0;
}

static int compare_file_path(const void *key, const void *element)
{
    return strcmp(key, ((const source_file *)element)->path);
}

static int map_functions(const pyi_model *model, pyi_html_sources *sources)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    sources->function_count = info->function_count;
    sources->function_file = malloc((info->function_count + 1) * sizeof(int64_t));
    if (!sources->function_file)
        return PYI_E_NOMEM;
    sources->function_file[0] = -1;
    for (uint32_t id = 1; id <= info->function_count; id++) {
        const pyi_model_function *f = pyi_model_function_get(model, id);
        const source_file *file = sources->file_count
            ? bsearch(f->path, sources->files, sources->file_count, sizeof(source_file),
                      compare_file_path)
            : NULL;
        sources->function_file[id] = file ? (int64_t)(file - sources->files) : -1;
    }
    return 0;
}

int pyi__html_sources_read(const pyi_model *model, pyi_html_sources **out)
{
    *out = NULL;
    source_want *wants = NULL;
    size_t count = 0;
    int rc = collect_wants(model, &wants, &count);
    if (rc)
        return rc;
    pyi_html_sources *sources = calloc(1, sizeof(*sources));
    size_t file_slots = count < SOURCE_MAX_FILES ? count : SOURCE_MAX_FILES;
    if (!sources || !(sources->files = calloc(file_slots ? file_slots : 1, sizeof(source_file)))) {
        free(sources);
        free(wants);
        return PYI_E_NOMEM;
    }
    rc = read_files(model, wants, count, sources);
    free(wants);
    if (!rc)
        rc = map_functions(model, sources);
    if (rc) {
        pyi__html_sources_free(sources);
        return rc;
    }
    *out = sources;
    return 0;
}

int64_t pyi__html_sources_index(const pyi_html_sources *sources, uint32_t function)
{
    if (!sources || function > sources->function_count)
        return -1;
    return sources->function_file[function];
}

void pyi__html_sources_write(pyi_html_out *out, const pyi_html_sources *sources)
{
    pyi__html_key(out, "source_files", 0);
    pyi__html_put(out, "[");
    for (size_t i = 0; sources && i < sources->file_count && !out->rc; i++) {
        const source_file *file = &sources->files[i];
        pyi__html_put(out, i ? ",{\"path\":" : "{\"path\":");
        pyi__html_string(out, file->path);
        pyi__html_put(out, ",\"lines\":[");
        for (size_t l = 0; l < file->line_count; l++) {
            pyi__html_put(out, l ? ",[" : "[");
            pyi__html_u64(out, file->lines[l].number);
            pyi__html_put(out, ",");
            pyi__html_string(out, file->lines[l].text);
            pyi__html_put(out, "]");
        }
        pyi__html_put(out, "]}");
    }
    pyi__html_put(out, "]");
}

void pyi__html_sources_free(pyi_html_sources *sources)
{
    if (!sources)
        return;
    for (size_t i = 0; i < sources->file_count; i++)
        free_file(&sources->files[i]);
    free(sources->files);
    free(sources->function_file);
    free(sources);
}
