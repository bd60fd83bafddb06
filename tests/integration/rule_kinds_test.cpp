// DESIGN.md's "More kinds" end to end: `tocsin test-rules` replays generated logs (nginx access
// lines, sshd, sudo, haproxy, an API's request log, as RFC 5424 syslog) whose timestamps drive
// the clock, and every kind must fire exactly where the numbers say and nowhere else.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/tocsin_daemon.hpp"
#include "tests/support/support.hpp"

namespace tocsin::test {
namespace {

using json = nlohmann::json;
using strings = std::vector<std::string>;

// Every log starts at 2026-11-26T10:00:00Z; times are milliseconds after it (within the day).
std::string clock_text(std::int64_t ms, const char* format) {
  const std::int64_t s = ms / 1000;
  char out[64];
  if (format[0] == 'c') {  // nginx's [26/Nov/2026:10:00:00 +0000]
    std::snprintf(out, sizeof out, "26/Nov/2026:%02d:%02d:%02d +0000",
                  static_cast<int>(10 + s / 3600), static_cast<int>(s / 60 % 60),
                  static_cast<int>(s % 60));
  } else {  // RFC 3339
    std::snprintf(out, sizeof out, "2026-11-26T%02d:%02d:%02d.%03dZ",
                  static_cast<int>(10 + s / 3600), static_cast<int>(s / 60 % 60),
                  static_cast<int>(s % 60), static_cast<int>(ms % 1000));
  }
  return out;
}

// The RFC 3339 time `ms` after 10:00:00, as alerts print it.
std::string at(std::int64_t ms) { return clock_text(ms, "rfc3339"); }
std::int64_t sec(double s) { return std::llround(s * 1000); }

// A log built out of order and replayed in time order (lines of one millisecond in the order
// they were added).
class log_generator {
 public:
  // One RFC 5424 line: "<PRI>1 TIME HOST APP PROCID - - MESSAGE".
  void add(std::int64_t ms, int pri, const std::string& host, const std::string& app,
           const std::string& procid, const std::string& message) {
    lines_.emplace_back(ms, "<" + std::to_string(pri) + ">1 " + at(ms) + " " + host + " " + app +
                                " " + procid + " - - " + message + "\n");
  }

