#include "collector/file_archive.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/support/metrics.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::collector {
namespace {

using test::counter_value;

TEST(sanitize_path_component, cannot_escape_the_directory) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"web1.example.com", "web1.example.com"},
      {"../../etc", "_._.._etc"},
      {"..", "_."},
      {".", "_"},
      {".hidden", "_hidden"},
      {"a/b\\c", "a_b_c"},
      {"", "unknown"},
      {"sp ace\nnl", "sp_ace_nl"},
      {std::string("nul\0x", 5), "nul_x"},
      {"ünï", "__n__"},  // each byte of a multi-byte character becomes one _
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(sanitize_path_component(in), out) << in;
  EXPECT_EQ(sanitize_path_component(std::string(500, 'a')).size(), 128U);
}

TEST(expand_path_template, host_app_date) {
  event ev;
  ev.host = "../../etc";
  ev.app = "";
  ev.received_at = std::chrono::system_clock::time_point(std::chrono::seconds(1795666255));
  EXPECT_EQ(expand_path_template("/var/log/{host}/{app}-{date}.log", ev),
            "/var/log/_._.._etc/unknown-2026-11-26.log");
  EXPECT_EQ(expand_path_template("x/{other}/{host", ev), "x/{other}/{host");
}

TEST(file_archive, writes_json_lines_and_reopens) {
  test::temp_dir dir;
  metrics_registry metrics;
  const std::string path = (dir.path() / "{host}" / "{app}.log").string();
  file_archive archive(path, metrics);
  event ev;
  ev.host = "web1";
  ev.app = "nginx";
  ev.message = "hello";
  archive.consume(ev);
  archive.flush();
  const auto file = dir.path() / "web1" / "nginx.log";
  ASSERT_TRUE(std::filesystem::exists(file));

  // logrotate: move the file away, reopen, write again → a new file appears.
  std::filesystem::rename(file, dir.path() / "rotated.log");
  archive.reopen();
  archive.flush();  // the writer closes its files on this cycle
  ev.message = "after rotate";
  archive.consume(ev);
  archive.flush();
  std::ifstream in(file);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(nlohmann::json::parse(line)["message"], "after rotate");
  std::ifstream old(dir.path() / "rotated.log");
  ASSERT_TRUE(std::getline(old, line));
  EXPECT_EQ(nlohmann::json::parse(line)["message"], "hello");
  EXPECT_EQ(metrics.get_counter("tocsin_output_lines_total", "", {{"output", "file"}}).value(), 2U);
}

std::vector<std::string> lines_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every line of every file under `dir`, each checked to be whole JSON; message → count.
std::map<std::string, int> archived_messages(const std::filesystem::path& dir) {
  std::map<std::string, int> seen;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".log") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(text.empty() || text.back() == '\n') << entry.path() << " ends in half a line";
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      const auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      EXPECT_TRUE(doc.is_object()) << entry.path() << ": " << line;
      if (doc.is_object()) ++seen[doc.value("message", "")];
    }
  }
  return seen;
}

event event_from(std::string host, std::string message) {
  event ev;
  ev.host = std::move(host);
  ev.app = "app";
  ev.message = std::move(message);
  ev.received_at = std::chrono::system_clock::now();
  return ev;
}

TEST(file_archive, holds_at_most_max_open_files_and_loses_nothing) {
  test::temp_dir dir;
  metrics_registry metrics;
  file_archive_limits limits;
  limits.max_open_files = 4;
  file_archive archive((dir.path() / "{host}" / "{app}.log").string(), metrics, limits);
  for (int round = 0; round < 3; ++round) {
    for (int h = 0; h < 50; ++h) {
      archive.consume(event_from("host" + std::to_string(h), std::to_string(round)));
    }
    archive.flush();
    EXPECT_LE(metrics.get_gauge("tocsin_output_open_files", "", {{"output", "file"}}).value(), 4);
  }
  for (int h = 0; h < 50; ++h) {
    EXPECT_EQ(lines_of(dir.path() / ("host" + std::to_string(h)) / "app.log").size(), 3U) << h;
  }
}

