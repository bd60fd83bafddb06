// Tests for rules/hits.hpp and the cluster-wide windows of rules/engine.hpp (DESIGN.md
// "Scale-out": collectors sum the matches of cluster-scoped threshold and absent rules into hit
// batches; the router that owns a batch's key replays it into its own windows).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "rules/engine.hpp"
#include "rules/hits.hpp"
#include "rules/rule.hpp"

namespace tocsin::rules {
namespace {

using namespace std::chrono_literals;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::Pair;
using time_point = alert_engine::time_point;
using counts_t = std::vector<std::pair<std::int64_t, std::uint64_t>>;

// 2026-11-26T04:10:55Z, a whole second: hit batches count per Unix second.
const time_point T = time_point(
    std::chrono::sys_days(std::chrono::year(2026) / 11 / 26).time_since_epoch() + 4h + 10min + 55s);

std::int64_t unix_s(time_point tp) {
  return std::chrono::duration_cast<std::chrono::seconds>(tp.time_since_epoch()).count();
}

constexpr const char* kSshPattern =
    R"(Failed password for (invalid user )?(?P<user>\S+) from (?P<src_ip>[0-9.]+))";

// DESIGN.md's ssh-bruteforce, grouped by src_ip only so that several hosts (collectors) add up
// in one group and {{host}} comes from the latest match.
rule_definition ssh_rule(rule_scope scope = rule_scope::cluster) {
  rule_definition r;
  r.name = scope == rule_scope::cluster ? "ssh-bruteforce" : "ssh-bruteforce-node";
  r.kind = rule_kind::threshold;
  r.match = {{"message", kSshPattern, {}}};
  r.count = 5;
  r.window = std::chrono::minutes(1);
  r.group_by = {"src_ip"};
  r.scope = scope;
  r.labels = {{"team", "security"}};
  r.annotations = {
      {"summary", "{{count}} failed SSH logins for {{user}} from {{src_ip}} on {{host}}"},
      {"detail", "{{message}}"},
  };
  return r;
}

rule_definition silent_rule() {
  rule_definition r;
  r.name = "nginx-silent";
  r.kind = rule_kind::absent;
  r.match = {{"message", "^nginx: ", {}}};
  r.for_duration = std::chrono::minutes(5);
  r.group_by = {"host"};
  r.severity = "critical";
  r.annotations = {{"summary", "no nginx logs from {{host}}: {{message}}"}};
  return r;
}

rule_definition disk_rule() {
  rule_definition r;
  r.name = "disk-full";
  r.match = {{"message", "No space left on device", {}}};
  return r;
}

std::shared_ptr<const compiled_rules> make_rules(std::vector<rule_definition> defs) {
  return std::make_shared<const compiled_rules>(std::move(defs));
}

engine_options collector_options(std::string node) {
  engine_options o;
  o.resend_interval = std::chrono::hours(1000);
  o.cluster_windows = true;
  o.node_name = std::move(node);
  return o;
}

engine_options router_options() {
  engine_options o;
  o.resend_interval = std::chrono::hours(1000);
  return o;
}

std::vector<alert> feed(alert_engine& e, std::string_view host, std::string_view message,
                        time_point now) {
  collector::event ev;
  ev.host = host;
  ev.app = "app";
  ev.message = message;
  ev.severity = 3;
  std::vector<alert> out;
  e.on_event(ev, now, out);
  return out;
}

std::vector<alert> hits(alert_engine& e, const hit_batch& b) {
  std::vector<alert> out;
  e.on_hits(b, out);
  return out;
}

std::vector<alert> tick(alert_engine& e, time_point now) {
  std::vector<alert> out;
  e.tick(now, out);
  return out;
}

std::string failed(std::string_view user, std::string_view ip) {
  return "Failed password for " + std::string(user) + " from " + std::string(ip) + " port 22";
}

// The alerts of rule `name` in `alerts`.
std::vector<alert> named(const std::vector<alert>& alerts, const std::string& name) {
  std::vector<alert> out;
  for (const alert& a : alerts) {
    if (a.labels.at("alertname") == name) out.push_back(a);
  }
  return out;
}

std::string capture(const hit_batch& b, const std::string& name) {
  for (auto it = b.captures.rbegin(); it != b.captures.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return "<none>";
}

// A batch as a collector would publish it, for the router tests.
hit_batch ssh_batch(counts_t counts, std::string host = "web3", std::string user = "carol",
                    std::string collector = "c3") {
  hit_batch b;
  b.rule = "ssh-bruteforce";
  b.labels = {{"alertname", "ssh-bruteforce"},
              {"severity", "warning"},
              {"src_ip", "203.0.113.9"},
              {"team", "security"}};
  b.counts = std::move(counts);
  b.message = failed(user, "203.0.113.9");
  b.host = std::move(host);
  b.captures = {{"user", std::move(user)}, {"src_ip", "203.0.113.9"}};
  b.collector = std::move(collector);
  return b;
}

hit_batch silent_batch(counts_t counts, std::string host = "web1") {
  hit_batch b;
  b.rule = "nginx-silent";
  b.labels = {{"alertname", "nginx-silent"}, {"severity", "critical"}, {"host", host}};
  b.counts = std::move(counts);
  b.message = "nginx: GET / 200";
  b.host = std::move(host);
  b.collector = "c1";
  return b;
}

// ---------------------------------------------------------------------------------------------
// hits records

TEST(hits_record, round_trips_every_field) {
  hit_batch b;
  b.rule = "ssh-bruteforce";
  b.labels = {{"alertname", "ssh-bruteforce"}, {"src_ip", "203.0.113.9"}, {"team", "sé\"c"}};
  b.counts = {{unix_s(T), 2}, {unix_s(T) + 1, 1}, {unix_s(T) + 7, 40000000000ULL}};
  b.message = "Failed password for carol\nfrom 203.0.113.9";
  b.host = "web3";
  b.captures = {{"user", "carol"}, {"src_ip", "203.0.113.9"}, {"user", "dave"}};
  b.collector = "collector-3";

  const std::string record = to_record(b);
  std::string problem;
  const auto back = hits_from_record(record, &problem);
  ASSERT_TRUE(back.has_value()) << problem << "\n" << record;
  EXPECT_EQ(back->rule, b.rule);
  EXPECT_EQ(back->labels, b.labels);
  EXPECT_EQ(back->counts, b.counts);
  EXPECT_EQ(back->message, b.message);
  EXPECT_EQ(back->host, b.host);
  EXPECT_EQ(back->captures, b.captures);  // order and repeated names kept
  EXPECT_EQ(back->collector, b.collector);

  // The documented v1 shape: the counts live in "state", the latest match in "last".
  const auto j = nlohmann::json::parse(record);
  EXPECT_EQ(j.at("v"), 1);
  EXPECT_EQ(j.at("rule"), "ssh-bruteforce");
  EXPECT_EQ(j.at("state").at("counts").size(), 3u);
  EXPECT_EQ(j.at("state").at("counts")[0][0], unix_s(T));
  EXPECT_EQ(j.at("state").at("counts")[0][1], 2);
  EXPECT_EQ(j.at("last").at("host"), "web3");
  EXPECT_EQ(j.at("collector"), "collector-3");
}

TEST(hits_record, empty_batch_round_trips) {
  hit_batch b;
  b.rule = "r";
  const auto back = hits_from_record(to_record(b), nullptr);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->rule, "r");
  EXPECT_TRUE(back->labels.empty());
  EXPECT_TRUE(back->counts.empty());
  EXPECT_TRUE(back->captures.empty());
  EXPECT_EQ(back->message, "");
  EXPECT_EQ(back->collector, "");
}

TEST(hits_record, key_is_rule_newline_fingerprint) {
  const hit_batch b = ssh_batch({{unix_s(T), 1}});
  EXPECT_EQ(hits_key(b), "ssh-bruteforce\n" + fingerprint(b.labels));
  EXPECT_EQ(fingerprint(b.labels).size(), 16u);
  // Same rule and group from another collector, other counts and details: same key (so the same
  // partition and router).
  hit_batch other = ssh_batch({{unix_s(T) + 5, 9}}, "web1", "alice", "c1");
  EXPECT_EQ(hits_key(other), hits_key(b));
  other.labels["src_ip"] = "198.51.100.1";
  EXPECT_NE(hits_key(other), hits_key(b));
  other = b;
  other.rule = "ssh-bruteforce-2";
  EXPECT_NE(hits_key(other), hits_key(b));
}

TEST(hits_record, refuses_what_is_not_a_v1_hits_record) {
  struct refusal {
    const char* what;
    std::string record;
    const char* problem;
  };
  const std::vector<refusal> cases = {
      {"not JSON", "{\"v\":1,", "not a hits record"},
      {"empty", "", "not a hits record"},
      {"an array", "[1,2]", "not a hits record"},
      {"no v", R"({"rule":"r","labels":{},"state":{}})", "not a hits record"},
      {"v a string", R"({"v":"1","rule":"r","labels":{},"state":{}})", "not a hits record"},
      {"v 2", R"({"v":2,"rule":"r","labels":{},"state":{}})", "version 2"},
      {"no rule", R"({"v":1,"labels":{},"state":{}})", "without rule, labels and state"},
      {"rule not a string", R"({"v":1,"rule":7,"labels":{},"state":{}})",
       "without rule, labels and state"},
      {"no labels", R"({"v":1,"rule":"r","state":{}})", "without rule, labels and state"},
      {"labels an array", R"({"v":1,"rule":"r","labels":[],"state":{}})",
       "without rule, labels and state"},
      {"no state", R"({"v":1,"rule":"r","labels":{}})", "without rule, labels and state"},
      {"label value a number", R"({"v":1,"rule":"r","labels":{"a":"x","b":2},"state":{}})",
       "label b is not a string"},
      {"label value null", R"({"v":1,"rule":"r","labels":{"a":null},"state":{}})",
       "label a is not a string"},
      {"counts an object", R"({"v":1,"rule":"r","labels":{},"state":{"counts":{}}})",
       "state.counts is not an array"},
      {"a count not a pair", R"({"v":1,"rule":"r","labels":{},"state":{"counts":[[1,2,3]]}})",
       "[second, count]"},
      {"a bare number", R"({"v":1,"rule":"r","labels":{},"state":{"counts":[5]}})",
       "[second, count]"},
      {"a string second", R"({"v":1,"rule":"r","labels":{},"state":{"counts":[["1",2]]}})",
       "[second, count]"},
      {"a fractional count", R"({"v":1,"rule":"r","labels":{},"state":{"counts":[[1,2.5]]}})",
       "[second, count]"},
      {"a negative count", R"({"v":1,"rule":"r","labels":{},"state":{"counts":[[1,2],[2,-1]]}})",
       "[second, count]"},
  };
  for (const refusal& c : cases) {
    std::string problem;
    EXPECT_FALSE(hits_from_record(c.record, &problem).has_value()) << c.what;
    EXPECT_THAT(problem, HasSubstr(c.problem)) << c.what;
    EXPECT_FALSE(hits_from_record(c.record, nullptr).has_value()) << c.what;  // no problem wanted
  }
}

TEST(hits_record, unknown_keys_are_skipped) {
  // A later tocsin adds kinds of partial state beside "counts" (and other keys): v1 readers skip
  // them.
  const std::string record = R"({"v":1,"rule":"uniq-users","labels":{"alertname":"uniq-users"},
      "state":{"hll":"AAECAw==","sketch":{"k":[1,2]},"counts":[[1764130255,3]],"later":null},
      "last":{"message":"m","host":"h","captures":[["user","bob"]],"extra":1},
      "collector":"c1","added":{"x":1}})";
  std::string problem;
  const auto b = hits_from_record(record, &problem);
  ASSERT_TRUE(b.has_value()) << problem;
  EXPECT_EQ(b->rule, "uniq-users");
  EXPECT_THAT(b->counts, ElementsAre(Pair(1764130255, 3u)));
  EXPECT_EQ(b->message, "m");
  EXPECT_EQ(b->host, "h");
  EXPECT_THAT(b->captures, ElementsAre(Pair("user", "bob")));
  EXPECT_EQ(b->collector, "c1");

