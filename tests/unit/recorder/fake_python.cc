// Builds fake CPython runtime/interpreter/thread/frame/code/str objects at layout offsets.
// SPDX-License-Identifier: MIT
#include "fake_python.h"

#include <stdexcept>

namespace {

#include "debug_offsets_3130.inc"

std::u32string DecodeUtf8(const std::string &s)
{
    std::u32string out;
    for (size_t i = 0; i < s.size();) {
        unsigned char c = (unsigned char)s[i];
        int extra = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
        char32_t cp = extra == 0 ? c : c & (0x3F >> extra);
        for (int k = 1; k <= extra; k++)
            cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3F);
        out.push_back(cp);
        i += 1 + extra;
    }
    return out;
}

void PutVarint(std::vector<uint8_t> &out, uint32_t v)
{
    while (v >= 64) {
        out.push_back((uint8_t)(64 | (v & 63)));
        v >>= 6;
    }
    out.push_back((uint8_t)v);
}

} // namespace

FakePython::FakePython(unsigned minor)
{
    if (pyi_py_layout_from_table(minor, &layout_) != 0)
        throw std::runtime_error("no layout for that minor");
    const pyi_py_layout &l = layout_;
    runtime_ = Alloc(1024 + (size_t)(l.runtime_gil_current > 0 ? l.runtime_gil_current : 0) +
                     (size_t)(l.runtime_gc > 0 ? l.runtime_gc + l.gc_collecting : 0));
    if (minor >= 13) {
        memcpy(At(runtime_), "xdebugpy", 8);
        memcpy(At(runtime_ + 8), kDebugOffsets3130, sizeof kDebugOffsets3130);
    }
    size_t interp_size = 1024;
    for (int32_t offset : {l.interp_next, l.interp_threads_head, l.interp_id, l.interp_gil})
        interp_size = std::max(interp_size, (size_t)offset + 64);
    if (l.interp_gc >= 0)
        interp_size = std::max(interp_size, (size_t)(l.interp_gc + l.gc_collecting) + 64);
    interp_ = Alloc(interp_size);
    Put<uint64_t>(runtime_, l.runtime_interpreters_head, interp_);
    Put<int64_t>(interp_, l.interp_id, 0);
    if (l.interp_gil >= 0) {
        gil_ = Alloc(64);
        Put<uint64_t>(interp_, l.interp_gil, gil_);
    }
}

pyi_target FakePython::target() const
{
    pyi_target t;
    memset(&t, 0, sizeof t);
    t.python_version_hex = 0x03000000u | (layout_.minor << 16) | 0xf0;
    t.runtime_address = runtime_;
    t.code_type_address = code_type();
    return t;
}

uint64_t FakePython::Alloc(size_t size)
{
    blocks_.push_back(std::make_unique<std::vector<uint64_t>>((size + 7) / 8 + 1, 0));
    return Addr(blocks_.back()->data());
}

uint64_t FakePython::StrKind(const std::u32string &text, unsigned kind, bool compact, bool ascii)
{
    const pyi_py_layout &l = layout_;
    size_t header = ascii ? (size_t)l.unicode_ascii_size : (size_t)l.unicode_compact_size;
    size_t data_size = (text.size() + 1) * kind;
    uint64_t obj = Alloc(compact ? header + data_size : (size_t)l.unicode_compact_size + 8);
    uint64_t data = compact ? obj + header : Alloc(data_size);
    if (!compact)
        Put<uint64_t>(obj, l.unicode_compact_size, data);
    for (size_t i = 0; i < text.size(); i++) {
        uint32_t cp = text[i];
        if (kind == 1)
            Put<uint8_t>(data, (int32_t)i, (uint8_t)cp);
        else if (kind == 2)
            Put<uint16_t>(data, (int32_t)(2 * i), (uint16_t)cp);
        else
            Put<uint32_t>(data, (int32_t)(4 * i), cp);
    }
    Put<int64_t>(obj, l.unicode_length, (int64_t)text.size());
    uint32_t state = (kind << 2) | (compact ? 1u << 5 : 0) | (ascii ? 1u << 6 : 0) |
                     (l.minor <= 11 ? 1u << 7 : 0);
    Put<uint32_t>(obj, l.unicode_state, state);
    return obj;
}

