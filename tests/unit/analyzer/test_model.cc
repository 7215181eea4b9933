// SPDX-License-Identifier: MIT
// The model: aggregation, threads, merging traces, errors, truncation,
// timelines, writing the model back, and re-encoding.
#include <gtest/gtest.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analyzer_test_util.h"

namespace {

// <module> -> a -> sleep (3 x 100 ms, waiting), <module> -> b (100 ms),
// <module> -> a -> b (100 ms): the abcde-like shape of pyinstrument's tests.
const char *write_tiny(TraceBuilder &tb)
{
    uint32_t th = tb.thread("MainThread", 100);
    uint32_t sleep = tb.stack("app.py|<module>|10|1;app.py|a|4|3;|sleep|0|native");
    uint32_t b = tb.stack("app.py|<module>|11|1;app.py|b|8|7");
    uint32_t ab = tb.stack("app.py|<module>|10|1;app.py|a|5|3;app.py|b|8|7");
    for (int i = 0; i < 3; i++)
        tb.sample(th, sleep, 100, false, 1);
    tb.sample(th, b, 100, true, 100);
    tb.sample(th, ab, 100, true, 100);
    return tb.close();
}

uint32_t function_named(const pyi_model *m, const char *name)
{
    for (uint32_t id = 1; id <= pyi_model_get_info(m)->function_count; id++)
        if (!strcmp(pyi_model_function_get(m, id)->name, name))
            return id;
    return 0;
}

TEST(Model, AggregatesIntoAnExactTree)
{
    TraceBuilder tb;
    pyi_model *m = load(write_tiny(tb));
    EXPECT_EQ(tree_text(m),
              "[root] 500/0\n"
              "  <module> 500/0\n"
              "    a 400/0\n"
              "      sleep 300/300\n"
              "      b 100/100\n"
              "    b 100/100\n");
    const pyi_model_info *info = pyi_model_get_info(m);
    EXPECT_EQ(info->totals.samples, 5u);
    EXPECT_EQ(info->totals.wall_ns, 500 * MS);
    EXPECT_EQ(info->totals.on_cpu_ns, 200 * MS);
    EXPECT_EQ(info->totals.cpu_ns, 203 * MS);
    EXPECT_EQ(info->thread_count, 1u);
    EXPECT_EQ(info->aggregate_count, 3u);
    EXPECT_EQ(info->duration_ns, 500 * MS);
    pyi_model_free(m);
}

TEST(Model, SelfNodesCompleteTheParent)
{
    TraceBuilder tb;
    uint32_t th = tb.thread("MainThread");
    uint32_t mod = tb.stack("app.py|<module>|1");
    uint32_t a = tb.stack("app.py|<module>|2;app.py|a|5");
    tb.sample(th, mod, 30);
    tb.sample(th, a, 70);
    pyi_model *m = load(tb.close());
    pyi_tree_options o;
    pyi_tree_options_init(&o);
    EXPECT_EQ(tree_text(m, o), "[root] 100/0\n"
                               "  <module> 100/30\n"
                               "    a 70/70\n"
                               "    [self] 30/30\n");
    pyi_model_free(m);
}

TEST(Model, FunctionAndLineTotalsCountRecursionOnce)
{
    TraceBuilder tb;
    uint32_t th = tb.thread("MainThread");
    uint32_t rec = tb.stack("app.py|main|1;app.py|f|10;app.py|f|11;app.py|f|12");
    uint32_t one = tb.stack("app.py|main|1;app.py|f|10");
    tb.sample(th, rec, 40);
    tb.sample(th, one, 60);
    pyi_model *m = load(tb.close());
    pyi_function_total *totals = nullptr;
    size_t count = 0;
    ASSERT_EQ(pyi_model_function_totals(m, nullptr, &totals, &count), 0);
    ASSERT_EQ(count, 2u);
    EXPECT_STREQ(pyi_model_function_get(m, totals[0].function)->name, "f");
    EXPECT_EQ(totals[0].self.wall_ns, 100 * MS);
    EXPECT_EQ(totals[0].total.wall_ns, 100 * MS); // not 140: once per sample
    EXPECT_EQ(totals[1].total.wall_ns, 100 * MS);
    EXPECT_EQ(totals[1].self.wall_ns, 0u);
    free(totals);
    pyi_line_total *lines = nullptr;
    ASSERT_EQ(pyi_model_line_totals(m, nullptr, &lines, &count), 0);
    ASSERT_EQ(count, 4u); // main:1, f:10, f:11, f:12
    EXPECT_EQ(pyi_model_location_get(m, lines[0].location)->line, 10u);
    EXPECT_EQ(lines[0].self.wall_ns, 60 * MS);
    EXPECT_EQ(lines[0].total.wall_ns, 100 * MS);
    EXPECT_EQ(pyi_model_location_get(m, lines[1].location)->line, 12u);
    EXPECT_EQ(lines[1].self.wall_ns, 40 * MS);
    free(lines);
    pyi_model_free(m);
}

TEST(Model, ThreadsIdleThreadsAndThreadRoots)
{
    TraceBuilder tb;
    uint32_t main = tb.thread("MainThread", 10, true);
    uint32_t worker = tb.thread("worker", 11, false);
    uint32_t idle = tb.thread("idle", 12, false);
    uint32_t work = tb.stack("w.py|run|3;|hash|0|native");
    uint32_t mod = tb.stack("app.py|<module>|1");
    tb.sample(main, mod, 10);
    tb.sample(worker, work, 20);
    tb.sample(idle, 0, 30, false);
    pyi_model *m = load(tb.close());
    pyi_tree_options o;
    pyi_tree_options_init(&o);
    o.self_nodes = 0;
    o.thread_roots = 1;
    EXPECT_EQ(tree_text(m, o), "[root] 60/0\n"
                               "  thread:idle 30/0\n"
                               "    [no stack] 30/30\n"
                               "  thread:worker 20/0\n"
                               "    run 20/0\n"
                               "      hash 20/20\n"
                               "  thread:MainThread 10/0\n"
                               "    <module> 10/10\n");
    o.thread_roots = 0;
    o.view.thread = 2;
    EXPECT_EQ(tree_text(m, o), "[root] 20/0\n  run 20/0\n    hash 20/20\n");
    const pyi_model_thread *t = pyi_model_thread_get(m, 1);
    EXPECT_STREQ(t->name, "MainThread");
    EXPECT_TRUE(t->is_main);
    EXPECT_EQ(t->native_id, 10u);
    EXPECT_EQ(pyi_model_thread_get(m, 3)->totals.wall_ns, 30 * MS);
    o.view.thread = 9;
    pyi_tree *tree = nullptr;
    EXPECT_EQ(pyi_tree_build(&tree, m, &o), PYI_E_INVALID_ARG);
    pyi_model_free(m);
}

TEST(Model, NativeLeavesAreTheirOwnFrames)
{
    TraceBuilder tb;
    pyi_model *m = load(write_tiny(tb));
    const pyi_model_function *f = pyi_model_function_get(m, function_named(m, "sleep"));
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->kind, (uint32_t)PYI_FUNCTION_NATIVE);
    EXPECT_TRUE(f->code & PYI_CODE_NATIVE);
    pyi_model_free(m);
}

