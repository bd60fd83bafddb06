// The file receiver's settings check at each of its refusals (a directory in place of the file,
// a file in place of a directory, no path) and the paths it accepts without creating anything.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "sinks/notifier.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/sinks/receiver_yaml.hpp"

namespace tocsin::sinks {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::unique_ptr<notifier> file_receiver(const std::map<std::string, nlohmann::json>& settings) {
  notifier_registry registry;
  register_builtin_notifiers(registry);
  return registry.create(test_receivers::load("archive", "file", settings));
}

// The config error building a file receiver with `settings` gives; "" when it builds.
std::string error_of(const std::map<std::string, nlohmann::json>& settings) {
  try {
    (void)file_receiver(settings);
    return "";
  } catch (const config::config_error& e) {
    return e.what();
  }
}

notification one_alert(bool firing) {
  notification n;
  n.receiver = "archive";
  rules::alert a;
  a.labels = {{"alertname", "x"}};
  a.starts_at = std::chrono::system_clock::time_point(std::chrono::seconds(1795666255));
  a.firing = firing;
  a.fingerprint = rules::fingerprint(a.labels);
  n.alerts = {a};
  return n;
}

TEST(file_notifier_branches, a_directory_is_not_a_regular_file) {
  test::temp_dir dir("filenb");
  EXPECT_THAT(error_of({{"path", dir.path().string()}}), HasSubstr("it is not a regular file"));
}

TEST(file_notifier_branches, a_file_where_a_directory_should_be) {
  test::temp_dir dir("filenb");
  const fs::path blocker = dir.write_file("blocker", "x");
  EXPECT_THAT(error_of({{"path", (blocker / "sub" / "out.jsonl").string()}}),
              HasSubstr(blocker.string() + " is not a directory"));
}

TEST(file_notifier_branches, path_is_required_and_unknown_keys_refused) {
  EXPECT_THAT(error_of({{"send_resolved", true}}), HasSubstr("path"));
  test::temp_dir dir("filenb");
  EXPECT_THAT(error_of({{"path", (dir / "a.jsonl").string()}, {"colour", "red"}}),
              HasSubstr("colour"));
}

TEST(file_notifier_branches, missing_directories_are_made_at_the_first_notification_only) {
  test::temp_dir dir("filenb");
  const fs::path out = dir / "a" / "b" / "out.jsonl";
  const auto n = file_receiver({{"path", out.string()}, {"send_resolved", false}});
  EXPECT_FALSE(n->send_resolved());
  EXPECT_FALSE(fs::exists(dir / "a"));  // the check created nothing, not even its probe
  for (const auto& entry : fs::directory_iterator(dir.path())) ADD_FAILURE() << entry.path();
  ASSERT_EQ(n->send(one_alert(true)).result, delivery_result::outcome::delivered);
  ASSERT_EQ(n->send(one_alert(false)).result, delivery_result::outcome::delivered);
  std::ifstream in(out);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    EXPECT_THAT(line, HasSubstr("\"alertname\":\"x\""));
    ++lines;
  }
  EXPECT_EQ(lines, 2);
}

TEST(file_notifier_branches, an_existing_file_is_appended_to) {
  test::temp_dir dir("filenb");
  const fs::path out = dir.write_file("out.jsonl", "earlier\n");
  const auto n = file_receiver({{"path", out.string()}});
  EXPECT_TRUE(n->send_resolved());
  ASSERT_EQ(n->send(one_alert(true)).result, delivery_result::outcome::delivered);
  std::ifstream in(out);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "earlier");
}

}  // namespace
}  // namespace tocsin::sinks
