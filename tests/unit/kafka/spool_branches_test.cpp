// Spool edge cases the main tests do not reach: segment-like names that are not ours (20
// characters with a letter, id 0, an id beyond 64 bits), hand-made format-2 records whose header
// CRC is right but whose length is impossible or whose key length overruns the payload, more
// damaged stretches in one segment than are logged one by one, and nack() of a record that was
// never taken.

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/spool.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/support.hpp"

namespace tocsin::kafka {
namespace {

using test::counter_value;
namespace fs = std::filesystem;

std::string le32(std::size_t v) {
  std::string out;
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
  return out;
}

std::uint32_t crc(std::string_view bytes) {
  return static_cast<std::uint32_t>(crc32(crc32(0L, Z_NULL, 0),
                                          reinterpret_cast<const Bytef*>(bytes.data()),
                                          static_cast<uInt>(bytes.size())));
}

// A format-2 record (see spool.hpp) with a right header CRC whatever `length` and `payload` are.
std::string v2_record(std::uint32_t length, const std::string& payload) {
  std::string header = std::string("\xf5TS\x02", 4) + le32(length) + le32(crc(payload));
  header += le32(crc(header));
  return header + payload;
}

std::string good_record(const std::string& key, const std::string& value) {
  const std::string payload = le32(key.size()) + key + value;
  return v2_record(static_cast<std::uint32_t>(payload.size()), payload);
}

std::vector<std::string> values_of(const std::vector<spool_record>& records) {
  std::vector<std::string> values;
  for (const auto& r : records) values.push_back(r.value);
  return values;
}

TEST(spool_branches, segment_like_names_that_are_not_ours_are_left_alone) {
  test::temp_dir dir("spool");
  const std::string record = good_record("k", "v");
  dir.write_file("0000000000000000000a.seg", record);  // 20 characters, not all digits
  dir.write_file("00000000000000000000.seg", record);  // id 0 is never used
  dir.write_file("99999999999999999999.seg", record);  // beyond 64 bits
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.records(), 0U);
  EXPECT_TRUE(s.take(10).empty());
  ASSERT_TRUE(s.append("key", "new"));
  const auto taken = s.take(10);
  ASSERT_EQ(taken.size(), 1U);
  EXPECT_EQ(taken[0].id, 1U);
  for (const char* name :
       {"0000000000000000000a.seg", "00000000000000000000.seg", "99999999999999999999.seg"}) {
    EXPECT_EQ(test::read_file(dir / name), record) << name;
  }
}

TEST(spool_branches, a_header_with_an_impossible_length_is_skipped_to_the_next_record) {
  test::temp_dir dir("spool");
  // A right header CRC, but a payload length too short to hold even the key length.
  const std::string bad = v2_record(2, "ab");
  dir.write_file("00000000000000000001.seg",
                 good_record("k1", "first") + bad + good_record("k2", "second"));
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(values_of(s.take(10)), (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_total", {{"what", "record"}}), 1U);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_total", {{"what", "tail"}}), 0U);
}

TEST(spool_branches, a_key_length_beyond_the_payload_costs_only_that_record) {
  test::temp_dir dir("spool");
  // The payload CRC is right, but its key length (99) overruns the 9 bytes after it.
  const std::string payload = le32(99) + "key-value";
  const std::string bad = v2_record(static_cast<std::uint32_t>(payload.size()), payload);
  dir.write_file("00000000000000000001.seg",
                 good_record("k1", "first") + bad + good_record("k3", "third"));
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(s.records(), 2U);
  const auto taken = s.take(10);
  EXPECT_EQ(values_of(taken), (std::vector<std::string>{"first", "third"}));
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"), 1U);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_total", {{"what", "record"}}), 1U);
  // Once its intact records are acknowledged, the damaged file is kept aside, not deleted.
  for (const auto& r : taken) s.ack(r.id);
  EXPECT_TRUE(fs::exists(dir / "00000000000000000001.seg.bad"));
  EXPECT_FALSE(fs::exists(dir / "00000000000000000001.seg"));
}

TEST(spool_branches, many_damaged_stretches_in_one_segment_are_each_counted) {
  test::temp_dir dir("spool");
  constexpr int damaged = 8;  // more than are logged one by one
  std::string data;
  std::vector<std::string> expected;
  for (int i = 0; i < damaged; ++i) {
    const std::string value = "good-" + std::to_string(i);
    data += good_record("k", value);
    expected.push_back(value);
    std::string broken = good_record("k", "broken-" + std::to_string(i));
    broken.back() ^= 0x01;  // payload CRC mismatch
    data += broken;
  }
  data += good_record("k", "last");
  expected.emplace_back("last");
  dir.write_file("00000000000000000001.seg", data);
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(values_of(s.take(100)), expected);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"),
            static_cast<std::uint64_t>(damaged));
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_total", {{"what", "record"}}),
            static_cast<std::uint64_t>(damaged));
}

TEST(spool_branches, nack_of_a_record_never_taken_changes_nothing) {
  test::temp_dir dir("spool");
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  ASSERT_TRUE(s.append("k1", "one"));
  ASSERT_TRUE(s.append("k2", "two"));
  s.nack(1);  // not handed out: nothing to give back
  s.nack(2);
  const auto taken = s.take(10);
  EXPECT_EQ(values_of(taken), (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(s.take(10).empty());  // nothing handed out twice
  EXPECT_EQ(s.records(), 2U);
}

}  // namespace
}  // namespace tocsin::kafka
