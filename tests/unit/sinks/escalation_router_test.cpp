// The router's on-call half (DESIGN.md, "On-call"): a route with `escalation` pages the person on
// call through its receiver, escalates until acknowledged, tells everyone it paged when the group
// resolves, and survives a restart mid-escalation. On a manual clock: no sleeps.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "sinks/alert_router.hpp"
#include "sinks/label_matcher.hpp"
#include "tests/support/metrics.hpp"
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
  // The pages (and resolve notices) sent to `user`.
  std::vector<notification> pages_to(const std::string& user) const {
    std::vector<notification> out;
    for (auto& n : all()) {
      if (n.page && n.page->user == user) out.push_back(n);
    }
    return out;
  }
  std::size_t group_notifications() const {
    std::size_t count = 0;
    for (auto& n : all()) count += n.page ? 0 : 1;
    return count;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<notification> sent_;
};

// Accepts everything, except pages to the users in `refuse` (a bad address: permanent).
class paging_notifier : public notifier {
 public:
  paging_notifier(std::shared_ptr<capture> sent, std::vector<std::string> refuse)
      : sent_(std::move(sent)), refuse_(std::move(refuse)) {}
  delivery_result send(const notification& n) override {
    if (n.page && std::find(refuse_.begin(), refuse_.end(), n.page->user) != refuse_.end()) {
      return {delivery_result::outcome::permanent, 550, "no such mailbox", {}};
    }
    sent_->add(n);
    return delivery_result::delivered(200);
  }

 private:
  std::shared_ptr<capture> sent_;
  std::vector<std::string> refuse_;
};

class escalation_router_test : public ::testing::Test {
 protected:
  escalation_router_test() {
    registry.add("test", [this](const config::receiver_config&) {
      return std::make_unique<paging_notifier>(sent, refuse);
    });
    config::route_config root;
    root.receiver = "ops";
    root.group_by = std::vector<std::string>{"alertname"};
    root.group_wait = 30s;
    root.group_interval = 5min;
    root.repeat_interval = 4h;
    config::route_config critical = root;
    critical.group_by.reset();
    critical.matchers = {"severity=\"critical\""};
    critical.escalation = "ops-critical";
    root.routes.push_back(critical);
    cfg.route = root;
    config::receiver_config ops;
    ops.name = "ops";
    ops.integration = "test";
    cfg.receivers = {ops};

    cfg.oncall.users = {{"alice", "alice@example.com", "U0ALICE", "", "", {}},
                        {"bob", "bob@example.com", "U0BOB", "", "", {}},
                        {"carol", "carol@example.com", "", "", "", {}}};
    config::oncall_schedule primary;
    primary.name = "ops";
    config::oncall_layer layer;
    layer.start = std::chrono::local_days{std::chrono::year{2024} / 9 / 1};
    layer.rotation = config::rotation_unit::weeks;
    layer.rotation_count = 52;
    layer.users = {"alice"};
    primary.layers = {layer};
    config::oncall_schedule secondary = primary;
    secondary.name = "ops-secondary";
    secondary.layers[0].users = {"bob"};
    cfg.oncall.schedules = {primary, secondary};
    config::escalation_policy policy;
    policy.name = "ops-critical";
    policy.steps.push_back({0s, {{"ops", ""}}, {}});
    policy.steps.push_back({15min, {{"ops-secondary", ""}}, {}});
    cfg.oncall.escalation_policies = {policy};
  }

  std::unique_ptr<alert_router> open_router() {
    router_options options;
    options.data_dir = dir.path();
    options.external_url = "http://tocsin.test:9095";
    options.worker.initial_backoff = 10ms;
    options.ack_signer = signer;
    return std::make_unique<alert_router>(cfg, registry, metrics, options, time);
  }

  void step(alert_router& router, std::chrono::milliseconds d) {
    time.advance(d);
    ASSERT_TRUE(router.drain(std::chrono::steady_clock::now() + 5s));
  }

  rules::alert critical(const std::string& host) const {
    rules::alert a;
    a.labels = {{"alertname", "disk-full"}, {"severity", "critical"}, {"host", host}};
    a.starts_at = time.now() - 1s;
    a.ends_at = time.now() + 24h;
    a.fingerprint = rules::fingerprint(a.labels);
    return a;
  }

  rules::alert resolved(rules::alert a) const {
    a.firing = false;
    a.ends_at = time.now();
    return a;
  }

  test::temp_dir dir{"escalation-router"};
  manual_clock time;
  std::shared_ptr<capture> sent = std::make_shared<capture>();
  std::vector<std::string> refuse;
  std::shared_ptr<const oncall::ack_signer> signer =
      std::make_shared<const oncall::ack_signer>("0123456789abcdef0123456789abcdef");
  notifier_registry registry;
  metrics_registry metrics;
  config::config cfg;
};

