// Receivers written as in an alertmanager.yml: `*_configs` lists (several integrations per
// receiver), Alertmanager's field names, `global:` defaults and `http_config`.

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/warnings.hpp"
#include "sinks/notification.hpp"
#include "sinks/notifier.hpp"
#include "tests/support/http_capture.hpp"
#include "tests/support/smtp_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using outcome = delivery_result::outcome;

notification one_alert(bool firing = true) {
  rules::alert a;
  a.labels = {{"alertname", "disk_full"}, {"host", "web1"}, {"severity", "critical"}};
  a.annotations = {{"summary", "disk full on web1"}};
  a.starts_at = std::chrono::system_clock::time_point(1795666255120ms);
  a.ends_at = firing ? std::chrono::system_clock::time_point{} : a.starts_at + 2min;
  a.firing = firing;
  a.fingerprint = rules::fingerprint(a.labels);
  notification n;
  n.receiver = "ops";
  n.group_key = "{}:{alertname=\"disk_full\"}";
  n.group_labels = {{"alertname", "disk_full"}};
  n.alerts = {a};
  n.id = firing ? "00000000000000a1" : "00000000000000a2";
  return n;
}

std::unique_ptr<notifier> make(std::span<const config::receiver_config> receiver) {
  notifier_registry registry;
  register_builtin_notifiers(registry);
  return registry.create(receiver);
}

// Collects config::warn() messages for the test's lifetime.
class warnings_taken {
 public:
  warnings_taken() {
    previous_ = config::set_warning_handler([this](const std::string& m) { got.push_back(m); });
  }
  ~warnings_taken() { config::set_warning_handler(std::move(previous_)); }
  warnings_taken(const warnings_taken&) = delete;
  warnings_taken& operator=(const warnings_taken&) = delete;
  std::vector<std::string> got;

 private:
  config::warning_handler previous_;
};

std::string all_errors(const config::config_error& e) {
  std::string out;
  for (const auto& line : e.errors()) out += line + "\n";
  return out;
}

TEST(alertmanager_syntax, configs_lists_give_one_entry_per_integration_under_one_name) {
  const config::config cfg = config::load_string(R"(receivers:
  - name: team
    slack_configs:
      - api_url: http://127.0.0.1:1/a
      - api_url: http://127.0.0.1:1/b
    webhook_configs:
      - url: http://127.0.0.1:1/c
  - name: blackhole
  - name: empty-lists
    email_configs: []
    slack_configs:
)",
                                                 "am.yml");
  ASSERT_EQ(cfg.receivers.size(), 5U);
  const auto grouped = config::receivers_by_name(cfg.receivers);
  ASSERT_EQ(grouped.size(), 3U);
  ASSERT_EQ(grouped[0].size(), 3U);
  EXPECT_EQ(grouped[0][0].integration, "slack");
  EXPECT_EQ(grouped[0][1].integration, "slack");
  EXPECT_EQ(grouped[0][2].integration, "webhook");
  for (const auto& r : grouped[0]) {
    EXPECT_EQ(r.name, "team");
    EXPECT_EQ(r.syntax, config::receiver_syntax::alertmanager);
    ASSERT_NE(r.global, nullptr);
  }
  EXPECT_EQ(grouped[1][0].integration, "");
  EXPECT_EQ(grouped[2][0].integration, "");
  EXPECT_EQ(make(grouped[1]), nullptr);
}

TEST(alertmanager_syntax, a_retry_goes_only_to_the_integrations_that_did_not_take_it) {
  test::http_capture slack, hook;
  const config::config cfg = config::load_string(
      "receivers:\n  - name: ops\n    slack_configs:\n      - api_url: " + slack.url("/s") +
          "\n    webhook_configs:\n      - url: " + hook.url("/w") + "\n",
      "am.yml");
  auto n = make(cfg.receivers);
  ASSERT_NE(n, nullptr);
  EXPECT_TRUE(n->send_resolved()) << "the webhook sends resolved notifications";
  hook.push_response({503, "busy"});
  const notification firing = one_alert();
  const delivery_result first = n->send(firing);
  EXPECT_EQ(first.result, outcome::retry);
  EXPECT_NE(first.detail.find("integration 2"), std::string::npos) << first.detail;
  EXPECT_EQ(n->send(firing).result, outcome::delivered);
  EXPECT_EQ(slack.requests().size(), 1U) << "Slack had it after the first attempt";
  EXPECT_EQ(hook.requests().size(), 2U);

  // The resolved notification: the webhook (send_resolved true) gets it, Slack (false) not.
  const notification resolved = one_alert(false);
  EXPECT_EQ(n->send(resolved).result, outcome::delivered);
  EXPECT_EQ(slack.requests().size(), 1U);
  ASSERT_EQ(hook.requests().size(), 3U);
  EXPECT_EQ(json::parse(hook.requests()[2].body)["status"], "resolved");
}

