#pragma once
// The zone an input assumes for timestamps that carry none (RFC 3164): "local", "UTC", a fixed
// offset such as "+02:00", or an IANA name such as "Europe/Berlin".

#include <chrono>
#include <optional>
#include <string_view>

namespace date {
class time_zone;
}

namespace tocsin {

class input_timezone {
 public:
  static input_timezone utc();
  // The machine's zone (/etc/localtime, or TZ when it names a zone); UTC when neither is usable.
  static input_timezone local();
  // nullopt when the name is neither "local", "UTC", a ±HH:MM offset nor a known IANA zone.
  static std::optional<input_timezone> from_name(std::string_view name);

  // Offset from UTC in effect at the UTC instant `t`.
  [[nodiscard]] std::chrono::seconds offset_at(std::chrono::sys_seconds t) const;
  // Offset for a local civil time; ambiguous or skipped times (DST changes) take the earlier one.
  [[nodiscard]] std::chrono::seconds offset_for_local(std::chrono::local_seconds t) const;

 private:
  const date::time_zone* zone_ = nullptr;  // null: fixed offset
  std::chrono::seconds fixed_offset_{0};
};

}  // namespace tocsin
