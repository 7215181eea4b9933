/* SPDX-License-Identifier: MIT */
/*
 * The trace writer's back half: compresses each closed chunk into one zstd
 * frame and writes it, either inline or on a writer thread fed through a
 * bounded queue, so that the producer (the recorder's sampler) only ever
 * encodes bytes. Also keeps what the index needs and writes raw frames.
 */
#define _POSIX_C_SOURCE 200809L
#include "writer_internal.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

/* ---- Internal ---- */

/* Records the sink's first failure; called with the lock held (or unthreaded). */
static void sink_fail(pyi_sink *s, int error, const char *what, int errnum)
{
    if (atomic_load(&s->error))
        return;
    if (errnum)
        snprintf(s->detail, sizeof(s->detail), "%s: %s", what, strerror(errnum));
    else
        snprintf(s->detail, sizeof(s->detail), "%s", what);
    atomic_store(&s->error, error);
}

static int write_all(int fd, const uint8_t *data, size_t size)
{
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        data += n;
        size -= (size_t)n;
    }
    return 0;
}

static pyi_chunk *chunk_new(const pyi_allocator *a)
{
    pyi_chunk *c = pyi__malloc(a, sizeof(*c));
    if (!c)
        return NULL;
    memset(c, 0, sizeof(*c));
    pyi__buffer_init(&c->records, a);
    return c;
}

void pyi__chunk_free(const pyi_allocator *a, pyi_chunk *c)
{
    if (!c)
        return;
    pyi__buffer_destroy(&c->records);
    pyi__free(a, c);
}

/*
 * Compresses and writes one chunk and notes its index entry. Runs on the
 * writer thread (threaded) or the producer; touches only sink state that
 * the other side reads under the lock.
 */
static void chunk_write(pyi_sink *s, const pyi_chunk *c)
{
    if (atomic_load(&s->error))
        return; /* after a failure chunks are dropped, so the producer never blocks */
    size_t bound = ZSTD_compressBound(c->records.size);
    s->frame.size = 0;
    if (pyi__buffer_reserve(&s->frame, bound)) {
        sink_fail(s, PYI_E_NOMEM, "out of memory compressing a chunk", 0);
        return;
    }
    size_t n = ZSTD_compress2(s->cctx, s->frame.data, bound, c->records.data, c->records.size);
    if (ZSTD_isError(n)) {
        char what[128];
        snprintf(what, sizeof(what), "zstd: %s", ZSTD_getErrorName(n));
        sink_fail(s, PYI_E_IO, what, 0);
        return;
    }
    int err = write_all(s->fd, s->frame.data, n);
    if (!err && s->sync && fdatasync(s->fd) != 0 && errno != EINVAL)
        err = errno;
    if (err) {
        sink_fail(s, PYI_E_IO, "cannot write", err);
        return;
    }
    pthread_mutex_lock(&s->lock); /* get_stats reads these from the producer */
    pyi_index_entry e = {s->file_offset, n, c->records.size,
                         c->first_time_us, c->last_time_us, c->samples};
    void *index = s->index;
    int rc = pyi__grow(s->allocator, &index, &s->index_capacity, s->index_count + 1,
                       sizeof(*s->index));
    s->index = index;
    if (rc)
        sink_fail(s, PYI_E_NOMEM, "out of memory for the index", 0);
    else
        s->index[s->index_count++] = e;
    s->file_offset += n;
    s->chunks_written++;
    pthread_mutex_unlock(&s->lock);
}

static void *writer_thread_main(void *arg)
{
    pyi_sink *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->stopping && s->queue_count == 0)
            pthread_cond_wait(&s->work_ready, &s->lock);
        if (s->queue_count == 0)
            break; /* stopping, and everything queued is written */
        pyi_chunk *c = s->queue[s->queue_head];
        s->queue_head = (s->queue_head + 1) % s->queue_capacity;
        s->queue_count--;
        s->busy = 1;
        pthread_mutex_unlock(&s->lock);
        chunk_write(s, c);
        pthread_mutex_lock(&s->lock);
        s->busy = 0;
        s->spare[s->spare_count++] = c;
        pthread_cond_broadcast(&s->work_done);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- Sink API (writer_internal.h) ---- */

