#pragma once
// The router until issue 5: every alert goes to `route.receiver`. A `file` receiver appends Alert
// JSON lines; a receiver without an integration drops. Grouping, matchers, silences and the other
// integrations are accepted by the config loader and ignored here, with one warning at start-up.

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "config/config.hpp"
#include "core/metrics.hpp"
#include "rules/alert.hpp"

namespace tocsin::sinks {

class minimal_router {
 public:
  // Logs one warning naming what this router ignores. Throws on an unwritable file receiver.
  minimal_router(const config::config& cfg, metrics_registry& metrics);
  ~minimal_router();
  minimal_router(const minimal_router&) = delete;
  minimal_router& operator=(const minimal_router&) = delete;

  // Delivers one alert (called by the bus's thread).
  void route(const rules::alert& a);

 private:
  std::string receiver_;   // "" when there is no route: alerts are discarded
  std::string file_path_;  // set when the receiver is a file receiver
  std::FILE* file_ = nullptr;
  counter* delivered_ = nullptr;
  counter* failed_ = nullptr;
  counter* discarded_ = nullptr;
};

}  // namespace tocsin::sinks