  // nginx's combined format plus rt=$request_time, through syslog (local7.info).
  void nginx(std::int64_t ms, const std::string& host, int status, const std::string& rt = "0.004",
             const std::string& path = "/api/orders") {
    add(ms, 190, host, "nginx", "-",
        "203.0.113.7 - - [" + clock_text(ms, "clf") + "] \"GET " + path + " HTTP/1.1\" " +
            std::to_string(status) + " 162 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" rt=" + rt);
  }

  // sshd's failures (auth.info).
  void ssh_failure(std::int64_t ms, const std::string& user, const std::string& ip,
                   bool invalid = false) {
    add(ms, 38, "bastion", "sshd", "2231",
        "Failed password for " + std::string(invalid ? "invalid user " : "") + user + " from " +
            ip + " port " + std::to_string(40000 + ms % 20000) + " ssh2");
  }
  void ssh_accepted(std::int64_t ms) {
    add(ms, 38, "bastion", "sshd", "2240",
        "Accepted publickey for deploy from 10.0.0.5 port 50022 ssh2: ED25519 "
        "SHA256:Zq8kYvC2Nn0cJ1sV7m3bJk4cQeQ1y4r6V0t3Pq9wXyE");
  }

  // sudo's command log (authpriv.notice).
  void sudo(std::int64_t ms, const std::string& host, const std::string& target) {
    add(ms, 85, host, "sudo", "-",
        "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=" + target +
            " ; COMMAND=/usr/bin/systemctl restart nginx");
  }
  void sudo_session(std::int64_t ms, const std::string& host) {
    add(ms, 86, host, "sudo", "-", "pam_unix(sudo:session): session closed for user root");
  }

  // postgres (local0.info): lines no rule here matches, to move the clock.
  void postgres(std::int64_t ms, const std::string& host) {
    add(ms, 134, host, "postgres", "1187",
        "LOG:  checkpoint complete: wrote 12 buffers (0.1%); 0 WAL file(s) added");
  }

  // haproxy's HTTP log (local0.info).
  void haproxy(std::int64_t ms, const std::string& server) {
    add(ms, 134, "lb1", "haproxy", "912",
        "10.0.0.9:51234 [" + clock_text(ms, "clf") + "] fe_api be_api/" + server +
            " 0/0/1/12/13 200 512 - - ---- 3/3/0/0/0 0/0 \"GET /health HTTP/1.1\"");
  }

  // An API's request log (user.info; errors at user.err).
  void api(std::int64_t ms, int status) {
    add(ms, status >= 500 ? 11 : 14, "api1", "api", "77",
        "method=GET path=/v1/orders status=" + std::to_string(status) + " duration_ms=12");
  }

  [[nodiscard]] std::string text() {
    std::stable_sort(lines_.begin(), lines_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out;
    for (const auto& [ms, line] : lines_) out += line;
    return out;
  }

 private:
  std::vector<std::pair<std::int64_t, std::string>> lines_;
};

// `tocsin test-rules` over `log` with `rules_yaml`: the alerts' state changes in order, each
// "firing NAME LABEL=VALUE... STARTS" or "resolved NAME LABEL=VALUE... STARTS..ENDS" (labels
// other than alertname and severity, sorted). Re-sends (a firing alert again with the same
// fingerprint and startsAt) are left out.
strings replay(const std::string& rules_yaml, const std::string& log) {
  const temp_dir dir("rule-kinds");
  dir.write_file("rules.yaml", rules_yaml);
  const auto config = dir.write_file("tocsin.yaml", "rules_files: [rules.yaml]\n");
  const auto r = run_command({tocsin_binary().string(), "test-rules", "-c", config.string()}, log);
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stderr_text, "") << "every generated line decodes";
  strings out;
  std::set<std::string> sent;
  std::istringstream lines(r.stdout_text);
  for (std::string l; std::getline(lines, l);) {
    const json a = json::parse(l);
    const std::string status = a.at("status");
    const std::string starts = a.at("startsAt");
    if (status == "firing" &&
        !sent.insert(a.at("fingerprint").get<std::string>() + starts).second) {
      continue;  // a re-send
    }
    std::string s = status + " " + a.at("labels").at("alertname").get<std::string>();
    for (const auto& [name, value] : a.at("labels").items()) {
      if (name != "alertname" && name != "severity")
        s += " " + name + "=" + value.get<std::string>();
    }
    s += " " + starts;
    if (status == "resolved") s += ".." + a.at("endsAt").get<std::string>();
    out.push_back(std::move(s));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// spike

constexpr const char* rise_rules = R"yaml(
rules:
  - name: nginx-5xx-spike
    match: { app: '^nginx$', message: '" 5\d\d ' }
    spike: { window: 10s, ratio: 3, min_count: 9, group_by: [host] }
)yaml";

// web1: one 5xx a second for 30 s, then three a second. At the third 5xx of second 39 the
// current window holds 30 against 10 before it: the first time >= 3 × previous. web2 stays at
// one a second; web3 goes from 1 to 3, which min_count 9 keeps quiet. True at second 39 only
// (the previous window fills with the burst), so resolved a window later.
TEST(rule_kinds, spike_rise_fires_on_the_host_that_tripled_at_the_exact_match) {
  log_generator log;
  for (int s = 0; s < 60; ++s) {
    const std::int64_t t = sec(s);
    if (s < 30) log.nginx(t + 100, "web1", 503);
    if (s >= 30 && s < 45) {
      for (const int ms : {100, 400, 700}) log.nginx(t + ms, "web1", 502);
    }
    log.nginx(t + 250, "web1", 200);
    log.nginx(t + 50, "web2", 500);
  }
  log.nginx(sec(0.3), "web3", 500);
  for (const double s : {12.3, 14.3, 16.3}) log.nginx(sec(s), "web3", 504);
  EXPECT_EQ(replay(rise_rules, log.text()),
            (strings{"firing nginx-5xx-spike host=web1 " + at(sec(39.7)),
                     "resolved nginx-5xx-spike host=web1 " + at(sec(39.7)) + ".." + at(sec(49))}));
}

// web4's first 5xx is at second 20; ten at second 32 hold on the counts (10 against 1), but the
// previous window lies wholly inside web4's history only from second 39 (tick()'s evaluation,
// at the start of the second). At 40 the previous window is empty: a window later, resolved.
TEST(rule_kinds, spike_needs_a_whole_previous_window_of_history) {
  log_generator log;
  for (int s = 0; s < 60; ++s) log.nginx(sec(s) + 50, "web2", 200);
  log.nginx(sec(20.3), "web4", 500);
  for (int k = 0; k < 10; ++k) log.nginx(sec(32.3) + k, "web4", 500);
  EXPECT_EQ(replay(rise_rules, log.text()),
            (strings{"firing nginx-5xx-spike host=web4 " + at(sec(39)),
                     "resolved nginx-5xx-spike host=web4 " + at(sec(39)) + ".." + at(sec(49))}));
}

// web1 serves two requests a second, then none from second 30: at second 37 its window holds 4
// <= 0.2 × 20, and fires with no web1 line at all. The previous window keeps >= min_count 10
// until second 44, so it resolves at 54. web3's previous window (one every 2 s) is below
// min_count; web2 keeps its pace.
TEST(rule_kinds, spike_drop_fires_in_silence_when_the_previous_window_had_min_count) {
  log_generator log;
  for (int s = 0; s < 70; ++s) {
    const std::int64_t t = sec(s);
    if (s < 30) {
      log.nginx(t + 100, "web1", 200);
      log.nginx(t + 600, "web1", 200, "0.004", "/api/cart");
    }
    if (s < 30 && s % 2 == 0) log.nginx(t + 300, "web3", 200);
    log.nginx(t + 50, "web2", 200);
  }
  EXPECT_EQ(replay(R"yaml(
rules:
  - name: nginx-traffic-drop
    match: { app: '^nginx$' }
    spike: { window: 10s, ratio: 0.2, min_count: 10, group_by: [host] }
)yaml",
                   log.text()),
            (strings{"firing nginx-traffic-drop host=web1 " + at(sec(37)),
                     "resolved nginx-traffic-drop host=web1 " + at(sec(37)) + ".." + at(sec(54))}));
}

// ---------------------------------------------------------------------------------------------
// new_term

TEST(rule_kinds, new_term_learns_during_the_warm_up_then_fires_per_term_and_host) {
  log_generator log;
  log.sudo(sec(0), "db1", "root");  // the rule's first run: warm-up until 10:01:00
  log.sudo(sec(30), "db1", "postgres");
  log.sudo(sec(30), "db2", "root");
  log.sudo_session(sec(31), "db1");
  log.sudo(sec(90), "db1", "root");     // known
  log.sudo(sec(100), "db1", "backup");  // new
  log.sudo(sec(110), "db1", "backup");
  log.sudo(sec(120), "db2", "postgres");     // new on db2, though db1 knows it
  log.postgres(sec(400.5), "db1");           // resolve_after 5m: backup at 10:06:40
  log.postgres(sec(430), "db1");             // and db2's postgres at 10:07:00
  log.sudo(sec(3700), "db1", "backup");      // seen at 110: 3590 s ago, within lookback
  log.sudo(sec(3700.5), "db1", "postgres");  // seen at 30: 3670 s ago, beyond it
  log.postgres(sec(4001), "db1");
  EXPECT_EQ(
      replay(R"yaml(
rules:
  - name: new-sudo-target
    match: { app: '^sudo$', message: 'USER=(?P<target>\S+) ; COMMAND=' }
    new_term: { field: target, lookback: 1h, warmup: 1m, group_by: [host] }
    resolve_after: 5m
)yaml",
             log.text()),
      (strings{
          "firing new-sudo-target host=db1 target=backup " + at(sec(100)),
          "firing new-sudo-target host=db2 target=postgres " + at(sec(120)),
          "resolved new-sudo-target host=db1 target=backup " + at(sec(100)) + ".." + at(sec(400)),
          "resolved new-sudo-target host=db2 target=postgres " + at(sec(120)) + ".." + at(sec(420)),
          "firing new-sudo-target host=db1 target=postgres " + at(sec(3700.5)),
          "resolved new-sudo-target host=db1 target=postgres " + at(sec(3700.5)) + ".." +
              at(sec(4000.5)),
      }));
}

// ---------------------------------------------------------------------------------------------
// cardinality

// 198.51.100.23 tries admin, oracle, test (twice), ubuntu: the fourth distinct user (max 3) fires.
// 203.0.113.50 tries root five times, admin and oracle: three, not above max. admin leaves the
// 1 min window at second 60, so it held last at 59 and resolves at 119.
TEST(rule_kinds, cardinality_fires_at_the_distinct_value_beyond_max_and_expires) {
  log_generator log;
  log.ssh_failure(sec(0.2), "admin", "198.51.100.23", true);
  log.ssh_failure(sec(5.2), "oracle", "198.51.100.23", true);
  log.ssh_failure(sec(10.2), "test", "198.51.100.23", true);
  log.ssh_failure(sec(12.2), "test", "198.51.100.23", true);
  log.ssh_failure(sec(20.5), "ubuntu", "198.51.100.23", true);
  for (const double s : {1.0, 2.0, 3.0, 4.0, 6.0}) log.ssh_failure(sec(s), "root", "203.0.113.50");
  log.ssh_failure(sec(7), "admin", "203.0.113.50", true);
  log.ssh_failure(sec(8), "oracle", "203.0.113.50", true);
  for (const double s : {70.0, 118.9, 119.5, 125.0}) log.ssh_accepted(sec(s));
  EXPECT_EQ(replay(R"yaml(
rules:
  - name: many-users-one-ip
    match: { app: '^sshd$', message: 'Failed password for (invalid user )?(?P<user>\S+) from (?P<ip>[0-9.]+)' }
    cardinality: { field: user, max: 3, window: 1m, group_by: [ip] }
)yaml",
                   log.text()),
            (strings{"firing many-users-one-ip ip=198.51.100.23 " + at(sec(20.5)),
                     "resolved many-users-one-ip ip=198.51.100.23 " + at(sec(20.5)) + ".." +
                         at(sec(119))}));
}

// min: fewer than 3 backend servers answering within 10 s. The group's first lines are one
// server, then two, but `min` waits for a whole window of history, so start-up does not fire;
// api3 falls silent after second 29, so from second 39 two remain; it is back at 50.3, so it
// held last at 50.
TEST(rule_kinds, cardinality_min_fires_when_values_go_missing) {
  log_generator log;
  for (int s = 0; s < 70; ++s) {
    log.haproxy(sec(s) + 100, "api1");
    log.haproxy(sec(s) + 200, "api2");
    if (s < 30 || s >= 50) log.haproxy(sec(s) + 300, "api3");
  }
  EXPECT_EQ(replay(R"yaml(
rules:
  - name: api-backends-missing
    match: { app: '^haproxy$', message: ' be_api/(?P<server>\w+) ' }
    cardinality: { field: server, min: 3, window: 10s }
)yaml",
                   log.text()),
            (strings{"firing api-backends-missing " + at(sec(39)),
                     "resolved api-backends-missing " + at(sec(39)) + ".." + at(sec(60))}));
}

