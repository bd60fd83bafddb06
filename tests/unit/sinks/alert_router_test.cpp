#include "sinks/alert_router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "sinks/label_matcher.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;

// Every notification any fake receiver accepted, in order.
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
  std::vector<notification> to(const std::string& receiver) const {
    std::vector<notification> out;
    for (auto& n : all()) {
      if (n.receiver == receiver) out.push_back(n);
    }
    return out;
  }
  std::size_t count() const { return all().size(); }
  // Notifications that carry an alert with this host label.
  std::size_t about_host(const std::string& host) const {
    std::size_t count = 0;
    for (const auto& n : all()) {
      count += std::any_of(n.alerts.begin(), n.alerts.end(),
                           [&](const rules::alert& a) { return a.labels.at("host") == host; });
    }
    return count;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<notification> sent_;
};

class fake_notifier : public notifier {
 public:
  explicit fake_notifier(std::shared_ptr<capture> sent, bool send_resolved = true)
      : notifier(send_resolved), sent_(std::move(sent)) {}
  delivery_result send(const notification& n) override {
    sent_->add(n);
    return delivery_result::delivered(200);
  }

 private:
  std::shared_ptr<capture> sent_;
};

// Takes the notification and then fails to say so: the receiver got it, the router never learns
// (as when a router is killed between the receiver's 200 and the notification log write).
class lost_answer_notifier : public notifier {
 public:
  explicit lost_answer_notifier(std::shared_ptr<capture> sent)
      : notifier(/*send_resolved=*/true), sent_(std::move(sent)) {}
  delivery_result send(const notification& n) override {
    sent_->add(n);
    return {delivery_result::outcome::retry, 0, "connection reset", {}};
  }

 private:
  std::shared_ptr<capture> sent_;
};

config::receiver_config receiver(const std::string& name, const std::string& integration = "test") {
  config::receiver_config r;
  r.name = name;
  r.integration = integration;
  return r;
}

config::route_config route(const std::string& receiver, std::vector<std::string> group_by) {
  config::route_config r;
  r.receiver = receiver;
  r.group_by = std::move(group_by);
  r.group_wait = 50ms;
  r.group_interval = 200ms;
  r.repeat_interval = 1s;
  return r;
}

label_matcher matcher(const std::string& text) { return *label_matcher::parse(text); }

// The router runs on a manual clock and, unless a test starts it, without its tick thread: a
// test moves time with step(), which ticks once and waits for the receivers, so what is not sent
// by then is not sent at all. Waiting for hours of group timers takes no real time.
class alert_router_test : public ::testing::Test {
 protected:
  alert_router_test() {
    registry.add("test", [sent = sent](const config::receiver_config&) {
      return std::make_unique<fake_notifier>(sent);
    });
    registry.add("test_without_resolved", [sent = sent](const config::receiver_config&) {
      return std::make_unique<fake_notifier>(sent, /*send_resolved=*/false);
    });
    registry.add("lost_answer", [sent = sent](const config::receiver_config&) {
      return std::make_unique<lost_answer_notifier>(sent);
    });
    cfg.route = route("ops", {"alertname"});
    cfg.receivers = {receiver("ops")};
  }

  std::unique_ptr<alert_router> open_router() {
    router_options options;
    options.data_dir = dir.path();
    options.external_url = "http://tocsin.test:9095";
    options.tick = tick;
    options.resolve_timeout = resolve_timeout;
    options.worker.initial_backoff = 10ms;
    return std::make_unique<alert_router>(cfg, registry, metrics, options, time);
  }

  // Lets `d` pass, ticks, and waits until the receivers have sent what the tick gave them.
  void step(alert_router& router, std::chrono::milliseconds d) {
    time.advance(d);
    // Real time: how long the worker threads may take to deliver.
    ASSERT_TRUE(router.drain(std::chrono::steady_clock::now() + 5s));
  }

