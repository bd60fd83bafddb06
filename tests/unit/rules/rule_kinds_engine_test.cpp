// The kinds of DESIGN.md's "More kinds" in rules/engine.hpp: window boundaries to the second,
// tick() stepping through quiet gaps, reloads, and new_term's term store across restarts.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/rfc3339.hpp"
#include "rules/engine.hpp"
#include "rules/rule.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::rules {
namespace {

using namespace std::chrono_literals;
using time_point = alert_engine::time_point;

// 2026-11-26T04:10:00Z, a whole second: the windows count in whole seconds from here.
const time_point t0 = time_point(
    std::chrono::sys_days(std::chrono::year(2026) / 11 / 26).time_since_epoch() + 4h + 10min);

std::string rfc3339(time_point tp) {
  std::string s;
  append_rfc3339_utc(tp, s, 3);
  return s;
}

std::shared_ptr<const compiled_rules> rules_from(const std::string& yaml) {
  return std::make_shared<const compiled_rules>(load_rules_string(yaml, "kinds.yaml"));
}

engine_options quiet_options() {
  engine_options o;
  o.resend_interval = std::chrono::hours(1000);  // no re-sends in the way
  return o;
}

// One alert as the tests compare them: "firing NAME host=.. startsAt" or "resolved ... endsAt".
std::string describe(const alert& a) {
  std::string s = a.firing ? "firing " : "resolved ";
  s += a.labels.at("alertname");
  for (const auto& [name, value] : a.labels) {
    if (name == "alertname" || name == "severity") continue;
    s += " " + name + "=" + value;
  }
  s += a.firing ? " " + rfc3339(a.starts_at)
                : " " + rfc3339(a.starts_at) + ".." + rfc3339(a.ends_at);
  return s;
}

std::vector<std::string> describe(const std::vector<alert>& alerts) {
  std::vector<std::string> out;
  out.reserve(alerts.size());
  for (const alert& a : alerts) out.push_back(describe(a));
  return out;
}

// "2026-11-26T04:10:SS.mmmZ" for t0 + offset.
std::string at(std::chrono::milliseconds offset) { return rfc3339(t0 + offset); }

class kinds_test : public ::testing::Test {
 protected:
  void start(const std::string& yaml, engine_options options = quiet_options()) {
    engine_ = std::make_unique<alert_engine>(rules_from(yaml), metrics_, std::move(options));
  }

  void feed(std::string_view host, std::string_view app, std::string_view message, time_point now,
            int severity = 6) {
    collector::event ev;
    ev.host = host;
    ev.app = app;
    ev.message = message;
    ev.severity = severity;
    engine_->on_event(ev, now, out_);
  }

  void tick(time_point now) { engine_->tick(now, out_); }

  // The alerts emitted since the last call.
  std::vector<std::string> take() {
    auto described = describe(out_);
    out_.clear();
    return described;
  }

  std::uint64_t counter(const std::string& name, const std::string& rule) {
    return test::counter_value(metrics_, name, {{"rule", rule}});
  }

  metrics_registry metrics_;
  std::unique_ptr<alert_engine> engine_;
  std::vector<alert> out_;
};

using strings = std::vector<std::string>;

// ---------------------------------------------------------------------------------------------
// spike

constexpr const char* rise_rules = R"yaml(
rules:
  - name: rise
    match: { message: '" 5\d\d ' }
    spike: { window: 10s, ratio: 3, min_count: 9, group_by: [host] }
)yaml";

