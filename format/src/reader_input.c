/* SPDX-License-Identifier: MIT */
/* The reader's input: a sliding window over a file or pipe, or plain memory. */
#define _POSIX_C_SOURCE 200809L
#include "reader_internal.h"

#include <errno.h>
#include <unistd.h>

#define READ_STEP (1u << 20)

void pyi__input_init_fd(pyi_input *in, int fd, const pyi_allocator *a)
{
    memset(in, 0, sizeof(*in));
    in->fd = fd;
    in->allocator = a;
}

void pyi__input_init_memory(pyi_input *in, const void *data, size_t size)
{
    memset(in, 0, sizeof(*in));
    in->fd = -1;
    in->memory = data;
    in->buffer = (uint8_t *)data; /* never written through */
    in->end = size;
    in->capacity = size;
    in->eof = 1;
}

int pyi__input_ensure(pyi_input *in, size_t n)
{
    while (pyi__input_available(in) < n && !in->eof) {
        if (in->start > 0 && in->start >= in->capacity / 2) {
            /* slide the window: the consumed half is never needed again */
            memmove(in->buffer, in->buffer + in->start, in->end - in->start);
            in->end -= in->start;
            in->start = 0;
        }
        size_t want = in->start + n > in->end + READ_STEP ? in->start + n : in->end + READ_STEP;
        if (want > in->capacity) {
            void *buffer = in->buffer;
            if (pyi__grow(in->allocator, &buffer, &in->capacity, want, 1))
                return PYI_E_NOMEM;
            in->buffer = buffer;
        }
        ssize_t got = read(in->fd, in->buffer + in->end, in->capacity - in->end);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return PYI_E_IO;
        }
        if (got == 0)
            in->eof = 1;
        in->end += (size_t)got;
    }
    return PYI_OK;
}

void pyi__input_consume(pyi_input *in, size_t n)
{
    in->start += n;
    in->offset += n;
}

void pyi__input_destroy(pyi_input *in)
{
    if (!in->memory)
        pyi__free(in->allocator, in->buffer);
    in->buffer = NULL;
}
