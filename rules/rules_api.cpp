#include "rules/rules_api.hpp"

#include <nlohmann/json.hpp>

namespace tocsin::rules {

void register_rules_api(admin_server& admin, const alert_engine& engine, const clock& time_source) {
  admin.handle("/api/v1/rules", [&engine, &time_source](const http_request_view& req) {
    if (req.method != "GET") return http_reply{405, "text/plain; charset=utf-8", "use GET\n"};
    nlohmann::json rules = nlohmann::json::array();
    for (const rule_activity& r : engine.activity(time_source.now())) {
      rules.push_back({{"name", r.name},
                       {"kind", kind_name(r.kind)},
                       {"matches", r.matches},
                       {"per_minute", r.per_minute},
                       {"groups", r.groups}});
    }
    return http_reply{200, "application/json", nlohmann::json{{"rules", rules}}.dump() + "\n"};
  });
}

}  // namespace tocsin::rules
