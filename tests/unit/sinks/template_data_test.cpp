// Alertmanager's templates in tocsin: every named template of its default.tmpl and email.tmpl,
// and receiver texts using its functions, render for a notification exactly as Alertmanager
// renders them. The expected text (testdata/alertmanager_default_templates.json) was produced by
// Go's text/template (missingkey=zero) executing Debian's Alertmanager 0.25 default.tmpl and
// email.tmpl with Alertmanager's template.Data, KV, Pairs and Alerts types and its 0.25
// functions (title from golang.org/x/text/cases), over the same two notifications as here; the
// "_html" scenarios by Go's html/template, as Alertmanager renders an email's `html`.
// tests/integration/alertmanager_templates_test.cpp checks the same against the real binary.

#include "sinks/template_data.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace tocsin::sinks {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::chrono::system_clock::time_point at(const char* rfc3339) {
  const std::string text = rfc3339;
  // Nanosecond precision: whole seconds from the date, the fraction by hand.
  std::tm tm{};
  strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  auto t = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (const auto dot = text.find('.'); dot != std::string::npos) {
    std::string digits = text.substr(dot + 1, text.size() - dot - 2);
    digits.resize(9, '0');
    t += std::chrono::nanoseconds(std::stoll(digits));
  }
  return t;
}

rules::alert disk_alert(const std::string& instance, const std::string& severity, bool firing) {
  rules::alert a;
  a.labels = {
      {"alertname", "DiskFull"}, {"instance", instance}, {"job", "node"}, {"severity", severity}};
  a.annotations = {{"summary", "Disk /var is 95% full"}};
  a.firing = firing;
  a.fingerprint = rules::fingerprint(a.labels);
  if (firing) {
    a.annotations["description"] = "db1 has <5% & \"little\" left";
    a.starts_at = at("2026-01-02T03:04:05.123456789Z");
    a.ends_at = a.starts_at + 5min;  // not reached yet: templates see Go's zero time
    a.generator_url = "http://prometheus:9090/graph?g0.expr=disk&g0.tab=1";
  } else {
    a.starts_at = at("2026-01-02T03:00:00Z");
    a.ends_at = at("2026-01-02T04:00:00.5Z");
    a.generator_url = "http://prometheus:9090/graph?g0.expr=disk";
  }
  return a;
}

notification disk_notification(bool with_firing) {
  notification n;
  n.receiver = "team-x.ops";  // Alertmanager quotes it as a regexp: team-x\.ops
  n.group_key = "{}:{alertname=\"DiskFull\", job=\"node\"}";
  n.group_labels = {{"alertname", "DiskFull"}, {"job", "node"}};
  if (with_firing) n.alerts.push_back(disk_alert("db1:9100", "critical", true));
  n.alerts.push_back(disk_alert("db2:9100", "warning", false));
  n.external_url = "http://am.example.com:9093";
  return n;
}

nlohmann::json expected_renders() {
  std::ifstream in(std::string(TOCSIN_SOURCE_DIR) +
                   "/tests/unit/sinks/testdata/alertmanager_default_templates.json");
  return nlohmann::json::parse(in);
}

