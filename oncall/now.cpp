#include "oncall/now.hpp"

#include "core/rfc3339.hpp"

namespace tocsin::oncall {
namespace {

// As far ahead as roster::on_call() looks.
constexpr std::chrono::days look_ahead{60};

}  // namespace

std::vector<on_call_now> who_is_on_call(const roster& roster, std::chrono::sys_seconds at) {
  std::vector<on_call_now> rows;
  for (const config::oncall_schedule& s : roster.schedules()) {
    if (auto shift = roster.on_call(s.name, at)) {
      rows.push_back({s.name, std::move(shift->user), shift->end});
      continue;
    }
    const auto ahead = roster.rota(s.name, at, at + look_ahead);
    rows.push_back(
        {s.name, std::nullopt, ahead.empty() ? std::nullopt : std::optional(ahead.front().start)});
  }
  return rows;
}

nlohmann::ordered_json to_json(const std::vector<on_call_now>& rows) {
  auto body = nlohmann::ordered_json::array();
  for (const auto& row : rows) {
    body.push_back({{"schedule", row.schedule},
                    {"user", row.user ? nlohmann::ordered_json(*row.user) : nullptr},
                    {"until", row.until ? nlohmann::ordered_json(format_rfc3339_millis(*row.until))
                                        : nullptr}});
  }
  return body;
}

}  // namespace tocsin::oncall
