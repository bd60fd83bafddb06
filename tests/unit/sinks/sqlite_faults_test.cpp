// The router's SQLite state (data_dir/router.db: alerts, notification log, silences) when the
// file is unusable or the disk refuses writes. An unusable file stops start-up with an error
// naming it; a refused write is counted and logged, and memory never claims what the disk does
// not hold for silences (the API answers the write failed), while alerts are still routed.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "sinks/alert_router.hpp"
#include "sinks/label_matcher.hpp"
#include "sinks/notifier.hpp"
#include "sinks/silences.hpp"
#include "tests/support/file_size_limit.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;
namespace fs = std::filesystem;

// Throws what `make` throws, as text ("" when nothing is thrown).
template <class F>
std::string error_of(F make) {
  try {
    make();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

silence one_hour_silence(const std::string& host) {
  silence s;
  s.matchers = {*label_matcher::parse("host=\"" + host + "\"")};
  s.starts_at = sys_clock::now();
  s.ends_at = s.starts_at + 1h;
  s.created_by = "test";
  s.comment = "maintenance of " + host;
  return s;
}

std::vector<std::string> ids_of(const std::vector<silence>& silences) {
  std::vector<std::string> ids;
  for (const auto& s : silences) ids.push_back(s.id);
  return ids;
}

TEST(silences_faults, a_corrupt_database_file_stops_start_up_naming_it) {
  test::temp_dir dir("silences-corrupt");
  const auto file = dir.write_file("router.db", std::string(4096, 'x'));
  const std::string error = error_of([&] { silence_store store(file); });
  EXPECT_NE(error.find(file.string()), std::string::npos) << error;
  EXPECT_NE(error.find("not a database"), std::string::npos) << error;
}

TEST(silences_faults, a_directory_where_the_database_should_be_stops_start_up_naming_it) {
  test::temp_dir dir("silences-dir");
  const auto file = dir / "router.db";
  fs::create_directory(file);
  const std::string error = error_of([&] { silence_store store(file); });
  EXPECT_NE(error.find(file.string()), std::string::npos) << error;
}

TEST(silences_faults, a_silence_the_disk_refuses_is_not_created_and_the_caller_is_told) {
  test::temp_dir dir("silences-full");
  const auto file = dir / "router.db";
  std::string kept_id, updated_id;
  {
    silence_store store(file);
    kept_id = store.upsert(one_hour_silence("web1")).value();
    {
      const test::file_size_limit full(1);  // every write into router.db and its WAL fails
      ASSERT_TRUE(full.ok());
      std::string problem;
      EXPECT_FALSE(store.upsert(one_hour_silence("web2"), &problem).has_value());
      EXPECT_NE(problem.find("cannot store the silence"), std::string::npos) << problem;
      // An update in place (same matchers, new comment) is refused the same way.
      silence edit = *store.get(kept_id);
      edit.comment = "changed";
      problem.clear();
      EXPECT_FALSE(store.upsert(edit, &problem).has_value());
      EXPECT_NE(problem.find("cannot store the silence"), std::string::npos) << problem;
    }
    // Memory holds what the disk holds: one silence, unchanged.
    EXPECT_EQ(ids_of(store.list()), std::vector<std::string>{kept_id});
    EXPECT_EQ(store.get(kept_id)->comment, "maintenance of web1");
    EXPECT_TRUE(store.silenced_by({{"host", "web2"}}, sys_clock::now()).empty());

    // The disk has room again: writes work without a restart.
    updated_id = store.upsert(one_hour_silence("web3")).value();
  }
  silence_store reopened(file);
  EXPECT_EQ(ids_of(reopened.list()), (std::vector<std::string>{kept_id, updated_id}));
}

TEST(silences_faults, an_expiry_the_disk_refuses_holds_until_a_restart) {
  test::temp_dir dir("silences-expire");
  const auto file = dir / "router.db";
  std::string id;
  {
    silence_store store(file);
    id = store.upsert(one_hour_silence("web1")).value();
    {
      const test::file_size_limit full(1);
      ASSERT_TRUE(full.ok());
      EXPECT_TRUE(store.expire(id, sys_clock::now()));
    }
    // Expired for this run, as silences.cpp promises ...
    EXPECT_TRUE(store.silenced_by({{"host", "web1"}}, sys_clock::now()).empty());
  }
  // ... but the disk never heard of it: a restart brings the silence back.
  silence_store reopened(file);
  EXPECT_EQ(reopened.silenced_by({{"host", "web1"}}, sys_clock::now()),
            std::vector<std::string>{id});
}

// Every notification the fake receiver took.
class capture {
 public:
  void add(const notification& n) {
    std::lock_guard lock(mutex_);
    sent_.push_back(n);
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return sent_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<notification> sent_;
};

class fake_notifier : public notifier {
 public:
  explicit fake_notifier(std::shared_ptr<capture> sent) : sent_(std::move(sent)) {}
  delivery_result send(const notification& n) override {
    sent_->add(n);
    return delivery_result::delivered(200);
  }

 private:
  std::shared_ptr<capture> sent_;
};

class alert_router_faults : public ::testing::Test {
 protected:
  alert_router_faults() {
    registry.add("test", [sent = sent](const config::receiver_config&) {
      return std::make_unique<fake_notifier>(sent);
    });
    config::route_config route;
    route.receiver = "ops";
    route.group_by = std::vector<std::string>{"alertname"};
    route.group_wait = 10ms;
    route.group_interval = 1h;
    route.repeat_interval = 1h;
    cfg.route = route;
    config::receiver_config ops;
    ops.name = "ops";
    ops.integration = "test";
    cfg.receivers = {ops};
  }

  std::unique_ptr<alert_router> make_router() {
    router_options options;
    options.data_dir = dir.path();
    options.tick = 10ms;
    options.worker.initial_backoff = 10ms;
    return std::make_unique<alert_router>(cfg, registry, metrics, options);
  }

  std::uint64_t db_errors() {
    return metrics.get_counter("tocsin_router_db_errors_total", "").value();
  }

  test::temp_dir dir{"router-faults"};
  std::shared_ptr<capture> sent = std::make_shared<capture>();
  notifier_registry registry;
  metrics_registry metrics;
  config::config cfg;
};

rules::alert firing(const std::string& host) {
  rules::alert a;
  a.labels = {{"alertname", "disk_full"}, {"host", host}};
  a.starts_at = sys_clock::now() - 1s;
  a.ends_at = sys_clock::now() + 1h;
  a.fingerprint = rules::fingerprint(a.labels);
  return a;
}

TEST_F(alert_router_faults, a_corrupt_router_db_stops_start_up_naming_it) {
  const auto file = dir.write_file("router.db", std::string(4096, 'x'));
  const std::string error = error_of([&] { make_router(); });
  EXPECT_NE(error.find(file.string()), std::string::npos) << error;
  EXPECT_NE(error.find("not a database"), std::string::npos) << error;
}

TEST_F(alert_router_faults, state_the_disk_refuses_is_counted_and_alerts_are_still_notified) {
  auto router = make_router();
  router->start();
  {
    const test::file_size_limit full(1);  // every write into router.db and its WAL fails
    ASSERT_TRUE(full.ok());
    router->receive(firing("web1"));  // never throws
    EXPECT_EQ(db_errors(), 1U) << "the alert write is counted when receive() returns";
    // Routed and sent all the same; then the notification log write fails too.
    EXPECT_TRUE(test::wait_until([&] { return sent->count() == 1; }, 10s));
    EXPECT_TRUE(test::wait_until([&] { return db_errors() >= 2; }, 10s)) << db_errors();
  }
  EXPECT_EQ(router->alerts().size(), 1U);

  // The disk has room again: the next write goes through without a restart.
  const std::uint64_t errors_before = db_errors();
  router->receive(firing("web2"));
  EXPECT_EQ(db_errors(), errors_before);
  router.reset();
  auto restarted = make_router();
  bool web2_kept = false;
  for (const auto& view : restarted->alerts()) web2_kept |= view.alert.labels.at("host") == "web2";
  EXPECT_TRUE(web2_kept);
}

}  // namespace
}  // namespace tocsin::sinks
