#pragma once
// Alertmanager's time intervals (`time_intervals:`), evaluated as its timeinterval.ContainsTime
// does: an interval holds a time when any of its entries does; an entry when every field it
// gives does, read in the entry's location: `times` by minute of the day, start inclusive and
// end exclusive; weekdays, days of the month (negative from the month's end, -1 the last day,
// clamped to the month), months and years as inclusive ranges.

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/timezone.hpp"

namespace tocsin::sinks {

// Whether one entry holds `t` in `zone`.
[[nodiscard]] bool entry_contains(const config::time_interval_entry& entry,
                                  const input_timezone& zone,
                                  std::chrono::system_clock::time_point t);

class time_interval_set {
 public:
  time_interval_set() = default;
  // Throws config::config_error (FILE:LINE:COL of the entry) for an unknown location.
  explicit time_interval_set(const std::vector<config::time_interval_config>& intervals);

  [[nodiscard]] bool has(std::string_view name) const;
  // Whether the interval `name` holds `t`; false for a name it does not have.
  [[nodiscard]] bool contains(std::string_view name, std::chrono::system_clock::time_point t) const;

 private:
  struct compiled_entry {
    config::time_interval_entry entry;
    input_timezone zone = input_timezone::utc();
  };
  std::map<std::string, std::vector<compiled_entry>, std::less<>> intervals_;
};

}  // namespace tocsin::sinks
