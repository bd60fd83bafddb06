// The kinds of DESIGN.md's "More kinds" counted cluster-wide (DESIGN.md "Scale-out"): three
// collector engines each see part of the events, their hit batches travel as records
// (to_record / hits_from_record) to one router engine, which must fire exactly once, at the
// second the whole cluster's events say. And the records' new parts, refused when malformed.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/rfc3339.hpp"
#include "rules/engine.hpp"
#include "rules/hits.hpp"
#include "rules/rule.hpp"
#include "rules/value_window.hpp"

namespace tocsin::rules {
namespace {

using namespace std::chrono_literals;
using time_point = alert_engine::time_point;
using strings = std::vector<std::string>;

// 2026-11-26T04:10:00Z.
const time_point t0 = time_point(
    std::chrono::sys_days(std::chrono::year(2026) / 11 / 26).time_since_epoch() + 4h + 10min);

std::string rfc3339(time_point tp) {
  std::string s;
  append_rfc3339_utc(tp, s, 3);
  return s;
}

std::string at(std::chrono::milliseconds offset) { return rfc3339(t0 + offset); }

std::string describe(const alert& a) {
  std::string s = a.firing ? "firing " : "resolved ";
  s += a.labels.at("alertname");
  for (const auto& [name, value] : a.labels) {
    if (name != "alertname" && name != "severity") s += " " + name + "=" + value;
  }
  s += " " + rfc3339(a.starts_at);
  if (!a.firing) s += ".." + rfc3339(a.ends_at);
  return s;
}

// Three collectors and a router. Each second the collectors see their events, then publish
// their hits (in collector order, or as `order` says), then the router ticks.
class cluster_test : public ::testing::Test {
 protected:
  void start(const std::string& yaml) {
    const auto rules =
        std::make_shared<const compiled_rules>(load_rules_string(yaml, "cluster.yaml"));
    for (std::size_t i = 0; i < collectors_.size(); ++i) {
      engine_options o;
      o.resend_interval = std::chrono::hours(1000);
      o.cluster_windows = true;
      o.node_name = "c" + std::to_string(i + 1);
      collectors_[i] = std::make_unique<alert_engine>(rules, metrics_[i], o);
    }
    engine_options o;
    o.resend_interval = std::chrono::hours(1000);
    // Every collector publishes second s before the router's tick at s + 1 judges it.
    o.window_lag = std::chrono::seconds(1);
    router_ = std::make_unique<alert_engine>(rules, metrics_[3], o);
  }

  // Collector `c` (0-2) sees an event.
  void feed(std::size_t c, std::string_view host, std::string_view app, std::string_view message,
            time_point now) {
    collector::event ev;
    ev.host = host;
    ev.app = app;
    ev.message = message;
    ev.severity = 6;
    std::vector<alert> local;
    collectors_[c]->on_event(ev, now, local);
    EXPECT_TRUE(local.empty()) << "a cluster-scoped rule does not fire on a collector";
  }

  // The end of a second: every collector's hits through a record into the router, then the
  // router's tick at `now`.
  void publish_and_tick(time_point now, std::array<std::size_t, 3> order = {0, 1, 2}) {
    for (const std::size_t c : order) {
      std::vector<alert> local;
      collectors_[c]->tick(now, local);
      EXPECT_TRUE(local.empty());
      for (const hit_batch& b : collectors_[c]->take_hits()) {
        std::string problem;
        const auto back = hits_from_record(to_record(b), &problem);
        ASSERT_TRUE(back) << problem << "\n" << to_record(b);
        router_->on_hits(*back, out_);
      }
    }
    router_->tick(now, out_);
  }

  strings take() {
    strings s;
    for (const alert& a : out_) s.push_back(describe(a));
    out_.clear();
    return s;
  }

