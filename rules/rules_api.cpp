#include "rules/rules_api.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "rules/event_filter.hpp"

namespace tocsin::rules {

void register_rules_api(admin_server& admin, const alert_engine& engine, const clock& time_source) {
  admin.handle("/api/v1/rules", [&engine, &time_source](const http_request_view& req) {
    if (req.method != "GET") return http_reply{405, "text/plain; charset=utf-8", "use GET\n"};
    std::map<std::string_view, std::string> searches;  // rule name → the filter for its lines
    const auto definitions = engine.rules();
    for (const rule_definition& def : definitions->definitions()) {
      searches.emplace(def.name, search_filter_for_alert(def, {}));
    }
    nlohmann::json rules = nlohmann::json::array();
    for (const rule_activity& r : engine.activity(time_source.now())) {
      const auto search = searches.find(r.name);
      rules.push_back({{"name", r.name},
                       {"kind", kind_name(r.kind)},
                       {"matches", r.matches},
                       {"per_minute", r.per_minute},
                       {"groups", r.groups},
                       {"search", search != searches.end() ? search->second : ""}});
    }
    return http_reply{200, "application/json", nlohmann::json{{"rules", rules}}.dump() + "\n"};
  });
}

}  // namespace tocsin::rules
