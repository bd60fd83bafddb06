// Issue 17's windowed kinds counted cluster-wide against a real Apache Kafka (DESIGN.md "Rules
// file" → "More kinds", and "Scale-out"): three collectors each see a part of what fires, publish
// their partial window state to tocsin.hits, and the router that owns the group's partition
// merges it and fires once. One broker, one router and three collectors carry a rules file with
// one rule per kind and serve every test (CTest runs the file as one test: kafka_real_shared in
// tests/CMakeLists.txt). Each test has its own rule (so its own alert name) and asserts at the
// webhook what the router sent: exactly one notification of one alert, its labels, and an
// annotation with the merged value. The collectors never evaluate these rules themselves (their
// tocsin_alerts_total stays 0), and the thresholds are set so that no collector alone, and no
// two of them, meet them.

#include <gtest/gtest.h>

#include <iostream>
#include <regex>
#include <thread>

#include "tests/integration/tocsin_daemon.hpp"
#include "tests/support/kafka_broker.hpp"

namespace tocsin::test {
namespace {

// Group hand-overs wait for session.timeout.ms (10 s); a test fails only after this long.
constexpr auto cluster_patience = 60s;
// After the notification: a second one (a repeat, another alert of the rule) would be here by
// now (group_wait and group_interval are 1 s, hits are published once a second).
constexpr auto quiet_period = 4s;

constexpr std::int64_t new_term_warmup_seconds = 15;  // the rule's warmup

const std::string rules_yaml =
    "rules:\n"
    // 1/s for 10 s, then 6 + 6 + 6 at once: 18 (and the last 4 of the 1/s) against at most 5
    // in the window before; two collectors' 12 + 4 stay below min_count.
    "  - name: cluster-spike\n"
    "    match: { app: '^checkout$', message: '^order placed' }\n"
    "    spike: { window: 5s, ratio: 3, min_count: 18, group_by: [app] }\n"
    "    annotations: { summary: '{{count}} orders after {{previous}}: x{{value}}' }\n"
    "  - name: cluster-new-term\n"
    "    match: { app: '^sudo$', message: 'USER=(?P<target>\\w+)' }\n"
    "    new_term: { field: target, lookback: 1h, warmup: 15s, group_by: [app] }\n"
    "    annotations: { summary: 'first sudo to {{target}} (on {{host}})' }\n"
    // Two users on each collector and root on all: 7 is above 6, what two collectors see is not.
    "  - name: cluster-cardinality\n"
    "    match: { app: '^sshd$', message: 'Failed password for (?P<user>\\w+) from "
    "(?P<ip>[0-9.]+)' }\n"
    "    cardinality: { field: user, max: 6, window: 1m, group_by: [ip] }\n"
    "    annotations: { summary: '{{value}} users from {{ip}}' }\n"
    // 2.5 + 1.5, 3.25 and 3.75: 11 in all, at most 9.5 without any one of them.
    "  - name: cluster-aggregate\n"
    "    match: { app: '^api-gw$', message: 'rt=(?P<rt>[0-9.]+)' }\n"
    "    aggregate: { value: rt, function: sum, window: 1m, above: 10, group_by: [app] }\n"
    "    annotations: { summary: '{{value}} s in {{count}} requests' }\n"
    // 4 errors and 1 good request on one collector, 3 + 2 good requests on the others: 0.4 of
    // a base of 10. {{message}} is the latest match's, not the latest event of the base's.
    "  - name: cluster-ratio\n"
    "    match: { app: '^payments$', message: 'status=5\\d\\d' }\n"
    "    ratio: { of: { app: '^payments$' }, window: 1m, above: 0.3, min_base: 10, "
    "group_by: [app] }\n"
    "    annotations: { summary: '{{value}} of {{base}} requests failed ({{count}}), last: "
    "{{message}}' }\n";

std::string bus_yaml(const kafka_broker& kafka) {
  return "bus:\n"
         "  type: kafka\n"
         "  kafka:\n"
         "    brokers: \"" +
         kafka.bootstraps() +
         "\"\n"
         "    topics: { alerts: { partitions: 3 }, nflog: { partitions: 6 } }\n"
         "    properties: { reconnect.backoff.max.ms: \"500\" }\n";
}

daemon_options collector_options(const kafka_broker& kafka, const std::string& name) {
  daemon_options o;
  o.command = "collector";
  o.files["rules/kinds.yaml"] = rules_yaml;
  o.extra_config =
      "node_name: " + name + "\n" + bus_yaml(kafka) + "rules_files: [\"rules/*.yaml\"]\n";
  return o;
}

// Every label set its own group, sent 1 s after it changes; resolved alerts are not sent, so
// the only notifications are firing ones.
daemon_options router_options(const kafka_broker& kafka, const http_capture& hook) {
  daemon_options o;
  o.command = "router";
  o.inputs = false;
  o.files["rules/kinds.yaml"] = rules_yaml;
  o.extra_config = "node_name: router-a\n" + bus_yaml(kafka) +
                   "rules_files: [\"rules/*.yaml\"]\n"
                   "route: { receiver: hook, group_by: ['...'], group_wait: 1s, "
                   "group_interval: 1s }\n"
                   "receivers:\n"
                   "  - { name: hook, webhook: { url: \"" +
                   hook.url() + "\", send_resolved: false } }\n";
  return o;
}

bool ready(const tocsin_daemon& d) {
  return http_get("127.0.0.1", d.admin_port(), "/readyz", 2s).status == 200;
}

std::string tail_of(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

// The cluster every test shares: started once, stopped after the last test.
struct cluster {
  kafka_broker kafka;
  http_capture hook;
  tocsin_daemon router{router_options(kafka, hook)};
  tocsin_daemon c1{collector_options(kafka, "collector-1")};
  tocsin_daemon c2{collector_options(kafka, "collector-2")};
  tocsin_daemon c3{collector_options(kafka, "collector-3")};
};

std::unique_ptr<cluster>& shared_cluster() {
  static std::unique_ptr<cluster> c;
  return c;
}

std::string& setup_problem() {
  static std::string problem;
  return problem;
}

class kafka_real_kinds : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      auto c = std::make_unique<cluster>();
      // Ready: the router has read its hits partitions (all of them: it is the only router).
      if (!wait_until([&] { return ready(c->router); }, cluster_patience)) {
        setup_problem() =
            "the router did not become ready:\n" + tail_of(c->router.log_text(), 8000);
        return;
      }
      shared_cluster() = std::move(c);
    } catch (const std::exception& e) {
      setup_problem() = e.what();
    }
  }
  static void TearDownTestSuite() { shared_cluster().reset(); }

