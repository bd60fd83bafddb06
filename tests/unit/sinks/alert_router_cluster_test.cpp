// alert_router with router_options.cluster (DESIGN.md "Scale-out"): only the router the cluster
// says sends a group sends it; what others sent (apply_nflog) keeps a new owner from repeating
// it; what this router sent is handed to the cluster (sent()).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "sinks/alert_router.hpp"
#include "sinks/cluster.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;

class capture {
 public:
  void add(const notification& n) {
    std::lock_guard lock(mutex_);
    sent_.push_back(n);
  }
  std::vector<notification> all() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  std::size_t count() const { return all().size(); }

 private:
  mutable std::mutex mutex_;
  std::vector<notification> sent_;
};

class fake_notifier : public notifier {
 public:
  explicit fake_notifier(std::shared_ptr<capture> sent)
      : notifier(/*send_resolved=*/true), sent_(std::move(sent)) {}
  delivery_result send(const notification& n) override {
    sent_->add(n);
    return delivery_result::delivered(200);
  }

 private:
  std::shared_ptr<capture> sent_;
};

// The cluster as the router sees it: whether this router sends (one switch for every group), the
// group keys it was asked about, and the records it handed over.
class fake_cluster final : public cluster_membership {
 public:
  [[nodiscard]] bool sends(const std::string& group_key) const override {
    std::lock_guard lock(mutex_);
    asked_.insert(group_key);
    return sends_;
  }
  void sent(const nflog_record& record) override {
    std::lock_guard lock(mutex_);
    records_.push_back(record);
  }
  void forgot(const std::string& group_key) override {
    std::lock_guard lock(mutex_);
    forgotten_.push_back(group_key);
  }
  void set_sends(bool value) {
    std::lock_guard lock(mutex_);
    sends_ = value;
  }
  [[nodiscard]] std::vector<std::string> forgotten() const {
    std::lock_guard lock(mutex_);
    return forgotten_;
  }
  [[nodiscard]] std::set<std::string> asked() const {
    std::lock_guard lock(mutex_);
    return asked_;
  }
  [[nodiscard]] std::vector<nflog_record> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }

 private:
  mutable std::mutex mutex_;
  bool sends_ = false;
  mutable std::set<std::string> asked_;
  std::vector<nflog_record> records_;
  std::vector<std::string> forgotten_;
};

config::route_config route(const std::string& receiver, std::vector<std::string> group_by) {
  config::route_config r;
  r.receiver = receiver;
  r.group_by = std::move(group_by);
  r.group_wait = 50ms;
  r.group_interval = 200ms;
  r.repeat_interval = 1h;
  return r;
}

// A manual clock and no tick thread: step() moves time, ticks once and waits for the receivers.
class alert_router_cluster_test : public ::testing::Test {
 protected:
  alert_router_cluster_test() {
    registry.add("test", [sent = sent](const config::receiver_config&) {
      return std::make_unique<fake_notifier>(sent);
    });
    cfg.route = route("ops", {"alertname"});
    config::receiver_config r;
    r.name = "ops";
    r.integration = "test";
    cfg.receivers = {r};
  }

  std::unique_ptr<alert_router> open_router() {
    router_options options;
    options.data_dir = dir.path();
    options.external_url = "http://tocsin.test:9095";
    options.tick = 10ms;
    options.worker.initial_backoff = 10ms;
    options.cluster = &cluster;
    return std::make_unique<alert_router>(cfg, registry, metrics, options, time);
  }

  void step(alert_router& router, std::chrono::milliseconds d) {
    time.advance(d);
    ASSERT_TRUE(router.drain(std::chrono::steady_clock::now() + 5s));
  }

  rules::alert firing(const std::string& host) const {
    rules::alert a;
    a.labels = {{"alertname", "disk-full"}, {"host", host}};
    a.starts_at = time.now() - 1s;
    a.ends_at = time.now() + 1h;
    a.fingerprint = rules::fingerprint(a.labels);
    return a;
  }

  // The one group key the router asked the cluster about.
  std::string group_key() const {
    const auto asked = cluster.asked();
    EXPECT_EQ(asked.size(), 1u);
    return asked.empty() ? std::string() : *asked.begin();
  }

  test::temp_dir dir{"alert-router-cluster"};
  manual_clock time;
  std::shared_ptr<capture> sent = std::make_shared<capture>();
  notifier_registry registry;
  metrics_registry metrics;
  config::config cfg;
  fake_cluster cluster;
};

TEST_F(alert_router_cluster_test, a_group_another_router_sends_is_not_notified_here) {
  auto router = open_router();
  router->receive(firing("web1"));
  router->receive(firing("web2"));
  step(*router, 50ms);                     // group_wait
  step(*router, 200ms);                    // group_interval
  EXPECT_EQ(router->alerts().size(), 2u);  // the router still knows the alerts (for the API)
  const std::string key = group_key();
  EXPECT_NE(key.find(R"(alertname="disk-full")"), std::string::npos) << key;
  step(*router, 2h);  // past repeat_interval, and the alerts' endsAt
  EXPECT_EQ(sent->count(), 0u);
  EXPECT_TRUE(cluster.records().empty());
  // Expired, they left the group (telling the receiver is the owner's part) and were forgotten:
  // resolved alerts do not pile up on the routers that do not send them.
  EXPECT_TRUE(router->alerts().empty());
}

