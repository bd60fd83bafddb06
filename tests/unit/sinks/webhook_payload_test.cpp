// A webhook's `payload`: the body is the structure written, each text a template, so any alert
// value (quotes, newlines, backslashes) lands inside JSON strings and the body stays valid JSON.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "config/config.hpp"
#include "sinks/notification.hpp"
#include "sinks/notifier.hpp"
#include "tests/support/http_capture.hpp"

namespace tocsin::sinks {
namespace {

using nlohmann::json;

notification hostile_alert() {
  rules::alert a;
  a.labels = {{"alertname", "disk_full"}, {"host", "web\"1\\\n</script>"}};
  a.annotations = {{"summary", "quote \" backslash \\ newline \n tab \t end"}};
  a.firing = true;
  a.fingerprint = rules::fingerprint(a.labels);
  notification n;
  n.receiver = "ops";
  n.group_key = "{}:{alertname=\"disk_full\"}";
  n.group_labels = {{"alertname", "disk_full"}};
  n.alerts = {a};
  return n;
}

std::unique_ptr<notifier> make(const std::string& yaml) {
  const config::config cfg = config::load_string(yaml, "hook.yml");
  notifier_registry registry;
  register_builtin_notifiers(registry);
  return registry.create(config::receivers_by_name(cfg.receivers).front());
}

TEST(webhook_payload, texts_are_templates_and_values_stay_inside_json_strings) {
  test::http_capture hook;
  auto n = make("receivers:\n  - name: ops\n    webhook:\n      url: " + hook.url("/h") +
                "\n"
                "      payload:\n"
                "        text: '{{ alertname }} on {{ host }}: {{ summary }}'\n"
                "        go: '{{ range .Alerts }}{{ .Labels.host }}{{ end }} ({{ .Status }})'\n"
                "        count: 3\n"
                "        ok: true\n"
                "        none: null\n"
                "        quoted: '3'\n"
                "        list: ['{{ status }}', fixed]\n"
                "        nested: { receiver: '{{ .Receiver }}' }\n");
  ASSERT_EQ(n->send(hostile_alert()).result, delivery_result::outcome::delivered);
  ASSERT_EQ(hook.requests().size(), 1U);
  const json body = json::parse(hook.requests()[0].body);  // throws on invalid JSON
  const std::string host = "web\"1\\\n</script>";
  const std::string summary = "quote \" backslash \\ newline \n tab \t end";
  EXPECT_EQ(body, json::parse(json({{"text", "disk_full on " + host + ": " + summary},
                                    {"go", host + " (firing)"},
                                    {"count", 3},
                                    {"ok", true},
                                    {"none", nullptr},
                                    {"quoted", "3"},
                                    {"list", {"firing", "fixed"}},
                                    {"nested", {{"receiver", "ops"}}}})
                                  .dump()));
  // In the order written, not sorted.
  EXPECT_LT(hook.requests()[0].body.find("\"text\""), hook.requests()[0].body.find("\"count\""));
}

TEST(webhook_payload, webhook_configs_take_go_templates_and_report_their_errors) {
  test::http_capture hook;
  auto n = make("receivers:\n  - name: ops\n    webhook_configs:\n      - url: " + hook.url("/h") +
                "\n        payload:\n          title: '{{ .CommonLabels.alertname | toUpper }}'\n");
  ASSERT_EQ(n->send(hostile_alert()).result, delivery_result::outcome::delivered);
  EXPECT_EQ(json::parse(hook.requests()[0].body), json({{"title", "DISK_FULL"}}));

  try {
    (void)make(
        "receivers:\n  - name: ops\n    webhook_configs:\n      - url: http://127.0.0.1:1/\n"
        "        payload:\n          title: '{{ .Status'\n");
    FAIL() << "a broken template loads";
  } catch (const config::config_error& e) {
    ASSERT_EQ(e.errors().size(), 1U);
    EXPECT_NE(e.errors()[0].find("hook.yml:6"), std::string::npos) << e.errors()[0];
    EXPECT_NE(e.errors()[0].find("template"), std::string::npos) << e.errors()[0];
  }
}

}  // namespace
}  // namespace tocsin::sinks