// One 5xx per second for 30 s, then three per second: the rise holds first at the third match
// of second 39 (current 30 >= 3 × previous 10), on web1 only.
TEST_F(kinds_test, spike_rise_fires_at_the_match_that_triples_the_previous_window) {
  start(rise_rules);
  for (int s = 0; s < 45; ++s) {
    const int n = s < 30 ? 1 : 3;
    for (int k = 0; k < n; ++k) {
      feed("web1", "nginx", "\"GET / HTTP/1.1\" 503 12", t0 + s * 1s + k * 300ms + 100ms);
    }
    feed("web2", "nginx", "\"GET / HTTP/1.1\" 503 12", t0 + s * 1s + 50ms);  // steady
    if (s == 38) EXPECT_EQ(take(), strings{}) << "second 38 holds 28 < 30";
  }
  EXPECT_EQ(take(), strings{"firing rise host=web1 " + at(39s + 700ms)});
  // True at second 39 only (previous grows with the burst): resolves a window later.
  tick(t0 + 48s + 999ms);
  EXPECT_EQ(take(), strings{});
  tick(t0 + 49s);
  EXPECT_EQ(take(), strings{"resolved rise host=web1 " + at(39s + 700ms) + ".." + at(49s)});
}

// A group's first window is no previous window: a burst 12 s after a group's first match holds
// on the counts (10 against 1) but fires only at second 19, the first with a whole previous
// window of history, from tick().
TEST_F(kinds_test, spike_waits_for_a_whole_previous_window_of_history) {
  start(rise_rules);
  feed("web3", "nginx", "\" 500 ", t0 + 200ms);
  for (int k = 0; k < 10; ++k) feed("web3", "nginx", "\" 500 ", t0 + 12s + k * 10ms);
  EXPECT_EQ(take(), strings{});
  for (int s = 13; s < 19; ++s) tick(t0 + s * 1s + 500ms);
  EXPECT_EQ(take(), strings{});
  tick(t0 + 19s + 500ms);
  EXPECT_EQ(take(), strings{"firing rise host=web3 " + at(19s)});
}

constexpr const char* drop_rules = R"yaml(
rules:
  - name: drop
    match: { app: '^nginx$' }
    spike: { window: 10s, ratio: 0.2, min_count: 10, group_by: [host] }
)yaml";

// Two lines per second for 30 s, then nothing: current falls to 4 (<= 0.2 × 20) at second 37,
// with no event to evaluate on; previous stays >= min_count 10 until second 44, so it resolves
// at 54.
TEST_F(kinds_test, spike_drop_fires_in_a_quiet_gap_at_the_right_second_one_tick_at_a_time) {
  start(drop_rules);
  for (int s = 0; s < 30; ++s) {
    feed("web1", "nginx", "GET / 200", t0 + s * 1s + 100ms);
    feed("web1", "nginx", "GET / 200", t0 + s * 1s + 600ms);
  }
  for (int s = 30; s < 37; ++s) tick(t0 + s * 1s + 500ms);
  EXPECT_EQ(take(), strings{});
  tick(t0 + 37s + 500ms);
  EXPECT_EQ(take(), strings{"firing drop host=web1 " + at(37s)});
  for (int s = 38; s < 54; ++s) tick(t0 + s * 1s + 500ms);
  EXPECT_EQ(take(), strings{});
  tick(t0 + 54s);
  EXPECT_EQ(take(), strings{"resolved drop host=web1 " + at(37s) + ".." + at(54s)});
}

TEST_F(kinds_test, spike_drop_fires_in_a_quiet_gap_at_the_right_second_with_one_late_tick) {
  start(drop_rules);
  for (int s = 0; s < 30; ++s) {
    feed("web1", "nginx", "GET / 200", t0 + s * 1s + 100ms);
    feed("web1", "nginx", "GET / 200", t0 + s * 1s + 600ms);
  }
  tick(t0 + 5min);
  EXPECT_EQ(take(), (strings{"firing drop host=web1 " + at(37s),
                             "resolved drop host=web1 " + at(37s) + ".." + at(54s)}));
}

// ---------------------------------------------------------------------------------------------
// window boundaries

constexpr const char* users_rules = R"yaml(
rules:
  - name: users
    match: { app: '^sshd$', message: 'for (?P<user>\S+) from (?P<ip>[0-9.]+)' }
    cardinality: { field: user, max: 2, window: 10s, group_by: [ip] }
)yaml";