TEST(alertmanager_syntax, a_permanent_failure_of_one_integration_is_reported_on_its_own) {
  test::http_capture a, b;
  const config::config cfg = config::load_string(
      "receivers:\n  - name: ops\n    webhook_configs:\n      - url: " + a.url("/a") +
          "\n      - url: " + b.url("/b") + "\n",
      "am.yml");
  auto n = make(cfg.receivers);
  // a fails for good while b is busy: the next attempt goes to b alone, and then the
  // notification counts as delivered with a's failure beside it (dead-lettered on its own).
  a.push_response({400, "bad"});
  b.push_response({503, "busy"});
  const notification firing = one_alert();
  EXPECT_EQ(n->send(firing).result, outcome::retry);
  const delivery_result r = n->send(firing);
  EXPECT_EQ(r.result, outcome::delivered);
  ASSERT_EQ(r.failed_parts.size(), 1U);
  EXPECT_EQ(r.failed_parts[0].status, 400);
  EXPECT_NE(r.failed_parts[0].detail.find("integration 1"), std::string::npos);
  EXPECT_EQ(a.requests().size(), 1U);
  EXPECT_EQ(b.requests().size(), 2U);

  // Every part failing for good is a permanent failure of the notification.
  a.push_response({400, "bad"});
  b.push_response({404, "gone"});
  EXPECT_EQ(n->send(one_alert(false)).result, outcome::permanent);
}

TEST(alertmanager_syntax, a_page_goes_to_the_integrations_that_reach_a_person) {
  test::http_capture slack, hook;
  const config::config cfg = config::load_string(
      "receivers:\n  - name: ops\n    webhook_configs:\n      - url: " + hook.url("/w") +
          "\n    slack_configs:\n      - api_url: " + slack.url("/s") + "\n",
      "am.yml");
  auto n = make(cfg.receivers);
  notification page = one_alert();
  page.id = "page-1";
  page.page = page_info{};
  page.page->user = "alice";
  page.page->slack = "U0ALICE";
  page.page->step = 1;
  EXPECT_EQ(n->send(page).result, outcome::delivered);
  EXPECT_TRUE(hook.requests().empty()) << "a webhook cannot page a person";
  ASSERT_EQ(slack.requests().size(), 1U);
  EXPECT_NE(slack.requests()[0].body.find("<@U0ALICE>"), std::string::npos);
}

TEST(alertmanager_syntax, global_slack_api_url_and_http_config_are_the_defaults) {
  test::http_capture slack;
  test::temp_dir dir;
  dir.write_file("token", "s3cret\n");
  const std::string yaml = "global:\n  slack_api_url: " + slack.url("/global") +
                           "\n  http_config:\n    authorization:\n      credentials_file: " +
                           (dir.path() / "token").string() +
                           "\nreceivers:\n  - name: ops\n    slack_configs:\n"
                           "      - channel: '#ops'\n"
                           "      - channel: '#own'\n"
                           "        http_config:\n          basic_auth:\n"
                           "            username: u\n            password: p\n";
  const config::config cfg = config::load_string(yaml, "am.yml");
  auto n = make(cfg.receivers);
  ASSERT_EQ(n->send(one_alert()).result, outcome::delivered);
  const auto got = slack.requests();
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[0].target, "/global");
  EXPECT_EQ(json::parse(got[0].body)["channel"], "#ops");
  EXPECT_EQ(got[0].headers.at("authorization"), "Bearer s3cret");
  // An integration's own http_config replaces the global one as a whole.
  EXPECT_EQ(got[1].headers.at("authorization"), "Basic dTpw");
}