TEST_F(alert_router_cluster_test, a_group_taken_over_is_notified_at_once) {
  auto router = open_router();
  router->receive(firing("web1"));
  step(*router, 50ms);
  step(*router, 200ms);
  ASSERT_EQ(sent->count(), 0u);

  cluster.set_sends(true);
  step(*router, 0ms);  // no time passes: the group stayed due
  const auto all = sent->all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].receiver, "ops");
  EXPECT_EQ(all[0].group_key, group_key());
  ASSERT_EQ(all[0].alerts.size(), 1u);
  EXPECT_EQ(all[0].alerts[0].labels.at("host"), "web1");

  step(*router, 200ms);  // and not again: nothing new
  EXPECT_EQ(sent->count(), 1u);
}

TEST_F(alert_router_cluster_test, what_another_router_sent_is_not_sent_again_on_take_over) {
  auto router = open_router();
  const auto a = firing("web1");
  const auto b = firing("web2");
  router->receive(a);
  router->receive(b);
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 0u);

  // The owner sent both alerts; its record arrives on the nflog topic.
  router->apply_nflog({"ops", group_key(), {a.fingerprint, b.fingerprint}, {}, time.now()});
  step(*router, 10ms);
  cluster.set_sends(true);
  step(*router, 0ms);
  step(*router, 200ms);
  EXPECT_EQ(sent->count(), 0u) << "re-sent what the previous owner had sent";

  // A new alert in the group is news: sent with the group as it is.
  const auto c = firing("web3");
  router->receive(c);
  step(*router, 200ms);
  const auto all = sent->all();
  ASSERT_EQ(all.size(), 1u);
  std::set<std::string> hosts;
  for (const auto& alert : all[0].alerts) hosts.insert(alert.labels.at("host"));
  EXPECT_EQ(hosts, (std::set<std::string>{"web1", "web2", "web3"}));
}

TEST_F(alert_router_cluster_test, a_record_for_part_of_the_group_leaves_the_rest_to_send) {
  auto router = open_router();
  const auto a = firing("web1");
  const auto b = firing("web2");
  router->receive(a);
  router->receive(b);
  step(*router, 50ms);
  router->apply_nflog({"ops", group_key(), {a.fingerprint}, {}, time.now()});
  cluster.set_sends(true);
  step(*router, 0ms);
  ASSERT_EQ(sent->count(), 1u);
  EXPECT_EQ(sent->all()[0].alerts.size(), 2u);
}

TEST_F(alert_router_cluster_test, a_delivery_is_handed_to_the_cluster) {
  cluster.set_sends(true);
  auto router = open_router();
  const auto a = firing("web1");
  const auto b = firing("web2");
  router->receive(a);
  router->receive(b);
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 1u);
  const notification n = sent->all()[0];
  const auto sent_at = time.now();
  ASSERT_TRUE(test::wait_until([&] { return !cluster.records().empty(); }, 10s));
  const auto records = cluster.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].receiver, "ops");
  EXPECT_EQ(records[0].group_key, n.group_key);
  EXPECT_EQ(records[0].firing, (std::set<std::string>{a.fingerprint, b.fingerprint}));
  EXPECT_TRUE(records[0].resolved.empty());
  EXPECT_EQ(records[0].sent_at, sent_at);

  // The group resolves: the resolved notification is handed over too.
  auto ra = a;
  ra.firing = false;
  ra.ends_at = time.now();
  auto rb = b;
  rb.firing = false;
  rb.ends_at = time.now();
  router->receive(ra);
  router->receive(rb);
  step(*router, 10ms);
  ASSERT_TRUE(test::wait_until([&] { return cluster.records().size() >= 2; }, 10s));
  const auto last = cluster.records().back();
  EXPECT_EQ(last.group_key, n.group_key);
  EXPECT_TRUE(last.firing.empty());
  EXPECT_EQ(last.resolved, (std::set<std::string>{a.fingerprint, b.fingerprint}));
}

TEST_F(alert_router_cluster_test, an_older_record_does_not_overwrite_a_newer_one) {
  auto router = open_router();
  const auto a = firing("web1");
  router->receive(a);
  step(*router, 50ms);
  const std::string key = group_key();
  router->apply_nflog({"ops", key, {a.fingerprint}, {}, time.now()});
  // An older record (the group before web1 fired) read later, e.g. from another partition copy.
  router->apply_nflog({"ops", key, {}, {}, time.now() - 10min});
  cluster.set_sends(true);
  step(*router, 0ms);
  step(*router, 200ms);
  EXPECT_EQ(sent->count(), 0u) << "the older record replaced the newer one";
}