  // Real time: for the worker threads and, in the tests that start it, the tick thread.
  bool wait_for_count(std::size_t n, std::chrono::milliseconds timeout = 3s) const {
    return test::wait_until([&] { return sent->count() >= n; }, timeout);
  }

  rules::alert firing(rules::label_set labels) const {
    rules::alert a;
    a.labels = std::move(labels);
    a.starts_at = time.now() - 1s;
    a.ends_at = time.now() + 1h;
    a.fingerprint = rules::fingerprint(a.labels);
    return a;
  }

  rules::alert resolved(rules::alert a) const {
    a.firing = false;
    a.ends_at = time.now();
    return a;
  }

  test::temp_dir dir{"alert-router"};
  manual_clock time;
  std::shared_ptr<capture> sent = std::make_shared<capture>();
  notifier_registry registry;
  metrics_registry metrics;
  config::config cfg;
  std::chrono::milliseconds resolve_timeout = 5min;
  std::chrono::milliseconds tick = 10ms;
};

TEST_F(alert_router_test, alerts_of_one_group_go_out_in_one_notification) {
  auto router = open_router();
  for (int i = 0; i < 10; ++i) {
    router->receive(firing({{"alertname", "disk-full"}, {"host", "web" + std::to_string(i)}}));
  }
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 1u);
  step(*router, 200ms);  // two group_intervals: nothing new to send
  step(*router, 200ms);
  const auto all = sent->all();
  ASSERT_EQ(all.size(), 1u);
  const notification& n = all[0];
  EXPECT_EQ(n.receiver, "ops");
  EXPECT_EQ(n.alerts.size(), 10u);
  EXPECT_EQ(n.group_labels, (rules::label_set{{"alertname", "disk-full"}}));
  EXPECT_EQ(n.external_url, "http://tocsin.test:9095");
  EXPECT_NE(n.group_key.find("alertname=\"disk-full\""), std::string::npos) << n.group_key;
  EXPECT_TRUE(std::all_of(n.alerts.begin(), n.alerts.end(),
                          [](const rules::alert& a) { return a.firing; }));
  EXPECT_NE(n.due_since, std::chrono::steady_clock::time_point{});
}

TEST_F(alert_router_test, group_waits_group_wait_then_group_interval_to_the_millisecond) {
  auto router = open_router();
  router->receive(firing({{"alertname", "disk-full"}, {"host", "web1"}}));
  step(*router, 49ms);
  EXPECT_EQ(sent->count(), 0u) << "1 ms before group_wait";
  step(*router, 1ms);
  ASSERT_EQ(sent->count(), 1u);

  // A new alert in the group waits for the group_interval counted from the last flush.
  router->receive(firing({{"alertname", "disk-full"}, {"host", "web2"}}));
  step(*router, 199ms);
  EXPECT_EQ(sent->count(), 1u) << "1 ms before group_interval";
  step(*router, 1ms);
  ASSERT_EQ(sent->count(), 2u);
  EXPECT_EQ(sent->all()[1].alerts.size(), 2u);
}

TEST_F(alert_router_test, groups_by_host_make_a_notification_each) {
  cfg.route = route("ops", {"host"});
  auto router = open_router();
  router->receive(firing({{"alertname", "disk-full"}, {"host", "web1"}}));
  router->receive(firing({{"alertname", "cpu-high"}, {"host", "web1"}}));
  router->receive(firing({{"alertname", "disk-full"}, {"host", "web2"}}));
  step(*router, 50ms);
  step(*router, 200ms);
  step(*router, 200ms);
  auto all = sent->all();
  ASSERT_EQ(all.size(), 2u);
  std::sort(all.begin(), all.end(), [](const notification& a, const notification& b) {
    return a.group_labels < b.group_labels;
  });
  EXPECT_EQ(all[0].group_labels, (rules::label_set{{"host", "web1"}}));
  EXPECT_EQ(all[0].alerts.size(), 2u);
  EXPECT_EQ(all[1].group_labels, (rules::label_set{{"host", "web2"}}));
  EXPECT_EQ(all[1].alerts.size(), 1u);
}

