// The built-in notifiers against a capture server: bodies, headers, and how answers map to
// delivery results.

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "sinks/notification.hpp"
#include "sinks/notifier.hpp"
#include "tests/support/files.hpp"
#include "tests/support/http_capture.hpp"
#include "tests/support/net.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/sinks/receiver_yaml.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using outcome = delivery_result::outcome;

const auto t0 = std::chrono::system_clock::time_point(1795666255120ms);  // 2026-11-26T04:10:55.120Z

rules::alert make_alert(rules::label_set labels, std::map<std::string, std::string> annotations,
                        bool firing = true) {
  rules::alert a;
  a.labels = std::move(labels);
  a.annotations = std::move(annotations);
  a.starts_at = t0;
  a.ends_at = firing ? t0 + 1h : t0 + 2min;
  a.firing = firing;
  a.fingerprint = rules::fingerprint(a.labels);
  a.generator_url = "http://tocsin:9095/rules/disk_full";
  return a;
}

// Two firing disk_full alerts on web1 and web2 and a resolved one on db1.
notification disk_full_group() {
  notification n;
  n.receiver = "ops";
  n.group_key = "{}:{alertname=\"disk_full\"}";
  n.group_labels = {{"alertname", "disk_full"}};
  n.external_url = "http://tocsin:9095";
  n.alerts = {
      make_alert({{"alertname", "disk_full"}, {"host", "web1"}, {"severity", "critical"}},
                 {{"summary", "disk full on web1"}, {"runbook", "r1"}}),
      make_alert({{"alertname", "disk_full"}, {"host", "web2"}, {"severity", "critical"}},
                 {{"summary", "disk full on web2"}, {"runbook", "r1"}}),
      make_alert({{"alertname", "disk_full"}, {"host", "db1"}, {"severity", "critical"}},
                 {{"summary", "disk full on db1"}, {"runbook", "r1"}}, false),
  };
  return n;
}

notification all_resolved(notification n) {
  for (auto& a : n.alerts) {
    a.firing = false;
    a.ends_at = t0 + 3min;
  }
  return n;
}

config::receiver_config receiver(const std::string& integration,
                                 const std::map<std::string, json>& settings) {
  return test_receivers::load("ops", integration, settings);
}

std::unique_ptr<notifier> make(const config::receiver_config& r) {
  notifier_registry registry;
  register_builtin_notifiers(registry);
  return registry.create(r);
}

std::vector<std::string> keys(const json& object) {
  std::vector<std::string> out;
  for (const auto& [k, v] : object.items()) out.push_back(k);
  return out;
}

// The body of the one request the server got, parsed keeping key order.
nlohmann::ordered_json only_body(const test::http_capture& server) {
  const auto requests = server.requests();
  EXPECT_EQ(requests.size(), 1u);
  if (requests.empty()) return {};
  return nlohmann::ordered_json::parse(requests.back().body);
}

std::vector<std::string> ordered_keys(const nlohmann::ordered_json& object) {
  std::vector<std::string> out;
  for (const auto& [k, v] : object.items()) out.push_back(k);
  return out;
}

// --- registry -----------------------------------------------------------------------------------

TEST(notifier_registry, builtins_and_unknowns) {
  notifier_registry registry;
  register_builtin_notifiers(registry);
  for (const char* name : {"slack", "email", "webhook", "pagerduty", "alertmanager", "file",
                           "msteamsv2", "telegram", "discord", "mattermost", "opsgenie"}) {
    EXPECT_TRUE(registry.has(name)) << name;
  }
  EXPECT_EQ(registry.create(receiver("", {})), nullptr);
  try {
    (void)registry.create(receiver("teams", {}));
    FAIL() << "no throw";
  } catch (const config::config_error& e) {
    EXPECT_EQ(std::string(e.what()), "tocsin.yaml:3:5: receiver ops: unknown integration 'teams'");
  }
  try {
    (void)registry.create(receiver("slakc", {}));
    FAIL() << "no throw";
  } catch (const config::config_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "tocsin.yaml:3:5: receiver ops: unknown integration 'slakc'; did you mean 'slack'?");
  }
}

// --- webhook ------------------------------------------------------------------------------------

