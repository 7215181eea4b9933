// SPDX-License-Identifier: MIT
// Writer behaviour: flushing, chunk closing, threads, pipes, fork, errors,
// allocation failures.
#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "fixture.h"

using namespace pyitest;

namespace {

struct SimpleTrace {
    pyi_writer *w = nullptr;
    uint32_t thread = 0, stack = 0;
    uint64_t now = 5000000000ull;

    int open(const std::string &path, pyi_writer_options *o = nullptr)
    {
        pyi_header h = basic_header();
        int rc = pyi_writer_open(&w, path.c_str(), &h, o);
        if (rc)
            return rc;
        return define();
    }

    int define()
    {
        uint32_t name = 0, file = 0, fn = 0, loc = 0, tname = 0;
        int rc = pyi_writer_intern_string(w, "work", 4, &name);
        if (!rc)
            rc = pyi_writer_intern_string(w, "a.py", 4, &file);
        if (!rc)
            rc = pyi_writer_intern_function(w, name, file, 1, 0, &fn);
        if (!rc)
            rc = pyi_writer_intern_location(w, fn, 2, &loc);
        if (!rc)
            rc = pyi_writer_intern_stack(w, 0, loc, &stack);
        if (!rc)
            rc = pyi_writer_intern_string(w, "MainThread", 10, &tname);
        pyi_thread t = {0, 1, 99, tname, PYI_THREAD_MAIN};
        if (!rc)
            rc = pyi_writer_add_thread(w, &t, &thread);
        return rc;
    }

    int sample()
    {
        now += 1000000;
        pyi_sample s = {thread, stack, now, 1000000, PYI_CPU_UNKNOWN, PYI_STATUS_ON_CPU};
        return pyi_writer_add_sample(w, &s);
    }
};

pyi_reader_stats read_stats(const std::string &path, int *rc)
{
    TempFile unused;
    std::vector<uint8_t> bytes;
    FILE *f = fopen(path.c_str(), "rb");
    uint8_t buf[4096];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0)
        bytes.insert(bytes.end(), buf, buf + n);
    if (f)
        fclose(f);
    std::string dump;
    pyi_reader_stats stats{};
    *rc = dump_bytes(bytes, &dump, false, &stats);
    return stats;
}

} // namespace

TEST(Writer, FlushMakesEveryAcknowledgedRecordReadable)
{
    for (int threaded = 0; threaded < 2; threaded++) {
        TempFile file;
        pyi_writer_options o;
        pyi_writer_options_init(&o);
        o.threaded = threaded;
        SimpleTrace t;
        ASSERT_EQ(t.open(file.path, &o), PYI_OK);
        for (int i = 0; i < 1000; i++)
            ASSERT_EQ(t.sample(), PYI_OK);
        ASSERT_EQ(pyi_writer_flush(t.w), PYI_OK);
        int rc;
        pyi_reader_stats s = read_stats(file.path, &rc);
        EXPECT_EQ(rc, PYI_OK);
        EXPECT_EQ(s.samples, 1000u) << "threaded=" << threaded;
        EXPECT_FALSE(s.truncated);
        EXPECT_FALSE(s.has_end); // still open
        for (int i = 0; i < 10; i++)
            ASSERT_EQ(t.sample(), PYI_OK);
        ASSERT_EQ(pyi_writer_close(t.w), PYI_OK);
        EXPECT_EQ(pyi_writer_close(t.w), PYI_OK) << "closing twice is harmless";
        EXPECT_EQ(t.sample(), PYI_E_STATE);
        pyi_writer_free(t.w);
        s = read_stats(file.path, &rc);
        EXPECT_EQ(rc, PYI_OK);
        EXPECT_EQ(s.samples, 1010u);
        EXPECT_TRUE(s.has_end);
        EXPECT_TRUE(s.has_index);
    }
}

TEST(Writer, ChunksCloseBySizeAndByAge)
{
    TempFile file;
    pyi_writer_options o;
    pyi_writer_options_init(&o);
    o.chunk_bytes = 4096;
    SimpleTrace t;
    ASSERT_EQ(t.open(file.path, &o), PYI_OK);
    for (int i = 0; i < 5000; i++)
        ASSERT_EQ(t.sample(), PYI_OK);
    pyi_writer_stats ws;
    pyi_writer_get_stats(t.w, &ws);
    EXPECT_GE(ws.chunks_written, 5u) << "5000 samples of ~8 bytes in 4 KiB chunks";
    pyi_writer_free(t.w);

    TempFile aged;
    pyi_writer_options_init(&o);
    o.chunk_age_ms = 20;
    SimpleTrace u;
    ASSERT_EQ(u.open(aged.path, &o), PYI_OK);
    ASSERT_EQ(u.sample(), PYI_OK);
    pyi_writer_get_stats(u.w, &ws);
    EXPECT_EQ(ws.chunks_written, 0u);
    usleep(60 * 1000);
    ASSERT_EQ(u.sample(), PYI_OK); // the chunk is now older than 20 ms: it closes
    pyi_writer_get_stats(u.w, &ws);
    EXPECT_EQ(ws.chunks_written, 1u);
    int rc;
    pyi_reader_stats s = read_stats(aged.path, &rc);
    EXPECT_EQ(s.samples, 2u) << "written without any flush";
    pyi_writer_free(u.w); // free without close: kept, but not closed cleanly
    s = read_stats(aged.path, &rc);
    EXPECT_EQ(rc, PYI_OK);
    EXPECT_EQ(s.samples, 2u);
    EXPECT_FALSE(s.has_end);
}

