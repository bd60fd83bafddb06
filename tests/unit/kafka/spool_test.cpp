#include "kafka/spool.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/support.hpp"

namespace tocsin::kafka {
namespace {

namespace fs = std::filesystem;

// Every record in these tests has a 4-byte key and a 10-byte value, so its size on disk is known:
// u32 length + u32 CRC + u32 key length + key + value.
constexpr std::uint64_t record_bytes = 4 + 4 + 4 + 4 + 10;

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

std::vector<std::uint64_t> ids_of(const std::vector<spool_record>& records) {
  std::vector<std::uint64_t> ids;
  for (const auto& r : records) ids.push_back(r.id);
  return ids;
}

std::uint64_t counter_value(metrics_registry& metrics, const std::string& name,
                            const metric_labels& labels = {}) {
  return metrics.get_counter(name, "", labels).value();
}

std::int64_t gauge_value(metrics_registry& metrics, const std::string& name) {
  return metrics.get_gauge(name, "").value();
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

  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"), 1U);
  EXPECT_EQ(s.records(), 2U);
  const auto taken = s.take(10);
  EXPECT_EQ(ids_of(taken), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(taken[1].value, value_of(2));

  // Appends go to a new segment, never behind the torn record.
  ASSERT_TRUE(s.append(key_of(4), value_of(4)));
  EXPECT_EQ(ids_of(s.take(10)), (std::vector<std::uint64_t>{4}));
  EXPECT_EQ(segment_names(dir.path()).size(), 2U);

  // Acking the surviving records deletes the damaged segment.
  s.ack(1);
  s.ack(2);
  EXPECT_FALSE(fs::exists(file));
}

TEST(spool, corrupt_record_ends_its_segment) {
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
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"), 3U)
      << "record 3 and the two after it in its segment";
  EXPECT_EQ(ids_of(s.take(10)), (std::vector<std::uint64_t>{1, 2, 6, 7}));
}

TEST(spool, segment_of_only_garbage_is_counted_and_removed) {
  test::temp_dir dir("spool");
  dir.write_file("00000000000000000001.seg", "garbage");
  dir.write_file("00000000000000000002.seg", "");
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  EXPECT_EQ(counter_value(metrics, "tocsin_spool_corrupt_records_total"), 1U);
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(segment_names(dir.path()).empty());
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