TEST_F(alert_router_test, continue_sends_to_the_next_matching_route_too) {
  config::route_config pager = route("pager", {"alertname"});
  pager.matchers = {"severity=\"critical\""};
  pager.continue_matching = true;
  config::route_config ops = route("ops", {"alertname"});
  ops.matchers = {"alertname=~\".+\""};
  cfg.route->routes = {pager, ops};
  cfg.receivers = {receiver("ops"), receiver("pager")};
  auto router = open_router();

  router->receive(firing({{"alertname", "disk-full"}, {"severity", "critical"}}));
  step(*router, 50ms);
  step(*router, 200ms);
  step(*router, 200ms);
  EXPECT_EQ(sent->to("pager").size(), 1u);
  EXPECT_EQ(sent->to("ops").size(), 1u);
  const auto views = router->alerts();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].receivers, (std::vector<std::string>{"pager", "ops"}));
}

TEST_F(alert_router_test, silenced_alerts_are_not_notified) {
  cfg.route = route("ops", {"host"});
  auto router = open_router();
  silence s;
  s.matchers = {matcher("host=\"web1\"")};
  s.starts_at = time.now() - 1min;
  s.ends_at = time.now() + 1h;
  s.created_by = "test";
  s.comment = "maintenance";
  const auto id = router->silences().upsert(s);
  ASSERT_TRUE(id);

  router->receive(firing({{"alertname", "disk-full"}, {"host", "web1"}}));
  router->receive(firing({{"alertname", "disk-full"}, {"host", "web2"}}));
  step(*router, 50ms);
  step(*router, 200ms);
  step(*router, 200ms);
  EXPECT_EQ(sent->count(), 1u);
  EXPECT_EQ(sent->about_host("web1"), 0u);
  EXPECT_EQ(sent->about_host("web2"), 1u);

  for (const alert_view& v : router->alerts()) {
    if (v.alert.labels.at("host") == "web1") {
      EXPECT_EQ(v.state, "suppressed");
      EXPECT_EQ(v.silenced_by, std::vector<std::string>{*id});
    } else {
      EXPECT_EQ(v.state, "active");
      EXPECT_TRUE(v.silenced_by.empty());
    }
  }
  EXPECT_EQ(metrics.get_gauge("tocsin_alerts", "", {{"state", "suppressed"}}).value(), 1);
  EXPECT_EQ(metrics.get_gauge("tocsin_alerts", "", {{"state", "firing"}}).value(), 1);
  EXPECT_EQ(metrics.get_gauge("tocsin_silences", "", {{"state", "active"}}).value(), 1);
}

// A silence mutes while now < ends_at: the group flush at ends_at itself sends the alert.
TEST_F(alert_router_test, silence_stops_muting_exactly_at_its_end) {
  cfg.route = route("ops", {"host"});
  auto router = open_router();
  silence s;
  s.matchers = {matcher("host=\"web1\"")};
  s.starts_at = time.now();
  s.ends_at = time.now() + 250ms;  // the group's second flush: group_wait + group_interval
  s.created_by = "test";
  s.comment = "maintenance";
  const auto id = router->silences().upsert(s);
  ASSERT_TRUE(id);
  const auto silences = [&](const char* state) {
    return metrics.get_gauge("tocsin_silences", "", {{"state", state}}).value();
  };

  router->receive(firing({{"alertname", "disk-full"}, {"host", "web1"}}));
  step(*router, 50ms);
  EXPECT_EQ(sent->count(), 0u);
  step(*router, 199ms);
  EXPECT_EQ(sent->count(), 0u);
  ASSERT_EQ(router->alerts().size(), 1u);
  EXPECT_EQ(router->alerts()[0].state, "suppressed");
  EXPECT_EQ(router->alerts()[0].silenced_by, std::vector<std::string>{*id});
  EXPECT_EQ(silences("active"), 1);

  step(*router, 1ms);
  ASSERT_EQ(sent->count(), 1u);
  EXPECT_EQ(sent->about_host("web1"), 1u);
  EXPECT_EQ(router->alerts()[0].state, "active");
  EXPECT_TRUE(router->alerts()[0].silenced_by.empty());
  EXPECT_EQ(silences("active"), 0);
  EXPECT_EQ(silences("expired"), 1);
}