  // A state with no counts at all (only kinds this reader does not know) is still a record.
  const auto only_unknown =
      hits_from_record(R"({"v":1,"rule":"r","labels":{},"state":{"hll":"x"}})", &problem);
  ASSERT_TRUE(only_unknown.has_value()) << problem;
  EXPECT_TRUE(only_unknown->counts.empty());
}

// ---------------------------------------------------------------------------------------------
// take_hits(): a collector

class collector_engine_test : public ::testing::Test {
 protected:
  void start(bool cluster_windows) {
    engine_options o = collector_options("collector-a");
    o.cluster_windows = cluster_windows;
    rule_definition node = ssh_rule(rule_scope::node);
    node.count = 2;
    engine_ = std::make_unique<alert_engine>(
        make_rules({ssh_rule(), silent_rule(), node, disk_rule()}), metrics_, o);
  }

  std::uint64_t matches(const std::string& rule) {
    return metrics_.get_counter("tocsin_rule_matches_total", "", {{"rule", rule}}).value();
  }

  static std::vector<std::string> alertnames(const std::vector<alert>& alerts) {
    std::vector<std::string> names;
    for (const alert& a : alerts) names.push_back(a.labels.at("alertname"));
    std::sort(names.begin(), names.end());
    return names;
  }

  metrics_registry metrics_;
  std::unique_ptr<alert_engine> engine_;
};