uint64_t FakePython::Str(const std::string &utf8)
{
    std::u32string text = DecodeUtf8(utf8);
    char32_t max = 0;
    for (char32_t c : text)
        max = std::max(max, c);
    unsigned kind = max < 256 ? 1 : max < 65536 ? 2 : 4;
    return StrKind(text, kind, true, max < 128);
}

uint64_t FakePython::Bytes(const std::vector<uint8_t> &data)
{
    uint64_t obj = Alloc((size_t)layout_.bytes_data + data.size() + 1);
    Put<int64_t>(obj, layout_.bytes_size, (int64_t)data.size());
    if (!data.empty())
        memcpy(At(obj + (uint64_t)layout_.bytes_data), data.data(), data.size());
    return obj;
}

uint64_t FakePython::Tuple(const std::vector<uint64_t> &items)
{
    uint64_t obj = Alloc((size_t)layout_.tuple_items + 8 * items.size() + 8);
    Put<int64_t>(obj, layout_.tuple_size, (int64_t)items.size());
    for (size_t i = 0; i < items.size(); i++)
        Put<uint64_t>(obj, layout_.tuple_items + (int32_t)(8 * i), items[i]);
    return obj;
}

std::vector<uint8_t> FakePython::LineTable(int32_t firstlineno, const std::vector<int32_t> &lines)
{
    std::vector<uint8_t> out;
    int32_t line = firstlineno;
    if (layout_.linetable_kind == PYI_LINETABLE_LOCATIONS) {
        for (int32_t target : lines) { // one "no columns" entry per code unit
            out.push_back(0x80 | (13 << 3));
            int32_t delta = target - line;
            PutVarint(out, delta < 0 ? ((uint32_t)-delta << 1) | 1 : (uint32_t)delta << 1);
            line = target;
        }
    } else if (layout_.linetable_kind == PYI_LINETABLE_PEP626) {
        for (int32_t target : lines) { // (2 bytes, delta) per code unit
            out.push_back(2);
            out.push_back((uint8_t)(int8_t)(target - line));
            line = target;
        }
    } else {
        uint8_t pending = 0; // address increment not yet written
        for (int32_t target : lines) {
            if (target != line) {
                out.push_back(pending);
                out.push_back((uint8_t)(int8_t)(target - line));
                line = target;
                pending = 0;
            }
            pending += 2;
        }
    }
    return out;
}

uint64_t FakePython::Code(const std::string &qualname, const std::string &file,
                          int32_t firstlineno, const std::vector<int32_t> &lines,
                          const std::vector<uint8_t> &bytecode,
                          const std::vector<std::string> &names)
{
    const pyi_py_layout &l = layout_;
    size_t units = std::max(lines.size(), bytecode.size() / 2);
    size_t size = l.code_read_size + 64;
    if (l.code_code_adaptive >= 0)
        size = std::max(size, (size_t)l.code_code_adaptive + 2 * units + 8);
    uint64_t code = Alloc(size);
    Put<uint64_t>(code, l.object_type, code_type());
    Put<int32_t>(code, l.code_firstlineno, firstlineno);
    Put<uint64_t>(code, l.code_filename, Str(file));
    std::string name = qualname.substr(qualname.rfind('.') == std::string::npos
                                           ? 0 : qualname.rfind('.') + 1);
    Put<uint64_t>(code, l.code_name, Str(name));
    if (l.code_qualname >= 0)
        Put<uint64_t>(code, l.code_qualname, Str(qualname));
    Put<uint64_t>(code, l.code_linetable, Bytes(LineTable(firstlineno, lines)));
    std::vector<uint64_t> name_objects;
    for (const std::string &n : names)
        name_objects.push_back(Str(n));
    Put<uint64_t>(code, l.code_names, Tuple(name_objects));
    Put<uint64_t>(code, l.code_local_names, Tuple({}));
    std::vector<uint8_t> instructions = bytecode;
    instructions.resize(2 * units, 0);
    if (l.code_code_adaptive >= 0) {
        Put<int32_t>(code, l.code_firsttraceable, 0);
        Put<int64_t>(code, l.code_units, (int64_t)units);
        memcpy(At(code + (uint64_t)l.code_code_adaptive), instructions.data(), instructions.size());
    } else {
        Put<uint64_t>(code, l.code_code, Bytes(instructions));
    }
    return code;
}

