// Alertmanager templates, tocsin against the real thing: Debian's Alertmanager 0.25 sends a Slack
// notification (to an HTTP capture server) whose title, text, pretext, footer, defaults and
// fields are its documented example templates, a user template file, every named template of
// its default.tmpl and email.tmpl and texts using its functions, and an email (to an SMTP
// capture server) with its default HTML body and Subject; tocsin renders the same texts for the
// same notification with sinks/template_data.hpp, and each must equal Alertmanager's, byte for
// byte. (The templates are not wired into tocsin's receivers yet, so the library does
// tocsin's side.)

#include <gtest/gtest.h>

#include <algorithm>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "sinks/notifier.hpp"
#include "sinks/template_data.hpp"
#include "tests/support/files.hpp"
#include "tests/support/http_capture.hpp"
#include "tests/support/net.hpp"
#include "tests/support/process.hpp"
#include "tests/support/smtp_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Alertmanager 0.25's defaults for the Slack fields this test leaves unset (config/notifiers.go).
const std::map<std::string, std::string> slack_defaults = {
    {"color", R"({{ if eq .Status "firing" }}danger{{ else }}good{{ end }})"},
    {"username", R"({{ template "slack.default.username" . }})"},
    {"title_link", R"({{ template "slack.default.titlelink" . }})"},
    {"icon_emoji", R"({{ template "slack.default.iconemoji" . }})"},
    {"icon_url", R"({{ template "slack.default.iconurl" . }})"},
    {"fallback", R"({{ template "slack.default.fallback" . }})"},
    {"callback_id", R"({{ template "slack.default.callbackid" . }})"},
};

// The fields set here: Alertmanager's "Notification template examples" (docs), a template from
// a `templates:` file, and the default text.
const std::map<std::string, std::string> slack_texts = {
    {"title", "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}"},
    {"text",
     "<!channel> \nsummary: {{ .CommonAnnotations.summary }}\ndescription: "
     "{{ .CommonAnnotations.description }}\n{{ range .Alerts }}{{ .Annotations.description }}\n"
     "{{ end }}{{ template \"slack.default.text\" . }}"},
    {"pretext", R"({{ template "slack.myorg.text" . }})"},
    {"footer",
     "https://internal.myorg.net/wiki/alerts/{{ .GroupLabels.app }}/{{ .GroupLabels.alertname }} "
     "{{ template \"email.default.subject\" . }}"},
};

// The email's html (through Go's html/template there) and Subject (text): the default HTML plus
// values landing in text, an attribute and a URL.
const std::string email_html =
    R"({{ template "email.default.html" . }}<p title="{{ .CommonAnnotations.summary }}">)"
    R"({{ range .Alerts }}{{ .Annotations.description }}<a href="{{ .GeneratorURL }}">)"
    R"({{ .Labels.instance }}</a><!-- {{ .Status }} -->{{ end }}</p>)";
const std::string email_subject =
    R"({{ template "email.default.subject" . }}{{ .CommonLabels.job | toUpper }})";

const std::string myorg_tmpl =
    R"({{ define "slack.myorg.text" }}https://internal.myorg.net/wiki/alerts/{{ .GroupLabels.app }}/{{ .GroupLabels.alertname }}{{ end}})";

// Every named template of default.tmpl and email.tmpl and the function texts of the unit test's
// Go-rendered cases, minus those that are errors (an error stops Alertmanager's notification).
std::vector<std::string> field_texts() {
  const json cases = json::parse(read_file(source_dir() / "tests/unit/sinks/testdata/"
                                                          "alertmanager_default_templates.json"));
  std::vector<std::string> texts;
  for (const auto& [key, value] : cases.at("firing_and_resolved").items()) {
    if (value.get<std::string>().starts_with("ERROR: ")) continue;
    const bool is_name = key.find("{{") == std::string::npos && key.find(' ') == std::string::npos;
    texts.push_back(is_name ? "{{ template \"" + key + "\" . }}" : key);
  }
  // Which alerts Alertmanager put in the notification, in its order, as they arrived there.
  texts.emplace_back(
      "{{ range .Alerts }}{{ .Fingerprint }} {{ .Status }} {{ .StartsAt }} {{ .EndsAt }}\n{{ end "
      "}}");
  return texts;
}

// A YAML double-quoted scalar (JSON's string syntax is one).
std::string yaml_quoted(const std::string& s) { return json(s).dump(); }