TEST_F(collector_engine_test, cluster_windows_become_hits_per_rule_group_and_second) {
  start(true);
  std::vector<alert> alerts;
  const auto add = [&](std::vector<alert> more) {
    alerts.insert(alerts.end(), more.begin(), more.end());
  };
  add(feed(*engine_, "web1", failed("alice", "203.0.113.9"), T + 100ms));
  add(feed(*engine_, "web1", "nginx: GET / 200", T + 200ms));
  add(feed(*engine_, "web1", "write: No space left on device", T + 300ms));
  add(feed(*engine_, "web2", failed("bob", "203.0.113.9"), T + 900ms));         // same second
  add(feed(*engine_, "web3", failed("carol", "203.0.113.9"), T + 1s + 400ms));  // the next one
  add(feed(*engine_, "web1", failed("dave", "198.51.100.7"), T + 1s + 500ms));  // another group
  add(feed(*engine_, "web2", "nginx: GET /x 404", T + 3s));
  add(feed(*engine_, "web2", "nginx: GET /y 404", T + 3s + 1ms));

  // Only the plain rule and the node-scoped threshold (count 2, per src_ip) fired here.
  EXPECT_THAT(alertnames(alerts), ElementsAre("disk-full", "ssh-bruteforce-node"));
  // Far in the future, the absent rule still does not fire on the collector.
  for (const alert& a : tick(*engine_, T + 1h)) {
    EXPECT_NE(a.labels.at("alertname"), "nginx-silent");
    EXPECT_NE(a.labels.at("alertname"), "ssh-bruteforce");
  }

  std::vector<hit_batch> batches = engine_->take_hits();
  ASSERT_EQ(batches.size(), 4u);  // ssh × 2 groups, nginx × 2 hosts
  std::sort(batches.begin(), batches.end(), [](const hit_batch& a, const hit_batch& b) {
    return std::tie(a.rule, a.labels) < std::tie(b.rule, b.labels);
  });

  const hit_batch& web1 = batches[0];
  EXPECT_EQ(web1.rule, "nginx-silent");
  EXPECT_EQ(web1.labels,
            (label_set{{"alertname", "nginx-silent"}, {"severity", "critical"}, {"host", "web1"}}));
  EXPECT_THAT(web1.counts, ElementsAre(Pair(unix_s(T), 1u)));
  const hit_batch& web2 = batches[1];
  EXPECT_EQ(web2.labels.at("host"), "web2");
  EXPECT_THAT(web2.counts, ElementsAre(Pair(unix_s(T) + 3, 2u)));
  EXPECT_EQ(web2.message, "nginx: GET /y 404");

  const hit_batch& other = batches[2];
  EXPECT_EQ(other.rule, "ssh-bruteforce");
  EXPECT_EQ(other.labels.at("src_ip"), "198.51.100.7");
  EXPECT_THAT(other.counts, ElementsAre(Pair(unix_s(T) + 1, 1u)));

  const hit_batch& ssh = batches[3];
  EXPECT_EQ(ssh.rule, "ssh-bruteforce");
  // The labels a local evaluation would give the group.
  EXPECT_EQ(ssh.labels, (label_set{{"alertname", "ssh-bruteforce"},
                                   {"severity", "warning"},
                                   {"src_ip", "203.0.113.9"},
                                   {"team", "security"}}));
  EXPECT_THAT(ssh.counts, ElementsAre(Pair(unix_s(T), 2u), Pair(unix_s(T) + 1, 1u)));
  // The latest match's details and this collector's name.
  EXPECT_EQ(ssh.message, failed("carol", "203.0.113.9"));
  EXPECT_EQ(ssh.host, "web3");
  EXPECT_EQ(capture(ssh, "user"), "carol");
  EXPECT_EQ(capture(ssh, "src_ip"), "203.0.113.9");
  for (const hit_batch& b : batches) EXPECT_EQ(b.collector, "collector-a") << b.rule;
  EXPECT_EQ(hits_key(ssh), "ssh-bruteforce\n" + fingerprint(ssh.labels));

  // Matches are counted whether they become hits or alerts.
  EXPECT_EQ(matches("ssh-bruteforce"), 4u);
  EXPECT_EQ(matches("ssh-bruteforce-node"), 4u);
  EXPECT_EQ(matches("nginx-silent"), 3u);
  EXPECT_EQ(matches("disk-full"), 1u);

  // take_hits() empties the batches: the next call has only what matched since.
  EXPECT_TRUE(engine_->take_hits().empty());
  EXPECT_TRUE(feed(*engine_, "web4", failed("erin", "203.0.113.9"), T + 1h + 5s).empty());
  batches = engine_->take_hits();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_THAT(batches[0].counts, ElementsAre(Pair(unix_s(T + 1h) + 5, 1u)));
  EXPECT_EQ(batches[0].host, "web4");
  EXPECT_TRUE(engine_->take_hits().empty());
}

