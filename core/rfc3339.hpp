#pragma once
// RFC 3339 timestamps: the one formatter and the one parser every layer uses.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tocsin {

// Appends a time point as RFC 3339 UTC with 6 (2026-11-26T04:10:55.120001Z) or 3
// (2026-11-26T04:10:55.120Z) fraction digits, rounding down.
void append_rfc3339_utc(std::chrono::system_clock::time_point tp, std::string& out,
                        int fraction_digits = 6);

// The same as a string, with milliseconds: what the JSON APIs and notifications show.
std::string format_rfc3339_millis(std::chrono::system_clock::time_point tp);

// Parses an RFC 3339 timestamp (fraction and offset optional parts of RFC 3339 proper:
// "2026-11-26T04:10:55.120001+01:00", "...Z"); nullopt when it is not one.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace tocsin
