#include "oncall/local_time.hpp"

#include <date/tz.h>
#include <fmt/format.h>

#include <cstdlib>

namespace tocsin::oncall {

std::chrono::sys_seconds to_utc(const date::time_zone& zone, std::chrono::local_seconds t) {
  const auto info = zone.get_info(date::local_seconds(t.time_since_epoch()));
  // Skipped: the offset before the change ends where the skipped hour begins.
  if (info.result == date::local_info::nonexistent) return info.first.end;
  // Unique, or repeated: the first reading.
  return std::chrono::sys_seconds(t.time_since_epoch() - info.first.offset);
}

std::string format_local_time(const date::time_zone& zone, std::chrono::sys_seconds t) {
  const std::chrono::seconds offset = zone.get_info(t).offset;
  const auto minutes = std::abs(offset.count()) / 60;
  return date::format("%FT%T", date::local_seconds((t + offset).time_since_epoch())) +
         fmt::format("{}{:02}:{:02}", offset.count() < 0 ? '-' : '+', minutes / 60, minutes % 60);
}

}  // namespace tocsin::oncall
