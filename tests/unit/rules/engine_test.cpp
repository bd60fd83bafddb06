#include "rules/engine.hpp"
#include "core/rfc3339.hpp"
#include "rules/rule.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace tocsin::rules {
namespace {

using namespace std::chrono_literals;
using time_point = alert_engine::time_point;

// 2026-11-26T04:10:55.120Z
const time_point t0 =
    time_point(std::chrono::sys_days(std::chrono::year(2026) / 11 / 26).time_since_epoch() + 4h +
               10min + 55s + 120ms);

std::string rfc3339(time_point tp) {
  std::string s;
  append_rfc3339_utc(tp, s, 3);
  return s;
}

rule_definition plain_rule(std::string name, std::string message_pattern) {
  rule_definition r;
  r.name = std::move(name);
  r.match = {{"message", std::move(message_pattern), {}}};
  return r;
}

rule_definition threshold_rule(std::string name, std::string message_pattern, std::size_t count,
                               std::chrono::milliseconds window,
                               std::vector<std::string> group_by = {"host"}) {
  rule_definition r = plain_rule(std::move(name), std::move(message_pattern));
  r.kind = rule_kind::threshold;
  r.count = count;
  r.window = window;
  r.group_by = std::move(group_by);
  return r;
}

rule_definition absent_rule(std::string name, std::string message_pattern,
                            std::chrono::milliseconds for_duration,
                            std::vector<std::string> group_by = {"host"}) {
  rule_definition r = plain_rule(std::move(name), std::move(message_pattern));
  r.kind = rule_kind::absent;
  r.for_duration = for_duration;
  r.group_by = std::move(group_by);
  return r;
}

engine_options no_resend() {
  engine_options o;
  o.resend_interval = std::chrono::hours(1000);  // out of the way of tests about other timing
  return o;
}

class engine_test : public ::testing::Test {
 protected:
  void start(std::vector<rule_definition> defs, engine_options options = no_resend()) {
    engine_ = std::make_unique<alert_engine>(
        std::make_shared<const compiled_rules>(std::move(defs)), metrics_, std::move(options));
  }

  std::vector<alert> feed(std::string_view host, std::string_view message, time_point now) {
    collector::event ev;
    ev.host = host;
    ev.app = "app";
    ev.message = message;
    ev.severity = 3;
    std::vector<alert> out;
    engine_->on_event(ev, now, out);
    return out;
  }

  std::vector<alert> tick(time_point now) {
    std::vector<alert> out;
    engine_->tick(now, out);
    return out;
  }

  std::uint64_t counter_value(const std::string& name, const metric_labels& labels) {
    return metrics_.get_counter(name, "", labels).value();
  }
  std::int64_t groups(const std::string& rule) {
    return metrics_.get_gauge("tocsin_rule_groups", "", {{"rule", rule}}).value();
  }
  std::uint64_t alerts_total(const std::string& status) {
    return counter_value("tocsin_alerts_total", {{"status", status}});
  }

  metrics_registry metrics_;
  std::unique_ptr<alert_engine> engine_;
};

// ---------------------------------------------------------------------------------------------
// plain

TEST_F(engine_test, plain_fires_once_then_resolves_after_resolve_after) {
  start({plain_rule("disk-full", "No space left on device")});

  auto out = feed("web1", "write failed: No space left on device", t0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].firing);
  EXPECT_EQ(out[0].starts_at, t0);
  EXPECT_EQ(out[0].ends_at, t0 + 3 * 1000h);  // 3 × resend_interval ahead
  const label_set expected{{"alertname", "disk-full"}, {"severity", "warning"}};
  EXPECT_EQ(out[0].labels, expected);
  EXPECT_EQ(out[0].fingerprint, fingerprint(expected));

  // Unrelated events and further matches emit nothing.
  EXPECT_TRUE(feed("web1", "all good", t0 + 1s).empty());
  EXPECT_TRUE(feed("web1", "No space left on device", t0 + 1min).empty());

  // resolve_after (5m) counts from the last match.
  EXPECT_TRUE(tick(t0 + 5min).empty());
  EXPECT_TRUE(tick(t0 + 1min + 5min - 1ms).empty());
  out = tick(t0 + 1min + 5min);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].firing);
  EXPECT_EQ(out[0].starts_at, t0);
  EXPECT_EQ(out[0].ends_at, t0 + 6min);
  EXPECT_EQ(out[0].fingerprint, fingerprint(expected));
  EXPECT_TRUE(tick(t0 + 20min).empty());  // resolved once

  // The next match is a new episode.
  out = feed("web1", "No space left on device", t0 + 30min);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].firing);
  EXPECT_EQ(out[0].starts_at, t0 + 30min);

  EXPECT_EQ(alerts_total("firing"), 2u);
  EXPECT_EQ(alerts_total("resolved"), 1u);
  EXPECT_EQ(counter_value("tocsin_rule_matches_total", {{"rule", "disk-full"}}), 3u);
}

