// Parse + match throughput: an RFC 5424 line through decode_rfc5424() and compiled_rules::match()
// with 1, 100 and 1000 rules, one reused event and match vector per thread (as a shard does).
// Goals: 1000 rules >= 50 % of the 1-rule throughput; >= 1 M lines/s per core at 100 rules.
// About 1 % of the lines match a rule.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "collector/event.hpp"
#include "collector/syslog_decoder.hpp"
#include "core/metrics.hpp"
#include "rules/engine.hpp"
#include "rules/matcher.hpp"

namespace {

using namespace tocsin;

// Rules like a real rule set: most on the message (`service-N failed: (?P<code>\d+)`), every
// tenth on the app name, a few on both.
std::vector<rules::rule_definition> make_rules(int count) {
  std::vector<rules::rule_definition> out;
  for (int i = 0; i < count; ++i) {
    rules::rule_definition r;
    r.name = "rule-" + std::to_string(i);
    const std::string n = std::to_string(i);
    if (i % 10 == 9) {
      r.match.push_back({"app", "^worker-" + n + "$", {}});
    } else if (i % 10 == 8) {
      r.match.push_back({"app", "^api-" + n + "$", {}});
      r.match.push_back({"message", "timeout after (?P<ms>\\d+)ms", {}});
    } else {
      r.match.push_back({"message", "service-" + n + " failed: (?P<code>\\d+)", {}});
    }
    out.push_back(std::move(r));
  }
  return out;
}

// 100 lines of about 180 bytes; line 0 matches rule 0 (present in every rule set), the others
// look alike but match nothing.
std::vector<std::string> make_lines() {
  std::vector<std::string> lines;
  for (int i = 0; i < 100; ++i) {
    const std::string n = std::to_string(i * 7 % 1000);
    std::string message = i == 0 ? "service-0 failed: 503 upstream connect error after retries"
                                 : "service-" + n + " failed: none, health check passed on retry";
    lines.push_back(
        "<165>1 2026-11-26T04:10:55.120001+00:00 web-01.example.com nginx 12345 "
        "ACCESS [req@32473 method=\"GET\" status=\"200\"] " +
        message + " id=" + std::to_string(100000 + i));
  }
  return lines;
}

void run(benchmark::State& state, bool decode_each_time) {
  const rules::compiled_rules rules(make_rules(static_cast<int>(state.range(0))));
  const std::vector<std::string> lines = make_lines();
  std::vector<collector::event> decoded(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!collector::decode_rfc5424(lines[i], decoded[i]).is_ok()) {
      state.SkipWithError("bad line");
      return;
    }
  }
  collector::event ev;
  std::vector<rules::rule_match> matches;
  std::size_t i = 0;
  std::int64_t matched = 0;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    const std::string& line = lines[i];
    const collector::event* current = &decoded[i];
    if (decode_each_time) {
      collector::decode_rfc5424(line, ev);
      current = &ev;
    }
    matches.clear();
    rules.match(*current, matches);
    matched += static_cast<std::int64_t>(matches.size());
    bytes += static_cast<std::int64_t>(line.size());
    benchmark::DoNotOptimize(matches.data());
    if (++i == lines.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
  state.counters["matched_%"] = benchmark::Counter(
      100.0 * static_cast<double>(matched) /
      static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1)));
  // Lines on which a rule set's DFA ran out of memory and matched one pattern at a time.
  state.counters["set_fallbacks"] = static_cast<double>(rules.set_fallbacks());
  state.SetLabel(std::to_string(state.range(0)) + " rules, " + std::to_string(lines[1].size()) +
                 "-byte lines");
}

void BM_parse_and_match(benchmark::State& state) { run(state, true); }
BENCHMARK(BM_parse_and_match)->Arg(1)->Arg(100)->Arg(1000);

// Matching alone, on events decoded beforehand.
void BM_match_only(benchmark::State& state) { run(state, false); }
BENCHMARK(BM_match_only)->Arg(1)->Arg(100)->Arg(1000)->Arg(10000);

