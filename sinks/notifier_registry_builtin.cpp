#include <algorithm>

#include "core/rfc3339.hpp"
#include "sinks/notifier.hpp"
#include "sinks/notifier_email.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {

void register_builtin_notifiers(notifier_registry& registry) {
  registry.add("slack", make_slack_notifier);
  registry.add("email", [](const config::receiver_config& r) { return make_email_notifier(r); });
  registry.add("webhook", make_webhook_notifier);
  registry.add("pagerduty", make_pagerduty_notifier);
  registry.add("alertmanager", make_alertmanager_notifier);
  registry.add("file", make_file_notifier);
  registry.add("msteamsv2", make_msteamsv2_notifier);
  registry.add("telegram", make_telegram_notifier);
  registry.add("discord", make_discord_notifier);
  registry.add("mattermost", make_mattermost_notifier);
  registry.add("opsgenie", make_opsgenie_notifier);
}

std::string json_body(const nlohmann::ordered_json& body) {
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string format_time(std::chrono::system_clock::time_point tp) {
  if (tp == std::chrono::system_clock::time_point{}) return "0001-01-01T00:00:00Z";
  return format_rfc3339_millis(tp);
}

nlohmann::ordered_json webhook_v4_body(const notification& n, std::size_t max_alerts) {
  const std::size_t sent =
      max_alerts == 0 ? n.alerts.size() : std::min(max_alerts, n.alerts.size());
  auto alerts = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < sent; ++i) {
    const rules::alert& a = n.alerts[i];
    alerts.push_back({
        {"status", a.firing ? "firing" : "resolved"},
        {"labels", a.labels},
        {"annotations", a.annotations},
        {"startsAt", format_time(a.starts_at)},
        // Alertmanager hides an end time that has not been reached yet.
        {"endsAt", format_time(a.firing ? std::chrono::system_clock::time_point{} : a.ends_at)},
        {"generatorURL", a.generator_url},
        {"fingerprint", a.fingerprint},
    });
  }
  return {
      {"receiver", n.receiver},
      {"status", n.firing() ? "firing" : "resolved"},
      {"alerts", std::move(alerts)},
      {"groupLabels", n.group_labels},
      {"commonLabels", n.common_labels()},
      {"commonAnnotations", n.common_annotations()},
      {"externalURL", n.external_url},
      {"version", "4"},
      {"groupKey", n.group_key},
      {"truncatedAlerts", n.alerts.size() - sent},
  };
}

std::string truncate_utf8(std::string_view text, std::size_t max_chars) {
  if (max_chars == 0) return {};
  // Walk code points (lead bytes are those that are not 10xxxxxx continuation bytes).
  std::size_t chars = 0;
  std::size_t cut = std::string_view::npos;  // byte offset where char max_chars - 1 starts
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (chars == max_chars - 1) cut = i;
    if (++chars > max_chars) return std::string(text.substr(0, cut)) + "…";
  }
  return std::string(text);
}

void append_html_escaped(std::string_view text, std::string& out, html_quotes quotes) {
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += quotes == html_quotes::escape ? "&quot;" : "\"";
        break;
      case '\'':
        out += quotes == html_quotes::escape ? "&#39;" : "'";
        break;
      default:
        out += c;
    }
  }
}

std::string html_escaped(std::string_view text, html_quotes quotes) {
  std::string out;
  out.reserve(text.size());
  append_html_escaped(text, out, quotes);
  return out;
}

}  // namespace tocsin::sinks
