// `tocsin test-rules -c FILE`: stdin log lines (syslog or GELF, auto) → the alerts the rules
// would emit, as Alert JSON lines. The events' own timestamps drive the clock, so yesterday's log
// replays deterministically; a line without a timestamp takes the previous line's time.
// With --metrics: the same replay, then the rules files' metrics (only those) in the Prometheus
// text format, as /metrics would show them.

#include <iostream>
#include <string>

#include "app/commands.hpp"
#include "collector/gelf.hpp"
#include "collector/syslog_decoder.hpp"
#include "config/config.hpp"
#include "core/metrics.hpp"
#include "core/rfc3339.hpp"
#include "core/timezone.hpp"
#include "rules/engine.hpp"
#include "rules/rule.hpp"

namespace tocsin::app {

using namespace tocsin::collector;

int run_test_rules(const test_rules_options& options) {
  std::shared_ptr<const rules::compiled_rules> compiled;
  try {
    const config::config cfg = config::load_file(options.config_file);
    compiled = std::make_shared<const rules::compiled_rules>(
        rules::load_rule_files(cfg.rules_files, cfg.file.parent_path()));
  } catch (const config::config_error& e) {
    for (const auto& err : e.errors()) std::cerr << err << '\n';
    return 1;
  }
  metrics_registry metrics;
  rules::engine_options engine_options;
  engine_options.expose_log_metrics = false;  // printed from the engine below, alone
  rules::alert_engine engine(compiled, metrics, engine_options);
  const input_timezone zone = input_timezone::local();

  std::ios::sync_with_stdio(false);
  event ev;
  std::string line;
  std::vector<rules::alert> alerts;
  auto now = std::chrono::system_clock::time_point{};
  std::size_t rejected = 0;
  while (std::getline(std::cin, line)) {
    ev.clear();
    ev.received_at = std::chrono::system_clock::now();
    const syslog_decode_context ctx{ev.received_at, &zone};
    const std::size_t first = line.find_first_not_of(" \t");
    const decode_status status = first != std::string::npos && line[first] == '{'
                                     ? decode_gelf_json(line, ev)
                                     : decode_syslog_auto(line, ctx, ev);
    if (!status.is_ok()) {
      ++rejected;
      continue;
    }
    if (const auto t = parse_rfc3339(ev.timestamp)) {
      now = std::max(now, *t);  // replayed logs are sometimes slightly out of order
    } else if (now == std::chrono::system_clock::time_point{}) {
      now = ev.received_at;
    }
    alerts.clear();
    engine.tick(now, alerts);
    engine.on_event(ev, now, alerts);
    if (options.metrics) continue;
    for (const auto& a : alerts) std::cout << rules::to_json(a) << '\n';
  }
  if (options.metrics) std::cout << engine.metrics_from_logs().render();
  std::cout.flush();
  if (rejected > 0) std::cerr << "test-rules: " << rejected << " line(s) could not be decoded\n";
  return 0;
}

}  // namespace tocsin::app
