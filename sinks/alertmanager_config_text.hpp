#pragma once
// The routing part of a tocsin config as an Alertmanager configuration file, for GET
// /api/v2/status `config.original`: what `amtool config show` / `config routes` print and what
// Grafana's Alertmanager data source reads as notification policies and contact points.

#include <string>

#include "config/config.hpp"

namespace tocsin::sinks {

// `route`, `receivers` (names only: their integrations hold secrets), `inhibit_rules` and
// `time_intervals` of `cfg` in Alertmanager's YAML, which Alertmanager 0.25's loader (and
// tocsin's) takes back. "" without a route.
[[nodiscard]] std::string alertmanager_config_text(const config::config& cfg);

}  // namespace tocsin::sinks
