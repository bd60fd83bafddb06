#pragma once
// Everything a daemon would load, checked without starting anything: `tocsin check-config` and
// every reload (SIGHUP, POST /-/reload) use it, so a config that passes one passes the other.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/admin_server.hpp"
#include "oncall/roster.hpp"
#include "rules/matcher.hpp"

namespace tocsin::pipeline {

struct checked_config {
  config::config cfg;                                  // as far as it could be read
  std::shared_ptr<const rules::compiled_rules> rules;  // null when the rule files have errors
  std::vector<std::string> errors;    // every problem, each `FILE:LINE:COL: message`; empty: valid
  std::vector<std::string> warnings;  // worth a look, but valid (on-call gaps)
};

// The schema, durations and addresses (the loader), Kafka properties (librdkafka), the rule
// files (RE2's messages), the route tree and inhibit rules, every receiver (built and dropped,
// so unreadable secret files show), TLS certificate and key files, the admin token file, the
// on-call roster (ics files); warnings for on-call gaps over the next 28 days.
// Throws config::config_error only when the file cannot be read or is not YAML.
checked_config check_config_file(const std::filesystem::path& file);

// `warning: schedule 'ops' names nobody from T1 to T2` for the gaps of each schedule over
// [now, now + 28 days), local times with their offset; at most 3 lines a schedule, then
// `warning: schedule 'ops': and N more gaps`.
std::vector<std::string> schedule_gap_warnings(const oncall::roster& roster,
                                               std::chrono::sys_seconds now);

// The problems building each receiver's notifier reports (its integration's own checks), in
// receiver order; empty when every receiver builds.
std::vector<std::string> check_receivers(const config::config& cfg);

// The config a daemon starts with. Throws config::config_error listing every problem the loader
// and the receivers' integrations find (the rest of check_config_file() is found while starting).
config::config load_config_to_start(const std::filesystem::path& file);

// The bearer token in admin.token_file (relative to the config file) without trailing
// whitespace; "" when none is configured. Throws config::config_error when the file is
// unreadable or empty.
std::string read_admin_token(const config::config& cfg);

// Makes `admin` serve HTTPS with admin.tls (relative to the config file) when it is set. Throws
// config::config_error naming the file that is unreadable, not PEM, or a key that does not match.
void use_admin_tls(const config::config& cfg, admin_server& admin);

}  // namespace tocsin::pipeline
