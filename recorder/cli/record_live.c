/* --live: a top-like view of the busiest functions while recording (ANSI terminal, or plain lines). */
/* SPDX-License-Identifier: MIT */
/*
 * The recorder hands every sample to record_live_on_sample on its sampler
 * thread, with the frames named; the view keeps its own small table by
 * function (the trace's function ids are dense, so an array): the time each
 * function ran as the innermost frame ("own") and anywhere on the stack
 * ("total"), both as decayed "recent" weights and since the start. The
 * main thread redraws once a second. So the view needs neither the trace
 * file nor the analyzer. On a terminal it is a full-screen table in the
 * alternate screen (plain ANSI: cursor home, erase to end of line), redrawn
 * in place, resized on SIGWINCH, q to quit; otherwise it prints a short
 * block of plain lines each period.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "record_attach.h"

/* ---- Internal --------------------------------------------------------- */

#define REDRAW_MS 1000
#define HALF_LIFE_S 2.0   /* "recent" forgets half of its weight every 2 s */
#define PLAIN_ROWS 10     /* functions per block when stdout is not a terminal */
#define SCREEN_MAX (256u << 10)

typedef struct live_function {
    char *name;          /* owned; NULL = never seen */
    char *file;          /* owned, the base name only */
    uint32_t kind;
    double recent_own;   /* decayed ns */
    double recent_total;
    uint64_t own_ns;     /* since the start */
    uint64_t total_ns;
    uint64_t mark;       /* the last sample that counted it in total */
} live_function;

typedef struct live_row {
    uint32_t id;
    double own, total;   /* recent shares, 0..1 */
    uint64_t own_ns, total_ns;
} live_row;

