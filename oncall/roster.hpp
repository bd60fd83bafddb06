#pragma once
// STUB until the schedule branch lands.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace tocsin::oncall {
struct shift {
  std::string user;
  std::chrono::sys_seconds start, end;
};
class roster {
 public:
  roster(const config::oncall_config& oncall, const std::filesystem::path& config_file);
  [[nodiscard]] std::optional<shift> on_call(std::string_view schedule, std::chrono::sys_seconds t) const;
  [[nodiscard]] std::vector<shift> rota(std::string_view schedule, std::chrono::sys_seconds from, std::chrono::sys_seconds to) const;
  [[nodiscard]] const config::oncall_user* user(std::string_view name) const;
  [[nodiscard]] const std::vector<config::oncall_schedule>& schedules() const;
 private:
  config::oncall_config oncall_;
};
}  // namespace tocsin::oncall
