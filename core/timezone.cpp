#include "core/timezone.hpp"

#include <date/tz.h>

#include <string>

namespace tocsin {

input_timezone input_timezone::utc() { return input_timezone{}; }

input_timezone input_timezone::local() {
  input_timezone tz;
  try {
    tz.zone_ = date::current_zone();
  } catch (const std::exception&) {
    tz.zone_ = nullptr;  // no /etc/localtime: UTC, as the C library does
  }
  return tz;
}

std::optional<input_timezone> input_timezone::from_name(std::string_view name) {
  if (name == "local") return local();
  if (name == "UTC" || name == "utc" || name == "Z") return utc();
  if (name.size() == 6 && (name[0] == '+' || name[0] == '-') && name[3] == ':') {
    // Digits only (std::from_chars, used before, read the "-1" of "+01:-1" as minus one).
    const auto digit = [&](std::size_t i) { return name[i] >= '0' && name[i] <= '9'; };
    if (!digit(1) || !digit(2) || !digit(4) || !digit(5)) return std::nullopt;
    const int h = (name[1] - '0') * 10 + (name[2] - '0');
    const int m = (name[4] - '0') * 10 + (name[5] - '0');
    if (h > 23 || m > 59) return std::nullopt;
    input_timezone tz;
    tz.fixed_offset_ = std::chrono::seconds((h * 3600 + m * 60) * (name[0] == '-' ? -1 : 1));
    return tz;
  }
  try {
    input_timezone tz;
    tz.zone_ = date::locate_zone(std::string(name));
    return tz;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::chrono::seconds input_timezone::offset_at(std::chrono::sys_seconds t) const {
  if (zone_ == nullptr) return fixed_offset_;
  return zone_->get_info(t).offset;
}

std::chrono::seconds input_timezone::offset_for_local(std::chrono::local_seconds t) const {
  if (zone_ == nullptr) return fixed_offset_;
  const auto info = zone_->get_info(date::local_seconds(t.time_since_epoch()));
  // Unique: its offset. Ambiguous (the repeated hour): the first, earlier reading. Nonexistent
  // (the skipped hour): the offset before the change.
  return info.first.offset;
}

}  // namespace tocsin