TEST(webhook_notifier, sends_alertmanager_v4_body) {
  test::http_capture server;
  const auto n = make(receiver("webhook", {{"url", server.url("/hook")}}));
  EXPECT_TRUE(n->send_resolved());
  const auto r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::delivered);
  EXPECT_EQ(r.status, 200);

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/hook");
  EXPECT_EQ(requests[0].headers.at("content-type"), "application/json");
  const auto body = only_body(server);
  EXPECT_EQ(ordered_keys(body),
            (std::vector<std::string>{"receiver", "status", "alerts", "groupLabels", "commonLabels",
                                      "commonAnnotations", "externalURL", "version", "groupKey",
                                      "truncatedAlerts"}));
  EXPECT_EQ(body["version"], "4");
  EXPECT_EQ(body["receiver"], "ops");
  EXPECT_EQ(body["status"], "firing");
  EXPECT_EQ(body["groupKey"], "{}:{alertname=\"disk_full\"}");
  EXPECT_EQ(body["truncatedAlerts"], 0);
  EXPECT_EQ(body["externalURL"], "http://tocsin:9095");
  // Compared as plain json: ordered_json and json have ambiguous operator== under clang.
  EXPECT_EQ(json::parse(body["groupLabels"].dump()), json({{"alertname", "disk_full"}}));
  EXPECT_EQ(json::parse(body["commonLabels"].dump()),
            json({{"alertname", "disk_full"}, {"severity", "critical"}}));
  EXPECT_EQ(json::parse(body["commonAnnotations"].dump()), json({{"runbook", "r1"}}));
  ASSERT_EQ(body["alerts"].size(), 3u);
  const auto& first = body["alerts"][0];
  EXPECT_EQ(ordered_keys(first),
            (std::vector<std::string>{"status", "labels", "annotations", "startsAt", "endsAt",
                                      "generatorURL", "fingerprint"}));
  EXPECT_EQ(first["status"], "firing");
  EXPECT_EQ(first["labels"]["host"], "web1");
  EXPECT_EQ(first["annotations"]["summary"], "disk full on web1");
  EXPECT_EQ(first["startsAt"], "2026-11-26T04:10:55.120Z");
  EXPECT_EQ(first["endsAt"], "0001-01-01T00:00:00Z");  // not reached yet: hidden, as AM does
  EXPECT_EQ(first["generatorURL"], "http://tocsin:9095/rules/disk_full");
  EXPECT_EQ(first["fingerprint"], disk_full_group().alerts[0].fingerprint);
  EXPECT_EQ(body["alerts"][2]["status"], "resolved");
  EXPECT_EQ(body["alerts"][2]["endsAt"], "2026-11-26T04:12:55.120Z");
}

// Issue 11: a receiver drops a repeated notification by its id.
TEST(webhook_notifier, carries_the_notification_id_header) {
  test::http_capture server;
  const auto n = make(receiver("webhook", {{"url", server.url("/")}}));
  notification with_id = disk_full_group();
  with_id.id = "0123456789abcdef";
  ASSERT_EQ(n->send(with_id).result, outcome::delivered);
  ASSERT_EQ(n->send(with_id).result, outcome::delivered);            // a re-send: the same id
  ASSERT_EQ(n->send(disk_full_group()).result, outcome::delivered);  // none: no header
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].headers.at("x-tocsin-notification-id"), "0123456789abcdef");
  EXPECT_EQ(requests[1].headers.at("x-tocsin-notification-id"), "0123456789abcdef");
  EXPECT_FALSE(requests[2].headers.contains("x-tocsin-notification-id"));
}

