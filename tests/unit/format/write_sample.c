/* SPDX-License-Identifier: MIT */
/* Writes spec/vectors/c_writer.pyitrace with the C writer: a small trace of
 * two threads, deep and shared stacks, a native leaf, lost samples and a
 * marker, with fixed times so the output is the same on every run. */
#include <stdio.h>
#include <string.h>

#include "pyi/trace.h"

static int check(int rc, pyi_writer *w)
{
    if (rc)
        fprintf(stderr, "pyi-write-sample: %s\n", pyi_writer_error_detail(w));
    return rc;
}

static uint32_t str(pyi_writer *w, const char *s)
{
    uint32_t id = 0;
    check(pyi_writer_intern_string(w, s, strlen(s), &id), w);
    return id;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pyi-write-sample OUT.pyitrace\n");
        return 2;
    }
    const char *av[] = {"python3", "demo.py"};
    pyi_header h = {0};
    h.recorder = "pyi-write-sample 1";
    h.mode = "wall";
    h.clock = "CLOCK_MONOTONIC";
    h.interval_ns = 1000000;
    h.start_mono_ns = 7000000000ull;
    h.start_wall_ns = 1764000000000000000ull;
    h.pid = 100;
    h.argv = av;
    h.argc = 2;
    h.status_known = PYI_STATUS_ON_CPU | PYI_STATUS_HOLDS_GIL;
    pyi_writer *w;
    if (check(pyi_writer_open(&w, argv[1], &h, NULL), w))
        return 1;
    uint32_t file = str(w, "demo.py"), fn[6], loc[6], stack[7] = {0}, sleep_fn, sleep_loc;
    const char *names[] = {"<module>", "main", "Worker.run", "step", "<lambda>", "deep"};
    for (int i = 0; i < 6; i++) {
        check(pyi_writer_intern_function(w, str(w, names[i]), file, 1 + 10 * i, 0, &fn[i]), w);
        check(pyi_writer_intern_location(w, fn[i], 5 + 10 * i, &loc[i]), w);
        check(pyi_writer_intern_stack(w, stack[i], loc[i], &stack[i + 1]), w);
    }
    check(pyi_writer_intern_function(w, str(w, "time.sleep"), 0, 0, PYI_FUNCTION_NATIVE,
                                     &sleep_fn), w);
    check(pyi_writer_intern_location(w, sleep_fn, 0, &sleep_loc), w);
    uint32_t sleeping;
    check(pyi_writer_intern_stack(w, stack[2], sleep_loc, &sleeping), w);
    uint32_t threads[2];
    pyi_thread main_thread = {0, 1, 100, str(w, "MainThread"), PYI_THREAD_MAIN};
    pyi_thread worker = {0, 1, 101, str(w, "worker"), 0};
    check(pyi_writer_add_thread(w, &main_thread, &threads[0]), w);
    check(pyi_writer_add_thread(w, &worker, &threads[1]), w);
    uint64_t t = 7000000000ull;
    for (int i = 0; i < 40; i++) {
        t += 1000000 + (i % 3) * 10000;
        pyi_sample busy = {threads[0], stack[1 + i % 6], t, 1000000 + (i % 3) * 10000,
                           PYI_CPU_UNKNOWN, PYI_STATUS_ON_CPU | PYI_STATUS_HOLDS_GIL};
        pyi_sample idle = {threads[1], sleeping, t + 3000, 1000000, 2000, PYI_STATUS_NATIVE_LEAF};
        if (check(pyi_writer_add_sample(w, &busy), w) || check(pyi_writer_add_sample(w, &idle), w))
            return 1;
    }
    pyi_lost lost = {threads[0], PYI_LOST_MISSED, 2, 2000000};
    check(pyi_writer_add_lost(w, &lost), w);
    pyi_marker gc = {threads[0], str(w, "gc"), t - 500000, 250000, NULL, 0};
    check(pyi_writer_add_marker(w, &gc), w);
    if (check(pyi_writer_close(w), w))
        return 1;
    pyi_writer_free(w);
    return 0;
}
