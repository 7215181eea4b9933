// SPDX-License-Identifier: MIT
// Test helpers for the format library (see fixture.h).
#include "fixture.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace pyitest {

pyi_header basic_header()
{
    static const char *argv[] = {"python3", "app.py", "--name=é"};
    pyi_header h;
    memset(&h, 0, sizeof(h));
    h.recorder = "format_tests 1";
    h.mode = "wall";
    h.clock = "CLOCK_MONOTONIC";
    h.interval_ns = 1000000;
    h.start_mono_ns = 5000000000ull;
    h.start_wall_ns = 1764000000000000000ull;
    h.pid = 4242;
    h.argv = argv;
    h.argc = 3;
    h.python = "3.11.7";
    h.status_known = 7;
    return h;
}

TempFile::TempFile()
{
    char name[] = "/tmp/pyi-test-XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0)
        throw std::runtime_error("mkstemp failed");
    close(fd);
    path = name;
}

TempFile::~TempFile()
{
    unlink(path.c_str());
}

std::vector<uint8_t> TempFile::read() const
{
    std::vector<uint8_t> bytes;
    FILE *f = fopen(path.c_str(), "rb");
    if (!f)
        return bytes;
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        bytes.insert(bytes.end(), buf, buf + n);
    fclose(f);
    return bytes;
}

int dump_bytes(const std::vector<uint8_t> &bytes, std::string *text, bool salvage,
               pyi_reader_stats *stats)
{
    pyi_reader_options options;
    pyi_reader_options_init(&options);
    options.salvage = salvage;
    pyi_reader *r = nullptr;
    char *buf = nullptr;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    int rc = pyi_reader_open_memory(&r, bytes.data(), bytes.size(), "mem", &options);
    if (rc == PYI_OK)
        rc = pyi_dump_json(r, out);
    fclose(out);
    text->assign(buf, size);
    free(buf);
    if (stats && r)
        *stats = *pyi_reader_get_stats(r);
    pyi_reader_free(r);
    return rc;
}

// ---- The random trace generator -------------------------------------------
//
// It writes through the writer API and, independently of the reader, builds
// the canonical dump the reader must print (chunk and stats lines aside).

namespace {

std::string json_string(const std::string &s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char esc[8];
                snprintf(esc, sizeof(esc), "\\u%04x", c);
                out += esc;
            } else {
                out += (char)c;
            }
        }
    }
    return out + "\"";
}

struct Generator {
    std::mt19937_64 rng;
    RandomTraceOptions opt;
    pyi_writer *w = nullptr;
    std::ostringstream expect;
    std::map<std::string, uint32_t> strings;
    std::map<std::vector<uint32_t>, uint32_t> functions, locations, stacks;
    std::vector<uint32_t> string_ids, function_ids, location_ids, stack_ids, thread_ids;
    std::vector<uint64_t> thread_time; // by thread id - 1
    uint64_t records = 0, samples = 0, lost = 0, first_us = 0, last_us = 0;
    uint32_t processes = 1;

    uint64_t pick(uint64_t n) { return n ? rng() % n : 0; }

    void check(int rc)
    {
        if (rc != PYI_OK)
            throw std::runtime_error(pyi_writer_error_detail(w));
    }

    std::string random_text()
    {
        static const char *const pieces[] = {
            "main", "Wörker.run", "函数", "<lambda>", "<module>", "quote\"back\\slash",
            "tab\there", "nl\nhere", "\x01\x1f", "😀emoji", "<script>alert(1)</script>", "",
            "a/b/c.py", "ßüñ", "x"};
        std::string s = pieces[pick(sizeof(pieces) / sizeof(pieces[0]))];
        if (pick(4) == 0)
            s += std::to_string(pick(1000));
        if (pick(50) == 0)
            s += std::string(300 + pick(3000), 'L'); // long strings cross str8/str16
        return s;
    }

    uint32_t intern_string(const std::string &s, const std::string &expected_value)
    {
        uint32_t id;
        check(pyi_writer_intern_string(w, s.data(), s.size(), &id));
        if (!strings.count(s)) {
            strings[s] = id;
            string_ids.push_back(id);
            expect << "{\"record\":\"string\",\"id\":" << id
                   << ",\"value\":" << json_string(expected_value) << "}\n";
            records++;
        }
        if (strings[s] != id)
            throw std::runtime_error("string interned twice");
        return id;
    }