TEST(notification_id, same_log_state_same_id_and_the_next_notification_a_new_one) {
  const std::set<std::string> ab = {"aaaa", "bbbb"}, abc = {"aaaa", "bbbb", "cccc"}, none;
  const std::string id = notification_id("ops", "{}:{alertname=\"x\"}", 0, ab, none);
  EXPECT_EQ(id.size(), 16u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  // Decided again from the same notification log (a retry, a restart after a crash).
  EXPECT_EQ(notification_id("ops", "{}:{alertname=\"x\"}", 0, ab, none), id);
  // The next notification: the log moved on (repeat_interval), or the alerts changed.
  EXPECT_NE(notification_id("ops", "{}:{alertname=\"x\"}", 1795666255120, ab, none), id);
  EXPECT_NE(notification_id("ops", "{}:{alertname=\"x\"}", 0, abc, none), id);
  EXPECT_NE(notification_id("ops", "{}:{alertname=\"x\"}", 0, {"aaaa"}, {"bbbb"}), id);
  // Another receiver or group.
  EXPECT_NE(notification_id("dev", "{}:{alertname=\"x\"}", 0, ab, none), id);
  EXPECT_NE(notification_id("ops", "{}:{alertname=\"y\"}", 0, ab, none), id);
  // Field boundaries count: ("ab", "c") is not ("a", "bc").
  EXPECT_NE(notification_id("ab", "c", 0, none, none), notification_id("a", "bc", 0, none, none));
}

TEST(webhook_notifier, resolved_group_and_empty_maps) {
  test::http_capture server;
  const auto n = make(receiver("webhook", {{"url", server.url("/")}}));
  auto group = all_resolved(disk_full_group());
  group.group_labels = {};
  group.alerts[0].annotations = {};
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  const auto body = only_body(server);
  EXPECT_EQ(body["status"], "resolved");
  EXPECT_TRUE(body["groupLabels"].is_object());
  EXPECT_TRUE(body["commonAnnotations"].is_object());
  EXPECT_TRUE(body["commonAnnotations"].empty());
  EXPECT_TRUE(body["alerts"][0]["annotations"].is_object());
}

TEST(webhook_notifier, max_alerts_counts_the_rest) {
  test::http_capture server;
  const auto n = make(receiver("webhook", {{"url", server.url("/")}, {"max_alerts", "1"}}));
  ASSERT_EQ(n->send(disk_full_group()).result, outcome::delivered);
  const auto body = only_body(server);
  ASSERT_EQ(body["alerts"].size(), 1u);
  EXPECT_EQ(body["alerts"][0]["labels"]["host"], "web1");
  EXPECT_EQ(body["truncatedAlerts"], 2);
  // Common labels are still over every alert of the group.
  EXPECT_EQ(json::parse(body["commonLabels"].dump()),
            json({{"alertname", "disk_full"}, {"severity", "critical"}}));
}

TEST(webhook_notifier, bearer_token_and_headers) {
  test::temp_dir dir("webhook");
  test::http_capture server;
  const auto n = make(receiver("webhook", {{"url", server.url("/")},
                                           {"bearer_token_file", dir.write_file("t", "s3cret\n")},
                                           {"headers.X-Team", "ops"},
                                           {"timeout", "5s"}}));
  ASSERT_EQ(n->send(disk_full_group()).result, outcome::delivered);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.at("authorization"), "Bearer s3cret");
  EXPECT_EQ(requests[0].headers.at("x-team"), "ops");
}

TEST(webhook_notifier, basic_auth) {
  test::temp_dir dir("webhook");
  test::http_capture server;
  const auto n =
      make(receiver("webhook", {{"url", server.url("/")},
                                {"basic_auth.username", "tocsin"},
                                {"basic_auth.password_file", dir.write_file("p", "pw")}}));
  ASSERT_EQ(n->send(disk_full_group()).result, outcome::delivered);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.at("authorization"), "Basic dG9jc2luOnB3");  // tocsin:pw
}

TEST(webhook_notifier, unreadable_secret_is_a_config_error) {
  try {
    (void)make(receiver(
        "webhook", {{"url", "http://127.0.0.1:1/"}, {"bearer_token_file", "/nonexistent/token"}}));
    FAIL() << "no throw";
  } catch (const config::config_error& e) {
    // At the setting, not the receiver: bearer_token_file is on line 4 (settings in key order).
    EXPECT_EQ(std::string(e.what()),
              "tocsin.yaml:4:26: receivers[0].webhook.bearer_token_file: cannot read "
              "'/nonexistent/token': No such file or directory");
  }
}