  std::array<metrics_registry, 4> metrics_;
  std::array<std::unique_ptr<alert_engine>, 3> collectors_;
  std::unique_ptr<alert_engine> router_;
  std::vector<alert> out_;
};

// One 5xx a second for 30 s, then three a second, spread over the collectors: the router's
// window holds 30 against 10 once the third collector's hits of second 39 are in.
TEST_F(cluster_test, spike_counts_every_collectors_matches) {
  start(R"yaml(
rules:
  - name: nginx-5xx-spike
    match: { app: '^nginx$', message: '" 5\d\d ' }
    spike: { window: 10s, ratio: 3, min_count: 9 }
)yaml");
  for (int s = 0; s < 55; ++s) {
    const time_point second = t0 + s * 1s;
    if (s < 30) {
      feed(s % 3, "web" + std::to_string(s % 3 + 1), "nginx", "\"GET / HTTP/1.1\" 503 0",
           second + 100ms);
    } else if (s < 45) {
      for (std::size_t c = 0; c < 3; ++c) {
        feed(c, "web" + std::to_string(c + 1), "nginx", "\"GET / HTTP/1.1\" 502 0", second + 200ms);
      }
    }
    publish_and_tick(second + 1s);
    if (s == 38) EXPECT_EQ(take(), strings{}) << "28 against 10 at second 38";
  }
  EXPECT_EQ(take(), (strings{"firing nginx-5xx-spike " + at(39s),
                             "resolved nginx-5xx-spike " + at(39s) + ".." + at(49s)}));
}

// Four distinct users from one address, each collector seeing some (test on two of them):
// the fourth distinct one fires. Three from another address, spread too, do not.
TEST_F(cluster_test, cardinality_merges_distinct_values_across_collectors) {
  start(R"yaml(
rules:
  - name: many-users-one-ip
    match: { app: '^sshd$', message: 'for (invalid user )?(?P<user>\S+) from (?P<ip>[0-9.]+)' }
    cardinality: { field: user, max: 3, window: 1m, group_by: [ip] }
)yaml");
  const auto failed = [&](std::size_t c, const std::string& user, const std::string& ip, int s) {
    feed(c, "bastion" + std::to_string(c + 1), "sshd",
         "Failed password for invalid user " + user + " from " + ip + " port 40022 ssh2",
         t0 + s * 1s + 300ms);
  };
  for (int s = 0; s < 90; ++s) {
    if (s == 0) failed(0, "admin", "198.51.100.23", s);
    if (s == 5) failed(1, "oracle", "198.51.100.23", s);
    if (s == 10) failed(2, "test", "198.51.100.23", s);
    if (s == 12) failed(0, "test", "198.51.100.23", s);
    if (s == 20) failed(1, "ubuntu", "198.51.100.23", s);
    if (s == 1) failed(0, "root", "203.0.113.50", s);
    if (s == 2) failed(1, "root", "203.0.113.50", s);
    if (s == 3) failed(2, "admin", "203.0.113.50", s);
    if (s == 4) failed(1, "oracle", "203.0.113.50", s);
    publish_and_tick(t0 + s * 1s + 1s);
    if (s == 19) EXPECT_EQ(take(), strings{}) << "three distinct users (test twice)";
  }
  // admin leaves the window at second 60: held last at 59, resolved at 119.
  EXPECT_EQ(take(), strings{"firing many-users-one-ip ip=198.51.100.23 " + at(20s)});
  for (int s = 90; s < 121; ++s) publish_and_tick(t0 + s * 1s + 1s);
  EXPECT_EQ(take(),
            strings{"resolved many-users-one-ip ip=198.51.100.23 " + at(20s) + ".." + at(119s)});
}

// The numerator's events (5xx, which are API requests too) on collector 2, the other requests
// on collector 1 (and a few on 3). Share per 10 s window: 1 in 10 until second 20, then 4 more
// errors a second: (3s - 47) / (3s + 43) crosses 0.25 at second 26.
TEST_F(cluster_test, ratio_numerator_on_one_collector_base_on_others) {
  start(R"yaml(
rules:
  - name: api-error-ratio
    match: { message: ' status=5\d\d ' }
    ratio: { of: { app: '^api$' }, window: 10s, above: 0.25, min_base: 10 }
)yaml");
  for (int s = 0; s < 40; ++s) {
    const time_point second = t0 + s * 1s;
    for (int k = 0; k < 8; ++k)
      feed(0, "api1", "api", "GET /v1/orders status=200 duration_ms=12", second + 10ms * k);
    feed(2, "api3", "api", "GET /v1/orders status=204 duration_ms=3", second + 500ms);
    const int errors = s < 20 ? 1 : 4;
    for (int k = 0; k < errors; ++k) {
      feed(1, "api2", "api", "GET /v1/orders status=503 duration_ms=40", second + 100ms * k);
    }
    publish_and_tick(second + 1s);
    if (s == 25) EXPECT_EQ(take(), strings{}) << "28 of 118 at second 25";
  }
  // 4 errors a second against 13 requests from second 26 on: 40/130 stays above 0.25.
  EXPECT_EQ(take(), strings{"firing api-error-ratio " + at(26s)});
}

// The same with the error collector's hits arriving before the others' each second: the
// router must not see the numerator without its base (28 of 109 would cross at second 25):
// it judges a second only window_lag after it, once every collector's part is in.
TEST_F(cluster_test, ratio_does_not_depend_on_the_order_the_collectors_hits_arrive) {
  start(R"yaml(
rules:
  - name: api-error-ratio
    match: { message: ' status=5\d\d ' }
    ratio: { of: { app: '^api$' }, window: 10s, above: 0.25, min_base: 10 }
)yaml");
  for (int s = 0; s < 30; ++s) {
    const time_point second = t0 + s * 1s;
    for (int k = 0; k < 8; ++k)
      feed(0, "api1", "api", "GET /v1/orders status=200 duration_ms=12", second + 10ms * k);
    feed(2, "api3", "api", "GET /v1/orders status=204 duration_ms=3", second + 500ms);
    const int errors = s < 20 ? 1 : 4;
    for (int k = 0; k < errors; ++k) {
      feed(1, "api2", "api", "GET /v1/orders status=503 duration_ms=40", second + 100ms * k);
    }
    publish_and_tick(second + 1s, {1, 0, 2});
  }
  EXPECT_EQ(take(), strings{"firing api-error-ratio " + at(26s)});
}

// Response times spread over the collectors: the router's window holds them all.
TEST_F(cluster_test, aggregate_merges_the_collectors_values) {
  start(R"yaml(
rules:
  - name: slowest-request
    match: { app: '^nginx$', message: ' rt=(?P<rt>[0-9.]+)' }
    aggregate: { value: rt, function: max, window: 10s, above: 5 }
)yaml");
  for (int s = 0; s < 60; ++s) {
    const time_point second = t0 + s * 1s;
    for (std::size_t c = 0; c < 3; ++c) {
      feed(c, "web" + std::to_string(c + 1), "nginx",
           "\"GET / HTTP/1.1\" 200 12 rt=" + std::string(s == 40 && c == 2 ? "7.5" : "0.2"),
           second + 100ms);
    }
    publish_and_tick(second + 1s);
  }
  EXPECT_EQ(take(), (strings{"firing slowest-request " + at(40s),
                             "resolved slowest-request " + at(40s) + ".." + at(59s)}));
}

// The term appears first on collector 2, then on the others: one alert, at its first second.
TEST_F(cluster_test, new_term_fires_once_where_it_first_appears) {
  start(R"yaml(
rules:
  - name: new-sudo-target
    match: { app: '^sudo$', message: 'USER=(?P<target>\S+) ; COMMAND=' }
    new_term: { field: target, lookback: 1h, warmup: 10s, group_by: [host] }
    resolve_after: 1m
)yaml");
  std::vector<alert> none;
  router_->tick(t0, none);  // the router runs the rule from t0: warm-up until t0 + 10 s
  const auto sudo = [&](std::size_t c, const std::string& target, int s) {
    feed(c, "db1", "sudo",
         "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=" + target + " ; COMMAND=/bin/ls",
         t0 + s * 1s + 400ms);
  };
  for (int s = 0; s < 100; ++s) {
    if (s == 2) sudo(0, "root", s);  // teaches
    if (s == 20) sudo(1, "backup", s);
    if (s == 21) sudo(0, "backup", s);
    if (s == 22) sudo(2, "backup", s);
    if (s == 30) sudo(2, "root", s);
    publish_and_tick(t0 + s * 1s + 1s);
  }
  EXPECT_EQ(take(), (strings{"firing new-sudo-target host=db1 target=backup " + at(20s),
                             "resolved new-sudo-target host=db1 target=backup " + at(20s) + ".." +
                                 at(80s)}));
}

// scope: node keeps a windowed kind's window on the collector: it fires there, and sends no hits.
// A collector whose clock runs 4 minutes ahead sends a second the router has not reached: it
// fills a bucket but must not move the router's clock (which made every later second's group
// fire, resolve and fire again), and a second older than the window costs nothing.
TEST(cluster_hits, a_future_or_ancient_second_does_not_move_the_routers_clock) {
  engine_options o;
  o.resend_interval = std::chrono::hours(1000);
  o.window_lag = std::chrono::seconds(1);
  metrics_registry metrics;
  alert_engine router(std::make_shared<const compiled_rules>(load_rules_string(R"yaml(
rules:
  - name: errors
    match: { message: 'status=5' }
    ratio: { of: { app: '^api$' }, window: 10s, above: 0.5, group_by: [host] }
)yaml",
                                                                               "r.yaml")),
                      metrics, o);
  const auto batch = [](std::int64_t second) {
    hit_batch b;
    b.rule = "errors";
    b.labels = {{"alertname", "errors"}, {"severity", "warning"}, {"host", "web1"}};
    b.counts = {{second, 1}};
    b.base = {{second, 1}};
    return b;
  };
  const std::int64_t s0 =
      std::chrono::duration_cast<std::chrono::seconds>(t0.time_since_epoch()).count();
  std::vector<alert> out;
  router.tick(t0, out);
  router.on_hits(batch(s0 + 240), out);
  router.on_hits(batch(1), out);  // 1970: long gone
  for (int s = 0; s < 30; ++s) {
    router.on_hits(batch(s0 + s), out);
    router.tick(t0 + std::chrono::seconds(s + 1), out);
  }
  strings seen;
  for (const alert& a : out) seen.push_back(describe(a));
  EXPECT_EQ(seen, strings{"firing errors host=web1 " + at(0s)});
}

TEST(cluster_scope, a_node_scoped_window_fires_on_the_collector) {
  metrics_registry metrics;
  engine_options o;
  o.resend_interval = std::chrono::hours(1000);
  o.cluster_windows = true;
  o.node_name = "c1";
  alert_engine collector(std::make_shared<const compiled_rules>(load_rules_string(R"yaml(
rules:
  - name: users-here
    match: { message: 'for (?P<user>\S+) from' }
    cardinality: { field: user, max: 1, window: 10s }
    scope: node
)yaml",
                                                                                  "scope.yaml")),
                         metrics, o);
  std::vector<alert> out;
  for (const char* user : {"root", "admin"}) {
    collector::event ev;
    ev.host = "bastion";
    ev.app = "sshd";
    const std::string message = std::string("Failed password for ") + user + " from 10.0.0.1";
    ev.message = message;
    collector.on_event(ev, t0 + 1s, out);
  }
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(describe(out[0]), "firing users-here " + at(1s));
  EXPECT_TRUE(collector.take_hits().empty());
}

