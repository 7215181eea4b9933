// Frame walker and code cache on fake interpreters of every supported version.
// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <map>
#include <string>

#include "fake_python.h"

extern "C" {
#include "code_cache_internal.h"
#include "mem_reader_internal.h"
#include "py_opcodes_internal.h"
#include "stack_walk_internal.h"
#include "pyi/trace.h"
}

namespace {

std::string MinorName(const ::testing::TestParamInfo<unsigned> &param)
{
    return "3_" + std::to_string(param.param);
}

class Walk : public ::testing::TestWithParam<unsigned> {
protected:
    void SetUp() override
    {
        py_ = std::make_unique<FakePython>(GetParam());
        char msg[256];
        ASSERT_EQ(0, pyi_mem_open(&mem_, 0, PYI_MEMORY_AUTO, msg, sizeof msg)) << msg;
        ASSERT_EQ(0, pyi_walker_init(&walker_, &mem_, &py_->layout(), py_->runtime(), 64));
        char tmpl[] = "/tmp/pyi-walk-XXXXXX";
        ASSERT_NE(nullptr, mkdtemp(tmpl));
        dir_ = tmpl;
        path_ = dir_ + "/walk.pyitrace";
    }
    void TearDown() override
    {
        pyi_walker_destroy(&walker_);
        pyi_mem_close(&mem_);
        if (writer_ != nullptr) {
            pyi_resolver_destroy(&resolver_);
            pyi_writer_free(writer_);
        }
        if (trace_ != nullptr)
            pyi_trace_free(trace_);
        unlink(path_.c_str());
        rmdir(dir_.c_str());
    }

    std::vector<pyi_thread_snapshot> Snapshots(std::vector<std::vector<pyi_raw_frame>> *frames)
    {
        struct Ctx {
            std::vector<pyi_thread_snapshot> snaps;
            std::vector<std::vector<pyi_raw_frame>> frames;
        } ctx;
        auto fn = [](void *c, const pyi_thread_snapshot *snap) -> int {
            Ctx *out = static_cast<Ctx *>(c);
            out->snaps.push_back(*snap);
            out->frames.emplace_back(snap->frames, snap->frames + snap->depth);
            return 0;
        };
        EXPECT_EQ(0, pyi_walker_walk(&walker_, fn, &ctx));
        if (frames != nullptr)
            *frames = ctx.frames;
        return ctx.snaps;
    }

    void OpenResolver()
    {
        pyi_header h;
        memset(&h, 0, sizeof h);
        h.recorder = "test";
        h.mode = "wall";
        h.clock = "CLOCK_MONOTONIC";
        h.interval_ns = 1000000;
        h.start_mono_ns = 1;
        h.start_wall_ns = 1;
        ASSERT_EQ(0, pyi_writer_open(&writer_, path_.c_str(), &h, nullptr));
        ASSERT_EQ(0, pyi_resolver_init(&resolver_, &mem_, &py_->layout(), writer_,
                                       py_->code_type(), 64));
    }

    // Resolves a thread's frames; returns the frame names, outermost first.
    int Resolve(const std::vector<pyi_raw_frame> &frames, int truncated,
                std::vector<uint32_t> *locations, uint32_t *status)
    {
        locations->assign(frames.size() + 2, 0);
        uint32_t count = 0;
        *status = 0;
        int rc = pyi_resolver_resolve(&resolver_, frames.data(), (uint32_t)frames.size(),
                                      truncated, locations->data(), &count, status);
        locations->resize(count);
        return rc;
    }

    // Closes the trace and describes a location as "name:line@file".
    void Load()
    {
        ASSERT_EQ(0, pyi_writer_close(writer_));
        char detail[256];
        ASSERT_EQ(0, pyi_trace_load(&trace_, path_.c_str(), nullptr, detail, sizeof detail))
            << detail;
    }
    std::string Describe(uint32_t location_id)
    {
        const pyi_location *loc = pyi_reader_location(trace_->reader, location_id);
        const pyi_function *fn = pyi_reader_function(trace_->reader, loc->function_id);
        size_t n;
        std::string name = pyi_reader_string(trace_->reader, fn->name_id, &n);
        std::string out = name + ":" + std::to_string(loc->line);
        if (fn->kind == PYI_FUNCTION_NATIVE)
            out += "[native]";
        return out;
    }

