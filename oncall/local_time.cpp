#include "oncall/local_time.hpp"

#include <date/tz.h>

namespace tocsin::oncall {

std::chrono::sys_seconds to_utc(const date::time_zone& zone, std::chrono::local_seconds t) {
  const auto info = zone.get_info(date::local_seconds(t.time_since_epoch()));
  // Skipped: the offset before the change ends where the skipped hour begins.
  if (info.result == date::local_info::nonexistent) return info.first.end;
  // Unique, or repeated: the first reading.
  return std::chrono::sys_seconds(t.time_since_epoch() - info.first.offset);
}

}  // namespace tocsin::oncall
