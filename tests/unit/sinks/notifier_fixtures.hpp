#pragma once
// Shared pieces of the notifier tests: a sample group, receivers built from YAML through the
// registry, and the requests a capture server got, parsed.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "sinks/notification.hpp"
#include "sinks/notifier.hpp"
#include "tests/support/http_capture.hpp"
#include "tests/unit/sinks/receiver_yaml.hpp"

namespace tocsin::sinks::fixtures {

using namespace std::chrono_literals;

inline const auto t0 =
    std::chrono::system_clock::time_point(1795666255120ms);  // 2026-11-26T04:10:55.120Z

inline rules::alert make_alert(rules::label_set labels,
                               std::map<std::string, std::string> annotations, bool firing = true) {
  rules::alert a;
  a.labels = std::move(labels);
  a.annotations = std::move(annotations);
  a.starts_at = t0;
  a.ends_at = firing ? t0 + 1h : t0 + 2min;
  a.firing = firing;
  a.fingerprint = rules::fingerprint(a.labels);
  a.generator_url = "http://tocsin:9095/rules/disk_full";
  return a;
}

// Two firing disk_full alerts on web1 and web2 and a resolved one on db1, all critical.
inline notification disk_full_group() {
  notification n;
  n.receiver = "ops";
  n.group_key = "{}:{alertname=\"disk_full\"}";
  n.group_labels = {{"alertname", "disk_full"}};
  n.external_url = "http://tocsin:9095";
  n.alerts = {
      make_alert({{"alertname", "disk_full"}, {"host", "web1"}, {"severity", "critical"}},
                 {{"summary", "disk full on web1"}, {"runbook", "r1"}}),
      make_alert({{"alertname", "disk_full"}, {"host", "web2"}, {"severity", "critical"}},
                 {{"summary", "disk full on web2"}, {"runbook", "r1"}}),
      make_alert({{"alertname", "disk_full"}, {"host", "db1"}, {"severity", "critical"}},
                 {{"summary", "disk full on db1"}, {"runbook", "r1"}}, false),
  };
  return n;
}

inline notification all_resolved(notification n) {
  for (auto& a : n.alerts) {
    a.firing = false;
    a.ends_at = t0 + 3min;
  }
  return n;
}

// The group with every alert's alertname and summary `huge`.
inline notification oversized_group(const std::string& huge) {
  notification n = disk_full_group();
  for (auto& a : n.alerts) {
    a.labels["alertname"] = huge;
    a.annotations["summary"] = huge;
  }
  return n;
}

// `count` times "é" (two bytes, one character).
inline std::string many_e_acute(std::size_t count) {
  std::string s;
  for (std::size_t i = 0; i < count; ++i) s += "é";
  return s;
}

inline std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (const unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

inline config::receiver_config receiver(const std::string& integration,
                                        const std::map<std::string, nlohmann::json>& settings) {
  return test_receivers::load("ops", integration, settings);
}

inline std::unique_ptr<notifier> make(const config::receiver_config& r) {
  notifier_registry registry;
  register_builtin_notifiers(registry);
  return registry.create(r);
}

// The errors building `integration` with `settings` reports ("FILE:LINE:COL: message" each).
inline std::vector<std::string> config_errors(
    const std::string& integration, const std::map<std::string, nlohmann::json>& settings) {
  try {
    (void)make(receiver(integration, settings));
  } catch (const config::config_error& e) {
    return e.errors();
  }
  return {};
}

// The body of the one request the server got, parsed.
inline nlohmann::json only_body(const test::http_capture& server) {
  const auto requests = server.requests();
  EXPECT_EQ(requests.size(), 1u);
  if (requests.empty()) return {};
  return nlohmann::json::parse(requests.back().body);
}

// Compares JSON texts field by field and in key order, showing both indented when they differ.
inline void expect_json(const std::string& actual, const std::string& expected) {
  EXPECT_EQ(nlohmann::ordered_json::parse(actual).dump(2),
            nlohmann::ordered_json::parse(expected).dump(2));
}

}  // namespace tocsin::sinks::fixtures
