// router.db reload edge cases: an unreadable alert row is dropped (logged and deleted from the
// file), and a file holding more alerts than router.max_alerts loads them all with a warning.

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>

#include "core/clock.hpp"
#include "sinks/alert_router.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

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

int count_rows(const std::filesystem::path& db_file, const std::string& sql) {
  sqlite3* db = nullptr;
  int rows = -1;
  if (sqlite3_open(db_file.c_str(), &db) == SQLITE_OK) {
    sqlite3_exec(
        db, sql.c_str(),
        [](void* out, int, char** values, char**) {
          *static_cast<int*>(out) = std::stoi(values[0]);
          return 0;
        },
        &rows, nullptr);
  }
  sqlite3_close(db);
  return rows;
}

class alert_router_load : public ::testing::Test {
 protected:
  alert_router_load() {
    config::route_config root;
    root.receiver = "ops";
    root.group_by = std::vector<std::string>{"alertname"};
    cfg.route = root;
    config::receiver_config r;
    r.name = "ops";  // no integration: discards
    cfg.receivers = {r};
  }

  std::unique_ptr<alert_router> open() {
    router_options options;
    options.data_dir = dir.path();
    auto router = std::make_unique<alert_router>(cfg, registry, metrics, options, time);
    router->stop();  // the store only
    return router;
  }

  rules::alert firing(const std::string& host) const {
    rules::alert a;
    a.labels = {{"alertname", "disk-full"}, {"host", host}};
    a.starts_at = time.now() - 1s;
    a.ends_at = time.now() + 1h;
    a.firing = true;
    a.fingerprint = rules::fingerprint(a.labels);
    return a;
  }

  test::temp_dir dir{"router-load"};
  manual_clock time;
  notifier_registry registry;
  metrics_registry metrics;
  config::config cfg;
};

TEST_F(alert_router_load, unreadable_rows_are_dropped_and_too_many_alerts_warned_about) {
  {
    auto router = open();
    for (const char* host : {"web1", "web2", "web3"}) router->receive(firing(host));
  }
  const auto db_file = dir / "router.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_file.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO alerts VALUES ('bad-fp', '{oops', 0)", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  ASSERT_EQ(count_rows(db_file, "SELECT count(*) FROM alerts"), 4);

  cfg.router.max_alerts = 2;
  log_capture log;
  {
    auto router = open();
    EXPECT_EQ(router->alerts().size(), 3u);  // all loaded, even over the limit
  }
  const std::string text = log.text();
  EXPECT_THAT(text, HasSubstr("router: dropping unreadable alert bad-fp from router.db"));
  EXPECT_THAT(text, HasSubstr("router.db holds 3 alerts, over router.max_alerts (2)"));
  EXPECT_THAT(text, HasSubstr("router: reloaded 3 alerts"));
  EXPECT_EQ(count_rows(db_file, "SELECT count(*) FROM alerts"), 3);  // the bad row is gone
}

}  // namespace
}  // namespace tocsin::sinks