// ---------------------------------------------------------------------------------------------
// the records' new parts

// A record with `state` replaced.
std::string record_with(const nlohmann::json& state) {
  const nlohmann::json j = {{"v", 1},
                            {"rule", "r"},
                            {"labels", {{"alertname", "r"}}},
                            {"state", state},
                            {"collector", "c1"}};
  return j.dump();
}

std::string problem_of(const nlohmann::json& state) {
  std::string problem;
  EXPECT_FALSE(hits_from_record(record_with(state), &problem)) << state.dump();
  return problem;
}

TEST(hits_record_parts, the_parts_of_every_kind_round_trip) {
  hit_batch b;
  b.rule = "r";
  b.labels = {{"alertname", "r"}};
  b.counts = {{100, 3}};
  b.base = {{100, 7}, {101, 1}};
  b.distinct = {{100, {1, 2, 18446744073709551615ULL}}};
  b.registers = {{101, {{0, 1}, {1023, 64}}}};
  value_summary v;
  v.count = 2;
  v.sum = 3;
  v.min = 1;
  v.max = 2;
  v.bins = {{-3, 1}, {7, 1}};
  b.values = {{100, v}};
  std::string problem;
  const auto back = hits_from_record(to_record(b), &problem);
  ASSERT_TRUE(back) << problem;
  EXPECT_EQ(back->counts, b.counts);
  EXPECT_EQ(back->base, b.base);
  EXPECT_EQ(back->distinct, b.distinct);
  EXPECT_EQ(back->registers, b.registers);
  ASSERT_EQ(back->values.size(), 1U);
  EXPECT_EQ(back->values[0].first, 100);
  EXPECT_EQ(back->values[0].second.count, 2U);
  EXPECT_EQ(back->values[0].second.sum, 3);
  EXPECT_EQ(back->values[0].second.bins, v.bins);
}

