/* SPDX-License-Identifier: MIT */
/*
 * Benchmark of the trace format: writer and reader throughput and bytes per
 * sample on synthetic but realistic streams (30-deep stacks that change
 * slowly, busy and idle threads, 1 ms sampling with jitter). Prints a table.
 * usage: bench_format [samples]   (default 4 000 000)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "pyi/trace.h"

#define DEPTH 30
#define THREADS 4 /* two busy, two idle */

typedef struct scenario {
    const char *name;
    int leaf_period;  /* samples between changes of the innermost frames */
    int deep_period;  /* samples between changes deeper in the stack */
    int idle_threads; /* of THREADS, how many sit in one stack */
    int jitter_us;    /* +- random jitter on the 1 ms interval */
} scenario;

static const scenario SCENARIOS[] = {
    {"steady: 2 busy + 2 idle threads", 50, 2000, 2, 20},
    {"changing: leaf every 3 samples", 3, 200, 2, 20},
    {"all busy, 4 threads", 10, 500, 0, 20},
    {"steady, noisy timer (+-200 us)", 50, 2000, 2, 200},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void die(pyi_writer *w, const char *what)
{
    fprintf(stderr, "bench_format: %s: %s\n", what, pyi_writer_error_detail(w));
    exit(1);
}

/* Interns a 30-deep stack whose frames depend on (variant, depth). */
static uint32_t make_stack(pyi_writer *w, const uint32_t *locations, int locs, int variant_deep,
                           int variant_leaf)
{
    uint32_t parent = 0;
    for (int d = 0; d < DEPTH; d++) {
        int variant = d < DEPTH - 5 ? variant_deep : variant_leaf;
        uint32_t loc = locations[(d * 7 + variant * 13) % locs];
        if (pyi_writer_intern_stack(w, parent, loc, &parent))
            die(w, "intern stack");
    }
    return parent;
}

typedef struct result {
    double write_s, write_cpu_s, read_s, bytes_per_sample;
    uint64_t samples, file_bytes;
} result;

static void define_locations(pyi_writer *w, uint32_t *locations, int count)
{
    char name[64];
    uint32_t file;
    if (pyi_writer_intern_string(w, "/srv/app/handlers.py", 20, &file))
        die(w, "intern");
    for (int i = 0; i < count; i++) {
        int n = snprintf(name, sizeof(name), "module.Class.function_%d", i);
        uint32_t sid, fid;
        if (pyi_writer_intern_string(w, name, (size_t)n, &sid) ||
            pyi_writer_intern_function(w, sid, file, 10 * i, 0, &fid) ||
            pyi_writer_intern_location(w, fid, 10 * i + 3, &locations[i]))
            die(w, "intern");
    }
}

static result run_writer(const scenario *sc, const char *path, uint64_t samples)
{
    pyi_header h = {0};
    h.recorder = "bench_format";
    h.mode = "wall";
    h.clock = "CLOCK_MONOTONIC";
    h.interval_ns = 1000000;
    h.start_mono_ns = 1000000000ull;
    pyi_writer_options o;
    pyi_writer_options_init(&o); /* unthreaded: compression counts on this core */
    pyi_writer *w;
    if (pyi_writer_open(&w, path, &h, &o))
        die(w, "open");
    uint32_t locations[200], threads[THREADS];
    define_locations(w, locations, 200);
    for (int t = 0; t < THREADS; t++) {
        pyi_thread th = {0, 1, 1000 + t, 0, t == 0};
        if (pyi_writer_add_thread(w, &th, &threads[t]))
            die(w, "thread");
    }
    /* stacks are interned ahead, as the recorder's cache would hand them over */
    enum { VARIANTS_DEEP = 8, VARIANTS_LEAF = 16 };
    static uint32_t stacks[VARIANTS_DEEP][VARIANTS_LEAF];
    for (int d = 0; d < VARIANTS_DEEP; d++)
        for (int l = 0; l < VARIANTS_LEAF; l++)
            stacks[d][l] = make_stack(w, locations, 200, d, l);
    uint32_t idle_stack = make_stack(w, locations, 200, 99, 99);
    uint64_t time_ns = 1000000000ull, prev[THREADS] = {0};
    int deep = 0, leaf = 0;
    double wall = now_s(), cpu = cpu_s();
    for (uint64_t i = 0; i < samples; i += THREADS) {
        time_ns += 1000000 + (uint64_t)((int64_t)(rnd() % (2 * sc->jitter_us + 1)) -
                                        sc->jitter_us) * 1000;
        if ((i / THREADS) % sc->leaf_period == 0)
            leaf = (int)(rnd() % VARIANTS_LEAF);
        if ((i / THREADS) % sc->deep_period == 0)
            deep = (int)(rnd() % VARIANTS_DEEP);
        for (int t = 0; t < THREADS; t++) {
            int idle = t >= THREADS - sc->idle_threads;
            uint64_t at = time_ns + (uint64_t)t * 3000;
            pyi_sample s = {threads[t], idle ? idle_stack : stacks[deep][(leaf + t) % VARIANTS_LEAF],
                            at, prev[t] ? at - prev[t] : 1000000, PYI_CPU_UNKNOWN,
                            idle ? 0u : PYI_STATUS_ON_CPU | (t == 0 ? PYI_STATUS_HOLDS_GIL : 0u)};
            prev[t] = at;
            if (pyi_writer_add_sample(w, &s))
                die(w, "sample");
        }
    }
    if (pyi_writer_close(w))
        die(w, "close");
    result r = {0};
    r.write_s = now_s() - wall;
    r.write_cpu_s = cpu_s() - cpu;
    pyi_writer_stats st;
    pyi_writer_get_stats(w, &st);
    r.samples = st.samples;
    r.file_bytes = st.file_bytes;
    r.bytes_per_sample = (double)st.file_bytes / (double)st.samples;
    pyi_writer_free(w);
    return r;
}

static double run_reader(const char *path, uint64_t expected)
{
    double wall = now_s();
    pyi_reader *r;
    if (pyi_reader_open(&r, path, NULL)) {
        fprintf(stderr, "bench_format: %s\n", pyi_reader_error_detail(r));
        exit(1);
    }
    pyi_record rec;
    uint64_t samples = 0, weight = 0;
    int rc;
    while ((rc = pyi_reader_next(r, &rec)) == 1)
        if (rec.type == PYI_RECORD_SAMPLE) {
            samples++;
            weight += rec.u.sample.weight_ns;
        }
    double elapsed = now_s() - wall;
    if (rc < 0 || samples != expected || weight == 0) {
        fprintf(stderr, "bench_format: read %llu of %llu samples: %s\n",
                (unsigned long long)samples, (unsigned long long)expected,
                pyi_reader_error_detail(r));
        exit(1);
    }
    pyi_reader_free(r);
    return elapsed;
}

int main(int argc, char **argv)
{
    uint64_t samples = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;
    char path[] = "/tmp/pyi-bench-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    close(fd);
    printf("trace format benchmark: %llu samples per scenario, 30-deep stacks, 1 ms +- jitter\n",
           (unsigned long long)samples);
    printf("floors: writer >= 2 M samples/s on one core, reader >= 10 M samples/s, "
           "<= 1.5 bytes/sample on steady stacks\n\n");
    printf("%-34s %14s %14s %12s %12s\n", "scenario", "write M/s", "read M/s", "bytes/sample",
           "file KiB");
    for (size_t i = 0; i < sizeof(SCENARIOS) / sizeof(SCENARIOS[0]); i++) {
        result r = run_writer(&SCENARIOS[i], path, samples);
        double read_s = run_reader(path, r.samples);
        printf("%-34s %14.2f %14.2f %12.3f %12.1f\n", SCENARIOS[i].name,
               r.samples / r.write_cpu_s / 1e6, r.samples / read_s / 1e6, r.bytes_per_sample,
               r.file_bytes / 1024.0);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("\npeak RSS %.1f MiB (write rate uses this process's CPU time; read rate wall time)\n",
           ru.ru_maxrss / 1024.0);
    unlink(path);
    return 0;
}