TEST_F(alert_router_test, inhibited_alerts_are_left_out) {
  cfg.route = route("ops", {"host"});
  config::inhibit_rule_config rule;
  rule.source_matchers = {"severity=\"critical\""};
  rule.target_matchers = {"severity=\"warning\""};
  rule.equal = {"host"};
  cfg.inhibit_rules = {rule};
  auto router = open_router();
  const auto source =
      firing({{"alertname", "disk-full"}, {"severity", "critical"}, {"host", "web1"}});
  const auto target =
      firing({{"alertname", "cpu-high"}, {"severity", "warning"}, {"host", "web1"}});
  router->receive(source);
  router->receive(target);
  router->receive(firing({{"alertname", "cpu-high"}, {"severity", "warning"}, {"host", "web2"}}));
  step(*router, 50ms);
  step(*router, 200ms);
  step(*router, 200ms);
  const auto all = sent->all();
  ASSERT_EQ(all.size(), 2u);
  for (const notification& n : all) {
    ASSERT_EQ(n.alerts.size(), 1u);
    if (n.group_labels.at("host") == "web1") {
      EXPECT_EQ(n.alerts[0].fingerprint, source.fingerprint);
    } else {
      EXPECT_EQ(n.alerts[0].labels.at("alertname"), "cpu-high");
    }
  }
  for (const alert_view& v : router->alerts()) {
    if (v.alert.fingerprint == target.fingerprint) {
      EXPECT_EQ(v.state, "suppressed");
      EXPECT_EQ(v.inhibited_by, std::vector<std::string>{source.fingerprint});
    } else {
      EXPECT_EQ(v.state, "active");
      EXPECT_TRUE(v.inhibited_by.empty());
    }
  }
}

TEST_F(alert_router_test, all_resolved_group_is_notified_on_the_next_tick) {
  cfg.route->group_interval = 5s;
  cfg.route->repeat_interval = 1h;
  auto router = open_router();
  const auto a = firing({{"alertname", "disk-full"}, {"host", "web1"}});
  const auto b = firing({{"alertname", "disk-full"}, {"host", "web2"}});
  router->receive(a);
  router->receive(b);
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 1u);

  router->receive(resolved(a));
  step(*router, 200ms);
  EXPECT_EQ(sent->count(), 1u) << "one alert still firing: wait for group_interval";

  router->receive(resolved(b));
  step(*router, 0ms);  // the next tick, not group_interval later
  ASSERT_EQ(sent->count(), 2u);
  const notification n = sent->all()[1];
  ASSERT_EQ(n.alerts.size(), 2u);
  EXPECT_FALSE(n.alerts[0].firing);
  EXPECT_FALSE(n.alerts[1].firing);
  // Every group has told them: the tick after their delivery forgets them.
  step(*router, 0ms);
  EXPECT_TRUE(router->alerts().empty());
}

// With the thread started, a group that becomes due is flushed at once, not on the next tick.
TEST_F(alert_router_test, tick_thread_flushes_a_group_as_soon_as_it_is_due) {
  cfg.route->group_wait = 0s;
  tick = 1h;  // the thread's periodic tick never comes
  auto router = open_router();
  router->start();
  const auto a = firing({{"alertname", "disk-full"}, {"host", "web1"}});
  router->receive(a);
  ASSERT_TRUE(wait_for_count(1));
  router->receive(resolved(a));
  ASSERT_TRUE(wait_for_count(2));
  EXPECT_FALSE(sent->all()[1].alerts.at(0).firing);
}

