// Each integration's factory reads and checks its own section of the config: good settings build
// a notifier, and each bad one is reported at its key as FILE:LINE:COL, every one at once. These
// are the messages check-config prints.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "sinks/notifier.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::sinks {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

// The errors building the notifier of each receiver in `yaml` reports (none when it builds).
std::vector<std::string> errors_of(const std::string& yaml) {
  notifier_registry registry;
  register_builtin_notifiers(registry);
  std::vector<std::string> errors;
  for (const auto& receiver : config::load_string(yaml, "t.yaml").receivers) {
    try {
      (void)registry.create(receiver);
    } catch (const config::config_error& e) {
      errors.insert(errors.end(), e.errors().begin(), e.errors().end());
    }
  }
  return errors;
}

TEST(webhook_settings, good_settings_build) {
  test::temp_dir dir("webhook-settings");
  const auto token = dir.write_file("token", "s3cret\n");
  EXPECT_THAT(errors_of("receivers:\n"
                        "  - name: a\n"
                        "    webhook:\n"
                        "      url: https://hooks.example.com/x\n"
                        "      max_alerts: 10\n"
                        "      send_resolved: false\n"
                        "      bearer_token_file: " +
                        token.string() +
                        "\n"
                        "      headers: { X-Team: ops }\n"
                        "      timeout: 5s\n"),
              ElementsAre());
}

TEST(webhook_settings, each_bad_setting_at_its_key) {
  EXPECT_THAT(errors_of("receivers:\n"                                          // 1
                        "  - name: a\n"                                         // 2
                        "    webhook:\n"                                        // 3
                        "      url: ftp://x\n"                                  // 4
                        "      max_alerts: -1\n"                                // 5
                        "      send_resolved: maybe\n"                          // 6
                        "      bearer_token_file: /nonexistent/token\n"         // 7
                        "      basic_auth: { username: u, password_fil: p }\n"  // 8
                        "      headers: [X-Team]\n"                             // 9
                        "      timeout: 10\n"                                   // 10
                        "      proxy_url: http://proxy\n"),                     // 11
              ElementsAre("t.yaml:4:12: receivers[0].webhook.url: invalid URL 'ftp://x': expected "
                          "http:// or https://",
                          "t.yaml:5:19: receivers[0].webhook.max_alerts: expected a non-negative "
                          "integer, got '-1'",
                          "t.yaml:6:22: receivers[0].webhook.send_resolved: expected true or "
                          "false, got 'maybe'",
                          "t.yaml:7:26: receivers[0].webhook.bearer_token_file: cannot read "
                          "'/nonexistent/token': No such file or directory",
                          "t.yaml:8:19: receivers[0].webhook.basic_auth: give bearer_token_file "
                          "or basic_auth, not both",
                          "t.yaml:8:19: missing required key 'password_file' in "
                          "receivers[0].webhook.basic_auth",
                          "t.yaml:8:34: unknown key 'password_fil' in "
                          "receivers[0].webhook.basic_auth; did you mean 'password_file'?",
                          "t.yaml:9:16: receivers[0].webhook.headers: expected a mapping, got a "
                          "list",
                          "t.yaml:10:16: receivers[0].webhook.timeout: invalid duration '10': a "
                          "unit is required, e.g. '10s'",
                          "t.yaml:11:7: unknown key 'proxy_url' in receivers[0].webhook"));
}

TEST(slack_settings, good_settings_build) {
  test::temp_dir dir("slack-settings");
  const auto url = dir.write_file("url", "https://hooks.slack.com/services/T/B/X\n");
  EXPECT_THAT(errors_of("receivers:\n"
                        "  - name: a\n"
                        "    slack: { webhook_url: 'https://hooks.slack.com/services/T/B/X',\n"
                        "             channel: '#ops', username: tocsin, icon_emoji: ':fire:',\n"
                        "             icon_url: 'https://x/i.png', send_resolved: true,\n"
                        "             title: '{{alertname}}', text: '{{summary}}' }\n"
                        "  - name: b\n"
                        "    slack: { webhook_url_file: " +
                        url.string() + " }\n"),
              ElementsAre());
}