TEST_F(collector_engine_test, five_matches_on_one_collector_only_fire_the_node_rule) {
  start(true);
  std::vector<std::string> fired;
  for (int i = 0; i < 5; ++i) {
    for (const alert& a : feed(*engine_, "web1", failed("root", "203.0.113.9"), T + i * 1s)) {
      fired.push_back(a.labels.at("alertname"));
    }
  }
  EXPECT_THAT(fired, ElementsAre("ssh-bruteforce-node"));
  const auto batches = engine_->take_hits();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].counts.size(), 5u);
}

TEST_F(collector_engine_test, without_cluster_windows_everything_is_local) {
  start(false);
  std::vector<alert> alerts;
  for (int i = 0; i < 5; ++i) {
    const auto out = feed(*engine_, "web1", failed("root", "203.0.113.9"), T + i * 1s);
    alerts.insert(alerts.end(), out.begin(), out.end());
  }
  const auto nginx = feed(*engine_, "web1", "nginx: GET / 200", T + 5s);
  EXPECT_TRUE(nginx.empty());
  EXPECT_THAT(alertnames(alerts), ElementsAre("ssh-bruteforce", "ssh-bruteforce-node"));
  EXPECT_TRUE(engine_->take_hits().empty());
  const auto later = named(tick(*engine_, T + 5s + 5min), "nginx-silent");
  ASSERT_EQ(later.size(), 1u);
  EXPECT_TRUE(later[0].firing);
  EXPECT_EQ(matches("ssh-bruteforce"), 5u);
}

