#pragma once
// GET /api/v1/rules on the admin listener: every rule with its kind, matches since start and per
// minute over the last hour (the UI's rules page and its sparklines).
//   {"rules":[{"name","kind","matches","per_minute":[60 counts, oldest first],"groups",
//              "search": the archive filter that finds the lines its match selects}]}

#include "core/admin_server.hpp"
#include "core/clock.hpp"
#include "rules/engine.hpp"

namespace tocsin::rules {

// `engine` and `time_source` must outlive `admin`'s serving.
void register_rules_api(admin_server& admin, const alert_engine& engine, const clock& time_source);

}  // namespace tocsin::rules
