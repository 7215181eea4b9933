// Line-table decoders against what CPython 3.8-3.13 itself reports for real code objects.
// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <stdint.h>
#include <string>

extern "C" {
#include "py_linetable_internal.h"
#include "py_opcodes_internal.h"
}

namespace {

struct code_call {
    int32_t unit;
    const char *callee; // expected "receiver.name", NULL = no name
};

struct code_vector {
    unsigned minor;
    const char *name;
    int32_t firstlineno;
    const uint8_t *table;
    size_t table_size;
    const uint8_t *code;
    size_t code_size;
    const int32_t (*positions)[4]; // line, end line, column, end column per code unit
    const char *const *names;
    const char *const *locals;
    const code_call *calls;
    size_t call_count;
};

#include "code_vectors.inc"

pyi_linetable_kind KindOf(unsigned minor)
{
    return minor >= 11 ? PYI_LINETABLE_LOCATIONS
                       : minor == 10 ? PYI_LINETABLE_PEP626 : PYI_LINETABLE_LNOTAB;
}

std::string Label(const code_vector &v)
{
    return "3." + std::to_string(v.minor) + " " + v.name;
}

TEST(LineTable, EveryInstructionHasCPythonsLine)
{
    size_t checked = 0;
    for (const code_vector &v : code_vectors) {
        for (size_t unit = 0; unit < v.code_size / 2; unit++) {
            const int32_t *want = v.positions[unit];
            if (want[0] < 0 && v.minor < 11)
                continue; // 3.10 artificial instructions: no line to compare
            pyi_position got;
            ASSERT_EQ(0, pyi_linetable_find(KindOf(v.minor), v.table, v.table_size,
                                            v.firstlineno, (int32_t)unit, &got))
                << Label(v) << " unit " << unit;
            EXPECT_EQ(want[0], got.line) << Label(v) << " unit " << unit;
            if (v.minor >= 11) {
                EXPECT_EQ(want[1], got.end_line) << Label(v) << " unit " << unit;
                EXPECT_EQ(want[2], got.column) << Label(v) << " unit " << unit;
                EXPECT_EQ(want[3], got.end_column) << Label(v) << " unit " << unit;
            }
            checked++;
        }
    }
    EXPECT_GT(checked, 3000u);
}

TEST(LineTable, NotStartedFrameIsOnItsFirstLine)
{
    for (const code_vector &v : code_vectors) {
        pyi_position got;
        ASSERT_EQ(0, pyi_linetable_find(KindOf(v.minor), v.table, v.table_size, v.firstlineno,
                                        -1, &got));
        EXPECT_EQ(v.firstlineno, got.line) << Label(v);
    }
}

TEST(LineTable, MalformedTablesFailCleanly)
{
    for (const code_vector &v : code_vectors) {
        if (v.minor < 11 || v.table_size < 4)
            continue;
        // Cut in the middle of an entry: decoding stops with an error, never reads past.
        std::vector<uint8_t> cut(v.table, v.table + v.table_size / 2);
        pyi_linetable_iter it;
        pyi_linetable_range range;
        pyi_linetable_iter_init(&it, PYI_LINETABLE_LOCATIONS, cut.data(), cut.size(), 1);
        int rc;
        while ((rc = pyi_linetable_next(&it, &range)) == 1)
            ;
        EXPECT_LE(it.offset, cut.size()) << Label(v);
        // A first byte without its high bit is not an entry start.
        uint8_t bad[] = {0x12, 0x34};
        pyi_position pos;
        EXPECT_EQ(-1, pyi_linetable_find(PYI_LINETABLE_LOCATIONS, bad, sizeof bad, 1, 0, &pos));
    }
    pyi_position pos;
    EXPECT_EQ(-1, pyi_linetable_find(PYI_LINETABLE_LOCATIONS, nullptr, 0, 1, 0, &pos));
    EXPECT_EQ(-1, pyi_linetable_find(PYI_LINETABLE_PEP626, nullptr, 0, 1, 5, &pos));
}

std::string CalleeName(const code_vector &v, const pyi_call_site &site)
{
    std::string out;
    for (int i = 0; i < site.name_count; i++) {
        const char *const *table = site.names[i].table == PYI_NAME_FROM_NAMES ? v.names : v.locals;
        if (i)
            out += ".";
        out += table[site.names[i].index];
    }
    return out;
}

TEST(CallSite, FindsCallsAndNamesTheirCallees)
{
    size_t calls = 0;
    for (const code_vector &v : code_vectors) {
        const pyi_opcode_table *t = pyi_opcode_table_for(v.minor);
        ASSERT_NE(nullptr, t) << Label(v);
        for (size_t i = 0; i < v.call_count; i++) {
            pyi_call_site site;
            pyi_call_site_analyze(t, v.code, v.code_size / 2, v.table, v.table_size,
                                  v.firstlineno, v.calls[i].unit, &site);
            EXPECT_TRUE(site.is_call) << Label(v) << " call at unit " << v.calls[i].unit;
            EXPECT_EQ(v.calls[i].callee ? v.calls[i].callee : "", CalleeName(v, site))
                << Label(v) << " call at unit " << v.calls[i].unit;
            calls++;
        }
    }
    EXPECT_GE(calls, 40u);
}

TEST(CallSite, OtherInstructionsAreNotCalls)
{
    for (const code_vector &v : code_vectors) {
        const pyi_opcode_table *t = pyi_opcode_table_for(v.minor);
        pyi_call_site site;
        // The first instruction is never a call (RESUME, or a LOAD on 3.8-3.10).
        pyi_call_site_analyze(t, v.code, v.code_size / 2, v.table, v.table_size,
                              v.firstlineno, 0, &site);
        EXPECT_FALSE(site.is_call) << Label(v);
        // Past the end, or a unit inside an instruction's inline cache.
        pyi_call_site_analyze(t, v.code, v.code_size / 2, v.table, v.table_size,
                              v.firstlineno, (int32_t)(v.code_size / 2), &site);
        EXPECT_FALSE(site.is_call) << Label(v);
        for (size_t i = 0; v.minor >= 11 && i < v.call_count; i++) {
            pyi_call_site_analyze(t, v.code, v.code_size / 2, v.table, v.table_size,
                                  v.firstlineno, v.calls[i].unit + 1, &site);
            EXPECT_FALSE(site.is_call) << Label(v) << " unit " << v.calls[i].unit + 1;
        }
    }
}

} // namespace