TEST(Writer, BadArgumentsAreRefusedWithoutHarm)
{
    TempFile file;
    SimpleTrace t;
    ASSERT_EQ(t.open(file.path), PYI_OK);
    uint32_t id;
    EXPECT_EQ(pyi_writer_intern_function(t.w, 99, 0, 0, 0, &id), PYI_E_INVALID_ARG);
    EXPECT_NE(strstr(pyi_writer_error_detail(t.w), "undefined"), nullptr);
    EXPECT_EQ(pyi_writer_intern_location(t.w, 99, 0, &id), PYI_E_INVALID_ARG);
    EXPECT_EQ(pyi_writer_intern_stack(t.w, 99, 1, &id), PYI_E_INVALID_ARG);
    pyi_sample s = {77, 0, 1, 1, PYI_CPU_UNKNOWN, 0};
    EXPECT_EQ(pyi_writer_add_sample(t.w, &s), PYI_E_INVALID_ARG);
    pyi_marker m = {0, 0, 0, 0, nullptr, 0};
    EXPECT_EQ(pyi_writer_add_marker(t.w, &m), PYI_E_INVALID_ARG);
    EXPECT_EQ(t.sample(), PYI_OK) << "the writer still works";
    EXPECT_EQ(pyi_writer_close(t.w), PYI_OK);
    pyi_writer_free(t.w);
    int rc;
    EXPECT_EQ(read_stats(file.path, &rc).samples, 1u);
    EXPECT_EQ(rc, PYI_OK);
}

TEST(Writer, OpenErrorsNameTheFile)
{
    pyi_header h = basic_header();
    pyi_writer *w;
    EXPECT_EQ(pyi_writer_open(&w, "/nonexistent/dir/t.pyitrace", &h, nullptr), PYI_E_IO);
    EXPECT_NE(strstr(pyi_writer_error_detail(w), "/nonexistent/dir/t.pyitrace: cannot create"),
              nullptr)
        << pyi_writer_error_detail(w);
    pyi_writer_free(w);
    h.mode = nullptr;
    TempFile file;
    EXPECT_EQ(pyi_writer_open(&w, file.path.c_str(), &h, nullptr), PYI_E_INVALID_ARG);
    pyi_writer_free(w);
    h = basic_header();
    EXPECT_EQ(pyi_writer_open(&w, "/dev/full", &h, nullptr), PYI_E_IO);
    EXPECT_NE(strstr(pyi_writer_error_detail(w), "No space left"), nullptr);
    pyi_writer_free(w);
}

TEST(Writer, AWriteFailureOnTheWriterThreadIsStickyAndReported)
{
    signal(SIGPIPE, SIG_IGN);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pyi_header h = basic_header();
    pyi_writer_options o;
    pyi_writer_options_init(&o);
    o.threaded = 1;
    o.chunk_bytes = 4096;
    pyi_writer *w;
    char drain[65536];
    std::thread reader([&] { (void)!read(fds[0], drain, sizeof(drain)); close(fds[0]); });
    ASSERT_EQ(pyi_writer_open_fd(&w, fds[1], 1, "pipe", &h, &o), PYI_OK);
    reader.join(); // the header was read; nobody reads anymore
    SimpleTrace t;
    t.w = w;
    ASSERT_EQ(t.define(), PYI_OK);
    int rc = PYI_OK;
    for (int i = 0; i < 100000 && rc == PYI_OK; i++)
        rc = t.sample();
    if (rc == PYI_OK)
        rc = pyi_writer_flush(w);
    EXPECT_EQ(rc, PYI_E_IO);
    EXPECT_NE(strstr(pyi_writer_error_detail(w), "Broken pipe"), nullptr)
        << pyi_writer_error_detail(w);
    EXPECT_EQ(pyi_writer_close(w), PYI_E_IO);
    pyi_writer_free(w);
}

