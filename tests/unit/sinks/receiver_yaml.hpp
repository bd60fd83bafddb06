#pragma once
// Receivers for notifier tests, loaded from YAML as the daemon loads them, so the factories read
// real sections and report real locations.

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "config/config.hpp"

namespace tocsin::sinks::test_receivers {

// Receiver `name` of tocsin.yaml (`name` on line 2) with an `integration` section (line 3)
// holding `settings` one a line from line 4, in key order. `a.b` keys nest (`auth.username`
// under `auth:`); each value is written as JSON, which YAML reads (strings quoted, lists as
// flow lists). An empty `integration` gives a receiver without one.
inline config::receiver_config load(const std::string& name, const std::string& integration,
                                    const std::map<std::string, nlohmann::json>& settings) {
  std::string yaml = "receivers:\n  - name: " + nlohmann::json(name).dump() + "\n";
  if (!integration.empty()) yaml += "    " + integration + ":\n";
  std::string open_section;
  for (const auto& [key, value] : settings) {
    const auto dot = key.find('.');
    if (dot == std::string::npos) {
      yaml += "      " + key + ": " + value.dump() + "\n";
      open_section.clear();
      continue;
    }
    if (key.substr(0, dot) != open_section) {
      open_section = key.substr(0, dot);
      yaml += "      " + open_section + ":\n";
    }
    yaml += "        " + key.substr(dot + 1) + ": " + value.dump() + "\n";
  }
  return config::load_string(yaml, "tocsin.yaml").receivers.at(0);
}

}  // namespace tocsin::sinks::test_receivers
