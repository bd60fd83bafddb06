#include "kafka/spool.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/metrics.hpp"
#include "tests/support/support.hpp"

namespace tocsin::kafka {
namespace {

using test::counter_value;
using test::gauge_value;

namespace fs = std::filesystem;

// Every record in these tests has a 4-byte key and a 10-byte value, so its size on disk is known:
// magic + u32 length + u32 payload CRC + u32 header CRC, then u32 key length + key + value.
constexpr std::uint64_t record_bytes = 16 + 4 + 4 + 10;

std::string key_of(int i) { return "k" + std::to_string(100 + i); }
std::string value_of(int i) { return "value-" + std::to_string(1000 + i); }

void append_numbered(spool& s, int from, int to) {
  for (int i = from; i <= to; ++i) ASSERT_TRUE(s.append(key_of(i), value_of(i))) << i;
}

std::vector<std::string> segment_names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& file : test::find_files(dir, ".seg")) names.push_back(file.filename());
  return names;
}

std::uint64_t files_bytes(const fs::path& dir) {
  std::uint64_t total = 0;
  for (const auto& file : test::find_files(dir, ".seg")) total += fs::file_size(file);
  return total;
}

std::vector<std::string> values_of(const std::vector<spool_record>& records) {
  std::vector<std::string> values;
  for (const auto& r : records) values.push_back(r.value);
  return values;
}

// value_of(1) ... value_of(n), without value_of(skip).
std::vector<std::string> values_except(int n, int skip) {
  std::vector<std::string> values;
  for (int i = 1; i <= n; ++i) {
    if (i != skip) values.push_back(value_of(i));
  }
  return values;
}

// Where a damaged segment's bytes are kept: `<segment>.bad`, `<segment>.bad.1` ...
std::vector<std::string> bad_names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename();
    if (name.find(".seg.bad") != std::string::npos) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Records 1..n in one fresh segment; its bytes. Appended by the spool itself, so in the format it
// writes; the corruption tests find record boundaries from the size, not from record_bytes.
std::string written_segment(const fs::path& dir, int n) {
  {
    metrics_registry metrics;
    spool s(dir, {}, metrics);
    for (int i = 1; i <= n; ++i) EXPECT_TRUE(s.append(key_of(i), value_of(i)));
  }
  return test::read_file(dir / "00000000000000000001.seg");
}

std::string le32(std::size_t v) {
  std::string out;
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
  return out;
}

// A record as tocsin wrote it before format 2: u32 length, u32 CRC-32 of the payload, payload.
std::string format_1_record(std::string_view key, std::string_view value) {
  const std::string payload = le32(key.size()) + std::string(key) + std::string(value);
  const auto crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(payload.data()),
                         static_cast<uInt>(payload.size()));
  return le32(payload.size()) + le32(crc) + payload;
}

std::vector<std::uint64_t> ids_of(const std::vector<spool_record>& records) {
  std::vector<std::uint64_t> ids;
  for (const auto& r : records) ids.push_back(r.id);
  return ids;
}

TEST(spool, append_take_ack_round_trip) {
  test::temp_dir dir("spool");
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_TRUE(s.empty());
  append_numbered(s, 1, 3);
  EXPECT_FALSE(s.empty());
  EXPECT_EQ(s.records(), 3U);

  const auto taken = s.take(10);
  ASSERT_EQ(taken.size(), 3U);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(taken[i].key, key_of(i + 1));
    EXPECT_EQ(taken[i].value, value_of(i + 1));
  }
  EXPECT_EQ(ids_of(taken), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_TRUE(s.take(10).empty()) << "records in flight are not handed out twice";

  for (const auto& r : taken) s.ack(r.id);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.records(), 0U);
  EXPECT_TRUE(s.take(10).empty());
}

