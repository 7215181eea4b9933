// The whole recorder (sampler thread, thread table, writer) against a fake interpreter.
// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <stdlib.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <map>
#include <string>

#include "fake_python.h"

extern "C" {
#include "pyi/recorder.h"
#include "pyi/trace.h"
}

namespace {

std::string MinorName(const ::testing::TestParamInfo<unsigned> &param)
{
    return "3_" + std::to_string(param.param);
}

void SleepMs(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

class Recorder : public ::testing::TestWithParam<unsigned> {
protected:
    void SetUp() override
    {
        py_ = std::make_unique<FakePython>(GetParam());
        char tmpl[] = "/tmp/pyi-recorder-XXXXXX";
        ASSERT_NE(nullptr, mkdtemp(tmpl));
        dir_ = tmpl;
        path_ = dir_ + "/run.pyitrace";
    }
    void TearDown() override
    {
        if (trace_ != nullptr)
            pyi_trace_free(trace_);
        unlink(path_.c_str());
        rmdir(dir_.c_str());
    }
    void Load()
    {
        char detail[256];
        ASSERT_EQ(0, pyi_trace_load(&trace_, path_.c_str(), nullptr, detail, sizeof detail))
            << detail;
    }
    std::string Str(uint32_t id)
    {
        size_t n;
        const char *s = pyi_reader_string(trace_->reader, id, &n);
        return s ? std::string(s, n) : "";
    }
    std::string LeafName(uint32_t stack_id)
    {
        const pyi_stack *stack = pyi_reader_stack(trace_->reader, stack_id);
        const pyi_location *loc = pyi_reader_location(trace_->reader, stack->location_id);
        return Str(pyi_reader_function(trace_->reader, loc->function_id)->name_id);
    }

    std::unique_ptr<FakePython> py_;
    std::string dir_, path_;
    pyi_trace *trace_ = nullptr;
};

TEST_P(Recorder, SamplesEveryThreadWithNamesWeightsAndStatus)
{
    uint64_t work = py_->Code("work", "app.py", 5, {5, 6, 7});
    uint64_t idle = py_->Code("idle", "app.py", 20, {20, 21});
    uint64_t tid = (uint64_t)syscall(SYS_gettid);
    uint64_t busy = py_->Thread({{work, 2}}, 4001, tid);
    py_->Thread({{idle, 1}}, 4002, tid);
    py_->SetGilHolder(busy);
    pyi_recorder_options options;
    pyi_recorder_options_init(&options);
    options.interval_ns = 2000000;
    pyi_target target = py_->target();
    pyi_recorder *r = nullptr;
    ASSERT_EQ(0, pyi_recorder_start(&r, path_.c_str(), nullptr, &target, &options))
        << pyi_recorder_error_detail(r);
    EXPECT_EQ(0, pyi_recorder_name_thread(r, 4001, 0, "busy-thread"));
    SleepMs(120);
    // The program moves on: new frames are picked up by later samples.
    uint64_t later = py_->Code("later", "app.py", 40, {40, 41});
    py_->SetFrames(busy, {{later, 1}, {work, 1}});
    EXPECT_EQ(0, pyi_recorder_name_thread(r, 4002, tid, "idle-thread"));
    SleepMs(120);
    ASSERT_EQ(0, pyi_recorder_stop(r)) << pyi_recorder_error_detail(r);
    pyi_recorder_stats stats;
    pyi_recorder_get_stats(r, &stats);
    pyi_recorder_free(r);
    EXPECT_GT(stats.rounds, 40u);
    EXPECT_EQ(stats.rounds * 2, stats.samples);
    EXPECT_EQ(0u, stats.invalid);
    EXPECT_EQ(2u, stats.threads);
    EXPECT_GT(stats.file_bytes, 0u);
    Load();
    const pyi_reader_stats *rs = pyi_reader_get_stats(trace_->reader);
    EXPECT_TRUE(rs->has_end);
    EXPECT_EQ(stats.samples, trace_->sample_count);
    std::map<std::string, std::map<std::string, int>> leaves; // thread name -> leaf -> samples
    uint64_t total_weight = 0;
    for (size_t i = 0; i < trace_->sample_count; i++) {
        const pyi_sample &s = trace_->samples[i];
        std::string thread = Str(pyi_reader_thread(trace_->reader, s.thread_id)->name_id);
        leaves[thread][LeafName(s.stack_id)]++;
        total_weight += s.weight_ns;
        if (thread == "busy-thread")
            EXPECT_TRUE(s.status & PYI_STATUS_HOLDS_GIL);
        else
            EXPECT_FALSE(s.status & PYI_STATUS_HOLDS_GIL);
    }
    EXPECT_GT(leaves["busy-thread"]["work"], 5);
    EXPECT_GT(leaves["busy-thread"]["later"], 5);
    EXPECT_GT(leaves["idle-thread"]["idle"], 20);
    // Weights are measured wall time: together about twice the recording.
    EXPECT_GT(total_weight, 2 * 200000000u);
    EXPECT_LT(total_weight, 2 * 400000000u);
}

TEST_P(Recorder, OnlyTheChosenThread)
{
    uint64_t f = py_->Code("f", "a.py", 1, {1});
    py_->Thread({{f, 0}}, 11, 0);
    py_->Thread({{f, 0}}, 12, 0);
    pyi_recorder_options options;
    pyi_recorder_options_init(&options);
    options.only_thread = 12;
    pyi_target target = py_->target();
    pyi_recorder *r = nullptr;
    ASSERT_EQ(0, pyi_recorder_start(&r, path_.c_str(), nullptr, &target, &options));
    SleepMs(50);
    ASSERT_EQ(0, pyi_recorder_stop(r));
    pyi_recorder_stats stats;
    pyi_recorder_get_stats(r, &stats);
    pyi_recorder_free(r);
    EXPECT_EQ(1u, stats.threads);
    EXPECT_EQ(stats.rounds, stats.samples);
}

TEST_P(Recorder, BacksOffWhenOverItsCpuBudgetAndSaysSo)
{
    uint64_t f = py_->Code("f", "a.py", 1, {1});
    std::vector<FakeFrame> deep(200, FakeFrame{f, 0});
    for (int i = 0; i < 4; i++)
        py_->Thread(deep, 100 + (uint64_t)i, 0);
    pyi_recorder_options options;
    pyi_recorder_options_init(&options);
    options.interval_ns = 200000;
    options.cpu_budget = 0.001; // far below what 4 x 200 frames every 0.2 ms costs
    pyi_target target = py_->target();
    pyi_recorder *r = nullptr;
    ASSERT_EQ(0, pyi_recorder_start(&r, path_.c_str(), nullptr, &target, &options));
    SleepMs(1200);
    ASSERT_EQ(0, pyi_recorder_stop(r));
    pyi_recorder_stats stats;
    pyi_recorder_get_stats(r, &stats);
    pyi_recorder_free(r);
    EXPECT_GT(stats.rate_changes, 0u);
    EXPECT_GT(stats.final_interval_ns, 4 * stats.nominal_interval_ns);
    Load();
    size_t interval_markers = 0;
    for (size_t i = 0; i < trace_->marker_count; i++)
        interval_markers += Str(trace_->markers[i].name_id) == "pyinst.interval";
    EXPECT_EQ(stats.rate_changes, interval_markers);
}

// The engine reads another process exactly as it reads its own: a forked
// child holds the same fake interpreter at the same addresses.
TEST_P(Recorder, RecordsAnotherProcessThroughTheSameEngine)
{
#if defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "fork under ThreadSanitizer";
#endif
    uint64_t f = py_->Code("remote_work", "remote.py", 3, {3, 4});
    py_->Thread({{f, 1}}, 77, 0);
    int ready[2];
    ASSERT_EQ(0, pipe(ready));
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        char c = 1;
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    char c;
    ASSERT_EQ(1, read(ready[0], &c, 1));
    pyi_target target = py_->target();
    target.pid = child;
    pyi_recorder *r = nullptr;
    int rc = pyi_recorder_start(&r, path_.c_str(), nullptr, &target, nullptr);
    if (rc == 0) {
        SleepMs(60);
        rc = pyi_recorder_stop(r);
    }
    std::string detail = pyi_recorder_error_detail(r);
    pyi_recorder_stats stats;
    if (r != nullptr)
        pyi_recorder_get_stats(r, &stats);
    pyi_recorder_free(r);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    close(ready[0]);
    close(ready[1]);
    ASSERT_EQ(0, rc) << detail;
    EXPECT_GT(stats.samples, 10u);
    Load();
    EXPECT_EQ(child, pyi_reader_header(trace_->reader)->pid);
    EXPECT_EQ("remote_work", LeafName(trace_->samples[0].stack_id));
}

TEST_P(Recorder, ChecksTheTargetBeforeRecording)
{
    uint64_t f = py_->Code("f", "a.py", 1, {1});
    uint64_t g = py_->Code("g", "a.py", 1, {1});
    uint64_t t = py_->Thread({{f, 0}, {g, 0}}, 11, 0);
    pyi_target target = py_->target();
    char msg[512];
    EXPECT_EQ(0, pyi_recorder_check_target(&target, t, f, msg, sizeof msg)) << msg;
    EXPECT_EQ(PYI_E_STATE, pyi_recorder_check_target(&target, t, g, msg, sizeof msg));
    EXPECT_NE(nullptr, strstr(msg, "layout check failed")) << msg;
    char source[64];
    EXPECT_EQ(0, pyi_recorder_verify_layout(&target, source, sizeof source, msg, sizeof msg));
    EXPECT_STREQ(GetParam() >= 13 ? "_Py_DebugOffsets" : "table", source);
}

INSTANTIATE_TEST_SUITE_P(CPython, Recorder, ::testing::Values(8u, 10u, 11u, 12u, 13u), MinorName);

TEST(RecorderErrors, SaysWhatIsWrong)
{
    FakePython py(11);
    pyi_recorder *r = nullptr;
    pyi_target target = py.target();
    // No thread: the runtime does not lead to any thread state.
    EXPECT_EQ(PYI_E_STATE, pyi_recorder_start(&r, "/tmp/unused.pyitrace", nullptr, &target,
                                              nullptr));
    EXPECT_NE(nullptr, strstr(pyi_recorder_error_detail(r), "does not look as expected"));
    pyi_recorder_free(r);
    uint64_t f = py.Code("f", "a.py", 1, {1});
    py.Thread({{f, 0}}, 1, 0);
    target.python_version_hex = 0x030700f0;
    EXPECT_EQ(PYI_E_UNSUPPORTED, pyi_recorder_start(&r, "/tmp/unused.pyitrace", nullptr,
                                                    &target, nullptr));
    EXPECT_NE(nullptr, strstr(pyi_recorder_error_detail(r), "3.7 is not supported"));
    pyi_recorder_free(r);
    target = py.target();
    EXPECT_EQ(PYI_E_IO, pyi_recorder_start(&r, "/nonexistent-dir/x.pyitrace", nullptr, &target,
                                           nullptr));
    EXPECT_NE(nullptr, strstr(pyi_recorder_error_detail(r), "/nonexistent-dir/x.pyitrace"));
    pyi_recorder_free(r);
    target.runtime_address = 8; // nothing readable there
    EXPECT_NE(0, pyi_recorder_start(&r, "/tmp/unused.pyitrace", nullptr, &target, nullptr));
    pyi_recorder_free(r);
    unlink("/tmp/unused.pyitrace");
}

} // namespace