TEST(alertmanager_syntax, global_smtp_settings_feed_email_configs) {
  test::smtp_server smtp;
  const std::string yaml = "global:\n  smtp_smarthost: 127.0.0.1:" + std::to_string(smtp.port()) +
                           "\n  smtp_from: alertmanager@example.org\n  smtp_require_tls: false\n"
                           "receivers:\n  - name: ops\n    email_configs:\n"
                           "      - to: 'a@example.org, b@example.org'\n"
                           "        headers: { Subject: 'disk {{ .CommonLabels.alertname }}' }\n";
  const config::config cfg = config::load_string(yaml, "am.yml");
  auto n = make(cfg.receivers);
  ASSERT_EQ(n->send(one_alert()).result, outcome::delivered);
  const auto messages = smtp.messages();
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_EQ(messages[0]["mail_from"], "alertmanager@example.org");
  EXPECT_EQ(messages[0]["rcpt_tos"], json::array({"a@example.org", "b@example.org"}));
  const std::string raw = smtp.raw_message(0);
  EXPECT_NE(raw.find("Subject: disk disk_full"), std::string::npos) << raw;
}

TEST(alertmanager_syntax, errors_name_the_key_and_integration_precisely) {
  const config::config cfg = config::load_string(R"(receivers:
  - name: ops
    slack_configs:
      - api_urll: http://127.0.0.1:1/
    pushover_configs:
      - token: x
        user_key: y
    webhook_configs:
      - url: http://127.0.0.1:1/
        url_file: /nonexistent
    pagerduty_configs:
      - service_key: abc
)",
                                                 "am.yml");
  try {
    (void)make(cfg.receivers);
    FAIL() << "expected errors";
  } catch (const config::config_error& e) {
    const std::string got = all_errors(e);
    EXPECT_NE(got.find("am.yml:4:9: unknown key 'api_urll' in receivers[0].slack_configs[0]; did "
                       "you mean 'api_url'?"),
              std::string::npos)
        << got;
    EXPECT_NE(got.find("am.yml:6:9: receivers[0].pushover_configs[0]: tocsin does not support "
                       "Alertmanager's pushover integration"),
              std::string::npos)
        << got;
    EXPECT_NE(got.find("url_file: give url or url_file, not both"), std::string::npos) << got;
    EXPECT_NE(got.find("am.yml:12:22: receivers[0].pagerduty_configs[0].service_key: the Events "
                       "API v1 is not supported"),
              std::string::npos)
        << got;
  }
}

TEST(alertmanager_syntax, keys_tocsin_ignores_are_warnings_with_their_location) {
  warnings_taken warnings;
  const config::config cfg = config::load_string(R"(receivers:
  - name: ops
    slack_configs:
      - api_url: http://127.0.0.1:1/
        actions: []
        http_config:
          follow_redirects: true
    email_configs:
      - to: a@example.org
        from: b@example.org
        smarthost: localhost:25
        hello: host.example.org
)",
                                                 "am.yml");
  EXPECT_NE(make(cfg.receivers), nullptr);
  ASSERT_EQ(warnings.got.size(), 2U);
  EXPECT_EQ(warnings.got[0],
            "warning: am.yml:7:11: receivers[0].slack_configs[0].http_config.follow_redirects: "
            "ignored: tocsin does not implement this http_config setting");
  EXPECT_EQ(warnings.got[1].rfind("warning: am.yml:12:9: receivers[0].email_configs[0].hello: "
                                  "ignored: ",
                                  0),
            0U)
      << warnings.got[1];
}

TEST(alertmanager_syntax, top_level_external_url_and_templates) {
  const config::config cfg = config::load_string(R"(admin: { listen: 127.0.0.1:0 }
external_url: https://alerts.example.org/
templates: ['/etc/alertmanager/template/*.tmpl']
global: { resolve_timeout: 2m }
)",
                                                 "am.yml");
  EXPECT_EQ(cfg.admin->external_url, "https://alerts.example.org");
  EXPECT_EQ(cfg.global->templates, std::vector<std::string>{"/etc/alertmanager/template/*.tmpl"});
  EXPECT_EQ(cfg.global->resolve_timeout, std::chrono::minutes(2));

  try {
    (void)config::load_string("external_url: https://x.example.org\n", "am.yml");
    FAIL() << "external_url without an admin listener";
  } catch (const config::config_error& e) {
    EXPECT_NE(all_errors(e).find("am.yml:1:1: external_url: needs the admin listener"),
              std::string::npos)
        << all_errors(e);
  }
}

}  // namespace
}  // namespace tocsin::sinks