TEST_F(engine_test, plain_resolve_time_is_exact_even_when_ticked_late) {
  rule_definition r = plain_rule("r", "boom");
  r.resolve_after = 90s;
  start({r});
  ASSERT_EQ(feed("h", "boom", t0).size(), 1u);
  const auto out = tick(t0 + 1h);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].firing);
  EXPECT_EQ(out[0].ends_at, t0 + 90s);
  EXPECT_EQ(groups("r"), 0);
}

TEST_F(engine_test, plain_rule_fires_one_alert_per_host_by_default) {
  start(load_rules_string("rules:\n"
                          "  - { name: disk-full, match: { message: 'No space left' } }\n"
                          "  - { name: one-alert, match: { message: 'No space left' },\n"
                          "      group_by: [] }\n",
                          "r.yaml")
            .rules);
  const auto t = time_point{} + std::chrono::hours(1);
  const auto db1 = feed("db1", "No space left on device", t);
  const auto db2 = feed("db2", "No space left on device", t);
  ASSERT_EQ(db1.size(), 2U);
  ASSERT_EQ(db2.size(), 1U) << "group_by: [] keeps one alert per rule";
  EXPECT_EQ(db1[0].labels.at("host"), "db1");
  EXPECT_EQ(db2[0].labels.at("host"), "db2");
  EXPECT_EQ(db2[0].labels.at("alertname"), "disk-full");
  EXPECT_NE(db1[0].fingerprint, db2[0].fingerprint);
  EXPECT_FALSE(db1[1].labels.contains("host"));
}

TEST_F(engine_test, plain_groups_by_named_groups) {
  start({plain_rule("oom", R"(Killed process \d+ \((?P<process>[^)]+)\))")});
  EXPECT_EQ(feed("h", "Out of memory: Killed process 123 (java)", t0).size(), 1u);
  EXPECT_EQ(feed("h", "Out of memory: Killed process 456 (java)", t0 + 1s).size(), 0u);
  const auto out = feed("h", "Out of memory: Killed process 789 (postgres)", t0 + 2s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].labels.at("process"), "postgres");
  EXPECT_EQ(groups("oom"), 2);
}

// ---------------------------------------------------------------------------------------------
// threshold

TEST_F(engine_test, threshold_window_edges) {
  struct test_case {
    const char* name;
    std::size_t count;
    std::chrono::milliseconds window;
    std::vector<std::chrono::milliseconds> matches;  // offsets from t0
    int fires_at;                                    // index of the firing match, -1 = never
  };
  const std::vector<test_case> cases = {
      {"below count", 5, 60s, {0s, 1s, 2s, 3s}, -1},
      {"exactly count inside the window", 5, 60s, {0s, 10s, 20s, 30s, 40s}, 4},
      {"exactly count, last one just inside", 5, 60s, {0s, 10s, 20s, 30s, 59999ms}, 4},
      {"exactly count, last one on the boundary", 5, 60s, {0s, 10s, 20s, 30s, 60s}, -1},
      {"spread wider than the window", 5, 60s, {0s, 20s, 40s, 60s, 80s, 100s, 120s}, -1},
      {"old match slides out, new ones cross", 5, 60s, {0s, 50s, 70s, 80s, 90s, 100s}, 5},
      {"count 1 fires on the first match", 1, 1s, {0s}, 0},
      {"count 2, same instant", 2, 1ms, {0s, 0s}, 1},
      {"count 2, 1ms window, 1ms apart", 2, 1ms, {0s, 1ms}, -1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    metrics_registry fresh_metrics;
    alert_engine engine(std::make_shared<const compiled_rules>(
                            std::vector{threshold_rule("t", "fail", c.count, c.window)}),
                        fresh_metrics, no_resend());
    int fired_at = -1;
    int fired = 0;
    for (std::size_t i = 0; i < c.matches.size(); ++i) {
      collector::event ev;
      ev.host = "web1";
      ev.message = "fail";
      std::vector<alert> out;
      engine.on_event(ev, t0 + c.matches[i], out);
      for (const auto& a : out) {
        EXPECT_TRUE(a.firing);
        EXPECT_EQ(a.starts_at, t0 + c.matches[i]);
        if (fired_at < 0) fired_at = static_cast<int>(i);
        ++fired;
      }
    }
    EXPECT_EQ(fired_at, c.fires_at);
    EXPECT_LE(fired, 1);  // fires once when crossed
  }
}

TEST_F(engine_test, threshold_groups_by_host) {
  start({threshold_rule("t", "fail", 2, 60s)});
  EXPECT_TRUE(feed("a", "fail", t0).empty());
  EXPECT_TRUE(feed("b", "fail", t0 + 1s).empty());  // another group: does not add up with a
  const auto out = feed("a", "fail", t0 + 2s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].labels.at("host"), "a");
  EXPECT_EQ(groups("t"), 2);
}