// A value at second s counts through second s + 9 of a 10 s window.
TEST_F(kinds_test, cardinality_window_ends_to_the_second) {
  start(users_rules);
  feed("bastion", "sshd", "Failed password for u1 from 10.0.0.2 port 22", t0);
  feed("bastion", "sshd", "Failed password for u1 from 10.0.0.1 port 22", t0 + 900ms);
  feed("bastion", "sshd", "Failed password for u2 from 10.0.0.1 port 22", t0 + 5s);
  feed("bastion", "sshd", "Failed password for u2 from 10.0.0.2 port 22", t0 + 5s);
  feed("bastion", "sshd", "Failed password for u3 from 10.0.0.1 port 22", t0 + 9s + 990ms);
  EXPECT_EQ(take(), strings{"firing users ip=10.0.0.1 " + at(9s + 990ms)});
  feed("bastion", "sshd", "Failed password for u3 from 10.0.0.2 port 22", t0 + 10s);
  EXPECT_EQ(take(), strings{}) << "u1 (second 0) has left the window at second 10";

  // 10.0.0.1: u1 leaves at second 10, so the condition is false from there; resolved a window
  // after the last second it held (9).
  tick(t0 + 18s + 999ms);
  EXPECT_EQ(take(), strings{});
  tick(t0 + 19s);
  EXPECT_EQ(take(), strings{"resolved users ip=10.0.0.1 " + at(9s + 990ms) + ".." + at(19s)});
}

constexpr const char* api_error_rules = R"yaml(
rules:
  - name: api-errors
    match: { severity: '^err$' }
    ratio: { of: { app: '^api$' }, window: 10s, above: 0.5, min_base: 4 }
  - name: api-errors-kept
    match: { severity: '^err$' }
    ratio: { of: { app: '^api$' }, window: 10s, above: 0.5, min_base: 4 }
)yaml";

TEST_F(kinds_test, ratio_window_ends_to_the_second_and_min_base_counts) {
  start(R"yaml(
rules:
  - name: api-errors
    match: { severity: '^err$' }
    ratio: { of: { app: '^api$' }, window: 10s, above: 0.5, min_base: 4 }
)yaml");
  feed("api1", "api", "GET /a 200", t0 + 100ms);
  feed("api1", "api", "GET /a 500", t0 + 1s, 3);
  feed("api1", "api", "GET /a 500", t0 + 2s, 3);
  feed("api1", "worker", "job failed", t0 + 3s, 3);  // not in the base: not counted at all
  EXPECT_EQ(take(), strings{}) << "2 of 3: base below min_base";
  feed("api1", "api", "GET /a 500", t0 + 10s + 50ms, 3);
  EXPECT_EQ(take(), strings{}) << "the 200 of second 0 left: 3 of 3, base 3 < 4";
  feed("api1", "api", "GET /b 200", t0 + 10s + 60ms);
  EXPECT_EQ(take(), strings{"firing api-errors " + at(10s + 60ms)}) << "3 of 4 > 0.5";
  EXPECT_EQ(counter("tocsin_rule_matches_total", "api-errors"), 3U) << "base events are no match";
}

// `below`: the share of successes falls under half, with at least 4 requests in the window.
TEST_F(kinds_test, ratio_below_fires_when_the_share_falls) {
  start(R"yaml(
rules:
  - name: api-success
    match: { message: ' 2\d\d$' }
    ratio: { of: { app: '^api$' }, window: 10s, below: 0.5, min_base: 4 }
)yaml");
  feed("api1", "api", "GET /a 200", t0);
  feed("api1", "api", "GET /a 500", t0 + 1s);
  feed("api1", "api", "GET /a 500", t0 + 2s);
  EXPECT_EQ(take(), strings{}) << "1 of 3: base below min_base";
  feed("api1", "api", "GET /a 201", t0 + 3s);
  EXPECT_EQ(take(), strings{}) << "2 of 4 is not below 0.5";
  feed("api1", "api", "GET /a 502", t0 + 4s + 500ms);
  EXPECT_EQ(take(), strings{"firing api-success " + at(4s + 500ms)}) << "2 of 5";
}

