// pagerduty: PagerDuty Events API v2; one incident per group (dedup_key from the group key),
// triggered while any alert fires and resolved when all have resolved. A repeated event only
// updates the incident the dedup_key names; the notification's id is in custom_details and in
// the X-Tocsin-Notification-Id header.

#include <array>
#include <cstdint>
#include <cstdio>

#include "sinks/http_post.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

// Events API v2 limits: summary 1024 characters, dedup_key 255, the whole event 512 KB.
constexpr std::size_t max_summary_chars = 1024;
constexpr std::size_t max_details_chars = 100'000;  // per list: firing, resolved

// Higher is worse; 0 for what PagerDuty does not know.
int severity_rank(std::string_view s) {
  if (s == "critical") return 4;
  if (s == "error") return 3;
  if (s == "warning") return 2;
  if (s == "info") return 1;
  return 0;
}

bool is_pagerduty_severity(std::string_view s) { return severity_rank(s) > 0; }

// 16 hex digits of FNV-1a 64 over the group key: stable across restarts and tocsin versions,
// and short whatever the group labels are.
std::string dedup_key(std::string_view group_key) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const unsigned char c : group_key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

// Alertmanager's "instances" text: each alert's labels, annotations and source.
std::string describe(const std::vector<rules::alert>& alerts, bool firing) {
  std::string out;
  for (const rules::alert& a : alerts) {
    if (a.firing != firing) continue;
    out += "Labels:\n";
    for (const auto& [k, v] : a.labels) out += " - " + k + " = " + v + "\n";
    out += "Annotations:\n";
    for (const auto& [k, v] : a.annotations) out += " - " + k + " = " + v + "\n";
    if (!a.generator_url.empty()) out += "Source: " + a.generator_url + "\n";
    out += "\n";
  }
  return truncate_utf8(out, max_details_chars);
}

constexpr std::string_view setting_keys[] = {"routing_key_file", "url",    "send_resolved",
                                             "severity",         "client", "client_url"};
constexpr std::string_view required_keys[] = {"routing_key_file"};
constexpr std::string_view severities[] = {"critical", "error", "warning", "info"};
constexpr std::string_view alertmanager_keys[] = {"routing_key",   "routing_key_file",
                                                  "service_key",   "service_key_file",
                                                  "url",           "client",
                                                  "client_url",    "description",
                                                  "details",       "images",
                                                  "links",         "source",
                                                  "severity",      "class",
                                                  "component",     "group",
                                                  "send_resolved", "http_config"};
constexpr std::string_view alertmanager_payload_keys[] = {
    "description", "details", "images", "links", "source", "class", "component", "group"};

struct pagerduty_settings {
  std::string url = "https://events.pagerduty.com/v2/enqueue";
  std::string routing_key;
  std::string default_severity = "error";
  std::string client = "tocsin";
  std::string client_url;
  bool send_resolved = true;
  http_post_request http;  // authentication, TLS and proxy settings (Alertmanager's http_config)
};

class pagerduty_notifier final : public notifier {
 public:
  explicit pagerduty_notifier(pagerduty_settings s)
      : notifier(s.send_resolved),
        routing_key_(std::move(s.routing_key)),
        default_severity_(std::move(s.default_severity)),
        client_(std::move(s.client)),
        client_url_(std::move(s.client_url)) {
    request_ = std::move(s.http);
    request_.url = std::move(s.url);
  }

  delivery_result send(const notification& n) override {
    http_post_request request = request_;
    add_notification_id(request, n);
    request.body = render(n).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return to_delivery_result(http_post(request));
  }

 private:
  [[nodiscard]] nlohmann::ordered_json render(const notification& n) const;

  std::string routing_key_, default_severity_, client_, client_url_;
  http_post_request request_;
};

