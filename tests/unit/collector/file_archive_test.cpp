#include "collector/file_archive.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.hpp"

namespace tocsin::collector {
namespace {

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

}  // namespace
}  // namespace tocsin::collector
