#pragma once
// Local civil time in an IANA zone to UTC, with the rule every on-call time follows (DESIGN.md,
// "On-call"): a time a DST change skips is the change itself, the next valid instant; a time
// that happens twice is the first, earlier one.

#include <chrono>
#include <string>

namespace date {
class time_zone;
}

namespace tocsin::oncall {

[[nodiscard]] std::chrono::sys_seconds to_utc(const date::time_zone& zone,
                                              std::chrono::local_seconds t);

// `t` as RFC 3339 in `zone`'s local time with its offset: 2026-12-01T20:00:00+01:00.
[[nodiscard]] std::string format_local_time(const date::time_zone& zone,
                                            std::chrono::sys_seconds t);

}  // namespace tocsin::oncall