    uint32_t intern_string(const std::string &s) { return intern_string(s, s); }

    uint32_t define(std::map<std::vector<uint32_t>, uint32_t> &table, std::vector<uint32_t> &ids,
                    const std::vector<uint32_t> &key, uint32_t id, const std::string &line)
    {
        auto it = table.find(key);
        if (it != table.end()) {
            if (it->second != id)
                throw std::runtime_error("definition interned twice");
            return id;
        }
        table[key] = id;
        ids.push_back(id);
        expect << line;
        records++;
        return id;
    }

    uint32_t new_function()
    {
        uint32_t name = intern_string(random_text());
        uint32_t file = pick(5) ? intern_string("/src/" + random_text() + ".py") : 0;
        uint32_t first_line = opt.extremes && pick(3) == 0 ? UINT32_MAX : (uint32_t)pick(5000);
        uint32_t kind = (uint32_t)pick(3);
        uint32_t id;
        check(pyi_writer_intern_function(w, name, file, first_line, kind, &id));
        std::ostringstream line;
        line << "{\"record\":\"function\",\"id\":" << id << ",\"name\":" << name
             << ",\"file\":" << file << ",\"first_line\":" << first_line << ",\"kind\":" << kind
             << "}\n";
        return define(functions, function_ids, {name, file, first_line, kind}, id, line.str());
    }

    uint32_t new_location()
    {
        uint32_t fn = function_ids.empty() || pick(3) == 0
                          ? new_function()
                          : function_ids[pick(function_ids.size())];
        uint32_t line_no = (uint32_t)pick(2000);
        uint32_t id;
        check(pyi_writer_intern_location(w, fn, line_no, &id));
        std::ostringstream line;
        line << "{\"record\":\"location\",\"id\":" << id << ",\"function\":" << fn
             << ",\"line\":" << line_no << "}\n";
        return define(locations, location_ids, {fn, line_no}, id, line.str());
    }

    uint32_t new_stack()
    {
        uint32_t parent = stack_ids.empty() || pick(4) == 0 ? 0 : stack_ids[pick(stack_ids.size())];
        uint32_t loc = location_ids.empty() || pick(3) == 0
                           ? new_location()
                           : location_ids[pick(location_ids.size())];
        uint32_t id;
        check(pyi_writer_intern_stack(w, parent, loc, &id));
        std::ostringstream line;
        line << "{\"record\":\"stack\",\"id\":" << id << ",\"parent\":" << parent
             << ",\"location\":" << loc << "}\n";
        return define(stacks, stack_ids, {parent, loc}, id, line.str());
    }

    void new_thread()
    {
        uint32_t name = intern_string("thread-" + random_text());
        pyi_thread t = {0, (uint32_t)(1 + pick(processes)),
                        opt.extremes ? UINT64_MAX - pick(10) : 1000 + pick(100000), name,
                        thread_ids.empty() ? PYI_THREAD_MAIN : 0u};
        uint32_t id;
        check(pyi_writer_add_thread(w, &t, &id));
        thread_ids.push_back(id);
        thread_defs.push_back(t);
        thread_time.push_back(5000000000ull + pick(1000) * 1000);
        expect << "{\"record\":\"thread\",\"id\":" << id << ",\"process\":" << t.process_id
               << ",\"native_id\":" << t.native_id << ",\"name\":" << name
               << ",\"flags\":" << t.flags << "}\n";
        records++;
    }

    void new_process()
    {
        pyi_meta_entry meta[2];
        meta[0].key = "argv0";
        meta[0].value = {PYI_VALUE_STRING, 0, 0, 0, "python3", 7};
        meta[1].key = "n";
        meta[1].value = {PYI_VALUE_INT, -5, 0, 0, nullptr, 0};
        pyi_process p = {0, (uint32_t)pick(processes + 1), opt.extremes ? INT64_MIN : 77, meta, 2};
        uint32_t id;
        check(pyi_writer_add_process(w, &p, &id));
        processes = id;
        expect << "{\"record\":\"process\",\"id\":" << id << ",\"parent\":" << p.parent_id
               << ",\"pid\":" << p.pid << ",\"meta\":{\"argv0\":\"python3\",\"n\":-5}}\n";
        records++;
    }

