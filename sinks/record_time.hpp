#pragma once
// Times in the JSON records routers share over Kafka (silences, notification log, router
// announcements): Unix milliseconds.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

namespace tocsin::sinks {

// A record's Unix ms when the clock can hold it (about ±292 years around 1970), else nullopt:
// a larger value would overflow converting to system_clock's nanoseconds. `v` is an integer.
inline std::optional<std::int64_t> record_ms(const nlohmann::json& v) {
  constexpr std::int64_t max_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::duration::max())
                                      .count();
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max_ms)) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  const auto i = v.get<std::int64_t>();
  if (i < -max_ms || i > max_ms) return std::nullopt;
  return i;
}

}  // namespace tocsin::sinks
