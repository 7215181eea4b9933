// SPDX-License-Identifier: MIT
// Views: inverted (callers) trees, focus on a function, minimum share, and
// the processed-stack visitor the exporters use.
#include <gtest/gtest.h>

#include <string>

#include "analyzer_test_util.h"

namespace {

// main->a->c (30), main->b->c (20), main->b (10)
pyi_model *callers_fixture()
{
    TraceBuilder tb;
    uint32_t th = tb.thread("MainThread");
    tb.sample(th, tb.stack("app.py|main|1;app.py|a|2;app.py|c|3"), 30);
    tb.sample(th, tb.stack("app.py|main|1;app.py|b|4;app.py|c|3"), 20);
    tb.sample(th, tb.stack("app.py|main|1;app.py|b|5"), 10);
    return load(tb.close());
}

uint32_t fn(const pyi_model *m, const char *name)
{
    for (uint32_t id = 1; id <= pyi_model_get_info(m)->function_count; id++)
        if (!strcmp(pyi_model_function_get(m, id)->name, name))
            return id;
    return 0;
}

TEST(Views, InvertedTreeIsBottomUp)
{
    pyi_model *m = callers_fixture();
    pyi_tree_options o;
    pyi_tree_options_init(&o);
    o.inverted = 1;
    EXPECT_EQ(tree_text(m, o), "[root] 60/0\n"
                               "  c 50/50\n"
                               "    a 30/0\n"
                               "      main 30/0\n"
                               "    b 20/0\n"
                               "      main 20/0\n"
                               "  b 10/10\n"
                               "    main 10/0\n");
    pyi_model_free(m);
}

TEST(Views, CallersAndCalleesOfAFunction)
{
    pyi_model *m = callers_fixture();
    pyi_tree_options o;
    pyi_tree_options_init(&o);
    o.self_nodes = 0;
    o.inverted = 1;
    o.focus_function = fn(m, "c");
    EXPECT_EQ(tree_text(m, o), "[root] 50/0\n"
                               "  c 50/50\n"
                               "    a 30/0\n"
                               "      main 30/0\n"
                               "    b 20/0\n"
                               "      main 20/0\n");
    o.inverted = 0;
    o.focus_function = fn(m, "b");
    EXPECT_EQ(tree_text(m, o), "[root] 30/0\n  b 30/10\n    c 20/20\n");
    pyi_model_free(m);
}

TEST(Views, MinShareDropsSmallNodesButKeepsTheirTimeInParents)
{
    pyi_model *m = callers_fixture();
    pyi_tree_options o;
    pyi_tree_options_init(&o);
    o.self_nodes = 0;
    o.min_share = 0.4; // 24 ms of 60: b's 20 ms call of c goes
    EXPECT_EQ(tree_text(m, o), "[root] 60/0\n  main 60/0\n    a 30/0\n      c 30/30\n"
                               "    b 30/10\n");
    o.min_share = 0.6;
    EXPECT_EQ(tree_text(m, o), "[root] 60/0\n  main 60/0\n");
    o.min_share = 0;
    EXPECT_NE(tree_text(m, o).find("c 20/20"), std::string::npos);
    pyi_model_free(m);
}

TEST(Views, VisitStacksGivesProcessedFramesAndCallLines)
{
    pyi_model *m = callers_fixture();
    struct Seen {
        const pyi_model *m;
        std::string text;
    } seen{m, ""};
    pyi_view_options v;
    pyi_view_options_init(&v);
    ASSERT_EQ(pyi_model_visit_stacks(
                  m, &v,
                  [](void *ctx, uint32_t thread, const pyi_view_frame *frames, size_t depth,
                     const pyi_metrics *totals) -> int {
                      Seen *s = static_cast<Seen *>(ctx);
                      s->text += std::to_string(thread) + ":";
                      for (size_t i = 0; i < depth; i++)
                          s->text += std::string(pyi_model_function_get(s->m, frames[i].function)->name) +
                                     "@" + std::to_string(frames[i].call_line) + ";";
                      s->text += " " + std::to_string(totals->wall_ns / MS) + "\n";
                      return 0;
                  },
                  &seen),
              0);
    EXPECT_EQ(seen.text, "1:main@0;a@1;c@2; 30\n1:main@0;b@1;c@4; 20\n1:main@0;b@1; 10\n");
    pyi_model_free(m);
}

TEST(Views, StackFramesOfOneStack)
{
    pyi_model *m = callers_fixture();
    const pyi_model_info *info = pyi_model_get_info(m);
    EXPECT_EQ(info->max_stack_depth, 3u);
    pyi_view_frame frames[3];
    size_t n = 0;
    const pyi_model_aggregate *a = pyi_model_aggregates(m, &n);
    ASSERT_EQ(n, 3u);
    ASSERT_EQ(pyi_model_stack_frames(m, PYI_PROC_DEFAULT, a[0].stack, frames, 3), 3);
    EXPECT_EQ(frames[2].function, fn(m, "c"));
    EXPECT_EQ(frames[2].call_line, 2u);
    EXPECT_EQ(pyi_model_stack_frames(m, PYI_PROC_DEFAULT, a[0].stack, frames, 2), PYI_E_LIMIT);
    EXPECT_EQ(pyi_model_stack_frames(m, PYI_PROC_DEFAULT, 0, frames, 3), 0);
    pyi_model_free(m);
}

TEST(Views, TreesNeedAFinishedModel)
{
    pyi_model *m = nullptr;
    ASSERT_EQ(pyi_model_new(&m, nullptr), 0);
    pyi_tree *tree = nullptr;
    EXPECT_EQ(pyi_tree_build(&tree, m, nullptr), PYI_E_STATE);
    ASSERT_EQ(pyi_model_finish(m), 0);
    ASSERT_EQ(pyi_tree_build(&tree, m, nullptr), 0);
    EXPECT_EQ(pyi_tree_node_count(tree), 1u);
    pyi_tree_free(tree);
    EXPECT_EQ(pyi_model_add_file(m, "x.pyitrace"), PYI_E_STATE);
    pyi_model_free(m);
}

} // namespace