// ---------------------------------------------------------------------------------------------
// aggregate

// One request a second at 0.1 s, one of 3 s at second 20: the 10 s window's p99 is 3 > 2.5 at
// that very line; it leaves at 30, so resolved at 39. web2's steady 2 s never crosses 2.5.
TEST(rule_kinds, aggregate_p99_fires_when_the_window_crosses) {
  log_generator log;
  for (int s = 0; s < 45; ++s) {
    log.nginx(sec(s) + 100, "web1", 200, s == 20 ? "3.000" : "0.100");
    log.nginx(sec(s) + 150, "web2", 200, "2.000");
  }
  EXPECT_EQ(replay(R"yaml(
rules:
  - name: slow-requests
    match: { app: '^nginx$', message: ' rt=(?P<rt>\S+)' }
    aggregate: { value: rt, function: p99, window: 10s, above: 2.5, group_by: [host] }
)yaml",
                   log.text()),
            (strings{"firing slow-requests host=web1 " + at(sec(20.1)),
                     "resolved slow-requests host=web1 " + at(sec(20.1)) + ".." + at(sec(39))}));
}

// 0.5 s a second, with an "rt=-" line every second (no number: ignored, not 0). Five 2 s
// requests at second 30: (9 × 0.5 + 5 × 2) / 14 > 1 at the fifth, not the fourth (had the "-"
// lines counted as 0, not even the fifth). The 2 s ones leave at 40: resolved at 49.
TEST(rule_kinds, aggregate_avg_fires_at_the_exact_line_and_ignores_values_that_are_no_numbers) {
  log_generator log;
  for (int s = 0; s < 55; ++s) {
    if (s == 30) {
      for (int k = 1; k <= 5; ++k) log.nginx(sec(s) + k * 100, "web2", 200, "2.000");
    } else {
      log.nginx(sec(s) + 100, "web2", 200, "0.500");
    }
    log.nginx(sec(s) + 600, "web2", 304, "-");
  }
  EXPECT_EQ(replay(R"yaml(
rules:
  - name: slow-on-average
    match: { app: '^nginx$', message: ' rt=(?P<rt>\S+)' }
    aggregate: { value: rt, function: avg, window: 10s, above: 1, group_by: [host] }
)yaml",
                   log.text()),
            (strings{"firing slow-on-average host=web2 " + at(sec(30.5)),
                     "resolved slow-on-average host=web2 " + at(sec(30.5)) + ".." + at(sec(49))}));
}