struct record_live {
    pthread_mutex_t lock;      /* the table: the sampler writes, the main thread reads */
    live_function *functions;  /* indexed by function id */
    uint32_t capacity;
    double recent_weight;      /* decayed ns of all samples */
    double recent_gil, recent_on_cpu;
    uint64_t samples, mark;
    /* Main thread only. */
    int tty;                   /* stdout is a terminal: full-screen view */
    int key_fd;                /* stdin when it is a terminal, else -1 */
    struct termios saved;
    int raw;
    int entered;               /* the alternate screen is on */
    int rows, cols;
    int sort_total;            /* 't': by total; 'o': by own (default) */
    uint64_t start_ns, next_draw_ns, last_draw_ns, last_decay_ns, last_samples;
    char *screen;
    size_t used;
    live_row *rows_buffer;
    uint32_t rows_capacity;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int table_reserve(record_live *l, uint32_t id)
{
    if (id < l->capacity)
        return 0;
    uint32_t bigger = l->capacity ? l->capacity : 256;
    while (bigger <= id)
        bigger *= 2;
    live_function *p = realloc(l->functions, bigger * sizeof *p);
    if (p == NULL)
        return -1;
    memset(p + l->capacity, 0, (bigger - l->capacity) * sizeof *p);
    l->functions = p;
    l->capacity = bigger;
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Appends to the screen buffer (silently cut when full). */
static void put(record_live *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(record_live *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->screen + l->used, SCREEN_MAX - l->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->used += (size_t)n < SCREEN_MAX - l->used ? (size_t)n : SCREEN_MAX - l->used - 1;
}

/* Appends text cut to width columns (UTF-8 aware: whole characters only). */
static void put_cut(record_live *l, const char *text, int width)
{
    int columns = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p && columns < width && l->used + 5 < SCREEN_MAX) {
        size_t n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
        for (size_t i = 0; i < n && p[i]; i++)
            l->screen[l->used++] = (char)p[i];
        p += n;
        columns++;
    }
    l->screen[l->used] = '\0';
}

static void write_all(const char *text, size_t size)
{
    while (size > 0) {
        ssize_t n = write(STDOUT_FILENO, text, size);
        if (n <= 0)
            return;
        text += n;
        size -= (size_t)n;
    }
}

static void terminal_size(record_live *l)
{
    struct winsize ws;
    l->rows = 24;
    l->cols = 80;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        l->rows = ws.ws_row;
        l->cols = ws.ws_col;
    }
}

/* Forgets part of "recent" as time passes (main thread, lock held). */
static void decay(record_live *l, uint64_t now)
{
    double factor = pow(0.5, (double)(now - l->last_decay_ns) / 1e9 / HALF_LIFE_S);
    l->last_decay_ns = now;
    l->recent_weight *= factor;
    l->recent_gil *= factor;
    l->recent_on_cpu *= factor;
    for (uint32_t i = 0; i < l->capacity; i++) {
        l->functions[i].recent_own *= factor;
        l->functions[i].recent_total *= factor;
    }
}

static int row_compare_own(const void *a, const void *b)
{
    const live_row *x = a, *y = b;
    return x->own < y->own ? 1 : x->own > y->own ? -1 : (x->total < y->total) - (x->total > y->total);
}

static int row_compare_total(const void *a, const void *b)
{
    const live_row *x = a, *y = b;
    return x->total < y->total ? 1 : x->total > y->total ? -1 : (x->own < y->own) - (x->own > y->own);
}

/* Copies the table into sorted rows (lock held). Returns the row count. */
static uint32_t rows_collect(record_live *l)
{
    if (l->rows_capacity < l->capacity) {
        live_row *p = realloc(l->rows_buffer, l->capacity * sizeof *p);
        if (p == NULL)
            return 0;
        l->rows_buffer = p;
        l->rows_capacity = l->capacity;
    }
    uint32_t n = 0;
    double all = l->recent_weight > 0 ? l->recent_weight : 1;
    for (uint32_t i = 0; i < l->capacity; i++) {
        const live_function *f = &l->functions[i];
        if (f->name != NULL && f->total_ns > 0)
            l->rows_buffer[n++] = (live_row){i, f->recent_own / all, f->recent_total / all,
                                             f->own_ns, f->total_ns};
    }
    qsort(l->rows_buffer, n, sizeof *l->rows_buffer,
          l->sort_total ? row_compare_total : row_compare_own);
    return n;
}

static void row_label(const record_live *l, const live_row *row, char *out, size_t size)
{
    const live_function *f = &l->functions[row->id];
    if (f->file[0])
        snprintf(out, size, "%s  (%s)", f->name, f->file);
    else
        snprintf(out, size, "%s  [%s]", f->name, f->kind == PYI_FUNCTION_NATIVE ? "native"
                                                                              : "pyinst");
}

static void header_put(record_live *l, const pyi_recorder_stats *s, int64_t pid, uint64_t now,
                       const char *end)
{
    double seconds = (double)(now - l->start_ns) / 1e9;
    double since = (double)(now - l->last_draw_ns) / 1e9;
    double rate = since > 0 ? (double)(s->samples - l->last_samples) / since : 0;
    double all = l->recent_weight > 0 ? l->recent_weight : 1;
    char line[512];
    snprintf(line, sizeof line,
             "pyinst live  pid %lld  %.1f s  %llu samples (%.0f/s)  %llu process%s  %llu "
             "thread%s  lost %llu",
             (long long)pid, seconds, (unsigned long long)s->samples, rate,
             (unsigned long long)s->processes_alive, s->processes_alive == 1 ? "" : "es",
             (unsigned long long)s->threads, s->threads == 1 ? "" : "s",
             (unsigned long long)(s->invalid + s->missed + s->dropped));
    put_cut(l, line, l->tty ? l->cols : 1000);
    put(l, "%s", end);
    snprintf(line, sizeof line, "recent (half-life %.0f s): GIL held %.0f%%  on CPU %.0f%%%s",
             HALF_LIFE_S, 100 * l->recent_gil / all, 100 * l->recent_on_cpu / all,
             l->tty ? "     q quit  o/t sort by own/total" : "");
    put_cut(l, line, l->tty ? l->cols : 1000);
    put(l, "%s", end);
}

static void body_put(record_live *l, const live_row *rows, uint32_t n, uint32_t max,
                     const char *end)
{
    char line[1200], label[1024];
    int width = l->tty ? l->cols : 1000;
    snprintf(line, sizeof line, "%6s %7s %9s %9s  %s", "%own", "%total", "own s", "total s",
             "function");
    put_cut(l, line, width);
    put(l, "%s", end);
    for (uint32_t i = 0; i < n && i < max; i++) {
        row_label(l, &rows[i], label, sizeof label);
        snprintf(line, sizeof line, "%5.1f%% %6.1f%% %9.2f %9.2f  %s", 100 * rows[i].own,
                 100 * rows[i].total, (double)rows[i].own_ns / 1e9,
                 (double)rows[i].total_ns / 1e9, label);
        put_cut(l, line, width);
        put(l, "%s", end);
    }
}

static void draw(record_live *l, const pyi_recorder_stats *stats, int64_t pid, uint64_t now)
{
    pthread_mutex_lock(&l->lock);
    decay(l, now);
    uint32_t n = rows_collect(l);
    l->used = 0;
    if (l->tty) {
        put(l, "\x1b[H");
        header_put(l, stats, pid, now, "\x1b[K\r\n");
        put(l, "\x1b[K\r\n");
        body_put(l, l->rows_buffer, n, l->rows > 5 ? (uint32_t)(l->rows - 5) : 0,
                 "\x1b[K\r\n");
        put(l, "\x1b[J");
    } else {
        header_put(l, stats, pid, now, "\n");
        body_put(l, l->rows_buffer, n, PLAIN_ROWS, "\n");
        put(l, "\n");
    }
    pthread_mutex_unlock(&l->lock);
    write_all(l->screen, l->used);
    l->last_samples = stats->samples;
    l->last_draw_ns = now;
}

static void terminal_enter(record_live *l)
{
    terminal_size(l);
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &l->saved) == 0) {
        struct termios raw = l->saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO); /* ISIG stays: Ctrl-C still stops */
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        l->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
        l->key_fd = STDIN_FILENO;
    }
    static const char enter[] = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
    write_all(enter, sizeof enter - 1);
}