  void SetUp() override {
    ASSERT_TRUE(shared_cluster()) << setup_problem();
    firing_before_ = router().metric("tocsin_alerts_total", {{"status", "firing"}});
  }

  void TearDown() override {
    if (!HasFailure() || !shared_cluster()) return;
    for (const tocsin_daemon* d : {&router(), &c(1), &c(2), &c(3)}) {
      std::cerr << "---- tocsin log (" << d->dir().path().string() << ") ----\n"
                << tail_of(d->log_text(), 6000) << "---- end of tocsin log ----\n";
    }
  }

  static tocsin_daemon& router() { return shared_cluster()->router; }
  // Collector 1, 2 or 3.
  static tocsin_daemon& c(int n) {
    cluster& s = *shared_cluster();
    return n == 1 ? s.c1 : n == 2 ? s.c2 : s.c3;
  }

  static bool send(int collector, const std::string& lines) {
    tcp_client conn(c(collector).syslog_port());
    return conn.send_all(lines);
  }

  // The webhook bodies that carry an alert of `alertname`.
  static std::vector<json> sent_for(const std::string& alertname) {
    std::vector<json> out;
    for (const auto& r : shared_cluster()->hook.requests()) {
      json body = json::parse(r.body, nullptr, false);
      if (!body.is_object() || !body.contains("alerts") || !body["alerts"].is_array()) continue;
      const bool ours = std::any_of(body["alerts"].begin(), body["alerts"].end(), [&](auto& a) {
        return a.contains("labels") && a["labels"].value("alertname", "") == alertname;
      });
      if (ours) out.push_back(std::move(body));
    }
    return out;
  }

  // The webhook bodies that carry an alert labelled exactly `labels`.
  static std::vector<json> sent_with(const json& labels) {
    std::vector<json> out;
    for (json& body : sent_for(labels.value("alertname", ""))) {
      const bool ours = std::any_of(body["alerts"].begin(), body["alerts"].end(),
                                    [&](auto& a) { return a["labels"] == labels; });
      if (ours) out.push_back(std::move(body));
    }
    return out;
  }