// min_severity selects the numerator's events; the base (`of`) is every event it names.
TEST_F(kinds_test, ratio_min_severity_filters_the_numerator_not_the_base) {
  start(R"yaml(
rules:
  - name: api-errors
    match: { app: '^api$' }
    min_severity: err
    ratio: { of: { app: '^api$' }, window: 10s, above: 0.5, min_base: 4 }
)yaml");
  for (int i = 0; i < 6; ++i) feed("api1", "api", "GET /a 200", t0 + i * 100ms, 6);
  feed("api1", "api", "GET /a 500", t0 + 1s, 3);
  feed("api1", "api", "GET /a 500", t0 + 2s, 3);
  EXPECT_EQ(take(), strings{}) << "2 errors among 8 requests";
  EXPECT_EQ(counter("tocsin_rule_matches_total", "api-errors"), 2U);
  for (int i = 0; i < 5; ++i) feed("api1", "api", "GET /a 500", t0 + 3s + i * 100ms, 3);
  EXPECT_EQ(take(), strings{"firing api-errors " + at(3s + 400ms)}) << "7 of 13";
}

// A group whose buckets all emptied is forgotten; its history starts again with its next match.
TEST_F(kinds_test, spike_history_starts_again_after_a_group_is_forgotten) {
  start(rise_rules);
  for (int s = 0; s < 20; ++s) feed("web1", "nginx", "\" 500 ", t0 + s * 1s + 100ms);
  for (int s = 20; s < 60; ++s) tick(t0 + s * 1s + 500ms);  // silent: forgotten at second 39
  feed("web1", "nginx", "\" 500 ", t0 + 60s + 100ms);
  for (int k = 0; k < 10; ++k) feed("web1", "nginx", "\" 500 ", t0 + 70s + k * 10ms);
  EXPECT_EQ(take(), strings{}) << "10 against 1, but no whole previous window since second 60";
  for (int s = 71; s < 79; ++s) tick(t0 + s * 1s + 500ms);
  EXPECT_EQ(take(), strings{});
  tick(t0 + 79s + 500ms);
  EXPECT_EQ(take(), strings{"firing rise host=web1 " + at(79s)});
}

// ---------------------------------------------------------------------------------------------
// aggregate

TEST_F(kinds_test, aggregate_ignores_and_counts_values_that_are_no_numbers) {
  start(R"yaml(
rules:
  - name: slow
    match: { app: '^nginx$', message: 'rt=(?P<rt>\S+)' }
    aggregate: { value: rt, function: avg, window: 10s, above: 2, group_by: [host] }
)yaml");
  feed("web1", "nginx", "GET / 200 rt=1.000", t0);
  feed("web1", "nginx", "GET / 200 rt=-", t0 + 1s);
  feed("web1", "nginx", "GET / 200 rt=nan", t0 + 2s);
  feed("web1", "nginx", "GET / 200 rt=1e999", t0 + 3s);
  feed("web1", "nginx", "GET / 200 rt=1e308", t0 + 3s);  // twice would make the sum infinite
  feed("web1", "nginx", "GET / 200 rt=2.5", t0 + 4s);
  EXPECT_EQ(take(), strings{}) << "avg 1.75; the four non-numbers would have made it NaN/inf";
  EXPECT_EQ(counter("tocsin_rule_value_errors_total", "slow"), 4U);
  EXPECT_EQ(counter("tocsin_rule_matches_total", "slow"), 2U);
  feed("web1", "nginx", "GET / 200 rt=3.5", t0 + 5s);
  EXPECT_EQ(take(), strings{"firing slow host=web1 " + at(5s)}) << "avg 7/3";
  // The 1.000 of second 0 leaves at second 10 (avg 3), the 2.5 at 14 (3.5), the 3.5 at 15:
  // it held last at second 14.
  tick(t0 + 15s);
  EXPECT_EQ(take(), strings{});
  tick(t0 + 23s + 999ms);
  EXPECT_EQ(take(), strings{});
  tick(t0 + 24s);
  EXPECT_EQ(take(), strings{"resolved slow host=web1 " + at(5s) + ".." + at(24s)});
}

