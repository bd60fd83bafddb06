#include "pipeline/alerting_sink.hpp"

#include <utility>
#include <vector>

namespace tocsin::pipeline {

void alerting_sink::consume(const collector::event& ev) {
  thread_local std::vector<rules::alert> alerts;  // no allocation for the 99 % that match nothing
  alerts.clear();
  engine_.on_event(ev, ev.received_at, alerts);
  if (!alerts.empty()) bus_.publish(std::exchange(alerts, {}));
}

}  // namespace tocsin::pipeline
