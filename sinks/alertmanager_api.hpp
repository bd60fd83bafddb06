#pragma once
// The Alertmanager v2 API subset on the admin listener, shaped so the real `amtool`,
// Prometheus, karma and Grafana's Alertmanager data source work unchanged: POST/GET
// /api/v2/alerts, GET/POST /api/v2/silences, GET/DELETE /api/v2/silence/{id}, GET /api/v2/status
// (with versionInfo), GET /api/v2/receivers, GET /api/v2/alerts/groups (with tocsin's acks and
// escalations, for the web UI). Shapes are Alertmanager 0.25's plus 0.28's `status.mutedBy`
// (the time intervals that mute an alert's group; such an alert is "suppressed").

#include <functional>
#include <string>
#include <vector>

#include "core/admin_server.hpp"
#include "core/metrics.hpp"
#include "sinks/alert_router.hpp"

namespace tocsin::sinks {

struct alertmanager_api_options {
  // GET /api/v2/status config.original (`amtool config show`, Grafana's notification policies;
  // alertmanager_config_text()). Shown to anyone who can reach the admin listener, so pass text
  // without secrets.
  std::string config_text;
  std::vector<std::string> receiver_names;  // GET /api/v2/receivers
  metrics_registry* metrics = nullptr;      // tocsin_api_requests_total{path,code} when set
  // With a Kafka bus: an alert posted here is also published, so every router has it.
  std::function<void(const rules::alert&)> publish_alert;
  // GET /api/v2/alerts/groups: the archive filter that finds an alert's log lines; unset: none.
  std::function<std::string(const rules::alert&)> search_filter;
};

// Registers the handlers; `router` must outlive `admin`'s serving. Times are read from the
// router's clock, so the API and the router agree on what is expired.
void register_alertmanager_api(admin_server& admin, alert_router& router,
                               alertmanager_api_options options = {});

}  // namespace tocsin::sinks
