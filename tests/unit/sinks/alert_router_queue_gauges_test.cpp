// A receiver whose queue is full drops the router's notification (counted); the router then
// forgets it was on its way, so the group sends it again at its next group_interval instead of
// believing the receiver has it until max_retry_time. Also: the silence gauges by state, and
// start()/stop() called out of order.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "sinks/alert_router.hpp"
#include "sinks/label_matcher.hpp"
#include "sinks/notifier.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;

// Sends (records) each notification, holding the first one until open() is called.
class gate {
 public:
  void pass(const notification& n) {
    std::unique_lock lock(mutex_);
    sent_.push_back(n.alerts.at(0).labels.at("alertname"));
    ++entered_;
    changed_.notify_all();
    if (entered_ == 1) changed_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  [[nodiscard]] int entered() const {
    std::lock_guard lock(mutex_);
    return entered_;
  }
  [[nodiscard]] std::vector<std::string> sent() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
  int entered_ = 0;
  std::vector<std::string> sent_;
};

class gated_notifier : public notifier {
 public:
  explicit gated_notifier(std::shared_ptr<gate> g) : notifier(true), gate_(std::move(g)) {}
  delivery_result send(const notification& n) override {
    gate_->pass(n);
    return delivery_result::delivered(200);
  }

 private:
  std::shared_ptr<gate> gate_;
};

TEST(alert_router_full_queue, a_dropped_notification_is_sent_again_by_its_group) {
  test::temp_dir dir("router-full-queue");
  manual_clock time;
  metrics_registry metrics;
  auto g = std::make_shared<gate>();
  notifier_registry registry;
  registry.add("gated",
               [g](const config::receiver_config&) { return std::make_unique<gated_notifier>(g); });
  config::config cfg;
  config::route_config root;
  root.receiver = "ops";
  root.group_by = std::vector<std::string>{"alertname"};
  root.group_wait = 50ms;
  root.group_interval = 200ms;
  root.repeat_interval = 1h;
  cfg.route = root;
  config::receiver_config r;
  r.name = "ops";
  r.integration = "gated";
  cfg.receivers = {r};
  router_options options;
  options.data_dir = dir.path();
  options.worker.queue_capacity = 1;
  options.worker.initial_backoff = 10ms;
  alert_router router(cfg, registry, metrics, options, time);

  const auto firing = [&](const std::string& name) {
    rules::alert a;
    a.labels = {{"alertname", name}};
    a.starts_at = time.now() - 1s;
    a.ends_at = time.now() + 1h;
    a.fingerprint = rules::fingerprint(a.labels);
    return a;
  };
  // "a" goes out and its send holds the worker.
  router.receive(firing("a"));
  time.advance(50ms);
  router.tick();
  ASSERT_TRUE(test::wait_until([&] { return g->entered() == 1; }, 5s));
  // "b" and "c" are due together: one fills the queue, the other is dropped.
  router.receive(firing("b"));
  router.receive(firing("c"));
  time.advance(50ms);
  router.tick();
  EXPECT_EQ(test::counter_value(metrics, "tocsin_notifications_total",
                                {{"receiver", "ops"}, {"result", "dropped"}}),
            1u);
  g->open();
  ASSERT_TRUE(router.drain(std::chrono::steady_clock::now() + 5s));
  ASSERT_EQ(g->sent().size(), 2u);

  // The next group_interval: the dropped group sends; the others have nothing new.
  time.advance(200ms);
  router.tick();
  ASSERT_TRUE(router.drain(std::chrono::steady_clock::now() + 5s));
  const auto sent = g->sent();
  EXPECT_EQ(std::set<std::string>(sent.begin(), sent.end()),
            (std::set<std::string>{"a", "b", "c"}));
  EXPECT_EQ(sent.size(), 3u);
  router.stop();
}

// The silence gauges count each state, pending included, as of the router's clock.
TEST(alert_router_silence_gauges, pending_active_and_expired_silences_are_each_counted) {
  test::temp_dir dir("router-silence-gauges");
  manual_clock time;
  metrics_registry metrics;
  notifier_registry registry;
  config::config cfg;
  config::route_config root;
  root.receiver = "ops";
  cfg.route = root;
  config::receiver_config r;
  r.name = "ops";
  cfg.receivers = {r};
  router_options options;
  options.data_dir = dir.path();
  alert_router router(cfg, registry, metrics, options, time);
  const auto add = [&](const std::string& host, std::chrono::milliseconds from,
                       std::chrono::milliseconds to) {
    silence s;
    s.matchers = {*label_matcher::parse("host=\"" + host + "\"")};
    s.starts_at = time.now() + from;
    s.ends_at = time.now() + to;
    s.created_by = "test";
    s.comment = host;
    ASSERT_TRUE(router.silences().upsert(s).has_value());
  };
  add("web1", 0ms, 1h);   // active
  add("web2", 1h, 2h);    // pending
  add("web3", 0ms, 10s);  // active now, expired after the step below
  time.advance(1min);
  router.tick();
  const auto gauge = [&](const std::string& state) {
    return test::gauge_value(metrics, "tocsin_silences", {{"state", state}});
  };
  EXPECT_EQ(gauge("active"), 1);
  EXPECT_EQ(gauge("pending"), 1);
  EXPECT_EQ(gauge("expired"), 1);
  router.stop();
}

// start() after stop() does nothing: stop() is final.
TEST(alert_router_silence_gauges, start_twice_and_after_stop_is_harmless) {
  test::temp_dir dir("router-start");
  notifier_registry registry;
  metrics_registry metrics;
  config::config cfg;
  config::route_config root;
  root.receiver = "ops";
  cfg.route = root;
  config::receiver_config r;
  r.name = "ops";
  cfg.receivers = {r};
  router_options options;
  options.data_dir = dir.path();
  alert_router router(cfg, registry, metrics, options);
  router.start();
  router.start();
  router.stop();
  router.start();
  router.stop();
  EXPECT_TRUE(router.alerts().empty());
}

}  // namespace
}  // namespace tocsin::sinks
