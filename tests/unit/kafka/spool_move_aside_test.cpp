// kafka::spool keeps a damaged segment for inspection by renaming it to .bad, .bad.1, ... When
// every one of those names is taken (1000 of them), the file is left where it is, never deleted,
// and the spool goes on.

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "kafka/spool.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/support.hpp"

namespace tocsin::kafka {
namespace {

namespace fs = std::filesystem;

constexpr const char* segment = "00000000000000000001.seg";

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

// A format-2 record (see spool.hpp).
std::string good_record(const std::string& key, const std::string& value) {
  const std::string payload = le32(key.size()) + key + value;
  std::string header = std::string("\xf5TS\x02", 4) + le32(payload.size()) + le32(crc(payload));
  header += le32(crc(header));
  return header + payload;
}

const std::string garbage = "this is not a spool record, not even its header";

void take_every_copy_name(const test::temp_dir& dir) {
  dir.write_file(std::string(segment) + ".bad", "copy 0");
  for (int n = 1; n < 1000; ++n) {
    dir.write_file(std::string(segment) + ".bad." + std::to_string(n), "copy " + std::to_string(n));
  }
}

TEST(spool_move_aside, a_wholly_damaged_segment_goes_to_the_first_free_copy_name) {
  test::temp_dir dir("spool");
  dir.write_file(std::string(segment) + ".bad", "an earlier copy");
  dir.write_file(segment, garbage);
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(fs::exists(dir / segment));
  EXPECT_EQ(test::read_file(dir / (std::string(segment) + ".bad")), "an earlier copy");
  EXPECT_EQ(test::read_file(dir / (std::string(segment) + ".bad.1")), garbage);
}

TEST(spool_move_aside, a_wholly_damaged_segment_stays_in_place_when_every_copy_name_is_taken) {
  test::temp_dir dir("spool");
  take_every_copy_name(dir);
  dir.write_file(segment, garbage);
  metrics_registry metrics;
  {
    spool s(dir.path(), {}, metrics);
    EXPECT_TRUE(s.empty());
    // The spool still works, in a segment of its own.
    ASSERT_TRUE(s.append("k", "new"));
    const auto taken = s.take(10);
    ASSERT_EQ(taken.size(), 1U);
    EXPECT_EQ(taken[0].value, "new");
    s.ack(taken[0].id);
  }
  EXPECT_EQ(test::read_file(dir / segment), garbage);
  EXPECT_EQ(test::read_file(dir / (std::string(segment) + ".bad.999")), "copy 999");
}

TEST(spool_move_aside, a_partly_damaged_segment_stays_in_place_once_delivered_when_names_run_out) {
  test::temp_dir dir("spool");
  take_every_copy_name(dir);
  const std::string content = good_record("k1", "first") + garbage + good_record("k2", "second");
  dir.write_file(segment, content);
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  const auto taken = s.take(10);
  ASSERT_EQ(taken.size(), 2U);
  EXPECT_EQ(taken[0].value, "first");
  EXPECT_EQ(taken[1].value, "second");
  for (const auto& r : taken) s.ack(r.id);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(test::read_file(dir / segment), content);  // kept, not deleted
}

}  // namespace
}  // namespace tocsin::kafka
