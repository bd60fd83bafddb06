// STUB until the schedule branch lands: the first user of the first layer is always on call.
#include "oncall/roster.hpp"
namespace tocsin::oncall {
roster::roster(const config::oncall_config& oncall, const std::filesystem::path&) : oncall_(oncall) {}
std::optional<shift> roster::on_call(std::string_view schedule, std::chrono::sys_seconds t) const {
  for (const auto& s : oncall_.schedules) {
    if (s.name == schedule && !s.layers.empty() && !s.layers[0].users.empty()) return shift{s.layers[0].users[0], t, t + std::chrono::hours(24)};
  }
  return std::nullopt;
}
std::vector<shift> roster::rota(std::string_view, std::chrono::sys_seconds, std::chrono::sys_seconds) const { return {}; }
const config::oncall_user* roster::user(std::string_view name) const {
  for (const auto& u : oncall_.users) if (u.name == name) return &u;
  return nullptr;
}
const std::vector<config::oncall_schedule>& roster::schedules() const { return oncall_.schedules; }
}  // namespace tocsin::oncall