  // Waits for the rule's notification, then for the quiet period, and checks that it is the
  // only one, with one firing alert labelled `labels`; returns that alert. `router_restarted`:
  // only this group's notifications count (the rule fired before), and the router's metrics
  // started afresh.
  json the_only_alert(const std::string& alertname, const json& labels,
                      bool router_restarted = false) const {
    const auto sent_now = [&] {
      return router_restarted ? sent_with(labels) : sent_for(alertname);
    };
    EXPECT_TRUE(wait_until([&] { return !sent_now().empty(); }, cluster_patience))
        << "no notification for " << alertname;
    std::this_thread::sleep_for(quiet_period);
    const auto sent = sent_now();
    EXPECT_EQ(sent.size(), 1U) << alertname;
    if (sent.empty()) return json::object();
    const json& body = sent.front();
    EXPECT_EQ(body.value("status", ""), "firing") << body.dump();
    EXPECT_EQ(body["alerts"].size(), 1U) << body.dump();
    const json& alert = body["alerts"][0];
    EXPECT_EQ(alert["labels"], labels) << body.dump();
    EXPECT_EQ(alert.value("status", ""), "firing") << body.dump();
    // Fired once, by the router's windows (the collectors only count).
    if (!router_restarted) {
      EXPECT_EQ(router().metric("tocsin_alerts_total", {{"status", "firing"}}) - firing_before_, 1);
    }
    for (int n = 1; n <= 3; ++n) {
      EXPECT_EQ(c(n).metric("tocsin_alerts_total", {{"status", "firing"}}), 0) << "collector " << n;
    }
    return alert;
  }

  static std::string summary_of(const json& alert) {
    if (!alert.contains("annotations") || !alert["annotations"].is_object()) return {};
    return alert["annotations"].value("summary", "");
  }

  double firing_before_ = 0;
};

std::string line(const std::string& app, const std::string& host, const std::string& message) {
  return syslog_line(app, message, {.host = host});
}

// Collectors 1, 2 and 3 serve hosts web-1, web-2 and web-3 (or pay-N, ...).
std::string host(const std::string& prefix, int collector) {
  return prefix + "-" + std::to_string(collector);
}

