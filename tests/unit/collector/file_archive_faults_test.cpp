// The file archive when a write fails for good, i.e. not for lack of space (a full disk is held
// and retried: file_archive_test's full_disk): the lines are counted as lost
// (tocsin_output_errors_total{output="file",reason="write"}), the file keeps whole lines only,
// flush() does not wait for them, and the next lines are written when the cause is gone.
// Real causes: RLIMIT_FSIZE (EFBIG, after a short write) and a directory where the file goes.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "collector/file_archive.hpp"
#include "tests/support/file_size_limit.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::collector {
namespace {

namespace fs = std::filesystem;

event event_from(std::string host, std::string message) {
  event ev;
  ev.host = std::move(host);
  ev.app = "app";
  ev.message = std::move(message);
  ev.received_at = std::chrono::system_clock::now();
  return ev;
}

// Message → how often it is in `file`; every line must be whole JSON.
std::map<std::string, int> messages_in(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(text.empty() || text.back() == '\n') << file << " ends in half a line";
  std::map<std::string, int> seen;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(doc.is_object()) << file << ": " << line;
    if (doc.is_object()) ++seen[doc.value("message", "")];
  }
  return seen;
}

std::uint64_t lost_lines(metrics_registry& metrics) {
  return metrics
      .get_counter("tocsin_output_errors_total", "", {{"output", "file"}, {"reason", "write"}})
      .value();
}

TEST(file_archive_faults, lines_a_write_error_refuses_are_counted_lost_and_the_file_stays_whole) {
  test::temp_dir dir("archive-efbig");
  metrics_registry metrics;
  file_archive archive((dir.path() / "{host}.log").string(), metrics);
  const fs::path file = dir / "web1.log";
  archive.consume(event_from("web1", "before"));
  ASSERT_TRUE(archive.flush());
  const auto size_before = fs::file_size(file);
  {
    // 40 bytes more fit: the write stops inside the first line, the next write fails (EFBIG).
    const test::file_size_limit limit(size_before + 40);
    ASSERT_TRUE(limit.ok());
    for (int i = 0; i < 3; ++i) archive.consume(event_from("web1", "refused " + std::to_string(i)));
    // Not a full disk: nothing is held back for a retry, so flush() returns at once.
    EXPECT_TRUE(archive.flush(std::chrono::seconds(30)));
  }
  EXPECT_EQ(lost_lines(metrics), 3U);
  EXPECT_EQ(fs::file_size(file), size_before) << "the cut line was taken back";
  EXPECT_TRUE(archive.accepting());

  archive.consume(event_from("web1", "after"));
  ASSERT_TRUE(archive.flush());
  EXPECT_EQ(messages_in(file), (std::map<std::string, int>{{"before", 1}, {"after", 1}}));
  EXPECT_EQ(lost_lines(metrics), 3U);
}

TEST(file_archive_faults, a_file_that_cannot_be_opened_costs_its_own_lines_only) {
  test::temp_dir dir("archive-eisdir");
  metrics_registry metrics;
  file_archive archive((dir.path() / "{host}.log").string(), metrics);
  fs::create_directory(dir / "bad.log");  // open(O_RDWR) fails with EISDIR
  archive.consume(event_from("bad", "lost 1"));
  archive.consume(event_from("good", "kept"));
  archive.consume(event_from("bad", "lost 2"));
  EXPECT_TRUE(archive.flush(std::chrono::seconds(30)));
  EXPECT_EQ(lost_lines(metrics), 2U);
  EXPECT_EQ(messages_in(dir / "good.log"), (std::map<std::string, int>{{"kept", 1}}));

  // Once the path is usable the same source is archived again.
  fs::remove(dir / "bad.log");
  archive.consume(event_from("bad", "written"));
  ASSERT_TRUE(archive.flush());
  EXPECT_EQ(messages_in(dir / "bad.log"), (std::map<std::string, int>{{"written", 1}}));
  EXPECT_EQ(lost_lines(metrics), 2U);
}

}  // namespace
}  // namespace tocsin::collector
