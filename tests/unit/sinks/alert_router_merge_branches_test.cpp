// The router's merge of a received alert into the one it holds (Alertmanager's rules,
// simplified), case by case, looking at the store only: stale messages about an earlier episode,
// a resolve from before the episode started, a repeated resolve, a resolve that changes the
// annotations or the end, a new episode after a resolve, and an earlier start while firing.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "sinks/alert_router.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;

class alert_router_merge : public ::testing::Test {
 protected:
  alert_router_merge() {
    config::route_config root;
    root.receiver = "ops";
    root.group_by = std::vector<std::string>{"alertname"};
    cfg.route = root;
    config::receiver_config r;
    r.name = "ops";  // no integration: discards
    cfg.receivers = {r};
    router_options options;
    options.data_dir = dir.path();
    router = std::make_unique<alert_router>(cfg, registry, metrics, options, time);
    router->stop();  // look at the store only
  }

  rules::alert firing(std::chrono::seconds started_ago) const {
    rules::alert a;
    a.labels = {{"alertname", "disk-full"}};
    a.starts_at = time.now() - started_ago;
    a.ends_at = time.now() + 1h;
    a.firing = true;
    a.fingerprint = rules::fingerprint(a.labels);
    return a;
  }

  static rules::alert resolved(rules::alert a, std::chrono::system_clock::time_point at) {
    a.firing = false;
    a.ends_at = at;
    return a;
  }

  // The one alert the router holds.
  rules::alert held() const {
    const auto views = router->alerts();
    EXPECT_EQ(views.size(), 1u);
    return views.empty() ? rules::alert{} : views[0].alert;
  }

  test::temp_dir dir{"router-merge"};
  manual_clock time;
  notifier_registry registry;
  metrics_registry metrics;
  config::config cfg;
  std::unique_ptr<alert_router> router;
};

TEST_F(alert_router_merge, an_earlier_start_while_firing_is_kept) {
  router->receive(firing(10s));
  router->receive(firing(60s));
  EXPECT_EQ(held().starts_at, time.now() - 60s);
  router->receive(firing(5s));  // a later start of the same episode does not move it
  EXPECT_EQ(held().starts_at, time.now() - 60s);
  EXPECT_TRUE(held().firing);
}

TEST_F(alert_router_merge, a_resolve_from_before_the_episode_started_is_stale) {
  const auto a = firing(10s);
  router->receive(a);
  router->receive(resolved(a, a.starts_at - 1s));
  EXPECT_TRUE(held().firing);
}

TEST_F(alert_router_merge, messages_about_an_earlier_episode_are_stale_once_resolved) {
  const auto a = firing(10s);
  router->receive(a);
  router->receive(resolved(a, time.now()));
  router->receive(firing(60s));  // started before the held episode: redelivered late
  EXPECT_FALSE(held().firing);
  EXPECT_EQ(held().starts_at, a.starts_at);
}

TEST_F(alert_router_merge, a_repeated_resolve_changes_nothing_a_later_or_annotated_one_does) {
  const auto a = firing(10s);
  router->receive(a);
  const auto end = time.now();
  router->receive(resolved(a, end));
  router->receive(resolved(a, end - 1s));  // tells nothing new
  EXPECT_EQ(held().ends_at, end);
  router->receive(resolved(a, end + 2s));
  EXPECT_EQ(held().ends_at, end + 2s);
  auto annotated = resolved(a, end + 2s);
  annotated.annotations["summary"] = "fixed";
  router->receive(annotated);
  EXPECT_EQ(held().annotations.at("summary"), "fixed");
  EXPECT_FALSE(held().firing);
}

TEST_F(alert_router_merge, a_later_start_after_a_resolve_is_a_new_episode) {
  const auto a = firing(60s);
  router->receive(a);
  router->receive(resolved(a, time.now() - 30s));
  const auto again = firing(10s);
  router->receive(again);
  EXPECT_TRUE(held().firing);
  EXPECT_EQ(held().starts_at, again.starts_at);
}

}  // namespace
}  // namespace tocsin::sinks