// ---------------------------------------------------------------------------------------------
// templates

// {{value}}, {{previous}}, {{base}} and {{count}} as they stand when the alert fires.
TEST_F(kinds_test, annotations_show_the_windows_numbers) {
  start(R"yaml(
rules:
  - name: rise
    match: { message: '" 5\d\d ' }
    spike: { window: 10s, ratio: 3, min_count: 9 }
    annotations: { summary: '{{count}} 5xx against {{previous}}: x{{value}} on {{host}}' }
  - name: share
    match: { severity: '^err$' }
    ratio: { of: { app: '^api$' }, window: 10s, above: 0.5, min_base: 4 }
    annotations: { summary: '{{count}} of {{base}} = {{value}}' }
  - name: users
    match: { message: 'for (?P<user>\S+) from' }
    cardinality: { field: user, max: 2, window: 10s }
    annotations: { summary: '{{value}} users, last {{user}}' }
  - name: slow
    match: { message: 'rt=(?P<rt>\S+)' }
    aggregate: { value: rt, function: avg, window: 10s, above: 1 }
    annotations: { summary: 'avg {{value}} s, last {{rt}}' }
)yaml");
  const auto summaries = [&] {
    std::vector<std::string> s;
    for (const alert& a : out_) s.push_back(a.annotations.at("summary"));
    out_.clear();
    return s;
  };
  for (int s = 0; s < 20; ++s) feed("web1", "nginx", "\" 500 ", t0 + s * 1s);
  for (int k = 0; k < 30; ++k) feed("web2", "nginx", "\" 502 ", t0 + 20s + k * 10ms);
  EXPECT_EQ(summaries(), strings{"30 5xx against 10: x3 on web2"});

  feed("api1", "api", "GET / 200", t0 + 21s);
  for (int k = 0; k < 3; ++k) feed("api1", "api", "GET / 500", t0 + 22s, 3);
  EXPECT_EQ(summaries(), strings{"3 of 4 = 0.75"});

  for (const char* user : {"root", "admin", "oracle"}) {
    feed("bastion", "sshd", std::string("Failed password for ") + user + " from 10.0.0.1",
         t0 + 23s);
  }
  EXPECT_EQ(summaries(), strings{"3 users, last oracle"});

  feed("web1", "nginx", "GET / rt=0.5", t0 + 24s);
  feed("web1", "nginx", "GET / rt=2.0", t0 + 24s);
  EXPECT_EQ(summaries(), strings{"avg 1.25 s, last 2.0"});
}

// ---------------------------------------------------------------------------------------------
// reload

