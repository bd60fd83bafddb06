// A router.db whose tables are not the ones this tocsin writes (another program's file, or a
// hand-made one) is refused at start with an error naming the file and what SQLite found wrong,
// rather than accepted and failing on every write.

#include <sqlite3.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "core/clock.hpp"
#include "sinks/alert_router.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::sinks {
namespace {

using ::testing::HasSubstr;

class alert_router_db_schema : public ::testing::Test {
 protected:
  alert_router_db_schema() {
    config::route_config root;
    root.receiver = "ops";
    cfg.route = root;
    config::receiver_config r;
    r.name = "ops";
    cfg.receivers = {r};
  }

  void make_db(const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "router.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  // The message of the std::runtime_error opening the router throws ("" when it opens).
  std::string open_error() {
    router_options options;
    options.data_dir = dir.path();
    try {
      alert_router router(cfg, registry, metrics, options, time);
      router.stop();
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }

  test::temp_dir dir{"router-schema"};
  manual_clock time;
  notifier_registry registry;
  metrics_registry metrics;
  config::config cfg;
};

TEST_F(alert_router_db_schema, an_alerts_table_without_our_columns_is_refused) {
  make_db("CREATE TABLE alerts (fingerprint TEXT PRIMARY KEY, body BLOB)");
  const std::string what = open_error();
  EXPECT_THAT(what, HasSubstr("router state " + (dir / "router.db").string() + ": "));
  EXPECT_THAT(what, HasSubstr("json"));
}

TEST_F(alert_router_db_schema, a_notification_log_table_without_our_columns_is_refused) {
  make_db(
      "CREATE TABLE nflog (receiver TEXT, group_key TEXT, firing TEXT, resolved TEXT, "
      "sent_at TEXT, PRIMARY KEY (receiver, group_key))");
  const std::string what = open_error();
  EXPECT_THAT(what, HasSubstr("router state " + (dir / "router.db").string() + ": "));
  EXPECT_THAT(what, HasSubstr("sent_at_ms"));
}

TEST_F(alert_router_db_schema, a_file_with_our_tables_and_others_opens) {
  make_db("CREATE TABLE unrelated (x INTEGER)");
  EXPECT_EQ(open_error(), "");
}

}  // namespace
}  // namespace tocsin::sinks
