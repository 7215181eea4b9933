// SPDX-License-Identifier: MIT
// Crash tolerance: a trace cut at every byte reads exactly its complete
// chunks; every single-bit flip is detected or harmless, never a crash and
// never silently wrong data; salvage mode survives all of it.
#include <gtest/gtest.h>

#include <sstream>

#include "fixture.h"

using namespace pyitest;

namespace {

struct Reference {
    std::vector<uint8_t> bytes;
    std::string dump;
    pyi_reader_stats stats;
    std::vector<std::pair<uint64_t, uint64_t>> chunks; // (offset, end)
    std::vector<size_t> dump_at_chunk; // dump length before each chunk's line
    size_t header_end = 0;
};

Reference make_reference(uint32_t seed, int samples)
{
    Reference ref;
    TempFile file;
    RandomTraceOptions o;
    o.seed = seed;
    o.samples = samples;
    write_random_trace(file.path, o);
    ref.bytes = file.read();
    EXPECT_EQ(dump_bytes(ref.bytes, &ref.dump, false, &ref.stats), PYI_OK);
    std::istringstream in(ref.dump);
    std::string line;
    size_t pos = 0;
    while (std::getline(in, line)) {
        if (line.rfind("{\"record\":\"chunk\"", 0) == 0) {
            unsigned long long offset, size;
            sscanf(line.c_str() + line.find("\"offset\":"), "\"offset\":%llu,\"size\":%llu", &offset,
                   &size);
            ref.chunks.push_back({offset, offset + size});
            ref.dump_at_chunk.push_back(pos);
        }
        if (pos == 0)
            ref.header_end = 0;
        pos += line.size() + 1;
    }
    ref.header_end = ref.chunks.empty() ? 0 : ref.chunks[0].first;
    return ref;
}

std::string without_stats(const std::string &dump)
{
    size_t at = dump.rfind("{\"record\":\"stats\"");
    return at == std::string::npos ? dump : dump.substr(0, at);
}

} // namespace

TEST(Damage, CutAtEveryByteKeepsExactlyTheCompleteChunks)
{
    Reference ref = make_reference(3, 1200);
    ASSERT_GE(ref.chunks.size(), 4u) << "the reference should span several chunks";
    size_t size = ref.bytes.size();
    for (size_t cut = 0; cut < size; cut++) {
        std::vector<uint8_t> prefix(ref.bytes.begin(), ref.bytes.begin() + cut);
        std::string dump;
        pyi_reader_stats stats;
        int rc = dump_bytes(prefix, &dump, false, &stats);
        if (cut == 0) {
            ASSERT_EQ(rc, PYI_E_EMPTY);
            continue;
        }
        if (cut < ref.header_end) {
            ASSERT_EQ(rc, PYI_E_TRUNCATED) << cut;
            continue;
        }
        ASSERT_EQ(rc, PYI_OK) << "cut at " << cut;
        size_t complete = 0;
        while (complete < ref.chunks.size() && ref.chunks[complete].second <= cut)
            complete++;
        ASSERT_EQ(stats.chunks, complete) << cut;
        bool at_boundary = cut == ref.header_end ||
                           (complete > 0 && ref.chunks[complete - 1].second == cut);
        ASSERT_EQ(stats.truncated, !at_boundary) << cut;
        ASSERT_FALSE(stats.has_index) << cut;
        size_t keep = complete < ref.chunks.size() ? ref.dump_at_chunk[complete]
                                                   : ref.dump.rfind("{\"record\":\"stats\"");
        ASSERT_EQ(without_stats(dump), ref.dump.substr(0, keep)) << "cut at " << cut;
    }
}

TEST(Damage, EveryBitFlipIsDetectedOrHarmless)
{
    Reference ref = make_reference(5, 300);
    ASSERT_GE(ref.chunks.size(), 1u);
    size_t detected = 0, harmless = 0;
    for (size_t byte = 0; byte < ref.bytes.size(); byte++) {
        for (int bit = 0; bit < 8; bit++) {
            std::vector<uint8_t> flipped = ref.bytes;
            flipped[byte] ^= (uint8_t)(1u << bit);
            std::string dump;
            pyi_reader_stats stats;
            int rc = dump_bytes(flipped, &dump, false, &stats);
            bool noticed = rc != PYI_OK || stats.truncated != ref.stats.truncated ||
                           stats.chunks != ref.stats.chunks ||
                           stats.unknown_frames != ref.stats.unknown_frames ||
                           stats.unknown_records != ref.stats.unknown_records ||
                           stats.has_index != ref.stats.has_index ||
                           stats.has_end != ref.stats.has_end;
            if (noticed) {
                detected++;
            } else {
                ASSERT_EQ(dump, ref.dump) << "silently different data: byte " << byte << " bit "
                                          << bit;
                harmless++;
            }
            // salvage mode must survive every flip too (sanitizers watch)
            std::string salvaged;
            dump_bytes(flipped, &salvaged, true, &stats);
        }
    }
    EXPECT_GT(detected, harmless);
    RecordProperty("detected", (int)detected);
    RecordProperty("harmless", (int)harmless);
}

TEST(Damage, SalvageSkipsADamagedChunkAndKeepsTheRest)
{
    Reference ref = make_reference(11, 2000);
    ASSERT_GE(ref.chunks.size(), 4u);
    std::vector<uint8_t> damaged = ref.bytes;
    auto [start, end] = ref.chunks[1];
    damaged[end - 6] ^= 0x40; // inside chunk 1: its checksum fails
    std::string dump;
    pyi_reader_stats stats;
    EXPECT_EQ(dump_bytes(damaged, &dump, false, &stats), PYI_E_CORRUPT);
    EXPECT_EQ(stats.chunks, 1u) << "strict: chunk 0 is delivered, then the error";
    EXPECT_EQ(dump_bytes(damaged, &dump, true, &stats), PYI_OK);
    EXPECT_EQ(stats.chunks, ref.chunks.size() - 1);
    EXPECT_EQ(stats.chunks_damaged, 1u);
    EXPECT_GE(stats.bytes_skipped, end - start);
    EXPECT_TRUE(stats.has_end);
    // definitions lost with chunk 1 make later records that need them drop
    EXPECT_GT(stats.dropped_records + stats.samples, 0u);
}

TEST(Damage, SalvageResynchronisesAfterGarbage)
{
    Reference ref = make_reference(12, 1500);
    ASSERT_GE(ref.chunks.size(), 3u);
    std::vector<uint8_t> damaged = ref.bytes;
    auto [start, end] = ref.chunks[1];
    for (uint64_t i = start; i < start + 16 && i < end; i++)
        damaged[i] = 0; // destroy the frame header: the frame cannot be delimited
    std::string dump;
    pyi_reader_stats stats;
    EXPECT_EQ(dump_bytes(damaged, &dump, true, &stats), PYI_OK);
    EXPECT_GE(stats.chunks, ref.chunks.size() - 2);
    EXPECT_GE(stats.chunks_damaged, 1u);
}