TEST(rule_kinds, aggregate_max_fires_on_one_slow_request) {
  log_generator log;
  for (int s = 0; s < 65; ++s) log.nginx(sec(s) + 100, "web3", 200, "0.200");
  log.nginx(sec(40.2), "web3", 200, "7.500");
  EXPECT_EQ(replay(R"yaml(
rules:
  - name: slowest-request
    match: { app: '^nginx$', message: ' rt=(?P<rt>[0-9.]+)' }
    aggregate: { value: rt, function: max, window: 10s, above: 5, group_by: [host] }
)yaml",
                   log.text()),
            (strings{"firing slowest-request host=web3 " + at(sec(40.2)),
                     "resolved slowest-request host=web3 " + at(sec(40.2)) + ".." + at(sec(59))}));
}

// ---------------------------------------------------------------------------------------------
// ratio

// Seconds 0-3: four 500s, a share of 1 but a base of 4 < min_base 10. Seconds 20-39: two 200s a
// second (the worker's 500s are not API requests: in neither count). Seconds 40-49: a 500 after
// every two 200s. At the start of second 45 the window (36-44) holds 5 errors among 23 > 0.2;
// at second 44 it was 5 of 25. From 50 no errors: the share is above 0.2 through second 54, so
// resolved at 64.
TEST(rule_kinds, ratio_fires_on_the_share_of_errors_among_requests_with_min_base) {
  log_generator log;
  for (int s = 0; s < 4; ++s) log.api(sec(s) + 100, 500);
  for (int s = 20; s < 70; ++s) {
    const std::int64_t t = sec(s);
    log.api(t + 100, 200);
    log.api(t + 400, 200);
    if (s >= 40 && s < 50) log.api(t + 700, 503);
    log.add(t + 200, 11, "api1", "worker", "78", "job=reindex status=500 attempt=3");
    log.add(t + 800, 14, "api1", "api", "77", "pool: 12 connections to db1");
  }
  EXPECT_EQ(replay(R"yaml(
rules:
  - name: api-error-ratio
    match: { app: '^(api|worker)$', message: ' status=5\d\d ' }
    ratio: { of: { app: '^api$', message: ' status=\d{3} ' }, window: 10s, above: 0.2, min_base: 10 }
)yaml",
                   log.text()),
            (strings{"firing api-error-ratio " + at(sec(45)),
                     "resolved api-error-ratio " + at(sec(45)) + ".." + at(sec(64))}));
}

