// str/bytes/tuple readers: every kind and form of str, bad objects refused, output bounded.
// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include "fake_python.h"

extern "C" {
#include "mem_reader_internal.h"
#include "py_object_internal.h"
}

namespace {

std::string MinorName(const ::testing::TestParamInfo<unsigned> &param)
{
    return "3_" + std::to_string(param.param);
}

class Objects : public ::testing::TestWithParam<unsigned> {
protected:
    void SetUp() override
    {
        py_ = std::make_unique<FakePython>(GetParam());
        char msg[256];
        ASSERT_EQ(0, pyi_mem_open(&mem_, 0, PYI_MEMORY_AUTO, msg, sizeof msg)) << msg;
    }
    void TearDown() override { pyi_mem_close(&mem_); }

    std::string Read(uint64_t obj, size_t size = 4096, int *rc = nullptr)
    {
        std::vector<char> buf(size);
        size_t length = 0;
        int result = pyi_read_str(&mem_, &py_->layout(), obj, buf.data(), size, &length);
        if (rc != nullptr)
            *rc = result;
        EXPECT_EQ(strlen(buf.data()), length);
        return result == 0 ? std::string(buf.data(), length) : "<error>";
    }

    std::unique_ptr<FakePython> py_;
    pyi_mem_reader mem_;
};

TEST_P(Objects, StrOfEveryKind)
{
    EXPECT_EQ("plain_ascii", Read(py_->Str("plain_ascii")));
    EXPECT_EQ("", Read(py_->Str("")));
    EXPECT_EQ("café", Read(py_->Str("café")));                // kind 1, not ASCII
    EXPECT_EQ("函数_名", Read(py_->Str("函数_名")));          // kind 2
    EXPECT_EQ("snake_🐍", Read(py_->Str("snake_🐍")));        // kind 4
    EXPECT_EQ("ünï", Read(py_->StrKind(U"ünï", 2, true, false))); // wider kind than needed
    // Legacy non-compact strings keep their characters behind data.any.
    EXPECT_EQ("wide 函", Read(py_->StrKind(U"wide 函", 2, false, false)));
    EXPECT_EQ("ascii", Read(py_->StrKind(U"ascii", 1, false, false)));
}

TEST_P(Objects, LoneSurrogatesBecomeReplacementCharacters)
{
    // What surrogateescape makes of undecodable bytes in file names.
    std::u32string text = U"bad";
    text.push_back(0xDC80);
    EXPECT_EQ("bad\xEF\xBF\xBD", Read(py_->StrKind(text, 2, true, false)));
}

TEST_P(Objects, OutputIsCutToTheBufferAtACharacterBoundary)
{
    EXPECT_EQ("abcd", Read(py_->Str("abcdefgh"), 5));
    EXPECT_EQ("函", Read(py_->Str("函数"), 5)); // 3 bytes fit, the next 3 do not
}

TEST_P(Objects, ImpossibleStrObjectsAreRefused)
{
    const pyi_py_layout &l = py_->layout();
    int rc;
    uint64_t s = py_->Str("fine");
    uint32_t state = py_->Get<uint32_t>(s, l.unicode_state);
    py_->Put<uint32_t>(s, l.unicode_state, state & ~(7u << 2)); // kind 0: not ready
    Read(s, 64, &rc);
    EXPECT_EQ(PYI_OBJ_INVALID, rc);
    py_->Put<uint32_t>(s, l.unicode_state, (state & ~(7u << 2)) | (2u << 2)); // ASCII but wide
    Read(s, 64, &rc);
    EXPECT_EQ(PYI_OBJ_INVALID, rc);
    uint64_t high = py_->StrKind(U"h\u00e9", 1, true, true); // ASCII flag with a high byte
    Read(high, 64, &rc);
    EXPECT_EQ(PYI_OBJ_INVALID, rc);
    Read(0, 64, &rc);
    EXPECT_EQ(PYI_MEM_FAULT, rc);
    uint64_t t = py_->Str("x");
    py_->Put<int64_t>(t, l.unicode_length, (int64_t)1 << 40);
    Read(t, 64, &rc);
    EXPECT_EQ(PYI_OBJ_INVALID, rc);
}

TEST_P(Objects, LongStrIsCutAtTheCharacterLimit)
{
    std::string longer(PYI_STRING_MAX_CHARS + 100, 'a');
    EXPECT_EQ(std::string(PYI_STRING_MAX_CHARS, 'a'), Read(py_->Str(longer), 2 * longer.size()));
}

TEST_P(Objects, BytesAndTuples)
{
    uint8_t buf[16];
    size_t n = 0;
    uint64_t b = py_->Bytes({1, 2, 3, 250});
    ASSERT_EQ(0, pyi_read_bytes(&mem_, &py_->layout(), b, buf, sizeof buf, &n));
    EXPECT_EQ(4u, n);
    EXPECT_EQ(250, buf[3]);
    EXPECT_EQ(PYI_OBJ_INVALID, pyi_read_bytes(&mem_, &py_->layout(), b, buf, 3, &n));
    uint64_t t = py_->Tuple({11, 22, 33});
    uint64_t item = 0;
    ASSERT_EQ(0, pyi_read_tuple_item(&mem_, &py_->layout(), t, 2, &item));
    EXPECT_EQ(33u, item);
    EXPECT_EQ(PYI_OBJ_INVALID, pyi_read_tuple_item(&mem_, &py_->layout(), t, 3, &item));
}

INSTANTIATE_TEST_SUITE_P(CPython, Objects, ::testing::Values(8u, 11u, 12u, 13u), MinorName);

TEST(Utf8, EncodesEveryWidth)
{
    char out[4];
    EXPECT_EQ(1u, pyi_utf8_put(out, 'A'));
    EXPECT_EQ(2u, pyi_utf8_put(out, 0xE9));
    EXPECT_EQ(3u, pyi_utf8_put(out, 0x51FD));
    EXPECT_EQ(4u, pyi_utf8_put(out, 0x1F40D));
    EXPECT_EQ(0, memcmp(out, "\xF0\x9F\x90\x8D", 4));
}

} // namespace
