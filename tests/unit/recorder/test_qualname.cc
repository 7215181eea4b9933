// Qualified names rebuilt from source for CPython <= 3.10 code objects.
// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

extern "C" {
#include "py_qualname_internal.h"
}

namespace {

const char kSource[] = R"PY(import functools

def top():
    def inner():
        return lambda: 1
    return inner


class Outer:
    """A docstring with
def not_a_function():
    and odd indentation."""

    class Inner:
        @staticmethod
        @functools.lru_cache
        def method(x):
            return [y for y in x]

        async def coro(self):
            text = "def fake(): class Fake:"
            return text

    if True:
        def conditional(self):
            pass

    x = (lambda: 2,
         lambda: 3)


def gen():
    yield (i for i in range(3))


value = [
    1,
]
def after_brackets(): pass
def café(): pass
)PY";

class Qualname : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/pyi-qualname-XXXXXX.py";
        int fd = mkstemps(tmpl, 3);
        ASSERT_GE(fd, 0);
        ASSERT_EQ((ssize_t)strlen(kSource), write(fd, kSource, strlen(kSource)));
        close(fd);
        path_ = tmpl;
        memset(&cache_, 0, sizeof cache_);
    }
    void TearDown() override
    {
        pyi_source_cache_destroy(&cache_);
        unlink(path_.c_str());
    }
    std::string Name(int line, const char *name, int *confirmed = nullptr)
    {
        char out[256];
        int rc = pyi_qualname_from_source(&cache_, path_.c_str(), line, name, out, sizeof out);
        if (confirmed != nullptr)
            *confirmed = rc;
        return out;
    }
    std::string path_;
    pyi_source_cache cache_;
};

// co_firstlineno is the first decorator's line for decorated code (3.8+).
TEST_F(Qualname, NestedFunctionsClassesAndMethods)
{
    EXPECT_EQ("top", Name(3, "top"));
    EXPECT_EQ("top.<locals>.inner", Name(4, "inner"));
    EXPECT_EQ("top.<locals>.inner.<locals>.<lambda>", Name(5, "<lambda>"));
    EXPECT_EQ("Outer", Name(9, "Outer"));
    EXPECT_EQ("Outer.Inner", Name(14, "Inner"));
    EXPECT_EQ("Outer.Inner.method", Name(15, "method"));
    EXPECT_EQ("Outer.Inner.method.<locals>.<listcomp>", Name(18, "<listcomp>"));
    EXPECT_EQ("Outer.Inner.coro", Name(20, "coro"));
    EXPECT_EQ("Outer.conditional", Name(25, "conditional"));
    EXPECT_EQ("Outer.<lambda>", Name(28, "<lambda>"));
    EXPECT_EQ("Outer.<lambda>", Name(29, "<lambda>")); // continuation line of the statement
    EXPECT_EQ("gen", Name(32, "gen"));
    EXPECT_EQ("gen.<locals>.<genexpr>", Name(33, "<genexpr>"));
    EXPECT_EQ("after_brackets", Name(39, "after_brackets"));
    EXPECT_EQ("café", Name(40, "café"));
}

TEST_F(Qualname, StringsThatLookLikeCodeAreNotCode)
{
    int confirmed;
    // Line 11 is inside the docstring: no function starts there.
    EXPECT_EQ("not_a_function", Name(11, "not_a_function", &confirmed));
    EXPECT_EQ(0, confirmed);
}

TEST_F(Qualname, DisagreementsFallBackToTheBareName)
{
    int confirmed;
    EXPECT_EQ("wrong_name", Name(3, "wrong_name", &confirmed)); // the file changed
    EXPECT_EQ(0, confirmed);
    EXPECT_EQ("top", Name(3, "top", &confirmed));
    EXPECT_EQ(1, confirmed);
    EXPECT_EQ("x", Name(999, "x", &confirmed));
    EXPECT_EQ(0, confirmed);
    EXPECT_EQ("<module>", Name(1, "<module>", &confirmed));
    char out[64];
    EXPECT_EQ(0, pyi_qualname_from_source(&cache_, "/nonexistent/file.py", 3, "top", out,
                                          sizeof out));
    EXPECT_STREQ("top", out);
    EXPECT_EQ(0, pyi_qualname_from_source(&cache_, "<frozen importlib._bootstrap>", 3, "top",
                                          out, sizeof out));
}

} // namespace
