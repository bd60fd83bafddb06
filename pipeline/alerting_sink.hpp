#pragma once
// The rules' place among the collector's sinks: events in, alerts onto the bus.

#include "bus/alert_bus.hpp"
#include "collector/event_sink.hpp"
#include "rules/engine.hpp"

namespace tocsin::pipeline {

// Feeds every event to the alert engine on the shard that decoded it; the alerts the engine
// emits go on the bus, which is published to only when there are some.
class alerting_sink final : public collector::event_sink {
 public:
  // Both must outlive the sink.
  alerting_sink(rules::alert_engine& engine, bus::alert_bus& bus) : engine_(engine), bus_(bus) {}

  [[nodiscard]] bool accepting() const override { return true; }  // the bus never blocks
  void consume(const collector::event& ev) override;

 private:
  rules::alert_engine& engine_;
  bus::alert_bus& bus_;
};

}  // namespace tocsin::pipeline
