#include "pipeline/config_check.hpp"

#include <date/tz.h>

#include <functional>
#include <set>

#include "collector/tls_context.hpp"
#include "config/section_reader.hpp"
#include "core/tls_server.hpp"
#include "kafka/client_config.hpp"
#include "oncall/gaps.hpp"
#include "oncall/local_time.hpp"
#include "pipeline/oncall_secrets.hpp"
#include "rules/rule.hpp"
#include "sinks/inhibitor.hpp"
#include "sinks/notifier.hpp"
#include "sinks/route_tree.hpp"
#include "sinks/template_data.hpp"

namespace tocsin::pipeline {

checked_config check_config_file(const std::filesystem::path& file) {
  config::loaded loaded = config::load_file_with_errors(file);
  checked_config out{std::move(loaded.cfg), nullptr, std::move(loaded.errors)};
  const config::config& cfg = out.cfg;
  std::vector<std::string>& errors = out.errors;
  const auto collect = [&errors](const std::function<void()>& check) {
    try {
      check();
    } catch (const config::config_error& e) {
      errors.insert(errors.end(), e.errors().begin(), e.errors().end());
    }
  };

  if (cfg.bus.type == "kafka" || !cfg.bus.kafka.brokers.empty()) {
    const auto kafka_errors = kafka::validate(cfg.bus.kafka);
    errors.insert(errors.end(), kafka_errors.begin(), kafka_errors.end());
  }
  collect([&] {
    out.rules = std::make_shared<const rules::compiled_rules>(
        rules::load_rule_files(cfg.rules_files, cfg.file.parent_path()));
  });
  if (cfg.route) collect([&] { sinks::route_tree(*cfg.route, cfg.receivers, cfg.time_intervals); });
  collect([&] { sinks::inhibitor{cfg.inhibit_rules}; });
  const auto receiver_errors = check_receivers(cfg);
  errors.insert(errors.end(), receiver_errors.begin(), receiver_errors.end());
  const auto tls_errors = collector::check_tls_inputs(cfg);
  errors.insert(errors.end(), tls_errors.begin(), tls_errors.end());
  if (cfg.admin) collect([&] { (void)read_admin_token(cfg); });
  collect([&] {
    admin_server dry_run;
    use_admin_tls(cfg, dry_run);
  });
  collect([&] { (void)make_ack_signer(cfg); });
  collect([&] { (void)read_user_tokens(cfg); });
  collect([&] {
    const oncall::roster roster(cfg.oncall, cfg.file);
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    out.warnings = schedule_gap_warnings(roster, now);
  });
  return out;
}

namespace {

constexpr std::chrono::days gap_warning_horizon{28};
constexpr std::size_t gap_warnings_per_schedule = 3;

}  // namespace

std::vector<std::string> schedule_gap_warnings(const oncall::roster& roster,
                                               std::chrono::sys_seconds now) {
  std::vector<std::string> warnings;
  const auto until = now + gap_warning_horizon;
  for (const auto& schedule : roster.schedules()) {
    const auto gaps = oncall::gaps_in(roster.rota(schedule.name, now, until), now, until);
    const auto& zone = *date::locate_zone(schedule.time_zone);
    const std::string prefix = "warning: schedule '" + schedule.name + "'";
    for (std::size_t i = 0; i < gaps.size() && i < gap_warnings_per_schedule; ++i) {
      warnings.push_back(prefix + " names nobody from " +
                         oncall::format_local_time(zone, gaps[i].start) + " to " +
                         oncall::format_local_time(zone, gaps[i].end));
    }
    if (gaps.size() > gap_warnings_per_schedule) {
      warnings.push_back(prefix + ": and " +
                         std::to_string(gaps.size() - gap_warnings_per_schedule) + " more gaps");
    }
  }
  return warnings;
}

std::vector<std::string> check_receivers(const config::config& cfg) {
  // A factory validates its own section (readable password and key files too).
  sinks::notifier_registry notifiers;
  sinks::register_builtin_notifiers(notifiers);
  std::vector<std::string> errors;
  // What every receiver shares (global.http_config, the templates files) is reported once.
  std::set<std::string> seen;
  const auto add = [&](const std::string& error) {
    if (seen.insert(error).second) errors.push_back(error);
  };
  try {
    (void)sinks::load_alertmanager_templates(cfg.global->templates);
  } catch (const std::exception& e) {
    add(e.what());
  }
  for (const auto receiver : config::receivers_by_name(cfg.receivers)) {
    try {
      (void)notifiers.create(receiver);
    } catch (const config::config_error& e) {
      for (const std::string& error : e.errors()) add(error);
    }
  }
  return errors;
}

config::config load_config_to_start(const std::filesystem::path& file) {
  config::loaded loaded = config::load_file_with_errors(file);
  const auto receiver_errors = check_receivers(loaded.cfg);
  loaded.errors.insert(loaded.errors.end(), receiver_errors.begin(), receiver_errors.end());
  if (!loaded.errors.empty()) throw config::config_error(std::move(loaded.errors));
  return std::move(loaded.cfg);
}

std::string read_admin_token(const config::config& cfg) {
  if (!cfg.admin || cfg.admin->token_file.empty()) return {};
  const config::admin_config& admin = *cfg.admin;
  // Like the other secret files, relative to the config file (systemd starts us in /).
  const std::filesystem::path file = cfg.file.parent_path() / admin.token_file;
  std::string problem;
  auto token = config::read_secret_file(file, problem);
  if (!token) {
    throw config::config_error({config::location_prefix(admin.token_file_where) +
                                "admin.token_file " + admin.token_file + ": " + problem});
  }
  return *token;
}

void use_admin_tls(const config::config& cfg, admin_server& admin) {
  if (!cfg.admin || !cfg.admin->tls) return;
  const config::tls_config& tls = *cfg.admin->tls;
  const auto dir = cfg.file.parent_path();
  try {
    admin.use_tls((dir / tls.cert).string(), (dir / tls.key).string());
  } catch (const tls_setting_error& e) {
    throw config::config_error(
        {config::location_prefix(cfg.admin->tls_where) + "admin." + e.what()});
  }
}

}  // namespace tocsin::pipeline