// ---------------------------------------------------------------------------------------------
// on_hits(): the router that owns the batches' keys

class router_engine_test : public ::testing::Test {
 protected:
  router_engine_test()
      : rules_(make_rules({disk_rule(), ssh_rule(), silent_rule()})),
        router_(rules_, metrics_, router_options()) {}

  std::uint64_t alerts_total(const std::string& status) {
    return metrics_.get_counter("tocsin_alerts_total", "", {{"status", status}}).value();
  }

  std::shared_ptr<const compiled_rules> rules_;
  metrics_registry metrics_;
  alert_engine router_;
};

TEST_F(router_engine_test, two_two_one_on_three_collectors_fire_once) {
  // Three collectors count 2, 2 and 1 failed logins from one address (from three hosts).
  metrics_registry collector_metrics;
  std::vector<std::unique_ptr<alert_engine>> collectors;
  for (const char* name : {"c1", "c2", "c3"}) {
    collectors.push_back(
        std::make_unique<alert_engine>(rules_, collector_metrics, collector_options(name)));
  }
  EXPECT_TRUE(feed(*collectors[0], "web1", failed("alice", "203.0.113.9"), T).empty());
  EXPECT_TRUE(feed(*collectors[0], "web1", failed("alice", "203.0.113.9"), T + 500ms).empty());
  EXPECT_TRUE(feed(*collectors[1], "web2", failed("bob", "203.0.113.9"), T + 1s).empty());
  EXPECT_TRUE(feed(*collectors[1], "web2", failed("bob", "203.0.113.9"), T + 1s + 10ms).empty());
  EXPECT_TRUE(feed(*collectors[2], "web3", failed("carol", "203.0.113.9"), T + 2s).empty());

  std::vector<hit_batch> published;
  for (auto& c : collectors) {
    auto batches = c->take_hits();
    ASSERT_EQ(batches.size(), 1u);
    // Through the record format, as the router reads them from tocsin.hits.
    std::string problem;
    auto read = hits_from_record(to_record(batches[0]), &problem);
    ASSERT_TRUE(read.has_value()) << problem;
    published.push_back(std::move(*read));
  }
  EXPECT_THAT(published[0].counts, ElementsAre(Pair(unix_s(T), 2u)));
  EXPECT_THAT(published[1].counts, ElementsAre(Pair(unix_s(T) + 1, 2u)));
  EXPECT_THAT(published[2].counts, ElementsAre(Pair(unix_s(T) + 2, 1u)));

  EXPECT_TRUE(hits(router_, published[0]).empty());
  EXPECT_TRUE(hits(router_, published[1]).empty());
  const auto out = hits(router_, published[2]);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].firing);
  EXPECT_EQ(out[0].starts_at, T + 2s);

  // The labels a local evaluation of the same five matches gives.
  metrics_registry local_metrics;
  alert_engine local(rules_, local_metrics, router_options());
  std::vector<alert> local_out;
  for (const auto& [host, user, at] :
       std::vector<std::tuple<const char*, const char*, time_point>>{{"web1", "alice", T},
                                                                     {"web1", "alice", T + 500ms},
                                                                     {"web2", "bob", T + 1s},
                                                                     {"web2", "bob", T + 1s + 10ms},
                                                                     {"web3", "carol", T + 2s}}) {
    const auto more = feed(local, host, failed(user, "203.0.113.9"), at);
    local_out.insert(local_out.end(), more.begin(), more.end());
  }
  ASSERT_EQ(local_out.size(), 1u);
  EXPECT_EQ(out[0].labels, local_out[0].labels);
  EXPECT_EQ(out[0].fingerprint, local_out[0].fingerprint);
  // Annotations from the last batch's message, host and named groups.
  EXPECT_EQ(out[0].annotations.at("summary"),
            "5 failed SSH logins for carol from 203.0.113.9 on web3");
  EXPECT_EQ(out[0].annotations.at("detail"), failed("carol", "203.0.113.9"));
  EXPECT_EQ(out[0].annotations, local_out[0].annotations);

  // Once: more hits and ticks before the re-send emit nothing new.
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(T) + 3, 2}})).empty());
  EXPECT_TRUE(tick(router_, T + 10s).empty());
  EXPECT_EQ(alerts_total("firing"), 1u);
}

