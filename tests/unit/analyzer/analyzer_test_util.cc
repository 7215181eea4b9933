// SPDX-License-Identifier: MIT
#include "analyzer_test_util.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <sstream>

TempPath::TempPath(const char *suffix)
{
    char tmpl[] = "/tmp/pyi-analyzer-test-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd >= 0)
        close(fd);
    unlink(tmpl);
    path_ = std::string(tmpl) + suffix;
}

TempPath::~TempPath()
{
    unlink(path_.c_str());
}

TraceBuilder::TraceBuilder(const fx_header *header)
{
    EXPECT_EQ(fx_open(&t, path_.c_str(), header), 0);
}

TraceBuilder::~TraceBuilder()
{
    if (!closed_)
        fx_close(&t, 0);
}

uint32_t TraceBuilder::thread(const char *name, uint64_t tid, bool main)
{
    uint32_t id = fx_thread(&t, name, tid, main);
    EXPECT_NE(id, 0u);
    return id;
}

uint32_t TraceBuilder::stack(const char *frames)
{
    uint32_t id = fx_stack_str(&t, frames);
    EXPECT_NE(id, 0u) << frames;
    return id;
}

void TraceBuilder::sample(uint32_t thread, uint32_t stack, uint64_t weight_ms, bool on_cpu,
                          uint64_t cpu_ms)
{
    EXPECT_EQ(fx_sample(&t, thread, stack, weight_ms * MS, on_cpu ? PYI_STATUS_ON_CPU : 0,
                        cpu_ms ? cpu_ms * MS : PYI_CPU_UNKNOWN), 0);
}

void TraceBuilder::lost(uint64_t count, uint64_t weight_ms)
{
    EXPECT_EQ(fx_lost(&t, 0, count, weight_ms * MS), 0);
}

const char *TraceBuilder::close(bool crash)
{
    if (!closed_) {
        EXPECT_EQ(fx_close(&t, crash), 0);
    }
    closed_ = true;
    return path_.c_str();
}

pyi_model *load(const std::vector<const char *> &paths, const pyi_model_options *options)
{
    pyi_model *m = nullptr;
    char detail[512] = "";
    int rc = pyi_model_load(&m, paths.data(), paths.size(), options, detail, sizeof(detail));
    EXPECT_EQ(rc, 0) << detail;
    return m;
}

pyi_model *load(const char *path, const pyi_model_options *options)
{
    return load(std::vector<const char *>{path}, options);
}

static std::string node_name(const pyi_model *m, const pyi_tree_node *n)
{
    switch (n->kind) {
    case PYI_NODE_ROOT:
        return "[root]";
    case PYI_NODE_THREAD:
        return std::string("thread:") + pyi_model_thread_get(m, n->thread)->name;
    case PYI_NODE_NO_STACK:
        return "[no stack]";
    case PYI_NODE_SELF:
        return "[self]" + (n->line ? ":" + std::to_string(n->line) : std::string());
    default:
        break;
    }
    std::string s = pyi_model_function_get(m, n->function)->name;
    if (n->line)
        s += "@" + std::to_string(n->line);
    if (n->flags & PYI_NODE_GROUP)
        s += "{" + std::to_string(n->hidden_frames) + "}";
    if (n->flags & PYI_NODE_RECURSIVE)
        s += "(rec)";
    return s;
}

std::string tree_text(const pyi_model *m, const pyi_tree_options &o)
{
    pyi_tree *tree = nullptr;
    EXPECT_EQ(pyi_tree_build(&tree, m, &o), 0);
    if (!tree)
        return "";
    std::ostringstream out;
    for (uint32_t id = 0; id < pyi_tree_node_count(tree); id++) {
        const pyi_tree_node *n = pyi_tree_node_get(tree, id);
        out << std::string(2 * n->depth, ' ') << node_name(m, n) << ' '
            << pyi_metrics_value(&n->total, o.view.metric) / MS << '/'
            << pyi_metrics_value(&n->self, o.view.metric) / MS << '\n';
    }
    pyi_tree_free(tree);
    return out.str();
}

std::string tree_text(const pyi_model *m, unsigned processors)
{
    pyi_tree_options o;
    pyi_tree_options_init(&o);
    o.view.processors = processors | PYI_PROC_AGGREGATE_CALLS;
    o.self_nodes = 0;
    return tree_text(m, o);
}
