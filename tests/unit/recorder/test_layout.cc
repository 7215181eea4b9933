// Interpreter layouts: the tables, and the 3.13 _Py_DebugOffsets parser cross-checked against them.
// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <stdint.h>
#include <string.h>

extern "C" {
#include "py_layout_internal.h"
#include "pyi/errors.h"
}

namespace {

#include "debug_offsets_3130.inc"

std::vector<unsigned char> DebugOffsetBytes()
{
    std::vector<unsigned char> bytes(PYI_DEBUG_OFFSETS_313_SIZE);
    memcpy(bytes.data(), "xdebugpy", 8);
    static_assert(sizeof kDebugOffsets3130 == PYI_DEBUG_OFFSETS_313_SIZE - 8, "72 fields");
    memcpy(bytes.data() + 8, kDebugOffsets3130, sizeof kDebugOffsets3130);
    return bytes;
}

TEST(Layout, TablesExistForEverySupportedMinor)
{
    for (unsigned minor = 8; minor <= 13; minor++) {
        pyi_py_layout l;
        ASSERT_EQ(0, pyi_py_layout_from_table(minor, &l)) << minor;
        EXPECT_EQ(minor, l.minor);
        EXPECT_STREQ("table", l.source);
        // Copy sizes must cover the fields the walker reads.
        EXPECT_GE(l.tstate_read_size, (uint32_t)l.tstate_thread_id + 8);
        EXPECT_GE(l.frame_read_size, (uint32_t)l.frame_instr + 4);
        EXPECT_GE(l.code_read_size, (uint32_t)l.code_filename + 8);
        EXPECT_LE(l.tstate_read_size, 512u);
        EXPECT_LE(l.frame_read_size, 512u);
        EXPECT_EQ(minor >= 11, l.tstate_native_thread_id >= 0);
        EXPECT_EQ(minor >= 11, l.code_qualname >= 0);
        EXPECT_EQ(minor >= 12, l.interp_gil >= 0);
        EXPECT_EQ(minor <= 11, l.runtime_gil_current >= 0);
    }
    pyi_py_layout l;
    EXPECT_EQ(PYI_E_UNSUPPORTED, pyi_py_layout_from_table(7, &l));
    EXPECT_EQ(PYI_E_UNSUPPORTED, pyi_py_layout_from_table(14, &l));
}

TEST(Layout, DebugOffsetsOf3130MatchTheTable)
{
    std::vector<unsigned char> bytes = DebugOffsetBytes();
    pyi_py_layout parsed, table;
    char msg[512];
    ASSERT_EQ(0, pyi_py_layout_from_debug_offsets(bytes.data(), bytes.size(), &parsed, msg,
                                                  sizeof msg))
        << msg;
    ASSERT_EQ(0, pyi_py_layout_from_table(13, &table));
    EXPECT_STREQ("_Py_DebugOffsets", parsed.source);
    EXPECT_EQ(0, pyi_py_layout_compare(&parsed, &table, msg, sizeof msg)) << msg;
    EXPECT_EQ(7344, parsed.interp_threads_head);
    EXPECT_EQ(16, parsed.gil_locked);
    EXPECT_EQ(8, parsed.gil_last_holder);
}

TEST(Layout, CompareNamesTheFieldsThatDiffer)
{
    pyi_py_layout a, b;
    ASSERT_EQ(0, pyi_py_layout_from_table(13, &a));
    b = a;
    b.tstate_frame = 56;
    b.code_names = 40;
    char msg[256];
    EXPECT_EQ(2, pyi_py_layout_compare(&a, &b, msg, sizeof msg));
    EXPECT_NE(nullptr, strstr(msg, "tstate_frame 72 != 56")) << msg;
    EXPECT_NE(nullptr, strstr(msg, "code_names")) << msg;
}

TEST(Layout, DebugOffsetsThatAreNot3130AreRefused)
{
    pyi_py_layout l;
    char msg[256];
    std::vector<unsigned char> bytes = DebugOffsetBytes();
    EXPECT_EQ(PYI_E_UNSUPPORTED,
              pyi_py_layout_from_debug_offsets(bytes.data(), 100, &l, msg, sizeof msg));
    std::vector<unsigned char> cookie = bytes;
    cookie[0] = 'X';
    EXPECT_EQ(PYI_E_UNSUPPORTED, pyi_py_layout_from_debug_offsets(cookie.data(), cookie.size(),
                                                                  &l, msg, sizeof msg));
    EXPECT_NE(nullptr, strstr(msg, "cookie")) << msg;
    std::vector<unsigned char> v314 = bytes;
    uint64_t version = 0x030e00a1;
    memcpy(v314.data() + 8, &version, 8);
    EXPECT_EQ(PYI_E_UNSUPPORTED,
              pyi_py_layout_from_debug_offsets(v314.data(), v314.size(), &l, msg, sizeof msg));
    EXPECT_NE(nullptr, strstr(msg, "3.14")) << msg;
    std::vector<unsigned char> free_threaded = bytes;
    free_threaded[16] = 1;
    EXPECT_EQ(PYI_E_UNSUPPORTED, pyi_py_layout_from_debug_offsets(
                                     free_threaded.data(), free_threaded.size(), &l, msg, sizeof msg));
    EXPECT_NE(nullptr, strstr(msg, "free-threaded")) << msg;
    std::vector<unsigned char> wild = bytes;
    uint64_t huge = 1ull << 40; // threads_head far outside the interpreter state
    memcpy(wild.data() + 8 + 8 * 8, &huge, 8);
    EXPECT_EQ(PYI_E_UNSUPPORTED,
              pyi_py_layout_from_debug_offsets(wild.data(), wild.size(), &l, msg, sizeof msg));
}

} // namespace
