// SPDX-License-Identifier: MIT
// Error values: every one has a distinct name and message; values are pinned.
#include <gtest/gtest.h>

#include <set>
#include <string>

extern "C" {
#include "pyi/errors.h"
}

TEST(Errors, ValuesArePinned)
{
    // Renumbering breaks callers that stored values: these never change.
    EXPECT_EQ(PYI_OK, 0);
    EXPECT_EQ(PYI_E_IO, -1);
    EXPECT_EQ(PYI_E_NOMEM, -2);
    EXPECT_EQ(PYI_E_CORRUPT, -3);
    EXPECT_EQ(PYI_E_VERSION, -4);
    EXPECT_EQ(PYI_E_TRUNCATED, -5);
    EXPECT_EQ(PYI_E_UNSUPPORTED, -6);
    EXPECT_EQ(PYI_E_NOT_TRACE, -7);
    EXPECT_EQ(PYI_E_INVALID_ARG, -8);
    EXPECT_EQ(PYI_E_STATE, -9);
    EXPECT_EQ(PYI_E_LIMIT, -10);
    EXPECT_EQ(PYI_E_EMPTY, -11);
}

TEST(Errors, NamesAndMessagesAreDistinct)
{
    std::set<std::string> names, messages;
    for (int e = 0; e >= PYI_E_EMPTY; e--) {
        names.insert(pyi_err_name(e));
        messages.insert(pyi_strerror(e));
    }
    EXPECT_EQ(names.size(), 12u);
    EXPECT_EQ(messages.size(), 12u);
    EXPECT_STREQ(pyi_err_name(PYI_E_CORRUPT), "E_CORRUPT");
    EXPECT_STREQ(pyi_err_name(-1000), "UNKNOWN");
    EXPECT_STREQ(pyi_strerror(-1000), "unknown error");
}
