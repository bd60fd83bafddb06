#pragma once
// The times a rota names nobody: what `check-config` warns about and `oncall schedule` shows.

#include <chrono>
#include <string_view>
#include <vector>

#include "oncall/roster.hpp"

namespace tocsin::oncall {

struct gap {
  std::chrono::sys_seconds start, end;
  bool operator==(const gap&) const = default;
};

// The parts of [from, to) that `rota` (sorted shifts, as roster::rota returns) leaves uncovered.
[[nodiscard]] std::vector<gap> gaps_in(const std::vector<shift>& rota,
                                       std::chrono::sys_seconds from, std::chrono::sys_seconds to);

// The shifts of `schedule` over [from, to) and, between them, each gap as a shift of user ""
// (nobody), in time order: the rota as `oncall schedule` and the UI show it.
[[nodiscard]] std::vector<shift> rota_with_gaps(const roster& roster, std::string_view schedule,
                                                std::chrono::sys_seconds from,
                                                std::chrono::sys_seconds to);

}  // namespace tocsin::oncall
