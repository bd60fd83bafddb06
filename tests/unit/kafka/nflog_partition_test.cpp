// kafka::nflog_partition(): the notification-log partition of a group key, the same on every
// router. The expected values are FNV-1a 32 computed outside tocsin (the published test vectors
// for "", "a" and "foobar"; the others by a separate implementation), then reduced by hand.

#include <gtest/gtest.h>

#include <climits>
#include <string>
#include <string_view>

#include "kafka/topics.hpp"

namespace tocsin::kafka {
namespace {

TEST(nflog_partition, is_fnv1a_32_of_the_key_modulo_the_partition_count) {
  // FNV-1a 32("") = 0x811c9dc5 = 2166136261
  EXPECT_EQ(nflog_partition("", 6), 1);  // 2166136261 % 6
  EXPECT_EQ(nflog_partition("", 7), 2);  // 2166136261 % 7
  EXPECT_EQ(nflog_partition("", 100), 61);
  // FNV-1a 32("a") = 0xe40c292c = 3826002220
  EXPECT_EQ(nflog_partition("a", 6), 4);
  EXPECT_EQ(nflog_partition("a", 7), 5);
  EXPECT_EQ(nflog_partition("a", 100), 20);
  // FNV-1a 32("foobar") = 0xbf9cf968 = 3214735720
  EXPECT_EQ(nflog_partition("foobar", 6), 4);
  EXPECT_EQ(nflog_partition("foobar", 7), 0);
  // A group key as route_tree makes them: 0x75423360 = 1967273824
  EXPECT_EQ(nflog_partition(R"({}:{alertname="disk-full"})", 6), 0);
  EXPECT_EQ(nflog_partition(R"({}:{alertname="disk-full"})", 7), 3);
}

TEST(nflog_partition, bytes_above_127_are_hashed_unsigned) {
  // FNV-1a 32 of the single byte 0xff = 0x7a0b824e = 2047574606 (a signed char would give
  // another hash).
  EXPECT_EQ(nflog_partition(std::string_view("\xff", 1), 6), 2);
  EXPECT_EQ(nflog_partition(std::string_view("\xff", 1), 100), 6);
  // 0x80 'a' 'b' 'c' → 0xa3beea91 = 2747197073
  EXPECT_EQ(nflog_partition(std::string_view("\x80"
                                             "abc",
                                             4),
                            100),
            97);
}

TEST(nflog_partition, a_hash_above_int_max_still_gives_a_partition_in_range) {
  // 3214735720 % 2147483647: the hash is reduced unsigned, never as a negative int.
  EXPECT_EQ(nflog_partition("foobar", INT_MAX), 1067252073);
  EXPECT_EQ(nflog_partition("a", INT_MAX), static_cast<int>(3826002220U % 2147483647U));
}

TEST(nflog_partition, one_or_no_partitions_give_partition_0) {
  for (const char* key : {"", "a", "foobar", "{}:{alertname=\"x\"}"}) {
    EXPECT_EQ(nflog_partition(key, 1), 0) << key;
    EXPECT_EQ(nflog_partition(key, 0), 0) << key;
    EXPECT_EQ(nflog_partition(key, -1), 0) << key;
    EXPECT_EQ(nflog_partition(key, INT_MIN), 0) << key;
  }
}

TEST(nflog_partition, every_key_lands_in_range_and_keys_spread) {
  int seen[6] = {};
  for (int i = 0; i < 600; ++i) {
    const std::string key = "{}:{alertname=\"a" + std::to_string(i) + "\"}";
    const int p = nflog_partition(key, 6);
    ASSERT_GE(p, 0) << key;
    ASSERT_LT(p, 6) << key;
    EXPECT_EQ(nflog_partition(key, 6), p) << "not stable: " << key;
    ++seen[p];
  }
  for (int p = 0; p < 6; ++p) EXPECT_GT(seen[p], 0) << "no key in partition " << p;
}

}  // namespace
}  // namespace tocsin::kafka