TEST(slack_settings, each_bad_setting_at_its_key) {
  EXPECT_THAT(errors_of("receivers:\n"                                           // 1
                        "  - name: a\n"                                          // 2
                        "    slack: { channel: '#x' }\n"                         // 3
                        "  - name: b\n"                                          // 4
                        "    slack:\n"                                           // 5
                        "      webhook_url: https://hooks.slack.com/x\n"         // 6
                        "      webhook_url_file: /u\n"                           // 7
                        "      icon_url: hooks.slack.com/i.png\n"                // 8
                        "      chanel: '#x'\n"                                   // 9
                        "  - name: c\n"                                          // 10
                        "    slack: { webhook_url_file: /nonexistent/url }\n"),  // 11
              ElementsAre("t.yaml:3:12: missing required key 'webhook_url' or "
                          "'webhook_url_file' in receivers[0].slack",
                          "t.yaml:7:25: receivers[1].slack.webhook_url_file: give webhook_url or "
                          "webhook_url_file, not both",
                          "t.yaml:8:17: receivers[1].slack.icon_url: invalid URL "
                          "'hooks.slack.com/…': expected http:// or https://",
                          "t.yaml:9:7: unknown key 'chanel' in receivers[1].slack; did you mean "
                          "'channel'?",
                          "t.yaml:11:32: receivers[2].slack.webhook_url_file: cannot read "
                          "'/nonexistent/url': No such file or directory"));
}

// The cases the config loader checked before each factory read its own section: the same
// messages at the same places.
struct error_case {
  std::string name, yaml;
  std::vector<std::string> errors;
};

const error_case error_cases[] = {
    {"unknown_nested_receiver_key",
     "receivers:\n"
     "  - name: r\n"
     "    email:\n"
     "      smarthost: smtp.example.com:25\n"
     "      from: a@example.com\n"
     "      to: [b@example.com]\n"
     "      auth: { usrname: u, password_file: /p }\n",
     {"t.yaml:7:13: missing required key 'username' in receivers[0].email.auth",
      "t.yaml:7:15: unknown key 'usrname' in receivers[0].email.auth; did you mean "
      "'username'?",
      "t.yaml:7:42: receivers[0].email.auth.password_file: cannot read '/p': No such file or "
      "directory"}},
    {"email_missing_to_and_bad_smarthost",
     "receivers:\n  - name: a\n    email: { smarthost: smtp.example.com, from: a@b }\n",
     {"t.yaml:3:12: missing required key 'to' in receivers[0].email",
      "t.yaml:3:25: receivers[0].email.smarthost: invalid endpoint 'smtp.example.com': missing "
      "port"}},
    {"email_empty_to",
     "receivers:\n  - name: a\n    email: { smarthost: 'h:25', from: a@b, to: [] }\n",
     {"t.yaml:3:48: receivers[0].email.to: must not be empty"}},
    {"email_to_without_an_address",
     "receivers:\n  - name: a\n    email: { smarthost: 'h:25', from: a@b, to: [' , '] }\n",
     {"t.yaml:3:48: receivers[0].email.to: needs at least one address"}},
    {"pagerduty_bad_severity",
     "receivers:\n  - name: a\n    pagerduty: { routing_key_file: /dev/null, severity: critcal }\n",
     {"t.yaml:3:36: receivers[0].pagerduty.routing_key_file: cannot read '/dev/null': the file "
      "is empty",
      "t.yaml:3:57: receivers[0].pagerduty.severity: invalid value 'critcal'; expected one of "
      "critical, error, warning, info; did you mean 'critical'?"}},
    {"alertmanager_and_file_need_their_key",
     "receivers:\n  - name: a\n    alertmanager: {}\n  - name: b\n    file:\n",
     {"t.yaml:3:19: missing required key 'url' in receivers[0].alertmanager",
      "t.yaml:5:5: missing required key 'path' in receivers[1].file"}},
    {"section_is_not_a_mapping",
     "receivers:\n  - name: a\n    webhook: http://x\n",
     {"t.yaml:3:14: receivers[0].webhook: expected a mapping, got 'http://x'"}},
    {"unknown_integration_suggested",
     "receivers:\n  - name: a\n    pagerduty2: {}\n",
     {"t.yaml:3:5: receiver a: unknown integration 'pagerduty2'; did you mean 'pagerduty'?"}},
};

class notifier_settings_errors : public ::testing::TestWithParam<error_case> {};

TEST_P(notifier_settings_errors, reports_file_line_column) {
  const error_case& c = GetParam();
  EXPECT_THAT(errors_of(c.yaml), ElementsAreArray(c.errors)) << c.yaml;
}

INSTANTIATE_TEST_SUITE_P(table, notifier_settings_errors, ::testing::ValuesIn(error_cases),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tocsin::sinks