// A reload keeps the windows of an unchanged rule and drops those of a changed one.
TEST_F(kinds_test, reload_keeps_unchanged_windows_and_drops_changed_ones) {
  start(api_error_rules);
  for (int i = 0; i < 3; ++i) feed("api1", "api", "GET / 500", t0 + i * 1s, 3);
  EXPECT_EQ(take(), strings{}) << "base 3 < 4";
  engine_->replace_rules(rules_from(R"yaml(
rules:
  - name: api-errors
    match: { severity: '^err$' }
    ratio: { of: { app: '^api$' }, window: 10s, above: 0.5, min_base: 5 }
  - name: api-errors-kept
    match: { severity: '^err$' }
    ratio: { of: { app: '^api$' }, window: 10s, above: 0.5, min_base: 4 }
)yaml"));
  feed("api1", "api", "GET / 500", t0 + 3s, 3);
  EXPECT_EQ(take(), strings{"firing api-errors-kept " + at(3s)}) << "4 of 4 kept";
  feed("api1", "api", "GET / 500", t0 + 4s, 3);
  EXPECT_EQ(take(), strings{}) << "api-errors starts afresh: 2 of 2 < min_base 5";
  for (int i = 5; i < 8; ++i) feed("api1", "api", "GET / 500", t0 + i * 1s, 3);
  EXPECT_EQ(take(), strings{"firing api-errors " + at(7s)});
}

// ---------------------------------------------------------------------------------------------
// new_term

constexpr const char* sudo_rules = R"yaml(
rules:
  - name: new-sudo-user
    match: { app: '^sudo$', message: 'USER=(?P<target>\S+)' }
    new_term: { field: target, lookback: 1h, warmup: 10s, group_by: [host] }
    resolve_after: 1m
)yaml";

std::string sudo(std::string_view target) {
  return "alice : TTY=pts/0 ; PWD=/home/alice ; USER=" + std::string(target) + " ; COMMAND=/bin/ls";
}

engine_options with_state(const std::filesystem::path& dir) {
  engine_options o = quiet_options();
  o.state_dir = dir;
  return o;
}

TEST_F(kinds_test, new_term_fires_once_per_term_and_group_after_the_warm_up) {
  start(sudo_rules);
  tick(t0);  // the rule runs: the warm-up ends at t0 + 10 s
  feed("db1", "sudo", sudo("root"), t0 + 9s + 999ms);
  EXPECT_EQ(take(), strings{}) << "seen while warming up: only teaches";
  feed("db1", "sudo", sudo("root"), t0 + 20s);
  feed("db1", "sudo", sudo("postgres"), t0 + 21s);
  feed("db1", "sudo", sudo("postgres"), t0 + 22s);
  feed("db2", "sudo", sudo("root"), t0 + 23s);
  EXPECT_EQ(take(), (strings{"firing new-sudo-user host=db1 target=postgres " + at(21s),
                             "firing new-sudo-user host=db2 target=root " + at(23s)}));
  tick(t0 + 80s);
  EXPECT_EQ(take(), strings{});
  tick(t0 + 82s);
  EXPECT_EQ(take(),
            strings{"resolved new-sudo-user host=db1 target=postgres " + at(21s) + ".." + at(81s)});
  feed("db1", "sudo", sudo("postgres"), t0 + 90s);
  EXPECT_EQ(take(), strings{}) << "known within lookback";
  feed("db1", "sudo", sudo("postgres"), t0 + 90s + 1h);
  EXPECT_EQ(take(), strings{"firing new-sudo-user host=db1 target=postgres " + at(90s + 1h)})
      << "unseen for lookback: new again";
}

TEST_F(kinds_test, new_term_state_survives_a_restart_and_a_changed_pattern_starts_afresh) {
  const test::temp_dir dir("tocsin-kinds");
  start(sudo_rules, with_state(dir.path()));
  feed("db1", "sudo", sudo("alice"), t0);  // starts the warm-up, teaches
  feed("db1", "sudo", sudo("bob"), t0 + 20s);
  EXPECT_EQ(take(), strings{"firing new-sudo-user host=db1 target=bob " + at(20s)});
  engine_.reset();
  ASSERT_TRUE(std::filesystem::exists(dir.path() / "new_term" / "new-sudo-user.jsonl"));

  // The warm-up start is kept: at t0 + 12 s a fresh warm-up would still be teaching.
  start(sudo_rules, with_state(dir.path()));
  feed("db1", "sudo", sudo("alice"), t0 + 12s);
  feed("db1", "sudo", sudo("bob"), t0 + 12s);
  feed("db1", "sudo", sudo("carol"), t0 + 12s);
  EXPECT_EQ(take(), strings{"firing new-sudo-user host=db1 target=carol " + at(12s)});
  engine_.reset();

  // Another pattern is another rule: a warm-up again, then every term is news.
  const std::string changed = R"yaml(
rules:
  - name: new-sudo-user
    match: { app: '^sudo$', message: 'USER=(?P<target>\w+)' }
    new_term: { field: target, lookback: 1h, warmup: 10s, group_by: [host] }
    resolve_after: 1m
)yaml";
  start(changed, with_state(dir.path()));
  feed("db1", "sudo", sudo("dave"), t0 + 100s);
  EXPECT_EQ(take(), strings{}) << "warming up";
  feed("db1", "sudo", sudo("alice"), t0 + 110s);
  EXPECT_EQ(take(), strings{"firing new-sudo-user host=db1 target=alice " + at(110s)});
}

