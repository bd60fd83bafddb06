// tocsin: centralized log collector and alert router. main() only parses the command line.

#include "app/commands.hpp"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

namespace {

int dispatch(int argc, char** argv) {
  CLI::App cli{"tocsin — log collector and alert router"};
  cli.require_subcommand(1);
  std::string config_file;

  auto* run =
      cli.add_subcommand("run", "Collect, archive, alert and route in one process (either bus)");
  run->add_option("-c,--config", config_file, "Config file")->required();

  auto* collector = cli.add_subcommand(
      "collector", "Collect, archive and match rules; publish alerts to Kafka (bus.type kafka)");
  collector->add_option("-c,--config", config_file, "Config file")->required();

  auto* router = cli.add_subcommand(
      "router", "Consume alerts from Kafka and route them to receivers (bus.type kafka)");
  router->add_option("-c,--config", config_file, "Config file")->required();

  auto* check = cli.add_subcommand("check-config", "Validate a config file and exit");
  check->add_option("-c,--config", config_file, "Config file")->required();

  tocsin::app::test_rules_options test_rules_options;
  auto* test_rules = cli.add_subcommand(
      "test-rules",
      "Print the alerts the rules make from stdin log lines (or, with --metrics, "
      "the metrics from logs)");
  test_rules->add_option("-c,--config", test_rules_options.config_file, "Config file")->required();
  test_rules->add_flag("--metrics", test_rules_options.metrics,
                       "Print the rules files' metrics after the log, in Prometheus text format, "
                       "instead of the alerts");

  tocsin::app::routes_test_options routes_options;
  auto* routes = cli.add_subcommand("routes", "Inspect the route tree");
  routes->require_subcommand(1);
  auto* routes_test = routes->add_subcommand(
      "test", "Print the receivers an alert with the given labels reaches (amtool's routes test)");
  routes_test->add_option("-c,--config", routes_options.config_file, "Config file")->required();
  routes_test->add_option("labels", routes_options.labels, "label=value ...");
  routes_test->add_option("--verify-receivers", routes_options.verify_receivers,
                          "Expected receivers, comma-separated in order; exit 1 if different");
  routes_test->add_option("--at", routes_options.at,
                          "RFC 3339 time: also say, per matched route, whether its "
                          "mute_time_intervals/active_time_intervals mute it then");

  auto* oncall = cli.add_subcommand("oncall", "Who is on call (DESIGN.md, On-call)");
  oncall->require_subcommand(1);
  tocsin::app::oncall_who_options who_options;
  auto* oncall_who =
      oncall->add_subcommand("who", "Who is on call in each schedule, now or at --at");
  oncall_who->add_option("-c,--config", who_options.config_file, "Config file")->required();
  oncall_who->add_option("--at", who_options.at, "RFC 3339 time (default: now)");
  oncall_who->add_flag("--json", who_options.json, "Print the body of GET /api/v1/oncall/now");
  tocsin::app::oncall_ack_options ack_options;
  auto* oncall_ack = oncall->add_subcommand(
      "ack", "Acknowledge a paged group (through the running daemon's admin API)");
  oncall_ack->add_option("-c,--config", ack_options.config_file, "Config file")->required();
  oncall_ack->add_option("page_id", ack_options.page_id, "Page id (or group key)")->required();
  oncall_ack->add_option("--by", ack_options.by, "Who acknowledges")->required();
  oncall_ack->add_option("--comment", ack_options.comment, "Why, or what happens next");
  tocsin::app::oncall_schedule_options schedule_options;
  auto* oncall_schedule = oncall->add_subcommand(
      "schedule", "The rota of one schedule ahead, in the schedule's local time");
  oncall_schedule->add_option("-c,--config", schedule_options.config_file, "Config file")
      ->required();
  oncall_schedule->add_option("name", schedule_options.schedule, "Schedule")->required();
  oncall_schedule->add_option("--at", schedule_options.at, "RFC 3339 start (default: now)");
  oncall_schedule->add_option("--days", schedule_options.days, "Days ahead (default 14)")
      ->check(CLI::Range(1, 366));

  tocsin::app::search_options search_options;
  auto* search = cli.add_subcommand(
      "search", "Archived events matching a filter, newest first (the file outputs)");
  search->add_option("-c,--config", search_options.config_file, "Config file")->required();
  search->add_option("--since", search_options.since,
                     "RFC 3339 time or a duration ago such as 15m, 2h, 7d (default 24h)");
  search->add_option("--until", search_options.until,
                     "RFC 3339 time or a duration ago (default now)");
  search->add_option("--limit", search_options.limit, "Events at most (default 100)");
  search->add_flag("--json", search_options.json, "Print Event JSON lines instead of a table");
  search->add_option(
      "filter", search_options.filter,
      "Terms FIELD=\"v\" FIELD!=\"v\" FIELD=~\"RE2\" FIELD!~\"RE2\" or words in the message");

  tocsin::app::parse_options parse_options;
  auto* parse = cli.add_subcommand("parse", "Decode stdin lines into Event JSON lines");
  parse->add_option("--format", parse_options.format, "Input format")
      ->check(CLI::IsMember({"auto", "rfc5424", "rfc3164", "gelf"}));
  parse->add_option("--timezone", parse_options.timezone,
                    "Zone for RFC 3164 timestamps: local, UTC, +HH:MM or an IANA name");

  cli.add_subcommand("version", "Print versions and exit");

  CLI11_PARSE(cli, argc, argv);
  using tocsin::app::daemon_role;
  if (run->parsed()) return tocsin::app::run_daemon(config_file, daemon_role::all);
  if (collector->parsed()) return tocsin::app::run_daemon(config_file, daemon_role::collector);
  if (router->parsed()) return tocsin::app::run_daemon(config_file, daemon_role::router);
  if (check->parsed()) return tocsin::app::run_check_config(config_file);
  if (test_rules->parsed()) return tocsin::app::run_test_rules(test_rules_options);
  if (routes_test->parsed()) return tocsin::app::run_routes_test(routes_options);
  if (oncall_who->parsed()) return tocsin::app::run_oncall_who(who_options);
  if (oncall_schedule->parsed()) return tocsin::app::run_oncall_schedule(schedule_options);
  if (oncall_ack->parsed()) return tocsin::app::run_oncall_ack(ack_options);
  if (search->parsed()) return tocsin::app::run_search(search_options);
  if (parse->parsed()) return tocsin::app::run_parse(parse_options);
  // Exactly one subcommand was parsed (require_subcommand(1) at every level): `version` is left.
  return tocsin::app::run_version();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return dispatch(argc, argv);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}
