// SPDX-License-Identifier: MIT
// Test helpers for the format library: writing traces to memory, reading
// them back as the canonical JSON dump, and a seeded random trace generator.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

extern "C" {
#include "pyi/trace.h"
}

namespace pyitest {

// A header with every required field set; strings point to static storage.
pyi_header basic_header();

// A temporary file that deletes itself.
struct TempFile {
    std::string path;
    TempFile();
    ~TempFile();
    std::vector<uint8_t> read() const;
};

// The canonical dump (spec §10) of bytes, or of the file at path. Returns the
// reader's result; *text gets whatever was printed before any error.
int dump_bytes(const std::vector<uint8_t> &bytes, std::string *text, bool salvage = false,
               pyi_reader_stats *stats = nullptr);

struct RandomTraceOptions {
    uint32_t seed = 1;
    int samples = 2000;
    int threads = 3;
    uint32_t chunk_bytes = 4096;
    bool threaded = false;
    bool extremes = false; // huge times, weights and ids near the edges
    bool close = true;
};

// Writes a random but valid trace (every record kind, non-ASCII strings) to
// path and returns the canonical dump that reading it back must produce,
// computed independently of the reader from what was written.
std::string write_random_trace(const std::string &path, const RandomTraceOptions &options);

} // namespace pyitest