TEST_F(router_engine_test, four_matches_do_not_fire) {
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(T), 2}}, "web1", "alice", "c1")).empty());
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(T) + 1, 1}, {unix_s(T) + 2, 1}})).empty());
  EXPECT_TRUE(tick(router_, T + 30s).empty());
  EXPECT_EQ(alerts_total("firing"), 0u);
  // The fifth does.
  const auto out = hits(router_, ssh_batch({{unix_s(T) + 31, 1}}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].firing);
}

TEST_F(router_engine_test, matches_outside_the_window_do_not_count) {
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(T), 3}})).empty());
  // A match exactly `window` (1m) later: the three no longer count.
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(T) + 60, 2}})).empty());
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(T) + 61, 2}})).empty());  // 4 inside
  // One more inside the window of the last four fires.
  const auto out = hits(router_, ssh_batch({{unix_s(T) + 119, 1}}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].starts_at, T + 119s);
}

TEST_F(router_engine_test, a_batch_for_an_unknown_or_plain_rule_changes_nothing) {
  hit_batch unknown = ssh_batch({{unix_s(T), 100}});
  unknown.rule = "not-a-rule";
  unknown.labels["alertname"] = "not-a-rule";
  EXPECT_TRUE(hits(router_, unknown).empty());

  hit_batch plain;
  plain.rule = "disk-full";
  plain.labels = {{"alertname", "disk-full"}, {"severity", "warning"}, {"host", "web1"}};
  plain.counts = {{unix_s(T), 3}};
  EXPECT_TRUE(hits(router_, plain).empty());

  EXPECT_TRUE(tick(router_, T + 1h).empty());
  EXPECT_EQ(alerts_total("firing"), 0u);
  EXPECT_EQ(metrics_.get_gauge("tocsin_rule_groups", "", {{"rule", "disk-full"}}).value(), 0);
  // The windows are as they were: five matches of the real rule still take five.
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(T) + 3600, 4}})).empty());
  EXPECT_EQ(hits(router_, ssh_batch({{unix_s(T) + 3601, 1}})).size(), 1u);
}