std::string alertmanager_yml(const std::string& slack_url, std::uint16_t smtp_port,
                             const fs::path& template_dir, const std::vector<std::string>& fields) {
  std::string y = "route:\n";
  y += "  receiver: team-x.ops\n";
  y += "  group_by: [alertname, job]\n";
  y += "  group_wait: 1s\n";
  y += "  group_interval: 1m\n";
  y += "  repeat_interval: 1h\n";
  y += "templates:\n";
  y += "  - " + yaml_quoted((template_dir / "*.tmpl").string()) + "\n";
  y += "receivers:\n";
  y += "  - name: team-x.ops\n";
  y += "    email_configs:\n";
  y += "      - to: ops@example.com\n";
  y += "        from: alertmanager@example.com\n";
  y += "        smarthost: 127.0.0.1:" + std::to_string(smtp_port) + "\n";
  y += "        require_tls: false\n";
  y += "        send_resolved: true\n";
  y += "        html: " + yaml_quoted(email_html) + "\n";
  y += "        headers: { Subject: " + yaml_quoted(email_subject) + " }\n";
  y += "    slack_configs:\n";
  y += "      - api_url: " + yaml_quoted(slack_url) + "\n";
  y += "        send_resolved: true\n";
  y += "        channel: '#alerts'\n";
  for (const auto& [key, text] : slack_texts) {
    y += "        " + key + ": " + yaml_quoted(text) + "\n";
  }
  y += "        fields:\n";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    y += "          - title: " + yaml_quoted("field " + std::to_string(i)) + "\n";
    y += "            value: " + yaml_quoted(fields[i]) + "\n";
  }
  return y;
}

std::chrono::system_clock::time_point at(const std::string& rfc3339) {
  std::tm tm{};
  strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  auto t = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (const auto dot = rfc3339.find('.'); dot != std::string::npos) {
    std::string digits = rfc3339.substr(dot + 1, rfc3339.size() - dot - 2);
    digits.resize(9, '0');
    t += std::chrono::nanoseconds(std::stoll(digits));
  }
  return t;
}

// The two alerts as posted to Alertmanager and as tocsin holds them.
struct posted_alert {
  rules::label_set labels;
  std::map<std::string, std::string> annotations;
  std::string starts_at, ends_at;  // RFC 3339; ends_at "" while firing
  std::string generator_url;
};

const std::vector<posted_alert> posted = {
    {{{"alertname", "DiskFull"},
      {"instance", "db1:9100"},
      {"job", "node"},
      {"severity", "critical"}},
     {{"summary", "Disk /var is 95% full"}, {"description", "db1 has <5% & \"little\" left"}},
     "2026-01-02T03:04:05.123456789Z",
     "",
     "http://prometheus:9090/graph?g0.expr=disk&g0.tab=1"},
    {{{"alertname", "DiskFull"},
      {"instance", "db2:9100"},
      {"job", "node"},
      {"severity", "warning"}},
     {{"summary", "Disk /var is 95% full"}},
     "2026-01-02T03:00:00Z",
     "2026-01-02T04:00:00.5Z",
     "http://prometheus:9090/graph?g0.expr=disk"},
};