// The thread's periodic tick reads the injected clock, as tick() does.
TEST_F(alert_router_test, tick_thread_flushes_by_the_injected_clock) {
  auto router = open_router();
  router->start();
  router->receive(firing({{"alertname", "disk-full"}, {"host", "web1"}}));
  // The gauges are set by each tick: the thread has ticked, and group_wait has not passed.
  ASSERT_TRUE(test::wait_until(
      [&] {
        return metrics.get_gauge("tocsin_alerts", "", {{"state", "firing"}}).value() == 1;
      },
      3s));
  ASSERT_TRUE(router->drain(std::chrono::steady_clock::now() + 5s));
  EXPECT_EQ(sent->count(), 0u);
  time.advance(50ms);
  EXPECT_TRUE(wait_for_count(1));
}

TEST_F(alert_router_test, firing_group_is_sent_again_after_repeat_interval) {
  cfg.route->group_interval = 100ms;
  auto router = open_router();
  router->receive(firing({{"alertname", "disk-full"}, {"host", "web1"}}));
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 1u);
  for (int i = 1; i < 10; ++i) {
    step(*router, 100ms);
    ASSERT_EQ(sent->count(), 1u) << i * 100 << " ms after the first";
  }
  step(*router, 100ms);  // repeat_interval (1s) after the first
  ASSERT_EQ(sent->count(), 2u);
  const auto all = sent->all();
  EXPECT_EQ(all[0].group_key, all[1].group_key);
  EXPECT_EQ(all[1].alerts.size(), 1u);
}

// Alertmanager's default repeat_interval: 47 group_intervals of quiet, then the repeat.
TEST_F(alert_router_test, repeat_interval_of_four_hours) {
  cfg.route->group_interval = 5min;
  cfg.route->repeat_interval = 4h;
  auto router = open_router();
  auto a = firing({{"alertname", "disk-full"}, {"host", "web1"}});
  router->receive(a);
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 1u);
  for (int i = 1; i <= 48; ++i) {
    a.ends_at = time.now() + 1h;  // the source re-sends it, as the rules engine does
    router->receive(a);
    step(*router, 5min);
    ASSERT_EQ(sent->count(), i < 48 ? 1u : 2u) << i * 5 << " min after the first";
  }
  EXPECT_EQ(sent->all()[1].alerts.size(), 1u);
  EXPECT_TRUE(sent->all()[1].alerts[0].firing);
}

TEST_F(alert_router_test, unchanged_group_is_not_sent_again_before_repeat_interval) {
  cfg.route->group_interval = 100ms;
  cfg.route->repeat_interval = 1h;
  auto router = open_router();
  auto a = firing({{"alertname", "disk-full"}, {"host", "web1"}});
  router->receive(a);
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 1u);
  for (int i = 0; i < 5; ++i) {  // the source re-sends it, as the rules engine does
    a.ends_at = time.now() + 1h;
    router->receive(a);
    step(*router, 120ms);
  }
  EXPECT_EQ(sent->count(), 1u);
}

TEST_F(alert_router_test, restart_resends_nothing_sent_and_sends_what_was_pending) {
  cfg.route = route("ops", {"host"});
  cfg.route->group_interval = 100ms;
  cfg.route->repeat_interval = 1h;
  auto router = open_router();
  router->receive(firing({{"alertname", "disk-full"}, {"host", "web1"}}));
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 1u);
  router->stop();  // no more flushes: the next alert is received but never sent
  router->receive(firing({{"alertname", "disk-full"}, {"host", "web2"}}));
  router.reset();
  ASSERT_EQ(sent->count(), 1u);

  router = open_router();
  step(*router, 50ms);
  ASSERT_EQ(sent->about_host("web2"), 1u);
  step(*router, 200ms);
  step(*router, 200ms);
  EXPECT_EQ(sent->about_host("web1"), 1u);
  EXPECT_EQ(sent->count(), 2u);
  EXPECT_EQ(router->alerts().size(), 2u);
}

