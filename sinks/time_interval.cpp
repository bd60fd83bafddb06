#include "sinks/time_interval.hpp"

#include <algorithm>

#include "config/yaml_reader.hpp"

namespace tocsin::sinks {
namespace {

bool in_any(const std::vector<config::inclusive_range>& ranges, int value) {
  return std::any_of(ranges.begin(), ranges.end(), [&](const config::inclusive_range& r) {
    return value >= r.begin && value <= r.end;
  });
}

}  // namespace

bool entry_contains(const config::time_interval_entry& entry, const input_timezone& zone,
                    std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto utc = floor<seconds>(t);
  const auto local = utc + zone.offset_at(utc);  // a sys_seconds that reads as local civil time
  const auto day = floor<days>(local);
  const year_month_day date{day};
  const int minute = static_cast<int>(duration_cast<minutes>(local - day).count());

  if (entry.times) {
    const bool in =
        std::any_of(entry.times->begin(), entry.times->end(), [&](const config::minute_range& r) {
          return minute >= r.start_minute && minute < r.end_minute;
        });
    if (!in) return false;
  }
  if (entry.days_of_month) {
    const int month_days = static_cast<int>(
        unsigned(year_month_day_last(date.year(), month_day_last(date.month())).day()));
    const int today = static_cast<int>(unsigned(date.day()));
    bool in = false;
    for (const config::inclusive_range& r : *entry.days_of_month) {
      const int begin = r.begin < 0 ? month_days + r.begin + 1 : r.begin;
      int end = r.end < 0 ? month_days + r.end + 1 : r.end;
      if (begin > month_days) continue;  // a day this month does not have
      end = std::min(end, month_days);
      if (today >= begin && today <= end) {
        in = true;
        break;
      }
    }
    if (!in) return false;
  }
  if (entry.months && !in_any(*entry.months, static_cast<int>(unsigned(date.month())))) {
    return false;
  }
  if (entry.weekdays && !in_any(*entry.weekdays, static_cast<int>(weekday(day).c_encoding()))) {
    return false;
  }
  if (entry.years && !in_any(*entry.years, static_cast<int>(date.year()))) return false;
  return true;
}

time_interval_set::time_interval_set(const std::vector<config::time_interval_config>& intervals) {
  std::vector<std::string> errors;
  for (const config::time_interval_config& interval : intervals) {
    auto& entries = intervals_[interval.name];
    for (const config::time_interval_entry& e : interval.entries) {
      auto zone = input_timezone::from_name(e.location);
      if (!zone) {
        errors.push_back(config::location_prefix(e.where) + "unknown time zone " +
                         config::quote(e.location));
        continue;
      }
      entries.push_back({e, *zone});
    }
  }
  if (!errors.empty()) throw config::config_error(std::move(errors));
}

bool time_interval_set::has(std::string_view name) const { return intervals_.contains(name); }

bool time_interval_set::contains(std::string_view name,
                                 std::chrono::system_clock::time_point t) const {
  const auto it = intervals_.find(name);
  if (it == intervals_.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const compiled_entry& c) { return entry_contains(c.entry, c.zone, t); });
}

}  // namespace tocsin::sinks
