// Routes with mute_time_intervals / active_time_intervals (Alertmanager's TimeMuteStage and
// TimeActiveStage): a group flushed while its route is muted sends nothing and the notification
// log keeps what it had, so the first flush after the interval sends. Time is a manual clock.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/rfc3339.hpp"
#include "sinks/alert_router.hpp"
#include "tests/support/temp_dir.hpp"

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

config::receiver_config receiver(const std::string& name) {
  config::receiver_config r;
  r.name = name;
  r.integration = "test";
  return r;
}

config::route_config route(const std::string& receiver, const std::string& matcher = "") {
  config::route_config r;
  r.receiver = receiver;
  if (!matcher.empty()) r.matchers = {matcher};
  r.group_by = std::vector<std::string>{"alertname"};
  r.group_wait = 50ms;
  r.group_interval = 200ms;
  r.repeat_interval = 4h;
  return r;
}

std::chrono::system_clock::time_point at(const char* text) { return *parse_rfc3339(text); }

config::time_interval_config interval(
    const std::string& name, int start_minute, int end_minute,
    std::optional<std::vector<config::inclusive_range>> weekdays = std::nullopt) {
  config::time_interval_entry e;
  e.times = std::vector<config::minute_range>{{start_minute, end_minute}};
  e.weekdays = std::move(weekdays);
  return {name, {e}, {}};
}

class alert_router_time_intervals : public ::testing::Test {
 protected:
  alert_router_time_intervals() {
    registry.add("test", [sent = sent](const config::receiver_config&) {
      return std::make_unique<fake_notifier>(sent);
    });
    cfg.receivers = {receiver("default"), receiver("team-a")};
    cfg.route = route("default");
    cfg.time_intervals = {interval("lunch", 12 * 60, 13 * 60),
                          interval("office", 9 * 60, 17 * 60, {{{1, 5}}})};
  }

  std::unique_ptr<alert_router> open_router() {
    router_options options;
    options.data_dir = dir.path();
    options.tick = 10ms;
    options.worker.initial_backoff = 10ms;
    return std::make_unique<alert_router>(cfg, registry, metrics, options, *time);
  }

  void step(alert_router& router, std::chrono::system_clock::duration d) {
    time->advance(d);
    ASSERT_TRUE(router.drain(std::chrono::steady_clock::now() + 5s));
  }

  rules::alert firing(rules::label_set labels) const {
    rules::alert a;
    a.labels = std::move(labels);
    a.starts_at = time->now() - 1s;
    a.ends_at = time->now() + 1000h;
    a.fingerprint = rules::fingerprint(a.labels);
    return a;
  }

  std::uint64_t muted(const std::string& receiver, const std::string& reason) {
    return metrics
        .get_counter("tocsin_notifications_muted_total", "",
                     {{"receiver", receiver}, {"reason", reason}})
        .value();
  }

  test::temp_dir dir{"alert-router-time-intervals"};
  std::unique_ptr<manual_clock> time;
  std::shared_ptr<capture> sent = std::make_shared<capture>();
  notifier_registry registry;
  metrics_registry metrics;
  config::config cfg;
};

TEST_F(alert_router_time_intervals, a_group_flushed_in_a_mute_interval_sends_after_it) {
  auto team = route("team-a", "team=\"a\"");
  team.mute_time_intervals = {"lunch"};
  cfg.route->routes = {team};
  // group_wait ends at 12:00:00.000 exactly: the interval's start is inclusive.
  time = std::make_unique<manual_clock>(at("2026-12-04T11:59:59.950Z"));
  auto router = open_router();
  router->receive(firing({{"alertname", "disk-full"}, {"team", "a"}}));
  router->receive(firing({{"alertname", "disk-full"}, {"team", "b"}}));  // the root: not muted
  step(*router, 50ms);
  ASSERT_EQ(sent->all().size(), 1u);
  EXPECT_EQ(sent->all()[0].receiver, "default");
  EXPECT_EQ(muted("team-a", "mute_time_interval"), 1u);

  // Every group_interval until 12:59:59.950: still muted, nothing sent.
  step(*router, 200ms);
  EXPECT_EQ(muted("team-a", "mute_time_interval"), 2u);
  router->receive(firing({{"alertname", "disk-full"}, {"team", "a"}, {"host", "web2"}}));
  step(*router, at("2026-12-04T12:59:59.950Z") - time->now());
  EXPECT_EQ(sent->all().size(), 1u);
  EXPECT_EQ(muted("team-a", "mute_time_interval"), 3u);

  // 13:00 is outside (the end is exclusive): the next flush sends both alerts, although the
  // repeat_interval (4h) has not passed: the muted flushes recorded nothing.
  step(*router, 50ms);
  EXPECT_EQ(sent->all().size(), 1u) << "the group_interval has not passed yet";
  step(*router, 150ms);
  const auto all = sent->all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].receiver, "team-a");
  EXPECT_EQ(all[1].alerts.size(), 2u);
  EXPECT_EQ(muted("team-a", "mute_time_interval"), 3u);
  // And then the notification log holds it: no repeat before repeat_interval.
  step(*router, 200ms);
  EXPECT_EQ(sent->all().size(), 2u);
}

