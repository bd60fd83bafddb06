#include "sinks/notification_log.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;

rules::alert make_alert(const std::string& host) {
  rules::alert a;
  a.labels = {{"alertname", "disk-full"}, {"host", host}};
  a.starts_at = std::chrono::system_clock::time_point(1795666255120ms);
  a.ends_at = a.starts_at + 5min;
  a.fingerprint = rules::fingerprint(a.labels);
  return a;
}

TEST(notification_log, new_fingerprint_is_news_until_recorded) {
  test::temp_dir dir("notification-log");
  notification_log log(dir / "router.db");
  const auto a = make_alert("web1");
  EXPECT_TRUE(log.is_news("ops", a));
  EXPECT_TRUE(log.is_news("ops", a));  // asking does not record
  log.record("ops", a);
  EXPECT_FALSE(log.is_news("ops", a));
  EXPECT_TRUE(log.is_news("ops", make_alert("web2")));
}

TEST(notification_log, new_firing_episode_is_news) {
  test::temp_dir dir("notification-log");
  notification_log log(dir / "router.db");
  auto a = make_alert("web1");
  log.record("ops", a);
  a.ends_at += 10min;  // the same episode re-sent with a later end is not news
  EXPECT_FALSE(log.is_news("ops", a));
  a.starts_at += 1h;
  EXPECT_TRUE(log.is_news("ops", a));
  log.record("ops", a);
  EXPECT_FALSE(log.is_news("ops", a));
}

TEST(notification_log, resolved_after_firing_is_news) {
  test::temp_dir dir("notification-log");
  notification_log log(dir / "router.db");
  auto a = make_alert("web1");
  log.record("ops", a);
  a.firing = false;
  EXPECT_TRUE(log.is_news("ops", a));
  log.record("ops", a);
  EXPECT_FALSE(log.is_news("ops", a));
}

TEST(notification_log, receivers_are_independent) {
  test::temp_dir dir("notification-log");
  notification_log log(dir / "router.db");
  const auto a = make_alert("web1");
  log.record("ops", a);
  EXPECT_FALSE(log.is_news("ops", a));
  EXPECT_TRUE(log.is_news("security", a));
  log.record("security", a);
  EXPECT_FALSE(log.is_news("security", a));
}

TEST(notification_log, survives_reopening) {
  test::temp_dir dir("notification-log");
  const auto file = dir / "state" / "router.db";  // the parent directory is created
  const auto a = make_alert("web1");
  {
    notification_log log(file);
    log.record("ops", a);
  }
  notification_log log(file);
  EXPECT_FALSE(log.is_news("ops", a));
  EXPECT_TRUE(log.is_news("ops", make_alert("web2")));
}

void expect_open_fails(const std::filesystem::path& file) {
  try {
    notification_log log(file);
    ADD_FAILURE() << "opened " << file;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
}

TEST(notification_log, unusable_path_throws_naming_it) {
  test::temp_dir dir("notification-log");
  // Not permission bits: tests may run as root, which ignores them.
  std::ofstream(dir / "plain-file") << "x";
  expect_open_fails(dir / "plain-file" / "router.db");  // parent is a file
  expect_open_fails(dir.path());                        // a directory, not a file
  std::ofstream(dir / "not-a-db") << std::string(4096, 'x');
  expect_open_fails(dir / "not-a-db");  // SQLite: file is not a database
}

}  // namespace
}  // namespace tocsin::sinks
