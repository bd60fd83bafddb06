#pragma once
// The sink every event goes to, swapped whole by a reload. Shards read it through an atomic
// pointer; the previous sink stays alive until the caller knows no shard uses it any more
// (ingest_server::wait_for_shards()) and calls forget_previous().

#include "collector/event_sink.hpp"

#include <atomic>
#include <memory>
#include <mutex>

namespace tocsin::collector {

class switchable_sink final : public event_sink {
 public:
  explicit switchable_sink(std::shared_ptr<event_sink> first)
      : owner_(std::move(first)), current_(owner_.get()) {}

  [[nodiscard]] bool accepting() const override {
    return current_.load(std::memory_order_acquire)->accepting();
  }
  void consume(const event& ev) override { current_.load(std::memory_order_acquire)->consume(ev); }
  // Waits for the current sink and, until forget_previous(), for the one before it: an event
  // consumed just before a swap went there, and must be written before it is acknowledged.
  bool wait_written(std::chrono::milliseconds timeout) override;

  // Control thread only. Returns the previous sink, which wait_written() keeps waiting for
  // until forget_previous().
  std::shared_ptr<event_sink> exchange(std::shared_ptr<event_sink> next);
  void forget_previous();

 private:
  std::shared_ptr<event_sink> owner_;
  std::atomic<event_sink*> current_;
  std::mutex previous_mutex_;
  std::shared_ptr<event_sink> previous_;  // guarded by previous_mutex_
};

}  // namespace tocsin::collector
