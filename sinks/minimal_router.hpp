#pragma once
// The router until issue 5: every alert goes to `route.receiver`. A `file` receiver appends Alert
// JSON lines; a receiver without an integration drops. Grouping, matchers, silences and the other
// integrations are accepted by the config loader and ignored here, with one warning at start-up.
// An alert already notified (redelivered by Kafka, re-sent by the rules engine) is skipped: the
// notification log in data_dir/router.db remembers what went out, across restarts.

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "config/config.hpp"
#include "core/metrics.hpp"
#include "rules/alert.hpp"
#include "sinks/notification_log.hpp"

namespace tocsin::sinks {

class minimal_router {
 public:
  // Logs one warning naming what this router ignores. Throws on an unwritable file receiver.
  minimal_router(const config::config& cfg, metrics_registry& metrics);
  ~minimal_router();
  minimal_router(const minimal_router&) = delete;
  minimal_router& operator=(const minimal_router&) = delete;

  // Delivers one alert (called by the bus's thread). When it returns, the alert is in the
  // notification log: the Kafka consumer commits its offset only then.
  void route(const rules::alert& a);

 private:
  std::string receiver_;   // "" when there is no route: alerts are discarded
  std::string file_path_;  // set when the receiver is a file receiver
  std::FILE* file_ = nullptr;
  std::unique_ptr<notification_log> log_;  // with a file receiver
  counter* delivered_ = nullptr;
  counter* duplicates_ = nullptr;
  counter* failed_ = nullptr;
  counter* discarded_ = nullptr;
};

}  // namespace tocsin::sinks