TEST_F(escalation_router_test, pages_the_primary_then_the_secondary_after_the_step_delay) {
  auto router = open_router();
  router->receive(critical("db1"));
  step(*router, 29s);
  EXPECT_TRUE(sent->all().empty());
  step(*router, 1s);  // group_wait: the group notification and step 1
  step(*router, 0s);  // the page goes out on the tick after the step is taken
  EXPECT_EQ(sent->group_notifications(), 1u);
  const auto alice = sent->pages_to("alice");
  ASSERT_EQ(alice.size(), 1u);
  const page_info& page = *alice[0].page;
  EXPECT_EQ(alice[0].receiver, "ops");
  EXPECT_EQ(page.email, "alice@example.com");
  EXPECT_EQ(page.slack, "U0ALICE");
  EXPECT_EQ(page.step, 1);
  EXPECT_EQ(page.page_id, oncall::page_id(alice[0].group_key));
  ASSERT_EQ(router->oncall().escalations().size(), 1u);
  const auto e = router->oncall().escalations().front();
  ASSERT_EQ(e.page_id, page.page_id);
  EXPECT_EQ(page.ack_url, "http://tocsin.test:9095/ack/" + page.page_id +
                              "?sig=" + signer->sign(page.page_id, e.incident_ms));
  ASSERT_EQ(alice[0].alerts.size(), 1u);

  step(*router, 15min - 1s);
  EXPECT_TRUE(sent->pages_to("bob").empty()) << "a second early";
  step(*router, 1s);
  step(*router, 0s);
  ASSERT_EQ(sent->pages_to("bob").size(), 1u);
  EXPECT_EQ(sent->pages_to("bob")[0].page->step, 2);
  EXPECT_EQ(sent->pages_to("alice").size(), 1u) << "no step repeats";

  const auto history = router->oncall().history(time.now() - 1h);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].user, "alice");
  EXPECT_EQ(history[0].state, "delivered");
  EXPECT_EQ(history[1].user, "bob");
  EXPECT_EQ(test::counter_value(metrics, "tocsin_pages_total",
                                {{"policy", "ops-critical"}, {"step", "2"}}),
            1u);
}

TEST_F(escalation_router_test, an_ack_stops_the_escalation_and_a_resolve_reaches_everyone_paged) {
  auto router = open_router();
  router->receive(critical("db1"));
  step(*router, 30s);
  step(*router, 0s);
  ASSERT_EQ(sent->pages_to("alice").size(), 1u);
  const std::string page_id = sent->pages_to("alice")[0].page->page_id;

  step(*router, 2min);
  const ack_result r = router->oncall().ack(page_id, "alice", "on it");
  EXPECT_EQ(r.outcome, ack_outcome::acked);
  EXPECT_EQ(router->oncall().ack(page_id, "bob", "").outcome, ack_outcome::already_acked);
  EXPECT_EQ(test::counter_value(metrics, "tocsin_acks_total"), 1u);
  EXPECT_EQ(test::metric_sum(metrics, "tocsin_time_to_ack_seconds_sum"), 120);

  step(*router, 1h);
  EXPECT_TRUE(sent->pages_to("bob").empty()) << "acknowledged: no step 2";
  // A new alert joining the group does not reset the ack.
  router->receive(critical("db2"));
  step(*router, 5min);
  step(*router, 1h);
  EXPECT_TRUE(sent->pages_to("bob").empty());
  EXPECT_EQ(router->oncall().history(time.now() - 24h)[0].acked_by, "alice");

  router->receive(resolved(critical("db1")));
  router->receive(resolved(critical("db2")));
  step(*router, 5min);
  step(*router, 0s);
  const auto alice = sent->pages_to("alice");
  ASSERT_EQ(alice.size(), 2u);
  EXPECT_TRUE(alice[1].page->resolved);
  EXPECT_FALSE(alice[1].firing());
  EXPECT_TRUE(router->oncall().escalations().empty()) << "over: the ack link no longer works";
  EXPECT_EQ(router->oncall().ack(page_id, "alice", "").outcome, ack_outcome::not_found);
}

TEST_F(escalation_router_test, a_restart_mid_escalation_neither_skips_nor_repeats_a_step) {
  {
    auto router = open_router();
    router->receive(critical("db1"));
    step(*router, 30s);
    step(*router, 0s);
    ASSERT_EQ(sent->pages_to("alice").size(), 1u);
    step(*router, 10min);
  }
  auto router = open_router();
  step(*router, 30s);  // the group re-forms and waits group_wait; the nflog holds its notification
  step(*router, 0s);
  EXPECT_EQ(sent->pages_to("alice").size(), 1u) << "step 1 is not repeated";
  EXPECT_TRUE(sent->pages_to("bob").empty());
  step(*router, 4min);  // 15 min after step 1
  step(*router, 30s);
  step(*router, 0s);
  EXPECT_EQ(sent->pages_to("bob").size(), 1u) << "step 2 is not skipped";
  EXPECT_EQ(sent->pages_to("alice").size(), 1u);
}

