#pragma once
// Local civil time in an IANA zone to UTC, with the rule every on-call time follows (DESIGN.md,
// "On-call"): a time a DST change skips is the change itself, the next valid instant; a time
// that happens twice is the first, earlier one.

#include <chrono>

namespace date {
class time_zone;
}

namespace tocsin::oncall {

[[nodiscard]] std::chrono::sys_seconds to_utc(const date::time_zone& zone,
                                              std::chrono::local_seconds t);

}  // namespace tocsin::oncall
