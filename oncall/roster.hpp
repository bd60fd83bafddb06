#pragma once
// Who is on call when (DESIGN.md, "On-call"). The rules, where DESIGN.md leaves a choice:
// - A layer's k-th handoff (k = 0, 1, …) is at the local time `start + k * rotation` in the
//   schedule's time_zone: `1d`/`1w` keep the local clock time across DST, `12h` adds local
//   clock hours (02:00 + 12h is 14:00 local whatever the offset did). Its user is
//   users[k mod n]. Before `start` the layer is inactive.
// - A local time a DST change skips is the change itself (Europe/Madrid 2026-03-29 02:30 is
//   03:00 CEST = 01:00Z); a local time that happens twice is the first (2026-10-25 02:30 is
//   02:30 CEST = 00:30Z). Overrides follow the same rule.
// - `restrict.times`: local HH:MM-HH:MM; a range whose end is not after its begin crosses
//   midnight and ends on the next day; begin == end is 24 hours from begin (00:00-00:00: the
//   day). `restrict.weekdays` (0 = Sunday) pick the days a range *starts* on: with weekdays
//   monday:friday, 20:00-08:00 covers Friday 20:00 to Saturday 08:00 but not Monday 00:00-08:00.
//   No times: whole days; no weekdays: every day.
// - A later layer wins where it is active (in its restriction, after its start); an override
//   wins over every layer, a later override over an earlier one.
// - An ics schedule's events (ics_calendar.hpp) overlap: the later-starting one wins (equal
//   starts: the later in the file). Overrides also win over ics events.

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace tocsin::oncall {

class ics_calendar;

// One person's stretch on call; `end` is when the schedule next names someone else (or nobody).
struct shift {
  std::string user;
  std::chrono::sys_seconds start, end;
  bool operator==(const shift&) const = default;
};

// Who is on call when, for every schedule of a config's `oncall:` section (DESIGN.md, "On-call").
class roster {
 public:
  // Reads every schedule's ics file (relative paths against `config_file`'s folder). Throws
  // config::config_error listing every problem (`FILE: message`, or FILE:LINE:COL where known).
  roster(const config::oncall_config& oncall, const std::filesystem::path& config_file);
  // The person on call in `schedule` at `t`; nullopt in a gap or for an unknown schedule.
  // `start` may be earlier than t (when the shift began, looking back at most 60 days), `end` at
  // most 60 days ahead.
  [[nodiscard]] std::optional<shift> on_call(std::string_view schedule,
                                             std::chrono::sys_seconds t) const;
  // The rota over [from, to): consecutive shifts, a user continuing across a layer or override
  // boundary merged into one shift, gaps left out (the caller sees them between shifts). Shifts
  // are cut at `from` and `to`.
  [[nodiscard]] std::vector<shift> rota(std::string_view schedule, std::chrono::sys_seconds from,
                                        std::chrono::sys_seconds to) const;
  // nullptr when no such user.
  [[nodiscard]] const config::oncall_user* user(std::string_view name) const;
  [[nodiscard]] const std::vector<config::oncall_schedule>& schedules() const;

 private:
  struct zoned_schedule;
  [[nodiscard]] std::optional<std::size_t> find(std::string_view schedule) const;

  std::vector<config::oncall_user> users_;
  std::vector<config::oncall_schedule> schedules_;
  // One per schedule, same order; shared so that a roster copies cheaply.
  std::vector<std::shared_ptr<const zoned_schedule>> zoned_;
};

}  // namespace tocsin::oncall
