// SPDX-License-Identifier: MIT
// Helpers for the model tests: temporary traces, loading, and a compact text
// form of trees ("name total/self" per line, two spaces per depth) that
// expectations can be written in exactly.
#pragma once

#include <string>
#include <vector>

extern "C" {
#include "fixture.h"
#include "pyi/analyzer.h"
}

#define MS 1000000ull

// A temporary file path, removed at destruction.
class TempPath {
  public:
    explicit TempPath(const char *suffix = ".pyitrace");
    ~TempPath();
    const char *c_str() const { return path_.c_str(); }

  private:
    std::string path_;
};

// A trace being written with the fixture API into a temporary file.
class TraceBuilder {
  public:
    explicit TraceBuilder(const fx_header *header = nullptr);
    ~TraceBuilder();
    uint32_t thread(const char *name, uint64_t tid = 1, bool main = true);
    uint32_t stack(const char *frames); // "file|func|line;..." (see fixture.h)
    void sample(uint32_t thread, uint32_t stack, uint64_t weight_ms, bool on_cpu = true,
                uint64_t cpu_ms = 0);
    void lost(uint64_t count, uint64_t weight_ms);
    const char *close(bool crash = false); // returns the path
    fx_trace t;

  private:
    TempPath path_;
    bool closed_ = false;
};

// Loads paths into a finished model; fails the test on error.
pyi_model *load(const std::vector<const char *> &paths, const pyi_model_options *options = nullptr);
pyi_model *load(const char *path, const pyi_model_options *options = nullptr);

// The tree as text: "name total/self" (ms), one node per line, indented.
std::string tree_text(const pyi_model *m, const pyi_tree_options &o);
// Shortcut: default tree options with these processors (plus aggregate-calls,
// so nodes are per function) and no [self] nodes.
std::string tree_text(const pyi_model *m, unsigned processors = PYI_PROC_DEFAULT);
