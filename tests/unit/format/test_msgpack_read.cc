// SPDX-License-Identifier: MIT
// The bounds-checked msgpack cursor, checked against msgpack-c's packer and
// against lengths that claim more bytes than remain.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

extern "C" {
#include <msgpack.h>

#include "msgpack_read_internal.h"
}

namespace {

struct Packed {
    msgpack_sbuffer buf;
    msgpack_packer pk;
    Packed()
    {
        msgpack_sbuffer_init(&buf);
        msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    }
    ~Packed() { msgpack_sbuffer_destroy(&buf); }
    pyi_mp cursor() const
    {
        pyi_mp m;
        pyi__mp_init(&m, buf.data, buf.size);
        return m;
    }
};

} // namespace

TEST(MsgpackRead, IntegersOfEveryWidthMatchMsgpackC)
{
    std::mt19937_64 rng(7);
    for (int i = 0; i < 20000; i++) {
        int shift = (int)(rng() % 64);
        int64_t value = (int64_t)(rng() >> shift);
        if (rng() % 2)
            value = -value;
        Packed p;
        msgpack_pack_int64(&p.pk, value);
        pyi_mp m = p.cursor();
        int64_t got;
        ASSERT_EQ(pyi__mp_int(&m, &got), PYI_OK) << value;
        EXPECT_EQ(got, value);
        EXPECT_EQ(pyi__mp_remaining(&m), 0u);
        pyi_mp u = p.cursor();
        uint64_t unsigned_value;
        EXPECT_EQ(pyi__mp_uint(&u, &unsigned_value) == PYI_OK, value >= 0) << value;
    }
    Packed p;
    msgpack_pack_uint64(&p.pk, UINT64_MAX);
    pyi_mp m = p.cursor();
    uint64_t big;
    ASSERT_EQ(pyi__mp_uint(&m, &big), PYI_OK);
    EXPECT_EQ(big, UINT64_MAX);
    pyi_mp m2 = p.cursor();
    int64_t as_signed;
    EXPECT_EQ(pyi__mp_int(&m2, &as_signed), PYI_E_CORRUPT); // does not fit int64
}

TEST(MsgpackRead, StringsArraysMapsAndSkipping)
{
    Packed p;
    msgpack_pack_array(&p.pk, 3);
    msgpack_pack_str_with_body(&p.pk, "héllo", strlen("héllo"));
    msgpack_pack_map(&p.pk, 1);
    msgpack_pack_str_with_body(&p.pk, "k", 1);
    msgpack_pack_double(&p.pk, 2.5);
    std::string long_text(70000, 'z'); // str32
    msgpack_pack_str_with_body(&p.pk, long_text.data(), long_text.size());
    pyi_mp m = p.cursor();
    uint32_t n;
    ASSERT_EQ(pyi__mp_array(&m, &n), PYI_OK);
    EXPECT_EQ(n, 3u);
    const char *s;
    uint32_t len;
    ASSERT_EQ(pyi__mp_str(&m, &s, &len), PYI_OK);
    EXPECT_EQ(std::string(s, len), "héllo");
    pyi_value v;
    ASSERT_EQ(pyi__mp_value(&m, &v), PYI_OK);
    EXPECT_EQ(v.kind, PYI_VALUE_RAW);
    ASSERT_EQ(pyi__mp_value(&m, &v), PYI_OK);
    EXPECT_EQ(v.kind, PYI_VALUE_STRING);
    EXPECT_EQ(v.length, 70000u);
    EXPECT_EQ(pyi__mp_remaining(&m), 0u);
    pyi_mp all = p.cursor();
    EXPECT_EQ(pyi__mp_skip(&all), PYI_OK);
    EXPECT_EQ(pyi__mp_remaining(&all), 0u);
}

TEST(MsgpackRead, ClaimedLengthsBeyondTheDataAreRejected)
{
    const std::vector<std::vector<uint8_t>> lies = {
        {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01},       // array32 of 4G elements
        {0xdf, 0x7f, 0xff, 0xff, 0xff, 0x01, 0x02}, // map32
        {0xdb, 0xff, 0xff, 0xff, 0xff, 'a'},        // str32
        {0xc6, 0x00, 0x01, 0x00, 0x00, 'a'},        // bin32
        {0xc9, 0x00, 0x10, 0x00, 0x00, 0x01},       // ext32
        {0xda, 0x00},                               // header itself cut
        {0xcf, 1, 2, 3},                            // uint64 cut
        {0x92, 0x01},                               // array of 2 with 1
        {0xc1},                                     // never used
    };
    for (const auto &bytes : lies) {
        pyi_mp m;
        pyi__mp_init(&m, bytes.data(), bytes.size());
        EXPECT_EQ(pyi__mp_skip(&m), PYI_E_CORRUPT) << (int)bytes[0];
        pyi__mp_init(&m, bytes.data(), bytes.size());
        pyi_value v;
        EXPECT_EQ(pyi__mp_value(&m, &v), PYI_E_CORRUPT) << (int)bytes[0];
    }
}

TEST(MsgpackRead, StrictValuesRefuseExtBadKeysBadUtf8AndDeepNesting)
{
    const std::vector<std::vector<uint8_t>> bad = {
        {0x91, 0xd4, 0x01, 0x02},         // ext inside an array
        {0x81, 0x01, 0x02},               // int key
        {0x91, 0xa2, 0xc3, 0x28},         // invalid UTF-8
        {0x91, 0xa3, 0xed, 0xa0, 0x80},   // a surrogate
        {0x91, 0xa2, 0xc0, 0x80},         // an overlong NUL
    };
    for (const auto &bytes : bad) {
        pyi_mp m;
        pyi__mp_init(&m, bytes.data(), bytes.size());
        pyi_value v;
        EXPECT_EQ(pyi__mp_value(&m, &v), PYI_E_CORRUPT);
        pyi__mp_init(&m, bytes.data(), bytes.size());
        EXPECT_EQ(pyi__mp_skip(&m), PYI_OK) << "unknown records may hold anything";
    }
    std::vector<uint8_t> deep(PYI_MP_MAX_DEPTH + 1, 0x91);
    deep.push_back(0x01);
    pyi_mp m;
    pyi__mp_init(&m, deep.data(), deep.size());
    pyi_value v;
    EXPECT_EQ(pyi__mp_value(&m, &v), PYI_E_CORRUPT);
    std::vector<uint8_t> ok(PYI_MP_MAX_DEPTH, 0x91);
    ok.push_back(0x01);
    pyi__mp_init(&m, ok.data(), ok.size());
    EXPECT_EQ(pyi__mp_value(&m, &v), PYI_OK);
    // skipping is iterative: any depth, no recursion
    std::vector<uint8_t> very_deep(100000, 0x91);
    very_deep.push_back(0x01);
    pyi__mp_init(&m, very_deep.data(), very_deep.size());
    EXPECT_EQ(pyi__mp_skip(&m), PYI_OK);
}