TEST_F(kinds_test, new_term_skips_a_torn_last_journal_line) {
  const test::temp_dir dir("tocsin-kinds");
  start(sudo_rules, with_state(dir.path()));
  feed("db1", "sudo", sudo("alice"), t0);
  feed("db1", "sudo", sudo("bob"), t0 + 1s);
  engine_.reset();
  const auto file = dir.path() / "new_term" / "new-sudo-user.jsonl";
  {
    std::ofstream torn(file, std::ios::app);
    torn << R"({"k":"alertname%FFnew-sudo-user%FFho)";  // a crash mid-line, no newline
  }
  start(sudo_rules, with_state(dir.path()));
  feed("db1", "sudo", sudo("alice"), t0 + 20s);
  feed("db1", "sudo", sudo("bob"), t0 + 20s);
  feed("db1", "sudo", sudo("carol"), t0 + 21s);
  EXPECT_EQ(take(), strings{"firing new-sudo-user host=db1 target=carol " + at(21s)});
  engine_.reset();
  // And the file is whole again.
  start(sudo_rules, with_state(dir.path()));
  feed("db1", "sudo", sudo("carol"), t0 + 30s);
  feed("db1", "sudo", sudo("erin"), t0 + 30s);
  EXPECT_EQ(take(), strings{"firing new-sudo-user host=db1 target=erin " + at(30s)});
}

