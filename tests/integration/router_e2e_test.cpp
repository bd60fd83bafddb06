// The router end to end: a syslog line → `tocsin run` → its rules → the router → what real peers
// received: HTTP capture servers playing Slack and a webhook, aiosmtpd for email, the real
// amtool against tocsin's Alertmanager API, and a real Alertmanager as a receiver. Also the
// worker's retries and dead letters, and a kill -9 between an alert and its group's flush.

#include <gtest/gtest.h>

#include "tests/integration/tocsin_daemon.hpp"
#include "tests/support/http_capture.hpp"

namespace tocsin::test {
namespace {

namespace fs = std::filesystem;

// How long "nothing more arrives" is watched for where only time can show it: past a
// group_interval or group_wait, when the flush that would send a duplicate has run.
constexpr auto quiet_period = 2500ms;

// The lines' header: facility user, severity error, host e2e-host (and the timestamp now).
const syslog_header e2e_host{.pri = 11, .host = "e2e-host"};

const std::string disk_full_message = "write failed: No space left on device";

// disk-full as in config/examples/rules/example.yaml, plus two rules the tests need: one whose
// capture makes every line its own alert, and an unrelated one.
const std::string rules_yaml =
    "rules:\n"
    "  - name: disk-full\n"
    "    match: { message: 'No space left on device' }\n"
    "    severity: critical\n"
    "    annotations: { summary: 'disk full on {{host}}: {{message}}' }\n"
    "  - name: burst\n"
    "    match: { message: 'burst (?P<n>[0-9]+)' }\n"
    "    severity: warning\n"
    "  - name: oom-kill\n"
    "    match: { message: 'Out of memory: Killed process (?P<pid>\\d+)' }\n"
    "    severity: critical\n"
    "  - name: reject\n"
    "    match: { message: 'reject me' }\n"
    "    severity: warning\n";

daemon_options router_options(const std::string& route_and_receivers) {
  daemon_options options;
  options.files["rules/e2e.yaml"] = rules_yaml;
  options.extra_config = "rules_files: [\"rules/*.yaml\"]\n" + route_and_receivers;
  return options;
}

void send_lines(const tocsin_daemon& daemon, const std::string& lines) {
  tcp_client conn(daemon.syslog_port());
  ASSERT_TRUE(conn.is_open());
  ASSERT_TRUE(conn.send_all(lines));
}

json parse_body(const http_capture::request& r) {
  const json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(body.is_discarded()) << "not JSON: " << r.body;
  return body;
}

// j[outer][inner] when it is a string, else "".
std::string nested_text(const json& j, const char* outer, const char* inner) {
  if (!j.is_object() || !j.contains(outer) || !j[outer].is_object()) return {};
  const json& o = j[outer];
  return o.contains(inner) && o[inner].is_string() ? o[inner].get<std::string>() : std::string();
}

// The alert names GET /api/v2/alerts lists with state `state` (any state when empty).
std::set<std::string> api_alert_names(const tocsin_daemon& daemon, const std::string& state = {}) {
  const auto r = http_get("127.0.0.1", daemon.admin_port(), "/api/v2/alerts", 5s);
  std::set<std::string> names;
  const json alerts = json::parse(r.body, nullptr, false);
  if (r.status != 200 || !alerts.is_array()) return names;
  for (const json& a : alerts) {
    if (!state.empty() && nested_text(a, "status", "state") != state) continue;
    names.insert(nested_text(a, "labels", "alertname"));
  }
  return names;
}

fs::path amtool() { return find_program("amtool"); }

command_result run_amtool(std::uint16_t port, std::vector<std::string> args) {
  std::vector<std::string> argv = {amtool().string(),
                                   "--alertmanager.url=http://127.0.0.1:" + std::to_string(port)};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, {}, {}, 20s);
}

// 1. One line, three receivers on `continue: true` routes: each peer gets exactly one message.
TEST(router_e2e, one_line_reaches_slack_email_and_webhook_exactly_once) {
  http_capture slack, hook;
  smtp_server smtp;
  tocsin_daemon daemon(router_options(
      "route:\n"
      "  receiver: discard\n"
      "  group_by: [alertname]\n"
      "  group_wait: 0s\n"
      "  group_interval: 1s\n"
      "  routes:\n"
      "    - { receiver: slack, matchers: ['alertname=\"disk-full\"'], continue: true }\n"
      "    - { receiver: mail, matchers: ['alertname=\"disk-full\"'], continue: true }\n"
      "    - { receiver: hook, matchers: ['alertname=\"disk-full\"'] }\n"
      "receivers:\n"
      "  - { name: discard }\n"
      "  - { name: slack, slack: { webhook_url: \"" +
      slack.url("/services/T0/B0/x") +
      "\" } }\n"
      "  - name: mail\n"
      "    email: { smarthost: \"127.0.0.1:" +
      std::to_string(smtp.port()) +
      "\", from: alerts@example.com, to: [ops@example.com], require_tls: false }\n"
      "  - { name: hook, webhook: { url: \"" +
      hook.url("/hook") + "\" } }\n"));

  send_lines(daemon, syslog_line("postgres", disk_full_message, e2e_host));

  ASSERT_TRUE(slack.wait_for(1, patience)) << "no Slack POST";
  ASSERT_TRUE(hook.wait_for(1, patience)) << "no webhook POST";
  ASSERT_TRUE(wait_until([&] { return !smtp.messages().empty(); }, patience)) << "no email";
  std::this_thread::sleep_for(quiet_period);  // past group_interval (1 s): nothing is resent
  ASSERT_EQ(slack.requests().size(), 1U);
  ASSERT_EQ(hook.requests().size(), 1U);
  ASSERT_EQ(smtp.messages().size(), 1U);

  const auto slack_request = slack.requests()[0];
  EXPECT_EQ(slack_request.method, "POST");
  EXPECT_EQ(slack_request.target, "/services/T0/B0/x");
  const json slack_body = parse_body(slack_request);
  ASSERT_TRUE(slack_body.contains("attachments")) << slack_body.dump();
  ASSERT_TRUE(slack_body["attachments"].is_array() && !slack_body["attachments"].empty());
  EXPECT_NE(slack_body["attachments"].dump().find("disk-full"), std::string::npos)
      << slack_body.dump();

  const json mail = smtp.messages()[0];
  EXPECT_NE(mail["headers"].value("Subject", std::string()).find("disk-full"), std::string::npos)
      << mail.dump();
  EXPECT_EQ(mail["rcpt_tos"], json({"ops@example.com"}));

  const auto hook_request = hook.requests()[0];
  EXPECT_EQ(hook_request.method, "POST");
  EXPECT_EQ(hook_request.target, "/hook");
  const json hook_body = parse_body(hook_request);
  EXPECT_EQ(hook_body["version"], "4");
  EXPECT_EQ(hook_body["status"], "firing");
  EXPECT_EQ(hook_body["receiver"], "hook");
  ASSERT_TRUE(hook_body["groupKey"].is_string());
  EXPECT_FALSE(hook_body["groupKey"].get<std::string>().empty());
  ASSERT_EQ(hook_body["alerts"].size(), 1U) << hook_body.dump();
  EXPECT_EQ(hook_body["alerts"][0]["labels"]["alertname"], "disk-full");
  EXPECT_EQ(hook_body["alerts"][0]["status"], "firing");
  EXPECT_EQ(hook_body["groupLabels"], json({{"alertname", "disk-full"}}));
}

// 2. Ten alerts of one group within group_wait: one notification carrying all ten.
TEST(router_e2e, ten_alerts_of_one_group_make_one_webhook_post) {
  http_capture hook;
  tocsin_daemon daemon(router_options(
      "route: { receiver: hook, group_by: [alertname], group_wait: 2s, group_interval: 1m }\n"
      "receivers:\n"
      "  - { name: hook, webhook: { url: \"" +
      hook.url() + "\" } }\n"));

  std::string lines;
  for (int i = 1; i <= 10; ++i) lines += syslog_line("app", "burst " + std::to_string(i), e2e_host);
  send_lines(daemon, lines);

  // All ten in the first POST leave nothing for another one before group_interval (1 min).
  ASSERT_TRUE(hook.wait_for(1, patience));
  const json body = parse_body(hook.requests()[0]);
  ASSERT_EQ(body["alerts"].size(), 10U) << body.dump();
  ASSERT_EQ(hook.requests().size(), 1U);
  std::set<std::string> numbers;
  for (const json& a : body["alerts"]) {
    EXPECT_EQ(a["labels"]["alertname"], "burst");
    numbers.insert(a["labels"]["n"].get<std::string>());
  }
  EXPECT_EQ(numbers.size(), 10U);
  EXPECT_EQ(body["groupLabels"], json({{"alertname", "burst"}}));
}

// 3. 500, 500, then 200: delivered on the third attempt. A 400 is permanent: one attempt, a dead
// letter with the peer's answer, and a failed count.
TEST(router_e2e, retries_server_errors_and_dead_letters_a_permanent_failure) {
  http_capture flaky, strict;
  flaky.push_response({.status = 500, .body = "try again"});
  flaky.push_response({.status = 500, .body = "try again"});
  const std::string rejection = "invalid payload: field 'alerts' is not allowed here";
  strict.set_default_response({.status = 400, .body = rejection});
  tocsin_daemon daemon(
      router_options("route:\n"
                     "  receiver: discard\n"
                     "  group_by: [alertname]\n"
                     "  group_wait: 0s\n"
                     "  routes:\n"
                     "    - { receiver: flaky, matchers: ['alertname=\"disk-full\"'] }\n"
                     "    - { receiver: strict, matchers: ['alertname=\"reject\"'] }\n"
                     "receivers:\n"
                     "  - { name: discard }\n"
                     "  - { name: flaky, webhook: { url: \"" +
                     flaky.url() +
                     "\" } }\n"
                     "  - { name: strict, webhook: { url: \"" +
                     strict.url() + "\" } }\n"));

  send_lines(daemon, syslog_line("postgres", disk_full_message, e2e_host) +
                         syslog_line("app", "reject me, please", e2e_host));

  // The permanent failure.
  const fs::path dead_letters = daemon.dir() / "lib" / "dead-letter.jsonl";
  ASSERT_TRUE(wait_until([&] { return !read_json_lines(dead_letters).empty(); }, patience))
      << "no dead letter in " << dead_letters;
  const auto letters = read_json_lines(dead_letters);
  ASSERT_EQ(letters.size(), 1U);
  EXPECT_EQ(letters[0]["receiver"], "strict");
  EXPECT_EQ(letters[0]["status"], 400);
  EXPECT_NE(letters[0].dump().find(rejection), std::string::npos) << letters[0].dump();
  EXPECT_TRUE(daemon.wait_for_metric("tocsin_notifications_total",
                                     {{"receiver", "strict"}, {"result", "failed"}},
                                     [](double v) { return v == 1; }))
      << daemon.metrics_text();
  EXPECT_EQ(strict.requests().size(), 1U) << "a 400 is not retried";

  // The flaky one: backoff up to 1 s, then 2 s (full jitter), so well within 15 s.
  ASSERT_TRUE(flaky.wait_for(3, 15s)) << flaky.requests().size() << " attempts";
  // Counted as a success, the notification is done: no attempt can follow.
  ASSERT_TRUE(daemon.wait_for_metric("tocsin_notifications_total",
                                     {{"receiver", "flaky"}, {"result", "success"}},
                                     [](double v) { return v == 1; }))
      << daemon.metrics_text();
  const auto attempts = flaky.requests();
  ASSERT_EQ(attempts.size(), 3U);
  for (const auto& attempt : attempts) {
    EXPECT_EQ(attempt.body, attempts[0].body) << "each attempt sends the same notification";
  }
  EXPECT_EQ(parse_body(attempts[2])["alerts"][0]["labels"]["alertname"], "disk-full");
  EXPECT_EQ(
      daemon.metric("tocsin_notifications_total", {{"receiver", "flaky"}, {"result", "success"}}),
      1);
  EXPECT_EQ(
      daemon.metric("tocsin_notifications_total", {{"receiver", "flaky"}, {"result", "retry"}}), 2);
  EXPECT_EQ(
      daemon.metric("tocsin_notifications_total", {{"receiver", "flaky"}, {"result", "failed"}}),
      0);
  EXPECT_EQ(read_json_lines(dead_letters).size(), 1U);
}

// 4. A silence made with the real amtool through tocsin's Alertmanager API.
TEST(router_e2e, amtool_silence_keeps_disk_full_quiet_but_not_other_alerts) {
  if (amtool().empty()) GTEST_SKIP() << "amtool is not installed (Debian: prometheus-alertmanager)";
  http_capture hook;
  tocsin_daemon daemon(
      router_options("route: { receiver: hook, group_by: [alertname], group_wait: 0s }\n"
                     "receivers:\n"
                     "  - { name: hook, webhook: { url: \"" +
                     hook.url() + "\" } }\n"));

  const auto added = run_amtool(daemon.admin_port(), {"silence", "add", "alertname=disk-full", "-c",
                                                      "test", "-a", "e2e", "-d", "1h"});
  ASSERT_EQ(added.exit_code, 0) << added.stdout_text << added.stderr_text;
  const auto query = run_amtool(daemon.admin_port(), {"silence", "query", "-o", "json"});
  ASSERT_EQ(query.exit_code, 0) << query.stderr_text;
  EXPECT_NE(query.stdout_text.find("disk-full"), std::string::npos) << query.stdout_text;

  send_lines(daemon, syslog_line("postgres", disk_full_message, e2e_host));
  // The router has it, silenced...
  ASSERT_TRUE(wait_until(
      [&] { return api_alert_names(daemon, "suppressed").contains("disk-full"); }, patience))
      << http_get("127.0.0.1", daemon.admin_port(), "/api/v2/alerts").body;
  // ... and does not notify. group_wait is 0 s, so a notification of it would be sent at once,
  // before that of an alert the router gets later: the unsilenced one is the only one sent.
  send_lines(daemon,
             syslog_line("kernel", "Out of memory: Killed process 4242 (postgres)", e2e_host));
  ASSERT_TRUE(hook.wait_for(1, patience)) << "the unsilenced alert was not sent";
  ASSERT_EQ(hook.requests().size(), 1U);
  const json body = parse_body(hook.requests()[0]);
  ASSERT_EQ(body["alerts"].size(), 1U) << body.dump();
  EXPECT_EQ(body["alerts"][0]["labels"]["alertname"], "oom-kill");
}

// 5. A real Alertmanager as the target of an `alertmanager` receiver.
TEST(router_e2e, alertmanager_receiver_reaches_a_real_alertmanager) {
  const fs::path alertmanager = find_program("prometheus-alertmanager");
  if (alertmanager.empty() || amtool().empty()) {
    GTEST_SKIP() << "prometheus-alertmanager/amtool is not installed";
  }
  temp_dir am_dir("e2e-alertmanager");
  am_dir.write_file("alertmanager.yml",
                    "route: { receiver: \"null\" }\n"
                    "receivers: [ { name: \"null\" } ]\n");
  fs::create_directories(am_dir / "data");
  const std::uint16_t am_port = free_port();
  process_options am_options;
  am_options.stdout_path = am_dir / "alertmanager.out";
  am_options.stderr_path = am_dir / "alertmanager.err";
  child_process am(
      {alertmanager.string(), "--config.file=" + (am_dir / "alertmanager.yml").string(),
       "--storage.path=" + (am_dir / "data").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(am_port), "--cluster.listen-address="},
      am_options);
  const auto am_log = [&] { return read_file_if_present(am_dir / "alertmanager.err"); };
  ASSERT_TRUE(
      wait_until([&] { return http_get("127.0.0.1", am_port, "/-/ready", 1s).status == 200; }, 20s))
      << "Alertmanager did not become ready:\n"
      << am_log();

  tocsin_daemon daemon(
      router_options("route: { receiver: am, group_by: [alertname], group_wait: 0s }\n"
                     "receivers:\n"
                     "  - { name: am, alertmanager: { url: \"http://127.0.0.1:" +
                     std::to_string(am_port) + "\" } }\n"));
  send_lines(daemon, syslog_line("postgres", disk_full_message, e2e_host));

  json listed;
  const bool found = wait_until(
      [&] {
        const auto r = run_amtool(am_port, {"alert", "query", "-o", "json"});
        listed = json::parse(r.stdout_text, nullptr, false);
        if (r.exit_code != 0 || !listed.is_array()) return false;
        for (const json& a : listed) {
          if (nested_text(a, "labels", "alertname") == "disk-full") return true;
        }
        return false;
      },
      patience);
  ASSERT_TRUE(found) << "amtool alert query: " << listed.dump() << "\nAlertmanager log:\n"
                     << am_log();
  EXPECT_EQ(
      daemon.metric("tocsin_notifications_total", {{"receiver", "am"}, {"result", "success"}}), 1);
  for (const json& a : listed) {
    if (a["labels"]["alertname"] != "disk-full") continue;
    EXPECT_EQ(a["labels"]["severity"], "critical");
    EXPECT_EQ(a["status"]["state"], "active");
  }
}

// 6. kill -9 while the group waits: the alert is in router.db, so the restarted daemon sends it,
// once; the notification log keeps a second restart from sending it again.
TEST(router_e2e, kill9_during_group_wait_sends_the_pending_alert_once_after_restart) {
  http_capture hook;
  tocsin_daemon daemon(router_options(
      "route: { receiver: hook, group_by: [alertname], group_wait: 3s, group_interval: 1m }\n"
      "receivers:\n"
      "  - { name: hook, webhook: { url: \"" +
      hook.url() + "\" } }\n"));

  send_lines(daemon, syslog_line("postgres", disk_full_message, e2e_host));
  ASSERT_TRUE(wait_until([&] { return api_alert_names(daemon).contains("disk-full"); }, patience))
      << "the router never got the alert";
  ASSERT_TRUE(hook.requests().empty()) << "sent before group_wait passed";
  EXPECT_EQ(daemon.kill9(), 137);
  ASSERT_TRUE(hook.requests().empty()) << "sent before the kill";

  daemon.restart();
  ASSERT_TRUE(hook.wait_for(1, patience)) << "the pending alert was lost by the kill";
  // Watched past another group_wait (3 s): only time shows that no second send follows.
  std::this_thread::sleep_for(4s);
  ASSERT_EQ(hook.requests().size(), 1U) << "sent twice after the restart";
  const json body = parse_body(hook.requests()[0]);
  ASSERT_EQ(body["alerts"].size(), 1U) << body.dump();
  EXPECT_EQ(body["alerts"][0]["labels"]["alertname"], "disk-full");
  EXPECT_EQ(body["status"], "firing");

  // A clean restart: group_wait passes again, the notification log says it was sent.
  daemon.restart();
  // group_wait (3 s) must pass for the flush that would send it again; only time shows it does not.
  std::this_thread::sleep_for(5s);
  EXPECT_EQ(hook.requests().size(), 1U) << "sent again after the second restart";
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace tocsin::test