TEST(Writer, StreamsThroughAPipeToAConcurrentReader)
{
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    uint64_t samples = 0;
    int read_rc = -100;
    std::thread consumer([&] {
        pyi_reader *r;
        read_rc = pyi_reader_open_fd(&r, fds[0], "pipe", nullptr);
        pyi_record rec;
        if (read_rc == PYI_OK)
            while ((read_rc = pyi_reader_next(r, &rec)) == 1)
                samples += rec.type == PYI_RECORD_SAMPLE;
        EXPECT_TRUE(pyi_reader_get_stats(r)->has_index);
        pyi_reader_free(r);
        close(fds[0]);
    });
    pyi_header h = basic_header();
    pyi_writer_options o;
    pyi_writer_options_init(&o);
    o.threaded = 1;
    SimpleTrace t;
    ASSERT_EQ(pyi_writer_open_fd(&t.w, fds[1], 1, "pipe", &h, &o), PYI_OK);
    ASSERT_EQ(t.define(), PYI_OK);
    for (int i = 0; i < 50000; i++)
        ASSERT_EQ(t.sample(), PYI_OK);
    ASSERT_EQ(pyi_writer_close(t.w), PYI_OK);
    pyi_writer_free(t.w);
    consumer.join();
    EXPECT_EQ(read_rc, 0);
    EXPECT_EQ(samples, 50000u);
}

TEST(Writer, AForkedChildCanAbandonItsCopy)
{
    TempFile file;
    pyi_writer_options o;
    pyi_writer_options_init(&o);
    o.threaded = 1;
    SimpleTrace t;
    ASSERT_EQ(t.open(file.path, &o), PYI_OK);
    for (int i = 0; i < 100; i++)
        ASSERT_EQ(t.sample(), PYI_OK);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        pyi_writer_abandon(t.w); // no writer thread here: must not wait for it
        _exit(0);
    }
    int status;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int i = 0; i < 100; i++)
        ASSERT_EQ(t.sample(), PYI_OK);
    ASSERT_EQ(pyi_writer_close(t.w), PYI_OK);
    pyi_writer_free(t.w);
    int rc;
    pyi_reader_stats s = read_stats(file.path, &rc);
    EXPECT_EQ(rc, PYI_OK);
    EXPECT_EQ(s.samples, 200u) << "the child wrote nothing";
}

namespace {

struct FailingAllocator {
    long budget; // allocations left before failing; < 0 = never fail
    long count = 0;
};

void *failing_malloc(void *ctx, size_t size)
{
    auto *f = static_cast<FailingAllocator *>(ctx);
    if (f->budget >= 0 && f->count++ >= f->budget)
        return nullptr;
    return malloc(size);
}

void *failing_realloc(void *ctx, void *ptr, size_t size)
{
    auto *f = static_cast<FailingAllocator *>(ctx);
    if (f->budget >= 0 && f->count++ >= f->budget)
        return nullptr;
    return realloc(ptr, size);
}

void failing_free(void *, void *ptr)
{
    free(ptr);
}

} // namespace

TEST(Writer, EveryAllocationFailureIsAnErrorNotACrash)
{
    int failures = 0;
    for (long budget = 0; budget < 400; budget++) {
        FailingAllocator f{budget};
        pyi_allocator a = {failing_malloc, failing_realloc, failing_free, &f};
        pyi_writer_options o;
        pyi_writer_options_init(&o);
        o.allocator = &a;
        o.chunk_bytes = 4096;
        TempFile file;
        SimpleTrace t;
        int rc = t.open(file.path, &o);
        for (int i = 0; i < 2000 && rc == PYI_OK; i++)
            rc = t.sample();
        if (rc == PYI_OK)
            rc = pyi_writer_close(t.w);
        pyi_writer_free(t.w);
        if (rc != PYI_OK) {
            EXPECT_TRUE(rc == PYI_E_NOMEM) << budget << ": " << pyi_err_name(rc);
            failures++;
        } else {
            int read_rc;
            EXPECT_EQ(read_stats(file.path, &read_rc).samples, 2000u);
        }
    }
    EXPECT_GT(failures, 10);
}

namespace {

std::string value_json(const pyi_value &v)
{
    char *text = nullptr;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    EXPECT_EQ(pyi_value_print_json(&v, out), 0);
    fclose(out);
    std::string result(text, size);
    free(text);
    return result;
}

} // namespace

TEST(Writer, StringArraysBecomeRawValuesKeepingTheLeadingItemsThatFit)
{
    std::string long_item(300, 'x');
    const char *items[] = {"python3", "-c", "print('é')", long_item.c_str()};
    unsigned char buffer[512];
    pyi_value v;
    EXPECT_EQ(pyi_value_from_strings(items, 4, buffer, sizeof buffer, &v), 4u);
    EXPECT_EQ(v.kind, PYI_VALUE_RAW);
    EXPECT_EQ(value_json(v), "[\"python3\",\"-c\",\"print('é')\",\"" + long_item + "\"]");
    // 300 bytes plus a 3-byte header do not fit in 64: the first three do.
    EXPECT_EQ(pyi_value_from_strings(items, 4, buffer, 64, &v), 3u);
    EXPECT_EQ(value_json(v), "[\"python3\",\"-c\",\"print('é')\"]");
    EXPECT_EQ(pyi_value_from_strings(items, 0, buffer, 1, &v), 0u);
    EXPECT_EQ(value_json(v), "[]");
}