TEST_F(engine_test, threshold_resolves_after_a_whole_window_below) {
  // count 2 in 60s. Matches at 0 and 10 fire; the count drops below 2 at 0+60 = 60 (the match
  // at 0 leaves the window); a lone match at 100 keeps it below; resolves at 60+60 = 120.
  start({threshold_rule("t", "fail", 2, 60s)});
  EXPECT_TRUE(feed("h", "fail", t0).empty());
  ASSERT_EQ(feed("h", "fail", t0 + 10s).size(), 1u);
  EXPECT_TRUE(tick(t0 + 60s).empty());
  EXPECT_TRUE(feed("h", "fail", t0 + 100s).empty());
  EXPECT_TRUE(tick(t0 + 120s - 1ms).empty());
  const auto out = tick(t0 + 120s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].firing);
  EXPECT_EQ(out[0].starts_at, t0 + 10s);
  EXPECT_EQ(out[0].ends_at, t0 + 120s);
  EXPECT_EQ(groups("t"), 1);  // the match at 100 is still inside its window
  EXPECT_TRUE(tick(t0 + 160s).empty());
  EXPECT_EQ(groups("t"), 0);  // nothing left inside the window: forgotten
}

TEST_F(engine_test, threshold_stays_firing_while_at_or_above) {
  start({threshold_rule("t", "fail", 2, 60s)});
  EXPECT_TRUE(feed("h", "fail", t0).empty());
  ASSERT_EQ(feed("h", "fail", t0 + 10s).size(), 1u);
  // Still at or above: no new alert. The 2nd latest match is now at 20, so the count drops
  // below 2 at 20+60 = 80 and the alert resolves at 80+60 = 140 (not at 0+60+60 = 120).
  EXPECT_TRUE(feed("h", "fail", t0 + 20s).empty());
  EXPECT_TRUE(feed("h", "fail", t0 + 30s).empty());
  EXPECT_TRUE(tick(t0 + 120s).empty());
  EXPECT_TRUE(tick(t0 + 140s - 1ms).empty());
  const auto out = tick(t0 + 140s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].firing);
  EXPECT_EQ(out[0].ends_at, t0 + 140s);
  EXPECT_EQ(alerts_total("firing"), 1u);
  EXPECT_EQ(alerts_total("resolved"), 1u);
}

TEST_F(engine_test, threshold_fires_again_after_resolving) {
  start({threshold_rule("t", "fail", 2, 10s)});
  feed("h", "fail", t0);
  ASSERT_EQ(feed("h", "fail", t0 + 1s).size(), 1u);
  ASSERT_EQ(tick(t0 + 20s).size(), 1u);
  EXPECT_TRUE(feed("h", "fail", t0 + 30s).empty());
  const auto out = feed("h", "fail", t0 + 31s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].firing);
  EXPECT_EQ(out[0].starts_at, t0 + 31s);
}

// ---------------------------------------------------------------------------------------------
// absent

TEST_F(engine_test, absent_fires_for_seen_groups_and_resolves_on_next_match) {
  start({absent_rule("nginx-silent", "GET", 5min)});
  EXPECT_TRUE(tick(t0).empty());
  EXPECT_TRUE(tick(t0 + 1h).empty());  // nothing seen yet: nothing can be absent
  const time_point s = t0 + 1h;
  EXPECT_TRUE(feed("a", "GET /", s).empty());
  EXPECT_TRUE(feed("b", "GET /", s + 1min).empty());
  EXPECT_TRUE(tick(s + 5min - 1ms).empty());

  auto out = tick(s + 5min);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].firing);
  EXPECT_EQ(out[0].labels.at("host"), "a");
  EXPECT_EQ(out[0].starts_at, s + 5min);
  EXPECT_TRUE(tick(s + 5min + 30s).empty());  // fires once

  // b is still sending; a comes back.
  EXPECT_TRUE(feed("b", "GET /x", s + 5min + 50s).empty());
  out = feed("a", "GET /y", s + 7min);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].firing);
  EXPECT_EQ(out[0].labels.at("host"), "a");
  EXPECT_EQ(out[0].starts_at, s + 5min);
  EXPECT_EQ(out[0].ends_at, s + 7min);
  EXPECT_TRUE(feed("a", "GET /z", s + 7min + 1s).empty());  // resolved once

  // b goes silent 5 minutes after its last match, a after its own.
  out = tick(s + 5min + 50s + 5min);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].labels.at("host"), "b");
  out = tick(s + 7min + 1s + 5min);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].labels.at("host"), "a");
  EXPECT_EQ(alerts_total("firing"), 3u);
  EXPECT_EQ(alerts_total("resolved"), 1u);
}

TEST_F(engine_test, absent_late_tick_reports_exact_start) {
  start({absent_rule("x", "beat", 1min)});
  feed("h", "beat", t0);
  const auto out = tick(t0 + 10min);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].starts_at, t0 + 1min);
  EXPECT_EQ(out[0].ends_at, t0 + 10min + 3 * 1000h);
}