TEST(webhook_notifier, answers_map_to_results) {
  test::http_capture server;
  const auto n = make(receiver("webhook", {{"url", server.url("/")}}));
  server.push_response({.status = 503, .body = "overloaded"});
  server.push_response({.status = 429, .body = "", .headers = {{"Retry-After", "2"}}});
  server.push_response({.status = 404, .body = "no such hook"});
  server.push_response({.status = 204});

  auto r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::retry);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.detail, "overloaded");
  EXPECT_FALSE(r.retry_after);
  r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::retry);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.retry_after, std::chrono::seconds(2));
  r = n->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::permanent);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.detail, "no such hook");
  EXPECT_EQ(n->send(disk_full_group()).result, outcome::delivered);

  // Nobody listening: a network error, retried.
  const auto closed = make(receiver(
      "webhook", {{"url", "http://127.0.0.1:" + std::to_string(test::free_port()) + "/"}}));
  r = closed->send(disk_full_group());
  EXPECT_EQ(r.result, outcome::retry);
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.detail.empty());
}

TEST(webhook_notifier, timeout_is_retried) {
  test::http_capture server;
  server.push_response({.status = 200, .delay = 10s});
  const auto n = make(receiver("webhook", {{"url", server.url("/")}, {"timeout", "200ms"}}));
  const auto start = std::chrono::steady_clock::now();
  const auto r = n->send(disk_full_group());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "waited for the peer's answer";
  EXPECT_EQ(r.result, outcome::retry);
  EXPECT_EQ(r.status, 0);
}

// --- slack --------------------------------------------------------------------------------------

TEST(slack_notifier, default_layout) {
  test::http_capture server;
  const auto n = make(receiver("slack", {{"webhook_url", server.url("/services/T/B/X")},
                                         {"channel", "#ops"},
                                         {"username", "tocsin"},
                                         {"icon_emoji", ":rotating_light:"}}));
  EXPECT_FALSE(n->send_resolved());
  ASSERT_EQ(n->send(disk_full_group()).result, outcome::delivered);
  const auto body = only_body(server);
  EXPECT_EQ(body["channel"], "#ops");
  EXPECT_EQ(body["username"], "tocsin");
  EXPECT_EQ(body["icon_emoji"], ":rotating_light:");
  EXPECT_FALSE(body.contains("icon_url"));
  ASSERT_EQ(body["attachments"].size(), 1u);
  const auto& a = body["attachments"][0];
  EXPECT_EQ(a["color"], "danger");
  EXPECT_EQ(a["title"], "[FIRING:2] disk_full");
  EXPECT_EQ(a["fallback"], "[FIRING:2] disk_full");
  EXPECT_EQ(a["title_link"], "http://tocsin:9095");
  EXPECT_EQ(a["text"],
            "*Severity:* critical\n"
            "*Summary:* disk full on web1\n"
            "*Hosts:* db1, web1, web2\n"
            "*Count:* 2");
}

TEST(slack_notifier, colours_by_severity_and_resolution) {
  test::http_capture server;
  const auto n = make(receiver("slack", {{"webhook_url", server.url("/")}}));
  const auto colour_of = [&](const notification& group) {
    const std::size_t before = server.requests().size();
    EXPECT_EQ(n->send(group).result, outcome::delivered);
    const auto requests = server.requests();
    EXPECT_EQ(requests.size(), before + 1);
    return json::parse(requests.back().body)["attachments"][0]["color"].get<std::string>();
  };
  auto group = disk_full_group();
  EXPECT_EQ(colour_of(group), "danger");
  for (auto& a : group.alerts) a.labels["severity"] = "error";
  EXPECT_EQ(colour_of(group), "danger");
  for (auto& a : group.alerts) a.labels["severity"] = "warning";
  EXPECT_EQ(colour_of(group), "warning");
  for (auto& a : group.alerts) a.labels["severity"] = "info";
  EXPECT_EQ(colour_of(group), "#808080");
  // Mixed severities: the worst firing one.
  group.alerts[1].labels["severity"] = "critical";
  EXPECT_EQ(colour_of(group), "danger");
  const auto resolved = all_resolved(disk_full_group());
  EXPECT_EQ(colour_of(resolved), "good");
  server.set_default_response({});
  ASSERT_EQ(n->send(resolved).result, outcome::delivered);
  EXPECT_EQ(json::parse(server.requests().back().body)["attachments"][0]["title"],
            "[RESOLVED] disk_full");
}

