// SPDX-License-Identifier: MIT
// Reader behaviour: the spec vectors, lookups, callbacks, messages, inputs
// (files, pipes, directories) and allocation failures.
#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "fixture.h"

using namespace pyitest;

namespace {

std::vector<uint8_t> read_file(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
}

std::string read_text(const std::string &path)
{
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> vectors(const char *suffix)
{
    std::vector<std::string> names;
    std::string dir = std::string(PYI_SOURCE_DIR) + "/spec/vectors";
    DIR *d = opendir(dir.c_str());
    for (struct dirent *e; d && (e = readdir(d));) {
        std::string n = e->d_name;
        if (n.size() > strlen(suffix) && n.compare(n.size() - strlen(suffix), strlen(suffix), suffix) == 0)
            names.push_back(dir + "/" + n.substr(0, n.size() - strlen(suffix)));
    }
    if (d)
        closedir(d);
    return names;
}

} // namespace

TEST(Reader, SpecVectorsDecodeToTheirCanonicalDumps)
{
    auto names = vectors(".json");
    ASSERT_GE(names.size(), 5u);
    for (const auto &base : names) {
        std::string dump;
        ASSERT_EQ(dump_bytes(read_file(base + ".pyitrace"), &dump), PYI_OK) << base;
        EXPECT_EQ(dump, read_text(base + ".json")) << base;
    }
}

TEST(Reader, InvalidSpecVectorsFailWithTheirError)
{
    auto names = vectors(".expect");
    ASSERT_GE(names.size(), 20u);
    for (const auto &base : names) {
        std::string dump, expected = read_text(base + ".expect");
        int rc = dump_bytes(read_file(base + ".pyitrace"), &dump);
        EXPECT_EQ(std::string(pyi_err_name(rc)) + "\n", expected) << base;
        // salvage never crashes on them either
        dump_bytes(read_file(base + ".pyitrace"), &dump, true);
    }
}

TEST(Reader, LookupsAndCallbacks)
{
    std::string path = std::string(PYI_SOURCE_DIR) + "/spec/vectors/basic.pyitrace";
    pyi_reader *r;
    ASSERT_EQ(pyi_reader_open(&r, path.c_str(), nullptr), PYI_OK);
    struct Counts {
        int strings = 0, samples = 0, threads = 0, chunks = 0, ends = 0, header = 0;
    } counts;
    pyi_reader_callbacks cb = {};
    cb.on_header = [](void *c, const pyi_header *h) {
        static_cast<Counts *>(c)->header = h->pid == 4242;
        return 0;
    };
    cb.on_string = [](void *c, uint32_t, const char *, size_t) {
        static_cast<Counts *>(c)->strings++;
        return 0;
    };
    cb.on_sample = [](void *c, const pyi_sample *) {
        static_cast<Counts *>(c)->samples++;
        return 0;
    };
    cb.on_thread = [](void *c, const pyi_thread *) {
        static_cast<Counts *>(c)->threads++;
        return 0;
    };
    cb.on_chunk = [](void *c, const pyi_chunk_info *) {
        static_cast<Counts *>(c)->chunks++;
        return 0;
    };
    cb.on_end = [](void *c, const pyi_meta_entry *, size_t n) {
        static_cast<Counts *>(c)->ends += n == 3;
        return 0;
    };
    ASSERT_EQ(pyi_reader_run(r, &cb, &counts), 0);
    EXPECT_EQ(counts.header, 1);
    EXPECT_EQ(counts.strings, 8);
    EXPECT_EQ(counts.samples, 8);
    EXPECT_EQ(counts.threads, 4); // three definitions and one rename
    EXPECT_EQ(counts.chunks, 2);
    EXPECT_EQ(counts.ends, 1);
    size_t length;
    EXPECT_STREQ(pyi_reader_string(r, 4, &length), "函数");
    EXPECT_EQ(length, strlen("函数"));
    EXPECT_EQ(pyi_reader_string(r, 99, nullptr), nullptr);
    EXPECT_EQ(pyi_reader_function(r, 4)->kind, PYI_FUNCTION_NATIVE);
    EXPECT_EQ(pyi_reader_stack(r, 3)->depth, 3u);
    EXPECT_EQ(pyi_reader_stack(r, 3)->parent_id, 2u);
    EXPECT_EQ(pyi_reader_thread(r, 2)->name_id, 6u) << "renamed";
    EXPECT_EQ(pyi_reader_process(r, 2)->pid, 5000);
    EXPECT_EQ(pyi_reader_process(r, 1)->pid, 4242);
    const pyi_header *h = pyi_reader_header(r);
    EXPECT_EQ(h->argc, 3u);
    EXPECT_STREQ(h->argv[2], "--flag");
    EXPECT_EQ(h->max_depth, 1024u);
    ASSERT_EQ(h->extra_count, 1u);
    EXPECT_STREQ(h->extra[0].key, "custom.note");
    pyi_reader_free(r);
}

TEST(Reader, ErrorsNameTheFileAndTheProblem)
{
    pyi_reader *r;
    EXPECT_EQ(pyi_reader_open(&r, "/nonexistent/x.pyitrace", nullptr), PYI_E_IO);
    EXPECT_STREQ(pyi_reader_error_detail(r),
                 "/nonexistent/x.pyitrace: cannot open: No such file or directory");
    pyi_reader_free(r);
    EXPECT_EQ(pyi_reader_open(&r, "/tmp", nullptr), PYI_E_IO);
    EXPECT_STREQ(pyi_reader_error_detail(r), "/tmp: is a directory, not a trace file");
    pyi_reader_free(r);
    std::string newer = std::string(PYI_SOURCE_DIR) + "/spec/vectors/invalid_newer_major.pyitrace";
    EXPECT_EQ(pyi_reader_open(&r, newer.c_str(), nullptr), PYI_E_VERSION);
    std::string detail = pyi_reader_error_detail(r);
    EXPECT_NE(detail.find("format 2.3 (written by pyinst 9.9)"), std::string::npos) << detail;
    EXPECT_NE(detail.find("(format 1.0)"), std::string::npos) << detail;
    pyi_reader_free(r);
}

TEST(Reader, ReadsFromAPipe)
{
    std::string path = std::string(PYI_SOURCE_DIR) + "/spec/vectors/basic.pyitrace";
    std::vector<uint8_t> bytes = read_file(path);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::thread feeder([&] {
        for (size_t i = 0; i < bytes.size(); i += 7) // tiny writes: the window must grow
            (void)!write(fds[1], bytes.data() + i, std::min<size_t>(7, bytes.size() - i));
        close(fds[1]);
    });
    pyi_reader *r;
    ASSERT_EQ(pyi_reader_open_fd(&r, fds[0], "pipe", nullptr), PYI_OK);
    pyi_record rec;
    int rc, samples = 0;
    while ((rc = pyi_reader_next(r, &rec)) == 1)
        samples += rec.type == PYI_RECORD_SAMPLE;
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(samples, 8);
    EXPECT_TRUE(pyi_reader_get_stats(r)->has_index);
    pyi_reader_free(r);
    feeder.join();
    close(fds[0]);
}

namespace {

struct Budget {
    long left;
};

void *budget_malloc(void *ctx, size_t size)
{
    auto *b = static_cast<Budget *>(ctx);
    return b->left-- > 0 ? malloc(size) : nullptr;
}

void *budget_realloc(void *ctx, void *p, size_t size)
{
    auto *b = static_cast<Budget *>(ctx);
    return b->left-- > 0 ? realloc(p, size) : nullptr;
}

void budget_free(void *, void *p)
{
    free(p);
}

} // namespace

TEST(Reader, EveryAllocationFailureIsAnErrorNotACrash)
{
    TempFile file;
    RandomTraceOptions o;
    o.samples = 500;
    write_random_trace(file.path, o);
    std::vector<uint8_t> bytes = file.read();
    int failures = 0;
    for (long budget = 0; budget < 300; budget++) {
        Budget b{budget};
        pyi_allocator a = {budget_malloc, budget_realloc, budget_free, &b};
        pyi_reader_options ro;
        pyi_reader_options_init(&ro);
        ro.allocator = &a;
        pyi_reader *r = nullptr;
        int rc = pyi_reader_open_memory(&r, bytes.data(), bytes.size(), "mem", &ro);
        pyi_record rec;
        while (rc == PYI_OK && (rc = pyi_reader_next(r, &rec)) == 1)
            rc = PYI_OK;
        if (rc < 0) {
            EXPECT_EQ(rc, PYI_E_NOMEM) << budget << ": " << (r ? pyi_reader_error_detail(r) : "");
            failures++;
        }
        pyi_reader_free(r);
    }
    EXPECT_GT(failures, 5);
}
