/* SPDX-License-Identifier: MIT */
/* The clocks trace times are taken from (the header names CLOCK_MONOTONIC). */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "pyi/trace.h"

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t pyi_monotonic_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

uint64_t pyi_wall_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}