TEST(Model, MergesTracesFromDifferentHostsByNormalisedPath)
{
    fx_header h1 = {}, h2 = {};
    h1.cwd = "/home/alice/proj";
    h2.cwd = "/srv/app";
    TraceBuilder t1(&h1), t2(&h2);
    uint32_t a = t1.thread("MainThread", 1);
    uint32_t b = t2.thread("MainThread", 2);
    t1.sample(a, t1.stack("/home/alice/proj/main.py|main|3;"
                          "/home/alice/.venv/lib/python3.11/site-packages/requests/api.py|get|10"),
              10);
    t2.sample(b, t2.stack("/srv/app/main.py|main|3;"
                          "/usr/local/lib/python3.12/site-packages/requests/api.py|get|10"),
              30);
    pyi_model *m = load({t1.close(), t2.close()});
    const pyi_model_info *info = pyi_model_get_info(m);
    EXPECT_EQ(info->source_count, 2u);
    EXPECT_EQ(info->thread_count, 2u); // threads stay apart...
    EXPECT_EQ(info->function_count, 2u); // ...functions merge
    uint32_t get = function_named(m, "get");
    EXPECT_STREQ(pyi_model_function_get(m, get)->file, "requests/api.py");
    EXPECT_STREQ(pyi_model_function_get(m, get)->library, "requests");
    EXPECT_TRUE(pyi_model_function_get(m, get)->code & PYI_CODE_SITE);
    EXPECT_STREQ(pyi_model_function_get(m, function_named(m, "main"))->file, "main.py");
    EXPECT_EQ(tree_text(m, 0), "[root] 40/0\n  main 40/0\n    get 40/40\n");
    pyi_model_free(m);
}