TEST(slack_notifier, templates_over_common_labels_and_annotations) {
  test::temp_dir dir("slack");
  test::http_capture server;
  const auto n = make(
      receiver("slack", {{"webhook_url_file", dir.write_file("url", server.url("/hook") + "\n")},
                         {"title", "{{ alertname }} is {{status}} ({{count}}) {{nope}}"},
                         {"text", "<{{runbook}}|runbook> {{summary}}"}}));
  auto group = disk_full_group();
  group.alerts[0].annotations["runbook"] = group.alerts[1].annotations["runbook"] =
      group.alerts[2].annotations["runbook"] = "https://wiki/a&b";
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  EXPECT_EQ(server.requests().at(0).target, "/hook");
  const auto body = only_body(server);
  const auto& a = body["attachments"][0];
  EXPECT_EQ(a["title"], "disk_full is firing (2) ");
  // Values are escaped for Slack's mrkdwn; the template's own text is not. No common summary.
  EXPECT_EQ(a["text"], "<https://wiki/a&amp;b|runbook> ");
}

TEST(slack_notifier, truncates_to_slack_limits) {
  test::http_capture server;
  const auto n = make(receiver("slack", {{"webhook_url", server.url("/")}}));
  auto group = disk_full_group();
  std::string huge;
  for (int i = 0; i < 20'000; ++i) huge += "é";
  for (auto& a : group.alerts) {
    a.labels["alertname"] = huge;
    a.annotations["summary"] = huge;
  }
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  const auto body = only_body(server);
  const auto& a = body["attachments"][0];
  const auto chars = [](const std::string& s) {
    std::size_t n = 0;
    for (const unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
    return n;
  };
  const std::string title = a["title"];
  const std::string text = a["text"];
  EXPECT_EQ(chars(title), 1024u);
  EXPECT_TRUE(title.ends_with("é…"));
  EXPECT_EQ(chars(text), 8000u);
  EXPECT_TRUE(text.ends_with("é…"));
}

TEST(slack_notifier, retry_after_is_honoured_by_the_worker) {
  test::http_capture server;
  server.push_response({.status = 429, .body = "rate_limited", .headers = {{"Retry-After", "1"}}});
  metrics_registry metrics;
  worker_options options;
  options.initial_backoff = 1ms;
  options.max_backoff = 5ms;
  receiver_worker worker("ops", make(receiver("slack", {{"webhook_url", server.url("/")}})),
                         options, metrics, nullptr);
  ASSERT_TRUE(worker.enqueue(disk_full_group()));
  ASSERT_TRUE(server.wait_for(2, 5s));
  const auto requests = server.requests();
  EXPECT_GE(requests[1].received - requests[0].received, 950ms);
}

// --- pagerduty ----------------------------------------------------------------------------------

TEST(pagerduty_notifier, trigger_then_resolve_with_a_stable_dedup_key) {
  test::temp_dir dir("pagerduty");
  test::http_capture server;
  server.set_default_response({.status = 202, .body = R"({"status":"success"})"});
  const auto n = make(receiver("pagerduty", {{"routing_key_file", dir.write_file("key", "R0UT\n")},
                                             {"url", server.url("/v2/enqueue")},
                                             {"client_url", "https://tocsin.example"}}));
  EXPECT_TRUE(n->send_resolved());
  const auto trigger = n->send(disk_full_group());
  EXPECT_EQ(trigger.result, outcome::delivered);
  EXPECT_EQ(trigger.status, 202);
  ASSERT_EQ(n->send(all_resolved(disk_full_group())).result, outcome::delivered);
  auto other = disk_full_group();
  other.group_key = "{}:{alertname=\"cpu\"}";
  ASSERT_EQ(n->send(other).result, outcome::delivered);

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target, "/v2/enqueue");
  const auto t = json::parse(requests[0].body);
  const auto r = json::parse(requests[1].body);
  const auto o = json::parse(requests[2].body);
  EXPECT_EQ(t["routing_key"], "R0UT");
  EXPECT_EQ(t["event_action"], "trigger");
  EXPECT_EQ(r["event_action"], "resolve");
  EXPECT_EQ(t["dedup_key"], r["dedup_key"]);
  EXPECT_NE(t["dedup_key"], o["dedup_key"]);
  EXPECT_LE(t["dedup_key"].get<std::string>().size(), 255u);
  EXPECT_EQ(t["client"], "tocsin");
  EXPECT_EQ(t["client_url"], "https://tocsin.example");
  const auto& p = t["payload"];
  EXPECT_EQ(p["summary"], "[FIRING:2] disk_full");
  EXPECT_EQ(p["severity"], "critical");
  EXPECT_EQ(p["source"], "tocsin");  // the hosts differ
  EXPECT_EQ(p["custom_details"]["num_firing"], 2);
  EXPECT_EQ(p["custom_details"]["num_resolved"], 1);
  EXPECT_NE(p["custom_details"]["firing"].get<std::string>().find(" - host = web2\n"),
            std::string::npos);
  EXPECT_NE(p["custom_details"]["resolved"].get<std::string>().find(" - host = db1\n"),
            std::string::npos);
  EXPECT_EQ(r["payload"]["summary"], "[RESOLVED] disk_full");
}

TEST(pagerduty_notifier, severity_source_and_summary) {
  test::temp_dir dir("pagerduty");
  test::http_capture server;
  const auto n = make(receiver("pagerduty", {{"routing_key_file", dir.write_file("key", "k")},
                                             {"url", server.url("/")},
                                             {"severity", "warning"}}));
  notification group;
  group.group_key = "g";
  group.alerts = {make_alert({{"alertname", "a"}, {"host", "web1"}, {"severity", "page"}},
                             {{"summary", std::string(2000, 'x')}})};
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  const auto p = json::parse(server.requests().at(0).body)["payload"];
  EXPECT_EQ(p["severity"], "warning");  // "page" is not PagerDuty's: the configured default
  EXPECT_EQ(p["source"], "web1");
  EXPECT_EQ(p["summary"].get<std::string>().size(), 1023u + std::string("…").size());
  EXPECT_FALSE(json::parse(server.requests().at(0).body).contains("client_url"));
}

TEST(pagerduty_notifier, bad_settings_are_config_errors) {
  test::temp_dir dir("pagerduty");
  EXPECT_THROW((void)make(receiver("pagerduty", {{"routing_key_file", dir.write_file("k", "k")},
                                                 {"severity", "page"}})),
               config::config_error);
  EXPECT_THROW((void)make(receiver("pagerduty", {{"routing_key_file", dir.write_file("e", "\n")}})),
               config::config_error);
}

// --- alertmanager -------------------------------------------------------------------------------

TEST(alertmanager_notifier, posts_postable_alerts) {
  test::http_capture server;
  const auto n = make(receiver("alertmanager", {{"url", server.url("/am/")}}));
  EXPECT_TRUE(n->send_resolved());
  ASSERT_EQ(n->send(disk_full_group()).result, outcome::delivered);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/am/api/v2/alerts");
  const auto body = nlohmann::ordered_json::parse(requests[0].body);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 3u);
  EXPECT_EQ(ordered_keys(body[0]), (std::vector<std::string>{"labels", "annotations", "startsAt",
                                                             "endsAt", "generatorURL"}));
  EXPECT_EQ(body[0]["labels"]["host"], "web1");
  EXPECT_EQ(body[0]["startsAt"], "2026-11-26T04:10:55.120Z");
  EXPECT_EQ(body[0]["endsAt"], "2026-11-26T05:10:55.120Z");
  EXPECT_EQ(body[2]["endsAt"], "2026-11-26T04:12:55.120Z");
}

// --- file ---------------------------------------------------------------------------------------

TEST(file_notifier, appends_alert_json_lines) {
  test::temp_dir dir("file-notifier");
  const auto path = dir / "out/alerts.jsonl";
  const auto n = make(receiver("file", {{"path", path.string()}}));
  const auto group = disk_full_group();
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  ASSERT_EQ(n->send(all_resolved(group)).result, outcome::delivered);
  const auto lines = test::read_json_lines(path);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], json::parse(rules::to_json(group.alerts[0])));
  EXPECT_EQ(lines[2]["status"], "resolved");
  EXPECT_EQ(lines[5]["labels"]["host"], "db1");
  EXPECT_THROW((void)make(receiver("file", {{"path", "/proc/nope/alerts.jsonl"}})),
               config::config_error);
}

}  // namespace
}  // namespace tocsin::sinks