TEST_F(alert_router_test, restart_sends_a_group_whose_new_alert_was_pending) {
  cfg.route->group_interval = 100ms;
  cfg.route->repeat_interval = 1h;
  auto router = open_router();
  const auto a = firing({{"alertname", "disk-full"}, {"host", "web1"}});
  const auto b = firing({{"alertname", "disk-full"}, {"host", "web2"}});
  router->receive(a);
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 1u);
  router->stop();
  router->receive(b);
  router.reset();

  router = open_router();
  step(*router, 50ms);
  step(*router, 200ms);
  step(*router, 200ms);
  const auto all = sent->all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].alerts.size(), 2u);  // the group as it is now: old and new alert
}

TEST_F(alert_router_test, alert_without_ends_at_resolves_after_resolve_timeout) {
  resolve_timeout = 300ms;
  cfg.route->group_interval = 5s;
  auto router = open_router();
  auto a = firing({{"alertname", "disk-full"}, {"host", "web1"}});
  a.ends_at = {};
  router->receive(a);
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 1u);
  EXPECT_TRUE(sent->all()[0].alerts[0].firing);
  step(*router, 249ms);
  EXPECT_EQ(sent->count(), 1u) << "1 ms before resolve_timeout";
  step(*router, 1ms);  // resolved, and its group is all resolved: flushed in the same tick
  ASSERT_EQ(sent->count(), 2u);
  const auto n = sent->all()[1];
  ASSERT_EQ(n.alerts.size(), 1u);
  EXPECT_FALSE(n.alerts[0].firing);
  EXPECT_LE(n.alerts[0].ends_at, time.now());
}

TEST_F(alert_router_test, without_send_resolved_resolves_are_not_sent_but_new_episodes_are) {
  cfg.receivers = {receiver("ops", "test_without_resolved")};
  cfg.route->group_interval = 100ms;
  cfg.route->repeat_interval = 1h;
  auto router = open_router();
  auto a = firing({{"alertname", "disk-full"}, {"host", "web1"}});
  router->receive(a);
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 1u);
  router->receive(resolved(a));
  step(*router, 200ms);
  step(*router, 200ms);
  EXPECT_EQ(sent->count(), 1u);

  a.starts_at = time.now();  // fires again: a new episode is news
  a.ends_at = time.now() + 1h;
  router->receive(a);
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 2u);
  EXPECT_TRUE(sent->all()[1].alerts[0].firing);
}

TEST_F(alert_router_test, receiver_without_integration_discards) {
  cfg.route = route("drop", {"alertname"});
  cfg.receivers = {receiver("drop", "")};
  auto router = open_router();
  router->receive(firing({{"alertname", "disk-full"}, {"host", "web1"}}));
  counter& discarded = metrics.get_counter("tocsin_notifications_total", "",
                                           {{"receiver", "drop"}, {"result", "discarded"}});
  step(*router, 50ms);
  ASSERT_EQ(discarded.value(), 1u);
  step(*router, 200ms);
  step(*router, 200ms);
  EXPECT_EQ(discarded.value(), 1u);
  EXPECT_EQ(sent->count(), 0u);
}

TEST_F(alert_router_test, stale_firing_resend_does_not_reopen_a_resolved_alert) {
  auto router = open_router();
  const auto a = firing({{"alertname", "disk-full"}, {"host", "web1"}});
  router->stop();  // look at the store only
  router->receive(a);
  router->receive(resolved(a));
  router->receive(a);  // redelivered late
  auto views = router->alerts();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_FALSE(views[0].alert.firing);
  EXPECT_EQ(views[0].alert.starts_at, a.starts_at);
}

