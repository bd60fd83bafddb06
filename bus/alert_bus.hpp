#pragma once
// Carries alerts from the rules to the router: in process (embedded_bus) or over Kafka
// (kafka::alert_producer). Both sides depend on this folder, never on each other.

#include <vector>

#include "rules/alert.hpp"

namespace tocsin::bus {

class alert_bus {
 public:
  virtual ~alert_bus() = default;
  // Hands alerts over without blocking the caller (an ingest shard).
  virtual void publish(std::vector<rules::alert> alerts) = 0;
};

}  // namespace tocsin::bus
