#pragma once
// Where decoded events go: log outputs and the rules. Called on ingest shard threads.

#include "collector/event.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

namespace tocsin::collector {

class event_sink {
 public:
  virtual ~event_sink() = default;
  // False while the sink is full: TCP inputs stop reading until it accepts again, UDP drops.
  [[nodiscard]] virtual bool accepting() const = 0;
  // Takes what it needs from `ev` before returning (the event's views die after the call).
  virtual void consume(const event& ev) = 0;
  // True once every event this sink consumed before the call is written (file outputs:
  // write(2) done); false when that takes longer than `timeout` (a full disk). Inputs that
  // acknowledge (RELP) call it before they acknowledge.
  virtual bool wait_written(std::chrono::milliseconds /*timeout*/) { return true; }
};

// Sends every event to each of several sinks.
class fanout_sink final : public event_sink {
 public:
  explicit fanout_sink(std::vector<std::shared_ptr<event_sink>> sinks) : sinks_(std::move(sinks)) {}
  [[nodiscard]] bool accepting() const override {
    for (const auto& s : sinks_) {
      if (!s->accepting()) return false;
    }
    return true;
  }
  void consume(const event& ev) override {
    for (const auto& s : sinks_) s->consume(ev);
  }
  bool wait_written(std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (const auto& s : sinks_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (!s->wait_written(std::max(left, std::chrono::milliseconds::zero()))) return false;
    }
    return true;
  }

 private:
  std::vector<std::shared_ptr<event_sink>> sinks_;
};

}  // namespace tocsin::collector
