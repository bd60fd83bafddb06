// Moving from Alertmanager: files `amtool check-config` (Alertmanager 0.25, Debian's) accepts
// pass `tocsin check-config` unchanged, and what tocsin does not do is named precisely, with
// FILE:LINE:COL. The files follow the cases of Alertmanager's own config test data (a complete
// file, empty global fields, http_config, grouping by everything, several integrations per
// receiver, secrets in files).

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::test {
namespace {

command_result amtool_check(const std::filesystem::path& file) {
  return run_command({"amtool", "check-config", file.string()});
}

command_result tocsin_check(const std::filesystem::path& file) {
  return run_command({tocsin_binary().string(), "check-config", "-c", file.string()});
}

const std::vector<std::pair<std::string, std::string>> accepted_files = {
    {"complete.yml",
     "global:\n"
     "  smtp_smarthost: 'localhost:25'\n"
     "  smtp_from: 'alertmanager@example.org'\n"
     "  smtp_auth_username: 'alertmanager'\n"
     "  smtp_auth_password: 'secret'\n"
     "  smtp_hello: 'host.example.org'\n"
     "  slack_api_url: 'http://127.0.0.1:9/slack'\n"
     "  opsgenie_api_key: 'key'\n"
     "  resolve_timeout: 10m\n"
     "  http_config:\n"
     "    proxy_url: 'http://127.0.0.1:1025'\n"
     "templates:\n"
     "  - '/nonexistent/alertmanager/template/*.tmpl'\n"
     "route:\n"
     "  group_by: ['alertname', 'cluster', 'service']\n"
     "  group_wait: 30s\n"
     "  group_interval: 5m\n"
     "  repeat_interval: 3h\n"
     "  receiver: team-X-mails\n"
     "  routes:\n"
     "    - match_re:\n"
     "        service: ^(foo1|foo2|baz)$\n"
     "      receiver: team-X-mails\n"
     "      routes:\n"
     "        - match:\n"
     "            severity: critical\n"
     "          receiver: team-X-pager\n"
     "    - match:\n"
     "        service: database\n"
     "      receiver: team-DB-pager\n"
     "      group_by: [alertname, cluster, database]\n"
     "      routes:\n"
     "        - match: { owner: team-X }\n"
     "          receiver: team-X-pager\n"
     "          continue: true\n"
     "inhibit_rules:\n"
     "  - source_match:\n"
     "      severity: 'critical'\n"
     "    target_match:\n"
     "      severity: 'warning'\n"
     "    equal: ['alertname', 'cluster', 'service']\n"
     "receivers:\n"
     "  - name: 'team-X-mails'\n"
     "    email_configs:\n"
     "      - to: 'team-X+alerts@example.org'\n"
     "  - name: 'team-X-pager'\n"
     "    email_configs:\n"
     "      - to: 'team-X+alerts-critical@example.org'\n"
     "    pagerduty_configs:\n"
     "      - routing_key: 'secret'\n"
     "  - name: 'team-DB-pager'\n"
     "    pagerduty_configs:\n"
     "      - routing_key: 'secret'\n"
     "    slack_configs:\n"
     "      - channel: '#db'\n"
     "        title: '{{ template \"slack.default.title\" . }}'\n"
     "    webhook_configs:\n"
     "      - url: 'http://127.0.0.1:9/hook'\n"
     "        max_alerts: 10\n"},
    {"empty-fields.yml",
     "global:\n"
     "  smtp_smarthost: 'localhost:25'\n"
     "  smtp_from: 'alertmanager@example.org'\n"
     "  smtp_auth_username: ''\n"
     "  smtp_auth_password: ''\n"
     "  smtp_hello: ''\n"
     "  slack_api_url: 'https://slack.example.com/webhook'\n"
     "route:\n"
     "  group_by: ['alertname']\n"
     "  receiver: team-X-mails\n"
     "receivers:\n"
     "- name: 'team-X-mails'\n"
     "  email_configs:\n"
     "  - to: 'team-X+alerts@example.org'\n"},
    {"http-config.yml",
     "global:\n"
     "  slack_api_url: 'https://slack.example.com/webhook'\n"
     "route:\n"
     "  receiver: team-X-slack\n"
     "receivers:\n"
     "- name: 'team-X-slack'\n"
     "  slack_configs:\n"
     "    - http_config:\n"
     "        proxy_url: 'http://127.0.0.1:3128'\n"
     "- name: 'hook'\n"
     "  webhook_configs:\n"
     "    - url: 'https://127.0.0.1:9/hook'\n"
     "      http_config:\n"
     "        basic_auth: { username: u, password: p }\n"
     "        tls_config: { insecure_skip_verify: true }\n"},
    {"group-by-all.yml",
     "route:\n"
     "  group_by: ['...']\n"
     "  group_wait: 30s\n"
     "  receiver: team-X\n"
     "receivers:\n"
     "- name: 'team-X'\n"},
    {"secrets-in-files.yml",
     "global:\n"
     "  slack_api_url_file: 'slack-url'\n"
     "route:\n"
     "  receiver: chat\n"
     "receivers:\n"
     "- name: chat\n"
     "  slack_configs:\n"
     "    - channel: '#a'\n"
     "  telegram_configs:\n"
     "    - bot_token: '123456:ABCDEF'\n"
     "      chat_id: -1001234567890\n"
     "  email_configs:\n"
     "    - to: 'a@example.org'\n"
     "      from: 'am@example.org'\n"
     "      smarthost: 'localhost:587'\n"
     "      auth_username: am\n"
     "      auth_password_file: 'smtp-password'\n"},
};

TEST(alertmanager_migration, files_amtool_accepts_pass_check_config) {
  temp_dir dir("am-migration");
  dir.write_file("slack-url", "https://slack.example.com/webhook/T0/B0/x\n");
  dir.write_file("smtp-password", "secret\n");
  for (const auto& [name, yaml] : accepted_files) {
    SCOPED_TRACE(name);
    const auto path = dir.write_file(name, yaml);
    const auto am = amtool_check(path);
    ASSERT_EQ(am.exit_code, 0) << "amtool refuses the test's own file:\n"
                               << am.stdout_text << am.stderr_text;
    const auto ours = tocsin_check(path);
    EXPECT_EQ(ours.exit_code, 0) << ours.stdout_text << ours.stderr_text;
  }
}

TEST(alertmanager_migration, what_tocsin_does_not_do_is_named_with_its_location) {
  temp_dir dir("am-migration");
  const auto path = dir.write_file("unsupported.yml",
                                   "route:\n"                                       // 1
                                   "  receiver: mixed\n"                            // 2
                                   "receivers:\n"                                   // 3
                                   "- name: mixed\n"                                // 4
                                   "  pushover_configs:\n"                          // 5
                                   "    - token: t\n"                               // 6
                                   "      user_key: k\n"                            // 7
                                   "  slack_configs:\n"                             // 8
                                   "    - api_url: 'http://127.0.0.1:9/s'\n"        // 9
                                   "      actions:\n"                               // 10
                                   "        - type: button\n"                       // 11
                                   "          text: 'Runbook'\n"                    // 12
                                   "          url: 'http://runbook.example.org'\n"  // 13
                                   "      http_config:\n"                           // 14
                                   "        oauth2:\n"                              // 15
                                   "          client_id: a\n"                       // 16
                                   "          client_secret: b\n"                   // 17
                                   "          token_url: 'http://127.0.0.1:9/t'\n"  // 18
                                   "  email_configs:\n"                             // 19
                                   "    - to: 'a@example.org'\n"                    // 20
                                   "      from: 'b@example.org'\n"                  // 21
                                   "      smarthost: 'localhost:25'\n"              // 22
                                   "      hello: 'host.example.org'\n");            // 23
  ASSERT_EQ(amtool_check(path).exit_code, 0);
  const auto ours = tocsin_check(path);
  EXPECT_EQ(ours.exit_code, 1);
  const std::string at = path.string() + ":";
  for (const std::string& expected : {
           at + "6:7: receivers[0].pushover_configs[0]: tocsin does not support Alertmanager's "
                "pushover integration",
           at + "16:11: receivers[0].slack_configs[0].http_config.oauth2: tocsin does not support "
                "OAuth 2.0 here",
           "warning: " + at + "23:7: receivers[0].email_configs[0].hello: ignored",
       }) {
    EXPECT_NE(ours.stderr_text.find(expected), std::string::npos)
        << "missing " << expected << " in:\n"
        << ours.stderr_text;
  }
}

}  // namespace
}  // namespace tocsin::test
