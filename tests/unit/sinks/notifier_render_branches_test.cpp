// Rendering edge cases of the slack, pagerduty and alertmanager notifiers that the main notifier
// tests leave out: severities taken from mixed alerts, missing labels and annotations, long host
// lists, display names without a common alertname, and the settings each refuses.

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sinks/notification.hpp"
#include "sinks/notifier.hpp"
#include "tests/support/http_capture.hpp"
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
  return a;
}

std::unique_ptr<notifier> make(const std::string& integration,
                               const std::map<std::string, json>& settings) {
  notifier_registry registry;
  register_builtin_notifiers(registry);
  return registry.create(test_receivers::load("ops", integration, settings));
}

// The body of the last request the server got.
json last_body(const test::http_capture& server) {
  const auto requests = server.requests();
  EXPECT_FALSE(requests.empty());
  if (requests.empty()) return {};
  return json::parse(requests.back().body);
}

// --- slack --------------------------------------------------------------------------------------

TEST(slack_render_branches, worst_firing_severity_and_first_matching_summary) {
  test::http_capture server;
  const auto n = make("slack", {{"webhook_url", server.url("/")}, {"icon_url", "https://i/x.png"}});
  notification group;
  group.group_key = "g";
  group.alerts = {
      // Firing but without summary or severity: skipped for both.
      make_alert({{"alertname", "a"}, {"host", "h1"}}, {}),
      // Resolved: its critical severity and its summary do not count for a firing message.
      make_alert({{"alertname", "a"}, {"host", "h2"}, {"severity", "critical"}},
                 {{"summary", "resolved one"}}, false),
      make_alert({{"alertname", "a"}, {"host", "h3"}, {"severity", "info"}},
                 {{"summary", "first firing"}}),
      make_alert({{"alertname", "a"}, {"host", "h4"}, {"severity", "warning"}},
                 {{"summary", "second firing"}}),
      make_alert({{"alertname", "a"}, {"host", "h5"}, {"severity", "info"}}, {}),
  };
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  const auto body = last_body(server);
  EXPECT_EQ(body["icon_url"], "https://i/x.png");
  EXPECT_FALSE(body.contains("channel"));
  EXPECT_FALSE(body.contains("username"));
  EXPECT_FALSE(body.contains("icon_emoji"));
  const auto& a = body["attachments"][0];
  EXPECT_FALSE(a.contains("title_link"));  // no external URL
  EXPECT_EQ(a["color"], "warning");
  EXPECT_EQ(a["title"], "[FIRING:4] a");
  EXPECT_EQ(a["text"],
            "*Severity:* warning\n"
            "*Summary:* first firing\n"
            "*Hosts:* h1, h2, h3, h4, h5\n"
            "*Count:* 4");
}

TEST(slack_render_branches, resolved_message_takes_a_resolved_summary_and_counts_all) {
  test::http_capture server;
  const auto n = make("slack", {{"webhook_url", server.url("/")}});
  notification group;
  group.group_key = "g";
  group.alerts = {
      make_alert({{"alertname", "a"}, {"severity", "critical"}}, {}, false),
      make_alert({{"alertname", "a"}, {"severity", "warning"}}, {{"summary", "gone"}}, false),
  };
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  const json body = last_body(server);
  const json& a = body["attachments"][0];
  EXPECT_EQ(a["color"], "good");
  EXPECT_EQ(a["title"], "[RESOLVED] a");
  // No severity line: a resolved message has no firing alert to take one from; no hosts line.
  EXPECT_EQ(a["text"], "*Summary:* gone\n*Count:* 2");
}

TEST(slack_render_branches, lists_ten_hosts_and_counts_the_rest) {
  test::http_capture server;
  const auto n = make("slack", {{"webhook_url", server.url("/")}});
  notification group;
  group.group_key = "g";
  for (int i = 0; i < 12; ++i) {
    group.alerts.push_back(make_alert({{"alertname", "a"}, {"host", "h" + std::to_string(i + 10)}},
                                      {{"summary", "s<&>"}}));
  }
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  const json body = last_body(server);
  const json& a = body["attachments"][0];
  EXPECT_EQ(a["color"], "#808080");  // firing without any severity
  EXPECT_EQ(a["text"],
            "*Summary:* s&lt;&amp;&gt;\n"
            "*Hosts:* h10, h11, h12, h13, h14, h15, h16, h17, h18, h19 and 2 more\n"
            "*Count:* 12");
}

TEST(slack_render_branches, display_name_without_a_common_alertname) {
  test::http_capture server;
  const auto n = make("slack", {{"webhook_url", server.url("/")}});
  notification group;
  group.group_key = "g";
  group.group_labels = {{"cluster", "eu1"}, {"team", "db"}};
  group.alerts = {make_alert({{"alertname", "a"}}, {}), make_alert({{"alertname", "b"}}, {})};
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  EXPECT_EQ(last_body(server)["attachments"][0]["title"], "[FIRING:2] eu1 db");
  group.group_labels.clear();
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  EXPECT_EQ(last_body(server)["attachments"][0]["title"], "[FIRING:2] alerts");
}