void check_scenario(const std::string& scenario, const notification& n,
                    go_template::escaping mode = go_template::escaping::text) {
  const go_template::template_set templates = load_alertmanager_templates();
  const go_template::value data = alertmanager_template_data(n);
  const nlohmann::json expected = expected_renders().at(scenario);
  ASSERT_GT(expected.size(), mode == go_template::escaping::text ? 50U : 5U);
  for (const auto& [key, value] : expected.items()) {
    SCOPED_TRACE(scenario + ": " + key);
    const std::string want = value.get<std::string>();
    const bool is_name = key.find("{{") == std::string::npos && key.find(' ') == std::string::npos;
    if (is_name) EXPECT_TRUE(templates.defines(key));
    const go_template::render_result got =
        is_name ? templates.execute(key, data, mode)
                : render_alertmanager_text(templates, key, n, {"alertmanager.yml", 12}, mode);
    if (want.starts_with("ERROR: ")) {
      EXPECT_FALSE(got.ok()) << got.text;
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.error;
    EXPECT_EQ(got.text, want);
  }
}

TEST(alertmanager_templates, default_templates_render_like_alertmanager_firing_and_resolved) {
  check_scenario("firing_and_resolved", disk_notification(true));
}

TEST(alertmanager_templates, default_templates_render_like_alertmanager_resolved_only) {
  check_scenario("resolved_only", disk_notification(false));
}

// An email's `html` goes through html/template in Alertmanager: values are escaped for where
// they land (text, attributes, URLs, scripts), template comments are dropped.
TEST(alertmanager_templates, html_renders_like_alertmanagers_html_template_firing_and_resolved) {
  check_scenario("firing_and_resolved_html", disk_notification(true), go_template::escaping::html);
}

TEST(alertmanager_templates, html_renders_like_alertmanagers_html_template_resolved_only) {
  check_scenario("resolved_only_html", disk_notification(false), go_template::escaping::html);
}

TEST(alertmanager_templates, every_template_alertmanager_0_25_defines_is_there) {
  const auto templates = load_alertmanager_templates();
  for (const char* name :
       {"slack.default.title", "slack.default.text", "slack.default.fallback",
        "slack.default.titlelink", "email.default.subject", "email.default.html",
        "pagerduty.default.description", "pagerduty.default.instances", "opsgenie.default.message",
        "opsgenie.default.description", "wechat.default.message", "victorops.default.state_message",
        "pushover.default.message", "sns.default.message", "telegram.default.message",
        "discord.default.title", "discord.default.message", "webex.default.message"}) {
    EXPECT_TRUE(templates.defines(name)) << name;
  }
}

TEST(alertmanager_templates, user_files_from_globs_add_and_override_templates) {
  test::temp_dir dir;
  dir.write_file("b.tmpl", R"({{ define "slack.default.title" }}custom {{ .Status }}{{ end }})");
  dir.write_file("a.tmpl",
                 R"({{ define "myorg.text" }}wiki/{{ .GroupLabels.alertname }}{{ end }})");
  dir.write_file("ignored.txt", "{{ broken");
  const auto templates = load_alertmanager_templates(
      {(dir.path() / "*.tmpl").string(), (dir.path() / "none-*.tmpl").string()});
  const notification n = disk_notification(true);
  EXPECT_EQ(
      render_alertmanager_text(templates, R"({{ template "slack.default.title" . }})", n).text,
      "custom firing");
  EXPECT_EQ(render_alertmanager_text(templates, R"({{ template "myorg.text" . }})", n).text,
            "wiki/DiskFull");
  // The built-in ones that were not overridden are still there.
  EXPECT_EQ(
      render_alertmanager_text(templates, R"({{ template "email.default.subject" . }})", n).text,
      "[FIRING:1] DiskFull node ");
}

TEST(alertmanager_templates, a_broken_user_file_names_its_path_and_line) {
  test::temp_dir dir;
  const auto path =
      dir.write_file("bad.tmpl", "{{ define \"x\" }}\nok\n{{ .Foo | }}{{ nosuch }}\n{{ end }}");
  try {
    (void)load_alertmanager_templates({path.string()});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              path.string() + ":3: template: function \"nosuch\" not defined");
  }
}

TEST(alertmanager_templates, receiver_text_errors_name_the_config_file_and_line) {
  const auto templates = load_alertmanager_templates();
  const notification n = disk_notification(true);
  const auto parse =
      render_alertmanager_text(templates, "ok\n{{ if }}", n, {"alertmanager.yml", 30});
  EXPECT_EQ(parse.error, "alertmanager.yml:31: template: missing value for if");
  const auto exec =
      render_alertmanager_text(templates, "{{ template \"nope\" . }}", n, {"alertmanager.yml", 30});
  EXPECT_THAT(exec.error, HasSubstr("alertmanager.yml:30: template: executing"));
  EXPECT_THAT(exec.error, HasSubstr("template \"nope\" not defined"));
}

TEST(alertmanager_templates, receiver_texts_parse_into_a_copy_when_the_config_loads) {
  // As sinks/notification_text.cpp's text_reader does: each text in its own copy of the set.
  const auto templates = load_alertmanager_templates();
  auto copy = templates;
  EXPECT_FALSE(copy.parse("title", R"({{ template "slack.default.title" . }})", {"am.yml", 3}));
  EXPECT_EQ(copy.parse("text", "{{ .Status | nosuch }}", {"am.yml", 3}).value_or(""),
            "am.yml:3: template: function \"nosuch\" not defined");
  // The shared set is left as it was.
  EXPECT_FALSE(copy.parse("more", R"({{ define "extra" }}x{{ end }})", {"am.yml", 3}));
  EXPECT_TRUE(copy.defines("extra"));
  EXPECT_FALSE(templates.defines("extra"));
}

TEST(alertmanager_templates, later_functions_work_too) {
  const auto templates = load_alertmanager_templates();
  const notification n = disk_notification(true);
  auto render = [&](const char* text) { return render_alertmanager_text(templates, text, n).text; };
  EXPECT_EQ(render(R"({{ "  padded \n" | trimSpace }})"), "padded");
  EXPECT_EQ(render(R"({{ (index .Alerts 0).StartsAt | date "2006-01-02 15:04" }})"),
            "2026-01-02 03:04");
  EXPECT_EQ(render(R"({{ (index .Alerts 0).StartsAt | tz "Europe/Madrid" | date "15:04 MST" }})"),
            "04:04 CET");
  EXPECT_EQ(
      render(
          R"({{ humanizeDuration 3723 }} {{ humanizeDuration 0.25 }} {{ humanizeDuration 1.5 }})"),
      "1h 2m 3s 250ms 1.5s");
  EXPECT_EQ(render(R"({{ urlUnescape "a%20b+c" }} {{ safeUrl "x" }})"), "a b c x");
  EXPECT_THAT(render(R"({{ since (index .Alerts 0).StartsAt }})"), HasSubstr("h"));
}

}  // namespace
}  // namespace tocsin::sinks
