// The rules end to end: `tocsin test-rules` replaying logs against the example rules (the events'
// own timestamps drive the clock), and `logger` → `tocsin run` → the alert file receiver.

#include <gtest/gtest.h>

#include <sstream>

#include "tests/integration/tocsin_daemon.hpp"

namespace tocsin::test {
namespace {

const std::filesystem::path example_config =
    std::filesystem::path(TOCSIN_SOURCE_DIR) / "config/examples/tocsin.yaml";

// A line of 2026-11-26 at `time` (HH:MM:SS), facility auth, severity info: rules windows run
// on these timestamps.
std::string line(const std::string& time, const std::string& host, const std::string& app,
                 const std::string& message) {
  return syslog_line(app, message,
                     {.pri = 38, .timestamp = "2026-11-26T" + time + "Z", .host = host});
}

std::string failed_login(const std::string& time, const std::string& app = "sshd",
                         const std::string& ip = "203.0.113.9") {
  return line(time, "web1", app, "Failed password for root from " + ip + " port 22 ssh2");
}

std::vector<json> test_rules(const std::string& input) {
  const auto r =
      run_command({tocsin_binary().string(), "test-rules", "-c", example_config.string()}, input);
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  std::vector<json> alerts;
  std::istringstream lines(r.stdout_text);
  for (std::string l; std::getline(lines, l);) alerts.push_back(json::parse(l));
  return alerts;
}

TEST(test_rules, ssh_bruteforce_fires_at_the_fifth_failure_within_a_minute) {
  std::string log;
  for (int s = 0; s < 5; ++s) log += failed_login("10:00:0" + std::to_string(s * 2));
  const auto alerts = test_rules(log);
  ASSERT_EQ(alerts.size(), 1U);
  const json& a = alerts[0];
  EXPECT_EQ(a["status"], "firing");
  EXPECT_EQ(a["labels"], json({{"alertname", "ssh-bruteforce"},
                               {"severity", "warning"},
                               {"host", "web1"},
                               {"src_ip", "203.0.113.9"},
                               {"team", "security"}}));
  EXPECT_EQ(a["annotations"]["summary"], "5 failed SSH logins for root from 203.0.113.9 on web1");
  EXPECT_EQ(a["startsAt"], "2026-11-26T10:00:08.000Z");
  EXPECT_EQ(a["fingerprint"].get<std::string>().size(), 16U);
}

TEST(test_rules, ssh_bruteforce_needs_count_window_and_app) {
  std::string four;
  for (int s = 0; s < 4; ++s) four += failed_login("10:00:0" + std::to_string(s));
  EXPECT_TRUE(test_rules(four).empty()) << "below count";

  std::string spread;  // five failures, but never five inside one minute
  for (int m = 0; m < 5; ++m) spread += failed_login("10:0" + std::to_string(m * 2) + ":00");
  EXPECT_TRUE(test_rules(spread).empty()) << "spread wider than the window";

  std::string other_app;
  for (int s = 0; s < 5; ++s) other_app += failed_login("10:00:0" + std::to_string(s), "sshd-x");
  EXPECT_TRUE(test_rules(other_app).empty()) << "app filter '^sshd$'";

  std::string two_sources;  // 3 + 2 from different addresses: two groups, neither reaches 5
  for (int s = 0; s < 3; ++s) two_sources += failed_login("10:00:0" + std::to_string(s));
  for (int s = 3; s < 5; ++s) {
    two_sources += failed_login("10:00:0" + std::to_string(s), "sshd", "198.51.100.7");
  }
  EXPECT_TRUE(test_rules(two_sources).empty()) << "group_by src_ip";
}

TEST(test_rules, plain_rules_fire_with_their_captures) {
  const auto alerts =
      test_rules(line("11:00:00", "db1", "kernel",
                      "Out of memory: Killed process 4242 (postgres) total-vm:1kB") +
                 line("11:00:01", "db1", "kernel",
                      "blk_update_request: I/O error, dev sda, sector 123456 op 0x0:(READ)") +
                 line("11:00:02", "db1", "postgres", "could not write: No space left on device") +
                 line("11:00:03", "db1", "postgres", "checkpoint complete"));
  ASSERT_EQ(alerts.size(), 3U);
  EXPECT_EQ(alerts[0]["labels"]["alertname"], "oom-kill");
  EXPECT_EQ(alerts[0]["labels"]["process"], "postgres");
  EXPECT_EQ(alerts[0]["labels"]["pid"], "4242");
  EXPECT_EQ(alerts[0]["annotations"]["summary"], "OOM killer ended postgres (pid 4242) on db1");
  EXPECT_EQ(alerts[1]["labels"]["alertname"], "kernel-io-error");
  EXPECT_EQ(alerts[1]["labels"]["device"], "sda");
  EXPECT_EQ(alerts[2]["labels"]["alertname"], "disk-full");
  EXPECT_EQ(alerts[2]["labels"]["severity"], "critical");
}

TEST(test_rules, a_service_that_stops_logging_fires_after_five_minutes) {
  const auto alerts = test_rules(
      line("12:00:00", "web2", "nginx", "GET / 200") + line("12:04:59", "web2", "cron", "tick") +
      line("12:05:01", "web2", "cron", "tick") + line("12:06:00", "web2", "nginx", "GET / 200"));
  ASSERT_EQ(alerts.size(), 2U);
  EXPECT_EQ(alerts[0]["labels"]["alertname"], "nginx-silent");
  EXPECT_EQ(alerts[0]["labels"]["host"], "web2");
  EXPECT_EQ(alerts[0]["status"], "firing");
  EXPECT_EQ(alerts[1]["status"], "resolved") << "the next nginx line resolves it";
}

TEST(tocsin_run, logger_line_becomes_an_alert_in_the_file_receiver) {
  daemon_options options;
  options.files["rules/disk.yaml"] =
      "rules:\n"
      "  - name: disk-full\n"
      "    match: { message: 'No space left on (?P<device>\\S+)' }\n"
      "    severity: critical\n"
      "    annotations: { summary: 'disk full on {{host}}' }\n";
  options.extra_config =
      "rules_files: [\"rules/*.yaml\"]\n"
      "route: { receiver: audit, group_by: ['...'], group_wait: 0s }\n"
      "receivers:\n"
      "  - { name: audit, file: { path: alerts.jsonl } }\n";
  tocsin_daemon daemon(options);
  const auto r = run_command({find_program("logger"), "-n", "127.0.0.1", "-P",
                              std::to_string(daemon.syslog_port()), "-T", "--rfc5424", "-t",
                              "postgres", "write failed: No space left on /dev/sdb1"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  const auto alerts_file = daemon.dir() / "alerts.jsonl";
  ASSERT_TRUE(wait_until([&] { return !read_json_lines(alerts_file).empty(); }, patience));
  const auto alerts = read_json_lines(alerts_file);
  ASSERT_EQ(alerts.size(), 1U);
  EXPECT_EQ(alerts[0]["labels"]["alertname"], "disk-full");
  EXPECT_EQ(alerts[0]["labels"]["device"], "/dev/sdb1");
  EXPECT_EQ(alerts[0]["status"], "firing");
  EXPECT_NE(alerts[0]["annotations"]["summary"].get<std::string>().find("disk full on "),
            std::string::npos);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(tocsin_run, sighup_with_a_broken_rule_keeps_the_old_rules_then_adds_a_new_one) {
  const std::string disk_rule =
      "rules:\n"
      "  - name: disk-full\n"
      "    match: { message: 'No space left' }\n";
  daemon_options options;
  options.files["rules/main.yaml"] = disk_rule;
  options.extra_config =
      "rules_files: [\"rules/*.yaml\"]\n"
      "route: { receiver: audit, group_by: ['...'], group_wait: 0s }\n"
      "receivers:\n"
      "  - { name: audit, file: { path: alerts.jsonl } }\n";
  tocsin_daemon daemon(options);
  const auto alerts_file = daemon.dir() / "alerts.jsonl";
  const auto send = [&](const std::string& host, const std::string& message) {
    tcp_client conn(daemon.syslog_port());
    ASSERT_TRUE(conn.send_all(line("10:00:00", host, "app", message)));
  };
  const auto alert_names = [&] {
    std::vector<std::string> names;
    for (const auto& a : read_json_lines(alerts_file)) names.push_back(a["labels"]["alertname"]);
    return names;
  };

  // A broken regex: refused, counted, and the old rule keeps matching.
  daemon.dir().write_file("rules/main.yaml", disk_rule +
                                                 "  - name: broken\n"
                                                 "    match: { message: 'unclosed (' }\n");
  daemon.signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] {
        return daemon.metric("tocsin_config_reloads_total", {{"result", "failure"}}) == 1;
      },
      patience));
  EXPECT_TRUE(daemon.running());
  send("h1", "No space left on device");
  ASSERT_TRUE(wait_until([&] { return alert_names().size() == 1; }, patience));
  EXPECT_EQ(alert_names()[0], "disk-full");

  // A valid addition: accepted, and the new rule fires without a restart.
  daemon.dir().write_file("rules/main.yaml", disk_rule +
                                                 "  - name: oom\n"
                                                 "    match: { message: 'Out of memory' }\n");
  daemon.signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] {
        return daemon.metric("tocsin_config_reloads_total", {{"result", "success"}}) == 1;
      },
      patience));
  send("h2", "Out of memory: Killed process 1 (x)");
  ASSERT_TRUE(wait_until([&] { return alert_names().size() == 2; }, patience));
  EXPECT_EQ(alert_names()[1], "oom");
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace tocsin::test