// Issue 11: 60 000 distinct values of a named group made 60 000 firing alerts in the router.
TEST_F(alert_router_test, max_alerts_refuses_new_alerts_and_counts_them) {
  cfg.router.max_alerts = 3;
  cfg.route = route("ops", {"host"});
  auto router = open_router();
  const auto refused = [&] {
    return metrics.get_counter("tocsin_router_alerts_refused_total", "", {{"reason", "max_alerts"}})
        .value();
  };
  std::vector<rules::alert> held;
  for (const char* host : {"a", "b", "c"}) {
    held.push_back(firing({{"alertname", "x"}, {"host", host}}));
    router->receive(held.back());
  }
  for (int i = 0; i < 5; ++i) {
    router->receive(firing({{"alertname", "x"}, {"host", "new" + std::to_string(i)}}));
  }
  EXPECT_EQ(router->alerts().size(), 3u);
  EXPECT_EQ(refused(), 5u);

  // Updates of held alerts are still taken.
  rules::alert updated = held[0];
  updated.annotations["summary"] = "still burning";
  router->receive(updated);
  const auto views = router->alerts();
  const auto it = std::find_if(views.begin(), views.end(), [&](const alert_view& v) {
    return v.alert.fingerprint == updated.fingerprint;
  });
  ASSERT_NE(it, views.end());
  EXPECT_EQ(it->alert.annotations.at("summary"), "still burning");
  EXPECT_EQ(refused(), 5u);

  // A resolved alert frees its slot once its group has sent the resolve.
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 3u);
  router->receive(resolved(held[1]));
  step(*router, 0ms);  // sends the resolve
  step(*router, 0ms);  // forgets the alert
  ASSERT_EQ(router->alerts().size(), 2u);
  router->receive(firing({{"alertname", "x"}, {"host", "d"}}));
  EXPECT_EQ(router->alerts().size(), 3u);
  EXPECT_EQ(refused(), 5u);
  router->receive(firing({{"alertname", "x"}, {"host", "e"}}));
  EXPECT_EQ(refused(), 6u);
  EXPECT_EQ(router->alerts().size(), 3u);

  // Nothing refused was stored: a restart holds the same three.
  router.reset();
  auto restarted = open_router();
  EXPECT_EQ(restarted->alerts().size(), 3u);
}

// Issue 11: a repeat after a crash carries the id of the notification it repeats, so the receiver
// can drop it; the next notification of the group (a new alert, repeat_interval) has a new id.
TEST_F(alert_router_test, notification_id_is_the_same_on_a_repeat_after_a_crash) {
  cfg.receivers = {receiver("ops", "lost_answer")};
  auto router = open_router();
  router->receive(firing({{"alertname", "x"}, {"host", "a"}}));
  router->receive(firing({{"alertname", "x"}, {"host", "b"}}));
  time.advance(50ms);
  router->tick();                  // not step(): the receiver retries for ever, it never gets idle
  ASSERT_TRUE(wait_for_count(2));  // sent, and retried: the answer never arrives
  router.reset();                  // the notification log was not written
  const auto lost = sent->all();
  const std::string id = lost.front().id;
  EXPECT_EQ(id.size(), 16u);
  for (const notification& n : lost) EXPECT_EQ(n.id, id);  // every retry carries it

  cfg.receivers = {receiver("ops")};
  auto restarted = open_router();
  step(*restarted, 50ms);
  ASSERT_EQ(sent->count(), lost.size() + 1);
  const notification repeat = sent->all().back();
  EXPECT_EQ(repeat.alerts.size(), 2u);
  EXPECT_EQ(repeat.id, id);

  // A new alert in the group: a new notification, a new id.
  restarted->receive(firing({{"alertname", "x"}, {"host", "c"}}));
  step(*restarted, 200ms);
  ASSERT_EQ(sent->count(), lost.size() + 2);
  const notification grown = sent->all().back();
  EXPECT_EQ(grown.alerts.size(), 3u);
  EXPECT_NE(grown.id, id);
  // repeat_interval (1s): the same alerts again, but the log has moved on: another id.
  for (int i = 0; i < 5; ++i) step(*restarted, 200ms);
  ASSERT_EQ(sent->count(), lost.size() + 3);
  const notification repeated = sent->all().back();
  EXPECT_EQ(repeated.alerts.size(), 3u);
  EXPECT_NE(repeated.id, grown.id);
  EXPECT_NE(repeated.id, id);
}