TEST_F(router_engine_test, a_huge_count_is_not_replayed_match_by_match) {
  // 1e9 matches in one second: fires at once (replaying them one by one would take minutes).
  const auto out = hits(router_, ssh_batch({{unix_s(T), 1000000000}}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].firing);
  EXPECT_EQ(out[0].starts_at, T);
  // And for an absent rule: the group is seen once, and fires after `for`.
  EXPECT_TRUE(hits(router_, silent_batch({{unix_s(T), 1000000000}})).empty());
  const auto later = tick(router_, T + 5min);
  EXPECT_EQ(named(later, "nginx-silent").size(), 1u);
  EXPECT_EQ(named(later, "ssh-bruteforce").size(), 1u);  // resolved at T + 2m
  EXPECT_FALSE(named(later, "ssh-bruteforce").at(0).firing);
}

TEST(router_engine, count_annotation_counts_every_match_of_a_batch) {
  // {{count}}: threshold, the matches in the window when it fired plus every match since; absent,
  // the matches of the seen period. A batch of many matches in one second must give the same
  // values as a local evaluation of those matches, though it is not replayed match by match.
  engine_options o;
  o.resend_interval = std::chrono::minutes(1);
  rule_definition silent = silent_rule();
  silent.annotations = {{"summary", "{{count}} seen"}};
  const auto rules = make_rules({ssh_rule(), silent});
  metrics_registry m1, m2;
  alert_engine local(rules, m1, o), router(rules, m2, o);

  for (int i = 0; i < 3; ++i) feed(local, "web1", failed("carol", "203.0.113.9"), T);
  for (int i = 0; i < 7; ++i) feed(local, "web3", failed("carol", "203.0.113.9"), T + 1s);
  for (int i = 0; i < 4; ++i) feed(local, "web1", "nginx: GET / 200", T + 1s);
  EXPECT_EQ(hits(router, ssh_batch({{unix_s(T), 3}, {unix_s(T) + 1, 7}})).size(), 1u);
  EXPECT_TRUE(hits(router, silent_batch({{unix_s(T) + 1, 4}})).empty());

  const auto local_resend = tick(local, T + 1s + 1min);
  const auto router_resend = tick(router, T + 1s + 1min);
  ASSERT_EQ(local_resend.size(), 1u);
  ASSERT_EQ(router_resend.size(), 1u);
  EXPECT_EQ(local_resend[0].annotations.at("summary"),
            "10 failed SSH logins for carol from 203.0.113.9 on web3");
  EXPECT_EQ(router_resend[0].annotations, local_resend[0].annotations);

  const auto local_absent = named(tick(local, T + 1s + 5min), "nginx-silent");
  const auto router_absent = named(tick(router, T + 1s + 5min), "nginx-silent");
  ASSERT_EQ(local_absent.size(), 1u);
  ASSERT_EQ(router_absent.size(), 1u);
  EXPECT_EQ(local_absent[0].annotations.at("summary"), "4 seen");
  EXPECT_EQ(router_absent[0].annotations, local_absent[0].annotations);
}

TEST_F(router_engine_test, absent_fed_by_hits_fires_after_for_and_resolves_on_the_next_batch) {
  EXPECT_TRUE(hits(router_, silent_batch({{unix_s(T), 3}, {unix_s(T) + 1, 1}})).empty());
  EXPECT_TRUE(tick(router_, T + 1s + 5min - 1ms).empty());
  auto out = tick(router_, T + 1s + 5min);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].firing);
  EXPECT_EQ(out[0].starts_at, T + 1s + 5min);  // last match + for
  EXPECT_EQ(out[0].labels,
            (label_set{{"alertname", "nginx-silent"}, {"severity", "critical"}, {"host", "web1"}}));
  EXPECT_EQ(out[0].annotations.at("summary"), "no nginx logs from web1: nginx: GET / 200");
  EXPECT_TRUE(tick(router_, T + 8min).empty());

  // The group's next batch resolves it at its match's time.
  out = hits(router_, silent_batch({{unix_s(T) + 600, 1}}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].firing);
  EXPECT_EQ(out[0].starts_at, T + 1s + 5min);
  EXPECT_EQ(out[0].ends_at, T + 10min);
  EXPECT_EQ(alerts_total("resolved"), 1u);
  // And starts a new seen period.
  EXPECT_TRUE(tick(router_, T + 15min - 1s).empty());
  EXPECT_EQ(tick(router_, T + 15min).size(), 1u);
}

