// The file archive short of descriptors (EMFILE: lines are held and written once a descriptor is
// free again, or counted lost when it stops first) and repair_torn_tail() on descriptors that
// cannot be read or truncated, and on a last line longer than any the archive writes.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "collector/file_archive.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::collector {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

event event_from(std::string host, std::string message) {
  event ev;
  ev.host = std::move(host);
  ev.app = "app";
  ev.message = std::move(message);
  ev.received_at = std::chrono::system_clock::now();
  return ev;
}

std::string content_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint64_t stalls_for_descriptors(metrics_registry& metrics) {
  return test::counter_value(metrics, "tocsin_output_stalls_total",
                             {{"output", "file"}, {"reason", "no_descriptor"}});
}

std::uint64_t lost_lines(metrics_registry& metrics) {
  return test::counter_value(metrics, "tocsin_output_errors_total",
                             {{"output", "file"}, {"reason", "write"}});
}

// While it lives, the process cannot open another descriptor: the soft RLIMIT_NOFILE sits at the
// lowest free one.
class no_free_descriptors {
 public:
  no_free_descriptors() {
    const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ::close(probe);
    ok_ = probe >= 0 && ::getrlimit(RLIMIT_NOFILE, &saved_) == 0;
    rlimit full = saved_;
    full.rlim_cur = static_cast<rlim_t>(probe);
    ok_ = ok_ && ::setrlimit(RLIMIT_NOFILE, &full) == 0;
  }
  ~no_free_descriptors() { lift(); }
  no_free_descriptors(const no_free_descriptors&) = delete;
  no_free_descriptors& operator=(const no_free_descriptors&) = delete;
  [[nodiscard]] bool ok() const { return ok_; }
  void lift() {
    if (ok_) ::setrlimit(RLIMIT_NOFILE, &saved_);
    ok_ = false;
  }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

TEST(file_archive_edges, lines_wait_for_a_descriptor_and_are_written_once_there_is_one) {
#ifdef TOCSIN_SANITIZED
  // The sanitizer runtimes need descriptors of their own (UBSan's type checks fail without).
  GTEST_SKIP() << "needs a process whose descriptor table may be full (not under sanitizers)";
#endif
  test::temp_dir dir("archive-emfile");
  metrics_registry metrics;
  file_archive archive((dir.path() / "{host}.log").string(), metrics);
  const fs::path file = dir.path() / "web1.log";
  bool flushed_without_descriptor = true;
  {
    no_free_descriptors limit;
    ASSERT_TRUE(limit.ok());
    archive.consume(event_from("web1", "held"));
    // Held for a retry, not lost: flush() waits for it and gives up after its timeout.
    flushed_without_descriptor = archive.flush(1500ms);
  }
  EXPECT_FALSE(flushed_without_descriptor);
  EXPECT_GE(stalls_for_descriptors(metrics), 1u);
  EXPECT_EQ(lost_lines(metrics), 0u);
  ASSERT_TRUE(archive.flush(30s));
  EXPECT_NE(content_of(file).find("\"held\""), std::string::npos) << content_of(file);
}

TEST(file_archive_edges, lines_still_waiting_for_a_descriptor_at_stop_are_counted_lost) {
#ifdef TOCSIN_SANITIZED
  // The sanitizer runtimes need descriptors of their own (UBSan's type checks fail without).
  GTEST_SKIP() << "needs a process whose descriptor table may be full (not under sanitizers)";
#endif
  test::temp_dir dir("archive-emfile-stop");
  metrics_registry metrics;
  {
    auto archive = std::make_unique<file_archive>((dir.path() / "{host}.log").string(), metrics);
    no_free_descriptors limit;
    ASSERT_TRUE(limit.ok());
    archive->consume(event_from("web1", "one"));
    archive->consume(event_from("web1", "two"));
    archive->consume(event_from("web2", "three"));
    EXPECT_FALSE(archive->flush(1500ms));
    archive.reset();  // stops while the lines are still held
  }
  EXPECT_EQ(lost_lines(metrics), 3u);
  EXPECT_FALSE(fs::exists(dir.path() / "web1.log"));
}

TEST(repair_torn_tail, reports_descriptors_it_cannot_use) {
  test::temp_dir dir;
  const fs::path torn = dir.write_file("torn", "whole\nhalf");
  const fs::path half = dir.write_file("half", "half");
  EXPECT_EQ(repair_torn_tail(-1), -1);
  EXPECT_EQ(errno, EBADF);
  // Write-only: the last byte cannot be read.
  int fd = ::open(torn.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(repair_torn_tail(fd), -1);
  ::close(fd);
  // Read-only: the torn line cannot be cut off.
  for (const fs::path& file : {torn, half}) {
    fd = ::open(file.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(repair_torn_tail(fd), -1) << file;
    ::close(fd);
  }
  EXPECT_EQ(content_of(torn), "whole\nhalf");
  EXPECT_EQ(content_of(half), "half");
}

TEST(repair_torn_tail, a_last_line_longer_than_any_written_is_ended_not_cut) {
  test::temp_dir dir;
  // 17 MiB without a line end after the first line: not a line the archive wrote halfway.
  const std::string long_line(17 * 1024 * 1024, 'x');
  const fs::path file = dir.write_file("long", "first\n" + long_line);
  const int fd = ::open(file.c_str(), O_RDWR | O_APPEND);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(repair_torn_tail(fd), 0);
  ::close(fd);
  EXPECT_EQ(fs::file_size(file), 6 + long_line.size() + 1);
  const std::string text = content_of(file);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.substr(0, 7), "first\nx");
}

}  // namespace
}  // namespace tocsin::collector
