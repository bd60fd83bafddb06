#pragma once
// The bus of `tocsin run`: collector and router in one process.

#include <chrono>
#include <functional>
#include <vector>

#include "bus/alert_bus.hpp"
#include "core/bounded_worker.hpp"
#include "core/metrics.hpp"

namespace tocsin::bus {

// In-process bus: a bounded queue drained by one thread that calls `consumer`. When the queue is
// full, alerts are dropped and counted (tocsin_bus_errors_total{reason="queue_full"}) rather than
// stalling ingest.
class embedded_bus final : public alert_bus {
 public:
  using consumer = std::function<void(const rules::alert&)>;

  embedded_bus(consumer c, metrics_registry& metrics, std::size_t capacity = 100000);
  // Consumes every alert still queued, then stops.
  ~embedded_bus() override;
  embedded_bus(const embedded_bus&) = delete;
  embedded_bus& operator=(const embedded_bus&) = delete;

  void publish(std::vector<rules::alert> alerts) override;
  // True once every alert published so far has been consumed; false at `deadline`.
  bool drain(std::chrono::steady_clock::time_point deadline =
                 std::chrono::steady_clock::time_point::max());

 private:
  consumer consumer_;
  counter& published_;
  bounded_worker<rules::alert> worker_;  // last: its thread calls consumer_
};

}  // namespace tocsin::bus