// ---------------------------------------------------------------------------------------------
// labels, fingerprints, annotations

TEST_F(engine_test, labels_in_order_with_overrides) {
  struct test_case {
    const char* name;
    rule_definition rule;
    std::string message;
    label_set expected;
  };
  rule_definition captures = plain_rule("cap", R"(user (?P<user>\w+) from (?P<src_ip>[0-9.]+))");
  captures.severity = "critical";
  captures.labels = {{"team", "security"}};

  rule_definition capture_overrides_severity = plain_rule("sev", R"(level=(?P<severity>\w+))");

  rule_definition static_overrides =
      plain_rule("stat", R"(user (?P<user>\w+) from (?P<src_ip>[0-9.]+))");
  static_overrides.labels = {{"user", "redacted"}, {"severity", "info"}};

  rule_definition by_fields =
      threshold_rule("grp", R"(user (?P<user>\w+))", 1, 1min, {"host", "app", "procid", "message"});
  by_fields.labels = {{"team", "ops"}};

  const std::vector<test_case> cases = {
      {"named groups and static labels",
       captures,
       "user root from 203.0.113.9",
       {{"alertname", "cap"},
        {"severity", "critical"},
        {"user", "root"},
        {"src_ip", "203.0.113.9"},
        {"team", "security"}}},
      {"a named group overrides severity",
       capture_overrides_severity,
       "level=error",
       {{"alertname", "sev"}, {"severity", "error"}}},
      {"static labels override named groups and severity",
       static_overrides,
       "user root from 203.0.113.9",
       {{"alertname", "stat"},
        {"severity", "info"},
        {"user", "redacted"},
        {"src_ip", "203.0.113.9"}}},
      {"group_by values, not named groups; a missing field is empty",
       by_fields,
       "user root",
       {{"alertname", "grp"},
        {"severity", "warning"},
        {"host", "web1"},
        {"app", "app"},
        {"procid", ""},
        {"message", "user root"},
        {"team", "ops"}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    start({c.rule});
    const auto out = feed("web1", c.message, t0);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].labels, c.expected);
    EXPECT_EQ(out[0].fingerprint, fingerprint(c.expected));
  }
}

TEST_F(engine_test, group_by_named_group_as_in_design) {
  // DESIGN.md's ssh-bruteforce: group_by [host, src_ip], src_ip being a named group.
  start({threshold_rule(
      "ssh-bruteforce",
      R"(Failed password for (invalid user )?(?P<user>\S+) from (?P<src_ip>[0-9.]+))", 2, 1min,
      {"host", "src_ip"})});
  EXPECT_TRUE(feed("web1", "Failed password for root from 203.0.113.9 port 1", t0).empty());
  EXPECT_TRUE(feed("web1", "Failed password for root from 198.51.100.4 port 1", t0 + 1s).empty());
  EXPECT_TRUE(feed("web2", "Failed password for root from 203.0.113.9 port 1", t0 + 2s).empty());
  const auto out = feed("web1", "Failed password for admin from 203.0.113.9 port 2", t0 + 3s);
  ASSERT_EQ(out.size(), 1u);
  const label_set expected{{"alertname", "ssh-bruteforce"},
                           {"severity", "warning"},
                           {"host", "web1"},
                           {"src_ip", "203.0.113.9"}};
  EXPECT_EQ(out[0].labels, expected);  // `user` is not a label: it is not in group_by
  EXPECT_EQ(out[0].fingerprint, "7b880cc256f084a7");  // alert_test's known value
  EXPECT_EQ(groups("ssh-bruteforce"), 3);
}

TEST_F(engine_test, group_by_dotted_field_becomes_underscored_label) {
  start({threshold_rule("t", "login", 1, 1min, {"fields.user"})});
  collector::event ev;
  ev.host = "h";
  ev.message = "login";
  ev.fields = nlohmann::json{{"user", "bob"}};
  std::vector<alert> out;
  engine_->on_event(ev, t0, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].labels.at("fields_user"), "bob");
  EXPECT_EQ(out[0].labels.count("fields.user"), 0u);
}