TEST(spool, take_respects_max_and_hands_out_oldest_first) {
  test::temp_dir dir("spool");
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  append_numbered(s, 1, 5);
  EXPECT_EQ(ids_of(s.take(2)), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(ids_of(s.take(2)), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(ids_of(s.take(2)), (std::vector<std::uint64_t>{5}));
}

TEST(spool, keys_and_values_may_be_empty_or_binary) {
  test::temp_dir dir("spool");
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  const std::string binary("a\0b\xff", 4);
  ASSERT_TRUE(s.append("", ""));
  ASSERT_TRUE(s.append(binary, binary));
  const auto taken = s.take(10);
  ASSERT_EQ(taken.size(), 2U);
  EXPECT_EQ(taken[0].key, "");
  EXPECT_EQ(taken[0].value, "");
  EXPECT_EQ(taken[1].key, binary);
  EXPECT_EQ(taken[1].value, binary);
}

TEST(spool, fully_acked_segment_file_is_deleted) {
  test::temp_dir dir("spool");
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  append_numbered(s, 1, 2);
  EXPECT_EQ(segment_names(dir.path()), (std::vector<std::string>{"00000000000000000001.seg"}));

  const auto taken = s.take(10);
  s.ack(taken[0].id);
  EXPECT_EQ(segment_names(dir.path()).size(), 1U) << "one record in it is still unacked";
  s.ack(taken[1].id);
  EXPECT_TRUE(segment_names(dir.path()).empty());
  EXPECT_EQ(s.bytes(), 0U);

  // The next append starts a new segment named after its first record.
  ASSERT_TRUE(s.append(key_of(3), value_of(3)));
  EXPECT_EQ(segment_names(dir.path()), (std::vector<std::string>{"00000000000000000003.seg"}));
  EXPECT_EQ(ids_of(s.take(10)), (std::vector<std::uint64_t>{3}));
}

TEST(spool, acking_twice_or_unknown_ids_is_harmless) {
  test::temp_dir dir("spool");
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  append_numbered(s, 1, 2);
  s.ack(1);
  s.ack(1);
  s.ack(0);
  s.ack(99);
  s.nack(99);
  s.nack(1);
  EXPECT_EQ(s.records(), 1U);
  EXPECT_EQ(ids_of(s.take(10)), (std::vector<std::uint64_t>{2}));
}

TEST(spool, nacked_record_is_taken_again_before_newer_ones) {
  test::temp_dir dir("spool");
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  append_numbered(s, 1, 3);
  const auto first = s.take(2);
  ASSERT_EQ(ids_of(first), (std::vector<std::uint64_t>{1, 2}));
  s.nack(2);
  const auto again = s.take(10);
  EXPECT_EQ(ids_of(again), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(again[0].key, key_of(2));
  EXPECT_EQ(again[0].value, value_of(2));
  EXPECT_EQ(s.records(), 3U);
}

TEST(spool, reopening_brings_back_unacked_records_with_their_ids) {
  test::temp_dir dir("spool");
  {
    metrics_registry metrics;
    spool s(dir.path(), {.segment_bytes = 2 * record_bytes}, metrics);
    append_numbered(s, 1, 5);  // segments 1: {1, 2}, 3: {3, 4}, 5: {5}
    s.take(10);
    s.ack(1);
    s.ack(2);  // segment 1 is gone for good
    s.nack(4);
  }
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(s.records(), 3U);
  const auto taken = s.take(10);
  EXPECT_EQ(ids_of(taken), (std::vector<std::uint64_t>{3, 4, 5}));
  for (const auto& r : taken) {
    EXPECT_EQ(r.key, key_of(static_cast<int>(r.id)));
    EXPECT_EQ(r.value, value_of(static_cast<int>(r.id)));
  }
  ASSERT_TRUE(s.append(key_of(6), value_of(6)));
  EXPECT_EQ(ids_of(s.take(10)), (std::vector<std::uint64_t>{6}));
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"), 0U);
}

// Acks are kept in memory; only a segment's deletion is durable. A record acked in a segment that
// still holds unacked records is delivered again after a restart (at least once, never lost).
TEST(spool, acks_inside_a_live_segment_do_not_survive_reopening) {
  test::temp_dir dir("spool");
  {
    metrics_registry metrics;
    spool s(dir.path(), {}, metrics);
    append_numbered(s, 1, 3);
    s.take(10);
    s.ack(2);
  }
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(ids_of(s.take(10)), (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(spool, in_flight_records_come_back_after_reopening) {
  test::temp_dir dir("spool");
  {
    metrics_registry metrics;
    spool s(dir.path(), {}, metrics);
    append_numbered(s, 1, 3);
    EXPECT_EQ(s.take(10).size(), 3U);  // handed out, never acked: the process died
  }
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(ids_of(s.take(10)), (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(spool, new_ids_continue_after_the_highest_segment_on_disk) {
  test::temp_dir dir("spool");
  {
    metrics_registry metrics;
    spool s(dir.path(), {.segment_bytes = 2 * record_bytes}, metrics);
    append_numbered(s, 1, 6);
    for (std::uint64_t id = 1; id <= 4; ++id) s.ack(id);  // deletes the first two segments
  }
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  ASSERT_TRUE(s.append(key_of(7), value_of(7)));
  EXPECT_EQ(ids_of(s.take(10)), (std::vector<std::uint64_t>{5, 6, 7}));
  EXPECT_EQ(segment_names(dir.path()),
            (std::vector<std::string>{"00000000000000000005.seg", "00000000000000000007.seg"}));
}

TEST(spool, truncated_last_record_is_skipped_and_counted) {
  test::temp_dir dir("spool");
  {
    metrics_registry metrics;
    spool s(dir.path(), {}, metrics);
    append_numbered(s, 1, 3);
  }
  const fs::path file = dir / "00000000000000000001.seg";
  ASSERT_EQ(fs::file_size(file), 3 * record_bytes);
  fs::resize_file(file, 3 * record_bytes - 3);  // a crash in the middle of the third write
  const std::string torn = test::read_file(file);

  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"), 1U);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_total", {{"what", "tail"}}), 1U);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_total", {{"what", "record"}}), 0U);
  EXPECT_EQ(s.records(), 2U);
  const auto taken = s.take(10);
  EXPECT_EQ(ids_of(taken), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(taken[1].value, value_of(2));

  // Appends go to a new segment, never behind the torn record.
  ASSERT_TRUE(s.append(key_of(4), value_of(4)));
  EXPECT_EQ(ids_of(s.take(10)), (std::vector<std::uint64_t>{3}));
  EXPECT_EQ(segment_names(dir.path()).size(), 2U);

  // Acking the surviving records moves the damaged segment aside, torn tail and all.
  s.ack(1);
  s.ack(2);
  EXPECT_FALSE(fs::exists(file));
  EXPECT_EQ(bad_names(dir.path()), (std::vector<std::string>{"00000000000000000001.seg.bad"}));
  EXPECT_EQ(test::read_file(dir / "00000000000000000001.seg.bad"), torn);
}

// kill -9 can stop a write() anywhere in the last record.
TEST(spool, a_torn_last_record_of_any_length_costs_only_itself) {
  constexpr int n = 3;
  test::temp_dir source("spool");
  const std::string whole = written_segment(source.path(), n);
  const std::size_t record = whole.size() / n;
  for (std::size_t cut = 1; cut < record; ++cut) {
    SCOPED_TRACE(cut);
    test::temp_dir dir("spool");
    dir.write_file("00000000000000000001.seg", whole.substr(0, whole.size() - cut));
    metrics_registry metrics;
    spool s(dir.path(), {}, metrics);
    EXPECT_EQ(values_of(s.take(10)), values_except(n, n));
    EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_total", {{"what", "tail"}}), 1U);
  }
}

TEST(spool, a_flipped_byte_in_a_record_costs_that_record_only) {
  constexpr int n = 20;
  test::temp_dir dir("spool");
  const std::string pristine = written_segment(dir.path(), n);
  const std::size_t record = pristine.size() / n;
  const fs::path file = dir / "00000000000000000001.seg";
  for (const int k : {1, 2, 7, 19, 20}) {
    SCOPED_TRACE(k);
    std::string damaged = pristine;
    damaged[k * record - 3] ^= 0x01;  // in record k's value
    test::write_file(file, damaged);
    metrics_registry metrics;
    spool s(dir.path(), {}, metrics);
    EXPECT_EQ(s.records(), n - 1U);
    EXPECT_EQ(values_of(s.take(100)), values_except(n, k));
    EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"), 1U);
    EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_total", {{"what", "record"}}), 1U);
    EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_total", {{"what", "tail"}}), 0U);
  }
}

TEST(spool, corrupt_record_costs_only_itself_across_segments) {
  test::temp_dir dir("spool");
  {
    metrics_registry metrics;
    spool s(dir.path(), {.segment_bytes = 5 * record_bytes}, metrics);
    append_numbered(s, 1, 7);  // segment 1: records 1-5, segment 6: records 6-7
  }
  ASSERT_EQ(segment_names(dir.path()),
            (std::vector<std::string>{"00000000000000000001.seg", "00000000000000000006.seg"}));
  // Flip the last value byte of record 3.
  const fs::path file = dir / "00000000000000000001.seg";
  std::string content = test::read_file(file);
  content[3 * record_bytes - 1] ^= 0x20;
  test::write_file(file, content);

  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"), 1U);
  const auto taken = s.take(10);
  EXPECT_EQ(values_of(taken), (std::vector<std::string>{value_of(1), value_of(2), value_of(4),
                                                        value_of(5), value_of(6), value_of(7)}));
  EXPECT_EQ(taken.at(4).id, 6U) << "the next segment keeps its numbering";
}

// A length that lands exactly on a later record would swallow the records in between if it were
// believed; the header CRC catches it and reading resumes at the next record.
TEST(spool, a_corrupt_length_field_costs_only_its_record) {
  constexpr int n = 10;
  test::temp_dir dir("spool");
  const std::string pristine = written_segment(dir.path(), n);
  const std::size_t record = pristine.size() / n;
  std::string damaged = pristine;
  const std::size_t length_at = 4 * record + 4;  // record 5's length field
  const std::string swallow_two = le32(3 * record - 16);
  damaged.replace(length_at, 4, swallow_two);
  test::write_file(dir / "00000000000000000001.seg", damaged);

  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(values_of(s.take(100)), values_except(n, 5));
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_total", {{"what", "record"}}), 1U);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"), 1U);
}

TEST(spool, an_unreadable_tail_is_moved_aside_and_the_records_before_it_kept) {
  constexpr int n = 5;
  test::temp_dir dir("spool");
  const std::string pristine = written_segment(dir.path(), n);
  const std::size_t record = pristine.size() / n;
  // Record 3's length field and everything after it overwritten.
  std::string damaged = pristine.substr(0, 2 * record + 4);
  damaged.append(pristine.size() - damaged.size(), '\x7f');
  const fs::path file = dir / "00000000000000000001.seg";
  test::write_file(file, damaged);

  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_total", {{"what", "tail"}}), 1U);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_total", {{"what", "record"}}), 0U);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"), 1U);
  const auto taken = s.take(100);
  EXPECT_EQ(values_of(taken), (std::vector<std::string>{value_of(1), value_of(2)}));
  EXPECT_TRUE(bad_names(dir.path()).empty()) << "kept in place until its records are delivered";

  for (const auto& r : taken) s.ack(r.id);
  EXPECT_FALSE(fs::exists(file));
  EXPECT_EQ(bad_names(dir.path()), (std::vector<std::string>{"00000000000000000001.seg.bad"}));
  EXPECT_EQ(test::read_file(dir / "00000000000000000001.seg.bad"), damaged);
}

// Beast's trick applied to the disk: every byte of a small spool file, flipped in turn. The spool
// must never crash, never hand out a record that was not appended, and lose only the record that
// holds the flipped byte. The damaged file always ends up as `.bad`, never deleted.
void check_every_flipped_byte(const std::string& pristine,
                              const std::vector<std::pair<std::string, std::string>>& records,
                              const std::vector<std::size_t>& record_ends) {
  for (std::size_t offset = 0; offset < pristine.size(); ++offset) {
    const auto hit = static_cast<std::size_t>(
        std::upper_bound(record_ends.begin(), record_ends.end(), offset) - record_ends.begin());
    std::vector<std::pair<std::string, std::string>> expected = records;
    expected.erase(expected.begin() + static_cast<std::ptrdiff_t>(hit));
    for (const unsigned char mask : {0x01, 0x80, 0xff}) {
      SCOPED_TRACE(testing::Message() << "byte " << offset << " ^ " << int{mask});
      std::string damaged = pristine;
      damaged[offset] = static_cast<char>(damaged[offset] ^ mask);
      test::temp_dir dir("spool");
      dir.write_file("00000000000000000001.seg", damaged);

      metrics_registry metrics;
      spool s(dir.path(), {}, metrics);
      const auto taken = s.take(100);
      std::vector<std::pair<std::string, std::string>> got;
      for (const auto& r : taken) got.emplace_back(r.key, r.value);
      EXPECT_EQ(got, expected);
      EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"), 1U);

      for (const auto& r : taken) s.ack(r.id);
      EXPECT_TRUE(segment_names(dir.path()).empty());
      ASSERT_EQ(bad_names(dir.path()), (std::vector<std::string>{"00000000000000000001.seg.bad"}));
      EXPECT_EQ(test::read_file(dir / "00000000000000000001.seg.bad"), damaged);
    }
  }
}

const std::vector<std::pair<std::string, std::string>>& odd_records() {
  static const std::vector<std::pair<std::string, std::string>> records = {
      {"", "v"},
      {"key-2", "value two"},
      {"k3", std::string(40, 'x')},
      {std::string("k\0\xff", 3), ""}};
  return records;
}

TEST(spool, every_flipped_byte_costs_at_most_its_record) {
  test::temp_dir source("spool");
  std::vector<std::size_t> record_ends;
  {
    metrics_registry metrics;
    spool s(source.path(), {}, metrics);
    for (const auto& [key, value] : odd_records()) {
      ASSERT_TRUE(s.append(key, value));
      record_ends.push_back(s.bytes());
    }
  }
  check_every_flipped_byte(test::read_file(source / "00000000000000000001.seg"), odd_records(),
                           record_ends);
}

TEST(spool, every_flipped_byte_of_a_format_1_file_costs_at_most_its_record) {
  std::string pristine;
  std::vector<std::size_t> record_ends;
  for (const auto& [key, value] : odd_records()) {
    pristine += format_1_record(key, value);
    record_ends.push_back(pristine.size());
  }
  check_every_flipped_byte(pristine, odd_records(), record_ends);
}

TEST(spool, format_1_segments_are_still_read) {
  test::temp_dir dir("spool");
  dir.write_file("00000000000000000001.seg", format_1_record(key_of(1), value_of(1)) +
                                                 format_1_record(key_of(2), value_of(2)) +
                                                 format_1_record("", ""));
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  ASSERT_TRUE(s.append(key_of(4), value_of(4)));
  const auto taken = s.take(10);
  EXPECT_EQ(ids_of(taken), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(taken.at(1).key, key_of(2));
  EXPECT_EQ(taken.at(1).value, value_of(2));
  EXPECT_EQ(taken.at(2).value, "");
  EXPECT_EQ(taken.at(3).value, value_of(4));
  EXPECT_EQ(segment_names(dir.path()),
            (std::vector<std::string>{"00000000000000000001.seg", "00000000000000000004.seg"}));
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"), 0U);
}

TEST(spool, a_record_damaged_after_start_up_is_skipped_when_taken) {
  test::temp_dir dir("spool");
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  append_numbered(s, 1, 3);
  const fs::path file = dir / "00000000000000000001.seg";
  std::string content = test::read_file(file);
  content[2 * record_bytes - 1] ^= 0x01;  // record 2's value
  test::write_file(file, content);

  EXPECT_EQ(values_of(s.take(10)), values_except(3, 2));
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_total", {{"what", "record"}}), 1U);
  EXPECT_EQ(s.records(), 2U);
  s.ack(1);
  s.ack(3);
  EXPECT_TRUE(segment_names(dir.path()).empty());
  EXPECT_EQ(bad_names(dir.path()), (std::vector<std::string>{"00000000000000000001.seg.bad"}));
}

TEST(spool, an_earlier_bad_file_is_never_overwritten) {
  test::temp_dir dir("spool");
  dir.write_file("00000000000000000001.seg.bad", "from last week");
  dir.write_file("00000000000000000001.seg", "garbage");
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(bad_names(dir.path()), (std::vector<std::string>{"00000000000000000001.seg.bad",
                                                             "00000000000000000001.seg.bad.1"}));
  EXPECT_EQ(test::read_file(dir / "00000000000000000001.seg.bad"), "from last week");
  EXPECT_EQ(test::read_file(dir / "00000000000000000001.seg.bad.1"), "garbage");
}

TEST(spool, a_segment_whose_name_overlaps_the_one_before_is_renumbered_not_dropped) {
  test::temp_dir dir("spool");
  const std::string segment = written_segment(dir.path(), 3);
  dir.write_file("00000000000000000002.seg", segment);  // claims ids 2-4, which 1 already uses
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  const auto taken = s.take(10);
  EXPECT_EQ(ids_of(taken), (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(values_of(taken), (std::vector<std::string>{value_of(1), value_of(2), value_of(3),
                                                        value_of(1), value_of(2), value_of(3)}));
  for (const auto& r : taken) s.ack(r.id);
  EXPECT_TRUE(segment_names(dir.path()).empty());
}

TEST(spool, segment_of_only_garbage_is_counted_and_moved_aside) {
  test::temp_dir dir("spool");
  dir.write_file("00000000000000000001.seg", "garbage");
  dir.write_file("00000000000000000002.seg", "");
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"), 1U);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_total", {{"what", "tail"}}), 1U);
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(segment_names(dir.path()).empty());
  EXPECT_EQ(bad_names(dir.path()), (std::vector<std::string>{"00000000000000000001.seg.bad"}))
      << "the empty segment held nothing and is simply deleted";
  EXPECT_EQ(test::read_file(dir / "00000000000000000001.seg.bad"), "garbage");
  ASSERT_TRUE(s.append(key_of(1), value_of(1)));
  EXPECT_EQ(s.take(1).at(0).id, 2U) << "after the garbage record, which may have been id 1";
}

TEST(spool, full_spool_refuses_appends_until_acks_free_space) {
  test::temp_dir dir("spool");
  metrics_registry metrics;
  // One record per segment, so each ack frees a whole file.
  spool s(dir.path(), {.max_bytes = 3 * record_bytes, .segment_bytes = 1}, metrics);
  append_numbered(s, 1, 3);
  EXPECT_EQ(s.bytes(), 3 * record_bytes);
  EXPECT_FALSE(s.append(key_of(4), value_of(4)));
  EXPECT_FALSE(s.append(key_of(4), value_of(4)));
  EXPECT_EQ(counter_value(metrics, "tocsin_bus_errors_total", {{"reason", "spool_full"}}), 2U);
  EXPECT_EQ(counter_value(metrics, "tocsin_bus_errors_total", {{"reason", "spool_write"}}), 0U);
  EXPECT_EQ(s.records(), 3U);

  const auto taken = s.take(1);
  EXPECT_FALSE(s.append(key_of(4), value_of(4))) << "taken is not acked: still on disk";
  s.ack(taken.at(0).id);
  EXPECT_EQ(s.bytes(), 2 * record_bytes);
  EXPECT_TRUE(s.append(key_of(4), value_of(4)));
  EXPECT_EQ(counter_value(metrics, "tocsin_bus_errors_total", {{"reason", "spool_full"}}), 3U);
  EXPECT_EQ(ids_of(s.take(10)), (std::vector<std::uint64_t>{2, 3, 4}));
}

TEST(spool, segments_roll_over_and_are_deleted_one_by_one) {
  test::temp_dir dir("spool");
  metrics_registry metrics;
  spool s(dir.path(), {.segment_bytes = 2 * record_bytes}, metrics);
  append_numbered(s, 1, 6);
  EXPECT_EQ(segment_names(dir.path()),
            (std::vector<std::string>{"00000000000000000001.seg", "00000000000000000003.seg",
                                      "00000000000000000005.seg"}));
  EXPECT_EQ(s.take(10).size(), 6U);

  s.ack(1);
  s.ack(2);
  EXPECT_EQ(segment_names(dir.path()),
            (std::vector<std::string>{"00000000000000000003.seg", "00000000000000000005.seg"}));
  s.ack(4);
  EXPECT_EQ(segment_names(dir.path()).size(), 2U);
  s.ack(3);
  EXPECT_EQ(segment_names(dir.path()), (std::vector<std::string>{"00000000000000000005.seg"}));

  // The last segment is the one being appended to: fully acked, it goes too.
  s.ack(5);
  s.ack(6);
  EXPECT_TRUE(segment_names(dir.path()).empty());
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.bytes(), 0U);
}

TEST(spool, gauges_follow_records_and_bytes) {
  test::temp_dir dir("spool");
  metrics_registry metrics;
  spool s(dir.path(), {.segment_bytes = 2 * record_bytes}, metrics);
  auto expect_gauges = [&](std::uint64_t records) {
    EXPECT_EQ(s.records(), records);
    EXPECT_EQ(gauge_value(metrics, "tocsin_spool_records"), static_cast<std::int64_t>(records));
    EXPECT_EQ(s.bytes(), files_bytes(dir.path()));
    EXPECT_EQ(gauge_value(metrics, "tocsin_spool_bytes"),
              static_cast<std::int64_t>(files_bytes(dir.path())));
  };
  expect_gauges(0);
  append_numbered(s, 1, 5);
  expect_gauges(5);
  EXPECT_EQ(s.bytes(), 5 * record_bytes);
  s.take(10);
  expect_gauges(5);
  s.ack(1);
  expect_gauges(4);
  s.ack(2);
  expect_gauges(3);
  EXPECT_EQ(s.bytes(), 3 * record_bytes);
}

TEST(spool, gauges_reflect_a_replayed_spool) {
  test::temp_dir dir("spool");
  {
    metrics_registry metrics;
    spool s(dir.path(), {}, metrics);
    append_numbered(s, 1, 4);
  }
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(gauge_value(metrics, "tocsin_spool_records"), 4);
  EXPECT_EQ(gauge_value(metrics, "tocsin_spool_bytes"),
            static_cast<std::int64_t>(4 * record_bytes));
}

TEST(spool, unknown_files_are_left_alone) {
  test::temp_dir dir("spool");
  dir.write_file("notes.txt", "hello");
  dir.write_file("abc.seg", "not ours");
  dir.write_file("00000000000000000001.seg.tmp", "not ours either");
  fs::create_directory(dir / "00000000000000000009.seg");
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_TRUE(s.empty());
  append_numbered(s, 1, 1);
  s.ack(s.take(1).at(0).id);
  EXPECT_TRUE(fs::exists(dir / "notes.txt"));
  EXPECT_TRUE(fs::exists(dir / "abc.seg"));
  EXPECT_TRUE(fs::exists(dir / "00000000000000000001.seg.tmp"));
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"), 0U);
}

TEST(spool, vanished_segment_file_loses_only_its_records) {
  test::temp_dir dir("spool");
  metrics_registry metrics;
  spool s(dir.path(), {.segment_bytes = 1}, metrics);
  append_numbered(s, 1, 3);
  fs::remove(dir / "00000000000000000001.seg");
  EXPECT_EQ(ids_of(s.take(10)), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(s.records(), 2U);
  EXPECT_EQ(s.bytes(), 2 * record_bytes);
  s.ack(1);  // already gone: harmless

  // The segment being appended to vanishes too: appends carry on in a new one.
  fs::remove(dir / "00000000000000000003.seg");
  s.nack(3);
  EXPECT_TRUE(s.take(10).empty());
  ASSERT_TRUE(s.append(key_of(4), value_of(4)));
  EXPECT_EQ(ids_of(s.take(10)), (std::vector<std::uint64_t>{4}));
}

TEST(spool, creates_its_directory) {
  test::temp_dir dir("spool");
  metrics_registry metrics;
  spool s(dir / "a/b/spool", {}, metrics);
  ASSERT_TRUE(s.append("k", "v"));
  EXPECT_EQ(segment_names(dir / "a/b/spool").size(), 1U);
}

TEST(spool, unusable_directory_throws) {
  test::temp_dir dir("spool");
  dir.write_file("file", "x");
  metrics_registry metrics;
  EXPECT_THROW(spool(dir / "file", {}, metrics), std::runtime_error);
}

}  // namespace
}  // namespace tocsin::kafka