TEST(file_archive, waits_for_a_descriptor_when_the_budget_is_spent) {
  test::temp_dir dir;
  metrics_registry metrics;
  fd_budget fds(4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(fds.try_acquire());  // inputs hold the whole budget
  file_archive_limits limits;
  limits.fds = &fds;
  file_archive archive((dir.path() / "{host}.log").string(), metrics, limits);
  archive.consume(event_from("a", "kept"));
  EXPECT_FALSE(archive.flush(std::chrono::milliseconds(300)));  // held back, not lost
  EXPECT_GE(counter_value(metrics, "tocsin_output_stalls_total",
                          {{"output", "file"}, {"reason", "no_descriptor"}}),
            1U);
  fds.release();
  EXPECT_TRUE(archive.flush(std::chrono::seconds(5)));
  EXPECT_EQ(lines_of(dir.path() / "a.log").size(), 1U);
  EXPECT_EQ(fds.in_use(), 4U);  // three connections and the archive's file
}

TEST(file_archive, files_take_at_most_half_of_the_descriptor_budget) {
  test::temp_dir dir;
  metrics_registry metrics;
  fd_budget fds(8);
  file_archive_limits limits;
  limits.fds = &fds;
  file_archive archive((dir.path() / "{host}.log").string(), metrics, limits);
  for (int h = 0; h < 20; ++h) archive.consume(event_from("h" + std::to_string(h), "x"));
  ASSERT_TRUE(archive.flush(std::chrono::seconds(5)));
  EXPECT_EQ(fds.in_use(), 4U);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(fds.try_acquire()) << "a connection's descriptor " << i;
  EXPECT_EQ(archived_messages(dir.path()).at("x"), 20);
}

TEST(file_archive, new_paths_beyond_the_budget_go_to_overflow) {
  test::temp_dir dir;
  metrics_registry metrics;
  file_archive_limits limits;
  limits.max_new_paths_per_minute = 5;
  file_archive archive((dir.path() / "{host}" / "{app}-{date}.log").string(), metrics, limits);
  for (int h = 0; h < 20; ++h) archive.consume(event_from("spoof" + std::to_string(h), "x"));
  // A host given a path before keeps it, also on a new date.
  auto known = event_from("spoof0", "tomorrow");
  known.received_at += std::chrono::hours(24);
  archive.consume(known);
  archive.flush();

  std::set<std::string> dirs;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    dirs.insert(e.path().filename().string());
  }
  EXPECT_EQ(dirs.size(), 6U);  // five hosts and _overflow
  EXPECT_TRUE(dirs.contains("_overflow"));
  EXPECT_EQ(counter_value(metrics, "tocsin_output_overflow_total", {{"output", "file"}}), 15U);
  const auto messages = archived_messages(dir.path());
  EXPECT_EQ(messages.at("x"), 20);  // every event archived somewhere
  EXPECT_EQ(messages.at("tomorrow"), 1);
  std::size_t spoof0_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "spoof0")) {
    (void)e;
    ++spoof0_files;
  }
  EXPECT_EQ(spoof0_files, 2U);
}

TEST(file_archive, repairs_a_torn_last_line_when_it_opens_a_file) {
  test::temp_dir dir;
  const auto file = dir.write_file("web1.log", "{\"message\":\"whole\"}\n{\"message\":\"ha");
  metrics_registry metrics;
  file_archive archive((dir.path() / "{host}.log").string(), metrics);
  archive.consume(event_from("web1", "next"));
  archive.flush();
  const auto lines = lines_of(file);
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["message"], "whole");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["message"], "next");
  EXPECT_EQ(counter_value(metrics, "tocsin_output_torn_lines_total", {{"output", "file"}}), 1U);
}

TEST(repair_torn_tail, cases) {
  test::temp_dir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""}, {"a\n", "a\n"}, {"a\nb", "a\n"}, {"half", ""}, {"a\nb\ncc", "a\nb\n"},
  };
  for (const auto& [before, after] : cases) {
    const auto path = dir.write_file("f", before);
    const int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(repair_torn_tail(fd), static_cast<long long>(before.size() - after.size()));
    ::close(fd);
    std::ifstream in(path, std::ios::binary);
    EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()),
              after);
  }
}

// A small tmpfs that the archive fills; needs root (CI runs as root), else skipped.
class full_disk : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::mount("tocsin-test", dir_.path().c_str(), "tmpfs", 0, "size=256k") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  // Fills the file system but for `leave` bytes.
  void fill(std::size_t leave) {
    const int fd = ::open((dir_.path() / "filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    const std::string block(4096, 'f');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    ::close(fd);
    ::truncate((dir_.path() / "filler").c_str(),
               static_cast<off_t>(std::filesystem::file_size(dir_.path() / "filler") - leave));
  }
  void free_space() { std::filesystem::remove(dir_.path() / "filler"); }

  test::temp_dir dir_;
  bool mounted_ = false;
};

TEST_F(full_disk, holds_lines_backpressures_and_resumes_with_whole_lines) {
  metrics_registry metrics;
  file_archive archive((dir_.path() / "{host}.log").string(), metrics);
  archive.consume(event_from("web1", "before"));
  ASSERT_TRUE(archive.flush());
  fill(1000);
  const std::string padding(100, 'p');
  for (int i = 0; i < 200; ++i) archive.consume(event_from("web1", std::to_string(i) + padding));
  EXPECT_FALSE(archive.flush(std::chrono::milliseconds(1500)));
  EXPECT_FALSE(archive.accepting());  // TCP inputs stop reading
  EXPECT_GE(counter_value(metrics, "tocsin_output_stalls_total",
                          {{"output", "file"}, {"reason", "disk_full"}}),
            1U);
  EXPECT_EQ(counter_value(metrics, "tocsin_output_errors_total",
                          {{"output", "file"}, {"reason", "write"}}),
            0U);
  // What is in the file so far is whole lines.
  (void)archived_messages(dir_.path());

  free_space();
  EXPECT_TRUE(archive.flush(std::chrono::seconds(10)));
  EXPECT_TRUE(archive.accepting());
  const auto messages = archived_messages(dir_.path());
  EXPECT_EQ(messages.at("before"), 1);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(messages.at(std::to_string(i) + padding), 1) << i;
}

}  // namespace
}  // namespace tocsin::collector