TEST_F(engine_test, annotations_render_labels_builtins_and_latest_named_groups) {
  rule_definition r = threshold_rule(
      "ssh-bruteforce",
      R"(Failed password for (invalid user )?(?P<user>\S+) from (?P<src_ip>[0-9.]+))", 3, 1min,
      {"host"});
  r.labels = {{"team", "security"}};
  r.annotations = {
      {"summary", "{{count}} failed SSH logins for {{user}} from {{ src_ip }} on {{host}}"},
      {"detail", "{{message}} [{{first_seen}} .. {{last_seen}}] {{alertname}}/{{team}}"},
      {"unknown", "<{{nope}}>"},
  };
  start({r});
  EXPECT_TRUE(feed("web1", "Failed password for root from 203.0.113.9 port 1", t0).empty());
  EXPECT_TRUE(feed("web1", "Failed password for admin from 203.0.113.9 port 2", t0 + 1s).empty());
  const auto out =
      feed("web1", "Failed password for invalid user oracle from 203.0.113.7 port 3", t0 + 2s);
  ASSERT_EQ(out.size(), 1u);
  const std::map<std::string, std::string> expected{
      {"summary", "3 failed SSH logins for oracle from 203.0.113.7 on web1"},
      {"detail", "Failed password for invalid user oracle from 203.0.113.7 port 3 [" + rfc3339(t0) +
                     " .. " + rfc3339(t0 + 2s) + "] ssh-bruteforce/security"},
      {"unknown", "<>"},
  };
  EXPECT_EQ(out[0].annotations, expected);
}

TEST_F(engine_test, annotations_are_rerendered_on_resend_and_resolve) {
  rule_definition r = plain_rule("r", "err (?P<code>\\d+)");
  r.annotations = {{"summary", "{{count}} x {{code}} last {{last_seen}}"}};
  r.resolve_after = 10min;
  engine_options o;
  o.resend_interval = 1min;
  start({plain_rule("other", "zzz"), r}, o);  // second rule: indices differ from 0
  auto out = feed("h", "err 7", t0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].annotations.at("summary"), "1 x 7 last " + rfc3339(t0));
  EXPECT_TRUE(feed("h", "err 7", t0 + 10s).empty());
  out = tick(t0 + 1min);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].annotations.at("summary"), "2 x 7 last " + rfc3339(t0 + 10s));
  out = tick(t0 + 10s + 10min);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].firing);
  EXPECT_EQ(out[0].annotations.at("summary"), "2 x 7 last " + rfc3339(t0 + 10s));
}

TEST_F(engine_test, fingerprint_stable_across_matches_and_episodes) {
  start({threshold_rule("t", "x", 1, 1min)});
  const auto first = feed("h", "x", t0);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(tick(t0 + 5min).size(), 1u);
  const auto second = feed("h", "x", t0 + 10min);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0].fingerprint, second[0].fingerprint);
  EXPECT_EQ(first[0].labels, second[0].labels);
}

TEST_F(engine_test, generator_url_appends_rule_name) {
  struct test_case {
    std::string base;
    std::string rule;
    std::string expected;
  };
  const std::vector<test_case> cases = {
      {"", "r", ""},
      {"tocsin://node-1", "disk-full", "tocsin://node-1/disk-full"},
      {"http://x/rules/", "disk-full", "http://x/rules/disk-full"},
      {"http://x/?rule=", "a b/c", "http://x/?rule=a%20b%2Fc"},
  };
  for (const auto& c : cases) {
    engine_options o = no_resend();
    o.generator_url = c.base;
    start({plain_rule(c.rule, "x")}, o);
    const auto out = feed("h", "x", t0);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].generator_url, c.expected);
  }
}

// ---------------------------------------------------------------------------------------------
// re-sends

TEST_F(engine_test, resend_cadence_and_ends_at) {
  rule_definition r = plain_rule("r", "boom");
  r.resolve_after = 10min;
  engine_options o;
  o.resend_interval = 1min;
  start({r}, o);
  auto out = feed("h", "boom", t0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ends_at, t0 + 3min);

  EXPECT_TRUE(tick(t0 + 1min - 1ms).empty());
  out = tick(t0 + 1min);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].firing);
  EXPECT_EQ(out[0].starts_at, t0);
  EXPECT_EQ(out[0].ends_at, t0 + 1min + 3min);
  EXPECT_TRUE(tick(t0 + 1min + 30s).empty());
  // A late tick re-sends once and restarts the cadence from itself.
  out = tick(t0 + 2min + 20s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ends_at, t0 + 2min + 20s + 3min);
  EXPECT_TRUE(tick(t0 + 3min + 20s - 1ms).empty());
  EXPECT_EQ(tick(t0 + 3min + 20s).size(), 1u);
  // Matches do not re-send.
  EXPECT_TRUE(feed("h", "boom", t0 + 3min + 30s).empty());
  // Resolution wins over a due re-send.
  out = tick(t0 + 3min + 30s + 10min);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].firing);
  EXPECT_EQ(out[0].ends_at, t0 + 3min + 30s + 10min);
  EXPECT_EQ(alerts_total("firing"), 1u);  // re-sends are not state changes
  EXPECT_EQ(alerts_total("resolved"), 1u);
}