int pyi__sink_init(pyi_writer *w, int fd, int close_fd)
{
    pyi_sink *s = &w->sink;
    s->fd = fd;
    s->close_fd = close_fd;
    s->threaded = w->options.threaded;
    s->sync = w->options.sync;
    s->allocator = w->allocator;
    pyi__buffer_init(&s->frame, w->allocator);
    s->cctx = ZSTD_createCCtx();
    if (!s->cctx)
        return pyi__writer_fail(w, PYI_E_NOMEM, "cannot create a zstd context");
    if (ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_compressionLevel,
                                            w->options.compression_level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_checksumFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_contentSizeFlag, 1)))
        return pyi__writer_fail(w, PYI_E_UNSUPPORTED, "zstd rejected the parameters");
    if (!s->threaded)
        return PYI_OK;
    s->queue_capacity = w->options.queue_chunks;
    s->queue = pyi__malloc(w->allocator, s->queue_capacity * sizeof(*s->queue));
    /* every chunk is either queued, being written, spare or being filled */
    s->spare = pyi__malloc(w->allocator, (s->queue_capacity + 2) * sizeof(*s->spare));
    if (!s->queue || !s->spare)
        return pyi__writer_fail(w, PYI_E_NOMEM, "out of memory");
    if (pthread_create(&s->thread, NULL, writer_thread_main, s) != 0)
        return pyi__writer_fail(w, PYI_E_IO, "cannot start the writer thread");
    s->thread_started = 1;
    return PYI_OK;
}

int pyi__sink_write_raw(pyi_writer *w, const void *data, size_t size)
{
    pyi_sink *s = &w->sink;
    int err = write_all(s->fd, data, size);
    if (!err && s->sync && fdatasync(s->fd) != 0 && errno != EINVAL)
        err = errno;
    if (err)
        return pyi__writer_fail(w, PYI_E_IO, "cannot write: %s", strerror(err));
    pthread_mutex_lock(&s->lock);
    s->file_offset += size;
    pthread_mutex_unlock(&s->lock);
    return PYI_OK;
}

int pyi__sink_submit(pyi_writer *w, pyi_chunk *filled, pyi_chunk **empty)
{
    pyi_sink *s = &w->sink;
    if (!s->threaded) {
        chunk_write(s, filled);
        *empty = filled;
        return atomic_load(&s->error);
    }
    pyi_chunk *fresh = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->queue_count == s->queue_capacity)
        w->stats.producer_waits++;
    while (s->queue_count == s->queue_capacity)
        pthread_cond_wait(&s->work_done, &s->lock);
    s->queue[(s->queue_head + s->queue_count) % s->queue_capacity] = filled;
    s->queue_count++;
    pthread_cond_signal(&s->work_ready);
    if (s->spare_count > 0)
        fresh = s->spare[--s->spare_count];
    pthread_mutex_unlock(&s->lock);
    if (!fresh) {
        fresh = chunk_new(w->allocator);
        if (!fresh)
            return PYI_E_NOMEM;
        s->chunks_allocated++;
    }
    *empty = fresh;
    return PYI_OK;
}

int pyi__sink_drain(pyi_writer *w)
{
    pyi_sink *s = &w->sink;
    if (s->threaded && s->thread_started) {
        pthread_mutex_lock(&s->lock);
        while (s->queue_count > 0 || s->busy)
            pthread_cond_wait(&s->work_done, &s->lock);
        pthread_mutex_unlock(&s->lock);
    }
    return atomic_load(&s->error);
}

int pyi__sink_finish(pyi_writer *w, int close_file)
{
    pyi_sink *s = &w->sink;
    if (s->thread_started) {
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        pthread_cond_signal(&s->work_ready);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
        s->thread_started = 0;
    }
    if (close_file && s->fd >= 0) {
        if (s->close_fd && close(s->fd) != 0 && !atomic_load(&s->error))
            sink_fail(s, PYI_E_IO, "cannot close", errno);
        s->fd = -1;
    }
    return atomic_load(&s->error);
}

void pyi__sink_destroy(pyi_writer *w, int abandon)
{
    pyi_sink *s = &w->sink;
    if (abandon && s->fd >= 0 && s->close_fd)
        close(s->fd); /* the child's copy only; the parent keeps writing its own */
    for (size_t i = 0; i < s->queue_count; i++)
        pyi__chunk_free(s->allocator, s->queue[(s->queue_head + i) % s->queue_capacity]);
    for (size_t i = 0; i < s->spare_count; i++)
        pyi__chunk_free(s->allocator, s->spare[i]);
    pyi__free(s->allocator, s->queue);
    pyi__free(s->allocator, s->spare);
    pyi__free(s->allocator, s->index);
    pyi__buffer_destroy(&s->frame);
    ZSTD_freeCCtx(s->cctx);
    if (!abandon) {
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->work_ready);
        pthread_cond_destroy(&s->work_done);
    }
    memset(s, 0, sizeof(*s));
}
