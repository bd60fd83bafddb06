#pragma once
// The series of the log-derived metrics of rules files (DESIGN.md "Log-derived metrics"): what
// the events their patterns match add up to, in the Prometheus text format for /metrics.

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "collector/event.hpp"
#include "core/metrics.hpp"
#include "rules/rule.hpp"

namespace tocsin::rules {

class log_metrics {
 public:
  using captures = std::vector<std::pair<std::string, std::string>>;

  // Counts refused observations in `registry`: tocsin_log_metric_series_dropped_total{metric}
  // (a new label set beyond max_series) and tocsin_log_metric_value_errors_total{metric} (a
  // value that is missing or no finite number, or a negative one for a counter).
  explicit log_metrics(metrics_registry& registry);
  ~log_metrics();
  log_metrics(const log_metrics&) = delete;
  log_metrics& operator=(const log_metrics&) = delete;

  // Swaps in `definitions`. A metric whose definition is unchanged (every field but source
  // locations) keeps its series; the series of a changed or removed metric are dropped; a new
  // metric starts without series. `definitions` is remembered by address (see observe()), so it
  // must outlive the next replace(). Thread-safe.
  void replace(const std::vector<metric_definition>& definitions);

  // One event that matched metric `metric` of `definitions`, with its patterns' named groups.
  // With the vector last given to replace() the index is used as is; with another one (a reload
  // raced with the event) the metric is found by name, and observed only if unchanged.
  // Thread-safe: observations of different metrics take no common exclusive lock, and of the
  // same metric only when they add a label set.
  void observe(const std::vector<metric_definition>& definitions, std::size_t metric,
               const captures& groups, const collector::event& ev);

  // Every metric in definition order: HELP, TYPE, then its series ordered by their labels;
  // histograms with cumulative `_bucket{le=...}` lines, `+Inf`, `_sum` and `_count`.
  void render(std::string& out) const;
  [[nodiscard]] std::string render() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tocsin::rules