TEST(hits_record_parts, malformed_new_parts_are_refused) {
  using nlohmann::json;
  const json summary = {{"n", 3}, {"sum", 6.0}, {"min", 1.0}, {"max", 3.0}};
  const std::string summary_problem = "state.values holds a summary that does not add up";
  auto with_bins = [&](json bins) {
    json s = summary;
    s["bins"] = std::move(bins);
    return json{{"values", json::array({json::array({100, s})})}};
  };
  EXPECT_EQ(problem_of(with_bins(json::array({{1, 1}, {2, 1}}))), summary_problem)
      << "bins add up to 2, not n = 3";
  EXPECT_EQ(problem_of(with_bins(json::array({{2, 2}, {1, 1}}))), summary_problem) << "unsorted";
  EXPECT_EQ(problem_of(with_bins(json::array({{1, 3}, {1, 0}}))), summary_problem) << "empty bin";
  EXPECT_TRUE(hits_from_record(record_with(with_bins(json::array({{1, 2}, {5, 1}}))), nullptr));
  {
    json s = summary;
    s["bins"] = json::array({{1, 3}});
    s["min"] = 4.0;  // above max
    EXPECT_EQ(problem_of({{"values", json::array({json::array({100, s})})}}), summary_problem);
  }

  const std::string register_problem = "state.registers holds a register or rank out of range";
  auto with_register = [](json reg) {
    return json{{"registers", json::array({json::array({100, json::array({std::move(reg)})})})}};
  };
  EXPECT_EQ(problem_of(with_register({1024, 3})), register_problem) << "2^precision registers";
  EXPECT_EQ(problem_of(with_register({5, 0})), register_problem) << "rank 0";
  EXPECT_EQ(problem_of(with_register({5, 65})), register_problem) << "rank above 64";
  EXPECT_EQ(problem_of(with_register({-1, 3})), register_problem);
  EXPECT_TRUE(hits_from_record(record_with(with_register({1023, 64})), nullptr));

  json hashes = json::array();
  for (std::size_t i = 0; i <= max_hit_hashes; ++i) hashes.push_back(i);
  EXPECT_EQ(problem_of({{"distinct", json::array({json::array({100, hashes})})}}),
            "state.distinct holds something other than [second, [hash, ...]]")
      << "more than max_hit_hashes hashes in a second";
  hashes.erase(hashes.end() - 1);
  EXPECT_TRUE(hits_from_record(
      record_with({{"distinct", json::array({json::array({100, hashes})})}}), nullptr));
  EXPECT_EQ(problem_of({{"distinct", json::array({json::array({100, {1, "2"}})})}}),
            "state.distinct holds a hash that is no number");
  EXPECT_EQ(problem_of({{"base", json::array({json::array({-1, 2})})}}),
            "state.base holds something other than [second, count]");
}

}  // namespace
}  // namespace tocsin::rules