TEST(slack_render_branches, url_settings_are_exclusive_and_required) {
  test::temp_dir dir("slack");
  EXPECT_THROW((void)make("slack", {{"webhook_url", "http://127.0.0.1:1/"},
                                    {"webhook_url_file", dir.write_file("u", "http://x/\n")}}),
               config::config_error);
  EXPECT_THROW((void)make("slack", {{"channel", "#ops"}}), config::config_error);
}

// --- pagerduty ----------------------------------------------------------------------------------

TEST(pagerduty_render_branches, worst_firing_severity_common_host_and_summary) {
  test::temp_dir dir("pagerduty");
  test::http_capture server;
  const auto n = make("pagerduty", {{"routing_key_file", dir.write_file("key", "k")},
                                    {"url", server.url("/")},
                                    {"client", "my-tocsin"}});
  notification group;
  group.group_key = "g";
  group.id = "abc123";
  group.external_url = "http://tocsin:9095";
  group.alerts = {
      make_alert({{"alertname", "a"}, {"host", "web1"}}, {{"summary", "full"}}),
      make_alert({{"alertname", "a"}, {"host", "web1"}, {"severity", "critical"}},
                 {{"summary", "full"}}, false),
      make_alert({{"alertname", "a"}, {"host", "web1"}, {"severity", "warning"}},
                 {{"summary", "full"}}),
      make_alert({{"alertname", "a"}, {"host", "web1"}, {"severity", "error"}},
                 {{"summary", "full"}}),
      make_alert({{"alertname", "a"}, {"host", "web1"}, {"severity", "info"}},
                 {{"summary", "full"}}),
  };
  group.alerts[0].generator_url = "http://tocsin:9095/rules/a";
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  const auto body = last_body(server);
  EXPECT_EQ(body["client"], "my-tocsin");
  EXPECT_EQ(body["client_url"], "http://tocsin:9095");  // the external URL when none is set
  const auto& p = body["payload"];
  EXPECT_EQ(p["severity"], "error");  // the resolved critical does not count
  EXPECT_EQ(p["source"], "web1");
  EXPECT_EQ(p["summary"], "[FIRING:4] a: full");
  EXPECT_EQ(p["custom_details"]["notification_id"], "abc123");
  const std::string firing = p["custom_details"]["firing"];
  EXPECT_NE(firing.find("Source: http://tocsin:9095/rules/a\n"), std::string::npos);
  EXPECT_EQ(firing.find("Source: \n"), std::string::npos);
  EXPECT_EQ(p["custom_details"]["num_resolved"], 1);
}

TEST(pagerduty_render_branches, no_severity_falls_back_and_no_id_no_client_url) {
  test::temp_dir dir("pagerduty");
  test::http_capture server;
  const auto n = make("pagerduty", {{"routing_key_file", dir.write_file("key", "k")},
                                    {"url", server.url("/")},
                                    {"send_resolved", false}});
  EXPECT_FALSE(n->send_resolved());
  notification group;
  group.group_key = "g";
  group.alerts = {make_alert({{"alertname", "a"}}, {}), make_alert({{"alertname", "b"}}, {})};
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  const auto body = last_body(server);
  EXPECT_FALSE(body.contains("client_url"));
  EXPECT_EQ(body["client"], "tocsin");
  const auto& p = body["payload"];
  EXPECT_EQ(p["severity"], "error");  // the default default
  EXPECT_EQ(p["summary"], "[FIRING:2] alerts");
  EXPECT_FALSE(p["custom_details"].contains("notification_id"));
  EXPECT_EQ(p["custom_details"]["resolved"], "");
}

TEST(pagerduty_render_branches, bad_urls_and_missing_key_are_config_errors) {
  test::temp_dir dir("pagerduty");
  EXPECT_THROW((void)make("pagerduty", {{"url", "http://127.0.0.1:1/"}}), config::config_error);
  EXPECT_THROW((void)make("pagerduty", {{"routing_key_file", dir.write_file("k", "k")},
                                        {"client_url", "not a url"}}),
               config::config_error);
  EXPECT_THROW(
      (void)make("pagerduty", {{"routing_key_file", dir.write_file("k2", "k")}, {"bogus", 1}}),
      config::config_error);
}

// --- alertmanager -------------------------------------------------------------------------------

TEST(alertmanager_render_branches, no_end_time_and_trailing_slashes) {
  test::http_capture server;
  const auto n = make("alertmanager", {{"url", server.url("/am///")}, {"send_resolved", false}});
  EXPECT_FALSE(n->send_resolved());
  notification group;
  group.group_key = "g";
  group.alerts = {make_alert({{"alertname", "a"}}, {})};
  group.alerts[0].ends_at = group.alerts[0].starts_at;  // no end known
  ASSERT_EQ(n->send(group).result, outcome::delivered);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/am/api/v2/alerts");
  const auto body = json::parse(requests[0].body);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_FALSE(body[0].contains("endsAt"));
  EXPECT_EQ(body[0]["generatorURL"], "");
  EXPECT_EQ(body[0]["startsAt"], "2026-11-26T04:10:55.120Z");
}

TEST(alertmanager_render_branches, url_is_required) {
  EXPECT_THROW((void)make("alertmanager", {{"send_resolved", true}}), config::config_error);
}

}  // namespace
}  // namespace tocsin::sinks
