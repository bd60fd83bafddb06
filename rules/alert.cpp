#include "rules/alert.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "core/json_text.hpp"
#include "core/rfc3339.hpp"

namespace tocsin::rules {
namespace {

constexpr std::uint64_t fnv_offset_basis = 14695981039346656037ULL;
constexpr std::uint64_t fnv_prime = 1099511628211ULL;

void fnv1a(std::uint64_t& h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= fnv_prime;
  }
}

void fnv1a(std::uint64_t& h, unsigned char c) {
  h ^= c;
  h *= fnv_prime;
}

void append_string_map(const std::map<std::string, std::string>& m, std::string& out) {
  out += '{';
  bool first = true;
  for (const auto& [name, value] : m) {
    if (!first) out += ',';
    first = false;
    append_json_string(name, out);
    out += ':';
    append_json_string(value, out);
  }
  out += '}';
}

void append_time_field(const char* key, std::chrono::system_clock::time_point tp,
                       std::string& out) {
  out += ",\"";
  out += key;
  out += "\":\"";
  append_rfc3339_utc(tp, out, 3);
  out += '"';
}

// Fills `out` from a JSON object of strings; false (and `problem` set) when it is something else.
bool read_string_map(const nlohmann::json& j, const char* key,
                     std::map<std::string, std::string>& out, std::string& problem) {
  if (!j.is_object()) {
    problem = std::string(key) + " is not an object";
    return false;
  }
  for (const auto& [name, value] : j.items()) {
    if (!value.is_string()) {
      problem = std::string(key) + "." + name + " is not a string";
      return false;
    }
    out.emplace(name, value.get<std::string>());
  }
  return true;
}

// system_clock counts nanoseconds in 64 bits: about 1677-09-21 to 2262-04-11. Years outside
// are refused rather than silently wrapped.
constexpr int earliest_year = 1678;
constexpr int latest_year = 2261;

// The 4-digit year a timestamp starts with, or -1.
int leading_year(std::string_view text) {
  if (text.size() < 4) return -1;
  int year = 0;
  for (const char c : text.substr(0, 4)) {
    if (c < '0' || c > '9') return -1;
    year = year * 10 + (c - '0');
  }
  return year;
}

// Go's zero time.Time ("0001-01-01T00:00:00Z"), which Alertmanager sends as endsAt when no end is
// known. Checked by moving it to 1970, since year 1 is outside system_clock's range.
bool is_go_zero_time(std::string_view text) {
  if (!text.starts_with("0001-")) return false;
  const auto moved = parse_rfc3339("1970" + std::string(text.substr(4)));
  return moved == std::chrono::system_clock::time_point{};
}

std::optional<std::chrono::system_clock::time_point> read_time(const nlohmann::json& j,
                                                               const char* key,
                                                               std::string& problem) {
  if (!j.is_string()) {
    problem = std::string(key) + " is not a string";
    return std::nullopt;
  }
  const auto& text = j.get_ref<const std::string&>();
  const std::string quoted = " \"" + text.substr(0, 64) + '"';
  // Checked before parsing: outside this range the nanosecond count would overflow.
  if (const int year = leading_year(text);
      year >= 0 && (year < earliest_year || year > latest_year)) {
    problem = std::string(key) + " is out of range:" + quoted;
    return std::nullopt;
  }
  const auto tp = parse_rfc3339(text);
  if (!tp) problem = std::string(key) + " is not an RFC 3339 time:" + quoted;
  return tp;
}

}  // namespace

std::string fingerprint(const label_set& labels) {
  std::uint64_t h = fnv_offset_basis;
  for (const auto& [name, value] : labels) {
    fnv1a(h, name);
    fnv1a(h, 0xff);
    fnv1a(h, value);
    fnv1a(h, 0xff);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return {buf, 16};
}

std::string to_json(const alert& a) {
  std::string out;
  out.reserve(256);
  out += "{\"labels\":";
  append_string_map(a.labels, out);
  out += ",\"annotations\":";
  append_string_map(a.annotations, out);
  append_time_field("startsAt", a.starts_at, out);
  append_time_field("endsAt", a.ends_at, out);
  out += a.firing ? ",\"status\":\"firing\"" : ",\"status\":\"resolved\"";
  out += ",\"fingerprint\":";
  append_json_string(a.fingerprint, out);
  // Omitted when unset: Alertmanager treats generatorURL as an optional URI.
  if (!a.generator_url.empty()) {
    out += ",\"generatorURL\":";
    append_json_string(a.generator_url, out);
  }
  out += '}';
  return out;
}

std::optional<alert> parse_alert_json(std::string_view json, std::string* problem) {
  std::string why;
  auto result = [&]() -> std::optional<alert> {
    const auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      why = "not valid JSON";
      return std::nullopt;
    }
    if (!j.is_object()) {
      why = "not a JSON object";
      return std::nullopt;
    }
    alert a;
    const auto labels = j.find("labels");
    if (labels == j.end()) {
      why = "labels missing";
      return std::nullopt;
    }
    if (!read_string_map(*labels, "labels", a.labels, why)) return std::nullopt;
    if (const auto name = a.labels.find("alertname");
        name == a.labels.end() || name->second.empty()) {
      why = "labels.alertname missing";
      return std::nullopt;
    }
    // Alertmanager may send null for an absent map.
    if (const auto ann = j.find("annotations"); ann != j.end() && !ann->is_null()) {
      if (!read_string_map(*ann, "annotations", a.annotations, why)) return std::nullopt;
    }

    const auto starts = j.find("startsAt");
    if (starts == j.end()) {
      why = "startsAt missing";
      return std::nullopt;
    }
    const auto starts_at = read_time(*starts, "startsAt", why);
    if (!starts_at) return std::nullopt;
    a.starts_at = *starts_at;
    if (const auto ends = j.find("endsAt"); ends != j.end() && !ends->is_null()) {
      if (!(ends->is_string() && is_go_zero_time(ends->get_ref<const std::string&>()))) {
        const auto ends_at = read_time(*ends, "endsAt", why);
        if (!ends_at) return std::nullopt;
        a.ends_at = *ends_at;
      }
    }

    const auto status = j.find("status");
    if (status == j.end()) {
      why = "status missing";
      return std::nullopt;
    }
    if (*status == "firing") {
      a.firing = true;
    } else if (*status == "resolved") {
      a.firing = false;
    } else {
      why = "status is not \"firing\" or \"resolved\": " + status->dump();
      return std::nullopt;
    }

    if (const auto url = j.find("generatorURL"); url != j.end() && !url->is_null()) {
      if (!url->is_string()) {
        why = "generatorURL is not a string";
        return std::nullopt;
      }
      a.generator_url = url->get<std::string>();
    }
    // Never trust the sender's fingerprint: deduplication keys on it.
    a.fingerprint = fingerprint(a.labels);
    return a;
  }();
  if (!result && problem != nullptr) *problem = std::move(why);
  return result;
}

}  // namespace tocsin::rules