TEST_F(alert_router_cluster_test, a_newer_record_replaces_an_older_one) {
  auto router = open_router();
  const auto a = firing("web1");
  router->receive(a);
  step(*router, 50ms);
  const std::string key = group_key();
  router->apply_nflog({"ops", key, {a.fingerprint}, {}, time.now() - 10min});
  // Then the group resolved and was told so: web1 firing again is news.
  router->apply_nflog({"ops", key, {}, {a.fingerprint}, time.now() - 1min});
  cluster.set_sends(true);
  step(*router, 0ms);
  EXPECT_EQ(sent->count(), 1u);
}

TEST_F(alert_router_cluster_test, an_applied_record_survives_a_restart) {
  const auto a = firing("web1");
  std::string key;
  {
    auto router = open_router();
    router->receive(a);
    step(*router, 50ms);
    key = group_key();
    router->apply_nflog({"ops", key, {a.fingerprint}, {}, time.now()});
  }
  cluster.set_sends(true);
  auto router = open_router();
  step(*router, 0ms);
  step(*router, 200ms);
  EXPECT_EQ(router->alerts().size(), 1u);
  EXPECT_EQ(sent->count(), 0u) << "the record was not kept in router.db";
}

TEST_F(alert_router_cluster_test, records_for_other_receivers_or_groups_do_not_count) {
  auto router = open_router();
  const auto a = firing("web1");
  router->receive(a);
  step(*router, 50ms);
  const std::string key = group_key();
  router->apply_nflog({"other-receiver", key, {a.fingerprint}, {}, time.now()});
  router->apply_nflog({"ops", key + "x", {a.fingerprint}, {}, time.now()});
  cluster.set_sends(true);
  step(*router, 0ms);
  EXPECT_EQ(sent->count(), 1u);
}

TEST_F(alert_router_cluster_test, a_resolution_the_previous_owner_sent_is_not_sent_again) {
  auto router = open_router();
  auto a = firing("web1");
  router->receive(a);
  step(*router, 50ms);
  const std::string key = group_key();
  router->apply_nflog({"ops", key, {a.fingerprint}, {}, time.now()});
  step(*router, 1min);
  a.firing = false;
  a.ends_at = time.now();
  router->receive(a);
  step(*router, 10ms);
  EXPECT_EQ(sent->count(), 0u) << "resolved group notified by a router that does not send it";
  // The owner told the receiver; its record arrives, then this router takes the group over.
  router->apply_nflog({"ops", key, {}, {a.fingerprint}, time.now()});
  cluster.set_sends(true);
  step(*router, 0ms);
  step(*router, 200ms);
  EXPECT_EQ(sent->count(), 0u) << "the resolution was sent again";
}

// The price of not piling up resolved alerts on every router: a resolution the owner had not sent
// when it died is not sent by the next owner (a firing alert is; see README "Scaling out").
TEST_F(alert_router_cluster_test, a_resolution_is_left_to_the_router_that_sends_the_group) {
  auto router = open_router();
  auto a = firing("web1");
  router->receive(a);
  step(*router, 50ms);
  router->apply_nflog({"ops", group_key(), {a.fingerprint}, {}, time.now()});
  step(*router, 1min);
  a.firing = false;
  a.ends_at = time.now();
  router->receive(a);
  step(*router, 10ms);
  ASSERT_EQ(sent->count(), 0u);
  EXPECT_TRUE(router->alerts().empty())
      << "a resolved alert held by a router that does not send it";
  cluster.set_sends(true);  // the owner died before telling the receiver
  step(*router, 0ms);
  step(*router, 1h);
  EXPECT_EQ(sent->count(), 0u);
}

TEST_F(alert_router_cluster_test, a_record_sent_in_the_future_is_ignored) {
  auto router = open_router();
  auto a = firing("web1");
  router->receive(a);
  step(*router, 50ms);
  // From a router whose clock is an hour ahead: it would outrank every later send.
  router->apply_nflog({"ops", group_key(), {a.fingerprint}, {}, time.now() + 1h});
  cluster.set_sends(true);
  step(*router, 0ms);
  EXPECT_EQ(sent->count(), 1u) << "the future record was believed";
}

// A notification-log entry not refreshed for five days is dropped, and the router that sends the
// group tells the cluster (a tombstone), so the compacted topic does not keep every group ever.
TEST_F(alert_router_cluster_test, an_expired_notification_log_entry_is_forgotten_by_the_cluster) {
  cluster.set_sends(true);
  auto router = open_router();
  auto a = firing("web1");
  router->receive(a);
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 1u);
  const std::string key = cluster.records().at(0).group_key;
  a.firing = false;
  a.ends_at = time.now();
  router->receive(a);
  step(*router, 1min);
  EXPECT_TRUE(cluster.forgotten().empty());
  step(*router, 24h * 5 + 2h);  // past the retention, and past the hourly clean-up
  step(*router, 1h);
  EXPECT_EQ(cluster.forgotten(), std::vector<std::string>{key});
}

}  // namespace
}  // namespace tocsin::sinks
