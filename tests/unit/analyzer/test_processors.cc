// SPDX-License-Identifier: MIT
// Processors, each on and off (pyinstrument's test_processors.py cases,
// re-expressed on traces): importlib, profiler frames, library grouping,
// merged self time, aggregated calls, collapsed recursion.
#include <gtest/gtest.h>

#include "analyzer_test_util.h"

namespace {

#define STD "/usr/lib/python3.11/"
#define SITE "/venv/lib/python3.11/site-packages/"
#define APP "/home/user/app/"

pyi_model *one_stack(const char *frames, uint64_t ms = 10)
{
    TraceBuilder tb;
    uint32_t th = tb.thread("MainThread");
    tb.sample(th, tb.stack(frames), ms);
    return load(tb.close());
}

TEST(Processors, HideImportlibSplicesChildren)
{
    pyi_model *m = one_stack(APP "app.py|<module>|1;<frozen importlib._bootstrap>|_load|5;"
                                 "<frozen importlib._bootstrap_external>|exec_module|9;"
                                 APP "lib.py|<module>|3");
    EXPECT_EQ(tree_text(m, PYI_PROC_HIDE_IMPORTLIB),
              "[root] 10/0\n  <module> 10/0\n    <module> 10/10\n");
    EXPECT_EQ(tree_text(m, 0), "[root] 10/0\n"
                               "  <module> 10/0\n"
                               "    _load 10/0\n"
                               "      exec_module 10/0\n"
                               "        <module> 10/10\n");
    pyi_model_free(m);
}

TEST(Processors, HideProfilerDropsPyinstAndLeadingRunpyFrames)
{
    pyi_model *m = one_stack(SITE "pyinst/__main__.py|<module>|5;<frozen runpy>|_run_module|1;"
                                  "<frozen runpy>|_run_code|2;" APP "app.py|<module>|1;"
                                  APP "app.py|main|4");
    EXPECT_EQ(tree_text(m, PYI_PROC_HIDE_PROFILER),
              "[root] 10/0\n  <module> 10/0\n    main 10/10\n");
    EXPECT_EQ(tree_text(m, 0).substr(0, 28), "[root] 10/0\n  <module> 10/0\n");
    EXPECT_NE(tree_text(m, 0).find("_run_code"), std::string::npos);
    pyi_model_free(m);
    // runpy in the middle of a stack (the user's own runpy call) stays.
    m = one_stack(APP "app.py|main|1;<frozen runpy>|run_path|2;" APP "b.py|<module>|1");
    EXPECT_NE(tree_text(m, PYI_PROC_HIDE_PROFILER).find("run_path"), std::string::npos);
    pyi_model_free(m);
}

TEST(Processors, GroupLibraryFoldsChainsAndKeepsExitsAndNativeLeaves)
{
    TraceBuilder tb;
    uint32_t th = tb.thread("MainThread");
    tb.sample(th, tb.stack(APP "app.py|main|1;" STD "json/__init__.py|dumps|2;"
                           STD "json/encoder.py|encode|3;" STD "json/encoder.py|iterencode|4"), 10);
    tb.sample(th, tb.stack(APP "app.py|main|1;" SITE "requests/api.py|get|5;"
                           SITE "urllib3/pool.py|urlopen|6;" APP "hooks.py|on_response|7;"
                           "|recv|0|native"), 30);
    pyi_model *m = load(tb.close());
    EXPECT_EQ(tree_text(m, PYI_PROC_GROUP_LIBRARY),
              "[root] 40/0\n"
              "  main 40/0\n"
              "    get{1} 30/0\n"
              "      on_response 30/0\n"
              "        recv 30/30\n"
              "    dumps{2} 10/10\n");
    EXPECT_EQ(tree_text(m, 0),
              "[root] 40/0\n"
              "  main 40/0\n"
              "    get 30/0\n"
              "      urlopen 30/0\n"
              "        on_response 30/0\n"
              "          recv 30/30\n"
              "    dumps 10/0\n"
              "      encode 10/0\n"
              "        iterencode 10/10\n");
    pyi_tree_options o;
    pyi_tree_options_init(&o);
    o.view.processors = PYI_PROC_GROUP_LIBRARY;
    pyi_tree *tree = nullptr;
    ASSERT_EQ(pyi_tree_build(&tree, m, &o), 0);
    bool seen = false;
    for (uint32_t id = 0; id < pyi_tree_node_count(tree); id++)
        if (pyi_tree_node_get(tree, id)->flags & PYI_NODE_GROUP) {
            const char *libs = pyi_tree_node_libraries(tree, id);
            EXPECT_TRUE(!strcmp(libs, "urllib3") || !strcmp(libs, "json")) << libs;
            seen = true;
        }
    EXPECT_TRUE(seen);
    pyi_tree_free(tree);
    pyi_model_free(m);
}

TEST(Processors, MergeSelfOffSplitsSelfTimeByLine)
{
    TraceBuilder tb;
    uint32_t th = tb.thread("MainThread");
    tb.sample(th, tb.stack(APP "app.py|main|3"), 10);
    tb.sample(th, tb.stack(APP "app.py|main|7"), 20);
    tb.sample(th, tb.stack(APP "app.py|main|4;" APP "app.py|f|9"), 5);
    pyi_model *m = load(tb.close());
    pyi_tree_options o;
    pyi_tree_options_init(&o);
    o.view.processors = PYI_PROC_MERGE_SELF | PYI_PROC_AGGREGATE_CALLS;
    EXPECT_EQ(tree_text(m, o), "[root] 35/0\n"
                               "  main 35/30\n"
                               "    [self] 30/30\n"
                               "    f 5/5\n");
    o.view.processors = PYI_PROC_AGGREGATE_CALLS;
    EXPECT_EQ(tree_text(m, o), "[root] 35/0\n"
                               "  main 35/30\n"
                               "    [self]:7 20/20\n"
                               "    [self]:3 10/10\n"
                               "    f 5/5\n");
    pyi_model_free(m);
}

TEST(Processors, AggregateCallsOffSplitsByCallSite)
{
    TraceBuilder tb;
    uint32_t th = tb.thread("MainThread");
    tb.sample(th, tb.stack(APP "app.py|main|10;" APP "app.py|f|30"), 10);
    tb.sample(th, tb.stack(APP "app.py|main|20;" APP "app.py|f|31"), 20);
    pyi_model *m = load(tb.close());
    pyi_tree_options o;
    pyi_tree_options_init(&o);
    o.self_nodes = 0;
    EXPECT_EQ(tree_text(m, o), "[root] 30/0\n  main 30/0\n    f 30/30\n");
    o.view.processors &= ~PYI_PROC_AGGREGATE_CALLS;
    EXPECT_EQ(tree_text(m, o), "[root] 30/0\n  main 30/0\n    f@20 20/20\n    f@10 10/10\n");
    pyi_model_free(m);
}

TEST(Processors, CollapseRecursion)
{
    pyi_model *m = one_stack(APP "app.py|main|1;" APP "app.py|fib|5;" APP "app.py|fib|6;"
                             APP "app.py|fib|6;" APP "app.py|leaf|9");
    EXPECT_EQ(tree_text(m, PYI_PROC_COLLAPSE_RECURSION),
              "[root] 10/0\n  main 10/0\n    fib(rec) 10/0\n      leaf 10/10\n");
    EXPECT_EQ(tree_text(m, 0), "[root] 10/0\n"
                               "  main 10/0\n"
                               "    fib 10/0\n"
                               "      fib 10/0\n"
                               "        fib 10/0\n"
                               "          leaf 10/10\n");
    pyi_model_free(m);
}

TEST(Processors, NamesRoundTrip)
{
    for (unsigned bit = 1; bit <= PYI_PROC_COLLAPSE_RECURSION; bit <<= 1) {
        const char *name = pyi_processor_name(bit);
        ASSERT_NE(name, nullptr);
        EXPECT_EQ(pyi_processor_from_name(name), bit);
    }
    EXPECT_EQ(pyi_processor_from_name("nope"), 0u);
    EXPECT_EQ(pyi_processor_name(3), nullptr);
}

} // namespace
