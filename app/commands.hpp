#pragma once
// The `tocsin` subcommands. Each returns the process exit code; main() only dispatches.

#include <optional>
#include <string>
#include <vector>

#include "pipeline/daemon.hpp"

namespace tocsin::app {

struct parse_options {
  std::string format = "auto";  // auto | rfc5424 | rfc3164 | gelf
  std::string timezone = "local";
};

int run_parse(const parse_options& options);

// `run`, `collector` or `router`: the daemon (pipeline/daemon.hpp).
using pipeline::daemon_role;
int run_daemon(const std::string& config_file, daemon_role role);
int run_check_config(const std::string& config_file);

struct test_rules_options {
  std::string config_file;
  bool metrics = false;  // print the log-derived metrics (Prometheus text) instead of alerts
};
int run_test_rules(const test_rules_options& options);

struct routes_test_options {
  std::string config_file;
  std::vector<std::string> labels;              // label=value
  std::optional<std::string> verify_receivers;  // comma-separated, in order: exit 1 otherwise
  // RFC 3339: also print, per matched route, whether its time intervals mute it then.
  std::optional<std::string> at;
};
int run_routes_test(const routes_test_options& options);
int run_version();

struct oncall_who_options {
  std::string config_file;
  std::optional<std::string> at;  // RFC 3339; now when absent
  bool json = false;              // the body of GET /api/v1/oncall/now
};
// `oncall who`: one line per schedule, `SCHEDULE USER UNTIL`.
int run_oncall_who(const oncall_who_options& options);

struct oncall_schedule_options {
  std::string config_file;
  std::string schedule;
  std::optional<std::string> at;  // RFC 3339; now when absent
  int days = 14;
};
// `oncall schedule`: the rota of one schedule from `at`, `START END USER` in its local time.
int run_oncall_schedule(const oncall_schedule_options& options);

struct oncall_ack_options {
  std::string config_file;
  std::string page_id;  // or a group key
  std::string by;
  std::string comment;
};
// `oncall ack`: acknowledges a paged group through the running daemon's admin API.
int run_oncall_ack(const oncall_ack_options& options);

struct search_options {
  std::string config_file;
  std::optional<std::string> since;  // RFC 3339 or a duration ago; 24h ago when absent
  std::optional<std::string> until;  // now when absent
  std::size_t limit = 100;
  bool json = false;                // Event JSON lines instead of the table
  std::vector<std::string> filter;  // rules::event_filter texts, all must hold
};
// `search`: archived events matching the filter, newest first. Exit 0 when the search ran
// (matches or none), 2 for a bad filter, time or config.
int run_search(const search_options& options);

}  // namespace tocsin::app