TEST_F(engine_test, resend_applies_to_every_kind) {
  engine_options o;
  o.resend_interval = 1min;
  start({threshold_rule("t", "thr", 1, 1h), absent_rule("a", "beat", 30s)}, o);
  ASSERT_EQ(feed("h", "thr", t0).size(), 1u);
  EXPECT_TRUE(feed("h", "beat", t0).empty());
  auto out = tick(t0 + 30s);  // absent fires
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].labels.at("alertname"), "a");
  out = tick(t0 + 1min);  // threshold re-send due, absent's not yet (sent at 30s)
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].labels.at("alertname"), "t");
  EXPECT_EQ(out[0].starts_at, t0);
  out = tick(t0 + 90s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].labels.at("alertname"), "a");
  EXPECT_EQ(out[0].starts_at, t0 + 30s);
  EXPECT_EQ(out[0].ends_at, t0 + 90s + 3min);
}

// ---------------------------------------------------------------------------------------------
// cardinality

TEST_F(engine_test, lru_eviction_with_a_cap_of_three) {
  engine_options o = no_resend();
  o.max_groups_per_rule = 3;
  start({plain_rule("u", R"(user=(?P<user>\w+))")}, o);
  auto fire_count = [&](std::string_view msg, time_point t) { return feed("h", msg, t).size(); };
  EXPECT_EQ(fire_count("user=a", t0), 1u);
  EXPECT_EQ(fire_count("user=b", t0 + 1s), 1u);
  EXPECT_EQ(fire_count("user=c", t0 + 2s), 1u);
  EXPECT_EQ(groups("u"), 3);
  EXPECT_EQ(fire_count("user=a", t0 + 3s), 0u);  // a is now the most recently matched
  // d evicts b, the least recently matched: b's resolve, then d's firing alert.
  EXPECT_EQ(fire_count("user=d", t0 + 4s), 2u);
  EXPECT_EQ(groups("u"), 3);
  EXPECT_EQ(counter_value("tocsin_rule_group_evictions_total", {{"rule", "u"}}), 1u);
  EXPECT_EQ(fire_count("user=a", t0 + 5s), 0u);  // a survived
  EXPECT_EQ(fire_count("user=b", t0 + 6s), 2u);  // b was forgotten: fires anew, evicts c
  EXPECT_EQ(fire_count("user=c", t0 + 7s), 2u);  // c too, evicting d
  EXPECT_EQ(fire_count("user=a", t0 + 8s), 0u);  // a is still there
  EXPECT_EQ(counter_value("tocsin_rule_group_evictions_total", {{"rule", "u"}}), 3u);
  EXPECT_EQ(groups("u"), 3);
  EXPECT_EQ(counter_value("tocsin_rule_matches_total", {{"rule", "u"}}), 9u);
  // The evicted ones resolved when they were evicted; the three live groups resolve now.
  EXPECT_EQ(tick(t0 + 1h).size(), 3u);
  EXPECT_EQ(groups("u"), 0);
  EXPECT_EQ(alerts_total("firing"), 6u);
  EXPECT_EQ(alerts_total("resolved"), 6u);
}

// Issue 11: an evicted group used to stay firing in the router until its endsAt, and with a flood
// of distinct values the router held one firing alert per value ever seen.
TEST_F(engine_test, eviction_resolves_the_evicted_firing_alert) {
  engine_options o = no_resend();
  o.max_groups_per_rule = 2;
  start(
      {plain_rule("u", R"(user=(?P<user>\w+))"), absent_rule("quiet", "heartbeat", 1min, {"host"})},
      o);
  const auto a = feed("h", "user=a", t0);
  ASSERT_EQ(a.size(), 1u);
  feed("h", "user=b", t0 + 1s);
  const auto c = feed("h", "user=c", t0 + 2s);  // evicts a
  ASSERT_EQ(c.size(), 2u);
  EXPECT_FALSE(c[0].firing);
  EXPECT_EQ(c[0].fingerprint, a[0].fingerprint);
  EXPECT_EQ(c[0].labels.at("user"), "a");
  EXPECT_EQ(c[0].starts_at, t0);
  EXPECT_EQ(c[0].ends_at, t0 + 2s);  // the eviction instant
  EXPECT_TRUE(c[1].firing);
  EXPECT_EQ(c[1].labels.at("user"), "c");
  EXPECT_EQ(alerts_total("resolved"), 1u);

  // A firing absent group resolves when evicted too; one that is not firing is just forgotten.
  feed("h1", "heartbeat", t0);
  feed("h2", "heartbeat", t0);
  const auto fired = tick(t0 + 2min);
  ASSERT_EQ(fired.size(), 2u);                         // h1 and h2 are absent
  const auto h3 = feed("h3", "heartbeat", t0 + 3min);  // evicts h1, firing
  ASSERT_EQ(h3.size(), 1u);
  EXPECT_FALSE(h3[0].firing);
  EXPECT_EQ(h3[0].labels.at("host"), "h1");
  EXPECT_TRUE(feed("h4", "heartbeat", t0 + 3min).size() == 1u);  // evicts h2, firing
  EXPECT_TRUE(feed("h5", "heartbeat", t0 + 3min).empty());       // evicts h3, seen but not firing
}

