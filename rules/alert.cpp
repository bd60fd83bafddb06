#include "rules/alert.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>

#include "collector/event.hpp"

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
    collector::append_json_string(name, out);
    out += ':';
    collector::append_json_string(value, out);
  }
  out += '}';
}

void append_time_field(const char* key, std::chrono::system_clock::time_point tp,
                       std::string& out) {
  out += ",\"";
  out += key;
  out += "\":\"";
  collector::append_rfc3339_utc(tp, out, 3);
  out += '"';
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
  collector::append_json_string(a.fingerprint, out);
  // Omitted when unset: Alertmanager treats generatorURL as an optional URI.
  if (!a.generator_url.empty()) {
    out += ",\"generatorURL\":";
    collector::append_json_string(a.generator_url, out);
  }
  out += '}';
  return out;
}

}  // namespace tocsin::rules