nlohmann::ordered_json pagerduty_notifier::render(const notification& n) const {
  const bool firing = n.firing();
  const rules::label_set labels = n.common_labels();
  const auto annotations = n.common_annotations();
  const std::size_t num_firing = n.firing_count();

  // The common severity label, else the worst among the firing alerts; one PagerDuty does not
  // know falls back to the configured default.
  std::string severity;
  if (const auto it = labels.find("severity"); it != labels.end()) {
    severity = it->second;
  } else {
    for (const rules::alert& a : n.alerts) {
      const auto l = a.labels.find("severity");
      if (a.firing && l != a.labels.end() && severity_rank(l->second) > severity_rank(severity)) {
        severity = l->second;
      }
    }
  }
  if (!is_pagerduty_severity(severity)) severity = default_severity_;

  std::string summary = firing ? "[FIRING:" + std::to_string(num_firing) + "] " : "[RESOLVED] ";
  summary += n.display_name();
  if (const auto it = annotations.find("summary"); it != annotations.end()) {
    summary += ": " + it->second;
  }
  const auto host = labels.find("host");

  nlohmann::ordered_json body = {
      {"routing_key", routing_key_},
      {"event_action", firing ? "trigger" : "resolve"},
      {"dedup_key", dedup_key(n.group_key)},
      {"payload",
       {
           {"summary", truncate_utf8(summary, max_summary_chars)},
           {"severity", severity},
           {"source", host != labels.end() ? host->second : std::string("tocsin")},
           {"custom_details",
            {
                {"firing", describe(n.alerts, true)},
                {"resolved", describe(n.alerts, false)},
                {"num_firing", num_firing},
                {"num_resolved", n.alerts.size() - num_firing},
            }},
       }},
      {"client", client_},
  };
  const std::string client_url = client_url_.empty() ? n.external_url : client_url_;
  if (!client_url.empty()) body["client_url"] = client_url;
  if (!n.id.empty()) body["payload"]["custom_details"]["notification_id"] = n.id;
  return body;
}

// `pagerduty_configs` items: Alertmanager's keys for the Events API v2. The payload stays
// tocsin's (summary, severity, custom_details), so the keys that shape Alertmanager's are
// ignored with a warning.
std::unique_ptr<notifier> make_alertmanager_pagerduty(const config::receiver_config& receiver) {
  config::section_reader in(receiver, alertmanager_keys);
  in.ignore(alertmanager_payload_keys, "tocsin sends its own PagerDuty payload");
  constexpr std::string_view v1_keys[] = {"service_key", "service_key_file"};
  for (std::string_view key : v1_keys) {
    if (in.has(key)) {
      in.error(key, "the Events API v1 is not supported; give the v2 integration's routing_key");
    }
  }
  pagerduty_settings s;
  s.routing_key = value_or_file(in, "routing_key").value_or("");
  constexpr std::string_view key_names[] = {"routing_key", "routing_key_file", "service_key",
                                            "service_key_file"};
  in.require_one_of(key_names);
  if (auto v = in.url("url")) {
    s.url = std::move(*v);
  } else if (!global_of(receiver).pagerduty_url.empty()) {
    s.url = global_of(receiver).pagerduty_url;
  }
  // Alertmanager's severity is a template; a fixed value is the one tocsin can check.
  if (in.has("severity") && in.text("severity").value_or("").find("{{") != std::string::npos) {
    in.ignore(std::array<std::string_view, 1>{"severity"},
              "a templated severity; tocsin takes the alerts' severity label");
  } else if (auto v = in.choice("severity", severities)) {
    s.default_severity = std::move(*v);
  }
  if (auto v = in.text("client")) s.client = std::move(*v);
  if (auto v = in.url("client_url")) s.client_url = std::move(*v);
  s.send_resolved = in.flag("send_resolved").value_or(true);
  read_http_config(in, receiver, s.http);
  in.check();
  return std::make_unique<pagerduty_notifier>(std::move(s));
}

}  // namespace

std::unique_ptr<notifier> make_pagerduty_notifier(const config::receiver_config& receiver) {
  if (receiver.syntax == config::receiver_syntax::alertmanager) {
    return make_alertmanager_pagerduty(receiver);
  }
  config::section_reader in(receiver, setting_keys);
  in.require(required_keys);
  pagerduty_settings s;
  if (auto v = in.secret_file("routing_key_file")) s.routing_key = std::move(*v);
  if (auto v = in.url("url")) s.url = std::move(*v);
  if (auto v = in.choice("severity", severities)) s.default_severity = std::move(*v);
  if (auto v = in.text("client")) s.client = std::move(*v);
  if (auto v = in.url("client_url")) s.client_url = std::move(*v);
  s.send_resolved = in.flag("send_resolved").value_or(true);
  in.check();
  return std::make_unique<pagerduty_notifier>(std::move(s));
}

}  // namespace tocsin::sinks