// Compiling the rule set (start-up and reload cost, off the hot path).
void BM_compile_rules(benchmark::State& state) {
  const auto defs = make_rules(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    rules::compiled_rules rules(defs);
    benchmark::DoNotOptimize(&rules);
  }
  state.SetLabel(std::to_string(state.range(0)) + " rules");
}
BENCHMARK(BM_compile_rules)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// The whole rule engine (match, labels, windows) with 100 rules of mixed kinds: plain,
// threshold, spike, new_term, cardinality, aggregate and ratio in turn, each on its own service.
// Arg = the share of lines (in %) that match a rule; the clock moves 1 ms per line and the engine
// ticks once per simulated second, as `tocsin run` does.
std::vector<rules::rule_definition> make_mixed_rules() {
  std::vector<rules::rule_definition> out;
  for (int i = 0; i < 100; ++i) {
    rules::rule_definition r;
    r.name = "mixed-" + std::to_string(i);
    r.match.push_back({"message",
                       "svc-" + std::to_string(i) +
                           " .*status=(?P<status>\\d+) "
                           "rt=(?P<rt>[0-9.]+) user=(?P<user>\\w+)",
                       {}});
    r.group_by = {"host"};
    switch (i % 7) {
      case 0:
        break;
      case 1:
        r.kind = rules::rule_kind::threshold;
        r.count = 1000;
        r.window = std::chrono::minutes(1);
        break;
      case 2:
        r.kind = rules::rule_kind::spike;
        r.window = std::chrono::minutes(1);
        r.spike_ratio = 3;
        r.min_count = 1000;
        break;
      case 3:
        r.kind = rules::rule_kind::new_term;
        r.field = "user";
        r.lookback = std::chrono::hours(24);
        break;
      case 4:
        r.kind = rules::rule_kind::cardinality;
        r.field = "user";
        r.window = std::chrono::minutes(1);
        r.above = 1000;
        break;
      case 5:
        r.kind = rules::rule_kind::aggregate;
        r.field = "rt";
        r.function = rules::aggregate_function::quantile;
        r.quantile = 0.99;
        r.window = std::chrono::minutes(1);
        r.above = 100;
        break;
      default:
        r.kind = rules::rule_kind::ratio;
        r.of.push_back({"message", "svc-" + std::to_string(i) + " ", {}});  // its service's lines
        r.window = std::chrono::minutes(1);
        r.above = 0.99;
        break;
    }
    out.push_back(std::move(r));
  }
  return out;
}

void BM_engine_mixed_kinds(benchmark::State& state) {
  const auto percent_matching = static_cast<int>(state.range(0));
  metrics_registry metrics;
  rules::alert_engine engine(std::make_shared<const rules::compiled_rules>(make_mixed_rules()),
                             metrics);
  std::vector<std::string> lines(1000);  // the events view into them
  std::vector<collector::event> events(1000);
  for (int i = 0; i < 1000; ++i) {
    // Lines that match name one of the 100 services; the others a service no rule knows.
    const bool matching = i % 100 < percent_matching;
    const int service = matching ? i % 100 : 100 + i % 100;
    std::string& line = lines[static_cast<std::size_t>(i)];
    line = "<165>1 2026-11-26T04:10:55.120001+00:00 web-0" + std::to_string(i % 4) +
           " api 12345 - - svc-" + std::to_string(service) +
           " GET /v1/items status=" + (i % 50 == 0 ? "503" : "200") + " rt=0." +
           std::to_string(i % 97) + " user=u" + std::to_string(i % 37);
    if (!collector::decode_rfc5424(line, events[static_cast<std::size_t>(i)]).is_ok()) {
      state.SkipWithError("bad line");
      return;
    }
  }
  std::vector<rules::alert> alerts;
  auto now = std::chrono::system_clock::time_point(std::chrono::hours(24 * 365 * 56));
  std::size_t i = 0;
  for (auto _ : state) {
    alerts.clear();
    engine.on_event(events[i], now, alerts);
    now += std::chrono::milliseconds(1);
    if (++i == events.size()) {
      i = 0;
      engine.tick(now, alerts);
    }
    benchmark::DoNotOptimize(alerts.data());
  }
  state.SetItemsProcessed(state.iterations());
  // Matches as the engine counted them, per line: the share the label promises.
  const std::string text = metrics.render();
  double matched = 0;
  for (std::size_t at = text.find("\ntocsin_rule_matches_total{"); at != std::string::npos;
       at = text.find("\ntocsin_rule_matches_total{", at + 1)) {
    matched += std::stod(text.substr(text.find(' ', at) + 1));
  }
  state.counters["matched_%"] =
      100.0 * matched /
      static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
  state.SetLabel("100 rules of 7 kinds, " + std::to_string(percent_matching) + " % of lines match");
}
BENCHMARK(BM_engine_mixed_kinds)->Arg(0)->Arg(1)->Arg(10)->Arg(50);

}  // namespace