TEST(Model, ClassifiesPaths)
{
    TraceBuilder tb;
    uint32_t th = tb.thread("MainThread");
    tb.sample(th, tb.stack("/usr/lib/python3.11/json/encoder.py|encode|1;"
                           "<frozen importlib._bootstrap>|_find_and_load|2;"
                           "/opt/x/lib/python3.13t/site-packages/pyinst/__init__.py|stop|3;"
                           "<frozen runpy>|_run_code|4;/elsewhere/tool.py|go|5;"
                           "/home/u/pyinst/app.py|mine|6"),
              1);
    pyi_model *m = load(tb.close());
    auto fn = [&](const char *name) { return pyi_model_function_get(m, function_named(m, name)); };
    EXPECT_STREQ(fn("encode")->file, "json/encoder.py");
    EXPECT_EQ(fn("encode")->code, PYI_CODE_STDLIB);
    EXPECT_EQ(fn("_find_and_load")->code, PYI_CODE_STDLIB | PYI_CODE_IMPORTLIB);
    EXPECT_TRUE(fn("stop")->code & PYI_CODE_PROFILER);
    EXPECT_STREQ(fn("_run_code")->library, "runpy");
    EXPECT_STREQ(fn("go")->file, "/elsewhere/tool.py");
    EXPECT_EQ(fn("go")->code, PYI_CODE_APP);
    EXPECT_EQ(fn("mine")->code, PYI_CODE_APP); // a project named pyinst is not pyinst
    pyi_model_free(m);
}

TEST(Model, ErrorsNameTheFile)
{
    pyi_model *m = nullptr;
    char detail[512];
    const char *missing[] = {"/nonexistent/x.pyitrace"};
    EXPECT_EQ(pyi_model_load(&m, missing, 1, nullptr, detail, sizeof(detail)), PYI_E_IO);
    EXPECT_NE(strstr(detail, "/nonexistent/x.pyitrace"), nullptr) << detail;
    EXPECT_EQ(m, nullptr);
    TempPath empty(".pyitrace");
    FILE *f = fopen(empty.c_str(), "w");
    fclose(f);
    const char *e[] = {empty.c_str()};
    EXPECT_EQ(pyi_model_load(&m, e, 1, nullptr, detail, sizeof(detail)), PYI_E_EMPTY);
    TempPath text(".txt");
    f = fopen(text.c_str(), "w");
    fputs("hello, this is not a trace\n", f);
    fclose(f);
    const char *t[] = {text.c_str()};
    EXPECT_EQ(pyi_model_load(&m, t, 1, nullptr, detail, sizeof(detail)), PYI_E_NOT_TRACE);
    pyi_model_options o;
    pyi_model_options_init(&o);
    o.filter.focus = "(unclosed";
    EXPECT_EQ(pyi_model_new(&m, &o), PYI_E_INVALID_ARG);
    EXPECT_NE(strstr(pyi_model_error_detail(m), "(unclosed"), nullptr);
    pyi_model_free(m);
}