TEST(alertmanager_templates, tocsin_renders_what_a_real_alertmanager_sends) {
  const fs::path alertmanager = find_program("prometheus-alertmanager");
  if (alertmanager.empty()) GTEST_SKIP() << "prometheus-alertmanager is not installed";

  http_capture slack;
  smtp_server smtp;
  temp_dir dir("am-templates");
  fs::create_directories(dir / "templates");
  fs::create_directories(dir / "data");
  write_file(dir / "templates" / "myorg.tmpl", myorg_tmpl);
  const std::vector<std::string> fields = field_texts();
  ASSERT_GT(fields.size(), 50U);
  dir.write_file("alertmanager.yml",
                 alertmanager_yml(slack.url("/slack"), smtp.port(), dir / "templates", fields));

  const std::uint16_t port = free_port();
  process_options options;
  options.stdout_path = dir / "alertmanager.out";
  options.stderr_path = dir / "alertmanager.err";
  const std::string external_url = "http://am.example.com:9093";
  child_process am({alertmanager.string(), "--config.file=" + (dir / "alertmanager.yml").string(),
                    "--storage.path=" + (dir / "data").string(),
                    "--web.listen-address=127.0.0.1:" + std::to_string(port),
                    "--web.external-url=" + external_url, "--cluster.listen-address="},
                   options);
  const auto am_log = [&] { return read_file_if_present(dir / "alertmanager.err"); };
  ASSERT_TRUE(
      wait_until([&] { return http_get("127.0.0.1", port, "/-/ready", 1s).status == 200; }, 20s))
      << "Alertmanager did not become ready:\n"
      << am_log();

  json body = json::array();
  for (const posted_alert& p : posted) {
    json a = {{"labels", p.labels},
              {"annotations", p.annotations},
              {"startsAt", p.starts_at},
              {"generatorURL", p.generator_url}};
    if (!p.ends_at.empty()) a["endsAt"] = p.ends_at;
    body.push_back(a);
  }
  const auto posted_reply = http_request("POST", "127.0.0.1", port, "/api/v2/alerts", body.dump());
  ASSERT_EQ(posted_reply.status, 200) << posted_reply.body;
  ASSERT_TRUE(slack.wait_for(1, 30s)) << "no Slack notification; Alertmanager log:\n" << am_log();
  const json sent = json::parse(slack.requests().front().body);
  const json& attachment = sent.at("attachments").at(0);
  const json& sent_fields = attachment.at("fields");
  ASSERT_EQ(sent_fields.size(), fields.size());

  // The notification tocsin would hand the receiver: the same alerts in Alertmanager's order
  // (read back from the last field: fingerprint, status per line).
  sinks::notification n;
  n.receiver = "team-x.ops";
  n.group_labels = {{"alertname", "DiskFull"}, {"job", "node"}};
  n.external_url = external_url;
  const std::string order = sent_fields.back().value("value", "");
  for (std::size_t line = 0; line < order.size();) {
    const std::size_t end = order.find('\n', line);
    const std::string fingerprint = order.substr(line, 16);
    line = end + 1;
    bool found = false;
    for (const posted_alert& p : posted) {
      if (rules::fingerprint(p.labels) != fingerprint) continue;
      rules::alert a;
      a.labels = p.labels;
      a.annotations = p.annotations;
      a.fingerprint = fingerprint;  // tocsin's fingerprint is Alertmanager's
      a.generator_url = p.generator_url;
      a.starts_at = at(p.starts_at);
      a.firing = p.ends_at.empty();
      a.ends_at =
          a.firing ? std::chrono::system_clock::now() + std::chrono::minutes(5) : at(p.ends_at);
      n.alerts.push_back(a);
      found = true;
    }
    ASSERT_TRUE(found) << "Alertmanager sent an alert with fingerprint " << fingerprint
                       << " that tocsin does not compute:\n"
                       << order;
  }
  ASSERT_EQ(n.alerts.size(), 2U) << order;
  // Handed over in the other order: the template data sorts them as Alertmanager does.
  std::reverse(n.alerts.begin(), n.alerts.end());

  const auto templates =
      sinks::load_alertmanager_templates({(dir / "templates" / "*.tmpl").string()});
  auto render = [&](const std::string& text) {
    const auto r = sinks::render_alertmanager_text(templates, text, n, {"alertmanager.yml", 1});
    EXPECT_TRUE(r.ok()) << r.error;
    return r.text;
  };
  for (const auto& [key, text] : slack_texts) {
    EXPECT_EQ(render(text), attachment.value(key, "")) << key << ": " << text;
  }
  for (const auto& [key, text] : slack_defaults) {
    const json& where =
        key == "username" || key == "icon_emoji" || key == "icon_url" ? sent : attachment;
    EXPECT_EQ(render(text), where.value(key, "")) << key << ": " << text;
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    EXPECT_EQ(render(fields[i]), sent_fields[i].value("value", ""))
        << "field " << i << ": " << fields[i];
  }

  // The email: its Subject as text, its html through html/template's escaping.
  ASSERT_TRUE(wait_until([&] { return !smtp.messages().empty(); }, 30s))
      << "no email; Alertmanager log:\n"
      << am_log();
  const json mail = smtp.messages().front();
  EXPECT_EQ(render(email_subject), mail.at("headers").value("Subject", ""));
  std::string their_html;
  for (const json& part : mail.at("parts")) {
    if (part.value("type", "") == "text/html") their_html = part.value("content", "");
  }
  // Quoted-printable travels with CRLF line ends; the template's are LF.
  for (auto at = their_html.find("\r\n"); at != std::string::npos;
       at = their_html.find("\r\n", at)) {
    their_html.erase(at, 1);
  }
  const auto ours = sinks::render_alertmanager_text(
      templates, email_html, n, {"alertmanager.yml", 1}, sinks::go_template::escaping::html);
  ASSERT_TRUE(ours.ok()) << ours.error;
  EXPECT_GT(their_html.size(), 10000U);
  EXPECT_EQ(ours.text, their_html);

  // The same alertmanager.yml loaded by tocsin: its receiver sends the same Slack message (every
  // part of it, defaults included) and the same email Subject and HTML.
  const config::config cfg = config::load_file(dir / "alertmanager.yml");
  sinks::notifier_registry registry;
  sinks::register_builtin_notifiers(registry);
  const auto receivers = config::receivers_by_name(cfg.receivers);
  ASSERT_EQ(receivers.size(), 1U);
  const auto receiver = registry.create(receivers.front());
  n.group_key = "{}:{alertname=\"DiskFull\", job=\"node\"}";
  const sinks::delivery_result result = receiver->send(n);
  ASSERT_EQ(result.result, sinks::delivery_result::outcome::delivered) << result.detail;
  ASSERT_EQ(slack.requests().size(), 2U);
  EXPECT_EQ(json::parse(slack.requests()[1].body), sent);
  ASSERT_TRUE(wait_until([&] { return smtp.messages().size() == 2; }, 30s));
  const json our_mail = smtp.messages()[1];
  EXPECT_EQ(our_mail.at("headers").value("Subject", ""), mail.at("headers").value("Subject", ""));
  std::string our_html;
  for (const json& part : our_mail.at("parts")) {
    if (part.value("type", "") == "text/html") our_html = part.value("content", "");
  }
  for (auto at = our_html.find("\r\n"); at != std::string::npos; at = our_html.find("\r\n", at)) {
    our_html.erase(at, 1);
  }
  EXPECT_EQ(our_html, their_html);
}

}  // namespace
}  // namespace tocsin::test