    // An opcode of this version that is a plain call, and one that does nothing special.
    static void Opcodes(unsigned minor, uint8_t *call, uint8_t *filler)
    {
        const pyi_opcode_table *t = pyi_opcode_table_for(minor);
        *call = *filler = 0;
        for (int op = 255; op > 0; op--) {
            if (t->deopt[op] == op && t->kind[op] == PYI_OP_CALL && *call == 0)
                *call = (uint8_t)op;
            if (t->deopt[op] == op && t->kind[op] == PYI_OP_OTHER && t->caches[op] == 0)
                *filler = (uint8_t)op;
        }
    }

    std::unique_ptr<FakePython> py_;
    pyi_mem_reader mem_;
    pyi_walker walker_;
    pyi_resolver resolver_;
    pyi_writer *writer_ = nullptr;
    pyi_trace *trace_ = nullptr;
    std::string dir_, path_;
};

TEST_P(Walk, FindsEveryThreadAndItsFrames)
{
    uint64_t f = py_->Code("f", "app.py", 10, {10, 11, 12});
    uint64_t g = py_->Code("Worker.g", "app.py", 20, {20, 21, 22});
    uint64_t a = py_->Thread({{g, 2}, {f, 1}}, 1001, 501);
    uint64_t b = py_->Thread({{f, 0}}, 1002, 502);
    py_->SetGilHolder(b);
    std::vector<std::vector<pyi_raw_frame>> frames;
    std::vector<pyi_thread_snapshot> snaps = Snapshots(&frames);
    ASSERT_EQ(2u, snaps.size());
    // The list is newest first.
    EXPECT_EQ(b, snaps[0].tstate);
    EXPECT_EQ(a, snaps[1].tstate);
    EXPECT_EQ(1002u, snaps[0].thread_id);
    if (GetParam() >= 11) {
        EXPECT_EQ(502u, snaps[0].native_id);
    }
    EXPECT_EQ(1, snaps[0].holds_gil);
    EXPECT_EQ(0, snaps[1].holds_gil);
    EXPECT_EQ(0, snaps[0].gc_running);
    ASSERT_EQ(2u, frames[1].size());
    EXPECT_EQ(g, frames[1][0].code);
    EXPECT_EQ(2, frames[1][0].lasti);
    EXPECT_EQ(f, frames[1][1].code);
    EXPECT_EQ(1, frames[1][1].lasti);
    py_->SetGcRunning(true);
    py_->SetGilHolder(0);
    snaps = Snapshots(nullptr);
    EXPECT_EQ(1, snaps[0].gc_running);
    EXPECT_EQ(0, snaps[0].holds_gil);
}

TEST_P(Walk, ResolvesNamesFilesAndLines)
{
    uint64_t f = py_->Code("<module>", "app.py", 1, {1, 2, 5});
    uint64_t g = py_->Code("Outer.Inner.method", "pkg/mod.py", 30, {30, 31, 33, 34});
    uint64_t t = py_->Thread({{g, 3}, {f, 2}}, 7, 8);
    (void)t;
    std::vector<std::vector<pyi_raw_frame>> frames;
    Snapshots(&frames);
    OpenResolver();
    std::vector<uint32_t> locations;
    uint32_t status;
    ASSERT_EQ(0, Resolve(frames[0], 0, &locations, &status));
    ASSERT_EQ(2u, locations.size());
    // Resolving again hits the caches: same ids, no new misses.
    std::vector<uint32_t> again;
    uint64_t misses = resolver_.stats.code_misses;
    ASSERT_EQ(0, Resolve(frames[0], 0, &again, &status));
    EXPECT_EQ(locations, again);
    EXPECT_EQ(misses, resolver_.stats.code_misses);
    Load();
    EXPECT_EQ("<module>:5", Describe(locations[0]));
    // Before 3.11 the code object has no qualified name: the file is not on
    // disk here, so the bare name is what can be known.
    EXPECT_EQ(GetParam() >= 11 ? "Outer.Inner.method:34" : "method:34", Describe(locations[1]));
}

TEST_P(Walk, NamesTheNativeCallAtTheLeaf)
{
    uint8_t call, filler;
    Opcodes(GetParam(), &call, &filler);
    ASSERT_NE(0, call);
    std::vector<uint8_t> bytecode = {filler, 0, filler, 0, call, 1};
    bytecode.resize(64, 0);
    uint64_t f = py_->Code("wait", "app.py", 3, {3, 4, 4, 4, 4, 4, 4, 4}, bytecode, {"sleep"});
    uint64_t g = py_->Code("main", "app.py", 9, {9, 10, 11}, bytecode, {"wait"});
    py_->Thread({{f, 2}, {g, 2}}, 1, 2);
    std::vector<std::vector<pyi_raw_frame>> frames;
    Snapshots(&frames);
    OpenResolver();
    std::vector<uint32_t> locations;
    uint32_t status;
    ASSERT_EQ(0, Resolve(frames[0], 0, &locations, &status));
    EXPECT_TRUE(status & PYI_STATUS_NATIVE_LEAF);
    ASSERT_EQ(3u, locations.size());
    // A frame on a non-call instruction has no native leaf.
    frames[0][0].lasti = 1;
    std::vector<uint32_t> plain;
    ASSERT_EQ(0, Resolve(frames[0], 0, &plain, &status));
    EXPECT_FALSE(status & PYI_STATUS_NATIVE_LEAF);
    EXPECT_EQ(2u, plain.size());
    Load();
    EXPECT_EQ("main:11", Describe(locations[0]));
    EXPECT_EQ("wait:4", Describe(locations[1]));
    // The fake line table has no columns, so the callee stays unnamed.
    EXPECT_EQ("<native>:0[native]", Describe(locations[2]));
}

TEST_P(Walk, TheLastChainIsReadInOneGoAndStillChecked)
{
    uint64_t f = py_->Code("f", "a.py", 1, {1, 2});
    uint64_t g = py_->Code("g", "a.py", 1, {1, 2});
    uint64_t t = py_->Thread(std::vector<FakeFrame>(40, FakeFrame{f, 1}), 1, 2);
    std::vector<std::vector<pyi_raw_frame>> first, second, third;
    Snapshots(&first);
    uint64_t direct = walker_.frame_reads;
    EXPECT_EQ(40u, direct);
    Snapshots(&second);
    EXPECT_EQ(direct, walker_.frame_reads); // all 40 came from the up-front read
    EXPECT_GE(walker_.prefetch_hits, 40u);
    EXPECT_EQ(first[0].size(), second[0].size());
    // The program moved on: a new innermost frame and a changed caller line.
    std::vector<FakeFrame> moved(40, FakeFrame{f, 1});
    moved.insert(moved.begin(), FakeFrame{g, 0});
    py_->SetFrames(t, moved);
    Snapshots(&third);
    ASSERT_EQ(41u, third[0].size());
    EXPECT_EQ(g, third[0][0].code);
    EXPECT_EQ(f, third[0][40].code);
}

TEST_P(Walk, DeepStacksKeepTheInnermostFramesAndSayTheyAreCut)
{
    uint64_t f = py_->Code("recurse", "deep.py", 1, {1, 2});
    std::vector<FakeFrame> deep(100, FakeFrame{f, 1});
    py_->Thread(deep, 1, 2);
    std::vector<std::vector<pyi_raw_frame>> frames;
    std::vector<pyi_thread_snapshot> snaps = Snapshots(&frames);
    ASSERT_EQ(PYI_WALK_OK, snaps[0].error);
    EXPECT_EQ(1, snaps[0].truncated);
    EXPECT_EQ(64u, snaps[0].depth);
    OpenResolver();
    std::vector<uint32_t> locations;
    uint32_t status;
    ASSERT_EQ(0, Resolve(frames[0], 1, &locations, &status));
    EXPECT_TRUE(status & PYI_STATUS_TRUNCATED);
    ASSERT_EQ(65u, locations.size());
    Load();
    EXPECT_EQ("<truncated>:0", Describe(locations[0]));
    EXPECT_EQ("recurse:2", Describe(locations[64]));
}

TEST_P(Walk, LoopsInTheFrameChainAreErrorsNotHangs)
{
    uint64_t f = py_->Code("f", "a.py", 1, {1});
    uint64_t t = py_->Thread({{f, 0}, {f, 0}, {f, 0}}, 1, 2);
    uint64_t innermost = py_->FrameAddress(t, 0), outermost = py_->FrameAddress(t, 2);
    // outermost -> innermost: a three-frame loop, longer than nothing but short.
    py_->Put<uint64_t>(outermost, py_->layout().frame_previous, innermost);
    std::vector<pyi_thread_snapshot> snaps = Snapshots(nullptr);
    EXPECT_EQ(PYI_WALK_CYCLE, snaps[0].error);
    // A frame pointing at itself.
    py_->Put<uint64_t>(innermost, py_->layout().frame_previous, innermost);
    snaps = Snapshots(nullptr);
    EXPECT_EQ(PYI_WALK_CYCLE, snaps[0].error);
}

TEST_P(Walk, UnreadableMemoryMakesInvalidSamples)
{
    // A page that stays reserved but unreadable: an unmapped one could be
    // reused by the allocator (ASan maps and unmaps a lot) before we read it.
    long page = sysconf(_SC_PAGESIZE);
    void *gone = mmap(nullptr, (size_t)page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(MAP_FAILED, gone);
    uint64_t f = py_->Code("f", "a.py", 1, {1});
    uint64_t t = py_->Thread({{f, 0}, {f, 0}}, 1, 2);
    // A frame whose caller pointer leads nowhere.
    py_->Put<uint64_t>(py_->FrameAddress(t, 1), py_->layout().frame_previous,
                       FakePython::Addr(gone));
    std::vector<pyi_thread_snapshot> snaps = Snapshots(nullptr);
    EXPECT_EQ(PYI_WALK_BAD_FRAME, snaps[0].error);
    // A thread state that does not point back at its interpreter.
    py_->Put<uint64_t>(t, py_->layout().tstate_interp, 12345);
    snaps = Snapshots(nullptr);
    EXPECT_EQ(PYI_WALK_BAD_THREAD, snaps[0].error);
    // A frame whose code object is unmapped: the walk succeeds, resolving fails.
    FakePython other(GetParam());
    uint64_t t2 = other.Thread({{FakePython::Addr(gone), 0}}, 1, 2);
    (void)t2;
    pyi_walker w;
    ASSERT_EQ(0, pyi_walker_init(&w, &mem_, &other.layout(), other.runtime(), 64));
    std::vector<pyi_raw_frame> raw;
    auto fn = [](void *c, const pyi_thread_snapshot *snap) -> int {
        auto *out = static_cast<std::vector<pyi_raw_frame> *>(c);
        out->assign(snap->frames, snap->frames + snap->depth);
        return 0;
    };
    ASSERT_EQ(0, pyi_walker_walk(&w, fn, &raw));
    pyi_walker_destroy(&w);
    OpenResolver();
    std::vector<uint32_t> locations;
    uint32_t status;
    EXPECT_EQ(1, Resolve(raw, 0, &locations, &status));
    munmap(gone, (size_t)page);
}

// 3.11+ copy each thread's data stack in one read and decode frames from the copy.
class WalkDataStack : public Walk {};

TEST_P(WalkDataStack, WildPointersNeverLeaveTheCopy)
{
    const pyi_py_layout &l = py_->layout();
    uint64_t f = py_->Code("f", "a.py", 1, {1});
    uint64_t t = py_->Thread({{f, 0}, {f, 0}}, 1, 2);
    // Pretend the innermost frame sits in a data-stack chunk, so it is read
    // from the walker's copy; its caller pointer is garbage near the top of
    // the address space, where start + size wraps around.
    uint64_t frame = py_->FrameAddress(t, 0);
    py_->Put<uint64_t>(t, l.tstate_datastack_chunk, frame);
    py_->Put<uint64_t>(t, l.tstate_datastack_top, frame + 256);
    for (uint64_t wild : {UINT64_MAX, UINT64_MAX - 8, UINT64_MAX - 200, (uint64_t)1 << 63}) {
        py_->Put<uint64_t>(frame, l.frame_previous, wild);
        std::vector<pyi_thread_snapshot> snaps = Snapshots(nullptr);
        EXPECT_EQ(PYI_WALK_BAD_FRAME, snaps[0].error) << wild;
    }
}

TEST_P(Walk, AReusedCodeAddressIsResolvedAgain)
{
    uint64_t f = py_->Code("first", "a.py", 1, {1, 2});
    py_->Thread({{f, 1}}, 1, 2);
    std::vector<std::vector<pyi_raw_frame>> frames;
    Snapshots(&frames);
    OpenResolver();
    std::vector<uint32_t> before, after;
    uint32_t status;
    ASSERT_EQ(0, Resolve(frames[0], 0, &before, &status));
    // Another code object now lives at the same address: new name, new table.
    const pyi_py_layout &l = py_->layout();
    uint64_t name = py_->Str("second");
    py_->Put<uint64_t>(f, l.code_qualname >= 0 ? l.code_qualname : l.code_name, name);
    py_->Put<int32_t>(f, l.code_firstlineno, 40);
    ASSERT_EQ(0, Resolve(frames[0], 0, &after, &status));
    EXPECT_EQ(1u, resolver_.stats.code_reuses);
    Load();
    EXPECT_EQ("first:2", Describe(before[0]));
    EXPECT_EQ("second:41", Describe(after[0])); // its table counts from its own first line
}

TEST_P(Walk, NonAsciiNamesSurvive)
{
    const std::vector<std::string> names = {"café", "函数", "snake_🐍", "naïve.Ünïcode"};
    std::vector<FakeFrame> stack;
    for (const std::string &n : names)
        stack.push_back({py_->Code(n, "mödule_ß.py", 1, {1}), 0});
    py_->Thread(stack, 1, 2);
    std::vector<std::vector<pyi_raw_frame>> frames;
    Snapshots(&frames);
    OpenResolver();
    std::vector<uint32_t> locations;
    uint32_t status;
    ASSERT_EQ(0, Resolve(frames[0], 0, &locations, &status));
    Load();
    for (size_t i = 0; i < names.size(); i++) {
        std::string want = GetParam() >= 11 ? names[i] : names[i].substr(names[i].rfind('.') == std::string::npos ? 0 : names[i].rfind('.') + 1);
        EXPECT_EQ(want + ":1", Describe(locations[names.size() - 1 - i]));
    }
    const pyi_location *loc = pyi_reader_location(trace_->reader, locations[0]);
    const pyi_function *fn = pyi_reader_function(trace_->reader, loc->function_id);
    size_t n;
    EXPECT_STREQ("mödule_ß.py", pyi_reader_string(trace_->reader, fn->file_id, &n));
}

// 3.12+ mark C-stack shim frames (FRAME_OWNED_BY_CSTACK): never shown.
class WalkShim : public Walk {};

TEST_P(WalkShim, ShimFramesAreSkipped)
{
    uint64_t f = py_->Code("f", "a.py", 1, {1, 2});
    py_->Thread({{f, 1}, {f, 0, PYI_FRAME_OWNED_BY_CSTACK}, {f, 1}}, 1, 2);
    std::vector<pyi_thread_snapshot> snaps = Snapshots(nullptr);
    EXPECT_EQ(PYI_WALK_OK, snaps[0].error);
    EXPECT_EQ(2u, snaps[0].depth);
}

INSTANTIATE_TEST_SUITE_P(CPython, WalkDataStack, ::testing::Values(11u, 12u, 13u), MinorName);
INSTANTIATE_TEST_SUITE_P(CPython, WalkShim, ::testing::Values(12u, 13u), MinorName);

INSTANTIATE_TEST_SUITE_P(CPython, Walk, ::testing::Values(8u, 9u, 10u, 11u, 12u, 13u), MinorName);

} // namespace