TEST(Model, TruncatedTraceLoadsTheIntactChunksWithAWarning)
{
    TraceBuilder tb;
    uint32_t th = tb.thread("MainThread");
    uint32_t s = tb.stack("app.py|main|1");
    tb.sample(th, s, 10);
    ASSERT_EQ(pyi_writer_flush(tb.t.w), 0); // chunk 1 complete
    tb.sample(th, s, 10);
    const char *path = tb.close(true); // as if killed: no END, no index
    // Cut the file inside its last frame.
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    ASSERT_EQ(truncate(path, size - 10), 0);
    pyi_model *m = load(path);
    const pyi_model_source *src = pyi_model_source_get(m, 1);
    EXPECT_TRUE(src->truncated);
    EXPECT_NE(strstr(src->warning, "truncated"), nullptr) << src->warning;
    EXPECT_EQ(pyi_model_get_info(m)->totals.samples, 1u);
    pyi_model_free(m);
}

TEST(Model, TimelineIsBoundedAndAddsUp)
{
    TraceBuilder tb;
    uint32_t th = tb.thread("MainThread");
    uint32_t a = tb.stack("app.py|a|1");
    uint32_t b = tb.stack("app.py|b|1");
    for (int i = 0; i < 1000; i++)
        tb.sample(th, i < 700 ? a : b, 1);
    pyi_model_options o;
    pyi_model_options_init(&o);
    o.timeline_buckets = 16;
    pyi_model *m = load(tb.close(), &o);
    size_t count = 0;
    uint64_t width = 0;
    const pyi_timeline_bucket *buckets = pyi_model_timeline(m, 1, &count, &width);
    ASSERT_NE(buckets, nullptr);
    EXPECT_LE(count, 16u);
    EXPECT_GE(width * count, 999 * MS);
    EXPECT_LE(buckets[0].start_ns, 1 * MS); // the first sample is stamped at 1 ms
    uint64_t wall = 0, samples = 0;
    for (size_t i = 0; i < count; i++) {
        wall += buckets[i].totals.wall_ns;
        samples += buckets[i].totals.samples;
        EXPECT_EQ(buckets[i].start_ns, buckets[0].start_ns + i * width);
        EXPECT_EQ(buckets[i].start_ns % width, 0u);
    }
    EXPECT_EQ(wall, 1000 * MS);
    EXPECT_EQ(samples, 1000u);
    EXPECT_EQ(pyi_model_stack_get(m, buckets[0].top_stack)->location,
              pyi_model_stack_get(m, buckets[0].top_stack)->location);
    // The first buckets are all a, the last all b.
    const pyi_model_location *first = pyi_model_location_get(
        m, pyi_model_stack_get(m, buckets[0].top_stack)->location);
    const pyi_model_location *last = pyi_model_location_get(
        m, pyi_model_stack_get(m, buckets[count - 1].top_stack)->location);
    EXPECT_STREQ(pyi_model_function_get(m, first->function)->name, "a");
    EXPECT_STREQ(pyi_model_function_get(m, last->function)->name, "b");
    EXPECT_EQ(pyi_model_timeline(m, 7, &count, &width), nullptr);
    pyi_model_free(m);
}