TEST_F(engine_test, cap_holds_under_a_scan) {
  engine_options o = no_resend();
  o.max_groups_per_rule = 100;
  start({threshold_rule("scan", R"(from (?P<ip>\S+))", 5, 1min, {"fields.src"})}, o);
  for (int i = 0; i < 5000; ++i) {
    collector::event ev;
    ev.host = "fw";
    ev.message = "denied from somewhere";
    ev.fields =
        nlohmann::json{{"src", "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256)}};
    std::vector<alert> out;
    engine_->on_event(ev, t0 + std::chrono::milliseconds(i), out);
    EXPECT_TRUE(out.empty());
  }
  EXPECT_EQ(groups("scan"), 100);
  EXPECT_EQ(counter_value("tocsin_rule_group_evictions_total", {{"rule", "scan"}}), 4900u);
}

// ---------------------------------------------------------------------------------------------
// reload

TEST_F(engine_test, replace_rules_keeps_state_of_unchanged_rules_only) {
  rule_definition kept = threshold_rule("kept", "k", 2, 1h);
  kept.where = {"a.yaml", 1, 3};
  rule_definition changed = threshold_rule("changed", "c", 2, 1h);
  rule_definition removed = threshold_rule("removed", "r", 2, 1h);
  rule_definition firing = plain_rule("firing", "f");
  start({kept, changed, removed, firing});
  EXPECT_TRUE(feed("h", "k", t0).empty());
  EXPECT_TRUE(feed("h", "c", t0).empty());
  EXPECT_TRUE(feed("h", "r", t0).empty());
  ASSERT_EQ(feed("h", "f", t0).size(), 1u);
  EXPECT_EQ(groups("removed"), 1);

  // Same rules in another order and file; `changed` gets a new window.
  kept.where = {"b.yaml", 10, 3};
  changed.window = 2h;
  rule_definition added = threshold_rule("added", "k", 2, 1h);
  engine_->replace_rules(std::make_shared<const compiled_rules>(
      std::vector<rule_definition>{firing, added, changed, kept}));
  EXPECT_EQ(engine_->rules()->definitions().size(), 4u);
  EXPECT_EQ(groups("removed"), 0);
  EXPECT_EQ(groups("changed"), 0);
  EXPECT_EQ(groups("kept"), 1);

  // `kept` remembers its first match, `changed` and `added` start from nothing.
  const auto out = feed("h", "k", t0 + 1s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].labels.at("alertname"), "kept");
  EXPECT_TRUE(feed("h", "c", t0 + 1s).empty());
  EXPECT_TRUE(feed("h", "r", t0 + 1s).empty());  // no such rule any more
  // The plain alert still firing from before the reload resolves normally, once.
  const auto resolved = tick(t0 + 5min);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].labels.at("alertname"), "firing");
  EXPECT_FALSE(resolved[0].firing);
  EXPECT_EQ(resolved[0].starts_at, t0);
}

TEST_F(engine_test, replace_rules_detects_every_changed_field) {
  const rule_definition base = threshold_rule("r", "x", 2, 1h);
  std::vector<std::pair<const char*, rule_definition>> variants;
  auto add = [&](const char* what, auto mutate) {
    rule_definition d = base;
    mutate(d);
    variants.emplace_back(what, d);
  };
  add("pattern", [](rule_definition& d) { d.match[0].pattern = "x+"; });
  add("field", [](rule_definition& d) { d.match[0].field = "host"; });
  add("min_severity", [](rule_definition& d) { d.min_severity = 7; });
  add("severity", [](rule_definition& d) { d.severity = "critical"; });
  add("labels", [](rule_definition& d) { d.labels = {{"a", "b"}}; });
  add("annotations", [](rule_definition& d) { d.annotations = {{"a", "b"}}; });
  add("count", [](rule_definition& d) { d.count = 3; });
  add("window", [](rule_definition& d) { d.window = 2h; });
  add("group_by", [](rule_definition& d) { d.group_by = {"host", "app"}; });
  add("for", [](rule_definition& d) { d.for_duration = 1min; });
  add("resolve_after", [](rule_definition& d) { d.resolve_after = 1min; });
  add("source location only (unchanged)", [](rule_definition& d) {
    d.where = {"other.yaml", 7, 5};
    d.match[0].where = {"other.yaml", 8, 12};
  });
  for (const auto& [what, variant] : variants) {
    SCOPED_TRACE(what);
    start({base});
    // Every variant still matches this event (host and message are both "x").
    ASSERT_TRUE(feed("x", "x", t0).empty());
    engine_->replace_rules(std::make_shared<const compiled_rules>(std::vector{variant}));
    // A kept state fires on this second match; a changed rule starts from nothing.
    const bool unchanged = std::string_view(what).starts_with("source location");
    EXPECT_EQ(feed("x", "x", t0 + 1s).size(), unchanged ? 1u : 0u);
  }
}

// ---------------------------------------------------------------------------------------------
// time and threads

