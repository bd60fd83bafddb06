#pragma once
// Who each schedule names at one time: `tocsin oncall who` and GET /api/v1/oncall/now.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oncall/roster.hpp"

namespace tocsin::oncall {

// One schedule at one time: who, and until when; in a gap no user, and when someone is next.
struct on_call_now {
  std::string schedule;
  std::optional<std::string> user;
  std::optional<std::chrono::sys_seconds> until;  // none within 60 days: nullopt
};

// Every schedule of `roster`, in config order.
std::vector<on_call_now> who_is_on_call(const roster& roster, std::chrono::sys_seconds at);

// The body of GET /api/v1/oncall/now: [{"schedule","user" (null in a gap),"until"}].
nlohmann::ordered_json to_json(const std::vector<on_call_now>& rows);

}  // namespace tocsin::oncall