TEST_F(router_engine_test, a_new_assignment_forgets_the_windows) {
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(T), 4}})).empty());
  EXPECT_TRUE(hits(router_, silent_batch({{unix_s(T), 1}})).empty());

  // A reload with the same rules keeps them...
  router_.replace_rules(make_rules({disk_rule(), ssh_rule(), silent_rule()}));
  // ...what the router does on a new assignment does not.
  router_.replace_rules(nullptr);
  router_.replace_rules(rules_);
  EXPECT_EQ(metrics_.get_gauge("tocsin_rule_groups", "", {{"rule", "ssh-bruteforce"}}).value(), 0);

  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(T) + 1, 1}})).empty());  // 1, not 5
  EXPECT_TRUE(tick(router_, T + 5min + 1s).empty());                    // nginx was forgotten
  EXPECT_EQ(alerts_total("firing"), 0u);
}

TEST_F(router_engine_test, forget_state_forgets_the_windows_and_keeps_the_rules) {
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(T), 4}})).empty());
  router_.forget_state();
  EXPECT_EQ(metrics_.get_gauge("tocsin_rule_groups", "", {{"rule", "ssh-bruteforce"}}).value(), 0);
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(T) + 1, 1}})).empty());   // 1, not 5
  EXPECT_EQ(hits(router_, ssh_batch({{unix_s(T) + 2, 4}})).size(), 1u);  // the rule still works
}

TEST(hits_record, refuses_too_many_seconds_and_seconds_out_of_range) {
  hit_batch b = ssh_batch({});
  for (std::int64_t s = 0; s <= static_cast<std::int64_t>(max_hit_seconds); ++s) {
    b.counts.emplace_back(1'800'000'000 + s, 1);
  }
  std::string problem;
  EXPECT_FALSE(hits_from_record(to_record(b), &problem));
  EXPECT_NE(problem.find("at most 3600"), std::string::npos) << problem;
  for (const std::int64_t second : {std::int64_t{-1}, std::int64_t{10'000'000'000}}) {
    EXPECT_FALSE(hits_from_record(to_record(ssh_batch({{second, 1}})), &problem)) << second;
    EXPECT_NE(problem.find("out of range"), std::string::npos) << problem;
  }
}

TEST_F(router_engine_test, a_reload_with_unchanged_rules_keeps_the_windows) {
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(T), 4}})).empty());
  router_.replace_rules(make_rules({disk_rule(), ssh_rule(), silent_rule()}));
  EXPECT_EQ(hits(router_, ssh_batch({{unix_s(T) + 1, 1}})).size(), 1u);
}

TEST_F(router_engine_test, a_replay_after_ticking_keeps_each_matchs_second) {
  // The router ticks with the wall clock; a new assignment then replays rebuild_window (10m) of
  // hits into empty windows. Matches minutes apart must not land in one 1m window.
  const time_point now = T + 10min;
  EXPECT_TRUE(tick(router_, now).empty());
  router_.replace_rules(nullptr);
  router_.replace_rules(rules_);
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(T), 3}})).empty());
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(T) + 300, 1}})).empty());
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(now) - 5, 1}})).empty());
  EXPECT_TRUE(tick(router_, now + 1s).empty());
  EXPECT_EQ(alerts_total("firing"), 0u);
  // The absent rule's group seen 10 minutes ago fires on the next tick, as it would have without
  // the reassignment.
  EXPECT_TRUE(hits(router_, silent_batch({{unix_s(T), 1}})).empty());
  const auto out = tick(router_, now + 2s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].starts_at, T + 5min);
  // Four recent matches plus one now fire.
  EXPECT_TRUE(hits(router_, ssh_batch({{unix_s(now), 3}})).empty());
  EXPECT_EQ(hits(router_, ssh_batch({{unix_s(now) + 2, 1}})).size(), 1u);
}

}  // namespace
}  // namespace tocsin::rules