// ---------------------------------------------------------------------------------------------
// tocsin run

// The daemon counts an aggregate's values that are no numbers, and keeps new_term's terms (and
// the warm-up's start) in data_dir.
TEST(rule_kinds_run, value_errors_are_counted_and_terms_persist_in_data_dir) {
  daemon_options options;
  options.files["rules/kinds.yaml"] =
      "rules:\n"
      "  - name: slow-requests\n"
      "    match: { app: '^nginx$', message: ' rt=(?P<rt>\\S+)$' }\n"
      "    aggregate: { value: rt, function: p99, window: 5m, above: 2.5, group_by: [host] }\n"
      "  - name: new-sudo-target\n"
      "    match: { app: '^sudo$', message: 'USER=(?P<target>\\S+) ; COMMAND=' }\n"
      "    new_term: { field: target, lookback: 30d, warmup: 1h, group_by: [host] }\n";
  options.extra_config = "rules_files: [\"rules/*.yaml\"]\n";
  tocsin_daemon daemon(options);
  const auto send = [&](const std::string& app, const std::string& message) {
    ASSERT_TRUE(send_udp(daemon.syslog_port(), syslog_line(app, message, {.host = "web1"})));
  };
  send("nginx", "\"GET / HTTP/1.1\" 200 12 \"-\" \"curl/8.5.0\" rt=0.004");
  send("nginx", "\"GET / HTTP/1.1\" 304 0 \"-\" \"curl/8.5.0\" rt=-");
  send("nginx", "\"GET / HTTP/1.1\" 499 0 \"-\" \"curl/8.5.0\" rt=");
  send("nginx", "\"GET / HTTP/1.1\" 200 0 \"-\" \"curl/8.5.0\" rt=0x1p3");
  send("sudo", "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls");
  EXPECT_TRUE(daemon.wait_for_metric("tocsin_rule_value_errors_total", {{"rule", "slow-requests"}},
                                     [](double v) { return v == 2; }))
      << "rt=- and rt=0x1p3 (the empty rt= does not match \\S+)";
  EXPECT_TRUE(daemon.wait_for_metric("tocsin_rule_matches_total", {{"rule", "slow-requests"}},
                                     [](double v) { return v == 1; }));
  EXPECT_TRUE(daemon.wait_for_metric("tocsin_rule_matches_total", {{"rule", "new-sudo-target"}},
                                     [](double v) { return v == 1; }));
  const auto terms = daemon.dir() / "lib" / "rules" / "new_term" / "new-sudo-target.jsonl";
  EXPECT_TRUE(wait_until(
      [&] {
        std::ifstream in(terms);
        std::string header, line;
        std::getline(in, header);
        std::getline(in, line);
        return header.find("\"warmup_started\":") != std::string::npos &&
               line.find("target%FFroot") != std::string::npos;
      },
      patience))
      << terms;
  EXPECT_EQ(daemon.stop(), 0);
}

