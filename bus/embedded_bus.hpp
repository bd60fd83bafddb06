#pragma once
// The bus of `tocsin run`: collector and router in one process.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "bus/alert_bus.hpp"
#include "core/metrics.hpp"

namespace tocsin::bus {

// In-process bus: a bounded queue drained by one thread that calls `consumer`. When the queue is
// full, alerts are dropped and counted (tocsin_bus_errors_total{reason="queue_full"}) rather than
// stalling ingest.
class embedded_bus final : public alert_bus {
 public:
  using consumer = std::function<void(const rules::alert&)>;

  embedded_bus(consumer c, metrics_registry& metrics, std::size_t capacity = 100000);
  ~embedded_bus() override;
  embedded_bus(const embedded_bus&) = delete;
  embedded_bus& operator=(const embedded_bus&) = delete;

  void publish(std::vector<rules::alert> alerts) override;
  // Returns once every alert published so far has been consumed.
  void drain();

 private:
  void run();

  consumer consumer_;
  const std::size_t capacity_;
  counter& published_;
  counter& dropped_;
  gauge& depth_;
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<rules::alert> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tocsin::bus