TEST_F(alert_router_time_intervals, active_time_intervals_send_only_inside_them) {
  auto team = route("team-a", "team=\"a\"");
  team.active_time_intervals = {"office"};
  team.repeat_interval = 1000h;  // what is sent on Friday is not repeated on Monday
  cfg.route->routes = {team};
  // Friday 16:59:59.900: the first flush (16:59:59.950) is in office hours.
  time = std::make_unique<manual_clock>(at("2026-12-04T16:59:59.900Z"));
  auto router = open_router();
  router->receive(firing({{"alertname", "a1"}, {"team", "a"}}));
  step(*router, 50ms);
  ASSERT_EQ(sent->all().size(), 1u);

  // A second group flushes at 17:00:00.000: outside (exclusive end), nothing sent.
  router->receive(firing({{"alertname", "a2"}, {"team", "a"}}));
  step(*router, 50ms);
  EXPECT_EQ(sent->all().size(), 1u);
  EXPECT_EQ(muted("team-a", "active_time_interval"), 1u);
  // Saturday and Sunday: still outside.
  step(*router, at("2026-12-06T12:00:00Z") - time->now());
  EXPECT_EQ(sent->all().size(), 1u);
  // Monday 09:00: inside again; the next flush sends.
  step(*router, at("2026-12-07T09:00:00Z") - time->now());
  const auto all = sent->all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].group_labels, (rules::label_set{{"alertname", "a2"}}));
}

TEST_F(alert_router_time_intervals, an_alert_that_resolves_during_the_mute_is_not_told) {
  // As in Alertmanager: the muted flush counts as done, so a resolved alert leaves its group
  // then and no resolved notification follows the interval.
  auto team = route("team-a", "team=\"a\"");
  team.mute_time_intervals = {"lunch"};
  cfg.route->routes = {team};
  time = std::make_unique<manual_clock>(at("2026-12-04T11:59:00Z"));
  auto router = open_router();
  rules::alert a = firing({{"alertname", "disk-full"}, {"team", "a"}});
  router->receive(a);
  step(*router, 50ms);
  ASSERT_EQ(sent->all().size(), 1u);  // before lunch
  EXPECT_TRUE(sent->all()[0].alerts[0].firing);

  step(*router, at("2026-12-04T12:10:00Z") - time->now());
  a.firing = false;
  a.ends_at = time->now();
  router->receive(a);
  step(*router, 200ms);
  // Muted twice: the flush at 12:10 (still firing) and the one the resolve brought forward.
  EXPECT_EQ(muted("team-a", "mute_time_interval"), 2u);
  step(*router, at("2026-12-04T13:30:00Z") - time->now());
  step(*router, 200ms);
  EXPECT_EQ(sent->all().size(), 1u);
  EXPECT_TRUE(router->groups().empty());
}

TEST_F(alert_router_time_intervals, child_routes_do_not_inherit_them) {
  auto team = route("team-a", "team=\"a\"");
  team.mute_time_intervals = {"lunch"};
  auto pages = route("team-a", "severity=\"page\"");
  team.routes = {pages};
  cfg.route->routes = {team};
  time = std::make_unique<manual_clock>(at("2026-12-04T12:30:00Z"));
  auto router = open_router();
  router->receive(firing({{"alertname", "x"}, {"team", "a"}, {"severity", "page"}}));
  router->receive(firing({{"alertname", "y"}, {"team", "a"}, {"severity", "info"}}));
  step(*router, 50ms);
  const auto all = sent->all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].group_labels, (rules::label_set{{"alertname", "x"}}));
}

TEST_F(alert_router_time_intervals, a_route_naming_an_unknown_interval_is_refused) {
  auto team = route("team-a", "team=\"a\"");
  team.active_time_intervals = {"offce"};
  cfg.route->routes = {team};
  time = std::make_unique<manual_clock>();
  EXPECT_THROW(open_router(), config::config_error);
}

}  // namespace
}  // namespace tocsin::sinks