/* ---- Public (to the command) -------------------------------------------- */

record_live *record_live_new(void)
{
    record_live *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->screen = malloc(SCREEN_MAX);
    if (l->screen == NULL) {
        free(l);
        return NULL;
    }
    pthread_mutex_init(&l->lock, NULL);
    l->key_fd = -1;
    l->tty = isatty(STDOUT_FILENO);
    l->start_ns = l->last_decay_ns = l->last_draw_ns = now_ns();
    l->next_draw_ns = l->start_ns + REDRAW_MS * 1000000ull;
    return l;
}

void record_live_begin(record_live *l)
{
    if (l == NULL)
        return;
    l->start_ns = l->last_decay_ns = l->last_draw_ns = now_ns();
    l->next_draw_ns = l->start_ns + REDRAW_MS * 1000000ull;
    if (l->tty) {
        terminal_enter(l);
        l->entered = 1;
    }
}

void record_live_free(record_live *l)
{
    if (l == NULL)
        return;
    if (l->entered) {
        static const char leave[] = "\x1b[?25h\x1b[?1049l";
        write_all(leave, sizeof leave - 1);
    }
    if (l->raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &l->saved);
    for (uint32_t i = 0; i < l->capacity; i++) {
        free(l->functions[i].name);
        free(l->functions[i].file);
    }
    free(l->functions);
    free(l->rows_buffer);
    free(l->screen);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

void record_live_on_sample(void *ctx, const pyi_recorder_sample_info *s)
{
    record_live *l = ctx;
    double weight = (double)s->weight_ns;
    pthread_mutex_lock(&l->lock);
    uint64_t mark = ++l->mark;
    l->samples++;
    l->recent_weight += weight;
    l->recent_gil += (s->status & PYI_STATUS_HOLDS_GIL) ? weight : 0;
    l->recent_on_cpu += (s->status & PYI_STATUS_ON_CPU) ? weight : 0;
    for (uint32_t i = 0; i < s->depth; i++) {
        const pyi_recorder_frame *fr = &s->frames[i];
        if (table_reserve(l, fr->function_id) != 0)
            break;
        live_function *f = &l->functions[fr->function_id];
        if (f->name == NULL) {
            f->name = strdup(fr->name);
            f->file = strdup(base_name(fr->file));
            f->kind = fr->kind;
            if (f->name == NULL || f->file == NULL) {
                free(f->name);
                free(f->file);
                f->name = f->file = NULL;
                continue;
            }
        }
        if (f->mark != mark) { /* recursion counts once in total */
            f->mark = mark;
            f->recent_total += weight;
            f->total_ns += s->weight_ns;
        }
        if (i + 1 == s->depth) {
            f->recent_own += weight;
            f->own_ns += s->weight_ns;
        }
    }
    pthread_mutex_unlock(&l->lock);
}

int record_live_key_fd(const record_live *l)
{
    return l ? l->key_fd : -1;
}

int record_live_keys(record_live *l)
{
    char keys[32];
    if (l == NULL || l->key_fd < 0)
        return 0;
    ssize_t n = read(l->key_fd, keys, sizeof keys);
    for (ssize_t i = 0; i < n; i++) {
        if (keys[i] == 'q' || keys[i] == 'Q')
            return 1;
        if (keys[i] == 't' || keys[i] == 'o') {
            l->sort_total = keys[i] == 't';
            l->next_draw_ns = 0; /* redraw now */
        }
    }
    return 0;
}

int record_live_tick(record_live *l, const pyi_recorder_stats *stats, int64_t pid)
{
    uint64_t now = now_ns();
    if (now >= l->next_draw_ns) {
        draw(l, stats, pid, now);
        l->next_draw_ns = now + REDRAW_MS * 1000000ull;
    }
    return (int)((l->next_draw_ns - now) / 1000000u) + 1;
}

void record_live_resized(record_live *l)
{
    if (l == NULL || !l->tty)
        return;
    terminal_size(l);
    static const char clear[] = "\x1b[2J";
    write_all(clear, sizeof clear - 1);
    l->next_draw_ns = 0;
}