TEST(Model, TimelineOfALateShortThreadIsSmall)
{
    TraceBuilder tb;
    uint32_t main = tb.thread("MainThread", 1, true);
    uint32_t late = tb.thread("late", 2, false);
    uint32_t a = tb.stack("app.py|a|1");
    for (int i = 0; i < 5000; i++)
        tb.sample(main, a, 1);
    for (int i = 0; i < 5; i++)
        tb.sample(late, a, 1);
    pyi_model_options o;
    pyi_model_options_init(&o);
    o.timeline_buckets = 64; // main's 5000 ms need halvings with unaligned origins
    pyi_model *m = load(tb.close(), &o);
    size_t count = 0;
    uint64_t width = 0;
    const pyi_timeline_bucket *b = pyi_model_timeline(m, 2, &count, &width);
    ASSERT_NE(b, nullptr);
    EXPECT_LE(count, 6u);
    EXPECT_GE(b[0].start_ns, 5000 * MS);
    b = pyi_model_timeline(m, 1, &count, &width);
    uint64_t samples = 0;
    for (size_t i = 0; i < count; i++)
        samples += b[i].totals.samples;
    EXPECT_EQ(samples, 5000u);
    EXPECT_LE(count, 64u);
    EXPECT_LE(b[0].start_ns, 1 * MS);
    EXPECT_GE(b[count - 1].start_ns + width, 5000 * MS);
    pyi_model_free(m);
}

TEST(Model, MemoryGrowsWithStacksNotSamples)
{
    auto aggregates_for = [](int rounds) {
        TraceBuilder tb;
        uint32_t th = tb.thread("MainThread");
        uint32_t s[3] = {tb.stack("a.py|x|1"), tb.stack("a.py|x|1;a.py|y|2"),
                         tb.stack("a.py|x|1;a.py|z|3")};
        for (int i = 0; i < rounds; i++)
            tb.sample(th, s[i % 3], 1);
        pyi_model *m = load(tb.close());
        size_t n = pyi_model_get_info(m)->aggregate_count + pyi_model_get_info(m)->stack_count;
        EXPECT_EQ(pyi_model_get_info(m)->totals.samples, (uint64_t)rounds);
        pyi_model_free(m);
        return n;
    };
    EXPECT_EQ(aggregates_for(300), aggregates_for(30000));
}

TEST(Model, WritesItselfBackAsATrace)
{
    TraceBuilder t1, t2;
    pyi_model *m = load({write_tiny(t1), write_tiny(t2)});
    TempPath out;
    ASSERT_EQ(pyi_model_write_trace(m, out.c_str()), 0) << pyi_model_error_detail(m);
    pyi_model *back = load(out.c_str());
    const pyi_model_info *a = pyi_model_get_info(m), *b = pyi_model_get_info(back);
    EXPECT_EQ(b->totals.samples, a->totals.samples);
    EXPECT_EQ(b->totals.wall_ns, a->totals.wall_ns);
    EXPECT_EQ(b->totals.on_cpu_ns, a->totals.on_cpu_ns);
    EXPECT_EQ(b->totals.cpu_ns, a->totals.cpu_ns);
    EXPECT_EQ(b->thread_count, 2u);
    EXPECT_EQ(tree_text(back), tree_text(m));
    pyi_model_free(back);
    pyi_model_free(m);
}

TEST(Model, CopyReencodesLosslessly)
{
    TraceBuilder tb;
    const char *in = write_tiny(tb);
    TempPath out;
    char detail[256] = "";
    ASSERT_EQ(pyi_trace_copy(in, out.c_str(), 0, detail, sizeof(detail)), 0) << detail;
    pyi_trace *a = nullptr, *b = nullptr;
    ASSERT_EQ(pyi_trace_load(&a, in, nullptr, detail, sizeof(detail)), 0);
    ASSERT_EQ(pyi_trace_load(&b, out.c_str(), nullptr, detail, sizeof(detail)), 0);
    ASSERT_EQ(a->sample_count, b->sample_count);
    for (size_t i = 0; i < a->sample_count; i++) {
        EXPECT_EQ(a->samples[i].time_ns, b->samples[i].time_ns);
        EXPECT_EQ(a->samples[i].weight_ns, b->samples[i].weight_ns);
        EXPECT_EQ(a->samples[i].status, b->samples[i].status);
    }
    pyi_trace_free(a);
    pyi_trace_free(b);
    EXPECT_NE(pyi_trace_copy("/nonexistent.pyitrace", out.c_str(), 0, detail, sizeof(detail)),
              0);
    EXPECT_NE(strstr(detail, "/nonexistent.pyitrace"), nullptr) << detail;
}

} // namespace
