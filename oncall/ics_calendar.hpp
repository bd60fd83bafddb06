#pragma once
// An iCalendar file of on-call events: each VEVENT's SUMMARY names the user on call from its
// DTSTART to its DTEND (or DTSTART + DURATION), repeated by its RRULE less its EXDATEs.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace date {
class time_zone;
}

namespace tocsin::oncall {

// One occurrence of an event.
struct calendar_entry {
  std::string user;
  std::chrono::sys_seconds start, end;
};

// The events of one .ics file, expanded by libical on demand. Times: `Z` is UTC, a TZID is an
// IANA zone name or else a VTIMEZONE of the file, and floating times are in `floating_zone`
// (the schedule's time_zone). An event's length is its local (wall-clock) length, the same for
// every occurrence: a weekly 09:00-09:00 event stays 09:00-09:00 across a DST change.
class ics_calendar {
 public:
  // Throws config::config_error (`FILE: message`, each problem) when the file is unreadable, is
  // not iCalendar, holds libical parse errors, an event without DTSTART, an unknown TZID, or a
  // SUMMARY naming none of `users`.
  ics_calendar(const std::filesystem::path& file, const date::time_zone& floating_zone,
               const std::vector<config::oncall_user>& users);
  ~ics_calendar();
  ics_calendar(const ics_calendar&) = delete;
  ics_calendar& operator=(const ics_calendar&) = delete;

  // Occurrences overlapping [from, to), in file order. A hostile rule cannot hang this: each
  // event's expansion examines at most `max_occurrences_examined` instances.
  [[nodiscard]] std::vector<calendar_entry> entries(std::chrono::sys_seconds from,
                                                    std::chrono::sys_seconds to) const;

  static constexpr int max_occurrences_examined = 100'000;

 private:
  struct parsed;
  std::unique_ptr<parsed> parsed_;
};

}  // namespace tocsin::oncall
