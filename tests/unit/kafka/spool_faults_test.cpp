// The spool when the disk fails it: a record that cannot be written whole and synced is refused
// (append() returns false), counted as tocsin_bus_errors_total{reason="spool_write"} and logged;
// what it left in the file is taken back, the records before it stay readable, and the next
// append works again in a fresh segment. Real causes where there are any (RLIMIT_FSIZE, a
// segment name that is taken), fault injection for the rest, each step of an append failing once.

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/fault_injection.hpp"
#include "kafka/spool.hpp"
#include "tests/support/file_size_limit.hpp"
#include "tests/support/support.hpp"

namespace tocsin::kafka {
namespace {

namespace fs = std::filesystem;

// A 4-byte key and a 10-byte value: 16 header bytes + 4 key length bytes + 14 = 34 on disk.
constexpr std::uint64_t record_bytes = 34;

std::string key_of(int i) { return "k" + std::to_string(100 + i); }
std::string value_of(int i) { return "value-" + std::to_string(1000 + i); }

std::vector<std::string> values_of(const std::vector<spool_record>& records) {
  std::vector<std::string> values;
  for (const auto& r : records) values.push_back(r.value);
  return values;
}

std::uint64_t write_errors(metrics_registry& metrics) {
  return metrics.get_counter("tocsin_bus_errors_total", "", {{"reason", "spool_write"}}).value();
}

std::uint64_t corrupt_records(metrics_registry& metrics) {
  return metrics.get_counter("tocsin_spool_corrupt_records_total", "").value();
}

// What a fresh spool over `dir` (the next start-up) finds, and how much of it is damaged.
std::vector<std::string> replayed(const fs::path& dir, std::uint64_t* damaged = nullptr) {
  metrics_registry metrics;
  spool again(dir, {}, metrics);
  if (damaged != nullptr) *damaged = corrupt_records(metrics);
  return values_of(again.take(1000));
}

// The log of the code under test, for as long as the object lives.
class log_capture {
 public:
  log_capture() : saved_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~log_capture() { spdlog::set_default_logger(saved_); }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;

  [[nodiscard]] std::string text() const { return text_.str(); }

 private:
  std::shared_ptr<spdlog::logger> saved_;
  std::ostringstream text_;
};

TEST(spool_faults, a_write_cut_short_by_the_file_size_limit_is_refused_and_taken_back) {
  test::temp_dir dir("spool-fsize");
  metrics_registry metrics;
  log_capture log;
  spool s(dir.path(), {}, metrics);
  {
    // Room for one record and a third of the next: the second write is short.
    const test::file_size_limit limit(record_bytes + 10);
    ASSERT_TRUE(limit.ok());
    EXPECT_TRUE(s.append(key_of(1), value_of(1)));
    EXPECT_FALSE(s.append(key_of(2), value_of(2)));
    EXPECT_EQ(write_errors(metrics), 1U);
    EXPECT_NE(log.text().find("spool: cannot write to"), std::string::npos) << log.text();
    // The failed segment takes no more records; a new one under the limit does.
    EXPECT_TRUE(s.append(key_of(3), value_of(3)));
    // Past the limit altogether: write() fails with EFBIG.
    EXPECT_FALSE(s.append(key_of(4), value_of(4)));
    EXPECT_EQ(write_errors(metrics), 2U);
  }
  EXPECT_TRUE(s.append(key_of(5), value_of(5)));
  EXPECT_EQ(s.records(), 3U);
  EXPECT_EQ(s.bytes(), 3 * record_bytes) << "the partial record is not on disk";
  EXPECT_EQ(values_of(s.take(10)),
            (std::vector<std::string>{value_of(1), value_of(3), value_of(5)}));

  std::uint64_t damaged = 0;
  EXPECT_EQ(replayed(dir.path(), &damaged),
            (std::vector<std::string>{value_of(1), value_of(3), value_of(5)}));
  EXPECT_EQ(damaged, 0U) << "the torn remnant was truncated away";
}

TEST(spool_faults, a_segment_that_cannot_be_created_refuses_the_alert_until_it_can) {
  test::temp_dir dir("spool-create");
  metrics_registry metrics;
  spool s(dir.path(), {}, metrics);
  // Something else holds the name the first segment would get: open(O_EXCL) fails.
  const fs::path taken = dir / "00000000000000000001.seg";
  fs::create_directory(taken);
  EXPECT_FALSE(s.append(key_of(1), value_of(1)));
  EXPECT_FALSE(s.append(key_of(2), value_of(2)));
  EXPECT_EQ(write_errors(metrics), 2U);
  EXPECT_TRUE(s.empty());

  fs::remove(taken);
  EXPECT_TRUE(s.append(key_of(3), value_of(3)));
  EXPECT_EQ(values_of(s.take(10)), std::vector<std::string>{value_of(3)});
}

// Beast's trick: append six records (two per segment, so segments are created, written and
// synced several times) with the n-th spool operation failing, for n = 0, 1, ... until none
// fails. Each time exactly the alert whose append failed is missing, now and after a restart.
TEST(spool_faults, every_failing_step_of_an_append_costs_that_alert_alone) {
  std::set<std::string> sites;
  std::uint64_t n = 0;
  for (;; ++n) {
    SCOPED_TRACE("failing operation " + std::to_string(n));
    test::temp_dir dir("spool-faults");
    metrics_registry metrics;
    spool s(dir.path(), {.segment_bytes = 2 * record_bytes}, metrics);
    std::vector<std::string> kept;
    std::string failed_at;
    {
      const fault_injection::scoped_fault fault("spool.", n);
      for (int i = 1; i <= 6; ++i) {
        if (s.append(key_of(i), value_of(i))) kept.push_back(value_of(i));
      }
      failed_at = fault_injection::fired_at();
    }
    if (failed_at.empty()) {
      EXPECT_EQ(kept.size(), 6U);
      EXPECT_EQ(write_errors(metrics), 0U);
    } else {
      sites.insert(failed_at);
      EXPECT_EQ(kept.size(), 5U) << failed_at;
      EXPECT_EQ(write_errors(metrics), 1U) << failed_at;
    }
    // The spool carries on after the failure.
    ASSERT_TRUE(s.append(key_of(7), value_of(7))) << failed_at;
    kept.push_back(value_of(7));
    EXPECT_EQ(s.records(), kept.size()) << failed_at;
    EXPECT_EQ(values_of(s.take(100)), kept) << failed_at;

    std::uint64_t damaged = 0;
    EXPECT_EQ(replayed(dir.path(), &damaged), kept) << failed_at;
    EXPECT_EQ(damaged, 0U) << failed_at;
    if (failed_at.empty()) break;
  }
  EXPECT_EQ(n, 6U * 2 + 3) << "six writes and syncs, three segments";
  EXPECT_EQ(sites, (std::set<std::string>{"spool.create", "spool.write", "spool.fdatasync"}));
}

}  // namespace
}  // namespace tocsin::kafka