uint64_t FakePython::Frame(const FakeFrame &f, uint64_t previous)
{
    const pyi_py_layout &l = layout_;
    uint64_t frame = Alloc(std::max<size_t>(l.frame_read_size, 400));
    Put<uint64_t>(frame, l.frame_previous, previous);
    Put<uint64_t>(frame, l.frame_code, f.code);
    if (l.frame_owner >= 0)
        Put<uint8_t>(frame, l.frame_owner, f.owner);
    switch (l.instr_kind) {
    case PYI_INSTR_LASTI_BYTES:
        Put<int32_t>(frame, l.frame_instr, f.lasti < 0 ? -1 : 2 * f.lasti);
        break;
    case PYI_INSTR_LASTI_UNITS:
        Put<int32_t>(frame, l.frame_instr, f.lasti);
        break;
    default:
        Put<uint64_t>(frame, l.frame_instr,
                      f.code + (uint64_t)l.code_code_adaptive + (uint64_t)(2 * (int64_t)f.lasti));
    }
    return frame;
}

void FakePython::SetFrames(uint64_t tstate, const std::vector<FakeFrame> &frames)
{
    const pyi_py_layout &l = layout_;
    std::vector<uint64_t> addresses(frames.size());
    uint64_t previous = 0;
    for (size_t i = frames.size(); i-- > 0;) {
        addresses[i] = Frame(frames[i], previous);
        previous = addresses[i];
    }
    uint64_t top = frames.empty() ? 0 : addresses[0];
    if (l.cframe_current_frame >= 0) {
        uint64_t cframe = Alloc(64);
        Put<uint64_t>(cframe, l.cframe_current_frame, top);
        Put<uint64_t>(tstate, l.tstate_frame, cframe);
    } else {
        Put<uint64_t>(tstate, l.tstate_frame, top);
    }
    for (ThreadFrames &t : frames_)
        if (t.tstate == tstate)
            t.frames = addresses;
}

uint64_t FakePython::FrameAddress(uint64_t tstate, size_t index) const
{
    for (const ThreadFrames &t : frames_)
        if (t.tstate == tstate)
            return t.frames.at(index);
    return 0;
}

uint64_t FakePython::Thread(const std::vector<FakeFrame> &frames, uint64_t thread_id,
                            uint64_t native_id)
{
    const pyi_py_layout &l = layout_;
    uint64_t tstate = Alloc(512);
    Put<uint64_t>(tstate, l.tstate_interp, interp_);
    Put<uint64_t>(tstate, l.tstate_thread_id, thread_id);
    if (l.tstate_native_thread_id >= 0)
        Put<uint64_t>(tstate, l.tstate_native_thread_id, native_id);
    // New thread states go to the head of the list, as in CPython.
    Put<uint64_t>(tstate, l.tstate_next, Get<uint64_t>(interp_, l.interp_threads_head));
    Put<uint64_t>(interp_, l.interp_threads_head, tstate);
    frames_.push_back({tstate, {}});
    SetFrames(tstate, frames);
    threads_.push_back(tstate);
    return tstate;
}

void FakePython::SetGilHolder(uint64_t tstate)
{
    if (layout_.runtime_gil_current >= 0) {
        Put<uint64_t>(runtime_, layout_.runtime_gil_current, tstate);
    } else {
        Put<int32_t>(gil_, layout_.gil_locked, tstate != 0);
        Put<uint64_t>(gil_, layout_.gil_last_holder, tstate);
    }
}

void FakePython::SetGcRunning(bool running)
{
    if (layout_.runtime_gc >= 0)
        Put<int32_t>(runtime_, layout_.runtime_gc + layout_.gc_collecting, running);
    else
        Put<int32_t>(interp_, layout_.interp_gc + layout_.gc_collecting, running);
}