    void sample()
    {
        size_t t = pick(thread_ids.size());
        uint64_t step = opt.extremes && pick(50) == 0 ? (1ull << 50) / 1000 * 1000 : 1000 * (1 + pick(3000));
        uint64_t prev = thread_time[t];
        thread_time[t] += step;
        pyi_sample s;
        s.thread_id = thread_ids[t];
        s.stack_id = pick(20) == 0 ? 0 : stack_ids.empty() || pick(10) == 0 ? new_stack()
                                                                          : stack_ids[pick(stack_ids.size())];
        s.time_ns = thread_time[t];
        s.weight_ns = pick(3) ? thread_time[t] - prev : 1000 * pick(5000);
        s.cpu_ns = pick(2) ? PYI_CPU_UNKNOWN : 1000 * pick(opt.extremes ? (1ull << 40) : 5000);
        s.status = (uint32_t)pick(32);
        check(pyi_writer_add_sample(w, &s));
        expect << "{\"record\":\"sample\",\"thread\":" << s.thread_id << ",\"time_ns\":" << s.time_ns
               << ",\"stack\":" << s.stack_id << ",\"status\":" << s.status
               << ",\"weight_ns\":" << s.weight_ns << ",\"cpu_ns\":";
        if (s.cpu_ns == PYI_CPU_UNKNOWN)
            expect << "null}\n";
        else
            expect << s.cpu_ns << "}\n";
        records++;
        samples++;
        uint64_t us = s.time_ns / 1000;
        if (!first_us || us < first_us)
            first_us = us;
        if (us > last_us)
            last_us = us;
    }

    void lost_record()
    {
        pyi_lost l = {pick(3) ? thread_ids[pick(thread_ids.size())] : 0, (uint32_t)(1 + pick(5)),
                      opt.extremes ? (1ull << 62) : pick(100), 1000 * pick(100000)};
        check(pyi_writer_add_lost(w, &l));
        expect << "{\"record\":\"lost\",\"thread\":" << l.thread_id << ",\"reason\":" << l.reason
               << ",\"count\":" << l.count << ",\"weight_ns\":" << l.weight_ns << "}\n";
        records++;
        lost += l.count;
    }

    void marker()
    {
        uint32_t name = intern_string(pick(2) ? "gc" : "pyinst.interval");
        pyi_meta_entry args[3];
        args[0].key = "ns";
        args[0].value = {PYI_VALUE_UINT, 0, UINT64_MAX, 0, nullptr, 0};
        args[1].key = "why";
        args[1].value = {PYI_VALUE_STRING, 0, 0, 0, "über\"load", strlen("über\"load")};
        args[2].key = "ok";
        args[2].value = {PYI_VALUE_BOOL, 1, 0, 0, nullptr, 0};
        size_t nargs = pick(2) ? 3 : 0;
        uint64_t when = thread_time[pick(thread_time.size())] - 1000 * pick(500);
        pyi_marker m = {pick(2) ? thread_ids[pick(thread_ids.size())] : 0, name, when,
                        1000 * pick(20000), nargs ? args : nullptr, nargs};
        check(pyi_writer_add_marker(w, &m));
        expect << "{\"record\":\"marker\",\"thread\":" << m.thread_id << ",\"name\":" << name
               << ",\"time_ns\":" << when << ",\"duration_ns\":" << m.duration_ns << ",\"args\":"
               << (nargs ? "{\"ns\":18446744073709551615,\"why\":\"über\\\"load\",\"ok\":true}"
                         : "{}")
               << "}\n";
        records++;
    }