TEST_F(escalation_router_test, a_page_that_fails_to_deliver_escalates_at_once) {
  refuse = {"alice"};
  auto router = open_router();
  router->receive(critical("db1"));
  step(*router, 30s);
  step(*router, 0s);  // alice's page fails for good
  step(*router, 0s);  // step 2 is due at once
  step(*router, 0s);
  EXPECT_EQ(sent->pages_to("bob").size(), 1u);
  const auto history = router->oncall().history(time.now() - 1h);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].state, "failed");
}

TEST_F(escalation_router_test, a_silenced_group_holds_its_escalation) {
  auto router = open_router();
  router->receive(critical("db1"));
  step(*router, 30s);
  step(*router, 0s);
  silence s;
  s.matchers = {*label_matcher::parse("alertname=\"disk-full\"")};
  s.starts_at = time.now();
  s.ends_at = time.now() + 2h;
  s.created_by = "alice";
  s.comment = "maintenance";
  ASSERT_TRUE(router->silences().upsert(s));
  step(*router, 1h);
  step(*router, 0s);
  EXPECT_TRUE(sent->pages_to("bob").empty());
  step(*router, 1h);  // the silence ends: the held step pages now
  step(*router, 0s);
  step(*router, 0s);
  EXPECT_EQ(sent->pages_to("bob").size(), 1u);
}

TEST_F(escalation_router_test, a_reload_that_takes_the_escalation_away_ends_it_after_a_minute) {
  auto router = open_router();
  router->receive(critical("db1"));
  step(*router, 30s);
  ASSERT_EQ(sent->pages_to("alice").size(), 1u);
  cfg.route->routes[0].escalation.reset();
  router->reconfigure(cfg, registry);
  step(*router, 30s);
  step(*router, 31s);
  ASSERT_EQ(router->oncall().escalations().size(), 1u) << "a minute's grace";
  step(*router, 40s);  // checked every 10 s
  EXPECT_TRUE(router->oncall().escalations().empty());
  const auto alice = sent->pages_to("alice");
  ASSERT_EQ(alice.size(), 2u);
  EXPECT_TRUE(alice[1].page->resolved) << "told it is over";
  step(*router, 1h);
  EXPECT_TRUE(sent->pages_to("bob").empty());
}

TEST_F(escalation_router_test, a_receiver_that_cannot_address_a_person_cannot_page) {
  cfg.receivers[0].integration = "webhook";
  try {
    open_router();
    FAIL() << "accepted";
  } catch (const config::config_error& e) {
    ASSERT_EQ(e.errors().size(), 1u);
    EXPECT_NE(e.errors()[0].find("escalation 'ops-critical': receiver 'ops' (webhook) cannot page "
                                 "a person; use an email, slack or telegram receiver"),
              std::string::npos)
        << e.errors()[0];
  }
}

TEST_F(escalation_router_test, continue_routes_paging_the_same_group_share_one_ack) {
  // One route pages through Slack, the next by email: the person acks once.
  config::route_config& slack = cfg.route->routes[0];
  slack.continue_matching = true;
  config::route_config mail = slack;
  mail.receiver = "ops-mail";
  mail.continue_matching = false;
  cfg.route->routes.push_back(mail);
  config::receiver_config ops_mail = cfg.receivers[0];
  ops_mail.name = "ops-mail";
  cfg.receivers.push_back(ops_mail);
  auto router = open_router();
  router->receive(critical("db1"));
  step(*router, 30s);
  const auto alice = sent->pages_to("alice");
  ASSERT_EQ(alice.size(), 2u);
  EXPECT_NE(alice[0].receiver, alice[1].receiver);
  EXPECT_EQ(router->oncall().escalations().size(), 2u);

  ASSERT_EQ(router->oncall().ack(alice[1].page->page_id, "alice", "").outcome, ack_outcome::acked);
  EXPECT_EQ(test::counter_value(metrics, "tocsin_acks_total"), 1u);
  step(*router, 1h);
  EXPECT_TRUE(sent->pages_to("bob").empty()) << "neither route escalates";
  for (const auto& e : router->oncall().escalations()) EXPECT_EQ(e.acked_by, "alice");
}

}  // namespace
}  // namespace tocsin::sinks
