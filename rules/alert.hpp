#pragma once
// An alert in Alertmanager's shape (DESIGN.md, "Alert JSON").

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tocsin::rules {

using label_set = std::map<std::string, std::string>;  // sorted by name

struct alert {
  label_set labels;
  std::map<std::string, std::string> annotations;
  std::chrono::system_clock::time_point starts_at{};
  std::chrono::system_clock::time_point ends_at{};  // future while firing; the resolve time after
  bool firing = true;                               // status "firing" or "resolved"
  std::string fingerprint;                          // 16 hex digits of the sorted label set
  std::string generator_url;
};

// Stable 16-hex-digit hash (FNV-1a 64 over name, 0xff, value, 0xff for each label in order).
std::string fingerprint(const label_set& labels);

// One Alert JSON object, no newline:
// {"labels":{...},"annotations":{...},"startsAt":"...","endsAt":"...","status":"firing",
//  "fingerprint":"...","generatorURL":"..."}. Times are RFC 3339 UTC with milliseconds.
std::string to_json(const alert& a);

// The inverse of to_json(), for alerts read off the bus. Needs labels (with alertname), startsAt
// and status; annotations, endsAt, generatorURL are optional; a missing or wrong fingerprint is
// recomputed from the labels. nullopt (and `problem` says why) for anything else.
std::optional<alert> parse_alert_json(std::string_view json, std::string* problem = nullptr);

}  // namespace tocsin::rules
