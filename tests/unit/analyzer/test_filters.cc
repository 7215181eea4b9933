// SPDX-License-Identifier: MIT
// Load filters, each on and off: time range, threads, focus, exclusions,
// on-CPU / waiting.
#include <gtest/gtest.h>

#include "analyzer_test_util.h"

namespace {

// main: 100 ms <module>->work (on CPU), 100 ms <module>->io->recv (waiting);
// worker (tid 7): 50 ms run->hash (on CPU). Samples alternate in time.
struct Fixture {
    TraceBuilder tb;
    const char *path;
    Fixture()
    {
        uint32_t main = tb.thread("MainThread", 6, true);
        uint32_t worker = tb.thread("worker", 7, false);
        uint32_t work = tb.stack("/home/user/app/app.py|<module>|1;/home/user/app/app.py|work|5");
        uint32_t io = tb.stack("/home/user/app/app.py|<module>|2;/home/user/app/net.py|io|9;"
                               "|recv|0|native");
        uint32_t hash = tb.stack("/home/user/app/app.py|run|20;|hash|0|native");
        for (int i = 0; i < 10; i++) {
            tb.sample(main, work, 10, true);
            tb.sample(main, io, 10, false);
            tb.sample(worker, hash, 5, true);
        }
        path = tb.close();
    }
};

std::string filtered(const char *path, void (*set)(pyi_model_options *))
{
    pyi_model_options o;
    pyi_model_options_init(&o);
    set(&o);
    pyi_model *m = load(path, &o);
    std::string s = tree_text(m, 0);
    pyi_model_free(m);
    return s;
}

TEST(Filters, NoneKeepsEverything)
{
    Fixture f;
    EXPECT_EQ(filtered(f.path, [](pyi_model_options *) {}),
              "[root] 250/0\n"
              "  <module> 200/0\n"
              "    io 100/0\n"
              "      recv 100/100\n"
              "    work 100/100\n"
              "  run 50/0\n"
              "    hash 50/50\n");
}

TEST(Filters, TimeRange)
{
    Fixture f;
    // Each round of 3 samples takes 25 ms; samples are stamped at their end.
    EXPECT_EQ(filtered(f.path, [](pyi_model_options *o) {
                  o->filter.time_from_ns = 100 * MS;
                  o->filter.time_to_ns = 150 * MS;
              }),
              "[root] 50/0\n"
              "  <module> 40/0\n"
              "    io 20/0\n"
              "      recv 20/20\n"
              "    work 20/20\n"
              "  run 10/0\n"
              "    hash 10/10\n");
}

TEST(Filters, ThreadsByNameTidOrId)
{
    Fixture f;
    const char *expected = "[root] 50/0\n  run 50/0\n    hash 50/50\n";
    EXPECT_EQ(filtered(f.path, [](pyi_model_options *o) {
                  static const char *t[] = {"worker"};
                  o->filter.threads = t;
                  o->filter.thread_count = 1;
              }),
              expected);
    EXPECT_EQ(filtered(f.path, [](pyi_model_options *o) {
                  static const char *t[] = {"7"}; // native tid
                  o->filter.threads = t;
                  o->filter.thread_count = 1;
              }),
              expected);
    EXPECT_EQ(filtered(f.path, [](pyi_model_options *o) {
                  static const char *t[] = {"4242:7"}; // pid:tid
                  o->filter.threads = t;
                  o->filter.thread_count = 1;
              }),
              expected);
    EXPECT_EQ(filtered(f.path, [](pyi_model_options *o) {
                  static const char *t[] = {"nope"};
                  o->filter.threads = t;
                  o->filter.thread_count = 1;
              }),
              "[root] 0/0\n");
}

TEST(Filters, FocusKeepsStacksThroughAFunctionReRooted)
{
    Fixture f;
    EXPECT_EQ(filtered(f.path, [](pyi_model_options *o) { o->filter.focus = "^io$"; }),
              "[root] 100/0\n  io 100/0\n    recv 100/100\n");
    // file:name form
    EXPECT_EQ(filtered(f.path, [](pyi_model_options *o) { o->filter.focus = "^net.py:"; }),
              "[root] 100/0\n  io 100/0\n    recv 100/100\n");
}

TEST(Filters, ExcludeFunctionGivesItsTimeToTheCaller)
{
    Fixture f;
    EXPECT_EQ(filtered(f.path, [](pyi_model_options *o) {
                  static const char *x[] = {"^(recv|hash)$"};
                  o->filter.exclude_functions = x;
                  o->filter.exclude_function_count = 1;
              }),
              "[root] 250/0\n"
              "  <module> 200/0\n"
              "    io 100/100\n"
              "    work 100/100\n"
              "  run 50/50\n");
}

TEST(Filters, ExcludeFile)
{
    Fixture f;
    EXPECT_EQ(filtered(f.path, [](pyi_model_options *o) {
                  static const char *x[] = {"net\\.py$"};
                  o->filter.exclude_files = x;
                  o->filter.exclude_file_count = 1;
              }),
              "[root] 250/0\n"
              "  <module> 200/0\n"
              "    recv 100/100\n"
              "    work 100/100\n"
              "  run 50/0\n"
              "    hash 50/50\n");
}

TEST(Filters, OnCpuAndWaiting)
{
    Fixture f;
    EXPECT_EQ(filtered(f.path, [](pyi_model_options *o) { o->filter.state = PYI_STATE_ON_CPU; }),
              "[root] 150/0\n"
              "  <module> 100/0\n"
              "    work 100/100\n"
              "  run 50/0\n"
              "    hash 50/50\n");
    EXPECT_EQ(filtered(f.path, [](pyi_model_options *o) { o->filter.state = PYI_STATE_WAITING; }),
              "[root] 100/0\n"
              "  <module> 100/0\n"
              "    io 100/0\n"
              "      recv 100/100\n");
}

TEST(Filters, MetricsViewTheSameSamples)
{
    Fixture f;
    pyi_model *m = load(f.path);
    pyi_tree_options o;
    pyi_tree_options_init(&o);
    o.self_nodes = 0;
    o.view.metric = PYI_METRIC_WAITING;
    o.view.processors = PYI_PROC_AGGREGATE_CALLS;
    EXPECT_EQ(tree_text(m, o), "[root] 100/0\n"
                               "  <module> 100/0\n"
                               "    io 100/0\n"
                               "      recv 100/100\n"
                               "    work 0/0\n"
                               "  run 0/0\n"
                               "    hash 0/0\n");
    pyi_model_free(m);
}

} // namespace
