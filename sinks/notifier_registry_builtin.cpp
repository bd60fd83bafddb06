#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

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
}

config::config_error receiver_error(const config::receiver_config& receiver,
                                    std::string_view message) {
  return config::config_error({config::location_prefix(receiver.where) + "receiver " +
                               receiver.name + ": " + std::string(message)});
}

std::string setting_or(const config::receiver_config& receiver, const std::string& key,
                       std::string fallback) {
  const auto it = receiver.settings.find(key);
  return it == receiver.settings.end() ? std::move(fallback) : it->second;
}

std::string read_secret_file(const config::receiver_config& receiver, const std::string& key) {
  const std::string path = setting_or(receiver, key);
  if (path.empty()) return {};
  std::ifstream in(path);
  if (!in) {
    throw receiver_error(receiver, key + ": cannot read " + path + ": " + std::strerror(errno));
  }
  std::string line;
  std::getline(in, line);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  if (line.empty()) throw receiver_error(receiver, key + ": " + path + " is empty");
  return line;
}

std::chrono::milliseconds duration_setting(const config::receiver_config& receiver,
                                           const std::string& key,
                                           std::chrono::milliseconds fallback) {
  const auto it = receiver.settings.find(key);
  if (it == receiver.settings.end()) return fallback;
  const auto d = config::parse_duration(it->second);
  if (!d) throw receiver_error(receiver, key + ": not a duration: " + it->second);
  return *d;
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

}  // namespace tocsin::sinks