// Once a group's log entry is gone (collected after days), its next incident's first
// notification must not reuse the id of the last incident's first one: email makes it the
// Message-ID, and a receiver dropping repeats would drop the page.
TEST_F(alert_router_test, a_later_incident_gets_a_new_notification_id) {
  auto router = open_router();
  router->receive(firing({{"alertname", "x"}}));
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 1u);
  const std::string first = sent->all().front().id;
  router.reset();
  for (const char* file : {"router.db", "router.db-wal", "router.db-shm"}) {
    std::filesystem::remove(dir.path() / file);
  }

  auto later = open_router();
  rules::alert again = firing({{"alertname", "x"}});
  again.starts_at += 1h;
  later->receive(again);
  step(*later, 50ms);
  ASSERT_EQ(sent->count(), 2u);
  EXPECT_NE(sent->all().back().id, first);
}

TEST_F(alert_router_test, unusable_data_dir_throws) {
  const auto file = dir.write_file("not-a-dir", "x");
  router_options options;
  options.data_dir = file / "sub";
  EXPECT_THROW(alert_router(cfg, registry, metrics, options, time), std::runtime_error);
}

// A reload moves alerts to the new routes without telling anyone twice.
TEST_F(alert_router_test, reconfigure_regroups_under_new_routes_without_resending) {
  auto router = open_router();
  router->receive(firing({{"alertname", "disk-full"}, {"severity", "critical"}}));
  step(*router, 50ms);
  ASSERT_EQ(sent->count(), 1u);

  // A new route elsewhere in the tree: the alert's group (and key) is the same, nothing is news.
  config::route_config db = route("dba", {"alertname"});
  db.matchers = {"team=\"db\""};
  cfg.route->routes = {db};
  cfg.receivers = {receiver("ops"), receiver("dba")};
  router->reconfigure(cfg, registry);
  step(*router, 50ms);  // the re-formed group's group_wait
  step(*router, 200ms);
  EXPECT_EQ(sent->count(), 1u);

  // The root now sends to the pager: it hears about the firing alert once, ops no more.
  cfg.route->receiver = "pager";
  cfg.receivers = {receiver("ops"), receiver("dba"), receiver("pager")};
  router->reconfigure(cfg, registry);
  step(*router, 50ms);
  ASSERT_EQ(sent->to("pager").size(), 1u);
  step(*router, 200ms);
  step(*router, 200ms);
  EXPECT_EQ(sent->to("pager").size(), 1u);
  EXPECT_EQ(sent->to("ops").size(), 1u);
  const auto views = router->alerts();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].receivers, (std::vector<std::string>{"pager"}));

  // The resolve goes where the alert is routed now.
  router->receive(resolved(firing({{"alertname", "disk-full"}, {"severity", "critical"}})));
  step(*router, 0ms);
  ASSERT_EQ(sent->to("pager").size(), 2u);
  EXPECT_FALSE(sent->to("pager")[1].alerts.at(0).firing);
  EXPECT_EQ(sent->to("ops").size(), 1u);
}

TEST_F(alert_router_test, a_bad_reconfigure_changes_nothing) {
  auto router = open_router();
  config::config bad = cfg;
  bad.route->receiver = "nobody";  // not a receiver
  EXPECT_THROW(router->reconfigure(bad, registry), config::config_error);
  router->receive(firing({{"alertname", "disk-full"}}));
  step(*router, 50ms);
  EXPECT_EQ(sent->to("ops").size(), 1u);
}

}  // namespace
}  // namespace tocsin::sinks
