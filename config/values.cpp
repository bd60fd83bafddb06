#include "config/values.hpp"

#include <cstdint>
#include <limits>

namespace tocsin::config {
namespace detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Hostnames and IPv4 literals: letters, digits, '.', '-', '_'.
bool valid_host_name(std::string_view host) {
  for (char c : host) {
    if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '-' && c != '_') return false;
  }
  return true;
}

// The inside of `[...]`: hex digits, ':' and '.', at least one ':', and an optional `%zone`.
bool valid_ipv6_literal(std::string_view host) {
  const auto percent = host.find('%');
  const std::string_view address = host.substr(0, percent);
  if (address.find(':') == std::string_view::npos) return false;
  for (char c : address) {
    if (!is_hex(c) && c != ':' && c != '.') return false;
  }
  if (percent != std::string_view::npos) {
    const std::string_view zone = host.substr(percent + 1);
    if (zone.empty() || !valid_host_name(zone)) return false;
  }
  return true;
}

}  // namespace

std::optional<endpoint> parse_endpoint(std::string_view text, std::string& problem) {
  if (text.empty()) {
    problem = "empty";
    return std::nullopt;
  }
  std::string_view host, port;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      problem = "missing ']' after the IPv6 address";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty()) {
      problem = "missing port";
      return std::nullopt;
    }
    if (rest.front() != ':') {
      problem = "expected ':' and a port after ']'";
      return std::nullopt;
    }
    if (host.empty() || !valid_ipv6_literal(host)) {
      problem = "invalid IPv6 address '" + std::string(host) + "'";
      return std::nullopt;
    }
    port = rest.substr(1);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      problem = "missing port";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      problem = "an IPv6 address needs brackets, e.g. [::1]:9095";
      return std::nullopt;
    }
    if (host.empty()) {
      problem = "missing host (use 0.0.0.0 or [::] for every address)";
      return std::nullopt;
    }
    if (!valid_host_name(host)) {
      problem = "invalid host '" + std::string(host) + "'";
      return std::nullopt;
    }
  }
  if (port.empty()) {
    problem = "missing port";
    return std::nullopt;
  }
  std::uint32_t value = 0;
  for (char c : port) {
    if (!is_digit(c)) {
      problem = "invalid port '" + std::string(port) + "'";
      return std::nullopt;
    }
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    if (value > 65535) {
      problem = "port " + std::string(port) + " is out of range (0-65535)";
      return std::nullopt;
    }
  }
  return endpoint{std::string(host), static_cast<std::uint16_t>(value)};
}

std::optional<duration> parse_duration(std::string_view text, std::string& problem) {
  // Prometheus' model.ParseDuration: integer amounts, units from largest to smallest, each at
  // most once (`1h30m`, not `30m1h`), and a bare `0`.
  struct unit {
    std::string_view name;
    std::int64_t ms;
  };
  static constexpr unit known_units[] = {
      {"y", 365LL * 24 * 3600 * 1000},
      {"w", 7LL * 24 * 3600 * 1000},
      {"d", 24LL * 3600 * 1000},
      {"h", 3600LL * 1000},
      {"m", 60LL * 1000},
      {"s", 1000},
      {"ms", 1},
  };
  constexpr std::size_t num_units = sizeof(known_units) / sizeof(known_units[0]);
  if (text.empty()) {
    problem = "empty";
    return std::nullopt;
  }
  if (text == "0") return duration{0};
  std::int64_t total = 0;
  std::size_t next_unit = 0;  // units must come in known_units order
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = pos;
    std::int64_t amount = 0;
    while (pos < text.size() && is_digit(text[pos])) {
      if (amount > (std::numeric_limits<std::int64_t>::max() - 9) / 10) {
        problem = "too large";
        return std::nullopt;
      }
      amount = amount * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == start) {
      problem = text[pos] == '-' ? "must not be negative" : "expected a number";
      return std::nullopt;
    }
    std::size_t unit_end = pos;
    while (unit_end < text.size() && is_alpha(text[unit_end])) ++unit_end;
    const std::string_view name = text.substr(pos, unit_end - pos);
    if (name.empty()) {
      if (start == 0 && pos == text.size()) {
        problem = "a unit is required, e.g. '" + std::string(text) + "s'";
      } else if (pos < text.size() && text[pos] == '.') {
        problem = "fractions are not supported (write 1m30s, not 1.5m)";
      } else {
        problem = "expected a unit (ms, s, m, h, d, w or y)";
      }
      return std::nullopt;
    }
    std::size_t index = 0;
    while (index < num_units && known_units[index].name != name) ++index;
    if (index == num_units) {
      problem = "unknown unit '" + std::string(name) + "' (use ms, s, m, h, d, w or y)";
      return std::nullopt;
    }
    if (index < next_unit) {
      problem = "units must go from largest to smallest, each once (e.g. 1h30m)";
      return std::nullopt;
    }
    next_unit = index + 1;
    if (amount > std::numeric_limits<std::int64_t>::max() / known_units[index].ms ||
        total > std::numeric_limits<std::int64_t>::max() - amount * known_units[index].ms) {
      problem = "too large";
      return std::nullopt;
    }
    total += amount * known_units[index].ms;
    pos = unit_end;
  }
  return duration{total};
}

}  // namespace detail

std::optional<duration> parse_duration(std::string_view text) {
  std::string problem;
  return detail::parse_duration(text, problem);
}

std::optional<endpoint> parse_endpoint(std::string_view text) {
  std::string problem;
  return detail::parse_endpoint(text, problem);
}

std::string to_string(const endpoint& e) {
  if (e.host.find(':') != std::string::npos) return "[" + e.host + "]:" + std::to_string(e.port);
  return e.host + ":" + std::to_string(e.port);
}

}  // namespace tocsin::config
