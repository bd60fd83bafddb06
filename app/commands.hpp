#pragma once
// The `tocsin` subcommands. Each returns the process exit code; main() only dispatches.

#include <string>

namespace tocsin::app {

struct parse_options {
  std::string format = "auto";  // auto | rfc5424 | rfc3164 | gelf
  std::string timezone = "local";
};

int run_parse(const parse_options& options);
// Which halves a daemon runs: `run` both (on either bus), `collector` and `router` one each.
enum class daemon_role { all, collector, router };

int run_daemon(const std::string& config_file, daemon_role role);
int run_check_config(const std::string& config_file);
int run_test_rules(const std::string& config_file);
int run_version();

}  // namespace tocsin::app