TEST_F(engine_test, time_going_backwards_is_clamped) {
  start({threshold_rule("t", "x", 2, 10s), plain_rule("p", "y")});
  EXPECT_TRUE(feed("h", "x", t0 + 10s).empty());
  // An older event counts at the latest time seen.
  auto out = feed("h", "x", t0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].starts_at, t0 + 10s);
  EXPECT_TRUE(tick(t0 - 1h).empty());
  out = feed("h", "y", t0 - 1h);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].starts_at, t0 + 10s);
  EXPECT_TRUE(tick(time_point{}).empty());
  EXPECT_TRUE(tick(time_point::min()).empty());
  // Far future: saturates, no overflow.
  out = tick(time_point::max());
  EXPECT_EQ(out.size(), 2u);
}

TEST_F(engine_test, huge_durations_saturate) {
  rule_definition p = plain_rule("p", "x");
  p.resolve_after = std::chrono::milliseconds::max();
  rule_definition a = absent_rule("a", "x", std::chrono::milliseconds::max());
  engine_options o;
  o.resend_interval = std::chrono::milliseconds::max();
  start({p, a}, o);
  const auto out = feed("h", "x", t0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ends_at, time_point::max());
  EXPECT_TRUE(tick(t0 + 100 * 24h * 365).empty());
}

TEST_F(engine_test, no_rules) {
  metrics_registry m;
  alert_engine engine(nullptr, m);
  std::vector<alert> out;
  collector::event ev;
  ev.message = "x";
  engine.on_event(ev, t0, out);
  engine.tick(t0, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(engine.rules(), nullptr);
}

TEST_F(engine_test, concurrent_events_ticks_and_reloads) {
  const std::vector<rule_definition> defs{threshold_rule("t", "x", 1000000, 1h),
                                          plain_rule("p", R"(n=(?P<n>\d))")};
  start(defs);
  constexpr int threads = 4;
  constexpr int per_thread = 2000;
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < per_thread; ++i) {
        const std::string msg = "x n=" + std::to_string(i % 10);
        collector::event ev;
        ev.host = "h";
        ev.message = msg;
        std::vector<alert> out;
        engine_->on_event(ev, t0 + std::chrono::milliseconds(i), out);
        if (w == 0 && i % 100 == 0) engine_->tick(t0 + std::chrono::milliseconds(i), out);
        if (w == 1 && i % 500 == 0) {
          engine_->replace_rules(std::make_shared<const compiled_rules>(defs));
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  // The rules never change, so no match is lost across the reloads.
  EXPECT_EQ(counter_value("tocsin_rule_matches_total", {{"rule", "t"}}),
            std::uint64_t{threads * per_thread});
  EXPECT_EQ(alerts_total("firing"), 10u);  // one per n=0..9
  EXPECT_EQ(groups("p"), 10);
}

// ---------------------------------------------------------------------------------------------
// activity (the UI's rules page)

TEST_F(engine_test, activity_counts_matches_per_minute_over_the_last_hour) {
  start({plain_rule("disk", "No space"), threshold_rule("logins", "Failed", 5, 1min)});
  const auto t = time_point{} + std::chrono::hours(100);  // on a minute boundary
  feed("db1", "No space left", t);
  feed("db1", "No space left", t + 10s);
  feed("db2", "No space left", t + 1min);
  feed("web", "Failed password", t + 59min);

  const auto activity = engine_->activity(t + 59min + 30s);
  ASSERT_EQ(activity.size(), 2U);
  EXPECT_EQ(activity[0].name, "disk");
  EXPECT_EQ(activity[0].kind, rule_kind::plain);
  EXPECT_EQ(activity[0].matches, 3U);
  EXPECT_EQ(activity[0].groups, 1U);  // group_by: [] here
  ASSERT_EQ(activity[0].per_minute.size(), 60U);
  EXPECT_EQ(activity[0].per_minute[0], 2U);  // minute t, the oldest shown
  EXPECT_EQ(activity[0].per_minute[1], 1U);
  EXPECT_EQ(std::accumulate(activity[0].per_minute.begin(), activity[0].per_minute.end(), 0U), 3U);
  EXPECT_EQ(activity[1].name, "logins");
  EXPECT_STREQ(kind_name(activity[1].kind), "threshold");
  EXPECT_EQ(activity[1].per_minute.back(), 1U);

  // A reload keeps a rule's last hour, even when its definition changed.
  engine_->replace_rules(std::make_shared<const compiled_rules>(
      std::vector<rule_definition>{plain_rule("disk", "No space left")}));
  EXPECT_EQ(engine_->activity(t + 59min + 30s).at(0).per_minute[0], 2U);

  // An hour on, the old minutes are gone.
  EXPECT_EQ(engine_->activity(t + 2h).at(0).per_minute, std::vector<std::uint64_t>(60, 0));
}

}  // namespace
}  // namespace tocsin::rules