// ---------------------------------------------------------------------------------------------
// check-config

command_result check_config(const temp_dir& dir, const std::string& rules_yaml) {
  dir.write_file("rules.yaml", rules_yaml);
  const auto config = dir.write_file("tocsin.yaml", "rules_files: [rules.yaml]\n");
  return run_command({tocsin_binary().string(), "check-config", "-c", config.string()});
}

TEST(rule_kinds, check_config_takes_the_design_examples_and_names_each_mistake) {
  const temp_dir dir("rule-kinds");
  const auto ok = check_config(dir, R"yaml(
rules:
  - name: 5xx-spike              # this window against the previous one
    match: { app: '^nginx$', message: '" 5\d\d ' }
    spike: { window: 5m, ratio: 3, min_count: 20, group_by: [host] }
  - name: new-sudo-user
    match: { app: '^sudo$', message: 'USER=(?P<target>\S+)' }
    new_term: { field: target, lookback: 30d, warmup: 1h, group_by: [host] }
  - name: many-users-one-ip
    match: { app: '^sshd$', message: 'for (?P<user>\S+) from (?P<ip>[0-9.]+)' }
    cardinality: { field: user, max: 10, window: 10m, group_by: [ip] }
  - name: slow-requests
    match: { app: '^nginx$', message: 'rt=(?P<rt>[0-9.]+)' }
    aggregate: { value: rt, function: p99, window: 5m, above: 2.5, group_by: [host] }
  - name: error-ratio
    match: { app: '^api$', severity: '^(err|crit)$' }
    ratio: { of: { app: '^api$' }, window: 5m, above: 0.05, min_base: 100 }
)yaml");
  EXPECT_EQ(ok.exit_code, 0) << ok.stdout_text << ok.stderr_text;

  const auto bad = check_config(dir, R"yaml(
rules:
  - name: a
    match: { app: '^nginx$', message: 'rt=(?P<rt>[0-9.]+)' }
    aggregate: { value: rtt, function: median, window: 1500ms, above: 2.5 }
)yaml");
  EXPECT_EQ(bad.exit_code, 1);
  const std::string file = (dir / "rules.yaml").string();
  EXPECT_EQ(bad.stderr_text,
            file +
                ":5:25: rules[0].aggregate.value: unknown field 'rtt'; the value is a named group "
                "(?P<name>...) of the rule's patterns or an event field; did you mean 'rt'?\n" +
                file +
                ":5:40: rules[0].aggregate.function: unknown function 'median'; expected avg, "
                "min, max, sum or pNN (p50, p99, p99.9)\n" +
                file +
                ":5:56: rules[0].aggregate.window: windows slide in 1 s buckets: give whole "
                "seconds (30s, 5m, 1h30m), got '1500ms'\n");
}

}  // namespace
}  // namespace tocsin::test