    void meta()
    {
        pyi_value values[] = {
            {PYI_VALUE_INT, INT64_MIN, 0, 0, nullptr, 0},
            {PYI_VALUE_UINT, 0, UINT64_MAX, 0, nullptr, 0},
            {PYI_VALUE_FLOAT, 0, 0, 0.1, nullptr, 0},
            {PYI_VALUE_FLOAT, 0, 0, 1e300, nullptr, 0},
            {PYI_VALUE_NIL, 0, 0, 0, nullptr, 0},
            {PYI_VALUE_STRING, 0, 0, 0, "ünïcode", strlen("ünïcode")},
            {PYI_VALUE_RAW, 0, 0, 0, "\x92\x01\xa1x", 4},
        };
        const char *expected[] = {"-9223372036854775808", "18446744073709551615", "0.1", "1e+300",
                                  "null", "\"ünïcode\"", "[1,\"x\"]"};
        size_t i = pick(7);
        check(pyi_writer_add_meta(w, "key.é", &values[i]));
        expect << "{\"record\":\"meta\",\"key\":\"key.é\",\"value\":" << expected[i] << "}\n";
        records++;
    }

    void rename()
    {
        size_t t = pick(thread_ids.size());
        uint32_t name = intern_string("renamed-" + random_text());
        check(pyi_writer_rename_thread(w, thread_ids[t], name));
        const pyi_thread &def = thread_defs[t];
        expect << "{\"record\":\"thread\",\"id\":" << thread_ids[t]
               << ",\"process\":" << def.process_id << ",\"native_id\":" << def.native_id
               << ",\"name\":" << name << ",\"flags\":" << def.flags << "}\n";
        records++;
    }
    std::vector<pyi_thread> thread_defs;
};

} // namespace

std::string write_random_trace(const std::string &path, const RandomTraceOptions &opt)
{
    Generator g;
    g.rng.seed(opt.seed);
    g.opt = opt;
    pyi_header h = basic_header();
    pyi_writer_options wo;
    pyi_writer_options_init(&wo);
    wo.chunk_bytes = opt.chunk_bytes;
    wo.threaded = opt.threaded;
    wo.chunk_age_ms = 1000000; // deterministic chunking: by size only
    if (pyi_writer_open(&g.w, path.c_str(), &h, &wo) != PYI_OK) {
        std::string detail = pyi_writer_error_detail(g.w);
        pyi_writer_free(g.w);
        throw std::runtime_error(detail);
    }
    g.expect << "{\"record\":\"header\",\"major\":1,\"minor\":0,\"incompat_flags\":0,"
                "\"compat_flags\":0,\"meta\":{\"recorder\":\"format_tests 1\",\"mode\":\"wall\","
                "\"clock\":\"CLOCK_MONOTONIC\",\"interval_ns\":1000000,\"start_mono_ns\":5000000000,"
                "\"start_wall_ns\":1764000000000000000,\"pid\":4242,\"argv\":[\"python3\","
                "\"app.py\",\"--name=é\"],\"python\":\"3.11.7\",\"status_known\":7}}\n";
    // invalid UTF-8 is repaired to U+FFFD, one per bad byte (spec §7)
    g.intern_string("bad\xff\xc3", "bad\xEF\xBF\xBD\xEF\xBF\xBD");
    for (int i = 0; i < opt.threads; i++) {
        if (i == 1)
            g.new_process();
        g.new_thread();
    }
    for (int i = 0; i < opt.samples; i++) {
        uint64_t dice = g.pick(100);
        if (dice < 85)
            g.sample();
        else if (dice < 90)
            g.new_stack();
        else if (dice < 93)
            g.lost_record();
        else if (dice < 96)
            g.marker();
        else if (dice < 98)
            g.meta();
        else
            g.rename();
    }
    if (opt.close) {
        g.expect << "{\"record\":\"end\",\"summary\":{\"samples\":" << g.samples
                 << ",\"lost\":" << g.lost << ",\"records\":" << g.records
                 << ",\"first_time_us\":" << g.first_us << ",\"last_time_us\":" << g.last_us
                 << "}}\n";
        if (pyi_writer_close(g.w) != PYI_OK) {
            std::string detail = pyi_writer_error_detail(g.w);
            pyi_writer_free(g.w);
            throw std::runtime_error(detail);
        }
    }
    pyi_writer_free(g.w);
    return g.expect.str();
}

} // namespace pyitest
