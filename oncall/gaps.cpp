#include "oncall/gaps.hpp"

#include <algorithm>

namespace tocsin::oncall {

std::vector<gap> gaps_in(const std::vector<shift>& rota, std::chrono::sys_seconds from,
                         std::chrono::sys_seconds to) {
  std::vector<gap> out;
  std::chrono::sys_seconds covered_until = from;
  for (const shift& s : rota) {
    if (s.start >= to) break;
    if (s.start > covered_until) out.push_back({covered_until, s.start});
    covered_until = std::max(covered_until, s.end);
  }
  if (covered_until < to) out.push_back({covered_until, to});
  return out;
}

std::vector<shift> rota_with_gaps(const roster& roster, std::string_view schedule,
                                  std::chrono::sys_seconds from, std::chrono::sys_seconds to) {
  std::vector<shift> rows = roster.rota(schedule, from, to);
  const auto gaps = gaps_in(rows, from, to);
  rows.reserve(rows.size() + gaps.size());
  for (const gap& g : gaps) rows.push_back({"", g.start, g.end});
  std::sort(rows.begin(), rows.end(),
            [](const shift& a, const shift& b) { return a.start < b.start; });
  return rows;
}

}  // namespace tocsin::oncall