// The second the router's new_term rule ends its warm-up: the warm-up starts when the rule first
// runs there, which the router writes into its term store's header.
std::optional<std::int64_t> warmup_ends(const tocsin_daemon& router) {
  const std::string store =
      read_file_if_present(router.dir() / "lib/rules-cluster/new_term/cluster-new-term.jsonl");
  const json header = json::parse(store.substr(0, store.find('\n')), nullptr, false);
  if (!header.is_object() || !header.contains("warmup_started") ||
      !header["warmup_started"].is_number_integer()) {
    return std::nullopt;
  }
  return header["warmup_started"].get<std::int64_t>() + new_term_warmup_seconds;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// new_term (the first test: it starts within the router's warm-up): a target seen on collector 1
// while the router warms up only teaches it. After the warm-up, that target on collector 3 does
// not fire; a target never seen fires when collector 2 sees it, and collectors 1 and 3 seeing it
// next (they never saw it themselves) do not fire again; another new target still fires.
TEST_F(kafka_real_kinds, a_new_term_seen_on_one_collector_fires_once_for_the_whole_cluster) {
  const auto sudo = [](int n, const std::string& target) {
    return line("sudo", host("bastion", n),
                "alice : TTY=pts/0 ; PWD=/home/alice ; USER=" + target + " ; COMMAND=/bin/sh");
  };
  std::optional<std::int64_t> warm_at;
  ASSERT_TRUE(
      wait_until([&] { return (warm_at = warmup_ends(router())).has_value(); }, cluster_patience))
      << "the router wrote no warm-up start for cluster-new-term";
  ASSERT_LT(unix_now(), *warm_at - 1)
      << "the warm-up (it starts with the router) is nearly over: this test must run first";
  ASSERT_TRUE(send(1, sudo(1, "root")));
  ASSERT_TRUE(router().wait_for_metric(
      "tocsin_rule_terms", {{"rule", "cluster-new-term"}}, [](double v) { return v == 1; },
      cluster_patience))
      << "the router did not learn the target root";
  while (unix_now() < *warm_at + 1) std::this_thread::sleep_for(100ms);

  ASSERT_TRUE(send(3, sudo(3, "root")));
  ASSERT_TRUE(send(2, sudo(2, "mallory")));
  const json alert = the_only_alert("cluster-new-term", {{"alertname", "cluster-new-term"},
                                                         {"severity", "warning"},
                                                         {"app", "sudo"},
                                                         {"target", "mallory"}});
  EXPECT_EQ(summary_of(alert), "first sudo to mallory (on bastion-2)");

  const double firing = router().metric("tocsin_alerts_total", {{"status", "firing"}});
  ASSERT_TRUE(send(1, sudo(1, "mallory") + sudo(1, "mallory")));
  ASSERT_TRUE(send(3, sudo(3, "mallory")));
  // A new target after them, from collector 3: once it has fired, so would have mallory again.
  std::this_thread::sleep_for(2s);
  ASSERT_TRUE(send(3, sudo(3, "trudy")));
  ASSERT_TRUE(wait_until(
      [&] {
        const auto sent = sent_for("cluster-new-term");
        return std::any_of(sent.begin(), sent.end(), [](const json& b) {
          return b["alerts"][0]["labels"].value("target", "") == "trudy";
        });
      },
      cluster_patience))
      << "no notification for the target trudy";
  std::this_thread::sleep_for(quiet_period);
  std::map<std::string, int> targets;
  for (const json& body : sent_for("cluster-new-term")) {
    for (const auto& a : body["alerts"]) ++targets[a["labels"].value("target", "")];
  }
  const std::map<std::string, int> expected = {{"mallory", 1}, {"trudy", 1}};
  EXPECT_EQ(targets, expected);
  EXPECT_EQ(router().metric("tocsin_alerts_total", {{"status", "firing"}}) - firing, 1);
  EXPECT_EQ(router().metric("tocsin_rule_terms", {{"rule", "cluster-new-term"}}), 3);
}

// spike: the previous window (1 order a second, round the three collectors) and the rise (6 on
// each collector at once) are both split over the collectors; only all three together make the
// 18 of min_count, which is at least 3 × the previous window's at most 5. The rise comes right
// after the last order of the history, so the previous window still holds some of it if the
// rise reaches the router up to 8 s late.
TEST_F(kafka_real_kinds, a_spike_with_history_and_rise_split_over_three_collectors_fires_once) {
  for (int i = 0; i < 10; ++i) {
    const int n = i % 3 + 1;
    ASSERT_TRUE(send(n, line("checkout", host("web", n), "order placed id=" + std::to_string(i))));
    std::this_thread::sleep_for(1s);
  }
  for (int n = 1; n <= 3; ++n) {
    std::string burst;
    for (int i = 0; i < 6; ++i) {
      burst += line("checkout", host("web", n), "order placed id=b" + std::to_string(n * 10 + i));
    }
    ASSERT_TRUE(send(n, burst));
  }
  const json alert = the_only_alert(
      "cluster-spike",
      {{"alertname", "cluster-spike"}, {"severity", "warning"}, {"app", "checkout"}});
  // The rise's 18 and up to 4 orders of the history in the current window, against the 5 orders
  // of the window before (fewer if the rise reached the router a few seconds late; one more in
  // either if a collector read an order of the history late, so that two share a second).
  std::smatch m;
  const std::string summary = summary_of(alert);
  ASSERT_TRUE(std::regex_match(summary, m, std::regex(R"((\d+) orders after (\d+): x([0-9.]+))")))
      << summary;
  const int current = std::stoi(m[1]);
  const int previous = std::stoi(m[2]);
  EXPECT_GE(current, 18) << summary;
  EXPECT_LE(current, 23) << summary;  // no part counted twice
  EXPECT_GE(previous, 1) << summary;
  EXPECT_LE(previous, 6) << summary;
  EXPECT_NEAR(std::stod(m[3]), static_cast<double>(current) / previous, 0.01) << summary;
  std::cout << "spike: " << summary << "\n";
}

// cardinality: two users on each collector, and root on every one, each tried twice, from one
// address: 7 distinct users (not the 9 of the three collectors' own counts), above max 6 only
// once every collector's values are merged (two collectors hold 5, all but one user 6).
TEST_F(kafka_real_kinds, seven_users_from_one_address_spread_over_three_collectors_fire_once) {
  const std::string users[3][3] = {
      {"ann", "root", "bob"}, {"cid", "root", "dan"}, {"root", "eve", "fay"}};
  for (int n = 1; n <= 3; ++n) {
    std::string lines;
    for (int round = 0; round < 2; ++round) {
      for (const std::string& user : users[n - 1]) {
        lines += line("sshd", host("gw", n),
                      "Failed password for " + user + " from 203.0.113.7 port 22 ssh2");
      }
    }
    ASSERT_TRUE(send(n, lines));
  }
  const json alert = the_only_alert(
      "cluster-cardinality",
      {{"alertname", "cluster-cardinality"}, {"severity", "warning"}, {"ip", "203.0.113.7"}});
  EXPECT_EQ(summary_of(alert), "7 users from 203.0.113.7");
}

// aggregate: request times on three collectors sum above 10 s only all together (11 s).
TEST_F(kafka_real_kinds, request_times_on_three_collectors_sum_above_the_limit_only_merged) {
  const auto request = [](int n, const std::string& rt) {
    return line("api-gw", host("api", n), "GET /v1/orders 200 rt=" + rt);
  };
  ASSERT_TRUE(send(1, request(1, "2.5") + request(1, "1.5")));
  ASSERT_TRUE(send(2, request(2, "3.25")));
  ASSERT_TRUE(send(3, request(3, "3.75")));
  const json alert = the_only_alert(
      "cluster-aggregate",
      {{"alertname", "cluster-aggregate"}, {"severity", "warning"}, {"app", "api-gw"}});
  EXPECT_EQ(summary_of(alert), "11 s in 4 requests");
}

// ratio: the errors (the numerator, also in the base) all on collector 1, the rest of the base
// mostly on collectors 2 and 3: 4 of 10 is above 0.3, and only all three make min_base's 10.
// Collector 1's last event is a good request: the alert still shows the last error.
TEST_F(kafka_real_kinds, errors_on_one_collector_and_the_base_on_the_others_make_one_ratio) {
  const auto request = [](int n, int status) {
    return line("payments", host("pay", n), "POST /charge status=" + std::to_string(status));
  };
  std::string errors;
  for (int i = 0; i < 4; ++i) errors += request(1, 503);
  ASSERT_TRUE(send(1, errors + request(1, 200)));
  ASSERT_TRUE(send(2, request(2, 200) + request(2, 200) + request(2, 201)));
  ASSERT_TRUE(send(3, request(3, 200) + request(3, 204)));
  const json alert = the_only_alert(
      "cluster-ratio",
      {{"alertname", "cluster-ratio"}, {"severity", "warning"}, {"app", "payments"}});
  EXPECT_EQ(summary_of(alert), "0.4 of 10 requests failed (4), last: POST /charge status=503");
}

// Replay (the last test: it restarts the router): two collectors' part of a window reaches the
// router, which restarts; it rebuilds the window from tocsin.hits (bus.kafka.rebuild_window) and
// the third collector's part makes it fire, once, with everything merged. The rest of the replay
// (the earlier tests' hits) sends nothing.
TEST_F(kafka_real_kinds, a_window_the_router_restarts_in_is_rebuilt_from_the_hits_topic) {
  const std::string users[3][3] = {
      {"ann", "root", "bob"}, {"cid", "root", "dan"}, {"root", "eve", "fay"}};
  const auto failed_logins = [&](int n) {
    std::string lines;
    for (const std::string& user : users[n - 1]) {
      lines += line("sshd", host("gw", n),
                    "Failed password for " + user + " from 198.51.100.9 port 22 ssh2");
    }
    return lines;
  };
  ASSERT_TRUE(send(1, failed_logins(1)));
  ASSERT_TRUE(send(2, failed_logins(2)));
  std::this_thread::sleep_for(3s);  // published (once a second) and read by the router
  const std::size_t sent_before = shared_cluster()->hook.requests().size();
  router().restart();
  ASSERT_TRUE(wait_until([&] { return ready(router()); }, cluster_patience))
      << "the router did not read its hits partitions again";
  ASSERT_TRUE(send(3, failed_logins(3)));
  const json alert = the_only_alert(
      "cluster-cardinality",
      {{"alertname", "cluster-cardinality"}, {"severity", "warning"}, {"ip", "198.51.100.9"}},
      /*router_restarted=*/true);
  EXPECT_EQ(summary_of(alert), "7 users from 198.51.100.9");
  // Replaying the earlier tests' hits (their groups fire again in the windows) sent nothing.
  EXPECT_EQ(shared_cluster()->hook.requests().size(), sent_before + 1);
}

}  // namespace
}  // namespace tocsin::test
