// SPDX-License-Identifier: MIT
// Round trips: random record streams (every record kind, extreme values,
// non-ASCII) written by the writer read back exactly as written.
#include <gtest/gtest.h>

#include <sstream>

#include "fixture.h"

using namespace pyitest;

namespace {

// The dump without "chunk" and "stats" lines: where chunks close is the
// writer's business; everything else must be exactly what was written.
std::string records_only(const std::string &dump)
{
    std::istringstream in(dump);
    std::string line, out;
    while (std::getline(in, line)) {
        if (line.rfind("{\"record\":\"chunk\"", 0) == 0 ||
            line.rfind("{\"record\":\"stats\"", 0) == 0)
            continue;
        out += line + "\n";
    }
    return out;
}

void check_round_trip(const RandomTraceOptions &options)
{
    TempFile file;
    std::string expected = write_random_trace(file.path, options);
    std::string dump;
    pyi_reader_stats stats;
    ASSERT_EQ(dump_bytes(file.read(), &dump, false, &stats), PYI_OK);
    EXPECT_EQ(records_only(dump), expected);
    EXPECT_EQ(stats.has_end, options.close);
    EXPECT_EQ(stats.has_index, options.close);
    EXPECT_FALSE(stats.truncated);
    EXPECT_EQ(stats.chunks_damaged, 0u);
}

} // namespace

TEST(RoundTrip, RandomStreams)
{
    for (uint32_t seed = 1; seed <= 12; seed++) {
        RandomTraceOptions o;
        o.seed = seed;
        o.samples = 1500;
        o.threads = 1 + seed % 4;
        SCOPED_TRACE(seed);
        check_round_trip(o);
    }
}

TEST(RoundTrip, ExtremeValues)
{
    for (uint32_t seed = 100; seed < 106; seed++) {
        RandomTraceOptions o;
        o.seed = seed;
        o.extremes = true;
        SCOPED_TRACE(seed);
        check_round_trip(o);
    }
}

TEST(RoundTrip, ThreadedWriterProducesTheSameRecords)
{
    RandomTraceOptions o;
    o.seed = 42;
    o.samples = 20000;
    o.threaded = true;
    check_round_trip(o);
}

TEST(RoundTrip, LargeChunksAndUnclosedFiles)
{
    RandomTraceOptions o;
    o.seed = 9;
    o.chunk_bytes = 1u << 20;
    check_round_trip(o);
    o.close = false; // freed without close: every record kept, no END or index
    check_round_trip(o);
}

TEST(RoundTrip, TimesAreStoredInMicroseconds)
{
    TempFile file;
    pyi_header h = basic_header();
    pyi_writer *w;
    ASSERT_EQ(pyi_writer_open(&w, file.path.c_str(), &h, nullptr), PYI_OK);
    pyi_thread t = {0, 1, 1, 0, 0};
    uint32_t tid;
    ASSERT_EQ(pyi_writer_add_thread(w, &t, &tid), PYI_OK);
    pyi_sample a = {tid, 0, 5000001999ull, 777, 1499, 0}; // 1499 ns of CPU rounds to 1 us
    pyi_sample b = {tid, 0, 5000003001ull, 5000003001ull - 5000001999ull, PYI_CPU_UNKNOWN, 0};
    ASSERT_EQ(pyi_writer_add_sample(w, &a), PYI_OK);
    ASSERT_EQ(pyi_writer_add_sample(w, &b), PYI_OK);
    ASSERT_EQ(pyi_writer_close(w), PYI_OK);
    pyi_writer_free(w);
    pyi_trace *trace;
    char detail[256];
    ASSERT_EQ(pyi_trace_load(&trace, file.path.c_str(), nullptr, detail, sizeof(detail)), PYI_OK);
    ASSERT_EQ(trace->sample_count, 2u);
    EXPECT_EQ(trace->samples[0].time_ns, 5000001000ull);
    EXPECT_EQ(trace->samples[0].weight_ns, 1000ull); // 777 ns rounds to 1 us
    EXPECT_EQ(trace->samples[0].cpu_ns, 1000ull);
    EXPECT_EQ(trace->samples[1].time_ns, 5000003000ull);
    // an implied weight is the microsecond delta, so times and weights agree
    EXPECT_EQ(trace->samples[1].weight_ns, 2000ull);
    EXPECT_EQ(trace->samples[1].cpu_ns, PYI_CPU_UNKNOWN);
    pyi_trace_free(trace);
}
