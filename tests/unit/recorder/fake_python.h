// A fake CPython interpreter in this process's memory, laid out by a pyi_py_layout.
// SPDX-License-Identifier: MIT
//
// The engine reads memory by address and layout only, so tests can build the
// runtime, interpreter, thread states, frames, code objects and strings of
// any supported version in plain buffers and point the walker, the resolver
// or a whole recorder at them, without Python. Every object lives until the
// FakePython is destroyed (so tests can also rewrite or unmap them).
#ifndef PYI_TEST_FAKE_PYTHON_H
#define PYI_TEST_FAKE_PYTHON_H

#include <stdint.h>
#include <string.h>

#include <memory>
#include <string>
#include <vector>

extern "C" {
#include "py_layout_internal.h"
#include "pyi/recorder.h"
}

struct FakeFrame {
    uint64_t code;  // a code object from FakePython::Code
    int32_t lasti;  // instruction index in code units
    uint8_t owner = 0;
};

class FakePython {
public:
    explicit FakePython(unsigned minor);

    const pyi_py_layout &layout() const { return layout_; }
    unsigned minor() const { return layout_.minor; }
    uint64_t runtime() const { return runtime_; }
    uint64_t code_type() const { return Addr(&code_type_); }
    pyi_target target() const;

    // A str object (UTF-8 in, stored with the smallest kind that fits).
    uint64_t Str(const std::string &utf8);
    // A str with an explicit kind (1, 2 or 4), compact or not.
    uint64_t StrKind(const std::u32string &text, unsigned kind, bool compact, bool ascii);
    uint64_t Bytes(const std::vector<uint8_t> &data);
    uint64_t Tuple(const std::vector<uint64_t> &items);

    // A code object whose instruction i (code unit i) is on line lines[i].
    // bytecode: raw code units (opcode, oparg) pairs; names: co_names.
    uint64_t Code(const std::string &qualname, const std::string &file, int32_t firstlineno,
                  const std::vector<int32_t> &lines, const std::vector<uint8_t> &bytecode = {},
                  const std::vector<std::string> &names = {});

    // A thread with the given frames (innermost first); returns its PyThreadState.
    uint64_t Thread(const std::vector<FakeFrame> &frames, uint64_t thread_id,
                    uint64_t native_id);
    // Rewrites a thread's frames in place of the old ones.
    void SetFrames(uint64_t tstate, const std::vector<FakeFrame> &frames);
    uint64_t FrameAddress(uint64_t tstate, size_t index) const;

    void SetGilHolder(uint64_t tstate);
    void SetGcRunning(bool running);

    // Raw access for tests that corrupt things.
    unsigned char *At(uint64_t address) { return reinterpret_cast<unsigned char *>(address); }
    template <typename T> void Put(uint64_t address, int32_t offset, T value)
    {
        memcpy(At(address + (uint64_t)offset), &value, sizeof value);
    }
    template <typename T> T Get(uint64_t address, int32_t offset) const
    {
        T value;
        memcpy(&value, reinterpret_cast<const void *>(address + (uint64_t)offset), sizeof value);
        return value;
    }
    static uint64_t Addr(const void *p) { return (uint64_t)(uintptr_t)p; }

private:
    uint64_t Alloc(size_t size);
    uint64_t Frame(const FakeFrame &f, uint64_t previous);
    std::vector<uint8_t> LineTable(int32_t firstlineno, const std::vector<int32_t> &lines);

    pyi_py_layout layout_;
    std::vector<std::unique_ptr<std::vector<uint64_t>>> blocks_; // 8-aligned storage
    uint64_t runtime_ = 0, interp_ = 0, gil_ = 0;
    std::vector<uint64_t> threads_;
    struct ThreadFrames {
        uint64_t tstate;
        std::vector<uint64_t> frames;
    };
    std::vector<ThreadFrames> frames_;
    uint64_t code_type_ = 0xC0DE;
};

#endif // PYI_TEST_FAKE_PYTHON_H