// A reload that changes what the terms are not (severity, lookback) keeps the terms and the
// warm-up; one that changes the field's pattern forgets both.
TEST_F(kinds_test, new_term_reload_keeps_the_terms_unless_the_patterns_change) {
  start(sudo_rules);
  feed("db1", "sudo", sudo("root"), t0);  // warm-up until t0 + 10 s
  feed("db1", "sudo", sudo("bob"), t0 + 20s);
  EXPECT_EQ(take(), strings{"firing new-sudo-user host=db1 target=bob " + at(20s)});
  engine_->replace_rules(rules_from(R"yaml(
rules:
  - name: new-sudo-user
    match: { app: '^sudo$', message: 'USER=(?P<target>\S+)' }
    new_term: { field: target, lookback: 2h, warmup: 10s, group_by: [host] }
    severity: critical
    resolve_after: 1m
)yaml"));
  feed("db1", "sudo", sudo("root"), t0 + 30s);
  feed("db1", "sudo", sudo("bob"), t0 + 31s);
  feed("db1", "sudo", sudo("carol"), t0 + 32s);
  EXPECT_EQ(take(), strings{"firing new-sudo-user host=db1 target=carol " + at(32s)});
  engine_->replace_rules(rules_from(R"yaml(
rules:
  - name: new-sudo-user
    match: { app: '^sudo$', message: 'USER=(?P<target>[a-z]+)' }
    new_term: { field: target, lookback: 2h, warmup: 10s, group_by: [host] }
    resolve_after: 1m
)yaml"));
  feed("db1", "sudo", sudo("dave"), t0 + 40s);  // a new warm-up, until t0 + 50 s
  feed("db1", "sudo", sudo("root"), t0 + 50s);
  EXPECT_EQ(take(), strings{"firing new-sudo-user host=db1 target=root " + at(50s)});
}

TEST_F(kinds_test, new_term_cap_evicts_the_least_recently_seen_term) {
  engine_options o = quiet_options();
  o.max_terms_per_rule = 2;
  start(R"yaml(
rules:
  - name: new-user
    match: { app: '^sudo$', message: 'USER=(?P<target>\S+)' }
    new_term: { field: target, warmup: 0s }
)yaml",
        o);
  feed("db1", "sudo", sudo("a"), t0);
  feed("db1", "sudo", sudo("b"), t0 + 1s);
  feed("db1", "sudo", sudo("a"), t0 + 2s);  // a is the most recently seen now
  feed("db1", "sudo", sudo("c"), t0 + 3s);  // evicts b
  EXPECT_EQ(counter("tocsin_rule_terms_evicted_total", "new-user"), 1U);
  EXPECT_EQ(test::gauge_value(metrics_, "tocsin_rule_terms", {{"rule", "new-user"}}), 2);
  feed("db1", "sudo", sudo("a"), t0 + 4s);
  EXPECT_EQ(counter("tocsin_rule_terms_evicted_total", "new-user"), 1U);
  tick(t0 + 10min);                            // resolves b, c, a
  feed("db1", "sudo", sudo("b"), t0 + 10min);  // evicts c
  EXPECT_EQ(counter("tocsin_rule_terms_evicted_total", "new-user"), 2U);
  const auto alerts = take();
  ASSERT_EQ(alerts.size(), 7U) << testing::PrintToString(alerts);
  EXPECT_EQ(alerts[0], "firing new-user target=a " + at(0s));
  EXPECT_EQ(alerts[1], "firing new-user target=b " + at(1s));
  EXPECT_EQ(alerts[2], "firing new-user target=c " + at(3s));
  EXPECT_EQ(alerts[6], "firing new-user target=b " + at(10min)) << "b was forgotten: news again";
}

// The evictions counter counts every eviction, also those of a store a reload started afresh.
TEST_F(kinds_test, new_term_evictions_count_across_a_reload_that_starts_afresh) {
  engine_options o = quiet_options();
  o.max_terms_per_rule = 1;
  const auto rules = [](const char* pattern) {
    return std::string("rules:\n  - name: new-user\n    match: { app: '^sudo$', message: '") +
           pattern + "' }\n    new_term: { field: target, warmup: 0s }\n";
  };
  start(rules("USER=(?P<target>\\S+)"), o);
  feed("db1", "sudo", sudo("a"), t0);
  feed("db1", "sudo", sudo("b"), t0 + 1s);
  feed("db1", "sudo", sudo("c"), t0 + 2s);
  EXPECT_EQ(counter("tocsin_rule_terms_evicted_total", "new-user"), 2U);
  engine_->replace_rules(rules_from(rules("USER=(?P<target>\\w+)")));
  feed("db1", "sudo", sudo("d"), t0 + 3s);
  feed("db1", "sudo", sudo("e"), t0 + 4s);
  EXPECT_EQ(counter("tocsin_rule_terms_evicted_total", "new-user"), 3U);
}

TEST_F(kinds_test, new_term_match_without_its_field_is_counted_not_a_term) {
  start(R"yaml(
rules:
  - name: new-user
    match: { app: '^sudo$', message: '(USER=(?P<target>\S+))?' }
    new_term: { field: target, warmup: 0s }
)yaml");
  feed("db1", "sudo", "pam_unix(sudo:session): session closed", t0);
  EXPECT_EQ(take(), strings{});
  EXPECT_EQ(counter("tocsin_rule_value_errors_total", "new-user"), 1U);
}

}  // namespace
}  // namespace tocsin::rules
