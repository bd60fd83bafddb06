#pragma once
// Reading a metrics_registry in unit tests. Header-only and not in support.hpp: it needs core/,
// which tests/support does not link (integration tests read /metrics instead).

#include <cstdint>
#include <sstream>
#include <string>

#include "core/metrics.hpp"

namespace tocsin::test {

// The value of counter `name` with exactly `labels` (0 when nothing has counted it yet).
inline std::uint64_t counter_value(metrics_registry& metrics, const std::string& name,
                                   const metric_labels& labels = {}) {
  return metrics.get_counter(name, "", labels).value();
}

// The value of gauge `name` with exactly `labels`.
inline std::int64_t gauge_value(metrics_registry& metrics, const std::string& name,
                                const metric_labels& labels = {}) {
  return metrics.get_gauge(name, "", labels).value();
}

// Sum of every series of `name` in the rendered registry, whatever its labels are.
inline double metric_sum(const metrics_registry& metrics, const std::string& name) {
  std::istringstream lines(metrics.render());
  double sum = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
    if (line[name.size()] != ' ' && line[name.size()] != '{') continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

}  // namespace tocsin::test
